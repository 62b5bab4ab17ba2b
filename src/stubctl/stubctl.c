/*
 * stubctl.c - the control client: sends one command line to stubd's
 * control socket, checks the JSON answer and prints it (as is with
 * --json, else for people).
 */
#include "auto-config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "stubd/ctl.h"
#include "jsonp.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define SOCK_DEFAULT RUNSTATEDIR "/stubd.sock"
#define REPLY_TIMEOUT_MS 60000

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: stubctl [-s PATH] [--json] COMMAND [ARG]\ncommands:\n");
	for (i = 0; i < CTL_NCMDS; i++)
		fprintf(f, "  %s\n", ctl_commands[i].usage);
	fprintf(f, "default socket: %s\n", SOCK_DEFAULT);
}

/* exact name, or a unique prefix; *ambiguous when several match */
static const struct ctl_command *
find_command(const char *w, bool *ambiguous)
{
	const struct ctl_command *found = ctl_command_find(w);
	size_t i, l = strlen(w);

	*ambiguous = false;
	if (found || l == 0)
		return found;
	for (i = 0; i < CTL_NCMDS; i++) {
		if (strncmp(ctl_commands[i].name, w, l) != 0)
			continue;
		if (found) {
			*ambiguous = true;
			return NULL;
		}
		found = &ctl_commands[i];
	}
	return found;
}

/* Connect to the daemon and send the request line; the socket, or -1. */
static int
send_request(const char *path, const char *line)
{
	struct sockaddr_un sun;
	size_t ll = strlen(line);
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "stubctl: socket path too long\n");
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;

		fprintf(stderr, "stubctl: cannot connect to %s: %s%s\n", path, strerror(e),
		    (e == ENOENT || e == ECONNREFUSED) ?
		        " (is stubd running?)" :
		        (e == EACCES || e == EPERM) ?
		        " (the socket is for root, stubd's user "
		        "and the members of its control-group; with the Debian package: "
		        "adduser USER stubd, then log in again)" :
		        "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (send(fd, line, ll, MSG_NOSIGNAL) != (ssize_t)ll) {
		fprintf(stderr, "stubctl: cannot send to %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Read what is there (waiting up to the reply timeout): bytes read, 0 at
 * the end, -1 on error (reported). */
static ssize_t
read_some(int fd, char *buf, size_t cap)
{
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int pr = poll(&p, 1, REPLY_TIMEOUT_MS);
		ssize_t r;

		if (pr == 0) {
			fprintf(stderr, "stubctl: no answer from stubd\n");
			return -1;
		}
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		r = read(fd, buf, cap);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "stubctl: read: %s\n", strerror(errno));
			return -1;
		}
		return r;
	}
}

/* The whole answer (small ones: every command but displaydns). */
static char *
read_all(int fd, size_t *outlen)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	ssize_t r;

	if (!buf)
		return NULL;
	for (;;) {
		if (n == cap) {
			char *nb;

			if (cap >= CTL_REPLY_MAX) {
				fprintf(stderr, "stubctl: answer too large\n");
				free(buf);
				return NULL;
			}
			nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		r = read_some(fd, buf + n, cap - n);
		if (r < 0) {
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	*outlen = n;
	return buf;
}

/*
 * A JSON scanner that keeps only its state, for answers read in pieces:
 * nesting depth, inside a string, after a backslash.  Enough to find where
 * a value ends and whether a document is complete.
 */
struct jscan {
	int depth;
	bool in_str, esc;
	bool started;
};

/* Feed bytes; returns the offset just past the byte that brought the depth
 * back to `until` (a value closed), or len when it did not happen. */
static size_t
jscan_feed(struct jscan *s, const char *p, size_t len, int until)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char ch = p[i];

		if (s->in_str) {
			if (s->esc)
				s->esc = false;
			else if (ch == '\\')
				s->esc = true;
			else if (ch == '"')
				s->in_str = false;
			continue;
		}
		if (ch == '"') {
			s->in_str = true;
		} else if (ch == '{' || ch == '[') {
			s->depth++;
			s->started = true;
		} else if (ch == '}' || ch == ']') {
			s->depth--;
			if (s->depth == until)
				return i + 1;
		}
	}
	return len;
}

static const char *
str_of(const struct jval *o, const char *k)
{
	const struct jval *v = jsonp_get(o, k);

	return v && v->type == J_STR ? v->str : NULL;
}

