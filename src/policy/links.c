/*
 * links.c - learned links.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnropt.h"
#include "encryption.h"
#include "links.h"
#include "text.h"
#include "wire.h"

#define RESOLVCONF_LINE_MAX 1024
#define RESOLVCONF_WORDS 16

void
links_init(struct links *l)
{
	l->v = NULL;
	l->n = 0;
}

void
links_fini(struct links *l)
{
	free(l->v);
	links_init(l);
}

static bool
valid_ifname(const char *s)
{
	return cfg_valid_name(s) && strlen(s) < CFG_IFNAME_MAX && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
}

static struct link *
find(const struct links *l, const char *ifname)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].ifname, ifname) == 0)
			return &l->v[i];
	return NULL;
}

/* The link named ifname, created when new; STUB_EINVAL (a bad name) or
 * STUB_ENOMEM with why on failure. */
static enum stub_err
get(struct links *l, const char *ifname, enum cfg_origin o, struct link **out, char *why,
    size_t whylen)
{
	struct link *k = find(l, ifname), *nv;

	*out = NULL;

	if (!valid_ifname(ifname)) {
		snprintf(why, whylen, "bad interface name '%.32s'", ifname);
		return STUB_EINVAL;
	}
	if (k) {
		k->origin = o;
		*out = k;
		return STUB_OK;
	}
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv) {
		snprintf(why, whylen, "out of memory");
		return STUB_ENOMEM;
	}
	l->v = nv;
	k = &l->v[l->n++];
	memset(k, 0, sizeof(*k));
	snprintf(k->ifname, sizeof(k->ifname), "%s", ifname);
	k->origin = o;
	k->default_route = true;
	k->metric = LINK_METRIC_DEFAULT;
	*out = k;
	return STUB_OK;
}

/* "ADDR[:PORT][#NAME]" -> server; -1 when bad */
static int
parse_server(const char *s, struct link_server *out)
{
	char buf[sizeof(out->text) + sizeof(out->name)];
	char *hash;
	struct cfg_sockaddr sa;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	memset(out, 0, sizeof(*out));
	hash = strchr(buf, '#');
	if (hash) {
		*hash++ = 0;
		if (!*hash || strlen(hash) >= sizeof(out->name) ||
		    strspn(hash,
		        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		        "0123456789.-_") != strlen(hash))
			return -1;
		snprintf(out->name, sizeof(out->name), "%s", hash);
	}
	if (cfg_parse_sockaddr(buf, DNS_PORT, &sa) != STUB_OK)
		return -1;
	cfg_format_sockaddr((const struct sockaddr *)&sa.ss, out->text, sizeof(out->text));
	out->has_port = buf[0] == '[' ?
	    strstr(buf, "]:") != NULL :
	    strchr(buf, ':') != NULL && strchr(buf, ':') == strrchr(buf, ':');
	if (sa.ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&sa.ss)->sin_addr, out->host,
		    sizeof(out->host));
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&sa.ss)->sin6_addr, out->host,
		    sizeof(out->host));
	return 0;
}

/* "[~]name" -> lower-case text without the trailing dot; -1 when bad */
static int
parse_domain(const char *s, char *out, size_t outlen, bool *routing_only)
{
	uint8_t wire[WIRE_NAME_MAX];
	size_t len;

	*routing_only = s[0] == '~';
	if (*routing_only)
		s++;
	if (strcmp(s, ".") == 0 || !*s) {
		/* "~." routes every name: a default route */
		snprintf(out, outlen, ".");
		return 0;
	}
	len = wire_name_from_text(s, wire);
	if (len <= 1)
		return -1;
	wire_name_lower(wire, len);
	return wire_name_to_text(wire, len, out, outlen) ? 0 : -1;
}

enum stub_err
links_set_dns(struct links *l, const char *ifname, enum cfg_origin o, char *const *addrs, size_t n,
    char *why, size_t whylen)
{
	struct link_server sv[LINK_MAX_SERVERS];
	struct link *k;
	size_t i;
	enum stub_err e;

	if (n > LINK_MAX_SERVERS) {
		snprintf(why, whylen, "at most %d servers per link", LINK_MAX_SERVERS);
		return STUB_EINVAL;
	}
	for (i = 0; i < n; i++)
		if (parse_server(addrs[i], &sv[i]) != 0) {
			snprintf(why, whylen, "bad server '%.64s' (ADDR[:PORT][#NAME])", addrs[i]);
			return STUB_EINVAL;
		}
	e = get(l, ifname, o, &k, why, whylen);
	if (e != STUB_OK)
		return e;
	memcpy(k->servers, sv, n * sizeof(sv[0]));
	k->nservers = n;
	return STUB_OK;
}

