/*
 * check_msg.c - query validation, error answers, stored responses, served
 * copies.
 */
#include "auto-config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "msg.h"
#include "testutil.h"

static size_t
q_of(const char *name, uint16_t type, bool edns, bool do_bit, uint8_t *buf)
{
	struct tq_opts o = { .edns = edns, .do_bit = do_bit, .edns_size = 4096, .id = 0x1234 };

	return tu_build_query(name, type, &o, buf, 512);
}

START_TEST(test_query_ok)
{
	uint8_t b[512];
	size_t l = q_of("WwW.Example.COM", TYPE_A, false, false, b);
	struct msg_query q;

	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	ck_assert_uint_eq(q.id, 0x1234);
	ck_assert_uint_eq(q.qtype, TYPE_A);
	ck_assert_uint_eq(q.qclass, CLASS_IN);
	ck_assert_uint_eq(q.qlen, 17);
	ck_assert_mem_eq(q.qname, b + 12, 17);
	ck_assert_uint_eq(q.key[1], 'w');
	ck_assert_uint_eq(q.key[2], 'w');
	ck_assert_uint_eq(q.key[5], 'e');
	ck_assert(!q.edns);
	ck_assert_uint_eq(msg_udp_limit(&q), 512);
}
END_TEST

START_TEST(test_query_edns)
{
	uint8_t b[512];
	size_t l = q_of("example.com", TYPE_AAAA, true, true, b);
	struct msg_query q;

	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	ck_assert(q.edns);
	ck_assert(q.do_bit);
	/* 4096 advertised, capped at 1232 */
	ck_assert_uint_eq(msg_udp_limit(&q), MSG_EDNS_SIZE);
	/* a size under 512 counts as 512 */
	wire_set16_at(b, l, l - 11 + 3, 100);
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	ck_assert_uint_eq(msg_udp_limit(&q), 512);
}
END_TEST

START_TEST(test_query_drop)
{
	uint8_t b[512];
	size_t l = q_of("example.com", TYPE_A, false, false, b);
	struct msg_query q;

	ck_assert_int_eq(msg_parse_query(b, 11, &q), MSG_DROP);
	ck_assert_int_eq(msg_parse_query(b, 0, &q), MSG_DROP);
	b[2] |= 0x80; /* QR: a response */
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_DROP);
}
END_TEST

START_TEST(test_query_formerr)
{
	uint8_t b[512];
	size_t l = q_of("example.com", TYPE_A, false, false, b);
	struct msg_query q;

	wire_set16_at(b, l, 4, 0); /* QDCOUNT 0 */
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_FORMERR);
	ck_assert_uint_eq(q.qlen, 0);
	wire_set16_at(b, l, 4, 2); /* QDCOUNT 2 */
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_FORMERR);
	wire_set16_at(b, l, 4, 1);
	b[12] = 0x3f; /* label longer than the packet */
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_FORMERR);
	l = q_of("example.com", TYPE_A, false, false, b);
	ck_assert_int_eq(msg_parse_query(b, l - 1, &q), MSG_FORMERR); /* no qclass */
	/* a forward compression pointer in the question */
	b[12] = 0xc0;
	b[13] = 0x20;
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_FORMERR);
}
END_TEST

START_TEST(test_query_opt_rules)
{
	uint8_t b[600];
	size_t l = q_of("example.com", TYPE_A, true, false, b);
	struct msg_query q;

	/* two OPT records */
	memcpy(b + l, b + l - 11, 11);
	wire_set16_at(b, l + 11, 10, 2);
	ck_assert_int_eq(msg_parse_query(b, l + 11, &q), MSG_FORMERR);
	/* OPT counted in the answer section */
	l = q_of("example.com", TYPE_A, true, false, b);
	wire_set16_at(b, l, 10, 0);
	wire_set16_at(b, l, 6, 1);
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_FORMERR);
	/* ARCOUNT larger than what is there */
	l = q_of("example.com", TYPE_A, true, false, b);
	wire_set16_at(b, l, 10, 200);
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_FORMERR);
	/* EDNS version 1 */
	l = q_of("example.com", TYPE_A, true, false, b);
	b[l - 11 + 6] = 1;
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_BADVERS);
}
END_TEST

