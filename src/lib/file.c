/*
 * file.c - read a whole file into memory.
 */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "file.h"

enum stub_err
file_read(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	char *buf = NULL;
	enum stub_err e = STUB_EIO;
	int saved;

	*text = NULL;
	*len = 0;
	if (fd < 0)
		return STUB_EIO;
	buf = malloc(cap + 1);
	if (!buf) {
		errno = ENOMEM;
		e = STUB_ENOMEM;
		goto fail;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *b;

			if (cap >= ((size_t)1 << 30)) {
				errno = EFBIG;
				goto fail;
			}
			b = realloc(buf, cap * 2 + 1);
			if (!b) {
				errno = ENOMEM;
				e = STUB_ENOMEM;
				goto fail;
			}
			buf = b;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	*text = buf;
	*len = n;
	return STUB_OK;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return e;
}
