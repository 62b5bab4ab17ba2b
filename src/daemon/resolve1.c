/*
 * resolve1.c - org.freedesktop.resolve1 on sd-bus, driven by libevent.
 */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>

#include "resolve1.h"

#ifndef HAVE_SYSTEMD

enum stub_err
resolve1_new(struct event_base *base, const struct resolve1_ops *ops,
    const struct peer_policy *peers, struct resolve1 **out, char *why, size_t whylen)
{
	(void)base;
	(void)ops;
	(void)peers;
	*out = NULL;
	snprintf(why, whylen, "dbus: stubd was built without D-Bus support (libsystemd)");
	return STUB_EINVAL;
}

void
resolve1_free(struct resolve1 *r)
{
	(void)r;
}

enum stub_err
resolve1_props(struct resolve1 *r, const struct r1props_src *src, char *why, size_t whylen)
{
	(void)r;
	(void)src;
	snprintf(why, whylen, "dbus: stubd was built without D-Bus support (libsystemd)");
	return STUB_EINVAL;
}

void
resolve1_changed(struct resolve1 *r)
{
	(void)r;
}

enum stub_err
resolve1_add_methods(struct resolve1 *r, const void *vtable, void *userdata,
    struct sd_bus_slot **slot)
{
	(void)r;
	(void)vtable;
	(void)userdata;
	*slot = NULL;
	return STUB_EINVAL;
}

int
resolve1_check_caller(struct resolve1 *r, struct sd_bus_message *m, void *error)
{
	(void)r;
	(void)m;
	(void)error;
	return -1;
}

void
resolve1_flush(struct resolve1 *r)
{
	(void)r;
}

#else

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-bus.h>

#include "log.h"
#include "peer.h"
#include "r1props.h"
#include "wire.h"

#define R1_NAME "org.freedesktop.resolve1"
#define R1_PATH "/org/freedesktop/resolve1"
#define R1_IFACE "org.freedesktop.resolve1.Manager"
#define R1_MAX_ITEMS 32 /* servers or domains in one call */
#define R1_MAX_LINKS 64 /* links with stored LLMNR/DNSSEC settings */

/* the words of a link setting (main takes argv as stubctl link gives it) */
static char w_link[] = "link", w_dns[] = "dns", w_domain[] = "domain",
            w_default_route[] = "default-route", w_revert[] = "revert", w_yes[] = "yes",
            w_no[] = "no";

/* SPEC 16: what is accepted and stored, not acted upon (LLMNR is never
 * spoken; DNSSEC is not enforced) */
struct r1_link {
	int32_t ifindex; /* 0 = a free slot */
	char llmnr[8], dnssec[16];
	char *nta; /* negative trust anchors, space-separated; NULL = none */
};

struct resolve1 {
	struct r1_link links[R1_MAX_LINKS];
	struct event_base *base;
	sd_bus *bus;
	sd_bus_slot *slot;
	struct event *rd, *wr, *tmr;
	struct resolve1_ops ops;
	const struct peer_policy *peers;
	struct r1props *props; /* SPEC 16: properties, link objects */
};

/* ---------------- callers ---------------- */

static int
check_caller(struct resolve1 *r, sd_bus_message *m, sd_bus_error *error)
{
	sd_bus_creds *c = NULL;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	const gid_t *gids = NULL;
	int n, rc;
	bool ok;

	rc = sd_bus_query_sender_creds(m,
	    SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
	        SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_AUGMENT,
	    &c);
	if (rc < 0)
		return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
		    "cannot tell who is calling");
	if (sd_bus_creds_get_euid(c, &uid) < 0)
		sd_bus_creds_get_uid(c, &uid);
	(void)sd_bus_creds_get_egid(c, &gid);
	n = sd_bus_creds_get_supplementary_gids(c, &gids);
	ok = peer_allowed(r->peers, uid, gid, gids, n > 0 ? (size_t)n : 0);
	sd_bus_creds_unref(c);
	if (!ok) {
		log_warn("dbus: uid %u refused", (unsigned)uid);
		return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
		    "only root, stubd's user and its control group may configure links");
	}
	return 0;
}

