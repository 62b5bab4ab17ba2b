/*
 * cachefile.c - cache-file (SPEC 14) in the daemon: read at start, written
 * every CACHEFILE_INTERVAL_MS by a forked child (copy-on-write: answering
 * never waits for it) and at exit.
 */
#include "auto-config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "cache.h"
#include "clock.h"
#include "cachefile.h"
#include "config.h"
#include "log.h"
#include "snapshot.h"

#define CACHEFILE_INTERVAL_MS (10 * 60 * 1000)
#define CACHEFILE_SLACK_BYTES ((size_t)16 << 20) /* over cache-memory: refused */

struct cachefile {
	struct event_base *base;
	struct cache *cache;
	const struct cfg *(*cfg)(void *arg);
	void *arg;
	struct event *save_tmr; /* every CACHEFILE_INTERVAL_MS */
	pid_t save_pid;         /* the child writing it, 0 = none */
};

static uint64_t
settings_of(const struct cfg *c)
{
	struct cache_cfg cc = cache_cfg_from(c);

	return snapshot_settings(&cc);
}

struct cachefile *
cachefile_new(struct event_base *base, struct cache *cache, const struct cfg *(*cfg)(void *arg),
    void *arg)
{
	struct cachefile *cf = calloc(1, sizeof(*cf));

	if (!cf)
		return NULL;
	cf->base = base;
	cf->cache = cache;
	cf->cfg = cfg;
	cf->arg = arg;
	return cf;
}

void
cachefile_load(struct cachefile *d)
{
	const struct cfg *c = d->cfg(d->arg);
	const char *path = c->cache_file;
	uint64_t t0 = clock_now_ms();
	char why[512];
	size_t n;
	enum stub_err e;

	if (!path)
		return;
	e = snapshot_load(path, d->cache, clock_now_ms(), clock_wall_ms(), settings_of(c),
	    snapshot_network(c), c->serve_stale, (size_t)c->cache_memory + CACHEFILE_SLACK_BYTES,
	    &n, why, sizeof(why));
	if (e == STUB_ENOTFOUND)
		log_info("cache-file %s: none yet; starting cold", path);
	else if (e != STUB_OK) {
		/* a bad entry late in a file: what came before goes too */
		cache_flush(d->cache, NULL, 0, false);
		log_warn("cache-file %s: %s; ignored, starting cold", path, why);
	} else
		log_msg(LOG_NOTICE, "cache-file %s: %zu answers loaded in %llu ms", path, n,
		    (unsigned long long)(clock_now_ms() - t0));
}

/* the child of the last periodic save, when it has ended */
static void
reap(struct cachefile *d, bool wait)
{
	int status;
	pid_t p;

	if (d->save_pid <= 0)
		return;
	p = waitpid(d->save_pid, &status, wait ? 0 : WNOHANG);
	if (p == 0)
		return;
	if (p == d->save_pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		log_warn("cache-file %s: the periodic save failed", d->cfg(d->arg)->cache_file);
	d->save_pid = 0;
}

static void
save_tmr_cb(int fd, short what, void *arg)
{
	struct cachefile *d = arg;
	const struct cfg *c = d->cfg(d->arg);
	pid_t p;

	(void)fd;
	(void)what;
	reap(d, false);
	if (!c->cache_file || d->save_pid > 0)
		return;
	p = fork();
	if (p < 0) {
		log_warn("cache-file: fork: %s", strerror(errno));
		return;
	}
	if (p == 0) {
		char why[512];
		size_t n;

		/* the child sees the cache as it was at the fork */
		if (snapshot_save(c->cache_file, d->cache, clock_now_ms(), clock_wall_ms(),
		        settings_of(c), snapshot_network(c), &n, why, sizeof(why)) != STUB_OK) {
			log_warn("cache-file: %s", why);
			_exit(1);
		}
		_exit(0);
	}
	d->save_pid = p;
}

void
cachefile_start(struct cachefile *d)
{
	struct timeval tv = { CACHEFILE_INTERVAL_MS / 1000, 0 };

	d->save_tmr = event_new(d->base, -1, EV_PERSIST, save_tmr_cb, d);
	if (d->save_tmr)
		evtimer_add(d->save_tmr, &tv);
}

void
cachefile_free(struct cachefile *d, bool save)
{
	const struct cfg *c;
	char why[512];
	size_t n;
	uint64_t t0 = clock_now_ms();

	if (!d)
		return;
	reap(d, true); /* one writer at a time */
	if (d->save_tmr)
		event_free(d->save_tmr);
	c = d->cfg(d->arg);
	if (save && c && c->cache_file && d->cache) {
		if (snapshot_save(c->cache_file, d->cache, clock_now_ms(), clock_wall_ms(),
		        settings_of(c), snapshot_network(c), &n, why, sizeof(why)) != STUB_OK)
			log_warn("cache-file: %s", why);
		else
			log_info("cache-file %s: %zu answers saved in %llu ms", c->cache_file, n,
			    (unsigned long long)(clock_now_ms() - t0));
	}
	free(d);
}
