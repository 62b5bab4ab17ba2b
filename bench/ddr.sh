#!/usr/bin/env bash
# bench/ddr.sh - encrypted without configuration (SPEC 17, DDR): in a
# network namespace of its own, a "router" at 10.53.0.1 runs unbound
# serving clear text (53), DNS over TLS (853, a certificate made here whose
# SAN holds the router's IP) and `_dns.resolver.arpa SVCB`.  stubd knows
# only that address, with `encryption auto`.  Measures
#   (a) the clear-text share of the packets stubd sends the router (tcpdump:
#       port 53 against port 853) over a mixed workload of DURATION seconds
#       that starts with stubd; DDR probes (the first one, and re-probes when
#       the SVCB TTL runs out; stubd takes a TTL below 60 s as 60 s) are
#       counted apart from questions;
#   (b) the time from stubd's start to its first answer over the twin;
#   (c) stubd's CPU per cache miss once upgraded, against the same server
#       written down as `server 10.53.0.1:853 tls dns.test`.
#
#   bench/ddr.sh                  DURATION=90 (DURATION=600: the issue's 10 minutes)
#   env: QPS=200 SVCB_TTL=60 MISSES=40000 REPEAT=5 OUT=bench/results-ddr.md
#
# Bounded: every stage has a count and a time limit.  Needs root (a network
# namespace), 2 cores, unshare, unbound, tcpdump, openssl, dig, dnsperf.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
STUBD=${STUBD:-$TOP/stubd}
STUBCTL=${STUBCTL:-$TOP/stubctl}
DURATION=${DURATION:-90}
QPS=${QPS:-200}
SVCB_TTL=${SVCB_TTL:-60}
MISSES=${MISSES:-40000}
REPEAT=${REPEAT:-5}
OUT=${OUT:-$HERE/results-ddr.md}
R=10.53.0.1
SRV=127.0.0.1
PORT=53

say() { printf '%s\n' "$*" >&2; }

