#!/usr/bin/env bash
# bench/resolved.sh - stubd (resolved-compat yes) beside systemd-resolved
# 252 itself, in one run, both forwarding to the same NSD (SPEC 16, 10;
# issue 23 "Measure").
#
# systemd-resolved is Debian 12's binary from the systemd-resolved package,
# fetched with `apt-get download` and unpacked with `dpkg-deb -x` into
# .resolvectl/x (as quickstart.sh does for resolvectl), never installed, so
# it never touches the machine's /etc/resolv.conf.  Everything runs in a
# private network and mount namespace this script makes (loopback, and a
# veth pair with both ends inside it: with no link but loopback holding a
# routable address resolved answers "network is down" without asking
# anyone; no packet leaves the namespace):
#   NSD       127.0.0.2:5300, zone bench.test. (NAMES A records, TTL 3600)
#   resolved  in a mount namespace of its own: a tmpfs on /run/systemd (its
#             varlink sockets at the fixed /run/systemd/resolve/..., its
#             resolved.conf.d drop-in with DNS=127.0.0.2:5300, Domains=~.,
#             DNSSEC, DNSOverTLS, LLMNR and mDNS off, and
#             CacheFromLocalhost=yes: without it resolved caches nothing
#             from a server on 127.0.0.0/8 and every query is a miss); its
#             user systemd-resolve in a passwd/group bind-mounted over /etc
#             in the bench's namespace only; its own dbus-daemon (a system
#             bus config of its own); stub listener 127.0.0.53:53; log
#             level warning (RSD_LOG_LEVEL).
#   stubd     -u root, `resolved-compat yes`, listen 127.0.0.1:53, its own
#             dbus-daemon; its varlink sockets and files in
#             $STUBD_RESOLVE_DIR (a directory of this run; with it set,
#             stubd leaves 127.0.0.53 to resolved).
# Clients reach resolved's sockets through /proc/PID/root.  Both servers
# are pinned to CPU 1, and so is NSD (it only answers the first misses;
# asked directly it is the noise floor of CPU 1), clients and the buses to
# CPU 0.
#
# Measured (cached names only; every name is asked once or more first):
#  1 DNS cache hits: dnsperf -c 20 -q 500 -l DURATION over HOT names;
#    server CPU (utime+stime, /proc/PID/stat) / answered queries, REPEAT
#    runs alternating the servers, medians; the servers' own cache
#    counters (resolvectl statistics on resolved's bus, stubctl stats)
#    are read around each run to show the answers came from the cache.
#  2 varlink io.systemd.Resolve.ResolveHostname (family AF_INET), CALLS
#    calls (default 10,000) by bench/rsdclient.c: one connection, one
#    call at a time (calls/s, p50, p99) and 8 connections (calls/s), and
#    the server's CPU per call (which scheduling noise does not move).
#  3 D-Bus org.freedesktop.resolve1.Manager.ResolveHostname, the same
#    (through each server's dbus-daemon; 1 call at a time and 8 in
#    flight); "n/a" when the server answers UnknownMethod.
#  4 DNS latency at a fixed LAT_QPS (dnsperf -Q, per-query latencies,
#    p50/p99) without and with IDLE (500) idle varlink connections held
#    open to the server, REPEAT runs each, medians, and the server's CPU
#    per answer in those runs (which scheduling noise does not move);
#    beside it NSD asked directly at the same rate, the noise floor.
#  Noise floor of 2: a varlink "server" that answers at once (rsdclient
#    echo, CPU 1), asked the same way.
# Targets (SPEC 16, issue 23): stubd CPU per cache hit <= 0.5 x resolved's;
# varlink p99 <= 1 ms and calls/s >= resolved's; DNS p99 with 500 idle
# varlink clients <= 5 ms and about the same as without.
#
# Environment: DURATION (s, default 10), REPEAT (3), NAMES (2000), HOT
# (1000), CALLS (10000), LAT_QPS (5000, below resolved's capacity on one
# core, about 8-20 k QPS here), IDLE (500), OUT (markdown,
# default bench/results-resolved.md), STUBD, STUBCTL, RSD (the
# systemd-resolved binary), RESOLVECTL.  Needs root (namespaces).  Every
# process started is stopped at the end; every run is bounded (dnsperf -l,
# rsdclient gives up after 120 s, the idle client after DURATION + 60 s,
# the echo after REPEAT x 60 + 60 s).
# Takes about 7 x REPEAT x DURATION seconds plus a minute (5 minutes at
# the defaults).  Installs dnsperf and nsd from Debian when missing.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
STUBD=${STUBD:-$TOP/stubd}
STUBCTL=${STUBCTL:-$TOP/stubctl}
DURATION=${DURATION:-10}
REPEAT=${REPEAT:-3}
NAMES=${NAMES:-2000}
HOT=${HOT:-1000}
CALLS=${CALLS:-10000}
LAT_QPS=${LAT_QPS:-5000}
IDLE=${IDLE:-500}
OUT=${OUT:-$HERE/results-resolved.md}
RX=$TOP/.resolvectl/x
RSD=${RSD:-$RX/lib/systemd/systemd-resolved}
RESOLVECTL=${RESOLVECTL:-$RX/usr/bin/resolvectl}
UP_ADDR=127.0.0.2
UP_PORT=5300

