/*
 * testutil.c - integration test helpers.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "rrtext.h"
#include "testutil.h"

double
tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void
tu_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

size_t
tu_build_query(const char *name, uint16_t type, const struct tq_opts *o, uint8_t *out, size_t cap)
{
	struct wire_wr w;
	struct wire_hdr h = { 0 };
	uint8_t n[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text(name, n);

	if (!nl)
		return 0;
	wire_wr_init(&w, out, cap);
	h.id = o && o->id ? o->id : 0x4242;
	h.flags = (uint16_t)(WIRE_RD | (o && o->ad ? WIRE_AD : 0));
	h.qdcount = 1;
	h.arcount = o && o->edns ? 1 : 0;
	wire_put_hdr(&w, &h);
	wire_put_name(&w, n, nl);
	wire_put_u16(&w, type);
	wire_put_u16(&w, CLASS_IN);
	if (o && o->edns) {
		wire_put_u8(&w, 0);
		wire_put_u16(&w, TYPE_OPT);
		wire_put_u16(&w, o->edns_size ? o->edns_size : 1232);
		wire_put_u32(&w, o->do_bit ? 0x8000 : 0);
		wire_put_u16(&w, 0);
	}
	return w.err ? 0 : w.len;
}

static int
mk_sock(const char *addr, uint16_t port, bool tcp, struct sockaddr_storage *ss, socklen_t *sl)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		*sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		*sl = sizeof(struct sockaddr_in6);
	} else {
		return -1;
	}
	return socket(ss->ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
}

static int
wait_in(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) > 0 ? 0 : -1;
}

long
tu_exchange(const char *addr, uint16_t port, bool tcp, const uint8_t *q, size_t qlen, uint8_t *ans,
    size_t cap, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = mk_sock(addr, port, tcp, &ss, &sl);
	long n = -1;
	double end = tu_now_ms() + (timeout_ms > 0 ? timeout_ms : 3000);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0)
		goto out;
	if (!tcp) {
		if (send(fd, q, qlen, 0) != (ssize_t)qlen)
			goto out;
		if (wait_in(fd, (int)(end - tu_now_ms())) == 0)
			n = recv(fd, ans, cap, 0);
	} else {
		uint8_t lb[2] = { (uint8_t)(qlen >> 8), (uint8_t)qlen };
		size_t got = 0, want = 2;
		uint8_t hdr[2];

		if (send(fd, lb, 2, MSG_NOSIGNAL) != 2 ||
		    send(fd, q, qlen, MSG_NOSIGNAL) != (ssize_t)qlen)
			goto out;
		while (got < want) {
			ssize_t r;
			double left = end - tu_now_ms();

			if (left <= 0 || wait_in(fd, (int)left) != 0)
				goto out;
			if (want == 2)
				r = recv(fd, hdr + got, 2 - got, 0);
			else
				r = recv(fd, ans + got, want - got, 0);
			if (r <= 0)
				goto out;
			got += (size_t)r;
			if (want == 2 && got == 2) {
				want = (size_t)hdr[0] << 8 | hdr[1];
				got = 0;
				if (want > cap)
					goto out;
				if (want == 0)
					break;
			}
		}
		n = (long)want;
	}
out:
	close(fd);
	return n;
}

size_t
tu_tcp_query(const char *name, uint16_t type, const struct tq_opts *o, uint8_t *out, size_t cap)
{
	size_t l;

	if (cap < 2)
		return 0;
	l = tu_build_query(name, type, o, out + 2, cap - 2);
	if (l == 0)
		return 0;
	out[0] = (uint8_t)(l >> 8);
	out[1] = (uint8_t)l;
	return 2 + l;
}

int
tu_tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

size_t
tu_tcp_answers(int fd, size_t want, unsigned timeout_ms,
    void (*each)(const uint8_t *msg, size_t len, size_t i, void *arg), void *arg)
{
	size_t cap = 2 * (2 + 65535), got = 0, n = 0;
	uint8_t *a = malloc(cap);
	double end = tu_now_ms() + timeout_ms;

	if (!a)
		return 0;
	while (n < want && tu_now_ms() < end) {
		ssize_t r = recv(fd, a + got, cap - got, MSG_DONTWAIT);
		size_t ml;

		if (r > 0)
			got += (size_t)r;
		while (got >= 2 && got >= 2 + (ml = (size_t)a[0] << 8 | a[1])) {
			if (each)
				each(a + 2, ml, n, arg);
			n++;
			memmove(a, a + 2 + ml, got - 2 - ml);
			got -= 2 + ml;
		}
		if (r <= 0)
			tu_sleep_ms(2);
	}
	free(a);
	return n;
}

long
tu_query(const char *addr, uint16_t port, const char *name, uint16_t type, const struct tq_opts *o,
    uint8_t *ans, size_t cap)
{
	uint8_t q[512];
	size_t ql = tu_build_query(name, type, o, q, sizeof(q));

	if (!ql)
		return -1;
	return tu_exchange(addr, port, o && o->tcp, q, ql, ans, cap,
	    o && o->timeout_ms ? o->timeout_ms : 3000);
}

unsigned
tu_rcode(const uint8_t *a, size_t len)
{
	uint16_t f = 0;

	wire_get16_at(a, len, 2, &f);
	return f & 0xf;
}

unsigned
tu_ancount(const uint8_t *a, size_t len)
{
	uint16_t v = 0;

	wire_get16_at(a, len, 6, &v);
	return v;
}

bool
tu_tc(const uint8_t *a, size_t len)
{
	uint16_t f = 0;

	wire_get16_at(a, len, 2, &f);
	return (f & WIRE_TC) != 0;
}

bool
tu_ad(const uint8_t *a, size_t len)
{
	uint16_t f = 0;

	wire_get16_at(a, len, 2, &f);
	return (f & WIRE_AD) != 0;
}

uint16_t
tu_id(const uint8_t *a, size_t len)
{
	uint16_t v = 0;

	wire_get16_at(a, len, 0, &v);
	return v;
}

struct first {
	char *out;
	size_t outsz;
	long ttl;
	bool opt;
};

static int
first_cb(const struct rrtext *rr, void *arg)
{
	struct first *f = arg;

	if (rr->section != 0)
		return 0;
	snprintf(f->out, f->outsz, "%s", rr->data);
	f->ttl = rr->ttl;
	return 1;
}

void
tu_first_data(const uint8_t *a, size_t len, char *out, size_t outsz)
{
	struct first f = { out, outsz, -1, false };

	out[0] = 0;
	rrtext_foreach(a, len, 0, first_cb, &f);
}

long
tu_first_ttl(const uint8_t *a, size_t len)
{
	char buf[RRTEXT_DATA_MAX];
	struct first f = { buf, sizeof(buf), -1, false };

	rrtext_foreach(a, len, 0, first_cb, &f);
	return f.ttl;
}

bool
tu_has_opt(const uint8_t *a, size_t len)
{
	struct wire_rd r;
	struct wire_hdr h;
	unsigned i;

	wire_rd_init(&r, a, len);
	if (wire_hdr(&r, &h))
		return false;
	for (i = 0; i < h.qdcount; i++) {
		wire_name(&r, NULL);
		wire_skip(&r, 4);
	}
	for (i = 0; i < (unsigned)h.ancount + h.nscount + h.arcount; i++) {
		struct wire_rr rr;

		if (wire_rr(&r, &rr))
			return false;
		if (rr.type == TYPE_OPT)
			return true;
	}
	return false;
}

size_t
tu_response(const struct tu_resp *r, uint8_t *out, size_t cap)
{
	struct wire_wr w;
	struct wire_hdr h = { 0 };
	uint8_t n[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text(r->name, n);
	uint16_t qtype = r->qtype ? r->qtype : TYPE_A;
	int i;

	if (!nl)
		return 0;
	wire_wr_init(&w, out, cap);
	h.id = r->id;
	h.flags = (uint16_t)(WIRE_QR | WIRE_RD | WIRE_RA | (r->tc ? WIRE_TC : 0) |
	    (r->ad ? WIRE_AD : 0) | r->rcode);
	h.qdcount = 1;
	h.ancount = (uint16_t)r->nans;
	h.nscount = r->soa ? 1 : 0;
	h.arcount = r->opt ? 1 : 0;
	wire_put_hdr(&w, &h);
	wire_put_name(&w, n, nl);
	wire_put_u16(&w, qtype);
	wire_put_u16(&w, CLASS_IN);
	for (i = 0; i < r->nans; i++) {
		wire_put_u16(&w, 0xc00c);
		wire_put_u16(&w, qtype);
		wire_put_u16(&w, CLASS_IN);
		wire_put_u32(&w, r->ttl + (uint32_t)i * 100);
		if (qtype == TYPE_AAAA) {
			uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

			a6[15] = (uint8_t)(7 + i);
			wire_put_u16(&w, 16);
			wire_put_bytes(&w, a6, 16);
		} else {
			wire_put_u16(&w, 4);
			wire_put_u32(&w, 0xc0000207 + (uint32_t)i);
		}
	}
	if (r->soa) {
		wire_put_u16(&w, 0xc00c);
		wire_put_u16(&w, TYPE_SOA);
		wire_put_u16(&w, CLASS_IN);
		wire_put_u32(&w, r->soa_ttl);
		wire_put_u16(&w, 2 + 2 + 20);
		wire_put_u16(&w, 0xc00c);
		wire_put_u16(&w, 0xc00c);
		wire_put_u32(&w, 1);
		wire_put_u32(&w, 2);
		wire_put_u32(&w, 3);
		wire_put_u32(&w, 4);
		wire_put_u32(&w, r->soa_min);
	}
	if (r->opt) {
		wire_put_u8(&w, 0);
		wire_put_u16(&w, TYPE_OPT);
		wire_put_u16(&w, 4096);
		wire_put_u32(&w, 0);
		wire_put_u16(&w, 0);
	}
	return w.err ? 0 : w.len;
}

uint16_t
tu_free_port(void)
{
	int tries;

	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	for (tries = 0; tries < 200; tries++) {
		uint16_t p = (uint16_t)(20000 + rand() % 12000);
		struct sockaddr_in sa = { 0 };
		int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
		int ok;

		sa.sin_family = AF_INET;
		sa.sin_port = htons(p);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = bind(u, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    bind(t, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(u);
		close(t);
		if (ok)
			return p;
	}
	return 0;
}

int
tu_mkdir(struct tu_daemon *d)
{
	const char *base = getenv("STUBD_TEST_TMP");

	snprintf(d->dir, sizeof(d->dir), "%s/stubd-test-XXXXXX", base ? base : "/tmp");
	return mkdtemp(d->dir) ? 0 : -1;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
tu_tmp_begin(char *base, size_t len)
{
	snprintf(base, len, "/tmp/stubd-check-XXXXXX");
	if (!mkdtemp(base))
		return -1;
	chmod(base, 0755);
	return setenv("STUBD_TEST_TMP", base, 1);
}

void
tu_tmp_end(const char *base)
{
	nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int
tu_write(const struct tu_daemon *d, const char *name, const char *text, char *path, size_t pathsz)
{
	char p[512], tmp[520];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", d->dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f) != 0 || rename(tmp, p) != 0)
		return -1;
	if (path)
		snprintf(path, pathsz, "%s", p);
	return 0;
}

int
tu_start(struct tu_daemon *d, const char *conf_text, const char *const *extra)
{
	const char *stubd = getenv("STUBD");
	char listen[64], text[16384];
	const char *argv[40];
	int n = 0, i;
	double end;

	if (!stubd)
		stubd = "./stubd";
	if (!d->dir[0] && tu_mkdir(d) != 0)
		return -1;
	d->port = tu_free_port();
	snprintf(d->ctl, sizeof(d->ctl), "%s/ctl.sock", d->dir);
	snprintf(d->errlog, sizeof(d->errlog), "%s/stderr.log", d->dir);
	/* as root, stay root (a `user` in conf_text still wins): stubd would
	 * drop to the user stubd where it exists, and the files here are root's */
	snprintf(text, sizeof(text), "listen 127.0.0.1:%u\ncontrol %s\n%s%s", d->port, d->ctl,
	    geteuid() == 0 ? "user root\n" : "", conf_text ? conf_text : "");
	if (tu_write(d, "stubd.conf", text, d->conf, sizeof(d->conf)) != 0)
		return -1;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", d->port);
	argv[n++] = stubd;
	argv[n++] = "-f";
	argv[n++] = "-c";
	argv[n++] = d->conf;
	for (i = 0; extra && extra[i] && n < 38; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		int fd = open(d->errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (d->nofile > 0) {
			struct rlimit rl = { (rlim_t)d->nofile, (rlim_t)d->nofile };

			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execv(stubd, (char *const *)argv);
		_exit(127);
	}
	/* ready when its TCP socket accepts and its control socket exists:
	 * no query is sent, so the daemon's counters start at zero */
	end = tu_now_ms() + 10000;
	while (tu_now_ms() < end) {
		struct sockaddr_in sa = { 0 };
		struct stat st;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok, status;

		sa.sin_family = AF_INET;
		sa.sin_port = htons(d->port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    (strstr(text, "control off") || stat(d->ctl, &st) == 0);
		close(fd);
		if (ok) {
			tu_sleep_ms(20);
			return 0;
		}
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			return -1;
		}
		tu_sleep_ms(10);
	}
	return -1;
}

int
tu_stop(struct tu_daemon *d)
{
	int st, i;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	for (i = 0; i < 500; i++) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		tu_sleep_ms(10);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &st, 0);
	d->pid = 0;
	return -1;
}

