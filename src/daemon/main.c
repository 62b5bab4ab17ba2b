/*
 * main.c - stubd: options, start-up steps, signals and the wiring of the
 * modules.  The running configuration and its changes are reconfig.c's,
 * the hosts file hostsload.c's, the cache-file cachefile.c's and the
 * rtnetlink socket netwatch.c's; struct daemon below holds the modules
 * (static in main()) and is the argument of the callbacks that tie them.
 */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>

#include "cache.h"
#include "cachefile.h"
#include "clock.h"
#include "config.h"
#include "control.h"
#include "hostsload.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "netwatch.h"
#include "peer.h"
#include "policyload.h"
#include "rand.h"
#include "mdns.h"
#include "reconfig.h"
#include "resolve.h"
#include "r1props.h"
#include "r1resolve.h"
#include "resolve1.h"
#include "resolvwrite.h"
#include "sysfacts.h"
#include "vlglue.h"
#include "sdproto.h"
#include "stats.h"
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
#define USER_DEFAULT "stubd"
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

/* The modules of the daemon, each owned here; the running configuration
 * is reconfig_cfg(d->rc). */
struct daemon {
	struct opts o;
	struct event_base *base;
	struct reconfig *rc;  /* configuration, upstream engine, TLS context */
	struct netwatch *nw;  /* rtnetlink */
	struct hostsload *hl; /* the hosts file */
	struct cachefile *cf; /* cache-file */
	struct stats st;
	struct cache *cache;
	struct resolver *res;
	struct mdns *mdns; /* .local names (SPEC 19) */
	struct listener *lis;
	struct control *ctl;
	struct metrics *metrics;      /* metrics ADDR:PORT, NULL = off */
	struct peer_policy *peers;    /* who may use the control planes (control-group) */
	struct resolve1 *bus;         /* org.freedesktop.resolve1, dbus yes */
	struct r1resolve *r1;         /* its Resolve* methods (resolved-compat yes) */
	struct policy_loader *policy; /* SPEC 18: policyload.h */
	struct vlglue *vl;       /* varlink io.systemd.Resolve(.Monitor), resolved-compat yes */
	const char *resolve_dir; /* resolved-compat: stub-resolv.conf, resolv.conf; NULL = off */
	struct sysfacts facts;   /* resolved-compat: host name etc. of the synthesized names */
	struct event *poll_tmr;  /* hosts, resolv-file, resolvconf-dir */
	struct event *facts_tmr; /* facts read again after a network change */
	bool started;            /* serving: a clean exit saves the cache */
	int janitor_fd;          /* -1, or the pipe the exit helper waits on */
	struct event *sig[5];
	bool pidfile_written;
	bool detached; /* stderr is gone: errors go to syslog */
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
	    "  -u, --user USER         drop privileges to USER after binding (as root,\n"
	    "                          default: stubd if it exists; root keeps root)\n"
	    "  -v, --verbose           more logging (-vv: one line per query)\n"
	    "  -t, --check-config      check the configuration and exit\n"
	    "  -h, --help              this text\n"
	    "  -V, --version           print the version\n",
	    CONF_DEFAULT);
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

/* stubd.conf and the command line, not finished (cfg_finish); NULL with
 * messages on stderr (or the log). */
static struct cfg *
load_file_cfg(const struct opts *o, bool to_log, char *errs, size_t errslen)
{
	struct cfg *c = cfg_new(CONTROL_DEFAULT, HOSTS_DEFAULT);
	size_t i;
	char why[128];

	if (!c) {
		log_err("out of memory");
		return NULL;
	}
	cfg_parse_file(c, o->config ? o->config : CONF_DEFAULT, o->config == NULL);
	for (i = 0; i < o->nlistens; i++)
		if (cfg_listen_clear_add(c, i == 0, o->listens[i], why, sizeof(why)) != STUB_OK) {
			fprintf(stderr, "stubd: -l %s: %s\n", o->listens[i], why);
			c->nerrors++;
		}
	for (i = 0; i < o->nservers; i++)
		if (cfg_server_arg(c, i == 0, o->servers[i], why, sizeof(why)) != STUB_OK) {
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
		if (!getpwnam(o->user)) {
			fprintf(stderr, "stubd: -u %s: unknown user\n", o->user);
			c->nerrors++;
		}
	}
	if (c->nerrors) {
		cfg_print_errors(c, to_log);
		if (errs)
			snprintf(errs, errslen, "%s", c->errors ? c->errors : "");
		cfg_unref(c);
		return NULL;
	}
	return c;
}

