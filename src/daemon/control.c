/*
 * control.c - the control socket: accept, peer credentials, one line in,
 * the answer of ctlcmd.c out.
 */
#include "auto-config.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "acceptor.h"
#include "clock.h"
#include "control.h"
#include "list.h"
#include "log.h"
#include "peer.h"

#define CONTROL_BACKLOG 16
#define CONTROL_WRITE_TIMEOUT_S 30       /* a client that stops reading is dropped */
#define CONTROL_STREAM_LOW (64 * 1024)   /* write the next part below this */
#define CONTROL_STREAM_PARTS 8           /* parts per turn of the loop at most */
#define CONTROL_MONITOR_MAX (256 * 1024) /* a monitor's unread lines; beyond: lost */

struct control {
	struct event_base *base;
	char *path;
	int fd;
	const struct peer_policy *peers; /* who may use the socket (the daemon's) */
	struct acceptor *acc;
	control_view_fn pull; /* the daemon's state, pulled */
	void *pull_arg;
	struct control_view view; /* as last pulled */
	struct list conns;        /* struct cconn */
	uint64_t next_query;      /* ids of stubctl query requests */
	size_t nmonitors;
};

/* The daemon's state now, into c->view. */
static const struct control_view *
view_of(struct control *c)
{
	c->pull(c->pull_arg, &c->view);
	return &c->view;
}

struct cconn {
	struct control *c;
	struct list node; /* on c->conns */
	struct bufferevent *bev;
	struct ctl_stream *stream; /* a document still being written */
	struct event *more;        /* go on with the stream next turn */
	bool replied;
	uint64_t query; /* waiting for the answer of this query, 0 = none */
	bool monitor;   /* stubctl monitor: lines until it goes */
	uint64_t lost;  /* monitor lines dropped since the last written */
};

static void cconn_reply(struct cconn *k, char *json, struct ctl_stream *stream);

static void
cconn_free(struct cconn *k)
{
	list_remove(&k->node);
	ctl_stream_free(k->stream);
	if (k->more)
		event_free(k->more);
	if (k->monitor)
		k->c->nmonitors--;
	bufferevent_free(k->bev);
	free(k);
}

/* A monitor that fell behind: say how many lines it lost, once it can. */
static void
monitor_say_lost(struct cconn *k)
{
	char line[64];

	if (!k->lost)
		return;
	snprintf(line, sizeof(line), "{\"" CTL_K_LOST "\":%llu}\n", (unsigned long long)k->lost);
	evbuffer_add(bufferevent_get_output(k->bev), line, strlen(line));
	k->lost = 0;
}

bool
control_monitor_active(const struct control *c)
{
	return c && c->nmonitors > 0;
}

void
control_monitor_line(struct control *c, const char *line)
{
	struct list *p;
	size_t n = strlen(line);

	if (!c)
		return;
	list_for_each(p, &c->conns)
	{
		struct cconn *k = list_entry(p, struct cconn, node);
		struct evbuffer *out;

		if (!k->monitor)
			continue;
		out = bufferevent_get_output(k->bev);
		if (evbuffer_get_length(out) + n > CONTROL_MONITOR_MAX) {
			k->lost++; /* never wait for a slow reader */
			continue;
		}
		monitor_say_lost(k);
		evbuffer_add(out, line, n);
		evbuffer_add(out, "\n", 1);
	}
}

void
control_query_done(struct control *c, uint64_t id, char *json)
{
	struct list *p;

	if (!c) {
		free(json);
		return;
	}
	list_for_each(p, &c->conns)
	{
		struct cconn *k = list_entry(p, struct cconn, node);

		if (k->query == id) {
			k->query = 0;
			cconn_reply(k, json, NULL);
			return;
		}
	}
	free(json); /* the client went away meanwhile */
}

/*
 * Write more of a streamed document: parts until the output holds enough
 * to wait on, a few parts per turn of the loop so DNS is answered in
 * between.  Returns false when the connection was freed.
 */
static bool
cconn_pump(struct cconn *k)
{
	struct evbuffer *out = bufferevent_get_output(k->bev);
	int parts;

	for (parts = 0; k->stream && parts < CONTROL_STREAM_PARTS &&
	     evbuffer_get_length(out) < CONTROL_STREAM_LOW;
	     parts++) {
		bool done = false;
		size_t len;
		char *part = ctl_stream_next(k->stream, view_of(k->c), clock_now_ms(), &len, &done);

		if (!part) {
			log_err("control: out of memory writing an answer");
			cconn_free(k);
			return false;
		}
		evbuffer_add(out, part, len);
		free(part);
		if (done) {
			ctl_stream_free(k->stream);
			k->stream = NULL;
			evbuffer_add(out, "\n", 1);
		}
	}
	if (k->stream && evbuffer_get_length(out) < CONTROL_STREAM_LOW) {
		/* nothing to wait for (a filter skipped everything): next turn */
		struct timeval zero = { 0, 0 };

		evtimer_add(k->more, &zero);
	}
	if (!k->stream && evbuffer_get_length(out) == 0) {
		cconn_free(k);
		return false;
	}
	return true;
}

