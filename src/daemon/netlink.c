/*
 * netlink.c - rtnetlink parsing.
 */
#include "auto-config.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink.h"

void
ifstate_init(struct ifstate *s)
{
	memset(s, 0, sizeof(*s));
}

void
ifstate_fini(struct ifstate *s)
{
	free(s->v);
	ifstate_init(s);
}

size_t
nl_dump_request(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq)
{
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
	} req;

	if (cap < sizeof(req))
		return 0;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg));
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = seq;
	req.g.rtgen_family = AF_UNSPEC;
	memcpy(buf, &req, sizeof(req));
	return sizeof(req);
}

static struct ifs_entry *
by_index(struct ifstate *s, int index)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].index == index)
			return &s->v[i];
	return NULL;
}

static const struct ifs_entry *
by_name(const struct ifstate *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

static struct ifs_entry *
add(struct ifstate *s, int index)
{
	struct ifs_entry *nv = realloc(s->v, (s->n + 1) * sizeof(*nv)), *e;

	if (!nv)
		return NULL;
	s->v = nv;
	e = &s->v[s->n++];
	memset(e, 0, sizeof(*e));
	e->index = index;
	e->route_metric = -1;
	return e;
}

static void
drop(struct ifstate *s, struct ifs_entry *e)
{
	size_t i = (size_t)(e - s->v);

	memmove(e, e + 1, (s->n - i - 1) * sizeof(*e));
	s->n--;
}

/* the attributes of a message body after its fixed header */
struct attrs {
	const struct rtattr *a[IFLA_MAX + IFA_MAX + RTA_MAX + 8];
	size_t max;
};

/* Attributes by type.  The kernel's RTA_OK/RTA_NEXT underflow an unsigned
 * length on a short last attribute, so the walk is done here with every
 * length checked against what is left. */
static void
parse_attrs(const void *p, size_t len, struct attrs *at, size_t max)
{
	const uint8_t *b = p;
	size_t off = 0;

	memset(at, 0, sizeof(*at));
	at->max = max < sizeof(at->a) / sizeof(at->a[0]) ? max :
	                                                   sizeof(at->a) / sizeof(at->a[0]) - 1;
	while (len - off >= sizeof(struct rtattr)) {
		const struct rtattr *rta = (const struct rtattr *)(const void *)(b + off);
		size_t rl = rta->rta_len;

		if (rl < sizeof(struct rtattr) || rl > len - off)
			break;
		if (rta->rta_type <= at->max)
			at->a[rta->rta_type] = rta;
		if (RTA_ALIGN(rl) >= len - off)
			break;
		off += RTA_ALIGN(rl);
	}
}

static void
on_link(struct ifstate *s, const struct nlmsghdr *h, bool *changed,
    void (*changed_if)(void *arg, const char *name), void *arg)
{
	const struct ifinfomsg *ifi;
	struct attrs at;
	struct ifs_entry *e;
	size_t blen;
	bool up;
	char name[CFG_IFNAME_MAX] = "";

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	ifi = NLMSG_DATA(h);
	blen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	parse_attrs(IFLA_RTA(ifi), blen, &at, IFLA_MAX);
	if (at.a[IFLA_IFNAME]) {
		size_t n = RTA_PAYLOAD(at.a[IFLA_IFNAME]);

		if (n > sizeof(name) - 1)
			n = sizeof(name) - 1;
		memcpy(name, RTA_DATA(at.a[IFLA_IFNAME]), n);
		name[n] = 0;
		name[strnlen(name, n)] = 0;
	}
	e = by_index(s, ifi->ifi_index);
	if (h->nlmsg_type == RTM_DELLINK) {
		if (e) {
			if (changed_if)
				changed_if(arg, e->name);
			drop(s, e);
			*changed = true;
		}
		return;
	}
	up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_RUNNING);
	if (!e) {
		e = add(s, ifi->ifi_index);
		if (!e)
			return;
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->up = up;
		if (changed_if && s->dump_done)
			changed_if(arg, e->name);
		*changed = true;
		return;
	}
	if (*name && strcmp(name, e->name) != 0) {
		/* renamed: both names are concerned */
		if (changed_if)
			changed_if(arg, e->name);
		snprintf(e->name, sizeof(e->name), "%s", name);
		if (changed_if)
			changed_if(arg, e->name);
		*changed = true;
	}
	if (up != e->up) {
		e->up = up;
		if (changed_if)
			changed_if(arg, e->name);
		*changed = true;
	}
}