/* the interface of an index, as a D-Bus error when there is none */
static int
ifname_of(int32_t ifindex, char name[IF_NAMESIZE], sd_bus_error *error)
{
	if (ifindex <= 0 || !if_indextoname((unsigned)ifindex, name))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
		    "unknown interface index %d", (int)ifindex);
	return 0;
}

/* The start of every link method: the caller checked, then the interface
 * index read and named. */
static int
link_call(struct resolve1 *r, sd_bus_message *m, sd_bus_error *error, char name[IF_NAMESIZE])
{
	int32_t ifindex;
	int rc = check_caller(r, m, error);

	if (rc < 0)
		return rc;
	rc = sd_bus_message_read(m, "i", &ifindex);
	if (rc < 0)
		return rc;
	return ifname_of(ifindex, name, error);
}

/* hand a link setting to ops.link (reconfig); its refusal becomes InvalidArgs */
static int
apply(struct resolve1 *r, sd_bus_message *m, int argc, char **argv, sd_bus_error *error)
{
	char err[256];

	if (r->ops.link(r->ops.arg, ORIGIN_DBUS, argc, argv, err, sizeof(err)) != STUB_OK)
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, err);
	return sd_bus_reply_method_return(m, NULL);
}

/* ---------------- methods ---------------- */

/* SetLinkDNS (ia(iay)) and SetLinkDNSEx (ia(iayqs)) */
static int
set_dns(sd_bus_message *m, void *userdata, sd_bus_error *error, bool ex)
{
	struct resolve1 *r = userdata;
	char name[IF_NAMESIZE], text[R1_MAX_ITEMS][300], *argv[3 + R1_MAX_ITEMS];
	int rc, n = 0;

	rc = link_call(r, m, error, name);
	if (rc < 0)
		return rc;
	rc = sd_bus_message_enter_container(m, 'a', ex ? "(iayqs)" : "(iay)");
	if (rc < 0)
		return rc;
	while ((rc = sd_bus_message_enter_container(m, 'r', ex ? "iayqs" : "iay")) > 0) {
		int32_t family;
		const void *addr;
		size_t sz;
		uint16_t port = 0;
		const char *sni = "";
		char a[INET6_ADDRSTRLEN];

		rc = sd_bus_message_read(m, "i", &family);
		if (rc < 0)
			return rc;
		rc = sd_bus_message_read_array(m, 'y', &addr, &sz);
		if (rc < 0)
			return rc;
		if (ex) {
			rc = sd_bus_message_read(m, "qs", &port, &sni);
			if (rc < 0)
				return rc;
		}
		rc = sd_bus_message_exit_container(m);
		if (rc < 0)
			return rc;
		if (!((family == AF_INET && sz == 4) || (family == AF_INET6 && sz == 16)))
			return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
			    "bad address: family %d with %zu bytes", (int)family, sz);
		if (n == R1_MAX_ITEMS)
			return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
			    "too many servers");
		inet_ntop(family, addr, a, sizeof(a));
		/* port 0 (and SetLinkDNS) is the default: 53, or 853 over TLS */
		if (port == 0)
			snprintf(text[n], sizeof(text[n]), "%s%s%s", a, sni && *sni ? "#" : "",
			    sni ? sni : "");
		else
			snprintf(text[n], sizeof(text[n]),
			    family == AF_INET6 ? "[%s]:%u%s%s" : "%s:%u%s%s", a, port,
			    sni && *sni ? "#" : "", sni ? sni : "");
		argv[3 + n] = text[n];
		n++;
	}
	if (rc < 0)
		return rc;
	rc = sd_bus_message_exit_container(m);
	if (rc < 0)
		return rc;
	argv[0] = w_link;
	argv[1] = name;
	argv[2] = w_dns;
	return apply(r, m, 3 + n, argv, error);
}

static int
m_set_link_dns(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return set_dns(m, userdata, error, false);
}

static int
m_set_link_dns_ex(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return set_dns(m, userdata, error, true);
}

