/*
 * control.c - control socket server and commands.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "stubd/ctl.h"
#include "clock.h"
#include "control.h"
#include "json.h"
#include "log.h"
#include "rrtext.h"

struct control {
	struct event_base *base;
	char *path;
	int fd;
	gid_t gid;
	struct event *ev;
	struct control_view view;
	struct cconn *conns;
};

/* ---------------- commands ---------------- */

static char *
error_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
error_json(const char *fmt, ...)
{
	struct json j;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, CTL_K_ERROR);
	json_str(&j, msg);
	json_obj_end(&j);
	return json_take(&j, NULL);
}

static const char *
class_name(uint16_t c, char buf[16])
{
	if (c == CLASS_IN)
		return "IN";
	if (c == 3)
		return "CH";
	snprintf(buf, 16, "CLASS%u", c);
	return buf;
}

struct dd {
	struct json *j;
	const uint8_t *filter;
	size_t flen;
};

static int
dd_record(const struct rrtext *rr, void *arg)
{
	struct json *j = arg;
	char tb[16];

	json_obj_begin(j);
	json_key(j, "section");
	json_str(j, rrtext_section(rr->section));
	json_key(j, "name");
	json_str(j, rr->name);
	json_key(j, "type");
	json_str(j, wire_type_name(rr->type, tb));
	json_key(j, "ttl");
	json_u64(j, rr->ttl);
	json_key(j, "data_length");
	json_u64(j, rr->rdlen);
	json_key(j, "data");
	json_str(j, rr->data);
	json_obj_end(j);
	return 0;
}

static int
dd_cache(const struct cache_info *in, void *arg)
{
	struct dd *d = arg;
	struct json *j = d->j;
	char name[WIRE_NAME_TEXT], tb[16], cb[16];
	static const char *const st[] = { "NOERROR", "NXDOMAIN", "NODATA" };

	if (d->filter && !wire_name_eq_ci(in->name, in->namelen, d->filter, d->flen))
		return 0;
	if (!wire_name_to_text(in->name, in->namelen, name, sizeof(name)))
		return 0;
	json_obj_begin(j);
	json_key(j, "name");
	json_str(j, name);
	json_key(j, "type");
	json_str(j, wire_type_name(in->qtype, tb));
	json_key(j, "class");
	json_str(j, class_name(in->qclass, cb));
	json_key(j, "source");
	json_str(j, "cache");
	json_key(j, "status");
	json_str(j, st[in->status]);
	json_key(j, "ttl");
	json_u64(j, in->ttl);
	json_key(j, "original_ttl");
	json_u64(j, in->original_ttl);
	json_key(j, "stale");
	json_bool(j, in->stale);
	json_key(j, "hits");
	json_u64(j, in->hits);
	json_key(j, "dnssec_ok");
	json_bool(j, in->do_bit);
	json_key(j, "upstream");
	if (in->upstream && *in->upstream)
		json_str(j, in->upstream);
	else
		json_null(j);
	json_key(j, "records");
	json_arr_begin(j);
	rrtext_foreach(in->msg, in->msglen, in->age, dd_record, j);
	json_arr_end(j);
	json_obj_end(j);
	return j->err;
}

struct ddh {
	struct dd *d;
	uint32_t ttl;
	const uint8_t *cur_name;      /* open entry: name and type */
	size_t cur_len;
	uint16_t cur_type;
	bool open;
};

static void
ddh_close(struct ddh *h)
{
	if (!h->open)
		return;
	json_arr_end(h->d->j);
	json_obj_end(h->d->j);
	h->open = false;
}

