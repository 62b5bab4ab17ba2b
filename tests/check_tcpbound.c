/*
 * check_tcpbound.c - TCP clients cannot take stubd's memory or its file
 * descriptors (SPEC 7, 13): clients that never read are closed once 64 KiB
 * of answers wait for them and RSS stays under cache-memory + 32 MiB;
 * idle clients under a low open-file limit leave room for upstream
 * sockets; the soft open-file limit is raised to the hard one at start.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "checkmain.h"
#include "fakeup.h"
#include "listener.h"
#include "testutil.h"

#define CACHE_MB 8
#define BIG_TXT 60000 /* bytes of text per answer */
#define STALLED 256   /* clients that never read */
#define PIPELINED 200 /* queries each of them sends (over NAMES names) */
#define NAMES 32
#define BURST_NAMES 20 /* burst: questions per client, all different */
#define FD_LIMIT 256   /* stubd's open-file limit in the fd test */
#define IDLE 300       /* idle clients in the fd test */
#define NEW_NAMES 40

static long
rss_kb(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	return v;
}

/* The soft and hard "Max open files" of pid, from /proc/PID/limits. */
static int
proc_nofile(pid_t pid, char *soft, char *hard, size_t len)
{
	char path[64], line[256];
	FILE *f;
	int ok = -1;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char s[32], h[32];

		if (strncmp(line, "Max open files", 14) == 0 &&
		    sscanf(line + 14, "%31s %31s", s, h) == 2) {
			snprintf(soft, len, "%s", s);
			snprintf(hard, len, "%s", h);
			ok = 0;
		}
	}
	fclose(f);
	return ok;
}

/*
 * Under AddressSanitizer the daemon starts some 10 MB larger (shadow
 * memory, the allocator's own) and freed memory is not given back: there
 * the 32 MiB are checked as growth over the RSS before the load.
 */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* As in check_load: ASan's quarantine would show as the daemon's growth. */
static void
asan_without_quarantine(void)
{
	const char *asan = getenv("ASAN_OPTIONS");
	char opts[512];

	if (asan && strstr(asan, "quarantine_size_mb"))
		return;
	snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=0", asan ? asan : "",
	    asan && *asan ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
}

/* A small file into buf (NUL-terminated); 0 or -1. */
static int
read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
	return 0;
}

/* This test holds hundreds of sockets. */
static void
raise_own_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* A TCP connection to 127.0.0.1:port, not waited for, or -1. */
static int
connect_nb(uint16_t port, int rcvbuf)
{
	struct sockaddr_in sa = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Has the peer closed or reset fd?  Looked at without reading: a reset
 * shows at once, whatever unread data the client has. */
static bool
hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLRDHUP));
}

/* A client that reads: the big answer over TCP and an A over UDP.
 * Returns NULL, or what went wrong. */
static const char *
normal_client_try(const struct tu_daemon *d)
{
	static uint8_t a[65536];
	struct tq_opts tcp = { .tcp = true, .timeout_ms = 3000 };
	struct tq_opts udp = { .timeout_ms = 2000 };
	long n;

	n = tu_query("127.0.0.1", d->port, "b0.big.test", TYPE_TXT, &tcp, a, sizeof(a));
	if (n <= BIG_TXT || tu_rcode(a, (size_t)n) != 0)
		return "no TCP answer";
	n = tu_query("127.0.0.1", d->port, "ok.test", TYPE_A, &udp, a, sizeof(a));
	if (n <= 0 || tu_ancount(a, (size_t)n) != 1)
		return "no UDP answer";
	return NULL;
}

static void
normal_client(const struct tu_daemon *d, const char *when)
{
	const char *bad = normal_client_try(d);

	ck_assert_msg(bad == NULL, "%s: %s", when, bad ? bad : "");
}

/* Lines of text holding word. */
static int
count_lines(const char *text, const char *word)
{
	int n = 0;

	for (; (text = strstr(text, word)) != NULL; text++)
		n++;
	return n;
}

/*
 * 256 clients pipeline questions with 60 KB answers and never read:
 * without a bound stubd queued 64 answers (3.8 MB) for each.  RSS stays
 * under cache-memory + 32 MiB all along, stubd resets every one of them,
 * says so in a few lines, and a client that reads is answered during and
 * after.  burst: the answers come from upstream (delayed), all at once,
 * and the clients are dropped at once (64 KiB waiting); else they come
 * from the cache, stubd stops reading the clients' questions and drops
 * them as stalled after 10 s.
 */
