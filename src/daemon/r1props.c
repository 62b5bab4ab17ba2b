/*
 * r1props.c - resolved's Manager properties, its Link objects and GetLink
 * on sd-bus (SPEC 16), every value pulled from the daemon when asked.
 */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>

#include "r1props.h"

#ifndef HAVE_SYSTEMD

enum stub_err
r1props_new(struct sd_bus *bus, struct event_base *base, const struct r1props_src *src,
    struct r1props **out, char *why, size_t whylen)
{
	(void)bus;
	(void)base;
	(void)src;
	*out = NULL;
	snprintf(why, whylen, "dbus: stubd was built without D-Bus support (libsystemd)");
	return STUB_EINVAL;
}

void
r1props_changed(struct r1props *p)
{
	(void)p;
}

void
r1props_free(struct r1props *p)
{
	(void)p;
}

#else

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-bus.h>

#include "cache.h"
#include "log.h"
#include "sysfacts.h"
#include "wire.h"

#define R1_PATH "/org/freedesktop/resolve1"
#define R1_MANAGER "org.freedesktop.resolve1.Manager"
#define R1_LINK "org.freedesktop.resolve1.Link"
#define R1_LINKS "/org/freedesktop/resolve1/link"
#define R1_NO_SUCH_LINK "org.freedesktop.resolve1.NoSuchLink"
#define R1P_MAX_OBJECTS 256 /* link objects whose settings are remembered */

/* the scope bits of resolved (ScopesMask) */
#define SCOPE_DNS 1u
#define SCOPE_MDNS4 8u
#define SCOPE_MDNS6 16u

/* what an object's signalled properties were, as text, at the last look */
struct r1_seen {
	int32_t ifindex; /* 0 = the Manager */
	char *text;
};

struct r1props {
	sd_bus *bus;
	struct r1props_src src;
	sd_bus_slot *mgr, *link, *enumr;
	struct event *tmr;
	struct r1_seen seen[R1P_MAX_OBJECTS];
	size_t nseen;
};

/* ---------------- what the daemon has ---------------- */

/* the view, with sched and cfg possibly NULL while stubd starts */
static void
pull(struct r1props *p, struct control_view *v)
{
	memset(v, 0, sizeof(*v));
	p->src.view(p->src.arg, v);
}

/* the interface index of a link object's path; 0 when it is none */
static int32_t
path_ifindex(const char *path)
{
	char *id = NULL, *end;
	long n;

	if (sd_bus_path_decode(path, R1_LINKS, &id) <= 0 || !id)
		return 0;
	errno = 0;
	n = strtol(id, &end, 10);
	if (errno || end == id || *end || n <= 0 || n > INT32_MAX)
		n = 0;
	free(id);
	return (int32_t)n;
}

static bool
ifname_of(int32_t ifindex, char name[IF_NAMESIZE])
{
	return ifindex > 0 && if_indextoname((unsigned)ifindex, name) != NULL;
}

/* the interface an adapter is bound to (0 = none: a global adapter) */
static int32_t
adapter_ifindex(const struct cfg *c, size_t a)
{
	const struct cfg_adapter *ca = &c->adapters[a];

	/* the index rtnetlink told (reconfig); the kernel asked only without it */
	if (!ca->device[0])
		return 0;
	return ca->ifindex ? (int32_t)ca->ifindex : (int32_t)if_nametoindex(ca->device);
}

static bool
adapter_on(const struct cfg *c, size_t a, const char *ifname)
{
	return ifname ? strcmp(c->adapters[a].device, ifname) == 0 : !c->adapters[a].device[0];
}

/* a server as configured: an encrypted twin (SPEC 17) is its clear-text
 * server's way there, shown as that server */
static bool
shown(const struct cfg_server *s)
{
	return s->clear == 0;
}

static const struct link *
learned(struct r1props *p, const char *ifname)
{
	const struct links *l = p->src.links ? p->src.links(p->src.arg) : NULL;
	size_t i;

	for (i = 0; l && i < l->n; i++)
		if (strcmp(l->v[i].ifname, ifname) == 0)
			return &l->v[i];
	return NULL;
}

/* resolved's words for an encryption policy (SPEC 17: auto upgrades where
 * it can and falls back, as opportunistic does) */
static const char *
dot_word(enum cfg_encryption e)
{
	return e == ENC_REQUIRE ? "yes" : e == ENC_OFF ? "no" : "opportunistic";
}

