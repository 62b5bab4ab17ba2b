/*
 * check_network.c - what stubd learns of the network, without a network:
 * learned links (stubctl link, resolvconf files) and their stubd.conf
 * rendering, rtnetlink messages made by hand, and the schedule skipping an
 * adapter whose link is down.
 */
#include "auto-config.h"

#include <check.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "checkmain.h"
#include "links.h"
#include "netlink.h"
#include "schedule.h"

START_TEST(test_link_settings)
{
	struct links l;
	char why[128], *text;
	static const char *const dns_t[] = { "192.0.2.1", "192.0.2.2:5353#dns.example",
		"[2001:db8::1]:853" };
	static const char *const doms_t[] = { "Corp.Example.", "~vpn.example", "~." };
	static const char *const bad_t[] = { "192.0.2.1", "nonsense" };
	char *const *dns = (char *const *)(uintptr_t)dns_t;
	char *const *doms = (char *const *)(uintptr_t)doms_t;
	char *const *bad = (char *const *)(uintptr_t)bad_t;
	struct cfg *base;

	links_init(&l);
	ck_assert_int_eq(links_set_dns(&l, "wg0", ORIGIN_CONTROL, dns, 3, why, sizeof(why)), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0].servers[0].text, "192.0.2.1:53");
	ck_assert_str_eq(l.v[0].servers[1].text, "192.0.2.2:5353");
	ck_assert_str_eq(l.v[0].servers[1].name, "dns.example");
	ck_assert_str_eq(l.v[0].servers[2].text, "[2001:db8::1]:853");
	/* a bad address changes nothing */
	ck_assert_int_eq(links_set_dns(&l, "wg0", ORIGIN_CONTROL, bad, 2, why, sizeof(why)),
	    STUB_EINVAL);
	ck_assert(strstr(why, "nonsense") != NULL);
	ck_assert_uint_eq(l.v[0].nservers, 3);
	ck_assert_int_eq(links_set_dns(&l, "bad/if", ORIGIN_CONTROL, dns, 1, why, sizeof(why)),
	    STUB_EINVAL);
	ck_assert_int_eq(links_set_dns(&l, "..", ORIGIN_CONTROL, dns, 1, why, sizeof(why)),
	    STUB_EINVAL);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(links_set_domains(&l, "wg0", ORIGIN_CONTROL, doms, 3, why, sizeof(why)),
	    0);
	ck_assert_str_eq(l.v[0].domains[0], "corp.example");
	ck_assert(!l.v[0].routing_only[0]);
	ck_assert(l.v[0].routing_only[1]);
	ck_assert_int_eq(
	    links_set_default_route(&l, "wg0", ORIGIN_CONTROL, false, why, sizeof(why)), 0);
	/* rendered as configuration: "~." keeps the default route */
	base = cfg_new(NULL, NULL);
	cfg_finish(base, NULL);
	text = links_config_text(&l, base, NULL, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text,
	    "adapter wg0 device wg0 metric 100 default-route yes\n"
	    "server 192.0.2.1:53\nserver 192.0.2.2:5353\nserver [2001:db8::1]:853\n"
	    /* SPEC 17: a named server is also a DNR resolver (its twin) */
	    "dnr 2 dns.example 192.0.2.2 alpn=dot\n"
	    "domain corp.example\ndomain vpn.example\n");
	free(text);
	/* DNS over TLS: by #NAME, else by address; 853 unless a port was given */
	ck_assert_int_eq(links_set_dot(&l, "wg0", ORIGIN_CONTROL, true, why, sizeof(why)), 0);
	text = links_config_text(&l, base, NULL, NULL);
	ck_assert_str_eq(text,
	    "adapter wg0 device wg0 metric 100 default-route yes\n"
	    "server 192.0.2.1:853 tls 192.0.2.1\nserver 192.0.2.2:5353 tls dns.example\n"
	    "server [2001:db8::1]:853 tls 2001:db8::1\n"
	    "domain corp.example\ndomain vpn.example\n");
	{
		struct cfg *c2 = cfg_new(NULL, NULL);

		ck_assert_uint_eq(cfg_parse_text(c2, text, strlen(text), "links"), 0);
		ck_assert_int_eq(c2->servers[0].transport, XPORT_TLS);
		ck_assert_str_eq(c2->servers[0].auth_name, "192.0.2.1");
		ck_assert(cfg_server_authenticated(&c2->servers[1]));
		cfg_unref(c2);
	}
	free(text);
	ck_assert_int_eq(links_set_dot(&l, "wg0", ORIGIN_CONTROL, false, why, sizeof(why)), 0);
	/* SPEC 17: the link's encryption policy on its adapter line */
	ck_assert_int_eq(
	    links_set_encryption(&l, "wg0", ORIGIN_CONTROL, ENC_OPPORTUNISTIC, why, sizeof(why)),
	    0);
	text = links_config_text(&l, base, NULL, NULL);
	ck_assert(strncmp(text,
	              "adapter wg0 device wg0 metric 100 default-route yes "
	              "encryption opportunistic\nserver 192.0.2.1:53\n",
	              80) == 0);
	{
		struct cfg *c2 = cfg_new(NULL, NULL);

		ck_assert_uint_eq(cfg_parse_text(c2, text, strlen(text), "links"), 0);
		ck_assert_int_eq(c2->adapters[cfg_adapter_find(c2, "wg0")].encryption,
		    ENC_OPPORTUNISTIC);
		cfg_unref(c2);
	}
	free(text);
	text = links_config_text(&l, base, NULL, NULL);
	ck_assert_uint_eq(cfg_parse_text(base, text, strlen(text), "links"), 0);
	ck_assert_int_ge(cfg_adapter_find(base, "wg0"), 0);
	free(text);
	/* a #NAME that no certificate could carry is refused */
	{
		static const char *const badname_t[] = { "192.0.2.9#bad name" };

		ck_assert_int_eq(links_set_dns(&l, "wg0", ORIGIN_CONTROL,
		                     (char *const *)(uintptr_t)badname_t, 1, why, sizeof(why)),
		    STUB_EINVAL);
	}
	/* a link named like a configured adapter is skipped */
	text = links_config_text(&l, base, NULL, NULL);
	ck_assert_str_eq(text, "");
	free(text);
	cfg_unref(base);
	ck_assert(links_revert(&l, "wg0"));
	ck_assert(!links_revert(&l, "wg0"));
	ck_assert_uint_eq(l.n, 0);
	links_fini(&l);
}
END_TEST

