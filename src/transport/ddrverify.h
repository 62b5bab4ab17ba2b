/*
 * ddrverify.h - the TLS handshake that verifies a designated resolver
 * found by DDR (SPEC 17, RFC 9462 4.2) before it is used: its certificate
 * must be valid for its TargetName and list the clear-text server's IP as
 * an iPAddress subjectAltName (tlsctx checks both on the verified chain);
 * a DoH resolver must also agree to HTTP/2.  One connection, closed once
 * the handshake is done.
 */
#ifndef STUBD_DDRVERIFY_H
#define STUBD_DDRVERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct event_base;
struct tlsctx;
struct ddrverify;

/* ok, or why not (valid during the call).  Called once, from the loop. */
typedef void (*ddrverify_cb)(void *arg, bool ok, const char *why);

/*
 * Start the handshake to candidate sv (its addr, transport, auth_name and
 * san_ip set; its adapter an index into cfg's, whose device and source
 * are used) within timeout_ms.  NULL on failure to start (why set).
 */
struct ddrverify *ddrverify_start(struct event_base *base, struct tlsctx *tls,
    const struct cfg *cfg, const struct cfg_server *sv, uint32_t timeout_ms, ddrverify_cb cb,
    void *arg, char *why, size_t whylen);
/* No callback will come; the connection is closed. */
void ddrverify_cancel(struct ddrverify *v);

#endif
