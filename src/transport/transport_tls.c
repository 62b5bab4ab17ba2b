/*
 * transport_tls.c - the TLS connection of the encrypted transports: one
 * pipelined connection per server on an OpenSSL bufferevent; what travels
 * on it is its framing's (transport_dot.c, transport_doh.c).
 *
 * A request lives on exactly one list: its connection's (queued or
 * written) or the transport's `failing` list, whose members are called
 * back with "no answer" from the event loop.  Callbacks never run inside
 * send(); a connection is never freed while its read callback runs.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "log.h"
#include "msg.h"
#include "rand.h"
#include "schedule.h"
#include "tlsctx.h"
#include "transport_tls.h"

struct transport_req {
	struct tls_conn *conn;               /* NULL: on the failing list */
	struct transport_req *next, **pprev; /* on exactly one list */
	transport_cb cb;
	void *arg;
	uint64_t deadline; /* monotonic ms: given up (the whole schedule) */
	unsigned seen;     /* its connection's answers when it joined */
	uint16_t orig_id;  /* restored in the answer */
	uint16_t wire_id;  /* as sent */
	bool written;
	int32_t handle; /* the framing's (DoT: slot, DoH: stream) */
	void *fdata;    /* the framing's */
	size_t len;     /* of pkt: 2-byte length, then the query */
	uint8_t pkt[];
};

struct tls_conn {
	struct tls_transport *x;
	size_t server;
	struct bufferevent *bev;
	struct event *tmr; /* query deadline or idle limit */
	bool up;           /* handshake done, peer checked */
	bool reading;      /* inside conn_read */
	bool closing;      /* close when conn_read returns (or at once) */
	const char *close_why;
	/* retired: no longer its server's connection (it stalled, or its
	 * framing retired it: GOAWAY); it keeps the queries it has until
	 * they end, takes no new ones */
	bool retired;
	struct tls_conn *onext; /* on its server's list of retired ones */
	unsigned nanswers;      /* answers given: progress */
	unsigned nbad;          /* bad frames since the last answer */
	struct transport_req *reqs;
	size_t nreqs;
	void *fstate; /* the framing's */
};

struct tls_srv {
	struct tls_conn *conn; /* takes new queries */
	struct tls_conn *old;  /* retired, still finishing (newest first) */
	struct tls_ticket ticket;
	uint64_t handshakes, resumed;
	char state[256]; /* "idle", "connected", "failed: ..." */
};

struct tls_transport {
	struct event_base *base;
	const struct cfg *cfg;
	const struct tls_framing *f;
	struct tlsctx *tls;
	const struct sched *sched; /* labels */
	uint32_t timeout_ms;
	struct tls_srv *srv; /* per server of cfg */
	struct transport_req *failing;
	struct event *fail_ev;
};

static void fail_req(struct tls_transport *x, struct transport_req *r);
static void req_free(struct tls_transport *x, struct transport_req *r);
static void conn_arm(struct tls_conn *c);

/* ---------------- lists ---------------- */

static void
req_link(struct transport_req **head, struct transport_req *r)
{
	r->next = *head;
	if (r->next)
		r->next->pprev = &r->next;
	r->pprev = head;
	*head = r;
}

static void
req_unlink(struct transport_req *r)
{
	if (!r->pprev)
		return;
	*r->pprev = r->next;
	if (r->next)
		r->next->pprev = r->pprev;
	r->next = NULL;
	r->pprev = NULL;
}

/* r leaves its connection: unlinked, the framing lets it go (DoT: its
 * slot is free again). */
static void
conn_release(struct tls_conn *c, struct transport_req *r)
{
	req_unlink(r);
	c->nreqs--;
	if (c->x->f->req_leave)
		c->x->f->req_leave(c, r);
	r->conn = NULL;
}

