/*
 * vlserver.c - the varlink socket on libevent (see vlserver.h).
 *
 * A connection reads into a bounded framer (varlink.c) and handles one
 * call at a time, as systemd's own varlink servers do: while a call waits
 * for the pipeline, or while more than VL_OUT_MAX bytes of replies wait to
 * be read, the connection stops reading, so a client can hold at most
 * VL_MSG_MAX bytes of input and one call's questions.  The Monitor's
 * DumpCache reply, as large as the cache, is written a part at a time
 * (a few hundred entries, ops->dump_cache) whenever the output has
 * drained, so a client that does not read holds one part.  Connections are
 * taken by acceptor.c (paused at VL_MAX_CONNS connections, or when out of
 * descriptors); the Monitor's callers are checked by peer.c.
 */
#include "auto-config.h"

#include "acceptor.h"
#include "peer.h"
#include "vlserver.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "rand.h"
#include "resolve.h"
#include "vlresolve.h"

#define VL_BACKLOG 128
#define VL_GEN_MASK 0x3fffffffu /* ids: tag, 30-bit generation, slot, question */

struct vconn {
	struct vlserver *s;
	struct bufferevent *bev;
	struct event *kick; /* go on reading after an answer */
	struct vl_framer fr;
	unsigned slot;
	uint32_t gen;
	bool busy;       /* a call waits for the pipeline */
	bool submitting; /* inside submit: answers may come at once */
	bool oneway;
	bool allowed;    /* monitor: the peer may call */
	bool subscriber; /* monitor: SubscribeQueryResults */
	size_t pending;  /* questions not answered yet */
	/* monitor: a DumpCache reply being written, a part each time the
	 * output drains (no more calls read meanwhile) */
	bool dumping;
	size_t dump_pos;
	struct json dump;
	struct vlr_req req;
	struct vlr_ans ans[VLR_MAXQ];
	uint8_t *ansbuf[VLR_MAXQ];
};

struct vlserver {
	struct event_base *base;
	struct vlserver_ops ops;
	int fd;
	char *path;
	struct acceptor *acc;
	bool monitor;                    /* io.systemd.Resolve.Monitor */
	const struct peer_policy *peers; /* monitor: who may call (the daemon's) */
	size_t nsubs;
	size_t nconns;
	struct vconn *slots[VL_MAX_CONNS];
	uint32_t gens[VL_MAX_CONNS];
};

static void vconn_pump(struct vconn *c);

static uint64_t
make_id(const struct vconn *c, size_t sub)
{
	return VL_REF_TAG | (uint64_t)c->gen << 32 | (uint64_t)c->slot << 1 | sub;
}

static void
vconn_close(struct vconn *c)
{
	struct vlserver *s = c->s;
	size_t i;

	s->slots[c->slot] = NULL;
	s->nconns--;
	if (c->subscriber)
		s->nsubs--;
	for (i = 0; i < VLR_MAXQ; i++)
		free(c->ansbuf[i]);
	if (c->dumping)
		json_free(&c->dump);
	vl_framer_fini(&c->fr);
	bufferevent_free(c->bev);
	event_free(c->kick);
	free(c);
	acceptor_resume(s->acc);
}

static void
vconn_send(struct vconn *c, char *out, size_t len)
{
	if (!c->oneway && out)
		bufferevent_write(c->bev, out, len);
	free(out);
}

/* Every question of the call answered: the reply. */
static void
vconn_finish(struct vconn *c)
{
	struct vlserver *s = c->s;
	size_t len, i;
	char *out = vlr_answer(&c->req, c->ans, s->ops.no_servers(s->ops.arg), &len);

	for (i = 0; i < VLR_MAXQ; i++) {
		free(c->ansbuf[i]);
		c->ansbuf[i] = NULL;
	}
	memset(c->ans, 0, sizeof(c->ans));
	c->busy = false;
	if (!out && !c->oneway)
		out = vl_error("io.systemd.Resolve.QueryAborted", NULL, NULL, &len);
	vconn_send(c, out, len);
}