static int
dd_hosts(const struct hosts_rec *r, void *arg)
{
	struct ddh *h = arg;
	struct json *j = h->d->j;
	char name[WIRE_NAME_TEXT], data[WIRE_NAME_TEXT], tb[16];

	if (h->d->filter && !wire_name_eq_ci(r->name, r->namelen, h->d->filter, h->d->flen))
		return 0;
	if (!wire_name_to_text(r->name, r->namelen, name, sizeof(name)))
		return 0;
	if (r->type == TYPE_PTR) {
		if (!wire_name_to_text(r->rdata, r->rdlen, data, sizeof(data)))
			return 0;
	} else if (!inet_ntop(r->type == TYPE_A ? AF_INET : AF_INET6, r->rdata, data,
	    sizeof(data))) {
		return 0;
	}
	if (!h->open || h->cur_type != r->type || h->cur_name != r->name) {
		ddh_close(h);
		json_obj_begin(j);
		json_key(j, "name");
		json_str(j, name);
		json_key(j, "type");
		json_str(j, wire_type_name(r->type, tb));
		json_key(j, "class");
		json_str(j, "IN");
		json_key(j, "source");
		json_str(j, "hosts");
		json_key(j, "status");
		json_str(j, "NOERROR");
		json_key(j, "ttl");
		json_u64(j, h->ttl);
		json_key(j, "original_ttl");
		json_u64(j, h->ttl);
		json_key(j, "stale");
		json_bool(j, false);
		json_key(j, "hits");
		json_u64(j, 0);
		json_key(j, "upstream");
		json_null(j);
		json_key(j, "records");
		json_arr_begin(j);
		h->open = true;
		h->cur_name = r->name;
		h->cur_type = r->type;
	}
	json_obj_begin(j);
	json_key(j, "section");
	json_str(j, "answer");
	json_key(j, "name");
	json_str(j, name);
	json_key(j, "type");
	json_str(j, wire_type_name(r->type, tb));
	json_key(j, "ttl");
	json_u64(j, h->ttl);
	json_key(j, "data_length");
	json_u64(j, r->type == TYPE_PTR ? r->rdlen : r->type == TYPE_A ? 4 : 16);
	json_key(j, "data");
	json_str(j, data);
	json_obj_end(j);
	return j->err;
}

static char *
cmd_displaydns(const struct control_view *v, int argc, char **argv)
{
	struct json j;
	struct dd d = { &j, NULL, 0 };
	struct ddh h;
	uint8_t name[WIRE_NAME_MAX];

	if (argc > 2)
		return error_json("usage: displaydns [NAME]");
	if (argc == 2) {
		d.flen = wire_name_from_text(argv[1], name);
		if (!d.flen)
			return error_json("bad name '%s'", argv[1]);
		d.filter = name;
	}
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, CTL_K_ENTRIES);
	json_arr_begin(&j);
	memset(&h, 0, sizeof(h));
	h.d = &d;
	h.ttl = v->cfg ? v->cfg->hosts_ttl : 0;
	hosts_foreach(v->hosts, dd_hosts, &h);
	ddh_close(&h);
	cache_foreach(v->cache, clock_now_ms(), dd_cache, &d);
	json_arr_end(&j);
	json_obj_end(&j);
	return json_take(&j, NULL);
}

static char *
cmd_flushdns(const struct control_view *v, int argc, char **argv)
{
	struct json j;
	size_t n;

	if (argc > 2)
		return error_json("usage: flushdns [NAME | --negative]");
	if (argc == 2 && strcmp(argv[1], CTL_FLUSH_NEGATIVE) == 0) {
		n = cache_flush(v->cache, NULL, 0, true);
	} else if (argc == 2) {
		uint8_t name[WIRE_NAME_MAX];
		size_t l = wire_name_from_text(argv[1], name);

		if (!l)
			return error_json("bad name '%s'", argv[1]);
		wire_name_lower(name, l);
		n = cache_flush(v->cache, name, l, false);
	} else {
		n = cache_flush(v->cache, NULL, 0, false);
		if (v->hosts_reload)
			v->hosts_reload(v->arg);
	}
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, CTL_K_FLUSHED);
	json_u64(&j, n);
	json_obj_end(&j);
	return json_take(&j, NULL);
}

