/*
 * encryption.h - SPEC 17's upgrade of clear-text servers to encrypted
 * twins, as the configuration sees it: the known-server table (Windows'
 * list), `encryption-template` entries, and encryption_apply(), which
 * gives every clear-text server under `auto`, `opportunistic` or
 * `require` whose address has a template its encrypted twin as one more
 * server of the same adapter.  The clear-text server stays in the
 * configuration as the twin's fallback (cfg_server.twin / .clear): the
 * schedule never asks it on its own; the engine (upstream.c) sends it the
 * query only when the twin failed and the policy is `auto`.
 *
 * Pure: no sockets, no clock.
 */
#ifndef STUBD_ENCRYPTION_H
#define STUBD_ENCRYPTION_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"
#include "err.h"

/* The template for a clear-text server at sa (any port): the
 * configuration's encryption-template entries first, then the known
 * table.  True and *out filled when there is one. */
bool
encryption_template_for(const struct cfg *c, const struct sockaddr *sa, struct cfg_template *out);

/* Is server s never asked on its own (SPEC 17)?  A clear-text server with
 * an encrypted twin (asked only when the twin failed, under auto), or one
 * under `require` without a twin (never asked: no way to encrypt). */
bool encryption_held_back(const struct cfg_server *s);

/* Only the built-in known table (SPEC 17). */
bool encryption_known(const struct sockaddr *sa, struct cfg_template *out);

/* The policy over servers of adapter a: its own, else the global one. */
enum cfg_encryption encryption_policy(const struct cfg *c, size_t a);

/*
 * Set every server's policy and add the encrypted twins (idempotent:
 * servers that have a twin or are one are left alone).  STUB_ENOMEM when a
 * twin could not be added (the configuration is then as it was for that
 * server and the ones after it).
 */
enum stub_err encryption_apply(struct cfg *c);

/*
 * Twins found at run time (SPEC 17: DDR; DNR the same way): the engine's
 * layer keeps what it discovered, keyed by server (adapter name and the
 * clear-text server's address and port), and hands the list in whenever a
 * running configuration is built; the file configuration never changes.
 * A twin applies to the clear-text server of that adapter and address
 * when its policy is not `off` and it has no twin yet.
 */
struct enc_twin {
	char adapter[CFG_NAME_MAX];
	struct cfg_sockaddr clear; /* the clear-text server (port included) */
	struct cfg_template t;     /* the twin: addr with its port, transport, name, path */
	enum cfg_upgrade how;      /* UPGRADE_DDR, UPGRADE_DDR_OPP, UPGRADE_DNR */
};

/* Add the twins of v[0..n) to c (after encryption_apply): a verified one
 * (UPGRADE_DDR) also requires the clear-text server's IP in the twin's
 * certificate; an unverified one (UPGRADE_DDR_OPP) is not authenticated
 * and never trusted for AD.  Returns how many were added, or -1 on OOM. */
long encryption_add_twins(struct cfg *c, const struct enc_twin *v, size_t n);

/* Is the clear-text server s one DDR should probe (SPEC 17): clear text,
 * policy not off, no twin yet? */
bool encryption_wants_ddr(const struct cfg_server *s);

/* Same address (ports not compared). */
bool encryption_same_host(const struct sockaddr *a, const struct sockaddr *b);

/* Parse an encryption-template's words (ADDR tls NAME | ADDR URL) into
 * *out; STUB_EFORMAT with a message in why. */
enum stub_err
encryption_template_parse(char **w, int n, struct cfg_template *out, char *why, size_t whylen);

/* Parse a DNR resolver's words (PRIORITY NAME ADDR[,ADDR] alpn=dot,h2
 * [port=N] [dohpath=PATH]; w[0] is PRIORITY) into *out (adapter 0).
 * STUB_EINVAL with a message in why: a priority outside 1-65535, a bad
 * name, an address list that is empty, too long, has a port or an
 * unspecified/multicast address, an unknown or repeated option, no alpn
 * or none stubd speaks (dot, h2; others are skipped).  A dohpath's URI
 * template suffix "{?dns}" is dropped (stubd POSTs). */
enum stub_err
encryption_dnr_parse(char *const *w, int n, struct cfg_dnr *out, char *why, size_t whylen);

/* The words encryption_dnr_parse reads back into the same entry. */
void encryption_dnr_format(const struct cfg_dnr *d, char *buf, size_t len);

#endif