/* the name ("#NAME") a learned link gave one of its servers; NULL = none */
static const char *
learned_name(struct r1props *p, const struct cfg *c, const struct cfg_server *s)
{
	const struct cfg_adapter *ca = &c->adapters[s->adapter];
	const struct link *k = ca->device[0] ? learned(p, ca->device) : NULL;
	char host[INET6_ADDRSTRLEN] = "";
	const void *a = s->addr.ss.ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)&s->addr.ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)&s->addr.ss)->sin_addr;
	size_t i;

	if (!k || !inet_ntop(s->addr.ss.ss_family, a, host, sizeof(host)))
		return NULL;
	for (i = 0; i < k->nservers; i++)
		if (strcmp(k->servers[i].host, host) == 0 && k->servers[i].name[0])
			return k->servers[i].name[0] == '#' ? k->servers[i].name + 1 :
			                                      k->servers[i].name;
	return NULL;
}

/* ---------------- values ---------------- */

/* one server: (i)iay or (i)iayqs; s NULL = none (AF_UNSPEC, no bytes);
 * lname: the name its link gave a clear-text server (NULL = none) */
static int
append_server(sd_bus_message *m, const struct cfg_server *s, const char *lname, bool with_ifindex,
    int32_t ifindex, bool ex)
{
	const char *sig = with_ifindex ? (ex ? "iiayqs" : "iiay") : (ex ? "iayqs" : "iay");
	const void *addr = NULL;
	size_t alen = 0;
	int32_t family = AF_UNSPEC;
	uint16_t port = 0;
	char host[INET6_ADDRSTRLEN] = "";
	const char *name = "";
	int rc;

	if (s && s->addr.ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&s->addr.ss;

		family = AF_INET;
		addr = &sin->sin_addr;
		alen = 4;
		port = ntohs(sin->sin_port);
	} else if (s && s->addr.ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&s->addr.ss;

		family = AF_INET6;
		addr = &sin6->sin6_addr;
		alen = 16;
		port = ntohs(sin6->sin6_port);
	}
	if (addr) {
		inet_ntop(family, addr, host, sizeof(host));
		/* resolved says 0 for the default port, and names only a
		 * name given (a server authenticated by its address has none) */
		if (port == cfg_transport_port(s->transport))
			port = 0;
		if (s->auth_name[0] && strcmp(s->auth_name, host) != 0)
			name = s->auth_name;
		else if (!s->auth_name[0] && lname)
			name = lname;
	}
	rc = sd_bus_message_open_container(m, 'r', sig);
	if (rc >= 0 && with_ifindex)
		rc = sd_bus_message_append(m, "i", with_ifindex ? ifindex : 0);
	if (rc >= 0)
		rc = sd_bus_message_append(m, "i", family);
	if (rc >= 0)
		rc = sd_bus_message_append_array(m, 'y', addr ? addr : "", alen);
	if (rc >= 0 && ex)
		rc = sd_bus_message_append(m, "qs", port, name);
	if (rc >= 0)
		rc = sd_bus_message_close_container(m);
	return rc;
}

/* every shown server of the adapters on ifname (NULL = the global ones,
 * or with_ifindex: all, each with its interface) */
static int
append_servers(struct r1props *p, sd_bus_message *m, const char *ifname, bool with_ifindex, bool ex)
{
	struct control_view v;
	const struct cfg *c;
	size_t i;
	int rc;

	pull(p, &v);
	c = v.cfg;
	rc = sd_bus_message_open_container(m, 'a',
	    with_ifindex ? (ex ? "(iiayqs)" : "(iiay)") : (ex ? "(iayqs)" : "(iay)"));
	for (i = 0; rc >= 0 && c && i < c->nservers; i++) {
		const struct cfg_server *s = &c->servers[i];

		if (!shown(s) || (!with_ifindex && !adapter_on(c, s->adapter, ifname)))
			continue;
		rc = append_server(m, s, learned_name(p, c, s), with_ifindex,
		    adapter_ifindex(c, s->adapter), ex);
	}
	if (rc >= 0)
		rc = sd_bus_message_close_container(m);
	return rc;
}

/* the server an adapter on ifname (NULL = global) asks first now */
static const struct cfg_server *
current_server(struct r1props *p, const char *ifname, int32_t *ifindex)
{
	struct control_view v;
	const struct cfg *c;
	const struct cfg_server *found = NULL;
	size_t a, *ord, n;

	pull(p, &v);
	c = v.sched ? sched_cfg(v.sched) : NULL;
	*ifindex = 0;
	if (!c || !(ord = calloc(sched_nservers(v.sched) + 1, sizeof(*ord))))
		return NULL;
	for (a = 0; !found && a < c->nadapters; a++) {
		if (!adapter_on(c, a, ifname) || sched_adapter(v.sched, a)->down)
			continue;
		n = sched_order(v.sched, a, ord);
		if (n > 0) {
			found = &c->servers[ord[0]];
			if (found->clear)
				found = &c->servers[found->clear - 1];
			*ifindex = adapter_ifindex(c, a);
		}
	}
	free(ord);
	return found;
}

