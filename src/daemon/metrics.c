/*
 * metrics.c - the HTTP side of `metrics`: accept, one request, the
 * exposition, close.
 */
#include "auto-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "clock.h"
#include "exposition.h"
#include "log.h"
#include "metrics.h"

#define METRICS_READ_TIMEOUT_S 5
#define METRICS_WRITE_TIMEOUT_S 10
#define METRICS_ACCEPT_PAUSE_MS 1000

struct mconn {
	struct metrics *m;
	struct mconn *prev, *next;
	struct bufferevent *bev;
	bool answered;
};

struct metrics {
	struct event_base *base;
	int fd;
	struct event *ev;
	struct event *resume;
	bool paused;
	control_view_fn pull;           /* the daemon's state, pulled */
	void *pull_arg;
	struct mconn *conns;
	size_t nconns;
};

static void
accept_resume(struct metrics *m)
{
	if (m->paused && m->nconns < METRICS_MAX_CONNS) {
		m->paused = false;
		event_add(m->ev, NULL);
	}
}

static void
mconn_free(struct mconn *k)
{
	struct metrics *m = k->m;

	if (k->prev)
		k->prev->next = k->next;
	else
		m->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	bufferevent_free(k->bev);
	free(k);
	m->nconns--;
	accept_resume(m);
}

static void
respond(struct mconn *k, int status, const char *reason, const char *ctype,
    const char *body, size_t len, bool head, const char *extra)
{
	struct evbuffer *out = bufferevent_get_output(k->bev);

	k->answered = true;
	bufferevent_disable(k->bev, EV_READ);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n", status, reason, ctype, len,
	    extra ? extra : "");
	if (!head && len)
		evbuffer_add(out, body, len);
}

static void
handle(struct mconn *k, const char *line)
{
	char method[16], target[256], version[16];
	bool head;

	if (sscanf(line, "%15s %255s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		respond(k, 400, "Bad Request", "text/plain", "bad request\n", 12, false, NULL);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (strcmp(method, "GET") != 0 && !head) {
		respond(k, 405, "Method Not Allowed", "text/plain", "GET or HEAD\n", 12, false,
		    "Allow: GET, HEAD\r\n");
		return;
	}
	if (strcmp(target, "/metrics") != 0 && strncmp(target, "/metrics?", 9) != 0) {
		respond(k, 404, "Not Found", "text/plain", "try /metrics\n", 13, head, NULL);
		return;
	}
	{
		size_t len = 0;
		struct control_view v;
		char *doc;

		k->m->pull(k->m->pull_arg, &v);
		doc = expo_metrics(&v, clock_now_ms(), &len);

		if (!doc) {
			respond(k, 500, "Internal Server Error", "text/plain", "out of memory\n", 14,
			    head, NULL);
			return;
		}
		respond(k, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", doc, len, head,
		    NULL);
		free(doc);
	}
}

static void
mconn_read(struct bufferevent *bev, void *arg)
{
	struct mconn *k = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end;
	char *line;
	size_t n;

	if (k->answered)
		return;
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0) {
		if (evbuffer_get_length(in) > METRICS_REQUEST_MAX)
			respond(k, 431, "Request Header Fields Too Large", "text/plain",
			    "request too large\n", 18, false, NULL);
		return;
	}
	line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
	if (!line) {
		mconn_free(k);
		return;
	}
	handle(k, line);
	free(line);
}

static void
mconn_write(struct bufferevent *bev, void *arg)
{
	struct mconn *k = arg;

	if (k->answered && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		mconn_free(k);
}

static void
mconn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	mconn_free(arg);        /* EOF, error or timeout */
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;

	(void)fd;
	(void)what;
	accept_resume(m);
}

static void
accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;

	(void)what;
	while (m->nconns < METRICS_MAX_CONNS) {
		int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct mconn *k;

		if (c < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				struct timeval tv = { METRICS_ACCEPT_PAUSE_MS / 1000, 0 };

				/* out of descriptors: accept later, do not spin */
				event_del(m->ev);
				m->paused = true;
				evtimer_add(m->resume, &tv);
			}
			return;
		}
		k = calloc(1, sizeof(*k));
		if (!k || !(k->bev = bufferevent_socket_new(m->base, c, BEV_OPT_CLOSE_ON_FREE))) {
			free(k);
			close(c);
			return;
		}
		k->m = m;
		k->next = m->conns;
		if (m->conns)
			m->conns->prev = k;
		m->conns = k;
		m->nconns++;
		bufferevent_setcb(k->bev, mconn_read, mconn_write, mconn_event, k);
		bufferevent_set_timeouts(k->bev,
		    &(struct timeval){ METRICS_READ_TIMEOUT_S, 0 },
		    &(struct timeval){ METRICS_WRITE_TIMEOUT_S, 0 });
		bufferevent_setwatermark(k->bev, EV_READ, 0, METRICS_REQUEST_MAX + 1);
		bufferevent_enable(k->bev, EV_READ | EV_WRITE);
	}
	/* the limit: wait for a connection to end */
	event_del(m->ev);
	m->paused = true;
}

enum stub_err
metrics_new(struct event_base *base, const struct cfg_sockaddr *addr,
    control_view_fn pull, void *pull_arg, struct metrics **out, char *why, size_t whylen)
{
	struct metrics *m = calloc(1, sizeof(*m));
	char text[80];
	int on = 1;

	*out = NULL;
	cfg_format_sockaddr((const struct sockaddr *)&addr->ss, text, sizeof(text));
	if (!m) {
		snprintf(why, whylen, "metrics: out of memory");
		return STUB_ENOMEM;
	}
	m->base = base;
	m->pull = pull;
	m->pull_arg = pull_arg;
	m->fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0)
		goto fail;
	(void)setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(m->fd, (const struct sockaddr *)&addr->ss, addr->len) != 0 ||
	    listen(m->fd, 16) != 0)
		goto fail;
	m->ev = event_new(base, m->fd, EV_READ | EV_PERSIST, accept_cb, m);
	m->resume = evtimer_new(base, resume_cb, m);
	if (!m->ev || !m->resume || event_add(m->ev, NULL) != 0) {
		snprintf(why, whylen, "metrics: out of memory");
		metrics_free(m);
		return STUB_ENOMEM;
	}
	*out = m;
	return STUB_OK;
fail:
	snprintf(why, whylen, "cannot listen on %s for metrics: %s", text, strerror(errno));
	metrics_free(m);
	return STUB_EIO;
}

void
metrics_free(struct metrics *m)
{
	if (!m)
		return;
	while (m->conns)
		mconn_free(m->conns);
	if (m->ev)
		event_free(m->ev);
	if (m->resume)
		event_free(m->resume);
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}
