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
#include "config.h"
#include "ddr.h"
#include "encryption.h"
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

/* The discovery table: probe once, verify, install; TTL and network
 * changes probe again; rejections counted and never installed. */
static struct ddr_entry *
entry(struct ddr_table *t, const char *addr)
{
	struct cfg_sockaddr sa;

	ck_assert_int_eq(cfg_parse_sockaddr(addr, 53, &sa), STUB_OK);
	return ddr_entry_get(t, "lan", &sa, true);
}

START_TEST(test_table_verified)
{
	struct ddr_table t;
	struct ddr_entry *e;
	struct enc_twin tw[4];
	uint8_t m[512], q[64];
	const char *dot[] = { "0001 " DNS_TEST " " ALPN_DOT };
	size_t l = answer(0, dot, 1, m, sizeof(m));
	bool rej;

	ddr_table_init(&t);
	ck_assert_uint_gt(ddr_probe_query(9, q, sizeof(q)), 12);
	e = entry(&t, "192.0.2.53");
	ck_assert_ptr_eq(entry(&t, "192.0.2.53"), e); /* one per server */
	ck_assert(ddr_probe_due(e, 1000));
	ddr_probe_sent(e, 1000);
	ck_assert(!ddr_probe_due(e, 1001));
	ck_assert(ddr_pending(e, 1001));
	ck_assert_uint_eq(e->probes, 1);
	ck_assert_int_eq(ddr_on_probe(e, m, l, 1010, &rej), DDR_NEXT_VERIFY);
	ck_assert(!rej);
	ck_assert_uint_eq(ddr_twins(&t, tw, 4), 0); /* not before the handshake */
	ck_assert_int_eq(ddr_on_verify(e, true, NULL, ENC_AUTO, 1020, &rej), DDR_NEXT_CHANGED);
	ck_assert_uint_eq(ddr_twins(&t, tw, 4), 1);
	ck_assert_int_eq(tw[0].how, UPGRADE_DDR);
	ck_assert_str_eq(tw[0].t.name, "dns.test");
	ck_assert_str_eq(tw[0].adapter, "lan");
	/* the SVCB TTL (300 s) runs out: probe again; the same answer changes nothing */
	ck_assert(!ddr_probe_due(e, 1020 + 299000));
	ck_assert(ddr_probe_due(e, 1020 + 300000));
	ddr_probe_sent(e, 400000);
	ck_assert_int_eq(ddr_on_probe(e, m, l, 400010, &rej), DDR_NEXT_VERIFY);
	ck_assert_int_eq(ddr_on_verify(e, true, NULL, ENC_AUTO, 400020, &rej), DDR_NEXT_NOTHING);
	ck_assert_uint_eq(ddr_twins(&t, tw, 4), 1);
	/* no answer to a re-probe keeps the twin */
	ddr_probe_sent(e, 800000);
	ck_assert_int_eq(ddr_on_probe(e, NULL, 0, 805000, &rej), DDR_NEXT_NOTHING);
	ck_assert_uint_eq(ddr_twins(&t, tw, 4), 1);
	/* a network change: probe again, the verified twin kept meanwhile */
	ck_assert(!ddr_netchange(&t));
	ck_assert(ddr_probe_due(e, 805001));
	ck_assert_uint_eq(ddr_twins(&t, tw, 4), 1);
	/* now the server offers nothing: the twin goes */
	ddr_probe_sent(e, 805001);
	l = answer(RCODE_NXDOMAIN, NULL, 0, m, sizeof(m));
	ck_assert_int_eq(ddr_on_probe(e, m, l, 805002, &rej), DDR_NEXT_CHANGED);
	ck_assert_uint_eq(ddr_twins(&t, tw, 4), 0);
	ck_assert(!ddr_probe_due(e, 805003));
	ddr_table_free(&t);
}
END_TEST

