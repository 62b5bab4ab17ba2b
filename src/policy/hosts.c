/*
 * hosts.c - hosts-file parsing, lookup and change detection.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "hosts.h"
#include "text.h"
#include "wire.h"

#define MAX_ADDRS_ANSWER 64
#define HOSTS_MAX_WORDS 64 /* address and names on one line */
#define HOSTS_LINE_MAX 4096

struct hname {
	uint64_t hash;
	uint32_t off; /* name in arena */
	uint8_t len;
	int32_t next;                /* hash chain */
	int32_t v4, v6;              /* address chains (index into addrs) */
	uint32_t line, line4, line6; /* first line naming it, giving it A, AAAA */
};

struct haddr {
	uint8_t a[16];
	int32_t next;
};

struct hptr {
	uint64_t hash;
	uint32_t off; /* reverse name in arena */
	uint8_t len;
	int32_t next;
	uint32_t target; /* name (arena offset) */
	uint8_t tlen;
	uint32_t line;
};

struct hosts {
	uint8_t *arena;
	size_t alen, acap;
	struct hname *names;
	size_t nnames, cnames;
	struct haddr *addrs;
	size_t naddrs, caddrs;
	struct hptr *ptrs;
	size_t nptrs, cptrs;
	int32_t *nb; /* name buckets */
	size_t nnb;
	int32_t *pb; /* ptr buckets */
	size_t npb;
	uint64_t seed;
	uint32_t line; /* the line being parsed */
	char *source;  /* the file's name (hosts_set_source) */
};

static int
arena_put(struct hosts *h, const uint8_t *p, size_t n, uint32_t *off)
{
	if (h->acap - h->alen < n) {
		size_t ncap = h->acap ? h->acap * 2 : 65536;
		uint8_t *a;

		while (ncap - h->alen < n)
			ncap *= 2;
		if (ncap > UINT32_MAX)
			return -1;
		a = realloc(h->arena, ncap);
		if (!a)
			return -1;
		h->arena = a;
		h->acap = ncap;
	}
	memcpy(h->arena + h->alen, p, n);
	*off = (uint32_t)h->alen;
	h->alen += n;
	return 0;
}

static int
grow_arr(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	{
		size_t ncap = *cap ? *cap * 2 : 256;
		void *p = realloc(*arr, ncap * size);

		if (!p)
			return -1;
		*arr = p;
		*cap = ncap;
	}
	return 0;
}

static int
rehash(int32_t **b, size_t *nb, size_t n, const void *items, size_t isize, size_t hash_off,
    size_t next_off)
{
	size_t nn = 1, i;
	int32_t *t;

	while (nn < n * 4)
		nn <<= 1; /* load at most 1/2 until the next growth */
	if (nn < 64)
		nn = 64;
	t = malloc(nn * sizeof(*t));
	if (!t)
		return -1;
	for (i = 0; i < nn; i++)
		t[i] = -1;
	for (i = 0; i < n; i++) {
		const uint8_t *it = (const uint8_t *)items + i * isize;
		uint64_t hv;
		int32_t *next = (int32_t *)(void *)(uintptr_t)(it + next_off);

		memcpy(&hv, it + hash_off, sizeof(hv));
		*next = t[hv & (nn - 1)];
		t[hv & (nn - 1)] = (int32_t)i;
	}
	free(*b);
	*b = t;
	*nb = nn;
	return 0;
}

static long
find_name(const struct hosts *h, uint64_t hv, const uint8_t *name, size_t len)
{
	int32_t i;

	if (!h->nnb)
		return -1;
	for (i = h->nb[hv & (h->nnb - 1)]; i >= 0; i = h->names[i].next)
		if (h->names[i].hash == hv && h->names[i].len == len &&
		    memcmp(h->arena + h->names[i].off, name, len) == 0)
			return i;
	return -1;
}

static long
find_ptr(const struct hosts *h, uint64_t hv, const uint8_t *name, size_t len)
{
	int32_t i;

	if (!h->npb)
		return -1;
	for (i = h->pb[hv & (h->npb - 1)]; i >= 0; i = h->ptrs[i].next)
		if (h->ptrs[i].hash == hv && h->ptrs[i].len == len &&
		    memcmp(h->arena + h->ptrs[i].off, name, len) == 0)
			return i;
	return -1;
}

