#!/bin/sh
# resolvedfiles.sh - resolved-compat (SPEC 16) on the machine's side:
# /run/systemd/resolve/stub-resolv.conf and resolv.conf appear with the
# right content and are replaced whole (a new inode, never a partial file)
# when a link's servers or domains change, and left alone when nothing
# in them changes; stubd answers on 127.0.0.53:53 (UDP and TCP) and a
# second one says clearly that it cannot; the host name, _gateway and
# _outbound are answered from a namespace with a known default route
# (10.77.0.1, fd77::1), with the reverse names of those addresses, and a
# hosts entry wins over them.  Once as root,
# once dropping to the user stubd (the files are still replaced after the
# drop).  Everything happens in a network, mount and UTS namespace this
# test makes: its own loopback (127.0.0.53:53 is free there), its own
# /run/systemd (a tmpfs) and its own host name.  Needs root, iproute2,
# unshare and dig; skipped without them.
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}
FAKEUP=${FAKEUP:-./tests/fakeup}

. "$(dirname "$0")/testlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root"
for t in ip dig unshare; do
	command -v $t >/dev/null 2>&1 || skip "$t not installed"
done
[ -d /run/systemd ] || skip "no /run/systemd to mount over"
unshare -m -u true 2>/dev/null || skip "no mount or UTS namespaces here"

STUBD=$(cd "$(dirname "$STUBD")" && pwd)/$(basename "$STUBD")
STUBCTL=$(cd "$(dirname "$STUBCTL")" && pwd)/$(basename "$STUBCTL")
FAKEUP=$(cd "$(dirname "$FAKEUP")" && pwd)/$(basename "$FAKEUP")
TESTLIB=$(cd "$(dirname "$0")" && pwd)/testlib.sh

ns=sdrf-$$
tmp=$(mktemp -d)
chmod 755 "$tmp" # the user stubd reads the hosts file after the drop
cleanup() {
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns" 2>/dev/null || skip "cannot create network namespaces"
need_netns_exec "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add rfv0 type veth peer name rfv1 || skip "cannot create veth pairs"
ip -n "$ns" link set rfv0 up
ip -n "$ns" link set rfv1 up
ip -n "$ns" addr add 10.77.0.2/24 dev rfv0
ip -n "$ns" -6 addr add fd77::2/64 dev rfv0 nodad
ip -n "$ns" route add default via 10.77.0.1 dev rfv0
ip -n "$ns" -6 route add default via fd77::1 dev rfv0 metric 1024

cat >"$tmp/hosts" <<HOSTS
192.0.2.55 sdhost.local
HOSTS

# the inner part: in the namespaces, once per way of running ($1)
cat >"$tmp/inner.sh" <<'INNER'
set -u
. "$TESTLIB"
how=$1 # root: -u root; drop: to the user stubd
U=""
[ "$how" = drop ] || U="-u root"
mount --make-rprivate / || exit 1
mount -t tmpfs tmpfs /run/systemd || exit 1
hostname sdhost.test || exit 1
dir=/run/systemd/resolve
stub=$dir/stub-resolv.conf
up=$dir/resolv.conf

spid=""
"$FAKEUP" 127.0.0.1 www.example.test A 60 192.0.2.1 >"$tmp/port.$how" &
fpid=$!
# whatever ends this part, nothing it started outlives it
trap 'kill $spid $fpid 2>/dev/null' EXIT
wait_file "$tmp/port.$how" || { echo "FAIL: the fake upstream did not start"; exit 1; }
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.1:5300
control $tmp/ctl
hosts $tmp/hosts
resolved-compat yes
dbus no
timeouts 0.2 0.4 0.4 0.8 1.6
exclude-time 2
server 127.0.0.1:$(cat "$tmp/port.$how")
CONF
"$STUBD" $U -f -c "$tmp/stubd.conf" 2>"$tmp/stubd.err.$how" </dev/null &
spid=$!
wait_file "$stub" || { echo "FAIL: no $stub"; cat "$tmp/stubd.err.$how"; exit 1; }
i=0
while [ ! -S "$tmp/ctl" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

ino() { stat -c %i "$1"; }
ctl() { "$STUBCTL" -s "$tmp/ctl" "$@" >/dev/null; }

# at start: the stub address, edns0 and trust-ad, no search line yet; no
# clear-text server on port 53 yet (the upstream is on a test port)
check "$how: stub-resolv.conf nameserver" "$(grep '^nameserver' "$stub")" "nameserver 127.0.0.53"
check "$how: stub-resolv.conf options" "$(grep '^options' "$stub")" "options edns0 trust-ad"
check "$how: no search line yet" "$(grep -c '^search' "$stub")" 0
check "$how: resolv.conf without servers" "$(grep -c '^nameserver' "$up")" 0
check "$how: mode 0644" "$(stat -c %a "$stub") $(stat -c %a "$up")" "644 644"
if [ "$how" = drop ]; then
	check "directory given to the user stubd" "$(stat -c %U "$dir")" stubd
fi

# a link's servers and domains: both files replaced (new inodes)
s0=$(ino "$stub")
u0=$(ino "$up")
ctl link rfv0 dns 10.77.0.1 192.0.2.53 '[fd77::1]' 192.0.2.54 192.0.2.99:5353
ctl link rfv0 domain corp.test '~route.test' lan.test
check "$how: search domains, not routing-only" "$(grep '^search' "$stub")" \
	"search corp.test lan.test"
check "$how: servers in resolv.conf" "$(grep '^nameserver' "$up" | tr '\n' ' ')" \
	"nameserver 10.77.0.1 nameserver 192.0.2.53 nameserver fd77::1 nameserver 192.0.2.54 "
check "$how: the fourth server noted" "$(grep -c '^# More than three' "$up")" 1
check "$how: search in resolv.conf" "$(grep '^search' "$up")" "search corp.test lan.test"
[ "$(ino "$stub")" != "$s0" ] && echo "ok: $how: stub-resolv.conf replaced" ||
	{ echo "FAIL: $how: stub-resolv.conf not replaced (same inode)"; fail=1; }
[ "$(ino "$up")" != "$u0" ] && echo "ok: $how: resolv.conf replaced" ||
	{ echo "FAIL: $how: resolv.conf not replaced (same inode)"; fail=1; }
if [ "$how" = drop ]; then
	check "files of the user stubd" "$(stat -c %U "$stub")" stubd
fi

# a reconfiguration that changes neither file leaves both alone
s1=$(ino "$stub")
u1=$(ino "$up")
m1=$(stat -c %y "$stub")
ctl link rfv0 default-route yes
ctl reload
check "$how: unchanged stub-resolv.conf not rewritten" "$(ino "$stub") $(stat -c %y "$stub")" \
	"$s1 $m1"
check "$how: unchanged resolv.conf not rewritten" "$(ino "$up")" "$u1"

# whole or not at all: a reader never sees a partial file while the
# domains change 30 times
(
	i=0
	bad=0
	while [ $i -lt 400 ]; do
		c=$(cat "$stub" 2>/dev/null) || bad=$((bad + 1))
		case "$c" in
		*"options edns0 trust-ad"*) ;;
		*) bad=$((bad + 1)) ;;
		esac
		i=$((i + 1))
	done
	echo "$bad" >"$tmp/bad.$how"
) &
rpid=$!
n=0
while [ $n -lt 30 ]; do
	ctl link rfv0 domain "d$n.test" "e$n.test"
	n=$((n + 1))
