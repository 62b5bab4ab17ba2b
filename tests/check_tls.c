/*
 * check_tls.c - integration (SPEC 12): the real stubd forwarding over DNS
 * over TLS and DNS over HTTPS to in-tree fake upstreams serving a
 * certificate made at test time; name and pin checks, pipelining,
 * failures inside the retry schedule, resumption, the AD bit.
 */
#include "auto-config.h"

#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "fakeup.h"
#include "testutil.h"

#define SCALED "timeouts 0.3 0.3 0.3\nexclude-time 30\n"

static char cert[300], key[300], pin[64];
/* An encrypted fake upstream (DoT, or DoH with h2) on addr. */
static struct fakeup *
tls_up(const char *addr, bool h2)
{
	struct fakeup *f = fakeup_start(addr);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fakeup_tls(f, cert, key, h2), 0);
	fakeup_add(f, "www.example.com", "A", 300, "192.0.2.7");
	fakeup_add(f, "slow.example.com", "A", 300, "192.0.2.11");
	fakeup_add(f, "fast.example.com", "A", 300, "192.0.2.12");
	fakeup_add(f, "close.example.com", "A", 300, "192.0.2.13");
	fakeup_add(f, "new.example.com", "A", 300, "192.0.2.14");
	fakeup_name_mode(f, "slow.example.com", FAKE_ANSWER, 400);
	fakeup_name_mode(f, "close.example.com", FAKE_CLOSE, 0);
	return f;
}

static long
qry(const struct tu_daemon *d, const char *name, bool ad, bool do_bit, uint8_t *a)
{
	struct tq_opts o = { .ad = ad, .edns = do_bit, .do_bit = do_bit, .timeout_ms = 4000 };

	return tu_query("127.0.0.1", d->port, name, TYPE_A, &o, a, 65535);
}

static void
expect_a(const struct tu_daemon *d, const char *name, const char *want)
{
	uint8_t a[65535];
	char data[64];
	long n = qry(d, name, false, false, a);

	ck_assert_msg(n > 0, "no answer for %s", name);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	tu_first_data(a, (size_t)n, data, sizeof(data));
	ck_assert_str_eq(data, want);
}

static unsigned
rcode_of(const struct tu_daemon *d, const char *name)
{
	uint8_t a[65535];
	long n = qry(d, name, false, false, a);

	ck_assert_msg(n > 0, "no answer for %s", name);
	return tu_rcode(a, (size_t)n);
}

static void
servers_json(const struct tu_daemon *d, char *out, size_t outsz)
{
	const char *args[] = { "--json", "servers", NULL };

	ck_assert_int_eq(tu_stubctl(d, args, out, outsz, NULL, 0), 0);
}

/* ---------------- DNS over TLS ---------------- */

START_TEST(test_dot_answers)
{
	struct fakeup *f = tls_up("127.0.0.51", false);
	struct tu_daemon d = { 0 };
	struct fake_rec log[16];
	char js[8192];
	size_t n, i;

	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt("hosts none\nserver %s tls dns.test\ntls-ca %s\n", fakeup_hostport(f), cert),
	        NULL),
	    0);
	expect_a(&d, "www.example.com", "192.0.2.7");
	expect_a(&d, "fast.example.com", "192.0.2.12");
	ck_assert_uint_eq(rcode_of(&d, "nx.example.com"), 3);
	/* nothing in clear text; every query padded to 128-byte blocks */
	n = fakeup_log(f, log, 16);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++) {
		ck_assert(log[i].tls);
		ck_assert(log[i].padded);
		ck_assert_uint_eq(log[i].qlen % 128, 0);
	}
	servers_json(&d, js, sizeof(js));
	ck_assert_ptr_nonnull(strstr(js, "\"transport\":\"tls\""));
	ck_assert_ptr_nonnull(strstr(js, "\"tls_name\":\"dns.test\""));
	ck_assert_ptr_nonnull(strstr(js, "\"tls_state\":\"connected\""));
	ck_assert_ptr_nonnull(strstr(js, "\"authenticated\":true"));
	/* one connection carried all three */
	ck_assert_int_eq(tu_json_num(js, "handshakes"), 1);
	{
		const char *args[] = { "--json", "displaydns", "www.example.com", NULL };
		char out[8192], want[200];

		ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
		snprintf(want, sizeof(want), "\"upstream\":\"tls://%s#dns.test%%default\"",
		    fakeup_hostport(f));
		ck_assert_msg(strstr(out, want) != NULL, "%s not in %s", want, out);
	}
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