/* io.systemd.Resolve.Monitor's methods. */
static char *
monitor_call(struct vconn *c, const struct vl_call *call, size_t *len)
{
	struct vlserver *s = c->s;
	const char *m = call->method;
	struct json j;

	if (strncmp(m, "org.varlink.service.", 20) == 0) {
		struct vlr_req req;
		char *out;

		/* GetInfo and friends as on the other socket */
		vlr_call(call, s->ops.version, &req, &out, len);
		return out;
	}
	if (!c->allowed)
		return vl_error("org.varlink.service.PermissionDenied", NULL, NULL, len);
	if (strcmp(m, "io.systemd.Resolve.Monitor.SubscribeQueryResults") == 0) {
		if (!call->more)
			return vl_error("org.varlink.service.ExpectedMore", NULL, NULL, len);
		if (!c->subscriber) {
			c->subscriber = true;
			s->nsubs++;
		}
		vl_reply_begin(&j);
		json_key(&j, "ready");
		json_bool(&j, true);
		return vl_end(&j, true, len);
	}
	if (strcmp(m, "io.systemd.Resolve.Monitor.DumpStatistics") == 0) {
		vl_reply_begin(&j);
		s->ops.dump_stats(s->ops.arg, &j);
		return vl_end(&j, false, len);
	}
	if (strcmp(m, "io.systemd.Resolve.Monitor.ResetStatistics") == 0) {
		s->ops.reset_stats(s->ops.arg);
		vl_reply_begin(&j);
		return vl_end(&j, false, len);
	}
	if (strcmp(m, "io.systemd.Resolve.Monitor.DumpServerState") == 0) {
		vl_reply_begin(&j);
		json_key(&j, "dump");
		json_arr_begin(&j);
		if (s->ops.dump_servers)
			s->ops.dump_servers(s->ops.arg, &j);
		json_arr_end(&j);
		return vl_end(&j, false, len);
	}
	if (strcmp(m, "io.systemd.Resolve.Monitor.DumpCache") == 0) {
		if (call->oneway)
			return NULL;
		/* one scope, the unicast and multicast answers alike; its
		 * entries follow in parts (dump_part) */
		vl_reply_begin(&c->dump);
		json_key(&c->dump, "dump");
		json_arr_begin(&c->dump);
		json_obj_begin(&c->dump);
		json_key(&c->dump, "protocol");
		json_str(&c->dump, "dns");
		json_key(&c->dump, "cache");
		json_arr_begin(&c->dump);
		c->dumping = true;
		c->dump_pos = s->ops.dump_cache ? 0 : VL_DUMP_END;
		*len = 0;
		return NULL;
	}
	return vl_error("org.varlink.service.MethodNotFound", "method", m, len);
}

/* The next part of a DumpCache reply onto the output; false when the
 * connection must go (out of memory). */
static bool
dump_part(struct vconn *c)
{
	struct vlserver *s = c->s;
	char *out;
	size_t len;
	bool last;

	/* a part that wrote nothing would never drain: go on to one that does */
	do {
		if (c->dump_pos != VL_DUMP_END)
			c->dump_pos = s->ops.dump_cache(s->ops.arg, c->dump_pos, &c->dump);
	} while (c->dump_pos != VL_DUMP_END && !c->dump.len && !c->dump.err);
	last = c->dump_pos == VL_DUMP_END;
	if (last) {
		json_arr_end(&c->dump); /* cache */
		json_obj_end(&c->dump); /* the scope */
		json_arr_end(&c->dump); /* dump */
		c->dumping = false;
		out = vl_end(&c->dump, false, &len); /* frees the writer */
	} else {
		out = json_drain(&c->dump, &len);
	}
	if (!out) {
		if (c->dumping)
			json_free(&c->dump);
		c->dumping = false;
		return false;
	}
	if (len)
		bufferevent_write(c->bev, out, len);
	free(out);
	return true;
}

bool
vlserver_monitor_active(const struct vlserver *s)
{
	return s && s->nsubs > 0;
}

void
vlserver_monitor_answer(struct vlserver *s, const uint8_t *buf, size_t len)
{
	size_t n, i, left;
	char *ev;

	if (!vlserver_monitor_active(s) || !len)
		return;
	ev = vlr_monitor_event(buf, len, &n);
	if (!ev)
		return;
	for (i = 0, left = s->nsubs; i < VL_MAX_CONNS && left; i++) {
		struct vconn *c = s->slots[i];

		if (!c || !c->subscriber)
			continue;
		left--;
		/* never inside a DumpCache reply being written */
		if (c->dumping)
			continue;
		/* lost rather than waited for */
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) + n <= VL_OUT_MAX)
			bufferevent_write(c->bev, ev, n);
	}
	free(ev);
}

/* One message: a reply now, or questions to the pipeline.  false: the
 * peer broke the protocol. */
