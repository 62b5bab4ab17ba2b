/*
 * ddrverify.c - one verifying TLS handshake to a DDR candidate.
 */
#include "auto-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ddrverify.h"
#include "tlsctx.h"
#include "transport_tls.h"

struct ddrverify {
	struct bufferevent *bev;
	struct event *tmr;
	struct cfg_server sv; /* a copy: tlsctx keeps a pointer during the handshake */
	ddrverify_cb cb;
	void *arg;
};

static void
finish(struct ddrverify *v, bool ok, const char *why)
{
	ddrverify_cb cb = v->cb;
	void *arg = v->arg;

	ddrverify_cancel(v);
	cb(arg, ok, why);
}

static void
on_event(struct bufferevent *bev, short events, void *arg)
{
	struct ddrverify *v = arg;
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	const char *vwhy = ssl ? tlsctx_verify_error(ssl) : NULL;
	char buf[200];

	if (events & BEV_EVENT_CONNECTED) {
		const unsigned char *alpn = NULL;
		unsigned alen = 0;

		if (vwhy) {
			finish(v, false, vwhy);
			return;
		}
		if (v->sv.transport == XPORT_HTTPS) {
			SSL_get0_alpn_selected(ssl, &alpn, &alen);
			if (alen != 2 || memcmp(alpn, "h2", 2) != 0) {
				finish(v, false, "no HTTP/2 (ALPN h2) in the handshake");
				return;
			}
		}
		finish(v, true, NULL);
		return;
	}
	if (events & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		evutil_socket_t fd = bufferevent_getfd(bev);

		if (!vwhy && fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
		    soerr) {
			snprintf(buf, sizeof(buf), "%s", strerror(soerr));
			vwhy = buf;
		} else if (!vwhy && e) {
			ERR_error_string_n(e, buf, sizeof(buf));
			vwhy = buf;
		}
		ERR_clear_error();
		finish(v, false, vwhy ? vwhy : "handshake failed");
	}
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg, false, "handshake timed out");
}

struct ddrverify *
ddrverify_start(struct event_base *base, struct tlsctx *tls, const struct cfg *cfg,
    const struct cfg_server *sv, uint32_t timeout_ms, ddrverify_cb cb, void *arg, char *why,
    size_t whylen)
{
	struct ddrverify *v = calloc(1, sizeof(*v));
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	SSL *ssl = NULL;
	int fd = -1;

	if (!v)
		goto oom;
	v->sv = *sv;
	v->cb = cb;
	v->arg = arg;
	v->tmr = evtimer_new(base, on_timeout, v);
	if (!v->tmr)
		goto oom;
	/* read already at start or when the configuration was installed
	 * (tlsctx_wants_store): a no-op then (a store that could not be read
	 * was told at that time; the name check fails) */
	if (tlsctx_load_store(tls, why, whylen) != STUB_OK)
		goto fail;
	fd = tls_socket_for(cfg, &v->sv);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		goto fail;
	}
	ssl = tlsctx_new_ssl(tls, &v->sv, NULL, v->sv.transport == XPORT_HTTPS);
	if (!ssl)
		goto oom;
	v->bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!v->bev)
		goto oom;
	fd = -1;
	ssl = NULL;
	bufferevent_setcb(v->bev, NULL, NULL, on_event, v);
	bufferevent_enable(v->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(v->bev, (const struct sockaddr *)&v->sv.addr.ss,
	        (int)v->sv.addr.len) != 0) {
		snprintf(why, whylen, "connect: %s", strerror(errno));
		goto fail;
	}
	evtimer_add(v->tmr, &tv);
	return v;
oom:
	snprintf(why, whylen, "out of memory");
fail:
	if (ssl)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	if (v)
		ddrverify_cancel(v);
	return NULL;
}

void
ddrverify_cancel(struct ddrverify *v)
{
	if (!v)
		return;
	if (v->bev)
		bufferevent_free(v->bev);
	if (v->tmr)
		event_free(v->tmr);
	free(v);
}
