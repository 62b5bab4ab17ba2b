/*
 * check_sched.c - the upstream schedule, negative answers per adapter,
 * exclusion and failback, RTT ordering and routing domains, on a fake
 * clock.
 */
#include "auto-config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "schedule.h"

struct fix {
	struct cfg *cfg;
	struct sched *s;
	struct sched_search ss;
	size_t t[32];
};

static void
setup(struct fix *f, const char *text)
{
	f->cfg = cfg_new(NULL, NULL);
	ck_assert_uint_eq(cfg_parse_text(f->cfg, text, strlen(text), "t"), 0);
	ck_assert_uint_eq(cfg_finish(f->cfg, NULL), 0);
	f->s = sched_new(f->cfg);
	ck_assert_ptr_nonnull(f->s);
}

static void
begin(struct fix *f, const char *name, uint64_t now)
{
	uint8_t n[WIRE_NAME_MAX];
	size_t l = wire_name_from_text(name, n);

	ck_assert_int_eq(sched_search_init(f->s, &f->ss, n, l, now), STUB_OK);
}

static void
teardown(struct fix *f)
{
	sched_free(f->s);
	cfg_unref(f->cfg);
}

/* targets of a phase as a string of server indices, e.g. "0,2" */
static const char *
phase(struct fix *f, unsigned p, uint64_t now)
{
	static char buf[128];
	size_t n = sched_phase_targets(f->s, &f->ss, p, now, f->t), i, o = 0;

	buf[0] = 0;
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%zu", i ? "," : "", f->t[i]);
	return buf;
}

static const char two_adapters[] = "adapter lan metric 10\n"
                                   "server 10.0.0.1\n" /* 0 */
                                   "server 10.0.0.2\n" /* 1 */
                                   "adapter wifi metric 20\n"
                                   "server 10.1.0.1\n"  /* 2 */
                                   "server 10.1.0.2\n"; /* 3 */

START_TEST(test_phases)
{
	struct fix f;

	setup(&f, two_adapters);
	begin(&f, "www.example.com", 0);
	ck_assert_str_eq(phase(&f, 0, 0), "0"); /* preferred of preferred */
	ck_assert_uint_eq(sched_on_phase_end(f.s, &f.ss, 0), 1);
	ck_assert_str_eq(phase(&f, 1, 1000), "0,2"); /* first of every adapter */
	sched_on_phase_end(f.s, &f.ss, 1);
	ck_assert_str_eq(phase(&f, 2, 3000), "0,1,2,3"); /* everyone */
	ck_assert_str_eq(phase(&f, 3, 5000), "0,1,2,3");
	ck_assert_str_eq(phase(&f, 4, 9000), "0,1,2,3");
	ck_assert_uint_eq(f.s->servers[0].queries, 5);
	ck_assert_uint_eq(f.s->servers[3].queries, 3);
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

START_TEST(test_metric_prefers)
{
	struct fix f;

	setup(&f, "adapter a metric 50\nserver 10.0.0.1\nadapter b metric 5\nserver 10.1.0.1\n");
	begin(&f, "x", 0);
	ck_assert_str_eq(phase(&f, 0, 0), "1");
	ck_assert_str_eq(phase(&f, 1, 0), "1,0");
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

START_TEST(test_positive_ends)
{
	struct fix f;

	setup(&f, two_adapters);
	begin(&f, "x", 0);
	phase(&f, 0, 0);
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 0, ANS_POSITIVE, 12.0, 10), SCHED_POSITIVE);
	ck_assert_uint_eq(f.s->servers[0].answers, 1);
	ck_assert(f.s->servers[0].has_rtt);
	sched_search_end(f.s, &f.ss, 10);
	ck_assert(!sched_server_excluded(f.s, 0, 10));
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

START_TEST(test_negative_per_adapter)
{
	struct fix f;

	setup(&f, two_adapters);
	begin(&f, "x", 0);
	phase(&f, 0, 0);
	/* lan says NXDOMAIN: the search goes on with wifi only */
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 0, ANS_NEGATIVE, 5, 5), SCHED_CONTINUE);
	ck_assert(sched_search_open(&f.ss));
	sched_on_phase_end(f.s, &f.ss, 0);
	ck_assert_str_eq(phase(&f, 1, 1000), "2");
	ck_assert_str_eq(phase(&f, 2, 3000), "2,3");
	/* SERVFAIL-like answers change nothing */
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 2, ANS_NONE, 5, 3005), SCHED_CONTINUE);
	/* wifi negative too: done, negative */
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 3, ANS_NEGATIVE, 5, 3010), SCHED_NEGATIVE);
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

START_TEST(test_positive_beats_negative)
{
	struct fix f;

	setup(&f, two_adapters);
	begin(&f, "x", 0);
	phase(&f, 0, 0);
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 0, ANS_NEGATIVE, 5, 5), SCHED_CONTINUE);
	sched_on_phase_end(f.s, &f.ss, 0);
	phase(&f, 1, 1000);
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 2, ANS_POSITIVE, 900, 1900), SCHED_POSITIVE);
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

