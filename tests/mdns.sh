#!/bin/sh
# mdns.sh - .local names over one-shot multicast DNS (SPEC 19) against the
# real avahi-daemon.  Two network namespaces joined by a veth pair: avahi
# in one (D-Bus off, a static /etc/avahi/hosts bind-mounted in its own
# mount namespace) publishes printer.local; stubd in the other resolves A
# and AAAA, a nonexistent .local is NXDOMAIN within mdns-timeout + 100 ms,
# a second avahi in stubd's own namespace keeps its port 5353 and answers
# too, stubd holds no socket on 5353, and the unicast upstream (a fake one
# with an arrival log) sees no .local question.  An IPv6 link-local
# address avahi publishes comes back through varlink ResolveHostname with
# the index of the interface it was heard on, on the miss and from the
# cache (SPEC 16, 19).  Needs root, iproute2, dig and avahi-daemon;
# skipped otherwise.  Traffic stays inside the
# namespaces this test creates.
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}
FAKEUP=${FAKEUP:-./tests/fakeup}

. "$(dirname "$0")/testlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v ip >/dev/null 2>&1 || skip "iproute2 not installed"
command -v dig >/dev/null 2>&1 || skip "dig not installed"
command -v ss >/dev/null 2>&1 || skip "ss not installed"
AVAHI=$(command -v avahi-daemon || echo /usr/sbin/avahi-daemon)
[ -x "$AVAHI" ] || skip "avahi-daemon not installed"

tag=$$
nsa=sdma-$tag
nsb=sdmb-$tag
va=vma$tag
vb=vmb$tag
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$nsa" 2>/dev/null
	ip netns del "$nsb" 2>/dev/null
	ip netns del "sdmc-$tag" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$nsa" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$nsb" || skip "cannot create network namespaces"
need_netns_exec "$nsa"
ip -n "$nsa" link add "$va" type veth peer name "$vb" netns "$nsb" ||
	skip "cannot create veth pairs"
ip -n "$nsa" addr add 10.232.0.1/24 dev "$va"
ip -n "$nsb" addr add 10.232.0.2/24 dev "$vb"
ip -n "$nsa" addr add fe80::1/64 dev "$va" nodad
ip -n "$nsb" addr add fe80::2/64 dev "$vb" nodad
ip -n "$nsa" addr add fd32::1/64 dev "$va" nodad
ip -n "$nsb" addr add fd32::2/64 dev "$vb" nodad
for ns in "$nsa" "$nsb"; do ip -n "$ns" link set lo up; done
ip -n "$nsa" link set "$va" up
ip -n "$nsb" link set "$vb" up

# avahi_in NS IFACE HOSTNAME HOSTS: avahi-daemon in NS publishing HOSTS
avahi_in() {
	d=$tmp/avahi-$3
	mkdir -p "$d/run"
	printf '%s\n' "$4" >"$d/hosts"
	cat >"$d/avahi-daemon.conf" <<CONF
[server]
host-name=$3
use-ipv4=yes
use-ipv6=yes
allow-interfaces=$2
enable-dbus=no
ratelimit-interval-usec=0
[wide-area]
enable-wide-area=no
[publish]
publish-workstation=no
publish-hinfo=no
CONF
	ip netns exec "$1" sh -c "mount --bind '$d/hosts' /etc/avahi/hosts &&
		mount --bind '$d/run' /run/avahi-daemon 2>/dev/null ||
		{ mkdir -p /run/avahi-daemon && mount --bind '$d/run' /run/avahi-daemon; } &&
		exec '$AVAHI' --no-drop-root --no-chroot --no-rlimits -f '$d/avahi-daemon.conf'" \
		>"$d/log" 2>&1 &
	pids="$pids $!"
}
avahi_in "$nsa" "$va" avahia "10.232.0.9 printer.local
fd32::9 printer.local
fe80::9 llprinter.local
169.254.7.9 linklocal.local"
# a second avahi in stubd's own namespace, with a name of its own
avahi_in "$nsb" "$vb" avahib "10.232.0.7 mine.local"

