/*
 * transport_udp.c - the clear-text transport: one c-ares channel per server
 * (UDP, TCP when an answer is truncated), driven from libevent.
 *
 * c-ares never retries on its own here (TRIES=1, a timeout longer than
 * the whole schedule, NOCHECKRESP): every packet is sent by a phase of a
 * search.  Channels are recycled after a bounded number of queries so the
 * UDP source port does not stay fixed.
 *
 * The channel's sockets are our own (c-ares socket functions): opened
 * non-blocking and close-on-exec in one call, bound to the adapter's
 * source and device.  c-ares opens a UDP socket per query when the
 * channel was idle, so each channel keeps one spare, opened and connected
 * to its server after the last query went out: the next query's packet
 * leaves without waiting for socket(), bind() and connect().  A spare is
 * used once, like the sockets c-ares opens, so every idle-channel query
 * still gets a fresh source port; one older than SPARE_MAX_AGE_MS is not
 * used (its source address may be out of date).
 *
 * The row XPORT_UDP of transports.def; its factory is transport_udp_create.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "msg.h"
#include "transport.h"

#define CHAN_MAX_QUERIES 200
#define CHAN_MAX_AGE_MS 60000
#define MAX_FDS 8
#define REQ_SPARE_MAX 64 /* finished requests kept for reuse */
#define SPARE_MAX_AGE_MS 1000

struct fdev {
	ares_socket_t fd;
	bool on;          /* watching fd */
	struct event *ev; /* kept for the slot's next socket (c-ares opens one
			   * per query when the channel was idle) */
};

struct up_chan {
	struct udp_transport *x;
	ares_channel ch;
	size_t server;
	struct event *tmr;
	struct fdev fds[MAX_FDS];
	unsigned sent;
	unsigned pending;
	uint64_t created;
	bool retired;
	bool destroying;
	struct event *kill;   /* deferred destruction */
	struct up_chan *next; /* in x->chans */
	/* the spare UDP socket, connected to the server (-1: none) */
	int spare;
	uint64_t spare_at;
	int stale;                    /* a spare too old to use, closed once the query is out */
	int taken;                    /* the spare c-ares was just given, until it connects it */
	int last_udp;                 /* the last UDP socket opened, until it is connected */
	struct sockaddr_storage peer; /* the server, as c-ares connects to it */
	socklen_t peerlen;            /* 0: not known yet */
};

struct transport_req {
	struct up_chan *chan;
	transport_cb cb; /* NULL: cancelled, freed on callback */
	void *arg;
	bool done_early;            /* failed inside ares_send() */
	struct transport_req *next; /* in x->early */
};

struct udp_transport {
	struct event_base *base;
	const struct cfg *cfg;
	uint32_t timeout_ms;
	struct up_chan **cur;          /* per server: channel taking new queries */
	struct up_chan *chans;         /* every live channel */
	struct transport_req *sending; /* inside ares_send() */
	struct transport_req *early;   /* failed inside ares_send(): called back soon */
	struct event *early_ev;
	struct transport_req *spare; /* finished requests for reuse (via next) */
	unsigned nspare;
};

static void chan_destroy_later(struct up_chan *c);
static void chan_destroy_cb(evutil_socket_t fd, short what, void *arg);

/* ---------------- c-ares <-> libevent ---------------- */

static void
chan_rearm(struct up_chan *c)
{
	struct timeval tv, *t;

	if (c->destroying)
		return;
	t = ares_timeout(c->ch, NULL, &tv);
	if (!t) {
		evtimer_del(c->tmr);
		return;
	}
	tv.tv_usec += 1000;
	if (tv.tv_usec >= 1000000) {
		tv.tv_sec++;
		tv.tv_usec -= 1000000;
	}
	evtimer_add(c->tmr, &tv);
}

