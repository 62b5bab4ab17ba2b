/*
 * resolve.c - the query pipeline (SPEC section 4).
 */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "localzone.h"
#include "log.h"
#include "mdnsmsg.h"
#include "policy.h"
#include "rebind.h"
#include "resolve.h"

/* serve-stale: a stale answer goes out when the search has not answered
 * within this long (SPEC 5b) */
#define STALE_AFTER_MS 1800
#define RCODE_BADVERS 16
#define PREFETCH_SHARE 10 /* prefetches take at most 1/10 of max-inflight */
/* SPEC 18: no server the name's `require` rule allows could answer: 23
 * Network Error (RFC 8914 4.24: no server reachable), as SPEC 17's
 * `encryption require` */
#define EDE_REQUIRE 23

_Static_assert(CACHE_VIA_ENC == UP_NEED_ENC && CACHE_VIA_AD == UP_NEED_AD,
    "cache entries note what a search needed in the same bits");

struct resolver {
	const struct cfg *cfg;
	struct cache *cache;
	const struct hosts *hosts;
	const struct policy *pol; /* SPEC 18 */
	bool rebind;
	int ede;               /* EDE added to the answers of a result, -1 none */
	struct msg_resp rresp; /* a response rewritten by rebinding protection */
	uint8_t rmsg[MSG_MAX];
	struct upstream_if up;
	struct upstream_if mdns; /* .local names (SPEC 19); impl NULL = none */
	struct synth_if synth;   /* SPEC 16: synthesized names; addrs NULL = off */
	struct stats *st;
	struct inflight *flights;
	size_t prefetching; /* flights started by prefetch */
	reply_fn reply;
	void *io;
	uint8_t out[MSG_MAX + MSG_OPT_LEN];
};

/* How the waiters of a flight are answered. */
enum answer_how {
	ANSWER_SERVFAIL, /* the search failed and nothing is cached */
	ANSWER_CACHED,   /* from the cache entry e (fresh or stale) */
	ANSWER_RESULT,   /* from the upstream result res */
};

struct resolver *
resolver_new(const struct cfg *cfg, struct cache *cache, struct stats *st, reply_fn reply, void *io)
{
	struct resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cfg = cfg;
	r->cache = cache;
	r->st = st;
	r->reply = reply;
	r->io = io;
	r->ede = -1;
	r->flights = inflight_new();
	if (!r->flights) {
		free(r);
		return NULL;
	}
	return r;
}

static void
cancel_flight(struct flight *f, void *arg)
{
	(void)arg;
	if (f->search && f->via.ops)
		f->via.ops->cancel(f->via.impl, f->search);
	f->search = NULL;
}

void
resolver_free(struct resolver *r)
{
	if (!r)
		return;
	inflight_foreach(r->flights, cancel_flight, NULL);
	inflight_free(r->flights);
	free(r);
}

void
resolver_set_cfg(struct resolver *r, const struct cfg *cfg)
{
	r->cfg = cfg;
}

void
resolver_set_hosts(struct resolver *r, const struct hosts *h)
{
	r->hosts = h;
}

void
resolver_set_policy(struct resolver *r, const struct policy *p, bool rebind)
{
	r->pol = p;
	r->rebind = rebind;
}

void
resolver_set_upstream(struct resolver *r, struct upstream_if up)
{
	r->up = up;
}

void
resolver_set_mdns(struct resolver *r, struct upstream_if m)
{
	r->mdns = m;
}

/* The upstream that answers q: multicast DNS for .local names (SPEC 19),
 * else the unicast engine. */
void
resolver_set_synth(struct resolver *r, const struct synth_if *s)
{
	if (s)
		r->synth = *s;
	else
		memset(&r->synth, 0, sizeof(r->synth));
}

static struct upstream_if
upstream_for(const struct resolver *r, const struct msg_query *q)
{
	if (r->mdns.impl && mdns_wanted(r->cfg, q->key, q->qlen))
		return r->mdns;
	return r->up;
}

