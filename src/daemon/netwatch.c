/*
 * netwatch.c - the rtnetlink watcher: a NETLINK_ROUTE socket subscribed to
 * links, addresses and routes; dumps of all three at start (and again
 * when the kernel dropped messages), then events, parsed by netlink.c
 * into a struct ifstate and reported through struct netwatch_ops.
 */
#include "auto-config.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "netwatch.h"

struct netwatch {
	struct netwatch_ops ops;
	struct ifstate ifs; /* the interfaces, from rtnetlink */
	int fd;             /* NETLINK_ROUTE, -1 = none */
	struct event *ev;
	unsigned stage;                  /* dumps: 0 links, 1 addresses, 2 routes, 3 done */
	char changed[8][CFG_IFNAME_MAX]; /* interfaces changed by one datagram */
	size_t nchanged;
};

struct netwatch *
netwatch_new(void)
{
	struct netwatch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = -1;
	ifstate_init(&w->ifs);
	return w;
}

bool
netwatch_running(const struct netwatch *w)
{
	return w && w->fd >= 0;
}

const struct ifstate *
netwatch_ifstate(const struct netwatch *w)
{
	return &w->ifs;
}

static void
changed_if(void *arg, const char *name)
{
	struct netwatch *w = arg;
	size_t i;

	for (i = 0; i < w->nchanged; i++)
		if (strcmp(w->changed[i], name) == 0)
			return;
	if (w->nchanged < sizeof(w->changed) / sizeof(w->changed[0]))
		snprintf(w->changed[w->nchanged++], CFG_IFNAME_MAX, "%s", name);
}

static bool
send_dump(struct netwatch *w, uint16_t type)
{
	uint8_t req[64];
	size_t n = nl_dump_request(req, sizeof(req), type, w->stage + 1);
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	return n &&
	    sendto(w->fd, req, n, 0, (struct sockaddr *)&kernel, sizeof(kernel)) == (ssize_t)n;
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	static const uint16_t dumps[] = { RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE };
	struct netwatch *w = arg;
	static uint8_t buf[65536];
	bool metrics_changed = false;
	ssize_t n;

	(void)what;
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		bool done, changed;
		size_t i;

		if (n < 0) {
			if (errno == ENOBUFS) {
				/* the kernel dropped messages: ask for the whole picture again */
				log_warn("rtnetlink: messages lost; reading the interfaces again");
				w->stage = 0;
				w->ifs.dump_done = false;
				send_dump(w, dumps[0]);
				continue;
			}
			break;
		}
		w->nchanged = 0;
		nl_apply(&w->ifs, buf, (size_t)n, &done, &changed, changed_if, w);
		if (changed && w->ifs.dump_done)
			metrics_changed = true;
		if (done && w->stage < 3) {
			w->stage++;
			if (w->stage < 3) {
				send_dump(w, dumps[w->stage]);
			} else {
				w->ifs.dump_done = true;
				w->ops.link_state(w->ops.arg);
			}
			continue;
		}
		if (!w->ifs.dump_done)
			continue;
		w->ops.link_state(w->ops.arg);
		for (i = 0; i < w->nchanged; i++)
			w->ops.link_changed(w->ops.arg, w->changed[i]);
	}
	if (metrics_changed)
		w->ops.metrics_changed(w->ops.arg);
}

static void
stop(struct netwatch *w)
{
	if (w->ev)
		event_free(w->ev);
	w->ev = NULL;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

void
netwatch_start(struct netwatch *w, struct event_base *base, const struct netwatch_ops *ops)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	w->ops = *ops;
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
	    RTMGRP_IPV6_ROUTE;
	w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (w->fd < 0 || bind(w->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		log_warn("rtnetlink: %s; link state is not followed", strerror(errno));
		stop(w);
		return;
	}
	w->ev = event_new(base, w->fd, EV_READ | EV_PERSIST, read_cb, w);
	if (!w->ev || event_add(w->ev, NULL) != 0 || !send_dump(w, RTM_GETLINK)) {
		log_warn("rtnetlink: cannot start; link state is not followed");
		stop(w);
	}
}

void
netwatch_free(struct netwatch *w)
{
	if (!w)
		return;
	stop(w);
	ifstate_fini(&w->ifs);
	free(w);
}
