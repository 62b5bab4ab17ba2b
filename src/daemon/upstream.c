/*
 * upstream.c - searches: phase timers, packets handed to each server's
 * transport (transport.h), answers classified and handed to schedule.c.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "clock.h"
#include "ddr.h"
#include "ddrverify.h"
#include "encryption.h"
#include "list.h"
#include "log.h"
#include "rand.h"
#include "transport.h"
#include "upstream.h"

#define TP_TIMEOUT_SLACK_MS 1000
#define SEARCH_SLOTS 2 /* attempts kept inside a search (one, two at failback) */

struct attempt {
	struct up_search *search;
	struct transport_req *req; /* in the server's transport */
	const struct transport *tp;
	struct attempt *next; /* in search->attempts */
	size_t server;
	double sent_ms;
	unsigned phase;
	int tr; /* its event in search->trace, -1 = none */
	uint16_t id;
	bool mixed;                   /* qname below has randomised case */
	uint8_t qname[WIRE_NAME_MAX]; /* the question name as sent (0x20) */
};

struct up_search {
	struct upstream *up;
	struct list node; /* on up->searches */
	size_t pktlen;
	struct sched_search ss;
	unsigned phase;
	bool phase_empty;                 /* nothing could be asked at all */
	bool settled;                     /* the phase ends early: nothing left to wait for */
	struct event *phase_ev, *slow_ev; /* in the search's own block */
	struct attempt *attempts;
	up_cb cb;
	void *arg;
	uint8_t *neg; /* last negative answer (copy) */
	struct msg_resp *negresp;
	size_t *targets;        /* in the search's own block */
	struct up_trace *trace; /* stubctl query: every packet; else NULL */
	uint64_t t0;            /* when the search began */
	bool enc_required;      /* asked a twin under `encryption require` */
	bool ddr_wait;          /* SPEC 17: nothing asked yet, waiting for discovery */
	bool again;             /* ddr_wait over with the engine replaced: UP_AGAIN */
	unsigned need;          /* SPEC 18: enum up_need of the name's rule */
	unsigned negvia;        /* up_need bits every negative answer's server has */
	unsigned slots_used;    /* bit k: slot[k] holds an attempt */
	/* from here on not zeroed when the search begins: each is written
	 * before it is read */
	struct msg_query q;
	uint8_t pkt[WIRE_HDR_LEN + WIRE_NAME_MAX + 4 + MSG_OPT_LEN];
	char neglabel[SCHED_LABEL_MAX]; /* when neg is set */
	/* the first SEARCH_SLOTS attempts live here (no allocation per
	 * packet); more are allocated */
	struct attempt slot[SEARCH_SLOTS];
};

/* An attempt of s: a free slot of the search, else allocated. */
static struct attempt *
attempt_new(struct up_search *s)
{
	unsigned k;
	struct attempt *a;

	for (k = 0; k < SEARCH_SLOTS; k++)
		if (!(s->slots_used & (1u << k))) {
			s->slots_used |= 1u << k;
			a = &s->slot[k];
			memset(a, 0, offsetof(struct attempt, qname));
			return a;
		}
	return calloc(1, sizeof(*a));
}

static void
attempt_release(struct up_search *s, struct attempt *a)
{
	if (a >= s->slot && a < s->slot + SEARCH_SLOTS)
		s->slots_used &= ~(1u << (unsigned)(a - s->slot));
	else
		free(a);
}

/* SPEC 17: a DDR probe to clear-text server `server`, then the handshake
 * that verifies what it named. */
struct ddr_probe {
	struct upstream *up;
	struct ddr_probe *next; /* on up->probes */
	struct ddr_entry *e;    /* in the discovery table (entries never move) */
	size_t server;
	struct transport_req *req; /* the probe, while out */
	struct ddrverify *verify;  /* the handshake, while out */
	struct up_search *search;  /* traced search that sent it; NULL = none */
	int tr;
	uint8_t pkt[64];
	size_t len;
};

struct upstream {
	struct event_base *base;
	struct cfg *cfg; /* one reference held */
	struct stats *st;
	struct sched *sched;
	struct transport kinds[XPORT_COUNT]; /* one transport per kind in use (impl NULL: none) */
	struct transport *tps;               /* per server: its kind's */
	struct list searches;                /* struct up_search */
	size_t nsearches;
	bool retiring;
	bool freeing;
	struct event *kill; /* deferred free after retirement */
	uint32_t tp_timeout_ms;
	struct tlsctx *tls; /* borrowed (reconfig's), for the DDR handshake */
	struct upstream_ddr ddr;
	struct ddr_probe *probes;
	struct event *ddr_ev; /* the runtime twins changed: tell the owner from the loop */
	uint8_t rbuf[MSG_MAX + 1];
	struct msg_resp resp;
};

/* SPEC 17: while a search that waited for discovery is handed back
 * (UP_AGAIN), its trace and start, for the search its owner starts again
 * from inside that callback: the probe stays in `stubctl query`'s trace */
static struct {
	const struct up_trace *trace;
	uint64_t t0;
} again_carry;

static void search_finish(struct up_search *s, enum up_kind kind, bool cacheable, uint8_t *msg,
    const struct msg_resp *resp, const char *label, unsigned via);
static void downgrade(struct up_search *s, size_t server, uint64_t now);

/* ---------------- engine ---------------- */

static void up_free_cb(evutil_socket_t fd, short what, void *arg);

