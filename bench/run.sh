#!/usr/bin/env bash
# bench/run.sh - stubd against dnsmasq and unbound, all forwarding to one
# NSD upstream on loopback, measured with dnsperf in one run.
#
# Workloads (each server freshly started, pinned to CPU 1; dnsperf on CPU 0):
#   hot       1,000 names, cache warmed
#   large     100,000 names, cache warmed
#   negative  1,000 NXDOMAIN names, warmed
#   miss      never-seen names (fresh wildcard names, fresh server)
#   latency   the hot set at a fixed 50,000 QPS: mean and p99 latency
# Reported per server: QPS, mean/p99 latency, server CPU us per query
# (utime+stime from /proc over the run / answered queries), RSS per cached
# answer; and stubd's ratios to each peer.
#
# Environment: DURATION (s per run, default 10), REPEAT (runs per workload,
# median reported, default 3), SERVERS (default "stubd unbound dnsmasq"),
# WORKLOADS (default "hot negative large miss"; latency runs with hot),
# OUT (markdown result file, default bench/results.md), STUBD (binary).
# Loopback only; every process started is stopped; every run is bounded.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
STUBD=${STUBD:-$TOP/stubd}
DURATION=${DURATION:-10}
REPEAT=${REPEAT:-3}
SERVERS=${SERVERS:-"stubd unbound dnsmasq"}
WORKLOADS=" ${WORKLOADS:-hot negative large miss} "
OUT=${OUT:-$HERE/results.md}
UP_ADDR=127.0.0.2
UP_PORT=5300
SRV_ADDR=127.0.0.1
SRV_PORT=5353
NAMES=200000
W=$(mktemp -d /tmp/stubd-bench-XXXXXX)
PIDS=()

say() { printf '%s\n' "$*" >&2; }
# shellcheck source=bench/common.sh
. "$HERE/common.sh"


install_tools() {
	bench_install dnsperf:dnsperf nsd:nsd dnsmasq:dnsmasq-base unbound:unbound \
		taskset:util-linux
}

make_zone() {
	say "generating a zone of $NAMES names"
	{
		echo '$TTL 3600'
		echo '@ IN SOA ns.bench.test. host.bench.test. 1 3600 600 86400 300'
		echo '@ IN NS ns.bench.test.'
		echo 'ns IN A 127.0.0.2'
		echo '*.w IN A 192.0.2.250'
		awk -v n=$NAMES 'BEGIN { for (i = 0; i < n; i++)
			printf "n%d IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256 }'
	} >"$W/bench.test.zone"
	awk 'BEGIN { for (i = 0; i < 1000; i++) printf "n%d.bench.test A\n", i }' >"$W/hot.txt"
	awk 'BEGIN { for (i = 0; i < 100000; i++) printf "n%d.bench.test A\n", i * 2 % 200000 }' \
		>"$W/large.txt"
	awk 'BEGIN { for (i = 0; i < 1000; i++) printf "nx%d.bench.test A\n", i }' >"$W/negative.txt"
}

# start_server NAME -> sets SPID
start_server() {
	local name=$1
	case $name in
	stubd)
		cat >"$W/stubd.conf" <<CONF
listen $SRV_ADDR:$SRV_PORT
control off
hosts none
cache-size 400000
server $UP_ADDR:$UP_PORT
CONF
		taskset -c 1 "$STUBD" $KEEP_ROOT -f -c "$W/stubd.conf" 2>"$W/stubd.err" &
		;;
	unbound)
		bench_unbound_conf "$W/unbound.conf" "	msg-cache-size: 256m
	rrset-cache-size: 512m
	so-rcvbuf: 4m
	harden-referral-path: no
	prefetch: no"
		taskset -c 1 unbound -d -c "$W/unbound.conf" 2>"$W/unbound.err" &
		;;
	dnsmasq)
		taskset -c 1 dnsmasq -k --no-resolv --no-hosts --user=root --port=$SRV_PORT \
			--listen-address=$SRV_ADDR --bind-interfaces --server=$UP_ADDR#$UP_PORT \
			--cache-size=400000 --dns-forward-max=4096 --pid-file="$W/dnsmasq.pid" \
			2>"$W/dnsmasq.err" &
		;;
	esac
	SPID=$!
	PIDS+=($SPID)
	bench_wait "$name" n0.bench.test
}

