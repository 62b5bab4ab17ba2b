/*
 * check_control.c - control commands and their JSON (without a socket),
 * and the record decoding displaydns uses.
 */
#include "auto-config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "ctlcmd.h"
#include "json.h"
#include "jsonp.h"
#include "rrtext.h"
#include "testutil.h"

struct fix {
	struct cfg *cfg;
	struct cache *cache;
	struct hosts *hosts;
	struct sched *sched;
	struct stats st;
	struct control_view v;
	int reloads, hosts_reloads;
	enum stub_err reload_rc;
};

static enum stub_err
fake_reload(void *arg, char *err, size_t len)
{
	struct fix *f = arg;

	f->reloads++;
	if (f->reload_rc != STUB_OK)
		snprintf(err, len, "test.conf:3: unknown directive 'x'");
	return f->reload_rc;
}

static enum stub_err
fake_link(void *arg, int argc, char **argv, char *err, size_t len)
{
	(void)arg;
	if (argc < 3 || strcmp(argv[2], "bogus") == 0) {
		snprintf(err, len, "unknown link setting");
		return STUB_EINVAL;
	}
	return STUB_OK;
}

static void
fake_hosts_reload(void *arg)
{
	((struct fix *)arg)->hosts_reloads++;
}

static void
put(struct fix *f, const char *name, uint16_t type, struct tu_resp r)
{
	uint8_t qb[512], b[2048];
	size_t ql = tu_build_query(name, type, NULL, qb, sizeof(qb)), l;
	struct msg_query q;
	struct msg_resp *m = malloc(sizeof(*m));
	bool stored;

	ck_assert_int_eq(msg_parse_query(qb, ql, &q), MSG_OK);
	q.hash = cache_hash(f->cache, q.key, q.qlen, q.qtype, q.qclass, q.do_bit, q.cd_bit);
	r.name = name;
	r.qtype = type;
	l = tu_response(&r, b, sizeof(b));
	ck_assert_int_eq(msg_store_prepare(b, l, r.id, q.key, q.qlen, type, CLASS_IN, m), STUB_OK);
	cache_insert(f->cache, &q, b, m, "192.0.2.1:53%lan", 0, &stored);
	ck_assert(stored);
	free(m);
}

static void
setup(struct fix *f)
{
	static const char conf[] = "hosts-ttl 7\nadapter lan\nserver 192.0.2.1\nserver 192.0.2.2\n";
	static const char hosts[] = "192.0.2.50 printer.lan\n";
	struct cache_cfg cc = { .max_entries = 100,
		.max_bytes = 1u << 30,
		.max_ttl = 86400,
		.max_negative_ttl = 900,
		.negative_ttl = 60 };
	struct tu_resp pos = { .id = 1, .nans = 1, .ttl = 300 };
	struct tu_resp nx = { .id = 1,
		.rcode = RCODE_NXDOMAIN,
		.soa = true,
		.soa_ttl = 60,
		.soa_min = 60 };
	struct tu_resp nodata = { .id = 1, .soa = true, .soa_ttl = 60, .soa_min = 60 };

	memset(f, 0, sizeof(*f));
	f->cfg = cfg_new(NULL, NULL);
	cfg_parse_text(f->cfg, conf, strlen(conf), "t");
	cfg_finish(f->cfg, NULL);
	f->cache = cache_new(&cc, 3);
	f->hosts = hosts_parse(hosts, strlen(hosts), 3, NULL, NULL);
	f->sched = sched_new(f->cfg);
	f->st.queries = 5;
	/* SPEC 18: one list and the rule lines of the configuration */
	{
		static char n0[] = "stubd.conf", p0[] = "/etc/stubd.conf", n1[] = "ads.txt",
		            p1[] = "/lists/ads.txt";
		static struct pol_list_stat ls[2] = {
			{ .name = n0,
			    .path = p0,
			    .kind = "rules",
			    .entries = 2,
			    .loaded = true,
			    .c = { .local = 4 } },
			{ .name = n1,
			    .path = p1,
			    .kind = "blocklist",
			    .format = "adblock",
			    .entries = 494000,
			    .unknown = 3,
			    .loaded = true,
			    .c = { 7, 2, 0, 1 } },
		};

		f->st.lists = ls;
		f->st.nlists = 2;
	}
	f->v.cache = f->cache;
	f->v.hosts = f->hosts;
	f->v.sched = f->sched;
	f->v.st = &f->st;
	f->v.cfg = f->cfg;
	f->v.reload = fake_reload;
	f->v.hosts_reload = fake_hosts_reload;
	f->v.link = fake_link;
	f->v.arg = f;
	put(f, "www.example.com", TYPE_A, pos);
	put(f, "nx.example.com", TYPE_A, nx);
	put(f, "v4.example.com", TYPE_AAAA, nodata);
}

