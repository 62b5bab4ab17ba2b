/*
 * check_synthname.c - the synthesized names of SPEC 16 (synthname.c):
 * which names are the host name, _gateway and _outbound; the default
 * routes read from /proc/net text; the order of addresses; the answers
 * (loopback fallback of the host name, NXDOMAIN and NODATA of _gateway).
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "checkmain.h"
#include "synthname.h"
#include "testutil.h"

static enum synth_kind
kind_of(const struct synth_names *n, const char *text)
{
	uint8_t w[WIRE_NAME_MAX];
	size_t l = wire_name_from_text(text, w);

	ck_assert_uint_gt(l, 0);
	wire_name_lower(w, l);
	return synth_kind(n, w, l);
}

static struct synth_addr
addr(const char *text)
{
	struct synth_addr a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(text, ':') ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(a.family, text, a.addr), 1);
	if (a.family == AF_INET6 && a.addr[0] == 0xfe && (a.addr[1] & 0xc0) == 0x80)
		a.scope = SYNTH_SCOPE_LINK;
	return a;
}

static const char *
text_of(const struct synth_addr *a)
{
	static char buf[INET6_ADDRSTRLEN];

	inet_ntop(a->family, a->addr, buf, sizeof(buf));
	return buf;
}

START_TEST(test_kinds)
{
	struct synth_names n;

	ck_assert(synth_names_set(&n, "Laptop.Example.COM"));
	ck_assert_int_eq(kind_of(&n, "laptop.example.com"), SYNTH_HOSTNAME);
	ck_assert_int_eq(kind_of(&n, "LAPTOP"), SYNTH_HOSTNAME);
	ck_assert_int_eq(kind_of(&n, "laptop.local"), SYNTH_HOSTNAME);
	ck_assert_int_eq(kind_of(&n, "laptop.example"), SYNTH_NONE);
	ck_assert_int_eq(kind_of(&n, "x.laptop"), SYNTH_NONE);
	ck_assert_int_eq(kind_of(&n, "_gateway"), SYNTH_GATEWAY);
	ck_assert_int_eq(kind_of(&n, "_Gateway"), SYNTH_GATEWAY);
	ck_assert_int_eq(kind_of(&n, "_outbound"), SYNTH_OUTBOUND);
	ck_assert_int_eq(kind_of(&n, "_gateway.example"), SYNTH_NONE);
	ck_assert_int_eq(kind_of(&n, "x._outbound"), SYNTH_NONE);
	ck_assert_int_eq(kind_of(&n, "www.example.com"), SYNTH_NONE);
	/* no host name: only the two fixed names */
	ck_assert_int_eq(kind_of(NULL, "_gateway"), SYNTH_GATEWAY);
	ck_assert_int_eq(kind_of(NULL, "laptop"), SYNTH_NONE);
	ck_assert(!synth_names_set(&n, ""));
	ck_assert_int_eq(kind_of(&n, "laptop"), SYNTH_NONE);
	ck_assert_int_eq(kind_of(&n, "_outbound"), SYNTH_OUTBOUND);
	/* localhost-like names are the local zone's */
	ck_assert(!synth_names_set(&n, "localhost"));
	ck_assert(!synth_names_set(&n, "localhost.localdomain"));
	ck_assert(!synth_names_set(&n, "a.localhost"));
	ck_assert(!synth_names_set(&n, "a.LocalHost.localdomain"));
	ck_assert(synth_names_set(&n, "notlocalhost"));
	ck_assert(synth_names_set(&n, "localhost.example"));
	ck_assert(synth_names_set(&n, "localdomain"));
	ck_assert(!synth_names_set(&n, NULL));
	ck_assert_int_eq(synth_kind(NULL, NULL, 0), SYNTH_NONE);
	/* a single label: all three forms */
	ck_assert(synth_names_set(&n, "box"));
	ck_assert_int_eq(kind_of(&n, "box"), SYNTH_HOSTNAME);
	ck_assert_int_eq(kind_of(&n, "box.local"), SYNTH_HOSTNAME);
	{
		struct synth_names m;

		ck_assert(synth_names_set(&m, "BOX"));
		ck_assert(synth_names_equal(&n, &m));
		ck_assert(synth_names_set(&m, "box2"));
		ck_assert(!synth_names_equal(&n, &m));
	}
}
END_TEST

