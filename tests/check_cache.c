/*
 * check_cache.c - lifetimes (RFC 2308), LRU and expiry eviction, keying,
 * served copies, serve-stale, flush: all on a fake clock.
 */
#include "auto-config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkmain.h"
#include "cache.h"
#include "testutil.h"

static const struct cache_cfg defcfg = { .max_entries = 1000,
	.max_bytes = 1u << 30,
	.min_ttl = 0,
	.max_ttl = 86400,
	.max_negative_ttl = 900,
	.negative_ttl = 60 };

static struct msg_query
mkq(const struct cache *c, const char *name, uint16_t type, bool do_bit)
{
	uint8_t b[512];
	struct tq_opts o = { .edns = do_bit, .do_bit = do_bit, .id = 0x5555 };
	size_t l = tu_build_query(name, type, &o, b, sizeof(b));
	struct msg_query q;

	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	q.hash = cache_hash(c, q.key, q.qlen, q.qtype, q.qclass, q.do_bit, q.cd_bit);
	return q;
}

/* insert a response described by r for question (name, type); returns stored */
static bool
put(struct cache *c, const char *name, uint16_t type, bool do_bit, struct tu_resp r, uint64_t now)
{
	uint8_t b[2048];
	struct msg_query q = mkq(c, name, type, do_bit);
	struct msg_resp *m = malloc(sizeof(*m));
	size_t l;
	bool stored = false;

	r.qtype = type;
	/* the upstream answers with the lower-cased question stubd sends */
	{
		char lower[256];
		size_t i;

		snprintf(lower, sizeof(lower), "%s", name);
		for (i = 0; lower[i]; i++)
			if (lower[i] >= 'A' && lower[i] <= 'Z')
				lower[i] = (char)(lower[i] + 32);
		r.name = lower;
		l = tu_response(&r, b, sizeof(b));
	}
	ck_assert_uint_gt(l, 0);
	ck_assert_int_eq(msg_store_prepare(b, l, r.id, q.key, q.qlen, type, CLASS_IN, m), STUB_OK);
	ck_assert_int_eq(cache_insert(c, &q, b, m, "192.0.2.1:53%lan", now, &stored), 0);
	free(m);
	return stored;
}

static enum cache_lookup_result
get(struct cache *c, const char *name, uint16_t type, bool do_bit, uint64_t now, long *ttl,
    uint8_t *out, size_t *outlen)
{
	struct msg_query q = mkq(c, name, type, do_bit);
	enum cache_lookup_result st;
	struct cache_entry *e = cache_lookup(c, &q, now, &st);
	uint8_t buf[2048];
	size_t n;

	if (!e)
		return st;
	n = cache_serve(c, e, &q, now, st == CACHE_STALE, 1232, buf, sizeof(buf));
	ck_assert_uint_gt(n, 0);
	if (ttl) {
		*ttl = tu_first_ttl(buf, n);
		if (*ttl < 0) {
			/* negative: the SOA TTL in authority */
			struct wire_rd r;
			struct wire_hdr h;
			struct wire_rr rr;

			wire_rd_init(&r, buf, n);
			wire_hdr(&r, &h);
			wire_name(&r, NULL);
			wire_skip(&r, 4);
			*ttl = h.nscount && wire_rr(&r, &rr) == 0 ? (long)rr.ttl : -1;
		}
	}
	if (out) {
		memcpy(out, buf, n);
		*outlen = n;
	}
	return st;
}

static struct tu_resp
pos(uint32_t ttl)
{
	struct tu_resp r = { .id = 9, .nans = 1, .ttl = ttl };

	return r;
}

static struct tu_resp
nx(bool soa, uint32_t soa_ttl, uint32_t soa_min)
{
	struct tu_resp r = { .id = 9,
		.rcode = RCODE_NXDOMAIN,
		.soa = soa,
		.soa_ttl = soa_ttl,
		.soa_min = soa_min };

	return r;
}

