#!/bin/sh
# nssresolve.sh - nss-resolve itself (Debian 12's libnss-resolve, taken
# from the package without installing it) loaded by glibc in a private
# mount namespace whose nsswitch.conf says
# `hosts: files resolve [!UNAVAIL=return] dns`, with stubd's varlink socket
# at /run/systemd/resolve/io.systemd.Resolve, no D-Bus and nothing on port
# 53 for nss-dns (/etc/resolv.conf points nowhere): getent ahosts
# resolves through stubd; NXDOMAIN gives getent's exit 2; getaddrinfo tells
# NXDOMAIN (EAI_NONAME) from "try again" (EAI_AGAIN); NODATA is "not
# found" (nss-resolve 252 maps it so); a link-local AAAA (from an adapter
# bound to lo) comes back with lo's index as its scope id.
# And Debian 12's own `resolvectl monitor` (RESOLVECTL, or on PATH; it
# wants a system bus, so a private dbus-daemon) shows dig's queries through
# io.systemd.Resolve.Monitor.
# Skipped where namespaces or the package cannot be had.
set -u
STUBD=${STUBD:-./stubd}
FAKEUP=${FAKEUP:-./tests/fakeup}

. "$(dirname "$0")/testlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (a mount namespace)"
command -v unshare >/dev/null 2>&1 || skip "unshare not installed"
command -v getent >/dev/null 2>&1 || skip "getent not installed"
PY=$(command -v python3) || skip "python3 not installed"
unshare -m true 2>/dev/null || skip "no mount namespaces here"
[ -d /run/systemd ] || skip "no /run/systemd to mount over"

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# libnss-resolve as Debian ships it: NSS_RESOLVE_DIR, or fetched here
lib=${NSS_RESOLVE_DIR:-}
if [ -z "$lib" ]; then
	(cd "$tmp" && apt-get download libnss-resolve >/dev/null 2>&1 &&
		dpkg-deb -x libnss-resolve_*.deb x) ||
		skip "cannot fetch libnss-resolve (apt-get download libnss-resolve)"
	lib=$tmp/x/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null ||
		gcc -print-multiarch)
fi
[ -f "$lib/libnss_resolve.so.2" ] || skip "no libnss_resolve.so.2 in $lib"

"$FAKEUP" 127.0.0.99 only-stubd.example A 300 192.0.2.77 only-stubd.example AAAA 300 2001:db8::77 \
	v4only.example A 300 192.0.2.78 >"$tmp/p_ok" &
pids="$pids $!"
"$FAKEUP" -m drop 127.0.0.100 >"$tmp/p_to" &
pids="$pids $!"
"$FAKEUP" 127.0.0.101 ll.ll.example AAAA 300 fe80::77 >"$tmp/p_ll" &
pids="$pids $!"
for f in p_ok p_to p_ll; do wait_file "$tmp/$f" || { echo "FAIL: fake upstreams did not start"; exit 1; }; done
base=$((30000 + $$ % 20000))
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.99:$base
control $tmp/ctl
hosts none
resolved-compat yes
dbus no
timeouts 0.2 0.4 0.4 0.8 1.6
exclude-time 2
adapter lan
server 127.0.0.99:$(cat "$tmp/p_ok")
adapter to default-route no
server 127.0.0.100:$(cat "$tmp/p_to")
domain to.example
adapter ll default-route no device lo
server 127.0.0.101:$(cat "$tmp/p_ll")
domain ll.example
CONF
printf 'hosts: files resolve [!UNAVAIL=return] dns\n' >"$tmp/nsswitch.conf"
# nss-dns behind it finds nothing on port 53 (SPEC 16: resolution goes
# through varlink alone)
printf 'nameserver 127.0.0.254\noptions timeout:1 attempts:1\n' >"$tmp/resolv.conf"

# resolvectl monitor: resolvectl, a private system bus and dig, or skipped
RESOLVECTL=${RESOLVECTL:-$(command -v resolvectl || true)}
mon=""
if [ -n "$RESOLVECTL" ] && [ -x "$RESOLVECTL" ] && command -v dbus-daemon >/dev/null 2>&1 &&
	command -v dig >/dev/null 2>&1; then
	if private_bus "$tmp"; then
		pids="$pids $bus_pid"
		mon=$bus_addr
	fi
fi
[ -n "$mon" ] || echo "SKIP: resolvectl monitor (no resolvectl, dbus-daemon or dig)"

