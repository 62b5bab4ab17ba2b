/*
 * varlink.h - the varlink protocol without sockets (SPEC 16): messages are
 * NUL-terminated JSON documents on a stream.  The framer cuts a byte
 * stream into messages (bounded), vl_call_parse reads one call
 * ({"method":..., "parameters":{...}, "more":bool, "oneway":bool}) and the
 * writers build replies ({"parameters":{...}[, "continues":true]}) and
 * errors ({"error":NAME, "parameters":{...}}).  Pure: tests/check_varlink.c
 * and tests/fuzz/fuzz_varlink.c drive it directly.
 */
#ifndef STUBD_VARLINK_H
#define STUBD_VARLINK_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "json.h"
#include "jsonp.h"

#define VL_MSG_MAX (64 * 1024) /* one message, NUL included */

/* A byte stream cut at NUL bytes.  The framer owns its buffer. */
struct vl_framer {
	char *buf;
	size_t len, cap;
	size_t used; /* bytes of buf already handed out as messages */
};

void vl_framer_init(struct vl_framer *f);
void vl_framer_fini(struct vl_framer *f);
/* Room for more input before the message being read would pass VL_MSG_MAX. */
size_t vl_framer_room(const struct vl_framer *f);
/* Append n bytes (n <= vl_framer_room).  STUB_OK, STUB_ENOMEM or STUB_EINVAL (too much). */
enum stub_err vl_framer_feed(struct vl_framer *f, const void *p, size_t n);
/* The next whole message (NUL-terminated, len without the NUL): 1, and msg
 * points into the framer until the next feed or next call; 0 when no whole
 * message is buffered; -1 when the message being read is already longer
 * than VL_MSG_MAX (the connection must go). */
int vl_framer_next(struct vl_framer *f, const char **msg, size_t *len);
/* Bytes buffered and not yet handed out. */
size_t vl_framer_pending(const struct vl_framer *f);

/* One call.  root owns everything; method and params point into it. */
struct vl_call {
	struct jval *root;
	const char *method;        /* "io.systemd.Resolve.ResolveHostname" */
	const struct jval *params; /* an object (an empty one when absent) */
	bool more, oneway;
};

/* STUB_OK, or STUB_EINVAL for anything that is not a call (the peer broke
 * the protocol; the connection should be closed). */
enum stub_err vl_call_parse(const char *msg, size_t len, struct vl_call *c);
void vl_call_free(struct vl_call *c);

/* Reply writers.  vl_reply_begin/vl_error_begin open the parameters object
 * (write its members with the json_* calls); vl_end closes the message and
 * returns it with its NUL: *len counts the NUL (what goes on the wire).
 * NULL on error (the writer is freed either way). */
void vl_reply_begin(struct json *j);
void vl_error_begin(struct json *j, const char *error);
char *vl_end(struct json *j, bool continues, size_t *len);
/* A whole error with no parameters, or with one string parameter. */
char *vl_error(const char *error, const char *key, const char *value, size_t *len);

/* Integer members of a parameters object.  Absent or null: *out = dflt and
 * true; present and an integer within [min, max]: that and true; otherwise
 * false. */
bool vl_get_int(const struct jval *params, const char *key, long long min, long long max,
    long long dflt, long long *out);

#endif