START_TEST(test_usable_sort)
{
	struct synth_addr v[6];

	ck_assert(!synth_addr_usable(&(struct synth_addr){ .family = AF_INET }));
	v[0] = addr("127.0.0.1");
	ck_assert(!synth_addr_usable(&v[0]));
	v[0] = addr("::1");
	ck_assert(!synth_addr_usable(&v[0]));
	v[0] = addr("::ffff:192.0.2.1");
	ck_assert(!synth_addr_usable(&v[0]));
	v[0] = addr("fe80::1");
	ck_assert(synth_addr_usable(&v[0]));
	v[0] = addr("192.0.2.1");
	ck_assert(synth_addr_usable(&v[0]));

	v[0] = addr("fe80::2");
	v[1] = addr("2001:db8::1");
	v[2] = addr("192.0.2.9");
	v[3] = addr("192.0.2.1");
	v[3].metric = 600;
	v[4] = addr("192.0.2.5");
	v[4].metric = 100;
	v[5] = addr("192.0.2.3");
	v[5].metric = 100;
	synth_sort(v, 6);
	ck_assert_str_eq(text_of(&v[0]), "192.0.2.9"); /* metric 0 */
	ck_assert_str_eq(text_of(&v[1]), "192.0.2.3"); /* 100, lower address */
	ck_assert_str_eq(text_of(&v[2]), "192.0.2.5");
	ck_assert_str_eq(text_of(&v[3]), "192.0.2.1"); /* 600 */
	ck_assert_str_eq(text_of(&v[4]), "2001:db8::1");
	ck_assert_str_eq(text_of(&v[5]), "fe80::2"); /* link scope last */
	synth_sort(NULL, 3);
}
END_TEST

