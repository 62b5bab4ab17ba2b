/*
 * policy.c - the local policy table (SPEC section 18).  See policy.h.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "policy.h"

#define NO_DEC UINT32_MAX

/* One slot of the name hash: 0 name_off = empty. */
struct slot {
	uint32_t tag;      /* high bits of the name's hash */
	uint32_t name_off; /* arena: a length byte, then the wire name */
	uint32_t dec;      /* first decision on the name */
};

/* One decision; for rule kinds other than block/allow, `arg` indexes
 * rules[]. */
struct dec {
	uint32_t next;
	uint32_t line;
	uint32_t src;
	uint8_t scope, kind, action;
	uint8_t pad;
	uint32_t arg;
};

/* The extra data of a `rule` line. */
struct rule {
	uint16_t type; /* answer: record type */
	uint16_t rdlen;
	uint8_t *rdata; /* answer: record data */
	char *adapter;  /* adapter: its name */
};

struct policy {
	uint64_t seed;
	enum pol_action def_action;
	struct slot *slots;
	size_t nslots, nnames;
	uint8_t *arena;
	size_t alen, acap;
	struct dec *decs;
	size_t ndecs, dcap;
	struct rule *rules;
	size_t nrules, rcap;
	char **srcs;
	size_t nsrcs;
};

struct policy *
policy_new(uint64_t seed)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->seed = seed;
	p->def_action = POL_ACT_NULL;
	p->nslots = 1024;
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	p->acap = 4096;
	p->arena = malloc(p->acap);
	if (!p->slots || !p->arena) {
		policy_free(p);
		return NULL;
	}
	p->arena[0] = 0; /* offset 0 means "empty slot" */
	p->alen = 1;
	return p;
}

void
policy_free(struct policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nrules; i++) {
		free(p->rules[i].rdata);
		free(p->rules[i].adapter);
	}
	for (i = 0; i < p->nsrcs; i++)
		free(p->srcs[i]);
	free(p->srcs);
	free(p->rules);
	free(p->decs);
	free(p->arena);
	free(p->slots);
	free(p);
}

void
policy_set_default_action(struct policy *p, enum pol_action a)
{
	if (a != POL_ACT_DEFAULT)
		p->def_action = a;
}

uint32_t
policy_source(struct policy *p, const char *name)
{
	char **n;
	size_t i;

	for (i = 0; i < p->nsrcs; i++)
		if (strcmp(p->srcs[i], name) == 0)
			return (uint32_t)i;
	n = realloc(p->srcs, (p->nsrcs + 1) * sizeof(*n));
	if (!n)
		return UINT32_MAX;
	p->srcs = n;
	n[p->nsrcs] = strdup(name);
	if (!n[p->nsrcs])
		return UINT32_MAX;
	return (uint32_t)p->nsrcs++;
}

const char *
policy_source_name(const struct policy *p, uint32_t src)
{
	return src < p->nsrcs ? p->srcs[src] : "?";
}

size_t
policy_names(const struct policy *p)
{
	return p->nnames;
}

size_t
policy_decisions(const struct policy *p)
{
	return p->ndecs;
}

static bool
slot_is(const struct policy *p, const struct slot *s, uint32_t tag, const uint8_t *name, size_t len)
{
	const uint8_t *a = p->arena + s->name_off;

	return s->tag == tag && a[0] == len && memcmp(a + 1, name, len) == 0;
}

/* The slot of name (hash h), or the empty slot where it would go. */
static struct slot *
find_slot(const struct policy *p, uint64_t h, const uint8_t *name, size_t len)
{
	size_t mask = p->nslots - 1, i = (size_t)h & mask;
	uint32_t tag = (uint32_t)(h >> 32);

	for (;;) {
		struct slot *s = &p->slots[i];

		if (s->name_off == 0 || slot_is(p, s, tag, name, len))
			return s;
		i = (i + 1) & mask;
	}
}

static enum stub_err
grow_slots(struct policy *p)
{
	size_t n = p->nslots * 2, i, mask = n - 1;
	struct slot *ns = calloc(n, sizeof(*ns));

	if (!ns)
		return STUB_ENOMEM;
	for (i = 0; i < p->nslots; i++) {
		const struct slot *s = &p->slots[i];
		const uint8_t *a = p->arena + s->name_off;
		size_t j;

		if (s->name_off == 0)
			continue;
		j = (size_t)stub_name_hash(p->seed, a + 1, a[0]) & mask;
		while (ns[j].name_off)
			j = (j + 1) & mask;
		ns[j] = *s;
	}
	free(p->slots);
	p->slots = ns;
	p->nslots = n;
	return STUB_OK;
}

