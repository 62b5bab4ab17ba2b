/*
 * localzone.h - names stubd answers itself (SPEC 5c; RFC 6761, RFC 6303):
 * `localhost` and the names under it, the loopback reverse names, the
 * reverse zones of private, loopback and link-local ranges (asked only of
 * servers that can know them), single-label names, and resolver.arpa
 * (so clients cannot be led past stubd by DDR).
 *
 * Pure: no sockets, no clock, no state.  The hosts file is looked at
 * before (its entries win); whether a private reverse name may go upstream
 * is the schedule's to say (sched_may_ask_private).
 */
#ifndef STUBD_LOCALZONE_H
#define STUBD_LOCALZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "msg.h"

enum lz_kind {
	LZ_NONE = 0,        /* not served locally: cache and upstream */
	LZ_LOCALHOST,       /* localhost, *.localhost: A 127.0.0.1, AAAA ::1 */
	LZ_LOOPBACK_PTR,    /* 1.0.0.127.in-addr.arpa, ::1's: PTR localhost */
	LZ_PRIVATE_REVERSE, /* RFC 6303 zone: upstream only where it can be
				 * known, else NXDOMAIN */
	LZ_SINGLE_LABEL,    /* one label (not in hosts): NXDOMAIN */
	LZ_RESOLVER_ARPA,   /* resolver.arpa and under (SPEC 17, RFC 9462):
				 * NODATA, never forwarded */
};

/* What kind of name is key (lower-cased wire form)? */
enum lz_kind localzone_kind(const uint8_t *key, size_t klen);

/*
 * stubd's own answer to q for a name of kind k (not LZ_NONE): LZ_LOCALHOST
 * A/AAAA records, LZ_LOOPBACK_PTR a PTR to localhost, other types (and
 * every type under LZ_RESOLVER_ARPA) NODATA;
 * LZ_PRIVATE_REVERSE and LZ_SINGLE_LABEL NXDOMAIN.  ttl for the records.
 * OPT and truncation as msg_synth().  Returns the length or 0.
 */
size_t localzone_answer(const struct msg_query *q, enum lz_kind k, uint32_t ttl, size_t limit,
    uint8_t *out, size_t cap);

/* Is sa a private address that may know private reverse names: RFC 1918,
 * 100.64/10, loopback, link-local (IPv4 and IPv6), fc00::/7? */
bool localzone_private_addr(const struct sockaddr *sa);

#endif
