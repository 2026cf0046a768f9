#!/bin/bash
# sync: with "sync" a file is fsynced (after its attributes) before it is
# linked in (or renamed into place), and every directory that got new
# names is fsynced after that; a new tree, made under a temporary name,
# has all in it fsynced (directories after their contents) before it is
# renamed into place, and its parent after; the job's journal record is
# fsynced; without sync nothing is. A failed
# fsync is final: the file is not published, no temporary is left, and
# the job fails (also with keep_going). The fallback engine makes plain
# system calls, which strace sees and an LD_PRELOAD shim can fail.
. "$(dirname "$0")/../lib.sh"

command -v strace >/dev/null || skip "strace is not installed"
command -v cc >/dev/null || skip "no C compiler for the fsync shim"
mkdir -p "$T/out" "$T/tree/sub/deep" "$T/fail"
mkfile "$T/f" 200K
mkfile "$T/tree/a" 10K
mkfile "$T/tree/sub/b" 20K
mkfile "$T/tree/sub/deep/c" 30K

# ---- The order of fsyncs and links or renames, seen by strace.
"$CPD" --socket "$CPD_SOCKET" --config /dev/null --state-dir "$T/state" -d -E fallback \
	>>"$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 200); do varlink_up && break; sleep 0.05; done
varlink_up || fail "daemon did not come up"
strace_daemon "$T/trace" -y -e trace=fsync,renameat,renameat2,linkat
r=$(copy_wait '{"sync": true}' "$T/out/f" "$T/f")
expect_eq "sync copy" "$(jfield parameters.job.state <<<"$r")" done
r=$(copy_wait '{"sync": true, "recursive": true}' "$T/out/" "$T/tree")
expect_eq "sync tree copy" "$(jfield parameters.job.state <<<"$r")" done
r=$(copy_wait '' "$T/out/nosync" "$T/f")
expect_eq "copy without sync" "$(jfield parameters.job.state <<<"$r")" done
kill "$TRACER"; wait "$TRACER" 2>/dev/null || true
daemon_exit_ok
same "$T/f" "$T/out/f"
tree_same "$T/tree" "$T/out/tree"

py - "$T" "$T/trace" <<'PYEOF' || fail "the order of fsync and link or rename is wrong (trace in the log above)"
import re, sys
t, trace = sys.argv[1], sys.argv[2]
lines = [l for l in open(trace) if "fsync(" in l or "renameat" in l or "linkat(" in l]
# ("fsync", path, fd); ("publish", temporary, destination): a rename of a
# named temporary, or a link of a nameless one, "fd N" (O_TMPFILE).
ev = []
for l in lines:
    m = re.search(r'fsync\((\d+)<([^>]*)>', l)
    if m:
        ev.append(("fsync", m.group(2), "fd " + m.group(1)))
        continue
    m = re.search(r'renameat2?\(\d+<([^>]*)>, "([^"]*)", \d+<[^>]*>, "([^"]*)"', l)
    if m:
        ev.append(("publish", m.group(1) + "/" + m.group(2), m.group(1) + "/" + m.group(3)))
        continue
    m = re.search(r'linkat\(AT_FDCWD[^,]*, "/proc/self/fd/(\d+)", \d+<([^>]*)>, "([^"]*)"', l) or \
        re.search(r'linkat\((\d+)<[^,]*, "", \d+<([^>]*)>, "([^"]*)", AT_EMPTY_PATH', l)
    if m:
        ev.append(("publish", "fd " + m.group(1), m.group(2) + "/" + m.group(3)))
def idx(pred, what):
    for i, e in enumerate(ev):
        if pred(e):
            return i
    print("not found: %s" % what); print("".join(lines)); sys.exit(1)
def synced(tmp, before):
    """Whether the temporary was fsynced before event before: by name, or
    by descriptor since the previous publish (descriptors are reused)."""
    if not tmp.startswith("fd "):
        return any(e[0] == "fsync" and e[1] == tmp for e in ev[:before])
    d = ev[before][2].rsplit("/", 1)[0]
    for e in reversed(ev[:before]):
        if e[0] == "fsync" and e[2] == tmp and e[1].startswith(d + "/#"):
            return True
    return False
ok = True
out = t + "/out"
def after_dir_sync(d, r):
    return any(e[0] == "fsync" and e[1] == d for e in ev[r + 1:])