say() { printf '%s\n' "$*" >&2; }

# ---- outside: tools, the resolved binary, the client; then the namespaces
if [ -z "${RSD_BENCH_INNER:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { say "resolved.sh: needs root (namespaces)"; exit 1; }
	W=$(mktemp -d /tmp/stubd-bench-resolved-XXXXXX)
	PIDS=()
	# shellcheck source=bench/common.sh
	. "$HERE/common.sh"
	bench_install dnsperf:dnsperf nsd:nsd taskset:util-linux dig:dnsutils \
		dbus-daemon:dbus unshare:util-linux cc:gcc pkg-config:pkg-config
	[ -x "$STUBD" ] && [ -x "$STUBCTL" ] || { say "no stubd at $STUBD (build first)"; exit 1; }
	if [ ! -x "$RSD" ]; then
		say "fetching systemd-resolved (not installed: unpacked into $TOP/.resolvectl)"
		rm -rf "$TOP/.resolvectl" && mkdir -p "$TOP/.resolvectl" && chmod 755 "$TOP/.resolvectl"
		(cd "$TOP/.resolvectl" && apt-get download systemd-resolved >/dev/null &&
			dpkg-deb -x systemd-resolved_*.deb x) || { say "cannot fetch systemd-resolved"; exit 1; }
	fi
	# shellcheck disable=SC2046 # pkg-config's words
	cc -O2 -o "$W/rsdclient" "$HERE/rsdclient.c" $(pkg-config --cflags --libs libsystemd) ||
		{ say "cannot build bench/rsdclient.c (libsystemd-dev?)"; exit 1; }
	chmod 755 "$W"
	trap - EXIT
	rc=0
	RSD_BENCH_INNER=1 W=$W STUBD=$STUBD STUBCTL=$STUBCTL RSD=$RSD RESOLVECTL=$RESOLVECTL \
		OUT=$OUT unshare --net --mount --propagation private bash "$0" || rc=$?
	rm -rf "$W"
	exit $rc
fi

# ---- inside the bench's network and mount namespace
PIDS=()
# shellcheck source=bench/common.sh
. "$HERE/common.sh"
ip link set lo up
# resolved sends nothing upstream while no link other than loopback has a
# routable address ("network-down"): a veth pair with both ends in this
# namespace, 192.0.2.1/24 on one (no route leads anywhere else)
ip link add bench0 type veth peer name bench1
ip addr add 192.0.2.1/24 dev bench0
ip link set bench1 up
ip link set bench0 up
HZ=$(getconf CLK_TCK)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

{
	echo '$TTL 3600'
	echo '@ IN SOA ns.bench.test. host.bench.test. 1 3600 600 86400 300'
	echo '@ IN NS ns.bench.test.'
	echo 'ns IN A 127.0.0.2'
	awk -v n="$NAMES" 'BEGIN { for (i = 0; i < n; i++)
		printf "n%d IN A 10.0.%d.%d\n", i, int(i / 256) % 256, i % 256 }'
} >"$W/bench.test.zone"
awk -v n="$HOT" 'BEGIN { for (i = 0; i < n; i++) printf "n%d.bench.test A\n", i }' >"$W/hot.txt"
awk '{ print $1 }' "$W/hot.txt" >"$W/hot.names"
bench_start_nsd taskset -c 1