/* a routing domain of ifname's adapter: routing-only ("~"), unless the
 * learned link gave it as a search domain */
static bool
routing_only(struct r1props *p, const char *ifname, const char *dom)
{
	const struct link *k = ifname ? learned(p, ifname) : NULL;
	size_t i;

	for (i = 0; k && i < k->ndomains; i++)
		if (strcasecmp(k->domains[i], dom) == 0)
			return k->routing_only[i];
	return true;
}

static int
append_domains(struct r1props *p, sd_bus_message *m, const char *ifname, bool with_ifindex)
{
	struct control_view v;
	const struct cfg *c;
	size_t a, k;
	int rc;

	pull(p, &v);
	c = v.cfg;
	rc = sd_bus_message_open_container(m, 'a', with_ifindex ? "(isb)" : "(sb)");
	for (a = 0; rc >= 0 && c && a < c->nadapters; a++) {
		const struct cfg_adapter *ca = &c->adapters[a];

		if (!with_ifindex && !adapter_on(c, a, ifname))
			continue;
		for (k = 0; rc >= 0 && k < ca->ndomains; k++) {
			char dn[WIRE_NAME_TEXT];
			int ro;

			if (!wire_name_to_text(ca->domains[k].name, ca->domains[k].len, dn,
			        sizeof(dn)))
				continue;
			ro = routing_only(p, ca->device[0] ? ca->device : NULL, dn);
			if (with_ifindex)
				rc = sd_bus_message_append(m, "(isb)", adapter_ifindex(c, a), dn,
				    ro);
			else
				rc = sd_bus_message_append(m, "(sb)", dn, ro);
		}
	}
	if (rc >= 0)
		rc = sd_bus_message_close_container(m);
	return rc;
}

/* "Ex" in the property's name: the extended form */
static bool
is_ex(const char *property)
{
	size_t n = strlen(property);

	return n > 2 && strcmp(property + n - 2, "Ex") == 0;
}

/* ---------------- the Manager ---------------- */

static int
g_dns(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	(void)bus;
	(void)path;
	(void)iface;
	(void)error;
	return append_servers(userdata, m, NULL, true, is_ex(property));
}

static int
g_fallback_dns(sd_bus *bus, const char *path, const char *iface, const char *property,
    sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)bus;
	(void)path;
	(void)iface;
	(void)userdata;
	(void)error;
	/* stubd has no fallback servers */
	return sd_bus_message_append(m, is_ex(property) ? "a(iiayqs)" : "a(iiay)", 0);
}

static int
g_current(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	int32_t ifindex;
	const struct cfg_server *s = current_server(userdata, NULL, &ifindex);

	(void)bus;
	(void)path;
	(void)iface;
	(void)error;
	return append_server(m, s, NULL, true, ifindex, is_ex(property));
}

static int
g_domains(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	(void)bus;
	(void)path;
	(void)iface;
	(void)property;
	(void)error;
	return append_domains(userdata, m, NULL, true);
}

static int
g_no(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	(void)bus;
	(void)path;
	(void)iface;
	(void)property;
	(void)userdata;
	(void)error;
	return sd_bus_message_append(m, "s", "no");
}

static int
g_false(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	(void)bus;
	(void)path;
	(void)iface;
	(void)property;
	(void)userdata;
	(void)error;
	return sd_bus_message_append(m, "b", 0);
}

/* stubd asks by multicast DNS (SPEC 19); it never answers for itself */
static int
g_mdns(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	struct control_view v;

	(void)bus;
	(void)path;
	(void)iface;
	(void)property;
	(void)error;
	pull(userdata, &v);
	return sd_bus_message_append(m, "s", v.cfg && v.cfg->mdns ? "resolve" : "no");
}

static int
g_dot(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	struct control_view v;

	(void)bus;
	(void)path;
	(void)iface;
	(void)property;
	(void)error;
	pull(userdata, &v);
	return sd_bus_message_append(m, "s", dot_word(v.cfg ? v.cfg->encryption : ENC_OFF));
}

