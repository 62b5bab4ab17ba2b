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
	/* re-read configuration and hosts; 0 or -1 with a message */
	int (*reload)(void *arg, char *err, size_t errlen);
	/* reload the hosts file (after flushdns) */
	void (*hosts_reload)(void *arg);
	void *arg;
};

/*
 * The JSON answer to one request line (no newline); *len gets its length
 * and *access whether the command changes state (both may be NULL).
 * NULL only when even the error answer could not be allocated.
 */
char *control_handle(const struct control_view *v, const char *line, size_t *len,
    enum ctl_access *access);

/* {"error": "message"}; caller frees. */
char *ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
