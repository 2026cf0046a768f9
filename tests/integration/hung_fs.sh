#!/bin/bash
# hung_fs: a file system that stops answering does not stop the daemon.
# A FUSE server (fuse_hang.py, no library) serves one 1 MiB file and never
# answers the FLUSH that each close of a file opened on it sends, as a
# FUSE server that hangs or an NFS server gone away would. A copy of that
# file (large enough to be copied step by step, so its source is closed
# by the copy's end, not inside a pool thread's whole-file copy) is done
# with the right bytes; its source's close then waits for ever, in a pool
# thread: the daemon still answers GetStatus at once, and a copy on
# another file system completes. Before the closes went off the loop, the
# event loop itself waited in that close and nobody was answered. Both
# engines. At the end the FUSE connection is aborted, which frees the
# waiting thread, so that the daemon can stop. Copies whose reads are
# never answered: another user's copy is done beside them, and a Cancel
# of them is answered and ends them "cancelled" although their reads are
# still stuck; when the file system answers again they are reaped. And
# bulk copies stuck there, their chunks the pool's or io-wq's, leave
# another user's copy done.
. "$(dirname "$0")/../lib.sh"
need_root "mounting a FUSE file system"
[ -c /dev/fuse ] || skip "no /dev/fuse"
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 for the FUSE server"

