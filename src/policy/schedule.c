/*
 * schedule.c - upstream policy (SPEC section 5), pure.
 */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localzone.h"
#include "encryption.h"
#include "schedule.h"

/* collect() and sched_phase_targets() keep their scratch lists on the
 * stack up to this many servers or adapters (the search path allocates
 * nothing for them) */
#define SCHED_STACK_N 32

struct sched *
sched_new(const struct cfg *cfg)
{
	struct sched *s = calloc(1, sizeof(*s));
	size_t i;

	if (!s)
		return NULL;
	s->cfg = cfg;
	s->nservers = cfg->nservers;
	s->nadapters = cfg->nadapters;
	s->servers = calloc(s->nservers ? s->nservers : 1, sizeof(*s->servers));
	s->adapters = calloc(s->nadapters ? s->nadapters : 1, sizeof(*s->adapters));
	if (!s->servers || !s->adapters)
		goto fail;
	for (i = 0; i < s->nadapters; i++) {
		s->adapters[i].metric = cfg->adapters[i].metric;
		s->adapters[i].servers = calloc(cfg->nservers ? cfg->nservers : 1, sizeof(size_t));
		if (!s->adapters[i].servers)
			goto fail;
	}
	for (i = 0; i < s->nservers; i++) {
		const struct cfg_server *cs = &cfg->servers[i];
		struct sched_adapter *a = &s->adapters[cs->adapter];
		char url[SCHED_LABEL_MAX - CFG_NAME_MAX - 1];

		s->servers[i].adapter = cs->adapter;
		s->servers[i].prio = cs->prio;
		cfg_server_url(cs, url, sizeof(url));
		snprintf(s->servers[i].label, sizeof(s->servers[i].label), "%s%%%s", url,
		    cfg->adapters[cs->adapter].name);
		a->servers[a->nservers++] = i;
	}
	memcpy(s->timeouts_ms, cfg->timeouts_ms, sizeof(s->timeouts_ms));
	s->nphases = cfg->ntimeouts;
	s->exclude_ms = cfg->exclude_ms;
	return s;
fail:
	sched_free(s);
	return NULL;
}

const struct cfg *
sched_cfg(const struct sched *s)
{
	return s->cfg;
}

size_t
sched_nservers(const struct sched *s)
{
	return s->nservers;
}

size_t
sched_nadapters(const struct sched *s)
{
	return s->nadapters;
}

const struct sched_server *
sched_server(const struct sched *s, size_t i)
{
	return &s->servers[i];
}

const struct sched_adapter *
sched_adapter(const struct sched *s, size_t a)
{
	return &s->adapters[a];
}

const char *
sched_server_label(const struct sched *s, size_t i)
{
	return s && i < s->nservers ? s->servers[i].label : "?";
}

void
sched_free(struct sched *s)
{
	size_t i;

	if (!s)
		return;
	if (s->adapters)
		for (i = 0; i < s->nadapters; i++)
			free(s->adapters[i].servers);
	free(s->adapters);
	free(s->servers);
	free(s);
}

void
sched_inherit(struct sched *to, const struct sched *from)
{
	size_t i, k;

	if (!to || !from)
		return;
	for (i = 0; i < to->nservers; i++) {
		struct sched_server *t = &to->servers[i];

		for (k = 0; k < from->nservers; k++) {
			const struct sched_server *f = &from->servers[k];

			if (strcmp(t->label, f->label) != 0)
				continue;
			t->srtt_ms = f->srtt_ms;
			t->has_rtt = f->has_rtt;
			t->excluded_until = f->excluded_until;
			t->recovering = f->recovering;
			t->queries = f->queries;
			t->answers = f->answers;
			t->timeouts = f->timeouts;
			t->downgrades = f->downgrades;
			t->ddr_probes = f->ddr_probes;
			t->ddr_rejections = f->ddr_rejections;
			t->ddr_upgrades = f->ddr_upgrades;
			break;
		}
	}
	for (i = 0; i < to->nadapters; i++)
		for (k = 0; k < from->nadapters; k++)
			if (strcmp(to->cfg->adapters[i].name, from->cfg->adapters[k].name) == 0) {
				to->adapters[i].excluded_until = from->adapters[k].excluded_until;
				to->adapters[i].recovering = from->adapters[k].recovering;
				break;
			}
}

