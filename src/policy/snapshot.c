/*
 * snapshot.c - cache-file.
 *
 * Layout (network byte order):
 *   header  "STUBDCF\n" magic, u32 version, u32 byte-order mark 0x01020304,
 *           u64 settings, u64 network, u64 wall ms written, u64 entries, u64 body
 *           length, u64 checksum of the body (FNV-1a over 8-byte words,
 *           in 64 KB blocks)
 *   entry   u8 key length, key (lower-case wire name), u16 qtype,
 *           u16 qclass, u8 flags (1 = DO, 2 = CD, 4 = from an authenticated
 *           encrypted server, 8 = from a server trusted for AD: SPEC 18;
 *           other bits ignored), u32 original TTL,
 *           u64 wall ms stored, u64 wall ms of expiry, u8 label length,
 *           label, u16 message length, message (stored form, OPT removed)
 * Answers that belong to one interface (cache_insert_scoped) are left out.
 */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "hash.h"
#include "msg.h"
#include "snapshot.h"
#include "wire.h"

#define MAGIC "STUBDCF\n"
#define BOM 0x01020304u
#define HDR_LEN (8 + 4 + 4 + 8 * 6)
#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME 1099511628211ull
#define OUT_BUF 65536
#define ENTRY_MAX (1 + 255 + 2 + 2 + 1 + 4 + 8 + 8 + 1 + 255 + 2 + 65535)

uint64_t
snapshot_settings(const struct cache_cfg *cc)
{
	uint32_t v[4] = { cc->min_ttl, cc->max_ttl, cc->max_negative_ttl, cc->negative_ttl };
	uint64_t h = FNV_OFFSET ^ SNAPSHOT_VERSION;
	size_t i;

	for (i = 0; i < sizeof(v); i++)
		h = (h ^ ((const uint8_t *)v)[i]) * FNV_PRIME;
	return h;
}

/* FNV-1a over 8-byte words (then the tail bytes): a checksum against
 * damage, eight times faster than bytewise over a 100 MB file.  Both sides
 * feed the body in blocks of OUT_BUF bytes, so their words line up. */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n);

uint64_t
snapshot_network(const struct cfg *c)
{
	uint64_t h = FNV_OFFSET, sum = 0;
	size_t i;

	/* the servers as displaydns names them (transport, address, port, TLS
	 * name, URL path) with their adapters and whether their AD bit is
	 * trusted, in no particular order */
	for (i = 0; i < c->nservers; i++) {
		const struct cfg_server *s = &c->servers[i];
		const char *a = c->adapters[s->adapter].name;
		char url[CFG_URL_MAX];
		uint8_t trust = cfg_server_trusts_ad(s);
		uint64_t one;

		cfg_server_url(s, url, sizeof(url));
		one = fnv(fnv(fnv(FNV_OFFSET, (const uint8_t *)url, strlen(url)),
		              (const uint8_t *)a, strlen(a)),
		    &trust, 1);
		sum += one;
	}
	return fnv(h, (const uint8_t *)&sum, sizeof(sum)) ^ c->nservers;
}

static uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * FNV_PRIME;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

static void
put64(struct wire_wr *w, uint64_t v)
{
	wire_put_u32(w, (uint32_t)(v >> 32));
	wire_put_u32(w, (uint32_t)v);
}

static uint64_t
get64(struct wire_rd *r)
{
	uint64_t hi = wire_u32(r);

	return hi << 32 | wire_u32(r);
}

/* ---------------- writing ---------------- */

struct writer {
	int fd;
	uint8_t buf[OUT_BUF];
	size_t len;
	uint64_t sum, body, count;
	uint64_t now, wall;
	int err; /* errno of a failed write */
};

static void
flush_out(struct writer *wr)
{
	size_t off = 0;

	wr->sum = fnv(wr->sum, wr->buf, wr->len);

	while (!wr->err && off < wr->len) {
		ssize_t n = write(wr->fd, wr->buf + off, wr->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			wr->err = n < 0 ? errno : EIO;
			break;
		}
		off += (size_t)n;
	}
	wr->len = 0;
}

