#!/bin/sh
# resolvectl_status.sh - `resolved-compat yes` (SPEC 16): the properties
# `resolvectl status` and `resolvectl statistics` read, as Debian 12's own
# resolvectl (systemd 252; RESOLVECTL, or on PATH; CI takes it from the
# systemd-resolved package without installing it) reads them from stubd on
# a private bus: the global servers and the current one, each link's
# servers, routing domains ("~"), default route, DNS over TLS, mDNS, LLMNR
# and DNSSEC as NetworkManager sets them (its calls per link replayed with
# busctl), the per-verb read-backs (dns, domain, default-route, dnsovertls,
# dnssec, nta, llmnr, mdns), the statistics equal to `stubctl --json
# stats`, GetLink, the link objects in the object tree, and
# PropertiesChanged after SetLinkDNS (seen with gdbus monitor).  Without
# resolved-compat none of it is served.  Runs in a network namespace of
# its own with a veth interface (resolvectl status leaves out loopback).
# Needs root; skipped without resolvectl or the tools.
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}
FAKEUP=${FAKEUP:-./tests/fakeup}

. "$(dirname "$0")/testlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root"
RESOLVECTL=${RESOLVECTL:-$(command -v resolvectl || true)}
[ -n "$RESOLVECTL" ] && [ -x "$RESOLVECTL" ] || skip "resolvectl not available"
for t in dbus-daemon busctl gdbus dig unshare ip timeout; do
	command -v $t >/dev/null 2>&1 || skip "$t not installed"
done
printf 'dbus yes\n' >/tmp/stubd-r1p-probe.$$
if "$STUBD" -t -c /tmp/stubd-r1p-probe.$$ 2>&1 | grep -q "without D-Bus"; then
	rm -f /tmp/stubd-r1p-probe.$$
	skip "stubd built without D-Bus support"
fi
rm -f /tmp/stubd-r1p-probe.$$

# a network namespace of our own: lo and a veth pair
if [ -z "${R1P_IN_NETNS:-}" ]; then
	unshare -n true 2>/dev/null || skip "cannot make a network namespace"
	R1P_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up || { echo "FAIL: cannot bring lo up"; exit 1; }
ip link add r1dummy type veth peer name r1peer 2>/dev/null || skip "cannot create veth pairs"
ip link set r1peer up
ip link set r1dummy up
ip addr add 192.0.2.1/24 dev r1dummy
idx=$(ip -o link show r1dummy | cut -d: -f1)
[ -n "$idx" ] || { echo "FAIL: cannot tell the index of the veth interface"; exit 1; }

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=""
buspid=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	[ -n "$buspid" ] && kill "$buspid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/bus.xml" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$tmp/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
XML
dbus-daemon --config-file="$tmp/bus.xml" --fork --nosyslog --print-address=1 \
	--print-pid=3 >"$tmp/addr" 3>"$tmp/buspid" || { echo "FAIL: cannot start dbus-daemon"; exit 1; }
buspid=$(cat "$tmp/buspid")
addr=$(head -1 "$tmp/addr")
DBUS_SYSTEM_BUS_ADDRESS=$addr
export DBUS_SYSTEM_BUS_ADDRESS

"$FAKEUP" 127.0.0.31 www.example.com A 300 192.0.2.7 >"$tmp/port" &
pids="$pids $!"
wait_file "$tmp/port" || { echo "FAIL: fake upstream did not start"; exit 1; }
port=$(cat "$tmp/port")
ctl="$tmp/ctl.sock"
mkdir "$tmp/run"

