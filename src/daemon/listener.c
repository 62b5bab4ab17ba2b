/*
 * listener.c - UDP and TCP client sockets.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sockios.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/event.h>

#include "acceptor.h"
#include "clock.h"
#include "list.h"
#include "listener.h"
#include "log.h"

#define UDP_BATCH 32
#define UDP_BUF 4096
#define TCP_RBUF_MIN 4096           /* a connection's read buffer; grows to one whole frame */
#define TCP_SNDBUF (128 * 1024)     /* asked of the kernel per client (it doubles it) */
#define TCP_TOTAL_QUEUED (8u << 20) /* unsent answers of all clients together */
#define TCP_DROP_LOG_MS 10000       /* one line about dropped clients per 10 s at most */
/* the TCP listen queue: a burst of clients connecting at once (hundreds
 * under max-tcp-clients) waits there for accept; a full queue drops a SYN
 * and that client waits a second for its retransmission.  The kernel caps
 * it at net.core.somaxconn. */
#define TCP_BACKLOG SOMAXCONN
#define TRIM_AFTER (1 << 20) /* bytes freed by dropped clients before malloc_trim */
#define TRIM_DELAY_MS 1000

struct lsock {
	struct listener *l;
	int fd;
	int tcp;
	struct event *ev;     /* UDP: readable */
	struct acceptor *acc; /* TCP */
};

/* An answer (or what the kernel did not take of it) waiting to be written. */
struct obuf {
	struct obuf *next;
	size_t len, off; /* bytes in data, bytes of them written */
	size_t msglen;   /* the DNS message's length, counted in oq_bytes */
	uint8_t data[];
};

struct tcp_conn {
	struct listener *l;
	struct list node; /* on l->conns, once closed on l->closed_conns */
	int fd;
	struct event *rev, *wev, *idle;
	uint8_t *rbuf; /* frames read, not yet handed on */
	size_t rlen, rcap;
	struct obuf *oq, *oq_tail; /* the head is the answer being written */
	unsigned oq_count;         /* answers queued, not yet written */
	size_t oq_bytes;           /* their DNS message bytes (without length prefixes) */
	size_t oq_mem;             /* bytes allocated for them */
	unsigned pending;          /* queries handed to the resolver, not yet answered */
	int closed;                /* fd closed; struct lives while pending > 0 */
	int eof;                   /* client sent EOF: finish answers, then close */
	int read_paused;
	int processing; /* inside conn_process() */
	struct sockaddr_storage peer;
	socklen_t peerlen;
};

struct listener {
	struct event_base *base;
	const struct cfg *cfg;
	struct resolver *res;
	struct lsock *socks;
	size_t nsocks;
	struct list conns; /* struct tcp_conn */
	size_t nconns;
	struct list closed_conns; /* closed, still owed answers (pending > 0) */
	uint32_t max_conns;       /* max-tcp-clients, kept under the open-file limit */
	uint32_t lowered_to;      /* the lowered limit last logged, 0 = none */
	/* clients dropped for not reading or stalling: logged at most once
	 * per TCP_DROP_LOG_MS with a count of the others */
	uint64_t drop_log_ms;
	unsigned drops_unlogged;
	/* memory freed by dropped clients, given back to the system in one
	 * malloc_trim after TRIM_DELAY_MS */
	size_t freed;
	struct event *trim_tmr;
	size_t queued; /* bytes allocated for every client's unsent answers */
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage peers[UDP_BATCH];
	uint8_t bufs[UDP_BATCH][UDP_BUF];
	/* UDP answers made while a batch is processed, sent with one sendmmsg */
	int out_fd; /* socket being batched, or -1 */
	unsigned nout;
	struct mmsghdr omsgs[UDP_BATCH];
	struct iovec oiov[UDP_BATCH];
	struct sockaddr_storage opeers[UDP_BATCH];
	uint8_t obufs[UDP_BATCH][UDP_BUF];
};

static void conn_close(struct tcp_conn *c);
static void conn_free_if_done(struct tcp_conn *c);
static void tcp_limit_update(struct listener *l, const struct cfg *cfg);
static void accept_resume(struct listener *l);
static void trim_tmr_cb(evutil_socket_t fd, short what, void *arg);

