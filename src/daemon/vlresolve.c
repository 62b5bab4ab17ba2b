/*
 * vlresolve.c - io.systemd.Resolve calls and answers (see vlresolve.h).
 * Every DNS byte is read through wire.c.
 */
#include "auto-config.h"

#include "vlresolve.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "msg.h"

#define IF_RESOLVE "io.systemd.Resolve"
#define IF_SERVICE "org.varlink.service"
#define CHAIN_MAX 8 /* CNAMEs followed */

static const char desc_resolve[] =
    "interface io.systemd.Resolve\n\n"
    "type ResolvedAddress(ifindex: ?int, family: int, address: []int)\n\n"
    "type ResolvedName(ifindex: ?int, name: string)\n\n"
    "type ResourceKey(class: ?int, type: int, name: string)\n\n"
    "type ResourceRecord(key: ResourceKey, name: ?string, address: ?[]int)\n\n"
    "type ResolvedRecord(ifindex: ?int, rr: ?ResourceRecord, raw: string)\n\n"
    "method ResolveHostname(ifindex: ?int, name: string, family: ?int, flags: ?int)"
    " -> (addresses: []ResolvedAddress, name: string, flags: int)\n\n"
    "method ResolveAddress(ifindex: ?int, family: int, address: []int, flags: ?int)"
    " -> (names: []ResolvedName, flags: int)\n\n"
    "method ResolveRecord(ifindex: ?int, name: string, class: ?int, type: int, flags: ?int)"
    " -> (rrs: []ResolvedRecord, flags: int)\n\n"
    "error NoNameServers()\n\n"
    "error NoSuchResourceRecord()\n\n"
    "error QueryTimedOut()\n\n"
    "error QueryAborted()\n\n"
    "error DNSError(rcode: int)\n";

static const char desc_service[] =
    "interface org.varlink.service\n\n"
    "method GetInfo() -> (vendor: string, product: string, version: string, url: string,"
    " interfaces: []string)\n\n"
    "method GetInterfaceDescription(interface: string) -> (description: string)\n\n"
    "error InterfaceNotFound(interface: string)\n\n"
    "error MethodNotFound(method: string)\n\n"
    "error MethodNotImplemented(method: string)\n\n"
    "error InvalidParameter(parameter: string)\n";

static char *
invalid(const char *param, size_t *len)
{
	return vl_error("org.varlink.service.InvalidParameter", "parameter", param, len);
}

static char *
get_info(const char *version, size_t *len)
{
	struct json j;

	vl_reply_begin(&j);
	json_key(&j, "vendor");
	json_str(&j, "stubd");
	json_key(&j, "product");
	json_str(&j, "stubd");
	json_key(&j, "version");
	json_str(&j, version);
	json_key(&j, "url");
	json_str(&j, "https://stubd.invalid/");
	json_key(&j, "interfaces");
	json_arr_begin(&j);
	json_str(&j, IF_SERVICE);
	json_str(&j, IF_RESOLVE);
	json_arr_end(&j);
	return vl_end(&j, false, len);
}

static char *
get_description(const struct jval *params, size_t *len)
{
	const struct jval *i = jsonp_get(params, "interface");
	const char *d;
	struct json j;

	if (!i || i->type != J_STR)
		return invalid("interface", len);
	if (strcmp(i->str, IF_RESOLVE) == 0)
		d = desc_resolve;
	else if (strcmp(i->str, IF_SERVICE) == 0)
		d = desc_service;
	else
		return vl_error("org.varlink.service.InterfaceNotFound", "interface", i->str, len);
	vl_reply_begin(&j);
	json_key(&j, "description");
	json_str(&j, d);
	return vl_end(&j, false, len);
}

/* A literal address given as a host name: answered without asking. */
static char *
literal(const struct vlr_req *req, const char *name, bool *done, size_t *len)
{
	uint8_t a[16];
	int fam;
	struct json j;
	size_t n, k;

	*done = false;
	if (inet_pton(AF_INET, name, a) == 1) {
		fam = AF_INET;
		n = 4;
	} else if (inet_pton(AF_INET6, name, a) == 1) {
		fam = AF_INET6;
		n = 16;
	} else {
		return NULL;
	}
	*done = true;
	if (req->family && req->family != fam)
		return vl_error("io.systemd.Resolve.NoSuchResourceRecord", NULL, NULL, len);
	vl_reply_begin(&j);
	json_key(&j, "addresses");
	json_arr_begin(&j);
	json_obj_begin(&j);
	if (req->ifindex > 0) {
		json_key(&j, "ifindex");
		json_i64(&j, req->ifindex);
	}
	json_key(&j, "family");
	json_i64(&j, fam);
	json_key(&j, "address");
	json_arr_begin(&j);
	for (k = 0; k < n; k++)
		json_u64(&j, a[k]);
	json_arr_end(&j);
	json_obj_end(&j);
	json_arr_end(&j);
	json_key(&j, "name");
	json_str(&j, name);
	json_key(&j, "flags");
	json_u64(&j, VLR_F_DNS | VLR_F_SYNTHETIC | VLR_F_AUTHENTICATED | VLR_F_CONFIDENTIAL);
	return vl_end(&j, false, len);
}

