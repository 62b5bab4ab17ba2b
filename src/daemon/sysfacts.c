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

#include "clock.h"
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

/* The usable addresses of the up interfaces. */
static size_t
host_addrs(struct synth_addr *out, size_t cap)
{
	struct ifaddrs *ifa, *p;
	size_t n = 0;

	if (getifaddrs(&ifa) != 0)
		return 0;
	for (p = ifa; p && n < cap; p = p->ifa_next) {
		struct synth_addr a;

		if (!p->ifa_addr || !(p->ifa_flags & IFF_UP) || !p->ifa_name)
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
		out[n++] = a;
	}
	freeifaddrs(ifa);
	return n;
}

static size_t
gateways(struct synth_addr *out, size_t cap)
{
	char *text = NULL;
	size_t len, n = 0;

	if (file_read("/proc/net/route", &text, &len) == STUB_OK)
		n += synth_parse_routes4(text, out, cap);
	free(text);
	text = NULL;
	if (n < cap && file_read("/proc/net/ipv6_route", &text, &len) == STUB_OK)
		n += synth_parse_routes6(text, out + n, cap - n);
	free(text);
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
		in6->sin6_scope_id = if_nametoindex(gw->ifname);
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
			if (gw->family == AF_INET6 && out->addr[0] == 0xfe &&
			    (out->addr[1] & 0xc0) == 0x80)
				out->scope = SYNTH_SCOPE_LINK;
			ok = synth_addr_usable(out);
		}
	}
	close(fd);
	return ok;
}

static size_t
read_addrs(enum synth_kind k, struct synth_addr *out, size_t cap)
{
	struct synth_addr gw[SYNTH_MAX_ADDRS];
	size_t n = 0, ng, i, j;

	switch (k) {
	case SYNTH_HOSTNAME: n = host_addrs(out, cap); break;
	case SYNTH_GATEWAY: n = gateways(out, cap); break;
	case SYNTH_OUTBOUND:
		ng = gateways(gw, SYNTH_MAX_ADDRS);
		synth_sort(gw, ng);
		for (i = 0; i < ng && n < cap; i++) {
			bool dup = false;

			if (!outbound(&gw[i], &out[n]))
				continue;
			for (j = 0; j < n && !dup; j++)
				dup = out[j].family == out[n].family &&
				    memcmp(out[j].addr, out[n].addr, 16) == 0;
			if (!dup)
				n++;
		}
		break;
	default: return 0;
	}
	synth_sort(out, n);
	return n;
}

size_t
sysfacts_addrs(void *arg, enum synth_kind k, struct synth_addr *out, size_t cap)
{
	struct sysfacts *f = arg;
	uint64_t now = clock_now_ms();
	size_t n;

	if (!f || !out || k <= SYNTH_NONE || k >= SYNTH_REVERSE)
		return 0;
	if (!f->kept[k].at || now - f->kept[k].at >= SYSFACTS_KEEP_MS) {
		f->kept[k].n = read_addrs(k, f->kept[k].v, SYNTH_MAX_ADDRS);
		f->kept[k].at = now ? now : 1;
	}
	n = f->kept[k].n < cap ? f->kept[k].n : cap;
	memcpy(out, f->kept[k].v, n * sizeof(*out));
	return n;
}
