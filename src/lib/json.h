/*
 * json.h - a small JSON writer into a growing buffer.
 *
 * Commas and nesting are tracked for the caller; strings are escaped per
 * RFC 8259 (control characters as \u00XX; bytes >= 0x80 that do not form
 * valid UTF-8 are written as \u00XX of the byte, so output is always valid).
 * The struct owns its buffer; json_free() releases it, json_take() hands it
 * over.
 */
#ifndef STUBD_JSON_H
#define STUBD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH 32

struct json {
	char *buf;
	size_t len, cap;
	int err; /* sticky: OOM or nesting error */
	int depth;
	bool first[JSON_DEPTH]; /* no element written yet at this depth */
	bool after_key;
};

void json_init(struct json *j);
void json_free(struct json *j);
/* The finished NUL-terminated text (caller frees), or NULL on error. */
char *json_take(struct json *j, size_t *len);
/* The text written so far (caller frees; "" when none), the writer keeping
 * its place in the document so it can go on: for documents written in
 * parts.  NULL on error. */
char *json_drain(struct json *j, size_t *len);

void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *k);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_double(struct json *j, double v, int decimals);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

#endif
