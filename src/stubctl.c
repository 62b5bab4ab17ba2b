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

static char *
roundtrip(const char *path, const char *line, size_t *outlen)
{
	struct sockaddr_un sun;
	int fd;
	size_t cap = 65536, n = 0, ll = strlen(line);
	char *buf;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "stubctl: socket path too long\n");
		return NULL;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;

		fprintf(stderr, "stubctl: cannot connect to %s: %s%s\n", path, strerror(e),
		    (e == ENOENT || e == ECONNREFUSED) ? " (is stubd running?)" : "");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (send(fd, line, ll, MSG_NOSIGNAL) != (ssize_t)ll) {
		fprintf(stderr, "stubctl: cannot send to %s: %s\n", path, strerror(errno));
		close(fd);
		return NULL;
	}
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return NULL;
	}
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;
		int pr = poll(&p, 1, REPLY_TIMEOUT_MS);

		if (pr == 0) {
			fprintf(stderr, "stubctl: no answer from stubd\n");
			goto fail;
		}
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == cap) {
			char *nb;

			if (cap >= CTL_REPLY_MAX) {
				fprintf(stderr, "stubctl: answer too large\n");
				goto fail;
			}
			nb = realloc(buf, cap * 2 + 1);
			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "stubctl: read: %s\n", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	*outlen = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
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
	static const struct { const char *n; int c; } tab[] = {
		{ "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "SOA", 6 }, { "PTR", 12 },
		{ "MX", 15 }, { "TXT", 16 }, { "AAAA", 28 }, { "SRV", 33 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].n, t) == 0)
			return tab[i].c;
	if (strncmp(t, "TYPE", 4) == 0)
		return atoi(t + 4);
	return 0;
}

