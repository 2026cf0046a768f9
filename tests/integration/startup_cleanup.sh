#!/bin/bash
# startup_cleanup: a daemon that finds many unfinished tree jobs in its
# journal (as a crash leaves them) answers at once, as fast as with as
# many jobs into empty directories (issue 16, finding 4: it walked each
# job's destination first). Their
# leftover temporaries are removed after start-up: by the names their
# records keep, however deep; for a record without names (an older cpd's)
# only in the destination and its parent, and the log says so. Another
# job's temporaries and the user's files stay. A tree job killed while it
# fills a new directory deep in an existing tree has that directory's
# name in its record, and the restart removes it.
. "$(dirname "$0")/../lib.sh"

S=$T/state
N=1000		# unfinished jobs, each into the large tree
uid=$(id -u) gid=$(id -g)

# A destination of 2,500 directories: walking it for each job takes long.
py - "$T/big" <<'PYEOF'
import os, sys
for i in range(50):
    for j in range(50):
        os.makedirs("%s/d%d/e%d" % (sys.argv[1], i, j))
PYEOF

# timed_start: start_daemon_raw; how long it took, in seconds, in $took.
timed_start() {
	local t0
	t0=$(date +%s.%N)
	start_daemon_raw
	took=$(py -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' \
		"$t0" "$(date +%s.%N)")
}


# write_jobs FIRST LAST DEST TEMPORARIES_JSON: unfinished tree jobs'
# records into DEST, with a source that is gone (each fails once it has
# cleaned up). TEMPORARIES_JSON "" leaves the field out, as an older cpd
# did.
write_jobs() {
	mkdir -p "$S"
	py - "$S" "$T" "$uid" "$gid" "$@" <<'PYEOF'
import json, sys, zlib
state, t, uid, gid, first, last, dest, temps = sys.argv[1:]
for jid in range(int(first), int(last) + 1):
    rec = {"id": jid, "state": "running", "restarts": 0, "created_usec": 1,
           "finished_usec": 0, "uid": int(uid), "gid": int(gid), "groups": [],
           "request": {"sources": [t + "/gone"], "destination": dest,
                       "recursive": True}}
    if temps:
        rec["temporaries"] = json.loads(temps)
    body = json.dumps(rec, separators=(",", ":")).encode()
    open("%s/job-%d.json" % (state, jid), "wb").write(
        b"cpd-journal 1 %d %08x\n%s\n" % (len(body), zlib.crc32(body), body))
PYEOF
}
none="{\"dir\":\"$T/big\",\"names\":[],\"all\":true}"
# The yardstick: the first answer of a daemon with as many jobs whose
# destination is an empty directory.
mkdir "$T/empty"
write_jobs 1 "$N" "$T/empty" "$none"
timed_start
small=$took
daemon_exit_ok
rm -rf "$S"
# Most jobs as a crash leaves them, with no temporaries made yet.
write_jobs 1 "$N" "$T/big" "$none"
# Job 2001's record names its temporaries: a file deep down, a directory.
write_jobs 2001 2001 "$T/big" "{\"dir\":\"$T/big\",\"names\":[\"d5/e7/.cpd-tmp.2001.00000000000000c1\",\"d6/.cpd-tmp.2001.00000000000000d1\"],\"all\":true}"
echo partial >"$T/big/d5/e7/.cpd-tmp.2001.00000000000000c1"
mkdir -p "$T/big/d6/.cpd-tmp.2001.00000000000000d1/sub"
echo partial >"$T/big/d6/.cpd-tmp.2001.00000000000000d1/sub/f"
# Not named: another job's temporary, and the user's own file.
echo keep >"$T/big/d5/e7/.cpd-tmp.2002.00000000000000e1"
echo keep >"$T/big/d5/e7/mine"
# Job 2003's record is an older cpd's: no names. Its temporary in the
# destination is found; the one below it is not looked for.
write_jobs 2003 2003 "$T/big" ""
echo partial >"$T/big/.cpd-tmp.2003.00000000000000f1"
echo partial >"$T/big/d9/e9/.cpd-tmp.2003.00000000000000f2"

mark=$(wc -l <"$DAEMON_LOG")
timed_start
loaded=$took
echo "first answer with $N jobs: into empty directories ${small}s, into the large tree ${loaded}s"
# The size of the destinations must not matter (the floor only loosens
# the bound on a fast machine): walking them took 55 s, against 0.3 s.
bound=$(py -c 'import sys; print("%.3f" % max(3.0, 4 * float(sys.argv[1])))' "$small")
py -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$loaded" "$bound" ||
	fail "the first answer took ${loaded}s, ${small}s into empty directories (bound ${bound}s)"

# The clean-up comes after start-up: the journal was loaded first.
for _ in $(seq 600); do
	[ ! -e "$T/big/d5/e7/.cpd-tmp.2001.00000000000000c1" ] &&
		[ ! -e "$T/big/d6/.cpd-tmp.2001.00000000000000d1" ] &&
		[ ! -e "$T/big/.cpd-tmp.2003.00000000000000f1" ] &&
		grep -q "job 2001: removed 2 leftover temporaries" "$DAEMON_LOG" &&
		grep -q "job 2003: its record, from an older cpd, names none" "$DAEMON_LOG" && break
	sleep 0.1	# (the clean-up logs what it did after doing it)
done
[ ! -e "$T/big/d5/e7/.cpd-tmp.2001.00000000000000c1" ] ||
	fail "the recorded temporary file below the destination was not removed"
[ ! -e "$T/big/d6/.cpd-tmp.2001.00000000000000d1" ] ||
	fail "the recorded temporary directory was not removed"
[ ! -e "$T/big/.cpd-tmp.2003.00000000000000f1" ] ||
	fail "an older record's temporary in the destination was not removed"
[ -e "$T/big/d5/e7/.cpd-tmp.2002.00000000000000e1" ] || fail "another job's temporary was removed"
[ -e "$T/big/d5/e7/mine" ] || fail "the user's file was removed"
[ -e "$T/big/d9/e9/.cpd-tmp.2003.00000000000000f2" ] ||
	fail "a temporary below the destination was searched for"
grep -q "job 2003: its record, from an older cpd, names none: leftover temporaries were looked for only in $T/big and $T, not below" "$DAEMON_LOG" ||
	fail "the log does not say where job 2003's temporaries were not looked for"
grep -q "job 2001: removed 2 leftover temporaries" "$DAEMON_LOG" ||
	fail "the log does not say job 2001's temporaries were removed"
# In the log: the journal was loaded before anything was cleaned.
loadline=$(tail -n +"$((mark + 1))" "$DAEMON_LOG" | grep -n "journal $S: .* to run" | head -n1 | cut -d: -f1)
cleanline=$(tail -n +"$((mark + 1))" "$DAEMON_LOG" | grep -n "leftover temporar" | head -n1 | cut -d: -f1)
[ -n "$loadline" ] && [ -n "$cleanline" ] && [ "$loadline" -lt "$cleanline" ] ||
	fail "temporaries were removed before start-up was over"
# Each job then fails on its missing source, as its run says.
expect_eq "job 2001" "$(jfield parameters.job.state <<<"$(job_wait 2001)")" failed
expect_eq "job 2003" "$(jfield parameters.job.state <<<"$(job_wait 2003)")" failed

# A crash in earnest, on both engines: a tree copy into an existing tree,
# its new directory staged two levels below the destination, killed
# while it is filled.
daemon_exit_ok
mkdir -p "$T/src2/deep/new"
mkfile "$T/src2/deep/new/slow" 4M
for engine in io_uring fallback; do
	live=$T/live-$engine
	mkdir -p "$live/src2/deep"
	start_daemon_raw -E "$engine"
	id=$(copy_detached '{"recursive":true,"bwlimit":1048576}' "$live" "$T/src2")
	for _ in $(seq 100); do
		left=$(find "$live" -name ".cpd-tmp.$id.*")
		[ -n "$left" ] && break
		sleep 0.05
	done
	[ -n "$left" ] || fail "$engine: job $id made no temporary"
	expect_eq "$engine: where the temporary is" "$(dirname "$left")" "$live/src2/deep"
	# Its record, written as the temporary was made, names it.
	for _ in $(seq 100); do
		grep -rqa "src2/deep/$(basename "$left")" "$S" && break
		sleep 0.05
	done
	grep -rqa "src2/deep/$(basename "$left")" "$S" || fail "$engine: the record does not name $left"
	{ kill -9 "$DAEMON_PID"; wait "$DAEMON_PID"; } 2>/dev/null || true
	DAEMON_PID=
	[ -e "$left" ] || fail "$engine: the crash left no temporary"
	start_daemon_raw -E "$engine"
	# (The clean-up logs what it did after doing it: wait for both.)
	for _ in $(seq 100); do
		[ ! -e "$left" ] && grep -q "job $id: removed 1 leftover temporary" "$DAEMON_LOG" &&
			break
		sleep 0.05
	done
	[ ! -e "$left" ] || fail "$engine: the temporary $left of the crashed job was not removed"
	grep -q "job $id: removed 1 leftover temporary" "$DAEMON_LOG" ||
		fail "$engine: the log does not say job $id's temporary was removed"
	grep -q "job $id: .*looked for only" "$DAEMON_LOG" &&
		fail "$engine: job $id's record did not name its temporary"
	expect_eq "$engine: job $id after the restart" \
		"$(jfield parameters.job.state <<<"$(job_wait "$id")")" done
	same "$T/src2/deep/new/slow" "$live/src2/deep/new/slow"
	no_temporaries "$live"
	daemon_exit_ok
done
echo PASS
