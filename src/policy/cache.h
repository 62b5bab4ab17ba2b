/*
 * cache.h - the answer cache: positive and negative (RFC 2308) entries,
 * keyed by lower-cased QNAME, QTYPE, QCLASS and the DO and CD bits.
 *
 * Pure: no sockets, no clock of its own; every call that needs the time
 * takes `now` in milliseconds.  The cache owns its entries; each entry is
 * one allocation holding its bookkeeping, key, the stored response (OPT
 * removed) and the offsets of its TTL fields.
 *
 * Lookup is a hash probe; eviction takes an expired entry from a min-heap
 * ordered by expiry, else the least recently used entry (CLOCK: a hit sets
 * a reference bit, the tail gets a second chance when it is set).  Two
 * limits apply: entries (cache-size) and bytes (cache-memory).
 */
#ifndef STUBD_CACHE_H
#define STUBD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "msg.h"

struct cache;
struct cache_entry;

struct cache_cfg {
	uint32_t max_entries; /* cache-size */
	uint64_t max_bytes;   /* cache-memory: entries and their bookkeeping */
	uint32_t min_ttl, max_ttl;
	uint32_t max_negative_ttl, negative_ttl;
	uint32_t serve_stale; /* seconds, 0 = off */
};

enum cache_lookup_result { CACHE_MISS = 0, CACHE_FRESH, CACHE_STALE };
enum cache_status { CST_NOERROR = 0, CST_NXDOMAIN, CST_NODATA };

/* What displaydns shows about one entry. */
struct cache_info {
	const uint8_t *name; /* lower-cased wire name */
	size_t namelen;
	uint16_t qtype, qclass;
	bool do_bit;
	bool cd_bit; /* not shown by displaydns; kept by cache-file */
	enum cache_status status;
	uint32_t ttl; /* seconds left (0 when stale) */
	uint32_t original_ttl;
	bool stale;
	uint32_t hits;
	const char *upstream; /* "192.0.2.1:53%lan" or "" */
	unsigned via;         /* CACHE_VIA_* (SPEC 18) */
	unsigned ifindex;     /* the interface the answer belongs to, 0 = none */
	const uint8_t *msg;   /* stored response, OPT removed */
	size_t msglen;
	uint32_t age;                  /* seconds since stored */
	uint64_t stored_ms, expire_ms; /* on the cache's clock */
};

/* The cache's settings in a configuration. */
struct cache_cfg cache_cfg_from(const struct cfg *c);

struct cache *cache_new(const struct cache_cfg *cfg, uint64_t seed);
void cache_free(struct cache *c);
/* New limits (reload).  Shrinking evicts at once. */
void cache_set_cfg(struct cache *c, const struct cache_cfg *cfg, uint64_t now);

/* The hash of a question for the cache and in-flight table:
 * stub_key_hash(stub_name_hash(cache_seed(c), key), ...) (see hash.h). */
uint64_t cache_hash(const struct cache *c, const uint8_t *key, size_t klen, uint16_t qtype,
    uint16_t qclass, bool do_bit, bool cd_bit);
/* The seed of the cache's hashes; the hosts table is built with it so one
 * name hash serves both. */
uint64_t cache_seed(const struct cache *c);

/*
 * Find the entry for q (q->hash must be set).  FRESH: usable.  STALE:
 * expired less than serve-stale seconds ago (only with serve-stale on).
 * An entry past both is removed and MISS returned.  FRESH and STALE set
 * the entry's CLOCK reference bit (recency, no list surgery); hits are
 * counted by cache_serve().
 */
struct cache_entry *cache_lookup(struct cache *c, const struct msg_query *q, uint64_t now,
    enum cache_lookup_result *found);

/* Write the client's copy of an entry (see msg_serve); stale copies get TTL
 * 30.  Counts a hit.  Returns the length or 0. */
size_t cache_serve(struct cache *c, struct cache_entry *e, const struct msg_query *q, uint64_t now,
    bool stale, size_t limit, uint8_t *out, size_t cap);

/* Is a fresh entry worth refreshing before it expires (SPEC 14, prefetch):
 * in the last tenth of its original TTL and served at least twice (hits
 * carry over when an answer is replaced by a fresher one)? */
bool cache_entry_prefetch_due(const struct cache_entry *e, uint64_t now);

/*
 * SPEC 18: what an entry was obtained through, the bits of search.h's
 * enum up_need (equal values): CACHE_VIA_ENC from an authenticated
 * tls/https server, CACHE_VIA_AD from one trusted for AD.  A name under
 * `rule ... require` is served only entries that have every bit its rule
 * needs; others are a miss for it (and are replaced by its answer).
 * cache-file keeps them (AD only when read back on the same network).
 */
