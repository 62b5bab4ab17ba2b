/*
 * check_policy.c - the local policy table and the list parsers (SPEC 18):
 * longest suffix, exact beats suffix, allow beats block, a matching table
 * for each list format (as the lists' own tools read them), rule lines,
 * local answers for every type, EDE 15 iff EDNS.
 *
 * What the formats mean, checked against the tools that publish and read
 * them (issue 25):
 * - hosts and plain domains: AdGuard Home's "How to write hosts
 *   blocklists" (github.com/AdguardTeam/AdGuardHome/wiki/Hosts-Blocklists):
 *   `1.2.3.4 example.org` answers for example.org "but not its
 *   subdomains", 0.0.0.0 is "basically the same as blocking that host";
 *   a domains-only line is a simple domain rule, the name only.
 * - adblock: the same page: `||example.org^` blocks "the example.org
 *   domain and all its subdomains", `@@||example.org^` unblocks the same;
 *   an exception beats a block (Adblock Plus filter rules: `@@` marks an
 *   exception to the blocking rules).
 * - wildcard `*.name`: the names under name, not name itself, as a
 *   wildcard owner in DNS and RPZ (below); lists that mean the name too
 *   publish it on a line of its own.
 * - RPZ: draft-vixie-dns-rpz (and PowerDNS's basic.rpz example): `name
 *   CNAME .` NXDOMAIN, `CNAME *.` NODATA, `CNAME rpz-passthru.` PASSTHRU;
 *   a trigger is that name only and `*.name` the names under it ("kills
 *   whole domain" takes both lines); an exact trigger beats a wildcard.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blocklist.h"
#include "checkmain.h"
#include "config.h"
#include "polcfg.h"
#include "policy.h"
#include "rebind.h"
#include "testutil.h"
#include "text.h"

static struct pol_match
look(const struct policy *p, const char *text)
{
	uint8_t n[WIRE_NAME_MAX];
	size_t l = wire_name_from_text(text, n);
	struct pol_match m;

	ck_assert_uint_gt(l, 0);
	wire_name_lower(n, l);
	policy_lookup(p, n, l, &m);
	return m;
}

/* "block", "allow", "answer" or "-" */
static const char *
verdict(const struct policy *p, const char *name)
{
	struct pol_match m = look(p, name);

	switch (m.verdict) {
	case POL_BLOCK: return "block";
	case POL_ALLOW: return "allow";
	case POL_ANSWER: return "answer";
	default: return "-";
	}
}

static struct policy *
parse(const char *text, enum bl_format f, bool allow, struct bl_stats *st)
{
	struct policy *p = policy_new(42);
	uint32_t src;

	ck_assert_ptr_nonnull(p);
	src = policy_source(p, "list.txt");
	ck_assert_int_eq(blocklist_parse(p, text, strlen(text), f, allow, POL_ACT_DEFAULT, src, st),
	    STUB_OK);
	return p;
}

struct row {
	const char *name, *want;
};

static void
check_table(const struct policy *p, const struct row *rows)
{
	for (; rows->name; rows++)
		ck_assert_msg(strcmp(verdict(p, rows->name), rows->want) == 0, "%s: %s, want %s",
		    rows->name, verdict(p, rows->name), rows->want);
}

START_TEST(test_hosts_format)
{
	struct bl_stats st;
	struct policy *p = parse(
	    "# StevenBlack style\n127.0.0.1 localhost\n"
	    "0.0.0.0 0.0.0.0\n0.0.0.0 ads.example\n0.0.0.0 t1.example t2.example # x\n"
	    ":: v6.example\nnot a hosts line\n",
	    BL_HOSTS, false, &st);
	static const struct row rows[] = { { "ads.example", "block" }, { "ADS.Example", "block" },
		{ "sub.ads.example", "-" }, /* that name only */
		{ "example", "-" }, { "t2.example", "block" }, { "v6.example", "block" },
		{ "localhost", "-" }, { NULL, NULL } };

	check_table(p, rows);
	ck_assert_uint_eq(st.unknown, 1);
	ck_assert_uint_eq(st.first_unknown, 7);
	ck_assert_uint_eq(st.entries, 4);
	policy_free(p);
}
END_TEST

START_TEST(test_domains_format)
{
	struct bl_stats st;
	struct policy *p = parse("# comment\nads.example\n\ntrack.example.\nbad..name\n",
	    BL_DOMAINS, false, &st);
	static const struct row rows[] = { { "ads.example", "block" }, { "x.ads.example", "-" },
		{ "track.example", "block" }, { NULL, NULL } };

	check_table(p, rows);
	ck_assert_uint_eq(st.unknown, 1);
	ck_assert_uint_eq(st.first_unknown, 5);
	policy_free(p);
}
END_TEST

