/*
 * blocklist.c - block and allow lists in five formats.  See blocklist.h.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "blocklist.h"
#include "text.h"

#define LINE_MAX_LEN 1024

static const char *const format_names[BL_FORMAT_COUNT] = { "hosts", "domains", "wildcard",
	"adblock", "rpz" };

int
blocklist_format_from_name(const char *s)
{
	int i;

	for (i = 0; i < BL_FORMAT_COUNT; i++)
		if (strcasecmp(s, format_names[i]) == 0)
			return i;
	return -1;
}

const char *
blocklist_format_name(enum bl_format f)
{
	return (unsigned)f < BL_FORMAT_COUNT ? format_names[f] : "?";
}

/* The characters of a list's names besides '.': letters, digits, '-', '_'
 * (1), upper case letters (2: lowered). */

/* A host name as lists write it (wire_name_from_text_lc), not all digits
 * (an address): its wire form, lower-cased; 0 when not such a name. */
static size_t
list_name(const char *s, uint8_t out[WIRE_NAME_MAX])
{
	bool alpha = false;
	size_t n = wire_name_from_text_lc(s, out, &alpha);

	return n && alpha ? n : 0;
}

/* Names hosts lists carry that are no block (the lists' own preamble). */
static bool
hosts_preamble(const char *s)
{
	static const char *const names[] = { "localhost", "localhost.localdomain", "local",
		"broadcasthost", "ip6-localhost", "ip6-loopback", "ip6-localnet", "ip6-mcastprefix",
		"ip6-allnodes", "ip6-allrouters", "ip6-allhosts", "0.0.0.0", NULL };
	size_t i;

	/* every one of them starts with one of these (most lines: none) */
	if (!strchr("lLbBiI0", s[0]) || !s[0])
		return false;
	for (i = 0; names[i]; i++)
		if (strcasecmp(s, names[i]) == 0)
			return true;
	return false;
}

