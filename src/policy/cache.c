/*
 * cache.c - hash table + LRU list + expiry heap.
 */
#include "auto-config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "err.h"
#include "hash.h"
#include "list.h"
#include "wire.h"

#define LABELS_MAX 4096

struct cache_entry {
	struct cache_entry *hnext; /* hash chain */
	struct list lru;           /* on c->lru, first = most recent */
	uint64_t hash;
	uint64_t stored; /* ms */
	uint64_t expire; /* ms */
	uint32_t heap_idx;
	uint32_t orig_ttl;
	uint32_t hits;
	uint16_t msglen;
	uint16_t nttl;
	uint16_t qtype, qclass;
	uint16_t label; /* upstream label index */
	uint8_t keylen;
	uint8_t flags;
	/* key (keylen) | pad to 2 | ttl offsets (nttl * 2) | msg (msglen) */
	uint8_t data[];
};

#define EF_DO 0x01
#define EF_NEG 0x02
#define EF_NXDOMAIN 0x04
#define EF_REF 0x08 /* used since it last reached the LRU tail */
#define EF_CD 0x10  /* asked with CD (checking disabled) */
/* SPEC 18: what the answer was obtained through (enum up_need of its
 * server): served for a name under `rule ... require` only when set */
#define EF_VIA_ENC 0x20 /* an authenticated tls/https server */
#define EF_VIA_AD 0x40  /* a server trusted for AD */

struct cache {
	struct cache_cfg cfg;
	uint64_t seed;
	struct cache_entry **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	struct list lru; /* struct cache_entry, most recent first */
	struct cache_entry **heap;
	size_t heap_cap;
	uint64_t evictions;
	uint64_t bytes; /* sum of entry_cost() over the entries */
	/* who answered, interned: the upstream label and the interface the
	 * answer belongs to (mDNS, a link-local scope), so an entry holds
	 * both in its 16-bit label index */
	struct clabel {
		char *text;
		unsigned ifindex;
	} labels[LABELS_MAX];
	size_t nlabels;
};

static inline const uint8_t *
e_key(const struct cache_entry *e)
{
	return e->data;
}

static inline size_t
e_off_ttl(const struct cache_entry *e)
{
	return ((size_t)e->keylen + 1) & ~(size_t)1;
}

static inline const uint16_t *
e_ttls(const struct cache_entry *e)
{
	return (const uint16_t *)(const void *)(e->data + e_off_ttl(e));
}

static inline uint8_t *
e_msg(struct cache_entry *e)
{
	return e->data + e_off_ttl(e) + (size_t)e->nttl * 2;
}

static inline const uint8_t *
e_cmsg(const struct cache_entry *e)
{
	return e->data + e_off_ttl(e) + (size_t)e->nttl * 2;
}

struct cache_cfg
cache_cfg_from(const struct cfg *c)
{
	struct cache_cfg cc = {
		.max_entries = c->cache_size,
		.max_bytes = c->cache_memory,
		.min_ttl = c->min_ttl,
		.max_ttl = c->max_ttl,
		.max_negative_ttl = c->max_negative_ttl,
		.negative_ttl = c->negative_ttl,
		.serve_stale = c->serve_stale,
	};

	return cc;
}

struct cache *
cache_new(const struct cache_cfg *cfg, uint64_t seed)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->seed = seed;
	c->nbuckets = 1024;
	list_init(&c->lru);
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	return c;
}

void
cache_free(struct cache *c)
{
	struct list *p, *n;
	size_t i;

	if (!c)
		return;
	list_for_each_safe(p, n, &c->lru) free(list_entry(p, struct cache_entry, lru));
	for (i = 0; i < c->nlabels; i++)
		free(c->labels[i].text);
	free(c->buckets);
	free(c->heap);
	free(c);
}

uint64_t
cache_hash(const struct cache *c, const uint8_t *key, size_t klen, uint16_t qtype, uint16_t qclass,
    bool do_bit, bool cd_bit)
{
	return stub_key_hash(stub_name_hash(c ? c->seed : 0, key, klen), qtype, qclass, do_bit,
	    cd_bit);
}

