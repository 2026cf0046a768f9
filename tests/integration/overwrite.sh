#!/bin/bash
# overwrite: what a copy leaves where something was in the way, against
# GNU cp on an identical fresh tree, on both engines, as root:
# 1. a character device or a FIFO (with a reader) as the destination of
#    a file is written into and stays what it is, plainly and in a
#    merged tree (cp -r does the same); a FIFO without a reader fails
#    ENXIO at once and stays a FIFO (cp would wait for a reader forever);
# 2. a regular file replaced keeps its owner (the test user), group, mode
#    (0606, not the source's 0440) and ACL, plainly and in a tree; with
#    archive it takes the source's, as cp -a;
# 3. a dangling symlink as destination is refused (ENOENT, "not writing
#    through dangling symlink" naming it) and stays, nothing made at its
#    target, plainly and in a tree;
# 4. a directory copied into itself (cp -R d d) fails EINVAL naming 'd'
#    and 'd/d' as cp does, never a hidden temporary, and leaves nothing
#    behind (where cp leaves a partial d/d).
. "$(dirname "$0")/../lib.sh"
need_root "device nodes, ownership"
ensure_user cpdtest
command -v setfacl >/dev/null || skip "no setfacl"

# The file's type, rdev, owner, group and mode, as stat sees them.
ident() { stat -c '%F %t:%T %U %G %a' "$1"; }
acl() { getfacl -cp "$1" 2>/dev/null; }
state() { jfield parameters.job.state <<<"$1"; }
errno() { jfield parameters.job.error <<<"$1"; }
message() { jfield parameters.job.error_message <<<"$1"; }
# cpd_like WHAT CP_RC REPLIES: the job ended as cp did: done for 0, failed for not.
cpd_like() {
	local want=done
	[ "$2" -eq 0 ] || want=failed
	expect_eq "$1: job state (cp exited $2)" "$(state "$3")" "$want"
}
# same_as WHAT CP_PATH CPD_PATH: the same content, type, owner, mode and ACL.
same_as() {
	expect_eq "$1: file type, owner, mode" "$(ident "$3")" "$(ident "$2")"
	expect_eq "$1: ACL" "$(acl "$3")" "$(acl "$2")"
	if [ -f "$2" ]; then
		cmp -s "$2" "$3" || fail "$1: content differs from cp's"
	fi
}