enum stub_err
links_set_domains(struct links *l, const char *ifname, enum cfg_origin o, char *const *doms,
    size_t n, char *why, size_t whylen)
{
	char d[LINK_MAX_DOMAINS][256];
	bool ro[LINK_MAX_DOMAINS];
	struct link *k;
	size_t i;
	enum stub_err e;

	if (n > LINK_MAX_DOMAINS) {
		snprintf(why, whylen, "at most %d domains per link", LINK_MAX_DOMAINS);
		return STUB_EINVAL;
	}
	for (i = 0; i < n; i++)
		if (parse_domain(doms[i], d[i], sizeof(d[i]), &ro[i]) != 0) {
			snprintf(why, whylen, "bad domain '%.64s'", doms[i]);
			return STUB_EINVAL;
		}
	e = get(l, ifname, o, &k, why, whylen);
	if (e != STUB_OK)
		return e;
	memcpy(k->domains, d, n * sizeof(d[0]));
	memcpy(k->routing_only, ro, n * sizeof(ro[0]));
	k->ndomains = n;
	return STUB_OK;
}

enum stub_err
links_set_default_route(struct links *l, const char *ifname, enum cfg_origin o, bool yes, char *why,
    size_t whylen)
{
	struct link *k;
	enum stub_err e = get(l, ifname, o, &k, why, whylen);

	if (e != STUB_OK)
		return e;
	k->default_route = yes;
	return STUB_OK;
}

enum stub_err
links_set_mdns(struct links *l, const char *ifname, enum cfg_origin o, bool yes, char *why,
    size_t whylen)
{
	struct link *k;
	enum stub_err e = get(l, ifname, o, &k, why, whylen);

	if (e != STUB_OK)
		return e;
	k->mdns_off = !yes;
	return STUB_OK;
}

bool
links_mdns_off(const struct links *l, const char *ifname)
{
	const struct link *k = find(l, ifname);

	return k && k->mdns_off;
}

enum stub_err
links_set_dot(struct links *l, const char *ifname, enum cfg_origin o, bool yes, char *why,
    size_t whylen)
{
	struct link *k;
	enum stub_err e = get(l, ifname, o, &k, why, whylen);

	if (e != STUB_OK)
		return e;
	k->dot = yes;
	return STUB_OK;
}

enum stub_err
links_set_encryption(struct links *l, const char *ifname, enum cfg_origin o,
    enum cfg_encryption enc, char *why, size_t whylen)
{
	struct link *k;
	enum stub_err e = get(l, ifname, o, &k, why, whylen);

	if (e != STUB_OK)
		return e;
	k->enc_set = true;
	k->enc = enc;
	return STUB_OK;
}

enum stub_err
links_add_dnr(struct links *l, const char *ifname, enum cfg_origin o, char *const *w, size_t n,
    char *why, size_t whylen)
{
	struct cfg_dnr d;
	struct link *k;
	enum stub_err e;
	size_t i;

	if (n > CFG_MAX_WORDS) {
		snprintf(why, whylen, "dnr: too many words");
		return STUB_EINVAL;
	}
	e = encryption_dnr_parse(w, (int)n, &d, why, whylen);
	if (e != STUB_OK)
		return e;
	if (!valid_ifname(ifname)) {
		snprintf(why, whylen, "bad interface name '%.32s'", ifname);
		return STUB_EINVAL;
	}
	k = find(l, ifname);
	for (i = 0; k && i < k->ndnr; i++)
		if (k->dnr[i].priority == d.priority && strcmp(k->dnr[i].name, d.name) == 0)
			break;
	if (k && i == LINK_MAX_DNR) {
		snprintf(why, whylen, "at most %d DNR resolvers per link", LINK_MAX_DNR);
		return STUB_EINVAL;
	}
	e = get(l, ifname, o, &k, why, whylen);
	if (e != STUB_OK)
		return e;
	k->dnr[i] = d;
	if (i == k->ndnr)
		k->ndnr++;
	return STUB_OK;
}

