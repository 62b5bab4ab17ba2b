/*
 * main.c - stubd: options, configuration, start-up, signals, reload and
 * the wiring of the modules.  The daemon's state lives in one struct on
 * main()'s stack, handed to callbacks explicitly.
 */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>

#include "cache.h"
#include "clock.h"
#include "config.h"
#include "control.h"
#include "file.h"
#include "hosts.h"
#include "listener.h"
#include "links.h"
#include "log.h"
#include "netlink.h"
#include "rand.h"
#include "resolve.h"
#include "resolve1.h"
#include "stats.h"
#include "sysnet.h"
#include "upstream.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

#define CONF_DEFAULT SYSCONFDIR "/stubd.conf"
#define CONTROL_DEFAULT RUNSTATEDIR "/stubd.sock"
#define HOSTS_DEFAULT "/etc/hosts"
#define HOSTS_POLL_MS 1000
#define HOSTS_SYNC_MAX (256 * 1024)   /* bigger hosts files are parsed off the loop */
#define MAX_ARGS 64

struct opts {
	const char *config;
	bool foreground;
	const char *listens[MAX_ARGS];
	size_t nlistens;
	const char *servers[MAX_ARGS];
	size_t nservers;
	const char *hosts;
	const char *control;
	const char *pidfile;
	const char *user;
	int verbose;
	bool check;
};

struct daemon {
	struct opts o;
	struct event_base *base;
	struct cfg *file_cfg;           /* stubd.conf and the command line */
	struct cfg *cfg;                /* that + resolv-file + learned links */
	struct links links;             /* adapters learned from the system */
	struct hosts_sig resolv_sig;    /* resolv-file as last read */
	struct dir_sig resolvconf_sig;  /* resolvconf-dir as last read */
	struct ifstate ifs;             /* the interfaces, from rtnetlink */
	int nl_fd;                      /* NETLINK_ROUTE, -1 = none */
	struct event *nl_ev;
	unsigned nl_stage;              /* dumps: 0 links, 1 addresses, 2 routes, 3 done */
	char nl_changed[8][CFG_IFNAME_MAX];  /* interfaces changed by one datagram */
	size_t nl_nchanged;
	struct stats st;
	struct cache *cache;
	struct hosts *hosts;
	struct hosts_sig hosts_sig;
	uint64_t hosts_gen;
	struct hosts_job *hosts_job;    /* a big hosts file being parsed */
	bool hosts_again;               /* reload once that one is in */
	int hosts_pipe[2];              /* the worker says it is done */
	struct event *hosts_ev;
	struct upstream *up;
	struct resolver *res;
	struct listener *lis;
	struct control *ctl;
	gid_t control_gid;              /* control-group, (gid_t)-1 = none */
	struct resolve1 *bus;           /* org.freedesktop.resolve1, dbus yes */
	struct event *hosts_tmr;
	struct event *sig[5];
	bool pidfile_written;
	bool detached;          /* stderr is gone: errors go to syslog */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: stubd [-f] [-c FILE] [-l ADDR[:PORT]]... [-s SERVER[%%ADAPTER]]...\n"
	    "             [-H FILE|none] [-C PATH|off] [-p PIDFILE] [-u USER] [-v]... [-t]\n"
	    "             [-h] [-V]\n"
	    "  -c, --config FILE       configuration file (default %s)\n"
	    "  -f, --foreground        stay in the foreground, log to stderr\n"
	    "  -l, --listen ADDR       listen address, repeatable ([::1]:53 for IPv6)\n"
	    "  -s, --server ADDR       upstream server ADDR[:PORT][%%ADAPTER], repeatable\n"
	    "  -H, --hosts FILE        hosts file ('none' disables)\n"
	    "  -C, --control PATH      control socket ('off' disables)\n"
	    "  -p, --pidfile FILE      write the process ID there\n"
	    "  -u, --user USER         drop privileges to USER after binding\n"
	    "  -v, --verbose           more logging (-vv: one line per query)\n"
	    "  -t, --check-config      check the configuration and exit\n"
	    "  -h, --help              this text\n"
	    "  -V, --version           print the version\n", CONF_DEFAULT);
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "listen", required_argument, NULL, 'l' },
		{ "server", required_argument, NULL, 's' },
		{ "hosts", required_argument, NULL, 'H' },
		{ "control", required_argument, NULL, 'C' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check-config", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:fl:s:H:C:p:u:vthV", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'f': o->foreground = true; break;
		case 'l':
			if (o->nlistens == MAX_ARGS) {
				fprintf(stderr, "stubd: too many -l options\n");
				return 1;
			}
			o->listens[o->nlistens++] = optarg;
			break;
		case 's':
			if (o->nservers == MAX_ARGS) {
				fprintf(stderr, "stubd: too many -s options\n");
				return 1;
			}
			o->servers[o->nservers++] = optarg;
			break;
		case 'H': o->hosts = optarg; break;
		case 'C': o->control = optarg; break;
		case 'p': o->pidfile = optarg; break;
		case 'u': o->user = optarg; break;
		case 'v': o->verbose++; break;
		case 't': o->check = true; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("stubd %s\n", PACKAGE_VERSION); exit(0);
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "stubd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	return 0;
}