/* ---------------- sockets ---------------- */

/* What every UDP listen socket gets, bound here or passed by systemd. */
static void
udp_tune(int fd, int family)
{
	int sz = 1 << 20;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
#ifdef IP_PMTUDISC_OMIT
	/* answers are never fragmented by path MTU games (as unbound does);
	 * it also spares the kernel an IP ID per packet */
	if (family == AF_INET) {
		int v = IP_PMTUDISC_OMIT;

		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	}
#else
	(void)family;
#endif
}

static int
open_sock(const struct cfg_sockaddr *a, int tcp, char *why, size_t whylen)
{
	const struct sockaddr *sa = (const struct sockaddr *)&a->ss;
	int fd, on = 1, e;
	char text[80];

	fd = socket(sa->sa_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, sa, a->len) != 0)
		goto fail;
	if (tcp && listen(fd, TCP_BACKLOG) != 0)
		goto fail;
	if (!tcp)
		udp_tune(fd, sa->sa_family);
	return fd;
fail:
	e = errno;
	cfg_format_sockaddr(sa, text, sizeof(text));
	snprintf(why, whylen, "cannot listen on %s: %s%s", text, strerror(e),
	    (e == EACCES || e == EPERM) ?
	        " (try -l 127.0.0.1:5353 or run as root)" :
	        /* SPEC 16: resolved-compat takes resolved's stub address */
	        e == EADDRINUSE && cfg_stub_addr(a) ?
	        " (resolved-compat listens there: is systemd-resolved "
	        "still running? systemctl mask --now systemd-resolved)" :
	        "");
	if (fd >= 0)
		close(fd);
	errno = e;
	return -1;
}

static void udp_cb(evutil_socket_t fd, short what, void *arg);
static bool tcp_full(void *arg);
static bool tcp_conn(void *arg, int cfd, const struct sockaddr *peer, socklen_t plen);

/* A socket systemd passed: UDP or a listening TCP socket, non-blocking. */
static int
adopt_sock(int fd, int *tcp, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int type = 0, acc = 0, fl;
	socklen_t tl = sizeof(type), al = sizeof(acc);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    (type != SOCK_DGRAM && type != SOCK_STREAM)) {
		snprintf(why, whylen, "socket %d passed by systemd is not an IP UDP or TCP socket",
		    fd);
		return -1;
	}
	*tcp = type == SOCK_STREAM;
	if (*tcp && (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) != 0 || !acc) &&
	    listen(fd, TCP_BACKLOG) != 0) {
		snprintf(why, whylen, "socket %d passed by systemd: listen: %s", fd,
		    strerror(errno));
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		snprintf(why, whylen, "socket %d passed by systemd: %s", fd, strerror(errno));
		return -1;
	}
	if (!*tcp)
		udp_tune(fd, ss.ss_family);
	return 0;
}

enum stub_err
listener_new(struct event_base *base, const struct cfg *cfg, const int *fds, size_t nfds,
    struct listener **out, char *why, size_t whylen)
{
	struct listener *l = calloc(1, sizeof(*l));
	enum stub_err e = STUB_ENOMEM;
	size_t i;