void
sched_forget(struct sched *s, size_t a)
{
	size_t i;

	if (!s || a >= s->nadapters)
		return;
	s->adapters[a].excluded_until = 0;
	s->adapters[a].recovering = false;
	for (i = 0; i < s->adapters[a].nservers; i++) {
		struct sched_server *sv = &s->servers[s->adapters[a].servers[i]];

		sv->excluded_until = 0;
		sv->recovering = false;
		sv->has_rtt = false;
		sv->srtt_ms = 0;
	}
}

void
sched_refresh(struct sched *s, uint64_t now)
{
	size_t i;

	for (i = 0; i < s->nservers; i++) {
		struct sched_server *sv = &s->servers[i];

		if (sv->excluded_until && now >= sv->excluded_until) {
			sv->excluded_until = 0;
			sv->has_rtt = false; /* failback: configured place again */
			sv->srtt_ms = 0;
			sv->recovering = true;
		}
	}
	for (i = 0; i < s->nadapters; i++)
		if (s->adapters[i].excluded_until && now >= s->adapters[i].excluded_until) {
			s->adapters[i].excluded_until = 0;
			s->adapters[i].recovering = true;
		}
}

bool
sched_server_excluded(const struct sched *s, size_t i, uint64_t now)
{
	return s->servers[i].excluded_until > now;
}

bool
sched_adapter_excluded(const struct sched *s, size_t a, uint64_t now)
{
	return s->adapters[a].excluded_until > now;
}

size_t
sched_order(const struct sched *s, size_t adapter, size_t *out)
{
	const struct sched_adapter *a = &s->adapters[adapter];
	size_t n = 0, i, nfirst, nnormal, rounds;
	int p;

	for (p = PRIO_FIRST; p <= PRIO_LAST; p++)
		for (i = 0; i < a->nservers; i++)
			if ((int)s->servers[a->servers[i]].prio == p)
				out[n++] = a->servers[i];
	/* among normal servers: one more than 400 ms slower than a later one
	 * moves behind it; unmeasured servers keep their place */
	nfirst = 0;
	while (nfirst < n && s->servers[out[nfirst]].prio == PRIO_FIRST)
		nfirst++;
	nnormal = 0;
	while (nfirst + nnormal < n && s->servers[out[nfirst + nnormal]].prio == PRIO_NORMAL)
		nnormal++;
	for (rounds = 0; rounds < nnormal * nnormal + 1; rounds++) {
		size_t *v = out + nfirst, x, y;
		bool moved = false;

		for (x = 0; x < nnormal && !moved; x++) {
			const struct sched_server *sx = &s->servers[v[x]];

			if (!sx->has_rtt)
				continue;
			for (y = nnormal; y-- > x + 1;) {
				const struct sched_server *sy = &s->servers[v[y]];
				size_t t, k;

				if (!sy->has_rtt || sx->srtt_ms <= sy->srtt_ms + SCHED_SLOW_MS)
					continue;
				t = v[x];
				for (k = x; k < y; k++)
					v[k] = v[k + 1];
				v[y] = t;
				moved = true;
				break;
			}
		}
		if (!moved)
			break;
	}
	return n;
}

/*
 * Decided once, when the search starts (SPEC 5, no needless waiting):
 * excluded adapters are under consideration only when nothing else is;
 * an excluded server only when nothing else in its adapter is.  What is
 * left out never re-enters this search.  Recovering servers and adapters
 * are noted: they are asked together with what would be asked without
 * them.
 */
static void
leave_out_excluded(const struct sched *s, struct sched_search *ss, uint64_t now)
{
	size_t a, k;
	bool other = false;

	for (a = 0; a < s->nadapters; a++)
		if (ss->considered[a] && !sched_adapter_excluded(s, a, now))
			other = true;
	for (a = 0; a < s->nadapters; a++) {
		const struct sched_adapter *ad = &s->adapters[a];
		bool inside = false;

		if (!ss->considered[a])
			continue;
		if (other && sched_adapter_excluded(s, a, now)) {
			ss->considered[a] = false;
			ss->left_out[a] = true;
			continue;
		}
		ss->probe[a] = ad->recovering;
		for (k = 0; k < ad->nservers; k++)
			if (!sched_server_excluded(s, ad->servers[k], now) &&
			    !encryption_held_back(&s->cfg->servers[ad->servers[k]]) &&
			    !ss->ss[ad->servers[k]].unfit)
				inside = true;
		for (k = 0; k < ad->nservers; k++) {
			size_t i = ad->servers[k];

			/* a clear-text server with an encrypted twin (SPEC 17) is
			 * asked only through sched_downgrade_sent; under require
			 * without a twin, never; one unfit for the search's
			 * need (SPEC 18), never */
			ss->ss[i].skipped = (inside && sched_server_excluded(s, i, now)) ||
			    encryption_held_back(&s->cfg->servers[i]) || ss->ss[i].unfit;
			ss->ss[i].probe = s->servers[i].recovering;
		}
	}
}

