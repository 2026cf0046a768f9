#!/bin/bash
# lifecycle: the daemon's socket and its ending. A stale socket left by a
# killed daemon is replaced; a live daemon's socket is not stolen; a file
# at the socket path that is not a socket is not deleted; SIGTERM during a
# copy cancels it (no temporary, no partial destination; a large file's
# checkpoint is the exception, see resume_large.sh), removes the
# socket and exits 0 within seconds, after telling a watching client;
# under systemd-socket-activate the daemon serves the passed socket.
. "$(dirname "$0")/../lib.sh"

# wait_exit PID SECONDS: wait until PID (our child) has exited; its status
# goes to $exit_rc (not printed: a subshell cannot wait for our children).
wait_exit() {
	local i
	for i in $(seq $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$1" 2>/dev/null && { kill -KILL "$1"; fail "pid $1 still running after $2 s"; }
	exit_rc=0
	wait "$1" || exit_rc=$?
}

# 1. A stale socket: start, kill -9, start again on the same path.
start_daemon_raw
old=$DAEMON_PID
kill -KILL "$old"
wait "$old" 2>/dev/null || true
DAEMON_PID=
[ -S "$CPD_SOCKET" ] || fail "no socket file left by the killed daemon: the stale case is not tested"
varlink_up && fail "the killed daemon still answers"
start_daemon_raw
grep -q 'replacing a stale socket' "$DAEMON_LOG" || fail "the stale socket was not reported"
r=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
expect_eq "after the stale socket: jobs_done" "$(jfield parameters.jobs_done <<<"$r")" 0

# 1b. Right after kill -9, before anything reaped the daemon, its socket
#     may still accept connections (the dying io_uring holds it): the
#     new daemon must still see it is stale, by the listener's pid.
for round in 1 2 3; do
	old=$DAEMON_PID
	kill -KILL "$old"
	DAEMON_PID=
	start_daemon_raw
	wait "$old" 2>/dev/null || true
done
[ "$(grep -c 'replacing a stale socket' "$DAEMON_LOG")" -eq 4 ] ||
	fail "a socket of a just-killed daemon was not replaced every time"

# 2. A live socket is not stolen: a second daemon gives up quickly.
ino=$(stat -c %i "$CPD_SOCKET")
rc=0
timeout 10 "$CPD" --socket "$CPD_SOCKET" --config /dev/null --state-dir "$T/state" -d >"$T/second.log" 2>&1 || rc=$?
[ "$rc" -ne 124 ] || fail "the second daemon was still running after 10 s"
[ "$rc" -ne 0 ] || fail "the second daemon exited 0"
expect_eq "socket inode after the second daemon" "$(stat -c %i "$CPD_SOCKET")" "$ino"
varlink_up || fail "the first daemon no longer answers"
kill -0 "$DAEMON_PID" || fail "the first daemon died"
stop_daemon || fail "SIGTERM: the daemon exited non-zero"
[ ! -e "$CPD_SOCKET" ] || fail "idle SIGTERM: socket file left"

# 3. SIGTERM in the middle of a slow copy, with a client watching it.
#    Not a checkpointed one: that keeps its temporary for the next run
#    (resume_large.sh).
write_config "$T/slow.conf" 'engine = { chunk_size = "4K"; lanes = 1; };' \
	'jobs = { checkpoint_size = 0; };'
: >"$DAEMON_LOG"
start_daemon_raw --config "$T/slow.conf"
mkfile "$T/big" 256M
mkdir "$T/out"
id=$(copy_detached "" "$T/out/big" "$T/big")
varlink_wait "{\"method\":\"io.cpd.Manager.Wait\",\"more\":true,\"parameters\":{\"id\":$id}}" 30 \
	>"$T/watch" &
watcher=$!
for i in $(seq 400); do
	r=$(job_get "$id")
	[ "$(jfield parameters.job.bytes_done <<<"$r")" -gt 0 ] && break
	sleep 0.05
done
expect_eq "before SIGTERM: state" "$(jfield parameters.job.state <<<"$r")" running
pid=$DAEMON_PID
DAEMON_PID=
kill -TERM "$pid"
wait_exit "$pid" 10
expect_eq "SIGTERM during a copy: exit status" "$exit_rc" 0
[ ! -e "$CPD_SOCKET" ] || fail "SIGTERM during a copy: socket file left"
[ ! -e "$T/out/big" ] || fail "SIGTERM during a copy: partial destination $(stat -c %s "$T/out/big") bytes"
no_temporaries "$T"
expect_eq "SIGTERM: entries" "$(ls -A "$T/out")" ""
wait "$watcher" || true
expect_eq "watcher's last reply: state" "$(jfield parameters.job.state <"$T/watch")" cancelled
expect_eq "watcher's last reply: continues" "$(jfield continues <"$T/watch")" null

# 4. Socket activation (systemd-socket-activate execs cpd in place on the
#    first connection: its pid is the daemon's).
SKIP_ACTIVATION=0
if command -v systemd-socket-activate >/dev/null; then
	: >"$DAEMON_LOG"
	systemd-socket-activate -l "$T/act.sock" "$CPD" --config /dev/null --state-dir "$T/state" -d \
		>>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	for i in $(seq 100); do [ -S "$T/act.sock" ] && break; sleep 0.05; done
	[ -S "$T/act.sock" ] || fail "systemd-socket-activate made no socket"
	r=$(CPD_SOCKET="$T/act.sock" varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
	case $(jfield parameters.engine <<<"$r") in
	io_uring|fallback) ;;
	*) fail "socket activation: GetStatus: $r" ;;
	esac
	grep -q 'socket passed by systemd' "$DAEMON_LOG" ||
		fail "socket activation: the passed socket was not used"
	mkfile "$T/small" 7K
	r=$(CPD_SOCKET="$T/act.sock" copy_wait "" "$T/small.copy" "$T/small")
	expect_eq "socket activation: copy" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/small" "$T/small.copy"
	pid=$DAEMON_PID
	DAEMON_PID=
	kill -TERM "$pid"
	wait_exit "$pid" 10
	expect_eq "socket activation: exit status" "$exit_rc" 0
	# The socket belongs to whoever passed it (cpd(8)): cpd leaves it.
	[ -S "$T/act.sock" ] || fail "socket activation: cpd removed the socket it was passed"
else
	SKIP_ACTIVATION=1
fi

# 5. Something that is not a socket at the socket path is left alone: the
#    daemon must refuse to start rather than delete it.
echo precious >"$T/notasocket"
"$CPD" --socket "$T/notasocket" --config /dev/null --state-dir "$T/state" -d >"$T/nosock.log" 2>&1 &
pid=$!
for i in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || break
	[ -S "$T/notasocket" ] && break		# it took the path over
	sleep 0.05
done
if kill -0 "$pid" 2>/dev/null; then
	kill -TERM "$pid"
	wait_exit "$pid" 10
	fail "cpd --socket on a regular file deleted the file and listens in its place: $(cat "$T/nosock.log")"
fi
wait_exit "$pid" 1
[ -f "$T/notasocket" ] && [ "$(cat "$T/notasocket")" = precious ] ||
	fail "cpd --socket on a regular file deleted it (exit $exit_rc): $(cat "$T/nosock.log")"
[ "$exit_rc" -ne 0 ] || fail "cpd --socket on a regular file: exit 0"
[ "$SKIP_ACTIVATION" = 0 ] || skip "systemd-socket-activate is not installed (the rest passed)"
echo "PASS: lifecycle"
