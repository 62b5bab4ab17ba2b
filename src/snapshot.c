/*
 * snapshot.c - cache-file.
 *
 * Layout (network byte order):
 *   header  "STUBDCF\n" magic, u32 version, u32 byte-order mark 0x01020304,
 *           u64 settings, u64 network, u64 wall ms written, u64 entries, u64 body
 *           length, u64 checksum of the body (FNV-1a over 8-byte words,
 *           in 64 KB blocks)
 *   entry   u8 key length, key (lower-case wire name), u16 qtype,
 *           u16 qclass, u8 flags (1 = DO), u32 original TTL,
 *           u64 wall ms stored, u64 wall ms of expiry, u8 label length,
 *           label, u16 message length, message (stored form, OPT removed)
 */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
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

	/* the servers with their adapters, in no particular order */
	for (i = 0; i < c->nservers; i++) {
		const char *a = c->adapters[c->servers[i].adapter].name;
		uint64_t one = fnv(fnv(FNV_OFFSET, (const uint8_t *)c->servers[i].text,
		    strlen(c->servers[i].text)), (const uint8_t *)a, strlen(a));

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
	int err;                  /* errno of a failed write */
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

	if (in->namelen > 255 || in->msglen > 65535)
		return 0;
	if (ll > 255)
		ll = 255;
	wire_wr_init(&w, e, sizeof(e));
	wire_put_u8(&w, (uint8_t)in->namelen);
	wire_put_bytes(&w, in->name, in->namelen);
	wire_put_u16(&w, in->qtype);
	wire_put_u16(&w, in->qclass);
	wire_put_u8(&w, in->do_bit ? 1 : 0);
	wire_put_u32(&w, in->original_ttl);
	/* the cache's clock to the wall clock */
	put64(&w, wr->wall - (wr->now - in->stored_ms));
	put64(&w, in->expire_ms >= wr->now ? wr->wall + (in->expire_ms - wr->now) :
	    wr->wall - (wr->now - in->expire_ms));
	wire_put_u8(&w, (uint8_t)ll);
	wire_put_bytes(&w, in->upstream, ll);
	wire_put_u16(&w, (uint16_t)in->msglen);
	wire_put_bytes(&w, in->msg, in->msglen);
	if (w.err)
		return 0;
	/* the body goes out in whole blocks (see fnv) */
	for (off = 0; off < w.len; ) {
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
snapshot_save(const char *path, struct cache *c, uint64_t now, uint64_t wall,
    uint64_t settings, uint64_t network, size_t *count, char *why, size_t whylen)
{
	static struct writer wr;          /* no allocation: 64 KB off the stack */
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

enum stub_err
snapshot_load_buf(const uint8_t *buf, size_t len, struct cache *c, uint64_t now,
    uint64_t wall, uint64_t settings, uint64_t network, uint32_t serve_stale, size_t *loaded,
    char *why, size_t whylen)
{
	struct wire_rd r;
	uint64_t n, body, sum, i;
	bool same_network;
	uint32_t version, bom;
	const uint8_t *magic;

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
	(void)get64(&r);                  /* when written: for people */
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
			h = fnv(h, buf + HDR_LEN + off, body - off < OUT_BUF ? (size_t)(body - off) :
			    OUT_BUF);
		if (h != sum) {
			snprintf(why, whylen, "checksum mismatch");
			return STUB_EFORMAT;
		}
	}
	if (n <= body)
		cache_reserve(c, (size_t)n);  /* no rehash after rehash while loading */
	for (i = 0; i < n; i++) {
		struct msg_query q;
		struct msg_resp resp;
		uint8_t msg[MSG_MAX], flags, ll;
		const uint8_t *key, *label, *m;
		uint64_t stored_w, expire_w, stored, expire;
		uint32_t orig;
		uint16_t mlen, id;
		char lab[256];
		bool stored_ok;

		memset(&q, 0, sizeof(q));
		q.qlen = wire_u8(&r);
		key = wire_bytes(&r, q.qlen);
		q.qtype = wire_u16(&r);
		q.qclass = wire_u16(&r);
		flags = wire_u8(&r);
		orig = wire_u32(&r);
		stored_w = get64(&r);
		expire_w = get64(&r);
		ll = wire_u8(&r);
		label = wire_bytes(&r, ll);
		mlen = wire_u16(&r);
		m = wire_bytes(&r, mlen);
		if (r.err) {
			snprintf(why, whylen, "entry %llu: truncated", (unsigned long long)i);
			return STUB_ESHORT;
		}
		/* the wall clock back to the cache's clock (which never nears 0) */
		expire = expire_w >= wall ? now + (expire_w - wall) : now - (wall - expire_w);
		stored = stored_w >= wall ? now : now - (wall - stored_w);
		if (expire <= now && (now - expire) / 1000 >= serve_stale)
			continue;                 /* expired past serve-stale */
		if (q.qlen == 0 || mlen < WIRE_HDR_LEN)
			continue;
		memcpy(q.key, key, q.qlen);
		memcpy(q.qname, key, q.qlen);
		/* lower-case like every key (msg_store_prepare below checks it is
		 * the well-formed question of the message) */
		{
			size_t k;

			for (k = 0; k < q.qlen && !(q.key[k] >= 'A' && q.key[k] <= 'Z'); k++)
				;
			if (k < q.qlen)
				continue;
		}
		q.do_bit = flags & 1;
		memcpy(msg, m, mlen);
		if (!wire_get16_at(msg, mlen, 0, &id))
			continue;
		/* the same checks as an upstream answer to this question */
		if (msg_store_prepare(msg, mlen, id, q.key, q.qlen, q.qtype, q.qclass, &resp) != 0)
			continue;
		q.nhash = stub_name_hash(cache_seed(c), q.key, q.qlen);
		q.hash = stub_key_hash(q.nhash, q.qtype, q.qclass, q.do_bit);
		memcpy(lab, label, ll);
		lab[ll] = 0;
		if (!same_network && resp.negative)
			continue;
		if (cache_restore(c, &q, msg, &resp, lab, stored, expire, orig, now, &stored_ok) ==
		    STUB_OK && stored_ok)
			(*loaded)++;
	}
	if (wire_left(&r) != 0) {
		snprintf(why, whylen, "trailing bytes");
		return STUB_EFORMAT;
	}
	return STUB_OK;
}

enum stub_err
snapshot_load(const char *path, struct cache *c, uint64_t now, uint64_t wall,
    uint64_t settings, uint64_t network, uint32_t serve_stale, size_t max_bytes,
    size_t *loaded, char *why, size_t whylen)
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
	e = snapshot_load_buf((const uint8_t *)text, len, c, now, wall, settings, network,
	    serve_stale, loaded, why, whylen);
	free(text);
	return e;
}
