#!/bin/sh
# differential.sh - stubd against servers nobody here wrote (SPEC 5c, 7):
# NSD serves the zone set of tests/data/diff (CNAME chains in and across
# zones, DNAME, wildcards, empty non-terminals, escaped names, a 63-byte
# label, an unknown type, negative answers whose SOA TTL differs from
# MINIMUM, a delegation, answers over 512 and over 1232 bytes, a zone
# signed here at test time); every probe of tests/data/diff/probes is
# sent to NSD, then twice to stubd forwarding to it (miss, then hit), and
# tests/diff.py compares them field by field.  A validating unbound in
# front of NSD, with the signed zone's key as trust anchor, serves a second
# stubd for the CD cases (a bogus name stays SERVFAIL without CD after a
# CD query got its data).  A third stubd asks NSD through a proxy
# (diff.py --proxy) that upper-cases the question and puts OPT before the
# other additional records.  Bounded to about a minute; figures by
# category and the failing probes are printed.  Skipped when nsd, unbound, ldns-signzone or
# python3 with dnspython is missing, or when NSD or unbound cannot run here.
set -u
STUBD=${STUBD:-./stubd}
TESTDATA=${TESTDATA:-$(dirname "$0")/data}
DATA=$TESTDATA/diff

. "$(dirname "$0")/testlib.sh"
for t in nsd unbound ldns-keygen ldns-signzone dig; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || skip "$t not installed"
done
PATH=$PATH:/usr/sbin
# Debian's python3 first (the module is Debian's python3-dnspython)
PY=""
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import dns.message, dns.rdata' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || skip "python3 with python3-dnspython not installed"
[ -r "$DATA/probes" ] || { echo "FAIL: no probe list in $DATA"; exit 1; }
# the comparator first: SPEC's differences pass, any other is caught
"$PY" "$(dirname "$0")/diff.py" --selftest || { echo "FAIL: the comparator"; exit 1; }

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ "$fail" = 0 ] && rm -rf "$tmp" || echo "kept $tmp"
}
trap cleanup EXIT

# ports below the ephemeral range; addresses of this test only
base=$((21000 + $$ % 9000))
nsd_port=$base
ub_port=$((base + 1))
s1_port=$((base + 2))
s2_port=$((base + 3))
px_port=$((base + 4))
s3_port=$((base + 5))
NSD_IP=127.0.0.171
UB_IP=127.0.0.172
S1_IP=127.0.0.173
S2_IP=127.0.0.174
PX_IP=127.0.0.175
S3_IP=127.0.0.176

