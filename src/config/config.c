/*
 * config.c - struct cfg: defaults, references and copies, addresses and
 * ACLs, the command line's overrides and cfg_finish (the directives of
 * stubd.conf are in directives.c).
 */
#include "auto-config.h"

#include "config.h"
#include "encryption.h"
#include "polcfg.h"
#include "config_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "err.h"
#include "file.h"
#include "log.h"
#include "text.h"

#define RESOLV_LINE_MAX 256

void
cfg_error(struct cfg *c, const char *fname, int line, const char *fmt, ...)
{
	char msg[512], *n;
	int k, m;
	size_t old = c->errors ? strlen(c->errors) : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		k = snprintf(NULL, 0, "%s:%d: %s\n", fname, line, msg);
	else
		k = snprintf(NULL, 0, "%s: %s\n", fname, msg);
	n = realloc(c->errors, old + (size_t)k + 1);
	c->nerrors++;
	if (!n)
		return;
	if (line > 0)
		m = snprintf(n + old, (size_t)k + 1, "%s:%d: %s\n", fname, line, msg);
	else
		m = snprintf(n + old, (size_t)k + 1, "%s: %s\n", fname, msg);
	(void)m;
	c->errors = n;
}

static char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct cfg *
cfg_new(const char *control_default, const char *hosts_default)
{
	static const uint32_t deft[] = { 1000, 2000, 2000, 4000, 8000 };
	struct cfg *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->refs = 1;
	c->control = xstrdup(control_default);
	c->hosts = xstrdup(hosts_default);
	c->resolv_file = strdup("/etc/resolv.conf");
	c->tls_ca = strdup(CFG_TLS_CA_DEFAULT);
	c->hosts_ttl = 0;
	c->cache_size = 100000;
	c->cache_memory = CFG_CACHE_MEMORY_DEFAULT;
	c->max_ttl = 86400;
	c->min_ttl = 0;
	c->max_negative_ttl = 900;
	c->negative_ttl = 60;
	memcpy(c->timeouts_ms, deft, sizeof(deft));
	c->ntimeouts = 5;
	c->exclude_ms = 30000;
	c->mdns = true;
	c->mdns_timeout_ms = 1000;
	c->serve_stale = 0;
	c->max_tcp_clients = 256;
	c->max_inflight = 4096;
	if (!c->resolv_file || !c->tls_ca || (control_default && !c->control) ||
	    (hosts_default && !c->hosts)) {
		cfg_unref(c);
		return NULL;
	}
	return c;
}

void
cfg_unref(struct cfg *c)
{
	size_t i;

	if (!c || --c->refs > 0)
		return;
	free(c->listens);
	free(c->acls);
	free(c->control);
	free(c->control_group);
	free(c->hosts);
	free(c->user);
	free(c->resolv_file);
	free(c->resolvconf_dir);
	free(c->cache_file);
	free(c->tls_ca);
	polcfg_unref(c->policy);
	for (i = 0; i < c->nadapters; i++) {
		free(c->adapters[i].domains);
		free(c->adapters[i].search);
	}
	free(c->adapters);
	free(c->servers);
	free(c->dnr);
	free(c->errors);
	free(c);
}

static enum stub_err
dup_array(void *dst, const void *src, size_t n, size_t size)
{
	void **d = dst;

	*d = NULL;
	if (n == 0)
		return STUB_OK;
	*d = malloc(n * size);
	if (!*d)
		return STUB_ENOMEM;
	memcpy(*d, src, n * size);
	return STUB_OK;
}

static enum stub_err
dup_str(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? STUB_ENOMEM : STUB_OK;
}