ip netns exec "$nsb" "$FAKEUP" -l 127.0.0.1 www.example.test A 60 192.0.2.1 \
	>"$tmp/fake" &
fakepid=$!
pids="$pids $fakepid"
wait_file "$tmp/fake" || { echo "FAIL: the fake upstream did not start"; exit 1; }
fport=$(head -1 "$tmp/fake")
# and a capture of every packet to it (tcpdump, where there is one)
cap=""
if command -v tcpdump >/dev/null 2>&1; then
	ip netns exec "$nsb" tcpdump -i lo -nn -l -U -T domain "udp port $fport or tcp port $fport" \
		>"$tmp/cap" 2>"$tmp/cap.err" &
	cap=$!
	pids="$pids $cap"
	i=0
	while ! grep -q "listening on" "$tmp/cap.err" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
else
	echo "SKIP: the capture (no tcpdump); the fake upstream's own log still checked"
fi

lport=$((20000 + tag % 10000))
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.1:$lport
control $tmp/ctl
hosts none
timeouts 0.2 0.4
server 127.0.0.1:$fport
mdns-timeout 0.5
resolved-compat yes
dbus no
CONF
mkdir "$tmp/run"
STUBD_RESOLVE_DIR=$tmp/run ip netns exec "$nsb" "$STUBD" $KEEP_ROOT -f -c "$tmp/stubd.conf" \
	2>"$tmp/stubd.err" &
stubpid=$!
pids="$pids $stubpid"
wait_file "$tmp/ctl" 2>/dev/null
sleep 0.3

q() { ip netns exec "$nsb" dig +time=2 +tries=1 +short @127.0.0.1 -p "$lport" "$@"; }