START_TEST(test_positive_lifetime)
{
	struct cache *c = cache_new(&defcfg, 1);
	long ttl;

	struct tu_resp r = pos(300);

	r.nans = 2; /* TTLs 300 and 400: the smallest counts */
	ck_assert(put(c, "www.example.com", TYPE_A, false, r, 0));
	ck_assert_int_eq(get(c, "www.example.com", TYPE_A, false, 0, &ttl, NULL, NULL),
	    CACHE_FRESH);
	ck_assert_int_eq(ttl, 300);
	ck_assert_int_eq(get(c, "www.example.com", TYPE_A, false, 120000, &ttl, NULL, NULL),
	    CACHE_FRESH);
	ck_assert_int_eq(ttl, 180); /* lowered by 120 s in the cache */
	ck_assert_int_eq(get(c, "www.example.com", TYPE_A, false, 299999, NULL, NULL, NULL),
	    CACHE_FRESH);
	ck_assert_int_eq(get(c, "www.example.com", TYPE_A, false, 300000, NULL, NULL, NULL),
	    CACHE_MISS);
	ck_assert_uint_eq(cache_count(c), 0); /* expired entry removed */
	cache_free(c);
}
END_TEST

START_TEST(test_ttl_caps)
{
	struct cache_cfg cfg = defcfg;
	struct cache *c;
	long ttl;

	cfg.max_ttl = 100;
	cfg.min_ttl = 20;
	c = cache_new(&cfg, 1);
	ck_assert(put(c, "long.example", TYPE_A, false, pos(5000), 0));
	get(c, "long.example", TYPE_A, false, 0, &ttl, NULL, NULL);
	ck_assert_int_eq(ttl, 100); /* sent clamped too */
	ck_assert_int_eq(get(c, "long.example", TYPE_A, false, 100000, NULL, NULL, NULL),
	    CACHE_MISS);
	ck_assert(put(c, "short.example", TYPE_A, false, pos(5), 0));
	get(c, "short.example", TYPE_A, false, 0, &ttl, NULL, NULL);
	ck_assert_int_eq(ttl, 20);
	ck_assert_int_eq(get(c, "short.example", TYPE_A, false, 19000, NULL, NULL, NULL),
	    CACHE_FRESH);
	cache_free(c);
}
END_TEST

START_TEST(test_ttl_zero)
{
	struct cache *c = cache_new(&defcfg, 1);

	ck_assert(!put(c, "zero.example", TYPE_A, false, pos(0), 0));
	ck_assert_uint_eq(cache_count(c), 0);
	cache_free(c);
}
END_TEST

START_TEST(test_negative_soa)
{
	struct cache *c = cache_new(&defcfg, 1);
	long ttl;

	/* min(SOA TTL 3600, MINIMUM 120) = 120 */
	ck_assert(put(c, "nx.example", TYPE_A, false, nx(true, 3600, 120), 0));
	ck_assert_int_eq(get(c, "nx.example", TYPE_A, false, 0, &ttl, NULL, NULL), CACHE_FRESH);
	ck_assert_int_eq(ttl, 120);
	ck_assert_int_eq(get(c, "nx.example", TYPE_A, false, 119000, NULL, NULL, NULL),
	    CACHE_FRESH);
	ck_assert_int_eq(get(c, "nx.example", TYPE_A, false, 120000, NULL, NULL, NULL), CACHE_MISS);
	/* SOA TTL below MINIMUM */
	ck_assert(put(c, "nx2.example", TYPE_A, false, nx(true, 30, 600), 0));
	ck_assert_int_eq(get(c, "nx2.example", TYPE_A, false, 31000, NULL, NULL, NULL), CACHE_MISS);
	cache_free(c);
}
END_TEST

START_TEST(test_negative_cap_and_default)
{
	struct cache_cfg cfg = defcfg;
	struct cache *c;

	cfg.max_negative_ttl = 50;
	cfg.negative_ttl = 10;
	c = cache_new(&cfg, 1);
	ck_assert(put(c, "capped.example", TYPE_A, false, nx(true, 3600, 3600), 0));
	ck_assert_int_eq(get(c, "capped.example", TYPE_A, false, 49000, NULL, NULL, NULL),
	    CACHE_FRESH);
	ck_assert_int_eq(get(c, "capped.example", TYPE_A, false, 50000, NULL, NULL, NULL),
	    CACHE_MISS);
	/* no SOA: negative-ttl */
	ck_assert(put(c, "nosoa.example", TYPE_A, false, nx(false, 0, 0), 0));
	ck_assert_int_eq(get(c, "nosoa.example", TYPE_A, false, 9000, NULL, NULL, NULL),
	    CACHE_FRESH);
	ck_assert_int_eq(get(c, "nosoa.example", TYPE_A, false, 10000, NULL, NULL, NULL),
	    CACHE_MISS);
	cache_free(c);
}
END_TEST

