#!/bin/sh
# firsthour.sh - what a newcomer meets in the first hour (issue 27):
#   stubctl(8) renders its JSON examples with their quotes;
#   stubd -t reports an unknown user or control-group as FILE:LINE;
#   a hosts file named in the configuration but missing is said at start;
#   stubctl reload prints the FILE:LINE lines of a broken configuration
#   and the settings that change on restart only;
#   stubctl displaydns shows each entry's upstream and hit count;
#   a refused stubctl user is told which group grants access (root);
#   started as root, stubd drops to the user stubd when it exists, and the
#   control socket and pidfile are removed at exit after any drop (root,
#   a mount namespace for a passwd file with that user);
#   a default listen address of a disabled family ([::1] with IPv6 off) is
#   skipped with a warning, an explicit one stays fatal (root, a network
#   namespace).
# Parts that need what is not here say so and are skipped.
set -u
STUBD=${STUBD:-./stubd}
STUBCTL=${STUBCTL:-./stubctl}
FAKEUP=${FAKEUP:-./tests/fakeup}
SRCDIR=${srcdir:-.}

. "$(dirname "$0")/testlib.sh"

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
root=0
[ "$(id -u)" -eq 0 ] && root=1

# wait_gone FILE...: until none exists, 3 s at most
wait_gone() {
	_i=0
	while [ $_i -lt 60 ]; do
		_any=0
		for _f in "$@"; do [ -e "$_f" ] && _any=1; done
		[ $_any -eq 0 ] && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

# start_stubd CONF ERRFILE [ARGS...]: in the background, until its control
# socket answers (the conf's "control" must be $tmp/ctl); sets spid
start_stubd() {
	_c=$1 _e=$2
	shift 2
	rm -f "$tmp/ctl"
	"$STUBD" -f -c "$_c" "$@" 2>"$_e" &
	spid=$!
	pids="$pids $spid"
	_i=0
	until "$STUBCTL" -s "$tmp/ctl" stats >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -lt 50 ] || { echo "FAIL: stubd did not start"; cat "$_e"; exit 1; }
		sleep 0.1
	done
}

# stop_stubd LABEL: SIGTERM, and it exits 0 (a sanitizer report would not)
stop_stubd() {
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	check "$1: stubd exits 0" "$?" 0
}

# ---- stubctl(8): every JSON example keeps its quotes
if command -v groff >/dev/null 2>&1 && [ -f man/stubctl.8 ]; then
	groff -mandoc -Tutf8 -P-c man/stubctl.8 2>/dev/null >"$tmp/man.txt"
	# a key without its quotes ({key: or , key:) on a line of a JSON example
	bad=$(grep -E '^ *\{"' "$tmp/man.txt" | grep -E '[{,] *[a-z_]+:' || true)
	check "stubctl(8) JSON examples keep their quotes" "${bad:-none}" none
	check "stubctl(8) shows the error answer" \
		"$(grep -c '^ *{"error": "message"}$' "$tmp/man.txt")" 1
	check "stubctl(8) shows the link answer" \
		"$(grep -c '^ *{"link": "wg0", "changed": true}$' "$tmp/man.txt")" 1
else
	echo "skip: stubctl(8) rendering (groff not installed, or man/stubctl.8 not built)"
fi

# ---- stubd -t: unknown user and control-group, FILE:LINE
printf 'hosts none\ncontrol off\nuser no-such-user-x\ncontrol-group no-such-group-x\n' \
	>"$tmp/bad.conf"
"$STUBD" -t -c "$tmp/bad.conf" >"$tmp/t.out" 2>&1
check "stubd -t exits 1 for an unknown user" "$?" 1
check "stubd -t names the user's line" \
	"$(grep -c "^$tmp/bad.conf:3: unknown user 'no-such-user-x'" "$tmp/t.out")" 1
check "stubd -t names the control-group's line" \
	"$(grep -c "^$tmp/bad.conf:4: unknown control-group 'no-such-group-x'" "$tmp/t.out")" 1
"$STUBD" -t -c /dev/null -u no-such-user-x >"$tmp/t.out" 2>&1
check "stubd -t -u checks the user" \
	"$?:$(grep -c 'stubd: -u no-such-user-x: unknown user' "$tmp/t.out")" 1:1

