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

/* Windows' table (SPEC 17): DoT on 853 with the name. */
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

		if (cfg_parse_sockaddr(known[i].addr, 853, &k) != STUB_OK ||
		    !encryption_same_host(sa, (const struct sockaddr *)&k.ss))
			continue;
		memset(out, 0, sizeof(*out));
		out->addr = k;
		out->transport = XPORT_TLS;
		out->port = 853;
		snprintf(out->name, sizeof(out->name), "%s", known[i].name);
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

/* Give clear-text server i the twin t (addr: the twin's address, port
 * set); STUB_ENOMEM. */
static enum stub_err
add_twin(struct cfg *c, size_t i, const struct cfg_template *t, const struct cfg_sockaddr *addr,
    enum cfg_upgrade how)
{
	struct cfg_server *tw;
	struct cfg_sockaddr clear = c->servers[i].addr;
	size_t a = c->servers[i].adapter;
	enum cfg_prio prio = c->servers[i].prio;
	enum cfg_encryption pol = c->servers[i].encryption;
	bool no_0x20 = c->servers[i].no_0x20;

	if (cfg_add_server(c, addr, prio, a) != STUB_OK)
		return STUB_ENOMEM;
	/* c->servers may have moved */
	tw = &c->servers[c->nservers - 1];
	tw->transport = t->transport;
	tw->no_0x20 = no_0x20;
	tw->encryption = pol;
	tw->upgrade = how;
	tw->clear = i + 1;
	snprintf(tw->auth_name, sizeof(tw->auth_name), "%s", t->name);
	snprintf(tw->path, sizeof(tw->path), "%s", t->path[0] ? t->path : "/dns-query");
	if (how == UPGRADE_DDR)
		tw->san_ip = clear;
	if (how == UPGRADE_DDR_OPP)
		tw->insecure = true;
	c->servers[i].twin = c->nservers;
	c->servers[i].upgrade = how;
	return STUB_OK;
}

enum stub_err
encryption_apply(struct cfg *c)
{
	size_t i, n = c->nservers;

	for (i = 0; i < n; i++) {
		struct cfg_server *sv = &c->servers[i];
		enum cfg_encryption pol = encryption_policy(c, sv->adapter);
		struct cfg_template t;
		struct cfg_sockaddr addr;

		sv->encryption = pol;
		if (pol == ENC_OFF || sv->transport != XPORT_UDP || sv->twin || sv->clear ||
		    !encryption_template_for(c, (const struct sockaddr *)&sv->addr.ss, &t))
			continue;
		addr = sv->addr;
		set_port(&addr, t.port);
		if (add_twin(c, i, &t, &addr, UPGRADE_KNOWN) != STUB_OK)
			return STUB_ENOMEM;
	}
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
			if (add_twin(c, i, &v[k].t, &v[k].t.addr, v[k].how) != STUB_OK)
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
