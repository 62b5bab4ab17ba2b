/*
 * msg.h - DNS message policy on top of wire.c: client query validation
 * (SPEC section 7), error answers, the query sent upstream, the stored form
 * of upstream responses and the copies served to clients (ID, 0x20
 * spelling, RA, TTL decrement, OPT, TC truncation).
 *
 * Pure: no sockets, no clock.  Every function writes into buffers the
 * caller owns.
 */
#ifndef STUBD_MSG_H
#define STUBD_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "wire.h"

#define MSG_EDNS_SIZE 1232     /* our advertised / maximum UDP size */
#define MSG_UPSTREAM_EDNS 1232 /* advertised to upstream servers */
#define MSG_MAX 65535
#define MSG_MAX_TTLS 1024 /* TTL offsets kept per stored response */
#define MSG_OPT_LEN 11
#define MSG_EDNS_PADDING 12 /* EDNS option code, RFC 7830 */
#define MSG_PAD_BLOCK 128   /* queries over TLS/HTTPS, RFC 8467 */

/* A validated client question. */
struct msg_query {
	uint16_t id;
	uint16_t flags;
	uint16_t qtype, qclass;
	uint8_t qname[WIRE_NAME_MAX]; /* as the client spelled it */
	uint8_t key[WIRE_NAME_MAX];   /* lower-cased */
	size_t qlen;
	bool edns;
	bool do_bit;
	bool cd_bit;       /* checking disabled: part of the key */
	uint16_t udp_size; /* client's limit (512 without EDNS) */
	uint64_t nhash;    /* of key (stub_name_hash); set by caller */
	uint64_t hash;     /* of key, qtype, qclass, DO, CD; set by caller */
};

enum msg_verdict {
	MSG_OK = 0,
	MSG_DROP, /* under 12 bytes or a response: say nothing */
	MSG_FORMERR,
	MSG_NOTIMP,
	MSG_BADVERS, /* EDNS version above 0 */
};

/*
 * Validate a client query.  On MSG_OK, q is complete.  On FORMERR, NOTIMP
 * and BADVERS, q->id/flags are set, q->qlen is non-zero iff the question
 * could be read (so msg_error() can echo it), and q->edns is set when a
 * valid OPT record could be found, also with QDCOUNT other than 1 (an
 * error answer then carries OPT, RFC 6891).
 */
enum msg_verdict msg_parse_query(const uint8_t *buf, size_t len, struct msg_query *q);

/*
 * An answer with no records: rcode (FORMERR, NOTIMP, REFUSED, SERVFAIL,
 * NXDOMAIN...), the question if known, OPT iff the client sent one.
 * Returns the length written, 0 if it did not fit.
 */
size_t msg_error(const struct msg_query *q, unsigned rcode, uint8_t *out, size_t cap);
/* msg_error with an Extended DNS Error (RFC 8914: OPT option 15, the
 * INFO-CODE, no text) when q had OPT; without OPT as msg_error. */
size_t msg_error_ede(const struct msg_query *q, unsigned rcode, uint16_t info_code, uint8_t *out,
    size_t cap);

/* The query stubd sends upstream: id, RD, client's CD, the question with
 * name qname (as given), OPT (MSG_UPSTREAM_EDNS, the client's DO) iff edns
 * (the upstream engine always sets it).  Returns length or 0. */
size_t msg_upstream_query(const struct msg_query *q, uint16_t id, const uint8_t *qname, bool edns,
    uint8_t *out, size_t cap);

/* What msg_store_prepare() learnt about an upstream response. */
struct msg_resp {
	unsigned rcode;
	uint16_t flags;
	uint16_t ancount;
	bool tc;
	bool positive;   /* NOERROR with an answer reaching the qtype */
	bool negative;   /* NXDOMAIN, or NOERROR with no answer or only a
				 * CNAME chain (NODATA), not a referral */
	bool referral;   /* NOERROR, no answer, NS and no SOA in authority:
				 * neither positive nor negative (no answer) */
	bool case_exact; /* the question echoed byte for byte (0x20) */
	bool has_ttl;    /* min_answer_ttl valid */
	uint32_t min_answer_ttl;
	bool has_soa;
	uint32_t soa_ttl, soa_minimum;
	size_t len; /* length after OPT removal */
	size_t nttl;
	uint16_t ttl_off[MSG_MAX_TTLS];
	uint8_t ttl_sect[MSG_MAX_TTLS]; /* 0 answer, 1 authority, 2 additional */
};

