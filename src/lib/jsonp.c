/*
 * jsonp.c - recursive-descent JSON parser with a depth limit.
 */
#include "auto-config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonp.h"

#define JSONP_DEPTH 64

struct jp {
	const char *s;
	size_t len, pos;
	const char *err;
};

static struct jval *value(struct jp *p, int depth);

void
jsonp_free(struct jval *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		if (v->items)
			jsonp_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

static void
ws(struct jp *p)
{
	while (p->pos < p->len &&
	    (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
	        p->s[p->pos] == '\r'))
		p->pos++;
}

static int
hex4(struct jp *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	if (p->len - p->pos < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = p->s[p->pos++];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *
string(struct jp *p)
{
	size_t cap = 32, n = 0;
	char *b;

	if (p->pos >= p->len || p->s[p->pos] != '"') {
		p->err = "expected a string";
		return NULL;
	}
	p->pos++;
	b = malloc(cap);
	if (!b) {
		p->err = "out of memory";
		return NULL;
	}
	for (;;) {
		unsigned char c;
		char enc[4];
		size_t el = 0;

		if (p->pos >= p->len) {
			p->err = "unterminated string";
			goto fail;
		}
		c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20) {
			p->err = "control character in string";
			goto fail;
		}
		if (c != '\\') {
			enc[0] = (char)c;
			el = 1;
		} else {
			unsigned cp;

			if (p->pos >= p->len) {
				p->err = "bad escape";
				goto fail;
			}
			c = (unsigned char)p->s[p->pos++];
			switch (c) {
			case '"':
			case '\\':
			case '/':
				enc[0] = (char)c;
				el = 1;
				break;
			case 'b':
				enc[0] = '\b';
				el = 1;
				break;
			case 'f':
				enc[0] = '\f';
				el = 1;
				break;
			case 'n':
				enc[0] = '\n';
				el = 1;
				break;
			case 'r':
				enc[0] = '\r';
				el = 1;
				break;
			case 't':
				enc[0] = '\t';
				el = 1;
				break;
			case 'u':
				if (hex4(p, &cp)) {
					p->err = "bad \\u escape";
					goto fail;
				}
				if (cp >= 0xd800 && cp <= 0xdbff) {
					unsigned lo;

					if (p->len - p->pos < 6 || p->s[p->pos] != '\\' ||
					    p->s[p->pos + 1] != 'u') {
						p->err = "lone surrogate";
						goto fail;
					}
					p->pos += 2;
					if (hex4(p, &lo) || lo < 0xdc00 || lo > 0xdfff) {
						p->err = "bad surrogate pair";
						goto fail;
					}
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					p->err = "lone surrogate";
					goto fail;
				}
				if (cp == 0) {
					p->err = "NUL in string";
					goto fail;
				}
				if (cp < 0x80) {
					enc[0] = (char)cp;
					el = 1;
				} else if (cp < 0x800) {
					enc[0] = (char)(0xc0 | cp >> 6);
					enc[1] = (char)(0x80 | (cp & 0x3f));
					el = 2;
				} else if (cp < 0x10000) {
					enc[0] = (char)(0xe0 | cp >> 12);
					enc[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
					enc[2] = (char)(0x80 | (cp & 0x3f));
					el = 3;
				} else {
					enc[0] = (char)(0xf0 | cp >> 18);
					enc[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
					enc[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
					enc[3] = (char)(0x80 | (cp & 0x3f));
					el = 4;
				}
				break;
			default: p->err = "bad escape"; goto fail;
			}
		}
		if (n + el + 1 > cap) {
			char *nb;

			cap *= 2;
			nb = realloc(b, cap);
			if (!nb) {
				p->err = "out of memory";
				goto fail;
			}
			b = nb;
		}
		memcpy(b + n, enc, el);
		n += el;
	}
	b[n] = 0;
	return b;
fail:
	free(b);
	return NULL;
}

static struct jval *
mk(enum jtype t)
{
	struct jval *v = calloc(1, sizeof(*v));

	if (v)
		v->type = t;
	return v;
}

static int
push(struct jval *v, struct jval *item, char *key)
{
	struct jval **ni = realloc(v->items, (v->n + 1) * sizeof(*ni));

	if (!ni)
		return -1;
	v->items = ni;
	if (v->type == J_OBJ) {
		char **nk = realloc(v->keys, (v->n + 1) * sizeof(*nk));

		if (!nk)
			return -1;
		v->keys = nk;
		v->keys[v->n] = key;
	}
	v->items[v->n++] = item;
	return 0;
}

static struct jval *
number(struct jp *p)
{
	size_t start = p->pos;
	char buf[64];
	struct jval *v;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '0') {
		p->pos++;
	} else if (p->pos < p->len && p->s[p->pos] >= '1' && p->s[p->pos] <= '9') {
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	} else {
		p->err = "bad number";
		return NULL;
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9') {
			p->err = "bad number";
			return NULL;
		}
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9') {
			p->err = "bad number";
			return NULL;
		}
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	}
	if (p->pos - start >= sizeof(buf)) {
		p->err = "number too long";
		return NULL;
	}
	memcpy(buf, p->s + start, p->pos - start);
	buf[p->pos - start] = 0;
	v = mk(J_NUM);
	if (!v) {
		p->err = "out of memory";
		return NULL;
	}
	v->num = strtod(buf, NULL);
	return v;
}

static int
lit(struct jp *p, const char *w)
{
	size_t l = strlen(w);

	if (p->len - p->pos < l || memcmp(p->s + p->pos, w, l) != 0)
		return 0;
	p->pos += l;
	return 1;
}

static struct jval *
value(struct jp *p, int depth)
{
	struct jval *v = NULL;
	char c;

	if (depth > JSONP_DEPTH) {
		p->err = "nested too deeply";
		return NULL;
	}
	ws(p);
	if (p->pos >= p->len) {
		p->err = "unexpected end";
		return NULL;
	}
	c = p->s[p->pos];
	if (c == '{' || c == '[') {
		bool obj = c == '{';

		p->pos++;
		v = mk(obj ? J_OBJ : J_ARR);
		if (!v) {
			p->err = "out of memory";
			return NULL;
		}
		ws(p);
		if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
			p->pos++;
			return v;
		}
		for (;;) {
			char *key = NULL;
			struct jval *item;

			ws(p);
			if (obj) {
				key = string(p);
				if (!key)
					goto fail;
				ws(p);
				if (p->pos >= p->len || p->s[p->pos] != ':') {
					free(key);
					p->err = "expected ':'";
					goto fail;
				}
				p->pos++;
			}
			item = value(p, depth + 1);
			if (!item || push(v, item, key)) {
				if (item)
					jsonp_free(item);
				free(key);
				if (!p->err)
					p->err = "out of memory";
				goto fail;
			}
			ws(p);
			if (p->pos < p->len && p->s[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
				p->pos++;
				return v;
			}
			p->err = obj ? "expected ',' or '}'" : "expected ',' or ']'";
			goto fail;
		}
	}
	if (c == '"') {
		char *s = string(p);

		if (!s)
			return NULL;
		v = mk(J_STR);
		if (!v) {
			free(s);
			p->err = "out of memory";
			return NULL;
		}
		v->str = s;
		return v;
	}
	if (lit(p, "true") || lit(p, "false")) {
		v = mk(J_BOOL);
		if (v)
			v->b = p->s[p->pos - 1] == 'e' && p->s[p->pos - 2] == 'u';
		return v;
	}
	if (lit(p, "null"))
		return mk(J_NULL);
	return number(p);
fail:
	jsonp_free(v);
	return NULL;
}

struct jval *
jsonp_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct jp p = { text, len, 0, NULL };
	struct jval *v;

	if (!text) {
		snprintf(err, errlen, "no input");
		return NULL;
	}
	v = value(&p, 0);
	if (v) {
		ws(&p);
		if (p.pos != p.len) {
			jsonp_free(v);
			v = NULL;
			p.err = "trailing data";
		}
	}
	if (!v)
		snprintf(err, errlen, "%s at byte %zu", p.err ? p.err : "error", p.pos);
	return v;
}

const struct jval *
jsonp_get(const struct jval *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != J_OBJ)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}
