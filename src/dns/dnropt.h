/*
 * dnropt.h - the DNR options of DHCP (RFC 9463): DHCPv4 option 162
 * (OPTION_V4_DNR, one or more length-prefixed instances) and DHCPv6
 * option 144 (OPTION_V6_DNR, one instance per option), read strictly
 * through the checked wire reader; each instance's SvcParams go through
 * the SVCB reader (svcb.c) as the RDATA they would be.  The contrib/
 * hooks hand the options over as hex (`stubctl link IFNAME dnr-option
 * dhcp4|dhcp6 HEX...`).
 *
 * Pure: no allocation, no state.
 */
#ifndef STUBD_DNROPT_H
#define STUBD_DNROPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define DNROPT_MAX 8        /* usable instances kept (more: an error) */
#define DNROPT_MAX_ADDRS 8  /* addresses of one instance (more: an error) */
#define DNROPT_HEX_MAX 1024 /* bytes of one option */

struct dnropt_inst {
	uint16_t priority;
	char name[254]; /* the ADN as text, no trailing dot, lower case */
	int family;     /* AF_INET or AF_INET6 */
	uint8_t addrs[DNROPT_MAX_ADDRS][16];
	unsigned naddrs;
	bool dot, h2;      /* ALPNs stubd speaks */
	uint16_t port;     /* 0 = none given */
	char dohpath[256]; /* "" = none */
};

struct dnropt {
	struct dnropt_inst v[DNROPT_MAX];
	unsigned n;
	unsigned skipped; /* ADN-only, no usable ALPN or an unknown mandatory key */
};

/* Hex into out: "0a1b..." (pairs), or bytes separated by colons of one
 * or two digits ("0a:1b" as dhcpcd and NetworkManager print options,
 * "a:1b" as dhclient does); any case.  STUB_EFORMAT when odd, not hex, a
 * colon out of place or longer than cap. */
enum stub_err dnropt_hex(const char *hex, uint8_t *out, size_t cap, size_t *len);

/*
 * Add the instances of one option's data (without code and length) to
 * *out (clear it first with memset for a new set).  v6 false: DHCPv4
 * option 162; true: DHCPv6 option 144.  Instances stubd cannot use are
 * counted in skipped, not kept.  STUB_OK; STUB_EFORMAT with one line in
 * why (a length past the end, an address list not a multiple of the
 * address size, a bad ADN, a malformed SvcParam, more than DNROPT_MAX
 * usable instances); *out then is as it was.
 */
enum stub_err
dnropt_read(const uint8_t *p, size_t len, bool v6, struct dnropt *out, char *why, size_t whylen);

/* An instance as the words of `stubctl link IFNAME dnr`: "PRIORITY NAME
 * ADDR[,ADDR] alpn=dot,h2 [port=N] [dohpath=PATH]". */
void dnropt_format(const struct dnropt_inst *d, char *buf, size_t len);
/* Append " alpn=dot,h2 [port=N] [dohpath=PATH]" (the words of `dnr`) to
 * the string in buf. */
void
dnropt_format_params(char *buf, size_t len, bool dot, bool h2, uint16_t port, const char *path);

#endif
