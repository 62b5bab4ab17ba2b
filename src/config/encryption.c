/*
 * encryption.c - known servers, templates and encrypted twins (SPEC 17).
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"
#include "encryption.h"
#include "dnropt.h"

/* Windows' table (SPEC 17).  Each operator serves DoT on 853 and DoH at
 * https://NAME/dns-query; stubd uses the DoH template, as Windows does
 * (its table holds only DoH templates). */
static const struct known {
	const char *addr, *name;
} known[] = {
	{ "1.1.1.1", "cloudflare-dns.com" },
	{ "1.0.0.1", "cloudflare-dns.com" },
	{ "2606:4700:4700::1111", "cloudflare-dns.com" },
	{ "2606:4700:4700::1001", "cloudflare-dns.com" },
	{ "8.8.8.8", "dns.google" },
	{ "8.8.4.4", "dns.google" },
	{ "2001:4860:4860::8888", "dns.google" },
	{ "2001:4860:4860::8844", "dns.google" },
	{ "9.9.9.9", "dns.quad9.net" },
	{ "149.112.112.112", "dns.quad9.net" },
	{ "2620:fe::fe", "dns.quad9.net" },
	{ "2620:fe::9", "dns.quad9.net" },
};

const char *
cfg_encryption_name(enum cfg_encryption e)
{
	switch (e) {
	case ENC_OFF: return "off";
	case ENC_AUTO: return "auto";
	case ENC_OPPORTUNISTIC: return "opportunistic";
	case ENC_REQUIRE: return "require";
	default: return "inherit";
	}
}

int
cfg_encryption_parse(const char *s)
{
	if (strcmp(s, "off") == 0)
		return ENC_OFF;
	if (strcmp(s, "auto") == 0)
		return ENC_AUTO;
	if (strcmp(s, "opportunistic") == 0)
		return ENC_OPPORTUNISTIC;
	if (strcmp(s, "require") == 0)
		return ENC_REQUIRE;
	return -1;
}

/* Same address, ports not compared (IPv4-mapped IPv6 not folded). */
bool
encryption_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		           &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return false;
}

bool
encryption_known(const struct sockaddr *sa, struct cfg_template *out)
{
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		struct cfg_sockaddr k;

		if (cfg_parse_sockaddr(known[i].addr, 443, &k) != STUB_OK ||
		    !encryption_same_host(sa, (const struct sockaddr *)&k.ss))
			continue;
		memset(out, 0, sizeof(*out));
		out->addr = k;
		out->transport = XPORT_HTTPS;
		out->port = 443;
		snprintf(out->name, sizeof(out->name), "%s", known[i].name);
		snprintf(out->path, sizeof(out->path), "/dns-query");
		return true;
	}
	return false;
}

bool
encryption_template_for(const struct cfg *c, const struct sockaddr *sa, struct cfg_template *out)
{
	size_t i;

	for (i = 0; i < c->ntemplates; i++)
		if (encryption_same_host(sa, (const struct sockaddr *)&c->templates[i].addr.ss)) {
			*out = c->templates[i];
			return true;
		}
	return encryption_known(sa, out);
}

bool
encryption_held_back(const struct cfg_server *s)
{
	return s->twin != 0 || (s->transport == XPORT_UDP && s->encryption == ENC_REQUIRE);
}

enum cfg_encryption
encryption_policy(const struct cfg *c, size_t a)
{
	if (a < c->nadapters && c->adapters[a].encryption != ENC_INHERIT)
		return c->adapters[a].encryption;
	return c->encryption;
}

static uint16_t
port_of(const struct cfg_sockaddr *sa)
{
	if (sa->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&sa->ss)->sin_port);
	if (sa->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&sa->ss)->sin6_port);
	return 0;
}

static void
set_port(struct cfg_sockaddr *sa, uint16_t port)
{
	if (sa->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&sa->ss)->sin_port = htons(port);
	else if (sa->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&sa->ss)->sin6_port = htons(port);
}

/* The transport, port and path a DNR resolver is asked over: DoT when it
 * offers dot (one protocol layer less, no path needed), else DoH. */
