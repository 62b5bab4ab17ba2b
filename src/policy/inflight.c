/*
 * inflight.c - coalescing table.
 */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>

#include "inflight.h"

struct inflight {
	struct flight **b;
	size_t nb;
	size_t count;
};

struct inflight *
inflight_new(void)
{
	struct inflight *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nb = 256;
	t->b = calloc(t->nb, sizeof(*t->b));
	if (!t->b) {
		free(t);
		return NULL;
	}
	return t;
}

static void
free_waiters(struct waiter *w)
{
	while (w) {
		struct waiter *n = w->next;

		free(w);
		w = n;
	}
}

void
inflight_free(struct inflight *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nb; i++) {
		struct flight *f = t->b[i], *n;

		for (; f; f = n) {
			n = f->hnext;
			free_waiters(f->waiters);
			free(f);
		}
	}
	free(t->b);
	free(t);
}

static bool
same(const struct msg_query *a, const struct msg_query *b)
{
	return a->hash == b->hash && a->qlen == b->qlen && a->qtype == b->qtype &&
	    a->qclass == b->qclass && a->do_bit == b->do_bit && a->cd_bit == b->cd_bit &&
	    memcmp(a->key, b->key, a->qlen) == 0;
}

struct flight *
inflight_find(struct inflight *t, const struct msg_query *q)
{
	struct flight *f;

	if (!t || t->count == 0)
		return NULL;
	for (f = t->b[q->hash & (t->nb - 1)]; f; f = f->hnext)
		if (same(&f->q, q))
			return f;
	return NULL;
}

struct flight *
inflight_find_need(struct inflight *t, const struct msg_query *q, unsigned need)
{
	struct flight *f;

	if (!t || t->count == 0)
		return NULL;
	for (f = t->b[q->hash & (t->nb - 1)]; f; f = f->hnext)
		if (same(&f->q, q) && (f->need & need) == need)
			return f;
	return NULL;
}

static void
grow(struct inflight *t)
{
	size_t nb = t->nb * 2, i;
	struct flight **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (i = 0; i < t->nb; i++) {
		struct flight *f = t->b[i], *n;

		for (; f; f = n) {
			n = f->hnext;
			f->hnext = b[f->q.hash & (nb - 1)];
			b[f->q.hash & (nb - 1)] = f;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

struct flight *
inflight_add(struct inflight *t, const struct msg_query *q)
{
	struct flight *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->q = *q;
	if (t->count >= t->nb)
		grow(t);
	f->hnext = t->b[q->hash & (t->nb - 1)];
	t->b[q->hash & (t->nb - 1)] = f;
	t->count++;
	return f;
}

enum stub_err
inflight_wait(struct flight *f, const struct msg_query *q, const struct client_ref *ref,
    uint64_t t0, bool joined)
{
	struct waiter *w = malloc(sizeof(*w));

	if (!w)
		return STUB_ENOMEM;
	w->ref = *ref;
	w->q = *q;
	w->t0 = t0;
	w->joined = joined;
	w->next = f->waiters;
	f->waiters = w;
	f->nwaiters++;
	return STUB_OK;
}

struct waiter *
inflight_take_waiters(struct flight *f)
{
	struct waiter *w = f->waiters;

	f->waiters = NULL;
	f->nwaiters = 0;
	return w;
}

void
inflight_remove(struct inflight *t, struct flight *f)
{
	struct flight **pp = &t->b[f->q.hash & (t->nb - 1)];

	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = f->hnext;
		t->count--;
	}
	free_waiters(f->waiters);
	free(f);
}

void
inflight_foreach(struct inflight *t, void (*fn)(struct flight *f, void *arg), void *arg)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nb; i++) {
		struct flight *f;

		for (f = t->b[i]; f; f = f->hnext)
			fn(f, arg);
	}
}

size_t
inflight_count(const struct inflight *t)
{
	return t ? t->count : 0;
}
