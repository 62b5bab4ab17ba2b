#!/usr/bin/env bash
# bench/dot.sh - cache misses forwarded over DNS over TLS (SPEC 12): stubd
# and unbound (forward-tls-upstream) in front of the same NSD serving DoT
# on loopback, in one run.  Reports QPS, the forwarder's CPU per miss and
# the TLS connections opened per 10,000 misses (TcpPassiveOpens of the
# machine during the run: dnsperf speaks UDP, so every passive TCP open is
# a forwarder connecting to NSD, counted from the forwarder's start).
#
#   bench/dot.sh            DURATION=10 REPEAT=3 by default
#
# Needs 2 cores (forwarder on CPU 1, dnsperf and NSD on CPU 0); installs
# dnsperf, nsd, unbound and openssl from Debian when missing.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
STUBD=${STUBD:-$TOP/stubd}
STUBCTL=${STUBCTL:-$TOP/stubctl}
DURATION=${DURATION:-10}
REPEAT=${REPEAT:-3}
SERVERS=${SERVERS:-"stubd unbound"}
OUT=${OUT:-$HERE/results-dot.md}
UP_ADDR=127.0.0.2
UP_PORT=5300
TLS_PORT=8853
SRV_ADDR=127.0.0.1
SRV_PORT=5353
W=$(mktemp -d /tmp/stubd-bench-dot-XXXXXX)
PIDS=()

say() { printf '%s\n' "$*" >&2; }
. "$HERE/common.sh"


make_zone() {
	{
		echo '$TTL 3600'
		echo '@ IN SOA ns.bench.test. host.bench.test. 1 3600 600 86400 300'
		echo '@ IN NS ns.bench.test.'
		echo 'ns IN A 127.0.0.2'
		echo 'n1 IN A 10.0.0.1'
		echo '*.w IN A 192.0.2.250'
	} >"$W/bench.test.zone"
}

make_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj /CN=dns.bench.test -addext subjectAltName=DNS:dns.bench.test -days 1 \
		-keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
}

start_nsd_tls() {
	NSD_EXTRA="	ip-address: $UP_ADDR@$TLS_PORT
	tls-port: $TLS_PORT
	tls-service-key: \"$W/key.pem\"
	tls-service-pem: \"$W/cert.pem\"
	tcp-count: 1000
	tcp-timeout: 120"
	bench_start_nsd taskset -c 0
}

start_server() {
	case $1 in
	stubd)
		cat >"$W/stubd.conf" <<CONF
listen $SRV_ADDR:$SRV_PORT
control $W/ctl
hosts none
cache-size 4000000
cache-memory 2G
max-inflight 65536
server $UP_ADDR:$TLS_PORT tls dns.bench.test
tls-ca $W/cert.pem
CONF
		taskset -c 1 "$STUBD" $KEEP_ROOT -f -c "$W/stubd.conf" 2>"$W/stubd.err" &
		;;
	unbound)
		bench_unbound_conf "$W/unbound.conf" "	msg-cache-size: 256m
	rrset-cache-size: 512m
	so-rcvbuf: 4m
	harden-referral-path: no
	tls-cert-bundle: \"$W/cert.pem\"" "" "	forward-tls-upstream: yes
	forward-addr: $UP_ADDR@$TLS_PORT#dns.bench.test"
		taskset -c 1 unbound -d -c "$W/unbound.conf" 2>"$W/unbound.err" &
		;;
	esac
	SPID=$!
	PIDS+=($SPID)
	bench_wait "$1" start.w.bench.test
}

stop_server() {
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	sleep 0.3
}

passive_opens() { awk '/^Tcp:/ { n++ } /^Tcp:/ && n == 2 { print $6 }' /proc/net/snmp; }