if [ -z "${DDR_BENCH_INNER:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { say "needs root (a network namespace)"; exit 1; }
	[ -x "$STUBD" ] || { say "build stubd first ($STUBD)"; exit 1; }
	[ "$(nproc)" -ge 2 ] || { say "needs 2 cores"; exit 1; }
	W=$(mktemp -d /tmp/stubd-bench-ddr-XXXXXX)
	PIDS=()
	. "$HERE/common.sh"
	bench_install dnsperf:dnsperf unbound:unbound tcpdump:tcpdump openssl:openssl \
		dig:dnsutils taskset:util-linux unshare:util-linux
	rm -rf "$W"
	trap - EXIT
	export STUBD STUBCTL DURATION QPS SVCB_TTL MISSES REPEAT OUT
	DDR_BENCH_INNER=1 exec unshare -n bash "$0" "$@"
fi

W=$(mktemp -d /tmp/stubd-bench-ddr-XXXXXX)
chmod 755 "$W"
PIDS=()
. "$HERE/common.sh"
ip link set lo up
ip addr add $R/32 dev lo

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj /CN=dns.test -addext "subjectAltName=DNS:dns.test,IP:$R" \
	-keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null

# the router: unbound on CPU 0, names under example.test answered by itself
cat >"$W/unbound.conf" <<EOF
server:
	interface: $R@53
	interface: $R@853
	tls-port: 853
	tls-service-key: "$W/key.pem"
	tls-service-pem: "$W/cert.pem"
	incoming-num-tcp: 100
	num-threads: 1
	username: ""
	chroot: ""
	directory: "$W"
	pidfile: ""
	use-syslog: no
	logfile: ""
	verbosity: 0
	module-config: "iterator"
	access-control: 0.0.0.0/0 allow
	do-ip6: no
	local-zone: "resolver.arpa." static
	local-data: "_dns.resolver.arpa. $SVCB_TTL IN SVCB 1 dns.test. alpn=dot port=853 ipv4hint=$R"
	local-zone: "example.test." redirect
	local-data: "example.test. 300 IN A 192.0.2.7"
	local-data: "example.test. 300 IN TXT \"bench\""
remote-control:
	control-enable: no
EOF
taskset -c 0 unbound -d -c "$W/unbound.conf" >"$W/unbound.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
	dig +time=1 +tries=1 +short @$R up.example.test A 2>/dev/null | grep -q 192.0.2.7 && break
	sleep 0.1
done
dig +time=1 +tries=1 +short @$R up.example.test A | grep -q 192.0.2.7 ||
	{ say "unbound did not start"; cat "$W/unbound.log" >&2; exit 1; }

SPID=""
# stubd_start auto|explicit: a new stubd on CPU 1 (its start time in T_START, ns)
stubd_start() {
	rm -f "$W/ctl"
	{
		echo "listen $SRV:$PORT"
		echo "control $W/ctl"
		echo "hosts none"
		echo "cache-size 1000000"
		echo "max-inflight 65536"
		echo "tls-ca $W/cert.pem"
		if [ "$1" = auto ]; then
			echo "server $R"
			echo "encryption auto"
		else
			echo "server $R:853 tls dns.test"
		fi
	} >"$W/stubd.conf"
	T_START=$(date +%s%N)
	taskset -c 1 "$STUBD" $KEEP_ROOT -f -c "$W/stubd.conf" 2>"$W/stubd.err" &
	SPID=$!
	PIDS+=($SPID)
	for _ in $(seq 500); do
		[ -S "$W/ctl" ] && return 0
		sleep 0.01
	done
	say "stubd did not start"; cat "$W/stubd.err" >&2; exit 1
}
stubd_stop() {
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	SPID=""
}
servers() { "$STUBCTL" -s "$W/ctl" --json servers; }
upgraded() { servers | grep -q '"upgrade":"ddr"'; }
# answers of the twin tls://R:853 so far
twin_answers() {
	servers | tr '{' '\n' | grep "\"url\":\"tls://$R:853" |
		sed -n 's/.*"answers":\([0-9]*\).*/\1/p' | awk 'NR == 1'
}
# wait_upgrade: until the twin is in place (5 s)
wait_upgrade() {
	for _ in $(seq 500); do
		upgraded && return 0
		sleep 0.01
	done
	say "no upgrade"; cat "$W/stubd.err" >&2; exit 1
}

# ---- (a) clear-text share over a mixed workload from the start ----
# 500 popular names (hits after the first), fresh names (misses), A, AAAA
# and TXT; dnsperf at QPS for DURATION seconds
awk -v n=$((QPS * DURATION + 1000)) 'BEGIN {
	srand(7)
	for (i = 0; i < n; i++) {
		r = rand()
		t = (r < 0.6 ? "A" : (r < 0.85 ? "AAAA" : "TXT"))
		if (rand() < 0.7)
			printf "p%d.example.test %s\n", int(rand() * 500), t
		else
			printf "m%d.fresh.example.test %s\n", i, t
	}
}' >"$W/mixed.txt"
say "== (a) mixed workload, $DURATION s at $QPS QPS, SVCB TTL $SVCB_TTL s"
tcpdump -i lo -n -U --immediate-mode -w "$W/cap" "dst host $R and (dst port 53 or dst port 853)" \
	2>"$W/cap.err" &
TPID=$!
PIDS+=($TPID)
for _ in $(seq 50); do grep -q listening "$W/cap.err" 2>/dev/null && break; sleep 0.1; done
sleep 0.3
stubd_start auto
t_start_s=$(awk -v t="$T_START" 'BEGIN { printf "%.6f", t / 1e9 }')
taskset -c 0 dnsperf -s $SRV -p $PORT -d "$W/mixed.txt" -Q "$QPS" -l "$DURATION" -t 2 \
	>"$W/mixed.out" 2>&1 &
DPID=$!
PIDS+=($DPID)
# the moment the twin is in place, for the packets before and after it
for _ in $(seq 500); do upgraded && break; sleep 0.01; done
t_up_s=$(awk -v t="$(date +%s%N)" 'BEGIN { printf "%.6f", t / 1e9 }')
wait "$DPID" || true
sleep 0.5
sent=$(awk '/Queries sent/ {print $3}' "$W/mixed.out")
done_q=$(awk '/Queries completed/ {print $3}' "$W/mixed.out")
kill -INT "$TPID" 2>/dev/null || true
wait "$TPID" 2>/dev/null || true
tcpdump -n -tt -r "$W/cap" 2>/dev/null >"$W/cap.txt"
# columns: before/after the upgrade; probes, clear-text questions, 853 packets
read -r probes reprobes q_before q_after tls_pkts total <<<"$(awk -v tu="$t_up_s" '
	/\.53: / && /resolver\.arpa/ { p++; if ($1 > tu) rp++; next }
	/\.53: / { if ($1 > tu) qa++; else qb++; next }
	/\.853: / { t++ }
	END { printf "%d %d %d %d %d %d\n", p, rp, qb, qa, t, p + qb + qa + t }' "$W/cap.txt")"
