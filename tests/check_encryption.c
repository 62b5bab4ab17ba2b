/*
 * check_encryption.c - SPEC 17 in the configuration: the encryption
 * directives, the known table, templates, and the encrypted twins
 * cfg_finish adds (with the clear-text server kept as their fallback).
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "checkmain.h"
#include "config.h"
#include "encryption.h"
#include "text.h"

static struct cfg *
parse(const char *text, size_t want_errors)
{
	struct cfg *c = cfg_new(NULL, NULL);

	ck_assert_ptr_nonnull(c);
	cfg_parse_text(c, text, strlen(text), "t");
	cfg_finish(c, NULL);
	ck_assert_msg(c->nerrors == want_errors, "errors: %s", c->errors ? c->errors : "none");
	return c;
}

static uint16_t
port_of(const struct cfg_server *s)
{
	return ntohs(((const struct sockaddr_in *)&s->addr.ss)->sin_port);
}

START_TEST(test_twins)
{
	struct cfg *c = parse("encryption auto\n"
	                      "encryption-template 127.0.0.9 tls dns.test\n"
	                      "encryption-template 127.0.0.10 https://doh.test:8443/q\n"
	                      "server 127.0.0.9:5300\n"
	                      "server 1.1.1.1\n"
	                      "server 192.0.2.1\n"
	                      "server 127.0.0.10\n"
	                      "server 9.9.9.9 tls dns.quad9.net\n",
	    0);
	const struct cfg_server *s = c->servers;

	ck_assert_uint_eq(c->nservers, 8); /* 5 + 3 twins */
	/* the template's twin: tls to ADDR:853 with the name */
	ck_assert_uint_eq(s[0].twin, 6);
	ck_assert_uint_eq(s[0].upgrade, UPGRADE_KNOWN);
	ck_assert_uint_eq(s[5].clear, 1);
	ck_assert_int_eq(s[5].transport, XPORT_TLS);
	ck_assert_str_eq(s[5].auth_name, "dns.test");
	ck_assert_uint_eq(port_of(&s[5]), 853);
	ck_assert_uint_eq(s[5].adapter, s[0].adapter);
	ck_assert(cfg_server_authenticated(&s[5]));
	/* the known table */
	ck_assert_uint_eq(s[1].twin, 7);
	ck_assert_str_eq(s[6].auth_name, "cloudflare-dns.com");
	/* as Windows: the DoH template https://NAME/dns-query at ADDR:443 */
	ck_assert_int_eq(s[6].transport, XPORT_HTTPS);
	ck_assert_str_eq(s[6].path, "/dns-query");
	ck_assert_uint_eq(port_of(&s[6]), 443);
	/* not known: stays in clear text */
	ck_assert_uint_eq(s[2].twin, 0);
	ck_assert_int_eq(s[2].encryption, ENC_AUTO);
	/* https template: the URL's port and path, the address of the server */
	ck_assert_uint_eq(s[3].twin, 8);
	ck_assert_int_eq(s[7].transport, XPORT_HTTPS);
	ck_assert_str_eq(s[7].auth_name, "doh.test");
	ck_assert_str_eq(s[7].path, "/q");
	ck_assert_uint_eq(port_of(&s[7]), 8443);
	/* already encrypted: no twin */
	ck_assert_uint_eq(s[4].twin, 0);
	/* idempotent */
	ck_assert_int_eq(encryption_apply(c), STUB_OK);
	ck_assert_uint_eq(c->nservers, 8);
	cfg_unref(c);
}
END_TEST

START_TEST(test_policies)
{
	struct cfg *c = parse("server 1.1.1.1\n", 0);

	/* off by default: nothing added */
	ck_assert_uint_eq(c->nservers, 1);
	ck_assert_int_eq(c->servers[0].encryption, ENC_OFF);
	cfg_unref(c);
	/* per adapter, over the global one */
	c = parse("encryption require\n"
	          "adapter a encryption off\nserver 8.8.8.8\n"
	          "adapter b\nserver 8.8.4.4\n"
	          "adapter c encryption opportunistic\nserver 2620:fe::9\n",
	    0);
	ck_assert_uint_eq(c->nservers, 5);
	ck_assert_uint_eq(c->servers[0].twin, 0);
	ck_assert_int_eq(c->servers[0].encryption, ENC_OFF);
	ck_assert_int_eq(c->servers[1].encryption, ENC_REQUIRE);
	ck_assert_uint_eq(c->servers[1].twin, 4);
	ck_assert_int_eq(c->servers[3].encryption, ENC_REQUIRE);
	ck_assert_str_eq(c->servers[3].auth_name, "dns.google");
	ck_assert_int_eq(c->servers[2].encryption, ENC_OPPORTUNISTIC);
	ck_assert_uint_eq(c->servers[2].twin, 5);
	ck_assert_str_eq(c->servers[4].auth_name, "dns.quad9.net");
	ck_assert_int_eq(c->servers[4].encryption, ENC_OPPORTUNISTIC);
	cfg_unref(c);
}
END_TEST

