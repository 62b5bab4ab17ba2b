/*
 * check_require.c - integration (SPEC 18): `rule NAME require encryption`
 * and `rule NAME require ad` enforced by the real stubd against in-tree
 * fake upstreams on loopback: a clear-text one, a DoT one (certificate
 * made at test time), a validating one (AD set).  A name under such a rule
 * is asked only of servers that qualify; with none, SERVFAIL + EDE 23 and
 * no packet; an answer cached from clear text before the rule is not
 * served under it.  Also rebinding protection's exemption for the
 * answering adapter's search domains (a link's non-~ domains).
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
static const uint8_t ede23[] = { 0, 15, 0, 2, 0, 23 };

/* a clear-text upstream answering rec (A) for the test names */
static struct fakeup *
up(const char *addr, const char *rec)
{
	struct fakeup *f = fakeup_start(addr);

	ck_assert_ptr_nonnull(f);
	fakeup_add(f, "www.bank.example", "A", 300, rec);
	fakeup_add(f, "old.bank.example", "A", 300, rec);
	fakeup_add(f, "www.sec.example", "A", 300, rec);
	fakeup_add(f, "www.example.com", "A", 300, rec);
	return f;
}

/* the same over DNS over TLS on its TCP port */
static struct fakeup *
tls_up(const char *addr, const char *rec)
{
	struct fakeup *f = up(addr, rec);

	ck_assert_int_eq(fakeup_tls(f, cert, key, false), 0);
	return f;
}

static long
qry(const struct tu_daemon *d, const char *name, bool ad, uint8_t *a)
{
	struct tq_opts o = { .edns = true, .ad = ad, .timeout_ms = 4000 };

	return tu_query("127.0.0.1", d->port, name, TYPE_A, &o, a, 65535);
}

static void
expect_a(const struct tu_daemon *d, const char *name, const char *want)
{
	uint8_t a[65535];
	char data[64];
	long n = qry(d, name, false, a);

	ck_assert_msg(n > 0, "no answer for %s", name);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, want);
}

/* SERVFAIL with EDE 23, at once (no phase waited for) */
static void
expect_refused_by_rule(const struct tu_daemon *d, const char *name, bool ad)
{
	uint8_t a[65535];
	double t0 = tu_now_ms();
	long n = qry(d, name, ad, a);

	ck_assert_msg(n > 0, "no answer for %s", name);
	ck_assert_double_lt(tu_now_ms() - t0, 150.0);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 2);
	ck_assert_msg(memmem(a, (size_t)n, ede23, sizeof(ede23)) != NULL, "no EDE 23");
}

/* queries for name that reached f, and how many of them in clear text */
static size_t
arrivals(struct fakeup *f, const char *name, size_t *clear)
{
	struct fake_rec log[64];
	size_t n = fakeup_log(f, log, 64), i, k = 0;

	if (clear)
		*clear = 0;
	for (i = 0; i < n && i < 64; i++)
		if (strcmp(log[i].name, name) == 0) {
			k++;
			if (clear && !log[i].tls)
				(*clear)++;
		}
	return k;
}

static void
stubctl_query(const struct tu_daemon *d, const char *name, char *out, size_t outsz)
{
	const char *args[] = { "--json", "query", name, NULL };

	ck_assert_int_eq(tu_stubctl(d, args, out, outsz, NULL, 0), 0);
}

/* Clear-text servers only: the rule's names get SERVFAIL + EDE 23 and no
 * packet leaves; other names as ever; stubctl query names the rule and
 * shows the servers it kept out. */
START_TEST(test_require_enc_clear_only)
{
	struct fakeup *c = up("127.0.0.101", "192.0.2.7");
	struct tu_daemon d = { 0 };
	char out[16384];

	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nserver %s\n"
	                                   "rule bank.example require encryption\n",
	                         fakeup_hostport(c)),
	                     NULL),
	    0);
	expect_refused_by_rule(&d, "www.bank.example", false);
	expect_refused_by_rule(&d, "bank.example", false);
	ck_assert_uint_eq(fakeup_count(c), 0); /* 0 upstream arrivals */
	expect_a(&d, "www.example.com", "192.0.2.7");
	ck_assert_uint_eq(fakeup_count(c), 1);
	stubctl_query(&d, "www.bank.example", out, sizeof(out));
	ck_assert_msg(strstr(out, "\"rcode\":\"SERVFAIL\"") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "stubd.conf:") != NULL, "no rule: %s", out);
	ck_assert_msg(strstr(out, "\"result\":\"rule\"") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\"sent_ms\":-1") != NULL || strstr(out, "\"sent_ms\":null"),
	    "%s", out);
	ck_assert_uint_eq(fakeup_count(c), 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(c);
}
END_TEST

/* A clear-text server first, a DoT server second (same adapter): the
 * rule's names only over TLS, 0 clear-text arrivals; others by the
 * schedule (the clear-text one first).  Then the cache-poisoning-by-order
 * case: a name answered in clear text before the rule is not served from
 * the cache once a reload brings the rule, but asked over TLS. */
