#!/usr/bin/env bash
# bench/listcpu.sh - issue 25's "CPU added per query" by a 494,000-name
# block list, side by side: stubd (the adblock list, `||x^`: the name and
# the names under it), dnsmasq (`address=/x/`) and unbound (`local-zone: x
# always_nxdomain`), the same names from bench/genlists.py.
#
# Each server forwards to NSD on loopback serving a root zone with a
# wildcard (every name exists: without the list the listed names are
# answered from upstream and cached like any other).  The queries: 500
# listed names (blocked with the list) and 500 unlisted ones (cache hits),
# interleaved.  Per run and server: a fresh server without the list, then
# one with it; each warmed twice with the query file (dnsperf -n 1), then
# one fixed dnsperf run (-c 20 -q 500 -l DURATION); the server's CPU is
# utime+stime from /proc/PID/stat over that run, divided by the answered
# queries.  Server pinned to CPU 1, dnsperf to CPU 0.  Medians of RUNS.
#
# usage: listcpu.sh STUBD LISTDIR   (LISTDIR from bench/genlists.py)
# Environment: DURATION (s, default 8), RUNS (default 3), SERVERS (default
# "stubd dnsmasq unbound").  Loopback only; every process it starts is
# stopped by PID; every run bounded.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
STUBD=$1
DIR=$2
DURATION=${DURATION:-8}
RUNS=${RUNS:-3}
SERVERS=${SERVERS:-"stubd dnsmasq unbound"}
UP_ADDR=${UP_ADDR:-127.0.0.62}
UP_PORT=${UP_PORT:-5362}
SRV_ADDR=${SRV_ADDR:-127.0.0.61}
SRV_PORT=${SRV_PORT:-5361}
W=$(mktemp -d /tmp/stubd-listcpu-XXXXXX)
PIDS=()
KEEP_ROOT=""
[ "$(id -u)" -eq 0 ] && KEEP_ROOT="-u root"

say() { printf '%s\n' "$*" >&2; }
# shellcheck source=bench/common.sh
. "$HERE/common.sh"

[ -x "$STUBD" ] || { say "no stubd at $STUBD"; exit 1; }
for f in adblock.txt dnsmasq.conf unbound.conf names.txt; do
	[ -f "$DIR/$f" ] || { say "$DIR/$f missing (bench/genlists.py N $DIR)"; exit 1; }
done
bench_install dnsperf:dnsperf nsd:nsd dnsmasq:dnsmasq-base unbound:unbound taskset:util-linux

# the upstream: a root zone in which every name exists
cat >"$W/root.zone" <<'ZONE'
$TTL 3600
@ IN SOA ns.bench.test. host.bench.test. 1 3600 600 86400 300
@ IN NS ns.bench.test.
* IN A 192.0.2.1
ZONE
cat >"$W/nsd.conf" <<CONF
server:
	ip-address: $UP_ADDR@$UP_PORT
	username: ""
	chroot: ""
	zonesdir: "$W"
	database: ""
	zonelistfile: "$W/zone.list"
	pidfile: "$W/nsd.pid"
	xfrdfile: "$W/xfrd.state"
	xfrdir: "$W"
	logfile: "$W/nsd.log"
	server-count: 1
	rrl-ratelimit: 0
	verbosity: 0
remote-control:
	control-enable: no
zone:
	name: "."
	zonefile: root.zone
CONF
taskset -c 0 nsd -d -c "$W/nsd.conf" >"$W/nsd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
	dig +short +time=1 +tries=1 @$UP_ADDR -p $UP_PORT u1.bench.test A 2>/dev/null | grep -q . && break
	sleep 0.1
done

# 500 listed names spread over the list, 500 unlisted, interleaved
total=$(wc -l <"$DIR/names.txt")
awk -v n="$total" 'BEGIN { s = int(n / 500) } NR % s == 1 && k < 500 { print; k++ }' \
	"$DIR/names.txt" >"$W/listed.txt"
awk 'BEGIN { for (i = 0; i < 500; i++) printf "u%d.bench.test A\n", i }' >"$W/unlisted.txt"
paste -d '\n' "$W/listed.txt" "$W/unlisted.txt" >"$W/queries.txt"
PROBE=$(head -1 "$W/listed.txt" | cut -d' ' -f1)

