#!/bin/bash
# Install the Debian packages cpd needs to build and test (or those named
# as arguments), if any are missing.
if [ $# -gt 0 ]; then
	pkgs=("$@")
else
	pkgs=(gcc make pkg-config liburing-dev libsystemd-dev libconfig-dev libinih-dev
	      libjson-c-dev libcmocka-dev socat mandoc rsync acl attr systemd
	      util-linux procps psmisc xfsprogs e2fsprogs python3 hyperfine strace)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
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
apt-get update -qq && apt-get install -y -qq "${missing[@]}"
