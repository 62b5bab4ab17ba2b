/*
 * config.c - parse stubd.conf into struct cfg.
 */
#include "auto-config.h"

#include "config.h"

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

#include "err.h"
#include "file.h"
#include "text.h"

#define RESOLV_LINE_MAX 256


static void
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
	c->serve_stale = 0;
	c->max_tcp_clients = 256;
	c->max_inflight = 4096;
	if (!c->resolv_file || (control_default && !c->control) ||
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
	for (i = 0; i < c->nadapters; i++)
		free(c->adapters[i].domains);
	free(c->adapters);
	free(c->servers);
	free(c->errors);
	free(c);
}

static int
dup_array(void *dst, const void *src, size_t n, size_t size)
{
	void **d = dst;

	*d = NULL;
	if (n == 0)
		return 0;
	*d = malloc(n * size);
	if (!*d)
		return -1;
	memcpy(*d, src, n * size);
	return 0;
}

static int
dup_str(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -1 : 0;
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
	n->errors = NULL;
	n->nerrors = 0;
	n->listens = NULL;
	n->acls = NULL;
	n->control = n->control_group = n->hosts = n->user = n->resolv_file = NULL;
	n->resolvconf_dir = NULL;
	n->adapters = NULL;
	n->servers = NULL;
	n->nadapters = 0;
	if (dup_array(&n->listens, c->listens, c->nlistens, sizeof(*c->listens)) ||
	    dup_array(&n->acls, c->acls, c->nacls, sizeof(*c->acls)) ||
	    dup_array(&n->servers, c->servers, c->nservers, sizeof(*c->servers)) ||
	    dup_str(&n->control, c->control) || dup_str(&n->control_group, c->control_group) ||
	    dup_str(&n->hosts, c->hosts) || dup_str(&n->user, c->user) ||
	    dup_str(&n->resolv_file, c->resolv_file) ||
	    dup_str(&n->resolvconf_dir, c->resolvconf_dir) ||
	    dup_array(&n->adapters, c->adapters, c->nadapters, sizeof(*c->adapters)))
		goto fail;
	for (i = 0; i < c->nadapters; i++) {
		n->adapters[i].domains = NULL;
		n->nadapters = i + 1;
		if (dup_array(&n->adapters[i].domains, c->adapters[i].domains,
		    c->adapters[i].ndomains, sizeof(*c->adapters[i].domains)))
			goto fail;
	}
	return n;
fail:
	if (!n->adapters)
		n->nadapters = 0;
	cfg_unref(n);
	return NULL;
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

struct cfg *
cfg_ref(struct cfg *c)
{
	if (c)
		c->refs++;
	return c;
}

static int
grow(void *pp, size_t n, size_t size)
{
	void **p = pp;
	void *q = realloc(*p, (n + 1) * size);

	if (!q)
		return -1;
	*p = q;
	return 0;
}

int
cfg_parse_sockaddr(const char *s, uint16_t defport, struct cfg_sockaddr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL;
	unsigned long p = defport;
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return -1;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e || (size_t)(e - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = 0;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1] != 0)
			return -1;
	} else {
		const char *colon = strchr(s, ':');

		if (colon && strchr(colon + 1, ':')) {
			/* bare IPv6 without port */
			if (strlen(s) >= sizeof(host))
				return -1;
			strcpy(host, s);
		} else {
			size_t hl = colon ? (size_t)(colon - s) : strlen(s);

			if (hl >= sizeof(host))
				return -1;
			memcpy(host, s, hl);
			host[hl] = 0;
			if (colon)
				port = colon + 1;
		}
	}
	if (port) {
		char *end;

		if (!*port || *port == '-' || *port == '+')
			return -1;
		errno = 0;
		p = strtoul(port, &end, 10);
		if (errno || *end || p == 0 || p > 65535)
			return -1;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		out->len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		out->len = sizeof(*sin6);
		return 0;
	}
	return -1;
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

