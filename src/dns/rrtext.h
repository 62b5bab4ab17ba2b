/*
 * rrtext.h - decode the records of a stored DNS message for display
 * (displaydns): section, owner, type, TTL and presentation-format data
 * (A, AAAA, CNAME, NS, PTR, MX, SOA, SRV, TXT; RFC 3597 "\# len hex" for
 * the rest).  Pure; reads through wire.c.
 */
#ifndef STUBD_RRTEXT_H
#define STUBD_RRTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "wire.h"

#define RRTEXT_DATA_MAX 8192

struct rrtext {
	int section; /* 0 answer, 1 authority, 2 additional */
	char name[WIRE_NAME_TEXT];
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	char data[RRTEXT_DATA_MAX];
};

/* Format the RDATA of one record at rd_off/rdlen of msg into out.
 * STUB_EINVAL when the RDATA lies outside msg or outsz is 0; STUB_ESHORT
 * when the text does not fit. */
enum stub_err rrtext_rdata(const uint8_t *msg, size_t len, uint16_t type, size_t rd_off,
    uint16_t rdlen, char *out, size_t outsz);

/*
 * Visit every record of msg (answer, authority, additional; OPT skipped),
 * with TTLs lowered by age.  cb returns non-0 to stop.  STUB_OK;
 * STUB_EFORMAT if the message is malformed (records before the fault were
 * visited); STUB_ENOMEM.
 */
enum stub_err rrtext_foreach(const uint8_t *msg, size_t len, uint32_t age,
    int (*cb)(const struct rrtext *rr, void *arg), void *arg);

const char *rrtext_section(int section);

#endif
