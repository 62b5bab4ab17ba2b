/*
 * snapbench.c - cache-file at scale (SPEC 14): a cache of N entries
 * (default 1,000,000; A answers with two records, some NXDOMAIN) is saved
 * with snapshot_save and read back into an empty cache with snapshot_load,
 * as stubd does at exit and at start.  Prints both times and the sizes.
 *
 *   make bench/snapbench && bench/snapbench [N] [FILE]
 */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "hash.h"
#include "msg.h"
#include "snapshot.h"
#include "wire.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* "n<i>.bench.test" A: two addresses, or NXDOMAIN with an SOA (i % 10 == 0) */
static size_t
make_answer(size_t i, uint8_t *name, size_t *nlen, uint8_t *out, size_t cap)
{
	char text[64];
	struct wire_wr w;
	struct wire_hdr h = { 0 };
	bool nx = i % 10 == 0;

	snprintf(text, sizeof(text), "n%zu.bench.test", i);
	*nlen = wire_name_from_text(text, name);
	wire_wr_init(&w, out, cap);
	h.id = 1;
	h.flags = (uint16_t)(WIRE_QR | WIRE_RD | WIRE_RA | (nx ? RCODE_NXDOMAIN : 0));
	h.qdcount = 1;
	h.ancount = nx ? 0 : 2;
	h.nscount = nx ? 1 : 0;
	wire_put_hdr(&w, &h);
	wire_put_name(&w, name, *nlen);
	wire_put_u16(&w, TYPE_A);
	wire_put_u16(&w, CLASS_IN);
	if (nx) {
		static const uint8_t zone[] = { 5, 'b', 'e', 'n', 'c', 'h', 4, 't', 'e', 's', 't', 0 };

		wire_put_name(&w, zone, sizeof(zone));
		wire_put_u16(&w, TYPE_SOA);
		wire_put_u16(&w, CLASS_IN);
		wire_put_u32(&w, 3600);
		wire_put_u16(&w, (uint16_t)(2 * sizeof(zone) + 20));
		wire_put_name(&w, zone, sizeof(zone));
		wire_put_name(&w, zone, sizeof(zone));
		wire_put_u32(&w, 1);
		wire_put_u32(&w, 3600);
		wire_put_u32(&w, 600);
		wire_put_u32(&w, 86400);
		wire_put_u32(&w, 3600);
	} else {
		int k;

		for (k = 0; k < 2; k++) {
			wire_put_u16(&w, 0xc00c);
			wire_put_u16(&w, TYPE_A);
			wire_put_u16(&w, CLASS_IN);
			wire_put_u32(&w, 3600);
			wire_put_u16(&w, 4);
			wire_put_u32(&w, (uint32_t)(0x0a000000u + i * 2 + (size_t)k));
		}
	}
	return w.err ? 0 : w.len;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1000000, i, count = 0;
	const char *path = argc > 2 ? argv[2] : "/tmp/stubd-snapbench.cache";
	struct cache_cfg cc = { (uint32_t)(n + 16), (uint64_t)4 << 30, 0, 86400, 900, 60, 0 };
	struct cache *c = cache_new(&cc, 12345), *c2;
	static uint8_t buf[MSG_MAX];
	struct msg_resp *r = malloc(sizeof(*r));
	uint64_t now = clock_now_ms(), wall = clock_wall_ms();
	double t0, t_save, t_load;
	char why[256];
	struct stat st;

	if (!c || !r)
		return 1;
	for (i = 0; i < n; i++) {
		uint8_t name[WIRE_NAME_MAX];
		size_t nlen, len = make_answer(i, name, &nlen, buf, sizeof(buf));
		struct msg_query q;
		bool stored = false;

		memset(&q, 0, sizeof(q));
		memcpy(q.key, name, nlen);
		memcpy(q.qname, name, nlen);
		q.qlen = nlen;
		q.qtype = TYPE_A;
		q.qclass = CLASS_IN;
		q.nhash = stub_name_hash(cache_seed(c), q.key, q.qlen);
		q.hash = stub_key_hash(q.nhash, q.qtype, q.qclass, false);
		if (!len || msg_store_prepare(buf, len, 1, name, nlen, TYPE_A, CLASS_IN, r) != 0 ||
		    cache_insert(c, &q, buf, r, "192.0.2.1:53%bench", now, &stored) != 0) {
			fprintf(stderr, "snapbench: entry %zu not stored\n", i);
			return 1;
		}
	}
	printf("cache: %zu entries, %.1f MB\n", cache_count(c), (double)cache_bytes(c) / 1e6);
	{
		/* the daemon saves every 10 minutes from a forked child: fork()
		 * is all the answering side waits for */
		pid_t p;

		t0 = now_ms();
		p = fork();
		if (p == 0)
			_exit(0);
		printf("fork with this cache: the parent waits %.1f ms\n", now_ms() - t0);
		waitpid(p, NULL, 0);
	}
	t0 = now_ms();
	if (snapshot_save(path, c, now, wall, 1, 2, &count, why, sizeof(why)) != STUB_OK) {
		fprintf(stderr, "snapbench: save: %s\n", why);
		return 1;
	}
	t_save = now_ms() - t0;
	stat(path, &st);
	printf("save: %zu entries, %.1f MB file, %.0f ms\n", count, (double)st.st_size / 1e6,
	    t_save);
	cache_free(c);
	c2 = cache_new(&cc, 777);
	t0 = now_ms();
	if (snapshot_load(path, c2, now, wall, 1, 2, 0, (size_t)1 << 31, &count, why,
	    sizeof(why)) != STUB_OK) {
		fprintf(stderr, "snapbench: load: %s\n", why);
		return 1;
	}
	t_load = now_ms() - t0;
	printf("load: %zu entries, %.0f ms\n", count, t_load);
	cache_free(c2);
	unlink(path);
	free(r);
	return 0;
}
