/*
 * transport_udp.h - the clear-text transport: one c-ares channel per server
 * (UDP, TCP when an answer is truncated), driven from libevent.
 *
 * c-ares never retries on its own here (TRIES=1, a timeout longer than
 * the whole schedule, NOCHECKRESP): every packet is sent by a phase of a
 * search.  Channels are recycled after a bounded number of queries so the
 * UDP source port does not stay fixed.
 */
#ifndef STUBD_XP_UDP_H
#define STUBD_XP_UDP_H

#include <stdint.h>

#include "config.h"
#include "transport.h"

struct event_base;
struct xp_udp;

/* cfg is borrowed (it must outlive the transport); timeout_ms is how long
 * c-ares waits before giving a query up.  NULL on OOM. */
struct xp_udp *xp_udp_new(struct event_base *base, const struct cfg *cfg,
    uint32_t timeout_ms);
/* Pending requests end without calling back. */
void xp_udp_free(struct xp_udp *x);
struct xp xp_udp_as_xp(struct xp_udp *x);

#endif
