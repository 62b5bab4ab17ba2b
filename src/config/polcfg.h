/*
 * polcfg.h - the policy directives of stubd.conf as read (SPEC 18): `rule`
 * lines, `blocklist`/`allowlist` files, `blocklist-action`,
 * `rebind-protection`.  Shared (reference-counted) by the copies of a
 * struct cfg and never changed once the file is read; the table itself is
 * built from it (policy_build) with the lists' contents.
 */
#ifndef STUBD_POLCFG_H
#define STUBD_POLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blocklist.h"
#include "err.h"
#include "policy.h"

struct polcfg_rule {
	char **words; /* after `rule` */
	int nwords;
	char *fname; /* where it was written */
	unsigned line;
};

struct polcfg_list {
	char *path;
	int format;             /* enum bl_format, -1 = detect */
	enum pol_action action; /* blocklist: POL_ACT_DEFAULT = blocklist-action */
	bool allow;             /* allowlist */
	char *name;             /* `name N`: its label in stats and metrics (NULL:
	                         * the file's basename) */
};

struct polcfg {
	int refs;
	struct polcfg_rule *rules;
	size_t nrules;
	struct polcfg_list *lists;
	size_t nlists;
	enum pol_action block_action; /* default POL_ACT_NULL */
	bool rebind_protection;
};

/* The policy part of a cfg, created on first use; NULL on OOM. */
struct polcfg *polcfg_get(struct polcfg **slot);
struct polcfg *polcfg_ref(struct polcfg *p);
void polcfg_unref(struct polcfg *p);

/* Add a rule line (checked: why gets the reason) or a list. */
enum stub_err polcfg_add_rule(struct polcfg *p, char **w, int n, const char *fname, unsigned line,
    char *why, size_t whylen);
enum stub_err
polcfg_add_list(struct polcfg *p, const char *path, int format, enum pol_action action, bool allow);

/*
 * `rule NAME adapter A...` as routing domains (SPEC 5): NAME becomes a
 * routing domain of each adapter A of c (once), so the schedule sends the
 * names under it only to those adapters.  Returns how many adapters named
 * by rules c does not have (they may be learned later).
 */
struct cfg;
size_t polcfg_route_adapters(const struct polcfg *pc, struct cfg *c);

/* Guess a list's format from its first lines (adblock, rpz, hosts,
 * wildcard, else domains). */
enum bl_format blocklist_detect(const char *text, size_t len);

/*
 * Build the table: every rule line, then each list read from its file
 * (missing or unreadable lists are logged and skipped).  Names hashed with
 * seed.  log_list, when not NULL, is told each list's result (entries,
 * unknown lines, or -1 for a file that cannot be read).  NULL on OOM.
 */
struct policy *policy_build(const struct polcfg *pc, uint64_t seed,
    void (*log_list)(void *arg, const struct polcfg_list *l, const struct bl_stats *st,
        int read_errno),
    void *arg);

#endif