static void
print_cfg_errors(struct cfg *c, bool to_log)
{
	char *line = c->errors, *nl;

	if (!line)
		return;
	if (!to_log) {
		fputs(c->errors, stderr);
		return;
	}
	while ((nl = strchr(line, '\n'))) {
		*nl = 0;
		log_err("%s", line);
		*nl = '\n';
		line = nl + 1;
	}
}

/* stubd.conf and the command line, not finished (cfg_finish); NULL with
 * messages on stderr (or the log). */
static struct cfg *
load_file_cfg(const struct opts *o, bool to_log)
{
	struct cfg *c = cfg_new(CONTROL_DEFAULT, HOSTS_DEFAULT);
	size_t i;
	const char *why;

	if (!c) {
		log_err("out of memory");
		return NULL;
	}
	cfg_parse_file(c, o->config ? o->config : CONF_DEFAULT, o->config == NULL);
	for (i = 0; i < o->nlistens; i++)
		if (cfg_listen_clear_add(c, i == 0, o->listens[i], &why) != 0) {
			fprintf(stderr, "stubd: -l %s: %s\n", o->listens[i], why);
			c->nerrors++;
		}
	for (i = 0; i < o->nservers; i++)
		if (cfg_server_arg(c, i == 0, o->servers[i], &why) != 0) {
			fprintf(stderr, "stubd: -s %s: %s\n", o->servers[i], why);
			c->nerrors++;
		}
	if (o->hosts) {
		free(c->hosts);
		c->hosts = strcmp(o->hosts, "none") == 0 ? NULL : strdup(o->hosts);
	}
	if (o->control) {
		free(c->control);
		c->control = strcmp(o->control, "off") == 0 ? NULL : strdup(o->control);
	}
	if (o->user) {
		free(c->user);
		c->user = strdup(o->user);
	}
	if (c->nerrors) {
		print_cfg_errors(c, to_log);
		cfg_unref(c);
		return NULL;
	}
	return c;
}

static void
link_skipped(void *arg, const char *ifname)
{
	(void)arg;
	log_warn("link %s: an adapter of the configuration has that name; not used", ifname);
}

/*
 * The running configuration: the file's, with the servers of resolv-file
 * when it has none, and the adapters learned from the system.  NULL with
 * messages on stderr (or the log).
 */
static struct cfg *
effective_cfg(struct daemon *d, const struct cfg *file, bool to_log)
{
	struct cfg *c = cfg_clone(file);
	char *resolv = NULL, *text;
	size_t rlen, first, i;

	if (!c) {
		log_err("out of memory");
		return NULL;
	}
	if (file->nservers == 0 && file->resolv_file) {
		hosts_file_sig(file->resolv_file, &d->resolv_sig);
		if (file_read(file->resolv_file, &resolv, &rlen) != 0) {
			if (errno != ENOENT || file->resolvconf_dir == NULL)
				log_warn("cannot read %s: %s", file->resolv_file, strerror(errno));
			resolv = NULL;
		}
	}
	cfg_finish(c, resolv);
	free(resolv);
	first = c->nadapters;
	/* learned adapters are ordered by the metric of their default route */
	for (i = 0; i < d->links.n; i++) {
		long m = ifstate_route_metric(&d->ifs, d->links.v[i].ifname);

		d->links.v[i].metric = m >= 0 && m <= 1000000 ? (int)m : LINK_METRIC_DEFAULT;
	}
	text = links_config_text(&d->links, c, link_skipped, d);
	if (!text) {
		cfg_unref(c);
		log_err("out of memory");
		return NULL;
	}
	cfg_parse_text(c, text, strlen(text), "learned links");
	free(text);
	for (i = first; i < c->nadapters; i++)
		c->adapters[i].origin = links_origin(&d->links, c->adapters[i].name);
	if (c->nerrors) {
		print_cfg_errors(c, to_log);
		cfg_unref(c);
		return NULL;
	}
	return c;
}

static void
hosts_err(void *arg, unsigned line, const char *msg)
{
	log_warn("%s:%u: %s", (const char *)arg, line, msg);
}

static void view_update(struct daemon *d);

/* Put a hosts snapshot in place (NULL: none). */
static void
hosts_install(struct daemon *d, struct hosts *h)
{
	resolver_set_hosts(d->res, h);
	hosts_free(d->hosts);
	d->hosts = h;
	d->hosts_gen++;      /* a displaydns under way stops walking the old one */
	view_update(d);
}

static void
hosts_loaded(struct daemon *d, const char *path, struct hosts *h, uint64_t ms)
{
	if (!h) {
		log_err("out of memory loading %s", path);
		return;   /* keep the old data */
	}
	log_info("loaded %s: %zu names, %zu addresses in %llu ms", path, hosts_names(h),
	    hosts_ptrs(h), (unsigned long long)ms);
	hosts_install(d, h);
}

