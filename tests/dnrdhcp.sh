#!/bin/sh
# dnrdhcp.sh - contrib/dnr/dhcpcd-hook run by a real dhcpcd: in two network
# namespaces this test creates (a veth pair), dnsmasq serves DHCPv4 with
# option 162 (two DNR instances) and dhcpcd, with the dhcpcd.conf lines the
# README gives ("define 162 binhex dnr", "option dnr"), takes the lease and
# runs the hook, which hands the option to a stubd running in the client's
# namespace: stubctl servers shows both resolvers on the link.  A renewal
# after the server stops sending the option removes them, the next one brings
# them back, and dhcpcd stopping (reason STOP) removes them again.  Then
# DHCPv6 (dnsmasq's router advertisements and option 144, dhcpcd -6):
# BOUND6 adds the resolver, STOP6 removes it.  The environment of each
# script call is kept in $tmp/env.N.REASON (DNR_KEEP_ENV=DIR copies them
# there); tests/data/dnr/dhcpcd-*.env came from this test.
# Needs root, iproute2, dnsmasq, dhcpcd (Debian: dhcpcd-base, which has no
# service) and python3; skips without them.  dhcpcd runs only in the client's
# namespace, with this test's dhcpcd.conf and script; its lease files are
# removed, and the DUID it writes (/var/lib/dhcpcd/duid) too unless one
# was there before.
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}
here=$(cd "$(dirname "$0")" && pwd)
hooks=${TOP_SRCDIR:-$here/..}/contrib/dnr

. "$here/testlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v ip >/dev/null 2>&1 || skip "iproute2 not installed"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
DHCPCD=$(command -v dhcpcd || echo /usr/sbin/dhcpcd)
[ -x "$DNSMASQ" ] || skip "dnsmasq not installed (Debian: dnsmasq-base)"
[ -x "$DHCPCD" ] || skip "dhcpcd not installed (Debian: dhcpcd-base)"
# dhcpcd keeps one daemon per interface (/run/dhcpcd/IFNAME-4.pid)
[ ! -e /run/dhcpcd/dnr0c-4.pid ] || skip "a dhcpcd for dnr0c is running"

tag=$$
nss=sdrs-$tag
nsc=sdrc-$tag
tmp=$(mktemp -d)
chmod 755 "$tmp"
dm=""
dc=""
sd=""
duid_kept=no
[ ! -e /var/lib/dhcpcd/duid ] || duid_kept=yes
cleanup() {
	for p in $dc $dm $sd; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$nss" 2>/dev/null
	ip netns del "$nsc" 2>/dev/null
	rm -f /var/lib/dhcpcd/dnr0c.lease /var/lib/dhcpcd/dnr0c.lease6
	[ "$duid_kept" = yes ] || rm -f /var/lib/dhcpcd/duid
	rm -rf "$tmp"
}
trap cleanup EXIT

# a lease left by an earlier run would make the first reason REBOOT
rm -f /var/lib/dhcpcd/dnr0c.lease /var/lib/dhcpcd/dnr0c.lease6
ip netns add "$nss" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$nsc" || skip "cannot create network namespaces"
need_netns_exec "$nsc"
# no duplicate address detection: the link-local addresses are usable at once
for ns in "$nss" "$nsc"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 2>/dev/null
done
ip link add dnr0s netns "$nss" type veth peer name dnr0c netns "$nsc" ||
	skip "cannot create veth pairs"
ip -n "$nss" addr add 192.0.2.1/24 dev dnr0s
ip -n "$nss" addr add 2001:db8:1::1/64 dev dnr0s nodad
ip -n "$nss" link set dnr0s up
ip -n "$nsc" link set lo up
ip -n "$nsc" link set dnr0c up

# option 162: dns.test at 192.0.2.53 (dot and h2, dohpath /dns-query{?dns})
# and doh.test at 192.0.2.54 (h2, port 8443, dohpath /q{?dns})
opt162=00:31:00:01:0a:03:64:6e:73:04:74:65:73:74:00:04:c0:00:02:35:00:01:00:07:03:64:6f:74:02:68:32:00:07:00:10:2f:64:6e:73:2d:71:75:65:72:79:7b:3f:64:6e:73:7d:00:2b:00:02:0a:03:64:6f:68:04:74:65:73:74:00:04:c0:00:02:36:00:01:00:03:02:68:32:00:03:00:02:20:fb:00:07:00:08:2f:71:7b:3f:64:6e:73:7d

# option 144: dns.test at 2001:db8::53 (dot)
opt144=00:01:00:0a:03:64:6e:73:04:74:65:73:74:00:00:10:20:01:0d:b8:00:00:00:00:00:00:00:00:00:00:00:53:00:01:00:04:03:64:6f:74

# dnsmasq_start [OPTION162 [OPTION144]]: the DHCPv4 and DHCPv6 server
# (router advertisements with the M flag), sending the DNR options when
# asked for them (dhcp-option: only to clients that request them)
dnsmasq_start() {
	ip netns exec "$nss" "$DNSMASQ" -k -C /dev/null --user=root --port=0 \
		--interface=dnr0s --bind-interfaces --no-ping --dhcp-authoritative \
		--dhcp-range=192.0.2.100,192.0.2.150,2m --enable-ra \
		--dhcp-range=2001:db8:1::100,2001:db8:1::1ff,64,2m \
		--dhcp-leasefile="$tmp/leases" --pid-file="$tmp/dnsmasq.pid" \
		--log-dhcp --log-facility="$tmp/dnsmasq.log" ${1:+--dhcp-option=162,$1} \
		${2:+--dhcp-option=option6:144,$2} &
	dm=$!
}

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
ip netns exec "$nsc" "$STUBD" $KEEP_ROOT -f -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
sd=$!
i=0
until "$STUBCTL" -s "$tmp/ctl" stats >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "FAIL: stubd did not start"; cat "$tmp/stubd.err"; exit 1; }
	sleep 0.1