/* Every answer: to its client (the listener's, or a stubctl query), and
 * seen by the monitors. */
static void
daemon_reply(void *io, const struct client_ref *ref, const uint8_t *buf, size_t len,
    const struct reply_info *ri)
{
	struct daemon *d = io;

	latency_observe(&d->st.lat, ri->source, ri->answered - ri->received);
	if (vlglue_answer(d->vl, ref, buf, len, ri))
		;
	else if (r1resolve_answer(d->r1, ref, buf, len, ri))
		;
	else if (ref->ctl)
		control_query_done(d->ctl, ref->ctl, ctl_query_json(buf, len, ri));
	else
		listener_reply(d->lis, ref, buf, len);
	vlglue_monitor(d->vl, buf, len);
	if (control_monitor_active(d->ctl)) {
		char *line = ctl_monitor_json(ri,
		    ref->ctl ? NULL : (const struct sockaddr *)&ref->peer, buf, len,
		    clock_wall_ms());

		if (line)
			control_monitor_line(d->ctl, line);
		free(line);
	}
}

/* stubctl query: the question asked as a client would, with EDNS, its
 * search traced; the answer goes to control_query_done. */
static enum stub_err
ctl_query_cb(void *arg, uint64_t id, const struct ctl_later *req, char *err, size_t errlen)
{
	struct daemon *d = arg;
	struct client_ref ref;
	struct msg_query q;
	uint8_t pkt[WIRE_HDR_LEN + WIRE_NAME_MAX + 4 + MSG_OPT_LEN];
	size_t n;

	if (!d->res) {
		snprintf(err, errlen, "not serving yet");
		return STUB_EINVAL;
	}
	memset(&q, 0, sizeof(q));
	memcpy(q.qname, req->qname, req->qlen);
	q.qlen = req->qlen;
	q.qtype = req->qtype;
	q.qclass = CLASS_IN;
	n = msg_upstream_query(&q, rand_u16(), q.qname, true, pkt, sizeof(pkt));
	if (!n) {
		snprintf(err, errlen, "cannot build the query");
		return STUB_EFORMAT;
	}
	memset(&ref, 0, sizeof(ref));
	ref.fd = -1;
	ref.ctl = id;
	ref.trace = true;
	resolver_query(d->res, pkt, n, &ref, true, clock_now_ms());
	return STUB_OK;
}

static void
transport_stats_cb(void *arg, size_t server, struct transport_stats *out)
{
	struct daemon *d = arg;

	upstream_transport_stats(reconfig_upstream(d->rc), server, out);
}

static enum stub_err
view_reload(void *arg, char *err, size_t errlen)
{
	struct daemon *d = arg;

	return reconfig_reload(d->rc, err, errlen);
}

static enum stub_err
view_link(void *arg, int argc, char **argv, char *err, size_t errlen)
{
	struct daemon *d = arg;

	return reconfig_link(d->rc, ORIGIN_CONTROL, argc, argv, err, errlen);
}

static void
view_hosts_reload(void *arg)
{
	struct daemon *d = arg;

	hostsload_load(d->hl, true);
}

/* What the control socket and the metrics show, as it is now. */
static void
view_pull(void *arg, struct control_view *v)
{
	struct daemon *d = arg;
	struct upstream *up = reconfig_upstream(d->rc);

	*v = (struct control_view){
		.cache = d->cache,
		.hosts = d->hl ? hostsload_hosts(d->hl) : NULL,
		.sched = up ? upstream_sched(up) : NULL,
		.st = &d->st,
		.cfg = reconfig_cfg(d->rc),
		.hosts_gen = d->hl ? hostsload_gen(d->hl) : 0,
		.facts = &d->facts,
		.reload = view_reload,
		.link = view_link,
		.hosts_reload = view_hosts_reload,
		.transport_stats = transport_stats_cb,
		.query = ctl_query_cb,
		.arg = d,
	};
}