/* Is server i on a private address (may know private reverse names)? */
static bool
server_private(const struct sched *s, size_t i)
{
	return localzone_private_addr((const struct sockaddr *)&s->cfg->servers[i].addr.ss);
}

static bool
adapter_private(const struct sched *s, size_t a)
{
	size_t k;

	for (k = 0; k < s->adapters[a].nservers; k++)
		if (server_private(s, s->adapters[a].servers[k]))
			return true;
	return false;
}

bool
sched_may_ask_private(const struct sched *s, const uint8_t *qname, size_t qlen)
{
	const struct cfg *cfg = s->cfg;
	size_t a, d;

	if (localzone_kind(qname, qlen) != LZ_PRIVATE_REVERSE)
		return true;
	for (a = 0; a < s->nadapters; a++) {
		if (!s->adapters[a].nservers)
			continue;
		for (d = 0; d < cfg->adapters[a].ndomains; d++)
			if (wire_name_under(qname, qlen, cfg->adapters[a].domains[d].name,
			        cfg->adapters[a].domains[d].len))
				return true;
		if (cfg->adapters[a].default_route && adapter_private(s, a))
			return true;
	}
	return false;
}

unsigned
sched_server_via(const struct sched *s, size_t i)
{
	const struct cfg_server *cs;
	unsigned via = 0;

	/* a server the configuration does not hold (one added at run time)
	 * qualifies for nothing until it is judged here */
	if (!s || i >= s->nservers || i >= s->cfg->nservers)
		return 0;
	cs = &s->cfg->servers[i];
	if (cfg_server_authenticated(cs))
		via |= UP_NEED_ENC;
	if (cfg_server_trusts_ad(cs))
		via |= UP_NEED_AD;
	return via;
}

/* Does adapter a have a server that satisfies the search's need? */
static bool
adapter_fit(const struct sched *s, const struct sched_search *ss, size_t a)
{
	size_t k;

	for (k = 0; k < s->adapters[a].nservers; k++)
		if (!ss->ss[s->adapters[a].servers[k]].unfit)
			return true;
	return false;
}

enum stub_err
sched_search_init(struct sched *s, struct sched_search *ss, const uint8_t *qname, size_t qlen,
    uint64_t now)
{
	return sched_search_init_need(s, ss, qname, qlen, 0, now);
}