size_t
resolver_inflight(const struct resolver *r)
{
	return inflight_count(r->flights);
}

static size_t
limit_for(const struct msg_query *q, const struct client_ref *ref)
{
	return ref->conn || ref->ctl ? MSG_MAX : msg_udp_limit(q);
}

static void
log_query(const struct client_ref *ref, const struct msg_query *q, const char *how)
{
	char name[WIRE_NAME_TEXT], peer[80], tb[16];

	if (log_verbosity() < 2)
		return;
	if (q->qlen == 0 || !wire_name_to_text(q->qname, q->qlen, name, sizeof(name)))
		strcpy(name, "?");
	cfg_format_sockaddr((const struct sockaddr *)&ref->peer, peer, sizeof(peer));
	log_debug("%s %s %s %s %s", peer, ref->conn ? "tcp" : "udp", name,
	    wire_type_name(q->qtype, tb), how);
}

const char *
answer_source_name(enum answer_source s)
{
	static const char *const names[SRC_COUNT] = { "hosts", "cache", "stale", "coalesced",
		"upstream", "local" };

	return s < SRC_COUNT ? names[s] : "local";
}

/* SPEC 18: the rule that held q's search to some servers ("FILE:LINE"
 * in buf): its `require` rule, else its `adapter` rule; NULL for none. */
static const char *
search_rule(const struct resolver *r, const struct msg_query *q, char *buf, size_t len)
{
	struct pol_match m;

	if (!r->pol || !q || !q->qlen)
		return NULL;
	policy_lookup(r->pol, q->key, q->qlen, &m);
	if (m.require_enc)
		return policy_origin_text(r->pol, m.enc_origin, buf, len);
	if (m.require_ad)
		return policy_origin_text(r->pol, m.ad_origin, buf, len);
	if (m.nadapters)
		return policy_origin_text(r->pol, m.adapter_origin, buf, len);
	return NULL;
}

/* Every answer leaves here: the reply function with what it came from
 * (ifindex: the interface the answer belongs to, 0 = none). */
static void
deliver_scoped(struct resolver *r, const struct client_ref *ref, const struct msg_query *q,
    enum answer_source src, uint64_t t0, uint64_t now, const struct up_trace *trace, size_t n,
    unsigned ifindex)
{
	/* a question that could not be read is no question to report */
	struct reply_info ri = { src, q && q->qlen ? q : NULL, t0, now, trace, NULL, ifindex };
	char rule[512];

	/* stubctl query names the rule an answer from upstream or the cache
	 * was held to (SPEC 18) */
	if (ref->ctl && src != SRC_HOSTS && src != SRC_LOCAL)
		ri.rule = search_rule(r, ri.q, rule, sizeof(rule));
	r->reply(r->io, ref, r->out, n, &ri);
}

static void
deliver(struct resolver *r, const struct client_ref *ref, const struct msg_query *q,
    enum answer_source src, uint64_t t0, uint64_t now, const struct up_trace *trace, size_t n)
{
	deliver_scoped(r, ref, q, src, t0, now, trace, n, 0);
}

/* SPEC 18: the cache entry for q if it may be served to a name whose
 * rule needs `need` (enum up_need): one obtained some other way is a miss
 * for it (never served, not even stale). */
static struct cache_entry *
lookup_fit(struct resolver *r, const struct msg_query *q, unsigned need, uint64_t now,
    enum cache_lookup_result *found)
{
	struct cache_entry *e = cache_lookup(r->cache, q, now, found);

	if (*found != CACHE_MISS && (cache_entry_via(e) & need) != need) {
		*found = CACHE_MISS;
		return NULL;
	}
	return e;
}

/* What `rule ... require` lines ask of the search for q (enum up_need). */
static unsigned
need_of(const struct pol_match *m)
{
	return (m->require_enc ? UP_NEED_ENC : 0) | (m->require_ad ? UP_NEED_AD : 0);
}