/* A big hosts file is parsed by a worker thread (hosts_parse is pure), so
 * answering goes on meanwhile; the loop learns of the result via a pipe. */
struct hosts_job {
	pthread_t th;
	char *text;
	size_t len;
	char *path;
	uint64_t seed;
	struct hosts *result;
	int err;                  /* reading failed: errno */
	uint64_t ms;
	int notify;
};

static void *
hosts_job_run(void *arg)
{
	struct hosts_job *j = arg;
	uint64_t t0 = clock_now_ms();

	if (file_read(j->path, &j->text, &j->len) != 0) {
		j->err = errno;
		(void)!write(j->notify, "x", 1);
		return NULL;
	}
	j->result = hosts_parse(j->text, j->len, j->seed, hosts_err, j->path);
	j->ms = clock_now_ms() - t0;
	free(j->text);
	j->text = NULL;
	(void)!write(j->notify, "x", 1);
	return NULL;
}

static void
hosts_job_free(struct hosts_job *j)
{
	if (!j)
		return;
	free(j->text);
	free(j->path);
	free(j);
}

/* Read and parse off the loop; false when no thread could be started. */
static bool
hosts_job_start(struct daemon *d, const char *path)
{
	struct hosts_job *j = calloc(1, sizeof(*j));

	if (!j)
		return false;
	j->path = strdup(path);
	j->seed = cache_seed(d->cache);
	j->notify = d->hosts_pipe[1];
	if (!j->path || pthread_create(&j->th, NULL, hosts_job_run, j) != 0) {
		hosts_job_free(j);
		return false;
	}
	d->hosts_job = j;
	return true;
}

static void hosts_load(struct daemon *d, bool defer_ok);

static void
hosts_job_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct hosts_job *j = d->hosts_job;
	char b[16];

	(void)what;
	(void)!read(fd, b, sizeof(b));
	if (!j)
		return;
	pthread_join(j->th, NULL);
	d->hosts_job = NULL;
	if (j->err) {
		log_warn("cannot read hosts file %s: %s", j->path, strerror(j->err));
		hosts_install(d, NULL);
	} else {
		hosts_loaded(d, j->path, j->result, j->ms);
	}
	hosts_job_free(j);
	if (d->hosts_again) {
		d->hosts_again = false;
		hosts_load(d, true);
	}
}

/*
 * (Re)load the hosts file.  A file over HOSTS_SYNC_MAX bytes is parsed by
 * a worker thread when defer_ok (not at start-up, where it must be in
 * place before the first query); the old snapshot answers meanwhile.
 */
static void
hosts_load(struct daemon *d, bool defer_ok)
{
	const char *path = d->cfg->hosts;
	struct hosts *h;
	char *text;
	size_t len;
	uint64_t t0;

	if (!path) {
		hosts_install(d, NULL);
		return;
	}
	if (d->hosts_job) {
		d->hosts_again = true;   /* once the running parse is in */
		return;
	}
	hosts_file_sig(path, &d->hosts_sig);
	if (defer_ok && d->hosts_ev && d->hosts_sig.exists && d->hosts_sig.size > HOSTS_SYNC_MAX &&
	    hosts_job_start(d, path))
		return;
	if (file_read(path, &text, &len) != 0) {
		if (errno != ENOENT || log_verbosity() >= 1)
			log_warn("cannot read hosts file %s: %s", path, strerror(errno));
		hosts_install(d, NULL);
		return;
	}
	t0 = clock_now_ms();
	h = hosts_parse(text, len, cache_seed(d->cache), hosts_err, (void *)path);
	free(text);
	hosts_loaded(d, path, h, clock_now_ms() - t0);
}

static void watch_network(struct daemon *d);

static void
hosts_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct hosts_sig sig;

	(void)fd;
	(void)what;
	watch_network(d);
	if (!d->cfg->hosts)
		return;
	hosts_file_sig(d->cfg->hosts, &sig);
	if (!hosts_sig_equal(&sig, &d->hosts_sig)) {
		log_info("hosts file %s changed, reloading", d->cfg->hosts);
		hosts_load(d, true);
	}
}

static void
hosts_reload_cb(void *arg)
{
	hosts_load(arg, true);
}

static int reload(void *arg, char *err, size_t errlen);
static int link_cmd(void *arg, int argc, char **argv, char *err, size_t errlen);
static bool same_listens(const struct cfg *a, const struct cfg *b);

static void
resolvconf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	if (line)
		log_warn("%s:%u: %s", file, line, msg);
	else
		log_warn("%s: %s", file, msg);
}

static void
view_update(struct daemon *d)
{
	struct control_view v = {
		.cache = d->cache,
		.hosts = d->hosts,
		.sched = d->up ? upstream_sched(d->up) : NULL,
		.st = &d->st,
		.cfg = d->cfg,
		.hosts_gen = d->hosts_gen,
		.reload = reload,
		.link = link_cmd,
		.hosts_reload = hosts_reload_cb,
		.arg = d,
	};

	control_set_view(d->ctl, &v);
}

