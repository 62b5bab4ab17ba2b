/*
 * upstream.h - the upstream engine: the daemon's own phase timers, each
 * packet handed to its server's transport (transport.h: c-ares, TLS,
 * HTTPS), answers classified and handed to schedule.c.
 *
 * Touches libevent.  A struct upstream owns its transports, its sched
 * state and every search it runs; searches follow the contract of
 * search.h.
 */
#ifndef STUBD_UPSTREAM_H
#define STUBD_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "msg.h"
#include "schedule.h"
#include "search.h"
#include "stats.h"

struct event_base;
struct tlsctx;
struct transport_stats;
struct upstream;

/* Takes a reference on cfg (cfg_ref) for its lifetime.  A reason goes to
 * why on failure. */
enum stub_err upstream_new(struct event_base *base, struct cfg *cfg, struct stats *st,
    struct tlsctx *tls, struct upstream **out, char *why, size_t whylen);
/* Free now if idle, else once the last search ended (searches keep
 * running: used on reload).  */
void upstream_retire(struct upstream *up);
/* Free at once: searches end without calling back (shutdown). */
void upstream_free(struct upstream *up);

/* The engine behind the pipeline's seam (search.h): searches and
 * cancellation go through it. */
struct upstream_if upstream_as_if(struct upstream *up);

struct sched *upstream_sched(struct upstream *up);

/* SPEC 17, DDR: the discovery table (kept by the owner across engines)
 * and whom to tell when its runtime twins changed (the owner builds a new
 * engine with them, from the event loop; this engine is then retired). */
struct ddr_table;
struct upstream_ddr {
	struct ddr_table *table; /* NULL: no DDR */
	void (*changed)(void *arg);
	void *arg;
};
void upstream_set_ddr(struct upstream *up, const struct upstream_ddr *d);
/* An adapter's link went down (its servers are skipped at once; searches
 * waiting only on it move on) or came back. */
void upstream_set_down(struct upstream *up, size_t adapter, bool down);
/* Take over what the transports of `from` learnt of servers still
 * configured the same way in `to` (a reload or network change): their
 * counters, and the TLS session tickets under the same trust store. */
void upstream_inherit_tickets(struct upstream *to, const struct upstream *from);
/* What server's transport counts (transport.h): handshakes, resumed, and
 * its state, "connected", "idle" or "failed: REASON" ("" clear text). */
void upstream_transport_stats(struct upstream *up, size_t server, struct transport_stats *out);

#endif
