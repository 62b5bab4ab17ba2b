/*
 * synthname.c - the host name, _gateway and _outbound answered from the
 * machine's facts (SPEC 16), as systemd-resolved answers them.
 */
#include "auto-config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "synthname.h"

#define RTF_UP_ 0x0001u
#define RTF_GATEWAY_ 0x0002u
#define RTF_REJECT_ 0x0200u

static const uint8_t gateway_key[] = "\010_gateway";   /* with the root */
static const uint8_t outbound_key[] = "\011_outbound"; /* with the root */

/* "localhost", "*.localhost", "localhost.localdomain" and under it */
static bool
localhost_like(const uint8_t *w, size_t len)
{
	static const uint8_t lh[] = "\011localhost";
	static const uint8_t lhd[] = "\011localhost\013localdomain";

	return wire_name_under(w, len, lh, sizeof(lh)) || wire_name_under(w, len, lhd, sizeof(lhd));
}

bool
synth_names_set(struct synth_names *n, const char *hostname)
{
	uint8_t w[WIRE_NAME_MAX];
	size_t len, l1;

	memset(n, 0, sizeof(*n));
	if (!hostname || !*hostname)
		return false;
	len = wire_name_from_text(hostname, w);
	if (len <= 1)
		return false;
	wire_name_lower(w, len);
	if (localhost_like(w, len))
		return false;
	memcpy(n->full, w, len);
	n->fulllen = len;
	l1 = (size_t)w[0] + 1; /* the first label with its length */
	memcpy(n->label, w, l1);
	n->label[l1] = 0;
	n->labellen = l1 + 1;
	if (l1 + 7 <= WIRE_NAME_MAX) {
		memcpy(n->local, w, l1);
		memcpy(n->local + l1, "\005local", 7); /* with the root */
		n->locallen = l1 + 7;
	}
	return true;
}

bool
synth_names_equal(const struct synth_names *a, const struct synth_names *b)
{
	return a->fulllen == b->fulllen && memcmp(a->full, b->full, a->fulllen) == 0;
}

static bool
same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen && alen == blen && memcmp(a, b, alen) == 0;
}

enum synth_kind
synth_kind(const struct synth_names *names, const uint8_t *key, size_t klen)
{
	if (!key || klen < 2)
		return SYNTH_NONE;
	if (same(key, klen, gateway_key, sizeof(gateway_key)))
		return SYNTH_GATEWAY;
	if (same(key, klen, outbound_key, sizeof(outbound_key)))
		return SYNTH_OUTBOUND;
	if (names &&
	    (same(key, klen, names->full, names->fulllen) ||
	        same(key, klen, names->label, names->labellen) ||
	        same(key, klen, names->local, names->locallen)))
		return SYNTH_HOSTNAME;
	{
		struct synth_addr a;

		if (synth_reverse_addr(key, klen, &a))
			return SYNTH_REVERSE;
	}
	return SYNTH_NONE;
}

/* The rest of the name at r's cursor is suffix (wire form with the root). */
static bool
rest_is(struct wire_rd *r, const uint8_t *suffix, size_t len)
{
	const uint8_t *p = wire_left(r) == len ? wire_bytes(r, len) : NULL;

	return p && memcmp(p, suffix, len) == 0;
}

/* d.c.b.a.in-addr.arpa: 4 decimal labels (no leading zero) */
static bool
reverse4(const uint8_t *key, size_t klen, uint8_t out[4])
{
	static const uint8_t v4[] = "\007in-addr\004arpa"; /* with the root */
	struct wire_rd r;
	size_t i, j;

	wire_rd_init(&r, key, klen);
	for (i = 0; i < 4; i++) {
		unsigned v = 0, l = wire_u8(&r);
		const uint8_t *lab = l >= 1 && l <= 3 ? wire_bytes(&r, l) : NULL;

		if (!lab || (l > 1 && lab[0] == '0'))
			return false;
		for (j = 0; j < l; j++) {
			if (lab[j] < '0' || lab[j] > '9')
				return false;
			v = v * 10 + (unsigned)(lab[j] - '0');
		}
		if (v > 255)
			return false;
		out[3 - i] = (uint8_t)v;
	}
	return rest_is(&r, v4, sizeof(v4));
}

/* 32 nibbles, the least significant first, then ip6.arpa */
static bool
reverse6(const uint8_t *key, size_t klen, uint8_t out[16])
{
	static const uint8_t v6[] = "\003ip6\004arpa"; /* with the root */
	struct wire_rd r;
	size_t i;

	wire_rd_init(&r, key, klen);
	memset(out, 0, 16);
	for (i = 0; i < 32; i++) {
		unsigned l = wire_u8(&r), v;
		uint8_t c = wire_u8(&r);

		if (l != 1 || r.err != STUB_OK)
			return false;
		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else
			return false;
		out[15 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
	}
	return rest_is(&r, v6, sizeof(v6));
}

bool
synth_reverse_addr(const uint8_t *key, size_t klen, struct synth_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (!key || klen < 2)
		return false;
	if (reverse4(key, klen, out->addr)) {
		out->family = AF_INET;
		return true;
	}
	memset(out->addr, 0, sizeof(out->addr));
	if (reverse6(key, klen, out->addr)) {
		out->family = AF_INET6;
		return true;
	}
	memset(out->addr, 0, sizeof(out->addr));
	return false;
}

bool
synth_addr_usable(const struct synth_addr *a)
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (a->family == AF_INET)
		return a->addr[0] != 127 && memcmp(a->addr, zero, 4) != 0;
	if (a->family != AF_INET6)
		return false;
	if (memcmp(a->addr, zero, 15) == 0 && a->addr[15] <= 1) /* :: and ::1 */
		return false;
	return memcmp(a->addr, mapped, sizeof(mapped)) != 0;
}