static void
dnr_template(const struct cfg_dnr *d, const struct cfg_sockaddr *addr, struct cfg_template *t)
{
	memset(t, 0, sizeof(*t));
	t->addr = *addr;
	t->transport = d->dot ? XPORT_TLS : XPORT_HTTPS;
	t->port = d->port ? d->port : d->dot ? 853 : 443;
	snprintf(t->name, sizeof(t->name), "%s", d->name);
	snprintf(t->path, sizeof(t->path), "%s", d->path[0] ? d->path : "/dns-query");
}

/* The DNR resolver of adapter a at sa's address with the lowest priority
 * (ties: the first given); NULL when none. */
static const struct cfg_dnr *
dnr_for(const struct cfg *c, size_t a, const struct sockaddr *sa, size_t *ai)
{
	const struct cfg_dnr *best = NULL;
	size_t i, k;

	for (i = 0; i < c->ndnr; i++) {
		const struct cfg_dnr *d = &c->dnr[i];

		if (d->adapter != a || (best && d->priority >= best->priority))
			continue;
		for (k = 0; k < d->naddrs; k++)
			if (encryption_same_host(sa, (const struct sockaddr *)&d->addrs[k].ss)) {
				best = d;
				*ai = k;
				break;
			}
	}
	return best;
}

/* Add an encrypted server from template t to adapter a; its index in *idx. */
static enum stub_err
add_encrypted(struct cfg *c, const struct cfg_template *t, size_t a, enum cfg_prio prio,
    bool no_0x20, enum cfg_encryption pol, enum cfg_upgrade how, size_t *idx)
{
	struct cfg_sockaddr addr = t->addr;
	struct cfg_server *tw;

	set_port(&addr, t->port);
	if (cfg_add_server(c, &addr, prio, a) != STUB_OK)
		return STUB_ENOMEM;
	tw = &c->servers[c->nservers - 1];
	tw->transport = t->transport;
	tw->no_0x20 = no_0x20;
	tw->encryption = pol;
	tw->upgrade = how;
	snprintf(tw->auth_name, sizeof(tw->auth_name), "%s", t->name);
	snprintf(tw->path, sizeof(tw->path), "%s", t->path[0] ? t->path : "/dns-query");
	*idx = c->nservers - 1;
	return STUB_OK;
}

/* Is there a clear-text server of adapter a at sa's address? */
static bool
has_clear(const struct cfg *c, size_t a, const struct sockaddr *sa, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c->servers[i].adapter == a && c->servers[i].transport == XPORT_UDP &&
		    !c->servers[i].clear &&
		    encryption_same_host(sa, (const struct sockaddr *)&c->servers[i].addr.ss))
			return true;
	return false;
}

/* Was this DNR resolver (address k of d) already added as a server? */
static bool
dnr_present(const struct cfg *c, const struct cfg_template *t)
{
	struct cfg_sockaddr addr = t->addr;
	size_t i;

	set_port(&addr, t->port);
	for (i = 0; i < c->nservers; i++)
		if (c->servers[i].transport == t->transport && c->servers[i].addr.len == addr.len &&
		    memcmp(&c->servers[i].addr.ss, &addr.ss, addr.len) == 0 &&
		    strcmp(c->servers[i].auth_name, t->name) == 0)
			return true;
	return false;
}