uint64_t
cache_seed(const struct cache *c)
{
	return c ? c->seed : 0;
}

/* What one entry takes: its allocation as malloc sized it, malloc's
 * header, its hash bucket and heap slot (both arrays grow with count). */
static size_t
entry_cost(struct cache_entry *e)
{
	return malloc_usable_size(e) + sizeof(size_t) + 2 * sizeof(void *);
}

/* ---- heap (by expiry) ---- */

static void
heap_swap(struct cache *c, size_t a, size_t b)
{
	struct cache_entry *t = c->heap[a];

	c->heap[a] = c->heap[b];
	c->heap[b] = t;
	c->heap[a]->heap_idx = (uint32_t)a;
	c->heap[b]->heap_idx = (uint32_t)b;
}

static void
heap_up(struct cache *c, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (c->heap[p]->expire <= c->heap[i]->expire)
			break;
		heap_swap(c, p, i);
		i = p;
	}
}

static void
heap_down(struct cache *c, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < c->count && c->heap[l]->expire < c->heap[m]->expire)
			m = l;
		if (r < c->count && c->heap[r]->expire < c->heap[m]->expire)
			m = r;
		if (m == i)
			break;
		heap_swap(c, i, m);
		i = m;
	}
}

/* ---- removal ---- */

static void
unlink_entry(struct cache *c, struct cache_entry *e)
{
	struct cache_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
	size_t i, last;

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	list_remove(&e->lru);
	/* heap: move the last into e's slot; count is the heap size */
	i = e->heap_idx;
	last = c->count - 1;
	if (i != last) {
		c->heap[i] = c->heap[last];
		c->heap[i]->heap_idx = (uint32_t)i;
	}
	c->count--;
	if (i < c->count) {
		struct cache_entry *m = c->heap[i];

		heap_up(c, i);
		heap_down(c, m->heap_idx);
	}
	c->bytes -= entry_cost(e);
	free(e);
}

static void lru_front(struct cache *c, struct cache_entry *e);

/*
 * Expired entries go first; else the least recently used.  Recency is kept
 * the CLOCK way: a hit only sets EF_REF (no list surgery on the hit path,
 * which would touch two more entries' memory); an entry found referenced
 * at the tail gets a second chance at the head.
 */
static void
evict_one(struct cache *c, uint64_t now)
{
	struct cache_entry *victim;
	size_t spins = 0;

	if (c->count == 0)
		return;
	if (c->heap[0]->expire <= now) {
		victim = c->heap[0];
	} else {
		victim = list_entry(c->lru.prev, struct cache_entry, lru);
		while ((victim->flags & EF_REF) && spins++ < c->count) {
			victim->flags &= (uint8_t)~EF_REF;
			lru_front(c, victim);
			victim = list_entry(c->lru.prev, struct cache_entry, lru);
		}
	}
	unlink_entry(c, victim);
	c->evictions++;
}

void
cache_set_cfg(struct cache *c, const struct cache_cfg *cfg, uint64_t now)
{
	c->cfg = *cfg;
	while (c->count > c->cfg.max_entries || (c->count && c->bytes > c->cfg.max_bytes))
		evict_one(c, now);
}

static void
lru_front(struct cache *c, struct cache_entry *e)
{
	list_remove(&e->lru);
	list_push_front(&c->lru, &e->lru);
}

static struct cache_entry *
find(struct cache *c, uint64_t hash, const uint8_t *key, size_t klen, uint16_t qtype,
    uint16_t qclass, bool do_bit, bool cd_bit)
{
	struct cache_entry *e = c->buckets[hash & (c->nbuckets - 1)];

	for (; e; e = e->hnext)
		if (e->hash == hash && e->keylen == klen && e->qtype == qtype &&
		    e->qclass == qclass && !!(e->flags & EF_DO) == do_bit &&
		    !!(e->flags & EF_CD) == cd_bit && memcmp(e_key(e), key, klen) == 0)
			return e;
	return NULL;
}

