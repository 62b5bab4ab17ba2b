/*
 * resolve.h - how one client query is answered (SPEC section 4): validate,
 * ACL, hosts, cache, coalescing, upstream; then the answer to every
 * waiting client.
 *
 * Holds no sockets and reads no clock: answers leave through the reply
 * function the listener gives, questions go upstream through the seam of
 * search.h, and the time comes in with every call (`now`, monotonic ms).
 * Every query handed in is answered (or dropped) exactly once through the
 * reply function, immediately or later.  tests/check_resolve.c drives it
 * with a fake upstream and a fake clock.
 */
#ifndef STUBD_RESOLVE_H
#define STUBD_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "hosts.h"
#include "inflight.h"
#include "stats.h"
#include "search.h"
#include "synthname.h"

struct resolver;

/* Where an answer came from (SPEC 15: stubctl query, monitor, metrics). */
enum answer_source {
	SRC_HOSTS = 0,
	SRC_CACHE,
	SRC_STALE,     /* an expired answer (serve-stale) */
	SRC_COALESCED, /* joined a search under way */
	SRC_UPSTREAM,  /* a search of its own (SERVFAIL included) */
	SRC_LOCAL,     /* stubd's own answer: REFUSED, FORMERR, NOTIMP, dropped,
			     * locally served names (localhost, single labels, RFC 6303) */
	SRC_COUNT
};

/* "hosts", "cache", "stale", "coalesced", "upstream", "local". */
const char *answer_source_name(enum answer_source s);

/* What the reply function is told besides the answer. */
struct reply_info {
	enum answer_source source;
	const struct msg_query *q;    /* NULL when the query could not be read */
	uint64_t received, answered;  /* monotonic ms */
	const struct up_trace *trace; /* its search's packets, when traced */
	const char *rule;             /* SPEC 18: the policy rule that decided
					 * ("FILE:LINE"), NULL for none */
	unsigned ifindex;             /* the interface the answer belongs to (mDNS, a
					 * link-local scope; SPEC 16, 19), 0 = none */
};

/* len 0: drop (no answer).  Called exactly once per query. */
typedef void (*reply_fn)(void *io, const struct client_ref *ref, const uint8_t *buf, size_t len,
    const struct reply_info *ri);

/* All borrowed; cfg/hosts/upstream may be swapped with the setters.
 * resolver_free() cancels the searches still running (their clients are
 * not answered). */
struct resolver *resolver_new(const struct cfg *cfg, struct cache *cache, struct stats *st,
    reply_fn reply, void *io);
void resolver_free(struct resolver *r);
void resolver_set_cfg(struct resolver *r, const struct cfg *cfg);
void resolver_set_hosts(struct resolver *r, const struct hosts *h);
/* SPEC 18: the policy table (policy.h; NULL = none, borrowed) and
 * rebind-protection. */
struct policy;
void resolver_set_policy(struct resolver *r, const struct policy *p, bool rebind);
/* Searches already running finish on the upstream they started on. */
void resolver_set_upstream(struct resolver *r, struct upstream_if up);
/* The multicast DNS search for .local names (SPEC 19); impl NULL = none. */
void resolver_set_mdns(struct resolver *r, struct upstream_if m);
/* SPEC 16 (resolved-compat): the host name, _gateway and _outbound
 * answered from the machine's facts, after the hosts file.  names is
 * borrowed (its contents may change between queries); addrs gives the
 * addresses of a kind (synthname.h).  NULL = off. */
struct synth_if {
	const struct synth_names *names;
	size_t (*addrs)(void *arg, enum synth_kind k, struct synth_addr *out, size_t cap);
	void *arg;
};
void resolver_set_synth(struct resolver *r, const struct synth_if *s);

/* One query from a client (tcp: conn in ref), received at now. */
void resolver_query(struct resolver *r, const uint8_t *pkt, size_t len,
    const struct client_ref *ref, bool tcp, uint64_t now);

size_t resolver_inflight(const struct resolver *r);

#endif
