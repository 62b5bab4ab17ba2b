/*
 * mdnsmsg.c - the messages of multicast DNS one-shot queries (SPEC 19).
 */
#include "auto-config.h"

#include <string.h>

#include "mdnsmsg.h"
#include "wire.h"

#define CLASS_MASK 0x7fff /* the top bit is mDNS's cache-flush bit */

static const uint8_t dom_local[] = "\5local";
static const uint8_t dom_v4ll[] = "\3"
                                  "254\3"
                                  "169\7in-addr\4arpa";
static const uint8_t dom_v6ll[4][16] = {
	"\1"
	"8\1"
	"e\1"
	"f\3ip6\4arpa",
	"\1"
	"9\1"
	"e\1"
	"f\3ip6\4arpa",
	"\1"
	"a\1"
	"e\1"
	"f\3ip6\4arpa",
	"\1"
	"b\1"
	"e\1"
	"f\3ip6\4arpa",
};

bool
mdns_name(const uint8_t *key, size_t klen)
{
	size_t i;

	/* the sizes include the root label (the string's NUL) */
	if (wire_name_under(key, klen, dom_local, sizeof(dom_local)) &&
	    wire_name_labels(key, klen) > 1)
		return true;
	if (wire_name_under(key, klen, dom_v4ll, sizeof(dom_v4ll)))
		return true;
	for (i = 0; i < 4; i++)
		if (wire_name_under(key, klen, dom_v6ll[i], sizeof(dom_v6ll[i])))
			return true;
	return false;
}

bool
mdns_routed(const struct cfg *c)
{
	size_t a, d;

	for (a = 0; a < c->nadapters; a++)
		for (d = 0; d < c->adapters[a].ndomains; d++)
			if (wire_name_eq_ci(c->adapters[a].domains[d].name,
			        c->adapters[a].domains[d].len, dom_local, sizeof(dom_local)))
				return true;
	return false;
}

bool
mdns_wanted(const struct cfg *c, const uint8_t *key, size_t klen)
{
	return c->mdns && mdns_name(key, klen) && !mdns_routed(c);
}

static void
put_question(struct wire_wr *w, const uint8_t *name, size_t nlen, uint16_t qtype, uint16_t qclass)
{
	wire_put_name(w, name, nlen);
	wire_put_u16(w, qtype);
	wire_put_u16(w, qclass);
}

size_t
mdns_query(const struct msg_query *q, uint8_t *out, size_t cap)
{
	struct wire_wr w;
	struct wire_hdr h = { 0, 0, 1, 0, 0, 0 };

	wire_wr_init(&w, out, cap);
	wire_put_hdr(&w, &h);
	put_question(&w, q->key, q->qlen, q->qtype, CLASS_IN);
	return w.err ? 0 : w.len;
}

size_t
mdns_nxdomain(const struct msg_query *q, uint8_t *out, size_t cap)
{
	struct wire_wr w;
	struct wire_hdr h = { 0, WIRE_QR | WIRE_AA | RCODE_NXDOMAIN, 1, 0, 0, 0 };

	wire_wr_init(&w, out, cap);
	wire_put_hdr(&w, &h);
	put_question(&w, q->qname, q->qlen, q->qtype, q->qclass);
	return w.err ? 0 : w.len;
}

/* Copy one record's data; the names in PTR, CNAME, NS, MX and SRV data are
 * written uncompressed (their pointers point into pkt).  0 or -1. */
