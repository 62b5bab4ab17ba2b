/*
 * main.c - stubd: options, configuration, start-up, signals, reload and
 * the wiring of the modules (with hostsload.c and netfollow.c; the
 * daemon's state is struct daemon of daemon.h, on main()'s stack).
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
#include "clock.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "policyload.h"
#include "rand.h"
#include "resolve.h"
#include "resolve1.h"
#include "sdproto.h"
#include "stats.h"
#include "tlsctx.h"
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

void
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

/*
 * The built-in listen addresses (no listen line, no -l) of a family this
 * host has switched off (IPv6 disabled: [::1] cannot be bound) are left
 * out with a warning instead of failing the start; an address the operator
 * chose stays fatal, and so does every other error.  Not when that would
 * leave nothing to listen on.
 */
static void
skip_unusable_default_listens(const struct cfg *file, struct cfg *c, bool quiet)
{
	bool unusable[8] = { false };
	size_t i, n = 0, nbad = 0;
	char text[80];

	if (file->nlistens != 0 || c->nlistens > sizeof(unusable) / sizeof(unusable[0]))
		return;
	for (i = 0; i < c->nlistens; i++) {
		struct sockaddr_storage ss = c->listens[i].ss;
		int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), e = 0;

		/* the same address on a free port: the family and address only */
		if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port = 0;
		else
			((struct sockaddr_in *)&ss)->sin_port = 0;
		if (fd < 0 || bind(fd, (struct sockaddr *)&ss, c->listens[i].len) != 0)
			e = errno;
		if (fd >= 0)
			close(fd);
		unusable[i] = e == EAFNOSUPPORT || e == EADDRNOTAVAIL;
		nbad += unusable[i];
	}
	if (nbad == 0 || nbad == c->nlistens)
		return;
	for (i = 0; i < c->nlistens; i++) {
		if (!unusable[i]) {
			c->listens[n++] = c->listens[i];
			continue;
		}
		if (!quiet) {
			cfg_format_sockaddr((struct sockaddr *)&c->listens[i].ss, text, sizeof(text));
			log_warn("not listening on %s: its address family is disabled on this "
			    "host (a listen line or -l with it would be an error)", text);
		}
	}
	c->nlistens = n;
}

/* stubd.conf and the command line, not finished (cfg_finish); NULL with
 * messages on stderr (or the log). */
static struct cfg *
load_file_cfg(const struct opts *o, bool to_log, char *errs, size_t errslen)
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
		if (!getpwnam(o->user)) {
			fprintf(stderr, "stubd: -u %s: unknown user\n", o->user);
			c->nerrors++;
		}
	}
	if (c->nerrors) {
		print_cfg_errors(c, to_log);
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
	if (ref->ctl)
		control_query_done(d->ctl, ref->ctl, ctl_query_json(buf, len, ri));
	else
		listener_reply(d->lis, ref, buf, len);
	if (control_monitor_active(d->ctl)) {
		char *line = ctl_monitor_json(ri, ref->ctl ? NULL :
		    (const struct sockaddr *)&ref->peer, buf, len, clock_wall_ms());

		if (line)
			control_monitor_line(d->ctl, line);
		free(line);
	}
}

/* stubctl query: the question asked as a client would, with EDNS, its
 * search traced; the answer goes to control_query_done. */
static int
ctl_query_cb(void *arg, uint64_t id, const struct ctl_later *req, char *err, size_t errlen)
{
	struct daemon *d = arg;
	struct client_ref ref;
	struct msg_query q;
	uint8_t pkt[WIRE_HDR_LEN + WIRE_NAME_MAX + 4 + MSG_OPT_LEN];
	size_t n;

	if (!d->res) {
		snprintf(err, errlen, "not serving yet");
		return -1;
	}
	memset(&q, 0, sizeof(q));
	memcpy(q.qname, req->qname, req->qlen);
	q.qlen = req->qlen;
	q.qtype = req->qtype;
	q.qclass = CLASS_IN;
	n = msg_upstream_query(&q, rand_u16(), q.qname, true, pkt, sizeof(pkt));
	if (!n) {
		snprintf(err, errlen, "cannot build the query");
		return -1;
	}
	memset(&ref, 0, sizeof(ref));
	ref.fd = -1;
	ref.ctl = id;
	ref.trace = true;
	resolver_query(d->res, pkt, n, &ref, true, clock_now_ms());
	return 0;
}