# ---- a running stubd: a missing hosts file, displaydns, reload
"$FAKEUP" 127.0.0.81 www.example.com A 300 192.0.2.7 >"$tmp/fport" &
pids="$pids $!"
wait_file "$tmp/fport" || { echo "FAIL: fake upstream did not start"; exit 1; }
fport=$(cat "$tmp/fport")
lport=$((30000 + $$ % 20000))
cat >"$tmp/stubd.conf" <<CONF
listen 127.0.0.82:$lport
control $tmp/ctl
hosts $tmp/no-such-hosts
adapter lan
server 127.0.0.81:$fport
CONF
start_stubd "$tmp/stubd.conf" "$tmp/stubd.err" $KEEP_ROOT
check "a missing hosts file is said at start" \
	"$(grep -c "cannot read hosts file $tmp/no-such-hosts: No such file" "$tmp/stubd.err")" 1

"$STUBCTL" -s "$tmp/ctl" query www.example.com >/dev/null
"$STUBCTL" -s "$tmp/ctl" query www.example.com >/dev/null
"$STUBCTL" -s "$tmp/ctl" displaydns www.example.com >"$tmp/dd.txt"
check "displaydns shows the upstream" \
	"$(grep -c "^    Upstream  \. \. \. \. \. \. : 127\.0\.0\.81:$fport%lan\$" "$tmp/dd.txt")" 1
check "displaydns shows the hits" \
	"$(grep -c '^    Hits  \. \. \. \. \. \. \. \. : 1$' "$tmp/dd.txt")" 1

cp "$tmp/stubd.conf" "$tmp/good.conf"
printf 'bogus-directive 1\nmax-ttl many\n' >>"$tmp/stubd.conf"
"$STUBCTL" -s "$tmp/ctl" reload >"$tmp/reload.out" 2>&1
check "stubctl reload fails on a broken configuration" "$?" 1
check "stubctl reload prints the first error's line" \
	"$(grep -c "^$tmp/stubd.conf:6: unknown directive 'bogus-directive'" "$tmp/reload.out")" 1
check "stubctl reload prints the second error's line" \
	"$(grep -c "^$tmp/stubd.conf:7: " "$tmp/reload.out")" 1
sed "s/^listen .*/listen 127.0.0.83:$lport/" "$tmp/good.conf" >"$tmp/stubd.conf"
"$STUBCTL" -s "$tmp/ctl" reload >"$tmp/reload.out" 2>&1
check "stubctl reload of a good configuration" "$?" 0
check "stubctl reload says what changes on restart only" \
	"$(grep -c '^warning: listen addresses changed; they take effect on restart$' \
		"$tmp/reload.out")" 1
"$STUBCTL" -s "$tmp/ctl" --json reload >"$tmp/reload.json" 2>&1
check "reload --json has the warnings" \
	"$(grep -c '"warnings":\["listen addresses changed; they take effect on restart"\]' \
		"$tmp/reload.json")" 1

# ---- a refused user is told which group grants access
if [ $root -eq 1 ] && command -v setpriv >/dev/null 2>&1; then
	chmod 755 "$tmp"
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	nobody "$STUBCTL" -s "$tmp/ctl" stats >"$tmp/n.out" 2>&1
	check "refused at the socket's mode: exit 1" "$?" 1
	check "refused at the socket's mode: which group" \
		"$(grep -c 'Permission denied (the socket is for root, .*control-group; with the Debian package: adduser USER stubd' "$tmp/n.out")" 1
	chmod 666 "$tmp/ctl"
	nobody "$STUBCTL" -s "$tmp/ctl" stats >"$tmp/n.out" 2>&1
	check "refused by stubd: which group" \
		"$(grep -c "permission denied: root and stubd's user may use this socket (control-group lets a group in)" "$tmp/n.out")" 1
	chmod 700 "$tmp"
else
	echo "skip: stubctl as another user (needs root and setpriv)"
fi
stop_stubd "the running one"

