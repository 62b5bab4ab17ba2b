/*
 * mdnsmsg.h - the messages of multicast DNS one-shot queries (SPEC 19,
 * RFC 6762 section 5.1): which names are asked that way, the query sent,
 * a reply turned into the answer the pipeline serves, the NXDOMAIN of a
 * timeout.  Pure: no sockets, no clock; every byte through wire.c.
 */
#ifndef STUBD_MDNSMSG_H
#define STUBD_MDNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "msg.h"

#define MDNS_PORT 5353
#define MDNS_TTL_CAP 10 /* seconds: TTLs of mDNS answers are capped */

/* Is key (lower-cased wire form) under local., 254.169.in-addr.arpa. or
 * the fe80::/10 reverse zones? */
bool mdns_name(const uint8_t *key, size_t klen);

/* Does some adapter of c route `local` (then .local names go there by
 * unicast)? */
bool mdns_routed(const struct cfg *c);

/* Should q be asked by multicast under c (mdns yes, an mDNS name, no
 * adapter routing local)? */
bool mdns_wanted(const struct cfg *c, const uint8_t *key, size_t klen);

/* The one-shot query: ID 0, no flags, the question (lower-cased name,
 * qtype, class IN, QU clear), no OPT.  Returns the length or 0. */
size_t mdns_query(const struct msg_query *q, uint8_t *out, size_t cap);

/*
 * A reply read from the network (pkt, len) turned into a response to q:
 * QR set, opcode 0, rcode 0 required; the question section (if any) is
 * skipped; the records of the answer and additional sections whose owner
 * is q's name (case-insensitive) and whose type is q's (any for ANY; a
 * CNAME too) with class IN (the cache-flush bit masked) and a TTL above 0
 * become the answer, TTL capped at MDNS_TTL_CAP, names in their data
 * uncompressed; the result must pass msg_store_prepare.  Written to out:
 * one question (q's name as asked,
 * qtype, qclass), AA, ID 0.  Returns the length, or 0 when the reply does
 * not answer q (malformed, or nothing matching).
 */
size_t
mdns_answer(const uint8_t *pkt, size_t len, const struct msg_query *q, uint8_t *out, size_t cap);

/* NXDOMAIN for q (no answer in time): ID 0, AA, the question.  Returns the
 * length or 0. */
size_t mdns_nxdomain(const struct msg_query *q, uint8_t *out, size_t cap);

#endif
