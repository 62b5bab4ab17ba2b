/*
 * check_hosts.c - hosts-file parsing, answers and change detection.
 */
#include "auto-config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkmain.h"
#include "file.h"
#include "hash.h"
#include "hosts.h"
#include "testutil.h"

#define SEED 0x1234567887654321ULL

static const char sample[] = "# comment line\n"
                             "127.0.0.1\tlocalhost\n"
                             "::1     localhost ip6-localhost   # trailing comment\n"
                             "192.0.2.7  Host.Lan host alias.lan\n"
                             "192.0.2.8  host.lan\n"
                             "2001:db8::7 host.lan\n"
                             "not-an-address foo\n"
                             "192.0.2.9\n"
                             "192.0.2.10 bad..name\n"
                             "192.0.2.7  second.lan\n"
                             "fe80::1%eth0 scoped.lan\n";

struct errs {
	unsigned lines[16];
	int n;
};

static void
err_cb(void *arg, unsigned line, const char *msg)
{
	struct errs *e = arg;

	(void)msg;
	if (e->n < 16)
		e->lines[e->n++] = line;
}

static size_t
ask(const struct hosts *h, const char *name, uint16_t type, uint8_t *out, size_t cap)
{
	uint8_t b[512];
	size_t l = tu_build_query(name, type, NULL, b, sizeof(b));
	struct msg_query q;

	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	q.nhash = stub_name_hash(SEED, q.key, q.qlen);
	return hosts_answer(h, &q, 42, 512, out, cap);
}

START_TEST(test_parse_and_answer)
{
	struct errs e = { { 0 }, 0 };
	struct hosts *h = hosts_parse(sample, strlen(sample), SEED, err_cb, &e);
	uint8_t out[512];
	char data[128];
	size_t n;

	ck_assert_ptr_nonnull(h);
	/* bad lines: 7 (address), 8 (no name), 9 (bad name) */
	ck_assert_int_eq(e.n, 3);
	ck_assert_uint_eq(e.lines[0], 7);
	ck_assert_uint_eq(e.lines[1], 8);
	ck_assert_uint_eq(e.lines[2], 9);
	/* A: two addresses in file order, case-insensitive */
	n = ask(h, "HOST.lan", TYPE_A, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(tu_ancount(out, n), 2);
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "192.0.2.7");
	ck_assert_int_eq(tu_first_ttl(out, n), 42);
	/* AAAA */
	n = ask(h, "host.lan", TYPE_AAAA, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 1);
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "2001:db8::7");
	/* alias */
	n = ask(h, "alias.lan", TYPE_A, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 1);
	/* missing family: NODATA, not "unknown" */
	n = ask(h, "alias.lan", TYPE_AAAA, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(tu_ancount(out, n), 0);
	ck_assert_uint_eq(tu_rcode(out, n), 0);
	/* other types and other names: nothing to say */
	ck_assert_uint_eq(ask(h, "host.lan", TYPE_MX, out, sizeof(out)), 0);
	ck_assert_uint_eq(ask(h, "nothere.lan", TYPE_A, out, sizeof(out)), 0);
	/* scope id dropped */
	n = ask(h, "scoped.lan", TYPE_AAAA, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 1);
	hosts_free(h);
}
END_TEST

/* SPEC 15/18: the line that decides an answer, for stubctl query */
static unsigned
line_of(const struct hosts *h, const char *name, uint16_t type)
{
	uint8_t b[512];
	size_t l = tu_build_query(name, type, NULL, b, sizeof(b));
	struct msg_query q;

	ck_assert_int_eq(msg_parse_query(b, l, &q), MSG_OK);
	q.nhash = stub_name_hash(SEED, q.key, q.qlen);
	return hosts_line(h, &q);
}

START_TEST(test_lines)
{
	struct hosts *h = hosts_parse(sample, strlen(sample), SEED, NULL, NULL);

	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(line_of(h, "host.lan", TYPE_A), 4);    /* first A */
	ck_assert_uint_eq(line_of(h, "host.lan", TYPE_AAAA), 6); /* first AAAA */
	ck_assert_uint_eq(line_of(h, "host.lan", TYPE_TXT), 4);  /* NODATA: first line */
	ck_assert_uint_eq(line_of(h, "second.lan", TYPE_AAAA), 10);
	ck_assert_uint_eq(line_of(h, "localhost", TYPE_AAAA), 3);
	ck_assert_uint_eq(line_of(h, "7.2.0.192.in-addr.arpa", TYPE_PTR), 4);
	ck_assert_uint_eq(line_of(h, "8.2.0.192.in-addr.arpa", TYPE_PTR), 5);
	ck_assert_uint_eq(line_of(h, "nothere.lan", TYPE_A), 0);
	ck_assert_str_eq(hosts_source(h), "hosts");
	ck_assert_int_eq(hosts_set_source(h, "/etc/hosts"), STUB_OK);
	ck_assert_str_eq(hosts_source(h), "/etc/hosts");
	ck_assert_uint_eq(hosts_line(NULL, NULL), 0);
	hosts_free(h);
}
END_TEST

