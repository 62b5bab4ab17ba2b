/*
 * snapshot.h - the cache kept across restarts (SPEC 14, cache-file): a
 * versioned, checksummed file of the cache's entries with their absolute
 * expiry, written whole or not at all, read back through the same
 * bounds-checked parsers as any upstream message.
 *
 * File I/O only (no event loop).  Times: `now` on the cache's clock (ms)
 * and `wall` (ms since 1970) at the same instant.
 */
#ifndef STUBD_SNAPSHOT_H
#define STUBD_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "err.h"

#define SNAPSHOT_VERSION \
	3 /* 2: a stored AD bit means "trusted for AD";
				* 3: the CD bit is part of the key (flags bit 2) */

/* What the stored lifetimes depend on: a file written under other
 * settings is not trusted. */
uint64_t snapshot_settings(const struct cache_cfg *cc);
/* Which network the answers were learnt on (the upstream servers and
 * their adapters): loaded on another one, negative answers are dropped
 * as on any network change. */
uint64_t snapshot_network(const struct cfg *c);

/*
 * Write the cache to path: a temporary file beside it, fsync, rename;
 * mode 0600.  Allocates nothing (safe in a forked child).  *count gets the
 * number of entries written.
 */
enum stub_err snapshot_save(const char *path, struct cache *c, uint64_t now, uint64_t wall,
    uint64_t settings, uint64_t network, size_t *count, char *why, size_t whylen);

/*
 * Read a snapshot into c: entries still fresh keep their remaining TTL,
 * expired ones come back only within serve-stale seconds.  A file that is
 * corrupt, truncated, of another version or byte order, larger than
 * max_bytes or written under other settings is refused whole (why says
 * which); *loaded gets the number of entries put back.
 */
enum stub_err snapshot_load(const char *path, struct cache *c, uint64_t now, uint64_t wall,
    uint64_t settings, uint64_t network, uint32_t serve_stale, size_t max_bytes, size_t *loaded,
    char *why, size_t whylen);
/* The same on a file's contents (for tests and fuzzing). */
enum stub_err snapshot_load_buf(const uint8_t *buf, size_t len, struct cache *c, uint64_t now,
    uint64_t wall, uint64_t settings, uint64_t network, uint32_t serve_stale, size_t *loaded,
    char *why, size_t whylen);

#endif
