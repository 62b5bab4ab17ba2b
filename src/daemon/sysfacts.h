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
#include <stdint.h>

#include "synthname.h"

#define SYSFACTS_KEEP_MS 1000 /* facts read are reused this long */

struct sysfacts {
	struct synth_names names; /* the host name; read by the resolver */
	struct {                  /* the last facts read, per kind */
		struct synth_addr v[SYNTH_MAX_ADDRS];
		size_t n;
		uint64_t at; /* monotonic ms; 0 = never */
	} kept[SYNTH_REVERSE];
};

/* Read the host name again: true when it changed (and at the first call
 * with a name). */
bool sysfacts_refresh(struct sysfacts *f);

/* The addresses a name of kind k (not SYNTH_REVERSE) answers with,
 * sorted (synth_sort), at most cap; read again when those read last are
 * older than SYSFACTS_KEEP_MS (reverse names ask for every PTR query);
 * arg is the struct sysfacts. */
size_t sysfacts_addrs(void *arg, enum synth_kind k, struct synth_addr *out, size_t cap);

#endif
