/*
 * peer.c - the one permission check of the control planes.
 */
#include "auto-config.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

#define PEER_MAX_GROUPS 256 /* supplementary groups read from the kernel */

struct peer_policy {
	gid_t gid;
	uid_t *members; /* users whose groups include gid (from NSS) */
	size_t nmembers;
};

static int
grow_uids(uid_t **m, size_t *n, size_t *cap, uid_t u)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		uid_t *nm = realloc(*m, nc * sizeof(*nm));

		if (!nm)
			return -1;
		*m = nm;
		*cap = nc;
	}
	(*m)[(*n)++] = u;
	return 0;
}

enum stub_err
peer_policy_new(gid_t gid, struct peer_policy **out)
{
	struct peer_policy *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return STUB_ENOMEM;
	p->gid = gid;
	peer_policy_refresh(p);
	*out = p;
	return STUB_OK;
}

/* Look up, outside the event loop's hot path (at start and reload), the
 * users whose primary or supplementary groups include the control group. */
void
peer_policy_refresh(struct peer_policy *p)
{
	struct group *g;
	struct passwd *pw;
	uid_t *m = NULL;
	size_t n = 0, cap = 0;

	if (!p || p->gid == (gid_t)-1)
		return;
	g = getgrgid(p->gid);
	for (size_t i = 0; g && g->gr_mem && g->gr_mem[i]; i++) {
		pw = getpwnam(g->gr_mem[i]);
		if (pw && grow_uids(&m, &n, &cap, pw->pw_uid) != 0)
			break;
	}
	setpwent();
	while ((pw = getpwent()) != NULL)
		if (pw->pw_gid == p->gid && grow_uids(&m, &n, &cap, pw->pw_uid) != 0)
			break;
	endpwent();
	free(p->members);
	p->members = m;
	p->nmembers = n;
}

gid_t
peer_policy_gid(const struct peer_policy *p)
{
	return p ? p->gid : (gid_t)-1;
}

void
peer_policy_free(struct peer_policy *p)
{
	if (!p)
		return;
	free(p->members);
	free(p);
}

bool
peer_allowed(const struct peer_policy *p, uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
	size_t i;

	if (uid == 0 || uid == geteuid())
		return true;
	if (!p || p->gid == (gid_t)-1)
		return false;
	if (gid == p->gid)
		return true;
	/* the caller's supplementary groups */
	for (i = 0; i < ngroups; i++)
		if (groups[i] == p->gid)
			return true;
	/* the user's groups as the group and passwd databases say */
	for (i = 0; i < p->nmembers; i++)
		if (p->members[i] == uid)
			return true;
	return false;
}

bool
peer_allowed_fd(const struct peer_policy *p, int fd, char *who, size_t wholen)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);
	gid_t groups[PEER_MAX_GROUPS];
	socklen_t gl = sizeof(groups);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) != 0)
		return false;
	snprintf(who, wholen, "uid %u", (unsigned)cr.uid);
	/* the peer process's supplementary groups, from the kernel */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &gl) != 0)
		gl = 0;
	return peer_allowed(p, cr.uid, cr.gid, groups, gl / sizeof(gid_t));
}
