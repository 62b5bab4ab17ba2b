/*
 * check_resolve.c - the query pipeline without a daemon: a fake upstream
 * behind the seam of search.h, a fake clock, replies captured in memory.
 * Coalescing, the serve-stale deadline, max-inflight, SERVFAIL fan-out,
 * ACL, hosts and cancellation, each on its own.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "polcfg.h"
#include "resolve.h"
#include "testutil.h"

/* ---------------- fake upstream ---------------- */

#define MAX_SEARCHES 16

struct up_search {
	struct msg_query q;
	uint32_t slow_ms;
	uint64_t started;
	up_cb cb;
	void *arg;
	bool active;
	bool cancelled;
	bool trace;    /* asked to record its packets */
	unsigned need; /* SPEC 18: what its rule needs (enum up_need) */
};

struct fake_up {
	struct up_search s[MAX_SEARCHES];
	size_t n;
	bool fail_start;        /* search() returns NULL */
	bool private_ok;        /* may_ask_private() says yes */
	unsigned private_asked; /* may_ask_private() calls */
};

static struct up_search *
fake_search(void *impl, const struct msg_query *q, uint32_t slow_ms, bool trace, unsigned need,
    uint64_t now, up_cb cb, void *arg)
{
	struct fake_up *u = impl;
	struct up_search *s;

	if (u->fail_start || u->n == MAX_SEARCHES)
		return NULL;
	s = &u->s[u->n++];
	memset(s, 0, sizeof(*s));
	s->q = *q;
	s->slow_ms = slow_ms;
	s->trace = trace;
	s->need = need;
	s->started = now;
	s->cb = cb;
	s->arg = arg;
	s->active = true;
	return s;
}

static void
fake_cancel(void *impl, struct up_search *s)
{
	(void)impl;
	ck_assert(s->active);
	s->active = false;
	s->cancelled = true;
}

static bool
fake_may_ask_private(void *impl, const uint8_t *qname, size_t qlen)
{
	struct fake_up *u = impl;

	(void)qname;
	(void)qlen;
	u->private_asked++;
	return u->private_ok;
}

static const struct upstream_ops fake_ops = { fake_search, fake_cancel, fake_may_ask_private };

/* the response an upstream would send for search s */
struct answer {
	uint8_t buf[2048];
	struct msg_resp resp;
};

static void
make_answer(const struct up_search *s, struct tu_resp r, struct answer *a)
{
	char name[WIRE_NAME_TEXT];
	size_t l;

	ck_assert(wire_name_to_text(s->q.key, s->q.qlen, name, sizeof(name)));
	r.name = name;
	r.qtype = s->q.qtype;
	r.id = 77;
	l = tu_response(&r, a->buf, sizeof(a->buf));
	ck_assert_uint_gt(l, 0);
	ck_assert_int_eq(msg_store_prepare(a->buf, l, 77, s->q.key, s->q.qlen, s->q.qtype,
	                     s->q.qclass, &a->resp),
	    STUB_OK);
}

/* the final outcome of search s at time now */
static void
finish(struct up_search *s, enum up_kind kind, bool cacheable, const struct tu_resp *r,
    uint64_t now)
{
	struct answer a;
	struct up_result res = { .kind = kind, .cacheable = cacheable, .now = now };

	ck_assert(s->active);
	if (r) {
		make_answer(s, *r, &a);
		res.msg = a.buf;
		res.resp = &a.resp;
		res.label = "192.0.2.1:53%lan";
	}
	s->active = false;
	s->cb(s->arg, &res);
}

static void
slow(struct up_search *s, uint64_t now)
{
	struct up_result res = { .kind = UP_SLOW, .now = now };

	ck_assert(s->active);
	s->cb(s->arg, &res);
}

/* ---------------- captured replies ---------------- */

#define MAX_REPLIES 64

struct reply {
	uint8_t buf[MSG_MAX];
	size_t len;
	int client; /* which client_ref (its fd) */
	enum answer_source source;
	uint64_t received, answered;
	bool has_q;
	char rule[128]; /* reply_info.rule, "" for none */
};

struct io {
	struct reply r[MAX_REPLIES];
	size_t n;
};

static void
capture(void *arg, const struct client_ref *ref, const uint8_t *buf, size_t len,
    const struct reply_info *ri)
{
	struct io *io = arg;
	struct reply *r;

	ck_assert_uint_lt(io->n, MAX_REPLIES);
	r = &io->r[io->n++];
	if (len)
		memcpy(r->buf, buf, len); /* len 0: dropped, buf may be NULL */
	r->len = len;
	r->client = ref->fd;
	ck_assert_ptr_nonnull(ri);
	r->source = ri->source;
	r->received = ri->received;
	r->answered = ri->answered;
	r->has_q = ri->q != NULL;
	snprintf(r->rule, sizeof(r->rule), "%s", ri->rule ? ri->rule : "");
}

/* ---------------- the pipeline under test ---------------- */

struct rig {
	struct cfg *cfg;
	struct cache *cache;
	struct stats st;
	struct fake_up up;
	struct io io;
	struct resolver *r;
};

static void
rig_init(struct rig *g, const char *conf)
{
	struct cache_cfg cc;

	memset(g, 0, sizeof(*g));
	g->cfg = cfg_new(NULL, NULL);
	ck_assert_ptr_nonnull(g->cfg);
	ck_assert_uint_eq(cfg_parse_text(g->cfg, conf, strlen(conf), "test.conf"), 0);
	ck_assert_uint_eq(cfg_finish(g->cfg, NULL), 0);
	cc = cache_cfg_from(g->cfg);
	g->cache = cache_new(&cc, 42);
	ck_assert_ptr_nonnull(g->cache);
	g->r = resolver_new(g->cfg, g->cache, &g->st, capture, &g->io);
	ck_assert_ptr_nonnull(g->r);
	resolver_set_upstream(g->r, (struct upstream_if){ &fake_ops, &g->up });
}

static void
rig_fini(struct rig *g)
{
	resolver_free(g->r);
	cache_free(g->cache);
	cfg_unref(g->cfg);
}

/* client number `client` (from 127.0.0.1, or from addr) asks name/type */
static void
ask_from(struct rig *g, const char *addr, int client, const char *name, uint16_t type, uint16_t id,
    uint64_t now)
{
	uint8_t b[512];
	struct tq_opts o = { .id = id };
	size_t l = tu_build_query(name, type, &o, b, sizeof(b));
	struct client_ref ref;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ref.peer;

	memset(&ref, 0, sizeof(ref));
	ref.fd = client;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)(40000 + client));
	ck_assert_int_eq(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
	ref.peerlen = sizeof(*sin);
	resolver_query(g->r, b, l, &ref, false, now);
}

static void
ask(struct rig *g, int client, const char *name, uint16_t type, uint16_t id, uint64_t now)
{
	ask_from(g, "127.0.0.1", client, name, type, id, now);
}

static const struct reply *
find_reply(const struct rig *g, int client)
{
	size_t i;

	for (i = 0; i < g->io.n; i++)
		if (g->io.r[i].client == client)
			return &g->io.r[i];
	return NULL;
}

static bool
answered(const struct rig *g, int client)
{
	return find_reply(g, client) != NULL;
}

/* the reply to client (which must have one) */
static const struct reply *
reply_of(const struct rig *g, int client)
{
	static const struct reply none;
	const struct reply *r = find_reply(g, client);

	ck_assert_msg(r != NULL, "client %d got no reply", client);
	return r ? r : &none;
}

static struct tu_resp
positive(uint32_t ttl)
{
	struct tu_resp r = { .nans = 1, .ttl = ttl };

	return r;
}