static int
copy_rdata(const uint8_t *pkt, size_t len, const struct wire_rr *rr, struct wire_wr *w)
{
	struct wire_rd r;
	uint8_t name[WIRE_NAME_MAX];
	size_t fixed = 0, nl, lenpos;
	const uint8_t *p;

	switch (rr->type) {
	case TYPE_PTR:
	case TYPE_CNAME:
	case TYPE_NS: fixed = 0; break;
	case TYPE_MX: fixed = 2; break;
	case TYPE_SRV: fixed = 6; break;
	default:
		wire_rd_init(&r, pkt, len);
		wire_seek(&r, rr->rd_off);
		p = wire_bytes(&r, rr->rdlen);
		if (r.err)
			return -1;
		wire_put_u16(w, rr->rdlen);
		wire_put_bytes(w, p, rr->rdlen);
		return w->err ? -1 : 0;
	}
	/* the name must end exactly at the end of the data */
	wire_rd_init(&r, pkt, rr->rd_off + rr->rdlen);
	wire_seek(&r, rr->rd_off);
	p = wire_bytes(&r, fixed);
	nl = wire_name(&r, name);
	if (r.err || r.pos != rr->rd_off + rr->rdlen)
		return -1;
	lenpos = w->len;
	wire_put_u16(w, 0);
	wire_put_bytes(w, p, fixed);
	wire_put_name(w, name, nl);
	if (w->err || !wire_set16_at(w->buf, w->len, lenpos, (uint16_t)(fixed + nl)))
		return -1;
	return 0;
}

size_t
mdns_answer(const uint8_t *pkt, size_t len, const struct msg_query *q, uint8_t *out, size_t cap)
{
	struct wire_rd r;
	struct wire_wr w;
	struct wire_hdr h, oh = { 0, WIRE_QR | WIRE_AA, 1, 0, 0, 0 };
	uint8_t owner[WIRE_NAME_MAX];
	unsigned i, nrr, n = 0;
	struct msg_resp chk;

	wire_rd_init(&r, pkt, len);
	if (wire_hdr(&r, &h) || !(h.flags & WIRE_QR) || WIRE_OPCODE(h.flags) != 0 ||
	    WIRE_RCODE(h.flags) != 0)
		return 0;
	for (i = 0; i < h.qdcount; i++) {
		wire_name(&r, NULL);
		wire_skip(&r, 4);
	}
	if (r.err)
		return 0;
	wire_wr_init(&w, out, cap);
	wire_put_hdr(&w, &oh);
	put_question(&w, q->qname, q->qlen, q->qtype, q->qclass);
	/* answers, then authority (skipped), then additional records */
	nrr = (unsigned)h.ancount + h.nscount + h.arcount;
	for (i = 0; i < nrr; i++) {
		struct wire_rr rr;
		size_t ol;

		if (wire_rr(&r, &rr))
			return 0;
		if (i >= h.ancount && i < (unsigned)h.ancount + h.nscount)
			continue;
		if ((rr.rclass & CLASS_MASK) != CLASS_IN || rr.ttl == 0 || rr.type == TYPE_OPT)
			continue;
		if (rr.type != q->qtype && q->qtype != TYPE_ANY && rr.type != TYPE_CNAME)
			continue;
		{
			struct wire_rd nr;

			wire_rd_init(&nr, pkt, len);
			wire_seek(&nr, rr.name_off);
			ol = wire_name(&nr, owner);
			if (nr.err)
				return 0;
		}
		if (!wire_name_eq_ci(owner, ol, q->key, q->qlen))
			continue;
		wire_put_name(&w, q->qname, q->qlen);
		wire_put_u16(&w, rr.type);
		wire_put_u16(&w, CLASS_IN);
		wire_put_u32(&w, rr.ttl > MDNS_TTL_CAP ? MDNS_TTL_CAP : rr.ttl);
		if (copy_rdata(pkt, len, &rr, &w))
			return 0;
		n++;
	}
	if (n == 0 || w.err || !wire_set16_at(out, w.len, 6, (uint16_t)n))
		return 0;
	/* data the response parser refuses (a name-bearing type with a bad
	 * name) makes no answer: the reply is ignored */
	if (msg_store_prepare(out, w.len, 0, q->qname, q->qlen, q->qtype, q->qclass, &chk) !=
	    STUB_OK)
		return 0;
	return w.len;
}
