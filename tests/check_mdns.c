/*
 * check_mdns.c - the messages of multicast DNS (SPEC 19): which names go
 * by multicast, the one-shot query, and replies turned into answers
 * (matching by owner name and type with QDCOUNT 0, the cache-flush bit,
 * TTLs capped at 10 s, names in data uncompressed).  Fake replies are
 * built with the wire writer.
 */
#include "auto-config.h"

#include <check.h>
#include <string.h>

#include "checkmain.h"
#include "config.h"
#include "mdnsmsg.h"
#include "msg.h"
#include "testutil.h"
#include "wire.h"

static size_t
name_of(const char *text, uint8_t n[WIRE_NAME_MAX])
{
	size_t l = wire_name_from_text(text, n);

	ck_assert_uint_gt(l, 0);
	return l;
}

/* A client query for text/type, parsed as the pipeline parses it. */
static void
query_of(const char *text, uint16_t type, struct msg_query *q)
{
	uint8_t pkt[512], n[WIRE_NAME_MAX];
	struct wire_wr w;
	struct wire_hdr h = { 0x1234, WIRE_RD, 1, 0, 0, 0 };
	size_t l = name_of(text, n);

	wire_wr_init(&w, pkt, sizeof(pkt));
	wire_put_hdr(&w, &h);
	wire_put_name(&w, n, l);
	wire_put_u16(&w, type);
	wire_put_u16(&w, CLASS_IN);
	ck_assert_int_eq(w.err, 0);
	ck_assert_int_eq(msg_parse_query(pkt, w.len, q), MSG_OK);
}

/* One record with an uncompressed owner. */
static void
put_rr(struct wire_wr *w, const char *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
    const void *rd, uint16_t rdlen)
{
	uint8_t n[WIRE_NAME_MAX];
	size_t l = name_of(owner, n);

	wire_put_name(w, n, l);
	wire_put_u16(w, type);
	wire_put_u16(w, rclass);
	wire_put_u32(w, ttl);
	wire_put_u16(w, rdlen);
	wire_put_bytes(w, rd, rdlen);
}

static void
start_reply(struct wire_wr *w, uint8_t *buf, size_t cap, uint16_t flags, uint16_t an, uint16_t ns,
    uint16_t ar)
{
	struct wire_hdr h = { 0, flags, 0, an, ns, ar };

	wire_wr_init(w, buf, cap);
	wire_put_hdr(w, &h);
}

/* The answer's records: each TTL, type and first data byte checked by
 * the caller through msg_store_prepare's view. */
static void
prepare(uint8_t *out, size_t n, const struct msg_query *q, struct msg_resp *r)
{
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(msg_store_prepare(out, n, 0, q->qname, q->qlen, q->qtype, q->qclass, r),
	    STUB_OK);
}

static const uint8_t addr4[4] = { 10, 0, 0, 9 };

START_TEST(test_names)
{
	struct msg_query q;

#define WANT(text, yes) \
	do { \
		query_of(text, TYPE_A, &q); \
		ck_assert_msg(mdns_name(q.key, q.qlen) == (yes), "%s", text); \
	} while (0)
	WANT("printer.local", true);
	WANT("Printer.LOCAL", true);
	WANT("a.b.printer.local", true);
	WANT("local", false);
	WANT("printer.localx", false);
	WANT("printer.local.example", false);
	WANT("9.0.254.169.in-addr.arpa", true);
	WANT("254.169.in-addr.arpa", true);
	WANT("9.0.253.169.in-addr.arpa", false);
	WANT("9.0.168.192.in-addr.arpa", false);
	WANT("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa", true);
	WANT("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.e.f.ip6.arpa", true);
	WANT("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.e.f.ip6.arpa", false);
	WANT("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", false);
#undef WANT
}
END_TEST