/* ---------------- tests ---------------- */

START_TEST(test_coalescing)
{
	struct rig g;
	struct tu_resp p = positive(300);
	const struct reply *a, *b;
	char data[64];

	rig_init(&g, "");
	ask(&g, 1, "www.example.com", TYPE_A, 0x1111, 1000);
	ask(&g, 2, "WWW.Example.com", TYPE_A, 0x2222, 1100);
	ck_assert_uint_eq(g.up.n, 1);            /* one search for both */
	ck_assert_uint_eq(g.up.s[0].slow_ms, 0); /* nothing stale to serve */
	ck_assert_uint_eq(g.io.n, 0);
	ck_assert_uint_eq(g.st.cache_misses, 2);
	ck_assert_uint_eq(g.st.coalesced, 1);
	ck_assert_uint_eq(resolver_inflight(g.r), 1);
	finish(&g.up.s[0], UP_POSITIVE, true, &p, 1200);
	ck_assert_uint_eq(g.io.n, 2);
	a = reply_of(&g, 1);
	b = reply_of(&g, 2);
	ck_assert_uint_eq(tu_id(a->buf, a->len), 0x1111);
	ck_assert_uint_eq(tu_id(b->buf, b->len), 0x2222);
	/* what each reply is told: source and times (SPEC 15) */
	ck_assert_int_eq(a->source, SRC_UPSTREAM);
	ck_assert_int_eq(b->source, SRC_COALESCED);
	ck_assert_uint_eq(a->received, 1000);
	ck_assert_uint_eq(b->received, 1100);
	ck_assert_uint_eq(b->answered, 1200);
	ck_assert(a->has_q);
	ck_assert_uint_eq(tu_rcode(b->buf, b->len), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(b->buf, b->len), 1);
	/* each client gets its own spelling back (0x20 preserved) */
	ck_assert_int_eq(memcmp(b->buf + WIRE_HDR_LEN, "\3WWW\7Example\3com", 17), 0);
	tu_first_data(a->buf, a->len, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.7");
	ck_assert_uint_eq(resolver_inflight(g.r), 0);
	/* the third asker is served from the cache, TTL lowered by 10 s */
	ask(&g, 3, "www.example.com", TYPE_A, 0x3333, 11200);
	ck_assert_uint_eq(g.up.n, 1);
	ck_assert_uint_eq(g.st.cache_hits, 1);
	a = reply_of(&g, 3);
	ck_assert_int_eq(tu_first_ttl(a->buf, a->len), 290);
	ck_assert_int_eq(a->source, SRC_CACHE);
	ck_assert_uint_eq(a->answered - a->received, 0);
	ck_assert(!g.up.s[0].trace);
	rig_fini(&g);
}
END_TEST

/* a control query (stubctl query) is traced, not subject to allow, and
 * answered without the UDP size limit */
START_TEST(test_control_query_traced)
{
	struct rig g;
	struct tu_resp p = positive(300);
	uint8_t b[512];
	struct tq_opts o = { .id = 7 };
	size_t l = tu_build_query("www.example.com", TYPE_A, &o, b, sizeof(b));
	struct client_ref ref;
	const struct reply *a;

	rig_init(&g, "allow 192.0.2.0/24\n");
	memset(&ref, 0, sizeof(ref));
	ref.fd = 9;
	ref.ctl = 42;
	ref.trace = true;
	resolver_query(g.r, b, l, &ref, false, 1000);
	ck_assert_uint_eq(g.up.n, 1);
	ck_assert(g.up.s[0].trace);
	finish(&g.up.s[0], UP_POSITIVE, true, &p, 1050);
	a = reply_of(&g, 9);
	ck_assert_uint_eq(tu_rcode(a->buf, a->len), RCODE_NOERROR);
	ck_assert_int_eq(a->source, SRC_UPSTREAM);
	/* a plain client from outside allow is refused, said to be local */
	ask(&g, 3, "www.example.com", TYPE_A, 0x3333, 1100);
	a = reply_of(&g, 3);
	ck_assert_uint_eq(tu_rcode(a->buf, a->len), RCODE_REFUSED);
	ck_assert_int_eq(a->source, SRC_LOCAL);
	rig_fini(&g);
}
END_TEST

START_TEST(test_different_questions_not_coalesced)
{
	struct rig g;

	rig_init(&g, "");
	ask(&g, 1, "a.example", TYPE_A, 1, 0);
	ask(&g, 2, "a.example", TYPE_AAAA, 2, 0);
	ask(&g, 3, "b.example", TYPE_A, 3, 0);
	ck_assert_uint_eq(g.up.n, 3);
	ck_assert_uint_eq(g.st.coalesced, 0);
	rig_fini(&g); /* cancels the three searches */
	ck_assert(g.up.s[0].cancelled && g.up.s[1].cancelled && g.up.s[2].cancelled);
}
END_TEST

START_TEST(test_servfail_fanout)
{
	struct rig g;
	int i;

	rig_init(&g, "");
	for (i = 1; i <= 3; i++)
		ask(&g, i, "dead.example", TYPE_A, (uint16_t)i, 0);
	ck_assert_uint_eq(g.up.n, 1);
	finish(&g.up.s[0], UP_FAIL, false, NULL, 17000);
	ck_assert_uint_eq(g.io.n, 3);
	for (i = 1; i <= 3; i++) {
		const struct reply *r = reply_of(&g, i);

		ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_SERVFAIL);
		ck_assert_uint_eq(tu_id(r->buf, r->len), (unsigned)i);
	}
	ck_assert_uint_eq(g.st.servfail, 3);
	/* nothing cached: the next asker starts a new search */
	ask(&g, 4, "dead.example", TYPE_A, 4, 17001);
	ck_assert_uint_eq(g.up.n, 2);
	rig_fini(&g);
}
END_TEST

START_TEST(test_negative_uncacheable_relayed_not_cached)
{
	struct rig g;
	struct tu_resp nx = { .rcode = RCODE_NXDOMAIN,
		.soa = true,
		.soa_ttl = 300,
		.soa_min = 300 };
	const struct reply *r;

	rig_init(&g, "");
	ask(&g, 1, "nx.example", TYPE_A, 1, 0);
	/* one adapter said NXDOMAIN, the rest stayed silent */
	finish(&g.up.s[0], UP_NEGATIVE, false, &nx, 5000);
	r = reply_of(&g, 1);
	ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_NXDOMAIN);
	ask(&g, 2, "nx.example", TYPE_A, 2, 6000);
	ck_assert_uint_eq(g.up.n, 2);
	/* every adapter agreed: cached */
	finish(&g.up.s[1], UP_NEGATIVE, true, &nx, 6100);
	ask(&g, 3, "nx.example", TYPE_A, 3, 7000);
	ck_assert_uint_eq(g.up.n, 2);
	ck_assert_uint_eq(g.st.negative_hits, 1);
	r = reply_of(&g, 3);
	ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_NXDOMAIN);
	rig_fini(&g);
}
END_TEST

/* fill the cache with name (TTL 10 s at t=0), then let it go stale */
static void
cached_then_stale(struct rig *g)
{
	struct tu_resp p = positive(10);

	ask(g, 1, "stale.example", TYPE_A, 1, 0);
	finish(&g->up.s[0], UP_POSITIVE, true, &p, 0);
	ck_assert_uint_eq(g->io.n, 1);
}

