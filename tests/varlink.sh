#!/bin/sh
# varlink.sh - resolved-compat yes: io.systemd.Resolve spoken by a client
# written from the varlink wire format (python3), against the real stubd
# and fake upstreams: A+AAAA, cache and hosts flags, NXDOMAIN, NODATA,
# SERVFAIL from a server, a schedule that runs out (QueryTimedOut, in
# time), no server at all (NoNameServers), ResolveAddress, ResolveRecord
# (raw record), pipelined calls answered in order, protocol errors, the
# message bound, and DNS clients still answered beside it; the Monitor:
# statistics and their reset, a subscriber sees varlink and DNS questions,
# another user is refused there (and may still resolve), DumpCache (the
# shapes of each kind of entry; hundreds of entries in one reply, a call
# after it answered), DumpServerState.  As root: a link-local AAAA from an
# adapter bound to lo carries lo's ifindex, on the miss and from the
# cache; and a stubd that drops to another user leaves no varlink socket
# behind at exit (the exit helper removes them).
set -u
STUBD=${STUBD:-./stubd}
FAKEUP=${FAKEUP:-./tests/fakeup}

. "$(dirname "$0")/testlib.sh"
PY=$(command -v python3) || skip "python3 not installed"

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

"$FAKEUP" 127.0.0.94 www.example.com A 300 192.0.2.7 www.example.com AAAA 300 2001:db8::7 \
	v4only.example.com A 300 192.0.2.8 7.2.0.192.in-addr.arpa PTR 300 www.example.com \
	example.com MX 300 "10 mail.example.com" >"$tmp/p_ok" &
pids="$pids $!"
"$FAKEUP" -m servfail 127.0.0.95 >"$tmp/p_sf" &
pids="$pids $!"
"$FAKEUP" -m drop 127.0.0.96 >"$tmp/p_to" &
pids="$pids $!"
"$FAKEUP" 127.0.0.93 ll.ll.test AAAA 300 fe80::77 ll.ll.test A 300 192.0.2.93 >"$tmp/p_ll" &
pids="$pids $!"
for f in p_ok p_sf p_to p_ll; do wait_file "$tmp/$f" || { echo "FAIL: fake upstreams did not start"; exit 1; }; done
base=$((30000 + $$ % 20000))
echo "192.0.2.50 fromhosts.test" >"$tmp/hosts"
mkdir "$tmp/run" "$tmp/run2"
# another user reaches the sockets (the Monitor refuses it, Resolve does not)
chmod 755 "$tmp" "$tmp/run"
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.97:$base
control $tmp/ctl
hosts $tmp/hosts
resolved-compat yes
dbus no
timeouts 0.2 0.4 0.4 0.8 1.6
exclude-time 2
adapter lan
server 127.0.0.94:$(cat "$tmp/p_ok")
adapter sf default-route no
server 127.0.0.95:$(cat "$tmp/p_sf")
domain sf.test
adapter to default-route no
server 127.0.0.96:$(cat "$tmp/p_to")
domain to.test
CONF
# an adapter bound to a device (root only: SO_BINDTODEVICE): its answers
# belong to that interface
rooted=0
if [ "$(id -u)" -eq 0 ]; then
	rooted=1
	cat >>"$tmp/stubd.conf" <<CONF
adapter ll default-route no device lo
server 127.0.0.93:$(cat "$tmp/p_ll")
domain ll.test
CONF
fi
: >"$tmp/empty-resolv"
cat >"$tmp/none.conf" <<CONF
listen 127.0.0.97:$((base + 1))
control $tmp/ctl2
hosts none
resolv-file $tmp/empty-resolv
resolved-compat yes
dbus no
CONF
STUBD_RESOLVE_DIR=$tmp/run "$STUBD" $KEEP_ROOT -f -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
pids="$pids $!"
STUBD_RESOLVE_DIR=$tmp/run2 "$STUBD" $KEEP_ROOT -f -c "$tmp/none.conf" 2>"$tmp/none.err" &
pids="$pids $!"
i=0
until [ -S "$tmp/run/io.systemd.Resolve" ] && [ -S "$tmp/run2/io.systemd.Resolve" ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "FAIL: no varlink socket"; cat "$tmp/stubd.err" "$tmp/none.err"; exit 1; }
	sleep 0.1
done
check "socket mode" "$(stat -c %a "$tmp/run/io.systemd.Resolve")" 666