START_TEST(test_nodata_per_type)
{
	struct cache *c = cache_new(&defcfg, 1);
	struct tu_resp r = { .id = 9, .rcode = 0, .soa = true, .soa_ttl = 300, .soa_min = 300 };

	ck_assert(put(c, "v4only.example", TYPE_AAAA, false, r, 0));
	ck_assert_int_eq(get(c, "v4only.example", TYPE_AAAA, false, 0, NULL, NULL, NULL),
	    CACHE_FRESH);
	ck_assert_int_eq(get(c, "v4only.example", TYPE_A, false, 0, NULL, NULL, NULL), CACHE_MISS);
	cache_free(c);
}
END_TEST

START_TEST(test_servfail_tc_not_cached)
{
	struct cache *c = cache_new(&defcfg, 1);
	struct tu_resp r = { .id = 9, .rcode = RCODE_SERVFAIL };

	ck_assert(!put(c, "sf.example", TYPE_A, false, r, 0));
	r = pos(300);
	r.tc = true;
	ck_assert(!put(c, "tc.example", TYPE_A, false, r, 0));
	r.tc = false;
	r.rcode = RCODE_REFUSED;
	ck_assert(!put(c, "ref.example", TYPE_A, false, r, 0));
	ck_assert_uint_eq(cache_count(c), 0);
	cache_free(c);
}
END_TEST

START_TEST(test_keying)
{
	struct cache *c = cache_new(&defcfg, 1);
	uint8_t out[2048];
	size_t n;

	ck_assert(put(c, "Mixed.Example.COM", TYPE_A, false, pos(300), 0));
	/* case-insensitive key, the client's spelling echoed */
	ck_assert_int_eq(get(c, "mIXED.example.com", TYPE_A, false, 0, NULL, out, &n), CACHE_FRESH);
	ck_assert_mem_eq(out + 12, "\005mIXED\007example\003com", 19);
	ck_assert_uint_eq(tu_id(out, n), 0x5555);
	/* DO bit is part of the key */
	ck_assert_int_eq(get(c, "mixed.example.com", TYPE_A, true, 0, NULL, NULL, NULL),
	    CACHE_MISS);
	ck_assert(put(c, "mixed.example.com", TYPE_A, true, pos(300), 0));
	ck_assert_uint_eq(cache_count(c), 2);
	/* the same key again replaces */
	ck_assert(put(c, "mixed.example.com", TYPE_A, true, pos(100), 0));
	ck_assert_uint_eq(cache_count(c), 2);
	cache_free(c);
}
END_TEST

START_TEST(test_lru_eviction)
{
	struct cache_cfg cfg = defcfg;
	struct cache *c;

	cfg.max_entries = 3;
	c = cache_new(&cfg, 1);
	put(c, "a.example", TYPE_A, false, pos(300), 0);
	put(c, "b.example", TYPE_A, false, pos(300), 0);
	put(c, "c.example", TYPE_A, false, pos(300), 0);
	/* touch a: b becomes least recently used */
	ck_assert_int_eq(get(c, "a.example", TYPE_A, false, 1000, NULL, NULL, NULL), CACHE_FRESH);
	put(c, "d.example", TYPE_A, false, pos(300), 1000);
	ck_assert_uint_eq(cache_count(c), 3);
	ck_assert_uint_eq(cache_evictions(c), 1);
	ck_assert_int_eq(get(c, "b.example", TYPE_A, false, 1000, NULL, NULL, NULL), CACHE_MISS);
	ck_assert_int_eq(get(c, "a.example", TYPE_A, false, 1000, NULL, NULL, NULL), CACHE_FRESH);
	ck_assert_int_eq(get(c, "c.example", TYPE_A, false, 1000, NULL, NULL, NULL), CACHE_FRESH);
	cache_free(c);
}
END_TEST