/* A hosts answer, for stubd query (SPEC 15/18) with the line that decided
 * it ("FILE:LINE"). */
static void
deliver_hosts(struct resolver *r, const struct client_ref *ref, const struct msg_query *q,
    uint64_t now, size_t n)
{
	struct reply_info ri = { SRC_HOSTS, q, now, now, NULL, NULL, 0 };
	char rule[512];
	unsigned line = ref->ctl ? hosts_line(r->hosts, q) : 0;

	if (line) {
		snprintf(rule, sizeof(rule), "%s:%u", hosts_source(r->hosts), line);
		ri.rule = rule;
	}
	r->reply(r->io, ref, r->out, n, &ri);
}

static void
answer_error(struct resolver *r, const struct msg_query *q, const struct client_ref *ref,
    unsigned rcode, enum answer_source src, uint64_t t0, uint64_t now, const struct up_trace *trace)
{
	size_t n = msg_error(q, rcode, r->out, sizeof(r->out));

	if (rcode == RCODE_SERVFAIL)
		r->st->servfail++;
	deliver(r, ref, q, src, t0, now, trace, n);
}

/* Answer from a cache entry (stale: TTL 30, RFC 8767) and count it. */
static void
answer_cached(struct resolver *r, struct cache_entry *e, const struct msg_query *q,
    const struct client_ref *ref, uint64_t t0, uint64_t now, bool stale,
    const struct up_trace *trace)
{
	size_t n = cache_serve(r->cache, e, q, now, stale, limit_for(q, ref), r->out,
	    sizeof(r->out));

	r->st->cache_hits++;
	if (stale) {
		r->st->stale_served++;
		if (q->edns) /* SPEC 18: EDE 3 Stale Answer */
			n = msg_append_ede(r->out, n, sizeof(r->out), limit_for(q, ref),
			    MSG_EDE_STALE);
	}
	if (cache_entry_negative(e))
		r->st->negative_hits++;
	log_query(ref, q, stale ? "stale" : "cache");
	deliver_scoped(r, ref, q, stale ? SRC_STALE : SRC_CACHE, t0, now, trace, n,
	    cache_entry_ifindex(r->cache, e));
}

/* The one place the clients waiting on a flight are answered. */
static void
answer_waiters(struct resolver *r, struct flight *f, enum answer_how how, struct cache_entry *e,
    bool stale, const struct up_result *res, uint64_t now)
{
	struct waiter *w = inflight_take_waiters(f);
	const struct up_trace *trace = res ? res->trace : NULL;
	size_t nttl = 0;

	if (how == ANSWER_RESULT)
		nttl = res->resp->nttl < MSG_MAX_TTLS ? res->resp->nttl : MSG_MAX_TTLS;
	while (w) {
		struct waiter *nx = w->next;
		enum answer_source src = w->joined ? SRC_COALESCED : SRC_UPSTREAM;
		size_t n;

		switch (how) {
		case ANSWER_SERVFAIL:
			if ((res && res->has_ede) || f->need) {
				/* SPEC 17, 18: why there was no way (EDE) */
				r->st->servfail++;
				deliver(r, &w->ref, &w->q, src, w->t0, now, trace,
				    msg_error_ede(&w->q, RCODE_SERVFAIL,
				        res && res->has_ede ? res->ede : EDE_REQUIRE, r->out,
				        sizeof(r->out)));
				break;
			}
			answer_error(r, &w->q, &w->ref, RCODE_SERVFAIL, src, w->t0, now, trace);
			break;
		case ANSWER_CACHED:
			answer_cached(r, e, &w->q, &w->ref, w->t0, now, stale, trace);
			break;
		case ANSWER_RESULT:
			n = msg_serve(res->msg, res->resp->len, res->resp->ttl_off, nttl, 0, -1,
			    &w->q, limit_for(&w->q, &w->ref), r->out, sizeof(r->out));
			if (r->ede >= 0 && w->q.edns)
				n = msg_append_ede(r->out, n, sizeof(r->out),
				    limit_for(&w->q, &w->ref), (unsigned)r->ede);
			deliver_scoped(r, &w->ref, &w->q, src, w->t0, now, trace, n, res->ifindex);
			break;
		}
		free(w);
		w = nx;
	}
}

