#!/bin/bash
# faults_sweep: every kind of engine operation failing, once, in an
# archive copy of a tree that has every kind of entry (a multi-chunk
# file, a sparse file, a hard link, a symlink, a FIFO, nested
# directories), synced, with both engines. Whatever fails, the job ends:
# failed with EIO and a message naming a path, or done with a whole copy
# when the failure had a way around it (a clone or an extent map that
# fails falls back to copying the data); it leaves no temporary; a later
# job succeeds; and the daemon exits cleanly (the sanitizer build checks
# the failure paths for memory errors).
. "$(dirname "$0")/../lib.sh"

S="$T/src"
mkdir -p "$S/d/e"
mkfile "$S/big" 3M
echo hi >"$S/small"
ln "$S/small" "$S/d/hard"
ln -s small "$S/link"
truncate -s 10M "$S/sparse"
echo data | dd of="$S/sparse" bs=1 seek=5M conv=notrunc status=none
mkfifo "$S/d/fifo"
echo x >"$S/d/e/f"
opts='{"recursive": true, "archive": true, "sync": true}'

n=0
for engine in io_uring fallback; do
	for op in open statx copy fsync rename unlink mkdir symlink link readdir readlink \
		mknod meta clone extents truncate; do
		for nth in 1 2; do
			what="$engine $op:$nth"
			start_daemon_raw -E "$engine" --fault "$op:$nth:EIO"
			D="$T/dst"
			r=$(copy_wait "$opts" "$D" "$S")
			case $(jfield parameters.job.state <<<"$r") in
			failed)
				expect_job_failed "$what" "$r" EIO "*'$T*'*: Input/output error"
				n=$((n + 1)) ;;
			done)
				tree_same --archive --no-atime "$S" "$D" ;;
			*)	fail "$what: the job did not end: $r" ;;
			esac
			no_temporaries "$T"
			daemon_serves "$what"
			daemon_exit_ok
			rm -rf "$D" "$T"/serves.*
		done
	done
done
# Most of the faults must have struck; a sweep where none did tests nothing.
[ $n -ge 40 ] || fail "only $n of 64 runs failed their job"
echo "PASS: faults_sweep ($n of 64 runs failed their job)"