START_TEST(test_require_enc_tls)
{
	struct fakeup *c = up("127.0.0.102", "192.0.2.7");
	struct fakeup *t = tls_up("127.0.0.103", "192.0.2.70");
	struct tu_daemon d = { 0 };
	char out[16384], text[2048];
	size_t clear;
	int i;
	bool ruled = false;

	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nserver %s\nserver %s tls dns.test\n"
	                                   "tls-ca %s\nrule bank.example require encryption\n",
	                         fakeup_hostport(c), fakeup_hostport(t), cert),
	                     NULL),
	    0);
	expect_a(&d, "www.bank.example", "192.0.2.70");
	ck_assert_uint_eq(fakeup_count(c), 0); /* 0 clear-text arrivals */
	ck_assert_uint_eq(arrivals(t, "www.bank.example", &clear), 1);
	ck_assert_uint_eq(clear, 0);
	expect_a(&d, "www.example.com", "192.0.2.7"); /* the schedule's first */
	ck_assert_uint_eq(fakeup_count(c), 1);
	ck_assert_int_eq(tu_stop(&d), 0);

	/* no rule yet: old.bank.example answered in clear text, cached */
	fakeup_clear_log(c);
	fakeup_clear_log(t);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nserver %s\nserver %s tls dns.test\n"
	                                   "tls-ca %s\n",
	                         fakeup_hostport(c), fakeup_hostport(t), cert),
	                     NULL),
	    0);
	expect_a(&d, "old.bank.example", "192.0.2.7");
	expect_a(&d, "old.bank.example", "192.0.2.7"); /* from the cache */
	ck_assert_uint_eq(arrivals(c, "old.bank.example", NULL), 1);
	/* the rule comes with a reload (the table is built off the loop) */
	snprintf(text, sizeof(text),
	    "listen 127.0.0.1:%u\ncontrol %s\nuser root\n" SCALED
	    "hosts none\nserver %s\nserver %s tls dns.test\ntls-ca %s\n"
	    "rule bank.example require encryption\n",
	    d.port, d.ctl, fakeup_hostport(c), fakeup_hostport(t), cert);
	ck_assert_int_eq(tu_write(&d, "stubd.conf", text, NULL, 0), 0);
	{
		const char *args[] = { "reload", NULL };

		ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
	}
	for (i = 0; i < 40 && !ruled; i++) {
		stubctl_query(&d, "old.bank.example", out, sizeof(out));
		ruled = strstr(out, "stubd.conf:") != NULL;
		if (!ruled)
			tu_sleep_ms(50);
	}
	ck_assert_msg(ruled, "the rule never came: %s", out);
	/* the clear-text entry was not served: asked over TLS */
	ck_assert_msg(strstr(out, "\"source\":\"upstream\"") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "192.0.2.70") != NULL, "%s", out);
	expect_a(&d, "old.bank.example", "192.0.2.70"); /* now cached */
	ck_assert_uint_eq(arrivals(c, "old.bank.example", NULL), 1);
	ck_assert_uint_eq(arrivals(t, "old.bank.example", &clear), 1);
	ck_assert_uint_eq(clear, 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(t);
	fakeup_stop(c);
}
END_TEST

/* `rule ... adapter` and `rule ... require encryption` together: only the
 * encrypted servers of the rule's adapter (not its clear-text one, not
 * the encrypted server of another adapter). */
START_TEST(test_require_with_adapter_rule)
{
	struct fakeup *c = up("127.0.0.108", "192.0.2.7");
	struct fakeup *t = tls_up("127.0.0.109", "192.0.2.70");
	struct fakeup *t2 = tls_up("127.0.0.110", "192.0.2.71");
	struct tu_daemon d = { 0 };
	char out[16384];

	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt(SCALED "hosts none\ntls-ca %s\n"
	                      "adapter vpn metric 5\nserver %s tls dns.test\n"
	                      "adapter lan metric 10\nserver %s\nserver %s tls dns.test\n"
	                      "rule bank.example adapter lan\n"
	                      "rule bank.example require encryption\n",
	            cert, fakeup_hostport(t2), fakeup_hostport(c), fakeup_hostport(t)),
	        NULL),
	    0);
	expect_a(&d, "www.bank.example", "192.0.2.70");
	ck_assert_uint_eq(fakeup_count(c), 0);
	ck_assert_uint_eq(fakeup_count(t2), 0);
	ck_assert_uint_eq(fakeup_count(t), 1);
	expect_a(&d, "www.example.com", "192.0.2.71"); /* vpn first otherwise */
	stubctl_query(&d, "old.bank.example", out, sizeof(out));
	ck_assert_msg(strstr(out, "192.0.2.70") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\"result\":\"rule\"") != NULL, "%s", out);
	ck_assert_uint_eq(fakeup_count(c), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(t2);
	fakeup_stop(t);
	fakeup_stop(c);
}
END_TEST

/* encryption auto with the twin down: other names are downgraded to
 * clear text, the rule's names never are (SERVFAIL + EDE 23). */
