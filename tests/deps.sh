#!/bin/bash
# Install the Debian packages cpd needs to build and test, if any are
# missing: with --build only those the build needs (make install), with
# package names as arguments those.
set -euo pipefail
build=(gcc make pkg-config liburing-dev libsystemd-dev libconfig-dev libinih-dev libjson-c-dev libxxhash-dev)
if [ "${1:-}" = --build ]; then
	pkgs=("${build[@]}")
elif [ $# -gt 0 ]; then
	pkgs=("$@")
else
	pkgs=("${build[@]}" libcmocka-dev socat mandoc rsync acl attr systemd
	      util-linux procps psmisc xfsprogs e2fsprogs python3 hyperfine strace xxhash
	      libcap2-bin)
fi
missing=()
for p in "${pkgs[@]}"; do
	# No pipe into grep -q: under pipefail its early exit could fail the pipe.
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing Debian packages: ${missing[*]}" >&2
	echo "run as root (sudo make ...) or: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A mirror that does not answer for a moment (a fresh CI machine meets
# them) fails an install: try three times, a little apart, then give up
# saying so.
for try in 1 2 3; do
	if apt-get update -qq && apt-get install -y -qq "${missing[@]}"; then
		exit 0
	fi
	[ $try -eq 3 ] || { echo "apt-get failed (try $try of 3); again in $((try * 10)) s" >&2; sleep $((try * 10)); }
done
echo "cannot install: ${missing[*]} (is Debian's archive reachable?)" >&2
exit 1
