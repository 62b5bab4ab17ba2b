/*
 * fakeup.c - fake upstream DNS server (thread).
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fakeup.h"
#include "wire.h"

#define MAX_RECS 512
#define MAX_LOG 20000
#define MAX_OVR 32
#define MAX_CONN 32
#define MAX_PENDING 4096

struct frec {
	uint8_t name[WIRE_NAME_MAX];
	size_t nlen;
	uint16_t type;
	uint32_t ttl;
	uint8_t rdata[4096];
	size_t rdlen;
};

struct override {
	uint8_t name[WIRE_NAME_MAX];
	size_t nlen;
	enum fake_mode mode;
	unsigned delay;
};

struct pending {
	double due;
	int fd;         /* UDP socket or TCP conn */
	int32_t stream; /* DoH: the HTTP/2 stream */
	bool tcp;
	struct sockaddr_storage peer;
	socklen_t plen;
	uint8_t *buf;
	size_t len;
};

/* One HTTP/2 request of a DoH connection. */
struct h2req {
	int32_t id;
	bool path_ok;
	uint8_t *body;
	size_t len;
	uint8_t *resp;
	size_t rlen, roff;
	struct h2req *next;
};

struct h2conn {
	struct fakeup *f;
	int idx;
	nghttp2_session *s;
	struct h2req *reqs;
};