START_TEST(test_serve_stale_deadline)
{
	struct rig g;
	struct tu_resp p = positive(600);
	const struct reply *r;

	rig_init(&g, "serve-stale 3600\n");
	cached_then_stale(&g);
	/* expired at 10 s: a search starts, with the 1.8 s stale deadline */
	ask(&g, 2, "stale.example", TYPE_A, 2, 20000);
	ck_assert_uint_eq(g.up.n, 2);
	ck_assert_uint_eq(g.up.s[1].slow_ms, 1800);
	ck_assert(!answered(&g, 2));
	/* a second client joins before the deadline: it waits too */
	ask(&g, 3, "stale.example", TYPE_A, 3, 21000);
	ck_assert(!answered(&g, 3));
	ck_assert_uint_eq(g.st.coalesced, 1);
	/* the deadline: both get the stale copy, TTL 30 (RFC 8767) */
	slow(&g.up.s[1], 21800);
	r = reply_of(&g, 2);
	ck_assert_int_eq(tu_first_ttl(r->buf, r->len), 30);
	ck_assert(answered(&g, 3));
	ck_assert_uint_eq(g.st.stale_served, 2);
	/* after the deadline a newcomer gets the stale copy at once */
	ask(&g, 4, "stale.example", TYPE_A, 4, 22000);
	r = reply_of(&g, 4);
	ck_assert_int_eq(tu_first_ttl(r->buf, r->len), 30);
	ck_assert_uint_eq(g.up.n, 2);
	/* the search goes on and refreshes the cache; nobody is answered twice */
	finish(&g.up.s[1], UP_POSITIVE, true, &p, 23000);
	ck_assert_uint_eq(g.io.n, 4);
	ask(&g, 5, "stale.example", TYPE_A, 5, 24000);
	r = reply_of(&g, 5);
	ck_assert_int_eq(tu_first_ttl(r->buf, r->len), 599);
	ck_assert_uint_eq(g.up.n, 2);
	rig_fini(&g);
}
END_TEST

START_TEST(test_serve_stale_on_failure)
{
	struct rig g;
	const struct reply *r;

	rig_init(&g, "serve-stale 3600\n");
	cached_then_stale(&g);
	ask(&g, 2, "stale.example", TYPE_A, 2, 20000);
	/* the search fails before the deadline: stale beats SERVFAIL */
	finish(&g.up.s[1], UP_FAIL, false, NULL, 21000);
	r = reply_of(&g, 2);
	ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_NOERROR);
	ck_assert_int_eq(tu_first_ttl(r->buf, r->len), 30);
	ck_assert_uint_eq(g.st.servfail, 0);
	rig_fini(&g);
}
END_TEST

START_TEST(test_no_stale_without_serve_stale)
{
	struct rig g;

	rig_init(&g, "");
	cached_then_stale(&g);
	ask(&g, 2, "stale.example", TYPE_A, 2, 20000);
	ck_assert_uint_eq(g.up.s[1].slow_ms, 0);
	finish(&g.up.s[1], UP_FAIL, false, NULL, 21000);
	ck_assert_uint_eq(tu_rcode(reply_of(&g, 2)->buf, reply_of(&g, 2)->len), RCODE_SERVFAIL);
	rig_fini(&g);
}
END_TEST

START_TEST(test_max_inflight)
{
	struct rig g;
	const struct reply *r;

	rig_init(&g, "max-inflight 2\n");
	ask(&g, 1, "one.example", TYPE_A, 1, 0);
	ask(&g, 2, "two.example", TYPE_A, 2, 0);
	ask(&g, 3, "three.example", TYPE_A, 3, 0);
	ck_assert_uint_eq(g.up.n, 2);
	r = reply_of(&g, 3);
	ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_REFUSED);
	ck_assert_uint_eq(g.st.refused, 1);
	/* an identical question still joins the search under way */
	ask(&g, 4, "one.example", TYPE_A, 4, 0);
	ck_assert(!answered(&g, 4));
	ck_assert_uint_eq(g.st.coalesced, 1);
	/* room again once a search ends */
	finish(&g.up.s[1], UP_FAIL, false, NULL, 100);
	ask(&g, 5, "three.example", TYPE_A, 5, 200);
	ck_assert_uint_eq(g.up.n, 3);
	rig_fini(&g);
}
END_TEST

START_TEST(test_acl)
{
	struct rig g;
	const struct reply *r;

	rig_init(&g, "allow 127.0.0.0/8\nallow 192.0.2.0/25\n");
	ask_from(&g, "192.0.2.200", 1, "www.example.com", TYPE_A, 1, 0);
	r = reply_of(&g, 1);
	ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_REFUSED);
	ck_assert_uint_eq(g.up.n, 0);
	ask_from(&g, "192.0.2.100", 2, "www.example.com", TYPE_A, 2, 0);
	ck_assert(!answered(&g, 2));
	ck_assert_uint_eq(g.up.n, 1);
	ck_assert_uint_eq(g.st.refused, 1);
	rig_fini(&g);
}
END_TEST

START_TEST(test_hosts_before_cache_and_upstream)
{
	struct rig g;
	static const char text[] = "192.0.2.50 printer.lan printer\n";
	struct hosts *h;
	const struct reply *r;
	char data[64];

	rig_init(&g, "");
	h = hosts_parse(text, sizeof(text) - 1, cache_seed(g.cache), NULL, NULL);
	ck_assert_ptr_nonnull(h);
	resolver_set_hosts(g.r, h);
	ask(&g, 1, "PRINTER.lan", TYPE_A, 1, 0);
	r = reply_of(&g, 1);
	tu_first_data(r->buf, r->len, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.50");
	/* the family it has no address of: NODATA, not an upstream query */
	ask(&g, 2, "printer", TYPE_AAAA, 2, 0);
	r = reply_of(&g, 2);
	ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(r->buf, r->len), 0);
	ck_assert_uint_eq(g.up.n, 0);
	ck_assert_uint_eq(g.st.hosts_hits, 2);
	resolver_set_hosts(g.r, NULL);
	hosts_free(h);
	rig_fini(&g);
}
END_TEST

/* a client asks name/type with CD (cd) and DO (do_bit) as given */
static void
ask_flags(struct rig *g, int client, const char *name, uint16_t type, bool cd, bool do_bit,
    uint64_t now)
{
	uint8_t b[512];
	struct tq_opts o = { .id = (uint16_t)client, .edns = do_bit, .do_bit = do_bit };
	size_t l = tu_build_query(name, type, &o, b, sizeof(b));
	struct client_ref ref;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ref.peer;

	if (cd)
		b[3] |= 0x10;
	memset(&ref, 0, sizeof(ref));
	ref.fd = client;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x7f000001);
	ref.peerlen = sizeof(*sin);
	resolver_query(g->r, b, l, &ref, false, now);
}

/* CD=1 and CD=0 share neither a search nor a cache entry; each answer
 * carries its client's CD (issue 20, bug 1) */