struct cfg *
cfg_clone(const struct cfg *c)
{
	struct cfg *n = calloc(1, sizeof(*n));
	size_t i;

	if (!n)
		return NULL;
	*n = *c;
	n->refs = 1;
	polcfg_ref(n->policy);
	n->errors = NULL;
	n->nerrors = 0;
	n->listens = NULL;
	n->acls = NULL;
	n->control = n->control_group = n->hosts = n->user = n->resolv_file = NULL;
	n->resolvconf_dir = NULL;
	n->cache_file = NULL;
	n->tls_ca = NULL;
	n->adapters = NULL;
	n->servers = NULL;
	n->dnr = NULL;
	n->nadapters = 0;
	if (dup_array(&n->dnr, c->dnr, c->ndnr, sizeof(*c->dnr)) != STUB_OK ||
	    dup_array(&n->listens, c->listens, c->nlistens, sizeof(*c->listens)) != STUB_OK ||
	    dup_array(&n->acls, c->acls, c->nacls, sizeof(*c->acls)) != STUB_OK ||
	    dup_array(&n->servers, c->servers, c->nservers, sizeof(*c->servers)) != STUB_OK ||
	    dup_str(&n->control, c->control) != STUB_OK ||
	    dup_str(&n->control_group, c->control_group) != STUB_OK ||
	    dup_str(&n->hosts, c->hosts) != STUB_OK || dup_str(&n->user, c->user) != STUB_OK ||
	    dup_str(&n->resolv_file, c->resolv_file) != STUB_OK ||
	    dup_str(&n->resolvconf_dir, c->resolvconf_dir) != STUB_OK ||
	    dup_str(&n->cache_file, c->cache_file) != STUB_OK ||
	    dup_str(&n->tls_ca, c->tls_ca) != STUB_OK ||
	    dup_array(&n->adapters, c->adapters, c->nadapters, sizeof(*c->adapters)) != STUB_OK)
		goto fail;
	for (i = 0; i < c->nadapters; i++) {
		n->adapters[i].domains = NULL;
		n->adapters[i].search = NULL;
		n->nadapters = i + 1;
		if (dup_array(&n->adapters[i].domains, c->adapters[i].domains,
		        c->adapters[i].ndomains, sizeof(*c->adapters[i].domains)) != STUB_OK ||
		    dup_array(&n->adapters[i].search, c->adapters[i].search, c->adapters[i].nsearch,
		        sizeof(*c->adapters[i].search)) != STUB_OK)
			goto fail;
	}
	return n;
fail:
	if (!n->adapters)
		n->nadapters = 0;
	cfg_unref(n);
	return NULL;
}

bool
cfg_same_tls_identity(const struct cfg_server *a, const struct cfg_server *b)
{
	return a->transport == b->transport && strcmp(a->text, b->text) == 0 &&
	    strcmp(a->auth_name, b->auth_name) == 0 && strcmp(a->path, b->path) == 0 &&
	    a->insecure == b->insecure && a->npins == b->npins &&
	    memcmp(a->pins, b->pins, a->npins * sizeof(a->pins[0])) == 0 &&
	    a->san_ip.len == b->san_ip.len &&
	    (a->san_ip.len == 0 || memcmp(&a->san_ip.ss, &b->san_ip.ss, a->san_ip.len) == 0);
}

const char *
cfg_origin_name(enum cfg_origin o)
{
	switch (o) {
	case ORIGIN_CONFIG: return "config";
	case ORIGIN_RESOLV_FILE: return "resolv-file";
	case ORIGIN_RESOLVCONF: return "resolvconf";
	case ORIGIN_DBUS: return "dbus";
	case ORIGIN_CONTROL: return "control";
	}
	return "config";
}

/* What config knows of each transport: the rows of transports.def
 * without their factories (those are transport.c's). */
static const struct {
	const char *name;
	uint16_t port;
	bool encrypted;
} transports[XPORT_COUNT] = {
#define TRANSPORT(kind, name, port, encrypted, factory) [kind] = { name, port, encrypted },
#include "transports.def"
#undef TRANSPORT
};

const char *
cfg_transport_name(enum cfg_transport t)
{
	return transports[(unsigned)t < XPORT_COUNT ? t : XPORT_UDP].name;
}