"$PY" - "$tmp/run/io.systemd.Resolve" "$tmp/run2/io.systemd.Resolve" 127.0.0.97 "$base" \
	"$rooted" "$(cat "$tmp/p_ok")" <<'PY'
import base64, json, socket, struct, sys, time
path, path_none, addr, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rooted, okport = sys.argv[5] == "1", int(sys.argv[6])
fails = 0
def ok(label, cond, detail=""):
    global fails
    print(("ok: " if cond else "FAIL: ") + label + ("" if cond else " " + str(detail)))
    if not cond:
        fails += 1

def conn(p=path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(p)
    return s

def read_msgs(s, n):
    buf, out = b"", []
    while len(out) < n:
        d = s.recv(65536)
        if not d:
            break
        buf += d
        while b"\0" in buf:
            m, buf = buf.split(b"\0", 1)
            out.append(json.loads(m))
    return out

def call(method, params, p=path):
    s = conn(p)
    s.sendall(json.dumps({"method": method, "parameters": params}).encode() + b"\0")
    r = read_msgs(s, 1)
    s.close()
    return r[0] if r else None

R = "io.systemd.Resolve."
F_AUTH, F_SYNTH, F_CACHE, F_NET = 1 << 9, 1 << 19, 1 << 20, 1 << 23

r = call(R + "ResolveHostname", {"name": "www.example.com", "flags": 0})
p = r.get("parameters", {})
fams = sorted((a["family"], tuple(a["address"])) for a in p.get("addresses", []))
ok("A+AAAA", fams == [(2, (192, 0, 2, 7)), (10, (0x20, 1, 0x0d, 0xb8) + (0,) * 11 + (7,))], r)
ok("name", p.get("name") == "www.example.com", r)
ok("from the network", p.get("flags", 0) & F_NET and not p.get("flags", 0) & F_CACHE, r)
r = call(R + "ResolveHostname", {"name": "www.example.com", "family": 2})
p = r.get("parameters", {})
ok("family 2: A only, from the cache", len(p.get("addresses", [])) == 1 and
   p.get("flags", 0) & F_CACHE and not p.get("flags", 0) & F_NET, r)
r = call(R + "ResolveHostname", {"name": "fromhosts.test"})
p = r.get("parameters", {})
ok("hosts: synthetic", [a["address"] for a in p.get("addresses", [])] == [[192, 0, 2, 50]] and
   p.get("flags", 0) & F_SYNTH, r)
r = call(R + "ResolveHostname", {"name": "nx.example.com"})
ok("NXDOMAIN: DNSError rcode 3", r.get("error") == R + "DNSError" and
   r.get("parameters", {}).get("rcode") == 3, r)
r = call(R + "ResolveHostname", {"name": "v4only.example.com", "family": 10})
ok("NODATA: NoSuchResourceRecord", r.get("error") == R + "NoSuchResourceRecord", r)
t0 = time.monotonic()
r = call(R + "ResolveHostname", {"name": "x.sf.test"})
ok("SERVFAIL from the server: DNSError rcode 2", r.get("error") == R + "DNSError" and
   r.get("parameters", {}).get("rcode") == 2, r)
ok("SERVFAIL at once (%.2f s)" % (time.monotonic() - t0), time.monotonic() - t0 < 1.0)
t0 = time.monotonic()
r = call(R + "ResolveHostname", {"name": "x.to.test", "family": 2})
el = time.monotonic() - t0
ok("silent server: QueryTimedOut", r.get("error") == R + "QueryTimedOut", r)
# the schedule 0.2 0.4 0.4 0.8 1.6 runs out after 3.4 s
ok("QueryTimedOut when the schedule ends (%.2f s, want 3.4)" % el, 2.55 <= el <= 4.25)
r = call(R + "ResolveHostname", {"name": "www.example.com"}, path_none)
ok("no server configured: NoNameServers", r.get("error") == R + "NoNameServers", r)

r = call(R + "ResolveAddress", {"family": 2, "address": [192, 0, 2, 7]})
ok("ResolveAddress", [n["name"] for n in r.get("parameters", {}).get("names", [])] ==
   ["www.example.com"], r)
r = call(R + "ResolveRecord", {"name": "example.com", "type": 15})
rrs = r.get("parameters", {}).get("rrs", [])
raw = base64.b64decode(rrs[0]["raw"]) if rrs else b""
want = (b"\x07example\x03com\x00" + struct.pack(">HHIH", 15, 1, 300, 20) + b"\x00\x0a" +
        b"\x04mail\x07example\x03com\x00")
# the TTL counts down in the cache: compare all but it
ok("ResolveRecord: the raw MX, uncompressed", len(rrs) == 1 and raw[:17] == want[:17] and
   raw[21:] == want[21:], r)
r = call(R + "ResolveRecord", {"name": "example.com", "type": 99})
ok("ResolveRecord NODATA", r.get("error") == R + "NoSuchResourceRecord", r)

# an answer's interface: none for a server on no device; lo's index for a
# link-local AAAA from the adapter bound to lo, on the miss and on the hit
r = call(R + "ResolveHostname", {"name": "www.example.com"})
ok("no ifindex without one", all("ifindex" not in a for a in
   r.get("parameters", {}).get("addresses", [{}])), r)
if rooted:
    lo = socket.if_nametoindex("lo")
    for label, want_cache in (("miss", False), ("hit", True)):
        r = call(R + "ResolveHostname", {"name": "ll.ll.test", "family": 10})
        p = r.get("parameters", {})
        a = p.get("addresses", [])
        ok("link-local AAAA keeps lo's ifindex %d (%s)" % (lo, label),
           len(a) == 1 and a[0]["address"][:2] == [0xfe, 0x80] and a[0].get("ifindex") == lo
           and bool(p.get("flags", 0) & F_CACHE) == want_cache, r)
    # a global address from the same adapter needs no scope: none given
    # (so such answers still go to the cache-file)
    r = call(R + "ResolveHostname", {"name": "ll.ll.test", "family": 2})
    a = r.get("parameters", {}).get("addresses", [])
    ok("its A record carries no ifindex", len(a) == 1 and "ifindex" not in a[0], r)
else:
    print("SKIP: an adapter on a device (needs root)")

# three calls in one write: three replies, in order
s = conn()
s.sendall(b"".join(json.dumps({"method": R + "ResolveHostname", "parameters": {"name": n}}).encode()
                   + b"\0" for n in ("www.example.com", "nx.example.com", "fromhosts.test")))
rs = read_msgs(s, 3)
s.close()
ok("pipelined calls answered in order", len(rs) == 3 and "error" not in rs[0] and
   rs[1].get("error") == R + "DNSError" and
   rs[2].get("parameters", {}).get("addresses", [{}])[0].get("address") == [192, 0, 2, 50], rs)

r = call(R + "ResolveHostname", {"family": 2})
ok("InvalidParameter", r.get("error") == "org.varlink.service.InvalidParameter" and
   r.get("parameters", {}).get("parameter") == "name", r)
r = call(R + "ResolveService", {"domain": "x"})
ok("MethodNotFound", r.get("error") == "org.varlink.service.MethodNotFound", r)
r = call("org.varlink.service.GetInfo", {})
ok("GetInfo", R[:-1] in r.get("parameters", {}).get("interfaces", []), r)

# not varlink, and a message over 64 KiB: the connection is closed
for label, data in (("not JSON", b"hello\0"), ("over 64 KiB", b"[" * (70 * 1024))):
    s = conn()
    try:
        s.sendall(data)
        closed = s.recv(100) == b""
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    s.close()
    ok("closed: " + label, closed)

# DNS clients beside it are answered as before
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\x03www\x07example\x03com\x00" + \
    struct.pack(">HH", 1, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
u.sendto(q, (addr, port))
try:
    a, _ = u.recvfrom(4096)
    ok("DNS over UDP still answered", a[:2] == b"\x42\x42" and a[-4:] == bytes([192, 0, 2, 7]))
except socket.timeout:
    ok("DNS over UDP still answered", False, "timeout")
r = call(R + "ResolveHostname", {"name": "www.example.com", "family": 2})
ok("still serving after the closed connections", "error" not in r, r)

# at most 1024 connections: the next one waits until one closes
import resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard == resource.RLIM_INFINITY or hard >= 4096:
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    msg = json.dumps({"method": R + "ResolveHostname",
                      "parameters": {"name": "www.example.com", "family": 2}}).encode() + b"\0"
    def bconn():
        # blocking: a full backlog makes connect wait, not fail
        b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        b.connect(path)
        return b
    idle = [bconn() for i in range(1024)]
    time.sleep(0.3)
    x = bconn()
    x.settimeout(1.0)
    x.sendall(msg)
    try:
        x.recv(100)
        waited = False
    except socket.timeout:
        waited = True
    ok("the 1025th connection waits", waited)
    idle.pop().close()
    x.settimeout(5)
    ok("and is served when one closes", b"addresses" in x.recv(4096))
    x.close()
    s = idle[0]
    s.settimeout(5)
    s.sendall(msg)
    ok("an idle connection is served", b"addresses" in s.recv(4096))
    for s in idle:
        s.close()
else:
    print("SKIP: 1024 connections (open-file limit %d)" % hard)

# io.systemd.Resolve.Monitor (the caller here is root or stubd's own user)
import os
mpath = path + ".Monitor"
M = "io.systemd.Resolve.Monitor."
r = call(M + "DumpStatistics", {}, mpath)
st = r.get("parameters", {})
ok("DumpStatistics", st.get("cache", {}).get("hits", 0) >= 3 and
   st.get("cache", {}).get("size", 0) >= 3 and "transactions" in st and "dnssec" in st, r)
r = call(M + "ResetStatistics", {}, mpath)
ok("ResetStatistics", r == {"parameters": {}}, r)
r = call(M + "DumpStatistics", {}, mpath)
ok("counted from the reset", r.get("parameters", {}).get("cache", {}).get("hits") == 0, r)
r = call(M + "DumpCache", {}, mpath)
d = r.get("parameters", {}).get("dump", [])
ents = d[0].get("cache", []) if len(d) == 1 and d[0].get("protocol") == "dns" else []
def entry(name, t):
    return [e for e in ents if e["key"]["name"].lower() == name and e["key"]["type"] == t and
            e["key"]["class"] == 1]
w = entry("www.example.com", 1)
rr = w[0]["rrs"][0] if w and len(w[0].get("rrs", [])) == 1 else {}
raw = base64.b64decode(rr.get("raw", ""))
ok("DumpCache: a positive entry (key, rr with its address, raw, until)",
   rr.get("rr", {}).get("address") == [192, 0, 2, 7] and
   rr.get("rr", {}).get("key", {}).get("type") == 1 and raw[:17] == b"\x03www\x07example\x03com\x00" and
   raw[-4:] == bytes([192, 0, 2, 7]) and w[0].get("until", 0) > 0 and "type" not in w[0], w)
n = entry("nx.example.com", 1)
ok("DumpCache: NXDOMAIN as type", n and n[0].get("type") == "NXDOMAIN" and "rrs" not in n[0], n)
n = entry("v4only.example.com", 28)
ok("DumpCache: NODATA as rrs []", n and n[0].get("rrs") == [], n)
# hundreds of entries (NXDOMAIN answers, cached): one reply, written in
# parts, and the connection takes its next call after it
q0 = lambda i, name: (struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) +
                      b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" +
                      struct.pack(">HH", 1, 1))
