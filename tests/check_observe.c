/*
 * check_observe.c - integration (SPEC 15): stubctl query with the trace of
 * its search, stubctl monitor (and one that never reads), the Prometheus
 * endpoint against stubctl stats, sd_notify and socket activation, all
 * against the real stubd.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkmain.h"
#include "fakeup.h"
#include "jsonp.h"
#include "testutil.h"

/* ---------------- helpers ---------------- */

static struct jval *
ctl_json(const struct tu_daemon *d, const char *const *args, char *out, size_t outsz)
{
	char err[256];
	struct jval *v;

	ck_assert_int_eq(tu_stubctl(d, args, out, outsz, NULL, 0), 0);
	v = jsonp_parse(out, strlen(out), err, sizeof(err));
	ck_assert_msg(v != NULL, "%s: %s", err, out);
	return v;
}

static const char *
jstr(const struct jval *o, const char *k)
{
	const struct jval *v = jsonp_get(o, k);

	return v && v->type == J_STR ? v->str : NULL;
}

static double
jnum(const struct jval *o, const char *k)
{
	const struct jval *v = jsonp_get(o, k);

	return v && v->type == J_NUM ? v->num : -1;
}

/* the first trace entry of adapter with this result, or NULL */
static const struct jval *
trace_find(const struct jval *q, const char *adapter, const char *result)
{
	const struct jval *tr = jsonp_get(q, "trace");
	size_t i;

	for (i = 0; tr && tr->type == J_ARR && i < tr->n; i++) {
		const char *a = jstr(tr->items[i], "adapter"), *r = jstr(tr->items[i], "result");

		if (a && r && strcmp(a, adapter) == 0 && strcmp(r, result) == 0)
			return tr->items[i];
	}
	return NULL;
}

/* How many trace entries say `late` (a reply after its phase) without
 * being a reply: a packet that timed out and was then cancelled is no
 * late reply. */
static size_t
trace_false_late(const struct jval *q)
{
	const struct jval *tr = jsonp_get(q, "trace");
	size_t i, n = 0;

	for (i = 0; tr && tr->type == J_ARR && i < tr->n; i++) {
		const struct jval *l = jsonp_get(tr->items[i], "late");
		const char *r = jstr(tr->items[i], "result");

		if (l && l->type == J_BOOL && l->b && r &&
		    (strcmp(r, "cancelled") == 0 || strcmp(r, "timeout") == 0))
			n++;
	}
	return n;
}

/* ---------------- stubctl query ---------------- */