static int
parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* seconds with optional decimals -> ms; 0 < v <= 3600 */
static int
parse_secs_ms(const char *s, uint32_t *ms, bool zero_ok)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > 86400)
		return -1;
	if (!zero_ok && v < 0.001)
		return -1;
	*ms = (uint32_t)llround(v * 1000.0);
	return 0;
}

static int
parse_acl(const char *s, struct cfg_acl *a)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	uint32_t prefix;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, a->addr) == 1) {
		a->family = AF_INET;
		prefix = 32;
		if (slash && parse_u32(slash, 0, 32, &prefix))
			return -1;
	} else if (inet_pton(AF_INET6, buf, a->addr) == 1) {
		a->family = AF_INET6;
		prefix = 128;
		if (slash && parse_u32(slash, 0, 128, &prefix))
			return -1;
	} else {
		return -1;
	}
	a->prefix = prefix;
	return 0;
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

static bool
valid_name(const char *s)
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

static long
add_adapter(struct cfg *c, const char *name, int line)
{
	struct cfg_adapter *a;

	if (grow(&c->adapters, c->nadapters, sizeof(*c->adapters)))
		return -1;
	a = &c->adapters[c->nadapters];
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->line = line;
	a->default_route = true;
	return (long)c->nadapters++;
}

static int
add_server(struct cfg *c, const struct cfg_sockaddr *sa, enum cfg_prio prio, size_t adapter)
{
	struct cfg_server *s;

	if (grow(&c->servers, c->nservers, sizeof(*c->servers)))
		return -1;
	s = &c->servers[c->nservers++];
	memset(s, 0, sizeof(*s));
	s->addr = *sa;
	s->prio = prio;
	s->adapter = adapter;
	cfg_format_sockaddr((const struct sockaddr *)&sa->ss, s->text, sizeof(s->text));
	return 0;
}

static int
add_listen(struct cfg *c, const struct cfg_sockaddr *sa)
{
	if (grow(&c->listens, c->nlistens, sizeof(*c->listens)))
		return -1;
	c->listens[c->nlistens++] = *sa;
	return 0;
}

static int
set_str(char **dst, const char *v)
{
	char *n = v ? strdup(v) : NULL;

	if (v && !n)
		return -1;
	free(*dst);
	*dst = n;
	return 0;
}

