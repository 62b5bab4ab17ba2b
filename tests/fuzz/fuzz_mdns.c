/*
 * fuzz_mdns.c - the multicast DNS reply path (SPEC 19): a reply as read
 * from the network turned into an answer (mdns_answer), which must then
 * pass the response parser (msg_store_prepare) and be served to a client.
 *
 * Input: the reply.  The question is the name at offset 12 with the type
 * after it when there is one (so matching replies get through), else
 * printer.local A.
 */
#include "auto-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mdnsmsg.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[MSG_MAX], served[MSG_MAX + MSG_OPT_LEN];
	static struct msg_resp r;
	struct msg_query q;
	struct wire_rd rd;
	size_t nl, n;

	memset(&q, 0, sizeof(q));
	wire_rd_init(&rd, data, size);
	wire_seek(&rd, WIRE_HDR_LEN);
	nl = wire_name(&rd, q.qname);
	q.qtype = wire_u16(&rd);
	if (rd.err || nl == 0) {
		nl = wire_name_from_text("printer.local", q.qname);
		q.qtype = TYPE_A;
	}
	q.qlen = nl;
	memcpy(q.key, q.qname, nl);
	wire_name_lower(q.key, nl);
	q.qclass = CLASS_IN;
	q.udp_size = 512;
	(void)mdns_name(q.key, q.qlen);
	n = mdns_answer(data, size, &q, out, sizeof(out));
	if (n == 0)
		return 0;
	/* what mdns_answer writes is always a response the pipeline takes */
	if (msg_store_prepare(out, n, 0, q.qname, q.qlen, q.qtype, q.qclass, &r) != STUB_OK)
		abort();
	(void)msg_serve(out, r.len, r.ttl_off, r.nttl, 0, -1, &q, 512, served, sizeof(served));
	return 0;
}