START_TEST(test_table_rejected)
{
	struct ddr_table t;
	struct ddr_entry *e;
	struct enc_twin tw[4];
	uint8_t m[512];
	const char *dot[] = { "0001 " DNS_TEST " " ALPN_DOT };
	const char *root[] = { "0001 00 " ALPN_DOT };
	size_t l;
	bool rej;

	ddr_table_init(&t);
	e = entry(&t, "192.0.2.53");
	/* rejected by the record */
	ddr_probe_sent(e, 0);
	l = answer(0, root, 1, m, sizeof(m));
	ck_assert_int_eq(ddr_on_probe(e, m, l, 1, &rej), DDR_NEXT_NOTHING);
	ck_assert(rej);
	ck_assert_uint_eq(e->rejections, 1);
	ck_assert_str_eq(e->why, "TargetName \".\"");
	/* rejected by the handshake, under auto and require */
	ddr_probe_sent(e, 10);
	l = answer(0, dot, 1, m, sizeof(m));
	ck_assert_int_eq(ddr_on_probe(e, m, l, 11, &rej), DDR_NEXT_VERIFY);
	ck_assert_int_eq(
	    ddr_on_verify(e, false, "certificate name mismatch", ENC_REQUIRE, 12, &rej),
	    DDR_NEXT_NOTHING);
	ck_assert(rej);
	ck_assert_uint_eq(e->rejections, 2);
	ck_assert_str_eq(e->why, "certificate name mismatch");
	ck_assert_uint_eq(ddr_twins(&t, tw, 4), 0);
	/* not probed again before an hour, or a network change */
	ck_assert(!ddr_probe_due(e, 12 + DDR_RETRY_MS - 1));
	ck_assert(ddr_probe_due(e, 12 + DDR_RETRY_MS));
	ddr_netchange(&t);
	ck_assert(ddr_probe_due(e, 13));
	/* opportunistic: a public address is never taken unverified */
	ddr_probe_sent(e, 20);
	ck_assert_int_eq(ddr_on_probe(e, m, l, 21, &rej), DDR_NEXT_VERIFY);
	ck_assert_int_eq(ddr_on_verify(e, false, "no IP SAN", ENC_OPPORTUNISTIC, 22, &rej),
	    DDR_NEXT_NOTHING);
	ck_assert(rej);
	ddr_table_free(&t);
}
END_TEST

START_TEST(test_table_opportunistic)
{
	struct ddr_table t;
	struct ddr_entry *e;
	struct enc_twin tw[4];
	uint8_t m[512];
	const char *dot[] = { "0001 " DNS_TEST " " ALPN_DOT };
	/* the designated resolver at another address (hint 192.0.2.53) */
	const char *away[] = { "0001 " DNS_TEST " " ALPN_DOT " 0004 0004 c0000235" };
	size_t l = answer(0, dot, 1, m, sizeof(m));
	bool rej;

	ddr_table_init(&t);
	e = entry(&t, "192.168.1.1");
	ddr_probe_sent(e, 0);
	ck_assert_int_eq(ddr_on_probe(e, m, l, 1, &rej), DDR_NEXT_VERIFY);
	/* unverified, same private address: only under opportunistic */
	ck_assert_int_eq(ddr_on_verify(e, false, "no IP SAN", ENC_AUTO, 2, &rej), DDR_NEXT_NOTHING);
	ck_assert(rej);
	ddr_probe_sent(e, 3);
	ck_assert_int_eq(ddr_on_probe(e, m, l, 4, &rej), DDR_NEXT_VERIFY);
	ck_assert_int_eq(ddr_on_verify(e, false, "no IP SAN", ENC_OPPORTUNISTIC, 5, &rej),
	    DDR_NEXT_CHANGED);
	ck_assert(!rej);
	ck_assert_uint_eq(ddr_twins(&t, tw, 4), 1);
	ck_assert_int_eq(tw[0].how, UPGRADE_DDR_OPP);
	/* a network change drops an unverified twin at once */
	ck_assert(ddr_netchange(&t));
	ck_assert_uint_eq(ddr_twins(&t, tw, 4), 0);
	/* elsewhere: never unverified */
	ddr_probe_sent(e, 6);
	l = answer(0, away, 1, m, sizeof(m));
	ck_assert_int_eq(ddr_on_probe(e, m, l, 7, &rej), DDR_NEXT_VERIFY);
	ck_assert_int_eq(ddr_on_verify(e, false, "no IP SAN", ENC_OPPORTUNISTIC, 8, &rej),
	    DDR_NEXT_NOTHING);
	ck_assert(rej);
	ddr_table_free(&t);
}
END_TEST

