/*
 * rebind.h - DNS rebinding protection (SPEC 18): private addresses taken
 * out of upstream answers for public names.
 *
 * Pure: a stored answer (OPT removed, msg.h) in, a rewritten copy out.
 */
#ifndef STUBD_REBIND_H
#define STUBD_REBIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Is an A (4 bytes) or AAAA (16 bytes) address one rebinding protection
 * removes: 0.0.0.0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12,
 * 192.168/16, ::1, ::ffff:0:0/96 of those, fc00::/7, fe80::/10? */
bool rebind_private(const uint8_t *addr, size_t len);

/*
 * Copy msg (a stored response) into out without its A/AAAA records of
 * private addresses (answer and additional sections), names written
 * uncompressed.  *removed: how many records were taken out (0: out holds
 * nothing useful).  STUB_EFORMAT for a malformed message, STUB_ESHORT when
 * out is too small.
 */
enum stub_err rebind_filter(const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
    size_t *outlen, unsigned *removed);

#endif
