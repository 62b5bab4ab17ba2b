/*
 * rsdclient.c - the client of bench/resolved.sh: ResolveHostname calls to
 * io.systemd.Resolve over varlink or to org.freedesktop.resolve1 over
 * D-Bus, timed one by one, and idle varlink connections.
 *
 *   rsdclient varlink SOCKET NAMES COUNT CONC FAMILY
 *   rsdclient dbus NAMES COUNT CONC FAMILY      (bus: $DBUS_SYSTEM_BUS_ADDRESS)
 *   rsdclient idle SOCKET N SECONDS
 *   rsdclient echo SOCKET SECONDS
 *
 * varlink/dbus: COUNT calls for the names of the file NAMES (one a line,
 * taken in turn), CONC connections (varlink) or calls in flight (D-Bus),
 * each sending its next call when the previous one is answered.  Prints
 * one line: "calls N ok K seconds S cps X p50_us A p99_us B max_us C";
 * exits 3 when the first reply is org.freedesktop.DBus.Error.UnknownMethod
 * (the server has no such method).  A reply counts as ok when it carries
 * addresses.  Bounded: gives up after 120 s.
 * idle: opens N connections, prints "idle N" when all are connected,
 * holds them SECONDS (at most 600) and exits.
 * echo: the noise floor of a varlink round trip on this machine: listens
 * on SOCKET and answers every NUL-terminated message at once with a fixed
 * reply carrying one address, for SECONDS (at most 600), up to 64
 * connections.
 *
 * Built by bench/resolved.sh: cc -O2 rsdclient.c $(pkg-config --libs libsystemd)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#define MAX_TIME 120.0
#define MAX_CONC 64

static char **names;
static size_t nnames;
static double *lat; /* microseconds, one per answered call */
static size_t nlat, nok, nsent, count;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "rsdclient: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
load_names(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 0;

	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (!*line)
			continue;
		if (nnames == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				die("realloc");
		}
		names[nnames++] = strdup(line);
	}
	fclose(f);
	if (nnames == 0) {
		fprintf(stderr, "rsdclient: no names in %s\n", path);
		exit(1);
	}
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(double secs)
{
	double p50 = 0, p99 = 0, mx = 0;

	if (nlat) {
		size_t k = (size_t)((double)nlat * 0.99);

		qsort(lat, nlat, sizeof(*lat), cmp_d);
		p50 = lat[nlat / 2];
		p99 = lat[k < nlat ? k : nlat - 1];
		mx = lat[nlat - 1];
	}
	printf("calls %zu ok %zu seconds %.3f cps %.0f p50_us %.1f p99_us %.1f max_us %.1f\n", nlat,
	    nok, secs, secs > 0 ? (double)nlat / secs : 0, p50, p99, mx);
}

static int
vl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "rsdclient: path too long\n");
		exit(1);
	}
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die(path);
	return fd;
}

struct vconn {
	int fd;
	double t0;
	char buf[65536];
	size_t len;
};

static void
vl_send(struct vconn *c, int family)
{
	char msg[700];
	int n = snprintf(msg, sizeof(msg),
	    "{\"method\":\"io.systemd.Resolve.ResolveHostname\",\"parameters\":"
	    "{\"name\":\"%s\",\"family\":%d,\"flags\":0}}",
	    names[nsent % nnames], family);

	c->t0 = now_s();
	if (write(c->fd, msg, (size_t)n + 1) != n + 1) /* with its NUL */
		die("write");
	nsent++;
}

static int
run_varlink(const char *path, int conc, int family)
{
	struct vconn *c = calloc((size_t)conc, sizeof(*c));
	struct pollfd pfd[MAX_CONC];
	double start, end;
	int i;

	if (!c)
		die("calloc");
	for (i = 0; i < conc; i++)
		c[i].fd = vl_connect(path);
	start = now_s();
	for (i = 0; i < conc && nsent < count; i++)
		vl_send(&c[i], family);
	while (nlat < count && now_s() - start < MAX_TIME) {
		for (i = 0; i < conc; i++)
			pfd[i] = (struct pollfd){ c[i].fd, POLLIN, 0 };
		if (poll(pfd, (nfds_t)conc, 1000) < 0)
			die("poll");
		for (i = 0; i < conc; i++) {
			char *nul;
			ssize_t r;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(c[i].fd, c[i].buf + c[i].len, sizeof(c[i].buf) - c[i].len - 1);
			if (r <= 0) {
				fprintf(stderr, "rsdclient: connection closed\n");
				goto out;
			}
			c[i].len += (size_t)r;
			c[i].buf[c[i].len] = '\0';
			while ((nul = memchr(c[i].buf, '\0', c[i].len)) != NULL) {
				size_t used = (size_t)(nul - c[i].buf) + 1;

				lat[nlat++] = (now_s() - c[i].t0) * 1e6;
				if (strstr(c[i].buf, "\"addresses\"") &&
				    !strstr(c[i].buf, "\"error\""))
					nok++;
				else if (nok == 0 && nlat == 1)
					fprintf(stderr, "rsdclient: first reply: %.300s\n",
					    c[i].buf);
				memmove(c[i].buf, nul + 1, c[i].len - used);
				c[i].len -= used;
				if (nsent < count)
					vl_send(&c[i], family);
			}
		}
	}
out:
	end = now_s();
	report(end - start);
	for (i = 0; i < conc; i++)
		close(c[i].fd);
	free(c);
	return 0;
}