/* A wrong name or pin: no answer, nothing sent, the server excluded. */
static void
expect_refused_peer(const char *opts, const char *ca, const char *why)
{
	struct fakeup *f = tls_up("127.0.0.52", false);
	struct tu_daemon d = { 0 };
	char js[8192];

	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nserver %s %s\ntls-ca %s\n",
	                         fakeup_hostport(f), opts, ca),
	                     NULL),
	    0);
	ck_assert_uint_eq(rcode_of(&d, "www.example.com"), 2);
	ck_assert_uint_eq(fakeup_count(f), 0);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js, why) != NULL, "'%s' not in %s", why, js);
	ck_assert_ptr_nonnull(strstr(js, "\"excluded\":true"));
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}

START_TEST(test_dot_wrong_name)
{
	expect_refused_peer("tls other.test", cert, "failed: certificate name mismatch");
}
END_TEST

START_TEST(test_dot_wrong_pin)
{
	expect_refused_peer("tls dns.test pin 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", cert,
	    "failed: pin mismatch");
}
END_TEST

START_TEST(test_dot_no_store)
{
	/* the default trust store does not know a self-signed certificate */
	expect_refused_peer("tls dns.test", "/etc/ssl/certs/ca-certificates.crt", "failed: ");
}
END_TEST

/* Nobody listening, or a server without TLS: "no answer", the reason
 * shown, and never a query in clear text. */
START_TEST(test_dot_refused)
{
	struct fakeup *plain = fakeup_start("127.0.0.63");
	struct tu_daemon d = { 0 };
	struct fake_rec log[8];
	char js[8192], hp[80];
	size_t n, i;

	ck_assert_ptr_nonnull(plain);
	fakeup_add(plain, "www.example.com", "A", 300, "192.0.2.7");
	snprintf(hp, sizeof(hp), "127.0.0.64:%u", tu_free_port());
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nserver %s tls dns.test\n"
	                                   "tls-ca %s\n",
	                         hp, cert),
	                     NULL),
	    0);
	ck_assert_uint_eq(rcode_of(&d, "www.example.com"), 2);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js, "\"tls_state\":\"failed: Connection refused\"") != NULL, "%s", js);
	ck_assert_int_eq(tu_stop(&d), 0);
	/* a clear-text server on that port (UDP and TCP open): no downgrade */
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nserver %s tls dns.test\n"
	                                   "tls-ca %s\n",
	                         fakeup_hostport(plain), cert),
	                     NULL),
	    0);
	ck_assert_uint_eq(rcode_of(&d, "www.example.com"), 2);
	n = fakeup_log(plain, log, 8);
	for (i = 0; i < n; i++)
		ck_assert_msg(log[i].tcp, "a query reached the server over UDP");
	servers_json(&d, js, sizeof(js));
	ck_assert_ptr_nonnull(strstr(js, "\"tls_state\":\"failed: "));
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(plain);
}
END_TEST

/* A pin authenticates a self-signed key without any trust store;
 * `insecure` encrypts without checking. */
START_TEST(test_dot_pin_and_insecure)
{
	struct fakeup *f = tls_up("127.0.0.53", false);
	struct tu_daemon d = { 0 };
	char js[8192];

	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\nserver %s tls dns.test pin %s\n"
	                            "tls-ca /nonexistent/ca.pem\n",
	                         fakeup_hostport(f), pin),
	                     NULL),
	    0);
	expect_a(&d, "www.example.com", "192.0.2.7");
	ck_assert_int_eq(tu_stop(&d), 0);
	ck_assert_int_eq(
	    tu_start(&d, tu_fmt("hosts none\nserver %s tls insecure\n", fakeup_hostport(f)), NULL),
	    0);
	expect_a(&d, "fast.example.com", "192.0.2.12");
	servers_json(&d, js, sizeof(js));
	ck_assert_ptr_nonnull(strstr(js, "\"authenticated\":false"));
	ck_assert_ptr_nonnull(strstr(js, "\"tls_name\":null"));
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

struct client_arg {
	const struct tu_daemon *d;
	const char *name;
	char data[64];
	double done_ms;
};

static void *
client(void *p)
{
	struct client_arg *c = p;
	uint8_t a[65535];
	long n = qry(c->d, c->name, false, false, a);

	if (n > 0)
		tu_first_data(a, (size_t)n, c->data, sizeof(c->data));
	c->done_ms = tu_now_ms();
	return NULL;
}

/* Pipelining: a slow answer does not hold up a fast one on the same
 * connection, and each reaches its own client. */
