#!/bin/bash
# resume: a tree job that the daemon runs again after kill -9 does not
# copy again what its first run published: into existing directories,
# with -a (published files have the source's mtime) and without (they
# were written after the job was made), on both engines. The result is
# byte-exact, the restarted job counts the published files as skipped,
# and the files copied twice are at most the few that were in flight.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/src/a" "$T/src/b"
for i in $(seq 1 40); do mkfile "$T/src/a/f$i" 16K; mkfile "$T/src/b/g$i" 16K; done

run_case() {	# ENGINE FLAG
	local E=$1 F=$2 D="$T/dst-$1$2" id out done1 skipped created
	# A mirror's directories exist: a new one would be made under a
	# temporary name and put in place whole, and a restart starts it over.
	rm -rf "$D"; mkdir -p "$D/src/a" "$D/src/b"
	start_daemon_raw -E "$E"
	# 1280 KiB at 512 KiB/s: about 2.5 s; killed once 16 files are
	# published (about 0.5 s in), 2 s before the last would be.
	id=$("$CLIENT" copy "$F" --bwlimit 512K --detach "$T/src" "$D/") || fail "$E $F: submit"
	for _ in $(seq 600); do
		[ "$(find "$D/src" -type f ! -name '.cpd-tmp.*' 2>/dev/null | wc -l)" -lt 16 ] || break
		sleep 0.05
	done
	kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
	done1=$(find "$D/src" -type f ! -name '.cpd-tmp.*' 2>/dev/null | wc -l)
	[ "$done1" -gt 0 ] && [ "$done1" -lt 80 ] ||
		fail "$E $F: $done1 of 80 files published at the kill (want some, not all)"
	start_daemon_raw -E "$E"
	out=$("$CLIENT" --json wait "$id") || fail "$E $F: the restarted job: $out"
	expect_eq "$E $F: state" "$(jget state <<<"$out")" done
	expect_eq "$E $F: restarts" "$(jget restarts <<<"$out")" 1
	skipped=$(jget changes.skipped <<<"$out")
	created=$(jget changes.created <<<"$out")
	updated=$(jget changes.updated <<<"$out")
	# The files published before the kill are skipped; a file in flight
	# then (published by the kill's moment, not yet counted) may go again.
	[ "$skipped" -ge $((done1 - 8)) ] && [ "$skipped" -le "$done1" ] ||
		fail "$E $F: $skipped skipped after the restart, $done1 published before"
	[ $((skipped + created + updated)) -eq 80 ] ||
		fail "$E $F: skipped $skipped + created $created + updated $updated != 80"
	if [ "$F" = -a ]; then
		tree_same --archive --no-atime "$T/src" "$D/src"
	else
		tree_same "$T/src" "$D/src"
	fi
	no_temporaries "$D"
	daemon_exit_ok
	echo "$E $F: $done1 published before the kill, $skipped skipped after"
}

for e in io_uring fallback; do
	run_case "$e" -a
	run_case "$e" -r
done
echo "resume: ok"