START_TEST(test_expired_first)
{
	struct cache_cfg cfg = defcfg;
	struct cache *c;

	cfg.max_entries = 3;
	c = cache_new(&cfg, 1);
	put(c, "old.example", TYPE_A, false, pos(300), 0);
	put(c, "short.example", TYPE_A, false, pos(10), 0);
	put(c, "new.example", TYPE_A, false, pos(300), 0);
	/* short.example expired; old.example is the LRU but still fresh */
	put(c, "d.example", TYPE_A, false, pos(300), 20000);
	ck_assert_int_eq(get(c, "old.example", TYPE_A, false, 20000, NULL, NULL, NULL),
	    CACHE_FRESH);
	ck_assert_int_eq(get(c, "short.example", TYPE_A, false, 5000, NULL, NULL, NULL),
	    CACHE_MISS);
	cache_free(c);
}
END_TEST

START_TEST(test_serve_stale)
{
	struct cache_cfg cfg = defcfg;
	struct cache *c;
	long ttl;

	cfg.serve_stale = 60;
	c = cache_new(&cfg, 1);
	put(c, "s.example", TYPE_A, false, pos(10), 0);
	ck_assert_int_eq(get(c, "s.example", TYPE_A, false, 10000, &ttl, NULL, NULL), CACHE_STALE);
	ck_assert_int_eq(ttl, 30); /* RFC 8767 */
	ck_assert_int_eq(get(c, "s.example", TYPE_A, false, 69999, NULL, NULL, NULL), CACHE_STALE);
	ck_assert_int_eq(get(c, "s.example", TYPE_A, false, 70000, NULL, NULL, NULL), CACHE_MISS);
	cache_free(c);
}
END_TEST

static int
count_cb(const struct cache_info *in, void *arg)
{
	size_t *n = arg;

	(*n)++;
	ck_assert_str_eq(in->upstream, "192.0.2.1:53%lan");
	return 0;
}

/* a server lost its AD trust: the AD bits it left go, the answers stay */
START_TEST(test_distrust_ad)
{
	struct cache *c = cache_new(&defcfg, 1);
	struct tu_resp signed_ = pos(300);
	uint8_t out[2048];
	size_t n;

	signed_.ad = true;
	put(c, "signed.example", TYPE_A, true, signed_, 0);
	put(c, "plain.example", TYPE_A, true, pos(300), 0);
	ck_assert_int_eq(get(c, "signed.example", TYPE_A, true, 1000, NULL, out, &n), CACHE_FRESH);
	ck_assert(tu_ad(out, n));
	ck_assert_uint_eq(cache_distrust_ad(c), 1);
	ck_assert_int_eq(get(c, "signed.example", TYPE_A, true, 1000, NULL, out, &n), CACHE_FRESH);
	ck_assert(!tu_ad(out, n));
	ck_assert_uint_eq(cache_distrust_ad(c), 0);
	ck_assert_uint_eq(cache_count(c), 2);
	ck_assert_uint_eq(cache_distrust_ad(NULL), 0);
	cache_free(c);
}
END_TEST

START_TEST(test_flush)
{
	struct cache *c = cache_new(&defcfg, 1);
	uint8_t name[WIRE_NAME_MAX];
	size_t nl, n = 0;

	put(c, "example.com", TYPE_A, false, pos(300), 0);
	put(c, "www.example.com", TYPE_A, false, pos(300), 0);
	put(c, "www.example.com", TYPE_AAAA, false, pos(300), 0);
	put(c, "other.example", TYPE_A, false, pos(300), 0);
	put(c, "nx.example.com", TYPE_A, false, nx(true, 300, 300), 0);
	cache_foreach(c, 0, count_cb, &n);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(cache_flush(c, NULL, 0, true), 1); /* negative only */
	nl = wire_name_from_text("www.example.com", name);
	ck_assert_uint_eq(cache_flush(c, name, nl, false), 2); /* both types */
	nl = wire_name_from_text("example.com", name);
	ck_assert_uint_eq(cache_flush(c, name, nl, false), 1);
	ck_assert_uint_eq(cache_flush(c, NULL, 0, false), 1);
	ck_assert_uint_eq(cache_count(c), 0);
	cache_free(c);
}
END_TEST

static int
info_cb(const struct cache_info *in, void *arg)
{
	struct cache_info *out = arg;

	*out = *in;
	return 1;
}

