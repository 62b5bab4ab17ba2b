/*
 * schedule.h - upstream policy: adapters and servers, the phase schedule,
 * negative answers per adapter, exclusion and failback, RTT ordering and
 * routing domains (SPEC section 5); an adapter with default-route no takes
 * only names under its domains (SPEC 11).
 *
 * Pure: no sockets and no clock; every call that needs the time takes
 * `now` in milliseconds.  upstream.c does the I/O and calls in here.
 *
 * A struct sched holds long-lived per-server and per-adapter state
 * (SRTT, exclusion, counters).  A struct sched_search holds one search's
 * state; it refers to its sched by index only, so the sched must outlive it.
 */
#ifndef STUBD_SCHEDULE_H
#define STUBD_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "search.h"

#define SCHED_SLOW_MS 400.0 /* SRTT gap that moves a normal server back */
#define SCHED_MAX_PHASES CFG_MAX_TIMEOUTS
/* "tls://192.0.2.1:853#dns.example%lan" (cfg_server_url, '%', adapter) */
#define SCHED_LABEL_MAX (CFG_URL_MAX + CFG_NAME_MAX)

struct sched_server {
	size_t adapter;
	enum cfg_prio prio;
	char label[SCHED_LABEL_MAX]; /* "192.0.2.1:53%lan" */
	double srtt_ms;
	bool has_rtt;
	uint64_t excluded_until; /* 0 = not excluded */
	bool recovering;         /* exclusion ran out, no answer since */
	uint64_t queries, answers, timeouts;
	bool no_0x20;          /* did not echo the 0x20 case: asked without */
	uint64_t downgrades;   /* SPEC 17: queries its twin failed, asked in clear */
	bool downgrade_logged; /* logged once per server and network (engine) */
	uint64_t ddr_probes;     /* SPEC 17: DDR probes sent to it */
	uint64_t ddr_rejections; /* designated resolvers it offered, rejected */
	uint64_t ddr_upgrades;   /* encrypted twins DDR installed for it */
};

struct sched_adapter {
	int metric;
	bool down; /* its link is down: never asked */
	uint64_t excluded_until;
	bool recovering; /* exclusion ran out, no answer since */
	size_t *servers; /* indices, configured order */
	size_t nservers;
};

struct sched {
	const struct cfg *cfg; /* borrowed; names, domains, timeouts */
	struct sched_server *servers;
	size_t nservers;
	struct sched_adapter *adapters;
	size_t nadapters;
	uint32_t timeouts_ms[SCHED_MAX_PHASES];
	size_t nphases;
	uint32_t exclude_ms;
};

/* Per-server state inside one search. */
struct sched_sstate {
	uint32_t sent_mask; /* bit p: a packet went out in phase p */
	bool answered;      /* usable answer (positive or negative) */
	bool timed_out;
	bool done;    /* answered unusably or failed: not waited
				 * for, not asked again in this search */
	bool failed;  /* done without any reply (refused, reset) */
	bool skipped; /* excluded at the start: never asked */
	bool unfit;   /* does not satisfy the search's need (SPEC 18): never
			 * asked, not even as a downgrade */
	bool probe;   /* recovering at the start (failback) */
};

struct sched_search {
	size_t nservers, nadapters;
	bool *considered; /* per adapter: under consideration */
	bool *negative;   /* per adapter: said NXDOMAIN/NODATA */
	bool *left_out;   /* per adapter: excluded at the start */
	bool *ruled_out;  /* per adapter: routed to, but none of its servers
			   * satisfies the need (SPEC 18) */
	bool *probe;      /* per adapter: recovering at the start */
	struct sched_sstate *ss;
	unsigned phase;
	bool any_negative;
	bool private_only; /* RFC 6303 name no adapter routes: only servers
				 * on a private address (SPEC 5c) */
	unsigned need;     /* enum up_need: only servers satisfying it */
};

enum sched_outcome {
	SCHED_CONTINUE = 0,
	SCHED_POSITIVE, /* end now: positive answer */
	SCHED_NEGATIVE, /* end now: every adapter said negative */
};

/* ANS_NONE: nothing usable yet (a mismatched reply, which may be
 * spoofed): the server is still waited for.  ANS_DONE: SERVFAIL, REFUSED,
 * FORMERR or another unusable reply: the server answered, badly, and is
 * done for this search.  ANS_FAILED: no reply at all, the transport said
 * the packet was refused or failed (ICMP unreachable, a reset, a failed
 * handshake): done for this search too, and for exclusion its query went
 * unanswered, as though it had timed out (not counted as a timeout). */
enum sched_answer { ANS_POSITIVE, ANS_NEGATIVE, ANS_NONE, ANS_DONE, ANS_FAILED };

/* Build from a finished cfg (borrowed: it must outlive the sched). */
/* For observers (stubctl servers, metrics): read only.  The counters of
 * a transport (TLS handshakes) are its own (upstream_transport_stats). */
const struct cfg *sched_cfg(const struct sched *s);
size_t sched_nservers(const struct sched *s);
size_t sched_nadapters(const struct sched *s);
const struct sched_server *sched_server(const struct sched *s, size_t i);
const struct sched_adapter *sched_adapter(const struct sched *s, size_t a);
/* How the log names server i: "tls://192.0.2.1:853#dns.example%lan". */
const char *sched_server_label(const struct sched *s, size_t i);

