#!/bin/sh
# knowndoh.sh - the known table end to end (SPEC 17): in a network
# namespace of its own where 1.1.1.1 is a local address, a clear-text
# stand-in on 1.1.1.1 and a DoH stand-in on 1.1.1.1:443 with a
# certificate for cloudflare-dns.com (made here, given as tls-ca).  With
# `encryption auto` and only the clear-text server configured, stubd asks
# over DNS over HTTPS (https://cloudflare-dns.com/dns-query at 1.1.1.1:443,
# as Windows does), nothing arrives in clear text, and `servers` shows
# "upgrade": "known".  Needs root, network namespaces and dig.
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}
FAKEUP=${FAKEUP:-./tests/fakeup}

. "$(dirname "$0")/testlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespace)"
command -v dig >/dev/null 2>&1 || skip "dig not installed"
ns=stubd-known-$$
ip netns add "$ns" 2>/dev/null || skip "cannot create network namespaces"
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
need_netns_exec "$ns"
# (background processes are started with ip netns exec itself, which
# execs the program: $! is then its PID)
inns() { ip netns exec "$ns" "$@"; }

inns ip link set lo up
inns ip addr add 1.1.1.1/32 dev lo
"$FAKEUP" -g cloudflare-dns.com "$tmp/cert.pem" "$tmp/key.pem" >/dev/null ||
	{ echo "FAIL: no certificate"; exit 1; }
ip netns exec "$ns" "$FAKEUP" -l 1.1.1.1 www.example.com A 300 192.0.2.7 >"$tmp/clear" &
pids="$pids $!"
ip netns exec "$ns" "$FAKEUP" -l -p 443 -H "$tmp/cert.pem,$tmp/key.pem" 1.1.1.1 \
	www.example.com A 300 192.0.2.70 a.example.com A 300 192.0.2.80 >"$tmp/doh" &
pids="$pids $!"
wait_file "$tmp/clear" && wait_file "$tmp/doh" || { echo "FAIL: stand-ins did not start"; exit 1; }
cport=$(head -1 "$tmp/clear")
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.1:5399
control $tmp/ctl
hosts none
encryption auto
tls-ca $tmp/cert.pem
timeouts 0.5 1 1
server 1.1.1.1:$cport
CONF
ip netns exec "$ns" "$STUBD" $KEEP_ROOT -f -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
spid=$!
pids="$pids $spid"
i=0
until "$STUBCTL" -s "$tmp/ctl" stats >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "FAIL: stubd did not start"; cat "$tmp/stubd.err"; exit 1; }
	sleep 0.1
done
q() { inns dig +time=3 +tries=1 +short -p 5399 @127.0.0.1 "$1" A; }
check "www.example.com over DoH" "$(q www.example.com)" "192.0.2.70"
check "a.example.com over DoH" "$(q a.example.com)" "192.0.2.80"
js=$("$STUBCTL" -s "$tmp/ctl" --json servers)
case $js in
*'"upgrade":"known","twin_address":"1.1.1.1:443","twin_name":"cloudflare-dns.com","twin_transport":"https","downgrades":0'*) got=yes ;;
*) got="no: $js" ;;
esac
check "servers: the known DoH twin" "$got" "yes"
kill "$spid"
wait "$spid"
check "stubd exits 0" "$?" "0"
for p in $pids; do kill "$p" 2>/dev/null; done
for p in $pids; do wait "$p" 2>/dev/null; done
pids=""
# -l lists every query a stand-in saw after its port line
check "queries over DoH" "$(($(wc -l <"$tmp/doh") - 1))" "2"
check "0 queries in clear text" "$(($(wc -l <"$tmp/clear") - 1))" "0"
exit $fail
