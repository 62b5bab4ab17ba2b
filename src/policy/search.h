/*
 * search.h - the seam between the query pipeline (resolve.c) and whatever
 * asks upstream: "search for this question, call back once with the
 * outcome".  The c-ares engine (upstream.c) is one implementation; the
 * unit tests drive the pipeline through a fake one; encrypted transports
 * plug in beneath the same seam.
 *
 * Pure types, no I/O.  A search calls its callback at most once with
 * UP_SLOW and then exactly once with a final result, never from inside
 * the search() call itself; after the final callback, or after cancel(),
 * the search is gone.
 */
#ifndef STUBD_SEARCH_H
#define STUBD_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

struct up_search;

/* What came of one packet of a search (stubctl query, SPEC 15). */
enum up_trace_result {
	TR_PENDING = 0, /* no reply yet */
	TR_ANSWER,      /* positive answer */
	TR_NXDOMAIN,
	TR_NODATA,
	TR_SERVFAIL,
	TR_REFUSED,
	TR_FORMERR,
	TR_RCODE,     /* another rcode */
	TR_TRUNCATED, /* TC set even after TCP */
	TR_MISMATCH,  /* malformed, or not the question asked */
	TR_FAILED,    /* no reply: the transport failed (refused, TLS) */
	TR_TIMEOUT,   /* its phase ended without a reply */
	TR_CANCELLED, /* the search ended (answered elsewhere) first */
	TR_EXCLUDED,  /* not sent: the server or adapter is excluded */
	TR_DOWN,      /* not sent: the adapter's link is down */
	TR_RULE,      /* not sent: it does not qualify under the name's
		       * `rule ... require` (SPEC 18) */
};

#define UP_TRACE_MAX 64

struct up_trace_ev {
	unsigned phase;
	char adapter[32];
	char server[64];   /* "192.0.2.1:53" */
	char transport[8]; /* "udp", "tls", "https" */
	long sent_ms;      /* since the search began; -1 = not sent */
	enum up_trace_result result;
	long at_ms; /* when the result was known; -1 = never */
	bool late;  /* a reply after its phase had timed out */
	bool ddr;   /* the DDR probe (SPEC 17): phase "ddr" */
};

/* Every packet of one search, in the order sent (bounded). */
struct up_trace {
	size_t n;
	size_t dropped; /* events beyond UP_TRACE_MAX */
	struct up_trace_ev ev[UP_TRACE_MAX];
};

/* Record ev as the next packet of t (SPEC 15).  Its index in t->ev, or -1
 * when nothing is recorded: t is NULL (an untraced search) or full (then
 * counted in t->dropped). */
int up_trace_add(struct up_trace *t, const struct up_trace_ev *ev);

/*
 * SPEC 18: what a search may use (`rule NAME require encryption|ad`),
 * and what an answer was obtained through (up_result.via, cache entries).
 * UP_NEED_ENC: an authenticated tls/https server; UP_NEED_AD: a server
 * whose AD bit may be trusted (SPEC 12).  Whether a server qualifies is
 * decided in one place, sched_server_via() (schedule.h).
 */
enum up_need {
	UP_NEED_ENC = 1,
	UP_NEED_AD = 2,
};

enum up_kind {
	UP_POSITIVE, /* cache and serve */
	UP_NEGATIVE, /* serve; cacheable says whether every adapter agreed */
	UP_FAIL,     /* schedule ended, or nobody was left to ask, without an answer */
	UP_SLOW,     /* the slow_ms deadline passed; the search goes on */
	UP_AGAIN,    /* ended unasked: search again on the engine now running
			 * (it waited for a discovery that replaced the engine) */
};

struct up_result {
	enum up_kind kind;
	bool cacheable;
	uint8_t *msg; /* prepared response (OPT removed); callee may edit */
	const struct msg_resp *resp;
	const char *label;            /* answering server "addr:port%adapter" */
	uint64_t now;                 /* monotonic ms when the result arrived */
	const struct up_trace *trace; /* traced searches: every packet; else NULL */
	unsigned ifindex;             /* mDNS: the interface that answered (0 = none) */
	bool has_ede;                 /* UP_FAIL: say why (RFC 8914) */
	uint16_t ede;                 /* its INFO-CODE (23: encryption required, none left) */
	unsigned via;                 /* UP_POSITIVE/UP_NEGATIVE: enum up_need bits every
		       * server behind the answer satisfies (0: clear text) */
};

typedef void (*up_cb)(void *arg, const struct up_result *r);

struct upstream_ops {
	/* Start a search for q at time now.  slow_ms > 0: call back UP_SLOW
	 * after that long if no final result yet.  trace: record every packet
	 * (the final result carries it).  need: enum up_need bits; only
	 * servers that satisfy them are asked, none other (nothing to ask:
	 * UP_FAIL with has_ede, no packet sent).  NULL on failure. */
	struct up_search *(*search)(void *impl, const struct msg_query *q, uint32_t slow_ms,
	    bool trace, unsigned need, uint64_t now, up_cb cb, void *arg);
	/* End a search without calling back. */
	void (*cancel)(void *impl, struct up_search *s);
	/* May the private reverse name qname (RFC 6303, lower-cased) be asked
	 * of anyone (SPEC 5c)?  NULL: yes. */
	bool (*may_ask_private)(void *impl, const uint8_t *qname, size_t qlen);
};

/* An upstream as the pipeline sees it; impl NULL = no upstream at all. */
struct upstream_if {
	const struct upstream_ops *ops;
	void *impl;
};

#endif
