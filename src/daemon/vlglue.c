/*
 * vlglue.c - resolved-compat in the daemon: the varlink server of SPEC 16
 * wired to the query pipeline.  A varlink question enters resolver_query
 * as a client would, with a client_ref whose ctl carries VL_REF_TAG;
 * daemon_reply hands its answer to vlserver_answer.
 */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clock.h"
#include "vlglue.h"
#include "json.h"
#include "resolve.h"
#include "vlserver.h"

struct vlglue {
	struct vlglue_env env;
	struct vlserver *vl;    /* io.systemd.Resolve */
	struct vlserver *vlmon; /* io.systemd.Resolve.Monitor */
	/* ResetStatistics of the monitor: what DumpStatistics counts from,
	 * so the daemon's own counters (stats, metrics) stay monotonic */
	struct stats zero;
};

int
vlglue_ask(struct resolver *res, uint64_t id, const uint8_t *pkt, size_t len)
{
	struct client_ref ref;

	if (!res)
		return -1;
	memset(&ref, 0, sizeof(ref));
	ref.fd = -1;
	/* a local question like stubctl query's: no ACL, no UDP size limit;
	 * the tag tells daemon_reply it is ours */
	ref.ctl = id;
	/* the packets of its search tell a timeout from a SERVFAIL */
	ref.trace = true;
	resolver_query(res, pkt, len, &ref, true, clock_now_ms());
	return 0;
}

static int
vl_submit(void *arg, uint64_t id, const uint8_t *pkt, size_t len)
{
	struct vlglue *g = arg;

	return vlglue_ask(*g->env.res, id, pkt, len);
}

static bool
vl_no_servers(void *arg)
{
	struct vlglue *g = arg;
	const struct cfg *c = g->env.cfg(g->env.arg);

	return !c || c->nservers == 0;
}

static void
put_u(struct json *j, const char *k, uint64_t now, uint64_t zero)
{
	json_key(j, k);
	json_u64(j, now >= zero ? now - zero : 0);
}

/* DumpStatistics' members, in resolved's names. */
static void
vl_dump_stats(void *arg, struct json *j)
{
	struct vlglue *g = arg;
	const struct stats *s = g->env.st, *zero = &g->zero;
	struct resolver *res = *g->env.res;
	struct cache *cache = *g->env.cache;

	json_key(j, "transactions");
	json_obj_begin(j);
	json_key(j, "currentTransactions");
	json_u64(j, res ? resolver_inflight(res) : 0);
	put_u(j, "totalTransactions", s->upstream_queries, zero->upstream_queries);
	put_u(j, "totalTimeouts", s->upstream_timeouts, zero->upstream_timeouts);
	put_u(j, "totalTimeoutsServedStale", s->stale_served, zero->stale_served);
	put_u(j, "totalFailedResponses", s->servfail, zero->servfail);
	json_key(j, "totalFailedResponsesServedStale");
	json_u64(j, 0);
	json_obj_end(j);
	json_key(j, "cache");
	json_obj_begin(j);
	json_key(j, "size");
	json_u64(j, cache ? cache_count(cache) : 0);
	put_u(j, "hits", s->cache_hits, zero->cache_hits);
	put_u(j, "misses", s->cache_misses, zero->cache_misses);
	json_obj_end(j);
	json_key(j, "dnssec");
	json_obj_begin(j);
	json_key(j, "secure");
	json_u64(j, 0);
	json_key(j, "insecure");
	json_u64(j, 0);
	json_key(j, "bogus");
	json_u64(j, 0);
	json_key(j, "indeterminate");
	json_u64(j, 0);
	json_obj_end(j);
}

static void
vl_reset_stats(void *arg)
{
	struct vlglue *g = arg;

	g->zero = *g->env.st;
}

enum stub_err
vlglue_start(const struct vlglue_env *env, struct vlglue **out, char *why, size_t whylen)
{
	struct vlglue *g;
	struct vlserver_ops ops = { vl_submit, vl_no_servers, vl_dump_stats, vl_reset_stats, NULL,
		PACKAGE_VERSION };
	const char *dir = getenv("STUBD_RESOLVE_DIR");
	enum stub_err e;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(why, whylen, "varlink: out of memory");
		return STUB_ENOMEM;
	}
	g->env = *env;
	ops.arg = g;
	if (!dir || !*dir)
		dir = VL_RESOLVE_DIR;
	e = vlserver_new(env->base, dir, false, env->peers, &ops, &g->vl, why, whylen);
	/* the monitor's callers as the control socket's (SPEC 16, 11) */
	if (e == STUB_OK)
		e = vlserver_new(env->base, dir, true, env->peers, &ops, &g->vlmon, why, whylen);
	if (e != STUB_OK) {
		vlglue_free(g);
		return e;
	}
	*out = g;
	return STUB_OK;
}

bool
vlglue_answer(struct vlglue *g, const struct client_ref *ref, const uint8_t *buf, size_t len,
    const struct reply_info *ri)
{
	if (!g || !(ref->ctl & VL_REF_TAG))
		return false;
	vlserver_answer(g->vl, ref->ctl, buf, len, ri);
	return true;
}

void
vlglue_monitor(struct vlglue *g, const uint8_t *buf, size_t len)
{
	if (g && vlserver_monitor_active(g->vlmon))
		vlserver_monitor_answer(g->vlmon, buf, len);
}

void
vlglue_reset_stats(struct vlglue *g)
{
	if (g)
		vl_reset_stats(g);
}

void
vlglue_free(struct vlglue *g)
{
	if (!g)
		return;
	vlserver_free(g->vl);
	vlserver_free(g->vlmon);
	free(g);
}
