#!/bin/bash
# fresh-root: the README's two set-up commands, each the first thing run
# on a fresh Debian 12 without the build packages, as a newcomer runs
# them. A minimal bookworm root (mmdebstrap, from Debian's archive) gets a
# clone of this checkout's commit; in one copy of it `make run` must
# install the packages, build and bring up a daemon on the default socket
# that copies a file; in another `make check` must install, build and
# pass. (A make that reads pkg-config before its deps step fails only on
# a machine like that: here every package is installed already.)
#
# Runs as root, no terminal. Exit 0 pass, 1 fail, 77 skip (no archive,
# no mmdebstrap, not root: a line starting with SKIP says which).
#   FRESH_ROOT_TMPFS=4G   /tmp in the roots on a tmpfs of that size
#                         (default: on disk, as on the host)
#   FRESH_ROOT_KEEP=1     keep the roots and their logs for a look
#   FRESH_ROOT_ONLY=run|check   one of the two
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "fresh-root: $*"; }
skip() { echo "SKIP: fresh-root: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (mmdebstrap, chroot, mounts)"
# Run with sudo in a developer's clone, root's git would refuse the
# user's repository ("dubious ownership"); it is only read here.
git() { command git -c safe.directory='*' "$@"; }
commit=$(git -C "$repo" rev-parse HEAD)
start=$SECONDS

# mmdebstrap is a Debian package; without the archive there is nothing to
# build the root from, which is a skip with its reason, not a pass.
if ! command -v mmdebstrap >/dev/null; then
	say "installing mmdebstrap"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap; } \
		>/tmp/cpd-fresh-root-apt.log 2>&1 ||
		{ tail -n 5 /tmp/cpd-fresh-root-apt.log; skip "cannot install mmdebstrap (is Debian's archive reachable?)"; }
fi

# Under /var/tmp, on disk: the suite needs several GiB in /tmp (the
# hostile tests' 1 GiB files), more than a default tmpfs would give.
work=$(mktemp -d /var/tmp/cpd-fresh-root.XXXXXX)
# The logs outlive the roots.
log=$(mktemp -d /tmp/cpd-fresh-root-logs.XXXXXX)

# in_work: the processes whose root is a root under $work (make, the
# daemon, the tests: all started here), by pid.
in_work() {
	local p
	for p in /proc/[0-9]*; do
		[[ "$(readlink "$p/root" 2>/dev/null)/" == "$work/"* ]] && echo "${p#/proc/}"
	done
	return 0
}