struct fakeup {
	pthread_t th;
	SSL_CTX *tls; /* NULL: plain TCP */
	bool h2;
	bool tls_stall;
	enum fake_tls_fault fault; /* for the next connections */
	unsigned fault_left;       /* how many more; 0: every one */
	enum fake_tls_fault cfault[MAX_CONN];
	bool creset[MAX_CONN]; /* FAKE_TLS_RESET: to be reset */
	SSL *ssl[MAX_CONN];
	struct h2conn h2c[MAX_CONN];
	int stalled[MAX_CONN];
	unsigned handshakes, resumed;
	bool ad;
	bool close_now;         /* FAKE_CLOSE seen by answer() */
	volatile bool drop_all; /* fakeup_close_conns() asked */
	int32_t cur_stream;
	pthread_mutex_t mu;
	int stop_pipe[2];
	int udp, tcp;
	int conns[MAX_CONN];
	uint8_t cbuf[MAX_CONN][65537];
	size_t clen[MAX_CONN];
	char addr[64];
	char hostport[80];
	uint16_t port;
	enum fake_mode mode;
	unsigned delay;
	unsigned loss;
	unsigned rng;
	uint32_t wild_ttl;
	size_t wild_txt; /* TXT wildcard: bytes of text, 0 = off */
	uint32_t soa_ttl, soa_min;
	struct frec *recs;
	size_t nrecs;
	struct override ovr[MAX_OVR];
	size_t novr;
	struct fake_rec *log;
	size_t nlog;
	struct pending pend[MAX_PENDING];
	size_t npend;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void
put_soa(struct wire_wr *w, const struct fakeup *f)
{
	static const uint8_t zone[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	static const uint8_t ns[] = { 2, 'n', 's', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	static const uint8_t hm[] = { 4, 'h', 'o', 's', 't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
		0 };

	wire_put_name(w, zone, sizeof(zone));
	wire_put_u16(w, TYPE_SOA);
	wire_put_u16(w, CLASS_IN);
	wire_put_u32(w, f->soa_ttl);
	wire_put_u16(w, (uint16_t)(sizeof(ns) + sizeof(hm) + 20));
	wire_put_name(w, ns, sizeof(ns));
	wire_put_name(w, hm, sizeof(hm));
	wire_put_u32(w, 1);
	wire_put_u32(w, 3600);
	wire_put_u32(w, 600);
	wire_put_u32(w, 86400);
	wire_put_u32(w, f->soa_min);
}

/* Build the answer for one query. Returns length, 0 = no answer. */
static size_t
answer(struct fakeup *f, const uint8_t *q, size_t qlen, bool tcp, uint8_t *out, size_t cap,
    unsigned *delay, struct fake_rec *logrec)
{
	struct wire_rd r;
	struct wire_hdr h;
	struct wire_wr w;
	uint8_t name[WIRE_NAME_MAX];
	size_t nlen, i, qend;
	uint16_t qtype, qclass, an = 0;
	enum fake_mode mode;
	bool edns = false, do_bit = false, known = false, wild = false;

	wire_rd_init(&r, q, qlen);
	if (wire_hdr(&r, &h) || h.qdcount != 1)
		return 0;
	nlen = wire_name(&r, name);
	qtype = wire_u16(&r);
	qclass = wire_u16(&r);
	if (r.err || !nlen)
		return 0;
	qend = r.pos;
	if (h.arcount >= 1) {
		struct wire_rr rr;

		if (wire_rr(&r, &rr) == 0 && rr.type == TYPE_OPT) {
			size_t o = rr.rd_off;

			edns = true;
			do_bit = (rr.ttl & 0x8000) != 0;
			logrec->edns_size = rr.rclass;
			while (o + 4 <= rr.rd_off + rr.rdlen && o + 4 <= qlen) {
				uint16_t code = (uint16_t)(q[o] << 8 | q[o + 1]);
				uint16_t ol = (uint16_t)(q[o + 2] << 8 | q[o + 3]);

				if (code == 12)
					logrec->padded = true;
				o += 4u + ol;
			}
		}
	}
	wire_name_to_text(name, nlen, logrec->name, sizeof(logrec->name));
	logrec->qtype = qtype;
	logrec->tcp = tcp;
	logrec->edns = edns;
	logrec->do_bit = do_bit;
	mode = f->mode;
	*delay = f->delay;
	for (i = 0; i < f->novr; i++)
		if (wire_name_eq_ci(f->ovr[i].name, f->ovr[i].nlen, name, nlen)) {
			mode = f->ovr[i].mode;
			*delay = f->ovr[i].delay;
		}
	logrec->id = h.id;
	logrec->qlen = qlen;
	if (mode == FAKE_DROP)
		return 0;
	if (mode == FAKE_CLOSE && tcp) {
		f->close_now = true;
		return 0;
	}
	if (f->loss) {
		f->rng = f->rng * 1103515245u + 12345u;
		if ((f->rng >> 16) % 100 < f->loss)
			return 0;
	}
	wire_wr_init(&w, out, cap);
	h.flags = (uint16_t)(WIRE_QR | WIRE_AA | (h.flags & WIRE_RD) | WIRE_RA |
	    (f->ad ? WIRE_AD : 0));
	if (mode == FAKE_WRONGID)
		h.id = (uint16_t)(h.id + 1);
	if (mode == FAKE_SERVFAIL || mode == FAKE_REFUSED || mode == FAKE_FORMERR) {
		h.flags |= mode == FAKE_SERVFAIL ? RCODE_SERVFAIL :
		    mode == FAKE_REFUSED         ? RCODE_REFUSED :
		                                   RCODE_FORMERR;
		h.ancount = h.nscount = h.arcount = 0;
		wire_put_hdr(&w, &h);
		wire_put_bytes(&w, q + WIRE_HDR_LEN, qend - WIRE_HDR_LEN);
		return w.err ? 0 : w.len;
	}
	if (mode == FAKE_TRUNCATE && !tcp) {
		h.flags |= WIRE_TC;
		h.ancount = h.nscount = h.arcount = 0;
		wire_put_hdr(&w, &h);
		wire_put_bytes(&w, q + WIRE_HDR_LEN, qend - WIRE_HDR_LEN);
		return w.err ? 0 : w.len;
	}
	if (mode == FAKE_MISMATCH) {
		/* the question of another name */
		static const uint8_t other[] = { 5, 'o', 't', 'h', 'e', 'r', 7, 'e', 'x', 'a', 'm',
			'p', 'l', 'e', 0 };

		h.ancount = 1;
		h.nscount = h.arcount = 0;
		wire_put_hdr(&w, &h);
		wire_put_name(&w, other, sizeof(other));
		wire_put_u16(&w, qtype);
		wire_put_u16(&w, qclass);
		wire_put_u16(&w, 0xc00c);
		wire_put_u16(&w, TYPE_A);
		wire_put_u16(&w, CLASS_IN);
		wire_put_u32(&w, 300);
		wire_put_u16(&w, 4);
		wire_put_u32(&w, 0xc6336401); /* 198.51.100.1 */
		return w.err ? 0 : w.len;
	}
	/* count answers */
	for (i = 0; i < f->nrecs; i++)
		if (wire_name_eq_ci(f->recs[i].name, f->recs[i].nlen, name, nlen)) {
			known = true;
			if (f->recs[i].type == qtype)
				an++;
		}
	if (!known && f->wild_ttl && qtype == TYPE_A)
		known = wild = true, an = 1;
	if (!known && f->wild_ttl && f->wild_txt && qtype == TYPE_TXT)
		known = wild = true, an = 1;
	if (mode == FAKE_NXDOMAIN)
		known = false, an = 0;
	if (mode == FAKE_NODATA)
		known = true, an = 0;
	h.ancount = an;
	h.nscount = an ? 0 : 1;
	h.arcount = edns ? 1 : 0;
	if (!known)
		h.flags |= RCODE_NXDOMAIN;
	wire_put_hdr(&w, &h);
	wire_put_bytes(&w, q + WIRE_HDR_LEN, qend - WIRE_HDR_LEN);
	if (mode == FAKE_LOWERCASE)
		wire_name_lower(out + WIRE_HDR_LEN, nlen);
	if (an && wild && qtype == TYPE_TXT) {
		/* one TXT record of wild_txt bytes in 255-byte strings */
		size_t left = f->wild_txt, rdlen = 0, k;

		for (k = left; k > 0; k -= k > 255 ? 255 : k)
			rdlen += 1 + (k > 255 ? 255 : k);
		wire_put_u16(&w, 0xc00c);
		wire_put_u16(&w, TYPE_TXT);
		wire_put_u16(&w, CLASS_IN);
		wire_put_u32(&w, f->wild_ttl);
		wire_put_u16(&w, (uint16_t)rdlen);
		while (left > 0) {
			size_t chunk = left > 255 ? 255 : left;

			wire_put_u8(&w, (uint8_t)chunk);
			for (k = 0; k < chunk; k++)
				wire_put_u8(&w, (uint8_t)('a' + k % 26));
			left -= chunk;
		}
	} else if (an && wild) {
		uint32_t hv = 2166136261u;

		for (i = 0; i < nlen; i++)
			hv = (hv ^ name[i]) * 16777619u;
		wire_put_u16(&w, 0xc00c);
		wire_put_u16(&w, TYPE_A);
		wire_put_u16(&w, CLASS_IN);
		wire_put_u32(&w, f->wild_ttl);
		wire_put_u16(&w, 4);
		wire_put_u32(&w, 0xc0000200 | (hv & 0xff));
	} else if (an) {
		for (i = 0; i < f->nrecs; i++) {
			const struct frec *fr = &f->recs[i];

			if (!wire_name_eq_ci(fr->name, fr->nlen, name, nlen) || fr->type != qtype)
				continue;
			wire_put_u16(&w, 0xc00c);
			wire_put_u16(&w, fr->type);
			wire_put_u16(&w, CLASS_IN);
			wire_put_u32(&w, fr->ttl);
			wire_put_u16(&w, (uint16_t)fr->rdlen);
			wire_put_bytes(&w, fr->rdata, fr->rdlen);
		}
	} else {
		put_soa(&w, f);
	}
	if (edns) {
		wire_put_u8(&w, 0);
		wire_put_u16(&w, TYPE_OPT);
		wire_put_u16(&w, 4096);
		wire_put_u32(&w, do_bit ? 0x8000 : 0);
		wire_put_u16(&w, 0);
	}
	if (w.err)
		return 0;
	/* UDP: honour 512 / the EDNS size like a real server */
	if (!tcp && w.len > (edns ? 4096u : 512u)) {
		wire_set16_at(out, w.len, 2, (uint16_t)(h.flags | WIRE_TC));
		wire_set16_at(out, w.len, 6, 0);
		wire_set16_at(out, w.len, 8, 0);
		wire_set16_at(out, w.len, 10, 0);
		return qend;
	}
	return w.len;
}

static int
conn_index(const struct fakeup *f, int fd)
{
	int i;

	for (i = 0; i < MAX_CONN; i++)
		if (f->conns[i] == fd && fd >= 0)
			return i;
	return -1;
}

static ssize_t
h2_read_resp(nghttp2_session *s, int32_t stream, uint8_t *buf, size_t len, uint32_t *flags,
    nghttp2_data_source *src, void *arg)
{
	struct h2req *q = src->ptr;
	size_t n = q->rlen - q->roff < len ? q->rlen - q->roff : len;

	(void)s;
	(void)stream;
	(void)arg;
	memcpy(buf, q->resp + q->roff, n);
	q->roff += n;
	if (q->roff == q->rlen)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static void
h2_respond_as(struct fakeup *f, int idx, int32_t stream, int status, const char *ctype,
    const uint8_t *buf, size_t len)
{
	struct h2conn *hc = &f->h2c[idx];
	struct h2req *q;
	char st[8], cl[12];
	nghttp2_data_provider d;

	for (q = hc->reqs; q; q = q->next)
		if (q->id == stream)
			break;
	if (!q || !hc->s)
		return;
	snprintf(st, sizeof(st), "%d", status);
	snprintf(cl, sizeof(cl), "%zu", len);
	{
		nghttp2_nv h[] = {
			{ (uint8_t *)":status", (uint8_t *)st, 7, strlen(st), 0 },
			{ (uint8_t *)"content-type", (uint8_t *)(uintptr_t)ctype, 12, strlen(ctype),
			    0 },
			{ (uint8_t *)"content-length", (uint8_t *)cl, 14, strlen(cl), 0 },
		};

		free(q->resp);
		q->resp = malloc(len ? len : 1);
		if (!q->resp)
			return;
		memcpy(q->resp, buf, len);
		q->rlen = len;
		q->roff = 0;
		d.source.ptr = q;
		d.read_callback = h2_read_resp;
		nghttp2_submit_response(hc->s, stream, h, 3, &d);
	}
	nghttp2_session_send(hc->s);
}

static void
h2_respond(struct fakeup *f, int idx, int32_t stream, int status, const uint8_t *buf, size_t len)
{
	h2_respond_as(f, idx, stream, status, "application/dns-message", buf, len);
}

/* A fault instead of the answer; true when it replaced the answer. */
static bool
send_fault(struct fakeup *f, int idx, const struct pending *p)
{
	nghttp2_session *s = f->h2c[idx].s;
	static const uint8_t junk[] = { 0, 5, 'j', 'u', 'n', 'k', '!' };

	switch (f->cfault[idx]) {
	case FAKE_TLS_SILENT: return true;
	case FAKE_TLS_GARBAGE:
		if (!f->h2)
			(void)SSL_write(f->ssl[idx], junk, (int)sizeof(junk));
		return !f->h2;
	case FAKE_TLS_GOAWAY:
		if (!s || p->stream <= 1)
			return false;
		nghttp2_submit_goaway(s, NGHTTP2_FLAG_NONE, p->stream - 2, NGHTTP2_NO_ERROR, NULL,
		    0);
		nghttp2_session_send(s);
		f->cfault[idx] = FAKE_TLS_OK;
		return true;
	case FAKE_TLS_RST:
		if (!s)
			return false;
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, p->stream, NGHTTP2_INTERNAL_ERROR);
		nghttp2_session_send(s);
		return true;
	case FAKE_TLS_HTTP404:
	case FAKE_TLS_HTTP500:
		if (!s)
			return false;
		h2_respond(f, idx, p->stream, f->cfault[idx] == FAKE_TLS_HTTP404 ? 404 : 500,
		    (const uint8_t *)"", 0);
		return true;
	case FAKE_TLS_RESET:
		f->creset[idx] = true; /* the poll loop drops it */
		return true;
	case FAKE_TLS_CTYPE:
		if (!s)
			return false;
		h2_respond_as(f, idx, p->stream, 200, "text/html", p->buf, p->len);
		return true;
	default: return false;
	}
}

static void
send_now(struct fakeup *f, struct pending *p)
{
	if (p->tcp && f->tls) {
		int idx = conn_index(f, p->fd);
		uint8_t *b = malloc(p->len + 2);

		if (idx >= 0 && b && f->ssl[idx] && send_fault(f, idx, p)) {
			/* the fault replaced the answer */
		} else if (idx >= 0 && b && f->ssl[idx]) {
			if (f->h2) {
				h2_respond(f, idx, p->stream, 200, p->buf, p->len);
			} else {
				b[0] = (uint8_t)(p->len >> 8);
				b[1] = (uint8_t)p->len;
				memcpy(b + 2, p->buf, p->len);
				(void)SSL_write(f->ssl[idx], b, (int)p->len + 2);
			}
		}
		free(b);
	} else if (p->tcp) {
		uint8_t lb[2] = { (uint8_t)(p->len >> 8), (uint8_t)p->len };

		if (send(p->fd, lb, 2, MSG_NOSIGNAL) == 2)
			(void)!send(p->fd, p->buf, p->len, MSG_NOSIGNAL);
	} else {
		(void)!sendto(p->fd, p->buf, p->len, 0, (struct sockaddr *)&p->peer, p->plen);
	}
	free(p->buf);
	p->buf = NULL;
}

static void
handle(struct fakeup *f, int fd, bool tcp, const uint8_t *q, size_t qlen,
    const struct sockaddr_storage *peer, socklen_t plen)
{
	uint8_t out[65535];
	unsigned delay = 0;
	struct fake_rec rec;
	size_t n;

	memset(&rec, 0, sizeof(rec));
	rec.t_ms = now_ms();
	if (peer->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, rec.peer,
		    sizeof(rec.peer));
		rec.peer_port = ntohs(((const struct sockaddr_in *)peer)->sin_port);
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, rec.peer,
		    sizeof(rec.peer));
		rec.peer_port = ntohs(((const struct sockaddr_in6 *)peer)->sin6_port);
	}
	pthread_mutex_lock(&f->mu);
	n = answer(f, q, qlen, tcp, out, sizeof(out), &delay, &rec);
	rec.tls = tcp && f->tls;
	if (rec.name[0] && f->nlog < MAX_LOG)
		f->log[f->nlog++] = rec;
	if (n && f->npend < MAX_PENDING) {
		struct pending *p = &f->pend[f->npend];

		p->buf = malloc(n);
		if (p->buf) {
			memcpy(p->buf, out, n);
			p->len = n;
			p->fd = fd;
			p->stream = f->cur_stream;
			p->tcp = tcp;
			p->peer = *peer;
			p->plen = plen;
			p->due = rec.t_ms + delay;
			f->npend++;
		}
	}
	pthread_mutex_unlock(&f->mu);
}

static void
flush_due(struct fakeup *f)
{
	double t = now_ms();
	size_t i = 0;

	pthread_mutex_lock(&f->mu);
	while (i < f->npend) {
		if (f->pend[i].due <= t) {
			send_now(f, &f->pend[i]);
			f->pend[i] = f->pend[--f->npend];
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&f->mu);
}

static void
h2_free_reqs(struct h2conn *hc)
{
	struct h2req *q;

	while ((q = hc->reqs) != NULL) {
		hc->reqs = q->next;
		free(q->body);
		free(q->resp);
		free(q);
	}
}

static void
conn_drop(struct fakeup *f, int i)
{
	int fd = f->conns[i];
	size_t k;

	if (fd < 0)
		return;
	pthread_mutex_lock(&f->mu);
	for (k = 0; k < f->npend; k++)
		if (f->pend[k].tcp && f->pend[k].fd == fd)
			f->pend[k].fd = -1;
	pthread_mutex_unlock(&f->mu);
	if (f->h2c[i].s) {
		nghttp2_session_del(f->h2c[i].s);
		f->h2c[i].s = NULL;
	}
	h2_free_reqs(&f->h2c[i]);
	if (f->ssl[i]) {
		SSL_free(f->ssl[i]);
		f->ssl[i] = NULL;
	}
	close(fd);
	f->conns[i] = -1;
}

static ssize_t
h2_send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *arg)
{
	struct h2conn *hc = arg;
	int n;

	(void)s;
	(void)flags;
	n = SSL_write(hc->f->ssl[hc->idx], data, (int)len);
	return n > 0 ? n : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int
h2_begin(nghttp2_session *s, const nghttp2_frame *fr, void *arg)
{
	struct h2conn *hc = arg;
	struct h2req *q;

	(void)s;
	if (fr->hd.type != NGHTTP2_HEADERS || fr->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	q->id = fr->hd.stream_id;
	q->next = hc->reqs;
	hc->reqs = q;
	return 0;
}

static struct h2req *
h2_find(struct h2conn *hc, int32_t id)
{
	struct h2req *q;

	for (q = hc->reqs; q; q = q->next)
		if (q->id == id)
			return q;
	return NULL;
}

static int
h2_header(nghttp2_session *s, const nghttp2_frame *fr, const uint8_t *name, size_t nl,
    const uint8_t *value, size_t vl, uint8_t flags, void *arg)
{
	struct h2req *q = h2_find(arg, fr->hd.stream_id);

	(void)s;
	(void)flags;
	if (q && nl == 5 && memcmp(name, ":path", 5) == 0)
		q->path_ok = vl == 10 && memcmp(value, "/dns-query", 10) == 0;
	return 0;
}

static int
h2_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *arg)
{
	struct h2req *q = h2_find(arg, id);
	uint8_t *nb;

	(void)s;
	(void)flags;
	if (!q || q->len + len > 65535)
		return 0;
	nb = realloc(q->body, q->len + len);
	if (!nb)
		return 0;
	memcpy(nb + q->len, data, len);
	q->body = nb;
	q->len += len;
	return 0;
}

static int
h2_frame(nghttp2_session *s, const nghttp2_frame *fr, void *arg)
{
	struct h2conn *hc = arg;
	struct fakeup *f = hc->f;
	struct h2req *q;
	int fd = f->conns[hc->idx];
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);

	(void)s;
	if (!(fr->hd.flags & NGHTTP2_FLAG_END_STREAM) ||
	    (fr->hd.type != NGHTTP2_DATA && fr->hd.type != NGHTTP2_HEADERS))
		return 0;
	q = h2_find(hc, fr->hd.stream_id);
	if (!q)
		return 0;
	if (!q->path_ok) {
		h2_respond(f, hc->idx, q->id, 404, (const uint8_t *)"", 0);
		return 0;
	}
	getpeername(fd, (struct sockaddr *)&peer, &plen);
	f->cur_stream = q->id;
	handle(f, fd, true, q->body, q->len, &peer, plen);
	f->cur_stream = 0;
	return 0;
}

static int
h2_close(nghttp2_session *s, int32_t id, uint32_t code, void *arg)
{
	struct h2conn *hc = arg;
	struct h2req **pp;

	(void)s;
	(void)code;
	for (pp = &hc->reqs; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct h2req *q = *pp;

			*pp = q->next;
			free(q->body);
			free(q->resp);
			free(q);
			break;
		}
	return 0;
}

static int
h2_start(struct fakeup *f, int i)
{
	nghttp2_session_callbacks *cb;
	nghttp2_settings_entry iv = { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 };
	struct h2conn *hc = &f->h2c[i];

	hc->f = f;
	hc->idx = i;
	if (nghttp2_session_callbacks_new(&cb) != 0)
		return -1;
	nghttp2_session_callbacks_set_send_callback(cb, h2_send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, h2_begin);
	nghttp2_session_callbacks_set_on_header_callback(cb, h2_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2_close);
	if (nghttp2_session_server_new(&hc->s, cb, hc) != 0) {
		nghttp2_session_callbacks_del(cb);
		return -1;
	}
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(hc->s, NGHTTP2_FLAG_NONE, &iv, 1);
	return nghttp2_session_send(hc->s) == 0 ? 0 : -1;
}

/* A new TCP connection: a slot, and with TLS the handshake (blocking,
 * bounded by socket timeouts). */
static void
conn_accept(struct fakeup *f, int c)
{
	struct timeval tv = { 2, 0 };
	int i;

	if (f->tls && f->tls_stall) {
		for (i = 0; i < MAX_CONN; i++)
			if (f->stalled[i] < 0) {
				f->stalled[i] = c;
				return;
			}
		close(c);
		return;
	}
	for (i = 0; i < MAX_CONN; i++)
		if (f->conns[i] < 0)
			break;
	if (i == MAX_CONN) {
		close(c);
		return;
	}
	f->conns[i] = c;
	f->clen[i] = 0;
	if (!f->tls)
		return;
	pthread_mutex_lock(&f->mu);
	f->cfault[i] = f->fault;
	if (f->fault != FAKE_TLS_OK && f->fault_left > 0 && --f->fault_left == 0)
		f->fault = FAKE_TLS_OK;
	pthread_mutex_unlock(&f->mu);
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	f->ssl[i] = SSL_new(f->tls);
	if (!f->ssl[i] || SSL_set_fd(f->ssl[i], c) != 1 || SSL_accept(f->ssl[i]) != 1) {
		ERR_clear_error();
		conn_drop(f, i);
		return;
	}
	pthread_mutex_lock(&f->mu);
	f->handshakes++;
	if (SSL_session_reused(f->ssl[i]))
		f->resumed++;
	pthread_mutex_unlock(&f->mu);
	if (f->h2 && h2_start(f, i) != 0)
		conn_drop(f, i);
}

/* Bytes arrived on connection i: DNS over TCP or TLS frames, or HTTP/2. */
static void
conn_input(struct fakeup *f, int i)
{
	int fd = f->conns[i];

	do {
		ssize_t r;

		if (f->h2) {
			uint8_t buf[16384];

			r = SSL_read(f->ssl[i], buf, sizeof(buf));
			if (r <= 0 || nghttp2_session_mem_recv(f->h2c[i].s, buf, (size_t)r) < 0 ||
			    nghttp2_session_send(f->h2c[i].s) != 0) {
				conn_drop(f, i);
				return;
			}
			continue;
		}
		if (f->ssl[i])
			r = SSL_read(f->ssl[i], f->cbuf[i] + f->clen[i],
			    (int)(sizeof(f->cbuf[i]) - f->clen[i]));
		else
			r = recv(fd, f->cbuf[i] + f->clen[i], sizeof(f->cbuf[i]) - f->clen[i], 0);
		if (r <= 0) {
			conn_drop(f, i);
			return;
		}
		f->clen[i] += (size_t)r;
		while (f->clen[i] >= 2) {
			size_t ml = (size_t)f->cbuf[i][0] << 8 | f->cbuf[i][1];
			struct sockaddr_storage peer;
			socklen_t plen = sizeof(peer);

			if (f->clen[i] < 2 + ml)
				break;
			getpeername(fd, (struct sockaddr *)&peer, &plen);
			f->close_now = false;
			handle(f, fd, true, f->cbuf[i] + 2, ml, &peer, plen);
			memmove(f->cbuf[i], f->cbuf[i] + 2 + ml, f->clen[i] - 2 - ml);
			f->clen[i] -= 2 + ml;
			if (f->close_now) {
				f->close_now = false;
				conn_drop(f, i);
				return;
			}
		}
	} while (f->ssl[i] && SSL_pending(f->ssl[i]) > 0);
}

static void *
run(void *arg)
{
	struct fakeup *f = arg;
	uint8_t buf[65536];

	for (;;) {
		struct pollfd p[3 + MAX_CONN];
		int n = 0, i, k;

		p[n].fd = f->stop_pipe[0];
		p[n++].events = POLLIN;
		p[n].fd = f->udp;
		p[n++].events = POLLIN;
		p[n].fd = f->tcp;
		p[n++].events = POLLIN;
		for (i = 0; i < MAX_CONN; i++) {
			p[n].fd = f->conns[i];
			p[n++].events = POLLIN;
		}
		k = poll(p, (nfds_t)n, 2);
		flush_due(f);
		for (i = 0; i < MAX_CONN; i++)
			if (f->creset[i]) {
				struct linger l = { 1, 0 };

				f->creset[i] = false;
				if (f->conns[i] >= 0)
					setsockopt(f->conns[i], SOL_SOCKET, SO_LINGER, &l,
					    sizeof(l));
				conn_drop(f, i); /* closed with RST */
			}
		if (f->drop_all) {
			for (i = 0; i < MAX_CONN; i++)
				conn_drop(f, i);
			f->drop_all = false;
			continue;
		}
		if (k <= 0)
			continue;
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN) {
			for (;;) {
				struct sockaddr_storage peer;
				socklen_t plen = sizeof(peer);
				ssize_t r = recvfrom(f->udp, buf, sizeof(buf), MSG_DONTWAIT,
				    (struct sockaddr *)&peer, &plen);

				if (r < 0)
					break;
				handle(f, f->udp, false, buf, (size_t)r, &peer, plen);
			}
		}
		if (p[2].revents & POLLIN) {
			int c = accept(f->tcp, NULL, NULL);

			if (c >= 0)
				conn_accept(f, c);
		}
		for (i = 0; i < MAX_CONN; i++) {
			if (f->conns[i] < 0 || p[3 + i].fd != f->conns[i] ||
			    !(p[3 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			conn_input(f, i);
		}
	}
	return NULL;
}

struct fakeup *
fakeup_start(const char *addr)
{
	return fakeup_start_port(addr, 0);
}

struct fakeup *
fakeup_start_port(const char *addr, uint16_t port)
{
	struct fakeup *f = calloc(1, sizeof(*f));
	struct sockaddr_storage ss;
	socklen_t sl;
	int fam, i, tries;

	if (!f)
		return NULL;
	f->recs = calloc(MAX_RECS, sizeof(*f->recs));
	f->log = calloc(MAX_LOG, sizeof(*f->log));
	if (!f->recs || !f->log)
		goto fail;
	snprintf(f->addr, sizeof(f->addr), "%s", addr);
	f->soa_ttl = f->soa_min = 300;
	f->rng = (unsigned)port * 7919u + 17u;
	f->udp = f->tcp = -1;
	for (i = 0; i < MAX_CONN; i++)
		f->conns[i] = f->stalled[i] = -1;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		fam = AF_INET;
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		fam = AF_INET6;
		sl = sizeof(struct sockaddr_in6);
	} else {
		goto fail;
	}
	ss.ss_family = (sa_family_t)fam;
	if (fam == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	for (tries = 0; tries < 50; tries++) {
		struct sockaddr_storage b = ss;
		int on = 1;

		f->udp = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		setsockopt(f->udp, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (f->udp < 0 || bind(f->udp, (struct sockaddr *)&b, sl) != 0)
			goto fail;
		getsockname(f->udp, (struct sockaddr *)&b, &sl);
		f->tcp = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(f->tcp, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (f->tcp >= 0 && bind(f->tcp, (struct sockaddr *)&b, sl) == 0 &&
		    listen(f->tcp, 16) == 0) {
			f->port = ntohs(fam == AF_INET ? ((struct sockaddr_in *)&b)->sin_port :
			                                 ((struct sockaddr_in6 *)&b)->sin6_port);
			break;
		}
		close(f->udp);
		if (f->tcp >= 0)
			close(f->tcp);
		f->udp = f->tcp = -1;
	}
	if (f->udp < 0)
		goto fail;
	if (fam == AF_INET)
		snprintf(f->hostport, sizeof(f->hostport), "%s:%u", addr, f->port);
	else
		snprintf(f->hostport, sizeof(f->hostport), "[%s]:%u", addr, f->port);
	if (pipe(f->stop_pipe) != 0)
		goto fail;
	pthread_mutex_init(&f->mu, NULL);
	if (pthread_create(&f->th, NULL, run, f) != 0)
		goto fail;
	return f;
fail:
	if (f->udp >= 0)
		close(f->udp);
	if (f->tcp >= 0)
		close(f->tcp);
	free(f->recs);
	free(f->log);
	free(f);
	return NULL;
}

void
fakeup_stop(struct fakeup *f)
{
	size_t i;

	if (!f)
		return;
	(void)!write(f->stop_pipe[1], "x", 1);
	pthread_join(f->th, NULL);
	close(f->stop_pipe[0]);
	close(f->stop_pipe[1]);
	close(f->udp);
	close(f->tcp);
	for (i = 0; i < MAX_CONN; i++) {
		conn_drop(f, (int)i);
		if (f->stalled[i] >= 0)
			close(f->stalled[i]);
	}
	for (i = 0; i < f->npend; i++)
		free(f->pend[i].buf);
	if (f->tls)
		SSL_CTX_free(f->tls);
	pthread_mutex_destroy(&f->mu);
	free(f->recs);
	free(f->log);
	free(f);
}

uint16_t
fakeup_port(const struct fakeup *f)
{
	return f->port;
}

const char *
fakeup_addr(const struct fakeup *f)
{
	return f->addr;
}

const char *
fakeup_hostport(const struct fakeup *f)
{
	return f->hostport;
}

void
fakeup_set_mode(struct fakeup *f, enum fake_mode m)
{
	pthread_mutex_lock(&f->mu);
	f->mode = m;
	pthread_mutex_unlock(&f->mu);
}

void
fakeup_set_wildcard(struct fakeup *f, uint32_t ttl)
{
	pthread_mutex_lock(&f->mu);
	f->wild_ttl = ttl;
	pthread_mutex_unlock(&f->mu);
}

void
fakeup_set_wildcard_txt(struct fakeup *f, size_t bytes, uint32_t ttl)
{
	pthread_mutex_lock(&f->mu);
	f->wild_txt = bytes;
	f->wild_ttl = ttl;
	pthread_mutex_unlock(&f->mu);
}

void
fakeup_set_loss(struct fakeup *f, unsigned percent)
{
	pthread_mutex_lock(&f->mu);
	f->loss = percent;
	pthread_mutex_unlock(&f->mu);
}

void
fakeup_set_delay(struct fakeup *f, unsigned ms)
{
	pthread_mutex_lock(&f->mu);
	f->delay = ms;
	pthread_mutex_unlock(&f->mu);
}

void
fakeup_name_mode(struct fakeup *f, const char *name, enum fake_mode m, unsigned delay_ms)
{
	pthread_mutex_lock(&f->mu);
	if (f->novr < MAX_OVR) {
		struct override *o = &f->ovr[f->novr];

		o->nlen = wire_name_from_text(name, o->name);
		o->mode = m;
		o->delay = delay_ms;
		if (o->nlen)
			f->novr++;
	}
	pthread_mutex_unlock(&f->mu);
}

void
fakeup_set_soa(struct fakeup *f, uint32_t ttl, uint32_t minimum)
{
	pthread_mutex_lock(&f->mu);
	f->soa_ttl = ttl;
	f->soa_min = minimum;
	pthread_mutex_unlock(&f->mu);
}

static size_t
name_rdata(const char *text, uint8_t *out)
{
	return wire_name_from_text(text, out);
}

int
fakeup_add(struct fakeup *f, const char *name, const char *type, uint32_t ttl, const char *data)
{
	struct frec r;
	uint16_t t = wire_type_from_name(type);
	struct wire_wr w;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.nlen = wire_name_from_text(name, r.name);
	if (!r.nlen || !t)
		return -1;
	r.type = t;
	r.ttl = ttl;
	wire_wr_init(&w, r.rdata, sizeof(r.rdata));
	switch (t) {
	case TYPE_A:
		if (inet_pton(AF_INET, data, r.rdata) != 1)
			return -1;
		r.rdlen = 4;
		break;
	case TYPE_AAAA:
		if (inet_pton(AF_INET6, data, r.rdata) != 1)
			return -1;
		r.rdlen = 16;
		break;
	case TYPE_CNAME:
	case TYPE_NS:
	case TYPE_PTR:
		r.rdlen = name_rdata(data, r.rdata);
		if (!r.rdlen)
			return -1;
		break;
	case TYPE_MX: {
		unsigned pref;
		char host[256];
		uint8_t n[WIRE_NAME_MAX];
		size_t nl;

		if (sscanf(data, "%u %255s", &pref, host) != 2 ||
		    !(nl = wire_name_from_text(host, n)))
			return -1;
		wire_put_u16(&w, (uint16_t)pref);
		wire_put_bytes(&w, n, nl);
		r.rdlen = w.len;
		break;
	}
	case TYPE_SRV: {
		unsigned pr, wt, port;
		char host[256];
		uint8_t n[WIRE_NAME_MAX];
		size_t nl;

		if (sscanf(data, "%u %u %u %255s", &pr, &wt, &port, host) != 4 ||
		    !(nl = wire_name_from_text(host, n)))
			return -1;
		wire_put_u16(&w, (uint16_t)pr);
		wire_put_u16(&w, (uint16_t)wt);
		wire_put_u16(&w, (uint16_t)port);
		wire_put_bytes(&w, n, nl);
		r.rdlen = w.len;
		break;
	}
	case TYPE_TXT: {
		size_t len, i;

		if (data[0] == '@') {
			len = (size_t)atol(data + 1);
			if (len > 3800)
				return -1;
			while (len > 0) {
				size_t chunk = len > 255 ? 255 : len;

				wire_put_u8(&w, (uint8_t)chunk);
				for (i = 0; i < chunk; i++)
					wire_put_u8(&w, (uint8_t)('a' + i % 26));
				len -= chunk;
			}
		} else {
			len = strlen(data);
			if (len > 255)
				return -1;
			wire_put_u8(&w, (uint8_t)len);
			wire_put_bytes(&w, data, len);
		}
		r.rdlen = w.len;
		break;
	}
	default: return -1;
	}
	if (w.err)
		return -1;
	pthread_mutex_lock(&f->mu);
	if (f->nrecs < MAX_RECS)
		f->recs[f->nrecs++] = r;
	else
		rc = -1;
	pthread_mutex_unlock(&f->mu);
	return rc;
}

size_t
fakeup_count(struct fakeup *f)
{
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = f->nlog;
	pthread_mutex_unlock(&f->mu);
	return n;
}

size_t
fakeup_log(struct fakeup *f, struct fake_rec *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = f->nlog;
	if (out)
		memcpy(out, f->log, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&f->mu);
	return n;
}

void
fakeup_clear_log(struct fakeup *f)
{
	pthread_mutex_lock(&f->mu);
	f->nlog = 0;
	pthread_mutex_unlock(&f->mu);
}

void
fakeup_set_ad(struct fakeup *f, bool ad)
{
	pthread_mutex_lock(&f->mu);
	f->ad = ad;
	pthread_mutex_unlock(&f->mu);
}

static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
    unsigned int inlen, void *arg)
{
	unsigned int i = 0;

	(void)ssl;
	(void)arg;
	while (i < inlen) {
		unsigned int l = in[i];

		if (i + 1 + l > inlen)
			break;
		if (l == 2 && memcmp(in + i + 1, "h2", 2) == 0) {
			*out = in + i + 1;
			*outlen = 2;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + l;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int
fakeup_tls(struct fakeup *f, const char *cert, const char *key, bool h2)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		SSL_CTX_free(ctx);
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"fakeup", 6);
	if (h2)
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	pthread_mutex_lock(&f->mu);
	f->tls = ctx;
	f->h2 = h2;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

void
fakeup_tls_stall(struct fakeup *f, bool stall)
{
	pthread_mutex_lock(&f->mu);
	f->tls_stall = stall;
	pthread_mutex_unlock(&f->mu);
}

void
fakeup_tls_fault(struct fakeup *f, enum fake_tls_fault fault, unsigned conns)
{
	pthread_mutex_lock(&f->mu);
	f->fault = fault;
	f->fault_left = conns;
	pthread_mutex_unlock(&f->mu);
}

void
fakeup_tls_counts(struct fakeup *f, unsigned *handshakes, unsigned *resumed)
{
	pthread_mutex_lock(&f->mu);
	*handshakes = f->handshakes;
	*resumed = f->resumed;
	pthread_mutex_unlock(&f->mu);
}

void
fakeup_close_conns(struct fakeup *f)
{
	int i;

	f->drop_all = true;
	for (i = 0; i < 500 && f->drop_all; i++)
		usleep(2000);
}

int
fakeup_make_cert(const char *name, const char *cert, const char *key, char *pin)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *xn;
	X509_EXTENSION *ext = NULL;
	char san[300];
	FILE *fp;
	int rc = -1;

	if (!pk || !x)
		goto done;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)getpid());
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	xn = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(xn, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, xn);
	snprintf(san, sizeof(san), "DNS:%s", name);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	if (!ext || !X509_add_ext(x, ext, -1) || !X509_sign(x, pk, EVP_sha256()))
		goto done;
	fp = fopen(cert, "w");
	if (!fp)
		goto done;
	PEM_write_X509(fp, x);
	fclose(fp);
	fp = fopen(key, "w");
	if (!fp)
		goto done;
	PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	if (pin) {
		unsigned char *der = NULL, md[32];
		unsigned int mdlen = 0;
		int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);

		if (n <= 0 || !EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL)) {
			OPENSSL_free(der);
			goto done;
		}
		OPENSSL_free(der);
		EVP_EncodeBlock((unsigned char *)pin, md, 32);
	}
	rc = 0;
done:
	X509_EXTENSION_free(ext);
	X509_free(x);
	EVP_PKEY_free(pk);
	return rc;
}