/* reconfig_ops: a reload reads stubd.conf and the command line again,
 * then the hosts file and the control group. */
static struct cfg *
reload_file_cfg(void *arg, char *errs, size_t errslen)
{
	struct daemon *d = arg;

	return load_file_cfg(&d->o, true, errs, errslen);
}

static void
reloaded(void *arg)
{
	struct daemon *d = arg;

	hostsload_load(d->hl, true);
	peer_policy_refresh(d->peers);
	mdns_set_timeout(d->mdns, reconfig_cfg(d->rc)->mdns_timeout_ms);
}

/* reconfig_ops: a new running configuration; the policy table's lists
 * follow it (SPEC 18). */
static void
installed(void *arg, const struct cfg *c)
{
	struct daemon *d = arg;

	policy_loader_set(d->policy, c->policy, false);
	resolve1_changed(d->bus);
	if (d->resolve_dir && d->started)
		resolvwrite_update(d->resolve_dir, c, reconfig_links(d->rc));
}

static const struct cfg *
running_cfg(void *arg)
{
	struct daemon *d = arg;

	return d->rc ? reconfig_cfg(d->rc) : NULL;
}

static const char *
hosts_path(void *arg)
{
	struct daemon *d = arg;

	return reconfig_cfg(d->rc)->hosts;
}

/* hosts file, resolv-file and resolvconf-dir, every HOSTS_POLL_MS */
static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	reconfig_poll_files(d->rc);
	hostsload_poll(d->hl);
	if (d->resolve_dir && sysfacts_refresh(&d->facts))
		log_info("host name changed: synthesized names follow");
	/* without rtnetlink no change is told: the facts read with the poll */
	if (!netwatch_running(d->nw))
		sysfacts_read(&d->facts);
}

/* D-Bus (resolve1_ops) */
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

	reconfig_forget_servers(d->rc);
}

static enum stub_err
bus_link(void *arg, enum cfg_origin o, int argc, char **argv, char *err, size_t errlen)
{
	struct daemon *d = arg;

	if (!reconfig_upstream(d->rc)) {
		snprintf(err, errlen, "stubd is starting; try again");
		return STUB_EINVAL;
	}
	return reconfig_link(d->rc, o, argc, argv, err, errlen);
}

static bool
bus_compat(void *arg)
{
	struct daemon *d = arg;

	return reconfig_cfg(d->rc)->resolved_compat;
}

/* r1props_src (SPEC 16): searches in flight, the learned links */
static size_t
bus_inflight(void *arg)
{
	struct daemon *d = arg;

	return d->res ? resolver_inflight(d->res) : 0;
}

static const struct links *
bus_links(void *arg)
{
	struct daemon *d = arg;

	return reconfig_links(d->rc);
}

static const struct stats *
bus_stats_zero(void *arg)
{
	struct daemon *d = arg;

	return vlglue_stats_zero(d->vl);
}

static void
bus_reset_statistics(void *arg)
{
	struct daemon *d = arg;

	vlglue_reset_stats(d->vl);
}

/* `dbus yes`: own org.freedesktop.resolve1 (after detaching: an sd-bus
 * connection does not survive a fork; before dropping privileges). */
static enum stub_err
start_dbus(struct daemon *d, char *why, size_t whylen)
{
	struct resolve1_ops ops = { bus_link, bus_flush_caches, bus_reset_server_features,
		bus_compat, d };
	struct r1props_src props = { .view = view_pull,
		.inflight = bus_inflight,
		.links = bus_links,
		.compat = bus_compat,
		.zero = bus_stats_zero,
		.arg = d };
	struct r1resolve_env env = { d->base, &d->res, running_cfg, bus_reset_statistics, d };
	enum stub_err e;

	if (!reconfig_cfg(d->rc)->dbus)
		return STUB_OK;
	e = resolve1_new(d->base, &ops, d->peers, &d->bus, why, whylen);
	if (e == STUB_OK)
		e = resolve1_props(d->bus, &props, why, whylen);
	/* SPEC 16: the lookups (UnknownMethod unless resolved-compat yes) */
	if (e == STUB_OK)
		e = r1resolve_new(&env, d->bus, &d->r1, why, whylen);
	return e;
}