static int nerr;

static void
count_err(void *arg, unsigned line, const char *msg)
{
	(void)arg;
	(void)msg;
	ck_assert_uint_gt(line, 0);
	nerr++;
}

/* SPEC 19: MulticastDNS no per link; other links and unknown interfaces
 * ask; revert forgets it; it changes nothing in the rendered config */
START_TEST(test_link_mdns)
{
	struct links l;
	char why[128];

	links_init(&l);
	ck_assert(!links_mdns_off(&l, "eth0"));
	ck_assert_int_eq(links_set_mdns(&l, "eth0", ORIGIN_DBUS, false, why, sizeof(why)), 0);
	ck_assert(links_mdns_off(&l, "eth0"));
	ck_assert(!links_mdns_off(&l, "eth1"));
	ck_assert_int_eq(links_set_mdns(&l, "eth0", ORIGIN_DBUS, true, why, sizeof(why)), 0);
	ck_assert(!links_mdns_off(&l, "eth0"));
	ck_assert_int_eq(links_set_mdns(&l, "eth0", ORIGIN_DBUS, false, why, sizeof(why)), 0);
	ck_assert(links_revert(&l, "eth0"));
	ck_assert(!links_mdns_off(&l, "eth0"));
	ck_assert_int_eq(links_set_mdns(&l, "bad/if", ORIGIN_DBUS, false, why, sizeof(why)),
	    STUB_EINVAL);
	links_fini(&l);
}
END_TEST