/* Hand r to the failing list: "no answer", called back from the loop. */
static void
fail_req(struct tls_transport *x, struct transport_req *r)
{
	if (r->conn)
		conn_release(r->conn, r);
	req_unlink(r);
	req_link(&x->failing, r);
	event_active(x->fail_ev, EV_TIMEOUT, 0);
}

static void
fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_transport *x = arg;
	struct transport_req *r;

	(void)fd;
	(void)what;
	while ((r = x->failing) != NULL) {
		req_unlink(r);
		r->cb(r->arg, NULL, 0);
		req_free(x, r);
	}
}

static void
req_free(struct tls_transport *x, struct transport_req *r)
{
	if (x->f->req_free)
		x->f->req_free(r);
	free(r);
}

/* ---------------- a connection ---------------- */

/* Arm the connection's one timer: the earliest deadline of its queries
 * (each query's own: a new query never moves an older one's), the idle
 * limit when none waits, at once when nobody waits on a handshake or a
 * retired connection, or when it is to close. */
static void
conn_arm(struct tls_conn *c)
{
	uint64_t ms;
	struct timeval tv;

	if (c->closing) {
		ms = 0;
	} else if (c->nreqs > 0) {
		uint64_t now = clock_now_ms(), due = UINT64_MAX;
		const struct transport_req *r;

		for (r = c->reqs; r; r = r->next)
			if (r->deadline < due)
				due = r->deadline;
		ms = due > now ? due - now : 0;
	} else if (c->up && !c->retired) {
		ms = CONN_IDLE_MS;
	} else {
		ms = 0;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(c->tmr, &tv);
}

/* Why c is taken for stalled. */
static const char *
stall_why(const struct tls_conn *c)
{
	if (c->nbad)
		return "bad answer";
	return c->up ? "answer timeout" : "handshake did not finish in time";
}

static void
conn_tmr(evutil_socket_t fd, short what, void *arg)
{
	struct tls_conn *c = arg;
	struct transport_req *r, *next;
	uint64_t now = clock_now_ms();
	bool stalled = false;

	(void)fd;
	(void)what;
	if (c->closing) {
		tls_conn_close(c, c->close_why);
		return;
	}
	if (c->nreqs == 0) {
		if (c->up || c->retired)
			tls_conn_close(c, NULL); /* idle, or finished */
		else                             /* nobody waits on the handshake any more */
			tls_conn_close(c, "handshake did not finish in time");
		return;
	}
	/* queries past the whole schedule: given up, one by one */
	c->reading = true; /* closes wait until the loop is done */
	for (r = c->reqs; r; r = next) {
		next = r->next;
		if (r->deadline > now)
			continue;
		if (r->seen == c->nanswers)
			stalled = true;
		if (c->x->f->cancel)
			c->x->f->cancel(c, r);
		fail_req(c->x, r);
	}
	c->reading = false;
	if (c->closing) {
		tls_conn_close(c, c->close_why);
		return;
	}
	if (stalled)
		tls_conn_retire(c, stall_why(c));
	tls_conn_flush(c);
	conn_arm(c);
}

/* The server's state; a change is logged once (failures as warnings). */
static void
srv_state(struct tls_transport *x, size_t server, const char *prefix, const char *why)
{
	struct tls_srv *s = &x->srv[server];
	char st[sizeof(s->state)];
	bool failed = strcmp(prefix, "failed: ") == 0;
	bool was_failed = strncmp(s->state, "failed: ", 8) == 0;

	snprintf(st, sizeof(st), "%s%s", prefix, why);
	if (strcmp(st, s->state) == 0)
		return;
	memcpy(s->state, st, sizeof(st));
	if (failed)
		log_warn("%s: %s", sched_server_label(x->sched, server), why);
	else if (was_failed && strcmp(st, "connected") == 0)
		log_info("%s: connected", sched_server_label(x->sched, server));
}

static void
conn_failed(struct tls_conn *c, const char *why)
{
	if (c->x->srv[c->server].conn == c)
		srv_state(c->x, c->server, "failed: ", why);
	else if (log_verbosity() >= 2)
		log_debug("%s: %s (a retired connection)", tls_conn_label(c), why);
}

void
tls_conn_close_soon(struct tls_conn *c, const char *why)
{
	struct timeval zero = { 0, 0 };

	if (c->closing)
		return;
	c->closing = true;
	c->close_why = why;
	evtimer_add(c->tmr, &zero);
}

void
tls_conn_retire(struct tls_conn *c, const char *why)
{
	struct tls_srv *s = &c->x->srv[c->server];
	struct tls_conn *o;
	size_t n = 0;

	if (s->conn != c)
		return;
	if (why)
		srv_state(c->x, c->server, "failed: ", why);
	s->conn = NULL;
	c->retired = true;
	c->onext = s->old;
	s->old = c;
	/* bounded: beyond the limit the oldest goes, failing its queries */
	for (o = s->old; o; o = o->onext)
		if (++n > CONN_MAX_RETIRED)
			tls_conn_close_soon(o, why);
}

/*
 * Close c.  why != NULL: a failure, its queries fail and the server's
 * state says why; NULL: a quiet close (idle), nothing was waiting.  A
 * retired connection no longer speaks for its server's state.
 */
void
tls_conn_close(struct tls_conn *c, const char *why)
{
	struct tls_transport *x = c->x;
	struct tls_srv *s = &x->srv[c->server];
	struct transport_req *r;

	if (c->reading) {
		/* inside this connection's read callback: finish there */
		c->close_why = why;
		c->closing = true;
		return;
	}
	if (s->conn == c) {
		if (why)
			srv_state(x, c->server, "failed: ", why);
		else
			srv_state(x, c->server, "idle", "");
		s->conn = NULL;
	} else if (c->retired) {
		struct tls_conn **pp;

		for (pp = &s->old; *pp; pp = &(*pp)->onext)
			if (*pp == c) {
				*pp = c->onext;
				break;
			}
		if (why && log_verbosity() >= 2)
			log_debug("%s: %s (a retired connection)", tls_conn_label(c), why);
	}
	while ((r = c->reqs) != NULL)
		fail_req(x, r);
	if (x->f->conn_fini)
		x->f->conn_fini(c);
	if (c->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

		if (ssl && c->up && !why) {
			(void)SSL_shutdown(ssl); /* close_notify, best effort */
			ERR_clear_error();
		}
		bufferevent_free(c->bev);
	}
	event_free(c->tmr);
	free(c);
}

/* Put a request on the wire. */
static void
conn_write(struct tls_conn *c, struct transport_req *r)
{
	if (c->x->f->write(c, r) == 0)
		r->written = true;
	else
		fail_req(c->x, r);
}

static void
conn_write_queued(struct tls_conn *c)
{
	struct transport_req *r, *next;

	for (r = c->reqs; r; r = next) {
		next = r->next;
		if (!r->written)
			conn_write(c, r);
	}
	tls_conn_flush(c);
}

/* Give r its answer, with the caller's ID, and forget it. */
void
tls_conn_answer(struct tls_conn *c, struct transport_req *r, uint8_t *msg, size_t len)
{
	wire_set16_at(msg, len, 0, r->orig_id);
	conn_release(c, r);
	c->nanswers++;
	c->nbad = 0;
	if (c->x->srv[c->server].conn == c)
		srv_state(c->x, c->server, "connected", "");
	r->cb(r->arg, msg, len);
	req_free(c->x, r);
}

void
tls_conn_unexpected(struct tls_conn *c, bool bad)
{
	if (bad)
		c->nbad++;
}

void
tls_conn_fail_req(struct tls_conn *c, struct transport_req *r, const char *why)
{
	conn_failed(c, why);
	fail_req(c->x, r);
}

void
tls_conn_flush(struct tls_conn *c)
{
	if (!c->reading && !c->closing && c->x->f->flush)
		c->x->f->flush(c);
}

enum stub_err
tls_conn_write(struct tls_conn *c, const void *data, size_t len)
{
	/* bufferevent_write fails only when its buffer cannot grow */
	if (c->bev && bufferevent_write(c->bev, data, len) != 0)
		return STUB_ENOMEM;
	return STUB_OK;
}

const struct cfg_server *
tls_conn_server(const struct tls_conn *c)
{
	return &c->x->cfg->servers[c->server];
}

const char *
tls_conn_label(const struct tls_conn *c)
{
	return sched_server_label(c->x->sched, c->server);
}

void **
tls_conn_fstate(struct tls_conn *c)
{
	return &c->fstate;
}

size_t
tls_conn_nreqs(const struct tls_conn *c)
{
	return c->nreqs;
}

bool
tls_conn_retired(const struct tls_conn *c)
{
	return c->retired;
}

bool
tls_conn_closing(const struct tls_conn *c)
{
	return c->closing;
}

const uint8_t *
tls_req_msg(const struct transport_req *r, size_t *len)
{
	*len = r->len - 2;
	return r->pkt + 2;
}

const uint8_t *
tls_req_frame(const struct transport_req *r, size_t *len)
{
	*len = r->len;
	return r->pkt;
}

uint16_t
tls_req_wire_id(const struct transport_req *r)
{
	return r->wire_id;
}

bool
tls_req_written(const struct transport_req *r)
{
	return r->written;
}

int32_t *
tls_req_handle(struct transport_req *r)
{
	return &r->handle;
}

void **
tls_req_fdata(struct transport_req *r)
{
	return &r->fdata;
}

/* A connection object for server (no socket yet): its timer and free
 * slots (taken lowest first). */
static struct tls_conn *
conn_alloc(struct tls_transport *x, size_t server)
{
	struct tls_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->x = x;
	c->server = server;
	c->tmr = evtimer_new(x->base, conn_tmr, c);
	if (!c->tmr) {
		free(c);
		return NULL;
	}
	return c;
}

/* Bytes from the server in `in`, for the framing. */
static void
conn_input(struct tls_conn *c, struct evbuffer *in)
{
	c->reading = true;
	c->x->f->read(c, in);
	c->reading = false;
	if (c->closing) {
		tls_conn_close(c, c->close_why);
		return;
	}
	tls_conn_flush(c);
	conn_arm(c);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	conn_input(arg, bufferevent_get_input(bev));
}

struct tls_conn *
tls_conn_detached(void *impl, size_t server)
{
	struct tls_transport *x = impl;
	struct tls_conn *c;
	char why[100];

	if (server >= x->cfg->nservers || x->cfg->servers[server].transport != x->f->kind ||
	    x->srv[server].conn)
		return NULL;
	c = conn_alloc(x, server);
	if (!c)
		return NULL;
	if (x->f->conn_init(c, NULL, why, sizeof(why)) != 0) {
		event_free(c->tmr);
		free(c);
		return NULL;
	}
	c->up = true;
	x->srv[server].conn = c;
	return c;
}

struct tls_conn *
tls_conn_of(void *impl, size_t server)
{
	struct tls_transport *x = impl;

	return server < x->cfg->nservers ? x->srv[server].conn : NULL;
}

void
tls_conn_feed(struct tls_conn *c, const uint8_t *data, size_t len)
{
	struct evbuffer *in = evbuffer_new();

	if (!in)
		return;
	evbuffer_add(in, data, len);
	conn_input(c, in);
	evbuffer_free(in);
}

static const char *
conn_error(struct tls_conn *c, short events, char *buf, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	const char *v = !c->up && ssl ? tlsctx_verify_error(ssl) : NULL;
	unsigned long e = bufferevent_get_openssl_error(c->bev);
	int err = EVUTIL_SOCKET_ERROR(), soerr = 0;
	socklen_t sl = sizeof(soerr);
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (v)
		return v;
	/* a socket error (refused, reset, unreachable) says more than
	 * OpenSSL's SSL_ERROR_SYSCALL */
	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
		return strerror(soerr);
	if (e && ERR_GET_LIB(e) == 0 && err)
		return strerror(err);
	if (e && ERR_GET_LIB(e) != 0) {
		char ebuf[256];

		ERR_error_string_n(e, ebuf, sizeof(ebuf));
		snprintf(buf, len, "TLS error: %s", ebuf);
		ERR_clear_error();
		return buf;
	}
	if ((events & BEV_EVENT_ERROR) && err)
		return strerror(err);
	return c->up ? "closed by the server" : "closed during the handshake";
}

static void
conn_event(struct bufferevent *bev, short events, void *arg)
{
	struct tls_conn *c = arg;
	struct tls_transport *x = c->x;
	struct tls_srv *sv = &x->srv[c->server];
	char buf[300];

	(void)bev;
	if (events & BEV_EVENT_CONNECTED) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

		sv->handshakes++;
		if (ssl && SSL_session_reused(ssl))
			sv->resumed++;
		if (x->f->conn_init(c, ssl, buf, sizeof(buf)) != 0) {
			tls_conn_close(c, buf);
			return;
		}
		c->up = true;
		if (x->srv[c->server].conn == c)
			srv_state(x, c->server, "connected", "");
		conn_write_queued(c);
		conn_arm(c);
		return;
	}
	if (events & (BEV_EVENT_ERROR | BEV_EVENT_EOF | BEV_EVENT_TIMEOUT)) {
		/* a server closing an idle connection is no failure */
		if (c->up && c->nreqs == 0 && !(events & BEV_EVENT_ERROR))
			tls_conn_close(c, NULL);
		else
			tls_conn_close(c, conn_error(c, events, buf, sizeof(buf)));
	}
}

