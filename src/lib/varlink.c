/*
 * varlink.c - varlink framing, calls and replies (see varlink.h).
 */
#include "auto-config.h"

#include "varlink.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
vl_framer_init(struct vl_framer *f)
{
	memset(f, 0, sizeof(*f));
}

void
vl_framer_fini(struct vl_framer *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

size_t
vl_framer_pending(const struct vl_framer *f)
{
	return f->len - f->used;
}

size_t
vl_framer_room(const struct vl_framer *f)
{
	size_t have = vl_framer_pending(f);

	/* the message being read: everything after the last NUL handed out;
	 * whole messages still buffered count too, which keeps the buffer
	 * itself bounded by VL_MSG_MAX */
	return have >= VL_MSG_MAX ? 0 : VL_MSG_MAX - have;
}

enum stub_err
vl_framer_feed(struct vl_framer *f, const void *p, size_t n)
{
	if (n > vl_framer_room(f))
		return STUB_EINVAL;
	if (f->used) {
		memmove(f->buf, f->buf + f->used, f->len - f->used);
		f->len -= f->used;
		f->used = 0;
	}
	if (f->len + n > f->cap) {
		size_t cap = f->cap ? f->cap : 1024;
		char *b;

		while (cap < f->len + n)
			cap *= 2;
		if (cap > VL_MSG_MAX)
			cap = VL_MSG_MAX;
		b = realloc(f->buf, cap);
		if (!b)
			return STUB_ENOMEM;
		f->buf = b;
		f->cap = cap;
	}
	if (n)
		memcpy(f->buf + f->len, p, n);
	f->len += n;
	return STUB_OK;
}

int
vl_framer_next(struct vl_framer *f, const char **msg, size_t *len)
{
	size_t have = vl_framer_pending(f);
	const char *start = f->buf ? f->buf + f->used : NULL;
	const char *nul = have ? memchr(start, '\0', have) : NULL;

	*msg = NULL;
	*len = 0;
	if (!nul)
		return have >= VL_MSG_MAX ? -1 : 0;
	*msg = start;
	*len = (size_t)(nul - start);
	f->used += *len + 1;
	return 1;
}

static const struct jval empty_obj = { .type = J_OBJ };

enum stub_err
vl_call_parse(const char *msg, size_t len, struct vl_call *c)
{
	const struct jval *m, *p, *more, *oneway;
	char err[64];

	memset(c, 0, sizeof(*c));
	c->root = jsonp_parse(msg, len, err, sizeof(err));
	if (!c->root || c->root->type != J_OBJ)
		goto fail;
	m = jsonp_get(c->root, "method");
	p = jsonp_get(c->root, "parameters");
	more = jsonp_get(c->root, "more");
	oneway = jsonp_get(c->root, "oneway");
	if (!m || m->type != J_STR || !m->str[0])
		goto fail;
	if (p && p->type != J_OBJ && p->type != J_NULL)
		goto fail;
	if ((more && more->type != J_BOOL && more->type != J_NULL) ||
	    (oneway && oneway->type != J_BOOL && oneway->type != J_NULL))
		goto fail;
	c->method = m->str;
	c->params = p && p->type == J_OBJ ? p : &empty_obj;
	c->more = more && more->type == J_BOOL && more->b;
	c->oneway = oneway && oneway->type == J_BOOL && oneway->b;
	if (c->more && c->oneway)
		goto fail;
	return STUB_OK;
fail:
	vl_call_free(c);
	return STUB_EINVAL;
}

void
vl_call_free(struct vl_call *c)
{
	jsonp_free(c->root);
	memset(c, 0, sizeof(*c));
}

void
vl_reply_begin(struct json *j)
{
	json_init(j);
	json_obj_begin(j);
	json_key(j, "parameters");
	json_obj_begin(j);
}

void
vl_error_begin(struct json *j, const char *error)
{
	json_init(j);
	json_obj_begin(j);
	json_key(j, "error");
	json_str(j, error);
	json_key(j, "parameters");
	json_obj_begin(j);
}

char *
vl_end(struct json *j, bool continues, size_t *len)
{
	char *s;

	json_obj_end(j);
	if (continues) {
		json_key(j, "continues");
		json_bool(j, true);
	}
	json_obj_end(j);
	s = json_take(j, len);
	json_free(j);
	if (!s) {
		*len = 0;
		return NULL;
	}
	*len += 1; /* the NUL json_take wrote ends the message */
	return s;
}

char *
vl_error(const char *error, const char *key, const char *value, size_t *len)
{
	struct json j;

	vl_error_begin(&j, error);
	if (key) {
		json_key(&j, key);
		json_str(&j, value);
	}
	return vl_end(&j, false, len);
}

bool
vl_get_int(const struct jval *params, const char *key, long long min, long long max, long long dflt,
    long long *out)
{
	const struct jval *v = jsonp_get(params, key);

	if (!v || v->type == J_NULL) {
		*out = dflt;
		return true;
	}
	if (v->type != J_NUM || !isfinite(v->num) || v->num != floor(v->num) ||
	    v->num < (double)min || v->num > (double)max)
		return false;
	*out = (long long)v->num;
	return true;
}