u0 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u0.settimeout(2)
got = 0
for i in range(700):
    u0.sendto(q0(i, "n%d.example.com" % i), (addr, port))
    try:
        u0.recvfrom(4096)
        got += 1
    except socket.timeout:
        pass
u0.close()
s = conn(mpath)
s.sendall(json.dumps({"method": M + "DumpCache"}).encode() + b"\0" +
          json.dumps({"method": M + "DumpStatistics"}).encode() + b"\0")
rs = read_msgs(s, 2)
s.close()
big = rs[0].get("parameters", {}).get("dump", [{}])[0].get("cache", []) if rs else []
names = set(e["key"]["name"] for e in big)
ok("DumpCache: %d entries in one reply (700 asked, %d answered)" % (len(big), got),
   got == 700 and all("n%d.example.com" % i in names for i in range(700)), len(big))
ok("... and the call after it answered", len(rs) == 2 and "transactions" in rs[1].get("parameters", {}), rs[1:])
r = call(M + "DumpServerState", {}, mpath)
sv = {x["Server"]: x for x in r.get("parameters", {}).get("dump", [])}
lan = sv.get("127.0.0.94:%d" % okport, {})
ok("DumpServerState: every server", len(sv) == (4 if rooted else 3), r)
ok("DumpServerState: the answering server (system, verified UDP+EDNS0)",
   lan.get("Type") == "system" and lan.get("VerifiedFeatureLevel") == "UDP+EDNS0" and
   lan.get("PossibleFeatureLevel") == "UDP+EDNS0" and lan.get("DNSSECMode") == "no" and
   lan.get("FailedUDPAttempts") == 0 and "Interface" not in lan, lan)
