/*
 * rebind.c - rebinding protection.  See rebind.h.
 */
#include "auto-config.h"

#include <string.h>

#include "rebind.h"
#include "wire.h"

#define TYPE_DNAME 39

static bool
private4(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 100 && (a[1] & 0xc0) == 64) ||
	    (a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	    (a[0] == 192 && a[1] == 168);
}

bool
rebind_private(const uint8_t *a, size_t len)
{
	static const uint8_t loop6[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (len == 4)
		return private4(a);
	if (len != 16)
		return false;
	if (memcmp(a, loop6, 16) == 0)
		return true;
	if (memcmp(a, mapped, 12) == 0)
		return private4(a + 12);
	return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

/* Copy a (possibly compressed) name from r to w, uncompressed. */
static void
copy_name(struct wire_rd *r, struct wire_wr *w)
{
	uint8_t n[WIRE_NAME_MAX];
	size_t l = wire_name(r, n);

	if (l)
		wire_put_name(w, n, l);
	else if (!w->err)
		w->err = 1;
}

/* Copy the RDATA of rr (r at its start), names uncompressed. */
static void
copy_rdata(struct wire_rd *r, const struct wire_rr *rr, struct wire_wr *w)
{
	size_t lenpos = w->len, start;
	int k;

	wire_put_u16(w, 0);
	start = w->len;
	switch (rr->type) {
	case TYPE_CNAME:
	case TYPE_NS:
	case TYPE_PTR:
	case TYPE_DNAME: copy_name(r, w); break;
	case TYPE_MX:
		wire_put_u16(w, wire_u16(r));
		copy_name(r, w);
		break;
	case TYPE_SRV:
		for (k = 0; k < 3; k++)
			wire_put_u16(w, wire_u16(r));
		copy_name(r, w);
		break;
	case TYPE_SOA:
		copy_name(r, w);
		copy_name(r, w);
		for (k = 0; k < 5; k++)
			wire_put_u32(w, wire_u32(r));
		break;
	default: {
		const uint8_t *p = wire_bytes(r, rr->rdlen);

		if (p)
			wire_put_bytes(w, p, rr->rdlen);
		break;
	}
	}
	if (r->pos != rr->rd_off + rr->rdlen && !r->err)
		r->err = 1;
	if (!w->err && w->len - start <= 0xffff)
		wire_set16_at(w->buf, w->len, lenpos, (uint16_t)(w->len - start));
}

enum stub_err
rebind_filter(const uint8_t *msg, size_t len, uint8_t *out, size_t cap, size_t *outlen,
    unsigned *removed)
{
	struct wire_rd r;
	struct wire_wr w;
	struct wire_hdr h, nh;
	uint16_t counts[3], kept[3] = { 0, 0, 0 };
	unsigned drop = 0, i, s;

	*outlen = 0;
	*removed = 0;
	wire_rd_init(&r, msg, len);
	if (wire_hdr(&r, &h) || h.qdcount != 1)
		return STUB_EFORMAT;
	/* most answers have nothing to remove: look before copying */
	wire_name(&r, NULL);
	wire_skip(&r, 4);
	for (i = 0; i < (unsigned)h.ancount + h.nscount + h.arcount; i++) {
		struct wire_rr rr;

		if (wire_rr(&r, &rr))
			return STUB_EFORMAT;
		if (rr.rclass == CLASS_IN &&
		    ((rr.type == TYPE_A && rr.rdlen == 4) ||
		        (rr.type == TYPE_AAAA && rr.rdlen == 16)) &&
		    rebind_private(msg + rr.rd_off, rr.rdlen))
			drop++;
	}
	if (drop == 0)
		return STUB_OK;
	drop = 0;
	wire_rd_init(&r, msg, len);
	wire_hdr(&r, &h);
	wire_wr_init(&w, out, cap);
	nh = h;
	wire_put_hdr(&w, &nh);
	copy_name(&r, &w);
	wire_put_u16(&w, wire_u16(&r));
	wire_put_u16(&w, wire_u16(&r));
	counts[0] = h.ancount;
	counts[1] = h.nscount;
	counts[2] = h.arcount;
	for (s = 0; s < 3; s++) {
		for (i = 0; i < counts[s]; i++) {
			struct wire_rr rr;
			size_t at = r.pos;
			uint8_t n[WIRE_NAME_MAX];
			size_t l;

			if (wire_rr(&r, &rr))
				return STUB_EFORMAT;
			if (s != 1 && rr.rclass == CLASS_IN &&
			    ((rr.type == TYPE_A && rr.rdlen == 4) ||
			        (rr.type == TYPE_AAAA && rr.rdlen == 16)) &&
			    rebind_private(msg + rr.rd_off, rr.rdlen)) {
				drop++;
				continue;
			}
			wire_seek(&r, at);
			l = wire_name(&r, n);
			if (!l)
				return STUB_EFORMAT;
			wire_put_name(&w, n, l);
			wire_put_u16(&w, wire_u16(&r));
			wire_put_u16(&w, wire_u16(&r));
			wire_put_u32(&w, wire_u32(&r));
			wire_skip(&r, 2);
			copy_rdata(&r, &rr, &w);
			if (r.err)
				return STUB_EFORMAT;
			kept[s]++;
		}
	}
	if (w.err)
		return STUB_ESHORT;
	wire_set16_at(out, w.len, 6, kept[0]);
	wire_set16_at(out, w.len, 8, kept[1]);
	wire_set16_at(out, w.len, 10, kept[2]);
	*outlen = w.len;
	*removed = drop;
	return STUB_OK;
}