static void
tls_state_cb(void *arg, size_t server, char *buf, size_t len)
{
	struct daemon *d = arg;

	upstream_tls_state(d->up, server, buf, len);
}

void
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
		.tls_state = tls_state_cb,
		.query = ctl_query_cb,
		.arg = d,
	};

	control_set_view(d->ctl, &v);
	metrics_set_view(d->metrics, &v);
}

bool
same_listens(const struct cfg *a, const struct cfg *b)
{
	return a->nlistens == b->nlistens &&
	    memcmp(a->listens, b->listens, a->nlistens * sizeof(*a->listens)) == 0;
}











int
reload(void *arg, char *err, size_t errlen)
{
	struct daemon *d = arg;
	struct cfg *nf, *nc;
	struct tlsctx *nt, *ot;
	char why[300], lines[3072] = "";
	size_t l;

	sd_notify_reloading();
	nf = load_file_cfg(&d->o, true, lines, sizeof(lines));
	nc = nf ? effective_cfg(d, nf, true) : NULL;
	if (nc)
		skip_unusable_default_listens(nf, nc, true);
	if (!nc) {
		cfg_unref(nf);
		snprintf(err, errlen, "configuration has errors; keeping the running one");
		log_err("reload: %s", err);
		/* and the FILE:LINE lines, for stubctl reload to print */
		l = strlen(lines);
		if (l && lines[l - 1] == '\n')
			lines[l - 1] = 0;
		l = strlen(err);
		if (lines[0])
			snprintf(err + l, errlen - l, ":\n%s", lines);
		sd_notify_state("READY=1\nSTATUS=reload failed: configuration has errors");
		return -1;
	}
	/* reload re-reads the trust store (SPEC 12) */
	if (tlsctx_new(nc->tls_ca, tlsctx_needs_store(nc), &nt, why, sizeof(why)) != STUB_OK) {
		snprintf(err, errlen, "%s; keeping the running configuration", why);
		log_err("reload: %s", err);
		cfg_unref(nc);
		cfg_unref(nf);
		sd_notify_state("READY=1\nSTATUS=reload failed");
		return -1;
	}
	ot = d->tls;
	d->tls = nt;
	if (install_cfg(d, nc, NULL, err, errlen) != 0) {
		d->tls = ot;
		tlsctx_unref(nt);
		cfg_unref(nf);
		sd_notify_state("READY=1\nSTATUS=reload failed");
		return -1;
	}
	tlsctx_unref(ot);
	cfg_unref(d->file_cfg);
	d->file_cfg = nf;
	hosts_load(d, true);
	control_refresh_members(d->ctl);
	log_info("configuration reloaded: %zu servers in %zu adapters",
	    d->cfg->nservers, d->cfg->nadapters);
	snprintf(err, errlen, "%s", d->restart_notes);
	sd_notify_state("READY=1\nSTATUS=answering");
	return 0;
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

/*
 * With `user`, the control socket and the pidfile usually sit in a
 * directory only root may change (/run): the daemon, once it has dropped
 * privileges, cannot remove them at exit.  A child forked before the drop
 * keeps root for that one job: it holds nothing but the read end of a
 * pipe, ignores the signals that end the daemon, waits for the pipe to
 * close (the daemon has exited, however), and then removes the two files if
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
	struct janitor_file f[2];
	struct stat st;
	size_t n = 0, i;
	int p[2];
	pid_t pid;
	char buf[16];
	ssize_t r;

	if (d->ctl && d->cfg->control && lstat(d->cfg->control, &st) == 0)
		f[n++] = (struct janitor_file){ d->cfg->control, st.st_dev, st.st_ino };
	if (d->pidfile_written && lstat(d->o.pidfile, &st) == 0)
		f[n++] = (struct janitor_file){ d->o.pidfile, st.st_dev, st.st_ino };
	if (n == 0 || geteuid() != 0 || pw->pw_uid == 0)
		return;
	if (pipe2(p, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		log_warn("cannot start the helper that removes the control socket and "
		    "pidfile at exit: %s", strerror(errno));
		return;
	}
	if (pid > 0) {
		close(p[0]);
		d->janitor_fd = p[1];   /* closed by the kernel when the daemon ends */
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
	if (d->cfg->user)
		return d->cfg->user;
	if (geteuid() != 0)
		return NULL;
	if (getpwnam(USER_DEFAULT)) {
		log_info("dropping privileges to the user %s (the default; 'user root' keeps "
		    "root)", USER_DEFAULT);
		return USER_DEFAULT;
	}
	log_warn("running as root: there is no user %s to drop privileges to (create it: "
	    "adduser --system --group --no-create-home %s; or set 'user'; 'user root' "
	    "keeps root without this warning)", USER_DEFAULT, USER_DEFAULT);
	return NULL;
}