static void
chan_io(evutil_socket_t fd, short what, void *arg)
{
	struct up_chan *c = arg;

	ares_process_fd(c->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	chan_rearm(c);
}

static void
chan_tmr(evutil_socket_t fd, short what, void *arg)
{
	struct up_chan *c = arg;

	(void)fd;
	(void)what;
	ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	chan_rearm(c);
}

static void
chan_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct up_chan *c = data;
	struct fdev *slot = NULL, *free_slot = NULL;
	size_t i;

	short what = (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0) | EV_PERSIST);

	for (i = 0; i < MAX_FDS; i++) {
		if (c->fds[i].on && c->fds[i].fd == fd)
			slot = &c->fds[i];
		else if (!c->fds[i].on && !free_slot)
			free_slot = &c->fds[i];
	}
	if (slot) {
		event_del(slot->ev);
		slot->on = false;
	}
	if (!readable && !writable)
		return;
	if (!slot)
		slot = free_slot;
	if (!slot) {
		log_err("%s: too many sockets on one channel", __func__);
		return;
	}
	slot->fd = fd;
	if (!slot->ev)
		slot->ev = event_new(c->x->base, fd, what, chan_io, c);
	else if (event_assign(slot->ev, c->x->base, fd, what, chan_io, c) != 0) {
		event_free(slot->ev);
		slot->ev = NULL;
	}
	slot->on = slot->ev && event_add(slot->ev, NULL) == 0;
	if (!slot->on)
		log_err("%s: cannot watch upstream socket", __func__);
}

/* ---------------- the channel's sockets ---------------- */

/* A socket for the channel's server: non-blocking, close-on-exec, bound
 * to the adapter's device and source address (what c-ares does for its
 * own sockets, in fewer calls). */
static int
sock_prepare(struct up_chan *c, int af, int type, int proto)
{
	const struct cfg_adapter *a = &c->x->cfg->adapters[c->x->cfg->servers[c->server].adapter];
	int fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	int one = 1;

	if (fd < 0)
		return -1;
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (a->device[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, a->device,
	        (socklen_t)strlen(a->device) + 1) != 0) {
		log_warn("cannot bind upstream socket to device %s: %s", a->device,
		    strerror(errno));
		goto fail;
	}
	if (a->source.len && a->source.ss.ss_family == af) {
		struct sockaddr_storage src = a->source.ss;

		if (af == AF_INET)
			((struct sockaddr_in *)&src)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&src)->sin6_port = 0;
		if (bind(fd, (struct sockaddr *)&src, a->source.len) != 0)
			goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static void
spare_drop(struct up_chan *c)
{
	if (c->spare >= 0)
		close(c->spare);
	if (c->stale >= 0)
		close(c->stale);
	c->spare = c->stale = -1;
}

/* After a query went out: a spare for the next one, if it will need one. */
static void
spare_fill(struct up_chan *c)
{
	int fd;

	if (c->stale >= 0) {
		close(c->stale);
		c->stale = -1;
	}
	if (c->spare >= 0 || c->retired || c->destroying || c->peerlen == 0)
		return;
	fd = sock_prepare(c, c->peer.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&c->peer, c->peerlen) != 0) {
		close(fd);
		return;
	}
	c->spare = fd;
	c->spare_at = clock_now_ms();
}

static ares_socket_t
sock_open(int af, int type, int proto, void *data)
{
	struct up_chan *c = data;
	int fd;

	if (type == SOCK_DGRAM && c->spare >= 0) {
		if (c->peer.ss_family == af && clock_now_ms() - c->spare_at <= SPARE_MAX_AGE_MS) {
			c->taken = c->spare;
			c->spare = -1;
			return c->taken;
		}
		if (c->stale < 0) { /* closed after the send, off the query's path */
			c->stale = c->spare;
			c->spare = -1;
		} else {
			spare_drop(c);
		}
	}
	fd = sock_prepare(c, af, type, proto);
	if (fd >= 0 && type == SOCK_DGRAM)
		c->last_udp = fd;
	return fd < 0 ? ARES_SOCKET_BAD : fd;
}

static int
sock_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len, void *data)
{
	struct up_chan *c = data;

	if (fd == c->taken) {
		c->taken = -1;
		if (len == c->peerlen && memcmp(sa, &c->peer, len) == 0)
			return 0; /* connected there when it was opened */
	}
	if (fd == c->last_udp) {
		c->last_udp = -1;
		if (len <= sizeof(c->peer)) {
			memcpy(&c->peer, sa, len);
			c->peerlen = len;
		}
	}
	return connect(fd, sa, len);
}

static int
sock_close(ares_socket_t fd, void *data)
{
	struct up_chan *c = data;

	if (fd == c->taken)
		c->taken = -1;
	if (fd == c->last_udp)
		c->last_udp = -1;
	return close(fd);
}

static ares_ssize_t
sock_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags, struct sockaddr *from,
    ares_socklen_t *fromlen, void *data)
{
	(void)data;
	return recvfrom(fd, buf, len, flags, from, fromlen);
}

static ares_ssize_t
sock_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *data)
{
	struct msghdr m;

	(void)data;
	memset(&m, 0, sizeof(m));
	m.msg_iov = (struct iovec *)(uintptr_t)iov;
	m.msg_iovlen = (size_t)n;
	return sendmsg(fd, &m, MSG_NOSIGNAL);
}