static int
write_entry(const struct cache_info *in, void *arg)
{
	struct writer *wr = arg;
	uint8_t e[ENTRY_MAX];
	struct wire_wr w;
	size_t ll = strlen(in->upstream), off;

	/* an answer tied to an interface (mDNS, a link-local scope) is not
	 * written: an interface index names an interface only until it goes,
	 * and such answers live seconds (SPEC 19) */
	if (in->namelen > 255 || in->msglen > 65535 || in->ifindex)
		return 0;
	if (ll > 255)
		ll = 255;
	wire_wr_init(&w, e, sizeof(e));
	wire_put_u8(&w, (uint8_t)in->namelen);
	wire_put_bytes(&w, in->name, in->namelen);
	wire_put_u16(&w, in->qtype);
	wire_put_u16(&w, in->qclass);
	wire_put_u8(&w,
	    (uint8_t)((in->do_bit ? 1 : 0) | (in->cd_bit ? 2 : 0) |
	        ((in->via & CACHE_VIA_ENC) ? 4 : 0) | ((in->via & CACHE_VIA_AD) ? 8 : 0)));
	wire_put_u32(&w, in->original_ttl);
	/* the cache's clock to the wall clock */
	put64(&w, wr->wall - (wr->now - in->stored_ms));
	put64(&w,
	    in->expire_ms >= wr->now ? wr->wall + (in->expire_ms - wr->now) :
	                               wr->wall - (wr->now - in->expire_ms));
	wire_put_u8(&w, (uint8_t)ll);
	wire_put_bytes(&w, in->upstream, ll);
	wire_put_u16(&w, (uint16_t)in->msglen);
	wire_put_bytes(&w, in->msg, in->msglen);
	if (w.err)
		return 0;
	/* the body goes out in whole blocks (see fnv) */
	for (off = 0; off < w.len;) {
		size_t k = w.len - off < sizeof(wr->buf) - wr->len ? w.len - off :
		                                                     sizeof(wr->buf) - wr->len;

		memcpy(wr->buf + wr->len, e + off, k);
		wr->len += k;
		off += k;
		if (wr->len == sizeof(wr->buf))
			flush_out(wr);
	}
	wr->body += w.len;
	wr->count++;
	return wr->err ? 1 : 0;
}

static void
header(uint8_t *h, const struct writer *wr, uint64_t settings, uint64_t network)
{
	struct wire_wr w;

	wire_wr_init(&w, h, HDR_LEN);
	wire_put_bytes(&w, MAGIC, 8);
	wire_put_u32(&w, SNAPSHOT_VERSION);
	wire_put_u32(&w, BOM);
	put64(&w, settings);
	put64(&w, network);
	put64(&w, wr->wall);
	put64(&w, wr->count);
	put64(&w, wr->body);
	put64(&w, wr->sum);
}