enum stub_err
upstream_new(struct event_base *base, struct cfg *cfg, struct stats *st, struct tlsctx *tls,
    struct upstream **out, char *why, size_t whylen)
{
	struct upstream *up = calloc(1, sizeof(*up));
	struct transport_env env;
	uint64_t total = 0;
	enum stub_err e;
	size_t i;

	*out = NULL;
	if (!up)
		goto fail;
	list_init(&up->searches);
	up->base = base;
	up->tls = tls;
	up->cfg = cfg_ref(cfg);
	up->st = st;
	up->sched = sched_new(cfg);
	up->kill = evtimer_new(base, up_free_cb, up);
	up->tps = calloc(cfg->nservers + 1, sizeof(*up->tps));
	if (!up->sched || !up->kill || !up->tps)
		goto fail;
	for (i = 0; i < cfg->ntimeouts; i++)
		total += cfg->timeouts_ms[i];
	/* a transport must never give a query up before the schedule has */
	up->tp_timeout_ms = (uint32_t)(total + TP_TIMEOUT_SLACK_MS);
	env.base = base;
	env.cfg = cfg;
	env.sched = up->sched;
	env.tls = tls;
	env.timeout_ms = up->tp_timeout_ms;
	/* the transport of each kind its servers use (transports.def) */
	for (i = 0; i < cfg->nservers; i++) {
		enum cfg_transport k = cfg->servers[i].transport;
		transport_factory make = transport_factory_of(k);

		if (!up->kinds[k].impl) {
			e = make ? make(&env, &up->kinds[k], why, whylen) : STUB_EINVAL;
			if (e != STUB_OK) {
				if (!make)
					snprintf(why, whylen, "no transport %s",
					    cfg_transport_name(k));
				upstream_free(up);
				return e;
			}
		}
		up->tps[i] = up->kinds[k];
	}
	*out = up;
	return STUB_OK;
fail:
	snprintf(why, whylen, "upstream engine: out of memory");
	upstream_free(up);
	return STUB_ENOMEM;
}

void
upstream_inherit_tickets(struct upstream *to, const struct upstream *from)
{
	size_t k;

	if (!to || !from)
		return;
	for (k = 0; k < XPORT_COUNT; k++)
		if (to->kinds[k].impl && from->kinds[k].impl && to->kinds[k].ops->inherit)
			to->kinds[k].ops->inherit(to->kinds[k].impl, from->kinds[k].impl);
}

void
upstream_transport_stats(struct upstream *up, size_t server, struct transport_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (up && server < up->cfg->nservers && up->tps[server].impl)
		up->tps[server].ops->stats(up->tps[server].impl, server, out);
}

struct sched *
upstream_sched(struct upstream *up)
{
	return up->sched;
}

/* ---------------- trace (stubctl query) ---------------- */

static int
trace_add(struct up_search *s, size_t server, unsigned phase, long sent_ms,
    enum up_trace_result result, uint64_t now)
{
	const struct cfg *c = s->up->cfg;
	struct up_trace_ev ev = { .phase = phase,
		.sent_ms = sent_ms,
		.result = result,
		.at_ms = result == TR_PENDING ? -1 : (long)(now - s->t0) };

	if (!s->trace)
		return -1;
	snprintf(ev.adapter, sizeof(ev.adapter), "%s",
	    c->adapters[c->servers[server].adapter].name);
	snprintf(ev.server, sizeof(ev.server), "%s", c->servers[server].text);
	snprintf(ev.transport, sizeof(ev.transport), "%s",
	    cfg_transport_name(c->servers[server].transport));
	return up_trace_add(s->trace, &ev);
}

/* The result of an attempt's packet; a reply after its phase timed out
 * is a new, late event (a packet cancelled after it timed out stays a
 * timeout). */
static void
trace_result(struct up_search *s, struct attempt *a, enum up_trace_result r, uint64_t now)
{
	struct up_trace_ev *ev;

	if (!s->trace || a->tr < 0)
		return;
	ev = &s->trace->ev[a->tr];
	if (ev->result == TR_PENDING) {
		ev->result = r;
		ev->at_ms = (long)(now - s->t0);
		return;
	}
	if (r == TR_CANCELLED || r == TR_TIMEOUT)
		return; /* no reply came: nothing late to show */
	a->tr = trace_add(s, a->server, a->phase, ev->sent_ms, r, now);
	if (a->tr >= 0)
		s->trace->ev[a->tr].late = true;
}

/* Servers a search skips from the start: excluded (left out when the
 * search began, schedule.c), their link down, or not qualifying under the
 * name's `require` rule (SPEC 18). */
static void
trace_skipped(struct up_search *s, uint64_t now)
{
	const struct sched *sc = s->up->sched;
	size_t a, k;

	for (a = 0; a < sc->nadapters; a++) {
		if (!s->ss.considered[a] && !s->ss.left_out[a] && !s->ss.ruled_out[a])
			continue;
		for (k = 0; k < sc->adapters[a].nservers; k++) {
			size_t i = sc->adapters[a].servers[k];

			if (s->ss.ss[i].unfit)
				trace_add(s, i, 0, -1, TR_RULE, now);
			else if (sc->adapters[a].down)
				trace_add(s, i, 0, -1, TR_DOWN, now);
			else if (s->ss.left_out[a] || s->ss.ss[i].skipped)
				trace_add(s, i, 0, -1, TR_EXCLUDED, now);
		}
	}
}