static int
addr_cmp(const void *pa, const void *pb)
{
	const struct synth_addr *a = pa, *b = pb;
	int c;

	if (a->scope != b->scope)
		return a->scope < b->scope ? -1 : 1;
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	if (a->metric != b->metric)
		return a->metric < b->metric ? -1 : 1;
	c = strcmp(a->ifname, b->ifname);
	if (c)
		return c;
	return memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

void
synth_sort(struct synth_addr *v, size_t n)
{
	if (v && n > 1)
		qsort(v, n, sizeof(*v), addr_cmp);
}

static bool
is_link6(const struct synth_addr *a)
{
	return a->family == AF_INET6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80;
}

unsigned
synth_link_scope(struct synth_addr *v, size_t *n, const struct synth_addr *gw, size_t ngw)
{
	const struct synth_addr *best = NULL;
	unsigned keep = 0;
	bool found = false;
	size_t i, j;

	if (!v || !n)
		return 0;
	/* the default route's interface: IPv6 first, then the lower metric */
	for (i = 0; gw && i < ngw; i++)
		if (!best || (gw[i].family == AF_INET6 && best->family != AF_INET6) ||
		    (gw[i].family == best->family && gw[i].metric < best->metric))
			best = &gw[i];
	for (i = 0; best && i < *n && !found; i++)
		found = is_link6(&v[i]) && v[i].ifindex == best->ifindex;
	if (found)
		keep = best->ifindex;
	for (i = 0; !found && i < *n; i++)
		if (is_link6(&v[i])) {
			keep = v[i].ifindex;
			found = true;
		}
	if (!found)
		return 0;
	for (i = j = 0; i < *n; i++)
		if (!is_link6(&v[i]) || v[i].ifindex == keep)
			v[j++] = v[i];
	*n = j;
	return keep;
}

/* The next line of text into line (cut at cap); NULL at the end. */
static const char *
next_line(const char *p, char *line, size_t cap)
{
	size_t l;

	if (!p || !*p)
		return NULL;
	l = strcspn(p, "\n");
	snprintf(line, cap, "%.*s", (int)(l < cap ? l : cap - 1), p);
	return p[l] ? p + l + 1 : p + l;
}

size_t
synth_parse_routes4(const char *text, struct synth_addr *out, size_t cap)
{
	const char *p = text;
	char line[512], ifname[64];
	unsigned long dst, gw, flags, metric, mask;
	size_t n = 0;

	while (n < cap && (p = next_line(p, line, sizeof(line))) != NULL) {
		uint32_t g;

		if (sscanf(line, "%63s %lx %lx %lx %*u %*u %lu %lx", ifname, &dst, &gw, &flags,
		        &metric, &mask) != 6)
			continue; /* the heading, or not a route */
		if (dst != 0 || mask != 0 || gw == 0 ||
		    (flags & (RTF_UP_ | RTF_GATEWAY_)) != (RTF_UP_ | RTF_GATEWAY_) ||
		    (flags & RTF_REJECT_) || strlen(ifname) >= SYNTH_IFNAME_MAX)
			continue;
		/* printed as the 32-bit word in the host's order */
		g = (uint32_t)gw;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].family = AF_INET;
		memcpy(out[n].addr, &g, 4);
		out[n].metric = metric > UINT32_MAX ? UINT32_MAX : (uint32_t)metric;
		snprintf(out[n].ifname, sizeof(out[n].ifname), "%s", ifname);
		n++;
	}
	return n;
}

static bool
hex16(const char *s, uint8_t out[16])
{
	size_t i;

	if (strlen(s) != 32 || strspn(s, "0123456789abcdefABCDEF") != 32)
		return false;
	for (i = 0; i < 16; i++) {
		char b[3] = { s[2 * i], s[2 * i + 1], 0 };

		out[i] = (uint8_t)strtoul(b, NULL, 16);
	}
	return true;
}

