/*
 * reconfig.c - the running configuration and the network it follows
 * (SPEC 11) and reload (SPEC 8): one entry point, reconfig_apply(),
 * rebuilds the effective configuration (file + resolv-file + learned
 * links) and swaps the upstream engine; the watchers (netwatch.c for
 * rtnetlink, the poll of resolv-file and resolvconf-dir below) and the
 * link settings (stubctl link, D-Bus) report into it.
 */
#include "auto-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clock.h"
#include "ddr.h"
#include "encryption.h"
#include "file.h"
#include "hosts.h"
#include "links.h"
#include "listener.h"
#include "log.h"
#include "polcfg.h"
#include "reconfig.h"
#include "resolve.h"
#include "sdproto.h"
#include "sysnet.h"
#include "tlsctx.h"
#include "upstream.h"

struct reconfig {
	struct reconfig_ops ops;
	struct cfg *file_cfg;          /* stubd.conf and the command line */
	struct cfg *cfg;               /* that + resolv-file + learned links */
	struct links links;            /* adapters learned from the system */
	struct hosts_sig resolv_sig;   /* resolv-file as last read */
	struct dir_sig resolvconf_sig; /* resolvconf-dir as last read */
	const struct ifstate *ifs;     /* the rtnetlink watcher's */
	struct tlsctx *tls;            /* trust store and tickets, SPEC 12 */
	struct upstream *up;           /* the running engine */
	struct event_base *base;
	struct stats *st;
	struct cache *cache; /* borrowed, as the three below */
	struct resolver *res;
	struct listener *lis;
	char restart_notes[512]; /* reload: what takes effect on restart, by line */
	struct ddr_table ddr;    /* SPEC 17: what DDR discovered, per server */
};

static void
resolvconf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	if (line)
		log_warn("%s:%u: %s", file, line, msg);
	else
		log_warn("%s: %s", file, msg);
}

struct reconfig *
reconfig_new(struct cfg *file, const struct ifstate *ifs, const struct reconfig_ops *ops)
{
	struct reconfig *r = calloc(1, sizeof(*r));

	if (!r) {
		cfg_unref(file);
		return NULL;
	}
	r->ops = *ops;
	r->file_cfg = file;
	ddr_table_init(&r->ddr);
	r->ifs = ifs;
	links_init(&r->links);
	if (file->resolvconf_dir) {
		sysnet_dir_sig(file->resolvconf_dir, &r->resolvconf_sig);
		sysnet_read_resolvconf_dir(file->resolvconf_dir, &r->links, resolvconf_err, r);
	}
	return r;
}

/* The metric a learned adapter on ifname gets: its default route's. */
static int
link_metric(const struct reconfig *r, const char *ifname)
{
	long m = ifstate_route_metric(r->ifs, ifname);

	return m >= 0 && m <= 1000000 ? (int)m : LINK_METRIC_DEFAULT;
}

static void
link_skipped(void *arg, const char *ifname)
{
	(void)arg;
	log_warn("link %s: an adapter of the configuration has that name; not used", ifname);
}

/*
 * SPEC 16: under resolved-compat, resolved's stub address 127.0.0.53:53
 * as well, unless a listen address covers it already.  Not in tests that
 * keep the files elsewhere ($STUBD_RESOLVE_DIR): they run side by side on
 * the machine's loopback.
 */
static void
stub_listen(struct cfg *c)
{
	struct cfg_sockaddr sa;
	const char *t = getenv("STUBD_RESOLVE_DIR");
	char why[64];

	if (!c->resolved_compat || (t && *t))
		return;
	if (cfg_parse_sockaddr("127.0.0.53", DNS_PORT, &sa) == STUB_OK && !cfg_listens_on(c, &sa))
		(void)cfg_listen_clear_add(c, false, "127.0.0.53:53", why, sizeof(why));
}

/*
 * The running configuration: the file's, with the servers of resolv-file
 * when it has none, and the adapters learned from the system.  NULL with
 * messages on stderr (or the log).
 */