START_TEST(test_exclusion_and_failback)
{
	struct fix f;

	setup(&f,
	    "exclude-time 30\n"
	    "adapter lan metric 10\nserver 10.0.0.1\nserver 10.0.0.2\n"
	    "adapter wifi metric 20\nserver 10.1.0.1\n");
	begin(&f, "x", 0);
	ck_assert_str_eq(phase(&f, 0, 0), "0");
	sched_on_phase_end(f.s, &f.ss, 0); /* server 0 timed out */
	ck_assert_str_eq(phase(&f, 1, 1000), "0,2");
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 2, ANS_POSITIVE, 50, 1050), SCHED_POSITIVE);
	sched_search_end(f.s, &f.ss, 1050);
	sched_search_fini(&f.ss);
	/* server 0 timed out and never answered: excluded for 30 s; lan's
	 * every asked server (only 0) timed out: the adapter too */
	ck_assert(sched_server_excluded(f.s, 0, 1050));
	ck_assert(!sched_server_excluded(f.s, 1, 1050));
	ck_assert(!sched_server_excluded(f.s, 2, 1050));
	ck_assert(sched_adapter_excluded(f.s, 0, 1050));
	ck_assert_uint_eq(f.s->servers[0].timeouts, 1);
	/* next search skips lan entirely */
	begin(&f, "y", 2000);
	ck_assert_str_eq(phase(&f, 0, 2000), "2");
	ck_assert_str_eq(phase(&f, 1, 3000), "2");
	ck_assert_str_eq(phase(&f, 2, 5000), "2");
	sched_search_fini(&f.ss);
	/* 30 s later: failback; server 0 first, and in the same moment what
	 * would be asked were lan still excluded (SPEC 5, stage three) */
	begin(&f, "z", 31050);
	ck_assert(!sched_server_excluded(f.s, 0, 31050));
	ck_assert(!sched_adapter_excluded(f.s, 0, 31050));
	ck_assert_str_eq(phase(&f, 0, 31050), "0,2");
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

/* A reload keeps what was learnt about servers still configured. */
START_TEST(test_inherit_on_reload)
{
	struct fix f, g;

	setup(&f,
	    "exclude-time 30\n"
	    "adapter lan metric 10\nserver 10.0.0.1\nserver 10.0.0.2\n"
	    "adapter wifi metric 20\nserver 10.1.0.1\n");
	begin(&f, "x", 0);
	ck_assert_str_eq(phase(&f, 0, 0), "0");
	sched_on_phase_end(f.s, &f.ss, 0);
	ck_assert_str_eq(phase(&f, 1, 1000), "0,2");
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 2, ANS_POSITIVE, 50, 1050), SCHED_POSITIVE);
	sched_search_end(f.s, &f.ss, 1050);
	sched_search_fini(&f.ss);
	ck_assert(sched_server_excluded(f.s, 0, 1050));
	ck_assert(sched_adapter_excluded(f.s, 0, 1050));
	/* the new configuration: wifi first in the file, a new server on
	 * lan, 10.0.0.2 gone */
	setup(&g,
	    "exclude-time 30\n"
	    "adapter wifi metric 20\nserver 10.1.0.1\n"
	    "adapter lan metric 10\nserver 10.0.0.1\nserver 10.0.0.3\n");
	sched_inherit(g.s, f.s);
	/* g: 0 = 10.1.0.1%wifi, 1 = 10.0.0.1%lan, 2 = 10.0.0.3%lan */
	ck_assert(sched_server_excluded(g.s, 1, 2000));
	ck_assert_uint_eq(g.s->servers[1].excluded_until, f.s->servers[0].excluded_until);
	ck_assert_uint_eq(g.s->servers[1].timeouts, 1);
	ck_assert_uint_eq(g.s->servers[1].queries, 2);
	ck_assert(sched_adapter_excluded(g.s, 1, 2000));
	ck_assert(!sched_adapter_excluded(g.s, 0, 2000));
	ck_assert(g.s->servers[0].has_rtt);
	ck_assert(g.s->servers[0].srtt_ms > 49.0 && g.s->servers[0].srtt_ms < 51.0);
	ck_assert_uint_eq(g.s->servers[0].answers, 1);
	/* a new server starts afresh */
	ck_assert(!g.s->servers[2].has_rtt);
	ck_assert_uint_eq(g.s->servers[2].queries, 0);
	ck_assert(!sched_server_excluded(g.s, 2, 2000));
	teardown(&g);
	teardown(&f);
}
END_TEST

