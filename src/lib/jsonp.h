/*
 * jsonp.h - a small strict JSON parser (RFC 8259) for stubctl, which
 * validates every reply it reads.  Produces a tree; the root owns every
 * node and string (jsonp_free).
 */
#ifndef STUBD_JSONP_H
#define STUBD_JSONP_H

#include <stdbool.h>
#include <stddef.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype type;
	bool b;
	double num;
	char *str;           /* J_STR: NUL-terminated (embedded NUL rejected) */
	struct jval **items; /* J_ARR values, J_OBJ values */
	char **keys;         /* J_OBJ keys */
	size_t n;
};

/* Parse exactly one document (surrounding whitespace allowed).  NULL on
 * error with a message in err. */
struct jval *jsonp_parse(const char *text, size_t len, char *err, size_t errlen);
void jsonp_free(struct jval *v);
/* Member of an object by key, or NULL. */
const struct jval *jsonp_get(const struct jval *obj, const char *key);

#endif