# ---- run as: user nobody; the socket and pidfile removed at exit anyway
if [ $root -eq 1 ]; then
	chmod 755 "$tmp"
	printf 'listen 127.0.0.82:%s\ncontrol %s/ctl\nhosts none\nserver 127.0.0.81:%s\nuser nobody\n' \
		"$lport" "$tmp" "$fport" >"$tmp/user.conf"
	chmod 644 "$tmp/user.conf"
	start_stubd "$tmp/user.conf" "$tmp/user.err" -p "$tmp/stubd.pid"
	check "user nobody: runs as 65534" \
		"$(awk '/^Uid:/ { print $2 }' "/proc/$spid/status")" 65534
	stop_stubd "user nobody"
	wait_gone "$tmp/ctl" "$tmp/stubd.pid"
	check "user nobody: control socket and pidfile removed at exit" "$?" 0
	# no user configured, started as root: the user stubd when it exists
	if getent passwd stubd >/dev/null 2>&1; then
		echo "skip: the no-user-stubd fallback (this machine has a user stubd)"
	else
		sed '/^user /d' "$tmp/user.conf" >"$tmp/nouser.conf"
		start_stubd "$tmp/nouser.conf" "$tmp/nouser.err"
		check "no user stubd: stays root" \
			"$(awk '/^Uid:/ { print $2 }' "/proc/$spid/status")" 0
		check "no user stubd: says so" \
			"$(grep -c 'running as root: there is no user stubd' "$tmp/nouser.err")" 1
		stop_stubd "no user stubd"
		# a passwd file with a user stubd, in a mount namespace of our own
		{ cat /etc/passwd; echo "stubd:x:64999:64999:stubd:/nonexistent:/usr/sbin/nologin"; } \
			>"$tmp/passwd"
		chmod 644 "$tmp/passwd"
		cat >"$tmp/ns.sh" <<EOF
mount --bind "$tmp/passwd" /etc/passwd || exit 77
"$STUBD" -f -c "$tmp/nouser.conf" -p "$tmp/stubd.pid" 2>"$tmp/ns.err" &
i=0
until "$STUBCTL" -s "$tmp/ctl" stats >/dev/null 2>&1 || [ \$i -ge 50 ]; do sleep 0.1; i=\$((i + 1)); done
awk '/^Uid:/ { print \$2 }' /proc/\$!/status >"$tmp/ns.uid"
kill \$!
wait \$!
EOF
		rm -f "$tmp/ctl"
		if ! unshare -m true 2>/dev/null; then
			echo "skip: the default user stubd (cannot make a mount namespace here)"
		elif ! unshare -m sh "$tmp/ns.sh"; then
			echo "skip: the default user stubd (cannot bind-mount a passwd file here)"
		else
			check "a user stubd exists: stubd drops to it by default" "$(cat "$tmp/ns.uid")" 64999
			wait_gone "$tmp/ctl" "$tmp/stubd.pid"
			check "user stubd: control socket and pidfile removed at exit" "$?" 0
		fi
	fi
	chmod 700 "$tmp"
else
	echo "skip: privilege drop (needs root)"
fi

# ---- IPv6 disabled: the default [::1]:53 is skipped, an explicit one is fatal
if [ $root -eq 1 ] && command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 &&
	unshare -n true 2>/dev/null; then
	printf 'hosts none\ncontrol off\nserver 127.0.0.1:9\n' >"$tmp/v6.conf"
	cat >"$tmp/v6.sh" <<EOF
ip link set lo up
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.lo.disable_ipv6=1 || exit 77
"$STUBD" -f -c "$tmp/v6.conf" $KEEP_ROOT 2>"$tmp/v6.err" &
sleep 0.5
kill -0 \$! && echo running >"$tmp/v6.state"
kill \$!
wait \$!
"$STUBD" -f -c "$tmp/v6.conf" $KEEP_ROOT -l '[::1]:53' 2>"$tmp/v6x.err" &
p=\$!
sleep 0.5
kill \$p 2>/dev/null
wait \$p
echo \$? >"$tmp/v6x.rc"
EOF
	unshare -n sh "$tmp/v6.sh"
	if [ $? -eq 77 ]; then
		echo "skip: IPv6 cannot be disabled in a network namespace here"
	else
		check "IPv6 off: the default listens start" "$(cat "$tmp/v6.state" 2>/dev/null)" running
		check "IPv6 off: [::1]:53 skipped with a warning" \
			"$(grep -c 'not listening on \[::1\]:53: its address family is disabled' "$tmp/v6.err")" 1
		check "IPv6 off: an explicit [::1]:53 is fatal" "$(cat "$tmp/v6x.rc")" 1
		check "IPv6 off: and says why" \
			"$(grep -c 'cannot listen on \[::1\]:53' "$tmp/v6x.err")" 1
	fi
else
	echo "skip: IPv6 disabled (needs root, unshare and iproute2, and network namespaces)"
fi

exit $fail
