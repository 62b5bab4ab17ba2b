/*
 * list.h - the one intrusive doubly linked list.
 *
 * A list is a `struct list` head (a sentinel: the list is circular
 * through it); an element embeds a `struct list` and is found back from
 * it with list_entry.  A node not on any list points to itself, so
 * list_remove is safe to call twice.  Neither head nor element may be
 * moved in memory while linked.
 */
#ifndef STUBD_LIST_H
#define STUBD_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list {
	struct list *prev, *next;
};

static inline void
list_init(struct list *l)
{
	l->prev = l->next = l;
}

static inline bool
list_empty(const struct list *l)
{
	return l->next == l;
}

/* n after at (at may be the head: n becomes the first) */
static inline void
list_insert_after(struct list *at, struct list *n)
{
	n->prev = at;
	n->next = at->next;
	at->next->prev = n;
	at->next = n;
}

static inline void
list_push_front(struct list *head, struct list *n)
{
	list_insert_after(head, n);
}

static inline void
list_push_back(struct list *head, struct list *n)
{
	list_insert_after(head->prev, n);
}

static inline void
list_remove(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

/* the element holding node p */
#define list_entry(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))
/* the first or last element, NULL when the list is empty */
#define list_first(head, type, member) \
	(list_empty(head) ? NULL : list_entry((head)->next, type, member))
#define list_last(head, type, member) \
	(list_empty(head) ? NULL : list_entry((head)->prev, type, member))
/* every node, first to last; _safe: p may be removed in the body */
#define list_for_each(p, head) for ((p) = (head)->next; (p) != (head); (p) = (p)->next)
#define list_for_each_safe(p, n, head) \
	for ((p) = (head)->next, (n) = (p)->next; (p) != (head); (p) = (n), (n) = (p)->next)

#endif
