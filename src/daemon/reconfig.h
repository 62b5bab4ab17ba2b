/*
 * reconfig.h - the running configuration and the engine built from it
 * (SPEC 11, reload of SPEC 8): the configuration file's settings plus the
 * servers of resolv-file and the adapters learned from the system
 * (resolvconf-dir, stubctl link, D-Bus).  Every change, whatever reported
 * it, goes through reconfig_apply(): build the effective configuration,
 * start a new upstream engine that inherits what was learnt, swap it in.
 * Link state from the rtnetlink watcher is applied to the running engine
 * without a rebuild.
 *
 * Owns the file and running configurations, the learned links, the TLS
 * context and the running upstream engine; borrows the cache, resolver
 * and listener it reconfigures (reconfig_attach).
 */
#ifndef STUBD_RECONFIG_H
#define STUBD_RECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"
#include "netlink.h"

struct cache;
struct event_base;
struct listener;
struct resolver;
struct stats;
struct tlsctx;
struct upstream;
struct links;
struct reconfig;

struct reconfig_ops {
	/* reload: stubd.conf and the command line read again, not finished
	 * (cfg_finish); NULL with the FILE:LINE lines in errs */
	struct cfg *(*load_file)(void *arg, char *errs, size_t errslen);
	/* a reload is in place: what else it re-reads (hosts file, the
	 * control group) */
	void (*reloaded)(void *arg);
	/* a new running configuration is in place (any swap): what else
	 * follows it (the policy table's lists) */
	void (*installed)(void *arg, const struct cfg *c);
	void *arg;
};

/* Takes file (stubd.conf and the command line, not finished); reads
 * resolvconf-dir.  ifs: the interfaces as the rtnetlink watcher sees them.
 * NULL on OOM (file freed). */
struct reconfig *
reconfig_new(struct cfg *file, const struct ifstate *ifs, const struct reconfig_ops *ops);
/* Build the first running configuration; STUB_EFORMAT with the errors on
 * stderr, or the log when to_log. */
enum stub_err reconfig_build(struct reconfig *r, bool to_log);
/* Leave out built-in listen addresses of a disabled family (start-up). */
void reconfig_skip_unusable_listens(struct reconfig *r);
/* Read the trust store (it may be readable by root only). */
enum stub_err reconfig_open_tls(struct reconfig *r, char *why, size_t whylen);
/* The first upstream engine; base and st serve every later one too. */
enum stub_err reconfig_start_upstream(struct reconfig *r, struct event_base *base, struct stats *st,
    char *why, size_t whylen);
/* What a swap reconfigures besides the engine (none of them taken). */
void reconfig_attach(struct reconfig *r, struct cache *cache, struct resolver *res,
    struct listener *lis);

/*
 * The one entry point: build the running configuration from file (taken;
 * NULL = the current file configuration) + resolv-file + learned links
 * and swap the engine in.  A new file (a reload) also re-reads the trust
 * store and notes the settings that change only on restart (err holds
 * them, one per line, on success).  netchange (a network change, SPEC 11)
 * also drops every negative answer and forgets the RTT and exclusion of
 * the adapters whose servers changed.  STUB_OK, or with a reason in err:
 * STUB_EFORMAT the configuration has errors; STUB_EIO the trust store
 * cannot be read or no engine could be started (logged); STUB_ENOMEM.
 */
enum stub_err reconfig_apply(struct reconfig *r, struct cfg *file, const char *netchange, char *err,
    size_t errlen);
/* stubctl reload and SIGHUP: ops->load_file, reconfig_apply,
 * ops->reloaded, sd_notify.  The control view's reload (arg is r). */
enum stub_err reconfig_reload(void *arg, char *err, size_t errlen);
/* A link setting (stubctl link IFNAME dns|domain|default-route|
 * dns-over-tls|revert ..., argv[0] "link"; or D-Bus), applied: STUB_OK;
 * STUB_EINVAL (a bad setting), STUB_ENOTFOUND (revert of no link) or as
 * reconfig_apply, with the reason in err. */
enum stub_err reconfig_link(struct reconfig *r, enum cfg_origin o, int argc, char **argv, char *err,
    size_t errlen);

/* The reports of the watchers. */
/* resolv-file and resolvconf-dir: polled (every second, with the hosts
 * file) */
void reconfig_poll_files(struct reconfig *r);
/* rtnetlink (struct netwatch_ops): link state to apply, a link changed,
 * default route metrics changed */
void reconfig_link_state(void *arg);
void reconfig_link_changed(void *arg, const char *ifname);
void reconfig_metrics_changed(void *arg);

/* Accessors: valid until the next reconfig_apply. */
struct cfg *reconfig_cfg(const struct reconfig *r); /* running; NULL before build */
/* SPEC 19: the interface is set to MulticastDNS no (arg: the reconfig) */
bool reconfig_mdns_off(void *arg, const char *ifname);
const struct cfg *reconfig_file_cfg(const struct reconfig *r);
struct upstream *reconfig_upstream(const struct reconfig *r); /* NULL before start */
/* The adapters learned from the system (SPEC 16: the search domains of
 * stub-resolv.conf). */
struct links;
const struct links *reconfig_links(const struct reconfig *r);
/* Forget RTT and exclusion of every adapter (D-Bus ResetServerFeatures). */
void reconfig_forget_servers(struct reconfig *r);

/* Free the engine, the TLS context and the configurations. */
void reconfig_free(struct reconfig *r);

#endif