done
wait $rpid
check "$how: never a partial stub-resolv.conf" "$(cat "$tmp/bad.$how")" 0
check "$how: the last domains" "$(grep '^search' "$stub")" "search d29.test e29.test"
check "$how: no temporary file left" \
	"$(ls -A "$dir" | grep -v '^io.systemd.Resolve' | tr '\n' ' ')" "resolv.conf stub-resolv.conf "

# 127.0.0.53:53 as well as the listen line, UDP and TCP
check "$how: dig @127.0.0.53" "$(dig +short +time=2 +tries=1 @127.0.0.53 www.example.test A)" \
	192.0.2.1
check "$how: dig +tcp @127.0.0.53" \
	"$(dig +short +tcp +time=2 +tries=1 @127.0.0.53 www.example.test A)" 192.0.2.1
check "$how: the listen line still" \
	"$(dig +short +time=2 +tries=1 -p 5300 @127.0.0.1 www.example.test A)" 192.0.2.1

# the synthesized names
q() { dig +short +time=2 +tries=1 @127.0.0.53 "$@"; }
check "$how: _gateway A" "$(q _gateway A)" 10.77.0.1
check "$how: _gateway AAAA" "$(q _gateway AAAA)" fd77::1
check "$how: _outbound A" "$(q _outbound A)" 10.77.0.2
check "$how: _outbound AAAA" "$(q _outbound AAAA)" fd77::2
check "$how: host name A" "$(q sdhost.test A)" 10.77.0.2
check "$how: host name (first label) A" "$(q SDHOST A)" 10.77.0.2
check "$how: host name AAAA, global first" "$(q sdhost AAAA | head -1)" fd77::2
check "$how: host name MX is NODATA" \
	"$(dig +time=2 +tries=1 @127.0.0.53 sdhost MX | grep -c 'status: NOERROR')" 1
check "$how: hosts entry wins (sdhost.local)" "$(q sdhost.local A)" 192.0.2.55
check "$how: PTR of the machine's address" "$(q -x 10.77.0.2 | tr '\n' ' ')" \
	"sdhost.test. sdhost. sdhost.local. "
