/*
 * sysnet.c - resolvconf directories.
 */
#include "auto-config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"
#include "sysnet.h"

#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME 1099511628211ull

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

void
sysnet_dir_sig(const char *dir, struct dir_sig *sig)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t sum = 0;

	memset(sig, 0, sizeof(*sig));
	if (!d)
		return;
	sig->exists = true;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		uint64_t h = FNV_OFFSET;

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path) ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		h = fnv(h, e->d_name, strlen(e->d_name));
		h = fnv(h, &st.st_ino, sizeof(st.st_ino));
		h = fnv(h, &st.st_size, sizeof(st.st_size));
		h = fnv(h, &st.st_mtim, sizeof(st.st_mtim));
		h = fnv(h, &st.st_ctim, sizeof(st.st_ctim));
		sum += h; /* order of readdir does not matter */
		sig->files++;
	}
	closedir(d);
	sig->hash = sum;
}

bool
sysnet_dir_sig_equal(const struct dir_sig *a, const struct dir_sig *b)
{
	return a->exists == b->exists && a->hash == b->hash && a->files == b->files;
}

struct errctx {
	void (*err)(void *arg, const char *file, unsigned line, const char *msg);
	void *arg;
	const char *file;
};

static void
line_err(void *arg, unsigned line, const char *msg)
{
	struct errctx *x = arg;

	if (x->err)
		x->err(x->arg, x->file, line, msg);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

unsigned
sysnet_read_resolvconf_dir(const char *dir, struct links *l,
    void (*err)(void *arg, const char *file, unsigned line, const char *msg), void *arg)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i;
	unsigned read = 0;

	links_drop_origin(l, ORIGIN_RESOLVCONF);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char **nn;

		if (e->d_name[0] == '.')
			continue;
		nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn)
			break;
		names = nn;
		names[n] = strdup(e->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	/* file order decides the order of several files of one interface */
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		char path[4096], *text;
		size_t len;
		struct stat st;
		struct errctx x = { err, arg, path };

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path) ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (file_read(path, &text, &len) != 0) {
			if (err)
				err(arg, path, 0, strerror(errno));
			continue;
		}
		if (links_add_resolvconf(l, names[i], text, len, line_err, &x) != 0) {
			if (err)
				err(arg, path, 0, "not named after an interface");
		} else {
			read++;
		}
		free(text);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return read;
}