static char *
cmd_stats(const struct control_view *v, int argc, char **argv)
{
	const struct stats *s = v->st;
	struct json j;
	uint64_t now = clock_now_ms();

	(void)argv;
	if (argc != 1)
		return error_json("usage: stats");
	json_init(&j);
	json_obj_begin(&j);
#define U(k, val) do { json_key(&j, k); json_u64(&j, val); } while (0)
	U("queries", s->queries);
	U("queries_udp", s->queries_udp);
	U("queries_tcp", s->queries_tcp);
	U("cache_hits", s->cache_hits);
	U("cache_misses", s->cache_misses);
	U("negative_hits", s->negative_hits);
	U("hosts_hits", s->hosts_hits);
	U("upstream_queries", s->upstream_queries);
	U("upstream_timeouts", s->upstream_timeouts);
	U("servfail", s->servfail);
	U("coalesced", s->coalesced);
	U("cache_entries", cache_count(v->cache));
	U("evictions", cache_evictions(v->cache));
	U("uptime", now > s->start_ms ? (now - s->start_ms) / 1000 : 0);
	U("refused", s->refused);
	U("formerr", s->formerr);
	U("notimp", s->notimp);
	U("dropped", s->dropped);
	U("stale_served", s->stale_served);
	U("hosts_entries", hosts_names(v->hosts) + hosts_ptrs(v->hosts));
#undef U
	json_obj_end(&j);
	return json_take(&j, NULL);
}

static const char *
prio_name(enum cfg_prio p)
{
	return p == PRIO_FIRST ? "first" : p == PRIO_LAST ? "last" : "normal";
}

static uint64_t
secs_left(uint64_t until, uint64_t now)
{
	return until > now ? (until - now + 999) / 1000 : 0;
}

static char *
cmd_servers(const struct control_view *v, int argc, char **argv)
{
	struct sched *s = v->sched;
	struct json j;
	uint64_t now = clock_now_ms();
	size_t a, k, *ord;

	(void)argv;
	if (argc != 1)
		return error_json("usage: servers");
	if (!s)
		return error_json("no upstream servers");
	sched_refresh(s, now);
	ord = calloc(s->nservers + 1, sizeof(size_t));
	if (!ord)
		return error_json("out of memory");
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, CTL_K_ADAPTERS);
	json_arr_begin(&j);
	for (a = 0; a < s->nadapters; a++) {
		const struct cfg_adapter *ca = &s->cfg->adapters[a];
		size_t n = sched_order(s, a, ord);

		json_obj_begin(&j);
		json_key(&j, "name");
		json_str(&j, ca->name);
		json_key(&j, "metric");
		json_i64(&j, ca->metric);
		json_key(&j, "excluded");
		json_bool(&j, sched_adapter_excluded(s, a, now));
		json_key(&j, "excluded_for");
		json_u64(&j, secs_left(s->adapters[a].excluded_until, now));
		json_key(&j, "domains");
		json_arr_begin(&j);
		for (k = 0; k < ca->ndomains; k++) {
			char dn[WIRE_NAME_TEXT];

			if (wire_name_to_text(ca->domains[k].name, ca->domains[k].len, dn,
			    sizeof(dn)))
				json_str(&j, dn);
		}
		json_arr_end(&j);
		json_key(&j, "servers");
		json_arr_begin(&j);
		/* configured order, with "order" giving the current asking order */
		for (k = 0; k < s->adapters[a].nservers; k++) {
			size_t i = s->adapters[a].servers[k], pos;
			const struct sched_server *sv = &s->servers[i];

			for (pos = 0; pos < n && ord[pos] != i; pos++)
				;
			json_obj_begin(&j);
			json_key(&j, "address");
			json_str(&j, s->cfg->servers[i].text);
			json_key(&j, "priority");
			json_str(&j, prio_name(sv->prio));
			json_key(&j, "order");
			json_u64(&j, pos);
			json_key(&j, "excluded");
			json_bool(&j, sched_server_excluded(s, i, now));
			json_key(&j, "excluded_for");
			json_u64(&j, secs_left(sv->excluded_until, now));
			/* always a number for scripts; rtt_measured tells 0 apart */
			json_key(&j, "srtt_ms");
			json_double(&j, sv->has_rtt ? sv->srtt_ms : 0.0, 1);
			json_key(&j, "rtt_measured");
			json_bool(&j, sv->has_rtt);
			json_key(&j, "queries");
			json_u64(&j, sv->queries);
			json_key(&j, "answers");
			json_u64(&j, sv->answers);
			json_key(&j, "timeouts");
			json_u64(&j, sv->timeouts);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	free(ord);
	return json_take(&j, NULL);
}

static char *
cmd_reload(const struct control_view *v, int argc, char **argv)
{
	struct json j;
	char err[2048];

	(void)argv;
	if (argc != 1)
		return error_json("usage: reload");
	if (!v->reload)
		return error_json("reload is not available");
	if (v->reload(v->arg, err, sizeof(err)) != 0)
		return error_json("%s", err);
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, "reloaded");
	json_bool(&j, true);
	json_obj_end(&j);
	return json_take(&j, NULL);
}

