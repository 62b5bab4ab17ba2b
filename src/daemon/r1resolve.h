/*
 * r1resolve.h - the lookups of org.freedesktop.resolve1.Manager (SPEC 16,
 * `resolved-compat yes`): ResolveHostname, ResolveAddress, ResolveRecord,
 * ResolveService and ResetStatistics with systemd-resolved's signatures,
 * flags and error names, added to resolve1.c's Manager object.
 *
 * A lookup enters the query pipeline as a DNS client's question does
 * (hosts, cache, in-flight, schedule: vlglue_ask) with a client_ref whose
 * ctl carries R1_REF_TAG; daemon_reply hands its answers back through
 * r1resolve_answer, and the reply goes out when the last one is in.  The
 * D-Bus message is held (a reference) until then; a caller that leaves
 * the bus drops its calls, and r1resolve_free drops what is still waiting.
 * Any local user may look up; ResetStatistics is checked as SPEC 11.
 */
#ifndef STUBD_R1RESOLVE_H
#define STUBD_R1RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "resolve.h"

struct event_base;
struct resolve1;
struct r1resolve;

/* The bit set in the id of every D-Bus question (in a client_ref's ctl);
 * varlink's ids have bit 63 and stubctl query's are small. */
#define R1_REF_TAG (UINT64_C(1) << 62)

/* What the lookups read of the daemon (the daemon's own, outliving them;
 * *res may still be NULL). */
struct r1resolve_env {
	struct event_base *base;
	struct resolver **res;
	const struct cfg *(*cfg)(void *arg); /* the running configuration */
	void (*reset_stats)(void *arg);      /* ResetStatistics */
	void *arg;
};

/* Add the methods to bus's Manager object. */
enum stub_err r1resolve_new(const struct r1resolve_env *env, struct resolve1 *bus,
    struct r1resolve **out, char *why, size_t whylen);
/* An answer for a D-Bus question (ref->ctl carries R1_REF_TAG): true when
 * it was one (stale ids are ignored). */
bool r1resolve_answer(struct r1resolve *o, const struct client_ref *ref, const uint8_t *buf,
    size_t len, const struct reply_info *ri);
/* Before resolve1_free: the calls still waiting are dropped unanswered. */
void r1resolve_free(struct r1resolve *o);

#endif
