#!/usr/bin/env bash
# bench/prefetch.sh - the share of client queries that wait for upstream
# under a Zipf workload of names with 30 s TTLs, stubd (prefetch yes)
# against unbound (prefetch: yes), one after the other, forwarding to the
# same NSD on loopback (SPEC 14).  A query "waited for upstream" when it
# missed the cache: stubd's cache_misses, unbound's num.cachemiss.
#
# Environment: DURATION (s per server, default 180), RATE (queries/s,
# default 2000), NAMES (default 20000), OUT (markdown, default
# bench/prefetch-results.md), STUBD, STUBCTL.  The query file and a model of
# both caches' rules come from bench/prefetch-model.py.  Needs root (installs
# dnsperf, nsd and unbound from Debian; nothing starts on install).
# Loopback only; every process started is stopped; every run is bounded.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
STUBD=${STUBD:-$TOP/stubd}
STUBCTL=${STUBCTL:-$TOP/stubctl}
DURATION=${DURATION:-180}
RATE=${RATE:-2000}
NAMES=${NAMES:-20000}
OUT=${OUT:-$HERE/prefetch-results.md}
UP_ADDR=127.0.0.2
UP_PORT=5300
SRV_ADDR=127.0.0.1
SRV_PORT=5353
W=$(mktemp -d /tmp/stubd-prefetch-XXXXXX)
PIDS=()

say() { printf '%s\n' "$*" >&2; }
# shellcheck source=bench/common.sh
. "$HERE/common.sh"

bench_install dnsperf:dnsperf nsd:nsd unbound:unbound unbound-control:unbound

say "zone of $NAMES names, TTL 30; Zipf (s = 1) queries"
{
	echo '$TTL 30'
	echo '@ IN SOA ns.bench.test. host.bench.test. 1 3600 600 86400 30'
	echo '@ IN NS ns.bench.test.'
	echo 'ns IN A 127.0.0.2'
	awk -v n="$NAMES" 'BEGIN { for (i = 0; i < n; i++)
		printf "n%d IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256 }'
} >"$W/bench.test.zone"
python3 "$HERE/prefetch-model.py" queries "$NAMES" >"$W/zipf.txt"

bench_start_nsd


run_dnsperf() {
	dnsperf -s $SRV_ADDR -p $SRV_PORT -d "$W/zipf.txt" -c 10 -Q "$RATE" -l "$DURATION" \
		>"$W/$1.perf" 2>&1
}

# stubd, prefetch yes
cat >"$W/stubd.conf" <<CONF
listen $SRV_ADDR:$SRV_PORT
control $W/stubd.sock
hosts none
prefetch yes
server $UP_ADDR:$UP_PORT
CONF
"$STUBD" $KEEP_ROOT -f -c "$W/stubd.conf" 2>"$W/stubd.err" &
SPID=$!
PIDS+=($SPID)
bench_wait stubd n0.bench.test
say "stubd: $DURATION s at $RATE queries/s"
run_dnsperf stubd
stats=$("$STUBCTL" -s "$W/stubd.sock" --json stats)
kill $SPID; wait $SPID 2>/dev/null || true
s_q=$(echo "$stats" | sed -n 's/.*"queries":\([0-9]*\).*/\1/p')
s_m=$(echo "$stats" | sed -n 's/.*"cache_misses":\([0-9]*\).*/\1/p')
s_p=$(echo "$stats" | sed -n 's/.*"prefetches":\([0-9]*\).*/\1/p')

# unbound, prefetch: yes
bench_unbound_conf "$W/unbound.conf" "	prefetch: yes" "	control-enable: yes
	control-interface: $W/unbound.ctl
	control-use-cert: no"
unbound -d -c "$W/unbound.conf" 2>"$W/unbound.err" &
SPID=$!
PIDS+=($SPID)
bench_wait unbound n0.bench.test
say "unbound: $DURATION s at $RATE queries/s"
run_dnsperf unbound
ustats=$(unbound-control -c "$W/unbound.conf" stats_noreset)
kill $SPID; wait $SPID 2>/dev/null || true
u_q=$(echo "$ustats" | sed -n 's/^total.num.queries=//p')
u_m=$(echo "$ustats" | sed -n 's/^total.num.cachemiss=//p')
u_p=$(echo "$ustats" | sed -n 's/^total.num.prefetch=//p')

share() { awk -v m="$1" -v q="$2" 'BEGIN { printf "%.3f", q ? 100 * m / q : 0 }'; }
{
	echo "# Prefetch: Zipf workload, TTL 30, $DURATION s at $RATE queries/s ($NAMES names)"
	echo
	echo "| server | queries | waited for upstream (cache misses) | share | prefetches |"
	echo "|---|---|---|---|---|"
	echo "| stubd (prefetch yes) | $s_q | $s_m | $(share "$s_m" "$s_q") % | $s_p |"
	echo "| unbound (prefetch: yes) | $u_q | $u_m | $(share "$u_m" "$u_q") % | $u_p |"
	echo
	echo "The same queries replayed by bench/prefetch-model.py under each rule set"
	echo "(evenly spaced, TTL 30, 0.3 ms upstream):"
	echo
	python3 "$HERE/prefetch-model.py" model "$NAMES" "$RATE" "$DURATION"
} | tee "$OUT"
