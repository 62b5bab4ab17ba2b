/*
 * dnropt.c - DHCP DNR options (RFC 9463 sections 4 and 5).
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dnropt.h"
#include "svcb.h"
#include "wire.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum stub_err
dnropt_hex(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
	bool colons = strchr(hex, ':') != NULL;
	size_t n = 0;

	*len = 0;
	while (*hex) {
		int hi = hexval(hex[0]), lo = hi < 0 ? -1 : hexval(hex[1]);

		if (hi < 0 || n == cap)
			return STUB_EFORMAT;
		if (lo < 0 && !colons)
			return STUB_EFORMAT;
		/* "0a:3:64": with colons a byte may have one digit (dhclient) */
		out[n++] = (uint8_t)(lo < 0 ? hi : hi << 4 | lo);
		hex += lo < 0 ? 1 : 2;
		if (colons && *hex) {
			if (*hex != ':' || !hex[1])
				return STUB_EFORMAT;
			hex++;
		}
	}
	*len = n;
	return STUB_OK;
}

/* One instance: priority, ADN, addresses and SvcParams already cut out.
 * STUB_OK with *use false when stubd cannot use it. */
static enum stub_err
instance(uint16_t prio, const uint8_t *adn, size_t adnlen, const uint8_t *addrs, size_t alen,
    size_t asize, const uint8_t *params, size_t plen, struct dnropt_inst *d, bool *use, char *why,
    size_t whylen)
{
	uint8_t rd[2 + WIRE_NAME_MAX + 1024], name[WIRE_NAME_MAX];
	struct wire_rd r;
	struct wire_wr w;
	struct svcb s;
	size_t nl, i;

	*use = false;
	memset(d, 0, sizeof(*d));
	d->priority = prio;
	wire_rd_init(&r, adn, adnlen);
	nl = adnlen ? wire_name(&r, name) : 0;
	if (nl <= 1 || wire_left(&r) != 0 || nl != adnlen) {
		snprintf(why, whylen, "DNR: bad authentication-domain-name");
		return STUB_EFORMAT;
	}
	wire_name_lower(name, nl);
	if (!wire_name_to_text(name, nl, d->name, sizeof(d->name))) {
		snprintf(why, whylen, "DNR: bad authentication-domain-name");
		return STUB_EFORMAT;
	}
	i = strlen(d->name);
	if (i && d->name[i - 1] == '.')
		d->name[i - 1] = 0;
	if (alen == 0)
		return STUB_OK; /* ADN-only mode: no address to reach it at */
	if (alen % asize != 0 || alen / asize > DNROPT_MAX_ADDRS) {
		snprintf(why, whylen, "DNR %s: bad address list length %zu", d->name, alen);
		return STUB_EFORMAT;
	}
	d->family = asize == 4 ? AF_INET : AF_INET6;
	d->naddrs = (unsigned)(alen / asize);
	for (i = 0; i < d->naddrs; i++)
		memcpy(d->addrs[i], addrs + i * asize, asize);
	/* the SvcParams as an SVCB RDATA: priority, TargetName, params */
	if (plen > 1024) {
		snprintf(why, whylen, "DNR %s: service parameters too long", d->name);
		return STUB_EFORMAT;
	}
	wire_wr_init(&w, rd, sizeof(rd));
	wire_put_u16(&w, prio);
	wire_put_name(&w, name, nl);
	wire_put_bytes(&w, params, plen);
	if (w.err != STUB_OK || svcb_read(rd, w.len, &s, why, whylen) != STUB_OK) {
		char m[128];

		snprintf(m, sizeof(m), "%s", w.err != STUB_OK ? "too long" : why);
		snprintf(why, whylen, "DNR %s: %s", d->name, m);
		return STUB_EFORMAT;
	}
	if (s.mandatory_unknown || s.n_ipv4hint || s.n_ipv6hint)
		return STUB_OK; /* RFC 9463 3.1.8: such an instance is discarded */
	d->dot = svcb_has_alpn(&s, "dot");
	d->h2 = svcb_has_alpn(&s, "h2");
	if (s.has_port)
		d->port = s.port;
	if (s.has_dohpath)
		snprintf(d->dohpath, sizeof(d->dohpath), "%s", s.dohpath);
	if (s.has_port && s.port == 0)
		return STUB_OK;
	*use = d->dot || d->h2;
	return STUB_OK;
}

enum stub_err
dnropt_read(const uint8_t *p, size_t len, bool v6, struct dnropt *out, char *why, size_t whylen)
{
	struct dnropt tmp = *out;
	struct wire_rd r;

	wire_rd_init(&r, p, len);
	if (len == 0) {
		snprintf(why, whylen, "DNR: empty option");
		return STUB_EFORMAT;
	}
	while (wire_left(&r) > 0) {
		struct dnropt_inst d;
		const uint8_t *inst, *adn, *addrs = NULL, *params = NULL;
		size_t ilen, adnlen, alen = 0, plen = 0;
		uint16_t prio;
		struct wire_rd ir;
		bool use;

		if (v6) {
			ilen = wire_left(&r); /* one instance per option */
		} else {
			ilen = wire_u16(&r);
			if (r.err != STUB_OK || ilen > wire_left(&r)) {
				snprintf(why, whylen, "DNR: instance length past the option's end");
				return STUB_EFORMAT;
			}
		}
		inst = wire_bytes(&r, ilen);
		wire_rd_init(&ir, inst, ilen);
		prio = wire_u16(&ir);
		adnlen = v6 ? wire_u16(&ir) : wire_u8(&ir);
		adn = wire_bytes(&ir, adnlen);
		if (ir.err == STUB_OK && wire_left(&ir) > 0) {
			alen = v6 ? wire_u16(&ir) : wire_u8(&ir);
			addrs = wire_bytes(&ir, alen);
			plen = wire_left(&ir);
			params = wire_bytes(&ir, plen);
		}
		if (!inst || ir.err != STUB_OK || prio == 0) {
			snprintf(why, whylen, "DNR: truncated instance%s",
			    prio == 0 && ir.err == STUB_OK ? " (priority 0)" : "");
			return STUB_EFORMAT;
		}
		if (instance(prio, adn, adnlen, addrs, alen, v6 ? 16 : 4, params, plen, &d, &use,
		        why, whylen) != STUB_OK)
			return STUB_EFORMAT;
		if (!use) {
			tmp.skipped++;
			continue;
		}
		if (tmp.n == DNROPT_MAX) {
			snprintf(why, whylen, "DNR: more than %d resolvers", DNROPT_MAX);
			return STUB_EFORMAT;
		}
		tmp.v[tmp.n++] = d;
	}
	*out = tmp;
	return STUB_OK;
}

void
dnropt_format(const struct dnropt_inst *d, char *buf, size_t len)
{
	size_t used, k;

	snprintf(buf, len, "%u %s ", (unsigned)d->priority, d->name);
	for (k = 0; k < d->naddrs; k++) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(d->family, d->addrs[k], a, sizeof(a));
		used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", k ? "," : "", a);
	}
	dnropt_format_params(buf, len, d->dot, d->h2, d->port, d->dohpath);
}

void
dnropt_format_params(char *buf, size_t len, bool dot, bool h2, uint16_t port, const char *path)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, " alpn=%s%s%s", dot ? "dot" : "", dot && h2 ? "," : "",
	    h2 ? "h2" : "");
	if (port) {
		used = strlen(buf);
		snprintf(buf + used, len - used, " port=%u", (unsigned)port);
	}
	if (path && path[0]) {
		used = strlen(buf);
		snprintf(buf + used, len - used, " dohpath=%s", path);
	}
}