int
tls_socket_for(const struct cfg *cfg, const struct cfg_server *s)
{
	const struct cfg_adapter *a = &cfg->adapters[s->adapter];
	int fd, on = 1;

	fd = socket(s->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (a->device[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, a->device,
	        (socklen_t)strlen(a->device) + 1) != 0)
		goto fail;
	if (a->source.len && bind(fd, (const struct sockaddr *)&a->source.ss, a->source.len) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static struct tls_conn *
conn_open(struct tls_transport *x, size_t server, char *why, size_t whylen)
{
	const struct cfg_server *s = &x->cfg->servers[server];
	struct tls_conn *c = conn_alloc(x, server);
	SSL *ssl = NULL;
	int fd = -1;

	if (!c)
		goto oom;
	fd = tls_socket_for(x->cfg, s);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		goto fail;
	}
	ssl = tlsctx_new_ssl(x->tls, s, &x->srv[server].ticket, x->f->alpn_h2);
	if (!ssl)
		goto oom;
	c->bev = bufferevent_openssl_socket_new(x->base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!c->bev)
		goto oom;
	fd = -1; /* the bufferevent owns fd and ssl now */
	ssl = NULL;
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (const struct sockaddr *)&s->addr.ss,
	        (int)s->addr.len) != 0) {
		snprintf(why, whylen, "connect: %s", strerror(errno));
		goto fail;
	}
	x->srv[server].conn = c;
	return c;
oom:
	snprintf(why, whylen, "out of memory");
fail:
	if (ssl)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	if (c) {
		if (c->bev)
			bufferevent_free(c->bev);
		if (c->tmr)
			event_free(c->tmr);
		free(c);
	}
	return NULL;
}

