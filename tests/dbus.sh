#!/bin/sh
# dbus.sh - `dbus yes`: stubd serves org.freedesktop.resolve1 on a private
# bus this test starts (dbus-daemon, pointed at through
# DBUS_SYSTEM_BUS_ADDRESS), configured by D-Bus clients nobody here wrote:
# busctl, gdbus and dbus-send.  Links set this way route queries; bad
# arguments and callers of another uid get D-Bus errors and change
# nothing.  Callers of another uid are checked as control-socket peers:
# refused, unless control-group is one of their process's groups or, by
# the group database, one of their user's.  Needs root (for the other-uid
# callers, and a private mount namespace holding a group file of the
# test's own); skipped without the tools.
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}
FAKEUP=${FAKEUP:-./tests/fakeup}

. "$(dirname "$0")/testlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root"
for t in dbus-daemon busctl gdbus dbus-send setpriv dig unshare; do
	command -v $t >/dev/null 2>&1 || skip "$t not installed"
done
"$STUBD" -t -c /dev/null 2>/dev/null >/dev/null
need_dbus_stubd

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

# a bus that admits every uid, so uid 65534 is a real other caller
private_bus "$tmp" || skip "cannot start dbus-daemon"
buspid=$bus_pid
addr=$bus_addr
DBUS_SYSTEM_BUS_ADDRESS=$addr
export DBUS_SYSTEM_BUS_ADDRESS

"$FAKEUP" 127.0.0.32 x.corp.test A 300 192.0.2.132 www.example.com A 300 192.0.2.7 \
	>"$tmp/port" &
pids="$pids $!"
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
port=$(cat "$tmp/port")
lport=$((20000 + (${$} + 7000) % 10000))
# control-group: a group of the test's own in a group file only stubd sees;
# by that file its member is the user daemon (uid 1)
cgid=4242
[ -z "$(getent group $cgid)" ] || skip "GID $cgid exists"
{ cat /etc/group; echo "stubdtest:x:$cgid:daemon"; } >"$tmp/group"
unshare -m sh -c 'mount --bind "$1" /etc/group' sh "$tmp/group" 2>/dev/null ||
	skip "cannot bind-mount a file in a private mount namespace"
ctl="$tmp/ctl.sock"
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.1:$lport
control $ctl
hosts none
dbus yes
control-group stubdtest
timeouts 0.2 0.4
server 127.0.0.1:9
CONF
unshare -m sh -c 'g=$1; shift; mount --bind "$g" /etc/group && exec "$@"' sh "$tmp/group" \
	"$STUBD" $KEEP_ROOT -f -v -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