# mounts_in_work: mount points under $work, deepest first.
mounts_in_work() {
	awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# Stop what runs in the roots and unmount everything under them before
# anything is removed: rm -rf through a bind mount of /dev or /sys would
# reach the host's. Found afresh, not remembered: a case fails anywhere.
cleanup() {
	local rc=$? m pids left
	pids=$(in_work)
	if [ -n "$pids" ]; then
		kill -TERM $pids 2>/dev/null || true
		for _ in $(seq 50); do [ -n "$(in_work)" ] || break; sleep 0.1; done
		pids=$(in_work)
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
		sleep 0.5
	fi
	for m in $(mounts_in_work); do
		mountpoint -q "$m" && { umount -R "$m" 2>/dev/null || umount -R -l "$m" 2>/dev/null || true; }
	done
	left=$(mounts_in_work)
	if [ -n "$left" ]; then
		echo "fresh-root: still mounted, $work left in place: $left" >&2
		[ $rc -ne 0 ] || rc=1
	elif [ -n "${FRESH_ROOT_KEEP:-}" ]; then
		echo "fresh-root: kept $work"
	else
		rm -rf --one-file-system "$work"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# show LOG: a log's lines, indented so that they are not taken for this
# script's (nor its "N passed" line for the CI's closing line).
show() { sed 's/^/    | /' "$@"; }

say "building a Debian 12 root (mmdebstrap --variant=minbase) in $work"
t0=$SECONDS
if ! mmdebstrap --variant=minbase --include=make,git,ca-certificates \
	bookworm "$work/base" >"$log/mmdebstrap.log" 2>&1; then
	show <(tail -n 15 "$log/mmdebstrap.log")
	skip "cannot build a Debian 12 root (is Debian's archive reachable?)"
fi
say "root built in $((SECONDS - t0)) s"
# The packages make's deps step downloads are kept here, shared by both
# roots: the second install unpacks without downloading again.
mkdir -p "$work/debs/partial"

# enter ROOT: mount what a machine has under ROOT (bind mounts as
# slaves, so that unmounting them cannot reach the host's).
enter() {
	local r=$1
	mkdir -p "$r/src"
	mount -t proc proc "$r/proc"
	mount --rbind /sys "$r/sys"; mount --make-rslave "$r/sys"
	# /dev whole (loop devices, /dev/pts, /dev/shm): the tests set up
	# loop-mounted file systems.
	mount --rbind /dev "$r/dev"; mount --make-rslave "$r/dev"
	mount -t tmpfs -o mode=755 tmpfs "$r/run"
	if [ -n "${FRESH_ROOT_TMPFS:-}" ]; then
		mount -t tmpfs -o "mode=1777,size=$FRESH_ROOT_TMPFS" tmpfs "$r/tmp"
	fi
	mount --bind "$work/debs" "$r/var/cache/apt/archives"
	# The commit, not the work tree: what CI's fresh clone has.
	# (upload-pack reads the repository too, and does not inherit -c.)
	git clone -q --upload-pack="git -c safe.directory='*' upload-pack" "$repo" "$r/src/cpd"
	git -C "$r/src/cpd" checkout -q --detach "$commit"
}

# leave ROOT: unmount what enter mounted.
leave() {
	local r=$1 m
	for m in "$r/var/cache/apt/archives" "$r/tmp" "$r/run" "$r/dev" "$r/sys" "$r/proc"; do
		if mountpoint -q "$m"; then umount -R "$m"; fi
	done
}

# in_root ROOT CMD...: CMD in ROOT as root, with a plain environment
# (no terminal, no host variables) in the clone.
in_root() {
	local r=$1; shift
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb \
		chroot "$r" /bin/bash -c 'cd /src/cpd && exec "$@"' bash "$@"
}

result=0

# ---- make run: install, build, serve on /run/cpd/io.cpd.Manager. ----
run_case() {
	local r=$work/run-root sock pid out
	say "make run in a copy of the root (commit ${commit:0:12})"
	cp -a "$work/base" "$r"
	enter "$r"
	t0=$SECONDS
	sock=$r/run/cpd/io.cpd.Manager
	# Its own process group, to stop make and the daemon together.
	setsid env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		chroot "$r" /bin/bash -c 'cd /src/cpd && exec make run' \
		>"$log/make-run.log" 2>&1 </dev/null &
	pid=$!
	# Installing and building takes minutes: wait while make runs.
	while ! [ -S "$sock" ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			show <(tail -n 40 "$log/make-run.log")
			say "FAIL: make run ended without serving $sock"
			return 1
		fi
		sleep 1
	done
	say "make run: daemon on /run/cpd/io.cpd.Manager after $((SECONDS - t0)) s"
	# A file of several chunks, copied by the client as a user would.
	head -c 5M /dev/urandom >"$r/tmp/fresh-root.src"
	if ! out=$(in_root "$r" ./cpd-client copy /tmp/fresh-root.src /tmp/fresh-root.copy 2>&1); then
		show <<<"$out"
		show <(tail -n 20 "$log/make-run.log")
		say "FAIL: cpd-client copy"
		return 1
	fi
	if ! cmp "$r/tmp/fresh-root.src" "$r/tmp/fresh-root.copy"; then
		say "FAIL: the copy differs from its source"
		return 1
	fi
	say "make run: cpd-client copied 5 MiB, bytes equal"
	# make and the daemon together; make calls the daemon's end by
	# SIGTERM an error, which it is not here.
	kill -TERM -- "-$pid"
	wait "$pid" || true
	# The daemon, make's child, too: its socket holds /run busy.
	for _ in $(seq 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
	leave "$r"
	# Its room is the suite's next (make check's tests want several GiB).
	[ -n "${FRESH_ROOT_KEEP:-}" ] || [ -n "$(mounts_in_work)" ] || rm -rf --one-file-system "$r"
}

# ---- make check: install, build, pass. ----
check_case() {
	local r=$work/base rc=0
	say "make check in the root (commit ${commit:0:12})"
	enter "$r"
	t0=$SECONDS
	in_root "$r" make check >"$log/make-check.log" 2>&1 </dev/null || rc=$?
	# The suite's lines (and failures' logs); the install and build
	# before them only when they failed.
	if grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log/make-check.log"; then
		show <(sed -n '/^\(PASS\|FAIL\|SKIP\)  /,$p' "$log/make-check.log")
	else
		show <(tail -n 60 "$log/make-check.log")
	fi
	say "make check: exit $rc after $((SECONDS - t0)) s"
	leave "$r"
	return $rc
}

# Each case as a job of its own: called as `case || result=1`, bash
# would ignore set -e in the case's every command; as a background job
# it keeps it, and a failed mount or copy ends the case there. Both run,
# whatever the first gave.
for c in run check; do
	[ -z "${FRESH_ROOT_ONLY:-}" ] || [ "$FRESH_ROOT_ONLY" = "$c" ] || continue
	"${c}_case" &
	wait $! || result=1
done

if [ $result -eq 0 ]; then
	say "PASS in $((SECONDS - start)) s"
else
	say "FAIL in $((SECONDS - start)) s (logs: $log)"
fi
exit $result