static void
stalled_readers(bool burst)
{
	struct fakeup *up = fakeup_start("127.0.0.31");
	struct tu_daemon d = { 0 };
	static int fds[STALLED];
	static uint8_t q[PIPELINED * 48];
	static char log[65536];
	const char *prefix = burst ? "u" : "b";
	char conf[512];
	size_t qlen = 0;
	long rss, rss0, rss_max = 0, rss_left1, rss_left3, bound = (CACHE_MB + 32) * 1024L;
	double t0, t_all = -1, t_sent;
	int i, up_count = 0, probes = 0, names = burst ? BURST_NAMES : NAMES;
	const char *during = NULL;

	ck_assert_ptr_nonnull(up);
	raise_own_nofile();
	asan_without_quarantine();
	fakeup_set_wildcard_txt(up, BIG_TXT, 3600);
	ck_assert_int_eq(fakeup_add(up, "ok.test", "A", 60, "192.0.2.7"), 0);
	snprintf(conf, sizeof(conf),
	    "hosts none\ncache-memory %dM\nmax-tcp-clients %d\n"
	    "server %s\n",
	    CACHE_MB, STALLED + 8, fakeup_hostport(up));
	ck_assert_int_eq(tu_start(&d, conf, NULL), 0);
	normal_client(&d, "before");
	for (i = 0; i < names && !burst; i++) {
		static uint8_t a[65536];
		struct tq_opts o = { .tcp = true, .timeout_ms = 3000 };
		char name[64];

		snprintf(name, sizeof(name), "b%d.big.test", i);
		ck_assert_int_gt(tu_query("127.0.0.1", d.port, name, TYPE_TXT, &o, a, sizeof(a)),
		    BIG_TXT);
	}
	if (burst)
		fakeup_set_delay(up, 500);
	rss0 = rss_kb(d.pid);
	if (UNDER_ASAN)
		bound = rss0 + 32 * 1024L;
	for (i = 0; i < (burst ? BURST_NAMES : PIPELINED); i++) {
		char name[64];
		struct tq_opts o = { .id = (uint16_t)(1 + i) };

		snprintf(name, sizeof(name), "%s%d.big.test", prefix, i % names);
		qlen += tu_tcp_query(name, TYPE_TXT, &o, q + qlen, sizeof(q) - qlen);
	}
	t0 = tu_now_ms();
	for (i = 0; i < STALLED; i++) {
		struct pollfd p;

		fds[i] = connect_nb(d.port, 4096);
		ck_assert_int_ge(fds[i], 0);
		p.fd = fds[i];
		p.events = POLLOUT;
		ck_assert_int_eq(poll(&p, 1, 3000), 1);
		ck_assert_int_eq(send(fds[i], q, qlen, MSG_NOSIGNAL), (ssize_t)qlen);
		if (i % 16 == 15 && (rss = rss_kb(d.pid)) > rss_max)
			rss_max = rss;
	}
	t_sent = tu_now_ms() - t0;
	/* watch for up to 20 s (the stall timeout is 10 s) */
	while (tu_now_ms() - t0 < 20000) {
		rss = rss_kb(d.pid);
		if (rss > rss_max)
			rss_max = rss;
		for (i = 0, up_count = 0; i < STALLED; i++)
			up_count += hung_up(fds[i]);
		if (up_count == STALLED && t_all < 0)
			t_all = tu_now_ms() - t0;
		if (probes == 0 && tu_now_ms() - t0 > 300) {
			during = normal_client_try(&d);
			probes++;
		}
		if (t_all >= 0 && probes)
			break;
		tu_sleep_ms(20);
	}
	for (i = 0; i < STALLED; i++)
		close(fds[i]);
	tu_sleep_ms(1000);
	rss_left1 = rss_kb(d.pid);
	tu_sleep_ms(2000);
	rss_left3 = rss_kb(d.pid);
	printf("stalled readers (%s): %d clients x %d answers of %d bytes, cache-memory %d MB: "
	       "RSS %ld kB before, peak %ld kB (bound %ld kB), %ld kB 1 s and %ld kB 3 s after "
	       "they left; %d of %d reset by stubd (all after %.0f ms; all had asked after %.0f "
	       "ms)%s\n",
	    burst ? "upstream burst" : "from the cache", STALLED, burst ? BURST_NAMES : PIPELINED,
	    BIG_TXT, CACHE_MB, rss0, rss_max, bound, rss_left1, rss_left3, up_count, STALLED, t_all,
	    t_sent, UNDER_ASAN ? " (ASan: bound = RSS before + 32 MiB)" : "");
	fflush(stdout);
	ck_assert_msg(rss_max < bound, "peak RSS %ld kB, %ld kB over the bound", rss_max,
	    rss_max - bound);
	/* every client got in at once: no SYN dropped from a full listen
	 * queue and retried a second later (it would make a burst client
	 * late, its answers from the cache) */
	ck_assert_msg(t_sent < 900, "the %d clients had asked only after %.0f ms", STALLED, t_sent);
	ck_assert_msg(during == NULL, "a client that reads, during: %s", during);
	ck_assert_int_eq(up_count, STALLED);
	/* at once when answers pile up; after the 10 s stall timeout when
	 * stubd stopped reading their questions */
	if (burst)
		ck_assert_msg(t_all < 5000, "reset after %.0f ms", t_all);
	else
		ck_assert_msg(t_all > 9000 && t_all < 14000, "reset after %.0f ms", t_all);
	ck_assert_int_lt(rss_left3, bound);
	normal_client(&d, "after");
	ck_assert_int_eq(tu_stop(&d), 0);
	ck_assert_int_eq(read_text(d.errlog, log, sizeof(log)), 0);
	{
		const char *l1 = strstr(log, "TCP client");

		printf("  %.*s\n", l1 ? (int)strcspn(l1, "\n") : 0, l1 ? l1 : "");
	}
	ck_assert_msg(count_lines(log, burst ? "answers waiting" : "for 10 s") >= 1, "%s", log);
	/* rate-limited: one line per 10 s */
	ck_assert_int_le(count_lines(log, "TCP client"), 3);
	fakeup_stop(up);
}