# start_stubd FILE: stubd with that configuration, until its socket is there
start_stubd() {
	rm -f "$ctl"
	env STUBD_RESOLVE_DIR="$tmp/run" "$STUBD" $KEEP_ROOT -f -v -c "$1" 2>>"$tmp/stubd.err" &
	stubd_pid=$!
	pids="$pids $stubd_pid"
	_i=0
	while [ ! -S "$ctl" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
	sleep 0.3
}
stop_stubd() {
	kill "$stubd_pid" 2>/dev/null
	wait "$stubd_pid"
	_st=$?
	[ $_st -eq 0 ] || { echo "FAIL: stubd exited with $_st"; fail=1; }
}

cat >"$tmp/plain.conf" <<CONF
listen 127.0.0.1:5399
control $ctl
hosts none
dbus yes
timeouts 0.2 0.4
server 127.0.0.31:$port
CONF
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.1:5399
control $ctl
hosts none
resolved-compat yes
timeouts 0.2 0.4
server 127.0.0.31:$port
CONF

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
# expect LABEL COMMAND: ok when the command succeeds
expect() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
call() {
	busctl --address="$addr" call org.freedesktop.resolve1 /org/freedesktop/resolve1 \
		org.freedesktop.resolve1.Manager "$@"
}
rc() { "$RESOLVECTL" --no-pager "$@"; }
link_path=/org/freedesktop/resolve1/link/_3$idx

# without resolved-compat: no properties, no GetLink, no link objects
start_stubd "$tmp/plain.conf"
expect "dbus yes alone: no Manager properties" \
	"! busctl --address='$addr' get-property org.freedesktop.resolve1 /org/freedesktop/resolve1 org.freedesktop.resolve1.Manager DNS >/dev/null 2>&1"
expect "dbus yes alone: no GetLink" "! call GetLink i $idx >/dev/null 2>&1"
stop_stubd

start_stubd "$tmp/stubd.conf"

# GetLink and the link objects
got=$(call GetLink i "$idx" 2>&1)
check "GetLink gives the link's object" "$got" "o \"$link_path\""
call GetLink i 99999 2>"$tmp/e1" >/dev/null
expect "GetLink of no interface: NoSuchLink" 'grep -q "not known" "$tmp/e1"'
busctl --address="$addr" tree --list org.freedesktop.resolve1 >"$tmp/tree" 2>&1
expect "the link objects are in the object tree" "grep -qx '$link_path' '$tmp/tree'"
expect "a link object's properties read with their types" \
	"busctl --address='$addr' get-property org.freedesktop.resolve1 $link_path org.freedesktop.resolve1.Link ScopesMask | grep -q '^t [0-9][0-9]*$'"

# PropertiesChanged: watched from before the first change
timeout 10 gdbus monitor --address "$addr" --dest org.freedesktop.resolve1 >"$tmp/monitor" 2>&1 &
monpid=$!
pids="$pids $monpid"
sleep 0.5

# NetworkManager's calls for a link, in its order
expect "NM: SetLinkDomains" \
	"call SetLinkDomains 'ia(sb)' $idx 2 corp.test true lan.test false >/dev/null"
expect "NM: SetLinkDefaultRoute" "call SetLinkDefaultRoute ib $idx false >/dev/null"
expect "NM: SetLinkMulticastDNS" "call SetLinkMulticastDNS is $idx no >/dev/null"
expect "NM: SetLinkLLMNR" "call SetLinkLLMNR is $idx yes >/dev/null"
expect "NM: SetLinkDNSEx" \
	"call SetLinkDNSEx 'ia(iayqs)' $idx 2 2 4 192 0 2 53 0 '' 2 4 192 0 2 54 5353 dns.example >/dev/null"
expect "NM: SetLinkDNSOverTLS" "call SetLinkDNSOverTLS is $idx opportunistic >/dev/null"
expect "SetLinkDNSSEC" "call SetLinkDNSSEC is $idx allow-downgrade >/dev/null"
expect "SetLinkDNSSECNegativeTrustAnchors" \
	"call SetLinkDNSSECNegativeTrustAnchors ias $idx 2 corp.test lan.test >/dev/null"
sleep 0.5
expect "PropertiesChanged on the link's object" \
	"grep -q '^$link_path: org.freedesktop.DBus.Properties.PropertiesChanged' '$tmp/monitor'"
expect "... carrying its new servers" \
	"grep '^$link_path: org.freedesktop.DBus.Properties.PropertiesChanged' '$tmp/monitor' | grep -q 'dns.example'"
expect "PropertiesChanged on the Manager (its DNS lists every link's servers)" \
	"grep -q '^/org/freedesktop/resolve1: org.freedesktop.DBus.Properties.PropertiesChanged' '$tmp/monitor'"

rc status >"$tmp/status" 2>&1
expect "resolvectl status runs" "grep -q '^Global' '$tmp/status'"
# the link's block, from "Link N (r1dummy)" to the next empty line
sed -n "/^Link $idx (r1dummy)/,/^\$/p" "$tmp/status" >"$tmp/link"
sed -n '/^Global/,/^$/p' "$tmp/status" >"$tmp/global"
expect "status: the link is shown" "[ -s '$tmp/link' ]"
expect "status: its servers" \
	"grep -q 'DNS Servers: 192.0.2.53 192.0.2.54:5353#dns.example' '$tmp/link'"
expect "status: its current server" "grep -q 'Current DNS Server: 192.0.2.53' '$tmp/link'"
expect "status: its domains, routing-only with ~" "grep -q 'DNS Domain: ~corp.test lan.test' '$tmp/link'"
expect "status: -DefaultRoute" "grep -q -- '-DefaultRoute' '$tmp/link'"
expect "status: DNSOverTLS=opportunistic" "grep -q 'DNSOverTLS=opportunistic' '$tmp/link'"
expect "status: -mDNS (set to no)" "grep -q -- '-mDNS' '$tmp/link'"
expect "status: -LLMNR (never spoken)" "grep -q -- '-LLMNR' '$tmp/link'"
expect "status: DNSSEC as stored, unsupported" \
	"grep -q 'DNSSEC=allow-downgrade/unsupported' '$tmp/link'"
expect "status: the DNS scope" "grep -q 'Current Scopes: DNS' '$tmp/link'"
expect "status: global server" "grep -q 'DNS Servers:\\? 127.0.0.31:$port' '$tmp/global'"
expect "status: global current server" \
	"grep -q 'Current DNS Server: 127.0.0.31:$port' '$tmp/global'"
expect "status: global -LLMNR, mDNS=resolve, -DNSOverTLS, DNSSEC=no" \
	"grep -q -- '-LLMNR mDNS=resolve -DNSOverTLS' '$tmp/global' && grep -q 'DNSSEC=no/unsupported' '$tmp/global'"
expect "status: resolv.conf mode" "grep -q 'resolv.conf mode:' '$tmp/global'"
[ $fail -eq 0 ] || cat "$tmp/status"

# the verbs that read one setting back
check "resolvectl dns IF" "$(rc dns r1dummy)" \
	"Link $idx (r1dummy): 192.0.2.53 192.0.2.54:5353#dns.example"
check "resolvectl domain IF" "$(rc domain r1dummy)" "Link $idx (r1dummy): ~corp.test lan.test"
check "resolvectl default-route IF" "$(rc default-route r1dummy)" "Link $idx (r1dummy): no"
check "resolvectl dnsovertls IF" "$(rc dnsovertls r1dummy)" "Link $idx (r1dummy): opportunistic"
check "resolvectl dnssec IF" "$(rc dnssec r1dummy)" "Link $idx (r1dummy): allow-downgrade"
check "resolvectl nta IF" "$(rc nta r1dummy)" "Link $idx (r1dummy): corp.test lan.test"
check "resolvectl llmnr IF" "$(rc llmnr r1dummy)" "Link $idx (r1dummy): no"
check "resolvectl mdns IF" "$(rc mdns r1dummy)" "Link $idx (r1dummy): no"
# set through resolvectl itself, read back through it
expect "resolvectl dns IF ADDR sets" "rc dns r1dummy 192.0.2.99"
check "... and reads back" "$(rc dns r1dummy)" "Link $idx (r1dummy): 192.0.2.99"
expect "resolvectl dnsovertls IF yes" "rc dnsovertls r1dummy yes"
check "... reads back yes" "$(rc dnsovertls r1dummy)" "Link $idx (r1dummy): yes"
check "resolvectl dns (global)" "$(rc dns | head -1)" "Global: 127.0.0.31:$port"

# PropertiesChanged after a SetLinkDNS alone (a new running configuration)
timeout 5 gdbus monitor --address "$addr" --dest org.freedesktop.resolve1 >"$tmp/monitor2" 2>&1 &
mon2=$!
pids="$pids $mon2"
sleep 0.5
expect "SetLinkDNS" "call SetLinkDNS 'ia(iay)' $idx 1 2 4 192 0 2 77 >/dev/null"
sleep 0.5
expect "PropertiesChanged after SetLinkDNS, with the new server (192.0.2.77)" \
	"grep '^$link_path: org.freedesktop.DBus.Properties.PropertiesChanged' '$tmp/monitor2' | grep -q '0x02, 0x4d'"
kill $mon2 2>/dev/null

# statistics: a miss, then hits
for i in 1 2 3; do dig +time=2 +tries=1 +short @127.0.0.1 -p 5399 www.example.com A >/dev/null; done
rc statistics >"$tmp/stats" 2>&1
"$STUBCTL" -s "$ctl" --json stats >"$tmp/json"
num() { sed -n "s/.*$1 *\([0-9][0-9]*\).*/\1/p" "$tmp/stats" | head -1; }
key() { sed -n "s/.*\"$1\":\([0-9][0-9]*\).*/\1/p" "$tmp/json"; }
check "statistics: cache size = cache_entries" "$(num 'Current Cache Size:')" "$(key cache_entries)"
check "statistics: cache hits = cache_hits" "$(num 'Cache Hits:')" "$(key cache_hits)"
check "statistics: cache misses = cache_misses" "$(num 'Cache Misses:')" "$(key cache_misses)"
check "statistics: the hits counted (2 of 3 queries)" "$(num 'Cache Hits:')" "2"
check "statistics: total transactions = upstream_queries" "$(num 'Total Transactions:')" \
	"$(key upstream_queries)"
expect "statistics: DNSSEC not supported" "grep -q 'DNSSEC supported by current servers: no' '$tmp/stats'"
[ $fail -eq 0 ] || cat "$tmp/stats" "$tmp/json"
# reset-statistics: resolvectl statistics counts from there, as resolved's
# does; stubctl stats stays monotonic
expect "reset-statistics" "rc reset-statistics"
dig +time=2 +tries=1 +short @127.0.0.1 -p 5399 www.example.com A >/dev/null
rc statistics >"$tmp/stats" 2>&1
"$STUBCTL" -s "$ctl" --json stats >"$tmp/json"
check "after reset-statistics: 1 hit since" "$(num 'Cache Hits:')" "1"
check "after reset-statistics: 0 misses since" "$(num 'Cache Misses:')" "0"
check "after reset-statistics: stubctl stats still counts every hit" "$(key cache_hits)" "3"
[ $fail -eq 0 ] || cat "$tmp/stats" "$tmp/json"

# RevertLink: the link is bare again
expect "NM: RevertLink" "call RevertLink i $idx >/dev/null"
sleep 0.2
rc status r1dummy >"$tmp/after" 2>&1
expect "after RevertLink: no servers" "! grep -q 'DNS Servers' '$tmp/after'"
expect "after RevertLink: no domains" "! grep -q 'DNS Domain' '$tmp/after'"
expect "after RevertLink: DNSSEC back to no" "grep -q 'DNSSEC=no/unsupported' '$tmp/after'"
expect "after RevertLink: +DefaultRoute" "grep -q -- '+DefaultRoute' '$tmp/after'"

stop_stubd
expect "stubd exited cleanly" "! grep -q 'ERROR\|runtime error\|AddressSanitizer' '$tmp/stubd.err'"
[ $fail -eq 0 ] || cat "$tmp/stubd.err" "$tmp/monitor"
exit $fail
