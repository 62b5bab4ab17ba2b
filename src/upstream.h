/*
 * upstream.h - the upstream engine: one c-ares channel per server, the
 * daemon's own phase timers, answers classified and handed to sched.c.
 *
 * Touches libevent and c-ares.  A struct upstream owns its channels, its
 * sched state and every search it runs; searches follow the contract of
 * search.h.
 */
#ifndef STUBD_UPSTREAM_H
#define STUBD_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "msg.h"
#include "schedule.h"
#include "search.h"
#include "stats.h"

struct event_base;
struct upstream;

/* Takes a reference on cfg (cfg_ref) for its lifetime.  Returns NULL on
 * failure with a reason in *why. */
struct upstream *upstream_new(struct event_base *base, struct cfg *cfg,
    struct stats *st, const char **why);
/* Free now if idle, else once the last search ended (searches keep
 * running: used on reload).  */
void upstream_retire(struct upstream *up);
/* Free at once: searches end without calling back (shutdown). */
void upstream_free(struct upstream *up);

/* Start a search for q (see search.h).  Returns NULL on OOM. */
struct up_search *upstream_search(struct upstream *up, const struct msg_query *q,
    uint32_t slow_ms, uint64_t now, up_cb cb, void *arg);
/* End a search without calling back. */
void upstream_cancel(struct upstream *up, struct up_search *s);
/* The engine behind the pipeline's seam (search.h). */
struct upstream_if upstream_as_if(struct upstream *up);

struct sched *upstream_sched(struct upstream *up);
size_t upstream_searches(const struct upstream *up);

#endif
