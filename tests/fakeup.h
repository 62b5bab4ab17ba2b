/*
 * fakeup.h - an in-tree fake upstream DNS server for tests.
 *
 * Binds UDP and TCP on ADDR, port 0 (the same port for both), runs in its
 * own thread and answers from a table: a name with records of the asked
 * type gets them; a known name without that type gets NODATA with an SOA;
 * an unknown name gets NXDOMAIN with an SOA.  A mode overrides that
 * (drop, SERVFAIL, REFUSED, FORMERR, truncate over UDP, a mismatched
 * question, a wrong ID), and every answer can be delayed.  Every query is
 * logged with its arrival time, peer and question.
 */
#ifndef STUBD_FAKEUP_H
#define STUBD_FAKEUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

enum fake_mode {
	FAKE_ANSWER = 0,
	FAKE_DROP,
	FAKE_SERVFAIL,
	FAKE_REFUSED,
	FAKE_FORMERR,
	FAKE_NXDOMAIN,  /* every name: NXDOMAIN + SOA */
	FAKE_NODATA,    /* every name: NOERROR, no answer, SOA */
	FAKE_TRUNCATE,  /* UDP: TC=1 and no records; TCP: the real answer */
	FAKE_MISMATCH,  /* answer for another question */
	FAKE_WRONGID,   /* answer with ID + 1 */
	FAKE_LOWERCASE, /* answer with the question lower-cased (no 0x20 echo) */
	FAKE_CLOSE,     /* TCP/TLS: close the connection instead of answering */
};

struct fake_rec {
	double t_ms;   /* CLOCK_MONOTONIC ms */
	char peer[64]; /* "127.0.0.21" */
	uint16_t peer_port;
	uint16_t id; /* query ID */
	char name[256];
	uint16_t qtype;
	bool tcp;
	bool edns;
	bool do_bit;
	bool tls;           /* came over TLS (DoT or DoH) */
	bool padded;        /* carried an EDNS Padding option */
	uint16_t edns_size; /* the UDP size its OPT advertised (0: none) */
	size_t qlen;        /* query length on the wire */
};

struct fakeup;

/* Start on addr ("127.0.0.31", "::1"). NULL on failure. */
struct fakeup *fakeup_start(const char *addr);
/* Start on a given port (a restart on the port of a stopped one). */
struct fakeup *fakeup_start_port(const char *addr, uint16_t port);
void fakeup_stop(struct fakeup *f);
uint16_t fakeup_port(const struct fakeup *f);
const char *fakeup_addr(const struct fakeup *f);
/* "127.0.0.31:PORT" or "[::1]:PORT" */
const char *fakeup_hostport(const struct fakeup *f);

void fakeup_set_mode(struct fakeup *f, enum fake_mode m);
void fakeup_set_delay(struct fakeup *f, unsigned ms);
/* Answer A for every name not in the table (192.0.2.x from a hash of the
 * name), TTL ttl; 0 turns it off. */
void fakeup_set_wildcard(struct fakeup *f, uint32_t ttl);
/* Drop this percentage of queries at random (after logging them). */
/* Any TXT question (no record of its own) gets one TXT record of `bytes`
 * bytes of text (at most 64000; over TCP when it does not fit UDP). */
void fakeup_set_wildcard_txt(struct fakeup *f, size_t bytes, uint32_t ttl);
void fakeup_set_loss(struct fakeup *f, unsigned percent);
/* Per-name override of the mode ("slow.example" -> delay etc.). */
void fakeup_name_mode(struct fakeup *f, const char *name, enum fake_mode m, unsigned delay_ms);
/* SOA TTL and MINIMUM used in negative answers (default 300, 300). */
void fakeup_set_soa(struct fakeup *f, uint32_t ttl, uint32_t minimum);

/*
 * Add a record.  type: A AAAA CNAME NS PTR MX TXT SRV.  data in
 * presentation form ("192.0.2.1", "10 mail.example.com", "0 5 5060
 * sip.example.com", "some text"); for TXT "@N" makes N bytes of text.
 * Returns 0 or -1.
 */
int
fakeup_add(struct fakeup *f, const char *name, const char *type, uint32_t ttl, const char *data);

/* Set AD in every answer (a validating server). */
void fakeup_set_ad(struct fakeup *f, bool ad);

/*
 * Encrypted service on the TCP port: DNS over TLS, or with h2 DNS over
 * HTTPS (HTTP/2, POST of application/dns-message at /dns-query; other
 * paths get 404) with certificate and key files (PEM).  UDP stays
 * clear.  Call before any query.  Returns 0 or -1.
 */
int fakeup_tls(struct fakeup *f, const char *cert, const char *key, bool h2);
/* Stall TLS handshakes: accept TCP connections and never answer them. */
void fakeup_tls_stall(struct fakeup *f, bool stall);
/* Faults of the encrypted service (additive to the modes above). */
enum fake_tls_fault {
	FAKE_TLS_OK = 0,
	FAKE_TLS_SILENT,  /* handshake done, queries read and logged, never answered */
	FAKE_TLS_GARBAGE, /* DoT: a 5-byte frame of junk instead of the answer */
	FAKE_TLS_GOAWAY,  /* DoH: the connection's first stream is answered; the
	                       * next one gets GOAWAY (last stream ID: the one before),
	                       * no answer; later ones are answered */
	FAKE_TLS_RST,     /* DoH: RST_STREAM (INTERNAL_ERROR) instead of the answer */
	FAKE_TLS_HTTP404, /* DoH: :status 404, no body */
	FAKE_TLS_HTTP500, /* DoH: :status 500, no body */
	FAKE_TLS_CTYPE,   /* DoH: the answer as content-type text/html */
	FAKE_TLS_RESET,   /* the connection is closed (RST) instead of the answer */
};
/* Apply fault to the next `conns` connections accepted (0: every one
 * from now on); FAKE_TLS_OK ends it. */
void fakeup_tls_fault(struct fakeup *f, enum fake_tls_fault fault, unsigned conns);
/* TLS handshakes completed, and how many of them resumed a session. */
void fakeup_tls_counts(struct fakeup *f, unsigned *handshakes, unsigned *resumed);
/* Close every client connection now (a server restart, an idle timeout). */
void fakeup_close_conns(struct fakeup *f);

/*
 * A self-signed certificate (EC P-256) for name (CN and DNS SAN), valid
 * for a day, written as PEM to cert and key.  pin (if not NULL, 45 bytes)
 * gets the base64 SHA-256 of its SubjectPublicKeyInfo.  Returns 0 or -1.
 */
int fakeup_make_cert(const char *name, const char *cert, const char *key, char *pin);

size_t fakeup_count(struct fakeup *f);
/* Copy up to max log records; returns how many exist. */
size_t fakeup_log(struct fakeup *f, struct fake_rec *out, size_t max);
void fakeup_clear_log(struct fakeup *f);

#endif