uint16_t
cfg_transport_port(enum cfg_transport t)
{
	return transports[(unsigned)t < XPORT_COUNT ? t : XPORT_UDP].port;
}

bool
cfg_transport_encrypted(enum cfg_transport t)
{
	return (unsigned)t < XPORT_COUNT && transports[t].encrypted;
}

bool
cfg_server_authenticated(const struct cfg_server *s)
{
	return cfg_transport_encrypted(s->transport) && !s->insecure &&
	    (s->npins > 0 || s->auth_name[0] != '\0');
}

bool
cfg_server_trusts_ad(const struct cfg_server *s)
{
	return s->trust_ad || cfg_server_authenticated(s);
}

void
cfg_server_url(const struct cfg_server *s, char *buf, size_t len)
{
	switch (s->transport) {
	case XPORT_UDP: snprintf(buf, len, "%s", s->text); break;
	case XPORT_TLS:
		snprintf(buf, len, "tls://%s%s%s", s->text, s->auth_name[0] ? "#" : "",
		    s->auth_name);
		break;
	case XPORT_HTTPS:
		snprintf(buf, len, "https://%s%s%s%s", s->text, s->path, s->auth_name[0] ? "#" : "",
		    s->auth_name);
		break;
	}
}

struct cfg *
cfg_ref(struct cfg *c)
{
	if (c)
		c->refs++;
	return c;
}

enum stub_err
cfg_grow(void *pp, size_t n, size_t size)
{
	void **p = pp;
	void *q = realloc(*p, (n + 1) * size);

	if (!q)
		return STUB_ENOMEM;
	*p = q;
	return STUB_OK;
}

enum stub_err
cfg_parse_sockaddr(const char *s, uint16_t defport, struct cfg_sockaddr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL;
	unsigned long p = defport;
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return STUB_EFORMAT;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e || (size_t)(e - s - 1) >= sizeof(host))
			return STUB_EFORMAT;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = 0;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1] != 0)
			return STUB_EFORMAT;
	} else {
		const char *colon = strchr(s, ':');

		if (colon && strchr(colon + 1, ':')) {
			/* bare IPv6 without port */
			if (strlen(s) >= sizeof(host))
				return STUB_EFORMAT;
			strcpy(host, s);
		} else {
			size_t hl = colon ? (size_t)(colon - s) : strlen(s);

			if (hl >= sizeof(host))
				return STUB_EFORMAT;
			memcpy(host, s, hl);
			host[hl] = 0;
			if (colon)
				port = colon + 1;
		}
	}
	if (port) {
		char *end;

		if (!*port || *port == '-' || *port == '+')
			return STUB_EFORMAT;
		errno = 0;
		p = strtoul(port, &end, 10);
		if (errno || *end || p == 0 || p > 65535)
			return STUB_EFORMAT;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		out->len = sizeof(*sin);
		return STUB_OK;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		out->len = sizeof(*sin6);
		return STUB_OK;
	}
	return STUB_EFORMAT;
}

void
cfg_format_sockaddr(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

enum stub_err
cfg_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return STUB_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return STUB_EINVAL;
	*out = (uint32_t)v;
	return STUB_OK;
}

/* seconds with optional decimals -> ms; 0 < v <= 3600 */
enum stub_err
cfg_parse_secs_ms(const char *s, uint32_t *ms, bool zero_ok)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-' || *s == '+')
		return STUB_EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > 86400)
		return STUB_EINVAL;
	if (!zero_ok && v < 0.001)
		return STUB_EINVAL;
	*ms = (uint32_t)llround(v * 1000.0);
	return STUB_OK;
}

enum stub_err
cfg_parse_acl(const char *s, struct cfg_acl *a)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	uint32_t prefix;

	if (strlen(s) >= sizeof(buf))
		return STUB_EFORMAT;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, a->addr) == 1) {
		a->family = AF_INET;
		prefix = 32;
		if (slash && cfg_parse_u32(slash, 0, 32, &prefix) != STUB_OK)
			return STUB_EFORMAT;
	} else if (inet_pton(AF_INET6, buf, a->addr) == 1) {
		a->family = AF_INET6;
		prefix = 128;
		if (slash && cfg_parse_u32(slash, 0, 128, &prefix) != STUB_OK)
			return STUB_EFORMAT;
	} else {
		return STUB_EFORMAT;
	}
	a->prefix = prefix;
	return STUB_OK;
}