START_TEST(test_cd_not_shared)
{
	struct rig g;
	struct tu_resp p = positive(300);
	const struct reply *a;

	rig_init(&g, "");
	ask_flags(&g, 1, "bogus.example", TYPE_A, true, false, 0);
	ask_flags(&g, 2, "bogus.example", TYPE_A, false, false, 10);
	ck_assert_uint_eq(g.up.n, 2); /* two searches, no coalescing */
	ck_assert_uint_eq(g.st.coalesced, 0);
	ck_assert(g.up.s[0].q.cd_bit);
	ck_assert(!g.up.s[1].q.cd_bit);
	/* the CD search answers: only its client */
	finish(&g.up.s[0], UP_POSITIVE, true, &p, 20);
	ck_assert(answered(&g, 1));
	ck_assert(!answered(&g, 2));
	a = reply_of(&g, 1);
	ck_assert_uint_eq(a->buf[3] & 0x10, 0x10);
	/* a new CD=0 client joins the CD=0 search, not the cached CD=1 answer */
	ask_flags(&g, 3, "bogus.example", TYPE_A, false, false, 30);
	ck_assert(!answered(&g, 3));
	ck_assert_uint_eq(g.st.coalesced, 1);
	ck_assert_uint_eq(g.up.n, 2);
	finish(&g.up.s[1], UP_FAIL, false, NULL, 40);
	ck_assert_uint_eq(tu_rcode(reply_of(&g, 2)->buf, reply_of(&g, 2)->len), RCODE_SERVFAIL);
	ck_assert_uint_eq(tu_rcode(reply_of(&g, 3)->buf, reply_of(&g, 3)->len), RCODE_SERVFAIL);
	/* CD=1 again: from the cache, CD set */
	ask_flags(&g, 4, "bogus.example", TYPE_A, true, false, 50);
	a = reply_of(&g, 4);
	ck_assert_int_eq(a->source, SRC_CACHE);
	ck_assert_uint_eq(a->buf[3] & 0x10, 0x10);
	ck_assert_uint_eq(a->buf[2] & 0x04, 0); /* never AA */
	rig_fini(&g);
}
END_TEST

/* localhost, single labels and private reverse names are answered
 * locally, without an upstream search; hosts entries win */
START_TEST(test_local_names)
{
	struct rig g;
	static const char text[] = "192.0.2.50 printer\n10.0.0.9 nas.lan\n";
	struct hosts *h;
	const struct reply *a;
	char data[128];

	rig_init(&g, "");
	h = hosts_parse(text, sizeof(text) - 1, cache_seed(g.cache), NULL, NULL);
	ck_assert_ptr_nonnull(h);
	resolver_set_hosts(g.r, h);
	ask(&g, 1, "localhost", TYPE_A, 1, 0);
	a = reply_of(&g, 1);
	ck_assert_int_eq(a->source, SRC_LOCAL);
	tu_first_data(a->buf, a->len, data, sizeof(data));
	ck_assert_str_eq(data, "127.0.0.1");
	ask(&g, 2, "www.LOCALHOST", TYPE_AAAA, 2, 0);
	tu_first_data(reply_of(&g, 2)->buf, reply_of(&g, 2)->len, data, sizeof(data));
	ck_assert_str_eq(data, "::1");
	ask(&g, 3, "1.0.0.127.in-addr.arpa", TYPE_PTR, 3, 0);
	tu_first_data(reply_of(&g, 3)->buf, reply_of(&g, 3)->len, data, sizeof(data));
	ck_assert(strncmp(data, "localhost", 9) == 0);
	/* single label: NXDOMAIN, unless hosts has it */
	ask(&g, 4, "wpad", TYPE_A, 4, 0);
	a = reply_of(&g, 4);
	ck_assert_uint_eq(tu_rcode(a->buf, a->len), RCODE_NXDOMAIN);
	ck_assert_int_eq(a->source, SRC_LOCAL);
	ask(&g, 5, "printer", TYPE_A, 5, 0);
	a = reply_of(&g, 5);
	ck_assert_int_eq(a->source, SRC_HOSTS);
	/* hosts answers the PTR of its private address */
	ask(&g, 6, "9.0.0.10.in-addr.arpa", TYPE_PTR, 6, 0);
	ck_assert_int_eq(reply_of(&g, 6)->source, SRC_HOSTS);
	/* private reverse: nobody may know it -> NXDOMAIN locally */
	g.up.private_ok = false;
	ask(&g, 7, "7.1.168.192.in-addr.arpa", TYPE_PTR, 7, 0);
	a = reply_of(&g, 7);
	ck_assert_uint_eq(tu_rcode(a->buf, a->len), RCODE_NXDOMAIN);
	ck_assert_int_eq(a->source, SRC_LOCAL);
	ck_assert_uint_eq(g.up.private_asked, 1);
	ck_assert_uint_eq(g.up.n, 0);
	/* ... else it goes upstream */
	g.up.private_ok = true;
	ask(&g, 8, "7.1.168.192.in-addr.arpa", TYPE_PTR, 8, 0);
	ck_assert(!answered(&g, 8));
	ck_assert_uint_eq(g.up.n, 1);
	/* an ordinary name is never asked about */
	ask(&g, 9, "www.example.com", TYPE_A, 9, 0);
	ck_assert_uint_eq(g.up.private_asked, 2);
	ck_assert_uint_eq(g.up.n, 2);
	/* a client's DDR question (SPEC 17): NODATA here, 0 searches */
	ask(&g, 10, "_dns.resolver.arpa", 64, 10, 0);
	a = reply_of(&g, 10);
	ck_assert_int_eq(a->source, SRC_LOCAL);
	ck_assert_uint_eq(tu_rcode(a->buf, a->len), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(a->buf, a->len), 0);
	ask(&g, 11, "resolver.arpa", TYPE_SOA, 11, 0);
	ck_assert_int_eq(reply_of(&g, 11)->source, SRC_LOCAL);
	ck_assert_uint_eq(g.up.n, 2);
	resolver_set_hosts(g.r, NULL);
	hosts_free(h);
	rig_fini(&g);
}
END_TEST

/* .local names and link-local reverse names go to the multicast search
 * (SPEC 19), never to the unicast upstream; mdns no, or an adapter
 * routing local, sends them to the unicast upstream again */
START_TEST(test_mdns_names)
{
	struct rig g;
	struct fake_up m;
	struct tu_resp r = { .nans = 1, .ttl = 10 };
	const struct reply *a;
	static const char *const confs[] = { "mdns no\n",
		"adapter corp\nserver 192.0.2.9\ndomain local\n" };
	size_t i;

	rig_init(&g, "");
	memset(&m, 0, sizeof(m));
	resolver_set_mdns(g.r, (struct upstream_if){ &fake_ops, &m });
	ask(&g, 1, "Printer.LOCAL", TYPE_A, 1, 0);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_uint_eq(g.up.n, 0);
	/* a link-local reverse name is asked too, not answered locally */
	ask(&g, 2, "9.7.254.169.in-addr.arpa", TYPE_PTR, 2, 0);
	ask(&g, 3, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa",
	    TYPE_PTR, 3, 0);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_uint_eq(g.up.n, 0);
	ck_assert_uint_eq(g.up.private_asked, 0);
	ck_assert(!answered(&g, 1));
	/* other names go to the unicast upstream */
	ask(&g, 4, "www.example.com", TYPE_A, 4, 0);
	ask(&g, 5, "printer.local.example", TYPE_A, 5, 0);
	ck_assert_uint_eq(g.up.n, 2);
	ck_assert_uint_eq(m.n, 3);
	/* the answer reaches the client and the cache like any other */
	finish(&m.s[0], UP_POSITIVE, true, &r, 10);
	a = reply_of(&g, 1);
	ck_assert_int_eq(a->source, SRC_UPSTREAM);
	ck_assert_uint_eq(tu_rcode(a->buf, a->len), RCODE_NOERROR);
	ask(&g, 6, "printer.local", TYPE_A, 6, 20);
	ck_assert_int_eq(reply_of(&g, 6)->source, SRC_CACHE);
	ck_assert_uint_eq(m.n, 3);
	/* freeing the resolver cancels the multicast searches still running */
	rig_fini(&g);
	ck_assert(m.s[1].cancelled && m.s[2].cancelled);
	for (i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		rig_init(&g, confs[i]);
		memset(&m, 0, sizeof(m));
		resolver_set_mdns(g.r, (struct upstream_if){ &fake_ops, &m });
		ask(&g, 1, "printer.local", TYPE_A, 1, 0);
		ck_assert_msg(m.n == 0 && g.up.n == 1, "%s", confs[i]);
		rig_fini(&g);
	}
}
END_TEST

