/*
 * transport_doh.c - DNS over HTTPS (RFC 8484): HTTP/2 POST requests of
 * application/dns-message on a connection of transport_tls.c.
 *
 * A request's stream carries it as nghttp2 stream user data; a cancelled
 * request is unhooked (user data NULL) and its stream reset, so nghttp2
 * never reaches freed memory.  nghttp2_session_send is never called from
 * inside nghttp2's own callbacks (xphttps_flush checks c->reading).
 */
#include "auto-config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "log.h"
#include "wire.h"
#include "transport_doh.h"
#include "transport_tls_impl.h"

#define H2_MAX_STREAMS 100

static struct xp_req *
stream_req(nghttp2_session *s, int32_t stream)
{
	return nghttp2_session_get_stream_user_data(s, stream);
}

static ssize_t
on_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *arg)
{
	struct tls_conn *c = arg;

	(void)s;
	(void)flags;
	if (c->bev && bufferevent_write(c->bev, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

static int
on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
    const uint8_t *value, size_t valuelen, uint8_t flags, void *arg)
{
	struct xp_req *r = stream_req(s, f->hd.stream_id);
	char v[8];

	(void)flags;
	(void)arg;
	if (!r || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (namelen == 12 && memcmp(name, "content-type", 12) == 0) {
		size_t n = valuelen < sizeof(r->ctype) - 1 ? valuelen : sizeof(r->ctype) - 1;

		memcpy(r->ctype, value, n);
		r->ctype[n] = '\0';
		return 0;
	}
	if (namelen != 7 || memcmp(name, ":status", 7) != 0 || valuelen >= sizeof(v))
		return 0;
	memcpy(v, value, valuelen);
	v[valuelen] = '\0';
	r->status = atoi(v);
	return 0;
}

static int
on_data(nghttp2_session *s, uint8_t flags, int32_t stream, const uint8_t *data, size_t len,
    void *arg)
{
	struct xp_req *r = stream_req(s, stream);
	uint8_t *nb;

	(void)flags;
	(void)arg;
	if (!r)
		return 0;
	if (r->h2len + len > MSG_MAX) {
		r->status = -1;         /* larger than any DNS message */
		return 0;
	}
	nb = realloc(r->h2body, r->h2len + len);
	if (!nb) {
		r->status = -1;
		return 0;
	}
	memcpy(nb + r->h2len, data, len);
	r->h2body = nb;
	r->h2len += len;
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
	struct xp_req *r = stream_req(s, stream);
	char why[sizeof(r->ctype) + 32];

	if (!r)
		return 0;
	nghttp2_session_set_stream_user_data(s, stream, NULL);
	r->stream = 0;
	if (code != NGHTTP2_NO_ERROR)
		snprintf(why, sizeof(why), "%s", c->retired && code == NGHTTP2_REFUSED_STREAM ?
		    "GOAWAY" : "stream reset");
	else if (r->status != 200 && r->status > 0)
		snprintf(why, sizeof(why), "HTTP %d", r->status);
	else if (r->status != 200)
		snprintf(why, sizeof(why), "bad answer");
	else if (!dns_message_type(r->ctype))
		snprintf(why, sizeof(why), "content-type %s", r->ctype[0] ? r->ctype : "missing");
	else if (r->h2len < WIRE_HDR_LEN)
		snprintf(why, sizeof(why), "bad answer");
	else {
		/* the answer carries ID 0 like the query: give back the caller's */
		wire_set16_at(r->h2body, r->h2len, 0, r->orig_id);
		xptls_answer(c, r, r->h2body, r->h2len);
		return 0;
	}
	if (log_verbosity() >= 2)
		log_debug("%s: HTTP status %d, stream error %u",
		    c->x->sched->servers[c->server].label, r->status, code);
	/* a failed stream fails its query at once: no answer will come */
	xptls_conn_failed(c, why);
	xptls_fail_req(c->x, r);
	return 0;
}

/* GOAWAY: streams above its last stream ID are closed (refused) by
 * nghttp2 right after this; new queries go to a new connection. */
static int
on_frame(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
	(void)s;
	if (f->hd.type == NGHTTP2_GOAWAY)
		xptls_conn_retire(arg, "GOAWAY");
	return 0;
}

static ssize_t
read_body(nghttp2_session *s, int32_t stream, uint8_t *buf, size_t len, uint32_t *flags,
    nghttp2_data_source *src, void *arg)
{
	struct xp_req *r = stream_req(s, stream);
	size_t left, n;

	(void)src;
	(void)arg;
	if (!r)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	left = r->len - 2 - r->h2sent;
	n = left < len ? left : len;
	memcpy(buf, r->pkt + 2 + r->h2sent, n);
	r->h2sent += n;
	if (r->h2sent == r->len - 2)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

int
xphttps_conn_init(struct tls_conn *c, SSL *ssl, char *why, size_t whylen)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_session *s = NULL;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
	};
	const unsigned char *alpn = NULL;
	unsigned int alen = 0;

	if (ssl) {      /* NULL: a detached connection (fuzzing) */
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
	c->h2 = s;
	return 0;
}

void
xphttps_conn_fini(struct tls_conn *c)
{
	if (c->h2) {
		nghttp2_session_del(c->h2);
		c->h2 = NULL;
	}
}

#define NV(n, v, vl) { (uint8_t *)(uintptr_t)(n), (uint8_t *)(uintptr_t)(v), \
	sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NONE }

void
xphttps_submit(struct tls_conn *c, struct xp_req *r)
{
	const struct cfg_server *sv = &c->x->cfg->servers[c->server];
	const char *auth = sv->auth_name[0] ? sv->auth_name : sv->text;
	char clen[8];
	nghttp2_data_provider body;
	int32_t id;

	snprintf(clen, sizeof(clen), "%zu", r->len - 2);
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
		r->h2sent = 0;
		id = nghttp2_submit_request(c->h2, NULL, hdrs, sizeof(hdrs) / sizeof(hdrs[0]),
		    &body, r);
	}
	if (id < 0) {
		xptls_fail_req(c->x, r);
		return;
	}
	r->stream = id;
	r->written = true;
}

void
xphttps_flush(struct tls_conn *c)
{
	if (!c->h2 || c->reading || c->closing)
		return;
	if (nghttp2_session_send(c->h2) != 0)
		xptls_conn_close_soon(c, "HTTP/2 send failed");
}

void
xphttps_read(struct tls_conn *c, struct evbuffer *in)
{
	size_t n = evbuffer_get_length(in);
	unsigned char *data;
	ssize_t rv;

	if (n == 0)
		return;
	data = evbuffer_pullup(in, -1);
	rv = data ? nghttp2_session_mem_recv(c->h2, data, n) : -1;
	evbuffer_drain(in, n);
	if (rv < 0) {
		xptls_conn_close(c, "HTTP/2 protocol error");
		return;
	}
	if (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2))
		xptls_conn_close(c, c->nreqs ? "HTTP/2 session ended (GOAWAY)" : NULL);
}

void
xphttps_cancel(struct tls_conn *c, struct xp_req *r)
{
	if (!c->h2 || r->stream <= 0)
		return;
	nghttp2_session_set_stream_user_data(c->h2, r->stream, NULL);
	nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, r->stream, NGHTTP2_CANCEL);
	r->stream = 0;
	xphttps_flush(c);
}
