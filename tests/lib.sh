# Helpers sourced by tests/integration/*.sh. Each test is a standalone
# bash script: exit 0 pass, 1 fail, 77 skip (print "SKIP: reason" first).
set -euo pipefail
: "${CPD_BIN:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
CPD="$CPD_BIN/cpd"
CLIENT="$CPD_BIN/cpd-client"
T=$(mktemp -d /tmp/cpd-test.XXXXXX)
chmod 755 "$T"
export CPD_SOCKET="$T/io.cpd.Manager"
DAEMON_PID=
DAEMON_LOG="$T/daemon.log"

cleanup() {
	local rc=$?
	stop_daemon || true
	if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -f "$DAEMON_LOG" ]; then
		echo "--- daemon log (tail)"; tail -n 30 "$DAEMON_LOG"
		# A sanitizer's report would be cut by the tail: show it whole.
		if grep -q 'Sanitizer\|runtime error' "$DAEMON_LOG"; then
			echo "--- sanitizer report"
			grep -v '^cpd: \|^  0x\|^=>0x' "$DAEMON_LOG" | grep -A80 -m1 'Sanitizer\|runtime error'
		fi
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root: $*"; }

# start_daemon [cpd options...]: run cpd on $CPD_SOCKET, wait until it answers.
start_daemon() {
	"$CPD" --socket "$CPD_SOCKET" --config /dev/null --state-dir "$T/state" -d "$@" >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	local i
	for i in $(seq 100); do
		[ -S "$CPD_SOCKET" ] && "$CLIENT" daemon-status >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$DAEMON_LOG"; fail "daemon died at start"; }
		sleep 0.05
	done
	fail "daemon did not come up"
}

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	local rc=0
	wait "$DAEMON_PID" 2>/dev/null || rc=$?
	DAEMON_PID=
	return $rc
}

# varlink_call JSON: send one raw Varlink message, print the replies (NUL -> newline).
varlink_call() {
	printf '%s\0' "$1" | socat -t 5 - "UNIX-CONNECT:$CPD_SOCKET" | tr '\0' '\n'
}

# mkfile PATH SIZE: a file of SIZE bytes (suffixes K M G) of pseudo-random data.
mkfile() {
	head -c "$2" /dev/urandom > "$1" 2>/dev/null || fail "mkfile $1"
	# head -c understands K/M/G as KiB/MiB/GiB
}

same() { cmp -s "$1" "$2" || fail "content differs: $1 $2"; }
no_temporaries() {	# DIR: no leftover .cpd-tmp.* files
	local left
	left=$(find "$1" -name '.cpd-tmp.*' 2>/dev/null | head -n 3)
	[ -z "$left" ] || fail "temporaries left: $left"
}

# ---- Helpers for tests that speak raw Varlink (no cpd-client needed). ----

# py ARGS...: python3 for JSON work; the system one starts fastest.
PYTHON=$(command -v /usr/bin/python3 || command -v python3 || echo python3)
py() { "$PYTHON" "$@"; }

# varlink_up: the daemon on $CPD_SOCKET answers GetStatus.
varlink_up() {
	printf '{"method":"io.cpd.Manager.GetStatus"}\0' |
		socat -t 2 - "UNIX-CONNECT:$CPD_SOCKET" 2>/dev/null | tr '\0' '\n' |
		grep -q '"engine"'
}

# start_daemon_raw [cpd options...]: start_daemon, but waits with a raw
# GetStatus instead of cpd-client. A later --config FILE overrides /dev/null.
start_daemon_raw() {
	"$CPD" --socket "$CPD_SOCKET" --config /dev/null --state-dir "$T/state" -d "$@" >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	local i
	for i in $(seq 200); do
		[ -S "$CPD_SOCKET" ] && varlink_up && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$DAEMON_LOG"; fail "daemon died at start"; }
		sleep 0.05
	done
	fail "daemon did not come up"
}

