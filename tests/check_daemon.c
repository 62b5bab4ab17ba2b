/*
 * check_daemon.c - integration: the real stubd against in-tree fake
 * upstreams on 127.0.0.x, queried over UDP and TCP, driven with stubctl.
 */
#include "auto-config.h"

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <strings.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "checkmain.h"
#include "fakeup.h"
#include "file.h"
#include "testutil.h"

#define SCALED "timeouts 0.2 0.4 0.4 0.8 1.6\n"

static struct fakeup *
up_with_records(const char *addr)
{
	struct fakeup *f = fakeup_start(addr);

	ck_assert_ptr_nonnull(f);
	fakeup_add(f, "www.example.com", "A", 300, "192.0.2.7");
	fakeup_add(f, "www.example.com", "AAAA", 300, "2001:db8::7");
	fakeup_add(f, "example.com", "MX", 300, "10 mail.example.com");
	fakeup_add(f, "example.com", "TXT", 300, "v=spf1 -all");
	fakeup_add(f, "_sip._udp.example.com", "SRV", 300, "0 5 5060 sip.example.com");
	fakeup_add(f, "big.example.com", "TXT", 300, "@3000");
	fakeup_add(f, "short.example.com", "A", 2, "192.0.2.8");
	return f;
}

static long
q(const struct tu_daemon *d, const char *name, uint16_t type, bool tcp, uint8_t *a)
{
	struct tq_opts o = { .tcp = tcp, .timeout_ms = 5000 };

	return tu_query("127.0.0.1", d->port, name, type, &o, a, 65535);
}

/* ---------------- foundation ---------------- */

START_TEST(test_forward_types)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	static const struct {
		const char *name;
		uint16_t type;
		const char *want;
	} cases[] = {
		{ "www.example.com", TYPE_A, "192.0.2.7" },
		{ "www.example.com", TYPE_AAAA, "2001:db8::7" },
		{ "example.com", TYPE_MX, "10 mail.example.com" },
		{ "example.com", TYPE_TXT, "\"v=spf1 -all\"" },
		{ "_sip._udp.example.com", TYPE_SRV, "0 5 5060 sip.example.com" },
	};
	uint8_t a[65535];
	char data[256];
	size_t i;
	int tcp;

	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(f)), NULL),
	    0);
	for (tcp = 0; tcp < 2; tcp++)
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			long n = q(&d, cases[i].name, cases[i].type, tcp, a);

			ck_assert_msg(n > 0, "no answer for %s", cases[i].name);
			ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
			ck_assert_uint_eq(tu_id(a, (size_t)n), 0x4242);
			tu_first_data(a, (size_t)n, data, sizeof(data));
			ck_assert_str_eq(data, cases[i].want);
		}
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

START_TEST(test_truncation)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct tq_opts o = { .timeout_ms = 5000 };
	uint8_t a[65535];
	long n;

	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(f)), NULL),
	    0);
	/* UDP without EDNS: TC=1 */
	n = tu_query("127.0.0.1", d.port, "big.example.com", TYPE_TXT, &o, a, sizeof(a));
	ck_assert_int_gt(n, 0);
	ck_assert(tu_tc(a, (size_t)n));
	ck_assert_uint_le((size_t)n, 512);
	ck_assert(!tu_has_opt(a, (size_t)n));
	/* UDP with EDNS 1232: still too big, TC with OPT */
	o.edns = true;
	n = tu_query("127.0.0.1", d.port, "big.example.com", TYPE_TXT, &o, a, sizeof(a));
	ck_assert(tu_tc(a, (size_t)n));
	ck_assert(tu_has_opt(a, (size_t)n));
	/* TCP: whole */
	o.tcp = true;
	o.edns = false;
	n = tu_query("127.0.0.1", d.port, "big.example.com", TYPE_TXT, &o, a, sizeof(a));
	ck_assert_int_gt(n, 3000);
	ck_assert(!tu_tc(a, (size_t)n));
	ck_assert_uint_eq(tu_ancount(a, (size_t)n), 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

START_TEST(test_edns_mirror)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct tq_opts o = { .timeout_ms = 5000 };
	uint8_t a[65535];
	long n;

	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(f)), NULL),
	    0);
	n = tu_query("127.0.0.1", d.port, "www.example.com", TYPE_A, &o, a, sizeof(a));
	ck_assert(!tu_has_opt(a, (size_t)n));
	o.edns = true;
	n = tu_query("127.0.0.1", d.port, "www.example.com", TYPE_A, &o, a, sizeof(a));
	ck_assert(tu_has_opt(a, (size_t)n));
	o.edns = false;
	n = tu_query("127.0.0.1", d.port, "www.example.com", TYPE_A, &o, a, sizeof(a));
	ck_assert(!tu_has_opt(a, (size_t)n));
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

START_TEST(test_upstream_tc_to_tcp)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct fake_rec log[16];
	uint8_t a[65535];
	char data[64];
	long n;
	size_t k, i;
	bool saw_tcp = false;

	fakeup_set_mode(f, FAKE_TRUNCATE);
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(f)), NULL),
	    0);
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_int_gt(n, 0);
	ck_assert(!tu_tc(a, (size_t)n));
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.7");
	k = fakeup_log(f, log, 16);
	for (i = 0; i < k && i < 16; i++)
		saw_tcp |= log[i].tcp;
	ck_assert(saw_tcp);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

static void
expect_rcode(const struct tu_daemon *d, const uint8_t *pkt, size_t len, int rcode)
{
	uint8_t a[4096];
	long n = tu_exchange("127.0.0.1", d->port, false, pkt, len, a, sizeof(a),
	    rcode < 0 ? 300 : 3000);

	if (rcode < 0) {
		ck_assert_int_eq(n, -1); /* dropped */
		return;
	}
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), (unsigned)rcode);
	ck_assert_uint_eq(a[2] & 0x80, 0x80);
}

START_TEST(test_malformed)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	uint8_t b[512], a[512];
	size_t l;
	long n;

	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(f)), NULL),
	    0);
	l = tu_build_query("www.example.com", TYPE_A, NULL, b, sizeof(b));
	expect_rcode(&d, b, 11, -1); /* under 12 bytes */
	expect_rcode(&d, b, 0 + 1, -1);
	b[2] |= 0x80; /* a response */
	expect_rcode(&d, b, l, -1);
	b[2] &= 0x7f;
	wire_set16_at(b, l, 4, 0); /* QDCOUNT 0 */
	expect_rcode(&d, b, l, RCODE_FORMERR);
	wire_set16_at(b, l, 4, 2); /* QDCOUNT 2 */
	expect_rcode(&d, b, l, RCODE_FORMERR);
	wire_set16_at(b, l, 4, 1);
	b[12] = 0xc0; /* pointer loop */
	b[13] = 0x0c;
	expect_rcode(&d, b, l, RCODE_FORMERR);
	l = tu_build_query("www.example.com", TYPE_A, NULL, b, sizeof(b));
	b[12] = 60; /* label past the end */
	expect_rcode(&d, b, l, RCODE_FORMERR);
	l = tu_build_query("www.example.com", TYPE_A, NULL, b, sizeof(b));
	b[2] = (uint8_t)((b[2] & 0x87) | (4 << 3)); /* NOTIFY */
	expect_rcode(&d, b, l, RCODE_NOTIMP);
	b[2] = (uint8_t)((b[2] & 0x87) | (5 << 3)); /* UPDATE */
	expect_rcode(&d, b, l, RCODE_NOTIMP);
	/* garbage over TCP too */
	{
		static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

		n = tu_exchange("127.0.0.1", d.port, true, junk, sizeof(junk), a, sizeof(a), 300);
		ck_assert_int_eq(n, -1);
	}
	/* still answering */
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

START_TEST(test_acl_refused)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	long n;

	ck_assert_int_eq(
	    tu_start(&d, tu_fmt("hosts none\nallow 10.0.0.0/8\nserver %s\n", fakeup_hostport(f)),
	        NULL),
	    0);
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_REFUSED);
	ck_assert_uint_eq(fakeup_count(f), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

/* SPEC 18: a list in each format, a hosts file and rules in the real
 * daemon; blocked and hosts names answer HTTPS, SVCB, TXT (every type)
 * themselves: 0 packets reach the upstream for them. */
START_TEST(test_policy_lists)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	static const char *const blocked[] = { "hb.example", "dom.example", "x.wild.example",
		"ads.example", "deep.ads.example", "nx.rpz.example", "a.star.rpz.example",
		"nd.rpz.example", "rule.example", NULL };
	static const char *const passed[] = { "sub.hb.example", "wild.example", "ok.ads.example",
		"pass.rpz.example", "x.dom.example", NULL };
	static const uint16_t types[] = { 65 /* HTTPS */, 64 /* SVCB */, TYPE_TXT, TYPE_A };
	char p[6][512], conf[4096], data[64];
	uint8_t a[65535];
	size_t i, j;
	long n;

	ck_assert_int_eq(tu_mkdir(&d), 0);
	ck_assert_int_eq(tu_write(&d, "hosts", "192.0.2.50 printer.lan\n", p[0], 512), 0);
	ck_assert_int_eq(tu_write(&d, "l.hosts", "0.0.0.0 hb.example\n", p[1], 512), 0);
	ck_assert_int_eq(tu_write(&d, "l.domains", "dom.example\n", p[2], 512), 0);
	ck_assert_int_eq(tu_write(&d, "l.wild", "*.wild.example\n", p[3], 512), 0);
	ck_assert_int_eq(
	    tu_write(&d, "l.adblock", "! x\n||ads.example^\n@@||ok.ads.example^\n", p[4], 512), 0);
	ck_assert_int_eq(tu_write(&d, "l.rpz",
	                     "$TTL 60\nnx.rpz.example CNAME .\n"
	                     "*.star.rpz.example CNAME .\nnd.rpz.example CNAME *.\n"
	                     "pass.rpz.example CNAME rpz-passthru.\n",
	                     p[5], 512),
	    0);
	snprintf(conf, sizeof(conf),
	    "hosts %s\nserver %s\nblocklist %s format hosts\n"
	    "blocklist %s format domains\nblocklist %s format wildcard\n"
	    "blocklist %s format adblock\nblocklist %s format rpz\n"
	    "rule rule.example block\nrule nas.lan answer A 192.0.2.9\n",
	    p[0], fakeup_hostport(f), p[1], p[2], p[3], p[4], p[5]);
	ck_assert_int_eq(tu_start(&d, conf, NULL), 0);
	fakeup_set_wildcard(f, 60);
	for (i = 0; blocked[i]; i++)
		for (j = 0; j < sizeof(types) / sizeof(types[0]); j++) {
			n = q(&d, blocked[i], types[j], false, a);
			ck_assert_msg(n > 0, "%s: no answer", blocked[i]);
		}
	for (j = 0; j < sizeof(types) / sizeof(types[0]); j++) {
		n = q(&d, "printer.lan", types[j], false, a);
		ck_assert_int_gt(n, 0);
		ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NOERROR);
		ck_assert_uint_eq(tu_ancount(a, (size_t)n), types[j] == TYPE_A);
		n = q(&d, "nas.lan", types[j], false, a);
		ck_assert_uint_eq(tu_ancount(a, (size_t)n), types[j] == TYPE_A);
	}
	ck_assert_uint_eq(fakeup_count(f), 0);
	n = q(&d, "nx.rpz.example", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	n = q(&d, "nd.rpz.example", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(a, (size_t)n), 0);
	n = q(&d, "deep.ads.example", TYPE_A, false, a);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "0.0.0.0");
	/* the rest goes upstream: one packet each */
	for (i = 0; passed[i]; i++) {
		n = q(&d, passed[i], TYPE_A, false, a);
		ck_assert_int_gt(n, 0);
		tu_first_data(a, (size_t)n, data, sizeof(data));
		ck_assert_msg(strncmp(data, "192.0.2.", 8) == 0, "%s: %s", passed[i], data);
	}
	ck_assert_uint_eq(fakeup_count(f), i);
	/* stubctl query names the deciding rule: the list's file and line, or
	 * the rule line of stubd.conf; stats count them */
	{
		const char *qa[] = { "--json", "query", "deep.ads.example", "A", NULL };
		const char *qb[] = { "--json", "query", "rule.example", "TXT", NULL };
		const char *st[] = { "--json", "stats", NULL };
		char out[8192], want[600];

		ck_assert_int_eq(tu_stubctl(&d, qa, out, sizeof(out), NULL, 0), 0);
		snprintf(want, sizeof(want), "\"rule\":\"%s:2\"", p[4]);
		ck_assert_msg(strstr(out, want) != NULL, "%s lacks %s", out, want);
		ck_assert_int_eq(tu_stubctl(&d, qb, out, sizeof(out), NULL, 0), 0);
		snprintf(want, sizeof(want), "\"rule\":\"%s:", d.conf); /* its line */
		ck_assert_msg(strstr(out, want) != NULL, "%s lacks %s", out, want);
		/* a hosts answer names the hosts file's line, for every type */
		{
			const char *qh[] = { "--json", "query", "printer.lan", "A", NULL };
			const char *qt[] = { "--json", "query", "printer.lan", "HTTPS", NULL };

			snprintf(want, sizeof(want), "\"rule\":\"%s:1\"", p[0]);
			ck_assert_int_eq(tu_stubctl(&d, qh, out, sizeof(out), NULL, 0), 0);
			ck_assert_msg(strstr(out, want) != NULL, "%s lacks %s", out, want);
			ck_assert_int_eq(tu_stubctl(&d, qt, out, sizeof(out), NULL, 0), 0);
			ck_assert_msg(strstr(out, want) != NULL, "%s lacks %s", out, want);
		}
		ck_assert_int_eq(tu_stubctl(&d, st, out, sizeof(out), NULL, 0), 0);
		ck_assert_int_ge(tu_json_num(out, "policy_blocked"), 36);
		ck_assert_int_eq(tu_json_num(out, "policy_local"), 4);
		/* without --json: a line per list after the counters */
		{
			const char *tx[] = { "stats", NULL };

			ck_assert_int_eq(tu_stubctl(&d, tx, out, sizeof(out), NULL, 0), 0);
			ck_assert_msg(strstr(out, "\nlist ") != NULL, "%s", out);
			ck_assert_msg(strstr(out, "\nl.adblock ") != NULL, "%s", out);
			ck_assert_msg(strstr(out, "blocklist adblock") != NULL, "%s", out);
		}
	}
	/* a list edited: picked up within 2 s, swapped whole */
	ck_assert_int_eq(tu_write(&d, "l.domains", "dom.example\nnew.example\n", p[2], 512), 0);
	for (j = 0; j < 40; j++) {
		tu_sleep_ms(100);
		n = q(&d, "new.example", TYPE_A, false, a);
		tu_first_data(a, (size_t)n, data, sizeof(data));
		if (strcmp(data, "0.0.0.0") == 0)
			break;
	}
	ck_assert_str_eq(data, "0.0.0.0");
	n = q(&d, "dom.example", TYPE_A, false, a);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "0.0.0.0");
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

