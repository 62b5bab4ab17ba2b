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
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "hosts.h"
#include "log.h"
#include "polcfg.h"
#include "policyload.h"
#include "resolve.h"

#define POLICY_POLL_MS 2000
/* Lists bigger than this together are not waited for at start: the rules
 * go in at once, the lists off the loop (as a hosts file over 256 KB). */
#define POLICY_SYNC_MAX (256 * 1024)

/* What one build read of each list (indexed as polcfg.lists). */
struct build_info {
	const struct polcfg_list *cfg_lists; /* the build's polcfg.lists */
	size_t n;
	struct bl_stats *st;
	int *err; /* errno of a list that could not be read, -1 not tried */
};

struct policy_loader {
	struct resolver *res;
	struct stats *st; /* st->lists: ours */
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
	struct build_info job_info;
	uint64_t job_ms;
};

static void
log_list(void *arg, const struct polcfg_list *l, const struct bl_stats *st, int read_errno)
{
	struct build_info *bi = arg;

	if (read_errno) {
		log_warn("cannot read %s %s: %s", l->allow ? "allowlist" : "blocklist", l->path,
		    strerror(read_errno));
	} else {
		if (st->unknown)
			log_warn("%s:%u: %zu line%s not understood (first here)", l->path,
			    st->first_unknown, st->unknown, st->unknown == 1 ? "" : "s");
		log_info("loaded %s %s: %zu entries", l->allow ? "allowlist" : "blocklist", l->path,
		    st->entries);
	}
	if (bi && bi->st && l >= bi->cfg_lists && l < bi->cfg_lists + bi->n) {
		bi->st[l - bi->cfg_lists] = *st;
		bi->err[l - bi->cfg_lists] = read_errno;
	}
}

static void
info_free(struct build_info *bi)
{
	free(bi->st);
	free(bi->err);
	memset(bi, 0, sizeof(*bi));
}

/* Room for what a build of pc reads of its lists; false on OOM. */
static bool
info_init(struct build_info *bi, const struct polcfg *pc)
{
	size_t i;

	memset(bi, 0, sizeof(*bi));
	if (!pc || pc->nlists == 0)
		return true;
	bi->st = calloc(pc->nlists, sizeof(*bi->st));
	bi->err = calloc(pc->nlists, sizeof(*bi->err));
	if (!bi->st || !bi->err) {
		info_free(bi);
		return false;
	}
	bi->n = pc->nlists;
	bi->cfg_lists = pc->lists;
	for (i = 0; i < bi->n; i++)
		bi->err[i] = -1;
	return true;
}

static void
lists_free(struct pol_list_stat *ls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(ls[i].name);
		free(ls[i].path);
	}
	free(ls);
}

/* One source of the new table (index src) described, its counts carried
 * over from the old array. */
static bool
list_fill(struct policy_loader *pl, struct pol_list_stat *ls, size_t n, uint32_t src,
    const char *path, const char *kind, const char *label)
{
	struct pol_list_stat *e = &ls[src];
	const char *base = strrchr(path, '/');
	size_t i;

	if (src >= n || e->path)
		return true;
	base = label ? label : base && base[1] ? base + 1 : path;
	e->path = strdup(path);
	e->kind = kind;
	for (i = 0; i < n; i++)
		if (ls[i].name && strcmp(ls[i].name, base) == 0)
			break;
	e->name = strdup(i < n ? path : base); /* a basename twice: the path */
	if (!e->path || !e->name)
		return false;
	for (i = 0; i < pl->st->nlists; i++) {
		const struct pol_list_stat *o = &pl->st->lists[i];

		if (o->path && strcmp(o->path, path) == 0 && strcmp(o->kind, kind) == 0)
			e->c = o->c;
	}
	return true;
}

/*
 * The per-source array of table p built from pc (bi: what the build read
 * of the lists, NULL when they were not read).  Sources not in p yet (a
 * list not read) are added to p, which is not installed yet.
 */