enum stub_err
encryption_apply(struct cfg *c)
{
	size_t i, k, n = c->nservers;
	size_t *order = NULL;
	enum stub_err e = STUB_OK;

	for (i = 0; i < n; i++) {
		struct cfg_server *sv = &c->servers[i];
		enum cfg_encryption pol = encryption_policy(c, sv->adapter);
		const struct sockaddr *sa = (const struct sockaddr *)&sv->addr.ss;
		const struct cfg_dnr *d = NULL;
		enum cfg_upgrade how = UPGRADE_KNOWN;
		struct cfg_template t;
		size_t tw, ai = 0;
		bool found = false;

		sv->encryption = pol;
		if (pol == ENC_OFF || sv->transport != XPORT_UDP || sv->twin || sv->clear)
			continue;
		/* the administrator's template, then the network's DNR, then
		 * the known table */
		for (k = 0; k < c->ntemplates && !found; k++)
			if (encryption_same_host(sa,
			        (const struct sockaddr *)&c->templates[k].addr.ss)) {
				t = c->templates[k];
				found = true;
			}
		if (!found && (d = dnr_for(c, sv->adapter, sa, &ai)) != NULL) {
			dnr_template(d, &d->addrs[ai], &t);
			how = UPGRADE_DNR;
			found = true;
		}
		if (!found && !encryption_known(sa, &t))
			continue;
		if (add_encrypted(c, &t, sv->adapter, sv->prio, sv->no_0x20, pol, how, &tw) !=
		    STUB_OK)
			return STUB_ENOMEM;
		/* c->servers may have moved */
		c->servers[tw].clear = i + 1;
		c->servers[i].twin = tw + 1;
		c->servers[i].upgrade = how;
	}
	/* DNR resolvers at no clear-text server's address: more servers of
	 * their adapter, lower priority first (ties: as given) */
	if (c->ndnr && !(order = malloc(c->ndnr * sizeof(*order))))
		return STUB_ENOMEM;
	for (i = 0; i < c->ndnr; i++) {
		size_t j = i;

		while (j > 0 && c->dnr[order[j - 1]].priority > c->dnr[i].priority) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (i = 0; i < c->ndnr; i++) {
		const struct cfg_dnr *d = &c->dnr[order[i]];

		if (d->adapter >= c->nadapters)
			continue;
		for (k = 0; k < d->naddrs; k++) {
			const struct sockaddr *sa = (const struct sockaddr *)&d->addrs[k].ss;
			struct cfg_template t;
			size_t idx;

			dnr_template(d, &d->addrs[k], &t);
			if (has_clear(c, d->adapter, sa, n) || dnr_present(c, &t))
				continue;
			if (add_encrypted(c, &t, d->adapter, PRIO_NORMAL, false,
			        encryption_policy(c, d->adapter), UPGRADE_DNR, &idx) != STUB_OK) {
				e = STUB_ENOMEM;
				goto out;
			}
		}
	}
out:
	free(order);
	return e;
}

/* "a,b,c" split in place into at most max words; -1 when empty parts or
 * too many */
static int
split_commas(char *s, char **out, int max)
{
	int n = 0;

	for (;;) {
		char *comma = strchr(s, ',');

		if (n == max)
			return -1;
		if (comma)
			*comma = 0;
		if (!*s)
			return -1;
		out[n++] = s;
		if (!comma)
			return n;
		s = comma + 1;
	}
}

static bool
valid_host(const char *s)
{
	size_t l = strlen(s);

	return l > 0 && l < CFG_HOST_MAX && s[0] != '.' && s[0] != '-' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == l &&
	    !strstr(s, "..");
}

enum stub_err
encryption_dnr_parse(char *const *w, int n, struct cfg_dnr *out, char *why, size_t whylen)
{
	char buf[CFG_LINE_MAX], *parts[CFG_DNR_MAX_ADDRS + 1];
	bool alpn_seen = false, port_seen = false, path_seen = false;
	unsigned long v;
	char *end;
	int i, np;

	memset(out, 0, sizeof(*out));
	if (n < 4) {
		snprintf(why, whylen,
		    "usage: dnr PRIORITY NAME ADDR[,ADDR] alpn=dot,h2 [port=N] [dohpath=PATH]");
		return STUB_EINVAL;
	}
	v = strtoul(w[0], &end, 10);
	if (!*w[0] || *end || w[0][0] == '-' || v == 0 || v > 65535) {
		snprintf(why, whylen, "dnr: bad priority '%.16s' (1-65535)", w[0]);
		return STUB_EINVAL;
	}
	out->priority = (uint16_t)v;
	if (!valid_host(w[1])) {
		snprintf(why, whylen, "dnr: bad name '%.64s' (the resolver's host name)", w[1]);
		return STUB_EINVAL;
	}
	for (i = 0; w[1][i]; i++)
		out->name[i] = (char)(w[1][i] >= 'A' && w[1][i] <= 'Z' ? w[1][i] + 32 : w[1][i]);
	out->name[i] = 0;
	if (strlen(w[2]) >= sizeof(buf))
		goto bad_addr;
	strcpy(buf, w[2]);
	np = split_commas(buf, parts, CFG_DNR_MAX_ADDRS + 1);
	if (np < 0 || np > CFG_DNR_MAX_ADDRS)
		goto bad_addr;
	for (i = 0; i < np; i++) {
		struct cfg_sockaddr *a = &out->addrs[i];
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;

		memset(a, 0, sizeof(*a));
		if (inet_pton(AF_INET, parts[i], &s4->sin_addr) == 1) {
			uint32_t h = ntohl(s4->sin_addr.s_addr);

			if (h == 0 || h == 0xffffffff || (h >> 28) == 0xe)
				goto bad_addr;
			s4->sin_family = AF_INET;
			a->len = sizeof(*s4);
		} else if (inet_pton(AF_INET6, parts[i], &s6->sin6_addr) == 1) {
			if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ||
			    IN6_IS_ADDR_MULTICAST(&s6->sin6_addr))
				goto bad_addr;
			s6->sin6_family = AF_INET6;
			a->len = sizeof(*s6);
		} else
			goto bad_addr;
	}
	out->naddrs = (size_t)np;
	for (i = 3; i < n; i++) {
		if (strncmp(w[i], "alpn=", 5) == 0 && !alpn_seen) {
			char *ids[16];
			int ni, k;

			alpn_seen = true;
			if (strlen(w[i]) >= sizeof(buf))
				goto bad_opt;
			strcpy(buf, w[i] + 5);
			ni = split_commas(buf, ids, 16);
			if (ni < 0)
				goto bad_opt;
			for (k = 0; k < ni; k++) {
				if (strcmp(ids[k], "dot") == 0)
					out->dot = true;
				else if (strcmp(ids[k], "h2") == 0)
					out->h2 = true;
				/* others (h3, doq) are not spoken: skipped */
			}
		} else if (strncmp(w[i], "port=", 5) == 0 && !port_seen) {
			port_seen = true;
			v = strtoul(w[i] + 5, &end, 10);
			if (!w[i][5] || *end || w[i][5] == '-' || v == 0 || v > 65535)
				goto bad_opt;
			out->port = (uint16_t)v;
		} else if (strncmp(w[i], "dohpath=", 8) == 0 && !path_seen) {
			const char *p = w[i] + 8;
			size_t l = strcspn(p, "{"); /* the URI template's {?dns} */

			path_seen = true;
			if (p[0] != '/' || l >= sizeof(out->path) ||
			    (p[l] && strcmp(p + l, "{?dns}") != 0) || strcspn(p, " \t\"#?") < l)
				goto bad_opt;
			memcpy(out->path, p, l);
			out->path[l] = 0;
		} else
			goto bad_opt;
	}
	if (!alpn_seen || (!out->dot && !out->h2)) {
		snprintf(why, whylen, "dnr %s: no supported ALPN (alpn=dot and/or alpn=h2)",
		    out->name);
		memset(out, 0, sizeof(*out));
		return STUB_EINVAL;
	}
	return STUB_OK;
bad_addr:
	snprintf(why, whylen, "dnr: bad address list '%.64s' (ADDR[,ADDR], at most %d, no port)",
	    w[2], CFG_DNR_MAX_ADDRS);
	memset(out, 0, sizeof(*out));
	return STUB_EINVAL;
bad_opt:
	snprintf(why, whylen,
	    "dnr: bad or repeated option '%.64s' (alpn=dot,h2 port=N dohpath=/PATH)", w[i]);
	memset(out, 0, sizeof(*out));
	return STUB_EINVAL;
}

