/*
 * upstream.c - c-ares channels on libevent, phase timers, answer intake.
 *
 * One c-ares channel per server (TRIES=1, a timeout longer than the whole
 * schedule, NOCHECKRESP), so c-ares never retries on its own: every packet
 * is sent by a phase of a search.  Channels are recycled after a bounded
 * number of queries so the UDP source port does not stay fixed.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ares.h>
#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "rand.h"
#include "upstream.h"

#define CHAN_MAX_QUERIES 200
#define CHAN_MAX_AGE_MS 60000
#define MAX_FDS 8
#define CHAN_TIMEOUT_SLACK_MS 1000

struct up_chan;

struct attempt {
	struct up_search *search;     /* NULL: orphaned, free on callback */
	struct up_chan *chan;
	struct attempt *next;         /* in search->attempts */
	size_t server;
	double sent_ms;
	uint16_t id;
	bool mixed;                   /* qname below has randomised case */
	uint8_t qname[WIRE_NAME_MAX]; /* the question name as sent (0x20) */
};

struct fdev {
	ares_socket_t fd;
	struct event *ev;
};

struct up_chan {
	struct upstream *up;
	ares_channel ch;
	size_t server;
	struct event *tmr;
	struct fdev fds[MAX_FDS];
	unsigned sent;
	unsigned pending;
	uint64_t created;
	bool retired;
	bool destroying;
	struct event *kill;           /* deferred destruction */
	struct up_chan *next;         /* in up->chans */
};

struct up_search {
	struct upstream *up;
	struct up_search *prev, *next;
	struct msg_query q;
	uint8_t pkt[WIRE_HDR_LEN + WIRE_NAME_MAX + 4 + MSG_OPT_LEN];
	size_t pktlen;
	struct sched_search ss;
	unsigned phase;
	bool phase_empty;             /* nothing could be asked at all */
	struct event *phase_ev, *slow_ev;
	struct attempt *attempts;
	up_cb cb;
	void *arg;
	uint8_t *neg;                 /* last negative answer (copy) */
	struct msg_resp *negresp;
	char neglabel[CFG_NAME_MAX + 72];
	size_t *targets;
};

struct upstream {
	struct event_base *base;
	struct cfg *cfg;              /* one reference held */
	struct stats *st;
	struct sched *sched;
	struct up_chan **cur;         /* per server: channel taking new queries */
	struct up_chan *chans;        /* every live channel */
	struct up_search *searches;
	size_t nsearches;
	bool retiring;
	bool freeing;
	struct event *kill;           /* deferred free after retirement */
	uint32_t chan_timeout_ms;
	uint8_t rbuf[MSG_MAX + 1];
	struct msg_resp resp;
};

static void chan_destroy_later(struct up_chan *c);
static void chan_destroy_cb(evutil_socket_t fd, short what, void *arg);
static void search_finish(struct up_search *s, enum up_kind kind, bool cacheable,
    uint8_t *msg, const struct msg_resp *resp, const char *label);

/* ---------------- c-ares <-> libevent ---------------- */

static void
chan_rearm(struct up_chan *c)
{
	struct timeval tv, *t;

	if (c->destroying)
		return;
	t = ares_timeout(c->ch, NULL, &tv);
	if (!t) {
		evtimer_del(c->tmr);
		return;
	}
	tv.tv_usec += 1000;
	if (tv.tv_usec >= 1000000) {
		tv.tv_sec++;
		tv.tv_usec -= 1000000;
	}
	evtimer_add(c->tmr, &tv);
}