START_TEST(test_query_trace)
{
	struct fakeup *dead = fakeup_start("127.0.0.81"), *live = fakeup_start("127.0.0.82");
	struct tu_daemon d = { 0 };
	const char *q1[] = { "--json", "query", "www.example.com", NULL };
	const char *q2[] = { "--json", "query", "other.example.com", "AAAA", NULL };
	const char *qh[] = { "--json", "query", "myhost.test", NULL };
	const char *qt[] = { "query", "www.example.com", NULL };
	char out[16384], hosts[300];
	struct jval *v;
	const struct jval *e, *recs;

	ck_assert_ptr_nonnull(dead);
	ck_assert_ptr_nonnull(live);
	fakeup_set_mode(dead, FAKE_DROP);
	fakeup_add(live, "www.example.com", "A", 300, "192.0.2.7");
	fakeup_add(live, "other.example.com", "AAAA", 300, "2001:db8::8");
	ck_assert_int_eq(tu_mkdir(&d), 0);
	ck_assert_int_eq(tu_write(&d, "hosts", "192.0.2.50 myhost.test\n", hosts, sizeof(hosts)),
	    0);
	ck_assert_int_eq(
	    tu_start(&d,
	        tu_fmt("timeouts 0.3 0.3 0.3\nhosts %s\n"
	               "adapter dead metric 1\nserver %s\nadapter live metric 2\nserver %s\n",
	            hosts, fakeup_hostport(dead), fakeup_hostport(live)),
	        NULL),
	    0);

	/* upstream: phase 0 to the preferred (dead) adapter times out, phase 1
	 * asks both, the live one answers */
	v = ctl_json(&d, q1, out, sizeof(out));
	ck_assert_str_eq(jstr(v, "source"), "upstream");
	ck_assert_str_eq(jstr(v, "rcode"), "NOERROR");
	ck_assert_str_eq(jstr(v, "name"), "www.example.com");
	recs = jsonp_get(v, "records");
	ck_assert(recs && recs->type == J_ARR && recs->n == 1);
	ck_assert_str_eq(jstr(recs->items[0], "data"), "192.0.2.7");
	e = trace_find(v, "dead", "timeout");
	ck_assert_msg(e != NULL, "%s", out);
	ck_assert_double_eq(jnum(e, "phase"), 0);
	ck_assert_double_eq(jnum(e, "sent_ms"), 0);
	ck_assert_msg(jnum(e, "at_ms") >= 250 && jnum(e, "at_ms") < 800, "%s", out);
	ck_assert_str_eq(jstr(e, "transport"), "udp");
	ck_assert_str_eq(jstr(e, "server"), fakeup_hostport(dead));
	e = trace_find(v, "live", "answer");
	ck_assert_msg(e != NULL, "%s", out);
	ck_assert_double_eq(jnum(e, "phase"), 1);
	ck_assert_msg(jnum(e, "sent_ms") >= 250 && jnum(e, "at_ms") >= jnum(e, "sent_ms"), "%s",
	    out);
	ck_assert_msg(jnum(v, "ms") >= 250 && jnum(v, "ms") < 1500, "%s", out);
	/* the dead server's timed-out packet stays a timeout, no "late" */
	ck_assert_msg(trace_false_late(v) == 0, "%s", out);
	jsonp_free(v);
	{
		/* stubctl query is counted apart, not as a TCP query */
		const char *st[] = { "--json", "stats", NULL };

		ck_assert_int_eq(tu_stubctl(&d, st, out, sizeof(out), NULL, 0), 0);
		ck_assert_int_eq(tu_json_num(out, "queries_control"), 1);
		ck_assert_int_eq(tu_json_num(out, "queries_tcp"), 0);
		ck_assert_int_eq(tu_json_num(out, "queries"), 1);
	}

	/* the same again: from the cache, no search */
	v = ctl_json(&d, q1, out, sizeof(out));
	ck_assert_str_eq(jstr(v, "source"), "cache");
	ck_assert_uint_eq(jsonp_get(v, "trace")->n, 0);
	jsonp_free(v);

	/* a hosts name */
	v = ctl_json(&d, qh, out, sizeof(out));
	ck_assert_str_eq(jstr(v, "source"), "hosts");
	ck_assert_str_eq(jstr(jsonp_get(v, "records")->items[0], "data"), "192.0.2.50");
	jsonp_free(v);

	/* the dead server timed out and is excluded: listed as skipped, the
	 * live one asked at once */
	v = ctl_json(&d, q2, out, sizeof(out));
	ck_assert_str_eq(jstr(v, "type"), "AAAA");
	e = trace_find(v, "dead", "excluded");
	ck_assert_msg(e != NULL, "%s", out);
	ck_assert_int_eq(jsonp_get(e, "sent_ms")->type, J_NULL);
	e = trace_find(v, "live", "answer");
	ck_assert_msg(e != NULL && jnum(e, "phase") == 0, "%s", out);
	jsonp_free(v);

	/* the text form */
	ck_assert_int_eq(tu_stubctl(&d, qt, out, sizeof(out), NULL, 0), 0);
	ck_assert_msg(strstr(out, "www.example.com A: NOERROR from cache") != NULL, "%s", out);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(dead);
	fakeup_stop(live);
}
END_TEST

/* A search that ends in SERVFAIL keeps its trace (SPEC 15): each server
 * done at once (SERVFAIL, a refused packet), shown with when. */
