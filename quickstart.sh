#!/bin/sh
# quickstart.sh - install what is missing (Debian 12, as root), build, then
#   ./quickstart.sh run    run stubd in the foreground on 127.0.0.1:5353 with
#                          the servers of /etc/resolv.conf and /etc/hosts
#   ./quickstart.sh test   run the whole test suite (make check)
set -eu

cd "$(dirname "$0")"

PKGS="build-essential autoconf automake libtool pkg-config libc-ares-dev libevent-dev libsystemd-dev libssl-dev libnghttp2-dev check"

missing=""
for p in $PKGS; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update
	# shellcheck disable=SC2086
	$SUDO apt-get install -y --no-install-recommends $missing
fi

if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	autoreconf -fi
fi
if [ ! -f Makefile ]; then
	./configure --sysconfdir=/etc --runstatedir=/run
fi
make -j"$(nproc)"

case "${1:-run}" in
run)
	exec ./stubd -f -l 127.0.0.1:5353
	;;
test)
	make -j"$(nproc)" check
	;;
*)
	echo "usage: $0 run|test" >&2
	exit 2
	;;
esac