/* SetLinkDomains (ia(sb)): b true = routing-only ("~") */
static int
m_set_link_domains(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct resolve1 *r = userdata;
	char name[IF_NAMESIZE], text[R1_MAX_ITEMS][260], *argv[3 + R1_MAX_ITEMS];
	const char *dom;
	int route_only, rc, n = 0;

	rc = link_call(r, m, error, name);
	if (rc < 0)
		return rc;
	rc = sd_bus_message_enter_container(m, 'a', "(sb)");
	if (rc < 0)
		return rc;
	while ((rc = sd_bus_message_read(m, "(sb)", &dom, &route_only)) > 0) {
		if (n == R1_MAX_ITEMS)
			return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
			    "too many domains");
		if (strlen(dom) > 253)
			return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
			    "domain too long");
		snprintf(text[n], sizeof(text[n]), "%s%s", route_only ? "~" : "", dom);
		argv[3 + n] = text[n];
		n++;
	}
	if (rc < 0)
		return rc;
	rc = sd_bus_message_exit_container(m);
	if (rc < 0)
		return rc;
	argv[0] = w_link;
	argv[1] = name;
	argv[2] = w_domain;
	return apply(r, m, 3 + n, argv, error);
}

static int
m_set_link_default_route(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct resolve1 *r = userdata;
	char name[IF_NAMESIZE], *argv[4];
	int b, rc;

	rc = link_call(r, m, error, name);
	if (rc < 0)
		return rc;
	rc = sd_bus_message_read(m, "b", &b);
	if (rc < 0)
		return rc;
	argv[0] = w_link;
	argv[1] = name;
	argv[2] = w_default_route;
	argv[3] = b ? w_yes : w_no;
	return apply(r, m, 4, argv, error);
}

/* SetLinkDNSOverTLS (is): "yes" makes the link's servers DNS over TLS,
 * strict (SPEC 12: never clear text; SPEC 17: encryption require);
 * "opportunistic" keeps them in clear text under encryption opportunistic
 * (upgraded where a twin is known); "no" and "" under encryption off. */
static int
m_set_link_dot(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	static char w_dot[] = "dns-over-tls", w_opportunistic[] = "opportunistic";
	struct resolve1 *r = userdata;
	char name[IF_NAMESIZE], *argv[4];
	const char *mode;
	int rc;

	rc = link_call(r, m, error, name);
	if (rc < 0)
		return rc;
	rc = sd_bus_message_read(m, "s", &mode);
	if (rc < 0)
		return rc;
	if (strcmp(mode, "") != 0 && strcmp(mode, "no") != 0 &&
	    strcmp(mode, "opportunistic") != 0 && strcmp(mode, "yes") != 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
		    "bad DNSOverTLS mode '%s'", mode);
	argv[0] = w_link;
	argv[1] = name;
	argv[2] = w_dot;
	argv[3] = strcmp(mode, "yes") == 0     ? w_yes :
	    strcmp(mode, "opportunistic") == 0 ? w_opportunistic :
	                                         w_no;
	return apply(r, m, 4, argv, error);
}

/* SPEC 16: methods served only under resolved-compat yes */
static int
compat_call(struct resolve1 *r, sd_bus_message *m, sd_bus_error *error, char name[IF_NAMESIZE])
{
	if (!r->ops.compat || !r->ops.compat(r->ops.arg))
		return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_METHOD,
		    "Unknown method %s or interface %s.", sd_bus_message_get_member(m), R1_IFACE);
	return link_call(r, m, error, name);
}

/* the stored settings of a link, created when new; NULL when full */
static struct r1_link *
r1_link(struct resolve1 *r, int32_t ifindex)
{
	struct r1_link *f = NULL;
	size_t i;

	for (i = 0; i < R1_MAX_LINKS; i++) {
		if (r->links[i].ifindex == ifindex)
			return &r->links[i];
		if (!f && r->links[i].ifindex == 0)
			f = &r->links[i];
	}
	if (f)
		f->ifindex = ifindex;
	return f;
}