static bool
same_listens(const struct cfg *a, const struct cfg *b)
{
	return a->nlistens == b->nlistens &&
	    memcmp(a->listens, b->listens, a->nlistens * sizeof(*a->listens)) == 0;
}

/* Adapters bound to an interface follow its link (SPEC 11): down when it
 * is down or has no address, once the kernel has told us everything. */
static void
apply_link_state(struct daemon *d)
{
	size_t a;

	if (!d->ifs.dump_done || !d->up)
		return;
	for (a = 0; a < d->cfg->nadapters; a++)
		if (d->cfg->adapters[a].device[0])
			upstream_set_down(d->up, a,
			    !ifstate_usable(&d->ifs, d->cfg->adapters[a].device));
}

static void
nl_changed_if(void *arg, const char *name)
{
	struct daemon *d = arg;
	size_t i;

	for (i = 0; i < d->nl_nchanged; i++)
		if (strcmp(d->nl_changed[i], name) == 0)
			return;
	if (d->nl_nchanged < sizeof(d->nl_changed) / sizeof(d->nl_changed[0]))
		snprintf(d->nl_changed[d->nl_nchanged++], CFG_IFNAME_MAX, "%s", name);
}

static int network_changed(struct daemon *d, const char *what, char *err, size_t errlen);

/* A link or address of an adapter's interface changed: a network change
 * for that adapter (negative answers dropped, its RTT and exclusions
 * forgotten). */
static void
link_changed(struct daemon *d, const char *name)
{
	size_t a, dropped;
	bool any = false;

	for (a = 0; a < d->cfg->nadapters; a++) {
		if (strcmp(d->cfg->adapters[a].device, name) != 0)
			continue;
		sched_forget(upstream_sched(d->up), a);
		any = true;
	}
	if (!any)
		return;
	dropped = cache_flush(d->cache, NULL, 0, true);
	log_msg(LOG_NOTICE, "network change: link %s is %s; %zu negative answers dropped", name,
	    ifstate_usable(&d->ifs, name) ? "up" : "down", dropped);
}

static bool
nl_send_dump(struct daemon *d, uint16_t type)
{
	uint8_t req[64];
	size_t n = nl_dump_request(req, sizeof(req), type, d->nl_stage + 1);
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	return n && sendto(d->nl_fd, req, n, 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) == (ssize_t)n;
}

static void
nl_read_cb(evutil_socket_t fd, short what, void *arg)
{
	static const uint16_t dumps[] = { RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE };
	struct daemon *d = arg;
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
				d->nl_stage = 0;
				d->ifs.dump_done = false;
				nl_send_dump(d, dumps[0]);
				continue;
			}
			break;
		}
		d->nl_nchanged = 0;
		nl_apply(&d->ifs, buf, (size_t)n, &done, &changed, nl_changed_if, d);
		if (changed && d->ifs.dump_done)
			metrics_changed = true;
		if (done && d->nl_stage < 3) {
			d->nl_stage++;
			if (d->nl_stage < 3) {
				nl_send_dump(d, dumps[d->nl_stage]);
			} else {
				d->ifs.dump_done = true;
				apply_link_state(d);
			}
			continue;
		}
		if (!d->ifs.dump_done)
			continue;
		apply_link_state(d);
		for (i = 0; i < d->nl_nchanged; i++)
			link_changed(d, d->nl_changed[i]);
	}
	/* learned adapters follow the metric of their default route */
	if (metrics_changed && d->links.n) {
		size_t i;

		for (i = 0; i < d->links.n; i++) {
			long m = ifstate_route_metric(&d->ifs, d->links.v[i].ifname);
			int want = m >= 0 && m <= 1000000 ? (int)m : LINK_METRIC_DEFAULT;
			long a = cfg_adapter_find(d->cfg, d->links.v[i].ifname);

			if (a >= 0 && d->cfg->adapters[a].metric != want) {
				char err[256];

				network_changed(d, "default route metrics changed", err, sizeof(err));
				break;
			}
		}
	}
}

/* Follow links, addresses and default routes (no polling).  Without
 * rtnetlink (a sandbox) every adapter counts as up. */
static void
start_netlink(struct daemon *d)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
	    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
	d->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (d->nl_fd < 0 || bind(d->nl_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		log_warn("rtnetlink: %s; link state is not followed", strerror(errno));
		goto fail;
	}
	d->nl_ev = event_new(d->base, d->nl_fd, EV_READ | EV_PERSIST, nl_read_cb, d);
	if (!d->nl_ev || event_add(d->nl_ev, NULL) != 0 || !nl_send_dump(d, RTM_GETLINK)) {
		log_warn("rtnetlink: cannot start; link state is not followed");
		goto fail;
	}
	return;
fail:
	if (d->nl_ev)
		event_free(d->nl_ev);
	d->nl_ev = NULL;
	if (d->nl_fd >= 0)
		close(d->nl_fd);
	d->nl_fd = -1;
}