/* A big list (200,000 names) for the swap test; `extra` added. */
static char *
big_list(const char *extra)
{
	size_t cap = 200000 * 24 + 256, n = 0, i;
	char *t = malloc(cap);

	ck_assert_ptr_nonnull(t);
	n += (size_t)snprintf(t + n, cap - n, "! big\n%s", extra);
	for (i = 0; i < 200000; i++)
		n += (size_t)snprintf(t + n, cap - n, "||n%zu.example^\n", i);
	return t;
}

/* Ask name for A until it answers data (want), at most ms; true when it did. */
static bool
wait_answer(const struct tu_daemon *d, const char *name, const char *want, unsigned ms)
{
	struct tq_opts o = { .timeout_ms = 300 };
	char data[64];
	uint8_t a[512];
	double t0 = tu_now_ms();

	while (tu_now_ms() - t0 < ms) {
		long n = tu_query("127.0.0.1", d->port, name, TYPE_A, &o, a, sizeof(a));

		data[0] = 0;
		if (n > 0)
			tu_first_data(a, (size_t)n, data, sizeof(data));
		if (strcmp(data, want) == 0)
			return true;
		tu_sleep_ms(20);
	}
	return false;
}

/* SPEC 18 / issue 25: a list replaced under 1,000 queries a second (paced:
 * query k leaves at k ms) is rebuilt off the loop and swapped whole: no
 * answer lost, none later than 50 ms, the new names blocked afterwards. */
START_TEST(test_policy_swap_under_load)
{
	struct tu_daemon d = { 0 };
	struct tq_opts o = { .timeout_ms = 200 };
	char path[512], name[64], data[64];
	char *text = big_list("");
	uint8_t a[512];
	double t0, start, elapsed, worst = 0, worst_at = 0;
	unsigned asked = 0, lost = 0, late = 0, swaps = 0;
	long n;

	ck_assert_int_eq(tu_mkdir(&d), 0);
	ck_assert_int_eq(tu_write(&d, "big.txt", text, path, sizeof(path)), 0);
	free(text);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\nserver 127.0.0.1:9\n"
	                            "blocklist %s format adblock\n",
	                         path),
	                     NULL),
	    0);
	/* a big list comes in off the loop after start */
	ck_assert(wait_answer(&d, "warm.n1.example", "0.0.0.0", 10000));
	start = tu_now_ms();
	while ((elapsed = tu_now_ms() - start) < 3000 && asked < 3000) {
		if ((swaps == 0 && elapsed > 500) || (swaps == 1 && elapsed > 1500)) {
			text = big_list(swaps == 0 ? "||swapped.example^\n" :
			                             "||swapped.example^\n||again.example^\n");
			ck_assert_int_eq(tu_write(&d, "big.txt", text, NULL, 0), 0);
			free(text);
			swaps++;
		}
		/* 1,000 a second: query `asked` leaves at `asked` ms */
		while (tu_now_ms() - start < asked) {
			struct timespec ts = { 0, 100000 };

			nanosleep(&ts, NULL);
		}
		snprintf(name, sizeof(name), "x.n%u.example", (asked * 7919) % 200000);
		t0 = tu_now_ms();
		n = tu_query("127.0.0.1", d.port, name, TYPE_A, &o, a, sizeof(a));
		asked++;
		data[0] = 0;
		if (n > 0)
			tu_first_data(a, (size_t)n, data, sizeof(data));
		if (strcmp(data, "0.0.0.0") != 0) {
			lost++;
			continue;
		}
		if (tu_now_ms() - t0 > 50)
			late++;
		if (tu_now_ms() - t0 > worst) {
			worst = tu_now_ms() - t0;
			worst_at = t0 - start;
		}
	}
	elapsed = tu_now_ms() - start;
	fprintf(stderr,
	    "swap under load: %u queries in %.0f ms (%.0f a second), %u lost, %u over 50 ms, "
	    "slowest %.1f ms (at %.0f ms)\n",
	    asked, elapsed, asked * 1000.0 / elapsed, lost, late, worst, worst_at);
	ck_assert_uint_eq(swaps, 2);
	ck_assert_msg(asked * 1000.0 / elapsed >= 950, "%.0f queries a second",
	    asked * 1000.0 / elapsed);
	ck_assert_uint_eq(lost, 0);
	ck_assert_uint_eq(late, 0);
	/* both swaps in (polled every 2 s) */
	ck_assert(wait_answer(&d, "again.example", "0.0.0.0", 6000));
	ck_assert(wait_answer(&d, "x.n7.example", "0.0.0.0", 100));
	ck_assert_int_eq(tu_stop(&d), 0);
}
END_TEST

/*
 * SPEC 18 / issue 25: a 494,000-line list at start is read off the loop:
 * stubd answers from the start (hosts, upstream) within 50 ms while it
 * loads; a listed name asked before it is in is answered as without the
 * list (from upstream), blocked once it is in; stats says loaded false,
 * then true.
 */
START_TEST(test_policy_big_list_at_start)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct tq_opts o = { .timeout_ms = 1000 };
	const char *st[] = { "--json", "stats", NULL };
	size_t cap = 494000 * 32 + 64, len = 0, i;
	char *text = malloc(cap), path[512], hosts[512], data[64], out[8192];
	double t0, first = -1, worst = 0, loaded_at = -1, start;
	unsigned asked = 0, before = 0;
	uint8_t a[512];
	long n;

	ck_assert_ptr_nonnull(text);
	fakeup_add(f, "n7.big.example", "A", 300, "192.0.2.77");
	len += (size_t)snprintf(text + len, cap - len, "# big\n");
	for (i = 0; i < 494000; i++)
		len += (size_t)snprintf(text + len, cap - len, "0.0.0.0 n%zu.big.example\n", i);
	ck_assert_int_eq(tu_mkdir(&d), 0);
	ck_assert_int_eq(tu_write(&d, "big.hosts", text, path, sizeof(path)), 0);
	free(text);
	ck_assert_int_eq(tu_write(&d, "hosts", "192.0.2.50 printer.lan\n", hosts, sizeof(hosts)),
	    0);
	start = tu_now_ms();
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts %s\nserver %s\nblocklist %s format hosts\n", hosts,
	                         fakeup_hostport(f), path),
	                     NULL),
	    0);
	ck_assert_int_eq(tu_stubctl(&d, st, out, sizeof(out), NULL, 0), 0);
	ck_assert_msg(strstr(out, "\"loaded\":false") != NULL, "%s", out);
	/* every 5 ms, alternately a hosts name, an upstream one and a listed
	 * one, until the list is in (at most 20 s) */
	while (loaded_at < 0 && tu_now_ms() - start < 20000) {
		const char *nm = asked % 3 == 0 ? "printer.lan" :
		    asked % 3 == 1              ? "www.example.com" :
		                                  "n7.big.example";

		t0 = tu_now_ms();
		n = tu_query("127.0.0.1", d.port, nm, TYPE_A, &o, a, sizeof(a));
		ck_assert_msg(n > 0, "%s: no answer", nm);
		if (first < 0)
			first = tu_now_ms() - start;
		if (tu_now_ms() - t0 > worst)
			worst = tu_now_ms() - t0;
		tu_first_data(a, (size_t)n, data, sizeof(data));
		if (asked % 3 == 2) {
			if (strcmp(data, "0.0.0.0") == 0)
				loaded_at = tu_now_ms() - start;
			else {
				ck_assert_str_eq(data, "192.0.2.77"); /* as without the list */
				before++;
			}
		}
		asked++;
		tu_sleep_ms(5);
	}
	fprintf(stderr,
	    "494,000-line list at start: first answer %.0f ms after start, list in at %.0f ms, "
	    "%u queries meanwhile, slowest %.1f ms, %u listed-name answers from upstream\n",
	    first, loaded_at, asked, worst, before);
	ck_assert_msg(loaded_at > 0, "the list never came in");
	ck_assert_msg(worst < 50, "an answer took %.1f ms while the list loaded", worst);
	ck_assert_int_eq(tu_stubctl(&d, st, out, sizeof(out), NULL, 0), 0);
	ck_assert_msg(strstr(out, "\"loaded\":true") != NULL, "%s", out);
	ck_assert_int_eq(tu_json_num(out, "entries"), 494000);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

START_TEST(test_bad_config)
{
	struct tu_daemon d = { 0 };
	const char *stubd = getenv("STUBD");
	char path[300], out[4096], err[4096], want[400];
	int rc;

	ck_assert_int_eq(tu_mkdir(&d), 0);
	ck_assert_int_eq(
	    tu_write(&d, "bad.conf", "# ok\ncache-size 10\nfrobnicate yes\n", path, sizeof(path)),
	    0);
	snprintf(want, sizeof(want), "%s:3: unknown directive 'frobnicate'", path);
	{
		const char *argv[] = { stubd, "-t", "-c", path, NULL };

		rc = tu_run(argv, out, sizeof(out), err, sizeof(err), 5000);
		ck_assert_int_eq(rc, 1);
		ck_assert_msg(strstr(err, want) != NULL, "stderr: %s", err);
	}
	{
		const char *argv[] = { stubd, "-f", "-c", path, "-l", "127.0.0.1:1", NULL };

		rc = tu_run(argv, out, sizeof(out), err, sizeof(err), 5000);
		ck_assert_int_eq(rc, 1);
		ck_assert_msg(strstr(err, want) != NULL, "stderr: %s", err);
	}
	{
		const char *argv[] = { stubd, "-t", "-c", "/nonexistent/stubd.conf", NULL };

		rc = tu_run(argv, out, sizeof(out), err, sizeof(err), 5000);
		ck_assert_int_eq(rc, 1);
		ck_assert_ptr_nonnull(strstr(err, "/nonexistent/stubd.conf"));
	}
	ck_assert_int_eq(
	    tu_write(&d, "good.conf", "cache-size 10\nserver 192.0.2.1\n", path, sizeof(path)), 0);
	{
		const char *argv[] = { stubd, "-t", "-c", path, NULL };

		rc = tu_run(argv, out, sizeof(out), err, sizeof(err), 5000);
		ck_assert_int_eq(rc, 0);
	}
}
END_TEST

START_TEST(test_listen_in_use)
{
	struct tu_daemon d = { 0 };
	const char *stubd = getenv("STUBD");
	char path[300], out[512], err[2048], lst[64], want[128];
	struct sockaddr_in sa = { 0 };
	uint16_t port = tu_free_port();
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(tu_mkdir(&d), 0);
	ck_assert_int_eq(
	    tu_write(&d, "c.conf", "server 192.0.2.1\ncontrol off\n", path, sizeof(path)), 0);
	snprintf(lst, sizeof(lst), "127.0.0.1:%u", port);
	snprintf(want, sizeof(want), "stubd: cannot listen on 127.0.0.1:%u: Address already in use",
	    port);
	{
		const char *argv[] = { stubd, "-f", "-c", path, "-l", lst, NULL };

		rc = tu_run(argv, out, sizeof(out), err, sizeof(err), 5000);
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, want) != NULL, "stderr: %s", err);
	close(fd);
}
END_TEST

struct pipelined {
	bool seen[3];
};

/* an answer to one of the three pipelined queries (IDs 100-102) */
static void
pipelined_answer(const uint8_t *msg, size_t len, size_t i, void *arg)
{
	struct pipelined *p = arg;
	uint16_t id = tu_id(msg, len);

	ck_assert(id >= 100 && id < 103);
	/* the slow first query must not hold back the others */
	if (i == 0)
		ck_assert_uint_ne(id, 100);
	p->seen[id - 100] = true;
}

START_TEST(test_tcp_pipelining)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	uint8_t out[2048];
	size_t o = 0;
	int fd, i;
	static const char *const names[] = { "www.example.com", "example.com", "nx.example.com" };
	static const uint16_t types[] = { TYPE_A, TYPE_MX, TYPE_A };
	struct pipelined p = { { false, false, false } };

	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(f)), NULL),
	    0);
	fakeup_name_mode(f, "www.example.com", FAKE_ANSWER, 300); /* first one answers last */
	for (i = 0; i < 3; i++) {
		struct tq_opts qo = { .id = (uint16_t)(100 + i) };

		o += tu_tcp_query(names[i], types[i], &qo, out + o, sizeof(out) - o);
	}
	fd = tu_tcp_connect(d.port);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(send(fd, out, o, 0), (ssize_t)o); /* three queries in one write */
	ck_assert_uint_eq(tu_tcp_answers(fd, 3, 5000, pipelined_answer, &p), 3);
	ck_assert(p.seen[0] && p.seen[1] && p.seen[2]);
	close(fd);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

