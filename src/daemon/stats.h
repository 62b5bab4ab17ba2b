/*
 * stats.h - the daemon's counters (SPEC section 8, "stats").
 * One struct owned by main and passed to the modules that count.
 */
#ifndef STUBD_STATS_H
#define STUBD_STATS_H

#include <stdbool.h>
#include <stddef.h>
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

/*
 * SPEC 18: one source of the policy table (a blocklist or allowlist file,
 * or the rule lines of a configuration file) and the answers it decided.
 * An array of them, indexed by the table's source number
 * (policy_source()), is owned by policyload.c, which carries the counts
 * across swaps (by kind and path); the resolver counts into it; stats and
 * the metrics show it.  Bounded: one per configured list or file of rules.
 */
struct pol_counts {
	uint64_t blocked; /* answered blocked by it */
	uint64_t allowed; /* an allow of it decided (the name was not blocked) */
	uint64_t local;   /* answered from its local data (rule ... answer) */
	uint64_t rebind;  /* kept private addresses rebinding protection would
	                   * have taken out, by its allow */
};

struct pol_list_stat {
	char *name;         /* the label: the file's basename, unique among them */
	char *path;         /* as configured */
	const char *kind;   /* "blocklist", "allowlist" or "rules" */
	const char *format; /* "hosts", "domains", ...; NULL for rules */
	uint64_t entries;   /* decisions it added (rules: lines) */
	uint64_t unknown;   /* lines not understood */
	bool loaded;        /* false: not read (missing, or still loading) */
	struct pol_counts c;
};

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
	/* SPEC 18: per source of the policy table (policyload.c's; NULL, 0
	 * without one) */
	struct pol_list_stat *lists;
	size_t nlists;
};

#endif