static int
g_no_ntas(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	(void)bus;
	(void)path;
	(void)iface;
	(void)property;
	(void)userdata;
	(void)error;
	return sd_bus_message_append(m, "as", 0);
}

static int
g_hostname(sd_bus *bus, const char *path, const char *iface, const char *property,
    sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	char h[256] = "";

	(void)bus;
	(void)path;
	(void)iface;
	(void)property;
	(void)userdata;
	(void)error;
	if (gethostname(h, sizeof(h) - 1) != 0)
		h[0] = 0;
	h[strcspn(h, ".")] = 0;
	return sd_bus_message_append(m, "s", h);
}

/* now less then (a counter less its value at the last ResetStatistics) */
static uint64_t
since(uint64_t now, uint64_t then)
{
	return now >= then ? now - then : 0;
}

/* The counters at the last ResetStatistics (all zero when never). */
static const struct stats *
baseline(const struct r1props *p)
{
	static const struct stats none;
	const struct stats *z = p->src.zero ? p->src.zero(p->src.arg) : NULL;

	return z ? z : &none;
}

/* (current, total): searches in flight, packets sent upstream */
static int
g_transactions(sd_bus *bus, const char *path, const char *iface, const char *property,
    sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct r1props *p = userdata;
	struct control_view v;

	(void)bus;
	(void)path;
	(void)iface;
	(void)property;
	(void)error;
	pull(p, &v);
	return sd_bus_message_append(m, "(tt)",
	    (uint64_t)(p->src.inflight ? p->src.inflight(p->src.arg) : 0),
	    v.st ? since(v.st->upstream_queries, baseline(p)->upstream_queries) : 0);
}

/* (size, hits, misses) = stats' cache_entries, cache_hits, cache_misses
 * (the counters since the last ResetStatistics) */
static int
g_cache(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	struct control_view v;
	const struct stats *z;

	(void)bus;
	(void)path;
	(void)iface;
	(void)property;
	(void)error;
	pull(userdata, &v);
	z = baseline(userdata);
	return sd_bus_message_append(m, "(ttt)", (uint64_t)(v.cache ? cache_count(v.cache) : 0),
	    v.st ? since(v.st->cache_hits, z->cache_hits) : 0,
	    v.st ? since(v.st->cache_misses, z->cache_misses) : 0);
}

/* stubd validates nothing: no verdicts */
static int
g_dnssec_stats(sd_bus *bus, const char *path, const char *iface, const char *property,
    sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)bus;
	(void)path;
	(void)iface;
	(void)property;
	(void)userdata;
	(void)error;
	return sd_bus_message_append(m, "(tttt)", (uint64_t)0, (uint64_t)0, (uint64_t)0,
	    (uint64_t)0);
}

/* "yes" when stubd listens on 127.0.0.53:53, as resolved's stub does */
static int
g_stub_listener(sd_bus *bus, const char *path, const char *iface, const char *property,
    sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct control_view v;
	bool yes = false;
	size_t i;

	(void)bus;
	(void)path;
	(void)iface;
	(void)property;
	(void)error;
	pull(userdata, &v);
	for (i = 0; v.cfg && i < v.cfg->nlistens; i++) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&v.cfg->listens[i].ss;

		if (sin->sin_family == AF_INET && ntohs(sin->sin_port) == 53 &&
		    ntohl(sin->sin_addr.s_addr) == 0x7f000035)
			yes = true;
	}
	return sd_bus_message_append(m, "s", yes ? "yes" : "no");
}

static bool
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

/* resolved's words for what /etc/resolv.conf is */
static int
g_resolv_conf_mode(sd_bus *bus, const char *path, const char *iface, const char *property,
    sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	char target[4096];
	ssize_t n = readlink("/etc/resolv.conf", target, sizeof(target) - 1);
	const char *mode = "foreign";

	(void)bus;
	(void)path;
	(void)iface;
	(void)property;
	(void)userdata;
	(void)error;
	if (n < 0 && errno == ENOENT)
		mode = "missing";
	else if (n > 0) {
		target[n] = 0;
		if (ends_with(target, "systemd/resolve/stub-resolv.conf"))
			mode = "stub";
		else if (ends_with(target, "systemd/resolve/resolv.conf"))
			mode = "uplink";
		else if (ends_with(target, "lib/systemd/resolv.conf"))
			mode = "static";
	}
	return sd_bus_message_append(m, "s", mode);
}