	*out = NULL;
	if (!l)
		goto fail;
	l->base = base;
	l->cfg = cfg;
	l->out_fd = -1;
	list_init(&l->conns);
	list_init(&l->closed_conns);
	l->socks = calloc(cfg->nlistens * 2 + nfds + 1, sizeof(*l->socks));
	l->trim_tmr = evtimer_new(base, trim_tmr_cb, l);
	if (!l->socks || !l->trim_tmr)
		goto fail;
	/* socket activation: systemd's sockets instead of the listen lines */
	for (i = 0; i < nfds; i++) {
		struct lsock *s = &l->socks[l->nsocks];
		int tcp;

		if (adopt_sock(fds[i], &tcp, why, whylen) != 0) {
			e = STUB_EINVAL;
			goto fail;
		}
		s->fd = fds[i];
		s->l = l;
		s->tcp = tcp;
		l->nsocks++;
	}
	for (i = 0; i < cfg->nlistens && nfds == 0; i++) {
		int t;

		for (t = 0; t < 2; t++) {
			struct lsock *s = &l->socks[l->nsocks];

			s->fd = open_sock(&cfg->listens[i], t, why, whylen);
			if (s->fd < 0) {
				e = STUB_EIO;
				goto fail;
			}
			s->l = l;
			s->tcp = t;
			l->nsocks++;
		}
	}
	for (i = 0; i < UDP_BATCH; i++) {
		l->iov[i].iov_base = l->bufs[i];
		l->iov[i].iov_len = UDP_BUF;
	}
	tcp_limit_update(l, cfg);
	*out = l;
	return STUB_OK;
fail:
	if (e == STUB_ENOMEM)
		snprintf(why, whylen, "out of memory");
	listener_free(l);
	return e;
}

void
listener_start(struct listener *l, struct resolver *r)
{
	size_t i;

	l->res = r;
	for (i = 0; i < l->nsocks; i++) {
		struct lsock *s = &l->socks[i];

		if (s->tcp) {
			(void)acceptor_new(l->base, s->fd,
			    &(struct acceptor_ops){ .name = "TCP",
			        .batch = 64,
			        .conn = tcp_conn,
			        .full = tcp_full,
			        .arg = l },
			    &s->acc);
			continue;
		}
		s->ev = event_new(l->base, s->fd, EV_READ | EV_PERSIST, udp_cb, s);
		if (s->ev)
			event_add(s->ev, NULL);
	}
}

void
listener_set_cfg(struct listener *l, const struct cfg *cfg)
{
	l->cfg = cfg;
	tcp_limit_update(l, cfg);
	accept_resume(l);
}

void
listener_free(struct listener *l)
{
	size_t i;

	if (!l)
		return;
	while (!list_empty(&l->conns))
		conn_close(list_first(&l->conns, struct tcp_conn, node));
	while (!list_empty(&l->closed_conns)) {
		struct tcp_conn *c = list_first(&l->closed_conns, struct tcp_conn, node);

		/* the resolver is gone too at shutdown: nobody answers */
		c->pending = 0;
		conn_free_if_done(c);
	}
	for (i = 0; i < l->nsocks; i++) {
		if (l->socks[i].ev)
			event_free(l->socks[i].ev);
		acceptor_free(l->socks[i].acc);
		if (l->socks[i].fd >= 0)
			close(l->socks[i].fd);
	}
	if (l->trim_tmr)
		event_free(l->trim_tmr);
	free(l->socks);
	free(l);
}

/* ---------------- UDP ---------------- */

static void
udp_flush(struct listener *l)
{
	unsigned sent = 0;

	while (sent < l->nout) {
		int n = sendmmsg(l->out_fd, l->omsgs + sent, l->nout - sent, MSG_DONTWAIT);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break; /* buffer full or error: the rest is lost, as with sendto */
		}
		sent += (unsigned)n;
	}
	l->nout = 0;
}

static void
udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lsock *s = arg;
	struct listener *l = s->l;
	int rounds, n, i;
	uint64_t now;

	(void)what;
	for (rounds = 0; rounds < 4; rounds++) {
		for (i = 0; i < UDP_BATCH; i++) {
			memset(&l->msgs[i].msg_hdr, 0, sizeof(l->msgs[i].msg_hdr));
			l->msgs[i].msg_hdr.msg_name = &l->peers[i];
			l->msgs[i].msg_hdr.msg_namelen = sizeof(l->peers[i]);
			l->msgs[i].msg_hdr.msg_iov = &l->iov[i];
			l->msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, l->msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		l->out_fd = fd;
		l->nout = 0;
		now = clock_now_ms();
		for (i = 0; i < n; i++) {
			struct client_ref ref;

			ref.fd = fd;
			ref.conn = NULL;
			ref.ctl = 0;
			ref.trace = false;
			memcpy(&ref.peer, &l->peers[i], sizeof(ref.peer));
			ref.peerlen = l->msgs[i].msg_hdr.msg_namelen;
			resolver_query(l->res, l->bufs[i], l->msgs[i].msg_len, &ref, false, now);
		}
		udp_flush(l);
		l->out_fd = -1;
		if (n < UDP_BATCH)
			return;
	}
}