# start_bus NAME: a system bus config of its own for NAME; sets BUS_ADDR
start_bus() {
	cat >"$W/bus-$1.xml" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$W/bus-$1</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
XML
	taskset -c 0 dbus-daemon --config-file="$W/bus-$1.xml" --nofork --nosyslog &
	PIDS+=($!)
	for _ in $(seq 100); do [ -S "$W/bus-$1" ] && break; sleep 0.05; done
	BUS_ADDR=unix:path=$W/bus-$1
}

# resolved's user, systemd-resolve, for it and its bus, in this namespace only
if ! getent passwd systemd-resolve >/dev/null; then
	{ cat /etc/passwd; echo "systemd-resolve:x:991:991:systemd Resolver:/:/usr/sbin/nologin"; } >"$W/passwd"
	{ cat /etc/group; echo "systemd-resolve:x:991:"; } >"$W/group"
	mount --bind "$W/passwd" /etc/passwd
	mount --bind "$W/group" /etc/group
fi

# systemd-resolved in a mount namespace of its own
start_bus rsd
RSD_BUS=$BUS_ADDR
printf '[Resolve]\nDNS=%s:%s\nDomains=~.\nLLMNR=no\nMulticastDNS=no\nDNSSEC=no\nDNSOverTLS=no\nCache=yes\nCacheFromLocalhost=yes\nDNSStubListener=yes\nReadEtcHosts=yes\n' \
	"$UP_ADDR" "$UP_PORT" >"$W/resolved.conf"
DBUS_SYSTEM_BUS_ADDRESS=$RSD_BUS SYSTEMD_LOG_LEVEL=${RSD_LOG_LEVEL:-warning} SYSTEMD_LOG_TARGET=console \
	unshare --mount --propagation private bash -c '
	W=$1
	mount -t tmpfs -o mode=755 tmpfs /run/systemd
	mkdir -p /run/systemd/resolved.conf.d
	cp "$W/resolved.conf" /run/systemd/resolved.conf.d/bench.conf
	exec taskset -c 1 "$2"' sh "$W" "$RSD" >"$W/resolved.err" 2>&1 &
RPID=$!
PIDS+=("$RPID")
RSOCK=/proc/$RPID/root/run/systemd/resolve/io.systemd.Resolve
SRV_ADDR=127.0.0.53 SRV_PORT=53 bench_wait resolved n0.bench.test
rstat() { # -> "hits misses"
	DBUS_SYSTEM_BUS_ADDRESS=$RSD_BUS "$RESOLVECTL" statistics --no-pager 2>/dev/null |
		awk '/Cache Hits:/ { h = $3 } /Cache Misses:/ { m = $3 } END { print h + 0, m + 0 }'
}
for _ in $(seq 50); do [ "$(rstat)" != "0 0" ] && break; sleep 0.1; done
[ "$(rstat)" != "0 0" ] || {
	say "no statistics from resolved's bus:"
	DBUS_SYSTEM_BUS_ADDRESS=$RSD_BUS "$RESOLVECTL" statistics --no-pager || true
	cat "$W/resolved.err" >&2
	exit 1
}

# stubd, resolved-compat yes, its own bus
start_bus stubd
STUBD_BUS=$BUS_ADDR
cat >"$W/stubd.conf" <<CONF
listen 127.0.0.1:53
server $UP_ADDR:$UP_PORT
resolved-compat yes
control $W/stubd.sock
cache-size 100000
CONF
DBUS_SYSTEM_BUS_ADDRESS=$STUBD_BUS STUBD_RESOLVE_DIR=$W/stubd-resolve \
	taskset -c 1 "$STUBD" -f $KEEP_ROOT -c "$W/stubd.conf" >"$W/stubd.err" 2>&1 &