static void
shutdown_all(struct daemon *d)
{
	size_t i;

	cachefile_shutdown(d, d->started);
	hosts_shutdown(d);
	policy_loader_free(d->policy);   /* before the resolver it feeds */
	resolve1_free(d->bus);
	control_free(d->ctl);
	metrics_free(d->metrics);
	resolver_free(d->res);
	upstream_free(d->up);
	tlsctx_unref(d->tls);
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
	netfollow_shutdown(d);
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
	return listener_new(d->base, d->cfg, fds, n, &d->lis, why, whylen);
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

/* Cache, upstream engine, resolver, hosts and timers. */
static enum stub_err
start_engine(struct daemon *d, char *why, size_t whylen)
{
	struct cache_cfg cc = cache_cfg_from(d->cfg);
	struct timeval tv = { HOSTS_POLL_MS / 1000, (HOSTS_POLL_MS % 1000) * 1000 };
	enum stub_err e;

	d->st.start_ms = clock_now_ms();
	d->cache = cache_new(&cc, rand_u64());
	if (!d->cache)
		goto oom;
	cachefile_load(d);
	cachefile_start(d);
	e = upstream_new(d->base, d->cfg, &d->st, d->tls, &d->up, why, whylen);
	if (e != STUB_OK)
		return e;
	d->res = resolver_new(d->cfg, d->cache, &d->st, daemon_reply, d);
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
	/* SPEC 18: the policy table in place before the first query */
	d->policy = policy_loader_new(d->base, d->res, cache_seed(d->cache));
	if (!d->policy)
		goto oom;
	policy_loader_set(d->policy, d->cfg->policy, true);
	start_netlink(d);
	evtimer_add(d->hosts_tmr, &tv);
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
	char why[512];
	const char *user;
	int rc;

	d.hosts_pipe[0] = d.hosts_pipe[1] = -1;
	d.nl_fd = -1;
	d.control_gid = (gid_t)-1;
	d.janitor_fd = -1;
	ifstate_init(&d.ifs);
	if (parse_args(argc, argv, &d.o) != 0)
		return 1;
	log_init("stubd", false, d.o.verbose);
	links_init(&d.links);
	d.file_cfg = load_file_cfg(&d.o, false, NULL, 0);
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
	skip_unusable_default_listens(d.file_cfg, d.cfg, false);
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
	raise_nofile();
	d.base = event_base_new();
	if (!d.base) {
		snprintf(why, sizeof(why), "cannot create the event loop");
		goto fail;
	}
	if (start_signals(&d, why, sizeof(why)) != STUB_OK ||
	    start_listeners(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	if (d.cfg->user && !getpwnam(d.cfg->user)) {
		snprintf(why, sizeof(why), "unknown user '%s'", d.cfg->user);
		goto fail;
	}
	if (start_control(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	if (d.cfg->metrics.len) {
		struct control_view none = { 0 };

		if (metrics_new(d.base, &d.cfg->metrics, &none, &d.metrics, why,
		    sizeof(why)) != STUB_OK)
			goto fail;
	}
	if (become_daemon(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	if (start_dbus(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	/* the trust store may be readable by root only */
	if (tlsctx_new(d.cfg->tls_ca, tlsctx_needs_store(d.cfg), &d.tls, why,
	    sizeof(why)) != STUB_OK)
		goto fail;
	if ((user = run_as_user(&d)) != NULL &&
	    drop_privileges(&d, user, why, sizeof(why)) != 0)
		goto fail;
	if (start_engine(&d, why, sizeof(why)) != STUB_OK)
		goto fail;
	view_update(&d);
	listener_start(d.lis, d.res);
	sd_notify_state("READY=1\nSTATUS=answering");
	log_msg(LOG_NOTICE, "stubd %s started: %zu listen addresses, %zu servers",
	    PACKAGE_VERSION, d.cfg->nlistens, d.cfg->nservers);
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
