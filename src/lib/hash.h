/*
 * hash.h - the one string hash stubd uses for its tables (seeded, 64-bit).
 */
#ifndef STUBD_HASH_H
#define STUBD_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t
stub_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Hash len bytes with a seed and an extra 64-bit word folded in first. */
static inline uint64_t
stub_hash(uint64_t seed, uint64_t extra, const uint8_t *p, size_t len)
{
	uint64_t h = stub_mix64(seed ^ extra ^ ((uint64_t)len << 56));
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v;

		memcpy(&v, p + i, 8);
		h = stub_mix64(h ^ v) + 0x9e3779b97f4a7c15ULL;
	}
	if (i < len) {
		uint64_t v = 0;

		memcpy(&v, p + i, len - i);
		h = stub_mix64(h ^ v);
	}
	return h;
}

/* The hash of a question name (lower-cased wire form) with a seed: computed
 * once per query and shared by the hosts table and the cache. */
static inline uint64_t
stub_name_hash(uint64_t seed, const uint8_t *name, size_t len)
{
	return stub_hash(seed, 0, name, len);
}

/* The cache / in-flight key hash from the name hash. */
static inline uint64_t
stub_key_hash(uint64_t nhash, uint16_t qtype, uint16_t qclass, int do_bit, int cd_bit)
{
	return stub_mix64(nhash ^
	    ((uint64_t)qtype << 32 | (uint64_t)qclass << 16 | (uint64_t)(cd_bit != 0) << 9 |
	        (uint64_t)(do_bit != 0) << 8 | 1));
}

#endif
