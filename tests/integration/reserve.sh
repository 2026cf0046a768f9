#!/bin/bash
# reserve: engine.reserved_cpus. While interactive work comes (a call
# other than Copy and Wait, an interactive job), io-wq's workers are kept
# off the first CPU; a second after the last of it they may use every
# CPU again. A bulk copy alone (its Copy stream) confines nothing. 0
# turns it off; cpd -n checks the range. Bytes are exact throughout.
. "$(dirname "$0")/../lib.sh"

[ "$(nproc)" -ge 2 ] || skip "one CPU: nothing to reserve"
mkfile "$T/big" 200M
mkfile "$T/small" 4K

write_config "$T/bad.conf" 'engine = { reserved_cpus = 2000; };'
"$CPD" -n -f "$T/bad.conf" >"$T/bad.out" 2>&1 && fail "reserved_cpus = 2000 accepted"
grep -q reserved_cpus "$T/bad.out" || fail "cpd -n: the error does not name the option: $(cat "$T/bad.out")"

# CPU sets as sorted lists: every CPU we may use, and all but the first.
all=$(py -c 'import os; print(",".join(map(str, sorted(os.sched_getaffinity(0)))))')
bulk=${all#*,}

# workers: the allowed CPUs of each io-wq worker of the daemon, one line each.
workers() {
	local t
	for t in /proc/"$DAEMON_PID"/task/*; do
		[[ $(cat "$t/comm" 2>/dev/null) == iou-wrk-* ]] || continue
		py - "$(awk '/^Cpus_allowed_list/ {print $2}' "$t/status")" <<'PYEOF'
import sys
cpus = []
for part in sys.argv[1].split(","):
    a, _, b = part.partition("-")
    cpus += range(int(a), int(b or a) + 1)
print(",".join(map(str, sorted(cpus))))
PYEOF
	done
}
# all_workers_on SET: at least one worker, and every one allowed exactly SET.
all_workers_on() {
	local w
	w=$(workers)
	[ -n "$w" ] && [ -z "$(grep -vx "$1" <<<"$w")" ]
}
released() {	# N: wait for release N+1 (a second after the last touch)
	for _ in $(seq 100); do
		[ "$(grep -c 'bulk copying on every CPU' "$DAEMON_LOG")" -gt "$1" ] && return 0
		sleep 0.05
	done
	fail "bulk copying still confined: $(grep 'bulk copying' "$DAEMON_LOG" | tail -n 3)"
}

start_daemon_raw
engine=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}' | jfield parameters.engine)
[ "$engine" = io_uring ] || skip "engine $engine: no io-wq workers to place"
released 0		# start_daemon_raw's and our own GetStatus

# ---- A bulk copy alone: its workers may use every CPU.
r=$(copy_wait "" "$T/out1" "$T/big")
expect_eq "bulk copy" "$(jfield parameters.job.state <<<"$r")" done
same "$T/big" "$T/out1"
all_workers_on "$all" || fail "workers of a lone bulk copy: $(workers | sort | uniq -c) (want all on $all)"
expect_eq "confinements" "$(grep -c 'kept off the reserved CPUs' "$DAEMON_LOG")" 1

# ---- A GetStatus: the workers are moved off the first CPU at once...
varlink_call '{"method":"io.cpd.Manager.GetStatus"}' >/dev/null
all_workers_on "$bulk" || fail "workers after GetStatus: $(workers | sort | uniq -c) (want all on $bulk)"
# ...and a bulk copy meanwhile uses the others only (if it was quick
# enough to end within the second: a slow machine is no failure).
r=$(copy_wait "" "$T/out2" "$T/big")
same "$T/big" "$T/out2"
w=$(workers)
# Read after the workers: a release is logged before the workers move.
if [ "$(grep -c 'bulk copying on every CPU' "$DAEMON_LOG")" -eq 1 ]; then
	[ -n "$w" ] && [ -z "$(grep -vx "$bulk" <<<"$w")" ] ||
		fail "workers of a copy beside GetStatus: $(sort <<<"$w" | uniq -c)"
fi
# ---- Quiet for a second: every CPU again.
released 1
all_workers_on "$all" || fail "workers after the release: $(workers | sort | uniq -c) (want all on $all)"

# ---- An interactive job confines too.
before=$(grep -c 'kept off the reserved CPUs' "$DAEMON_LOG")
r=$(copy_wait "" "$T/out3" "$T/small")
same "$T/small" "$T/out3"
expect_eq "interactive job" "$(jfield parameters.job.priority <<<"$r")" interactive
expect_eq "confinements after an interactive job" \
	"$(grep -c 'kept off the reserved CPUs' "$DAEMON_LOG")" $((before + 1))
released 2
daemon_exit_ok

# ---- reserved_cpus = 0: never.
write_config "$T/off.conf" 'engine = { reserved_cpus = 0; };'
: >"$DAEMON_LOG"
start_daemon_raw --config "$T/off.conf"
r=$(copy_wait "" "$T/out4" "$T/big")
same "$T/big" "$T/out4"
varlink_call '{"method":"io.cpd.Manager.GetStatus"}' >/dev/null
all_workers_on "$all" || fail "reserved_cpus = 0: workers $(workers | sort | uniq -c)"
grep -q 'kept off the reserved CPUs' "$DAEMON_LOG" && fail "reserved_cpus = 0 confined bulk copying"
daemon_exit_ok
exit 0