void
encryption_dnr_format(const struct cfg_dnr *d, char *buf, size_t len)
{
	size_t used, k;

	snprintf(buf, len, "%u %s ", (unsigned)d->priority, d->name);
	for (k = 0; k < d->naddrs; k++) {
		char a[INET6_ADDRSTRLEN];
		const struct sockaddr *sa = (const struct sockaddr *)&d->addrs[k].ss;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a,
			    sizeof(a));
		else
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, a,
			    sizeof(a));
		used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", k ? "," : "", a);
	}
	dnropt_format_params(buf, len, d->dot, d->h2, d->port, d->path);
}

/* Give clear-text server i the run-time twin t found by how (DDR):
 * STUB_ENOMEM. */
static enum stub_err
add_twin(struct cfg *c, size_t i, const struct cfg_template *t, enum cfg_upgrade how)
{
	struct cfg_server *sv = &c->servers[i];
	struct cfg_sockaddr clear = sv->addr;
	size_t tw;

	if (add_encrypted(c, t, sv->adapter, sv->prio, sv->no_0x20, sv->encryption, how, &tw) !=
	    STUB_OK)
		return STUB_ENOMEM;
	/* c->servers may have moved */
	if (how == UPGRADE_DDR)
		c->servers[tw].san_ip = clear;
	if (how == UPGRADE_DDR_OPP)
		c->servers[tw].insecure = true;
	c->servers[tw].clear = i + 1;
	c->servers[i].twin = tw + 1;
	c->servers[i].upgrade = how;
	return STUB_OK;
}

