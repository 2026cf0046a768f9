#!/bin/bash
# Configuration: cpd -n accepts the shipped file and names FILE:LINE of an
# error; SIGHUP applies run-time options, reports restart-only ones, and a
# bad file on reload keeps the running settings.
source "$(dirname "$0")/../lib.sh"
repo=$(cd "$(dirname "$0")/../.." && pwd)

"$CPD" -n -f "$repo/conf/cpd.conf" >/dev/null || fail "shipped cpd.conf rejected"
printf 'jobs = {\n  max_runing = 2;\n};\n' > "$T/bad.conf"
out=$("$CPD" -n -f "$T/bad.conf" 2>&1) && fail "-n accepted an unknown option"
[[ $out == "$T/bad.conf:2: unknown option 'jobs.max_runing'" ]] || fail "-n said: $out"
"$CPD" -n -f "$T/missing.conf" >/dev/null 2>&1 && fail "-n accepted a missing explicit file"

# A job queue of one: the second job waits until max_running grows.
conf=$T/cpd.conf
printf 'jobs = { max_running = 1; };\nengine = { chunk_size = "4K"; lanes = 1; };\n' > "$conf"
"$CPD" --socket "$CPD_SOCKET" --config "$conf" --state-dir "$T/state" >>"$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do "$CLIENT" daemon-status >/dev/null 2>&1 && break; sleep 0.05; done
fallocate -l 1G "$T/big"		# allocated, not sparse: slow to copy in 4 KiB chunks, cheap to make
mkfile "$T/small" 4K
id1=$("$CLIENT" copy --detach --priority normal "$T/big" "$T/big.copy")
id2=$("$CLIENT" copy --detach --priority normal "$T/small" "$T/small.copy")
state() { "$CLIENT" status --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
[ "$(state "$id2")" = queued ] || fail "job 2 should wait behind job 1"

# A bad file on reload changes nothing.
printf 'jobs = { max_running = 0; };\n' > "$conf"
kill -HUP "$DAEMON_PID"
for _ in $(seq 50); do grep -q "keeping the running configuration" "$DAEMON_LOG" && break; sleep 0.1; done
grep -q "$conf:1: jobs.max_running: out of range" "$DAEMON_LOG" || fail "bad reload not logged"
[ "$(state "$id2")" = queued ] || fail "a bad reload changed the settings"

# A good one applies max_running at once and reports ring_entries as needing a restart.
printf 'jobs = { max_running = 2; };\nengine = { chunk_size = "4K"; lanes = 1; ring_entries = 512; };\n' > "$conf"
kill -HUP "$DAEMON_PID"
"$CLIENT" wait "$id2" >/dev/null || fail "job 2 did not run after the reload"
same "$T/small" "$T/small.copy"
grep -q "reload: engine.ring_entries changed; it takes effect after a restart" "$DAEMON_LOG" || fail "restart-only option not reported"
"$CLIENT" daemon-status >/dev/null || fail "daemon no longer on its socket"
"$CLIENT" cancel "$id1" >/dev/null || true
echo "reload: ok"
