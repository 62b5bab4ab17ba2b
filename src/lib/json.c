/*
 * json.c - JSON writer.
 */
#include "auto-config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void
json_init(struct json *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = true;
}

void
json_free(struct json *j)
{
	free(j->buf);
	j->buf = NULL;
	j->len = j->cap = 0;
}

char *
json_take(struct json *j, size_t *len)
{
	char *b;

	if (j->err || j->depth != 0 || !j->buf) {
		json_free(j);
		return NULL;
	}
	b = j->buf;
	if (len)
		*len = j->len;
	j->buf = NULL;
	j->len = j->cap = 0;
	return b;
}

char *
json_drain(struct json *j, size_t *len)
{
	char *b;

	if (j->err)
		return NULL;
	b = j->buf ? j->buf : strdup("");
	if (!b) {
		j->err = 1;
		return NULL;
	}
	if (len)
		*len = j->len;
	j->buf = NULL;
	j->len = j->cap = 0;
	return b;
}

static void
put(struct json *j, const char *s, size_t n)
{
	if (j->err)
		return;
	if (j->cap - j->len < n + 1) {
		size_t ncap = j->cap ? j->cap : 256;
		char *b;

		while (ncap - j->len < n + 1)
			ncap *= 2;
		b = realloc(j->buf, ncap);
		if (!b) {
			j->err = 1;
			return;
		}
		j->buf = b;
		j->cap = ncap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = 0;
}

static void
puts_(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

/* before a value: a comma unless first, or nothing after a key */
static void
sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = false;
}

static void
open_(struct json *j, char c)
{
	sep(j);
	put(j, &c, 1);
	if (j->depth + 1 >= JSON_DEPTH) {
		j->err = 1;
		return;
	}
	j->depth++;
	j->first[j->depth] = true;
}

static void
close_(struct json *j, char c)
{
	if (j->depth == 0 || j->after_key) {
		j->err = 1;
		return;
	}
	j->depth--;
	put(j, &c, 1);
}

void
json_obj_begin(struct json *j)
{
	open_(j, '{');
}
void
json_obj_end(struct json *j)
{
	close_(j, '}');
}
void
json_arr_begin(struct json *j)
{
	open_(j, '[');
}
void
json_arr_end(struct json *j)
{
	close_(j, ']');
}

/* length of a valid UTF-8 sequence at s (max n bytes), or 0 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t l, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		l = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		l = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		l = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (l > n)
		return 0;
	for (i = 1; i < l; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((l == 2 && cp < 0x80) || (l == 3 && cp < 0x800) || (l == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return l;
}

static void
string_body(struct json *j, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	put(j, "\"", 1);
	while (i < n) {
		unsigned char c = p[i];
		char esc[8];
		size_t l;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(j, esc, 2);
			i++;
		} else if (c == '\n' || c == '\t' || c == '\r' || c == '\b' || c == '\f') {
			esc[0] = '\\';
			esc[1] = c == '\n' ? 'n' :
			    c == '\t'      ? 't' :
			    c == '\r'      ? 'r' :
			    c == '\b'      ? 'b' :
			                     'f';
			put(j, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(j, esc, 6);
			i++;
		} else if (c < 0x80) {
			put(j, (const char *)p + i, 1);
			i++;
		} else if ((l = utf8_len(p + i, n - i)) != 0) {
			put(j, (const char *)p + i, l);
			i += l;
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(j, esc, 6);
			i++;
		}
	}
	put(j, "\"", 1);
}

void
json_key(struct json *j, const char *k)
{
	sep(j);
	string_body(j, k, strlen(k));
	put(j, ":", 1);
	j->after_key = true;
}

void
json_strn(struct json *j, const char *s, size_t n)
{
	sep(j);
	string_body(j, s, n);
}

void
json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void
json_u64(struct json *j, uint64_t v)
{
	char b[32];

	sep(j);
	snprintf(b, sizeof(b), "%" PRIu64, v);
	puts_(j, b);
}

void
json_i64(struct json *j, int64_t v)
{
	char b[32];

	sep(j);
	snprintf(b, sizeof(b), "%" PRId64, v);
	puts_(j, b);
}

void
json_double(struct json *j, double v, int decimals)
{
	char b[64];

	sep(j);
	if (!isfinite(v)) {
		puts_(j, "null");
		return;
	}
	snprintf(b, sizeof(b), "%.*f", decimals, v);
	puts_(j, b);
}

void
json_bool(struct json *j, bool v)
{
	sep(j);
	puts_(j, v ? "true" : "false");
}

void
json_null(struct json *j)
{
	sep(j);
	puts_(j, "null");
}