static bool
vconn_call(struct vconn *c, const char *msg, size_t mlen)
{
	struct vlserver *s = c->s;
	struct vl_call call;
	char *out;
	size_t len, i;
	enum vlr_verdict v;

	if (vl_call_parse(msg, mlen, &call) != STUB_OK)
		return false;
	if (s->monitor) {
		out = monitor_call(c, &call, &len);
		c->oneway = call.oneway;
		vl_call_free(&call);
		if (c->dumping)
			return dump_part(c);
		if (!out && !c->oneway)
			return false;
		vconn_send(c, out, len);
		return true;
	}
	v = vlr_call(&call, s->ops.version, &c->req, &out, &len);
	c->oneway = call.oneway;
	vl_call_free(&call);
	if (v == VLR_REPLY) {
		if (!out && !c->oneway)
			return false;
		vconn_send(c, out, len);
		return true;
	}
	c->busy = true;
	c->pending = c->req.nq;
	c->submitting = true;
	for (i = 0; i < c->req.nq; i++) {
		uint8_t pkt[WIRE_HDR_LEN + WIRE_NAME_MAX + 4 + 16];
		size_t n = vlr_query_packet(&c->req, i, rand_u16(), pkt, sizeof(pkt));

		c->ans[i].source = SRC_LOCAL;
		if (!n || s->ops.submit(s->ops.arg, make_id(c, i), pkt, n) != 0)
			c->pending--; /* answered as dropped */
	}
	c->submitting = false;
	if (c->pending == 0)
		vconn_finish(c);
	return true;
}

static void
vconn_pump(struct vconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	for (;;) {
		const char *msg;
		size_t mlen, room;
		int r;

		if (c->busy || c->dumping ||
		    evbuffer_get_length(bufferevent_get_output(c->bev)) > VL_OUT_MAX) {
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		room = vl_framer_room(&c->fr);
		if (room && evbuffer_get_length(in)) {
			char tmp[4096];
			int n = evbuffer_remove(in, tmp, room < sizeof(tmp) ? room : sizeof(tmp));

			if (n > 0 && vl_framer_feed(&c->fr, tmp, (size_t)n) != STUB_OK) {
				vconn_close(c);
				return;
			}
		}
		r = vl_framer_next(&c->fr, &msg, &mlen);
		if (r < 0) {
			log_debug("varlink: a message longer than %d bytes; closing", VL_MSG_MAX);
			vconn_close(c);
			return;
		}
		if (r == 0) {
			if (evbuffer_get_length(in) && vl_framer_room(&c->fr))
				continue;
			bufferevent_enable(c->bev, EV_READ);
			return;
		}
		if (!vconn_call(c, msg, mlen)) {
			log_debug("varlink: not a varlink call; closing");
			vconn_close(c);
			return;
		}
	}
}

static void
vconn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	vconn_pump(arg);
}

static void
vconn_write_cb(struct bufferevent *bev, void *arg)
{
	struct vconn *c = arg;

	(void)bev;
	/* the output drained: the next part of a dump, or read on */
	if (c->dumping && !dump_part(c)) {
		vconn_close(c);
		return;
	}
	if (!c->busy && !c->dumping)
		vconn_pump(c);
}

static void
vconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		vconn_close(arg);
}

static void
vconn_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	vconn_pump(arg);
}

void
vlserver_answer(struct vlserver *s, uint64_t id, const uint8_t *buf, size_t len,
    const struct reply_info *ri)
{
	unsigned slot = (unsigned)(id & 0xffffffffu) >> 1;
	size_t sub = id & 1;
	struct vconn *c;

	if (!s || slot >= VL_MAX_CONNS)
		return;
	c = s->slots[slot];
	if (!c || c->gen != (uint32_t)((id >> 32) & VL_GEN_MASK) || !c->busy || sub >= c->req.nq ||
	    c->ans[sub].msg || !c->pending)
		return;
	vlr_ans_take(&c->ans[sub], &c->ansbuf[sub], buf, len, ri);
	if (--c->pending || c->submitting)
		return;
	vconn_finish(c);
	/* read on from the loop, not from inside the pipeline */
	event_active(c->kick, EV_TIMEOUT, 1);
}

/* acceptor_ops: at most VL_MAX_CONNS connections at once. */
static bool
vl_full(void *arg)
{
	const struct vlserver *s = arg;

	return s->nconns >= VL_MAX_CONNS;
}

