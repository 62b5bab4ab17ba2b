# bench/common.sh - what the benchmarks share: installing the tools from
# Debian (no service starts on install) and the NSD upstream on loopback.
# Sourced; uses W (work directory), UP_ADDR, UP_PORT and the PIDS array of
# the sourcing script, and say().

# the servers a benchmark started (PIDS) end with it, and its directory
bench_cleanup() {
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$W"
}
trap bench_cleanup EXIT

# bench_install TOOL:PACKAGE... - install the packages of missing tools
bench_install() {
	local missing=() t
	for t in "$@"; do
		command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	say "installing ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	# packaged services must not start on install
	local prc=/usr/sbin/policy-rc.d made=0
	if [ ! -e $prc ]; then
		printf '#!/bin/sh\nexit 101\n' | $sudo tee $prc >/dev/null
		$sudo chmod +x $prc
		made=1
	fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
	[ $made -eq 1 ] && $sudo rm -f $prc
	return 0
}

# bench_start_nsd [taskset args] - serve $W/bench.test.zone (which must
# have n1); NSD_EXTRA: more server: lines (DoT); sets NSD_PID
bench_start_nsd() {
	cat >"$W/nsd.conf" <<CONF
server:
	ip-address: $UP_ADDR@$UP_PORT
${NSD_EXTRA:-}
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
	name: bench.test
	zonefile: bench.test.zone
CONF
	"$@" nsd -d -c "$W/nsd.conf" >"$W/nsd.out" 2>&1 &
	PIDS+=($!)
	NSD_PID=$!
	for _ in $(seq 100); do
		dig +short +time=1 +tries=1 @$UP_ADDR -p $UP_PORT n1.bench.test A >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	say "nsd did not start"; cat "$W/nsd.log" "$W/nsd.out" >&2 || true
	exit 1
}


# bench_unbound_conf FILE SERVER-LINES REMOTE-LINES FORWARD-LINES - unbound
# as a one-thread forwarder on $SRV_ADDR:$SRV_PORT; the lines (tab-indented)
# go into server:, remote-control: and forward-zone "." (empty REMOTE-LINES:
# no remote control; empty FORWARD-LINES: to $UP_ADDR@$UP_PORT)
bench_unbound_conf() {
	cat >"$1" <<CONF
server:
	interface: $SRV_ADDR@$SRV_PORT
	port: $SRV_PORT
	num-threads: 1
	username: ""
	chroot: ""
	directory: "$W"
	pidfile: "$W/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 0
	do-not-query-localhost: no
	module-config: "iterator"
	local-zone: "test." nodefault
	access-control: 127.0.0.0/8 allow
	qname-minimisation: no
$2
remote-control:
${3:-	control-enable: no}
forward-zone:
	name: "."
${4:-	forward-addr: $UP_ADDR@$UP_PORT}
CONF
}

# bench_wait NAME QNAME - until $SRV_ADDR:$SRV_PORT answers QNAME (5 s)
bench_wait() {
	for _ in $(seq 100); do
		dig +short +time=1 +tries=1 @$SRV_ADDR -p $SRV_PORT "$2" A 2>/dev/null | grep -q . &&
			return 0
		sleep 0.1
	done
	say "$1 did not start"; cat "$W/$1.err" >&2 2>/dev/null || true
	exit 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), (b > 0 ? a / b : 0) }'; }

# stubd started as root drops to the user stubd when that user exists:
# the benchmarks keep root (their files are root's)
KEEP_ROOT=""
[ "$(id -u)" -ne 0 ] || KEEP_ROOT="-u root"