SPID=$!
PIDS+=("$SPID")
SSOCK=$W/stubd-resolve/io.systemd.Resolve
SRV_ADDR=127.0.0.1 SRV_PORT=53 bench_wait stubd n0.bench.test
sstat() {
	"$STUBCTL" -s "$W/stubd.sock" --json stats |
		python3 -c 'import json,sys; s = json.load(sys.stdin); print(s["cache_hits"], s["cache_misses"])'
}

addr_of() { [ "$1" = stubd ] && echo 127.0.0.1 || echo 127.0.0.53; }
pid_of() { [ "$1" = stubd ] && echo "$SPID" || echo "$RPID"; }
sock_of() { [ "$1" = stubd ] && echo "$SSOCK" || echo "$RSOCK"; }
bus_of() { [ "$1" = stubd ] && echo "$STUBD_BUS" || echo "$RSD_BUS"; }
stat_of() { if [ "$1" = stubd ]; then sstat; else rstat; fi; }
SERVERS="resolved stubd"
declare -A R

# warm both caches: two passes of the hot names over DNS, one over varlink
for s in $SERVERS; do
	for _ in 1 2; do
		taskset -c 0 dnsperf -s "$(addr_of $s)" -d "$W/hot.txt" -c 20 -q 200 -n 1 >/dev/null 2>&1
	done
	taskset -c 0 "$W/rsdclient" varlink "$(sock_of $s)" "$W/hot.names" "$HOT" 1 2 >/dev/null
done

# 1: CPU per DNS cache hit
for r in $(seq "$REPEAT"); do
	for s in $SERVERS; do
		read -r h0 m0 <<<"$(stat_of $s)"
		c0=$(cpu_ticks "$(pid_of $s)")
		out=$(taskset -c 0 dnsperf -s "$(addr_of $s)" -d "$W/hot.txt" -c 20 -q 500 -l "$DURATION" 2>&1)
		c1=$(cpu_ticks "$(pid_of $s)")
		read -r h1 m1 <<<"$(stat_of $s)"
		done_q=$(awk '/Queries completed/ { print $3 }' <<<"$out")
		qps=$(awk '/Queries per second/ { printf "%.0f", $4 }' <<<"$out")
		cpu=$(awk -v c=$((c1 - c0)) -v d="$done_q" -v hz="$HZ" \
			'BEGIN { printf "%.2f", (d > 0 ? c / hz * 1e6 / d : 0) }')
		say "dns $s run $r: $done_q answered, $qps QPS, $cpu µs CPU/query, cache hits +$((h1 - h0)) misses +$((m1 - m0))"
		echo "$cpu" >>"$W/$s.cpu"; echo "$qps" >>"$W/$s.qps"
		echo "$((h1 - h0)) $((m1 - m0)) $done_q" >>"$W/$s.hits"
	done
done
for s in $SERVERS; do
	R[$s,cpu]=$(median <"$W/$s.cpu"); R[$s,qps]=$(median <"$W/$s.qps")
	R[$s,hits]=$(awk '{ h += $1; m += $2; d += $3 } END { printf "%d hits, %d misses / %d answered", h, m, d }' "$W/$s.hits")
done

# cpu_per_call PID TICKS0 OUTPUT-LINE -> server CPU µs per answered call
cpu_per_call() {
	awk -v c=$(($(cpu_ticks "$1") - $2)) -v hz="$HZ" -v n="$(field calls <<<"$3")" \
		'BEGIN { printf "%.1f", (n > 0 ? c / hz * 1e6 / n : 0) }'
}
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }

# 2 and 3: ResolveHostname over varlink and D-Bus
for s in $SERVERS; do
	read -r h0 m0 <<<"$(stat_of $s)"
	for r in $(seq "$REPEAT"); do
		c0=$(cpu_ticks "$(pid_of $s)")
		o=$(taskset -c 0 "$W/rsdclient" varlink "$(sock_of $s)" "$W/hot.names" "$CALLS" 1 2)
		cpu_per_call "$(pid_of $s)" "$c0" "$o" >>"$W/$s.vl1cpu"; echo >>"$W/$s.vl1cpu"
		say "varlink $s run $r (1 connection): $o; server CPU µs/call $(tail -1 "$W/$s.vl1cpu")"
		field cps <<<"$o" >>"$W/$s.vl1"; field p99_us <<<"$o" >>"$W/$s.vl1p99"
		field p50_us <<<"$o" >>"$W/$s.vl1p50"; field ok <<<"$o" >>"$W/$s.vl1ok"
		c0=$(cpu_ticks "$(pid_of $s)")
		o=$(taskset -c 0 "$W/rsdclient" varlink "$(sock_of $s)" "$W/hot.names" "$CALLS" 8 2)
		cpu_per_call "$(pid_of $s)" "$c0" "$o" >>"$W/$s.vl8cpu"; echo >>"$W/$s.vl8cpu"
		say "varlink $s run $r (8 connections): $o; server CPU µs/call $(tail -1 "$W/$s.vl8cpu")"
		field cps <<<"$o" >>"$W/$s.vl8"; field p99_us <<<"$o" >>"$W/$s.vl8p99"
	done
	read -r h1 m1 <<<"$(stat_of $s)"
	R[$s,vlhits]="$((h1 - h0)) hits, $((m1 - m0)) misses"
	for k in vl1 vl1p99 vl1p50 vl1ok vl8 vl8p99 vl1cpu vl8cpu; do R[$s,$k]=$(median <"$W/$s.$k"); done
	R[$s,vl1p99ms]=$(awk -v u="${R[$s,vl1p99]}" 'BEGIN { printf "%.3f", u / 1000 }')
	R[$s,vl1p50ms]=$(awk -v u="${R[$s,vl1p50]}" 'BEGIN { printf "%.3f", u / 1000 }')
	R[$s,vl8p99ms]=$(awk -v u="${R[$s,vl8p99]}" 'BEGIN { printf "%.3f", u / 1000 }')

	R[$s,db1]=n/a; R[$s,db1p99ms]=n/a; R[$s,db8]=n/a; R[$s,db1cpu]=n/a
	: >"$W/$s.db1"; : >"$W/$s.db1p99"; : >"$W/$s.db8"; : >"$W/$s.db1cpu"
	for r in $(seq "$REPEAT"); do
		drc=0
		c0=$(cpu_ticks "$(pid_of $s)")
		o=$(DBUS_SYSTEM_BUS_ADDRESS=$(bus_of $s) taskset -c 0 "$W/rsdclient" dbus \
			"$W/hot.names" "$CALLS" 1 2 2>"$W/$s.dberr") || drc=$?
		if [ $drc -eq 3 ]; then
			say "dbus $s: UnknownMethod (ResolveHostname not served): n/a"
			break
		fi
		[ $drc -eq 0 ] || { say "dbus $s: failed: $(cat "$W/$s.dberr")"; break; }
		cpu_per_call "$(pid_of $s)" "$c0" "$o" >>"$W/$s.db1cpu"; echo >>"$W/$s.db1cpu"
		say "dbus $s run $r (1 call at a time): $o; server CPU µs/call $(tail -1 "$W/$s.db1cpu")"
		field cps <<<"$o" >>"$W/$s.db1"; field p99_us <<<"$o" >>"$W/$s.db1p99"
		o=$(DBUS_SYSTEM_BUS_ADDRESS=$(bus_of $s) taskset -c 0 "$W/rsdclient" dbus \
			"$W/hot.names" "$CALLS" 8 2 2>"$W/$s.dberr") || true
		say "dbus $s run $r (8 calls in flight): $o"
		field cps <<<"$o" >>"$W/$s.db8"
	done
	if [ -s "$W/$s.db1" ]; then
		R[$s,db1]=$(median <"$W/$s.db1"); R[$s,db8]=$(median <"$W/$s.db8")
		R[$s,db1cpu]=$(median <"$W/$s.db1cpu")
		R[$s,db1p99ms]=$(median <"$W/$s.db1p99" | awk '{ printf "%.3f", $1 / 1000 }')
	fi
done

