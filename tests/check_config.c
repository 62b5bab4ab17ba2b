/*
 * check_config.c - stubd.conf parsing, errors, overrides, defaults.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "config.h"
#include "testutil.h"

static struct cfg *
parse(const char *text, size_t *nerr)
{
	struct cfg *c = cfg_new("/run/stubd.sock", "/etc/hosts");

	ck_assert_ptr_nonnull(c);
	*nerr = cfg_parse_text(c, text, strlen(text), "test.conf");
	return c;
}

START_TEST(test_defaults)
{
	size_t e;
	struct cfg *c = parse("", &e);

	ck_assert_uint_eq(e, 0);
	ck_assert_uint_eq(cfg_finish(c, NULL), 0);
	ck_assert_uint_eq(c->nlistens, 2);
	ck_assert_uint_eq(c->cache_size, 100000);
	ck_assert_uint_eq(c->cache_memory, 64u << 20);
	ck_assert_uint_eq(c->max_ttl, 86400);
	ck_assert_uint_eq(c->min_ttl, 0);
	ck_assert_uint_eq(c->max_negative_ttl, 900);
	ck_assert_uint_eq(c->negative_ttl, 60);
	ck_assert_uint_eq(c->ntimeouts, 5);
	ck_assert_uint_eq(c->timeouts_ms[0], 1000);
	ck_assert_uint_eq(c->timeouts_ms[4], 8000);
	ck_assert_uint_eq(c->exclude_ms, 30000);
	ck_assert_uint_eq(c->serve_stale, 0);
	ck_assert_uint_eq(c->max_tcp_clients, 256);
	ck_assert_uint_eq(c->max_inflight, 4096);
	ck_assert_str_eq(c->control, "/run/stubd.sock");
	ck_assert_str_eq(c->hosts, "/etc/hosts");
	ck_assert_str_eq(c->resolv_file, "/etc/resolv.conf");
	ck_assert_uint_eq(c->nacls, 2);
	cfg_unref(c);
}
END_TEST

START_TEST(test_all_directives)
{
	static const char text[] = "# comment\n"
	                           "listen 127.0.0.1:5353   # trailing comment\n"
	                           "listen [::1]:5353\n"
	                           "allow 10.0.0.0/8\n"
	                           "allow ::1\n"
	                           "control off\n"
	                           "control-group adm\n"
	                           "hosts none\n"
	                           "hosts-ttl 5\n"
	                           "cache-size 50\n"
	                           "cache-memory 16M\n"
	                           "max-ttl 3600\n"
	                           "min-ttl 10\n"
	                           "max-negative-ttl 300\n"
	                           "negative-ttl 30\n"
	                           "timeouts 0.2 0.4 0.4 0.8 1.6\n"
	                           "exclude-time 2.5\n"
	                           "serve-stale 600\n"
	                           "max-tcp-clients 8\n"
	                           "max-inflight 100\n"
	                           "user nobody\n"
	                           "resolv-file /tmp/resolv\n"
	                           "server 192.0.2.9\n"
	                           "adapter lan device eth0 metric 10\n"
	                           "server 192.0.2.1\n"
	                           "server 192.0.2.2:5353 priority first\n"
	                           "domain Corp.Example\n"
	                           "adapter vpn source 10.8.0.2 metric 50\n"
	                           "server 10.8.0.1 priority last\n";
	size_t e;
	struct cfg *c = parse(text, &e);

	ck_assert_msg(e == 0, "errors: %s", c->errors ? c->errors : "");
	ck_assert_uint_eq(c->nlistens, 2);
	ck_assert_uint_eq(c->nacls, 2);
	ck_assert_ptr_null(c->control);
	ck_assert_str_eq(c->control_group, "adm");
	ck_assert_ptr_null(c->hosts);
	ck_assert_uint_eq(c->hosts_ttl, 5);
	ck_assert_uint_eq(c->cache_memory, 16u << 20);
	ck_assert_uint_eq(c->cache_size, 50);
	ck_assert_uint_eq(c->max_ttl, 3600);
	ck_assert_uint_eq(c->min_ttl, 10);
	ck_assert_uint_eq(c->max_negative_ttl, 300);
	ck_assert_uint_eq(c->negative_ttl, 30);
	ck_assert_uint_eq(c->ntimeouts, 5);
	ck_assert_uint_eq(c->timeouts_ms[0], 200);
	ck_assert_uint_eq(c->timeouts_ms[4], 1600);
	ck_assert_uint_eq(c->exclude_ms, 2500);
	ck_assert_uint_eq(c->serve_stale, 600);
	ck_assert_uint_eq(c->max_tcp_clients, 8);
	ck_assert_uint_eq(c->max_inflight, 100);
	ck_assert_str_eq(c->user, "nobody");
	ck_assert_str_eq(c->resolv_file, "/tmp/resolv");
	ck_assert_uint_eq(c->nadapters, 3);
	ck_assert_str_eq(c->adapters[0].name, "default");
	ck_assert_str_eq(c->adapters[1].name, "lan");
	ck_assert_str_eq(c->adapters[1].device, "eth0");
	ck_assert_int_eq(c->adapters[1].metric, 10);
	ck_assert_uint_eq(c->adapters[1].ndomains, 1);
	ck_assert_uint_eq(c->adapters[1].domains[0].name[1], 'c'); /* lower-cased */
	ck_assert_uint_gt(c->adapters[2].source.len, 0);
	ck_assert_int_eq(c->adapters[2].metric, 50);
	ck_assert_uint_eq(c->nservers, 4);
	ck_assert_uint_eq(c->servers[0].adapter, 0);
	ck_assert_str_eq(c->servers[0].text, "192.0.2.9:53");
	ck_assert_uint_eq(c->servers[1].adapter, 1);
	ck_assert_str_eq(c->servers[2].text, "192.0.2.2:5353");
	ck_assert_int_eq(c->servers[2].prio, PRIO_FIRST);
	ck_assert_uint_eq(c->servers[3].adapter, 2);
	ck_assert_int_eq(c->servers[3].prio, PRIO_LAST);
	/* servers were configured: resolv-file not used */
	ck_assert_uint_eq(cfg_finish(c, "nameserver 192.0.2.200\n"), 0);
	ck_assert_uint_eq(c->nservers, 4);
	cfg_unref(c);
}
END_TEST

