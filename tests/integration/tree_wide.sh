#!/bin/bash
# tree_wide: a tree of many sibling directories is copied whole within a
# small share of directory fds (jobs.dir_fds_per_user = 64, 32 open
# directories): siblings are started a few at a time (tree_may_start),
# so the job neither runs out of fds (before: EMFILE "its user's share of
# directory fds ... is taken", with nothing else running) nor stalls
# waiting for itself. Both engines, nested three levels wide.
. "$(dirname "$0")/../lib.sh"

py - "$T/src" <<'EOF2'
import os, sys
root = sys.argv[1]
for i in range(400):
    for j in range(3 if i % 50 == 0 else 1):
        d = os.path.join(root, "d%d" % i, "e%d" % j)
        os.makedirs(d)
        for k in range(2):
            with open(os.path.join(d, "f%d" % k), "w") as f:
                f.write("%d %d %d\n" % (i, j, k))
EOF2
write_config "$T/cpd.conf" "jobs = { dir_fds_per_user = 64; };"
for e in io_uring fallback; do
	start_daemon_raw -E "$e" --config "$T/cpd.conf"
	"$CLIENT" copy -a "$T/src" "$T/dst-$e" || fail "$e: the wide tree was not copied"
	tree_same --archive --no-atime "$T/src" "$T/dst-$e"
	daemon_exit_ok
done
echo "tree_wide: ok"
