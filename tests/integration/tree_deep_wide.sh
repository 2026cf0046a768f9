#!/bin/bash
# tree_deep_wide: a tree both deep and wide copies within a share of
# directory fds far smaller than twice its depth. Each of its 20 levels
# holds 3,000 files beside its one subdirectory, listed at the end of
# the first read of the level's entries (32 KiB of entries: 186 of these
# names), on a tmpfs of its own, whose listing order is the order of
# creation. So the copy goes down a level after each first read, while
# every level above still has thousands of entries to read. Before,
# such a level kept its two fds (only a level with nothing left but
# subdirectories closed them: tree_window.c): the tree took 2 fds per
# level, and with a share of 28 failed with EMFILE 14 levels down (on
# io_uring; on the fallback engine at times). Now a
# level closes them too, and is reopened by its names (checked to be the
# same directories) when it is its turn to read on or to start entries.
# 1. On both engines, copied -a as cpdtest: done, every file counted,
#    none failed, the copy the same as the source (data, modes, times);
#    the daemon log shows levels closing their fds.
# 2. io_uring (where the listing runs ahead of the copies, so levels
#    close with entries still to read): paused while a level is closed
#    with entries still to read, that level is renamed and a new one
#    made in its place. Resumed, the copy does not go on through the new
#    one (ESTALE, "reopening it"), the job fails saying so, and no
#    temporaries are left. (On the fallback engine, whose pool threads
#    both copy and list, each level has read all its entries by the time
#    it closes: the log shows none closing with entries to read.)
. "$(dirname "$0")/../lib.sh"
need_root "mounts a tmpfs; runs a root daemon for the unprivileged user cpdtest"
ensure_user cpdtest

M=$T/m
mkdir -p "$M"
mount -t tmpfs -o size=1g,mode=0755 tmpfs "$M" || skip "cannot mount a tmpfs"
trap 'rc=$?; set +e; stop_daemon; umount -l "$M"; (exit $rc); cleanup' EXIT
install -d -o cpdtest -g cpdtest "$M/u"
DEPTH=20 WIDE=3000
as_user cpdtest "$PYTHON" - "$M/u/src" "$DEPTH" "$WIDE" <<'PY' || fail "cannot make the tree"
import os, sys
top, depth, wide = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
BATCH = 180	# entries a level lists before its subdirectory: within its first read
# The listing order of this file system: creation's, or its reverse.
os.makedirs(os.path.join(top, "probe"))
for n in "ab":
    open(os.path.join(top, "probe", n), "w").close()
newest_first = [e.name for e in os.scandir(os.path.join(top, "probe"))] == ["b", "a"]
for n in "ab":
    os.unlink(os.path.join(top, "probe", n))
os.rmdir(os.path.join(top, "probe"))
at = wide - BATCH if newest_first else BATCH
d = top
for level in range(depth):
    for i in range(wide):
        if i == at and level < depth - 1:
            os.mkdir(os.path.join(d, "d"))
        with open(os.path.join(d, "%04d-" % i + "n" * 145), "w") as f:
            f.write("%d" % (i % 10))
    d = os.path.join(d, "d")
names = [e.name for e in os.scandir(top)]
if abs(names.index("d") - BATCH) > 2:
    sys.exit("the subdirectory is listed at %d, not %d" % (names.index("d"), BATCH))
PY
tree_set_times "$M/u/src"
files=$((DEPTH * WIDE))
write_config "$T/cpd.conf" "jobs = { dir_fds_per_user = 28; };"

for e in io_uring fallback; do
	# 1. The whole tree, within the share.
	: >"$DAEMON_LOG"
	start_daemon_raw -E "$e" --config "$T/cpd.conf"
	r=$(varlink_as cpdtest "$(copy_msg '{"archive": true}' "$M/u/dst-$e" "$M/u/src")" 120)
	tree_job_ok "$e: the deep and wide tree" "$r" "$files" "$files" "$files" "$files"
	tree_same --archive --no-atime "$M/u/src" "$M/u/dst-$e"
	grep -q "closes its fds" "$DAEMON_LOG" || fail "$e: no directory closed its fds"
	rm -rf "$M/u/dst-$e"
	if [ "$e" = fallback ]; then
		daemon_exit_ok
		continue
	fi

	# 2. A closed level, renamed and replaced under the paused copy.
	: >"$DAEMON_LOG"
	r=$(varlink_as cpdtest "$(copy_msg '{"__more": false, "recursive": true, "bwlimit": 10000}' \
		"$M/u/out-$e" "$M/u/src")" 10)
	id=$(jfield parameters.job.id <<<"$r")
	[[ "$id" =~ ^[0-9]+$ ]] || fail "$e: cpdtest's Copy: $r"
	# Paused, until a level is closed with entries left (the pause may
	# fall where the one closed last was just reopened: resumed, tried again).
	lvl=
	for try in 1 2 3 4 5 6; do
		for _ in $(seq 600); do
			[ "$(grep -c "closes its fds, with entries still to read" "$DAEMON_LOG")" -ge \
				$((try * 3)) ] && break
			sleep 0.05
		done
		call_as cpdtest Pause "$id" >/dev/null
		# Settled: nothing more is logged once what was in flight has ended.
		size=-1
		while [ "$size" != "$(stat -c %s "$DAEMON_LOG")" ]; do
			size=$(stat -c %s "$DAEMON_LOG")
			sleep 0.3
		done
		# The deepest level whose last word is that it closed with entries left.
		lvl=$("$PYTHON" - "$DAEMON_LOG" <<'PY'
import re, sys
last = {}
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"directory '(.*)' (closes its fds, with entries still to read|reopened to go on)", line)
    if m:
        last[m.group(1)] = m.group(2).startswith("closes")
closed = [p for p, c in last.items() if c]
print(max(closed, key=len) if closed else "")
PY
)
		[ -n "$lvl" ] && break
		call_as cpdtest Resume "$id" >/dev/null
	done
	[ -n "$lvl" ] || fail "$e: no level was closed with entries left while paused, in 6 pauses"
	as_user cpdtest mv "$lvl" "$M/u/moved"
	as_user cpdtest mkdir "$lvl"
	call_as cpdtest Resume "$id" >/dev/null
	r=$(job_wait "$id")
	expect_eq "$e: the job whose level was replaced" "$(jfield parameters.job.state <<<"$r")" failed
	[[ "$r" == *"reopening it"* ]] || fail "$e: the job does not say it could not reopen: $r"
	# It, or a level below it that was reopened through it first.
	grep "cannot reopen directory '$lvl[/']" "$DAEMON_LOG" | grep -q "Stale file handle" ||
		fail "$e: '$lvl' was not found changed"
	no_temporaries "$M/u"
	as_user cpdtest rmdir "$lvl"
	as_user cpdtest mv "$M/u/moved" "$lvl"
	rm -rf "$M/u/out-$e"
	daemon_exit_ok
	! grep -q 'Sanitizer\|runtime error' "$DAEMON_LOG" || fail "$e: sanitizer report"
done
echo "tree_deep_wide: ok"
