/*
 * transport_doh.c - DNS over HTTPS (RFC 8484): the framing of DoH on the
 * connection of transport_tls.c: HTTP/2 (nghttp2), one POST of
 * application/dns-message per query, many streams at once.  The query
 * carries ID 0 (RFC 8484 4.1): streams tell answers apart.
 *
 * A request's stream carries it as nghttp2 stream user data; a cancelled
 * request is unhooked (user data NULL) and its stream reset, so nghttp2
 * never reaches freed memory.  nghttp2_session_send is never called from
 * inside nghttp2's own callbacks (tls_conn_flush checks that).
 *
 * The row XPORT_HTTPS of transports.def; its factory is transport_doh_create.
 */
#include "auto-config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "log.h"
#include "msg.h"
#include "wire.h"
#include "transport_tls.h"

#define H2_MAX_STREAMS 100

/* A request's stream: the response so far (tls_req_fdata). */
struct doh_req {
	int status;     /* :status of the response */
	char ctype[64]; /* its content-type, "" = none */
	uint8_t *body;  /* response body so far */
	size_t len;
	size_t sent; /* bytes of the query body sent */
};

static nghttp2_session *
h2(struct tls_conn *c)
{
	return *tls_conn_fstate(c);
}

static struct transport_req *
stream_req(nghttp2_session *s, int32_t stream)
{
	return nghttp2_session_get_stream_user_data(s, stream);
}

static struct doh_req *
stream_of(struct transport_req *r)
{
	return *tls_req_fdata(r);
}

static ssize_t
on_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *arg)
{
	struct tls_conn *c = arg;

	(void)s;
	(void)flags;
	if (tls_conn_write(c, data, len) != STUB_OK)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

static int
on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
    const uint8_t *value, size_t valuelen, uint8_t flags, void *arg)
{
	struct transport_req *r = stream_req(s, f->hd.stream_id);
	struct doh_req *d;
	char v[8];

	(void)flags;
	(void)arg;
	if (!r || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	d = stream_of(r);
	if (namelen == 12 && memcmp(name, "content-type", 12) == 0) {
		size_t n = valuelen < sizeof(d->ctype) - 1 ? valuelen : sizeof(d->ctype) - 1;

		memcpy(d->ctype, value, n);
		d->ctype[n] = '\0';
		return 0;
	}
	if (namelen != 7 || memcmp(name, ":status", 7) != 0 || valuelen >= sizeof(v))
		return 0;
	memcpy(v, value, valuelen);
	v[valuelen] = '\0';
	d->status = atoi(v);
	return 0;
}

static int
on_data(nghttp2_session *s, uint8_t flags, int32_t stream, const uint8_t *data, size_t len,
    void *arg)
{
	struct transport_req *r = stream_req(s, stream);
	struct doh_req *d;
	uint8_t *nb;

	(void)flags;
	(void)arg;
	if (!r)
		return 0;
	d = stream_of(r);
	if (d->len + len > MSG_MAX) {
		d->status = -1; /* larger than any DNS message */
		return 0;
	}
	nb = realloc(d->body, d->len + len);
	if (!nb) {
		d->status = -1;
		return 0;
	}
	memcpy(nb + d->len, data, len);
	d->body = nb;
	d->len += len;
	return 0;
}

/* RFC 8484 4.2.1: application/dns-message, any case, parameters allowed. */
static bool
dns_message_type(const char *v)
{
	static const char want[] = "application/dns-message";
	size_t n = sizeof(want) - 1;

	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, want, n) != 0)
		return false;
	v += n;
	while (*v == ' ' || *v == '\t')
		v++;
	return *v == '\0' || *v == ';';
}

static int
on_close(nghttp2_session *s, int32_t stream, uint32_t code, void *arg)
{
	struct tls_conn *c = arg;
	struct transport_req *r = stream_req(s, stream);
	struct doh_req *d;
	char why[sizeof(d->ctype) + 32];

	if (!r)
		return 0;
	d = stream_of(r);
	nghttp2_session_set_stream_user_data(s, stream, NULL);
	*tls_req_handle(r) = 0;
	if (code != NGHTTP2_NO_ERROR)
		snprintf(why, sizeof(why), "%s",
		    tls_conn_retired(c) && code == NGHTTP2_REFUSED_STREAM ? "GOAWAY" :
		                                                            "stream reset");
	else if (d->status != 200 && d->status > 0)
		snprintf(why, sizeof(why), "HTTP %d", d->status);
	else if (d->status != 200)
		snprintf(why, sizeof(why), "bad answer");
	else if (!dns_message_type(d->ctype))
		snprintf(why, sizeof(why), "content-type %s", d->ctype[0] ? d->ctype : "missing");
	else if (d->len < WIRE_HDR_LEN)
		snprintf(why, sizeof(why), "bad answer");
	else {
		/* the answer carries ID 0 like the query: the caller's comes back */
		tls_conn_answer(c, r, d->body, d->len);
		return 0;
	}
	if (log_verbosity() >= 2)
		log_debug("%s: HTTP status %d, stream error %u", tls_conn_label(c), d->status,
		    code);
	/* a failed stream fails its query at once: no answer will come */
	tls_conn_fail_req(c, r, why);
	return 0;
}

/* GOAWAY: streams above its last stream ID are closed (refused) by
 * nghttp2 right after this; new queries go to a new connection. */
static int
on_frame(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
	(void)s;
	if (f->hd.type == NGHTTP2_GOAWAY)
		tls_conn_retire(arg, "GOAWAY");
	return 0;
}

