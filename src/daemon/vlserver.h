/*
 * vlserver.h - the varlink socket of SPEC 16 (io.systemd.Resolve) on
 * libevent: accept (bounded, with a pause), one call at a time per
 * connection, calls handed to vlresolve.c, questions to the daemon through
 * ops->submit, answers back through vlserver_answer.
 */
#ifndef STUBD_VLSERVER_H
#define STUBD_VLSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct event_base;
struct json;
struct reply_info;
struct vlserver;
struct peer_policy;

#define VL_RESOLVE_DIR "/run/systemd/resolve"
#define VL_RESOLVE_SOCKET "io.systemd.Resolve"
#define VL_MONITOR_SOCKET "io.systemd.Resolve.Monitor"
#define VL_MAX_CONNS 1024
/* The bit set in the id of every varlink question, which travels in a
 * client_ref's ctl (stubctl query's ids never reach it). */
#define VL_REF_TAG (UINT64_C(1) << 63)
#define VL_OUT_MAX (256 * 1024) /* unread replies before a connection stops reading */

struct vlserver_ops {
	/* Hand a DNS query to the pipeline with a client_ref whose ctl is id;
	 * its answer comes back through vlserver_answer (maybe at once).
	 * 0, or -1 when it cannot be asked. */
	int (*submit)(void *arg, uint64_t id, const uint8_t *pkt, size_t len);
	/* No upstream server is configured. */
	bool (*no_servers)(void *arg);
	/* io.systemd.Resolve.Monitor: DumpStatistics' members; ResetStatistics */
	void (*dump_stats)(void *arg, struct json *j);
	void (*reset_stats)(void *arg);
	void *arg;
	const char *version;
	/* DumpCache, written in parts as the client reads: CacheEntry
	 * objects from walk position pos (0 first), a few hundred a call;
	 * returns where to go on, or VL_DUMP_END */
	size_t (*dump_cache)(void *arg, size_t pos, struct json *j);
	/* DumpServerState: one ServerState object per server */
	void (*dump_servers)(void *arg, struct json *j);
};
#define VL_DUMP_END SIZE_MAX

/* Listen on dir/io.systemd.Resolve (mode 0666; dir created if missing),
 * or with monitor on dir/io.systemd.Resolve.Monitor, whose calls only the
 * peers the policy allows may make (root, stubd's user, control-group;
 * peers is the daemon's and outlives the server). */
enum stub_err vlserver_new(struct event_base *base, const char *dir, bool monitor,
    const struct peer_policy *peers, const struct vlserver_ops *ops, struct vlserver **out,
    char *why, size_t whylen);
/* Monitor: is anyone subscribed; stream an answer to the subscribers
 * (dropped for one whose unread replies pass VL_OUT_MAX). */
bool vlserver_monitor_active(const struct vlserver *s);
void vlserver_monitor_answer(struct vlserver *s, const uint8_t *buf, size_t len);
void vlserver_free(struct vlserver *s);
/* The socket's path (removed by vlserver_free). */
const char *vlserver_path(const struct vlserver *s);
/* The answer to the query submitted with id (stale ids are ignored). */
void vlserver_answer(struct vlserver *s, uint64_t id, const uint8_t *buf, size_t len,
    const struct reply_info *ri);

#endif