check "$how: PTR of its IPv6 address" "$(q -x fd77::2 | head -1)" sdhost.test.
check "$how: PTR of the gateway" "$(q -x 10.77.0.1)" _gateway.
check "$how: PTR of 127.0.0.2" "$(q -x 127.0.0.2 | tail -1)" localhost.
check "$how: over the listen line too" "$(dig +short +time=2 +tries=1 -p 5300 @127.0.0.1 _gateway A)" \
	10.77.0.1

# and over varlink (nss-resolve's way), SYNTHETIC (1 << 19) as resolved
if command -v python3 >/dev/null 2>&1; then
	check "$how: varlink ResolveHostname _gateway" "$(python3 - <<'PY'
import json, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
s.connect("/run/systemd/resolve/io.systemd.Resolve")
s.sendall(json.dumps({"method": "io.systemd.Resolve.ResolveHostname",
                      "parameters": {"name": "_gateway", "family": 2}}).encode() + b"\0")
buf = b""
while not buf.endswith(b"\0"):
    d = s.recv(4096)
    if not d:
        break
    buf += d
p = json.loads(buf.rstrip(b"\0"))["parameters"]
print(".".join(map(str, p["addresses"][0]["address"])), bool(p["flags"] & (1 << 19)))
PY
)" "10.77.0.1 True"
	# SPEC 16: a link-local gateway carries its interface index; the
	# facts follow the route change (rtnetlink), no restart
	ip -6 route add default via fe80::1 dev rfv0 metric 2048 || fail=1
	sleep 0.5
	check "$how: varlink _gateway AAAA, fe80:: with its ifindex" "$(python3 - <<'PY'
import json, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
s.connect("/run/systemd/resolve/io.systemd.Resolve")
s.sendall(json.dumps({"method": "io.systemd.Resolve.ResolveHostname",
                      "parameters": {"name": "_gateway", "family": 10}}).encode() + b"\0")
buf = b""
while not buf.endswith(b"\0"):
    d = s.recv(4096)
    if not d:
        break
    buf += d
p = json.loads(buf.rstrip(b"\0"))["parameters"]
for a in p["addresses"]:
    if a["address"][:2] == [0xfe, 0x80]:
        print(a.get("ifindex"))
PY
)" "$(cat /sys/class/net/rfv0/ifindex)"
	check "$how: dig _gateway AAAA, both" "$(q _gateway AAAA | sort | tr '\n' ' ')" "fd77::1 fe80::1 "
	ip -6 route del default via fe80::1 dev rfv0 metric 2048
fi

# the facts are a snapshot: 1,000 PTR queries (each one a reverse name
# synthname looks at) read no interfaces, routes or sockets
if [ "$how" = root ] && command -v strace >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
	sleep 0.5 # the read after the route change above is done
	strace -f -qq -p "$spid" -e trace=socket,openat,getsockname -o "$tmp/strace" &
	tpid=$!
	sleep 0.5
	python3 - <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for i in range(1000):
    labels = [str(i % 250 + 1), "2", "0", "192", "in-addr", "arpa"]
    name = b"".join(bytes([len(l)]) + l.encode() for l in labels) + b"\0"
    s.sendto(struct.pack(">HHHHHH", i, 0x100, 1, 0, 0, 0) + name + struct.pack(">HH", 12, 1),
             ("127.0.0.1", 5300))
    try:
        s.recv(1500)
    except OSError:
        pass
PY
	sleep 0.3
	kill $tpid
	wait $tpid 2>/dev/null
	check "$how: 1000 PTR queries: no netlink socket, /proc/net read or connect probe" \
		"$(grep -c 'AF_NETLINK\|/proc/net\|getsockname' "$tmp/strace")" 0
else
	echo "SKIP: $how: the system calls of PTR queries (no strace or python3, or not root)"
fi

# a second stubd cannot have 127.0.0.53:53, and says why
sed -e "s|^listen .*|listen 127.0.0.1:5301|" -e "s|^control .*|control $tmp/ctl2|" \
	"$tmp/stubd.conf" >"$tmp/stubd2.conf"
"$STUBD" $U -f -c "$tmp/stubd2.conf" >/dev/null 2>"$tmp/stubd2.err.$how" </dev/null
check "$how: a second stubd exits 1" "$?" 1
check "$how: ... naming the address and resolved" \
	"$(grep -c 'cannot listen on 127.0.0.53:53: Address already in use.*systemd-resolved' \
		"$tmp/stubd2.err.$how")" 1

kill $spid
wait $spid
check "$how: stubd exits 0" "$?" 0
spid=""
[ $fail -eq 0 ] || cat "$tmp/stubd.err.$how"
exit $fail
INNER

export TESTLIB STUBD STUBCTL FAKEUP tmp
rc=0
ip netns exec "$ns" unshare -m -u sh "$tmp/inner.sh" root || rc=1
if id stubd >/dev/null 2>&1; then
	ip netns exec "$ns" unshare -m -u sh "$tmp/inner.sh" drop || rc=1
else
	echo "SKIP: dropping to the user stubd (no such user)"
fi
exit $rc
