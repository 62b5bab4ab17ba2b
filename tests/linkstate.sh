#!/bin/sh
# linkstate.sh - link state from rtnetlink (SPEC 11).  Two adapters bound
# to two veth interfaces, each with an upstream in a network namespace this
# test creates; the preferred one (lan) answers slowly.  Taking lan's link
# down in the middle of a search must get the answer from wifi at once (well
# under the 1 s phase), show lan as "down", skip it for later queries, and
# bring it back with the link.  An address added to wifi is a network
# change: negative answers are dropped, positive ones kept.  Needs root and
# iproute2; skipped where namespaces cannot be made.
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}
FAKEUP=${FAKEUP:-./tests/fakeup}

. "$(dirname "$0")/testlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v ip >/dev/null 2>&1 || skip "iproute2 not installed"
command -v dig >/dev/null 2>&1 || skip "dig not installed"

tag=$$
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in 1 2; do
		ip link del "slh$n-$tag" 2>/dev/null
		ip netns del "sln$n-$tag" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

for n in 1 2; do
	ns=sln$n-$tag
	h=slh$n-$tag
	ip netns add "$ns" 2>/dev/null || skip "cannot create network namespaces"
	ip link add "$h" type veth peer name "slp$n-$tag" || skip "cannot create veth pairs"
	ip link set "slp$n-$tag" netns "$ns"
	ip addr add "10.232.$n.1/24" dev "$h"
	ip link set "$h" up
	ip -n "$ns" addr add "10.232.$n.2/24" dev "slp$n-$tag"
	ip -n "$ns" link set "slp$n-$tag" up
	ip -n "$ns" link set lo up
done
need_netns_exec "sln1-$tag"
# lan (1) answers after 3 s, wifi (2) at once
ip netns exec "sln1-$tag" "$FAKEUP" -d 3000 10.232.1.2 x.test A 300 192.0.2.1 \
	y.test A 300 192.0.2.1 >"$tmp/port1" &
pids="$pids $!"
ip netns exec "sln2-$tag" "$FAKEUP" 10.232.2.2 x.test A 300 192.0.2.2 \
	y.test A 300 192.0.2.2 >"$tmp/port2" &
pids="$pids $!"
i=0
while { [ ! -s "$tmp/port1" ] || [ ! -s "$tmp/port2" ]; } && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
p1=$(cat "$tmp/port1")
p2=$(cat "$tmp/port2")
[ -n "$p1" ] && [ -n "$p2" ] || { echo "FAIL: fake upstreams did not start"; exit 1; }

lport=$((20000 + (tag + 5000) % 10000))
ctl="$tmp/ctl.sock"
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.1:$lport
control $ctl
hosts none
adapter lan device slh1-$tag metric 10
server 10.232.1.2:$p1
adapter wifi device slh2-$tag metric 20
server 10.232.2.2:$p2
CONF
"$STUBD" $KEEP_ROOT -f -v -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
pids="$pids $!"
i=0
while [ ! -S "$ctl" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.3

fail=0
check() {
	if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi
}
ms() { sed -n 's/.*Query time: \([0-9]*\) msec.*/\1/p' "$1"; }

# 1. link down in the middle of a search (phase 0 asks lan only, for 1 s)
dig +time=5 +tries=1 @127.0.0.1 -p "$lport" x.test A >"$tmp/dig1" &
dpid=$!
sleep 0.3
ip link set "slh1-$tag" down
wait $dpid
t1=$(ms "$tmp/dig1")
a1=$(sed -n 's/^x\.test\..*A[[:space:]]*\([0-9.]*\)$/\1/p' "$tmp/dig1")
echo "link down at ~300 ms: answered in ${t1:-?} ms by ${a1:-nobody}"
check "answer from wifi after lan's link went down" '[ "$a1" = "192.0.2.2" ]'
check "well under the 1 s phase" '[ -n "$t1" ] && [ "$t1" -lt 800 ]'
"$STUBCTL" -s "$ctl" --json servers >"$tmp/servers1"
check "servers shows lan down" 'grep -q "\"name\":\"lan\",\"metric\":10,\"origin\":\"config\",\"default_route\":true,\"state\":\"down\"" "$tmp/servers1"'

# 2. while down, lan is not asked at all
dig +time=5 +tries=1 @127.0.0.1 -p "$lport" y.test A >"$tmp/dig2"
t2=$(ms "$tmp/dig2")
check "lan skipped while down (${t2:-?} ms)" '[ -n "$t2" ] && [ "$t2" -lt 500 ]'

# 3. a negative answer, then an address added to wifi: dropped, positive kept
dig +time=5 +tries=1 @127.0.0.1 -p "$lport" nx.test A >/dev/null
"$STUBCTL" -s "$ctl" --json displaydns >"$tmp/dd1"
check "negative answer cached" 'grep -q "\"name\":\"nx.test\"" "$tmp/dd1"'
ip addr add 10.232.2.99/24 dev "slh2-$tag"
sleep 0.5
"$STUBCTL" -s "$ctl" --json displaydns >"$tmp/dd2"
check "address added: negative answer dropped" '! grep -q "\"name\":\"nx.test\"" "$tmp/dd2"'
check "positive answers kept" 'grep -q "\"name\":\"y.test\"" "$tmp/dd2"'

# 4. link up again: lan is back
ip link set "slh1-$tag" up
i=0
while [ $i -lt 40 ]; do
	"$STUBCTL" -s "$ctl" --json servers >"$tmp/servers2"
	grep -q "\"name\":\"lan\",\"metric\":10,\"origin\":\"config\",\"default_route\":true,\"state\":\"up\"" "$tmp/servers2" && break
	sleep 0.1
	i=$((i + 1))
done
check "servers shows lan up again" 'grep -q "\"name\":\"lan\",\"metric\":10,\"origin\":\"config\",\"default_route\":true,\"state\":\"up\"" "$tmp/servers2"'
lanq() { "$STUBCTL" -s "$ctl" --json servers | sed -n 's/.*"address":"10.232.1.2:[0-9]*"[^}]*"queries":\([0-9]*\).*/\1/p'; }
q0=$(lanq)
dig +time=5 +tries=1 @127.0.0.1 -p "$lport" z.test A >/dev/null
q1=$(lanq)
check "lan asked again once up (queries $q0 -> $q1)" '[ -n "$q0" ] && [ -n "$q1" ] && [ "$q1" -gt "$q0" ]'
check "log names the changes" 'grep -q "network change: link slh1-$tag is down" "$tmp/stubd.err" && grep -q "network change: link slh1-$tag is up" "$tmp/stubd.err"'
[ $fail -eq 0 ] || cat "$tmp/stubd.err"
exit $fail