START_TEST(test_late_answer_no_exclusion)
{
	struct fix f;

	setup(&f, two_adapters);
	begin(&f, "x", 0);
	phase(&f, 0, 0);
	sched_on_phase_end(f.s, &f.ss, 0); /* 0 timed out in phase 0 */
	phase(&f, 1, 1000);
	/* ...but answered later (negative): not excluded */
	sched_on_answer(f.s, &f.ss, 0, ANS_NEGATIVE, 1500, 1500);
	sched_on_answer(f.s, &f.ss, 2, ANS_POSITIVE, 10, 1510);
	sched_search_end(f.s, &f.ss, 1510);
	ck_assert(!sched_server_excluded(f.s, 0, 1510));
	ck_assert(!sched_adapter_excluded(f.s, 0, 1510));
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

START_TEST(test_all_excluded_ask_all)
{
	struct fix f;
	unsigned p;

	setup(&f, two_adapters);
	begin(&f, "x", 0);
	for (p = 0; p < 5; p++) {
		phase(&f, p, p * 1000);
		sched_on_phase_end(f.s, &f.ss, p);
	}
	sched_search_end(f.s, &f.ss, 17000);
	sched_search_fini(&f.ss);
	ck_assert(sched_server_excluded(f.s, 0, 17000));
	ck_assert(sched_server_excluded(f.s, 3, 17000));
	ck_assert(sched_adapter_excluded(f.s, 1, 17000));
	/* everything excluded: everything is asked */
	begin(&f, "y", 18000);
	ck_assert_str_eq(phase(&f, 0, 18000), "0");
	ck_assert_str_eq(phase(&f, 1, 19000), "0,2");
	ck_assert_str_eq(phase(&f, 2, 21000), "0,1,2,3");
	/* an answer from an excluded server ends its exclusion */
	sched_on_answer(f.s, &f.ss, 1, ANS_POSITIVE, 20, 21020);
	ck_assert(!sched_server_excluded(f.s, 1, 21020));
	ck_assert(!sched_adapter_excluded(f.s, 0, 21020));
	ck_assert(sched_server_excluded(f.s, 0, 21020));
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

START_TEST(test_priority)
{
	struct fix f;
	size_t o[8];

	setup(&f,
	    "server 10.0.0.1 priority last\nserver 10.0.0.2\nserver 10.0.0.3 priority first\n"
	    "server 10.0.0.4\n");
	ck_assert_uint_eq(sched_order(f.s, 0, o), 4);
	ck_assert_uint_eq(o[0], 2);
	ck_assert_uint_eq(o[1], 1);
	ck_assert_uint_eq(o[2], 3);
	ck_assert_uint_eq(o[3], 0);
	begin(&f, "x", 0);
	ck_assert_str_eq(phase(&f, 0, 0), "2");
	ck_assert_str_eq(phase(&f, 1, 0), "2");
	ck_assert_str_eq(phase(&f, 2, 0), "2,1,3,0");
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

START_TEST(test_rtt_order)
{
	struct fix f;
	size_t o[8];

	setup(&f, "server 10.0.0.1\nserver 10.0.0.2\nserver 10.0.0.3\n");
	/* 0 is 300 ms slower than 1: within 400 ms, keeps its place */
	f.s->servers[0].has_rtt = true;
	f.s->servers[0].srtt_ms = 310;
	f.s->servers[1].has_rtt = true;
	f.s->servers[1].srtt_ms = 10;
	sched_order(f.s, 0, o);
	ck_assert_uint_eq(o[0], 0);
	/* 450 ms slower: moves behind 1; 2 (unmeasured) keeps its place */
	f.s->servers[0].srtt_ms = 460;
	sched_order(f.s, 0, o);
	ck_assert_uint_eq(o[0], 1);
	ck_assert_uint_eq(o[1], 0);
	ck_assert_uint_eq(o[2], 2);
	/* and 2 much faster than 0 too: 0 goes behind 2 as well */
	f.s->servers[2].has_rtt = true;
	f.s->servers[2].srtt_ms = 5;
	sched_order(f.s, 0, o);
	ck_assert_uint_eq(o[0], 1);
	ck_assert_uint_eq(o[1], 2);
	ck_assert_uint_eq(o[2], 0);
	teardown(&f);
}
END_TEST

START_TEST(test_srtt_smoothing)
{
	struct fix f;

	setup(&f, "server 10.0.0.1\n");
	begin(&f, "x", 0);
	phase(&f, 0, 0);
	sched_on_answer(f.s, &f.ss, 0, ANS_NEGATIVE, 100, 100);
	ck_assert(f.s->servers[0].srtt_ms > 99.9 && f.s->servers[0].srtt_ms < 100.1);
	sched_search_fini(&f.ss);
	begin(&f, "y", 200);
	phase(&f, 0, 200);
	sched_on_answer(f.s, &f.ss, 0, ANS_POSITIVE, 200, 400);
	ck_assert(f.s->servers[0].srtt_ms > 129.9 && f.s->servers[0].srtt_ms < 130.1);
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

START_TEST(test_failback_forgets_rtt)
{
	struct fix f;

	setup(&f, "exclude-time 10\nserver 10.0.0.1\nserver 10.0.0.2\n");
	f.s->servers[0].has_rtt = true;
	f.s->servers[0].srtt_ms = 900;
	f.s->servers[0].excluded_until = 5000;
	sched_refresh(f.s, 4999);
	ck_assert(f.s->servers[0].has_rtt);
	sched_refresh(f.s, 5000);
	ck_assert(!f.s->servers[0].has_rtt);
	ck_assert_uint_eq(f.s->servers[0].excluded_until, 0);
	teardown(&f);
}
END_TEST

START_TEST(test_routing_domains)
{
	struct fix f;

	setup(&f,
	    "adapter lan metric 10\nserver 10.0.0.1\n"
	    "adapter vpn metric 50\nserver 10.8.0.1\ndomain corp.example\n"
	    "adapter vpn2 metric 60\nserver 10.9.0.1\ndomain eu.corp.example\n");
	begin(&f, "www.corp.example", 0);
	ck_assert_str_eq(phase(&f, 0, 0), "1");
	ck_assert_str_eq(phase(&f, 2, 0), "1");
	sched_search_fini(&f.ss);
	begin(&f, "Host.EU.corp.example", 0); /* longest match wins */
	ck_assert_str_eq(phase(&f, 2, 0), "2");
	sched_search_fini(&f.ss);
	begin(&f, "www.example.org", 0); /* others: every adapter */
	ck_assert_str_eq(phase(&f, 0, 0), "0");
	ck_assert_str_eq(phase(&f, 2, 0), "0,1,2");
	sched_search_fini(&f.ss);
	begin(&f, "notcorp.example", 0);
	ck_assert_str_eq(phase(&f, 1, 0), "0,1,2");
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

START_TEST(test_excluded_server_not_adapter)
{
	struct fix f;

	setup(&f, "server 10.0.0.1\nserver 10.0.0.2\n");
	f.s->servers[0].excluded_until = 10000;
	begin(&f, "x", 0);
	ck_assert_str_eq(phase(&f, 0, 0), "1");
	ck_assert_str_eq(phase(&f, 2, 0), "1");
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

START_TEST(test_no_servers)
{
	struct fix f;

	setup(&f, "");
	begin(&f, "x", 0);
	ck_assert_str_eq(phase(&f, 0, 0), "");
	ck_assert(!sched_search_open(&f.ss));
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

/* SPEC 5 (no needless waiting): an adapter excluded when the search
 * starts is left out for the whole search, and the negative answers of
 * the others end it at once (cacheable: SCHED_NEGATIVE). */
START_TEST(test_excluded_adapter_never_reenters)
{
	struct fix f;
	unsigned p;

	setup(&f,
	    "exclude-time 30\n"
	    "adapter lan metric 10\nserver 10.0.0.1\n"
	    "adapter wifi metric 20\nserver 10.1.0.1\n"
	    "adapter eth metric 30\nserver 10.2.0.1\n");
	f.s->servers[0].excluded_until = 30000;
	f.s->adapters[0].excluded_until = 30000;
	begin(&f, "x", 0);
	ck_assert(f.ss.left_out[0]);
	ck_assert(!f.ss.considered[0]);
	ck_assert_str_eq(phase(&f, 0, 0), "1");
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 1, ANS_NEGATIVE, 5, 5), SCHED_CONTINUE);
	sched_on_phase_end(f.s, &f.ss, 0);
	ck_assert_str_eq(phase(&f, 1, 1000), "2");
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 2, ANS_NEGATIVE, 5, 1005), SCHED_NEGATIVE);
	sched_search_fini(&f.ss);
	/* eth silent this time: lan is never asked in any phase */
	begin(&f, "y", 2000);
	ck_assert_str_eq(phase(&f, 0, 2000), "1");
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 1, ANS_NEGATIVE, 5, 2005), SCHED_CONTINUE);
	for (p = 1; p < 5; p++)
		ck_assert_str_eq(phase(&f, p, 2000 + p * 1000), "2");
	ck_assert_uint_eq(f.s->servers[0].queries, 0);
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

/* A server excluded inside an adapter stays out even after the others of
 * its adapter are done; excluded when the search began is what counts. */
START_TEST(test_excluded_server_decided_at_start)
{
	struct fix f;

	setup(&f, "server 10.0.0.1\nserver 10.0.0.2\nserver 10.0.0.3\n");
	f.s->servers[0].excluded_until = 10000;
	begin(&f, "x", 0);
	ck_assert(f.ss.ss[0].skipped);
	ck_assert_str_eq(phase(&f, 0, 0), "1");
	sched_on_answer(f.s, &f.ss, 1, ANS_DONE, 5, 5);
	ck_assert_str_eq(phase(&f, 1, 5), "2");
	sched_on_answer(f.s, &f.ss, 2, ANS_DONE, 5, 10);
	ck_assert_str_eq(phase(&f, 2, 10), ""); /* nobody left: 0 stays out */
	/* excluded by another search meanwhile: this one still asks it */
	sched_search_fini(&f.ss);
	begin(&f, "y", 20);
	f.s->servers[1].excluded_until = 10000;
	ck_assert_str_eq(phase(&f, 2, 20), "1,2");
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

/* SERVFAIL, REFUSED, a refused packet: the server is done for this search
 * (not asked again, not waited for, not a timeout, not excluded). */
START_TEST(test_done_servers)
{
	struct fix f;

	setup(&f,
	    "exclude-time 30\n"
	    "adapter lan metric 10\nserver 10.0.0.1\nserver 10.0.0.2\n"
	    "adapter wifi metric 20\nserver 10.1.0.1\nserver 10.1.0.2\n");
	begin(&f, "x", 0);
	ck_assert_str_eq(phase(&f, 0, 0), "0");
	ck_assert(!sched_phase_settled(f.s, &f.ss, 0));
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 0, ANS_DONE, 3, 3), SCHED_CONTINUE);
	/* its every packet done: the phase may end at once */
	ck_assert(sched_phase_settled(f.s, &f.ss, 0));
	ck_assert_uint_eq(f.s->servers[0].answers, 0);
	/* the next phase skips it: lan's next server, wifi's first */
	ck_assert_str_eq(phase(&f, 1, 3), "1,2");
	sched_on_answer(f.s, &f.ss, 2, ANS_DONE, 3, 6);
	ck_assert(!sched_phase_settled(f.s, &f.ss, 1));          /* 1 still awaited */
	ck_assert_uint_eq(sched_on_phase_end(f.s, &f.ss, 1), 1); /* 1 only */
	ck_assert_str_eq(phase(&f, 2, 1003), "1,3");
	/* a mismatched reply does not make a server done */
	sched_on_answer(f.s, &f.ss, 3, ANS_NONE, 3, 1006);
	ck_assert(!f.ss.ss[3].done);
	ck_assert_uint_eq(f.s->servers[0].timeouts, 0);
	ck_assert_uint_eq(f.s->servers[2].timeouts, 0);
	sched_search_end(f.s, &f.ss, 1010);
	ck_assert(!sched_server_excluded(f.s, 0, 1010));
	ck_assert(sched_server_excluded(f.s, 1, 1010));
	ck_assert(!sched_server_excluded(f.s, 2, 1010));
	ck_assert(!sched_adapter_excluded(f.s, 0, 1010)); /* 0 did not time out */
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

/* A packet that failed (no reply at all: refused, reset): done for the
 * search, not a timeout, but the server never answered: excluded, and
 * a recovering one excluded again. */
START_TEST(test_failed_excluded)
{
	struct fix f;

	setup(&f, "exclude-time 10\nserver 10.0.0.1\nserver 10.0.0.2\n");
	begin(&f, "x", 0);
	ck_assert_str_eq(phase(&f, 0, 0), "0");
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 0, ANS_FAILED, -1, 1), SCHED_CONTINUE);
	ck_assert(sched_phase_settled(f.s, &f.ss, 0));
	ck_assert_str_eq(phase(&f, 1, 1), "1");
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 1, ANS_POSITIVE, 2, 3), SCHED_POSITIVE);
	sched_search_end(f.s, &f.ss, 3);
	sched_search_fini(&f.ss);
	ck_assert_uint_eq(f.s->servers[0].timeouts, 0);
	ck_assert(sched_server_excluded(f.s, 0, 3));
	ck_assert(!sched_adapter_excluded(f.s, 0, 3));
	begin(&f, "y", 10003);
	ck_assert_str_eq(phase(&f, 0, 10003), "0,1");
	sched_on_answer(f.s, &f.ss, 0, ANS_FAILED, -1, 10004);
	sched_on_answer(f.s, &f.ss, 1, ANS_POSITIVE, 2, 10005);
	sched_search_end(f.s, &f.ss, 10005);
	sched_search_fini(&f.ss);
	ck_assert(sched_server_excluded(f.s, 0, 10005));
	teardown(&f);
}
END_TEST