static const struct ares_socket_functions sock_funcs = {
	.asocket = sock_open,
	.aclose = sock_close,
	.aconnect = sock_connect,
	.arecvfrom = sock_recvfrom,
	.asendv = sock_sendv,
};

static struct up_chan *
chan_new(struct udp_transport *x, size_t server)
{
	const struct cfg_server *cs = &x->cfg->servers[server];
	struct ares_options o;
	struct up_chan *c = calloc(1, sizeof(*c));
	int mask, rc;
	char lookups[] = "b";

	if (!c)
		return NULL;
	c->x = x;
	c->server = server;
	c->created = clock_now_ms();
	c->spare = c->stale = c->taken = c->last_udp = -1;
	memset(&o, 0, sizeof(o));
	/* EDNS: UDP answers up to the 1232 bytes our OPT advertises are taken
	 * as they are (without the flag c-ares retries anything over 512 over
	 * TCP).  It never adds an OPT of its own: the query ends with exactly
	 * ours, 11 bytes, which is what its FORMERR fallback cuts off. */
	o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_EDNS;
	o.ednspsz = MSG_UPSTREAM_EDNS;
	o.tries = 1;
	o.timeout = (int)x->timeout_ms;
	o.ndots = 1;
	o.sock_state_cb = chan_sock_state;
	o.sock_state_cb_data = c;
	o.servers = NULL;
	o.nservers = 0;
	o.domains = NULL;
	o.ndomains = 0;
	o.lookups = lookups;
	o.sortlist = NULL;
	o.nsort = 0;
	mask = ARES_OPT_FLAGS | ARES_OPT_TRIES | ARES_OPT_TIMEOUTMS | ARES_OPT_NDOTS |
	    ARES_OPT_SOCK_STATE_CB | ARES_OPT_SERVERS | ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS |
	    ARES_OPT_SORTLIST | ARES_OPT_NOROTATE | ARES_OPT_EDNSPSZ;
	rc = ares_init_options(&c->ch, &o, mask);
	if (rc != ARES_SUCCESS) {
		log_err("%s: ares_init_options: %s", __func__, ares_strerror(rc));
		free(c);
		return NULL;
	}
	rc = ares_set_servers_ports_csv(c->ch, cs->text);
	if (rc != ARES_SUCCESS) {
		log_err("%s: server %s: %s", __func__, cs->text, ares_strerror(rc));
		ares_destroy(c->ch);
		free(c);
		return NULL;
	}
	ares_set_socket_functions(c->ch, &sock_funcs, c);
	c->tmr = evtimer_new(x->base, chan_tmr, c);
	c->kill = evtimer_new(x->base, chan_destroy_cb, c);
	if (!c->tmr || !c->kill) {
		if (c->tmr)
			event_free(c->tmr);
		if (c->kill)
			event_free(c->kill);
		ares_destroy(c->ch);
		free(c);
		return NULL;
	}
	c->next = x->chans;
	x->chans = c;
	return c;
}

static void
chan_free_now(struct up_chan *c)
{
	struct udp_transport *x = c->x;
	struct up_chan **pp;
	size_t i;

	c->destroying = true;
	ares_destroy(c->ch); /* may call back attempts: they are orphans */
	spare_drop(c);
	for (i = 0; i < MAX_FDS; i++)
		if (c->fds[i].ev)
			event_free(c->fds[i].ev);
	event_free(c->tmr);
	event_free(c->kill);
	for (pp = &x->chans; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
}

static void
chan_destroy_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	chan_free_now(arg);
}

/* ares_destroy must not run inside a callback of the same channel */
static void
chan_destroy_later(struct up_chan *c)
{
	struct timeval zero = { 0, 0 };

	if (c->destroying)
		return;
	evtimer_add(c->kill, &zero);
}

static struct up_chan *
chan_for(struct udp_transport *x, size_t server, uint64_t now)
{
	struct up_chan *c = x->cur[server], *old = NULL;

	if (c && (c->sent >= CHAN_MAX_QUERIES || now - c->created > CHAN_MAX_AGE_MS)) {
		c->retired = true;
		x->cur[server] = NULL;
		if (c->pending == 0)
			chan_destroy_later(c);
		old = c;
		c = NULL;
	}
	if (!c) {
		c = chan_new(x, server);
		x->cur[server] = c;
		if (c && old) { /* the spare is the server's: it goes on */
			c->spare = old->spare;
			c->spare_at = old->spare_at;
			c->peer = old->peer;
			c->peerlen = old->peerlen;
			old->spare = -1;
		}
	}
	if (old)
		spare_drop(old);
	return c;
}