/* name, ifindex, flags: shared by the three methods.  NULL or the bad one. */
static const char *
common_params(const struct jval *p, struct vlr_req *req, bool want_name)
{
	long long v;

	if (!vl_get_int(p, "ifindex", 0, 0x7fffffff, 0, &v))
		return "ifindex";
	req->ifindex = (int)v;
	/* flags is a uint64 of which stubd reads nothing yet; doubles hold
	 * every flag resolved defines exactly */
	if (!vl_get_int(p, "flags", 0, (long long)1 << 52, 0, &v))
		return "flags";
	req->flags = (uint64_t)v;
	if (want_name) {
		const struct jval *n = jsonp_get(p, "name");

		if (!n || n->type != J_STR || !n->str[0])
			return "name";
		req->qlen = wire_name_from_text(n->str, req->qname);
		if (!req->qlen)
			return "name";
	}
	return NULL;
}

bool
vlr_req_reverse(struct vlr_req *req, int family, const uint8_t *addr, size_t n)
{
	char text[80];
	size_t i, off = 0;

	if (!((family == AF_INET && n == 4) || (family == AF_INET6 && n == 16)))
		return false;
	req->kind = VLR_ADDRESS;
	req->family = family;
	req->qclass = CLASS_IN;
	if (n == 4) {
		snprintf(text, sizeof(text), "%u.%u.%u.%u.in-addr.arpa", addr[3], addr[2], addr[1],
		    addr[0]);
	} else {
		for (i = 16; i-- > 0;)
			off += (size_t)snprintf(text + off, sizeof(text) - off, "%x.%x.",
			    addr[i] & 0xf, addr[i] >> 4);
		snprintf(text + off, sizeof(text) - off, "ip6.arpa");
	}
	req->qlen = wire_name_from_text(text, req->qname);
	req->nq = 0;
	req->qtype[req->nq++] = TYPE_PTR;
	return req->qlen != 0;
}

static const char *
reverse_name(const struct jval *p, struct vlr_req *req)
{
	const struct jval *a = jsonp_get(p, "address");
	uint8_t b[16];
	size_t i, n;
	long long fam;

	if (!vl_get_int(p, "family", 0, 0xffff, -1, &fam) || (fam != AF_INET && fam != AF_INET6))
		return "family";
	n = fam == AF_INET ? 4 : 16;
	if (!a || a->type != J_ARR || a->n != n)
		return "address";
	for (i = 0; i < n; i++) {
		const struct jval *x = a->items[i];

		if (x->type != J_NUM || x->num < 0 || x->num > 255 || x->num != (double)(int)x->num)
			return "address";
		b[i] = (uint8_t)x->num;
	}
	vlr_req_reverse(req, (int)fam, b, n);
	return NULL;
}