static void
r1_link_forget(struct resolve1 *r, int32_t ifindex)
{
	size_t i;

	for (i = 0; i < R1_MAX_LINKS; i++)
		if (r->links[i].ifindex == ifindex) {
			free(r->links[i].nta);
			memset(&r->links[i], 0, sizeof(r->links[i]));
		}
}

static bool
one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

static const char *const mode_words[] = { "", "no", "yes", "resolve", NULL };

/* SetLinkMulticastDNS (is): "no" keeps .local queries off the link
 * (SPEC 19); "yes", "resolve" and "" ask on it (stubd only resolves). */
static int
m_set_link_mdns(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	static char w_mdns[] = "mdns";
	struct resolve1 *r = userdata;
	char name[IF_NAMESIZE], *argv[4];
	const char *mode;
	int rc;

	rc = compat_call(r, m, error, name);
	if (rc < 0)
		return rc;
	rc = sd_bus_message_read(m, "s", &mode);
	if (rc < 0)
		return rc;
	if (!one_of(mode, mode_words))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
		    "bad MulticastDNS mode '%s'", mode);
	argv[0] = w_link;
	argv[1] = name;
	argv[2] = w_mdns;
	argv[3] = strcmp(mode, "no") == 0 ? w_no : w_yes;
	return apply(r, m, 4, argv, error);
}

/* SetLinkLLMNR (is) and SetLinkDNSSEC (is): validated and stored */
static int
set_stored_mode(sd_bus_message *m, struct resolve1 *r, sd_bus_error *error, bool dnssec)
{
	static const char *const dnssec_words[] = { "", "no", "yes", "allow-downgrade", NULL };
	char name[IF_NAMESIZE];
	const char *mode;
	struct r1_link *k;
	int32_t ifindex;
	int rc;

	rc = compat_call(r, m, error, name);
	if (rc < 0)
		return rc;
	rc = sd_bus_message_read(m, "s", &mode);
	if (rc < 0)
		return rc;
	if (!one_of(mode, dnssec ? dnssec_words : mode_words))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "bad %s mode '%s'",
		    dnssec ? "DNSSEC" : "LLMNR", mode);
	ifindex = (int32_t)if_nametoindex(name);
	k = r1_link(r, ifindex);
	if (!k)
		return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED, "too many links");
	if (dnssec)
		snprintf(k->dnssec, sizeof(k->dnssec), "%s", mode);
	else
		snprintf(k->llmnr, sizeof(k->llmnr), "%s", mode);
	log_info("dbus: link %s %s %s stored (not acted upon)", name, dnssec ? "DNSSEC" : "LLMNR",
	    mode[0] ? mode : "\"\"");
	r1props_changed(r->props);
	return sd_bus_reply_method_return(m, NULL);
}

static int
m_set_link_llmnr(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return set_stored_mode(m, userdata, error, false);
}

static int
m_set_link_dnssec(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return set_stored_mode(m, userdata, error, true);
}

/* SetLinkDNSSECNegativeTrustAnchors (ias): valid domain names, stored */
static int
m_set_link_nta(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct resolve1 *r = userdata;
	char name[IF_NAMESIZE], *list = NULL, *nl;
	size_t len = 0, n = 0, dl;
	const char *d;
	uint8_t wire[WIRE_NAME_MAX];
	struct r1_link *k;
	int rc;

	rc = compat_call(r, m, error, name);
	if (rc < 0)
		return rc;
	rc = sd_bus_message_enter_container(m, 'a', "s");
	if (rc < 0)
		return rc;
	while ((rc = sd_bus_message_read(m, "s", &d)) > 0) {
		if (++n > R1_MAX_ITEMS || !d[0] || wire_name_from_text(d, wire) == 0) {
			free(list);
			return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
			    n > R1_MAX_ITEMS ? "too many negative trust anchors" :
			                       "bad negative trust anchor '%s'",
			    d);
		}
		dl = strlen(d);
		nl = realloc(list, len + dl + 2);
		if (!nl) {
			free(list);
			return -ENOMEM;
		}
		list = nl;
		if (len)
			list[len++] = ' ';
		memcpy(list + len, d, dl + 1);
		len += dl;
	}
	if (rc < 0 || (rc = sd_bus_message_exit_container(m)) < 0) {
		free(list);
		return rc;
	}
	k = r1_link(r, (int32_t)if_nametoindex(name));
	if (!k) {
		free(list);
		return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED, "too many links");
	}
	free(k->nta);
	k->nta = list;
	r1props_changed(r->props);
	log_info("dbus: link %s DNSSEC negative trust anchors stored (not acted upon): %s", name,
	    list ? list : "none");
	return sd_bus_reply_method_return(m, NULL);
}

