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
#define TCP_MAX_PENDING 64 /* queries in progress + unread answers per connection */
#define TCP_MAX_QUEUED \
	65536               /* answer bytes queued behind the one being written;
                                  past that the client is dropped (SPEC 7) */
#define TCP_FD_RESERVE 64   /* descriptors kept from TCP clients: listen, control, ... */
#define TCP_FD_PER_SERVER 5 /* ... and upstream sockets (one spare) and connections per server */

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

/*
 * How many TCP clients may be served at once: configured (max-tcp-clients),
 * lowered to leave TCP_FD_RESERVE descriptors, one per listen socket
 * (nsocks) and TCP_FD_PER_SERVER per upstream server free under an
 * open-file limit of nofile; at least 1.
 */
uint32_t listener_tcp_limit(uint32_t configured, uint64_t nofile, size_t nsocks, size_t nservers);

/* The reply_fn for the resolver (io = the listener). */
void listener_reply(void *io, const struct client_ref *ref, const uint8_t *buf, size_t len);

#endif
