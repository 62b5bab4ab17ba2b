#!/bin/sh
# netns.sh - 'device' binding (SO_BINDTODEVICE) across network namespaces.
# Two namespaces behind two veth pairs hold upstream servers with the same
# address, 10.231.0.2, and the same IPv6 link-local address, fe80::1; only
# binding each adapter's sockets to its own interface gets each name to the
# right one.  Needs root and iproute2;
# skipped where namespaces cannot be made.  Traffic stays inside the
# namespaces this test creates.
set -u
STUBD=${STUBD:-./stubd}
FAKEUP=${FAKEUP:-./tests/fakeup}

. "$(dirname "$0")/testlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v ip >/dev/null 2>&1 || skip "iproute2 not installed"
command -v dig >/dev/null 2>&1 || skip "dig not installed"

tag=$$
ns1=sdt1-$tag
ns2=sdt2-$tag
h1=sdh1-$tag
h2=sdh2-$tag
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip link del "$h1" 2>/dev/null
	ip link del "$h2" 2>/dev/null
	ip netns del "$ns1" 2>/dev/null
	ip netns del "$ns2" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns1" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$ns2" || skip "cannot create network namespaces"
need_netns_exec "$ns1"
for n in 1 2; do
	eval ns=\$ns$n
	eval h=\$h$n
	ip link add "$h" type veth peer name "sdn$n-$tag" || skip "cannot create veth pairs"
	ip link set "sdn$n-$tag" netns "$ns"
	ip addr add "10.231.0.$((2 + 8 * n))/24" dev "$h"
	ip link set "$h" up
	ip -n "$ns" addr add 10.231.0.2/24 dev "sdn$n-$tag"
	ip -n "$ns" link set "sdn$n-$tag" up
	ip -n "$ns" link set lo up
	ip netns exec "$ns" "$FAKEUP" 10.231.0.2 "host.net$n.test" A 60 "192.0.2.$n" \
		>"$tmp/port$n" &
	pids="$pids $!"
	# the same IPv6 link-local address behind both (a router's fe80::1
	# as RDNSS): only the device tells them apart
	ip addr add "fe80::$((2 + n))/64" dev "$h" nodad
	ip -n "$ns" addr add fe80::1/64 dev "sdn$n-$tag" nodad
	ip netns exec "$ns" "$FAKEUP" :: "ll.net$n.test" A 60 "192.0.2.$((10 + n))" \
		>"$tmp/llport$n" &
	pids="$pids $!"
done
i=0
while { [ ! -s "$tmp/port1" ] || [ ! -s "$tmp/port2" ] || [ ! -s "$tmp/llport1" ] ||
	[ ! -s "$tmp/llport2" ]; } && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
p1=$(cat "$tmp/port1")
p2=$(cat "$tmp/port2")
l1=$(cat "$tmp/llport1")
l2=$(cat "$tmp/llport2")
[ -n "$p1" ] && [ -n "$p2" ] && [ -n "$l1" ] && [ -n "$l2" ] ||
	{ echo "FAIL: fake upstreams did not start"; exit 1; }

lport=$((20000 + tag % 10000))
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.1:$lport
control off
hosts none
timeouts 0.3 0.3
adapter net1 device $h1 metric 10
server 10.231.0.2:$p1
domain net1.test
adapter net2 device $h2 metric 20
server 10.231.0.2:$p2
domain net2.test
adapter ll1 device $h1 metric 30
server [fe80::1]:$l1
domain ll.net1.test
adapter ll2 device $h2 metric 40
server [fe80::1]:$l2
domain ll.net2.test
CONF
"$STUBD" $KEEP_ROOT -f -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
pids="$pids $!"
sleep 0.3

fail=0
# expect PORT NAME WANT WHAT: stubd on PORT answers NAME with WANT
expect() {
	got=$(dig +time=2 +tries=1 +short @127.0.0.1 -p "$1" "$2" A)
	if [ "$got" = "$3" ]; then
		echo "ok: $2 $4"
	else
		echo "FAIL: $2 $4: got '$got', want $3"
		fail=1
	fi
}
expect "$lport" host.net1.test 192.0.2.1 "through $h1"
expect "$lport" host.net2.test 192.0.2.2 "through $h2"
expect "$lport" ll.net1.test 192.0.2.11 "from fe80::1 through $h1"
expect "$lport" ll.net2.test 192.0.2.12 "from fe80::1 through $h2"
# the same servers as NetworkManager writes them into resolv.conf, with
# their scope: each becomes an adapter bound to its interface
printf 'nameserver [fe80::1%%%s]:%s\nnameserver [fe80::1%%%s]:%s\n' "$h1" "$l1" "$h2" "$l2" \
	>"$tmp/resolv.conf"
cat >"$tmp/stubd2.conf" <<CONF
listen 127.0.0.1:$((lport + 1))
control off
hosts none
timeouts 0.3 0.3
resolv-file $tmp/resolv.conf
CONF
"$STUBD" $KEEP_ROOT -f -c "$tmp/stubd2.conf" 2>"$tmp/stubd2.err" &
pids="$pids $!"
sleep 0.3
expect "$((lport + 1))" ll.net1.test 192.0.2.11 "from resolv.conf's fe80::1%$h1"
expect "$((lport + 1))" ll.net2.test 192.0.2.12 "from resolv.conf's fe80::1%$h2"
[ $fail -eq 0 ] || cat "$tmp/stubd.err" "$tmp/stubd2.err"
exit $fail
