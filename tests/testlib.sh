# testlib.sh - what the shell tests share (sourced): skipping (exit 77,
# automake's SKIP), checking a value, an adapter's servers, waiting for a
# file to be written.

skip() { echo "SKIP: $*"; exit 77; }

fail=0
# check LABEL GOT WANT: ok when equal and not empty; else FAIL, fail=1
check() {
	if [ "$2" = "$3" ] && [ -n "$3" ]; then
		echo "ok: $1"
	else
		echo "FAIL: $1: got '$2', want '$3'"
		fail=1
	fi
}

# adapter_servers SOCKET ADAPTER: the adapter's servers as stubctl --json
# servers lists them, "ADDRESS/TRANSPORT/TLS-NAME/UPGRADE" sorted on one
# line ("none" when it has none); uses STUBCTL
adapter_servers() {
	"$STUBCTL" -s "$1" --json servers | python3 -c '
import json, sys
d = json.load(sys.stdin)
out = []
for a in d["adapters"]:
    if a["name"] != sys.argv[1]:
        continue
    for s in a["servers"]:
        out.append("%s/%s/%s/%s" % (s["address"], s["transport"], s.get("tls_name") or "-", s["upgrade"]))
print(" ".join(sorted(out)) or "none")' "$2"
}

# wait_file FILE: until it holds something, 5 s at most
wait_file() {
	_i=0
	while [ ! -s "$1" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
	[ -s "$1" ]
}

# Started as root, stubd drops to the user stubd when that user exists (the
# package makes it): the tests' files are root's, so they keep root.
KEEP_ROOT=""
[ "$(id -u)" -ne 0 ] || KEEP_ROOT="-u root"

# need_netns_exec NS: `ip netns exec` makes a mount namespace and remounts
# /sys in it, which fails in a chroot or container where / is not a mount
# point; skip saying so, rather than fail later ("fake upstreams did not
# start")
need_netns_exec() {
	_err=$(ip netns exec "$1" true 2>&1) ||
		skip "ip netns exec does not work here (it needs a mount namespace of its own, and / a mount point): $_err"
}

# private_bus DIR: a system bus of the test's own (dbus-daemon, listening
# on DIR/bus) that admits every uid, so another uid is a real other
# caller; sets bus_addr and bus_pid (the caller kills it).  Non-zero when
# it cannot start.
private_bus() {
	cat >"$1/bus.xml" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$1/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
XML
	dbus-daemon --config-file="$1/bus.xml" --fork --nosyslog --print-address=1 \
		--print-pid=3 >"$1/bus.addr" 3>"$1/bus.pid" || return 1
	bus_pid=$(cat "$1/bus.pid")
	bus_addr=$(head -1 "$1/bus.addr")
}

# wait_bus_name ADDR NAME: until NAME is owned on the bus, 5 s at most
wait_bus_name() {
	_i=0
	while ! busctl --address="$1" status "$2" >/dev/null 2>&1 && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}

# need_dbus_stubd: skip when $STUBD was built without D-Bus (libsystemd)
need_dbus_stubd() {
	printf 'dbus yes\n' >/tmp/stubd-dbus-probe.$$
	if "$STUBD" -t -c /tmp/stubd-dbus-probe.$$ 2>&1 | grep -q "without D-Bus"; then
		rm -f /tmp/stubd-dbus-probe.$$
		skip "stubd built without D-Bus support"
	fi
	rm -f /tmp/stubd-dbus-probe.$$
}
