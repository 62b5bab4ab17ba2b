/*
 * upstream.h - the upstream engine: one c-ares channel per server, the
 * daemon's own phase timers, answers classified and handed to sched.c.
 *
 * Touches libevent and c-ares.  A struct upstream owns its channels, its
 * sched state and every search it runs.  A search calls its callback
 * exactly once with a final result (and before that at most once with
 * UP_SLOW), never from inside upstream_search(); after the final callback
 * the search is gone.
 */
#ifndef STUBD_UPSTREAM_H
#define STUBD_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "msg.h"
#include "schedule.h"
#include "stats.h"

struct upstream;
struct up_search;

enum up_kind {
	UP_POSITIVE,    /* cache and serve */
	UP_NEGATIVE,    /* serve; cacheable says whether every adapter agreed */
	UP_FAIL,        /* schedule ended without an answer */
	UP_SLOW,        /* the slow_ms deadline passed; the search goes on */
};

struct up_result {
	enum up_kind kind;
	bool cacheable;
	uint8_t *msg;               /* prepared response (OPT removed); callee may edit */
	const struct msg_resp *resp;
	const char *label;          /* answering server "addr:port%adapter" */
};

typedef void (*up_cb)(void *arg, const struct up_result *r);

/* Takes a reference on cfg (cfg_ref) for its lifetime.  Returns NULL on
 * failure with a reason in *why. */
struct upstream *upstream_new(struct event_base *base, struct cfg *cfg,
    struct stats *st, const char **why);
/* Free now if idle, else once the last search ended (searches keep
 * running: used on reload).  */
void upstream_retire(struct upstream *up);
/* Free at once: searches end without calling back (shutdown). */
void upstream_free(struct upstream *up);

/* Start a search for q.  slow_ms > 0: call back UP_SLOW after that long
 * if no final result yet.  Returns NULL on OOM. */
struct up_search *upstream_search(struct upstream *up, const struct msg_query *q,
    uint32_t slow_ms, up_cb cb, void *arg);

struct sched *upstream_sched(struct upstream *up);
size_t upstream_searches(const struct upstream *up);

#endif