static void
teardown(struct fix *f)
{
	sched_free(f->sched);
	hosts_free(f->hosts);
	cache_free(f->cache);
	cfg_unref(f->cfg);
}

static struct jval *
run(struct fix *f, const char *line)
{
	char err[128], *out = control_handle(&f->v, line, NULL, NULL);
	struct jval *v;

	ck_assert_ptr_nonnull(out);
	v = jsonp_parse(out, strlen(out), err, sizeof(err));
	ck_assert_msg(v != NULL, "bad JSON (%s): %s", err, out);
	free(out);
	return v;
}

static const struct jval *
entry(const struct jval *root, const char *name, const char *type)
{
	const struct jval *e = jsonp_get(root, "entries");
	size_t i;

	ck_assert_ptr_nonnull(e);
	for (i = 0; i < e->n; i++)
		if (strcmp(jsonp_get(e->items[i], "name")->str, name) == 0 &&
		    strcmp(jsonp_get(e->items[i], "type")->str, type) == 0)
			return e->items[i];
	return NULL;
}

START_TEST(test_displaydns)
{
	struct fix f;
	struct jval *v;
	const struct jval *e, *r;
	static const char *const keys[] = { "name", "type", "class", "source", "status", "ttl",
		"original_ttl", "stale", "hits", "dnssec_ok", "upstream", "records" };
	size_t i;

	setup(&f);
	v = run(&f, "displaydns");
	e = entry(v, "www.example.com", "A");
	ck_assert_ptr_nonnull(e);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(jsonp_get(e, keys[i]) != NULL, "missing %s", keys[i]);
	ck_assert_str_eq(jsonp_get(e, "source")->str, "cache");
	ck_assert_str_eq(jsonp_get(e, "status")->str, "NOERROR");
	ck_assert_str_eq(jsonp_get(e, "class")->str, "IN");
	ck_assert_str_eq(jsonp_get(e, "upstream")->str, "192.0.2.1:53%lan");
	ck_assert(jsonp_get(e, "original_ttl")->num == 300);
	r = jsonp_get(e, "records");
	ck_assert_uint_eq(r->n, 1);
	ck_assert_str_eq(jsonp_get(r->items[0], "section")->str, "answer");
	ck_assert_str_eq(jsonp_get(r->items[0], "data")->str, "192.0.2.7");
	ck_assert_str_eq(jsonp_get(r->items[0], "type")->str, "A");
	ck_assert_ptr_nonnull(jsonp_get(r->items[0], "ttl"));
	ck_assert_ptr_nonnull(jsonp_get(r->items[0], "name"));
	e = entry(v, "nx.example.com", "A");
	ck_assert_str_eq(jsonp_get(e, "status")->str, "NXDOMAIN");
	r = jsonp_get(e, "records");
	ck_assert_str_eq(jsonp_get(r->items[0], "section")->str, "authority");
	ck_assert_str_eq(jsonp_get(r->items[0], "type")->str, "SOA");
	e = entry(v, "v4.example.com", "AAAA");
	ck_assert_str_eq(jsonp_get(e, "status")->str, "NODATA");
	e = entry(v, "printer.lan", "A");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jsonp_get(e, "source")->str, "hosts");
	/* the same entry as the cache's: every key (dnssec_ok too) */
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(jsonp_get(e, keys[i]) != NULL, "hosts entry: missing %s", keys[i]);
	ck_assert_int_eq(jsonp_get(e, "dnssec_ok")->type, J_BOOL);
	ck_assert(!jsonp_get(e, "dnssec_ok")->b);
	ck_assert_int_eq(jsonp_get(e, "upstream")->type, J_NULL);
	ck_assert(jsonp_get(e, "ttl")->num == 7);
	e = entry(v, "50.2.0.192.in-addr.arpa", "PTR");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jsonp_get(jsonp_get(e, "records")->items[0], "data")->str, "printer.lan");
	jsonp_free(v);
	/* by name */
	v = run(&f, "displaydns NX.example.com");
	ck_assert_uint_eq(jsonp_get(v, "entries")->n, 1);
	jsonp_free(v);
	teardown(&f);
}
END_TEST

