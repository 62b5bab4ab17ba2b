/*
 * transport_tls.c - DNS over TLS (and the connection under DNS over HTTPS):
 * one pipelined connection per server on an OpenSSL bufferevent.
 *
 * A request lives on exactly one list: its connection's (queued or
 * written) or the transport's `failing` list, whose members are called
 * back with "no answer" from the event loop.  Callbacks never run inside
 * send(); a connection is never freed while its read callback runs.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "log.h"
#include "msg.h"
#include "rand.h"
#include "tlsctx.h"
#include "transport_doh.h"
#include "transport_tls.h"
#include "transport_tls_impl.h"


/* ---------------- lists ---------------- */

static void
req_link(struct xp_req **head, struct xp_req *r)
{
	r->next = *head;
	if (r->next)
		r->next->pprev = &r->next;
	r->pprev = head;
	*head = r;
}

static void
req_unlink(struct xp_req *r)
{
	if (!r->pprev)
		return;
	*r->pprev = r->next;
	if (r->next)
		r->next->pprev = r->pprev;
	r->next = NULL;
	r->pprev = NULL;
}

/* r leaves its connection: unlinked, its slot free again. */
static void
conn_release(struct tls_conn *c, struct xp_req *r)
{
	req_unlink(r);
	c->nreqs--;
	if (r->slot >= 0 && c->slot[r->slot] == r) {
		c->slot[r->slot] = NULL;
		c->gen[r->slot]++;
		c->freeslot[c->nfree++] = (uint16_t)r->slot;
	}
	r->slot = -1;
	r->conn = NULL;
}

/* Hand r to the failing list: "no answer", called back from the loop. */
void
xptls_fail_req(struct xp_tls *x, struct xp_req *r)
{
	if (r->conn)
		conn_release(r->conn, r);
	req_unlink(r);
	req_link(&x->failing, r);
	event_active(x->fail_ev, EV_TIMEOUT, 0);
}

static void
fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xp_tls *x = arg;
	struct xp_req *r;

	(void)fd;
	(void)what;
	while ((r = x->failing) != NULL) {
		req_unlink(r);
		r->cb(r->arg, NULL, 0);
		xptls_req_free(r);
	}
}

void
xptls_req_free(struct xp_req *r)
{
	if (r->h2body)
		free(r->h2body);
	free(r);
}

/* ---------------- a connection ---------------- */

/* Arm the connection's one timer: the earliest deadline of its queries
 * (each query's own: a new query never moves an older one's), the idle
 * limit when none waits, at once when nobody waits on a handshake or a
 * retired connection, or when it is to close. */