# the noise floor of a varlink round trip: a server that answers at once
# (rsdclient echo) on CPU 1, asked the same way
taskset -c 1 "$W/rsdclient" echo "$W/echo.sock" $((REPEAT * 60 + 60)) &
EPID=$!
PIDS+=("$EPID")
for _ in $(seq 100); do [ -S "$W/echo.sock" ] && break; sleep 0.05; done
for r in $(seq "$REPEAT"); do
	o=$(taskset -c 0 "$W/rsdclient" varlink "$W/echo.sock" "$W/hot.names" "$CALLS" 1 2)
	say "varlink echo run $r (1 connection): $o"
	field cps <<<"$o" >>"$W/echo.vl1"; field p99_us <<<"$o" >>"$W/echo.vl1p99"
	field p50_us <<<"$o" >>"$W/echo.vl1p50"
	o=$(taskset -c 0 "$W/rsdclient" varlink "$W/echo.sock" "$W/hot.names" "$CALLS" 8 2)
	say "varlink echo run $r (8 connections): $o"
	field cps <<<"$o" >>"$W/echo.vl8"; field p99_us <<<"$o" >>"$W/echo.vl8p99"
done
kill "$EPID" 2>/dev/null || true
wait "$EPID" 2>/dev/null || true
for k in vl1 vl1p99 vl1p50 vl8 vl8p99; do R[echo,$k]=$(median <"$W/echo.$k"); done
for k in vl1p99 vl1p50 vl8p99; do
	R[echo,${k}ms]=$(awk -v u="${R[echo,$k]}" 'BEGIN { printf "%.3f", u / 1000 }')
done

# 4: DNS latency at a fixed rate, without and with idle varlink clients;
# NSD asked directly at the same rate is the machine's noise floor
lat_run() { # ADDR PORT FILE [PID] -> "p50 p99 answers cpu-us-per-answer" (ms)
	local c0=0 c1=0
	[ -z "${4:-}" ] || c0=$(cpu_ticks "$4")
	taskset -c 0 dnsperf -s "$1" -p "$2" -d "$W/hot.txt" -c 20 -q 500 -Q "$LAT_QPS" \
		-l "$DURATION" -v 2>/dev/null |
		awk '$1 == ">" && $2 == "NOERROR" { print $NF * 1000 }' | sort -n >"$W/lat"
	[ -z "${4:-}" ] || c1=$(cpu_ticks "$4")
	awk -v c=$((c1 - c0)) -v hz="$HZ" '{ a[NR] = $1 } END { printf "%.3f %.3f %d %.2f\n",
		NR ? a[int((NR + 1) / 2)] : 0, NR ? a[int(NR * 0.99)] : 0, NR,
		(NR ? c / hz * 1e6 / NR : 0) }' "$W/lat" >"$3"
}
for r in $(seq "$REPEAT"); do
	lat_run $UP_ADDR $UP_PORT "$W/nsd.lat.$r"
	say "latency nsd run $r: $(cat "$W/nsd.lat.$r") (p50 p99 ms, answers, server CPU µs per answer)"
	for s in $SERVERS; do
		lat_run "$(addr_of $s)" 53 "$W/$s.plain.$r" "$(pid_of $s)"
		say "latency $s run $r: $(cat "$W/$s.plain.$r")"
		fd0=$(ls "/proc/$(pid_of $s)/fd" | wc -l)
		: >"$W/$s.idle"
		taskset -c 0 "$W/rsdclient" idle "$(sock_of $s)" "$IDLE" $((DURATION + 60)) >"$W/$s.idle" &
		IPID=$!
		PIDS+=("$IPID")
		for _ in $(seq 100); do grep -q idle "$W/$s.idle" && break; sleep 0.1; done
		sleep 0.5
		fd1=$(ls "/proc/$(pid_of $s)/fd" | wc -l)
		R[$s,idlefds]=$((fd1 - fd0))
		lat_run "$(addr_of $s)" 53 "$W/$s.idle.$r" "$(pid_of $s)"
		say "latency $s run $r with $IDLE idle varlink clients ($((fd1 - fd0)) more descriptors in the server): $(cat "$W/$s.idle.$r")"
		kill "$IPID" 2>/dev/null || true
		wait "$IPID" 2>/dev/null || true
	done