static void
expect_error(const char *text, const char *want)
{
	size_t e;
	struct cfg *c = parse(text, &e);

	ck_assert_msg(e >= 1, "no error for: %s", text);
	ck_assert_ptr_nonnull(c->errors);
	ck_assert_msg(strstr(c->errors, want) != NULL, "'%s' not in '%s'", want, c->errors);
	cfg_unref(c);
}

START_TEST(test_errors)
{
	expect_error("bogus 1\n", "test.conf:1: unknown directive 'bogus'");
	expect_error("\n\ncache-size lots\n", "test.conf:3: bad cache-size");
	expect_error("cache-size -1\n", "test.conf:1:");
	expect_error("cache-memory 10X\n", "test.conf:1: bad cache-memory '10X'");
	expect_error("cache-memory 1k\n", "test.conf:1: bad cache-memory");
	expect_error("cache-memory 2000G\n", "test.conf:1: bad cache-memory");
	expect_error("cache-memory -5M\n", "test.conf:1: bad cache-memory");
	expect_error("listen 300.1.1.1\n", "test.conf:1: bad listen address");
	expect_error("listen 127.0.0.1:0\n", "test.conf:1:");
	expect_error("listen 127.0.0.1:99999\n", "test.conf:1:");
	expect_error("listen\n", "test.conf:1: 'listen' takes one value");
	expect_error("allow 10.0.0.0/33\n", "test.conf:1: bad address");
	expect_error("timeouts\n", "test.conf:1:");
	expect_error("timeouts 1 0 2\n", "test.conf:1: bad timeout '0'");
	expect_error("timeouts 1 x\n", "test.conf:1: bad timeout 'x'");
	expect_error("adapter lan\nadapter lan\n", "test.conf:2: duplicate adapter 'lan'");
	expect_error("adapter lan metric\n", "test.conf:1:");
	expect_error("adapter lan colour blue\n", "test.conf:1: unknown adapter option");
	expect_error("adapter lan source nowhere\n", "test.conf:1: bad source address");
	expect_error("server 192.0.2.1 priority maybe\n", "test.conf:1: bad priority");
	expect_error("server 192.0.2.1 weight 3\n", "test.conf:1: unknown server option");
	expect_error("domain a..b\n", "test.conf:1: bad domain");
	expect_error("control relative/path\n", "test.conf:1: control socket path");
	expect_error("serve-stale soon\n", "test.conf:1: bad serve-stale");
	expect_error("max-tcp-clients 0\n", "test.conf:1:");
	expect_error("server 192.0.2.1\nadapter default\n", "test.conf:2: duplicate adapter");
}
END_TEST

