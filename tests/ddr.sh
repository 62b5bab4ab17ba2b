#!/bin/sh
# ddr.sh - DDR (SPEC 17, RFC 9462) against a "router" nobody here wrote: in
# a network namespace of its own, 10.53.0.1 runs unbound serving clear
# text (53), DNS over TLS (853) and `_dns.resolver.arpa SVCB`, with a
# certificate made at test time by openssl.  Under `encryption auto` the
# first query probes, stubd switches to the designated resolver within 1 s
# and a capture shows no packet to port 53 over the next 1,000 queries.
# Each rejection of SPEC 17 leaves the server in clear text, logged and
# counted; `opportunistic` takes an unverified twin without AD; `require`
# with nothing encrypted answering gives SERVFAIL + EDE 23 and no question
# in clear text; the DDR counters are in the Prometheus metrics, and the
# trace of a question asked again after discovery keeps the probe.
# Skipped without root, unshare, unbound, tcpdump, openssl, dig or curl.
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}

. "$(dirname "$0")/testlib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (a network namespace)"
for t in unshare unbound tcpdump openssl dig curl; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done
if [ -z "${DDR_INNER:-}" ]; then
	DDR_INNER=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up
R=10.53.0.1
ip addr add $R/32 dev lo || { echo "FAIL: cannot add an address in the namespace"; exit 1; }

tmp=$(mktemp -d)
chmod 755 "$tmp"
upid=""
spid=""
tpid=""
cleanup() {
	for p in $spid $upid $tpid; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ "$fail" = 0 ] && rm -rf "$tmp" || echo "kept $tmp"
}
trap cleanup EXIT

# mkcert NAME SAN: a self-signed certificate (its own trust anchor)
mkcert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj "/CN=$1" -addext "subjectAltName=$2" \
		-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null ||
		{ echo "FAIL: openssl"; exit 1; }
}

# router SVCB-RDATA [notls]: unbound on R with that designated resolver
router() {
	[ -n "$upid" ] && kill "$upid" 2>/dev/null && wait "$upid" 2>/dev/null
	tlsif="	interface: $R@853
	tls-port: 853
	tls-service-key: \"$tmp/key.pem\"
	tls-service-pem: \"$tmp/cert.pem\""
	[ "${2:-}" = notls ] && tlsif=""
	[ "${2:-}" = doh ] && tlsif="$tlsif
	interface: $R@443
	https-port: 443"
	cat >"$tmp/unbound.conf" <<EOF
server:
	interface: $R@53
$tlsif
	username: ""
	chroot: ""
	directory: "$tmp"
	pidfile: ""
	use-syslog: no
	logfile: ""
	verbosity: 0
	module-config: "iterator"
	access-control: 0.0.0.0/0 allow
	do-ip6: no
	local-zone: "resolver.arpa." static
	local-data: "_dns.resolver.arpa. 300 IN SVCB $1"
	local-zone: "example.test." redirect
	local-data: "example.test. 300 IN A 192.0.2.7"
remote-control:
	control-enable: no
EOF
	unbound -d -c "$tmp/unbound.conf" >"$tmp/unbound.log" 2>&1 &
	upid=$!
	i=0
	until dig +time=1 +tries=1 +short @$R up.example.test A 2>/dev/null | grep -q 192.0.2.7; do
		i=$((i + 1))
		[ $i -lt 50 ] || { echo "FAIL: unbound did not start"; cat "$tmp/unbound.log"; exit 1; }
		sleep 0.1
	done
}

# stubd POLICY [DEVICE]: a new daemon with only the router's address
# (on an adapter bound to DEVICE when given)
stubd_start() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	[ -f "$tmp/stubd.err" ] && cat "$tmp/stubd.err" >>"$tmp/stubd.all"
	rm -f "$tmp/ctl"
	cat >"$tmp/stubd.conf" <<EOF
listen 127.0.0.1:53
control $tmp/ctl
metrics 127.0.0.1:9153
hosts none
${2:+adapter lan device $2}
server $R
encryption $1
tls-ca ${DDR_CA:-$tmp/cert.pem}
timeouts 0.2 0.4 0.4 0.8 1.6
EOF
	"$STUBD" ${DDR_U-$KEEP_ROOT} -f -v -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
	spid=$!
	i=0
	until [ -S "$tmp/ctl" ] || [ $i -ge 500 ]; do sleep 0.01; i=$((i + 1)); done
}