START_TEST(test_bad_lines)
{
	struct cfg *c;

	c = parse("encryption maybe\n", 1);
	cfg_unref(c);
	c = parse("encryption-template 127.0.0.9 tls\n", 1);
	cfg_unref(c);
	c = parse("encryption-template 127.0.0.9 dot dns.test\n", 1);
	cfg_unref(c);
	c = parse("encryption-template nonsense tls dns.test\n", 1);
	cfg_unref(c);
	c = parse("encryption-template 127.0.0.9 https://\n", 1);
	cfg_unref(c);
	c = parse("adapter x encryption sometimes\n", 1);
	cfg_unref(c);
	/* a later template for the same address replaces the earlier */
	c = parse("encryption-template 127.0.0.9 tls a.test\n"
	          "encryption-template 127.0.0.9 tls b.test\n",
	    0);
	ck_assert_uint_eq(c->ntemplates, 1);
	ck_assert_str_eq(c->templates[0].name, "b.test");
	cfg_unref(c);
}
END_TEST

START_TEST(test_known_table)
{
	static const char *const addrs[] = { "1.1.1.1", "1.0.0.1", "2606:4700:4700::1111",
		"2606:4700:4700::1001", "8.8.8.8", "8.8.4.4", "2001:4860:4860::8888",
		"2001:4860:4860::8844", "9.9.9.9", "149.112.112.112", "2620:fe::fe", "2620:fe::9" };
	static const char *const names[] = { "cloudflare-dns.com", "dns.google", "dns.quad9.net" };
	struct cfg_template t;
	struct cfg_sockaddr sa;
	size_t i;

	for (i = 0; i < 12; i++) {
		ck_assert_int_eq(cfg_parse_sockaddr(addrs[i], 53, &sa), STUB_OK);
		ck_assert(encryption_known((struct sockaddr *)&sa.ss, &t));
		ck_assert_str_eq(t.name, names[i / 4]);
		ck_assert_uint_eq(t.port, 443);
		ck_assert_int_eq(t.transport, XPORT_HTTPS);
		ck_assert_str_eq(t.path, "/dns-query");
	}
	ck_assert_int_eq(cfg_parse_sockaddr("1.1.1.2", 53, &sa), STUB_OK);
	ck_assert(!encryption_known((struct sockaddr *)&sa.ss, &t));
	ck_assert_int_eq(cfg_parse_sockaddr("2606:4700:4700::1112", 53, &sa), STUB_OK);
	ck_assert(!encryption_known((struct sockaddr *)&sa.ss, &t));
}
END_TEST

/* dnr lines (RFC 9463): a resolver at a clear-text server's address is
 * its twin; others are more servers of the adapter, lower priority first */
START_TEST(test_dnr)
{
	struct cfg *c = parse("encryption auto\n"
	                      "adapter lan\n"
	                      "server 192.0.2.1\n"
	                      "server 1.1.1.1\n"
	                      "dnr 20 Late.test 198.51.100.7 alpn=h2 dohpath=/q{?dns}\n"
	                      "dnr 10 dnr.test 192.0.2.1,198.51.100.9 alpn=dot,h2 port=8853\n"
	                      "dnr 5 win.test 1.1.1.1 alpn=h3,dot\n"
	                      "encryption-template 1.1.1.1 tls admin.test\n",
	    0);
	const struct cfg_server *s = c->servers;

	ck_assert_uint_eq(c->ndnr, 3);
	ck_assert_uint_eq(c->nservers, 6); /* 2 + 2 twins + 2 extra */
	/* the twin of 192.0.2.1: DoT (preferred over h2) on the given port */
	ck_assert_uint_eq(s[0].twin, 3);
	ck_assert_uint_eq(s[0].upgrade, UPGRADE_DNR);
	ck_assert_int_eq(s[2].transport, XPORT_TLS);
	ck_assert_str_eq(s[2].auth_name, "dnr.test");
	ck_assert_uint_eq(port_of(&s[2]), 8853);
	ck_assert_uint_eq(s[2].clear, 1);
	/* the administrator's template wins over DNR and the known table */
	ck_assert_uint_eq(s[1].twin, 4);
	ck_assert_uint_eq(s[1].upgrade, UPGRADE_KNOWN);
	ck_assert_str_eq(s[3].auth_name, "admin.test");
	/* the others, priority 10 before 20 */
	ck_assert_int_eq(s[4].transport, XPORT_TLS);
	ck_assert_str_eq(s[4].text, "198.51.100.9:8853");
	ck_assert_uint_eq(s[4].clear, 0);
	ck_assert_uint_eq(s[4].upgrade, UPGRADE_DNR);
	ck_assert_int_eq(s[5].transport, XPORT_HTTPS);
	ck_assert_str_eq(s[5].auth_name, "late.test");
	ck_assert_str_eq(s[5].path, "/q");
	ck_assert_uint_eq(port_of(&s[5]), 443);
	ck_assert(cfg_server_authenticated(&s[5]));
	ck_assert_uint_eq(s[5].adapter, s[0].adapter);
	/* idempotent */
	ck_assert_int_eq(encryption_apply(c), STUB_OK);
	ck_assert_uint_eq(c->nservers, 6);
	cfg_unref(c);
	/* off: no twin, but an extra DNR server is still an encrypted server */
	c = parse("server 192.0.2.1\ndnr 1 a.test 192.0.2.1 alpn=dot\n"
	          "dnr 2 b.test 192.0.2.2 alpn=dot\n",
	    0);
	ck_assert_uint_eq(c->nservers, 2);
	ck_assert_uint_eq(c->servers[0].twin, 0);
	ck_assert_str_eq(c->servers[1].auth_name, "b.test");
	cfg_unref(c);
}
END_TEST