static struct cfg *
effective_cfg(struct reconfig *r, const struct cfg *file, bool to_log)
{
	struct cfg *c = cfg_clone(file);
	char *resolv = NULL, *text;
	size_t rlen, first, i;

	if (!c) {
		log_err("out of memory");
		return NULL;
	}
	if (file->nservers == 0 && file->resolv_file) {
		hosts_file_sig(file->resolv_file, &r->resolv_sig);
		if (file_read(file->resolv_file, &resolv, &rlen) != 0) {
			if (errno != ENOENT || file->resolvconf_dir == NULL)
				log_warn("cannot read %s: %s", file->resolv_file, strerror(errno));
			resolv = NULL;
		}
	}
	cfg_finish(c, resolv);
	free(resolv);
	stub_listen(c);
	first = c->nadapters;
	/* learned adapters are ordered by the metric of their default route */
	for (i = 0; i < r->links.n; i++)
		r->links.v[i].metric = link_metric(r, r->links.v[i].ifname);
	text = links_config_text(&r->links, c, link_skipped, r);
	if (!text) {
		cfg_unref(c);
		log_err("out of memory");
		return NULL;
	}
	cfg_parse_text(c, text, strlen(text), "learned links");
	free(text);
	for (i = first; i < c->nadapters; i++)
		c->adapters[i].origin = links_origin(&r->links, c->adapters[i].name);
	/* SPEC 17: the learned links' servers too, then the twins found at
	 * run time (DDR), which the file configuration never holds */
	{
		struct enc_twin tw[32];
		size_t n = ddr_twins(&r->ddr, tw, sizeof(tw) / sizeof(tw[0]));

		if (encryption_apply(c) != STUB_OK || encryption_add_twins(c, tw, n) < 0) {
			cfg_unref(c);
			log_err("out of memory adding encrypted twins");
			return NULL;
		}
	}
	/* SPEC 18: rule NAME adapter A = a routing domain of A */
	if (polcfg_route_adapters(c->policy, c) && to_log)
		log_warn("a rule names an adapter that does not exist (yet)");
	if (c->nerrors) {
		cfg_print_errors(c, to_log);
		cfg_unref(c);
		return NULL;
	}
	return c;
}

enum stub_err
reconfig_build(struct reconfig *r, bool to_log)
{
	r->cfg = effective_cfg(r, r->file_cfg, to_log);
	return r->cfg ? STUB_OK : STUB_EFORMAT;
}

void
reconfig_skip_unusable_listens(struct reconfig *r)
{
	cfg_skip_unusable_listens(r->file_cfg, r->cfg, false);
}

/* SPEC 17: the trust store read now when upgrades will verify against
 * it (tlsctx_wants_store), not by the first handshake on the loop. */
static void
want_store(struct tlsctx *t, const struct cfg *c)
{
	char why[300];

	if (t && tlsctx_wants_store(c) && tlsctx_load_store(t, why, sizeof(why)) != STUB_OK)
		log_warn("%s; encrypted twins cannot be verified", why);
}

enum stub_err
reconfig_open_tls(struct reconfig *r, char *why, size_t whylen)
{
	enum stub_err e = tlsctx_new(r->cfg->tls_ca, tlsctx_needs_store(r->cfg), &r->tls, why,
	    whylen);

	if (e == STUB_OK)
		want_store(r->tls, r->cfg);
	return e;
}

/* SPEC 17: DDR's runtime twins changed: a new engine with them (called
 * by the engine from the loop, never inside a search's callback). */
static void
ddr_changed(void *arg)
{
	struct reconfig *r = arg;
	char err[512];

	if (reconfig_apply(r, NULL, NULL, err, sizeof(err)) != STUB_OK)
		log_err("DDR: %s", err);
}

static void
set_ddr(struct reconfig *r, struct upstream *up)
{
	struct upstream_ddr d = { &r->ddr, ddr_changed, r };

	upstream_set_ddr(up, &d);
}

enum stub_err
reconfig_start_upstream(struct reconfig *r, struct event_base *base, struct stats *st, char *why,
    size_t whylen)
{
	enum stub_err e;

	r->base = base;
	r->st = st;
	e = upstream_new(base, r->cfg, st, r->tls, &r->up, why, whylen);
	if (e == STUB_OK)
		set_ddr(r, r->up);
	return e;
}

void
reconfig_attach(struct reconfig *r, struct cache *cache, struct resolver *res, struct listener *lis)
{
	r->cache = cache;
	r->res = res;
	r->lis = lis;
}

/* Adapters bound to an interface follow its link (SPEC 11): down when it
 * is down or has no address, once the kernel has told us everything. */
