/*
 * policyload.h - the policy table in the daemon (SPEC 18): built from the
 * configuration's polcfg and its list files, rebuilt off the event loop
 * (a worker thread, as big hosts files) when the configuration changes or
 * a list file changes (polled every 2 s, also replaced by rename), and
 * swapped in whole; the old table answers meanwhile.
 */
#ifndef STUBD_POLICYLOAD_H
#define STUBD_POLICYLOAD_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct resolver;
struct polcfg;
struct policy_loader;
struct stats;

/* A loader installing its tables into res (names hashed with seed) and
 * the per-source counts of each (struct pol_list_stat) into st->lists. */
struct policy_loader *
policy_loader_new(struct event_base *base, struct resolver *res, struct stats *st, uint64_t seed);
/* Joins a running build; the resolver is left without a table. */
void policy_loader_free(struct policy_loader *pl);

/* The configuration's policy (NULL: none).  The same pointer as before
 * changes nothing; another is built, at once when sync (start-up: in place
 * before the first query; lists over 256 KB together then follow off the
 * loop, the rule lines in place at once), else off the loop. */
void policy_loader_set(struct policy_loader *pl, struct polcfg *pc, bool sync);

/* The table in place (NULL: none), for the control view. */
const struct policy *policy_loader_current(const struct policy_loader *pl);

#endif