START_TEST(test_routes)
{
	struct synth_addr v[8];
	struct in_addr g1, g2;
	char text[1024];
	size_t n;

	inet_pton(AF_INET, "192.168.1.1", &g1);
	inet_pton(AF_INET, "10.0.0.1", &g2);
	/* as the kernel prints it: the words in the host's order */
	snprintf(text, sizeof(text),
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	    "wlan0\t00000000\t%08X\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
	    "wlan0\t0001A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n"
	    "eth0\t00000000\t%08X\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
	    "eth1\t00000000\t%08X\t0001\t0\t0\t100\t00000000\t0\t0\t0\n" /* no RTF_GATEWAY */
	    "eth2\t00000000\t%08X\t0203\t0\t0\t100\t00000000\t0\t0\t0\n" /* reject */
	    "bad line\n",
	    (unsigned)g1.s_addr, (unsigned)g2.s_addr, (unsigned)g2.s_addr, (unsigned)g2.s_addr);
	n = synth_parse_routes4(text, v, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(text_of(&v[0]), "192.168.1.1");
	ck_assert_str_eq(v[0].ifname, "wlan0");
	ck_assert_uint_eq(v[0].metric, 600);
	ck_assert_str_eq(text_of(&v[1]), "10.0.0.1");
	ck_assert_uint_eq(v[1].metric, 100);
	synth_sort(v, n);
	ck_assert_str_eq(text_of(&v[0]), "10.0.0.1"); /* the lower metric first */
	ck_assert_uint_eq(synth_parse_routes4(text, v, 1), 1);
	ck_assert_uint_eq(synth_parse_routes4("", v, 8), 0);

	n = synth_parse_routes6(
	    "fd770000000000000000000000000000 40 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n"
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n"
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "fd770000000000000000000000000001 00000064 00000001 00000000 00000003    wg0\n",
	    v, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(text_of(&v[0]), "fe80::1");
	ck_assert_uint_eq(v[0].scope, SYNTH_SCOPE_LINK);
	ck_assert_uint_eq(v[0].metric, 1024);
	ck_assert_str_eq(v[0].ifname, "eth0");
	ck_assert_str_eq(text_of(&v[1]), "fd77::1");
	ck_assert_str_eq(v[1].ifname, "wg0");
}
END_TEST

static struct msg_query
query(const char *name, uint16_t type, bool edns)
{
	uint8_t b[512];
	struct tq_opts o = { .id = 0x4242, .edns = edns };
	size_t l = tu_build_query(name, type, &o, b, sizeof(b));
	struct msg_query q;

	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	return q;
}

START_TEST(test_answers)
{
	uint8_t out[512];
	char data[128];
	struct synth_addr v[3] = { addr("192.0.2.7"), addr("2001:db8::7"), addr("192.0.2.8") };
	struct msg_query q = query("Box", TYPE_A, true);
	size_t n = synth_answer(&q, SYNTH_HOSTNAME, v, 3, 0, 512, out, sizeof(out));

	ck_assert_uint_eq(tu_rcode(out, n), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(out, n), 2);
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.7");
	ck_assert_mem_eq(out + 12, "\003Box", 4); /* the client's spelling */
	ck_assert(tu_has_opt(out, n));
	q = query("box", TYPE_AAAA, false);
	n = synth_answer(&q, SYNTH_HOSTNAME, v, 3, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 1);
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "2001:db8::7");
	q = query("box", TYPE_ANY, false);
	n = synth_answer(&q, SYNTH_HOSTNAME, v, 3, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 3);
	/* no address of the family: the loopback ones, as resolved */
	q = query("box", TYPE_AAAA, false);
	n = synth_answer(&q, SYNTH_HOSTNAME, v, 1, 0, 512, out, sizeof(out));
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "::1");
	q = query("box", TYPE_A, false);
	n = synth_answer(&q, SYNTH_HOSTNAME, NULL, 0, 0, 512, out, sizeof(out));
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "127.0.0.2");
	/* other types: NODATA */
	q = query("box", TYPE_MX, false);
	n = synth_answer(&q, SYNTH_HOSTNAME, v, 3, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(out, n), 0);
	/* _gateway: the family's gateways; the other family only: NODATA;
	 * none at all: NXDOMAIN */
	q = query("_gateway", TYPE_A, false);
	n = synth_answer(&q, SYNTH_GATEWAY, v, 3, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 2);
	q = query("_gateway", TYPE_AAAA, false);
	n = synth_answer(&q, SYNTH_GATEWAY, v, 1, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(out, n), 0);
	n = synth_answer(&q, SYNTH_GATEWAY, NULL, 0, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_NXDOMAIN);
	q = query("_outbound", TYPE_A, true);
	n = synth_answer(&q, SYNTH_OUTBOUND, NULL, 0, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_NXDOMAIN);
	ck_assert(tu_has_opt(out, n));
	q = query("_outbound", TYPE_TXT, false);
	n = synth_answer(&q, SYNTH_OUTBOUND, NULL, 0, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_rcode(out, n), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(out, n), 0);
	/* the TTL given */
	q = query("_outbound", TYPE_A, false);
	n = synth_answer(&q, SYNTH_OUTBOUND, v, 1, 30, 512, out, sizeof(out));
	ck_assert_int_eq(tu_first_ttl(out, n), 30);
	/* misuse */
	ck_assert_uint_eq(synth_answer(&q, SYNTH_NONE, v, 1, 0, 512, out, sizeof(out)), 0);
	ck_assert_uint_eq(synth_answer(NULL, SYNTH_GATEWAY, v, 1, 0, 512, out, sizeof(out)), 0);
	ck_assert_uint_eq(synth_answer(&q, SYNTH_GATEWAY, NULL, 2, 0, 512, out, sizeof(out)), 0);
}
END_TEST

/* the PTR records of an answer, as text, joined by ' ' */
static const char *
ptrs(const uint8_t *a, size_t len)
{
	static char out[512];
	struct wire_rd r;
	struct wire_hdr h;
	size_t i;

	out[0] = 0;
	wire_rd_init(&r, a, len);
	ck_assert_int_eq(wire_hdr(&r, &h), STUB_OK);
	for (i = 0; i < h.qdcount; i++) {
		wire_name(&r, NULL);
		wire_skip(&r, 4);
	}
	for (i = 0; i < h.ancount; i++) {
		struct wire_rr rr;
		uint8_t name[WIRE_NAME_MAX];
		char text[256];
		size_t l, end;

		ck_assert_int_eq(wire_rr(&r, &rr), STUB_OK);
		ck_assert_uint_eq(rr.type, TYPE_PTR);
		end = r.pos;
		wire_seek(&r, rr.rd_off);
		l = wire_name(&r, name);
		ck_assert_uint_gt(l, 0);
		wire_seek(&r, end);
		wire_name_to_text(name, l, text, sizeof(text));
		if (out[0])
			strcat(out, " ");
		strncat(out, text, sizeof(out) - strlen(out) - 1);
	}
	return out;
}