struct pstate {
	long cur_adapter;     /* -1: implicit default */
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
static int
perr(struct pctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

	if (ps->cur_adapter >= 0)
		return ps->cur_adapter;
	i = cfg_adapter_find(c, "default");
	if (i < 0)
		i = add_adapter(c, "default", 0);
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
	if (cfg_parse_sockaddr(w[1], DNS_PORT, &sa))
		return perr(x, "bad listen address '%s'", w[1]);
	if (!x->ps->listen_seen) {
		x->c->nlistens = 0;
		x->ps->listen_seen = true;
	}
	if (add_listen(x->c, &sa))
		return perr(x, "out of memory");
	return 0;
}

static int
d_allow(struct pctx *x, char **w, int n)
{
	struct cfg *c = x->c;
	struct cfg_acl a;

	(void)n;
	if (parse_acl(w[1], &a))
		return perr(x, "bad address or prefix '%s'", w[1]);
	if (!x->ps->acl_seen) {
		c->nacls = 0;
		x->ps->acl_seen = true;
	}
	if (grow(&c->acls, c->nacls, sizeof(*c->acls)))
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
	if (set_str(&x->c->control, w[1]))
		return perr(x, "out of memory");
	return 0;
}

static int
d_control_group(struct pctx *x, char **w, int n)
{
	(void)n;
	if (set_str(&x->c->control_group, w[1]))
		return perr(x, "out of memory");
	return 0;
}

static int
d_hosts(struct pctx *x, char **w, int n)
{
	(void)n;
	if (set_str(&x->c->hosts, strcmp(w[1], "none") == 0 ? NULL : w[1]))
		return perr(x, "out of memory");
	return 0;
}

/* Directives that set one uint32_t field within [lo, hi]. */
struct u32_field {
	const char *name;
	size_t off;
	uint32_t lo, hi;
	const char *range;    /* shown in the error, "" for none */
};

static const struct u32_field u32_fields[] = {
	{ "hosts-ttl", offsetof(struct cfg, hosts_ttl), 0, 604800, " (0..604800)" },
	{ "cache-size", offsetof(struct cfg, cache_size), 0, 50000000, " (0..50000000)" },
	{ "max-ttl", offsetof(struct cfg, max_ttl), 0, 0x7fffffff, "" },
	{ "min-ttl", offsetof(struct cfg, min_ttl), 0, 0x7fffffff, "" },
	{ "max-negative-ttl", offsetof(struct cfg, max_negative_ttl), 0, 0x7fffffff, "" },
	{ "negative-ttl", offsetof(struct cfg, negative_ttl), 0, 0x7fffffff, "" },
	{ "serve-stale", offsetof(struct cfg, serve_stale), 0, 604800,
	  " (seconds, 0..604800)" },
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
		if (parse_u32(w[1], f->lo, f->hi, (uint32_t *)(void *)((char *)x->c + f->off)))
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
		if (parse_secs_ms(w[i], &t[i - 1], false) || t[i - 1] > CFG_PHASE_MAX_MS)
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
	if (parse_secs_ms(w[1], &x->c->exclude_ms, true) || x->c->exclude_ms > 86400000)
		return perr(x, "bad exclude-time '%s'", w[1]);
	return 0;
}

static int
d_user(struct pctx *x, char **w, int n)
{
	(void)n;
	if (set_str(&x->c->user, w[1]))
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
	if (set_str(&x->c->resolv_file, w[1]))
		return perr(x, "out of memory");
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
#ifndef HAVE_SYSTEMD
	if (x->c->dbus)
		return perr(x, "dbus: stubd was built without D-Bus support (libsystemd)");
#endif
	return 0;
}

static int
d_resolvconf_dir(struct pctx *x, char **w, int n)
{
	(void)n;
	if (w[1][0] != '/')
		return perr(x, "resolvconf-dir must be an absolute path");
	if (set_str(&x->c->resolvconf_dir, w[1]))
		return perr(x, "out of memory");
	return 0;
}

static int
adapter_option(struct pctx *x, struct cfg_adapter *a, const char *opt, const char *val)
{
	if (strcmp(opt, "device") == 0) {
		if (!valid_name(val) || strlen(val) >= CFG_IFNAME_MAX)
			return perr(x, "bad device name '%s'", val);
		snprintf(a->device, sizeof(a->device), "%s", val);
	} else if (strcmp(opt, "source") == 0) {
		struct cfg_sockaddr sa;

		if (cfg_parse_sockaddr(val, 0, &sa) || strchr(val, ']'))
			return perr(x, "bad source address '%s'", val);
		a->source = sa;
	} else if (strcmp(opt, "metric") == 0) {
		uint32_t m;

		if (parse_u32(val, 0, 1000000, &m))
			return perr(x, "bad metric '%s' (0..1000000)", val);
		a->metric = (int)m;
	} else if (strcmp(opt, "default-route") == 0) {
		if (strcmp(val, "yes") == 0)
			a->default_route = true;
		else if (strcmp(val, "no") == 0)
			a->default_route = false;
		else
			return perr(x, "default-route takes yes or no");
	} else {
		return perr(x, "unknown adapter option '%s' (device, source, metric, default-route)",
		    opt);
	}
	return 0;
}

static int
d_adapter(struct pctx *x, char **w, int n)
{
	struct cfg *c = x->c;
	long idx;
	int i;

	if (!valid_name(w[1]))
		return perr(x, "bad adapter name '%s'", w[1]);
	idx = cfg_adapter_find(c, w[1]);
	if (idx >= 0) {
		if (c->adapters[idx].line > 0)
			return perr(x, "duplicate adapter '%s' (first defined on line %d)", w[1],
			    c->adapters[idx].line);
		return perr(x, "duplicate adapter '%s' (its servers come earlier)", w[1]);
	}
	idx = add_adapter(c, w[1], x->line);
	if (idx < 0)
		return perr(x, "out of memory");
	x->ps->cur_adapter = idx;
	for (i = 2; i < n; i += 2) {
		if (i + 1 >= n)
			return perr(x, "adapter option '%s' needs a value", w[i]);
		if (adapter_option(x, &c->adapters[idx], w[i], w[i + 1]))
			return -1;
	}
	return 0;
}

static int
d_server(struct pctx *x, char **w, int n)
{
	struct cfg *c = x->c;
	struct cfg_sockaddr sa;
	enum cfg_prio prio = PRIO_NORMAL;
	bool no_0x20 = false;
	long a;
	int i;

	if (cfg_parse_sockaddr(w[1], DNS_PORT, &sa))
		return perr(x, "bad server address '%s'", w[1]);
	for (i = 2; i < n; i++) {
		if (strcmp(w[i], "no-0x20") == 0) {
			no_0x20 = true;
		} else if (strcmp(w[i], "priority") == 0) {
			if (i + 1 >= n)
				return perr(x, "'priority' needs first, normal or last");
			i++;
			if (strcmp(w[i], "first") == 0)
				prio = PRIO_FIRST;
			else if (strcmp(w[i], "last") == 0)
				prio = PRIO_LAST;
			else if (strcmp(w[i], "normal") == 0)
				prio = PRIO_NORMAL;
			else
				return perr(x, "bad priority '%s' (first, normal, last)", w[i]);
		} else {
			return perr(x, "unknown server option '%s' (priority, no-0x20)", w[i]);
		}
	}
	a = current_adapter(c, x->ps);
	if (a < 0 || add_server(c, &sa, prio, (size_t)a))
		return perr(x, "out of memory");
	c->servers[c->nservers - 1].no_0x20 = no_0x20;
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
	if (grow(&ad->domains, ad->ndomains, sizeof(*ad->domains)))
		return perr(x, "out of memory");
	ad->domains[ad->ndomains++] = dom;
	return 0;
}

/*
 * Every directive of stubd.conf, one row each.  Adding one: a row here,
 * its field in struct cfg, its entry in stubd.conf.5 and the sample
 * (check_config verifies the last two).
 */
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
	{ "max-negative-ttl", 1, 1, d_u32, "max-negative-ttl SECONDS",
	  "cap on negative TTLs" },
	{ "negative-ttl", 1, 1, d_u32, "negative-ttl SECONDS",
	  "lifetime of negative answers without SOA" },
	{ "timeouts", 1, CFG_MAX_TIMEOUTS, d_timeouts, "timeouts SECONDS...",
	  "retry schedule" },
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
	  "adapter NAME [device IFACE] [source ADDR] [metric N] [default-route yes|no]",
	  "start an adapter" },
	{ "resolvconf-dir", 1, 1, d_resolvconf_dir, "resolvconf-dir DIR",
	  "one adapter per interface file of resolvconf" },
	{ "dbus", 1, 1, d_dbus, "dbus yes|no",
	  "serve org.freedesktop.resolve1 on the system bus" },
	{ "server", 1, CFG_MAX_WORDS - 1, d_server,
	  "server ADDR[:PORT] [priority first|last] [no-0x20]", "upstream server" },
	{ "domain", 1, 1, d_domain, "domain NAME", "routing domain of the adapter" },
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