enum vlr_verdict
vlr_call(const struct vl_call *c, const char *version, struct vlr_req *req, char **out,
    size_t *outlen)
{
	const char *m = c->method, *bad;
	long long v;

	memset(req, 0, sizeof(*req));
	req->qclass = CLASS_IN;
	*out = NULL;
	*outlen = 0;
	if (strcmp(m, IF_SERVICE ".GetInfo") == 0) {
		*out = get_info(version, outlen);
		return VLR_REPLY;
	}
	if (strcmp(m, IF_SERVICE ".GetInterfaceDescription") == 0) {
		*out = get_description(c->params, outlen);
		return VLR_REPLY;
	}
	if (strcmp(m, IF_RESOLVE ".ResolveHostname") == 0) {
		const struct jval *n;
		bool done;

		req->kind = VLR_HOSTNAME;
		if ((bad = common_params(c->params, req, true)) != NULL)
			goto invalid;
		if (!vl_get_int(c->params, "family", 0, 0xffff, 0, &v) ||
		    (v != 0 && v != AF_INET && v != AF_INET6)) {
			bad = "family";
			goto invalid;
		}
		req->family = (int)v;
		n = jsonp_get(c->params, "name");
		*out = literal(req, n->str, &done, outlen);
		if (done)
			return VLR_REPLY;
		if (req->family != AF_INET6)
			req->qtype[req->nq++] = TYPE_A;
		if (req->family != AF_INET)
			req->qtype[req->nq++] = TYPE_AAAA;
		return VLR_QUERY;
	}
	if (strcmp(m, IF_RESOLVE ".ResolveAddress") == 0) {
		req->kind = VLR_ADDRESS;
		if ((bad = common_params(c->params, req, false)) != NULL)
			goto invalid;
		if ((bad = reverse_name(c->params, req)) != NULL)
			goto invalid;
		return VLR_QUERY;
	}
	if (strcmp(m, IF_RESOLVE ".ResolveRecord") == 0) {
		req->kind = VLR_RECORD;
		if ((bad = common_params(c->params, req, true)) != NULL)
			goto invalid;
		if (!vl_get_int(c->params, "class", 1, 0xffff, CLASS_IN, &v)) {
			bad = "class";
			goto invalid;
		}
		req->qclass = (uint16_t)v;
		/* type is mandatory; OPT and the meta types are not records */
		if (!jsonp_get(c->params, "type") ||
		    !vl_get_int(c->params, "type", 1, 0xffff, 0, &v) || v == TYPE_OPT ||
		    (v >= 128 && v <= 255)) {
			bad = "type";
			goto invalid;
		}
		req->qtype[req->nq++] = (uint16_t)v;
		return VLR_QUERY;
	}
	*out = vl_error("org.varlink.service.MethodNotFound", "method", m, outlen);
	return VLR_REPLY;
invalid:
	*out = invalid(bad, outlen);
	return VLR_REPLY;
}

size_t
vlr_query_packet(const struct vlr_req *req, size_t i, uint16_t id, uint8_t *out, size_t cap)
{
	struct msg_query q;

	if (i >= req->nq || !req->qlen)
		return 0;
	memset(&q, 0, sizeof(q));
	memcpy(q.qname, req->qname, req->qlen);
	q.qlen = req->qlen;
	q.qtype = req->qtype[i];
	q.qclass = req->qclass;
	return msg_upstream_query(&q, id, q.qname, true, out, cap);
}

void
vlr_ans_trace(struct vlr_ans *a, const struct up_trace *t)
{
	size_t i, sent = 0, clear = 0;

	if (!t)
		return;
	a->traced = true;
	a->replied = false;
	for (i = 0; i < t->n; i++) {
		const struct up_trace_ev *e = &t->ev[i];

		if (e->sent_ms < 0)
			continue;
		sent++;
		if (strcmp(e->transport, "tls") != 0 && strcmp(e->transport, "https") != 0)
			clear++;
		switch (e->result) {
		case TR_ANSWER:
		case TR_NXDOMAIN:
		case TR_NODATA:
		case TR_SERVFAIL:
		case TR_REFUSED:
		case TR_FORMERR:
		case TR_RCODE:
		case TR_TRUNCATED:
		case TR_MISMATCH: a->replied = true; break;
		default: break;
		}
	}
	a->encrypted = sent > 0 && clear == 0;
}

bool
vlr_ans_take(struct vlr_ans *a, uint8_t **store, const uint8_t *msg, size_t len,
    const struct reply_info *ri)
{
	bool ok = true;

	if (len) {
		*store = malloc(len);
		if (*store) {
			memcpy(*store, msg, len);
			a->msg = *store;
			a->len = len;
		} else {
			ok = false;
		}
	}
	a->source = ri->source;
	a->ifindex = ri->ifindex;
	vlr_ans_trace(a, ri->trace);
	return ok;
}

/* Length of an uncompressed wire name (as wire_name writes it). */
static size_t
name_len(const uint8_t *n)
{
	size_t off = 0;

	while (off < WIRE_NAME_MAX && n[off])
		off += (size_t)n[off] + 1;
	return off < WIRE_NAME_MAX ? off + 1 : 0;
}

/* The names the question's answer is about: qname and its CNAME targets. */
struct chain {
	uint8_t name[CHAIN_MAX + 1][WIRE_NAME_MAX];
	size_t len[CHAIN_MAX + 1];
	size_t n;
};

static bool
in_chain(const struct chain *c, const uint8_t *name, size_t len)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (wire_name_eq_ci(c->name[i], c->len[i], name, len))
			return true;
	return false;
}

/* Header, skip the question; the answer records follow at r. */
static bool
open_answer(struct wire_rd *r, const uint8_t *msg, size_t len, struct wire_hdr *h)
{
	uint16_t i;

	wire_rd_init(r, msg, len);
	if (wire_hdr(r, h) != 0)
		return false;
	for (i = 0; i < h->qdcount && !r->err; i++) {
		wire_name(r, NULL);
		wire_skip(r, 4);
	}
	return !r->err;
}

