/*
 * cachefile.h - cache-file (SPEC 14) in the daemon: read at start, saved
 * every 10 minutes by a forked child and at exit.  Owns its timer and
 * the child; borrows the cache.  Touches libevent.
 */
#ifndef STUBD_CACHEFILE_H
#define STUBD_CACHEFILE_H

#include <stdbool.h>

struct cache;
struct cfg;
struct event_base;
struct cachefile;

/* cfg(arg): the running configuration (its cache-file and cache
 * settings), asked at every load and save.  NULL on OOM. */
struct cachefile *cachefile_new(struct event_base *base, struct cache *cache,
    const struct cfg *(*cfg)(void *arg), void *arg);
/* Read the file into the cache (start-up). */
void cachefile_load(struct cachefile *cf);
/* The periodic save. */
void cachefile_start(struct cachefile *cf);
/* Wait for a save under way; then save when save is true. */
void cachefile_free(struct cachefile *cf, bool save);

#endif
