#!/bin/bash
# resume_large: a large file's copy goes on from its last checkpoint
# after the daemon is killed (-9) or stopped halfway (cpd.conf(5),
# jobs.checkpoint_size). The 2 GiB case of issue 17: killed at 50%, the
# restarted job copies at most 60% of the bytes again, by its own count
# (bytes_resumed) and by the kernel's (the new daemon's write_bytes),
# and the result is byte-exact with nothing left beside it. Then, on a
# smaller file: on the fallback engine; a temporary spoiled meanwhile and
# a source changed meanwhile are copied anew (the checkpoint does not
# verify); a source gone meanwhile leaves no temporary; a graceful stop
# (SIGTERM) keeps the checkpoint too.
. "$(dirname "$0")/../lib.sh"

BIG=${RESUME_BIG:-2G}
SMALL=${RESUME_SMALL:-256M}
bytes() { numfmt --from=iec "$1"; }
avail=$(df --output=avail -B1 "$T" | tail -n 1)
need=$(( 2 * $(bytes "$BIG") + $(bytes "$SMALL") * 2 + (256 << 20) ))
[ "$avail" -ge "$need" ] || skip "needs $((need >> 20)) MiB free in $T (has $((avail >> 20)))"

# mkbig PATH SIZE: 64 MiB of random data, each copy of it marked with
# its number, so that no chunk of the file is the same as another.
mkbig() {
	local i n=$(( $(bytes "$2") >> 26 ))
	mkfile "$T/block" 64M
	for ((i = 0; i < n; i++)); do
		printf '%016d' "$i"
		head -c $(((64 << 20) - 16)) "$T/block"
	done >"$1"
	rm -f "$T/block"
}
mkbig "$T/big" "$BIG"
mkbig "$T/small" "$SMALL"
# The small file's cases checkpoint more often, for a few checkpoints before the kill.
write_config "$T/small.conf" 'jobs = { checkpoint_size = "64M"; checkpoint_interval = "16M"; };'

# kill_at SIGNAL ID SIZE: once the job has done half of SIZE, SIGNAL the daemon.
kill_at() {
	local sig=$1 id=$2 half=$(( $3 / 2 )) done=0
	for _ in $(seq 600); do
		done=$(job_get "$id" | jfield parameters.job.bytes_done)
		[ "$done" -ge "$half" ] && break
		sleep 0.05
	done
	[ "$done" -ge "$half" ] || fail "job $id: only $done bytes after 30 s"
	kill "-$sig" "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
	ls "$T"/.cpd-tmp.* >/dev/null 2>&1 || fail "job $id: no temporary after the $sig"
}

# run_case NAME ENGINE SRC SIGNAL [BETWEEN]: copy SRC to $T/NAME at a
# bandwidth that takes a few seconds, SIGNAL the daemon halfway, run
# BETWEEN, start it again and wait for the job. Sets out and written.
run_case() {
	local name=$1 E=$2 src=$3 sig=$4 between=${5:-} size id conf=/dev/null rate
	size=$(stat -c %s "$src")
	[ "$src" = "$T/big" ] || conf=$T/small.conf
	rm -f "$T/$name"
	start_daemon_raw -E "$E" --config "$conf"
	# Two seconds' worth at most: halfway is far from both ends. (A copy
	# faster than the disk takes its checkpoints' syncs waits for them,
	# or they would fall behind it: copy_resume_holds.)
	rate=$((size / 2))
	id=$("$CLIENT" copy --bwlimit "$rate" --detach "$src" "$T/$name") ||
		fail "$name: submit"
	kill_at "$sig" "$id" "$size"
	[ -z "$between" ] || $between
	start_daemon_raw -E "$E" --config "$conf"
	w0=$(awk '/^write_bytes/ {print $2}' /proc/"$DAEMON_PID"/io)
	out=$("$CLIENT" --json wait "$id") || fail "$name: the restarted job: $out"
	written=$(( $(awk '/^write_bytes/ {print $2}' /proc/"$DAEMON_PID"/io) - w0 ))
	expect_eq "$name: state" "$(jget state <<<"$out")" done
	expect_eq "$name: restarts" "$(jget restarts <<<"$out")" 1
	same "$src" "$T/$name"
	no_temporaries "$T"
	stop_daemon
}

resumed() { jget bytes_resumed <<<"$out"; }

# The 2 GiB case: at most 60% copied again.
size=$(bytes "$BIG")
run_case big.copy io_uring "$T/big" KILL
r=$(resumed)
[ "$r" -ge $((size * 4 / 10)) ] ||
	fail "big: $r of $size bytes resumed: more than 60% copied again"
grep -q "big.copy' resumed from its checkpoint" "$DAEMON_LOG" || fail "big: no resume in the log"
start_daemon_raw
"$CLIENT" status "$(jget id <<<"$out")" | grep -q '^bytes_resumed: ' ||
	fail "big: cpd-client status does not show bytes_resumed"
stop_daemon
# The kernel's count, where the file system keeps one (write_bytes: the
# page cache the new daemon's threads dirtied).
[ "$written" -le $((size * 6 / 10 + (16 << 20))) ] ||
	fail "big: the restarted daemon wrote $written bytes of $size"
echo "big: $size bytes, $r resumed ($((100 * (size - r) / size))% copied again), $written written by the new daemon"

size=$(bytes "$SMALL")
run_case small.fallback fallback "$T/small" KILL
[ "$(resumed)" -ge $((size * 4 / 10)) ] || fail "fallback: $(resumed) of $size resumed"

spoil() { dd if=/dev/zero of="$(ls "$T"/.cpd-tmp.* | head -n 1)" bs=1M count=1 conv=notrunc status=none; }
run_case small.spoiled io_uring "$T/small" KILL spoil
expect_eq "spoiled temporary: resumed" "$(resumed)" 0
grep -q "checkpoint of '$T/small.spoiled' does not hold (the temporary differs" "$DAEMON_LOG" ||
	fail "spoiled temporary: not told in the log"

touch_src() { touch -d '2001-01-01' "$T/small"; }
run_case small.changed io_uring "$T/small" KILL touch_src
expect_eq "changed source: resumed" "$(resumed)" 0
grep -q "checkpoint of '$T/small.changed' does not hold (the source changed" "$DAEMON_LOG" ||
	fail "changed source: not told in the log"

run_case small.term io_uring "$T/small" TERM
[ "$(resumed)" -ge $((size * 4 / 10)) ] || fail "SIGTERM: $(resumed) of $size resumed"

# The source goes while the daemon is down: the job fails, and its
# checkpointed temporary (never taken) is removed at its end.
start_daemon_raw --config "$T/small.conf"
id=$("$CLIENT" copy --bwlimit $((size / 2)) --detach "$T/small" "$T/small.gone") || fail "gone: submit"
kill_at KILL "$id" "$size"
mv "$T/small" "$T/small.away"
start_daemon_raw --config "$T/small.conf"
out=$("$CLIENT" --json wait "$id" 2>/dev/null) && fail "gone: the job did not fail"
[ ! -e "$T/small.gone" ] || fail "gone: a destination appeared"
no_temporaries "$T"
daemon_exit_ok
echo "resume_large: ok"
