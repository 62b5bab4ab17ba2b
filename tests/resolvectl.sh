#!/bin/sh
# resolvectl.sh - resolved-compat yes (SPEC 16): Debian 12's own resolvectl
# (systemd-resolved's client, nobody here wrote it) looks up through
# stubd's org.freedesktop.resolve1 on a private bus, stubd forwarding to
# fake upstreams: query A+AAAA (then the same from the cache, and a hosts
# name as synthesized), -t MX, reverse, NXDOMAIN, NODATA, a server's
# SERVFAIL, a schedule that runs out, service (SRV + TXT + the targets'
# addresses), reset-statistics, flush-caches; another user (uid 65534)
# may look up but not reset the statistics; a caller that leaves before
# its answer does not stop stubd.  Without resolved-compat the lookups are
# UnknownMethod.  Needs root (setpriv); skipped without resolvectl
# (RESOLVECTL, or on PATH; CI takes it from Debian's systemd-resolved
# package) or the bus tools.
set -u
STUBD=${STUBD:-./stubd}
FAKEUP=${FAKEUP:-./tests/fakeup}
. "$(dirname "$0")/testlib.sh"

if [ -z "${RESOLVECTL:-}" ]; then
	RESOLVECTL=$(command -v resolvectl) || skip "resolvectl not available"
elif [ ! -x "$RESOLVECTL" ]; then
	echo "FAIL: RESOLVECTL=$RESOLVECTL is not a program" && exit 1
