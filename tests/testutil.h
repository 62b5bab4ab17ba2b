/*
 * testutil.h - helpers for integration tests: a tiny DNS client, starting
 * and stopping the real stubd, running stubctl.
 */
#ifndef STUBD_TESTUTIL_H
#define STUBD_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wire.h"

struct tq_opts {
	bool tcp;
	bool edns;
	bool do_bit;
	bool ad; /* AD set in the query (RFC 6840 5.7) */
	uint16_t edns_size;
	uint16_t id;
	int timeout_ms;
};

/* Build a query for name/type into out; returns its length. */
size_t
tu_build_query(const char *name, uint16_t type, const struct tq_opts *o, uint8_t *out, size_t cap);
/* Send raw bytes to addr:port over UDP/TCP, wait for one answer.
 * Returns its length, or -1 on timeout/error. */
long tu_exchange(const char *addr, uint16_t port, bool tcp, const uint8_t *q, size_t qlen,
    uint8_t *ans, size_t cap, int timeout_ms);
/* Query name/type; returns the answer length or -1. */
long tu_query(const char *addr, uint16_t port, const char *name, uint16_t type,
    const struct tq_opts *o, uint8_t *ans, size_t cap);
/* Header fields of an answer. */
unsigned tu_rcode(const uint8_t *a, size_t len);
unsigned tu_ancount(const uint8_t *a, size_t len);
bool tu_tc(const uint8_t *a, size_t len);
bool tu_ad(const uint8_t *a, size_t len);
uint16_t tu_id(const uint8_t *a, size_t len);
/* First answer record's data as text ("192.0.2.1"), or "" */
void tu_first_data(const uint8_t *a, size_t len, char *out, size_t outsz);
/* TTL of the first answer record, or -1 */
long tu_first_ttl(const uint8_t *a, size_t len);
bool tu_has_opt(const uint8_t *a, size_t len);

/* An upstream-style response for unit tests. */
struct tu_resp {
	uint16_t id;
	const char *name;
	uint16_t qtype;
	unsigned rcode;
	int nans; /* A/AAAA records with TTL ttl, ttl+100, ... */
	uint32_t ttl;
	bool soa; /* SOA in authority */
	uint32_t soa_ttl, soa_min;
	bool opt;
	bool tc;
	bool ad; /* AD set (authentic data) */
};
size_t tu_response(const struct tu_resp *r, uint8_t *out, size_t cap);

/* One record for tu_build_msg: owner (NULL = root), type, TTL; the data is
 * a name (target) for CNAME/NS/PTR/MX (preference 10), the SOA MINIMUM for SOA (root
 * names), nothing for OPT (class 1232), else an IPv4 address (addr, 0 =
 * 192.0.2.1). */
struct tu_rr {
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	const char *target;
	uint32_t soa_min;
	uint32_t addr;
};
/* A response (QR and flags | rcode) to qname/qtype with nan answer, nns
 * authority and nar additional records from rrs, uncompressed.  Returns
 * the length or 0. */
size_t tu_build_msg(uint16_t id, uint16_t flags, const char *qname, uint16_t qtype,
    const struct tu_rr *rrs, size_t nan, size_t nns, size_t nar, uint8_t *out, size_t cap);

/* A free TCP+UDP port on 127.0.0.1 below the ephemeral range. */
uint16_t tu_free_port(void);

struct tu_daemon {
	pid_t pid;
	uint16_t port;
	char dir[256]; /* temp dir: conf, hosts, control socket */
	char conf[300];
	char ctl[300];
	char errlog[300];
	long nofile; /* RLIMIT_NOFILE for stubd when > 0 */
};

/* Write conf text (may contain "%PORT%" ... no: the listen line is added)
 * and start "stubd -f -c conf" listening on 127.0.0.1:PORT with a control
 * socket in dir; extra args after.  Waits until it answers. Returns 0. */
int tu_start(struct tu_daemon *d, const char *conf_text, const char *const *extra);
/* SIGTERM and wait; returns the exit status (or -1). */
int tu_stop(struct tu_daemon *d);
/* Make a temporary directory (for tu_start, called by it). */
int tu_mkdir(struct tu_daemon *d);
/* A temporary base directory for this test run (STUBD_TEST_TMP), and its
 * removal with everything in it. */
int tu_tmp_begin(char *base, size_t len);
void tu_tmp_end(const char *base);
/* Write a file in d->dir; returns 0. */
int
tu_write(const struct tu_daemon *d, const char *name, const char *text, char *path, size_t pathsz);

/* Run a program, capture stdout (and stderr into err if non-NULL).
 * Returns the exit status, or -1. */
int
tu_run(const char *const *argv, char *out, size_t outsz, char *err, size_t errsz, int timeout_ms);
/* Run stubctl -s d->ctl ARGS...; returns the exit status. */
int tu_stubctl(const struct tu_daemon *d, const char *const *args, char *out, size_t outsz,
    char *err, size_t errsz);

/* printf into a static buffer (valid until the next call): config text. */
const char *tu_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

double tu_now_ms(void);
void tu_sleep_ms(unsigned ms);

/* A query as DNS over TCP frames it (two length bytes first); its size, or
 * 0 when it does not fit. */
size_t
tu_tcp_query(const char *name, uint16_t type, const struct tq_opts *o, uint8_t *out, size_t cap);
/* A TCP connection to 127.0.0.1:port, or -1. */
int tu_tcp_connect(uint16_t port);
/* Read length-prefixed DNS messages from the TCP socket fd until want have
 * come or timeout_ms has passed; each (may be NULL) sees every message, its
 * index counting from 0.  Returns how many came. */
size_t tu_tcp_answers(int fd, size_t want, unsigned timeout_ms,
    void (*each)(const uint8_t *msg, size_t len, size_t i, void *arg), void *arg);

/* A connection to d's control socket, or -1. */
int tu_ctl_connect(const struct tu_daemon *d);

/* A file of the source tree ($TOP_SRCDIR/rel), NUL-terminated; caller
 * frees.  NULL (and a message on stderr) when it cannot be read. */
char *tu_srcfile(const char *rel);
/* Does text hold a line that starts with prefix followed by a blank, a
 * newline or the end? */
bool tu_has_line(const char *text, const char *prefix);

/* A number from a flat JSON object text: "\"key\": 12" -> 12, or -1. */
long tu_json_num(const char *json, const char *key);

#endif