void
xptls_conn_arm(struct tls_conn *c)
{
	uint64_t ms;
	struct timeval tv;

	if (c->closing) {
		ms = 0;
	} else if (c->nreqs > 0) {
		uint64_t now = clock_now_ms(), due = UINT64_MAX;
		const struct xp_req *r;

		for (r = c->reqs; r; r = r->next)
			if (r->deadline < due)
				due = r->deadline;
		ms = due > now ? due - now : 0;
	} else if (c->up && !c->retired) {
		ms = CONN_IDLE_MS;
	} else {
		ms = 0;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(c->tmr, &tv);
}

/* Why c is taken for stalled. */
static const char *
stall_why(const struct tls_conn *c)
{
	if (c->nbad)
		return "bad answer";
	return c->up ? "answer timeout" : "handshake did not finish in time";
}

static void
conn_tmr(evutil_socket_t fd, short what, void *arg)
{
	struct tls_conn *c = arg;
	struct xp_req *r, *next;
	uint64_t now = clock_now_ms();
	bool stalled = false;

	(void)fd;
	(void)what;
	if (c->closing) {
		xptls_conn_close(c, c->close_why);
		return;
	}
	if (c->nreqs == 0) {
		if (c->up || c->retired)
			xptls_conn_close(c, NULL);      /* idle, or finished */
		else    /* nobody waits on the handshake any more */
			xptls_conn_close(c, "handshake did not finish in time");
		return;
	}
	/* queries past the whole schedule: given up, one by one */
	c->reading = true;      /* closes wait until the loop is done */
	for (r = c->reqs; r; r = next) {
		next = r->next;
		if (r->deadline > now)
			continue;
		if (r->seen == c->nanswers)
			stalled = true;
		xphttps_cancel(c, r);
		xptls_fail_req(c->x, r);
	}
	c->reading = false;
	if (c->closing) {
		xptls_conn_close(c, c->close_why);
		return;
	}
	if (stalled)
		xptls_conn_retire(c, stall_why(c));
	xphttps_flush(c);
	xptls_conn_arm(c);
}

/* The server's state; a change is logged once (failures as warnings). */
static void
srv_state(struct xp_tls *x, size_t server, const char *prefix, const char *why)
{
	struct tls_srv *s = &x->srv[server];
	char st[sizeof(s->state)];
	bool failed = strcmp(prefix, "failed: ") == 0;
	bool was_failed = strncmp(s->state, "failed: ", 8) == 0;

	snprintf(st, sizeof(st), "%s%s", prefix, why);
	if (strcmp(st, s->state) == 0)
		return;
	memcpy(s->state, st, sizeof(st));
	if (failed)
		log_warn("%s: %s", x->sched->servers[server].label, why);
	else if (was_failed && strcmp(st, "connected") == 0)
		log_info("%s: connected", x->sched->servers[server].label);
}

void
xptls_conn_failed(struct tls_conn *c, const char *why)
{
	if (c->x->srv[c->server].conn == c)
		srv_state(c->x, c->server, "failed: ", why);
	else if (log_verbosity() >= 2)
		log_debug("%s: %s (a retired connection)",
		    c->x->sched->servers[c->server].label, why);
}

void
xptls_conn_close_soon(struct tls_conn *c, const char *why)
{
	struct timeval zero = { 0, 0 };

	if (c->closing)
		return;
	c->closing = true;
	c->close_why = why;
	evtimer_add(c->tmr, &zero);
}

void
xptls_conn_retire(struct tls_conn *c, const char *why)
{
	struct tls_srv *s = &c->x->srv[c->server];
	struct tls_conn *o;
	size_t n = 0;

	if (s->conn != c)
		return;
	if (why)
		srv_state(c->x, c->server, "failed: ", why);
	s->conn = NULL;
	c->retired = true;
	c->onext = s->old;
	s->old = c;
	/* bounded: beyond the limit the oldest goes, failing its queries */
	for (o = s->old; o; o = o->onext)
		if (++n > CONN_MAX_RETIRED)
			xptls_conn_close_soon(o, why);
}

/*
 * Close c.  why != NULL: a failure, its queries fail and the server's
 * state says why; NULL: a quiet close (idle), nothing was waiting.  A
 * retired connection no longer speaks for its server's state.
 */
void
xptls_conn_close(struct tls_conn *c, const char *why)
{
	struct xp_tls *x = c->x;
	struct tls_srv *s = &x->srv[c->server];
	struct xp_req *r;

	if (c->reading) {
		/* inside this connection's read callback: finish there */
		c->close_why = why;
		c->closing = true;
		return;
	}
	if (s->conn == c) {
		if (why)
			srv_state(x, c->server, "failed: ", why);
		else
			srv_state(x, c->server, "idle", "");
		s->conn = NULL;
	} else if (c->retired) {
		struct tls_conn **pp;

		for (pp = &s->old; *pp; pp = &(*pp)->onext)
			if (*pp == c) {
				*pp = c->onext;
				break;
			}
		if (why && log_verbosity() >= 2)
			log_debug("%s: %s (a retired connection)",
			    x->sched->servers[c->server].label, why);
	}
	while ((r = c->reqs) != NULL)
		xptls_fail_req(x, r);
	xphttps_conn_fini(c);
	if (c->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

		if (ssl && c->up && !why) {
			(void)SSL_shutdown(ssl);        /* close_notify, best effort */
			ERR_clear_error();
		}
		bufferevent_free(c->bev);
	}
	event_free(c->tmr);
	free(c);
}

/* Put a request on the wire (DoT: length-prefixed, padded). */
static void
conn_write(struct tls_conn *c, struct xp_req *r)
{
	if (c->h2) {
		xphttps_submit(c, r);
		return;
	}
	if (c->bev)
		bufferevent_write(c->bev, r->pkt, r->len);
	r->written = true;
}

static void
conn_write_queued(struct tls_conn *c)
{
	struct xp_req *r, *next;

	for (r = c->reqs; r; r = next) {
		next = r->next;
		if (!r->written)
			conn_write(c, r);
	}
	if (c->h2)
		xphttps_flush(c);
}

/* One DoT answer of len bytes in x->rbuf. */
static void
dot_answer(struct tls_conn *c, uint8_t *msg, size_t len)
{
	struct xp_req *r;
	uint16_t id;

	uint16_t flags;
	unsigned slot, gen;

	/* not a DNS response at all: the stream is garbage, give it up */
	if (!wire_get16_at(msg, len, 0, &id) || !wire_get16_at(msg, len, 2, &flags) ||
	    len < WIRE_HDR_LEN || !(flags & 0x8000)) {
		xptls_conn_close(c, "bad answer");
		return;
	}
	slot = id & (CONN_MAX_PENDING - 1);
	gen = (unsigned)id >> CONN_SLOT_BITS;
	r = c->slot[slot];
	if (!r || !r->written || r->wire_id != id) {
		/* a late answer to the slot's previous query is no fault; any
		 * other ID counts against the connection */
		if (gen != ((unsigned)c->gen[slot] - 1) % (1u << (16 - CONN_SLOT_BITS)))
			c->nbad++;
		if (log_verbosity() >= 2)
			log_debug("%s: an answer nobody waits for (ID %u)",
			    c->x->sched->servers[c->server].label, id);
		return;
	}
	wire_set16_at(msg, len, 0, r->orig_id);
	xptls_answer(c, r, msg, len);
}

/* Give r its answer and forget it. */
void
xptls_answer(struct tls_conn *c, struct xp_req *r, const uint8_t *msg, size_t len)
{
	conn_release(c, r);
	c->nanswers++;
	c->nbad = 0;
	if (c->x->srv[c->server].conn == c)
		srv_state(c->x, c->server, "connected", "");
	r->cb(r->arg, msg, len);
	xptls_req_free(r);
}

/* A connection object for server (no socket yet): its timer and free
 * slots (taken lowest first). */
static struct tls_conn *
conn_alloc(struct xp_tls *x, size_t server)
{
	struct tls_conn *c = calloc(1, sizeof(*c));
	size_t i;

	if (!c)
		return NULL;
	c->x = x;
	c->server = server;
	c->tmr = evtimer_new(x->base, conn_tmr, c);
	if (!c->tmr) {
		free(c);
		return NULL;
	}
	for (i = 0; i < CONN_MAX_PENDING; i++)
		c->freeslot[i] = (uint16_t)(CONN_MAX_PENDING - 1 - i);
	c->nfree = CONN_MAX_PENDING;
	return c;
}

/* Bytes from the server in `in`: DoT frames, or HTTP/2 for DoH. */
static void
conn_input(struct tls_conn *c, struct evbuffer *in)
{
	c->reading = true;
	if (c->h2) {
		xphttps_read(c, in);
		c->reading = false;
		if (!c->closing)
			xphttps_flush(c);
	} else {
		for (;;) {
			uint8_t lb[2];
			size_t ml;

			if (evbuffer_copyout(in, lb, 2) != 2)
				break;
			ml = (size_t)lb[0] << 8 | lb[1];
			if (evbuffer_get_length(in) < 2 + ml)
				break;
			evbuffer_drain(in, 2);
			if (evbuffer_remove(in, c->x->rbuf, ml) != (int)ml)
				break;
			dot_answer(c, c->x->rbuf, ml);
			if (c->closing)
				break;
		}
	}
	c->reading = false;
	if (c->closing) {
		xptls_conn_close(c, c->close_why);
		return;
	}
	xptls_conn_arm(c);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	conn_input(arg, bufferevent_get_input(bev));
}

struct tls_conn *
xptls_conn_detached(struct xp_tls *x, size_t server)
{
	struct tls_conn *c;
	char why[100];

	if (server >= x->cfg->nservers || x->srv[server].conn)
		return NULL;
	c = conn_alloc(x, server);
	if (!c)
		return NULL;
	if (x->cfg->servers[server].transport == XPORT_HTTPS &&
	    xphttps_conn_init(c, NULL, why, sizeof(why)) != 0) {
		event_free(c->tmr);
		free(c);
		return NULL;
	}
	c->up = true;
	x->srv[server].conn = c;
	return c;
}

void
xptls_conn_feed(struct tls_conn *c, const uint8_t *data, size_t len)
{
	struct evbuffer *in = evbuffer_new();

	if (!in)
		return;
	evbuffer_add(in, data, len);
	conn_input(c, in);
	evbuffer_free(in);
}

static const char *
conn_error(struct tls_conn *c, short events, char *buf, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	const char *v = !c->up && ssl ? tlsctx_verify_error(ssl) : NULL;
	unsigned long e = bufferevent_get_openssl_error(c->bev);
	int err = EVUTIL_SOCKET_ERROR(), soerr = 0;
	socklen_t sl = sizeof(soerr);
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (v)
		return v;
	/* a socket error (refused, reset, unreachable) says more than
	 * OpenSSL's SSL_ERROR_SYSCALL */
	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
		return strerror(soerr);
	if (e && ERR_GET_LIB(e) == 0 && err)
		return strerror(err);
	if (e && ERR_GET_LIB(e) != 0) {
		char ebuf[256];

		ERR_error_string_n(e, ebuf, sizeof(ebuf));
		snprintf(buf, len, "TLS error: %s", ebuf);
		ERR_clear_error();
		return buf;
	}
	if ((events & BEV_EVENT_ERROR) && err)
		return strerror(err);
	return c->up ? "closed by the server" : "closed during the handshake";
}

static void
conn_event(struct bufferevent *bev, short events, void *arg)
{
	struct tls_conn *c = arg;
	struct xp_tls *x = c->x;
	struct sched_server *sv = &x->sched->servers[c->server];
	char buf[300];

	(void)bev;
	if (events & BEV_EVENT_CONNECTED) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

		sv->handshakes++;
		if (ssl && SSL_session_reused(ssl))
			sv->resumed++;
		if (x->cfg->servers[c->server].transport == XPORT_HTTPS &&
		    xphttps_conn_init(c, ssl, buf, sizeof(buf)) != 0) {
			xptls_conn_close(c, buf);
			return;
		}
		c->up = true;
		if (x->srv[c->server].conn == c)
			srv_state(x, c->server, "connected", "");
		conn_write_queued(c);
		xptls_conn_arm(c);
		return;
	}
	if (events & (BEV_EVENT_ERROR | BEV_EVENT_EOF | BEV_EVENT_TIMEOUT)) {
		/* a server closing an idle connection is no failure */
		if (c->up && c->nreqs == 0 && !(events & BEV_EVENT_ERROR))
			xptls_conn_close(c, NULL);
		else
			xptls_conn_close(c, conn_error(c, events, buf, sizeof(buf)));
	}
}