done

# dhcpcd runs this instead of dhcpcd-run-hooks: it keeps the environment
# of each call (numbered, with the reason) and sources the hook as
# dhcpcd-run-hooks does
cat >"$tmp/script" <<SCRIPT
#!/bin/sh
n=\$(ls "$tmp"/env.* 2>/dev/null | wc -l)
env | LC_ALL=C sort >"$tmp/env.\$((n + 10)).\$reason"
STUBD_STUBCTL="$(cd "$(dirname "$STUBCTL")" && pwd)/$(basename "$STUBCTL") -s $tmp/ctl"
. "$hooks/dhcpcd-hook"
SCRIPT
chmod 755 "$tmp/script"
cat >"$tmp/dhcpcd.conf" <<CONF
script $tmp/script
define 162 binhex dnr
define6 144 binhex dnr
option dnr
option dhcp6_dnr
noarp
CONF

# dnr0c's servers as "ADDRESS/TRANSPORT/NAME/UPGRADE" lines, sorted
servers() { adapter_servers "$tmp/ctl" dnr0c; }

# wait_reason REASON: until dhcpcd has run the script with REASON a
# COUNT-th time (10 s at most)
wait_reason() {
	_i=0
	while [ "$(find "$tmp" -name "env.*.$1" | wc -l)" -lt "$2" ] && [ $_i -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	[ $_i -lt 200 ] || echo "FAIL: no $1 from dhcpcd (#$2)"
	sleep 0.2 # the hook's stubctl after the dump
}

renew() {
	ip netns exec "$nsc" "$DHCPCD" -4 -N dnr0c >>"$tmp/dhcpcd.out" 2>&1
}
restart_dnsmasq() {
	kill "$dm"
	wait "$dm" 2>/dev/null
	dnsmasq_start "$@"
}

t0=$(date +%s)
echo "start $(date +%s.%N)" >"$tmp/times"
dnsmasq_start "$opt162"
timeout 30 ip netns exec "$nsc" "$DHCPCD" -f "$tmp/dhcpcd.conf" -B -4 dnr0c \
	>>"$tmp/dhcpcd.out" 2>&1 &
dc=$!

want="192.0.2.53:853/tls/dns.test/dnr 192.0.2.54:8443/https/doh.test/dnr"
wait_reason BOUND 1
bound=$(find "$tmp" -name "env.*.BOUND" | head -1)
check "dhcpcd BOUND: option 162 as new_dnr (hex)" \
	"$(sed -n 's/^new_dnr=//p' "$bound")" "$(echo "$opt162" | tr -d :)"
check "dhcpcd BOUND: option 162's resolvers on dnr0c" "$(servers)" "$want"

restart_dnsmasq ""
renew
wait_reason RENEW 1
check "RENEW without option 162: new_dnr unset" \
	"$(grep -c '^new_dnr=' "$(find "$tmp" -name "env.*.RENEW" | sort | head -1)")" "0"
check "RENEW without option 162: the resolvers gone" "$(servers)" "none"

restart_dnsmasq "$opt162"
renew
wait_reason RENEW 2
check "RENEW with option 162 again: back" "$(servers)" "$want"

kill "$dc"
wait "$dc" 2>/dev/null
dc=""
# STOP, when dhcpcd sends one, then STOPPED (always: dhcpcd 9.4.1 on
# SIGTERM may go straight to STOPPED)
wait_reason STOPPED 1
check "dhcpcd STOP/STOPPED: the resolvers gone" "$(servers)" "none"

# DHCPv6: option 144 (dhcpcd asks for it only with "option dhcp6_dnr" on
# a line of its own: after "option dnr, " it is not asked for)
restart_dnsmasq "$opt162" "$opt144"
timeout 20 ip netns exec "$nsc" "$DHCPCD" -f "$tmp/dhcpcd.conf" -B -6 dnr0c \
	>>"$tmp/dhcpcd.out" 2>&1 &
dc=$!
wait_reason BOUND6 1
bound6=$(find "$tmp" -name "env.*.BOUND6" | head -1)
check "dhcpcd BOUND6: option 144 as new_dhcp6_dnr (hex)" \
	"$(sed -n 's/^new_dhcp6_dnr=//p' "$bound6")" "$(echo "$opt144" | tr -d :)"
check "dhcpcd BOUND6: option 144's resolver on dnr0c" "$(servers)" \
	"[2001:db8::53]:853/tls/dns.test/dnr"
kill "$dc"
wait "$dc" 2>/dev/null
dc=""
wait_reason STOPPED 2
check "dhcpcd STOP6/STOPPED: the resolver gone" "$(servers)" "none"

check "the run took under 30 s" "$(($(date +%s) - t0 < 30))" "1"
if [ -n "${DNR_KEEP_ENV:-}" ]; then cp "$tmp"/env.* "$DNR_KEEP_ENV"/; fi
if [ $fail -ne 0 ]; then
	echo "--- dhcpcd"; cat "$tmp/dhcpcd.out"
	echo "--- dnsmasq"; tail -20 "$tmp/dnsmasq.log"
	echo "--- stubd"; tail -20 "$tmp/stubd.err"
	ls "$tmp"
fi
kill "$sd"
wait "$sd"
check "stubd exits 0" "$?" "0"
sd=""
exit $fail