static bool
prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rem = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));

		return (a[full] & mask) == (b[full] & mask);
	}
	return true;
}

bool
cfg_acl_match(const struct cfg *c, const struct sockaddr *sa)
{
	const uint8_t *addr;
	uint8_t v4[4];
	int fam = sa->sa_family;
	size_t i;

	if (fam == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (fam == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		addr = s6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(v4, addr + 12, 4);
			addr = v4;
			fam = AF_INET;
		}
	} else {
		return false;
	}
	for (i = 0; i < c->nacls; i++)
		if (c->acls[i].family == fam &&
		    prefix_match(c->acls[i].addr, addr, c->acls[i].prefix))
			return true;
	return false;
}

long
cfg_adapter_find(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nadapters; i++)
		if (strcmp(c->adapters[i].name, name) == 0)
			return (long)i;
	return -1;
}

bool
cfg_valid_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= CFG_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

enum stub_err
cfg_add_adapter(struct cfg *c, const char *name, int line, size_t *idx)
{
	struct cfg_adapter *a;

	*idx = 0;
	if (cfg_grow(&c->adapters, c->nadapters, sizeof(*c->adapters)) != STUB_OK)
		return STUB_ENOMEM;
	a = &c->adapters[c->nadapters];
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->line = line;
	a->default_route = true;
	a->encryption = ENC_INHERIT;
	*idx = c->nadapters++;
	return STUB_OK;
}

enum stub_err
cfg_add_server(struct cfg *c, const struct cfg_sockaddr *sa, enum cfg_prio prio, size_t adapter)
{
	struct cfg_server *s;

	if (cfg_grow(&c->servers, c->nservers, sizeof(*c->servers)) != STUB_OK)
		return STUB_ENOMEM;
	s = &c->servers[c->nservers++];
	memset(s, 0, sizeof(*s));
	s->addr = *sa;
	s->prio = prio;
	s->adapter = adapter;
	cfg_format_sockaddr((const struct sockaddr *)&sa->ss, s->text, sizeof(s->text));
	return STUB_OK;
}

enum stub_err
cfg_add_listen(struct cfg *c, const struct cfg_sockaddr *sa)
{
	if (cfg_grow(&c->listens, c->nlistens, sizeof(*c->listens)) != STUB_OK)
		return STUB_ENOMEM;
	c->listens[c->nlistens++] = *sa;
	return STUB_OK;
}

enum stub_err
cfg_set_str(char **dst, const char *v)
{
	char *n = v ? strdup(v) : NULL;

	if (v && !n)
		return STUB_ENOMEM;
	free(*dst);
	*dst = n;
	return STUB_OK;
}

enum stub_err
cfg_listen_clear_add(struct cfg *c, bool first, const char *arg, char *why, size_t whylen)
{
	struct cfg_sockaddr sa;

	if (cfg_parse_sockaddr(arg, DNS_PORT, &sa) != STUB_OK) {
		snprintf(why, whylen, "bad listen address");
		return STUB_EFORMAT;
	}
	if (first)
		c->nlistens = 0;
	if (cfg_add_listen(c, &sa) != STUB_OK) {
		snprintf(why, whylen, "out of memory");
		return STUB_ENOMEM;
	}
	return STUB_OK;
}

/* The adapter named name, added if missing. */
static enum stub_err
adapter_get(struct cfg *c, const char *name, size_t *idx)
{
	long a = cfg_adapter_find(c, name);

	if (a >= 0) {
		*idx = (size_t)a;
		return STUB_OK;
	}
	return cfg_add_adapter(c, name, 0, idx);
}

