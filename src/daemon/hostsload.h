/*
 * hostsload.h - the hosts file in the daemon: loaded at start, polled
 * for changes, reloaded on flushdns and reload; a big file parsed by a
 * worker thread.  Owns the hosts snapshot in use, the worker and its
 * pipe; hands every new snapshot to the resolver.  Touches libevent.
 */
#ifndef STUBD_HOSTSLOAD_H
#define STUBD_HOSTSLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define HOSTS_POLL_MS 1000          /* hosts, resolv-file, resolvconf-dir */
#define HOSTS_SYNC_MAX (256 * 1024) /* bigger hosts files are parsed off the loop */

struct cache;
struct event_base;
struct hosts;
struct resolver;
struct hostsload;

/* res gets every snapshot; cache gives the hash seed; named: the operator
 * named the file (-H), so a missing one is said at start; path(arg): the
 * hosts file of the running configuration (NULL: none).  On failure *out
 * may be set still (free it). */
enum stub_err
hostsload_new(struct event_base *base, struct resolver *res, const struct cache *cache, bool named,
    const char *(*path)(void *arg), void *arg, struct hostsload **out, char *why, size_t whylen);
/*
 * (Re)load the hosts file.  A file over
 * HOSTS_SYNC_MAX bytes is parsed by a worker thread when defer_ok (not at
 * start-up, where it must be in place before the first query); the old
 * snapshot answers meanwhile.
 */
void hostsload_load(struct hostsload *h, bool defer_ok);
/* The poll: reload when the file changed since it was read. */
void hostsload_poll(struct hostsload *h);
/* The snapshot in use (NULL: none), and a number that changes whenever
 * it is replaced (a displaydns under way stops walking the old one). */
const struct hosts *hostsload_hosts(const struct hostsload *h);
uint64_t hostsload_gen(const struct hostsload *h);
/* Wait for the worker, free the snapshot (after the resolver). */
void hostsload_free(struct hostsload *h);

#endif