/* A phase is settled when every packet of it is answered, done or waits
 * on an adapter that already answered negatively; when every server is
 * done nothing is left to ask. */
START_TEST(test_phase_settled_and_nothing_left)
{
	struct fix f;

	setup(&f, two_adapters);
	begin(&f, "x", 0);
	ck_assert(sched_phase_settled(f.s, &f.ss, 0)); /* nothing sent */
	ck_assert_str_eq(phase(&f, 2, 0), "0,1,2,3");
	sched_on_answer(f.s, &f.ss, 0, ANS_NEGATIVE, 3, 3); /* lan out: 1 not awaited */
	sched_on_answer(f.s, &f.ss, 2, ANS_DONE, 3, 3);
	ck_assert(!sched_phase_settled(f.s, &f.ss, 2));
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 3, ANS_DONE, 3, 4), SCHED_CONTINUE);
	ck_assert(sched_phase_settled(f.s, &f.ss, 2));
	/* nobody left to ask: the search ends (negative, not cacheable) */
	ck_assert_str_eq(phase(&f, 3, 4), "");
	ck_assert(sched_search_open(&f.ss));
	sched_search_fini(&f.ss);
	/* a down adapter is not waited for either */
	begin(&f, "y", 10);
	ck_assert_str_eq(phase(&f, 1, 10), "0,2");
	sched_on_answer(f.s, &f.ss, 0, ANS_DONE, 3, 13);
	f.s->adapters[1].down = true;
	ck_assert(sched_phase_settled(f.s, &f.ss, 1));
	f.s->adapters[1].down = false;
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