/* Does adapter a of nc have the same servers as the adapter of that name
 * in old? */
static bool
same_adapter(const struct cfg *old, const struct cfg *nc, size_t a)
{
	long o = cfg_adapter_find(old, nc->adapters[a].name);
	size_t i, k, n1 = 0, n2 = 0;

	if (o < 0)
		return false;
	for (i = 0; i < nc->nservers; i++) {
		if (nc->servers[i].adapter != a)
			continue;
		n1++;
		for (k = 0; k < old->nservers; k++)
			if (old->servers[k].adapter == (size_t)o &&
			    strcmp(old->servers[k].text, nc->servers[i].text) == 0)
				break;
		if (k == old->nservers)
			return false;
	}
	for (k = 0; k < old->nservers; k++)
		if (old->servers[k].adapter == (size_t)o)
			n2++;
	return n1 == n2 && old->adapters[o].default_route == nc->adapters[a].default_route;
}

/*
 * Put a new running configuration in place: a new upstream engine that
 * keeps what was learnt about servers still there.  A network change
 * (SPEC 11) also drops every negative answer and forgets the RTT and
 * exclusion of the adapters it concerns.  Takes nc.
 */
static int
install_cfg(struct daemon *d, struct cfg *nc, const char *netchange, char *err, size_t errlen)
{
	struct upstream *nu;
	struct cache_cfg cc;
	char why[256];
	size_t a, dropped = 0;

	if (upstream_new(d->base, nc, &d->st, &nu, why, sizeof(why)) != STUB_OK) {
		snprintf(err, errlen, "%s", why);
		log_err("%s", err);
		cfg_unref(nc);
		return -1;
	}
	/* RTT, exclusion and counters of servers still configured carry over */
	sched_inherit(upstream_sched(nu), upstream_sched(d->up));
	if (netchange) {
		for (a = 0; a < nc->nadapters; a++)
			if (!same_adapter(d->cfg, nc, a))
				sched_forget(upstream_sched(nu), a);
		dropped = cache_flush(d->cache, NULL, 0, true);
	}
	if (!same_listens(d->cfg, nc))
		log_warn("reload: listen addresses changed; they take effect on restart");
	if ((d->cfg->control == NULL) != (nc->control == NULL) ||
	    (nc->control && strcmp(d->cfg->control, nc->control) != 0))
		log_warn("reload: the control socket changes on restart");
	if (d->cfg->dbus != nc->dbus)
		log_warn("reload: dbus changes on restart");
	/* keep the bound sockets: the listen lines of the running config stay */
	{
		struct cfg_sockaddr *t = nc->listens;
		size_t n = nc->nlistens;

		nc->listens = d->cfg->listens;
		nc->nlistens = d->cfg->nlistens;
		d->cfg->listens = t;
		d->cfg->nlistens = n;
	}
	upstream_retire(d->up);
	d->up = nu;
	resolver_set_upstream(d->res, upstream_as_if(nu));
	resolver_set_cfg(d->res, nc);
	listener_set_cfg(d->lis, nc);
	cfg_unref(d->cfg);
	d->cfg = nc;
	cc = cache_cfg_from(nc);
	cache_set_cfg(d->cache, &cc, clock_now_ms());
	apply_link_state(d);
	if (netchange)
		log_msg(LOG_NOTICE, "network change: %s; %zu servers in %zu adapters, "
		    "%zu negative answers dropped", netchange, nc->nservers, nc->nadapters, dropped);
	view_update(d);
	return 0;
}

/* Rebuild the running configuration after a change of the network. */
static int
network_changed(struct daemon *d, const char *what, char *err, size_t errlen)
{
	struct cfg *nc = effective_cfg(d, d->file_cfg, true);

	if (!nc) {
		snprintf(err, errlen, "%s: the resulting configuration has errors", what);
		return -1;
	}
	return install_cfg(d, nc, what, err, errlen);
}

static int
reload(void *arg, char *err, size_t errlen)
{
	struct daemon *d = arg;
	struct cfg *nf, *nc;

	nf = load_file_cfg(&d->o, true);
	nc = nf ? effective_cfg(d, nf, true) : NULL;
	if (!nc) {
		cfg_unref(nf);
		snprintf(err, errlen, "configuration has errors; keeping the running one");
		log_err("reload: %s", err);
		return -1;
	}
	if (install_cfg(d, nc, NULL, err, errlen) != 0) {
		cfg_unref(nf);
		return -1;
	}
	cfg_unref(d->file_cfg);
	d->file_cfg = nf;
	hosts_load(d, true);
	control_refresh_members(d->ctl);
	log_info("configuration reloaded: %zu servers in %zu adapters",
	    d->cfg->nservers, d->cfg->nadapters);
	return 0;
}

/* A link set over the control socket (stubctl link IFNAME
 * dns|domain|default-route|revert ...) or D-Bus (SPEC 11). */