START_TEST(test_flushdns)
{
	struct fix f;
	struct jval *v;

	setup(&f);
	v = run(&f, "flushdns --negative");
	ck_assert(jsonp_get(v, "flushed")->num == 2);
	jsonp_free(v);
	ck_assert_int_eq(f.hosts_reloads, 0);
	v = run(&f, "flushdns example.com");
	ck_assert(jsonp_get(v, "flushed")->num == 1);
	jsonp_free(v);
	put(&f, "a.example.org", TYPE_A, (struct tu_resp){ .id = 1, .nans = 1, .ttl = 60 });
	v = run(&f, "flushdns");
	ck_assert(jsonp_get(v, "flushed")->num == 1);
	jsonp_free(v);
	ck_assert_int_eq(f.hosts_reloads, 1);
	ck_assert_uint_eq(cache_count(f.cache), 0);
	teardown(&f);
}
END_TEST

START_TEST(test_stats)
{
	static const char *const keys[] = { "queries", "queries_udp", "queries_tcp",
		"queries_control", "cache_hits", "cache_misses", "negative_hits", "hosts_hits",
		"upstream_queries", "upstream_timeouts", "servfail", "coalesced", "cache_entries",
		"evictions", "uptime" };
	struct fix f;
	struct jval *v;
	size_t i;

	setup(&f);
	v = run(&f, "stats");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct jval *k = jsonp_get(v, keys[i]);

		ck_assert_msg(k && k->type == J_NUM, "missing %s", keys[i]);
	}
	ck_assert(jsonp_get(v, "queries")->num == 5);
	ck_assert(jsonp_get(v, "cache_entries")->num == 3);
	/* SPEC 18: per list, apart from the flat values */
	{
		const struct jval *ls = jsonp_get(v, "lists"), *l;

		ck_assert_ptr_nonnull(ls);
		ck_assert_int_eq(ls->type, J_ARR);
		ck_assert_uint_eq(ls->n, 2);
		l = ls->items[0];
		ck_assert_str_eq(jsonp_get(l, "kind")->str, "rules");
		ck_assert_int_eq(jsonp_get(l, "format")->type, J_NULL);
		ck_assert(jsonp_get(l, "local")->num == 4);
		l = ls->items[1];
		ck_assert_str_eq(jsonp_get(l, "name")->str, "ads.txt");
		ck_assert_str_eq(jsonp_get(l, "file")->str, "/lists/ads.txt");
		ck_assert_str_eq(jsonp_get(l, "kind")->str, "blocklist");
		ck_assert_str_eq(jsonp_get(l, "format")->str, "adblock");
		ck_assert(jsonp_get(l, "entries")->num == 494000);
		ck_assert(jsonp_get(l, "unknown")->num == 3);
		ck_assert_int_eq(jsonp_get(l, "loaded")->type, J_BOOL);
		ck_assert(jsonp_get(l, "blocked")->num == 7);
		ck_assert(jsonp_get(l, "allowed")->num == 2);
		ck_assert(jsonp_get(l, "local")->num == 0);
		ck_assert(jsonp_get(l, "rebind")->num == 1);
	}
	jsonp_free(v);
	/* without a policy table: an empty array, the flat values unchanged */
	f.st.lists = NULL;
	f.st.nlists = 0;
	v = run(&f, "stats");
	ck_assert_uint_eq(jsonp_get(v, "lists")->n, 0);
	ck_assert(jsonp_get(v, "queries")->num == 5);
	jsonp_free(v);
	teardown(&f);
}
END_TEST

