/*
 * ctlcmd.h - the control commands (SPEC section 8), without a socket.
 *
 * The commands are those of the table in stubd/ctl.h; this module holds
 * the daemon's side of each.  What they show and change they reach
 * through struct control_view, which main keeps current.  Every answer is
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
#include "hosts.h"
#include "schedule.h"
#include "stats.h"

struct control_view {
	struct cache *cache;
	const struct hosts *hosts;
	struct sched *sched;
	struct stats *st;
	const struct cfg *cfg;
	uint64_t hosts_gen;         /* changes whenever hosts is replaced */
	/* re-read configuration and hosts; 0 or -1 with a message */
	int (*reload)(void *arg, char *err, size_t errlen);
	/* stubctl link IFNAME ...: argv[0] is "link"; 0 or -1 with a message */
	int (*link)(void *arg, int argc, char **argv, char *err, size_t errlen);
	/* "connected", "idle" or "failed: REASON" of a tls/https server */
	void (*tls_state)(void *arg, size_t server, char *buf, size_t len);
	/* reload the hosts file (after flushdns) */
	void (*hosts_reload)(void *arg);
	void *arg;
};

struct ctl_stream;

/*
 * Start answering one request line (no newline): *doc gets the whole JSON
 * document, or *stream a document written in parts (displaydns), so a
 * large answer never stops the daemon nor sits in memory whole.  *access
 * (may be NULL) tells whether the command changes state.  Both NULL only
 * when even an error answer could not be allocated.
 */
void control_start(const struct control_view *v, const char *line, char **doc,
    struct ctl_stream **stream, enum ctl_access *access);
/* The next part of a streamed document (caller frees; may be ""), *done
 * once it is complete.  v must be the current view.  NULL on OOM. */
char *ctl_stream_next(struct ctl_stream *s, const struct control_view *v, uint64_t now,
    size_t *len, bool *done);
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
