/*
 * text.c - lines and words.
 */
#include "auto-config.h"

#include <string.h>

#include "text.h"

void
text_lines_init(struct text_lines *it, const char *text, size_t len)
{
	it->text = text;
	it->len = text ? len : 0;
	it->pos = 0;
	it->lineno = 0;
}

enum text_line
text_next_line(struct text_lines *it, char *buf, size_t cap)
{
	size_t e = it->pos, l;

	if (it->pos >= it->len)
		return TEXT_LINE_END;
	while (e < it->len && it->text[e] != '\n')
		e++;
	it->lineno++;
	l = e - it->pos;
	if (l >= cap) {
		it->pos = e + 1;
		return TEXT_LINE_LONG;
	}
	memcpy(buf, it->text + it->pos, l);
	buf[l] = 0;
	it->pos = e + 1;
	if (memchr(buf, 0, l))
		return TEXT_LINE_NUL;
	return TEXT_LINE_OK;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int
text_words(char *s, char **w, int max, bool comments)
{
	int n = 0;

	if (comments) {
		char *hash = strchr(s, '#');

		if (hash)
			*hash = 0;
	}
	for (;;) {
		while (blank(*s))
			s++;
		if (!*s)
			return n;
		if (n == max)
			return -1;
		w[n++] = s;
		while (*s && !blank(*s))
			s++;
		if (*s)
			*s++ = 0;
	}
}

static int
b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

long
text_base64(const char *s, unsigned char *out, size_t cap)
{
	unsigned long acc = 0;
	unsigned bits = 0;
	size_t n = 0, i, pad = 0;

	for (i = 0; s[i]; i++) {
		int v;

		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad)
			return -1; /* data after padding */
		v = b64_value(s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1ul << bits) - 1;
		}
	}
	if (pad > 2 || bits >= 6 || acc != 0)
		return -1;
	return (long)n;
}