# start NAME WITH(0/1): sets SPID once the server answers (with the list:
# once PROBE is answered blocked)
start() {
	local s=$1 with=$2
	case $s in
	stubd)
		{
			printf 'listen %s:%s\ncontrol off\nhosts none\ncache-size 400000\nserver %s:%s\n' \
				$SRV_ADDR $SRV_PORT $UP_ADDR $UP_PORT
			[ "$with" = 1 ] && printf 'blocklist %s/adblock.txt format adblock\n' "$DIR"
		} >"$W/stubd.conf"
		taskset -c 1 "$STUBD" $KEEP_ROOT -f -c "$W/stubd.conf" 2>"$W/stubd.err" &
		;;
	dnsmasq)
		: >"$W/dnsmasq.extra"
		[ "$with" = 1 ] && cp "$DIR/dnsmasq.conf" "$W/dnsmasq.extra"
		taskset -c 1 dnsmasq -k --no-resolv --no-hosts --user=root --port=$SRV_PORT \
			--listen-address=$SRV_ADDR --bind-interfaces --server=$UP_ADDR#$UP_PORT \
			--cache-size=400000 --dns-forward-max=4096 -C "$W/dnsmasq.extra" \
			2>"$W/dnsmasq.err" &
		;;
	unbound)
		bench_unbound_conf "$W/unbound.conf" "	so-rcvbuf: 4m
	prefetch: no"
		[ "$with" = 1 ] && cat "$DIR/unbound.conf" >>"$W/unbound.conf"
		taskset -c 1 unbound -d -c "$W/unbound.conf" 2>"$W/unbound.err" &
		;;
	esac
	SPID=$!
	PIDS+=($SPID)
	local i out
	for i in $(seq 600); do
		out=$(dig +time=1 +tries=1 @$SRV_ADDR -p $SRV_PORT "$PROBE" A 2>/dev/null) || true
		if [ "$with" = 1 ]; then
			case $out in *NXDOMAIN* | *0.0.0.0*) return 0 ;; esac
		else
			case $out in *192.0.2.1*) return 0 ;; esac
		fi
		sleep 0.05
	done
	say "$s (list $with) did not come up"; cat "$W/$s.err" >&2 || true
	exit 1
}

stop() {
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	sleep 0.3
}

# one fixed run: "cpu_us_per_query qps"
measure() {
	local t0 t1 out done qps hz
	taskset -c 0 dnsperf -s $SRV_ADDR -p $SRV_PORT -d "$W/queries.txt" -c 20 -q 200 -n 1 >/dev/null 2>&1
	taskset -c 0 dnsperf -s $SRV_ADDR -p $SRV_PORT -d "$W/queries.txt" -c 20 -q 200 -n 1 >/dev/null 2>&1
	t0=$(cpu_ticks "$SPID")
	out=$(taskset -c 0 dnsperf -s $SRV_ADDR -p $SRV_PORT -d "$W/queries.txt" -c 20 -q 500 \
		-l "$DURATION" 2>&1)
	t1=$(cpu_ticks "$SPID")
	done=$(awk '/Queries completed/ {print $3}' <<<"$out")
	qps=$(awk '/Queries per second/ {printf "%.0f", $4}' <<<"$out")
	hz=$(getconf CLK_TCK)
	awk -v d="$done" -v c=$((t1 - t0)) -v hz="$hz" -v q="$qps" \
		'BEGIN { printf "%.3f %s\n", (d > 0 ? c / hz * 1e6 / d : 0), q }'
}

say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$RUNS"); do
	for s in $SERVERS; do
		for with in 0 1; do
			start "$s" "$with"
			read -r cpu qps <<<"$(measure)"
			stop
			echo "$cpu" >>"$W/$s.$with"
			say "run $r $s list=$with: $cpu us/query, $qps QPS"
		done
	done
done
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

printf '%-8s %12s %12s %12s   %s\n' server no_list_us with_list_us added_us runs
for s in $SERVERS; do
	a=$(median <"$W/$s.0")
	b=$(median <"$W/$s.1")
	printf '%-8s %12s %12s %12s   %s | %s\n' "$s" "$a" "$b" \
		"$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.3f", b - a }')" \
		"$(paste -sd' ' "$W/$s.0")" "$(paste -sd' ' "$W/$s.1")"
done
