#!/bin/bash
# crash_restart: jobs survive kill -9. Each of ROUNDS rounds submits
# COPIES copies (files of 1 KiB to 8 MiB, directory trees with -r, one
# with a bandwidth limit so that something is surely running), kills the
# daemon with SIGKILL at a random moment (sometimes while copies are still
# being submitted), restarts it on the same state directory and waits:
# every job whose id a client was given ends done with byte-identical
# destinations (or failed with a reason); every job id is unique; the
# interrupted jobs were restarted; no .cpd-tmp.* temporary is left, and
# the leftover ones were removed at start-up.
# Meanwhile a checker keeps reading every final destination name and
# fails the test if one ever differs from its source: a partial file must
# never be visible under a final name, at any moment.
. "$(dirname "$0")/../lib.sh"

# 8 rounds keep make check in its budget (round 1 surely crashes into a
# running job); CRASH_ROUNDS=20 or more for a longer hunt, as the
# sanitizer build (which has no such budget) does by default.
ROUNDS=${CRASH_ROUNDS:-8}
sanitized && ROUNDS=${CRASH_ROUNDS:-20}
COPIES=${CRASH_COPIES:-20}

mkdir -p "$T/src/tree1/a/b" "$T/src/tree2/x" "$T/out"
sizes=(1K 3K 16K 64K 200K 512K 1M 2M 4M 8M)
for s in "${sizes[@]}"; do mkfile "$T/src/f$s" "$s"; done
for i in $(seq 12); do mkfile "$T/src/tree1/a/t$i" $((i * 5))K; done
for i in $(seq 6); do mkfile "$T/src/tree1/a/b/u$i" $((i * 40))K; done
for i in $(seq 8); do mkfile "$T/src/tree2/x/v$i" $((i * 3))K; done
mkfile "$T/src/tree2/w" 1M
mkfile "$T/src/slow" 3M

# The checker: out/R/K/<path> must always equal src/<path>. A file is
# read again whenever its inode, size or mtime changed (a rename put a
# new file under the name). It stops when $T/checker.stop appears.
py - "$T" <<'PYEOF' >"$T/checker.log" 2>&1 &
import os, sys, time
t = sys.argv[1]
src, out = os.path.join(t, "src"), os.path.join(t, "out")
seen, checked, bad = {}, 0, 0
def same(a, b):
    with open(a, "rb") as x, open(b, "rb") as y:
        while True:
            p, q = x.read(1 << 20), y.read(1 << 20)
            if p != q:
                return False
            if not p:
                return True
while True:
    stop = os.path.exists(os.path.join(t, "checker.stop"))
    for d, dirs, files in os.walk(out):
        # A temporary name (a file's, or a new directory's, with all in it)
        # is not a final name.
        dirs[:] = [x for x in dirs if not x.startswith(".cpd-tmp.")]
        for n in files:
            if n.startswith(".cpd-tmp."):
                continue
            f = os.path.join(d, n)
            rel = os.path.relpath(f, out).split(os.sep, 2)
            try:
                st = os.stat(f)
                key = (st.st_ino, st.st_size, st.st_mtime_ns)
                if seen.get(f) == key:
                    continue
                ok = same(os.path.join(src, rel[2]), f)
            except FileNotFoundError:
                continue
            checked += 1
            seen[f] = key
            if not ok:
                bad += 1
                print("PARTIAL: %s (size %d)" % (f, st.st_size), flush=True)
    if stop:
        break
    time.sleep(0.01)
print("checked %d, bad %d" % (checked, bad), flush=True)
PYEOF
CHECKER=$!