START_TEST(test_error_line_numbers_all)
{
	size_t e;
	struct cfg *c = parse("bogus\ncache-size 1\nmax-ttl x\n", &e);

	ck_assert_uint_eq(e, 2);
	ck_assert_ptr_nonnull(strstr(c->errors, "test.conf:1:"));
	ck_assert_ptr_nonnull(strstr(c->errors, "test.conf:3:"));
	ck_assert_uint_eq(c->cache_size, 1);
	cfg_unref(c);
}
END_TEST

START_TEST(test_min_above_max)
{
	size_t e;
	struct cfg *c = parse("min-ttl 100\nmax-ttl 10\n", &e);

	ck_assert_uint_eq(e, 0);
	ck_assert_uint_eq(cfg_finish(c, NULL), 1);
	cfg_unref(c);
}
END_TEST

START_TEST(test_file)
{
	char path[] = "/tmp/stubd-cfg-XXXXXX";
	int fd = mkstemp(path);
	struct cfg *c = cfg_new(NULL, NULL);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "cache-size 7\nnope\n", 18), 18);
	close(fd);
	ck_assert_uint_eq(cfg_parse_file(c, path, false), 1);
	ck_assert_uint_eq(c->cache_size, 7);
	{
		char want[64];

		snprintf(want, sizeof(want), "%s:2: unknown directive", path);
		ck_assert_ptr_nonnull(strstr(c->errors, want));
	}
	unlink(path);
	cfg_unref(c);
	c = cfg_new(NULL, NULL);
	ck_assert_uint_eq(cfg_parse_file(c, path, true), 0);  /* missing default: fine */
	ck_assert_uint_eq(cfg_parse_file(c, path, false), 1); /* missing given: error */
	cfg_unref(c);
}
END_TEST

START_TEST(test_cmdline_overrides)
{
	size_t e;
	struct cfg *c = parse(
	    "listen 127.0.0.1:53\nserver 192.0.2.1\nadapter lan\nserver 192.0.2.2\n", &e);
	char why[64];

	ck_assert_int_eq(cfg_listen_clear_add(c, true, "127.0.0.1:5353", why, sizeof(why)),
	    STUB_OK);
	ck_assert_int_eq(cfg_listen_clear_add(c, false, "[::1]:5353", why, sizeof(why)), STUB_OK);
	ck_assert_uint_eq(c->nlistens, 2);
	ck_assert_int_eq(cfg_listen_clear_add(c, false, "nonsense", why, sizeof(why)),
	    STUB_EFORMAT);
	ck_assert_int_eq(cfg_server_arg(c, true, "192.0.2.7:5300%lan", why, sizeof(why)), STUB_OK);
	ck_assert_int_eq(cfg_server_arg(c, false, "192.0.2.8", why, sizeof(why)), STUB_OK);
	ck_assert_int_eq(cfg_server_arg(c, false, "[2001:db8::1]:53%wifi", why, sizeof(why)),
	    STUB_OK);
	ck_assert_uint_eq(c->nservers, 3);
	ck_assert_str_eq(c->adapters[c->servers[0].adapter].name, "lan");
	ck_assert_str_eq(c->servers[0].text, "192.0.2.7:5300");
	ck_assert_str_eq(c->adapters[c->servers[1].adapter].name, "default");
	ck_assert_str_eq(c->adapters[c->servers[2].adapter].name, "wifi");
	ck_assert_str_eq(c->servers[2].text, "[2001:db8::1]:53");
	ck_assert_int_eq(cfg_server_arg(c, false, "1.2.3.4%bad name", why, sizeof(why)),
	    STUB_EFORMAT);
	ck_assert_str_eq(why, "bad adapter name");
	cfg_unref(c);
}
END_TEST