static int
conn_socket(const struct cfg *cfg, const struct cfg_server *s)
{
	const struct cfg_adapter *a = &cfg->adapters[s->adapter];
	int fd, on = 1;

	fd = socket(s->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (a->device[0] && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, a->device,
	    (socklen_t)strlen(a->device) + 1) != 0)
		goto fail;
	if (a->source.len && bind(fd, (const struct sockaddr *)&a->source.ss,
	    a->source.len) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static struct tls_conn *
conn_open(struct xp_tls *x, size_t server, char *why, size_t whylen)
{
	const struct cfg_server *s = &x->cfg->servers[server];
	struct tls_conn *c = conn_alloc(x, server);
	SSL *ssl = NULL;
	int fd = -1;

	if (!c)
		goto oom;
	fd = conn_socket(x->cfg, s);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		goto fail;
	}
	ssl = tlsctx_new_ssl(x->tls, s, &x->srv[server].ticket,
	    s->transport == XPORT_HTTPS);
	if (!ssl)
		goto oom;
	c->bev = bufferevent_openssl_socket_new(x->base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!c->bev)
		goto oom;
	fd = -1;                /* the bufferevent owns fd and ssl now */
	ssl = NULL;
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (const struct sockaddr *)&s->addr.ss,
	    (int)s->addr.len) != 0) {
		snprintf(why, whylen, "connect: %s", strerror(errno));
		goto fail;
	}
	x->srv[server].conn = c;
	return c;
