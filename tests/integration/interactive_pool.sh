#!/bin/bash
# interactive_pool: with io_uring, an interactive job's operations that
# io_uring would hand to io-wq (here: creating the file, linking it in)
# are made by the daemon's pool instead, which serves interactive work
# first; a normal job's stay in the ring. Seen with strace, which sees
# the pool's system calls and not io-wq's work. Copied step by step
# (whole_file_max = 0), so that each step is an operation of its own.
. "$(dirname "$0")/../lib.sh"

command -v strace >/dev/null || skip "strace is not installed"
mkfile "$T/src" 4K
write_config "$T/cpd.conf" 'engine = { whole_file_max = 0; };'

# creates PRIORITY: copy as a job of PRIORITY, print the O_TMPFILE opens
# and the links the daemon's threads made as system calls.
creates() {
	: >"$DAEMON_LOG"
	start_daemon_raw --config "$T/cpd.conf"
	engine=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}' | jfield parameters.engine)
	[ "$engine" = io_uring ] || skip "engine $engine: everything is a system call"
	strace_daemon "$T/trace.$1" -e trace=openat,openat2,linkat
	r=$(copy_wait "{\"priority\": \"$1\"}" "$T/out.$1" "$T/src")
	expect_eq "$1: state" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/src" "$T/out.$1"
	kill "$TRACER"; wait "$TRACER" 2>/dev/null || true
	daemon_exit_ok
	grep -cE 'O_TMPFILE|linkat\(' "$T/trace.$1" || true
}
expect_eq "interactive: create and link by the pool" "$(creates interactive)" 2
expect_eq "normal: create and link in the ring" "$(creates normal)" 0
exit 0
