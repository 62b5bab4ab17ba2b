/*
 * msg.c - query validation, error answers, stored responses, served copies.
 */
#include "auto-config.h"

#include <stddef.h>
#include <string.h>

#include "err.h"
#include "msg.h"

/*
 * Walk the records after the question(s) (total of them, the first nanns in
 * the answer and authority sections) for the OPT record.  Returns 0, or -1
 * for a malformed record or a misplaced or second OPT.
 */
static int
find_opt(struct wire_rd *r, const uint8_t *buf, unsigned total, unsigned nanns, struct msg_query *q,
    unsigned *version)
{
	unsigned i, opts = 0;

	if (total > wire_left(r) / 11)
		return -1; /* every count must fit: an RR is at least 11 bytes */
	for (i = 0; i < total; i++) {
		struct wire_rr rr;

		if (wire_rr(r, &rr))
			return -1;
		if (rr.type != TYPE_OPT)
			continue;
		/* OPT: additional section only, root owner, at most one */
		if (i < nanns || buf[rr.name_off] != 0 || ++opts > 1)
			return -1;
		q->edns = true;
		q->udp_size = rr.rclass;
		*version = (rr.ttl >> 16) & 0xff;
		q->do_bit = (rr.ttl & 0x8000) != 0;
	}
	if (q->edns) {
		if (q->udp_size < 512)
			q->udp_size = 512;
		if (q->udp_size > MSG_EDNS_SIZE)
			q->udp_size = MSG_EDNS_SIZE;
	}
	return 0;
}

enum msg_verdict
msg_parse_query(const uint8_t *buf, size_t len, struct msg_query *q)
{
	struct wire_rd r;
	struct wire_hdr h;
	unsigned i, total, nanns, version = 0;
	size_t qlen;

	q->qlen = 0;
	q->edns = false;
	q->do_bit = false;
	q->cd_bit = false;
	q->udp_size = 512;
	q->qtype = q->qclass = 0;
	q->id = 0;
	q->flags = 0;
	if (!buf || len < WIRE_HDR_LEN)
		return MSG_DROP;
	wire_rd_init(&r, buf, len);
	wire_hdr(&r, &h);
	if (h.flags & WIRE_QR)
		return MSG_DROP;
	q->id = h.id;
	q->flags = h.flags;
	q->cd_bit = (h.flags & WIRE_CD) != 0;
	total = (unsigned)h.ancount + h.nscount + h.arcount;
	nanns = (unsigned)h.ancount + h.nscount;
	if (h.qdcount != 1) {
		/* FORMERR, with OPT when the client sent a readable one: skip
		 * the questions (at least 5 bytes each) to reach it */
		if (h.qdcount <= wire_left(&r) / 5) {
			for (i = 0; i < h.qdcount && !r.err; i++) {
				if (!wire_name(&r, NULL))
					break;
				wire_skip(&r, 4);
			}
			if (i == h.qdcount && !r.err &&
			    find_opt(&r, buf, total, nanns, q, &version) != 0) {
				q->edns = false;
				q->do_bit = false;
			}
		}
		return WIRE_OPCODE(h.flags) != 0 ? MSG_NOTIMP : MSG_FORMERR;
	}
	qlen = wire_name(&r, q->qname);
	q->qtype = wire_u16(&r);
	q->qclass = wire_u16(&r);
	if (r.err || qlen == 0)
		return WIRE_OPCODE(h.flags) != 0 ? MSG_NOTIMP : MSG_FORMERR;
	q->qlen = qlen;
	memcpy(q->key, q->qname, qlen);
	wire_name_lower(q->key, qlen);
	if (find_opt(&r, buf, total, nanns, q, &version) != 0)
		goto formerr;
	if (WIRE_OPCODE(h.flags) != 0)
		return MSG_NOTIMP;
	if (version > 0)
		return MSG_BADVERS;
	return MSG_OK;
formerr:
	/* a bad OPT or record: answer FORMERR with the question, no OPT */
	q->edns = false;
	q->do_bit = false;
	q->udp_size = 512;
	return WIRE_OPCODE(h.flags) != 0 ? MSG_NOTIMP : MSG_FORMERR;
}

