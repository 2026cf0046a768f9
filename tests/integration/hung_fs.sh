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
# waiting thread, so that the daemon can stop.
. "$(dirname "$0")/../lib.sh"
need_root "mounting a FUSE file system"
[ -c /dev/fuse ] || skip "no /dev/fuse"
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 for the FUSE server"

M=$T/hang
SERVER=
# Abort the connection (stuck requests fail at once), unmount, stop the server.
release_fs() {
	local minor
	if mountpoint -q "$M" 2>/dev/null; then
		mountpoint -q /sys/fs/fuse/connections ||
			mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null || true
		minor=$(( $(stat -c '%d' "$M") & 0xff ))
		echo 1 >"/sys/fs/fuse/connections/$minor/abort" 2>/dev/null ||
			for c in /sys/fs/fuse/connections/*/abort; do echo 1 >"$c"; done
		umount -l "$M"
	fi
	[ -z "$SERVER" ] || { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
	SERVER=
}
hung_exit() { local rc=$?; release_fs; (exit $rc); tree_exit; }
trap hung_exit EXIT

# mount_hang: the server on $M, serving until it is released.
mount_hang() {
	mkdir -p "$M"
	/usr/bin/python3 "$(dirname "$0")/fuse_hang.py" "$M" $((1 << 20)) flush >"$T/fuse.log" 2>&1 &
	SERVER=$!
	for _ in $(seq 100); do
		grep -q ready "$T/fuse.log" && return 0
		kill -0 "$SERVER" 2>/dev/null || skip "cannot mount a FUSE file system: $(cat "$T/fuse.log")"
		sleep 0.05
	done
	fail "the FUSE server did not come up"
}

/usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(bytes(i % 251 for i in range(1 << 20)))' >"$T/expected"
mkfile "$T/plain" 4M
for engine in io_uring fallback; do
	mount_hang
	start_daemon -E "$engine"
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
	stop_daemon || fail "$engine: daemon exit status $?"
done
echo "hung_fs: ok"