START_TEST(test_search_start_fails_and_no_upstream)
{
	struct rig g;
	const struct reply *r;

	rig_init(&g, "");
	g.up.fail_start = true;
	ask(&g, 1, "x.example", TYPE_A, 1, 0);
	r = reply_of(&g, 1);
	ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_SERVFAIL);
	ck_assert_uint_eq(resolver_inflight(g.r), 0);
	resolver_set_upstream(g.r, (struct upstream_if){ NULL, NULL });
	ask(&g, 2, "x.example", TYPE_A, 2, 0);
	r = reply_of(&g, 2);
	ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_REFUSED);
	rig_fini(&g);
}
END_TEST

START_TEST(test_malformed_input)
{
	struct rig g;
	struct client_ref ref;
	uint8_t b[512];
	struct tq_opts o = { .id = 9 };
	size_t l;

	rig_init(&g, "");
	memset(&ref, 0, sizeof(ref));
	ref.fd = 1;
	ref.peer.ss_family = AF_INET;
	((struct sockaddr_in *)&ref.peer)->sin_addr.s_addr = htonl(0x7f000001);
	/* under 12 bytes: dropped (reply with length 0) */
	resolver_query(g.r, (const uint8_t *)"short", 5, &ref, false, 0);
	ck_assert_uint_eq(g.io.n, 1);
	ck_assert_uint_eq(g.io.r[0].len, 0);
	ck_assert_uint_eq(g.st.dropped, 1);
	/* QDCOUNT 2: FORMERR */
	l = tu_build_query("a.example", TYPE_A, &o, b, sizeof(b));
	b[5] = 2;
	ref.fd = 2;
	resolver_query(g.r, b, l, &ref, false, 0);
	ck_assert_uint_eq(tu_rcode(reply_of(&g, 2)->buf, reply_of(&g, 2)->len), RCODE_FORMERR);
	/* opcode STATUS: NOTIMP */
	b[5] = 1;
	b[2] = (uint8_t)(b[2] | 0x10);
	ref.fd = 3;
	resolver_query(g.r, b, l, &ref, false, 0);
	ck_assert_uint_eq(tu_rcode(reply_of(&g, 3)->buf, reply_of(&g, 3)->len), RCODE_NOTIMP);
	ck_assert_uint_eq(g.up.n, 0);
	rig_fini(&g);
}
END_TEST

/* prefetch (SPEC 14): a name served twice in the last tenth of its TTL is
 * refreshed in the background; clients keep getting the cache. */
START_TEST(test_prefetch)
{
	struct rig g;
	struct tu_resp p = positive(100);
	const struct reply *r;

	rig_init(&g, "prefetch yes\n");
	ask(&g, 1, "pop.example", TYPE_A, 1, 0);
	finish(&g.up.s[0], UP_POSITIVE, true, &p, 0);
	/* hits early in the TTL: no prefetch */
	ask(&g, 2, "pop.example", TYPE_A, 2, 10000);
	ask(&g, 3, "pop.example", TYPE_A, 3, 20000);
	ck_assert_uint_eq(g.up.n, 1);
	/* in the last tenth (91 s of 100) and hit before: a background search */
	ask(&g, 4, "pop.example", TYPE_A, 4, 91000);
	ck_assert_uint_eq(g.up.n, 2);
	ck_assert_uint_eq(g.st.prefetches, 1);
	r = reply_of(&g, 4);
	ck_assert_int_eq(tu_first_ttl(r->buf, r->len), 9); /* from the cache */
	/* more hits meanwhile: no second search */
	ask(&g, 5, "pop.example", TYPE_A, 5, 92000);
	ck_assert_uint_eq(g.up.n, 2);
	ck_assert_uint_eq(resolver_inflight(g.r), 1);
	/* the refresh lands in the cache; nobody else is answered */
	p.ttl = 100;
	finish(&g.up.s[1], UP_POSITIVE, true, &p, 93000);
	ck_assert_uint_eq(g.io.n, 5);
	ck_assert_uint_eq(resolver_inflight(g.r), 0);
	ask(&g, 6, "pop.example", TYPE_A, 6, 150000); /* past the old expiry */
	r = reply_of(&g, 6);
	ck_assert_int_eq(tu_first_ttl(r->buf, r->len), 43);
	ck_assert_uint_eq(g.up.n, 2);
	ck_assert_uint_eq(g.st.cache_misses, 1);
	/* the refreshed answer kept its hits: one in the next window is enough */
	ask(&g, 7, "pop.example", TYPE_A, 7, 185000);
	ck_assert_uint_eq(g.up.n, 3);
	ck_assert_uint_eq(g.st.prefetches, 2);
	rig_fini(&g);
}
END_TEST

START_TEST(test_prefetch_rules)
{
	struct rig g;
	struct tu_resp p = positive(100);
	char name[32];
	int i;

	/* off by default */
	rig_init(&g, "");
	ask(&g, 1, "pop.example", TYPE_A, 1, 0);
	finish(&g.up.s[0], UP_POSITIVE, true, &p, 0);
	ask(&g, 2, "pop.example", TYPE_A, 2, 91000);
	ask(&g, 3, "pop.example", TYPE_A, 3, 92000);
	ck_assert_uint_eq(g.up.n, 1);
	rig_fini(&g);
	/* a name hit once is not prefetched */
	rig_init(&g, "prefetch yes\n");
	ask(&g, 1, "once.example", TYPE_A, 1, 0);
	finish(&g.up.s[0], UP_POSITIVE, true, &p, 0);
	ask(&g, 2, "once.example", TYPE_A, 2, 95000);
	ck_assert_uint_eq(g.up.n, 1);
	rig_fini(&g);
	/* at most a tenth of max-inflight (20 -> 2) */
	rig_init(&g, "prefetch yes\nmax-inflight 20\n");
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "p%d.example", i);
		ask(&g, 10 + i, name, TYPE_A, 1, 0);
		finish(&g.up.s[i], UP_POSITIVE, true, &p, 0);
		ask(&g, 20 + i, name, TYPE_A, 2, 1000);
	}
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "p%d.example", i);
		ask(&g, 30 + i, name, TYPE_A, 3, 95000);
	}
	ck_assert_uint_eq(g.st.prefetches, 2);
	ck_assert_uint_eq(g.up.n, 4 + 2);
	rig_fini(&g);
}
END_TEST

/* ---------------- SPEC 18: local policy ---------------- */

/* client asks name/type, with EDNS when edns */
static void
ask_edns(struct rig *g, int client, const char *name, uint16_t type, bool edns, uint64_t now)
{
	uint8_t b[512];
	struct tq_opts o = { .id = (uint16_t)client, .edns = edns };
	size_t l = tu_build_query(name, type, &o, b, sizeof(b));
	struct client_ref ref;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ref.peer;

	memset(&ref, 0, sizeof(ref));
	ref.fd = client;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x7f000001);
	ref.peerlen = sizeof(*sin);
	resolver_query(g->r, b, l, &ref, false, now);
}

/* client asks name/type as stubctl query does (a control query) */
static void
ask_ctl(struct rig *g, int client, const char *name, uint16_t type, uint64_t now)
{
	uint8_t b[512];
	struct tq_opts o = { .id = (uint16_t)client };
	size_t l = tu_build_query(name, type, &o, b, sizeof(b));
	struct client_ref ref;

	memset(&ref, 0, sizeof(ref));
	ref.fd = client;
	ref.ctl = (uint64_t)client;
	resolver_query(g->r, b, l, &ref, false, now);
}

