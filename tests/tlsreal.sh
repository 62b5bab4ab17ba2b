#!/bin/sh
# tlsreal.sh - stubd forwarding over encrypted transports to servers nobody
# here wrote (SPEC 12): unbound serving DNS over TLS and dnsdist serving DNS
# over HTTPS on loopback, both in front of the in-tree fake upstream, with a
# certificate made at test time.  stubd's answers must equal those of kdig
# asking the same server over the same transport.  Skipped when unbound,
# dnsdist or kdig is not installed.
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}
FAKEUP=${FAKEUP:-./tests/fakeup}

. "$(dirname "$0")/testlib.sh"
for t in unbound dnsdist kdig; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ "$fail" = 0 ] && rm -rf "$tmp" || echo "kept $tmp"
}
trap cleanup EXIT


base=$((20000 + $$ % 20000))
dot_port=$base
doh_port=$((base + 1))
dist_port=$((base + 2))
stubd_port=$((base + 3))

"$FAKEUP" -g dns.test "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/pin" ||
	{ echo "FAIL: cannot make a certificate"; exit 1; }
"$FAKEUP" 127.0.0.71 \
	www.example.com A 300 192.0.2.7 \
	www.example.com AAAA 300 2001:db8::7 \
	example.com MX 300 "10 mail.example.com" \
	example.com TXT 300 "hello over an encrypted transport" >"$tmp/fport" &
pids="$pids $!"
wait_file "$tmp/fport" || { echo "FAIL: fake upstream did not start"; exit 1; }
fport=$(cat "$tmp/fport")

# unbound: DNS over TLS on 127.0.0.72, forwarding to the fake upstream
cat >"$tmp/unbound.conf" <<EOF
server:
	interface: 127.0.0.72@$dot_port
	tls-port: $dot_port
	tls-service-key: "$tmp/key.pem"
	tls-service-pem: "$tmp/cert.pem"
	port: $dot_port
	do-not-query-localhost: no
	username: ""
	chroot: ""
	directory: "$tmp"
	pidfile: ""
	use-syslog: no
	logfile: ""
	verbosity: 0
	module-config: "iterator"
	access-control: 127.0.0.0/8 allow
	qname-minimisation: no
	do-ip6: no
	cache-max-ttl: 0
remote-control:
	control-enable: no
forward-zone:
	name: "."
	forward-addr: 127.0.0.71@$fport
EOF
unbound -d -c "$tmp/unbound.conf" >"$tmp/unbound.log" 2>&1 &
pids="$pids $!"

# dnsdist: DNS over HTTPS on 127.0.0.73, in front of the fake upstream
cat >"$tmp/dnsdist.conf" <<EOF
setLocal("127.0.0.73:$dist_port")
addDOHLocal("127.0.0.73:$doh_port", "$tmp/cert.pem", "$tmp/key.pem", "/dns-query")
newServer({address="127.0.0.71:$fport"})
setSecurityPollSuffix("")
EOF
dnsdist --supervised --disable-syslog -C "$tmp/dnsdist.conf" >"$tmp/dnsdist.log" 2>&1 &
pids="$pids $!"

# both up: kdig gets an answer from each
i=0
until kdig +time=1 +retry=0 +short +tls +tls-ca="$tmp/cert.pem" +tls-hostname=dns.test \
	-p "$dot_port" @127.0.0.72 www.example.com A 2>/dev/null | grep -q 192.0.2.7; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "FAIL: unbound did not start"; cat "$tmp/unbound.log"; exit 1; }
	sleep 0.1
done
i=0
until kdig +time=1 +retry=0 +short +https +tls-ca="$tmp/cert.pem" +tls-hostname=dns.test \
	-p "$doh_port" @127.0.0.73 www.example.com A 2>/dev/null | grep -q 192.0.2.7; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "FAIL: dnsdist did not start"; cat "$tmp/dnsdist.log"; exit 1; }
	sleep 0.1
done

cat >"$tmp/stubd.conf" <<EOF
listen 127.0.0.74:$stubd_port
control $tmp/ctl
hosts none
adapter dot metric 1
server 127.0.0.72:$dot_port tls dns.test
adapter doh metric 2
server https://dns.test/dns-query 127.0.0.73:$doh_port
tls-ca $tmp/cert.pem
EOF

# records of an answer, TTL left out (kdig and dig print them alike)
records() { awk '!/^;/ && NF >= 5 { $2 = ""; print }' | sort; }

compare() {   # compare LABEL KDIG-TRANSPORT-ARGS...
	label=$1
	shift
	for q in "www.example.com A" "www.example.com AAAA" "example.com MX" \
		"example.com TXT" "nx.example.com A"; do
		# shellcheck disable=SC2086
		want=$(kdig +time=2 +retry=0 "$@" +tls-ca="$tmp/cert.pem" +tls-hostname=dns.test \
			$q | records)
		wrc=$(kdig +time=2 +retry=0 "$@" +tls-ca="$tmp/cert.pem" +tls-hostname=dns.test \
			$q | sed -n 's/.*status: \([A-Z][A-Z]*\).*/\1/p')
		# shellcheck disable=SC2086
		got=$(kdig +time=3 +retry=0 -p "$stubd_port" @127.0.0.74 $q | records)
		grc=$(kdig +time=3 +retry=0 -p "$stubd_port" @127.0.0.74 $q |
			sed -n 's/.*status: \([A-Z][A-Z]*\).*/\1/p')
		check "$label $q: status" "$grc" "$wrc"
		[ -z "$want" ] && [ -z "$got" ] && continue
		check "$label $q: records" "$got" "$want"
	done
}

# DoT first: the dot adapter is preferred
"$STUBD" $KEEP_ROOT -f -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
spid=$!
pids="$pids $spid"
i=0
until kdig +time=1 +retry=0 +short -p "$stubd_port" @127.0.0.74 www.example.com A \
	2>/dev/null | grep -q 192.0.2.7; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "FAIL: stubd did not start"; cat "$tmp/stubd.err"; exit 1; }
	sleep 0.1
done
compare "unbound DoT" +tls -p "$dot_port" @127.0.0.72
servers=$("$STUBCTL" -s "$tmp/ctl" --json servers)
case $servers in
*'"transport":"tls","tls_name":"dns.test"'*'"tls_state":"connected","handshakes":1,'*)
	echo "ok: one DoT connection, connected" ;;
*) echo "FAIL: servers after DoT: $servers"; fail=1 ;;
esac
kill "$spid"
wait "$spid" 2>/dev/null

# DoH alone: a new daemon, cold
sed -i "/^adapter dot/d; /^server 127.0.0.72/d" "$tmp/stubd.conf"
"$STUBD" $KEEP_ROOT -f -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
spid=$!
pids="$pids $spid"
sleep 0.3
compare "dnsdist DoH" +https -p "$doh_port" @127.0.0.73
servers=$("$STUBCTL" -s "$tmp/ctl" --json servers)
case $servers in
*'"transport":"https"'*'"tls_state":"connected"'*)
	echo "ok: DoH connected" ;;
*) echo "FAIL: servers after DoH: $servers"; fail=1 ;;
esac
exit $fail
