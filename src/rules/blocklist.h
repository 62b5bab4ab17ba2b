/*
 * blocklist.h - the block and allow lists of SPEC section 18, parsed into a
 * policy table: hosts (`0.0.0.0 name`: that name only), domains (a name a
 * line: that name only), wildcard (`*.name`: the names under it only),
 * adblock (`||name^`: the name and every name under it; `@@||name^`:
 * allowed) and RPZ (`name CNAME .` NXDOMAIN, `name CNAME *.` NODATA,
 * `name CNAME rpz-passthru.` allowed; `*.name` the names under it).
 *
 * Pure: text in, decisions added to a struct policy.  A line that is not
 * understood is counted (with the number of the first one), never fatal.
 */
#ifndef STUBD_BLOCKLIST_H
#define STUBD_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "policy.h"

enum bl_format {
	BL_HOSTS = 0,
	BL_DOMAINS,
	BL_WILDCARD,
	BL_ADBLOCK,
	BL_RPZ,
	BL_FORMAT_COUNT,
};

/* What a parse found. */
struct bl_stats {
	size_t entries;         /* decisions added (duplicates included) */
	size_t unknown;         /* lines not understood */
	unsigned first_unknown; /* line number of the first of them, 0 if none */
	enum bl_format format;  /* the format it was read in */
};

/* "hosts", "domains", ... to the format; -1 when unknown. */
int blocklist_format_from_name(const char *s);
const char *blocklist_format_name(enum bl_format f);

/*
 * Parse a list's text into p: every entry a block with action (POL_ACT_DEFAULT:
 * the table's blocklist-action), or with allow set (an allowlist) an allow.
 * Decisions carry origin src and their line.  STUB_ENOMEM is the only error.
 */
enum stub_err blocklist_parse(struct policy *p, const char *text, size_t len, enum bl_format f,
    bool allow, enum pol_action action, uint32_t src, struct bl_stats *st);

#endif
