#!/bin/bash
# make install into a DESTDIR writes exactly the advertised files, the
# units have their paths substituted, and make uninstall removes them.
source "$(dirname "$0")/../lib.sh"
repo=$(cd "$(dirname "$0")/../.." && pwd)
root=$T/root
# Not the sanitizer build of a parent "make check SANITIZE=1".
mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make --no-print-directory -C "$repo" \
	PREFIX=/usr/local SYSCONFDIR=/etc "$@"; }

mk install DESTDIR="$root" >"$T/install.log" 2>&1 || { cat "$T/install.log"; fail "make install"; }
expected=$(mk print-installed | tr ' ' '\n' | grep . | sort)
actual=$(cd "$root" && find . -type f | sed 's|^\.||' | sort)
[ "$expected" = "$actual" ] || { diff <(echo "$expected") <(echo "$actual"); fail "installed files differ"; }

unit=$(echo "$expected" | grep 'cpd.service$')
grep -q '^ExecStart=/usr/local/sbin/cpd' "$root$unit" || fail "ExecStart not substituted"
! grep -q '@[A-Z]*@' "$root$unit" || fail "placeholder left in $unit"
[ -x "$root/usr/local/sbin/cpd" ] && [ -x "$root/usr/local/bin/cpd-client" ] || fail "binaries not executable"
"$root/usr/local/sbin/cpd" -n -f "$root/etc/cpd/cpd.conf" >/dev/null || fail "installed cpd.conf does not check"

# An administrator's edited configuration survives install and uninstall.
echo '# edited' >> "$root/etc/cpd/cpd.conf"
mk install DESTDIR="$root" >/dev/null 2>&1 || fail "second make install"
grep -q '# edited' "$root/etc/cpd/cpd.conf" || fail "install overwrote an edited cpd.conf"
mk uninstall DESTDIR="$root" >/dev/null 2>&1 || fail "make uninstall"
left=$(cd "$root" && find . -type f | sed 's|^\.||')
[ "$left" = "/etc/cpd/cpd.conf" ] || fail "after uninstall, left: $left"
echo "install: ok"