/* ---------------- transport ---------------- */

static struct transport_req *
tls_send(void *impl, size_t server, const uint8_t *pkt, size_t len, transport_cb cb, void *arg)
{
	struct tls_transport *x = impl;
	struct tls_srv *s = &x->srv[server];
	size_t cap = len + MSG_OPT_LEN + 4 + MSG_PAD_BLOCK, n;
	struct transport_req *r;
	char why[200];

	if (len < WIRE_HDR_LEN || len > MSG_MAX)
		return NULL;
	r = calloc(1, sizeof(*r) + 2 + cap);
	if (!r)
		return NULL;
	r->cb = cb;
	r->arg = arg;
	wire_get16_at(pkt, len, 0, &r->orig_id);
	memcpy(r->pkt + 2, pkt, len);
	n = msg_pad_query(r->pkt + 2, len, cap, MSG_PAD_BLOCK);
	if (n == 0)
		n = len;
	r->pkt[0] = (uint8_t)(n >> 8);
	r->pkt[1] = (uint8_t)n;
	r->len = n + 2;
	r->deadline = clock_now_ms() + x->timeout_ms;
	if (s->conn && s->conn->closing) /* going: not for new queries */
		tls_conn_retire(s->conn, s->conn->close_why);
	if (!s->conn && !conn_open(x, server, why, sizeof(why))) {
		srv_state(x, server, "failed: ", why);
		req_link(&x->failing, r);
		event_active(x->fail_ev, EV_TIMEOUT, 0);
		return r;
	}
	if (s->conn->nreqs >= CONN_MAX_PENDING) {
		req_link(&x->failing, r);
		event_active(x->fail_ev, EV_TIMEOUT, 0);
		return r;
	}
	if (x->f->req_join(s->conn, r, &r->wire_id) != 0) {
		req_link(&x->failing, r);
		event_active(x->fail_ev, EV_TIMEOUT, 0);
		return r;
	}
	wire_set16_at(r->pkt + 2, n, 0, r->wire_id);
	r->conn = s->conn;
	r->seen = s->conn->nanswers;
	req_link(&s->conn->reqs, r);
	s->conn->nreqs++;
	if (s->conn->up) {
		struct tls_conn *c = s->conn;

		conn_write(c, r);
		tls_conn_flush(c); /* may close c */
	}
	if (s->conn)
		conn_arm(s->conn);
	return r;
}