START_TEST(test_tcp_limit_and_idle)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	int c1, c2, c3;
	uint8_t qb[256], a[512];
	size_t l = tu_tcp_query("www.example.com", TYPE_A, NULL, qb, sizeof(qb));
	char x;
	double t0;
	ssize_t r;

	ck_assert_int_eq(
	    tu_start(&d, tu_fmt("hosts none\nmax-tcp-clients 2\nserver %s\n", fakeup_hostport(f)),
	        NULL),
	    0);
	c1 = tu_tcp_connect(d.port);
	c2 = tu_tcp_connect(d.port);
	ck_assert(c1 >= 0 && c2 >= 0);
	tu_sleep_ms(100);
	/* the third connects (backlog) but is not served while two are open */
	c3 = tu_tcp_connect(d.port);
	ck_assert_int_ge(c3, 0);
	ck_assert_int_eq(send(c3, qb, l, 0), (ssize_t)l);
	tu_sleep_ms(500);
	ck_assert_int_eq(recv(c3, a, sizeof(a), MSG_DONTWAIT), -1);
	close(c1);
	/* now it is accepted and answered */
	t0 = tu_now_ms();
	r = -1;
	while (r <= 0 && tu_now_ms() - t0 < 3000) {
		r = recv(c3, a, sizeof(a), MSG_DONTWAIT);
		if (r <= 0)
			tu_sleep_ms(10);
	}
	ck_assert_int_gt(r, 2);
	/* idle connection c2 is closed by the daemon after ~10 s */
	t0 = tu_now_ms();
	r = -1;
	while (tu_now_ms() - t0 < 13000) {
		r = recv(c2, &x, 1, MSG_DONTWAIT);
		if (r == 0)
			break;
		tu_sleep_ms(50);
	}
	ck_assert_int_eq(r, 0);
	ck_assert_msg(tu_now_ms() - t0 > 8500, "closed too early");
	close(c2);
	close(c3);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

static double
proc_cpu_s(pid_t pid)
{
	char path[64];
	FILE *f;
	unsigned long ut = 0, st = 0;
	int i;
	char buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	for (i = 0; p && i < 12; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* n TCP connections to d, left open */
static void
open_tcp(const struct tu_daemon *d, int *fds, int n)
{
	struct sockaddr_in sa = { 0 };
	int i;

	sa.sin_family = AF_INET;
	sa.sin_port = htons(d->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		connect(fds[i], (struct sockaddr *)&sa, sizeof(sa));
	}
}

/* stubd is not spinning: under 0.3 s of CPU in 1.5 s */
static void
assert_idle(const struct tu_daemon *d)
{
	double c0 = proc_cpu_s(d->pid), c1;

	tu_sleep_ms(1500);
	c1 = proc_cpu_s(d->pid);
	ck_assert_msg(c1 - c0 < 0.3, "stubd used %.2f s of CPU in 1.5 s", c1 - c0);
}

START_TEST(test_emfile_pauses_accept)
{
	struct fakeup *s1 = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	int fds[40], i;
	uint8_t a[512];

	d.nofile = 24;
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(s1)), NULL),
	    0);
	open_tcp(&d, fds, 40);
	tu_sleep_ms(300);
	/* out of descriptors: stubd must not spin on accept */
	assert_idle(&d);
	/* and still answers over UDP (its upstream socket may need a descriptor:
	 * free some first) */
	for (i = 0; i < 40; i++)
		close(fds[i]);
	tu_sleep_ms(1200);
	ck_assert_int_gt(q(&d, "www.example.com", TYPE_A, false, a), 0);
	ck_assert_uint_eq(tu_rcode(a, 512), 0);
	ck_assert_int_gt(q(&d, "www.example.com", TYPE_A, true, a), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
}
END_TEST

/* The control socket too: out of descriptors it pauses instead of spinning,
 * and works again once some are free. */
START_TEST(test_control_emfile_pauses_accept)
{
	struct fakeup *s1 = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	const char *args[] = { "--json", "stats", NULL };
	int fds[40], cfds[10], i;
	char out[4096];

	d.nofile = 24;
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(s1)), NULL),
	    0);
	open_tcp(&d, fds, 40);
	for (i = 0; i < 10; i++)
		cfds[i] = tu_ctl_connect(&d);
	tu_sleep_ms(300);
	assert_idle(&d);
	for (i = 0; i < 40; i++)
		close(fds[i]);
	for (i = 0; i < 10; i++)
		close(cfds[i]);
	tu_sleep_ms(1200);
	ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
}
END_TEST

START_TEST(test_tcp_per_connection_cap)
{
	struct fakeup *s1 = fakeup_start("127.0.0.31");
	struct tu_daemon d = { 0 };
	uint8_t out[100 * 64];
	size_t o = 0;
	int fd, i;

	fakeup_set_wildcard(s1, 60);
	fakeup_set_delay(s1, 400);
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(s1)), NULL),
	    0);
	for (i = 0; i < 100; i++) {
		char name[64];
		struct tq_opts qo = { .id = (uint16_t)(1 + i) };

		snprintf(name, sizeof(name), "q%d.cap.test", i);
		o += tu_tcp_query(name, TYPE_A, &qo, out + o, sizeof(out) - o);
	}
	fd = tu_tcp_connect(d.port);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(send(fd, out, o, 0), (ssize_t)o);
	tu_sleep_ms(250);
	/* before any answer came back, at most 64 + 1 were taken on */
	ck_assert_uint_le(fakeup_count(s1), 65);
	ck_assert_uint_ge(fakeup_count(s1), 30);
	ck_assert_uint_eq(tu_tcp_answers(fd, 100, 5000, NULL, NULL), 100);
	ck_assert_uint_eq(fakeup_count(s1), 100);
	close(fd);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
}
END_TEST

START_TEST(test_tcp_unread_answers_cap)
{
	struct fakeup *s1 = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct sockaddr_in sa = { 0 };
	static uint8_t out[2000 * 64];
	char json[4096];
	const char *args[] = { "--json", "stats", NULL };
	size_t o = 0, sent = 0;
	int fd, i, rcv = 4096;
	double t0;

	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(s1)), NULL),
	    0);
	{
		uint8_t b[65535];

		ck_assert_int_gt(q(&d, "big.example.com", TYPE_TXT, true, b), 3000); /* cached */
	}
	for (i = 0; i < 2000; i++) {
		struct tq_opts qo = { .id = (uint16_t)(1 + i) };

		o += tu_tcp_query("big.example.com", TYPE_TXT, &qo, out + o, sizeof(out) - o);
	}
	/* a small receive buffer, set before connecting */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(d.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	t0 = tu_now_ms();
	while (sent < o && tu_now_ms() - t0 < 2000) {
		ssize_t r = send(fd, out + sent, o - sent, MSG_DONTWAIT);

		if (r > 0)
			sent += (size_t)r;
		else
			tu_sleep_ms(5);
	}
	ck_assert_uint_eq(sent, o);
	tu_sleep_ms(500);
	/* the client reads nothing: stubd stops taking queries from it once 64
	 * answers wait beyond what the kernel buffers hold (~6 MB asked for) */
	ck_assert_int_eq(tu_stubctl(&d, args, json, sizeof(json), NULL, 0), 0);
	ck_assert_msg(tu_json_num(json, "queries_tcp") < 1900, "%s", json);
	/* reading resumes it: every query is answered */
	ck_assert_uint_eq(tu_tcp_answers(fd, 2000, 20000, NULL, NULL), 2000);
	ck_assert_int_eq(tu_stubctl(&d, args, json, sizeof(json), NULL, 0), 0);
	ck_assert_int_eq(tu_json_num(json, "queries_tcp"), 2001);
	close(fd);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
}
END_TEST

/* ---------------- cache and hosts ---------------- */