static void
read_all(int fd, char *out, size_t outsz, size_t *n)
{
	for (;;) {
		ssize_t r;

		if (*n + 1 >= outsz) {
			char sink[4096];

			r = read(fd, sink, sizeof(sink));
		} else {
			r = read(fd, out + *n, outsz - 1 - *n);
			if (r > 0)
				*n += (size_t)r;
		}
		if (r <= 0)
			break;
	}
}

int
tu_run(const char *const *argv, char *out, size_t outsz, char *err, size_t errsz, int timeout_ms)
{
	int po[2], pe[2], st;
	pid_t pid;
	size_t no = 0, ne = 0;
	char dummy[16];
	double end = tu_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);

	if (!out) {
		out = dummy;
		outsz = sizeof(dummy);
	}
	if (pipe(po) != 0 || pipe(pe) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		close(po[1]);
		close(pe[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	fcntl(po[0], F_SETFL, O_NONBLOCK);
	fcntl(pe[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
		int left = (int)(end - tu_now_ms());

		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(p, 2, left) <= 0)
			continue;
		if (p[0].revents)
			read_all(po[0], out, outsz, &no);
		if (p[1].revents) {
			if (err)
				read_all(pe[0], err, errsz, &ne);
			else {
				char sink[4096];

				while (read(pe[0], sink, sizeof(sink)) > 0)
					;
			}
		}
		if ((p[0].revents & POLLHUP) && (p[1].revents & POLLHUP))
			break;
	}
	out[no] = 0;
	if (err)
		err[ne] = 0;
	close(po[0]);
	close(pe[0]);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
tu_stubctl(const struct tu_daemon *d, const char *const *args, char *out, size_t outsz, char *err,
    size_t errsz)
{
	const char *stubctl = getenv("STUBCTL");
	const char *argv[16];
	int n = 0, i;

	if (!stubctl)
		stubctl = "./stubctl";
	argv[n++] = stubctl;
	argv[n++] = "-s";
	argv[n++] = d->ctl;
	for (i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return tu_run(argv, out, outsz, err, errsz, 20000);
}

long
tu_json_num(const char *json, const char *key)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	return strtol(p, NULL, 10);
}

char *
tu_srcfile(const char *rel)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[1024], *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", rel);
	if (file_read(path, &text, &len) != 0) {
		fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	return text;
}

bool
tu_has_line(const char *text, const char *prefix)
{
	size_t pl = strlen(prefix);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, prefix, pl) == 0 &&
		    (p[pl] == ' ' || p[pl] == '\n' || p[pl] == '\t' || p[pl] == 0))
			return true;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

int
tu_ctl_connect(const struct tu_daemon *d)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(d->ctl) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, d->ctl, strlen(d->ctl) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

const char *
tu_fmt(const char *fmt, ...)
{
	static char buf[16384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

size_t
tu_build_msg(uint16_t id, uint16_t flags, const char *qname, uint16_t qtype,
    const struct tu_rr *rrs, size_t nan, size_t nns, size_t nar, uint8_t *out, size_t cap)
{
	struct wire_wr w;
	struct wire_hdr h = { 0 };
	uint8_t n[WIRE_NAME_MAX];
	size_t nl = wire_name_from_text(qname, n), i;

	if (!nl)
		return 0;
	wire_wr_init(&w, out, cap);
	h.id = id;
	h.flags = (uint16_t)(WIRE_QR | flags);
	h.qdcount = 1;
	h.ancount = (uint16_t)nan;
	h.nscount = (uint16_t)nns;
	h.arcount = (uint16_t)nar;
	wire_put_hdr(&w, &h);
	wire_put_name(&w, n, nl);
	wire_put_u16(&w, qtype);
	wire_put_u16(&w, CLASS_IN);
	for (i = 0; i < nan + nns + nar; i++) {
		const struct tu_rr *rr = &rrs[i];
		uint8_t o[WIRE_NAME_MAX], d[WIRE_NAME_MAX];
		size_t ol = wire_name_from_text(rr->owner ? rr->owner : ".", o), dl = 0;

		if (!ol)
			return 0;
		wire_put_name(&w, o, ol);
		wire_put_u16(&w, rr->type);
		wire_put_u16(&w, rr->type == TYPE_OPT ? 1232 : CLASS_IN);
		wire_put_u32(&w, rr->ttl);
		if (rr->type == TYPE_SOA) {
			wire_put_u16(&w, 2 + 20);
			wire_put_u8(&w, 0);
			wire_put_u8(&w, 0);
			wire_put_u32(&w, 1);
			wire_put_u32(&w, 2);
			wire_put_u32(&w, 3);
			wire_put_u32(&w, 4);
			wire_put_u32(&w, rr->soa_min);
		} else if (rr->target) {
			dl = wire_name_from_text(rr->target, d);
			if (!dl)
				return 0;
			wire_put_u16(&w, (uint16_t)(dl + (rr->type == TYPE_MX ? 2 : 0)));
			if (rr->type == TYPE_MX)
				wire_put_u16(&w, 10); /* preference */
			wire_put_name(&w, d, dl);
		} else if (rr->type == TYPE_OPT) {
			wire_put_u16(&w, 0);
		} else {
			wire_put_u16(&w, 4);
			wire_put_u32(&w, rr->addr ? rr->addr : 0xc0000201);
		}
	}
	return w.err ? 0 : w.len;
}
