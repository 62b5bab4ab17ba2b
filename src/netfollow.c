/*
 * netfollow.c - the running configuration and the network it follows
 * (SPEC 11): the configuration file's settings plus the servers of
 * resolv-file and the adapters learned from the system (resolvconf-dir,
 * stubctl link, D-Bus), rebuilt and installed on every change; link state
 * from rtnetlink applied to the running engine.
 */
#include "auto-config.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "cache.h"
#include "clock.h"
#include "daemon.h"
#include "file.h"
#include "listener.h"
#include "log.h"
#include "polcfg.h"
#include "policyload.h"
#include "resolve.h"
#include "resolve1.h"
#include "upstream.h"

static int network_changed(struct daemon *d, const char *what, char *err, size_t errlen);

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
struct cfg *
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
	/* SPEC 18: rule NAME adapter A = a routing domain of A */
	if (polcfg_route_adapters(c->policy, c) && to_log)
		log_warn("a rule names an adapter that does not exist (yet)");
	if (c->nerrors) {
		print_cfg_errors(c, to_log);
		cfg_unref(c);
		return NULL;
	}
	return c;
}

void
resolvconf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	if (line)
		log_warn("%s:%u: %s", file, line, msg);
	else
		log_warn("%s: %s", file, msg);
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
void
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

/* Do s and t name the same server with the same pins? */
static bool
same_server(const struct cfg_server *s, const struct cfg_server *t)
{
	char u1[CFG_URL_MAX], u2[CFG_URL_MAX];

	cfg_server_url(s, u1, sizeof(u1));
	cfg_server_url(t, u2, sizeof(u2));
	return strcmp(u1, u2) == 0 && s->npins == t->npins &&
	    memcmp(s->pins, t->pins, s->npins * sizeof(s->pins[0])) == 0;
}

/* Does a server trusted for AD in old (SPEC 12) lose that trust in nc, by
 * going or by being trusted no longer?  The AD bits it left in the cache
 * then no longer hold. */
static bool
ad_trust_lost(const struct cfg *old, const struct cfg *nc)
{
	size_t i, k;

	for (i = 0; i < old->nservers; i++) {
		if (!cfg_server_trusts_ad(&old->servers[i]))
			continue;
		for (k = 0; k < nc->nservers; k++)
			if (cfg_server_trusts_ad(&nc->servers[k]) &&
			    same_server(&old->servers[i], &nc->servers[k]))
				break;
		if (k == nc->nservers)
			return true;
	}
	return false;
}

/*
 * Put a new running configuration in place: a new upstream engine that
 * keeps what was learnt about servers still there.  A network change
 * (SPEC 11) also drops every negative answer and forgets the RTT and
 * exclusion of the adapters it concerns.  Takes nc.
 */
/* A setting a reload cannot change: logged, and kept for stubctl reload's
 * answer. */
static void
restart_note(struct daemon *d, const char *msg)
{
	size_t l = strlen(d->restart_notes);

	log_warn("reload: %s", msg);
	snprintf(d->restart_notes + l, sizeof(d->restart_notes) - l, "%s\n", msg);
}

int
install_cfg(struct daemon *d, struct cfg *nc, const char *netchange, char *err, size_t errlen)
{
	struct upstream *nu;
	struct cache_cfg cc;
	char why[256];
	size_t a, dropped = 0;

	if (upstream_new(d->base, nc, &d->st, d->tls, &nu, why, sizeof(why)) != STUB_OK) {
		snprintf(err, errlen, "%s", why);
		log_err("%s", err);
		cfg_unref(nc);
		return -1;
	}
	/* RTT, exclusion and counters of servers still configured carry over */
	sched_inherit(upstream_sched(nu), upstream_sched(d->up));
	/* and the TLS session tickets: the next connections resume */
	upstream_inherit_tickets(nu, d->up);
	if (netchange) {
		for (a = 0; a < nc->nadapters; a++)
			if (!same_adapter(d->cfg, nc, a))
				sched_forget(upstream_sched(nu), a);
		dropped = cache_flush(d->cache, NULL, 0, true);
	}
	if (ad_trust_lost(d->cfg, nc))
		log_msg(LOG_NOTICE, "a server is no longer trusted for AD: AD cleared in %zu "
		    "cached answers", cache_distrust_ad(d->cache));
	d->restart_notes[0] = 0;
	if (!same_listens(d->cfg, nc))
		restart_note(d, "listen addresses changed; they take effect on restart");
	if ((d->cfg->control == NULL) != (nc->control == NULL) ||
	    (nc->control && strcmp(d->cfg->control, nc->control) != 0))
		restart_note(d, "the control socket changes on restart");
	if (d->cfg->dbus != nc->dbus)
		restart_note(d, "dbus changes on restart");
	if (d->cfg->metrics.len != nc->metrics.len ||
	    memcmp(&d->cfg->metrics.ss, &nc->metrics.ss, nc->metrics.len) != 0)
		restart_note(d, "the metrics address changes on restart");
	if ((d->cfg->user == NULL) != (nc->user == NULL) ||
	    (nc->user && strcmp(d->cfg->user, nc->user) != 0))
		restart_note(d, "the user changes on restart");
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
	policy_loader_set(d->policy, nc->policy, false);   /* SPEC 18 */
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

/* A link set over the control socket (stubctl link IFNAME
 * dns|domain|default-route|dns-over-tls|revert ...) or D-Bus (SPEC 11). */
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
	} else if (strcmp(verb, "dns-over-tls") == 0) {
		if (argc != 4 || (strcmp(argv[3], "yes") != 0 && strcmp(argv[3], "no") != 0)) {
			snprintf(err, errlen, "usage: link IFNAME dns-over-tls yes|no");
			return -1;
		}
		rc = links_set_dot(&d->links, ifname, o, strcmp(argv[3], "yes") == 0, err, errlen);
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
		    "dns-over-tls, revert)", verb);
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

int
link_cmd(void *arg, int argc, char **argv, char *err, size_t errlen)
{
	return link_apply(arg, ORIGIN_CONTROL, argc, argv, err, errlen);
}

/* resolv-file (when it gives the servers) and resolvconf-dir, polled with
 * the hosts file */
void
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
enum stub_err
start_dbus(struct daemon *d, char *why, size_t whylen)
{
	struct resolve1_ops ops = { bus_link, bus_flush_caches, bus_reset_server_features, d };

	if (!d->cfg->dbus)
		return STUB_OK;
	return resolve1_new(d->base, &ops, d->control_gid, &d->bus, why, whylen);
}

void
netfollow_shutdown(struct daemon *d)
{
	if (d->nl_ev)
		event_free(d->nl_ev);
	d->nl_ev = NULL;
	if (d->nl_fd >= 0)
		close(d->nl_fd);
	d->nl_fd = -1;
	ifstate_fini(&d->ifs);
	links_fini(&d->links);
}