START_TEST(test_info)
{
	struct cache *c = cache_new(&defcfg, 1);
	struct cache_info in;

	put(c, "nx.example", TYPE_A, false, nx(true, 300, 200), 0);
	get(c, "nx.example", TYPE_A, false, 1000, NULL, NULL, NULL);
	get(c, "nx.example", TYPE_A, false, 2000, NULL, NULL, NULL);
	cache_foreach(c, 50000, info_cb, &in);
	ck_assert_int_eq(in.status, CST_NXDOMAIN);
	ck_assert_uint_eq(in.original_ttl, 200);
	ck_assert_uint_eq(in.ttl, 150);
	ck_assert_uint_eq(in.hits, 2);
	ck_assert(!in.stale);
	ck_assert_uint_eq(in.qtype, TYPE_A);
	cache_free(c);
}
END_TEST

/* insert like put(), from upstream label with interface ifindex */
static void
put_scoped(struct cache *c, const char *name, const char *label, unsigned ifindex, uint64_t now)
{
	uint8_t b[2048];
	struct msg_query q = mkq(c, name, TYPE_A, false);
	struct tu_resp r = pos(300);
	struct msg_resp m;
	size_t l;
	bool stored = false;

	r.qtype = TYPE_A;
	r.name = name;
	l = tu_response(&r, b, sizeof(b));
	ck_assert_uint_gt(l, 0);
	ck_assert_int_eq(msg_store_prepare(b, l, r.id, q.key, q.qlen, TYPE_A, CLASS_IN, &m),
	    STUB_OK);
	ck_assert_int_eq(cache_insert_scoped(c, &q, b, &m, label, ifindex, now, &stored), STUB_OK);
	ck_assert(stored);
}

static unsigned
ifindex_of(struct cache *c, const char *name, uint64_t now)
{
	struct msg_query q = mkq(c, name, TYPE_A, false);
	enum cache_lookup_result st;
	struct cache_entry *e = cache_lookup(c, &q, now, &st);

	ck_assert_int_eq(st, CACHE_FRESH);
	return cache_entry_ifindex(c, e);
}

static int
scoped_cb(const struct cache_info *in, void *arg)
{
	unsigned *sum = arg;

	sum[0] += in->ifindex;
	sum[1] += strcmp(in->upstream, "mdns%eth0") == 0;
	return 0;
}

/* An answer keeps the interface it belongs to (SPEC 16, 19): on a lookup
 * and in the walk; the same label on another interface is another one;
 * an entry is no bigger for it. */
START_TEST(test_ifindex)
{
	struct cache *c = cache_new(&defcfg, 1);
	unsigned sum[2] = { 0, 0 };
	uint64_t bytes;

	put(c, "plain.example", TYPE_A, false, pos(300), 0);
	bytes = cache_bytes(c);
	/* a name as long, with an interface: an entry as big */
	put_scoped(c, "scope.example", "192.0.2.1:53%lan", 9, 0);
	ck_assert_uint_eq(cache_bytes(c), 2 * bytes);
	ck_assert_uint_eq(ifindex_of(c, "scope.example", 1000), 9);
	put_scoped(c, "a.local", "mdns%eth0", 3, 0);
	put_scoped(c, "b.local", "mdns%eth0", 7, 0);
	put_scoped(c, "c.local", "mdns%eth0", 3, 0);
	put_scoped(c, "scoped.example", "", 5, 0);
	ck_assert_uint_eq(ifindex_of(c, "plain.example", 1000), 0);
	ck_assert_uint_eq(ifindex_of(c, "a.local", 1000), 3);
	ck_assert_uint_eq(ifindex_of(c, "b.local", 1000), 7);
	ck_assert_uint_eq(ifindex_of(c, "c.local", 1000), 3);
	ck_assert_uint_eq(ifindex_of(c, "scoped.example", 1000), 5);
	/* the same label from the same server without an interface */
	ck_assert_uint_eq(ifindex_of(c, "plain.example", 1000), 0);
	cache_foreach(c, 1000, scoped_cb, sum);
	ck_assert_uint_eq(sum[0], 9 + 3 + 7 + 3 + 5);
	ck_assert_uint_eq(sum[1], 3);
	ck_assert_uint_eq(cache_entry_ifindex(NULL, NULL), 0);
	cache_free(c);
}
END_TEST

