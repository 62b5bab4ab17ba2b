/*
 * policyload.c - the policy table built, watched and swapped.  See
 * policyload.h.  policy_build (polcfg.c) is pure apart from reading the
 * list files, so it runs in a worker thread; the loop learns of the result
 * through a pipe.
 */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "hosts.h"
#include "log.h"
#include "polcfg.h"
#include "policyload.h"
#include "resolve.h"

#define POLICY_POLL_MS 2000

struct policy_loader {
	struct resolver *res;
	uint64_t seed;
	struct polcfg *pc; /* the configuration's (a reference) */
	struct policy *cur;
	struct hosts_sig *sigs; /* of pc's lists, as last read */
	struct event *tmr, *done_ev;
	int pipe[2];
	/* the build under way */
	bool running, again;
	pthread_t th;
	struct polcfg *job_pc; /* a reference */
	struct policy *job_result;
	uint64_t job_ms;
};

static void
log_list(void *arg, const struct polcfg_list *l, const struct bl_stats *st, int read_errno)
{
	(void)arg;
	if (read_errno) {
		log_warn("cannot read %s %s: %s", l->allow ? "allowlist" : "blocklist", l->path,
		    strerror(read_errno));
		return;
	}
	if (st->unknown)
		log_warn("%s:%u: %zu line%s not understood (first here)", l->path,
		    st->first_unknown, st->unknown, st->unknown == 1 ? "" : "s");
	log_info("loaded %s %s: %zu entries", l->allow ? "allowlist" : "blocklist", l->path,
	    st->entries);
}

static void
take_sigs(struct policy_loader *pl)
{
	size_t i, n = pl->pc ? pl->pc->nlists : 0;

	free(pl->sigs);
	pl->sigs = n ? calloc(n, sizeof(*pl->sigs)) : NULL;
	for (i = 0; pl->sigs && i < n; i++)
		hosts_file_sig(pl->pc->lists[i].path, &pl->sigs[i]);
}

static void
install(struct policy_loader *pl, struct policy *p, uint64_t ms)
{
	resolver_set_policy(pl->res, p, pl->pc && pl->pc->rebind_protection);
	policy_free(pl->cur);
	pl->cur = p;
	if (p && (policy_names(p) || ms > 100))
		log_info("policy: %zu names, %zu rules in %llu ms", policy_names(p),
		    policy_decisions(p), (unsigned long long)ms);
}

static void *
job_run(void *arg)
{
	struct policy_loader *pl = arg;
	uint64_t t0 = clock_now_ms();

	pl->job_result = policy_build(pl->job_pc, pl->seed, log_list, NULL);
	pl->job_ms = clock_now_ms() - t0;
	(void)!write(pl->pipe[1], "x", 1);
	return NULL;
}

static void start(struct policy_loader *pl, bool sync);

static void
job_done_cb(int fd, short what, void *arg)
{
	struct policy_loader *pl = arg;
	char b[16];

	(void)what;
	(void)!read(fd, b, sizeof(b));
	if (!pl->running)
		return;
	pthread_join(pl->th, NULL);
	pl->running = false;
	polcfg_unref(pl->job_pc);
	pl->job_pc = NULL;
	if (pl->job_result)
		install(pl, pl->job_result, pl->job_ms);
	else
		log_err("out of memory building the policy table; the old one stays");
	pl->job_result = NULL;
	if (pl->again) {
		pl->again = false;
		start(pl, false);
	}
}

/* Build pl->pc's table: now (sync) or in the worker. */
static void
start(struct policy_loader *pl, bool sync)
{
	uint64_t t0;
	struct policy *p;

	if (!pl->pc) {
		install(pl, NULL, 0);
		free(pl->sigs);
		pl->sigs = NULL;
		return;
	}
	if (pl->running) {
		pl->again = true;
		return;
	}
	take_sigs(pl);
	if (!sync && pl->done_ev) {
		pl->job_pc = polcfg_ref(pl->pc);
		pl->job_result = NULL;
		if (pthread_create(&pl->th, NULL, job_run, pl) == 0) {
			pl->running = true;
			return;
		}
		polcfg_unref(pl->job_pc);
		pl->job_pc = NULL;
	}
	t0 = clock_now_ms();
	p = policy_build(pl->pc, pl->seed, log_list, NULL);
	if (p)
		install(pl, p, clock_now_ms() - t0);
	else
		log_err("out of memory building the policy table; the old one stays");
}

static void
poll_cb(int fd, short what, void *arg)
{
	struct policy_loader *pl = arg;
	size_t i;

	(void)fd;
	(void)what;
	if (!pl->pc || !pl->sigs || pl->running)
		return;
	for (i = 0; i < pl->pc->nlists; i++) {
		struct hosts_sig sig;

		hosts_file_sig(pl->pc->lists[i].path, &sig);
		if (!hosts_sig_equal(&sig, &pl->sigs[i])) {
			log_info("%s changed, reloading the policy", pl->pc->lists[i].path);
			start(pl, false);
			return;
		}
	}
}

struct policy_loader *
policy_loader_new(struct event_base *base, struct resolver *res, uint64_t seed)
{
	struct policy_loader *pl = calloc(1, sizeof(*pl));
	struct timeval tv = { POLICY_POLL_MS / 1000, (POLICY_POLL_MS % 1000) * 1000 };

	if (!pl)
		return NULL;
	pl->res = res;
	pl->seed = seed;
	pl->pipe[0] = pl->pipe[1] = -1;
	if (pipe2(pl->pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		goto fail;
	pl->done_ev = event_new(base, pl->pipe[0], EV_READ | EV_PERSIST, job_done_cb, pl);
	pl->tmr = event_new(base, -1, EV_PERSIST, poll_cb, pl);
	if (!pl->done_ev || !pl->tmr || event_add(pl->done_ev, NULL) != 0 ||
	    event_add(pl->tmr, &tv) != 0)
		goto fail;
	return pl;
fail:
	policy_loader_free(pl);
	return NULL;
}

void
policy_loader_free(struct policy_loader *pl)
{
	if (!pl)
		return;
	if (pl->running) {
		pthread_join(pl->th, NULL);
		policy_free(pl->job_result);
		polcfg_unref(pl->job_pc);
	}
	if (pl->done_ev)
		event_free(pl->done_ev);
	if (pl->tmr)
		event_free(pl->tmr);
	if (pl->pipe[0] >= 0)
		close(pl->pipe[0]);
	if (pl->pipe[1] >= 0)
		close(pl->pipe[1]);
	resolver_set_policy(pl->res, NULL, false);
	policy_free(pl->cur);
	polcfg_unref(pl->pc);
	free(pl->sigs);
	free(pl);
}

void
policy_loader_set(struct policy_loader *pl, struct polcfg *pc, bool sync)
{
	if (!pl || (pc == pl->pc && (pc || !pl->cur)))
		return;
	polcfg_unref(pl->pc);
	pl->pc = polcfg_ref(pc);
	if (pl->cur) /* rebind-protection follows the configuration at once */
		resolver_set_policy(pl->res, pl->cur, pc && pc->rebind_protection);
	start(pl, sync);
}

const struct policy *
policy_loader_current(const struct policy_loader *pl)
{
	return pl ? pl->cur : NULL;
}