size_t
msg_udp_limit(const struct msg_query *q)
{
	return q->edns ? q->udp_size : 512;
}

static void
put_opt(struct wire_wr *w, const struct msg_query *q, unsigned ext_rcode)
{
	wire_put_u8(w, 0);
	wire_put_u16(w, TYPE_OPT);
	wire_put_u16(w, MSG_EDNS_SIZE);
	wire_put_u32(w, (uint32_t)(ext_rcode & 0xff) << 24 | (q->do_bit ? 0x8000u : 0));
	wire_put_u16(w, 0);
}

static uint16_t
reply_flags(const struct msg_query *q, unsigned rcode)
{
	return (uint16_t)(WIRE_QR | (q->flags & (0xf << 11)) | (q->flags & WIRE_RD) | WIRE_RA |
	    (q->flags & WIRE_CD) | (rcode & 0xf));
}

size_t
msg_error(const struct msg_query *q, unsigned rcode, uint8_t *out, size_t cap)
{
	struct wire_wr w;
	struct wire_hdr h = { 0 };

	if (!q || !out)
		return 0;
	wire_wr_init(&w, out, cap);
	h.id = q->id;
	h.flags = reply_flags(q, rcode);
	h.qdcount = q->qlen ? 1 : 0;
	h.arcount = q->edns ? 1 : 0;
	wire_put_hdr(&w, &h);
	if (q->qlen) {
		wire_put_name(&w, q->qname, q->qlen);
		wire_put_u16(&w, q->qtype);
		wire_put_u16(&w, q->qclass);
	}
	if (q->edns)
		put_opt(&w, q, rcode >> 4);
	return w.err ? 0 : w.len;
}

size_t
msg_error_ede(const struct msg_query *q, unsigned rcode, uint16_t info_code, uint8_t *out,
    size_t cap)
{
	size_t n = msg_error(q, rcode, out, cap);
	struct wire_wr w;

	if (n < WIRE_HDR_LEN + 11 || !q->edns)
		return n;
	/* the OPT record is last, its RDLENGTH (0) its last two bytes */
	wire_wr_init(&w, out + n, cap - n);
	wire_put_u16(&w, 15);
	wire_put_u16(&w, 2);
	wire_put_u16(&w, info_code);
	if (w.err || !wire_set16_at(out, n, n - 2, (uint16_t)w.len))
		return n;
	return n + w.len;
}

size_t
msg_upstream_query(const struct msg_query *q, uint16_t id, const uint8_t *qname, bool edns,
    uint8_t *out, size_t cap)
{
	struct wire_wr w;
	struct wire_hdr h = { 0 };

	if (!q || !qname || !out || q->qlen == 0)
		return 0;
	wire_wr_init(&w, out, cap);
	h.id = id;
	/* AD asks the server to say whether it validated (RFC 6840 5.7); the
	 * bit reaches clients only under msg_serve's rule */
	h.flags = (uint16_t)(WIRE_RD | WIRE_AD | (q->flags & WIRE_CD));
	h.qdcount = 1;
	h.arcount = edns ? 1 : 0;
	wire_put_hdr(&w, &h);
	wire_put_name(&w, qname, q->qlen);
	wire_put_u16(&w, q->qtype);
	wire_put_u16(&w, q->qclass);
	if (edns) {
		wire_put_u8(&w, 0);
		wire_put_u16(&w, TYPE_OPT);
		wire_put_u16(&w, MSG_UPSTREAM_EDNS);
		wire_put_u32(&w, q->do_bit ? 0x8000u : 0);
		wire_put_u16(&w, 0);
	}
	return w.err ? 0 : w.len;
}