START_TEST(test_query_trace_servfail)
{
	struct fakeup *sf = fakeup_start("127.0.0.81");
	struct tu_daemon d = { 0 };
	const char *q1[] = { "--json", "query", "www.example.com", NULL };
	char out[16384];
	struct jval *v;
	const struct jval *e, *tr;

	ck_assert_ptr_nonnull(sf);
	fakeup_set_mode(sf, FAKE_SERVFAIL);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("timeouts 0.3 0.3 0.3\nhosts none\n"
	                            "adapter lan metric 1\nserver %s\nserver 127.0.0.82:%u\n",
	                         fakeup_hostport(sf), tu_free_port()),
	                     NULL),
	    0);
	v = ctl_json(&d, q1, out, sizeof(out));
	ck_assert_str_eq(jstr(v, "source"), "upstream");
	ck_assert_str_eq(jstr(v, "rcode"), "SERVFAIL");
	tr = jsonp_get(v, "trace");
	ck_assert_msg(tr && tr->type == J_ARR && tr->n == 2, "%s", out);
	e = trace_find(v, "lan", "SERVFAIL");
	ck_assert_msg(e != NULL, "%s", out);
	ck_assert_str_eq(jstr(e, "server"), fakeup_hostport(sf));
	ck_assert_double_eq(jnum(e, "phase"), 0);
	ck_assert_msg(jnum(e, "at_ms") >= 0 && jnum(e, "at_ms") < 150, "%s", out);
	e = trace_find(v, "lan", "failed");
	ck_assert_msg(e != NULL, "%s", out);
	ck_assert_double_eq(jnum(e, "phase"), 1);
	ck_assert_msg(jnum(e, "at_ms") >= 0 && jnum(e, "at_ms") < 150, "%s", out);
	ck_assert_msg(jnum(v, "ms") < 250, "%s", out);
	jsonp_free(v);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(sf);
}
END_TEST

/* ---------------- stubctl monitor ---------------- */

static int
monitor_connect(const struct tu_daemon *d)
{
	int fd = tu_ctl_connect(d);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "monitor\n", 8), 8);
	tu_sleep_ms(100);
	return fd;
}

/* what arrived within ms */
static size_t
read_for(int fd, char *buf, size_t cap, int ms, bool *eof)
{
	size_t n = 0;
	double end = tu_now_ms() + ms;

	*eof = false;
	while (n + 1 < cap && tu_now_ms() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, 50) <= 0)
			continue;
		r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0) {
			*eof = r == 0;
			break;
		}
		n += (size_t)r;
	}
	buf[n] = 0;
	return n;
}

START_TEST(test_monitor_sees_queries)
{
	struct fakeup *f = fakeup_start("127.0.0.83");
	struct tu_daemon d = { 0 };
	struct tq_opts o = { .timeout_ms = 3000 };
	uint8_t a[4096];
	static char buf[65536];
	bool eof;
	int fd;

	ck_assert_ptr_nonnull(f);
	fakeup_add(f, "www.example.com", "A", 300, "192.0.2.7");
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(f)), NULL),
	    0);
	fd = monitor_connect(&d);
	ck_assert_int_gt(tu_query("127.0.0.1", d.port, "www.example.com", TYPE_A, &o, a, sizeof(a)),
	    0);
	ck_assert_int_gt(tu_query("127.0.0.1", d.port, "www.example.com", TYPE_A, &o, a, sizeof(a)),
	    0);
	ck_assert_int_gt(
	    tu_query("127.0.0.1", d.port, "nx.example.com", TYPE_AAAA, &o, a, sizeof(a)), 0);
	read_for(fd, buf, sizeof(buf), 500, &eof);
	ck_assert(!eof);
	ck_assert_msg(strstr(buf,
	                  "\"name\":\"www.example.com\",\"type\":\"A\",\"rcode\":\"NOERROR\","
	                  "\"source\":\"upstream\"") != NULL,
	    "%s", buf);
	ck_assert_msg(strstr(buf,
	                  "\"name\":\"www.example.com\",\"type\":\"A\",\"rcode\":\"NOERROR\","
	                  "\"source\":\"cache\"") != NULL,
	    "%s", buf);
	ck_assert_msg(strstr(buf,
	                  "\"name\":\"nx.example.com\",\"type\":\"AAAA\","
	                  "\"rcode\":\"NXDOMAIN\"") != NULL,
	    "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "\"client\":\"127.0.0.1:"));
	close(fd);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

