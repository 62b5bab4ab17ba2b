/*
 * sysfacts.c - host name, addresses, gateways and outbound addresses for
 * the synthesized names of SPEC 16.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "file.h"
#include "sysfacts.h"

bool
sysfacts_refresh(struct sysfacts *f)
{
	struct synth_names n;
	char host[256];

	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = 0;
	host[sizeof(host) - 1] = 0;
	(void)synth_names_set(&n, host);
	if (synth_names_equal(&n, &f->names))
		return false;
	f->names = n;
	return true;
}

/* The interface named so in f->ifs, added when new (NULL when full). */
static struct sysfacts_if *
if_entry(struct sysfacts *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nifs; i++)
		if (strcmp(f->ifs[i].name, name) == 0)
			return &f->ifs[i];
	if (f->nifs == SYSFACTS_MAX_IFS || strlen(name) >= SYNTH_IFNAME_MAX)
		return NULL;
	memset(&f->ifs[f->nifs], 0, sizeof(f->ifs[0]));
	strcpy(f->ifs[f->nifs].name, name);
	return &f->ifs[f->nifs++];
}

/* The usable addresses of the up interfaces, and the interfaces' mDNS
 * scopes into f. */
static size_t
host_addrs(struct sysfacts *f, struct synth_addr *out, size_t cap)
{
	struct ifaddrs *ifa, *p;
	size_t n = 0;

	f->nifs = 0;
	if (getifaddrs(&ifa) != 0)
		return 0;
	for (p = ifa; p; p = p->ifa_next) {
		struct synth_addr a;
		struct sysfacts_if *e;

		if (!p->ifa_addr || !(p->ifa_flags & IFF_UP) || !p->ifa_name)
			continue;
		if ((p->ifa_flags & IFF_MULTICAST) && !(p->ifa_flags & IFF_LOOPBACK) &&
		    (p->ifa_addr->sa_family == AF_INET || p->ifa_addr->sa_family == AF_INET6) &&
		    (e = if_entry(f, p->ifa_name)) != NULL)
			e->mdns |= p->ifa_addr->sa_family == AF_INET ? SYSFACTS_MDNS4 :
			                                               SYSFACTS_MDNS6;
		if (n == cap)
			continue;
		memset(&a, 0, sizeof(a));
		if (p->ifa_addr->sa_family == AF_INET) {
			a.family = AF_INET;
			memcpy(a.addr, &((const struct sockaddr_in *)p->ifa_addr)->sin_addr, 4);
		} else if (p->ifa_addr->sa_family == AF_INET6) {
			a.family = AF_INET6;
			memcpy(a.addr, &((const struct sockaddr_in6 *)p->ifa_addr)->sin6_addr, 16);
			if (a.addr[0] == 0xfe && (a.addr[1] & 0xc0) == 0x80)
				a.scope = SYNTH_SCOPE_LINK;
		} else {
			continue;
		}
		if (!synth_addr_usable(&a))
			continue;
		strncpy(a.ifname, p->ifa_name, sizeof(a.ifname) - 1);
		a.ifindex = if_nametoindex(a.ifname);
		out[n++] = a;
	}
	freeifaddrs(ifa);
	return n;
}

static size_t
gateways(struct synth_addr *out, size_t cap)
{
	char *text = NULL;
	size_t len, n = 0, i;

	if (file_read("/proc/net/route", &text, &len) == STUB_OK)
		n += synth_parse_routes4(text, out, cap);
	free(text);
	text = NULL;
	if (n < cap && file_read("/proc/net/ipv6_route", &text, &len) == STUB_OK)
		n += synth_parse_routes6(text, out + n, cap - n);
	free(text);
	for (i = 0; i < n; i++)
		out[i].ifindex = if_nametoindex(out[i].ifname);
	return n;
}

/* The local address the kernel picks toward gw: false when none. */
static bool
outbound(const struct synth_addr *gw, struct synth_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = socket(gw->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok = false;

	if (fd < 0)
		return false;
	memset(&ss, 0, sizeof(ss));
	memset(out, 0, sizeof(*out));
	out->family = gw->family;
	if (gw->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(53);
		memcpy(&in->sin_addr, gw->addr, 4);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(53);
		memcpy(&in6->sin6_addr, gw->addr, 16);
		in6->sin6_scope_id = gw->ifindex;
		sl = sizeof(*in6);
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0) {
		sl = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    ss.ss_family == gw->family) {
			if (gw->family == AF_INET)
				memcpy(out->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
			else
				memcpy(out->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
			out->metric = gw->metric;
			memcpy(out->ifname, gw->ifname, sizeof(out->ifname));
			out->ifindex = gw->ifindex;
			if (gw->family == AF_INET6 && out->addr[0] == 0xfe &&
			    (out->addr[1] & 0xc0) == 0x80)
				out->scope = SYNTH_SCOPE_LINK;
			ok = synth_addr_usable(out);
		}
	}
	close(fd);
	return ok;
}

void
sysfacts_read(struct sysfacts *f)
{
	struct synth_addr *gw = f->kept[SYNTH_GATEWAY].v, *o = f->kept[SYNTH_OUTBOUND].v;
	size_t ng, n = 0, i, j;

	f->reads++;
	f->kept[SYNTH_HOSTNAME].n = host_addrs(f, f->kept[SYNTH_HOSTNAME].v, SYNTH_MAX_ADDRS);
	synth_sort(f->kept[SYNTH_HOSTNAME].v, f->kept[SYNTH_HOSTNAME].n);
	ng = gateways(gw, SYNTH_MAX_ADDRS);
	synth_sort(gw, ng);
	f->kept[SYNTH_GATEWAY].n = ng;
	for (i = 0; i < ng && n < SYNTH_MAX_ADDRS; i++) {
		bool dup = false;

		if (!outbound(&gw[i], &o[n]))
			continue;
		for (j = 0; j < n && !dup; j++)
			dup = o[j].family == o[n].family && memcmp(o[j].addr, o[n].addr, 16) == 0;
		if (!dup)
			n++;
	}
	synth_sort(o, n);
	f->kept[SYNTH_OUTBOUND].n = n;
}

size_t
sysfacts_addrs(void *arg, enum synth_kind k, struct synth_addr *out, size_t cap)
{
	struct sysfacts *f = arg;
	size_t n;

	if (!f || !out || k <= SYNTH_NONE || k >= SYNTH_REVERSE)
		return 0;
	n = f->kept[k].n < cap ? f->kept[k].n : cap;
	memcpy(out, f->kept[k].v, n * sizeof(*out));
	return n;
}

unsigned
sysfacts_mdns(const struct sysfacts *f, const char *ifname)
{
	size_t i;

	for (i = 0; f && ifname && i < f->nifs; i++)
		if (strcmp(f->ifs[i].name, ifname) == 0)
			return f->ifs[i].mdns;
	return 0;
}
