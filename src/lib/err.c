/*
 * err.c - texts of the error codes.
 */
#include "auto-config.h"

#include "err.h"

const char *
stub_strerror(enum stub_err e)
{
	switch (e) {
	case STUB_OK: return "success";
	case STUB_ENOMEM: return "out of memory";
	case STUB_EFORMAT: return "malformed input";
	case STUB_ESHORT: return "input too short";
	case STUB_EINVAL: return "invalid argument";
	case STUB_ENOTFOUND: return "not found";
	case STUB_EIO: return "system error";
	case STUB_EEXIST: return "already exists";
	}
	return "unknown error";
}