/* ---------------- requests ---------------- */

/* A zeroed request: a spare one, else allocated. */
static struct transport_req *
req_get(struct udp_transport *x)
{
	struct transport_req *r = x->spare;

	if (!r)
		return calloc(1, sizeof(*r));
	x->spare = r->next;
	x->nspare--;
	memset(r, 0, sizeof(*r));
	return r;
}

/* A request finished: kept for reuse (a bounded number), else freed. */
static void
req_put(struct udp_transport *x, struct transport_req *r)
{
	if (x->nspare >= REQ_SPARE_MAX) {
		free(r);
		return;
	}
	r->next = x->spare;
	x->spare = r;
	x->nspare++;
}

static void
req_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct transport_req *r = arg;
	struct up_chan *c = r->chan;
	struct udp_transport *x = c->x;

	(void)timeouts;
	c->pending--;
	if (c->retired && c->pending == 0)
		chan_destroy_later(c);
	if (r == x->sending) {
		/* inside ares_send (e.g. ECONNREFUSED): answer from the loop */
		r->done_early = true;
		return;
	}
	if (r->cb) {
		if (status == ARES_SUCCESS && abuf && alen > 0)
			r->cb(r->arg, abuf, (size_t)alen);
		else
			r->cb(r->arg, NULL, 0);
	}
	req_put(x, r);
}

static void
early_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_transport *x = arg;
	struct transport_req *r;

	(void)fd;
	(void)what;
	while ((r = x->early) != NULL) {
		x->early = r->next;
		if (r->cb)
			r->cb(r->arg, NULL, 0);
		req_put(x, r);
	}
}

static struct transport_req *
udp_send(void *impl, size_t server, const uint8_t *pkt, size_t len, transport_cb cb, void *arg)
{
	struct udp_transport *x = impl;
	struct up_chan *c = chan_for(x, server, clock_now_ms());
	struct transport_req *r;

	if (!c)
		return NULL;
	r = req_get(x);
	if (!r)
		return NULL;
	r->chan = c;
	r->cb = cb;
	r->arg = arg;
	c->sent++;
	c->pending++;
	x->sending = r;
	ares_send(c->ch, pkt, (int)len, req_answer, r);
	x->sending = NULL;
	if (r->done_early) {
		r->next = x->early;
		x->early = r;
		event_active(x->early_ev, EV_TIMEOUT, 0);
	}
	chan_rearm(c);
	spare_fill(c);
	return r;
}

static void
udp_cancel(void *impl, struct transport_req *r)
{
	(void)impl;
	if (r)
		r->cb = NULL; /* freed when c-ares (or early_cb) calls back */
}

static void
udp_free(void *impl)
{
	struct udp_transport *x = impl;
	struct transport_req *r;

	if (!x)
		return;
	while (x->chans)
		chan_free_now(x->chans);
	while ((r = x->early) != NULL) {
		x->early = r->next;
		free(r);
	}
	while ((r = x->spare) != NULL) {
		x->spare = r->next;
		free(r);
	}
	if (x->early_ev)
		event_free(x->early_ev);
	free(x->cur);
	free(x);
}

/* Clear text counts nothing beyond the schedule's counters. */
static void
udp_stats(void *impl, size_t server, struct transport_stats *out)
{
	(void)impl;
	(void)server;
	memset(out, 0, sizeof(*out));
}

enum stub_err
transport_udp_create(const struct transport_env *env, struct transport *out, char *why,
    size_t whylen)
{
	static const struct transport_ops ops = {
		.send = udp_send,
		.cancel = udp_cancel,
		.stats = udp_stats,
		.free = udp_free,
	};
	struct udp_transport *x = calloc(1, sizeof(*x));

	out->ops = NULL;
	out->impl = NULL;
	if (!x)
		goto fail;
	x->base = env->base;
	x->cfg = env->cfg;
	x->timeout_ms = env->timeout_ms;
	x->cur = calloc(env->cfg->nservers + 1, sizeof(*x->cur));
	x->early_ev = event_new(env->base, -1, 0, early_cb, x);
	if (!x->cur || !x->early_ev)
		goto fail;
	out->ops = &ops;
	out->impl = x;
	return STUB_OK;
fail:
	snprintf(why, whylen, "clear-text transport: out of memory");
	udp_free(x);
	return STUB_ENOMEM;
}
