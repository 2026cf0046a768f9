#!/bin/bash
# faults_space: a destination filesystem that fills up (an 8 MiB tmpfs;
# root only), with both engines. A file larger than the space fails its
# job with ENOSPC naming the destination, nothing is left under its name,
# no temporary stays and every block is freed again (no temporary is
# held open either). A tree that does not fit fails the same way; the
# files it completed are whole copies. A job copying elsewhere meanwhile
# is not disturbed. Then a file that fits is copied.
. "$(dirname "$0")/../lib.sh"
need_root "mounts a tmpfs"

mkdir "$T/src" "$T/mnt" "$T/src/tree"
mkfile "$T/src/big" 12M
mkfile "$T/src/fits" 1M
for i in 1 2 3 4; do mkfile "$T/src/tree/f$i" 3M; done
mount -t tmpfs -o size=8m,mode=0755 cpd-test "$T/mnt" || skip "cannot mount a tmpfs"
trap 'rc=$?; set +e; stop_daemon; umount "$T/mnt"; (exit $rc); cleanup' EXIT
M="$T/mnt"

# all_free: every block of the tmpfs is free again.
all_free() {
	expect_eq "$1: free blocks" "$(stat -f -c %f "$M")" "$(stat -f -c %b "$M")"
}

for engine in io_uring fallback; do
	start_daemon_raw -E "$engine"
	# Slow (2 MiB/s), so it runs through the failures below.
	other=$(copy_detached '{"bwlimit": 2097152}' "$T/other-$engine" "$T/src/big")
	r=$(copy_wait "" "$M/" "$T/src/big")
	expect_job_failed "$engine: big" "$r" ENOSPC "*'$M/big'*" "*: No space left on device"
	[ ! -e "$M/big" ] || fail "$engine: big: destination exists"
	no_temporaries "$M"
	all_free "$engine: big"

	r=$(copy_wait '{"recursive": true}' "$M/tree" "$T/src/tree")
	expect_job_failed "$engine: tree" "$r" ENOSPC "*'$M/tree/f*" "*: No space left on device"
	no_temporaries "$M"
	for f in "$M"/tree/*; do
		[ -e "$f" ] || continue
		same "$T/src/tree/$(basename "$f")" "$f"
	done
	rm -rf "${M:?}"/*
	all_free "$engine: tree"

	r=$(job_wait "$other")
	expect_eq "$engine: the other job" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/src/big" "$T/other-$engine"

	r=$(copy_wait "" "$M/" "$T/src/fits")
	expect_eq "$engine: a file that fits" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/src/fits" "$M/fits"
	rm -f "$M/fits"
	daemon_exit_ok
done
echo "PASS: faults_space"