# avahi probes its names before it answers: wait for it (10 s at most)
i=0
while [ -z "$(q printer.local A)" ] && [ $i -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
check "printer.local A (avahi across the veth)" "$(q printer.local A)" 10.232.0.9
check "printer.local AAAA" "$(q printer.local AAAA)" fd32::9
check "169.254.7.9's reverse name (PTR) by multicast" "$(q -x 169.254.7.9)" linklocal.local.
# an IPv6 link-local answer keeps its interface: varlink ResolveHostname
# gives the veth's index with fe80::9, asked (miss) and again (cache hit)
if command -v python3 >/dev/null 2>&1; then
	vbi=$(ip netns exec "$nsb" cat "/sys/class/net/$vb/ifindex")
	ll=$(python3 - "$tmp/run/io.systemd.Resolve" <<'PY'
import json, socket, sys
for i in range(2):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.sendall(json.dumps({"method": "io.systemd.Resolve.ResolveHostname",
                          "parameters": {"name": "llprinter.local", "family": 10}}).encode() + b"\0")
    buf = b""
    while not buf.endswith(b"\0"):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    p = json.loads(buf.rstrip(b"\0")).get("parameters", {})
    a = p.get("addresses", [{}])
    print(socket.inet_ntop(socket.AF_INET6, bytes(a[0]["address"])) if a and "address" in a[0]
          else "none", a[0].get("ifindex") if a else None,
          "cache" if p.get("flags", 0) & (1 << 20) else "network", end=" ")
PY
)
	check "varlink: llprinter.local's link-local address with the veth's ifindex" "$ll" \
		"fe80::9 $vbi network fe80::9 $vbi cache "
else
	echo "SKIP: varlink ifindex (no python3)"
fi
check "mine.local A (avahi in stubd's own namespace)" "$(q mine.local A)" 10.232.0.7
check "the answer's TTL is capped at 10 s" \
	"$(ip netns exec "$nsb" dig +time=2 +tries=1 +noall +answer @127.0.0.1 -p "$lport" \
	PRINTER.local A | awk '$2 <= 10 { print "capped" }')" capped

# a nonexistent name: NXDOMAIN within mdns-timeout (0.5 s) + 100 ms
t0=$(date +%s%N)
st=$(ip netns exec "$nsb" dig +time=3 +tries=1 @127.0.0.1 -p "$lport" nosuch.local A |
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
ms=$((($(date +%s%N) - t0) / 1000000))
check "nosuch.local is NXDOMAIN" "$st" NXDOMAIN
[ $ms -le 600 ] && [ $ms -ge 450 ] && echo "ok: NXDOMAIN after $ms ms" ||
	{ echo "FAIL: NXDOMAIN after $ms ms, want 500..600"; fail=1; }
# not cached: asking again waits again
t0=$(date +%s%N)
q nosuch.local A >/dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -ge 450 ] && echo "ok: the NXDOMAIN of silence is not cached ($ms ms again)" ||
	{ echo "FAIL: the second nosuch.local took $ms ms: cached"; fail=1; }

# 100 fresh queries (the cache flushed before each): p50 at most 250 ms
: >"$tmp/lat"
i=0
while [ $i -lt 100 ]; do
	ip netns exec "$nsb" "$STUBCTL" -s "$tmp/ctl" flushdns >/dev/null 2>&1
	t0=$(date +%s%N)
	a=$(q printer.local A)
	echo "$((($(date +%s%N) - t0) / 1000000)) $a" >>"$tmp/lat"
	i=$((i + 1))
done
bad=$(awk '$2 != "10.232.0.9"' "$tmp/lat" | wc -l)
check "100 fresh queries answered" "$bad" 0
p50=$(sort -n "$tmp/lat" | awk 'NR == 50 { print $1 }')
p90=$(sort -n "$tmp/lat" | awk 'NR == 90 { print $1 }')
echo "latency over 100 fresh queries (dig included): p50 $p50 ms, p90 $p90 ms"
[ "$p50" -le 250 ] && echo "ok: p50 $p50 ms <= 250" ||
	{ echo "FAIL: p50 $p50 ms > 250"; fail=1; }

# the trace shows the multicast packets
tr=$(ip netns exec "$nsb" "$STUBCTL" -s "$tmp/ctl" flushdns >/dev/null 2>&1;
	ip netns exec "$nsb" "$STUBCTL" -s "$tmp/ctl" --json query printer.local A 2>&1)
case $tr in
*'"server":"224.0.0.251:5353","transport":"mdns"'*'"result":"answer"'*)
	echo "ok: the trace shows the mdns packets" ;;
*) echo "FAIL: trace: $tr"; fail=1 ;;
esac
n=$(ip netns exec "$nsb" "$STUBCTL" -s "$tmp/ctl" --json stats 2>/dev/null |
	sed -n 's/.*"mdns_queries": *\([0-9]*\).*/\1/p')
[ "${n:-0}" -ge 100 ] && echo "ok: stats count $n mdns queries" ||
	{ echo "FAIL: mdns_queries '$n'"; fail=1; }

# avahi still holds 5353 next to stubd; stubd holds no socket there
ss5353=$(ip netns exec "$nsb" ss -lunpH 'sport = :5353')
case $ss5353 in
*avahi*) echo "ok: avahi in stubd's namespace still holds 5353" ;;
*) echo "FAIL: no avahi on 5353: $ss5353"; fail=1 ;;
esac
case $ss5353 in
*stubd*) echo "FAIL: stubd holds 5353: $ss5353"; fail=1 ;;
*) echo "ok: stubd holds no socket on 5353" ;;
esac
check "avahi in stubd's namespace still answers" "$(q mine.local A)" 10.232.0.7
check "its own host name too" "$(q avahib.local A)" 10.232.0.2