# capture: packets to the router's port 53 from now on, in $tmp/cap
cap_start() {
	rm -f "$tmp/cap" "$tmp/cap.err" "$tmp/cap.txt"
	tcpdump -i lo -n -U --immediate-mode -w "$tmp/cap" "dst host $R and dst port 53" 2>"$tmp/cap.err" &
	tpid=$!
	i=0
	until grep -q listening "$tmp/cap.err" 2>/dev/null || [ $i -ge 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.3
}
cap_stop() {   # prints "PROBES QUESTIONS"
	sleep 0.2
	kill -INT "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	tpid=""
	tcpdump -n -r "$tmp/cap" 2>/dev/null >>"$tmp/cap.txt"
	echo "$(grep -c 'resolver.arpa' "$tmp/cap.txt") $(grep -vc 'resolver.arpa' "$tmp/cap.txt")"
}

servers() { "$STUBCTL" -s "$tmp/ctl" --json servers; }
# metric NAME: its value for the router's clear-text server (Prometheus)
metric() {
	curl -s --max-time 2 http://127.0.0.1:9153/metrics |
		sed -n "s/^$1{adapter=\"[^\"]*\",server=\"$R:53\"} //p"
}
field() { servers | tr ',' '\n' | sed -n "s/^\"$1\":\([^]}]*\).*/\1/p" | head -1 | tr -d '"'; }

# ---- auto: verified, switched, then nothing in clear text ----
mkcert dns.test "DNS:dns.test,IP:$R"
router "1 dns.test. alpn=dot port=853 ipv4hint=$R"
cap_start
ts=$(date +%s%N)
stubd_start auto
t0=$(date +%s%N)
trace=$("$STUBCTL" -s "$tmp/ctl" --json query q0.example.test A)
case $trace in
*'"phase":"ddr"'*) echo "ok: the first query's trace shows the probe (phase ddr)" ;;
*) echo "FAIL: no ddr phase in the trace: $trace"; fail=1 ;;
esac
i=0
until [ "$(field upgrade)" = ddr ] || [ $i -ge 40 ]; do sleep 0.025; i=$((i + 1)); done
t1=$(date +%s%N)
check "auto: upgrade" "$(field upgrade)" "ddr"
check "auto: twin" "$(field twin_address)" "$R:853"
check "auto: twin name" "$(field twin_name)" "dns.test"
check "auto: twin transport" "$(field twin_transport)" "tls"
check "metrics: DDR probes" "$(metric stubd_server_ddr_probes_total)" "1"
check "metrics: DDR upgrades" "$(metric stubd_server_ddr_upgrades_total)" "1"
check "metrics: DDR rejections" "$(metric stubd_server_ddr_rejections_total)" "0"
ms=$(((t1 - t0) / 1000000))
echo "measured: first query to upgrade ${ms} ms"
[ $ms -le 1000 ] || { echo "FAIL: switch took ${ms} ms (> 1 s)"; fail=1; }
# start to the first answer that came over the twin
until dig +time=1 +tries=1 +short @127.0.0.1 e0.example.test A | grep -q 192.0.2.7 &&
	[ "$(servers | tr '{' '\n' | grep "\"url\":\"tls://$R:853" | sed -n 's/.*"answers":\([0-9]*\).*/\1/p')" -ge 1 ] 2>/dev/null ||
	[ $(($(date +%s%N) - ts)) -gt 5000000000 ]; do sleep 0.01; done
te=$(date +%s%N)
echo "measured: stubd start to first encrypted answer $(((te - ts) / 1000000)) ms (start to control socket $(((t0 - ts) / 1000000)) ms)"
[ $(((te - ts) / 1000000)) -le 1000 ] ||
	{ echo "FAIL: no answer over the twin within 1 s of the start"; fail=1; }
# a client's own probe is answered by stubd: NODATA, nothing upstream
check "client's _dns.resolver.arpa SVCB" \
	"$(dig +time=2 +tries=1 @127.0.0.1 _dns.resolver.arpa SVCB |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p; s/.*ANSWER: \([0-9]*\).*/\1/p' | tr '\n' ' ')" "NOERROR 0 "