static int
read_soa(const uint8_t *buf, size_t len, const struct wire_rr *rr, struct msg_resp *m)
{
	struct wire_rd r;

	/* a reader limited to the RDATA, but names may point before it */
	wire_rd_init(&r, buf, rr->rd_off + rr->rdlen);
	wire_seek(&r, rr->rd_off);
	wire_name(&r, NULL);
	wire_name(&r, NULL);
	wire_skip(&r, 16);
	m->soa_minimum = wire_u32(&r);
	if (r.err || r.pos != rr->rd_off + rr->rdlen || rr->rd_off + rr->rdlen > len)
		return -1;
	m->soa_ttl = rr->ttl;
	m->has_soa = true;
	return 0;
}

/* Does the name at off read any byte marked in the bitmap (a TTL field)? */
static bool
name_reads_marked(const uint8_t *buf, size_t len, size_t off, const uint8_t *mark)
{
	unsigned hops = 0;

	while (off < len && hops < 256) {
		uint8_t c = buf[off];

		if (mark[off >> 3] & (1u << (off & 7)))
			return true;
		if ((c & 0xc0) == 0xc0) {
			if (off + 1 >= len || (mark[(off + 1) >> 3] & (1u << ((off + 1) & 7))))
				return true;
			off = (size_t)(c & 0x3f) << 8 | buf[off + 1];
			hops++;
			continue;
		}
		if (c == 0)
			return false;
		{
			size_t i;

			for (i = off + 1; i <= off + c && i < len; i++)
				if (mark[i >> 3] & (1u << (i & 7)))
					return true;
		}
		off += (size_t)c + 1;
	}
	return true;
}

/* Names may only point at bytes stubd never rewrites: a pointer into a TTL
 * field would change the name when the TTL is lowered (found by fuzzing),
 * one into the OPT record (opt_len bytes at opt_off) when it is removed.
 * Checks owner names and the names in RDATA that may be compressed. */
static int
check_names(const uint8_t *buf, size_t len, size_t qend, unsigned total, const struct msg_resp *m,
    size_t opt_off, size_t opt_len)
{
	uint8_t mark[(MSG_MAX + 8) / 8];
	struct wire_rd r;
	size_t i, n = m->nttl < MSG_MAX_TTLS ? m->nttl : MSG_MAX_TTLS;
	unsigned k;

	memset(mark, 0, (len + 8) / 8);
	for (i = 0; i < n; i++) {
		size_t b;

		for (b = m->ttl_off[i]; b < (size_t)m->ttl_off[i] + 4 && b < len; b++)
			mark[b >> 3] |= (uint8_t)(1u << (b & 7));
	}
	/* the OPT record is removed: nothing may point into it either */
	for (i = opt_off; i < opt_off + opt_len && i < len; i++)
		mark[i >> 3] |= (uint8_t)(1u << (i & 7));
	wire_rd_init(&r, buf, len);
	wire_seek(&r, qend);
	for (k = 0; k < total; k++) {
		struct wire_rr rr;
		size_t skip = 0;
		int names = 0;

		if (wire_rr(&r, &rr))
			return -1;
		if (rr.type == TYPE_OPT)
			continue; /* its root owner is removed with it */
		if (name_reads_marked(buf, len, rr.name_off, mark))
			return -1;
		switch (rr.type) {
		case TYPE_NS:
		case TYPE_CNAME:
		case TYPE_PTR:
		case 39 /* DNAME */: names = 1; break;
		case TYPE_MX:
			skip = 2;
			names = 1;
			break;
		case TYPE_SRV:
			skip = 6;
			names = 1;
			break;
		case TYPE_SOA: names = 2; break;
		default: break;
		}
		if (names && rr.rdlen > skip) {
			struct wire_rd nr;

			wire_rd_init(&nr, buf, rr.rd_off + rr.rdlen);
			wire_seek(&nr, rr.rd_off + skip);
			while (names-- > 0) {
				size_t at = nr.pos;

				if (!wire_name(&nr, NULL) || name_reads_marked(buf, len, at, mark))
					return -1;
			}
		}
	}
	return 0;
}

/* Is an answer section of only these types a CNAME chain (that does not
 * reach qtype)? */
static bool
chain_type(uint16_t type)
{
	return type == TYPE_CNAME || type == 39 /* DNAME */ || type == 46 /* RRSIG */;
}

