/*
 * err.h - the one error convention of stubd.
 *
 * A function that can fail returns enum stub_err (STUB_OK = 0).  What it
 * produces travels through out-parameters, which are cleared (NULL, 0) on
 * entry and set only on success, so a caller never sees half a result.
 * When an operator needs to know why, the function also takes
 * `char *why, size_t whylen` and writes one line there on failure (no
 * trailing newline, no "stubd:" prefix).  Inside, a function with
 * resources to release has one exit for failures: `goto fail`.
 *
 * Pure parsers that collect many diagnostics (configuration, hosts) report
 * each through their own callback or list and return a count instead.
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