START_TEST(test_wanted)
{
	struct cfg *c = cfg_new(NULL, NULL);
	struct msg_query q;
	static const char corp[] = "adapter corp\nserver 192.0.2.1\ndomain local\n";

	ck_assert_ptr_nonnull(c);
	query_of("printer.local", TYPE_A, &q);
	ck_assert(c->mdns);
	ck_assert_uint_eq(c->mdns_timeout_ms, 1000);
	ck_assert(mdns_wanted(c, q.key, q.qlen));
	ck_assert_uint_eq(cfg_parse_text(c, "mdns no\nmdns-timeout 0.25\n", 26, "t"), 0);
	ck_assert(!c->mdns);
	ck_assert_uint_eq(c->mdns_timeout_ms, 250);
	ck_assert(!mdns_wanted(c, q.key, q.qlen));
	ck_assert_uint_eq(cfg_parse_text(c, "mdns maybe\n", 11, "t"), 1);
	cfg_unref(c);
	/* an adapter routing local takes .local names by unicast */
	c = cfg_new(NULL, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(cfg_parse_text(c, corp, sizeof(corp) - 1, "t"), 0);
	ck_assert(mdns_routed(c));
	ck_assert(!mdns_wanted(c, q.key, q.qlen));
	cfg_unref(c);
}
END_TEST

START_TEST(test_query)
{
	struct msg_query q;
	uint8_t out[512];
	struct wire_rd r;
	struct wire_hdr h;
	uint8_t n[WIRE_NAME_MAX], want[WIRE_NAME_MAX];
	size_t len, l;

	query_of("Printer.Local", TYPE_AAAA, &q);
	len = mdns_query(&q, out, sizeof(out));
	ck_assert_uint_gt(len, 0);
	wire_rd_init(&r, out, len);
	ck_assert_int_eq(wire_hdr(&r, &h), 0);
	/* ID 0, no flags (RD clear), one question, nothing else */
	ck_assert_uint_eq(h.id, 0);
	ck_assert_uint_eq(h.flags, 0);
	ck_assert_uint_eq(h.qdcount, 1);
	ck_assert_uint_eq(h.ancount + h.nscount + h.arcount, 0);
	l = wire_name(&r, n);
	ck_assert_mem_eq(n, want, name_of("printer.local", want));
	ck_assert_uint_eq(l, q.qlen);
	ck_assert_uint_eq(wire_u16(&r), TYPE_AAAA);
	/* class IN with the QU bit clear: the answer comes back by unicast to
	 * our port anyway (one-shot, RFC 6762 5.1) */
	ck_assert_uint_eq(wire_u16(&r), CLASS_IN);
	ck_assert_uint_eq(wire_left(&r), 0);
}
END_TEST

/* QDCOUNT 0, owner in another case, cache-flush bit, TTL 120: accepted,
 * class IN, TTL 10, the client's spelling in question and owner. */
START_TEST(test_answer_matches)
{
	struct msg_query q;
	uint8_t pkt[512], out[MSG_MAX];
	struct wire_wr w;
	struct msg_resp r;
	size_t n;
	uint32_t ttl;
	uint16_t cls;

	query_of("printer.local", TYPE_A, &q);
	start_reply(&w, pkt, sizeof(pkt), WIRE_QR | WIRE_AA, 1, 0, 0);
	put_rr(&w, "PRINTER.local", TYPE_A, 0x8001, 120, addr4, 4);
	n = mdns_answer(pkt, w.len, &q, out, sizeof(out));
	prepare(out, n, &q, &r);
	ck_assert(r.positive);
	ck_assert_uint_eq(r.ancount, 1);
	ck_assert_uint_eq(r.nttl, 1);
	ck_assert(wire_get32_at(out, n, r.ttl_off[0], &ttl));
	ck_assert_uint_eq(ttl, MDNS_TTL_CAP);
	ck_assert(wire_get16_at(out, n, r.ttl_off[0] - 2, &cls));
	ck_assert_uint_eq(cls, CLASS_IN);
	ck_assert_mem_eq(out + n - 4, addr4, 4);
	/* a TTL under the cap stays */
	start_reply(&w, pkt, sizeof(pkt), WIRE_QR | WIRE_AA, 1, 0, 0);
	put_rr(&w, "printer.local", TYPE_A, CLASS_IN, 5, addr4, 4);
	n = mdns_answer(pkt, w.len, &q, out, sizeof(out));
	prepare(out, n, &q, &r);
	ck_assert(wire_get32_at(out, n, r.ttl_off[0], &ttl));
	ck_assert_uint_eq(ttl, 5);
}
END_TEST

/* Only the records of the question: other names, other types, other
 * classes, goodbyes (TTL 0) and authority records are left out; nothing
 * left is no answer. */
START_TEST(test_answer_filters)
{
	struct msg_query q;
	uint8_t pkt[512], out[MSG_MAX];
	static const uint8_t addr6[16] = { 0xfd, [15] = 9 };
	struct wire_wr w;
	struct msg_resp r;
	size_t n;

	query_of("printer.local", TYPE_A, &q);
	start_reply(&w, pkt, sizeof(pkt), WIRE_QR | WIRE_AA, 4, 1, 0);
	put_rr(&w, "scanner.local", TYPE_A, CLASS_IN, 120, addr4, 4);
	put_rr(&w, "printer.local", TYPE_AAAA, CLASS_IN, 120, addr6, 16);
	put_rr(&w, "printer.local", TYPE_A, 3, 120, addr4, 4);
	put_rr(&w, "printer.local", TYPE_A, 0x8001, 0, addr4, 4);
	put_rr(&w, "printer.local", TYPE_A, CLASS_IN, 120, addr4, 4); /* authority */
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(mdns_answer(pkt, w.len, &q, out, sizeof(out)), 0);
	/* the same plus a match in the additional section: just that one */
	start_reply(&w, pkt, sizeof(pkt), WIRE_QR | WIRE_AA, 4, 1, 1);
	put_rr(&w, "scanner.local", TYPE_A, CLASS_IN, 120, addr4, 4);
	put_rr(&w, "printer.local", TYPE_AAAA, CLASS_IN, 120, addr6, 16);
	put_rr(&w, "printer.local", TYPE_A, 3, 120, addr4, 4);
	put_rr(&w, "printer.local", TYPE_A, 0x8001, 0, addr4, 4);
	put_rr(&w, "printer.local", TYPE_A, CLASS_IN, 120, addr4, 4);
	put_rr(&w, "printer.local", TYPE_A, 0x8001, 60, addr4, 4);
	n = mdns_answer(pkt, w.len, &q, out, sizeof(out));
	prepare(out, n, &q, &r);
	ck_assert_uint_eq(r.ancount, 1);
	/* the AAAA question takes the AAAA record */
	query_of("printer.local", TYPE_AAAA, &q);
	n = mdns_answer(pkt, w.len, &q, out, sizeof(out));
	prepare(out, n, &q, &r);
	ck_assert_uint_eq(r.ancount, 1);
	ck_assert_mem_eq(out + n - 16, addr6, 16);
}
END_TEST

/* Not a usable reply: a query, a non-zero rcode, another opcode, cut. */
START_TEST(test_answer_rejects)
{
	struct msg_query q;
	uint8_t pkt[512], out[MSG_MAX];
	struct wire_wr w;
	static const uint16_t flags[] = { WIRE_AA, WIRE_QR | RCODE_NXDOMAIN, WIRE_QR | (5 << 11) };
	size_t i, cut;

	query_of("printer.local", TYPE_A, &q);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		start_reply(&w, pkt, sizeof(pkt), flags[i], 1, 0, 0);
		put_rr(&w, "printer.local", TYPE_A, CLASS_IN, 120, addr4, 4);
		ck_assert_uint_eq(mdns_answer(pkt, w.len, &q, out, sizeof(out)), 0);
	}
	start_reply(&w, pkt, sizeof(pkt), WIRE_QR, 1, 0, 0);
	put_rr(&w, "printer.local", TYPE_A, CLASS_IN, 120, addr4, 4);
	ck_assert_uint_gt(mdns_answer(pkt, w.len, &q, out, sizeof(out)), 0);
	for (cut = 0; cut < w.len; cut++)
		ck_assert_uint_eq(mdns_answer(pkt, cut, &q, out, sizeof(out)), 0);
	/* too small an output */
	ck_assert_uint_eq(mdns_answer(pkt, w.len, &q, out, 20), 0);
}
END_TEST