static void
search_free(struct up_search *s)
{
	struct upstream *up = s->up;
	struct attempt *a, *n;

	struct ddr_probe *p;

	for (a = s->attempts; a; a = n) {
		n = a->next;
		a->tp->ops->cancel(a->tp->impl, a->req);
		attempt_release(s, a);
	}
	for (p = up->probes; p; p = p->next)
		if (p->search == s)
			p->search = NULL;
	if (s->phase_ev)
		event_del(s->phase_ev);
	if (s->slow_ev)
		event_del(s->slow_ev);
	sched_search_fini(&s->ss);
	free(s->neg);
	free(s->negresp);
	free(s->trace);
	list_remove(&s->node);
	up->nsearches--;
	free(s);
	if (up->retiring && up->nsearches == 0 && !up->freeing) {
		struct timeval zero = { 0, 0 };

		evtimer_add(up->kill, &zero);
	}
}

/* Does the answer section hold an IPv6 link-local address (fe80::/10)? */
static bool
has_linklocal6(const uint8_t *msg, size_t len)
{
	struct wire_rd r;
	struct wire_hdr h;
	struct wire_rr rr;
	uint16_t i;

	wire_rd_init(&r, msg, len);
	if (wire_hdr(&r, &h) != STUB_OK)
		return false;
	for (i = 0; i < h.qdcount && !r.err; i++) {
		wire_name(&r, NULL);
		wire_skip(&r, 4);
	}
	for (i = 0; i < h.ancount && !r.err; i++) {
		struct wire_rd d;
		const uint8_t *a;

		if (wire_rr(&r, &rr) != STUB_OK)
			return false;
		if (rr.type != TYPE_AAAA || rr.rdlen != 16)
			continue;
		wire_rd_init(&d, msg, rr.rd_off + rr.rdlen);
		wire_seek(&d, rr.rd_off);
		a = wire_bytes(&d, 16);
		if (a && !d.err && a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
			return true;
	}
	return false;
}

/* The interface an answer from label's server belongs to, when it holds an
 * IPv6 link-local address (SPEC 16: such an address keeps its scope): the
 * server's adapter's device (a link's servers, a link-local server's
 * scope), 0 = none.  Other answers carry none, so they stay in the
 * cache-file. */
static unsigned
label_ifindex(const struct upstream *up, const char *label, const uint8_t *msg, size_t len)
{
	const char *pct = label ? strrchr(label, '%') : NULL;
	long a = pct ? cfg_adapter_find(up->cfg, pct + 1) : -1;

	/* the index reconfig keeps from rtnetlink: no system call here */
	return a >= 0 && up->cfg->adapters[a].device[0] && msg && has_linklocal6(msg, len) ?
	    up->cfg->adapters[a].ifindex :
	    0;
}

static void
search_finish(struct up_search *s, enum up_kind kind, bool cacheable, uint8_t *msg,
    const struct msg_resp *resp, const char *label, unsigned via)
{
	struct up_result r = { .kind = kind };
	up_cb cb = s->cb;
	void *arg = s->arg;

	r.now = clock_now_ms();
	sched_search_end(s->up->sched, &s->ss, r.now);
	if (s->trace) {
		struct attempt *a;

		for (a = s->attempts; a; a = a->next)
			trace_result(s, a, TR_CANCELLED, r.now);
	}
	r.trace = s->trace;
	r.kind = kind;
	r.cacheable = cacheable;
	r.msg = msg;
	r.resp = resp;
	r.label = label;
	r.via = via;
	r.ifindex = kind == UP_POSITIVE ? label_ifindex(s->up, label, msg, resp->len) : 0;
	/* SPEC 17 and 18: encrypted (or AD-trusted) only, and that failed:
	 * 23 Network Error (RFC 8914: no server could be reached that the
	 * policy lets stubd use) */
	r.has_ede = kind == UP_FAIL && (s->enc_required || s->need);
	r.ede = 23;
	/* unlink first: the callback may start new searches */
	s->cb = NULL;
	cb(arg, &r);
	search_free(s);
}

/* Nothing of the current phase is left to wait for: end it now (the next
 * phase, or the end of the search, follows from the loop). */
static void
settle_check(struct up_search *s)
{
	struct timeval zero = { 0, 0 };

	if (s->cb && !s->phase_empty && !s->settled &&
	    sched_phase_settled(s->up->sched, &s->ss, s->phase)) {
		s->settled = true;
		evtimer_add(s->phase_ev, &zero);
	}
}

static void
attempt_cb(void *arg, const uint8_t *abuf, size_t alen)
{
	struct attempt *a = arg;
	struct up_search *s = a->search;
	struct upstream *up = s->up;
	enum sched_answer kind = ANS_NONE;
	enum up_trace_result tr = TR_FAILED;
	enum sched_outcome out;
	struct attempt **pp;
	size_t server = a->server;
	double rtt;
	enum stub_err prep = STUB_EFORMAT;

	for (pp = &s->attempts; *pp; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	rtt = clock_now_ms_f() - a->sent_ms;
	if (abuf && alen > 0 && alen <= MSG_MAX) {
		memcpy(up->rbuf, abuf, alen);
		prep = msg_store_prepare(up->rbuf, alen, a->id, a->mixed ? a->qname : s->q.key,
		    s->q.qlen, s->q.qtype, s->q.qclass, &up->resp);
		tr = prep != STUB_OK ? TR_MISMATCH :
		    up->resp.tc      ? TR_TRUNCATED :
		    up->resp.positive ?
		                  TR_ANSWER :
		    up->resp.negative ?
		                  (up->resp.rcode == RCODE_NXDOMAIN ? TR_NXDOMAIN : TR_NODATA) :
		    up->resp.rcode == RCODE_SERVFAIL ? TR_SERVFAIL :
		    up->resp.rcode == RCODE_REFUSED  ? TR_REFUSED :
		    up->resp.rcode == RCODE_FORMERR  ? TR_FORMERR :
		                                       TR_RCODE;
		if (prep == STUB_OK && a->mixed && !up->resp.case_exact &&
		    !up->sched->servers[server].no_0x20) {
			/* accepted, but 0x20 buys nothing with it (unbound's
			 * fallback): asked without from now on */
			up->sched->servers[server].no_0x20 = true;
			log_warn("server %s does not echo the case of the question; "
			         "asking it without upstream-0x20",
			    up->sched->servers[server].label);
		}
		if (prep == STUB_OK && !up->resp.tc) {
			/* store the question lower-cased, as without 0x20 */
			memcpy(up->rbuf + WIRE_HDR_LEN, s->q.key, s->q.qlen);
			if (!(sched_server_via(up->sched, server) & UP_NEED_AD))
				msg_distrust_ad(up->rbuf, up->resp.len);
			if (up->resp.positive)
				kind = ANS_POSITIVE;
			else if (up->resp.negative)
				kind = ANS_NEGATIVE;
		} else if (log_verbosity() >= 2) {
			log_debug("dropped a mismatched or malformed answer from %s",
			    up->sched->servers[server].label);
		}
	}
	/* SPEC 5: an unusable reply, or a packet the transport says was
	 * refused or failed, makes the server done for this search (not
	 * waited for); a mismatched reply (perhaps spoofed) does not */
	if (kind == ANS_NONE && tr != TR_MISMATCH)
		kind = tr == TR_FAILED ? ANS_FAILED : ANS_DONE;
	trace_result(s, a, tr, clock_now_ms());
	attempt_release(s, a);
	out = sched_on_answer(up->sched, &s->ss, server, kind, rtt, clock_now_ms());
	if (kind == ANS_FAILED && out == SCHED_CONTINUE)
		downgrade(s, server, clock_now_ms());
	if (kind == ANS_NEGATIVE)
		s->negvia &= sched_server_via(up->sched, server);
	if (out == SCHED_POSITIVE) {
		search_finish(s, UP_POSITIVE, true, up->rbuf, &up->resp,
		    up->sched->servers[server].label, sched_server_via(up->sched, server));
	} else if (out == SCHED_NEGATIVE) {
		search_finish(s, UP_NEGATIVE, true, up->rbuf, &up->resp,
		    up->sched->servers[server].label, s->negvia);
	} else if (kind == ANS_NEGATIVE) {
		/* keep it: returned (uncached) if the schedule runs out */
		uint8_t *copy = malloc(up->resp.len);

		if (copy && (s->negresp || (s->negresp = malloc(sizeof(*s->negresp))))) {
			memcpy(copy, up->rbuf, up->resp.len);
			free(s->neg);
			s->neg = copy;
			*s->negresp = up->resp;
			snprintf(s->neglabel, sizeof(s->neglabel), "%s",
			    up->sched->servers[server].label);
		} else {
			free(copy);
		}
	}
	if (out == SCHED_CONTINUE)
		settle_check(s);
}

/* 0x20: every letter of the name in random case (draft-vixie-dnsext-dns0x20) */
static void
mix_case(const uint8_t *key, size_t len, uint8_t *out)
{
	size_t i = 0, j;
	uint64_t bits = rand_u64();
	unsigned used = 0;

	memcpy(out, key, len);
	while (i < len && out[i] != 0) {
		size_t l = out[i];

		for (j = i + 1; j <= i + l && j < len; j++) {
			if (out[j] < 'a' || out[j] > 'z')
				continue;
			if (used == 64) {
				bits = rand_u64();
				used = 0;
			}
			if (bits & 1)
				out[j] = (uint8_t)(out[j] - 32);
			bits >>= 1;
			used++;
		}
		i += l + 1;
	}
}

static void send_one(struct up_search *s, size_t server, uint64_t now);

/*
 * SPEC 17: server's packet failed.  When it is an encrypted twin under
 * `auto` or `opportunistic`, its clear-text server is asked this query
 * instead (a downgrade: counted, logged once per server and network);
 * under `require` never.
 */
/* The clear-text server of twin `server` when a downgrade to it is
 * allowed (auto, opportunistic), else SIZE_MAX; logged once. */
static size_t
downgrade_to(struct up_search *s, size_t server)
{
	struct upstream *up = s->up;
	const struct cfg_server *tw = &up->cfg->servers[server];
	size_t clear;
	struct sched_server *cs;

	if (!tw->clear || (tw->encryption != ENC_AUTO && tw->encryption != ENC_OPPORTUNISTIC))
		return SIZE_MAX;
	clear = tw->clear - 1;
	/* SPEC 18: never to a server the name's rule does not allow */
	if (clear >= up->cfg->nservers || s->ss.ss[clear].done || s->ss.ss[clear].unfit)
		return SIZE_MAX;
	cs = &up->sched->servers[clear];
	if (!cs->downgrade_logged) {
		cs->downgrade_logged = true;
		log_warn("encrypted twin %s of %s failed: asking %s in clear text (encryption %s)",
		    up->sched->servers[server].label, cs->label, cs->label,
		    cfg_encryption_name(tw->encryption));
	}
	return clear;
}

static void
downgrade(struct up_search *s, size_t server, uint64_t now)
{
	size_t clear = downgrade_to(s, server);

	if (clear == SIZE_MAX || (s->ss.ss[clear].sent_mask & (1u << s->phase)))
		return;
	sched_downgrade_sent(s->up->sched, &s->ss, clear, s->phase);
	send_one(s, clear, now);
}

static void
send_one(struct up_search *s, size_t server, uint64_t now)
{
	struct upstream *up = s->up;
	struct attempt *a;
	uint8_t pkt[sizeof(s->pkt)];

	a = attempt_new(s);
	if (!a)
		return;
	a->search = s;
	a->tp = &up->tps[server];
	a->server = server;
	a->phase = s->phase;
	a->id = rand_u16();
	a->sent_ms = clock_now_ms_f();
	a->tr = trace_add(s, server, s->phase, (long)(now - s->t0), TR_PENDING, now);
	memcpy(pkt, s->pkt, s->pktlen);
	wire_set16_at(pkt, s->pktlen, 0, a->id);
	if (up->cfg->upstream_0x20 && !up->cfg->servers[server].no_0x20 &&
	    !up->sched->servers[server].no_0x20) {
		mix_case(s->q.key, s->q.qlen, a->qname);
		memcpy(pkt + WIRE_HDR_LEN, a->qname, s->q.qlen);
		a->mixed = true;
	}
	up->st->upstream_queries++;
	if (log_verbosity() >= 2) {
		char name[WIRE_NAME_TEXT];

		wire_name_to_text(s->q.key, s->q.qlen, name, sizeof(name));
		log_debug("phase %u: %s to %s", s->phase, name, up->sched->servers[server].label);
	}
	if (up->cfg->servers[server].clear && up->cfg->servers[server].encryption == ENC_REQUIRE)
		s->enc_required = true;
	a->req = a->tp->ops->send(a->tp->impl, server, pkt, s->pktlen, attempt_cb, a);
	if (!a->req) {
		/* the packet could not go out: that server is done */
		trace_result(s, a, TR_FAILED, now);
		sched_on_answer(up->sched, &s->ss, server, ANS_FAILED, -1, now);
		attempt_release(s, a);
		downgrade(s, server, now);
		return;
	}
	a->next = s->attempts;
	s->attempts = a;
}

static void phase_cb(evutil_socket_t fd, short what, void *arg);

static void
run_phase(struct up_search *s, uint64_t now)
{
	struct upstream *up = s->up;
	size_t n, i;
	struct timeval tv, zero = { 0, 0 };
	uint32_t ms = up->sched->timeouts_ms[s->phase];

	n = sched_phase_targets(up->sched, &s->ss, s->phase, now, s->targets);
	if (n == 0)
		s->phase_empty = true;
	for (i = 0; i < n && s->cb; i++)
		send_one(s, s->targets[i], now);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	s->settled = false;
	evtimer_add(s->phase_ev, n ? &tv : &zero);
	if (n)
		settle_check(s); /* every packet failed to go out */
}

static void
phase_cb(evutil_socket_t fd, short what, void *arg)
{
	struct up_search *s = arg;
	struct upstream *up = s->up;
	uint64_t now = clock_now_ms();

	(void)fd;
	(void)what;
	if (s->again) {
		/* the search the owner starts again carries the probe (trace) */
		again_carry.trace = s->trace;
		again_carry.t0 = s->t0;
		search_finish(s, UP_AGAIN, false, NULL, NULL, NULL, 0);
		again_carry.trace = NULL;
		return;
	}
	if (s->ddr_wait) { /* discovery took too long, or found nothing */
		s->ddr_wait = false;
		search_finish(s, UP_FAIL, false, NULL, NULL, NULL, 0);
		return;
	}
	if (!s->settled) { /* else it ended early: nothing timed out */
		struct attempt *la;

		up->st->upstream_timeouts += sched_on_phase_end(up->sched, &s->ss, s->phase);
		/* SPEC 17: a twin that timed out lets its clear-text server into
		 * the next phases (auto, opportunistic) */
		for (la = s->attempts; la; la = la->next) {
			size_t clear;

			if (la->phase == s->phase && up->cfg->servers[la->server].clear &&
			    !s->ss.ss[la->server].answered &&
			    (clear = downgrade_to(s, la->server)) != SIZE_MAX)
				sched_downgrade_allow(up->sched, &s->ss, clear);
		}
		/* a connection that stalled is replaced before the next phase */
		for (la = s->attempts; la; la = la->next)
			if (la->phase == s->phase && la->tp->ops->late)
				la->tp->ops->late(la->tp->impl, la->req);
	}
	if (s->trace && !s->settled) {
		struct attempt *a;

		for (a = s->attempts; a; a = a->next)
			if (a->phase == s->phase)
				trace_result(s, a, TR_TIMEOUT, now);
	}
	s->phase++;
	if (!s->phase_empty && s->phase < up->sched->nphases && sched_search_open(&s->ss)) {
		run_phase(s, now);
		return;
	}
	if (s->neg)
		search_finish(s, UP_NEGATIVE, false, s->neg, s->negresp, s->neglabel, s->negvia);
	else
		search_finish(s, UP_FAIL, false, NULL, NULL, NULL, 0);
}

static void
slow_cb(evutil_socket_t fd, short what, void *arg)
{
	struct up_search *s = arg;
	struct up_result r = { .kind = UP_SLOW, .now = clock_now_ms() };

	(void)fd;
	(void)what;
	s->cb(s->arg, &r);
}

/* ---------------- DDR (SPEC 17) ---------------- */

static void
probe_free(struct ddr_probe *p)
{
	struct ddr_probe **pp;

	for (pp = &p->up->probes; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->req)
		p->up->tps[p->server].ops->cancel(p->up->tps[p->server].impl, p->req);
	ddrverify_cancel(p->verify);
	free(p);
}

/* Discovery for server ended.  changed: the runtime twins changed (a new
 * engine follows, and searches waiting for it ask again there); else
 * searches waiting only for it end now (SERVFAIL, EDE 23). */
static void
ddr_settled(struct upstream *up, bool changed)
{
	struct list *l;
	struct timeval zero = { 0, 0 };
	uint64_t now = clock_now_ms();

	if (changed && up->ddr.changed && up->ddr_ev) {
		evtimer_add(up->ddr_ev, &zero);
		/* the engine that follows takes the searches waiting here */
		return;
	}
	list_for_each(l, &up->searches)
	{
		struct up_search *s = list_entry(l, struct up_search, node);
		size_t i;
		bool pending = false;

		if (!s->ddr_wait || s->again)
			continue;
		for (i = 0; i < up->cfg->nservers; i++) {
			const struct cfg_server *cs = &up->cfg->servers[i];
			struct ddr_entry *e;

			if (!s->ss.ss[i].skipped || !encryption_wants_ddr(cs))
				continue;
			e = ddr_entry_get(up->ddr.table, up->cfg->adapters[cs->adapter].name,
			    &cs->addr, false);
			if (e && ddr_pending(e, now))
				pending = true;
		}
		if (!pending && !changed)
			evtimer_add(s->phase_ev, &zero);
	}
}

static void
probe_result(struct ddr_probe *p, enum ddr_next next, bool rejected)
{
	struct upstream *up = p->up;
	struct ddr_entry *e = p->e;
	const char *label = sched_server_label(up->sched, p->server);

	if (rejected) {
		up->sched->servers[p->server].ddr_rejections++;
		log_warn("DDR: %s: designated resolver %s rejected: %s; %s", label,
		    e->cand.t.name[0] ? e->cand.t.name : "", e->why,
		    up->cfg->servers[p->server].encryption == ENC_REQUIRE ?
		        "no encrypted way to it (encryption require)" :
		        "it stays in clear text");
	}
	if (next == DDR_NEXT_CHANGED && e->installed) {
		const struct cfg_sockaddr *ta = &e->twin.t.addr;
		char host[INET6_ADDRSTRLEN] = "?";

		up->sched->servers[p->server].ddr_upgrades++;
		if (ta->ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)&ta->ss)->sin_addr, host,
			    sizeof(host));
		else if (ta->ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&ta->ss)->sin6_addr,
			    host, sizeof(host));
		log_msg(LOG_NOTICE, "DDR: %s upgraded to %s %s%s%s:%u#%s (%s)", label,
		    cfg_transport_name(e->twin.t.transport),
		    ta->ss.ss_family == AF_INET6 ? "[" : "", host,
		    ta->ss.ss_family == AF_INET6 ? "]" : "", (unsigned)e->twin.t.port,
		    e->twin.t.name,
		    e->twin.how == UPGRADE_DDR ? "verified" : "opportunistic, unverified");
	}
	probe_free(p);
	ddr_settled(up, next == DDR_NEXT_CHANGED);
}

