/*
 * transport.h - how one query packet reaches one server: "send this
 * packet to server i, call back once with the answer or a failure".
 *
 * Behind it: clear text through c-ares (transport_udp.c), DNS over TLS
 * (transport_tls.c) and DNS over HTTPS (transport_doh.c).  The search (upstream.c),
 * the schedule, exclusion and the negative rules never know which one
 * answered: a failure of any kind (refused, reset, bad certificate, wrong
 * pin, HTTP error) is "no answer from that server".
 *
 * Contract: send() never calls back from inside itself; the callback runs
 * exactly once from the event loop unless cancel() came first.  The
 * answer handed to the callback keeps the ID of the packet sent (a
 * transport that rewrites IDs on the wire restores them) and is valid
 * only during the callback.
 */
#ifndef STUBD_TRANSPORT_H
#define STUBD_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct xp_req;

/* msg NULL: no answer (len 0). */
typedef void (*xp_cb)(void *arg, const uint8_t *msg, size_t len);

struct xp_ops {
	/* Queue pkt (a complete DNS query, ID set) for server `server`.
	 * NULL when it cannot even be queued (out of memory). */
	struct xp_req *(*send)(void *impl, size_t server, const uint8_t *pkt, size_t len,
	    xp_cb cb, void *arg);
	/* The caller lost interest: no callback will come. */
	void (*cancel)(void *impl, struct xp_req *r);
	/* r's phase ended unanswered: the search stopped waiting for it
	 * there.  r stays pending (a late answer is still welcome, and r is
	 * never given up before the whole schedule could have run); a
	 * connection that has answered nothing since r was sent is taken for
	 * stalled and the next packet goes on a new one.  Never calls back
	 * from inside itself.  NULL: nothing to learn (clear text). */
	void (*late)(void *impl, struct xp_req *r);
};

struct xp {
	const struct xp_ops *ops;
	void *impl;
};

#endif