mkdir "$tmp/zones"
cp "$DATA"/*.zone "$tmp/zones/"
chmod u+w "$tmp/zones"/*

# sign sig.test (NSEC, ECDSA P-256), then break bogus, bogus2, bogus3:
# records changed after signing, their RRSIGs no longer verify
(
	cd "$tmp/zones" || exit 1
	ksk=$(ldns-keygen -a ECDSAP256SHA256 -k sig.test) || exit 1
	zsk=$(ldns-keygen -a ECDSAP256SHA256 sig.test) || exit 1
	ldns-signzone -f sig.test.zone.signed sig.test.zone "$ksk" "$zsk" || exit 1
	cp "$ksk.key" ../anchor.key
) >"$tmp/sign.log" 2>&1 || { cat "$tmp/sign.log"; echo "FAIL: cannot sign the zone"; fail=1; exit 1; }
sed -e 's/192\.0\.2\.66/192.0.2.99/' -e 's/192\.0\.2\.67/192.0.2.98/' \
	-e 's/192\.0\.2\.68/192.0.2.97/' "$tmp/zones/sig.test.zone.signed" >"$tmp/zones/sig.test.signed"
grep -q '192\.0\.2\.99' "$tmp/zones/sig.test.signed" || { echo "FAIL: bogus not edited"; fail=1; exit 1; }

cat >"$tmp/nsd.conf" <<EOF
server:
	ip-address: $NSD_IP@$nsd_port
	port: $nsd_port
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$tmp/zones"
	database: ""
	zonelistfile: "$tmp/zone.list"
	xfrdfile: "$tmp/xfrd.state"
	xfrdir: "$tmp"
	pidfile: "$tmp/nsd.pid"
	logfile: "$tmp/nsd.log"
	server-count: 1
	tcp-count: 200
	verbosity: 1
	hide-version: yes
	refuse-any: no
	round-robin: no
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: diff.test
	zonefile: diff.test.zone
zone:
	name: other.test
	zonefile: other.test.zone
zone:
	name: sig.test
	zonefile: sig.test.signed
zone:
	name: dyn.test
	zonefile: dyn.test.zone
EOF
nsd -d -c "$tmp/nsd.conf" >"$tmp/nsd.out" 2>&1 &
nsd_pid=$!
pids="$pids $nsd_pid"
i=0
until dig +time=1 +tries=1 +short -p "$nsd_port" @$NSD_IP diff.test SOA 2>/dev/null | grep -q host; do
	i=$((i + 1))
	if [ $i -ge 50 ] || ! kill -0 "$nsd_pid" 2>/dev/null; then
		cat "$tmp/nsd.out" "$tmp/nsd.log" 2>/dev/null
		skip "NSD does not run here"
	fi
	sleep 0.1
done

# a validating unbound in front of NSD, trusting the key signed with
cat >"$tmp/unbound.conf" <<EOF
server:
	interface: $UB_IP@$ub_port
	port: $ub_port
	do-not-query-localhost: no
	username: ""
	chroot: ""
	directory: "$tmp"
	pidfile: ""
	use-syslog: no
	logfile: ""
	verbosity: 0
	module-config: "validator iterator"
	access-control: 127.0.0.0/8 allow
	qname-minimisation: no
	do-ip6: no
	trust-anchor-file: "$tmp/anchor.key"
	local-zone: "test." nodefault
	val-log-level: 0
remote-control:
	control-enable: no
stub-zone:
	name: "sig.test"
	stub-addr: $NSD_IP@$nsd_port
EOF
unbound -d -c "$tmp/unbound.conf" >"$tmp/unbound.log" 2>&1 &
ub_pid=$!
pids="$pids $ub_pid"
i=0
until dig +time=1 +tries=1 +short -p "$ub_port" @$UB_IP www.sig.test A 2>/dev/null | grep -q 192.0.2.90; do
	i=$((i + 1))
	if [ $i -ge 50 ] || ! kill -0 "$ub_pid" 2>/dev/null; then
		cat "$tmp/unbound.log"
		skip "unbound does not run here"
	fi
	sleep 0.1
done

# a proxy in front of NSD answering with the question upper-cased and OPT
# before the other additional records
"$PY" "$(dirname "$0")/diff.py" --proxy "$PX_IP:$px_port" "$NSD_IP:$nsd_port" >"$tmp/proxy.out" 2>&1 &
pids="$pids $!"
wait_file "$tmp/proxy.out" && grep -q ready "$tmp/proxy.out" ||
	{ cat "$tmp/proxy.out"; echo "FAIL: the proxy did not start"; fail=1; exit 1; }

# stubd 1 forwards to NSD, stubd 2 to unbound, stubd 3 to the proxy;
# scaled schedule
for n in 1 2 3; do
	case $n in
	1) ip=$S1_IP port=$s1_port up=$NSD_IP:$nsd_port name=a.diff.test. ;;
	2) ip=$S2_IP port=$s2_port up=$UB_IP:$ub_port name=www.sig.test. ;;
	3) ip=$S3_IP port=$s3_port up=$PX_IP:$px_port name=a.diff.test. ;;
	esac
	cat >"$tmp/stubd$n.conf" <<EOF
listen $ip:$port
control off
hosts none
timeouts 0.2 0.4 0.4 0.8 1.6
exclude-time 2
adapter lan
server $up
EOF
	"$STUBD" $KEEP_ROOT -f -c "$tmp/stubd$n.conf" 2>"$tmp/stubd$n.err" &
	spid=$!
	pids="$pids $spid"
	i=0
	# up when it answers at all (stubd 3 may fail the proxy's answers)
	until dig +time=5 +tries=1 -p "$port" @$ip $name A 2>/dev/null | grep -q "status:"; do
		i=$((i + 1))
		[ $i -lt 50 ] && kill -0 "$spid" 2>/dev/null ||
			{ echo "FAIL: stubd $n did not start"; cat "$tmp/stubd$n.err"; fail=1; exit 1; }
		sleep 0.1
	done
done

"$PY" "$(dirname "$0")/diff.py" \
	--auth "$NSD_IP:$nsd_port" --stubd "$S1_IP:$s1_port" \
	--validator "$UB_IP:$ub_port" --cd-stubd "$S2_IP:$s2_port" \
	--mangled-stubd "$S3_IP:$s3_port" \
	--probes "$DATA/probes" --dyn-zone "$tmp/zones/dyn.test.zone" --nsd-pid "$nsd_pid" \
	--budget ${DIFF_BUDGET:-100}
rc=$?
[ $rc = 0 ] || fail=1
exit $rc