static void
tls_cancel(void *impl, struct transport_req *r)
{
	struct tls_transport *x = impl;
	struct tls_conn *c;

	if (!r)
		return;
	c = r->conn;
	if (c) {
		if (x->f->cancel)
			x->f->cancel(c, r);
		conn_release(c, r);
		if (c->nreqs == 0 && !c->reading)
			conn_arm(c);
	} else {
		req_unlink(r);
	}
	req_free(x, r);
}

/* r's phase ended unanswered: a connection that answered nothing since r
 * joined it has stalled; it finishes what it has and the next query opens
 * a new one. */
static void
tls_late(void *impl, struct transport_req *r)
{
	struct tls_conn *c = r ? r->conn : NULL;

	(void)impl;
	if (!c || c->retired || r->seen != c->nanswers)
		return;
	tls_conn_retire(c, stall_why(c));
	if (!c->reading)
		conn_arm(c);
}

static void
tls_free(void *impl)
{
	struct tls_transport *x = impl;
	struct transport_req *r;
	size_t i;

	if (!x)
		return;
	for (i = 0; x->srv && i < x->cfg->nservers; i++) {
		struct tls_conn *c;

		while ((c = x->srv[i].conn ? x->srv[i].conn : x->srv[i].old) != NULL) {
			while ((r = c->reqs) != NULL) {
				req_unlink(r);
				req_free(x, r);
			}
			c->nreqs = 0;
			c->reading = false;
			tls_conn_close(c, NULL);
		}
		if (x->srv[i].ticket.sess)
			SSL_SESSION_free(x->srv[i].ticket.sess);
	}
	while ((r = x->failing) != NULL) {
		req_unlink(r);
		req_free(x, r);
	}
	if (x->fail_ev)
		event_free(x->fail_ev);
	free(x->srv);
	tlsctx_unref(x->tls);
	free(x);
}