pids="$pids $!"
i=0
while [ ! -S "$ctl" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.2
lo=$(cat /sys/class/net/lo/ifindex)

fail=0
check() {
	if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi
}
servers() { "$STUBCTL" -s "$ctl" --json servers; }
M=org.freedesktop.resolve1.Manager
call() { busctl --address="$addr" call org.freedesktop.resolve1 /org/freedesktop/resolve1 $M "$@"; }
gcall() {
	m=$1
	shift
	gdbus call --address "$addr" --dest org.freedesktop.resolve1 \
		--object-path /org/freedesktop/resolve1 --method "$M.$m" "$@"
}

# SetLinkDNSEx (busctl): the link's server with its port
check "SetLinkDNSEx accepted" "call SetLinkDNSEx 'ia(iayqs)' $lo 1 2 4 127 0 0 32 $port '' >/dev/null"
check "servers shows the dbus link" 'servers | grep -q "\"name\":\"lo\",\"metric\":100,\"origin\":\"dbus\""'
check "with its server" 'servers | grep -q "\"address\":\"127.0.0.32:$port\""'
# SetLinkDomains (gdbus): a routing-only domain
check "SetLinkDomains accepted" "gcall SetLinkDomains $lo \"[('corp.test', true)]\" >/dev/null"
got=$(dig +time=3 +tries=1 +short @127.0.0.1 -p "$lport" x.corp.test A)
check "names under the link's domain go to its server ($got)" '[ "$got" = "192.0.2.132" ]'
# FlushCaches (dbus-send)
check "answer cached" '"$STUBCTL" -s "$ctl" --json displaydns | grep -q x.corp.test'
check "FlushCaches accepted" "dbus-send --bus='$addr' --print-reply --dest=org.freedesktop.resolve1 /org/freedesktop/resolve1 $M.FlushCaches >/dev/null"
check "cache flushed" '! "$STUBCTL" -s "$ctl" --json displaydns | grep -q x.corp.test'
# SetLinkDefaultRoute
check "SetLinkDefaultRoute accepted" "call SetLinkDefaultRoute ib $lo false >/dev/null"
check "servers shows default_route false" 'servers | grep -q "\"origin\":\"dbus\",\"default_route\":false"'
check "SetLinkDNSOverTLS yes accepted" "gcall SetLinkDNSOverTLS $lo \"'yes'\" >/dev/null"
check "the link's server is DNS over TLS, authenticated by its address" \
	'servers | grep -q "\"address\":\"127.0.0.32:$port\",[^}]*\"transport\":\"tls\",\"tls_name\":\"127.0.0.32\""'
check "SetLinkDNSOverTLS no accepted" "gcall SetLinkDNSOverTLS $lo \"'no'\" >/dev/null"
check "clear text again" \
	'servers | grep -q "\"address\":\"127.0.0.32:$port\",[^}]*\"transport\":\"udp\""'
check "a bad DNSOverTLS mode refused" "! gcall SetLinkDNSOverTLS $lo \"'maybe'\" 2>/dev/null"
# SPEC 17: a SetLinkDNSEx entry with a server name is a DNR resolver at
# that address: the clear-text server's twin, DNS over TLS to port 853
# authenticated by the name (the link's policy opportunistic)
check "SetLinkDNSEx with a server name accepted" \
	"call SetLinkDNSEx 'ia(iayqs)' $lo 1 2 4 127 0 0 33 0 dns.test >/dev/null"
check "SetLinkDNSOverTLS opportunistic accepted" "gcall SetLinkDNSOverTLS $lo \"'opportunistic'\" >/dev/null"
check "its twin: upgrade dnr, tls to 127.0.0.33:853 as dns.test" \
	'servers | grep -q "\"address\":\"127.0.0.33:53\",[^}]*\"upgrade\":\"dnr\",\"twin_address\":\"127.0.0.33:853\",\"twin_name\":\"dns.test\",\"twin_transport\":\"tls\""'
check "SetLinkDNSOverTLS no again" "gcall SetLinkDNSOverTLS $lo \"'no'\" >/dev/null"
# SetLinkDNS (busctl) replaces the servers: port 53
check "SetLinkDNS accepted" "call SetLinkDNS 'ia(iay)' $lo 1 2 4 127 0 0 77 >/dev/null"
check "SetLinkDNS server on port 53" 'servers | grep -q "\"address\":\"127.0.0.77:53\""'
before=$(servers)
# malformed arguments: a D-Bus error, nothing changed
check "bad family refused" "! call SetLinkDNS 'ia(iay)' $lo 1 7 4 127 0 0 1 2>/dev/null"
check "5-byte IPv4 refused" "! call SetLinkDNS 'ia(iay)' $lo 1 2 5 127 0 0 1 1 2>/dev/null"
check "unknown ifindex refused" "! call SetLinkDNS 'ia(iay)' 99999 1 2 4 127 0 0 1 2>/dev/null"
check "bad domain refused" "! gcall SetLinkDomains $lo \"[('bad..name', false)]\" 2>/dev/null"
call SetLinkDNS 'ia(iay)' 99999 1 2 4 127 0 0 1 2>"$tmp/e1"
check "the error says why" 'grep -q "unknown interface index 99999" "$tmp/e1"'
# another uid: AccessDenied
setpriv --reuid=65534 --regid=65534 --clear-groups busctl --address="$addr" call \
	org.freedesktop.resolve1 /org/freedesktop/resolve1 $M RevertLink i "$lo" 2>"$tmp/e2"
check "other uid refused with AccessDenied" 'grep -qi "access denied" "$tmp/e2"'
# control-group among the caller's supplementary groups: allowed
setpriv --reuid=65534 --regid=65534 --groups="$cgid" busctl --address="$addr" call \
	org.freedesktop.resolve1 /org/freedesktop/resolve1 $M ResetServerFeatures 2>"$tmp/e4"
rc=$?
check "other uid with control-group as a supplementary group allowed" \
	'[ $rc -eq 0 ] && [ ! -s "$tmp/e4" ]'
# a member of control-group by the group database, the process without it:
# allowed, as on the control socket
setpriv --reuid=1 --regid=1 --clear-groups busctl --address="$addr" call \
	org.freedesktop.resolve1 /org/freedesktop/resolve1 $M ResetServerFeatures 2>"$tmp/e5"
rc=$?
check "other uid in control-group by the group database allowed" \
	'[ $rc -eq 0 ] && [ ! -s "$tmp/e5" ]'
check "nothing changed by the refused calls" '[ "$(servers)" = "$before" ]'
# other methods: UnknownMethod
call ResolveHostname isit 0 x.corp.test 0 0 2>"$tmp/e3"
check "other methods: UnknownMethod" 'grep -q "Unknown method" "$tmp/e3"'
call SetLinkMulticastDNS is $lo no 2>"$tmp/e6"
check "SetLinkMulticastDNS without resolved-compat: UnknownMethod" 'grep -q "Unknown method" "$tmp/e6"'
# RevertLink
check "ResetServerFeatures accepted" "call ResetServerFeatures >/dev/null"
check "RevertLink accepted" "call RevertLink i $lo >/dev/null"
check "link gone" '! servers | grep -q "\"origin\":\"dbus\""'
check "log names the changes" 'grep -q "network change: link lo dns set (dbus)" "$tmp/stubd.err"'

# resolvectl, systemd-resolved's own client (RESOLVECTL, or on PATH; CI
# takes it from Debian's systemd-resolved package without installing it)
if [ -n "${RESOLVECTL:-}" ] && [ ! -x "$RESOLVECTL" ]; then
	echo "FAIL: RESOLVECTL=$RESOLVECTL is not a program"
	fail=1
fi
RESOLVECTL=${RESOLVECTL:-$(command -v resolvectl || true)}
if [ -n "$RESOLVECTL" ] && [ -x "$RESOLVECTL" ]; then
	rc() { "$RESOLVECTL" "$@"; }
	check "resolvectl dns" "rc dns lo 127.0.0.41 '[::1]:5354' 127.0.0.42#dns.example"
	check "its servers: port 53 when none is given" \
		'servers | grep -q "\"address\":\"127.0.0.41:53\"" && servers | grep -q "\"address\":\"\[::1\]:5354\""'
	check "resolvectl dnsovertls yes" "rc dnsovertls lo yes"
	check "DNS over TLS on port 853 when no port is given, by name or address" \
		'servers | grep -q "\"address\":\"127.0.0.41:853\",[^}]*\"transport\":\"tls\",\"tls_name\":\"127.0.0.41\"" &&
		 servers | grep -q "\"address\":\"127.0.0.42:853\",[^}]*\"tls_name\":\"dns.example\"" &&
		 servers | grep -q "\"address\":\"\[::1\]:5354\",[^}]*\"transport\":\"tls\""'
	check "resolvectl dnsovertls no" "rc dnsovertls lo no"
	check "clear text on port 53 again" 'servers | grep -q "\"address\":\"127.0.0.41:53\",[^}]*\"transport\":\"udp\""'
	check "resolvectl domain" "rc domain lo '~r.test' s.test"
	check "its domains" 'servers | grep -q "\"domains\":\[\"r.test\",\"s.test\"\]"'
	check "resolvectl default-route" "rc default-route lo false"
	check "default_route false" 'servers | grep -q "\"origin\":\"dbus\",\"default_route\":false"'
	check "resolvectl flush-caches" "rc flush-caches"
	check "resolvectl reset-server-features" "rc reset-server-features"
	check "resolvectl llmnr: not served (UnknownMethod)" "! rc llmnr lo no 2>/dev/null"
	check "resolvectl revert" "rc revert lo"
	check "the link is gone" '! servers | grep -q "\"origin\":\"dbus\""'
else
	echo "resolvectl not available: its checks skipped"
fi

# resolved-compat yes (SPEC 16): SetLinkMulticastDNS, SetLinkLLMNR,
# SetLinkDNSSEC and SetLinkDNSSECNegativeTrustAnchors accepted, validated
# and stored; callers checked as for the other link methods
for p in $pids; do kill "$p" 2>/dev/null; done
wait $pids 2>/dev/null
pids=""
rm -f "$ctl"
mkdir "$tmp/run"
printf 'resolved-compat yes\n' >>"$tmp/stubd.conf"
unshare -m sh -c 'g=$1; shift; mount --bind "$g" /etc/group && exec "$@"' sh "$tmp/group" \
	env STUBD_RESOLVE_DIR="$tmp/run" "$STUBD" $KEEP_ROOT -f -v -c "$tmp/stubd.conf" \
	2>"$tmp/compat.err" &
pids="$pids $!"
i=0
while [ ! -S "$ctl" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.2
check "compat: SetLinkMulticastDNS no accepted" "call SetLinkMulticastDNS is $lo no >/dev/null"
check "compat: the link's mdns setting stored" \
	'grep -q "network change: link lo mdns set (dbus)" "$tmp/compat.err"'
for v in yes resolve ''; do
	check "compat: SetLinkMulticastDNS '$v' accepted" "call SetLinkMulticastDNS is $lo '$v' >/dev/null"
done
call SetLinkMulticastDNS is $lo maybe 2>"$tmp/e7"
check "compat: a bad MulticastDNS mode: InvalidArgs" 'grep -qi "invalid argument\|InvalidArgs\|bad MulticastDNS" "$tmp/e7"'
check "compat: SetLinkLLMNR no accepted" "call SetLinkLLMNR is $lo no >/dev/null"
check "compat: LLMNR stored" 'grep -q "link lo LLMNR no stored" "$tmp/compat.err"'
check "compat: a bad LLMNR mode refused" "! call SetLinkLLMNR is $lo allow-downgrade 2>/dev/null"
check "compat: SetLinkDNSSEC allow-downgrade accepted" "call SetLinkDNSSEC is $lo allow-downgrade >/dev/null"
check "compat: DNSSEC stored" 'grep -q "link lo DNSSEC allow-downgrade stored" "$tmp/compat.err"'
call SetLinkDNSSEC is $lo resolve 2>"$tmp/e8"
check "compat: a bad DNSSEC mode: InvalidArgs" 'grep -q "bad DNSSEC mode" "$tmp/e8"'
check "compat: SetLinkDNSSECNegativeTrustAnchors accepted" \
	"call SetLinkDNSSECNegativeTrustAnchors ias $lo 2 corp.test lan >/dev/null"
check "compat: negative trust anchors stored" \
	'grep -q "link lo DNSSEC negative trust anchors stored (not acted upon): corp.test lan" "$tmp/compat.err"'
call SetLinkDNSSECNegativeTrustAnchors ias $lo 1 bad..name 2>"$tmp/e9"
check "compat: a bad negative trust anchor: InvalidArgs" 'grep -q "bad negative trust anchor" "$tmp/e9"'
setpriv --reuid=65534 --regid=65534 --clear-groups busctl --address="$addr" call \
	org.freedesktop.resolve1 /org/freedesktop/resolve1 $M SetLinkMulticastDNS is "$lo" no \
	2>"$tmp/e10"
check "compat: other uid refused with AccessDenied" 'grep -qi "access denied" "$tmp/e10"'
for m in LLMNR DNSSEC; do
	setpriv --reuid=65534 --regid=65534 --clear-groups busctl --address="$addr" call \
		org.freedesktop.resolve1 /org/freedesktop/resolve1 $M SetLink$m is "$lo" no \
		2>"$tmp/e11"
	check "compat: SetLink$m by another uid: AccessDenied" 'grep -qi "access denied" "$tmp/e11"'
done
check "compat: RevertLink accepted" "call RevertLink i $lo >/dev/null"
[ $fail -eq 0 ] || cat "$tmp/stubd.err" "$tmp/compat.err"
exit $fail
