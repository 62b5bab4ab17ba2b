#!/bin/sh
# dnrhooks.sh - the contrib/dnr hooks run as their clients run them, with
# the environment of tests/data/dnr (dhcpcd-run-hooks' variables, the
# NetworkManager dispatcher's): a DHCPv4 option 162 and a DHCPv6 option
# 144 reach stubd as the link's DNR resolvers (stubctl servers shows them,
# "upgrade": "dnr"; each family replaces its own), the lease's expiry and
# the link going down clear them, and a truncated option is refused with the resolvers kept.
# Needs python3 (to read the JSON).
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}
here=$(cd "$(dirname "$0")" && pwd)
hooks=${TOP_SRCDIR:-$here/..}/contrib/dnr
data=$here/data/dnr

. "$here/testlib.sh"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"

tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

base=$((30000 + $$ % 20000))
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.93:$base
control $tmp/ctl
hosts none
encryption auto
adapter base default-route no
domain never.test
server 127.0.0.1:9
CONF
"$STUBD" $KEEP_ROOT -f -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
pid=$!
i=0
until "$STUBCTL" -s "$tmp/ctl" stats >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "FAIL: stubd did not start"; cat "$tmp/stubd.err"; exit 1; }
	sleep 0.1
done
STUBD_STUBCTL="$STUBCTL -s $tmp/ctl"
export STUBD_STUBCTL

# eth0's servers as "ADDRESS/TRANSPORT/NAME/UPGRADE" lines, sorted
servers() { adapter_servers "$tmp/ctl" eth0; }

# dhcpcd-run-hooks sources the hook with its variables set
run_dhcpcd() {
	(
		set -a
		. "$data/$1"
		set +a
		. "$hooks/dhcpcd-hook"
	)
}

run_nm() {
	(
		set -a
		. "$data/$1"
		set +a
		"$hooks/nm-dispatcher" "$DEVICE_IFACE" "$NM_DISPATCHER_ACTION"
	)
}

want4="192.0.2.53:853/tls/dns.test/dnr 192.0.2.54:8443/https/doh.test/dnr"
run_dhcpcd dhcpcd-bound.env
check "dhcpcd BOUND: option 162's resolvers on eth0" "$(servers)" "$want4"
want6="[2001:db8::53]:853/tls/dns.test/dnr"
run_dhcpcd dhcpcd-bound6.env
check "dhcpcd BOUND6: option 144's resolver beside 162's" "$(servers)" "$want4 $want6"
run_dhcpcd dhcpcd-expire.env
check "dhcpcd EXPIRE: the DHCPv4 ones gone" "$(servers)" "$want6"
run_dhcpcd dhcpcd-bound.env
run_dhcpcd dhcpcd-expire6.env
check "dhcpcd EXPIRE6: the DHCPv6 one gone" "$(servers)" "$want4"
run_dhcpcd dhcpcd-expire.env
check "dhcpcd EXPIRE: none left" "$(servers)" "none"
# captured from dhcpcd 9.4.1 by tests/dnrdhcp.sh: a renewal without the
# option (old_dnr only) and dhcpcd stopping
run_dhcpcd dhcpcd-bound.env
run_dhcpcd dhcpcd-renew-none.env
check "dhcpcd RENEW without option 162: none left" "$(servers)" "none"
run_dhcpcd dhcpcd-bound.env
run_dhcpcd dhcpcd-stop.env
check "dhcpcd STOP: none left" "$(servers)" "none"
run_dhcpcd dhcpcd-bound6.env
run_dhcpcd dhcpcd-stop6.env
check "dhcpcd STOP6: none left" "$(servers)" "none"

run_nm nm-dhcp4-change.env
check "NetworkManager dhcp4-change (dhclient's hex)" "$(servers)" "$want4"
run_nm nm-dhcp4-bad.env 2>"$tmp/bad.err"
check "NetworkManager: a truncated option fails" "$?" "1"
grep -q "failed" "$tmp/bad.err" && ok=yes || ok=no
check "NetworkManager: the failure said" "$ok" "yes"
check "NetworkManager: the resolvers kept" "$(servers)" "$want4"
DHCP4_DNR="" "$hooks/nm-dispatcher" eth0 down
check "NetworkManager down: cleared" "$(servers)" "none"
# dhclient's name for an option 162 it was not told of
hex4=$(sed -n 's/^DHCP4_DNR=//p' "$data/nm-dhcp4-change.env")
DHCP4_UNKNOWN_162=$hex4 "$hooks/nm-dispatcher" eth0 dhcp4-change
check "NetworkManager: DHCP4_UNKNOWN_162 read" "$(servers)" "$want4"
"$hooks/nm-dispatcher" eth0 down

kill "$pid"
wait "$pid"
check "stubd exits 0" "$?" "0"
pid=""
exit $fail
