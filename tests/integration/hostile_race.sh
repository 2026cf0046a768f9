#!/bin/bash
# hostile_race: while an unprivileged user's copies run, the same user
# swaps the source directory, and then the destination directory, with a
# symlink to a directory only root may write, holding a file only root may
# read, as fast as it can (renames in a loop). Whatever the timing, no
# byte of the protected file ever lands in the user's files, the
# protected directory is unchanged, every job ends either done or with a
# permission or lookup error, and the daemon serves on.
. "$(dirname "$0")/../lib.sh"
need_root "runs a root daemon against the unprivileged user cpdtest"
ensure_user cpdtest
ensure_user cpdtest2
HC="$(cd "$(dirname "$0")" && pwd)/hostile_client.py"
hc() { as_user cpdtest "$PYTHON" "$HC" "$CPD_SOCKET" "$@"; }
ROUNDS=300

# race WHAT NAME EXTRA SRC DST: ROUNDS copies while NAME is swapped with a
# symlink to W. Sets res to the copies' summary.
race() {
	local swap what=$1 name=$2
	shift 2
	n=$((n + 1))
	coproc SWAP { hc swap "$name" "$W"; }
	res=$(hc copies "$ROUNDS" "$@") || fail "case $n ($what): $res"
	eval "exec ${SWAP[1]}>&-"
	read -r -t 30 swap <&"${SWAP[0]}" || fail "case $n ($what): the swapper did not end"
	wait "$SWAP_PID" || fail "case $n ($what): the swapper failed"
	[ "$(jfield swaps <<<"$swap")" -gt 0 ] || fail "case $n ($what): no swaps: $swap"
	echo "case $n ($what): $res, $swap"
	# Only done jobs, and errors of a path that vanished, was denied or
	# changed type between two looks (EINVAL: readlink of what is now a
	# directory).
	py -c '
import json, sys
r = json.loads(sys.argv[1])
bad = {s: c for s, c in r["states"].items() if s not in ("done", "failed")}
bad.update({e: c for e, c in r["errors"].items()
            if e not in ("EACCES", "ENOENT", "ENOTDIR", "ELOOP", "EISDIR", "EEXIST",
                         "EINVAL")})
sys.exit("unexpected: %r" % bad if bad else 0)' "$res" || fail "case $n ($what): $res"
	varlink_up || fail "case $n ($what): the daemon does not answer"
	hostile_verify
}

# The same races on each engine: their credential switching differs.
for engine in auto fallback; do
	mkdir "$T/$engine"
	hostile_setup "$T/$engine"
	start_daemon_raw -E "$engine"
	# The user's own directories, with a file of the same name as the
	# protected one: W/file.
	mkdir "$U/src" "$U/dst" "$U/out"
	echo "the user's own file" > "$U/src/file"
	chown -R cpdtest: "$U/src" "$U/dst" "$U/out"

	race "source file's directory swapped" "$U/src" '{}' "$U/src/file" "$U/out/plain"
	race "source tree swapped" "$U/src" '{"recursive": true}' "$U/src" "$U/out/tree"
	race "source tree swapped, archive" "$U/src" '{"archive": true}' "$U/src" "$U/out/archive"
	race "destination directory swapped" "$U/dst" '{}' "$U/src/file" "$U/dst/f"
	race "destination directory swapped, into it" "$U/dst" '{}' "$U/src/file" "$U/dst/"
	race "destination tree's parent swapped" "$U/dst" '{"recursive": true}' "$U/src" "$U/dst/tree"
	# The user's copies that did go through are the user's own file.
	for f in $(find "$U/out" "$U/dst" -type f); do
		same "$U/src/file" "$f"
	done
	daemon_exit_ok
	echo "engine $engine: $n cases, $ROUNDS copies each"
done
echo "PASS: hostile_race"