/* The EDE options (RFC 8914) among the options of an OPT's RDATA, copied
 * whole into out[MSG_EDE_KEEP]; their length. */
static size_t
opt_ede(const uint8_t *rd, size_t rdlen, uint8_t *out)
{
	size_t i = 0, n = 0;

	while (i + 4 <= rdlen) {
		unsigned code = (unsigned)rd[i] << 8 | rd[i + 1];
		size_t olen = (size_t)rd[i + 2] << 8 | rd[i + 3];

		if (i + 4 + olen > rdlen)
			break;
		if (code == MSG_EDE_OPTION && olen >= 2 && n + 4 + olen <= MSG_EDE_KEEP) {
			memcpy(out + n, rd + i, 4 + olen);
			n += 4 + olen;
		}
		i += 4 + olen;
	}
	return n;
}

/* The offset of the OPT record when it is the last record of msg (a
 * stored answer's kept EDE, or the one stubd appended), else 0. */
static size_t
last_opt(const uint8_t *msg, size_t len)
{
	struct wire_rd r;
	struct wire_hdr h;
	struct wire_rr rr = { 0 };
	unsigned i, total;

	wire_rd_init(&r, msg, len);
	if (wire_hdr(&r, &h) || h.arcount == 0)
		return 0;
	for (i = 0; i < h.qdcount; i++) {
		wire_name(&r, NULL);
		wire_skip(&r, 4);
	}
	total = (unsigned)h.ancount + h.nscount + h.arcount;
	for (i = 0; i < total; i++)
		if (wire_rr(&r, &rr))
			return 0;
	return rr.type == TYPE_OPT && r.pos == len ? rr.name_off : 0;
}