# MulticastDNS no on the veth (stubctl link IF mdns no, as
# SetLinkMulticastDNS no): no query goes out on it, printer.local is
# NXDOMAIN (at once: no other link to ask); mdns yes, or revert, asks on it again
sc() { ip netns exec "$nsb" "$STUBCTL" -s "$tmp/ctl" "$@"; }
check "stubctl link $vb mdns no accepted" "$(sc link "$vb" mdns no >/dev/null 2>&1 && echo ok)" ok
sc flushdns >/dev/null 2>&1
t0=$(date +%s%N)
st=$(ip netns exec "$nsb" dig +time=3 +tries=1 @127.0.0.1 -p "$lport" printer.local A |
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
ms=$((($(date +%s%N) - t0) / 1000000))
check "with $vb set to mdns no, printer.local is NXDOMAIN" "$st" NXDOMAIN
# (no other link asks: the search ends at once, never later than the timeout)
[ $ms -le 600 ] && echo "ok: ... within mdns-timeout + 100 ms ($ms ms)" ||
	{ echo "FAIL: NXDOMAIN after $ms ms, want <= 600"; fail=1; }
sc flushdns >/dev/null 2>&1
tr=$(sc --json query printer.local A 2>&1)
case $tr in
*'"adapter":"'$vb'"'*) echo "FAIL: an mdns packet on $vb set to no: $tr"; fail=1 ;;
*'"result":"nxdomain"'* | *NXDOMAIN* | *nxdomain*) echo "ok: the trace shows no mdns packet on $vb" ;;
*) echo "FAIL: trace: $tr"; fail=1 ;;
esac
check "stubctl link $vb mdns yes accepted" "$(sc link "$vb" mdns yes >/dev/null 2>&1 && echo ok)" ok
check "mdns yes: printer.local answered again" "$(q printer.local A)" 10.232.0.9
sc link "$vb" mdns no >/dev/null 2>&1
sc link "$vb" revert >/dev/null 2>&1
sc flushdns >/dev/null 2>&1
check "revert: printer.local answered again" "$(q printer.local A)" 10.232.0.9
check "a bad mdns value refused" "$(sc link "$vb" mdns maybe >/dev/null 2>&1 || echo refused)" refused

# a responder on a third link (namespace C behind a second veth) answers
# honest.local from its on-link address and spoof.local from an address
# that is not on the link (source port 5353 both): only the first counts
nsc=sdmc-$tag
ip netns add "$nsc"
ip -n "$nsc" link add "vmc$tag" type veth peer name "vmd$tag" netns "$nsb"
ip -n "$nsc" addr add 10.233.0.1/24 dev "vmc$tag"
ip -n "$nsc" addr add 198.51.100.77/32 dev "vmc$tag"
ip -n "$nsb" addr add 10.233.0.2/24 dev "vmd$tag"
ip -n "$nsc" addr add fe80::c1/64 dev "vmc$tag" nodad
ip -n "$nsb" addr add fe80::c2/64 dev "vmd$tag" nodad
ip -n "$nsc" link set "vmc$tag" up
ip -n "$nsb" link set "vmd$tag" up
ip -n "$nsc" route add default dev "vmc$tag"
cat >"$tmp/responder.py" <<'PY'
import select, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5353))
mr = socket.inet_aton("224.0.0.251") + socket.inet_aton("10.233.0.1")
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mr)
spoof = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
spoof.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
spoof.bind(("198.51.100.77", 5353))
# IPv6: six.local is answered only there, from fe80::c1
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s6.bind(("::", 5353))
idx = socket.if_nametoindex(sys.argv[2])
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
              socket.inet_pton(socket.AF_INET6, "ff02::fb") + struct.pack("@I", idx))