void
reconfig_link_state(void *arg)
{
	struct reconfig *r = arg;
	size_t a, i;

	/* the devices' indexes, for answers with a link-local address */
	for (a = 0; a < r->cfg->nadapters; a++) {
		struct cfg_adapter *ca = &r->cfg->adapters[a];

		ca->ifindex = 0;
		for (i = 0; ca->device[0] && i < r->ifs->n; i++)
			if (strcmp(r->ifs->v[i].name, ca->device) == 0 && r->ifs->v[i].index > 0)
				ca->ifindex = (unsigned)r->ifs->v[i].index;
	}
	if (!r->ifs->dump_done || !r->up)
		return;
	for (a = 0; a < r->cfg->nadapters; a++)
		if (r->cfg->adapters[a].device[0])
			upstream_set_down(r->up, a,
			    !ifstate_usable(r->ifs, r->cfg->adapters[a].device));
}

/* A link or address of an adapter's interface changed: a network change
 * for that adapter (negative answers dropped, its RTT and exclusions
 * forgotten). */
void
reconfig_link_changed(void *arg, const char *name)
{
	struct reconfig *r = arg;
	size_t a, dropped;
	bool any = false;

	for (a = 0; a < r->cfg->nadapters; a++) {
		if (strcmp(r->cfg->adapters[a].device, name) != 0)
			continue;
		sched_forget(upstream_sched(r->up), a);
		any = true;
	}
	if (!any)
		return;
	/* SPEC 17: DDR asks again; an unverified twin goes at once */
	if (ddr_netchange(&r->ddr))
		ddr_changed(r);
	dropped = cache_flush(r->cache, NULL, 0, true);
	log_msg(LOG_NOTICE, "network change: link %s is %s; %zu negative answers dropped", name,
	    ifstate_usable(r->ifs, name) ? "up" : "down", dropped);
}

/* Learned adapters follow the metric of their default route. */
void
reconfig_metrics_changed(void *arg)
{
	struct reconfig *r = arg;
	size_t i;

	for (i = 0; i < r->links.n; i++) {
		int want = link_metric(r, r->links.v[i].ifname);
		long a = cfg_adapter_find(r->cfg, r->links.v[i].ifname);

		if (a >= 0 && r->cfg->adapters[a].metric != want) {
			char err[256];

			reconfig_apply(r, NULL, "default route metrics changed", err, sizeof(err));
			break;
		}
	}
}

/* A setting a reload cannot change: logged, and kept for stubctl reload's
 * answer. */
static void
restart_note(struct reconfig *r, const char *msg)
{
	size_t l = strlen(r->restart_notes);

	log_warn("reload: %s", msg);
	snprintf(r->restart_notes + l, sizeof(r->restart_notes) - l, "%s\n", msg);
}

static void
note_restart_settings(struct reconfig *r, const struct cfg *nc)
{
	const struct cfg *c = r->cfg;

	r->restart_notes[0] = 0;
	if (!cfg_same_listens(c, nc))
		restart_note(r, "listen addresses changed; they take effect on restart");
	if ((c->control == NULL) != (nc->control == NULL) ||
	    (nc->control && strcmp(c->control, nc->control) != 0))
		restart_note(r, "the control socket changes on restart");
	if (c->dbus != nc->dbus)
		restart_note(r, "dbus changes on restart");
	if (c->resolved_compat != nc->resolved_compat)
		restart_note(r, "resolved-compat changes on restart");
	if (c->metrics.len != nc->metrics.len ||
	    memcmp(&c->metrics.ss, &nc->metrics.ss, nc->metrics.len) != 0)
		restart_note(r, "the metrics address changes on restart");
	if ((c->user == NULL) != (nc->user == NULL) || (nc->user && strcmp(c->user, nc->user) != 0))
		restart_note(r, "the user changes on restart");
}

/*
 * Put a new running configuration in place: a new upstream engine that
 * keeps what was learnt about servers still there.  A network change
 * (SPEC 11) also drops every negative answer and forgets the RTT and
 * exclusion of the adapters it concerns.  Takes nc.
 */
