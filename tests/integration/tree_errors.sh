#!/bin/bash
# tree_errors: failures inside trees. A directory source without recursive
# fails EISDIR. As an unprivileged user (root sets up): a mode-000
# subdirectory of the source fails a recursive job with EACCES naming it;
# with keep_going the job ends done with files_failed and failures[]
# naming the unreadable directory and the unreadable file (EACCES), and
# everything else copied, the unreadable file not appearing at all. An
# unwritable destination directory, and an unwritable subdirectory of a
# tree being merged into, fail EACCES (keep_going: only that part). With
# archive the user cannot make device nodes (EPERM; keep_going skips them)
# nor give files away: ownership and mode bits end as cp -a run by the
# same user makes them (no setuid/setgid on files whose owner or group
# could not be kept). Never a .cpd-tmp.* left behind.
. "$(dirname "$0")/../lib.sh"
trap tree_exit EXIT

start_daemon_raw
state_of() { jfield parameters.job.state <<<"$1"; }
error_of() { jfield parameters.job.error <<<"$1"; }
expect_failed() {	# WHAT REPLIES ERRNO PATH-IN-MESSAGE
	expect_eq "$1: state" "$(state_of "$2")" failed
	expect_eq "$1: error" "$(error_of "$2")" "$3"
	local msg
	msg=$(jfield parameters.job.error_message <<<"$2")
	[[ "$msg" == *"$4"* ]] || fail "$1: error_message does not name '$4': $msg"
}
# failures_ok WHAT REPLIES FILES_DONE_MIN ERRNO SUFFIX...: the job ended
# done with one failure (error ERRNO, message naming the file) per SUFFIX
# whose path ends in it, and no others; methods add up to files_done.
# With one SUFFIX "~PART": one or more failures, each with a path
# containing PART.
failures_ok() {
	local out
	out=$(py - "$@" <<'EOF'
import json, sys
what, replies, fmin, errno = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
want = sys.argv[5:]
contains = len(want) == 1 and want[0].startswith("~")
msgs = [l for l in replies.split("\n") if l.strip()]
j = json.loads(msgs[-1]).get("parameters", {}).get("job") if msgs else None
if not j:
    print("no job: %s" % replies[-1000:]); sys.exit(1)
errs = []
if j.get("state") != "done":
    errs.append("state %s (%s: %s)" % (j.get("state"), j.get("error"), j.get("error_message")))
fl = j.get("failures") or []
if contains:
    part = want[0][1:]
    if not fl or j.get("files_failed") != len(fl):
        errs.append("files_failed %r, failures %r" % (j.get("files_failed"), fl))
    if any(part not in f.get("path", "") for f in fl):
        errs.append("a failure outside %r: %r" % (part, fl))
    want = [f.get("path", "") for f in fl]
elif j.get("files_failed") != len(want) or len(fl) != len(want):
    errs.append("files_failed %r, %d failures, want %d: %r" % (j.get("files_failed"), len(fl), len(want), fl))
for s in want:
    m = [f for f in fl if f.get("path", "").endswith(s)]
    if not m:
        errs.append("no failure with a path ending in %r: %r" % (s, fl))
        continue
    f = m[0]
    if f.get("error") != errno:
        errs.append("%s: error %r, want %s" % (f["path"], f.get("error"), errno))
    # The message names the path that failed: the source, or for a write
    # error the destination of the same item.
    if "/" + f["path"].rsplit("/", 1)[-1] + "'" not in (f.get("error_message") or ""):
        errs.append("%s: error_message does not name it: %r" % (f["path"], f.get("error_message")))
fd = j.get("files_done", -1)
if fd < fmin:
    errs.append("files_done %d < %d" % (fd, fmin))
ms = j.get("methods") or {}
if sum(v for v in ms.values() if isinstance(v, int)) != fd:
    errs.append("methods %r do not add up to files_done %d" % (ms, fd))
if errs:
    print("; ".join(errs)); sys.exit(1)
EOF
) || fail "$1: $out"
}

# 1. A directory without recursive: EISDIR naming it.
mkdir "$T/d"
mkfile "$T/d/f" 10
r=$(copy_wait "" "$T/o1" "$T/d")
expect_failed "directory, no recursive" "$r" EISDIR "$T/d"
r=$(copy_wait '{"recursive": false, "keep_going": false}' "$T/o1" "$T/d")
expect_failed "directory, recursive false" "$r" EISDIR "$T/d"
[ ! -e "$T/o1" ] || fail "directory, no recursive: '$T/o1' created"

need_root "the rest runs as the unprivileged user cpdtest (EISDIR part passed)"
ensure_user cpdtest
U=cpdtest
uid=$(id -u $U)
ucopy() {	# EXTRA DEST SRC...: a Copy as cpdtest, to its end
	varlink_as $U "$(copy_msg "$@")" 120
}
R='{"recursive": true}'
RK='{"recursive": true, "keep_going": true}'
mkdir "$T/u"
cd "$T/u"
mkdir -p src/sub src/z/w src/locked/y
mkfile src/a 3000
mkfile src/b $((200 * 1024))
mkfile src/sub/c 10
mkfile src/sub/d 20
mkfile src/z/w/e 30
mkfile src/locked/x 40
mkfile src/locked/y/z 50
ln -s a src/link
chown -R $U: "$T/u"
chmod 000 src/locked

# 2. Recursive, no keep_going: EACCES naming the unreadable directory.
r=$(ucopy "$R" "$T/u/out1" "$T/u/src")
expect_failed "unreadable subdirectory" "$r" EACCES "$T/u/src/locked"
expect_eq "unreadable subdirectory: uid" "$(jfield parameters.job.uid <<<"$r")" "$uid"
no_temporaries "$T/u"