# miss SERVER RUN -> "qps completed cpu_us_per_miss connections_per_10k";
# connections counted from before the forwarder started (OPENS0)
miss() {
	local s=$1 r=$2 t0 t1 o0=$OPENS0 o1 out qps done hz
	awk -v s="$s$r" 'BEGIN { for (i = 0; i < 3000000; i++) printf "m%s-%d.w.bench.test A\n", s, i }' \
		>"$W/miss.txt"
	t0=$(cpu_ticks "$SPID")
	out=$(taskset -c 0 dnsperf -s $SRV_ADDR -p $SRV_PORT -d "$W/miss.txt" -c 20 -q 500 -n 1 \
		-l "$DURATION" 2>&1)
	t1=$(cpu_ticks "$SPID")
	o1=$(passive_opens)
	qps=$(awk '/Queries per second/ {print $4}' <<<"$out")
	done=$(awk '/Queries completed/ {print $3}' <<<"$out")
	hz=$(getconf CLK_TCK)
	awk -v q="$qps" -v d="$done" -v c=$((t1 - t0)) -v hz="$hz" -v o=$((o1 - o0)) \
		'BEGIN { printf "%.0f %d %.2f %.2f\n", q, d, (d > 0 ? c / hz * 1e6 / d : 0),
			(d > 0 ? o * 10000 / d : 0) }'
}

declare -A RES
run_server() {
	local s=$1 r a b c o
	say "== $s"
	: >"$W/$s.q"; : >"$W/$s.c"; : >"$W/$s.o"
	for r in $(seq "$REPEAT"); do
		OPENS0=$(passive_opens)
		start_server "$s"
		read -r a b c o <<<"$(miss "$s" "$r")"
		say "   run $r: $a QPS, $b answered, $c µs CPU per miss, $o connections per 10k"
		echo "$a" >>"$W/$s.q"; echo "$c" >>"$W/$s.c"; echo "$o" >>"$W/$s.o"
		if [ "$s" = stubd ]; then
			RES[stubd,hs]=$("$STUBCTL" -s "$W/ctl" --json servers |
				sed -n 's/.*"handshakes":\([0-9]*\),"resumed":\([0-9]*\).*/\1 handshakes, \2 resumed/p')
		fi
		stop_server
	done
	RES[$s,qps]=$(median <"$W/$s.q")
	RES[$s,cpu]=$(median <"$W/$s.c")
	RES[$s,conn]=$(median <"$W/$s.o")
}


report() {
	{
		echo "## DoT cache misses ($(date -u +%Y-%m-%d), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
		echo
		echo "dnsperf -c 20 -q 500 -l $DURATION over never-seen names, median of $REPEAT runs"
		echo "(a fresh forwarder each run); forwarder on CPU 1, dnsperf and NSD"
		echo "$(nsd -v 2>&1 | head -1 | awk '{print $NF}') (DoT, tls-port) on CPU 0."
		echo
		echo "| forwarder | miss QPS | CPU µs per miss | TLS connections per 10,000 misses |"
		echo "|---|---|---|---|"
		for s in $SERVERS; do
			echo "| $s | ${RES[$s,qps]} | ${RES[$s,cpu]} | ${RES[$s,conn]} |"
		done
		if [[ " $SERVERS " == *" stubd "* && " $SERVERS " == *" unbound "* ]]; then
			echo
			echo "stubd / unbound: CPU per miss $(ratio "${RES[stubd,cpu]}" "${RES[unbound,cpu]}") (lower is better),"
			echo "QPS $(ratio "${RES[stubd,qps]}" "${RES[unbound,qps]}") (higher is better);"
			echo "stubd's last run: ${RES[stubd,hs]:-?}."
		fi
	} | tee "$OUT"
}

[ -x "$STUBD" ] || { say "build stubd first ($STUBD)"; exit 1; }
[ "$(nproc)" -ge 2 ] || { say "needs 2 cores"; exit 1; }
bench_install dnsperf:dnsperf nsd:nsd unbound:unbound openssl:openssl taskset:util-linux
make_zone
make_cert
start_nsd_tls
for s in $SERVERS; do
	run_server "$s"
done
report
