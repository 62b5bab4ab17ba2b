/*
 * vlglue.h - resolved-compat in the daemon: the varlink servers of SPEC 16
 * (io.systemd.Resolve and io.systemd.Resolve.Monitor) wired to the query
 * pipeline.  main.c owns one; it names what the glue reads of the daemon.
 */
#ifndef STUBD_VLGLUE_H
#define STUBD_VLGLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ctlcmd.h"
#include "err.h"
#include "resolve.h"
#include "stats.h"

struct cache;
struct event_base;
struct peer_policy;
struct vlglue;

/* What the glue reads of the daemon (pointers to the daemon's own, which
 * outlive the glue; res and cache may still be NULL when it starts). */
struct vlglue_env {
	struct event_base *base;
	struct resolver **res;
	struct cache **cache;
	struct stats *st;
	const struct cfg *(*cfg)(void *arg); /* the running configuration */
	void *arg;
	const struct peer_policy *peers; /* who may use the Monitor */
	/* the control view (main's view_pull): the servers DumpServerState
	 * shows, as `stubctl servers` does; NULL = none */
	control_view_fn view;
};

/* Bind io.systemd.Resolve and its Monitor in /run/systemd/resolve (or in
 * $STUBD_RESOLVE_DIR, for tests); called while still privileged. */
enum stub_err
vlglue_start(const struct vlglue_env *env, struct vlglue **out, char *why, size_t whylen);
/* An answer for a varlink question (its client_ref's ctl carries
 * VL_REF_TAG): true when it was one and has been handed over. */
bool vlglue_answer(struct vlglue *g, const struct client_ref *ref, const uint8_t *buf, size_t len,
    const struct reply_info *ri);
/* A question of a local client (varlink, D-Bus) into the pipeline, as
 * stubctl query's enters it: no ACL, its search traced, its answer through
 * daemon_reply with a client_ref whose ctl is id (a tagged id the
 * client's front end recognises).  0, or -1 when there is no pipeline. */
int vlglue_ask(struct resolver *res, uint64_t id, const uint8_t *pkt, size_t len);
/* ResetStatistics (the Monitor's, D-Bus's): resolved's counters start
 * again from zero; the daemon's own (stats, metrics) stay monotonic. */
void vlglue_reset_stats(struct vlglue *g);
/* The counters at the last ResetStatistics; NULL when g is NULL. */
const struct stats *vlglue_stats_zero(const struct vlglue *g);
/* Every answer, for the Monitor's subscribers. */
void vlglue_monitor(struct vlglue *g, const uint8_t *buf, size_t len);
void vlglue_free(struct vlglue *g);
/* The paths of its sockets (io.systemd.Resolve, then the Monitor) into
 * out[0..1]: the exit helper removes them after a privilege drop. */
size_t vlglue_paths(const struct vlglue *g, const char *out[2]);

#endif