START_TEST(test_require_enc_no_downgrade)
{
	struct fakeup *c = up("127.0.0.104", "192.0.2.7");
	struct tu_daemon d = { 0 };

	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt(SCALED "hosts none\nencryption auto\n"
	                      "encryption-template 127.0.0.104 tls dns.test\nserver %s\ntls-ca %s\n"
	                      "rule bank.example require encryption\n",
	            fakeup_hostport(c), cert),
	        NULL),
	    0);
	expect_a(&d, "www.example.com", "192.0.2.7"); /* a downgrade */
	ck_assert_uint_eq(fakeup_count(c), 1);
	expect_refused_by_rule(&d, "www.bank.example", false);
	ck_assert_uint_eq(arrivals(c, "www.bank.example", NULL), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(c);
}
END_TEST

/* require ad: a clear-text validating server without trust-ad is never
 * asked; with trust-ad it is, and its AD bit reaches the client. */
START_TEST(test_require_ad)
{
	struct fakeup *c = up("127.0.0.105", "192.0.2.7");
	struct tu_daemon d = { 0 };
	uint8_t a[65535];
	long n;

	fakeup_set_ad(c, true);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nserver %s\nrule sec.example require ad\n",
	                         fakeup_hostport(c)),
	                     NULL),
	    0);
	expect_refused_by_rule(&d, "www.sec.example", true);
	ck_assert_uint_eq(fakeup_count(c), 0);
	n = qry(&d, "www.example.com", true, a); /* other names as ever, AD cleared */
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert(!tu_ad(a, (size_t)n));
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_clear_log(c);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nserver %s trust-ad\n"
	                                   "rule sec.example require ad\n",
	                         fakeup_hostport(c)),
	                     NULL),
	    0);
	n = qry(&d, "www.sec.example", true, a);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert(tu_ad(a, (size_t)n));
	ck_assert_uint_eq(fakeup_count(c), 1);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(c);
}
END_TEST

/* stubctl link IF ARGS... */
static void
link_set(const struct tu_daemon *d, const char *what, const char *v1, const char *v2)
{
	const char *args[] = { "link", "lo", what, v1, v2, NULL };
	char out[4096];

	ck_assert_int_eq(tu_stubctl(d, args, out, sizeof(out), NULL, 0), 0);
}

/* the first A record of name as text, "" for none; rcode in *rc */
static void
first_a(const struct tu_daemon *d, const char *name, unsigned *rc, char *data, size_t len)
{
	uint8_t a[65535];
	long n = qry(d, name, false, a);

	ck_assert_msg(n > 0, "no answer for %s", name);
	*rc = tu_rcode(a, (size_t)n);
	tu_first_data(a, (size_t)n, data, len);
}

/* SPEC 18: rebinding protection spares the names under a search domain
 * (stubctl link IF domain D, SetLinkDomains without routing-only) or a
 * routing domain (~D) of the adapter that answered; a private answer for
 * the same kind of name from another adapter is stripped. */
START_TEST(test_rebind_link_search_domain)
{
	struct fakeup *c = up("127.0.0.106", "192.0.2.7");
	struct fakeup *l = up("127.0.0.107", "192.0.2.8");
	struct tu_daemon d = { 0 };
	char data[64], lhost[64];
	unsigned rc;

	fakeup_add(l, "nas.home.test", "A", 300, "192.168.1.5");
	fakeup_add(l, "db.corp.test", "A", 300, "10.1.2.3");
	fakeup_add(c, "printer.office.test", "A", 300, "192.168.7.7");
	snprintf(lhost, sizeof(lhost), "%s", fakeup_hostport(l));
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nrebind-protection yes\n"
	                                   "adapter lan metric 10\nserver %s\n",
	                         fakeup_hostport(c)),
	                     NULL),
	    0);
	link_set(&d, "dns", lhost, NULL);
	link_set(&d, "domain", "home.test", "~corp.test");
	link_set(&d, "default-route", "no", NULL);
	/* a search domain of the answering link: kept */
	first_a(&d, "nas.home.test", &rc, data, sizeof(data));
	ck_assert_uint_eq(rc, 0);
	ck_assert_str_eq(data, "192.168.1.5");
	/* a routing-only domain: kept too */
	first_a(&d, "db.corp.test", &rc, data, sizeof(data));
	ck_assert_str_eq(data, "10.1.2.3");
	ck_assert_uint_eq(arrivals(l, "nas.home.test", NULL), 1);
	/* a private answer for a name under no domain of lan: stripped */
	first_a(&d, "printer.office.test", &rc, data, sizeof(data));
	ck_assert_uint_eq(rc, 0);
	ck_assert_str_eq(data, "");
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(l);
	fakeup_stop(c);
}
END_TEST

static Suite *
require_suite(void)
{
	Suite *s = suite_create("require");
	TCase *t = tcase_create("rules");

	tcase_add_test(t, test_require_enc_clear_only);
	tcase_add_test(t, test_require_enc_tls);
	tcase_add_test(t, test_require_with_adapter_rule);
	tcase_add_test(t, test_require_enc_no_downgrade);
	tcase_add_test(t, test_require_ad);
	tcase_add_test(t, test_rebind_link_search_domain);
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

	return check_daemon_main(require_suite(), base, sizeof(base), make_cert);
}