static bool
grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *a;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	a = realloc(*arr, n * size);
	if (!a)
		return false;
	*arr = a;
	*cap = n;
	return true;
}

/* Room for names more names, decisions and their text without growing
 * (a list's line count, before parsing it): one hash allocation instead
 * of a doubling and rehash per power of two. */
enum stub_err
policy_reserve(struct policy *p, size_t names, size_t bytes)
{
	size_t want = p->nnames + names, n = p->nslots, i;
	struct slot *ns;

	if (!grow((void **)&p->decs, &p->dcap, p->ndecs + names, sizeof(*p->decs)) ||
	    !grow((void **)&p->arena, &p->acap, p->alen + bytes, 1))
		return STUB_ENOMEM;
	while (want * 4 > n * 3)
		n *= 2;
	if (n == p->nslots)
		return STUB_OK;
	ns = calloc(n, sizeof(*ns));
	if (!ns)
		return STUB_ENOMEM;
	for (i = 0; i < p->nslots; i++) {
		const struct slot *s = &p->slots[i];
		const uint8_t *a = p->arena + s->name_off;
		size_t j;

		if (s->name_off == 0)
			continue;
		j = (size_t)stub_name_hash(p->seed, a + 1, a[0]) & (n - 1);
		while (ns[j].name_off)
			j = (j + 1) & (n - 1);
		ns[j] = *s;
	}
	free(p->slots);
	p->slots = ns;
	p->nslots = n;
	return STUB_OK;
}

/* The slot of name, added when missing. */
static enum stub_err
name_slot(struct policy *p, const uint8_t *name, size_t len, struct slot **out)
{
	uint64_t h = stub_name_hash(p->seed, name, len);
	struct slot *s;

	*out = NULL;
	if ((p->nnames + 1) * 4 > p->nslots * 3 && grow_slots(p) != STUB_OK)
		return STUB_ENOMEM;
	s = find_slot(p, h, name, len);
	if (s->name_off == 0) {
		size_t cap = p->acap;

		if (p->alen + 1 + len > UINT32_MAX)
			return STUB_ENOMEM;
		if (!grow((void **)&p->arena, &cap, p->alen + 1 + len, 1))
			return STUB_ENOMEM;
		p->acap = cap;
		p->arena[p->alen] = (uint8_t)len;
		memcpy(p->arena + p->alen + 1, name, len);
		s->tag = (uint32_t)(h >> 32);
		s->name_off = (uint32_t)p->alen;
		s->dec = NO_DEC;
		p->alen += 1 + len;
		p->nnames++;
	}
	*out = s;
	return STUB_OK;
}

static enum stub_err
add_dec(struct policy *p, const uint8_t *name, size_t len, enum pol_scope scope, enum pol_kind kind,
    enum pol_action action, uint32_t arg, struct pol_origin o)
{
	uint8_t key[WIRE_NAME_MAX];
	struct slot *s;
	struct dec *d;
	uint32_t i, *link;
	enum stub_err e;

	if (!name || len == 0 || len > WIRE_NAME_MAX)
		return STUB_EINVAL;
	memcpy(key, name, len);
	wire_name_lower(key, len);
	if ((e = name_slot(p, key, len, &s)) != STUB_OK)
		return e;
	link = &s->dec;
	for (i = s->dec; i != NO_DEC; i = p->decs[i].next) {
		d = &p->decs[i];
		/* block/allow repeated (many lists list the same name): keep one */
		if (d->scope == scope && d->kind == kind &&
		    (kind == POL_BLOCK || kind == POL_ALLOW || kind == POL_REQUIRE_ENC ||
		        kind == POL_REQUIRE_AD))
			return STUB_OK;
		link = &d->next;
	}
	if (!grow((void **)&p->decs, &p->dcap, p->ndecs + 1, sizeof(*p->decs)))
		return STUB_ENOMEM;
	d = &p->decs[p->ndecs];
	memset(d, 0, sizeof(*d));
	d->next = NO_DEC;
	d->line = o.line;
	d->src = o.src;
	d->scope = (uint8_t)scope;
	d->kind = (uint8_t)kind;
	d->action = (uint8_t)action;
	d->arg = arg;
	/* keep file order along the chain (answers are served in it) */
	*link = (uint32_t)p->ndecs++;
	return STUB_OK;
}

