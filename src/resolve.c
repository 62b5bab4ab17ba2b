/*
 * resolve.c - the query pipeline.
 */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hash.h"
#include "log.h"
#include "resolve.h"

#define STALE_AFTER_MS 1800

struct resolver {
	const struct cfg *cfg;
	struct cache *cache;
	const struct hosts *hosts;
	struct upstream *up;
	struct stats *st;
	struct inflight *flights;
	reply_fn reply;
	void *io;
	uint8_t out[MSG_MAX + MSG_OPT_LEN];
};

struct resolver *
resolver_new(const struct cfg *cfg, struct cache *cache, struct stats *st,
    reply_fn reply, void *io)
{
	struct resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cfg = cfg;
	r->cache = cache;
	r->st = st;
	r->reply = reply;
	r->io = io;
	r->flights = inflight_new();
	if (!r->flights) {
		free(r);
		return NULL;
	}
	return r;
}

void
resolver_free(struct resolver *r)
{
	if (!r)
		return;
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
resolver_set_upstream(struct resolver *r, struct upstream *up)
{
	r->up = up;
}

size_t
resolver_inflight(const struct resolver *r)
{
	return inflight_count(r->flights);
}

static size_t
limit_for(const struct msg_query *q, const struct client_ref *ref)
{
	return ref->conn ? MSG_MAX : msg_udp_limit(q);
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

static void
answer_error(struct resolver *r, const struct msg_query *q, const struct client_ref *ref,
    unsigned rcode)
{
	size_t n = msg_error(q, rcode, r->out, sizeof(r->out));

	if (rcode == RCODE_SERVFAIL)
		r->st->servfail++;
	r->reply(r->io, ref, r->out, n);
}

static void
on_upstream(void *arg, const struct up_result *res);

/* Answer from a cache entry (stale: TTL 30, RFC 8767) and count it. */
static void
serve_cached(struct resolver *r, struct cache_entry *e, const struct msg_query *q,
    const struct client_ref *ref, uint64_t now, bool stale)
{
	size_t n = cache_serve(r->cache, e, q, now, stale, limit_for(q, ref), r->out,
	    sizeof(r->out));

	r->st->cache_hits++;
	if (stale)
		r->st->stale_served++;
	if (cache_entry_negative(e))
		r->st->negative_hits++;
	log_query(ref, q, stale ? "stale" : "cache");
	r->reply(r->io, ref, r->out, n);
}

void
resolver_query(struct resolver *r, const uint8_t *pkt, size_t len,
    const struct client_ref *ref, bool tcp)
{
	struct msg_query q;
	enum msg_verdict v = msg_parse_query(pkt, len, &q);
	enum cache_state cst;
	struct cache_entry *e;
	struct flight *f;
	uint64_t now;
	size_t n, limit;

	if (v == MSG_DROP) {
		r->st->dropped++;
		r->reply(r->io, ref, NULL, 0);
		return;
	}
	r->st->queries++;
	if (tcp)
		r->st->queries_tcp++;
	else
		r->st->queries_udp++;
	if (!cfg_acl_match(r->cfg, (const struct sockaddr *)&ref->peer)) {
		r->st->refused++;
		log_query(ref, &q, "REFUSED (not allowed)");
		answer_error(r, &q, ref, RCODE_REFUSED);
		return;
	}
	if (v != MSG_OK) {
		unsigned rcode = v == MSG_NOTIMP ? RCODE_NOTIMP :
		    v == MSG_BADVERS ? 16 : RCODE_FORMERR;

		if (v == MSG_NOTIMP)
			r->st->notimp++;
		else
			r->st->formerr++;
		log_query(ref, &q, v == MSG_NOTIMP ? "NOTIMP" : "FORMERR");
		answer_error(r, &q, ref, rcode);
		return;
	}
	limit = limit_for(&q, ref);
	/* one hash of the name serves the hosts table, the cache and the
	 * in-flight table */
	q.nhash = stub_name_hash(cache_seed(r->cache), q.key, q.qlen);
	q.hash = stub_key_hash(q.nhash, q.qtype, q.qclass, q.do_bit);
	if (r->hosts) {
		n = hosts_answer(r->hosts, &q, r->cfg->hosts_ttl, limit, r->out, sizeof(r->out));
		if (n) {
			r->st->hosts_hits++;
			log_query(ref, &q, "hosts");
			r->reply(r->io, ref, r->out, n);
			return;
		}
	}
	now = clock_now_ms();
	e = cache_lookup(r->cache, &q, now, &cst);
	if (cst == CACHE_FRESH) {
		serve_cached(r, e, &q, ref, now, false);
		return;
	}
	f = inflight_find(r->flights, &q);
	if (f && f->slow_done && cst == CACHE_STALE) {
		/* the search under way is already past the stale deadline */
		serve_cached(r, e, &q, ref, now, true);
		return;
	}
	r->st->cache_misses++;
	if (f) {
		r->st->coalesced++;
		log_query(ref, &q, "coalesced");
		if (inflight_wait(f, &q, ref) != 0)
			answer_error(r, &q, ref, RCODE_SERVFAIL);
		return;
	}
	if (!r->up || inflight_count(r->flights) >= r->cfg->max_inflight) {
		r->st->refused++;
		log_query(ref, &q, "REFUSED (max-inflight)");
		answer_error(r, &q, ref, RCODE_REFUSED);
		return;
	}
	f = inflight_add(r->flights, &q);
	if (!f || inflight_wait(f, &q, ref) != 0) {
		if (f)
			inflight_remove(r->flights, f);
		answer_error(r, &q, ref, RCODE_SERVFAIL);
		return;
	}
	f->owner = r;
	log_query(ref, &q, "upstream");
	f->search = upstream_search(r->up, &q, cst == CACHE_STALE ? STALE_AFTER_MS : 0,
	    on_upstream, f);
	if (!f->search) {
		struct waiter *w = inflight_take_waiters(f);

		inflight_remove(r->flights, f);
		while (w) {
			struct waiter *nx = w->next;

			answer_error(r, &w->q, &w->ref, RCODE_SERVFAIL);
			free(w);
			w = nx;
		}
	}
}

static int
serve_stale(struct resolver *r, struct flight *f)
{
	enum cache_state cst;
	struct cache_entry *e;
	struct waiter *w;
	uint64_t now = clock_now_ms();

	e = cache_lookup(r->cache, &f->q, now, &cst);
	if (cst == CACHE_MISS)
		return 0;
	w = inflight_take_waiters(f);
	while (w) {
		struct waiter *nx = w->next;

		serve_cached(r, e, &w->q, &w->ref, now, cst == CACHE_STALE);
		free(w);
		w = nx;
	}
	return 1;
}

static void
on_upstream(void *arg, const struct up_result *res)
{
	struct flight *f = arg;
	struct resolver *r = f->owner;
	struct waiter *w;

	if (res->kind == UP_SLOW) {
		if (!f->slow_done)
			f->slow_done = serve_stale(r, f) != 0;
		return;
	}
	if (res->kind == UP_FAIL) {
		if (!serve_stale(r, f)) {
			w = inflight_take_waiters(f);
			while (w) {
				struct waiter *nx = w->next;

				answer_error(r, &w->q, &w->ref, RCODE_SERVFAIL);
				free(w);
				w = nx;
			}
		}
		inflight_remove(r->flights, f);
		return;
	}
	{
		const struct msg_resp *m = res->resp;
		size_t nttl = m->nttl < MSG_MAX_TTLS ? m->nttl : MSG_MAX_TTLS;
		bool stored = false;

		if (res->cacheable)
			cache_insert(r->cache, &f->q, res->msg, m, res->label, clock_now_ms(),
			    &stored);
		else
			cache_clamp(r->cache, res->msg, m);
		w = inflight_take_waiters(f);
		while (w) {
			struct waiter *nx = w->next;
			size_t n = msg_serve(res->msg, m->len, m->ttl_off, nttl, 0, -1, &w->q,
			    limit_for(&w->q, &w->ref), r->out, sizeof(r->out));

			r->reply(r->io, &w->ref, r->out, n);
			free(w);
			w = nx;
		}
	}
	inflight_remove(r->flights, f);
}