START_TEST(test_reverse)
{
	struct synth_names n;
	struct synth_addr a, host[2] = { addr("192.0.2.7"), addr("2001:db8::7") },
	                     gw[1] = { addr("192.0.2.1") };
	uint8_t out[512];
	struct msg_query q;
	size_t len;

	ck_assert(synth_names_set(&n, "box.example"));
	ck_assert_int_eq(kind_of(&n, "7.2.0.192.in-addr.arpa"), SYNTH_REVERSE);
	ck_assert_int_eq(kind_of(&n, "7.2.0.192.IN-ADDR.ARPA"), SYNTH_REVERSE);
	ck_assert_int_eq(kind_of(&n, "2.0.192.in-addr.arpa"), SYNTH_NONE);
	ck_assert_int_eq(kind_of(&n, "256.2.0.192.in-addr.arpa"), SYNTH_NONE);
	ck_assert_int_eq(kind_of(&n, "07.2.0.192.in-addr.arpa"), SYNTH_NONE);
	ck_assert_int_eq(kind_of(&n, "x.7.2.0.192.in-addr.arpa"), SYNTH_NONE);
	ck_assert_int_eq(kind_of(&n, "7.2.0.192.in-addr.arpa.example"), SYNTH_NONE);
	ck_assert_int_eq(kind_of(&n,
	                     "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	                     ".ip6.arpa"),
	    SYNTH_REVERSE);
	ck_assert_int_eq(kind_of(&n,
	                     "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	                     ".ip6.arpa"),
	    SYNTH_NONE); /* 31 nibbles */
	ck_assert(synth_reverse_addr((const uint8_t *)"\0011\0010\0010\003127\007in-addr\004arpa",
	    24, &a));
	ck_assert_str_eq(text_of(&a), "127.0.0.1");
	ck_assert(!synth_reverse_addr(NULL, 0, &a));
	/* cut short anywhere: never read past klen */
	{
		static const uint8_t k4[] = "\0011\0010\0010\003127\007in-addr\004arpa";
		size_t cut;

		for (cut = 2; cut < sizeof(k4); cut++)
			ck_assert(!synth_reverse_addr(k4, cut, &a));
	}
	ck_assert_int_eq(kind_of(&n,
	                     "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.20"
	                     ".ip6.arpa"),
	    SYNTH_NONE); /* a label of two */
	ck_assert_int_eq(kind_of(&n,
	                     "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.g"
	                     ".ip6.arpa"),
	    SYNTH_NONE); /* no hex digit */
	ck_assert_int_eq(kind_of(&n, "1.2.3.4.5.in-addr.arpa"), SYNTH_NONE);

	/* the machine's address: the host name in its three forms */
	q = query("7.2.0.192.in-addr.arpa", TYPE_PTR, false);
	len = synth_answer_ptr(&q, &n, host, 2, gw, 1, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_rcode(out, len), RCODE_NOERROR);
	ck_assert_str_eq(ptrs(out, len), "box.example box box.local");
	q = query("7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
	    TYPE_PTR, false);
	len = synth_answer_ptr(&q, &n, host, 2, gw, 1, 0, 512, out, sizeof(out));
	ck_assert_str_eq(ptrs(out, len), "box.example box box.local");
	/* a gateway */
	q = query("1.2.0.192.in-addr.arpa", TYPE_PTR, false);
	len = synth_answer_ptr(&q, &n, host, 2, gw, 1, 0, 512, out, sizeof(out));
	ck_assert_str_eq(ptrs(out, len), "_gateway");
	/* 127.0.0.2: the host name and localhost */
	q = query("2.0.0.127.in-addr.arpa", TYPE_PTR, false);
	len = synth_answer_ptr(&q, &n, NULL, 0, NULL, 0, 0, 512, out, sizeof(out));
	ck_assert_str_eq(ptrs(out, len), "box.example box box.local localhost");
	len = synth_answer_ptr(&q, NULL, NULL, 0, NULL, 0, 0, 512, out, sizeof(out));
	ck_assert_str_eq(ptrs(out, len), "localhost");
	/* a single-label host name is given once */
	ck_assert(synth_names_set(&n, "box"));
	q = query("7.2.0.192.in-addr.arpa", TYPE_PTR, false);
	len = synth_answer_ptr(&q, &n, host, 2, gw, 1, 0, 512, out, sizeof(out));
	ck_assert_str_eq(ptrs(out, len), "box box.local");
	/* another type: NODATA */
	q = query("7.2.0.192.in-addr.arpa", TYPE_A, false);
	len = synth_answer_ptr(&q, &n, host, 2, gw, 1, 0, 512, out, sizeof(out));
	ck_assert_uint_eq(tu_rcode(out, len), RCODE_NOERROR);
	ck_assert_uint_eq(tu_ancount(out, len), 0);
	/* neither the machine's nor a gateway's: not answered here */
	q = query("8.2.0.192.in-addr.arpa", TYPE_PTR, false);
	ck_assert_uint_eq(synth_answer_ptr(&q, &n, host, 2, gw, 1, 0, 512, out, sizeof(out)), 0);
	q = query("1.0.0.127.in-addr.arpa", TYPE_PTR, false);
	ck_assert_uint_eq(synth_answer_ptr(&q, &n, host, 2, gw, 1, 0, 512, out, sizeof(out)), 0);
	q = query("example.com", TYPE_PTR, false);
	ck_assert_uint_eq(synth_answer_ptr(&q, &n, host, 2, gw, 1, 0, 512, out, sizeof(out)), 0);
	ck_assert_uint_eq(synth_answer_ptr(NULL, &n, host, 2, gw, 1, 0, 512, out, sizeof(out)), 0);
}
END_TEST

/* SPEC 16: one interface index per answer: the link-local addresses of
 * one interface kept (the default route's when it has any) */
START_TEST(test_link_scope)
{
	struct synth_addr v[5], gw[3];
	size_t n;

	/* one interface: everything kept, its index */
	v[0] = addr("192.0.2.1");
	v[1] = addr("fe80::1");
	v[1].ifindex = 7;
	v[2] = addr("fe80::2");
	v[2].ifindex = 7;
	n = 3;
	ck_assert_uint_eq(synth_link_scope(v, &n, NULL, 0), 7);
	ck_assert_uint_eq(n, 3);

	/* two interfaces, no gateway: the first one's */
	v[0] = addr("2001:db8::1");
	v[0].ifindex = 3;
	v[1] = addr("fe80::1");
	v[1].ifindex = 4;
	v[2] = addr("fe80::2");
	v[2].ifindex = 5;
	v[3] = addr("fe80::3");
	v[3].ifindex = 4;
	n = 4;
	ck_assert_uint_eq(synth_link_scope(v, &n, NULL, 0), 4);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(text_of(&v[0]), "2001:db8::1"); /* global kept */
	ck_assert_str_eq(text_of(&v[1]), "fe80::1");
	ck_assert_str_eq(text_of(&v[2]), "fe80::3");

	/* the default route's interface wins: IPv6 before IPv4, lower metric */
	v[0] = addr("fe80::1");
	v[0].ifindex = 4;
	v[1] = addr("fe80::2");
	v[1].ifindex = 5;
	v[2] = addr("fe80::9");
	v[2].ifindex = 6;
	gw[0] = addr("192.0.2.254");
	gw[0].ifindex = 4;
	gw[1] = addr("fe80::ff");
	gw[1].ifindex = 6;
	gw[1].metric = 1024;
	gw[2] = addr("fe80::fe");
	gw[2].ifindex = 5;
	gw[2].metric = 100;
	n = 3;
	ck_assert_uint_eq(synth_link_scope(v, &n, gw, 3), 5);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(text_of(&v[0]), "fe80::2");
	/* the default route's interface has none of them: the first one's */
	v[0] = addr("fe80::1");
	v[0].ifindex = 4;
	v[1] = addr("fe80::9");
	v[1].ifindex = 6;
	n = 2;
	ck_assert_uint_eq(synth_link_scope(v, &n, &gw[2], 1), 4);
	ck_assert_uint_eq(n, 1);

	/* no link-local address: no index, nothing dropped */
	v[0] = addr("192.0.2.1");
	v[1] = addr("2001:db8::1");
	n = 2;
	ck_assert_uint_eq(synth_link_scope(v, &n, gw, 3), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(synth_link_scope(NULL, &n, gw, 3), 0);
}
END_TEST

static Suite *
synthname_suite(void)
{
	Suite *s = suite_create("synthname");
	TCase *t = tcase_create("basic");

	tcase_add_test(t, test_kinds);
	tcase_add_test(t, test_usable_sort);
	tcase_add_test(t, test_routes);
	tcase_add_test(t, test_answers);
	tcase_add_test(t, test_reverse);
	tcase_add_test(t, test_link_scope);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(synthname_suite());
}