/* a question with CD (checking disabled) set */
static struct msg_query
mkq_cd(const struct cache *c, const char *name, uint16_t type, bool cd)
{
	uint8_t b[512];
	struct tq_opts o = { .id = 0x5555 };
	size_t l = tu_build_query(name, type, &o, b, sizeof(b));
	struct msg_query q;

	if (cd)
		b[3] |= 0x10;
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	q.hash = cache_hash(c, q.key, q.qlen, q.qtype, q.qclass, q.do_bit, q.cd_bit);
	return q;
}

/* CD is part of the key: an answer fetched with CD (maybe unvalidated) is
 * never served to a query without it (issue 20, bug 1) */
START_TEST(test_cd_key)
{
	struct cache *c = cache_new(&defcfg, 1);
	struct tu_resp r = pos(300);
	struct msg_query q = mkq_cd(c, "bogus.example", TYPE_A, true), q0;
	struct msg_resp *m = malloc(sizeof(*m));
	uint8_t b[2048], out[2048];
	enum cache_lookup_result st;
	struct cache_entry *e;
	struct cache_info in;
	bool stored = false;
	size_t l, n;

	r.name = "bogus.example";
	r.qtype = TYPE_A;
	l = tu_response(&r, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, r.id, q.key, q.qlen, TYPE_A, CLASS_IN, m),
	    STUB_OK);
	ck_assert_int_eq(cache_insert(c, &q, b, m, "", 0, &stored), 0);
	ck_assert(stored);
	q0 = mkq_cd(c, "bogus.example", TYPE_A, false);
	ck_assert_uint_ne(q0.hash, q.hash);
	ck_assert_ptr_null(cache_lookup(c, &q0, 0, &st));
	ck_assert_int_eq(st, CACHE_MISS);
	e = cache_lookup(c, &q, 0, &st);
	ck_assert_int_eq(st, CACHE_FRESH);
	n = cache_serve(c, e, &q, 0, false, 1232, out, sizeof(out));
	ck_assert_uint_eq(out[3] & 0x10, 0x10);
	cache_foreach(c, 0, info_cb, &in);
	ck_assert(in.cd_bit);
	/* the same question without CD is an entry of its own */
	r.nans = 2;
	l = tu_response(&r, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, r.id, q0.key, q0.qlen, TYPE_A, CLASS_IN, m),
	    STUB_OK);
	ck_assert_int_eq(cache_insert(c, &q0, b, m, "", 0, &stored), 0);
	ck_assert_uint_eq(cache_count(c), 2);
	e = cache_lookup(c, &q0, 0, &st);
	n = cache_serve(c, e, &q0, 0, false, 1232, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 2);
	ck_assert_uint_eq(out[3] & 0x10, 0);
	free(m);
	cache_free(c);
}
END_TEST

/* NODATA behind a CNAME: negative, for min(chain TTLs, RFC 2308 lifetime),
 * every TTL served capped by it (the SOA's too) (issue 20, bug 3) */
