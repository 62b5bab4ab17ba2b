/*
 * sysfacts.h - the machine's facts behind the synthesized names of SPEC
 * 16 (synthname.h): its host name (read again with every poll), the
 * addresses of its up links (getifaddrs), the default routes' gateways
 * (/proc/net/route, /proc/net/ipv6_route) and the local address toward
 * each gateway (a connected UDP socket's name; no packet is sent).
 *
 * Reads the system when asked, no loop: only queries for those names pay
 * for it, as in resolved.
 */
#ifndef STUBD_SYSFACTS_H
#define STUBD_SYSFACTS_H

#include <stdbool.h>
#include <stddef.h>

#include "synthname.h"

struct sysfacts {
	struct synth_names names; /* the host name; read by the resolver */
};

/* Read the host name again: true when it changed (and at the first call
 * with a name). */
bool sysfacts_refresh(struct sysfacts *f);

/* The addresses a name of kind k answers with, sorted (synth_sort), at
 * most cap; arg is the struct sysfacts. */
size_t sysfacts_addrs(void *arg, enum synth_kind k, struct synth_addr *out, size_t cap);

#endif