static void
build_chain(const struct vlr_req *req, const uint8_t *msg, size_t len, uint16_t qtype,
    struct chain *c)
{
	bool grew = true;

	memcpy(c->name[0], req->qname, req->qlen);
	c->len[0] = req->qlen;
	c->n = 1;
	if (qtype == TYPE_CNAME)
		return;
	while (grew && c->n <= CHAIN_MAX) {
		struct wire_rd r;
		struct wire_hdr h;
		uint16_t i;

		grew = false;
		if (!open_answer(&r, msg, len, &h))
			return;
		for (i = 0; i < h.ancount && !grew; i++) {
			struct wire_rr rr;
			uint8_t owner[WIRE_NAME_MAX];
			struct wire_rd t;

			if (wire_rr(&r, &rr) != 0)
				return;
			if (rr.type != TYPE_CNAME)
				continue;
			wire_rd_init(&t, msg, len);
			wire_seek(&t, rr.name_off);
			wire_name(&t, owner);
			if (t.err ||
			    !wire_name_eq_ci(owner, name_len(owner), c->name[c->n - 1],
			        c->len[c->n - 1]))
				continue;
			wire_rd_init(&t, msg, rr.rd_off + rr.rdlen);
			wire_seek(&t, rr.rd_off);
			wire_name(&t, c->name[c->n]);
			if (t.err || in_chain(c, c->name[c->n], name_len(c->name[c->n])))
				return;
			c->len[c->n] = name_len(c->name[c->n]);
			c->n++;
			grew = true;
		}
	}
}

static void
put_name_text(struct json *j, const uint8_t *name)
{
	char text[1024];

	if (wire_name_to_text(name, name_len(name), text, sizeof(text)))
		json_str(j, text);
	else
		json_str(j, "");
}

/* Read a (possibly compressed) name inside the RDATA at r into w. */
static void
copy_name(struct wire_rd *r, struct wire_wr *w)
{
	uint8_t n[WIRE_NAME_MAX];

	if (wire_name(r, n))
		wire_put_name(w, n, name_len(n));
}

size_t
vlr_rr_raw(const uint8_t *msg, size_t len, const struct wire_rr *rr, uint8_t *out, size_t cap)
{
	struct wire_wr w;
	struct wire_rd r, d;
	uint8_t owner[WIRE_NAME_MAX];
	size_t rdpos, fixed = 0;
	int names = 0;

	wire_rd_init(&r, msg, len);
	wire_seek(&r, rr->name_off);
	wire_name(&r, owner);
	if (r.err)
		return 0;
	wire_wr_init(&w, out, cap);
	wire_put_name(&w, owner, name_len(owner));
	wire_put_u16(&w, rr->type);
	wire_put_u16(&w, rr->rclass);
	wire_put_u32(&w, rr->ttl);
	rdpos = w.len;
	wire_put_u16(&w, 0);
	switch (rr->type) {
	case TYPE_NS:
	case TYPE_CNAME:
	case TYPE_PTR:
	case 39: /* DNAME */ names = 1; break;
	case TYPE_MX:
		fixed = 2;
		names = 1;
		break;
	case TYPE_SRV:
		fixed = 6;
		names = 1;
		break;
	case TYPE_SOA: names = 2; break;
	default: break;
	}
	wire_rd_init(&d, msg, rr->rd_off + rr->rdlen);
	wire_seek(&d, rr->rd_off);
	if (names) {
		wire_put_bytes(&w, wire_bytes(&d, fixed), d.err ? 0 : fixed);
		while (names-- > 0)
			copy_name(&d, &w);
		if (rr->type == TYPE_SOA)
			wire_put_bytes(&w, wire_bytes(&d, 20), d.err ? 0 : 20);
		if (d.err || wire_left(&d) != 0)
			return 0;
	} else {
		const uint8_t *p = wire_bytes(&d, rr->rdlen);

		if (d.err)
			return 0;
		wire_put_bytes(&w, p, rr->rdlen);
	}
	if (w.err || w.len - rdpos - 2 > 0xffff)
		return 0;
	wire_set16_at(out, w.len, rdpos, (uint16_t)(w.len - rdpos - 2));
	return w.len;
}

uint8_t *
vlr_rr_raw_dup(const uint8_t *msg, size_t len, const struct wire_rr *rr, size_t *n)
{
	uint8_t *raw = malloc(rr->rdlen + 4 * WIRE_NAME_MAX);

	*n = 0;
	if (!raw)
		return NULL;
	*n = vlr_rr_raw(msg, len, rr, raw, rr->rdlen + 4 * WIRE_NAME_MAX);
	return raw;
}