static int
m_revert_link(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct resolve1 *r = userdata;
	char name[IF_NAMESIZE], *argv[3], err[256];
	int rc;

	rc = link_call(r, m, error, name);
	if (rc < 0)
		return rc;
	argv[0] = w_link;
	argv[1] = name;
	argv[2] = w_revert;
	r1_link_forget(r, (int32_t)if_nametoindex(name));
	r1props_changed(r->props);
	/* reverting a link stubd does not know is no error (as resolved) */
	r->ops.link(r->ops.arg, ORIGIN_DBUS, 3, argv, err, sizeof(err));
	return sd_bus_reply_method_return(m, NULL);
}

static int
m_flush_caches(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct resolve1 *r = userdata;
	int rc = check_caller(r, m, error);

	if (rc < 0)
		return rc;
	r->ops.flush_caches(r->ops.arg);
	return sd_bus_reply_method_return(m, NULL);
}

static int
m_reset_server_features(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct resolve1 *r = userdata;
	int rc = check_caller(r, m, error);

	if (rc < 0)
		return rc;
	r->ops.reset_server_features(r->ops.arg);
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable manager_vtable[] = { SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("SetLinkDNS", "ia(iay)", "", m_set_link_dns, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("SetLinkDNSEx", "ia(iayqs)", "", m_set_link_dns_ex,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("SetLinkDomains", "ia(sb)", "", m_set_link_domains,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("SetLinkDefaultRoute", "ib", "", m_set_link_default_route,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("SetLinkDNSOverTLS", "is", "", m_set_link_dot, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("SetLinkMulticastDNS", "is", "", m_set_link_mdns, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("SetLinkLLMNR", "is", "", m_set_link_llmnr, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("SetLinkDNSSEC", "is", "", m_set_link_dnssec, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("SetLinkDNSSECNegativeTrustAnchors", "ias", "", m_set_link_nta,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("RevertLink", "i", "", m_revert_link, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("FlushCaches", "", "", m_flush_caches, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ResetServerFeatures", "", "", m_reset_server_features,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END };

/* ---------------- the bus on the event loop ---------------- */

static void rearm(struct resolve1 *r);

static void
process(struct resolve1 *r)
{
	int rc;

	while ((rc = sd_bus_process(r->bus, NULL)) > 0)
		;
	if (rc < 0)
		log_err("dbus: %s", strerror(-rc));
	rearm(r);
}

static void
io_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	process(arg);
}

/* listen for what sd-bus wants: writability and its next timeout */
static void
rearm(struct resolve1 *r)
{
	int ev = sd_bus_get_events(r->bus);
	uint64_t usec = UINT64_MAX;

	if (ev > 0 && (ev & POLLOUT))
		event_add(r->wr, NULL);
	else
		event_del(r->wr);
	event_del(r->tmr);
	if (sd_bus_get_timeout(r->bus, &usec) >= 0 && usec != UINT64_MAX) {
		struct timespec ts;
		uint64_t now;
		struct timeval tv = { 0, 0 };

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
		if (usec > now) {
			tv.tv_sec = (time_t)((usec - now) / 1000000);
			tv.tv_usec = (suseconds_t)((usec - now) % 1000000);
		}
		evtimer_add(r->tmr, &tv);
	}
}

enum stub_err
resolve1_new(struct event_base *base, const struct resolve1_ops *ops,
    const struct peer_policy *peers, struct resolve1 **out, char *why, size_t whylen)
{
	struct resolve1 *r = calloc(1, sizeof(*r));
	int rc, fd;

	*out = NULL;
	if (!r) {
		snprintf(why, whylen, "dbus: out of memory");
		return STUB_ENOMEM;
	}
	r->base = base;
	r->ops = *ops;
	r->peers = peers;
	rc = sd_bus_open_system(&r->bus);
	if (rc < 0) {
		snprintf(why, whylen, "dbus: cannot connect to the system bus: %s", strerror(-rc));
		goto fail;
	}
	rc = sd_bus_add_object_vtable(r->bus, &r->slot, R1_PATH, R1_IFACE, manager_vtable, r);
	if (rc < 0) {
		snprintf(why, whylen, "dbus: %s", strerror(-rc));
		goto fail;
	}
	rc = sd_bus_request_name(r->bus, R1_NAME, 0);
	if (rc < 0) {
		snprintf(why, whylen, "dbus: cannot own %s: %s%s", R1_NAME, strerror(-rc),
		    rc == -EEXIST ? " (is systemd-resolved running?)" : "");
		goto fail;
	}
	fd = sd_bus_get_fd(r->bus);
	r->rd = event_new(base, fd, EV_READ | EV_PERSIST, io_cb, r);
	r->wr = event_new(base, fd, EV_WRITE, io_cb, r);
	r->tmr = evtimer_new(base, io_cb, r);
	if (fd < 0 || !r->rd || !r->wr || !r->tmr || event_add(r->rd, NULL) != 0) {
		snprintf(why, whylen, "dbus: cannot watch the bus");
		goto fail;
	}
	process(r);
	log_info("dbus: serving %s", R1_NAME);
	*out = r;
	return STUB_OK;
fail:
	resolve1_free(r);
	return STUB_EIO;
}

enum stub_err
resolve1_add_methods(struct resolve1 *r, const void *vtable, void *userdata,
    struct sd_bus_slot **slot)
{
	return sd_bus_add_object_vtable(r->bus, slot, R1_PATH, R1_IFACE, vtable, userdata) < 0 ?
	    STUB_EIO :
	    STUB_OK;
}

int
resolve1_check_caller(struct resolve1 *r, struct sd_bus_message *m, void *error)
{
	return check_caller(r, m, error);
}

void
resolve1_flush(struct resolve1 *r)
{
	if (r)
		rearm(r);
}

void
resolve1_free(struct resolve1 *r)
{
	if (!r)
		return;
	if (r->rd)
		event_free(r->rd);
	if (r->wr)
		event_free(r->wr);
	if (r->tmr)
		event_free(r->tmr);
	r1props_free(r->props);
	for (size_t i = 0; i < R1_MAX_LINKS; i++)
		free(r->links[i].nta);
	sd_bus_slot_unref(r->slot);
	if (r->bus)
		sd_bus_flush_close_unref(r->bus);
	free(r);
}

/* ---------------- SPEC 16: r1props' view of what is stored here ---------------- */

/* a link's stored DNSSEC mode and negative trust anchors (never created) */
static void
r1_stored(void *arg, int32_t ifindex, const char **dnssec, const char **nta)
{
	struct resolve1 *r = arg;

	*dnssec = NULL;
	*nta = NULL;
	for (size_t i = 0; i < R1_MAX_LINKS; i++)
		if (r->links[i].ifindex == ifindex) {
			*dnssec = r->links[i].dnssec;
			*nta = r->links[i].nta;
		}
}

static void
r1_flush(void *arg)
{
	process(arg);
}

enum stub_err
resolve1_props(struct resolve1 *r, const struct r1props_src *src, char *why, size_t whylen)
{
	struct r1props_src s = *src;
	enum stub_err e;

	s.stored = r1_stored;
	s.flush = r1_flush;
	s.sarg = r;
	e = r1props_new(r->bus, r->base, &s, &r->props, why, whylen);
	if (e == STUB_OK)
		r1props_changed(r->props);
	return e;
}

void
resolve1_changed(struct resolve1 *r)
{
	if (r)
		r1props_changed(r->props);
}

#endif