START_TEST(test_query_notimp)
{
	uint8_t b[512];
	size_t l = q_of("example.com", TYPE_A, false, false, b);
	struct msg_query q;
	uint8_t out[512];
	size_t n;

	b[2] = (uint8_t)((b[2] & 0x87) | (2 << 3)); /* opcode STATUS */
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_NOTIMP);
	n = msg_error(&q, RCODE_NOTIMP, out, sizeof(out));
	ck_assert_uint_eq(n, l);
	ck_assert_uint_eq(out[3] & 0xf, RCODE_NOTIMP);
	ck_assert_uint_eq((out[2] >> 3) & 0xf, 2);
	ck_assert(out[2] & 0x80);
}
END_TEST

START_TEST(test_error_reply)
{
	uint8_t b[512], out[512];
	size_t l = q_of("example.com", TYPE_MX, true, true, b), n;
	struct msg_query q;

	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	n = msg_error(&q, RCODE_REFUSED, out, sizeof(out));
	ck_assert_uint_eq(n, l); /* header + question + OPT */
	ck_assert_uint_eq(tu_id(out, n), 0x1234);
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_REFUSED);
	ck_assert(tu_has_opt(out, n));
	ck_assert_mem_eq(out + 12, b + 12, q.qlen + 4);
	/* BADVERS: extended rcode 16 = OPT ext 1, header 0 */
	n = msg_error(&q, 16, out, sizeof(out));
	ck_assert_uint_eq(tu_rcode(out, n), 0);
	ck_assert_uint_eq(out[n - 11 + 5], 1);
	/* does not fit */
	ck_assert_uint_eq(msg_error(&q, RCODE_REFUSED, out, 20), 0);
}
END_TEST

/* RFC 8914: an EDE option in the OPT record, only when asked with OPT */
START_TEST(test_error_ede)
{
	static const uint8_t ede23[] = { 0, 15, 0, 2, 0, 23 };
	uint8_t b[512], out[512];
	size_t l = q_of("example.com", TYPE_A, true, false, b), n;
	struct msg_query q;
	uint16_t rdlen = 0;

	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	n = msg_error_ede(&q, RCODE_SERVFAIL, 23, out, sizeof(out));
	ck_assert_uint_eq(n, l + 6);
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_SERVFAIL);
	ck_assert(tu_has_opt(out, n));
	ck_assert_mem_eq(out + n - 6, ede23, 6);
	ck_assert(wire_get16_at(out, n, n - 8, &rdlen));
	ck_assert_uint_eq(rdlen, 6);
	/* no room for the option: the plain error */
	ck_assert_uint_eq(msg_error_ede(&q, RCODE_SERVFAIL, 23, out, l + 3), l);
	/* without OPT: no option */
	l = q_of("example.com", TYPE_A, false, false, b);
	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	ck_assert_uint_eq(msg_error_ede(&q, RCODE_SERVFAIL, 23, out, sizeof(out)), l);
}
END_TEST

static size_t
resp_of(uint16_t id, const char *name, unsigned rcode, int nans, bool soa, bool opt, uint32_t ttl,
    uint8_t *out)
{
	struct tu_resp r = { .id = id,
		.name = name,
		.rcode = rcode,
		.nans = nans,
		.ttl = ttl,
		.soa = soa,
		.soa_ttl = 3600,
		.soa_min = 120,
		.opt = opt };

	return tu_response(&r, out, 1500);
}

