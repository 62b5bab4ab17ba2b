/*
 * hostsload.c - the hosts file: loaded at start, polled for changes
 * (every HOSTS_POLL_MS, together with the network files), reloaded on
 * flushdns and reload.  A file over HOSTS_SYNC_MAX bytes is read and
 * parsed by a worker thread (hosts_parse is pure), the old snapshot
 * answering meanwhile; the result comes back through a pipe.
 */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cache.h"
#include "clock.h"
#include "file.h"
#include "hosts.h"
#include "hostsload.h"
#include "log.h"
#include "resolve.h"

struct hosts_job;

struct hostsload {
	struct event_base *base;
	struct resolver *res;      /* gets every snapshot */
	const struct cache *cache; /* the hash seed */
	bool named;                /* -H: a missing file is said at start */
	bool started;              /* the first load is done */
	struct hosts *hosts;
	struct hosts_sig sig;
	uint64_t gen;
	struct hosts_job *job;          /* a big hosts file being parsed */
	bool again;                     /* reload once that one is in */
	const char *(*path)(void *arg); /* the hosts file now, NULL: none */
	void *arg;
	int pipe[2]; /* the worker says it is done */
	struct event *ev;
};

static void
hosts_err(void *arg, unsigned line, const char *msg)
{
	log_warn("%s:%u: %s", (const char *)arg, line, msg);
}

/* Put a hosts snapshot in place (NULL: none). */
static void
hosts_install(struct hostsload *d, struct hosts *h)
{
	resolver_set_hosts(d->res, h);
	hosts_free(d->hosts);
	d->hosts = h;
	d->gen++; /* a displaydns under way stops walking the old one */
}

static void
hosts_loaded(struct hostsload *d, const char *path, struct hosts *h, uint64_t ms)
{
	if (!h) {
		log_err("out of memory loading %s", path);
		return; /* keep the old data */
	}
	log_info("loaded %s: %zu names, %zu addresses in %llu ms", path, hosts_names(h),
	    hosts_ptrs(h), (unsigned long long)ms);
	(void)hosts_set_source(h, path); /* for "FILE:LINE" (else "hosts:LINE") */
	hosts_install(d, h);
}

/* A big hosts file is parsed by a worker thread (hosts_parse is pure), so
 * answering goes on meanwhile; the loop learns of the result via a pipe. */
struct hosts_job {
	pthread_t th;
	char *text;
	size_t len;
	char *path;
	uint64_t seed;
	struct hosts *result;
	int err; /* reading failed: errno */
	uint64_t ms;
	int notify;
};

static void *
hosts_job_run(void *arg)
{
	struct hosts_job *j = arg;
	uint64_t t0 = clock_now_ms();

	if (file_read(j->path, &j->text, &j->len) != 0) {
		j->err = errno;
		(void)!write(j->notify, "x", 1);
		return NULL;
	}
	j->result = hosts_parse(j->text, j->len, j->seed, hosts_err, j->path);
	j->ms = clock_now_ms() - t0;
	free(j->text);
	j->text = NULL;
	(void)!write(j->notify, "x", 1);
	return NULL;
}

static void
hosts_job_free(struct hosts_job *j)
{
	if (!j)
		return;
	free(j->text);
	free(j->path);
	free(j);
}

/* Read and parse off the loop; false when no thread could be started. */
static bool
hosts_job_start(struct hostsload *d, const char *path)
{
	struct hosts_job *j = calloc(1, sizeof(*j));

	if (!j)
		return false;
	j->path = strdup(path);
	j->seed = cache_seed(d->cache);
	j->notify = d->pipe[1];
	if (!j->path || pthread_create(&j->th, NULL, hosts_job_run, j) != 0) {
		hosts_job_free(j);
		return false;
	}
	d->job = j;
	return true;
}

static void
hosts_job_done_cb(int fd, short what, void *arg)
{
	struct hostsload *d = arg;
	struct hosts_job *j = d->job;
	char b[16];

	(void)what;
	(void)!read(fd, b, sizeof(b));
	if (!j)
		return;
	pthread_join(j->th, NULL);
	d->job = NULL;
	if (j->err) {
		log_warn("cannot read hosts file %s: %s", j->path, strerror(j->err));
		hosts_install(d, NULL);
	} else {
		hosts_loaded(d, j->path, j->result, j->ms);
	}
	hosts_job_free(j);
	if (d->again) {
		d->again = false;
		hostsload_load(d, true);
	}
}

void
hostsload_load(struct hostsload *d, bool defer_ok)
{
	const char *path = d->path(d->arg);
	struct hosts *h;
	char *text;
	size_t len;
	uint64_t t0;
	bool first = !d->started;

	d->started = true;
	if (!path) {
		hosts_install(d, NULL);
		return;
	}
	if (d->job) {
		d->again = true; /* once the running parse is in */
		return;
	}
	hosts_file_sig(path, &d->sig);
	if (defer_ok && d->ev && d->sig.exists && d->sig.size > HOSTS_SYNC_MAX &&
	    hosts_job_start(d, path))
		return;
	if (file_read(path, &text, &len) != 0) {
		/* a missing /etc/hosts is normal; a file the operator named
		 * (-H, or a hosts line other than the default) is said once,
		 * at start, at the default log level */
		if (errno != ENOENT || log_verbosity() >= 1 ||
		    (first && (d->named || strcmp(path, "/etc/hosts") != 0)))
			log_warn("cannot read hosts file %s: %s", path, strerror(errno));
		hosts_install(d, NULL);
		return;
	}
	t0 = clock_now_ms();
	h = hosts_parse(text, len, cache_seed(d->cache), hosts_err, (void *)path);
	free(text);
	hosts_loaded(d, path, h, clock_now_ms() - t0);
}

void
hostsload_poll(struct hostsload *d)
{
	const char *path = d->path(d->arg);
	struct hosts_sig sig;

	if (!path)
		return;
	hosts_file_sig(path, &sig);
	if (!hosts_sig_equal(&sig, &d->sig)) {
		log_info("hosts file %s changed, reloading", path);
		hostsload_load(d, true);
	}
}

enum stub_err
hostsload_new(struct event_base *base, struct resolver *res, const struct cache *cache, bool named,
    const char *(*path)(void *arg), void *arg, struct hostsload **out, char *why, size_t whylen)
{
	struct hostsload *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d) {
		snprintf(why, whylen, "out of memory");
		return STUB_ENOMEM;
	}
	d->base = base;
	d->res = res;
	d->cache = cache;
	d->named = named;
	d->path = path;
	d->arg = arg;
	if (pipe2(d->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		free(d);
		return STUB_EIO;
	}
	*out = d;
	d->ev = event_new(base, d->pipe[0], EV_READ | EV_PERSIST, hosts_job_done_cb, d);
	if (!d->ev || event_add(d->ev, NULL) != 0) {
		snprintf(why, whylen, "out of memory");
		return STUB_ENOMEM;
	}
	return STUB_OK;
}

const struct hosts *
hostsload_hosts(const struct hostsload *d)
{
	return d->hosts;
}

uint64_t
hostsload_gen(const struct hostsload *d)
{
	return d->gen;
}

void
hostsload_free(struct hostsload *d)
{
	size_t i;

	if (!d)
		return;
	if (d->job) {
		pthread_join(d->job->th, NULL);
		hosts_free(d->job->result);
		hosts_job_free(d->job);
		d->job = NULL;
	}
	if (d->ev)
		event_free(d->ev);
	for (i = 0; i < 2; i++)
		if (d->pipe[i] >= 0)
			close(d->pipe[i]);
	hosts_free(d->hosts);
	free(d);
}