/* queue a UDP answer for the batch being processed, or send it now */
static void
udp_send(struct listener *l, const struct client_ref *ref, const uint8_t *buf, size_t len)
{
	struct mmsghdr *m;

	if (ref->fd != l->out_fd || l->nout >= UDP_BATCH || len > UDP_BUF) {
		sendto(ref->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&ref->peer,
		    ref->peerlen);
		return;
	}
	m = &l->omsgs[l->nout];
	memcpy(l->obufs[l->nout], buf, len);
	memcpy(&l->opeers[l->nout], &ref->peer, ref->peerlen);
	l->oiov[l->nout].iov_base = l->obufs[l->nout];
	l->oiov[l->nout].iov_len = len;
	memset(&m->msg_hdr, 0, sizeof(m->msg_hdr));
	m->msg_hdr.msg_name = &l->opeers[l->nout];
	m->msg_hdr.msg_namelen = ref->peerlen;
	m->msg_hdr.msg_iov = &l->oiov[l->nout];
	m->msg_hdr.msg_iovlen = 1;
	l->nout++;
}

/*
 * The number of TCP clients served at once: max-tcp-clients, lowered so
 * that idle and stalled clients leave descriptors for everything else
 * (SPEC 7): the listen and control sockets, the upstream sockets and TLS
 * connections (a few per server), rtnetlink, the hosts worker, files.
 */
uint32_t
listener_tcp_limit(uint32_t configured, uint64_t nofile, size_t nsocks, size_t nservers)
{
	uint64_t reserve = TCP_FD_RESERVE + nsocks + TCP_FD_PER_SERVER * (uint64_t)nservers;

	if (nofile <= reserve)
		return 1;
	if (nofile - reserve < configured)
		return (uint32_t)(nofile - reserve);
	return configured;
}

static void
tcp_limit_update(struct listener *l, const struct cfg *cfg)
{
	struct rlimit rl;

	l->max_conns = cfg->max_tcp_clients;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	l->max_conns = listener_tcp_limit(cfg->max_tcp_clients, (uint64_t)rl.rlim_cur, l->nsocks,
	    cfg->nservers);
	if (l->max_conns < cfg->max_tcp_clients && l->max_conns != l->lowered_to)
		log_warn("max-tcp-clients %u lowered to %u: the open-file limit is %llu and "
		         "upstream sockets need room",
		    cfg->max_tcp_clients, l->max_conns, (unsigned long long)rl.rlim_cur);
	l->lowered_to = l->max_conns < cfg->max_tcp_clients ? l->max_conns : 0;
}

/* A client left or the limit rose: accept again where paused. */
static void
accept_resume(struct listener *l)
{
	size_t i;

	for (i = 0; i < l->nsocks; i++)
		acceptor_resume(l->socks[i].acc);
}

/* Give memory freed by dropped clients back to the system: without it the
 * heap keeps its high-water mark after they leave. */
static void
trim_tmr_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	l->freed = 0;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

static void
note_freed(struct listener *l, size_t bytes)
{
	struct timeval tv = { TRIM_DELAY_MS / 1000, (TRIM_DELAY_MS % 1000) * 1000 };

	l->freed += bytes;
	if (l->freed >= TRIM_AFTER && !evtimer_pending(l->trim_tmr, NULL))
		evtimer_add(l->trim_tmr, &tv);
}

/* Progress: the idle (and stall) timeout starts again. */
static void
conn_touch(struct tcp_conn *c)
{
	struct timeval tv = { TCP_IDLE_MS / 1000, (TCP_IDLE_MS % 1000) * 1000 };

	evtimer_add(c->idle, &tv);
}

static void
conn_free_if_done(struct tcp_conn *c)
{
	if (!c->closed || c->pending > 0)
		return;
	list_remove(&c->node);
	free(c->rbuf);
	free(c);
}