static void
log_stats(const struct daemon *d)
{
	const struct stats *s = &d->st;

	log_msg(LOG_NOTICE,
	    "stats: queries %llu (udp %llu, tcp %llu), cache hits %llu "
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
		reconfig_reload(d->rc, err, sizeof(err));
		break;
	case SIGUSR1: log_stats(d); break;
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

/*
 * With `user`, the control socket and the pidfile (and, with resolved-compat,
 * the varlink sockets in /run/systemd/resolve) usually sit in a
 * directory only root may change (/run): the daemon, once it has dropped
 * privileges, cannot remove them at exit.  A child forked before the drop
 * keeps root for that one job: it holds nothing but the read end of a
 * pipe, ignores the signals that end the daemon, waits for the pipe to
 * close (the daemon has exited, however), and then removes those files if
 * they are still the ones the daemon made (same inode: not those of a
 * stubd started since).  Nothing to do when the directories are writable
 * by the user anyway (e.g. /run/stubd owned by it): the daemon removes them.
 */
struct janitor_file {
	const char *path;
	dev_t dev;
	ino_t ino;
};

static void
start_janitor(struct daemon *d, const struct passwd *pw)
{
	struct janitor_file f[4];
	const char *vl[2];
	struct stat st;
	size_t n = 0, i, nvl;
	int p[2];
	pid_t pid;
	char buf[16];
	ssize_t r;

	const struct cfg *c = reconfig_cfg(d->rc);

	if (d->ctl && c->control && lstat(c->control, &st) == 0)
		f[n++] = (struct janitor_file){ c->control, st.st_dev, st.st_ino };
	if (d->pidfile_written && lstat(d->o.pidfile, &st) == 0)
		f[n++] = (struct janitor_file){ d->o.pidfile, st.st_dev, st.st_ino };
	/* resolved-compat: the varlink sockets in /run/systemd/resolve */
	nvl = vlglue_paths(d->vl, vl);
	for (i = 0; i < nvl; i++)
		if (lstat(vl[i], &st) == 0)
			f[n++] = (struct janitor_file){ vl[i], st.st_dev, st.st_ino };
	if (n == 0 || geteuid() != 0 || pw->pw_uid == 0)
		return;
	if (pipe2(p, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		log_warn("cannot start the helper that removes the control socket, "
		         "pidfile and varlink sockets at exit: %s",
		    strerror(errno));
		return;
	}
	if (pid > 0) {
		close(p[0]);
		d->janitor_fd = p[1]; /* closed by the kernel when the daemon ends */
		return;
	}
	/* the helper: fd 3 is the pipe, every other descriptor goes */
	if (dup2(p[0], 3) != 3)
		_exit(1);
	if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0)
		for (i = 4; i < 1024; i++)
			close((int)i);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	while ((r = read(3, buf, sizeof(buf))) != 0)
		if (r < 0 && errno != EINTR)
			break;
	for (i = 0; i < n; i++)
		if (lstat(f[i].path, &st) == 0 && st.st_dev == f[i].dev && st.st_ino == f[i].ino)
			unlink(f[i].path);
	_exit(0);
}

static int
drop_privileges(struct daemon *d, const char *user, char *why, size_t whylen)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		snprintf(why, whylen, "unknown user '%s'", user);
		return -1;
	}
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
		return 0;
	start_janitor(d, pw);
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

/*
 * Who to run as once the sockets are bound: the `user` of the
 * configuration (or -u); else, started as root, the system user stubd when
 * it exists (the Debian package makes it), as unbound and dnsmasq drop to
 * theirs by default; else root, with a warning.  `user root` keeps root
 * without one.  NULL = stay as started.
 */
static const char *
run_as_user(const struct daemon *d)
{
	const char *user = reconfig_cfg(d->rc)->user;

	if (user)
		return user;
	if (geteuid() != 0)
		return NULL;
	if (getpwnam(USER_DEFAULT)) {
		log_info("dropping privileges to the user %s (the default; 'user root' keeps "
		         "root)",
		    USER_DEFAULT);
		return USER_DEFAULT;
	}
	log_warn("running as root: there is no user %s to drop privileges to (create it: "
	         "adduser --system --group --no-create-home %s; or set 'user'; 'user root' "
	         "keeps root without this warning)",
	    USER_DEFAULT, USER_DEFAULT);
	return NULL;
}

static void
shutdown_all(struct daemon *d)
{
	size_t i;

	cachefile_free(d->cf, d->started);
	policy_loader_free(d->policy); /* before the resolver it feeds */
	r1resolve_free(d->r1);         /* before the bus it serves on */
	d->r1 = NULL;
	resolve1_free(d->bus);
	vlglue_free(d->vl);
	control_free(d->ctl);
	peer_policy_free(d->peers);
	metrics_free(d->metrics);
	resolver_free(d->res);
	mdns_free(d->mdns);   /* after the resolver, which cancels its searches */
	reconfig_free(d->rc); /* the upstream engine (after the resolver) */
	listener_free(d->lis);
	cache_free(d->cache);
	hostsload_free(d->hl);
	if (d->poll_tmr)
		event_free(d->poll_tmr);
	if (d->facts_tmr)
		event_free(d->facts_tmr);
	for (i = 0; i < sizeof(d->sig) / sizeof(d->sig[0]); i++)
		if (d->sig[i])
			event_free(d->sig[i]);
	if (d->pidfile_written && d->o.pidfile)
		unlink(d->o.pidfile);
	netwatch_free(d->nw);
	if (d->base)
		event_base_free(d->base);
	ares_library_cleanup();
}

/* ---------------- start-up steps: STUB_OK, or a reason in why ---------------- */

/* The sockets clients reach, bound while still privileged, or passed by
 * systemd (socket activation, SPEC 15). */
static enum stub_err
start_listeners(struct daemon *d, char *why, size_t whylen)
{
	int fds[SD_LISTEN_FDS_MAX];
	size_t n = sd_listen_fds_take(), i;

	for (i = 0; i < n; i++)
		fds[i] = SD_LISTEN_FDS_START + (int)i;
	if (n)
		log_info("serving %zu sockets passed by systemd instead of the listen lines", n);
	return listener_new(d->base, reconfig_cfg(d->rc), fds, n, &d->lis, why, whylen);
}

/* The control socket; the built-in default path may be out of reach (no
 * such directory, not root) and is then skipped; a path the operator chose
 * must work. */
static enum stub_err
start_control(struct daemon *d, char *why, size_t whylen)
{
	const struct cfg *c = reconfig_cfg(d->rc);
	gid_t gid = (gid_t)-1;
	enum stub_err e;
	bool dflt;

	if (c->control_group) {
		struct group *g = getgrnam(c->control_group);

		if (!g) {
			snprintf(why, whylen, "unknown control-group '%s'", c->control_group);
			return STUB_ENOTFOUND;
		}
		gid = g->gr_gid;
	}
	if (peer_policy_new(gid, &d->peers) != STUB_OK) {
		snprintf(why, whylen, "out of memory");
		return STUB_ENOMEM;
	}
	if (!c->control)
		return STUB_OK;
	e = control_new(d->base, c->control, d->peers, view_pull, d, &d->ctl, why, whylen);
	dflt = !d->o.control && strcmp(c->control, CONTROL_DEFAULT) == 0;
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

/*
 * Signals, caught from the moment the loop exists: one arriving during
 * start-up is handled when the loop first runs (a SIGTERM then is a clean
 * exit, not the default action with the pidfile and socket left behind).
 */
static enum stub_err
start_signals(struct daemon *d, char *why, size_t whylen)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		d->sig[i] = evsignal_new(d->base, sigs[i], signal_cb, d);
		if (!d->sig[i] || evsignal_add(d->sig[i], NULL) != 0) {
			snprintf(why, whylen, "out of memory");
			return STUB_ENOMEM;
		}
	}
	return STUB_OK;
}