START_TEST(test_wildcard_format)
{
	struct bl_stats st;
	struct policy *p = parse("*.ads.example\nplain.example\n*.\n", BL_WILDCARD, false, &st);
	static const struct row rows[] = { { "ads.example", "-" }, /* subdomains only */
		{ "x.ads.example", "block" }, { "a.b.ads.example", "block" },
		{ "plain.example", "block" }, { "x.plain.example", "-" }, { NULL, NULL } };

	check_table(p, rows);
	ck_assert_uint_eq(st.unknown, 1);
	policy_free(p);
}
END_TEST

/* AdGuard Home: `||x^` is x and every name under it, `@@||x^` unblocks
 * the same and beats the block of the same name; a modifier only a
 * browser can apply (`$third-party`), element hiding (`##`) and lines
 * that are no host rule are counted, not applied.  `$important` (which in
 * AdGuard would also beat an exception) is read as a plain block: an
 * allow of the same name still wins here, as SPEC 18 orders them. */
START_TEST(test_adblock_format)
{
	struct bl_stats st;
	struct policy *p = parse(
	    "[Adblock Plus 2.0]\n! Title: test\n||ads.example^\n"
	    "@@||ok.ads.example^\n||imp.example^$important\n||third.example^$third-party\n"
	    "example.com##.banner\n||both.example^\n@@||both.example^\n# hash comment\n"
	    "  ||spaced.example^  \r\n",
	    BL_ADBLOCK, false, &st);
	static const struct row rows[] = { { "ads.example", "block" }, { "x.ads.example", "block" },
		{ "ok.ads.example", "allow" }, { "deep.ok.ads.example", "allow" },
		{ "imp.example", "block" }, { "third.example", "-" }, { "example", "-" },
		{ "both.example", "allow" }, { "www.both.example", "allow" },
		{ "spaced.example", "block" }, { "xads.example", "-" }, { NULL, NULL } };
	struct pol_match m;

	check_table(p, rows);
	ck_assert_uint_eq(st.unknown, 2);
	ck_assert_uint_eq(st.first_unknown, 6);
	m = look(p, "x.ads.example");
	ck_assert_uint_eq(m.origin.line, 3);
	policy_free(p);
}
END_TEST

START_TEST(test_rpz_format)
{
	struct bl_stats st;
	struct policy *p = parse("$TTL 300\n@ IN SOA localhost. root.localhost. 1 2 3 4 5\n"
	                         "  IN NS localhost.\nnx.example CNAME .\n*.nx.example CNAME .\n"
	                         "nd.example 60 IN CNAME *.\npass.nx.example CNAME rpz-passthru.\n"
	                         "abs.example.rpz.zone. CNAME .\nlocal.example A 192.0.2.1\n",
	    BL_RPZ, false, &st);
	struct pol_match m;

	/* `$ORIGIN` absent: absolute names are kept as written */
	m = look(p, "nx.example");
	ck_assert_int_eq(m.verdict, POL_BLOCK);
	ck_assert_int_eq(m.action, POL_ACT_NXDOMAIN);
	m = look(p, "a.nx.example");
	ck_assert_int_eq(m.verdict, POL_BLOCK);
	ck_assert_int_eq(m.action, POL_ACT_NXDOMAIN);
	m = look(p, "nd.example");
	ck_assert_int_eq(m.verdict, POL_BLOCK);
	ck_assert_int_eq(m.action, POL_ACT_NODATA);
	ck_assert_str_eq(verdict(p, "x.nd.example"), "-"); /* no wildcard for it */
	ck_assert_str_eq(verdict(p, "pass.nx.example"), "allow");
	ck_assert_str_eq(verdict(p, "sub.pass.nx.example"), "block"); /* exact passthru */
	ck_assert_uint_eq(st.unknown, 1); /* local data: not in this slice */
	ck_assert_uint_eq(st.first_unknown, 9);
	policy_free(p);

	/* "  NS localhost." (no owner, no class: as bench/genlists.py and many
	 * published zones write it) is the zone's own record, understood */
	p = parse("$ORIGIN rpz.zone.\n  NS localhost.\nabs.example.rpz.zone. CNAME .\n"
	          "rel.example CNAME *.\n",
	    BL_RPZ, false, &st);
	ck_assert_str_eq(verdict(p, "abs.example"), "block");
	ck_assert_str_eq(verdict(p, "rel.example"), "block");
	ck_assert_uint_eq(st.unknown, 0);
	policy_free(p);
}
END_TEST