enum stub_err
links_set_dnr(struct links *l, const char *ifname, enum cfg_origin o, const struct cfg_dnr *v,
    size_t n, char *why, size_t whylen)
{
	struct link *k;
	enum stub_err e;

	if (n > LINK_MAX_DNR) {
		snprintf(why, whylen, "at most %d DNR resolvers per link", LINK_MAX_DNR);
		return STUB_EINVAL;
	}
	e = get(l, ifname, o, &k, why, whylen);
	if (e != STUB_OK)
		return e;
	if (n)
		memcpy(k->dnr, v, n * sizeof(*v));
	k->ndnr = n;
	return STUB_OK;
}

enum stub_err
links_set_dnr_option(struct links *l, const char *ifname, enum cfg_origin o, bool v6,
    char *const *hex, size_t n, char *why, size_t whylen)
{
	struct dnropt opt;
	struct cfg_dnr v[LINK_MAX_DNR];
	uint8_t buf[DNROPT_HEX_MAX];
	size_t i, len;

	const struct link *k = find(l, ifname);
	int fam = v6 ? AF_INET6 : AF_INET;
	size_t nv = 0;

	memset(&opt, 0, sizeof(opt));
	/* the resolvers of the other family stay (DHCPv4 and DHCPv6 each
	 * replace their own) */
	for (i = 0; k && i < k->ndnr; i++)
		if (k->dnr[i].naddrs && k->dnr[i].addrs[0].ss.ss_family != fam)
			v[nv++] = k->dnr[i];
	for (i = 0; i < n; i++) {
		if (dnropt_hex(hex[i], buf, sizeof(buf), &len) != STUB_OK) {
			snprintf(why, whylen, "dnr-option: '%.32s' is not hex (at most %d bytes)",
			    hex[i], DNROPT_HEX_MAX);
			return STUB_EINVAL;
		}
		if (dnropt_read(buf, len, v6, &opt, why, whylen) != STUB_OK)
			return STUB_EINVAL;
	}
	if (nv + opt.n > LINK_MAX_DNR) {
		snprintf(why, whylen, "at most %d DNR resolvers per link", LINK_MAX_DNR);
		return STUB_EINVAL;
	}
	for (i = 0; i < opt.n; i++) {
		char line[1024], *w[CFG_MAX_WORDS];
		int nw;

		dnropt_format(&opt.v[i], line, sizeof(line));
		nw = text_words(line, w, CFG_MAX_WORDS, false);
		if (nw < 1 || encryption_dnr_parse(w, nw, &v[nv++], why, whylen) != STUB_OK)
			return STUB_EINVAL;
	}
	return links_set_dnr(l, ifname, o, v, nv, why, whylen);
}

bool
links_revert(struct links *l, const char *ifname)
{
	struct link *k = find(l, ifname);

	if (!k)
		return false;
	memmove(k, k + 1, (size_t)(l->v + l->n - (k + 1)) * sizeof(*k));
	l->n--;
	return true;
}

void
links_drop_origin(struct links *l, enum cfg_origin o)
{
	size_t i = 0;

	while (i < l->n)
		if (l->v[i].origin == o)
			links_revert(l, l->v[i].ifname);
		else
			i++;
}

enum stub_err
links_add_resolvconf(struct links *l, const char *fname, const char *text, size_t len,
    void (*err)(void *arg, unsigned line, const char *msg), void *arg)
{
	char ifname[CFG_IFNAME_MAX], buf[RESOLVCONF_LINE_MAX], why[128];
	const char *dot = strchr(fname, '.');
	size_t il = dot ? (size_t)(dot - fname) : strlen(fname);
	struct text_lines it;
	enum text_line t;
	struct link *k;
	enum stub_err e;

	if (il == 0 || il >= sizeof(ifname))
		return STUB_EINVAL;
	memcpy(ifname, fname, il);
	ifname[il] = 0;
	e = get(l, ifname, ORIGIN_RESOLVCONF, &k, why, sizeof(why));
	if (e != STUB_OK)
		return e;
	text_lines_init(&it, text, len);
	while ((t = text_next_line(&it, buf, sizeof(buf))) != TEXT_LINE_END) {
		char *w[RESOLVCONF_WORDS], *semi;
		int n, i;

		if (t != TEXT_LINE_OK) {
			if (err)
				err(arg, it.lineno,
				    t == TEXT_LINE_LONG ? "line too long" : "NUL byte");
			continue;
		}
		semi = strchr(buf, ';'); /* resolv.conf comments: # and ; */
		if (semi)
			*semi = 0;
		n = text_words(buf, w, RESOLVCONF_WORDS, true);
		if (n <= 0)
			continue;
		if (strcmp(w[0], "nameserver") == 0) {
			struct link_server sv;
			char *pct;

			if (n != 2) {
				if (err)
					err(arg, it.lineno, "nameserver takes one address");
				continue;
			}
			pct = strchr(w[1], '%');
			if (pct)
				*pct = 0; /* the link is bound to its interface */
			if (parse_server(w[1], &sv) != 0) {
				if (err)
					err(arg, it.lineno, "bad nameserver address");
				continue;
			}
			if (k->nservers < LINK_MAX_SERVERS)
				k->servers[k->nservers++] = sv;
		} else if (strcmp(w[0], "search") == 0 || strcmp(w[0], "domain") == 0) {
			for (i = 1; i < n; i++) {
				bool ro;

				if (k->ndomains == LINK_MAX_DOMAINS)
					break;
				if (parse_domain(w[i], k->domains[k->ndomains],
				        sizeof(k->domains[0]), &ro) != 0 ||
				    ro) {
					if (err)
						err(arg, it.lineno, "bad domain name");
					continue;
				}
				k->routing_only[k->ndomains++] = false;
			}
		}
		/* options, sortlist and the like do not concern stubd */
	}
	return STUB_OK;
}

