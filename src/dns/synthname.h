/*
 * synthname.h - names stubd answers from the machine's own facts under
 * resolved-compat (SPEC 16), as systemd-resolved does: the host name (its
 * addresses on up links; 127.0.0.2 and ::1 when it has none), `_gateway`
 * (the default routes' gateways) and `_outbound` (the local address
 * toward each of them); and the reverse names of those addresses (the
 * host name; `_gateway`), 127.0.0.2 with the host name and localhost.  The host name is matched as set, as its first
 * label and as that label under `local`.
 *
 * Pure: no sockets, no files.  The daemon's edge (sysfacts.c) reads the
 * host name, the addresses and the routing table and hands them in as
 * data; the route table text of /proc/net is parsed here.  The hosts file
 * is looked at before (its entries win).
 */
#ifndef STUBD_SYNTHNAME_H
#define STUBD_SYNTHNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "wire.h"

#define SYNTH_MAX_ADDRS 32   /* addresses in one answer */
#define SYNTH_IFNAME_MAX 16  /* IFNAMSIZ */
#define SYNTH_SCOPE_LINK 253 /* RT_SCOPE_LINK: IPv6 fe80::/10 */

enum synth_kind {
	SYNTH_NONE = 0,
	SYNTH_HOSTNAME, /* the machine's name */
	SYNTH_GATEWAY,  /* _gateway */
	SYNTH_OUTBOUND, /* _outbound */
	SYNTH_REVERSE,  /* a whole address under in-addr.arpa or ip6.arpa:
			 * answered when it is the machine's or a gateway's */
};

/* The host name in the three forms it is answered by (lower-cased wire
 * form; len 0 = none). */
struct synth_names {
	uint8_t full[WIRE_NAME_MAX];
	size_t fulllen;
	uint8_t label[WIRE_NAME_MAX];
	size_t labellen;
	uint8_t local[WIRE_NAME_MAX];
	size_t locallen;
};

/* One address of the answer.  scope: 0 global, SYNTH_SCOPE_LINK; metric:
 * of the route (gateways), else 0; ifname: where it is, "" unknown;
 * ifindex: its index, 0 unknown. */
struct synth_addr {
	int family; /* AF_INET, AF_INET6 */
	uint8_t addr[16];
	unsigned scope;
	uint32_t metric;
	char ifname[SYNTH_IFNAME_MAX];
	unsigned ifindex;
};

/* Set n from a host name as gethostname(2) gives it.  An empty name, one
 * that is no valid DNS name, and `localhost`-like names (answered by the
 * local zone anyway) leave n without names: false. */
bool synth_names_set(struct synth_names *n, const char *hostname);
/* Are a and b the same names? */
bool synth_names_equal(const struct synth_names *a, const struct synth_names *b);

/* Which synthesized name is key (lower-cased wire form)?  names may be
 * NULL (no host name). */
enum synth_kind synth_kind(const struct synth_names *names, const uint8_t *key, size_t klen);

/* The address of a reverse name (4 labels under in-addr.arpa, 32 nibbles
 * under ip6.arpa; key lower-cased wire form) into out: false when key is
 * no such name. */
bool synth_reverse_addr(const uint8_t *key, size_t klen, struct synth_addr *out);

/* May a's address answer for the host name: not loopback (127/8, ::1),
 * not unspecified, not IPv4-mapped? */
bool synth_addr_usable(const struct synth_addr *a);

/* Order as resolved answers: global before link scope, IPv4 before IPv6,
 * lower metric first, then by interface name and address. */
void synth_sort(struct synth_addr *v, size_t n);

/*
 * The default routes (destination 0/0 with a gateway, up) of the text of
 * /proc/net/route (IPv4) or /proc/net/ipv6_route (IPv6): their gateways
 * with the route's metric and interface, at most cap, in the file's
 * order.  Malformed lines are skipped.  Returns how many.
 */
size_t synth_parse_routes4(const char *text, struct synth_addr *out, size_t cap);
size_t synth_parse_routes6(const char *text, struct synth_addr *out, size_t cap);

/*
 * SPEC 16: an IPv6 link-local address carries its interface index, and an
 * answer carries one index.  So the AAAA records of an answer keep the
 * link-local addresses of one interface only: that of the lowest-metric
 * IPv6 default route among gw[ngw] (else IPv4's) when it has any of them,
 * else that of the first in v's order.  v[*n] is compacted in place
 * (order kept, global addresses all kept); returns that interface's index
 * (0 when v has no link-local address, or its index is unknown).
 */
unsigned synth_link_scope(struct synth_addr *v, size_t *n, const struct synth_addr *gw, size_t ngw);

/*
 * The answer to q for a name of kind k from the addresses v[n] (of both
 * families; for SYNTH_HOSTNAME the usable addresses of up links):
 * A/AAAA/ANY the addresses of the family asked.  The host name without
 * addresses of that family answers 127.0.0.2 or ::1; _gateway and
 * _outbound without any address of either family are NXDOMAIN, with
 * addresses of the other family only NODATA (as resolved).  Other types
 * are NODATA.  ttl for the records; OPT and truncation as msg_synth().
 * Returns the length, or 0 (k SYNTH_NONE, or it does not fit).
 */
size_t synth_answer(const struct msg_query *q, enum synth_kind k, const struct synth_addr *v,
    size_t n, uint32_t ttl, size_t limit, uint8_t *out, size_t cap);

/*
 * The answer to a reverse name q (SYNTH_REVERSE): its address among host
 * (the machine's addresses) gives PTR records to the host name in its
 * three forms, among gw (the gateways) a PTR to _gateway; 127.0.0.2 the
 * host name and localhost.  A type other than PTR (and ANY) is NODATA.
 * names may be NULL.  Returns the length; 0 when the address is none of
 * them (the name goes on as any other) or it does not fit.
 */
size_t synth_answer_ptr(const struct msg_query *q, const struct synth_names *names,
    const struct synth_addr *host, size_t nhost, const struct synth_addr *gw, size_t ngw,
    uint32_t ttl, size_t limit, uint8_t *out, size_t cap);

#endif