static double
num_of(const struct jval *o, const char *k, bool *ok)
{
	const struct jval *v = jsonp_get(o, k);

	if (!v || v->type != J_NUM) {
		*ok = false;
		return 0;
	}
	return v->num;
}

static bool
bool_of(const struct jval *o, const char *k)
{
	const struct jval *v = jsonp_get(o, k);

	return v && v->type == J_BOOL && v->b;
}

/* "Label . . . . . : value" padded as ipconfig does: one blank after the
 * label, dots on even columns, the colon on column 22 */
static void
field(const char *label, const char *value)
{
	char line[64];
	size_t l = strlen(label), i;

	snprintf(line, sizeof(line), "%s", label);
	i = l < sizeof(line) - 2 ? l : sizeof(line) - 2;
	line[i++] = ' ';
	while (i < 21) {
		line[i] = (i % 2 == 0) ? '.' : ' ';
		i++;
	}
	if (i == 21)
		line[i++] = ' ';
	line[i] = 0;
	printf("    %s: %s\n", line, value);
}

static const char *
record_label(const char *type, char *buf, size_t len)
{
	if (strcmp(type, "A") == 0)
		return "A (Host) Record";
	snprintf(buf, len, "%s Record", type);
	return buf;
}

static int
type_code(const char *t)
{
	static const struct {
		const char *n;
		int c;
	} tab[] = {
		{ "A", 1 },
		{ "NS", 2 },
		{ "CNAME", 5 },
		{ "SOA", 6 },
		{ "PTR", 12 },
		{ "MX", 15 },
		{ "TXT", 16 },
		{ "AAAA", 28 },
		{ "SRV", 33 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].n, t) == 0)
			return tab[i].c;
	if (strncmp(t, "TYPE", 4) == 0)
		return atoi(t + 4);
	return 0;
}

static const char dd_header[] = "\nstubd DNS Resolver Cache\n\n";

/* One displaydns entry as ipconfig /displaydns shows it. */
static int
print_entry(const struct jval *e, size_t i)
{
	const struct jval *recs;
	const char *name = str_of(e, CTL_K_NAME), *type = str_of(e, CTL_K_TYPE),
	           *status = str_of(e, CTL_K_STATUS);
	size_t k;

	if (!name || !type || !status) {
		fprintf(stderr, "stubctl: malformed entry %zu\n", i);
		return 1;
	}
	printf("    %s\n    ----------------------------------------\n", name);
	/* what --json has and ipconfig has not: where it came from, how often used */
	{
		const char *src = str_of(e, CTL_K_SOURCE), *up = str_of(e, CTL_K_UPSTREAM);
		bool ok = true;
		double hits = num_of(e, CTL_K_HITS, &ok);
		char v[32];

		if (up)
			field("Upstream", up);
		else if (src)
			field("Upstream", strcmp(src, "hosts") == 0 ? "none (hosts file)" : "none");
		if (ok) {
			snprintf(v, sizeof(v), "%.0f", hits);
			field("Hits", v);
		}
	}
	if (strcmp(status, "NXDOMAIN") == 0) {
		printf("    Name does not exist.\n\n");
		return 0;
	}
	if (strcmp(status, "NODATA") == 0) {
		printf("    No records of type %s.\n\n", type);
		return 0;
	}
	recs = jsonp_get(e, CTL_K_RECORDS);
	if (!recs || recs->type != J_ARR) {
		fprintf(stderr, "stubctl: malformed entry %zu\n", i);
		return 1;
	}
	for (k = 0; k < recs->n; k++) {
		const struct jval *r = recs->items[k];
		const char *rn = str_of(r, CTL_K_NAME), *rt = str_of(r, CTL_K_TYPE),
		           *sec = str_of(r, CTL_K_SECTION), *data = str_of(r, CTL_K_DATA);
		bool ok = true;
		double ttl = num_of(r, CTL_K_TTL, &ok);
		const struct jval *dl = jsonp_get(r, CTL_K_DATA_LENGTH);
		char v[64], lb[64], secb[32];

		if (!rn || !rt || !sec || !data || !ok) {
			fprintf(stderr, "stubctl: malformed record in entry %zu\n", i);
			return 1;
		}
		field("Record Name", rn);
		snprintf(v, sizeof(v), "%d", type_code(rt));
		field("Record Type", v);
		snprintf(v, sizeof(v), "%.0f", ttl);
		field("Time To Live", v);
		snprintf(v, sizeof(v), "%.0f", dl && dl->type == J_NUM ? dl->num : 0.0);
		field("Data Length", v);
		snprintf(secb, sizeof(secb), "%s", sec);
		if (secb[0] >= 'a' && secb[0] <= 'z')
			secb[0] = (char)(secb[0] - 32);
		field("Section", secb);
		field(record_label(rt, lb, sizeof(lb)), data);
		printf("\n");
	}
	return 0;
}