START_TEST(test_allowlist)
{
	struct bl_stats st;
	struct policy *p = parse("||ads.example^\n", BL_ADBLOCK, false, &st);
	uint32_t src = policy_source(p, "allow.txt");

	ck_assert_int_eq(blocklist_parse(p, "good.ads.example\n", 17, BL_DOMAINS, true,
	                     POL_ACT_DEFAULT, src, &st),
	    STUB_OK);
	ck_assert_str_eq(verdict(p, "good.ads.example"), "allow");
	ck_assert_str_eq(verdict(p, "x.good.ads.example"), "block"); /* exact allow */
	ck_assert_str_eq(verdict(p, "bad.ads.example"), "block");
	policy_free(p);
}
END_TEST

/* exact beats suffix; allow beats block at the same name; longest wins */
START_TEST(test_precedence)
{
	struct policy *p = policy_new(1);
	struct pol_origin o = { policy_source(p, "t"), 1 };
	uint8_t n[WIRE_NAME_MAX];
	size_t l;

	l = wire_name_from_text("a.example", n);
	ck_assert_int_eq(policy_add(p, n, l, POL_SUFFIX, POL_BLOCK, 0, o), STUB_OK);
	o.line = 2;
	ck_assert_int_eq(policy_add(p, n, l, POL_SUFFIX, POL_ALLOW, 0, o), STUB_OK);
	ck_assert_str_eq(verdict(p, "a.example"), "allow");
	ck_assert_str_eq(verdict(p, "x.a.example"), "allow");
	l = wire_name_from_text("b.example", n);
	o.line = 3;
	ck_assert_int_eq(policy_add(p, n, l, POL_EXACT, POL_BLOCK, 0, o), STUB_OK);
	o.line = 4;
	ck_assert_int_eq(policy_add(p, n, l, POL_SUFFIX, POL_ALLOW, 0, o), STUB_OK);
	ck_assert_str_eq(verdict(p, "b.example"), "block"); /* exact beats suffix */
	ck_assert_str_eq(verdict(p, "x.b.example"), "allow");
	l = wire_name_from_text("example", n);
	o.line = 5;
	ck_assert_int_eq(policy_add(p, n, l, POL_SUFFIX, POL_BLOCK, 0, o), STUB_OK);
	ck_assert_str_eq(verdict(p, "c.example"), "block");
	ck_assert_str_eq(verdict(p, "x.a.example"), "allow"); /* longest wins */
	ck_assert(look(p, "x.a.example").under_allow);
	ck_assert(!look(p, "c.example").under_allow);
	ck_assert_str_eq(verdict(p, "other"), "-");
	/* the same decision twice keeps one, with the first origin */
	o.line = 9;
	ck_assert_int_eq(policy_add(p, n, l, POL_SUFFIX, POL_BLOCK, 0, o), STUB_OK);
	ck_assert_uint_eq(look(p, "c.example").origin.line, 5);
	ck_assert_uint_eq(policy_names(p), 3);
	policy_free(p);
}
END_TEST

static enum stub_err
rule(struct policy *p, const char *line, unsigned lineno)
{
	char buf[256], *w[16], why[128];
	int n;

	strcpy(buf, line);
	n = text_words(buf, w, 16, true);
	return policy_add_rule(p, w, n,
	    (struct pol_origin){ policy_source(p, "/etc/stubd.conf"), lineno }, why, sizeof(why));
}

START_TEST(test_rules)
{
	struct policy *p = policy_new(7);
	struct pol_match m;
	char buf[64];

	ck_assert_int_eq(rule(p, "corp.example adapter vpn lan", 1), STUB_OK);
	ck_assert_int_eq(rule(p, "bank.example require encryption", 2), STUB_OK);
	ck_assert_int_eq(rule(p, "secure.example require ad", 3), STUB_OK);
	ck_assert_int_eq(rule(p, "printer.lan answer A 192.0.2.20", 4), STUB_OK);
	ck_assert_int_eq(rule(p, "printer.lan answer TXT \"hello\" world", 5), STUB_OK);
	ck_assert_int_eq(rule(p, "ads.example block nxdomain", 6), STUB_OK);
	ck_assert_int_eq(rule(p, "ok.ads.example allow", 7), STUB_OK);
	ck_assert_int_eq(rule(p, "alias.lan answer CNAME printer.lan", 8), STUB_OK);
	ck_assert_int_eq(rule(p, "bad.example answer A notanaddress", 9), STUB_EINVAL);
	ck_assert_int_eq(rule(p, "bad.example block sometimes", 10), STUB_EINVAL);
	ck_assert_int_eq(rule(p, "bad.example frobnicate", 11), STUB_EINVAL);
	m = look(p, "x.corp.example");
	ck_assert_uint_eq(m.nadapters, 2);
	ck_assert_str_eq(m.adapters[0], "vpn");
	ck_assert_str_eq(m.adapters[1], "lan");
	ck_assert_int_eq(m.verdict, POL_NONE);
	ck_assert(look(p, "www.bank.example").require_enc);
	ck_assert(!look(p, "www.bank.example").require_ad);
	ck_assert(look(p, "secure.example").require_ad);
	m = look(p, "printer.lan");
	ck_assert_int_eq(m.verdict, POL_ANSWER);
	ck_assert_uint_eq(m.nanswers, 2);
	m = look(p, "www.ads.example");
	ck_assert_int_eq(m.verdict, POL_BLOCK);
	ck_assert_int_eq(m.action, POL_ACT_NXDOMAIN);
	ck_assert_str_eq(policy_origin_text(p, m.origin, buf, sizeof(buf)), "/etc/stubd.conf:6");
	ck_assert_str_eq(verdict(p, "ok.ads.example"), "allow");
	policy_free(p);
}
END_TEST