/* Does the answer end with an EDE option carrying code? */
static bool
ends_with_ede(const struct reply *r, unsigned code)
{
	const uint8_t *e = r->buf + r->len - 6;

	return r->len > 6 && e[0] == 0 && e[1] == 15 && e[2] == 0 && e[3] == 2 &&
	    e[4] == (code >> 8) && e[5] == (code & 0xff);
}

/* Blocked, locally answered and hosts names answer every type themselves,
 * never upstream (an upstream HTTPS record would undo the block); EDE 15
 * on blocks iff the client sent EDNS. */
START_TEST(test_policy_every_type)
{
	static const uint16_t types[] = { TYPE_A, TYPE_AAAA, 65 /* HTTPS */, 64 /* SVCB */,
		TYPE_TXT, TYPE_MX, TYPE_SRV };
	static const char text[] = "192.0.2.50 printer.lan\n0.0.0.0 hostblocked.example\n";
	struct rig g;
	struct policy *p;
	struct hosts *h;
	const struct reply *r;
	int c = 1;
	size_t i;

	rig_init(&g,
	    "rule ads.example block\nrule nx.example block nxdomain\n"
	    "rule nas.lan answer A 192.0.2.9\nrule ok.ads.example allow\n");
	p = policy_build(g.cfg->policy, cache_seed(g.cache), NULL, NULL);
	ck_assert_ptr_nonnull(p);
	resolver_set_policy(g.r, p, false);
	h = hosts_parse(text, sizeof(text) - 1, cache_seed(g.cache), NULL, NULL);
	ck_assert_ptr_nonnull(h);
	resolver_set_hosts(g.r, h);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		bool addr = types[i] == TYPE_A || types[i] == TYPE_AAAA;

		ask_edns(&g, c, "www.ads.example", types[i], true, 0);
		r = reply_of(&g, c++);
		ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_NOERROR);
		ck_assert_uint_eq(tu_ancount(r->buf, r->len), addr);
		ck_assert(ends_with_ede(r, 15));
		ck_assert_str_eq(r->rule, ""); /* named for stubctl query only */
		ask_ctl(&g, c, "www.ads.example", types[i], 0);
		ck_assert_str_eq(reply_of(&g, c++)->rule, "test.conf:1");
		ask_edns(&g, c, "www.ads.example", types[i], false, 0);
		r = reply_of(&g, c++);
		ck_assert(!tu_has_opt(r->buf, r->len));
		ask_edns(&g, c, "nx.example", types[i], true, 0);
		r = reply_of(&g, c++);
		ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_NXDOMAIN);
		ck_assert(ends_with_ede(r, 15));
		ask_edns(&g, c, "nas.lan", types[i], true, 0);
		r = reply_of(&g, c++);
		ck_assert_uint_eq(tu_ancount(r->buf, r->len), types[i] == TYPE_A);
		ck_assert(!ends_with_ede(r, 15));
		ask_ctl(&g, c, "nas.lan", types[i], 0);
		ck_assert_str_eq(reply_of(&g, c++)->rule, "test.conf:3");
		/* hosts names, whatever their family and the type asked */
		ask_edns(&g, c, "printer.lan", types[i], true, 0);
		r = reply_of(&g, c++);
		ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_NOERROR);
		ck_assert_uint_eq(tu_ancount(r->buf, r->len), types[i] == TYPE_A);
		ck_assert_int_eq(r->source, SRC_HOSTS);
		ask_edns(&g, c, "hostblocked.example", types[i], false, 0);
		r = reply_of(&g, c++);
		ck_assert_uint_eq(tu_ancount(r->buf, r->len), types[i] == TYPE_A);
	}
	ck_assert_uint_eq(g.up.n, 0);
	/* an allowed name and an unlisted one go upstream as before */
	ask(&g, c++, "ok.ads.example", 65, 1, 0);
	ck_assert_uint_eq(g.up.n, 1);
	ask(&g, c++, "www.example.com", 65, 2, 0);
	ck_assert_uint_eq(g.up.n, 2);
	resolver_set_hosts(g.r, NULL);
	resolver_set_policy(g.r, NULL, false);
	hosts_free(h);
	policy_free(p);
	rig_fini(&g);
}
END_TEST

/* EDE 18 on an ACL REFUSED, EDE 3 on a stale answer, only with EDNS */
START_TEST(test_ede_refused_stale)
{
	struct rig g;
	const struct reply *r;
	uint8_t b[512];
	struct tq_opts o = { .id = 9, .edns = true };
	size_t l = tu_build_query("www.example.com", TYPE_A, &o, b, sizeof(b));
	struct client_ref ref;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ref.peer;

	rig_init(&g, "allow 127.0.0.0/8\nserve-stale 3600\n");
	cached_then_stale(&g);
	memset(&ref, 0, sizeof(ref));
	ref.fd = 50;
	sin->sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.200", &sin->sin_addr), 1);
	ref.peerlen = sizeof(*sin);
	resolver_query(g.r, b, l, &ref, false, 0);
	r = reply_of(&g, 50);
	ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_REFUSED);
	ck_assert(ends_with_ede(r, 18));
	ask_from(&g, "192.0.2.200", 51, "www.example.com", TYPE_A, 10, 0);
	r = reply_of(&g, 51);
	ck_assert(!tu_has_opt(r->buf, r->len));
	ask_edns(&g, 52, "stale.example", TYPE_A, true, 20000);
	finish(&g.up.s[1], UP_FAIL, false, NULL, 21000);
	r = reply_of(&g, 52);
	ck_assert_int_eq(tu_first_ttl(r->buf, r->len), 30);
	ck_assert(ends_with_ede(r, 3));
	rig_fini(&g);
}
END_TEST

/* the final outcome of search s: a response of records rrs (answer
 * section) from the adapter in label */
static void
finish_rrs(struct up_search *s, const struct tu_rr *rrs, size_t n, const char *label, uint64_t now)
{
	struct answer a;
	struct up_result res = { .kind = UP_POSITIVE, .cacheable = true, .now = now };
	char name[WIRE_NAME_TEXT];
	size_t l;

	ck_assert(wire_name_to_text(s->q.key, s->q.qlen, name, sizeof(name)));
	l = tu_build_msg(77, 0x8180, name, s->q.qtype, rrs, n, 0, 0, a.buf, sizeof(a.buf));
	ck_assert_uint_gt(l, 0);
	ck_assert_int_eq(
	    msg_store_prepare(a.buf, l, 77, s->q.key, s->q.qlen, s->q.qtype, s->q.qclass, &a.resp),
	    STUB_OK);
	res.msg = a.buf;
	res.resp = &a.resp;
	res.label = label;
	s->active = false;
	s->cb(s->arg, &res);
}

/* SPEC 18: private addresses out of public names' answers, kept under
 * allow rules and the answering adapter's routing domains; NODATA with
 * EDE 17 when nothing is left (not cached). */
