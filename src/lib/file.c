/*
 * file.c - read a whole file into memory.
 */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "file.h"

int
file_read(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	char *buf;

	*text = NULL;
	*len = 0;
	if (fd < 0)
		return -1;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *b;

			if (cap >= ((size_t)1 << 30)) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return -1;
			}
			b = realloc(buf, cap * 2 + 1);
			if (!b) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return -1;
			}
			buf = b;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	*text = buf;
	*len = n;
	return 0;
}