START_TEST(test_servers)
{
	struct fix f;
	struct jval *v;
	const struct jval *a, *s;

	setup(&f);
	f.sched->servers[1].excluded_until = UINT64_MAX / 2;
	f.sched->servers[0].has_rtt = true;
	f.sched->servers[0].srtt_ms = 12.5;
	v = run(&f, "servers");
	a = jsonp_get(v, "adapters");
	ck_assert_uint_eq(a->n, 1);
	ck_assert_str_eq(jsonp_get(a->items[0], "name")->str, "lan");
	ck_assert_int_eq(jsonp_get(a->items[0], "excluded")->type, J_BOOL);
	ck_assert_ptr_nonnull(jsonp_get(a->items[0], "excluded_for"));
	s = jsonp_get(a->items[0], "servers");
	ck_assert_uint_eq(s->n, 2);
	ck_assert_str_eq(jsonp_get(s->items[0], "address")->str, "192.0.2.1:53");
	ck_assert_str_eq(jsonp_get(s->items[0], "priority")->str, "normal");
	ck_assert(jsonp_get(s->items[0], "srtt_ms")->num == 12.5);
	ck_assert(jsonp_get(s->items[0], "rtt_measured")->b);
	ck_assert_int_eq(jsonp_get(s->items[1], "srtt_ms")->type, J_NUM);
	ck_assert(!jsonp_get(s->items[1], "rtt_measured")->b);
	ck_assert(!jsonp_get(s->items[0], "excluded")->b);
	ck_assert(jsonp_get(s->items[1], "excluded")->b);
	ck_assert(jsonp_get(s->items[1], "excluded_for")->num > 0);
	ck_assert_ptr_nonnull(jsonp_get(s->items[1], "queries"));
	ck_assert_ptr_nonnull(jsonp_get(s->items[1], "answers"));
	ck_assert_ptr_nonnull(jsonp_get(s->items[1], "timeouts"));
	jsonp_free(v);
	teardown(&f);
}
END_TEST

START_TEST(test_reload_and_errors)
{
	struct fix f;
	struct jval *v;

	setup(&f);
	v = run(&f, "reload");
	ck_assert_ptr_null(jsonp_get(v, "error"));
	jsonp_free(v);
	f.reload_rc = STUB_EFORMAT;
	v = run(&f, "reload");
	ck_assert_ptr_nonnull(strstr(jsonp_get(v, "error")->str, "test.conf:3:"));
	jsonp_free(v);
	ck_assert_int_eq(f.reloads, 2);
	v = run(&f, "frobnicate");
	ck_assert_ptr_nonnull(strstr(jsonp_get(v, "error")->str, "unknown command"));
	jsonp_free(v);
	v = run(&f, "");
	ck_assert_ptr_nonnull(jsonp_get(v, "error"));
	jsonp_free(v);
	v = run(&f, "stats extra");
	ck_assert_ptr_nonnull(jsonp_get(v, "error"));
	jsonp_free(v);
	v = run(&f, "flushdns a..b");
	ck_assert_ptr_nonnull(jsonp_get(v, "error"));
	jsonp_free(v);
	teardown(&f);
}
END_TEST

