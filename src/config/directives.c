/*
 * directives.c - the directives of stubd.conf: one row each in
 * directives[] (name, value count, parser, usage, help), the parsers, and
 * the line loop (cfg_parse_text, cfg_parse_file).
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "encryption.h"
#include "file.h"
#include "polcfg.h"
#include "text.h"

struct pstate {
	long cur_adapter; /* -1: implicit default */
	bool listen_seen, acl_seen;
};

/* Where a directive is being parsed. */
struct pctx {
	struct cfg *c;
	struct pstate *ps;
	const char *fname;
	int line;
};

/* Report an error at the current line; returns -1 for `return perr(...)`. */
static int perr(struct pctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
perr(struct pctx *x, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_error(x->c, x->fname, x->line, "%s", msg);
	return -1;
}

static long
current_adapter(struct cfg *c, struct pstate *ps)
{
	long i;
	size_t n;

	if (ps->cur_adapter >= 0)
		return ps->cur_adapter;
	i = cfg_adapter_find(c, "default");
	if (i < 0 && cfg_add_adapter(c, "default", 0, &n) == STUB_OK)
		i = (long)n;
	return i;
}

/*
 * Directive parsers: w[0] is the directive, w[1..n-1] its values (the
 * count already checked against the table).  0, or -1 after perr().
 */

static int
d_listen(struct pctx *x, char **w, int n)
{
	struct cfg_sockaddr sa;

	(void)n;
	if (cfg_parse_sockaddr(w[1], DNS_PORT, &sa) != STUB_OK)
		return perr(x, "bad listen address '%s'", w[1]);
	if (!x->ps->listen_seen) {
		x->c->nlistens = 0;
		x->ps->listen_seen = true;
	}
	if (cfg_add_listen(x->c, &sa) != STUB_OK)
		return perr(x, "out of memory");
	return 0;
}

static int
d_allow(struct pctx *x, char **w, int n)
{
	struct cfg *c = x->c;
	struct cfg_acl a;

	(void)n;
	if (cfg_parse_acl(w[1], &a) != STUB_OK)
		return perr(x, "bad address or prefix '%s'", w[1]);
	if (!x->ps->acl_seen) {
		c->nacls = 0;
		x->ps->acl_seen = true;
	}
	if (cfg_grow(&c->acls, c->nacls, sizeof(*c->acls)) != STUB_OK)
		return perr(x, "out of memory");
	c->acls[c->nacls++] = a;
	return 0;
}

static int
d_control(struct pctx *x, char **w, int n)
{
	(void)n;
	if (strcmp(w[1], "off") == 0) {
		free(x->c->control);
		x->c->control = NULL;
		return 0;
	}
	if (w[1][0] != '/' || strlen(w[1]) >= CFG_CONTROL_PATH_MAX)
		return perr(x, "control socket path must be absolute and shorter than %d bytes",
		    CFG_CONTROL_PATH_MAX);
	if (cfg_set_str(&x->c->control, w[1]) != STUB_OK)
		return perr(x, "out of memory");
	return 0;
}

static int
d_control_group(struct pctx *x, char **w, int n)
{
	(void)n;
	if (!getgrnam(w[1]))
		return perr(x, "unknown control-group '%s'", w[1]);
	if (cfg_set_str(&x->c->control_group, w[1]) != STUB_OK)
		return perr(x, "out of memory");
	return 0;
}

static int
d_hosts(struct pctx *x, char **w, int n)
{
	(void)n;
	if (cfg_set_str(&x->c->hosts, strcmp(w[1], "none") == 0 ? NULL : w[1]) != STUB_OK)
		return perr(x, "out of memory");
	return 0;
}

/* Directives that set one uint32_t field within [lo, hi]. */
struct u32_field {
	const char *name;
	size_t off;
	uint32_t lo, hi;
	const char *range; /* shown in the error, "" for none */
};

static const struct u32_field u32_fields[] = {
	{ "hosts-ttl", offsetof(struct cfg, hosts_ttl), 0, 604800, " (0..604800)" },
	{ "cache-size", offsetof(struct cfg, cache_size), 0, 50000000, " (0..50000000)" },
	{ "max-ttl", offsetof(struct cfg, max_ttl), 0, 0x7fffffff, "" },
	{ "min-ttl", offsetof(struct cfg, min_ttl), 0, 0x7fffffff, "" },
	{ "max-negative-ttl", offsetof(struct cfg, max_negative_ttl), 0, 0x7fffffff, "" },
	{ "negative-ttl", offsetof(struct cfg, negative_ttl), 0, 0x7fffffff, "" },
	{ "serve-stale", offsetof(struct cfg, serve_stale), 0, 604800, " (seconds, 0..604800)" },
	{ "max-tcp-clients", offsetof(struct cfg, max_tcp_clients), 1, 65536, " (1..65536)" },
	{ "max-inflight", offsetof(struct cfg, max_inflight), 1, 1000000, " (1..1000000)" },
};

static int
d_u32(struct pctx *x, char **w, int n)
{
	size_t i;

	(void)n;
	for (i = 0; i < sizeof(u32_fields) / sizeof(u32_fields[0]); i++) {
		const struct u32_field *f = &u32_fields[i];

		if (strcmp(f->name, w[0]) != 0)
			continue;
		if (cfg_parse_u32(w[1], f->lo, f->hi,
		        (uint32_t *)(void *)((char *)x->c + f->off)) != STUB_OK)
			return perr(x, "bad %s '%s'%s", f->name, w[1], f->range);
		return 0;
	}
	return perr(x, "unknown directive '%s'", w[0]);
}

/* SIZE: bytes, or with a K, M or G suffix (powers of 1024) */
static int
parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (CFG_CACHE_MEMORY_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int
d_cache_memory(struct pctx *x, char **w, int n)
{
	(void)n;
	if (parse_size(w[1], &x->c->cache_memory) || x->c->cache_memory < CFG_CACHE_MEMORY_MIN)
		return perr(x, "bad cache-memory '%s' (bytes with K, M or G, 64K..1024G)", w[1]);
	return 0;
}

static int
d_timeouts(struct pctx *x, char **w, int n)
{
	uint32_t t[CFG_MAX_TIMEOUTS];
	int i;

	for (i = 1; i < n; i++)
		if (cfg_parse_secs_ms(w[i], &t[i - 1], false) != STUB_OK ||
		    t[i - 1] > CFG_PHASE_MAX_MS)
			return perr(x, "bad timeout '%s' (seconds > 0, at most %d)", w[i],
			    CFG_PHASE_MAX_MS / 1000);
	memcpy(x->c->timeouts_ms, t, sizeof(t[0]) * (size_t)(n - 1));
	x->c->ntimeouts = (size_t)(n - 1);
	return 0;
}

static int
d_exclude_time(struct pctx *x, char **w, int n)
{
	(void)n;
	if (cfg_parse_secs_ms(w[1], &x->c->exclude_ms, true) != STUB_OK ||
	    x->c->exclude_ms > 86400000)
		return perr(x, "bad exclude-time '%s'", w[1]);
	return 0;
}

static int
d_mdns(struct pctx *x, char **w, int n)
{
	(void)n;
	if (strcmp(w[1], "yes") == 0)
		x->c->mdns = true;
	else if (strcmp(w[1], "no") == 0)
		x->c->mdns = false;
	else
		return perr(x, "mdns takes yes or no");
	return 0;
}

static int
d_mdns_timeout(struct pctx *x, char **w, int n)
{
	(void)n;
	if (cfg_parse_secs_ms(w[1], &x->c->mdns_timeout_ms, false) != STUB_OK ||
	    x->c->mdns_timeout_ms > 10000)
		return perr(x, "bad mdns-timeout '%s' (seconds > 0, at most 10)", w[1]);
	return 0;
}

static int
d_user(struct pctx *x, char **w, int n)
{
	(void)n;
	/* checked here so that -t and reload say so, not only the start */
	if (!getpwnam(w[1]))
		return perr(x, "unknown user '%s'", w[1]);
	if (cfg_set_str(&x->c->user, w[1]) != STUB_OK)
		return perr(x, "out of memory");
	return 0;
}

static int
d_upstream_0x20(struct pctx *x, char **w, int n)
{
	(void)n;
	if (strcmp(w[1], "yes") == 0)
		x->c->upstream_0x20 = true;
	else if (strcmp(w[1], "no") == 0)
		x->c->upstream_0x20 = false;
	else
		return perr(x, "upstream-0x20 takes yes or no");
	return 0;
}

static int
d_resolv_file(struct pctx *x, char **w, int n)
{
	(void)n;
	if (cfg_set_str(&x->c->resolv_file, w[1]) != STUB_OK)
		return perr(x, "out of memory");
	return 0;
}

/* SPEC 16: resolved-compat yes implies dbus yes, unless a dbus line says
 * otherwise (cfg_finish). */
static int
d_resolved_compat(struct pctx *x, char **w, int n)
{
	(void)n;
	if (strcmp(w[1], "yes") == 0)
		x->c->resolved_compat = true;
	else if (strcmp(w[1], "no") == 0)
		x->c->resolved_compat = false;
	else
		return perr(x, "resolved-compat takes yes or no");
	return 0;
}

static int
d_dbus(struct pctx *x, char **w, int n)
{
	(void)n;
	if (strcmp(w[1], "yes") == 0)
		x->c->dbus = true;
	else if (strcmp(w[1], "no") == 0)
		x->c->dbus = false;
	else
		return perr(x, "dbus takes yes or no");
	x->c->dbus_set = true;
#ifndef HAVE_SYSTEMD
	if (x->c->dbus)
		return perr(x, "dbus: stubd was built without D-Bus support (libsystemd)");
#endif
	return 0;
}

static int
d_cache_file(struct pctx *x, char **w, int n)
{
	(void)n;
	if (strcmp(w[1], "none") == 0)
		return cfg_set_str(&x->c->cache_file, NULL) != STUB_OK ? perr(x, "out of memory") :
		                                                         0;
	if (w[1][0] != '/')
		return perr(x, "cache-file must be an absolute path (or none)");
	if (cfg_set_str(&x->c->cache_file, w[1]) != STUB_OK)
		return perr(x, "out of memory");
	return 0;
}

static int
d_prefetch(struct pctx *x, char **w, int n)
{
	(void)n;
	if (strcmp(w[1], "yes") == 0)
		x->c->prefetch = true;
	else if (strcmp(w[1], "no") == 0)
		x->c->prefetch = false;
	else
		return perr(x, "prefetch takes yes or no");
	return 0;
}

static int
d_resolvconf_dir(struct pctx *x, char **w, int n)
{
	(void)n;
	if (w[1][0] != '/')
		return perr(x, "resolvconf-dir must be an absolute path");
	if (cfg_set_str(&x->c->resolvconf_dir, w[1]) != STUB_OK)
		return perr(x, "out of memory");
	return 0;
}

static int
adapter_option(struct pctx *x, struct cfg_adapter *a, const char *opt, const char *val)
{
	if (strcmp(opt, "device") == 0) {
		if (!cfg_valid_name(val) || strlen(val) >= CFG_IFNAME_MAX)
			return perr(x, "bad device name '%s'", val);
		snprintf(a->device, sizeof(a->device), "%s", val);
	} else if (strcmp(opt, "source") == 0) {
		struct cfg_sockaddr sa;

		if (cfg_parse_sockaddr(val, 0, &sa) != STUB_OK || strchr(val, ']'))
			return perr(x, "bad source address '%s'", val);
		a->source = sa;
	} else if (strcmp(opt, "metric") == 0) {
		uint32_t m;

		if (cfg_parse_u32(val, 0, 1000000, &m) != STUB_OK)
			return perr(x, "bad metric '%s' (0..1000000)", val);
		a->metric = (int)m;
	} else if (strcmp(opt, "default-route") == 0) {
		if (strcmp(val, "yes") == 0)
			a->default_route = true;
		else if (strcmp(val, "no") == 0)
			a->default_route = false;
		else
			return perr(x, "default-route takes yes or no");
	} else if (strcmp(opt, "encryption") == 0) {
		int e = cfg_encryption_parse(val);

		if (e < 0)
			return perr(x, "encryption takes off, auto, opportunistic or require");
		a->encryption = (enum cfg_encryption)e;
	} else {
		return perr(x,
		    "unknown adapter option '%s' (device, source, metric, default-route, "
		    "encryption)",
		    opt);
	}
	return 0;
}

static int
d_adapter(struct pctx *x, char **w, int n)
{
	struct cfg *c = x->c;
	long idx;
	size_t added;
	int i;

	if (!cfg_valid_name(w[1]))
		return perr(x, "bad adapter name '%s'", w[1]);
	idx = cfg_adapter_find(c, w[1]);
	if (idx >= 0) {
		if (c->adapters[idx].line > 0)
			return perr(x, "duplicate adapter '%s' (first defined on line %d)", w[1],
			    c->adapters[idx].line);
		return perr(x, "duplicate adapter '%s' (its servers come earlier)", w[1]);
	}
	if (cfg_add_adapter(c, w[1], x->line, &added) != STUB_OK)
		return perr(x, "out of memory");
	idx = (long)added;
	x->ps->cur_adapter = idx;
	for (i = 2; i < n; i += 2) {
		if (i + 1 >= n)
			return perr(x, "adapter option '%s' needs a value", w[i]);
		if (adapter_option(x, &c->adapters[idx], w[i], w[i + 1]))
			return -1;
	}
	return 0;
}

/* A DNS host name as a TLS peer is named: labels of letters, digits, '-'
 * and '_', 1..63 bytes each, 253 at most, or an IP address literal. */
static bool
valid_host(const char *h)
{
	size_t n = strlen(h), lab = 0, i;

	if (n == 0 || n >= CFG_HOST_MAX - 1)
		return false;
	for (i = 0; i < n; i++) {
		char ch = h[i];

		if (ch == '.') {
			if (lab == 0)
				return false;
			lab = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == ':'))
			return false;
		if (++lab > 63)
			return false;
	}
	return true;
}

/* "https://HOST[:PORT]/PATH" into host, port (0 = none) and path. */
static int
parse_https_url(const char *url, char *host, uint16_t *port, char *path)
{
	const char *p = url + strlen("https://"), *slash, *colon;
	size_t hl;

	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	colon = memchr(p, ':', (size_t)(slash - p));
	hl = (size_t)((colon ? colon : slash) - p);
	if (hl == 0 || hl >= CFG_HOST_MAX)
		return -1;
	memcpy(host, p, hl);
	host[hl] = '\0';
	*port = 0;
	if (colon) {
		char num[8];
		size_t nl = (size_t)(slash - colon - 1);
		uint32_t v;

		if (nl == 0 || nl >= sizeof(num))
			return -1;
		memcpy(num, colon + 1, nl);
		num[nl] = '\0';
		if (cfg_parse_u32(num, 1, 65535, &v) != STUB_OK)
			return -1;
		*port = (uint16_t)v;
	}
	if (*slash == '\0')
		slash = "/dns-query";
	if (strlen(slash) >= CFG_URLPATH_MAX || strpbrk(slash, " \t\"#?"))
		return -1;
	snprintf(path, CFG_URLPATH_MAX, "%s", slash);
	return valid_host(host) ? 0 : -1;
}

static bool
has_port(const char *addr)
{
	const char *rb = strchr(addr, ']');

	if (addr[0] == '[')
		return rb && rb[1] == ':';
	return strchr(addr, ':') && strchr(addr, ':') == strrchr(addr, ':');
}

static void
set_port(struct cfg_sockaddr *sa, uint16_t port)
{
	if (sa->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&sa->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&sa->ss)->sin6_port = htons(port);
}

/*
 * server ADDR[:PORT] [tls [NAME] [pin B64]... [insecure]] [trust-ad]
 *        [priority first|normal|last] [no-0x20]
 * server https://HOST[:PORT]/PATH ADDR[:PORT] [pin B64]... [insecure] ...
 */
/* server's first words: the transport (plain, `tls [NAME]`, or an https
 * URL and then the address), the address and its default port.  The index
 * of the first option word into *next. */
static int
server_endpoint(struct pctx *x, char **w, int n, struct cfg_server *sv, int *next)
{
	const char *addr = w[1];
	uint16_t urlport = 0;
	int i = 2;

	if (strncmp(w[1], "https://", 8) == 0) {
		sv->transport = XPORT_HTTPS;
		if (parse_https_url(w[1], sv->auth_name, &urlport, sv->path))
			return perr(x, "bad https URL '%s' (https://HOST[:PORT]/PATH)", w[1]);
		if (n < 3)
			return perr(x,
			    "an https server needs the address to connect to "
			    "(server %s ADDR)",
			    w[1]);
		addr = w[2];
		i = 3;
	} else if (n > 2 && strcmp(w[2], "tls") == 0) {
		sv->transport = XPORT_TLS;
		i = 3;
		if (i < n && strcmp(w[i], "pin") && strcmp(w[i], "insecure") &&
		    strcmp(w[i], "priority") && strcmp(w[i], "no-0x20") &&
		    strcmp(w[i], "trust-ad")) {
			if (!valid_host(w[i]))
				return perr(x, "bad tls name '%s'", w[i]);
			snprintf(sv->auth_name, sizeof(sv->auth_name), "%s", w[i]);
			i++;
		}
	}
	if (cfg_parse_sockaddr(addr, DNS_PORT, &sv->addr) != STUB_OK)
		return perr(x, "bad server address '%s'", addr);
	if (!has_port(addr) && sv->transport != XPORT_UDP)
		set_port(&sv->addr, urlport ? urlport : cfg_transport_port(sv->transport));
	*next = i;
	return 0;
}

/* server's option words from w[i] on, then the checks across them. */
static int
server_options(struct pctx *x, char **w, int i, int n, struct cfg_server *sv)
{
	for (; i < n; i++) {
		if (strcmp(w[i], "no-0x20") == 0) {
			sv->no_0x20 = true;
		} else if (strcmp(w[i], "trust-ad") == 0) {
			sv->trust_ad = true;
		} else if (strcmp(w[i], "insecure") == 0 && sv->transport != XPORT_UDP) {
			sv->insecure = true;
		} else if (strcmp(w[i], "pin") == 0 && sv->transport != XPORT_UDP) {
			if (i + 1 >= n)
				return perr(x, "'pin' needs a base64 SHA-256 of the server's key");
			i++;
			if (sv->npins >= CFG_MAX_PINS)
				return perr(x, "at most %d pins per server", CFG_MAX_PINS);
			if (text_base64(w[i], sv->pins[sv->npins], CFG_PIN_LEN) != CFG_PIN_LEN)
				return perr(x, "bad pin '%s' (base64 of a 32-byte SHA-256)", w[i]);
			sv->npins++;
		} else if (strcmp(w[i], "priority") == 0) {
			if (i + 1 >= n)
				return perr(x, "'priority' needs first, normal or last");
			i++;
			if (strcmp(w[i], "first") == 0)
				sv->prio = PRIO_FIRST;
			else if (strcmp(w[i], "last") == 0)
				sv->prio = PRIO_LAST;
			else if (strcmp(w[i], "normal") == 0)
				sv->prio = PRIO_NORMAL;
			else
				return perr(x, "bad priority '%s' (first, normal, last)", w[i]);
		} else if (sv->transport == XPORT_UDP &&
		    (strcmp(w[i], "pin") == 0 || strcmp(w[i], "insecure") == 0)) {
			return perr(x, "'%s' applies to tls and https servers only", w[i]);
		} else {
			return perr(x,
			    "unknown server option '%s' (tls, pin, insecure, trust-ad, "
			    "priority, no-0x20)",
			    w[i]);
		}
	}
	if (sv->transport == XPORT_TLS && !sv->auth_name[0] && !sv->npins && !sv->insecure)
		return perr(x, "a tls server needs a NAME, a pin or 'insecure' (RFC 8310)");
	if (sv->insecure && sv->npins)
		return perr(x, "'insecure' and 'pin' exclude each other");
	return 0;
}

static int
d_server(struct pctx *x, char **w, int n)
{
	struct cfg *c = x->c;
	struct cfg_server sv;
	long a;
	int i = 2, rc;

	memset(&sv, 0, sizeof(sv));
	sv.prio = PRIO_NORMAL;
	if ((rc = server_endpoint(x, w, n, &sv, &i)) != 0 ||
	    (rc = server_options(x, w, i, n, &sv)) != 0)
		return rc;
	a = current_adapter(c, x->ps);
	if (a < 0 || cfg_add_server(c, &sv.addr, sv.prio, (size_t)a) != STUB_OK)
		return perr(x, "out of memory");
	sv.adapter = (size_t)a;
	memcpy(sv.text, c->servers[c->nservers - 1].text, sizeof(sv.text));
	c->servers[c->nservers - 1] = sv;
	return 0;
}

/* encryption off|auto|opportunistic|require (SPEC 17) */
static int
d_encryption(struct pctx *x, char **w, int n)
{
	int e = cfg_encryption_parse(w[1]);

	(void)n;
	if (e < 0)
		return perr(x, "encryption takes off, auto, opportunistic or require");
	x->c->encryption = (enum cfg_encryption)e;
	return 0;
}

/* encryption-template ADDR tls NAME | ADDR https://HOST[:PORT]/PATH; a
 * later one for the same address replaces the earlier */
static int
d_encryption_template(struct pctx *x, char **w, int n)
{
	struct cfg *c = x->c;
	struct cfg_template t;
	char why[160];
	size_t i;

	if (encryption_template_parse(w, n, &t, why, sizeof(why)) != STUB_OK)
		return perr(x, "%s", why);
	for (i = 0; i < c->ntemplates; i++)
		if (c->templates[i].addr.len == t.addr.len &&
		    memcmp(&c->templates[i].addr.ss, &t.addr.ss, t.addr.len) == 0)
			break;
	if (i == CFG_MAX_TEMPLATES)
		return perr(x, "at most %d encryption-template lines", CFG_MAX_TEMPLATES);
	c->templates[i] = t;
	if (i == c->ntemplates)
		c->ntemplates++;
	return 0;
}

/* dnr PRIORITY NAME ADDR[,ADDR] alpn=dot,h2 [port=N] [dohpath=PATH]: an
 * encrypted resolver of the current adapter's network (RFC 9463) */
static int
d_dnr(struct pctx *x, char **w, int n)
{
	struct cfg *c = x->c;
	struct cfg_dnr d;
	char why[160];
	long a;

	if (encryption_dnr_parse(w + 1, n - 1, &d, why, sizeof(why)) != STUB_OK)
		return perr(x, "%s", why);
	if (c->ndnr == CFG_MAX_DNR)
		return perr(x, "at most %d dnr lines", CFG_MAX_DNR);
	a = current_adapter(c, x->ps);
	if (a < 0 || cfg_grow(&c->dnr, c->ndnr, sizeof(*c->dnr)) != STUB_OK)
		return perr(x, "out of memory");
	d.adapter = (size_t)a;
	c->dnr[c->ndnr++] = d;
	return 0;
}

static int
d_metrics(struct pctx *x, char **w, int n)
{
	struct cfg_sockaddr sa;

	(void)n;
	if (strcmp(w[1], "off") == 0) {
		memset(&x->c->metrics, 0, sizeof(x->c->metrics));
		return 0;
	}
	if (cfg_parse_sockaddr(w[1], 0, &sa) != STUB_OK ||
	    ((const struct sockaddr_in *)&sa.ss)->sin_port == 0)
		return perr(x, "bad metrics address '%s' (ADDR:PORT, e.g. 127.0.0.1:9153, or off)",
		    w[1]);
	x->c->metrics = sa;
	return 0;
}

static int
d_tls_ca(struct pctx *x, char **w, int n)
{
	(void)n;
	if (w[1][0] != '/')
		return perr(x, "tls-ca must be an absolute path");
	if (cfg_set_str(&x->c->tls_ca, w[1]) != STUB_OK)
		return perr(x, "out of memory");
	return 0;
}

static int
d_domain(struct pctx *x, char **w, int n)
{
	struct cfg_adapter *ad;
	struct cfg_domain dom;
	long a;

	(void)n;
	dom.len = wire_name_from_text(w[1], dom.name);
	if (dom.len == 0)
		return perr(x, "bad domain '%s'", w[1]);
	wire_name_lower(dom.name, dom.len);
	a = current_adapter(x->c, x->ps);
	if (a < 0)
		return perr(x, "out of memory");
	ad = &x->c->adapters[a];
	if (cfg_grow(&ad->domains, ad->ndomains, sizeof(*ad->domains)) != STUB_OK)
		return perr(x, "out of memory");
	ad->domains[ad->ndomains++] = dom;
	return 0;
}

/*
 * Every directive of stubd.conf, one row each.  Adding one: a row here,
 * its field in struct cfg, its entry in stubd.conf.5 and the sample
 * (check_config verifies the last two).
 */
/* SPEC 18: the local policy (polcfg.c keeps it) */
static int
d_rule(struct pctx *x, char **w, int n)
{
	struct polcfg *pc = polcfg_get(&x->c->policy);
	char why[256];

	if (!pc)
		return perr(x, "out of memory");
	if (polcfg_add_rule(pc, w + 1, n - 1, x->fname, (unsigned)x->line, why, sizeof(why)) !=
	    STUB_OK)
		return perr(x, "%s", why);
	return 0;
}

static int
d_list(struct pctx *x, char **w, int n)
{
	struct polcfg *pc = polcfg_get(&x->c->policy);
	bool allow = strcmp(w[0], "allowlist") == 0;
	enum pol_action action = POL_ACT_DEFAULT;
	const char *name = NULL;
	int format = -1, i;

	if (!pc)
		return perr(x, "out of memory");
	for (i = 2; i < n; i += 2) {
		if (i + 1 >= n)
			return perr(x, "'%s' needs a value", w[i]);
		if (strcmp(w[i], "format") == 0) {
			format = blocklist_format_from_name(w[i + 1]);
			if (format < 0)
				return perr(x,
				    "unknown list format '%s' "
				    "(hosts, domains, wildcard, adblock, rpz)",
				    w[i + 1]);
		} else if (strcmp(w[i], "name") == 0) {
			/* a metrics label: short, plain */
			name = w[i + 1];
			if (strlen(name) > 63 ||
			    strspn(name,
			        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			        "0123456789._-") != strlen(name))
				return perr(x,
				    "a list's name is 1-63 letters, digits, '.', '_', '-'");
		} else if (strcmp(w[i], "action") == 0 && !allow) {
			action = policy_action_from_name(w[i + 1]);
			if (action == POL_ACT_DEFAULT)
				return perr(x, "action takes nxdomain, nodata or null");
		} else {
			return perr(x, "unknown %s option '%s'", w[0], w[i]);
		}
	}
	if (polcfg_add_list(pc, w[1], format, action, allow) != STUB_OK ||
	    (name && !(pc->lists[pc->nlists - 1].name = strdup(name))))
		return perr(x, "out of memory");
	return 0;
}

static int
d_blocklist_action(struct pctx *x, char **w, int n)
{
	struct polcfg *pc = polcfg_get(&x->c->policy);
	enum pol_action a = policy_action_from_name(w[1]);

	(void)n;
	if (!pc)
		return perr(x, "out of memory");
	if (a == POL_ACT_DEFAULT)
		return perr(x, "blocklist-action takes nxdomain, nodata or null");
	pc->block_action = a;
	return 0;
}

static int
d_rebind_protection(struct pctx *x, char **w, int n)
{
	struct polcfg *pc = polcfg_get(&x->c->policy);

	(void)n;
	if (!pc)
		return perr(x, "out of memory");
	if (strcmp(w[1], "yes") == 0)
		pc->rebind_protection = true;
	else if (strcmp(w[1], "no") == 0)
		pc->rebind_protection = false;
	else
		return perr(x, "rebind-protection takes yes or no");
	return 0;
}

static const struct cfg_directive directives[] = {
	{ "listen", 1, 1, d_listen, "listen ADDR[:PORT]", "listen address, repeatable" },
	{ "allow", 1, 1, d_allow, "allow ADDR[/PREFIX]", "client ACL, repeatable" },
	{ "control", 1, 1, d_control, "control PATH|off", "control socket" },
	{ "control-group", 1, 1, d_control_group, "control-group GROUP",
	    "group that may use the control socket" },
	{ "hosts", 1, 1, d_hosts, "hosts FILE|none", "hosts file" },
	{ "hosts-ttl", 1, 1, d_u32, "hosts-ttl SECONDS", "TTL of hosts answers" },
	{ "cache-size", 1, 1, d_u32, "cache-size ENTRIES", "most cached answers" },
	{ "cache-memory", 1, 1, d_cache_memory, "cache-memory SIZE",
	    "most bytes cached answers take (K, M, G)" },
	{ "max-ttl", 1, 1, d_u32, "max-ttl SECONDS", "cap on positive TTLs" },
	{ "min-ttl", 1, 1, d_u32, "min-ttl SECONDS", "floor on positive TTLs" },
	{ "max-negative-ttl", 1, 1, d_u32, "max-negative-ttl SECONDS", "cap on negative TTLs" },
	{ "negative-ttl", 1, 1, d_u32, "negative-ttl SECONDS",
	    "lifetime of negative answers without SOA" },
	{ "timeouts", 1, CFG_MAX_TIMEOUTS, d_timeouts, "timeouts SECONDS...", "retry schedule" },
	{ "exclude-time", 1, 1, d_exclude_time, "exclude-time SECONDS",
	    "how long a failed server or adapter is skipped" },
	{ "serve-stale", 1, 1, d_u32, "serve-stale SECONDS", "RFC 8767, 0 = off" },
	{ "max-tcp-clients", 1, 1, d_u32, "max-tcp-clients N", "concurrent TCP clients" },
	{ "max-inflight", 1, 1, d_u32, "max-inflight N", "concurrent upstream searches" },
	{ "user", 1, 1, d_user, "user USER", "drop privileges to USER" },
	{ "upstream-0x20", 1, 1, d_upstream_0x20, "upstream-0x20 yes|no",
	    "randomise the case of upstream questions" },
	{ "resolv-file", 1, 1, d_resolv_file, "resolv-file FILE",
	    "upstream servers when no server lines exist" },
	{ "adapter", 1, CFG_MAX_WORDS - 1, d_adapter,
	    "adapter NAME [device IFACE] [source ADDR] [metric N] [default-route yes|no] "
	    "[encryption off|auto|opportunistic|require]",
	    "start an adapter" },
	{ "resolvconf-dir", 1, 1, d_resolvconf_dir, "resolvconf-dir DIR",
	    "one adapter per interface file of resolvconf" },
	{ "cache-file", 1, 1, d_cache_file, "cache-file FILE|none",
	    "the cache kept across restarts" },
	{ "prefetch", 1, 1, d_prefetch, "prefetch yes|no",
	    "refresh popular answers before they expire" },
	{ "dbus", 1, 1, d_dbus, "dbus yes|no", "serve org.freedesktop.resolve1 on the system bus" },
	{ "resolved-compat", 1, 1, d_resolved_compat, "resolved-compat yes|no",
	    "take systemd-resolved's place: varlink io.systemd.Resolve; implies dbus yes" },
	{ "server", 1, CFG_MAX_WORDS - 1, d_server,
	    "server ADDR[:PORT] [tls [NAME] [pin B64]... [insecure]] [trust-ad] "
	    "[priority first|last] [no-0x20] | server https://HOST[:PORT]/PATH ADDR[:PORT] ...",
	    "upstream server" },
	{ "tls-ca", 1, 1, d_tls_ca, "tls-ca FILE", "trust store of tls and https servers" },
	{ "metrics", 1, 1, d_metrics, "metrics ADDR:PORT|off",
	    "Prometheus metrics over HTTP (GET /metrics)" },
	{ "domain", 1, 1, d_domain, "domain NAME", "routing domain of the adapter" },
	{ "mdns", 1, 1, d_mdns, "mdns yes|no",
	    "ask .local and link-local reverse names by multicast DNS" },
	{ "mdns-timeout", 1, 1, d_mdns_timeout, "mdns-timeout SECONDS",
	    "no multicast DNS answer within this: NXDOMAIN" },
	{ "encryption", 1, 1, d_encryption, "encryption off|auto|opportunistic|require",
	    "upgrade clear-text servers to their encrypted twins" },
	{ "encryption-template", 2, 3, d_encryption_template,
	    "encryption-template ADDR tls NAME | encryption-template ADDR https://URL",
	    "the encrypted twin of a clear-text server's address" },
	{ "dnr", 4, 6, d_dnr, "dnr PRIORITY NAME ADDR[,ADDR] alpn=dot,h2 [port=N] [dohpath=PATH]",
	    "an encrypted resolver of the adapter's network (DNR), authenticated by NAME" },
	{ "rule", 2, CFG_MAX_WORDS - 1, d_rule,
	    "rule NAME adapter A...|require encryption|require ad|answer TYPE DATA|"
	    "block [nxdomain|nodata|null]|allow",
	    "local policy for NAME and the names under it" },
	{ "blocklist", 1, 7, d_list,
	    "blocklist FILE [format hosts|domains|wildcard|adblock|rpz] "
	    "[action nxdomain|nodata|null] [name NAME]",
	    "names to block, repeatable" },
	{ "allowlist", 1, 5, d_list,
	    "allowlist FILE [format hosts|domains|wildcard|adblock|rpz] [name NAME]",
	    "names exempt from blocking and rebinding protection, repeatable" },
	{ "blocklist-action", 1, 1, d_blocklist_action, "blocklist-action nxdomain|nodata|null",
	    "answer to blocked names" },
	{ "rebind-protection", 1, 1, d_rebind_protection, "rebind-protection yes|no",
	    "strip private addresses from public names' answers" },
};

const struct cfg_directive *
cfg_directives(size_t *n)
{
	*n = sizeof(directives) / sizeof(directives[0]);
	return directives;
}

static void
parse_line(struct pctx *x, char **w, int n)
{
	size_t i, nd = sizeof(directives) / sizeof(directives[0]);
	const struct cfg_directive *d = NULL;
	int nvals = n - 1;

	for (i = 0; i < nd && !d; i++)
		if (strcmp(directives[i].name, w[0]) == 0)
			d = &directives[i];
	if (!d) {
		perr(x, "unknown directive '%s'", w[0]);
		return;
	}
	if (nvals < d->min_args || nvals > d->max_args) {
		if (d->min_args == 1 && d->max_args == 1)
			perr(x, "'%s' takes one value", d->name);
		else
			perr(x, "usage: %s", d->usage);
		return;
	}
	d->parse(x, w, n);
}

size_t
cfg_parse_text(struct cfg *c, const char *text, size_t len, const char *fname)
{
	struct pstate ps = { .cur_adapter = -1 };
	struct pctx x = { c, &ps, fname, 0 };
	size_t before = c->nerrors;
	struct text_lines it;
	enum text_line t;
	char buf[CFG_LINE_MAX];

	text_lines_init(&it, text, len);
	while ((t = text_next_line(&it, buf, sizeof(buf))) != TEXT_LINE_END) {
		char *w[CFG_MAX_WORDS];
		int n;

		x.line = (int)it.lineno;
		if (t != TEXT_LINE_OK) {
			perr(&x, t == TEXT_LINE_LONG ? "line too long" : "NUL byte in line");
			continue;
		}
		n = text_words(buf, w, CFG_MAX_WORDS, true);
		if (n < 0) {
			perr(&x, "too many words");
			continue;
		}
		if (n > 0)
			parse_line(&x, w, n);
	}
	return c->nerrors - before;
}

size_t
cfg_parse_file(struct cfg *c, const char *path, bool missing_ok)
{
	char *text;
	size_t len, n;

	if (file_read(path, &text, &len) != 0) {
		if (missing_ok && errno == ENOENT)
			return 0;
		cfg_error(c, path, 0, "%s", strerror(errno));
		return 1;
	}
	n = cfg_parse_text(c, text, len, path);
	free(text);
	return n;
}