# A file into an existing directory: its temporary synced, then published.
r = idx(lambda e: e[0] == "publish" and e[2] == out + "/f", "link or rename to /f")
if not synced(ev[r][1], r):
    print("/f: no fsync of the temporary %s before it was published" % ev[r][1]); ok = False
if not after_dir_sync(out, r):
    print("/f: no fsync of %s after it was published" % out); ok = False
# A new tree is made under a temporary name and renamed into place
# (tree.c): all in it is synced before, a directory after its contents
# (deep, then sub, then the tree's own), and its parent after.
r = idx(lambda e: e[0] == "publish" and e[2] == out + "/tree", "rename of the tree into place")
hidden = ev[r][1]
at = {}
for p in ["/a", "/sub/b", "/sub/deep/c", "/sub/deep", "/sub", ""]:
    at[p] = idx(lambda e, p=p: e[0] == "fsync" and e[1] == hidden + p, "fsync of " + hidden + p)
    if at[p] > r:
        print("tree%s: synced after the tree was put in place" % p); ok = False
for child, parent in [("/sub/deep/c", "/sub/deep"), ("/sub/deep", "/sub"), ("/sub/b", "/sub"),
                      ("/sub", ""), ("/a", "")]:
    if at[child] > at[parent]:
        print("tree%s synced after its directory" % child); ok = False
if not after_dir_sync(out, r):
    print("no fsync of %s after the tree was put in place" % out); ok = False
r = idx(lambda e: e[0] == "publish" and e[2] == out + "/nosync", "publish of nosync")
prev = max([i for i, e in enumerate(ev[:r]) if e[0] == "publish"] or [0])
if any(e[0] == "fsync" and ("nosync" in e[1] or "/#" in e[1]) for e in ev[prev:r]):
    print("a copy without sync was fsynced"); ok = False
# The journal: the records of the sync jobs (1 and 2) are made durable,
# that of the job without sync (3) is only written (journal.c says why).
state = t + "/state"
for j in (1, 2):
    idx(lambda e, j=j: e[0] == "fsync" and e[1] == "%s/job-%d.json" % (state, j),
        "fsync of the record of sync job %d" % j)
if any(e[0] == "fsync" and e[1] == state + "/job-3.json" for e in ev):
    print("the record of the job without sync was fsynced"); ok = False
sys.exit(0 if ok else 1)
PYEOF

# ---- A failing fsync: files under $T/fail get EIO from fsync.
cat >"$T/shim.c" <<'CEOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* fsync fails with EIO on anything whose path contains $CPD_FAIL_FSYNC. */
int
fsync(int fd)
{
	static int (*real)(int);
	const char *pat = getenv("CPD_FAIL_FSYNC");
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (pat && (n = readlink(link, path, sizeof(path) - 1)) > 0) {
		path[n] = '\0';
		if (strstr(path, pat)) {
			errno = EIO;
			return -1;
		}
	}
	return real(fd);
}
CEOF
cc -shared -fPIC -o "$T/shim.so" "$T/shim.c" -ldl || fail "cannot build the fsync shim"
CPD_FAIL_FSYNC="$T/fail" LD_PRELOAD="$T/shim.so" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	start_daemon_raw -E fallback
r=$(copy_wait '{"sync": true}' "$T/fail/f" "$T/f")
expect_eq "failed fsync: state" "$(jfield parameters.job.state <<<"$r")" failed
expect_eq "failed fsync: error" "$(jfield parameters.job.error <<<"$r")" EIO
msg=$(jfield parameters.job.error_message <<<"$r")
[[ $msg == *"cannot sync '$T/fail/f'"* ]] || fail "failed fsync: message: $msg"
[ ! -e "$T/fail/f" ] || fail "failed fsync: the file was published"
# With keep_going the job goes on, but fails.
r=$(copy_wait '{"sync": true, "recursive": true, "keep_going": true}' "$T/fail/" "$T/tree")
expect_eq "failed fsync, keep_going: state" "$(jfield parameters.job.state <<<"$r")" failed
[ -z "$(find "$T/fail" -type f)" ] || fail "failed fsync: files published: $(find "$T/fail" -type f)"
no_temporaries "$T/fail"
# The same daemon syncs elsewhere as usual.
r=$(copy_wait '{"sync": true}' "$T/out/g" "$T/f")
expect_eq "sync copy beside a failing one" "$(jfield parameters.job.state <<<"$r")" done
same "$T/f" "$T/out/g"
daemon_exit_ok