int
cfg_listen_clear_add(struct cfg *c, bool first, const char *arg, const char **why)
{
	struct cfg_sockaddr sa;

	if (cfg_parse_sockaddr(arg, DNS_PORT, &sa)) {
		*why = "bad listen address";
		return -1;
	}
	if (first)
		c->nlistens = 0;
	if (add_listen(c, &sa)) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

int
cfg_server_arg(struct cfg *c, bool first, const char *arg, const char **why)
{
	char buf[128];
	char *pct;
	struct cfg_sockaddr sa;
	long a;

	if (strlen(arg) >= sizeof(buf)) {
		*why = "bad server";
		return -1;
	}
	strcpy(buf, arg);
	pct = strrchr(buf, '%');
	if (pct)
		*pct++ = 0;
	if (cfg_parse_sockaddr(buf, DNS_PORT, &sa)) {
		*why = "bad server address";
		return -1;
	}
	if (first)
		c->nservers = 0;
	if (pct) {
		if (!valid_name(pct)) {
			*why = "bad adapter name";
			return -1;
		}
		a = cfg_adapter_find(c, pct);
		if (a < 0)
			a = add_adapter(c, pct, 0);
	} else {
		a = cfg_adapter_find(c, "default");
		if (a < 0)
			a = add_adapter(c, "default", 0);
	}
	if (a < 0 || add_server(c, &sa, PRIO_NORMAL, (size_t)a)) {
		*why = "out of memory";
		return -1;
	}
	return 0;
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

		return p->sin_port == q->sin_port &&
		       p->sin_addr.s_addr == q->sin_addr.s_addr;
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

		return p->sin_addr.s_addr == htonl(INADDR_ANY) &&
		       p->sin_port == q->sin_port &&
		       (ntohl(q->sin_addr.s_addr) >> 24) == 127;
	}
	if (l->sa_family == AF_INET6 && s->sa_family == AF_INET6) {
		const struct sockaddr_in6 *p = (const void *)l, *q = (const void *)s;

		return IN6_IS_ADDR_UNSPECIFIED(&p->sin6_addr) &&
		       p->sin6_port == q->sin6_port &&
		       IN6_IS_ADDR_LOOPBACK(&q->sin6_addr);
	}
	return false;
}

