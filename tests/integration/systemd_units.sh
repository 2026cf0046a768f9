#!/bin/bash
# systemd_units: systemd/cpd.service and systemd/cpd.socket pass
# "systemd-analyze verify" once the install placeholders are substituted,
# the service's sandbox keeps its exposure level, and the settings cpd
# depends on are not hardened away. Works offline (no systemd as PID 1).
set -uo pipefail
cd "$(dirname "$0")/../.."
SRC=$PWD

command -v systemd-analyze >/dev/null ||
	{ echo "SKIP: systemd-analyze is not installed"; exit 77; }

# Overall exposure reported by "systemd-analyze security", measured with
# systemd 252 (Debian 12). Lower it here when the unit gets tighter; never
# raise it silently. Other versions weigh the checks differently, so they
# get some slack.
MAX_EXPOSURE=1.9
sd_version=$(systemd-analyze --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')
if [ "$sd_version" != 252 ]; then
	echo "note: systemd $sd_version, exposure limit measured with 252; allowing 2.5"
	MAX_EXPOSURE=2.5
fi

T=$(mktemp -d /tmp/cpd-units.XXXXXX)
trap 'rm -rf "$T"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# An installed layout: an executable named cpd, the units with @SBINDIR@
# and @SYSCONFDIR@ replaced as "make install" does, and the manual pages
# where man(1) finds them, so that Documentation= can be checked too.
mkdir -p "$T/sbin" "$T/units" "$T/man/man1" "$T/man/man5" "$T/man/man7" "$T/man/man8"
cp /bin/true "$T/sbin/cpd"
for unit in cpd.service cpd.socket; do
	sed -e "s|@SBINDIR@|$T/sbin|g" -e "s|@SYSCONFDIR@|/etc|g" \
		"systemd/$unit" >"$T/units/$unit"
	left=$(grep -n '@[A-Z_]*@' "$T/units/$unit") &&
		fail "$unit: placeholder left after substitution: $left"
done
for page in man/*.[1-8]; do
	cp "$page" "$T/man/man${page##*.}/"
done

# 1. systemd-analyze verify: nothing to say about our units. Messages
#    about unrelated units of this machine are ignored.
if command -v man >/dev/null; then
	man_opt=--man=yes
else
	man_opt=--man=no	# cannot check Documentation= without man(1)
fi
out=$(cd "$T/units" && MANPATH="$T/man" SYSTEMD_LOG_COLOR=0 \
	systemd-analyze verify "$man_opt" ./cpd.service ./cpd.socket 2>&1)
ours=$(grep -i 'cpd' <<<"$out")
[ -z "$ours" ] || fail "systemd-analyze verify:"$'\n'"$ours"

# 2. Exposure level.
out=$(cd "$T/units" && systemd-analyze security --offline=yes --no-pager ./cpd.service 2>&1)
level=$(sed -n 's/.*Overall exposure level for cpd\.service: \([0-9.]*\).*/\1/p' <<<"$out")
if [ -z "$level" ]; then
	fail "no exposure level in systemd-analyze security output:"$'\n'"$out"
elif ! awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }'; then
	fail "exposure level $level > $MAX_EXPOSURE:"$'\n'"$(grep '✗' <<<"$out")"
else
	echo "exposure level $level (limit $MAX_EXPOSURE)"
fi

# 3. What cpd needs, and hardening it cannot live with.
svc=systemd/cpd.service sock=systemd/cpd.socket
setting() {	# FILE KEY: the last value given to KEY
	sed -n "s/^$2=//p" "$1" | tail -n 1
}
expect() {	# FILE KEY VALUE
	local v
	v=$(setting "$1" "$2")
	[ "$v" = "$3" ] || fail "$1: expected $2=$3, found '${v}'"
}
expect $svc Type notify
expect $svc ExecStart '@SBINDIR@/cpd'
expect $svc ExecReload '/bin/kill -HUP $MAINPID'
expect $svc RuntimeDirectory cpd
expect $svc RuntimeDirectoryPreserve yes
expect $svc Also cpd.socket
expect $sock Accept no
expect $sock SocketMode 0666
# The socket unit listens where the daemon and the client look by default.
default=$(sed -n 's/^#define CPD_DEFAULT_SOCKET[[:space:]]*"\(.*\)"/\1/p' include/cpd-protocol.h)
expect $sock ListenStream "$default"
conf_socket=$(sed -n 's/^socket[[:space:]]*=[[:space:]]*"\(.*\)";.*/\1/p' conf/cpd.conf)
[ "$conf_socket" = "$default" ] ||
	fail "conf/cpd.conf socket '$conf_socket' differs from CPD_DEFAULT_SOCKET '$default'"
# Identity switching needs these two capabilities and the @setuid calls.
caps=$(setting $svc CapabilityBoundingSet)
for cap in CAP_SETUID CAP_SETGID; do
	[[ " $caps " == *" $cap "* ]] || fail "$svc: CapabilityBoundingSet lacks $cap"
done
# RestrictSUIDSGID= makes openat2() fail with ENOSYS; callers copy to and
# from /tmp, /home and anywhere else they may write.
for bad in 'RestrictSUIDSGID=\(yes\|true\|on\|1\)' 'PrivateTmp=\(yes\|true\|on\|1\)' \
	   'ProtectHome=\(yes\|true\|on\|1\|read-only\|tmpfs\)' \
	   'ProtectSystem=\(yes\|true\|on\|1\|full\|strict\)' 'PrivateUsers=\(yes\|true\|on\|1\)' \
	   'DynamicUser=\(yes\|true\|on\|1\)' 'User=.*'; do
	line=$(grep -n "^$bad\$" $svc) && fail "$svc: $line would break copying for callers"
done

[ $failures -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "systemd units: all checks passed"
exit 0