static void on_upstream(void *arg, const struct up_result *res);

/* A new flight for q, searched upstream (via, upstream_for's choice)
 * with need (enum up_need, SPEC 18); its first waiter is ref. */
static void
start_search(struct resolver *r, const struct msg_query *q, struct upstream_if via,
    const struct client_ref *ref, bool have_stale, unsigned need, uint64_t now)
{
	struct flight *f = inflight_add(r->flights, q);

	if (!f || inflight_wait(f, q, ref, now, false) != 0) {
		if (f)
			inflight_remove(r->flights, f);
		answer_error(r, q, ref, RCODE_SERVFAIL, SRC_UPSTREAM, now, now, NULL);
		return;
	}
	f->owner = r;
	f->via = via;
	f->need = need;
	log_query(ref, q, "upstream");
	f->search = f->via.ops->search(f->via.impl, q, have_stale ? STALE_AFTER_MS : 0, ref->trace,
	    need, now, on_upstream, f);
	if (!f->search) {
		answer_waiters(r, f, ANSWER_SERVFAIL, NULL, false, NULL, now);
		inflight_remove(r->flights, f);
	}
}

/*
 * Refresh a popular entry before it expires (SPEC 14): a search with no
 * client waiting, its answer going only to the cache.  At most a tenth of
 * max-inflight, and never a second search for the same question.
 */
static void
prefetch(struct resolver *r, const struct msg_query *q, unsigned need, uint64_t now)
{
	struct flight *f;

	if (!upstream_for(r, q).impl || inflight_find(r->flights, q) ||
	    r->prefetching >= (r->cfg->max_inflight + PREFETCH_SHARE - 1) / PREFETCH_SHARE ||
	    inflight_count(r->flights) >= r->cfg->max_inflight)
		return;
	f = inflight_add(r->flights, q);
	if (!f)
		return;
	f->owner = r;
	f->via = upstream_for(r, q);
	f->prefetch = true;
	f->need = need;
	f->search = f->via.ops->search(f->via.impl, q, 0, false, need, now, on_upstream, f);
	if (!f->search) {
		inflight_remove(r->flights, f);
		return;
	}
	r->prefetching++;
	r->st->prefetches++;
}

/*
 * Names stubd answers itself after the hosts file (SPEC 5c): localhost,
 * the loopback PTRs, single labels, resolver.arpa (SPEC 17), and private
 * reverse names nobody configured could know.  True when q was answered.
 */
static bool
local_answer(struct resolver *r, const struct msg_query *q, const struct client_ref *ref,
    uint64_t now)
{
	enum lz_kind k = localzone_kind(q->key, q->qlen);
	size_t n;

	if (k == LZ_NONE)
		return false;
	/* link-local reverse names go to multicast DNS (SPEC 19) */
	if (k == LZ_PRIVATE_REVERSE && r->mdns.impl && mdns_wanted(r->cfg, q->key, q->qlen))
		return false;
	if (k == LZ_PRIVATE_REVERSE && r->up.impl &&
	    (!r->up.ops->may_ask_private ||
	        r->up.ops->may_ask_private(r->up.impl, q->key, q->qlen)))
		return false;
	n = localzone_answer(q, k, r->cfg->hosts_ttl, limit_for(q, ref), r->out, sizeof(r->out));
	log_query(ref, q, "local");
	deliver(r, ref, q, SRC_LOCAL, now, now, NULL, n);
	return true;
}