static void
put_base64(struct json *j, const uint8_t *p, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *s = malloc(4 * ((n + 2) / 3) + 1);
	size_t i, o = 0;

	if (!s) {
		j->err = 1;
		return;
	}
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		s[o++] = al[v >> 18];
		s[o++] = al[(v >> 12) & 63];
		s[o++] = al[(v >> 6) & 63];
		s[o++] = al[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

		s[o++] = al[v >> 18];
		s[o++] = al[(v >> 12) & 63];
		s[o++] = i + 1 < n ? al[(v >> 6) & 63] : '=';
		s[o++] = '=';
	}
	s[o] = '\0';
	json_str(j, s);
	free(s);
}

static void
put_bytes_arr(struct json *j, const uint8_t *p, size_t n)
{
	size_t i;

	json_arr_begin(j);
	for (i = 0; i < n; i++)
		json_u64(j, p[i]);
	json_arr_end(j);
}

/* "rr" (its key and, for the types that have them, "address" or "name")
 * and "raw" (raw/n: its uncompressed wire form) as members of an open
 * object: a ResourceRecord as resolved writes it. */
static void
put_rr_raw(struct json *j, const uint8_t *msg, size_t len, const struct wire_rr *rr,
    const uint8_t *owner, const uint8_t *raw, size_t n)
{
	struct wire_rd d;

	wire_rd_init(&d, msg, len < rr->rd_off + rr->rdlen ? len : rr->rd_off + rr->rdlen);
	wire_seek(&d, rr->rd_off);
	json_key(j, "rr");
	json_obj_begin(j);
	json_key(j, "key");
	json_obj_begin(j);
	json_key(j, "class");
	json_u64(j, rr->rclass);
	json_key(j, "type");
	json_u64(j, rr->type);
	json_key(j, "name");
	put_name_text(j, owner);
	json_obj_end(j);
	if ((rr->type == TYPE_A && rr->rdlen == 4) || (rr->type == TYPE_AAAA && rr->rdlen == 16)) {
		json_key(j, "address");
		put_bytes_arr(j, wire_bytes(&d, rr->rdlen), rr->rdlen);
	} else if (rr->type == TYPE_PTR || rr->type == TYPE_CNAME || rr->type == TYPE_NS) {
		uint8_t target[WIRE_NAME_MAX];

		if (wire_name(&d, target)) {
			json_key(j, "name");
			put_name_text(j, target);
		}
	}
	json_obj_end(j);
	json_key(j, "raw");
	put_base64(j, raw, n);
}

/* What put_record writes into. */
struct put_ctx {
	struct json *j;
	uint8_t canon[WIRE_NAME_MAX];
	bool have_canon;
};

/* One record about the name into the varlink reply; true when written. */
static bool
put_record(void *arg, const struct vlr_req *req, const struct vlr_rr *x)
{
	struct put_ctx *p = arg;
	struct json *j = p->j;
	const struct wire_rr *rr = x->rr;
	struct wire_rd d;
	uint8_t *raw;
	size_t n;
	/* the interface the answer came on (mDNS, a link-local scope), else
	 * the one asked about */
	long long ifi = x->ifindex ? (long long)x->ifindex : req->ifindex;

	wire_rd_init(&d, x->msg, rr->rd_off + rr->rdlen);
	wire_seek(&d, rr->rd_off);
	switch (req->kind) {
	case VLR_HOSTNAME:
		if (!vlr_rr_is_address(rr, x->qtype))
			return false;
		json_obj_begin(j);
		if (ifi > 0) {
			json_key(j, "ifindex");
			json_i64(j, ifi);
		}
		json_key(j, "family");
		json_i64(j, x->qtype == TYPE_A ? AF_INET : AF_INET6);
		json_key(j, "address");
		put_bytes_arr(j, wire_bytes(&d, rr->rdlen), rr->rdlen);
		json_obj_end(j);
		if (!p->have_canon) {
			memcpy(p->canon, x->owner, x->owner_len);
			p->have_canon = true;
		}
		return true;
	case VLR_ADDRESS: {
		uint8_t target[WIRE_NAME_MAX];

		if (rr->type != TYPE_PTR || rr->rclass != CLASS_IN || !wire_name(&d, target))
			return false;
		json_obj_begin(j);
		if (ifi > 0) {
			json_key(j, "ifindex");
			json_i64(j, ifi);
		}
		json_key(j, "name");
		put_name_text(j, target);
		json_obj_end(j);
		return true;
	}
	case VLR_RECORD:
		if (rr->type != x->qtype || rr->rclass != req->qclass)
			return false;
		raw = vlr_rr_raw_dup(x->msg, x->len, rr, &n);
		if (!raw)
			j->err = 1;
		if (!n) {
			free(raw);
			return false;
		}
		json_obj_begin(j);
		if (ifi > 0) {
			json_key(j, "ifindex");
			json_i64(j, ifi);
		}
		put_rr_raw(j, x->msg, x->len, rr, x->owner, raw, n);
		json_obj_end(j);
		free(raw);
		return true;
	default: return false;
	}
}

