/*
 * transport_tls.h - the TLS connection under the encrypted transports,
 * on libevent's OpenSSL bufferevents, and the framing interface its two
 * users implement: DNS over TLS (transport_dot.c, RFC 7858) and DNS over
 * HTTPS (transport_doh.c, RFC 8484 on HTTP/2).  The connection knows
 * nothing of either: what goes on the wire and how an answer finds its
 * query is the framing's.
 *
 * One connection per server, opened on the first query and kept while
 * idle (CONN_IDLE_MS), carrying many queries at once whose answers may
 * come in any order; a reconnect resumes the TLS session from the last
 * ticket.  A connection that fails or dies fails its queries ("no answer"
 * from that server) and is never replaced by clear text.  One that
 * answered nothing while a query waited out its phase (transport_ops.late), or
 * that the framing retires (GOAWAY), is retired: it finishes its queries
 * (each bounded by the whole schedule, never re-armed by newer ones) and
 * the next query opens a new connection.
 */
#ifndef STUBD_TRANSPORT_TLS_H
#define STUBD_TRANSPORT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "transport.h"

#define CONN_IDLE_MS 30000    /* an idle connection is closed after */
#define CONN_MAX_PENDING 1024 /* queries waiting on one connection (2^10) */
#define CONN_MAX_RETIRED 4    /* retired connections still finishing, per server */

struct evbuffer;
struct ssl_st;
struct tls_conn;
struct transport_req;

/*
 * A framing: how queries and answers travel on a connection.  Its state
 * per connection is *tls_conn_fstate(c), per request *tls_req_fdata(r)
 * and tls_req_handle(r); it owns both.
 */
struct tls_framing {
	enum cfg_transport kind; /* the servers it is for */
	bool alpn_h2;            /* ask for HTTP/2 in the handshake */
	/* The handshake is done (ssl NULL: a detached connection): check the
	 * peer and set up.  0, or -1 with a reason in why. */
	int (*conn_init)(struct tls_conn *c, struct ssl_st *ssl, char *why, size_t whylen);
	/* c closes: free its state. */
	void (*conn_fini)(struct tls_conn *c);
	/* r joins c (before or after the handshake): *wire_id is the ID r
	 * carries on the wire.  0, or -1: r fails (out of memory). */
	int (*req_join)(struct tls_conn *c, struct transport_req *r, uint16_t *wire_id);
	/* r leaves c (answered, failed, cancelled).  NULL: nothing to do. */
	void (*req_leave)(struct tls_conn *c, struct transport_req *r);
	/* Put r on the wire (c is up).  0, or -1: r failed. */
	int (*write)(struct tls_conn *c, struct transport_req *r);
	/* Send what is pending (only when c may write).  NULL: nothing. */
	void (*flush)(struct tls_conn *c);
	/* Bytes from the server; answers go to tls_conn_answer. */
	void (*read)(struct tls_conn *c, struct evbuffer *in);
	/* The caller gave r up while on c (cancel, deadline).  NULL: nothing. */
	void (*cancel)(struct tls_conn *c, struct transport_req *r);
	/* r is freed: its framing data with it.  NULL: nothing. */
	void (*req_free)(struct transport_req *r);
};

/* The transport of the servers of cfg using framing f (the others are
 * never sent to); env as in transport.h. */
enum stub_err transport_tls_create(const struct transport_env *env, const struct tls_framing *f,
    struct transport *out, char *why, size_t whylen);

/* A non-blocking stream socket for server s of cfg, bound to its
 * adapter's device and source address; -1 with errno. */
int tls_socket_for(const struct cfg *cfg, const struct cfg_server *s);

/* ---- for framings ---- */

/* The server c talks to, and how the log names it. */
const struct cfg_server *tls_conn_server(const struct tls_conn *c);
const char *tls_conn_label(const struct tls_conn *c);
/* The framing's state on c (NULL until it sets it). */
void **tls_conn_fstate(struct tls_conn *c);
size_t tls_conn_nreqs(const struct tls_conn *c);
bool tls_conn_retired(const struct tls_conn *c);
/* c closes when the framing's read returns: read no further. */
bool tls_conn_closing(const struct tls_conn *c);
/* Bytes to the server (nothing on a detached connection); STUB_ENOMEM. */
enum stub_err tls_conn_write(struct tls_conn *c, const void *data, size_t len);
/* Call the framing's flush when c may write now (not inside its read,
 * not closing). */
void tls_conn_flush(struct tls_conn *c);
/* r's answer (ID restored here to the caller's); r is freed. */
void tls_conn_answer(struct tls_conn *c, struct transport_req *r, uint8_t *msg, size_t len);
/* An answer nobody waits for came: bad when not a late one (a connection
 * sending garbage is taken for stalled). */
void tls_conn_unexpected(struct tls_conn *c, bool bad);
/* One query on c failed for why: it fails now, and the server's state
 * says so when c is its connection. */
void tls_conn_fail_req(struct tls_conn *c, struct transport_req *r, const char *why);
/* Close c; why != NULL fails its queries and says why.  Inside the
 * framing's read, the close happens when it returns. */
void tls_conn_close(struct tls_conn *c, const char *why);
/* The same from the event loop: safe anywhere, c stays valid until then. */
void tls_conn_close_soon(struct tls_conn *c, const char *why);
/* c takes no new queries (the next one opens a new connection) and
 * finishes those it has; the server's state says why (NULL: unchanged). */
void tls_conn_retire(struct tls_conn *c, const char *why);

/* The query as sent: the DNS message (padded, wire ID set), and with its
 * two-byte length in front (DoT). */
const uint8_t *tls_req_msg(const struct transport_req *r, size_t *len);
const uint8_t *tls_req_frame(const struct transport_req *r, size_t *len);
uint16_t tls_req_wire_id(const struct transport_req *r);
bool tls_req_written(const struct transport_req *r);
/* The framing's per-request handle (DoT: slot, DoH: stream) and data. */
int32_t *tls_req_handle(struct transport_req *r);
void **tls_req_fdata(struct transport_req *r);

/* ---- for fuzzing the framings ---- */

/* A connection without a socket, already up (the framing set up with ssl
 * NULL), taking server's new queries; bytes from the server are given
 * with tls_conn_feed.  NULL on OOM or when the server has a connection. */
struct tls_conn *tls_conn_detached(void *impl, size_t server);
/* Bytes as if they came from the server (c may be closed by them). */
void tls_conn_feed(struct tls_conn *c, const uint8_t *data, size_t len);
/* The server's current connection, or NULL. */
struct tls_conn *tls_conn_of(void *impl, size_t server);

#endif