done
for s in nsd $SERVERS; do
	for t in plain idle; do
		[ "$s" = nsd ] && f="$W/nsd.lat." || f="$W/$s.$t."
		R[$s,$t,p50]=$(cat "$f"* | awk '{ print $1 }' | median)
		R[$s,$t,p99]=$(cat "$f"* | awk '{ print $2 }' | median)
		R[$s,$t,cpu]=$(cat "$f"* | awk '{ print $4 }' | median)
		R[$s,$t,p99all]=$(cat "$f"* | awk '{ printf "%s%s", s, $2; s = ", " }')
	done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

nratio() { if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; else ratio "$1" "$2"; fi; }
ok() { awk -v c="$1" 'BEGIN { print (c ? "met" : "**not met**") }'; }
cpu_ratio=$(ratio "${R[stubd,cpu]}" "${R[resolved,cpu]}")
vl_ratio=$(ratio "${R[stubd,vl1]}" "${R[resolved,vl1]}")
vl8_ratio=$(ratio "${R[stubd,vl8]}" "${R[resolved,vl8]}")
{
	echo "# stubd beside systemd-resolved (bench/resolved.sh)"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; load average at start $LOAD0, at end $LOAD1"
	echo "(the machine is shared: other work ran during the measurement)."
	echo "systemd-resolved $("$RSD" --version | head -1 | awk '{ print $2 }') (Debian 12 package binary),"
	echo "stubd $("$STUBD" -V | head -1 | awk '{ print $NF }'), NSD $(dpkg-query -W -f '${Version}' nsd 2>/dev/null || echo '?'),"
	echo "dnsperf $(dpkg-query -W -f '${Version}' dnsperf 2>/dev/null || echo '?'); DURATION=$DURATION REPEAT=$REPEAT HOT=$HOT CALLS=$CALLS LAT_QPS=$LAT_QPS IDLE=$IDLE;"
	echo "servers and NSD on CPU 1, clients and dbus-daemons on CPU 0; medians of $REPEAT runs."
	echo
	echo "| measure | systemd-resolved | stubd | stubd / resolved |"
	echo "|---|---|---|---|"
	echo "| DNS cache hit: server CPU µs per query | ${R[resolved,cpu]} | ${R[stubd,cpu]} | $cpu_ratio |"
	echo "| DNS cache hit: QPS (dnsperf -c 20 -q 500) | ${R[resolved,qps]} | ${R[stubd,qps]} | $(ratio "${R[stubd,qps]}" "${R[resolved,qps]}") |"
	echo "| DNS runs: the server's cache counters | ${R[resolved,hits]} | ${R[stubd,hits]} | |"
	echo "| varlink ResolveHostname, 1 connection: calls/s | ${R[resolved,vl1]} | ${R[stubd,vl1]} | $vl_ratio |"
	echo "| varlink ResolveHostname, 1 connection: p50 / p99 ms | ${R[resolved,vl1p50ms]} / ${R[resolved,vl1p99ms]} | ${R[stubd,vl1p50ms]} / ${R[stubd,vl1p99ms]} | |"
	echo "| varlink ResolveHostname, 8 connections: calls/s (p99 ms) | ${R[resolved,vl8]} (${R[resolved,vl8p99ms]}) | ${R[stubd,vl8]} (${R[stubd,vl8p99ms]}) | $vl8_ratio |"
	echo "| varlink ResolveHostname: server CPU µs per call, 1 / 8 connections | ${R[resolved,vl1cpu]} / ${R[resolved,vl8cpu]} | ${R[stubd,vl1cpu]} / ${R[stubd,vl8cpu]} | $(ratio "${R[stubd,vl1cpu]}" "${R[resolved,vl1cpu]}") / $(ratio "${R[stubd,vl8cpu]}" "${R[resolved,vl8cpu]}") |"
	echo "| varlink: answers with addresses / calls (1 conn.); cache counters over all varlink runs | ${R[resolved,vl1ok]} / $CALLS; ${R[resolved,vlhits]} | ${R[stubd,vl1ok]} / $CALLS; ${R[stubd,vlhits]} | |"
	echo "| noise floor: a varlink echo on CPU 1 (rsdclient echo), 1 connection: calls/s, p50 / p99 ms; 8 connections: calls/s (p99 ms) | ${R[echo,vl1]}, ${R[echo,vl1p50ms]} / ${R[echo,vl1p99ms]}; ${R[echo,vl8]} (${R[echo,vl8p99ms]}) | | |"
	echo "| D-Bus ResolveHostname, 1 call at a time: calls/s (p99 ms) | ${R[resolved,db1]} (${R[resolved,db1p99ms]}) | ${R[stubd,db1]} (${R[stubd,db1p99ms]}) | $(nratio "${R[stubd,db1]}" "${R[resolved,db1]}") |"
	echo "| D-Bus ResolveHostname: server CPU µs per call (1 at a time; dbus-daemon not counted) | ${R[resolved,db1cpu]} | ${R[stubd,db1cpu]} | $(nratio "${R[stubd,db1cpu]}" "${R[resolved,db1cpu]}") |"
	echo "| D-Bus ResolveHostname, 8 in flight: calls/s | ${R[resolved,db8]} | ${R[stubd,db8]} | $(nratio "${R[stubd,db8]}" "${R[resolved,db8]}") |"
	echo "| DNS at $LAT_QPS QPS: p50 / p99 ms (p99 of each run) | ${R[resolved,plain,p50]} / ${R[resolved,plain,p99]} (${R[resolved,plain,p99all]}) | ${R[stubd,plain,p50]} / ${R[stubd,plain,p99]} (${R[stubd,plain,p99all]}) | |"
	echo "| the same with $IDLE idle varlink clients connected | ${R[resolved,idle,p50]} / ${R[resolved,idle,p99]} (${R[resolved,idle,p99all]}) | ${R[stubd,idle,p50]} / ${R[stubd,idle,p99]} (${R[stubd,idle,p99all]}) | |"
	echo "| noise floor: NSD asked directly at $LAT_QPS QPS, p50 / p99 ms (p99 of each run) | ${R[nsd,plain,p50]} / ${R[nsd,plain,p99]} (${R[nsd,plain,p99all]}) | | |"
	echo "| server CPU µs per DNS answer at $LAT_QPS QPS: without / with $IDLE idle varlink clients | ${R[resolved,plain,cpu]} / ${R[resolved,idle,cpu]} | ${R[stubd,plain,cpu]} / ${R[stubd,idle,cpu]} | |"
	echo "| descriptors the idle clients added to the server | ${R[resolved,idlefds]} | ${R[stubd,idlefds]} | |"
	echo
	echo "| target | result | |"
	echo "|---|---|---|"
	echo "| stubd CPU per cache hit ≤ 0.5 × resolved's | $cpu_ratio | $(ok "$(awk -v r="$cpu_ratio" 'BEGIN { print (r != "-" && r <= 0.5) }')") |"
	echo "| varlink p99 ≤ 1 ms (1 connection) | ${R[stubd,vl1p99ms]} ms | $(ok "$(awk -v p="${R[stubd,vl1p99ms]}" 'BEGIN { print (p <= 1) }')") |"
	echo "| varlink calls/s ≥ resolved's (1 / 8 connections) | $vl_ratio / $vl8_ratio | $(ok "$(awk -v a="$vl_ratio" -v b="$vl8_ratio" 'BEGIN { print (a >= 1 && b >= 1) }')") |"
	echo "| 500 idle varlink clients change nothing: server CPU per answer with / without | $(ratio "${R[stubd,idle,cpu]}" "${R[stubd,plain,cpu]}") (resolved: $(ratio "${R[resolved,idle,cpu]}" "${R[resolved,plain,cpu]}")) | $(ok "$(awk -v a="${R[stubd,idle,cpu]}" -v b="${R[stubd,plain,cpu]}" 'BEGIN { print (b > 0 && a / b <= 1.2) }')") |"
	echo "| DNS p99 with $IDLE idle varlink clients ≤ 5 ms | ${R[stubd,idle,p99]} ms (without: ${R[stubd,plain,p99]} ms) | $(ok "$(awk -v p="${R[stubd,idle,p99]}" 'BEGIN { print (p > 0 && p <= 5) }')") |"
} >"$OUT"
cat "$OUT"
