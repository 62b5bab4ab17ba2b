/*
 * ctlproto.c - the table of control commands (stubd/ctl.h), shared by the
 * daemon's dispatch and stubctl's parser.
 */
#include "auto-config.h"

#include <string.h>

#include "stubd/ctl.h"

static const char *const displaydns_keys[] = {
	CTL_K_ENTRIES,
	CTL_K_NAME,
	CTL_K_TYPE,
	CTL_K_CLASS,
	CTL_K_SOURCE,
	CTL_K_STATUS,
	CTL_K_TTL,
	CTL_K_ORIGINAL_TTL,
	CTL_K_STALE,
	CTL_K_HITS,
	CTL_K_DNSSEC_OK,
	CTL_K_UPSTREAM,
	CTL_K_RECORDS,
	CTL_K_SECTION,
	CTL_K_DATA_LENGTH,
	CTL_K_DATA,
	NULL,
};

static const char *const flushdns_keys[] = { CTL_K_FLUSHED, NULL };

static const char *const stats_keys[] = {
	CTL_K_QUERIES,
	CTL_K_QUERIES_UDP,
	CTL_K_QUERIES_TCP,
	CTL_K_QUERIES_CONTROL,
	CTL_K_CACHE_HITS,
	CTL_K_CACHE_MISSES,
	CTL_K_NEGATIVE_HITS,
	CTL_K_HOSTS_HITS,
	CTL_K_UPSTREAM_QUERIES,
	CTL_K_UPSTREAM_TIMEOUTS,
	CTL_K_SERVFAIL,
	CTL_K_COALESCED,
	CTL_K_CACHE_ENTRIES,
	CTL_K_CACHE_BYTES,
	CTL_K_EVICTIONS,
	CTL_K_UPTIME,
	CTL_K_REFUSED,
	CTL_K_FORMERR,
	CTL_K_NOTIMP,
	CTL_K_DROPPED,
	CTL_K_STALE_SERVED,
	CTL_K_HOSTS_ENTRIES,
	CTL_K_PREFETCHES,
	CTL_K_MDNS_QUERIES,
	CTL_K_REBIND_BLOCKED,
	CTL_K_POLICY_BLOCKED,
	CTL_K_POLICY_LOCAL,
	CTL_K_LISTS,
	CTL_K_NAME,
	CTL_K_FILE,
	CTL_K_KIND,
	CTL_K_FORMAT,
	CTL_K_ENTRIES,
	CTL_K_UNKNOWN,
	CTL_K_LOADED,
	CTL_K_BLOCKED,
	CTL_K_ALLOWED,
	CTL_K_LOCAL,
	CTL_K_REBIND,
	NULL,
};

static const char *const servers_keys[] = {
	CTL_K_ADAPTERS,
	CTL_K_NAME,
	CTL_K_METRIC,
	CTL_K_EXCLUDED,
	CTL_K_EXCLUDED_FOR,
	CTL_K_DOMAINS,
	CTL_K_SERVERS,
	CTL_K_ADDRESS,
	CTL_K_PRIORITY,
	CTL_K_ORDER,
	CTL_K_SRTT_MS,
	CTL_K_RTT_MEASURED,
	CTL_K_QUERIES,
	CTL_K_ANSWERS,
	CTL_K_TIMEOUTS,
	CTL_K_ORIGIN,
	CTL_K_STATE,
	CTL_K_DEFAULT_ROUTE,
	CTL_K_TRANSPORT,
	CTL_K_TLS_NAME,
	CTL_K_URL,
	CTL_K_AUTHENTICATED,
	CTL_K_TRUST_AD,
	CTL_K_TLS_STATE,
	CTL_K_HANDSHAKES,
	CTL_K_RESUMED,
	CTL_K_ENCRYPTION,
	CTL_K_UPGRADE,
	CTL_K_TWIN_ADDRESS,
	CTL_K_TWIN_NAME,
	CTL_K_TWIN_TRANSPORT,
	CTL_K_DOWNGRADES,
	CTL_K_DDR_PROBES,
	CTL_K_DDR_REJECTIONS,
	NULL,
};

static const char *const reload_keys[] = { CTL_K_RELOADED, CTL_K_WARNINGS, NULL };

static const char *const link_keys[] = { CTL_K_LINK, CTL_K_CHANGED, NULL };

static const char *const query_keys[] = {
	CTL_K_NAME,
	CTL_K_TYPE,
	CTL_K_SOURCE,
	CTL_K_RCODE,
	CTL_K_MS,
	CTL_K_RECORDS,
	CTL_K_SECTION,
	CTL_K_TTL,
	CTL_K_DATA,
	CTL_K_TRACE,
	CTL_K_PHASE,
	CTL_K_ADAPTER,
	CTL_K_SERVER,
	CTL_K_TRANSPORT,
	CTL_K_SENT_MS,
	CTL_K_RESULT,
	CTL_K_AT_MS,
	CTL_K_RULE,
	NULL,
};

static const char *const monitor_keys[] = {
	CTL_K_TIME,
	CTL_K_CLIENT,
	CTL_K_NAME,
	CTL_K_TYPE,
	CTL_K_RCODE,
	CTL_K_SOURCE,
	CTL_K_MS,
	NULL,
};

const struct ctl_command ctl_commands[CTL_NCMDS] = {
	[CTL_CMD_DISPLAYDNS] = { CTL_CMD_DISPLAYDNS, "displaydns", 0, 1, CTL_READ_ONLY,
	    "displaydns [NAME]", displaydns_keys },
	[CTL_CMD_FLUSHDNS] = { CTL_CMD_FLUSHDNS, "flushdns", 0, 1, CTL_MUTATING,
	    "flushdns [NAME | " CTL_FLUSH_NEGATIVE "]", flushdns_keys },
	[CTL_CMD_STATS] = { CTL_CMD_STATS, "stats", 0, 0, CTL_READ_ONLY, "stats", stats_keys },
	[CTL_CMD_SERVERS] = { CTL_CMD_SERVERS, "servers", 0, 0, CTL_READ_ONLY, "servers",
	    servers_keys },
	[CTL_CMD_RELOAD] = { CTL_CMD_RELOAD, "reload", 0, 0, CTL_MUTATING, "reload", reload_keys },
	[CTL_CMD_LINK] = { CTL_CMD_LINK, "link", 2, CTL_MAX_ARGS - 1, CTL_MUTATING,
	    "link IFNAME dns ADDR[:PORT][#NAME]... | domain [~]DOMAIN... | "
	    "default-route yes|no | dns-over-tls yes|opportunistic|no | mdns yes|no | "
	    "dnr PRIORITY NAME ADDR[,ADDR] alpn=dot,h2 [port=N] [dohpath=PATH] | dnr clear | "
	    "dnr-option dhcp4|dhcp6 [HEX...] | revert",
	    link_keys },
	[CTL_CMD_QUERY] = { CTL_CMD_QUERY, "query", 1, 2, CTL_READ_ONLY, "query NAME [TYPE]",
	    query_keys },
	[CTL_CMD_MONITOR] = { CTL_CMD_MONITOR, "monitor", 0, 0, CTL_READ_ONLY, "monitor",
	    monitor_keys },
};

const struct ctl_command *
ctl_command_find(const char *word)
{
	size_t i;

	for (i = 0; i < CTL_NCMDS; i++)
		if (strcmp(ctl_commands[i].name, word) == 0)
			return &ctl_commands[i];
	return NULL;
}