START_TEST(test_long_line)
{
	struct fix f;
	char line[3000];
	struct jval *v;

	setup(&f);
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	v = run(&f, line);
	ck_assert_ptr_nonnull(jsonp_get(v, "error"));
	jsonp_free(v);
	teardown(&f);
}
END_TEST

/* rdata decoding */
static void
rd(uint16_t type, const uint8_t *rdata, size_t len, const char *want)
{
	uint8_t msg[600];
	char out[1024];

	memset(msg, 0, 12);
	memcpy(msg + 12, rdata, len);
	ck_assert_int_eq(rrtext_rdata(msg, 12 + len, type, 12, (uint16_t)len, out, sizeof(out)), 0);
	ck_assert_str_eq(out, want);
}

START_TEST(test_rrtext)
{
	static const uint8_t a[] = { 192, 0, 2, 1 };
	static const uint8_t aaaa[] = { 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t cname[] = { 3, 'w', 'w', 'w', 1, 'x', 0 };
	static const uint8_t mx[] = { 0, 10, 4, 'm', 'a', 'i', 'l', 1, 'x', 0 };
	static const uint8_t srv[] = { 0, 1, 0, 5, 0x13, 0xc4, 3, 's', 'i', 'p', 0 };
	static const uint8_t txt[] = { 5, 'h', 'e', '"', 'l', 'o', 2, 'h', 'i' };
	static const uint8_t soa[] = { 2, 'n', 's', 0, 1, 'h', 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
		3, 0, 0, 0, 4, 0, 0, 0, 5 };
	static const uint8_t unk[] = { 0xde, 0xad };

	rd(TYPE_A, a, sizeof(a), "192.0.2.1");
	rd(TYPE_AAAA, aaaa, sizeof(aaaa), "2001:db8::1");
	rd(TYPE_CNAME, cname, sizeof(cname), "www.x");
	rd(TYPE_PTR, cname, sizeof(cname), "www.x");
	rd(TYPE_NS, cname, sizeof(cname), "www.x");
	rd(TYPE_MX, mx, sizeof(mx), "10 mail.x");
	rd(TYPE_SRV, srv, sizeof(srv), "1 5 5060 sip");
	rd(TYPE_TXT, txt, sizeof(txt), "\"he\\\"lo\" \"hi\"");
	rd(TYPE_SOA, soa, sizeof(soa), "ns h 1 2 3 4 5");
	rd(99, unk, sizeof(unk), "\\# 2 dead");
	rd(99, unk, 0, "\\# 0");
	/* malformed known types fall back to the generic form */
	rd(TYPE_A, unk, sizeof(unk), "\\# 2 dead");
	rd(TYPE_MX, unk, sizeof(unk), "\\# 2 dead");
}
END_TEST

/* displaydns written in many parts joins into one valid document with every
 * entry once, also when the hosts file is replaced halfway. */
START_TEST(test_displaydns_parts)
{
	struct fix f;
	struct tu_resp pos = { .id = 1, .nans = 1, .ttl = 300 };
	char name[64], err[128], *text;
	struct jval *v;
	const struct jval *e;
	struct ctl_stream *st;
	char *doc, *part;
	size_t i, n, len, total = 0, parts = 0;
	bool done = false;
	struct json big;

	setup(&f);
	{
		struct cache_cfg cc = { .max_entries = 5000,
			.max_bytes = 1u << 30,
			.max_ttl = 86400,
			.max_negative_ttl = 900,
			.negative_ttl = 60 };

		cache_set_cfg(f.cache, &cc, 0);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "n%zu.example", i);
		put(&f, name, TYPE_A, pos);
	}
	/* joined: 1003 cache entries + the hosts name and its PTR */
	text = control_handle(&f.v, "displaydns", NULL, NULL);
	v = jsonp_parse(text, strlen(text), err, sizeof(err));
	ck_assert_msg(v != NULL, "%s", err);
	e = jsonp_get(v, CTL_K_ENTRIES);
	ck_assert_uint_eq(e->n, 1003 + 2);
	jsonp_free(v);
	free(text);
	/* by hand: the hosts snapshot replaced after the first part */
	control_start(&f.v, "displaydns", &doc, &st, NULL, NULL);
	ck_assert_ptr_null(doc);
	ck_assert_ptr_nonnull(st);
	json_init(&big);
	while (!done) {
		part = ctl_stream_next(st, &f.v, 0, &len, &done);
		ck_assert_ptr_nonnull(part);
		ck_assert_uint_eq(strlen(part), len);
		total += len;
		parts++;
		big.buf = realloc(big.buf, total + 1);
		memcpy(big.buf + total - len, part, len + 1);
		free(part);
		f.v.hosts_gen++;
	}
	ctl_stream_free(st);
	ck_assert_uint_ge(parts, 4);
	v = jsonp_parse(big.buf, total, err, sizeof(err));
	ck_assert_msg(v != NULL, "%s", err);
	n = jsonp_get(v, CTL_K_ENTRIES)->n;
	ck_assert_uint_ge(n, 1003);
	ck_assert_uint_le(n, 1005);
	jsonp_free(v);
	free(big.buf);
	teardown(&f);
}
END_TEST

