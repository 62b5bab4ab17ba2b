/*
 * vlresolve.h - varlink io.systemd.Resolve without sockets (SPEC 16):
 * a call in, either a finished reply or the DNS questions to ask through
 * the query pipeline; then those answers (as a client would get them) in,
 * resolved's reply or error out.  Also org.varlink.service (GetInfo,
 * GetInterfaceDescription).  Pure; the varlink server (vlserver.c) does
 * the I/O.
 */
#ifndef STUBD_VLRESOLVE_H
#define STUBD_VLRESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolve.h"
#include "search.h"
#include "varlink.h"
#include "wire.h"

#define VLR_MAXQ 2 /* ResolveHostname with family 0: A and AAAA */

/* resolved's flags (sd-resolve), input and output */
#define VLR_F_DNS (UINT64_C(1) << 0)
#define VLR_F_AUTHENTICATED (UINT64_C(1) << 9)
#define VLR_F_CONFIDENTIAL (UINT64_C(1) << 18)
#define VLR_F_SYNTHETIC (UINT64_C(1) << 19)
#define VLR_F_FROM_CACHE (UINT64_C(1) << 20)
#define VLR_F_FROM_NETWORK (UINT64_C(1) << 23)

enum vlr_kind { VLR_HOSTNAME, VLR_ADDRESS, VLR_RECORD };

/* What a call asks of the pipeline. */
struct vlr_req {
	enum vlr_kind kind;
	int family;
	int ifindex;
	uint64_t flags;
	uint8_t qname[WIRE_NAME_MAX];
	size_t qlen;
	uint16_t qclass;
	uint16_t qtype[VLR_MAXQ];
	size_t nq;
};

/* What became of one question of a request. */
struct vlr_ans {
	const uint8_t *msg; /* the answer as a client gets it; NULL = dropped */
	size_t len;
	enum answer_source source;
	bool traced;      /* the facts below are known */
	bool replied;     /* some server replied (any rcode) */
	bool encrypted;   /* every packet sent was encrypted */
	unsigned ifindex; /* the interface the answer belongs to (reply_info), 0 = none */
};

enum vlr_verdict {
	VLR_REPLY, /* *out holds the reply (NULL: out of memory) */
	VLR_QUERY, /* ask req's questions, then vlr_answer */
};

/* One call of io.systemd.Resolve or org.varlink.service.  version is
 * what GetInfo tells. */
enum vlr_verdict vlr_call(const struct vl_call *c, const char *version, struct vlr_req *req,
    char **out, size_t *outlen);

/* Question i of req as a DNS query with this id (RD, AD, EDNS): its length,
 * 0 if it does not fit. */
size_t vlr_query_packet(const struct vlr_req *req, size_t i, uint16_t id, uint8_t *out, size_t cap);

/* What a search's packets tell: did a server reply, was all encrypted. */
void vlr_ans_trace(struct vlr_ans *a, const struct up_trace *t);

/* The reply or error for req given its answers a[0..req->nq-1];
 * no_servers: no upstream server is configured.  NULL: out of memory. */
char *vlr_answer(const struct vlr_req *req, const struct vlr_ans *a, bool no_servers, size_t *len);

/* io.systemd.Resolve.Monitor: an answer (a DNS message as a client got
 * it) as one SubscribeQueryResults reply ("continues"): state, rcode,
 * question, answer records (key and raw).  NULL when it cannot be read. */
char *vlr_monitor_event(const uint8_t *msg, size_t len, size_t *outlen);

/* io.systemd.Resolve.Monitor.DumpCache: one cached answer as resolved's
 * CacheEntry: its key; "rrs", each answer record ("rr" and "raw"), [] for
 * NODATA, or "type": "NXDOMAIN"; "until", its expiry in microseconds on
 * the cache's clock. */
void vlr_cache_entry(struct json *j, const struct cache_info *ci);

/* io.systemd.Resolve.Monitor.DumpServerState: one server as resolved's
 * ServerState, from what `stubctl servers` shows of it. */
struct vlr_server {
	const char *server; /* "192.0.2.1", "192.0.2.1:5353", "[fe80::1]:853#dns.example" */
	const char *type;   /* "system" (configured) or "link" (learned for a link) */
	const char *ifname; /* its adapter's device, NULL or "" = none */
	unsigned ifindex;   /* that device's index, 0 = none */
	bool encrypted;     /* tls, https */
	bool answered;      /* it answered since the configuration was applied */
	uint64_t timeouts;
};
void vlr_server_state(struct json *j, const struct vlr_server *s);

#endif