enum stub_err
sched_search_init_need(struct sched *s, struct sched_search *ss, const uint8_t *qname, size_t qlen,
    unsigned need, uint64_t now)
{
	const struct cfg *cfg = s->cfg;
	size_t a, d, i;
	long best = -1;

	memset(ss, 0, sizeof(*ss));
	sched_refresh(s, now);
	ss->nservers = s->nservers;
	ss->nadapters = s->nadapters;
	/* one block per search: the server states, then the five per-adapter
	 * flag arrays (owned by ss->ss, freed by sched_search_fini) */
	{
		size_t nb = s->nadapters + 1;
		uint8_t *blk = calloc(1, (s->nservers + 1) * sizeof(*ss->ss) + 5 * nb);

		if (!blk)
			return STUB_ENOMEM;
		ss->ss = (struct sched_sstate *)(void *)blk;
		blk += (s->nservers + 1) * sizeof(*ss->ss);
		ss->considered = (bool *)blk;
		ss->negative = (bool *)(blk + nb);
		ss->left_out = (bool *)(blk + 2 * nb);
		ss->ruled_out = (bool *)(blk + 3 * nb);
		ss->probe = (bool *)(blk + 4 * nb);
	}
	/* SPEC 18: a server that does not satisfy the need is out of the
	 * search, and so is an adapter left without one (below) */
	ss->need = need;
	for (i = 0; i < s->nservers; i++)
		ss->ss[i].unfit = (sched_server_via(s, i) & need) != need;
	/* routing domains: the adapters claiming the longest matching domain */
	for (a = 0; a < s->nadapters; a++)
		for (d = 0; d < cfg->adapters[a].ndomains; d++) {
			const struct cfg_domain *dom = &cfg->adapters[a].domains[d];

			if (s->adapters[a].nservers &&
			    wire_name_under(qname, qlen, dom->name, dom->len) &&
			    (long)dom->len > best)
				best = (long)dom->len;
		}
	ss->private_only = best < 0 && localzone_kind(qname, qlen) == LZ_PRIVATE_REVERSE;
	for (a = 0; a < s->nadapters; a++) {
		if (!s->adapters[a].nservers || s->adapters[a].down)
			continue; /* a down link is not waited for, not even for a negative */
		if (best < 0) {
			/* no routing domain claims the name: the default-route adapters */
			ss->considered[a] = cfg->adapters[a].default_route &&
			    (!ss->private_only || adapter_private(s, a));
			continue;
		}
		for (d = 0; d < cfg->adapters[a].ndomains; d++) {
			const struct cfg_domain *dom = &cfg->adapters[a].domains[d];

			if ((long)dom->len == best &&
			    wire_name_under(qname, qlen, dom->name, dom->len))
				ss->considered[a] = true;
		}
	}
	for (a = 0; a < s->nadapters; a++)
		if (ss->considered[a] && !adapter_fit(s, ss, a)) {
			/* nobody there may be asked for this name */
			ss->considered[a] = false;
			ss->ruled_out[a] = true;
		}
	leave_out_excluded(s, ss, now);
	return STUB_OK;
}

void
sched_search_fini(struct sched_search *ss)
{
	free(ss->ss); /* the block holding the flag arrays too */
	ss->considered = ss->negative = ss->left_out = ss->ruled_out = ss->probe = NULL;
	ss->ss = NULL;
}

static bool
open_adapter(const struct sched_search *ss, size_t a)
{
	return ss->considered[a] && !ss->negative[a];
}

/* Is an adapter other than the recovering ones under consideration? */
static bool
others_considered(const struct sched_search *ss)
{
	size_t a;

	for (a = 0; a < ss->nadapters; a++)
		if (ss->considered[a] && !ss->probe[a])
			return true;
	return false;
}

/* Must the search still hear from adapter a?  A recovering adapter is
 * asked as though it were still excluded: the search does not wait for
 * it when others are under consideration (failback without a stall). */
static bool
needed_adapter(const struct sched_search *ss, size_t a)
{
	return open_adapter(ss, a) && (!ss->probe[a] || !others_considered(ss));
}

/* A recovering server asked beside another server of its adapter that is
 * not recovering: nobody waits for it. */
static bool
shadowed_server(const struct sched *s, const struct sched_search *ss, size_t i)
{
	const struct sched_adapter *ad = &s->adapters[s->servers[i].adapter];
	size_t k;

	if (!ss->ss[i].probe)
		return false;
	for (k = 0; k < ad->nservers; k++) {
		const struct sched_sstate *st = &ss->ss[ad->servers[k]];

		if (ad->servers[k] != i && !st->probe && !st->skipped)
			return true;
	}
	return false;
}

bool
sched_search_open(const struct sched_search *ss)
{
	size_t a;

	for (a = 0; a < ss->nadapters; a++)
		if (needed_adapter(ss, a))
			return true;
	return false;
}

/* adapters in preference order: metric, then configured order */
static size_t
adapters_by_metric(const struct sched *s, const struct sched_search *ss, size_t *out)
{
	size_t n = 0, a, i;

	for (a = 0; a < s->nadapters; a++) {
		if (!open_adapter(ss, a))
			continue;
		i = n;
		while (i > 0 && s->adapters[out[i - 1]].metric > s->adapters[a].metric) {
			out[i] = out[i - 1];
			i--;
		}
		out[i] = a;
		n++;
	}
	return n;
}

/* skip_probe: as though recovering servers and adapters were still
 * excluded (without the "nothing else" rule: then nothing). */
