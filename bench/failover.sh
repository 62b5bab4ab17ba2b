#!/usr/bin/env bash
# bench/failover.sh - answer times under faults (SPEC 5 "No needless
# waiting", issue 21): stubd, dnsmasq and unbound forwarding to the same
# fake upstreams on loopback, in one run, each given the soak of
# tests/soak.sh: after one untimed first search, QPS (default 50) queries
# a second of mostly never-seen names (half positive A, a quarter
# NXDOMAIN, a quarter NODATA, 10 % repeats) for DURATION seconds, every
# query timed on its own (send to the kernel's receive timestamp).
#
# Cases (fresh upstreams per case, a fresh forwarder per run):
#   server   one dead server first, one live server behind it
#            stubd: one adapter [dead, live]
#            peers: two forwarders, the dead one first
#   adapter  one dead adapter beside a live one
#            stubd: adapter vpn (metric 10, preferred) [dead],
#                   adapter lan (metric 20) [live]
#            peers have no adapters: the same two forwarders, dead first
#            (so for them this case is the "server" case again)
# A dead server is a bound UDP socket that never answers.  stubd runs on
# SCHEDULE (default "timeouts 0.5 1 1 2 4 / exclude-time 5", the CI
# soak's, an exclusion expiry every ~5 s; SCHEDULE=default for stubd's
# defaults 1 2 2 4 8 / 30); the peers run their own defaults.  Reported
# per server: answered/sent, wrong rcodes, p50/p99/max ms, answers over
# 100 ms; the noise floor (queries straight to the live upstream) beside.
# Target: stubd's p99 <= both peers' in both cases.
#
# A query unanswered after 20 s counts as lost (stubd's default schedule
# takes 17 s).  Before the timed part: WARMUP seconds (default 3) of the same load,
# untimed, for every server (a peer learns its servers' speed from traffic;
# its slowest warm-up answer is shown).
#
# Environment: DURATION (s, default 30), QPS (50), WARMUP (3), CASES ("server adapter"),
# SERVERS ("stubd dnsmasq unbound"), SCHEDULE, OUT (markdown, default
# bench/results-failover.md), STUBD (binary).  Forwarder on CPU 1, client
# and upstreams on CPU 0.  Loopback only (127.0.0.80-89); every process
# started is stopped; every run is bounded.  Installs dnsmasq and unbound
# from Debian when missing.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
STUBD=${STUBD:-$TOP/stubd}
SOAK=${SOAK:-$TOP/tests/soak.py}
DURATION=${DURATION:-30}
QPS=${QPS:-50}
WARMUP=${WARMUP:-3}
CASES=${CASES:-"server adapter"}
SERVERS=${SERVERS:-"stubd dnsmasq unbound"}
SCHEDULE=${SCHEDULE:-"timeouts 0.5 1 1 2 4 / exclude-time 5"}
OUT=${OUT:-$HERE/results-failover.md}
SRV_ADDR=127.0.0.80
SRV_PORT=5380
W=$(mktemp -d /tmp/stubd-bench-failover-XXXXXX)
PIDS=()

say() { printf '%s\n' "$*" >&2; }
# shellcheck source=bench/common.sh
. "$HERE/common.sh"

bench_install dnsmasq:dnsmasq-base unbound:unbound taskset:util-linux python3:python3 \
	dig:dnsutils
[ -x "$STUBD" ] || { say "no stubd at $STUBD (build first)"; exit 1; }

# start_upstreams CASE: sets DEAD=ADDR#PORT LIVE=ADDR#PORT UPID
start_upstreams() {
	local dead live
	case $1 in
	server) dead=127.0.0.81; live=127.0.0.82 ;;
	adapter) dead=127.0.0.83; live=127.0.0.84 ;;
	esac
	rm -f "$W/ports.$1"
	taskset -c 0 python3 "$SOAK" serve "$W/ports.$1" "dead:$dead" "live:$live" \
		--max-time $(((DURATION + WARMUP + 60) * 3 + 60)) &
	UPID=$!
	PIDS+=("$UPID")
	for _ in $(seq 100); do [ -s "$W/ports.$1" ] && break; sleep 0.05; done
	DEAD="$dead#$(awk -v a=$dead '$1 == a { print $2 }' "$W/ports.$1")"
	LIVE="$live#$(awk -v a=$live '$1 == a { print $2 }' "$W/ports.$1")"
}

stubd_schedule() {
	[ "$SCHEDULE" = default ] || printf '%s\n' "${SCHEDULE%% / *}" "${SCHEDULE##* / }"
}

