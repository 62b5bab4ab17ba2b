/*
 * resolvfiles.h - the two files systemd-resolved keeps in
 * /run/systemd/resolve, as stubd writes them under resolved-compat
 * (SPEC 16): stub-resolv.conf (nameserver 127.0.0.53, `options edns0
 * trust-ad`, the search domains of the links) and resolv.conf (the
 * clear-text upstream servers on port 53, and the same search domains),
 * so that tools which detect resolved by the /etc/resolv.conf symlink, and
 * programs that read either file, keep working.
 *
 * Pure: text from the running configuration and the learned links; the
 * daemon's edge (resolvwrite.c) writes it.
 */
#ifndef STUBD_RESOLVFILES_H
#define STUBD_RESOLVFILES_H

#include "config.h"
#include "links.h"

#define RESOLVFILES_STUB "stub-resolv.conf"
#define RESOLVFILES_UPLINK "resolv.conf"
#define RESOLVFILES_STUB_ADDR "127.0.0.53"
#define RESOLVFILES_MAXNS 3 /* glibc's MAXNS: servers past it are ignored */

/* stub-resolv.conf: search domains are the links' domains that are not
 * routing-only (`~`), in link order, each once.  Caller frees; NULL on
 * OOM. */
char *resolvfiles_stub(const struct links *l);

/* resolv.conf: every clear-text server of c on port 53, once, in order
 * (an IPv6 link-local one with its adapter's device as its scope, left out
 * without one), a comment before those past RESOLVFILES_MAXNS, then the
 * search domains as above.  Caller frees; NULL on OOM. */
char *resolvfiles_uplink(const struct cfg *c, const struct links *l);

#endif
