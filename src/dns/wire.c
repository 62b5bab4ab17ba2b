/*
 * wire.c - bounds-checked DNS message reader and writer.
 */
#include "auto-config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>

#include "err.h"
#include "wire.h"

#define WIRE_MAX_JUMPS 127

void
wire_rd_init(struct wire_rd *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = buf ? len : 0;
	r->pos = 0;
	r->err = STUB_OK;
}

static int
need(struct wire_rd *r, size_t n)
{
	if (r->err)
		return 0;
	if (r->pos > r->len || r->len - r->pos < n) {
		r->err = STUB_ESHORT;
		return 0;
	}
	return 1;
}

uint8_t
wire_u8(struct wire_rd *r)
{
	if (!need(r, 1))
		return 0;
	return r->buf[r->pos++];
}

uint16_t
wire_u16(struct wire_rd *r)
{
	uint16_t v;

	if (!need(r, 2))
		return 0;
	v = (uint16_t)(r->buf[r->pos] << 8 | r->buf[r->pos + 1]);
	r->pos += 2;
	return v;
}

uint32_t
wire_u32(struct wire_rd *r)
{
	uint32_t v;

	if (!need(r, 4))
		return 0;
	v = (uint32_t)r->buf[r->pos] << 24 | (uint32_t)r->buf[r->pos + 1] << 16 |
	    (uint32_t)r->buf[r->pos + 2] << 8 | (uint32_t)r->buf[r->pos + 3];
	r->pos += 4;
	return v;
}

const uint8_t *
wire_bytes(struct wire_rd *r, size_t n)
{
	const uint8_t *p;

	if (!need(r, n))
		return NULL;
	p = r->buf + r->pos;
	r->pos += n;
	return p;
}

void
wire_skip(struct wire_rd *r, size_t n)
{
	if (need(r, n))
		r->pos += n;
}

void
wire_seek(struct wire_rd *r, size_t pos)
{
	if (r->err)
		return;
	if (pos > r->len)
		r->err = STUB_ESHORT;
	else
		r->pos = pos;
}

size_t
wire_left(const struct wire_rd *r)
{
	if (r->err || r->pos > r->len)
		return 0;
	return r->len - r->pos;
}

size_t
wire_name(struct wire_rd *r, uint8_t *out)
{
	size_t pos, limit, end = 0, outlen = 0;
	unsigned jumps = 0;
	int jumped = 0;

	if (r->err)
		return 0;
	pos = r->pos;
	limit = pos;
	for (;;) {
		uint8_t c;

		if (pos >= r->len)
			goto short_;
		c = r->buf[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= r->len)
				goto short_;
			target = (size_t)(c & 0x3f) << 8 | r->buf[pos + 1];
			/* strictly backwards from where this segment began, and
			 * never into the 12-byte header (no name lives there) */
			if (target >= limit || target < WIRE_HDR_LEN || ++jumps > WIRE_MAX_JUMPS)
				goto bad;
			if (!jumped) {
				end = pos + 2;
				jumped = 1;
			}
			limit = target;
			pos = target;
			continue;
		}
		if (c & 0xc0)
			goto bad; /* extended / reserved label types */
		if (c == 0) {
			if (outlen + 1 > WIRE_NAME_MAX)
				goto bad;
			if (out)
				out[outlen] = 0;
			outlen++;
			pos++;
			break;
		}
		if (pos + 1 + c > r->len)
			goto short_;
		/* keep room for the root label */
		if (outlen + 1 + c + 1 > WIRE_NAME_MAX)
			goto bad;
		if (out)
			memcpy(out + outlen, r->buf + pos, (size_t)c + 1);
		outlen += (size_t)c + 1;
		pos += (size_t)c + 1;
	}
	r->pos = jumped ? end : pos;
	return outlen;
short_:
	r->err = STUB_ESHORT;
	return 0;
bad:
	r->err = STUB_EFORMAT;
	return 0;
}

