#!/bin/bash
# publish: how a finished copy gets its final name, with both engines. A
# new file is written nameless (O_TMPFILE) and linked in: while it is
# copied, no name of any kind appears in the destination directory. If
# the name appears meanwhile (another process creates it), a plain copy
# replaces it (by a hidden temporary renamed over it) and a no_clobber
# copy fails with EEXIST leaving the other file alone. A filesystem
# without O_TMPFILE (simulated: the seventh open of the daemon, which is
# the temporary's, after the source examined, the destination's device
# looked up (the new name, then its directory), the destination resolved
# (the same two) and the source opened, fails with EOPNOTSUPP) falls
# back to a named temporary, and the daemon logs it. A new tree is made
# under a temporary directory name and renamed into place whole: while
# it is copied its name does not appear; if the name appears meanwhile,
# the job fails with EEXIST, the other directory is left alone and the
# copy is removed. As root: another user's copy is linked in (a file) or
# renamed into place (a tree) with that user's credentials and belongs
# to them.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/src" "$T/tree/sub"
mkfile "$T/src/f" 4M
mkfile "$T/tree/big" 4M
mkfile "$T/tree/sub/small" 10K
slow='{"bwlimit": 2097152, "reflink": "never"}'	# 4 MiB: 2 s

# slow_copy EXTRA DEST [SRC]: start a slow copy of SRC (src/f) to DEST in
# the background (replies to $T/replies), return once its data is under way.
slow_copy() {
	copy_wait "$1" "$2" "${3:-$T/src/f}" >"$T/replies" &
	COPY_PID=$!
	wait_tmp "$(dirname "$2")"
}

for engine in io_uring fallback; do
	start_daemon_raw -E "$engine"
	out="$T/out-$engine"
	mkdir "$out"

	slow_copy "$slow" "$out/new"
	expect_eq "$engine: entries while copying" "$(ls -A "$out")" ""
	wait $COPY_PID || fail "$engine: the Copy call failed"
	expect_eq "$engine: new: state" "$(jfield parameters.job.state <<<"$(cat "$T/replies")")" done
	same "$T/src/f" "$out/new"

	slow_copy "$slow" "$out/raced"
	echo other >"$out/raced"
	wait $COPY_PID || fail "$engine: the Copy call failed"
	expect_eq "$engine: raced: state" "$(jfield parameters.job.state <<<"$(cat "$T/replies")")" done
	same "$T/src/f" "$out/raced"
	no_temporaries "$out"

	slow_copy '{"bwlimit": 2097152, "reflink": "never", "no_clobber": true}' "$out/kept"
	echo other >"$out/kept"
	wait $COPY_PID || fail "$engine: the Copy call failed"
	expect_job_failed "$engine: no_clobber raced" "$(cat "$T/replies")" EEXIST \
		"'$out/kept' not replaced*"
	expect_eq "$engine: no_clobber raced: the other file" "$(cat "$out/kept")" other
	no_temporaries "$out"

	tslow='{"bwlimit": 2097152, "reflink": "never", "recursive": true}'
	slow_copy "$tslow" "$out/newtree" "$T/tree"
	[ ! -e "$out/newtree" ] || fail "$engine: a new tree appeared before it was whole"
	ls -A "$out" | grep -q '^\.cpd-tmp\.' || fail "$engine: no temporary directory: $(ls -A "$out")"
	wait $COPY_PID || fail "$engine: the Copy call failed"
	expect_eq "$engine: new tree: state" "$(jfield parameters.job.state <<<"$(cat "$T/replies")")" done
	tree_same "$T/tree" "$out/newtree"
	no_temporaries "$out"

	slow_copy "$tslow" "$out/racedtree" "$T/tree"
	mkdir "$out/racedtree"
	echo other >"$out/racedtree/mine"
	wait $COPY_PID || fail "$engine: the Copy call failed"
	expect_job_failed "$engine: tree raced" "$(cat "$T/replies")" EEXIST \
		"cannot put the copy in place as '$out/racedtree': *"
	expect_eq "$engine: tree raced: the other directory" "$(ls -A "$out/racedtree")" mine
	no_temporaries "$out"
	daemon_exit_ok

	# Another user's copy: linked in with that user's credentials
	# (AT_EMPTY_PATH, or through /proc/self/fd where the kernel refuses
	# that; cpd -d logs which); a tree renamed into place by them.
	if [ "$(id -u)" -eq 0 ]; then
		ensure_user cpdtest
		start_daemon_raw -E "$engine"
		mkdir "$out/user"
		chown cpdtest: "$out/user"
		r=$(varlink_as cpdtest "$(copy_msg '' "$out/user/" "$T/src/f")")
		expect_eq "$engine: cpdtest: state" "$(jfield parameters.job.state <<<"$r")" done
		same "$T/src/f" "$out/user/f"
		expect_eq "$engine: cpdtest: owner" "$(stat -c %U "$out/user/f")" cpdtest
		r=$(varlink_as cpdtest "$(copy_msg '{"recursive": true}' "$out/user/" "$T/src")")
		expect_eq "$engine: cpdtest: tree: state" "$(jfield parameters.job.state <<<"$r")" done
		same "$T/src/f" "$out/user/src/f"
		expect_eq "$engine: cpdtest: tree owner" "$(stat -c %U "$out/user/src" "$out/user/src/f" |
			sort -u)" cpdtest
		echo "$engine: a user's link: $(grep -c 'AT_EMPTY_PATH) refused' "$DAEMON_LOG" || true) refusal(s)"
		no_temporaries "$out"
		daemon_exit_ok
	fi

	: >"$DAEMON_LOG"
	start_daemon_raw -E "$engine" --fault open:7:EOPNOTSUPP
	r=$(copy_wait "" "$out/plain" "$T/src/f")
	expect_eq "$engine: no O_TMPFILE: state" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/src/f" "$out/plain"
	expect_eq "$engine: no O_TMPFILE: log lines" "$(grep -c 'no O_TMPFILE beside' "$DAEMON_LOG")" 1
	no_temporaries "$out"
	daemon_exit_ok
done
echo "PASS: publish"