enum stub_err
cfg_server_arg(struct cfg *c, bool first, const char *arg, char *why, size_t whylen)
{
	char buf[128];
	char *pct;
	struct cfg_sockaddr sa;
	size_t a;

	if (strlen(arg) >= sizeof(buf)) {
		snprintf(why, whylen, "bad server");
		return STUB_EFORMAT;
	}
	strcpy(buf, arg);
	pct = strrchr(buf, '%');
	if (pct)
		*pct++ = 0;
	if (cfg_parse_sockaddr(buf, DNS_PORT, &sa) != STUB_OK) {
		snprintf(why, whylen, "bad server address");
		return STUB_EFORMAT;
	}
	if (first)
		c->nservers = 0;
	if (pct && !cfg_valid_name(pct)) {
		snprintf(why, whylen, "bad adapter name");
		return STUB_EFORMAT;
	}
	if (adapter_get(c, pct ? pct : "default", &a) != STUB_OK ||
	    cfg_add_server(c, &sa, PRIO_NORMAL, a) != STUB_OK) {
		snprintf(why, whylen, "out of memory");
		return STUB_ENOMEM;
	}
	return STUB_OK;
}

static bool
same_sockaddr(const struct cfg_sockaddr *a, const struct cfg_sockaddr *b)
{
	const struct sockaddr *x = (const struct sockaddr *)&a->ss;
	const struct sockaddr *y = (const struct sockaddr *)&b->ss;

	if (x->sa_family != y->sa_family)
		return false;
	if (x->sa_family == AF_INET) {
		const struct sockaddr_in *p = (const void *)x, *q = (const void *)y;

		return p->sin_port == q->sin_port && p->sin_addr.s_addr == q->sin_addr.s_addr;
	}
	if (x->sa_family == AF_INET6) {
		const struct sockaddr_in6 *p = (const void *)x, *q = (const void *)y;

		return p->sin6_port == q->sin6_port &&
		    memcmp(&p->sin6_addr, &q->sin6_addr, 16) == 0;
	}
	return false;
}

static bool
is_wildcard_match(const struct cfg_sockaddr *listen, const struct cfg_sockaddr *srv)
{
	/* a wildcard listen address covers every local address on its port */
	const struct sockaddr *l = (const struct sockaddr *)&listen->ss;
	const struct sockaddr *s = (const struct sockaddr *)&srv->ss;

	if (l->sa_family == AF_INET && s->sa_family == AF_INET) {
		const struct sockaddr_in *p = (const void *)l, *q = (const void *)s;

		return p->sin_addr.s_addr == htonl(INADDR_ANY) && p->sin_port == q->sin_port &&
		    (ntohl(q->sin_addr.s_addr) >> 24) == 127;
	}
	if (l->sa_family == AF_INET6 && s->sa_family == AF_INET6) {
		const struct sockaddr_in6 *p = (const void *)l, *q = (const void *)s;

		return IN6_IS_ADDR_UNSPECIFIED(&p->sin6_addr) && p->sin6_port == q->sin6_port &&
		    IN6_IS_ADDR_LOOPBACK(&q->sin6_addr);
	}
	return false;
}

bool
cfg_listens_on(const struct cfg *c, const struct cfg_sockaddr *sa)
{
	size_t i;

	for (i = 0; i < c->nlistens; i++)
		if (same_sockaddr(&c->listens[i], sa) || is_wildcard_match(&c->listens[i], sa))
			return true;
	return false;
}

bool
cfg_linklocal6(const struct cfg_sockaddr *sa)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&sa->ss;

	return sa->ss.ss_family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr);
}

/* Take the scope (zone) off an address, "fe80::1%eth0" or, with a port,
 * "[fe80::1%eth0]:53", leaving the address in s.  The scope, or NULL when
 * there is none (or it is too long to be an interface name: "" then). */
