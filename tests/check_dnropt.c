/*
 * check_dnropt.c - the DHCP DNR options (RFC 9463): DHCPv4 option 162
 * and DHCPv6 option 144 read into resolvers, the hex the hooks pass,
 * instances stubd cannot use left out, and every malformed option
 * refused with nothing kept.
 */
#include "auto-config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "checkmain.h"
#include "dnropt.h"

/* ADNs in wire form: dns.test and doh.test (10 bytes each) */
#define DNS_TEST \
	"03646e730474657374" \
	"00"
#define DOH_TEST \
	"03646f680474657374" \
	"00"
#define ALPN_DOT \
	"0001" \
	"0004" \
	"03646f74"
#define ALPN_H2 \
	"0001" \
	"0003" \
	"026832"

/* v4 instance A: priority 2, dns.test, 192.0.2.1, dot, port 8757 (32) */
#define V4_A \
	"0020" \
	"0002" \
	"0a" DNS_TEST "04" \
	"c0000201" ALPN_DOT "0003" \
	"0002" \
	"2235"
/* v4 instance B: priority 1, doh.test, 192.0.2.2 and .3, h2,
 * dohpath /q{?dns} (41) */
#define V4_B \
	"0029" \
	"0001" \
	"0a" DOH_TEST "08" \
	"c0000202" \
	"c0000203" ALPN_H2 "0007" \
	"0008" \
	"2f717b3f646e737d"

static size_t
bytes(const char *hex, uint8_t *out, size_t cap)
{
	size_t n;

	ck_assert_msg(dnropt_hex(hex, out, cap, &n) == STUB_OK, "hex %s", hex);
	return n;
}

static enum stub_err
read_hex(const char *hex, bool v6, struct dnropt *o, char *why, size_t whylen)
{
	uint8_t b[DNROPT_HEX_MAX];
	size_t n = bytes(hex, b, sizeof(b));

	return dnropt_read(b, n, v6, o, why, whylen);
}