START_TEST(test_cache_hit)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	uint8_t a[4096];
	long n;

	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(f)), NULL),
	    0);
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_int_eq(tu_first_ttl(a, (size_t)n), 300);
	ck_assert_uint_eq(fakeup_count(f), 1);
	tu_sleep_ms(1100);
	n = q(&d, "WWW.Example.com", TYPE_A, true, a);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(fakeup_count(f), 1);             /* not asked again */
	ck_assert_mem_eq(a + 13, "WWW", 3);                /* 0x20 spelling */
	ck_assert_int_le(tu_first_ttl(a, (size_t)n), 299); /* TTL decremented */
	/* negative answers are cached too */
	n = q(&d, "nx.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	n = q(&d, "nx.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	ck_assert_uint_eq(fakeup_count(f), 2);
	/* short TTL expires */
	q(&d, "short.example.com", TYPE_A, false, a);
	tu_sleep_ms(2200);
	q(&d, "short.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(fakeup_count(f), 4);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

START_TEST(test_hosts)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	char hpath[300], data[64];
	uint8_t a[4096];
	long n;
	double t0;

	ck_assert_int_eq(tu_mkdir(&d), 0);
	ck_assert_int_eq(
	    tu_write(&d, "hosts", "192.0.2.50 printer.lan printer\n", hpath, sizeof(hpath)), 0);
	ck_assert_int_eq(
	    tu_start(&d, tu_fmt("hosts %s\nhosts-ttl 9\nserver %s\n", hpath, fakeup_hostport(f)),
	        NULL),
	    0);
	n = q(&d, "Printer.LAN", TYPE_A, false, a);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.50");
	ck_assert_int_eq(tu_first_ttl(a, (size_t)n), 9);
	n = q(&d, "printer", TYPE_AAAA, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_uint_eq(tu_ancount(a, (size_t)n), 0); /* NODATA */
	n = q(&d, "50.2.0.192.in-addr.arpa", TYPE_PTR, false, a);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "printer.lan");
	ck_assert_uint_eq(fakeup_count(f), 0); /* never upstream */
	/* replaced by rename: picked up within 3 s without a signal */
	ck_assert_int_eq(tu_write(&d, "hosts", "192.0.2.51 printer.lan\n", NULL, 0), 0);
	t0 = tu_now_ms();
	for (;;) {
		n = q(&d, "printer.lan", TYPE_A, false, a);
		tu_first_data(a, (size_t)n, data, sizeof(data));
		if (strcmp(data, "192.0.2.51") == 0 || tu_now_ms() - t0 > 3000)
			break;
		tu_sleep_ms(100);
	}
	ck_assert_str_eq(data, "192.0.2.51");
	ck_assert_uint_eq(fakeup_count(f), 0);
	/* the alias is gone now: a single label not in hosts, NXDOMAIN
	 * locally (SPEC 5c), still not upstream; a full name goes upstream */
	n = q(&d, "printer", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	ck_assert_uint_eq(fakeup_count(f), 0);
	q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(fakeup_count(f), 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

/* locally served names through the real daemon (SPEC 5c): localhost and
 * single labels never leave; a private reverse name goes to a server on a
 * private (here loopback) address */
START_TEST(test_local_names)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct tq_opts o = { .edns = true, .timeout_ms = 5000 };
	char data[64];
	uint8_t a[4096];
	long n;

	ck_assert_int_eq(
	    tu_start(&d, tu_fmt("hosts none\n" SCALED "server %s\n", fakeup_hostport(f)), NULL), 0);
	n = q(&d, "localhost", TYPE_A, false, a);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "127.0.0.1");
	ck_assert_uint_eq(a[2] & 0x04, 0); /* no AA */
	n = q(&d, "db.localhost", TYPE_AAAA, true, a);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "::1");
	n = tu_query("127.0.0.1", d.port, "wpad", TYPE_A, &o, a, sizeof(a));
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	ck_assert(tu_has_opt(a, (size_t)n));
	ck_assert_uint_eq(fakeup_count(f), 0);
	n = q(&d, "9.1.168.192.in-addr.arpa", TYPE_PTR, false, a);
	ck_assert_uint_eq(fakeup_count(f), 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

struct conc {
	uint16_t port;
	int ok;
};

/* The wiring end to end (listener, resolver, upstream) for clients asking
 * the same question; check_resolve covers the rules themselves. */
#define NCOAL 4

START_TEST(test_coalescing)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	int socks[NCOAL], i, answered = 0;
	struct sockaddr_in sa = { 0 };
	uint8_t qb[256], a[512];
	char out[4096];
	double t0;
	const char *args[] = { "--json", "stats", NULL };

	fakeup_set_delay(f, 200);
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(f)), NULL),
	    0);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(d.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < NCOAL; i++) {
		struct tq_opts o = { .id = (uint16_t)(1000 + i) };
		size_t l = tu_build_query(i % 2 ? "WWW.example.com" : "www.example.com", TYPE_A, &o,
		    qb, sizeof(qb));

		socks[i] = socket(AF_INET, SOCK_DGRAM, 0);
		ck_assert_int_eq(sendto(socks[i], qb, l, 0, (struct sockaddr *)&sa, sizeof(sa)),
		    (ssize_t)l);
	}
	t0 = tu_now_ms();
	while (answered < NCOAL && tu_now_ms() - t0 < 5000) {
		for (i = 0; i < NCOAL; i++) {
			ssize_t r;

			if (socks[i] < 0)
				continue;
			r = recv(socks[i], a, sizeof(a), MSG_DONTWAIT);
			if (r > 0) {
				ck_assert_uint_eq(tu_id(a, (size_t)r), 1000 + i);
				ck_assert_uint_eq(tu_ancount(a, (size_t)r), 1);
				ck_assert_uint_eq(a[13], i % 2 ? 'W' : 'w');
				close(socks[i]);
				socks[i] = -1;
				answered++;
			}
		}
		tu_sleep_ms(5);
	}
	ck_assert_int_eq(answered, NCOAL);
	ck_assert_uint_eq(fakeup_count(f), 1);
	ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
	ck_assert_int_eq(tu_json_num(out, "coalesced"), NCOAL - 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

START_TEST(test_serve_stale)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	uint8_t a[4096];
	char data[64];
	long n;
	double t0;

	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt("hosts none\nserve-stale 60\n" SCALED "server %s\n", fakeup_hostport(f)),
	        NULL),
	    0);
	n = q(&d, "short.example.com", TYPE_A, false, a);
	ck_assert_int_gt(n, 0);
	tu_sleep_ms(2300);             /* expired (TTL 2) */
	fakeup_set_mode(f, FAKE_DROP); /* upstream dead */
	t0 = tu_now_ms();
	n = q(&d, "short.example.com", TYPE_A, false, a);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.8");
	ck_assert_int_eq(tu_first_ttl(a, (size_t)n), 30);
	/* served at 1.8 s, before the scaled schedule (3.4 s) ended */
	ck_assert_msg(tu_now_ms() - t0 > 1500 && tu_now_ms() - t0 < 3000, "took %.0f ms",
	    tu_now_ms() - t0);
	/* a client asking while that search goes on gets the stale copy at once */
	t0 = tu_now_ms();
	n = q(&d, "short.example.com", TYPE_A, false, a);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(tu_first_ttl(a, (size_t)n), 30);
	ck_assert_msg(tu_now_ms() - t0 < 500, "took %.0f ms", tu_now_ms() - t0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

/* Copy an executable to path, mode 0755. */
static int
copy_program(const char *from, const char *to)
{
	char *data;
	size_t len;
	FILE *f;
	int rc = -1;

	if (!from || file_read(from, &data, &len) != 0)
		return -1;
	f = fopen(to, "wb");
	if (f) {
		rc = fwrite(data, 1, len, f) == len ? 0 : -1;
		if (fclose(f) != 0 || chmod(to, 0755) != 0)
			rc = -1;
	}
	free(data);
	return rc;
}

/* Run argv as uid/gid 65534 (no supplementary groups); its stdout, then
 * its stderr, go to out.  Returns its exit status. */
static int
run_as_nobody(const char *const *argv, char *out, size_t outsz)
{
	int pipefd[2], status;
	pid_t pid;
	ssize_t r;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		char o[8192], e[2048];
		int rc;

		close(pipefd[0]);
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(99);
		rc = tu_run(argv, o, sizeof(o), e, sizeof(e), 5000);
		(void)!write(pipefd[1], o, strlen(o));
		(void)!write(pipefd[1], e, strlen(e));
		_exit(rc);
	}
	close(pipefd[1]);
	r = read(pipefd[0], out, outsz - 1);
	out[r > 0 ? r : 0] = 0;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Run stubctl -s CTL ARGS as uid/gid 65534, like run_as_nobody. */
static int
stubctl_as_nobody(const struct tu_daemon *d, const char *a1, const char *a2, char *out,
    size_t outsz)
{
	char stubctl[400];
	const char *argv[] = { stubctl, "-s", d->ctl, a1, a2, NULL };

	/* the build tree may sit where uid 65534 cannot reach (a 0700 home):
	 * run a copy from the test directory, which the caller opened up */
	snprintf(stubctl, sizeof(stubctl), "%s/stubctl", d->dir);
	ck_assert_int_eq(copy_program(getenv("STUBCTL"), stubctl), 0);
	return run_as_nobody(argv, out, outsz);
}

/* ---------------- upstream engine ---------------- */

/* arrival times (ms after t0) of a name at a fake upstream */
static int
arrivals(struct fakeup *f, const char *name, double t0, double *out, int max)
{
	struct fake_rec *log = calloc(2000, sizeof(*log));
	size_t n = fakeup_log(f, log, 2000), i;
	int k = 0;

	for (i = 0; i < n && i < 2000 && k < max; i++)
		if (strcasecmp(log[i].name, name) == 0)
			out[k++] = log[i].t_ms - t0;
	free(log);
	return k;
}

static void
near(double got, double want)
{
	double slack = want * 0.25 > 150 ? want * 0.25 : 150;

	ck_assert_msg(got > want - slack && got < want + slack, "at %.0f ms, expected ~%.0f", got,
	    want);
}

START_TEST(test_schedule_timeline)
{
	struct fakeup *a1 = fakeup_start("127.0.0.31"), *a2 = fakeup_start("127.0.0.32");
	struct fakeup *b1 = fakeup_start("127.0.0.33"), *b2 = fakeup_start("127.0.0.34");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	double t0, t[8];
	long n;

	fakeup_set_mode(a1, FAKE_DROP);
	fakeup_set_mode(a2, FAKE_DROP);
	fakeup_set_mode(b1, FAKE_DROP);
	fakeup_set_mode(b2, FAKE_DROP);
	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt("hosts none\n" SCALED
	               "adapter lan source 127.0.0.21 metric 10\nserver %s\nserver %s\n"
	               "adapter wifi source 127.0.0.22 metric 20\nserver %s\nserver %s\n",
	            fakeup_hostport(a1), fakeup_hostport(a2), fakeup_hostport(b1),
	            fakeup_hostport(b2)),
	        NULL),
	    0);
	t0 = tu_now_ms();
	{
		struct tq_opts o = { .timeout_ms = 6000 };

		n = tu_query("127.0.0.1", d.port, "dead.example.com", TYPE_A, &o, a, sizeof(a));
	}
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_SERVFAIL);
	near(tu_now_ms() - t0, 3400);
	/* lan's first server: every phase; 0, 0.2, 0.6, 1.0, 1.8 s */
	ck_assert_int_eq(arrivals(a1, "dead.example.com", t0, t, 8), 5);
	near(t[0], 0);
	near(t[1], 200);
	near(t[2], 600);
	near(t[3], 1000);
	near(t[4], 1800);
	/* wifi's first server from phase 1 on; second servers from phase 2 on */
	ck_assert_int_eq(arrivals(b1, "dead.example.com", t0, t, 8), 4);
	near(t[0], 200);
	ck_assert_int_eq(arrivals(a2, "dead.example.com", t0, t, 8), 3);
	near(t[0], 600);
	ck_assert_int_eq(arrivals(b2, "dead.example.com", t0, t, 8), 3);
	/* adapters told apart by source address */
	{
		struct fake_rec log[2];

		fakeup_log(a1, log, 1);
		ck_assert_str_eq(log[0].peer, "127.0.0.21");
		fakeup_log(b1, log, 1);
		ck_assert_str_eq(log[0].peer, "127.0.0.22");
	}
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(a1);
	fakeup_stop(a2);
	fakeup_stop(b1);
	fakeup_stop(b2);
}
END_TEST

START_TEST(test_default_schedule_gaps)
{
	struct fakeup *s1 = fakeup_start("127.0.0.31"), *s2 = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	double t0, t[8];
	long n;

	fakeup_set_mode(s1, FAKE_DROP);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\nserver %s\nserver %s\n", fakeup_hostport(s1),
	                         fakeup_hostport(s2)),
	                     NULL),
	    0);
	t0 = tu_now_ms();
	{
		struct tq_opts o = { .timeout_ms = 6000 };

		n = tu_query("127.0.0.1", d.port, "www.example.com", TYPE_A, &o, a, sizeof(a));
	}
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	/* s1 at 0 and 1 s (gap ~1 s), then both at 3 s (gap ~2 s); s2 answers */
	ck_assert_int_eq(arrivals(s1, "www.example.com", t0, t, 8), 3);
	near(t[0], 0);
	near(t[1] - t[0], 1000);
	near(t[2] - t[1], 2000);
	ck_assert_int_eq(arrivals(s2, "www.example.com", t0, t, 8), 1);
	near(t[0], 3000);
	near(tu_now_ms() - t0, 3000);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
	fakeup_stop(s2);
}
END_TEST

START_TEST(test_positive_beats_nxdomain)
{
	struct fakeup *lan = fakeup_start("127.0.0.31"), *wifi = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	char data[64];
	long n;

	fakeup_set_mode(lan, FAKE_NXDOMAIN);
	fakeup_set_delay(wifi, 300);
	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt("hosts none\n" SCALED "adapter lan source 127.0.0.21 metric 10\nserver %s\n"
	               "adapter wifi source 127.0.0.22 metric 20\nserver %s\n",
	            fakeup_hostport(lan), fakeup_hostport(wifi)),
	        NULL),
	    0);
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.7");
	/* both adapters negative: NXDOMAIN (and cached) */
	n = q(&d, "nx.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	n = q(&d, "nx.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	ck_assert_int_eq(arrivals(lan, "nx.example.com", 0, NULL, 0), 0);
	{
		double t[4];

		ck_assert_int_eq(arrivals(lan, "nx.example.com", 0, t, 4), 1);
	}
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(lan);
	fakeup_stop(wifi);
}
END_TEST

START_TEST(test_negative_and_silence)
{
	struct fakeup *lan = fakeup_start("127.0.0.31"), *wifi = fakeup_start("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	double t0, t[4];
	long n;

	fakeup_set_mode(lan, FAKE_NXDOMAIN);
	fakeup_set_mode(wifi, FAKE_DROP);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "exclude-time 0\n"
	                            "adapter lan source 127.0.0.21 metric 10\nserver %s\n"
	                            "adapter wifi source 127.0.0.22 metric 20\nserver %s\n",
	                         fakeup_hostport(lan), fakeup_hostport(wifi)),
	                     NULL),
	    0);
	t0 = tu_now_ms();
	n = q(&d, "gone.example.com", TYPE_A, false, a);
	/* negative returned when the schedule ends, not cached */
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	near(tu_now_ms() - t0, 3400);
	n = q(&d, "gone.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	ck_assert_int_eq(arrivals(lan, "gone.example.com", 0, t, 4), 2);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(lan);
	fakeup_stop(wifi);
}
END_TEST

START_TEST(test_servfail_upstream_no_answer)
{
	struct fakeup *s1 = fakeup_start("127.0.0.31"), *s2 = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	long n;
	double t0, t[8];

	/* SERVFAIL counts as no answer, and s1 is done for this search: the
	 * next phase (s2) follows at once (SPEC 5, no needless waiting) */
	fakeup_set_mode(s1, FAKE_SERVFAIL);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "server %s\nserver %s\n",
	                         fakeup_hostport(s1), fakeup_hostport(s2)),
	                     NULL),
	    0);
	t0 = tu_now_ms();
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(arrivals(s2, "www.example.com", t0, t, 8), 1);
	ck_assert_msg(t[0] < 100, "s2 asked at %.0f ms", t[0]);
	ck_assert_int_eq(arrivals(s1, "www.example.com", t0, t, 8), 1);
	/* REFUSED from s2, a mismatched answer (still waited for) from s1: SERVFAIL after the schedule, nothing cached */
	fakeup_set_mode(s2, FAKE_REFUSED);
	fakeup_set_mode(s1, FAKE_MISMATCH);
	t0 = tu_now_ms();
	n = q(&d, "www2.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_SERVFAIL);
	near(tu_now_ms() - t0, 3400);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
	fakeup_stop(s2);
}
END_TEST