static int
m_get_link(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	char name[IF_NAMESIZE], idx[16], *path = NULL;
	int32_t ifindex;
	int rc;

	(void)userdata;
	rc = sd_bus_message_read(m, "i", &ifindex);
	if (rc < 0)
		return rc;
	if (!ifname_of(ifindex, name))
		return sd_bus_error_setf(error, R1_NO_SUCH_LINK, "Link %d not known", (int)ifindex);
	snprintf(idx, sizeof(idx), "%d", (int)ifindex);
	rc = sd_bus_path_encode(R1_LINKS, idx, &path);
	if (rc < 0)
		return rc;
	rc = sd_bus_reply_method_return(m, "o", path);
	free(path);
	return rc;
}

#define CHG SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
static const sd_bus_vtable manager_props[] = { SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("LLMNRHostname", "s", g_hostname, 0, 0),
	SD_BUS_PROPERTY("LLMNR", "s", g_no, 0, CHG),
	SD_BUS_PROPERTY("MulticastDNS", "s", g_mdns, 0, CHG),
	SD_BUS_PROPERTY("DNSOverTLS", "s", g_dot, 0, CHG),
	SD_BUS_PROPERTY("DNS", "a(iiay)", g_dns, 0, CHG),
	SD_BUS_PROPERTY("DNSEx", "a(iiayqs)", g_dns, 0, CHG),
	SD_BUS_PROPERTY("FallbackDNS", "a(iiay)", g_fallback_dns, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("FallbackDNSEx", "a(iiayqs)", g_fallback_dns, 0,
	    SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("CurrentDNSServer", "(iiay)", g_current, 0, 0),
	SD_BUS_PROPERTY("CurrentDNSServerEx", "(iiayqs)", g_current, 0, 0),
	SD_BUS_PROPERTY("Domains", "a(isb)", g_domains, 0, CHG),
	SD_BUS_PROPERTY("TransactionStatistics", "(tt)", g_transactions, 0, 0),
	SD_BUS_PROPERTY("CacheStatistics", "(ttt)", g_cache, 0, 0),
	SD_BUS_PROPERTY("DNSSEC", "s", g_no, 0, CHG),
	SD_BUS_PROPERTY("DNSSECStatistics", "(tttt)", g_dnssec_stats, 0, 0),
	SD_BUS_PROPERTY("DNSSECSupported", "b", g_false, 0, CHG),
	SD_BUS_PROPERTY("DNSSECNegativeTrustAnchors", "as", g_no_ntas, 0, CHG),
	SD_BUS_PROPERTY("DNSStubListener", "s", g_stub_listener, 0, CHG),
	SD_BUS_PROPERTY("ResolvConfMode", "s", g_resolv_conf_mode, 0, 0),
	SD_BUS_METHOD("GetLink", "i", "o", m_get_link, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END };

/* ---------------- the Link objects ---------------- */

/* the interface of a link object; false when it has none (gone) */
static bool
link_of(const char *path, int32_t *ifindex, char name[IF_NAMESIZE])
{
	*ifindex = path_ifindex(path);
	return ifname_of(*ifindex, name);
}

/* the first adapter bound to the interface, SIZE_MAX when none */
static size_t
first_adapter(const struct cfg *c, const char *ifname)
{
	size_t a;

	for (a = 0; c && a < c->nadapters; a++)
		if (adapter_on(c, a, ifname))
			return a;
	return SIZE_MAX;
}

static int
l_dns(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	char name[IF_NAMESIZE] = "";
	int32_t ifindex;

	(void)bus;
	(void)iface;
	(void)error;
	if (!link_of(path, &ifindex, name))
		return sd_bus_message_append(m, is_ex(property) ? "a(iayqs)" : "a(iay)", 0);
	return append_servers(userdata, m, name, false, is_ex(property));
}

static int
l_current(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	char name[IF_NAMESIZE] = "";
	int32_t ifindex;
	const struct cfg_server *s = NULL;

	(void)bus;
	(void)iface;
	(void)error;
	if (link_of(path, &ifindex, name))
		s = current_server(userdata, name, &ifindex);
	return append_server(m, s, NULL, false, 0, is_ex(property));
}

static int
l_domains(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	char name[IF_NAMESIZE] = "";
	int32_t ifindex;

	(void)bus;
	(void)iface;
	(void)property;
	(void)error;
	if (!link_of(path, &ifindex, name))
		return sd_bus_message_append(m, "a(sb)", 0);
	return append_domains(userdata, m, name, false);
}

/* the DNS scope when an adapter with servers is bound to the interface;
 * the mDNS scopes of each family the interface may ask on (SPEC 19: up,
 * multicast, not loopback, an address of that family; not set to no) */
static int
l_scopes(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	struct r1props *p = userdata;
	struct control_view v;
	char name[IF_NAMESIZE] = "";
	int32_t ifindex;
	uint64_t mask = 0;
	size_t a;

	(void)bus;
	(void)iface;
	(void)property;
	(void)error;
	pull(p, &v);
	if (link_of(path, &ifindex, name) && v.cfg) {
		const struct link *k = learned(p, name);

		for (a = 0; a < v.cfg->nadapters; a++)
			if (adapter_on(v.cfg, a, name) && v.sched &&
			    sched_adapter(v.sched, a)->nservers > 0)
				mask |= SCOPE_DNS;
		if (v.cfg->mdns && !(k && k->mdns_off)) { /* as last read: no system call */
			unsigned f = sysfacts_mdns(v.facts, name);

			mask |= (f & SYSFACTS_MDNS4 ? SCOPE_MDNS4 : 0) |
			    (f & SYSFACTS_MDNS6 ? SCOPE_MDNS6 : 0);
		}
	}
	return sd_bus_message_append(m, "t", mask);
}

static int
l_default_route(sd_bus *bus, const char *path, const char *iface, const char *property,
    sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct r1props *p = userdata;
	struct control_view v;
	char name[IF_NAMESIZE] = "";
	int32_t ifindex;
	int yes = 1; /* resolved's default for a link with no routing-only domain */
	size_t a;

	(void)bus;
	(void)iface;
	(void)property;
	(void)error;
	pull(p, &v);
	if (link_of(path, &ifindex, name)) {
		const struct link *k = learned(p, name);

		if (k)
			yes = k->default_route;
		else if ((a = first_adapter(v.cfg, name)) != SIZE_MAX)
			yes = v.cfg->adapters[a].default_route;
	}
	return sd_bus_message_append(m, "b", yes);
}

static int
l_mdns(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	struct r1props *p = userdata;
	struct control_view v;
	char name[IF_NAMESIZE] = "";
	int32_t ifindex;
	bool on;

	(void)bus;
	(void)iface;
	(void)property;
	(void)error;
	pull(p, &v);
	on = link_of(path, &ifindex, name) && v.cfg && v.cfg->mdns;
	if (on) {
		const struct link *k = learned(p, name);

		on = !(k && k->mdns_off);
	}
	return sd_bus_message_append(m, "s", on ? "resolve" : "no");
}

/* the policy over the link's servers (SPEC 17); "yes" too when every one
 * of them is encrypted anyway */
static int
l_dot(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	struct r1props *p = userdata;
	struct control_view v;
	char name[IF_NAMESIZE] = "";
	int32_t ifindex;
	enum cfg_encryption e;
	size_t a, i, n = 0, enc = 0;

	(void)bus;
	(void)iface;
	(void)property;
	(void)error;
	pull(p, &v);
	if (!v.cfg)
		return sd_bus_message_append(m, "s", "no");
	e = v.cfg->encryption;
	if (link_of(path, &ifindex, name)) {
		const struct link *k = learned(p, name);

		if ((a = first_adapter(v.cfg, name)) != SIZE_MAX &&
		    v.cfg->adapters[a].encryption != ENC_INHERIT)
			e = v.cfg->adapters[a].encryption;
		else if (k && k->enc_set)
			e = k->enc;
		for (i = 0; i < v.cfg->nservers; i++)
			if (shown(&v.cfg->servers[i]) &&
			    adapter_on(v.cfg, v.cfg->servers[i].adapter, name)) {
				n++;
				enc += cfg_transport_encrypted(v.cfg->servers[i].transport);
			}
	}
	return sd_bus_message_append(m, "s", n > 0 && enc == n ? "yes" : dot_word(e));
}

static int
l_dnssec(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	struct r1props *p = userdata;
	const char *mode = NULL, *nta = NULL;
	int32_t ifindex = path_ifindex(path);

	(void)bus;
	(void)iface;
	(void)property;
	(void)error;
	if (p->src.stored && ifindex > 0)
		p->src.stored(p->src.sarg, ifindex, &mode, &nta);
	/* stored and shown, not enforced (SPEC 16); unset: the global "no" */
	return sd_bus_message_append(m, "s", mode && *mode ? mode : "no");
}

static int
l_ntas(sd_bus *bus, const char *path, const char *iface, const char *property, sd_bus_message *m,
    void *userdata, sd_bus_error *error)
{
	struct r1props *p = userdata;
	const char *mode = NULL, *nta = NULL;
	int32_t ifindex = path_ifindex(path);
	int rc;

	(void)bus;
	(void)iface;
	(void)property;
	(void)error;
	if (p->src.stored && ifindex > 0)
		p->src.stored(p->src.sarg, ifindex, &mode, &nta);
	rc = sd_bus_message_open_container(m, 'a', "s");
	while (rc >= 0 && nta && *nta) {
		size_t n = strcspn(nta, " ");
		char d[WIRE_NAME_TEXT];

		if (n > 0 && n < sizeof(d)) {
			memcpy(d, nta, n);
			d[n] = 0;
			rc = sd_bus_message_append(m, "s", d);
		}
		nta += n;
		nta += strspn(nta, " ");
	}
	if (rc >= 0)
		rc = sd_bus_message_close_container(m);
	return rc;
}

static const sd_bus_vtable link_props[] = { SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("ScopesMask", "t", l_scopes, 0, 0),
	SD_BUS_PROPERTY("DNS", "a(iay)", l_dns, 0, CHG),
	SD_BUS_PROPERTY("DNSEx", "a(iayqs)", l_dns, 0, CHG),
	SD_BUS_PROPERTY("CurrentDNSServer", "(iay)", l_current, 0, 0),
	SD_BUS_PROPERTY("CurrentDNSServerEx", "(iayqs)", l_current, 0, 0),
	SD_BUS_PROPERTY("Domains", "a(sb)", l_domains, 0, CHG),
	SD_BUS_PROPERTY("DefaultRoute", "b", l_default_route, 0, CHG),
	SD_BUS_PROPERTY("LLMNR", "s", g_no, 0, CHG),
	SD_BUS_PROPERTY("MulticastDNS", "s", l_mdns, 0, CHG),
	SD_BUS_PROPERTY("DNSOverTLS", "s", l_dot, 0, CHG),
	SD_BUS_PROPERTY("DNSSEC", "s", l_dnssec, 0, CHG),
	SD_BUS_PROPERTY("DNSSECNegativeTrustAnchors", "as", l_ntas, 0, CHG),
	SD_BUS_PROPERTY("DNSSECSupported", "b", g_false, 0, CHG), SD_BUS_VTABLE_END };
#undef CHG

/* a link object exists for every interface the system has */
static int
link_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
    sd_bus_error *error)
{
	char name[IF_NAMESIZE];
	int32_t ifindex;

	(void)bus;
	(void)iface;
	(void)error;
	if (!link_of(path, &ifindex, name))
		return 0;
	*found = userdata;
	return 1;
}

/* the interfaces' object paths (caller frees); NULL on OOM */
static char **
link_paths(void)
{
	struct if_nameindex *ni = if_nameindex(), *i;
	char **v, idx[16];
	size_t n = 0, k = 0;

	if (!ni)
		return calloc(1, sizeof(char *));
	for (i = ni; i->if_index; i++)
		n++;
	v = calloc(n + 1, sizeof(char *));
	for (i = ni; v && i->if_index; i++) {
		snprintf(idx, sizeof(idx), "%u", i->if_index);
		if (sd_bus_path_encode(R1_LINKS, idx, &v[k]) >= 0)
			k++;
	}
	if_freenameindex(ni);
	return v;
}

static void
free_paths(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int
link_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error)
{
	(void)bus;
	(void)prefix;
	(void)userdata;
	(void)error;
	*nodes = link_paths();
	return *nodes ? 0 : -ENOMEM;
}

/* ---------------- PropertiesChanged ---------------- */

/* the signalled properties of one object as text; NULL on failure */
static char *
settings_text(struct r1props *p, const char *path, const char *iface, const sd_bus_vtable *vt)
{
	sd_bus_message *m = NULL;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	const sd_bus_vtable *v;
	char *text = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int rc = sd_bus_message_new_signal(p->bus, &m, path, iface, "Settings");

	for (v = vt + 1; rc >= 0 && v->type != _SD_BUS_VTABLE_END; v++) {
		if (v->type != _SD_BUS_VTABLE_PROPERTY ||
		    !(v->flags & SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE))
			continue;
		rc = sd_bus_message_open_container(m, 'v', v->x.property.signature);
		if (rc >= 0)
			rc = v->x.property.get(p->bus, path, iface, v->x.property.member, m, p,
			    &err);
		if (rc >= 0)
			rc = sd_bus_message_close_container(m);
	}
	if (rc >= 0)
		rc = sd_bus_message_seal(m, 1, 0);
	if (rc >= 0)
		rc = sd_bus_message_rewind(m, true);
	if (rc >= 0 && (f = open_memstream(&text, &len)) != NULL) {
		rc = sd_bus_message_dump(m, f, 0);
		fclose(f);
		if (rc < 0) {
			free(text);
			text = NULL;
		}
	}
	sd_bus_error_free(&err);
	sd_bus_message_unref(m);
	return text;
}

static struct r1_seen *
seen(struct r1props *p, int32_t ifindex)
{
	size_t i;

	for (i = 0; i < p->nseen; i++)
		if (p->seen[i].ifindex == ifindex)
			return &p->seen[i];
	if (p->nseen == R1P_MAX_OBJECTS)
		return NULL;
	p->seen[p->nseen].ifindex = ifindex;
	p->seen[p->nseen].text = NULL;
	return &p->seen[p->nseen++];
}

/* compare an object's settings with the last look; signal when they
 * differ (not on the first look: the object was not known before) */
static void
look(struct r1props *p, int32_t ifindex, const char *path, const char *iface,
    const sd_bus_vtable *vt)
{
	struct r1_seen *s = seen(p, ifindex);
	char *text;
	int rc;

	if (!s || !(text = settings_text(p, path, iface, vt)))
		return;
	if (s->text && strcmp(s->text, text) != 0) {
		rc = sd_bus_emit_properties_changed_strv(p->bus, path, iface, NULL);
		if (rc < 0)
			log_warn("dbus: PropertiesChanged on %s: %s", path, strerror(-rc));
	}
	free(s->text);
	s->text = text;
}

static void
forget_seen(struct r1props *p)
{
	for (size_t i = 0; i < p->nseen; i++)
		free(p->seen[i].text);
	p->nseen = 0;
}

static void
unregister(struct r1props *p)
{
	p->mgr = sd_bus_slot_unref(p->mgr);
	p->link = sd_bus_slot_unref(p->link);
	p->enumr = sd_bus_slot_unref(p->enumr);
	forget_seen(p);
}

static int
register_objects(struct r1props *p)
{
	int rc = sd_bus_add_object_vtable(p->bus, &p->mgr, R1_PATH, R1_MANAGER, manager_props, p);

	if (rc >= 0)
		rc = sd_bus_add_fallback_vtable(p->bus, &p->link, R1_LINKS, R1_LINK, link_props,
		    link_find, p);
	if (rc >= 0)
		rc = sd_bus_add_node_enumerator(p->bus, &p->enumr, R1_LINKS, link_enumerate, p);
	if (rc < 0) {
		log_err("dbus: cannot serve resolved's properties: %s", strerror(-rc));
		unregister(p);
	}
	return rc;
}

static void
sync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct r1props *p = arg;
	bool compat = p->src.compat && p->src.compat(p->src.arg);
	char **paths;
	size_t i;

	(void)fd;
	(void)what;
	if (!compat) {
		if (p->mgr)
			unregister(p);
		return;
	}
	if (!p->mgr && register_objects(p) < 0)
		return;
	look(p, 0, R1_PATH, R1_MANAGER, manager_props);
	paths = link_paths();
	for (i = 0; paths && paths[i]; i++)
		look(p, path_ifindex(paths[i]), paths[i], R1_LINK, link_props);
	/* forget interfaces that are gone (an index may come back as another) */
	for (i = 1; paths && i < p->nseen;) {
		size_t k;

		for (k = 0; paths[k] && path_ifindex(paths[k]) != p->seen[i].ifindex; k++)
			;
		if (paths[k]) {
			i++;
			continue;
		}
		free(p->seen[i].text);
		p->seen[i] = p->seen[--p->nseen];
	}
	free_paths(paths);
	if (p->src.flush)
		p->src.flush(p->src.sarg);
}

void
r1props_changed(struct r1props *p)
{
	struct timeval now = { 0, 0 };

	if (p && !evtimer_pending(p->tmr, NULL))
		evtimer_add(p->tmr, &now);
}

enum stub_err
r1props_new(struct sd_bus *bus, struct event_base *base, const struct r1props_src *src,
    struct r1props **out, char *why, size_t whylen)
{
	struct r1props *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p || !(p->tmr = evtimer_new(base, sync_cb, p))) {
		free(p);
		snprintf(why, whylen, "dbus: out of memory");
		return STUB_ENOMEM;
	}
	p->bus = bus;
	p->src = *src;
	*out = p;
	return STUB_OK;
}

void
r1props_free(struct r1props *p)
{
	if (!p)
		return;
	unregister(p);
	event_free(p->tmr);
	free(p);
}

#endif