START_TEST(test_negative_cname_chain)
{
	struct cache *c = cache_new(&defcfg, 1);
	struct msg_query q = mkq(c, "a.example", TYPE_A, false);
	struct msg_resp *m = malloc(sizeof(*m));
	struct tu_rr rrs[] = {
		{ "a.example", TYPE_CNAME, 3600, "b.example", 0, 0 },
		{ "b.example", TYPE_CNAME, 1800, "c.example", 0, 0 },
		{ "example", TYPE_SOA, 3600, NULL, 3, 0 },
	};
	uint8_t b[2048], out[2048];
	enum cache_lookup_result st;
	struct cache_entry *e;
	struct cache_info in;
	bool stored = false;
	size_t l, n, i;

	l = tu_build_msg(9, 0, "a.example", TYPE_A, rrs, 2, 1, 0, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 9, q.key, q.qlen, TYPE_A, CLASS_IN, m), STUB_OK);
	ck_assert_int_eq(cache_insert(c, &q, b, m, "", 0, &stored), 0);
	ck_assert(stored);
	cache_foreach(c, 0, info_cb, &in);
	ck_assert_int_eq(in.status, CST_NODATA);
	ck_assert_uint_eq(in.original_ttl, 3); /* SOA MINIMUM, not 1800 */
	e = cache_lookup(c, &q, 0, &st);
	ck_assert_int_eq(st, CACHE_FRESH);
	n = cache_serve(c, e, &q, 0, false, 1232, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 2);
	for (i = 0; i < m->nttl; i++) {
		uint32_t t;

		wire_get32_at(out, n, m->ttl_off[i], &t);
		ck_assert_uint_le(t, 3);
	}
	ck_assert_ptr_null(cache_lookup(c, &q, 3000, &st));
	/* the chain's TTL is smaller: it wins; NXDOMAIN at the end too */
	rrs[1].ttl = 20;
	rrs[2].soa_min = 600;
	l = tu_build_msg(9, RCODE_NXDOMAIN, "a.example", TYPE_A, rrs, 2, 1, 0, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 9, q.key, q.qlen, TYPE_A, CLASS_IN, m), STUB_OK);
	ck_assert_int_eq(cache_insert(c, &q, b, m, "", 10000, &stored), 0);
	cache_foreach(c, 10000, info_cb, &in);
	ck_assert_int_eq(in.status, CST_NXDOMAIN);
	ck_assert_uint_eq(in.original_ttl, 20);
	/* a referral is never cached */
	q = mkq(c, "a.example", TYPE_AAAA, false);
	l = tu_build_msg(9, 0, "a.example", TYPE_AAAA,
	    (struct tu_rr[]){ { "example", TYPE_NS, 3600, "ns.example", 0, 0 } }, 0, 1, 0, b,
	    sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 9, q.key, q.qlen, TYPE_AAAA, CLASS_IN, m),
	    STUB_OK);
	ck_assert_int_eq(cache_insert(c, &q, b, m, "", 10000, &stored), 0);
	ck_assert(!stored);
	free(m);
	cache_free(c);
}
END_TEST

START_TEST(test_shrink)
{
	struct cache *c = cache_new(&defcfg, 1);
	struct cache_cfg cfg = defcfg;
	char name[64];
	int i;

	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		put(c, name, TYPE_A, false, pos(300), 0);
	}
	cfg.max_entries = 10;
	cache_set_cfg(c, &cfg, 0);
	ck_assert_uint_eq(cache_count(c), 10);
	/* the 10 most recent survive */
	ck_assert_int_eq(get(c, "n99.example", TYPE_A, false, 0, NULL, NULL, NULL), CACHE_FRESH);
	ck_assert_int_eq(get(c, "n89.example", TYPE_A, false, 0, NULL, NULL, NULL), CACHE_MISS);
	cache_free(c);
}
END_TEST