static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return 0;
		} else {
			size_t nc = *cap * 2 + (size_t)n;
			char *nb = realloc(*buf, nc);

			if (!nb)
				return -1;
			*buf = nb;
			*cap = nc;
		}
	}
}

/* One server line of a link: clear text, or DNS over TLS authenticated by
 * its #NAME or else by its address (never without authentication). */
static int
link_server_line(char **buf, size_t *len, size_t *cap, const struct link *lk,
    const struct link_server *sv)
{
	if (!lk->dot)
		return append(buf, len, cap, "server %s\n", sv->text);
	if (sv->has_port)
		return append(buf, len, cap, "server %s tls %s\n", sv->text,
		    sv->name[0] ? sv->name : sv->host);
	return append(buf, len, cap,
	    strchr(sv->host, ':') ? "server [%s]:853 tls %s\n" : "server %s:853 tls %s\n", sv->host,
	    sv->name[0] ? sv->name : sv->host);
}

char *
links_config_text(const struct links *l, const struct cfg *base,
    void (*skip)(void *arg, const char *ifname), void *arg)
{
	size_t cap = 1024, len = 0, i, k;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	buf[0] = 0;
	for (i = 0; i < l->n; i++) {
		const struct link *lk = &l->v[i];
		bool route_all = false;

		if (lk->nservers == 0 && lk->ndnr == 0)
			continue;
		if (base && cfg_adapter_find(base, lk->ifname) >= 0) {
			if (skip)
				skip(arg, lk->ifname);
			continue;
		}
		for (k = 0; k < lk->ndomains; k++)
			if (strcmp(lk->domains[k], ".") == 0)
				route_all = true;
		if (append(&buf, &len, &cap,
		        "adapter %s device %s metric %d default-route %s%s%s\n", lk->ifname,
		        lk->ifname, lk->metric, lk->default_route || route_all ? "yes" : "no",
		        lk->enc_set ? " encryption " : "",
		        lk->enc_set ? cfg_encryption_name(lk->enc) : "") != 0)
			goto fail;
		for (k = 0; k < lk->nservers; k++)
			if (link_server_line(&buf, &len, &cap, lk, &lk->servers[k]) != 0)
				goto fail;
		for (k = 0; k < lk->ndnr; k++) {
			char d[1024];

			encryption_dnr_format(&lk->dnr[k], d, sizeof(d));
			if (append(&buf, &len, &cap, "dnr %s\n", d) != 0)
				goto fail;
		}
		/* SetLinkDNSEx / dns ADDR#NAME: the name's DoT server at ADDR is
		 * the clear-text server's twin (DNR) */
		for (k = 0; !lk->dot && k < lk->nservers; k++)
			if (lk->servers[k].name[0] &&
			    append(&buf, &len, &cap, "dnr %zu %s %s alpn=dot\n", k + 1,
			        lk->servers[k].name, lk->servers[k].host) != 0)
				goto fail;
		for (k = 0; k < lk->ndomains; k++)
			if (strcmp(lk->domains[k], ".") != 0 &&
			    append(&buf, &len, &cap, "domain %s\n", lk->domains[k]) != 0)
				goto fail;
	}
	return buf;
fail:
	free(buf);
	return NULL;
}

enum cfg_origin
links_origin(const struct links *l, const char *ifname)
{
	const struct link *k = find(l, ifname);

	return k ? k->origin : ORIGIN_CONFIG;
}