START_TEST(test_ptr)
{
	struct hosts *h = hosts_parse(sample, strlen(sample), SEED, NULL, NULL);
	uint8_t out[512];
	char data[128];
	size_t n;

	n = ask(h, "7.2.0.192.in-addr.arpa", TYPE_PTR, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 1);
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "host.lan"); /* first name of the first line */
	n = ask(h, "1.0.0.127.IN-ADDR.ARPA", TYPE_PTR, out, sizeof(out));
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "localhost");
	n = ask(h, "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
	    TYPE_PTR, out, sizeof(out));
	tu_first_data(out, n, data, sizeof(data));
	ck_assert_str_eq(data, "host.lan");
	ck_assert_uint_eq(ask(h, "1.2.0.192.in-addr.arpa", TYPE_PTR, out, sizeof(out)), 0);
	ck_assert_uint_eq(hosts_ptrs(h), 6);
	hosts_free(h);
}
END_TEST

static int
rec_cb(const struct hosts_rec *r, void *arg)
{
	int *n = arg;

	(void)r;
	(*n)++;
	return 0;
}

START_TEST(test_foreach)
{
	struct hosts *h = hosts_parse(sample, strlen(sample), SEED, NULL, NULL);
	int n = 0;

	hosts_foreach(h, rec_cb, &n);
	/* A/AAAA: localhost x2, ip6-localhost, host.lan x3, host, alias, second,
	 * scoped = 10; PTR: 6 */
	ck_assert_int_eq(n, 16);
	hosts_free(h);
}
END_TEST

START_TEST(test_sig)
{
	char path[] = "/tmp/stubd-hosts-XXXXXX", tmp[64];
	int fd = mkstemp(path);
	struct hosts_sig a, b;
	FILE *f;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "1.2.3.4 a\n", 10), 10);
	close(fd);
	hosts_file_sig(path, &a);
	hosts_file_sig(path, &b);
	ck_assert(a.exists);
	ck_assert(hosts_sig_equal(&a, &b));
	/* replaced by rename: a new inode even with the same size and mtime */
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	fputs("1.2.3.5 a\n", f);
	fclose(f);
	ck_assert_int_eq(rename(tmp, path), 0);
	hosts_file_sig(path, &b);
	ck_assert(!hosts_sig_equal(&a, &b));
	unlink(path);
	hosts_file_sig(path, &a);
	ck_assert(!a.exists);
	ck_assert(!hosts_sig_equal(&a, &b));
}
END_TEST

START_TEST(test_big_file)
{
	size_t cap = 100000 * 48, len = 0;
	char *text = malloc(cap);
	struct hosts *h;
	struct timespec t0, t1;
	uint8_t out[512];
	size_t n;
	int i;

	for (i = 0; i < 100000; i++)
		len += (size_t)snprintf(text + len, cap - len, "10.%d.%d.%d host%d.bench.lan h%d\n",
		    (i >> 16) & 255, (i >> 8) & 255, i & 255, i, i);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	h = hosts_parse(text, len, SEED, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(hosts_names(h), 200000);
	n = ask(h, "host99999.bench.lan", TYPE_A, out, sizeof(out));
	ck_assert_uint_eq(tu_ancount(out, n), 1);
	printf("hosts: 100,000 lines parsed in %.1f ms\n",
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	hosts_free(h);
	free(text);
}
END_TEST

START_TEST(test_misuse)
{
	struct hosts *h = hosts_parse(NULL, 0, SEED, NULL, NULL);
	uint8_t out[512];
	char path[64];

	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(hosts_names(h), 0);
	ck_assert_uint_eq(ask(h, "a", TYPE_A, out, sizeof(out)), 0);
	ck_assert_uint_eq(ask(NULL, "a", TYPE_A, out, sizeof(out)), 0);
	hosts_free(h);
	hosts_free(NULL);
	ck_assert_uint_eq(hosts_names(NULL), 0);
	/* NUL bytes and over-long lines are bad lines, not crashes */
	h = hosts_parse("1.2.3.4 a\0b\n5.6.7.8 ok\n", 23, SEED, NULL, NULL);
	ck_assert_uint_eq(hosts_names(h), 1);
	hosts_free(h);
	snprintf(path, sizeof(path), "/nonexistent/hosts");
	{
		char *t;
		size_t l;

		ck_assert_int_eq(file_read(path, &t, &l), STUB_EIO);
		ck_assert_int_eq(errno, ENOENT);
	}
}
END_TEST

static Suite *
hosts_suite(void)
{
	Suite *s = suite_create("hosts");
	TCase *b = tcase_create("basic"), *m = tcase_create("misuse");

	tcase_add_test(b, test_parse_and_answer);
	tcase_add_test(b, test_ptr);
	tcase_add_test(b, test_lines);
	tcase_add_test(b, test_foreach);
	tcase_add_test(b, test_sig);
	tcase_add_test(b, test_big_file);
	tcase_add_test(m, test_misuse);
	suite_add_tcase(s, b);
	suite_add_tcase(s, m);
	return s;
}

int
main(void)
{
	return check_main(hosts_suite());
}
