#!/bin/bash
# faults_quota: a user over their disk quota (a tmpfs with a 2 MiB user
# block limit; root only, kernel with CONFIG_TMPFS_QUOTA). An unprivileged
# user's 4 MiB copy fails with EDQUOT naming the destination, leaves no
# file and no temporary and frees its blocks; a file within the quota is
# then copied. (Root's own copies ignore quotas, so the job runs as a user.)
. "$(dirname "$0")/../lib.sh"
need_root "mounts a tmpfs with quotas and runs a job as another user"

ensure_user cpdtest
mkdir "$T/mnt" "$T/src"
mkfile "$T/src/big" 4M
mkfile "$T/src/fits" 512K
chmod 644 "$T/src/big" "$T/src/fits"
mount -t tmpfs -o size=32m,mode=1777,usrquota,usrquota_block_hardlimit=2m cpd-test "$T/mnt" ||
	skip "no tmpfs user quotas on this kernel (CONFIG_TMPFS_QUOTA); EDQUOT is covered by injection in faults.sh"
trap 'rc=$?; set +e; stop_daemon; umount "$T/mnt"; (exit $rc); cleanup' EXIT
M="$T/mnt"

for engine in io_uring fallback; do
	start_daemon_raw -E "$engine"
	r=$(varlink_as cpdtest "$(copy_msg "" "$M/big" "$T/src/big")")
	expect_job_failed "$engine: over quota" "$r" EDQUOT "*'$M/big'*" "*: Disk quota exceeded"
	[ ! -e "$M/big" ] || fail "$engine: over quota: destination exists"
	no_temporaries "$M"
	expect_eq "$engine: free blocks" "$(stat -f -c %f "$M")" "$(stat -f -c %b "$M")"
	r=$(varlink_as cpdtest "$(copy_msg "" "$M/fits" "$T/src/fits")")
	expect_eq "$engine: within quota" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/src/fits" "$M/fits"
	rm -f "$M/fits"
	daemon_exit_ok
done
echo "PASS: faults_quota"
