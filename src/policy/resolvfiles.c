/*
 * resolvfiles.c - the text of stub-resolv.conf and resolv.conf under
 * resolved-compat (SPEC 16).
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolvfiles.h"

/* A growing string; on OOM it stays failed and the result is NULL. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void
put(struct sbuf *b, const char *text)
{
	size_t l = strlen(text);

	if (b->oom)
		return;
	if (b->len + l + 1 > b->cap) {
		size_t nc = (b->cap ? b->cap * 2 : 1024) + l;
		char *ns = realloc(b->s, nc);

		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = nc;
	}
	memcpy(b->s + b->len, text, l + 1);
	b->len += l;
}

static char *
finish(struct sbuf *b)
{
	if (b->oom || !b->s) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

/* Has link i an earlier search domain d (before link i, domain j)? */
static bool
seen_domain(const struct links *l, size_t i, size_t j, const char *d)
{
	size_t a, b;

	for (a = 0; a <= i; a++)
		for (b = 0; b < (a == i ? j : l->v[a].ndomains); b++)
			if (!l->v[a].routing_only[b] && strcmp(l->v[a].domains[b], d) == 0)
				return true;
	return false;
}

static void
put_search(struct sbuf *b, const struct links *l)
{
	size_t i, j;
	bool any = false;

	for (i = 0; l && i < l->n; i++)
		for (j = 0; j < l->v[i].ndomains; j++) {
			const char *d = l->v[i].domains[j];

			if (l->v[i].routing_only[j] || strcmp(d, ".") == 0 || !*d ||
			    seen_domain(l, i, j, d))
				continue;
			put(b, any ? " " : "search ");
			put(b, d);
			any = true;
		}
	if (any)
		put(b, "\n");
}

char *
resolvfiles_stub(const struct links *l)
{
	struct sbuf b = { 0 };

	put(&b,
	    "# /run/systemd/resolve/" RESOLVFILES_STUB ", written by stubd (resolved-compat "
	    "yes, stubd.conf(5)).\n"
	    "# Do not edit: stubd rewrites it whenever its links change.\n"
	    "#\n"
	    "# Point /etc/resolv.conf here (a symbolic link) to have every program ask\n"
	    "# stubd on its local address " RESOLVFILES_STUB_ADDR
	    ", which forwards to the servers of\n"
	    "# the links; 'stubctl servers' shows them.\n\n");
	put(&b, "nameserver " RESOLVFILES_STUB_ADDR "\noptions edns0 trust-ad\n");
	put_search(&b, l);
	return finish(&b);
}

/* The server's address as resolv.conf takes it, or false to leave it out
 * (encrypted, not on port 53, link-local without a device). */
static bool
server_text(const struct cfg *c, const struct cfg_server *s, char *out, size_t len)
{
	const struct sockaddr_storage *ss = &s->addr.ss;
	char a[INET6_ADDRSTRLEN];

	if (s->transport != XPORT_UDP)
		return false;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		if (ntohs(in->sin_port) != DNS_PORT)
			return false;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(out, len, "%s", a);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		const char *dev = s->adapter < c->nadapters ? c->adapters[s->adapter].device : "";

		if (ntohs(in6->sin6_port) != DNS_PORT)
			return false;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		if (!cfg_linklocal6(&s->addr)) {
			snprintf(out, len, "%s", a);
			return true;
		}
		if (!*dev)
			return false;
		snprintf(out, len, "%s%%%s", a, dev);
		return true;
	}
	return false;
}

char *
resolvfiles_uplink(const struct cfg *c, const struct links *l)
{
	struct sbuf b = { 0 };
	char(*done)[INET6_ADDRSTRLEN + CFG_NAME_MAX + 2] = NULL;
	size_t i, j, n = 0;

	put(&b,
	    "# /run/systemd/resolve/" RESOLVFILES_UPLINK ", written by stubd (resolved-compat "
	    "yes, stubd.conf(5)).\n"
	    "# Do not edit: stubd rewrites it whenever its servers change.\n"
	    "#\n"
	    "# The clear-text upstream servers stubd forwards to, for programs that\n"
	    "# must ask them directly; everything else should use " RESOLVFILES_STUB ",\n"
	    "# which points at stubd itself.\n\n");
	if (c && c->nservers) {
		done = calloc(c->nservers, sizeof(*done));
		if (!done) {
			free(b.s);
			return NULL;
		}
	}
	for (i = 0; c && i < c->nservers; i++) {
		char t[sizeof(done[0])];
		bool dup = false;

		if (!server_text(c, &c->servers[i], t, sizeof(t)))
			continue;
		for (j = 0; j < n && !dup; j++)
			dup = strcmp(done[j], t) == 0;
		if (dup)
			continue;
		memcpy(done[n], t, sizeof(t));
		if (n++ == RESOLVFILES_MAXNS)
			put(&b,
			    "# More than three servers: programs that read this file "
			    "may ignore the ones below.\n");
		put(&b, "nameserver ");
		put(&b, t);
		put(&b, "\n");
	}
	free(done);
	put_search(&b, l);
	return finish(&b);
}
