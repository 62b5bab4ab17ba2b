/*
 * ddr.c - the answer to the DDR probe (RFC 9462 4) read and judged.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ddr.h"
#include "svcb.h"

static const uint8_t probe_name[] = "\004_dns\010resolver\004arpa"; /* with the root */

/* Judge one ServiceMode record; 0 and *r filled, or -1 with r->why. */
static int
judge(const struct svcb *s, uint32_t ttl, const struct sockaddr *clear, struct ddr_result *r)
{
	struct cfg_template *t = &r->t;
	char name[WIRE_NAME_TEXT];
	bool dot = svcb_has_alpn(s, "dot"), h2 = svcb_has_alpn(s, "h2");
	uint16_t port;

	if (s->target_len == 1) {
		snprintf(r->why, sizeof(r->why), "TargetName \".\"");
		return -1;
	}
	if (s->mandatory_unknown) {
		snprintf(r->why, sizeof(r->why), "an unknown mandatory key");
		return -1;
	}
	if (!dot && !(h2 && s->has_dohpath)) {
		snprintf(r->why, sizeof(r->why),
		    h2 ? "h2 without dohpath" : "no supported ALPN (dot, h2)");
		return -1;
	}
	if (wire_name_to_text(s->target, s->target_len, name, sizeof(name)) == 0 ||
	    strlen(name) >= sizeof(t->name)) {
		snprintf(r->why, sizeof(r->why), "TargetName too long");
		return -1;
	}
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (dot) {
		t->transport = XPORT_TLS;
		port = s->has_port ? s->port : 853;
	} else {
		char *q;

		t->transport = XPORT_HTTPS;
		port = s->has_port ? s->port : 443;
		/* "/dns-query{?dns}": the path without the template part */
		snprintf(t->path, sizeof(t->path), "%s", s->dohpath);
		q = strchr(t->path, '{');
		if (q)
			*q = '\0';
	}
	t->port = port;
	if (clear->sa_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&t->addr.ss;

		*a = *(const struct sockaddr_in *)clear;
		if (s->n_ipv4hint)
			memcpy(&a->sin_addr, s->ipv4hint[0], 4);
		a->sin_port = htons(port);
		t->addr.len = sizeof(*a);
	} else if (clear->sa_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&t->addr.ss;

		*a = *(const struct sockaddr_in6 *)clear;
		if (s->n_ipv6hint)
			memcpy(&a->sin6_addr, s->ipv6hint[0], 16);
		a->sin6_port = htons(port);
		t->addr.len = sizeof(*a);
	} else {
		snprintf(r->why, sizeof(r->why), "no address");
		return -1;
	}
	r->priority = s->priority;
	r->ttl = ttl;
	return 0;
}

enum ddr_verdict
ddr_read_answer(const uint8_t *msg, size_t len, const struct sockaddr *clear,
    struct ddr_result *out)
{
	struct wire_rd r;
	struct wire_hdr h;
	uint8_t name[WIRE_NAME_MAX];
	size_t nl, i;
	bool any = false, found = false;
	struct ddr_result best, cand;

	memset(out, 0, sizeof(*out));
	memset(&best, 0, sizeof(best));
	if (!msg || !clear)
		return DDR_MALFORMED;
	wire_rd_init(&r, msg, len);
	if (wire_hdr(&r, &h) != 0 || !(h.flags & WIRE_QR) || h.qdcount != 1)
		goto malformed;
	nl = wire_name(&r, name);
	if (nl == 0 || wire_u16(&r) != TYPE_SVCB || r.err)
		goto malformed;
	wire_name_lower(name, nl);
	if (nl != sizeof(probe_name) || memcmp(name, probe_name, nl) != 0)
		goto malformed;
	wire_u16(&r); /* class */
	if (r.err)
		goto malformed;
	if (WIRE_RCODE(h.flags) != RCODE_NOERROR)
		return DDR_NONE;
	for (i = 0; i < h.ancount; i++) {
		struct wire_rr rr;
		struct wire_rd o;
		struct svcb s;

		if (wire_rr(&r, &rr) != 0)
			goto malformed;
		if (rr.type != TYPE_SVCB)
			continue;
		wire_rd_init(&o, msg, len);
		wire_seek(&o, rr.name_off);
		nl = wire_name(&o, name);
		if (nl == 0)
			goto malformed;
		wire_name_lower(name, nl);
		if (nl != sizeof(probe_name) || memcmp(name, probe_name, nl) != 0)
			continue;
		memset(&cand, 0, sizeof(cand));
		if (svcb_read(msg + rr.rd_off, rr.rdlen, &s, cand.why, sizeof(cand.why)) !=
		    STUB_OK) {
			if (!any)
				snprintf(out->why, sizeof(out->why), "malformed SVCB: %.100s",
				    cand.why);
			any = true;
			continue;
		}
		if (s.priority == 0) /* AliasMode: not for DDR */
			continue;
		if (judge(&s, rr.ttl, clear, &cand) != 0) {
			if (!any)
				snprintf(out->why, sizeof(out->why), "%s", cand.why);
			any = true;
			continue;
		}
		any = true;
		if (!found || cand.priority < best.priority) {
			best = cand;
			found = true;
		}
	}
	if (found) {
		*out = best;
		return DDR_FOUND;
	}
	return any ? DDR_REJECTED : DDR_NONE;
malformed:
	snprintf(out->why, sizeof(out->why), "not an answer to the probe");
	return DDR_MALFORMED;
}