fi
[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v dbus-daemon >/dev/null && command -v busctl >/dev/null &&
	command -v setpriv >/dev/null || skip "dbus-daemon, busctl or setpriv not installed"
need_dbus_stubd

tmp=$(mktemp -d)
chmod 755 "$tmp"
bus_pid=""
pids=""
trap 'kill $pids $bus_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
# a bus of the test's own, where uid 65534 is a real other caller
private_bus "$tmp" || { echo "FAIL: cannot start dbus-daemon"; exit 1; }
addr=$bus_addr
export DBUS_SYSTEM_BUS_ADDRESS="$addr"

"$FAKEUP" 127.0.0.61 www.example.com A 300 192.0.2.7 www.example.com AAAA 300 2001:db8::7 \
	v4only.example.com A 300 192.0.2.8 71.113.0.203.in-addr.arpa PTR 300 host1.example.com \
	example.com MX 300 "10 mail.example.com" \
	_xmpp._tcp.example.com SRV 300 "5 10 5222 xmpp1.example.com" \
	_xmpp._tcp.example.com SRV 300 "9 10 5222 xmpp2.example.com" \
	_xmpp._tcp.example.com TXT 300 "v=xmpp" \
	xmpp1.example.com A 300 192.0.2.21 xmpp2.example.com AAAA 300 2001:db8::22 \
	_none._tcp.example.com SRV 300 "0 0 0 ." >"$tmp/p_ok" &
pids="$pids $!"
"$FAKEUP" -m servfail 127.0.0.62 >"$tmp/p_sf" &
pids="$pids $!"
"$FAKEUP" -m drop 127.0.0.63 >"$tmp/p_to" &
pids="$pids $!"
for f in p_ok p_sf p_to; do
	wait_file "$tmp/$f" || { echo "FAIL: fake upstreams did not start"; exit 1; }
done
lport=$((20000 + ($$ + 3000) % 10000))
echo "192.0.2.50 fromhosts.test" >"$tmp/hosts"
ctl="$tmp/ctl.sock"
mkdir "$tmp/run"
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.64:$lport
control $ctl
hosts $tmp/hosts
resolved-compat yes
timeouts 0.2 0.4 0.4 0.8 1.6
exclude-time 2
adapter lan
server 127.0.0.61:$(cat "$tmp/p_ok")
adapter sf default-route no
server 127.0.0.62:$(cat "$tmp/p_sf")
domain sf.test
adapter to default-route no
server 127.0.0.63:$(cat "$tmp/p_to")
domain to.test
CONF
STUBD_RESOLVE_DIR="$tmp/run" "$STUBD" $KEEP_ROOT -f -vv -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
stubd=$!
pids="$pids $stubd"
wait_bus_name "$addr" org.freedesktop.resolve1

rc() { "$RESOLVECTL" --no-pager "$@" 2>&1; }
has() { printf '%s\n' "$1" | grep -q -- "$2"; }
t() {
	if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi
}

# query: A and AAAA, from the network, then from the cache
out=$(rc query www.example.com)
echo "$out" | sed 's/^/  | /'
t "query: A" 'has "$out" "www.example.com: 192.0.2.7"'
t "query: AAAA" 'has "$out" "2001:db8::7"'
t "query: from the network" 'has "$out" "Data from: network"'
t "query: not authenticated (no AD from the server)" 'has "$out" "Data is authenticated: no"'
out=$(rc query www.example.com)
t "query again: from the cache" 'has "$out" "Data from: cache$"'
out=$(rc query fromhosts.test)
t "hosts name: its address" 'has "$out" "fromhosts.test: 192.0.2.50"'
t "hosts name: synthesized" 'has "$out" "Data from: synthetic"'
# -t MX: ResolveRecord
out=$(rc query -t MX example.com)
echo "$out" | sed 's/^/  | /'
t "-t MX" 'has "$out" "example.com IN MX 10 mail.example.com"'
# reverse: ResolveAddress
out=$(rc query 203.0.113.71)
echo "$out" | sed 's/^/  | /'
t "reverse" 'has "$out" "203.0.113.71: host1.example.com"'
# NXDOMAIN, NODATA
out=$(rc query nx.example.com)
t "NXDOMAIN ($out)" '[ "$out" = "nx.example.com: '"'nx.example.com'"' not found" ]'
out=$(rc query -t MX www.example.com)
t "NODATA ($out)" \
	'has "$out" "resolve call failed: Name '"'www.example.com'"' does not have any RR of the requested type"'
out=$(rc query -6 v4only.example.com)
t "NODATA, IPv6 asked of an IPv4-only name ($out)" \
	'has "$out" "resolve call failed: '"'v4only.example.com'"' does not have any RR of the requested type"'
out=$(rc query 203.0.113.72)
t "reverse NXDOMAIN ($out)" 'has "$out" "not found"'
# a server's SERVFAIL; a schedule that runs out
out=$(rc query x.sf.test)
t "SERVFAIL ($out)" 'has "$out" "server or network returned error SERVFAIL"'
out=$(rc query x.to.test)
t "no server replied ($out)" 'has "$out" "Query timed out"'
# service: SRV + TXT + the targets' addresses
out=$(rc service _xmpp._tcp example.com)
echo "$out" | sed 's/^/  | /'
t "service: first SRV" 'has "$out" "xmpp1.example.com:5222 \[priority=5, weight=10\]"'
t "service: its target's address" 'has "$out" "192.0.2.21"'
t "service: second SRV and its address" 'has "$out" "xmpp2.example.com:5222" && has "$out" "2001:db8::22"'
t "service: TXT" 'has "$out" "v=xmpp"'
out=$(rc service _none._tcp example.com)
t "service not offered (.) ($out)" 'has "$out" "does not provide the requested service"'
out=$(rc service _nx._tcp example.com)
t "service NXDOMAIN ($out)" 'has "$out" "not found"'

# the same bus, another user: may look up, may not reset or flush
other() { setpriv --reuid=65534 --regid=65534 --clear-groups "$RESOLVECTL" --no-pager "$@" 2>&1; }
out=$(other query www.example.com)
t "uid 65534 may query ($out)" 'has "$out" "www.example.com: 192.0.2.7"'
out=$(other reset-statistics)
t "uid 65534 may not reset-statistics ($out)" '[ "$out" = "Failed to reset statistics: Access denied" ]'
out=$(other flush-caches)
t "uid 65534 may not flush-caches ($out)" '[ "$out" = "Failed to flush caches: Access denied" ]'
t "both refused by stubd's caller check" '[ "$(grep -c "dbus: uid 65534 refused" "$tmp/stubd.err")" -eq 2 ]'
t "reset-statistics" 'rc reset-statistics && grep -q "dbus: ResetStatistics" "$tmp/stubd.err"'
t "flush-caches" 'rc flush-caches'
out=$(rc query www.example.com)
t "after flush-caches: from the network again" 'has "$out" "Data from: network"'

# a caller gone before its answer: stubd goes on
busctl --address="$addr" --timeout=0.1 call org.freedesktop.resolve1 /org/freedesktop/resolve1 \
	org.freedesktop.resolve1.Manager ResolveHostname isit 0 y.to.test 0 0 >/dev/null 2>&1
sleep 2.5
t "its lookup dropped when it left" 'grep -q "dbus: a caller left; its lookup dropped" "$tmp/stubd.err"'
out=$(rc query v4only.example.com)
t "after a caller left: still answering ($out)" 'has "$out" "192.0.2.8"'
t "stubd still running" 'kill -0 $stubd'
# stubd ends with a lookup still waiting: dropped, nothing leaks (the
# sanitizer build fails the exit status on a leak)
busctl --address="$addr" call org.freedesktop.resolve1 /org/freedesktop/resolve1 \
	org.freedesktop.resolve1.Manager ResolveHostname isit 0 z.to.test 0 0 >/dev/null 2>&1 &
sleep 0.3
kill "$stubd"
wait "$stubd"
t "stubd exited cleanly" '[ $? -eq 0 ]'

# without resolved-compat the lookups are UnknownMethod
grep -v resolved-compat "$tmp/stubd.conf" >"$tmp/plain.conf"
echo "dbus yes" >>"$tmp/plain.conf"
"$STUBD" $KEEP_ROOT -f -c "$tmp/plain.conf" 2>"$tmp/plain.err" &
stubd=$!
pids="$pids $stubd"
wait_bus_name "$addr" org.freedesktop.resolve1
out=$(rc query www.example.com)
t "without resolved-compat: UnknownMethod ($out)" 'has "$out" "Unknown method"'
[ $fail -eq 0 ] || cat "$tmp/stubd.err"
exit $fail
