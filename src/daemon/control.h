/*
 * control.h - the control socket: a Unix stream socket, peer credentials
 * (SO_PEERCRED), one request line, one JSON answer (SPEC section 8).
 *
 * Owns its socket and connections; the commands themselves are in
 * ctlcmd.c.  Touches libevent.
 */
#ifndef STUBD_CONTROL_H
#define STUBD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctlcmd.h"
#include "err.h"

struct event_base;
struct control;
struct peer_policy;

/*
 * Create the socket at path into *out: mode 0600, or 0660 and the group
 * of peers (control-group) when it has one; peers (the daemon's, it
 * outlives the control socket) says who may use it.  A stale socket file is replaced; a live one
 * (another daemon answering) is STUB_EEXIST.  A reason goes to why on
 * failure.  pull(pull_arg) gives the daemon's state whenever a command
 * runs.
 */
enum stub_err
control_new(struct event_base *base, const char *path, const struct peer_policy *peers,
    control_view_fn pull, void *pull_arg, struct control **out, char *why, size_t whylen);
/* The answer of the stubctl query with this id (takes json). */
void control_query_done(struct control *c, uint64_t id, char *json);
/* Is any stubctl monitor listening? */
bool control_monitor_active(const struct control *c);
/* A line for every monitor (no newline); one that has not read the last
 * CONTROL_MONITOR_MAX bytes loses it and is told how many it lost. */
void control_monitor_line(struct control *c, const char *line);
/* Close connections and the socket, remove the socket file. */
void control_free(struct control *c);

#endif
