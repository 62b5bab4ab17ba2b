/*
 * ctlcmd.c - the control commands: one request line in, one JSON document
 * out (SPEC section 8).  No sockets; control.c carries the bytes.
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stubd/ctl.h"
#include "clock.h"
#include "ctlcmd.h"
#include "json.h"
#include "rrtext.h"
#include "text.h"

char *
ctl_error(const char *fmt, ...)
{
	struct json j;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, CTL_K_ERROR);
	json_str(&j, msg);
	json_obj_end(&j);
	return json_take(&j, NULL);
}

static const char *
class_name(uint16_t c, char buf[16])
{
	if (c == CLASS_IN)
		return "IN";
	if (c == 3)
		return "CH";
	snprintf(buf, 16, "CLASS%u", c);
	return buf;
}

struct dd {
	struct json *j;
	const uint8_t *filter;
	size_t flen;
};

/* What displaydns says of one entry (cache or hosts) besides its records. */
struct dd_entry {
	const char *name, *type, *class, *source, *status;
	uint64_t ttl, original_ttl, hits;
	bool stale, dnssec_ok;
	const char *upstream; /* NULL: null */
};

/* The one displaydns entry writer: the entry, then its records array
 * open; dd_entry_end closes both. */
static void
dd_entry_begin(struct json *j, const struct dd_entry *e)
{
	json_obj_begin(j);
	json_key(j, CTL_K_NAME);
	json_str(j, e->name);
	json_key(j, CTL_K_TYPE);
	json_str(j, e->type);
	json_key(j, CTL_K_CLASS);
	json_str(j, e->class);
	json_key(j, CTL_K_SOURCE);
	json_str(j, e->source);
	json_key(j, CTL_K_STATUS);
	json_str(j, e->status);
	json_key(j, CTL_K_TTL);
	json_u64(j, e->ttl);
	json_key(j, CTL_K_ORIGINAL_TTL);
	json_u64(j, e->original_ttl);
	json_key(j, CTL_K_STALE);
	json_bool(j, e->stale);
	json_key(j, CTL_K_HITS);
	json_u64(j, e->hits);
	json_key(j, CTL_K_DNSSEC_OK);
	json_bool(j, e->dnssec_ok);
	json_key(j, CTL_K_UPSTREAM);
	if (e->upstream)
		json_str(j, e->upstream);
	else
		json_null(j);
	json_key(j, CTL_K_RECORDS);
	json_arr_begin(j);
}

static void
dd_entry_end(struct json *j)
{
	json_arr_end(j);
	json_obj_end(j);
}

/* one record of an entry's records array */
static void
dd_record_write(struct json *j, const char *section, const char *name, const char *type,
    uint64_t ttl, uint64_t rdlen, const char *data)
{
	json_obj_begin(j);
	json_key(j, CTL_K_SECTION);
	json_str(j, section);
	json_key(j, CTL_K_NAME);
	json_str(j, name);
	json_key(j, CTL_K_TYPE);
	json_str(j, type);
	json_key(j, CTL_K_TTL);
	json_u64(j, ttl);
	json_key(j, CTL_K_DATA_LENGTH);
	json_u64(j, rdlen);
	json_key(j, CTL_K_DATA);
	json_str(j, data);
	json_obj_end(j);
}

static int
dd_record(const struct rrtext *rr, void *arg)
{
	struct json *j = arg;
	char tb[16];

	dd_record_write(j, rrtext_section(rr->section), rr->name, wire_type_name(rr->type, tb),
	    rr->ttl, rr->rdlen, rr->data);
	return 0;
}

static int
dd_cache(const struct cache_info *in, void *arg)
{
	struct dd *d = arg;
	struct json *j = d->j;
	char name[WIRE_NAME_TEXT], tb[16], cb[16];
	static const char *const st[] = { "NOERROR", "NXDOMAIN", "NODATA" };

	if (d->filter && !wire_name_eq_ci(in->name, in->namelen, d->filter, d->flen))
		return 0;
	if (!wire_name_to_text(in->name, in->namelen, name, sizeof(name)))
		return 0;
	dd_entry_begin(j,
	    &(struct dd_entry){ .name = name,
	        .type = wire_type_name(in->qtype, tb),
	        .class = class_name(in->qclass, cb),
	        .source = "cache",
	        .status = st[in->status],
	        .ttl = in->ttl,
	        .original_ttl = in->original_ttl,
	        .hits = in->hits,
	        .stale = in->stale,
	        .dnssec_ok = in->do_bit,
	        .upstream = in->upstream && *in->upstream ? in->upstream : NULL });
	rrtext_foreach(in->msg, in->msglen, in->age, dd_record, j);
	dd_entry_end(j);
	return j->err;
}