struct sched *sched_new(const struct cfg *cfg);
void sched_free(struct sched *s);

/* Carry what `from` learnt over to `to` (a reload): SRTT, exclusion and
 * counters of every server still configured (same address, port and
 * adapter name) and the exclusion of every adapter still configured. */
void sched_inherit(struct sched *to, const struct sched *from);

/* A network change concerning adapter a: its RTT and exclusions are
 * forgotten (its servers keep their configured order and counters). */
void sched_forget(struct sched *s, size_t a);

/* Is every unanswered packet of this phase waiting on an adapter that
 * went down (so the phase may end now)?  false when none is waiting. */
bool sched_phase_waits_only_on_down(const struct sched *s, const struct sched_search *ss,
    unsigned phase);

/* End exclusions whose time ran out (failback: configured place, RTT
 * forgotten; the server or adapter is recovering until it answers or a
 * search it was asked in ends without its answer). */
void sched_refresh(struct sched *s, uint64_t now);
bool sched_server_excluded(const struct sched *s, size_t i, uint64_t now);
bool sched_adapter_excluded(const struct sched *s, size_t a, uint64_t now);

/* The asking order of an adapter's servers into out (size nservers of it). */
size_t sched_order(const struct sched *s, size_t adapter, size_t *out);

/* Start a search for qname (lower-cased wire form): routing domains decide
 * the adapters under consideration; excluded adapters (and excluded
 * servers inside an adapter) are left out for the whole search unless
 * that would leave nothing (SPEC 5, no needless waiting); a private
 * reverse name that no routing domain claims goes only to servers on a
 * private address.  STUB_ENOMEM. */
enum stub_err sched_search_init(struct sched *s, struct sched_search *ss, const uint8_t *qname,
    size_t qlen, uint64_t now);
/* The same for a name under `rule ... require` (SPEC 18): need (enum
 * up_need) takes every server that does not satisfy it out of the search
 * (unfit: never asked, no downgrade to it), and every adapter left
 * without one out of consideration, before routing domains and exclusion
 * are applied to what is left.  need 0 = sched_search_init. */
enum stub_err sched_search_init_need(struct sched *s, struct sched_search *ss, const uint8_t *qname,
    size_t qlen, unsigned need, uint64_t now);

/*
 * SPEC 18 (and 12): the enum up_need bits server i's answers satisfy:
 * UP_NEED_ENC for an authenticated tls/https server (a name or pins
 * checked; never clear text, never `insecure`), UP_NEED_AD for one whose
 * AD bit may reach clients (authenticated, or trust-ad).  The one place
 * that decides whether a server qualifies for a `require` rule and
 * whether its AD bit is kept; servers added at run time (DDR twins) are
 * judged here too.
 */
unsigned sched_server_via(const struct sched *s, size_t i);
void sched_search_fini(struct sched_search *ss);

/* May the private reverse name qname (RFC 6303) be asked of anyone: an
 * adapter whose routing domain covers it, or a server on a private address
 * in a default-route adapter?  true for any other name. */
bool sched_may_ask_private(const struct sched *s, const uint8_t *qname, size_t qlen);

/*
 * The servers to ask in phase `phase` (see SPEC section 5), written to out
 * (room for s->nservers).  Servers left out or done are not asked; a
 * recovering server or adapter is asked together with what would be asked
 * were it still excluded (failback without a stall).  Marks them sent in
 * this phase and counts their queries.  Returns the count (0 when nothing
 * is left to ask).
 */
size_t sched_phase_targets(struct sched *s, struct sched_search *ss, unsigned phase, uint64_t now,
    size_t *out);

/* An answer from server i (ANS_DONE: done for this search).  rtt_ms < 0:
 * unknown. */
enum sched_outcome sched_on_answer(struct sched *s, struct sched_search *ss, size_t i,
    enum sched_answer kind, double rtt_ms, uint64_t now);

/* The phase `phase` ran out: every packet of that phase without an answer
 * (whose server is not done) timed out.  Returns the number of packets
 * that timed out. */
unsigned sched_on_phase_end(struct sched *s, struct sched_search *ss, unsigned phase);

/* Is no packet of phase `phase` still waited for (each was answered, or
 * its server is done, or its adapter answered negatively or went down)?
 * Then the phase may end at once (nothing timed out).  true when nothing
 * was sent in it. */
bool sched_phase_settled(const struct sched *s, const struct sched_search *ss, unsigned phase);

/* Is anyone left to ask (an adapter under consideration that has not
 * answered negatively)? */
bool sched_search_open(const struct sched_search *ss);
/* SPEC 17: clear-text server i (a twin's fallback, never a target on its
 * own) is asked in phase because its twin failed: waited for from now on
 * in this search, and counted as a downgrade. */
void sched_downgrade_sent(struct sched *s, struct sched_search *ss, size_t i, unsigned phase);
/* The same when the twin timed out: i becomes a target of the next phases
 * of this search (counted once).  False when it already was one. */
bool sched_downgrade_allow(struct sched *s, struct sched_search *ss, size_t i);

/* The search ended: apply exclusions (SPEC section 5): a server that
 * timed out or failed and never replied is excluded; a recovering server
 * asked in it without a reply is excluded again, one that replied (even
 * badly) keeps its place. */
void sched_search_end(struct sched *s, struct sched_search *ss, uint64_t now);

#endif