START_TEST(test_exclusion_failback)
{
	struct fakeup *s1 = up_with_records("127.0.0.31"), *s2 = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	char out[8192];
	const char *args[] = { "--json", "servers", NULL };
	double t[8];
	long n;

	fakeup_set_mode(s1, FAKE_DROP);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "exclude-time 2\n"
	                            "server %s\nserver %s\n",
	                         fakeup_hostport(s1), fakeup_hostport(s2)),
	                     NULL),
	    0);
	n = q(&d, "www.example.com", TYPE_A, false, a); /* s1 times out, s2 answers */
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
	ck_assert_msg(strstr(out, "\"excluded\":true") != NULL, "%s", out);
	/* excluded: the next search goes straight to s2 */
	fakeup_clear_log(s1);
	fakeup_clear_log(s2);
	n = q(&d, "example.com", TYPE_MX, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(arrivals(s1, "example.com", 0, t, 8), 0);
	ck_assert_int_eq(arrivals(s2, "example.com", 0, t, 8), 1);
	/* after exclude-time: failback to s1 first, and s2 in the same moment
	 * (SPEC 5, stage three); s1 answers first (s2 slowed): its place is
	 * restored */
	fakeup_set_mode(s1, FAKE_ANSWER);
	fakeup_set_delay(s2, 100);
	tu_sleep_ms(2200);
	n = q(&d, "example.com", TYPE_TXT, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(arrivals(s1, "example.com", 0, t, 8), 1);
	ck_assert_int_eq(arrivals(s2, "example.com", 0, t, 8), 2); /* MX, and TXT at once */
	ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
	ck_assert_msg(strstr(out, "\"excluded\":true") == NULL, "%s", out);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
	fakeup_stop(s2);
}
END_TEST

/* SPEC 5 (no needless waiting): an adapter excluded when the search
 * starts never re-enters it; the others' negative answers end it at once,
 * and the answer is cached. */
START_TEST(test_excluded_adapter_negative_fast)
{
	struct fakeup *lan = fakeup_start("127.0.0.31"), *wifi = up_with_records("127.0.0.32");
	struct fakeup *eth = up_with_records("127.0.0.33");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	double t0, t[8];
	long n;

	fakeup_set_mode(lan, FAKE_DROP);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "exclude-time 30\n"
	                            "adapter lan source 127.0.0.21 metric 10\nserver %s\n"
	                            "adapter wifi source 127.0.0.22 metric 20\nserver %s\n"
	                            "adapter eth source 127.0.0.23 metric 30\nserver %s\n",
	                         fakeup_hostport(lan), fakeup_hostport(wifi), fakeup_hostport(eth)),
	                     NULL),
	    0);
	/* lan times out in phase 0, the others answer in phase 1: lan excluded */
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	/* wifi and eth say NXDOMAIN / NODATA at once: answered at once */
	t0 = tu_now_ms();
	n = q(&d, "nx.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	ck_assert_msg(tu_now_ms() - t0 < 150, "NXDOMAIN after %.0f ms", tu_now_ms() - t0);
	t0 = tu_now_ms();
	n = q(&d, "www.example.com", TYPE_MX, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_uint_eq(tu_ancount(a, (size_t)n), 0);
	ck_assert_msg(tu_now_ms() - t0 < 150, "NODATA after %.0f ms", tu_now_ms() - t0);
	ck_assert_int_eq(arrivals(lan, "nx.example.com", 0, t, 8), 0);
	/* and cached: asked upstream once */
	n = q(&d, "nx.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	ck_assert_int_eq(arrivals(wifi, "nx.example.com", 0, t, 8), 1);
	ck_assert_int_eq(arrivals(eth, "nx.example.com", 0, t, 8), 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(lan);
	fakeup_stop(wifi);
	fakeup_stop(eth);
}
END_TEST

/* SPEC 5: failback without a stall.  A dead first server: after its
 * exclusion runs out no search waits a phase for it (timeouts[0] is
 * 200 ms here), across two expiries. */
START_TEST(test_dead_first_no_stall)
{
	struct fakeup *s1 = fakeup_start("127.0.0.31"), *s2 = fakeup_start("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	struct fake_rec log[64];
	double t0, worst = 0;
	unsigned i;
	size_t probes;
	long n;

	fakeup_set_mode(s1, FAKE_DROP);
	fakeup_set_wildcard(s2, 300);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "exclude-time 1\n"
	                            "server %s\nserver %s\n",
	                         fakeup_hostport(s1), fakeup_hostport(s2)),
	                     NULL),
	    0);
	n = q(&d, "first.example.com", TYPE_A, false, a); /* ~600 ms: s1 excluded */
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	fakeup_clear_log(s1);
	t0 = tu_now_ms();
	for (i = 0; i < 40 && tu_now_ms() - t0 < 2800; i++) {
		char name[64];
		double t1 = tu_now_ms(), took;

		snprintf(name, sizeof(name), "n%u.example.com", i);
		n = q(&d, name, TYPE_A, false, a);
		took = tu_now_ms() - t1;
		ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
		if (took > worst)
			worst = took;
		tu_sleep_ms(70);
	}
	/* s1 was tried again (failback) at each expiry (~3), once each */
	tu_sleep_ms(50);
	probes = fakeup_log(s1, log, 64);
	ck_assert_msg(probes >= 2 && probes <= 4, "s1 asked %zu times", probes);
	ck_assert_msg(worst < 100, "slowest answer %.0f ms", worst);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
	fakeup_stop(s2);
}
END_TEST

/* SPEC 5: a server whose packet is refused (ICMP port unreachable: nothing
 * bound there) is done for the search, not waited out. */
START_TEST(test_refused_port_not_waited)
{
	struct fakeup *s2 = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	double t0;
	long n;

	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "exclude-time 30\n"
	                            "server 127.0.0.31:%u\nserver %s\n",
	                         tu_free_port(), fakeup_hostport(s2)),
	                     NULL),
	    0);
	t0 = tu_now_ms();
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_msg(tu_now_ms() - t0 < 100, "answered after %.0f ms", tu_now_ms() - t0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s2);
}
END_TEST

/* SPEC 5: SERVFAIL, REFUSED, FORMERR or a refused packet from every
 * server: SERVFAIL at once, not after the schedule; nothing cached and
 * no timeouts counted. */
START_TEST(test_all_fail_at_once)
{
	struct fakeup *s1 = fakeup_start("127.0.0.31"), *s2 = fakeup_start("127.0.0.32");
	struct fakeup *s3 = fakeup_start("127.0.0.33");
	struct tu_daemon d = { 0 };
	const char *stats[] = { "--json", "stats", NULL };
	char out[8192];
	uint8_t a[512];
	double t0, t[8];
	long n;

	fakeup_set_mode(s1, FAKE_SERVFAIL);
	fakeup_set_mode(s2, FAKE_REFUSED);
	fakeup_set_mode(s3, FAKE_FORMERR);
	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt(
	            "hosts none\n" SCALED "exclude-time 30\n"
	            "adapter lan source 127.0.0.21 metric 10\nserver %s\nserver %s\n"
	            "adapter wifi source 127.0.0.22 metric 20\nserver %s\nserver 127.0.0.34:%u\n",
	            fakeup_hostport(s1), fakeup_hostport(s2), fakeup_hostport(s3), tu_free_port()),
	        NULL),
	    0);
	t0 = tu_now_ms();
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_SERVFAIL);
	ck_assert_msg(tu_now_ms() - t0 < 150, "SERVFAIL after %.0f ms", tu_now_ms() - t0);
	/* each asked once: a done server is not asked again */
	ck_assert_int_eq(arrivals(s1, "www.example.com", 0, t, 8), 1);
	ck_assert_int_eq(arrivals(s2, "www.example.com", 0, t, 8), 1);
	/* a FORMERR to a query with OPT: c-ares asks once more without OPT
	 * (RFC 6891 7), within the same packet's life */
	n = arrivals(s3, "www.example.com", 0, t, 8);
	ck_assert_msg(n == 1 || n == 2, "%ld", n);
	/* not cached, nobody excluded, no timeout */
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_SERVFAIL);
	ck_assert_int_eq(arrivals(s1, "www.example.com", 0, t, 8), 2);
	ck_assert_int_eq(tu_stubctl(&d, stats, out, sizeof(out), NULL, 0), 0);
	ck_assert_msg(strstr(out, "\"upstream_timeouts\":0") != NULL, "%s", out);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
	fakeup_stop(s2);
	fakeup_stop(s3);
}
END_TEST

/* SPEC 13: reload keeps the exclusion, RTT and counters of servers that
 * are still configured. */
START_TEST(test_reload_keeps_exclusion)
{
	struct fakeup *s1 = up_with_records("127.0.0.31"), *s2 = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	char out[8192];
	const char *servers[] = { "--json", "servers", NULL }, *reload[] = { "reload", NULL };
	double t[8];
	long n;

	fakeup_set_mode(s1, FAKE_DROP);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "exclude-time 30\n"
	                            "server %s\nserver %s\n",
	                         fakeup_hostport(s1), fakeup_hostport(s2)),
	                     NULL),
	    0);
	n = q(&d, "www.example.com", TYPE_A, false, a); /* s1 times out, s2 answers */
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(tu_stubctl(&d, reload, out, sizeof(out), NULL, 0), 0);
	ck_assert_int_eq(tu_stubctl(&d, servers, out, sizeof(out), NULL, 0), 0);
	ck_assert_msg(strstr(out, "\"excluded\":true") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\"timeouts\":2") != NULL, "%s", out); /* phases 0 and 1 */
	/* still skipped after the reload */
	fakeup_clear_log(s1);
	n = q(&d, "example.com", TYPE_MX, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(arrivals(s1, "example.com", 0, t, 8), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
	fakeup_stop(s2);
}
END_TEST

START_TEST(test_priority_last)
{
	struct fakeup *s1 = up_with_records("127.0.0.31"), *last = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	int i;

	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "server %s priority last\nserver %s\n",
	                         fakeup_hostport(last), fakeup_hostport(s1)),
	                     NULL),
	    0);
	for (i = 0; i < 3; i++) {
		static const char *const names[] = { "www.example.com", "example.com",
			"_sip._udp.example.com" };
		static const uint16_t types[] = { TYPE_A, TYPE_MX, TYPE_SRV };
		long n = q(&d, names[i], types[i], false, a);

		ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	}
	ck_assert_uint_eq(fakeup_count(s1), 3);
	ck_assert_uint_eq(fakeup_count(last), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
	fakeup_stop(last);
}
END_TEST

START_TEST(test_rtt_reorder)
{
	struct fakeup *slow = up_with_records("127.0.0.31"), *fast = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	double t[8];
	long n;

	fakeup_name_mode(slow, "www.example.com", FAKE_ANSWER, 500);
	fakeup_name_mode(slow, "example.com", FAKE_DROP, 0);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "exclude-time 0\n"
	                            "server %s\nserver %s\n",
	                         fakeup_hostport(slow), fakeup_hostport(fast)),
	                     NULL),
	    0);
	n = q(&d, "www.example.com", TYPE_A, false, a); /* slow: srtt ~500 ms */
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	n = q(&d, "example.com", TYPE_MX, false, a); /* fast measured in phase 2 */
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(arrivals(fast, "example.com", 0, t, 8), 1);
	/* slow is > 400 ms worse than fast now: fast is asked first */
	n = q(&d, "_sip._udp.example.com", TYPE_SRV, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(arrivals(fast, "_sip._udp.example.com", 0, t, 8), 1);
	ck_assert_int_eq(arrivals(slow, "_sip._udp.example.com", 0, t, 8), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(slow);
	fakeup_stop(fast);
}
END_TEST

START_TEST(test_routing_domains)
{
	struct fakeup *lan = up_with_records("127.0.0.31"), *vpn = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	double t[8];

	fakeup_add(vpn, "intranet.corp.example", "A", 60, "10.8.1.1");
	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt("hosts none\n" SCALED "adapter lan source 127.0.0.21 metric 10\nserver %s\n"
	               "adapter vpn source 127.0.0.22 metric 50\nserver %s\ndomain corp.example\n",
	            fakeup_hostport(lan), fakeup_hostport(vpn)),
	        NULL),
	    0);
	q(&d, "intranet.corp.example", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, 512), 0);
	ck_assert_int_eq(arrivals(vpn, "intranet.corp.example", 0, t, 8), 1);
	ck_assert_int_eq(arrivals(lan, "intranet.corp.example", 0, t, 8), 0);
	/* a name under the domain that vpn says does not exist: not asked of lan */
	q(&d, "nothere.corp.example", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, 512), RCODE_NXDOMAIN);
	ck_assert_int_eq(arrivals(lan, "nothere.corp.example", 0, t, 8), 0);
	/* other names: the preferred adapter (lan) first */
	q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_int_eq(arrivals(lan, "www.example.com", 0, t, 8), 1);
	ck_assert_int_eq(arrivals(vpn, "www.example.com", 0, t, 8), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(lan);
	fakeup_stop(vpn);
}
END_TEST

START_TEST(test_forged_answers_ignored)
{
	struct fakeup *s1 = fakeup_start("127.0.0.31"), *s2 = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	char data[64];
	long n;

	/* s1 answers with a wrong ID, then (another name) a mismatched question */
	fakeup_set_mode(s1, FAKE_WRONGID);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "server %s\nserver %s\n",
	                         fakeup_hostport(s1), fakeup_hostport(s2)),
	                     NULL),
	    0);
	n = q(&d, "www.example.com", TYPE_A, false, a);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.7");
	fakeup_set_mode(s1, FAKE_MISMATCH);
	n = q(&d, "www.example.com", TYPE_AAAA, false, a);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "2001:db8::7");
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
	fakeup_stop(s2);
}
END_TEST

static bool
has_upper(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return true;
	return false;
}

/* how many times the stderr log of d holds text */
static unsigned
log_count(const struct tu_daemon *d, const char *text)
{
	char *log, *p;
	size_t len;
	unsigned n = 0;

	if (file_read(d->errlog, &log, &len) != 0)
		return 0;
	for (p = log; (p = strstr(p, text)) != NULL; p += strlen(text))
		n++;
	free(log);
	return n;
}

/* upstream-0x20 (SPEC 5c): a server that does not echo the case is
 * accepted, noticed, logged once and asked without 0x20 from then on */
START_TEST(test_upstream_0x20)
{
	struct fakeup *s1 = up_with_records("127.0.0.31"), *s2 = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	struct fake_rec log[16];
	uint8_t a[512];
	char data[64];
	size_t k, i;
	long n;
	bool mixed = false;
	double t0;

	fakeup_set_mode(s1, FAKE_LOWERCASE);
	fakeup_set_mode(s2, FAKE_DROP);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "upstream-0x20 yes\n"
	                            "server %s\nserver %s\n",
	                         fakeup_hostport(s1), fakeup_hostport(s2)),
	                     NULL),
	    0);
	t0 = tu_now_ms();
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NOERROR);
	ck_assert_double_lt(tu_now_ms() - t0, 150); /* accepted at once */
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.7");
	ck_assert_uint_eq(fakeup_log(s1, log, 16), 1);
	ck_assert(has_upper(log[0].name)); /* asked with 0x20 first */
	ck_assert_uint_eq(fakeup_count(s2), 0);
	/* from now on without: every later question to s1 is lower-case */
	for (i = 0; i < 3; i++) {
		static const uint16_t types[] = { TYPE_AAAA, TYPE_MX, TYPE_TXT };

		n = q(&d, i == 0 ? "www.example.com" : "example.com", types[i], false, a);
		ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NOERROR);
	}
	k = fakeup_log(s1, log, 16);
	ck_assert_uint_eq(k, 4);
	for (i = 1; i < k; i++)
		ck_assert_msg(!has_upper(log[i].name), "asked %s with 0x20", log[i].name);
	ck_assert_uint_eq(log_count(&d, "does not echo the case"), 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	/* a server that echoes the case keeps getting it */
	memset(&d, 0, sizeof(d));
	fakeup_set_mode(s2, FAKE_ANSWER);
	fakeup_clear_log(s2);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "upstream-0x20 yes\n"
	                            "server %s\n",
	                         fakeup_hostport(s2)),
	                     NULL),
	    0);
	n = q(&d, "WWW.example.com", TYPE_AAAA, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "2001:db8::7");
	ck_assert_mem_eq(a + 13, "WWW", 3);
	n = q(&d, "example.com", TYPE_MX, false, a);
	n = q(&d, "example.com", TYPE_TXT, false, a);
	k = fakeup_log(s2, log, 16);
	ck_assert_uint_eq(k, 3);
	for (i = 0; i < k; i++)
		mixed |= has_upper(log[i].name);
	ck_assert(mixed);
	ck_assert_uint_eq(log_count(&d, "does not echo the case"), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	/* per-server opt-out: s1 (no echo) accepted with no-0x20 */
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\n" SCALED "upstream-0x20 yes\n"
	                            "server %s no-0x20\n",
	                         fakeup_hostport(s1)),
	                     NULL),
	    0);
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
	fakeup_stop(s2);
}
END_TEST