static const char *
split_scope(char *s, char *scope, size_t cap)
{
	char *pct = strchr(s, '%'), *end;
	size_t n;

	if (!pct)
		return NULL;
	end = s[0] == '[' ? strchr(pct, ']') : NULL;
	n = end ? (size_t)(end - pct - 1) : strlen(pct + 1);
	if (n < cap) {
		memcpy(scope, pct + 1, n);
		scope[n] = 0;
	} else {
		scope[0] = 0;
	}
	if (end)
		memmove(pct, end, strlen(end) + 1);
	else
		*pct = 0;
	return scope;
}

/* The adapter of a resolv-file server with a scope ("fe80::1%wlan0", as
 * NetworkManager writes router-advertised servers): one named after the
 * interface and bound to it, the scope of its link-local address.
 * STUB_EINVAL when the name cannot be an interface or names an adapter
 * bound elsewhere. */
static enum stub_err
scoped_adapter(struct cfg *c, const char *ifname, size_t *idx)
{
	long a;

	*idx = 0;
	if (!cfg_valid_name(ifname) || strlen(ifname) >= CFG_IFNAME_MAX)
		return STUB_EINVAL;
	a = cfg_adapter_find(c, ifname);
	if (a >= 0) {
		if (strcmp(c->adapters[a].device, ifname) != 0)
			return STUB_EINVAL;
		*idx = (size_t)a;
		return STUB_OK;
	}
	if (cfg_add_adapter(c, ifname, 0, idx) != STUB_OK)
		return STUB_ENOMEM;
	snprintf(c->adapters[*idx].device, sizeof(c->adapters[*idx].device), "%s", ifname);
	c->adapters[*idx].origin = ORIGIN_RESOLV_FILE;
	return STUB_OK;
}

/* resolv-file's search/domain names: search domains of its adapter
 * (SPEC 18: spared by rebinding protection; they route nothing).  Names
 * that cannot be read, and any beyond RESOLV_SEARCH_MAX, are skipped. */
#define RESOLV_SEARCH_MAX 32
static void
resolv_search(struct cfg_adapter *ad, char **w, int n)
{
	int k;

	for (k = 0; k < n && ad->nsearch < RESOLV_SEARCH_MAX; k++) {
		struct cfg_domain d;

		d.len = wire_name_from_text(w[k], d.name);
		if (d.len <= 1) /* the root: no domain */
			continue;
		wire_name_lower(d.name, d.len);
		if (cfg_grow(&ad->search, ad->nsearch, sizeof(*ad->search)) != STUB_OK)
			return;
		ad->search[ad->nsearch++] = d;
	}
}

bool
cfg_stub_addr(const struct cfg_sockaddr *sa)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&sa->ss;

	return sa->ss.ss_family == AF_INET && ntohs(in->sin_port) == DNS_PORT &&
	    ntohl(in->sin_addr.s_addr) == 0x7f000035; /* 127.0.0.53 */
}

