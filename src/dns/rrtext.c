/*
 * rrtext.c - records to presentation text.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rrtext.h"

const char *
rrtext_section(int section)
{
	return section == 0 ? "answer" : section == 1 ? "authority" : "additional";
}

static int
name_at(struct wire_rd *r, char *out, size_t outsz)
{
	uint8_t n[WIRE_NAME_MAX];
	size_t l = wire_name(r, n);

	if (!l || !wire_name_to_text(n, l, out, outsz))
		return -1;
	return 0;
}

static int appendf(char *out, size_t outsz, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
appendf(char *out, size_t outsz, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*o >= outsz)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(out + *o, outsz - *o, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outsz - *o)
		return -1;
	*o += (size_t)n;
	return 0;
}

static enum stub_err
generic(const uint8_t *msg, size_t rd_off, uint16_t rdlen, char *out, size_t outsz)
{
	size_t o = 0, i;

	if (appendf(out, outsz, &o, "\\# %u", rdlen))
		return STUB_ESHORT;
	if (rdlen && appendf(out, outsz, &o, " "))
		return STUB_ESHORT;
	for (i = 0; i < rdlen; i++)
		if (appendf(out, outsz, &o, "%02x", msg[rd_off + i]))
			return STUB_ESHORT;
	return STUB_OK;
}

enum stub_err
rrtext_rdata(const uint8_t *msg, size_t len, uint16_t type, size_t rd_off, uint16_t rdlen,
    char *out, size_t outsz)
{
	struct wire_rd r;
	char a[WIRE_NAME_TEXT], b[WIRE_NAME_TEXT];
	size_t end = rd_off + rdlen, o = 0;

	if (rd_off > len || len - rd_off < rdlen || outsz == 0)
		return STUB_EINVAL;
	out[0] = 0;
	/* names inside RDATA may point backwards anywhere before them */
	wire_rd_init(&r, msg, end);
	wire_seek(&r, rd_off);
	switch (type) {
	case TYPE_A:
		if (rdlen != 4 || !inet_ntop(AF_INET, msg + rd_off, out, (socklen_t)outsz))
			break;
		return STUB_OK;
	case TYPE_AAAA:
		if (rdlen != 16 || !inet_ntop(AF_INET6, msg + rd_off, out, (socklen_t)outsz))
			break;
		return STUB_OK;
	case TYPE_CNAME:
	case TYPE_NS:
	case TYPE_PTR:
		if (name_at(&r, a, sizeof(a)) || r.pos != end)
			break;
		snprintf(out, outsz, "%s", a);
		return STUB_OK;
	case TYPE_MX: {
		uint16_t pref = wire_u16(&r);

		if (name_at(&r, a, sizeof(a)) || r.pos != end)
			break;
		snprintf(out, outsz, "%u %s", pref, a);
		return STUB_OK;
	}
	case TYPE_SRV: {
		uint16_t pr = wire_u16(&r), w = wire_u16(&r), port = wire_u16(&r);

		if (name_at(&r, a, sizeof(a)) || r.pos != end)
			break;
		snprintf(out, outsz, "%u %u %u %s", pr, w, port, a);
		return STUB_OK;
	}
	case TYPE_SOA: {
		uint32_t v[5];
		int i;

		if (name_at(&r, a, sizeof(a)) || name_at(&r, b, sizeof(b)))
			break;
		for (i = 0; i < 5; i++)
			v[i] = wire_u32(&r);
		if (r.err || r.pos != end)
			break;
		snprintf(out, outsz, "%s %s %u %u %u %u %u", a, b, v[0], v[1], v[2], v[3], v[4]);
		return STUB_OK;
	}
	case TYPE_TXT: {
		int bad = 0;

		while (r.pos < end && !bad) {
			uint8_t l = wire_u8(&r);
			const uint8_t *p = wire_bytes(&r, l);
			size_t i;

			if (!p || (o && appendf(out, outsz, &o, " ")) ||
			    appendf(out, outsz, &o, "\"")) {
				bad = 1;
				break;
			}
			for (i = 0; i < l && !bad; i++) {
				uint8_t c = p[i];

				if (c == '"' || c == '\\')
					bad = appendf(out, outsz, &o, "\\%c", c);
				else if (c < 0x20 || c > 0x7e)
					bad = appendf(out, outsz, &o, "\\%03u", c);
				else
					bad = appendf(out, outsz, &o, "%c", c);
			}
			if (!bad)
				bad = appendf(out, outsz, &o, "\"");
		}
		if (bad || r.err || r.pos != end)
			break;
		return STUB_OK;
	}
	default: break;
	}
	return generic(msg, rd_off, rdlen, out, outsz);
}

enum stub_err
rrtext_foreach(const uint8_t *msg, size_t len, uint32_t age,
    int (*cb)(const struct rrtext *rr, void *arg), void *arg)
{
	struct wire_rd r;
	struct wire_hdr h;
	struct rrtext *t;
	unsigned i, total;
	enum stub_err rc = STUB_OK;

	wire_rd_init(&r, msg, len);
	if (wire_hdr(&r, &h))
		return STUB_EFORMAT;
	for (i = 0; i < h.qdcount; i++) {
		wire_name(&r, NULL);
		wire_skip(&r, 4);
	}
	if (r.err)
		return STUB_EFORMAT;
	t = malloc(sizeof(*t));
	if (!t)
		return STUB_ENOMEM;
	total = (unsigned)h.ancount + h.nscount + h.arcount;
	for (i = 0; i < total; i++) {
		struct wire_rr rr;
		struct wire_rd nr;

		if (wire_rr(&r, &rr)) {
			rc = STUB_EFORMAT;
			break;
		}
		if (rr.type == TYPE_OPT)
			continue;
		t->section = i < h.ancount ? 0 : i < (unsigned)h.ancount + h.nscount ? 1 : 2;
		wire_rd_init(&nr, msg, len);
		wire_seek(&nr, rr.name_off);
		if (name_at(&nr, t->name, sizeof(t->name))) {
			rc = STUB_EFORMAT;
			break;
		}
		t->type = rr.type;
		t->rclass = rr.rclass;
		t->ttl = rr.ttl > age ? rr.ttl - age : 0;
		t->rdlen = rr.rdlen;
		rrtext_rdata(msg, len, rr.type, rr.rd_off, rr.rdlen, t->data, sizeof(t->data));
		if (cb(t, arg))
			break;
	}
	free(t);
	return rc;
}
