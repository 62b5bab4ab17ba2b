/*
 * check_upgrade.c - integration (SPEC 17): the real stubd upgrading a
 * clear-text server to its encrypted twin from an encryption-template,
 * against in-tree fake upstreams on loopback (the clear-text one on a
 * port of its own, the twin DoT on port 853 of the same address, with a
 * certificate made at test time).  Needs port 853: skipped when it
 * cannot be bound.
 */
#include "auto-config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "fakeup.h"
#include "testutil.h"

#define SCALED "timeouts 0.2 0.4 0.4\nexclude-time 2\n"

static char cert[300], key[300];

static struct fakeup *
clear_up(const char *addr)
{
	struct fakeup *f = fakeup_start(addr);

	ck_assert_ptr_nonnull(f);
	fakeup_add(f, "www.example.com", "A", 300, "192.0.2.7");
	fakeup_add(f, "a.example.com", "A", 300, "192.0.2.8");
	fakeup_add(f, "b.example.com", "A", 300, "192.0.2.9");
	return f;
}

static long
qry(const struct tu_daemon *d, const char *name, uint8_t *a)
{
	struct tq_opts o = { .edns = true, .timeout_ms = 4000 };

	return tu_query("127.0.0.1", d->port, name, TYPE_A, &o, a, 65535);
}

static void
expect_a(const struct tu_daemon *d, const char *name, const char *want)
{
	uint8_t a[65535];
	char data[64];
	long n = qry(d, name, a);

	ck_assert_msg(n > 0, "no answer for %s", name);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, want);
}

static void
servers_json(const struct tu_daemon *d, char *out, size_t outsz)
{
	const char *args[] = { "--json", "servers", NULL };

	ck_assert_int_eq(tu_stubctl(d, args, out, outsz, NULL, 0), 0);
}

static size_t
clear_arrivals(struct fakeup *f)
{
	struct fake_rec log[64];
	size_t n = fakeup_log(f, log, 64), i, k = 0;

	for (i = 0; i < n && i < 64; i++)
		if (!log[i].tls)
			k++;
	return k;
}

/* The twin up: every query over TLS to ADDR:853, none in clear text. */
START_TEST(test_template_upgrades)
{
	struct fakeup *c = clear_up("127.0.0.81");
	struct fakeup *t = fakeup_start_port("127.0.0.81", 853);
	struct tu_daemon d = { 0 };
	char js[16384];
	unsigned hs = 0, res = 0;

	if (!t) {
		fakeup_stop(c);
		fprintf(stderr, "check_upgrade: cannot bind port 853, skipped\n");
		return;
	}
	ck_assert_int_eq(fakeup_tls(t, cert, key, false), 0);
	fakeup_add(t, "www.example.com", "A", 300, "192.0.2.70");
	fakeup_add(t, "a.example.com", "A", 300, "192.0.2.80");
	fakeup_add(t, "b.example.com", "A", 300, "192.0.2.90");
	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt(SCALED "hosts none\nencryption auto\n"
	                      "encryption-template 127.0.0.81 tls dns.test\nserver %s\ntls-ca %s\n",
	            fakeup_hostport(c), cert),
	        NULL),
	    0);
	expect_a(&d, "www.example.com", "192.0.2.70");
	expect_a(&d, "a.example.com", "192.0.2.80");
	expect_a(&d, "b.example.com", "192.0.2.90");
	ck_assert_uint_eq(fakeup_count(c), 0); /* 0 clear-text arrivals */
	ck_assert_uint_eq(fakeup_count(t), 3);
	ck_assert_uint_eq(clear_arrivals(t), 0); /* all three over TLS */
	fakeup_tls_counts(t, &hs, &res);
	ck_assert_uint_eq(hs, 1);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js,
	                  "\"encryption\":\"auto\",\"upgrade\":\"known\","
	                  "\"twin_address\":\"127.0.0.81:853\",\"twin_name\":\"dns.test\","
	                  "\"twin_transport\":\"tls\",\"downgrades\":0") != NULL,
	    "%s", js);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(t);
	fakeup_stop(c);
}
END_TEST