struct ddh {
	struct dd *d;
	uint32_t ttl;
	const uint8_t *cur_name; /* open entry: name and type */
	size_t cur_len;
	uint16_t cur_type;
	bool open;
};

static void
ddh_close(struct ddh *h)
{
	if (!h->open)
		return;
	dd_entry_end(h->d->j);
	h->open = false;
}

static int
dd_hosts(const struct hosts_rec *r, void *arg)
{
	struct ddh *h = arg;
	struct json *j = h->d->j;
	char name[WIRE_NAME_TEXT], data[WIRE_NAME_TEXT], tb[16];

	if (h->d->filter && !wire_name_eq_ci(r->name, r->namelen, h->d->filter, h->d->flen))
		return 0;
	if (!wire_name_to_text(r->name, r->namelen, name, sizeof(name)))
		return 0;
	if (r->type == TYPE_PTR) {
		if (!wire_name_to_text(r->rdata, r->rdlen, data, sizeof(data)))
			return 0;
	} else if (!inet_ntop(r->type == TYPE_A ? AF_INET : AF_INET6, r->rdata, data,
	               sizeof(data))) {
		return 0;
	}
	if (!h->open || h->cur_type != r->type || h->cur_name != r->name) {
		ddh_close(h);
		dd_entry_begin(j,
		    &(struct dd_entry){ .name = name,
		        .type = wire_type_name(r->type, tb),
		        .class = "IN",
		        .source = "hosts",
		        .status = "NOERROR",
		        .ttl = h->ttl,
		        .original_ttl = h->ttl });
		h->open = true;
		h->cur_name = r->name;
		h->cur_type = r->type;
	}
	dd_record_write(j, "answer", name, wire_type_name(r->type, tb), h->ttl,
	    r->type == TYPE_PTR   ? r->rdlen :
	        r->type == TYPE_A ? 4 :
	                            16,
	    data);
	return j->err;
}

/* displaydns is written in parts: hosts units, then cache buckets, a few
 * hundred entries a part, so answering DNS goes on in between. */
#define DD_PART_ENTRIES 256

#define FLUSH_PART_ENTRIES 8192

enum dd_phase { DD_HOSTS, DD_CACHE, DD_DONE };
enum stream_kind { ST_DISPLAY, ST_FLUSH };

/* A control answer produced in parts (displaydns, flushdns). */
struct ctl_stream {
	enum stream_kind kind;
	struct json j;
	enum dd_phase phase;           /* displaydns */
	size_t pos;                    /* next hosts unit or cache bucket */
	uint64_t hosts_gen;            /* the hosts snapshot being walked */
	uint8_t filter[WIRE_NAME_MAX]; /* the name asked for */
	size_t flen;
	bool negative_only; /* flushdns --negative */
	size_t dropped;     /* flushdns so far */
	bool done;
};

static void flush_part(struct ctl_stream *s, const struct control_view *v);

static char *
cmd_displaydns(const struct control_view *v, int argc, char **argv, struct ctl_stream **stream)
{
	struct ctl_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kind = ST_DISPLAY;
	if (argc == 2) {
		s->flen = wire_name_from_text(argv[1], s->filter);
		if (!s->flen) {
			free(s);
			return ctl_error("bad name '%s'", argv[1]);
		}
	}
	json_init(&s->j);
	json_obj_begin(&s->j);
	json_key(&s->j, CTL_K_ENTRIES);
	json_arr_begin(&s->j);
	s->phase = DD_HOSTS;
	s->hosts_gen = v->hosts_gen;
	*stream = s;
	return NULL;
}