START_TEST(test_rebind_protection)
{
	struct rig g;
	struct policy *p;
	const struct reply *r;
	char data[64];
	const struct tu_rr mixed[2] = { { "www.example.com", TYPE_A, 300, NULL, 0, 0x0a000005 },
		{ "www.example.com", TYPE_A, 300, NULL, 0, 0xc0000201 } };
	struct tu_rr priv[2] = { { "x", TYPE_CNAME, 300, "y.example.net", 0, 0 },
		{ "y.example.net", TYPE_A, 300, NULL, 0, 0xc0a80101 } };

	rig_init(&g,
	    "rebind-protection yes\nrule intranet.example allow\n"
	    "adapter lan\nserver 192.0.2.1\ndomain corp.example\n");
	p = policy_build(g.cfg->policy, cache_seed(g.cache), NULL, NULL);
	ck_assert_ptr_nonnull(p);
	resolver_set_policy(g.r, p, g.cfg->policy->rebind_protection);
	/* one private, one public: the private one goes */
	ask_edns(&g, 1, "www.example.com", TYPE_A, true, 0);
	finish_rrs(&g.up.s[0], mixed, 2, "192.0.2.1:53%lan", 0);
	r = reply_of(&g, 1);
	ck_assert_uint_eq(tu_ancount(r->buf, r->len), 1);
	tu_first_data(r->buf, r->len, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.1");
	ck_assert(!ends_with_ede(r, 17));
	ck_assert_uint_eq(g.st.rebind_blocked, 1);
	/* cached as filtered */
	ask(&g, 2, "www.example.com", TYPE_A, 2, 10);
	r = reply_of(&g, 2);
	ck_assert_uint_eq(tu_ancount(r->buf, r->len), 1);
	ck_assert_uint_eq(g.up.n, 1);
	/* only private (behind a CNAME): NODATA + EDE 17, not cached */
	priv[0].owner = "evil.example";
	ask_edns(&g, 3, "evil.example", TYPE_A, true, 20);
	finish_rrs(&g.up.s[1], priv, 2, "192.0.2.1:53%lan", 20);
	r = reply_of(&g, 3);
	ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_NOERROR);
	tu_first_data(r->buf, r->len, data, sizeof(data));
	ck_assert_str_eq(data, "y.example.net"); /* the CNAME stays, the A went */
	ck_assert_uint_eq(tu_ancount(r->buf, r->len), 1);
	ck_assert(ends_with_ede(r, 17));
	ck_assert_uint_eq(g.st.rebind_blocked, 2);
	ask(&g, 4, "evil.example", TYPE_A, 4, 30);
	ck_assert_uint_eq(g.up.n, 3);
	finish_rrs(&g.up.s[2], priv, 2, "192.0.2.1:53%lan", 30);
	r = reply_of(&g, 4);
	ck_assert(!tu_has_opt(r->buf, r->len)); /* EDE only with EDNS */
	/* only private A records, no CNAME: an empty answer section
	 * (NODATA), NOERROR, EDE 17, not cached */
	{
		const struct tu_rr only[2] = { { "lan.example", TYPE_A, 300, NULL, 0, 0x7f000001 },
			{ "lan.example", TYPE_A, 300, NULL, 0, 0xac100001 } };

		ask_edns(&g, 40, "lan.example", TYPE_A, true, 32);
		finish_rrs(&g.up.s[3], only, 2, "192.0.2.1:53%lan", 32);
		r = reply_of(&g, 40);
		ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_NOERROR);
		ck_assert_uint_eq(tu_ancount(r->buf, r->len), 0);
		ck_assert(ends_with_ede(r, 17));
		ck_assert_uint_eq(g.st.rebind_blocked, 4);
		ask(&g, 41, "lan.example", TYPE_A, 41, 33);
		ck_assert_uint_eq(g.up.n, 5); /* not cached: asked again */
		finish_rrs(&g.up.s[4], only, 2, "192.0.2.1:53%lan", 33);
		ck_assert_uint_eq(tu_ancount(reply_of(&g, 41)->buf, reply_of(&g, 41)->len), 0);
	}
	/* exempt: an allow rule, the answering adapter's routing domain */
	priv[0].owner = "db.intranet.example";
	ask(&g, 5, "db.intranet.example", TYPE_A, 5, 40);
	finish_rrs(&g.up.s[5], priv, 2, "192.0.2.1:53%lan", 40);
	ck_assert_uint_eq(tu_ancount(reply_of(&g, 5)->buf, reply_of(&g, 5)->len), 2);
	priv[0].owner = "git.corp.example";
	ask(&g, 6, "git.corp.example", TYPE_A, 6, 50);
	finish_rrs(&g.up.s[6], priv, 2, "192.0.2.1:53%lan", 50);
	ck_assert_uint_eq(tu_ancount(reply_of(&g, 6)->buf, reply_of(&g, 6)->len), 2);
	/* the same name from an adapter without that domain: filtered */
	priv[0].owner = "app.corp.example";
	ask(&g, 7, "app.corp.example", TYPE_A, 7, 60);
	finish_rrs(&g.up.s[7], priv, 2, "192.0.2.9:53%other", 60);
	ck_assert_uint_eq(tu_ancount(reply_of(&g, 7)->buf, reply_of(&g, 7)->len), 1);
	ck_assert_uint_eq(g.st.rebind_blocked, 6);
	/* rebind-protection no: kept */
	resolver_set_policy(g.r, p, false);
	priv[0].owner = "other.example";
	ask(&g, 8, "other.example", TYPE_A, 8, 70);
	finish_rrs(&g.up.s[8], priv, 2, "192.0.2.1:53%lan", 70);
	ck_assert_uint_eq(tu_ancount(reply_of(&g, 8)->buf, reply_of(&g, 8)->len), 2);
	resolver_set_policy(g.r, NULL, false);
	policy_free(p);
	rig_fini(&g);
}
END_TEST

/* a positive answer (one A record) for search s, obtained through servers
 * satisfying via (enum up_need) */
static void
finish_via(struct up_search *s, unsigned via, uint64_t now)
{
	struct answer a;
	struct up_result res = { .kind = UP_POSITIVE, .cacheable = true, .now = now, .via = via };

	ck_assert(s->active);
	make_answer(s, positive(300), &a);
	res.msg = a.buf;
	res.resp = &a.resp;
	res.label = via ? "tls://192.0.2.1:853#dns.example%lan" : "192.0.2.1:53%lan";
	s->active = false;
	s->cb(s->arg, &res);
}

/* SPEC 18: a name under `rule ... require` is searched held to the rule,
 * and never served an answer the cache got another way (asked before the
 * rule existed: the cache-poisoning-by-order case), fresh or stale; it
 * never joins a search not held to the rule; no qualifying answer:
 * SERVFAIL with EDE 23. */
