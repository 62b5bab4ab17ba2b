/*
 * mdns.c - one-shot multicast DNS searches (SPEC 19); see mdns.h.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "mdns.h"
#include "mdnsmsg.h"

#define MDNS_MAX_IFS 16
#define MDNS_MAX_ADDRS 8
#define MDNS_READS 16 /* datagrams read per wake-up */
/* searches at once: each holds two sockets, so a flood of .local names
 * cannot take the descriptors the listener and the upstreams need */
#define MDNS_MAX_SEARCHES 256

struct mif {
	unsigned index;
	char name[IF_NAMESIZE];
	size_t n4, n6;
	struct in_addr a4[MDNS_MAX_ADDRS], m4[MDNS_MAX_ADDRS];
	struct in6_addr a6[MDNS_MAX_ADDRS], m6[MDNS_MAX_ADDRS];
	int tr[2]; /* its packets in the trace (v4, v6), -1 = none */
};

struct up_search {
	struct mdns *m;
	struct up_search *prev, *next;
	struct msg_query q;
	up_cb cb;
	void *arg;
	uint64_t t0;
	int fd[2]; /* IPv4, IPv6; -1 = none */
	struct event *ev[2];
	struct event *timer;
	struct mif ifs[MDNS_MAX_IFS];
	size_t nifs;
	struct up_trace *trace;
	uint8_t out[MSG_MAX];
};

struct mdns {
	struct event_base *base;
	struct stats *st;
	uint32_t timeout_ms;
	struct up_search *searches;
	size_t nsearches;
	bool (*off)(void *arg, const char *ifname); /* MulticastDNS no */
	void *off_arg;
};

struct mdns *
mdns_new(struct event_base *base, struct stats *st)
{
	struct mdns *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->base = base;
	m->st = st;
	m->timeout_ms = 1000;
	return m;
}

void
mdns_set_timeout(struct mdns *m, uint32_t ms)
{
	m->timeout_ms = ms;
}

void
mdns_set_skip(struct mdns *m, bool (*off)(void *arg, const char *ifname), void *arg)
{
	m->off = off;
	m->off_arg = arg;
}

static void
search_free(struct up_search *s)
{
	int i;

	s->m->nsearches--;
	if (s->prev)
		s->prev->next = s->next;
	else
		s->m->searches = s->next;
	if (s->next)
		s->next->prev = s->prev;
	for (i = 0; i < 2; i++) {
		if (s->ev[i])
			event_free(s->ev[i]);
		if (s->fd[i] >= 0)
			close(s->fd[i]);
	}
	if (s->timer)
		event_free(s->timer);
	free(s->trace);
	free(s);
}

void
mdns_free(struct mdns *m)
{
	if (!m)
		return;
	while (m->searches)
		search_free(m->searches);
	free(m);
}

/* The interfaces a search asks: up, multicast, not loopback, not set to
 * MulticastDNS no. */
