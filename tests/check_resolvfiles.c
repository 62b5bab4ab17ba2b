/*
 * check_resolvfiles.c - the text of stub-resolv.conf and resolv.conf
 * under resolved-compat (SPEC 16, resolvfiles.c): the stub address and
 * options, the links' search domains (not the routing-only ones, each
 * once), the clear-text servers on port 53 with a link-local one's scope,
 * and glibc's three-server note.
 */
#include "auto-config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "config.h"
#include "links.h"
#include "resolvfiles.h"

/* the lines of text that do not start with '#', joined by '|' */
static char *
body(char *text)
{
	static char out[2048];
	char *line, *save = NULL;

	out[0] = 0;
	ck_assert_ptr_nonnull(text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#') {
			strncat(out, line, sizeof(out) - strlen(out) - 2);
			strcat(out, "|");
		}
	free(text);
	return out;
}

static void
set(struct links *l, const char *ifname, const char *verb, char **words, size_t n)
{
	char why[128];
	enum stub_err e = strcmp(verb, "dns") == 0 ?
	    links_set_dns(l, ifname, ORIGIN_CONTROL, words, n, why, sizeof(why)) :
	    links_set_domains(l, ifname, ORIGIN_CONTROL, words, n, why, sizeof(why));

	ck_assert_msg(e == STUB_OK, "%s", why);
}

START_TEST(test_stub)
{
	struct links l;
	char a0[] = "Corp.Example.", a1[] = "~route.example", a2[] = "~.", a3[] = "lan.example";
	char *d0[] = { a0, a1, a2, a3 };
	char b0[] = "lan.example", b1[] = "vpn.example";
	char *d1[] = { b0, b1 };
	char *text;

	links_init(&l);
	text = resolvfiles_stub(&l);
	ck_assert_ptr_nonnull(strstr(text, "# "));
	ck_assert_str_eq(body(text), "nameserver 127.0.0.53|options edns0 trust-ad|");
	ck_assert_str_eq(body(resolvfiles_stub(NULL)),
	    "nameserver 127.0.0.53|options edns0 trust-ad|");
	set(&l, "eth0", "domain", d0, 4);
	set(&l, "wg0", "domain", d1, 2);
	ck_assert_str_eq(body(resolvfiles_stub(&l)),
	    "nameserver 127.0.0.53|options edns0 trust-ad|"
	    "search corp.example lan.example vpn.example|");
	links_fini(&l);
}
END_TEST

START_TEST(test_uplink)
{
	struct cfg *c = cfg_new("/nonexistent/ctl", NULL);
	struct links l;
	char a0[] = "corp.example", a1[] = "~route.example";
	char *d0[] = { a0, a1 };
	const char *conf = "server 192.0.2.1\n"
	                   "server 192.0.2.2:5353\n"         /* not port 53 */
	                   "server 192.0.2.3 tls dns.test\n" /* encrypted */
	                   "server [2001:db8::1]\n"
	                   "server 192.0.2.1\n" /* again */
	                   "adapter eth0 device eth0\n"
	                   "server [fe80::1]\n"
	                   "adapter lan\n"
	                   "server 192.0.2.4\n"
	                   "server 192.0.2.5\n";

	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(cfg_parse_text(c, conf, strlen(conf), "test"), 0);
	cfg_finish(c, NULL);
	ck_assert_uint_eq(c->nerrors, 0);
	links_init(&l);
	set(&l, "eth0", "domain", d0, 2);
	ck_assert_str_eq(body(resolvfiles_uplink(c, &l)),
	    "nameserver 192.0.2.1|nameserver 2001:db8::1|nameserver fe80::1%eth0|"
	    "nameserver 192.0.2.4|nameserver 192.0.2.5|search corp.example|");
	/* the note before the fourth server */
	{
		char *t = resolvfiles_uplink(c, &l);
		char *note = strstr(t, "# More than three");

		ck_assert_ptr_nonnull(note);
		ck_assert_ptr_eq(strstr(t, "nameserver 192.0.2.4"), strchr(note, '\n') + 1);
		free(t);
	}
	ck_assert_str_eq(body(resolvfiles_uplink(NULL, NULL)), "");
	links_fini(&l);
	cfg_unref(c);
}
END_TEST

/* 127.0.0.53 from resolv-file is resolved's stub, never an upstream under
 * resolved-compat (a /etc/resolv.conf linked to stub-resolv.conf) */
START_TEST(test_stub_not_upstream)
{
	const char *resolv = "nameserver 127.0.0.53\nnameserver 192.0.2.9\n";
	const char *conf = "resolved-compat yes\nlisten 127.0.0.1:5300\n";
	struct cfg *c = cfg_new("/nonexistent/ctl", NULL);
	struct cfg_sockaddr sa;

	ck_assert_uint_eq(cfg_parse_text(c, conf, strlen(conf), "test"), 0);
	cfg_finish(c, resolv);
	ck_assert_uint_eq(c->nservers, 1);
	ck_assert_str_eq(c->servers[0].text, "192.0.2.9:53");
	cfg_unref(c);
	/* without resolved-compat it is a server like any other */
	c = cfg_new("/nonexistent/ctl", NULL);
	conf = "listen 127.0.0.1:5300\n";
	ck_assert_uint_eq(cfg_parse_text(c, conf, strlen(conf), "test"), 0);
	cfg_finish(c, resolv);
	ck_assert_uint_eq(c->nservers, 2);
	cfg_unref(c);
	ck_assert_int_eq(cfg_parse_sockaddr("127.0.0.53", 53, &sa), STUB_OK);
	ck_assert(cfg_stub_addr(&sa));
	ck_assert_int_eq(cfg_parse_sockaddr("127.0.0.53:5353", 53, &sa), STUB_OK);
	ck_assert(!cfg_stub_addr(&sa));
	ck_assert_int_eq(cfg_parse_sockaddr("127.0.0.54", 53, &sa), STUB_OK);
	ck_assert(!cfg_stub_addr(&sa));
}
END_TEST

static Suite *
resolvfiles_suite(void)
{
	Suite *s = suite_create("resolvfiles");
	TCase *t = tcase_create("basic");

	tcase_add_test(t, test_stub);
	tcase_add_test(t, test_uplink);
	tcase_add_test(t, test_stub_not_upstream);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	return check_main(resolvfiles_suite());
}
