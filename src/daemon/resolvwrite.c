/*
 * resolvwrite.c - the files of /run/systemd/resolve under resolved-compat
 * (SPEC 16), replaced atomically when their content changes.
 */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "resolvfiles.h"
#include "resolvwrite.h"
#include "vlserver.h"

const char *
resolvwrite_dir(void)
{
	const char *dir = getenv("STUBD_RESOLVE_DIR");

	return dir && *dir ? dir : VL_RESOLVE_DIR;
}

enum stub_err
resolvwrite_prepare(const char *dir, const char *user, char *why, size_t whylen)
{
	struct passwd *pw;
	struct stat st;
	int fd;

	if (mkdir(dir, 0755) != 0 && errno == ENOENT) {
		char *up = strdup(dir), *slash = up ? strrchr(up, '/') : NULL;

		if (slash && slash != up) {
			*slash = '\0';
			(void)mkdir(up, 0755);
		}
		free(up);
		(void)mkdir(dir, 0755);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "cannot make the directory %s: %s", dir, strerror(errno));
		return STUB_EIO;
	}
	if (geteuid() == 0 && user && (pw = getpwnam(user)) != NULL && pw->pw_uid != 0 &&
	    fstat(fd, &st) == 0 && (st.st_uid != pw->pw_uid || st.st_gid != pw->pw_gid) &&
	    fchown(fd, pw->pw_uid, pw->pw_gid) != 0) {
		snprintf(why, whylen, "cannot give the directory %s to the user %s: %s", dir, user,
		    strerror(errno));
		close(fd);
		return STUB_EIO;
	}
	close(fd);
	return STUB_OK;
}

/* Does path hold exactly text? */
static bool
holds(const char *path, const char *text)
{
	char *old = NULL;
	size_t len = 0;
	bool same;

	if (file_read(path, &old, &len) != STUB_OK)
		return false;
	same = len == strlen(text) && memcmp(old, text, len) == 0;
	free(old);
	return same;
}

int
resolvwrite_file(const char *dir, const char *name, const char *text)
{
	char path[4096], tmp[4096];
	size_t len = strlen(text), off = 0;
	int fd, e;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (holds(path, text))
		return 0;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0644) != 0)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	return 1;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

static void
write_one(const char *dir, const char *name, char *text)
{
	int rc;

	if (!text) {
		log_err("%s/%s: out of memory", dir, name);
		return;
	}
	rc = resolvwrite_file(dir, name, text);
	if (rc < 0)
		log_warn("cannot write %s/%s: %s", dir, name, strerror(errno));
	else if (rc > 0)
		log_info("%s/%s written", dir, name);
	free(text);
}

void
resolvwrite_update(const char *dir, const struct cfg *c, const struct links *l)
{
	write_one(dir, RESOLVFILES_STUB, resolvfiles_stub(l));
	write_one(dir, RESOLVFILES_UPLINK, resolvfiles_uplink(c, l));
}