char *
ctl_stream_next(struct ctl_stream *s, const struct control_view *v, uint64_t now, size_t *len,
    bool *done)
{
	struct dd d = { &s->j, s->flen ? s->filter : NULL, s->flen };

	if (s->kind == ST_FLUSH) {
		(void)now;
		flush_part(s, v);
		*done = s->done;
		return json_drain(&s->j, len);
	}
	if (s->phase == DD_HOSTS && (v->hosts_gen != s->hosts_gen || !v->hosts)) {
		/* the hosts file was reloaded meanwhile: its old snapshot is gone */
		s->phase = DD_CACHE;
		s->pos = 0;
	}
	if (s->phase == DD_HOSTS) {
		struct ddh h;

		memset(&h, 0, sizeof(h));
		h.d = &d;
		h.ttl = v->cfg ? v->cfg->hosts_ttl : 0;
		s->pos = hosts_foreach_from(v->hosts, s->pos, DD_PART_ENTRIES, dd_hosts, &h);
		ddh_close(&h);
		if (s->pos == HOSTS_END) {
			s->phase = DD_CACHE;
			s->pos = 0;
		}
	} else if (s->phase == DD_CACHE) {
		s->pos = cache_foreach_from(v->cache, now, s->pos, DD_PART_ENTRIES, dd_cache, &d);
		if (s->pos == CACHE_END) {
			json_arr_end(&s->j);
			json_obj_end(&s->j);
			s->phase = DD_DONE;
		}
	}
	*done = s->phase == DD_DONE;
	return json_drain(&s->j, len);
}

void
ctl_stream_free(struct ctl_stream *s)
{
	if (!s)
		return;
	json_free(&s->j);
	free(s);
}

static char *
cmd_flushdns(const struct control_view *v, int argc, char **argv, struct ctl_stream **stream)
{
	struct ctl_stream *s = calloc(1, sizeof(*s));

	(void)v;
	if (!s)
		return NULL;
	s->kind = ST_FLUSH;
	if (argc == 2 && strcmp(argv[1], CTL_FLUSH_NEGATIVE) == 0) {
		s->negative_only = true;
	} else if (argc == 2) {
		s->flen = wire_name_from_text(argv[1], s->filter);
		if (!s->flen) {
			free(s);
			return ctl_error("bad name '%s'", argv[1]);
		}
		wire_name_lower(s->filter, s->flen);
	}
	json_init(&s->j);
	*stream = s;
	return NULL;
}

/* flushdns a part at a time: a million entries freed at once would hold up
 * answering; the answer is written when the walk is over. */
static void
flush_part(struct ctl_stream *s, const struct control_view *v)
{
	s->pos = cache_flush_from(v->cache, s->flen ? s->filter : NULL, s->flen, s->negative_only,
	    s->pos, FLUSH_PART_ENTRIES, &s->dropped);
	if (s->pos != CACHE_END)
		return;
	/* a full flush reloads the hosts file too */
	if (!s->flen && !s->negative_only && v->hosts_reload)
		v->hosts_reload(v->arg);
	json_obj_begin(&s->j);
	json_key(&s->j, CTL_K_FLUSHED);
	json_u64(&s->j, s->dropped);
	json_obj_end(&s->j);
	s->done = true;
}

size_t
ctl_stats_values(const struct control_view *v, uint64_t now, struct ctl_stat *out)
{
	const struct stats *s = v->st;
	size_t n = 0;

/* never past out[CTL_MAX_STATS]: a value beyond it is left out, and
 * check_control's protocol-table test then misses its key */
#define PUT(k, val, g) \
	do { \
		if (n < CTL_MAX_STATS) { \
			out[n].key = k; \
			out[n].value = (val); \
			out[n].gauge = (g); \
			n++; \
		} \
	} while (0)
#define C(k, val) PUT(k, val, false)
#define G(k, val) PUT(k, val, true)
	C(CTL_K_QUERIES, s->queries);
	C(CTL_K_QUERIES_UDP, s->queries_udp);
	C(CTL_K_QUERIES_TCP, s->queries_tcp);
	C(CTL_K_QUERIES_CONTROL, s->queries_control);
	C(CTL_K_CACHE_HITS, s->cache_hits);
	C(CTL_K_CACHE_MISSES, s->cache_misses);
	C(CTL_K_NEGATIVE_HITS, s->negative_hits);
	C(CTL_K_HOSTS_HITS, s->hosts_hits);
	C(CTL_K_UPSTREAM_QUERIES, s->upstream_queries);
	C(CTL_K_UPSTREAM_TIMEOUTS, s->upstream_timeouts);
	C(CTL_K_SERVFAIL, s->servfail);
	C(CTL_K_COALESCED, s->coalesced);
	G(CTL_K_CACHE_ENTRIES, cache_count(v->cache));
	G(CTL_K_CACHE_BYTES, cache_bytes(v->cache));
	C(CTL_K_EVICTIONS, cache_evictions(v->cache));
	G(CTL_K_UPTIME, now > s->start_ms ? (now - s->start_ms) / 1000 : 0);
	C(CTL_K_REFUSED, s->refused);
	C(CTL_K_FORMERR, s->formerr);
	C(CTL_K_NOTIMP, s->notimp);
	C(CTL_K_DROPPED, s->dropped);
	C(CTL_K_STALE_SERVED, s->stale_served);
	C(CTL_K_PREFETCHES, s->prefetches);
	C(CTL_K_MDNS_QUERIES, s->mdns_queries);
	C(CTL_K_REBIND_BLOCKED, s->rebind_blocked);
	C(CTL_K_POLICY_BLOCKED, s->policy_blocked);
	C(CTL_K_POLICY_LOCAL, s->policy_local);
	G(CTL_K_HOSTS_ENTRIES, hosts_names(v->hosts) + hosts_ptrs(v->hosts));
#undef C
#undef G
#undef PUT
	return n;
}

