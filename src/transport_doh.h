/*
 * transport_doh.h - DNS over HTTPS (RFC 8484) framing: HTTP/2 (nghttp2) on a
 * connection of transport_tls.c, one POST of application/dns-message per query,
 * many streams at once.  Used by transport_tls.c only.
 */
#ifndef STUBD_XP_HTTPS_H
#define STUBD_XP_HTTPS_H

#include <stddef.h>

struct tls_conn;
struct xp_req;
struct evbuffer;
struct ssl_st;

/* The handshake is done: check ALPN h2 (ssl NULL: no check) and start the
 * HTTP/2 session.  Returns 0, or -1 with a reason in why. */
int xphttps_conn_init(struct tls_conn *c, struct ssl_st *ssl, char *why, size_t whylen);
void xphttps_conn_fini(struct tls_conn *c);
/* Open a stream for r (flushed by xphttps_flush). */
void xphttps_submit(struct tls_conn *c, struct xp_req *r);
/* Write what the session has to send. */
void xphttps_flush(struct tls_conn *c);
/* Feed received bytes; answers reach their requests. */
void xphttps_read(struct tls_conn *c, struct evbuffer *in);
/* r leaves c: its stream, if any, is reset. */
void xphttps_cancel(struct tls_conn *c, struct xp_req *r);

#endif
