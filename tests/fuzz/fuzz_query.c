/*
 * fuzz_query.c - client query validation, error answers and the hosts
 * answer path.
 */
#include "auto-config.h"

#include <stdint.h>
#include <string.h>

#include "hash.h"
#include "hosts.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hosts *h;
	static const char text[] = "192.0.2.1 a.lan b\n::1 localhost\n";
	struct msg_query q;
	uint8_t out[MSG_MAX + MSG_OPT_LEN];
	enum msg_verdict v;

	if (!h)
		h = hosts_parse(text, sizeof(text) - 1, 7, NULL, NULL);
	v = msg_parse_query(data, size, &q);
	if (v == MSG_DROP)
		return 0;
	msg_error(&q, v == MSG_OK ? RCODE_SERVFAIL : RCODE_FORMERR, out, sizeof(out));
	if (v == MSG_OK) {
		q.nhash = stub_name_hash(7, q.key, q.qlen);
		hosts_answer(h, &q, 0, msg_udp_limit(&q), out, sizeof(out));
		msg_upstream_query(&q, 1, q.key, q.edns, out, sizeof(out));
	}
	return 0;
}