static int
print_displaydns(const struct jval *root)
{
	const struct jval *entries = jsonp_get(root, CTL_K_ENTRIES);
	size_t i;

	if (!entries || entries->type != J_ARR) {
		fprintf(stderr, "stubctl: malformed answer: no entries\n");
		return 1;
	}
	printf("%s", dd_header);
	for (i = 0; i < entries->n; i++)
		if (print_entry(entries->items[i], i) != 0)
			return 1;
	return 0;
}

#define STREAM_CHUNK 65536
#define ENTRY_MAX (16u << 20) /* one displaydns entry at most */

/* displaydns --json: the daemon's document copied through as it arrives,
 * checked to be complete; 1 when it is an error or truncated. */
static int
stream_json(int fd)
{
	static char chunk[STREAM_CHUNK];
	struct jscan sc = { 0 };
	char head[10];
	size_t nhead = 0;
	char last = 0;
	ssize_t r;

	while ((r = read_some(fd, chunk, sizeof(chunk))) > 0) {
		size_t i;

		for (i = 0; i < (size_t)r && nhead < sizeof(head) - 1; i++)
			if (chunk[i] != ' ' && chunk[i] != '\n' && chunk[i] != '\t' &&
			    chunk[i] != '\r')
				head[nhead++] = chunk[i];
		if (fwrite(chunk, 1, (size_t)r, stdout) != (size_t)r) {
			fprintf(stderr, "stubctl: write: %s\n", strerror(errno));
			return 1;
		}
		jscan_feed(&sc, chunk, (size_t)r, -1);
		last = chunk[r - 1];
	}
	if (r < 0)
		return 1;
	if (last != '\n')
		putchar('\n');
	head[nhead] = 0;
	if (!sc.started || sc.depth != 0 || sc.in_str) {
		fprintf(stderr, "stubctl: malformed answer from stubd: truncated\n");
		return 1;
	}
	return strncmp(head, "{\"" CTL_K_ERROR "\"", strlen(CTL_K_ERROR) + 3) == 0 ? 1 : 0;
}

struct sbuf {
	char *b;
	size_t len, cap, pos;
	bool eof;
};

/* More bytes at the end (dropping what was consumed); 0, or -1 on error. */
static int
sbuf_more(struct sbuf *s, int fd)
{
	ssize_t r;

	if (s->pos > 0) {
		memmove(s->b, s->b + s->pos, s->len - s->pos);
		s->len -= s->pos;
		s->pos = 0;
	}
	if (s->len == s->cap) {
		char *nb;

		if (s->cap >= ENTRY_MAX) {
			fprintf(stderr, "stubctl: answer entry too large\n");
			return -1;
		}
		nb = realloc(s->b, s->cap * 2 + 1);
		if (!nb)
			return -1;
		s->b = nb;
		s->cap *= 2;
	}
	r = read_some(fd, s->b + s->len, s->cap - s->len);
	if (r < 0)
		return -1;
	if (r == 0)
		s->eof = true;
	s->len += (size_t)r;
	s->b[s->len] = 0;
	return 0;
}

static void
sbuf_skip_blanks(struct sbuf *s)
{
	while (s->pos < s->len && strchr(" \t\r\n,", s->b[s->pos]))
		s->pos++;
}

/*
 * displaydns for people, printed as it arrives: each entry of the
 * "entries" array is parsed and printed on its own, so stubctl's memory is
 * that of one entry, not of the cache.  Anything else (an error) is read
 * whole and handled as every other answer.
 */
