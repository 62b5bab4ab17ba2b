/*
 * check_ddr.c - reading the DDR probe's answer (RFC 9462; SPEC 17): the
 * designated resolver chosen, and every rejection decided from the
 * records (TargetName ".", unknown mandatory key, no supported ALPN).
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "checkmain.h"
#include "ddr.h"
#include "svcb.h"

static size_t
hex(const char *t, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*t) {
		unsigned v;

		if (isspace((unsigned char)*t)) {
			t++;
			continue;
		}
		ck_assert(sscanf(t, "%2x", &v) == 1);
		ck_assert_uint_lt(n, cap);
		out[n++] = (uint8_t)v;
		t += 2;
	}
	return n;
}

/* A response to _dns.resolver.arpa SVCB with the RDATAs given (hex), TTL
 * 300 + 100 * i. */
static size_t
answer(unsigned rcode, const char *const *rdatas, size_t n, uint8_t *out, size_t cap)
{
	static const uint8_t qname[] = "\004_dns\010resolver\004arpa";
	struct wire_wr w;
	struct wire_hdr h = { .id = 7,
		.flags = (uint16_t)(WIRE_QR | WIRE_RD | WIRE_RA | rcode),
		.qdcount = 1,
		.ancount = (uint16_t)n };
	size_t i;

	wire_wr_init(&w, out, cap);
	wire_put_hdr(&w, &h);
	wire_put_name(&w, qname, sizeof(qname));
	wire_put_u16(&w, TYPE_SVCB);
	wire_put_u16(&w, CLASS_IN);
	for (i = 0; i < n; i++) {
		uint8_t rd[512];
		size_t l = hex(rdatas[i], rd, sizeof(rd));

		wire_put_u16(&w, 0xc00c);
		wire_put_u16(&w, TYPE_SVCB);
		wire_put_u16(&w, CLASS_IN);
		wire_put_u32(&w, 300 + 100 * (uint32_t)i);
		wire_put_u16(&w, (uint16_t)l);
		wire_put_bytes(&w, rd, l);
	}
	ck_assert_int_eq(w.err, 0);
	return w.len;
}

static enum ddr_verdict
probe(const char *clear_text, const char *const *rd, size_t n, struct ddr_result *r)
{
	uint8_t m[2048];
	struct cfg_sockaddr sa;
	size_t l = answer(0, rd, n, m, sizeof(m));

	ck_assert_int_eq(cfg_parse_sockaddr(clear_text, 53, &sa), STUB_OK);
	return ddr_read_answer(m, l, (struct sockaddr *)&sa.ss, r);
}

#define DNS_TEST "03 646e73 04 74657374 00"
#define ALPN_DOT "0001 0004 03 646f74"
#define ALPN_H2 "0001 0003 02 6832"
#define DOHPATH "0007 0010 2f646e732d71756572797b3f646e737d"

START_TEST(test_found)
{
	struct ddr_result r;
	char a[64];
	const char *dot[] = { "0001 " DNS_TEST " " ALPN_DOT };
	const char *both[] = {
		"0002 " DNS_TEST " " ALPN_DOT " 0003 0002 1f90 0004 0004 c0000235",
		"0001 " DNS_TEST " " ALPN_H2 " " DOHPATH,
	};

	ck_assert_int_eq(probe("192.0.2.53", dot, 1, &r), DDR_FOUND);
	ck_assert_int_eq(r.t.transport, XPORT_TLS);
	ck_assert_str_eq(r.t.name, "dns.test");
	ck_assert_uint_eq(r.t.port, 853);
	cfg_format_sockaddr((struct sockaddr *)&r.t.addr.ss, a, sizeof(a));
	ck_assert_str_eq(a, "192.0.2.53:853");
	ck_assert_uint_eq(r.ttl, 300);
	/* the lowest priority wins: DoH with its path */
	ck_assert_int_eq(probe("192.0.2.53", both, 2, &r), DDR_FOUND);
	ck_assert_int_eq(r.t.transport, XPORT_HTTPS);
	ck_assert_str_eq(r.t.path, "/dns-query");
	ck_assert_uint_eq(r.t.port, 443);
	ck_assert_uint_eq(r.ttl, 400);
	/* port and address hint */
	ck_assert_int_eq(probe("192.0.2.53", both, 1, &r), DDR_FOUND);
	cfg_format_sockaddr((struct sockaddr *)&r.t.addr.ss, a, sizeof(a));
	ck_assert_str_eq(a, "192.0.2.53:8080");
	/* an IPv6 server keeps its own address (no v6 hint) */
	ck_assert_int_eq(probe("2001:db8::53", dot, 1, &r), DDR_FOUND);
	cfg_format_sockaddr((struct sockaddr *)&r.t.addr.ss, a, sizeof(a));
	ck_assert_str_eq(a, "[2001:db8::53]:853");
}
END_TEST

