/*
 * config.h - stubd.conf and command-line settings as one struct cfg.
 *
 * Parsing is pure: the parser reads text it is given (or one file) and
 * fills a struct cfg; it opens no sockets and resolves no users or groups.
 * Errors are collected as "FILE:LINE: message" lines.
 * A struct cfg owns every string and array it points to; cfg_unref()
 * releases them all.
 */
#ifndef STUBD_CONFIG_H
#define STUBD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "err.h"
#include "wire.h"

#define CFG_MAX_TIMEOUTS 16
#define CFG_NAME_MAX 32          /* adapter names, devices (with NUL) */
#define CFG_IFNAME_MAX 16        /* IFNAMSIZ */
#define CFG_LINE_MAX 4096        /* one line of stubd.conf */
#define CFG_MAX_WORDS 32         /* words on one line */
#define CFG_PHASE_MAX_MS 600000  /* longest phase of `timeouts` */
#define CFG_CONTROL_PATH_MAX 100 /* fits sockaddr_un.sun_path */
#define DNS_PORT 53
#define CFG_CACHE_MEMORY_DEFAULT ((uint64_t)64 << 20)
#define CFG_CACHE_MEMORY_MIN ((uint64_t)64 << 10)
#define CFG_CACHE_MEMORY_MAX ((uint64_t)1 << 40)

enum cfg_prio { PRIO_FIRST = 0, PRIO_NORMAL = 1, PRIO_LAST = 2 };

/* How queries reach a server (SPEC 12): a row each in transports.def.
 * XPORT_UDP: clear text, UDP (TCP when truncated); XPORT_TLS: DNS over
 * TLS, RFC 7858; XPORT_HTTPS: DNS over HTTPS, RFC 8484. */
enum cfg_transport {
#define TRANSPORT(kind, name, port, encrypted, factory) kind,
#include "transports.def"
#undef TRANSPORT
};
enum {
	XPORT_COUNT = 0
#define TRANSPORT(kind, name, port, encrypted, factory) +1
#include "transports.def"
#undef TRANSPORT
};

#define CFG_MAX_PINS 4      /* SPKI pins per server */
#define CFG_PIN_LEN 32      /* SHA-256 */
#define CFG_HOST_MAX 254    /* a host name with NUL */
#define CFG_URLPATH_MAX 256 /* the path of an https URL with NUL */
/* cfg_server_url's longest answer with NUL: scheme, address, path, name */
#define CFG_URL_MAX (16 + 64 + CFG_URLPATH_MAX + CFG_HOST_MAX)
#define CFG_TLS_CA_DEFAULT "/etc/ssl/certs/ca-certificates.crt"

struct cfg_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* SPEC 17: how a clear-text server may be upgraded to an encrypted twin. */
enum cfg_encryption {
	ENC_INHERIT = -1, /* an adapter without its own: the global one */
	ENC_OFF = 0,
	ENC_AUTO,
	ENC_OPPORTUNISTIC,
	ENC_REQUIRE,
};
/* How a twin was found ("upgrade" in stubctl servers). */
enum cfg_upgrade {
	UPGRADE_NONE = 0,
	UPGRADE_KNOWN,   /* the known table or an encryption-template */
	UPGRADE_DDR,     /* DDR, verified (certificate names the server's IP) */
	UPGRADE_DDR_OPP, /* DDR, unverified (opportunistic: same private IP) */
	UPGRADE_DNR,     /* DNR: a link's encrypted resolver at the same address */
};

/* "off", "auto", "opportunistic", "require"; "inherit" for ENC_INHERIT. */
const char *cfg_encryption_name(enum cfg_encryption e);
/* The word to the value; -1 when none. */
int cfg_encryption_parse(const char *s);

#define CFG_MAX_TEMPLATES 16
/* encryption-template ADDR tls NAME | ADDR https://HOST[:PORT]/PATH */
struct cfg_template {
	struct cfg_sockaddr addr; /* port ignored: any port of ADDR */
	enum cfg_transport transport;
	uint16_t port; /* of the twin: 853, or the URL's (443) */
	char name[CFG_HOST_MAX];
	char path[CFG_URLPATH_MAX];
};