START_TEST(test_resolvconf_files)
{
	static const char a[] = "# dhclient\nnameserver 192.0.2.53\nnameserver junk\n"
	                        "search corp.example lab.example ; comment\noptions edns0\n";
	static const char b[] = "nameserver fe80::1%eth0\ndomain home.example\n";
	struct links l;

	links_init(&l);
	nerr = 0;
	ck_assert_int_eq(
	    links_add_resolvconf(&l, "eth0.dhclient", a, sizeof(a) - 1, count_err, NULL), 0);
	ck_assert_int_eq(links_add_resolvconf(&l, "eth0.inet6", b, sizeof(b) - 1, count_err, NULL),
	    0);
	ck_assert_int_eq(nerr, 1);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0].ifname, "eth0");
	ck_assert_int_eq(l.v[0].origin, ORIGIN_RESOLVCONF);
	ck_assert_uint_eq(l.v[0].nservers, 2);
	ck_assert_str_eq(l.v[0].servers[1].text, "[fe80::1]:53");
	ck_assert_uint_eq(l.v[0].ndomains, 3);
	ck_assert_str_eq(l.v[0].domains[2], "home.example");
	ck_assert_int_eq(links_add_resolvconf(&l, ".hidden", a, sizeof(a) - 1, NULL, NULL),
	    STUB_EINVAL);
	links_drop_origin(&l, ORIGIN_RESOLVCONF);
	ck_assert_uint_eq(l.n, 0);
	links_fini(&l);
}
END_TEST

/* ---- rtnetlink messages made by hand ---- */

struct msgbuf {
	uint8_t b[4096];
	size_t len;
};

static void *
put_msg(struct msgbuf *m, uint16_t type, const void *body, size_t blen)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(void *)(m->b + m->len);

	memset(h, 0, NLMSG_LENGTH(blen));
	h->nlmsg_len = (uint32_t)NLMSG_LENGTH(blen);
	h->nlmsg_type = type;
	memcpy(NLMSG_DATA(h), body, blen);
	m->len += NLMSG_ALIGN(h->nlmsg_len);
	return h;
}

static void
put_attr(struct msgbuf *m, struct nlmsghdr *h, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(void *)((uint8_t *)h + NLMSG_ALIGN(h->nlmsg_len));
	size_t old = NLMSG_ALIGN(h->nlmsg_len);

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = (uint32_t)(old + RTA_ALIGN(a->rta_len));
	m->len = (size_t)((uint8_t *)h - m->b) + NLMSG_ALIGN(h->nlmsg_len);
}

static void
link_msg(struct msgbuf *m, uint16_t type, int index, const char *name, unsigned flags)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = flags };
	struct nlmsghdr *h = put_msg(m, type, &ifi, sizeof(ifi));

	put_attr(m, h, IFLA_IFNAME, name, strlen(name) + 1);
}

static void
addr_msg(struct msgbuf *m, uint16_t type, int index, uint8_t last)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET,
		.ifa_prefixlen = 24,
		.ifa_index = (uint32_t)index };
	uint8_t a[4] = { 10, 0, 0, last };
	struct nlmsghdr *h = put_msg(m, type, &ifa, sizeof(ifa));

	put_attr(m, h, IFA_LOCAL, a, 4);
}

static void
route_msg(struct msgbuf *m, uint16_t type, int index, uint32_t metric)
{
	struct rtmsg rt = { .rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN };
	struct nlmsghdr *h = put_msg(m, type, &rt, sizeof(rt));

	put_attr(m, h, RTA_OIF, &index, sizeof(index));
	put_attr(m, h, RTA_PRIORITY, &metric, sizeof(metric));
}

static char seen[8][CFG_IFNAME_MAX];
static size_t nseen;

static void
note(void *arg, const char *name)
{
	(void)arg;
	if (nseen < 8)
		snprintf(seen[nseen++], CFG_IFNAME_MAX, "%s", name);
}

static void
apply(struct ifstate *s, struct msgbuf *m, bool *done)
{
	bool changed;

	nseen = 0;
	nl_apply(s, m->b, m->len, done, &changed, note, NULL);
	m->len = 0;
}