stop_server() {
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	sleep 0.3
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# perf FILE [extra dnsperf args] -> "qps completed mean_ms cpu_us_per_query"
perf() {
	local file=$1; shift
	local t0 t1 out qps done lat
	t0=$(cpu_ticks "$SPID")
	out=$(taskset -c 0 dnsperf -s $SRV_ADDR -p $SRV_PORT -d "$file" -c 20 -q 500 \
		-l "$DURATION" "$@" 2>&1)
	t1=$(cpu_ticks "$SPID")
	qps=$(awk '/Queries per second/ {print $4}' <<<"$out")
	done=$(awk '/Queries completed/ {print $3}' <<<"$out")
	lat=$(awk '/Average Latency/ {print $4 * 1000}' <<<"$out")
	local hz; hz=$(getconf CLK_TCK)
	awk -v q="$qps" -v d="$done" -v l="$lat" -v c=$((t1 - t0)) -v hz="$hz" \
		'BEGIN { printf "%.0f %d %.3f %.2f\n", q, d, l, (d > 0 ? c / hz * 1e6 / d : 0) }'
}

warm() {
	taskset -c 0 dnsperf -s $SRV_ADDR -p $SRV_PORT -d "$1" -c 20 -q 200 -n 1 >/dev/null 2>&1
}


# run_workload SERVER NAME -> lines "workload qps mean cpu" (medians)
declare -A RES
run_server() {
	local s=$1 r
	say "== $s"
	local q=() c=() l=()
	: >"$W/$s.hot.q"; : >"$W/$s.hot.c"; : >"$W/$s.hot.l"; : >"$W/$s.lat"
	: >"$W/$s.neg.q"; : >"$W/$s.neg.c"; : >"$W/$s.large.q"; : >"$W/$s.large.c"
	: >"$W/$s.miss.q"; : >"$W/$s.miss.c"
	RES[$s,lat_mean]=-; RES[$s,lat_p99]=-; RES[$s,rss]=-
	start_server "$s"
	if [[ $WORKLOADS == *" hot "* ]]; then
	warm "$W/hot.txt"; warm "$W/hot.txt"
	for r in $(seq "$REPEAT"); do
		read -r a b m cpu <<<"$(perf "$W/hot.txt")"
		echo "$a" >>"$W/$s.hot.q"; echo "$cpu" >>"$W/$s.hot.c"; echo "$m" >>"$W/$s.hot.l"
	done
	# fixed-rate latency on the hot set: mean and p99 from per-query lines
	taskset -c 0 dnsperf -s $SRV_ADDR -p $SRV_PORT -d "$W/hot.txt" -c 20 -q 500 \
		-Q 50000 -l "$DURATION" -v 2>/dev/null |
		awk '$1 == ">" && $2 == "NOERROR" { print $NF * 1000 }' | sort -n >"$W/$s.lat"
	RES[$s,lat_mean]=$(awk '{ s += $1 } END { printf "%.3f", NR ? s / NR : 0 }' "$W/$s.lat")
	RES[$s,lat_p99]=$(awk '{ a[NR] = $1 } END { printf "%.3f", NR ? a[int(NR * 0.99)] : 0 }' "$W/$s.lat")
	fi
	if [[ $WORKLOADS == *" negative "* ]]; then
	warm "$W/negative.txt"; warm "$W/negative.txt"
	for r in $(seq "$REPEAT"); do
		read -r a b m cpu <<<"$(perf "$W/negative.txt")"
		echo "$a" >>"$W/$s.neg.q"; echo "$cpu" >>"$W/$s.neg.c"
	done
	fi
	stop_server
	if [[ $WORKLOADS == *" large "* ]]; then
	# large: RSS per cached answer from a fresh start
	start_server "$s"
	local rss0 rss1
	rss0=$(rss_kb "$SPID")
	warm "$W/large.txt"
	sleep 0.5
	rss1=$(rss_kb "$SPID")
	RES[$s,rss]=$(awk -v a="$rss0" -v b="$rss1" 'BEGIN { printf "%.0f", (b - a) * 1024 / 100000 }')
	warm "$W/large.txt"
	for r in $(seq "$REPEAT"); do
		read -r a b m cpu <<<"$(perf "$W/large.txt")"
		echo "$a" >>"$W/$s.large.q"; echo "$cpu" >>"$W/$s.large.c"
	done
	stop_server
	fi
	# miss: fresh server, never-seen names
	[[ $WORKLOADS == *" miss "* ]] && for r in $(seq "$REPEAT"); do
		start_server "$s"
		awk -v s="$s$r" 'BEGIN { for (i = 0; i < 2000000; i++) printf "m%s-%d.w.bench.test A\n", s, i }' \
			>"$W/miss.txt"
		read -r a b m cpu <<<"$(perf "$W/miss.txt" -n 1)"
		echo "$a" >>"$W/$s.miss.q"; echo "$cpu" >>"$W/$s.miss.c"
		stop_server
	done
	for k in hot neg large miss; do
		RES[$s,$k,qps]=$(median <"$W/$s.$k.q")
		RES[$s,$k,cpu]=$(median <"$W/$s.$k.c")
	done
	RES[$s,hot,lat]=$(median <"$W/$s.hot.l")
}


report() {
	{
		echo "## Results ($(date -u +%Y-%m-%d), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
		echo
		echo "dnsperf -c 20 -q 500 -l $DURATION, median of $REPEAT runs; server on CPU 1, dnsperf on CPU 0;"
		echo "upstream NSD $(nsd -v 2>&1 | head -1 | awk '{print $NF}') with $NAMES names."
		echo
		echo "| server | hot QPS | hot CPU µs/q | negative QPS | negative CPU µs/q | large (100k) QPS | large CPU µs/q | miss QPS | miss CPU µs/q | latency @50k QPS mean / p99 ms | RSS per cached answer |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|"
		for s in $SERVERS; do
			echo "| $s | ${RES[$s,hot,qps]} | ${RES[$s,hot,cpu]} | ${RES[$s,neg,qps]} | ${RES[$s,neg,cpu]} | ${RES[$s,large,qps]} | ${RES[$s,large,cpu]} | ${RES[$s,miss,qps]} | ${RES[$s,miss,cpu]} | ${RES[$s,lat_mean]} / ${RES[$s,lat_p99]} | ${RES[$s,rss]} B |"
		done
		if [[ " $SERVERS " == *" stubd "* ]]; then
			echo
			echo "stubd's ratios (CPU per query: lower is better; QPS: higher is better):"
			echo
			echo "| peer | hot CPU | negative CPU | large CPU | miss CPU | hot QPS | negative QPS | miss QPS |"
			echo "|---|---|---|---|---|---|---|---|"
			for s in $SERVERS; do
				[ "$s" = stubd ] && continue
				echo "| $s | $(ratio "${RES[stubd,hot,cpu]}" "${RES[$s,hot,cpu]}") | $(ratio "${RES[stubd,neg,cpu]}" "${RES[$s,neg,cpu]}") | $(ratio "${RES[stubd,large,cpu]}" "${RES[$s,large,cpu]}") | $(ratio "${RES[stubd,miss,cpu]}" "${RES[$s,miss,cpu]}") | $(ratio "${RES[stubd,hot,qps]}" "${RES[$s,hot,qps]}") | $(ratio "${RES[stubd,neg,qps]}" "${RES[$s,neg,qps]}") | $(ratio "${RES[stubd,miss,qps]}" "${RES[$s,miss,qps]}") |"
			done
		fi
	} | tee "$OUT"
}

[ -x "$STUBD" ] || { say "build stubd first ($STUBD)"; exit 1; }
[ "$(nproc)" -ge 2 ] || { say "needs 2 cores"; exit 1; }
install_tools
make_zone
bench_start_nsd taskset -c 0
for s in $SERVERS; do
	run_server "$s"
done
report