static void
chan_io(evutil_socket_t fd, short what, void *arg)
{
	struct up_chan *c = arg;

	ares_process_fd(c->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	chan_rearm(c);
}

static void
chan_tmr(evutil_socket_t fd, short what, void *arg)
{
	struct up_chan *c = arg;

	(void)fd;
	(void)what;
	ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	chan_rearm(c);
}

static void
chan_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct up_chan *c = data;
	struct fdev *slot = NULL, *free_slot = NULL;
	size_t i;

	for (i = 0; i < MAX_FDS; i++) {
		if (c->fds[i].ev && c->fds[i].fd == fd)
			slot = &c->fds[i];
		else if (!c->fds[i].ev && !free_slot)
			free_slot = &c->fds[i];
	}
	if (slot) {
		event_free(slot->ev);
		slot->ev = NULL;
	}
	if (!readable && !writable)
		return;
	if (!slot)
		slot = free_slot;
	if (!slot) {
		log_err("%s: too many sockets on one channel", __func__);
		return;
	}
	slot->fd = fd;
	slot->ev = event_new(c->up->base, fd,
	    (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0) | EV_PERSIST),
	    chan_io, c);
	if (!slot->ev || event_add(slot->ev, NULL) != 0)
		log_err("%s: cannot watch upstream socket", __func__);
}

static int
chan_sock_config(ares_socket_t fd, int type, void *data)
{
	struct up_chan *c = data;
	const struct cfg_adapter *a =
	    &c->up->cfg->adapters[c->up->cfg->servers[c->server].adapter];

	(void)type;
	if (a->device[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, a->device,
	        (socklen_t)strlen(a->device) + 1) != 0) {
		log_warn("cannot bind upstream socket to device %s: %s",
		    a->device, strerror(errno));
		return -1;
	}
	return 0;
}