static ssize_t
read_body(nghttp2_session *s, int32_t stream, uint8_t *buf, size_t len, uint32_t *flags,
    nghttp2_data_source *src, void *arg)
{
	struct transport_req *r = stream_req(s, stream);
	struct doh_req *d;
	const uint8_t *msg;
	size_t mlen, left, n;

	(void)src;
	(void)arg;
	if (!r)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	d = stream_of(r);
	msg = tls_req_msg(r, &mlen);
	left = mlen - d->sent;
	n = left < len ? left : len;
	memcpy(buf, msg + d->sent, n);
	d->sent += n;
	if (d->sent == mlen)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int
doh_conn_init(struct tls_conn *c, SSL *ssl, char *why, size_t whylen)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_session *s = NULL;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
	};
	const unsigned char *alpn = NULL;
	unsigned int alen = 0;

	if (ssl) { /* NULL: a detached connection (fuzzing) */
		SSL_get0_alpn_selected(ssl, &alpn, &alen);
		if (alen != 2 || memcmp(alpn, "h2", 2) != 0) {
			snprintf(why, whylen, "server did not agree to HTTP/2 (ALPN h2)");
			return -1;
		}
	}
	if (nghttp2_session_callbacks_new(&cbs) != 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	nghttp2_session_callbacks_set_send_callback(cbs, on_send);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
	if (nghttp2_session_client_new(&s, cbs, c) != 0) {
		nghttp2_session_callbacks_del(cbs);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	nghttp2_session_callbacks_del(cbs);
	if (nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) != 0) {
		nghttp2_session_del(s);
		snprintf(why, whylen, "HTTP/2 settings refused");
		return -1;
	}
	*tls_conn_fstate(c) = s;
	return 0;
}

static void
doh_conn_fini(struct tls_conn *c)
{
	void **st = tls_conn_fstate(c);

	if (*st) {
		nghttp2_session_del(*st);
		*st = NULL;
	}
}

/* RFC 8484 4.1: ID 0 (streams tell answers apart). */
static int
doh_req_join(struct tls_conn *c, struct transport_req *r, uint16_t *wire_id)
{
	(void)c;
	(void)r;
	*wire_id = 0;
	return 0;
}

static void
doh_req_free(struct transport_req *r)
{
	struct doh_req *d = stream_of(r);

	if (d) {
		free(d->body);
		free(d);
	}
}

#define NV(n, v, vl) \
	{ \
		(uint8_t *)(uintptr_t)(n), (uint8_t *)(uintptr_t)(v), sizeof(n) - 1, (vl), \
		    NGHTTP2_NV_FLAG_NONE \
	}

static int
doh_write(struct tls_conn *c, struct transport_req *r)
{
	const struct cfg_server *sv = tls_conn_server(c);
	const char *auth = sv->auth_name[0] ? sv->auth_name : sv->text;
	struct doh_req *d = stream_of(r);
	char clen[8];
	nghttp2_data_provider body;
	size_t mlen;
	int32_t id;

	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d)
			return -1;
		*tls_req_fdata(r) = d;
	}
	(void)tls_req_msg(r, &mlen);
	snprintf(clen, sizeof(clen), "%zu", mlen);
	{
		const nghttp2_nv hdrs[] = {
			NV(":method", "POST", 4),
			NV(":scheme", "https", 5),
			NV(":authority", auth, strlen(auth)),
			NV(":path", sv->path, strlen(sv->path)),
			NV("content-type", "application/dns-message", 23),
			NV("accept", "application/dns-message", 23),
			NV("content-length", clen, strlen(clen)),
		};

		body.source.ptr = NULL;
		body.read_callback = read_body;
		d->sent = 0;
		id = nghttp2_submit_request(h2(c), NULL, hdrs, sizeof(hdrs) / sizeof(hdrs[0]),
		    &body, r);
	}
	if (id < 0)
		return -1;
	*tls_req_handle(r) = id;
	return 0;
}

/* Called only when c may write (tls_conn_flush). */
static void
doh_flush(struct tls_conn *c)
{
	if (!h2(c))
		return;
	if (nghttp2_session_send(h2(c)) != 0)
		tls_conn_close_soon(c, "HTTP/2 send failed");
}

static void
doh_read(struct tls_conn *c, struct evbuffer *in)
{
	size_t n = evbuffer_get_length(in);
	unsigned char *data;
	ssize_t rv;

	if (n == 0)
		return;
	data = evbuffer_pullup(in, -1);
	rv = data ? nghttp2_session_mem_recv(h2(c), data, n) : -1;
	evbuffer_drain(in, n);
	if (rv < 0) {
		tls_conn_close(c, "HTTP/2 protocol error");
		return;
	}
	if (!nghttp2_session_want_read(h2(c)) && !nghttp2_session_want_write(h2(c)))
		tls_conn_close(c, tls_conn_nreqs(c) ? "HTTP/2 session ended (GOAWAY)" : NULL);
}

static void
doh_cancel(struct tls_conn *c, struct transport_req *r)
{
	int32_t *stream = tls_req_handle(r);

	if (!h2(c) || *stream <= 0)
		return;
	nghttp2_session_set_stream_user_data(h2(c), *stream, NULL);
	nghttp2_submit_rst_stream(h2(c), NGHTTP2_FLAG_NONE, *stream, NGHTTP2_CANCEL);
	*stream = 0;
	tls_conn_flush(c);
}

static const struct tls_framing doh = {
	.kind = XPORT_HTTPS,
	.alpn_h2 = true,
	.conn_init = doh_conn_init,
	.conn_fini = doh_conn_fini,
	.req_join = doh_req_join,
	.write = doh_write,
	.flush = doh_flush,
	.read = doh_read,
	.cancel = doh_cancel,
	.req_free = doh_req_free,
};

enum stub_err
transport_doh_create(const struct transport_env *env, struct transport *out, char *why,
    size_t whylen)
{
	return transport_tls_create(env, &doh, out, why, whylen);
}