static void
cconn_more_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	cconn_pump(arg);
}

static void
cconn_write_cb(struct bufferevent *bev, void *arg)
{
	struct cconn *k = arg;

	if (k->monitor) {
		monitor_say_lost(k);
		return;
	}
	if (k->stream) {
		cconn_pump(k);
		return;
	}
	if (k->replied && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		cconn_free(k);
}

static void
cconn_reply(struct cconn *k, char *json, struct ctl_stream *stream)
{
	struct evbuffer *out = bufferevent_get_output(k->bev);

	k->replied = true;
	bufferevent_disable(k->bev, EV_READ);
	bufferevent_set_timeouts(k->bev, NULL, &(struct timeval){ CONTROL_WRITE_TIMEOUT_S, 0 });
	if (json) {
		evbuffer_add(out, json, strlen(json));
		evbuffer_add(out, "\n", 1);
		free(json);
	}
	if (stream) {
		k->stream = stream;
		k->more = evtimer_new(k->c->base, cconn_more_cb, k);
		if (!k->more) {
			cconn_free(k);
			return;
		}
		/* the write callback asks for more below the low watermark */
		bufferevent_setwatermark(k->bev, EV_WRITE, CONTROL_STREAM_LOW, 0);
		cconn_pump(k);
		return;
	}
	if (evbuffer_get_length(out) == 0)
		cconn_free(k);
}

/* query: the answer comes later (control_query_done); monitor: lines
 * come as queries are answered, the connection stays until it goes. */
static void
cconn_later(struct cconn *k, const struct ctl_later *later)
{
	char err[256];

	k->replied = true;
	bufferevent_set_timeouts(k->bev, NULL, &(struct timeval){ CONTROL_WRITE_TIMEOUT_S, 0 });
	if (later->kind == CTL_LATER_MONITOR) {
		/* reading on only to see it go; a monitor that never reads is
		 * cut off by the write timeout */
		k->monitor = true;
		k->c->nmonitors++;
		return;
	}
	bufferevent_disable(k->bev, EV_READ);
	k->query = ++k->c->next_query;
	view_of(k->c);
	if (!k->c->view.query ||
	    k->c->view.query(k->c->view.arg, k->query, later, err, sizeof(err)) != STUB_OK) {
		k->query = 0;
		cconn_reply(k, ctl_error("%s", k->c->view.query ? err : "query is not available"),
		    NULL);
	}
}

static void
cconn_read_cb(struct bufferevent *bev, void *arg)
{
	struct cconn *k = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	char *line, who[64];

	if (k->replied)
		return;
	line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
	if (!line) {
		if (evbuffer_get_length(in) >= CTL_LINE_MAX)
			cconn_reply(k, ctl_error("request line too long"), NULL);
		return;
	}
	if (n >= CTL_LINE_MAX) {
		free(line);
		cconn_reply(k, ctl_error("request line too long"), NULL);
		return;
	}
	if (!peer_allowed_fd(k->c->peers, bufferevent_getfd(bev), who, sizeof(who))) {
		gid_t gid = peer_policy_gid(k->c->peers);
		struct group *g = gid == (gid_t)-1 ? NULL : getgrgid(gid);

		log_warn("control: %s refused", who);
		free(line);
		/* say who may, so the refused user knows what to ask for */
		if (g)
			cconn_reply(k,
			    ctl_error("permission denied: root, stubd's user and "
			              "the members of control-group %s may use this socket",
			        g->gr_name),
			    NULL);
		else
			cconn_reply(k,
			    ctl_error("permission denied: root and stubd's user may "
			              "use this socket (control-group lets a group in)"),
			    NULL);
		return;
	}
	{
		enum ctl_access access;
		struct ctl_stream *stream;
		struct ctl_later later;
		char *doc;

		control_start(view_of(k->c), line, &doc, &stream, &access, &later);
		if (access == CTL_MUTATING)
			log_info("control: %s: %s", who, line);
		else if (log_verbosity() >= 1)
			log_debug("control: %s: %s", who, line);
		free(line);
		if (!doc && !stream && later.kind != CTL_LATER_NONE) {
			cconn_later(k, &later);
			return;
		}
		if (!doc && !stream)
			doc = ctl_error("out of memory");
		cconn_reply(k, doc, stream);
	}
}

static void
cconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct cconn *k = arg;

	(void)bev;
	if (!k->replied && (what & BEV_EVENT_TIMEOUT)) {
		cconn_reply(k, ctl_error("timed out waiting for the request line"), NULL);
		return;
	}
	if (!k->replied && (what & BEV_EVENT_EOF)) {
		/* a last line without newline */
		struct evbuffer *in = bufferevent_get_input(k->bev);

		if (evbuffer_get_length(in) > 0 && evbuffer_get_length(in) < CTL_LINE_MAX) {
			evbuffer_add(in, "\n", 1);
			cconn_read_cb(k->bev, k);
			return;
		}
	}
	cconn_free(k);
}