START_TEST(test_stalled_readers_cache)
{
	stalled_readers(false);
}
END_TEST

START_TEST(test_stalled_readers_burst)
{
	stalled_readers(true);
}
END_TEST

/*
 * Under a 256-descriptor limit, 300 idle TCP clients cannot starve the
 * upstream sockets: max-tcp-clients is lowered (and said so), and new
 * names still resolve over UDP, every one of them.
 */
START_TEST(test_idle_clients_leave_fds)
{
	struct fakeup *up = fakeup_start("127.0.0.31");
	struct tu_daemon d = { 0 };
	static int fds[IDLE];
	uint8_t a[512];
	static char log[65536];
	int i, ok = 0;

	ck_assert_ptr_nonnull(up);
	raise_own_nofile();
	fakeup_set_wildcard(up, 60);
	d.nofile = FD_LIMIT;
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(up)), NULL),
	    0);
	for (i = 0; i < IDLE; i++) {
		fds[i] = connect_nb(d.port, 0);
		ck_assert_int_ge(fds[i], 0);
	}
	tu_sleep_ms(1000);
	for (i = 0; i < NEW_NAMES; i++) {
		char name[64];
		struct tq_opts o = { .timeout_ms = 1500 };
		long n;

		snprintf(name, sizeof(name), "n%d.fd.test", i);
		n = tu_query("127.0.0.1", d.port, name, TYPE_A, &o, a, sizeof(a));
		if (n > 0 && tu_rcode(a, (size_t)n) == 0 && tu_ancount(a, (size_t)n) == 1)
			ok++;
	}
	printf("idle clients: %d connected under a %d-descriptor limit: %d of %d new names "
	       "answered\n",
	    IDLE, FD_LIMIT, ok, NEW_NAMES);
	fflush(stdout);
	ck_assert_int_eq(ok, NEW_NAMES);
	for (i = 0; i < IDLE; i++)
		close(fds[i]);
	ck_assert_int_eq(tu_stop(&d), 0);
	/* the lowering is said once */
	ck_assert_int_eq(read_text(d.errlog, log, sizeof(log)), 0);
	ck_assert_msg(strstr(log, "max-tcp-clients 256 lowered to"), "log: %s", log);
	ck_assert_ptr_null(strstr(strstr(log, "max-tcp-clients 256 lowered to") + 1,
	    "max-tcp-clients 256 lowered to"));
	fakeup_stop(up);
}
END_TEST

/*
 * One client, 20 questions with 60 KB answers from upstream (delayed, so
 * they come together) and it reads nothing: once 64 KiB wait in stubd
 * beyond the answer being written, it is reset at once, and said so.
 * A client reading slowly through the same is not (check_daemon's
 * test_tcp_unread_answers_cap reads 2000 answers late).
 */
