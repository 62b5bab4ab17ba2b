/*
 * check_snapshot.c - cache-file (SPEC 14): entries keep their absolute
 * expiry across a save and a load on another clock; truncated, bit-flipped,
 * foreign and empty files are refused whole.
 */
#include "auto-config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkmain.h"
#include "config.h"
#include "file.h"
#include "snapshot.h"
#include "testutil.h"

static const struct cache_cfg ccfg = { .max_entries = 1000,
	.max_bytes = 1u << 30,
	.max_ttl = 86400,
	.max_negative_ttl = 900,
	.negative_ttl = 60 };

#define NOW0 ((uint64_t)1 << 40)
#define WALL0 ((uint64_t)1764000000000)
#define NET 77 /* the network the answers were learnt on */

static struct msg_query
mkq(const struct cache *c, const char *name, uint16_t type)
{
	uint8_t b[512];
	struct tq_opts o = { .id = 0x4444 };
	size_t l = tu_build_query(name, type, &o, b, sizeof(b));
	struct msg_query q;

	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	q.hash = cache_hash(c, q.key, q.qlen, q.qtype, q.qclass, q.do_bit, q.cd_bit);
	return q;
}

static void put_via(struct cache *c, const char *name, uint16_t type, struct tu_resp r,
    unsigned via, uint64_t now);

static void
put(struct cache *c, const char *name, uint16_t type, struct tu_resp r, uint64_t now)
{
	put_via(c, name, type, r, 0, now);
}

/* what the entry for name/type came through (CACHE_VIA_*); -1: none */
static int via_of(struct cache *c, const char *name, uint16_t type, uint64_t now);

static void
put_via(struct cache *c, const char *name, uint16_t type, struct tu_resp r, unsigned via,
    uint64_t now)
{
	uint8_t b[2048];
	struct msg_query q = mkq(c, name, type);
	struct msg_resp m;
	size_t l;
	bool stored;

	r.name = name;
	r.qtype = type;
	r.id = 9;
	l = tu_response(&r, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 9, q.key, q.qlen, type, CLASS_IN, &m), STUB_OK);
	ck_assert_int_eq(cache_insert_via(c, &q, b, &m, "192.0.2.1:53%lan", via, now, &stored), 0);
	ck_assert(stored);
}

static int
via_of(struct cache *c, const char *name, uint16_t type, uint64_t now)
{
	struct msg_query q = mkq(c, name, type);
	enum cache_lookup_result found;
	struct cache_entry *e = cache_lookup(c, &q, now, &found);

	return e ? (int)cache_entry_via(e) : -1;
}

/* the TTL a client would get now, or -1 when not cached (stale: -2) */
static long
ttl_of(struct cache *c, const char *name, uint16_t type, uint64_t now)
{
	struct msg_query q = mkq(c, name, type);
	enum cache_lookup_result found;
	struct cache_entry *e = cache_lookup(c, &q, now, &found);
	uint8_t out[2048];
	size_t n;
	long ttl;

	if (!e)
		return -1;
	n = cache_serve(c, e, &q, now, found == CACHE_STALE, 1232, out, sizeof(out));
	ttl = tu_first_ttl(out, n);
	if (ttl < 0 && tu_rcode(out, n) == RCODE_NXDOMAIN) {
		/* negative: the SOA's TTL */
		struct wire_rd r;
		struct wire_hdr h;
		struct wire_rr rr;

		wire_rd_init(&r, out, n);
		wire_hdr(&r, &h);
		wire_name(&r, NULL);
		wire_skip(&r, 4);
		ttl = wire_rr(&r, &rr) == 0 ? (long)rr.ttl : -1;
	}
	return found == CACHE_STALE ? -2 : ttl;
}