static int
link_apply(struct daemon *d, enum cfg_origin o, int argc, char **argv, char *err,
    size_t errlen)
{
	const char *ifname = argv[1], *verb = argv[2];
	char what[160];
	int rc = 0;

	if (strcmp(verb, "dns") == 0) {
		rc = links_set_dns(&d->links, ifname, o, argv + 3, (size_t)(argc - 3), err, errlen);
	} else if (strcmp(verb, "domain") == 0) {
		rc = links_set_domains(&d->links, ifname, o, argv + 3, (size_t)(argc - 3), err,
		    errlen);
	} else if (strcmp(verb, "default-route") == 0) {
		if (argc != 4 || (strcmp(argv[3], "yes") != 0 && strcmp(argv[3], "no") != 0)) {
			snprintf(err, errlen, "usage: link IFNAME default-route yes|no");
			return -1;
		}
		rc = links_set_default_route(&d->links, ifname, o, strcmp(argv[3], "yes") == 0, err,
		    errlen);
	} else if (strcmp(verb, "revert") == 0) {
		if (argc != 3) {
			snprintf(err, errlen, "usage: link IFNAME revert");
			return -1;
		}
		if (!links_revert(&d->links, ifname)) {
			snprintf(err, errlen, "link %.32s is not configured", ifname);
			return -1;
		}
	} else {
		snprintf(err, errlen, "unknown link setting '%.32s' (dns, domain, default-route, "
		    "revert)", verb);
		return -1;
	}
	if (rc != 0)
		return -1;
	if (strcmp(verb, "revert") == 0)
		snprintf(what, sizeof(what), "link %s reverted (%s)", ifname, cfg_origin_name(o));
	else
		snprintf(what, sizeof(what), "link %s %s set (%s)", ifname, verb, cfg_origin_name(o));
	return network_changed(d, what, err, errlen);
}

static int
link_cmd(void *arg, int argc, char **argv, char *err, size_t errlen)
{
	return link_apply(arg, ORIGIN_CONTROL, argc, argv, err, errlen);
}

/* resolv-file (when it gives the servers) and resolvconf-dir, polled with
 * the hosts file */
static void
watch_network(struct daemon *d)
{
	char err[256];

	if (d->file_cfg->nservers == 0 && d->file_cfg->resolv_file) {
		struct hosts_sig sig;

		hosts_file_sig(d->file_cfg->resolv_file, &sig);
		if (!hosts_sig_equal(&sig, &d->resolv_sig)) {
			char what[300];

			snprintf(what, sizeof(what), "%s changed", d->file_cfg->resolv_file);
			network_changed(d, what, err, sizeof(err));
		}
	}
	if (d->file_cfg->resolvconf_dir) {
		struct dir_sig sig;

		sysnet_dir_sig(d->file_cfg->resolvconf_dir, &sig);
		if (!sysnet_dir_sig_equal(&sig, &d->resolvconf_sig)) {
			char what[300];

			d->resolvconf_sig = sig;
			sysnet_read_resolvconf_dir(d->file_cfg->resolvconf_dir, &d->links,
			    resolvconf_err, d);
			snprintf(what, sizeof(what), "%s changed", d->file_cfg->resolvconf_dir);
			network_changed(d, what, err, sizeof(err));
		}
	}
}

static void
log_stats(const struct daemon *d)
{
	const struct stats *s = &d->st;

	log_msg(LOG_NOTICE, "stats: queries %llu (udp %llu, tcp %llu), cache hits %llu "
	    "(negative %llu), misses %llu, hosts %llu, upstream %llu, timeouts %llu, "
	    "servfail %llu, coalesced %llu, entries %zu, evictions %llu",
	    (unsigned long long)s->queries, (unsigned long long)s->queries_udp,
	    (unsigned long long)s->queries_tcp, (unsigned long long)s->cache_hits,
	    (unsigned long long)s->negative_hits, (unsigned long long)s->cache_misses,
	    (unsigned long long)s->hosts_hits, (unsigned long long)s->upstream_queries,
	    (unsigned long long)s->upstream_timeouts, (unsigned long long)s->servfail,
	    (unsigned long long)s->coalesced, cache_count(d->cache),
	    (unsigned long long)cache_evictions(d->cache));
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	char err[256];

	(void)what;
	switch (sig) {
	case SIGHUP:
		log_msg(LOG_NOTICE, "SIGHUP: reloading");
		reload(d, err, sizeof(err));
		break;
	case SIGUSR1:
		log_stats(d);
		break;
	default:
		log_msg(LOG_NOTICE, "signal %d: exiting", (int)sig);
		event_base_loopexit(d->base, NULL);
		break;
	}
}

/* Written whole or not at all (temporary file, then rename), so whoever
 * watches for the file never reads it empty. */
static int
write_pidfile(const char *path)
{
	char tmp[4096];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

static int
drop_privileges(const char *user, char *why, size_t whylen)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		snprintf(why, whylen, "unknown user '%s'", user);
		return -1;
	}
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		snprintf(why, whylen, "cannot become user '%s': %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 && pw->pw_uid != 0) {
		snprintf(why, whylen, "privileges could be regained after dropping");
		return -1;
	}
	return 0;
}

