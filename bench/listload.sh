#!/bin/sh
# The list benchmark of issue 25, stubd's side: for each format, start
# stubd with the list, read the load time it logs (the worker's build:
# read + parse) and the RSS it adds over a stubd without lists, once the
# list is in.  usage: listload.sh STUBD LISTDIR
# (lists from bench/genlists.py).  Loopback only; each stubd is stopped by
# its PID.
set -eu
STUBD=$1
DIR=$2
PORT=${PORT:-5391}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ROOT=""
[ "$(id -u)" = 0 ] && ROOT="user root"

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

run() {   # run NAME CONF-LINE -> prints name, load ms, RSS KiB
	printf 'hosts none\ncontrol off\nserver 127.0.0.1:9\n%s\n%s\n' "$ROOT" "$2" > "$TMP/c.conf"
	: > "$TMP/log"
	"$STUBD" -v -f -c "$TMP/c.conf" -l 127.0.0.1:$PORT > "$TMP/log" 2>&1 &
	pid=$!
	i=0
	while ! grep -q started "$TMP/log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	# a big list comes in off the loop after start: wait for its line
	i=0
	while [ -n "$2" ] && ! grep -q 'policy: .* in [0-9]* ms' "$TMP/log" && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 1
	ms=$(sed -n 's/.*policy: .* in \([0-9]*\) ms/\1/p' "$TMP/log" | tail -1)
	r=$(rss $pid)
	kill $pid
	wait $pid || true
	echo "$1 ${ms:--} $r"
}

base=$(run none "" | awk '{print $3}')
printf '%-10s %8s %10s\n' format load_ms added_MB
for f in hosts domains wildcard adblock rpz; do
	run $f "blocklist $DIR/$f.txt format $f" | awk -v b="$base" \
	    '{printf "%-10s %8s %10.1f\n", $1, $2, ($3 - b) / 1024}'
done
