/*
 * check_localzone.c - locally served names (SPEC 5c; RFC 6761, RFC 6303):
 * which names are which, stubd's own answers, private server addresses.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "checkmain.h"
#include "localzone.h"
#include "testutil.h"

static enum lz_kind
kind_of(const char *text)
{
	uint8_t n[WIRE_NAME_MAX];
	size_t l = wire_name_from_text(text, n);

	ck_assert_uint_gt(l, 0);
	wire_name_lower(n, l);
	return localzone_kind(n, l);
}

START_TEST(test_kinds)
{
	ck_assert_int_eq(kind_of("localhost"), LZ_LOCALHOST);
	ck_assert_int_eq(kind_of("LocalHost"), LZ_LOCALHOST);
	ck_assert_int_eq(kind_of("foo.bar.localhost"), LZ_LOCALHOST);
	ck_assert_int_eq(kind_of("localhost.example.com"), LZ_NONE);
	ck_assert_int_eq(kind_of("notlocalhost"), LZ_SINGLE_LABEL);
	ck_assert_int_eq(kind_of("1.0.0.127.in-addr.arpa"), LZ_LOOPBACK_PTR);
	ck_assert_int_eq(kind_of("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	                         ".ip6.arpa"),
	    LZ_LOOPBACK_PTR);
	/* RFC 6303 zones, their apexes and names in them */
	ck_assert_int_eq(kind_of("4.3.2.10.in-addr.arpa"), LZ_PRIVATE_REVERSE);
	ck_assert_int_eq(kind_of("10.in-addr.arpa"), LZ_PRIVATE_REVERSE);
	ck_assert_int_eq(kind_of("2.0.0.127.in-addr.arpa"), LZ_PRIVATE_REVERSE);
	ck_assert_int_eq(kind_of("1.1.16.172.in-addr.arpa"), LZ_PRIVATE_REVERSE);
	ck_assert_int_eq(kind_of("31.172.in-addr.arpa"), LZ_PRIVATE_REVERSE);
	ck_assert_int_eq(kind_of("1.1.168.192.in-addr.arpa"), LZ_PRIVATE_REVERSE);
	ck_assert_int_eq(kind_of("7.7.254.169.in-addr.arpa"), LZ_PRIVATE_REVERSE);
	ck_assert_int_eq(kind_of("1.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"), LZ_PRIVATE_REVERSE);
	ck_assert_int_eq(kind_of("d.f.ip6.arpa"), LZ_PRIVATE_REVERSE);
	ck_assert_int_eq(kind_of("0.8.e.f.ip6.arpa"), LZ_PRIVATE_REVERSE);
	ck_assert_int_eq(kind_of("b.e.f.ip6.arpa"), LZ_PRIVATE_REVERSE);
	/* not private */
	ck_assert_int_eq(kind_of("1.1.15.172.in-addr.arpa"), LZ_NONE);
	ck_assert_int_eq(kind_of("32.172.in-addr.arpa"), LZ_NONE);
	ck_assert_int_eq(kind_of("172.in-addr.arpa"), LZ_NONE);
	ck_assert_int_eq(kind_of("1.2.0.192.in-addr.arpa"), LZ_NONE);
	ck_assert_int_eq(kind_of("1.1.168.193.in-addr.arpa"), LZ_NONE);
	ck_assert_int_eq(kind_of("x10.in-addr.arpa"), LZ_NONE);
	ck_assert_int_eq(kind_of("c.e.f.ip6.arpa"), LZ_NONE);
	ck_assert_int_eq(kind_of("c.f.ip6.arpa"), LZ_NONE);
	ck_assert_int_eq(kind_of("8.b.d.0.1.0.0.2.ip6.arpa"), LZ_NONE);
	ck_assert_int_eq(kind_of("in-addr.arpa"), LZ_NONE);
	/* single labels, but not the root */
	ck_assert_int_eq(kind_of("printer"), LZ_SINGLE_LABEL);
	ck_assert_int_eq(kind_of("com"), LZ_SINGLE_LABEL);
	ck_assert_int_eq(kind_of("."), LZ_NONE);
	ck_assert_int_eq(kind_of("www.example.com"), LZ_NONE);
	/* resolver.arpa and names under it (SPEC 17) */
	ck_assert_int_eq(kind_of("resolver.arpa"), LZ_RESOLVER_ARPA);
	ck_assert_int_eq(kind_of("_dns.resolver.arpa"), LZ_RESOLVER_ARPA);
	ck_assert_int_eq(kind_of("_DNS.Resolver.ARPA"), LZ_RESOLVER_ARPA);
	ck_assert_int_eq(kind_of("a.b._dns.resolver.arpa"), LZ_RESOLVER_ARPA);
	ck_assert_int_eq(kind_of("xresolver.arpa"), LZ_NONE);
	ck_assert_int_eq(kind_of("resolver.arpa.example"), LZ_NONE);
	ck_assert_int_eq(kind_of("arpa"), LZ_SINGLE_LABEL);
}
END_TEST

