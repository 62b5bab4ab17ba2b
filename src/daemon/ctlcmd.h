/*
 * ctlcmd.h - the control commands (SPEC section 8), without a socket.
 *
 * The commands are those of the table in stubd/ctl.h; this module holds
 * the daemon's side of each.  What they show and change they reach
 * through struct control_view, pulled from the daemon (control_view_fn)
 * whenever they run.  Every answer is
 * a JSON document the caller frees.
 */
#ifndef STUBD_CTLCMD_H
#define STUBD_CTLCMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stubd/ctl.h"
#include "cache.h"
#include "config.h"
#include "err.h"
#include "hosts.h"
#include "resolve.h"
#include "schedule.h"
#include "stats.h"
#include "transport.h"

/* Commands the socket side answers later, with the daemon's help. */
enum ctl_later_kind {
	CTL_LATER_NONE = 0,
	CTL_LATER_QUERY,   /* ask as a client would; ctl_query_json answers */
	CTL_LATER_MONITOR, /* one ctl_monitor_json line per answer, until closed */
};

struct ctl_later {
	enum ctl_later_kind kind;
	uint8_t qname[WIRE_NAME_MAX]; /* CTL_LATER_QUERY: the question */
	size_t qlen;
	uint16_t qtype;
};

struct sysfacts;

struct control_view {
	struct cache *cache;
	const struct hosts *hosts;
	struct sched *sched;
	struct stats *st;
	const struct cfg *cfg;
	uint64_t hosts_gen;           /* changes whenever hosts is replaced */
	const struct sysfacts *facts; /* the interfaces as last read (sysfacts.h) */
	/* re-read configuration and hosts; 0 or -1 with a message (the
	 * FILE:LINE lines after it); on success err holds the warnings
	 * ("... on restart"), one per line, or "" */
	enum stub_err (*reload)(void *arg, char *err, size_t errlen);
	/* stubctl link IFNAME ...: argv[0] is "link"; on failure a message */
	enum stub_err (*link)(void *arg, int argc, char **argv, char *err, size_t errlen);
	/* stubctl query: ask req's question as a client would, the answer to
	 * come back through control_query_done(id); on failure a message. */
	enum stub_err (
	    *query)(void *arg, uint64_t id, const struct ctl_later *req, char *err, size_t errlen);
	/* what server's transport counts, and its state ("connected",
	 * "idle" or "failed: REASON" of a tls/https server) */
	void (*transport_stats)(void *arg, size_t server, struct transport_stats *out);
	/* reload the hosts file (after flushdns) */
	void (*hosts_reload)(void *arg);
	void *arg;
};

/* Fill *out with the daemon's state as it is now (the control socket and
 * the metrics pull it whenever they answer). */
typedef void (*control_view_fn)(void *arg, struct control_view *out);

struct ctl_stream;

/*
 * Start answering one request line (no newline): *doc gets the whole JSON
 * document, or *stream a document written in parts (displaydns), so a
 * large answer never stops the daemon nor sits in memory whole, or (all
 * NULL) *later says what the socket side does (query, monitor; later NULL:
 * those are refused).  *access (may be NULL) tells whether the command
 * changes state.
 */
void control_start(const struct control_view *v, const char *line, char **doc,
    struct ctl_stream **stream, enum ctl_access *access, struct ctl_later *later);

/* The answer of stubctl query (SPEC 15): where the answer came from, its
 * rcode and records, and the packets of its search.  Caller frees. */
char *ctl_query_json(const uint8_t *msg, size_t len, const struct reply_info *ri);
/* One line of stubctl monitor (no newline): wall_ms is the time of day in
 * ms since the epoch; client NULL for a control query.  Caller frees. */
char *ctl_monitor_json(const struct reply_info *ri, const struct sockaddr *client,
    const uint8_t *msg, size_t len, uint64_t wall_ms);
/* One value of `stats` (the Prometheus exposition names it after key). */
struct ctl_stat {
	const char *key; /* CTL_K_* */
	uint64_t value;
	bool gauge; /* else a counter */
};
#define CTL_MAX_STATS 32
/* The values of `stats`, in its order, into out[CTL_MAX_STATS]. */
size_t ctl_stats_values(const struct control_view *v, uint64_t now, struct ctl_stat *out);

/* "answer", "NXDOMAIN", "timeout", ... (trace results) */
const char *ctl_trace_result(enum up_trace_result r);
/* The next part of a streamed document (caller frees; may be ""), *done
 * once it is complete.  v must be the current view.  NULL on OOM. */
char *ctl_stream_next(struct ctl_stream *s, const struct control_view *v, uint64_t now, size_t *len,
    bool *done);
void ctl_stream_free(struct ctl_stream *s);

/*
 * The whole JSON answer to one request line (parts joined), for tests and
 * fuzzing; *len and *access as above (may be NULL).  NULL only when even
 * the error answer could not be allocated.
 */
char *control_handle(const struct control_view *v, const char *line, size_t *len,
    enum ctl_access *access);

/* {"error": "message"}; caller frees. */
char *ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