static size_t
collect(const struct sched *s, const struct sched_search *ss, unsigned phase, uint64_t now,
    bool skip_probe, size_t *out)
{
	size_t ads_buf[SCHED_STACK_N], ord_buf[SCHED_STACK_N];
	size_t *ads = s->nadapters < SCHED_STACK_N ? ads_buf :
	                                             calloc(s->nadapters + 1, sizeof(size_t));
	size_t *ord = s->nservers < SCHED_STACK_N ? ord_buf :
	                                            calloc(s->nservers + 1, sizeof(size_t));
	size_t nad, n = 0, k, j, m;

	(void)now; /* what is excluded was decided when the search began */
	if (!ads || !ord) {
		if (ads != ads_buf)
			free(ads);
		if (ord != ord_buf)
			free(ord);
		return 0;
	}
	nad = adapters_by_metric(s, ss, ads);
	for (k = 0; k < nad; k++) {
		size_t a = ads[k];

		if (s->adapters[a].down)
			continue; /* its link is down: nothing can reach them */
		if (skip_probe && ss->probe[a])
			continue;
		m = sched_order(s, a, ord);
		for (j = 0; j < m; j++) {
			const struct sched_sstate *st = &ss->ss[ord[j]];

			if (st->skipped || st->done || (skip_probe && st->probe))
				continue;
			if (ss->private_only && !server_private(s, ord[j]))
				continue; /* it cannot know the name (SPEC 5c) */
			out[n++] = ord[j];
			if (phase <= 1)
				break; /* first server of the adapter only */
		}
		if (phase == 0 && n > 0)
			break; /* the preferred adapter only */
	}
	if (ads != ads_buf)
		free(ads);
	if (ord != ord_buf)
		free(ord);
	return n;
}

size_t
sched_phase_targets(struct sched *s, struct sched_search *ss, unsigned phase, uint64_t now,
    size_t *out)
{
	size_t n, i, k, m;
	size_t more_buf[SCHED_STACK_N], *more;

	if (phase >= 32)
		return 0;
	n = collect(s, ss, phase, now, false, out);
	/* failback without a stall: in the same moment, what would be asked
	 * were the recovering ones still excluded */
	more = s->nservers < SCHED_STACK_N ? more_buf : calloc(s->nservers + 1, sizeof(size_t));
	if (more) {
		m = collect(s, ss, phase, now, true, more);
		for (k = 0; k < m; k++) {
			for (i = 0; i < n && out[i] != more[k]; i++)
				;
			if (i == n)
				out[n++] = more[k];
		}
		if (more != more_buf)
			free(more);
	}
	for (i = 0; i < n; i++) {
		ss->ss[out[i]].sent_mask |= 1u << phase;
		s->servers[out[i]].queries++;
	}
	ss->phase = phase;
	return n;
}

enum sched_outcome
sched_on_answer(struct sched *s, struct sched_search *ss, size_t i, enum sched_answer kind,
    double rtt_ms, uint64_t now)
{
	struct sched_server *sv = &s->servers[i];
	size_t a = sv->adapter;

	(void)now;
	if (kind == ANS_NONE || i >= ss->nservers)
		return SCHED_CONTINUE;
	if (kind == ANS_DONE || kind == ANS_FAILED) {
		ss->ss[i].done = true;
		ss->ss[i].failed |= kind == ANS_FAILED;
		return SCHED_CONTINUE;
	}
	ss->ss[i].answered = true;
	sv->answers++;
	if (rtt_ms >= 0) {
		if (sv->has_rtt)
			sv->srtt_ms = 0.7 * sv->srtt_ms + 0.3 * rtt_ms;
		else
			sv->srtt_ms = rtt_ms;
		sv->has_rtt = true;
	}
	/* an answer from an excluded server ends its (and its adapter's) exclusion */
	sv->excluded_until = 0;
	s->adapters[a].excluded_until = 0;
	sv->recovering = false; /* failback: its place restored */
	s->adapters[a].recovering = false;
	if (kind == ANS_POSITIVE)
		return SCHED_POSITIVE;
	ss->negative[a] = true;
	ss->any_negative = true;
	return sched_search_open(ss) ? SCHED_CONTINUE : SCHED_NEGATIVE;
}

void
sched_downgrade_sent(struct sched *s, struct sched_search *ss, size_t i, unsigned phase)
{
	if (i >= ss->nservers || i >= s->nservers || ss->ss[i].unfit)
		return;
	ss->ss[i].skipped = false;
	ss->ss[i].sent_mask |= 1u << phase;
	s->servers[i].queries++;
	s->servers[i].downgrades++;
}