static size_t
answer(const struct policy *p, const char *name, uint16_t type, bool edns, uint8_t *out, size_t cap)
{
	uint8_t pkt[512];
	struct tq_opts o = { .edns = edns, .id = 77 };
	size_t l = tu_build_query(name, type, &o, pkt, sizeof(pkt));
	struct msg_query q;
	struct pol_match m;

	ck_assert_int_eq(msg_parse_query(pkt, l, &q), MSG_OK);
	policy_lookup(p, q.key, q.qlen, &m);
	return policy_answer(p, &m, &q, 0, MSG_MAX, out, cap);
}

/* Is there an EDE option with code in the answer's OPT? */
static bool
has_ede(const uint8_t *a, size_t len, unsigned code)
{
	size_t i;

	for (i = 0; i + 6 <= len; i++)
		if (a[i] == 0 && a[i + 1] == 15 && a[i + 2] == 0 && a[i + 3] == 2 &&
		    a[i + 4] == (code >> 8) && a[i + 5] == (code & 0xff))
			return i + 6 == len;
	return false;
}

START_TEST(test_local_answers)
{
	struct policy *p = policy_new(3);
	uint8_t out[1024];
	char data[128];
	size_t n;
	static const uint16_t types[] = { TYPE_A, TYPE_AAAA, 65 /* HTTPS */, 64 /* SVCB */,
		TYPE_TXT, TYPE_MX };
	size_t i;

	ck_assert_int_eq(rule(p, "null.example block", 1), STUB_OK);
	ck_assert_int_eq(rule(p, "nx.example block nxdomain", 2), STUB_OK);
	ck_assert_int_eq(rule(p, "printer.lan answer A 192.0.2.20", 3), STUB_OK);
	ck_assert_int_eq(rule(p, "alias.lan answer CNAME printer.lan", 4), STUB_OK);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		n = answer(p, "www.null.example", types[i], true, out, sizeof(out));
		ck_assert_uint_gt(n, 0);
		ck_assert_uint_eq(tu_rcode(out, n), RCODE_NOERROR);
		ck_assert_uint_eq(tu_ancount(out, n), types[i] == TYPE_A || types[i] == TYPE_AAAA);
		ck_assert(has_ede(out, n, 15));
		n = answer(p, "nx.example", types[i], true, out, sizeof(out));
		ck_assert_uint_eq(tu_rcode(out, n), RCODE_NXDOMAIN);
		ck_assert(has_ede(out, n, 15));
		n = answer(p, "nx.example", types[i], false, out, sizeof(out));
		ck_assert(!tu_has_opt(out, n));
		ck_assert(!has_ede(out, n, 15));
		n = answer(p, "printer.lan", types[i], true, out, sizeof(out));
		ck_assert_uint_eq(tu_rcode(out, n), RCODE_NOERROR);
		ck_assert_uint_eq(tu_ancount(out, n), types[i] == TYPE_A);
		ck_assert(!has_ede(out, n, 15)); /* local data is no block */
	}
	n = answer(p, "null.example", TYPE_A, false, out, sizeof(out));
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "0.0.0.0");
	n = answer(p, "printer.lan", TYPE_A, false, out, sizeof(out));
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.20");
	n = answer(p, "alias.lan", TYPE_AAAA, false, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 1);
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "printer.lan");
	policy_free(p);
}
END_TEST