enum stub_err
snapshot_save(const char *path, struct cache *c, uint64_t now, uint64_t wall, uint64_t settings,
    uint64_t network, size_t *count, char *why, size_t whylen)
{
	static struct writer wr; /* no allocation: 64 KB off the stack */
	char tmp[4096];
	uint8_t h[HDR_LEN];

	*count = 0;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(why, whylen, "%s: path too long", path);
		return STUB_EINVAL;
	}
	memset(&wr, 0, sizeof(wr));
	wr.sum = FNV_OFFSET;
	wr.now = now;
	wr.wall = wall;
	wr.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (wr.fd < 0) {
		snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
		return STUB_EIO;
	}
	memset(h, 0, sizeof(h));
	/* the header goes in last, when the body's length and sum are known */
	if (write(wr.fd, h, sizeof(h)) != (ssize_t)sizeof(h))
		wr.err = errno ? errno : EIO;
	cache_foreach(c, now, write_entry, &wr);
	flush_out(&wr);
	header(h, &wr, settings, network);
	if (!wr.err && pwrite(wr.fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		wr.err = errno ? errno : EIO;
	if (!wr.err && fsync(wr.fd) != 0)
		wr.err = errno;
	if (close(wr.fd) != 0 && !wr.err)
		wr.err = errno;
	if (!wr.err && rename(tmp, path) != 0)
		wr.err = errno;
	if (wr.err) {
		snprintf(why, whylen, "%s: %s", path, strerror(wr.err));
		unlink(tmp);
		return STUB_EIO;
	}
	*count = (size_t)wr.count;
	return STUB_OK;
}

/* ---------------- reading ---------------- */

/*
 * Entries are read in chunks: one thread parses them and puts each answer
 * through msg_store_prepare (in place, in the file's buffer), the other
 * puts the chunk before into the cache, so a large file takes the longer
 * of the two, not their sum.  Small files are read the same way in one
 * thread.
 */
#define LOAD_CHUNK 4096              /* entries per chunk */
#define LOAD_TTLS (4 * MSG_MAX_TTLS) /* TTL offsets per chunk */
#define LOAD_THREAD_MIN 20000        /* entries worth a second thread */

/* One entry parsed and checked, ready for cache_restore. */
struct ready {
	const uint8_t *key;
	const char *label;
	uint8_t *msg; /* prepared in place */
	uint64_t stored, expire, nhash, hash;
	uint32_t orig;
	uint16_t qtype, qclass;
	uint8_t qlen, ll;
	bool do_bit, cd_bit;
	unsigned via;                                     /* CACHE_VIA_* */
	size_t ttl_at;                                    /* its TTL offsets in the chunk */
	uint8_t head[offsetof(struct msg_resp, ttl_off)]; /* msg_resp before the arrays */
};

struct chunk {
	size_t n, nt;
	bool last;
	struct ready e[LOAD_CHUNK];
	uint16_t ttl_off[LOAD_TTLS];
	uint8_t ttl_sect[LOAD_TTLS];
};

struct loader {
	struct wire_rd r;
	uint64_t n, i; /* entries in the file, read so far */
	uint64_t now, wall, seed;
	uint32_t serve_stale;
	bool same_network;
	enum stub_err err;
	char why[128];
	struct msg_resp resp;  /* the filling thread's msg_store_prepare */
	struct msg_resp iresp; /* the inserting thread's cache_restore */
	struct chunk ch[2];
	bool full[2]; /* ch[k] waits to be put in the cache */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* Parse and check entries into ch until it is full or the file ends. */
static void
fill_chunk(struct loader *L, struct chunk *ch)
{
	struct wire_rd *r = &L->r;

	ch->n = ch->nt = 0;
	ch->last = false;
	while (L->i < L->n && ch->n < LOAD_CHUNK && ch->nt + MSG_MAX_TTLS <= LOAD_TTLS) {
		struct ready *e = &ch->e[ch->n];
		struct msg_resp *resp = &L->resp;
		uint64_t stored_w, expire_w;
		uint8_t flags;
		uint16_t mlen, id;
		size_t k, nt;

		L->i++;
		e->qlen = wire_u8(r);
		e->key = wire_bytes(r, e->qlen);
		e->qtype = wire_u16(r);
		e->qclass = wire_u16(r);
		flags = wire_u8(r);
		e->orig = wire_u32(r);
		stored_w = get64(r);
		expire_w = get64(r);
		e->ll = wire_u8(r);
		e->label = (const char *)wire_bytes(r, e->ll);
		mlen = wire_u16(r);
		/* the file's own buffer: prepared in place below */
		e->msg = (uint8_t *)(uintptr_t)wire_bytes(r, mlen);
		if (r->err) {
			snprintf(L->why, sizeof(L->why), "entry %llu: truncated",
			    (unsigned long long)(L->i - 1));
			L->err = STUB_ESHORT;
			ch->last = true;
			return;
		}
		/* the wall clock back to the cache's clock (which never nears 0) */
		e->expire = expire_w >= L->wall ? L->now + (expire_w - L->wall) :
		                                  L->now - (L->wall - expire_w);
		e->stored = stored_w >= L->wall ? L->now : L->now - (L->wall - stored_w);
		if (e->expire <= L->now && (L->now - e->expire) / 1000 >= L->serve_stale)
			continue; /* expired past serve-stale */
		if (e->qlen == 0 || mlen < WIRE_HDR_LEN)
			continue;
		/* keys are lower-case (msg_store_prepare below checks it is the
		 * well-formed question of the message) */
		for (k = 0; k < e->qlen && !(e->key[k] >= 'A' && e->key[k] <= 'Z'); k++)
			;
		if (k < e->qlen)
			continue;
		e->do_bit = flags & 1;
		e->cd_bit = (flags & 2) != 0;
		e->via = ((flags & 4) ? CACHE_VIA_ENC : 0) | ((flags & 8) ? CACHE_VIA_AD : 0);
		if (!wire_get16_at(e->msg, mlen, 0, &id))
			continue;
		/* the same checks as an upstream answer to this question */
		if (msg_store_prepare(e->msg, mlen, id, e->key, e->qlen, e->qtype, e->qclass,
		        resp) != STUB_OK)
			continue;
		/* learned from other servers: negative answers do not hold, and
		 * an AD bit may come from a server no longer trusted for it */
		if (!L->same_network && resp->negative)
			continue;
		if (!L->same_network) {
			msg_distrust_ad(e->msg, mlen);
			e->via &= ~CACHE_VIA_AD;
		}
		nt = resp->nttl < MSG_MAX_TTLS ? resp->nttl : MSG_MAX_TTLS;
		e->ttl_at = ch->nt;
		memcpy(ch->ttl_off + ch->nt, resp->ttl_off, nt * sizeof(resp->ttl_off[0]));
		memcpy(ch->ttl_sect + ch->nt, resp->ttl_sect, nt);
		ch->nt += nt;
		memcpy(e->head, resp, sizeof(e->head));
		e->nhash = stub_name_hash(L->seed, e->key, e->qlen);
		e->hash = stub_key_hash(e->nhash, e->qtype, e->qclass, e->do_bit, e->cd_bit);
		ch->n++;
	}
	if (L->i == L->n) {
		ch->last = true;
		if (wire_left(r) != 0) {
			snprintf(L->why, sizeof(L->why), "trailing bytes");
			L->err = STUB_EFORMAT;
		}
	}
}

/* Put a chunk's entries in the cache. */
static void
insert_chunk(struct loader *L, struct chunk *ch, struct cache *c, size_t *loaded)
{
	struct msg_resp *resp = &L->iresp;
	struct msg_query q;
	size_t i;

	for (i = 0; i < ch->n; i++) {
		const struct ready *e = &ch->e[i];
		char lab[256];
		bool ok = false;
		size_t nt;

		memcpy(resp, e->head, sizeof(e->head));
		nt = resp->nttl < MSG_MAX_TTLS ? resp->nttl : MSG_MAX_TTLS;
		memcpy(resp->ttl_off, ch->ttl_off + e->ttl_at, nt * sizeof(resp->ttl_off[0]));
		memcpy(resp->ttl_sect, ch->ttl_sect + e->ttl_at, nt);
		q.qlen = e->qlen;
		memcpy(q.key, e->key, e->qlen);
		memcpy(q.qname, e->key, e->qlen);
		q.qtype = e->qtype;
		q.qclass = e->qclass;
		q.do_bit = e->do_bit;
		q.cd_bit = e->cd_bit;
		q.flags = e->cd_bit ? WIRE_CD : 0;
		q.edns = false;
		q.nhash = e->nhash;
		q.hash = e->hash;
		memcpy(lab, e->label, e->ll);
		lab[e->ll] = 0;
		if (cache_restore(c, &q, e->msg, resp, lab, e->via, e->stored, e->expire, e->orig,
		        L->now, &ok) == STUB_OK &&
		    ok)
			(*loaded)++;
	}
}

/* the second thread: fill chunks, alternately, as the other empties them */
static void *
filler(void *arg)
{
	struct loader *L = arg;
	struct chunk *ch;
	int k = 0;

	for (;;) {
		pthread_mutex_lock(&L->mu);
		while (L->full[k])
			pthread_cond_wait(&L->cv, &L->mu);
		pthread_mutex_unlock(&L->mu);
		ch = &L->ch[k];
		fill_chunk(L, ch);
		pthread_mutex_lock(&L->mu);
		L->full[k] = true;
		pthread_cond_broadcast(&L->cv);
		pthread_mutex_unlock(&L->mu);
		if (ch->last)
			return NULL;
		k ^= 1;
	}
}

/* Every entry from the cursor on into c; the loader's err says how it went. */
static void
load_entries(struct loader *L, struct cache *c, size_t *loaded)
{
	pthread_t th;
	int k = 0;

	if (L->n < LOAD_THREAD_MIN || pthread_mutex_init(&L->mu, NULL) != 0) {
		do {
			fill_chunk(L, &L->ch[0]);
			insert_chunk(L, &L->ch[0], c, loaded);
		} while (!L->ch[0].last);
		return;
	}
	pthread_cond_init(&L->cv, NULL);
	if (pthread_create(&th, NULL, filler, L) != 0) {
		pthread_cond_destroy(&L->cv);
		pthread_mutex_destroy(&L->mu);
		do {
			fill_chunk(L, &L->ch[0]);
			insert_chunk(L, &L->ch[0], c, loaded);
		} while (!L->ch[0].last);
		return;
	}
	for (;;) {
		struct chunk *ch = &L->ch[k];
		bool last;

		pthread_mutex_lock(&L->mu);
		while (!L->full[k])
			pthread_cond_wait(&L->cv, &L->mu);
		pthread_mutex_unlock(&L->mu);
		insert_chunk(L, ch, c, loaded);
		last = ch->last;
		pthread_mutex_lock(&L->mu);
		L->full[k] = false;
		pthread_cond_broadcast(&L->cv);
		pthread_mutex_unlock(&L->mu);
		if (last)
			break;
		k ^= 1;
	}
	pthread_join(th, NULL);
	pthread_cond_destroy(&L->cv);
	pthread_mutex_destroy(&L->mu);
}

/* The file's contents (modified in place) into c. */
static enum stub_err
load_buf(uint8_t *buf, size_t len, struct cache *c, uint64_t now, uint64_t wall, uint64_t settings,
    uint64_t network, uint32_t serve_stale, size_t *loaded, char *why, size_t whylen)
{
	struct wire_rd r;
	uint64_t n, body, sum;
	bool same_network;
	uint32_t version, bom;
	const uint8_t *magic;
	struct loader *L;
	enum stub_err e;

	*loaded = 0;
	wire_rd_init(&r, buf, len);
	magic = wire_bytes(&r, 8);
	version = wire_u32(&r);
	bom = wire_u32(&r);
	if (r.err || memcmp(magic, MAGIC, 8) != 0) {
		snprintf(why, whylen, "not a stubd cache file");
		return STUB_EFORMAT;
	}
	if (bom != BOM) {
		snprintf(why, whylen, "written with another byte order");
		return STUB_EFORMAT;
	}
	if (version != SNAPSHOT_VERSION) {
		snprintf(why, whylen, "version %u, not %u", version, SNAPSHOT_VERSION);
		return STUB_EFORMAT;
	}
	if (get64(&r) != settings) {
		snprintf(why, whylen, "written under other TTL settings");
		return STUB_EFORMAT;
	}
	/* learned on another network: the negative answers do not hold */
	same_network = get64(&r) == network;
	(void)get64(&r); /* when written: for people */
	n = get64(&r);
	body = get64(&r);
	sum = get64(&r);
	if (r.err || body != wire_left(&r)) {
		snprintf(why, whylen, "truncated or overlong");
		return STUB_ESHORT;
	}
	{
		uint64_t h = FNV_OFFSET, off;

		for (off = 0; off < body; off += OUT_BUF)
			h = fnv(h, buf + HDR_LEN + off,
			    body - off < OUT_BUF ? (size_t)(body - off) : OUT_BUF);
		if (h != sum) {
			snprintf(why, whylen, "checksum mismatch");
			return STUB_EFORMAT;
		}
	}
	/* an entry takes at least 37 bytes: a count beyond that is a lie */
	if (n > body / 37) {
		snprintf(why, whylen, "%llu entries cannot fit %llu bytes", (unsigned long long)n,
		    (unsigned long long)body);
		return STUB_EFORMAT;
	}
	cache_reserve(c, (size_t)n); /* no rehash after rehash while loading */
	L = calloc(1, sizeof(*L));
	if (!L) {
		snprintf(why, whylen, "out of memory");
		return STUB_ENOMEM;
	}
	L->r = r;
	L->n = n;
	L->now = now;
	L->wall = wall;
	L->seed = cache_seed(c);
	L->serve_stale = serve_stale;
	L->same_network = same_network;
	load_entries(L, c, loaded);
	e = L->err;
	if (e != STUB_OK)
		snprintf(why, whylen, "%s", L->why);
	free(L);
	return e;
}

enum stub_err
snapshot_load_buf(const uint8_t *buf, size_t len, struct cache *c, uint64_t now, uint64_t wall,
    uint64_t settings, uint64_t network, uint32_t serve_stale, size_t *loaded, char *why,
    size_t whylen)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum stub_err e;

	*loaded = 0;
	if (!copy) {
		snprintf(why, whylen, "out of memory");
		return STUB_ENOMEM;
	}
	memcpy(copy, buf, len);
	e = load_buf(copy, len, c, now, wall, settings, network, serve_stale, loaded, why, whylen);
	free(copy);
	return e;
}

enum stub_err
snapshot_load(const char *path, struct cache *c, uint64_t now, uint64_t wall, uint64_t settings,
    uint64_t network, uint32_t serve_stale, size_t max_bytes, size_t *loaded, char *why,
    size_t whylen)
{
	struct stat st;
	char *text;
	size_t len;
	enum stub_err e;

	*loaded = 0;
	if (stat(path, &st) != 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? STUB_ENOTFOUND : STUB_EIO;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		snprintf(why, whylen, "%s: %lld bytes, more than the cache may hold", path,
		    (long long)st.st_size);
		return STUB_EFORMAT;
	}
	if (file_read(path, &text, &len) != 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return STUB_EIO;
	}
	e = load_buf((uint8_t *)text, len, c, now, wall, settings, network, serve_stale, loaded,
	    why, whylen);
	free(text);
	return e;
}
