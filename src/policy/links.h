/*
 * links.h - adapters learned from the system (SPEC 11): network links
 * configured over the control socket (stubctl link) or D-Bus, and the
 * interface files of resolvconf-dir.  Each link is one adapter named after
 * its interface and bound to it.
 *
 * Pure: no I/O.  reconfig.c renders the links as stubd.conf lines appended to
 * the configuration, so learned adapters go through the same parser and
 * engine as configured ones.
 */
#ifndef STUBD_LINKS_H
#define STUBD_LINKS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"

#define LINK_MAX_SERVERS 16
#define LINK_MAX_DOMAINS 32
#define LINK_MAX_DNR 8          /* DNR resolvers per link */
#define LINK_METRIC_DEFAULT 100 /* learned adapters without a route metric */

struct link_server {
	char text[80];  /* "192.0.2.1:53" or "[2001:db8::1]:53" */
	char name[256]; /* "#NAME" (authentication name), "" = none */
	char host[64];  /* the address alone: "192.0.2.1", "2001:db8::1" */
	bool has_port;  /* a port was given (else 53, or 853 over TLS) */
};

struct link {
	char ifname[CFG_IFNAME_MAX];
	enum cfg_origin origin;
	struct link_server servers[LINK_MAX_SERVERS];
	size_t nservers;
	char domains[LINK_MAX_DOMAINS][256]; /* text, lower case, no trailing dot */
	bool routing_only[LINK_MAX_DOMAINS];
	size_t ndomains;
	bool default_route;      /* false: only names under its domains */
	bool dot;                /* DNS over TLS (SetLinkDNSOverTLS yes) */
	bool enc_set;            /* SPEC 17: the link's encryption policy given */
	enum cfg_encryption enc; /* ... and which (rendered on its adapter line) */
	int metric;
	bool mdns_off;                    /* SPEC 19: MulticastDNS no (stubctl link IF mdns no) */
	struct cfg_dnr dnr[LINK_MAX_DNR]; /* SPEC 17: DNR resolvers, as given */
	size_t ndnr;
};

struct links {
	struct link *v;
	size_t n;
};

void links_init(struct links *l);
void links_fini(struct links *l);

/* Set a link's servers ("ADDR[:PORT][#NAME]"), routing domains ("[~]D";
 * "~" = routing-only) or default route; the link is created when new and
 * takes the origin given.  STUB_OK; or STUB_EINVAL (or STUB_ENOMEM) with
 * a reason in why, nothing changed. */
enum stub_err links_set_dns(struct links *l, const char *ifname, enum cfg_origin o,
    char *const *addrs, size_t n, char *why, size_t whylen);
enum stub_err links_set_domains(struct links *l, const char *ifname, enum cfg_origin o,
    char *const *doms, size_t n, char *why, size_t whylen);
enum stub_err links_set_default_route(struct links *l, const char *ifname, enum cfg_origin o,
    bool yes, char *why, size_t whylen);
/* Forget a link; false when there was none. */
/* DNS over TLS to the link's servers (strict: authenticated by their
 * #NAME, or by their address when they have none; port 853 unless given). */
enum stub_err links_set_dot(struct links *l, const char *ifname, enum cfg_origin o, bool yes,
    char *why, size_t whylen);
/* SPEC 17: the link's encryption policy (dns-over-tls yes -> require,
 * opportunistic -> opportunistic, no -> off), an option of its adapter. */
enum stub_err links_set_encryption(struct links *l, const char *ifname, enum cfg_origin o,
    enum cfg_encryption e, char *why, size_t whylen);
/* SPEC 19: multicast DNS on the link's interface (SetLinkMulticastDNS,
 * stubctl link IF mdns yes|no); every interface asks unless set to no. */
enum stub_err links_set_mdns(struct links *l, const char *ifname, enum cfg_origin o, bool yes,
    char *why, size_t whylen);
/* true when the interface is set to MulticastDNS no */
bool links_mdns_off(const struct links *l, const char *ifname);
/* SPEC 17, DNR (RFC 9463): add one encrypted resolver to the link
 * (words PRIORITY NAME ADDR[,ADDR] alpn=dot,h2 [port=N] [dohpath=PATH]);
 * one with the same priority and name is replaced.  STUB_EINVAL with a
 * reason (bad words, more than LINK_MAX_DNR), nothing changed. */
enum stub_err links_add_dnr(struct links *l, const char *ifname, enum cfg_origin o, char *const *w,
    size_t n, char *why, size_t whylen);
/* Replace the link's DNR resolvers with v[0..n-1] (n may be 0: clear). */
enum stub_err links_set_dnr(struct links *l, const char *ifname, enum cfg_origin o,
    const struct cfg_dnr *v, size_t n, char *why, size_t whylen);
/* Replace the link's DNR resolvers of one family with those of DHCP
 * options given as hex (v6 false: option 162, one argument; true: option
 * 144, one argument per option; n 0: none); the other family's stay.
 * Instances stubd cannot use are left out.  STUB_EINVAL with a reason
 * when an option is malformed, nothing changed. */
enum stub_err links_set_dnr_option(struct links *l, const char *ifname, enum cfg_origin o, bool v6,
    char *const *hex, size_t n, char *why, size_t whylen);
bool links_revert(struct links *l, const char *ifname);
/* Forget every link of an origin (before reading resolvconf-dir again). */
void links_drop_origin(struct links *l, enum cfg_origin o);

/*
 * One file of resolvconf-dir: the interface is the file name up to its
 * first dot ("eth0.dhclient" -> eth0); nameserver lines are its servers,
 * search and domain names its routing domains.  Several files of one
 * interface add up.  Bad lines go to err(arg, line, message).  STUB_OK;
 * STUB_EINVAL when the file name is not an interface name; STUB_ENOMEM.
 */
enum stub_err links_add_resolvconf(struct links *l, const char *fname, const char *text, size_t len,
    void (*err)(void *arg, unsigned line, const char *msg), void *arg);

/*
 * The links as stubd.conf lines ("adapter IF device IF metric M ...",
 * "server ...", "dnr ...", "domain ..."; a server "ADDR#NAME" of a link
 * without DNS over TLS is also a DNR resolver NAME at ADDR offering dot,
 * so its encrypted twin), skipping links without servers and links
 * named like an adapter of base (reported through skip()).  Caller frees;
 * NULL on OOM.
 */
char *links_config_text(const struct links *l, const struct cfg *base,
    void (*skip)(void *arg, const char *ifname), void *arg);

/* The origin of the link named ifname (ORIGIN_CONFIG when none). */
enum cfg_origin links_origin(const struct links *l, const char *ifname);

#endif
