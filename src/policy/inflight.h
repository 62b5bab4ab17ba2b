/*
 * inflight.h - questions waiting on upstream, for coalescing (SPEC 4 step 4).
 *
 * Pure: a hash table of flights keyed like the cache (lower-cased name,
 * type, class, DO, CD), each with the clients waiting for it.  Owns its
 * flights and waiters.
 */
#ifndef STUBD_INFLIGHT_H
#define STUBD_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "err.h"
#include "msg.h"
#include "search.h"

/* How to answer one client; owned by the listener, copied by value. */
struct client_ref {
	int fd;     /* UDP socket, or -1 */
	void *conn; /* TCP connection, or NULL */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	uint64_t ctl; /* a control query (stubctl query): its id; 0 = none */
	bool trace;   /* record the packets of its search */
};

struct waiter {
	struct waiter *next;
	struct client_ref ref;
	struct msg_query q;
	uint64_t t0; /* when its query arrived */
	bool joined; /* it joined a search under way (coalesced) */
};

struct flight {
	struct flight *hnext;
	struct waiter *waiters; /* newest first */
	size_t nwaiters;
	struct msg_query q;       /* the question as first asked */
	struct up_search *search; /* the upstream search answering it */
	struct upstream_if via;   /* the upstream that runs the search */
	void *owner;              /* the resolver that started it */
	bool slow_done;           /* stale copy already sent */
	bool prefetch;            /* started by prefetch, not by a client */
	unsigned need;            /* SPEC 18: enum up_need its search was held to */
};

struct inflight;

struct inflight *inflight_new(void);
/* Frees every flight and waiter (their clients are not answered). */
void inflight_free(struct inflight *t);
struct flight *inflight_find(struct inflight *t, const struct msg_query *q);
/* A flight for q whose need holds every bit of need (SPEC 18: a name
 * under `rule ... require` joins only a search held to the rule), or
 * NULL. */
struct flight *inflight_find_need(struct inflight *t, const struct msg_query *q, unsigned need);
/* A new flight for q (q->hash set).  NULL on OOM. */
struct flight *inflight_add(struct inflight *t, const struct msg_query *q);
/* Add a waiting client: STUB_OK or STUB_ENOMEM. */
enum stub_err inflight_wait(struct flight *f, const struct msg_query *q,
    const struct client_ref *ref, uint64_t t0, bool joined);
/* Unlink and free a flight; its waiters must have been taken already. */
void inflight_remove(struct inflight *t, struct flight *f);
/* Take the waiters list (caller frees each with free()). */
struct waiter *inflight_take_waiters(struct flight *f);
/* Visit every flight (fn must not add or remove flights). */
void inflight_foreach(struct inflight *t, void (*fn)(struct flight *f, void *arg), void *arg);
size_t inflight_count(const struct inflight *t);

#endif