/* resolved-compat yes: the varlink servers of SPEC 16, bound while still
 * privileged, after start_control (the peer policy). */
static enum stub_err
start_varlink(struct daemon *d, char *why, size_t whylen)
{
	struct vlglue_env env = { d->base, &d->res, &d->cache, &d->st, running_cfg, d, d->peers,
		view_pull };

	if (!reconfig_cfg(d->rc)->resolved_compat)
		return STUB_OK;
	return vlglue_start(&env, &d->vl, why, whylen);
}

/* resolved-compat yes: the directory of stub-resolv.conf and resolv.conf
 * made while still privileged and given to user, who replaces the files
 * from then on (SPEC 16). */
static enum stub_err
start_resolved_files(struct daemon *d, const char *user, char *why, size_t whylen)
{
	const char *dir = resolvwrite_dir();
	enum stub_err e;

	if (!reconfig_cfg(d->rc)->resolved_compat)
		return STUB_OK;
	e = resolvwrite_prepare(dir, user, why, whylen);
	if (e == STUB_OK)
		d->resolve_dir = dir;
	return e;
}

#define FACTS_SETTLE_MS 50 /* a burst of rtnetlink messages, one read */

/* The system facts (SPEC 16 names, ScopesMask) read again, off the
 * query path: once per burst of rtnetlink messages. */
