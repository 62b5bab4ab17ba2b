/*
 * fuzz_snapshot.c - the cache-file reader (SPEC 14) on any bytes, then
 * the cache it filled served and listed.
 */
#include "auto-config.h"

#include <stdint.h>
#include <string.h>

#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
visit(const struct cache_info *in, void *arg)
{
	(void)in;
	(void)arg;
	return 0;
}

#define HDR 64

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* the input with its header made to agree (settings, length, checksum),
 * so mutations reach the entries */
static void
agree(uint8_t *b, size_t size, uint64_t settings)
{
	uint64_t h = 1469598103934665603ull;
	size_t i, blk;

	put64(b + 16, settings);
	put64(b + 48, size - HDR);
	/* snapshot.c's checksum: FNV-1a over 8-byte words, in 64 KB blocks */
	for (blk = HDR; blk < size; blk += 65536) {
		size_t end = size - blk < 65536 ? size : blk + 65536;

		for (i = blk; i + 8 <= end; i += 8) {
			uint64_t w;

			memcpy(&w, b + i, 8);
			h = (h ^ w) * 1099511628211ull;
		}
		for (; i < end; i++)
			h = (h ^ b[i]) * 1099511628211ull;
	}
	put64(b + 56, h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the defaults of stubd.conf, as the seed files were written */
	struct cache_cfg cc = { .max_entries = 1000,
		.max_bytes = 1u << 24,
		.max_ttl = 86400,
		.max_negative_ttl = 900,
		.negative_ttl = 60,
		.serve_stale = 3600 };
	struct cache *c = cache_new(&cc, 7);
	char why[256];
	size_t n;

	if (!c)
		return 0;
	snapshot_load_buf(data, size, c, (uint64_t)1 << 40, 1764000000000ull,
	    snapshot_settings(&cc), 0, cc.serve_stale, &n, why, sizeof(why));
	if (size >= HDR && size < (1u << 20)) {
		static uint8_t b[1u << 20];

		memcpy(b, data, size);
		agree(b, size, snapshot_settings(&cc));
		snapshot_load_buf(b, size, c, (uint64_t)1 << 40, 1764000000000ull,
		    snapshot_settings(&cc), 0, cc.serve_stale, &n, why, sizeof(why));
	}
	cache_foreach(c, (uint64_t)1 << 40, visit, NULL);
	cache_free(c);
	return 0;
}
