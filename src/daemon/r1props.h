/*
 * r1props.h - the properties of org.freedesktop.resolve1 (SPEC 16,
 * `resolved-compat yes`) with systemd-resolved's names and types: those
 * of the Manager that `resolvectl status` and `resolvectl statistics`
 * read, one org.freedesktop.resolve1.Link object per interface at
 * /org/freedesktop/resolve1/link/_3N (N the interface index, escaped as
 * sd_bus_path_encode does), the Manager's GetLink, and
 * org.freedesktop.DBus.Properties.PropertiesChanged when a setting changes
 * (servers, domains, default route, DNS over TLS, mDNS, DNSSEC; the
 * current server and the statistics do not signal).
 *
 * Holds no state of the daemon's: every value is pulled when asked from
 * the control view (configuration, schedule, cache, stats), the learned
 * links and what resolve1.c stores per link, through struct r1props_src.
 * Only resolve1.c creates it, on its own bus connection; the deferred
 * PropertiesChanged runs on a libevent timer.
 */
#ifndef STUBD_R1PROPS_H
#define STUBD_R1PROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctlcmd.h"
#include "err.h"
#include "links.h"

struct event_base;
struct sd_bus;
struct r1props;

struct r1props_src {
	/* the daemon as it is now (main's control view) */
	void (*view)(void *arg, struct control_view *out);
	/* searches in flight (TransactionStatistics' current) */
	size_t (*inflight)(void *arg);
	/* the learned links (SPEC 11): routing-only domains, MulticastDNS no */
	const struct links *(*links)(void *arg);
	/* resolved-compat yes: the properties are served */
	bool (*compat)(void *arg);
	/* the counters at the last ResetStatistics (D-Bus or varlink), NULL =
	 * never: the statistics properties count from there, as resolved's */
	const struct stats *(*zero)(void *arg);
	void *arg;
	/* resolve1.c's stored settings of a link: DNSSEC mode ("" or NULL =
	 * none) and negative trust anchors (space-separated; NULL = none) */
	void (*stored)(void *sarg, int32_t ifindex, const char **dnssec, const char **nta);
	/* signals were queued on the bus: have them written */
	void (*flush)(void *sarg);
	void *sarg;
};

/* Nothing is registered on bus until r1props_changed() finds compat on. */
enum stub_err r1props_new(struct sd_bus *bus, struct event_base *base,
    const struct r1props_src *src, struct r1props **out, char *why, size_t whylen);
/* Something may have changed (a new running configuration, a stored link
 * setting): soon, the objects are (un)registered as compat says and
 * PropertiesChanged sent for each object whose settings differ. */
void r1props_changed(struct r1props *p);
void r1props_free(struct r1props *p);

#endif