#define CACHE_VIA_ENC 1u
#define CACHE_VIA_AD 2u
unsigned cache_entry_via(const struct cache_entry *e);
/* The interface the entry's answer belongs to (cache_insert_scoped), 0 =
 * none: what a client needs with an IPv6 link-local address (SPEC 16, 19). */
unsigned cache_entry_ifindex(const struct cache *c, const struct cache_entry *e);

/* Is the entry negative (NXDOMAIN/NODATA)? */
bool cache_entry_negative(const struct cache_entry *e);

/*
 * Decide the lifetime of an upstream response and, if cacheable, store a
 * copy.  msg/r come from msg_store_prepare(); msg's TTLs are clamped in
 * place (so the first answer relayed carries the same TTLs as later
 * ones).  upstream labels the answering server.  *stored tells whether it
 * was cached.  Returns STUB_OK or STUB_ENOMEM.
 */
enum stub_err cache_insert(struct cache *c, const struct msg_query *q, uint8_t *msg,
    const struct msg_resp *r, const char *upstream, uint64_t now, bool *stored);
/* The same for an answer that belongs to one interface (ifindex, 0 = none:
 * mDNS, a link-local scope).  The index is kept with the interned upstream
 * label, so an entry grows by nothing. */
enum stub_err cache_insert_scoped(struct cache *c, const struct msg_query *q, uint8_t *msg,
    const struct msg_resp *r, const char *upstream, unsigned ifindex, uint64_t now, bool *stored);

/* The same, noting what the answer was obtained through (CACHE_VIA_*
 * bits; cache_insert notes none). */
enum stub_err cache_insert_via(struct cache *c, const struct msg_query *q, uint8_t *msg,
    const struct msg_resp *r, const char *upstream, unsigned via, uint64_t now, bool *stored);
/* Both: what it was obtained through and the interface it belongs to. */
enum stub_err cache_insert_full(struct cache *c, const struct msg_query *q, uint8_t *msg,
    const struct msg_resp *r, const char *upstream, unsigned via, unsigned ifindex, uint64_t now,
    bool *stored);

/*
 * Put back an entry saved earlier (cache-file): msg/r as msg_store_prepare()
 * made them, with the times and original TTL it had (on this cache's
 * clock).  STUB_EINVAL for an entry that cannot have been cached.
 */
enum stub_err cache_restore(struct cache *c, const struct msg_query *q, const uint8_t *msg,
    const struct msg_resp *r, const char *upstream, unsigned via, uint64_t stored_ms,
    uint64_t expire_ms, uint32_t orig_ttl, uint64_t now, bool *stored);

/* Just the TTL clamping cache_insert() does, for answers not stored. */
void cache_clamp(const struct cache *c, uint8_t *msg, const struct msg_resp *r);

/* Drop entries: all (name NULL), a name and the names under it, or only
 * negative ones.  Returns the number dropped. */
size_t cache_flush(struct cache *c, const uint8_t *name, size_t namelen, bool negative_only);

/* Clear the AD bit of every entry: a server lost the trust (SPEC 12) its
 * answers' AD bits stood on; no entry is CACHE_VIA_AD any more.  Returns
 * how many had the bit. */
size_t cache_distrust_ad(struct cache *c);

/* Visit every entry (roughly most recently used first). Stop when cb
 * returns non-0. */
void cache_foreach(struct cache *c, uint64_t now,
    int (*cb)(const struct cache_info *info, void *arg), void *arg);

#define CACHE_END SIZE_MAX
/*
 * The same in parts, for a walk spread over several turns of the event
 * loop: hash buckets from `pos` (0 at first) until about max_entries
 * entries were visited.  Returns where to go on, or CACHE_END.  Nothing is
 * held between calls: entries added, dropped or moved by a table growth
 * in between may be missed or visited twice.
 */
size_t cache_foreach_from(struct cache *c, uint64_t now, size_t pos, size_t max_entries,
    int (*cb)(const struct cache_info *info, void *arg), void *arg);

/* cache_flush in parts, like cache_foreach_from: buckets from pos until
 * about max_entries entries were looked at; *dropped grows by the number
 * dropped.  Returns where to go on, or CACHE_END. */
size_t cache_flush_from(struct cache *c, const uint8_t *name, size_t namelen, bool negative_only,
    size_t pos, size_t max_entries, size_t *dropped);

/* Make room for n entries at once (a cache-file being read). */
void cache_reserve(struct cache *c, size_t n);

size_t cache_count(const struct cache *c);
/* What the entries take (see cache-memory): each entry's allocation with
 * its malloc header, hash bucket and heap slot. */
uint64_t cache_bytes(const struct cache *c);
uint64_t cache_evictions(const struct cache *c);
/* Bytes of bookkeeping per entry beyond the stored message and key
 * (struct, hash bucket and heap slot), for the record. */
size_t cache_overhead_per_entry(const struct cache *c);

#endif