/* Many names: the table grows and finds every one (no per-name cache entry). */
START_TEST(test_many)
{
	struct policy *p = policy_new(5);
	struct pol_origin o = { policy_source(p, "big"), 0 };
	char name[64];
	uint8_t n[WIRE_NAME_MAX];
	size_t l, i;

	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "host%zu.ads%zu.example", i, i % 97);
		l = wire_name_from_text(name, n);
		o.line = (uint32_t)i + 1;
		ck_assert_int_eq(policy_add(p, n, l, POL_EXACT, POL_BLOCK, 0, o), STUB_OK);
	}
	ck_assert_uint_eq(policy_names(p), 100000);
	for (i = 0; i < 100000; i += 997) {
		snprintf(name, sizeof(name), "host%zu.ads%zu.example", i, i % 97);
		ck_assert_uint_eq(look(p, name).origin.line, i + 1);
		snprintf(name, sizeof(name), "x.host%zu.ads%zu.example", i, i % 97);
		ck_assert_int_eq(look(p, name).verdict, POL_NONE);
	}
	policy_free(p);
}
END_TEST

/* The directives: parsed, checked with FILE:LINE, built into one table. */
START_TEST(test_directives)
{
	char dir[] = "/tmp/check_policyXXXXXX", path[256], conf[1024], buf[64];
	struct cfg *c = cfg_new(NULL, NULL);
	struct policy *p;
	struct pol_match m;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ads.txt", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("! adblock\n||ads.example^\n@@||ok.ads.example^\n", f);
	fclose(f);
	snprintf(conf, sizeof(conf),
	    "rule printer.lan answer A 192.0.2.20\n"
	    "blocklist %s name ads-big.v2\nblocklist-action nxdomain\nrebind-protection yes\n"
	    "rule mine.ads.example allow\n",
	    path);
	cfg_parse_text(c, conf, strlen(conf), "s.conf");
	ck_assert_msg(c->errors == NULL, "%s", c->errors);
	ck_assert_ptr_nonnull(c->policy);
	ck_assert_str_eq(c->policy->lists[0].name, "ads-big.v2"); /* its metrics label */
	ck_assert(c->policy->rebind_protection);
	p = policy_build(c->policy, 9, NULL, NULL);
	ck_assert_ptr_nonnull(p);
	m = look(p, "x.ads.example"); /* the list's suffix block, detected adblock */
	ck_assert_int_eq(m.verdict, POL_BLOCK);
	ck_assert_int_eq(m.action, POL_ACT_NXDOMAIN);
	ck_assert_str_eq(policy_origin_text(p, m.origin, buf, sizeof(buf)) + strlen(dir),
	    "/ads.txt:2");
	/* a rule and a list in one table: the longer allow wins */
	ck_assert_str_eq(verdict(p, "x.mine.ads.example"), "allow");
	ck_assert_str_eq(verdict(p, "ok.ads.example"), "allow");
	m = look(p, "printer.lan");
	ck_assert_int_eq(m.verdict, POL_ANSWER);
	ck_assert_str_eq(policy_origin_text(p, m.origin, buf, sizeof(buf)), "s.conf:1");
	policy_free(p);
	cfg_unref(c);
	unlink(path);
	rmdir(dir);

	c = cfg_new(NULL, NULL);
	snprintf(conf, sizeof(conf),
	    "rule a.example block\nrule b.example answer A x\n"
	    "blocklist f format nosuch\nallowlist f action null\nrebind-protection maybe\n"
	    "blocklist-action drop\nblocklist f name a\"b\nallowlist f name\n");
	cfg_parse_text(c, conf, strlen(conf), "t");
	ck_assert_ptr_nonnull(c->errors);
	ck_assert_ptr_nonnull(strstr(c->errors, "t:2: "));
	ck_assert_ptr_nonnull(strstr(c->errors, "t:3: "));
	ck_assert_ptr_nonnull(strstr(c->errors, "t:4: "));
	ck_assert_ptr_nonnull(strstr(c->errors, "t:5: "));
	ck_assert_ptr_nonnull(strstr(c->errors, "t:6: "));
	ck_assert_ptr_nonnull(strstr(c->errors, "t:7: ")); /* a name no label can carry */
	ck_assert_ptr_nonnull(strstr(c->errors, "t:8: "));
	ck_assert_ptr_null(strstr(c->errors, "t:1: "));
	cfg_unref(c);
}
END_TEST

static bool
priv(const char *text)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, text, a) == 1)
		return rebind_private(a, 4);
	ck_assert_int_eq(inet_pton(AF_INET6, text, a), 1);
	return rebind_private(a, 16);
}