static struct up_chan *
chan_new(struct upstream *up, size_t server)
{
	const struct cfg_server *cs = &up->cfg->servers[server];
	const struct cfg_adapter *a = &up->cfg->adapters[cs->adapter];
	struct ares_options o;
	struct up_chan *c = calloc(1, sizeof(*c));
	int mask, rc;
	char lookups[] = "b";

	if (!c)
		return NULL;
	c->up = up;
	c->server = server;
	c->created = clock_now_ms();
	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_NOCHECKRESP;
	o.tries = 1;
	o.timeout = (int)up->chan_timeout_ms;
	o.ndots = 1;
	o.sock_state_cb = chan_sock_state;
	o.sock_state_cb_data = c;
	o.servers = NULL;
	o.nservers = 0;
	o.domains = NULL;
	o.ndomains = 0;
	o.lookups = lookups;
	o.sortlist = NULL;
	o.nsort = 0;
	mask = ARES_OPT_FLAGS | ARES_OPT_TRIES | ARES_OPT_TIMEOUTMS | ARES_OPT_NDOTS |
	    ARES_OPT_SOCK_STATE_CB | ARES_OPT_SERVERS | ARES_OPT_DOMAINS |
	    ARES_OPT_LOOKUPS | ARES_OPT_SORTLIST | ARES_OPT_NOROTATE;
	rc = ares_init_options(&c->ch, &o, mask);
	if (rc != ARES_SUCCESS) {
		log_err("%s: ares_init_options: %s", __func__, ares_strerror(rc));
		free(c);
		return NULL;
	}
	rc = ares_set_servers_ports_csv(c->ch, cs->text);
	if (rc != ARES_SUCCESS) {
		log_err("%s: server %s: %s", __func__, cs->text, ares_strerror(rc));
		ares_destroy(c->ch);
		free(c);
		return NULL;
	}
	if (a->source.len) {
		const struct sockaddr *sa = (const struct sockaddr *)&a->source.ss;

		if (sa->sa_family == AF_INET)
			ares_set_local_ip4(c->ch,
			    ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
		else
			ares_set_local_ip6(c->ch,
			    ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
	}
	if (a->device[0])
		ares_set_socket_configure_callback(c->ch, chan_sock_config, c);
	c->tmr = evtimer_new(up->base, chan_tmr, c);
	c->kill = evtimer_new(up->base, chan_destroy_cb, c);
	if (!c->tmr || !c->kill) {
		if (c->tmr)
			event_free(c->tmr);
		if (c->kill)
			event_free(c->kill);
		ares_destroy(c->ch);
		free(c);
		return NULL;
	}
	c->next = up->chans;
	up->chans = c;
	return c;
}

static void
chan_free_now(struct up_chan *c)
{
	struct upstream *up = c->up;
	struct up_chan **pp;
	size_t i;

	c->destroying = true;
	ares_destroy(c->ch);   /* may call back attempts: they are orphans */
	for (i = 0; i < MAX_FDS; i++)
		if (c->fds[i].ev)
			event_free(c->fds[i].ev);
	event_free(c->tmr);
	event_free(c->kill);
	for (pp = &up->chans; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
}

static void
chan_destroy_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	chan_free_now(arg);
}

/* ares_destroy must not run inside a callback of the same channel */
static void
chan_destroy_later(struct up_chan *c)
{
	struct timeval zero = { 0, 0 };

	if (c->destroying)
		return;
	evtimer_add(c->kill, &zero);
}

static struct up_chan *
chan_for(struct upstream *up, size_t server, uint64_t now)
{
	struct up_chan *c = up->cur[server];

	if (c && (c->sent >= CHAN_MAX_QUERIES || now - c->created > CHAN_MAX_AGE_MS)) {
		c->retired = true;
		up->cur[server] = NULL;
		if (c->pending == 0)
			chan_destroy_later(c);
		c = NULL;
	}
	if (!c) {
		c = chan_new(up, server);
		up->cur[server] = c;
	}
	return c;
}

/* ---------------- engine ---------------- */

static void up_free_cb(evutil_socket_t fd, short what, void *arg);

enum stub_err
upstream_new(struct event_base *base, struct cfg *cfg, struct stats *st,
    struct upstream **out, char *why, size_t whylen)
{
	struct upstream *up = calloc(1, sizeof(*up));
	uint64_t total = 0;
	size_t i;

	*out = NULL;
	if (!up)
		goto fail;
	up->base = base;
	up->cfg = cfg_ref(cfg);
	up->st = st;
	up->sched = sched_new(cfg);
	up->cur = calloc(cfg->nservers + 1, sizeof(*up->cur));
	up->kill = evtimer_new(base, up_free_cb, up);
	if (!up->sched || !up->cur || !up->kill)
		goto fail;
	for (i = 0; i < cfg->ntimeouts; i++)
		total += cfg->timeouts_ms[i];
	/* c-ares must never time a query out before the schedule has */
	up->chan_timeout_ms = (uint32_t)(total + CHAN_TIMEOUT_SLACK_MS);
	*out = up;
	return STUB_OK;
fail:
	snprintf(why, whylen, "upstream engine: out of memory");
	upstream_free(up);
	return STUB_ENOMEM;
}

struct sched *
upstream_sched(struct upstream *up)
{
	return up->sched;
}

static void
search_free(struct up_search *s)
{
	struct upstream *up = s->up;
	struct attempt *a, *n;

	for (a = s->attempts; a; a = n) {
		n = a->next;
		a->search = NULL;   /* freed when c-ares calls back */
		a->next = NULL;
	}
	if (s->phase_ev)
		event_free(s->phase_ev);
	if (s->slow_ev)
		event_free(s->slow_ev);
	sched_search_fini(&s->ss);
	free(s->neg);
	free(s->negresp);
	free(s->targets);
	if (s->prev)
		s->prev->next = s->next;
	else
		up->searches = s->next;
	if (s->next)
		s->next->prev = s->prev;
	up->nsearches--;
	free(s);
	if (up->retiring && up->nsearches == 0 && !up->freeing) {
		struct timeval zero = { 0, 0 };

		evtimer_add(up->kill, &zero);
	}
}

static void
search_finish(struct up_search *s, enum up_kind kind, bool cacheable,
    uint8_t *msg, const struct msg_resp *resp, const char *label)
{
	struct up_result r;
	up_cb cb = s->cb;
	void *arg = s->arg;

	r.now = clock_now_ms();
	sched_search_end(s->up->sched, &s->ss, r.now);
	r.kind = kind;
	r.cacheable = cacheable;
	r.msg = msg;
	r.resp = resp;
	r.label = label;
	/* unlink first: the callback may start new searches */
	s->cb = NULL;
	cb(arg, &r);
	search_free(s);
}

static void
attempt_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct attempt *a = arg;
	struct up_search *s = a->search;
	struct up_chan *c = a->chan;
	struct upstream *up = c->up;
	enum sched_answer kind = ANS_NONE;
	enum sched_outcome out;
	struct attempt **pp;
	size_t server = a->server;
	double rtt;

	(void)timeouts;
	c->pending--;
	if (c->retired && c->pending == 0)
		chan_destroy_later(c);
	if (!s) {
		free(a);
		return;
	}
	for (pp = &s->attempts; *pp; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	rtt = clock_now_ms_f() - a->sent_ms;
	if (status == ARES_SUCCESS && abuf && alen > 0 && (size_t)alen <= MSG_MAX) {
		memcpy(up->rbuf, abuf, (size_t)alen);
		if (msg_store_prepare(up->rbuf, (size_t)alen, a->id,
		    a->mixed ? a->qname : s->q.key, s->q.qlen,
		    s->q.qtype, s->q.qclass, &up->resp) == 0 && !up->resp.tc) {
			/* store the question lower-cased, as without 0x20 */
			memcpy(up->rbuf + WIRE_HDR_LEN, s->q.key, s->q.qlen);
			if (up->resp.positive)
				kind = ANS_POSITIVE;
			else if (up->resp.negative)
				kind = ANS_NEGATIVE;
		} else if (log_verbosity() >= 2) {
			log_debug("dropped a mismatched or malformed answer from %s",
			    up->sched->servers[server].label);
		}
	}
	free(a);
	out = sched_on_answer(up->sched, &s->ss, server, kind, rtt, clock_now_ms());
	if (out == SCHED_POSITIVE) {
		search_finish(s, UP_POSITIVE, true, up->rbuf, &up->resp,
		    up->sched->servers[server].label);
	} else if (out == SCHED_NEGATIVE) {
		search_finish(s, UP_NEGATIVE, true, up->rbuf, &up->resp,
		    up->sched->servers[server].label);
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

static void
send_one(struct up_search *s, size_t server, uint64_t now)
{
	struct upstream *up = s->up;
	struct up_chan *c = chan_for(up, server, now);
	struct attempt *a;
	uint8_t pkt[sizeof(s->pkt)];

	if (!c)
		return;
	a = calloc(1, sizeof(*a));
	if (!a)
		return;
	a->search = s;
	a->chan = c;
	a->server = server;
	a->id = rand_u16();
	a->sent_ms = clock_now_ms_f();
	a->next = s->attempts;
	s->attempts = a;
	memcpy(pkt, s->pkt, s->pktlen);
	wire_set16_at(pkt, s->pktlen, 0, a->id);
	if (up->cfg->upstream_0x20 && !up->cfg->servers[server].no_0x20) {
		mix_case(s->q.key, s->q.qlen, a->qname);
		memcpy(pkt + WIRE_HDR_LEN, a->qname, s->q.qlen);
		a->mixed = true;
	}
	c->sent++;
	c->pending++;
	up->st->upstream_queries++;
	if (log_verbosity() >= 2) {
		char name[WIRE_NAME_TEXT];

		wire_name_to_text(s->q.key, s->q.qlen, name, sizeof(name));
		log_debug("phase %u: %s to %s", s->phase, name,
		    up->sched->servers[server].label);
	}
	/* may call attempt_cb at once (e.g. ECONNREFUSED) */
	ares_send(c->ch, pkt, (int)s->pktlen, attempt_cb, a);
	chan_rearm(c);
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
	evtimer_add(s->phase_ev, n ? &tv : &zero);
}

static void
phase_cb(evutil_socket_t fd, short what, void *arg)
{
	struct up_search *s = arg;
	struct upstream *up = s->up;
	uint64_t now = clock_now_ms();

	(void)fd;
	(void)what;
	up->st->upstream_timeouts += sched_on_phase_end(up->sched, &s->ss, s->phase);
	s->phase++;
	if (!s->phase_empty && s->phase < up->sched->nphases && sched_search_open(&s->ss)) {
		run_phase(s, now);
		return;
	}
	if (s->neg)
		search_finish(s, UP_NEGATIVE, false, s->neg, s->negresp, s->neglabel);
	else
		search_finish(s, UP_FAIL, false, NULL, NULL, NULL);
}

static void
slow_cb(evutil_socket_t fd, short what, void *arg)
{
	struct up_search *s = arg;
	struct up_result r = { UP_SLOW, false, NULL, NULL, NULL, clock_now_ms() };

	(void)fd;
	(void)what;
	s->cb(s->arg, &r);
}

static struct up_search *
upstream_search(struct upstream *up, const struct msg_query *q, uint32_t slow_ms,
    uint64_t now, up_cb cb, void *arg)
{
	struct up_search *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->up = up;
	s->q = *q;
	s->cb = cb;
	s->arg = arg;
	s->pktlen = msg_upstream_query(q, 0, q->key, q->edns, s->pkt, sizeof(s->pkt));
	s->targets = calloc(up->sched->nservers + 1, sizeof(size_t));
	s->phase_ev = evtimer_new(up->base, phase_cb, s);
	if (slow_ms)
		s->slow_ev = evtimer_new(up->base, slow_cb, s);
	if (!s->pktlen || !s->targets || !s->phase_ev || (slow_ms && !s->slow_ev) ||
	    sched_search_init(up->sched, &s->ss, q->key, q->qlen, now) != 0) {
		if (s->phase_ev)
			event_free(s->phase_ev);
		if (s->slow_ev)
			event_free(s->slow_ev);
		free(s->targets);
		sched_search_fini(&s->ss);
		free(s);
		return NULL;
	}
	s->next = up->searches;
	if (up->searches)
		up->searches->prev = s;
	up->searches = s;
	up->nsearches++;
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
if_search(void *impl, const struct msg_query *q, uint32_t slow_ms, uint64_t now,
    up_cb cb, void *arg)
{
	return upstream_search(impl, q, slow_ms, now, cb, arg);
}

static void
if_cancel(void *impl, struct up_search *s)
{
	upstream_cancel(impl, s);
}

void
upstream_set_down(struct upstream *up, size_t adapter, bool down)
{
	struct up_search *s;
	struct timeval zero = { 0, 0 };

	if (!up || adapter >= up->sched->nadapters || up->sched->adapters[adapter].down == down)
		return;
	up->sched->adapters[adapter].down = down;
	if (!down)
		return;
	/* searches waiting only on that link move to their next phase now */
	for (s = up->searches; s; s = s->next)
		if (sched_phase_waits_only_on_down(up->sched, &s->ss, s->phase))
			evtimer_add(s->phase_ev, &zero);
}

struct upstream_if
upstream_as_if(struct upstream *up)
{
	static const struct upstream_ops ops = { if_search, if_cancel };
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
	if (up->nsearches == 0)
		upstream_free(up);
}

void
upstream_free(struct upstream *up)
{
	if (!up)
		return;
	up->freeing = true;   /* no deferred free from search_free any more */
	while (up->searches) {
		up->searches->cb = NULL;
		search_free(up->searches);
	}
	while (up->chans)
		chan_free_now(up->chans);
	if (up->kill)
		event_free(up->kill);
	sched_free(up->sched);
	free(up->cur);
	cfg_unref(up->cfg);
	free(up);
}
