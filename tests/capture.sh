#!/bin/sh
# capture.sh - SPEC 18 / issue 25, seen on the wire: a blocked name (each
# list format and a `rule ... block`), a name with local data and a hosts
# name answer HTTPS, SVCB and TXT (and A) themselves: tcpdump on loopback,
# filtered on the fake upstream's port, sees 0 packets for them, and the
# fake upstream's own arrival log agrees.  A forwarded name asked at the
# end shows the capture works (its packet is seen).  Needs root (tcpdump),
# tcpdump and dig; skipped without them.
set -u
STUBD=${STUBD:-./stubd}
FAKEUP=${FAKEUP:-./tests/fakeup}

. "$(dirname "$0")/testlib.sh"
[ "$(id -u)" -eq 0 ] || skip "tcpdump needs root"
command -v tcpdump >/dev/null 2>&1 || skip "tcpdump not installed"
command -v dig >/dev/null 2>&1 || skip "dig not installed"

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

"$FAKEUP" -l 127.0.0.94 www.example.com TXT 300 v=spf1 >"$tmp/fake.out" &
fpid=$!
pids="$pids $fpid"
wait_file "$tmp/fake.out" || { echo "FAIL: the fake upstream did not start"; exit 1; }
fport=$(head -1 "$tmp/fake.out")
base=$((30000 + ($$ + 7) % 20000))

printf '192.0.2.50 printer.lan\n' >"$tmp/hosts"
printf '0.0.0.0 hb.example\n' >"$tmp/l.hosts"
printf 'dom.example\n' >"$tmp/l.domains"
printf '*.wild.example\n' >"$tmp/l.wild"
printf '! x\n||ads.example^\n' >"$tmp/l.adblock"
printf '$TTL 60\nnx.rpz.example CNAME .\nnd.rpz.example CNAME *.\n' >"$tmp/l.rpz"
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.95:$base
control $tmp/ctl
hosts $tmp/hosts
server 127.0.0.94:$fport
blocklist $tmp/l.hosts format hosts
blocklist $tmp/l.domains format domains
blocklist $tmp/l.wild format wildcard
blocklist $tmp/l.adblock format adblock
blocklist $tmp/l.rpz format rpz
rule rule.example block
rule nas.lan answer A 192.0.2.9
CONF

# the capture first: every packet to or from the fake upstream's port
# (--immediate-mode: no packet waits in a kernel block when tcpdump stops)
tcpdump -i lo -n -U --immediate-mode -Z root -w "$tmp/cap.pcap" "port $fport" 2>"$tmp/tcpdump.err" &
tpid=$!
pids="$pids $tpid"
i=0
until grep -q 'listening on' "$tmp/tcpdump.err"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "FAIL: tcpdump did not start"; cat "$tmp/tcpdump.err"; exit 1; }
	sleep 0.05
done

"$STUBD" $KEEP_ROOT -f -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
pids="$pids $!"
i=0
until dig +time=1 +tries=1 +short -p "$base" @127.0.0.95 printer.lan A 2>/dev/null |
	grep -q 192.0.2.50; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "FAIL: stubd did not start"; cat "$tmp/stubd.err"; exit 1; }
	sleep 0.1
done

names="hb.example dom.example x.wild.example ads.example deep.ads.example nx.rpz.example
nd.rpz.example rule.example x.rule.example nas.lan printer.lan"
asked=0
unanswered=""
for n in $names; do
	for t in HTTPS SVCB TXT A; do
		out=$(dig +time=2 +tries=1 +noall +comments -p "$base" @127.0.0.95 "$n" "$t" 2>&1)
		asked=$((asked + 1))
		case "$out" in
		*"status: NOERROR"* | *"status: NXDOMAIN"*) ;;
		*) unanswered="$unanswered $n/$t" ;;
		esac
	done
done
check "every local question answered ($asked)" "${unanswered:-none}" "none"
sleep 0.3
# the capture's positive control: a forwarded name reaches the upstream
dig +time=2 +tries=1 +short -p "$base" @127.0.0.95 www.example.com TXT >"$tmp/ctrl" 2>&1
check "a forwarded name is answered by the fake upstream" "$(grep -c spf1 "$tmp/ctrl")" "1"
sleep 1
kill -TERM "$tpid"
wait "$tpid" 2>/dev/null
kill -TERM "$fpid"
wait "$fpid" 2>/dev/null

tcpdump -r "$tmp/cap.pcap" -n -A 2>/dev/null >"$tmp/cap.txt"
total=$(grep -c '^[0-9:.]* IP ' "$tmp/cap.txt")
# names in a DNS packet are labels: ".ads.example" in tcpdump's ASCII
leaked=""
for n in hb.example dom.example wild.example ads.example rpz.example rule.example nas.lan printer.lan; do
	grep -q "$(echo "$n" | sed 's/\./\\./g')" "$tmp/cap.txt" && leaked="$leaked $n"
	sed 1d "$tmp/fake.out" | grep -Eq "[ .]$(echo "$n" | sed 's/\./\\./g') " &&
		leaked="$leaked $n(arrived)"
done
echo "capture: $total packets on port $fport in all"
check "packets for blocked, local and hosts names on the wire (tcpdump) or at the upstream" \
	"${leaked:-none}" "none"
check "the capture saw the forwarded name" \
	"$(grep -c 'www.example.com' "$tmp/cap.txt" | awk '{print ($1 > 0) ? "yes" : "no"}')" "yes"
check "the fake upstream saw the forwarded name" \
	"$(sed 1d "$tmp/fake.out" | grep -c ' www.example.com ')" "1"
exit $fail