enum stub_err
wire_hdr(struct wire_rd *r, struct wire_hdr *h)
{
	h->id = wire_u16(r);
	h->flags = wire_u16(r);
	h->qdcount = wire_u16(r);
	h->ancount = wire_u16(r);
	h->nscount = wire_u16(r);
	h->arcount = wire_u16(r);
	return r->err;
}

enum stub_err
wire_rr(struct wire_rd *r, struct wire_rr *rr)
{
	rr->name_off = r->pos;
	wire_name(r, NULL);
	rr->type = wire_u16(r);
	rr->rclass = wire_u16(r);
	rr->ttl_off = r->pos;
	rr->ttl = wire_u32(r);
	rr->rdlen = wire_u16(r);
	rr->rd_off = r->pos;
	wire_skip(r, rr->rdlen);
	return r->err;
}

void
wire_wr_init(struct wire_wr *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->err = STUB_OK;
}

static int
room(struct wire_wr *w, size_t n)
{
	if (w->err)
		return 0;
	if (w->len > w->cap || w->cap - w->len < n) {
		w->err = STUB_ESHORT;
		return 0;
	}
	return 1;
}

void
wire_put_u8(struct wire_wr *w, uint8_t v)
{
	if (room(w, 1))
		w->buf[w->len++] = v;
}

void
wire_put_u16(struct wire_wr *w, uint16_t v)
{
	if (!room(w, 2))
		return;
	w->buf[w->len++] = (uint8_t)(v >> 8);
	w->buf[w->len++] = (uint8_t)v;
}

void
wire_put_u32(struct wire_wr *w, uint32_t v)
{
	if (!room(w, 4))
		return;
	w->buf[w->len++] = (uint8_t)(v >> 24);
	w->buf[w->len++] = (uint8_t)(v >> 16);
	w->buf[w->len++] = (uint8_t)(v >> 8);
	w->buf[w->len++] = (uint8_t)v;
}

void
wire_put_bytes(struct wire_wr *w, const void *p, size_t n)
{
	if (n == 0 || !room(w, n))
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void
wire_put_name(struct wire_wr *w, const uint8_t *name, size_t namelen)
{
	if (namelen == 0 || namelen > WIRE_NAME_MAX) {
		if (!w->err)
			w->err = STUB_EINVAL;
		return;
	}
	wire_put_bytes(w, name, namelen);
}

void
wire_put_hdr(struct wire_wr *w, const struct wire_hdr *h)
{
	wire_put_u16(w, h->id);
	wire_put_u16(w, h->flags);
	wire_put_u16(w, h->qdcount);
	wire_put_u16(w, h->ancount);
	wire_put_u16(w, h->nscount);
	wire_put_u16(w, h->arcount);
}

bool
wire_get16_at(const uint8_t *buf, size_t len, size_t off, uint16_t *v)
{
	if (off > len || len - off < 2)
		return false;
	*v = (uint16_t)(buf[off] << 8 | buf[off + 1]);
	return true;
}

bool
wire_set16_at(uint8_t *buf, size_t len, size_t off, uint16_t v)
{
	if (off > len || len - off < 2)
		return false;
	buf[off] = (uint8_t)(v >> 8);
	buf[off + 1] = (uint8_t)v;
	return true;
}

bool
wire_get32_at(const uint8_t *buf, size_t len, size_t off, uint32_t *v)
{
	if (off > len || len - off < 4)
		return false;
	*v = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 | (uint32_t)buf[off + 2] << 8 |
	    buf[off + 3];
	return true;
}

bool
wire_set32_at(uint8_t *buf, size_t len, size_t off, uint32_t v)
{
	if (off > len || len - off < 4)
		return false;
	buf[off] = (uint8_t)(v >> 24);
	buf[off + 1] = (uint8_t)(v >> 16);
	buf[off + 2] = (uint8_t)(v >> 8);
	buf[off + 3] = (uint8_t)v;
	return true;
}

static inline uint8_t
lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

void
wire_name_lower(uint8_t *name, size_t len)
{
	size_t i = 0;

	while (i < len && name[i] != 0) {
		size_t l = name[i], j;

		for (j = i + 1; j <= i + l && j < len; j++)
			name[j] = lc(name[j]);
		i += l + 1;
	}
}

bool
wire_name_eq_ci(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return false;
	/* label length bytes are < 64 and so unaffected by lc() */
	for (i = 0; i < alen; i++)
		if (lc(a[i]) != lc(b[i]))
			return false;
	return true;
}

bool
wire_name_under(const uint8_t *name, size_t len, const uint8_t *dom, size_t domlen)
{
	size_t i = 0;

	if (domlen == 0 || len < domlen)
		return false;
	/* walk label boundaries of name until the suffix has domlen bytes */
	while (i < len) {
		if (len - i == domlen)
			return wire_name_eq_ci(name + i, domlen, dom, domlen);
		if (name[i] == 0)
			break;
		i += (size_t)name[i] + 1;
	}
	return false;
}

unsigned
wire_name_labels(const uint8_t *name, size_t len)
{
	size_t i = 0;
	unsigned n = 0;

	while (i < len && name[i] != 0) {
		n++;
		i += (size_t)name[i] + 1;
	}
	return n;
}

size_t
wire_name_to_text(const uint8_t *name, size_t len, char *out, size_t outsz)
{
	size_t i = 0, o = 0;

	if (outsz < 2 || len == 0)
		return 0;
	if (name[0] == 0) {
		out[0] = '.';
		out[1] = 0;
		return 1;
	}
	while (i < len && name[i] != 0) {
		size_t l = name[i], j;

		if (i + 1 + l > len)
			return 0;
		if (o > 0) {
			if (o + 1 >= outsz)
				return 0;
			out[o++] = '.';
		}
		for (j = i + 1; j <= i + l; j++) {
			uint8_t c = name[j];

			if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';') {
				if (o + 2 >= outsz)
					return 0;
				out[o++] = '\\';
				out[o++] = (char)c;
			} else if (c <= ' ' || c > '~') {
				if (o + 4 >= outsz)
					return 0;
				snprintf(out + o, 5, "\\%03u", c);
				o += 4;
			} else {
				if (o + 1 >= outsz)
					return 0;
				out[o++] = (char)c;
			}
		}
		i += l + 1;
	}
	out[o] = 0;
	return o;
}