to = [x for k, x in sv.items() if k.startswith("127.0.0.96:")]
ok("DumpServerState: the silent server (n/a, failed attempts)", to and
   to[0].get("VerifiedFeatureLevel") == "n/a" and to[0].get("FailedUDPAttempts", 0) >= 1, to)
if rooted:
    ll = [x for k, x in sv.items() if k.startswith("127.0.0.93:")]
    ok("DumpServerState: a server on a device names it", ll and ll[0].get("Interface") == "lo"
       and ll[0].get("InterfaceIndex") == socket.if_nametoindex("lo"), ll)
m = conn(mpath)
m.sendall(json.dumps({"method": M + "SubscribeQueryResults", "more": True}).encode() + b"\0")
first = read_msgs(m, 1)
ok("SubscribeQueryResults: ready", first and first[0].get("parameters", {}).get("ready") is True
   and first[0].get("continues") is True, first)
call(R + "ResolveHostname", {"name": "www.example.com", "family": 2})
u.sendto(q, (addr, port))
u.recvfrom(4096)
evs = read_msgs(m, 2)
m.close()
names = [e.get("parameters", {}).get("question", [{}])[0].get("name") for e in evs]
ok("SubscribeQueryResults: varlink and DNS questions streamed", names == ["www.example.com"] * 2 and
   all(e.get("continues") and e["parameters"].get("state") == "success" and
       e["parameters"].get("answer") for e in evs), evs)