static void
facts_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	sysfacts_read(&d->facts);
}

static void
facts_changed(struct daemon *d)
{
	struct timeval tv = { 0, FACTS_SETTLE_MS * 1000 };

	if (d->facts_tmr && !evtimer_pending(d->facts_tmr, NULL))
		evtimer_add(d->facts_tmr, &tv);
}

/* netwatch_ops: reconfig's, and the facts follow */
static void
nw_link_state(void *arg)
{
	struct daemon *d = arg;

	reconfig_link_state(d->rc);
	facts_changed(d);
}

static void
nw_link_changed(void *arg, const char *ifname)
{
	struct daemon *d = arg;

	reconfig_link_changed(d->rc, ifname);
}

static void
nw_metrics_changed(void *arg)
{
	struct daemon *d = arg;

	reconfig_metrics_changed(d->rc);
}

/* Cache, upstream engine, resolver, hosts, rtnetlink and the poll. */
static enum stub_err
start_engine(struct daemon *d, char *why, size_t whylen)
{
	struct cfg *c = reconfig_cfg(d->rc);
	struct cache_cfg cc = cache_cfg_from(c);
	struct timeval tv = { HOSTS_POLL_MS / 1000, (HOSTS_POLL_MS % 1000) * 1000 };
	struct netwatch_ops nwops = { nw_link_state, nw_link_changed, nw_metrics_changed, d };
	enum stub_err e;

	d->st.start_ms = clock_now_ms();
	d->cache = cache_new(&cc, rand_u64());
	if (!d->cache)
		goto oom;
	d->cf = cachefile_new(d->base, d->cache, running_cfg, d);
	if (!d->cf)
		goto oom;
	cachefile_load(d->cf);
	cachefile_start(d->cf);
	e = reconfig_start_upstream(d->rc, d->base, &d->st, why, whylen);
	if (e != STUB_OK)
		return e;
	d->res = resolver_new(c, d->cache, &d->st, daemon_reply, d);
	d->poll_tmr = event_new(d->base, -1, EV_PERSIST, poll_cb, d);
	d->facts_tmr = evtimer_new(d->base, facts_cb, d);
	d->mdns = mdns_new(d->base, &d->st);
	if (!d->res || !d->poll_tmr || !d->facts_tmr || !d->mdns)
		goto oom;
	resolver_set_upstream(d->res, upstream_as_if(reconfig_upstream(d->rc)));
	mdns_set_timeout(d->mdns, reconfig_cfg(d->rc)->mdns_timeout_ms);
	mdns_set_skip(d->mdns, reconfig_mdns_off, d->rc);
	resolver_set_mdns(d->res, mdns_as_if(d->mdns));
	if (c->resolved_compat) { /* SPEC 16: the host name, _gateway, _outbound */
		struct synth_if si = { &d->facts.names, sysfacts_addrs, &d->facts };

		sysfacts_refresh(&d->facts);
		resolver_set_synth(d->res, &si);
	}
	sysfacts_read(&d->facts); /* again on network changes (facts_changed) */
	reconfig_attach(d->rc, d->cache, d->res, d->lis);
	e = hostsload_new(d->base, d->res, d->cache, d->o.hosts != NULL, hosts_path, d, &d->hl, why,
	    whylen);
	if (e != STUB_OK)
		return e;
	hostsload_load(d->hl, false);
	/* SPEC 18: the policy table in place before the first query (big
	 * lists follow off the loop) */
	d->policy = policy_loader_new(d->base, d->res, &d->st, cache_seed(d->cache));
	if (!d->policy)
		goto oom;
	policy_loader_set(d->policy, reconfig_cfg(d->rc)->policy, true);
	netwatch_start(d->nw, d->base, &nwops);
	evtimer_add(d->poll_tmr, &tv);
	return STUB_OK;
oom:
	snprintf(why, whylen, "out of memory");
	return STUB_ENOMEM;
}