static int
stream_displaydns(int fd)
{
	static const char prefix[] = "{\"" CTL_K_ENTRIES "\":[";
	struct sbuf s = { malloc(STREAM_CHUNK + 1), 0, STREAM_CHUNK, 0, false };
	size_t i = 0;
	int rc = 1;

	if (!s.b)
		return 1;
	while (!s.eof && s.len < sizeof(prefix) - 1)
		if (sbuf_more(&s, fd) != 0)
			goto out;
	if (s.len < sizeof(prefix) - 1 || memcmp(s.b, prefix, sizeof(prefix) - 1) != 0) {
		/* not the streamed form: the whole document, parsed at once */
		struct jval *root;
		const struct jval *e;
		char err[256];

		while (!s.eof)
			if (sbuf_more(&s, fd) != 0)
				goto out;
		root = jsonp_parse(s.b, s.len, err, sizeof(err));
		if (!root || root->type != J_OBJ) {
			fprintf(stderr, "stubctl: malformed answer from stubd: %s\n",
			    root ? "not an object" : err);
		} else if ((e = jsonp_get(root, CTL_K_ERROR)) != NULL) {
			fprintf(stderr, "stubctl: %s\n", e->type == J_STR ? e->str : "error");
		} else {
			rc = print_displaydns(root);
		}
		jsonp_free(root);
		goto out;
	}
	s.pos = sizeof(prefix) - 1;
	printf("%s", dd_header);
	for (;;) {
		struct jscan sc = { 0 };
		struct jval *e;
		char err[256];
		size_t end;

		sbuf_skip_blanks(&s);
		while (s.pos == s.len) {
			if (s.eof || sbuf_more(&s, fd) != 0)
				goto truncated;
			sbuf_skip_blanks(&s);
		}
		if (s.b[s.pos] == ']')
			break;
		if (s.b[s.pos] != '{')
			goto truncated;
		while ((end = jscan_feed(&sc, s.b + s.pos, s.len - s.pos, 0)) == s.len - s.pos &&
		    sc.depth != 0) {
			memset(&sc, 0, sizeof(sc));
			if (s.eof || sbuf_more(&s, fd) != 0)
				goto truncated;
		}
		e = jsonp_parse(s.b + s.pos, end, err, sizeof(err));
		if (!e || e->type != J_OBJ) {
			fprintf(stderr, "stubctl: malformed entry %zu: %s\n", i,
			    e ? "not an object" : err);
			jsonp_free(e);
			goto out;
		}
		rc = print_entry(e, i++);
		jsonp_free(e);
		if (rc != 0)
			goto out;
		rc = 1;
		s.pos += end;
	}
	/* "]}" and the newline follow */
	while (!s.eof)
		if (sbuf_more(&s, fd) != 0)
			goto out;
	rc = 0;
	goto out;
truncated:
	fprintf(stderr, "stubctl: malformed answer from stubd: truncated\n");
out:
	free(s.b);
	return rc;
}

static int
print_flushdns(const struct jval *root)
{
	const struct jval *f = jsonp_get(root, CTL_K_FLUSHED);

	if (!f || f->type != J_NUM) {
		fprintf(stderr, "stubctl: malformed answer\n");
		return 1;
	}
	printf("Successfully flushed the DNS Resolver Cache (%.0f entries).\n", f->num);
	return 0;
}

/* the per-list part of stats (SPEC 18): one line a list */
static int
print_lists(const struct jval *ls)
{
	size_t i;

	if (!ls)
		return 0;
	if (ls->type != J_ARR)
		return 1;
	if (ls->n)
		printf("\n%-20s %-9s %-8s %9s %9s %9s %9s %9s\n", "list", "kind", "format",
		    "entries", "blocked", "allowed", "local", "rebind");
	for (i = 0; i < ls->n; i++) {
		const struct jval *l = ls->items[i], *ld = jsonp_get(l, CTL_K_LOADED);
		const char *name = str_of(l, CTL_K_NAME), *kind = str_of(l, CTL_K_KIND),
		           *fmt = str_of(l, CTL_K_FORMAT);
		bool ok = true;
		double e = num_of(l, CTL_K_ENTRIES, &ok), bl = num_of(l, CTL_K_BLOCKED, &ok),
		       al = num_of(l, CTL_K_ALLOWED, &ok), lo = num_of(l, CTL_K_LOCAL, &ok),
		       rb = num_of(l, CTL_K_REBIND, &ok);

		if (!name || !kind || !ok || !ld || ld->type != J_BOOL) {
			fprintf(stderr, "stubctl: malformed list entry\n");
			return 1;
		}
		printf("%-20s %-9s %-8s %9.0f %9.0f %9.0f %9.0f %9.0f%s\n", name, kind,
		    fmt ? fmt : "-", e, bl, al, lo, rb, ld->b ? "" : "  (not loaded)");
	}
	return 0;
}