struct blaster {
	const struct tu_daemon *d;
	int n;
	double worst_ms;
	int failed;
};

static void *
blast(void *p)
{
	struct blaster *b = p;
	struct tq_opts o = { .timeout_ms = 2000 };
	uint8_t a[512];
	int i;

	for (i = 0; i < b->n; i++) {
		double t0 = tu_now_ms(), dt;

		if (tu_query("127.0.0.1", b->d->port, "myhost.test", TYPE_A, &o, a, sizeof(a)) <= 0)
			b->failed++;
		dt = tu_now_ms() - t0;
		if (dt > b->worst_ms)
			b->worst_ms = dt;
	}
	return NULL;
}

/* A monitor that does not read never slows answering: it loses lines, is
 * told how many once it reads, and one that never reads is cut off. */
START_TEST(test_monitor_slow_and_stuck)
{
	struct tu_daemon d = { 0 };
	struct blaster b = { &d, 20000, 0, 0 };
	static char buf[1 << 21];
	char hosts[300];
	pthread_t th;
	bool eof;
	int slow, stuck;

	ck_assert_int_eq(tu_mkdir(&d), 0);
	ck_assert_int_eq(tu_write(&d, "hosts", "192.0.2.50 myhost.test\n", hosts, sizeof(hosts)),
	    0);
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts %s\n", hosts), NULL), 0);
	slow = monitor_connect(&d);
	stuck = monitor_connect(&d);
	pthread_create(&th, NULL, blast, &b);
	pthread_join(th, NULL);
	ck_assert_int_eq(b.failed, 0);
	ck_assert_msg(b.worst_ms < 250, "slowest answer %.1f ms with monitors not reading",
	    b.worst_ms);
	/* the slow one reads now: what was kept, then how many were lost */
	{
		struct tq_opts o = { .timeout_ms = 2000 };
		uint8_t a[512];
		size_t n = read_for(slow, buf, sizeof(buf), 1000, &eof);

		ck_assert_int_gt(
		    tu_query("127.0.0.1", d.port, "myhost.test", TYPE_A, &o, a, sizeof(a)), 0);
		read_for(slow, buf + n, sizeof(buf) - n, 1000, &eof);
		ck_assert_msg(n < (size_t)b.n * 100, "nothing was lost (%zu bytes)", n);
	}
	ck_assert_msg(strstr(buf, "{\"lost\":") != NULL, "no lost line in %.200s", buf);
	close(slow);
	/* the stuck one is cut off after 30 s without reading */
	tu_sleep_ms(32000);
	read_for(stuck, buf, sizeof(buf), 3000, &eof);
	ck_assert_msg(eof, "the stuck monitor is still connected");
	close(stuck);
	ck_assert_int_eq(tu_stop(&d), 0);
}
END_TEST

/* ---------------- metrics ---------------- */

/* An HTTP request to addr:port; the whole response into out. */
static size_t
http(uint16_t port, const char *req, char *out, size_t cap)
{
	struct sockaddr_in sa = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool eof;
	size_t n;

	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(0x7f000055); /* 127.0.0.85 */
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	n = read_for(fd, out, cap, 3000, &eof);
	close(fd);
	return n;
}

/* the value of the sample `name` (no labels) in an exposition, or -1 */
static double
sample(const char *doc, const char *name)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s ", name);
	p = strstr(doc, pat);
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

