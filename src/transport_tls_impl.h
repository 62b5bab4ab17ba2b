/*
 * transport_tls_impl.h - what transport_tls.c (connections, DoT framing) and
 * transport_doh.c (HTTP/2 framing on the same connections) share.  Not for
 * other modules.
 */
#ifndef STUBD_XP_TLS_IMPL_H
#define STUBD_XP_TLS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "tlsctx.h"
#include "transport.h"
#include "transport_tls.h"

struct bufferevent;
struct event;
struct evbuffer;

struct xp_req {
	struct tls_conn *conn;        /* NULL: on the failing list */
	struct xp_req *next, **pprev; /* on exactly one list */
	xp_cb cb;
	void *arg;
	uint64_t deadline;            /* monotonic ms: given up (the whole schedule) */
	unsigned seen;                /* its connection's answers when it joined */
	uint16_t orig_id;             /* restored in the answer */
	uint16_t wire_id;             /* as sent (0 over HTTPS) */
	int slot;                     /* DoT: its slot on the connection, -1 = none */
	bool written;
	int32_t stream;               /* HTTPS: its HTTP/2 stream, 0 = none yet */
	int status;                   /* HTTPS: :status of the response */
	char ctype[64];               /* HTTPS: its content-type, "" = none */
	uint8_t *h2body;              /* HTTPS: response body so far */
	size_t h2len;
	size_t h2sent;                /* HTTPS: bytes of the query body sent */
	size_t len;                   /* of pkt: 2-byte length, then the query */
	uint8_t pkt[];
};

struct tls_conn {
	struct xp_tls *x;
	size_t server;
	struct bufferevent *bev;
	struct event *tmr;            /* query deadline or idle limit */
	bool up;                      /* handshake done, peer checked */
	bool reading;                 /* inside conn_read */
	bool closing;                 /* close when conn_read returns (or at once) */
	const char *close_why;
	/* retired: no longer its server's connection (it stalled, or GOAWAY);
	 * it keeps the queries it has until they end, takes no new ones */
	bool retired;
	struct tls_conn *onext;       /* on its server's list of retired ones */
	unsigned nanswers;            /* answers given: progress */
	unsigned nbad;                /* bad frames since the last answer */
	struct xp_req *reqs;
	size_t nreqs;
	/* DoT: the requests by slot; the wire ID is the slot number and a
	 * generation, so an answer finds its request at once and a late
	 * answer to a slot's previous request is not taken for the next */
	struct xp_req *slot[CONN_MAX_PENDING];
	uint8_t gen[CONN_MAX_PENDING];
	uint16_t freeslot[CONN_MAX_PENDING];
	size_t nfree;
	void *h2;                     /* HTTPS: nghttp2_session */
};

struct tls_srv {
	struct tls_conn *conn;        /* takes new queries */
	struct tls_conn *old;         /* retired, still finishing (newest first) */
	struct tls_ticket ticket;
	char state[256];              /* "idle", "connected", "failed: ..." */
};

struct xp_tls {
	struct event_base *base;
	const struct cfg *cfg;
	struct tlsctx *tls;
	struct sched *sched;
	uint32_t timeout_ms;
	struct tls_srv *srv;          /* per server of cfg */
	struct xp_req *failing;
	struct event *fail_ev;
	uint8_t rbuf[MSG_MAX + 1];
};

void xptls_fail_req(struct xp_tls *x, struct xp_req *r);
void xptls_req_free(struct xp_req *r);
void xptls_answer(struct tls_conn *c, struct xp_req *r, const uint8_t *msg, size_t len);
void xptls_conn_arm(struct tls_conn *c);
/* A connection without a socket, already up (HTTP/2 started for an
 * https server), taking server's new queries; bytes from the server are
 * given with xptls_conn_feed.  For fuzzing the framing.  NULL on OOM or
 * when the server has a connection. */
struct tls_conn *xptls_conn_detached(struct xp_tls *x, size_t server);
/* Bytes as if they came from the server (c may be closed by them). */
void xptls_conn_feed(struct tls_conn *c, const uint8_t *data, size_t len);
/* Close c; why != NULL fails its queries and says why (see transport_tls.c). */
void xptls_conn_close(struct tls_conn *c, const char *why);
/* The same from the event loop: safe anywhere, c stays valid until then. */
void xptls_conn_close_soon(struct tls_conn *c, const char *why);
/* c takes no new queries (the next one opens a new connection) and
 * finishes those it has; the server's state says why (NULL: unchanged). */
void xptls_conn_retire(struct tls_conn *c, const char *why);
/* One query on c failed for why: the server's state says so when c is
 * its connection. */
void xptls_conn_failed(struct tls_conn *c, const char *why);

#endif