/* host-name characters: 1 as is, 2 upper case (lowered) */
static const uint8_t host_chars[256] = {
	['-'] = 1,
	['_'] = 1,
	['0'] = 1,
	['1'] = 1,
	['2'] = 1,
	['3'] = 1,
	['4'] = 1,
	['5'] = 1,
	['6'] = 1,
	['7'] = 1,
	['8'] = 1,
	['9'] = 1,
	['a'] = 1,
	['b'] = 1,
	['c'] = 1,
	['d'] = 1,
	['e'] = 1,
	['f'] = 1,
	['g'] = 1,
	['h'] = 1,
	['i'] = 1,
	['j'] = 1,
	['k'] = 1,
	['l'] = 1,
	['m'] = 1,
	['n'] = 1,
	['o'] = 1,
	['p'] = 1,
	['q'] = 1,
	['r'] = 1,
	['s'] = 1,
	['t'] = 1,
	['u'] = 1,
	['v'] = 1,
	['w'] = 1,
	['x'] = 1,
	['y'] = 1,
	['z'] = 1,
	['A'] = 2,
	['B'] = 2,
	['C'] = 2,
	['D'] = 2,
	['E'] = 2,
	['F'] = 2,
	['G'] = 2,
	['H'] = 2,
	['I'] = 2,
	['J'] = 2,
	['K'] = 2,
	['L'] = 2,
	['M'] = 2,
	['N'] = 2,
	['O'] = 2,
	['P'] = 2,
	['Q'] = 2,
	['R'] = 2,
	['S'] = 2,
	['T'] = 2,
	['U'] = 2,
	['V'] = 2,
	['W'] = 2,
	['X'] = 2,
	['Y'] = 2,
	['Z'] = 2,
};

