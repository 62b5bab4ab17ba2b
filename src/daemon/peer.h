/*
 * peer.h - who may use stubd's control planes: the control socket, D-Bus
 * (org.freedesktop.resolve1) and varlink.  Allowed: root, stubd's own
 * user, and the members of control-group -- by the caller's process (its
 * primary or a supplementary group) or by the group database (users whose
 * primary group, or the group's member list, names it; looked up when the
 * policy is made and at reload, never per caller).
 *
 * One policy, owned by the daemon, shared by the control planes.  A NULL
 * policy, or one made with (gid_t)-1, lets only root and stubd's user in.
 */
#ifndef STUBD_PEER_H
#define STUBD_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct peer_policy;

/* gid: control-group, (gid_t)-1 = none.  Reads the group database. */
enum stub_err peer_policy_new(gid_t gid, struct peer_policy **out);
/* Read the group database again (reload). */
void peer_policy_refresh(struct peer_policy *p);
/* control-group, (gid_t)-1 = none */
gid_t peer_policy_gid(const struct peer_policy *p);
void peer_policy_free(struct peer_policy *p);

/* A caller known by its effective uid and gid and its supplementary
 * groups (groups may be NULL when ngroups is 0). */
bool peer_allowed(const struct peer_policy *p, uid_t uid, gid_t gid, const gid_t *groups,
    size_t ngroups);
/* The peer of a connected AF_UNIX socket (SO_PEERCRED, SO_PEERGROUPS);
 * "uid N" is written to who for the log.  false when it cannot be told. */
bool peer_allowed_fd(const struct peer_policy *p, int fd, char *who, size_t wholen);

#endif