bool
vlr_rr_is_address(const struct wire_rr *rr, uint16_t qtype)
{
	return (qtype == TYPE_A || qtype == TYPE_AAAA) && rr->type == qtype &&
	    rr->rclass == CLASS_IN && rr->rdlen == (qtype == TYPE_A ? 4 : 16);
}

/* The records of one answer about the name; how many fn took. */
static size_t
each_rr_of(const struct vlr_req *req, uint16_t qtype, const uint8_t *msg, size_t len,
    unsigned ifindex, vlr_rr_fn fn, void *arg, bool *oom)
{
	struct chain *c = malloc(sizeof(*c));
	struct wire_rd r;
	struct wire_hdr h;
	size_t count = 0;
	uint16_t i;

	if (!c) {
		*oom = true;
		return 0;
	}
	build_chain(req, msg, len, qtype, c);
	if (!open_answer(&r, msg, len, &h))
		goto out;
	for (i = 0; i < h.ancount; i++) {
		struct vlr_rr x;
		struct wire_rr rr;
		uint8_t owner[WIRE_NAME_MAX];
		struct wire_rd t;

		if (wire_rr(&r, &rr) != 0)
			break;
		wire_rd_init(&t, msg, len);
		wire_seek(&t, rr.name_off);
		if (!wire_name(&t, owner) || !in_chain(c, owner, name_len(owner)))
			continue;
		x.qtype = qtype;
		x.msg = msg;
		x.len = len;
		x.rr = &rr;
		x.owner = owner;
		x.owner_len = name_len(owner);
		x.ifindex = ifindex;
		if (fn(arg, req, &x))
			count++;
	}
out:
	free(c);
	return count;
}

static unsigned
rcode_of(const struct vlr_ans *a)
{
	uint16_t flags;

	if (!a->msg || !wire_get16_at(a->msg, a->len, 2, &flags))
		return RCODE_SERVFAIL;
	return flags & 0xf;
}

size_t
vlr_each_rr(const struct vlr_req *req, const struct vlr_ans *a, vlr_rr_fn fn, void *arg, bool *oom)
{
	size_t i, count = 0;

	*oom = false;
	for (i = 0; i < req->nq; i++)
		if (a[i].msg && rcode_of(&a[i]) == RCODE_NOERROR)
			count += each_rr_of(req, req->qtype[i], a[i].msg, a[i].len, a[i].ifindex,
			    fn, arg, oom);
	return count;
}

uint64_t
vlr_flags(const struct vlr_req *req, const struct vlr_ans *a)
{
	uint64_t f = VLR_F_DNS;
	bool ad = true, conf = true;
	size_t i;

	for (i = 0; i < req->nq; i++) {
		uint16_t flags = 0;
		bool local = a[i].source == SRC_HOSTS || a[i].source == SRC_LOCAL;

		if (local)
			f |= VLR_F_SYNTHETIC;
		else if (a[i].source == SRC_CACHE || a[i].source == SRC_STALE)
			f |= VLR_F_FROM_CACHE;
		else
			f |= VLR_F_FROM_NETWORK;
		/* synthesized answers count as authenticated and confidential,
		 * as resolved's do; others as their packets say */
		if (!local &&
		    (!a[i].msg || !wire_get16_at(a[i].msg, a[i].len, 2, &flags) ||
		        !(flags & WIRE_AD)))
			ad = false;
		if (!local && !(a[i].traced && a[i].encrypted))
			conf = false;
	}
	if (ad)
		f |= VLR_F_AUTHENTICATED;
	if (conf)
		f |= VLR_F_CONFIDENTIAL;
	return f;
}

uint64_t
vlr_flags_merge(uint64_t a, uint64_t b)
{
	const uint64_t all = VLR_F_AUTHENTICATED | VLR_F_CONFIDENTIAL;

	return ((a | b) & ~all) | (a & b & all);
}