START_TEST(test_require_rules)
{
	struct rig g;
	struct cfg *rc = cfg_new(NULL, NULL);
	static const char rules[] = "rule bank.example require encryption\n"
	                            "rule sec.example require ad\n";
	struct policy *p;
	const struct reply *r;

	rig_init(&g, "serve-stale 86400\n");
	ck_assert_ptr_nonnull(rc);
	ck_assert_uint_eq(cfg_parse_text(rc, rules, strlen(rules), "rules.conf"), 0);
	p = policy_build(rc->policy, cache_seed(g.cache), NULL, NULL);
	ck_assert_ptr_nonnull(p);
	/* before the rule: answered in clear text and cached */
	ask(&g, 1, "www.bank.example", TYPE_A, 1, 0);
	ck_assert_uint_eq(g.up.s[0].need, 0);
	finish_via(&g.up.s[0], 0, 0);
	ask(&g, 2, "old.bank.example", TYPE_A, 2, 0);
	finish_via(&g.up.s[1], 0, 0);
	ask(&g, 3, "www.bank.example", TYPE_A, 3, 10);
	ck_assert_int_eq(reply_of(&g, 3)->source, SRC_CACHE);
	ck_assert_uint_eq(g.up.n, 2);
	/* a clear-text search under way when the rule comes */
	ask(&g, 4, "pending.bank.example", TYPE_A, 4, 20);
	ck_assert_uint_eq(g.up.n, 3);
	resolver_set_policy(g.r, p, false);
	/* the clear-text entry is a miss under the rule: a search held to it */
	ask(&g, 5, "www.bank.example", TYPE_A, 5, 30);
	ck_assert_uint_eq(g.up.n, 4);
	ck_assert_uint_eq(g.up.s[3].need, UP_NEED_ENC);
	ck_assert(!answered(&g, 5));
	ck_assert_uint_eq(g.up.s[3].slow_ms, 0); /* nothing it may have stale */
	/* ... which does not join the clear-text search under way */
	ask(&g, 6, "pending.bank.example", TYPE_A, 6, 40);
	ck_assert_uint_eq(g.up.n, 5);
	ck_assert_uint_eq(g.up.s[4].need, UP_NEED_ENC);
	finish_via(&g.up.s[2], 0, 50);
	ck_assert(answered(&g, 4));
	ck_assert(!answered(&g, 6));
	finish_via(&g.up.s[4], UP_NEED_ENC | UP_NEED_AD, 60);
	ck_assert_int_eq(reply_of(&g, 6)->source, SRC_UPSTREAM);
	finish_via(&g.up.s[3], UP_NEED_ENC | UP_NEED_AD, 60);
	ck_assert_int_eq(reply_of(&g, 5)->source, SRC_UPSTREAM);
	/* the encrypted answer replaced the clear one: served from the cache */
	ask(&g, 7, "www.bank.example", TYPE_A, 7, 70);
	ck_assert_int_eq(reply_of(&g, 7)->source, SRC_CACHE);
	ck_assert_uint_eq(g.up.n, 5);
	/* a clear-text answer, expired, is not served stale to the rule's
	 * name when the search fails: SERVFAIL, EDE 23 */
	ask_edns(&g, 8, "old.bank.example", TYPE_A, true, 400000);
	ck_assert_uint_eq(g.up.n, 6);
	ck_assert_uint_eq(g.up.s[5].need, UP_NEED_ENC);
	finish(&g.up.s[5], UP_FAIL, false, NULL, 400010);
	r = reply_of(&g, 8);
	ck_assert_uint_eq(tu_rcode(r->buf, r->len), RCODE_SERVFAIL);
	ck_assert(ends_with_ede(r, 23));
	/* require ad: held to AD-trusted servers; their answer is cached */
	ask(&g, 9, "x.sec.example", TYPE_A, 9, 400020);
	ck_assert_uint_eq(g.up.s[6].need, UP_NEED_AD);
	finish_via(&g.up.s[6], UP_NEED_AD, 400030);
	ask(&g, 10, "x.sec.example", TYPE_A, 10, 400040);
	ck_assert_int_eq(reply_of(&g, 10)->source, SRC_CACHE);
	ck_assert_uint_eq(g.up.n, 7);
	/* ... until a server loses its AD trust (reload): a miss again */
	cache_distrust_ad(g.cache);
	ask(&g, 11, "x.sec.example", TYPE_A, 11, 400050);
	ck_assert_uint_eq(g.up.n, 8);
	finish_via(&g.up.s[7], UP_NEED_AD, 400060);
	/* names under no rule take any answer */
	ask(&g, 12, "www.example.com", TYPE_A, 12, 400070);
	ck_assert_uint_eq(g.up.s[8].need, 0);
	finish_via(&g.up.s[8], 0, 400080);
	ck_assert_int_eq(reply_of(&g, 12)->source, SRC_UPSTREAM);
	resolver_set_policy(g.r, NULL, false);
	policy_free(p);
	cfg_unref(rc);
	rig_fini(&g);
}
END_TEST

/* SPEC 18: the search domains of resolv-file (search/domain lines) are
 * the search domains of its servers' adapter: private answers under them
 * are kept when that adapter answered, and they route nothing.  Answers
 * from multicast DNS (SPEC 19: `local` names, on-link sources only) are
 * the link's own and kept too. */
START_TEST(test_rebind_search_domains)
{
	struct rig g;
	struct cfg *c = cfg_new(NULL, NULL);
	struct fake_up m;
	static const char conf[] = "rebind-protection yes\n";
	struct tu_rr priv[1] = { { "x", TYPE_A, 300, NULL, 0, 0xc0a80105 } };
	static const char *const kept[] = { "nas.home.test", "db.corp.test", "lan.test" };
	size_t i;
	int k = 1;

	rig_init(&g, conf);
	ck_assert_uint_eq(cfg_parse_text(c, conf, strlen(conf), "t"), 0);
	ck_assert_uint_eq(
	    cfg_finish(c, "nameserver 192.0.2.1\nsearch home.test Corp.Test.\ndomain lan.test\n"),
	    0);
	ck_assert_uint_eq(c->nadapters, 1);
	ck_assert_uint_eq(c->adapters[0].ndomains, 0); /* no routing domain */
	ck_assert_uint_eq(c->adapters[0].nsearch, 3);
	resolver_set_cfg(g.r, c);
	resolver_set_policy(g.r, NULL, true);
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++, k++) {
		priv[0].owner = kept[i];
		ask(&g, k, kept[i], TYPE_A, (uint16_t)k, 0);
		finish_rrs(&g.up.s[k - 1], priv, 1, "192.0.2.1:53%default", 0);
		ck_assert_msg(tu_ancount(reply_of(&g, k)->buf, reply_of(&g, k)->len) == 1, "%s",
		    kept[i]);
	}
	/* under none: stripped */
	priv[0].owner = "www.example.com";
	ask(&g, k, "www.example.com", TYPE_A, (uint16_t)k, 0);
	finish_rrs(&g.up.s[k - 1], priv, 1, "192.0.2.1:53%default", 0);
	ck_assert_uint_eq(tu_ancount(reply_of(&g, k)->buf, reply_of(&g, k)->len), 0);
	ck_assert_uint_eq(g.st.rebind_blocked, 1);
	k++;
	/* multicast DNS: kept */
	memset(&m, 0, sizeof(m));
	resolver_set_mdns(g.r, (struct upstream_if){ &fake_ops, &m });
	priv[0].owner = "printer.local";
	ask(&g, k, "printer.local", TYPE_A, (uint16_t)k, 0);
	ck_assert_uint_eq(m.n, 1);
	finish_rrs(&m.s[0], priv, 1, "mdns%eth0", 0);
	ck_assert_uint_eq(tu_ancount(reply_of(&g, k)->buf, reply_of(&g, k)->len), 1);
	ck_assert_uint_eq(g.st.rebind_blocked, 1);
	resolver_set_cfg(g.r, g.cfg);
	cfg_unref(c);
	rig_fini(&g);
}
END_TEST

static Suite *
resolve_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *t = tcase_create("pipeline");

	tcase_add_test(t, test_coalescing);
	tcase_add_test(t, test_control_query_traced);
	tcase_add_test(t, test_different_questions_not_coalesced);
	tcase_add_test(t, test_servfail_fanout);
	tcase_add_test(t, test_negative_uncacheable_relayed_not_cached);
	tcase_add_test(t, test_serve_stale_deadline);
	tcase_add_test(t, test_serve_stale_on_failure);
	tcase_add_test(t, test_no_stale_without_serve_stale);
	tcase_add_test(t, test_max_inflight);
	tcase_add_test(t, test_acl);
	tcase_add_test(t, test_hosts_before_cache_and_upstream);
	tcase_add_test(t, test_search_start_fails_and_no_upstream);
	tcase_add_test(t, test_malformed_input);
	tcase_add_test(t, test_prefetch);
	tcase_add_test(t, test_prefetch_rules);
	tcase_add_test(t, test_policy_every_type);
	tcase_add_test(t, test_ede_refused_stale);
	tcase_add_test(t, test_rebind_protection);
	tcase_add_test(t, test_require_rules);
	tcase_add_test(t, test_rebind_search_domains);
	tcase_add_test(t, test_cd_not_shared);
	tcase_add_test(t, test_local_names);
	tcase_add_test(t, test_mdns_names);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(resolve_suite());
}