START_TEST(test_metrics_match_stats)
{
	struct fakeup *f = fakeup_start("127.0.0.84");
	struct tu_daemon d = { 0 };
	struct tq_opts o = { .timeout_ms = 3000 };
	const char *args[] = { "--json", "stats", NULL };
	static char doc[1 << 18], js[8192];
	uint16_t mport = tu_free_port();
	uint8_t a[4096];
	struct jval *st;
	size_t i;

	ck_assert_ptr_nonnull(f);
	fakeup_add(f, "www.example.com", "A", 300, "192.0.2.7");
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\nmetrics 127.0.0.85:%u\n"
	                            "adapter lan\nserver %s\n",
	                         mport, fakeup_hostport(f)),
	                     NULL),
	    0);
	for (i = 0; i < 3; i++)
		ck_assert_int_gt(
		    tu_query("127.0.0.1", d.port, "www.example.com", TYPE_A, &o, a, sizeof(a)), 0);
	ck_assert_int_gt(tu_query("127.0.0.1", d.port, "nx.example.com", TYPE_A, &o, a, sizeof(a)),
	    0);
	http(mport, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", doc, sizeof(doc));
	st = ctl_json(&d, args, js, sizeof(js));
	ck_assert_msg(strncmp(doc, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.200s", doc);
	ck_assert_ptr_nonnull(strstr(doc, "Content-Type: text/plain; version=0.0.4"));
	/* every stats value, equal (uptime may have ticked) */
	for (i = 0; i < st->n; i++) {
		const char *k = st->keys[i];
		char name[96];
		double want = st->items[i]->num, got;

		if (st->items[i]->type != J_NUM)
			continue; /* lists: per list, below */
		bool gauge = strcmp(k, "cache_entries") == 0 || strcmp(k, "cache_bytes") == 0 ||
		    strcmp(k, "uptime") == 0 || strcmp(k, "hosts_entries") == 0;

		snprintf(name, sizeof(name), "stubd_%s%s", k, gauge ? "" : "_total");
		got = sample(doc, name);
		if (strcmp(k, "uptime") == 0)
			ck_assert_msg(got >= want - 1 && got <= want + 1, "%s %f %f", name, got,
			    want);
		else
			ck_assert_msg(got == want, "%s: metrics %f, stats %f", name, got, want);
	}
	ck_assert_double_eq(sample(doc, "stubd_queries_total"), 4);
	/* per server, labelled; the latency histogram by source */
	ck_assert_ptr_nonnull(strstr(doc,
	    tu_fmt("stubd_server_queries_total{adapter=\"lan\","
	           "server=\"%s\"} 2\n",
	        fakeup_hostport(f))));
	ck_assert_ptr_nonnull(strstr(doc, "stubd_answer_seconds_count{source=\"cache\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(doc, "stubd_answer_seconds_count{source=\"upstream\"} 2\n"));
	ck_assert_ptr_nonnull(
	    strstr(doc, "stubd_answer_seconds_bucket{source=\"cache\",le=\"+Inf\"} 2\n"));
	ck_assert_ptr_null(strstr(doc, "www.example.com")); /* never names as labels */
	jsonp_free(st);
	/* other paths and methods */
	http(mport, "GET / HTTP/1.1\r\n\r\n", doc, sizeof(doc));
	ck_assert_msg(strncmp(doc, "HTTP/1.1 404", 12) == 0, "%.100s", doc);
	http(mport, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", doc, sizeof(doc));
	ck_assert_msg(strncmp(doc, "HTTP/1.1 405", 12) == 0, "%.100s", doc);
	http(mport, "HEAD /metrics HTTP/1.0\r\n\r\n", doc, sizeof(doc));
	ck_assert_msg(strncmp(doc, "HTTP/1.1 200", 12) == 0 && !strstr(doc, "stubd_queries"),
	    "%.300s", doc);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

/* SPEC 18: stats and the metrics count blocked, allowed, local and rebind
 * answers per list, labelled with the list's basename (never a query
 * name); the counts survive a swap of the list. */
START_TEST(test_metrics_lists)
{
	struct fakeup *f = fakeup_start("127.0.0.84");
	struct tu_daemon d = { 0 };
	struct tq_opts o = { .timeout_ms = 3000 };
	const char *args[] = { "--json", "stats", NULL };
	static char doc[1 << 18], js[8192];
	uint16_t mport = tu_free_port();
	char ads[512], allow[512];
	const struct jval *ls, *l, *r = NULL, *b = NULL, *al = NULL;
	uint8_t a[4096];
	struct jval *st;
	size_t i;

	ck_assert_ptr_nonnull(f);
	fakeup_add(f, "ok.ads.example", "A", 300, "10.0.0.5"); /* private */
	fakeup_add(f, "fine.example", "A", 300, "10.0.0.6");
	ck_assert_int_eq(tu_mkdir(&d), 0);
	ck_assert_int_eq(tu_write(&d, "ads.txt", "! x\n||ads.example^\n", ads, sizeof(ads)), 0);
	ck_assert_int_eq(
	    tu_write(&d, "ok.txt", "ok.ads.example\nfine.example\n", allow, sizeof(allow)), 0);
	ck_assert_int_eq(tu_start(&d,
	                     tu_fmt("hosts none\nmetrics 127.0.0.85:%u\nserver %s\n"
	                            "rebind-protection yes\nblocklist %s format adblock\n"
	                            "allowlist %s format domains name ok-list\n"
	                            "rule nas.lan answer A 192.0.2.9\n",
	                         mport, fakeup_hostport(f), ads, allow),
	                     NULL),
	    0);
	for (i = 0; i < 3; i++)
		tu_query("127.0.0.1", d.port, "x.ads.example", TYPE_A, &o, a, sizeof(a));
	tu_query("127.0.0.1", d.port, "ok.ads.example", TYPE_A, &o, a, sizeof(a));
	tu_query("127.0.0.1", d.port, "fine.example", TYPE_AAAA, &o, a, sizeof(a));
	tu_query("127.0.0.1", d.port, "nas.lan", TYPE_A, &o, a, sizeof(a));
	st = ctl_json(&d, args, js, sizeof(js));
	ls = jsonp_get(st, "lists");
	ck_assert_ptr_nonnull(ls);
	ck_assert_uint_eq(ls->n, 3);
	for (i = 0; i < ls->n; i++) {
		l = ls->items[i];
		if (strcmp(jstr(l, "kind"), "rules") == 0)
			r = l;
		else if (strcmp(jstr(l, "kind"), "blocklist") == 0)
			b = l;
		else
			al = l;
	}
	ck_assert(r && b && al);
	ck_assert_str_eq(jstr(b, "name"), "ads.txt");
	ck_assert_str_eq(jstr(b, "file"), ads);
	ck_assert_str_eq(jstr(b, "format"), "adblock");
	ck_assert(jnum(b, "entries") == 1);
	ck_assert(jnum(b, "unknown") == 0);
	ck_assert(jnum(b, "blocked") == 3);
	ck_assert(jnum(al, "allowed") == 2);
	ck_assert(jnum(al, "rebind") == 1); /* ok.ads.example kept 10.0.0.5 */
	ck_assert(jnum(al, "blocked") == 0);
	ck_assert(jnum(r, "local") == 1);
	ck_assert_str_eq(jstr(r, "name"), "stubd.conf");
	jsonp_free(st);
	http(mport, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", doc, sizeof(doc));
	ck_assert_ptr_nonnull(
	    strstr(doc, "\nstubd_list_blocked_total{list=\"ads.txt\",kind=\"blocklist\"} 3\n"));
	ck_assert_ptr_nonnull(
	    strstr(doc, "\nstubd_list_allowed_total{list=\"ok-list\",kind=\"allowlist\"} 2\n"));
	ck_assert_ptr_nonnull(
	    strstr(doc, "\nstubd_list_rebind_total{list=\"ok-list\",kind=\"allowlist\"} 1\n"));
	ck_assert_ptr_nonnull(
	    strstr(doc, "\nstubd_list_local_total{list=\"stubd.conf\",kind=\"rules\"} 1\n"));
	ck_assert_ptr_nonnull(
	    strstr(doc, "\nstubd_list_entries{list=\"ok-list\",kind=\"allowlist\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(doc, "# TYPE stubd_list_blocked_total counter\n"));
	/* never query names as labels */
	ck_assert_ptr_null(strstr(doc, "ads.example"));
	ck_assert_ptr_null(strstr(doc, "nas.lan"));
	/* the list swapped (a new name): counts kept, the new entry counted */
	ck_assert_int_eq(tu_write(&d, "ads.txt", "! x\n||ads.example^\n||more.example^\n", NULL, 0),
	    0);
	for (i = 0; i < 40; i++) {
		tu_sleep_ms(100);
		long n = tu_query("127.0.0.1", d.port, "more.example", TYPE_A, &o, a, sizeof(a));
		char data[64] = "";

		if (n > 0)
			tu_first_data(a, (size_t)n, data, sizeof(data));
		if (strcmp(data, "0.0.0.0") == 0)
			break;
	}
	st = ctl_json(&d, args, js, sizeof(js));
	ls = jsonp_get(st, "lists");
	for (i = 0; i < ls->n; i++)
		if (strcmp(jstr(ls->items[i], "kind"), "blocklist") == 0)
			b = ls->items[i];
	ck_assert(jnum(b, "entries") == 2);
	ck_assert(jnum(b, "blocked") == 4);
	jsonp_free(st);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(f);
}
END_TEST

/* At most 8 connections: a 9th waits until one ends. */
START_TEST(test_metrics_connection_limit)
{
	struct tu_daemon d = { 0 };
	uint16_t mport = tu_free_port();
	struct sockaddr_in sa = { 0 };
	int idle[8], extra, i;
	static char out[1 << 18];
	bool eof;

	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nmetrics 127.0.0.85:%u\n", mport), NULL),
	    0);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(mport);
	sa.sin_addr.s_addr = htonl(0x7f000055); /* 127.0.0.85 */
	for (i = 0; i < 8; i++) {
		idle[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_eq(connect(idle[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	tu_sleep_ms(100);
	extra = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(extra, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_gt(write(extra, "GET /metrics HTTP/1.1\r\n\r\n", 25), 0);
	ck_assert_uint_eq(read_for(extra, out, sizeof(out), 500, &eof), 0);
	close(idle[0]);
	read_for(extra, out, sizeof(out), 2000, &eof);
	ck_assert_msg(strncmp(out, "HTTP/1.1 200", 12) == 0, "%.100s", out);
	close(extra);
	for (i = 1; i < 8; i++)
		close(idle[i]);
	ck_assert_int_eq(tu_stop(&d), 0);
}
END_TEST

/* ---------------- systemd ---------------- */

static int
notify_socket(const char *path)
{
	struct sockaddr_un sun = { 0 };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* the next datagram within ms, "" if none */
static void
notify_next(int fd, int ms, char *out, size_t cap)
{
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t r;

	out[0] = 0;
	if (poll(&p, 1, ms) <= 0)
		return;
	r = recv(fd, out, cap - 1, 0);
	out[r > 0 ? r : 0] = 0;
}

START_TEST(test_sd_notify)
{
	struct tu_daemon d = { 0 };
	struct tq_opts o = { .timeout_ms = 2000 };
	char path[300], msg[512], hosts[300];
	uint8_t a[512];
	int fd;

	ck_assert_int_eq(tu_mkdir(&d), 0);
	snprintf(path, sizeof(path), "%s/notify", d.dir);
	fd = notify_socket(path);
	ck_assert_int_eq(tu_write(&d, "hosts", "192.0.2.50 myhost.test\n", hosts, sizeof(hosts)),
	    0);
	setenv("NOTIFY_SOCKET", path, 1);
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts %s\n", hosts), NULL), 0);
	unsetenv("NOTIFY_SOCKET");
	notify_next(fd, 3000, msg, sizeof(msg));
	ck_assert_msg(strncmp(msg, "READY=1", 7) == 0, "got '%s'", msg);
	/* ready means answering */
	ck_assert_int_gt(tu_query("127.0.0.1", d.port, "myhost.test", TYPE_A, &o, a, sizeof(a)), 0);
	kill(d.pid, SIGHUP);
	notify_next(fd, 3000, msg, sizeof(msg));
	ck_assert_msg(strncmp(msg, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0, "got '%s'", msg);
	notify_next(fd, 3000, msg, sizeof(msg));
	ck_assert_msg(strncmp(msg, "READY=1", 7) == 0, "got '%s'", msg);
	ck_assert_int_eq(tu_stop(&d), 0);
	notify_next(fd, 3000, msg, sizeof(msg));
	ck_assert_msg(strcmp(msg, "STOPPING=1") == 0, "got '%s'", msg);
	close(fd);
}
END_TEST

/* sockets bound by "systemd" (this test), passed as fds 3 and 4 */
START_TEST(test_socket_activation)
{
	struct tu_daemon d = { 0 };
	struct tq_opts udp = { .timeout_ms = 2000 }, tcp = { .tcp = true, .timeout_ms = 2000 },
	               quick = { .timeout_ms = 300 };
	char hosts[300], conf[300], ctl[300];
	uint16_t port = tu_free_port(), unused = tu_free_port();
	struct sockaddr_in sa = { 0 };
	uint8_t a[512];
	pid_t pid;
	int u, t, on = 1, i;

	ck_assert_int_eq(tu_mkdir(&d), 0);
	ck_assert_int_eq(tu_write(&d, "hosts", "192.0.2.50 myhost.test\n", hosts, sizeof(hosts)),
	    0);
	snprintf(ctl, sizeof(ctl), "%s/ctl.sock", d.dir);
	ck_assert_int_eq(tu_write(&d, "stubd.conf",
	                     tu_fmt("listen 127.0.0.86:%u\ncontrol %s\n"
	                            "hosts %s\n",
	                         unused, ctl, hosts),
	                     conf, sizeof(conf)),
	    0);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	t = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	ck_assert_int_eq(bind(u, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(bind(t, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(t, 16), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char p[32];

		dup2(u, 3);
		dup2(t, 4);
		snprintf(p, sizeof(p), "%ld", (long)getpid());
		setenv("LISTEN_PID", p, 1);
		setenv("LISTEN_FDS", "2", 1);
		/* as root, stay root (see tu_start) */
		execl(getenv("STUBD"), "stubd", "-f", "-c", conf,
		    geteuid() == 0 ? "-u" : (char *)NULL, "root", (char *)NULL);
		_exit(127);
	}
	close(u);
	close(t);
	d.pid = pid;
	for (i = 0; i < 100 &&
	     tu_query("127.0.0.1", port, "myhost.test", TYPE_A, &quick, a, sizeof(a)) <= 0;
	     i++)
		;
	ck_assert_int_gt(tu_query("127.0.0.1", port, "myhost.test", TYPE_A, &udp, a, sizeof(a)), 0);
	ck_assert_int_gt(tu_query("127.0.0.1", port, "myhost.test", TYPE_A, &tcp, a, sizeof(a)), 0);
	/* the listen line is not used */
	ck_assert_int_le(
	    tu_query("127.0.0.86", unused, "myhost.test", TYPE_A, &quick, a, sizeof(a)), 0);
	ck_assert_int_eq(tu_stop(&d), 0);
}
END_TEST

static Suite *
observe_suite(void)
{
	Suite *s = suite_create("observe");
	TCase *q = tcase_create("query"), *m = tcase_create("monitor"),
	      *p = tcase_create("metrics"), *y = tcase_create("systemd");

	tcase_add_test(q, test_query_trace);
	tcase_add_test(q, test_query_trace_servfail);
	tcase_add_test(m, test_monitor_sees_queries);
	tcase_add_test(m, test_monitor_slow_and_stuck);
	tcase_add_test(p, test_metrics_match_stats);
	tcase_add_test(p, test_metrics_connection_limit);
	tcase_add_test(p, test_metrics_lists);
	tcase_add_test(y, test_sd_notify);
	tcase_add_test(y, test_socket_activation);
	tcase_set_timeout(q, 60);
	tcase_set_timeout(m, 120);
	tcase_set_timeout(p, 60);
	tcase_set_timeout(y, 60);
	suite_add_tcase(s, q);
	suite_add_tcase(s, m);
	suite_add_tcase(s, p);
	suite_add_tcase(s, y);
	return s;
}

int
main(void)
{
	char base[64];

	return check_daemon_main(observe_suite(), base, sizeof(base), NULL);
}