/* An https template: the twin is DoH to the URL's port at the address. */
START_TEST(test_https_template)
{
	struct fakeup *c = clear_up("127.0.0.85");
	struct fakeup *t = fakeup_start("127.0.0.85");
	struct tu_daemon d = { 0 };
	char js[16384], want[160];

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(fakeup_tls(t, cert, key, true), 0);
	fakeup_add(t, "www.example.com", "A", 300, "192.0.2.70");
	fakeup_add(t, "a.example.com", "A", 300, "192.0.2.80");
	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt(SCALED
	            "hosts none\nencryption opportunistic\n"
	            "encryption-template 127.0.0.85 https://dns.test:%u/dns-query\nserver %s\n"
	            "tls-ca %s\n",
	            fakeup_port(t), fakeup_hostport(c), cert),
	        NULL),
	    0);
	expect_a(&d, "www.example.com", "192.0.2.70");
	expect_a(&d, "a.example.com", "192.0.2.80");
	ck_assert_uint_eq(fakeup_count(c), 0);
	ck_assert_uint_eq(fakeup_count(t), 2);
	ck_assert_uint_eq(clear_arrivals(t), 0);
	servers_json(&d, js, sizeof(js));
	snprintf(want, sizeof(want),
	    "\"twin_address\":\"127.0.0.85:%u\",\"twin_name\":"
	    "\"dns.test\",\"twin_transport\":\"https\"",
	    fakeup_port(t));
	ck_assert_msg(strstr(js, want) != NULL, "%s not in %s", want, js);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(t);
	fakeup_stop(c);
}
END_TEST

/* The twin down (nothing on 853) under auto: each query answered in clear
 * text, counted as a downgrade. */
START_TEST(test_auto_downgrades)
{
	struct fakeup *c = clear_up("127.0.0.82");
	struct tu_daemon d = { 0 };
	char js[16384];
	double t0;

	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt(SCALED "hosts none\nencryption auto\n"
	                      "encryption-template 127.0.0.82 tls dns.test\nserver %s\ntls-ca %s\n",
	            fakeup_hostport(c), cert),
	        NULL),
	    0);
	t0 = tu_now_ms();
	expect_a(&d, "www.example.com", "192.0.2.7");
	/* connection refused: at once, not after a phase */
	ck_assert_double_lt(tu_now_ms() - t0, 150.0);
	ck_assert_uint_eq(fakeup_count(c), 1);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js, "\"twin_address\":\"127.0.0.82:853\"") != NULL, "%s", js);
	ck_assert_int_eq(tu_json_num(js, "downgrades"), 1);
	expect_a(&d, "a.example.com", "192.0.2.8");
	servers_json(&d, js, sizeof(js));
	ck_assert_int_eq(tu_json_num(js, "downgrades"), 2);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(c);
}
END_TEST

/* The twin silent (handshake done, queries never answered) under auto:
 * after the first phase (0.2 s) the clear-text server is asked too. */
START_TEST(test_auto_twin_timeout)
{
	struct fakeup *c = clear_up("127.0.0.84");
	struct fakeup *t = fakeup_start_port("127.0.0.84", 853);
	struct tu_daemon d = { 0 };
	char js[16384];
	double t0, ms;

	if (!t) {
		fakeup_stop(c);
		fprintf(stderr, "check_upgrade: cannot bind port 853, skipped\n");
		return;
	}
	ck_assert_int_eq(fakeup_tls(t, cert, key, false), 0);
	fakeup_tls_fault(t, FAKE_TLS_SILENT, 0);
	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt(SCALED "hosts none\nencryption auto\n"
	                      "encryption-template 127.0.0.84 tls dns.test\nserver %s\ntls-ca %s\n",
	            fakeup_hostport(c), cert),
	        NULL),
	    0);
	t0 = tu_now_ms();
	expect_a(&d, "www.example.com", "192.0.2.7");
	ms = tu_now_ms() - t0;
	ck_assert_msg(ms > 150 && ms < 400, "answered after %.0f ms", ms);
	ck_assert_uint_eq(fakeup_count(c), 1);
	ck_assert_uint_ge(fakeup_count(t), 1);
	servers_json(&d, js, sizeof(js));
	ck_assert_int_eq(tu_json_num(js, "downgrades"), 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(t);
	fakeup_stop(c);
}
END_TEST

