/*
 * svcb.c - SVCB/HTTPS RDATA reader (RFC 9460, RFC 9461's dohpath).
 */
#include "auto-config.h"

#include <stdio.h>
#include <string.h>

#include "svcb.h"

#define FAIL(...) \
	do { \
		if (why && whylen) \
			snprintf(why, whylen, __VA_ARGS__); \
		goto fail; \
	} while (0)

static bool
known_key(uint16_t k)
{
	return k <= SVCB_KEY_DOHPATH;
}

/* The TargetName: uncompressed labels up to the root, at most 255 bytes. */
static size_t
read_target(struct wire_rd *r, uint8_t *out)
{
	size_t n = 0;

	for (;;) {
		uint8_t l = wire_u8(r);
		const uint8_t *p;

		if (r->err || l > 63 || n + 1 + l > WIRE_NAME_MAX)
			return 0;
		out[n++] = l;
		if (l == 0)
			return n;
		p = wire_bytes(r, l);
		if (!p)
			return 0;
		memcpy(out + n, p, l);
		n += l;
	}
}

static bool
read_alpn(struct wire_rd *v, struct svcb *s)
{
	if (wire_left(v) == 0)
		return false;
	while (wire_left(v) > 0) {
		uint8_t l = wire_u8(v);
		const uint8_t *p = l ? wire_bytes(v, l) : NULL;

		if (!p || s->n_alpn == SVCB_MAX_ALPN)
			return false;
		if (l < SVCB_ALPN_LEN) {
			memcpy(s->alpn[s->n_alpn], p, l);
			s->alpn[s->n_alpn][l] = '\0';
		} else {
			/* too long to be one we speak: kept as a never-matching id */
			s->alpn[s->n_alpn][0] = '\0';
		}
		s->n_alpn++;
	}
	return true;
}

/* RFC 9461: a relative URI template with the "dns" variable, UTF-8 (we
 * accept printable ASCII only: a path we would put into a request). */
static bool
read_dohpath(const uint8_t *p, size_t n, struct svcb *s)
{
	size_t i;

	if (n == 0 || n >= sizeof(s->dohpath) || p[0] != '/')
		return false;
	for (i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return false;
	memcpy(s->dohpath, p, n);
	s->dohpath[n] = '\0';
	if (!strstr(s->dohpath, "{?dns}") && !strstr(s->dohpath, "{?dns,"))
		return false;
	s->has_dohpath = true;
	return true;
}

enum stub_err
svcb_read(const uint8_t *rd, size_t rdlen, struct svcb *out, char *why, size_t whylen)
{
	struct wire_rd r;
	struct svcb s;
	long last = -1;
	unsigned i, j;
	uint16_t present[64]; /* keys seen, for the mandatory check */
	unsigned n_present = 0;
	bool overflow = false;

	if (out)
		memset(out, 0, sizeof(*out));
	if (why && whylen)
		why[0] = '\0';
	memset(&s, 0, sizeof(s));
	if (!rd || !out)
		FAIL("no rdata");
	wire_rd_init(&r, rd, rdlen);
	s.priority = wire_u16(&r);
	if (r.err)
		FAIL("short SvcPriority");
	s.target_len = read_target(&r, s.target);
	if (s.target_len == 0)
		FAIL("bad TargetName");
	while (wire_left(&r) > 0) {
		uint16_t key = wire_u16(&r), len = wire_u16(&r);
		const uint8_t *val;
		struct wire_rd v;

		if (r.err)
			FAIL("short SvcParam header");
		if ((long)key <= last)
			FAIL("SvcParam key %u out of order or repeated", key);
		if (key == SVCB_KEY_INVALID)
			FAIL("SvcParam key 65535");
		last = key;
		val = len ? wire_bytes(&r, len) : rd + r.pos;
		if (r.err)
			FAIL("SvcParam key %u: value runs past the RDATA", key);
		if (n_present < sizeof(present) / sizeof(present[0]))
			present[n_present++] = key;
		else
			overflow = true;
		wire_rd_init(&v, val, len);
		switch (key) {
		case SVCB_KEY_MANDATORY:
			if (len == 0 || len % 2 || len / 2 > SVCB_MAX_MANDATORY)
				FAIL("mandatory: bad length %u", len);
			for (i = 0; i < len / 2u; i++) {
				uint16_t m = wire_u16(&v);

				if (m == SVCB_KEY_MANDATORY)
					FAIL("mandatory lists itself");
				if (i > 0 && m <= s.mandatory[i - 1])
					FAIL("mandatory: keys not strictly ascending");
				s.mandatory[i] = m;
				if (!known_key(m))
					s.mandatory_unknown = true;
			}
			s.n_mandatory = len / 2u;
			break;
		case SVCB_KEY_ALPN:
			if (!read_alpn(&v, &s))
				FAIL("alpn: malformed");
			break;
		case SVCB_KEY_NO_DEFAULT_ALPN:
			if (len != 0)
				FAIL("no-default-alpn with a value");
			s.no_default_alpn = true;
			break;
		case SVCB_KEY_PORT:
			if (len != 2)
				FAIL("port: length %u", len);
			s.port = wire_u16(&v);
			s.has_port = true;
			break;
		case SVCB_KEY_IPV4HINT:
			if (len == 0 || len % 4)
				FAIL("ipv4hint: length %u", len);
			for (i = 0; i < len / 4u; i++) {
				const uint8_t *a = wire_bytes(&v, 4);

				if (a && s.n_ipv4hint < SVCB_MAX_HINTS)
					memcpy(s.ipv4hint[s.n_ipv4hint++], a, 4);
			}
			break;
		case SVCB_KEY_ECH:
			if (len == 0)
				FAIL("ech: empty");
			s.has_ech = true;
			break;
		case SVCB_KEY_IPV6HINT:
			if (len == 0 || len % 16)
				FAIL("ipv6hint: length %u", len);
			for (i = 0; i < len / 16u; i++) {
				const uint8_t *a = wire_bytes(&v, 16);

				if (a && s.n_ipv6hint < SVCB_MAX_HINTS)
					memcpy(s.ipv6hint[s.n_ipv6hint++], a, 16);
			}
			break;
		case SVCB_KEY_DOHPATH:
			if (!read_dohpath(val, len, &s))
				FAIL("dohpath: not a relative template with {?dns}");
			break;
		default: s.n_unknown++; break;
		}
		if (v.err)
			FAIL("SvcParam key %u: malformed value", key);
	}
	if (r.err)
		FAIL("malformed RDATA");
	if (s.no_default_alpn && s.n_alpn == 0)
		FAIL("no-default-alpn without alpn");
	for (i = 0; i < s.n_mandatory; i++) {
		bool found = overflow; /* cannot tell: the record is huge */

		for (j = 0; j < n_present && !found; j++)
			found = present[j] == s.mandatory[i];
		if (!found)
			FAIL("mandatory key %u absent", s.mandatory[i]);
	}
	*out = s;
	return STUB_OK;
fail:
	return STUB_EFORMAT;
}

bool
svcb_has_alpn(const struct svcb *s, const char *name)
{
	unsigned i;

	if (!s || !name)
		return false;
	for (i = 0; i < s->n_alpn; i++)
		if (strcmp(s->alpn[i], name) == 0)
			return true;
	return false;
}