/* acceptor: a new control connection */
static bool
control_conn(void *arg, int cfd, const struct sockaddr *peer, socklen_t peerlen)
{
	struct control *c = arg;
	struct cconn *k;

	(void)peer;
	(void)peerlen;
	k = calloc(1, sizeof(*k));
	if (!k) {
		close(cfd);
		return false;
	}
	k->c = c;
	k->bev = bufferevent_socket_new(c->base, cfd, BEV_OPT_CLOSE_ON_FREE);
	if (!k->bev) {
		close(cfd);
		free(k);
		return false;
	}
	list_push_front(&c->conns, &k->node);
	bufferevent_setcb(k->bev, cconn_read_cb, cconn_write_cb, cconn_event_cb, k);
	bufferevent_setwatermark(k->bev, EV_READ, 0, CTL_LINE_MAX + 1);
	bufferevent_set_timeouts(k->bev, &(struct timeval){ CTL_READ_TIMEOUT_MS / 1000, 0 }, NULL);
	bufferevent_enable(k->bev, EV_READ | EV_WRITE);
	return true;
}

/* Another stubd answering on the socket at sun? */
static bool
socket_in_use(const struct sockaddr_un *sun)
{
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (probe < 0)
		return false;
	live = connect(probe, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(probe);
	return live;
}

/* Who may reach the socket file: 0660 and control-group gid, or 0600
 * when there is none. */
static enum stub_err
socket_permit(const char *path, gid_t gid, char *why, size_t whylen)
{
	if (gid == (gid_t)-1) {
		if (chmod(path, 0600) != 0)
			goto fail;
		return STUB_OK;
	}
	if (chown(path, (uid_t)-1, gid) != 0) {
		int e = errno;
		const struct group *g = getgrgid(gid); /* once, at start */

		snprintf(why, whylen,
		    "control socket %s: cannot give it to control-group "
		    "%s: %s%s",
		    path, g ? g->gr_name : "?", strerror(e),
		    e == EPERM ? " (stubd's user must be a member of that group)" : "");
		return STUB_EIO;
	}
	if (chmod(path, 0660) != 0)
		goto fail;
	return STUB_OK;
fail:
	snprintf(why, whylen, "control socket %s: %s", path, strerror(errno));
	return STUB_EIO;
}

/* A listening socket at sun, replacing a stale file, its mode set for
 * gid: the descriptor in *fd. */
static enum stub_err
socket_create(const struct sockaddr_un *sun, gid_t gid, int *fd, char *why, size_t whylen)
{
	const char *path = sun->sun_path;
	mode_t old;
	int s;

	*fd = -1;
	unlink(path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		snprintf(why, whylen, "control socket %s: %s", path, strerror(errno));
		return STUB_EIO;
	}
	old = umask(0177);
	if (bind(s, (const struct sockaddr *)sun, sizeof(*sun)) != 0) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (socket_permit(path, gid, why, whylen) != STUB_OK)
		goto fail_why;
	if (listen(s, CONTROL_BACKLOG) != 0)
		goto fail;
	*fd = s;
	return STUB_OK;
fail:
	snprintf(why, whylen, "control socket %s: %s", path, strerror(errno));
fail_why:
	close(s);
	unlink(path);
	return STUB_EIO;
}

enum stub_err
control_new(struct event_base *base, const char *path, const struct peer_policy *peers,
    control_view_fn pull, void *pull_arg, struct control **out, char *why, size_t whylen)
{
	struct control *c = NULL;
	struct sockaddr_un sun;
	enum stub_err e;
	int fd;

	*out = NULL;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(why, whylen, "control socket %s: path too long", path);
		return STUB_EINVAL;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if (socket_in_use(&sun)) {
		snprintf(why, whylen, "control socket %s is in use by another stubd", path);
		return STUB_EEXIST;
	}
	e = socket_create(&sun, peer_policy_gid(peers), &fd, why, whylen);
	if (e != STUB_OK)
		return e;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	c->base = base;
	c->peers = peers;
	c->pull = pull;
	c->pull_arg = pull_arg;
	c->fd = fd;
	list_init(&c->conns);
	c->path = strdup(path);
	if (!c->path ||
	    acceptor_new(base, c->fd,
	        &(struct acceptor_ops){ .name = "control",
	            .batch = 1,
	            .conn = control_conn,
	            .arg = c },
	        &c->acc) != STUB_OK)
		goto fail;
	*out = c;
	return STUB_OK;
fail:
	snprintf(why, whylen, "control socket %s: out of memory", path);
	close(fd);
	unlink(path);
	if (c) {
		acceptor_free(c->acc);
		free(c->path);
		free(c);
	}
	return STUB_ENOMEM;
}

void
control_free(struct control *c)
{
	if (!c)
		return;
	while (!list_empty(&c->conns))
		cconn_free(list_first(&c->conns, struct cconn, node));
	acceptor_free(c->acc);
	if (c->fd >= 0)
		close(c->fd);
	if (c->path)
		unlink(c->path);
	free(c->path);
	free(c);
}