static int
print_stats(const struct jval *root)
{
	size_t i;

	if (root->type != J_OBJ)
		return 1;
	for (i = 0; i < root->n; i++) {
		const struct jval *v = root->items[i];

		if (v->type == J_NUM)
			printf("%-20s %.0f\n", root->keys[i], v->num);
	}
	return print_lists(jsonp_get(root, CTL_K_LISTS));
}

/* one server line of `stubctl servers`, and for an encrypted one how it
 * is reached; 1 when malformed */
static int
print_server(const struct jval *s)
{
	const struct jval *sx = jsonp_get(s, CTL_K_EXCLUDED), *rt = jsonp_get(s, CTL_K_SRTT_MS),
	                  *rm = jsonp_get(s, CTL_K_RTT_MEASURED);
	const char *addr = str_of(s, CTL_K_ADDRESS), *prio = str_of(s, CTL_K_PRIORITY);
	bool ok = true;
	double q = num_of(s, CTL_K_QUERIES, &ok), an = num_of(s, CTL_K_ANSWERS, &ok),
	       to = num_of(s, CTL_K_TIMEOUTS, &ok), sf = num_of(s, CTL_K_EXCLUDED_FOR, &ok);
	const char *tr, *url, *ts;
	char st[32], rtt[32];

	if (!addr || !prio || !sx || sx->type != J_BOOL || !ok) {
		fprintf(stderr, "stubctl: malformed server entry\n");
		return 1;
	}
	if (sx->b)
		snprintf(st, sizeof(st), "excl %.0fs", sf);
	else
		snprintf(st, sizeof(st), "ok");
	if (rt && rt->type == J_NUM && !(rm && rm->type == J_BOOL && !rm->b))
		snprintf(rtt, sizeof(rtt), "%.1f", rt->num);
	else
		snprintf(rtt, sizeof(rtt), "-");
	printf("  %-28s %-7s %-9s %9s %9.0f %9.0f %9.0f\n", addr, prio, st, rtt, q, an, to);
	tr = str_of(s, CTL_K_TRANSPORT);
	url = str_of(s, CTL_K_URL);
	ts = str_of(s, CTL_K_TLS_STATE);
	/* encrypted servers: how they are reached and the connection */
	if (tr && strcmp(tr, "udp") != 0 && url)
		printf("    %s, %s, %s (%.0f handshakes, %.0f resumed)\n", url,
		    bool_of(s, CTL_K_AUTHENTICATED) ? "authenticated" : "not authenticated",
		    ts ? ts : "idle", num_of(s, CTL_K_HANDSHAKES, &ok),
		    num_of(s, CTL_K_RESUMED, &ok));
	/* SPEC 17: a clear-text server asked through its encrypted twin */
	if (str_of(s, CTL_K_TWIN_ADDRESS))
		printf("    encryption %s (%s): via %s %s (%s), %.0f downgrades\n",
		    str_of(s, CTL_K_ENCRYPTION) ? str_of(s, CTL_K_ENCRYPTION) : "?",
		    str_of(s, CTL_K_UPGRADE) ? str_of(s, CTL_K_UPGRADE) : "?",
		    str_of(s, CTL_K_TWIN_TRANSPORT) ? str_of(s, CTL_K_TWIN_TRANSPORT) : "?",
		    str_of(s, CTL_K_TWIN_ADDRESS),
		    str_of(s, CTL_K_TWIN_NAME) ? str_of(s, CTL_K_TWIN_NAME) : "no name",
		    num_of(s, CTL_K_DOWNGRADES, &ok));
	else if (str_of(s, CTL_K_UPGRADE) && strcmp(str_of(s, CTL_K_UPGRADE), "dnr") == 0)
		printf("    announced by the network (DNR)\n");
	return 0;
}

/* one adapter of `stubctl servers`: its line, the table head, its
 * servers; 1 when malformed */