static void
conn_close(struct tcp_conn *c)
{
	struct listener *l = c->l;
	struct obuf *o, *n;
	size_t freed = 0;

	if (c->closed)
		return;
	c->closed = 1;
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->idle);
	close(c->fd);
	c->fd = -1;
	for (o = c->oq; o; o = n) {
		n = o->next;
		freed += o->len;
		free(o);
	}
	c->oq = c->oq_tail = NULL;
	c->oq_count = 0;
	c->oq_bytes = 0;
	l->queued -= c->oq_mem;
	c->oq_mem = 0;
	/* rbuf stays until c is freed: the resolver may still be reading a
	 * query in it */
	/* kept on closed_conns until freed (at shutdown, whatever is owed) */
	list_remove(&c->node);
	list_push_front(&l->closed_conns, &c->node);
	l->nconns--;
	note_freed(l, freed);
	accept_resume(l);
}

/*
 * Drop a client that does not read what it asked for (SPEC 7): reset, so
 * the kernel discards what it still holds for it too.  Logged at most once
 * per TCP_DROP_LOG_MS, with the number dropped since.
 */
static void
conn_drop(struct tcp_conn *c, const char *why)
{
	struct listener *l = c->l;
	struct linger lg = { 1, 0 };
	uint64_t now = clock_now_ms();

	if (c->closed)
		return;
	if (l->drop_log_ms == 0 || now - l->drop_log_ms >= TCP_DROP_LOG_MS) {
		char peer[80];

		cfg_format_sockaddr((const struct sockaddr *)&c->peer, peer, sizeof(peer));
		if (l->drops_unlogged)
			log_warn("TCP client %s closed: %s (and %u other clients since the last "
			         "such message)",
			    peer, why, l->drops_unlogged);
		else
			log_warn("TCP client %s closed: %s", peer, why);
		l->drop_log_ms = now;
		l->drops_unlogged = 0;
	} else {
		l->drops_unlogged++;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	conn_close(c);
}

static void conn_process(struct tcp_conn *c);

static void
conn_maybe_resume_read(struct tcp_conn *c)
{
	if (c->read_paused && !c->closed && !c->oq &&
	    c->pending + c->oq_count < TCP_MAX_PENDING / 2) {
		c->read_paused = 0;
		if (!c->eof)
			event_add(c->rev, NULL);
		conn_process(c); /* frames already read come first */
	}
}

/* Take the head of the output queue off once written. */
static void
oq_pop(struct tcp_conn *c)
{
	struct obuf *o = c->oq;

	c->oq = o->next;
	if (!c->oq)
		c->oq_tail = NULL;
	c->oq_count--;
	c->oq_bytes -= o->msglen;
	c->oq_mem -= o->len;
	c->l->queued -= o->len;
	free(o);
}

/* Write what can be written; returns -1 if the connection was closed.
 * Bytes written are progress: the idle timeout starts again. */
static int
conn_flush(struct tcp_conn *c)
{
	int progress = 0;

	while (c->oq) {
		struct obuf *o = c->oq;
		ssize_t w = send(c->fd, o->data + o->off, o->len - o->off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				event_add(c->wev, NULL);
				if (progress)
					conn_touch(c);
				return 0;
			}
			if (errno == EINTR)
				continue;
			conn_close(c);
			return -1;
		}
		progress = 1;
		o->off += (size_t)w;
		if (o->off == o->len)
			oq_pop(c);
	}
	event_del(c->wev);
	if (progress)
		conn_touch(c);
	if (c->eof && c->pending == 0) {
		conn_close(c);
		return -1;
	}
	return 0;
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;

	(void)fd;
	(void)what;
	if (conn_flush(c) == 0)
		conn_maybe_resume_read(c);
	conn_free_if_done(c);
}

/* Nothing read and nothing written for TCP_IDLE_MS (RFC 7766: no
 * progress).  Idle: closed.  Answers waiting for a client that does not
 * read them (in our queue or the kernel's): dropped.  Answers still to
 * come from upstream: wait for them. */