START_TEST(test_rtnetlink)
{
	struct ifstate s;
	struct msgbuf m = { .len = 0 };
	struct nlmsghdr done_h = { .nlmsg_len = NLMSG_LENGTH(0), .nlmsg_type = NLMSG_DONE };
	bool done;
	uint8_t req[64];

	ck_assert_uint_gt(nl_dump_request(req, sizeof(req), RTM_GETLINK, 1), 0);
	ck_assert_uint_eq(nl_dump_request(req, 4, RTM_GETLINK, 1), 0);
	ifstate_init(&s);
	/* the first dumps */
	link_msg(&m, RTM_NEWLINK, 2, "eth0", IFF_UP | IFF_RUNNING);
	link_msg(&m, RTM_NEWLINK, 3, "wlan0", IFF_UP); /* no carrier */
	memcpy(m.b + m.len, &done_h, sizeof(done_h));
	m.len += NLMSG_ALIGN(sizeof(done_h));
	apply(&s, &m, &done);
	ck_assert(done);
	ck_assert_uint_eq(s.n, 2);
	ck_assert(!ifstate_usable(&s, "eth0")); /* no address yet */
	addr_msg(&m, RTM_NEWADDR, 2, 5);
	route_msg(&m, RTM_NEWROUTE, 2, 600);
	apply(&s, &m, &done);
	s.dump_done = true;
	ck_assert(ifstate_usable(&s, "eth0"));
	ck_assert(!ifstate_usable(&s, "wlan0"));
	ck_assert(!ifstate_usable(&s, "nosuch0"));
	ck_assert_int_eq(ifstate_route_metric(&s, "eth0"), 600);
	ck_assert_int_eq(ifstate_route_metric(&s, "wlan0"), -1);
	/* the same address again (a lifetime update) changes nothing */
	addr_msg(&m, RTM_NEWADDR, 2, 5);
	apply(&s, &m, &done);
	ck_assert_uint_eq(nseen, 0);
	/* carrier lost */
	link_msg(&m, RTM_NEWLINK, 2, "eth0", IFF_UP);
	apply(&s, &m, &done);
	ck_assert_uint_eq(nseen, 1);
	ck_assert_str_eq(seen[0], "eth0");
	ck_assert(!ifstate_usable(&s, "eth0"));
	/* back, then its last address goes */
	link_msg(&m, RTM_NEWLINK, 2, "eth0", IFF_UP | IFF_RUNNING);
	addr_msg(&m, RTM_DELADDR, 2, 5);
	apply(&s, &m, &done);
	ck_assert(!ifstate_usable(&s, "eth0"));
	addr_msg(&m, RTM_NEWADDR, 2, 6);
	apply(&s, &m, &done);
	ck_assert(ifstate_usable(&s, "eth0"));
	/* renamed: both names concerned; then removed and the index reused */
	link_msg(&m, RTM_NEWLINK, 2, "lan0", IFF_UP | IFF_RUNNING);
	apply(&s, &m, &done);
	ck_assert_uint_eq(nseen, 2);
	ck_assert(!ifstate_usable(&s, "eth0"));
	ck_assert(ifstate_usable(&s, "lan0"));
	link_msg(&m, RTM_DELLINK, 2, "lan0", 0);
	link_msg(&m, RTM_NEWLINK, 2, "veth9", IFF_UP | IFF_RUNNING);
	apply(&s, &m, &done);
	ck_assert(!ifstate_usable(&s, "lan0"));
	ck_assert(!ifstate_usable(&s, "veth9")); /* a new link: no address */
	/* truncated garbage is skipped */
	memset(m.b, 0xff, 64);
	m.len = 10;
	apply(&s, &m, &done);
	ck_assert(!done);
	ifstate_fini(&s);
}
END_TEST

/* ---- the schedule and a link that goes down ---- */

START_TEST(test_sched_link_down)
{
	static const char conf[] = "adapter lan metric 10\nserver 10.0.0.1\n"
	                           "adapter wifi metric 20\nserver 10.1.0.1\n";
	struct cfg *c = cfg_new(NULL, NULL);
	struct sched *s;
	struct sched_search ss;
	size_t t[4];
	uint8_t n[WIRE_NAME_MAX];
	size_t l = wire_name_from_text("x.example", n);

	cfg_parse_text(c, conf, strlen(conf), "t");
	cfg_finish(c, NULL);
	s = sched_new(c);
	ck_assert_int_eq(sched_search_init(s, &ss, n, l, 0), STUB_OK);
	ck_assert_uint_eq(sched_phase_targets(s, &ss, 0, 0, t), 1);
	ck_assert_uint_eq(t[0], 0); /* lan first */
	ck_assert(!sched_phase_waits_only_on_down(s, &ss, 0));
	s->adapters[0].down = true; /* lan's link goes */
	ck_assert(sched_phase_waits_only_on_down(s, &ss, 0));
	ck_assert_uint_eq(sched_on_phase_end(s, &ss, 0), 0); /* not a timeout */
	ck_assert_uint_eq(sched_phase_targets(s, &ss, 1, 100, t), 1);
	ck_assert_uint_eq(t[0], 1); /* wifi */
	/* wifi says NXDOMAIN: the only adapter considered now, so that is final */
	sched_search_fini(&ss);
	ck_assert_int_eq(sched_search_init(s, &ss, n, l, 200), STUB_OK);
	ck_assert_uint_eq(sched_phase_targets(s, &ss, 0, 200, t), 1);
	ck_assert_uint_eq(t[0], 1);
	ck_assert_int_eq(sched_on_answer(s, &ss, 1, ANS_NEGATIVE, 5, 205), SCHED_NEGATIVE);
	sched_search_end(s, &ss, 205);
	sched_search_fini(&ss);
	ck_assert(!sched_server_excluded(s, 0, 300));
	ck_assert_uint_eq(s->servers[0].timeouts, 0);
	sched_free(s);
	cfg_unref(c);
}
END_TEST

