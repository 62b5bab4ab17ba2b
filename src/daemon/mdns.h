/*
 * mdns.h - `.local` names and link-local reverse names asked by one-shot
 * multicast DNS (SPEC 19, RFC 6762 section 5.1): a search behind the seam
 * of search.h that the pipeline uses for those names instead of the
 * unicast engine.  Each search sends from a fresh ephemeral port (never
 * 5353) to 224.0.0.251 and ff02::fb on every up interface with multicast
 * (read with getifaddrs when the search starts), accepts only replies
 * from port 5353 on the queried interface from an on-link source, and
 * ends with the first matching answer (TTLs capped at 10 s, the
 * interface kept in the result) or, after the timeout, NXDOMAIN (not
 * cacheable).  At most 256 searches at once (each holds two sockets);
 * beyond, search() fails (the client gets SERVFAIL).
 */
#ifndef STUBD_MDNS_H
#define STUBD_MDNS_H

#include <stdbool.h>
#include <stdint.h>

#include "search.h"
#include "stats.h"

struct event_base;
struct mdns;

/* st: mdns_queries counts every packet sent.  NULL on OOM. */
struct mdns *mdns_new(struct event_base *base, struct stats *st);
/* Searches still running end without calling back. */
void mdns_free(struct mdns *m);
/* How long a search waits (mdns-timeout). */
void mdns_set_timeout(struct mdns *m, uint32_t ms);
/* Interfaces set to MulticastDNS no (off(arg, IFNAME) true) are not asked. */
void mdns_set_skip(struct mdns *m, bool (*off)(void *arg, const char *ifname), void *arg);
struct upstream_if mdns_as_if(struct mdns *m);

#endif
