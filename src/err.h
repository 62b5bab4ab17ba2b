/*
 * err.h - the one error type returned by every fallible stubd function.
 *
 * Results travel through out-parameters, which are set to NULL/0 on failure.
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
