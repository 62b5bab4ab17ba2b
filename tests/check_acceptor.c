/*
 * check_acceptor.c - the one bounded accept: a batch per wake-up, the
 * owner's limit, and a pause of a second (not a spin) when out of
 * descriptors.
 */
#include "auto-config.h"

#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "acceptor.h"
#include "checkmain.h"

#define MAXC 16

struct fx {
	struct event_base *base;
	int lfd;
	struct sockaddr_in sin;
	int accepted[MAXC];
	size_t n;
	size_t limit;
	double first_ms; /* when the first connection was taken */
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static bool
fx_conn(void *arg, int fd, const struct sockaddr *peer, socklen_t plen)
{
	struct fx *f = arg;

	ck_assert_ptr_nonnull(peer);
	ck_assert_uint_eq(plen, sizeof(struct sockaddr_in));
	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	if (f->n == 0)
		f->first_ms = now_ms();
	ck_assert_uint_lt(f->n, MAXC);
	f->accepted[f->n++] = fd;
	return true;
}

static bool
fx_full(void *arg)
{
	const struct fx *f = arg;

	return f->n >= f->limit;
}

static void
fx_setup(struct fx *f, size_t limit)
{
	socklen_t l = sizeof(f->sin);

	memset(f, 0, sizeof(*f));
	f->limit = limit;
	f->base = event_base_new();
	ck_assert_ptr_nonnull(f->base);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(f->lfd, 0);
	f->sin.sin_family = AF_INET;
	f->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&f->sin, sizeof(f->sin)), 0);
	ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&f->sin, &l), 0);
	ck_assert_int_eq(listen(f->lfd, 64), 0);
}

static int
fx_connect(struct fx *f)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&f->sin, sizeof(f->sin)), 0);
	return c;
}

/* run the loop for ms */
static void
fx_run(struct fx *f, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

START_TEST(test_batch_and_limit)
{
	struct fx f;
	struct acceptor *a;
	int c[6];
	size_t i;

	fx_setup(&f, 3);
	ck_assert_int_eq(acceptor_new(f.base, f.lfd,
	                     &(struct acceptor_ops){ .name = "test",
	                         .batch = 2,
	                         .conn = fx_conn,
	                         .full = fx_full,
	                         .arg = &f },
	                     &a),
	    STUB_OK);
	for (i = 0; i < 6; i++)
		c[i] = fx_connect(&f);
	/* one wake-up takes a batch of two */
	event_base_loop(f.base, EVLOOP_ONCE);
	ck_assert_uint_eq(f.n, 2);
	/* then the limit: three, however long the loop runs */
	fx_run(&f, 200);
	ck_assert_uint_eq(f.n, 3);
	/* resuming while still full changes nothing */
	acceptor_resume(a);
	fx_run(&f, 100);
	ck_assert_uint_eq(f.n, 3);
	/* the limit rose: the others */
	f.limit = 6;
	acceptor_resume(a);
	fx_run(&f, 200);
	ck_assert_uint_eq(f.n, 6);
	acceptor_free(a);
	for (i = 0; i < 6; i++) {
		close(c[i]);
		close(f.accepted[i]);
	}
	close(f.lfd);
	event_base_free(f.base);
}
END_TEST

START_TEST(test_out_of_descriptors_pauses)
{
	struct fx f;
	struct acceptor *a;
	struct rlimit rl, low;
	struct event *tick;
	double t0;
	int c, next, turns = 0;

	fx_setup(&f, MAXC);
	ck_assert_int_eq(
	    acceptor_new(f.base, f.lfd,
	        &(struct acceptor_ops){ .name = "test", .batch = 4, .conn = fx_conn, .arg = &f },
	        &a),
	    STUB_OK);
	c = fx_connect(&f);
	/* no descriptor left for accept: EMFILE */
	next = dup(0);
	ck_assert_int_ge(next, 0);
	close(next);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = rl;
	low.rlim_cur = (rlim_t)next;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	/* turns of the loop in 400 ms: a tick every 50 ms, and whatever else
	 * wakes it (a spinning accept: thousands) */
	tick = event_new(f.base, -1, EV_PERSIST, tick_cb, NULL);
	ck_assert_ptr_nonnull(tick);
	event_add(tick, &(struct timeval){ 0, 50000 });
	t0 = now_ms();
	while (now_ms() - t0 < 400) {
		event_base_loop(f.base, EVLOOP_ONCE);
		turns++;
	}
	event_free(tick);
	ck_assert_uint_eq(f.n, 0);
	/* paused, not spinning on the readable socket */
	ck_assert_msg(turns < 30, "%d turns of the loop in 400 ms out of descriptors", turns);
	/* descriptors again: taken after the pause of a second */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	fx_run(&f, 1500);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_msg(f.first_ms - t0 >= ACCEPTOR_PAUSE_MS * 0.9 &&
	        f.first_ms - t0 < ACCEPTOR_PAUSE_MS + 400,
	    "accepted after %.0f ms", f.first_ms - t0);
	acceptor_free(a);
	close(c);
	close(f.accepted[0]);
	close(f.lfd);
	event_base_free(f.base);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("acceptor");
	TCase *t = tcase_create("accept");

	tcase_add_test(t, test_batch_and_limit);
	tcase_add_test(t, test_out_of_descriptors_pauses);
	suite_add_tcase(s, t);
	return check_main(s);
}
