#!/bin/bash
# hostile_procmount: a proc mounted after the daemon started is proc too.
# The daemon tells proc by the mount a file's statx names, looked up in
# its mountinfo when new or after the mount table changed, not by a list
# of devices taken at start-up: a new proc mount has a device of its own.
# On each engine, after start-up: a new proc at DIR, and cpdtest's tree
# copy of DIR/self/fd (the daemon's open files) and plain copy of
# DIR/self/status are refused (EPERM, "in /proc"), and so are a symlink
# of cpdtest's to DIR/self/status, DIR/net/dev (a link into self), and
# the daemon's directory bind-mounted elsewhere (its mount's root is
# that directory); then a tmpfs that was copied from is unmounted and a
# proc mounted in its place (which may get its mount id), and a copy
# from it is refused too. A file of /proc outside the processes'
# directories is copied, read to its end (its size says 0), as cp does:
# DIR/cpuinfo and DIR/sys/kernel/ostype, with cat's bytes.
# A tree with proc mounted in it, merged into a copy that has that
# directory, is refused, and leaves the daemon no fd more open.
. "$(dirname "$0")/../lib.sh"
need_root "mounts proc, and runs a root daemon for the unprivileged user cpdtest"
ensure_user cpdtest
trap tree_exit EXIT
TREE_EXIT_HOOK='umount -l "$T"/*/proc "$T"/*/q "$T"/*/u/t/p 2>/dev/null'
mkdir "$T/probe"
mount -t proc proc "$T/probe" 2>/dev/null || skip "cannot mount proc here"
umount "$T/probe"

# procfs_refused WHAT REPLIES: the job failed with EPERM, "in /proc".
procfs_refused() {
	expect_job_failed "$1" "$2" EPERM "*/proc, which cpd does not copy*"
	varlink_up || fail "$1: the daemon does not answer"
}

for engine in auto fallback; do
	D=$T/$engine U=$T/$engine/u
	mkdir -p "$D/proc" "$D/q" "$U"
	chown cpdtest: "$U"
	start_daemon_raw -E "$engine"
	pid=$DAEMON_PID
	mount -t proc proc "$D/proc"
	[ -e "$D/proc/$pid/status" ] || fail "the new proc shows no daemon"

	r=$(varlink_as cpdtest "$(copy_msg '{"recursive": true}' "$U/fds" "$D/proc/self/fd")" 30)
	procfs_refused "$engine: a tree copy of DIR/self/fd" "$r"
	[ ! -e "$U/fds" ] || fail "$engine: the daemon's fd links were copied: $(ls -l "$U/fds")"
	r=$(varlink_as cpdtest "$(copy_msg '' "$U/status" "$D/proc/self/status")" 30)
	procfs_refused "$engine: a copy of DIR/self/status" "$r"
	[ ! -e "$U/status" ] || fail "$engine: the daemon's status was copied"
	ln -s "$D/proc/self/status" "$U/link"
	r=$(varlink_as cpdtest "$(copy_msg '' "$U/status" "$U/link")" 30)
	procfs_refused "$engine: a copy through a symlink to DIR/self/status" "$r"
	r=$(varlink_as cpdtest "$(copy_msg '' "$U/dev" "$D/proc/net/dev")" 30)
	procfs_refused "$engine: a copy of DIR/net/dev" "$r"
	mount --bind "$D/proc/$pid" "$D/q"
	r=$(varlink_as cpdtest "$(copy_msg '' "$U/status" "$D/q/status")" 30)
	procfs_refused "$engine: a copy of the daemon's directory bind-mounted" "$r"
	umount "$D/q"
	[ ! -e "$U/status" ] && [ ! -e "$U/dev" ] || fail "$engine: a process's file was copied"
	# Outside the processes' directories: copied, to the end.
	for f in cpuinfo sys/kernel/ostype; do
		r=$(varlink_as cpdtest "$(copy_msg '' "$U/${f##*/}" "$D/proc/$f")" 30)
		expect_eq "$engine: a copy of DIR/$f" "$(jfield parameters.job.state <<<"$r")" done
		expect_eq "$engine: DIR/$f, copied" "$(grep -v MHz "$U/${f##*/}" | md5sum)" \
			"$(grep -v MHz "$D/proc/$f" | md5sum)"
		[ -s "$U/${f##*/}" ] || fail "$engine: DIR/$f copied empty"
	done
	umount "$D/proc"

	# proc mounted in a tree, merged into a copy that has that directory:
	# the copy's directory is opened with the set-up's first steps
	# (tree_ahead.c) before the source is found to be proc, and closed.
	mkdir -p "$U/t/p" "$U/out/t/p"
	chown -R cpdtest: "$U/t" "$U/out"
	mount -t proc proc "$U/t/p"
	fds=$(ls "/proc/$pid/fd" | wc -l)
	r=$(varlink_as cpdtest "$(copy_msg '{"recursive": true}' "$U/out/" "$U/t")" 30)
	procfs_refused "$engine: a tree with proc in it, merged" "$r"
	expect_eq "$engine: the daemon's open fds after it" "$(ls "/proc/$pid/fd" | wc -l)" "$fds"
	umount "$U/t/p"

	# A mount the daemon has seen, gone, and proc in its place.
	mount -t tmpfs tmpfs "$D/q"
	echo data > "$D/q/f"
	chmod 755 "$D/q"
	r=$(varlink_as cpdtest "$(copy_msg '' "$U/f" "$D/q/f")" 30)
	expect_eq "$engine: a copy from the tmpfs" "$(jfield parameters.job.state <<<"$r")" done
	umount "$D/q"
	mount -t proc proc "$D/q"
	r=$(varlink_as cpdtest "$(copy_msg '' "$U/status2" "$D/q/self/status")" 30)
	procfs_refused "$engine: a copy from a proc mounted where a tmpfs was" "$r"
	umount "$D/q"

	no_temporaries "$U"
	daemon_exit_ok
	echo "engine $engine: ok"
done
echo "PASS: hostile_procmount"