/* Runtime twins into a configuration: only the clear-text server of that
 * adapter and address, policy not off; verified ones check the IP SAN,
 * unverified ones are not authenticated (no AD) and need opportunistic. */
START_TEST(test_add_twins)
{
	struct cfg *c = cfg_new(NULL, NULL);
	struct enc_twin tw;
	const char *text = "encryption auto\nadapter lan\nserver 192.0.2.53\nserver 192.0.2.54\n"
	                   "adapter off encryption off\nserver 192.0.2.53\n";

	ck_assert_ptr_nonnull(c);
	cfg_parse_text(c, text, strlen(text), "test");
	ck_assert_uint_eq(cfg_finish(c, NULL), 0);
	ck_assert_uint_eq(c->nservers, 3);
	ck_assert(encryption_wants_ddr(&c->servers[0]));
	ck_assert(!encryption_wants_ddr(&c->servers[2]));
	memset(&tw, 0, sizeof(tw));
	snprintf(tw.adapter, sizeof(tw.adapter), "lan");
	ck_assert_int_eq(cfg_parse_sockaddr("192.0.2.53", 53, &tw.clear), STUB_OK);
	ck_assert_int_eq(cfg_parse_sockaddr("192.0.2.99", 853, &tw.t.addr), STUB_OK);
	tw.t.transport = XPORT_TLS;
	tw.t.port = 853;
	snprintf(tw.t.name, sizeof(tw.t.name), "dns.test");
	tw.how = UPGRADE_DDR_OPP; /* not under auto */
	ck_assert_int_eq(encryption_add_twins(c, &tw, 1), 0);
	tw.how = UPGRADE_DDR;
	ck_assert_int_eq(encryption_add_twins(c, &tw, 1), 1);
	ck_assert_uint_eq(c->nservers, 4);
	ck_assert_uint_eq(c->servers[0].twin, 4);
	ck_assert_int_eq(c->servers[0].upgrade, UPGRADE_DDR);
	ck_assert_uint_eq(c->servers[3].clear, 1);
	ck_assert_str_eq(c->servers[3].auth_name, "dns.test");
	ck_assert_uint_gt(c->servers[3].san_ip.len, 0);
	ck_assert(cfg_server_trusts_ad(&c->servers[3]));
	ck_assert(encryption_held_back(&c->servers[0]));
	ck_assert(!encryption_held_back(&c->servers[1]));
	ck_assert_uint_eq(c->servers[2].twin, 0); /* encryption off */
	/* twice: the server has its twin already */
	ck_assert_int_eq(encryption_add_twins(c, &tw, 1), 0);
	cfg_unref(c);

	c = cfg_new(NULL, NULL);
	text = "encryption opportunistic\nadapter lan\nserver 192.0.2.53\n";
	cfg_parse_text(c, text, strlen(text), "test");
	ck_assert_uint_eq(cfg_finish(c, NULL), 0);
	tw.how = UPGRADE_DDR_OPP;
	ck_assert_int_eq(encryption_add_twins(c, &tw, 1), 1);
	ck_assert(c->servers[1].insecure);
	ck_assert(!cfg_server_trusts_ad(&c->servers[1]));
	ck_assert_uint_eq(c->servers[1].san_ip.len, 0);
	cfg_unref(c);
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
	tcase_add_test(t, test_table_verified);
	tcase_add_test(t, test_table_rejected);
	tcase_add_test(t, test_table_opportunistic);
	tcase_add_test(t, test_add_twins);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(suite());
}
