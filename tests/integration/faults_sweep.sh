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

# OP:N, and how the job ends. A failing clone or extent map has a way
# around it (copying the data), and a job that goes well unlinks nothing.
# The one rename is the new tree's, into place (tree.c). The first calls
# are the job's own (scan.c: the source examined, the destination's
# device, the destination resolved); then the tree's and the small
# files' copied whole (copy_whole.c).
specs="open:1 open:2 open:4 statx:1 statx:2 statx:4 copy:1 copy:2 copy:4 fsync:1 fsync:2
	rename:1 mkdir:1 mkdir:2 symlink:1 link:1 readdir:1 readdir:2 readlink:1
	mknod:1 meta:1 meta:2 truncate:1 unlink:1 clone:1 extents:1 call:1 call:2 call:3
	call:5"
for engine in io_uring fallback; do
	for spec in $specs; do
		what="$engine $spec"
		case $spec in
		unlink:*|clone:*|extents:*) want=done ;;
		*) want=failed ;;
		esac
		start_daemon_raw -E "$engine" --fault "$spec:EIO"
		D="$T/dst"
		r=$(copy_wait "$opts" "$D" "$S")
		if [ $want = failed ]; then
			expect_job_failed "$what" "$r" EIO "*'$T*'*: Input/output error"
		else
			expect_eq "$what: state" "$(jfield parameters.job.state <<<"$r")" done
			tree_same --archive --no-atime "$S" "$D"
		fi
		no_temporaries "$T"
		daemon_serves "$what"
		daemon_exit_ok
		rm -rf "$D" "$T"/serves.*
	done
done
echo "PASS: faults_sweep"