START_TEST(test_default_route_no)
{
	static const char conf[] =
	    "adapter lan metric 10\nserver 10.0.0.1\n"
	    "adapter vpn metric 5 default-route no\nserver 10.8.0.1\ndomain corp.example\n";
	struct cfg *c = cfg_new(NULL, NULL);
	struct sched *s;
	struct sched_search ss;
	size_t t[4];
	uint8_t n[WIRE_NAME_MAX];
	size_t l;

	ck_assert_uint_eq(cfg_parse_text(c, conf, strlen(conf), "t"), 0);
	cfg_finish(c, NULL);
	ck_assert(!c->adapters[1].default_route);
	s = sched_new(c);
	l = wire_name_from_text("www.example.com", n);
	ck_assert_int_eq(sched_search_init(s, &ss, n, l, 0), STUB_OK);
	ck_assert_uint_eq(sched_phase_targets(s, &ss, 2, 0, t), 1);
	ck_assert_uint_eq(t[0], 0); /* the vpn never sees it */
	sched_search_fini(&ss);
	l = wire_name_from_text("host.corp.example", n);
	ck_assert_int_eq(sched_search_init(s, &ss, n, l, 0), STUB_OK);
	ck_assert_uint_eq(sched_phase_targets(s, &ss, 2, 0, t), 1);
	ck_assert_uint_eq(t[0], 1);
	sched_search_fini(&ss);
	sched_free(s);
	cfg_unref(c);
}
END_TEST

/* SPEC 17 DNR on a link: added, replaced by (priority, name), bounded,
 * bad words refused with nothing changed, rendered as dnr lines. */
START_TEST(test_link_dnr)
{
	static const char *const a_t[] = { "10", "dns.test", "192.0.2.53", "alpn=dot" };
	static const char *const b_t[] = { "10", "dns.test", "192.0.2.54", "alpn=h2", "port=8443" };
	static const char *const bad_t[] = { "10", "dns.test", "192.0.2.53", "alpn=doq" };
	static const char *const hex_t[] = { "zz" };
	char *const *a = (char *const *)(uintptr_t)a_t;
	char *const *b = (char *const *)(uintptr_t)b_t;
	char *const *bad = (char *const *)(uintptr_t)bad_t;
	char *const *hex = (char *const *)(uintptr_t)hex_t;
	struct links l;
	char why[256], *text, prio[8];
	const char *w[4] = { prio, "x.test", "192.0.2.9", "alpn=dot" };
	int i;

	links_init(&l);
	ck_assert_int_eq(links_add_dnr(&l, "eth0", ORIGIN_CONTROL, a, 4, why, sizeof(why)), 0);
	ck_assert_int_eq(links_add_dnr(&l, "eth0", ORIGIN_CONTROL, b, 5, why, sizeof(why)), 0);
	ck_assert_uint_eq(l.v[0].ndnr, 1); /* the same priority and name: replaced */
	ck_assert_int_eq(links_add_dnr(&l, "eth0", ORIGIN_CONTROL, bad, 4, why, sizeof(why)),
	    STUB_EINVAL);
	ck_assert(strstr(why, "ALPN") != NULL);
	ck_assert_int_eq(
	    links_set_dnr_option(&l, "eth0", ORIGIN_CONTROL, false, hex, 1, why, sizeof(why)),
	    STUB_EINVAL);
	ck_assert_uint_eq(l.v[0].ndnr, 1);
	text = links_config_text(&l, NULL, NULL, NULL);
	ck_assert_str_eq(text,
	    "adapter eth0 device eth0 metric 100 default-route yes\n"
	    "dnr 10 dns.test 192.0.2.54 alpn=h2 port=8443\n");
	free(text);
	for (i = 1; i < LINK_MAX_DNR; i++) {
		snprintf(prio, sizeof(prio), "%d", i);
		ck_assert_int_eq(links_add_dnr(&l, "eth0", ORIGIN_CONTROL,
		                     (char *const *)(uintptr_t)w, 4, why, sizeof(why)),
		    0);
	}
	snprintf(prio, sizeof(prio), "99");
	ck_assert_int_eq(links_add_dnr(&l, "eth0", ORIGIN_CONTROL, (char *const *)(uintptr_t)w, 4,
	                     why, sizeof(why)),
	    STUB_EINVAL);
	ck_assert_uint_eq(l.v[0].ndnr, LINK_MAX_DNR);
	ck_assert_int_eq(links_set_dnr(&l, "eth0", ORIGIN_CONTROL, NULL, 0, why, sizeof(why)), 0);
	ck_assert_uint_eq(l.v[0].ndnr, 0);
	text = links_config_text(&l, NULL, NULL, NULL);
	ck_assert_str_eq(text, ""); /* nothing left to render */
	free(text);
	links_fini(&l);
}
END_TEST