/* SPEC 18: the counts of source src of the table in place (stats.h), NULL
 * when it has none. */
static struct pol_counts *
src_counts(const struct resolver *r, uint32_t src)
{
	return src < r->st->nlists ? &r->st->lists[src].c : NULL;
}

/*
 * SPEC 16: the host name, _gateway and _outbound, answered from the
 * machine's facts as resolved does (before the single-label rule of the
 * local zone).  True when q was answered.
 */
static bool
synth_local(struct resolver *r, const struct msg_query *q, const struct client_ref *ref,
    uint64_t now)
{
	struct synth_addr v[SYNTH_MAX_ADDRS];
	unsigned ifindex = 0;
	enum synth_kind k;
	size_t n;

	if (!r->synth.addrs || q->qclass != CLASS_IN)
		return false;
	k = synth_kind(r->synth.names, q->key, q->qlen);
	if (k == SYNTH_NONE)
		return false;
	n = r->synth.addrs(r->synth.arg, k == SYNTH_REVERSE ? SYNTH_HOSTNAME : k, v,
	    SYNTH_MAX_ADDRS);
	if (k == SYNTH_REVERSE) {
		/* the machine's or a gateway's address; any other goes on */
		struct synth_addr g[SYNTH_MAX_ADDRS];
		size_t ng = r->synth.addrs(r->synth.arg, SYNTH_GATEWAY, g, SYNTH_MAX_ADDRS);

		n = synth_answer_ptr(q, r->synth.names, v, n, g, ng, r->cfg->hosts_ttl,
		    limit_for(q, ref), r->out, sizeof(r->out));
		if (!n)
			return false;
	} else {
		if (q->qtype == TYPE_AAAA || q->qtype == TYPE_ANY) {
			/* SPEC 16: link-local addresses with their interface,
			 * one per answer (synth_link_scope) */
			struct synth_addr g[SYNTH_MAX_ADDRS];
			size_t ng = r->synth.addrs(r->synth.arg, SYNTH_GATEWAY, g, SYNTH_MAX_ADDRS);

			ifindex = synth_link_scope(v, &n, g, ng);
		}
		n = synth_answer(q, k, v, n, r->cfg->hosts_ttl, limit_for(q, ref), r->out,
		    sizeof(r->out));
	}
	log_query(ref, q, "synthesized");
	deliver_scoped(r, ref, q, SRC_LOCAL, now, now, NULL, n, ifindex);
	return true;
}

/*
 * SPEC 18: a hosts name, a blocked name or a name with local data answers
 * every type itself, never upstream.  True when q was answered; else
 * *need says what its `require` rules ask of a search (enum up_need).
 */
static bool
policy_local(struct resolver *r, const struct msg_query *q, const struct client_ref *ref,
    uint64_t now, unsigned *need)
{
	struct reply_info ri = { SRC_LOCAL, q, now, now, NULL, NULL, 0 };
	struct pol_counts *pc;
	struct pol_match m;
	char rule[512];
	size_t n;

	*need = 0;
	if (r->pol) {
		policy_lookup(r->pol, q->key, q->qlen, &m);
		*need = need_of(&m);
	}
	if (q->qclass != CLASS_IN)
		return false;
	if (hosts_has_name(r->hosts, q)) {
		n = msg_synth(q, NULL, 0, r->cfg->hosts_ttl, limit_for(q, ref), r->out,
		    sizeof(r->out));
		r->st->hosts_hits++;
		log_query(ref, q, "hosts (NODATA)");
		deliver_hosts(r, ref, q, now, n);
		return true;
	}
	if (!r->pol)
		return false;
	pc = src_counts(r, m.origin.src);
	if (m.verdict == POL_ALLOW && pc)
		pc->allowed++;
	if (m.verdict != POL_BLOCK && m.verdict != POL_ANSWER)
		return false;
	n = policy_answer(r->pol, &m, q, r->cfg->hosts_ttl, limit_for(q, ref), r->out,
	    sizeof(r->out));
	if (ref->ctl) /* only stubctl query shows it (as deliver_hosts) */
		ri.rule = policy_origin_text(r->pol, m.origin, rule, sizeof(rule));
	if (m.verdict == POL_BLOCK)
		r->st->policy_blocked++;
	else
		r->st->policy_local++;
	if (pc && m.verdict == POL_BLOCK)
		pc->blocked++;
	else if (pc)
		pc->local++;
	log_query(ref, q, m.verdict == POL_BLOCK ? "blocked" : "local data");
	r->reply(r->io, ref, r->out, n, &ri);
	return true;
}