static void
pipelined(bool h2)
{
	struct fakeup *f = tls_up(h2 ? "127.0.0.61" : "127.0.0.54", h2);
	struct tu_daemon d = { 0 };
	struct client_arg ca[2] = { { NULL, "slow.example.com", "", 0 },
		{ NULL, "fast.example.com", "", 0 } };
	pthread_t th[2];
	unsigned hs, res;
	int i;

	if (h2)
		ck_assert_int_eq(tu_start(&d,
		                     tu_fmt("hosts none\nserver https://dns.test/dns-query %s\n"
		                            "tls-ca %s\n",
		                         fakeup_hostport(f), cert),
		                     NULL),
		    0);
	else
		ck_assert_int_eq(tu_start(&d,
		                     tu_fmt("hosts none\nserver %s tls dns.test\ntls-ca %s\n",
		                         fakeup_hostport(f), cert),
		                     NULL),
		    0);
	expect_a(&d, "www.example.com", "192.0.2.7"); /* connection up */
	for (i = 0; i < 2; i++) {
		ca[i].d = &d;
		pthread_create(&th[i], NULL, client, &ca[i]);
		tu_sleep_ms(20);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ck_assert_str_eq(ca[0].data, "192.0.2.11");
	ck_assert_str_eq(ca[1].data, "192.0.2.12");
	ck_assert_msg(ca[1].done_ms + 200 < ca[0].done_ms, "fast %.0f slow %.0f", ca[1].done_ms,
	    ca[0].done_ms);
	fakeup_tls_counts(f, &hs, &res);
	ck_assert_uint_eq(hs, 1);
	if (h2) {
		struct fake_rec log[8];
		size_t n = fakeup_log(f, log, 8), k;

		/* RFC 8484 4.1: DNS ID 0 on the wire */
		for (k = 0; k < n; k++)
			ck_assert_uint_eq(log[k].id, 0);
	}
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}

START_TEST(test_dot_pipelined)
{
	pipelined(false);
}
END_TEST

/* The server closes mid-flight: no answer from it in that phase; the
 * next query reconnects and resumes the TLS session. */
START_TEST(test_dot_close_and_resume)
{
	struct fakeup *f = tls_up("127.0.0.55", false);
	struct tu_daemon d = { 0 };
	unsigned hs, res;
	char js[8192];
	double t0;

	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("timeouts 0.3 0.3\nexclude-time 0.5\nhosts none\n"
	                            "server %s tls dns.test\ntls-ca %s\n",
	                         fakeup_hostport(f), cert),
	                     NULL),
	    0);
	expect_a(&d, "www.example.com", "192.0.2.7");
	t0 = tu_now_ms();
	ck_assert_uint_eq(rcode_of(&d, "close.example.com"), 2);
	ck_assert_double_lt(tu_now_ms() - t0, 2000);
	servers_json(&d, js, sizeof(js));
	ck_assert_ptr_nonnull(strstr(js, "\"tls_state\":\"failed: "));
	tu_sleep_ms(700); /* exclusion over */
	expect_a(&d, "fast.example.com", "192.0.2.12");
	fakeup_tls_counts(f, &hs, &res);
	/* the close made the server done for that search (SPEC 5): not
	 * asked again in it, so one connection for it, one after */
	ck_assert_uint_ge(hs, 2);
	ck_assert_uint_ge(res, 1);
	/* an idle close by the server is no failure; the next query resumes */
	fakeup_close_conns(f);
	tu_sleep_ms(100);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js, "\"tls_state\":\"idle\"") != NULL, "%s", js);
	expect_a(&d, "new.example.com", "192.0.2.14");
	servers_json(&d, js, sizeof(js));
	ck_assert_int_ge(tu_json_num(js, "resumed"), 2); /* see above */
	ck_assert_msg(strstr(js, "\"tls_state\":\"connected\"") != NULL, "%s", js);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

/* A network change builds a new upstream engine: its first connection to
 * a server still there resumes the session of the old one. */
START_TEST(test_tickets_survive_network_change)
{
	struct fakeup *f = tls_up("127.0.0.65", false);
	struct tu_daemon d = { 0 };
	const char *link[] = { "link", "lo", "dns", "127.0.0.99", NULL };
	char out[4096], js[8192];
	unsigned hs, res;

	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\nadapter wan metric 1\n"
	                            "server %s tls dns.test\ntls-ca %s\n",
	                         fakeup_hostport(f), cert),
	                     NULL),
	    0);
	expect_a(&d, "www.example.com", "192.0.2.7");
	ck_assert_int_eq(tu_stubctl(&d, link, out, sizeof(out), NULL, 0), 0);
	expect_a(&d, "fast.example.com", "192.0.2.12");
	fakeup_tls_counts(f, &hs, &res);
	ck_assert_uint_eq(hs, 2);  /* a new engine, a new connection */
	ck_assert_uint_eq(res, 1); /* resumed with the old engine's ticket */
	/* and the new engine's transport counts on from the old one's */
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(tu_json_num(js, "handshakes") == 2, "%s", js);
	ck_assert_msg(tu_json_num(js, "resumed") == 1, "%s", js);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

