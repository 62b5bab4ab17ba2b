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

#include "acceptor.h"
#include "clock.h"
#include "exposition.h"
#include "list.h"
#include "log.h"
#include "metrics.h"

#define METRICS_READ_TIMEOUT_S 5
#define METRICS_WRITE_TIMEOUT_S 10

struct mconn {
	struct metrics *m;
	struct list node; /* on m->conns */
	struct bufferevent *bev;
	bool answered;
};

struct metrics {
	struct event_base *base;
	int fd;
	struct acceptor *acc;
	control_view_fn pull; /* the daemon's state, pulled */
	void *pull_arg;
	struct list conns; /* struct mconn */
	size_t nconns;
};

static void
mconn_free(struct mconn *k)
{
	struct metrics *m = k->m;

	list_remove(&k->node);
	bufferevent_free(k->bev);
	free(k);
	m->nconns--;
	acceptor_resume(m->acc);
}

static void
respond(struct mconn *k, int status, const char *reason, const char *ctype, const char *body,
    size_t len, bool head, const char *extra)
{
	struct evbuffer *out = bufferevent_get_output(k->bev);

	k->answered = true;
	bufferevent_disable(k->bev, EV_READ);
	evbuffer_add_printf(out,
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
	    status, reason, ctype, len, extra ? extra : "");
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
			respond(k, 500, "Internal Server Error", "text/plain", "out of memory\n",
			    14, head, NULL);
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
	mconn_free(arg); /* EOF, error or timeout */
}

/* acceptor: at most METRICS_MAX_CONNS at once */
static bool
metrics_full(void *arg)
{
	const struct metrics *m = arg;

	return m->nconns >= METRICS_MAX_CONNS;
}

/* acceptor: a new connection */
static bool
metrics_conn(void *arg, int c, const struct sockaddr *peer, socklen_t peerlen)
{
	struct metrics *m = arg;
	struct mconn *k;

	(void)peer;
	(void)peerlen;
	k = calloc(1, sizeof(*k));
	if (!k || !(k->bev = bufferevent_socket_new(m->base, c, BEV_OPT_CLOSE_ON_FREE))) {
		free(k);
		close(c);
		return false;
	}
	k->m = m;
	list_push_front(&m->conns, &k->node);
	m->nconns++;
	bufferevent_setcb(k->bev, mconn_read, mconn_write, mconn_event, k);
	bufferevent_set_timeouts(k->bev, &(struct timeval){ METRICS_READ_TIMEOUT_S, 0 },
	    &(struct timeval){ METRICS_WRITE_TIMEOUT_S, 0 });
	bufferevent_setwatermark(k->bev, EV_READ, 0, METRICS_REQUEST_MAX + 1);
	bufferevent_enable(k->bev, EV_READ | EV_WRITE);
	return true;
}

enum stub_err
metrics_new(struct event_base *base, const struct cfg_sockaddr *addr, control_view_fn pull,
    void *pull_arg, struct metrics **out, char *why, size_t whylen)
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
	list_init(&m->conns);
	m->fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0)
		goto fail;
	(void)setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(m->fd, (const struct sockaddr *)&addr->ss, addr->len) != 0 ||
	    listen(m->fd, 16) != 0)
		goto fail;
	if (acceptor_new(base, m->fd,
	        &(struct acceptor_ops){ .name = "metrics",
	            .batch = METRICS_MAX_CONNS,
	            .conn = metrics_conn,
	            .full = metrics_full,
	            .arg = m },
	        &m->acc) != STUB_OK) {
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
	while (!list_empty(&m->conns))
		mconn_free(list_first(&m->conns, struct mconn, node));
	acceptor_free(m->acc);
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}