void
resolver_query(struct resolver *r, const uint8_t *pkt, size_t len, const struct client_ref *ref,
    bool tcp, uint64_t now)
{
	struct msg_query q;
	enum msg_verdict v = msg_parse_query(pkt, len, &q);
	enum cache_lookup_result found;
	struct cache_entry *e;
	struct flight *f;
	struct upstream_if via;
	unsigned need;
	size_t n;

	if (v == MSG_DROP) {
		struct reply_info ri = { SRC_LOCAL, NULL, now, now, NULL, NULL, 0 };

		r->st->dropped++;
		r->reply(r->io, ref, NULL, 0, &ri);
		return;
	}
	r->st->queries++;
	if (ref->ctl)
		r->st->queries_control++;
	else if (tcp)
		r->st->queries_tcp++;
	else
		r->st->queries_udp++;
	/* a control query (stubctl query) was let in by the control socket */
	if (!ref->ctl && !cfg_acl_match(r->cfg, (const struct sockaddr *)&ref->peer)) {
		r->st->refused++;
		log_query(ref, &q, "REFUSED (not allowed)");
		n = msg_error(&q, RCODE_REFUSED, r->out, sizeof(r->out));
		if (q.edns) /* SPEC 18: EDE 18 Prohibited */
			n = msg_append_ede(r->out, n, sizeof(r->out), limit_for(&q, ref),
			    MSG_EDE_PROHIBITED);
		deliver(r, ref, &q, SRC_LOCAL, now, now, NULL, n);
		return;
	}
	if (v != MSG_OK) {
		unsigned rcode = v == MSG_NOTIMP ? RCODE_NOTIMP :
		    v == MSG_BADVERS             ? RCODE_BADVERS :
		                                   RCODE_FORMERR;

		if (v == MSG_NOTIMP)
			r->st->notimp++;
		else
			r->st->formerr++;
		log_query(ref, &q, v == MSG_NOTIMP ? "NOTIMP" : "FORMERR");
		answer_error(r, &q, ref, rcode, SRC_LOCAL, now, now, NULL);
		return;
	}
	/* one hash of the name serves the hosts table, the cache and the
	 * in-flight table */
	q.nhash = stub_name_hash(cache_seed(r->cache), q.key, q.qlen);
	q.hash = stub_key_hash(q.nhash, q.qtype, q.qclass, q.do_bit, q.cd_bit);
	if (r->hosts) {
		n = hosts_answer(r->hosts, &q, r->cfg->hosts_ttl, limit_for(&q, ref), r->out,
		    sizeof(r->out));
		if (n) {
			r->st->hosts_hits++;
			log_query(ref, &q, "hosts");
			deliver_hosts(r, ref, &q, now, n);
			return;
		}
	}
	if (policy_local(r, &q, ref, now, &need))
		return;
	if (synth_local(r, &q, ref, now))
		return;
	if (local_answer(r, &q, ref, now))
		return;
	e = lookup_fit(r, &q, need, now, &found);
	if (found == CACHE_FRESH) {
		answer_cached(r, e, &q, ref, now, now, false, NULL);
		if (r->cfg->prefetch && cache_entry_prefetch_due(e, now))
			prefetch(r, &q, need, now);
		return;
	}
	f = inflight_find_need(r->flights, &q, need);
	if (f && f->slow_done && found == CACHE_STALE) {
		/* the search under way is already past the stale deadline */
		answer_cached(r, e, &q, ref, now, now, true, NULL);
		return;
	}
	r->st->cache_misses++;
	if (f) {
		r->st->coalesced++;
		log_query(ref, &q, "coalesced");
		if (inflight_wait(f, &q, ref, now, true) != 0)
			answer_error(r, &q, ref, RCODE_SERVFAIL, SRC_COALESCED, now, now, NULL);
		return;
	}
	via = upstream_for(r, &q); /* once: the .local test walks the name */
	if (!via.impl || inflight_count(r->flights) >= r->cfg->max_inflight) {
		r->st->refused++;
		log_query(ref, &q, "REFUSED (max-inflight)");
		answer_error(r, &q, ref, RCODE_REFUSED, SRC_LOCAL, now, now, NULL);
		return;
	}
	if (need && r->mdns.impl && via.impl == r->mdns.impl) {
		/* SPEC 18: multicast DNS is neither encrypted nor trusted for AD */
		r->st->servfail++;
		log_query(ref, &q, "SERVFAIL (rule: no server qualifies)");
		deliver(r, ref, &q, SRC_UPSTREAM, now, now, NULL,
		    msg_error_ede(&q, RCODE_SERVFAIL, EDE_REQUIRE, r->out, sizeof(r->out)));
		return;
	}
	start_search(r, &q, via, ref, found == CACHE_STALE, need, now);
}