/* A stalled handshake costs its phases like a silent server; the
 * clear-text server of last resort answers, inside the schedule. */
START_TEST(test_dot_stalled_handshake)
{
	struct fakeup *f = tls_up("127.0.0.56", false);
	struct fakeup *plain = fakeup_start("127.0.0.57");
	struct tu_daemon d = { 0 };
	char conf[1024];
	double t0, dt;

	ck_assert_ptr_nonnull(plain);
	fakeup_add(plain, "www.example.com", "A", 300, "192.0.2.99");
	snprintf(conf, sizeof(conf),
	    SCALED "hosts none\nserver %s tls dns.test\n"
	           "server %s priority last\ntls-ca %s\n",
	    fakeup_hostport(f), fakeup_hostport(plain), cert);
	ck_assert_int_eq(tu_start(&d, conf, NULL), 0);
	/* healthy: the plain server of last resort is never asked */
	expect_a(&d, "fast.example.com", "192.0.2.12");
	ck_assert_uint_eq(fakeup_count(plain), 0);
	ck_assert_int_eq(tu_stop(&d), 0);

	fakeup_tls_stall(f, true);
	fakeup_clear_log(f);
	ck_assert_int_eq(tu_start(&d, conf, NULL), 0);
	t0 = tu_now_ms();
	expect_a(&d, "www.example.com", "192.0.2.99");
	dt = tu_now_ms() - t0;
	/* phases 0 and 1 wait on the handshake, phase 2 asks everyone */
	ck_assert_msg(dt >= 500 && dt < 1500, "answered after %.0f ms", dt);
	ck_assert_uint_eq(fakeup_count(f), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
	fakeup_stop(plain);
}
END_TEST

/* ---------------- stalled and failing connections (SPEC 5, 12) ---------------- */

/* A DoT or DoH server on addr whose first connection completes the
 * handshake and then never answers; stubd with three 0.3 s phases. */
static struct fakeup *
stalled_first(const char *addr, bool h2, struct tu_daemon *d)
{
	struct fakeup *f = tls_up(addr, h2);

	fakeup_tls_fault(f, FAKE_TLS_SILENT, 1);
	if (h2)
		ck_assert_int_eq(
		    tu_start(d,
		        tu_fmt(SCALED "hosts none\n"
		                      "server https://dns.test/dns-query %s\ntls-ca %s\n",
		            fakeup_hostport(f), cert),
		        NULL),
		    0);
	else
		ck_assert_int_eq(tu_start(d,
		                     tu_fmt(SCALED "hosts none\nserver %s tls dns.test\n"
		                                   "tls-ca %s\n",
		                         fakeup_hostport(f), cert),
		                     NULL),
		    0);
	return f;
}

/* The first connection stalls: the query of the next phase goes on a new
 * connection and is answered; queries arriving meanwhile (one every
 * 100 ms) never keep the stalled one alive. */
static void
stalled_replaced(const char *addr, bool h2)
{
	struct tu_daemon d = { 0 };
	struct fakeup *f = stalled_first(addr, h2, &d);
	static const char *const names[4] = { "www.example.com", "fast.example.com",
		"new.example.com", "slow.example.com" };
	static const char *const want[4] = { "192.0.2.7", "192.0.2.12", "192.0.2.14",
		"192.0.2.11" };
	struct client_arg ca[4];
	pthread_t th[4];
	unsigned hs, res;
	double t0 = tu_now_ms();
	char js[8192];
	int i;

	fakeup_name_mode(f, "slow.example.com", FAKE_ANSWER, 0);
	for (i = 0; i < 4; i++) {
		memset(&ca[i], 0, sizeof(ca[i]));
		ca[i].d = &d;
		ca[i].name = names[i];
		pthread_create(&th[i], NULL, client, &ca[i]);
		tu_sleep_ms(100);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(strcmp(ca[i].data, want[i]) == 0, "%s: '%s' after %.0f ms", names[i],
		    ca[i].data, ca[i].done_ms - t0);
		/* within its second phase: 0.3 s, a handshake, 150 ms of slack */
		ck_assert_msg(ca[i].done_ms - t0 < 100.0 * i + 750, "%s after %.0f ms", names[i],
		    ca[i].done_ms - t0);
	}
	fakeup_tls_counts(f, &hs, &res);
	ck_assert_uint_eq(hs, 2); /* the stalled one and its replacement */
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js, "\"tls_state\":\"connected\"") != NULL, "%s", js);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}