/* The twin down under require: SERVFAIL with EDE 23, nothing in clear. */
START_TEST(test_require_never_clear)
{
	static const uint8_t ede23[] = { 0, 15, 0, 2, 0, 23 };
	struct fakeup *c = clear_up("127.0.0.83");
	struct tu_daemon d = { 0 };
	uint8_t a[65535];
	char js[16384];
	long n;

	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\n"
	                                   "encryption-template 127.0.0.83 tls dns.test\n"
	                                   "adapter lan encryption require\nserver %s\ntls-ca %s\n",
	                         fakeup_hostport(c), cert),
	                     NULL),
	    0);
	n = qry(&d, "www.example.com", a);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 2);
	ck_assert_msg(memmem(a, (size_t)n, ede23, sizeof(ede23)) != NULL, "no EDE 23");
	ck_assert_uint_eq(fakeup_count(c), 0);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js, "\"encryption\":\"require\",\"upgrade\":\"known\"") != NULL, "%s",
	    js);
	ck_assert_int_eq(tu_json_num(js, "downgrades"), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	/* require and a server with no twin at all: never asked, EDE 23 */
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nencryption require\n"
	                                   "server %s\n",
	                         fakeup_hostport(c)),
	                     NULL),
	    0);
	n = qry(&d, "a.example.com", a);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 2);
	ck_assert_msg(memmem(a, (size_t)n, ede23, sizeof(ede23)) != NULL, "no EDE 23");
	/* the DDR probe (SVCB) is the one clear-text packet; no question */
	{
		struct fake_rec r[8];
		size_t k, m = fakeup_log(c, r, 8);

		ck_assert_uint_eq(m, 1);
		for (k = 0; k < m && k < 8; k++) {
			ck_assert_uint_eq(r[k].qtype, 64);
			ck_assert_str_eq(r[k].name, "_dns.resolver.arpa");
		}
	}
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js,
	                  "\"encryption\":\"require\",\"upgrade\":null,"
	                  "\"twin_address\":null") != NULL,
	    "%s", js);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(c);
}
END_TEST

static int
ctl(const struct tu_daemon *d, const char *const *args, char *err, size_t errsz)
{
	char out[16384];

	if (err)
		err[0] = 0;
	return tu_stubctl(d, args, out, sizeof(out), err, err ? errsz : 0);
}

/* A config adapter that takes no names of the tests: the link lo does. */
#define BASE \
	SCALED "hosts none\nencryption auto\ntls-ca %s\nadapter base default-route no\n" \
	       "domain never.test\nserver 127.0.0.1:9\n"

/* DNR (SPEC 17): a resolver at the address of a link's clear-text server
 * is its twin: every query over TLS, 0 clear-text arrivals, "upgrade":
 * "dnr"; bad input refused with the twin kept; dnr clear takes it away. */