START_TEST(test_million)
{
	struct cache_cfg cfg = defcfg;
	struct cache *c;
	uint8_t b[512];
	struct msg_resp *m = malloc(sizeof(*m));
	struct tu_resp r = pos(3600);
	char name[64];
	int i, n = 1000000;
	struct timespec t0, t1;
	bool stored;

	cfg.max_entries = (uint32_t)n;
	c = cache_new(&cfg, 42);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		struct msg_query q;
		size_t l;

		snprintf(name, sizeof(name), "host%d.example.com", i);
		q = mkq(c, name, TYPE_A, false);
		r.name = name;
		r.qtype = TYPE_A;
		l = tu_response(&r, b, sizeof(b));
		msg_store_prepare(b, l, r.id, q.key, q.qlen, TYPE_A, CLASS_IN, m);
		ck_assert_int_eq(cache_insert(c, &q, b, m, "x", 0, &stored), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_uint_eq(cache_count(c), (size_t)n);
	ck_assert_int_eq(get(c, "host123456.example.com", TYPE_A, false, 0, NULL, NULL, NULL),
	    CACHE_FRESH);
	printf("cache: 1,000,000 inserts in %.0f ms; bookkeeping %zu bytes/entry\n",
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
	    cache_overhead_per_entry(c));
	ck_assert_uint_le(cache_overhead_per_entry(c), 150);
	cache_free(c);
	free(m);
}
END_TEST

START_TEST(test_misuse)
{
	struct cache *c = cache_new(&defcfg, 1);
	enum cache_lookup_result st;
	bool stored;

	ck_assert_ptr_null(cache_lookup(NULL, NULL, 0, &st));
	ck_assert_int_eq(st, CACHE_MISS);
	ck_assert_ptr_null(cache_lookup(c, NULL, 0, &st));
	ck_assert_int_ne(cache_insert(c, NULL, NULL, NULL, NULL, 0, &stored), 0);
	ck_assert_uint_eq(cache_flush(NULL, NULL, 0, false), 0);
	ck_assert_uint_eq(cache_count(NULL), 0);
	cache_free(NULL);
	cache_free(c);
}
END_TEST

/* cache-memory: the bytes of entries and bookkeeping stay within the budget,
 * the least recently used go first, the newest stay. */
START_TEST(test_memory_budget)
{
	struct cache_cfg cfg = defcfg;
	struct cache *c;
	char name[64];
	int i;

	cfg.max_entries = 100000;
	cfg.max_bytes = 64 * 1024;
	c = cache_new(&cfg, 1);
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		put(c, name, TYPE_A, false, pos(300), 0);
		ck_assert_uint_le(cache_bytes(c), cfg.max_bytes);
	}
	ck_assert_uint_lt(cache_count(c), 2000);
	ck_assert_uint_gt(cache_count(c), 100);
	ck_assert_uint_gt(cache_evictions(c), 0);
	/* the budget is used, not just respected */
	ck_assert_uint_gt(cache_bytes(c), cfg.max_bytes - 2048);
	ck_assert_int_eq(get(c, "n1999.example", TYPE_A, false, 0, NULL, NULL, NULL), CACHE_FRESH);
	ck_assert_int_eq(get(c, "n0.example", TYPE_A, false, 0, NULL, NULL, NULL), CACHE_MISS);
	/* shrinking the budget evicts at once; flushing returns every byte */
	cfg.max_bytes = 16 * 1024;
	cache_set_cfg(c, &cfg, 0);
	ck_assert_uint_le(cache_bytes(c), 16 * 1024);
	ck_assert_int_eq(get(c, "n1999.example", TYPE_A, false, 0, NULL, NULL, NULL), CACHE_FRESH);
	cache_flush(c, NULL, 0, false);
	ck_assert_uint_eq(cache_bytes(c), 0);
	ck_assert_uint_eq(cache_count(c), 0);
	cache_free(c);
}
END_TEST

/* An answer larger than the whole budget is not cached (and evicts nothing). */
START_TEST(test_memory_entry_too_large)
{
	struct cache_cfg cfg = defcfg;
	struct cache *c;

	cfg.max_bytes = 100; /* less than one entry with its bookkeeping */
	c = cache_new(&cfg, 1);
	ck_assert(!put(c, "big.example", TYPE_A, false, pos(300), 0));
	ck_assert_uint_eq(cache_count(c), 0);
	ck_assert_uint_eq(cache_bytes(c), 0);
	cache_free(c);
}
END_TEST

static Suite *
cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *b = tcase_create("basic"), *m = tcase_create("misuse"), *big = tcase_create("big");

	tcase_add_test(b, test_positive_lifetime);
	tcase_add_test(b, test_memory_budget);
	tcase_add_test(b, test_memory_entry_too_large);
	tcase_add_test(b, test_ttl_caps);
	tcase_add_test(b, test_ttl_zero);
	tcase_add_test(b, test_negative_soa);
	tcase_add_test(b, test_negative_cap_and_default);
	tcase_add_test(b, test_nodata_per_type);
	tcase_add_test(b, test_servfail_tc_not_cached);
	tcase_add_test(b, test_keying);
	tcase_add_test(b, test_lru_eviction);
	tcase_add_test(b, test_expired_first);
	tcase_add_test(b, test_serve_stale);
	tcase_add_test(b, test_flush);
	tcase_add_test(b, test_distrust_ad);
	tcase_add_test(b, test_info);
	tcase_add_test(b, test_ifindex);
	tcase_add_test(b, test_shrink);
	tcase_add_test(b, test_cd_key);
	tcase_add_test(b, test_negative_cname_chain);
	tcase_add_test(m, test_misuse);
	tcase_add_test(big, test_million);
	tcase_set_timeout(big, 120);
	suite_add_tcase(s, b);
	suite_add_tcase(s, m);
	suite_add_tcase(s, big);
	return s;
}

int
main(void)
{
	return check_main(cache_suite());
}
