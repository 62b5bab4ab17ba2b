/*
 * stats.h - the daemon's counters (SPEC section 8, "stats").
 * One struct owned by main and passed to the modules that count.
 */
#ifndef STUBD_STATS_H
#define STUBD_STATS_H

#include <stdint.h>

struct stats {
	uint64_t queries, queries_udp, queries_tcp;
	uint64_t cache_hits, cache_misses, negative_hits, hosts_hits;
	uint64_t upstream_queries, upstream_timeouts;
	uint64_t servfail, coalesced;
	uint64_t refused, formerr, notimp, dropped, stale_served;
	uint64_t prefetches;            /* background refreshes started */
	uint64_t start_ms;
};

#endif