/* The counters of servers still there (same label: URL and adapter) carry
 * over, and their session tickets when the trust store is the same. */
static void
tls_inherit(void *impl, const void *fromimpl)
{
	struct tls_transport *to = impl;
	const struct tls_transport *from = fromimpl;
	size_t i, k;

	for (i = 0; i < to->cfg->nservers; i++) {
		if (to->cfg->servers[i].transport != to->f->kind)
			continue;
		for (k = 0; k < from->cfg->nservers; k++)
			if (from->cfg->servers[k].transport == from->f->kind &&
			    strcmp(sched_server_label(to->sched, i),
			        sched_server_label(from->sched, k)) == 0) {
				to->srv[i].handshakes = from->srv[k].handshakes;
				to->srv[i].resumed = from->srv[k].resumed;
				break;
			}
	}
	/* a resumed session skips the certificate check: only under the same
	 * trust store (a network change, not a reload that re-read it) */
	if (to->tls != from->tls)
		return;
	for (i = 0; i < to->cfg->nservers; i++) {
		if (to->cfg->servers[i].transport != to->f->kind || to->srv[i].ticket.sess)
			continue;
		for (k = 0; k < from->cfg->nservers; k++) {
			SSL_SESSION *sess = from->srv[k].ticket.sess;

			if (!sess ||
			    !cfg_same_tls_identity(&to->cfg->servers[i], &from->cfg->servers[k]))
				continue;
			if (SSL_SESSION_up_ref(sess) == 1)
				to->srv[i].ticket.sess = sess;
			break;
		}
	}
}

