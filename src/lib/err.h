/*
 * err.h - the one error convention of stubd.
 *
 * A function that can fail returns enum stub_err (STUB_OK = 0), declared
 * as such (not int).  What it produces travels through out-parameters,
 * which are cleared (NULL, 0) on entry and set only on success, so a
 * caller never sees half a result.  When an operator needs to know why,
 * the function also takes `char *why, size_t whylen` (`err, errlen` in
 * reconfig) and writes one line there on failure (no trailing newline, no
 * "stubd:" prefix).  Where errno says more (file_read), it is kept and
 * the code is STUB_EIO.  Inside, a function with resources to release has
 * one exit for failures: `goto fail`.  Callers test `!= STUB_OK`, never
 * the sign.
 *
 * Not failures, so not this convention: predicates and lookups return
 * bool or a pointer (NULL: not found); a constructor whose only failure
 * is memory returns its object or NULL.
 *
 * The exceptions, each for a reason outside the code's choice:
 *  - Parsers that collect many diagnostics (configuration: FILE:LINE
 *    lines; hosts, resolvconf files: a callback per bad line) report each
 *    and return a count or the object with the good part.
 *  - Counts and lengths: a function whose result is a number of words or
 *    bytes (text_words, text_base64, the wire writers' sticky cursor)
 *    returns -1 (or 0 with the cursor's err set) when it cannot.
 *  - The control protocol answers with a JSON document; a failed command
 *    is {"error": "..."} (ctlcmd.c), not a code.
 *  - sd-bus handlers (resolve1.c) return a negative errno as sd-bus wants;
 *    sd_notify_state mirrors sd_notify(3): < 0 failed, 0 no systemd, > 0
 *    sent.
 *  - libevent callbacks return void: they log, count or close, and report
 *    upward through their module's ops.
 *  - Visitors' callbacks (cache_foreach, rrtext_foreach) return non-0 to
 *    stop, which is not an error.
 */
#ifndef STUBD_ERR_H
#define STUBD_ERR_H

enum stub_err {
	STUB_OK = 0,
	STUB_ENOMEM,    /* allocation failed */
	STUB_EFORMAT,   /* malformed input */
	STUB_ESHORT,    /* input ends too early / buffer too small */
	STUB_EINVAL,    /* bad argument */
	STUB_ENOTFOUND, /* lookup found nothing */
	STUB_EIO,       /* system call failed, errno kept */
	STUB_EEXIST,    /* duplicate */
};

/* A short English text for an error code; never NULL. */
const char *stub_strerror(enum stub_err e);

#endif
