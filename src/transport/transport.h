/*
 * transport.h - how one query packet reaches one server: "send this
 * packet to server i, call back once with the answer or a failure".
 *
 * Behind it: clear text through c-ares (transport_udp.c), DNS over TLS
 * (transport_tls.c) and DNS over HTTPS (transport_doh.c).  The search (upstream.c),
 * the schedule, exclusion and the negative rules never know which one
 * answered: a failure of any kind (refused, reset, bad certificate, wrong
 * pin, HTTP error) is "no answer from that server".
 *
 * The transports are the rows of transports.def: a kind (config.h's
 * enum cfg_transport), its name and default port, its factory.
 * upstream.c makes one transport per kind its servers use.
 *
 * Contract: send() never calls back from inside itself; the callback runs
 * exactly once from the event loop unless cancel() came first.  The
 * answer handed to the callback keeps the ID of the packet sent (a
 * transport that rewrites IDs on the wire restores them) and is valid
 * only during the callback.
 */
#ifndef STUBD_TRANSPORT_H
#define STUBD_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

struct event_base;
struct sched;
struct tlsctx;
struct transport_req;

/* msg NULL: no answer (len 0). */
typedef void (*transport_cb)(void *arg, const uint8_t *msg, size_t len);

/* Per server, reported by its transport (stubctl servers, metrics). */
struct transport_stats {
	uint64_t handshakes; /* encrypted: connections set up */
	uint64_t resumed;    /* of those, resumed from a ticket */
	char state[256];     /* "connected", "idle", "failed: REASON"; "" clear text */
};

struct transport_ops {
	/* Queue pkt (a complete DNS query, ID set) for server `server`.
	 * NULL when it cannot even be queued (out of memory). */
	struct transport_req *(*send)(void *impl, size_t server, const uint8_t *pkt, size_t len,
	    transport_cb cb, void *arg);
	/* The caller lost interest: no callback will come. */
	void (*cancel)(void *impl, struct transport_req *r);
	/* r's phase ended unanswered: the search stopped waiting for it
	 * there.  r stays pending (a late answer is still welcome, and r is
	 * never given up before the whole schedule could have run); a
	 * connection that has answered nothing since r was sent is taken for
	 * stalled and the next packet goes on a new one.  Never calls back
	 * from inside itself.  NULL: nothing to learn (clear text). */
	void (*late)(void *impl, struct transport_req *r);
	/* What the transport counts of server (its own kind's). */
	void (*stats)(void *impl, size_t server, struct transport_stats *out);
	/* Take over what `from` (the same kind, the engine being replaced)
	 * learnt of servers still configured the same: counters, session
	 * tickets.  NULL: nothing. */
	void (*inherit)(void *impl, const void *from);
	/* Pending requests end without calling back. */
	void (*free)(void *impl);
};

struct transport {
	const struct transport_ops *ops;
	void *impl;
};

/* What a factory gets: all borrowed, outliving the transport. */
struct transport_env {
	struct event_base *base;
	const struct cfg *cfg;     /* the transport serves the servers of its kind */
	const struct sched *sched; /* read only: the servers' labels for the log */
	struct tlsctx *tls;        /* encrypted kinds: the TLS context (a reference is taken) */
	uint32_t timeout_ms;       /* a query's longest wait (the whole schedule) */
};

/* Make the transport of one kind (a row of transports.def).  A reason
 * goes to why on failure. */
typedef enum stub_err (*transport_factory)(const struct transport_env *env, struct transport *out,
    char *why, size_t whylen);

/* The factory of kind (NULL for none). */
transport_factory transport_factory_of(enum cfg_transport kind);

#define TRANSPORT(kind, name, port, encrypted, factory) \
	enum stub_err factory(const struct transport_env *env, struct transport *out, char *why, \
	    size_t whylen);
#include "transports.def"
#undef TRANSPORT

#endif