enum stub_err
policy_add(struct policy *p, const uint8_t *name, size_t len, enum pol_scope scope,
    enum pol_kind kind, enum pol_action action, struct pol_origin origin)
{
	if (kind != POL_BLOCK && kind != POL_ALLOW)
		return STUB_EINVAL;
	return add_dec(p, name, len, scope, kind, action, 0, origin);
}

enum pol_action
policy_action_from_name(const char *s)
{
	if (strcasecmp(s, "nxdomain") == 0)
		return POL_ACT_NXDOMAIN;
	if (strcasecmp(s, "nodata") == 0)
		return POL_ACT_NODATA;
	if (strcasecmp(s, "null") == 0)
		return POL_ACT_NULL;
	return POL_ACT_DEFAULT;
}

const char *
policy_action_name(enum pol_action a)
{
	switch (a) {
	case POL_ACT_NXDOMAIN: return "nxdomain";
	case POL_ACT_NODATA: return "nodata";
	case POL_ACT_NULL: return "null";
	default: return "default";
	}
}

/* Record data from text for `answer TYPE DATA...` (A, AAAA, CNAME, PTR,
 * NS, TXT).  Returns the length, or -1. */
static long
rdata_from_text(uint16_t type, char **w, int n, uint8_t *out, size_t cap)
{
	struct wire_wr wr;
	int i;

	if (n < 1)
		return -1;
	switch (type) {
	case TYPE_A: return n == 1 && cap >= 4 && inet_pton(AF_INET, w[0], out) == 1 ? 4 : -1;
	case TYPE_AAAA: return n == 1 && cap >= 16 && inet_pton(AF_INET6, w[0], out) == 1 ? 16 : -1;
	case TYPE_CNAME:
	case TYPE_PTR:
	case TYPE_NS: {
		uint8_t nm[WIRE_NAME_MAX];
		size_t l = n == 1 ? wire_name_from_text(w[0], nm) : 0;

		if (l == 0 || l > cap)
			return -1;
		memcpy(out, nm, l);
		return (long)l;
	}
	case TYPE_TXT:
		wire_wr_init(&wr, out, cap);
		for (i = 0; i < n; i++) {
			size_t l = strlen(w[i]);
			const char *s = w[i];

			if (l >= 2 && s[0] == '"' && s[l - 1] == '"') {
				s++;
				l -= 2;
			}
			if (l > 255)
				return -1;
			wire_put_u8(&wr, (uint8_t)l);
			wire_put_bytes(&wr, s, l);
		}
		return wr.err ? -1 : (long)wr.len;
	default: return -1;
	}
}

