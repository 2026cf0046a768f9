#!/bin/bash
# ioprio: engine.bulk_ioprio. The event loop's thread, and with it
# io_uring's io-wq workers (they share its I/O context), copy at the bulk
# priority (best-effort 7 by default); the journal's threads and a pool
# thread working for an interactive job at best-effort 0; a reload to
# "idle" or "none" changes the loop's and the workers' at once. Priorities
# are read back from the kernel (ioprio_get); bytes are exact throughout.
. "$(dirname "$0")/../lib.sh"

case $(uname -m) in
x86_64) nr=252 ;;
aarch64) nr=31 ;;
*) skip "ioprio_get's system call number is not known here ($(uname -m))" ;;
esac
# prio TID: the thread's I/O priority as "class,level" (0 none, 1 rt, 2 be, 3 idle).
prio() {
	py - "$nr" "$1" <<'PYEOF'
import ctypes, sys
v = ctypes.CDLL(None, use_errno=True).syscall(int(sys.argv[1]), 1, int(sys.argv[2]))
print("gone" if v < 0 else "%d,%d" % (v >> 13, v & 0x1fff))
PYEOF
}
# threads NAME-PREFIX: the daemon's thread ids whose name starts so.
threads() {
	local t
	for t in /proc/"$DAEMON_PID"/task/*; do
		[[ $(cat "$t/comm" 2>/dev/null) == "$1"* ]] && basename "$t"
	done
}
# all_at PREFIX PRIO: every such thread (at least one) is at PRIO.
all_at() {
	local t p n=0
	for t in $(threads "$1"); do
		p=$(prio "$t")
		[ "$p" = gone ] && continue
		[ "$p" = "$2" ] || fail "$1 thread $t at $p, want $2"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || fail "no $1 thread seen"
}

mkfile "$T/big" 96M
mkfile "$T/small" 4K
conf=$T/cpd.conf
write_config "$conf" 'engine = { bulk_ioprio = "best-effort"; };'
start_daemon --config "$conf"
grep -q "bulk copying at I/O priority best-effort 7, interactive work at best-effort 0" "$DAEMON_LOG" ||
	fail "start-up does not log the priorities: $(grep -i 'priority' "$DAEMON_LOG")"
expect_eq "event loop" "$(prio "$DAEMON_PID")" 2,7
all_at cpd-journal 2,0

# A bulk copy: its io-wq workers are at the loop's priority.
engine=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}' | jfield parameters.engine)
r=$(copy_wait '{"priority":"bulk"}' "$T/out.big" "$T/big")
expect_eq "bulk copy" "$(jfield parameters.job.state <<<"$r")" done
same "$T/big" "$T/out.big"
[ "$engine" = io_uring ] && all_at iou-wrk 2,7

# An interactive copy: a pool thread did it at best-effort 0.
r=$(copy_wait "" "$T/out.small" "$T/small")
expect_eq "interactive copy" "$(jfield parameters.job.state <<<"$r")" done
same "$T/small" "$T/out.small"
seen=
for t in $(threads cpd-pool); do [ "$(prio "$t")" = 2,0 ] && seen=$t; done
[ -n "$seen" ] || fail "no pool thread at best-effort 0 after an interactive copy:" \
	"$(for t in $(threads cpd-pool); do printf '%s ' "$(prio "$t")"; done)"

# Reloads: idle, then none.
write_config "$conf" 'engine = { bulk_ioprio = "idle"; };'
kill -HUP "$DAEMON_PID"
for _ in $(seq 100); do [ "$(prio "$DAEMON_PID")" = 3,0 ] && break; sleep 0.05; done
expect_eq "event loop after reload to idle" "$(prio "$DAEMON_PID")" 3,0
[ "$engine" = io_uring ] && [ -n "$(threads iou-wrk)" ] && all_at iou-wrk 3,0
r=$(copy_wait '{"priority":"bulk"}' "$T/out.big2" "$T/big")
same "$T/big" "$T/out.big2"
write_config "$conf" 'engine = { bulk_ioprio = "none"; };'
kill -HUP "$DAEMON_PID"
for _ in $(seq 100); do [ "$(prio "$DAEMON_PID")" != 3,0 ] && break; sleep 0.05; done
p=$(prio "$DAEMON_PID")
[ "${p%,*}" = 0 ] || [ "$p" = 2,4 ] || fail "event loop after reload to none: $p"
stop_daemon || fail "daemon exit status $?"
echo "ioprio: ok"