bool
encryption_wants_ddr(const struct cfg_server *s)
{
	return s->transport == XPORT_UDP && s->encryption != ENC_OFF && !s->twin && !s->clear;
}

long
encryption_add_twins(struct cfg *c, const struct enc_twin *v, size_t n)
{
	size_t i, k, nsv = c->nservers;
	long added = 0;

	for (k = 0; k < n; k++)
		for (i = 0; i < nsv; i++) {
			struct cfg_server *sv = &c->servers[i];

			if (!encryption_wants_ddr(sv) ||
			    !encryption_same_host((const struct sockaddr *)&sv->addr.ss,
			        (const struct sockaddr *)&v[k].clear.ss) ||
			    port_of(&sv->addr) != port_of(&v[k].clear) ||
			    strcmp(c->adapters[sv->adapter].name, v[k].adapter) != 0)
				continue;
			if (v[k].how == UPGRADE_DDR_OPP && sv->encryption != ENC_OPPORTUNISTIC)
				continue;
			if (add_twin(c, i, &v[k].t, v[k].how) != STUB_OK)
				return -1;
			added++;
		}
	return added;
}

enum stub_err
encryption_template_parse(char **w, int n, struct cfg_template *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (n < 3 || cfg_parse_sockaddr(w[1], 853, &out->addr) != STUB_OK || strchr(w[1], ']')) {
		snprintf(why, whylen, "encryption-template: bad address '%s' (an address, no port)",
		    n > 1 ? w[1] : "");
		return STUB_EFORMAT;
	}
	if (strcmp(w[2], "tls") == 0) {
		if (n != 4 || !w[3][0] || strlen(w[3]) >= sizeof(out->name) ||
		    strpbrk(w[3], "/ :@")) {
			snprintf(why, whylen, "usage: encryption-template ADDR tls NAME");
			return STUB_EFORMAT;
		}
		out->transport = XPORT_TLS;
		out->port = 853;
		snprintf(out->name, sizeof(out->name), "%s", w[3]);
		return STUB_OK;
	}
	if (strncmp(w[2], "https://", 8) == 0 && n == 3) {
		const char *p = w[2] + 8, *slash = strchr(p, '/'), *colon;
		size_t hl;
		unsigned port = 443;

		if (!slash)
			slash = p + strlen(p);
		colon = memchr(p, ':', (size_t)(slash - p));
		hl = (size_t)((colon ? colon : slash) - p);
		if (colon) {
			char *end;
			unsigned long v = strtoul(colon + 1, &end, 10);

			if (end != slash || v == 0 || v > 65535)
				goto bad_url;
			port = (unsigned)v;
		}
		if (hl == 0 || hl >= sizeof(out->name) || strlen(slash) >= sizeof(out->path) ||
		    strpbrk(slash, " \t\"#?"))
			goto bad_url;
		memcpy(out->name, p, hl);
		out->name[hl] = '\0';
		snprintf(out->path, sizeof(out->path), "%s", *slash ? slash : "/dns-query");
		out->transport = XPORT_HTTPS;
		out->port = (uint16_t)port;
		return STUB_OK;
	}
bad_url:
	snprintf(why, whylen,
	    "usage: encryption-template ADDR tls NAME | "
	    "encryption-template ADDR https://HOST[:PORT]/PATH");
	return STUB_EFORMAT;
}
