/*
 * check_svcb.c - the SVCB/HTTPS RDATA reader: RFC 9460 Appendix D's wire
 * test vectors (written out here), and the failure cases of D.3 and of
 * the format rules in wire form.
 */
#include "auto-config.h"

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "checkmain.h"
#include "svcb.h"

/* hex text (spaces ignored) to bytes */
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

static enum stub_err
rd(const char *t, struct svcb *s)
{
	uint8_t b[1024];
	size_t n = hex(t, b, sizeof(b));
	char why[128];
	enum stub_err e = svcb_read(b, n, s, why, sizeof(why));

	ck_assert(e == STUB_OK || why[0] != '\0');
	return e;
}

#define FOO_EXAMPLE_COM "03 666f6f 07 6578616d706c65 03 636f6d 00"
#define FOO_EXAMPLE_ORG "03 666f6f 07 6578616d706c65 03 6f7267 00"

static void
target_is(const struct svcb *s, const char *text)
{
	char t[WIRE_NAME_TEXT];

	ck_assert_uint_gt(wire_name_to_text(s->target, s->target_len, t, sizeof(t)), 0);
	ck_assert_str_eq(t, text);
}

/* D.1: example.com. HTTPS 0 foo.example.com. */
START_TEST(test_d1_alias)
{
	struct svcb s;

	ck_assert_int_eq(rd("0000 " FOO_EXAMPLE_COM, &s), STUB_OK);
	ck_assert_uint_eq(s.priority, 0);
	target_is(&s, "foo.example.com");
}
END_TEST

START_TEST(test_d2_service)
{
	struct svcb s;
	static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, [13] = 0x53, [15] = 1 };
	static const uint8_t v6c[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x22, 0x03, 0x44, 0, 0, 0, 0,
		0xc0, 0x00, 0x02, 0x21 };

	/* D.2 figure 2: example.com. SVCB 1 . */
	ck_assert_int_eq(rd("0001 00", &s), STUB_OK);
	ck_assert_uint_eq(s.priority, 1);
	target_is(&s, ".");
	/* figure 3: SVCB 16 foo.example.com. port=53 */
	ck_assert_int_eq(rd("0010 " FOO_EXAMPLE_COM " 0003 0002 0035", &s), STUB_OK);
	ck_assert_uint_eq(s.priority, 16);
	ck_assert(s.has_port);
	ck_assert_uint_eq(s.port, 53);
	/* figure 4: SVCB 1 foo.example.com. key667=hello */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 029b 0005 68656c6c6f", &s), STUB_OK);
	ck_assert_uint_eq(s.n_unknown, 1);
	/* figure 5: key667="hello\210qoo" */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 029b 0009 68656c6c6f d2 716f6f", &s),
	    STUB_OK);
	ck_assert_uint_eq(s.n_unknown, 1);
	/* figure 6: ipv6hint="2001:db8::1,2001:db8::53:1" */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0006 0020"
	                    " 20010db8000000000000000000000001"
	                    " 20010db8000000000000000000530001",
	                     &s),
	    STUB_OK);
	ck_assert_uint_eq(s.n_ipv6hint, 2);
	ck_assert_mem_eq(s.ipv6hint[0], v6a, 16);
	ck_assert_mem_eq(s.ipv6hint[1], v6b, 16);
	/* figure 7: ipv6hint="2001:db8:122:344::192.0.2.33" */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0006 0010"
	                    " 20010db8012203440000 0000 c0000221",
	                     &s),
	    STUB_OK);
	ck_assert_uint_eq(s.n_ipv6hint, 1);
	ck_assert_mem_eq(s.ipv6hint[0], v6c, 16);
	/* figure 8: SVCB 16 foo.example.org. alpn=h2,h3-19
	 * mandatory=ipv4hint,alpn ipv4hint=192.0.2.1 */
	ck_assert_int_eq(rd("0010 " FOO_EXAMPLE_ORG " 0000 0004 0001 0004"
	                    " 0001 0009 02 6832 05 68332d3139"
	                    " 0004 0004 c0000201",
	                     &s),
	    STUB_OK);
	target_is(&s, "foo.example.org");
	ck_assert_uint_eq(s.n_mandatory, 2);
	ck_assert_uint_eq(s.mandatory[0], SVCB_KEY_ALPN);
	ck_assert_uint_eq(s.mandatory[1], SVCB_KEY_IPV4HINT);
	ck_assert(!s.mandatory_unknown);
	ck_assert_uint_eq(s.n_alpn, 2);
	ck_assert_str_eq(s.alpn[0], "h2");
	ck_assert_str_eq(s.alpn[1], "h3-19");
	ck_assert(svcb_has_alpn(&s, "h2"));
	ck_assert(!svcb_has_alpn(&s, "dot"));
	ck_assert_uint_eq(s.n_ipv4hint, 1);
	ck_assert_mem_eq(s.ipv4hint[0], "\xc0\x00\x02\x01", 4);
	/* figure 9: alpn="f\\\\oo\\,bar,h2" */
	ck_assert_int_eq(rd("0010 " FOO_EXAMPLE_ORG " 0001 000c 08 665c6f6f2c626172 02 6832", &s),
	    STUB_OK);
	ck_assert_uint_eq(s.n_alpn, 2);
	ck_assert_str_eq(s.alpn[0], "f\\oo,bar");
	ck_assert_str_eq(s.alpn[1], "h2");
}
END_TEST