# Every job of the rounds (root's, 400 by default) is listed at the end:
# keep them all, past the per-user cap of kept finished jobs.
write_config "$T/cpd.conf" "jobs = { keep_finished_per_user = 10000; };"
start_daemon --config "$T/cpd.conf"
ids=()
for r in $(seq "$ROUNDS"); do
	# Round r's copies: each into a directory of its own, out/r/k/.
	srcs=(slow)
	for s in "${sizes[@]}"; do srcs+=("f$s"); done
	srcs+=(tree1 tree2)
	while [ ${#srcs[@]} -lt "$COPIES" ]; do srcs+=("f${sizes[RANDOM % ${#sizes[@]}]}"); done
	: >"$T/ids.$r"
	# Every third round the kill comes while copies are still being
	# submitted; otherwise 50 to 400 ms after the last was accepted.
	if [ $((r % 3)) -eq 0 ]; then
		( sleep "0.0$((RANDOM % 9 + 1))"; kill -9 "$DAEMON_PID" ) &
		killer=$!
	else
		killer=
	fi
	for k in $(seq 0 $((COPIES - 1))); do
		s=${srcs[k]}
		mkdir -p "$T/out/$r/$k"
		# A file that replaces another is made under a hidden temporary
		# name (a new one has no name until it is linked in): the slow
		# copy replaces an equal file, so that the crash leaves a named
		# temporary for the restart to remove. (Made beside and renamed
		# in: the checker must not see cp's own partial file.)
		if [ "$s" = slow ]; then
			cp "$T/src/slow" "$T/slow.new"
			mv "$T/slow.new" "$T/out/$r/$k/slow"
		fi
		opt=()
		[[ $s == tree* ]] && opt=(-r)
		# In round 1, whose crash waits for this copy to run, it
		# must outlast the submission of the others on a busy machine.
		[ "$s" = slow ] && opt=(--bwlimit "$([ "$r" = 1 ] && echo 512K || echo 2M)")
		id=$("$CLIENT" copy --detach "${opt[@]}" "$T/src/$s" "$T/out/$r/$k/" 2>/dev/null) || continue
		echo "$id $k $s" >>"$T/ids.$r"
	done
	if [ -n "$killer" ]; then
		wait "$killer" || true
	elif [ "$r" -eq 1 ]; then
		# Once surely while the slow copy runs, with a named temporary
		# (a second of it left), so that the restart has a running job
		# to restart and a temporary to remove however busy the
		# machine: the kill waits for the journal's "running" record
		# (written by the journal's own thread) and for the temporary.
		read -r slow_id _ <"$T/ids.$r"
		t0=$SECONDS
		until grep -qa "{\"id\":$slow_id,\"state\":\"running\"" "$T/state/slots" \
			"$T/state/job-$slow_id.json" 2>/dev/null &&
			[ -n "$(find "$T/out/$r" -name '.cpd-tmp.*' -type f -size +0 | head -n 1)" ]; do
			[ $((SECONDS - t0)) -lt 30 ] ||
				fail "round 1: the slow copy (job $slow_id) was never seen running"
			sleep 0.01
		done
		kill -9 "$DAEMON_PID"
	else
		sleep "0.$((RANDOM % 35 + 5))"
		kill -9 "$DAEMON_PID"
	fi
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
	start_daemon --config "$T/cpd.conf"
	while read -r id k s; do
		ids+=("$id")
		if "$CLIENT" wait "$id" >/dev/null 2>&1; then
			if [[ $s == tree* ]]; then
				diff -r "$T/src/$s" "$T/out/$r/$k/$s" >/dev/null ||
					fail "round $r: job $id ($s): the tree differs"
			else
				same "$T/src/$s" "$T/out/$r/$k/$s"
			fi
			continue
		fi
		j=$("$CLIENT" --json status "$id" 2>&1) || fail "round $r: job $id is unknown: $j"
		py -c '
import json, sys
j = json.loads(sys.argv[1])
if j.get("state") != "failed" or not j.get("error_message"):
    sys.exit("job %s: state %s, no reason: %s" % (j.get("id"), j.get("state"), sys.argv[1]))
print("job %s failed: %s" % (j["id"], j["error_message"]))' "$j" || fail "round $r: job $id"
	done <"$T/ids.$r"
	# Jobs whose acceptance no client heard of run too; let them end.
	for _ in $(seq 600); do
		st=$("$CLIENT" daemon-status)
		grep -q '^jobs_queued: 0 ' <<<"$st" && grep -q '^jobs_running: 0$' <<<"$st" && break
		sleep 0.05
	done
done

touch "$T/checker.stop"
wait "$CHECKER" || fail "the checker failed: $(cat "$T/checker.log")"
cat "$T/checker.log"
! grep -q PARTIAL "$T/checker.log" || fail "a partial file was visible under a final name"
checked=$(sed -n 's/^checked \([0-9]*\), bad 0$/\1/p' "$T/checker.log")
[ -n "$checked" ] && [ "$checked" -gt 0 ] || fail "the checker checked nothing"

no_temporaries "$T/out"
[ ${#ids[@]} -ge $((ROUNDS * COPIES / 2)) ] || fail "only ${#ids[@]} jobs were accepted"
dups=$(printf '%s\n' "${ids[@]}" | sort | uniq -d | head -3)
[ -z "$dups" ] || fail "job ids handed out twice: $dups"
# Every job is still known (finished jobs are kept for an hour), with its
# count of restarts: the crashes must have interrupted running jobs.
restarts=$("$CLIENT" --json list | py -c '
import json, sys
jobs = {j["id"]: j for j in json.load(sys.stdin)}
ids = [int(x) for x in sys.argv[1:]]
missing = [i for i in ids if i not in jobs]
if missing:
    sys.exit("jobs not listed: %s" % missing[:5])
print(sum(jobs[i]["restarts"] for i in ids))' "${ids[@]}") || fail "list: $restarts"
[ "$restarts" -gt 0 ] || fail "no job was ever restarted: the crashes hit nothing running"
# Whether a crash left a named temporary depends on when it came (most
# new files are nameless until linked): startup_cleanup.sh asserts the
# removal itself; here none may be left (no_temporaries, above).
grep -q 'removed [0-9]* leftover temporar' "$DAEMON_LOG" ||
	echo "note: no crash left a named temporary to remove at start-up"
echo "$ROUNDS rounds, ${#ids[@]} jobs, $restarts restarts, $checked destination reads checked"
daemon_exit_ok