size_t
cfg_finish(struct cfg *c, const char *resolv_text)
{
	size_t before = c->nerrors, i;
	struct cfg_sockaddr sa;

#ifdef HAVE_SYSTEMD
	/* SPEC 16: resolved-compat implies dbus yes unless a dbus line said no */
	if (c->resolved_compat && !c->dbus_set)
		c->dbus = true;
#endif
	if (c->nlistens == 0) {
		if (cfg_parse_sockaddr("127.0.0.1", DNS_PORT, &sa) == STUB_OK)
			(void)cfg_add_listen(c, &sa);
		if (cfg_parse_sockaddr("::1", DNS_PORT, &sa) == STUB_OK)
			(void)cfg_add_listen(c, &sa);
	}
	if (c->nacls == 0) {
		struct cfg_acl a;

		if (cfg_parse_acl("127.0.0.0/8", &a) == STUB_OK &&
		    cfg_grow(&c->acls, c->nacls, sizeof(*c->acls)) == STUB_OK)
			c->acls[c->nacls++] = a;
		if (cfg_parse_acl("::1/128", &a) == STUB_OK &&
		    cfg_grow(&c->acls, c->nacls, sizeof(*c->acls)) == STUB_OK)
			c->acls[c->nacls++] = a;
	}
	if (c->min_ttl > c->max_ttl)
		cfg_error(c, "config", 0, "min-ttl %u is above max-ttl %u", c->min_ttl, c->max_ttl);
	if (c->nservers == 0 && resolv_text) {
		size_t a;
		bool have_default = adapter_get(c, "default", &a) == STUB_OK;
		struct text_lines it;
		enum text_line t;
		char line[RESOLV_LINE_MAX];

		text_lines_init(&it, resolv_text, strlen(resolv_text));
		while ((t = text_next_line(&it, line, sizeof(line))) != TEXT_LINE_END) {
			char *w[CFG_MAX_WORDS], scope[CFG_IFNAME_MAX + 1];
			const char *pct;
			int n;

			if (t != TEXT_LINE_OK)
				continue;
			n = text_words(line, w, CFG_MAX_WORDS, true);
			if (n >= 2 && have_default &&
			    (strcmp(w[0], "search") == 0 || strcmp(w[0], "domain") == 0)) {
				resolv_search(&c->adapters[a], w + 1, n - 1);
				continue;
			}
			if (n < 2 || strcmp(w[0], "nameserver") != 0)
				continue;
			pct = split_scope(w[1], scope, sizeof(scope));
			if (cfg_parse_sockaddr(w[1], DNS_PORT, &sa) != STUB_OK ||
			    cfg_listens_on(c, &sa) || (c->resolved_compat && cfg_stub_addr(&sa)))
				continue;
			if (cfg_linklocal6(&sa)) {
				/* reachable only through its interface: without a
				 * scope there is no telling which */
				size_t s;

				if (pct && scoped_adapter(c, pct, &s) == STUB_OK)
					(void)cfg_add_server(c, &sa, PRIO_NORMAL, s);
				continue;
			}
			if (have_default)
				(void)cfg_add_server(c, &sa, PRIO_NORMAL, a);
		}
		c->servers_from_resolv = true;
		if (have_default)
			c->adapters[a].origin = ORIGIN_RESOLV_FILE;
	}
	for (i = 0; i < c->nservers; i++) {
		const struct cfg_adapter *ad = &c->adapters[c->servers[i].adapter];

		if (cfg_linklocal6(&c->servers[i].addr) && !ad->device[0])
			cfg_error(c, "config", ad->line,
			    "server %s: an IPv6 link-local address "
			    "needs 'device' on its adapter (%s)",
			    c->servers[i].text, ad->name);
	}
	if (encryption_apply(c) != STUB_OK)
		cfg_error(c, "config", 0, "out of memory adding encrypted twins");
	return c->nerrors - before;
}

bool
cfg_same_listens(const struct cfg *a, const struct cfg *b)
{
	return a->nlistens == b->nlistens &&
	    memcmp(a->listens, b->listens, a->nlistens * sizeof(*a->listens)) == 0;
}

bool
cfg_same_adapter(const struct cfg *old, const struct cfg *nc, size_t a)
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

bool
cfg_ad_trust_lost(const struct cfg *old, const struct cfg *nc)
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

void
cfg_print_errors(const struct cfg *c, bool to_log)
{
	const char *line = c->errors, *nl;

	if (!line)
		return;
	if (!to_log) {
		fputs(c->errors, stderr);
		return;
	}
	while ((nl = strchr(line, '\n'))) {
		log_err("%.*s", (int)(nl - line), line);
		line = nl + 1;
	}
}

void
cfg_skip_unusable_listens(const struct cfg *file, struct cfg *c, bool quiet)
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
			cfg_format_sockaddr((struct sockaddr *)&c->listens[i].ss, text,
			    sizeof(text));
			log_warn("not listening on %s: its address family is disabled on this "
			         "host (a listen line or -l with it would be an error)",
			    text);
		}
	}
	c->nlistens = n;
}