/* Failback without a stall: the recovering server and the next one in the
 * same moment; silence excludes it again. */
START_TEST(test_failback_silence_reexcludes)
{
	struct fix f;

	setup(&f, "exclude-time 10\nserver 10.0.0.1\nserver 10.0.0.2\n");
	f.s->servers[0].excluded_until = 5000;
	begin(&f, "x", 6000);
	ck_assert(f.s->servers[0].recovering);
	ck_assert_str_eq(phase(&f, 0, 6000), "0,1");
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 1, ANS_POSITIVE, 5, 6005), SCHED_POSITIVE);
	sched_search_end(f.s, &f.ss, 6005);
	sched_search_fini(&f.ss);
	ck_assert(sched_server_excluded(f.s, 0, 6005));
	ck_assert_uint_eq(f.s->servers[0].excluded_until, 16005);
	ck_assert(!f.s->servers[0].recovering);
	begin(&f, "y", 7000);
	ck_assert_str_eq(phase(&f, 0, 7000), "1");
	sched_search_fini(&f.ss);
	/* each later failback again without a phase */
	begin(&f, "z", 16005);
	ck_assert_str_eq(phase(&f, 0, 16005), "0,1");
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

/* An answer from the recovering server restores its place; a search that
 * ends silent after that does not exclude it again. */
