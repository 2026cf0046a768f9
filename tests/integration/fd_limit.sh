#!/bin/bash
# fd_limit: a daemon that cannot have what a submit needs, and one that
# runs out of file descriptors, never hands a result back inside the
# call that asked for it (the completion rule, engine.h), so nothing is
# freed under its owner's feet (before, an ASan build reported a heap use
# after free in copy_data).
# 1. (io_uring) A data lane that cannot be set up (--fault lane): the
#    copy fails with the error, naming the file, leaves nothing, and the
#    next one copies.
# 2. (both engines) At each fd limit from the idle daemon's count up, one
#    of a copy's fds cannot be had (at one, the io_uring engine's pipe:
#    its chunks then go through a buffer): the copy ends done, or failed
#    for want of fds, and the daemon serves on.
# 3. (both engines) Under `ulimit -n 40`, with copies running, a flood of
#    connections takes every fd: each job ends done, or failed with the
#    errno and its message; nothing half-written remains; the daemon
#    serves on, and once the flood has gone a new copy is byte-exact.
. "$(dirname "$0")/../lib.sh"

mkdir "$T/src" "$T/out"
mkfile "$T/src/f3m" 3M
for i in 1 2 3; do mkfile "$T/src/big$i" 16M; done
never='{"reflink": "never"}'	# a clone would move no data through lanes

start_daemon_raw -E io_uring --fault lane:1:ENOMEM
r=$(copy_wait "$never" "$T/out/f3m" "$T/src/f3m")
expect_job_failed "lane fault" "$r" ENOMEM \
	"cannot copy '$T/src/f3m' to '$T/out/f3m': Cannot allocate memory"
[ ! -e "$T/out/f3m" ] || fail "lane fault: the destination exists"
no_temporaries "$T/out"
r=$(copy_wait "$never" "$T/out/f3m" "$T/src/f3m")
expect_eq "after the lane fault: state" "$(jfield parameters.job.state <<<"$r")" done
same "$T/src/f3m" "$T/out/f3m"
stop_daemon || fail "lane fault: the daemon did not exit cleanly"

# The daemon under a low fd limit: a wrapper sets it ($LIMIT) and becomes cpd.
real=$CPD
CPD=$T/cpd-limited
printf '#!/bin/bash\nulimit -n "$LIMIT"\nexec %q "$@"\n' "$real" > "$CPD"
chmod +x "$CPD"
export LIMIT=1024

# limit_sweep ENGINE: the fds the idle daemon holds, then limits from one
# more up: a copy of f3m needs its connection, the destination directory,
# source, temporary and (io_uring) a pipe; at each limit one of them
# cannot be had. The copy ends done, or failed with a message.
limit_sweep() {
	local engine=$1 base extra r state
	start_daemon_raw -E "$engine"
	base=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
	stop_daemon
	for extra in 1 2 3 4 5 6 7 8; do
		LIMIT=$((base + extra))
		: >"$DAEMON_LOG"
		start_daemon_raw -E "$engine"
		r=$(copy_wait "$never" "$T/out/sweep" "$T/src/f3m")
		state=$(jfield parameters.job.state <<<"$r")
		case $state in
		done)	same "$T/src/f3m" "$T/out/sweep"
			rm -f "$T/out/sweep" ;;
		failed)	[[ "$(jfield parameters.job.error_message <<<"$r")" == *"Too many open files"* ]] ||
				fail "$engine, limit $LIMIT: failed, but not for want of fds: $r" ;;
		*)	fail "$engine, limit $LIMIT: the copy ended '$state': $r" ;;
		esac
		no_temporaries "$T/out"
		kill -0 "$DAEMON_PID" || fail "$engine, limit $LIMIT: the daemon died"
		stop_daemon || fail "$engine, limit $LIMIT: the daemon did not exit cleanly"
		! grep -q 'Sanitizer\|runtime error' "$DAEMON_LOG" ||
			fail "$engine, limit $LIMIT: sanitizer report"
	done
	LIMIT=40
}

# flood N SECONDS: hold N connections open that long, then close them.
flood() {
	py - "$CPD_SOCKET" "$1" "$2" <<'PY'
import socket, sys, time
path, n, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except (BlockingIOError, ConnectionRefusedError, OSError):
        pass
    socks.append(s)
time.sleep(hold)
for s in socks:
    s.close()
PY
}

for engine in io_uring fallback; do
	: >"$DAEMON_LOG"
	out=$T/out-$engine
	mkdir "$out"
	limit_sweep "$engine"
	start_daemon_raw -E "$engine"
	ids=()
	for i in 1 2 3; do
		ids+=("$(copy_detached '{"reflink": "never", "bwlimit": 8388608}' \
			"$out/big$i" "$T/src/big$i")")
	done
	flood 120 3
	for i in 1 2 3; do
		r=$(job_wait "${ids[$((i - 1))]}")
		state=$(jfield parameters.job.state <<<"$r")
		case $state in
		done)	same "$T/src/big$i" "$out/big$i" ;;
		failed)	msg=$(jfield parameters.job.error_message <<<"$r")
			[ -n "$msg" ] && [ "$msg" != null ] ||
				fail "$engine: job $i failed without a message: $r"
			[ ! -e "$out/big$i" ] || fail "$engine: failed job $i left '$out/big$i'" ;;
		*)	fail "$engine: job $i ended '$state': $r" ;;
		esac
	done
	no_temporaries "$out"
	kill -0 "$DAEMON_PID" || fail "$engine: the daemon died under the flood"
	grep -q 'Too many open files\|EMFILE' "$DAEMON_LOG" ||
		fail "$engine: the flood never ran the daemon out of fds (no EMFILE in the log)"
	r=$(copy_wait "$never" "$out/f3m" "$T/src/f3m")
	expect_eq "$engine: a copy after the flood" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/src/f3m" "$out/f3m"
	stop_daemon || fail "$engine: the daemon did not exit cleanly"
	! grep -q 'Sanitizer\|runtime error' "$DAEMON_LOG" || fail "$engine: sanitizer report"
done
echo "ok"
