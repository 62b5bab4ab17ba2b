/*
 * exposition.c - the Prometheus text exposition of `metrics`.
 */
#include "auto-config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exposition.h"

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		} else {
			size_t nc = (b->cap ? b->cap * 2 : 16384) + (size_t)n;
			char *np = realloc(b->p, nc);

			if (!np) {
				b->oom = true;
				return;
			}
			b->p = np;
			b->cap = nc;
		}
	}
}

/* A label value: backslash, double quote and newline escaped. */
static void
sb_label(struct sbuf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			sb_add(b, "\\%c", *v);
		else if (*v == '\n')
			sb_add(b, "\\n");
		else
			sb_add(b, "%c", *v);
	}
}

static void
family(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sb_add(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* the stats values, named after their keys */
static void
stats_part(struct sbuf *b, const struct control_view *v, uint64_t now)
{
	struct ctl_stat vals[CTL_MAX_STATS];
	size_t n = ctl_stats_values(v, now, vals), i;

	for (i = 0; i < n; i++) {
		char name[96];

		snprintf(name, sizeof(name), "stubd_%s%s", vals[i].key,
		    vals[i].gauge ? "" : "_total");
		family(b, name, vals[i].gauge ? "gauge" : "counter",
		    vals[i].gauge ? "stubctl stats value (gauge)" : "stubctl stats counter");
		sb_add(b, "%s %llu\n", name, (unsigned long long)vals[i].value);
	}
}

static void
server_labels(struct sbuf *b, const struct cfg *c, size_t i)
{
	char url[CFG_URL_MAX];

	cfg_server_url(&c->servers[i], url, sizeof(url));
	sb_add(b, "{adapter=\"");
	sb_label(b, c->adapters[c->servers[i].adapter].name);
	sb_add(b, "\",server=\"");
	sb_label(b, url);
	sb_add(b, "\"}");
}

/* per-server counters and state, one family at a time */
static void
servers_part(struct sbuf *b, const struct control_view *v, uint64_t now)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "stubd_server_queries_total", "counter", "query packets sent to the server" },
		{ "stubd_server_answers_total", "counter", "usable answers from the server" },
		{ "stubd_server_timeouts_total", "counter",
		    "packets that got no answer in their phase" },
		{ "stubd_server_srtt_seconds", "gauge",
		    "smoothed round-trip time (0 until measured)" },
		{ "stubd_server_excluded", "gauge", "1 while the server is excluded" },
		{ "stubd_server_tls_handshakes_total", "counter",
		    "TLS handshakes with the server" },
		{ "stubd_server_tls_resumed_total", "counter",
		    "TLS handshakes that resumed a session" },
		/* SPEC 17, per clear-text server */
		{ "stubd_server_ddr_probes_total", "counter", "DDR probes sent to the server" },
		{ "stubd_server_ddr_rejections_total", "counter",
		    "designated resolvers the server offered, rejected" },
		{ "stubd_server_ddr_upgrades_total", "counter",
		    "encrypted twins DDR installed for the server" },
		{ "stubd_server_downgrades_total", "counter",
		    "queries its encrypted twin failed, asked in clear text" },
	};
	const struct sched *s = v->sched;
	const struct cfg *c;
	size_t f, i, a;

	if (!s || !sched_cfg(s))
		return;
	c = sched_cfg(s);
	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		family(b, fam[f].name, fam[f].type, fam[f].help);
		for (i = 0; i < sched_nservers(s); i++) {
			const struct sched_server *sv = sched_server(s, i);
			struct transport_stats ts;

			memset(&ts, 0, sizeof(ts));
			if ((f == 5 || f == 6) && v->transport_stats)
				v->transport_stats(v->arg, i, &ts);
			sb_add(b, "%s", fam[f].name);
			server_labels(b, c, i);
			switch (f) {
			case 0: sb_add(b, " %llu\n", (unsigned long long)sv->queries); break;
			case 1: sb_add(b, " %llu\n", (unsigned long long)sv->answers); break;
			case 2: sb_add(b, " %llu\n", (unsigned long long)sv->timeouts); break;
			case 3:
				sb_add(b, " %.6f\n", sv->has_rtt ? sv->srtt_ms / 1000.0 : 0.0);
				break;
			case 4: sb_add(b, " %d\n", sched_server_excluded(s, i, now) ? 1 : 0); break;
			case 5: sb_add(b, " %llu\n", (unsigned long long)ts.handshakes); break;
			case 6: sb_add(b, " %llu\n", (unsigned long long)ts.resumed); break;
			case 7: sb_add(b, " %llu\n", (unsigned long long)sv->ddr_probes); break;
			case 8: sb_add(b, " %llu\n", (unsigned long long)sv->ddr_rejections); break;
			case 9: sb_add(b, " %llu\n", (unsigned long long)sv->ddr_upgrades); break;
			default: sb_add(b, " %llu\n", (unsigned long long)sv->downgrades); break;
			}
		}
	}
	family(b, "stubd_adapter_excluded", "gauge", "1 while the adapter is excluded");
	for (a = 0; a < sched_nadapters(s); a++) {
		sb_add(b, "stubd_adapter_excluded{adapter=\"");
		sb_label(b, c->adapters[a].name);
		sb_add(b, "\"} %d\n", sched_adapter_excluded(s, a, now) ? 1 : 0);
	}
	family(b, "stubd_adapter_down", "gauge", "1 while the adapter's link is down");
	for (a = 0; a < sched_nadapters(s); a++) {
		sb_add(b, "stubd_adapter_down{adapter=\"");
		sb_label(b, c->adapters[a].name);
		sb_add(b, "\"} %d\n", sched_adapter(s, a)->down ? 1 : 0);
	}
}

