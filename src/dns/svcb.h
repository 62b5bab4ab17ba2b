/*
 * svcb.h - the RDATA of SVCB and HTTPS records (RFC 9460), read strictly
 * through the checked wire reader: SvcPriority, TargetName (never
 * compressed), SvcParams in strictly ascending key order, no duplicates,
 * each known key's value length checked; mandatory keys must be present.
 * DDR (RFC 9462) reads `_dns.resolver.arpa` answers with it.
 *
 * Pure: no allocation, no state.  The result points into nothing: every
 * value is copied into struct svcb (bounded), or counted.
 */
#ifndef STUBD_SVCB_H
#define STUBD_SVCB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "wire.h"

enum {
	TYPE_SVCB = 64,
	TYPE_HTTPS = 65,
	SVCB_KEY_MANDATORY = 0,
	SVCB_KEY_ALPN = 1,
	SVCB_KEY_NO_DEFAULT_ALPN = 2,
	SVCB_KEY_PORT = 3,
	SVCB_KEY_IPV4HINT = 4,
	SVCB_KEY_ECH = 5,
	SVCB_KEY_IPV6HINT = 6,
	SVCB_KEY_DOHPATH = 7,
	SVCB_KEY_INVALID = 65535,
};

#define SVCB_MAX_ALPN 8  /* ALPN ids kept (more are a format error) */
#define SVCB_ALPN_LEN 32 /* longest ALPN id kept, with its NUL */
#define SVCB_MAX_HINTS 8 /* addresses kept per family (more ignored) */
#define SVCB_MAX_MANDATORY 16
#define SVCB_DOHPATH_LEN 256

struct svcb {
	uint16_t priority;             /* 0 = AliasMode */
	uint8_t target[WIRE_NAME_MAX]; /* uncompressed wire form */
	size_t target_len;
	uint16_t mandatory[SVCB_MAX_MANDATORY];
	unsigned n_mandatory;
	bool mandatory_unknown; /* lists a key this reader does not know */
	char alpn[SVCB_MAX_ALPN][SVCB_ALPN_LEN];
	unsigned n_alpn;
	bool no_default_alpn;
	bool has_port;
	uint16_t port;
	uint8_t ipv4hint[SVCB_MAX_HINTS][4];
	unsigned n_ipv4hint;
	uint8_t ipv6hint[SVCB_MAX_HINTS][16];
	unsigned n_ipv6hint;
	bool has_ech;
	bool has_dohpath;
	char dohpath[SVCB_DOHPATH_LEN];
	unsigned n_unknown; /* keys not listed above */
};

/*
 * Read the RDATA rd[0..rdlen) of an SVCB or HTTPS record into *out
 * (cleared on entry).  STUB_OK, or STUB_EFORMAT with one line in why:
 * a short or long value, keys out of order or repeated, key 65535, an
 * empty or malformed alpn, no-default-alpn with a value or without alpn,
 * hints of a wrong length, a mandatory list that is empty, unsorted,
 * lists key 0 or a key absent from the record, a dohpath that is not a
 * relative path with "{?dns}", too many ALPN ids, bytes after the last
 * parameter.  AliasMode (priority 0) parameters are read but not judged
 * beyond the format (RFC 9460 2.4.2 says to ignore them).
 */
enum stub_err
svcb_read(const uint8_t *rd, size_t rdlen, struct svcb *out, char *why, size_t whylen);

/* Does s offer the ALPN id name ("dot", "h2")?  The default "http/1.1"
 * of HTTPS records is not counted. */
bool svcb_has_alpn(const struct svcb *s, const char *name);

#endif