static void
tls_stats(void *impl, size_t server, struct transport_stats *out)
{
	struct tls_transport *x = impl;

	memset(out, 0, sizeof(*out));
	if (!x || server >= x->cfg->nservers || x->cfg->servers[server].transport != x->f->kind) {
		snprintf(out->state, sizeof(out->state), "idle");
		return;
	}
	out->handshakes = x->srv[server].handshakes;
	out->resumed = x->srv[server].resumed;
	snprintf(out->state, sizeof(out->state), "%s", x->srv[server].state);
}

enum stub_err
transport_tls_create(const struct transport_env *env, const struct tls_framing *f,
    struct transport *out, char *why, size_t whylen)
{
	static const struct transport_ops ops = {
		.send = tls_send,
		.cancel = tls_cancel,
		.late = tls_late,
		.stats = tls_stats,
		.inherit = tls_inherit,
		.free = tls_free,
	};
	const struct cfg *cfg = env->cfg;
	struct tls_transport *x;
	size_t i;

	out->ops = NULL;
	out->impl = NULL;
	if (!env->tls) {
		snprintf(why, whylen, "encrypted servers need a TLS context");
		return STUB_EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		goto oom;
	x->base = env->base;
	x->cfg = cfg;
	x->f = f;
	x->sched = env->sched;
	x->timeout_ms = env->timeout_ms;
	x->tls = tlsctx_ref(env->tls);
	if (tlsctx_needs_store(cfg)) {
		char ewhy[400];

		/* a link turned DNS over TLS on after start-up */
		if (tlsctx_load_store(env->tls, ewhy, sizeof(ewhy)) != 0)
			log_err("%s", ewhy);
	}
	x->srv = calloc(cfg->nservers + 1, sizeof(*x->srv));
	x->fail_ev = event_new(env->base, -1, 0, fail_cb, x);
	if (!x->srv || !x->fail_ev)
		goto oom;
	for (i = 0; i < cfg->nservers; i++)
		snprintf(x->srv[i].state, sizeof(x->srv[i].state), "idle");
	out->ops = &ops;
	out->impl = x;
	return STUB_OK;
oom:
	snprintf(why, whylen, "%s transport: out of memory", cfg_transport_name(f->kind));
	tls_free(x);
	return STUB_ENOMEM;
}
