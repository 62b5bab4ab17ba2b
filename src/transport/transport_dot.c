/*
 * transport_dot.c - DNS over TLS (RFC 7858): the framing of DoT on the
 * connection of transport_tls.c.  Each query is one length-prefixed
 * message (padded, RFC 8467); answers come in any order and find their
 * query by ID.
 *
 * The wire ID is a slot number and that slot's generation, so an answer
 * finds its request at once and a late answer to a slot's previous
 * request is not taken for the next one.
 *
 * The row XPORT_TLS of transports.def; its factory is transport_dot_create.
 */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "log.h"
#include "wire.h"
#include "transport_tls.h"

#define SLOT_BITS 10 /* CONN_MAX_PENDING = 2^10 slots */

struct dot_conn {
	struct transport_req *slot[CONN_MAX_PENDING];
	uint8_t gen[CONN_MAX_PENDING];
	uint16_t freeslot[CONN_MAX_PENDING];
	size_t nfree;
};

static int
dot_conn_init(struct tls_conn *c, struct ssl_st *ssl, char *why, size_t whylen)
{
	struct dot_conn *d;
	size_t i;

	(void)ssl;
	if (*tls_conn_fstate(c)) /* queries joined before the handshake */
		return 0;
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	/* taken lowest first */
	for (i = 0; i < CONN_MAX_PENDING; i++)
		d->freeslot[i] = (uint16_t)(CONN_MAX_PENDING - 1 - i);
	d->nfree = CONN_MAX_PENDING;
	*tls_conn_fstate(c) = d;
	return 0;
}

static void
dot_conn_fini(struct tls_conn *c)
{
	void **st = tls_conn_fstate(c);

	free(*st);
	*st = NULL;
}

/* A query joins before the handshake is done: the slots are there from
 * the start (the connection never holds more than CONN_MAX_PENDING). */
static struct dot_conn *
dot_state(struct tls_conn *c)
{
	char why[40];

	if (!*tls_conn_fstate(c))
		(void)dot_conn_init(c, NULL, why, sizeof(why));
	return *tls_conn_fstate(c);
}

static int
dot_req_join(struct tls_conn *c, struct transport_req *r, uint16_t *wire_id)
{
	struct dot_conn *d = dot_state(c);
	int32_t slot;

	*tls_req_handle(r) = -1;
	if (!d || d->nfree == 0)
		return -1;
	slot = d->freeslot[--d->nfree];
	d->slot[slot] = r;
	*tls_req_handle(r) = slot;
	*wire_id = (uint16_t)((unsigned)d->gen[slot] << SLOT_BITS | (unsigned)slot);
	return 0;
}

static void
dot_req_leave(struct tls_conn *c, struct transport_req *r)
{
	struct dot_conn *d = *tls_conn_fstate(c);
	int32_t *slot = tls_req_handle(r);

	if (d && *slot >= 0 && d->slot[*slot] == r) {
		d->slot[*slot] = NULL;
		d->gen[*slot]++;
		d->freeslot[d->nfree++] = (uint16_t)*slot;
	}
	*slot = -1;
}

static int
dot_write(struct tls_conn *c, struct transport_req *r)
{
	size_t len;
	const uint8_t *frame = tls_req_frame(r, &len);

	(void)tls_conn_write(c, frame, len);
	return 0;
}

/* One answer of len bytes at msg. */
static void
dot_answer(struct tls_conn *c, uint8_t *msg, size_t len)
{
	struct dot_conn *d = *tls_conn_fstate(c);
	struct transport_req *r;
	uint16_t id;
	uint16_t flags;
	unsigned slot, gen;

	/* not a DNS response at all: the stream is garbage, give it up */
	if (!wire_get16_at(msg, len, 0, &id) || !wire_get16_at(msg, len, 2, &flags) ||
	    len < WIRE_HDR_LEN || !(flags & 0x8000)) {
		tls_conn_close(c, "bad answer");
		return;
	}
	slot = id & (CONN_MAX_PENDING - 1);
	gen = (unsigned)id >> SLOT_BITS;
	r = d ? d->slot[slot] : NULL;
	if (!r || !tls_req_written(r) || tls_req_wire_id(r) != id) {
		/* a late answer to the slot's previous query is no fault; any
		 * other ID counts against the connection */
		tls_conn_unexpected(c,
		    !d || gen != ((unsigned)d->gen[slot] - 1) % (1u << (16 - SLOT_BITS)));
		if (log_verbosity() >= 2)
			log_debug("%s: an answer nobody waits for (ID %u)", tls_conn_label(c), id);
		return;
	}
	tls_conn_answer(c, r, msg, len);
}

/* Length-prefixed frames; each complete one is answered where it lies. */
static void
dot_read(struct tls_conn *c, struct evbuffer *in)
{
	for (;;) {
		uint8_t lb[2], *m;
		size_t ml;

		if (evbuffer_copyout(in, lb, 2) != 2)
			break;
		ml = (size_t)lb[0] << 8 | lb[1];
		if (evbuffer_get_length(in) < 2 + ml)
			break;
		m = evbuffer_pullup(in, (ev_ssize_t)(2 + ml));
		if (!m)
			break;
		dot_answer(c, m + 2, ml);
		evbuffer_drain(in, 2 + ml);
		if (tls_conn_closing(c))
			break;
	}
}

static const struct tls_framing dot = {
	.kind = XPORT_TLS,
	.alpn_h2 = false,
	.conn_init = dot_conn_init,
	.conn_fini = dot_conn_fini,
	.req_join = dot_req_join,
	.req_leave = dot_req_leave,
	.write = dot_write,
	.read = dot_read,
};

enum stub_err
transport_dot_create(const struct transport_env *env, struct transport *out, char *why,
    size_t whylen)
{
	return transport_tls_create(env, &dot, out, why, whylen);
}
