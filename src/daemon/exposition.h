/*
 * exposition.h - the Prometheus text exposition (format 0.0.4) served on
 * `metrics` (SPEC 15): every `stats` value (counters as stubd_NAME_total,
 * gauges as stubd_NAME), per-server queries, answers, timeouts, SRTT and
 * exclusion labelled adapter and server, and the answer latency histogram
 * stubd_answer_seconds by source.  Never a query name as a label.
 *
 * Pure: built from the control view, the time given.
 */
#ifndef STUBD_EXPOSITION_H
#define STUBD_EXPOSITION_H

#include <stddef.h>
#include <stdint.h>

#include "ctlcmd.h"

/* The document (caller frees), its length in *len; NULL on OOM. */
char *expo_metrics(const struct control_view *v, uint64_t now, size_t *len);

#endif