static struct pol_list_stat *
lists_build(struct policy_loader *pl, struct policy *p, const struct polcfg *pc,
    const struct build_info *bi, size_t *nout)
{
	struct pol_list_stat *ls = NULL;
	size_t n = 0, i;
	uint32_t src;

	*nout = 0;
	if (!p || !pc)
		return NULL;
	/* every source gets its number (policy_source: the same name, the
	 * same number) */
	for (i = 0; i < pc->nrules + pc->nlists; i++) {
		src = policy_source(p,
		    i < pc->nrules ? pc->rules[i].fname : pc->lists[i - pc->nrules].path);
		if (src == UINT32_MAX)
			return NULL;
		if (src + 1 > n)
			n = src + 1;
	}
	if (n == 0 || !(ls = calloc(n, sizeof(*ls))))
		return NULL;
	for (i = 0; i < pc->nrules; i++) {
		src = policy_source(p, pc->rules[i].fname);
		if (!list_fill(pl, ls, n, src, pc->rules[i].fname, "rules", NULL))
			goto oom;
		ls[src].entries++;
		ls[src].loaded = true;
	}
	for (i = 0; i < pc->nlists; i++) {
		const struct polcfg_list *l = &pc->lists[i];

		src = policy_source(p, l->path);
		if (!list_fill(pl, ls, n, src, l->path, l->allow ? "allowlist" : "blocklist",
		        l->name))
			goto oom;
		if (l->format >= 0)
			ls[src].format = blocklist_format_name((enum bl_format)l->format);
		if (bi && i < bi->n && bi->err[i] == 0) {
			ls[src].entries += bi->st[i].entries;
			ls[src].unknown += bi->st[i].unknown;
			ls[src].loaded = true;
			if (!ls[src].format)
				ls[src].format = blocklist_format_name(bi->st[i].format);
		}
	}
	*nout = n;
	return ls;
oom:
	lists_free(ls, n);
	return NULL;
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
install(struct policy_loader *pl, struct policy *p, uint64_t ms, const struct build_info *bi)
{
	size_t n = 0;
	struct pol_list_stat *ls = lists_build(pl, p, pl->pc, bi, &n);

	resolver_set_policy(pl->res, p, pl->pc && pl->pc->rebind_protection);
	policy_free(pl->cur);
	pl->cur = p;
	lists_free(pl->st->lists, pl->st->nlists);
	pl->st->lists = ls;
	pl->st->nlists = n;
	if (p && (policy_names(p) || ms > 100))
		log_info("policy: %zu names, %zu rules in %llu ms", policy_names(p),
		    policy_decisions(p), (unsigned long long)ms);
}

static void *
job_run(void *arg)
{
	struct policy_loader *pl = arg;
	uint64_t t0 = clock_now_ms();

	pl->job_result = policy_build(pl->job_pc, pl->seed, log_list, &pl->job_info);
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
	bool current;

	(void)what;
	(void)!read(fd, b, sizeof(b));
	if (!pl->running)
		return;
	pthread_join(pl->th, NULL);
	pl->running = false;
	current = pl->job_pc == pl->pc; /* else a newer build follows (again) */
	polcfg_unref(pl->job_pc);
	pl->job_pc = NULL;
	if (pl->job_result && current)
		install(pl, pl->job_result, pl->job_ms, &pl->job_info);
	else if (pl->job_result)
		policy_free(pl->job_result); /* built for a configuration since replaced */
	else
		log_err("out of memory building the policy table; the old one stays");
	pl->job_result = NULL;
	info_free(&pl->job_info);
	if (pl->again) {
		pl->again = false;
		start(pl, false);
	}
}

/* The bytes of pc's lists on disk (what a build would read). */
static uint64_t
lists_bytes(const struct polcfg *pc)
{
	uint64_t total = 0;
	struct stat sb;
	size_t i;

	for (i = 0; i < pc->nlists; i++)
		if (stat(pc->lists[i].path, &sb) == 0)
			total += (uint64_t)sb.st_size;
	return total;
}

/*
 * Build pl->pc's table: now (sync) or in the worker.  At start (sync),
 * lists over POLICY_SYNC_MAX together are not waited for: a table of the
 * rule lines alone is in place before the first query, the whole one
 * follows from the worker; until then the lists' names are answered as
 * without them (SPEC 18: answering within 50 ms while a list loads).
 */
static void
start(struct policy_loader *pl, bool sync)
{
	struct build_info bi;
	uint64_t t0;
	struct policy *p;

	if (!pl->pc) {
		install(pl, NULL, 0, NULL);
		free(pl->sigs);
		pl->sigs = NULL;
		return;
	}
	if (pl->running) {
		pl->again = true;
		return;
	}
	take_sigs(pl);
	if (sync && pl->done_ev && lists_bytes(pl->pc) > POLICY_SYNC_MAX) {
		struct polcfg rules = *pl->pc;

		rules.nlists = 0;
		t0 = clock_now_ms();
		p = policy_build(&rules, pl->seed, NULL, NULL);
		if (p)
			install(pl, p, clock_now_ms() - t0, NULL);
		log_info("policy: %zu list%s loading off the loop; their names are answered "
		         "without them until then",
		    pl->pc->nlists, pl->pc->nlists == 1 ? "" : "s");
		sync = false;
	}
	if (!sync && pl->done_ev && info_init(&pl->job_info, pl->pc)) {
		pl->job_pc = polcfg_ref(pl->pc);
		pl->job_result = NULL;
		if (pthread_create(&pl->th, NULL, job_run, pl) == 0) {
			pl->running = true;
			return;
		}
		polcfg_unref(pl->job_pc);
		pl->job_pc = NULL;
		info_free(&pl->job_info);
	}
	if (!info_init(&bi, pl->pc)) {
		log_err("out of memory building the policy table; the old one stays");
		return;
	}
	t0 = clock_now_ms();
	p = policy_build(pl->pc, pl->seed, log_list, &bi);
	if (p)
		install(pl, p, clock_now_ms() - t0, &bi);
	else
		log_err("out of memory building the policy table; the old one stays");
	info_free(&bi);
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
policy_loader_new(struct event_base *base, struct resolver *res, struct stats *st, uint64_t seed)
{
	struct policy_loader *pl = calloc(1, sizeof(*pl));
	struct timeval tv = { POLICY_POLL_MS / 1000, (POLICY_POLL_MS % 1000) * 1000 };

	if (!pl)
		return NULL;
	pl->res = res;
	pl->st = st;
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
		info_free(&pl->job_info);
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
	lists_free(pl->st->lists, pl->st->nlists);
	pl->st->lists = NULL;
	pl->st->nlists = 0;
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