START_TEST(test_dnr_twin)
{
	struct fakeup *c = clear_up("127.0.0.86");
	struct fakeup *t = fakeup_start_port("127.0.0.86", 853);
	struct tu_daemon d = { 0 };
	char js[16384], err[512];
	const char *dns[] = { "link", "lo", "dns", NULL, NULL };
	const char *dnr[] = { "link", "lo", "dnr", "10", "DNS.test", "127.0.0.86", "alpn=h3,dot",
		NULL };
	const char *bad[][9] = {
		{ "link", "lo", "dnr", "0", "dns.test", "127.0.0.86", "alpn=dot", NULL },
		{ "link", "lo", "dnr", "1", "dns.test", "127.0.0.86", "alpn=h3", NULL },
		{ "link", "lo", "dnr", "1", "dns.test", "127.0.0.86:853", "alpn=dot", NULL },
		{ "link", "lo", "dnr", "1", "dns.test", "127.0.0.86", "alpn=dot", "bogus=1", NULL },
		{ "link", "lo", "dnr", "1", "-dns.test", "127.0.0.86", "alpn=dot", NULL },
		{ "link", "lo", "dnr-option", "dhcp4", "zz", NULL },
		{ "link", "lo", "dnr-option", "dhcp4", "0020000102", NULL },
		{ "link", "lo", "dnr-option", "dhcp9", "00", NULL },
	};
	const char *clear[] = { "link", "lo", "dnr", "clear", NULL };
	const char *route[] = { "link", "lo", "default-route", "yes", NULL };
	char badname[96];
	size_t i;

	if (!t) {
		fakeup_stop(c);
		fprintf(stderr, "check_upgrade: cannot bind port 853, skipped\n");
		return;
	}
	ck_assert_int_eq(fakeup_tls(t, cert, key, false), 0);
	fakeup_add(t, "www.example.com", "A", 300, "192.0.2.70");
	fakeup_add(t, "a.example.com", "A", 300, "192.0.2.80");
	fakeup_add(t, "b.example.com", "A", 300, "192.0.2.90");
	ck_assert_int_eq(tu_start(&d, tu_fmt(BASE, cert), NULL), 0);
	dns[3] = fakeup_hostport(c);
	ck_assert_int_eq(ctl(&d, dns, NULL, 0), 0);
	ck_assert_int_eq(ctl(&d, dnr, NULL, 0), 0);
	expect_a(&d, "www.example.com", "192.0.2.70");
	expect_a(&d, "a.example.com", "192.0.2.80");
	ck_assert_uint_eq(fakeup_count(c), 0); /* 0 clear-text arrivals */
	ck_assert_uint_eq(fakeup_count(t), 2);
	ck_assert_uint_eq(clear_arrivals(t), 0);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js,
	                  "\"encryption\":\"auto\",\"upgrade\":\"dnr\","
	                  "\"twin_address\":\"127.0.0.86:853\",\"twin_name\":\"dns.test\","
	                  "\"twin_transport\":\"tls\",\"downgrades\":0") != NULL,
	    "%s", js);
	/* bad input: a clear error, nothing lost */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(ctl(&d, bad[i], err, sizeof(err)), 1);
		ck_assert_msg(err[0] != 0, "no message for case %zu", i);
	}
	ck_assert_int_eq(ctl(&d, bad[1], err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "no supported ALPN") != NULL, "%s", err);
	/* a name the link takes but the configuration refuses: refused, and
	 * the link as it was (a later change still applies) */
	snprintf(badname, sizeof(badname), "%s#-x.test", fakeup_hostport(c));
	dns[3] = badname;
	ck_assert_int_eq(ctl(&d, dns, err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "errors") != NULL, "%s", err);
	ck_assert_int_eq(ctl(&d, route, err, sizeof(err)), 0);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js, "\"upgrade\":\"dnr\",\"twin_address\":\"127.0.0.86:853\"") != NULL,
	    "%s", js);
	expect_a(&d, "b.example.com", "192.0.2.90");
	ck_assert_uint_eq(fakeup_count(c), 0);
	/* cleared: the server is in clear text again */
	ck_assert_int_eq(ctl(&d, clear, NULL, 0), 0);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js, "\"upgrade\":\"dnr\"") == NULL, "%s", js);
	expect_a(&d, "www.example.com", "192.0.2.70"); /* still cached */
	{
		uint8_t a[65535];
		long n = qry(&d, "nothere.example.com", a);

		ck_assert_int_gt(n, 0);
	}
	ck_assert_uint_ge(fakeup_count(c), 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(t);
	fakeup_stop(c);
}
END_TEST