static enum stub_err
install_cfg(struct reconfig *r, struct cfg *nc, const char *netchange, char *err, size_t errlen)
{
	struct upstream *nu;
	struct cache_cfg cc;
	char why[256];
	size_t a, dropped = 0;
	enum stub_err e = upstream_new(r->base, nc, r->st, r->tls, &nu, why, sizeof(why));

	if (e != STUB_OK) {
		snprintf(err, errlen, "%s", why);
		log_err("%s", err);
		cfg_unref(nc);
		return e == STUB_ENOMEM ? STUB_ENOMEM : STUB_EIO;
	}
	set_ddr(r, nu);
	/* RTT, exclusion and counters of servers still configured carry over */
	sched_inherit(upstream_sched(nu), upstream_sched(r->up));
	/* and the TLS session tickets: the next connections resume */
	upstream_inherit_tickets(nu, r->up);
	if (netchange) {
		for (a = 0; a < nc->nadapters; a++)
			if (!cfg_same_adapter(r->cfg, nc, a))
				sched_forget(upstream_sched(nu), a);
		dropped = cache_flush(r->cache, NULL, 0, true);
	}
	if (cfg_ad_trust_lost(r->cfg, nc))
		log_msg(LOG_NOTICE,
		    "a server is no longer trusted for AD: AD cleared in %zu "
		    "cached answers",
		    cache_distrust_ad(r->cache));
	note_restart_settings(r, nc);
	/* keep the bound sockets: the listen lines of the running config stay */
	{
		struct cfg_sockaddr *t = nc->listens;
		size_t n = nc->nlistens;

		nc->listens = r->cfg->listens;
		nc->nlistens = r->cfg->nlistens;
		r->cfg->listens = t;
		r->cfg->nlistens = n;
	}
	upstream_retire(r->up);
	r->up = nu;
	resolver_set_upstream(r->res, upstream_as_if(nu));
	resolver_set_cfg(r->res, nc);
	listener_set_cfg(r->lis, nc);
	cfg_unref(r->cfg);
	r->cfg = nc;
	want_store(r->tls, nc);
	if (r->ops.installed)
		r->ops.installed(r->ops.arg, nc);
	cc = cache_cfg_from(nc);
	cache_set_cfg(r->cache, &cc, clock_now_ms());
	reconfig_link_state(r);
	if (netchange)
		log_msg(LOG_NOTICE,
		    "network change: %s; %zu servers in %zu adapters, "
		    "%zu negative answers dropped",
		    netchange, nc->nservers, nc->nadapters, dropped);
	return STUB_OK;
}

/* A reload: the trust store read again (SPEC 12), then the swap; nf is
 * the new file configuration, taken.  STUB_EFORMAT: nf has errors (with
 * those of the learned links); else as install_cfg, the trust store's
 * failure logged here. */
static enum stub_err
apply_file(struct reconfig *r, struct cfg *nf, char *err, size_t errlen)
{
	struct tlsctx *nt, *ot;
	struct cfg *nc = effective_cfg(r, nf, true);
	char why[300];
	enum stub_err e;

	if (nc)
		cfg_skip_unusable_listens(nf, nc, true);
	if (!nc) {
		cfg_unref(nf);
		snprintf(err, errlen, "configuration has errors; keeping the running one");
		return STUB_EFORMAT;
	}
	e = tlsctx_new(nc->tls_ca, tlsctx_needs_store(nc), &nt, why, sizeof(why));
	if (e != STUB_OK) {
		snprintf(err, errlen, "%s; keeping the running configuration", why);
		log_err("reload: %s", err);
		cfg_unref(nc);
		cfg_unref(nf);
		return e == STUB_ENOMEM ? STUB_ENOMEM : STUB_EIO;
	}
	ot = r->tls;
	r->tls = nt;
	e = install_cfg(r, nc, NULL, err, errlen);
	if (e != STUB_OK) {
		r->tls = ot;
		tlsctx_unref(nt);
		cfg_unref(nf);
		return e;
	}
	tlsctx_unref(ot);
	cfg_unref(r->file_cfg);
	r->file_cfg = nf;
	snprintf(err, errlen, "%s", r->restart_notes);
	return STUB_OK;
}

enum stub_err
reconfig_apply(struct reconfig *r, struct cfg *file, const char *netchange, char *err,
    size_t errlen)
{
	struct cfg *nc;

	/* SPEC 17: a network change probes every server again (DDR) */
	if (netchange)
		(void)ddr_netchange(&r->ddr);
	if (file)
		return apply_file(r, file, err, errlen);
	nc = effective_cfg(r, r->file_cfg, true);
	if (!nc) {
		snprintf(err, errlen, "%.200s: the resulting configuration has errors",
		    netchange ? netchange : "reconfiguration");
		return STUB_EFORMAT;
	}
	return install_cfg(r, nc, netchange, err, errlen);
}