enum stub_err
msg_store_prepare(uint8_t *buf, size_t len, uint16_t id, const uint8_t *sent_qname,
    size_t sent_qlen, uint16_t qtype, uint16_t qclass, struct msg_resp *m)
{
	struct wire_rd r;
	struct wire_hdr h;
	uint8_t name[WIRE_NAME_MAX];
	size_t qlen, qend, opt_off = 0, opt_len = 0, i;
	unsigned k, total;
	bool have_opt = false, chain_only = true, ns = false;

	if (!m)
		return STUB_EINVAL;
	memset(m, 0, offsetof(struct msg_resp, ttl_off));
	if (!buf || !sent_qname || len < WIRE_HDR_LEN || len > MSG_MAX)
		return STUB_EFORMAT;
	wire_rd_init(&r, buf, len);
	wire_hdr(&r, &h);
	if (h.id != id || !(h.flags & WIRE_QR) || WIRE_OPCODE(h.flags) != 0 || h.qdcount != 1)
		return STUB_EFORMAT;
	qlen = wire_name(&r, name);
	if (r.err || !wire_name_eq_ci(name, qlen, sent_qname, sent_qlen))
		return STUB_EFORMAT;
	m->case_exact = qlen == sent_qlen && memcmp(name, sent_qname, qlen) == 0;
	if (wire_u16(&r) != qtype || wire_u16(&r) != qclass || r.err)
		return STUB_EFORMAT;
	total = (unsigned)h.ancount + h.nscount + h.arcount;
	if (total > wire_left(&r) / 11)
		return STUB_EFORMAT;
	qend = r.pos;
	m->rcode = WIRE_RCODE(h.flags);
	m->flags = h.flags;
	m->ancount = h.ancount;
	m->tc = (h.flags & WIRE_TC) != 0;
	for (k = 0; k < total; k++) {
		struct wire_rr rr;
		unsigned sect = k < h.ancount ? 0 : k < (unsigned)h.ancount + h.nscount ? 1 : 2;

		if (wire_rr(&r, &rr))
			return STUB_EFORMAT;
		if (rr.type == TYPE_OPT) {
			if (sect != 2 || have_opt)
				return STUB_EFORMAT;
			have_opt = true;
			opt_off = rr.name_off;
			opt_len = rr.rd_off + rr.rdlen - rr.name_off;
			continue;
		}
		if (m->nttl < MSG_MAX_TTLS) {
			m->ttl_off[m->nttl] = (uint16_t)rr.ttl_off;
			m->ttl_sect[m->nttl] = (uint8_t)sect;
		}
		m->nttl++;
		if (sect == 0) {
			if (!m->has_ttl || rr.ttl < m->min_answer_ttl)
				m->min_answer_ttl = rr.ttl;
			m->has_ttl = true;
			if (!chain_type(rr.type) || rr.type == qtype || qtype == TYPE_ANY)
				chain_only = false;
		} else if (sect == 1 && rr.type == TYPE_SOA && !m->has_soa) {
			if (read_soa(buf, len, &rr, m))
				return STUB_EFORMAT;
		} else if (sect == 1 && rr.type == TYPE_NS) {
			ns = true;
		}
	}
	if (check_names(buf, r.pos, qend, total, m, opt_off, opt_len) != 0)
		return STUB_EFORMAT;
	m->len = r.pos; /* trailing bytes after the last record are dropped */
	if (have_opt) {
		uint8_t ede[MSG_EDE_KEEP];
		size_t nede = opt_ede(buf + opt_off + MSG_OPT_LEN, opt_len - MSG_OPT_LEN, ede);

		/* remove the OPT record only: what follows it moves up (no name
		 * points into it, check_names made sure) */
		memmove(buf + opt_off, buf + opt_off + opt_len, m->len - opt_off - opt_len);
		m->len -= opt_len;
		wire_set16_at(buf, len, 10, (uint16_t)(h.arcount - 1));
		for (i = 0; i < m->nttl && i < MSG_MAX_TTLS; i++)
			if (m->ttl_off[i] > opt_off)
				m->ttl_off[i] = (uint16_t)(m->ttl_off[i] - opt_len);
		if (nede) {
			/* SPEC 18: its EDE options stay, in an OPT put last, which
			 * msg_serve re-emits (fits: it is part of what was removed) */
			struct wire_wr w;

			wire_wr_init(&w, buf, len);
			w.len = m->len;
			wire_put_u8(&w, 0);
			wire_put_u16(&w, TYPE_OPT);
			wire_put_u16(&w, MSG_EDNS_SIZE);
			wire_put_u32(&w, 0);
			wire_put_u16(&w, (uint16_t)nede);
			wire_put_bytes(&w, ede, nede);
			if (!w.err) {
				m->len = w.len;
				wire_set16_at(buf, len, 10, h.arcount);
			}
		}
	}
	if (h.ancount == 0)
		chain_only = false;
	m->positive = m->rcode == RCODE_NOERROR && h.ancount > 0 && !chain_only;
	m->referral = m->rcode == RCODE_NOERROR && h.ancount == 0 && ns && !m->has_soa;
	m->negative = m->rcode == RCODE_NXDOMAIN ||
	    (m->rcode == RCODE_NOERROR && !m->positive && !m->referral);
	return STUB_OK;
}

void
msg_clamp_ttls(uint8_t *buf, size_t len, const uint16_t *ttl_off, size_t nttl, uint32_t lo,
    uint32_t hi)
{
	size_t i;

	for (i = 0; i < nttl; i++) {
		uint32_t t;

		if (!wire_get32_at(buf, len, ttl_off[i], &t))
			continue;
		if (t > 0x7fffffff)
			t = 0; /* RFC 2181 8: treat as zero */
		if (t < lo)
			t = lo;
		if (t > hi)
			t = hi;
		wire_set32_at(buf, len, ttl_off[i], t);
	}
}

static size_t
truncated(const struct msg_query *q, uint16_t flags, uint8_t *out, size_t cap)
{
	struct wire_wr w;
	struct wire_hdr h = { 0 };

	wire_wr_init(&w, out, cap);
	h.id = q->id;
	h.flags = (uint16_t)(flags | WIRE_TC);
	h.qdcount = 1;
	h.arcount = q->edns ? 1 : 0;
	wire_put_hdr(&w, &h);
	wire_put_name(&w, q->qname, q->qlen);
	wire_put_u16(&w, q->qtype);
	wire_put_u16(&w, q->qclass);
	if (q->edns)
		put_opt(&w, q, 0);
	return w.err ? 0 : w.len;
}

