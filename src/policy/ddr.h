/*
 * ddr.h - Discovery of Designated Resolvers (RFC 9462), the part that
 * needs no network: reading a clear-text server's answer to
 * `_dns.resolver.arpa. SVCB` and choosing its designated resolver, with
 * the rejections of SPEC 17 decided here (TargetName ".", an unknown
 * mandatory key, no supported ALPN, a malformed record).  The certificate
 * checks (TargetName and the clear-text server's IP as iPAddress SAN)
 * happen when the connection is made.
 *
 * Pure: no sockets, no clock, no allocation.
 */
#ifndef STUBD_DDR_H
#define STUBD_DDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "encryption.h"

enum ddr_verdict {
	DDR_FOUND,     /* *out names the designated resolver */
	DDR_NONE,      /* no SVCB record (NODATA, NXDOMAIN, an error) */
	DDR_REJECTED,  /* records, none usable: why says the first reason */
	DDR_MALFORMED, /* not a response to the probe */
};

struct ddr_result {
	struct cfg_template t; /* addr (port set), transport, port, name, path */
	uint16_t priority;
	uint32_t ttl; /* of the record chosen: re-probe after it */
	char why[128];
};

/*
 * Read msg[0..len), the answer to `_dns.resolver.arpa. SVCB` asked of the
 * clear-text server at clear.  The lowest-priority ServiceMode record
 * offering `dot` (DoT, port 853 unless given) or `h2` (DoH with its
 * dohpath, port 443 unless given) wins; dot is preferred within a record.
 * Its address: the first hint of clear's family, else clear's own.
 */
enum ddr_verdict ddr_read_answer(const uint8_t *msg, size_t len, const struct sockaddr *clear,
    struct ddr_result *out);

/* Build the probe `_dns.resolver.arpa. SVCB` (RD set, ID id) into
 * out[0..cap): its length, 0 when it does not fit. */
size_t ddr_probe_query(uint16_t id, uint8_t *out, size_t cap);

/*
 * What was discovered per clear-text server (adapter name + address and
 * port), kept by the engine's layer across engines (reload, network
 * change) and handed to the configuration as runtime twins
 * (encryption.h's struct enc_twin).  Decisions only: the probe and the
 * TLS handshake that verifies are the engine's (upstream.c).
 */
#define DDR_MAX_ENTRIES 256
#define DDR_PROBE_WAIT_MS 5000ULL  /* a probe or handshake not done by then: given up */
#define DDR_RETRY_MS 3600000ULL    /* no resolver or rejected: probe again after (1 h) */
#define DDR_LOST_RETRY_MS 60000ULL /* no answer to the probe: probe again after */
#define DDR_MIN_TTL_MS 60000ULL    /* an SVCB TTL below is taken as this */
#define DDR_MAX_TTL_MS 86400000ULL /* and above as this (1 day) */

enum ddr_state {
	DS_NEW = 0,   /* never probed (or a network change since) */
	DS_PROBING,   /* the probe is out */
	DS_VERIFYING, /* a designated resolver is being verified (TLS handshake) */
	DS_UP,        /* a twin is in use (installed) */
	DS_NONE,      /* no designated resolver, or no answer */
	DS_REJECTED,  /* one was offered and rejected (why) */
};

struct ddr_entry {
	char adapter[CFG_NAME_MAX];
	struct cfg_sockaddr clear;
	enum ddr_state st;
	uint64_t until; /* UP/NONE/REJECTED: probe again at; PROBING/VERIFYING: give up at */
	struct ddr_result cand; /* VERIFYING: the candidate */
	bool installed;         /* twin below is a runtime twin now */
	struct enc_twin twin;
	uint64_t probes, rejections;
	char why[128]; /* the last rejection */
};

struct ddr_table {
	struct ddr_entry *v;
	size_t n;
};

void ddr_table_init(struct ddr_table *t);
void ddr_table_free(struct ddr_table *t);

/* The entry of that server; created (DS_NEW) when create and there is room
 * (NULL otherwise). */
struct ddr_entry *ddr_entry_get(struct ddr_table *t, const char *adapter,
    const struct cfg_sockaddr *clear, bool create);

/* Should a probe go out now (never probed, its time came, or a probe or
 * verification given up)? */
bool ddr_probe_due(const struct ddr_entry *e, uint64_t now);
/* The probe went out. */
void ddr_probe_sent(struct ddr_entry *e, uint64_t now);
/* Is discovery under way (probe or verification out)? */
bool ddr_pending(const struct ddr_entry *e, uint64_t now);

enum ddr_next {
	DDR_NEXT_NOTHING, /* nothing changed in the runtime twins */
	DDR_NEXT_VERIFY,  /* make the TLS handshake to e->cand (its certificate checked) */
	DDR_NEXT_CHANGED, /* the runtime twins changed: rebuild */
};

/* The probe's answer (msg NULL: none came): judged with ddr_read_answer.
 * *rejected set when a record was rejected (logged, counted). */
enum ddr_next
ddr_on_probe(struct ddr_entry *e, const uint8_t *msg, size_t len, uint64_t now, bool *rejected);

/*
 * The handshake to the candidate: ok (its certificate valid for the
 * TargetName and listing the clear-text server's IP), or why not.  Under
 * `opportunistic` (pol) a candidate that failed verification but has the
 * clear-text server's own address, a private one (RFC 9462 4.3), is taken
 * unverified.  *rejected set when rejected (why in e->why).
 */
enum ddr_next ddr_on_verify(struct ddr_entry *e, bool ok, const char *why, enum cfg_encryption pol,
    uint64_t now, bool *rejected);

/* A network change: every server is probed again on its next query;
 * unverified twins are dropped at once (true when one was). */
bool ddr_netchange(struct ddr_table *t);

/* The runtime twins now (entries with one installed) into out[0..max):
 * how many. */
size_t ddr_twins(const struct ddr_table *t, struct enc_twin *out, size_t max);

#endif