upgrade_ms=$(awk -v a="$t_start_s" -v b="$t_up_s" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
share=$(awk -v c=$((probes + q_before + q_after)) -v t="$total" \
	'BEGIN { printf "%.4f", t ? c * 100 / t : 0 }')
share_after=$(awk -v c=$((reprobes + q_after)) -v t="$total" \
	'BEGIN { printf "%.4f", t ? c * 100 / t : 0 }')
downgrades=$(servers | tr ',' '\n' | sed -n 's/^"downgrades":\([0-9]*\).*/\1/p' | awk 'NR == 1')
ddr_probes=$(servers | tr ',' '\n' | sed -n 's/^"ddr_probes":\([0-9]*\).*/\1/p' | awk 'NR == 1')
say "   $sent sent, $done_q answered; upgrade after ${upgrade_ms} ms"
say "   packets to the router: $total; port 853: $tls_pkts; port 53: $probes DDR probes" \
	"($reprobes after the upgrade: re-probes), $q_before questions before the upgrade," \
	"$q_after after; downgrades $downgrades"
stubd_stop

# ---- (b) start to the first encrypted answer ----
say "== (b) start to first encrypted answer, $REPEAT runs"
: >"$W/first.ms"
: >"$W/upg.ms"
for r in $(seq "$REPEAT"); do
	stubd_start auto
	i=0
	tu=""
	until [ "$(twin_answers)" -ge 1 ] 2>/dev/null; do
		[ -z "$tu" ] && upgraded && tu=$(date +%s%N)
		dig +time=1 +tries=1 +short -p $PORT @$SRV "b$r-$i.example.test" A >/dev/null || true
		i=$((i + 1))
		[ $i -lt 500 ] || { say "no encrypted answer"; exit 1; }
	done
	te=$(date +%s%N)
	[ -n "$tu" ] || tu=$te
	echo $(((te - T_START) / 1000000)) >>"$W/first.ms"
	echo $(((tu - T_START) / 1000000)) >>"$W/upg.ms"
	say "   run $r: $(((te - T_START) / 1000000)) ms ($i questions before; upgrade seen at $(((tu - T_START) / 1000000)) ms)"
	stubd_stop
done
first_med=$(median <"$W/first.ms")
first_all=$(sort -n "$W/first.ms" | tr '\n' ' ' | sed 's/ $//')
upg_med=$(median <"$W/upg.ms")

# ---- (c) CPU per miss: upgraded by DDR against written down ----
# miss MODE RUN -> "cpu_us_per_miss answered qps"
miss() {
	awk -v s="$1$2" -v n="$MISSES" \
		'BEGIN { for (i = 0; i < n; i++) printf "c%s-%d.cpu.example.test A\n", s, i }' \
		>"$W/miss.txt"
	stubd_start "$1"
	dig +time=2 +tries=1 +short -p $PORT @$SRV "warm-$1$2.example.test" A >/dev/null
	[ "$1" = auto ] && wait_upgrade
	dig +time=2 +tries=1 +short -p $PORT @$SRV "warm2-$1$2.example.test" A >/dev/null
	local t0 t1 out qps done_n hz
	t0=$(cpu_ticks "$SPID")
	out=$(taskset -c 0 dnsperf -s $SRV -p $PORT -d "$W/miss.txt" -c 20 -q 200 -n 1 -l 60 -t 3 2>&1)
	t1=$(cpu_ticks "$SPID")
	qps=$(awk '/Queries per second/ {print $4}' <<<"$out")
	done_n=$(awk '/Queries completed/ {print $3}' <<<"$out")
	hz=$(getconf CLK_TCK)
	stubd_stop
	awk -v c=$((t1 - t0)) -v d="$done_n" -v hz="$hz" -v q="$qps" \
		'BEGIN { printf "%.2f %d %.0f\n", (d > 0 ? c / hz * 1e6 / d : 0), d, q }'
}
say "== (c) CPU per miss, $MISSES fresh names, $REPEAT runs each (alternating)"
: >"$W/auto.cpu"
: >"$W/explicit.cpu"
: >"$W/auto.qps"
: >"$W/explicit.qps"
for r in $(seq "$REPEAT"); do
	for m in auto explicit; do
		read -r c d q <<<"$(miss $m "$r")"
		say "   run $r $m: $c µs CPU per miss, $d answered, $q QPS"
		echo "$c" >>"$W/$m.cpu"
		echo "$q" >>"$W/$m.qps"
	done
done
cpu_auto=$(median <"$W/auto.cpu")
cpu_expl=$(median <"$W/explicit.cpu")
qps_auto=$(median <"$W/auto.qps")
qps_expl=$(median <"$W/explicit.qps")
# the shared machine's noise: each run's pair, and the quietest run of each
pair_med=$(paste "$W/auto.cpu" "$W/explicit.cpu" | awk '$2 > 0 { printf "%.3f\n", $1 / $2 }' | median)
min_auto=$(sort -n "$W/auto.cpu" | awk 'NR == 1')
min_expl=$(sort -n "$W/explicit.cpu" | awk 'NR == 1')

{
	echo "## DDR under \`encryption auto\` ($(date -u +%Y-%m-%d), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
	echo
	echo "bench/ddr.sh: a network namespace; the router 10.53.0.1 is unbound"
	echo "$(unbound -V 2>/dev/null | sed -n 's/^Version //p') (clear text, DoT, \`_dns.resolver.arpa SVCB\` with TTL $SVCB_TTL s)"
	echo "on CPU 0; stubd on CPU 1 with only \`server 10.53.0.1\` and \`encryption auto\`."
	echo
	echo "**(a) Clear-text share**, dnsperf -Q $QPS for $DURATION s from stubd's start"
	echo "(70 % of 500 popular names, 30 % fresh names; A, AAAA, TXT): $sent"
	echo "queries sent, $done_q answered; upgrade in place ${upgrade_ms} ms after the start."
	echo
	echo "| packets to the router | count |"
	echo "|---|---|"
	echo "| all (ports 53 and 853) | $total |"
	echo "| port 853 (DoT, all TCP segments) | $tls_pkts |"
	echo "| port 53: DDR probes (first + re-probes on SVCB TTL) | $probes (re-probes: $reprobes) |"
	echo "| port 53: questions before the upgrade | $q_before |"
	echo "| port 53: questions after the upgrade | **$q_after** |"
	echo
	echo "Clear-text share of all packets: $share %; after the upgrade, re-probes"
	echo "included: $share_after %; questions after the upgrade: $q_after (target 0)."
	echo "stubd counted $ddr_probes DDR probes and $downgrades downgrades (an SVCB TTL"
	echo "below 60 s counts as 60 s: re-probes about once a minute under load)."
	echo
	echo "**(b) Start to the first answer over the twin** (exec of stubd to an"
	echo "answer counted by the twin, a client asking every ~10 ms): median"
	echo "$first_med ms of $REPEAT runs ($first_all ms); the twin in place (\`servers\`"
	echo "shows \`\"upgrade\": \"ddr\"\`) at a median $upg_med ms."
	echo
	echo "**(c) CPU per miss**, $MISSES fresh names (dnsperf -c 20 -q 200), a fresh"
	echo "stubd per run, $REPEAT runs each alternating, medians:"
	echo
	echo "| stubd | CPU µs per miss | miss QPS |"
	echo "|---|---|---|"
	echo "| \`server 10.53.0.1\` + \`encryption auto\` (DDR twin) | $cpu_auto | $qps_auto |"
	echo "| \`server 10.53.0.1:853 tls dns.test\` | $cpu_expl | $qps_expl |"
	echo
	echo "DDR twin / written down: CPU per miss $(ratio "$cpu_auto" "$cpu_expl") (target ≤ 1.05); median of"
	echo "the runs' pairs $pair_med; quietest runs $min_auto / $min_expl µs = $(ratio "$min_auto" "$min_expl")."
	echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores, shared)."
	echo "Runs: auto $(tr '\n' ' ' <"$W/auto.cpu")µs; explicit $(tr '\n' ' ' <"$W/explicit.cpu")µs"
	echo "(clock ticks of $((1000 / $(getconf CLK_TCK))) ms: ±$(awk -v n="$MISSES" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", 1e6 / hz / n }') µs per miss per run)."
} | tee "$OUT"