enum vlr_fail
vlr_failure(const struct vlr_req *req, const struct vlr_ans *a, bool no_servers, unsigned *rcode)
{
	size_t i;
	unsigned other = 0;
	bool servfail = false, silent = true;

	*rcode = 0;
	for (i = 0; i < req->nq; i++)
		if (a[i].msg && rcode_of(&a[i]) == RCODE_NOERROR)
			return VLR_FAIL_NO_RR;
	*rcode = RCODE_NXDOMAIN;
	for (i = 0; i < req->nq; i++)
		if (a[i].msg && rcode_of(&a[i]) == RCODE_NXDOMAIN)
			return VLR_FAIL_RCODE;
	for (i = 0; i < req->nq; i++) {
		unsigned rc = rcode_of(&a[i]);

		if (!a[i].msg)
			continue;
		if (rc == RCODE_SERVFAIL) {
			servfail = true;
			if (!a[i].traced || a[i].replied)
				silent = false;
		} else if (!other) {
			other = rc;
		}
	}
	*rcode = other ? other : RCODE_SERVFAIL;
	if (other)
		return VLR_FAIL_RCODE;
	if (servfail && no_servers)
		return VLR_FAIL_NO_SERVERS;
	if (servfail && silent)
		return VLR_FAIL_TIMED_OUT;
	if (servfail)
		return VLR_FAIL_RCODE;
	*rcode = 0;
	return VLR_FAIL_ABORTED;
}

/* Nothing matched: the error resolved would give. */
static char *
failure(const struct vlr_req *req, const struct vlr_ans *a, bool no_servers, size_t *len)
{
	static const char *const names[] = {
		[VLR_FAIL_NO_RR] = "io.systemd.Resolve.NoSuchResourceRecord",
		[VLR_FAIL_NO_SERVERS] = "io.systemd.Resolve.NoNameServers",
		[VLR_FAIL_TIMED_OUT] = "io.systemd.Resolve.QueryTimedOut",
		[VLR_FAIL_ABORTED] = "io.systemd.Resolve.QueryAborted",
	};
	unsigned rcode;
	enum vlr_fail f = vlr_failure(req, a, no_servers, &rcode);
	struct json j;

	if (f != VLR_FAIL_RCODE)
		return vl_error(names[f], NULL, NULL, len);
	vl_error_begin(&j, "io.systemd.Resolve.DNSError");
	json_key(&j, "rcode");
	json_u64(&j, rcode);
	return vl_end(&j, false, len);
}

char *
vlr_answer(const struct vlr_req *req, const struct vlr_ans *a, bool no_servers, size_t *len)
{
	struct json j;
	struct put_ctx p;
	size_t count;
	bool oom;

	*len = 0;
	vl_reply_begin(&j);
	json_key(&j,
	    req->kind == VLR_HOSTNAME    ? "addresses" :
	        req->kind == VLR_ADDRESS ? "names" :
	                                   "rrs");
	json_arr_begin(&j);
	p.j = &j;
	p.have_canon = false;
	count = vlr_each_rr(req, a, put_record, &p, &oom);
	json_arr_end(&j);
	if (j.err || oom) {
		json_free(&j);
		return NULL;
	}
	if (!count) {
		json_free(&j);
		return failure(req, a, no_servers, len);
	}
	if (req->kind == VLR_HOSTNAME) {
		json_key(&j, "name");
		put_name_text(&j, p.have_canon ? p.canon : req->qname);
	}
	json_key(&j, "flags");
	json_u64(&j, vlr_flags(req, a));
	return vl_end(&j, false, len);
}

/* ---- io.systemd.Resolve.Monitor: one answer as SubscribeQueryResults
 * streams it ---- */

static void
put_key(struct json *j, uint16_t rclass, uint16_t type, const uint8_t *name)
{
	json_obj_begin(j);
	json_key(j, "class");
	json_u64(j, rclass);
	json_key(j, "type");
	json_u64(j, type);
	json_key(j, "name");
	put_name_text(j, name);
	json_obj_end(j);
}