/* DNR resolvers at no clear-text server's address are added to the link
 * as encrypted servers: given as words, and as a DHCPv4 option 162 in
 * hex (RFC 9463 5.1) decoded by the daemon. */
START_TEST(test_dnr_extra)
{
	struct fakeup *t = fakeup_start("127.0.0.88");
	struct tu_daemon d = { 0 };
	char js[16384], port[16], want[200], hex[128];
	const char *dnr[] = { "link", "lo", "dnr", "5", "dns.test", "127.0.0.88", "alpn=dot", port,
		NULL };
	const char *opt[] = { "link", "lo", "dnr-option", "dhcp4", hex, NULL };
	const char *revert[] = { "link", "lo", "revert", NULL };
	char hport[16];
	const char *doh[] = { "link", "lo", "dnr", "3", "dns.test", "127.0.0.87", "alpn=h3,h2",
		hport, "dohpath=/dns-query{?dns}", NULL };
	struct fakeup *h;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(fakeup_tls(t, cert, key, false), 0);
	fakeup_add(t, "www.example.com", "A", 300, "192.0.2.70");
	fakeup_add(t, "a.example.com", "A", 300, "192.0.2.80");
	snprintf(port, sizeof(port), "port=%u", fakeup_port(t));
	ck_assert_int_eq(tu_start(&d, tu_fmt(BASE, cert), NULL), 0);
	ck_assert_int_eq(ctl(&d, dnr, NULL, 0), 0);
	expect_a(&d, "www.example.com", "192.0.2.70");
	ck_assert_uint_eq(clear_arrivals(t), 0);
	servers_json(&d, js, sizeof(js));
	snprintf(want, sizeof(want), "\"address\":\"127.0.0.88:%u\",\"priority\":\"normal\"",
	    fakeup_port(t));
	ck_assert_msg(strstr(js, want) != NULL, "%s not in %s", want, js);
	ck_assert_msg(strstr(js, "\"transport\":\"tls\"") != NULL, "%s", js);
	ck_assert_msg(strstr(js, "\"upgrade\":\"dnr\",\"twin_address\":null") != NULL, "%s", js);
	/* the same from DHCP: instance length 32, priority 1, ADN dns.test,
	 * one address, alpn dot, port */
	ck_assert_int_eq(ctl(&d, revert, NULL, 0), 0);
	snprintf(hex, sizeof(hex), "%s%04x",
	    "0020" /* instance data length */
	    "0001" /* service priority */
	    "0a"
	    "03646e730474657374"
	    "00" /* ADN length, dns.test */
	    "04"
	    "7f000058" /* addr length, 127.0.0.88 */
	    "0001"
	    "0004"
	    "03646f74" /* alpn: dot */
	    "0003"
	    "0002", /* port: */
	    fakeup_port(t));
	ck_assert_int_eq(ctl(&d, opt, NULL, 0), 0);
	expect_a(&d, "a.example.com", "192.0.2.80");
	ck_assert_uint_eq(fakeup_count(t), 2);
	ck_assert_uint_eq(clear_arrivals(t), 0);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js, want) != NULL, "%s not in %s", want, js);
	/* only h2 offered: DNS over HTTPS to the port, at the dohpath */
	ck_assert_int_eq(ctl(&d, revert, NULL, 0), 0);
	h = fakeup_start("127.0.0.87");
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(fakeup_tls(h, cert, key, true), 0);
	fakeup_add(h, "b.example.com", "A", 300, "192.0.2.90");
	snprintf(hport, sizeof(hport), "port=%u", fakeup_port(h));
	ck_assert_int_eq(ctl(&d, doh, NULL, 0), 0);
	expect_a(&d, "b.example.com", "192.0.2.90");
	ck_assert_uint_eq(fakeup_count(h), 1);
	ck_assert_uint_eq(clear_arrivals(h), 0);
	servers_json(&d, js, sizeof(js));
	snprintf(want, sizeof(want), "\"url\":\"https://127.0.0.87:%u/dns-query#dns.test\"",
	    fakeup_port(h));
	ck_assert_msg(strstr(js, want) != NULL, "%s not in %s", want, js);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(h);
	fakeup_stop(t);
}
END_TEST

