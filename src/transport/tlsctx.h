/*
 * tlsctx.h - the TLS client context of encrypted upstreams (SPEC 12):
 * the trust store of `tls-ca`, TLS 1.2 at least, session tickets kept per
 * server for resumption, SPKI SHA-256 pins.
 *
 * No libevent here.  A struct tlsctx is made before privileges are dropped
 * (the trust store may be readable by root only) and again on reload; each
 * upstream engine holds a reference.
 */
#ifndef STUBD_TLSCTX_H
#define STUBD_TLSCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

struct tlsctx;
struct ssl_st;
struct ssl_ctx_st;
struct ssl_session_st;
struct x509_st;

/* Where a connection keeps the session ticket it is given (one per
 * server, owned by the transport; SSL_SESSION_free on release). */
struct tls_ticket {
	struct ssl_session_st *sess;
};

/*
 * A client context with the trust store of ca_file.  With `need_store`
 * (some server is authenticated by name against it) the store is read now
 * and one that cannot be read is an error; else it is read on first need
 * (tlsctx_load_store).  *out has one reference.
 */
enum stub_err
tlsctx_new(const char *ca_file, bool need_store, struct tlsctx **out, char *why, size_t whylen);
/* Read the trust store if not tried yet: STUB_OK, or STUB_EIO with the
 * reason (once; the context then has an empty store and name checks
 * fail). */
enum stub_err tlsctx_load_store(struct tlsctx *t, char *why, size_t whylen);
/* Does any server of c need the trust store (a tls/https name, no pins)? */
bool tlsctx_needs_store(const struct cfg *c);
/* Will c's upgrades (SPEC 17: encryption not off globally or for some
 * adapter) verify twins against the trust store?  Then it is read at start
 * (before the privileges go) or when such a configuration is installed,
 * never on a query's path; one that cannot be read is only a warning. */
bool tlsctx_wants_store(const struct cfg *c);
struct tlsctx *tlsctx_ref(struct tlsctx *t);
void tlsctx_unref(struct tlsctx *t);
struct ssl_ctx_st *tlsctx_ssl_ctx(struct tlsctx *t);

/*
 * Set up a new client SSL for server s: SNI, the name or pin check (a pin
 * mismatch fails the handshake), the session to resume from `ticket` and
 * where a new ticket goes, ALPN "h2" when alpn_h2.  Returns NULL on OOM.
 */
struct ssl_st *tlsctx_new_ssl(struct tlsctx *t, const struct cfg_server *s,
    struct tls_ticket *ticket, bool alpn_h2);
/* Why a handshake failed, in a few words ("certificate name mismatch",
 * "pin mismatch", ...), from the SSL's verify result; NULL when unknown. */
const char *tlsctx_verify_error(struct ssl_st *ssl);
/* The SPKI SHA-256 of a certificate's key: STUB_OK; STUB_EINVAL without
 * a certificate, STUB_EFORMAT when its key cannot be encoded or hashed. */
enum stub_err tlsctx_spki_sha256(struct x509_st *cert, uint8_t out[CFG_PIN_LEN]);

#endif