START_TEST(test_one_reader_over_64k)
{
	struct fakeup *up = fakeup_start("127.0.0.31");
	struct tu_daemon d = { 0 };
	static uint8_t q[BURST_NAMES * 48];
	static char log[65536];
	size_t qlen = 0;
	double t0, t_up = -1;
	int fd, i;
	struct pollfd p;

	ck_assert_ptr_nonnull(up);
	fakeup_set_wildcard_txt(up, BIG_TXT, 3600);
	fakeup_set_delay(up, 300);
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(up)), NULL),
	    0);
	for (i = 0; i < BURST_NAMES; i++) {
		char name[64];
		struct tq_opts o = { .id = (uint16_t)(1 + i) };

		snprintf(name, sizeof(name), "one%d.big.test", i);
		qlen += tu_tcp_query(name, TYPE_TXT, &o, q + qlen, sizeof(q) - qlen);
	}
	fd = connect_nb(d.port, 4096);
	ck_assert_int_ge(fd, 0);
	p.fd = fd;
	p.events = POLLOUT;
	ck_assert_int_eq(poll(&p, 1, 3000), 1);
	t0 = tu_now_ms();
	ck_assert_int_eq(send(fd, q, qlen, MSG_NOSIGNAL), (ssize_t)qlen);
	while (tu_now_ms() - t0 < 8000 && t_up < 0) {
		if (hung_up(fd))
			t_up = tu_now_ms() - t0;
		tu_sleep_ms(10);
	}
	printf("one reader: %d answers of %d bytes unread: reset after %.0f ms\n", BURST_NAMES,
	    BIG_TXT, t_up);
	fflush(stdout);
	/* the answers come after 0.3 s (0.6 s: UDP truncated, then TCP) */
	ck_assert_msg(t_up >= 250 && t_up < 3000, "reset after %.0f ms", t_up);
	close(fd);
	ck_assert_int_eq(tu_stop(&d), 0);
	ck_assert_int_eq(read_text(d.errlog, log, sizeof(log)), 0);
	ck_assert_msg(strstr(log, "closed: not reading its answers (64 KiB waiting)"), "%s", log);
	fakeup_stop(up);
}
END_TEST

/* The rule: max-tcp-clients lowered to leave 64 descriptors, one per
 * listen socket and 4 per server; never under 1. */
START_TEST(test_tcp_limit_rule)
{
	ck_assert_uint_eq(listener_tcp_limit(256, 1024, 2, 3), 256);
	ck_assert_uint_eq(listener_tcp_limit(256, 256, 2, 1),
	    256 - TCP_FD_RESERVE - 2 - TCP_FD_PER_SERVER);
	ck_assert_uint_eq(
	    listener_tcp_limit(256, 256 + TCP_FD_RESERVE + 2 + TCP_FD_PER_SERVER, 2, 1), 256);
	ck_assert_uint_eq(listener_tcp_limit(100, 1 << 20, 4, 50), 100);
	ck_assert_uint_eq(listener_tcp_limit(256, 24, 2, 1), 1);
	ck_assert_uint_eq(listener_tcp_limit(256, 70, 2, 1), 1);
}
END_TEST

/* Started with a soft open-file limit under the hard one, stubd runs with
 * soft = hard. */
START_TEST(test_soft_limit_raised)
{
	struct fakeup *up = fakeup_start("127.0.0.31");
	struct tu_daemon d = { 0 };
	struct rlimit own, low;
	char soft[32], hard[32];

	ck_assert_ptr_nonnull(up);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &own), 0);
	if (own.rlim_max != RLIM_INFINITY && own.rlim_max < 256) {
		printf("soft limit: hard open-file limit %lu too low to test\n",
		    (unsigned long)own.rlim_max);
		fakeup_stop(up);
		return;
	}
	low = own;
	low.rlim_cur = 200;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	ck_assert_int_eq(tu_start(&d, tu_fmt("hosts none\nserver %s\n", fakeup_hostport(up)), NULL),
	    0);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &own), 0);
	ck_assert_int_eq(proc_nofile(d.pid, soft, hard, sizeof(soft)), 0);
	printf("soft limit: started with 200, runs with soft %s, hard %s\n", soft, hard);
	fflush(stdout);
	ck_assert_str_eq(soft, hard);
	ck_assert_int_eq(tu_stop(&d), 0);
	fakeup_stop(up);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tcpbound");
	TCase *mem = tcase_create("memory"), *fds = tcase_create("fds");
	char base[64];

	tcase_add_test(mem, test_one_reader_over_64k);
	tcase_add_test(mem, test_stalled_readers_cache);
	tcase_add_test(mem, test_stalled_readers_burst);
	tcase_add_test(fds, test_tcp_limit_rule);
	tcase_add_test(fds, test_idle_clients_leave_fds);
	tcase_add_test(fds, test_soft_limit_raised);
	tcase_set_timeout(mem, 60);
	tcase_set_timeout(fds, 60);
	suite_add_tcase(s, mem);
	suite_add_tcase(s, fds);
	return check_daemon_main(s, base, sizeof(base), NULL);
}
