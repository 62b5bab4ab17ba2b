/*
 * hostsload.c - the hosts file: loaded at start, polled for changes
 * (every HOSTS_POLL_MS, together with the network files), reloaded on
 * flushdns and reload.  A file over HOSTS_SYNC_MAX bytes is read and
 * parsed by a worker thread (hosts_parse is pure), the old snapshot
 * answering meanwhile; the result comes back through a pipe.
 */
#include "auto-config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cache.h"
#include "clock.h"
#include "daemon.h"
#include "file.h"
#include "log.h"
#include "resolve.h"

static void
hosts_err(void *arg, unsigned line, const char *msg)
{
	log_warn("%s:%u: %s", (const char *)arg, line, msg);
}

/* Put a hosts snapshot in place (NULL: none). */
static void
hosts_install(struct daemon *d, struct hosts *h)
{
	resolver_set_hosts(d->res, h);
	hosts_free(d->hosts);
	d->hosts = h;
	d->hosts_gen++;      /* a displaydns under way stops walking the old one */
	view_update(d);
}

static void
hosts_loaded(struct daemon *d, const char *path, struct hosts *h, uint64_t ms)
{
	if (!h) {
		log_err("out of memory loading %s", path);
		return;   /* keep the old data */
	}
	log_info("loaded %s: %zu names, %zu addresses in %llu ms", path, hosts_names(h),
	    hosts_ptrs(h), (unsigned long long)ms);
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
	int err;                  /* reading failed: errno */
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
hosts_job_start(struct daemon *d, const char *path)
{
	struct hosts_job *j = calloc(1, sizeof(*j));

	if (!j)
		return false;
	j->path = strdup(path);
	j->seed = cache_seed(d->cache);
	j->notify = d->hosts_pipe[1];
	if (!j->path || pthread_create(&j->th, NULL, hosts_job_run, j) != 0) {
		hosts_job_free(j);
		return false;
	}
	d->hosts_job = j;
	return true;
}

void
hosts_job_done_cb(int fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct hosts_job *j = d->hosts_job;
	char b[16];

	(void)what;
	(void)!read(fd, b, sizeof(b));
	if (!j)
		return;
	pthread_join(j->th, NULL);
	d->hosts_job = NULL;
	if (j->err) {
		log_warn("cannot read hosts file %s: %s", j->path, strerror(j->err));
		hosts_install(d, NULL);
	} else {
		hosts_loaded(d, j->path, j->result, j->ms);
	}
	hosts_job_free(j);
	if (d->hosts_again) {
		d->hosts_again = false;
		hosts_load(d, true);
	}
}

/*
 * (Re)load the hosts file.  A file over HOSTS_SYNC_MAX bytes is parsed by
 * a worker thread when defer_ok (not at start-up, where it must be in
 * place before the first query); the old snapshot answers meanwhile.
 */
void
hosts_load(struct daemon *d, bool defer_ok)
{
	const char *path = d->cfg->hosts;
	struct hosts *h;
	char *text;
	size_t len;
	uint64_t t0;

	if (!path) {
		hosts_install(d, NULL);
		return;
	}
	if (d->hosts_job) {
		d->hosts_again = true;   /* once the running parse is in */
		return;
	}
	hosts_file_sig(path, &d->hosts_sig);
	if (defer_ok && d->hosts_ev && d->hosts_sig.exists && d->hosts_sig.size > HOSTS_SYNC_MAX &&
	    hosts_job_start(d, path))
		return;
	if (file_read(path, &text, &len) != 0) {
		/* a missing /etc/hosts is normal; a file the operator named
		 * (-H, or a hosts line other than the default) is said once,
		 * at start, at the default log level */
		if (errno != ENOENT || log_verbosity() >= 1 ||
		    (!d->started && (d->o.hosts || strcmp(path, "/etc/hosts") != 0)))
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
hosts_poll_cb(int fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct hosts_sig sig;

	(void)fd;
	(void)what;
	watch_network(d);
	if (!d->cfg->hosts)
		return;
	hosts_file_sig(d->cfg->hosts, &sig);
	if (!hosts_sig_equal(&sig, &d->hosts_sig)) {
		log_info("hosts file %s changed, reloading", d->cfg->hosts);
		hosts_load(d, true);
	}
}

void
hosts_reload_cb(void *arg)
{
	hosts_load(arg, true);
}

void
hosts_shutdown(struct daemon *d)
{
	size_t i;

	if (d->hosts_job) {
		pthread_join(d->hosts_job->th, NULL);
		hosts_free(d->hosts_job->result);
		hosts_job_free(d->hosts_job);
		d->hosts_job = NULL;
	}
	if (d->hosts_ev)
		event_free(d->hosts_ev);
	d->hosts_ev = NULL;
	for (i = 0; i < 2; i++)
		if (d->hosts_pipe[i] >= 0)
			close(d->hosts_pipe[i]);
	d->hosts_pipe[0] = d->hosts_pipe[1] = -1;
}