static void
shutdown_all(struct daemon *d)
{
	size_t i;

	if (d->hosts_job) {
		pthread_join(d->hosts_job->th, NULL);
		hosts_free(d->hosts_job->result);
		hosts_job_free(d->hosts_job);
	}
	if (d->hosts_ev)
		event_free(d->hosts_ev);
	for (i = 0; i < 2; i++)
		if (d->hosts_pipe[i] >= 0)
			close(d->hosts_pipe[i]);
	resolve1_free(d->bus);
	control_free(d->ctl);
	resolver_free(d->res);
	upstream_free(d->up);
	listener_free(d->lis);
	cache_free(d->cache);
	hosts_free(d->hosts);
	if (d->hosts_tmr)
		event_free(d->hosts_tmr);
	for (i = 0; i < sizeof(d->sig) / sizeof(d->sig[0]); i++)
		if (d->sig[i])
			event_free(d->sig[i]);
	if (d->pidfile_written && d->o.pidfile)
		unlink(d->o.pidfile);
	cfg_unref(d->cfg);
	cfg_unref(d->file_cfg);
	links_fini(&d->links);
	if (d->nl_ev)
		event_free(d->nl_ev);
	if (d->nl_fd >= 0)
		close(d->nl_fd);
	ifstate_fini(&d->ifs);
	if (d->base)
		event_base_free(d->base);
	ares_library_cleanup();
}

/* ---------------- start-up steps: STUB_OK, or a reason in why ---------------- */

/* The sockets clients reach, bound while still privileged. */
static enum stub_err
start_listeners(struct daemon *d, char *why, size_t whylen)
{
	return listener_new(d->base, d->cfg, &d->lis, why, whylen);
}

/* The control socket; the built-in default path may be out of reach (no
 * such directory, not root) and is then skipped; a path the operator chose
 * must work. */
static enum stub_err
start_control(struct daemon *d, char *why, size_t whylen)
{
	struct control_view v = { 0 };
	gid_t gid = (gid_t)-1;
	enum stub_err e;
	bool dflt;

	if (d->cfg->control_group) {
		struct group *g = getgrnam(d->cfg->control_group);

		if (!g) {
			snprintf(why, whylen, "unknown control-group '%s'", d->cfg->control_group);
			return STUB_ENOTFOUND;
		}
		gid = g->gr_gid;
	}
	d->control_gid = gid;
	if (!d->cfg->control)
		return STUB_OK;
	e = control_new(d->base, d->cfg->control, gid, &v, &d->ctl, why, whylen);
	dflt = !d->o.control && strcmp(d->cfg->control, CONTROL_DEFAULT) == 0;
	if (e != STUB_OK && dflt) {
		fprintf(stderr, "stubd: %s; running without a control socket (set one with -C)\n",
		    why);
		return STUB_OK;
	}
	return e;
}

/* Detach, write the pidfile, drop privileges. */
static enum stub_err
become_daemon(struct daemon *d, char *why, size_t whylen)
{
	if (!d->o.foreground) {
		if (daemon(0, 0) != 0) {
			snprintf(why, whylen, "daemon: %s", strerror(errno));
			return STUB_EIO;
		}
		log_init("stubd", true, d->o.verbose);
		d->detached = true;
		event_reinit(d->base);
	}
	if (d->o.pidfile) {
		if (write_pidfile(d->o.pidfile) != 0) {
			snprintf(why, whylen, "cannot write pidfile %s: %s", d->o.pidfile,
			    strerror(errno));
			return STUB_EIO;
		}
		d->pidfile_written = true;
	}
	return STUB_OK;
}

static void
bus_flush_caches(void *arg)
{
	struct daemon *d = arg;
	size_t n;

	if (!d->cache)
		return;
	n = cache_flush(d->cache, NULL, 0, false);
	log_info("dbus: FlushCaches: %zu entries dropped", n);
}

static void
bus_reset_server_features(void *arg)
{
	struct daemon *d = arg;
	size_t a;

	for (a = 0; d->up && a < d->cfg->nadapters; a++)
		sched_forget(upstream_sched(d->up), a);
}

static int
bus_link(void *arg, enum cfg_origin o, int argc, char **argv, char *err, size_t errlen)
{
	struct daemon *d = arg;

	if (!d->up) {
		snprintf(err, errlen, "stubd is starting; try again");
		return -1;
	}
	return link_apply(d, o, argc, argv, err, errlen);
}

/* `dbus yes`: own org.freedesktop.resolve1 (after detaching: an sd-bus
 * connection does not survive a fork; before dropping privileges). */
static enum stub_err
start_dbus(struct daemon *d, char *why, size_t whylen)
{
	struct resolve1_ops ops = { bus_link, bus_flush_caches, bus_reset_server_features, d };

	if (!d->cfg->dbus)
		return STUB_OK;
	return resolve1_new(d->base, &ops, d->control_gid, &d->bus, why, whylen);
}