bool
sched_downgrade_allow(struct sched *s, struct sched_search *ss, size_t i)
{
	if (i >= ss->nservers || i >= s->nservers || !ss->ss[i].skipped || ss->ss[i].sent_mask ||
	    ss->ss[i].unfit)
		return false;
	ss->ss[i].skipped = false;
	s->servers[i].downgrades++;
	return true;
}

unsigned
sched_on_phase_end(struct sched *s, struct sched_search *ss, unsigned phase)
{
	unsigned n = 0;
	size_t i;

	if (phase >= 32)
		return 0;
	for (i = 0; i < ss->nservers; i++) {
		if (s->adapters[s->servers[i].adapter].down)
			continue; /* not a timeout: the link went down */
		if ((ss->ss[i].sent_mask & (1u << phase)) && !ss->ss[i].answered &&
		    !ss->ss[i].done) {
			ss->ss[i].timed_out = true;
			s->servers[i].timeouts++;
			n++;
		}
	}
	return n;
}

bool
sched_phase_waits_only_on_down(const struct sched *s, const struct sched_search *ss, unsigned phase)
{
	size_t i;
	bool any = false;

	if (phase >= 32)
		return false;
	for (i = 0; i < ss->nservers; i++) {
		if (!(ss->ss[i].sent_mask & (1u << phase)) || ss->ss[i].answered)
			continue;
		if (!s->adapters[s->servers[i].adapter].down)
			return false;
		any = true;
	}
	return any;
}

bool
sched_phase_settled(const struct sched *s, const struct sched_search *ss, unsigned phase)
{
	size_t i;

	if (phase >= 32)
		return true;
	for (i = 0; i < ss->nservers; i++) {
		const struct sched_sstate *st = &ss->ss[i];
		size_t a = s->servers[i].adapter;

		if (!(st->sent_mask & (1u << phase)) || st->answered || st->done)
			continue;
		if (needed_adapter(ss, a) && !s->adapters[a].down && !shadowed_server(s, ss, i))
			return false;
	}
	return true;
}

/* A reply of any kind, even SERVFAIL: the server is not silent. */
static bool
replied(const struct sched_sstate *st)
{
	return st->answered || (st->done && !st->failed);
}

/* A recovering server or adapter asked in this search: back in its place
 * when it replied, excluded again when it stayed silent (or its packets
 * failed) to the end. */
static void
end_probation(struct sched *s, struct sched_search *ss, uint64_t now)
{
	size_t i, a, k;

	for (i = 0; i < ss->nservers; i++) {
		const struct sched_sstate *st = &ss->ss[i];
		struct sched_server *sv = &s->servers[i];

		if (!st->probe || !st->sent_mask || !sv->recovering)
			continue;
		sv->recovering = false;
		if (!replied(st) && s->exclude_ms)
			sv->excluded_until = now + s->exclude_ms;
	}
	for (a = 0; a < ss->nadapters; a++) {
		struct sched_adapter *ad = &s->adapters[a];
		bool asked = false, heard = false;

		if (!ss->probe[a] || !ad->recovering)
			continue;
		for (k = 0; k < ad->nservers; k++) {
			const struct sched_sstate *st = &ss->ss[ad->servers[k]];

			asked |= st->sent_mask != 0;
			heard |= replied(st);
		}
		if (!asked)
			continue;
		ad->recovering = false;
		if (!heard && s->exclude_ms)
			ad->excluded_until = now + s->exclude_ms;
	}
}

void
sched_search_end(struct sched *s, struct sched_search *ss, uint64_t now)
{
	size_t i, a;

	end_probation(s, ss, now);
	if (s->exclude_ms == 0)
		return;
	for (i = 0; i < ss->nservers; i++)
		if ((ss->ss[i].timed_out || ss->ss[i].failed) && !replied(&ss->ss[i]))
			s->servers[i].excluded_until = now + s->exclude_ms;
	for (a = 0; a < ss->nadapters; a++) {
		const struct sched_adapter *ad = &s->adapters[a];
		bool asked = false, all_timed_out = true;

		for (i = 0; i < ad->nservers; i++) {
			const struct sched_sstate *st = &ss->ss[ad->servers[i]];

			if (!st->sent_mask)
				continue;
			asked = true;
			if ((!st->timed_out && !st->failed) || replied(st))
				all_timed_out = false;
		}
		if (asked && all_timed_out)
			s->adapters[a].excluded_until = now + s->exclude_ms;
	}
}