static int
print_adapter(const struct jval *a, size_t i)
{
	const struct jval *svs = jsonp_get(a, CTL_K_SERVERS), *ex = jsonp_get(a, CTL_K_EXCLUDED);
	const char *name = str_of(a, CTL_K_NAME);
	bool ok = true;
	double exf = num_of(a, CTL_K_EXCLUDED_FOR, &ok);
	size_t k;

	if (!name || !svs || svs->type != J_ARR || !ex || ex->type != J_BOOL || !ok) {
		fprintf(stderr, "stubctl: malformed adapter %zu\n", i);
		return 1;
	}
	printf("adapter %s", name);
	if (str_of(a, CTL_K_ORIGIN) && str_of(a, CTL_K_STATE))
		printf(" (%s, %s)", str_of(a, CTL_K_ORIGIN), str_of(a, CTL_K_STATE));
	if (ex->b)
		printf("  EXCLUDED (%.0f s left)", exf);
	printf("\n  %-28s %-7s %-9s %9s %9s %9s %9s\n", "server", "prio", "state", "srtt_ms",
	    "queries", "answers", "timeouts");
	for (k = 0; k < svs->n; k++)
		if (print_server(svs->items[k]) != 0)
			return 1;
	return 0;
}

static int
print_servers(const struct jval *root)
{
	const struct jval *ads = jsonp_get(root, CTL_K_ADAPTERS);
	size_t i;

	if (!ads || ads->type != J_ARR) {
		fprintf(stderr, "stubctl: malformed answer: no adapters\n");
		return 1;
	}
	for (i = 0; i < ads->n; i++)
		if (print_adapter(ads->items[i], i) != 0)
			return 1;
	return 0;
}

/* stubctl query: the answer, where it came from, the packets of the search */
static int
print_query(const struct jval *root)
{
	const struct jval *recs = jsonp_get(root, CTL_K_RECORDS),
	                  *tr = jsonp_get(root, CTL_K_TRACE);
	const char *name = str_of(root, CTL_K_NAME), *type = str_of(root, CTL_K_TYPE),
	           *src = str_of(root, CTL_K_SOURCE), *rc = str_of(root, CTL_K_RCODE);
	bool ok = true;
	double ms = num_of(root, CTL_K_MS, &ok);
	size_t k;

	if (!src || !rc || !ok || !recs || recs->type != J_ARR || !tr || tr->type != J_ARR) {
		fprintf(stderr, "stubctl: malformed query answer\n");
		return 1;
	}
	printf("%s %s: %s from %s in %.0f ms\n", name ? name : "?", type ? type : "?", rc, src, ms);
	if (str_of(root, CTL_K_RULE)) /* SPEC 18: the rule that decided */
		printf("rule: %s\n", str_of(root, CTL_K_RULE));
	for (k = 0; k < recs->n; k++) {
		const struct jval *r = recs->items[k];
		bool tok = true;
		double ttl = num_of(r, CTL_K_TTL, &tok);

		printf("  %-10s %s %.0f %s %s\n",
		    str_of(r, CTL_K_SECTION) ? str_of(r, CTL_K_SECTION) : "?",
		    str_of(r, CTL_K_NAME) ? str_of(r, CTL_K_NAME) : "?", ttl,
		    str_of(r, CTL_K_TYPE) ? str_of(r, CTL_K_TYPE) : "?",
		    str_of(r, CTL_K_DATA) ? str_of(r, CTL_K_DATA) : "");
	}
	if (tr->n)
		printf("search:\n  %-5s %-12s %-28s %-5s %8s  %-10s %8s\n", "phase", "adapter",
		    "server", "via", "sent_ms", "result", "at_ms");
	for (k = 0; k < tr->n; k++) {
		const struct jval *t = tr->items[k], *sent = jsonp_get(t, CTL_K_SENT_MS),
		                  *at = jsonp_get(t, CTL_K_AT_MS), *late = jsonp_get(t, CTL_K_LATE);
		bool tok = true;
		double ph = num_of(t, CTL_K_PHASE, &tok);
		char sb[24], ab[24];

		if (sent && sent->type == J_NUM)
			snprintf(sb, sizeof(sb), "%.0f", sent->num);
		else
			snprintf(sb, sizeof(sb), "-");
		if (at && at->type == J_NUM)
			snprintf(ab, sizeof(ab), "%.0f", at->num);
		else
			snprintf(ab, sizeof(ab), "-");
		printf("  %-5.0f %-12s %-28s %-5s %8s  %-10s %8s%s\n", ph,
		    str_of(t, CTL_K_ADAPTER) ? str_of(t, CTL_K_ADAPTER) : "?",
		    str_of(t, CTL_K_SERVER) ? str_of(t, CTL_K_SERVER) : "?",
		    str_of(t, CTL_K_TRANSPORT) ? str_of(t, CTL_K_TRANSPORT) : "?", sb,
		    str_of(t, CTL_K_RESULT) ? str_of(t, CTL_K_RESULT) : "?", ab,
		    late && late->type == J_BOOL && late->b ? " (late)" : "");
	}
	return 0;
}