START_TEST(test_dot_stalled_replaced)
{
	stalled_replaced("127.0.3.66", false);
}
END_TEST

START_TEST(test_doh_stalled_replaced)
{
	stalled_replaced("127.0.3.67", true);
}
END_TEST

/* A server whose every query fails: SERVFAIL and its state says why. */
static void
expect_state(const char *addr, bool h2, enum fake_tls_fault fault, enum fake_mode mode,
    const char *state)
{
	struct fakeup *f = tls_up(addr, h2);
	struct tu_daemon d = { 0 };
	char js[8192], want[200];

	fakeup_tls_fault(f, fault, 0);
	fakeup_set_mode(f, mode);
	if (h2)
		ck_assert_int_eq(
		    tu_start(&d,
		        tu_fmt(SCALED "hosts none\n"
		                      "server https://dns.test/dns-query %s\ntls-ca %s\n",
		            fakeup_hostport(f), cert),
		        NULL),
		    0);
	else
		ck_assert_int_eq(tu_start(&d,
		                     tu_fmt(SCALED "hosts none\nserver %s tls dns.test\n"
		                                   "tls-ca %s\n",
		                         fakeup_hostport(f), cert),
		                     NULL),
		    0);
	ck_assert_uint_eq(rcode_of(&d, "www.example.com"), 2);
	ck_assert_uint_ge(fakeup_count(f), 1);
	servers_json(&d, js, sizeof(js));
	snprintf(want, sizeof(want), "\"tls_state\":\"%s\"", state);
	ck_assert_msg(strstr(js, want) != NULL, "%s not in %s", want, js);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}

START_TEST(test_dot_state_timeout)
{
	expect_state("127.0.3.68", false, FAKE_TLS_SILENT, FAKE_ANSWER, "failed: answer timeout");
}
END_TEST

START_TEST(test_dot_state_wrong_id)
{
	expect_state("127.0.3.69", false, FAKE_TLS_OK, FAKE_WRONGID, "failed: bad answer");
}
END_TEST

START_TEST(test_dot_state_garbage)
{
	expect_state("127.0.3.70", false, FAKE_TLS_GARBAGE, FAKE_ANSWER, "failed: bad answer");
}
END_TEST

START_TEST(test_doh_state_timeout)
{
	expect_state("127.0.3.71", true, FAKE_TLS_SILENT, FAKE_ANSWER, "failed: answer timeout");
}
END_TEST

START_TEST(test_doh_state_404)
{
	expect_state("127.0.3.72", true, FAKE_TLS_HTTP404, FAKE_ANSWER, "failed: HTTP 404");
}
END_TEST

START_TEST(test_doh_state_500)
{
	expect_state("127.0.3.73", true, FAKE_TLS_HTTP500, FAKE_ANSWER, "failed: HTTP 500");
}
END_TEST

START_TEST(test_doh_state_rst)
{
	expect_state("127.0.3.74", true, FAKE_TLS_RST, FAKE_ANSWER, "failed: stream reset");
}
END_TEST

/* RFC 8484: an answer of another content-type is no answer. */
START_TEST(test_doh_content_type)
{
	expect_state("127.0.3.75", true, FAKE_TLS_CTYPE, FAKE_ANSWER,
	    "failed: content-type text/html");
}
END_TEST

/* When a packet of a traced search failed (ms since the search began;
 * -1: none failed). */
static long
trace_failed_at(const char *js)
{
	const char *p = strstr(js, "\"result\":\"failed\",\"at_ms\":");

	return p ? strtol(p + strlen("\"result\":\"failed\",\"at_ms\":"), NULL, 10) : -1;
}

/* A failure that says so is no reason to wait: garbage over DoT or a
 * connection closed with the query in flight fails it at once. */