size_t
synth_parse_routes6(const char *text, struct synth_addr *out, size_t cap)
{
	static const uint8_t zero[16];
	const char *p = text;
	char line[512], dst[64], src[64], hop[64], ifname[64];
	unsigned long dplen, metric, flags;
	size_t n = 0;

	while (n < cap && (p = next_line(p, line, sizeof(line))) != NULL) {
		uint8_t d[16], h[16];

		if (sscanf(line, "%63s %lx %63s %*x %63s %lx %*x %*x %lx %63s", dst, &dplen, src,
		        hop, &metric, &flags, ifname) != 7)
			continue;
		if (!hex16(dst, d) || !hex16(hop, h) || dplen != 0 || memcmp(d, zero, 16) != 0 ||
		    memcmp(h, zero, 16) == 0 ||
		    (flags & (RTF_UP_ | RTF_GATEWAY_)) != (RTF_UP_ | RTF_GATEWAY_) ||
		    (flags & RTF_REJECT_) || strlen(ifname) >= SYNTH_IFNAME_MAX ||
		    strcmp(ifname, "lo") == 0)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].family = AF_INET6;
		memcpy(out[n].addr, h, 16);
		out[n].scope = h[0] == 0xfe && (h[1] & 0xc0) == 0x80 ? SYNTH_SCOPE_LINK : 0;
		out[n].metric = metric > UINT32_MAX ? UINT32_MAX : (uint32_t)metric;
		snprintf(out[n].ifname, sizeof(out[n].ifname), "%s", ifname);
		n++;
	}
	return n;
}

static bool
has_addr(const struct synth_addr *v, size_t n, const struct synth_addr *a)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		if (v[i].family == a->family &&
		    memcmp(v[i].addr, a->addr, a->family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

size_t
synth_answer_ptr(const struct msg_query *q, const struct synth_names *names,
    const struct synth_addr *host, size_t nhost, const struct synth_addr *gw, size_t ngw,
    uint32_t ttl, size_t limit, uint8_t *out, size_t cap)
{
	static const uint8_t localhost[] = "\011localhost"; /* with the root */
	static const uint8_t two[4] = { 127, 0, 0, 2 };
	struct msg_rr rr[5];
	struct synth_addr a;
	size_t n = 0;
	bool mine, local2, gate;

	if (!q || q->qlen == 0 || !synth_reverse_addr(q->key, q->qlen, &a))
		return 0;
	local2 = a.family == AF_INET && memcmp(a.addr, two, 4) == 0;
	mine = names && names->fulllen && (local2 || has_addr(host, nhost, &a));
	gate = has_addr(gw, ngw, &a);
	if (!mine && !gate && !local2)
		return 0;
	if (q->qtype == TYPE_PTR || q->qtype == TYPE_ANY) {
		if (mine) {
			rr[n++] = (struct msg_rr){ TYPE_PTR, names->full,
				(uint16_t)names->fulllen };
			if (!same(names->label, names->labellen, names->full, names->fulllen))
				rr[n++] = (struct msg_rr){ TYPE_PTR, names->label,
					(uint16_t)names->labellen };
			if (names->locallen)
				rr[n++] = (struct msg_rr){ TYPE_PTR, names->local,
					(uint16_t)names->locallen };
		}
		if (local2)
			rr[n++] = (struct msg_rr){ TYPE_PTR, localhost, sizeof(localhost) };
		if (gate)
			rr[n++] = (struct msg_rr){ TYPE_PTR, gateway_key, sizeof(gateway_key) };
	}
	return msg_synth(q, rr, n, ttl, limit, out, cap);
}

size_t
synth_answer(const struct msg_query *q, enum synth_kind k, const struct synth_addr *v, size_t n,
    uint32_t ttl, size_t limit, uint8_t *out, size_t cap)
{
	static const uint8_t v4_local[4] = { 127, 0, 0, 2 };
	static const uint8_t v6_local[16] = { [15] = 1 };
	struct msg_rr rr[SYNTH_MAX_ADDRS + 2];
	size_t nrr = 0, i, n4 = 0, n6 = 0;
	bool want4, want6;

	if (!q || q->qlen == 0 || k == SYNTH_NONE || (n && !v))
		return 0;
	want4 = q->qtype == TYPE_A || q->qtype == TYPE_ANY;
	want6 = q->qtype == TYPE_AAAA || q->qtype == TYPE_ANY;
	for (i = 0; i < n && nrr < SYNTH_MAX_ADDRS; i++) {
		if (v[i].family == AF_INET) {
			n4++;
			if (want4)
				rr[nrr++] = (struct msg_rr){ TYPE_A, v[i].addr, 4 };
		} else if (v[i].family == AF_INET6) {
			n6++;
			if (want6)
				rr[nrr++] = (struct msg_rr){ TYPE_AAAA, v[i].addr, 16 };
		}
	}
	if (k == SYNTH_HOSTNAME) {
		/* no address of the family asked: the loopback ones */
		if (want4 && n4 == 0)
			rr[nrr++] = (struct msg_rr){ TYPE_A, v4_local, 4 };
		if (want6 && n6 == 0)
			rr[nrr++] = (struct msg_rr){ TYPE_AAAA, v6_local, 16 };
	} else if ((want4 || want6) && n4 + n6 == 0) {
		/* no gateway at all: the name does not exist */
		size_t len = msg_error(q, RCODE_NXDOMAIN, out, cap);

		return len <= limit ? len : 0;
	}
	return msg_synth(q, rr, nrr, ttl, limit, out, cap);
}