static void
verify_cb(void *arg, bool ok, const char *why)
{
	struct ddr_probe *p = arg;
	bool rejected;
	enum ddr_next next;

	p->verify = NULL;
	next = ddr_on_verify(p->e, ok, why, p->up->cfg->servers[p->server].encryption,
	    clock_now_ms(), &rejected);
	probe_result(p, next, rejected);
}

static void
probe_cb(void *arg, const uint8_t *msg, size_t len)
{
	struct ddr_probe *p = arg;
	struct upstream *up = p->up;
	uint64_t now = clock_now_ms();
	bool rejected;
	enum ddr_next next;

	p->req = NULL;
	if (p->search && p->search->trace && p->tr >= 0) {
		struct up_trace_ev *ev = &p->search->trace->ev[p->tr];
		uint16_t fl = 0;

		ev->at_ms = (long)(now - p->search->t0);
		(void)wire_get16_at(msg, len, 2, &fl);
		ev->result = !msg                    ? TR_FAILED :
		    WIRE_RCODE(fl) == RCODE_NOERROR  ? TR_ANSWER :
		    WIRE_RCODE(fl) == RCODE_NXDOMAIN ? TR_NXDOMAIN :
		    WIRE_RCODE(fl) == RCODE_SERVFAIL ? TR_SERVFAIL :
		    WIRE_RCODE(fl) == RCODE_REFUSED  ? TR_REFUSED :
		                                       TR_RCODE;
	}
	next = ddr_on_probe(p->e, msg, len, now, &rejected);
	if (next == DDR_NEXT_VERIFY) {
		struct cfg_server cand;
		char why[200];

		memset(&cand, 0, sizeof(cand));
		cand.addr = p->e->cand.t.addr;
		cand.adapter = up->cfg->servers[p->server].adapter;
		cand.transport = p->e->cand.t.transport;
		snprintf(cand.auth_name, sizeof(cand.auth_name), "%s", p->e->cand.t.name);
		cand.san_ip = p->e->clear;
		p->verify = ddrverify_start(up->base, up->tls, up->cfg, &cand,
		    (uint32_t)DDR_PROBE_WAIT_MS, verify_cb, p, why, sizeof(why));
		if (p->verify)
			return;
		next = ddr_on_verify(p->e, false, why, ENC_OFF, now, &rejected);
	}
	probe_result(p, next, rejected);
}