/* The ranges of SPEC 18, their edges included and excluded. */
START_TEST(test_rebind_ranges)
{
	static const char *const yes[] = { "0.0.0.0", "0.255.1.1", "10.1.2.3", "100.64.0.1",
		"100.127.255.255", "127.0.0.1", "169.254.1.1", "172.16.0.1", "172.31.255.255",
		"192.168.0.1", "::1", "::ffff:10.0.0.1", "::ffff:192.168.1.1", "fc00::1", "fd12::1",
		"fe80::1", "febf::1", NULL };
	static const char *const no[] = { "1.1.1.1", "100.63.255.255", "100.128.0.0",
		"172.15.255.255", "172.32.0.0", "192.167.1.1", "192.0.2.1", "169.253.1.1",
		"2001:db8::1", "::ffff:192.0.2.1", "fec0::1", "::", "::2", NULL };
	size_t i;

	for (i = 0; yes[i]; i++)
		ck_assert_msg(priv(yes[i]), "%s should be private", yes[i]);
	for (i = 0; no[i]; i++)
		ck_assert_msg(!priv(no[i]), "%s should not be private", no[i]);
}
END_TEST

/* The filter keeps everything else, byte-for-byte meaning (names
 * uncompressed), and fixes the counts. */
START_TEST(test_rebind_filter)
{
	const struct tu_rr rrs[5] = { { "www.example.com", TYPE_CNAME, 300, "edge.example.net", 0,
		                          0 },
		{ "edge.example.net", TYPE_A, 300, NULL, 0, 0x0a000001 },
		{ "edge.example.net", TYPE_A, 300, NULL, 0, 0xc0000207 },
		{ "example.com", TYPE_NS, 300, "ns.example.com", 0, 0 },
		{ "ns.example.com", TYPE_A, 300, NULL, 0, 0x7f000001 } };
	uint8_t in[1024], out[1024];
	size_t l = tu_build_msg(5, 0x8180, "www.example.com", TYPE_A, rrs, 3, 1, 1, in, sizeof(in)),
	       ol;
	unsigned removed;
	struct msg_resp resp;
	uint8_t qn[WIRE_NAME_MAX];
	char data[64];

	ck_assert_uint_gt(l, 0);
	ck_assert_int_eq(rebind_filter(in, l, out, sizeof(out), &ol, &removed), STUB_OK);
	ck_assert_uint_eq(removed, 2);
	ck_assert_uint_eq(tu_ancount(out, ol), 2);
	tu_first_data(out, ol, data, sizeof(data));
	ck_assert_str_eq(data, "edge.example.net");
	ck_assert_int_eq(msg_store_prepare(out, ol, 5, qn,
	                     wire_name_from_text("www.example.com", qn), TYPE_A, CLASS_IN, &resp),
	    STUB_OK);
	ck_assert(resp.positive);
	ck_assert_uint_eq(resp.nttl, 3); /* CNAME, public A, NS */
	/* nothing private: nothing removed */
	l = tu_build_msg(5, 0x8180, "www.example.com", TYPE_A, rrs + 2, 1, 0, 0, in, sizeof(in));
	ck_assert_int_eq(rebind_filter(in, l, out, sizeof(out), &ol, &removed), STUB_OK);
	ck_assert_uint_eq(removed, 0);
	/* malformed: refused, never read past the end */
	ck_assert_int_eq(rebind_filter(in, l - 3, out, sizeof(out), &ol, &removed), STUB_EFORMAT);
}
END_TEST

/* rule NAME adapter A: NAME becomes a routing domain of A, once. */
START_TEST(test_rule_adapter_routes)
{
	struct cfg *c = cfg_new(NULL, NULL);
	static const char conf[] =
	    "adapter lan\nserver 192.0.2.1\nadapter vpn\n"
	    "server 192.0.2.2\ndomain other.example\nrule corp.example adapter vpn ghost\n";
	long a;

	cfg_parse_text(c, conf, strlen(conf), "t");
	ck_assert_msg(c->errors == NULL, "%s", c->errors);
	ck_assert_uint_eq(polcfg_route_adapters(c->policy, c), 1); /* ghost */
	ck_assert_uint_eq(polcfg_route_adapters(c->policy, c), 1);
	a = cfg_adapter_find(c, "vpn");
	ck_assert_int_ge(a, 0);
	ck_assert_uint_eq(c->adapters[a].ndomains, 2);
	ck_assert_uint_eq(c->adapters[a].domains[1].len, 14);
	ck_assert_int_eq(memcmp(c->adapters[a].domains[1].name, "\004corp\007example", 14), 0);
	ck_assert_uint_eq(c->adapters[cfg_adapter_find(c, "lan")].ndomains, 0);
	cfg_unref(c);
}
END_TEST

