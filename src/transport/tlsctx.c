/*
 * tlsctx.c - TLS client context, certificate and pin checks, tickets.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tlsctx.h"

struct tlsctx {
	SSL_CTX *ctx;
	int refs;
	char *ca_file;
	bool store_tried; /* the trust store was read (or failed) */
};

static int ex_server = -1; /* SSL ex data: const struct cfg_server * */
static int ex_ticket = -1; /* SSL ex data: struct tls_ticket * */

bool
tlsctx_needs_store(const struct cfg *c)
{
	size_t i;

	for (i = 0; i < c->nservers; i++)
		if (cfg_transport_encrypted(c->servers[i].transport) && !c->servers[i].insecure &&
		    c->servers[i].npins == 0 && c->servers[i].auth_name[0])
			return true;
	return false;
}

bool
tlsctx_wants_store(const struct cfg *c)
{
	size_t i;

	if (c->encryption != ENC_OFF)
		return true;
	for (i = 0; i < c->nadapters; i++)
		if (c->adapters[i].encryption != ENC_INHERIT &&
		    c->adapters[i].encryption != ENC_OFF)
			return true;
	return false;
}

/*
 * A new session (ticket) arrived: the server's slot keeps a copy of its
 * own.  OpenSSL marks the connection's session not resumable when the
 * connection ends badly (a reset, a fatal alert); the ticket itself stays
 * good, and the copy is not touched.
 */
static int
new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_ticket *t = SSL_get_ex_data(ssl, ex_ticket);
	SSL_SESSION *copy;

	if (!t)
		return 0;
	copy = SSL_SESSION_dup(sess);
	if (!copy)
		return 0;
	if (t->sess)
		SSL_SESSION_free(t->sess);
	t->sess = copy;
	return 0; /* OpenSSL keeps (and frees) its own */
}

enum stub_err
tlsctx_spki_sha256(X509 *cert, uint8_t out[CFG_PIN_LEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int n;

	if (!cert)
		return STUB_EINVAL;
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (n <= 0)
		return STUB_EFORMAT;
	if (!EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL) || mdlen != CFG_PIN_LEN) {
		OPENSSL_free(der);
		return STUB_EFORMAT;
	}
	OPENSSL_free(der);
	return STUB_OK;
}

static bool
pin_matches(const struct cfg_server *s, X509 *cert)
{
	uint8_t h[CFG_PIN_LEN];
	size_t i;

	if (tlsctx_spki_sha256(cert, h) != 0)
		return false;
	for (i = 0; i < s->npins; i++)
		if (memcmp(h, s->pins[i], CFG_PIN_LEN) == 0)
			return true;
	return false;
}

/*
 * Pinned servers (RFC 7858 4.2): the end-entity key decides alone; chain
 * and name errors do not matter, a pin mismatch fails the handshake.
 */
static int
verify_pinned(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct cfg_server *s = ssl ? SSL_get_ex_data(ssl, ex_server) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);

	(void)ok;
	if (!s || !leaf)
		return 0;
	if (!pin_matches(s, leaf)) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	X509_STORE_CTX_set_error(xs, X509_V_OK);
	return 1;
}

enum stub_err
tlsctx_load_store(struct tlsctx *t, char *why, size_t whylen)
{
	unsigned long e;
	int err;

	if (t->store_tried)
		return STUB_OK;
	t->store_tried = true;
	errno = 0;
	if (!t->ca_file || SSL_CTX_load_verify_locations(t->ctx, t->ca_file, NULL) == 1)
		return STUB_OK;
	e = ERR_peek_last_error();
	err = errno;
	ERR_clear_error();
	snprintf(why, whylen, "tls-ca %s: cannot load the trust store: %s", t->ca_file,
	    ERR_GET_LIB(e) == ERR_LIB_SYS || err ? strerror(err) :
	        ERR_reason_error_string(e)       ? ERR_reason_error_string(e) :
	                                           "no certificates");
	return STUB_EIO;
}

