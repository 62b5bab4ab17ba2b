/*
 * resolve1.h - the org.freedesktop.resolve1 D-Bus service (SPEC 11, `dbus
 * yes`): the link methods of org.freedesktop.resolve1.Manager with
 * systemd-resolved's signatures, so NetworkManager, systemd-networkd, VPN
 * clients and resolvectl hand stubd their links as they would hand them to
 * systemd-resolved.
 *
 * Touches sd-bus and libevent: the bus connection's fd, events and timeout
 * are driven from the event loop.  What the methods change it reaches
 * through struct resolve1_ops, which main provides.  Without libsystemd at
 * build time resolve1_new() fails with a reason.
 */
#ifndef STUBD_RESOLVE1_H
#define STUBD_RESOLVE1_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"

struct event_base;
struct peer_policy;
struct r1props_src;
struct resolve1;

struct resolve1_ops {
	/* argv as for "stubctl link": { "link", IFNAME, VERB, ARGS... };
	 * on failure a message in err */
	enum stub_err (
	    *link)(void *arg, enum cfg_origin o, int argc, char **argv, char *err, size_t errlen);
	void (*flush_caches)(void *arg);
	void (*reset_server_features)(void *arg);
	/* resolved-compat yes (SPEC 16): SetLinkMulticastDNS, SetLinkLLMNR,
	 * SetLinkDNSSEC and SetLinkDNSSECNegativeTrustAnchors are served;
	 * otherwise they are UnknownMethod (SPEC 11) */
	bool (*compat)(void *arg);
	void *arg;
};

/*
 * Connect to the system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured) and own
 * org.freedesktop.resolve1.  Callers are allowed as control-socket peers
 * are (peer.h; peers is the daemon's and outlives the bus).
 */
enum stub_err resolve1_new(struct event_base *base, const struct resolve1_ops *ops,
    const struct peer_policy *peers, struct resolve1 **out, char *why, size_t whylen);
void resolve1_free(struct resolve1 *r);

/*
 * SPEC 16: resolved's properties, link objects and GetLink (r1props.h),
 * served while src->compat says so; src's stored, flush and sarg are
 * resolve1's own.  resolve1_changed: a setting may have changed (a new
 * running configuration): PropertiesChanged where one did.
 */
enum stub_err resolve1_props(struct resolve1 *r, const struct r1props_src *src, char *why,
    size_t whylen);
void resolve1_changed(struct resolve1 *r);
/* For the other modules serving the Manager (r1resolve.c).  Add methods
 * (an sd_bus_vtable array) to org.freedesktop.resolve1.Manager; userdata
 * is their argument; *slot is the caller's to unref before resolve1_free. */
struct sd_bus_message;
struct sd_bus_slot;
enum stub_err resolve1_add_methods(struct resolve1 *r, const void *vtable, void *userdata,
    struct sd_bus_slot **slot);
/* The caller check of SPEC 11 (root, stubd's user, control-group): 0, or
 * AccessDenied set in error (an sd_bus_error *) and returned (negative). */
int resolve1_check_caller(struct resolve1 *r, struct sd_bus_message *m, void *error);
/* After replying outside a method handler (an asynchronous reply): let the
 * loop write what sd-bus could not yet. */
void resolve1_flush(struct resolve1 *r);

#endif