# start_server SERVER CASE: sets SPID
start_server() {
	local d=${DEAD/\#/:} l=${LIVE/\#/:}
	case $1 in
	stubd)
		{
			echo "listen $SRV_ADDR:$SRV_PORT"
			echo "control $W/ctl"
			echo "hosts none"
			stubd_schedule
			if [ "$2" = server ]; then
				echo "adapter lan"
				echo "server $d"
				echo "server $l"
			else
				echo "adapter vpn source 127.0.0.85 metric 10"
				echo "server $d"
				echo "adapter lan source 127.0.0.86 metric 20"
				echo "server $l"
			fi
		} >"$W/stubd.conf"
		taskset -c 1 "$STUBD" $KEEP_ROOT -f -c "$W/stubd.conf" 2>"$W/stubd.err" &
		;;
	dnsmasq)
		taskset -c 1 dnsmasq -k --no-resolv --no-hosts --user=root --port=$SRV_PORT \
			--listen-address=$SRV_ADDR --bind-interfaces --server="$DEAD" --server="$LIVE" \
			--cache-size=10000 --dns-forward-max=1000 --pid-file="$W/dnsmasq.pid" \
			2>"$W/dnsmasq.err" &
		;;
	unbound)
		bench_unbound_conf "$W/unbound.conf" "" "" "	forward-addr: ${DEAD/\#/@}
	forward-addr: ${LIVE/\#/@}"
		taskset -c 1 unbound -d -c "$W/unbound.conf" 2>"$W/unbound.err" &
		;;
	esac
	SPID=$!
	PIDS+=("$SPID")
	# listening (a refused query answers at once; a dead path is not asked:
	# hosts-free names would start a search, so wait for the socket)
	for _ in $(seq 100); do
		ss -Hlun "src $SRV_ADDR:$SRV_PORT" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	say "$1 did not start"; cat "$W/$1.err" >&2 2>/dev/null || true
	exit 1
}

stop_server() {
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	sleep 0.3
}

# row SERVER CASE JSON
row() {
	python3 - "$@" <<'PY'
import json, sys
server, case, path = sys.argv[1:4]
r = json.load(open(path))
def f(x): return "%.1f" % x
a, u = r["all"], r["upstream_probe"]
print("| %s | %s | %d/%d | %d | %s | %s | %s | %d | %s | %s | %s / %s |" % (
    case, server, r["answered"], r["sent"], r["wrong_rcode"], f(a["p50"]), f(a["p99"]),
    f(a["max"]), len(r["slow"]) + len(r["excused"]),
    "/".join("-" if x is None else "%.0f" % x for x in r["first_search_ms"]),
    f(r["warmup"]["max_ms"]),
    f(u["p99"]), f(u["max"])))
PY
}

{
	echo "bench/failover.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores;" \
		"DURATION=$DURATION QPS=$QPS WARMUP=$WARMUP; stubd schedule: $SCHEDULE;" \
		"$(dnsmasq --version | head -1 | awk '{print "dnsmasq", $3}')," \
		"$(unbound -V | head -1 | sed 's/^Version/unbound/')"
	echo
	echo "| case | server | answered/sent | wrong rcode | p50 ms | p99 ms | max ms | > 100 ms | first search ms | warm-up max ms | noise p99 / max ms |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
} >"$W/table"

for c in $CASES; do
	start_upstreams "$c"
	for s in $SERVERS; do
		say "== $c: $s (${DURATION} s at $QPS QPS)"
		start_server "$s" "$c"
		taskset -c 0 python3 "$SOAK" load "$SRV_ADDR:$SRV_PORT" --probe "${LIVE/\#/:}" \
			--qps "$QPS" --duration "$DURATION" --warmup "$WARMUP" --timeout 20 --label "$c/$s" --json "$W/$c-$s.json" >&2
		stop_server
		row "$s" "$c" "$W/$c-$s.json" >>"$W/table"
	done
	kill "$UPID" 2>/dev/null || true
	wait "$UPID" 2>/dev/null || true
done

{
	cat "$W/table"
	echo
	python3 - "$W" "$CASES" "$SERVERS" <<'PY'
import json, os, sys
w, cases, servers = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
for c in cases:
    res = {s: json.load(open(os.path.join(w, "%s-%s.json" % (c, s)))) for s in servers
           if os.path.exists(os.path.join(w, "%s-%s.json" % (c, s)))}
    if "stubd" not in res or len(res) < 2:
        continue
    mine = res["stubd"]["all"]["p99"]
    peers = {s: r["all"]["p99"] for s, r in res.items() if s != "stubd"}
    met = all(mine <= p for p in peers.values()) and res["stubd"]["lost"] == 0
    print("%s: stubd p99 %.1f ms vs %s: target (p99 <= both peers') %s" % (
        c, mine, ", ".join("%s %.1f ms" % kv for kv in peers.items()),
        "met" if met else "NOT met"))
PY
	echo
	echo "The peers have no adapters: in the adapter case they forward to the same"
	echo "two servers, the dead one first, so for them it is the server case again."
	echo "noise = queries straight to the live upstream, timed the same way."
} | tee "$OUT"
