/*
 * fuzz_transport.c - what an encrypted upstream sends back after the
 * handshake: DoT's length-prefixed frames matched to queries by ID, and
 * DoH's HTTP/2 frames (nghttp2) carrying responses on streams; every
 * answer handed over then goes through the upstream response checks.
 *
 * Input: byte 0 chooses DoT (even) or DoH (odd); the rest is the byte
 * stream from the server.  Three queries are in flight on a new
 * connection: over DoT with wire IDs 0, 1 and 2 (slots 0-2, generation
 * 0), over DoH on streams 1, 3 and 5.
 */
#include "auto-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "msg.h"
#include "schedule.h"
#include "tlsctx.h"
#include "transport.h"
#include "transport_tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NQ 3

struct slot {
	struct transport_req *req;
	bool done;
	uint8_t pkt[512];
	size_t len;
};

static void
answered(void *arg, const uint8_t *msg, size_t len)
{
	static uint8_t buf[MSG_MAX];
	static struct msg_resp resp;
	struct slot *s = arg;
	struct wire_rd rd;
	uint8_t name[WIRE_NAME_MAX];
	size_t nl;

	s->done = true;
	if (!msg || len > MSG_MAX)
		return;
	/* the checks any upstream answer gets */
	wire_rd_init(&rd, s->pkt, s->len);
	wire_skip(&rd, WIRE_HDR_LEN);
	nl = wire_name(&rd, name);
	memcpy(buf, msg, len);
	if (nl)
		(void)msg_store_prepare(buf, len, 0x4242, name, nl, TYPE_A, CLASS_IN, &resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char conf[] = "server 192.0.2.1 tls dns.example\n"
	                           "server https://dns.example/dns-query 192.0.2.2\n";
	static const char *const names[NQ] = { "a.example", "b.example", "c.example" };
	static struct event_base *base;
	static struct cfg *cfg;
	static struct tlsctx *tls;
	static struct sched *sched;
	struct slot slots[NQ];
	struct transport_env env;
	struct tls_conn *c;
	struct transport t;
	size_t server, i;
	char why[200];

	if (!base) {
		base = event_base_new();
		cfg = cfg_new(NULL, NULL);
		if (!base || !cfg || cfg_parse_text(cfg, conf, strlen(conf), "fuzz") != 0 ||
		    cfg_finish(cfg, NULL) != 0 || tlsctx_new(NULL, false, &tls, why, sizeof(why)))
			abort();
		sched = sched_new(cfg);
		if (!sched)
			abort();
	}
	if (size < 1)
		return 0;
	server = data[0] & 1;
	env.base = base;
	env.cfg = cfg;
	env.sched = sched;
	env.tls = tls;
	env.timeout_ms = 5000;
	if ((server ? transport_doh_create : transport_dot_create)(&env, &t, why, sizeof(why)) !=
	    STUB_OK)
		return 0;
	c = tls_conn_detached(t.impl, server);
	if (!c) {
		t.ops->free(t.impl);
		return 0;
	}
	memset(slots, 0, sizeof(slots));
	for (i = 0; i < NQ; i++) {
		struct msg_query q;
		uint8_t nm[WIRE_NAME_MAX];

		memset(&q, 0, sizeof(q));
		q.qlen = wire_name_from_text(names[i], nm);
		memcpy(q.key, nm, q.qlen);
		q.qtype = TYPE_A;
		q.qclass = CLASS_IN;
		slots[i].len = msg_upstream_query(&q, 0x4242, q.key, true, slots[i].pkt,
		    sizeof(slots[i].pkt));
		slots[i].req = t.ops->send(t.impl, server, slots[i].pkt, slots[i].len, answered,
		    &slots[i]);
	}
	tls_conn_feed(c, data + 1, size - 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	for (i = 0; i < NQ; i++)
		if (slots[i].req && !slots[i].done)
			t.ops->cancel(t.impl, slots[i].req);
	c = tls_conn_of(t.impl, server);
	if (c)
		tls_conn_close(c, NULL);
	event_base_loop(base, EVLOOP_NONBLOCK);
	t.ops->free(t.impl);
	return 0;
}