START_TEST(test_store_prepare)
{
	uint8_t b[1500], name[WIRE_NAME_MAX];
	size_t l = resp_of(77, "www.example.com", 0, 2, false, true, 300, b);
	size_t nl = wire_name_from_text("www.example.com", name);
	struct msg_resp *r = malloc(sizeof(*r));

	ck_assert_int_eq(msg_store_prepare(b, l, 77, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	ck_assert(r->positive);
	ck_assert(!r->negative);
	ck_assert_uint_eq(r->min_answer_ttl, 300);
	ck_assert_uint_eq(r->nttl, 2);
	ck_assert_uint_eq(r->len, l - 11); /* OPT removed */
	ck_assert_uint_eq(b[11], 0);       /* ARCOUNT now 0 */
	ck_assert_uint_eq(r->ttl_off[0], 12 + nl + 4 + 6);
	free(r);
}
END_TEST

START_TEST(test_store_mismatch)
{
	uint8_t b[1500], name[WIRE_NAME_MAX];
	size_t l = resp_of(77, "www.example.com", 0, 1, false, false, 300, b);
	size_t nl = wire_name_from_text("www.example.com", name);
	struct msg_resp *r = malloc(sizeof(*r));

	/* wrong ID */
	ck_assert_int_eq(msg_store_prepare(b, l, 78, name, nl, TYPE_A, CLASS_IN, r), STUB_EFORMAT);
	/* wrong type */
	ck_assert_int_eq(msg_store_prepare(b, l, 77, name, nl, TYPE_AAAA, CLASS_IN, r),
	    STUB_EFORMAT);
	/* another name */
	name[1] = 'x';
	ck_assert_int_eq(msg_store_prepare(b, l, 77, name, nl, TYPE_A, CLASS_IN, r), STUB_EFORMAT);
	name[1] = 'w';
	/* not a response */
	b[2] &= 0x7f;
	ck_assert_int_eq(msg_store_prepare(b, l, 77, name, nl, TYPE_A, CLASS_IN, r), STUB_EFORMAT);
	b[2] |= 0x80;
	/* truncated in the middle of a record */
	ck_assert_int_eq(msg_store_prepare(b, l - 3, 77, name, nl, TYPE_A, CLASS_IN, r),
	    STUB_EFORMAT);
	ck_assert_int_eq(msg_store_prepare(b, l, 77, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	free(r);
}
END_TEST

START_TEST(test_store_negative)
{
	uint8_t b[1500], name[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text("nx.example.com", name);
	size_t l = resp_of(5, "nx.example.com", RCODE_NXDOMAIN, 0, true, false, 0, b);
	struct msg_resp *r = malloc(sizeof(*r));

	ck_assert_int_eq(msg_store_prepare(b, l, 5, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	ck_assert(r->negative);
	ck_assert(!r->positive);
	ck_assert(r->has_soa);
	ck_assert_uint_eq(r->soa_ttl, 3600);
	ck_assert_uint_eq(r->soa_minimum, 120);
	/* NODATA */
	l = resp_of(5, "nx.example.com", 0, 0, true, false, 0, b);
	ck_assert_int_eq(msg_store_prepare(b, l, 5, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	ck_assert(r->negative);
	ck_assert_uint_eq(r->rcode, 0);
	/* SERVFAIL: neither */
	l = resp_of(5, "nx.example.com", RCODE_SERVFAIL, 0, false, false, 0, b);
	ck_assert_int_eq(msg_store_prepare(b, l, 5, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	ck_assert(!r->negative && !r->positive);
	free(r);
}
END_TEST

/* a name pointing into a TTL field would change when the TTL is lowered */
START_TEST(test_store_pointer_into_ttl)
{
	uint8_t b[1500], name[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text("www.example.com", name);
	size_t l = resp_of(77, "www.example.com", 0, 1, false, false, 300, b);
	struct msg_resp *r = malloc(sizeof(*r));
	size_t ttl_at = 12 + nl + 4 + 6;

	ck_assert_int_eq(msg_store_prepare(b, l, 77, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	/* append a CNAME record whose RDATA points at the last TTL byte (0) */
	l = resp_of(77, "www.example.com", 0, 1, false, false, 300, b);
	b[ttl_at + 3] = 0; /* TTL 256 + 0: byte is a root label */
	b[ttl_at + 2] = 1;
	wire_set16_at(b, 1500, 6, 2);
	{
		uint8_t rr[] = { 0xc0, 12, 0, TYPE_CNAME, 0, 1, 0, 0, 0, 60, 0, 2,
			(uint8_t)(0xc0 | (ttl_at + 3) >> 8), (uint8_t)(ttl_at + 3) };

		memcpy(b + l, rr, sizeof(rr));
		l += sizeof(rr);
	}
	ck_assert_int_eq(msg_store_prepare(b, l, 77, name, nl, TYPE_A, CLASS_IN, r), STUB_EFORMAT);
	free(r);
}
END_TEST

START_TEST(test_serve_copy)
{
	uint8_t b[1500], out[1500], cq[512], name[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text("www.example.com", name);
	size_t l = resp_of(77, "www.example.com", 0, 2, false, false, 300, b), n, cl;
	struct msg_resp *r = malloc(sizeof(*r));
	struct msg_query q;
	uint32_t t;

	ck_assert_int_eq(msg_store_prepare(b, l, 77, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	cl = q_of("WWW.eXample.com", TYPE_A, true, false, cq);
	ck_assert_int_eq(msg_parse_query(cq, cl, &q), MSG_OK);
	n = msg_serve(b, r->len, r->ttl_off, r->nttl, 100, -1, &q, 1232, out, sizeof(out));
	ck_assert_uint_eq(n, r->len + 11);
	ck_assert_uint_eq(tu_id(out, n), 0x1234);
	ck_assert_mem_eq(out + 12, q.qname, q.qlen); /* 0x20 spelling */
	ck_assert(out[3] & 0x80);                    /* RA */
	wire_get32_at(out, n, r->ttl_off[0], &t);
	ck_assert_uint_eq(t, 200);
	wire_get32_at(out, n, r->ttl_off[1], &t);
	ck_assert_uint_eq(t, 300);
	ck_assert(tu_has_opt(out, n));
	/* the stored copy is untouched */
	wire_get32_at(b, l, r->ttl_off[0], &t);
	ck_assert_uint_eq(t, 300);
	/* age beyond the TTL: floor 0 */
	n = msg_serve(b, r->len, r->ttl_off, r->nttl, 1000, -1, &q, 1232, out, sizeof(out));
	wire_get32_at(out, n, r->ttl_off[0], &t);
	ck_assert_uint_eq(t, 0);
	/* fixed TTL (stale) */
	n = msg_serve(b, r->len, r->ttl_off, r->nttl, 1000, 30, &q, 1232, out, sizeof(out));
	wire_get32_at(out, n, r->ttl_off[1], &t);
	ck_assert_uint_eq(t, 30);
	/* too large for the limit: TC with the question only */
	n = msg_serve(b, r->len, r->ttl_off, r->nttl, 0, -1, &q, 40, out, sizeof(out));
	ck_assert(tu_tc(out, n));
	ck_assert_uint_eq(tu_ancount(out, n), 0);
	ck_assert_uint_eq(n, 12 + q.qlen + 4 + 11);
	free(r);
}
END_TEST

START_TEST(test_clamp)
{
	uint8_t b[1500], name[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text("www.example.com", name);
	size_t l = resp_of(1, "www.example.com", 0, 2, false, false, 10, b);
	struct msg_resp *r = malloc(sizeof(*r));
	uint32_t t;

	ck_assert_int_eq(msg_store_prepare(b, l, 1, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	msg_clamp_ttls(b, r->len, r->ttl_off, r->nttl, 60, 100);
	wire_get32_at(b, l, r->ttl_off[0], &t);
	ck_assert_uint_eq(t, 60);
	wire_get32_at(b, l, r->ttl_off[1], &t);
	ck_assert_uint_eq(t, 100); /* 110 capped */
	free(r);
}
END_TEST

START_TEST(test_synth)
{
	uint8_t cq[512], out[512];
	size_t cl = q_of("Host.Lan", TYPE_A, false, false, cq), n;
	struct msg_query q;
	static const uint8_t a1[] = { 192, 0, 2, 1 }, a2[] = { 192, 0, 2, 2 };
	struct msg_rr rr[2] = { { TYPE_A, a1, 4 }, { TYPE_A, a2, 4 } };
	char data[64];

	ck_assert_int_eq(msg_parse_query(cq, cl, &q), MSG_OK);
	n = msg_synth(&q, rr, 2, 7, 512, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(tu_ancount(out, n), 2);
	ck_assert_uint_eq(tu_rcode(out, n), 0);
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.1");
	ck_assert_int_eq(tu_first_ttl(out, n), 7);
	ck_assert_mem_eq(out + 12, q.qname, q.qlen);
	/* NODATA */
	n = msg_synth(&q, rr, 0, 7, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 0);
	ck_assert_uint_eq(tu_rcode(out, n), 0);
	/* over the limit: TC */
	n = msg_synth(&q, rr, 2, 7, 40, out, sizeof(out));
	ck_assert(tu_tc(out, n));
}
END_TEST

/* SPEC 12: AD reaches a client only when it set AD or DO; a stored entry
 * without AD (server not trusted) never gains it. */
START_TEST(test_serve_ad)
{
	uint8_t b[1500], out[1500], cq[512], name[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text("www.example.com", name);
	size_t l = resp_of(77, "www.example.com", 0, 1, false, false, 300, b), n, cl;
	struct msg_resp *r = malloc(sizeof(*r));
	struct msg_query q;

	b[3] |= 0x20; /* AD from upstream */
	ck_assert_int_eq(msg_store_prepare(b, l, 77, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	/* plain client: no AD */
	cl = q_of("www.example.com", TYPE_A, false, false, cq);
	ck_assert_int_eq(msg_parse_query(cq, cl, &q), MSG_OK);
	n = msg_serve(b, r->len, r->ttl_off, r->nttl, 0, -1, &q, 1232, out, sizeof(out));
	ck_assert_uint_eq(out[3] & 0x20, 0);
	/* AD in the query */
	cq[3] |= 0x20;
	ck_assert_int_eq(msg_parse_query(cq, cl, &q), MSG_OK);
	n = msg_serve(b, r->len, r->ttl_off, r->nttl, 0, -1, &q, 1232, out, sizeof(out));
	ck_assert_uint_eq(out[3] & 0x20, 0x20);
	/* DO without AD */
	cl = q_of("www.example.com", TYPE_A, true, true, cq);
	ck_assert_int_eq(msg_parse_query(cq, cl, &q), MSG_OK);
	n = msg_serve(b, r->len, r->ttl_off, r->nttl, 0, -1, &q, 1232, out, sizeof(out));
	ck_assert_uint_eq(out[3] & 0x20, 0x20);
	/* distrusted: cleared in the stored form, so never served */
	msg_distrust_ad(b, r->len);
	ck_assert_uint_eq(b[3] & 0x20, 0);
	n = msg_serve(b, r->len, r->ttl_off, r->nttl, 0, -1, &q, 1232, out, sizeof(out));
	ck_assert_uint_eq(out[3] & 0x20, 0);
	ck_assert_uint_gt(n, 0);
	free(r);
}
END_TEST

START_TEST(test_upstream_query)
{
	uint8_t cq[512], out[512];
	size_t cl = q_of("WWW.example.com", TYPE_A, true, true, cq), n;
	struct msg_query q;

	ck_assert_int_eq(msg_parse_query(cq, cl, &q), MSG_OK);
	n = msg_upstream_query(&q, 0xbeef, q.key, true, out, sizeof(out));
	ck_assert_uint_eq(n, cl);
	ck_assert_uint_eq(tu_id(out, n), 0xbeef);
	ck_assert_mem_eq(out + 12, q.key, q.qlen);
	ck_assert_uint_eq(out[3] & 0x20, 0x20); /* AD asked for */
	/* advertises 1232 (SPEC 5c) and keeps the DO bit */
	ck_assert_uint_eq(out[n - 11 + 3] << 8 | out[n - 11 + 4], 1232);
	ck_assert_uint_eq(out[n - 11 + 7] & 0x80, 0x80);
	n = msg_upstream_query(&q, 1, q.key, false, out, sizeof(out));
	ck_assert_uint_eq(n, cl - 11);
}
END_TEST

/* RFC 6891: a FORMERR to a query with OPT carries OPT, also when QDCOUNT
 * is not 1 (issue 20, bug 4) */
START_TEST(test_formerr_keeps_opt)
{
	uint8_t b[600], q2[600], out[512];
	size_t l = q_of("example.com", TYPE_A, true, true, b), ql, n;
	struct msg_query q;

	ql = l - 12 - 11; /* the question */
	/* QDCOUNT 0: header + OPT */
	memcpy(q2, b, 12);
	memcpy(q2 + 12, b + 12 + ql, 11);
	wire_set16_at(q2, 23, 4, 0);
	ck_assert_int_eq(msg_parse_query(q2, 23, &q), MSG_FORMERR);
	ck_assert(q.edns);
	ck_assert(q.do_bit);
	n = msg_error(&q, RCODE_FORMERR, out, sizeof(out));
	ck_assert_uint_eq(n, 23);
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_FORMERR);
	ck_assert(tu_has_opt(out, n));
	ck_assert_uint_eq(out[5], 0);  /* no question */
	ck_assert_uint_eq(out[11], 1); /* ARCOUNT */
	/* QDCOUNT 2: the question twice, then OPT */
	memcpy(q2, b, 12 + ql);
	memcpy(q2 + 12 + ql, b + 12, ql);
	memcpy(q2 + 12 + 2 * ql, b + 12 + ql, 11);
	wire_set16_at(q2, sizeof(q2), 4, 2);
	ck_assert_int_eq(msg_parse_query(q2, 12 + 2 * ql + 11, &q), MSG_FORMERR);
	ck_assert(q.edns);
	n = msg_error(&q, RCODE_FORMERR, out, sizeof(out));
	ck_assert(tu_has_opt(out, n));
	/* QDCOUNT 0 and no OPT: none */
	wire_set16_at(b, l, 4, 0);
	wire_set16_at(b, l, 10, 0);
	ck_assert_int_eq(msg_parse_query(b, 12, &q), MSG_FORMERR);
	ck_assert(!q.edns);
	n = msg_error(&q, RCODE_FORMERR, out, sizeof(out));
	ck_assert(!tu_has_opt(out, n));
}
END_TEST

/* Served copies carry the client's CD and RD and never AA (issue 20, bugs
 * 1 and 2) */
START_TEST(test_serve_flags)
{
	uint8_t b[1500], out[1500], cq[512], name[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text("www.example.com", name);
	size_t l = resp_of(77, "www.example.com", 0, 1, false, false, 300, b), n, cl;
	struct msg_resp *r = malloc(sizeof(*r));
	struct msg_query q;
	static const uint8_t a1[] = { 192, 0, 2, 1 };
	struct msg_rr rr = { TYPE_A, a1, 4 };

	b[2] |= 0x04; /* AA from upstream */
	b[3] |= 0x10; /* CD from upstream */
	ck_assert_int_eq(msg_store_prepare(b, l, 77, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	cl = q_of("www.example.com", TYPE_A, false, false, cq);
	ck_assert_int_eq(msg_parse_query(cq, cl, &q), MSG_OK);
	ck_assert(!q.cd_bit);
	n = msg_serve(b, r->len, r->ttl_off, r->nttl, 0, -1, &q, 1232, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(out[2] & 0x04, 0);    /* AA clear */
	ck_assert_uint_eq(out[3] & 0x10, 0);    /* the client's CD: 0 */
	ck_assert_uint_eq(out[2] & 0x01, 0x01); /* RD */
	/* CD=1, RD=0 */
	cq[3] |= 0x10;
	cq[2] &= (uint8_t)~0x01;
	ck_assert_int_eq(msg_parse_query(cq, cl, &q), MSG_OK);
	ck_assert(q.cd_bit);
	b[3] &= (uint8_t)~0x10;
	n = msg_serve(b, r->len, r->ttl_off, r->nttl, 0, -1, &q, 1232, out, sizeof(out));
	ck_assert_uint_eq(out[3] & 0x10, 0x10);
	ck_assert_uint_eq(out[2] & 0x01, 0);
	ck_assert_uint_eq(out[2] & 0x04, 0);
	/* truncated copies too */
	b[2] |= 0x04;
	n = msg_serve(b, r->len, r->ttl_off, r->nttl, 0, -1, &q, 40, out, sizeof(out));
	ck_assert(tu_tc(out, n));
	ck_assert_uint_eq(out[2] & 0x04, 0);
	/* synthesised answers (hosts, local): no AA, the client's CD */
	n = msg_synth(&q, &rr, 1, 7, 512, out, sizeof(out));
	ck_assert_uint_eq(out[2] & 0x04, 0);
	ck_assert_uint_eq(out[3] & 0x10, 0x10);
	free(r);
}
END_TEST

/* Additional records after the upstream's OPT are kept, their TTLs still
 * found (issue 20, bug 5) */
START_TEST(test_store_after_opt)
{
	uint8_t b[1500], out[1500], cq[512], name[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text("example.com", name), l, n, cl;
	struct msg_resp *r = malloc(sizeof(*r));
	struct msg_query q;
	struct tu_rr rrs[] = {
		{ "example.com", TYPE_MX, 300, "mx.example.com", 0, 0 },
		{ NULL, TYPE_OPT, 0, NULL, 0, 0 },
		{ "mx.example.com", TYPE_A, 200, NULL, 0, 0xc0000209 },
	};
	uint32_t t;
	char data[64];

	l = tu_build_msg(9, WIRE_RD | WIRE_RA, "example.com", TYPE_MX, rrs, 1, 0, 2, b, sizeof(b));
	ck_assert_uint_gt(l, 0);
	ck_assert_int_eq(msg_store_prepare(b, l, 9, name, nl, TYPE_MX, CLASS_IN, r), STUB_OK);
	ck_assert(r->positive);
	ck_assert_uint_eq(r->len, l - 11);
	ck_assert_uint_eq(b[11], 1); /* ARCOUNT: the glue */
	ck_assert_uint_eq(r->nttl, 2);
	ck_assert_uint_eq(r->ttl_sect[1], 2);
	wire_get32_at(b, r->len, r->ttl_off[1], &t);
	ck_assert_uint_eq(t, 200);
	ck_assert_uint_eq(b[r->len - 4], 192); /* the glue's address last */
	ck_assert_uint_eq(b[r->len - 1], 9);
	/* and served whole, with the client's OPT last */
	cl = q_of("example.com", TYPE_MX, true, false, cq);
	ck_assert_int_eq(msg_parse_query(cq, cl, &q), MSG_OK);
	n = msg_serve(b, r->len, r->ttl_off, r->nttl, 50, -1, &q, 1232, out, sizeof(out));
	ck_assert_uint_eq(n, r->len + 11);
	ck_assert_uint_eq(out[11], 2);
	wire_get32_at(out, n, r->ttl_off[1], &t);
	ck_assert_uint_eq(t, 150);
	ck_assert(tu_has_opt(out, n));
	tu_first_data(out, n, data, sizeof(data));
	/* a name pointing into the OPT record (removed) is refused */
	l = tu_build_msg(9, 0, "example.com", TYPE_MX, rrs, 1, 0, 2, b, sizeof(b));
	{
		size_t opt_at = l - 11 - (16 + 14); /* OPT before the glue */
		size_t glue = opt_at + 11;

		ck_assert_uint_eq(b[opt_at + 2], TYPE_OPT);
		/* replace the glue's owner (16 bytes) by a pointer to the OPT's
		 * root name + 14 filler bytes kept out by rdlength */
		memmove(b + glue + 2, b + glue + 16, 14);
		b[glue] = (uint8_t)(0xc0 | opt_at >> 8);
		b[glue + 1] = (uint8_t)opt_at;
		l -= 14;
		ck_assert_int_eq(msg_store_prepare(b, l, 9, name, nl, TYPE_MX, CLASS_IN, r),
		    STUB_EFORMAT);
	}
	free(r);
}
END_TEST

/* The upstream's question is matched case-insensitively; case_exact says
 * whether it echoed 0x20 */
START_TEST(test_store_case)
{
	uint8_t b[1500], name[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text("wWw.ExAmple.com", name);
	size_t l = resp_of(77, "www.example.com", 0, 1, false, false, 300, b);
	struct msg_resp *r = malloc(sizeof(*r));

	ck_assert_int_eq(msg_store_prepare(b, l, 77, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	ck_assert(!r->case_exact);
	ck_assert(r->positive);
	nl = wire_name_from_text("www.example.com", name);
	ck_assert_int_eq(msg_store_prepare(b, l, 77, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	ck_assert(r->case_exact);
	free(r);
}
END_TEST

/* A referral is no answer; NODATA with NS and SOA is negative */
START_TEST(test_store_referral)
{
	uint8_t b[1500], name[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text("www.example.com", name), l;
	struct msg_resp *r = malloc(sizeof(*r));
	struct tu_rr rrs[] = {
		{ "example.com", TYPE_NS, 3600, "ns1.example.com", 0, 0 },
		{ "example.com", TYPE_SOA, 3600, NULL, 60, 0 },
	};

	l = tu_build_msg(3, WIRE_RD, "www.example.com", TYPE_A, rrs, 0, 1, 0, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 3, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	ck_assert(r->referral);
	ck_assert(!r->negative);
	ck_assert(!r->positive);
	l = tu_build_msg(3, WIRE_RD, "www.example.com", TYPE_A, rrs, 0, 2, 0, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 3, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	ck_assert(!r->referral);
	ck_assert(r->negative);
	free(r);
}
END_TEST

/* A CNAME chain not reaching the qtype is negative (issue 20, bug 3) */
START_TEST(test_store_cname_chain)
{
	uint8_t b[1500], name[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text("a.example.com", name), l;
	struct msg_resp *r = malloc(sizeof(*r));
	struct tu_rr rrs[] = {
		{ "a.example.com", TYPE_CNAME, 3600, "b.example.com", 0, 0 },
		{ "b.example.com", TYPE_CNAME, 1800, "c.example.net", 0, 0 },
		{ "example.net", TYPE_SOA, 3600, NULL, 3, 0 },
	};
	struct tu_rr pos[] = {
		{ "a.example.com", TYPE_CNAME, 3600, "b.example.com", 0, 0 },
		{ "b.example.com", TYPE_A, 30, NULL, 0, 0 },
	};

	/* NOERROR, CNAMEs only: NODATA */
	l = tu_build_msg(4, 0, "a.example.com", TYPE_A, rrs, 2, 1, 0, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 4, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	ck_assert(r->negative);
	ck_assert(!r->positive);
	ck_assert(r->has_ttl);
	ck_assert_uint_eq(r->min_answer_ttl, 1800);
	ck_assert(r->has_soa);
	ck_assert_uint_eq(r->soa_minimum, 3);
	/* without SOA, still negative (not a referral) */
	l = tu_build_msg(4, 0, "a.example.com", TYPE_A, rrs, 2, 0, 0, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 4, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	ck_assert(r->negative && !r->referral);
	/* NXDOMAIN at the end of the chain */
	l = tu_build_msg(4, RCODE_NXDOMAIN, "a.example.com", TYPE_A, rrs, 2, 1, 0, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 4, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	ck_assert(r->negative);
	ck_assert_uint_eq(r->rcode, RCODE_NXDOMAIN);
	/* asking for the CNAME itself: positive */
	l = tu_build_msg(4, 0, "a.example.com", TYPE_CNAME, rrs, 2, 1, 0, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 4, name, nl, TYPE_CNAME, CLASS_IN, r), STUB_OK);
	ck_assert(r->positive && !r->negative);
	/* a chain that reaches the type: positive */
	l = tu_build_msg(4, 0, "a.example.com", TYPE_A, pos, 2, 0, 0, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, 4, name, nl, TYPE_A, CLASS_IN, r), STUB_OK);
	ck_assert(r->positive && !r->negative);
	free(r);
}
END_TEST

START_TEST(test_misuse)
{
	struct msg_query q;
	uint8_t out[64];

	memset(&q, 0, sizeof(q));
	ck_assert_int_eq(msg_parse_query(NULL, 100, &q), MSG_DROP);
	ck_assert_uint_eq(msg_error(NULL, 1, out, sizeof(out)), 0);
	ck_assert_uint_gt(msg_error(&q, 1, out, sizeof(out)), 0); /* header only */
	ck_assert_uint_eq(msg_upstream_query(&q, 1, q.key, false, out, sizeof(out)), 0);
	ck_assert_uint_eq(msg_serve(NULL, 0, NULL, 0, 0, -1, &q, 512, out, sizeof(out)), 0);
	ck_assert_uint_eq(msg_synth(&q, NULL, 0, 0, 512, out, sizeof(out)), 0);
	ck_assert_int_eq(msg_store_prepare(NULL, 0, 0, q.key, 1, 1, 1, NULL), STUB_EINVAL);
}
END_TEST

static Suite *
msg_suite(void)
{
	Suite *s = suite_create("msg");
	TCase *b = tcase_create("basic"), *m = tcase_create("misuse");

	tcase_add_test(b, test_query_ok);
	tcase_add_test(b, test_error_ede);
	tcase_add_test(b, test_query_edns);
	tcase_add_test(b, test_query_drop);
	tcase_add_test(b, test_query_formerr);
	tcase_add_test(b, test_query_opt_rules);
	tcase_add_test(b, test_query_notimp);
	tcase_add_test(b, test_error_reply);
	tcase_add_test(b, test_store_prepare);
	tcase_add_test(b, test_store_mismatch);
	tcase_add_test(b, test_store_negative);
	tcase_add_test(b, test_store_pointer_into_ttl);
	tcase_add_test(b, test_serve_copy);
	tcase_add_test(b, test_clamp);
	tcase_add_test(b, test_synth);
	tcase_add_test(b, test_upstream_query);
	tcase_add_test(b, test_serve_ad);
	tcase_add_test(b, test_formerr_keeps_opt);
	tcase_add_test(b, test_serve_flags);
	tcase_add_test(b, test_store_after_opt);
	tcase_add_test(b, test_store_case);
	tcase_add_test(b, test_store_referral);
	tcase_add_test(b, test_store_cname_chain);
	tcase_add_test(m, test_misuse);
	suite_add_tcase(s, b);
	suite_add_tcase(s, m);
	return s;
}

int
main(void)
{
	return check_main(msg_suite());
}