enum stub_err
reconfig_reload(void *arg, char *err, size_t errlen)
{
	struct reconfig *r = arg;
	struct cfg *nf;
	char lines[3072] = "";
	size_t l;
	enum stub_err rc;

	sd_notify_reloading();
	nf = r->ops.load_file(r->ops.arg, lines, sizeof(lines));
	rc = nf ? reconfig_apply(r, nf, NULL, err, errlen) : STUB_EFORMAT;
	if (!nf)
		snprintf(err, errlen, "configuration has errors; keeping the running one");
	if (rc == STUB_EFORMAT) {
		log_err("reload: %s", err);
		/* and the FILE:LINE lines, for stubctl reload to print */
		l = strlen(lines);
		if (l && lines[l - 1] == '\n')
			lines[l - 1] = 0;
		l = strlen(err);
		if (lines[0])
			snprintf(err + l, errlen - l, ":\n%s", lines);
		sd_notify_state("READY=1\nSTATUS=reload failed: configuration has errors");
		return rc;
	}
	if (rc != STUB_OK) {
		sd_notify_state("READY=1\nSTATUS=reload failed");
		return rc;
	}
	if (r->ops.reloaded)
		r->ops.reloaded(r->ops.arg);
	log_info("configuration reloaded: %zu servers in %zu adapters", r->cfg->nservers,
	    r->cfg->nadapters);
	sd_notify_state("READY=1\nSTATUS=answering");
	return STUB_OK;
}

static enum stub_err link_setting(struct reconfig *r, enum cfg_origin o, int argc, char **argv,
    char *err, size_t errlen);

enum stub_err
reconfig_link(struct reconfig *r, enum cfg_origin o, int argc, char **argv, char *err,
    size_t errlen)
{
	const char *ifname = argv[1], *verb = argv[2];
	char what[160];
	enum stub_err rc = STUB_OK;
	struct links saved;

	/* what the links were, for a change the configuration refuses */
	saved.n = r->links.n;
	saved.v = r->links.n ? malloc(r->links.n * sizeof(*saved.v)) : NULL;
	if (r->links.n && !saved.v) {
		snprintf(err, errlen, "out of memory");
		return STUB_ENOMEM;
	}
	if (saved.v)
		memcpy(saved.v, r->links.v, r->links.n * sizeof(*saved.v));
	rc = link_setting(r, o, argc, argv, err, errlen);
	if (rc == STUB_OK) {
		if (strcmp(verb, "revert") == 0)
			snprintf(what, sizeof(what), "link %s reverted (%s)", ifname,
			    cfg_origin_name(o));
		else
			snprintf(what, sizeof(what), "link %s %s set (%s)", ifname, verb,
			    cfg_origin_name(o));
		rc = reconfig_apply(r, NULL, what, err, errlen);
	}
	if (rc != STUB_OK) {
		/* nothing lost: the links as they were */
		links_fini(&r->links);
		r->links = saved;
	} else
		links_fini(&saved);
	return rc;
}

