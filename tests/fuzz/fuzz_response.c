/*
 * fuzz_response.c - upstream responses: parse -> rewrite for a client ->
 * parse again (round trip), and the displaydns decoder.
 *
 * Input: the response as stubd would receive it.  The question sent is
 * taken from the response itself so that matching ones get through.
 */
#include "auto-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "rrtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
nop(const struct rrtext *rr, void *arg)
{
	(void)rr;
	(void)arg;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct msg_resp r1, r2;
	static uint8_t buf[MSG_MAX], out[MSG_MAX + MSG_OPT_LEN];
	struct wire_rd rd;
	struct wire_hdr h;
	struct msg_query q;
	uint8_t name[WIRE_NAME_MAX];
	size_t nl, n;
	uint16_t qt, qc;

	if (size > MSG_MAX)
		return 0;
	memcpy(buf, data, size);
	rrtext_foreach(buf, size, 0, nop, NULL);
	wire_rd_init(&rd, buf, size);
	wire_hdr(&rd, &h);
	nl = wire_name(&rd, name);
	qt = wire_u16(&rd);
	qc = wire_u16(&rd);
	if (rd.err || !nl)
		return 0;
	if (msg_store_prepare(buf, size, h.id, name, nl, qt, qc, &r1) != STUB_OK)
		return 0;
	/* a client asking the same question with EDNS */
	memset(&q, 0, sizeof(q));
	q.id = 0x1234;
	q.flags = WIRE_RD;
	q.qtype = qt;
	q.qclass = qc;
	memcpy(q.qname, name, nl);
	memcpy(q.key, name, nl);
	q.qlen = nl;
	q.edns = (size & 1) != 0;
	q.udp_size = 1232;
	msg_clamp_ttls(buf, r1.len, r1.ttl_off, r1.nttl < MSG_MAX_TTLS ? r1.nttl : MSG_MAX_TTLS, 0,
	    86400);
	n = msg_serve(buf, r1.len, r1.ttl_off, r1.nttl < MSG_MAX_TTLS ? r1.nttl : MSG_MAX_TTLS, 7,
	    -1, &q, (size & 2) ? 512 : MSG_MAX, out, sizeof(out));
	if (n == 0)
		abort(); /* a prepared response must always be servable */
	if (msg_store_prepare(out, n, q.id, q.qname, q.qlen, qt, qc, &r2) != STUB_OK)
		abort(); /* and what we serve must parse */
	if (!r2.tc && r2.nttl != r1.nttl)
		abort();
	rrtext_foreach(out, n, 0, nop, NULL);
	return 0;
}