oom:
	snprintf(why, whylen, "out of memory");
fail:
	if (ssl)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	if (c) {
		if (c->bev)
			bufferevent_free(c->bev);
		if (c->tmr)
			event_free(c->tmr);
		free(c);
	}
	return NULL;
}

/* ---------------- transport ---------------- */

static struct xp_req *
tls_send(void *impl, size_t server, const uint8_t *pkt, size_t len, xp_cb cb, void *arg)
{
	struct xp_tls *x = impl;
	struct tls_srv *s = &x->srv[server];
	bool https = x->cfg->servers[server].transport == XPORT_HTTPS;
	size_t cap = len + MSG_OPT_LEN + 4 + MSG_PAD_BLOCK, n;
	struct xp_req *r;
	char why[200];

	if (len < WIRE_HDR_LEN || len > MSG_MAX)
		return NULL;
	r = calloc(1, sizeof(*r) + 2 + cap);
	if (!r)
		return NULL;
	r->cb = cb;
	r->arg = arg;
	r->slot = -1;
	wire_get16_at(pkt, len, 0, &r->orig_id);
	memcpy(r->pkt + 2, pkt, len);
	n = msg_pad_query(r->pkt + 2, len, cap, MSG_PAD_BLOCK);
	if (n == 0)
		n = len;
	r->pkt[0] = (uint8_t)(n >> 8);
	r->pkt[1] = (uint8_t)n;
	r->len = n + 2;
	r->deadline = clock_now_ms() + x->timeout_ms;
	if (s->conn && s->conn->closing)        /* going: not for new queries */
		xptls_conn_retire(s->conn, s->conn->close_why);
	if (!s->conn && !conn_open(x, server, why, sizeof(why))) {
		srv_state(x, server, "failed: ", why);
		req_link(&x->failing, r);
		event_active(x->fail_ev, EV_TIMEOUT, 0);
		return r;
	}
	if (s->conn->nreqs >= CONN_MAX_PENDING) {
		req_link(&x->failing, r);
		event_active(x->fail_ev, EV_TIMEOUT, 0);
		return r;
	}
	/* RFC 8484 4.1: ID 0 over HTTPS (streams tell answers apart); over
	 * TLS the slot and its generation */
	if (https) {
		r->wire_id = 0;
	} else {
		struct tls_conn *c = s->conn;

		r->slot = c->freeslot[--c->nfree];
		c->slot[r->slot] = r;
		r->wire_id = (uint16_t)((unsigned)c->gen[r->slot] << CONN_SLOT_BITS |
		    (unsigned)r->slot);
	}
	wire_set16_at(r->pkt + 2, n, 0, r->wire_id);
	r->conn = s->conn;
	r->seen = s->conn->nanswers;
	req_link(&s->conn->reqs, r);
	s->conn->nreqs++;
	if (s->conn->up) {
		struct tls_conn *c = s->conn;

		conn_write(c, r);
		if (c->h2)
			xphttps_flush(c);       /* may close c */
	}
	if (s->conn)
		xptls_conn_arm(s->conn);
	return r;
}