/* One `link IFNAME VERB ...` setting into r->links; nothing else. */
static enum stub_err
link_setting(struct reconfig *r, enum cfg_origin o, int argc, char **argv, char *err, size_t errlen)
{
	const char *ifname = argv[1], *verb = argv[2];
	enum stub_err rc = STUB_OK;

	if (strcmp(verb, "dns") == 0) {
		rc = links_set_dns(&r->links, ifname, o, argv + 3, (size_t)(argc - 3), err, errlen);
	} else if (strcmp(verb, "domain") == 0) {
		rc = links_set_domains(&r->links, ifname, o, argv + 3, (size_t)(argc - 3), err,
		    errlen);
	} else if (strcmp(verb, "default-route") == 0) {
		if (argc != 4 || (strcmp(argv[3], "yes") != 0 && strcmp(argv[3], "no") != 0)) {
			snprintf(err, errlen, "usage: link IFNAME default-route yes|no");
			return STUB_EINVAL;
		}
		rc = links_set_default_route(&r->links, ifname, o, strcmp(argv[3], "yes") == 0, err,
		    errlen);
	} else if (strcmp(verb, "dns-over-tls") == 0) {
		/* SPEC 17: yes -> require (and its servers DoT), opportunistic,
		 * no -> off */
		bool yes = argc == 4 && strcmp(argv[3], "yes") == 0;
		bool opp = argc == 4 && strcmp(argv[3], "opportunistic") == 0;

		if (argc != 4 || (!yes && !opp && strcmp(argv[3], "no") != 0)) {
			snprintf(err, errlen,
			    "usage: link IFNAME dns-over-tls yes|opportunistic|no");
			return STUB_EINVAL;
		}
		rc = links_set_dot(&r->links, ifname, o, yes, err, errlen);
		if (rc == STUB_OK)
			rc = links_set_encryption(&r->links, ifname, o,
			    yes     ? ENC_REQUIRE :
			        opp ? ENC_OPPORTUNISTIC :
			              ENC_OFF,
			    err, errlen);
	} else if (strcmp(verb, "mdns") == 0) {
		if (argc != 4 || (strcmp(argv[3], "yes") != 0 && strcmp(argv[3], "no") != 0)) {
			snprintf(err, errlen, "usage: link IFNAME mdns yes|no");
			return STUB_EINVAL;
		}
		rc = links_set_mdns(&r->links, ifname, o, strcmp(argv[3], "yes") == 0, err, errlen);
	} else if (strcmp(verb, "dnr") == 0) {
		/* SPEC 17: an encrypted resolver of the link (RFC 9463) */
		if (argc == 4 && strcmp(argv[3], "clear") == 0)
			rc = links_set_dnr(&r->links, ifname, o, NULL, 0, err, errlen);
		else
			rc = links_add_dnr(&r->links, ifname, o, argv + 3, (size_t)(argc - 3), err,
			    errlen);
	} else if (strcmp(verb, "dnr-option") == 0) {
		bool v6 = argc >= 4 && strcmp(argv[3], "dhcp6") == 0;

		if (argc < 4 || (!v6 && strcmp(argv[3], "dhcp4") != 0)) {
			snprintf(err, errlen, "usage: link IFNAME dnr-option dhcp4|dhcp6 [HEX...]");
			return STUB_EINVAL;
		}
		rc = links_set_dnr_option(&r->links, ifname, o, v6, argv + 4, (size_t)(argc - 4),
		    err, errlen);
	} else if (strcmp(verb, "revert") == 0) {
		if (argc != 3) {
			snprintf(err, errlen, "usage: link IFNAME revert");
			return STUB_EINVAL;
		}
		if (!links_revert(&r->links, ifname)) {
			snprintf(err, errlen, "link %.32s is not configured", ifname);
			return STUB_ENOTFOUND;
		}
	} else {
		snprintf(err, errlen,
		    "unknown link setting '%.32s' (dns, domain, default-route, "
		    "dns-over-tls, mdns, dnr, dnr-option, revert)",
		    verb);
		return STUB_EINVAL;
	}
	return rc;
}

bool
reconfig_mdns_off(void *arg, const char *ifname)
{
	const struct reconfig *r = arg;

	return links_mdns_off(&r->links, ifname);
}

void
reconfig_poll_files(struct reconfig *r)
{
	const struct cfg *f = r->file_cfg;
	char err[256];

	if (f->nservers == 0 && f->resolv_file) {
		struct hosts_sig sig;

		hosts_file_sig(f->resolv_file, &sig);
		if (!hosts_sig_equal(&sig, &r->resolv_sig)) {
			char what[300];

			snprintf(what, sizeof(what), "%s changed", f->resolv_file);
			reconfig_apply(r, NULL, what, err, sizeof(err));
		}
	}
	if (f->resolvconf_dir) {
		struct dir_sig sig;

		sysnet_dir_sig(f->resolvconf_dir, &sig);
		if (!sysnet_dir_sig_equal(&sig, &r->resolvconf_sig)) {
			char what[300];

			r->resolvconf_sig = sig;
			sysnet_read_resolvconf_dir(f->resolvconf_dir, &r->links, resolvconf_err, r);
			snprintf(what, sizeof(what), "%s changed", f->resolvconf_dir);
			reconfig_apply(r, NULL, what, err, sizeof(err));
		}
	}
}

struct cfg *
reconfig_cfg(const struct reconfig *r)
{
	return r->cfg;
}

const struct cfg *
reconfig_file_cfg(const struct reconfig *r)
{
	return r->file_cfg;
}

struct upstream *
reconfig_upstream(const struct reconfig *r)
{
	return r->up;
}

const struct links *
reconfig_links(const struct reconfig *r)
{
	return r ? &r->links : NULL;
}

void
reconfig_forget_servers(struct reconfig *r)
{
	size_t a;

	for (a = 0; r->up && a < r->cfg->nadapters; a++)
		sched_forget(upstream_sched(r->up), a);
}

void
reconfig_free(struct reconfig *r)
{
	if (!r)
		return;
	upstream_free(r->up);
	ddr_table_free(&r->ddr);
	tlsctx_unref(r->tls);
	cfg_unref(r->cfg);
	cfg_unref(r->file_cfg);
	links_fini(&r->links);
	free(r);
}