enum stub_err
policy_add_rule(struct policy *p, char **w, int n, struct pol_origin o, char *why, size_t whylen)
{
	uint8_t name[WIRE_NAME_MAX], rd[1024];
	size_t len;
	struct rule *r;
	int i;

	if (n < 2) {
		snprintf(why, whylen, "rule NAME adapter|require|answer|block|allow ...");
		return STUB_EINVAL;
	}
	len = wire_name_from_text(w[0], name);
	if (len == 0 || len == 1) {
		snprintf(why, whylen, "bad rule name '%s'", w[0]);
		return STUB_EINVAL;
	}
	if (strcmp(w[1], "block") == 0) {
		enum pol_action a = POL_ACT_DEFAULT;

		if (n > 3 || (n == 3 && (a = policy_action_from_name(w[2])) == POL_ACT_DEFAULT)) {
			snprintf(why, whylen, "rule NAME block [nxdomain|nodata|null]");
			return STUB_EINVAL;
		}
		return add_dec(p, name, len, POL_SUFFIX, POL_BLOCK, a, 0, o);
	}
	if (strcmp(w[1], "allow") == 0) {
		if (n != 2) {
			snprintf(why, whylen, "rule NAME allow");
			return STUB_EINVAL;
		}
		return add_dec(p, name, len, POL_SUFFIX, POL_ALLOW, POL_ACT_DEFAULT, 0, o);
	}
	if (strcmp(w[1], "require") == 0) {
		if (n == 3 && strcmp(w[2], "encryption") == 0)
			return add_dec(p, name, len, POL_SUFFIX, POL_REQUIRE_ENC, 0, 0, o);
		if (n == 3 && strcmp(w[2], "ad") == 0)
			return add_dec(p, name, len, POL_SUFFIX, POL_REQUIRE_AD, 0, 0, o);
		snprintf(why, whylen, "rule NAME require encryption|ad");
		return STUB_EINVAL;
	}
	if (strcmp(w[1], "adapter") == 0) {
		if (n < 3) {
			snprintf(why, whylen, "rule NAME adapter ADAPTER...");
			return STUB_EINVAL;
		}
		for (i = 2; i < n; i++) {
			enum stub_err e;

			if (!grow((void **)&p->rules, &p->rcap, p->nrules + 1, sizeof(*p->rules)))
				return STUB_ENOMEM;
			r = &p->rules[p->nrules];
			memset(r, 0, sizeof(*r));
			r->adapter = strdup(w[i]);
			if (!r->adapter)
				return STUB_ENOMEM;
			p->nrules++;
			e = add_dec(p, name, len, POL_SUFFIX, POL_ADAPTER, 0,
			    (uint32_t)(p->nrules - 1), o);
			if (e != STUB_OK)
				return e;
		}
		return STUB_OK;
	}
	if (strcmp(w[1], "answer") == 0) {
		uint16_t type = n >= 4 ? wire_type_from_name(w[2]) : 0;
		long l;

		if (type == 0) {
			snprintf(why, whylen, "rule NAME answer TYPE DATA");
			return STUB_EINVAL;
		}
		l = rdata_from_text(type, w + 3, n - 3, rd, sizeof(rd));
		if (l < 0) {
			snprintf(why, whylen, "bad %s data for rule %s", w[2], w[0]);
			return STUB_EINVAL;
		}
		if (!grow((void **)&p->rules, &p->rcap, p->nrules + 1, sizeof(*p->rules)))
			return STUB_ENOMEM;
		r = &p->rules[p->nrules];
		memset(r, 0, sizeof(*r));
		r->type = type;
		r->rdlen = (uint16_t)l;
		r->rdata = malloc((size_t)l ? (size_t)l : 1);
		if (!r->rdata)
			return STUB_ENOMEM;
		memcpy(r->rdata, rd, (size_t)l);
		p->nrules++;
		return add_dec(p, name, len, POL_SUFFIX, POL_ANSWER, 0, (uint32_t)(p->nrules - 1),
		    o);
	}
	snprintf(why, whylen, "unknown rule kind '%s'", w[1]);
	return STUB_EINVAL;
}

/* Rank of a verdict decision at one name: higher wins. */
static int
verdict_rank(const struct dec *d)
{
	int r;

	switch (d->kind) {
	case POL_ALLOW: r = 3; break;
	case POL_ANSWER: r = 2; break;
	case POL_BLOCK: r = 1; break;
	default: return 0;
	}
	/* exact beats suffix, then allow > answer > block */
	return (d->scope == POL_EXACT ? 10 : 0) + r;
}

