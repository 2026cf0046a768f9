#!/bin/bash
# hostile_fs: an unprivileged user tries to make the root daemon read what
# it may not read, or write where it may not write: /etc/shadow, /root,
# /etc, protected directories reached through symlinks and "..", /proc
# magic links and the daemon's own /proc entries, a hard link to a
# protected file, FIFOs and devices as sources, a sticky directory, another
# user's directory. Every case is refused with the expected error, nothing
# secret lands in the attacker's files, the protected places are unchanged,
# and the daemon answers after each case.
. "$(dirname "$0")/../lib.sh"
need_root "runs a root daemon against the unprivileged users cpdtest and cpdtest2"
ensure_user cpdtest
ensure_user cpdtest2
# The same attacks on each engine: their credential switching differs.
for engine in auto fallback; do
	mkdir "$T/$engine"
	hostile_setup "$T/$engine"
	start_daemon_raw -E "$engine"
	pid=$DAEMON_PID

	echo "user data" > "$U/f"
	chown cpdtest: "$U/f"

	# 1-4: reading what the user cannot read.
	attack "read /etc/shadow" "" "$U/shadow" /etc/shadow
	refused EACCES
	[ ! -e "$U/shadow" ] || fail "case $n: $U/shadow exists"
	attack "read a file in a root-only directory" "" "$U/secret" "$P/secret"
	refused EACCES
	attack "read another user's private file" "" "$U/other" "$O/file"
	refused EACCES
	mkdir "$U/hl"
	cp "$U/f" "$U/hl/mine"
	ln "$P/secret" "$U/hl/hardlink"	# as if made before the file was protected
	chown cpdtest: "$U/hl" "$U/hl/mine"
	attack "a hard link to a protected file as the source" "" "$U/hardlink.copy" "$U/hl/hardlink"
	refused EACCES
	attack "the same hard link in a tree copy (archive)" '{"archive": true, "keep_going": true}' "$U/tree-hl" "$U/hl"
	# The tree copy goes on (it is the user's own tree) but not with that file.
	[ "$(jfield parameters.job.files_failed <<<"$r")" -ge 1 ] || fail "case $n: no failure: $r"
	same "$U/hl/mine" "$U/tree-hl/mine"
	job_has_failure "$r" /hardlink EACCES ||
		fail "case $n: the hard link did not fail with EACCES: $r"
	rm -rf "$U/tree-hl"

	# 5-9: writing where the user cannot write.
	attack "write into /root" "" "/root/cpd-hostile-$$" "$U/f"
	refused EACCES
	attack "write into /etc" "" "/etc/cpd-hostile-$$" "$U/f"
	refused EACCES
	attack "write into a directory the user may not write" "" "$W/new" "$U/f"
	refused EACCES
	ln -s "$W" "$U/to-w"
	chown -h cpdtest: "$U/to-w"
	attack "a destination through a symlink to a protected directory" "" "$U/to-w/new" "$U/f"
	refused EACCES
	attack "into a protected directory through a symlink (trailing /)" "" "$U/to-w/" "$U/f"
	refused EACCES
	ln -s /etc "$U/to-etc"
	attack "a destination through a symlink to /etc" "" "$U/to-etc/cpd-hostile-$$" "$U/f"
	refused EACCES
	attack "into another user's private directory" "" "$O/" "$U/f"
	refused EACCES

	# 10: a symlink as the destination is replaced, never followed.
	ln -s "$W/file" "$U/evil"
	chown -h cpdtest: "$U/evil"
	attack "a destination that is a symlink to a root-owned file" "" "$U/evil" "$U/f"
	expect_eq "case $n: state" "$(jfield parameters.job.state <<<"$r")" done
	[ -f "$U/evil" ] && [ ! -L "$U/evil" ] || fail "case $n: $U/evil is not a regular file now"

	# 11: a sticky directory protects another owner's file.
	attack "replace root's file in a sticky directory" "" "$S/rootfile" "$U/f"
	refused EPERM
	no_temporaries "$S"

	# 12-13: "..": as many as lead from U up to /.
	up=$(sed "s|/[^/]*|/..|g" <<<"$U")
	attack "'..' in the source up to /etc/shadow" "" "$U/dots" "$U$up/etc/shadow"
	refused EACCES
	attack "'..' in the destination up to /root" "" "$U$up/root/cpd-hostile-$$" "$U/f"
	refused EACCES

	# 14-21: /proc. Magic links are refused by openat2; the daemon's own
	# process (where the kernel does not check permissions for its threads)
	# is out of bounds as a whole.
	attack "/proc/self/root magic link" "" "$U/m1" /proc/self/root/etc/shadow
	refused ELOOP
	attack "/proc/PID/root of the daemon" "" "$U/m2" "/proc/$pid/root/etc/shadow"
	refused ELOOP
	attack "/proc/self/cwd magic link" "" "$U/m3" /proc/self/cwd/etc/shadow
	refused ELOOP
	for fd in $(ls "/proc/$pid/fd"); do
		attack "/proc/PID/fd/$fd of the daemon" "" "$U/fd$fd" "/proc/$pid/fd/$fd"
		refused ELOOP
		# Not even looked at: the magic link's target has no size here.
		expect_eq "case $n: bytes_total" "$(jfield parameters.job.bytes_total <<<"$r")" 0
	done
	attack "/proc/self/fd/N as a tree source (the link itself)" '{"recursive": true}' "$U/fdlink" /proc/self/fd/0
	refused EPERM
	attack "the daemon's fd directory as a tree" '{"recursive": true}' "$U/fds" "/proc/$pid/fd"
	refused EPERM
	[ ! -e "$U/fds" ] || fail "case $n: the daemon's fd links were copied: $(ls -l "$U/fds")"
	attack "the daemon's status file" "" "$U/status" "/proc/$pid/status"
	refused EPERM
	attack "a destination through /proc/self/fd (the daemon's log)" "" /proc/self/fd/1 "$U/f"
	refused ELOOP
	grep -q "user data" "$DAEMON_LOG" && fail "case $n: user data in the daemon's log"

	# 22-25: sources that are not regular files must not be read, nor hang.
	mkfifo "$U/fifo"
	chown cpdtest: "$U/fifo"
	attack "a FIFO as the source" "" "$U/fifo.copy" "$U/fifo"
	refused EINVAL
	attack "/dev/zero as the source" "" "$U/zero" /dev/zero
	refused EINVAL
	# A FIFO that a process holds open and never writes to: the daemon must
	# not block in a read.
	as_user cpdtest "$PYTHON" -c "import os, sys, time; os.open(sys.argv[1], os.O_RDWR); time.sleep(60)" \
		"$U/fifo" &
	holder=$!
	attack "a FIFO that has a writer" "" "$U/fifo.copy2" "$U/fifo"
	refused EINVAL
	kill_bg "$holder"
	mkdir "$U/specials"
	mkfifo "$U/specials/fifo"
	mknod "$U/specials/zero" c 1 5		# a device the user was given
	chown -R cpdtest: "$U/specials"
	attack "a tree with a FIFO and a device: recreated, never read" '{"recursive": true, "keep_going": true}' "$U/specials.copy" "$U/specials"
	[ -p "$U/specials.copy/fifo" ] || fail "case $n: the FIFO was not recreated: $r"
	# Only root may create devices: the job reports it and reads nothing.
	[ ! -s "$U/specials.copy/zero" ] || fail "case $n: the device was read"
	job_has_failure "$r" /zero EPERM || fail "case $n: the device did not fail with EPERM: $r"

	hostile_verify
	daemon_exit_ok
	echo "engine $engine: $n cases"
done
echo "PASS: hostile_fs"