M=$T/hang
MOUNTS=() SERVERS=()
# Abort the connections (stuck requests fail at once), unmount, stop the servers.
release_fs() {
	local m minor s
	for m in "${MOUNTS[@]}"; do
		mountpoint -q "$m" 2>/dev/null || continue
		mountpoint -q /sys/fs/fuse/connections ||
			mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null || true
		minor=$(( $(stat -c '%d' "$m") & 0xff ))
		echo 1 >"/sys/fs/fuse/connections/$minor/abort" 2>/dev/null ||
			for c in /sys/fs/fuse/connections/*/abort; do echo 1 >"$c"; done
		umount -l "$m"
	done
	for s in "${SERVERS[@]}"; do
		kill "$s" 2>/dev/null || true
		wait "$s" 2>/dev/null || true
	done
	MOUNTS=() SERVERS=()
}
hung_exit() { local rc=$?; release_fs; (exit $rc); tree_exit; }
trap hung_exit EXIT

# mount_hang DIR SIZE HANG: fuse_hang.py on DIR, serving until released.
mount_hang() {
	mkdir -p "$1"
	/usr/bin/python3 "$(dirname "$0")/fuse_hang.py" "$1" "$2" "$3" >"$1.log" 2>&1 &
	SERVERS+=($!)
	MOUNTS+=("$1")
	for _ in $(seq 100); do
		grep -qs ready "$1.log" && return 0
		kill -0 "${SERVERS[-1]}" 2>/dev/null || skip "cannot mount a FUSE file system: $(cat "$1.log")"
		sleep 0.05
	done
	fail "the FUSE server did not come up"
}

/usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(bytes(i % 251 for i in range(1 << 20)))' >"$T/expected"
mkfile "$T/plain" 4M
# Root's stuck copies all run: no per-user cap of running jobs, room for
# 16, on any device (the stuck ones share /tmp's with the others').
write_config "$T/cpd.conf" 'jobs = { max_running = 16; max_running_per_user = 0; interactive_slots = 16; };
	devices = { other = { max_running = 16; }; ssd = { max_running = 16; };
	rotational = { max_running = 16; }; };'
ensure_user cpdtest
ensure_user cpdtest2
U=$T/user V=$T/user2
mkdir "$U"
install -d -o cpdtest2 -g cpdtest2 "$V"
chmod 755 "$T"
mkfile "$U/small" 4K
mkfile "$U/big" 64M
mkfile "$U/mid" 16M
chown -R cpdtest: "$U"
for engine in io_uring fallback; do
	mount_hang "$M" $((1 << 20)) flush
	start_daemon -E "$engine" --config "$T/cpd.conf"
	# Its end is announced after its files are closed, on the loop: when
	# the loop itself waited in the close, this reply never came.
	r=$(varlink_wait "$(copy_msg "" "$T/out.$engine" "$M/f")" 20)
	[ -n "$r" ] || fail "$engine: the copy from the hung file system was never answered"
	expect_eq "$engine: copy from the hung file system" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/expected" "$T/out.$engine"
	# The close of its source is waiting now: the daemon answers all the same.
	for i in 1 2 3; do
		s=$(timeout 5 socat -t 5 - "UNIX-CONNECT:$CPD_SOCKET" < <(printf '%s\0' \
			'{"method":"io.cpd.Manager.GetStatus"}') | tr '\0' '\n')
		[ -n "$(jfield parameters.engine <<<"$s")" ] ||
			fail "$engine: GetStatus $i not answered while a close waits for the file system"
		sleep 0.2
	done
	r=$(timeout 30 bash -c "$(declare -f varlink_wait copy_msg py); PYTHON=$PYTHON CPD_SOCKET=$CPD_SOCKET;
		varlink_wait \"\$(copy_msg '' '$T/plain.$engine' '$T/plain')\" 25")
	expect_eq "$engine: a copy on another file system" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/plain" "$T/plain.$engine"
	release_fs

	# 4 small files of root's and 4 of cpdtest2's, on one file system
	# whose reads are never answered, copied whole by pool threads: they
	# hold three of its four (a file system's share; two of them a
	# user's), and a third user's small copy is done beside them, its
	# examination and its copy in the thread left. cpdtest2's are tree
	# copies of a directory on /tmp's disk that holds the mount: its
	# files count in the hung file system's share, not in that of the
	# job's source. (Before the per-user share root's 4 held all four
	# threads; before the per-device share root's and cpdtest2's held
	# two each; while an operation counted in its job's first source's
	# share, so did they.)
	mount_hang "$T/sp/stuck" 4096 read
	abandoned=$(grep -c "still in flight" "$DAEMON_LOG" || true)
	reaped=$(grep -c "abandoned operations have returned" "$DAEMON_LOG" || true)
	ids=()
	for i in 1 2 3 4; do ids+=("$(copy_detached "" "$T/stuck.$engine.$i" "$T/sp/stuck/f")"); done
	for i in 1 2 3 4; do
		r=$(varlink_as cpdtest2 "$(copy_msg '{"__more": false, "recursive": true}' \
			"$V/stuck.$engine.$i" "$T/sp")" 10)
		id=$(jfield parameters.job.id <<<"$r")
		[[ "$id" =~ ^[0-9]+$ ]] || fail "$engine: cpdtest2's Copy $i: $r"
		ids+=("$id")
	done
	sleep 0.5
	r=$(varlink_as cpdtest "$(copy_msg "" "$U/small.$engine" "$U/small")" 20)
	expect_eq "$engine: a third user's small copy beside 8 stuck ones of two users" \
		"$(jfield parameters.job.state <<<"$r")" done
	same "$U/small" "$U/small.$engine"

	# A Cancel of a stuck job is answered at once, and the job ends
	# "cancelled" although its read never returns: its slot is free.
	for id in "${ids[@]}"; do
		r=$(timeout 5 bash -c "$(declare -f varlink_call); CPD_SOCKET=$CPD_SOCKET;
			varlink_call '{\"method\":\"io.cpd.Manager.Cancel\",\"parameters\":{\"id\":$id}}'")
		[ -n "$r" ] || fail "$engine: the Cancel of stuck job $id was not answered"
	done
	for id in "${ids[@]}"; do
		r=$(varlink_wait "{\"method\":\"io.cpd.Manager.Wait\",\"parameters\":{\"id\":$id}}" 15)
		expect_eq "$engine: stuck job $id after its Cancel" \
			"$(jfield parameters.job.state <<<"$r")" cancelled
	done
	s=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
	expect_eq "$engine: running jobs once the stuck ones are cancelled" \
		"$(jfield parameters.jobs_running <<<"$s")" 0
	[ "$(grep -c "still in flight" "$DAEMON_LOG")" -eq $((abandoned + 8)) ] ||
		fail "$engine: the abandoned operations are not told in the log"
	# The file system answers again (with an error): what the stuck
	# operations held is reaped, and nothing of the copies is left.
	release_fs
	for _ in $(seq 100); do
		[ "$(grep -c "abandoned operations have returned" "$DAEMON_LOG")" -ge $((reaped + 8)) ] &&
			break
		sleep 0.05
	done
	[ "$(grep -c "abandoned operations have returned" "$DAEMON_LOG")" -ge $((reaped + 8)) ] ||
		fail "$engine: the abandoned operations were not reaped"
	# (A cancelled tree copy puts in place what it made: here the
	# directories, never a partial f.)
	for i in 1 2 3 4; do
		[ ! -e "$T/stuck.$engine.$i" ] && [ ! -e "$V/stuck.$engine.$i/stuck/f" ] ||
			fail "$engine: a cancelled copy left its destination"
	done
	no_temporaries "$T"

	# Three bulk copies of a large file whose reads are never answered
	# (their chunks hold io-wq workers and pool threads): another user's
	# bulk copy is done beside them. Before, a pool result posted lazily
	# (to be taken along by a later one, which the stuck ones never
	# sent) held that copy's first step for ever.
	mount_hang "$T/bulk" $((64 << 20)) read
	for i in 1 2 3; do
		copy_detached '{"priority": "bulk"}' "$T/bulk.$engine.$i" "$T/bulk/f" >/dev/null
	done
	sleep 0.5
	r=$(varlink_as cpdtest "$(copy_msg '{"priority": "bulk"}' "$U/big.$engine" "$U/big")" 30)
	expect_eq "$engine: another user's bulk copy beside 3 stuck ones" \
		"$(jfield parameters.job.state <<<"$r")" done
	same "$U/big" "$U/big.$engine"
	release_fs

	# Three copies of a 32 MiB file (below map_threshold: its chunks are
	# the engine's) whose reads are never answered: with io_uring their
	# 12 chunks hold 12 io-wq workers (more than the 8 bounded ones of 2
	# CPUs: a splice into a pipe is io-wq's unbounded work), with the
	# fallback engine at most their user's share of the pool. Another
	# user's copy is done beside them.
	mount_hang "$T/wq" $((32 << 20)) read
	for i in 1 2 3; do
		copy_detached '{"priority": "bulk"}' "$T/wq.$engine.$i" "$T/wq/f" >/dev/null
	done
	sleep 0.5
	r=$(varlink_as cpdtest "$(copy_msg '' "$U/mid.$engine" "$U/mid")" 30)
	expect_eq "$engine: another user's copy beside 12 stuck chunks" \
		"$(jfield parameters.job.state <<<"$r")" done
	same "$U/mid" "$U/mid.$engine"
	release_fs

	# Twelve copies of a file whose reads are never answered into a
	# device: a stream, copied by read and write (no splice), in normal
	# jobs. Their first reads were tried on the loop thread, where FUSE's
	# readahead waits for the server even in a non-blocking attempt:
	# the next Copy was never answered. Now they wait in io-wq (a worker
	# each), and another user's copy is done beside them.
	mount_hang "$T/dev" $((32 << 20)) read
	for i in $(seq 12); do
		rm -f "$T/null.$i"
		mknod "$T/null.$i" c 1 3
		copy_detached '' "$T/null.$i" "$T/dev/f" >/dev/null
	done
	sleep 0.5
	r=$(varlink_as cpdtest "$(copy_msg '{"priority": "bulk"}' "$U/big2.$engine" "$U/big")" 30)
	expect_eq "$engine: another user's copy beside 12 stuck streams" \
		"$(jfield parameters.job.state <<<"$r")" done
	same "$U/big" "$U/big2.$engine"
	# Another user's stream too, read and written by io-wq as root's
	# are: io-wq runs chunks forced to it as unbounded work (12 stuck
	# reads of a regular file hold 12 workers, over the 8 bounded ones
	# of 2 CPUs), so root's do not hold what this one needs.
	r=$(varlink_as cpdtest "$(copy_msg '{"priority": "bulk"}' /dev/null "$U/mid")" 30)
	expect_eq "$engine: another user's stream beside 12 stuck streams" \
		"$(jfield parameters.job.state <<<"$r")" done
	release_fs

	# A small file with a bandwidth limit, in a normal job, is copied in
	# io_uring's lanes (not whole by a pool thread, nor by the pool as an
	# interactive job's): its first read was tried on the loop thread, and
	# FUSE's readahead waits there for the server, even in a non-blocking
	# attempt, unless the server asked for asynchronous reads (this one
	# does not). The whole daemon stopped. Now every lane's read goes to
	# io-wq: the daemon answers, and a Cancel ends the job at once.
	mount_hang "$T/lane" 65536 read
	id=$(copy_detached '{"bwlimit": 1048576, "priority": "normal"}' "$T/lane.$engine" "$T/lane/f")
	sleep 0.5
	s=$(timeout 5 socat -t 5 - "UNIX-CONNECT:$CPD_SOCKET" < <(printf '%s\0' \
		'{"method":"io.cpd.Manager.GetStatus"}') | tr '\0' '\n')
	[ -n "$(jfield parameters.engine <<<"$s")" ] ||
		fail "$engine: GetStatus not answered while a small lane's read waits for the file system"
	r=$(timeout 5 bash -c "$(declare -f varlink_call); CPD_SOCKET=$CPD_SOCKET;
		varlink_call '{\"method\":\"io.cpd.Manager.Cancel\",\"parameters\":{\"id\":$id}}'")
	expect_eq "$engine: the stuck small lane's job, cancelled" \
		"$(jfield parameters.job.state <<<"$r")" cancelled
	release_fs

	# A copy's data is read with its caller's credentials: the file
	# system sees cpdtest's uid in every read, not the daemon's. (Until
	# found, io_uring's lanes lost their personality and read as root;
	# a normal job's, since an interactive one's chunks are the pool's.)
	mount_hang "$T/who" $((1 << 20)) none
	r=$(varlink_as cpdtest "$(copy_msg '{"priority": "normal"}' "$U/who.$engine" "$T/who/f")" 30)
	expect_eq "$engine: cpdtest's copy of a file the server logs reads of" \
		"$(jfield parameters.job.state <<<"$r")" done
	same "$T/expected" "$U/who.$engine"
	readers=$(sed -n 's/^read by uid //p' "$T/who.log" | sort -u | tr '\n' ' ')
	expect_eq "$engine: the uids the file system saw reading" "$readers" "$(id -u cpdtest) "
	release_fs
	stop_daemon || fail "$engine: daemon exit status $?"

	# The daemon's budget of chunks in flight (engine.max_inflight, 12
	# here) is shared out too: root's 12 stuck streams hold at most half
	# of it, and another user's stream is done beside them. Before, they
	# held all 12 chunks, and its one chunk waited for ever.
	write_config "$T/inflight.conf" "$(cat "$T/cpd.conf")
		engine = { max_inflight = 12; };"
	start_daemon -E "$engine" --config "$T/inflight.conf"
	mount_hang "$T/budget" $((32 << 20)) read
	for i in $(seq 12); do
		copy_detached '' "$T/null.$i" "$T/budget/f" >/dev/null
	done
	sleep 0.5
	r=$(varlink_as cpdtest "$(copy_msg '{"priority": "normal"}' /dev/null "$U/mid")" 30)
	expect_eq "$engine: another user's stream beside 12 stuck ones, 12 chunks in flight at most" \
		"$(jfield parameters.job.state <<<"$r")" done
	release_fs
	stop_daemon || fail "$engine: daemon exit status $?"
done
echo "hung_fs: ok"