/* The DNR entries of all links together: 5 links with LINK_MAX_DNR each,
 * then a named server (one more DNR entry) on a 6th link all parse into
 * one configuration that keeps every server. */
START_TEST(test_dnr_many_links)
{
	const char *w[4] = { NULL, "x.test", "192.0.2.9", "alpn=dot" };
	static const char *const named_t[] = { "192.0.2.77#dns.named.test", "192.0.2.78" };
	char *const *named = (char *const *)(uintptr_t)named_t;
	char why[256], prio[8], ifname[16], *text;
	struct links l;
	struct cfg *c;
	size_t i, errs;
	int k, j;

	w[0] = prio;
	links_init(&l);
	for (k = 0; k < 5; k++) {
		snprintf(ifname, sizeof(ifname), "eth%d", k);
		for (j = 1; j <= LINK_MAX_DNR; j++) {
			snprintf(prio, sizeof(prio), "%d", j);
			ck_assert_int_eq(links_add_dnr(&l, ifname, ORIGIN_CONTROL,
			                     (char *const *)(uintptr_t)w, 4, why, sizeof(why)),
			    0);
		}
	}
	ck_assert_int_eq(links_set_dns(&l, "wlan0", ORIGIN_DBUS, named, 2, why, sizeof(why)), 0);
	text = links_config_text(&l, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(text);
	c = cfg_new(NULL, NULL);
	errs = cfg_parse_text(c, text, strlen(text), "links");
	free(text);
	ck_assert_uint_eq(errs, 0);
	ck_assert_uint_eq(c->ndnr, 5 * LINK_MAX_DNR + 1);
	for (i = 0; i < c->nservers; i++)
		if (strcmp(c->servers[i].text, "192.0.2.77:53") == 0)
			break;
	ck_assert_uint_lt(i, c->nservers); /* the 6th link keeps its servers */
	{
		struct cfg *c2 = cfg_clone(c);

		ck_assert_ptr_nonnull(c2);
		ck_assert_uint_eq(c2->ndnr, c->ndnr);
		ck_assert_ptr_ne(c2->dnr, c->dnr);
		ck_assert_str_eq(c2->dnr[c->ndnr - 1].name, "dns.named.test");
		cfg_unref(c2);
	}
	cfg_unref(c);
	links_fini(&l);
}
END_TEST

static Suite *
network_suite(void)
{
	Suite *s = suite_create("network");
	TCase *t = tcase_create("learned");

	tcase_add_test(t, test_link_settings);
	tcase_add_test(t, test_link_dnr);
	tcase_add_test(t, test_link_mdns);
	tcase_add_test(t, test_resolvconf_files);
	tcase_add_test(t, test_rtnetlink);
	tcase_add_test(t, test_sched_link_down);
	tcase_add_test(t, test_default_route_no);
	tcase_add_test(t, test_dnr_many_links);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(network_suite());
}