/* Every upstream query carries OPT advertising 1232 bytes, and an answer
 * between 512 and 1232 bytes comes back over UDP, with no TCP retry
 * (SPEC 5c) */
START_TEST(test_upstream_edns_1232)
{
	struct fakeup *s1 = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct fake_rec log[8];
	uint8_t a[4096];
	long n;

	fakeup_add(s1, "mid.example.com", "TXT", 300, "@800");
	ck_assert_int_eq(
	    tu_start(&d, tu_fmt("hosts none\n" SCALED "server %s\n", fakeup_hostport(s1)), NULL),
	    0);
	/* a client without EDNS, over TCP so the answer fits */
	n = q(&d, "mid.example.com", TYPE_TXT, true, a);
	ck_assert_int_gt(n, 800);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(a, (size_t)n), 1);
	ck_assert_uint_eq(fakeup_log(s1, log, 8), 1);
	ck_assert(!log[0].tcp);
	ck_assert(log[0].edns);
	ck_assert_uint_eq(log[0].edns_size, 1232);
	ck_assert(!log[0].do_bit);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
}
END_TEST

START_TEST(test_0x20_off_by_default)
{
	struct fakeup *s1 = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct fake_rec log[4];
	uint8_t a[512];

	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(s1)), NULL),
	    0);
	q(&d, "WwW.Example.Com", TYPE_A, false, a);
	ck_assert_uint_eq(fakeup_log(s1, log, 4), 1);
	ck_assert_str_eq(log[0].name, "www.example.com");
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
}
END_TEST

START_TEST(test_forged_wrong_port)
{
	struct fakeup *s1 = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct fake_rec log[4];
	uint8_t qb[512], a[512], forged[512];
	struct sockaddr_in me = { 0 }, to = { 0 };
	struct sockaddr_in sa = { 0 };
	char data[64], out[16384];
	int cs, fs, i;
	size_t ql, fl;
	long n = -1;
	double t0;

	fakeup_set_delay(s1, 400);
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(s1)), NULL),
	    0);
	/* the client asks; the real answer takes 400 ms */
	cs = socket(AF_INET, SOCK_DGRAM, 0);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(d.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ql = tu_build_query("www.example.com", TYPE_A, NULL, qb, sizeof(qb));
	ck_assert_int_eq(sendto(cs, qb, ql, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)ql);
	t0 = tu_now_ms();
	while (fakeup_log(s1, log, 4) == 0 && tu_now_ms() - t0 < 2000)
		tu_sleep_ms(2);
	ck_assert_uint_eq(fakeup_log(s1, log, 4), 1);
	/* an attacker on the upstream's address but another port, with the
	 * right ID and question, answers first */
	{
		struct tu_resp r = { .id = log[0].id,
			.name = "www.example.com",
			.qtype = TYPE_A,
			.nans = 1,
			.ttl = 86400 };

		fl = tu_response(&r, forged, sizeof(forged));
		forged[12 + 17 + 4 + 12] = 6; /* 6.x.x.x */
	}
	fs = socket(AF_INET, SOCK_DGRAM, 0);
	me.sin_family = AF_INET;
	me.sin_addr.s_addr = inet_addr("127.0.0.31");
	ck_assert_int_eq(bind(fs, (struct sockaddr *)&me, sizeof(me)), 0);
	to.sin_family = AF_INET;
	to.sin_port = htons(log[0].peer_port);
	to.sin_addr.s_addr = inet_addr(log[0].peer);
	for (i = 0; i < 5; i++)
		sendto(fs, forged, fl, 0, (struct sockaddr *)&to, sizeof(to));
	/* the client gets the real answer */
	t0 = tu_now_ms();
	while (n <= 0 && tu_now_ms() - t0 < 3000) {
		n = recv(cs, a, sizeof(a), MSG_DONTWAIT);
		if (n <= 0)
			tu_sleep_ms(5);
	}
	ck_assert_int_gt(n, 0);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.7");
	/* and the cache holds the real one */
	n = q(&d, "www.example.com", TYPE_A, false, a);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.7");
	{
		const char *args[] = { "--json", "displaydns", NULL };

		ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
		ck_assert_ptr_null(strstr(out, "6.0.2.7"));
	}
	close(cs);
	close(fs);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
}
END_TEST

static long
proc_uid(pid_t pid, const char *field)
{
	char path[64], line[256];
	FILE *f;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			v = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return v;
}

START_TEST(test_privdrop_and_group)
{
	struct fakeup *s1 = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct stat st;
	uint8_t a[512];
	char out[8192];

	if (geteuid() != 0) {
		fprintf(stderr, "test_privdrop_and_group: skipped (needs root)\n");
		fakeup_stop(s1);
		return;
	}
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\nuser nobody\ncontrol-group nogroup\n"
	                            "server %s\n",
	                         fakeup_hostport(s1)),
	                     NULL),
	    0);
	tu_sleep_ms(100);
	ck_assert_int_eq(proc_uid(d.pid, "Uid:"), 65534);
	ck_assert_int_eq(proc_uid(d.pid, "Gid:"), 65534);
	ck_assert_int_gt(q(&d, "www.example.com", TYPE_A, false, a), 0);
	ck_assert_int_eq(stat(d.ctl, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0660);
	ck_assert_uint_eq(st.st_gid, 65534);
	chmod(d.dir, 0755);
	/* a member of control-group may use the socket */
	ck_assert_int_eq(stubctl_as_nobody(&d, "--json", "stats", out, sizeof(out)), 0);
	ck_assert_int_eq(tu_json_num(out, "queries"), 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
}
END_TEST

/* Started as a user outside its control-group (the packaged unit runs as
 * stubd from the start), stubd cannot give the socket to that group: it
 * says so and why, and exits 1. */
START_TEST(test_control_group_not_member)
{
	char dir[] = "/tmp/stubd-cgrp-XXXXXX", conf[300], stubd[300], out[4096];
	const char *argv[] = { stubd, "-f", "-c", conf, NULL };

	if (geteuid() != 0) {
		fprintf(stderr, "test_control_group_not_member: skipped (needs root)\n");
		return;
	}
	ck_assert_ptr_nonnull(mkdtemp(dir));
	chmod(dir, 0777);
	snprintf(conf, sizeof(conf), "%s/stubd.conf", dir);
	snprintf(stubd, sizeof(stubd), "%s/stubd", dir);
	ck_assert_int_eq(copy_program(getenv("STUBD"), stubd), 0);
	{
		FILE *f = fopen(conf, "w");

		ck_assert_ptr_nonnull(f);
		fprintf(f,
		    "listen 127.0.0.1:%u\ncontrol %s/ctl.sock\ncontrol-group root\n"
		    "hosts none\nserver 127.0.0.1:9\n",
		    tu_free_port(), dir);
		fclose(f);
		chmod(conf, 0644);
	}
	ck_assert_int_eq(run_as_nobody(argv, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out,
	                  "cannot give it to control-group root: Operation not permitted "
	                  "(stubd's user must be a member of that group)") != NULL,
	    "%s", out);
	unlink(conf);
	unlink(stubd);
	rmdir(dir);
}
END_TEST

START_TEST(test_source_port_recycled)
{
	struct fakeup *s1 = fakeup_start("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct fake_rec *log = calloc(700, sizeof(*log));
	uint8_t a[512];
	size_t n, i, j, distinct = 0;
	uint16_t ports[16];
	int k;

	fakeup_set_wildcard(s1, 60);
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(s1)), NULL),
	    0);
	for (k = 0; k < 600; k++) {
		char name[64];

		snprintf(name, sizeof(name), "p%d.port.test", k);
		ck_assert_int_gt(q(&d, name, TYPE_A, false, a), 0);
	}
	n = fakeup_log(s1, log, 700);
	ck_assert_uint_eq(n, 600);
	for (i = 0; i < n; i++) {
		for (j = 0; j < distinct && ports[j] != log[i].peer_port; j++)
			;
		if (j == distinct && distinct < 16)
			ports[distinct++] = log[i].peer_port;
	}
	/* 600 queries on channels recycled every 200: at least 3 source ports */
	ck_assert_uint_ge(distinct, 3);
	free(log);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
}
END_TEST

/* Queries one at a time (the channel idle before each): every one leaves
 * from a port of its own.  stubd opens the next query's socket ahead of
 * time; it must still be used once only. */
START_TEST(test_source_port_per_query)
{
	struct fakeup *s1 = fakeup_start("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct fake_rec *log = calloc(150, sizeof(*log));
	uint8_t a[512];
	size_t n, i, j, repeats = 0;
	int k;

	fakeup_set_wildcard(s1, 60);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\nadapter lan source 127.0.0.1\nserver %s\n",
	                         fakeup_hostport(s1)),
	                     NULL),
	    0);
	for (k = 0; k < 120; k++) {
		char name[64];

		snprintf(name, sizeof(name), "p%d.fresh.test", k);
		ck_assert_int_gt(q(&d, name, TYPE_A, false, a), 0);
	}
	/* a spare left over 1 s is not used: the queries still go out */
	for (k = 0; k < 3; k++) {
		char name[64];

		usleep(1200 * 1000);
		snprintf(name, sizeof(name), "late%d.fresh.test", k);
		ck_assert_int_gt(q(&d, name, TYPE_A, false, a), 0);
	}
	n = fakeup_log(s1, log, 150);
	ck_assert_uint_eq(n, 123);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(log[i].peer, "127.0.0.1"); /* the adapter's source */
		if (i > 0)
			ck_assert_uint_ne(log[i].peer_port, log[i - 1].peer_port);
		for (j = 0; j < i; j++)
			if (log[j].peer_port == log[i].peer_port) {
				repeats++;
				break;
			}
	}
	/* random ports from the ephemeral range: a chance repeat or two, no
	 * more (one socket kept open would repeat 122 times) */
	ck_assert_uint_le(repeats, 4);
	free(log);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
}
END_TEST

START_TEST(test_ipv6_listen)
{
	struct fakeup *s1 = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	uint16_t p6 = tu_free_port();
	struct tq_opts o = { .timeout_ms = 3000 };
	uint8_t a[512];
	char data[64];
	long n;
	int probe = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 sa = { 0 };

	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	if (probe < 0 || bind(probe, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "test_ipv6_listen: skipped (no IPv6 loopback)\n");
		if (probe >= 0)
			close(probe);
		fakeup_stop(s1);
		return;
	}
	close(probe);
	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt("hosts none\nlisten [::1]:%u\nserver %s\n", p6, fakeup_hostport(s1)), NULL),
	    0);
	n = tu_query("::1", p6, "www.example.com", TYPE_A, &o, a, sizeof(a));
	ck_assert_int_gt(n, 0);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.7");
	o.tcp = true;
	n = tu_query("::1", p6, "www.example.com", TYPE_AAAA, &o, a, sizeof(a));
	ck_assert_int_gt(n, 0);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, "2001:db8::7");
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
}
END_TEST

START_TEST(test_sigusr1_stats)
{
	struct fakeup *s1 = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	uint8_t a[512];
	char buf[8192] = "";
	FILE *f;
	size_t n;

	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(s1)), NULL),
	    0);
	q(&d, "www.example.com", TYPE_A, false, a);
	kill(d.pid, SIGUSR1);
	tu_sleep_ms(300);
	f = fopen(d.errlog, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	ck_assert_msg(strstr(buf, "stats: queries 1") != NULL, "log: %s", buf);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(s1);
}
END_TEST