static bool
is_address(const char *s)
{
	uint8_t a[16];

	/* what nearly every line of a big hosts list starts with */
	if (strcmp(s, "0.0.0.0") == 0 || strcmp(s, "127.0.0.1") == 0)
		return true;
	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

struct pstate {
	struct policy *p;
	bool allow;
	enum pol_action action;
	struct pol_origin o;
	struct bl_stats *st;
	uint8_t origin[WIRE_NAME_MAX]; /* RPZ $ORIGIN, wire form */
	size_t olen;
};

static enum stub_err
add(struct pstate *s, const uint8_t *name, size_t len, enum pol_scope scope, bool allow,
    enum pol_action action)
{
	enum stub_err e = policy_add(s->p, name, len, scope, allow ? POL_ALLOW : POL_BLOCK, action,
	    s->o);

	if (e == STUB_OK)
		s->st->entries++;
	return e == STUB_ENOMEM ? e : STUB_OK;
}

/* 1 understood (or nothing to do), 0 not understood, -1 OOM */
static int
parse_hosts(struct pstate *s, char **w, int n)
{
	uint8_t name[WIRE_NAME_MAX];
	size_t len;
	int i, added = 0;

	if (n < 2 || !is_address(w[0]))
		return 0;
	for (i = 1; i < n; i++) {
		if (hosts_preamble(w[i]))
			continue;
		len = list_name(w[i], name);
		if (len <= 1)
			return added ? 1 : 0;
		if (add(s, name, len, POL_EXACT, s->allow, s->action) != STUB_OK)
			return -1;
		added++;
	}
	return 1;
}

static int
parse_domain(struct pstate *s, char **w, int n, bool wildcard)
{
	uint8_t name[WIRE_NAME_MAX];
	enum pol_scope scope = POL_EXACT;
	const char *t = w[0];
	size_t len;

	if (n != 1)
		return 0;
	if (wildcard && t[0] == '*' && t[1] == '.') {
		t += 2;
		scope = POL_SUBS;
	}
	len = list_name(t, name);
	if (len <= 1)
		return 0;
	return add(s, name, len, scope, s->allow, s->action) == STUB_OK ? 1 : -1;
}

static int
parse_adblock(struct pstate *s, char *line)
{
	uint8_t name[WIRE_NAME_MAX];
	bool allow = s->allow;
	char *t = line, *end;
	size_t len;

	if (t[0] == '!' || t[0] == '[')
		return 1; /* comment, header */
	if (t[0] == '@' && t[1] == '@') {
		allow = true;
		t += 2;
	}
	if (t[0] != '|' || t[1] != '|')
		return 0;
	t += 2;
	end = strchr(t, '^');
	if (!end)
		return 0;
	*end++ = 0;
	/* the one modifier a DNS list may carry that changes nothing here */
	if (*end && strcmp(end, "$important") != 0)
		return 0;
	len = list_name(t, name);
	if (len <= 1)
		return 0;
	return add(s, name, len, POL_SUFFIX, allow, s->action) == STUB_OK ? 1 : -1;
}

/* An RPZ owner name: relative to the zone, or absolute under $ORIGIN. */
static size_t
rpz_owner(struct pstate *s, const char *t, uint8_t name[WIRE_NAME_MAX])
{
	size_t l = strlen(t), len = list_name(t, name);

	if (len <= 1)
		return 0;
	if (l && t[l - 1] == '.' && s->olen > 1) {
		/* absolute: strip the zone's origin */
		if (len <= s->olen || memcmp(name + len - s->olen, s->origin, s->olen) != 0)
			return len;
		len -= s->olen;
		name[len++] = 0;
	}
	return len;
}

static int
parse_rpz(struct pstate *s, char **w, int n)
{
	uint8_t name[WIRE_NAME_MAX];
	enum pol_scope scope = POL_EXACT;
	const char *owner = w[0], *target;
	bool allow = s->allow;
	enum pol_action act;
	size_t len;
	int i = 1;

	if (owner[0] == '$') {
		if (strcasecmp(owner, "$ORIGIN") == 0 && n >= 2) {
			s->olen = wire_name_from_text(w[1], s->origin);
			wire_name_lower(s->origin, s->olen);
		}
		return 1; /* $TTL, $ORIGIN */
	}
	/* a line that began with a blank has no owner: the zone's own NS */
	if (strcasecmp(owner, "NS") == 0 || strcasecmp(owner, "SOA") == 0)
		return 1;
	/* TTL and class may stand between the owner and the type */
	while (i < n && (isdigit((unsigned char)w[i][0]) || strcasecmp(w[i], "IN") == 0))
		i++;
	if (i < n && (strcasecmp(w[i], "SOA") == 0 || strcasecmp(w[i], "NS") == 0))
		return 1; /* the zone's own records */
	if (n - i != 2 || strcasecmp(w[i], "CNAME") != 0)
		return 0;
	target = w[i + 1];
	if (strcmp(target, ".") == 0)
		act = POL_ACT_NXDOMAIN;
	else if (strcmp(target, "*.") == 0)
		act = POL_ACT_NODATA;
	else if (strcasecmp(target, "rpz-passthru.") == 0)
		act = POL_ACT_DEFAULT, allow = true;
	else
		return 0;
	if (owner[0] == '*' && owner[1] == '.') {
		owner += 2;
		scope = POL_SUBS;
	}
	len = rpz_owner(s, owner, name);
	if (len <= 1)
		return 0;
	return add(s, name, len, scope, allow, act) == STUB_OK ? 1 : -1;
}

enum stub_err
blocklist_parse(struct policy *p, const char *text, size_t len, enum bl_format f, bool allow,
    enum pol_action action, uint32_t src, struct bl_stats *st)
{
	struct pstate s = { p, allow, action, { src, 0 }, st, { 0 }, 0 };
	struct text_lines it;
	char line[LINE_MAX_LEN];
	enum text_line k;
	const char *t0;
	size_t lines;

	memset(st, 0, sizeof(*st));
	st->format = f;
	/* a name a line, at most: room for them all at once */
	for (t0 = text, lines = 1; t0 && (t0 = memchr(t0, '\n', len - (size_t)(t0 - text))); t0++)
		lines++;
	if (lines > len / 8 + 1) /* mostly blank lines: no name of 7 bytes on each */
		lines = len / 8 + 1;
	if (policy_reserve(p, lines, len + lines) != STUB_OK)
		return STUB_ENOMEM;
	text_lines_init(&it, text, len);
	while ((k = text_next_line(&it, line, sizeof(line))) != TEXT_LINE_END) {
		char copy[LINE_MAX_LEN], *w[16], *t;
		int n, r = 0;

		s.o.line = it.lineno;
		if (k != TEXT_LINE_OK)
			goto unknown;
		for (t = line; *t == ' ' || *t == '\t' || *t == '\r'; t++)
			;
		if (f == BL_ADBLOCK) {
			size_t l = strlen(t);

			while (l && (t[l - 1] == ' ' || t[l - 1] == '\t' || t[l - 1] == '\r'))
				t[--l] = 0;
			if (l == 0 || t[0] == '#')
				continue;
			r = parse_adblock(&s, t);
		} else {
			if (f == BL_RPZ) {
				char *semi = strchr(t, ';');

				if (semi)
					*semi = 0;
			}
			memcpy(copy, t, strlen(t) + 1);
			n = text_words(copy, w, 16, true);
			if (n == 0)
				continue;
			if (n < 0)
				goto unknown;
			switch (f) {
			case BL_HOSTS: r = parse_hosts(&s, w, n); break;
			case BL_DOMAINS: r = parse_domain(&s, w, n, false); break;
			case BL_WILDCARD: r = parse_domain(&s, w, n, true); break;
			case BL_RPZ: r = parse_rpz(&s, w, n); break;
			default: r = 0; break;
			}
		}
		if (r < 0)
			return STUB_ENOMEM;
		if (r > 0)
			continue;
unknown:
		if (st->unknown++ == 0)
			st->first_unknown = it.lineno;
	}
	return STUB_OK;
}