/* Answer the waiters from the cache (fresh or stale) if it has the
 * question; false when it has nothing. */
static bool
answer_from_cache(struct resolver *r, struct flight *f, uint64_t now)
{
	enum cache_lookup_result found;
	struct cache_entry *e = lookup_fit(r, &f->q, f->need, now, &found);

	if (found == CACHE_MISS)
		return false;
	answer_waiters(r, f, ANSWER_CACHED, e, found == CACHE_STALE, NULL, now);
	return true;
}

/* Is name under one of n domains? */
static bool
under_any(const struct msg_query *q, const struct cfg_domain *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (wire_name_under(q->key, q->qlen, d[i].name, d[i].len))
			return true;
	return false;
}

/*
 * SPEC 18: rebinding protection.  Is q's name exempt: under an allow rule,
 * or under a routing or search domain of the adapter that answered (label
 * "addr:port%adapter")?  A link's domains, search or routing-only, are
 * all its routing domains; resolv-file's search domains are search-only.
 */
static bool
rebind_exempt(const struct resolver *r, const struct msg_query *q, const char *label)
{
	const char *pct = label ? strrchr(label, '%') : NULL;
	const struct cfg_adapter *ad;
	struct pol_match m;
	long a;

	if (r->pol) {
		policy_lookup(r->pol, q->key, q->qlen, &m);
		if (m.under_allow)
			return true;
	}
	if (!pct || (a = cfg_adapter_find(r->cfg, pct + 1)) < 0)
		return false;
	ad = &r->cfg->adapters[a];
	return under_any(q, ad->domains, ad->ndomains) || under_any(q, ad->search, ad->nsearch);
}

/* The result with private addresses taken out (into r->rmsg), or res
 * itself when nothing was; an answer left empty is NODATA, not cached,
 * and its clients get EDE 17. */
static const struct up_result *
rebind_check(struct resolver *r, struct flight *f, const struct up_result *res,
    struct up_result *tmp)
{
	uint8_t qn[WIRE_NAME_MAX];
	struct wire_rd rd;
	unsigned removed;
	uint16_t id;
	size_t len, ql;