static const struct {
	const char *name;
	char *(*fn)(const struct control_view *v, int argc, char **argv);
} commands[] = {
	{ CTL_DISPLAYDNS, cmd_displaydns },
	{ CTL_FLUSHDNS, cmd_flushdns },
	{ CTL_STATS, cmd_stats },
	{ CTL_SERVERS, cmd_servers },
	{ CTL_RELOAD, cmd_reload },
};

char *
control_handle(const struct control_view *v, const char *line, size_t *len)
{
	char buf[CTL_LINE_MAX + 1], *argv[8], *p;
	int argc = 0;
	size_t i, l = strlen(line);
	char *out;

	if (l > CTL_LINE_MAX)
		return error_json("request line too long");
	memcpy(buf, line, l + 1);
	p = buf;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p)
			break;
		if (argc == 8)
			return error_json("too many arguments");
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p)
			*p++ = 0;
	}
	if (argc == 0)
		return error_json("empty request (valid commands: displaydns, flushdns, "
		    "stats, servers, reload)");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0) {
			out = commands[i].fn(v, argc, argv);
			if (!out)
				out = error_json("out of memory");
			if (out && len)
				*len = strlen(out);
			return out;
		}
	out = error_json("unknown command '%.64s' (valid commands: displaydns, flushdns, "
	    "stats, servers, reload)", argv[0]);
	if (out && len)
		*len = strlen(out);
	return out;
}

/* ---------------- socket ---------------- */

static bool
peer_allowed(const struct control *c, int fd, char *who, size_t wholen)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);
	struct passwd *pw;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) != 0)
		return false;
	snprintf(who, wholen, "uid %u", (unsigned)cr.uid);
	if (cr.uid == 0 || cr.uid == geteuid())
		return true;
	if (c->gid == (gid_t)-1)
		return false;
	if (cr.gid == c->gid)
		return true;
	pw = getpwuid(cr.uid);
	if (pw) {
		gid_t groups[256];
		int n = 256, i;

		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) >= 0)
			for (i = 0; i < n; i++)
				if (groups[i] == c->gid)
					return true;
	}
	return false;
}

struct cconn {
	struct control *c;
	struct cconn *prev, *next;
	struct bufferevent *bev;
	bool replied;
};

static void
cconn_free(struct cconn *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		k->c->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	bufferevent_free(k->bev);
	free(k);
}