size_t
msg_serve(const uint8_t *stored, size_t len, const uint16_t *ttl_off, size_t nttl, uint32_t age,
    long fixed_ttl, const struct msg_query *q, size_t limit, uint8_t *out, size_t cap)
{
	uint16_t flags, arcount;
	size_t i, total;

	size_t kept_opt;

	if (!stored || !q || !out || len < WIRE_HDR_LEN + q->qlen + 4)
		return 0;
	/* SPEC 18: upstream EDE kept last in an OPT: sent to EDNS clients,
	 * cut for the others */
	kept_opt = last_opt(stored, len);
	if (kept_opt && !q->edns)
		len = kept_opt;
	total = len + (q->edns && !kept_opt ? MSG_OPT_LEN : 0);
	if (!wire_get16_at(stored, len, 2, &flags))
		return 0;
	/* RD and CD are the client's, never the upstream's; AA is clear:
	 * stubd is not the authority (RFC 4035 3.2.2, RFC 6840 5.9) */
	flags = (uint16_t)((flags & ~(WIRE_RD | WIRE_TC | WIRE_CD | WIRE_AA)) |
	    (q->flags & (WIRE_RD | WIRE_CD)) | WIRE_RA);
	/* AD only to a client that asked for it (RFC 6840 5.8); a stored AD
	 * bit already means the server was trusted for it (msg_distrust_ad) */
	if (!(q->flags & WIRE_AD) && !q->do_bit)
		flags &= (uint16_t)~WIRE_AD;
	if (total > limit)
		return truncated(q, flags, out, cap);
	if (total > cap)
		return 0;
	memcpy(out, stored, len);
	wire_set16_at(out, len, 0, q->id);
	wire_set16_at(out, len, 2, flags);
	/* the client's spelling of the question (same length, same letters) */
	memcpy(out + WIRE_HDR_LEN, q->qname, q->qlen);
	for (i = 0; i < nttl; i++) {
		uint32_t t;

		if (!wire_get32_at(out, len, ttl_off[i], &t))
			continue;
		if (fixed_ttl >= 0)
			t = (uint32_t)fixed_ttl;
		else
			t = t > age ? t - age : 0;
		wire_set32_at(out, len, ttl_off[i], t);
	}
	if (kept_opt && !q->edns) {
		wire_get16_at(out, len, 10, &arcount);
		wire_set16_at(out, len, 10, (uint16_t)(arcount - 1));
	} else if (kept_opt) {
		/* our size and the client's DO, as put_opt() writes them */
		wire_set16_at(out, len, kept_opt + 3, MSG_EDNS_SIZE);
		wire_set32_at(out, len, kept_opt + 5, q->do_bit ? 0x8000u : 0);
	} else if (q->edns) {
		struct wire_wr w;

		wire_get16_at(out, len, 10, &arcount);
		wire_set16_at(out, len, 10, (uint16_t)(arcount + 1));
		wire_wr_init(&w, out, cap);
		w.len = len;
		put_opt(&w, q, 0);
		if (w.err)
			return 0;
	}
	return total;
}

size_t
msg_synth(const struct msg_query *q, const struct msg_rr *rrs, size_t n, uint32_t ttl, size_t limit,
    uint8_t *out, size_t cap)
{
	return msg_synth_ede(q, RCODE_NOERROR, rrs, n, ttl, -1, limit, out, cap);
}

size_t
msg_append_ede(uint8_t *buf, size_t len, size_t cap, size_t limit, unsigned code)
{
	size_t opt = buf ? last_opt(buf, len) : 0;
	uint16_t rdlen;

	/* the OPT is the last record (stubd's own, or the one msg_serve
	 * re-emitted with an upstream's EDE) */
	if (!opt || len + 6 > cap || len + 6 > limit || !wire_get16_at(buf, len, opt + 9, &rdlen) ||
	    rdlen > 0xffff - 6)
		return len;
	wire_set16_at(buf, len, opt + 9, (uint16_t)(rdlen + 6));
	buf[len] = 0;
	buf[len + 1] = MSG_EDE_OPTION;
	buf[len + 2] = 0;
	buf[len + 3] = 2;
	buf[len + 4] = (uint8_t)(code >> 8);
	buf[len + 5] = (uint8_t)code;
	return len + 6;
}