static void
read_interfaces(struct up_search *s)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa) != 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		struct mif *f = NULL;
		unsigned idx;
		size_t k;

		if (!i->ifa_addr || !i->ifa_netmask || !(i->ifa_flags & IFF_UP) ||
		    !(i->ifa_flags & IFF_MULTICAST) || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)
			continue;
		if (s->m->off && s->m->off(s->m->off_arg, i->ifa_name))
			continue;
		idx = if_nametoindex(i->ifa_name);
		if (idx == 0)
			continue;
		for (k = 0; k < s->nifs && !f; k++)
			if (s->ifs[k].index == idx)
				f = &s->ifs[k];
		if (!f) {
			if (s->nifs == MDNS_MAX_IFS)
				continue;
			f = &s->ifs[s->nifs++];
			f->index = idx;
			snprintf(f->name, sizeof(f->name), "%s", i->ifa_name);
			f->tr[0] = f->tr[1] = -1;
		}
		if (i->ifa_addr->sa_family == AF_INET && f->n4 < MDNS_MAX_ADDRS) {
			f->a4[f->n4] = ((const struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr;
			f->m4[f->n4++] =
			    ((const struct sockaddr_in *)(void *)i->ifa_netmask)->sin_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6 && f->n6 < MDNS_MAX_ADDRS) {
			f->a6[f->n6] =
			    ((const struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;
			f->m6[f->n6++] =
			    ((const struct sockaddr_in6 *)(void *)i->ifa_netmask)->sin6_addr;
		}
	}
	freeifaddrs(ifa);
}

static int
trace_add(struct up_search *s, const struct mif *f, bool v6, uint64_t now)
{
	struct up_trace_ev ev = { .sent_ms = (long)(now - s->t0),
		.result = TR_PENDING,
		.at_ms = -1 };

	if (!s->trace)
		return -1; /* untraced */
	snprintf(ev.adapter, sizeof(ev.adapter), "%s", f->name);
	snprintf(ev.server, sizeof(ev.server), "%s", v6 ? "[ff02::fb]:5353" : "224.0.0.251:5353");
	snprintf(ev.transport, sizeof(ev.transport), "mdns");
	return up_trace_add(s->trace, &ev);
}

/* The search ends: with the answer in s->out (n > 0) from interface
 * idx and family v6, or NXDOMAIN (n == 0). */
static void
finish(struct up_search *s, size_t n, unsigned idx, int fam, uint64_t now)
{
	struct msg_resp resp;
	struct up_result res;
	char label[64];
	size_t k;

	memset(&res, 0, sizeof(res));
	if (s->trace)
		for (k = 0; k < s->nifs; k++) {
			int v;

			for (v = 0; v < 2; v++) {
				struct up_trace_ev *ev;

				if (s->ifs[k].tr[v] < 0)
					continue;
				ev = &s->trace->ev[s->ifs[k].tr[v]];
				ev->at_ms = (long)(now - s->t0);
				ev->result = n == 0                    ? TR_TIMEOUT :
				    s->ifs[k].index == idx && v == fam ? TR_ANSWER :
				                                         TR_CANCELLED;
			}
		}
	if (n == 0 ||
	    msg_store_prepare(s->out, n, 0, s->q.qname, s->q.qlen, s->q.qtype, s->q.qclass,
	        &resp) != STUB_OK) {
		n = mdns_nxdomain(&s->q, s->out, sizeof(s->out));
		idx = 0;
		if (n == 0 ||
		    msg_store_prepare(s->out, n, 0, s->q.qname, s->q.qlen, s->q.qtype, s->q.qclass,
		        &resp) != STUB_OK) {
			res.kind = UP_FAIL;
			goto call;
		}
	}
	res.kind = resp.positive ? UP_POSITIVE : UP_NEGATIVE;
	/* an answer is cached (TTLs at most 10 s); the NXDOMAIN of silence
	 * is not */
	res.cacheable = idx != 0;
	res.msg = s->out;
	res.resp = &resp;
call:
	if (idx) {
		char ifn[IF_NAMESIZE] = "?";

		if_indextoname(idx, ifn);
		snprintf(label, sizeof(label), "mdns%%%s", ifn);
	} else {
		snprintf(label, sizeof(label), "mdns");
	}
	res.label = label;
	res.now = now;
	res.trace = s->trace;
	res.ifindex = idx;
	s->cb(s->arg, &res);
	search_free(s);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg, 0, 0, 0, clock_now_ms());
}

/* Is src on the link of interface f (one of its prefixes; for IPv6 also
 * any link-local address, since the packet came in on f)? */
static bool
on_link(const struct mif *f, const struct sockaddr_storage *src)
{
	size_t i, b;

	if (src->ss_family == AF_INET) {
		uint32_t a = ((const struct sockaddr_in *)(const void *)src)->sin_addr.s_addr;

		for (i = 0; i < f->n4; i++)
			if ((a & f->m4[i].s_addr) == (f->a4[i].s_addr & f->m4[i].s_addr))
				return true;
		return false;
	}
	{
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)src)->sin6_addr;

		if (IN6_IS_ADDR_LINKLOCAL(a))
			return true;
		for (i = 0; i < f->n6; i++) {
			for (b = 0; b < 16; b++)
				if ((a->s6_addr[b] & f->m6[i].s6_addr[b]) !=
				    (f->a6[i].s6_addr[b] & f->m6[i].s6_addr[b]))
					break;
			if (b == 16 && !IN6_IS_ADDR_LINKLOCAL(&f->a6[i]))
				return true;
		}
		return false;
	}
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct up_search *s = arg;
	uint8_t buf[MSG_MAX];
	int r;

	(void)what;
	for (r = 0; r < MDNS_READS; r++) {
		struct sockaddr_storage src;
		union {
			char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
			    CMSG_SPACE(sizeof(struct in_pktinfo))];
			struct cmsghdr align;
		} cb;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh;
		struct cmsghdr *c;
		unsigned idx = 0;
		const struct mif *f = NULL;
		uint16_t port;
		ssize_t n;
		size_t k, an;

		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &src;
		mh.msg_namelen = sizeof(src);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cb.b;
		mh.msg_controllen = sizeof(cb.b);
		n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			return;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				idx = (unsigned)pi.ipi_ifindex;
			} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				idx = pi.ipi6_ifindex;
			}
		}
		if (src.ss_family == AF_INET)
			port = ntohs(((struct sockaddr_in *)(void *)&src)->sin_port);
		else if (src.ss_family == AF_INET6)
			port = ntohs(((struct sockaddr_in6 *)(void *)&src)->sin6_port);
		else
			continue;
		/* RFC 6762 6: replies come from port 5353 */
		if (port != MDNS_PORT || idx == 0)
			continue;
		for (k = 0; k < s->nifs && !f; k++)
			if (s->ifs[k].index == idx)
				f = &s->ifs[k];
		if (!f || !on_link(f, &src)) {
			log_debug("mdns: reply from off the queried link ignored");
			continue;
		}
		an = mdns_answer(buf, (size_t)n, &s->q, s->out, sizeof(s->out));
		if (an) {
			finish(s, an, idx, src.ss_family == AF_INET6, clock_now_ms());
			return;
		}
	}
}