static struct msg_query
query(const char *name, uint16_t type, bool edns)
{
	uint8_t b[512];
	struct tq_opts o = { .id = 0x4242, .edns = edns };
	size_t l = tu_build_query(name, type, &o, b, sizeof(b));
	struct msg_query q;

	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	return q;
}

START_TEST(test_answers)
{
	uint8_t out[512];
	char data[128];
	struct msg_query q = query("LocalHost", TYPE_A, true);
	size_t n = localzone_answer(&q, LZ_LOCALHOST, 0, 512, out, sizeof(out));

	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(out, n), 1);
	ck_assert_uint_eq(out[2] & 0x04, 0); /* no AA */
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "127.0.0.1");
	ck_assert_mem_eq(out + 12, "\011LocalHost", 10);
	ck_assert(tu_has_opt(out, n));
	q = query("a.localhost", TYPE_AAAA, false);
	n = localzone_answer(&q, LZ_LOCALHOST, 0, 512, out, sizeof(out));
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "::1");
	/* other types: NODATA */
	q = query("localhost", TYPE_MX, false);
	n = localzone_answer(&q, LZ_LOCALHOST, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(out, n), 0);
	/* 127.0.0.1's PTR */
	q = query("1.0.0.127.in-addr.arpa", TYPE_PTR, false);
	n = localzone_answer(&q, LZ_LOOPBACK_PTR, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 1);
	tu_first_data(out, n, data, sizeof(data));
	ck_assert(strncmp(data, "localhost", 9) == 0);
	/* NXDOMAIN, with OPT when asked with it */
	q = query("printer", TYPE_A, true);
	n = localzone_answer(&q, LZ_SINGLE_LABEL, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_NXDOMAIN);
	ck_assert(tu_has_opt(out, n));
	q = query("1.1.168.192.in-addr.arpa", TYPE_PTR, false);
	n = localzone_answer(&q, LZ_PRIVATE_REVERSE, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_NXDOMAIN);
	ck_assert_uint_eq(localzone_answer(&q, LZ_NONE, 0, 512, out, sizeof(out)), 0);
	/* resolver.arpa: NODATA for every type, OPT kept */
	q = query("_dns.resolver.arpa", 64, true);
	n = localzone_answer(&q, LZ_RESOLVER_ARPA, 0, 512, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(out, n), 0);
	ck_assert(tu_has_opt(out, n));
	q = query("resolver.arpa", TYPE_A, false);
	n = localzone_answer(&q, LZ_RESOLVER_ARPA, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(out, n), 0);
}
END_TEST

static bool
priv(const char *addr)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':')) {
		ss.ss_family = AF_INET6;
		ck_assert_int_eq(
		    inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
	} else {
		ss.ss_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr),
		    1);
	}
	return localzone_private_addr((struct sockaddr *)&ss);
}

START_TEST(test_private_addr)
{
	ck_assert(priv("10.1.2.3"));
	ck_assert(priv("172.16.0.1"));
	ck_assert(priv("172.31.255.1"));
	ck_assert(!priv("172.32.0.1"));
	ck_assert(priv("192.168.1.1"));
	ck_assert(priv("100.64.0.1"));
	ck_assert(priv("100.127.255.255"));
	ck_assert(!priv("100.128.0.1"));
	ck_assert(priv("127.0.0.53"));
	ck_assert(priv("169.254.1.1"));
	ck_assert(!priv("192.0.2.1"));
	ck_assert(!priv("8.8.8.8"));
	ck_assert(priv("::1"));
	ck_assert(priv("fe80::1"));
	ck_assert(priv("fd12::1"));
	ck_assert(priv("fc00::1"));
	ck_assert(!priv("2001:db8::1"));
	ck_assert(priv("::ffff:192.168.0.1"));
	ck_assert(!priv("::ffff:192.0.2.1"));
	ck_assert(!localzone_private_addr(NULL));
}
END_TEST

static Suite *
localzone_suite(void)
{
	Suite *s = suite_create("localzone");
	TCase *t = tcase_create("basic");

	tcase_add_test(t, test_kinds);
	tcase_add_test(t, test_answers);
	tcase_add_test(t, test_private_addr);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(localzone_suite());
}
