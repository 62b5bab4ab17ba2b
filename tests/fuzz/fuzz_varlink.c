/*
 * fuzz_varlink.c - the varlink server's pure half: a byte stream cut into
 * messages (varlink.c), each parsed as a call and handled by
 * io.systemd.Resolve (vlresolve.c), the questions "answered" with DNS
 * messages taken from the input.
 *
 * Input: byte 0 = how the stream is cut into reads (chunk size), byte 1 =
 * flags for the answers (source, traced, replied, encrypted, no servers),
 * bytes 2-3 = length L of the varlink stream, then L bytes of stream, then
 * the DNS answers: the rest split in two halves (A's and AAAA's).  The
 * whole rest is also read as a SubscribeQueryResults event and as a cached
 * answer for DumpCache.
 */
#include "auto-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "varlink.h"
#include "vlresolve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
handle(const char *msg, size_t mlen, uint8_t fl, const uint8_t *dns, size_t dlen)
{
	struct vl_call c;
	struct vlr_req req;
	struct vlr_ans a[VLR_MAXQ];
	char *out;
	size_t len, i, half = dlen / 2;
	uint8_t pkt[512];

	if (vl_call_parse(msg, mlen, &c) != STUB_OK)
		return;
	if (vlr_call(&c, "0", &req, &out, &len) == VLR_REPLY) {
		free(out);
		vl_call_free(&c);
		return;
	}
	vl_call_free(&c);
	memset(a, 0, sizeof(a));
	for (i = 0; i < req.nq; i++) {
		(void)vlr_query_packet(&req, i, 1, pkt, sizeof(pkt));
		a[i].msg = i == 0 ? dns : dns + half;
		a[i].len = req.nq == 1 ? dlen : i == 0 ? half : dlen - half;
		a[i].source = (enum answer_source)((fl >> (2 * i)) % SRC_COUNT);
		a[i].traced = fl & 0x10;
		a[i].replied = fl & 0x20;
		a[i].encrypted = fl & 0x40;
		if (!a[i].len)
			a[i].msg = NULL;
	}
	out = vlr_answer(&req, a, fl & 0x80, &len);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_framer f;
	size_t chunk, l, off = 0;
	uint8_t fl;
	const uint8_t *dns;
	size_t dlen;

	if (size < 4)
		return 0;
	chunk = (size_t)data[0] * 16 + 1;
	fl = data[1];
	l = (size_t)data[2] << 8 | data[3];
	data += 4;
	size -= 4;
	if (l > size)
		l = size;
	dns = data + l;
	dlen = size - l;
	vl_framer_init(&f);
	while (off < l) {
		size_t n = l - off < chunk ? l - off : chunk;
		const char *msg;
		size_t mlen;
		int r;

		if (n > vl_framer_room(&f))
			n = vl_framer_room(&f);
		if (n == 0 || vl_framer_feed(&f, data + off, n) != STUB_OK)
			break;
		off += n;
		while ((r = vl_framer_next(&f, &msg, &mlen)) == 1)
			handle(msg, mlen, fl, dns, dlen);
		if (r < 0)
			break;
	}
	vl_framer_fini(&f);
	/* the Monitor's view of any answer */
	free(vlr_monitor_event(dns, dlen, &l));
	/* and of a cached one (DumpCache), each status */
	{
		static const uint8_t key[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l',
			'e', 0 };
		struct cache_info ci;
		struct json j;

		memset(&ci, 0, sizeof(ci));
		ci.name = key;
		ci.namelen = sizeof(key);
		ci.qtype = TYPE_A;
		ci.qclass = CLASS_IN;
		ci.status = (enum cache_status)(fl % 3);
		ci.msg = dns;
		ci.msglen = dlen;
		ci.expire_ms = fl;
		json_init(&j);
		vlr_cache_entry(&j, &ci);
		free(json_take(&j, &l));
	}
	return 0;
}
