#!/bin/sh
# quickstart.sh - install what is missing (Debian 12, as root), build, then
#   ./quickstart.sh run    run stubd in the foreground on 127.0.0.1:5353 with
#                          the servers of /etc/resolv.conf and /etc/hosts
#   ./quickstart.sh test   run the whole test suite (make check), with the
#                          tools the tests use, and say why any was skipped
set -eu

cd "$(dirname "$0")"

# what the build needs
PKGS_BUILD="build-essential autoconf automake libtool pkg-config libc-ares-dev libevent-dev libsystemd-dev libssl-dev libnghttp2-dev check"
# what the README's next step after `run` uses (dig)
PKGS_RUN="dnsutils"
# what the tests use (a test whose tool is missing is skipped) and what CI
# needs besides (xz-utils for distcheck, systemd for .ci/unit): one list,
# one package more per test that needs one
PKGS_TEST="dnsutils knot-dnsutils iproute2 procps util-linux mount dbus systemd libglib2.0-bin unbound dnsdist python3 python3-prometheus-client xz-utils groff-base ca-certificates nsd ldnsutils python3-dnspython avahi-daemon tcpdump openssl curl strace dhcpcd-base dnsmasq-base"

mode=${1:-run}
case "$mode" in
run) PKGS="$PKGS_BUILD $PKGS_RUN" ;;
test) PKGS="$PKGS_BUILD $PKGS_TEST" ;;
*)
	echo "usage: $0 run|test" >&2
	exit 2
	;;
esac

missing=""
for p in $PKGS; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update
	# unbound, dnsdist, nsd and avahi-daemon are test servers the tests start themselves:
	# their packaged services must not start (nor take port 53 or 5353) on install
	POLICY_ADDED=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
		$SUDO chmod 755 /usr/sbin/policy-rc.d
		POLICY_ADDED=1
	fi
	# shellcheck disable=SC2086
	$SUDO apt-get install -y --no-install-recommends $missing || {
		[ -z "$POLICY_ADDED" ] || $SUDO rm -f /usr/sbin/policy-rc.d
		exit 1
	}
	[ -z "$POLICY_ADDED" ] || $SUDO rm -f /usr/sbin/policy-rc.d
fi

if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	autoreconf -fi
fi
if [ ! -f Makefile ]; then
	./configure --sysconfdir=/etc --runstatedir=/run
fi
make -j"$(nproc)"

# the reasons of the skips, from the logs: a skipped test's own words
# ("SKIP: ..."), and the parts a passing test skipped ("skip: ...",
# "...: skipped (...)", "... checks skipped")
skip_summary() {
	out=$(mktemp)
	for trs in tests/*.trs tests/fuzz/*.trs; do
		[ -f "$trs" ] || continue
		name=${trs%.trs}
		if grep -q '^:test-result: SKIP' "$trs"; then
			why=$(grep -m1 '^SKIP: ' "$name.log" 2>/dev/null | sed 's/^SKIP: //')
			echo "  $name: skipped: ${why:-no reason given}"
		elif grep -q '^:test-result: PASS' "$trs"; then
			grep -E '^skip: |: skipped \(|checks skipped$' "$name.log" 2>/dev/null |
				sort -u | sed "s|^|  $name: part skipped: |"
		fi
	done >"$out"
	if [ -s "$out" ]; then
		echo "Skipped, and why:"
		cat "$out"
	else
		echo "Nothing skipped."
	fi
	rm -f "$out"
}

case "$mode" in
run)
	exec ./stubd -f -l 127.0.0.1:5353
	;;
test)
	# resolvectl, systemd-resolved's client, for tests/dbus.sh: taken from
	# Debian's systemd-resolved package without installing it (installing
	# it would start systemd-resolved and take over /etc/resolv.conf)
	if [ -z "${RESOLVECTL:-}" ] && ! command -v resolvectl >/dev/null 2>&1; then
		r=$PWD/.resolvectl
		if [ ! -x "$r/x/usr/bin/resolvectl" ]; then
			rm -rf "$r" && mkdir -p "$r" && chmod 755 "$r"
			(cd "$r" && apt-get download systemd-resolved &&
				dpkg-deb -x systemd-resolved_*.deb x) ||
				echo "cannot fetch resolvectl: tests/dbus.sh skips its checks"
		fi
		[ ! -x "$r/x/usr/bin/resolvectl" ] || export RESOLVECTL="$r/x/usr/bin/resolvectl"
	fi
	rc=0
	make -j"$(nproc)" check || rc=$?
	skip_summary
	exit $rc
	;;
esac
