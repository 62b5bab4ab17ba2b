/*
 * ddr.h - Discovery of Designated Resolvers (RFC 9462), the part that
 * needs no network: reading a clear-text server's answer to
 * `_dns.resolver.arpa. SVCB` and choosing its designated resolver, with
 * the rejections of SPEC 17 decided here (TargetName ".", an unknown
 * mandatory key, no supported ALPN, a malformed record).  The certificate
 * checks (TargetName and the clear-text server's IP as iPAddress SAN)
 * happen when the connection is made.
 *
 * Pure: no sockets, no clock, no allocation.
 */
#ifndef STUBD_DDR_H
#define STUBD_DDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

enum ddr_verdict {
	DDR_FOUND,     /* *out names the designated resolver */
	DDR_NONE,      /* no SVCB record (NODATA, NXDOMAIN, an error) */
	DDR_REJECTED,  /* records, none usable: why says the first reason */
	DDR_MALFORMED, /* not a response to the probe */
};

struct ddr_result {
	struct cfg_template t; /* addr (port set), transport, port, name, path */
	uint16_t priority;
	uint32_t ttl; /* of the record chosen: re-probe after it */
	char why[128];
};

/*
 * Read msg[0..len), the answer to `_dns.resolver.arpa. SVCB` asked of the
 * clear-text server at clear.  The lowest-priority ServiceMode record
 * offering `dot` (DoT, port 853 unless given) or `h2` (DoH with its
 * dohpath, port 443 unless given) wins; dot is preferred within a record.
 * Its address: the first hint of clear's family, else clear's own.
 */
enum ddr_verdict ddr_read_answer(const uint8_t *msg, size_t len, const struct sockaddr *clear,
    struct ddr_result *out);

#endif