/* One monitor line as text: time, client, name, type, rcode, source, ms. */
static int
print_monitor_line(const char *line, size_t len)
{
	char err[128];
	struct jval *v = jsonp_parse(line, len, err, sizeof(err));
	const struct jval *e;
	bool ok = true;

	if (!v || v->type != J_OBJ) {
		fprintf(stderr, "stubctl: malformed monitor line: %s\n", v ? "not an object" : err);
		jsonp_free(v);
		return -1;
	}
	if ((e = jsonp_get(v, CTL_K_ERROR)) != NULL) {
		fprintf(stderr, "stubctl: %s\n", e->type == J_STR ? e->str : "error");
		jsonp_free(v);
		return -1;
	}
	if ((e = jsonp_get(v, CTL_K_LOST)) != NULL) {
		printf("(%.0f lines lost: stubctl fell behind)\n", e->type == J_NUM ? e->num : 0);
	} else {
		const char *t = str_of(v, CTL_K_TIME);
		double ms = num_of(v, CTL_K_MS, &ok);

		/* the time of day of the ISO time */
		printf("%s %-22s %-30s %-6s %-9s %-9s %5.0f ms\n",
		    t && strlen(t) >= 23 ? t + 11 : "?",
		    str_of(v, CTL_K_CLIENT) ? str_of(v, CTL_K_CLIENT) : "?",
		    str_of(v, CTL_K_NAME) ? str_of(v, CTL_K_NAME) : "-",
		    str_of(v, CTL_K_TYPE) ? str_of(v, CTL_K_TYPE) : "-",
		    str_of(v, CTL_K_RCODE) ? str_of(v, CTL_K_RCODE) : "?",
		    str_of(v, CTL_K_SOURCE) ? str_of(v, CTL_K_SOURCE) : "?", ms);
	}
	jsonp_free(v);
	return 0;
}

/* stubctl monitor: lines until stubd goes (or we are interrupted). */
static int
monitor(int fd, bool json)
{
	static char buf[1 << 16];
	size_t n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		char *nl;
		ssize_t r;

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		while ((nl = memchr(buf, '\n', n)) != NULL) {
			size_t l = (size_t)(nl - buf);

			if (json)
				fwrite(buf, 1, l + 1, stdout);
			else if (print_monitor_line(buf, l) != 0)
				return 1;
			memmove(buf, nl + 1, n - l - 1);
			n -= l + 1;
		}
		if (n == sizeof(buf)) {
			fprintf(stderr, "stubctl: monitor line too long\n");
			return 1;
		}
	}
	fprintf(stderr, "stubctl: stubd closed the monitor\n");
	return 1;
}

/* The command line: options, the command and its arguments. */
struct cli {
	const char *path, *cmd, *args[CTL_MAX_ARGS];
	size_t nargs;
	bool json;
};

/* 0: go on; else *exit_code is what main returns (help, version, errors) */
static int
parse_cli(int argc, char **argv, struct cli *c, int *exit_code)
{
	int k;

	*exit_code = 1;
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];

		if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (!c->cmd && (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0)) {
			if (++k >= argc) {
				usage(stderr);
				return -1;
			}
			c->path = argv[k];
		} else if (!c->cmd && strncmp(a, "--socket=", 9) == 0) {
			c->path = a + 9;
		} else if (!c->cmd && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
			usage(stdout);
			*exit_code = 0;
			return -1;
		} else if (!c->cmd && (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)) {
			printf("stubctl %s\n", PACKAGE_VERSION);
			*exit_code = 0;
			return -1;
		} else if (!c->cmd && a[0] == '-') {
			fprintf(stderr, "stubctl: unknown option '%s'\n", a);
			usage(stderr);
			return -1;
		} else if (!c->cmd) {
			c->cmd = a;
		} else if (c->nargs < CTL_MAX_ARGS - 1) {
			c->args[c->nargs++] = a;
		} else {
			fprintf(stderr, "stubctl: too many arguments\n");
			return -1;
		}
	}
	if (!c->cmd) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The request line of the command (with its newline) into line; its
 * length, or 0 with a message on stderr. */