struct cache_entry *
cache_lookup(struct cache *c, const struct msg_query *q, uint64_t now,
    enum cache_lookup_result *found)
{
	struct cache_entry *e;

	*found = CACHE_MISS;
	if (!c || !q || c->count == 0)
		return NULL;
	e = find(c, q->hash, q->key, q->qlen, q->qtype, q->qclass, q->do_bit, q->cd_bit);
	if (!e)
		return NULL;
	if (now < e->expire) {
		*found = CACHE_FRESH;
	} else if (c->cfg.serve_stale && now < e->expire + (uint64_t)c->cfg.serve_stale * 1000) {
		*found = CACHE_STALE;
	} else {
		unlink_entry(c, e);
		return NULL;
	}
	if (!(e->flags & EF_REF))
		e->flags |= EF_REF;
	return e;
}

size_t
cache_serve(struct cache *c, struct cache_entry *e, const struct msg_query *q, uint64_t now,
    bool stale, size_t limit, uint8_t *out, size_t cap)
{
	uint32_t age = now > e->stored ? (uint32_t)((now - e->stored) / 1000) : 0;

	(void)c;
	e->hits++;
	return msg_serve(e_cmsg(e), e->msglen, e_ttls(e), e->nttl, age, stale ? 30 : -1, q, limit,
	    out, cap);
}

bool
cache_entry_prefetch_due(const struct cache_entry *e, uint64_t now)
{
	uint64_t life = (uint64_t)e->orig_ttl * 1000;

	return e->hits >= 2 && now < e->expire && life > 0 && (e->expire - now) * 10 <= life;
}

unsigned
cache_entry_via(const struct cache_entry *e)
{
	return ((e->flags & EF_VIA_ENC) ? CACHE_VIA_ENC : 0) |
	    ((e->flags & EF_VIA_AD) ? CACHE_VIA_AD : 0);
}

unsigned
cache_entry_ifindex(const struct cache *c, const struct cache_entry *e)
{
	return c && e && e->label < c->nlabels ? c->labels[e->label].ifindex : 0;
}

bool
cache_entry_negative(const struct cache_entry *e)
{
	return (e->flags & EF_NEG) != 0;
}

static bool
lifetime(const struct cache *c, const struct msg_resp *r, uint32_t *life)
{
	if (r->tc)
		return false;
	if (r->positive) {
		uint32_t t = r->min_answer_ttl > 0x7fffffff ? 0 : r->min_answer_ttl;

		if (t == 0)
			return false; /* relayed, not cached */
		if (t < c->cfg.min_ttl)
			t = c->cfg.min_ttl;
		if (t > c->cfg.max_ttl)
			t = c->cfg.max_ttl;
		*life = t;
		return t > 0;
	}
	if (r->negative) {
		uint32_t t;

		if (r->has_soa) {
			t = r->soa_ttl < r->soa_minimum ? r->soa_ttl : r->soa_minimum;
			if (t > 0x7fffffff)
				t = 0;
			if (t > c->cfg.max_negative_ttl)
				t = c->cfg.max_negative_ttl;
		} else {
			t = c->cfg.negative_ttl;
		}
		/* a CNAME chain ending in NODATA/NXDOMAIN: no longer than
		 * its records */
		if (r->has_ttl && (r->min_answer_ttl > 0x7fffffff ? 0 : r->min_answer_ttl) < t)
			t = r->min_answer_ttl > 0x7fffffff ? 0 : r->min_answer_ttl;
		*life = t;
		return t > 0;
	}
	return false;
}

void
cache_clamp(const struct cache *c, uint8_t *msg, const struct msg_resp *r)
{
	size_t n = r->nttl < MSG_MAX_TTLS ? r->nttl : MSG_MAX_TTLS;
	uint32_t life;

	if (r->positive) {
		msg_clamp_ttls(msg, r->len, r->ttl_off, n, c->cfg.min_ttl, c->cfg.max_ttl);
	} else if (r->negative && lifetime(c, r, &life)) {
		msg_clamp_ttls(msg, r->len, r->ttl_off, n, 0, life);
	}
}