/* does the answer carry key anywhere (objects inside arrays included)? */
static bool
has_key(const struct jval *v, const char *key)
{
	size_t i;

	if (!v)
		return false;
	if (v->type == J_OBJ)
		for (i = 0; i < v->n; i++)
			if (strcmp(v->keys[i], key) == 0 || has_key(v->items[i], key))
				return true;
	if (v->type == J_ARR)
		for (i = 0; i < v->n; i++)
			if (has_key(v->items[i], key))
				return true;
	return false;
}

/* The protocol table (stubd/ctl.h) is what the daemon answers and what
 * stubctl(8) documents. */
/*
 * query and monitor are answered by the socket side with the daemon:
 * control_start says so, and the answers are made by ctl_query_json and
 * ctl_monitor_json, tried here on an answer with a traced search.
 */
static char *
later_answer(struct fix *f, const struct ctl_command *c, enum ctl_access *access)
{
	uint8_t q[512], a[1500];
	struct tq_opts o = { .id = 5 };
	struct tu_resp r = { .id = 5,
		.name = "www.example.com",
		.qtype = TYPE_A,
		.nans = 1,
		.ttl = 300 };
	size_t ql = tu_build_query("www.example.com", TYPE_A, &o, q, sizeof(q));
	size_t al = tu_response(&r, a, sizeof(a));
	struct msg_query mq;
	static struct up_trace tr;
	struct reply_info ri;
	struct ctl_later later;
	struct ctl_stream *st;
	struct sockaddr_in sin;
	char *doc;

	control_start(&f->v, c->id == CTL_CMD_QUERY ? "query www.example.com AAAA" : "monitor",
	    &doc, &st, access, &later);
	ck_assert_ptr_null(doc);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(later.kind, c->id == CTL_CMD_QUERY ? CTL_LATER_QUERY : CTL_LATER_MONITOR);
	if (c->id == CTL_CMD_QUERY)
		ck_assert_uint_eq(later.qtype, TYPE_AAAA);
	/* without a socket side they are refused */
	doc = control_handle(&f->v, c->name, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(doc, "\"error\""));
	free(doc);
	ck_assert_int_eq(msg_parse_query(q, ql, &mq), MSG_OK);
	memset(&tr, 0, sizeof(tr));
	tr.n = 2;
	snprintf(tr.ev[0].adapter, sizeof(tr.ev[0].adapter), "lan");
	snprintf(tr.ev[0].server, sizeof(tr.ev[0].server), "192.0.2.1:53");
	snprintf(tr.ev[0].transport, sizeof(tr.ev[0].transport), "udp");
	tr.ev[0].result = TR_TIMEOUT;
	tr.ev[0].at_ms = 1000;
	tr.ev[1] = tr.ev[0];
	tr.ev[1].phase = 1;
	tr.ev[1].sent_ms = 1000;
	tr.ev[1].result = TR_ANSWER;
	tr.ev[1].at_ms = 1012;
	ri.source = SRC_UPSTREAM;
	ri.q = &mq;
	ri.received = 5000;
	ri.answered = 6012;
	ri.trace = &tr;
	ri.rule = NULL;
	if (c->id == CTL_CMD_QUERY) {
		doc = ctl_query_json(a, al, &ri);
		ck_assert_ptr_nonnull(strstr(doc, "\"result\":\"timeout\",\"at_ms\":1000"));
		ck_assert_ptr_nonnull(strstr(doc, "\"ms\":1012"));
		ck_assert_ptr_nonnull(strstr(doc, "\"data\":\"192.0.2.7\""));
		return doc;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5353);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	doc = ctl_monitor_json(&ri, (const struct sockaddr *)&sin, a, al, 1796169701123ull);
	ck_assert_ptr_nonnull(strstr(doc, "\"client\":\"127.0.0.1:5353\""));
	ck_assert_ptr_nonnull(strstr(doc, ".123Z\""));
	ck_assert_ptr_nonnull(strstr(doc, "\"source\":\"upstream\""));
	return doc;
}