size_t
wire_name_from_text_lc(const char *text, uint8_t out[WIRE_NAME_MAX], bool *alpha)
{
	const unsigned char *c = (const unsigned char *)text;
	size_t o = 1, lab = 0; /* out[lab]: the current label's length */
	bool al = false;

	if (alpha)
		*alpha = false;
	if (!c || !*c || *c == '.')
		return 0;
	for (; *c; c++) {
		unsigned k = host_chars[*c];

		if (*c == '.') {
			if (c[1] == '.')
				return 0;
			out[lab] = (uint8_t)(o - lab - 1);
			if (!c[1])
				break; /* trailing dot */
			if (o >= WIRE_NAME_MAX - 1)
				return 0;
			lab = o++;
			continue;
		}
		if (!k)
			return 0;
		if (*c < '0' || *c > '9')
			al = true;
		if (o - lab - 1 >= 63 || o >= WIRE_NAME_MAX - 1)
			return 0;
		out[o++] = (uint8_t)(k == 2 ? *c + ('a' - 'A') : *c);
	}
	if (!*c)
		out[lab] = (uint8_t)(o - lab - 1); /* no trailing dot */
	out[o++] = 0;
	if (alpha)
		*alpha = al;
	return o;
}

size_t
wire_name_from_text(const char *text, uint8_t out[WIRE_NAME_MAX])
{
	size_t o = 0, lpos;
	const char *p = text;

	if (!text || !*text)
		return 0;
	if (strcmp(text, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	lpos = o++;
	out[lpos] = 0;
	while (*p) {
		unsigned c = (unsigned char)*p++;

		if (c == '.') {
			if (out[lpos] == 0)
				return 0; /* empty label */
			if (*p == 0)
				break; /* trailing dot */
			if (o >= WIRE_NAME_MAX - 1)
				return 0;
			lpos = o++;
			out[lpos] = 0;
			continue;
		}
		if (c == '\\') {
			if (p[0] >= '0' && p[0] <= '9') {
				if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'))
					return 0;
				c = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 +
				    (p[2] - '0'));
				if (c > 255)
					return 0;
				p += 3;
			} else if (*p) {
				c = (unsigned char)*p++;
			} else {
				return 0;
			}
		}
		if (out[lpos] >= 63 || o >= WIRE_NAME_MAX - 1)
			return 0;
		out[o++] = (uint8_t)c;
		out[lpos]++;
	}
	if (out[lpos] == 0)
		return 0;
	out[o++] = 0;
	return o;
}

static const struct {
	uint16_t type;
	const char *name;
} type_names[] = {
	{ 1, "A" },
	{ 2, "NS" },
	{ 5, "CNAME" },
	{ 6, "SOA" },
	{ 12, "PTR" },
	{ 13, "HINFO" },
	{ 15, "MX" },
	{ 16, "TXT" },
	{ 28, "AAAA" },
	{ 33, "SRV" },
	{ 35, "NAPTR" },
	{ 39, "DNAME" },
	{ 41, "OPT" },
	{ 43, "DS" },
	{ 44, "SSHFP" },
	{ 46, "RRSIG" },
	{ 47, "NSEC" },
	{ 48, "DNSKEY" },
	{ 50, "NSEC3" },
	{ 52, "TLSA" },
	{ 64, "SVCB" },
	{ 65, "HTTPS" },
	{ 255, "ANY" },
	{ 257, "CAA" },
};

const char *
wire_type_name(uint16_t type, char buf[16])
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	snprintf(buf, 16, "TYPE%u", type);
	return buf;
}

uint16_t
wire_type_from_name(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcasecmp(type_names[i].name, s) == 0)
			return type_names[i].type;
	if (strncasecmp(s, "TYPE", 4) == 0 && s[4]) {
		char *end;
		unsigned long v = strtoul(s + 4, &end, 10);

		if (*end == 0 && v > 0 && v <= 65535)
			return (uint16_t)v;
	}
	return 0;
}

const char *
wire_rcode_name(unsigned rcode, char buf[16])
{
	static const char *const names[] = {
		"NOERROR",
		"FORMERR",
		"SERVFAIL",
		"NXDOMAIN",
		"NOTIMP",
		"REFUSED",
	};

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, 16, "RCODE%u", rcode);
	return buf;
}