static uint16_t
intern_label(struct cache *c, const char *label, unsigned ifindex)
{
	size_t i;

	if (!label)
		label = "";
	if (!*label && !ifindex)
		return 0xffff;
	for (i = 0; i < c->nlabels; i++)
		if (c->labels[i].ifindex == ifindex && strcmp(c->labels[i].text, label) == 0)
			return (uint16_t)i;
	if (c->nlabels >= LABELS_MAX)
		return 0xffff;
	c->labels[c->nlabels].text = strdup(label);
	if (!c->labels[c->nlabels].text)
		return 0xffff;
	c->labels[c->nlabels].ifindex = ifindex;
	return (uint16_t)c->nlabels++;
}

static enum stub_err
grow_table(struct cache *c)
{
	size_t n = c->nbuckets * 2, i;
	struct cache_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return STUB_ENOMEM;
	for (i = 0; i < c->nbuckets; i++) {
		struct cache_entry *e = c->buckets[i], *next;

		for (; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
	return STUB_OK;
}

static enum stub_err store(struct cache *c, const struct msg_query *q, const uint8_t *msg,
    const struct msg_resp *r, const char *upstream, unsigned via, unsigned ifindex,
    uint64_t stored_ms, uint64_t expire_ms, uint32_t life, uint64_t now, bool *stored);

enum stub_err
cache_insert_full(struct cache *c, const struct msg_query *q, uint8_t *msg,
    const struct msg_resp *r, const char *upstream, unsigned via, unsigned ifindex, uint64_t now,
    bool *stored)
{
	uint32_t life = 0;

	*stored = false;
	if (!c || !q || !msg || !r)
		return STUB_EINVAL;
	cache_clamp(c, msg, r);
	if (!lifetime(c, r, &life))
		return STUB_OK;
	return store(c, q, msg, r, upstream, via, ifindex, now, now + (uint64_t)life * 1000, life,
	    now, stored);
}

enum stub_err
cache_insert(struct cache *c, const struct msg_query *q, uint8_t *msg, const struct msg_resp *r,
    const char *upstream, uint64_t now, bool *stored)
{
	return cache_insert_full(c, q, msg, r, upstream, 0, 0, now, stored);
}

enum stub_err
cache_insert_via(struct cache *c, const struct msg_query *q, uint8_t *msg, const struct msg_resp *r,
    const char *upstream, unsigned via, uint64_t now, bool *stored)
{
	return cache_insert_full(c, q, msg, r, upstream, via, 0, now, stored);
}

enum stub_err
cache_insert_scoped(struct cache *c, const struct msg_query *q, uint8_t *msg,
    const struct msg_resp *r, const char *upstream, unsigned ifindex, uint64_t now, bool *stored)
{
	return cache_insert_full(c, q, msg, r, upstream, 0, ifindex, now, stored);
}

enum stub_err
cache_restore(struct cache *c, const struct msg_query *q, const uint8_t *msg,
    const struct msg_resp *r, const char *upstream, unsigned via, uint64_t stored_ms,
    uint64_t expire_ms, uint32_t orig_ttl, uint64_t now, bool *stored)
{
	*stored = false;
	if (!c || !q || !msg || !r || r->tc || !(r->positive || r->negative) ||
	    expire_ms <= stored_ms || orig_ttl == 0)
		return STUB_EINVAL;
	return store(c, q, msg, r, upstream, via, 0, stored_ms, expire_ms, orig_ttl, now, stored);
}

/* Put a copy of msg in the cache with these times (ms) and lifetime. */
static enum stub_err
store(struct cache *c, const struct msg_query *q, const uint8_t *msg, const struct msg_resp *r,
    const char *upstream, unsigned via, unsigned ifindex, uint64_t stored_ms, uint64_t expire_ms,
    uint32_t life, uint64_t now, bool *stored)
{
	struct cache_entry *e, *old;
	size_t offttl, size, cost;
	uint32_t hits = 0;

	if (c->cfg.max_entries == 0 || r->nttl > MSG_MAX_TTLS || r->len > 65535)
		return STUB_OK;
	old = find(c, q->hash, q->key, q->qlen, q->qtype, q->qclass, q->do_bit, q->cd_bit);
	if (old) {
		/* a refreshed answer keeps its popularity (prefetch counts hits) */
		hits = old->hits;
		unlink_entry(c, old);
	}
	while (c->count >= c->cfg.max_entries)
		evict_one(c, now);
	if (c->count + 1 > c->heap_cap) {
		size_t ncap = c->heap_cap ? c->heap_cap * 2 : 1024;
		struct cache_entry **h = realloc(c->heap, ncap * sizeof(*h));

		if (!h)
			return STUB_ENOMEM;
		c->heap = h;
		c->heap_cap = ncap;
	}
	if (c->count >= c->nbuckets && c->nbuckets < ((size_t)1 << 30))
		grow_table(c); /* on failure chains just get longer */
	offttl = (q->qlen + 1) & ~(size_t)1;
	size = sizeof(*e) + offttl + r->nttl * 2 + r->len;
	e = malloc(size);
	if (!e)
		return STUB_ENOMEM;
	cost = entry_cost(e);
	if (cost > c->cfg.max_bytes) {
		free(e); /* larger than the whole budget: relayed only */
		return STUB_OK;
	}
	while (c->count && c->bytes + cost > c->cfg.max_bytes)
		evict_one(c, now);
	memset(e, 0, sizeof(*e));
	e->hash = q->hash;
	e->stored = stored_ms;
	e->expire = expire_ms;
	e->orig_ttl = life;
	e->msglen = (uint16_t)r->len;
	e->nttl = (uint16_t)r->nttl;
	e->qtype = q->qtype;
	e->qclass = q->qclass;
	e->keylen = (uint8_t)q->qlen;
	e->label = intern_label(c, upstream, ifindex);
	e->hits = hits;
	if (q->do_bit)
		e->flags |= EF_DO;
	if (q->cd_bit)
		e->flags |= EF_CD;
	if (r->negative)
		e->flags |= EF_NEG;
	if (r->rcode == RCODE_NXDOMAIN)
		e->flags |= EF_NXDOMAIN;
	if (via & CACHE_VIA_ENC)
		e->flags |= EF_VIA_ENC;
	if (via & CACHE_VIA_AD)
		e->flags |= EF_VIA_AD;
	memcpy(e->data, q->key, q->qlen);
	if (r->nttl)
		memcpy(e->data + offttl, r->ttl_off, r->nttl * 2);
	memcpy(e_msg(e), msg, r->len);
	/* link */
	e->hnext = c->buckets[e->hash & (c->nbuckets - 1)];
	c->buckets[e->hash & (c->nbuckets - 1)] = e;
	list_push_front(&c->lru, &e->lru);
	e->heap_idx = (uint32_t)c->count;
	c->heap[c->count++] = e;
	heap_up(c, e->heap_idx);
	c->bytes += cost;
	*stored = true;
	return STUB_OK;
}

size_t
cache_flush_from(struct cache *c, const uint8_t *name, size_t namelen, bool negative_only,
    size_t pos, size_t max_entries, size_t *dropped)
{
	size_t seen = 0;

	if (!c)
		return CACHE_END;
	for (; pos < c->nbuckets && seen < max_entries; pos++) {
		struct cache_entry *e = c->buckets[pos], *n;

		for (; e; e = n, seen++) {
			n = e->hnext;
			if (negative_only && !(e->flags & EF_NEG))
				continue;
			if (name && !wire_name_under(e_key(e), e->keylen, name, namelen))
				continue;
			unlink_entry(c, e);
			(*dropped)++;
		}
	}
	return pos < c->nbuckets ? pos : CACHE_END;
}

size_t
cache_flush(struct cache *c, const uint8_t *name, size_t namelen, bool negative_only)
{
	size_t dropped = 0;

	cache_flush_from(c, name, namelen, negative_only, 0, SIZE_MAX, &dropped);
	return dropped;
}

size_t
cache_distrust_ad(struct cache *c)
{
	size_t pos, n = 0;

	if (!c)
		return 0;
	for (pos = 0; pos < c->nbuckets; pos++) {
		struct cache_entry *e;

		for (e = c->buckets[pos]; e; e = e->hnext) {
			/* no longer good for `rule ... require ad` either */
			e->flags &= (uint8_t)~EF_VIA_AD;
			if (msg_distrust_ad(e_msg(e), e->msglen))
				n++;
		}
	}
	return n;
}

static void
entry_info(const struct cache *c, const struct cache_entry *e, uint64_t now, struct cache_info *in)
{
	in->name = e_key(e);
	in->namelen = e->keylen;
	in->qtype = e->qtype;
	in->qclass = e->qclass;
	in->do_bit = (e->flags & EF_DO) != 0;
	in->cd_bit = (e->flags & EF_CD) != 0;
	in->status = !(e->flags & EF_NEG) ? CST_NOERROR :
	    (e->flags & EF_NXDOMAIN)      ? CST_NXDOMAIN :
	                                    CST_NODATA;
	in->stale = now >= e->expire;
	in->ttl = in->stale ? 0 : (uint32_t)((e->expire - now + 999) / 1000);
	if (in->ttl > e->orig_ttl)
		in->ttl = e->orig_ttl;
	in->original_ttl = e->orig_ttl;
	in->hits = e->hits;
	in->upstream = e->label < c->nlabels ? c->labels[e->label].text : "";
	in->ifindex = e->label < c->nlabels ? c->labels[e->label].ifindex : 0;
	in->via = cache_entry_via(e);
	in->msg = e_cmsg(e);
	in->msglen = e->msglen;
	in->age = now > e->stored ? (uint32_t)((now - e->stored) / 1000) : 0;
	in->stored_ms = e->stored;
	in->expire_ms = e->expire;
}

void
cache_foreach(struct cache *c, uint64_t now, int (*cb)(const struct cache_info *info, void *arg),
    void *arg)
{
	struct list *p;

	if (!c)
		return;
	list_for_each(p, &c->lru)
	{
		struct cache_entry *e = list_entry(p, struct cache_entry, lru);
		struct cache_info in;

		entry_info(c, e, now, &in);
		if (cb(&in, arg))
			break;
	}
}

size_t
cache_foreach_from(struct cache *c, uint64_t now, size_t pos, size_t max_entries,
    int (*cb)(const struct cache_info *info, void *arg), void *arg)
{
	size_t seen = 0;

	if (!c)
		return CACHE_END;
	for (; pos < c->nbuckets && seen < max_entries; pos++) {
		struct cache_entry *e;

		for (e = c->buckets[pos]; e; e = e->hnext, seen++) {
			struct cache_info in;

			entry_info(c, e, now, &in);
			if (cb(&in, arg))
				return CACHE_END;
		}
	}
	return pos < c->nbuckets ? pos : CACHE_END;
}

void
cache_reserve(struct cache *c, size_t n)
{
	if (n > c->cfg.max_entries)
		n = c->cfg.max_entries;
	while (c->nbuckets < n && c->nbuckets < ((size_t)1 << 30))
		if (grow_table(c) != 0)
			break;
	if (n > c->heap_cap) {
		struct cache_entry **h = realloc(c->heap, n * sizeof(*h));

		if (h) {
			c->heap = h;
			c->heap_cap = n;
		}
	}
}

size_t
cache_count(const struct cache *c)
{
	return c ? c->count : 0;
}

uint64_t
cache_bytes(const struct cache *c)
{
	return c ? c->bytes : 0;
}

uint64_t
cache_evictions(const struct cache *c)
{
	return c ? c->evictions : 0;
}

size_t
cache_overhead_per_entry(const struct cache *c)
{
	(void)c;
	/* struct + one bucket pointer (load <= 1) + one heap slot + malloc header */
	return sizeof(struct cache_entry) + sizeof(void *) * 2 + 16;
}