START_TEST(test_failback_answer_restores)
{
	struct fix f;
	struct sched_search other;
	uint8_t n[WIRE_NAME_MAX];
	size_t l = wire_name_from_text("other", n);

	setup(&f, "exclude-time 10\nserver 10.0.0.1\nserver 10.0.0.2\n");
	f.s->servers[0].excluded_until = 5000;
	begin(&f, "x", 6000);
	ck_assert_int_eq(sched_search_init(f.s, &other, n, l, 6000), STUB_OK);
	ck_assert_str_eq(phase(&f, 0, 6000), "0,1");
	ck_assert_uint_eq(sched_phase_targets(f.s, &other, 0, 6000, f.t), 2);
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 0, ANS_POSITIVE, 5, 6005), SCHED_POSITIVE);
	ck_assert(!f.s->servers[0].recovering);
	sched_search_end(f.s, &f.ss, 6005);
	sched_search_fini(&f.ss);
	/* the other search got its answer from 1 only: 0 keeps its place */
	sched_on_answer(f.s, &other, 1, ANS_POSITIVE, 5, 6006);
	sched_search_end(f.s, &other, 6006);
	sched_search_fini(&other);
	ck_assert(!sched_server_excluded(f.s, 0, 6006));
	begin(&f, "y", 7000);
	ck_assert_str_eq(phase(&f, 0, 7000), "0");
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

/* A recovering adapter: asked with the next adapter; silence excludes the
 * adapter (and server) again, a done (refused) server is not silence. */
START_TEST(test_failback_adapter)
{
	struct fix f;

	setup(&f,
	    "exclude-time 10\n"
	    "adapter lan metric 10\nserver 10.0.0.1\n"
	    "adapter wifi metric 20\nserver 10.1.0.1\n");
	f.s->servers[0].excluded_until = 5000;
	f.s->adapters[0].excluded_until = 5000;
	begin(&f, "x", 6000);
	ck_assert_str_eq(phase(&f, 0, 6000), "0,1");
	/* the recovering adapter is not waited for: wifi's negative ends it */
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 1, ANS_NEGATIVE, 5, 6005), SCHED_NEGATIVE);
	ck_assert(!sched_search_open(&f.ss));
	sched_on_answer(f.s, &f.ss, 0, ANS_NONE, 5, 6006); /* mismatched: still silent */
	sched_search_end(f.s, &f.ss, 6400);
	sched_search_fini(&f.ss);
	ck_assert(sched_adapter_excluded(f.s, 0, 6400));
	ck_assert(sched_server_excluded(f.s, 0, 6400));
	begin(&f, "y", 17000);
	ck_assert_str_eq(phase(&f, 0, 17000), "0,1");
	sched_on_answer(f.s, &f.ss, 0, ANS_DONE, 5, 17005);
	sched_on_answer(f.s, &f.ss, 1, ANS_POSITIVE, 5, 17006);
	sched_search_end(f.s, &f.ss, 17006);
	sched_search_fini(&f.ss);
	ck_assert(!sched_adapter_excluded(f.s, 0, 17006));
	ck_assert(!f.s->adapters[0].recovering);
	ck_assert(!f.s->servers[0].recovering);
	begin(&f, "z", 18000);
	ck_assert_str_eq(phase(&f, 0, 18000), "0");
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

/* Nobody waits a phase for a recovering server beside a live one; a
 * recovering server that is all there is, is waited for. */