static int
print_displaydns(const struct jval *root)
{
	const struct jval *entries = jsonp_get(root, CTL_K_ENTRIES);
	size_t i, k;

	if (!entries || entries->type != J_ARR) {
		fprintf(stderr, "stubctl: malformed answer: no entries\n");
		return 1;
	}
	printf("\nstubd DNS Resolver Cache\n\n");
	for (i = 0; i < entries->n; i++) {
		const struct jval *e = entries->items[i], *recs;
		const char *name = str_of(e, CTL_K_NAME), *type = str_of(e, CTL_K_TYPE),
		    *status = str_of(e, CTL_K_STATUS);

		if (!name || !type || !status) {
			fprintf(stderr, "stubctl: malformed entry %zu\n", i);
			return 1;
		}
		printf("    %s\n    ----------------------------------------\n", name);
		if (strcmp(status, "NXDOMAIN") == 0) {
			printf("    Name does not exist.\n\n");
			continue;
		}
		if (strcmp(status, "NODATA") == 0) {
			printf("    No records of type %s.\n\n", type);
			continue;
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
	}
	return 0;
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
	return 0;
}

static int
print_servers(const struct jval *root)
{
	const struct jval *ads = jsonp_get(root, CTL_K_ADAPTERS);
	size_t i, k;

	if (!ads || ads->type != J_ARR) {
		fprintf(stderr, "stubctl: malformed answer: no adapters\n");
		return 1;
	}
	for (i = 0; i < ads->n; i++) {
		const struct jval *a = ads->items[i], *svs = jsonp_get(a, CTL_K_SERVERS);
		const struct jval *ex = jsonp_get(a, CTL_K_EXCLUDED);
		const char *name = str_of(a, CTL_K_NAME);
		bool ok = true;
		double exf = num_of(a, CTL_K_EXCLUDED_FOR, &ok);

		if (!name || !svs || svs->type != J_ARR || !ex || ex->type != J_BOOL || !ok) {
			fprintf(stderr, "stubctl: malformed adapter %zu\n", i);
			return 1;
		}
		printf("adapter %s%s", name, ex->b ? "  EXCLUDED" : "");
		if (ex->b)
			printf(" (%.0f s left)", exf);
		printf("\n  %-28s %-7s %-9s %9s %9s %9s %9s\n", "server", "prio", "state",
		    "srtt_ms", "queries", "answers", "timeouts");
		for (k = 0; k < svs->n; k++) {
			const struct jval *s = svs->items[k], *sx = jsonp_get(s, CTL_K_EXCLUDED),
			    *rt = jsonp_get(s, CTL_K_SRTT_MS), *rm = jsonp_get(s, CTL_K_RTT_MEASURED);
			const char *addr = str_of(s, CTL_K_ADDRESS), *prio = str_of(s, CTL_K_PRIORITY);
			double q = num_of(s, CTL_K_QUERIES, &ok), an = num_of(s, CTL_K_ANSWERS, &ok),
			    to = num_of(s, CTL_K_TIMEOUTS, &ok), sf = num_of(s, CTL_K_EXCLUDED_FOR, &ok);
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
			printf("  %-28s %-7s %-9s %9s %9.0f %9.0f %9.0f\n", addr, prio, st, rtt,
			    q, an, to);
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = SOCK_DEFAULT, *cmd = NULL, *args[4];
	bool json = false;
	size_t nargs = 0, len, i;
	int k, rc = 0;
	const struct ctl_command *cmd_def;
	bool ambiguous;
	char line[CTL_LINE_MAX + 1], err[256], *reply;
	struct jval *root;
	const struct jval *e;

	for (k = 1; k < argc; k++) {
		const char *a = argv[k];

		if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (!cmd && (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0)) {
			if (++k >= argc) {
				usage(stderr);
				return 1;
			}
			path = argv[k];
		} else if (!cmd && strncmp(a, "--socket=", 9) == 0) {
			path = a + 9;
		} else if (!cmd && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
			usage(stdout);
			return 0;
		} else if (!cmd && (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)) {
			printf("stubctl %s\n", PACKAGE_VERSION);
			return 0;
		} else if (!cmd && a[0] == '-') {
			fprintf(stderr, "stubctl: unknown option '%s'\n", a);
			usage(stderr);
			return 1;
		} else if (!cmd) {
			cmd = a;
		} else if (nargs < 4) {
			args[nargs++] = a;
		} else {
			fprintf(stderr, "stubctl: too many arguments\n");
			return 1;
		}
	}
	if (!cmd) {
		usage(stderr);
		return 1;
	}
	cmd_def = find_command(cmd, &ambiguous);
	if (!cmd_def) {
		fprintf(stderr, "stubctl: %s command '%s'\n", ambiguous ? "ambiguous" : "unknown",
		    cmd);
		usage(stderr);
		return 1;
	}
	if (nargs < cmd_def->min_args || nargs > cmd_def->max_args) {
		fprintf(stderr, "usage: stubctl %s\n", cmd_def->usage);
		return 1;
	}
	len = (size_t)snprintf(line, sizeof(line), "%s", cmd_def->name);
	for (i = 0; i < nargs && len < sizeof(line); i++) {
		if (strpbrk(args[i], " \t\r\n")) {
			fprintf(stderr, "stubctl: bad argument '%s'\n", args[i]);
			return 1;
		}
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", args[i]);
	}
	if (len + 1 >= sizeof(line)) {
		fprintf(stderr, "stubctl: request too long\n");
		return 1;
	}
	line[len++] = '\n';
	line[len] = 0;
	reply = roundtrip(path, line, &len);
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
		switch (cmd_def->id) {
		case CTL_CMD_DISPLAYDNS:
			rc = print_displaydns(root);
			break;
		case CTL_CMD_FLUSHDNS:
			rc = print_flushdns(root);
			break;
		case CTL_CMD_STATS:
			rc = print_stats(root);
			break;
		case CTL_CMD_SERVERS:
			rc = print_servers(root);
			break;
		case CTL_CMD_RELOAD:
		case CTL_NCMDS:
			printf("Configuration reloaded.\n");
			break;
		}
	}
	jsonp_free(root);
	free(reply);
	return rc;
}
