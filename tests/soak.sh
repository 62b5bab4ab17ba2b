#!/bin/sh
# soak.sh - no needless waiting under faults (SPEC 5, issue 21): stubd with
# a dead preferred adapter (its only server a bound socket that never
# answers) beside a live adapter whose first server is dead too, on a
# scaled schedule (timeouts 0.5 1 1 2 4, exclude-time 5).  After the first
# search (which may take phases: nothing is excluded yet), 50 queries a
# second of mostly never-seen names -- positive, NXDOMAIN and NODATA --
# for SOAK_SECONDS (default 30, about five exclusion expiries of each dead
# server): every query is answered with the right rcode and none takes
# longer than 100 ms.  Each query is timed on its own (its send to the
# kernel's receive timestamp of the answer); an answer over the limit is
# put down to the machine only when a cache hit of stubd's or a query
# straight to the live upstream, in flight at the same moment, was stalled
# nearly as long (printed; more than 5 % of such stalls fails as too
# noisy).  Prints p50/p99/max.  Skipped without python3.
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}
SOAK_SECONDS=${SOAK_SECONDS:-30}
HERE=$(cd "$(dirname "$0")" && pwd)
SOAK="$HERE/soak.py"

. "$HERE/testlib.sh"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# .51 dead adapter's server, .52 the live adapter's dead first server,
# .53 its live second server; stubd's queries leave from .61 (vpn) and
# .62 (lan)
python3 "$SOAK" serve "$tmp/ports" dead:127.0.0.51 dead:127.0.0.52 live:127.0.0.53 \
	--max-time $((SOAK_SECONDS + 90)) &
spid=$!
pids="$pids $spid"
wait_file "$tmp/ports" || { echo "FAIL: the fake upstreams did not start"; exit 1; }
port() { awk -v a="$1" '$1 == a { print $2 }' "$tmp/ports"; }
base=$((20000 + $$ % 20000))
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.60:$base
control $tmp/ctl
hosts none
timeouts 0.5 1 1 2 4
exclude-time 5
adapter vpn source 127.0.0.61 metric 10
server 127.0.0.51:$(port 127.0.0.51)
adapter lan source 127.0.0.62 metric 20
server 127.0.0.52:$(port 127.0.0.52)
server 127.0.0.53:$(port 127.0.0.53)
CONF
"$STUBD" $KEEP_ROOT -f -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
pids="$pids $!"
i=0
until [ -S "$tmp/ctl" ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "FAIL: stubd did not start"; cat "$tmp/stubd.err"; exit 1; }
	sleep 0.1
done

python3 "$SOAK" load "127.0.0.60:$base" --probe "127.0.0.53:$(port 127.0.0.53)" \
	--qps 50 --duration "$SOAK_SECONDS" --label stubd --json "$tmp/result.json" --check ||
	fail=1

# the faults were there all along: each dead server was asked again and
# again across the window (an exclusion running out, failback), so the
# numbers above were measured across the expiries
kill "$spid"
wait "$spid" 2>/dev/null
for a in 127.0.0.51 127.0.0.52; do
	set -- $(python3 "$SOAK" bursts "$tmp/ports.log" "$a" "$tmp/result.json")
	echo "dead server $a: $1 queries in $2 bursts, from $3 s to $4 s of the soak"
	ok=$(awk -v n="$1" -v f="$3" -v l="$4" -v d="$SOAK_SECONDS" \
		'BEGIN { print (n >= 3 && l - f >= d / 3) ? "yes" : "no" }')
	check "dead server $a tried again across the soak (exclusion expiries)" "$ok" yes
done
"$STUBCTL" -s "$tmp/ctl" stats 2>/dev/null | grep -Ei 'upstream|timeout|servfail' | head -5
exit $fail
