/*
 * ddr.c - the answer to the DDR probe (RFC 9462 4) read and judged.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "ddr.h"
#include "localzone.h"
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

size_t
ddr_probe_query(uint16_t id, uint8_t *out, size_t cap)
{
	struct wire_wr w;
	struct wire_hdr h = { .id = id, .flags = WIRE_RD, .qdcount = 1 };

	wire_wr_init(&w, out, cap);
	wire_put_hdr(&w, &h);
	wire_put_name(&w, probe_name, sizeof(probe_name));
	wire_put_u16(&w, TYPE_SVCB);
	wire_put_u16(&w, CLASS_IN);
	return w.err ? 0 : w.len;
}

/* ---------------- the discovery table ---------------- */

void
ddr_table_init(struct ddr_table *t)
{
	t->v = NULL;
	t->n = 0;
}

void
ddr_table_free(struct ddr_table *t)
{
	free(t->v);
	ddr_table_init(t);
}

static bool
same_server(const struct cfg_sockaddr *a, const struct cfg_sockaddr *b)
{
	return encryption_same_host((const struct sockaddr *)&a->ss,
	           (const struct sockaddr *)&b->ss) &&
	    a->len == b->len &&
	    (a->ss.ss_family == AF_INET ? ((const struct sockaddr_in *)&a->ss)->sin_port ==
	                ((const struct sockaddr_in *)&b->ss)->sin_port :
	                                  ((const struct sockaddr_in6 *)&a->ss)->sin6_port ==
	                ((const struct sockaddr_in6 *)&b->ss)->sin6_port);
}

struct ddr_entry *
ddr_entry_get(struct ddr_table *t, const char *adapter, const struct cfg_sockaddr *clear,
    bool create)
{
	struct ddr_entry *e;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].adapter, adapter) == 0 && same_server(&t->v[i].clear, clear))
			return &t->v[i];
	if (!create || t->n >= DDR_MAX_ENTRIES)
		return NULL;
	if (!t->v) {
		/* fixed room: entries never move (the engine holds pointers) */
		t->v = calloc(DDR_MAX_ENTRIES, sizeof(*t->v));
		if (!t->v)
			return NULL;
	}
	e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->adapter, sizeof(e->adapter), "%s", adapter);
	e->clear = *clear;
	e->st = DS_NEW;
	return e;
}

bool
ddr_pending(const struct ddr_entry *e, uint64_t now)
{
	return (e->st == DS_PROBING || e->st == DS_VERIFYING) && now < e->until;
}

bool
ddr_probe_due(const struct ddr_entry *e, uint64_t now)
{
	return e->st == DS_NEW || now >= e->until;
}

void
ddr_probe_sent(struct ddr_entry *e, uint64_t now)
{
	e->st = DS_PROBING;
	e->until = now + DDR_PROBE_WAIT_MS;
	e->probes++;
}

/* Nothing to use: forget an installed twin (true when there was one). */
static bool
settle_without(struct ddr_entry *e, enum ddr_state st, uint64_t until)
{
	bool had = e->installed;

	e->st = st;
	e->until = until;
	e->installed = false;
	return had;
}

static bool
twin_equal(const struct enc_twin *a, const struct enc_twin *b)
{
	return a->how == b->how && a->t.transport == b->t.transport && a->t.port == b->t.port &&
	    a->t.addr.len == b->t.addr.len &&
	    memcmp(&a->t.addr.ss, &b->t.addr.ss, a->t.addr.len) == 0 &&
	    strcmp(a->t.name, b->t.name) == 0 && strcmp(a->t.path, b->t.path) == 0;
}

enum ddr_next
ddr_on_probe(struct ddr_entry *e, const uint8_t *msg, size_t len, uint64_t now, bool *rejected)
{
	struct ddr_result res;
	enum ddr_verdict v;

	*rejected = false;
	if (e->st != DS_PROBING)
		return DDR_NEXT_NOTHING;
	if (!msg) {
		/* no answer: keep what is installed, ask again later */
		e->st = e->installed ? DS_UP : DS_NONE;
		e->until = now + DDR_LOST_RETRY_MS;
		return DDR_NEXT_NOTHING;
	}
	v = ddr_read_answer(msg, len, (const struct sockaddr *)&e->clear.ss, &res);
	switch (v) {
	case DDR_FOUND:
		e->cand = res;
		e->st = DS_VERIFYING;
		e->until = now + DDR_PROBE_WAIT_MS;
		return DDR_NEXT_VERIFY;
	case DDR_REJECTED:
		*rejected = true;
		e->rejections++;
		snprintf(e->why, sizeof(e->why), "%s", res.why);
		return settle_without(e, DS_REJECTED, now + DDR_RETRY_MS) ? DDR_NEXT_CHANGED :
		                                                            DDR_NEXT_NOTHING;
	case DDR_NONE:
	case DDR_MALFORMED:
	default:
		return settle_without(e, DS_NONE, now + DDR_RETRY_MS) ? DDR_NEXT_CHANGED :
		                                                        DDR_NEXT_NOTHING;
	}
}

enum ddr_next
ddr_on_verify(struct ddr_entry *e, bool ok, const char *why, enum cfg_encryption pol, uint64_t now,
    bool *rejected)
{
	struct enc_twin tw;
	uint64_t ttl;

	*rejected = false;
	if (e->st != DS_VERIFYING)
		return DDR_NEXT_NOTHING;
	memset(&tw, 0, sizeof(tw));
	snprintf(tw.adapter, sizeof(tw.adapter), "%s", e->adapter);
	tw.clear = e->clear;
	tw.t = e->cand.t;
	tw.how = UPGRADE_DDR;
	if (!ok) {
		/* RFC 9462 4.3: the same private address, unverified */
		bool same = encryption_same_host((const struct sockaddr *)&e->cand.t.addr.ss,
		    (const struct sockaddr *)&e->clear.ss);

		if (pol != ENC_OPPORTUNISTIC || !same ||
		    !localzone_private_addr((const struct sockaddr *)&e->clear.ss)) {
			*rejected = true;
			e->rejections++;
			snprintf(e->why, sizeof(e->why), "%s", why ? why : "verification failed");
			return settle_without(e, DS_REJECTED, now + DDR_RETRY_MS) ?
			    DDR_NEXT_CHANGED :
			    DDR_NEXT_NOTHING;
		}
		tw.how = UPGRADE_DDR_OPP;
	}
	ttl = (uint64_t)e->cand.ttl * 1000;
	if (ttl < DDR_MIN_TTL_MS)
		ttl = DDR_MIN_TTL_MS;
	if (ttl > DDR_MAX_TTL_MS)
		ttl = DDR_MAX_TTL_MS;
	e->st = DS_UP;
	e->until = now + ttl;
	if (e->installed && twin_equal(&e->twin, &tw))
		return DDR_NEXT_NOTHING;
	e->twin = tw;
	e->installed = true;
	return DDR_NEXT_CHANGED;
}

bool
ddr_netchange(struct ddr_table *t)
{
	bool changed = false;
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct ddr_entry *e = &t->v[i];

		e->st = DS_NEW;
		if (e->installed && e->twin.how == UPGRADE_DDR_OPP) {
			e->installed = false;
			changed = true;
		}
	}
	return changed;
}

size_t
ddr_twins(const struct ddr_table *t, struct enc_twin *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < t->n && n < max; i++)
		if (t->v[i].installed)
			out[n++] = t->v[i].twin;
	return n;
}