/* A SetLinkDNSEx-style entry with a name (stubctl link IF dns ADDR#NAME,
 * the words resolve1.c hands over): its DoT twin at ADDR:853 is verified
 * by NAME; a name the certificate does not carry fails the handshake and
 * the query goes around it in clear text (auto, one downgrade). */
START_TEST(test_dns_name_twin)
{
	struct fakeup *c = clear_up("127.0.0.89");
	struct fakeup *t = fakeup_start_port("127.0.0.89", 853);
	struct tu_daemon d = { 0 };
	char js[16384], good[96], wrong[96];
	const char *dns[] = { "link", "lo", "dns", good, NULL };

	if (!t) {
		fakeup_stop(c);
		fprintf(stderr, "check_upgrade: cannot bind port 853, skipped\n");
		return;
	}
	ck_assert_int_eq(fakeup_tls(t, cert, key, false), 0);
	fakeup_add(t, "www.example.com", "A", 300, "192.0.2.70");
	snprintf(good, sizeof(good), "%s#dns.test", fakeup_hostport(c));
	snprintf(wrong, sizeof(wrong), "%s#other.test", fakeup_hostport(c));
	ck_assert_int_eq(tu_start(&d, tu_fmt(BASE, cert), NULL), 0);
	ck_assert_int_eq(ctl(&d, dns, NULL, 0), 0);
	expect_a(&d, "www.example.com", "192.0.2.70");
	ck_assert_uint_eq(fakeup_count(c), 0);
	ck_assert_uint_eq(clear_arrivals(t), 0);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js,
	                  "\"upgrade\":\"dnr\",\"twin_address\":\"127.0.0.89:853\","
	                  "\"twin_name\":\"dns.test\"") != NULL,
	    "%s", js);
	dns[3] = wrong;
	ck_assert_int_eq(ctl(&d, dns, NULL, 0), 0);
	expect_a(&d, "a.example.com", "192.0.2.8"); /* from the clear-text server */
	ck_assert_uint_eq(fakeup_count(c), 1);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js,
	                  "\"twin_name\":\"other.test\",\"twin_transport\":\"tls\","
	                  "\"downgrades\":1") != NULL,
	    "%s", js);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(t);
	fakeup_stop(c);
}
END_TEST

static Suite *
upgrade_suite(void)
{
	Suite *s = suite_create("upgrade");
	TCase *t = tcase_create("template");

	tcase_add_test(t, test_template_upgrades);
	tcase_add_test(t, test_https_template);
	tcase_add_test(t, test_auto_downgrades);
	tcase_add_test(t, test_auto_twin_timeout);
	tcase_add_test(t, test_require_never_clear);
	tcase_add_test(t, test_dnr_twin);
	tcase_add_test(t, test_dnr_extra);
	tcase_add_test(t, test_dns_name_twin);
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);
	return s;
}

static int
make_cert(const char *base)
{
	snprintf(cert, sizeof(cert), "%s/cert.pem", base);
	snprintf(key, sizeof(key), "%s/key.pem", base);
	return fakeup_make_cert("dns.test", cert, key, NULL);
}

int
main(void)
{
	char base[128];

	return check_daemon_main(upgrade_suite(), base, sizeof(base), make_cert);
}
