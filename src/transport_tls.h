/*
 * transport_tls.h - the encrypted transports: DNS over TLS (RFC 7858) and DNS
 * over HTTPS (RFC 8484, HTTP/2), on libevent's OpenSSL bufferevents.
 *
 * One connection per server, opened on the first query and kept while
 * idle (CONN_IDLE_MS), carrying many queries at once whose answers may
 * come in any order; a reconnect resumes the TLS session from the last
 * ticket.  A connection that fails or dies fails its queries ("no answer"
 * from that server) and is never replaced by clear text.  One that
 * answered nothing while a query waited out its phase (xp_ops.late), or
 * that got GOAWAY, is retired: it finishes its queries (each bounded by
 * the whole schedule, never re-armed by newer ones) and the next query
 * opens a new connection.
 */
#ifndef STUBD_XP_TLS_H
#define STUBD_XP_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "schedule.h"
#include "transport.h"

#define CONN_IDLE_MS 30000          /* an idle connection is closed after */
#define CONN_MAX_PENDING 1024       /* queries waiting on one connection (2^10) */
#define CONN_SLOT_BITS 10
#define CONN_MAX_RETIRED 4          /* retired connections still finishing, per server */

struct event_base;
struct tlsctx;
struct xp_tls;

/* cfg and sched are borrowed (they outlive the transport); sched gets the
 * handshake and resumption counts.  timeout_ms bounds a query's wait.
 * Takes a reference on tls.  NULL on OOM. */
struct xp_tls *xp_tls_new(struct event_base *base, const struct cfg *cfg,
    struct tlsctx *tls, struct sched *sched, uint32_t timeout_ms);
/* Connections close; pending requests end without calling back. */
void xp_tls_free(struct xp_tls *x);
struct xp xp_tls_as_xp(struct xp_tls *x);
/* Copy the session tickets of servers `from` knows that `to` has too (same
 * address, port, transport, name, path and pins), when both use the same
 * TLS context (a network change; a reload re-reads the trust store). */
void xp_tls_inherit(struct xp_tls *to, const struct xp_tls *from);
/* "connected", "idle" or "failed: REASON". */
void xp_tls_state(struct xp_tls *x, size_t server, char *buf, size_t len);

#endif