# strace_daemon FILE STRACE_OPTIONS...: trace every thread of the daemon
# into FILE from now on (strace -f); returns once strace is attached, or
# skips. The tracer is $TRACER; kill it to stop.
strace_daemon() {
	local out=$1
	shift
	strace -f -qq "$@" -p "$DAEMON_PID" -o "$out" 2>/dev/null &
	TRACER=$!
	for _ in $(seq 100); do
		grep -q "TracerPid:[[:space:]]*$TRACER\$" /proc/"$DAEMON_PID"/status && return 0
		sleep 0.05
	done
	skip "strace cannot attach"
}

# write_config FILE TEXT...: a libconfig file for cpd --config.
write_config() {
	local f=$1; shift
	printf '%s\n' "$@" > "$f"
}

# varlink_wait JSON [SECONDS]: varlink_call that waits up to SECONDS
# (default 60) for the daemon to end the call.
varlink_wait() {
	printf '%s\0' "$1" | socat -t "${2:-60}" - "UNIX-CONNECT:$CPD_SOCKET" | tr '\0' '\n'
}

# as_user USER CMD...: run CMD with USER's uid, gid and groups.
as_user() {
	local u=$1; shift
	setpriv --reuid="$u" --regid="$u" --init-groups "$@"
}

# kill_bg PID: stop a background job and what it runs (a function run
# with &, as_user's, is a subshell: the command is its child).
kill_bg() {
	pkill -P "$1" 2>/dev/null || true
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# ensure_user NAME: create a local test user if missing (root only).
ensure_user() {
	id "$1" >/dev/null 2>&1 || useradd -m "$1" >/dev/null 2>&1 ||
		id "$1" >/dev/null 2>&1 || fail "cannot create user $1"
}

# jfield PATH: from Varlink replies on stdin (one JSON per line), print the
# field PATH (dotted: parameters.job.state, parameters.jobs.0.id) of the
# last reply: strings bare, anything else as JSON, "null" when absent,
# "NO-REPLY" when there was no reply at all.
jfield() {
	py -c '
import json, sys
msgs = [l for l in sys.stdin.read().split("\n") if l.strip()]
if not msgs:
    print("NO-REPLY"); sys.exit(0)
v = json.loads(msgs[-1])
for k in sys.argv[1].split("."):
    if isinstance(v, dict) and k in v:
        v = v[k]
    elif isinstance(v, list) and k.isdigit() and int(k) < len(v):
        v = v[int(k)]
    else:
        v = None
        break
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# jget KEY.KEY...: a field of the JSON document on stdin (cpd-client --json, pretty-printed).
jget() {
	py -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}

# copy_msg [EXTRA] DEST SRC...: a Copy call, with "more": true unless EXTRA
# has "__more": false. EXTRA is a JSON object of further parameters
# ('{"no_clobber": true, "umask": 63}'), or "" for none.
copy_msg() {
	py -c '
import json, sys
extra = json.loads(sys.argv[1]) if sys.argv[1] else {}
more = extra.pop("__more", True)
p = {"sources": sys.argv[3:], "destination": sys.argv[2]}
p.update(extra)
m = {"method": "io.cpd.Manager.Copy", "parameters": p}
if more:
    m["more"] = True
print(json.dumps(m))' "$@"
}

# copy_wait [EXTRA] DEST SRC...: run a Copy with "more": true to its end;
# prints every reply, one per line.
copy_wait() {
	varlink_wait "$(copy_msg "$@")" 120
}

# copy_detached [EXTRA] DEST SRC...: submit a Copy without "more" and print
# the new job's id (fails the test if there is none).
copy_detached() {
	local extra=${1:-} r id
	shift
	extra=$(py -c '
import json, sys
e = json.loads(sys.argv[1]) if sys.argv[1] else {}
e["__more"] = False
print(json.dumps(e))' "$extra")
	r=$(varlink_call "$(copy_msg "$extra" "$@")")
	id=$(jfield parameters.job.id <<<"$r")
	[[ "$id" =~ ^[0-9]+$ ]] || fail "Copy gave no job id: $r"
	echo "$id"
}

# job_get ID: the Get reply for job ID.
job_get() {
	varlink_call "{\"method\":\"io.cpd.Manager.Get\",\"parameters\":{\"id\":$1}}"
}

# job_wait ID: wait for job ID to end; prints the final reply.
job_wait() {
	varlink_wait "{\"method\":\"io.cpd.Manager.Wait\",\"parameters\":{\"id\":$1}}" 120
}

# file_mode PATH: permission bits in octal (e.g. 644).
file_mode() { stat -c %a "$1"; }

# expect_eq WHAT GOT WANT: fail unless GOT equals WANT.
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# varlink_as USER JSON [SECONDS]: varlink_wait with USER's credentials.
varlink_as() {
	printf '%s\0' "$2" | as_user "$1" socat -t "${3:-60}" - "UNIX-CONNECT:$CPD_SOCKET" |
		tr '\0' '\n'
}

# ---- Helpers for the directory-tree tests (tree_*.sh). ----

TREE_COMPARE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/integration/tree_compare.py"

# tree_same [tree_compare.py options] A B: fail, listing the differences,
# unless B is a copy of A as the options say (see tree_compare.py).
tree_same() {
	local out
	out=$(py "$TREE_COMPARE" "$@" 2>&1) || fail "trees differ (tree_compare.py $*):
$out"
}

# tree_count DIR KEY: one count of DIR: entries, dirs, reg, reg_inodes,
# bytes, bytes_inodes (sizes summed once per inode), symlinks, special.
tree_count() {
	py "$TREE_COMPARE" --count "$1" |
		py -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# tree_set_times DIR: give DIR and everything under it (symlinks too)
# times with nanosecond digits, one pair per inode: mtime about 20 h ago,
# atime 1 to 2 h ahead. An atime later than mtime and ctime (which setting
# the times makes "now") is one relatime leaves alone, so reading the
# trees does not change atimes.
tree_set_times() {
	py - "$1" <<'PYEOF'
import os, sys, time
now = time.time_ns()
top = os.fsencode(sys.argv[1])
paths = [top]
for d, dirs, files in os.walk(top):
    paths += [os.path.join(d, n) for n in dirs + files]
for p in paths:
    ino = os.lstat(p).st_ino
    m = now - 20 * 3600 * 10**9 + (ino * 7919 % 3600) * 10**9 + ino * 104729 % 10**9
    a = now + 3600 * 10**9 + (ino * 7907 % 3600) * 10**9 + ino * 15485863 % 10**9
    os.utime(p, ns=(a, m), follow_symlinks=False)
PYEOF
}

# tree_job_ok WHAT REPLIES FILES_MIN FILES_MAX BYTES_MIN BYTES_MAX: the
# Copy replies (one JSON per line) end with a job that is done with no
# failed files; files_done and bytes_done are within the bounds and equal
# files_total and bytes_total; methods add up to files_done; and no reply
# shows progress going back or done above total.
tree_job_ok() {
	local out
	out=$(py - "$@" <<'PYEOF'
import json, sys
what, replies = sys.argv[1], sys.argv[2]
fmin, fmax, bmin, bmax = (int(x) for x in sys.argv[3:7])
msgs = [json.loads(l) for l in replies.split("\n") if l.strip()]
errs = []
if not msgs or "job" not in msgs[-1].get("parameters", {}):
    print("no job in the replies: %s" % replies[-2000:]); sys.exit(1)
j = msgs[-1]["parameters"]["job"]
if j.get("state") != "done":
    print("state %s (%s: %s)" % (j.get("state"), j.get("error"), j.get("error_message"))); sys.exit(1)
if j.get("files_failed") != 0:
    errs.append("files_failed %r, failures %r" % (j.get("files_failed"), j.get("failures")))
fd, bd = j.get("files_done"), j.get("bytes_done")
if not isinstance(fd, int) or not fmin <= fd <= fmax:
    errs.append("files_done %r, want %d..%d" % (fd, fmin, fmax))
if not isinstance(bd, int) or not bmin <= bd <= bmax:
    errs.append("bytes_done %r, want %d..%d" % (bd, bmin, bmax))
if j.get("files_total") != fd:
    errs.append("files_total %r != files_done %r" % (j.get("files_total"), fd))
if j.get("bytes_total") != bd:
    errs.append("bytes_total %r != bytes_done %r" % (j.get("bytes_total"), bd))
m = j.get("methods")
keys = ("reflink", "copy_file_range", "splice", "readwrite", "links")
if not isinstance(m, dict) or any(not isinstance(m.get(k), int) or m[k] < 0 for k in keys):
    errs.append("methods %r" % (m,))
elif sum(m[k] for k in keys) != fd:
    errs.append("methods %r add up to %d, files_done %r" % (m, sum(m[k] for k in keys), fd))
pf = pb = 0
for i, r in enumerate(msgs):
    x = r.get("parameters", {}).get("job", {})
    f, b = x.get("files_done", 0), x.get("bytes_done", 0)
    if f < pf or b < pb:
        errs.append("reply %d: progress went back: files %d->%d bytes %d->%d" % (i, pf, f, pb, b))
    if f > x.get("files_total", 0) or b > x.get("bytes_total", 0):
        errs.append("reply %d: done above total: files %d/%d bytes %d/%d" %
                    (i, f, x.get("files_total", 0), b, x.get("bytes_total", 0)))
    pf, pb = f, b
if errs:
    print("; ".join(errs[:10])); sys.exit(1)
PYEOF
) || fail "$1: $out"
}

# daemon_exit_ok: stop the daemon; fail if it had died (a crash) or exits
# with an error on SIGTERM.
daemon_exit_ok() {
	local rc=0
	stop_daemon || rc=$?
	[ $rc -eq 0 ] || fail "the daemon exited with status $rc (crashed, or failed on SIGTERM)"
}

# tree_exit: an EXIT trap (trap tree_exit EXIT) that runs $TREE_EXIT_HOOK
# (e.g. unmounting), turns a pass or a skip into a failure when the daemon
# had died, then cleans up as usual.
tree_exit() {
	local rc=$? d=0
	set +e
	stop_daemon || d=$?
	if [ $d -ne 0 ] && { [ $rc -eq 0 ] || [ $rc -eq 77 ]; }; then
		echo "FAIL: the daemon exited with status $d (crashed, or failed on SIGTERM)" >&2
		rc=1
	fi
	[ -z "${TREE_EXIT_HOOK:-}" ] || eval "$TREE_EXIT_HOOK"
	(exit $rc)
	cleanup
}

# ---- Helpers for the failure tests (faults*.sh). ----

# expect_job_failed WHAT REPLIES ERRNO PATTERN...: the last reply is a
# failed job with error ERRNO and an error_message matching every bash
# PATTERN (e.g. "*'/x/y'*" "*No space left*").
expect_job_failed() {
	local what=$1 r=$2 err=$3 msg p
	shift 3
	expect_eq "$what: state" "$(jfield parameters.job.state <<<"$r")" failed
	expect_eq "$what: error" "$(jfield parameters.job.error <<<"$r")" "$err"
	msg=$(jfield parameters.job.error_message <<<"$r")
	for p in "$@"; do
		# shellcheck disable=SC2053
		[[ "$msg" == $p ]] || fail "$what: error_message '$msg' does not match '$p'"
	done
}

# wait_tmp DIR: wait until a temporary with data appears under DIR (a
# copy is under way), for up to 20 s: a named one, a file with data in a
# new directory not yet in place (.cpd-tmp.*/...), or a nameless one
# (O_TMPFILE) that the daemon holds open, seen through /proc/PID/fd.
wait_tmp() {
	local i f t
	for i in $(seq 400); do
		[ -n "$(find "$1" -path '*/.cpd-tmp.*' -type f -size +0 2>/dev/null | head -n 1)" ] &&
			return 0
		# One find, not a readlink per fd: fewer processes a round, so
		# that a loaded machine does not miss a 2 s copy (publish.sh once
		# did, beside a fuzzer and two other make checks).
		for f in $(find /proc/"$DAEMON_PID"/fd -lname "$1/* (deleted)" 2>/dev/null); do
			[ "$(stat -L -c %s "$f" 2>/dev/null || echo 0)" -gt 0 ] && return 0
		done
		sleep 0.05
	done
	fail "no temporary appeared under $1"
}

# daemon_serves WHAT: a small copy still works (the daemon serves on).
daemon_serves() {
	local d r
	d=$(mktemp -d "$T/serves.XXXXXX")
	printf 'still serving\n' >"$d/src"
	r=$(copy_wait "" "$d/dst" "$d/src")
	expect_eq "$1: a later job" "$(jfield parameters.job.state <<<"$r")" done
	same "$d/src" "$d/dst"
}

# sanitized: cpd is the SANITIZE=1 build. Its memory use says little:
# ASan keeps freed memory in quarantine for a while.
sanitized() { grep -qa __asan_init "$CPD"; }

# ---- Helpers for the hostile_*.sh tests: a root daemon, the unprivileged
# attacker cpdtest (ensure_user cpdtest and cpdtest2 first). ----

# hostile_setup [DIR]: in DIR (default $T), which must exist:
# SECRET is a random token; U is the attacker's directory;
# P a root-only directory with P/secret; W a directory only root may
# write, with W/file that only root may read; O cpdtest2's private directory with O/file; S a
# sticky directory (like /tmp) with root's S/rootfile. Every one of those
# files holds SECRET. Counts cases in n.
hostile_setup() {
	SECRET="cpd-secret-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
	local d=${1:-$T}
	U=$d/u P=$d/prot W=$d/ro O=$d/other S=$d/sticky n=0
	mkdir "$U" "$P" "$W" "$O" "$S"
	for f in "$P/secret" "$W/file" "$O/file" "$S/rootfile"; do
		echo "$SECRET" > "$f"
	done
	chown cpdtest: "$U"
	chown -R cpdtest2: "$O"
	chmod 700 "$P" "$O"
	chmod 600 "$P/secret" "$W/file" "$O/file"
	chmod 1777 "$S"
	HOSTILE_SNAP=$(hostile_snapshot)
}

# hostile_snapshot: every name, inode, size, mode, owner, time and content
# under the protected places (the sticky directory's own times change when
# the attacker uses it as it may).
hostile_snapshot() {
	find "$P" "$W" "$O" "$S"/* -printf '%p %i %s %m %u %T@\n' | sort
	cat "$P/secret" "$W/file" "$O/file" "$S/rootfile" | md5sum
	ls -d /root/cpd-hostile-* /etc/cpd-hostile-* 2>/dev/null || true
}

# attack WHAT EXTRA DEST SRC...: the next case: cpdtest runs a Copy
# (copy_msg EXTRA DEST SRC...) to its end; its replies are left in $r.
attack() {
	n=$((n + 1)) what=$1
	shift
	r=$(varlink_as cpdtest "$(copy_msg "$@")" 30)
}

# refused ERRNO...: the last attack's job failed with one of the ERRNOs,
# and the daemon still answers.
refused() {
	local state err
	state=$(jfield parameters.job.state <<<"$r")
	err=$(jfield parameters.job.error <<<"$r")
	[ "$state" = failed ] || fail "case $n ($what): state '$state', want failed: $r"
	[[ " $* " == *" $err "* ]] || fail "case $n ($what): error '$err', want $*: $r"
	varlink_up || fail "case $n ($what): the daemon does not answer"
}

# job_has_failure REPLIES SUFFIX ERRNO: the final Job of REPLIES lists a
# failure with ERRNO of a path ending in SUFFIX.
job_has_failure() {
	py -c '
import json, sys
f = json.loads(sys.argv[1])["parameters"]["job"]["failures"]
sys.exit(0 if any(x["path"].endswith(sys.argv[2]) and x["error"] == sys.argv[3] for x in f) else 1)' \
		"$(tail -n 1 <<<"$1")" "$2" "$3"
}

# hostile_verify: the protected places are as hostile_setup left them, and
# no file of the attacker's (but a hard link root made to P/secret) holds
# SECRET.
hostile_verify() {
	local leaked
	[ "$(hostile_snapshot)" = "$HOSTILE_SNAP" ] ||
		fail "the protected files changed: $(diff <(echo "$HOSTILE_SNAP") <(hostile_snapshot))"
	leaked=$(find "$U" -type f ! -samefile "$P/secret" -exec grep -lF "$SECRET" {} + || true)
	[ -z "$leaked" ] || fail "the secret was copied into: $leaked"
	no_temporaries "$U"
	no_temporaries "$S"
}

# ---- hostile_proto.sh and hostile_conns.sh: a daemon with small limits
# (clients.max_per_user 64, clients.idle_timeout 2 s, one running job
# per user) and a long job of each user. ----

HC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/integration/hostile_client.py"
hc() { as_user cpdtest "$PYTHON" "$HC" "$CPD_SOCKET" "$@"; }	# as the attacker
call_as() {	# USER METHOD ID
	varlink_as "$1" "{\"method\":\"io.cpd.Manager.$2\",\"parameters\":{\"id\":$3}}" 10
}
step() { n=$((n + 1)) what=$1; }	# WHAT: the next case
answers() { varlink_up || fail "case $n ($what): the daemon does not answer"; }

# hostile_daemon: hostile_setup, then start the daemon (pid); V is
# cpdtest2's directory. Jobs throttled to run for minutes: victim,
# cpdtest2's, paused by its owner (so that it holds no slot, and an
# attacker's Resume would show), and mine, cpdtest's, running. U/f and
# V/small are small files of their users.
hostile_daemon() {
	local slow='{"__more": false, "bwlimit": 1048576}' r
	hostile_setup
	write_config "$T/cpd.conf" \
		'clients = { max_per_user = 64; idle_timeout = 2; };' \
		'jobs = { max_running = 3; max_running_per_user = 1; max_per_user = 1000; };'
	start_daemon_raw --config "$T/cpd.conf"
	pid=$DAEMON_PID
	V=$T/u2
	mkdir "$V"
	echo "user data" > "$U/f"
	chown cpdtest: "$U/f"
	echo "cpdtest2's data" > "$V/small"
	fallocate -l 1G "$V/big"
	chown -R cpdtest2: "$V"
	fallocate -l 1G "$U/big"
	chown cpdtest: "$U/big"
	r=$(varlink_as cpdtest2 "$(copy_msg "$slow" "$V/big.copy" "$V/big")" 10)
	victim=$(jfield parameters.job.id <<<"$r")
	[[ "$victim" =~ ^[0-9]+$ ]] || fail "cpdtest2's Copy: $r"
	r=$(call_as cpdtest2 Pause "$victim")
	expect_eq "the owner's Pause" "$(jfield parameters.job.state <<<"$r")" paused
	r=$(varlink_as cpdtest "$(copy_msg "$slow" "$U/big.copy" "$U/big")" 10)
	mine=$(jfield parameters.job.id <<<"$r")
	[[ "$mine" =~ ^[0-9]+$ ]] || fail "cpdtest's Copy: $r"
}