static int
open_socket(int fam)
{
	int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, hops = 255;

	if (fd < 0)
		return -1;
	if (fam == AF_INET) {
		unsigned char ttl = 255;

		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)))
			goto fail;
	} else if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops))) {
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Send the query on interface f in family v (0 IPv4, 1 IPv6). */
static void
send_on(struct up_search *s, struct mif *f, int v, const uint8_t *pkt, size_t len, uint64_t now)
{
	ssize_t r;

	if (v == 0) {
		struct ip_mreqn mr;
		struct sockaddr_in to;

		memset(&mr, 0, sizeof(mr));
		mr.imr_ifindex = (int)f->index;
		memset(&to, 0, sizeof(to));
		to.sin_family = AF_INET;
		to.sin_port = htons(MDNS_PORT);
		to.sin_addr.s_addr = htonl(0xe00000fbU);
		if (setsockopt(s->fd[0], IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)))
			return;
		r = sendto(s->fd[0], pkt, len, 0, (struct sockaddr *)&to, sizeof(to));
	} else {
		struct sockaddr_in6 to;
		int idx = (int)f->index;

		memset(&to, 0, sizeof(to));
		to.sin6_family = AF_INET6;
		to.sin6_port = htons(MDNS_PORT);
		to.sin6_addr.s6_addr[0] = 0xff;
		to.sin6_addr.s6_addr[1] = 0x02;
		to.sin6_addr.s6_addr[15] = 0xfb;
		to.sin6_scope_id = f->index;
		if (setsockopt(s->fd[1], IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx)))
			return;
		r = sendto(s->fd[1], pkt, len, 0, (struct sockaddr *)&to, sizeof(to));
	}
	if (r < 0) {
		log_debug("mdns: send on %s: %s", f->name, strerror(errno));
		return;
	}
	s->m->st->mdns_queries++;
	f->tr[v] = trace_add(s, f, v == 1, now);
}

static struct up_search *
if_search(void *impl, const struct msg_query *q, uint32_t slow_ms, bool trace, unsigned need,
    uint64_t now, up_cb cb, void *arg)
{
	struct mdns *m = impl;
	struct up_search *s = calloc(1, sizeof(*s));
	uint8_t pkt[MSG_MAX];
	size_t len, k;
	int v;
	struct timeval tv;
	uint32_t wait = m->timeout_ms;
	bool sent = false;

	(void)slow_ms;
	if (need) { /* SPEC 18: multicast is neither encrypted nor trusted for AD */
		free(s);
		return NULL;
	}
	if (!s)
		return NULL;
	if (m->nsearches >= MDNS_MAX_SEARCHES) {
		free(s);
		return NULL;
	}
	m->nsearches++;
	s->m = m;
	s->q = *q;
	s->cb = cb;
	s->arg = arg;
	s->t0 = now;
	s->fd[0] = s->fd[1] = -1;
	s->next = m->searches;
	if (s->next)
		s->next->prev = s;
	m->searches = s;
	if (trace && !(s->trace = calloc(1, sizeof(*s->trace))))
		goto fail;
	len = mdns_query(q, pkt, sizeof(pkt));
	s->timer = evtimer_new(m->base, on_timeout, s);
	if (!len || !s->timer)
		goto fail;
	read_interfaces(s);
	for (v = 0; v < 2; v++) {
		bool want = false;

		for (k = 0; k < s->nifs; k++)
			want = want || (v == 0 ? s->ifs[k].n4 : s->ifs[k].n6) > 0;
		if (!want)
			continue;
		s->fd[v] = open_socket(v == 0 ? AF_INET : AF_INET6);
		if (s->fd[v] < 0)
			continue;
		s->ev[v] = event_new(m->base, s->fd[v], EV_READ | EV_PERSIST, on_read, s);
		if (!s->ev[v] || event_add(s->ev[v], NULL))
			goto fail;
		for (k = 0; k < s->nifs; k++)
			if ((v == 0 ? s->ifs[k].n4 : s->ifs[k].n6) > 0) {
				send_on(s, &s->ifs[k], v, pkt, len, now);
				sent = true;
			}
	}
	if (!sent)
		wait = 0; /* nobody to ask: NXDOMAIN at once */
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	if (evtimer_add(s->timer, &tv))
		goto fail;
	return s;
fail:
	search_free(s);
	return NULL;
}

static void
if_cancel(void *impl, struct up_search *s)
{
	(void)impl;
	search_free(s);
}

struct upstream_if
mdns_as_if(struct mdns *m)
{
	static const struct upstream_ops ops = { if_search, if_cancel, NULL };
	struct upstream_if u = { &ops, m };

	return u;
}
