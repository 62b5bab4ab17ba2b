/*
 * search.c - recording the packets of a traced search (SPEC 15), for
 * every implementation of the seam (upstream.c, mdns.c).
 */
#include "auto-config.h"

#include <stdio.h>
#include <string.h>

#include "search.h"

int
up_trace_add(struct up_trace *t, const struct up_trace_ev *from)
{
	if (!t)
		return -1;
	if (t->n >= UP_TRACE_MAX) {
		t->dropped++;
		return -1;
	}
	t->ev[t->n] = *from;
	return (int)t->n++;
}
