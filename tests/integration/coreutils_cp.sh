#!/bin/bash
# coreutils_cp: coreutils' own tests of cp (tests/cp/*.sh of a coreutils
# 9.1 source tree) run against cpd-client through a thin wrapper: "cp" is
# `cpd-client copy`, whose stderr says "cp:" where it says "cpd-client:".
# Nothing is downloaded: COREUTILS_SRC names the source tree (for
# example `apt-get source coreutils`, or a checkout of its v9.1 tag);
# without it the test skips. Each script passes, fails or skips; the
# test fails if a script listed in coreutils_cp.expect (those that passed
# when it was last recorded) does not pass now, and prints the counts.
# COREUTILS_CP_RECORD=1 rewrites the list; COREUTILS_CP_LOGS=DIR keeps
# each script's log there; COREUTILS_CP_ONLY="a b" runs those scripts
# only (and checks nothing but that they pass).
. "$(dirname "$0")/../lib.sh"
SRC=${COREUTILS_SRC:-}
EXPECT="$(dirname "$0")/coreutils_cp.expect"
[ -n "$SRC" ] && [ -f "$SRC/tests/init.sh" ] && [ -d "$SRC/tests/cp" ] ||
	skip "COREUTILS_SRC does not name a coreutils source tree (tests/init.sh, tests/cp/)"
need_root "the daemon serves the scripts' files as root"

mkdir -p "$T/build/src"
# sed by its full path: preserve-gid runs cp with PATH naming only cp's
# directory. A pipe, not >(...): cp's messages are all written when it exits.
cat >"$T/build/src/cp" <<EOF2
#!/bin/bash
{ "$CLIENT" copy "\$@" 2>&1 1>&3 3>&- | $(command -v sed) -u 's/^cpd-client:/cp:/' >&2
  exit "\${PIPESTATUS[0]}"; } 3>&1
EOF2
chmod +x "$T/build/src/cp"
# What a configured build of coreutils on this system would give the
# scripts, so that they run rather than skip: its config.h lines that
# tests/cp reads (Debian's build has ACL, xattr and libcap support), the
# other programs it builds (the system's own coreutils, found on PATH:
# only cp is under test), a compiler for the LD_PRELOAD tests, and the
# expensive tests.
printf '#define %s 1\n' USE_ACL USE_XATTR HAVE_CAP HAVE_UTIMENSAT HAVE_LUTIMES \
	HAVE_LINKAT HAVE_OPENAT >"$T/build/config.h"
built=$(dpkg -L coreutils 2>/dev/null | sed -n 's,^.*/bin/\([^/]*\)$,\1,p' | tr '\n' ' ')
built="cp ${built:-mv ln ls rm mkdir chmod chown touch stat dd cat}"
start_daemon_raw

pass=() fail=() skipped=()
for t in "$SRC"/tests/cp/*.sh; do
	name=$(basename "$t" .sh)
	[ -z "${COREUTILS_CP_ONLY:-}" ] || [[ " $COREUTILS_CP_ONLY " == *" $name "* ]] || continue
	rc=0
	(cd "$T/build" && srcdir="$SRC" abs_top_srcdir="$SRC" abs_srcdir="$SRC" \
	    abs_top_builddir="$T/build" built_programs="$built" \
	    CONFIG_HEADER="$T/build/config.h" CC=gcc RUN_EXPENSIVE_TESTS=yes RUN_VERY_EXPENSIVE_TESTS=yes \
	    timeout -k 5 60 bash "$t") >"$T/$name.log" 2>&1 </dev/null || rc=$?
	[ -z "${COREUTILS_CP_LOGS:-}" ] || cp "$T/$name.log" "$COREUTILS_CP_LOGS/"
	case $rc in
	0)  pass+=("$name") ;;
	77) skipped+=("$name") ;;
	*)  fail+=("$name") ;;
	esac
done
echo "coreutils tests/cp against cpd-client: ${#pass[@]} passed, ${#fail[@]} failed, ${#skipped[@]} skipped"
echo "failed: ${fail[*]}"
if [ -n "${COREUTILS_CP_ONLY:-}" ]; then
	[ ${#fail[@]} -eq 0 ] || fail "failed: ${fail[*]}"
	exit 0
fi
if [ "${COREUTILS_CP_RECORD:-0}" = 1 ]; then
	printf '%s\n' "${pass[@]}" >"$EXPECT"
	echo "recorded ${#pass[@]} passing scripts in $EXPECT"
	exit 0
fi
[ -f "$EXPECT" ] || fail "no $EXPECT: run with COREUTILS_CP_RECORD=1 first"
lost=()
while read -r name; do
	[[ " ${pass[*]} " == *" $name "* ]] || lost+=("$name")
done <"$EXPECT"
[ ${#lost[@]} -eq 0 ] || fail "no longer pass: ${lost[*]} (logs: see above)"
echo "coreutils_cp: ok"