# 3. keep_going: the job is done, both unreadable entries are reported and
#    everything else is copied; the unreadable file does not appear.
mkfile src/secret 60
chown $U: src/secret
chmod 000 src/secret
r=$(ucopy "$RK" "$T/u/out2" "$T/u/src")
readable=$(find src -path src/locked -prune -o -type f ! -name secret -print | wc -l)
failures_ok "keep_going" "$r" "$readable" EACCES /src/locked /src/secret
expect_eq "keep_going: job.keep_going" "$(jfield parameters.job.keep_going <<<"$r")" true
tree_same --plain 022 --exclude locked --exclude secret "$T/u/src" "$T/u/out2"
[ ! -e "$T/u/out2/secret" ] && [ ! -L "$T/u/out2/secret" ] ||
	fail "keep_going: the unreadable file appears in the copy: $(ls -l "$T/u/out2/secret")"
expect_eq "keep_going: owner of the copy" "$(stat -c %u "$T/u/out2/sub/c")" "$uid"
# Get returns the same failures after the end.
id=$(jfield parameters.job.id <<<"$r")
r2=$(varlink_as $U "{\"method\":\"io.cpd.Manager.Get\",\"parameters\":{\"id\":$id}}" 10)
expect_eq "keep_going: Get failures" "$(jfield parameters.job.failures <<<"$r2")" \
	"$(jfield parameters.job.failures <<<"$r")"
no_temporaries "$T/u"
chmod 700 src/locked
rm -f src/secret

# 4. An unwritable destination directory (root's, 0755): EACCES naming it.
mkdir "$T/rootdir"
r=$(ucopy "$R" "$T/rootdir/x" "$T/u/src")
expect_failed "unwritable destination" "$r" EACCES "$T/rootdir"
[ -z "$(ls -A "$T/rootdir")" ] || fail "unwritable destination: something was created"

# 5. Merging into a copy whose subdirectory is root's: EACCES naming it;
#    with keep_going the rest is copied.
for k in plain keep; do
	mkdir -p "$T/u/m-$k/src/sub"
	chown $U: "$T/u/m-$k" "$T/u/m-$k/src"
	# m-$k/src/sub stays root's, 0755.
done
r=$(ucopy "$R" "$T/u/m-plain" "$T/u/src")
expect_failed "unwritable subdirectory" "$r" EACCES "$T/u/m-plain/src/sub"
r=$(ucopy "$RK" "$T/u/m-keep" "$T/u/src")
failures_ok "unwritable subdirectory, keep_going" "$r" 4 EACCES "~/src/sub"
tree_same --plain 022 --exclude sub "$T/u/src" "$T/u/m-keep/src"
expect_eq "unwritable subdirectory: left alone" "$(ls -A "$T/u/m-keep/src/sub")" ""
no_temporaries "$T/u"

# 6. archive as the user: no device nodes (EPERM), no giving files away.
# Files it cannot give away keep no setuid/setgid bit (as with cp -a);
# its own keep theirs; a sticky directory stays sticky.
mkdir -p "$T/ar/src/dir" "$T/ar/src/sticky"
mkfile "$T/ar/src/rootfile" 1000
chmod 4755 "$T/ar/src/rootfile"
mkfile "$T/ar/src/rootsgid" 1000
chmod 2755 "$T/ar/src/rootsgid"
mkfile "$T/ar/src/mygid" 100
chown $U:root "$T/ar/src/mygid"
chmod 2755 "$T/ar/src/mygid"
mkfile "$T/ar/src/dir/mine" 100
chown $U: "$T/ar/src/dir/mine"
chmod 6750 "$T/ar/src/dir/mine"
chmod 1777 "$T/ar/src/sticky"
mkfifo "$T/ar/src/fifo"
tree_set_times "$T/ar/src"
mkdir "$T/ar/cpa" "$T/ar/cpd"
chown $U: "$T/ar/cpa" "$T/ar/cpd"
as_user $U cp -a "$T/ar/src" "$T/ar/cpa/" 2>"$T/cp.err" ||
	fail "setup: cp -a as $U: $(cat "$T/cp.err")"
r=$(ucopy '{"archive": true}' "$T/ar/cpd" "$T/ar/src")
expect_eq "archive as user: state" "$(state_of "$r")" done
tree_same --archive "$T/ar/cpa/src" "$T/ar/cpd/src"
expect_eq "archive as user: owner" "$(stat -c %u "$T/ar/cpd/src/rootfile")" "$uid"
# A device node: EPERM for the user; keep_going copies the rest.
mkdir "$T/ar/dsrc"
mkfile "$T/ar/dsrc/f" 100
mkfifo "$T/ar/dsrc/fifo"
mknod "$T/ar/dsrc/dev0" c 1 3
r=$(ucopy '{"archive": true}' "$T/ar/cpd/dev-plain" "$T/ar/dsrc")
expect_failed "device as user" "$r" EPERM "/dev0"
r=$(ucopy '{"archive": true, "keep_going": true}' "$T/ar/cpd/dev-keep" "$T/ar/dsrc")
failures_ok "device as user, keep_going" "$r" 1 EPERM /dev0
same "$T/ar/dsrc/f" "$T/ar/cpd/dev-keep/f"
[ -p "$T/ar/cpd/dev-keep/fifo" ] || fail "device as user, keep_going: the FIFO was not made"
[ ! -e "$T/ar/cpd/dev-keep/dev0" ] || fail "device as user, keep_going: dev0 was created"
no_temporaries "$T"

r=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
expect_eq "daemon still serving: jobs_running" "$(jfield parameters.jobs_running <<<"$r")" 0
daemon_exit_ok
echo "PASS: tree_errors"