/* acceptor_ops: a new connection (the acceptor pauses on a full table and
 * when out of descriptors). */
static bool
vl_conn(void *arg, int cfd, const struct sockaddr *peer, socklen_t peerlen)
{
	struct vlserver *s = arg;
	struct vconn *c;
	unsigned i;

	(void)peer;
	(void)peerlen;
	for (i = 0; i < VL_MAX_CONNS && s->slots[i]; i++)
		;
	c = calloc(1, sizeof(*c));
	if (!c || i == VL_MAX_CONNS)
		goto fail;
	c->s = s;
	c->slot = i;
	s->gens[i] = (s->gens[i] + 1) & VL_GEN_MASK;
	if (s->gens[i] == 0)
		s->gens[i] = 1;
	c->gen = s->gens[i];
	vl_framer_init(&c->fr);
	c->kick = event_new(s->base, -1, 0, vconn_kick_cb, c);
	c->bev = bufferevent_socket_new(s->base, cfd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->kick || !c->bev)
		goto fail;
	if (s->monitor) {
		char who[32];

		c->allowed = peer_allowed_fd(s->peers, cfd, who, sizeof(who));
	} else {
		c->allowed = true;
	}
	s->slots[i] = c;
	s->nconns++;
	bufferevent_setcb(c->bev, vconn_read_cb, vconn_write_cb, vconn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, VL_MSG_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return true;
fail:
	if (c && c->bev)
		bufferevent_free(c->bev);
	else
		close(cfd);
	if (c && c->kick)
		event_free(c->kick);
	free(c);
	return false;
}

enum stub_err
vlserver_new(struct event_base *base, const char *dir, bool monitor,
    const struct peer_policy *peers, const struct vlserver_ops *ops, struct vlserver **out,
    char *why, size_t whylen)
{
	struct vlserver *s;
	struct sockaddr_un sun;
	mode_t old;
	int probe;

	*out = NULL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", dir,
	        monitor ? VL_MONITOR_SOCKET : VL_RESOLVE_SOCKET) >= sizeof(sun.sun_path)) {
		snprintf(why, whylen, "varlink socket in %s: path too long", dir);
		return STUB_EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(why, whylen, "varlink: out of memory");
		return STUB_ENOMEM;
	}
	s->base = base;
	s->ops = *ops;
	s->monitor = monitor;
	s->peers = peers;
	s->fd = -1;
	/* resolved's runtime directory, and /run/systemd above it */
	if (mkdir(dir, 0755) != 0 && errno == ENOENT) {
		char *up = strdup(dir), *slash = up ? strrchr(up, '/') : NULL;

		if (slash && slash != up) {
			*slash = '\0';
			mkdir(up, 0755);
		}
		free(up);
		mkdir(dir, 0755);
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			snprintf(why, whylen,
			    "varlink socket %s is in use (is systemd-resolved "
			    "running? mask it first)",
			    sun.sun_path);
			free(s);
			return STUB_EEXIST;
		}
		close(probe);
	}
	unlink(sun.sun_path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto fail;
	old = umask(0);
	if (bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(old);
		goto fail;
	}
	umask(old);
	/* any local user may resolve (SPEC 16); the monitor checks its
	 * callers itself, as resolved does */
	if (chmod(sun.sun_path, 0666) != 0 || listen(s->fd, VL_BACKLOG) != 0)
		goto fail;
	s->path = strdup(sun.sun_path);
	if (!s->path ||
	    acceptor_new(base, s->fd,
	        &(struct acceptor_ops){ .name = "varlink",
	            .batch = 16,
	            .conn = vl_conn,
	            .full = vl_full,
	            .arg = s },
	        &s->acc) != STUB_OK)
		goto fail;
	*out = s;
	return STUB_OK;
fail:
	snprintf(why, whylen, "varlink socket %s: %s", sun.sun_path, strerror(errno));
	if (s->fd >= 0) {
		close(s->fd);
		unlink(sun.sun_path);
	}
	free(s->path);
	free(s);
	return STUB_EIO;
}

const char *
vlserver_path(const struct vlserver *s)
{
	return s ? s->path : NULL;
}

void
vlserver_free(struct vlserver *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < VL_MAX_CONNS; i++)
		if (s->slots[i])
			vconn_close(s->slots[i]);
	acceptor_free(s->acc);
	close(s->fd);
	unlink(s->path);
	free(s->path);
	free(s);
}
