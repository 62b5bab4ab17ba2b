#!/bin/sh
# observe.sh - seeing into stubd with tools nobody here wrote: stubctl
# monitor shows the queries dig sends; the metrics endpoint read by a
# Prometheus text parser (python3-prometheus-client) parses, every stats
# value is there under its name and equals `stubctl --json stats` (uptime
# within a second), the per-server samples carry adapter and server
# labels, and the latency histogram is consistent.  Skipped without dig,
# python3 or the module.
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}
FAKEUP=${FAKEUP:-./tests/fakeup}

. "$(dirname "$0")/testlib.sh"
command -v dig >/dev/null 2>&1 || skip "dig not installed"
# Debian's python3 first (the module is Debian's python3-prometheus-client)
PY=""
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import prometheus_client.parser' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || skip "python3 with python3-prometheus-client not installed"

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

"$FAKEUP" 127.0.0.91 www.example.com A 300 192.0.2.7 >"$tmp/fport" &
pids="$pids $!"
wait_file "$tmp/fport"
fport=$(cat "$tmp/fport")
base=$((30000 + $$ % 20000))
printf '! ads\n||ads.example^\n' >"$tmp/ads.txt"
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.92:$base
control $tmp/ctl
hosts none
metrics 127.0.0.92:$((base + 1))
blocklist $tmp/ads.txt format adblock
adapter lan
server 127.0.0.91:$fport
CONF
"$STUBD" $KEEP_ROOT -f -c "$tmp/stubd.conf" 2>"$tmp/stubd.err" &
pids="$pids $!"
i=0
until dig +time=1 +tries=1 +short -p "$base" @127.0.0.92 www.example.com A 2>/dev/null |
	grep -q 192.0.2.7; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "FAIL: stubd did not start"; cat "$tmp/stubd.err"; exit 1; }
	sleep 0.1
done
# a monitor, then queries from dig
"$STUBCTL" -s "$tmp/ctl" monitor >"$tmp/monitor" 2>&1 &
mpid=$!
pids="$pids $mpid"
sleep 0.3
for n in 1 2 3; do dig +time=1 +tries=1 +short -p "$base" @127.0.0.92 www.example.com A >/dev/null; done
dig +time=1 +tries=1 +short -p "$base" @127.0.0.92 nx.example.com A >/dev/null
dig +time=1 +tries=1 +short +tcp -p "$base" @127.0.0.92 www.example.com A >/dev/null
sleep 0.3
kill "$mpid" 2>/dev/null
mfail=0
grep -Eq '127\.0\.0\.1:[0-9]+ +www\.example\.com +A +NOERROR +cache ' "$tmp/monitor" || mfail=1
grep -Eq 'nx\.example\.com +A +NXDOMAIN +upstream ' "$tmp/monitor" || mfail=1
[ "$(grep -c 'www\.example\.com' "$tmp/monitor")" -eq 4 ] || mfail=1
if [ $mfail -eq 0 ]; then
	echo "ok: stubctl monitor shows dig's queries"
else
	echo "FAIL: stubctl monitor:"
	cat "$tmp/monitor"
fi

# a blocked name, counted for its list (SPEC 18)
dig +time=1 +tries=1 +short -p "$base" @127.0.0.92 x.ads.example A >/dev/null
"$STUBCTL" -s "$tmp/ctl" --json stats >"$tmp/stats.json"
"$PY" - "$tmp/stats.json" "127.0.0.92" "$((base + 1))" <<'PY'
import json, sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families

stats = json.load(open(sys.argv[1]))
body = urllib.request.urlopen("http://%s:%s/metrics" % (sys.argv[2], sys.argv[3]), timeout=5)
text = body.read().decode()
fams = {f.name: f for f in text_string_to_metric_families(text)}
fail = 0

def check(ok, what):
    global fail
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        fail = 1

gauges = {"cache_entries", "cache_bytes", "uptime", "hosts_entries"}
for key, want in stats.items():
    if not isinstance(want, (int, float)):
        continue  # lists: per list, labelled (below)
    # the parser names counter families without _total
    fam = fams.get("stubd_" + key)
    if fam is None:
        check(False, "no family for %s" % key)
        continue
    check(fam.type == ("gauge" if key in gauges else "counter"), "%s is a %s" % (key, fam.type))
    got = [s.value for s in fam.samples if not s.labels and s.name in
           ("stubd_" + key, "stubd_" + key + "_total")]
    if key == "uptime":
        check(len(got) == 1 and abs(got[0] - want) <= 1, "uptime %s ~ %s" % (got, want))
    else:
        check(got == [want], "%s: metrics %s, stats %s" % (key, got, want))

# SPEC 18: per list, labelled with the list's basename and kind
lists = stats.get("lists", [])
check(len(lists) == 1 and lists[0]["name"] == "ads.txt" and lists[0]["blocked"] == 1,
      "stats lists: %s" % lists)
for key in ("blocked", "allowed", "local", "rebind"):
    fam = fams.get("stubd_list_" + key)
    got = fam and [s.value for s in fam.samples if s.labels == {"list": "ads.txt",
                                                                 "kind": "blocklist"}]
    check(fam is not None and fam.type == "counter" and got == [lists[0][key]],
          "stubd_list_%s_total{list=ads.txt}: metrics %s, stats %s" % (key, got, lists[0][key]))
fam = fams.get("stubd_list_entries")
check(fam is not None and fam.type == "gauge" and [s.value for s in fam.samples] == [1],
      "stubd_list_entries is a gauge: 1 entry")

q = fams.get("stubd_server_queries")
check(q is not None and any(s.labels.get("adapter") == "lan" and "server" in s.labels
                            for s in q.samples), "per-server queries labelled adapter, server")
h = fams.get("stubd_answer_seconds")
check(h is not None and h.type == "histogram", "stubd_answer_seconds is a histogram")
if h is not None:
    for src in ("cache", "upstream"):
        buckets = [s for s in h.samples if s.name.endswith("_bucket") and s.labels["source"] == src]
        count = [s.value for s in h.samples if s.name.endswith("_count") and s.labels["source"] == src]
        inf = [s.value for s in buckets if s.labels["le"] == "+Inf"]
        mono = all(a.value <= b.value for a, b in zip(buckets, buckets[1:]))
        check(count and inf == count and mono, "%s histogram: +Inf bucket = count, cumulative" % src)
check("example.com" not in text, "no query name in the metrics")
sys.exit(fail)
PY
pyfail=$?
[ $mfail -eq 0 ] && [ $pyfail -eq 0 ]