/* SPEC 17: the first query (and the first after a network change or the
 * SVCB TTL) asks every clear-text server it could go to, under a policy
 * not `off` and without a twin of the table, `_dns.resolver.arpa. SVCB`.
 * Under require a search that has nobody else to ask waits for it. */
static void
ddr_kick(struct up_search *s, uint64_t now)
{
	struct upstream *up = s->up;
	size_t i;
	bool waiting = false, other = false;

	if (!up->ddr.table)
		return;
	for (i = 0; i < up->cfg->nservers && i < s->ss.nservers; i++) {
		const struct cfg_server *cs = &up->cfg->servers[i];
		const struct cfg_server *tw = cs->twin && cs->twin <= up->cfg->nservers ?
		    &up->cfg->servers[cs->twin - 1] :
		    NULL;
		struct ddr_entry *e;
		struct ddr_probe *p;

		if (!s->ss.considered[cs->adapter]) /* routing domains say no */
			continue;
		if (!s->ss.ss[i].skipped)
			other = true;
		if (cs->transport != XPORT_UDP || cs->encryption == ENC_OFF || cs->clear ||
		    (tw && tw->upgrade != UPGRADE_DDR && tw->upgrade != UPGRADE_DDR_OPP))
			continue;
		e = ddr_entry_get(up->ddr.table, up->cfg->adapters[cs->adapter].name, &cs->addr,
		    true);
		if (!e)
			continue;
		if (!tw && cs->encryption == ENC_REQUIRE && s->ss.ss[i].skipped &&
		    (ddr_probe_due(e, now) || ddr_pending(e, now)))
			waiting = true;
		if (!ddr_probe_due(e, now))
			continue;
		p = calloc(1, sizeof(*p));
		if (!p)
			continue;
		p->up = up;
		p->e = e;
		p->server = i;
		p->tr = -1;
		p->len = ddr_probe_query(rand_u16(), p->pkt, sizeof(p->pkt));
		p->next = up->probes;
		up->probes = p;
		ddr_probe_sent(e, now);
		up->sched->servers[i].ddr_probes++;
		/* the one clear-text packet allowed under require */
		p->req = up->tps[i].ops->send(up->tps[i].impl, i, p->pkt, p->len, probe_cb, p);
		if (!p->req) {
			probe_free(p);
			continue;
		}
		if (s->trace) {
			struct up_trace_ev ev = { .phase = 0,
				.sent_ms = (long)(now - s->t0),
				.result = TR_PENDING,
				.at_ms = -1,
				.ddr = true };

			snprintf(ev.adapter, sizeof(ev.adapter), "%s",
			    up->cfg->adapters[cs->adapter].name);
			snprintf(ev.server, sizeof(ev.server), "%s", cs->text);
			snprintf(ev.transport, sizeof(ev.transport), "%s",
			    cfg_transport_name(cs->transport));
			p->tr = up_trace_add(s->trace, &ev);
			p->search = s;
		}
	}
	s->ddr_wait = waiting && !other;
}