/* a cache with a positive, a negative and an expired entry, saved */
static char *
saved(char *dir, size_t *len)
{
	struct cache *c = cache_new(&ccfg, 1);
	struct tu_resp pos = { .nans = 1, .ttl = 300 };
	struct tu_resp nx = { .rcode = RCODE_NXDOMAIN, .soa = true, .soa_ttl = 60, .soa_min = 60 };
	struct tu_resp short_ = { .nans = 1, .ttl = 10 };
	char path[300], why[256], *text;
	size_t n;

	put(c, "www.example.com", TYPE_A, pos, NOW0);
	put(c, "nx.example.com", TYPE_A, nx, NOW0);
	put(c, "short.example.com", TYPE_A, short_, NOW0);
	snprintf(path, sizeof(path), "%s/cache", dir);
	/* saved 20 s later: short.example.com expired 10 s ago */
	ck_assert_int_eq(snapshot_save(path, c, NOW0 + 20000, WALL0 + 20000,
	                     snapshot_settings(&ccfg), NET, &n, why, sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(n, 3);
	cache_free(c);
	ck_assert_int_eq(file_read(path, &text, len), 0);
	return text;
}

START_TEST(test_roundtrip)
{
	char dir[] = "/tmp/stubd-snap-XXXXXX", path[300], tmp[310], why[256];
	struct cache *c;
	struct stat st;
	size_t len, loaded;
	char *text;
	/* restarted 10 s later, on a clock that starts elsewhere */
	uint64_t now1 = NOW0 + 123456789, wall1 = WALL0 + 30000;
	struct cache_cfg stale = ccfg;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	text = saved(dir, &len);
	snprintf(path, sizeof(path), "%s/cache", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_ne(access(tmp, F_OK), 0); /* renamed into place */
	c = cache_new(&ccfg, 2);
	ck_assert_int_eq(snapshot_load(path, c, now1, wall1, snapshot_settings(&ccfg), NET, 0,
	                     1u << 20, &loaded, why, sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(loaded, 2);
	ck_assert_int_eq(ttl_of(c, "www.example.com", TYPE_A, now1), 270);
	ck_assert_int_eq(ttl_of(c, "nx.example.com", TYPE_A, now1), 30);
	ck_assert_int_eq(ttl_of(c, "short.example.com", TYPE_A, now1), -1);
	/* the entry keeps its absolute expiry: gone 270 s on */
	ck_assert_int_eq(ttl_of(c, "www.example.com", TYPE_A, now1 + 271000), -1);
	cache_free(c);
	/* with serve-stale the expired one comes back as stale */
	stale.serve_stale = 3600;
	c = cache_new(&stale, 3);
	ck_assert_int_eq(snapshot_load_buf((const uint8_t *)text, len, c, now1, wall1,
	                     snapshot_settings(&stale), NET, 3600, &loaded, why, sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(loaded, 3);
	ck_assert_int_eq(ttl_of(c, "short.example.com", TYPE_A, now1), -2);
	cache_free(c);
	/* read on another network: the negative answer is dropped */
	c = cache_new(&ccfg, 7);
	ck_assert_int_eq(snapshot_load_buf((const uint8_t *)text, len, c, now1, wall1,
	                     snapshot_settings(&ccfg), NET + 1, 0, &loaded, why, sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(loaded, 1);
	ck_assert_int_eq(ttl_of(c, "www.example.com", TYPE_A, now1), 270);
	ck_assert_int_eq(ttl_of(c, "nx.example.com", TYPE_A, now1), -1);
	cache_free(c);
	/* too big for the cache: refused before reading */
	c = cache_new(&ccfg, 4);
	ck_assert_int_eq(snapshot_load(path, c, now1, wall1, snapshot_settings(&ccfg), NET, 0, 16,
	                     &loaded, why, sizeof(why)),
	    STUB_EFORMAT);
	cache_free(c);
	free(text);
	unlink(path);
	rmdir(dir);
}
END_TEST

static enum stub_err
load(const uint8_t *b, size_t n, size_t *loaded, char *why)
{
	struct cache *c = cache_new(&ccfg, 5);
	enum stub_err e = snapshot_load_buf(b, n, c, NOW0, WALL0 + 30000, snapshot_settings(&ccfg),
	    NET, 0, loaded, why, 256);

	if (e != STUB_OK)
		ck_assert_uint_eq(cache_count(c), *loaded);
	cache_free(c);
	return e;
}

/* Does a client that set AD get AD on name's cached answer? */
static bool
served_ad(struct cache *c, const char *name, uint64_t now)
{
	uint8_t b[512], out[2048];
	struct tq_opts o = { .id = 0x4545, .ad = true };
	size_t l = tu_build_query(name, TYPE_A, &o, b, sizeof(b)), n;
	enum cache_lookup_result found;
	struct cache_entry *e;
	struct msg_query q;

	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	q.hash = cache_hash(c, q.key, q.qlen, q.qtype, q.qclass, q.do_bit, q.cd_bit);
	e = cache_lookup(c, &q, now, &found);
	ck_assert_ptr_nonnull(e);
	n = cache_serve(c, e, &q, now, false, 1232, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	return tu_ad(out, n);
}

/* An AD bit stored from a server trusted for it holds only while the
 * servers are the same: read under other servers (or another trust-ad),
 * the answers stay but their AD bits are cleared. */
START_TEST(test_network_clears_ad)
{
	char dir[] = "/tmp/stubd-snap-XXXXXX", path[300], why[256];
	struct tu_resp pos = { .nans = 1, .ttl = 300, .ad = true };
	struct cache *c = cache_new(&ccfg, 1);
	size_t n, loaded;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cache", dir);
	put(c, "signed.example.com", TYPE_A, pos, NOW0);
	ck_assert(served_ad(c, "signed.example.com", NOW0));
	/* SPEC 18: what an entry came through is kept, AD only on the same
	 * network */
	put_via(c, "tls.example.com", TYPE_A, pos, CACHE_VIA_ENC | CACHE_VIA_AD, NOW0);
	put_via(c, "ad.example.com", TYPE_A, pos, CACHE_VIA_AD, NOW0);
	ck_assert_int_eq(snapshot_save(path, c, NOW0, WALL0, snapshot_settings(&ccfg), NET, &n, why,
	                     sizeof(why)),
	    STUB_OK);
	cache_free(c);
	c = cache_new(&ccfg, 2);
	ck_assert_int_eq(snapshot_load(path, c, NOW0, WALL0, snapshot_settings(&ccfg), NET, 0,
	                     1u << 20, &loaded, why, sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(loaded, 3);
	ck_assert(served_ad(c, "signed.example.com", NOW0));
	ck_assert_int_eq(via_of(c, "signed.example.com", TYPE_A, NOW0), 0);
	ck_assert_int_eq(via_of(c, "tls.example.com", TYPE_A, NOW0), CACHE_VIA_ENC | CACHE_VIA_AD);
	ck_assert_int_eq(via_of(c, "ad.example.com", TYPE_A, NOW0), CACHE_VIA_AD);
	cache_free(c);
	c = cache_new(&ccfg, 3);
	ck_assert_int_eq(snapshot_load(path, c, NOW0, WALL0, snapshot_settings(&ccfg), NET + 1, 0,
	                     1u << 20, &loaded, why, sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(loaded, 3);
	ck_assert(!served_ad(c, "signed.example.com", NOW0));
	ck_assert_int_eq(via_of(c, "tls.example.com", TYPE_A, NOW0), CACHE_VIA_ENC);
	ck_assert_int_eq(via_of(c, "ad.example.com", TYPE_A, NOW0), 0);
	cache_free(c);
	unlink(path);
	rmdir(dir);
}
END_TEST

static uint64_t
network_of(const char *text)
{
	struct cfg *c = cfg_new("/run/stubd.sock", "/etc/hosts");
	uint64_t h;

	ck_assert_uint_eq(cfg_parse_text(c, text, strlen(text), "test.conf"), 0);
	ck_assert_uint_eq(cfg_finish(c, NULL), 0);
	h = snapshot_network(c);
	cfg_unref(c);
	return h;
}

/* The network a file was written on: its servers with their adapters,
 * transports and AD trust, in any order. */
START_TEST(test_network_hash)
{
	uint64_t two = network_of("server 192.0.2.1\nserver 192.0.2.2\n");

	ck_assert_uint_eq(two, network_of("server 192.0.2.2\nserver 192.0.2.1\n"));
	ck_assert_uint_ne(two, network_of("server 192.0.2.1\n"));
	ck_assert_uint_ne(two, network_of("server 192.0.2.1\nserver 192.0.2.3\n"));
	ck_assert_uint_ne(two, network_of("server 192.0.2.1 trust-ad\nserver 192.0.2.2\n"));
	ck_assert_uint_ne(two, network_of("server 192.0.2.1 tls dns.example\nserver 192.0.2.2\n"));
	ck_assert_uint_ne(network_of("server 192.0.2.1 tls a.example\n"),
	    network_of("server 192.0.2.1 tls b.example\n"));
	ck_assert_uint_ne(two,
	    network_of("adapter lan\nserver 192.0.2.1\nadapter wifi\n"
	               "server 192.0.2.2\n"));
}
END_TEST

/* Is name/A cached for a question with (cd) or without CD? */
static bool
cached_cd(struct cache *c, const char *name, bool cd, uint64_t now)
{
	uint8_t b[512];
	struct tq_opts o = { .id = 0x4646 };
	size_t l = tu_build_query(name, TYPE_A, &o, b, sizeof(b));
	enum cache_lookup_result found;
	struct msg_query q;

	if (cd)
		b[3] |= 0x10;
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	q.hash = cache_hash(c, q.key, q.qlen, q.qtype, q.qclass, q.do_bit, q.cd_bit);
	return cache_lookup(c, &q, now, &found) != NULL && found == CACHE_FRESH;
}

/* The CD bit of the key survives a save and a load; a file of the version
 * before the CD key is ignored */
START_TEST(test_cd_roundtrip)
{
	char dir[] = "/tmp/stubd-snap-XXXXXX", path[300], why[256];
	struct cache *c = cache_new(&ccfg, 1);
	struct tu_resp pos = { .nans = 1,
		.ttl = 300,
		.id = 9,
		.name = "cd.example.com",
		.qtype = TYPE_A };
	uint8_t b[2048], q0[512];
	struct tq_opts o = { .id = 9 };
	struct msg_query q;
	struct msg_resp m;
	size_t l, n, len, loaded;
	bool stored;
	char *text;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	l = tu_build_query("cd.example.com", TYPE_A, &o, q0, sizeof(q0));
	q0[3] |= 0x10;
	ck_assert_int_eq(msg_parse_query(q0, l, &q), MSG_OK);
	q.hash = cache_hash(c, q.key, q.qlen, q.qtype, q.qclass, q.do_bit, q.cd_bit);
	l = tu_response(&pos, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 9, q.key, q.qlen, TYPE_A, CLASS_IN, &m), STUB_OK);
	ck_assert_int_eq(cache_insert(c, &q, b, &m, "192.0.2.1:53%lan", NOW0, &stored), 0);
	ck_assert(cached_cd(c, "cd.example.com", true, NOW0));
	ck_assert(!cached_cd(c, "cd.example.com", false, NOW0));
	snprintf(path, sizeof(path), "%s/cache", dir);
	ck_assert_int_eq(snapshot_save(path, c, NOW0, WALL0, snapshot_settings(&ccfg), NET, &n, why,
	                     sizeof(why)),
	    STUB_OK);
	cache_free(c);
	c = cache_new(&ccfg, 5);
	ck_assert_int_eq(snapshot_load(path, c, NOW0, WALL0, snapshot_settings(&ccfg), NET, 0,
	                     1u << 30, &loaded, why, sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(loaded, 1);
	ck_assert(cached_cd(c, "cd.example.com", true, NOW0));
	ck_assert(!cached_cd(c, "cd.example.com", false, NOW0));
	cache_free(c);
	/* version 2 (no CD in the key): refused whole, with a reason */
	ck_assert_int_eq(file_read(path, &text, &len), 0);
	ck_assert_uint_eq((uint8_t)text[11], SNAPSHOT_VERSION);
	text[11] = 2;
	ck_assert_int_eq(load((uint8_t *)text, len, &loaded, why), STUB_EFORMAT);
	ck_assert_str_eq(why, "version 2, not 3");
	free(text);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_refused)
{
	char dir[] = "/tmp/stubd-snap-XXXXXX", why[256];
	size_t len, i, loaded;
	char *text;
	uint8_t *b;
	struct cache_cfg other = ccfg;
	struct cache *c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	text = saved(dir, &len);
	b = (uint8_t *)text;
	ck_assert_int_eq(load(b, len, &loaded, why), STUB_OK);
	/* every truncation, the empty file included */
	for (i = 0; i < len; i++)
		ck_assert_msg(load(b, i, &loaded, why) != STUB_OK, "truncated at %zu accepted", i);
	/* every single-byte flip, but in the network (it only drops negative
	 * answers) and the time written (for people only) */
	for (i = 0; i < len; i++) {
		if (i >= 24 && i < 40)
			continue;
		b[i] ^= 0x20;
		ck_assert_msg(load(b, len, &loaded, why) != STUB_OK, "flip at %zu accepted", i);
		b[i] ^= 0x20;
	}
	/* another version, byte order, settings */
	b[11] ^= 2;
	ck_assert_int_eq(load(b, len, &loaded, why), STUB_EFORMAT);
	ck_assert(strstr(why, "version") != NULL);
	b[11] ^= 2;
	{
		uint8_t bom[4];

		memcpy(bom, b + 12, 4);
		b[12] = bom[3];
		b[13] = bom[2];
		b[14] = bom[1];
		b[15] = bom[0];
		ck_assert_int_eq(load(b, len, &loaded, why), STUB_EFORMAT);
		ck_assert(strstr(why, "byte order") != NULL);
		memcpy(b + 12, bom, 4);
	}
	other.max_ttl = 3600;
	c = cache_new(&other, 6);
	ck_assert_int_eq(snapshot_load_buf(b, len, c, NOW0, WALL0, snapshot_settings(&other), NET,
	                     0, &loaded, why, sizeof(why)),
	    STUB_EFORMAT);
	ck_assert(strstr(why, "settings") != NULL);
	ck_assert_uint_eq(cache_count(c), 0);
	cache_free(c);
	free(text);
	snprintf(why, sizeof(why), "%s/cache", dir);
	unlink(why);
	rmdir(dir);
}
END_TEST

/* A file large enough to be read by two threads (parse and check in one,
 * insert in the other): every entry comes back, with its TTL. */
START_TEST(test_large_two_threads)
{
	struct cache_cfg big = ccfg;
	struct cache *c;
	struct tu_resp pos = { .nans = 2, .ttl = 300 };
	struct tu_resp nx = { .rcode = RCODE_NXDOMAIN, .soa = true, .soa_ttl = 60, .soa_min = 60 };
	char base[64], path[300], why[256], name[64];
	size_t n, loaded, i;

	big.max_entries = 60000;
	c = cache_new(&big, 1);
	for (i = 0; i < 50000; i++) {
		snprintf(name, sizeof(name), "n%zu.example.com", i);
		put(c, name, TYPE_A, i % 7 ? pos : nx, NOW0);
	}
	ck_assert_int_eq(tu_tmp_begin(base, sizeof(base)), 0);
	snprintf(path, sizeof(path), "%s/cache", base);
	ck_assert_int_eq(snapshot_save(path, c, NOW0 + 5000, WALL0 + 5000, snapshot_settings(&big),
	                     NET, &n, why, sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(n, 50000);
	cache_free(c);
	c = cache_new(&big, 2);
	ck_assert_int_eq(snapshot_load(path, c, NOW0 + 1000000, WALL0 + 15000,
	                     snapshot_settings(&big), NET, 0, (size_t)1 << 30, &loaded, why,
	                     sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(loaded, 50000);
	ck_assert_uint_eq(cache_count(c), 50000);
	/* read 15 s after they were stored: 285 s left, the negative 45 */
	ck_assert_int_eq(ttl_of(c, "n1.example.com", TYPE_A, NOW0 + 1000000), 285);
	ck_assert_int_eq(ttl_of(c, "n49999.example.com", TYPE_A, NOW0 + 1000000), 285);
	ck_assert_int_eq(ttl_of(c, "n7.example.com", TYPE_A, NOW0 + 1000000), 45);
	cache_free(c);
	tu_tmp_end(base);
}
END_TEST

/* An answer that belongs to an interface (mDNS, a link-local scope) is
 * not written: an interface index means nothing after the interface went
 * (or after a reboot); the other answers are. */
START_TEST(test_scoped_left_out)
{
	char dir[] = "/tmp/stubd-snap-XXXXXX", path[300], why[256];
	struct cache *c = cache_new(&ccfg, 1);
	struct tu_resp pos = { .nans = 1,
		.ttl = 300,
		.id = 9,
		.name = "ll.local",
		.qtype = TYPE_A };
	struct msg_query q = mkq(c, "ll.local", TYPE_A);
	uint8_t b[2048];
	struct msg_resp m;
	size_t l, n = 0, loaded = 0;
	bool stored;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	put(c, "plain.example.com", TYPE_A, (struct tu_resp){ .nans = 1, .ttl = 300 }, NOW0);
	l = tu_response(&pos, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 9, q.key, q.qlen, TYPE_A, CLASS_IN, &m), STUB_OK);
	ck_assert_int_eq(cache_insert_scoped(c, &q, b, &m, "mdns%eth0", 4, NOW0, &stored), STUB_OK);
	ck_assert(stored);
	ck_assert_uint_eq(cache_count(c), 2);
	snprintf(path, sizeof(path), "%s/cache", dir);
	ck_assert_int_eq(snapshot_save(path, c, NOW0, WALL0, snapshot_settings(&ccfg), NET, &n, why,
	                     sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(n, 1);
	cache_free(c);
	c = cache_new(&ccfg, 5);
	ck_assert_int_eq(snapshot_load(path, c, NOW0, WALL0, snapshot_settings(&ccfg), NET, 0,
	                     1u << 30, &loaded, why, sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(loaded, 1);
	ck_assert_int_eq(ttl_of(c, "plain.example.com", TYPE_A, NOW0), 300);
	ck_assert_int_eq(ttl_of(c, "ll.local", TYPE_A, NOW0), -1);
	cache_free(c);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *
snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *t = tcase_create("file");

	tcase_add_test(t, test_roundtrip);
	tcase_add_test(t, test_refused);
	tcase_add_test(t, test_cd_roundtrip);
	tcase_add_test(t, test_scoped_left_out);
	tcase_add_test(t, test_network_clears_ad);
	tcase_add_test(t, test_network_hash);
	tcase_add_test(t, test_large_two_threads);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(snapshot_suite());
}
