/*
 * sdproto.h - the two systemd protocols stubd speaks without libsystemd
 * (SPEC 15): readiness notification (NOTIFY_SOCKET, sd_notify(3)) and
 * socket activation (LISTEN_PID, LISTEN_FDS, sd_listen_fds(3)).  Without
 * systemd both do nothing.
 */
#ifndef STUBD_SDPROTO_H
#define STUBD_SDPROTO_H

#include <stddef.h>

#define SD_LISTEN_FDS_START 3
#define SD_LISTEN_FDS_MAX 64

/* Send state ("READY=1", "STOPPING=1", ...) to $NOTIFY_SOCKET, if set.
 * Returns 1 sent, 0 no socket set, -1 error (errno). */
int sd_notify_state(const char *state);
/* "RELOADING=1" with MONOTONIC_USEC, as systemd wants it. */
int sd_notify_reloading(void);

/*
 * The sockets systemd passed (LISTEN_PID is us): their count, fds
 * SD_LISTEN_FDS_START.. marked close-on-exec; the variables are removed
 * so children do not inherit them.  0 when none were passed.
 */
size_t sd_listen_fds_take(void);

#endif