static size_t
build_request(const struct ctl_command *def, const struct cli *c, char *line, size_t cap)
{
	size_t len, i;

	if (c->nargs < def->min_args || c->nargs > def->max_args) {
		fprintf(stderr, "usage: stubctl %s\n", def->usage);
		return 0;
	}
	len = (size_t)snprintf(line, cap, "%s", def->name);
	for (i = 0; i < c->nargs && len < cap; i++) {
		if (strpbrk(c->args[i], " \t\r\n")) {
			fprintf(stderr, "stubctl: bad argument '%s'\n", c->args[i]);
			return 0;
		}
		len += (size_t)snprintf(line + len, cap - len, " %s", c->args[i]);
	}
	if (len + 1 >= cap) {
		fprintf(stderr, "stubctl: request too long\n");
		return 0;
	}
	line[len++] = '\n';
	line[len] = 0;
	return len;
}

/* A successful answer, for people. */
static int
print_answer(const struct ctl_command *def, const struct jval *root)
{
	const struct jval *w;

	switch (def->id) {
	case CTL_CMD_DISPLAYDNS: return print_displaydns(root);
	case CTL_CMD_FLUSHDNS: return print_flushdns(root);
	case CTL_CMD_STATS: return print_stats(root);
	case CTL_CMD_SERVERS: return print_servers(root);
	case CTL_CMD_RELOAD:
		w = jsonp_get(root, CTL_K_WARNINGS);
		printf("Configuration reloaded.\n");
		for (size_t wi = 0; w && w->type == J_ARR && wi < w->n; wi++)
			if (w->items[wi]->type == J_STR)
				printf("warning: %s\n", w->items[wi]->str);
		return 0;
	case CTL_CMD_LINK:
		printf("Link %s updated.\n",
		    str_of(root, CTL_K_LINK) ? str_of(root, CTL_K_LINK) : "?");
		return 0;
	case CTL_CMD_QUERY: return print_query(root);
	case CTL_CMD_MONITOR:
	case CTL_NCMDS: break;
	}
	return 0;
}

/* One JSON document read whole, then printed (as is with --json). */
static int
one_answer(int fd, const struct ctl_command *def, bool json)
{
	size_t len;
	char err[256], *reply = read_all(fd, &len);
	struct jval *root;
	const struct jval *e;
	int rc;

	if (!reply)
		return 1;
	root = jsonp_parse(reply, len, err, sizeof(err));
	if (!root || root->type != J_OBJ) {
		fprintf(stderr, "stubctl: malformed answer from stubd: %s\n",
		    root ? "not an object" : err);
		jsonp_free(root);
		free(reply);
		return 1;
	}
	e = jsonp_get(root, CTL_K_ERROR);
	if (json) {
		fputs(reply, stdout);
		if (len == 0 || reply[len - 1] != '\n')
			putchar('\n');
		rc = e ? 1 : 0;
	} else if (e) {
		fprintf(stderr, "stubctl: %s\n", e->type == J_STR ? e->str : "error");
		rc = 1;
	} else {
		rc = print_answer(def, root);
	}
	jsonp_free(root);
	free(reply);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli c = { .path = SOCK_DEFAULT };
	const struct ctl_command *def;
	bool ambiguous;
	char line[CTL_LINE_MAX + 1];
	int fd, rc;

	if (parse_cli(argc, argv, &c, &rc) != 0)
		return rc;
	def = find_command(c.cmd, &ambiguous);
	if (!def) {
		fprintf(stderr, "stubctl: %s command '%s'\n", ambiguous ? "ambiguous" : "unknown",
		    c.cmd);
		usage(stderr);
		return 1;
	}
	if (build_request(def, &c, line, sizeof(line)) == 0)
		return 1;
	fd = send_request(c.path, line);
	if (fd < 0)
		return 1;
	if (def->id == CTL_CMD_MONITOR)
		rc = monitor(fd, c.json);
	else if (def->id == CTL_CMD_DISPLAYDNS) /* read and printed as it arrives (SPEC 13) */
		rc = c.json ? stream_json(fd) : stream_displaydns(fd);
	else
		rc = one_answer(fd, def, c.json);
	close(fd);
	return rc;
}
