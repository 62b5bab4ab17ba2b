#!/bin/sh
# realclients.sh - stubd behind clients nobody here wrote: dig, host, kdig
# (when installed) and glibc's resolver (getent ahosts in a private mount
# namespace whose /etc/resolv.conf points at stubd).  Answers are compared
# with asking the fake upstream directly.  Needs root (port 53 and mount
# namespaces); skipped otherwise.
set -u
STUBD=${STUBD:-./stubd}
FAKEUP=${FAKEUP:-./tests/fakeup}
ADDR=127.0.0.153

. "$(dirname "$0")/testlib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root"
for t in dig host getent unshare mount; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done

tmp=$(mktemp -d)
fpid=""
spid=""
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	[ -n "$fpid" ] && kill "$fpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

"$FAKEUP" 127.0.0.31 \
	www.example.test A 300 192.0.2.7 \
	www.example.test AAAA 300 2001:db8::7 \
	example.test MX 300 "10 mail.example.test" \
	example.test TXT 300 "hello from the fake upstream" \
	_sip._udp.example.test SRV 300 "0 5 5060 sip.example.test" >"$tmp/port" &
fpid=$!
wait_file "$tmp/port"
port=$(cat "$tmp/port")
[ -n "$port" ] || { echo "FAIL: fake upstream did not start"; exit 1; }

"$STUBD" $KEEP_ROOT -f -l "$ADDR:53" -s "127.0.0.31:$port" -H none -C "$tmp/ctl" 2>"$tmp/stubd.err" &
spid=$!
i=0
until dig +time=1 +tries=1 +short @"$ADDR" www.example.test A >/dev/null 2>&1; do
	i=$((i + 1))
	if grep -q "cannot listen" "$tmp/stubd.err" 2>/dev/null; then
		skip "$ADDR:53 is taken here: $(cat "$tmp/stubd.err")"
	fi
	[ $i -lt 50 ] || { echo "FAIL: stubd did not start"; cat "$tmp/stubd.err"; exit 1; }
	sleep 0.1
done


for type in A AAAA MX TXT; do
	name=www.example.test
	[ "$type" = MX ] || [ "$type" = TXT ] && name=example.test
	want=$(dig +short @127.0.0.31 -p "$port" "$name" "$type" | sort)
	check "dig $type" "$(dig +short @"$ADDR" "$name" "$type" | sort)" "$want"
	check "dig +tcp $type" "$(dig +tcp +short @"$ADDR" "$name" "$type" | sort)" "$want"
done
want=$(dig +short @127.0.0.31 -p "$port" _sip._udp.example.test SRV)
check "dig SRV" "$(dig +short @"$ADDR" _sip._udp.example.test SRV)" "$want"
check "dig NXDOMAIN" "$(dig @"$ADDR" nothere.example.test A | grep -o 'status: [A-Z]*')" \
	"status: NXDOMAIN"

check "host" "$(host -t A www.example.test "$ADDR" | grep -o '192.0.2.7')" "192.0.2.7"
check "host -t MX" "$(host -t MX example.test "$ADDR" | grep -o '10 mail.example.test')" \
	"10 mail.example.test"

if command -v kdig >/dev/null 2>&1; then
	check "kdig" "$(kdig +short @"$ADDR" www.example.test A)" "192.0.2.7"
else
	echo "note: kdig not installed, skipped"
fi

printf 'nameserver %s\noptions attempts:1 timeout:2\n' "$ADDR" >"$tmp/resolv.conf"
if unshare -m sh -c "mount --bind '$tmp/resolv.conf' /etc/resolv.conf" 2>/dev/null; then
	got=$(unshare -m sh -c "mount --bind '$tmp/resolv.conf' /etc/resolv.conf && \
		getent ahosts www.example.test" | awk '{print $1}' | sort -u | tr '\n' ' ')
	check "getent ahosts (glibc)" "$got" "192.0.2.7 2001:db8::7 "
else
	echo "note: no private mount namespace here, glibc check skipped"
fi

kill "$spid"
wait "$spid"
rc=$?
spid=""
check "stubd clean exit" "$rc" "0"
exit $fail