static void
tls_cancel(void *impl, struct xp_req *r)
{
	struct tls_conn *c;

	(void)impl;
	if (!r)
		return;
	c = r->conn;
	if (c) {
		xphttps_cancel(c, r);
		conn_release(c, r);
		if (c->nreqs == 0 && !c->reading)
			xptls_conn_arm(c);
	} else {
		req_unlink(r);
	}
	xptls_req_free(r);
}

/* r's phase ended unanswered: a connection that answered nothing since r
 * joined it has stalled; it finishes what it has and the next query opens
 * a new one. */
static void
tls_late(void *impl, struct xp_req *r)
{
	struct tls_conn *c = r ? r->conn : NULL;

	(void)impl;
	if (!c || c->retired || r->seen != c->nanswers)
		return;
	xptls_conn_retire(c, stall_why(c));
	if (!c->reading)
		xptls_conn_arm(c);
}

struct xp
xp_tls_as_xp(struct xp_tls *x)
{
	static const struct xp_ops ops = { tls_send, tls_cancel, tls_late };
	struct xp t = { &ops, x };

	return t;
}

struct xp_tls *
xp_tls_new(struct event_base *base, const struct cfg *cfg, struct tlsctx *tls,
    struct sched *sched, uint32_t timeout_ms)
{
	struct xp_tls *x = calloc(1, sizeof(*x));
	size_t i;