START_TEST(test_daemonize)
{
	struct fakeup *s1 = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	const char *stubd = getenv("STUBD");
	char ctext[512], path[300], pidfile[300], lst[64];
	uint8_t a[512];
	long pid = 0, n;
	FILE *f;
	int rc, i;
	struct stat st;

	ck_assert_int_eq(tu_mkdir(&d), 0);
	d.port = tu_free_port();
	snprintf(pidfile, sizeof(pidfile), "%s/stubd.pid", d.dir);
	snprintf(d.ctl, sizeof(d.ctl), "%s/ctl.sock", d.dir);
	snprintf(ctext, sizeof(ctext), "hosts none\ncontrol %s\nserver %s\n", d.ctl,
	    fakeup_hostport(s1));
	ck_assert_int_eq(tu_write(&d, "stubd.conf", ctext, path, sizeof(path)), 0);
	snprintf(lst, sizeof(lst), "127.0.0.1:%u", d.port);
	{
		const char *argv[] = { stubd, "-c", path, "-l", lst, "-p", pidfile, NULL };

		/* without -f: returns at once, the daemon lives on */
		rc = tu_run(argv, NULL, 0, NULL, 0, 5000);
	}
	ck_assert_int_eq(rc, 0);
	for (i = 0; i < 100 && (stat(pidfile, &st) != 0 || st.st_size == 0); i++)
		tu_sleep_ms(20);
	f = fopen(pidfile, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	ck_assert_int_gt(pid, 1);
	tu_sleep_ms(100);
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(kill((pid_t)pid, SIGTERM), 0);
	for (i = 0; i < 200 && kill((pid_t)pid, 0) == 0; i++)
		tu_sleep_ms(20);
	ck_assert_int_ne(kill((pid_t)pid, 0), 0);
	ck_assert_int_ne(stat(pidfile, &st), 0); /* removed at exit */
	ck_assert_int_ne(stat(d.ctl, &st), 0);
	fakeup_stop(s1);
}
END_TEST

/* ---------------- control and operations ---------------- */

START_TEST(test_stubctl_commands)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	char hpath[300], out[65536], err[1024];
	uint8_t a[512];
	int rc;

	ck_assert_int_eq(tu_mkdir(&d), 0);
	ck_assert_int_eq(tu_write(&d, "hosts", "192.0.2.50 printer.lan\n", hpath, sizeof(hpath)),
	    0);
	ck_assert_int_eq(
	    tu_start(&d, tu_fmt("hosts %s\nserver %s\n", hpath, fakeup_hostport(f)), NULL), 0);
	q(&d, "www.example.com", TYPE_A, false, a); /* miss, positive */
	q(&d, "www.example.com", TYPE_A, false, a); /* hit */
	q(&d, "nx.example.com", TYPE_A, false, a);  /* miss, negative */
	q(&d, "nx.example.com", TYPE_A, false, a);  /* negative hit */
	q(&d, "printer.lan", TYPE_A, false, a);     /* hosts */
	{
		const char *args[] = { "--json", "stats", NULL };

		ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
		ck_assert_int_eq(tu_json_num(out, "queries"), 5);
		ck_assert_int_eq(tu_json_num(out, "queries_udp"), 5);
		ck_assert_int_eq(tu_json_num(out, "queries_tcp"), 0);
		ck_assert_int_eq(tu_json_num(out, "cache_hits"), 2);
		ck_assert_int_eq(tu_json_num(out, "negative_hits"), 1);
		ck_assert_int_eq(tu_json_num(out, "cache_misses"), 2);
		ck_assert_int_eq(tu_json_num(out, "hosts_hits"), 1);
		ck_assert_int_eq(tu_json_num(out, "upstream_queries"), 2);
		ck_assert_int_eq(tu_json_num(out, "cache_entries"), 2);
		ck_assert_int_eq(tu_json_num(out, "servfail"), 0);
	}
	{
		const char *args[] = { "displaydns", NULL };

		ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
		ck_assert_ptr_nonnull(strstr(out, "Record Name . . . . . : www.example.com"));
		ck_assert_ptr_nonnull(strstr(out, "A (Host) Record . . . : 192.0.2.7"));
		ck_assert_ptr_nonnull(strstr(out, "Time To Live  . . . . : "));
		ck_assert_ptr_nonnull(strstr(out, "Section . . . . . . . : Answer"));
		ck_assert_ptr_nonnull(strstr(out, "Name does not exist."));
		ck_assert_ptr_nonnull(strstr(out, "printer.lan"));
	}
	{
		const char *args[] = { "--json", "displaydns", NULL };

		ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
		ck_assert_ptr_nonnull(strstr(out, "\"source\":\"hosts\""));
		ck_assert_ptr_nonnull(strstr(out, "\"status\":\"NXDOMAIN\""));
		ck_assert_ptr_nonnull(strstr(out, "\"upstream\":\"127.0.0.31:"));
	}
	{
		const char *args[] = { "flushdns", "--negative", NULL };

		ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
		q(&d, "nx.example.com", TYPE_A, false, a);
		q(&d, "www.example.com", TYPE_A, false, a);
		ck_assert_uint_eq(fakeup_count(f), 3); /* only nx asked again */
	}
	{
		const char *args[] = { "--json", "flushdns", "WWW.example.com", NULL };

		ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
		ck_assert_int_eq(tu_json_num(out, "flushed"), 1);
		q(&d, "www.example.com", TYPE_A, false, a);
		ck_assert_uint_eq(fakeup_count(f), 4);
	}
	{
		const char *args[] = { "--json", "flushdns", NULL };

		ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
		ck_assert_int_eq(tu_json_num(out, "flushed"), 2);
		q(&d, "printer.lan", TYPE_A, false, a); /* hosts survive a flush */
		ck_assert_uint_eq(fakeup_count(f), 4);
	}
	{
		const char *args[] = { "servers", NULL };

		ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
		ck_assert_ptr_nonnull(strstr(out, "adapter default"));
	}
	{
		const char *args[] = { "bogus", NULL };

		rc = tu_stubctl(&d, args, out, sizeof(out), err, sizeof(err));
		ck_assert_int_eq(rc, 1);
	}
	ck_assert_int_eq(tu_stop(&d), 0);
	/* the daemon is gone: the socket was removed, stubctl says so */
	{
		struct stat st;
		const char *args[] = { "stats", NULL };

		ck_assert_int_ne(stat(d.ctl, &st), 0);
		rc = tu_stubctl(&d, args, out, sizeof(out), err, sizeof(err));
		ck_assert_int_eq(rc, 1);
		ck_assert_ptr_nonnull(strstr(err, "is stubd running?"));
	}
	fakeup_stop(f);
}
END_TEST

START_TEST(test_reload)
{
	struct fakeup *f1 = up_with_records("127.0.0.31"), *f2 = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	char out[8192], err[2048], text[1024];
	uint8_t a[512];
	int rc;

	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(f1)), NULL),
	    0);
	q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(fakeup_count(f1), 1);
	/* good config via stubctl reload: new server */
	snprintf(text, sizeof(text), "listen 127.0.0.1:%u\ncontrol %s\nhosts none\nserver %s\n",
	    d.port, d.ctl, fakeup_hostport(f2));
	ck_assert_int_eq(tu_write(&d, "stubd.conf", text, NULL, 0), 0);
	{
		const char *args[] = { "reload", NULL };

		ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
	}
	q(&d, "example.com", TYPE_MX, false, a);
	ck_assert_uint_eq(fakeup_count(f2), 1);
	/* broken config: error, old one keeps running */
	ck_assert_int_eq(tu_write(&d, "stubd.conf", "server 192.0.2.1\nnonsense here\n", NULL, 0),
	    0);
	{
		const char *args[] = { "reload", NULL };

		rc = tu_stubctl(&d, args, out, sizeof(out), err, sizeof(err));
		ck_assert_int_eq(rc, 1);
		ck_assert_ptr_nonnull(strstr(err, "keeping the running one"));
	}
	q(&d, "example.com", TYPE_TXT, false, a);
	ck_assert_uint_eq(fakeup_count(f2), 2);
	/* SIGHUP with a good config: back to f1 */
	snprintf(text, sizeof(text), "listen 127.0.0.1:%u\ncontrol %s\nhosts none\nserver %s\n",
	    d.port, d.ctl, fakeup_hostport(f1));
	ck_assert_int_eq(tu_write(&d, "stubd.conf", text, NULL, 0), 0);
	kill(d.pid, SIGHUP);
	tu_sleep_ms(300);
	q(&d, "_sip._udp.example.com", TYPE_SRV, false, a);
	ck_assert_uint_eq(fakeup_count(f1), 2);
	/* SIGHUP with a broken one: still answering through f1 */
	ck_assert_int_eq(tu_write(&d, "stubd.conf", "bogus\n", NULL, 0), 0);
	kill(d.pid, SIGHUP);
	tu_sleep_ms(300);
	q(&d, "www.example.com", TYPE_AAAA, false, a);
	ck_assert_uint_eq(tu_rcode(a, 512), 0);
	ck_assert_uint_eq(fakeup_count(f1), 3);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f1);
	fakeup_stop(f2);
}
END_TEST

