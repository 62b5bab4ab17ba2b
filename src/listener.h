/*
 * listener.h - client-facing sockets: UDP and TCP (RFC 7766 framing,
 * pipelining, idle timeout, connection and queue limits) on every listen
 * address.
 *
 * Owns its sockets and TCP connections.  Queries go to the resolver; the
 * resolver answers through listener_reply().
 */
#ifndef STUBD_LISTENER_H
#define STUBD_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "inflight.h"
#include "resolve.h"

#define TCP_IDLE_MS 10000
#define TCP_MAX_PENDING 64     /* queries in progress + unread answers per connection */

struct event_base;
struct listener;

/*
 * Bind every listen address of cfg (UDP and TCP) into *out, or with nfds
 * > 0 serve the sockets fds instead (socket activation: systemd bound
 * them; the listener owns them from now on).  On failure a one-line reason
 * goes to why ("cannot listen on ADDR: ...").
 */
enum stub_err listener_new(struct event_base *base, const struct cfg *cfg, const int *fds,
    size_t nfds, struct listener **out, char *why, size_t whylen);
/* Start serving: queries go to r. */
void listener_start(struct listener *l, struct resolver *r);
void listener_set_cfg(struct listener *l, const struct cfg *cfg);
void listener_free(struct listener *l);

/* The reply_fn for the resolver (io = the listener). */
void listener_reply(void *io, const struct client_ref *ref, const uint8_t *buf, size_t len);

#endif