char *
vlr_monitor_event(const uint8_t *msg, size_t len, size_t *outlen)
{
	struct wire_rd r;
	struct wire_hdr h;
	struct json j;
	uint8_t qname[WIRE_NAME_MAX];
	uint16_t qtype, qclass, i;
	unsigned rcode;

	*outlen = 0;
	wire_rd_init(&r, msg, len);
	if (wire_hdr(&r, &h) != 0 || h.qdcount != 1)
		return NULL;
	wire_name(&r, qname);
	qtype = wire_u16(&r);
	qclass = wire_u16(&r);
	if (r.err)
		return NULL;
	rcode = h.flags & 0xf;
	vl_reply_begin(&j);
	json_key(&j, "state");
	json_str(&j, rcode == RCODE_NOERROR ? "success" : "rcode-failure");
	json_key(&j, "rcode");
	json_u64(&j, rcode);
	json_key(&j, "question");
	json_arr_begin(&j);
	put_key(&j, qclass, qtype, qname);
	json_arr_end(&j);
	json_key(&j, "answer");
	json_arr_begin(&j);
	for (i = 0; i < h.ancount; i++) {
		struct wire_rr rr;
		struct wire_rd t;
		uint8_t owner[WIRE_NAME_MAX], *raw;
		size_t n;

		if (wire_rr(&r, &rr) != 0)
			break;
		wire_rd_init(&t, msg, len);
		wire_seek(&t, rr.name_off);
		if (!wire_name(&t, owner))
			break;
		raw = vlr_rr_raw_dup(msg, len, &rr, &n);
		if (!raw) {
			j.err = 1;
			break;
		}
		if (n) {
			json_obj_begin(&j);
			json_key(&j, "rr");
			json_obj_begin(&j);
			json_key(&j, "key");
			put_key(&j, rr.rclass, rr.type, owner);
			json_obj_end(&j);
			json_key(&j, "raw");
			put_base64(&j, raw, n);
			json_obj_end(&j);
		}
		free(raw);
	}
	json_arr_end(&j);
	return vl_end(&j, true, outlen);
}

/* ---- io.systemd.Resolve.Monitor: DumpCache and DumpServerState ---- */

void
vlr_cache_entry(struct json *j, const struct cache_info *ci)
{
	struct wire_rd r;
	struct wire_hdr h;
	uint16_t i;

	json_obj_begin(j);
	json_key(j, "key");
	put_key(j, ci->qclass, ci->qtype, ci->name);
	if (ci->status == CST_NXDOMAIN) {
		json_key(j, "type");
		json_str(j, "NXDOMAIN");
	} else {
		/* the answer records (the CNAME chain too); [] for NODATA */
		json_key(j, "rrs");
		json_arr_begin(j);
		if (ci->status == CST_NOERROR && open_answer(&r, ci->msg, ci->msglen, &h)) {
			for (i = 0; i < h.ancount; i++) {
				struct wire_rr rr;
				struct wire_rd t;
				uint8_t owner[WIRE_NAME_MAX], *raw;
				size_t n;

				if (wire_rr(&r, &rr) != 0)
					break;
				wire_rd_init(&t, ci->msg, ci->msglen);
				wire_seek(&t, rr.name_off);
				if (!wire_name(&t, owner))
					break;
				raw = vlr_rr_raw_dup(ci->msg, ci->msglen, &rr, &n);
				if (!raw) {
					j->err = 1;
					break;
				}
				if (n) {
					json_obj_begin(j);
					put_rr_raw(j, ci->msg, ci->msglen, &rr, owner, raw, n);
					json_obj_end(j);
				}
				free(raw);
			}
		}
		json_arr_end(j);
	}
	/* when it goes, in microseconds on the cache's (monotonic) clock, as
	 * resolved tells its own */
	json_key(j, "until");
	json_u64(j, ci->expire_ms * 1000);
	json_obj_end(j);
}

void
vlr_server_state(struct json *j, const struct vlr_server *s)
{
	/* resolved's feature levels: stubd always sends EDNS0, never DO */
	const char *level = s->encrypted ? "TLS+EDNS0" : "UDP+EDNS0";

	json_obj_begin(j);
	json_key(j, "Server");
	json_str(j, s->server);
	json_key(j, "Type");
	json_str(j, s->type);
	if (s->ifname && *s->ifname) {
		json_key(j, "Interface");
		json_str(j, s->ifname);
	}
	if (s->ifindex) {
		json_key(j, "InterfaceIndex");
		json_u64(j, s->ifindex);
	}
	json_key(j, "VerifiedFeatureLevel");
	json_str(j, s->answered ? level : "n/a");
	json_key(j, "PossibleFeatureLevel");
	json_str(j, level);
	json_key(j, "DNSSECMode");
	json_str(j, "no");
	json_key(j, "DNSSECSupported");
	json_bool(j, false);
	json_key(j, "ReceivedUDPFragmentMax");
	json_u64(j, 0);
	json_key(j, "FailedUDPAttempts");
	json_u64(j, s->encrypted ? 0 : s->timeouts);
	json_key(j, "FailedTCPAttempts");
	json_u64(j, s->encrypted ? s->timeouts : 0);
	json_key(j, "PacketTruncated");
	json_bool(j, false);
	json_key(j, "PacketBadOpt");
	json_bool(j, false);
	json_key(j, "PacketRRSIGMissing");
	json_bool(j, false);
	json_key(j, "PacketInvalid");
	json_bool(j, false);
	json_key(j, "PacketDoOff");
	json_bool(j, false);
	json_obj_end(j);
}