set -- $(cap_stop)
check "auto: the probe went out in clear text (once)" "$1" "1"
check "auto: questions in clear text before the switch" "$2" "1"
cap_start
n=0
while [ $n -lt 1000 ]; do echo "q$n.x.example.test A"; n=$((n + 1)); done >"$tmp/batch"
t2=$(date +%s%N)
dig +time=2 +tries=1 +short -p 53 @127.0.0.1 -f "$tmp/batch" >"$tmp/answers"
t3=$(date +%s%N)
first=$(grep -m1 -n 192.0.2.7 "$tmp/answers" >/dev/null && echo yes)
check "auto: 1000 answers" "$(grep -c '^192.0.2.7$' "$tmp/answers")" "1000"
set -- $(cap_stop)
check "auto: clear-text questions to $R:53 over 1000 queries" "$2" "0"
echo "measured: 1000 queries over the twin in $(((t3 - t2) / 1000000)) ms"
grep -q "DDR: .*upgraded to tls" "$tmp/stubd.err" && echo "ok: upgrade logged" ||
	{ echo "FAIL: no upgrade in the log"; fail=1; }

# ---- auto, DNS over HTTPS (h2 with a dohpath) ----
router "1 dns.test. alpn=h2 port=443 key7=/dns-query{?dns}" doh
stubd_start auto
cap_start
dig +time=2 +tries=1 +short @127.0.0.1 h0.example.test A >/dev/null
i=0
until [ "$(field upgrade)" = ddr ] || [ $i -ge 40 ]; do sleep 0.025; i=$((i + 1)); done
check "doh: upgrade" "$(field upgrade)" "ddr"
check "doh: twin transport" "$(field twin_transport)" "https"
check "doh: twin" "$(field twin_address)" "$R:443"
n=0
while [ $n -lt 100 ]; do echo "h$n.y.example.test A"; n=$((n + 1)); done >"$tmp/batch"
dig +time=2 +tries=1 +short -p 53 @127.0.0.1 -f "$tmp/batch" >"$tmp/answers"
check "doh: 100 answers" "$(grep -c '^192.0.2.7$' "$tmp/answers")" "100"
set -- $(cap_stop)
check "doh: clear-text questions (the first only)" "$2" "1"

# ---- rejections: the server stays in clear text, logged and counted ----
reject() {   # reject LABEL SAN SVCB
	mkcert dns.test "$2"
	router "$3"
	stubd_start auto
	dig +time=2 +tries=1 +short @127.0.0.1 r0.example.test A >/dev/null
	i=0
	until [ "$(field ddr_rejections)" = 1 ] || [ $i -ge 40 ]; do sleep 0.05; i=$((i + 1)); done
	check "$1: counted" "$(field ddr_rejections)" "1"
	check "$1: in the metrics" "$(metric stubd_server_ddr_rejections_total)" "1"
	check "$1: no upgrade in the metrics" "$(metric stubd_server_ddr_upgrades_total)" "0"
	check "$1: stays in clear text" "$(field upgrade)" "null"
	grep -q "DDR: .*rejected" "$tmp/stubd.err" && echo "ok: $1: logged" ||
		{ echo "FAIL: $1: not logged"; cat "$tmp/stubd.err"; fail=1; }
	check "$1: still answers (clear text)" \
		"$(dig +time=2 +tries=1 +short @127.0.0.1 r1.example.test A)" "192.0.2.7"
}
reject "no IP SAN" "DNS:dns.test" "1 dns.test. alpn=dot port=853 ipv4hint=$R"
reject "certificate for another name" "DNS:other.test,IP:$R" "1 dns.test. alpn=dot port=853"
reject "TargetName ." "DNS:dns.test,IP:$R" "1 . alpn=dot port=853"
reject "unknown mandatory key" "DNS:dns.test,IP:$R" \
	"1 dns.test. mandatory=key65000 alpn=dot port=853 key65000=x"
reject "no supported ALPN" "DNS:dns.test,IP:$R" "1 dns.test. alpn=h3 port=853"