	if (!x)
		return NULL;
	x->base = base;
	x->cfg = cfg;
	x->sched = sched;
	x->timeout_ms = timeout_ms;
	x->tls = tlsctx_ref(tls);
	if (tlsctx_needs_store(cfg)) {
		char why[400];

		/* a link turned DNS over TLS on after start-up */
		if (tlsctx_load_store(tls, why, sizeof(why)) != 0)
			log_err("%s", why);
	}
	x->srv = calloc(cfg->nservers + 1, sizeof(*x->srv));
	x->fail_ev = event_new(base, -1, 0, fail_cb, x);
	if (!x->srv || !x->fail_ev) {
		xp_tls_free(x);
		return NULL;
	}
	for (i = 0; i < cfg->nservers; i++)
		snprintf(x->srv[i].state, sizeof(x->srv[i].state), "idle");
	return x;
}

void
xp_tls_free(struct xp_tls *x)
{
	struct xp_req *r;
	size_t i;

	if (!x)
		return;
	for (i = 0; x->srv && i < x->cfg->nservers; i++) {
		struct tls_conn *c;

		while ((c = x->srv[i].conn ? x->srv[i].conn : x->srv[i].old) != NULL) {
			while ((r = c->reqs) != NULL) {
				req_unlink(r);
				xptls_req_free(r);
			}
			c->nreqs = 0;
			c->reading = false;
			xptls_conn_close(c, NULL);
		}
		if (x->srv[i].ticket.sess)
			SSL_SESSION_free(x->srv[i].ticket.sess);
	}
	while ((r = x->failing) != NULL) {
		req_unlink(r);
		xptls_req_free(r);
	}
	if (x->fail_ev)
		event_free(x->fail_ev);
	free(x->srv);
	tlsctx_unref(x->tls);
	free(x);
}

static bool
same_server(const struct cfg_server *a, const struct cfg_server *b)
{
	return a->transport == b->transport && strcmp(a->text, b->text) == 0 &&
	    strcmp(a->auth_name, b->auth_name) == 0 && strcmp(a->path, b->path) == 0 &&
	    a->insecure == b->insecure && a->npins == b->npins &&
	    memcmp(a->pins, b->pins, a->npins * sizeof(a->pins[0])) == 0;
}

void
xp_tls_inherit(struct xp_tls *to, const struct xp_tls *from)
{
	size_t i, k;

	/* a resumed session skips the certificate check: only under the same
	 * trust store (a network change, not a reload that re-read it) */
	if (to->tls != from->tls)
		return;
	for (i = 0; i < to->cfg->nservers; i++) {
		if (to->cfg->servers[i].transport == XPORT_UDP || to->srv[i].ticket.sess)
			continue;
		for (k = 0; k < from->cfg->nservers; k++) {
			SSL_SESSION *sess = from->srv[k].ticket.sess;

			if (!sess || !same_server(&to->cfg->servers[i], &from->cfg->servers[k]))
				continue;
			if (SSL_SESSION_up_ref(sess) == 1)
				to->srv[i].ticket.sess = sess;
			break;
		}
	}
}

void
xp_tls_state(struct xp_tls *x, size_t server, char *buf, size_t len)
{
	if (!x || server >= x->cfg->nservers) {
		snprintf(buf, len, "idle");
		return;
	}
	snprintf(buf, len, "%s", x->srv[server].state);
}
