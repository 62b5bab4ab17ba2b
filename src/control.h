/*
 * control.h - the control socket: a Unix stream socket, peer credentials
 * (SO_PEERCRED), one request line, one JSON answer (SPEC section 8).
 *
 * Owns its socket and connections.  What it shows and changes it reaches
 * through struct control_view, which main keeps current.
 */
#ifndef STUBD_CONTROL_H
#define STUBD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <event2/event.h>

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
	/* re-read configuration and hosts; 0 or -1 with a message */
	int (*reload)(void *arg, char *err, size_t errlen);
	/* reload the hosts file (after flushdns) */
	void (*hosts_reload)(void *arg);
	void *arg;
};

struct control;

/*
 * Create the socket at path: mode 0600, or 0660 and group gid when
 * gid != (gid_t)-1.  A stale socket file is replaced; a live one (another
 * daemon answering) is an error.  NULL with a reason in why on failure.
 */
struct control *control_new(struct event_base *base, const char *path, gid_t gid,
    const struct control_view *view, char *why, size_t whylen);
void control_set_view(struct control *c, const struct control_view *view);
/* Close connections and the socket, remove the socket file. */
void control_free(struct control *c);

/* The JSON answer to one request line (no newline), for tests and fuzzing.
 * mutating: set when the command changes state.  Caller frees. */
char *control_handle(const struct control_view *v, const char *line, size_t *len);

#endif
