#!/bin/bash
# resume_tree: a new tree the daemon was copying when it was killed (-9)
# is made under a temporary name; the restarted job of a copy that keeps
# times (-a) merges into what the first run made there instead of making
# it anew: exactly the files that were whole are skipped (a file's times
# are set after its data), and the tree appears whole under its name. A
# copy that does not keep times (-r) cannot tell a whole file from a cut
# one there, so its tree is made anew. Both engines; byte-exact, nothing
# left beside the copy.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/src/a" "$T/src/b"
for i in $(seq 1 40); do mkfile "$T/src/a/f$i" 16K; mkfile "$T/src/b/g$i" 16K; done

# whole DIR: the files in DIR's temporary directory that are whole, as -a
# makes them: the source's size and modification time.
whole() {
	py -c '
import os, sys
src, out = sys.argv[1], sys.argv[2]
n = 0
for top in os.listdir(out):
    if not top.startswith(".cpd-tmp."):
        continue
    for d, _, files in os.walk(os.path.join(out, top)):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), os.path.join(out, top))
            try:
                a, b = os.stat(os.path.join(src, rel)), os.stat(os.path.join(d, f))
            except FileNotFoundError:
                continue
            n += a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns
print(n)' "$T/src" "$1"
}

run_case() {	# ENGINE FLAG
	local E=$1 F=$2 P="$T/out-$1$2" id out made skipped created updated
	rm -rf "$P"; mkdir -p "$P"
	start_daemon_raw -E "$E"
	# 1280 KiB at 512 KiB/s: about 2.5 s; killed once 16 files are
	# whole (without -a: 0.5 s in).
	id=$("$CLIENT" copy "$F" --bwlimit 512K --detach "$T/src" "$P/copy") || fail "$E $F: submit"
	if [ "$F" = -a ]; then
		for _ in $(seq 300); do
			[ "$(whole "$P")" -lt 16 ] || break
			sleep 0.05
		done
	else
		sleep 0.5
	fi
	kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
	made=$(whole "$P")
	[ "$F" != -a ] || { [ "$made" -ge 16 ] && [ "$made" -lt 80 ]; } ||
		fail "$E $F: $made of 80 files whole at the kill (want some, not all)"
	[ ! -e "$P/copy" ] || fail "$E $F: the tree was in place before its end"
	start_daemon_raw -E "$E"
	out=$("$CLIENT" --json wait "$id") || fail "$E $F: the restarted job: $out"
	expect_eq "$E $F: state" "$(jget state <<<"$out")" done
	expect_eq "$E $F: restarts" "$(jget restarts <<<"$out")" 1
	skipped=$(jget changes.skipped <<<"$out")
	created=$(jget changes.created <<<"$out")
	updated=$(jget changes.updated <<<"$out")
	if [ "$F" = -a ]; then
		# Exactly the whole ones are kept; the others are made again.
		expect_eq "$E $F: skipped after the restart" "$skipped" "$made"
		grep -q "goes on in what the last run made of it" "$DAEMON_LOG" ||
			fail "$E $F: the staged tree was not taken up"
		tree_same --archive --no-atime "$T/src" "$P/copy"
	else
		expect_eq "$E $F: skipped (made anew)" "$skipped" 0
		tree_same "$T/src" "$P/copy"
	fi
	[ $((skipped + created + updated)) -ge 80 ] ||
		fail "$E $F: skipped $skipped + created $created + updated $updated < 80"
	no_temporaries "$P"
	daemon_exit_ok
	echo "$E $F: $made files whole at the kill, $skipped skipped after"
}

for e in io_uring fallback; do
	run_case "$e" -a
	run_case "$e" -r
done
echo "resume_tree: ok"