static void
conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;
	int unsent = 0;

	(void)fd;
	(void)what;
	if (!c->oq && ioctl(c->fd, SIOCOUTQ, &unsent) != 0)
		unsent = 0;
	if (c->oq || unsent > 0)
		conn_drop(c, "not reading its answers for 10 s");
	else if (c->pending == 0)
		conn_close(c);
	else
		conn_touch(c); /* answers still to come */
	conn_free_if_done(c);
}

/* Room for the frame at the start of the read buffer (its length is
 * known), or back to the small buffer when little is left. */
static int
conn_rbuf_fit(struct tcp_conn *c, size_t need)
{
	uint8_t *nb;

	if (need < TCP_RBUF_MIN)
		need = TCP_RBUF_MIN;
	if (need == c->rcap || (need < c->rcap && c->rlen > TCP_RBUF_MIN))
		return 0;
	nb = realloc(c->rbuf, need);
	if (!nb)
		return need > c->rcap ? -1 : 0;
	c->rbuf = nb;
	c->rcap = need;
	return 0;
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;
	ssize_t r;

	(void)what;
	if (c->rlen >= c->rcap) {
		/* cannot happen: conn_process makes room for a frame */
		conn_close(c);
		conn_free_if_done(c);
		return;
	}
	r = recv(fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_close(c);
		conn_free_if_done(c);
		return;
	}
	if (r == 0) {
		c->eof = 1;
		event_del(c->rev);
		if (c->pending == 0 && !c->oq) {
			conn_close(c);
			conn_free_if_done(c);
		}
		return;
	}
	c->rlen += (size_t)r;
	conn_touch(c);
	conn_process(c);
	conn_free_if_done(c);
}

/* Hand every complete frame to the resolver (answers may come back at
 * once); stop at TCP_MAX_PENDING queries in progress until half are done. */
static void
conn_process(struct tcp_conn *c)
{
	struct listener *l = c->l;
	size_t done = 0;

	if (c->processing)
		return;
	c->processing = 1;
	c->pending++; /* hold c while we loop */
	while (c->rlen - done >= 2 && !c->closed) {
		const uint8_t *f = c->rbuf + done;
		size_t mlen = (size_t)f[0] << 8 | f[1];
		struct client_ref ref;

		/* queries in progress and answers the client has not read yet;
		 * and no new question while answers wait in our queue (the
		 * kernel's is full): answers from the cache would come faster
		 * than the client takes them */
		if (c->pending + c->oq_count > TCP_MAX_PENDING || c->oq) {
			c->read_paused = 1;
			event_del(c->rev);
			break;
		}
		if (c->rlen - done < 2 + mlen)
			break;
		ref.fd = -1;
		ref.ctl = 0;
		ref.trace = false;
		ref.conn = c;
		ref.peer = c->peer;
		ref.peerlen = c->peerlen;
		c->pending++;
		resolver_query(l->res, f + 2, mlen, &ref, true, clock_now_ms());
		done += 2 + mlen;
	}
	if (!c->closed) {
		if (done) {
			memmove(c->rbuf, c->rbuf + done, c->rlen - done);
			c->rlen -= done;
		}
		/* room for the next frame whole, or the small buffer again */
		if (conn_rbuf_fit(c,
		        c->rlen >= 2 ? 2 + ((size_t)c->rbuf[0] << 8 | c->rbuf[1]) : 0) != 0)
			conn_close(c);
	}
	c->pending--;
	c->processing = 0;
}

/* acceptor: max-tcp-clients (as lowered) reached */
static bool
tcp_full(void *arg)
{
	const struct listener *l = arg;

	return l->nconns >= l->max_conns;
}