START_TEST(test_control_other_uid)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	char err[8192];
	uint8_t a[512];

	if (geteuid() != 0) {
		fprintf(stderr, "test_control_other_uid: skipped (needs root)\n");
		fakeup_stop(f);
		return;
	}
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(f)), NULL),
	    0);
	/* let uid 65534 reach the socket file, so the daemon's check decides */
	chmod(d.dir, 0755);
	chmod(d.ctl, 0666);
	q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_int_eq(stubctl_as_nobody(&d, "flushdns", NULL, err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "permission denied") != NULL, "stderr: %s", err);
	/* and nothing happened: the answer is still cached */
	q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(fakeup_count(f), 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

START_TEST(test_sigterm_cleanup)
{
	struct fakeup *f = up_with_records("127.0.0.31");
	struct tu_daemon d = { 0 };
	char pidfile[300];
	const char *extra[] = { "-p", pidfile, NULL };
	struct stat st;
	FILE *pf;
	long pid = 0;

	ck_assert_int_eq(tu_mkdir(&d), 0);
	snprintf(pidfile, sizeof(pidfile), "%s/stubd.pid", d.dir);
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(f)), extra),
	    0);
	pf = fopen(pidfile, "r");
	ck_assert_ptr_nonnull(pf);
	ck_assert_int_eq(fscanf(pf, "%ld", &pid), 1);
	fclose(pf);
	ck_assert_int_eq(pid, d.pid);
	ck_assert_int_eq(stat(d.ctl, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(tu_stop(&d), 0);
	ck_assert_int_ne(stat(d.ctl, &st), 0);
	ck_assert_int_ne(stat(pidfile, &st), 0);
	fakeup_stop(f);
}
END_TEST

static bool log_has(const struct tu_daemon *d, const char *text);

/* SPEC 14 prefetch: a name asked steadily never costs a client an upstream
 * round trip after the first; a name asked once is not refreshed. */
START_TEST(test_prefetch_steady)
{
	struct fakeup *f = fakeup_start("127.0.0.31");
	struct tu_daemon d = { 0 };
	const char *args[] = { "--json", "stats", NULL };
	uint8_t a[512];
	char out[4096];
	double t0, worst = 0, end;
	long n;
	int asked = 0;

	fakeup_add(f, "pop.example.com", "A", 2, "192.0.2.9");
	fakeup_add(f, "once.example.com", "A", 2, "192.0.2.10");
	fakeup_set_delay(f, 50);
	ck_assert_int_eq(
	    tu_start(&d, tu_fmt("hosts none\nprefetch yes\nserver %s\n", fakeup_hostport(f)), NULL),
	    0);
	n = q(&d, "once.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	n = q(&d, "pop.example.com", TYPE_A, false, a); /* the first: upstream */
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	end = tu_now_ms() + 6500; /* three TTLs and more */
	while (tu_now_ms() < end) {
		tu_sleep_ms(100);
		t0 = tu_now_ms();
		n = q(&d, "pop.example.com", TYPE_A, false, a);
		ck_assert_int_gt(n, 0);
		ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
		if (tu_now_ms() - t0 > worst)
			worst = tu_now_ms() - t0;
		asked++;
	}
	ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
	printf("prefetch: %d queries over 6.5 s of a TTL-2 name, slowest %.1f ms, "
	       "prefetches %ld, cache misses %ld\n",
	    asked, worst, tu_json_num(out, "prefetches"), tu_json_num(out, "cache_misses"));
	fflush(stdout);
	/* only the two first questions needed upstream */
	ck_assert_int_eq(tu_json_num(out, "cache_misses"), 2);
	ck_assert_int_ge(tu_json_num(out, "prefetches"), 3);
	ck_assert_msg(worst < 40, "a client waited %.0f ms", worst);
	/* once.example.com expired unrefreshed: asking again goes upstream */
	n = q(&d, "once.example.com", TYPE_A, false, a);
	ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
	ck_assert_int_eq(tu_json_num(out, "cache_misses"), 3);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

/* SPEC 14 cache-file: answers survive a restart with their TTLs lowered by
 * the downtime, a SIGKILL leaves the last snapshot intact, a corrupt file
 * is ignored with a log line. */
START_TEST(test_cache_file_restart)
{
	struct fakeup *f = up_with_records("127.0.0.31"), *dead = fakeup_start("127.0.0.32");
	struct tu_daemon d = { 0 }, d2 = { 0 }, d3 = { 0 }, d4 = { 0 };
	const char *dd[] = { "--json", "displaydns", NULL };
	char path[400], *before, *after, out[16384];
	size_t sent;
	size_t blen, alen;
	struct stat st;
	uint8_t a[512];
	long n, ttl;

	fakeup_set_mode(dead, FAKE_DROP);
	ck_assert_int_eq(tu_mkdir(&d), 0);
	snprintf(path, sizeof(path), "%s/cache", d.dir);
	ck_assert_int_eq(
	    tu_start(&d, tu_fmt("hosts none\ncache-file %s\nserver %s\n", path, fakeup_hostport(f)),
	        NULL),
	    0);
	n = q(&d, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	n = q(&d, "example.com", TYPE_MX, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	n = q(&d, "nx.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	ck_assert_int_eq(tu_stop(&d), 0); /* saved at exit */
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	tu_sleep_ms(1200);
	/* back up, the upstream now silent: the answers come from the file */
	fakeup_set_mode(f, FAKE_DROP);
	sent = fakeup_count(f);
	ck_assert_int_eq(
	    tu_start(&d2,
	        tu_fmt("hosts none\ncache-file %s\nserver %s\n", path, fakeup_hostport(f)), NULL),
	    0);
	n = q(&d2, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ttl = tu_first_ttl(a, (size_t)n);
	ck_assert_msg(ttl >= 297 && ttl <= 299, "TTL %ld", ttl);
	n = q(&d2, "example.com", TYPE_MX, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	n = q(&d2, "nx.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), RCODE_NXDOMAIN);
	ck_assert_uint_eq(fakeup_count(f), sent);
	/* killed: no save, the previous snapshot stays whole */
	ck_assert_int_eq(file_read(path, &before, &blen), 0);
	kill(d2.pid, SIGKILL);
	waitpid(d2.pid, NULL, 0);
	d2.pid = 0;
	ck_assert_int_eq(file_read(path, &after, &alen), 0);
	ck_assert_uint_eq(alen, blen);
	ck_assert_int_eq(memcmp(before, after, blen), 0);
	free(before);
	free(after);
	/* read on another network (other servers): positives kept, negatives
	 * dropped as on any network change */
	ck_assert_int_eq(
	    tu_start(&d3,
	        tu_fmt("hosts none\ncache-file %s\nserver %s\n", path, fakeup_hostport(dead)),
	        NULL),
	    0);
	n = q(&d3, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(tu_stubctl(&d3, dd, out, sizeof(out), NULL, 0), 0);
	ck_assert_msg(strstr(out, "www.example.com") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "nx.example.com") == NULL, "%s", out);
	ck_assert_int_eq(tu_stop(&d3), 0);
	fakeup_set_mode(f, FAKE_ANSWER);
	/* corrupt: ignored with a log line, stubd starts cold and answers */
	ck_assert_int_eq(tu_write(&d, "cache", "not a cache file at all", path, sizeof(path)), 0);
	ck_assert_int_eq(
	    tu_start(&d4,
	        tu_fmt("hosts none\ncache-file %s\nserver %s\n", path, fakeup_hostport(f)), NULL),
	    0);
	n = q(&d4, "www.example.com", TYPE_A, false, a);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_int_eq(tu_first_ttl(a, (size_t)n), 300);
	ck_assert(log_has(&d4, "ignored, starting cold"));
	ck_assert_int_eq(tu_stop(&d4), 0);
	fakeup_stop(f);
	fakeup_stop(dead);
}
END_TEST

/* ---------------- following the network (SPEC 11) ---------------- */

/* does the stderr log of d hold text? */
static bool
log_has(const struct tu_daemon *d, const char *text)
{
	char *log;
	size_t len;
	bool found;

	if (file_read(d->errlog, &log, &len) != 0)
		return false;
	found = strstr(log, text) != NULL;
	free(log);
	return found;
}

static int
ctl(const struct tu_daemon *d, const char *a1, const char *a2, const char *a3, const char *a4,
    char *out, size_t outsz)
{
	const char *args[] = { a1, a2, a3, a4, NULL };

	return tu_stubctl(d, args, out, outsz, NULL, 0);
}

START_TEST(test_link_over_control)
{
	struct fakeup *a = up_with_records("127.0.0.31"), *b = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t ans[512];
	char out[16384], bhost[64];
	double t[8];
	long n;

	fakeup_add(b, "x.corp.test", "A", 300, "192.0.2.77");
	snprintf(bhost, sizeof(bhost), "%s", fakeup_hostport(b));
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(a)), NULL),
	    0);
	n = q(&d, "nx.example.com", TYPE_A, false, ans);
	ck_assert_uint_eq(tu_rcode(ans, (size_t)n), RCODE_NXDOMAIN);
	n = q(&d, "www.example.com", TYPE_A, false, ans);
	ck_assert_uint_eq(tu_rcode(ans, (size_t)n), 0);
	/* a link with a server: a network change */
	ck_assert_int_eq(ctl(&d, "link", "lo", "dns", bhost, out, sizeof(out)), 0);
	ck_assert_int_eq(ctl(&d, "--json", "displaydns", NULL, NULL, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "nx.example.com") == NULL, "negative kept: %s", out);
	ck_assert_msg(strstr(out, "www.example.com") != NULL, "positive dropped: %s", out);
	ck_assert(log_has(&d, "network change: link lo"));
	ck_assert_int_eq(ctl(&d, "--json", "servers", NULL, NULL, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out,
	                  "\"name\":\"lo\",\"metric\":100,\"origin\":\"control\","
	                  "\"default_route\":true,\"state\":\"up\"") != NULL,
	    "%s", out);
	ck_assert_msg(strstr(out, "\"origin\":\"config\"") != NULL, "%s", out);
	/* routing-only domain, no default route: only names under corp.test */
	ck_assert_int_eq(ctl(&d, "link", "lo", "domain", "~corp.test", out, sizeof(out)), 0);
	ck_assert_int_eq(ctl(&d, "link", "lo", "default-route", "no", out, sizeof(out)), 0);
	fakeup_clear_log(a);
	fakeup_clear_log(b);
	n = q(&d, "example.com", TYPE_MX, false, ans);
	ck_assert_uint_eq(tu_rcode(ans, (size_t)n), 0);
	n = q(&d, "x.corp.test", TYPE_A, false, ans);
	ck_assert_uint_eq(tu_rcode(ans, (size_t)n), 0);
	ck_assert_int_eq(arrivals(a, "example.com", 0, t, 8), 1);
	ck_assert_int_eq(arrivals(b, "example.com", 0, t, 8), 0);
	ck_assert_int_eq(arrivals(b, "x.corp.test", 0, t, 8), 1);
	ck_assert_int_eq(arrivals(a, "x.corp.test", 0, t, 8), 0);
	/* bad input: an error, nothing changed */
	ck_assert_int_eq(ctl(&d, "link", "lo", "bogus", NULL, out, sizeof(out)), 1);
	ck_assert_int_eq(ctl(&d, "link", "bad/name", "dns", "192.0.2.1", out, sizeof(out)), 1);
	ck_assert_int_eq(ctl(&d, "link", "lo", "dns", "not-an-address", out, sizeof(out)), 1);
	ck_assert_int_eq(ctl(&d, "--json", "servers", NULL, NULL, out, sizeof(out)), 0);
	ck_assert(strstr(out, "\"name\":\"lo\"") != NULL);
	/* revert: gone */
	ck_assert_int_eq(ctl(&d, "link", "lo", "revert", NULL, out, sizeof(out)), 0);
	ck_assert_int_eq(ctl(&d, "--json", "servers", NULL, NULL, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "\"name\":\"lo\"") == NULL, "%s", out);
	ck_assert_int_eq(ctl(&d, "link", "lo", "revert", NULL, out, sizeof(out)), 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(a);
	fakeup_stop(b);
}
END_TEST

START_TEST(test_resolv_file_watched)
{
	struct fakeup *a = up_with_records("127.0.0.31"), *b = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t ans[512];
	char out[16384], path[400], text[256];
	double t[8];
	long n;

	ck_assert_int_eq(tu_mkdir(&d), 0);
	snprintf(text, sizeof(text), "nameserver %s\n", fakeup_hostport(a));
	ck_assert_int_eq(tu_write(&d, "resolv.conf", text, path, sizeof(path)), 0);
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nresolv-file %s\n", path), NULL), 0);
	n = q(&d, "www.example.com", TYPE_A, false, ans);
	ck_assert_uint_eq(tu_rcode(ans, (size_t)n), 0);
	ck_assert_int_eq(ctl(&d, "--json", "servers", NULL, NULL, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "\"origin\":\"resolv-file\"") != NULL, "%s", out);
	/* replaced by rename, with garbage around the good line */
	snprintf(text, sizeof(text),
	    "garbage here\nnameserver not-an-address\n"
	    "options edns0 trust-ad\nnameserver %s\n",
	    fakeup_hostport(b));
	ck_assert_int_eq(tu_write(&d, "resolv.conf", text, path, sizeof(path)), 0);
	tu_sleep_ms(2200);
	fakeup_clear_log(a);
	n = q(&d, "example.com", TYPE_MX, false, ans);
	ck_assert_uint_eq(tu_rcode(ans, (size_t)n), 0);
	ck_assert_int_eq(arrivals(b, "example.com", 0, t, 8), 1);
	ck_assert_int_eq(arrivals(a, "example.com", 0, t, 8), 0);
	ck_assert(log_has(&d, "network change:"));
	/* emptied: no servers, misses get SERVFAIL, the daemon goes on */
	ck_assert_int_eq(tu_write(&d, "resolv.conf", "", path, sizeof(path)), 0);
	tu_sleep_ms(2200);
	n = q(&d, "example.com", TYPE_TXT, false, ans);
	ck_assert_int_gt(n, 0);
	ck_assert_int_ne(tu_rcode(ans, (size_t)n), 0);
	n = q(&d, "www.example.com", TYPE_A, false, ans); /* still cached */
	ck_assert_uint_eq(tu_rcode(ans, (size_t)n), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(a);
	fakeup_stop(b);
}
END_TEST

START_TEST(test_resolvconf_dir)
{
	struct fakeup *a = up_with_records("127.0.0.31"), *b = up_with_records("127.0.0.32");
	struct tu_daemon d = { 0 };
	uint8_t ans[512];
	char out[16384], dir[400], path[400], text[256];
	double t[8];
	long n;

	fakeup_add(b, "x.corp.test", "A", 300, "192.0.2.77");
	ck_assert_int_eq(tu_mkdir(&d), 0);
	snprintf(dir, sizeof(dir), "%s/rc", d.dir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt("hosts none\nserver %s\nresolvconf-dir %s\n", fakeup_hostport(a), dir),
	        NULL),
	    0);
	/* an interface file appears: adapter lo, its search domain routes */
	snprintf(text, sizeof(text),
	    "# resolv.conf from dhclient\nnameserver %s\n"
	    "nameserver junk\nsearch corp.test\n",
	    fakeup_hostport(b));
	ck_assert_int_eq(tu_write(&d, "rc/lo.dhclient", text, path, sizeof(path)), 0);
	tu_sleep_ms(2200);
	ck_assert_int_eq(ctl(&d, "--json", "servers", NULL, NULL, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "\"name\":\"lo\",\"metric\":100,\"origin\":\"resolvconf\"") !=
	        NULL,
	    "%s", out);
	ck_assert(log_has(&d, "lo.dhclient:3: bad nameserver address"));
	n = q(&d, "x.corp.test", TYPE_A, false, ans);
	ck_assert_uint_eq(tu_rcode(ans, (size_t)n), 0);
	ck_assert_int_eq(arrivals(a, "x.corp.test", 0, t, 8), 0);
	ck_assert_int_eq(arrivals(b, "x.corp.test", 0, t, 8), 1);
	/* and disappears */
	ck_assert_int_eq(unlink(path), 0);
	tu_sleep_ms(2200);
	ck_assert_int_eq(ctl(&d, "--json", "servers", NULL, NULL, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "resolvconf") == NULL, "%s", out);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(a);
	fakeup_stop(b);
}
END_TEST

static Suite *
daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *fo = tcase_create("foundation"), *ca = tcase_create("cache"),
	      *up = tcase_create("upstream"), *ct = tcase_create("control"),
	      *nw = tcase_create("network");

	tcase_add_test(fo, test_forward_types);
	tcase_add_test(fo, test_truncation);
	tcase_add_test(fo, test_edns_mirror);
	tcase_add_test(fo, test_upstream_tc_to_tcp);
	tcase_add_test(fo, test_malformed);
	tcase_add_test(fo, test_acl_refused);
	tcase_add_test(fo, test_policy_lists);
	tcase_add_test(fo, test_policy_swap_under_load);
	tcase_add_test(fo, test_policy_big_list_at_start);
	tcase_add_test(fo, test_bad_config);
	tcase_add_test(fo, test_listen_in_use);
	tcase_add_test(fo, test_tcp_pipelining);
	tcase_add_test(fo, test_tcp_limit_and_idle);
	tcase_add_test(fo, test_emfile_pauses_accept);
	tcase_add_test(fo, test_control_emfile_pauses_accept);
	tcase_add_test(fo, test_tcp_per_connection_cap);
	tcase_add_test(fo, test_tcp_unread_answers_cap);
	tcase_add_test(ca, test_cache_hit);
	tcase_add_test(ca, test_hosts);
	tcase_add_test(ca, test_local_names);
	tcase_add_test(ca, test_coalescing);
	tcase_add_test(ca, test_serve_stale);
	tcase_add_test(ca, test_prefetch_steady);
	tcase_add_test(ca, test_cache_file_restart);
	tcase_add_test(up, test_schedule_timeline);
	tcase_add_test(up, test_default_schedule_gaps);
	tcase_add_test(up, test_positive_beats_nxdomain);
	tcase_add_test(up, test_negative_and_silence);
	tcase_add_test(up, test_servfail_upstream_no_answer);
	tcase_add_test(up, test_exclusion_failback);
	tcase_add_test(up, test_excluded_adapter_negative_fast);
	tcase_add_test(up, test_dead_first_no_stall);
	tcase_add_test(up, test_refused_port_not_waited);
	tcase_add_test(up, test_all_fail_at_once);
	tcase_add_test(up, test_reload_keeps_exclusion);
	tcase_add_test(up, test_priority_last);
	tcase_add_test(up, test_rtt_reorder);
	tcase_add_test(up, test_routing_domains);
	tcase_add_test(up, test_forged_answers_ignored);
	tcase_add_test(up, test_upstream_0x20);
	tcase_add_test(up, test_0x20_off_by_default);
	tcase_add_test(up, test_upstream_edns_1232);
	tcase_add_test(up, test_forged_wrong_port);
	tcase_add_test(ct, test_privdrop_and_group);
	tcase_add_test(ct, test_control_group_not_member);
	tcase_add_test(up, test_source_port_recycled);
	tcase_add_test(up, test_source_port_per_query);
	tcase_add_test(fo, test_ipv6_listen);
	tcase_add_test(ct, test_sigusr1_stats);
	tcase_add_test(ct, test_daemonize);
	tcase_add_test(ct, test_stubctl_commands);
	tcase_add_test(ct, test_reload);
	tcase_add_test(ct, test_control_other_uid);
	tcase_add_test(ct, test_sigterm_cleanup);
	tcase_add_test(nw, test_link_over_control);
	tcase_add_test(nw, test_resolv_file_watched);
	tcase_add_test(nw, test_resolvconf_dir);
	tcase_set_timeout(nw, 60);
	tcase_set_timeout(fo, 60);
	tcase_set_timeout(ca, 60);
	tcase_set_timeout(up, 60);
	tcase_set_timeout(ct, 60);
	suite_add_tcase(s, fo);
	suite_add_tcase(s, ca);
	suite_add_tcase(s, up);
	suite_add_tcase(s, ct);
	suite_add_tcase(s, nw);
	return s;
}

int
main(void)
{
	char base[64];

	return check_daemon_main(daemon_suite(), base, sizeof(base), NULL);
}