/* Reverse name of an address in wire form, built directly. */
static size_t
reverse_name(int fam, const uint8_t *a, uint8_t out[WIRE_NAME_MAX])
{
	static const char hex[] = "0123456789abcdef";
	static const uint8_t v4[] = { 7, 'i', 'n', '-', 'a', 'd', 'd', 'r', 4, 'a', 'r', 'p', 'a',
		0 };
	static const uint8_t v6[] = { 3, 'i', 'p', '6', 4, 'a', 'r', 'p', 'a', 0 };
	size_t o = 0;
	int i;

	if (fam == AF_INET) {
		for (i = 3; i >= 0; i--) {
			uint8_t v = a[i];
			size_t start = o++;

			if (v >= 100)
				out[o++] = (uint8_t)('0' + v / 100);
			if (v >= 10)
				out[o++] = (uint8_t)('0' + v / 10 % 10);
			out[o++] = (uint8_t)('0' + v % 10);
			out[start] = (uint8_t)(o - start - 1);
		}
		memcpy(out + o, v4, sizeof(v4));
		return o + sizeof(v4);
	}
	for (i = 15; i >= 0; i--) {
		out[o++] = 1;
		out[o++] = (uint8_t)hex[a[i] & 0xf];
		out[o++] = 1;
		out[o++] = (uint8_t)hex[a[i] >> 4];
	}
	memcpy(out + o, v6, sizeof(v6));
	return o + sizeof(v6);
}

static int
add_addr(struct hosts *h, long ni, int fam, const uint8_t *a)
{
	int32_t *head = fam == AF_INET ? &h->names[ni].v4 : &h->names[ni].v6;
	uint32_t *line = fam == AF_INET ? &h->names[ni].line4 : &h->names[ni].line6;
	size_t alen = fam == AF_INET ? 4 : 16;
	int32_t i;

	if (*line == 0)
		*line = h->line;
	for (i = *head; i >= 0; i = h->addrs[i].next)
		if (memcmp(h->addrs[i].a, a, alen) == 0)
			return 0; /* duplicate */
	if (grow_arr((void **)&h->addrs, &h->caddrs, h->naddrs, sizeof(*h->addrs)))
		return -1;
	memset(h->addrs[h->naddrs].a, 0, 16);
	memcpy(h->addrs[h->naddrs].a, a, alen);
	/* append to keep file order */
	h->addrs[h->naddrs].next = -1;
	if (*head < 0) {
		*head = (int32_t)h->naddrs;
	} else {
		for (i = *head; h->addrs[i].next >= 0; i = h->addrs[i].next)
			;
		h->addrs[i].next = (int32_t)h->naddrs;
	}
	h->naddrs++;
	return 0;
}

static long
add_name(struct hosts *h, const uint8_t *name, size_t len)
{
	uint64_t hv = stub_name_hash(h->seed, name, len);
	long i = find_name(h, hv, name, len);
	struct hname *n;

	if (i >= 0)
		return i;
	if (grow_arr((void **)&h->names, &h->cnames, h->nnames, sizeof(*h->names)))
		return -1;
	n = &h->names[h->nnames];
	n->hash = hv;
	n->len = (uint8_t)len;
	n->v4 = n->v6 = -1;
	n->line = h->line;
	n->line4 = n->line6 = 0;
	if (arena_put(h, name, len, &n->off))
		return -1;
	h->nnames++;
	if (h->nnames * 2 > h->nnb) {
		if (rehash(&h->nb, &h->nnb, h->nnames, h->names, sizeof(*h->names),
		        offsetof(struct hname, hash), offsetof(struct hname, next)))
			return -1;
	} else {
		n->next = h->nb[hv & (h->nnb - 1)];
		h->nb[hv & (h->nnb - 1)] = (int32_t)(h->nnames - 1);
	}
	return (long)(h->nnames - 1);
}