# another user may resolve, not monitor
if os.getuid() == 0:
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rd)
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        out = [call(M + "DumpStatistics", {}, mpath), call(R + "ResolveHostname", {"name": "www.example.com"}),
               call(M + "DumpCache", {}, mpath), call(M + "DumpServerState", {}, mpath)]
        os.write(wr, json.dumps(out).encode())
        os._exit(0)
    os.close(wr)
    data = b""
    while True:
        d = os.read(rd, 65536)
        if not d:
            break
        data += d
    os.waitpid(pid, 0)
    out = json.loads(data)
    ok("monitor: PermissionDenied for another user", out[0].get("error") == "org.varlink.service.PermissionDenied", out[0])
    ok("resolve: open to another user", "error" not in out[1], out[1])
    ok("DumpCache, DumpServerState: PermissionDenied for another user",
       [o.get("error") for o in out[2:]] == ["org.varlink.service.PermissionDenied"] * 2, out[2:])
sys.exit(1 if fails else 0)
PY
[ $? -eq 0 ] || fail=1

# started as root and dropping to another user, stubd cannot unlink its
# sockets in a directory only root may change: the exit helper forked
# before the drop removes them (and the control socket) once it is gone
if [ "$(id -u)" -eq 0 ]; then
	du=stubd
	getent passwd "$du" >/dev/null 2>&1 || du=nobody
	mkdir "$tmp/run3"
	chmod 755 "$tmp/run3"
	cat >"$tmp/drop.conf" <<CONF
listen 127.0.0.97:$((base + 2))
control $tmp/run3/ctl
hosts none
resolved-compat yes
dbus no
user $du
server 127.0.0.94:$(cat "$tmp/p_ok")
CONF
	STUBD_RESOLVE_DIR=$tmp/run3 "$STUBD" -f -c "$tmp/drop.conf" 2>"$tmp/drop.err" &
	dp=$!
	i=0
	until [ -S "$tmp/run3/io.systemd.Resolve.Monitor" ] || [ $i -ge 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	sleep 0.3
	check "dropped to $du: the varlink sockets are there" \
		"$(ls "$tmp/run3" | grep -c '^io.systemd.Resolve')" 2
	check "dropped to $du: stubd runs as it" "$(ps -o user= -p $dp | tr -d ' ')" \
		"$(id -un "$du")"
	kill -TERM $dp
	wait $dp
	check "dropped to $du: exit 0" "$?" 0
	i=0
	# resolved's files (stub-resolv.conf, resolv.conf) stay, as resolved's do
	while ls "$tmp/run3" | grep -q '^io.systemd.Resolve' && [ $i -lt 20 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	check "after SIGTERM no socket is left ($(ls "$tmp/run3" | tr '\n' ' '))" \
		"$(ls "$tmp/run3" | grep -c "^io.systemd.Resolve")" 0
	[ $fail -eq 0 ] || cat "$tmp/drop.err"
else
	echo "SKIP: the exit helper after a privilege drop (needs root)"
fi
if [ $fail -ne 0 ]; then
	echo "--- stubd"
	cat "$tmp/stubd.err"
fi
exit $fail