START_TEST(test_protocol_table)
{
	char *man = tu_srcfile("man/stubctl.8.in");
	size_t i;
	const char *const *k;

	ck_assert_ptr_nonnull(man);
	for (i = 0; i < CTL_NCMDS; i++) {
		const struct ctl_command *c = &ctl_commands[i];
		char line[80];
		struct fix f;
		struct jval *v;
		enum ctl_access access;
		char *out;

		ck_assert_int_eq(c->id, (int)i);
		ck_assert_ptr_eq(ctl_command_find(c->name), c);
		snprintf(line, sizeof(line), ".It Cm %s", c->name);
		ck_assert_msg(tu_has_line(man, line), "stubctl.8 lacks the command %s", c->name);
		snprintf(line, sizeof(line), ".It %s", c->name);
		ck_assert_msg(tu_has_line(man, line), "stubctl.8 lacks the answer of %s", c->name);
		setup(&f);
		if (c->id == CTL_CMD_QUERY || c->id == CTL_CMD_MONITOR)
			out = later_answer(&f, c, &access);
		else
			out = control_handle(&f.v,
			    c->id == CTL_CMD_LINK ? "link lo revert" : c->name, NULL, &access);
		ck_assert_ptr_nonnull(out);
		ck_assert_int_eq(access, c->access);
		v = jsonp_parse(out, strlen(out), line, sizeof(line));
		ck_assert_ptr_nonnull(v);
		ck_assert_msg(!has_key(v, CTL_K_ERROR), "%s: %s", c->name, out);
		for (k = c->keys; *k; k++) {
			char quoted[64];

			ck_assert_msg(has_key(v, *k), "%s answers without '%s': %s", c->name, *k,
			    out);
			snprintf(quoted, sizeof(quoted), "\"%s\"", *k);
			ck_assert_msg(strstr(man, quoted) != NULL,
			    "stubctl.8 lacks the key %s of %s", *k, c->name);
		}
		jsonp_free(v);
		free(out);
		teardown(&f);
	}
	free(man);
}
END_TEST

static Suite *
control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *b = tcase_create("basic"), *m = tcase_create("misuse");

	tcase_add_test(b, test_displaydns);
	tcase_add_test(b, test_flushdns);
	tcase_add_test(b, test_stats);
	tcase_add_test(b, test_servers);
	tcase_add_test(b, test_rrtext);
	tcase_add_test(b, test_protocol_table);
	tcase_add_test(b, test_displaydns_parts);
	tcase_add_test(m, test_reload_and_errors);
	tcase_add_test(m, test_long_line);
	suite_add_tcase(s, b);
	suite_add_tcase(s, m);
	return s;
}

int
main(void)
{
	return check_main(control_suite());
}