run_engine() {
	local E=$1 B="$T/$1" rc r msg
	start_daemon_raw -E "$E"
	mkdir -p "$B"
	printf 'the new data\n' >"$B/f"
	chmod 0440 "$B/f"

	# 1. A device as destination, plainly and in a merged tree.
	for w in cp cpd; do
		mkdir -p "$B/$w/t" "$B/dev-src/t"
		mknod "$B/$w/null" c 1 3
		mknod "$B/$w/t/null" c 1 3
	done
	cp "$B/f" "$B/dev-src/t/null"
	rc=0; cp "$B/f" "$B/cp/null" || rc=$?
	r=$(copy_wait "" "$B/cpd/null" "$B/f")
	cpd_like "$E: device" $rc "$r"
	same_as "$E: device" "$B/cp/null" "$B/cpd/null"
	rc=0; cp -r "$B/dev-src/t" "$B/cp" || rc=$?
	r=$(copy_wait '{"recursive": true}' "$B/cpd" "$B/dev-src/t")
	cpd_like "$E: device in a tree" $rc "$r"
	same_as "$E: device in a tree" "$B/cp/t/null" "$B/cpd/t/null"

	# A FIFO with a reader: the reader gets the data.
	for w in cp cpd; do
		mkfifo "$B/$w/fifo"
		timeout 10 cat "$B/$w/fifo" >"$B/$w/fifo.out" &
		sleep 0.3	# the reader is waiting in open()
		rc=0
		if [ $w = cp ]; then
			timeout 10 cp "$B/f" "$B/cp/fifo" || rc=$?
			cprc=$rc
		else
			r=$(copy_wait "" "$B/cpd/fifo" "$B/f")
		fi
		wait $! || true	# a reader never fed ends by its timeout
	done
	cpd_like "$E: FIFO" "$cprc" "$r"
	same_as "$E: FIFO" "$B/cp/fifo" "$B/cpd/fifo"
	cmp -s "$B/f" "$B/cpd/fifo.out" || fail "$E: FIFO: the reader did not get the data"

	# Without a reader cp waits for one (here 1 s); cpd fails at once.
	mkfifo "$B/cp/lonely" "$B/cpd/lonely"
	rc=0; timeout 1 cp "$B/f" "$B/cp/lonely" || rc=$?
	expect_eq "$E: cp waits for a FIFO's reader" $rc 124
	r=$(copy_wait "" "$B/cpd/lonely" "$B/f")
	expect_eq "$E: FIFO without a reader: state" "$(state "$r")" failed
	expect_eq "$E: FIFO without a reader: error" "$(errno "$r")" ENXIO
	[[ "$(message "$r")" == *"'$B/cpd/lonely'"* ]] ||
		fail "$E: FIFO without a reader: message does not name it: $(message "$r")"
	same_as "$E: FIFO without a reader" "$B/cp/lonely" "$B/cpd/lonely"

	# 2. A regular file replaced keeps what it is; archive takes the source's.
	for w in cp cpd; do
		mkdir -p "$B/$w/keep" "$B/keep-src/keep"
		for d in "$B/$w" "$B/$w/keep"; do
			printf 'old and longer content\n' >"$d/reg"
			chown cpdtest:cpdtest "$d/reg"
			chmod 0606 "$d/reg"
			setfacl -m u:nobody:r "$d/reg"
			cp -p "$d/reg" "$d/arch"
		done
	done
	cp "$B/f" "$B/keep-src/keep/reg"
	rc=0; cp "$B/f" "$B/cp/reg" || rc=$?
	r=$(copy_wait "" "$B/cpd/reg" "$B/f")
	cpd_like "$E: regular file" $rc "$r"
	same_as "$E: regular file" "$B/cp/reg" "$B/cpd/reg"
	no_temporaries "$B/cpd"
	rc=0; cp -r "$B/keep-src/keep" "$B/cp" || rc=$?
	r=$(copy_wait '{"recursive": true}' "$B/cpd" "$B/keep-src/keep")
	cpd_like "$E: regular file in a tree" $rc "$r"
	same_as "$E: regular file in a tree" "$B/cp/keep/reg" "$B/cpd/keep/reg"
	rc=0; cp -a "$B/f" "$B/cp/arch" || rc=$?
	r=$(copy_wait '{"archive": true}' "$B/cpd/arch" "$B/f")
	cpd_like "$E: archive" $rc "$r"
	same_as "$E: archive" "$B/cp/arch" "$B/cpd/arch"

	# 3. A dangling symlink: refused, and left as it is.
	for w in cp cpd; do
		mkdir -p "$B/$w/ln" "$B/ln-src/ln"
		ln -s nowhere "$B/$w/dangling"
		ln -s nowhere "$B/$w/ln/f"
	done
	cp "$B/f" "$B/ln-src/ln/f"
	rc=0; msg=$(cd "$B/cp" && cp "$B/f" dangling 2>&1) || rc=$?
	[[ "$msg" == *"not writing through dangling symlink 'dangling'"* ]] ||
		fail "$E: cp says otherwise: $msg"
	r=$(copy_wait "" "$B/cpd/dangling" "$B/f")
	cpd_like "$E: dangling symlink" $rc "$r"
	expect_eq "$E: dangling symlink: error" "$(errno "$r")" ENOENT
	[[ "$(message "$r")" == *"not writing through dangling symlink '$B/cpd/dangling'"* ]] ||
		fail "$E: dangling symlink: message: $(message "$r")"
	same_as "$E: dangling symlink" "$B/cp/dangling" "$B/cpd/dangling"
	rc=0; cp -r "$B/ln-src/ln" "$B/cp" 2>/dev/null || rc=$?
	r=$(copy_wait '{"recursive": true}' "$B/cpd" "$B/ln-src/ln")
	cpd_like "$E: dangling symlink in a tree" $rc "$r"
	expect_eq "$E: dangling symlink in a tree: error" "$(errno "$r")" ENOENT
	same_as "$E: dangling symlink in a tree" "$B/cp/ln/f" "$B/cpd/ln/f"

	# 4. A directory into itself: named as cp names it, nothing left.
	for w in cp cpd; do
		mkdir -p "$B/$w/self/sub"
		printf 'x\n' >"$B/$w/self/sub/x"
	done
	rc=0; msg=$(cd "$B/cp" && cp -R self self 2>&1) || rc=$?
	[[ "$msg" == *"into itself, 'self/self'"* ]] || fail "$E: cp says otherwise: $msg"
	r=$(copy_wait '{"recursive": true}' "$B/cpd/self" "$B/cpd/self")
	cpd_like "$E: into itself" $rc "$r"
	expect_eq "$E: into itself: error" "$(errno "$r")" EINVAL
	msg=$(message "$r")
	[[ "$msg" == *"'$B/cpd/self', into itself, '$B/cpd/self/self'"* && "$msg" != *.cpd-tmp* ]] ||
		fail "$E: into itself: message does not name the paths as cp: $msg"
	[ ! -e "$B/cpd/self/self" ] || fail "$E: into itself: self/self left behind"
	no_temporaries "$B/cpd"
	stop_daemon || fail "$E: the daemon did not stop cleanly"
}

run_engine io_uring
run_engine fallback
echo "PASS: overwrite"
