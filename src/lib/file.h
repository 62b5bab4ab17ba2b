/*
 * file.h - reading whole (configuration, hosts, resolv.conf) files.
 */
#ifndef STUBD_FILE_H
#define STUBD_FILE_H

#include <stddef.h>

/* Read a whole file (at most 1 GiB) into a malloc'd, NUL-terminated
 * buffer the caller frees.  Returns 0, or -1 with errno set and *text NULL. */
int file_read(const char *path, char **text, size_t *len);

#endif
