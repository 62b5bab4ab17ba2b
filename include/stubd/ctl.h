/*
 * stubd/ctl.h - the control protocol shared by stubd and stubctl: the one
 * table of commands (name, arguments, read-only or mutating, usage, the
 * keys of the answer) and the names of those keys.
 *
 * Transport: a Unix stream socket.  The client sends one line
 * "COMMAND [ARG...]\n" of at most CTL_LINE_MAX bytes (newline included);
 * the daemon answers with one JSON document and closes the connection
 * (query: once its answer is in).  monitor instead keeps the connection
 * and writes one JSON object a line for every query answered, until the
 * client goes.  Errors are {"error": "message"}.  stubctl(8) documents every command and
 * key; check_control verifies that it names every one in this table.
 */
#ifndef STUBD_CTL_H
#define STUBD_CTL_H

#include <stddef.h>

#define CTL_LINE_MAX 1024                     /* request line, newline included */
#define CTL_MAX_ARGS 40                       /* words on a request line */
#define CTL_READ_TIMEOUT_MS 5000              /* daemon waits this long for the line */
#define CTL_REPLY_MAX (1024u * 1024u * 1024u) /* stubctl refuses more */

enum ctl_cmd {
	CTL_CMD_DISPLAYDNS,
	CTL_CMD_FLUSHDNS,
	CTL_CMD_STATS,
	CTL_CMD_SERVERS,
	CTL_CMD_RELOAD,
	CTL_CMD_LINK,
	CTL_CMD_QUERY,
	CTL_CMD_MONITOR,
	CTL_NCMDS
};

enum ctl_access {
	CTL_READ_ONLY, /* shows state */
	CTL_MUTATING,  /* changes state (logged as such) */
};

struct ctl_command {
	enum ctl_cmd id;
	const char *name;
	unsigned min_args, max_args; /* words after the command */
	enum ctl_access access;
	const char *usage;       /* "displaydns [NAME]" */
	const char *const *keys; /* keys the answer carries, NULL-terminated */
};

/* Indexed by enum ctl_cmd. */
extern const struct ctl_command ctl_commands[CTL_NCMDS];

/* The command named word exactly, or NULL. */
const struct ctl_command *ctl_command_find(const char *word);

#define CTL_FLUSH_NEGATIVE "--negative"