static sd_bus *bus;
static int family_g, unknown_method;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *err);

static void
dbus_send(void)
{
	double *t0 = malloc(sizeof(*t0));
	int r;

	if (!t0)
		die("malloc");
	*t0 = now_s();
	r = sd_bus_call_method_async(bus, NULL, "org.freedesktop.resolve1",
	    "/org/freedesktop/resolve1", "org.freedesktop.resolve1.Manager", "ResolveHostname",
	    on_reply, t0, "isit", 0, names[nsent % nnames], family_g, (uint64_t)0);
	if (r < 0) {
		errno = -r;
		die("sd_bus_call_method_async");
	}
	nsent++;
}

static int
on_reply(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	double *t0 = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	(void)err;
	lat[nlat++] = (now_s() - *t0) * 1e6;
	free(t0);
	if (!e)
		nok++;
	else if (nlat == 1) {
		fprintf(stderr, "rsdclient: first reply: %s: %s\n", e->name,
		    e->message ? e->message : "");
		if (strcmp(e->name, "org.freedesktop.DBus.Error.UnknownMethod") == 0) {
			unknown_method = 1;
			return 0;
		}
	}
	if (nsent < count)
		dbus_send();
	return 0;
}

static int
run_dbus(int conc, int family)
{
	double start;
	int i, r;

	family_g = family;
	r = sd_bus_open_system(&bus);
	if (r < 0) {
		errno = -r;
		die("sd_bus_open_system");
	}
	start = now_s();
	for (i = 0; i < conc && nsent < count; i++)
		dbus_send();
	while (nlat < count && !unknown_method && now_s() - start < MAX_TIME) {
		r = sd_bus_process(bus, NULL);
		if (r < 0) {
			errno = -r;
			die("sd_bus_process");
		}
		if (r == 0 && sd_bus_wait(bus, 1000000) < 0)
			die("sd_bus_wait");
	}
	if (unknown_method) {
		printf("unknown-method\n");
		return 3;
	}
	report(now_s() - start);
	sd_bus_flush_close_unref(bus);
	return 0;
}

static int
run_idle(const char *path, long n, long secs)
{
	long i;

	if (secs > 600)
		secs = 600;
	for (i = 0; i < n; i++)
		(void)vl_connect(path);
	printf("idle %ld\n", n);
	fflush(stdout);
	sleep((unsigned)secs);
	return 0;
}

static int
run_echo(const char *path, long secs)
{
	static const char reply[] = "{\"parameters\":{\"addresses\":[{\"ifindex\":1,\"family\":2,"
	                            "\"address\":[10,0,0,1]}],\"name\":\"x\",\"flags\":0}}";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd[MAX_CONC + 1];
	char buf[4096];
	double end;
	nfds_t n = 1, i;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (secs > 600)
		secs = 600;
	end = now_s() + (double)secs;
	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		die("socket");
	strcpy(sa.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 128) != 0)
		die(path);
	pfd[0] = (struct pollfd){ fd, POLLIN, 0 };
	while (now_s() < end) {
		if (poll(pfd, n, 1000) < 0)
			die("poll");
		if ((pfd[0].revents & POLLIN) && n < MAX_CONC + 1) {
			int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0)
				pfd[n++] = (struct pollfd){ c, POLLIN, 0 };
		}
		for (i = 1; i < n; i++) {
			ssize_t r, k;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(pfd[i].fd, buf, sizeof(buf));
			if (r <= 0) {
				close(pfd[i].fd);
				pfd[i--] = pfd[--n];
				continue;
			}
			for (k = 0; k < r; k++)
				if (buf[k] == '\0' && write(pfd[i].fd, reply, sizeof(reply)) < 0)
					break;
		}
	}
	unlink(path);
	return 0;
}

int
main(int argc, char **argv)
{
	int conc;

	if (argc == 4 && strcmp(argv[1], "echo") == 0)
		return run_echo(argv[2], atol(argv[3]));
	if (argc == 5 && strcmp(argv[1], "idle") == 0)
		return run_idle(argv[2], atol(argv[3]), atol(argv[4]));
	if (argc == 7 && strcmp(argv[1], "varlink") == 0) {
		load_names(argv[3]);
		count = strtoul(argv[4], NULL, 10);
		conc = atoi(argv[5]);
	} else if (argc == 6 && strcmp(argv[1], "dbus") == 0) {
		load_names(argv[2]);
		count = strtoul(argv[3], NULL, 10);
		conc = atoi(argv[4]);
	} else {
		fprintf(stderr,
		    "usage: rsdclient varlink SOCKET NAMES COUNT CONC FAMILY\n"
		    "       rsdclient dbus NAMES COUNT CONC FAMILY\n"
		    "       rsdclient idle SOCKET N SECONDS\n"
		    "       rsdclient echo SOCKET SECONDS\n");
		return 2;
	}
	if (conc < 1 || conc > MAX_CONC || count == 0) {
		fprintf(stderr, "rsdclient: CONC 1..%d, COUNT > 0\n", MAX_CONC);
		return 2;
	}
	lat = calloc(count, sizeof(*lat));
	if (!lat)
		die("calloc");
	if (argv[1][0] == 'v')
		return run_varlink(argv[2], conc, atoi(argv[6]));
	return run_dbus(conc, atoi(argv[5]));
}