/* the answer latency by source, cumulative buckets in seconds */
static void
latency_part(struct sbuf *b, const struct stats *st)
{
	unsigned src, k;

	family(b, "stubd_answer_seconds", "histogram",
	    "time from a query's arrival to its answer, by where the answer came from");
	for (src = 0; src < LAT_SOURCES; src++) {
		const char *name = answer_source_name((enum answer_source)src);
		uint64_t cum = 0;

		for (k = 0; k < LAT_BUCKETS; k++) {
			cum += st->lat.bucket[src][k];
			if (k < LAT_BUCKETS - 1)
				sb_add(b,
				    "stubd_answer_seconds_bucket{source=\"%s\",le=\"%g\"} %llu\n",
				    name, lat_bounds_ms[k] / 1000.0, (unsigned long long)cum);
			else
				sb_add(b,
				    "stubd_answer_seconds_bucket{source=\"%s\",le=\"+Inf\"} %llu\n",
				    name, (unsigned long long)cum);
		}
		sb_add(b, "stubd_answer_seconds_sum{source=\"%s\"} %.3f\n", name,
		    (double)st->lat.sum_ms[src] / 1000.0);
		sb_add(b, "stubd_answer_seconds_count{source=\"%s\"} %llu\n", name,
		    (unsigned long long)st->lat.count[src]);
	}
}

/* SPEC 18: per source of the policy table, labelled with its name (a file's
 * basename: bounded by the configuration, never a query name) */
static void
lists_part(struct sbuf *b, const struct stats *st)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "stubd_list_blocked_total", "counter", "answers blocked by the list" },
		{ "stubd_list_allowed_total", "counter", "queries an allow of the list decided" },
		{ "stubd_list_local_total", "counter", "answers from the list's local data" },
		{ "stubd_list_rebind_total", "counter",
		    "answers that kept private addresses under an allow of the list" },
		{ "stubd_list_entries", "gauge", "decisions the list added (rules: lines)" },
		{ "stubd_list_unknown_lines", "gauge", "lines of the list not understood" },
	};
	size_t f, i;

	if (!st->nlists)
		return;
	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		family(b, fam[f].name, fam[f].type, fam[f].help);
		for (i = 0; i < st->nlists; i++) {
			const struct pol_list_stat *l = &st->lists[i];
			uint64_t val = f == 0 ? l->c.blocked :
			    f == 1            ? l->c.allowed :
			    f == 2            ? l->c.local :
			    f == 3            ? l->c.rebind :
			    f == 4            ? l->entries :
			                        l->unknown;

			if (!l->name)
				continue;
			sb_add(b, "%s{list=\"", fam[f].name);
			sb_label(b, l->name);
			sb_add(b, "\",kind=\"%s\"} %llu\n", l->kind, (unsigned long long)val);
		}
	}
}

char *
expo_metrics(const struct control_view *v, uint64_t now, size_t *len)
{
	struct sbuf b = { NULL, 0, 0, false };

	stats_part(&b, v, now);
	servers_part(&b, v, now);
	latency_part(&b, v->st);
	lists_part(&b, v->st);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
