/*
 * stats.h - the daemon's counters (SPEC section 8, "stats").
 * One struct owned by main and passed to the modules that count.
 */
#ifndef STUBD_STATS_H
#define STUBD_STATS_H

#include <stdint.h>

/* Answer latency per source (SPEC 15, stubd_answer_seconds): bucket upper
 * bounds in ms; the last bucket is +Inf. */
#define LAT_SOURCES 6 /* enum answer_source of resolve.h */
#define LAT_BUCKETS 14
static const double lat_bounds_ms[LAT_BUCKETS - 1] = { 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000,
	2500, 5000, 10000 };

struct latency {
	uint64_t bucket[LAT_SOURCES][LAT_BUCKETS]; /* not cumulative */
	uint64_t count[LAT_SOURCES];
	uint64_t sum_ms[LAT_SOURCES];
};

static inline void
latency_observe(struct latency *l, unsigned source, uint64_t ms)
{
	unsigned b = 0;

	if (source >= LAT_SOURCES)
		return;
	while (b < LAT_BUCKETS - 1 && (double)ms > lat_bounds_ms[b])
		b++;
	l->bucket[source][b]++;
	l->count[source]++;
	l->sum_ms[source] += ms;
}

struct stats {
	uint64_t queries, queries_udp, queries_tcp;
	uint64_t queries_control; /* stubctl query (neither UDP nor TCP) */
	uint64_t cache_hits, cache_misses, negative_hits, hosts_hits;
	uint64_t upstream_queries, upstream_timeouts;
	uint64_t servfail, coalesced;
	uint64_t refused, formerr, notimp, dropped, stale_served;
	uint64_t prefetches;                   /* background refreshes started */
	uint64_t mdns_queries;                 /* multicast DNS packets sent (SPEC 19) */
	uint64_t rebind_blocked;               /* SPEC 18: answers that lost records */
	uint64_t policy_blocked, policy_local; /* SPEC 18: blocked, local data */
	uint64_t start_ms;
	struct latency lat; /* answers by source */
};

#endif
