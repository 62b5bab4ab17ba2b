/*
 * acceptor.c - bounded accept with a pause when out of descriptors.
 */
#include "auto-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "acceptor.h"
#include "log.h"

struct acceptor {
	struct event *ev;     /* the listening socket readable */
	struct event *resume; /* end of a pause */
	struct acceptor_ops ops;
	bool paused;
};

static void
acceptor_pause(struct acceptor *a)
{
	if (a->paused)
		return;
	a->paused = true;
	event_del(a->ev);
}

void
acceptor_resume(struct acceptor *a)
{
	if (!a || !a->paused || (a->ops.full && a->ops.full(a->ops.arg)))
		return;
	a->paused = false;
	event_add(a->ev, NULL);
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	acceptor_resume(arg);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct acceptor *a = arg;
	unsigned i;

	(void)what;
	for (i = 0; i < a->ops.batch; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd;

		if (a->ops.full && a->ops.full(a->ops.arg)) {
			acceptor_pause(a); /* until a connection ends */
			return;
		}
		fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* do not spin on a socket that stays readable */
				struct timeval tv = { ACCEPTOR_PAUSE_MS / 1000,
					(ACCEPTOR_PAUSE_MS % 1000) * 1000 };

				log_warn("%s: accept: %s; pausing for %d ms", a->ops.name,
				    strerror(errno), ACCEPTOR_PAUSE_MS);
				acceptor_pause(a);
				evtimer_add(a->resume, &tv);
			}
			return;
		}
		if (!a->ops.conn(a->ops.arg, fd, (struct sockaddr *)&peer, plen))
			return;
	}
	if (a->ops.full && a->ops.full(a->ops.arg))
		acceptor_pause(a);
}

enum stub_err
acceptor_new(struct event_base *base, int fd, const struct acceptor_ops *ops, struct acceptor **out)
{
	struct acceptor *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return STUB_ENOMEM;
	a->ops = *ops;
	if (a->ops.batch == 0)
		a->ops.batch = 1;
	a->ev = event_new(base, fd, EV_READ | EV_PERSIST, accept_cb, a);
	a->resume = evtimer_new(base, resume_cb, a);
	if (!a->ev || !a->resume || event_add(a->ev, NULL) != 0)
		goto fail;
	*out = a;
	return STUB_OK;
fail:
	acceptor_free(a);
	return STUB_ENOMEM;
}

void
acceptor_free(struct acceptor *a)
{
	if (!a)
		return;
	if (a->ev)
		event_free(a->ev);
	if (a->resume)
		event_free(a->resume);
	free(a);
}