/* SPEC 7: the soft open-file limit raised to the hard one before any
 * socket (the listener keeps max-tcp-clients under it). */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && rl.rlim_max != RLIM_INFINITY)
		log_warn("cannot raise the open-file limit to %llu: %s",
		    (unsigned long long)rl.rlim_max, strerror(errno));
}

int
main(int argc, char **argv)
{
	static struct daemon d;
	struct reconfig_ops rops = { reload_file_cfg, reloaded, installed, &d };
	struct cfg *file, *c = NULL;
	char why[512];
	const char *user;
	int rc;

	d.janitor_fd = -1;
	if (parse_args(argc, argv, &d.o) != 0)
		return 1;
	log_init("stubd", false, d.o.verbose);
	d.nw = netwatch_new();
	if (!d.nw) {
		fprintf(stderr, "stubd: out of memory\n");
		return 1;
	}
	file = load_file_cfg(&d.o, false, NULL, 0);
	if (file) {
		d.rc = reconfig_new(file, netwatch_ifstate(d.nw), &rops);
		if (!d.rc)
			log_err("out of memory");
		else if (reconfig_build(d.rc, false) == 0)
			c = reconfig_cfg(d.rc);
	}
	if (d.o.check) {
		rc = c ? 0 : 1;
		if (c)
			printf("%s: configuration OK (%zu listen addresses, %zu servers in %zu "
			       "adapters)\n",
			    d.o.config ? d.o.config : CONF_DEFAULT, c->nlistens, c->nservers,
			    c->nadapters);
		reconfig_free(d.rc);
		netwatch_free(d.nw);
		return rc;
	}
	if (!c) {
		reconfig_free(d.rc);
		netwatch_free(d.nw);
		return 1;
	}
	reconfig_skip_unusable_listens(d.rc);
	if (c->nservers == 0)
		log_warn("no upstream servers: every query that misses the cache gets SERVFAIL");
	rc = ares_library_init(ARES_LIB_INIT_ALL);
	if (rc != ARES_SUCCESS) {
		fprintf(stderr, "stubd: c-ares: %s\n", ares_strerror(rc));
		reconfig_free(d.rc);
		netwatch_free(d.nw);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	d.base = event_base_new();
	if (!d.base) {
		snprintf(why, sizeof(why), "cannot create the event loop");
		goto fail;
	}
	if (start_signals(&d, why, sizeof(why)) != STUB_OK ||
	    start_listeners(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	if (c->user && !getpwnam(c->user)) {
		snprintf(why, sizeof(why), "unknown user '%s'", c->user);
		goto fail;
	}
	if (start_control(&d, why, sizeof(why)) != STUB_OK ||
	    start_varlink(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	if (c->metrics.len &&
	    metrics_new(d.base, &c->metrics, view_pull, &d, &d.metrics, why, sizeof(why)) !=
	        STUB_OK)
		goto fail;
	if (become_daemon(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	if (start_dbus(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	/* the trust store may be readable by root only */
	if (reconfig_open_tls(d.rc, why, sizeof(why)) != STUB_OK)
		goto fail;
	user = run_as_user(&d);
	if (start_resolved_files(&d, user, why, sizeof(why)) != STUB_OK)
		goto fail;
	if (user && drop_privileges(&d, user, why, sizeof(why)) != 0)
		goto fail;
	if (start_engine(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	if (d.resolve_dir)
		resolvwrite_update(d.resolve_dir, reconfig_cfg(d.rc), reconfig_links(d.rc));
	listener_start(d.lis, d.res);
	sd_notify_state("READY=1\nSTATUS=answering");
	log_msg(LOG_NOTICE, "stubd %s started: %zu listen addresses, %zu servers", PACKAGE_VERSION,
	    c->nlistens, c->nservers);
	d.started = true;
	event_base_dispatch(d.base);
	sd_notify_state("STOPPING=1");
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
