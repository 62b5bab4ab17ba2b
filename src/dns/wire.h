/*
 * wire.h - the one bounds-checked reader and writer for DNS messages.
 *
 * Every byte stubd reads from or writes to a DNS message goes through this
 * module.  The reader keeps a sticky error: after the first failure every
 * further read returns 0 and leaves the cursor where it was, so a run of
 * reads needs one check at the end (wire_rd.err).
 *
 * Names: compression pointers must point strictly backwards from the
 * position where the name (or the previous pointer) started and never into
 * the 12-byte header (buffers start at the message); labels are at
 * most 63 bytes and names at most 255 bytes in wire form; at most 127 labels
 * and 127 pointer jumps (RFC 9267).  Extended label types are rejected.
 */
#ifndef STUBD_WIRE_H
#define STUBD_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "err.h"

#define WIRE_NAME_MAX 255   /* wire form, including the root label */
#define WIRE_NAME_TEXT 1024 /* enough for a fully escaped name as text */
#define WIRE_HDR_LEN 12

/* header flag bits (second 16-bit word) */
#define WIRE_QR 0x8000
#define WIRE_AA 0x0400
#define WIRE_TC 0x0200
#define WIRE_RD 0x0100
#define WIRE_RA 0x0080
#define WIRE_AD 0x0020
#define WIRE_CD 0x0010
#define WIRE_OPCODE(f) (((f) >> 11) & 0xf)
#define WIRE_RCODE(f) ((f)&0xf)

enum {
	RCODE_NOERROR = 0,
	RCODE_FORMERR = 1,
	RCODE_SERVFAIL = 2,
	RCODE_NXDOMAIN = 3,
	RCODE_NOTIMP = 4,
	RCODE_REFUSED = 5,
};

enum {
	TYPE_A = 1,
	TYPE_NS = 2,
	TYPE_CNAME = 5,
	TYPE_SOA = 6,
	TYPE_PTR = 12,
	TYPE_MX = 15,
	TYPE_TXT = 16,
	TYPE_AAAA = 28,
	TYPE_SRV = 33,
	TYPE_OPT = 41,
	TYPE_ANY = 255,
	CLASS_IN = 1,
};

/* Reading cursor.  Public so it can live on the stack. */
struct wire_rd {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	enum stub_err err; /* sticky: STUB_OK or the first failure */
};

struct wire_hdr {
	uint16_t id, flags, qdcount, ancount, nscount, arcount;
};

/* One resource record as found by wire_rr(). */
struct wire_rr {
	size_t name_off; /* offset of the owner name in the message */
	uint16_t type, rclass;
	uint32_t ttl;
	size_t ttl_off; /* offset of the 32-bit TTL field */
	size_t rd_off;  /* offset of RDATA */
	uint16_t rdlen;
};

void wire_rd_init(struct wire_rd *r, const uint8_t *buf, size_t len);
uint8_t wire_u8(struct wire_rd *r);
uint16_t wire_u16(struct wire_rd *r);
uint32_t wire_u32(struct wire_rd *r);
/* Pointer to the next n bytes, or NULL (and err set) if fewer remain. */
const uint8_t *wire_bytes(struct wire_rd *r, size_t n);
void wire_skip(struct wire_rd *r, size_t n);
/* Seek to an absolute position inside the message. */
void wire_seek(struct wire_rd *r, size_t pos);
size_t wire_left(const struct wire_rd *r);

/*
 * Read a possibly compressed name at the cursor into out (uncompressed wire
 * form, at most WIRE_NAME_MAX bytes; out may be NULL to only validate).
 * The cursor moves past the name as stored at the cursor.
 * Returns the wire length of the name (>= 1), or 0 with r->err set.
 */
size_t wire_name(struct wire_rd *r, uint8_t *out);

/* Read a 12-byte header. STUB_OK, or the reader's (sticky) err. */
enum stub_err wire_hdr(struct wire_rd *r, struct wire_hdr *h);

/* Read one RR (owner name, fixed fields) and skip its RDATA; as wire_hdr. */
enum stub_err wire_rr(struct wire_rd *r, struct wire_rr *rr);

/* Writing cursor: writes never run past cap; err is sticky. */
struct wire_wr {
	uint8_t *buf;
	size_t cap;
	size_t len;
	enum stub_err err; /* sticky, as the reader's */
};

void wire_wr_init(struct wire_wr *w, uint8_t *buf, size_t cap);
void wire_put_u8(struct wire_wr *w, uint8_t v);
void wire_put_u16(struct wire_wr *w, uint16_t v);
void wire_put_u32(struct wire_wr *w, uint32_t v);
void wire_put_bytes(struct wire_wr *w, const void *p, size_t n);
/* Write an uncompressed wire-form name. */
void wire_put_name(struct wire_wr *w, const uint8_t *name, size_t namelen);
void wire_put_hdr(struct wire_wr *w, const struct wire_hdr *h);

/* Fixed-position 16/32-bit accessors for rewriting a message in place.
 * Return false if off+width exceeds len. */
bool wire_get16_at(const uint8_t *buf, size_t len, size_t off, uint16_t *v);
bool wire_set16_at(uint8_t *buf, size_t len, size_t off, uint16_t v);
bool wire_get32_at(const uint8_t *buf, size_t len, size_t off, uint32_t *v);
bool wire_set32_at(uint8_t *buf, size_t len, size_t off, uint32_t v);

/* --- names in uncompressed wire form (as produced by wire_name) --- */

/* Lower-case ASCII letters of a wire name in place. */
void wire_name_lower(uint8_t *name, size_t len);
/* Case-insensitive equality of two wire names. */
bool wire_name_eq_ci(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* Is name equal to or under domain (both wire form, case-insensitive)? */
bool wire_name_under(const uint8_t *name, size_t len, const uint8_t *dom, size_t domlen);
/* Count labels (root = 0). */
unsigned wire_name_labels(const uint8_t *name, size_t len);

/*
 * Text form without the trailing dot ("www.example.com", root = ".").
 * Bytes outside [!-~] and '.' and '\\' inside labels are escaped as \DDD or \c.
 * Returns the text length, or 0 if it does not fit.
 */
size_t wire_name_to_text(const uint8_t *name, size_t len, char *out, size_t outsz);
/* Parse a text name ("a.b", "a.b.", "." ; \DDD and \c escapes) to wire form.
 * Returns the wire length or 0 if invalid. */
size_t wire_name_from_text(const char *text, uint8_t out[WIRE_NAME_MAX]);
/*
 * A host name as lists and files write it: letters, digits, '-' and '_'
 * in labels of 1..63 bytes, dots between them, an optional trailing dot;
 * no escapes (a '\\' is no host name), no root alone.  Its wire form,
 * lower-cased, in out, in one pass (the hot loop of big lists).  *alpha
 * (may be NULL) is set when a byte is no digit.  Returns the wire length
 * (at most WIRE_NAME_MAX), or 0 when it is no such name.
 */
size_t wire_name_from_text_lc(const char *text, uint8_t out[WIRE_NAME_MAX], bool *alpha);

/* Type names: "A", "AAAA", ..., "TYPE123" for others. */
const char *wire_type_name(uint16_t type, char buf[16]);
/* Parse "A", "aaaa", "TYPE99"; returns 0 if unknown. */
uint16_t wire_type_from_name(const char *s);
const char *wire_rcode_name(unsigned rcode, char buf[16]);

#endif