static void
cconn_write_cb(struct bufferevent *bev, void *arg)
{
	struct cconn *k = arg;

	if (k->replied && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		cconn_free(k);
}

static void
cconn_reply(struct cconn *k, char *json)
{
	struct evbuffer *out = bufferevent_get_output(k->bev);

	k->replied = true;
	bufferevent_disable(k->bev, EV_READ);
	bufferevent_set_timeouts(k->bev, NULL, &(struct timeval){ 30, 0 });
	if (json) {
		evbuffer_add(out, json, strlen(json));
		evbuffer_add(out, "\n", 1);
		free(json);
	}
	if (evbuffer_get_length(out) == 0)
		cconn_free(k);
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
			cconn_reply(k, error_json("request line too long"));
		return;
	}
	if (n >= CTL_LINE_MAX) {
		free(line);
		cconn_reply(k, error_json("request line too long"));
		return;
	}
	if (!peer_allowed(k->c, bufferevent_getfd(bev), who, sizeof(who))) {
		log_warn("control: %s refused", who);
		free(line);
		cconn_reply(k, error_json("permission denied"));
		return;
	}
	log_info("control: %s: %s", who, line);
	{
		char *out = control_handle(&k->c->view, line, NULL);

		free(line);
		cconn_reply(k, out);
	}
}

static void
cconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct cconn *k = arg;

	(void)bev;
	if (!k->replied && (what & BEV_EVENT_TIMEOUT)) {
		cconn_reply(k, error_json("timed out waiting for the request line"));
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

static void
control_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;
	struct cconn *k;
	int cfd;

	(void)what;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	k = calloc(1, sizeof(*k));
	if (!k) {
		close(cfd);
		return;
	}
	k->c = c;
	k->bev = bufferevent_socket_new(c->base, cfd, BEV_OPT_CLOSE_ON_FREE);
	if (!k->bev) {
		close(cfd);
		free(k);
		return;
	}
	k->next = c->conns;
	if (c->conns)
		c->conns->prev = k;
	c->conns = k;
	bufferevent_setcb(k->bev, cconn_read_cb, cconn_write_cb, cconn_event_cb, k);
	bufferevent_setwatermark(k->bev, EV_READ, 0, CTL_LINE_MAX + 1);
	bufferevent_set_timeouts(k->bev,
	    &(struct timeval){ CTL_READ_TIMEOUT_MS / 1000, 0 }, NULL);
	bufferevent_enable(k->bev, EV_READ | EV_WRITE);
}

struct control *
control_new(struct event_base *base, const char *path, gid_t gid,
    const struct control_view *view, char *why, size_t whylen)
{
	struct control *c = calloc(1, sizeof(*c));
	struct sockaddr_un sun;
	mode_t old;
	int probe;

	if (!c || strlen(path) >= sizeof(sun.sun_path)) {
		free(c);
		snprintf(why, whylen, "control socket %s: path too long", path);
		return NULL;
	}
	c->base = base;
	c->gid = gid;
	c->view = *view;
	c->fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	/* a live daemon on this socket? */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			snprintf(why, whylen, "control socket %s is in use by another stubd", path);
			free(c);
			return NULL;
		}
		close(probe);
	}
	unlink(path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	old = umask(0177);
	if (bind(c->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (gid != (gid_t)-1) {
		if (chown(path, (uid_t)-1, gid) != 0 || chmod(path, 0660) != 0)
			goto fail;
	} else if (chmod(path, 0600) != 0) {
		goto fail;
	}
	if (listen(c->fd, 16) != 0)
		goto fail;
	c->path = strdup(path);
	c->ev = event_new(base, c->fd, EV_READ | EV_PERSIST, control_accept_cb, c);
	if (!c->path || !c->ev || event_add(c->ev, NULL) != 0)
		goto fail;
	return c;
fail:
	snprintf(why, whylen, "control socket %s: %s", path, strerror(errno));
	if (c->fd >= 0) {
		close(c->fd);
		unlink(path);
	}
	if (c->ev)
		event_free(c->ev);
	free(c->path);
	free(c);
	return NULL;
}

void
control_set_view(struct control *c, const struct control_view *view)
{
	if (c)
		c->view = *view;
}

void
control_free(struct control *c)
{
	if (!c)
		return;
	while (c->conns)
		cconn_free(c->conns);
	if (c->ev)
		event_free(c->ev);
	if (c->fd >= 0)
		close(c->fd);
	if (c->path)
		unlink(c->path);
	free(c->path);
	free(c);
}
