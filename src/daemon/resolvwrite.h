/*
 * resolvwrite.h - resolved-compat (SPEC 16): stub-resolv.conf and
 * resolv.conf written into /run/systemd/resolve (or $STUBD_RESOLVE_DIR,
 * for tests), at start and after every reconfiguration, whole or not at
 * all (a temporary file renamed over the old one) and only when their
 * content changes.  The text is resolvfiles.c's.
 *
 * File I/O, no loop.  The directory is made (and, started as root, given
 * to the user stubd runs as) before privileges are dropped, so the files
 * can still be replaced afterwards; the Debian unit, which starts stubd as
 * its user, has systemd make it (RuntimeDirectory=).
 */
#ifndef STUBD_RESOLVWRITE_H
#define STUBD_RESOLVWRITE_H

#include "config.h"
#include "err.h"
#include "links.h"

/* $STUBD_RESOLVE_DIR when set (tests), else /run/systemd/resolve. */
const char *resolvwrite_dir(void);

/* Make dir (mode 0755, and its parent) and, when running as root and
 * user names another user, give it to that user and its group.  STUB_OK,
 * or a reason in why. */
enum stub_err resolvwrite_prepare(const char *dir, const char *user, char *why, size_t whylen);

/* dir/name holds text afterwards: 1 written (temporary file in dir, mode
 * 0644, renamed over name), 0 it held it already (not touched), -1 failed
 * (errno set, no temporary file left). */
int resolvwrite_file(const char *dir, const char *name, const char *text);

/* Both files from the running configuration and the learned links;
 * failures are logged. */
void resolvwrite_update(const char *dir, const struct cfg *c, const struct links *l);

#endif