static void
fails_at_once(const char *addr, enum fake_tls_fault fault)
{
	struct fakeup *f = tls_up(addr, false);
	struct tu_daemon d = { 0 };
	const char *q[] = { "--json", "query", "www.example.com", NULL };
	char out[16384];
	long at;

	fakeup_tls_fault(f, fault, 1);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nserver %s tls dns.test\n"
	                                   "tls-ca %s\n",
	                         fakeup_hostport(f), cert),
	                     NULL),
	    0);
	ck_assert_int_eq(tu_stubctl(&d, q, out, sizeof(out), NULL, 0), 0);
	at = trace_failed_at(out);
	ck_assert_msg(at >= 0 && at < 150, "failed at %ld: %s", at, out);
	/* the only server is done for this search: it ends at once (SPEC 5) */
	ck_assert_msg(strstr(out, "\"rcode\":\"SERVFAIL\"") != NULL, "%s", out);
	ck_assert_msg(tu_json_num(out, "ms") < 150, "%s", out);
	/* the next search, on a new connection, is answered */
	ck_assert_int_eq(tu_stubctl(&d, q, out, sizeof(out), NULL, 0), 0);
	ck_assert_msg(strstr(out, "\"result\":\"answer\"") != NULL, "%s", out);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}

START_TEST(test_dot_garbage_fails_at_once)
{
	fails_at_once("127.0.3.76", FAKE_TLS_GARBAGE);
}
END_TEST

START_TEST(test_dot_reset_fails_at_once)
{
	fails_at_once("127.0.3.78", FAKE_TLS_RESET);
}
END_TEST

struct ctlq_arg {
	const struct tu_daemon *d;
	char out[16384];
};

static void *
ctl_query(void *p)
{
	struct ctlq_arg *c = p;
	const char *q[] = { "--json", "query", "new.example.com", NULL };

	if (tu_stubctl(c->d, q, c->out, sizeof(c->out), NULL, 0) != 0)
		c->out[0] = '\0';
	return NULL;
}

/* GOAWAY mid-flight: the stream it refuses fails at once, the stream
 * below its last stream ID is still answered on the old connection, and
 * the next query goes on a new one at once (while the old one finishes). */
START_TEST(test_doh_goaway)
{
	struct fakeup *f = tls_up("127.0.3.77", true);
	struct tu_daemon d = { 0 };
	struct client_arg slow = { NULL, "slow.example.com", "", 0 };
	static struct ctlq_arg cq;
	unsigned hs, res;
	pthread_t th, thq;
	double t0, t1;
	long at;

	fakeup_tls_fault(f, FAKE_TLS_GOAWAY, 1);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("timeouts 1 1 1\nhosts none\n"
	                            "server https://dns.test/dns-query %s\ntls-ca %s\n",
	                         fakeup_hostport(f), cert),
	                     NULL),
	    0);
	slow.d = &d;
	t0 = tu_now_ms();
	pthread_create(&th, NULL, client, &slow); /* stream 1: answered at 400 ms */
	tu_sleep_ms(100);
	cq.d = &d;
	pthread_create(&thq, NULL, ctl_query, &cq); /* stream 3: GOAWAY */
	tu_sleep_ms(100);
	/* the old connection still finishes stream 1: a new one for this */
	t1 = tu_now_ms();
	expect_a(&d, "fast.example.com", "192.0.2.12");
	ck_assert_msg(tu_now_ms() - t1 < 300, "answered after %.0f ms", tu_now_ms() - t1);
	pthread_join(thq, NULL);
	at = trace_failed_at(cq.out);
	ck_assert_msg(at >= 0 && at < 250, "failed at %ld: %s", at, cq.out);
	pthread_join(th, NULL);
	ck_assert_str_eq(slow.data, "192.0.2.11");
	ck_assert_double_lt(slow.done_ms - t0, 900); /* on the old connection, phase 0 */
	fakeup_tls_counts(f, &hs, &res);
	ck_assert_uint_eq(hs, 2);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

/* ---------------- DNS over HTTPS ---------------- */