/* acceptor: a new TCP client */
static bool
tcp_conn(void *arg, int cfd, const struct sockaddr *peer, socklen_t plen)
{
	struct listener *l = arg;
	struct tcp_conn *c;
	int sndbuf = TCP_SNDBUF;

	/* what the kernel holds for a client that does not read is
	 * bounded too */
	setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return false;
	}
	c->l = l;
	c->fd = cfd;
	memcpy(&c->peer, peer, plen);
	c->peerlen = plen;
	c->rbuf = malloc(TCP_RBUF_MIN);
	c->rcap = TCP_RBUF_MIN;
	c->rev = event_new(l->base, cfd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->wev = event_new(l->base, cfd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
	c->idle = evtimer_new(l->base, conn_idle_cb, c);
	if (!c->rbuf || !c->rev || !c->wev || !c->idle) {
		if (c->rev)
			event_free(c->rev);
		if (c->wev)
			event_free(c->wev);
		if (c->idle)
			event_free(c->idle);
		close(cfd);
		free(c->rbuf);
		free(c);
		return false;
	}
	list_push_front(&l->conns, &c->node);
	l->nconns++;
	event_add(c->rev, NULL);
	conn_touch(c);
	return true;
}

/*
 * Room for n more bytes of unsent answers among all clients: past
 * TCP_TOTAL_QUEUED the client holding the most is dropped, until there is
 * room.  Returns false when that was c itself.
 */
static bool
tcp_room(struct tcp_conn *c, size_t n)
{
	struct listener *l = c->l;

	while (l->queued + n > TCP_TOTAL_QUEUED) {
		struct tcp_conn *big = c;
		struct list *p;

		list_for_each(p, &l->conns)
		{
			struct tcp_conn *x = list_entry(p, struct tcp_conn, node);

			if (x->oq_mem > big->oq_mem)
				big = x;
		}
		conn_drop(big,
		    "not reading its answers (too many answers waiting "
		    "for all clients)");
		if (big == c)
			return false;
		conn_free_if_done(big);
	}
	return true;
}

/*
 * An answer for a TCP client: written at once when nothing is queued
 * (only what the kernel does not take is copied), else queued behind the
 * answer being written, up to TCP_MAX_QUEUED bytes; past that the client
 * is not reading and is dropped (SPEC 7).
 */
static void
tcp_answer(struct tcp_conn *c, const uint8_t *buf, size_t len)
{
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	size_t off = 0, n;
	struct obuf *o;

	if (!c->oq) {
		struct iovec iov[2] = { { hdr, 2 }, { (void *)buf, len } };
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t w;

		do
			w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_close(c);
			return;
		}
		if (w > 0) {
			conn_touch(c);
			off = (size_t)w;
		}
		if (off == 2 + len)
			return;
	} else if (c->oq_bytes - c->oq->msglen + len > TCP_MAX_QUEUED) {
		conn_drop(c, "not reading its answers (64 KiB waiting)");
		return;
	}
	n = 2 + len - off; /* what the kernel did not take */
	if (!tcp_room(c, n))
		return;
	o = malloc(sizeof(*o) + n);
	if (!o)
		return; /* lost, as a UDP answer would be */
	o->next = NULL;
	o->len = n;
	o->off = 0;
	o->msglen = len;
	if (off < 2) {
		memcpy(o->data, hdr + off, 2 - off);
		memcpy(o->data + 2 - off, buf, len);
	} else {
		memcpy(o->data, buf + (off - 2), n);
	}
	if (c->oq_tail)
		c->oq_tail->next = o;
	else
		c->oq = o;
	c->oq_tail = o;
	c->oq_count++;
	c->oq_bytes += len;
	c->oq_mem += n;
	c->l->queued += n;
	event_add(c->wev, NULL);
}

void
listener_reply(void *io, const struct client_ref *ref, const uint8_t *buf, size_t len)
{
	struct tcp_conn *c;

	if (!ref->conn) {
		if (len)
			udp_send(io, ref, buf, len);
		return;
	}
	c = ref->conn;
	c->pending--;
	if (c->closed) {
		conn_free_if_done(c);
		return;
	}
	if (len > 0 && len <= 65535)
		tcp_answer(c, buf, len); /* len 0: nothing to send (dropped query) */
	if (!c->closed && !c->oq && c->eof && c->pending == 0)
		conn_close(c);
	if (!c->closed)
		conn_maybe_resume_read(c);
	conn_free_if_done(c);
}