/* SPEC 18: "lists", one object per source of the policy table (kept apart
 * from the flat values: their number follows the configuration) */
static void
stats_lists(struct json *j, const struct stats *s)
{
	size_t i;

	json_key(j, CTL_K_LISTS);
	json_arr_begin(j);
	for (i = 0; i < s->nlists; i++) {
		const struct pol_list_stat *l = &s->lists[i];

		if (!l->name)
			continue;
		json_obj_begin(j);
		json_key(j, CTL_K_NAME);
		json_str(j, l->name);
		json_key(j, CTL_K_FILE);
		json_str(j, l->path);
		json_key(j, CTL_K_KIND);
		json_str(j, l->kind);
		json_key(j, CTL_K_FORMAT);
		if (l->format)
			json_str(j, l->format);
		else
			json_null(j);
		json_key(j, CTL_K_ENTRIES);
		json_u64(j, l->entries);
		json_key(j, CTL_K_UNKNOWN);
		json_u64(j, l->unknown);
		json_key(j, CTL_K_LOADED);
		json_bool(j, l->loaded);
		json_key(j, CTL_K_BLOCKED);
		json_u64(j, l->c.blocked);
		json_key(j, CTL_K_ALLOWED);
		json_u64(j, l->c.allowed);
		json_key(j, CTL_K_LOCAL);
		json_u64(j, l->c.local);
		json_key(j, CTL_K_REBIND);
		json_u64(j, l->c.rebind);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static char *
cmd_stats(const struct control_view *v, int argc, char **argv, struct ctl_stream **stream)
{
	struct ctl_stat vals[CTL_MAX_STATS];
	size_t n = ctl_stats_values(v, clock_now_ms(), vals), i;
	struct json j;

	(void)stream;
	(void)argc;
	(void)argv;
	json_init(&j);
	json_obj_begin(&j);
	for (i = 0; i < n; i++) {
		json_key(&j, vals[i].key);
		json_u64(&j, vals[i].value);
	}
	stats_lists(&j, v->st);
	json_obj_end(&j);
	return json_take(&j, NULL);
}

static const char *
prio_name(enum cfg_prio p)
{
	return p == PRIO_FIRST ? "first" : p == PRIO_LAST ? "last" : "normal";
}

static uint64_t
secs_left(uint64_t until, uint64_t now)
{
	return until > now ? (until - now + 999) / 1000 : 0;
}

/* SPEC 12: transport, authentication, TLS state and counters. */
static void
server_transport(struct json *j, const struct control_view *v, const struct cfg *c, size_t i)
{
	const struct cfg_server *cs = &c->servers[i];
	bool enc = cfg_transport_encrypted(cs->transport);
	struct transport_stats ts;
	char buf[300];

	memset(&ts, 0, sizeof(ts));
	if (v->transport_stats)
		v->transport_stats(v->arg, i, &ts);

	json_key(j, CTL_K_TRANSPORT);
	json_str(j, cfg_transport_name(cs->transport));
	json_key(j, CTL_K_TLS_NAME);
	if (enc && cs->auth_name[0])
		json_str(j, cs->auth_name);
	else
		json_null(j);
	json_key(j, CTL_K_URL);
	cfg_server_url(cs, buf, sizeof(buf));
	json_str(j, buf);
	json_key(j, CTL_K_AUTHENTICATED);
	json_bool(j, cfg_server_authenticated(cs));
	json_key(j, CTL_K_TRUST_AD);
	json_bool(j, cfg_server_trusts_ad(cs));
	json_key(j, CTL_K_TLS_STATE);
	if (enc && v->transport_stats)
		json_str(j, ts.state);
	else
		json_null(j);
	json_key(j, CTL_K_HANDSHAKES);
	json_u64(j, ts.handshakes);
	json_key(j, CTL_K_RESUMED);
	json_u64(j, ts.resumed);
}

/* SPEC 17: the policy, how the server was upgraded, its encrypted twin and
 * how often a query went around the twin in clear text. */
static void
server_encryption(struct json *j, const struct cfg *c, const struct sched_server *sv, size_t i)
{
	const struct cfg_server *cs = &c->servers[i];
	const struct cfg_server *tw = cs->twin && cs->twin <= c->nservers ?
	    &c->servers[cs->twin - 1] :
	    NULL;

	json_key(j, CTL_K_ENCRYPTION);
	json_str(j, cfg_encryption_name(cs->encryption));
	json_key(j, CTL_K_UPGRADE);
	switch (cs->upgrade) {
	case UPGRADE_KNOWN: json_str(j, "known"); break;
	case UPGRADE_DDR: json_str(j, "ddr"); break;
	case UPGRADE_DDR_OPP: json_str(j, "ddr-opportunistic"); break;
	case UPGRADE_DNR: json_str(j, "dnr"); break;
	default: json_null(j); break;
	}
	json_key(j, CTL_K_TWIN_ADDRESS);
	if (tw)
		json_str(j, tw->text);
	else
		json_null(j);
	json_key(j, CTL_K_TWIN_NAME);
	if (tw && tw->auth_name[0])
		json_str(j, tw->auth_name);
	else
		json_null(j);
	json_key(j, CTL_K_TWIN_TRANSPORT);
	if (tw)
		json_str(j, cfg_transport_name(tw->transport));
	else
		json_null(j);
	json_key(j, CTL_K_DOWNGRADES);
	json_u64(j, sv->downgrades);
	json_key(j, CTL_K_DDR_PROBES);
	json_u64(j, sv->ddr_probes);
	json_key(j, CTL_K_DDR_REJECTIONS);
	json_u64(j, sv->ddr_rejections);
}

static char *
cmd_servers(const struct control_view *v, int argc, char **argv, struct ctl_stream **stream)
{
	struct sched *s = v->sched;
	struct json j;
	uint64_t now = clock_now_ms();
	size_t a, k, *ord;

	(void)stream;
	(void)argc;
	(void)argv;
	if (!s)
		return ctl_error("no upstream servers");
	sched_refresh(s, now);
	ord = calloc(sched_nservers(s) + 1, sizeof(size_t));
	if (!ord)
		return ctl_error("out of memory");
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, CTL_K_ADAPTERS);
	json_arr_begin(&j);
	for (a = 0; a < sched_nadapters(s); a++) {
		const struct cfg_adapter *ca = &sched_cfg(s)->adapters[a];
		const struct sched_adapter *sa = sched_adapter(s, a);
		size_t n = sched_order(s, a, ord);

		json_obj_begin(&j);
		json_key(&j, CTL_K_NAME);
		json_str(&j, ca->name);
		json_key(&j, CTL_K_METRIC);
		json_i64(&j, ca->metric);
		json_key(&j, CTL_K_ORIGIN);
		json_str(&j, cfg_origin_name(ca->origin));
		json_key(&j, CTL_K_DEFAULT_ROUTE);
		json_bool(&j, ca->default_route);
		json_key(&j, CTL_K_STATE);
		json_str(&j,
		    sa->down                              ? "down" :
		        sched_adapter_excluded(s, a, now) ? "excluded" :
		                                            "up");
		json_key(&j, CTL_K_EXCLUDED);
		json_bool(&j, sched_adapter_excluded(s, a, now));
		json_key(&j, CTL_K_EXCLUDED_FOR);
		json_u64(&j, secs_left(sa->excluded_until, now));
		json_key(&j, CTL_K_DOMAINS);
		json_arr_begin(&j);
		for (k = 0; k < ca->ndomains; k++) {
			char dn[WIRE_NAME_TEXT];

			if (wire_name_to_text(ca->domains[k].name, ca->domains[k].len, dn,
			        sizeof(dn)))
				json_str(&j, dn);
		}
		json_arr_end(&j);
		json_key(&j, CTL_K_SERVERS);
		json_arr_begin(&j);
		/* configured order, with "order" giving the current asking order */
		for (k = 0; k < sa->nservers; k++) {
			size_t i = sa->servers[k], pos;
			const struct sched_server *sv = sched_server(s, i);

			for (pos = 0; pos < n && ord[pos] != i; pos++)
				;
			json_obj_begin(&j);
			json_key(&j, CTL_K_ADDRESS);
			json_str(&j, sched_cfg(s)->servers[i].text);
			json_key(&j, CTL_K_PRIORITY);
			json_str(&j, prio_name(sv->prio));
			json_key(&j, CTL_K_ORDER);
			json_u64(&j, pos);
			json_key(&j, CTL_K_EXCLUDED);
			json_bool(&j, sched_server_excluded(s, i, now));
			json_key(&j, CTL_K_EXCLUDED_FOR);
			json_u64(&j, secs_left(sv->excluded_until, now));
			/* always a number for scripts; rtt_measured tells 0 apart */
			json_key(&j, CTL_K_SRTT_MS);
			json_double(&j, sv->has_rtt ? sv->srtt_ms : 0.0, 1);
			json_key(&j, CTL_K_RTT_MEASURED);
			json_bool(&j, sv->has_rtt);
			json_key(&j, CTL_K_QUERIES);
			json_u64(&j, sv->queries);
			json_key(&j, CTL_K_ANSWERS);
			json_u64(&j, sv->answers);
			json_key(&j, CTL_K_TIMEOUTS);
			json_u64(&j, sv->timeouts);
			server_transport(&j, v, sched_cfg(s), i);
			server_encryption(&j, sched_cfg(s), sv, i);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	free(ord);
	return json_take(&j, NULL);
}

static char *
cmd_reload(const struct control_view *v, int argc, char **argv, struct ctl_stream **stream)
{
	struct json j;
	char err[4096];
	char *line, *nl;
	enum stub_err rc;

	(void)stream;
	(void)argc;
	(void)argv;
	if (!v->reload)
		return ctl_error("reload is not available");
	err[0] = 0;
	rc = v->reload(v->arg, err, sizeof(err));
	json_init(&j);
	json_obj_begin(&j);
	if (rc != STUB_OK) {
		/* the whole message, FILE:LINE lines included (ctl_error cuts) */
		json_key(&j, CTL_K_ERROR);
		json_str(&j, err);
		json_obj_end(&j);
		return json_take(&j, NULL);
	}
	json_key(&j, CTL_K_RELOADED);
	json_bool(&j, true);
	json_key(&j, CTL_K_WARNINGS);
	json_arr_begin(&j);
	for (line = err; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;
		else
			*nl = 0;
		if (*line)
			json_str(&j, line);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	return json_take(&j, NULL);
}

static char *
cmd_link(const struct control_view *v, int argc, char **argv, struct ctl_stream **stream)
{
	struct json j;
	char err[512];

	(void)stream;
	if (!v->link)
		return ctl_error("link is not available");
	if (v->link(v->arg, argc, argv, err, sizeof(err)) != STUB_OK)
		return ctl_error("%s", err);
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, CTL_K_LINK);
	json_str(&j, argv[1]);
	json_key(&j, CTL_K_CHANGED);
	json_bool(&j, true);
	json_obj_end(&j);
	return json_take(&j, NULL);
}

/* A whole document, or NULL with *stream set (or NULL alone: out of memory). */
typedef char *(
    *cmd_fn)(const struct control_view *v, int argc, char **argv, struct ctl_stream **stream);

/* The daemon's side of the table in stubd/ctl.h, indexed the same way. */
static const cmd_fn handlers[CTL_NCMDS] = {
	[CTL_CMD_DISPLAYDNS] = cmd_displaydns,
	[CTL_CMD_FLUSHDNS] = cmd_flushdns,
	[CTL_CMD_STATS] = cmd_stats,
	[CTL_CMD_SERVERS] = cmd_servers,
	[CTL_CMD_RELOAD] = cmd_reload,
	[CTL_CMD_LINK] = cmd_link,
};

static char *
unknown_command(const char *word)
{
	char names[256];
	size_t i, n = 0;

	names[0] = 0;
	for (i = 0; i < CTL_NCMDS && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
		    ctl_commands[i].name);
	if (!word)
		return ctl_error("empty request (valid commands: %s)", names);
	return ctl_error("unknown command '%.64s' (valid commands: %s)", word, names);
}

/* query NAME [TYPE] and monitor: checked here, answered by the socket
 * side with the daemon (later). */
static char *
start_later(const struct ctl_command *cmd, int argc, char **argv, struct ctl_later *later)
{
	struct ctl_later l;

	memset(&l, 0, sizeof(l));
	if (cmd->id == CTL_CMD_QUERY) {
		l.kind = CTL_LATER_QUERY;
		l.qlen = wire_name_from_text(argv[1], l.qname);
		if (l.qlen == 0)
			return ctl_error("bad name '%.64s'", argv[1]);
		l.qtype = argc > 2 ? wire_type_from_name(argv[2]) : TYPE_A;
		if (l.qtype == 0 || l.qtype == TYPE_OPT)
			return ctl_error("bad type '%.32s' (A, AAAA, MX, TXT, ... or TYPEnnn)",
			    argv[2]);
	} else {
		l.kind = CTL_LATER_MONITOR;
	}
	if (!later)
		return ctl_error("%s is answered on the control socket only", cmd->name);
	*later = l;
	return NULL;
}

void
control_start(const struct control_view *v, const char *line, char **doc,
    struct ctl_stream **stream, enum ctl_access *access, struct ctl_later *later)
{
	char buf[CTL_LINE_MAX + 1], *argv[CTL_MAX_ARGS];
	const struct ctl_command *cmd;
	size_t l = strlen(line);
	int argc;

	*doc = NULL;
	*stream = NULL;
	if (later)
		later->kind = CTL_LATER_NONE;
	if (access)
		*access = CTL_READ_ONLY;
	if (l > CTL_LINE_MAX) {
		*doc = ctl_error("request line too long");
		return;
	}
	memcpy(buf, line, l + 1);
	argc = text_words(buf, argv, CTL_MAX_ARGS, false);
	if (argc < 0) {
		*doc = ctl_error("too many arguments");
		return;
	}
	if (argc == 0) {
		*doc = unknown_command(NULL);
		return;
	}
	cmd = ctl_command_find(argv[0]);
	if (!cmd) {
		*doc = unknown_command(argv[0]);
		return;
	}
	if ((unsigned)(argc - 1) < cmd->min_args || (unsigned)(argc - 1) > cmd->max_args) {
		*doc = ctl_error("usage: %s", cmd->usage);
		return;
	}
	if (access)
		*access = cmd->access;
	if (cmd->id == CTL_CMD_QUERY || cmd->id == CTL_CMD_MONITOR) {
		*doc = start_later(cmd, argc, argv, later);
		return;
	}
	*doc = handlers[cmd->id](v, argc, argv, stream);
	if (!*doc && !*stream)
		*doc = ctl_error("out of memory");
}

const char *
ctl_trace_result(enum up_trace_result r)
{
	switch (r) {
	case TR_PENDING: return "pending";
	case TR_ANSWER: return "answer";
	case TR_NXDOMAIN: return "NXDOMAIN";
	case TR_NODATA: return "NODATA";
	case TR_SERVFAIL: return "SERVFAIL";
	case TR_REFUSED: return "REFUSED";
	case TR_FORMERR: return "FORMERR";
	case TR_RCODE: return "other rcode";
	case TR_TRUNCATED: return "truncated";
	case TR_MISMATCH: return "mismatch";
	case TR_FAILED: return "failed";
	case TR_TIMEOUT: return "timeout";
	case TR_CANCELLED: return "cancelled";
	case TR_EXCLUDED: return "excluded";
	case TR_DOWN: return "down";
	case TR_RULE: return "rule";
	}
	return "?";
}

/* The rcode of an answer as text; "none" when nothing was sent. */
static const char *
answer_rcode(const uint8_t *msg, size_t len, char buf[16])
{
	uint16_t flags, an;

	if (!msg || len < WIRE_HDR_LEN || !wire_get16_at(msg, len, 2, &flags))
		return "none";
	if (WIRE_RCODE(flags) == RCODE_NOERROR && wire_get16_at(msg, len, 6, &an) && an == 0)
		return "NODATA";
	return wire_rcode_name(WIRE_RCODE(flags), buf);
}

static void
qname_type(struct json *j, const struct reply_info *ri)
{
	char name[WIRE_NAME_TEXT], tb[16];

	json_key(j, CTL_K_NAME);
	if (ri->q && wire_name_to_text(ri->q->qname, ri->q->qlen, name, sizeof(name)))
		json_str(j, name);
	else
		json_null(j);
	json_key(j, CTL_K_TYPE);
	if (ri->q)
		json_str(j, wire_type_name(ri->q->qtype, tb));
	else
		json_null(j);
}

char *
ctl_query_json(const uint8_t *msg, size_t len, const struct reply_info *ri)
{
	struct json j;
	char rb[16];
	size_t i;

	json_init(&j);
	json_obj_begin(&j);
	qname_type(&j, ri);
	json_key(&j, CTL_K_SOURCE);
	json_str(&j, answer_source_name(ri->source));
	json_key(&j, CTL_K_RCODE);
	json_str(&j, answer_rcode(msg, len, rb));
	json_key(&j, CTL_K_MS);
	json_u64(&j, ri->answered - ri->received);
	json_key(&j, CTL_K_RULE); /* SPEC 18: FILE:LINE of the deciding rule */
	if (ri->rule)
		json_str(&j, ri->rule);
	else
		json_null(&j);
	json_key(&j, CTL_K_RECORDS);
	json_arr_begin(&j);
	if (msg && len >= WIRE_HDR_LEN)
		rrtext_foreach(msg, len, 0, dd_record, &j); /* as displaydns shows them */
	json_arr_end(&j);
	json_key(&j, CTL_K_TRACE);
	json_arr_begin(&j);
	for (i = 0; ri->trace && i < ri->trace->n; i++) {
		const struct up_trace_ev *ev = &ri->trace->ev[i];

		json_obj_begin(&j);
		json_key(&j, CTL_K_PHASE);
		if (ev->ddr)
			json_str(&j, "ddr");
		else
			json_u64(&j, ev->phase);
		json_key(&j, CTL_K_ADAPTER);
		json_str(&j, ev->adapter);
		json_key(&j, CTL_K_SERVER);
		json_str(&j, ev->server);
		json_key(&j, CTL_K_TRANSPORT);
		json_str(&j, ev->transport);
		json_key(&j, CTL_K_SENT_MS);
		if (ev->sent_ms >= 0)
			json_i64(&j, ev->sent_ms);
		else
			json_null(&j);
		json_key(&j, CTL_K_RESULT);
		json_str(&j, ctl_trace_result(ev->result));
		json_key(&j, CTL_K_AT_MS);
		if (ev->at_ms >= 0)
			json_i64(&j, ev->at_ms);
		else
			json_null(&j);
		if (ev->late) {
			json_key(&j, CTL_K_LATE);
			json_bool(&j, true);
		}
		json_obj_end(&j);
	}
	json_arr_end(&j);
	if (ri->trace && ri->trace->dropped) {
		json_key(&j, CTL_K_TRACE_DROPPED);
		json_u64(&j, ri->trace->dropped);
	}
	json_obj_end(&j);
	return json_take(&j, NULL);
}

char *
ctl_monitor_json(const struct reply_info *ri, const struct sockaddr *client, const uint8_t *msg,
    size_t len, uint64_t wall_ms)
{
	struct json j;
	char rb[16], peer[80], ts[96];
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (unsigned)(wall_ms % 1000));
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, CTL_K_TIME);
	json_str(&j, ts);
	json_key(&j, CTL_K_CLIENT);
	if (client) {
		cfg_format_sockaddr(client, peer, sizeof(peer));
		json_str(&j, peer);
	} else {
		json_str(&j, "control");
	}
	qname_type(&j, ri);
	json_key(&j, CTL_K_RCODE);
	json_str(&j, len ? answer_rcode(msg, len, rb) : "dropped");
	json_key(&j, CTL_K_SOURCE);
	json_str(&j, answer_source_name(ri->source));
	json_key(&j, CTL_K_MS);
	json_u64(&j, ri->answered - ri->received);
	json_obj_end(&j);
	return json_take(&j, NULL);
}

char *
control_handle(const struct control_view *v, const char *line, size_t *len, enum ctl_access *access)
{
	struct ctl_stream *stream;
	char *doc;
	size_t n = 0;
	bool done = false;

	control_start(v, line, &doc, &stream, access, NULL);
	if (stream) {
		/* the parts, joined */
		while (!done) {
			size_t pl;
			char *part = ctl_stream_next(stream, v, clock_now_ms(), &pl, &done);
			char *nd = part ? realloc(doc, n + pl + 1) : NULL;

			if (!nd) {
				free(part);
				free(doc);
				ctl_stream_free(stream);
				doc = ctl_error("out of memory");
				goto out;
			}
			doc = nd;
			memcpy(doc + n, part, pl + 1);
			n += pl;
			free(part);
		}
		ctl_stream_free(stream);
	}
out:
	if (doc && len)
		*len = strlen(doc);
	return doc;
}