START_TEST(test_doh_answers)
{
	struct fakeup *f = tls_up("127.0.0.62", true);
	struct tu_daemon d = { 0 };
	struct fake_rec log[8];
	char js[8192];
	size_t n, i;

	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\nserver https://dns.test/dns-query %s\n"
	                            "tls-ca %s\n",
	                         fakeup_hostport(f), cert),
	                     NULL),
	    0);
	expect_a(&d, "www.example.com", "192.0.2.7");
	ck_assert_uint_eq(rcode_of(&d, "nx.example.com"), 3);
	n = fakeup_log(f, log, 8);
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < n; i++) {
		ck_assert(log[i].tls);
		ck_assert_uint_eq(log[i].id, 0);
		ck_assert_uint_eq(log[i].qlen % 128, 0);
	}
	servers_json(&d, js, sizeof(js));
	ck_assert_ptr_nonnull(strstr(js, "\"transport\":\"https\""));
	ck_assert_ptr_nonnull(strstr(js, "\"tls_state\":\"connected\""));
	ck_assert_int_eq(tu_stop(&d), 0);
	/* a wrong path gets 404: no answer */
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nserver https://dns.test/other %s\n"
	                                   "tls-ca %s\n",
	                         fakeup_hostport(f), cert),
	                     NULL),
	    0);
	ck_assert_uint_eq(rcode_of(&d, "www.example.com"), 2);
	servers_json(&d, js, sizeof(js));
	ck_assert_msg(strstr(js, "\"tls_state\":\"failed: HTTP 404\"") != NULL, "%s", js);
	ck_assert_int_eq(tu_stop(&d), 0);
	/* a wrong name: no request at all */
	fakeup_clear_log(f);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt(SCALED "hosts none\nserver https://other.test/dns-query %s\n"
	                                   "tls-ca %s\n",
	                         fakeup_hostport(f), cert),
	                     NULL),
	    0);
	ck_assert_uint_eq(rcode_of(&d, "www.example.com"), 2);
	ck_assert_uint_eq(fakeup_count(f), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

START_TEST(test_doh_pipelined)
{
	pipelined(true);
}
END_TEST

/* ---------------- the AD bit ---------------- */

static void
expect_ad(const struct tu_daemon *d, const char *name, bool ad_q, bool do_q, bool want)
{
	uint8_t a[65535];
	long n = qry(d, name, ad_q, do_q, a);

	ck_assert_msg(n > 0, "no answer for %s", name);
	ck_assert_uint_eq(tu_rcode(a, (size_t)n), 0);
	ck_assert_msg(tu_ad(a, (size_t)n) == want, "%s (AD %d DO %d): AD %d, wanted %d", name, ad_q,
	    do_q, tu_ad(a, (size_t)n), want);
}

START_TEST(test_ad_policy)
{
	struct fakeup *plain = fakeup_start("127.0.0.58");
	struct fakeup *tls = tls_up("127.0.0.59", false);
	struct tu_daemon d = { 0 };

	ck_assert_ptr_nonnull(plain);
	fakeup_add(plain, "www.example.com", "A", 300, "192.0.2.7");
	fakeup_add(plain, "v.example.com", "A", 300, "192.0.2.8");
	fakeup_set_ad(plain, true);
	fakeup_set_ad(tls, true);
	/* a clear-text server setting AD: clients never see it */
	ck_assert_int_eq(
	    tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(plain)), NULL), 0);
	expect_ad(&d, "www.example.com", true, false, false);
	expect_ad(&d, "v.example.com", false, true, false);
	expect_ad(&d, "www.example.com", true, false, false); /* cached */
	ck_assert_int_eq(tu_stop(&d), 0);
	/* the same server marked trust-ad: AD when asked (AD or DO), cached too */
	ck_assert_int_eq(
	    tu_start(&d, tu_fmt("hosts none\nserver %s trust-ad\n", fakeup_hostport(plain)), NULL),
	    0);
	expect_ad(&d, "www.example.com", false, false, false);
	expect_ad(&d, "www.example.com", true, false, true); /* cached */
	expect_ad(&d, "v.example.com", false, true, true);
	expect_ad(&d, "v.example.com", false, true, true); /* cached */
	/* reloaded without trust-ad: the cached answers stay, their AD goes */
	{
		const char *args[] = { "reload", NULL };
		char text[512], out[256];
		size_t asked = fakeup_count(plain);

		snprintf(text, sizeof(text),
		    "listen 127.0.0.1:%u\ncontrol %s\nhosts none\n"
		    "server %s\n",
		    d.port, d.ctl, fakeup_hostport(plain));
		ck_assert_int_eq(tu_write(&d, "stubd.conf", text, NULL, 0), 0);
		ck_assert_int_eq(tu_stubctl(&d, args, out, sizeof(out), NULL, 0), 0);
		expect_ad(&d, "www.example.com", true, false, false);
		expect_ad(&d, "v.example.com", false, true, false);
		ck_assert_uint_eq(fakeup_count(plain), asked); /* from the cache */
	}
	ck_assert_int_eq(tu_stop(&d), 0);
	/* authenticated DoT: AD when asked; insecure DoT: never */
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\nserver %s tls dns.test\ntls-ca %s\n",
	                         fakeup_hostport(tls), cert),
	                     NULL),
	    0);
	expect_ad(&d, "www.example.com", true, false, true);
	expect_ad(&d, "www.example.com", false, false, false);
	ck_assert_int_eq(tu_stop(&d), 0);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\nserver %s tls insecure\n", fakeup_hostport(tls)),
	                     NULL),
	    0);
	expect_ad(&d, "www.example.com", true, false, false);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(plain);
	fakeup_stop(tls);
}
END_TEST

/* ---------------- the trust store ---------------- */

