/*
 * netwatch.h - the rtnetlink watcher: links, addresses and default routes
 * of the interfaces (SPEC 11), kept in a struct ifstate and reported to
 * whoever follows the network (reconfig.c) through callbacks.  Owns its
 * socket and event.  Touches libevent.
 */
#ifndef STUBD_NETWATCH_H
#define STUBD_NETWATCH_H

#include <stdbool.h>

#include "netlink.h"

struct event_base;
struct netwatch;

struct netwatch_ops {
	/* the whole picture is in (after the first dumps), or something
	 * changed since: link state to apply */
	void (*link_state)(void *arg);
	/* a link or address of this interface changed */
	void (*link_changed)(void *arg, const char *ifname);
	/* a default route metric changed */
	void (*metrics_changed)(void *arg);
	void *arg;
};

/* A watcher not watching yet (its ifstate empty, not dump_done); NULL on
 * OOM. */
struct netwatch *netwatch_new(void);
/* Open the socket and ask for the interfaces; report to ops from now on.
 * Without rtnetlink (a sandbox) a warning, and every interface counts as
 * up. */
void netwatch_start(struct netwatch *w, struct event_base *base, const struct netwatch_ops *ops);
/* Is the rtnetlink socket open (changes are followed)? */
bool netwatch_running(const struct netwatch *w);
/* The interfaces as last reported. */
const struct ifstate *netwatch_ifstate(const struct netwatch *w);
void netwatch_free(struct netwatch *w);

#endif