size_t
msg_synth_ede(const struct msg_query *q, unsigned rcode, const struct msg_rr *rrs, size_t n,
    uint32_t ttl, int ede, size_t limit, uint8_t *out, size_t cap)
{
	struct wire_wr w;
	struct wire_hdr h = { 0 };
	size_t i;

	if (!q || !out || q->qlen == 0)
		return 0;
	wire_wr_init(&w, out, cap);
	h.id = q->id;
	h.flags = reply_flags(q, rcode);
	h.qdcount = 1;
	h.ancount = (uint16_t)n;
	h.arcount = q->edns ? 1 : 0;
	wire_put_hdr(&w, &h);
	wire_put_name(&w, q->qname, q->qlen);
	wire_put_u16(&w, q->qtype);
	wire_put_u16(&w, q->qclass);
	for (i = 0; i < n; i++) {
		wire_put_u16(&w, 0xc000 | WIRE_HDR_LEN);
		wire_put_u16(&w, rrs[i].type);
		wire_put_u16(&w, CLASS_IN);
		wire_put_u32(&w, ttl);
		wire_put_u16(&w, rrs[i].rdlen);
		wire_put_bytes(&w, rrs[i].rdata, rrs[i].rdlen);
	}
	if (q->edns)
		put_opt(&w, q, 0);
	if (w.err || w.len > limit)
		return truncated(q, h.flags, out, cap);
	if (q->edns && ede >= 0)
		return msg_append_ede(out, w.len, cap, limit, (unsigned)ede);
	return w.len;
}

bool
msg_distrust_ad(uint8_t *buf, size_t len)
{
	uint16_t flags;

	if (!wire_get16_at(buf, len, 2, &flags) || !(flags & WIRE_AD))
		return false;
	wire_set16_at(buf, len, 2, (uint16_t)(flags & ~WIRE_AD));
	return true;
}

size_t
msg_pad_query(uint8_t *buf, size_t len, size_t cap, size_t block)
{
	struct wire_rd r;
	struct wire_hdr h;
	struct wire_rr rr;
	struct wire_wr w;
	size_t base, pad, i;

	if (!buf || block == 0 || block > 1024)
		return 0;
	wire_rd_init(&r, buf, len);
	if (wire_hdr(&r, &h) || h.qdcount != 1 || h.ancount || h.nscount || h.arcount > 1)
		return 0;
	wire_name(&r, NULL);
	wire_skip(&r, 4);
	if (r.err)
		return 0;
	if (h.arcount == 1) {
		/* our own OPT, last in the message, without options yet */
		if (wire_rr(&r, &rr) || rr.type != TYPE_OPT || rr.rdlen != 0 || r.pos != len)
			return 0;
		base = len + 4;
	} else {
		if (r.pos != len)
			return 0;
		base = len + MSG_OPT_LEN + 4;
	}
	pad = (block - base % block) % block;
	if (base + pad > cap)
		return 0;
	wire_wr_init(&w, buf, cap);
	w.len = len;
	if (h.arcount == 0) {
		wire_put_u8(&w, 0);
		wire_put_u16(&w, TYPE_OPT);
		wire_put_u16(&w, MSG_UPSTREAM_EDNS);
		wire_put_u32(&w, 0);
		wire_put_u16(&w, (uint16_t)(4 + pad));
		wire_set16_at(buf, len, 10, 1);
	} else {
		wire_set16_at(buf, len, rr.rd_off - 2, (uint16_t)(4 + pad));
	}
	wire_put_u16(&w, MSG_EDNS_PADDING);
	wire_put_u16(&w, (uint16_t)pad);
	for (i = 0; i < pad; i++)
		wire_put_u8(&w, 0);
	return w.err ? 0 : w.len;
}