enum stub_err
tlsctx_new(const char *ca_file, bool need_store, struct tlsctx **out, char *why, size_t whylen)
{
	struct tlsctx *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		goto oom;
	t->refs = 1;
	if (ex_server < 0)
		ex_server = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (ex_ticket < 0)
		ex_ticket = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx || ex_server < 0 || ex_ticket < 0)
		goto oom;
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(t->ctx,
	    SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(t->ctx, new_session);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
	/* servers may close without close_notify (RFC 7858 3.4): a plain EOF */
	SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	t->ca_file = ca_file ? strdup(ca_file) : NULL;
	if (ca_file && !t->ca_file)
		goto oom;
	/* read now only when a configured server depends on it (then an
	 * unreadable store is an error); else on first need */
	if (need_store && tlsctx_load_store(t, why, whylen) != 0) {
		tlsctx_unref(t);
		return STUB_EIO;
	}
	*out = t;
	return STUB_OK;
oom:
	snprintf(why, whylen, "TLS context: out of memory");
	tlsctx_unref(t);
	return STUB_ENOMEM;
}

struct tlsctx *
tlsctx_ref(struct tlsctx *t)
{
	if (t)
		t->refs++;
	return t;
}

void
tlsctx_unref(struct tlsctx *t)
{
	if (!t || --t->refs > 0)
		return;
	SSL_CTX_free(t->ctx);
	free(t->ca_file);
	free(t);
}

SSL_CTX *
tlsctx_ssl_ctx(struct tlsctx *t)
{
	return t->ctx;
}

static bool
is_ip_literal(const char *h)
{
	uint8_t b[16];

	return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

/* Both the name and this address are then required of the certificate. */
static int
set_san_ip(X509_VERIFY_PARAM *vp, const struct cfg_sockaddr *sa)
{
	if (sa->ss.ss_family == AF_INET)
		return X509_VERIFY_PARAM_set1_ip(vp,
		    (const unsigned char *)&((const struct sockaddr_in *)&sa->ss)->sin_addr, 4);
	if (sa->ss.ss_family == AF_INET6)
		return X509_VERIFY_PARAM_set1_ip(vp,
		    (const unsigned char *)&((const struct sockaddr_in6 *)&sa->ss)->sin6_addr, 16);
	return 0;
}

SSL *
tlsctx_new_ssl(struct tlsctx *t, const struct cfg_server *s, struct tls_ticket *ticket,
    bool alpn_h2)
{
	static const unsigned char h2[] = { 2, 'h', '2' };
	SSL *ssl = SSL_new(t->ctx);
	bool ip;

	if (!ssl)
		return NULL;
	ip = s->auth_name[0] && is_ip_literal(s->auth_name);
	SSL_set_ex_data(ssl, ex_server, (void *)(uintptr_t)s);
	SSL_set_ex_data(ssl, ex_ticket, ticket);
	if (s->auth_name[0] && !ip && !SSL_set_tlsext_host_name(ssl, s->auth_name))
		goto fail;
	if (s->insecure) {
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	} else if (s->npins) {
		SSL_set_verify(ssl, SSL_VERIFY_PEER, verify_pinned);
	} else {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, s->auth_name) != 1 :
		         X509_VERIFY_PARAM_set1_host(vp, s->auth_name, 0) != 1)
			goto fail;
		/* SPEC 17, DDR: and the clear-text server's IP as iPAddress SAN */
		if (s->san_ip.len && set_san_ip(vp, &s->san_ip) != 1)
			goto fail;
	}
	if (alpn_h2 && SSL_set_alpn_protos(ssl, h2, sizeof(h2)) != 0)
		goto fail;
	if (ticket && ticket->sess && SSL_SESSION_is_resumable(ticket->sess))
		SSL_set_session(ssl, ticket->sess);
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

const char *
tlsctx_verify_error(SSL *ssl)
{
	long v = SSL_get_verify_result(ssl);

	switch (v) {
	case X509_V_OK: return NULL;
	case X509_V_ERR_APPLICATION_VERIFICATION: return "pin mismatch";
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH: return "certificate name mismatch";
	default: return X509_verify_cert_error_string(v);
	}
}
