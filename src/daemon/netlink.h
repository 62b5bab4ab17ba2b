/*
 * netlink.h - rtnetlink messages (links, addresses, routes) read into
 * what stubd needs to know of the interfaces: which exist, under which
 * name, whether they are up with an address, and the metric of their
 * default route (SPEC 11).
 *
 * Pure: builds requests and parses messages handed in; netwatch.c owns the
 * NETLINK_ROUTE socket.  Every length is checked before use.
 */
#ifndef STUBD_NETLINK_H
#define STUBD_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define IFS_MAX_ADDRS 64

struct ifs_entry {
	int index;
	char name[CFG_IFNAME_MAX];
	bool up;                          /* IFF_UP and carrier (IFF_RUNNING) */
	uint8_t addrs[IFS_MAX_ADDRS][17]; /* family byte + 16 address bytes */
	size_t naddrs;
	long route_metric; /* of its default route, -1 = none */
};

/* The interfaces as the kernel last told. */
struct ifstate {
	struct ifs_entry *v;
	size_t n;
	bool dump_done; /* the first full picture is in */
};

void ifstate_init(struct ifstate *s);
void ifstate_fini(struct ifstate *s);

/* A dump request (RTM_GETLINK, RTM_GETADDR or RTM_GETROUTE) into buf;
 * returns its length (0 when it does not fit). */
size_t nl_dump_request(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq);

/*
 * Apply the messages of one datagram to s.  *done is set at NLMSG_DONE
 * (the end of a dump), *changed when anything changed (routes included),
 * and the names of interfaces whose link or addresses changed are
 * reported to changed_if(arg, name) (once the first dump is done).
 * Malformed messages are skipped.
 */
void nl_apply(struct ifstate *s, const uint8_t *buf, size_t len, bool *done, bool *changed,
    void (*changed_if)(void *arg, const char *name), void *arg);

/* Is the interface named so up with at least one address?  false when it
 * does not exist. */
bool ifstate_usable(const struct ifstate *s, const char *name);
/* The metric of its default route, or -1. */
long ifstate_route_metric(const struct ifstate *s, const char *name);

#endif
