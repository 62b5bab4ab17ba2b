/*
 * metrics.h - `metrics ADDR:PORT` (SPEC 15): GET /metrics over HTTP/1.1
 * with the Prometheus text exposition (exposition.c).
 *
 * A small server of its own on libevent bufferevents, because evhttp in
 * libevent 2.1 cannot bound its connections: at most METRICS_MAX_CONNS at
 * once (accepting pauses beyond), a request must arrive within 5 s and fit
 * 8 KiB, one request per connection.  Touches libevent.
 */
#ifndef STUBD_METRICS_H
#define STUBD_METRICS_H

#include <stddef.h>

#include "config.h"
#include "ctlcmd.h"
#include "err.h"

#define METRICS_MAX_CONNS 8
#define METRICS_REQUEST_MAX 8192

struct event_base;
struct metrics;

/* Listen on addr (bound now: before privileges are dropped). */
enum stub_err metrics_new(struct event_base *base, const struct cfg_sockaddr *addr,
    control_view_fn pull, void *pull_arg, struct metrics **out, char *why, size_t whylen);
void metrics_free(struct metrics *m);

#endif