/* Cache, upstream engine, resolver, hosts, timers and signals. */
static enum stub_err
start_engine(struct daemon *d, char *why, size_t whylen)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };
	struct cache_cfg cc = cache_cfg_from(d->cfg);
	struct timeval tv = { HOSTS_POLL_MS / 1000, (HOSTS_POLL_MS % 1000) * 1000 };
	enum stub_err e;
	size_t i;

	d->st.start_ms = clock_now_ms();
	d->cache = cache_new(&cc, rand_u64());
	if (!d->cache)
		goto oom;
	e = upstream_new(d->base, d->cfg, &d->st, &d->up, why, whylen);
	if (e != STUB_OK)
		return e;
	d->res = resolver_new(d->cfg, d->cache, &d->st, listener_reply, d->lis);
	d->hosts_tmr = event_new(d->base, -1, EV_PERSIST, hosts_poll_cb, d);
	if (!d->res || !d->hosts_tmr)
		goto oom;
	resolver_set_upstream(d->res, upstream_as_if(d->up));
	if (pipe2(d->hosts_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return STUB_EIO;
	}
	d->hosts_ev = event_new(d->base, d->hosts_pipe[0], EV_READ | EV_PERSIST,
	    hosts_job_done_cb, d);
	if (!d->hosts_ev || event_add(d->hosts_ev, NULL) != 0)
		goto oom;
	hosts_load(d, false);
	start_netlink(d);
	evtimer_add(d->hosts_tmr, &tv);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		d->sig[i] = evsignal_new(d->base, sigs[i], signal_cb, d);
		if (!d->sig[i] || evsignal_add(d->sig[i], NULL) != 0)
			goto oom;
	}
	return STUB_OK;
oom:
	snprintf(why, whylen, "out of memory");
	return STUB_ENOMEM;
}

int
main(int argc, char **argv)
{
	static struct daemon d;
	char why[512];
	int rc;

	d.hosts_pipe[0] = d.hosts_pipe[1] = -1;
	d.nl_fd = -1;
	d.control_gid = (gid_t)-1;
	ifstate_init(&d.ifs);
	if (parse_args(argc, argv, &d.o) != 0)
		return 1;
	log_init("stubd", false, d.o.verbose);
	links_init(&d.links);
	d.file_cfg = load_file_cfg(&d.o, false);
	if (d.file_cfg && d.file_cfg->resolvconf_dir) {
		sysnet_dir_sig(d.file_cfg->resolvconf_dir, &d.resolvconf_sig);
		sysnet_read_resolvconf_dir(d.file_cfg->resolvconf_dir, &d.links, resolvconf_err, &d);
	}
	d.cfg = d.file_cfg ? effective_cfg(&d, d.file_cfg, false) : NULL;
	if (d.o.check) {
		rc = d.cfg ? 0 : 1;
		if (d.cfg)
			printf("%s: configuration OK (%zu listen addresses, %zu servers in %zu "
			    "adapters)\n", d.o.config ? d.o.config : CONF_DEFAULT, d.cfg->nlistens,
			    d.cfg->nservers, d.cfg->nadapters);
		cfg_unref(d.cfg);
		cfg_unref(d.file_cfg);
		links_fini(&d.links);
		return rc;
	}
	if (!d.cfg) {
		cfg_unref(d.file_cfg);
		links_fini(&d.links);
		return 1;
	}
	if (d.cfg->nservers == 0)
		log_warn("no upstream servers: every query that misses the cache gets SERVFAIL");
	rc = ares_library_init(ARES_LIB_INIT_ALL);
	if (rc != ARES_SUCCESS) {
		fprintf(stderr, "stubd: c-ares: %s\n", ares_strerror(rc));
		cfg_unref(d.cfg);
		cfg_unref(d.file_cfg);
		links_fini(&d.links);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	d.base = event_base_new();
	if (!d.base) {
		snprintf(why, sizeof(why), "cannot create the event loop");
		goto fail;
	}
	if (start_listeners(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	if (d.cfg->user && !getpwnam(d.cfg->user)) {
		snprintf(why, sizeof(why), "unknown user '%s'", d.cfg->user);
		goto fail;
	}
	if (start_control(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	if (become_daemon(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	if (start_dbus(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	if (d.cfg->user && drop_privileges(d.cfg->user, why, sizeof(why)) != 0)
		goto fail;
	if (start_engine(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	view_update(&d);
	listener_start(d.lis, d.res);
	log_msg(LOG_NOTICE, "stubd %s started: %zu listen addresses, %zu servers",
	    PACKAGE_VERSION, d.cfg->nlistens, d.cfg->nservers);
	event_base_dispatch(d.base);
	shutdown_all(&d);
	return 0;
fail:
	if (d.detached)
		log_err("start-up failed: %s", why);
	else
		fprintf(stderr, "stubd: %s\n", why);
	shutdown_all(&d);
	return 1;
}