bool
cfg_listens_on(const struct cfg *c, const struct cfg_sockaddr *sa)
{
	size_t i;

	for (i = 0; i < c->nlistens; i++)
		if (same_sockaddr(&c->listens[i], sa) ||
		    is_wildcard_match(&c->listens[i], sa))
			return true;
	return false;
}

size_t
cfg_finish(struct cfg *c, const char *resolv_text)
{
	size_t before = c->nerrors;
	struct cfg_sockaddr sa;

	if (c->nlistens == 0) {
		if (cfg_parse_sockaddr("127.0.0.1", DNS_PORT, &sa) == 0)
			add_listen(c, &sa);
		if (cfg_parse_sockaddr("::1", DNS_PORT, &sa) == 0)
			add_listen(c, &sa);
	}
	if (c->nacls == 0) {
		struct cfg_acl a;

		if (parse_acl("127.0.0.0/8", &a) == 0 &&
		    grow(&c->acls, c->nacls, sizeof(*c->acls)) == 0)
			c->acls[c->nacls++] = a;
		if (parse_acl("::1/128", &a) == 0 &&
		    grow(&c->acls, c->nacls, sizeof(*c->acls)) == 0)
			c->acls[c->nacls++] = a;
	}
	if (c->min_ttl > c->max_ttl)
		cfg_error(c, "config", 0, "min-ttl %u is above max-ttl %u",
		    c->min_ttl, c->max_ttl);
	if (c->nservers == 0 && resolv_text) {
		long a = cfg_adapter_find(c, "default");
		struct text_lines it;
		enum text_line t;
		char line[RESOLV_LINE_MAX];

		if (a < 0)
			a = add_adapter(c, "default", 0);
		text_lines_init(&it, resolv_text, strlen(resolv_text));
		while ((t = text_next_line(&it, line, sizeof(line))) != TEXT_LINE_END) {
			char *w[CFG_MAX_WORDS], *pct;
			int n;

			if (t != TEXT_LINE_OK)
				continue;
			n = text_words(line, w, CFG_MAX_WORDS, true);
			if (n < 2 || strcmp(w[0], "nameserver") != 0)
				continue;
			pct = strchr(w[1], '%');
			if (pct)
				*pct = 0;   /* scope ids are not supported */
			if (cfg_parse_sockaddr(w[1], DNS_PORT, &sa) == 0 && !cfg_listens_on(c, &sa) &&
			    a >= 0)
				add_server(c, &sa, PRIO_NORMAL, (size_t)a);
		}
		c->servers_from_resolv = true;
		if (a >= 0)
			c->adapters[a].origin = ORIGIN_RESOLV_FILE;
	}
	return c->nerrors - before;
}