START_TEST(test_failback_not_waited)
{
	struct fix f;

	setup(&f, "exclude-time 10\nserver 10.0.0.1\nserver 10.0.0.2\n");
	f.s->servers[0].excluded_until = 5000;
	begin(&f, "x", 6000);
	ck_assert_str_eq(phase(&f, 0, 6000), "0,1");
	ck_assert(!sched_phase_settled(f.s, &f.ss, 0));
	sched_on_answer(f.s, &f.ss, 1, ANS_DONE, 5, 6005); /* SERVFAIL */
	ck_assert(sched_phase_settled(f.s, &f.ss, 0));
	sched_search_end(f.s, &f.ss, 6005);
	sched_search_fini(&f.ss);
	ck_assert(sched_server_excluded(f.s, 0, 6005));
	teardown(&f);

	setup(&f, "exclude-time 10\nserver 10.0.0.1\n");
	f.s->servers[0].excluded_until = 5000;
	f.s->adapters[0].excluded_until = 5000;
	begin(&f, "x", 6000);
	ck_assert_str_eq(phase(&f, 0, 6000), "0");
	ck_assert(!sched_phase_settled(f.s, &f.ss, 0));
	ck_assert(sched_search_open(&f.ss));
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

static bool
may_ask(struct fix *f, const char *name)
{
	uint8_t n[WIRE_NAME_MAX];
	size_t l = wire_name_from_text(name, n);

	return sched_may_ask_private(f->s, n, l);
}

/* RFC 6303 reverse names go only to adapters routing them or to servers
 * on a private address (SPEC 5c) */
START_TEST(test_private_reverse)
{
	struct fix f;

	setup(&f,
	    "adapter pub metric 10\n"
	    "server 192.0.2.1\n"   /* 0 */
	    "server 192.168.1.1\n" /* 1 */
	    "adapter vpn metric 20\n"
	    "server 198.51.100.1\n" /* 2 */
	    "adapter other metric 30\n"
	    "server 203.0.113.1\n"); /* 3 */
	ck_assert(may_ask(&f, "www.example.com"));
	ck_assert(may_ask(&f, "1.1.168.192.in-addr.arpa"));
	begin(&f, "1.1.168.192.in-addr.arpa", 0);
	ck_assert(f.ss.private_only);
	ck_assert(f.ss.considered[0]);
	ck_assert(!f.ss.considered[1] && !f.ss.considered[2]);
	ck_assert_str_eq(phase(&f, 0, 0), "1");
	sched_on_phase_end(f.s, &f.ss, 0);
	ck_assert_str_eq(phase(&f, 1, 1000), "1");
	sched_on_phase_end(f.s, &f.ss, 1);
	ck_assert_str_eq(phase(&f, 2, 3000), "1");
	sched_search_fini(&f.ss);
	/* ordinary names: everyone as before */
	begin(&f, "www.example.com", 5000);
	ck_assert(!f.ss.private_only);
	ck_assert_str_eq(phase(&f, 0, 5000), "0");
	sched_search_fini(&f.ss);
	teardown(&f);
	/* only public servers: nobody may be asked; unless a routing domain
	 * covers the name */
	setup(&f,
	    "adapter pub metric 10\n"
	    "server 192.0.2.1\n"
	    "adapter vpn metric 20\n"
	    "server 198.51.100.1\n"
	    "domain 10.in-addr.arpa\n");
	ck_assert(!may_ask(&f, "1.1.168.192.in-addr.arpa"));
	ck_assert(!may_ask(&f, "1.0.254.169.in-addr.arpa"));
	ck_assert(may_ask(&f, "4.3.2.10.in-addr.arpa"));
	ck_assert(may_ask(&f, "1.2.0.192.in-addr.arpa")); /* not private */
	begin(&f, "4.3.2.10.in-addr.arpa", 0);
	ck_assert(!f.ss.private_only);
	ck_assert_str_eq(phase(&f, 0, 0), "1");
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

/* SPEC 18: a search for a name under `rule ... require` asks only the
 * servers that satisfy the rule; an adapter left without one is out of
 * it; routing domains still decide first (no name leaks to an adapter
 * they do not pick); a clear-text fallback is never downgraded to. */
START_TEST(test_require_need)
{
	struct fix f;
	uint8_t n[WIRE_NAME_MAX];
	size_t l;

	setup(&f,
	    "adapter lan metric 10\n"
	    "server 10.0.0.1\n"                 /* 0: clear */
	    "server 10.0.0.2 trust-ad\n"        /* 1: clear, trusted for AD */
	    "server 10.0.0.3 tls insecure\n"    /* 2: encrypted, not authenticated */
	    "server 10.0.0.4 tls dns.example\n" /* 3: authenticated */
	    "adapter wifi metric 20\n"
	    "server 10.1.0.1\n" /* 4: clear */
	    "adapter vpn metric 30 default-route no\n"
	    "server 10.2.0.1\n" /* 5: clear */
	    "domain corp.example\n");
	ck_assert_uint_eq(sched_server_via(f.s, 0), 0);
	ck_assert_uint_eq(sched_server_via(f.s, 1), UP_NEED_AD);
	ck_assert_uint_eq(sched_server_via(f.s, 2), 0);
	ck_assert_uint_eq(sched_server_via(f.s, 3), UP_NEED_ENC | UP_NEED_AD);
	ck_assert_uint_eq(sched_server_via(f.s, 99), 0);
	/* no need: as ever */
	begin(&f, "www.bank.example", 0);
	ck_assert_str_eq(phase(&f, 0, 0), "0");
	ck_assert_str_eq(phase(&f, 2, 0), "0,1,2,3,4");
	sched_search_fini(&f.ss);
	/* encryption: only 3; wifi has nobody and is out of the search */
	l = wire_name_from_text("www.bank.example", n);
	ck_assert_int_eq(sched_search_init_need(f.s, &f.ss, n, l, UP_NEED_ENC, 0), STUB_OK);
	ck_assert(f.ss.considered[0] && !f.ss.considered[1] && !f.ss.considered[2]);
	ck_assert(f.ss.ruled_out[1] && !f.ss.ruled_out[2]);
	ck_assert(f.ss.ss[0].unfit && f.ss.ss[2].unfit && !f.ss.ss[3].unfit);
	ck_assert_str_eq(phase(&f, 0, 0), "3");
	ck_assert_str_eq(phase(&f, 1, 0), "3");
	ck_assert_str_eq(phase(&f, 2, 0), "3");
	/* no downgrade to an unfit server */
	ck_assert(!sched_downgrade_allow(f.s, &f.ss, 0));
	sched_downgrade_sent(f.s, &f.ss, 0, 2);
	ck_assert_uint_eq(f.ss.ss[0].sent_mask, 0);
	/* a negative from lan is every adapter's: the search ends */
	ck_assert_int_eq(sched_on_answer(f.s, &f.ss, 3, ANS_NEGATIVE, 5, 0), SCHED_NEGATIVE);
	sched_search_fini(&f.ss);
	/* AD: 1 and 3 */
	ck_assert_int_eq(sched_search_init_need(f.s, &f.ss, n, l, UP_NEED_AD, 0), STUB_OK);
	ck_assert_str_eq(phase(&f, 0, 0), "1");
	ck_assert_str_eq(phase(&f, 2, 0), "1,3");
	sched_search_fini(&f.ss);
	/* both: 3 */
	ck_assert_int_eq(sched_search_init_need(f.s, &f.ss, n, l, UP_NEED_ENC | UP_NEED_AD, 0),
	    STUB_OK);
	ck_assert_str_eq(phase(&f, 2, 0), "3");
	sched_search_fini(&f.ss);
	/* routed to vpn, which has no encrypted server: nobody at all (not
	 * lan's server 3: the routing domain keeps the name on vpn) */
	l = wire_name_from_text("git.corp.example", n);
	ck_assert_int_eq(sched_search_init_need(f.s, &f.ss, n, l, UP_NEED_ENC, 0), STUB_OK);
	ck_assert(f.ss.ruled_out[2] && !f.ss.ruled_out[0] && !f.ss.considered[0]);
	ck_assert_str_eq(phase(&f, 0, 0), "");
	ck_assert(!sched_search_open(&f.ss));
	sched_search_fini(&f.ss);
	teardown(&f);
}
END_TEST

static Suite *
sched_suite(void)
{
	Suite *s = suite_create("schedule");
	TCase *b = tcase_create("basic");

	tcase_add_test(b, test_phases);
	tcase_add_test(b, test_metric_prefers);
	tcase_add_test(b, test_positive_ends);
	tcase_add_test(b, test_negative_per_adapter);
	tcase_add_test(b, test_positive_beats_negative);
	tcase_add_test(b, test_exclusion_and_failback);
	tcase_add_test(b, test_inherit_on_reload);
	tcase_add_test(b, test_late_answer_no_exclusion);
	tcase_add_test(b, test_all_excluded_ask_all);
	tcase_add_test(b, test_priority);
	tcase_add_test(b, test_rtt_order);
	tcase_add_test(b, test_srtt_smoothing);
	tcase_add_test(b, test_failback_forgets_rtt);
	tcase_add_test(b, test_routing_domains);
	tcase_add_test(b, test_excluded_server_not_adapter);
	tcase_add_test(b, test_no_servers);
	tcase_add_test(b, test_excluded_adapter_never_reenters);
	tcase_add_test(b, test_excluded_server_decided_at_start);
	tcase_add_test(b, test_done_servers);
	tcase_add_test(b, test_failed_excluded);
	tcase_add_test(b, test_phase_settled_and_nothing_left);
	tcase_add_test(b, test_failback_silence_reexcludes);
	tcase_add_test(b, test_failback_answer_restores);
	tcase_add_test(b, test_failback_adapter);
	tcase_add_test(b, test_failback_not_waited);
	tcase_add_test(b, test_private_reverse);
	tcase_add_test(b, test_require_need);
	suite_add_tcase(s, b);
	return s;
}

int
main(void)
{
	return check_main(sched_suite());
}
