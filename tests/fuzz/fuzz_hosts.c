/*
 * fuzz_hosts.c - the hosts-file parser and lookups of what it loaded.
 */
#include "auto-config.h"

#include <stdint.h>
#include <string.h>

#include "hash.h"
#include "hosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
ask(const struct hosts_rec *r, void *arg)
{
	const struct hosts *h = arg;
	struct msg_query q;
	uint8_t out[2048];

	memset(&q, 0, sizeof(q));
	q.qlen = r->namelen;
	memcpy(q.qname, r->name, r->namelen);
	memcpy(q.key, r->name, r->namelen);
	q.qtype = r->type;
	q.qclass = CLASS_IN;
	q.nhash = stub_name_hash(7, q.key, q.qlen);
	hosts_answer(h, &q, 0, 512, out, sizeof(out));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hosts *h = hosts_parse((const char *)data, size, 7, NULL, NULL);

	if (!h)
		return 0;
	hosts_foreach(h, ask, h);
	hosts_free(h);
	return 0;
}