	if (!r->rebind || res->kind != UP_POSITIVE || rebind_exempt(r, &f->q, res->label))
		return res;
	/* multicast DNS (SPEC 19) answers `local` only from sources on the
	 * queried link: its names are the link's own, private by nature */
	if (r->mdns.impl && f->via.impl == r->mdns.impl)
		return res;
	if (rebind_filter(res->msg, res->resp->len, r->rmsg, sizeof(r->rmsg), &len, &removed) !=
	        STUB_OK ||
	    removed == 0)
		return res;
	wire_rd_init(&rd, r->rmsg, len);
	wire_seek(&rd, WIRE_HDR_LEN);
	ql = wire_name(&rd, qn);
	if (!wire_get16_at(r->rmsg, len, 0, &id) || ql == 0 ||
	    msg_store_prepare(r->rmsg, len, id, qn, ql, f->q.qtype, f->q.qclass, &r->rresp) !=
	        STUB_OK)
		return res;
	r->st->rebind_blocked++;
	*tmp = *res;
	tmp->msg = r->rmsg;
	tmp->resp = &r->rresp;
	if (!r->rresp.positive) {
		uint16_t flags;

		/* NODATA with EDE 17 (Filtered); not cached */
		tmp->kind = UP_NEGATIVE;
		tmp->cacheable = false;
		if (wire_get16_at(r->rmsg, len, 2, &flags))
			wire_set16_at(r->rmsg, len, 2, (uint16_t)(flags & ~0xf));
		r->ede = MSG_EDE_FILTERED;
	}
	return tmp;
}

/* SPEC 18, per list: an allow that kept private addresses rebinding
 * protection would have taken out is counted for its list. */
static void
count_rebind_allowed(struct resolver *r, const struct flight *f, const struct up_result *res)
{
	struct pol_counts *pc;
	struct pol_match m;
	unsigned removed = 0;
	size_t len;

	if (!r->rebind || !r->pol || r->st->nlists == 0 || res->kind != UP_POSITIVE)
		return;
	policy_lookup(r->pol, f->q.key, f->q.qlen, &m);
	if (m.verdict != POL_ALLOW || !(pc = src_counts(r, m.origin.src)))
		return;
	if (rebind_filter(res->msg, res->resp->len, r->rmsg, sizeof(r->rmsg), &len, &removed) ==
	        STUB_OK &&
	    removed)
		pc->rebind++;
}

static void
on_upstream(void *arg, const struct up_result *res)
{
	struct flight *f = arg;
	struct resolver *r = f->owner;
	struct up_result tmp;

	switch (res->kind) {
	case UP_SLOW:
		if (!f->slow_done)
			f->slow_done = answer_from_cache(r, f, res->now);
		return;
	case UP_AGAIN: /* SPEC 17: once more, on the engine that replaced it */
		f->via = upstream_for(r, &f->q);
		f->search = f->via.ops->search(f->via.impl, &f->q, 0, res->trace != NULL, f->need,
		    res->now, on_upstream, f);
		if (f->search)
			return;
		answer_waiters(r, f, ANSWER_SERVFAIL, NULL, false, NULL, res->now);
		break;
	case UP_FAIL:
		if (!answer_from_cache(r, f, res->now))
			answer_waiters(r, f, ANSWER_SERVFAIL, NULL, false, res, res->now);
		break;
	case UP_POSITIVE:
	case UP_NEGATIVE:
		count_rebind_allowed(r, f, res);
		res = rebind_check(r, f, res, &tmp);
		if (res->cacheable) {
			bool stored = false;

			cache_insert_full(r->cache, &f->q, res->msg, res->resp, res->label,
			    res->via, res->ifindex, res->now, &stored);
		} else {
			cache_clamp(r->cache, res->msg, res->resp);
		}
		answer_waiters(r, f, ANSWER_RESULT, NULL, false, res, res->now);
		r->ede = -1;
		break;
	}
	f->search = NULL;
	if (f->prefetch)
		r->prefetching--;
	inflight_remove(r->flights, f);
}