/* The engine is replaced: searches waiting for discovery ask the new one. */
static void
ddr_retire(struct upstream *up)
{
	struct list *l;
	struct timeval zero = { 0, 0 };

	list_for_each(l, &up->searches)
	{
		struct up_search *s = list_entry(l, struct up_search, node);

		if (s->ddr_wait) {
			s->again = true;
			evtimer_add(s->phase_ev, &zero);
		}
	}
}

/* The owner builds a new engine and retires this one: nothing of up may
 * be touched after the call (it may be freed inside). */
static void
ddr_ev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upstream *up = arg;

	(void)fd;
	(void)what;
	up->ddr.changed(up->ddr.arg);
}

void
upstream_set_ddr(struct upstream *up, const struct upstream_ddr *d)
{
	up->ddr = *d;
	if (!up->ddr_ev)
		up->ddr_ev = evtimer_new(up->base, ddr_ev_cb, up);
}

static struct up_search *
upstream_search(struct upstream *up, const struct msg_query *q, uint32_t slow_ms, bool trace,
    unsigned need, uint64_t now, up_cb cb, void *arg)
{
	/* one block: the search, its phase and slow timers, its target list */
	size_t evsz = (event_get_struct_event_size() + 15) & ~(size_t)15;
	size_t head = (sizeof(struct up_search) + 15) & ~(size_t)15;
	uint8_t *blk = malloc(head + 2 * evsz + (up->sched->nservers + 1) * sizeof(size_t));
	struct up_search *s = (struct up_search *)(void *)blk;

	if (!s)
		return NULL;
	/* the head only: the buffers after it are written before use, the
	 * timers by evtimer_assign, the targets by sched_phase_targets */
	memset(s, 0, offsetof(struct up_search, q));
	if (trace && !(s->trace = calloc(1, sizeof(*s->trace)))) {
		free(s);
		return NULL;
	}
	s->up = up;
	s->t0 = now;
	if (s->trace && again_carry.trace) {
		size_t k;

		/* asked again after discovery: the probe first, times from the
		 * first start */
		s->t0 = again_carry.t0;
		for (k = 0; k < again_carry.trace->n; k++)
			if (again_carry.trace->ev[k].ddr)
				(void)up_trace_add(s->trace, &again_carry.trace->ev[k]);
		again_carry.trace = NULL;
	}
	s->q = *q;
	s->cb = cb;
	s->arg = arg;
	s->need = need;
	s->negvia = UP_NEED_ENC | UP_NEED_AD;
	/* always OPT (SPEC 5c): a 1232-byte buffer, the client's DO */
	s->pktlen = msg_upstream_query(q, 0, q->key, true, s->pkt, sizeof(s->pkt));
	s->targets = (size_t *)(void *)(blk + head + 2 * evsz);
	s->phase_ev = (struct event *)(void *)(blk + head);
	if (evtimer_assign(s->phase_ev, up->base, phase_cb, s) != 0)
		s->phase_ev = NULL;
	if (slow_ms) {
		s->slow_ev = (struct event *)(void *)(blk + head + evsz);
		if (evtimer_assign(s->slow_ev, up->base, slow_cb, s) != 0)
			s->slow_ev = NULL;
	}
	if (!s->pktlen || !s->phase_ev || (slow_ms && !s->slow_ev) ||
	    sched_search_init_need(up->sched, &s->ss, q->key, q->qlen, need, now) != STUB_OK) {
		free(s->trace);
		sched_search_fini(&s->ss);
		free(s);
		return NULL;
	}
	trace_skipped(s, now);
	/* SPEC 17: a clear-text server held back by `require` (no twin) makes
	 * a failure say why (EDE 23) */
	{
		size_t i;

		for (i = 0; i < up->cfg->nservers && i < s->ss.nservers; i++)
			if (s->ss.ss[i].skipped && up->cfg->servers[i].transport == XPORT_UDP &&
			    up->cfg->servers[i].encryption == ENC_REQUIRE)
				s->enc_required = true;
	}
	list_push_front(&up->searches, &s->node);
	up->nsearches++;
	ddr_kick(s, now);
	if (s->ddr_wait) {
		/* SPEC 17 require: nothing goes out in clear text; the question
		 * waits for the discovery (bounded) and is asked again on the
		 * engine it brings */
		uint64_t total = 0;
		size_t k;
		struct timeval tv;

		for (k = 0; k < up->sched->nphases; k++)
			total += up->sched->timeouts_ms[k];
		if (total > DDR_PROBE_WAIT_MS * 2)
			total = DDR_PROBE_WAIT_MS * 2;
		tv.tv_sec = (time_t)(total / 1000);
		tv.tv_usec = (suseconds_t)(total % 1000) * 1000;
		evtimer_add(s->phase_ev, &tv);
		return s;
	}
	if (slow_ms) {
		struct timeval tv = { slow_ms / 1000, (slow_ms % 1000) * 1000 };

		evtimer_add(s->slow_ev, &tv);
	}
	/* phase 0 goes out now; callbacks never run inside this call because
	 * sched answers arrive through the event loop */
	if (up->sched->nphases == 0) {
		struct timeval zero = { 0, 0 };

		s->phase_empty = true;
		evtimer_add(s->phase_ev, &zero);
	} else {
		run_phase(s, now);
	}
	return s;
}

