/*
 * sysnet.h - what the system says about its DNS servers: the files of a
 * resolvconf directory (Debian's resolvconf, openresolv) read into learned
 * links, and a cheap signature of such a directory to notice changes
 * (files appearing, changing, disappearing, replaced by rename).
 *
 * Reads files; no event loop.  reconfig.c polls the signatures.
 */
#ifndef STUBD_SYSNET_H
#define STUBD_SYSNET_H

#include <stdbool.h>
#include <stdint.h>

#include "links.h"

struct dir_sig {
	bool exists;
	uint64_t hash; /* names, inodes, sizes and times of its files */
	unsigned files;
};

void sysnet_dir_sig(const char *dir, struct dir_sig *sig);
bool sysnet_dir_sig_equal(const struct dir_sig *a, const struct dir_sig *b);

/*
 * Replace the resolvconf links with the files of dir (dot files skipped).
 * Bad lines and unreadable files are reported through err(arg, file,
 * line, message).  Returns the number of files read.
 */
unsigned sysnet_read_resolvconf_dir(const char *dir, struct links *l,
    void (*err)(void *arg, const char *file, unsigned line, const char *msg), void *arg);

#endif