START_TEST(test_tls_ca_errors)
{
	struct tu_daemon d = { 0 };
	const char *args[] = { "reload", NULL };
	struct fakeup *f = tls_up("127.0.0.60", false);
	char err[1024], path[400];
	int rc;

	/* an unreadable store at start: a clear error, exit 1 */
	ck_assert_int_eq(tu_mkdir(&d), 0);
	snprintf(path, sizeof(path), "%s/stubd.conf", d.dir);
	{
		char text[600], lis[64];
		const char *argv[] = { getenv("STUBD"), "-f", "-c", path, "-l", lis, NULL };

		snprintf(lis, sizeof(lis), "127.0.0.1:%u", tu_free_port());
		snprintf(text, sizeof(text),
		    "hosts none\ncontrol off\nserver %s tls dns.test\n"
		    "tls-ca %s/missing.pem\n",
		    fakeup_hostport(f), d.dir);
		ck_assert_int_eq(tu_write(&d, "stubd.conf", text, NULL, 0), 0);
		rc = tu_run(argv, NULL, 0, err, sizeof(err), 5000);
		ck_assert_int_eq(rc, 1);
		ck_assert_msg(strstr(err, "missing.pem: cannot load the trust store") != NULL, "%s",
		    err);
	}
	/* reload with an unreadable store keeps the running configuration */
	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt("hosts none\nserver %s tls dns.test\ntls-ca %s\n", fakeup_hostport(f), cert),
	        NULL),
	    0);
	expect_a(&d, "www.example.com", "192.0.2.7");
	ck_assert_int_eq(tu_write(&d, "stubd.conf",
	                     tu_fmt("listen 127.0.0.1:%u\ncontrol %s\n"
	                            "hosts none\nserver %s tls dns.test\ntls-ca %s/gone.pem\n",
	                         d.port, d.ctl, fakeup_hostport(f), d.dir),
	                     NULL, 0),
	    0);
	ck_assert_int_ne(tu_stubctl(&d, args, path, sizeof(path), err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "gone.pem: cannot load the trust store") != NULL ||
	        strstr(path, "gone.pem: cannot load the trust store") != NULL,
	    "%s %s", path, err);
	expect_a(&d, "fast.example.com", "192.0.2.12");
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *t = tcase_create("dot"), *h = tcase_create("doh"), *a = tcase_create("ad");

	tcase_add_test(t, test_dot_answers);
	tcase_add_test(t, test_dot_wrong_name);
	tcase_add_test(t, test_dot_wrong_pin);
	tcase_add_test(t, test_dot_no_store);
	tcase_add_test(t, test_dot_pin_and_insecure);
	tcase_add_test(t, test_dot_refused);
	tcase_add_test(t, test_dot_pipelined);
	tcase_add_test(t, test_dot_close_and_resume);
	tcase_add_test(t, test_tickets_survive_network_change);
	tcase_add_test(t, test_dot_stalled_handshake);
	tcase_add_test(t, test_tls_ca_errors);
	tcase_add_test(t, test_dot_stalled_replaced);
	tcase_add_test(t, test_dot_state_timeout);
	tcase_add_test(t, test_dot_state_wrong_id);
	tcase_add_test(t, test_dot_state_garbage);
	tcase_add_test(t, test_dot_garbage_fails_at_once);
	tcase_add_test(t, test_dot_reset_fails_at_once);
	tcase_add_test(h, test_doh_stalled_replaced);
	tcase_add_test(h, test_doh_state_timeout);
	tcase_add_test(h, test_doh_state_404);
	tcase_add_test(h, test_doh_state_500);
	tcase_add_test(h, test_doh_state_rst);
	tcase_add_test(h, test_doh_content_type);
	tcase_add_test(h, test_doh_goaway);
	tcase_add_test(h, test_doh_answers);
	tcase_add_test(h, test_doh_pipelined);
	tcase_add_test(a, test_ad_policy);
	tcase_set_timeout(t, 60);
	tcase_set_timeout(h, 60);
	tcase_set_timeout(a, 60);
	suite_add_tcase(s, t);
	suite_add_tcase(s, h);
	suite_add_tcase(s, a);
	return s;
}

/* The certificate every fake TLS upstream serves, made for this run. */
static int
make_cert(const char *base)
{
	snprintf(cert, sizeof(cert), "%s/cert.pem", base);
	snprintf(key, sizeof(key), "%s/key.pem", base);
	return fakeup_make_cert("dns.test", cert, key, pin);
}

int
main(void)
{
	char base[128];

	return check_daemon_main(tls_suite(), base, sizeof(base), make_cert);
}