void
policy_lookup(const struct policy *p, const uint8_t *key, size_t klen, struct pol_match *m)
{
	size_t off = 0;
	bool have_verdict = false, have_adapter = false, have_enc = false, have_ad = false;
	uint64_t hs[WIRE_NAME_MAX / 2 + 1]; /* the suffixes' hashes, longest first */
	size_t nh = 0, k = 0;

	memset(m, 0, sizeof(*m));
	if (!p || !key || klen < 2)
		return;
	/* every suffix's slot asked of memory at once: in a big table each is
	 * a cache miss, and they overlap instead of following each other */
	for (off = 0; off < klen && key[off] != 0 && nh < sizeof(hs) / sizeof(hs[0]);
	     off += 1 + (size_t)key[off]) {
		hs[nh] = stub_name_hash(p->seed, key + off, klen - off);
		__builtin_prefetch(&p->slots[(size_t)hs[nh] & (p->nslots - 1)]);
		nh++;
	}
	off = 0;
	/* the name itself, then each parent, the root excluded */
	while (off < klen && key[off] != 0) {
		const uint8_t *name = key + off;
		size_t len = klen - off;
		uint64_t h = k < nh ? hs[k] : stub_name_hash(p->seed, name, len);
		const struct slot *s = find_slot(p, h, name, len);
		const struct dec *best = NULL;
		uint32_t i;
		int best_rank = 0;
		bool adapters_here = false;

		if (s->name_off != 0) {
			for (i = s->dec; i != NO_DEC; i = p->decs[i].next) {
				const struct dec *d = &p->decs[i];
				int rank;

				if ((d->scope == POL_EXACT && off != 0) ||
				    (d->scope == POL_SUBS && off == 0))
					continue;
				if (d->kind == POL_ALLOW)
					m->under_allow = true;
				if (d->kind == POL_ADAPTER && !have_adapter) {
					if (m->nadapters < POL_MAX_ADAPTERS)
						m->adapters[m->nadapters++] =
						    p->rules[d->arg].adapter;
					if (!adapters_here)
						m->adapter_origin = (struct pol_origin){ d->src,
							d->line };
					adapters_here = true;
				}
				if (d->kind == POL_REQUIRE_ENC && !have_enc) {
					m->require_enc = have_enc = true;
					m->enc_origin = (struct pol_origin){ d->src, d->line };
				}
				if (d->kind == POL_REQUIRE_AD && !have_ad) {
					m->require_ad = have_ad = true;
					m->ad_origin = (struct pol_origin){ d->src, d->line };
				}
				if (have_verdict)
					continue;
				rank = verdict_rank(d);
				if (rank > best_rank) {
					best_rank = rank;
					best = d;
				}
			}
		}
		if (adapters_here)
			have_adapter = true;
		if (best) {
			have_verdict = true;
			m->verdict = (enum pol_kind)best->kind;
			m->origin = (struct pol_origin){ best->src, best->line };
			m->action = best->action == POL_ACT_DEFAULT ? p->def_action :
			                                              (enum pol_action)best->action;
			if (best->kind == POL_ANSWER) {
				/* every answer rule of the same scope at this name */
				for (i = s->dec; i != NO_DEC; i = p->decs[i].next) {
					const struct dec *d = &p->decs[i];

					if (d->kind == POL_ANSWER && d->scope == best->scope &&
					    m->nanswers < POL_MAX_ANSWERS)
						m->answers[m->nanswers++] = d->arg;
				}
			}
		}
		off += 1 + (size_t)key[off];
		k++;
	}
}

const char *
policy_origin_text(const struct policy *p, struct pol_origin o, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u", policy_source_name(p, o.src), (unsigned)o.line);
	return buf;
}

size_t
policy_answer(const struct policy *p, const struct pol_match *m, const struct msg_query *q,
    uint32_t ttl, size_t limit, uint8_t *out, size_t cap)
{
	static const uint8_t zero[16];
	struct msg_rr rrs[POL_MAX_ANSWERS];
	size_t n = 0, i;
	int ede = -1;

	if (m->verdict == POL_BLOCK) {
		ede = MSG_EDE_BLOCKED;
		if (m->action == POL_ACT_NXDOMAIN)
			return msg_synth_ede(q, RCODE_NXDOMAIN, NULL, 0, ttl, ede, limit, out, cap);
		if (m->action == POL_ACT_NULL && q->qclass == CLASS_IN &&
		    (q->qtype == TYPE_A || q->qtype == TYPE_AAAA)) {
			rrs[0].type = q->qtype;
			rrs[0].rdata = zero;
			rrs[0].rdlen = q->qtype == TYPE_A ? 4 : 16;
			n = 1;
		}
	} else if (m->verdict == POL_ANSWER) {
		for (i = 0; i < m->nanswers; i++) {
			const struct rule *r = &p->rules[m->answers[i]];

			if (r->type == TYPE_CNAME && q->qtype != TYPE_CNAME) {
				/* a CNAME answers every type with itself */
				rrs[0].type = r->type;
				rrs[0].rdata = r->rdata;
				rrs[0].rdlen = r->rdlen;
				n = 1;
				break;
			}
			if ((r->type == q->qtype || q->qtype == TYPE_ANY) && n < POL_MAX_ANSWERS) {
				rrs[n].type = r->type;
				rrs[n].rdata = r->rdata;
				rrs[n].rdlen = r->rdlen;
				n++;
			}
		}
	} else {
		return 0;
	}
	return msg_synth_ede(q, RCODE_NOERROR, rrs, n, ttl, ede, limit, out, cap);
}