START_TEST(test_v4)
{
	struct dnropt o;
	char why[128], line[512];

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(read_hex(V4_A V4_B, false, &o, why, sizeof(why)), STUB_OK);
	ck_assert_uint_eq(o.n, 2);
	ck_assert_uint_eq(o.skipped, 0);
	ck_assert_uint_eq(o.v[0].priority, 2);
	ck_assert_str_eq(o.v[0].name, "dns.test");
	ck_assert_int_eq(o.v[0].family, AF_INET);
	ck_assert(o.v[0].dot && !o.v[0].h2);
	ck_assert_uint_eq(o.v[0].port, 8757);
	dnropt_format(&o.v[0], line, sizeof(line));
	ck_assert_str_eq(line, "2 dns.test 192.0.2.1 alpn=dot port=8757");
	dnropt_format(&o.v[1], line, sizeof(line));
	ck_assert_str_eq(line, "1 doh.test 192.0.2.2,192.0.2.3 alpn=h2 dohpath=/q{?dns}");
	/* colons between bytes, as some clients print options */
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(read_hex("00:20:00:02:0a:03:64:6e:73:04:74:65:73:74:00:04:c0:00:02:01:"
	                          "00:01:00:04:03:64:6f:74:00:03:00:02:22:35",
	                     false, &o, why, sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(o.n, 1);
}
END_TEST

START_TEST(test_v6)
{
	struct dnropt o;
	char why[128], line[512];

	memset(&o, 0, sizeof(o));
	/* one instance per option 144; two options add up */
	ck_assert_int_eq(read_hex("0001"
	                          "000a" DNS_TEST "0010"
	                          "20010db8000000000000000000000001" ALPN_DOT,
	                     true, &o, why, sizeof(why)),
	    STUB_OK);
	ck_assert_int_eq(read_hex("0005"
	                          "000a" DOH_TEST "0010"
	                          "20010db8000000000000000000000002" ALPN_H2 "0007"
	                          "0010"
	                          "2f646e732d71756572797b3f646e737d",
	                     true, &o, why, sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(o.n, 2);
	ck_assert_int_eq(o.v[0].family, AF_INET6);
	dnropt_format(&o.v[0], line, sizeof(line));
	ck_assert_str_eq(line, "1 dns.test 2001:db8::1 alpn=dot");
	dnropt_format(&o.v[1], line, sizeof(line));
	ck_assert_str_eq(line, "5 doh.test 2001:db8::2 alpn=h2 dohpath=/dns-query{?dns}");
}
END_TEST

/* Well-formed instances stubd cannot use: counted, not kept, no error. */
START_TEST(test_skipped)
{
	static const char *const hex[] = {
		/* ADN-only mode: no address */
		"000d"
		"0003"
		"0a" DNS_TEST,
		/* a mandatory key stubd does not know (9) */
		"0024"
		"0003"
		"0a" DNS_TEST "04"
		"c0000201"
		"0000"
		"0002"
		"0009" ALPN_DOT "0009"
		"0000",
		/* only h3 */
		"0019"
		"0003"
		"0a" DNS_TEST "04"
		"c0000201"
		"0001"
		"0003"
		"026833",
		/* ipv4hint, which RFC 9463 forbids */
		"0022"
		"0003"
		"0a" DNS_TEST "04"
		"c0000201" ALPN_DOT "0004"
		"0004"
		"c0000209",
	};
	struct dnropt o;
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
		memset(&o, 0, sizeof(o));
		ck_assert_msg(read_hex(hex[i], false, &o, why, sizeof(why)) == STUB_OK, "%zu: %s",
		    i, why);
		ck_assert_uint_eq(o.n, 0);
		ck_assert_uint_eq(o.skipped, 1);
	}
}
END_TEST

/* Malformed options: an error with a reason, *out as it was. */
START_TEST(test_malformed)
{
	static const struct {
		const char *hex;
		bool v6;
	} bad[] = {
		{ "00", false }, /* truncated length */
		{ "0030"
		  "0002"
		  "0a" DNS_TEST,
		    false }, /* past the end */
		{ "0020"
		  "0000"
		  "0a" DNS_TEST "04"
		  "c0000201" ALPN_DOT "0003"
		  "0002"
		  "2235",
		    false }, /* priority 0 */
		{ "0021"
		  "0002"
		  "0a" DNS_TEST "05"
		  "c000020101" ALPN_DOT "0003"
		  "0002"
		  "2235",
		    false }, /* 5-byte addresses */
		{ "0020"
		  "0002"
		  "0a"
		  "09646e730474657374"
		  "00"
		  "04"
		  "c0000201" ALPN_DOT "0003"
		  "0002"
		  "2235",
		    false }, /* label past the ADN */
		{ "000d"
		  "0002"
		  "01"
		  "00"
		  "04"
		  "c0000201"
		  "0001"
		  "0000",
		    false }, /* ADN "." */
		{ "0021"
		  "0002"
		  "0a" DNS_TEST "04"
		  "c0000201" ALPN_DOT "0003"
		  "0002"
		  "2235"
		  "00",
		    false }, /* a stray byte */
		{ "0020"
		  "0002"
		  "0a" DNS_TEST "04"
		  "c0000201"
		  "0003"
		  "0002"
		  "2235" ALPN_DOT,
		    false }, /* keys out of order */
		{ "0001"
		  "000a" DNS_TEST "000c"
		  "20010db8000000000000000000000001",
		    true },     /* v6 12 */
		{ V4_A, true }, /* v4 read as v6 */
	};
	struct dnropt o;
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&o, 0, sizeof(o));
		ck_assert_int_eq(read_hex(V4_A, false, &o, why, sizeof(why)), STUB_OK);
		why[0] = 0;
		ck_assert_msg(read_hex(bad[i].hex, bad[i].v6, &o, why, sizeof(why)) == STUB_EFORMAT,
		    "case %zu accepted", i);
		ck_assert_msg(why[0] != 0, "case %zu: no reason", i);
		ck_assert_uint_eq(o.n, 1); /* nothing kept of it */
		ck_assert_str_eq(o.v[0].name, "dns.test");
	}
}
END_TEST

START_TEST(test_limits_and_hex)
{
	char hex[DNROPT_HEX_MAX * 2 + 2];
	uint8_t b[16];
	struct dnropt o;
	char why[128];
	size_t n, i;

	ck_assert_int_eq(dnropt_hex("abc", b, sizeof(b), &n), STUB_EFORMAT);
	ck_assert_int_eq(dnropt_hex("zz", b, sizeof(b), &n), STUB_EFORMAT);
	ck_assert_int_eq(dnropt_hex(":00", b, sizeof(b), &n), STUB_EFORMAT);
	ck_assert_int_eq(dnropt_hex("00:", b, sizeof(b), &n), STUB_EFORMAT);
	ck_assert_int_eq(dnropt_hex("000102030405060708090a0b0c0d0e0f10", b, sizeof(b), &n),
	    STUB_EFORMAT);
	ck_assert_int_eq(dnropt_hex("0a::1b", b, sizeof(b), &n), STUB_EFORMAT);
	ck_assert_int_eq(dnropt_hex("0a:1b2", b, sizeof(b), &n), STUB_EFORMAT);
	ck_assert_int_eq(dnropt_hex("a:1B:0", b, sizeof(b), &n), STUB_OK); /* dhclient */
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(b[0], 0x0a);
	ck_assert_uint_eq(b[1], 0x1b);
	ck_assert_uint_eq(b[2], 0);
	ck_assert_int_eq(dnropt_hex("", b, sizeof(b), &n), STUB_OK);
	ck_assert_uint_eq(n, 0);
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(dnropt_read(b, 0, false, &o, why, sizeof(why)), STUB_EFORMAT);
	/* more usable instances than DNROPT_MAX */
	hex[0] = 0;
	for (i = 0; i <= DNROPT_MAX; i++)
		strcat(hex, V4_A);
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(read_hex(hex, false, &o, why, sizeof(why)), STUB_EFORMAT);
	ck_assert_uint_eq(o.n, 0);
	ck_assert_ptr_nonnull(strstr(why, "more than"));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dnropt");
	TCase *t = tcase_create("core");

	tcase_add_test(t, test_v4);
	tcase_add_test(t, test_v6);
	tcase_add_test(t, test_skipped);
	tcase_add_test(t, test_malformed);
	tcase_add_test(t, test_limits_and_hex);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(suite());
}
