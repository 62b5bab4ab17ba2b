/*
 * acceptor.h - accepting connections on a listening stream socket, the one
 * way every server of stubd does it (TCP clients, the control socket,
 * metrics, varlink): at most a batch per wake-up, a connection limit the
 * owner decides (full), and, when the system is out of descriptors or
 * memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), a pause of a second instead of
 * spinning on a socket that stays readable.
 *
 * The acceptor owns its events, not the listening socket: the owner
 * closes that after acceptor_free.
 */
#ifndef STUBD_ACCEPTOR_H
#define STUBD_ACCEPTOR_H

#include <stdbool.h>
#include <sys/socket.h>

#include "err.h"

#define ACCEPTOR_PAUSE_MS 1000

struct event_base;
struct acceptor;

struct acceptor_ops {
	const char *name; /* for the log: "control", "metrics", ... (static) */
	unsigned batch;   /* connections accepted per wake-up at most (>= 1) */
	/* A new connection, non-blocking and close-on-exec: the callee owns
	 * fd from here.  false: accept no more this wake-up. */
	bool (*conn)(void *arg, int fd, const struct sockaddr *peer, socklen_t peerlen);
	/* true while no more connections may be taken (a limit): accepting
	 * pauses until acceptor_resume finds it false.  NULL: no limit. */
	bool (*full)(void *arg);
	void *arg;
};

/* Accept on the listening socket fd from now on. */
enum stub_err acceptor_new(struct event_base *base, int fd, const struct acceptor_ops *ops,
    struct acceptor **out);
/* A connection ended or the limit rose: accept again unless still full. */
void acceptor_resume(struct acceptor *a);
void acceptor_free(struct acceptor *a);

#endif
