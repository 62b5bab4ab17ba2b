/*
 * hosts.h - the hosts file: parse (pure) and answer from it.
 *
 * A struct hosts is an immutable snapshot built by hosts_parse(); stubd
 * swaps in a new one when the file changes.  It owns all its memory
 * (a few arrays and one arena), freed by hosts_free().
 *
 * Every name and alias on a line answers A or AAAA for the line's address;
 * every address answers PTR with the first name of the first line that
 * lists it.  Names are compared case-insensitively.
 */
#ifndef STUBD_HOSTS_H
#define STUBD_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"
#include "msg.h"

struct hosts;

/* Called for each bad line: line number and a message. */
typedef void (*hosts_err_cb)(void *arg, unsigned line, const char *msg);

/* Parse hosts-file text; names are hashed with stub_name_hash(seed, ...).
 * Bad lines are reported and skipped.  Returns NULL only on OOM. */
struct hosts *hosts_parse(const char *text, size_t len, uint64_t seed, hosts_err_cb err, void *arg);
void hosts_free(struct hosts *h);

/* Number of names and of addresses (PTR entries). */
size_t hosts_names(const struct hosts *h);
size_t hosts_ptrs(const struct hosts *h);

/*
 * Answer q (q->nhash = stub_name_hash(seed of hosts_parse, q->key)) from the
 * hosts data if q's name is a hosts name (A/AAAA:
 * addresses or NODATA) or a hosts address's reverse name (PTR).
 * Returns the length written to out (> 0), or 0 when the hosts file has
 * nothing to say about the question.
 */
size_t hosts_answer(const struct hosts *h, const struct msg_query *q, uint32_t ttl, size_t limit,
    uint8_t *out, size_t cap);

/* Is q's name a hosts name (whatever the type)?  SPEC 18: such a name
 * answers every type itself. */
bool hosts_has_name(const struct hosts *h, const struct msg_query *q);

/*
 * SPEC 15/18: the line of the hosts file that decides q's answer (A: the
 * first line giving the name an IPv4 address, AAAA an IPv6 one, PTR the
 * line that listed the address, any other type, or a family the name has
 * no address of: the first line naming it); 0 when none does.
 */
unsigned hosts_line(const struct hosts *h, const struct msg_query *q);
/* The name of the file the snapshot was read from (for "FILE:LINE"),
 * copied; STUB_ENOMEM on OOM.  hosts_source() gives "hosts" without one. */
enum stub_err hosts_set_source(struct hosts *h, const char *name);
const char *hosts_source(const struct hosts *h);

/* One hosts record for listing (displaydns). */
struct hosts_rec {
	const uint8_t *name; /* owner, wire form, lower-cased */
	size_t namelen;
	uint16_t type;        /* A, AAAA or PTR */
	const uint8_t *rdata; /* 4 or 16 address bytes, or the PTR target name */
	size_t rdlen;
};

/* Visit every record; stop when cb returns non-0. */
void
hosts_foreach(const struct hosts *h, int (*cb)(const struct hosts_rec *r, void *arg), void *arg);

#define HOSTS_END SIZE_MAX
/*
 * The same in parts: from unit `unit` (0 at first), at most max_units
 * units (a unit is one name with all its addresses, or one PTR), so a
 * name's A and AAAA records never straddle two calls.  Returns the unit to
 * go on from, or HOSTS_END when all were visited (or cb stopped).
 */
size_t hosts_foreach_from(const struct hosts *h, size_t unit, size_t max_units,
    int (*cb)(const struct hosts_rec *r, void *arg), void *arg);

/* A file's identity for change detection (stat polling also sees a file
 * replaced by rename). */
struct hosts_sig {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	bool exists;
};
void hosts_file_sig(const char *path, struct hosts_sig *sig);
bool hosts_sig_equal(const struct hosts_sig *a, const struct hosts_sig *b);

#endif