open(sys.argv[1], "w").write("ready\n")
while True:
    sock = select.select([s, s6], [], [])[0][0]
    pkt, peer = sock.recvfrom(1500)
    if len(pkt) < 12 or pkt[2] & 0x80:
        continue
    i, labels = 12, []
    while pkt[i]:
        labels.append(pkt[i + 1:i + 1 + pkt[i]].decode().lower())
        i += 1 + pkt[i]
    name = ".".join(labels)
    qtype = struct.unpack("!H", pkt[i + 1:i + 3])[0]
    if qtype != 1 or name not in ("honest.local", "spoof.local", "six.local"):
        continue
    if (name == "six.local") != (sock is s6):
        continue
    # QDCOUNT 0, one A record, cache-flush class
    rr = pkt[12:i + 1] + struct.pack("!HHIH", 1, 0x8001, 120, 4) + bytes([10, 233, 0, 99])
    ans = struct.pack("!HHHHHH", 0, 0x8400, 0, 1, 0, 0) + rr
    (spoof if name == "spoof.local" else sock).sendto(ans, peer)
PY
ip netns exec "$nsc" python3 "$tmp/responder.py" "$tmp/responder.ready" "vmc$tag" &
pids="$pids $!"
wait_file "$tmp/responder.ready" || { echo "FAIL: the responder did not start"; exit 1; }
check "honest.local from an on-link source is taken" "$(q honest.local A)" 10.233.0.99
tr=$(ip netns exec "$nsb" "$STUBCTL" -s "$tmp/ctl" --json query six.local A 2>&1)
case $tr in
*'"data":"10.233.0.99"'*'"adapter":"vmd'$tag'","server":"[ff02::fb]:5353","transport":"mdns"'*'"result":"answer"'*)
	echo "ok: six.local answered over IPv6 link-local on vmd$tag" ;;
*) echo "FAIL: six.local: $tr"; fail=1 ;;
esac
st=$(ip netns exec "$nsb" dig +time=3 +tries=1 @127.0.0.1 -p "$lport" spoof.local A |
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
check "spoof.local from an off-link source is ignored (NXDOMAIN)" "$st" NXDOMAIN

# an adapter routing local: .local names go to it by unicast
ip netns exec "$nsb" "$FAKEUP" 127.0.0.1 printer.local A 60 192.0.2.50 >"$tmp/fake2" &
pids="$pids $!"
wait_file "$tmp/fake2" || { echo "FAIL: the second fake upstream did not start"; exit 1; }
cat >"$tmp/stubd2.conf" <<CONF
listen 127.0.0.1:$((lport + 1))
control off
hosts none
timeouts 0.2 0.4
server 127.0.0.1:$fport
adapter corp
server 127.0.0.1:$(head -1 "$tmp/fake2")
domain local
CONF
ip netns exec "$nsb" "$STUBD" $KEEP_ROOT -f -c "$tmp/stubd2.conf" 2>"$tmp/stubd2.err" &
stub2=$!
pids="$pids $stub2"
sleep 0.3
check "with an adapter routing local, printer.local goes to it" \
	"$(ip netns exec "$nsb" dig +time=2 +tries=1 +short @127.0.0.1 -p "$((lport + 1))" \
	printer.local A)" 192.0.2.50
kill "$stub2"
wait "$stub2"
check "the second stubd exits 0" "$?" 0

# the unicast upstream saw no .local question
q www.example.test A >/dev/null
kill "$fakepid"
wait "$fakepid" 2>/dev/null
check "the unicast upstream was asked the other name" \
	"$(grep -c 'www.example.test' "$tmp/fake")" 1
check "no .local question reached the unicast upstream" \
	"$(grep -ci '\.local' "$tmp/fake")" 0
if [ -n "$cap" ]; then
	sleep 0.3
	kill "$cap"
	wait "$cap" 2>/dev/null
	check "the capture saw the other name's question go to the unicast upstream" \
		"$(grep -c 'A? www.example.test' "$tmp/cap")" 1
	check "the capture saw 0 .local questions to the unicast upstream" \
		"$(grep -ci '\.local' "$tmp/cap")" 0
fi
kill "$stubpid"
wait "$stubpid"
check "stubd exits 0" "$?" 0
[ $fail -eq 0 ] || { cat "$tmp/stubd.err"; cat "$tmp"/avahi-*/log; }
exit $fail
