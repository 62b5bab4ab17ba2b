/*
 * file.h - reading whole (configuration, hosts, resolv.conf) files.
 */
#ifndef STUBD_FILE_H
#define STUBD_FILE_H

#include <stddef.h>

#include "err.h"

/* Read a whole file (at most 1 GiB) into a malloc'd, NUL-terminated
 * buffer the caller frees.  STUB_OK; or STUB_EIO (EFBIG past 1 GiB) or
 * STUB_ENOMEM, errno set either way (callers print strerror(errno)),
 * *text NULL and *len 0. */
enum stub_err file_read(const char *path, char **text, size_t *len);

#endif