START_TEST(test_rejected)
{
	struct ddr_result r;
	const char *root[] = { "0001 00 " ALPN_DOT };
	const char *mand[] = { "0001 " DNS_TEST " 0000 0002 029b " ALPN_DOT " 029b 0001 78" };
	const char *alpn[] = { "0001 " DNS_TEST " 0001 0003 02 6833" };
	const char *nopath[] = { "0001 " DNS_TEST " " ALPN_H2 };
	const char *bad[] = { "0001 " DNS_TEST " 0003 0001 35" };
	const char *alias[] = { "0000 " DNS_TEST };
	const char *mixed[] = { "0001 00 " ALPN_DOT, "0005 " DNS_TEST " " ALPN_DOT };

	ck_assert_int_eq(probe("192.0.2.53", root, 1, &r), DDR_REJECTED);
	ck_assert_str_eq(r.why, "TargetName \".\"");
	ck_assert_int_eq(probe("192.0.2.53", mand, 1, &r), DDR_REJECTED);
	ck_assert_str_eq(r.why, "an unknown mandatory key");
	ck_assert_int_eq(probe("192.0.2.53", alpn, 1, &r), DDR_REJECTED);
	ck_assert_str_eq(r.why, "no supported ALPN (dot, h2)");
	ck_assert_int_eq(probe("192.0.2.53", nopath, 1, &r), DDR_REJECTED);
	ck_assert_int_eq(probe("192.0.2.53", bad, 1, &r), DDR_REJECTED);
	ck_assert(strncmp(r.why, "malformed SVCB", 14) == 0);
	ck_assert_int_eq(probe("192.0.2.53", alias, 1, &r), DDR_NONE);
	/* a usable record after a rejected one */
	ck_assert_int_eq(probe("192.0.2.53", mixed, 2, &r), DDR_FOUND);
	ck_assert_uint_eq(r.priority, 5);
}
END_TEST

START_TEST(test_not_found)
{
	struct ddr_result r;
	uint8_t m[512];
	struct cfg_sockaddr sa;
	size_t l;

	ck_assert_int_eq(cfg_parse_sockaddr("192.0.2.53", 53, &sa), STUB_OK);
	l = answer(0, NULL, 0, m, sizeof(m));
	ck_assert_int_eq(ddr_read_answer(m, l, (struct sockaddr *)&sa.ss, &r), DDR_NONE);
	l = answer(RCODE_NXDOMAIN, NULL, 0, m, sizeof(m));
	ck_assert_int_eq(ddr_read_answer(m, l, (struct sockaddr *)&sa.ss, &r), DDR_NONE);
	/* not a response, another question, cut short */
	l = answer(0, NULL, 0, m, sizeof(m));
	m[2] &= 0x7f;
	ck_assert_int_eq(ddr_read_answer(m, l, (struct sockaddr *)&sa.ss, &r), DDR_MALFORMED);
	l = answer(0, NULL, 0, m, sizeof(m));
	m[13] = 'x';
	ck_assert_int_eq(ddr_read_answer(m, l, (struct sockaddr *)&sa.ss, &r), DDR_MALFORMED);
	{
		const char *dot[] = { "0001 " DNS_TEST " " ALPN_DOT };

		l = answer(0, dot, 1, m, sizeof(m));
		ck_assert_int_eq(ddr_read_answer(m, l - 3, (struct sockaddr *)&sa.ss, &r),
		    DDR_MALFORMED);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("ddr");
	TCase *t = tcase_create("core");

	tcase_add_test(t, test_found);
	tcase_add_test(t, test_rejected);
	tcase_add_test(t, test_not_found);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(suite());
}