/* A reverse name's PTR whose data is compressed (a pointer into the
 * reply) is written out whole. */
START_TEST(test_answer_ptr_uncompressed)
{
	struct msg_query q;
	uint8_t pkt[512], out[MSG_MAX], n[WIRE_NAME_MAX], want[WIRE_NAME_MAX];
	struct wire_wr w;
	struct msg_resp r;
	struct wire_rd rd;
	struct wire_rr rr;
	struct wire_hdr h = { 0, WIRE_QR | WIRE_AA, 1, 1, 0, 0 };
	size_t len, wl, l, qoff;

	query_of("9.0.254.169.in-addr.arpa", TYPE_PTR, &q);
	/* a question "printer.local" at offset 12, then the PTR pointing at it
	 * (a reply with a question: QDCOUNT 1, skipped) */
	wire_wr_init(&w, pkt, sizeof(pkt));
	wire_put_hdr(&w, &h);
	qoff = w.len;
	wire_put_name(&w, want, name_of("printer.local", want));
	wire_put_u16(&w, TYPE_A);
	wire_put_u16(&w, CLASS_IN);
	wire_put_name(&w, q.key, q.qlen);
	wire_put_u16(&w, TYPE_PTR);
	wire_put_u16(&w, 0x8001);
	wire_put_u32(&w, 4500);
	wire_put_u16(&w, 2);
	wire_put_u16(&w, (uint16_t)(0xc000 | qoff));
	ck_assert_int_eq(w.err, 0);
	len = mdns_answer(pkt, w.len, &q, out, sizeof(out));
	prepare(out, len, &q, &r);
	ck_assert(r.positive);
	wire_rd_init(&rd, out, len);
	wire_seek(&rd, WIRE_HDR_LEN);
	wire_name(&rd, NULL);
	wire_skip(&rd, 4);
	ck_assert_int_eq(wire_rr(&rd, &rr), 0);
	ck_assert_uint_eq(rr.ttl, MDNS_TTL_CAP);
	wl = name_of("printer.local", want);
	ck_assert_uint_eq(rr.rdlen, wl);
	wire_seek(&rd, rr.rd_off);
	l = wire_name(&rd, n);
	ck_assert_uint_eq(l, wl);
	ck_assert_mem_eq(n, want, wl);
	/* the data is whole: no pointer left in it */
	ck_assert_uint_eq(out[rr.rd_off] & 0xc0, 0);
	/* a name running past the record's data is refused */
	pkt[w.len - 3] = 1; /* rdlen 1: the pointer cut in half */
	ck_assert_uint_eq(mdns_answer(pkt, w.len - 1, &q, out, sizeof(out)), 0);
}
END_TEST

START_TEST(test_nxdomain)
{
	struct msg_query q;
	uint8_t out[512];
	struct msg_resp r;
	size_t n;

	query_of("NoSuch.local", TYPE_A, &q);
	n = mdns_nxdomain(&q, out, sizeof(out));
	prepare(out, n, &q, &r);
	ck_assert_uint_eq(r.rcode, RCODE_NXDOMAIN);
	ck_assert(r.negative);
	ck_assert(!r.has_soa);
}
END_TEST

static Suite *
mdns_suite(void)
{
	Suite *s = suite_create("mdns");
	TCase *t = tcase_create("basic");

	tcase_add_test(t, test_names);
	tcase_add_test(t, test_wanted);
	tcase_add_test(t, test_query);
	tcase_add_test(t, test_answer_matches);
	tcase_add_test(t, test_answer_filters);
	tcase_add_test(t, test_answer_rejects);
	tcase_add_test(t, test_answer_ptr_uncompressed);
	tcase_add_test(t, test_nxdomain);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(mdns_suite());
}