static int
add_ptr(struct hosts *h, int fam, const uint8_t *a, long ni)
{
	uint8_t rn[WIRE_NAME_MAX];
	size_t rl = reverse_name(fam, a, rn);
	uint64_t hv;
	struct hptr *p;

	if (rl == 0)
		return -1;
	hv = stub_name_hash(h->seed, rn, rl);
	if (find_ptr(h, hv, rn, rl) >= 0)
		return 0; /* the first line listing an address wins */
	if (grow_arr((void **)&h->ptrs, &h->cptrs, h->nptrs, sizeof(*h->ptrs)))
		return -1;
	p = &h->ptrs[h->nptrs];
	p->hash = hv;
	p->len = (uint8_t)rl;
	p->target = h->names[ni].off;
	p->tlen = h->names[ni].len;
	p->line = h->line;
	if (arena_put(h, rn, rl, &p->off))
		return -1;
	h->nptrs++;
	if (h->nptrs * 2 > h->npb) {
		if (rehash(&h->pb, &h->npb, h->nptrs, h->ptrs, sizeof(*h->ptrs),
		        offsetof(struct hptr, hash), offsetof(struct hptr, next)))
			return -1;
	} else {
		p->next = h->pb[hv & (h->npb - 1)];
		h->pb[hv & (h->npb - 1)] = (int32_t)(h->nptrs - 1);
	}
	return 0;
}

/* returns 0 ok, 1 bad line (msg set), -1 OOM */
static int
parse_line(struct hosts *h, char *line, const char **msg)
{
	char *w[HOSTS_MAX_WORDS];
	int n, i, fam;
	uint8_t a[16];
	char *pct;
	long first = -1;

	n = text_words(line, w, HOSTS_MAX_WORDS, true);
	if (n < 0) {
		*msg = "too many names";
		return 1;
	}
	if (n == 0)
		return 0;
	pct = strchr(w[0], '%');
	if (pct)
		*pct = 0; /* fe80::1%eth0: scope dropped */
	if (inet_pton(AF_INET, w[0], a) == 1) {
		fam = AF_INET;
	} else if (inet_pton(AF_INET6, w[0], a) == 1) {
		fam = AF_INET6;
	} else {
		*msg = "bad address";
		return 1;
	}
	if (n < 2) {
		*msg = "address without a name";
		return 1;
	}
	for (i = 1; i < n; i++) {
		uint8_t name[WIRE_NAME_MAX];
		size_t len = wire_name_from_text(w[i], name);
		long ni;

		if (len <= 1) {
			*msg = "bad name";
			return 1;
		}
		wire_name_lower(name, len);
		ni = add_name(h, name, len);
		if (ni < 0 || add_addr(h, ni, fam, a))
			return -1;
		if (first < 0)
			first = ni;
	}
	if (add_ptr(h, fam, a, first) < 0)
		return -1;
	return 0;
}

struct hosts *
hosts_parse(const char *text, size_t len, uint64_t seed, hosts_err_cb err, void *arg)
{
	struct hosts *h = calloc(1, sizeof(*h));
	struct text_lines it;
	enum text_line t;
	char buf[HOSTS_LINE_MAX];

	if (!h)
		return NULL;
	h->seed = seed;
	text_lines_init(&it, text, len);
	while ((t = text_next_line(&it, buf, sizeof(buf))) != TEXT_LINE_END) {
		const char *msg = NULL;
		int rc;

		if (t != TEXT_LINE_OK) {
			if (err)
				err(arg, it.lineno,
				    t == TEXT_LINE_LONG ? "line too long" : "NUL byte");
			continue;
		}
		h->line = it.lineno;
		rc = parse_line(h, buf, &msg);
		if (rc < 0) {
			hosts_free(h);
			return NULL;
		}
		if (rc > 0 && err)
			err(arg, it.lineno, msg);
	}
	return h;
}

void
hosts_free(struct hosts *h)
{
	if (!h)
		return;
	free(h->source);
	free(h->arena);
	free(h->names);
	free(h->addrs);
	free(h->ptrs);
	free(h->nb);
	free(h->pb);
	free(h);
}

size_t
hosts_names(const struct hosts *h)
{
	return h ? h->nnames : 0;
}

size_t
hosts_ptrs(const struct hosts *h)
{
	return h ? h->nptrs : 0;
}

