/*
 * sysfacts.h - the machine's facts behind the synthesized names of SPEC
 * 16 (synthname.h): its host name (read again with every poll), the
 * addresses of its up links (getifaddrs), the default routes' gateways
 * (/proc/net/route, /proc/net/ipv6_route) and the local address toward
 * each gateway (a connected UDP socket's name; no packet is sent).
 *
 * A snapshot: read at start (sysfacts_read) and again when the network
 * changes (rtnetlink links, addresses, routes) -- never from the query
 * path, which only copies what was read.
 */
#ifndef STUBD_SYSFACTS_H
#define STUBD_SYSFACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synthname.h"

#define SYSFACTS_MAX_IFS 64
#define SYSFACTS_MDNS4 1u /* up, multicast, not loopback, an IPv4 address */
#define SYSFACTS_MDNS6 2u /* the same with an IPv6 address */

struct sysfacts_if {
	char name[SYNTH_IFNAME_MAX];
	unsigned mdns; /* SYSFACTS_MDNS4 | SYSFACTS_MDNS6 */
};

struct sysfacts {
	struct synth_names names; /* the host name; read by the resolver */
	struct {                  /* the facts read, per kind */
		struct synth_addr v[SYNTH_MAX_ADDRS];
		size_t n;
	} kept[SYNTH_REVERSE];
	struct sysfacts_if ifs[SYSFACTS_MAX_IFS]; /* the interfaces (ScopesMask) */
	size_t nifs;
	unsigned long reads; /* snapshots taken */
};

/* Read the host name again: true when it changed (and at the first call
 * with a name). */
bool sysfacts_refresh(struct sysfacts *f);

/* Read the addresses, gateways, outbound addresses and interfaces again
 * (getifaddrs, /proc/net, a socket): at start and on network changes. */
void sysfacts_read(struct sysfacts *f);

/* The addresses a name of kind k (not SYNTH_REVERSE) answers with as last
 * read, sorted (synth_sort), at most cap; no system call.  arg is the
 * struct sysfacts. */
size_t sysfacts_addrs(void *arg, enum synth_kind k, struct synth_addr *out, size_t cap);

/* SYSFACTS_MDNS4 / SYSFACTS_MDNS6 of the interface named so as last read
 * (0 when unknown). */
unsigned sysfacts_mdns(const struct sysfacts *f, const char *ifname);

#endif
