#!/bin/sh
# The list benchmark of issue 25, side by side: stubd (each of the five
# formats; the wildcard list, `*.name`, is asked x.NAME), dnsmasq (address=/x/ lines) and unbound (local-zone always_nxdomain),
# each with the same names from bench/genlists.py: time from start until a
# listed name is answered blocked, and RSS then minus RSS without the list.
# usage: listpeers.sh STUBD LISTDIR.  Loopback only; each server stopped by PID.
set -u
STUBD=$1
DIR=$2
PORT=${PORT:-5393}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
NAME=$(sed -n '1s/ A$//p' "$DIR/names.txt")
U=""
[ "$(id -u)" = 0 ] && U=root

now_ms() { date +%s%3N; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# measure NAME-OF-SERVER WITH-LIST(0/1) CMD...: prints ms-to-answer RSS
measure() {
	srv=$1; shift
	t0=$(now_ms)
	"$@" > "$TMP/$srv.log" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 600 ]; do
		if [ "$WITH" = 0 ]; then
			# without a list: until the port is bound
			ss -Hlun "sport = :$PORT" | grep -q . && break
			sleep 0.02
			i=$((i + 1))
			continue
		fi
		out=$(dig +tries=1 +time=1 @127.0.0.1 -p $PORT "$QNAME" A 2>/dev/null)
		case "$out" in *NXDOMAIN*|*0.0.0.0*) break;; esac
		sleep 0.02
		i=$((i + 1))
	done
	t1=$(now_ms)
	r=$(rss $pid)
	kill $pid; wait $pid 2>/dev/null
	echo "$((t1 - t0)) $r"
}

run_stubd() {
	printf 'hosts none\ncontrol off\nserver 127.0.0.1:9\n%s\n%s\n' "${U:+user $U}" "$1" > "$TMP/s.conf"
	measure stubd "$STUBD" -f -c "$TMP/s.conf" -l 127.0.0.1:$PORT
}
run_dnsmasq() {
	printf 'port=%s\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\nserver=127.0.0.1#9\n' $PORT > "$TMP/d.conf"
	[ -n "$1" ] && cat "$1" >> "$TMP/d.conf"
	measure dnsmasq dnsmasq -k -C "$TMP/d.conf" ${U:+-u $U}
}
run_unbound() {
	printf 'server:\n  interface: 127.0.0.1\n  port: %s\n  do-daemonize: no\n  chroot: ""\n  username: ""\n  num-threads: 1\n  use-syslog: no\n  pidfile: ""\nforward-zone:\n  name: "."\n  forward-addr: 127.0.0.1@9\n' $PORT > "$TMP/u.conf"
	[ -n "$1" ] && cat "$1" >> "$TMP/u.conf"
	measure unbound unbound -c "$TMP/u.conf"
}

# stubd once per format (the same names), the peers once each
printf '%-16s %10s %10s\n' server load_ms added_MB
for s in stubd:hosts stubd:domains stubd:wildcard stubd:adblock stubd:rpz dnsmasq unbound; do
	f=${s#stubd:}
	QNAME=$NAME
	[ "$f" = wildcard ] && QNAME=x.$NAME
	WITH=0
	case $s in
	stubd:*) base=$(run_stubd "");;
	dnsmasq) base=$(run_dnsmasq "");;
	unbound) base=$(run_unbound "");;
	esac
	WITH=1
	case $s in
	stubd:*) with=$(run_stubd "blocklist $DIR/$f.txt format $f");;
	dnsmasq) with=$(run_dnsmasq "$DIR/dnsmasq.conf");;
	unbound) with=$(run_unbound "$DIR/unbound.conf");;
	esac
	echo "$s $base $with" | awk '{printf "%-16s %10d %10.1f\n", $1, $4 - $2, ($5 - $3) / 1024}'
done