START_TEST(test_resolv)
{
	size_t e;
	struct cfg *c = parse("listen 127.0.0.1:53\nlisten 0.0.0.0:5353\n", &e);

	ck_assert_uint_eq(
	    cfg_finish(c,
	        "# comment\nnameserver 127.0.0.1\nnameserver 192.0.2.53\n"
	        "options edns0\nnameserver 127.0.0.5:5353\nnameserver fe80::1%eth0\n"
	        "nameserver 127.0.0.1:5300\nnameserver 2001:db8::1%eth0\nnameserver fe80::2\n"
	        "nameserver fe80::3%eth0\nnameserver fe80::4%bad/name\n"
	        "nameserver [fe80::5%eth0]:5353\nnameserver fe80::6%waytoolonginterfacename\n"),
	    0);
	/* 127.0.0.1:53 is stubd itself, 127.0.0.5:5353 is under 0.0.0.0:5353;
	 * link-local servers go to an adapter bound to their scope's interface
	 * (fe80::2 has none, bad/name is no interface name); a global address
	 * needs no scope */
	ck_assert_uint_eq(c->nservers, 6);
	ck_assert_uint_eq(c->nadapters, 2);
	ck_assert_str_eq(c->adapters[0].name, "default");
	ck_assert_str_eq(c->adapters[0].device, "");
	ck_assert_str_eq(c->adapters[1].name, "eth0");
	ck_assert_str_eq(c->adapters[1].device, "eth0");
	ck_assert_int_eq(c->adapters[1].origin, ORIGIN_RESOLV_FILE);
	ck_assert_str_eq(c->servers[0].text, "192.0.2.53:53");
	ck_assert_str_eq(c->servers[1].text, "[fe80::1]:53");
	ck_assert_uint_eq(c->servers[1].adapter, 1);
	ck_assert_str_eq(c->servers[2].text, "127.0.0.1:5300");
	ck_assert_uint_eq(c->servers[2].adapter, 0);
	ck_assert_str_eq(c->servers[3].text, "[2001:db8::1]:53");
	ck_assert_uint_eq(c->servers[3].adapter, 0);
	ck_assert_str_eq(c->servers[4].text, "[fe80::3]:53");
	ck_assert_uint_eq(c->servers[4].adapter, 1);
	ck_assert_str_eq(c->servers[5].text, "[fe80::5]:5353");
	ck_assert_uint_eq(c->servers[5].adapter, 1);
	ck_assert(c->servers_from_resolv);
	cfg_unref(c);
	/* in stubd.conf a link-local server needs a device on its adapter */
	c = parse("server fe80::1\n", &e);
	ck_assert_uint_eq(e, 0);
	ck_assert_uint_eq(cfg_finish(c, NULL), 1);
	ck_assert_ptr_nonnull(strstr(c->errors,
	    "server [fe80::1]:53: an IPv6 link-local address "
	    "needs 'device' on its adapter (default)"));
	cfg_unref(c);
	c = parse("adapter lan device eth0\nserver fe80::1\nserver [fe80::2]:5353\n", &e);
	ck_assert_uint_eq(e, 0);
	ck_assert_uint_eq(cfg_finish(c, NULL), 0);
	ck_assert_uint_eq(c->nservers, 2);
	cfg_unref(c);
}
END_TEST

