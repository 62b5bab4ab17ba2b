/*
 * policy.h - the local policy table of SPEC section 18: `rule` lines and
 * the names of blocklists and allowlists in one table, matched on the
 * longest suffix.
 *
 * Pure: no sockets, no clock, no files.  A struct policy is built with
 * policy_add*() and then only read (policy_lookup); stubd swaps a new one
 * in whole.  It owns all its memory: one open-addressing hash of names
 * (each name once, whatever the number of rules on it), an arena of names,
 * an array of decisions chained per name, the `rule` lines' extra data and
 * the names of the sources (files).  About 50 bytes per listed name.
 *
 * Matching: a name is looked up, then each of its parent names up to (not
 * including) the root.  A decision of scope EXACT applies to its name
 * only, SUFFIX to its name and every name under it, SUBS only to the names
 * under it (`*.name`).  For the verdict (block, allow, answer) the longest
 * matching name decides; there an EXACT decision beats a SUFFIX one, an
 * allow beats local data, which beats a block.  Adapter and require rules
 * are found the same way, each kind on its own longest match.
 */
#ifndef STUBD_POLICY_H
#define STUBD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "msg.h"

struct policy;

enum pol_scope {
	POL_EXACT = 0,  /* the name only */
	POL_SUFFIX = 1, /* the name and every name under it */
	POL_SUBS = 2,   /* only the names under it (*.name) */
};

enum pol_kind {
	POL_NONE = 0,
	POL_BLOCK,
	POL_ALLOW,
	POL_ANSWER,      /* local data (rule NAME answer TYPE DATA) */
	POL_ADAPTER,     /* rule NAME adapter A */
	POL_REQUIRE_ENC, /* rule NAME require encryption */
	POL_REQUIRE_AD,  /* rule NAME require ad */
};

enum pol_action {
	POL_ACT_DEFAULT = 0, /* the table's default (blocklist-action) */
	POL_ACT_NXDOMAIN,
	POL_ACT_NODATA,
	POL_ACT_NULL, /* 0.0.0.0 / :: for A/AAAA, NODATA for others */
};

#define POL_MAX_ANSWERS 16 /* records of one type answered per name */
#define POL_MAX_ADAPTERS 16

/* Where a decision came from: a source (file name) and a line. */
struct pol_origin {
	uint32_t src; /* index given by policy_source() */
	uint32_t line;
};

/* What the table says about a name. */
struct pol_match {
	enum pol_kind verdict;    /* POL_NONE, POL_BLOCK, POL_ALLOW or POL_ANSWER */
	enum pol_action action;   /* for POL_BLOCK (never POL_ACT_DEFAULT) */
	struct pol_origin origin; /* of the verdict */
	bool under_allow;         /* some allow rule covers the name */
	/* routing: the adapters of the longest adapter rule (names point into
	 * the table) */
	size_t nadapters;
	const char *adapters[POL_MAX_ADAPTERS];
	struct pol_origin adapter_origin;
	bool require_enc, require_ad;
	struct pol_origin enc_origin, ad_origin; /* of those (longest match) */
	/* POL_ANSWER: the answer rules at the deciding name (rule indexes) */
	size_t nanswers;
	uint32_t answers[POL_MAX_ANSWERS];
};

/* A new empty table; names hashed with seed.  NULL on OOM. */
struct policy *policy_new(uint64_t seed);
void policy_free(struct policy *p);

/* Set the action of blocks that name none (blocklist-action). */
void policy_set_default_action(struct policy *p, enum pol_action a);

/* Register a source name (a file, or the configuration file); returns its
 * index, or UINT32_MAX on OOM.  The same name twice gives the same index. */
uint32_t policy_source(struct policy *p, const char *name);
const char *policy_source_name(const struct policy *p, uint32_t src);

/* Make room for names more names (and bytes of their wire text) so a
 * big list is added without rehashing; a hint, STUB_ENOMEM when even
 * that cannot be had. */
enum stub_err policy_reserve(struct policy *p, size_t names, size_t bytes);

/*
 * Add a block or allow decision on name (wire form, any case) with the
 * given scope.  The same (name, scope, kind) twice keeps the first origin.
 */
enum stub_err policy_add(struct policy *p, const uint8_t *name, size_t len, enum pol_scope scope,
    enum pol_kind kind, enum pol_action action, struct pol_origin origin);

/*
 * Add one `rule` line, words after `rule`: NAME then `adapter A...`,
 * `require encryption|ad`, `answer TYPE DATA...`, `block [ACTION]`, or
 * `allow`.  On failure writes a reason to why.
 */
enum stub_err policy_add_rule(struct policy *p, char **w, int n, struct pol_origin origin,
    char *why, size_t whylen);

/* Look up key (lower-cased wire form). */
void policy_lookup(const struct policy *p, const uint8_t *key, size_t klen, struct pol_match *m);

/* Number of names and of decisions in the table. */
size_t policy_names(const struct policy *p);
size_t policy_decisions(const struct policy *p);

/* "FILE:LINE" of an origin into buf; returns buf. */
const char *policy_origin_text(const struct policy *p, struct pol_origin o, char *buf, size_t len);

/*
 * The local answer for q under match m (verdict POL_BLOCK or POL_ANSWER):
 * NXDOMAIN, NODATA, 0.0.0.0 / :: or the rule's records of q's type (a
 * CNAME rule answers every type with its CNAME); other types NODATA.  ttl
 * for the records; OPT (with EDE 15 Blocked for a block when the client
 * sent EDNS) and truncation as msg_synth().  Returns the length or 0.
 */
size_t policy_answer(const struct policy *p, const struct pol_match *m, const struct msg_query *q,
    uint32_t ttl, size_t limit, uint8_t *out, size_t cap);

/* Parse "nxdomain|nodata|null"; POL_ACT_DEFAULT when unknown. */
enum pol_action policy_action_from_name(const char *s);
const char *policy_action_name(enum pol_action a);

#endif
