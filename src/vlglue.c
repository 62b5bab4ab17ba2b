/*
 * vlglue.c - resolved-compat in the daemon: the varlink server of SPEC 16
 * wired to the query pipeline.  A varlink question enters resolver_query
 * as a client would, with a client_ref whose ctl carries VL_REF_TAG;
 * daemon_reply hands its answer to vlserver_answer.
 */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clock.h"
#include "daemon.h"
#include "json.h"
#include "resolve.h"
#include "vlserver.h"

/* ResetStatistics of the monitor: what DumpStatistics counts from, so the
 * daemon's own counters (stats, metrics) stay monotonic.  One daemon per
 * process. */
static struct stats vl_zero;

static int
vl_submit(void *arg, uint64_t id, const uint8_t *pkt, size_t len)
{
	struct daemon *d = arg;
	struct client_ref ref;

	if (!d->res)
		return -1;
	memset(&ref, 0, sizeof(ref));
	ref.fd = -1;
	/* a local question like stubctl query's: no ACL, no UDP size limit;
	 * the tag tells daemon_reply it is ours */
	ref.ctl = id;
	/* the packets of its search tell a timeout from a SERVFAIL */
	ref.trace = true;
	resolver_query(d->res, pkt, len, &ref, true, clock_now_ms());
	return 0;
}

static bool
vl_no_servers(void *arg)
{
	struct daemon *d = arg;

	return !d->cfg || d->cfg->nservers == 0;
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
	struct daemon *d = arg;
	const struct stats *s = &d->st;

	json_key(j, "transactions");
	json_obj_begin(j);
	json_key(j, "currentTransactions");
	json_u64(j, d->res ? resolver_inflight(d->res) : 0);
	put_u(j, "totalTransactions", s->upstream_queries, vl_zero.upstream_queries);
	put_u(j, "totalTimeouts", s->upstream_timeouts, vl_zero.upstream_timeouts);
	put_u(j, "totalTimeoutsServedStale", s->stale_served, vl_zero.stale_served);
	put_u(j, "totalFailedResponses", s->servfail, vl_zero.servfail);
	json_key(j, "totalFailedResponsesServedStale");
	json_u64(j, 0);
	json_obj_end(j);
	json_key(j, "cache");
	json_obj_begin(j);
	json_key(j, "size");
	json_u64(j, d->cache ? cache_count(d->cache) : 0);
	put_u(j, "hits", s->cache_hits, vl_zero.cache_hits);
	put_u(j, "misses", s->cache_misses, vl_zero.cache_misses);
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
	struct daemon *d = arg;

	vl_zero = d->st;
}

/* resolved-compat yes: /run/systemd/resolve/io.systemd.Resolve and
 * io.systemd.Resolve.Monitor, or in $STUBD_RESOLVE_DIR (tests); bound while
 * still privileged, after start_control (control_gid). */
enum stub_err
start_varlink(struct daemon *d, char *why, size_t whylen)
{
	struct vlserver_ops ops = { vl_submit, vl_no_servers, vl_dump_stats, vl_reset_stats, d,
		PACKAGE_VERSION };
	const char *dir = getenv("STUBD_RESOLVE_DIR");
	enum stub_err e;

	if (!d->cfg->resolved_compat)
		return STUB_OK;
	if (!dir || !*dir)
		dir = VL_RESOLVE_DIR;
	e = vlserver_new(d->base, dir, false, (unsigned)-1, &ops, &d->vl, why, whylen);
	if (e != STUB_OK)
		return e;
	/* the monitor's callers as the control socket's (SPEC 16, 11) */
	return vlserver_new(d->base, dir, true, (unsigned)d->control_gid, &ops, &d->vlmon, why,
	    whylen);
}