START_TEST(test_sockaddr)
{
	struct cfg_sockaddr sa;
	char buf[80];

	ck_assert_int_eq(cfg_parse_sockaddr("192.0.2.1", 53, &sa), STUB_OK);
	cfg_format_sockaddr((struct sockaddr *)&sa.ss, buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.0.2.1:53");
	ck_assert_int_eq(cfg_parse_sockaddr("[::1]:5353", 53, &sa), STUB_OK);
	cfg_format_sockaddr((struct sockaddr *)&sa.ss, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[::1]:5353");
	ck_assert_int_eq(cfg_parse_sockaddr("::1", 53, &sa), STUB_OK);
	ck_assert_int_eq(cfg_parse_sockaddr("[::1]", 53, &sa), STUB_OK);
	ck_assert_int_eq(cfg_parse_sockaddr("[::1]x", 53, &sa), STUB_EFORMAT);
	ck_assert_int_eq(cfg_parse_sockaddr("1.2.3.4:", 53, &sa), STUB_EFORMAT);
	ck_assert_int_eq(cfg_parse_sockaddr("1.2.3.4:+5", 53, &sa), STUB_EFORMAT);
	ck_assert_int_eq(cfg_parse_sockaddr("host.example:53", 53, &sa), STUB_EFORMAT);
	ck_assert_int_eq(cfg_parse_sockaddr("", 53, &sa), STUB_EFORMAT);
	ck_assert_int_eq(cfg_parse_sockaddr(NULL, 53, &sa), STUB_EFORMAT);
}
END_TEST

START_TEST(test_acl)
{
	size_t e;
	struct cfg *c = parse("allow 10.1.0.0/16\nallow 2001:db8::/32\n", &e);
	struct sockaddr_in a4 = { 0 };
	struct sockaddr_in6 a6 = { 0 };

	cfg_finish(c, NULL);
	a4.sin_family = AF_INET;
	inet_pton(AF_INET, "10.1.200.3", &a4.sin_addr);
	ck_assert(cfg_acl_match(c, (struct sockaddr *)&a4));
	inet_pton(AF_INET, "10.2.0.1", &a4.sin_addr);
	ck_assert(!cfg_acl_match(c, (struct sockaddr *)&a4));
	inet_pton(AF_INET, "127.0.0.1", &a4.sin_addr);
	ck_assert(!cfg_acl_match(c, (struct sockaddr *)&a4)); /* allow replaces the default */
	a6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1::5", &a6.sin6_addr);
	ck_assert(cfg_acl_match(c, (struct sockaddr *)&a6));
	inet_pton(AF_INET6, "::ffff:10.1.0.9", &a6.sin6_addr); /* v4-mapped */
	ck_assert(cfg_acl_match(c, (struct sockaddr *)&a6));
	cfg_unref(c);
	/* default: loopback only */
	c = parse("", &e);
	cfg_finish(c, NULL);
	inet_pton(AF_INET, "127.9.9.9", &a4.sin_addr);
	ck_assert(cfg_acl_match(c, (struct sockaddr *)&a4));
	inet_pton(AF_INET, "192.0.2.1", &a4.sin_addr);
	ck_assert(!cfg_acl_match(c, (struct sockaddr *)&a4));
	inet_pton(AF_INET6, "::1", &a6.sin6_addr);
	ck_assert(cfg_acl_match(c, (struct sockaddr *)&a6));
	cfg_unref(c);
}
END_TEST

START_TEST(test_refs)
{
	struct cfg *c = cfg_new(NULL, NULL);

	ck_assert_ptr_eq(cfg_ref(c), c);
	cfg_unref(c);
	ck_assert_int_eq(c->refs, 1);
	cfg_unref(c);
	cfg_unref(NULL);
	ck_assert_ptr_null(cfg_ref(NULL));
}
END_TEST

START_TEST(test_0x20)
{
	size_t e;
	struct cfg *c = parse("upstream-0x20 yes\nserver 192.0.2.1 no-0x20 priority last\n"
	                      "server 192.0.2.2\n",
	    &e);

	ck_assert_uint_eq(e, 0);
	ck_assert(c->upstream_0x20);
	ck_assert(c->servers[0].no_0x20);
	ck_assert_int_eq(c->servers[0].prio, PRIO_LAST);
	ck_assert(!c->servers[1].no_0x20);
	cfg_unref(c);
	c = parse("upstream-0x20 maybe\n", &e);
	ck_assert_uint_eq(e, 1);
	cfg_unref(c);
	c = parse("", &e);
	ck_assert(!c->upstream_0x20);
	cfg_unref(c);
}
END_TEST

/* SPEC 12: tls, https, pins, insecure, trust-ad, tls-ca */
START_TEST(test_encrypted_servers)
{
	/* SHA-256 of the empty string */
	static const char pin[] = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
	char text[1024], url[300];
	size_t e;
	struct cfg *c;

	snprintf(text, sizeof(text),
	    "server 192.0.2.1 tls dns.example\n"
	    "server 192.0.2.2:8853 tls dns.example pin %s priority last\n"
	    "server 192.0.2.3 tls insecure\n"
	    "server https://doh.example/dns-query 192.0.2.4\n"
	    "server https://doh.example:8443/q 192.0.2.5 pin %s\n"
	    "server https://doh.example 192.0.2.6:444 insecure\n"
	    "server 127.0.0.1 trust-ad\n"
	    "server 192.0.2.7 tls pin %s\n"
	    "tls-ca /etc/my-ca.pem\n",
	    pin, pin, pin);
	c = parse(text, &e);
	ck_assert_msg(e == 0, "%s", c->errors ? c->errors : "");
	ck_assert_uint_eq(c->nservers, 8);
	ck_assert_int_eq(c->servers[0].transport, XPORT_TLS);
	ck_assert_str_eq(c->servers[0].text, "192.0.2.1:853");
	ck_assert_str_eq(c->servers[0].auth_name, "dns.example");
	ck_assert(cfg_server_authenticated(&c->servers[0]));
	ck_assert(cfg_server_trusts_ad(&c->servers[0]));
	cfg_server_url(&c->servers[0], url, sizeof(url));
	ck_assert_str_eq(url, "tls://192.0.2.1:853#dns.example");
	ck_assert_str_eq(c->servers[1].text, "192.0.2.2:8853");
	ck_assert_uint_eq(c->servers[1].npins, 1);
	ck_assert_uint_eq(c->servers[1].pins[0][0], 0xe3);
	ck_assert_uint_eq(c->servers[1].pins[0][31], 0x55);
	ck_assert_int_eq(c->servers[1].prio, PRIO_LAST);
	ck_assert(c->servers[2].insecure);
	ck_assert(!cfg_server_authenticated(&c->servers[2]));
	ck_assert(!cfg_server_trusts_ad(&c->servers[2]));
	ck_assert_int_eq(c->servers[3].transport, XPORT_HTTPS);
	ck_assert_str_eq(c->servers[3].text, "192.0.2.4:443");
	ck_assert_str_eq(c->servers[3].path, "/dns-query");
	ck_assert_str_eq(c->servers[3].auth_name, "doh.example");
	cfg_server_url(&c->servers[3], url, sizeof(url));
	ck_assert_str_eq(url, "https://192.0.2.4:443/dns-query#doh.example");
	ck_assert_str_eq(c->servers[4].text, "192.0.2.5:8443");
	ck_assert_str_eq(c->servers[4].path, "/q");
	ck_assert_str_eq(c->servers[5].text, "192.0.2.6:444");
	ck_assert_str_eq(c->servers[5].path, "/dns-query");
	ck_assert_int_eq(c->servers[6].transport, XPORT_UDP);
	ck_assert(c->servers[6].trust_ad);
	ck_assert(!cfg_server_authenticated(&c->servers[6]));
	ck_assert(cfg_server_trusts_ad(&c->servers[6]));
	ck_assert(cfg_server_authenticated(&c->servers[7]));
	ck_assert_str_eq(c->servers[7].auth_name, "");
	ck_assert_str_eq(c->tls_ca, "/etc/my-ca.pem");
	cfg_unref(c);

	c = parse("server 192.0.2.1\n", &e);
	ck_assert_str_eq(c->tls_ca, "/etc/ssl/certs/ca-certificates.crt");
	ck_assert(!cfg_server_trusts_ad(&c->servers[0]));
	cfg_unref(c);

	expect_error("server 192.0.2.1 tls\n", "test.conf:1: a tls server needs a NAME");
	expect_error("server 192.0.2.1 tls dns..example\n", "test.conf:1: bad tls name");
	expect_error("server 192.0.2.1 tls x pin\n", "test.conf:1: 'pin' needs");
	expect_error("server 192.0.2.1 tls x pin AAAA\n", "test.conf:1: bad pin 'AAAA'");
	expect_error("server 192.0.2.1 tls x pin !!!\n", "test.conf:1: bad pin");
	expect_error("server 192.0.2.1 pin AAAA\n", "test.conf:1: 'pin' applies to tls");
	expect_error("server 192.0.2.1 insecure\n", "test.conf:1: 'insecure' applies");
	expect_error("server https://doh.example/q\n", "test.conf:1: an https server needs");
	expect_error("server https:///q 192.0.2.1\n", "test.conf:1: bad https URL");
	expect_error("server https://a.example:0/q 192.0.2.1\n", "test.conf:1: bad https URL");
	expect_error("server https://a.example/q 192.0.2.1 tls\n",
	    "test.conf:1: unknown server option 'tls'");
	expect_error("tls-ca relative.pem\n", "test.conf:1: tls-ca must be an absolute path");
	snprintf(text, sizeof(text), "server 192.0.2.1 tls insecure pin %s\n", pin);
	expect_error(text, "test.conf:1: 'insecure' and 'pin' exclude each other");
}
END_TEST

START_TEST(test_misuse)
{
	struct cfg *c = cfg_new(NULL, NULL);

	ck_assert_uint_eq(cfg_parse_text(c, "", 0, "x"), 0);
	ck_assert_uint_eq(cfg_parse_text(c, "\0bad", 4, "x"), 1);
	ck_assert_ptr_nonnull(strstr(c->errors, "NUL"));
	ck_assert_int_eq(cfg_adapter_find(c, "none"), -1);
	cfg_unref(c);
}
END_TEST

/* The directive table, the manual and the sample agree. */
START_TEST(test_resolved_compat)
{
	size_t e;
	struct cfg *c = parse("", &e);

	ck_assert(!c->resolved_compat);
	cfg_finish(c, NULL);
	ck_assert(!c->dbus);
	cfg_unref(c);
	c = parse("resolved-compat maybe\n", &e);
	ck_assert_uint_eq(e, 1);
	cfg_unref(c);
#ifdef HAVE_SYSTEMD
	/* implies dbus yes ... */
	c = parse("resolved-compat yes\n", &e);
	ck_assert_uint_eq(e, 0);
	cfg_finish(c, NULL);
	ck_assert(c->resolved_compat);
	ck_assert(c->dbus);
	cfg_unref(c);
	/* ... unless a dbus line says no, before or after */
	c = parse("dbus no\nresolved-compat yes\n", &e);
	cfg_finish(c, NULL);
	ck_assert(c->resolved_compat);
	ck_assert(!c->dbus);
	cfg_unref(c);
#endif
}
END_TEST

START_TEST(test_directives_documented)
{
	size_t n, i;
	const struct cfg_directive *d = cfg_directives(&n);
	char *man = tu_srcfile("man/stubd.conf.5.in");
	char *sample = tu_srcfile("stubd.conf.sample");
	const char *p;

	ck_assert_ptr_nonnull(man);
	ck_assert_ptr_nonnull(sample);
	ck_assert_uint_gt(n, 20);
	for (i = 0; i < n; i++) {
		char key[80];

		snprintf(key, sizeof(key), ".It Ic %s", d[i].name);
		ck_assert_msg(tu_has_line(man, key), "stubd.conf.5 lacks '%s'", d[i].name);
		snprintf(key, sizeof(key), "#%s", d[i].name);
		ck_assert_msg(tu_has_line(sample, key) || tu_has_line(sample, d[i].name),
		    "stubd.conf.sample lacks '%s'", d[i].name);
		ck_assert_ptr_nonnull(d[i].usage);
		ck_assert(strncmp(d[i].usage, d[i].name, strlen(d[i].name)) == 0);
	}
	/* and the manual documents no directive the parser does not know */
	for (p = strstr(man, "\n.It Ic "); p; p = strstr(p + 1, "\n.It Ic ")) {
		char word[64];
		struct cfg *c = cfg_new(NULL, NULL);

		ck_assert_int_eq(sscanf(p + strlen("\n.It Ic "), "%63s", word), 1);
		cfg_parse_text(c, word, strlen(word), "t");
		ck_assert_msg(c->errors == NULL || strstr(c->errors, "unknown directive") == NULL,
		    "stubd.conf.5 documents '%s', which the parser does not know", word);
		cfg_unref(c);
	}
	free(man);
	free(sample);
}
END_TEST

/* The comparisons a reload and a network change rest on (reconfig.c). */
static struct cfg *
finished(const char *text)
{
	size_t e;
	struct cfg *c = parse(text, &e);

	ck_assert_uint_eq(e, 0);
	ck_assert_uint_eq(cfg_finish(c, NULL), 0);
	return c;
}

START_TEST(test_compare)
{
	struct cfg *a = finished("listen 127.0.0.1:53\nadapter lan\nserver 192.0.2.1\n"
	                         "server 192.0.2.2\nadapter vpn\nserver 192.0.2.9 trust-ad\n");
	struct cfg *same = finished(
	    "listen 127.0.0.1:53\nadapter vpn\n"
	    "server 192.0.2.9 trust-ad\nadapter lan\nserver 192.0.2.2\nserver 192.0.2.1\n");
	struct cfg *b = finished("listen 127.0.0.1:5353\nadapter lan\nserver 192.0.2.1\n"
	                         "adapter vpn\nserver 192.0.2.9\n");
	long lan = cfg_adapter_find(same, "lan"), vpn = cfg_adapter_find(same, "vpn");

	ck_assert(cfg_same_listens(a, same));
	ck_assert(!cfg_same_listens(a, b));
	ck_assert(lan >= 0 && vpn >= 0);
	/* the same servers in another order: the same adapter */
	ck_assert(cfg_same_adapter(a, same, (size_t)lan));
	ck_assert(cfg_same_adapter(a, same, (size_t)vpn));
	/* a server fewer: not */
	ck_assert(!cfg_same_adapter(a, b, (size_t)cfg_adapter_find(b, "lan")));
	ck_assert(cfg_same_adapter(a, b, (size_t)cfg_adapter_find(b, "vpn")));
	/* an adapter the old one lacks: not */
	{
		struct cfg *n = finished("adapter new\nserver 192.0.2.1\n");

		ck_assert(!cfg_same_adapter(a, n, (size_t)cfg_adapter_find(n, "new")));
		cfg_unref(n);
	}
	/* trust-ad dropped from 192.0.2.9: trust lost; kept: not */
	ck_assert(!cfg_ad_trust_lost(a, same));
	ck_assert(cfg_ad_trust_lost(a, b));
	ck_assert(!cfg_ad_trust_lost(b, a));
	cfg_unref(a);
	cfg_unref(same);
	cfg_unref(b);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *b = tcase_create("basic"), *m = tcase_create("misuse");

	tcase_add_test(b, test_defaults);
	tcase_add_test(b, test_compare);
	tcase_add_test(b, test_all_directives);
	tcase_add_test(b, test_errors);
	tcase_add_test(b, test_error_line_numbers_all);
	tcase_add_test(b, test_min_above_max);
	tcase_add_test(b, test_file);
	tcase_add_test(b, test_cmdline_overrides);
	tcase_add_test(b, test_resolv);
	tcase_add_test(b, test_sockaddr);
	tcase_add_test(b, test_acl);
	tcase_add_test(b, test_refs);
	tcase_add_test(b, test_0x20);
	tcase_add_test(b, test_encrypted_servers);
	tcase_add_test(b, test_resolved_compat);
	tcase_add_test(b, test_directives_documented);
	tcase_add_test(m, test_misuse);
	suite_add_tcase(s, b);
	suite_add_tcase(s, m);
	return s;
}

int
main(void)
{
	return check_main(config_suite());
}