START_TEST(test_dnr_parse)
{
	static const char *const bad[] = {
		"dnr 0 a.test 192.0.2.1 alpn=dot\n",               /* priority */
		"dnr 65536 a.test 192.0.2.1 alpn=dot\n",           /* priority */
		"dnr 1 a..test 192.0.2.1 alpn=dot\n",              /* name */
		"dnr 1 a.test 192.0.2.1:853 alpn=dot\n",           /* a port */
		"dnr 1 a.test 192.0.2.1,,192.0.2.2 alpn=dot\n",    /* empty */
		"dnr 1 a.test 224.0.0.1 alpn=dot\n",               /* multicast */
		"dnr 1 a.test 1.1.1.1,2,3,4,5,6,7,8,9 alpn=dot\n", /* 9 */
		"dnr 1 a.test 192.0.2.1 alpn=h3\n",                /* no ALPN */
		"dnr 1 a.test 192.0.2.1\n",                        /* no alpn */
		"dnr 1 a.test 192.0.2.1 alpn=dot port=0\n",        /* port */
		"dnr 1 a.test 192.0.2.1 alpn=h2 dohpath=q\n",      /* path */
		"dnr 1 a.test 192.0.2.1 alpn=h2 dohpath=/q{?x}\n", /* template */
		"dnr 1 a.test 192.0.2.1 alpn=dot alpn=h2\n",       /* repeated */
		"dnr 1 a.test 192.0.2.1 alpn=dot ech=x\n",         /* unknown */
	};
	struct cfg_dnr d, back;
	char line[1024], *w[CFG_MAX_WORDS];
	char w0[] = "7", w1[] = "DNS.Test", w2[] = "192.0.2.1,2001:db8::1", w3[] = "alpn=h2,dot",
	     w4[] = "port=853", w5[] = "dohpath=/dns-query{?dns}";
	char *words[] = { w0, w1, w2, w3, w4, w5 };
	size_t i;
	int n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cfg *c = parse(bad[i], 1);

		ck_assert_uint_eq(c->ndnr, 0);
		cfg_unref(c);
	}
	/* format reads back the same */
	ck_assert_int_eq(encryption_dnr_parse(words, 6, &d, line, sizeof(line)), STUB_OK);
	ck_assert_str_eq(d.name, "dns.test");
	ck_assert_str_eq(d.path, "/dns-query");
	encryption_dnr_format(&d, line, sizeof(line));
	ck_assert_str_eq(line,
	    "7 dns.test 192.0.2.1,2001:db8::1 alpn=dot,h2 port=853 dohpath=/dns-query");
	n = text_words(line, w, CFG_MAX_WORDS, false);
	ck_assert_int_eq(encryption_dnr_parse(w, n, &back, line, sizeof(line)), STUB_OK);
	ck_assert_mem_eq(&d, &back, sizeof(d));
}
END_TEST

/* A TLS session resumes only with a server verified the same way: a DDR
 * twin's IP SAN (the clear-text server's address) counts too. */
START_TEST(test_same_tls_identity)
{
	struct cfg_server a, b;

	memset(&a, 0, sizeof(a));
	a.transport = XPORT_TLS;
	snprintf(a.text, sizeof(a.text), "10.0.0.1:853");
	snprintf(a.auth_name, sizeof(a.auth_name), "dns.test");
	ck_assert_int_eq(cfg_parse_sockaddr("10.53.0.1", 53, &a.san_ip), STUB_OK);
	b = a;
	ck_assert(cfg_same_tls_identity(&a, &b));
	ck_assert_int_eq(cfg_parse_sockaddr("10.53.0.2", 53, &b.san_ip), STUB_OK);
	ck_assert(!cfg_same_tls_identity(&a, &b)); /* verified for another IP */
	memset(&b.san_ip, 0, sizeof(b.san_ip));
	ck_assert(!cfg_same_tls_identity(&a, &b)); /* one checked no IP at all */
	ck_assert(!cfg_same_tls_identity(&b, &a));
	b = a;
	snprintf(b.auth_name, sizeof(b.auth_name), "other.test");
	ck_assert(!cfg_same_tls_identity(&a, &b));
	b = a;
	b.insecure = true;
	ck_assert(!cfg_same_tls_identity(&a, &b));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("encryption");
	TCase *t = tcase_create("core");

	tcase_add_test(t, test_twins);
	tcase_add_test(t, test_policies);
	tcase_add_test(t, test_bad_lines);
	tcase_add_test(t, test_known_table);
	tcase_add_test(t, test_dnr);
	tcase_add_test(t, test_dnr_parse);
	tcase_add_test(t, test_same_tls_identity);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(suite());
}