static void
upstream_cancel(struct upstream *up, struct up_search *s)
{
	if (!s)
		return;
	s->cb = NULL;
	search_free(s);
	/* a retired engine whose last search this was goes now, not on a
	 * timer that a loop being shut down would never run */
	if (up->retiring && up->nsearches == 0 && !up->freeing)
		upstream_free(up);
}

static struct up_search *
if_search(void *impl, const struct msg_query *q, uint32_t slow_ms, bool trace, unsigned need,
    uint64_t now, up_cb cb, void *arg)
{
	return upstream_search(impl, q, slow_ms, trace, need, now, cb, arg);
}

static void
if_cancel(void *impl, struct up_search *s)
{
	upstream_cancel(impl, s);
}

static bool
if_may_ask_private(void *impl, const uint8_t *qname, size_t qlen)
{
	return sched_may_ask_private(((struct upstream *)impl)->sched, qname, qlen);
}

void
upstream_set_down(struct upstream *up, size_t adapter, bool down)
{
	struct list *p;
	struct timeval zero = { 0, 0 };

	if (!up || adapter >= up->sched->nadapters || up->sched->adapters[adapter].down == down)
		return;
	up->sched->adapters[adapter].down = down;
	if (!down)
		return;
	/* searches waiting only on that link move to their next phase now */
	list_for_each(p, &up->searches)
	{
		struct up_search *s = list_entry(p, struct up_search, node);

		if (sched_phase_waits_only_on_down(up->sched, &s->ss, s->phase))
			evtimer_add(s->phase_ev, &zero);
	}
}

struct upstream_if
upstream_as_if(struct upstream *up)
{
	static const struct upstream_ops ops = { if_search, if_cancel, if_may_ask_private };
	struct upstream_if u = { &ops, up };

	return u;
}

static void
up_free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	upstream_free(arg);
}

void
upstream_retire(struct upstream *up)
{
	if (!up)
		return;
	up->retiring = true;
	ddr_retire(up);
	if (up->nsearches == 0)
		upstream_free(up);
}

void
upstream_free(struct upstream *up)
{
	size_t k;

	if (!up)
		return;
	up->freeing = true; /* no deferred free from search_free any more */
	while (up->probes)
		probe_free(up->probes);
	if (up->ddr_ev)
		event_free(up->ddr_ev);
	while (!list_empty(&up->searches)) {
		struct up_search *s = list_first(&up->searches, struct up_search, node);

		s->cb = NULL;
		search_free(s);
	}
	for (k = 0; k < XPORT_COUNT; k++)
		if (up->kinds[k].impl)
			up->kinds[k].ops->free(up->kinds[k].impl);
	free(up->tps);
	if (up->kill)
		event_free(up->kill);
	sched_free(up->sched);
	cfg_unref(up->cfg);
	free(up);
}
