/*
 * polcfg.c - the policy directives as read, and the table built from them.
 * See polcfg.h.
 */
#include "auto-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "file.h"
#include "polcfg.h"
#include "text.h"

struct polcfg *
polcfg_get(struct polcfg **slot)
{
	if (!*slot) {
		*slot = calloc(1, sizeof(**slot));
		if (!*slot)
			return NULL;
		(*slot)->refs = 1;
		(*slot)->block_action = POL_ACT_NULL;
	}
	return *slot;
}

struct polcfg *
polcfg_ref(struct polcfg *p)
{
	if (p)
		p->refs++;
	return p;
}

void
polcfg_unref(struct polcfg *p)
{
	size_t i;
	int j;

	if (!p || --p->refs > 0)
		return;
	for (i = 0; i < p->nrules; i++) {
		for (j = 0; j < p->rules[i].nwords; j++)
			free(p->rules[i].words[j]);
		free(p->rules[i].words);
		free(p->rules[i].fname);
	}
	for (i = 0; i < p->nlists; i++) {
		free(p->lists[i].path);
		free(p->lists[i].name);
	}
	free(p->rules);
	free(p->lists);
	free(p);
}

enum stub_err
polcfg_add_rule(struct polcfg *p, char **w, int n, const char *fname, unsigned line, char *why,
    size_t whylen)
{
	struct policy *scratch = policy_new(0);
	struct polcfg_rule *r, *nr;
	enum stub_err e;
	int i;

	if (!scratch)
		goto fail;
	/* the same check the table makes, so -t reports it */
	e = policy_add_rule(scratch, w, n, (struct pol_origin){ 0, line }, why, whylen);
	policy_free(scratch);
	if (e == STUB_ENOMEM)
		goto fail;
	if (e != STUB_OK)
		return e;
	nr = realloc(p->rules, (p->nrules + 1) * sizeof(*nr));
	if (!nr)
		goto fail;
	p->rules = nr;
	r = &nr[p->nrules];
	memset(r, 0, sizeof(*r));
	r->words = calloc((size_t)n, sizeof(char *));
	r->fname = strdup(fname ? fname : "stubd.conf");
	r->line = line;
	p->nrules++;
	if (!r->words || !r->fname)
		goto fail;
	for (i = 0; i < n; i++) {
		r->words[i] = strdup(w[i]);
		if (!r->words[i])
			goto fail;
		r->nwords = i + 1;
	}
	return STUB_OK;
fail:
	/* a half-copied rule stays in p, which frees it */
	snprintf(why, whylen, "out of memory");
	return STUB_ENOMEM;
}

enum stub_err
polcfg_add_list(struct polcfg *p, const char *path, int format, enum pol_action action, bool allow)
{
	struct polcfg_list *nl = realloc(p->lists, (p->nlists + 1) * sizeof(*nl));

	if (!nl)
		return STUB_ENOMEM;
	p->lists = nl;
	nl[p->nlists].path = strdup(path);
	if (!nl[p->nlists].path)
		return STUB_ENOMEM;
	nl[p->nlists].format = format;
	nl[p->nlists].action = action;
	nl[p->nlists].allow = allow;
	nl[p->nlists].name = NULL;
	p->nlists++;
	return STUB_OK;
}

enum bl_format
blocklist_detect(const char *text, size_t len)
{
	struct text_lines it;
	char line[512], *w[4];
	int seen = 0;

	text_lines_init(&it, text, len);
	while (seen < 50) {
		enum text_line k = text_next_line(&it, line, sizeof(line));
		char *t = line;
		int n;

		if (k == TEXT_LINE_END)
			break;
		if (k != TEXT_LINE_OK)
			continue;
		while (*t == ' ' || *t == '\t')
			t++;
		if (t[0] == '!' || t[0] == '[' || (t[0] == '|' && t[1] == '|') ||
		    (t[0] == '@' && t[1] == '@'))
			return BL_ADBLOCK;
		if (t[0] == '$' || t[0] == ';' || strstr(t, " CNAME ") || strstr(t, "\tCNAME") ||
		    strstr(t, " SOA "))
			return BL_RPZ;
		n = text_words(t, w, 4, true);
		if (n <= 0)
			continue;
		seen++;
		if (n >= 2 && (isdigit((unsigned char)w[0][0]) || w[0][0] == ':'))
			return BL_HOSTS;
		if (w[0][0] == '*' && w[0][1] == '.')
			return BL_WILDCARD;
	}
	return BL_DOMAINS;
}

struct policy *
policy_build(const struct polcfg *pc, uint64_t seed,
    void (*log_list)(void *arg, const struct polcfg_list *l, const struct bl_stats *st,
        int read_errno),
    void *arg)
{
	struct policy *p = policy_new(seed);
	char why[256];
	size_t i;

	if (!p || !pc)
		return p;
	policy_set_default_action(p, pc->block_action);
	for (i = 0; i < pc->nrules; i++) {
		const struct polcfg_rule *r = &pc->rules[i];
		struct pol_origin o = { policy_source(p, r->fname), r->line };

		if (o.src == UINT32_MAX ||
		    policy_add_rule(p, r->words, r->nwords, o, why, sizeof(why)) == STUB_ENOMEM)
			goto oom;
	}
	for (i = 0; i < pc->nlists; i++) {
		const struct polcfg_list *l = &pc->lists[i];
		struct bl_stats st = { 0 };
		char *text = NULL;
		size_t len = 0;
		uint32_t src;
		enum bl_format f;

		if (file_read(l->path, &text, &len) != 0) {
			if (log_list)
				log_list(arg, l, &st, errno ? errno : EIO);
			continue;
		}
		src = policy_source(p, l->path);
		f = l->format >= 0 ? (enum bl_format)l->format : blocklist_detect(text, len);
		if (src == UINT32_MAX ||
		    blocklist_parse(p, text, len, f, l->allow, l->action, src, &st) != STUB_OK) {
			free(text);
			goto oom;
		}
		free(text);
		if (log_list)
			log_list(arg, l, &st, 0);
	}
	return p;
oom:
	policy_free(p);
	return NULL;
}

size_t
polcfg_route_adapters(const struct polcfg *pc, struct cfg *c)
{
	size_t i, unknown = 0;
	int k;

	for (i = 0; pc && i < pc->nrules; i++) {
		const struct polcfg_rule *r = &pc->rules[i];
		struct cfg_domain dom;

		if (r->nwords < 3 || strcmp(r->words[1], "adapter") != 0)
			continue;
		dom.len = wire_name_from_text(r->words[0], dom.name);
		if (dom.len == 0)
			continue;
		wire_name_lower(dom.name, dom.len);
		for (k = 2; k < r->nwords; k++) {
			long a = cfg_adapter_find(c, r->words[k]);
			struct cfg_adapter *ad;
			size_t d;

			if (a < 0) {
				unknown++;
				continue;
			}
			ad = &c->adapters[a];
			for (d = 0; d < ad->ndomains; d++)
				if (ad->domains[d].len == dom.len &&
				    memcmp(ad->domains[d].name, dom.name, dom.len) == 0)
					break;
			if (d < ad->ndomains)
				continue;
			if (cfg_grow(&ad->domains, ad->ndomains, sizeof(*ad->domains)) != STUB_OK)
				return unknown + 1;
			ad->domains[ad->ndomains++] = dom;
		}
	}
	return unknown;
}