size_t
hosts_answer(const struct hosts *h, const struct msg_query *q, uint32_t ttl, size_t limit,
    uint8_t *out, size_t cap)
{
	struct msg_rr rrs[MAX_ADDRS_ANSWER];
	size_t n = 0;

	if (!h || !q || q->qclass != CLASS_IN)
		return 0;
	if (q->qtype == TYPE_A || q->qtype == TYPE_AAAA) {
		long ni = find_name(h, q->nhash, q->key, q->qlen);
		int32_t i;

		if (ni < 0)
			return 0;
		i = q->qtype == TYPE_A ? h->names[ni].v4 : h->names[ni].v6;
		for (; i >= 0 && n < MAX_ADDRS_ANSWER; i = h->addrs[i].next) {
			rrs[n].type = q->qtype;
			rrs[n].rdata = h->addrs[i].a;
			rrs[n].rdlen = q->qtype == TYPE_A ? 4 : 16;
			n++;
		}
		return msg_synth(q, rrs, n, ttl, limit, out, cap);
	}
	if (q->qtype == TYPE_PTR) {
		long pi = find_ptr(h, q->nhash, q->key, q->qlen);

		if (pi < 0)
			return 0;
		rrs[0].type = TYPE_PTR;
		rrs[0].rdata = h->arena + h->ptrs[pi].target;
		rrs[0].rdlen = h->ptrs[pi].tlen;
		return msg_synth(q, rrs, 1, ttl, limit, out, cap);
	}
	return 0;
}

unsigned
hosts_line(const struct hosts *h, const struct msg_query *q)
{
	long i;

	if (!h || !q || q->qclass != CLASS_IN)
		return 0;
	if (q->qtype == TYPE_PTR && (i = find_ptr(h, q->nhash, q->key, q->qlen)) >= 0)
		return h->ptrs[i].line;
	if ((i = find_name(h, q->nhash, q->key, q->qlen)) < 0)
		return 0;
	if (q->qtype == TYPE_A && h->names[i].line4)
		return h->names[i].line4;
	if (q->qtype == TYPE_AAAA && h->names[i].line6)
		return h->names[i].line6;
	return h->names[i].line;
}

enum stub_err
hosts_set_source(struct hosts *h, const char *name)
{
	char *c = name ? strdup(name) : NULL;

	if (!h || (name && !c)) {
		free(c);
		return STUB_ENOMEM;
	}
	free(h->source);
	h->source = c;
	return STUB_OK;
}

const char *
hosts_source(const struct hosts *h)
{
	return h && h->source ? h->source : "hosts";
}

bool
hosts_has_name(const struct hosts *h, const struct msg_query *q)
{
	return h && q && find_name(h, q->nhash, q->key, q->qlen) >= 0;
}

size_t
hosts_foreach_from(const struct hosts *h, size_t unit, size_t max_units,
    int (*cb)(const struct hosts_rec *r, void *arg), void *arg)
{
	size_t done = 0;

	if (!h)
		return HOSTS_END;
	for (; unit < h->nnames && done < max_units; unit++, done++) {
		const struct hname *n = &h->names[unit];
		int fam;

		for (fam = 0; fam < 2; fam++) {
			int32_t a = fam == 0 ? n->v4 : n->v6;

			for (; a >= 0; a = h->addrs[a].next) {
				struct hosts_rec r = {
					h->arena + n->off,
					n->len,
					fam == 0 ? TYPE_A : TYPE_AAAA,
					h->addrs[a].a,
					fam == 0 ? 4 : 16,
				};

				if (cb(&r, arg))
					return HOSTS_END;
			}
		}
	}
	for (; unit >= h->nnames && unit < h->nnames + h->nptrs && done < max_units;
	     unit++, done++) {
		const struct hptr *p = &h->ptrs[unit - h->nnames];
		struct hosts_rec r = {
			h->arena + p->off,
			p->len,
			TYPE_PTR,
			h->arena + p->target,
			p->tlen,
		};

		if (cb(&r, arg))
			return HOSTS_END;
	}
	return unit < h->nnames + h->nptrs ? unit : HOSTS_END;
}

void
hosts_foreach(const struct hosts *h, int (*cb)(const struct hosts_rec *r, void *arg), void *arg)
{
	hosts_foreach_from(h, 0, HOSTS_END, cb, arg);
}

void
hosts_file_sig(const char *path, struct hosts_sig *sig)
{
	struct stat st;

	memset(sig, 0, sizeof(*sig));
	if (!path || stat(path, &st) != 0)
		return;
	sig->exists = true;
	sig->dev = st.st_dev;
	sig->ino = st.st_ino;
	sig->size = st.st_size;
	sig->mtime = st.st_mtim;
	sig->ctime = st.st_ctim;
}

bool
hosts_sig_equal(const struct hosts_sig *a, const struct hosts_sig *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	    a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec;
}