static void
on_addr(struct ifstate *s, const struct nlmsghdr *h, bool *changed,
    void (*changed_if)(void *arg, const char *name), void *arg)
{
	const struct ifaddrmsg *ifa;
	struct attrs at;
	struct ifs_entry *e;
	const struct rtattr *ra;
	uint8_t key[17];
	size_t blen, alen, i;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return;
	ifa = NLMSG_DATA(h);
	blen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa));
	parse_attrs(IFA_RTA(ifa), blen, &at, IFA_MAX);
	ra = at.a[IFA_LOCAL] ? at.a[IFA_LOCAL] : at.a[IFA_ADDRESS];
	e = by_index(s, (int)ifa->ifa_index);
	if (!ra || !e || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	if (RTA_PAYLOAD(ra) < alen)
		return;
	memset(key, 0, sizeof(key));
	key[0] = ifa->ifa_family;
	memcpy(key + 1, RTA_DATA(ra), alen);
	for (i = 0; i < e->naddrs && memcmp(e->addrs[i], key, sizeof(key)) != 0; i++)
		;
	if (h->nlmsg_type == RTM_NEWADDR) {
		if (i < e->naddrs || e->naddrs == IFS_MAX_ADDRS)
			return; /* known (a lifetime update) or no room */
		memcpy(e->addrs[e->naddrs++], key, sizeof(key));
	} else {
		if (i == e->naddrs)
			return;
		memmove(e->addrs[i], e->addrs[i + 1], (e->naddrs - i - 1) * sizeof(key));
		e->naddrs--;
	}
	if (changed_if && s->dump_done)
		changed_if(arg, e->name);
	*changed = true;
}

static void
on_route(struct ifstate *s, const struct nlmsghdr *h, bool *changed)
{
	const struct rtmsg *rt;
	struct attrs at;
	struct ifs_entry *e;
	size_t blen;
	int oif;
	long metric = 0;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)))
		return;
	rt = NLMSG_DATA(h);
	if (rt->rtm_dst_len != 0 || rt->rtm_table != RT_TABLE_MAIN)
		return; /* only default routes of the main table */
	blen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*rt));
	parse_attrs(RTM_RTA(rt), blen, &at, RTA_MAX);
	if (!at.a[RTA_OIF] || RTA_PAYLOAD(at.a[RTA_OIF]) < sizeof(int))
		return;
	memcpy(&oif, RTA_DATA(at.a[RTA_OIF]), sizeof(oif));
	if (at.a[RTA_PRIORITY] && RTA_PAYLOAD(at.a[RTA_PRIORITY]) >= sizeof(uint32_t)) {
		uint32_t m;

		memcpy(&m, RTA_DATA(at.a[RTA_PRIORITY]), sizeof(m));
		metric = m;
	}
	e = by_index(s, oif);
	if (!e)
		return;
	if (h->nlmsg_type == RTM_NEWROUTE) {
		if (e->route_metric < 0 || metric < e->route_metric) {
			e->route_metric = metric;
			*changed = true;
		}
	} else if (e->route_metric == metric) {
		e->route_metric = -1;
		*changed = true;
	}
}

void
nl_apply(struct ifstate *s, const uint8_t *buf, size_t len, bool *done, bool *changed,
    void (*changed_if)(void *arg, const char *name), void *arg)
{
	size_t off = 0;

	*done = false;
	*changed = false;
	/* as parse_attrs: NLMSG_OK/NLMSG_NEXT are not safe on short input */
	for (; len - off >= sizeof(struct nlmsghdr);
	     off += NLMSG_ALIGN(((const struct nlmsghdr *)(const void *)(buf + off))->nlmsg_len)) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)(const void *)(buf + off);

		if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > len - off)
			break;
		switch (h->nlmsg_type) {
		case NLMSG_DONE: *done = true; break;
		case RTM_NEWLINK:
		case RTM_DELLINK: on_link(s, h, changed, changed_if, arg); break;
		case RTM_NEWADDR:
		case RTM_DELADDR: on_addr(s, h, changed, changed_if, arg); break;
		case RTM_NEWROUTE:
		case RTM_DELROUTE: on_route(s, h, changed); break;
		default: break;
		}
		if (NLMSG_ALIGN(h->nlmsg_len) >= len - off)
			break;
	}
}

bool
ifstate_usable(const struct ifstate *s, const char *name)
{
	const struct ifs_entry *e = by_name(s, name);

	return e && e->up && e->naddrs > 0;
}

long
ifstate_route_metric(const struct ifstate *s, const char *name)
{
	const struct ifs_entry *e = by_name(s, name);

	return e ? e->route_metric : -1;
}