/* D.3, in wire form, and the other format rules */
START_TEST(test_d3_failures)
{
	struct svcb s;

	/* multiple instances of the same SvcParamKey */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0001 0003 026832 0001 0003 026833", &s),
	    STUB_EFORMAT);
	/* keys out of order */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0003 0002 0035 0001 0003 026832", &s),
	    STUB_EFORMAT);
	/* missing value that must be non-empty: alpn */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0001 0000", &s), STUB_EFORMAT);
	/* an empty alpn id */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0001 0001 00", &s), STUB_EFORMAT);
	/* no-default-alpn with a value, or without alpn */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0001 0003 026832 0002 0001 00", &s),
	    STUB_EFORMAT);
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0002 0000", &s), STUB_EFORMAT);
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0001 0003 026832 0002 0000", &s), STUB_OK);
	ck_assert(s.no_default_alpn);
	/* SvcParamKey in the mandatory list missing from the SvcParams */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0000 0002 007b", &s), STUB_EFORMAT);
	/* mandatory listing itself */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0000 0004 0000 0001 0001 0003 026832", &s),
	    STUB_EFORMAT);
	/* duplicate key in the mandatory list */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0000 0004 0001 0001 0001 0003 026832", &s),
	    STUB_EFORMAT);
	/* mandatory empty or odd */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0000 0000", &s), STUB_EFORMAT);
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0000 0001 00", &s), STUB_EFORMAT);
	/* an unknown key that is mandatory and present: read, flagged */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0000 0002 029b 029b 0001 78", &s), STUB_OK);
	ck_assert(s.mandatory_unknown);
	ck_assert_uint_eq(s.n_unknown, 1);
	/* port of the wrong length, hints of the wrong length */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0003 0001 35", &s), STUB_EFORMAT);
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0003 0003 003500", &s), STUB_EFORMAT);
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0004 0005 c000020101", &s), STUB_EFORMAT);
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0004 0000", &s), STUB_EFORMAT);
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0006 0004 20010db8", &s), STUB_EFORMAT);
	/* key 65535 */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " ffff 0000", &s), STUB_EFORMAT);
	/* value running past the RDATA, half a key, short priority */
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 0003 0004 0035", &s), STUB_EFORMAT);
	ck_assert_int_eq(rd("0001 " FOO_EXAMPLE_COM " 00", &s), STUB_EFORMAT);
	ck_assert_int_eq(rd("00", &s), STUB_EFORMAT);
	/* TargetName: compressed, unterminated, label too long */
	ck_assert_int_eq(rd("0001 c00c", &s), STUB_EFORMAT);
	ck_assert_int_eq(rd("0001 03 666f6f", &s), STUB_EFORMAT);
	ck_assert_int_eq(rd("0001 40", &s), STUB_EFORMAT);
	/* out is cleared on failure */
	ck_assert_uint_eq(s.priority, 0);
	ck_assert_uint_eq(s.target_len, 0);
}
END_TEST

/* what DDR reads: a designated resolver with dot and h2, dohpath */
START_TEST(test_ddr_record)
{
	struct svcb s;

	/* _dns.resolver.arpa. SVCB 1 dns.test. alpn=dot,h2 port=853
	 * ipv4hint=127.0.0.1 dohpath=/dns-query{?dns} */
	ck_assert_int_eq(rd("0001 03 646e73 04 74657374 00"
	                    " 0001 0007 03 646f74 02 6832"
	                    " 0003 0002 0355"
	                    " 0004 0004 7f000001"
	                    " 0007 0010 2f646e732d71756572797b3f646e737d",
	                     &s),
	    STUB_OK);
	ck_assert(svcb_has_alpn(&s, "dot"));
	ck_assert(svcb_has_alpn(&s, "h2"));
	ck_assert_uint_eq(s.port, 853);
	ck_assert(s.has_dohpath);
	ck_assert_str_eq(s.dohpath, "/dns-query{?dns}");
	/* dohpath: relative, with the dns variable */
	ck_assert_int_eq(rd("0001 00 0007 000a 2f646e732d7175657279", &s), STUB_EFORMAT);
	ck_assert_int_eq(rd("0001 00 0007 0005 7b3f646e737d", &s), STUB_EFORMAT);
	ck_assert_int_eq(rd("0001 00 0007 0000", &s), STUB_EFORMAT);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("svcb");
	TCase *t = tcase_create("core");

	tcase_add_test(t, test_d1_alias);
	tcase_add_test(t, test_d2_service);
	tcase_add_test(t, test_d3_failures);
	tcase_add_test(t, test_ddr_record);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(suite());
}