/*
 * Check an upstream response against what was sent (ID, QR, opcode, one
 * question equal to sent_qname ignoring case -- r->case_exact says whether
 * the case was echoed too --, type and class), walk every record, remove the
 * OPT record in place (the records after it move up and are kept), and
 * record the offset of every TTL.  An answer section that is only a CNAME
 * chain not reaching qtype is negative (NODATA, or NXDOMAIN); a referral
 * is neither positive nor negative.
 * STUB_EFORMAT when the response is malformed or does not match
 * (STUB_EINVAL: no r).
 */
enum stub_err msg_store_prepare(uint8_t *buf, size_t len, uint16_t id, const uint8_t *sent_qname,
    size_t sent_qlen, uint16_t qtype, uint16_t qclass, struct msg_resp *r);

/*
 * Serve a copy of a stored response (no OPT) to a client:
 * client's ID, RD, CD and question spelling, RA set, AA clear, AD kept only when the
 * client set AD or DO, every TTL at ttl_off[]
 * lowered by age (floor 0), or set to fixed_ttl when fixed_ttl >= 0; OPT
 * appended iff the client sent one; if the result exceeds limit, a TC
 * answer with the question only.  Returns the length or 0.
 */
size_t
msg_serve(const uint8_t *stored, size_t len, const uint16_t *ttl_off, size_t nttl, uint32_t age,
    long fixed_ttl, const struct msg_query *q, size_t limit, uint8_t *out, size_t cap);

/*
 * Pad a query built by msg_upstream_query (RFC 7830, RFC 8467): add an
 * OPT record if it has none and a Padding option so the length is a
 * multiple of block.  Returns the new length, or 0 if the message is not
 * such a query or it does not fit cap.
 */
size_t msg_pad_query(uint8_t *buf, size_t len, size_t cap, size_t block);

/* Clear AD in a response from a server not trusted for it (SPEC 12): the
 * stored form then says by itself whether the entry may carry AD.  True
 * when AD was set. */
bool msg_distrust_ad(uint8_t *buf, size_t len);

/* The size limit for a client's answer over UDP (TCP: MSG_MAX). */
size_t msg_udp_limit(const struct msg_query *q);

/* Rewrite TTLs in place: every TTL clamped into [lo, hi]. */
void msg_clamp_ttls(uint8_t *buf, size_t len, const uint16_t *ttl_off, size_t nttl, uint32_t lo,
    uint32_t hi);

/* One synthesised record (hosts answers). */
struct msg_rr {
	uint16_t type;
	const uint8_t *rdata;
	uint16_t rdlen;
};

/* A NOERROR answer with records owned by the question name (AA clear:
 * stubd is no authority).  n may be 0 (NODATA).  Applies OPT and
 * truncation like msg_serve(). */
size_t msg_synth(const struct msg_query *q, const struct msg_rr *rrs, size_t n, uint32_t ttl,
    size_t limit, uint8_t *out, size_t cap);

/* Extended DNS Errors (RFC 8914): the option and the codes stubd sends. */
#define MSG_EDE_OPTION 15
#define MSG_EDE_STALE 3
#define MSG_EDE_BLOCKED 15
#define MSG_EDE_FILTERED 17
#define MSG_EDE_PROHIBITED 18
#define MSG_EDE_KEEP 512 /* bytes of upstream EDE options kept per answer */

/* msg_synth() with an rcode (NOERROR, NXDOMAIN) and, when the client sent
 * EDNS and ede >= 0, an EDE option with that info-code. */
size_t msg_synth_ede(const struct msg_query *q, unsigned rcode, const struct msg_rr *rrs, size_t n,
    uint32_t ttl, int ede, size_t limit, uint8_t *out, size_t cap);

/* Add an EDE option with info-code code to the OPT record stubd put last in
 * the answer buf[len] (msg_error, msg_serve, msg_synth); nothing when there
 * is no such OPT or it would not fit cap or limit.  Returns the new length. */
size_t msg_append_ede(uint8_t *buf, size_t len, size_t cap, size_t limit, unsigned code);

#endif
