# testlib.sh - what the shell tests share (sourced): skipping (exit 77,
# automake's SKIP), checking a value, waiting for a file to be written.

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