/* dnr lines in all: a sanity cap far above what links bring (each up to
 * LINK_MAX_DNR dnr entries plus one per named server, 8 + 16) */
#define CFG_MAX_DNR 8192
#define CFG_DNR_MAX_ADDRS 8 /* addresses of one dnr line */
/* dnr PRIORITY NAME ADDR[,ADDR] alpn=dot,h2 [port=N] [dohpath=PATH]: an
 * encrypted resolver of an adapter's network (RFC 9463 DNR), authenticated
 * by NAME (SPEC 17). */
struct cfg_dnr {
	size_t adapter;
	uint16_t priority; /* lower first */
	char name[CFG_HOST_MAX];
	struct cfg_sockaddr addrs[CFG_DNR_MAX_ADDRS]; /* ports not set */
	size_t naddrs;
	bool dot, h2;               /* the ALPNs stubd speaks that it offers */
	uint16_t port;              /* 0 = the transport's (853, 443) */
	char path[CFG_URLPATH_MAX]; /* dohpath; "" = none ("/dns-query") */
};

struct cfg_acl {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

struct cfg_server {
	struct cfg_sockaddr addr;
	enum cfg_prio prio;
	size_t adapter; /* index into cfg.adapters */
	bool no_0x20;   /* opted out of upstream-0x20 */
	bool trust_ad;  /* its AD bit may be passed on (SPEC 12) */
	enum cfg_transport transport;
	bool insecure;                /* tls/https without authentication */
	char auth_name[CFG_HOST_MAX]; /* SNI and certificate name; "" = none */
	char path[CFG_URLPATH_MAX];   /* https: "/dns-query" */
	uint8_t pins[CFG_MAX_PINS][CFG_PIN_LEN];
	size_t npins;
	char text[64]; /* "192.0.2.1:53" or "[2001:db8::1]:53" */
	/* SPEC 17 (encryption.c): set by cfg_finish */
	enum cfg_encryption encryption; /* the policy over it (its adapter's) */
	enum cfg_upgrade upgrade;       /* clear text with a twin: how found */
	size_t twin;                    /* clear text: index + 1 of its encrypted twin, 0 = none */
	size_t clear;                   /* a twin: index + 1 of its clear-text server, 0 = none */
	/* a DDR twin: its certificate must also list this address as an
	 * iPAddress subjectAltName (the clear-text server's); len 0 = none */
	struct cfg_sockaddr san_ip;
};

/* Is it an IPv6 link-local address (fe80::/10), reachable only through
 * its interface? */
bool cfg_linklocal6(const struct cfg_sockaddr *sa);
/* Is the server authenticated (tls/https with a name or pins checked)? */
bool cfg_server_authenticated(const struct cfg_server *s);
/* May a TLS session made with a be resumed with b: the same address,
 * transport, name, path, pins, insecure flag and (a DDR twin's) IP SAN --
 * everything the handshake verified? */
bool cfg_same_tls_identity(const struct cfg_server *a, const struct cfg_server *b);
/* May the AD bit of its answers reach clients (SPEC 12)? */
bool cfg_server_trusts_ad(const struct cfg_server *s);
/* "udp", "tls" or "https". */
const char *cfg_transport_name(enum cfg_transport t);
/* The port when a server line gives none: 53, 853, 443. */
uint16_t cfg_transport_port(enum cfg_transport t);
/* Encrypted (tls, https): names and pins checked, handshakes counted. */
bool cfg_transport_encrypted(enum cfg_transport t);
/* How displaydns and logs name a server: "192.0.2.1:53",
 * "tls://192.0.2.1:853#dns.example", "https://192.0.2.1:443/dns-query#dns.example". */
void cfg_server_url(const struct cfg_server *s, char *buf, size_t len);

struct cfg_domain {
	uint8_t name[WIRE_NAME_MAX];
	size_t len;
};

/* Where an adapter came from (SPEC 11). */
enum cfg_origin {
	ORIGIN_CONFIG = 0,  /* stubd.conf or -s */
	ORIGIN_RESOLV_FILE, /* the servers of resolv-file */
	ORIGIN_RESOLVCONF,  /* a file of resolvconf-dir */
	ORIGIN_DBUS,        /* org.freedesktop.resolve1 */
	ORIGIN_CONTROL,     /* stubctl link */
};

struct cfg_adapter {
	char name[CFG_NAME_MAX];
	char device[CFG_NAME_MAX];  /* "" = none */
	struct cfg_sockaddr source; /* len 0 = none */
	int metric;
	bool default_route; /* false: only names under its domains */
	enum cfg_origin origin;
	struct cfg_domain *domains;
	size_t ndomains;
	/* search domains that route nothing (resolv-file's search/domain
	 * lines on the adapter of its servers): only rebinding protection's
	 * exemption (SPEC 18).  A link's domains are routing domains. */
	struct cfg_domain *search;
	size_t nsearch;
	int line;                       /* where defined (0 = implicit) */
	enum cfg_encryption encryption; /* ENC_INHERIT = the global one */
	/* device's interface index as rtnetlink last told (the daemon's
	 * reconfig keeps it, so no query asks the kernel); 0 = unknown */
	unsigned ifindex;
};

struct cfg {
	struct cfg_sockaddr *listens;
	size_t nlistens;
	struct cfg_acl *acls;
	size_t nacls;
	char *control;       /* NULL = off */
	char *control_group; /* NULL = none */
	char *hosts;         /* NULL = none */
	uint32_t hosts_ttl;
	uint32_t cache_size;
	uint64_t cache_memory; /* bytes */
	uint32_t max_ttl, min_ttl, max_negative_ttl, negative_ttl;
	uint32_t timeouts_ms[CFG_MAX_TIMEOUTS];
	size_t ntimeouts;
	uint32_t exclude_ms;
	uint32_t serve_stale; /* seconds; 0 = off */
	uint32_t max_tcp_clients;
	uint32_t max_inflight;
	char *user;         /* NULL = stay */
	bool upstream_0x20; /* randomise the case of upstream questions */
	char *resolv_file;
	char *resolvconf_dir;           /* NULL = none */
	bool dbus;                      /* serve org.freedesktop.resolve1 */
	bool dbus_set;                  /* a dbus line was given (resolved-compat implies yes) */
	bool resolved_compat;           /* SPEC 16: varlink io.systemd.Resolve, implies dbus */
	bool prefetch;                  /* refresh popular answers before they expire */
	bool mdns;                      /* .local names by multicast DNS (SPEC 19) */
	uint32_t mdns_timeout_ms;       /* no mDNS answer within this: NXDOMAIN */
	char *cache_file;               /* cache kept across restarts; NULL = none */
	char *tls_ca;                   /* trust store of tls and https servers */
	struct cfg_sockaddr metrics;    /* Prometheus endpoint; len 0 = off */
	enum cfg_encryption encryption; /* SPEC 17; default off */
	struct cfg_template templates[CFG_MAX_TEMPLATES];
	size_t ntemplates;
	struct cfg_dnr *dnr; /* by adapter, in file order; owned */
	size_t ndnr;
	struct polcfg *policy; /* rule, blocklist...: polcfg.h; NULL = none */
	struct cfg_adapter *adapters;
	size_t nadapters;
	struct cfg_server *servers;
	size_t nservers;
	bool servers_from_resolv; /* set by cfg_finish: servers came from resolv-file */
	int refs;                 /* cfg_ref()/cfg_unref() */
	/* diagnostics: "FILE:LINE: message\n" lines */
	char *errors;
	size_t nerrors;
};

struct pctx;
struct polcfg;

/* One directive of stubd.conf (config.c has the table). */
struct cfg_directive {
	const char *name;
	int min_args, max_args; /* values after the directive */
	int (*parse)(struct pctx *x, char **w, int n);
	const char *usage; /* "listen ADDR[:PORT]" */
	const char *help;
};

/* The table of every directive, for tests and documentation checks. */
const struct cfg_directive *cfg_directives(size_t *n);

/* Defaults as the SPEC lists them.  control and resolv-file defaults are
 * passed in (configured paths).  Returns NULL on OOM. */
struct cfg *cfg_new(const char *control_default, const char *hosts_default);
/* Drop one reference (the creator holds the first); frees at zero. */
void cfg_unref(struct cfg *c);
/* Take another reference. */
struct cfg *cfg_ref(struct cfg *c);

/* Parse configuration text.  fname is used in messages only.
 * Returns the number of errors found (also in c->errors). */
size_t cfg_parse_text(struct cfg *c, const char *text, size_t len, const char *fname);
/* Read and parse a file.  missing_ok: a missing file is not an error.
 * Returns the number of errors (a missing given file counts as one). */
size_t cfg_parse_file(struct cfg *c, const char *path, bool missing_ok);

/* Command-line overrides (first: replace what the file gave); on failure
 * one line in why. */
enum stub_err
cfg_listen_clear_add(struct cfg *c, bool first, const char *arg, char *why, size_t whylen);
enum stub_err cfg_server_arg(struct cfg *c, bool first, const char *arg, char *why, size_t whylen);

/*
 * Complete the configuration after parsing and overrides: default listen
 * addresses and ACL; the implicit "default" adapter.  If no server is
 * configured, resolv_text (contents of resolv-file, may be NULL) gives the
 * servers, skipping addresses stubd listens on.  Returns errors added.
 */
size_t cfg_finish(struct cfg *c, const char *resolv_text);

/* Parse "ADDR[:PORT]" / "[V6]:PORT" / bare v6; STUB_EFORMAT. */
enum stub_err cfg_parse_sockaddr(const char *s, uint16_t defport, struct cfg_sockaddr *out);
/* Format an address as "1.2.3.4:53" or "[::1]:53". */
void cfg_format_sockaddr(const struct sockaddr *sa, char *buf, size_t len);
/* A deep copy (one reference, no diagnostics), or NULL on OOM. */
struct cfg *cfg_clone(const struct cfg *c);
/* Does stubd listen on this address (a wildcard listen address counts for
 * loopback ones)? */
bool cfg_listens_on(const struct cfg *c, const struct cfg_sockaddr *sa);
/* Is it 127.0.0.53:53, systemd-resolved's stub address?  Under
 * resolved-compat stubd listens there (SPEC 16) and never takes it as an
 * upstream server from resolv-file (/etc/resolv.conf pointing at
 * stub-resolv.conf). */
bool cfg_stub_addr(const struct cfg_sockaddr *sa);
/* "config", "resolv-file", "resolvconf", "dbus" or "control". */
const char *cfg_origin_name(enum cfg_origin o);

/* Does the client address match any ACL entry? */
bool cfg_acl_match(const struct cfg *c, const struct sockaddr *sa);
/* An adapter or interface name: 1..31 letters, digits, '-', '_', '.'. */
bool cfg_valid_name(const char *s);
/* Index of an adapter by name, or -1. */
long cfg_adapter_find(const struct cfg *c, const char *name);

/* Comparing two configurations (reload, network changes). */
/* The same listen addresses, in the same order? */
bool cfg_same_listens(const struct cfg *a, const struct cfg *b);
/* Does adapter a of nc have the same servers (and default-route) as the
 * adapter of that name in old? */
bool cfg_same_adapter(const struct cfg *old, const struct cfg *nc, size_t a);
/* Does a server trusted for AD in old (SPEC 12) lose that trust in nc, by
 * going or by being trusted no longer? */
bool cfg_ad_trust_lost(const struct cfg *old, const struct cfg *nc);

/* c->errors, one line at a time: to stderr, or to the log (log_err). */
void cfg_print_errors(const struct cfg *c, bool to_log);
/*
 * The built-in listen addresses of c (file has no listen line, no -l) of
 * a family this host has switched off (IPv6 disabled: [::1] cannot be
 * bound) are left out, with a warning unless quiet; an address the
 * operator chose stays (binding it fails later).  Not when that would
 * leave nothing to listen on.  Probes with sockets.
 */
void cfg_skip_unusable_listens(const struct cfg *file, struct cfg *c, bool quiet);

#endif
