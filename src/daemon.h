/*
 * daemon.h - the daemon's state and the wiring shared by main.c (options,
 * start-up, signals, reload), hostsload.c (the hosts file) and
 * netfollow.c (following the network).  One struct daemon lives on
 * main()'s stack and is handed to every callback explicitly.
 */
#ifndef STUBD_DAEMON_H
#define STUBD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"
#include "hosts.h"
#include "links.h"
#include "netlink.h"
#include "stats.h"
#include "sysnet.h"

#define HOSTS_POLL_MS 1000            /* hosts, resolv-file, resolvconf-dir */
#define HOSTS_SYNC_MAX (256 * 1024)   /* bigger hosts files are parsed off the loop */
#define MAX_ARGS 64

struct event;
struct event_base;
struct hosts_job;

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
	struct policy_loader *policy;   /* SPEC 18: policyload.h */
	struct upstream *up;
	struct tlsctx *tls;             /* trust store and tickets, SPEC 12 */
	struct resolver *res;
	struct listener *lis;
	struct control *ctl;
	struct metrics *metrics;        /* metrics ADDR:PORT, NULL = off */
	gid_t control_gid;              /* control-group, (gid_t)-1 = none */
	struct resolve1 *bus;           /* org.freedesktop.resolve1, dbus yes */
	struct event *hosts_tmr;
	struct event *save_tmr;         /* cache-file, every 10 minutes */
	pid_t save_pid;                 /* the child writing it, 0 = none */
	bool started;                   /* serving: a clean exit saves the cache */
	int janitor_fd;                 /* -1, or the pipe the exit helper waits on */
	char restart_notes[512];        /* reload: what takes effect on restart, by line */
	struct event *sig[5];
	bool pidfile_written;
	bool detached;          /* stderr is gone: errors go to syslog */
};

/* main.c */
void view_update(struct daemon *d);
void print_cfg_errors(struct cfg *c, bool to_log);
bool same_listens(const struct cfg *a, const struct cfg *b);
int reload(void *arg, char *err, size_t errlen);

/* hostsload.c: (re)load the hosts file; big ones off the loop */
void hosts_load(struct daemon *d, bool defer_ok);
void hosts_reload_cb(void *arg);
void hosts_poll_cb(int fd, short what, void *arg);
void hosts_job_done_cb(int fd, short what, void *arg);
void hosts_shutdown(struct daemon *d);

/* cachefile.c: cache-file read at start, saved periodically and at exit */
void cachefile_load(struct daemon *d);
void cachefile_start(struct daemon *d);
void cachefile_shutdown(struct daemon *d, bool save);

/* netfollow.c: the running configuration and the network it follows */
struct cfg *effective_cfg(struct daemon *d, const struct cfg *file, bool to_log);
int install_cfg(struct daemon *d, struct cfg *nc, const char *netchange, char *err,
    size_t errlen);
void resolvconf_err(void *arg, const char *file, unsigned line, const char *msg);
int link_cmd(void *arg, int argc, char **argv, char *err, size_t errlen);
void watch_network(struct daemon *d);
void start_netlink(struct daemon *d);
enum stub_err start_dbus(struct daemon *d, char *why, size_t whylen);
void netfollow_shutdown(struct daemon *d);

#endif