# ---- opportunistic: same private address, unverified, never AD ----
mkcert dns.test "DNS:dns.test"
router "1 dns.test. alpn=dot port=853"
stubd_start opportunistic
dig +time=2 +tries=1 +short @127.0.0.1 o0.example.test A >/dev/null
i=0
until [ "$(field upgrade)" = ddr-opportunistic ] || [ $i -ge 40 ]; do sleep 0.05; i=$((i + 1)); done
check "opportunistic: upgrade" "$(field upgrade)" "ddr-opportunistic"
tw=$(servers | tr '{' '\n' | grep "\"url\":\"tls://$R:853")
case $tw in
*'"trust_ad":false'*) echo "ok: opportunistic twin not trusted for AD" ;;
*) echo "FAIL: opportunistic twin: $tw"; fail=1 ;;
esac
flags=$(dig +time=2 +tries=1 +dnssec @127.0.0.1 o1.example.test A | sed -n 's/.*flags: \([a-z ]*\);.*/\1/p')
case " $flags " in
*" ad "*) echo "FAIL: AD set under opportunistic ($flags)"; fail=1 ;;
*) echo "ok: no AD under opportunistic" ;;
esac

# ---- require, nothing encrypted answering: SERVFAIL + EDE 23, no question in clear ----
mkcert dns.test "DNS:dns.test,IP:$R"
router "1 dns.test. alpn=dot port=853" notls
stubd_start require
cap_start
out=$(dig +time=8 +tries=1 @127.0.0.1 s0.example.test A)
case $out in
*SERVFAIL*'EDE: 23'*) echo "ok: require: SERVFAIL with EDE 23" ;;
*) echo "FAIL: require: $out"; fail=1 ;;
esac
set -- $(cap_stop)
check "require: clear-text questions to $R:53" "$2" "0"
[ "$1" -ge 1 ] && echo "ok: require: the probe went out" || { echo "FAIL: require: no probe"; fail=1; }


# ---- require, the twin answering: the first question waits for discovery ----
router "1 dns.test. alpn=dot port=853"
stubd_start require lo
cap_start
trace=$("$STUBCTL" -s "$tmp/ctl" --json query w0.example.test A)
case $trace in
*192.0.2.7*) echo "ok: require: the first question answered over the twin" ;;
*) echo "FAIL: require: no answer: $trace"; fail=1 ;;
esac
# asked again on the engine discovery brought: the trace keeps the probe
case $trace in
*'"phase":"ddr"'*'"transport":"tls"'*) echo "ok: require: the trace shows the probe, then tls" ;;
*) echo "FAIL: require: the trace lacks the probe: $trace"; fail=1 ;;
esac
check "require: upgrade" "$(field upgrade)" "ddr"
set -- $(cap_stop)
check "require: clear-text questions to $R:53" "$2" "0"
check "require: one probe" "$1" "1"

# ---- a link change probes again ----
cap_start
ip addr add 10.53.0.9/32 dev lo
sleep 0.3
dig +time=2 +tries=1 +short @127.0.0.1 w1.example.test A >/dev/null
i=0
until [ "$(field ddr_probes)" = 2 ] || [ $i -ge 40 ]; do sleep 0.05; i=$((i + 1)); done
check "link change: probed again" "$(field ddr_probes)" "2"
set -- $(cap_stop)
check "link change: the probe on the wire" "$1" "1"
check "link change: clear-text questions" "$2" "0"
check "link change: still upgraded" "$(field upgrade)" "ddr"

# ---- a trust store only root may read: read at start, before the
# privileges go, not by the first handshake (on the loop, too late) ----
if id stubd >/dev/null 2>&1; then
	cp "$tmp/cert.pem" "$tmp/root-only.pem"
	chmod 600 "$tmp/root-only.pem"
	DDR_CA=$tmp/root-only.pem DDR_U="" stubd_start auto
	dig +time=2 +tries=1 +short @127.0.0.1 r0.example.test A >/dev/null
	i=0
	until [ "$(field upgrade)" = ddr ] || [ $i -ge 40 ]; do sleep 0.05; i=$((i + 1)); done
	check "root-only trust store: upgraded as user stubd" "$(field upgrade)" "ddr"
	check "root-only trust store: no rejection" "$(field ddr_rejections)" "0"
else
	echo "SKIP: a root-only trust store (no user stubd)"
fi

exit $fail