/* Upstream EDE (RFC 8914): kept in the stored answer, relayed to EDNS
 * clients (with our own EDE added after it), not to the others. */
START_TEST(test_upstream_ede_kept)
{
	const struct tu_rr rrs[2] = { { "www.example.com", TYPE_A, 300, NULL, 0, 0xc0000207 },
		{ NULL, TYPE_OPT, 0, NULL, 0, 0 } };
	/* EDE 22 "no reachable authority" with text, and a padding option */
	static const uint8_t opts[] = { 0, 15, 0, 4, 0, 22, 'h', 'i', 0, 12, 0, 2, 0, 0 };
	uint8_t buf[1024], out[1024], qn[WIRE_NAME_MAX], pkt[512];
	size_t l = tu_build_msg(5, 0x8180, "www.example.com", TYPE_A, rrs, 1, 0, 1, buf,
	           sizeof(buf)),
	       ql = wire_name_from_text("www.example.com", qn), n, stored;
	struct msg_resp resp;
	struct msg_query q;
	struct tq_opts o = { .id = 9, .edns = true };

	ck_assert_uint_gt(l, 0);
	memcpy(buf + l, opts, sizeof(opts));
	buf[l - 1] = sizeof(opts);
	l += sizeof(opts);
	ck_assert_int_eq(msg_store_prepare(buf, l, 5, qn, ql, TYPE_A, CLASS_IN, &resp), STUB_OK);
	stored = resp.len;
	ck_assert_uint_eq(stored, l - 6); /* the padding went, the EDE stayed */
	ck_assert(resp.positive);
	/* an EDNS client gets it (one OPT), with our EDE after it */
	n = tu_build_query("www.example.com", TYPE_A, &o, pkt, sizeof(pkt));
	ck_assert_int_eq(msg_parse_query(pkt, n, &q), MSG_OK);
	n = msg_serve(buf, stored, resp.ttl_off, resp.nttl, 0, -1, &q, 1232, out, sizeof(out));
	ck_assert_uint_eq(n, stored);
	ck_assert_uint_eq(out[n - 4], 0);
	ck_assert_uint_eq(out[n - 3], 22);
	ck_assert(tu_has_opt(out, n));
	ck_assert_uint_eq(tu_ancount(out, n), 1);
	n = msg_append_ede(out, n, sizeof(out), 1232, 3);
	ck_assert_uint_eq(n, stored + 6);
	ck_assert_uint_eq(out[n - 1], 3);
	ck_assert_int_eq(msg_store_prepare(out, n, 9, qn, ql, TYPE_A, CLASS_IN, &resp), STUB_OK);
	/* a client without EDNS: no OPT at all */
	o.edns = false;
	n = tu_build_query("www.example.com", TYPE_A, &o, pkt, sizeof(pkt));
	ck_assert_int_eq(msg_parse_query(pkt, n, &q), MSG_OK);
	n = msg_serve(buf, stored, resp.ttl_off, resp.nttl, 0, -1, &q, 512, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	ck_assert(!tu_has_opt(out, n));
	ck_assert_uint_eq(tu_ancount(out, n), 1);
	ck_assert_uint_eq(n, stored - 11 - 8);
}
END_TEST

/* Malformed lines in every format: counted (the first one's number kept),
 * never fatal, the good lines around them read.  A line over the reader's
 * 1,024 bytes, a NUL byte, a label of 64 bytes, a name of over 255, an
 * address where a name belongs, binary bytes. */
START_TEST(test_malformed_never_fatal)
{
	static const char *const good[BL_FORMAT_COUNT] = { "0.0.0.0 good.example\n",
		"good.example\n", "good.example\n", "||good.example^\n", "good.example CNAME .\n" };
	static const char *const prefix[BL_FORMAT_COUNT] = { "0.0.0.0 ", "", "", "||", "" };
	static const char *const suffix[BL_FORMAT_COUNT] = { "", "", "", "^", " CNAME ." };
	char *text = malloc(16384), label[70], longname[320];
	size_t len, i;
	int f;

	ck_assert_ptr_nonnull(text);
	memset(label, 'a', 64);
	label[64] = 0;
	for (i = 0; i < 310; i += 2)
		longname[i] = 'b', longname[i + 1] = '.';
	strcpy(longname + 310, "example");
	for (f = 0; f < BL_FORMAT_COUNT; f++) {
		struct bl_stats st;
		struct policy *p;

		len = 0;
		len += (size_t)sprintf(text + len, "%s", good[f]);
		memset(text + len, 'x', 3000); /* line 2: too long */
		len += 3000;
		text[len++] = '\n';
		len += (size_t)sprintf(text + len, "%s%s.example%s\n", prefix[f], label, suffix[f]);
		len += (size_t)sprintf(text + len, "%s%s%s\n", prefix[f], longname, suffix[f]);
		len += (size_t)sprintf(text + len, "%s192.0.2.1%s\n", prefix[f], suffix[f]);
		len += (size_t)sprintf(text + len, "%snul", prefix[f]);
		text[len++] = 0; /* line 6: a NUL byte */
		len += (size_t)sprintf(text + len, "x.example%s\n", suffix[f]);
		len += (size_t)sprintf(text + len, "\x01\xff\xfe%s\n", prefix[f]);
		len += (size_t)sprintf(text + len, "%sgood2.example%s", prefix[f],
		    suffix[f]); /* no \n */
		p = policy_new(11);
		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(blocklist_parse(p, text, len, (enum bl_format)f, false,
		                     POL_ACT_DEFAULT, policy_source(p, "bad"), &st),
		    STUB_OK);
		ck_assert_msg(st.unknown == 6, "%s: %zu unknown", blocklist_format_name(f),
		    st.unknown);
		ck_assert_uint_eq(st.first_unknown, 2);
		ck_assert_uint_eq(st.entries, 2);
		ck_assert_str_eq(verdict(p, "good.example"), "block");
		ck_assert_str_eq(verdict(p, "good2.example"), "block");
		ck_assert_str_eq(verdict(p, "x.example"), "-");
		policy_free(p);
	}
	free(text);
}
END_TEST

static size_t
put_aaaa(uint8_t *m, size_t o, const char *addr)
{
	static const uint8_t rr[] = { 0xc0, 12, 0, 28, 0, 1, 0, 0, 1, 44, 0, 16 };

	memcpy(m + o, rr, sizeof(rr));
	ck_assert_int_eq(inet_pton(AF_INET6, addr, m + o + sizeof(rr)), 1);
	return o + sizeof(rr) + 16;
}

/* AAAA records: the private ones of SPEC 18 go (loopback, mapped private
 * IPv4, fc00::/7, fe80::/10), a public one stays; all private: nothing
 * left in the answer section. */
START_TEST(test_rebind_filter_aaaa)
{
	static const uint8_t head[] = { 0, 7, 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0, 3, 'w', 'w', 'w',
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 28, 0, 1 };
	uint8_t in[512], out[512];
	size_t l = sizeof(head), ol;
	unsigned removed;
	char data[64];

	memcpy(in, head, sizeof(head));
	l = put_aaaa(in, l, "::1");
	l = put_aaaa(in, l, "fd00::5");
	l = put_aaaa(in, l, "2001:db8::1");
	l = put_aaaa(in, l, "::ffff:192.168.1.1");
	l = put_aaaa(in, l, "fe80::1");
	ck_assert_int_eq(rebind_filter(in, l, out, sizeof(out), &ol, &removed), STUB_OK);
	ck_assert_uint_eq(removed, 4);
	ck_assert_uint_eq(tu_ancount(out, ol), 1);
	tu_first_data(out, ol, data, sizeof(data));
	ck_assert_str_eq(data, "2001:db8::1");
	in[7] = 1; /* only ::1 */
	ck_assert_int_eq(rebind_filter(in, sizeof(head) + 28, out, sizeof(out), &ol, &removed),
	    STUB_OK);
	ck_assert_uint_eq(removed, 1);
	ck_assert_uint_eq(tu_ancount(out, ol), 0);
	ck_assert_uint_eq(tu_rcode(out, ol), RCODE_NOERROR);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *t = tcase_create("basic");

	tcase_add_test(t, test_hosts_format);
	tcase_add_test(t, test_domains_format);
	tcase_add_test(t, test_wildcard_format);
	tcase_add_test(t, test_adblock_format);
	tcase_add_test(t, test_rpz_format);
	tcase_add_test(t, test_allowlist);
	tcase_add_test(t, test_precedence);
	tcase_add_test(t, test_rules);
	tcase_add_test(t, test_local_answers);
	tcase_add_test(t, test_many);
	tcase_add_test(t, test_directives);
	tcase_add_test(t, test_rebind_ranges);
	tcase_add_test(t, test_upstream_ede_kept);
	tcase_add_test(t, test_rule_adapter_routes);
	tcase_add_test(t, test_rebind_filter);
	tcase_add_test(t, test_malformed_never_fatal);
	tcase_add_test(t, test_rebind_filter_aaaa);
	tcase_set_timeout(t, 30);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(policy_suite());
}