# inside the namespace: its own /run/systemd and nsswitch.conf, stubd
# serving varlink there, glibc's clients
cat >"$tmp/inner.sh" <<INNER
mount --make-rprivate / || exit 1
mount --bind "$tmp/nsswitch.conf" /etc/nsswitch.conf || exit 1
if [ -e /etc/resolv.conf ]; then mount --bind "$tmp/resolv.conf" /etc/resolv.conf || exit 1; fi
mount -t tmpfs tmpfs /run/systemd || exit 1
mkdir -p /run/systemd/resolve
# STUBD_RESOLVE_DIR at the fixed path: the same sockets, and no listener
# on 127.0.0.53 in the machine's network namespace
STUBD_RESOLVE_DIR=/run/systemd/resolve "$STUBD" $KEEP_ROOT -f -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" </dev/null >/dev/null &
sp=\$!
i=0
while [ ! -S /run/systemd/resolve/io.systemd.Resolve ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done
if [ -n "$mon" ]; then
	DBUS_SYSTEM_BUS_ADDRESS="$mon" timeout 4 "$RESOLVECTL" monitor >"$tmp/monitor" 2>&1 </dev/null &
	sleep 1
	dig +short +time=1 +tries=1 -p $base @127.0.0.99 only-stubd.example A >/dev/null
	dig +short +time=1 +tries=1 -p $base @127.0.0.99 nx.example A >/dev/null
	sleep 0.5
fi
export LD_LIBRARY_PATH="$lib"
getent ahosts only-stubd.example >"$tmp/ahosts"; echo "ahosts \$?" >>"$tmp/rc"
getent ahosts nx.example >/dev/null; echo "nx \$?" >>"$tmp/rc"
"$PY" - >"$tmp/gai" <<'PY'
import socket
for n, fam in (("only-stubd.example", socket.AF_INET6), ("nx.example", socket.AF_UNSPEC),
               ("v4only.example", socket.AF_INET6), ("x.to.example", socket.AF_INET)):
    try:
        r = socket.getaddrinfo(n, None, fam, socket.SOCK_STREAM)
        print(n, "ok", r[0][4][0])
    except socket.gaierror as e:
        print(n, "gaierror", e.args[0])
# a link-local address: its scope id (twice: the second from the cache);
# AF_UNSPEC, as only gethostbyname4_r carries a scope (glibc asks it for
# AF_UNSPEC alone)
for i in range(2):
    try:
        r = [a for a in socket.getaddrinfo("ll.ll.example", None, socket.AF_UNSPEC,
                                           socket.SOCK_STREAM) if a[0] == socket.AF_INET6]
        print("scope", r[0][4][0].split("%")[0], r[0][4][3])
    except socket.gaierror as e:
        print("scope gaierror", e.args[0])
# gethostbyname2 tells NODATA from NXDOMAIN in h_errno (getaddrinfo does not)
import ctypes
libc = ctypes.CDLL("libc.so.6")
libc.gethostbyname2.restype = ctypes.c_void_p
libc.__h_errno_location.restype = ctypes.POINTER(ctypes.c_int)
for n in ("v4only.example", "nx.example"):
    r = libc.gethostbyname2(n.encode(), socket.AF_INET6)
    print("h_errno", n, "found" if r else libc.__h_errno_location().contents.value)
PY
kill \$sp
wait \$sp 2>/dev/null
wait
INNER
unshare -m sh "$tmp/inner.sh"

check "getent ahosts: exit 0" "$(grep '^ahosts' "$tmp/rc" | cut -d' ' -f2)" 0
check "getent ahosts: the address only stubd knows" \
	"$(awk '$2 == "STREAM" {print $1}' "$tmp/ahosts" | sort | tr '\n' ' ')" "192.0.2.77 2001:db8::77 "
check "getent ahosts NXDOMAIN: exit 2" "$(grep '^nx' "$tmp/rc" | cut -d' ' -f2)" 2
EAI_NONAME=$("$PY" -c 'import socket; print(socket.EAI_NONAME)')
EAI_AGAIN=$("$PY" -c 'import socket; print(socket.EAI_AGAIN)')
check "getaddrinfo AAAA" "$(grep '^only-stubd' "$tmp/gai")" "only-stubd.example ok 2001:db8::77"
check "getaddrinfo NXDOMAIN: EAI_NONAME" "$(grep '^nx' "$tmp/gai")" "nx.example gaierror $EAI_NONAME"
# netdb.h: HOST_NOT_FOUND 1, TRY_AGAIN 2.  nss-resolve 252 itself turns
# NoSuchResourceRecord (NODATA) into HOST_NOT_FOUND as it does NXDOMAIN
# (only its try-again errors differ); varlink.sh tells the two apart
check "gethostbyname2 NODATA: not found (not try-again, not dns)" \
	"$(grep '^h_errno v4only' "$tmp/gai")" "h_errno v4only.example 1"
check "gethostbyname2 NXDOMAIN: h_errno HOST_NOT_FOUND" "$(grep '^h_errno nx' "$tmp/gai")" \
	"h_errno nx.example 1"
lo=$(cat /sys/class/net/lo/ifindex)
check "getaddrinfo: a link-local AAAA with lo's scope id (miss, then cache)" \
	"$(grep '^scope' "$tmp/gai" | tr '\n' ' ')" "scope fe80::77 $lo scope fe80::77 $lo "
check "getaddrinfo, the schedule ran out: EAI_AGAIN" "$(grep '^x.to' "$tmp/gai")" \
	"x.to.example gaierror $EAI_AGAIN"
if [ -n "$mon" ]; then
	# (it goes on to see the getent queries too)
	for want in 'Q: only-stubd.example IN A$' 'A: only-stubd.example IN A 192.0.2.77' \
		'Q: nx.example IN A$' 'S: NXDOMAIN'; do
		check "resolvectl monitor shows '$want'" \
			"$(grep -q "$want" "$tmp/monitor" && echo yes)" yes
	done
fi
if [ $fail -ne 0 ]; then
	echo "--- stubd"
	cat "$tmp/stubd.err"
	cat "$tmp/gai" "$tmp/rc" "$tmp/monitor" 2>/dev/null
fi
exit $fail
