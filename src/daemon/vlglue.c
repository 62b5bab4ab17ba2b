/*
 * vlglue.c - resolved-compat in the daemon: the varlink server of SPEC 16
 * wired to the query pipeline.  A varlink question enters resolver_query
 * as a client would, with a client_ref whose ctl carries VL_REF_TAG;
 * daemon_reply hands its answer to vlserver_answer.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clock.h"
#include "vlglue.h"
#include "json.h"
#include "resolve.h"
#include "schedule.h"
#include "vlresolve.h"
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

/* DumpCache entries per part: a few hundred, as displaydns writes them */
#define VL_DUMP_PART 256

static int
dump_entry(const struct cache_info *ci, void *arg)
{
	struct json *j = arg;

	vlr_cache_entry(j, ci);
	return j->err;
}

/* DumpCache: the cache walked as displaydns walks it, in parts. */
static size_t
vl_dump_cache(void *arg, size_t pos, struct json *j)
{
	struct vlglue *g = arg;
	struct cache *cache = *g->env.cache;
	size_t next;

	if (!cache)
		return VL_DUMP_END;
	next = cache_foreach_from(cache, clock_now_ms(), pos, VL_DUMP_PART, dump_entry, j);
	return next == CACHE_END ? VL_DUMP_END : next;
}

/* resolved's name of a server: the address, ":port" when not 53, and
 * "#name" when it is asked by name (tls, https). */
static void
server_text(const struct cfg_server *cs, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_storage *ss = &cs->addr.ss;
	unsigned port = 53;
	size_t n;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
	}
	if (port == 53)
		n = (size_t)snprintf(buf, len, "%s", a);
	else if (ss->ss_family == AF_INET6)
		n = (size_t)snprintf(buf, len, "[%s]:%u", a, port);
	else
		n = (size_t)snprintf(buf, len, "%s:%u", a, port);
	if (n < len && cfg_transport_encrypted(cs->transport) && cs->auth_name[0])
		snprintf(buf + n, len - n, "#%s", cs->auth_name);
}

/* DumpServerState: every server of the running engine, adapter by
 * adapter in configured order, as `stubctl servers` lists them. */
static void
vl_dump_servers(void *arg, struct json *j)
{
	struct vlglue *g = arg;
	struct control_view v;
	size_t a, k;

	if (!g->env.view)
		return;
	g->env.view(g->env.arg, &v);
	if (!v.sched)
		return;
	for (a = 0; a < sched_nadapters(v.sched); a++) {
		const struct cfg_adapter *ca = &sched_cfg(v.sched)->adapters[a];
		const struct sched_adapter *sa = sched_adapter(v.sched, a);
		bool link = ca->origin == ORIGIN_DBUS || ca->origin == ORIGIN_CONTROL ||
		    ca->origin == ORIGIN_RESOLVCONF;
		unsigned ifindex = !ca->device[0] ? 0 :
		    ca->ifindex                   ? ca->ifindex :
		                                    if_nametoindex(ca->device);

		for (k = 0; k < sa->nservers; k++) {
			size_t i = sa->servers[k];
			const struct cfg_server *cs = &sched_cfg(v.sched)->servers[i];
			const struct sched_server *sv = sched_server(v.sched, i);
			char text[sizeof(cs->auth_name) + 64];

			server_text(cs, text, sizeof(text));
			vlr_server_state(j,
			    &(struct vlr_server){ .server = text,
			        .type = link ? "link" : "system",
			        .ifname = ca->device,
			        .ifindex = ifindex,
			        .encrypted = cfg_transport_encrypted(cs->transport),
			        .answered = sv->answers > 0,
			        .timeouts = sv->timeouts });
		}
	}
}

enum stub_err
vlglue_start(const struct vlglue_env *env, struct vlglue **out, char *why, size_t whylen)
{
	struct vlglue *g;
	struct vlserver_ops ops = { .submit = vl_submit,
		.no_servers = vl_no_servers,
		.dump_stats = vl_dump_stats,
		.reset_stats = vl_reset_stats,
		.version = PACKAGE_VERSION,
		.dump_cache = vl_dump_cache,
		.dump_servers = vl_dump_servers };
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

size_t
vlglue_paths(const struct vlglue *g, const char *out[2])
{
	size_t n = 0;

	if (g && vlserver_path(g->vl))
		out[n++] = vlserver_path(g->vl);
	if (g && vlserver_path(g->vlmon))
		out[n++] = vlserver_path(g->vlmon);
	return n;
}

const struct stats *
vlglue_stats_zero(const struct vlglue *g)
{
	return g ? &g->zero : NULL;
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