/* answer keys */
#define CTL_K_ERROR "error"
/* displaydns */
#define CTL_K_ENTRIES "entries"
#define CTL_K_NAME "name"
#define CTL_K_TYPE "type"
#define CTL_K_CLASS "class"
#define CTL_K_SOURCE "source"
#define CTL_K_STATUS "status"
#define CTL_K_TTL "ttl"
#define CTL_K_ORIGINAL_TTL "original_ttl"
#define CTL_K_STALE "stale"
#define CTL_K_HITS "hits"
#define CTL_K_DNSSEC_OK "dnssec_ok"
#define CTL_K_UPSTREAM "upstream"
#define CTL_K_RECORDS "records"
#define CTL_K_SECTION "section"
#define CTL_K_DATA_LENGTH "data_length"
#define CTL_K_DATA "data"
/* flushdns */
#define CTL_K_FLUSHED "flushed"
/* stats */
#define CTL_K_QUERIES "queries"
#define CTL_K_QUERIES_UDP "queries_udp"
#define CTL_K_QUERIES_TCP "queries_tcp"
#define CTL_K_QUERIES_CONTROL "queries_control"
#define CTL_K_CACHE_HITS "cache_hits"
#define CTL_K_CACHE_MISSES "cache_misses"
#define CTL_K_NEGATIVE_HITS "negative_hits"
#define CTL_K_HOSTS_HITS "hosts_hits"
#define CTL_K_UPSTREAM_QUERIES "upstream_queries"
#define CTL_K_UPSTREAM_TIMEOUTS "upstream_timeouts"
#define CTL_K_SERVFAIL "servfail"
#define CTL_K_COALESCED "coalesced"
#define CTL_K_CACHE_ENTRIES "cache_entries"
#define CTL_K_CACHE_BYTES "cache_bytes"
#define CTL_K_EVICTIONS "evictions"
#define CTL_K_UPTIME "uptime"
#define CTL_K_REFUSED "refused"
#define CTL_K_FORMERR "formerr"
#define CTL_K_NOTIMP "notimp"
#define CTL_K_DROPPED "dropped"
#define CTL_K_STALE_SERVED "stale_served"
#define CTL_K_HOSTS_ENTRIES "hosts_entries"
#define CTL_K_PREFETCHES "prefetches"
#define CTL_K_MDNS_QUERIES "mdns_queries"
#define CTL_K_REBIND_BLOCKED "rebind_blocked" /* SPEC 18 */
#define CTL_K_POLICY_BLOCKED "policy_blocked"
#define CTL_K_POLICY_LOCAL "policy_local"
/* stats: one object per source of the policy table (SPEC 18) */
#define CTL_K_LISTS "lists"
#define CTL_K_FILE "file"
#define CTL_K_KIND "kind"
#define CTL_K_FORMAT "format"
#define CTL_K_UNKNOWN "unknown"
#define CTL_K_LOADED "loaded"
#define CTL_K_BLOCKED "blocked"
#define CTL_K_ALLOWED "allowed"
#define CTL_K_LOCAL "local"
#define CTL_K_REBIND "rebind"
/* servers */
#define CTL_K_ADAPTERS "adapters"
#define CTL_K_METRIC "metric"
#define CTL_K_EXCLUDED "excluded"
#define CTL_K_EXCLUDED_FOR "excluded_for"
#define CTL_K_DOMAINS "domains"
#define CTL_K_SERVERS "servers"
#define CTL_K_ADDRESS "address"
#define CTL_K_PRIORITY "priority"
#define CTL_K_ORDER "order"
#define CTL_K_SRTT_MS "srtt_ms"
#define CTL_K_RTT_MEASURED "rtt_measured"
#define CTL_K_ANSWERS "answers"
#define CTL_K_TIMEOUTS "timeouts"
#define CTL_K_ORIGIN "origin"
#define CTL_K_DEFAULT_ROUTE "default_route"
#define CTL_K_STATE "state"
#define CTL_K_TRANSPORT "transport"
#define CTL_K_TLS_NAME "tls_name"
#define CTL_K_URL "url"
#define CTL_K_AUTHENTICATED "authenticated"
#define CTL_K_TRUST_AD "trust_ad"
#define CTL_K_TLS_STATE "tls_state"
#define CTL_K_HANDSHAKES "handshakes"
#define CTL_K_RESUMED "resumed"
#define CTL_K_ENCRYPTION "encryption" /* SPEC 17 */
#define CTL_K_UPGRADE "upgrade"
#define CTL_K_TWIN_ADDRESS "twin_address"
#define CTL_K_TWIN_NAME "twin_name"
#define CTL_K_TWIN_TRANSPORT "twin_transport"
#define CTL_K_DOWNGRADES "downgrades"
#define CTL_K_DDR_PROBES "ddr_probes"
#define CTL_K_DDR_REJECTIONS "ddr_rejections"
/* reload */
#define CTL_K_RELOADED "reloaded"
#define CTL_K_WARNINGS "warnings" /* what takes effect on restart only */
/* link */
#define CTL_K_LINK "link"
#define CTL_K_CHANGED "changed"
/* query (SPEC 15) */
#define CTL_K_RCODE "rcode"
#define CTL_K_MS "ms"
#define CTL_K_TRACE "trace"
#define CTL_K_RULE "rule" /* SPEC 18: the deciding policy rule */
#define CTL_K_PHASE "phase"
#define CTL_K_ADAPTER "adapter"
#define CTL_K_SERVER "server"
#define CTL_K_SENT_MS "sent_ms"
#define CTL_K_RESULT "result"
#define CTL_K_AT_MS "at_ms"
#define CTL_K_LATE "late"
#define CTL_K_TRACE_DROPPED "trace_dropped"
/* monitor: one object a line */
#define CTL_K_TIME "time"
#define CTL_K_CLIENT "client"
#define CTL_K_LOST "lost"

#endif
