#!/bin/bash
# faults: injected failures (cpd --fault) in the middle of a copy, with the
# io_uring engine, the fallback engine and (as root, where the sysctl
# exists) with io_uring disabled by kernel.io_uring_disabled=2: a data
# chunk failing with EIO, an fsync failing with EIO under sync, linking a
# new file in and renaming over an old one failing with EDQUOT. Each
# fails its job with the errno and a message naming the path, leaves
# nothing new under the final name (an old file intact) and no temporary,
# and the next job copies correctly. A failed fsync of the directory
# (after the renames) fails the job with the files in place, as cpd(8)
# says. Malformed --fault options are refused.
. "$(dirname "$0")/../lib.sh"

mkdir "$T/src"
mkfile "$T/src/big" $((5 * 1024 * 1024 + 4095))
mkfile "$T/src/small" 3000

for spec in nosuch:1 copy:0 copy:-1 copy: copy:1:ENOTANERRNO copy:1:EIO:x fsync; do
	if "$CPD" --fault "$spec" -f /dev/null -s "$T/bad.sock" >"$T/bad.out" 2>&1; then
		fail "--fault $spec accepted"
	fi
	grep -q "bad --fault '$spec'" "$T/bad.out" || fail "--fault $spec: message: $(cat "$T/bad.out")"
done

SYSCTL=/proc/sys/kernel/io_uring_disabled
modes="io_uring fallback"
if [ "$(id -u)" -eq 0 ] && [ -w "$SYSCTL" ]; then
	modes="$modes disabled"
	old=$(cat "$SYSCTL")
	restore() { echo "$old" >"$SYSCTL" 2>/dev/null || true; }
	trap 'rc=$?; restore; set +e; (exit $rc); cleanup' EXIT
else
	echo "note: not testing with kernel.io_uring_disabled=2 (needs root and $SYSCTL)"
fi

never='{"reflink": "never"}'	# a clone would skip the data operations
for mode in $modes; do
	: >"$DAEMON_LOG"
	# fsync 1: the file of the second job; 2 and 3 the files of the
	# fourth, 4 its directory.
	faults=(--fault copy:2:EIO --fault fsync:1:EIO --fault link:1:EDQUOT
		--fault rename:1:EDQUOT --fault fsync:4:EIO)
	if [ "$mode" = disabled ]; then
		echo 2 >"$SYSCTL"
		start_daemon_raw "${faults[@]}"
		restore		# the daemon has chosen its engine
		expect_eq "disabled: one log line on io_uring" \
			"$(grep -i io_uring "$DAEMON_LOG" | grep -ci fallback)" 1
		engine=fallback
	else
		start_daemon_raw -E "$mode" "${faults[@]}"
		engine=$mode
	fi
	r=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
	expect_eq "$mode: engine" "$(jfield parameters.engine <<<"$r")" "$engine"
	out="$T/out-$mode"
	mkdir "$out"

	# The second data chunk fails: the first ones were written to the temporary.
	r=$(copy_wait "$never" "$out/big" "$T/src/big")
	expect_job_failed "$mode: copy EIO" "$r" EIO \
		"cannot copy '$T/src/big' to '$out/big': Input/output error"
	grep -q 'fault injection: copy operation 2 fails with EIO' "$DAEMON_LOG" ||
		fail "$mode: no log line for the injected copy fault"
	[ ! -e "$out/big" ] || fail "$mode: copy EIO: destination exists"
	no_temporaries "$out"

	# The first fsync error is final: the file is not published.
	r=$(copy_wait '{"reflink": "never", "sync": true}' "$out/small" "$T/src/small")
	expect_job_failed "$mode: fsync EIO" "$r" EIO "cannot sync '$out/small': Input/output error"
	[ ! -e "$out/small" ] || fail "$mode: fsync EIO: destination exists"
	no_temporaries "$out"

	# A new file is linked in from a nameless temporary (O_TMPFILE)...
	r=$(copy_wait "$never" "$out/small2" "$T/src/small")
	expect_job_failed "$mode: link EDQUOT" "$r" EDQUOT \
		"cannot create '$out/small2': Disk quota exceeded"
	[ ! -e "$out/small2" ] || fail "$mode: link EDQUOT: destination exists"
	no_temporaries "$out"
	# ...one that replaces a file is renamed over it from a named one.
	echo old >"$out/small3"
	r=$(copy_wait "$never" "$out/small3" "$T/src/small")
	expect_job_failed "$mode: rename EDQUOT" "$r" EDQUOT \
		"cannot rename into '$out/small3': Disk quota exceeded"
	expect_eq "$mode: rename EDQUOT: the old file" "$(cat "$out/small3")" old
	rm "$out/small3"
	no_temporaries "$out"

	r=$(copy_wait '{"reflink": "never", "sync": true}' "$out" "$T/src/big" "$T/src/small")
	expect_job_failed "$mode: directory fsync EIO" "$r" EIO \
		"cannot sync directory '$out': Input/output error"
	same "$T/src/big" "$out/big"
	same "$T/src/small" "$out/small"
	rm "$out/big" "$out/small"

	# Every fault has struck: the same copies now succeed.
	r=$(copy_wait '{"reflink": "never", "sync": true}' "$out" "$T/src/big" "$T/src/small")
	expect_eq "$mode: after the faults" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/src/big" "$out/big"
	same "$T/src/small" "$out/small"
	expect_eq "$mode: entries" "$(ls -A "$out" | tr '\n' ' ')" "big small "
	r=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
	expect_eq "$mode: jobs_failed" "$(jfield parameters.jobs_failed <<<"$r")" 5
	daemon_exit_ok
done
echo "PASS: faults ($modes)"
