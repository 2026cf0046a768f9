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

# vs_cp WHAT CP_OPTION JSON DEST SRC CHECK: cp [CP_OPTION] SRC to
# $B/cp/DEST, and a Copy (parameters JSON) of SRC to $B/cpd/DEST: the job
# ends as cp did, and CHECK under both is alike. The replies are left in
# r, cp's messages in cpmsg.
vs_cp() {
	local what=$1 opt=$2 json=$3 dest=$4 src=$5 check=$6 rc=0
	# shellcheck disable=SC2086
	cpmsg=$(cp $opt "$src" "$B/cp/$dest" 2>&1) || rc=$?
	r=$(copy_wait "$json" "$B/cpd/$dest" "$src")
	cpd_like "$what" $rc "$r"
	same_as "$what" "$B/cp/$check" "$B/cpd/$check"
}
# in_both FUNCTION: set up the same things in $B/cp and in $B/cpd.
in_both() { "$1" "$B/cp"; "$1" "$B/cpd"; }

R='{"recursive": true}'
setup_devices() {
	mkdir -p "$1/t"
	mknod "$1/null" c 1 3
	mknod "$1/t/null" c 1 3
}
setup_regular() {
	local d
	mkdir -p "$1/keep"
	for d in "$1" "$1/keep"; do
		printf 'old and longer content\n' >"$d/reg"
		chown cpdtest:cpdtest "$d/reg"
		chmod 0606 "$d/reg"
		setfacl -m u:nobody:r "$d/reg"
		cp -p "$d/reg" "$d/arch"
	done
}
setup_dangling() {
	mkdir -p "$1/ln"
	ln -s nowhere "$1/dangling"
	ln -s nowhere "$1/ln/f"
}
setup_self() {
	mkdir -p "$1/self/sub"
	printf 'x\n' >"$1/self/sub/x"
}
# The sources of the trees: a file of the name found in the way.
setup_sources() {
	local t
	for t in t keep ln; do
		mkdir -p "$1/$t"
	done
	cp "$B/f" "$1/t/null"
	cp "$B/f" "$1/keep/reg"
	cp "$B/f" "$1/ln/f"
}

run_engine() {
	local E=$1 B="$T/$1" S="$T/$1/src" w rc cprc=0 msg
	start_daemon_raw -E "$E"
	mkdir -p "$B/cp" "$B/cpd"
	printf 'the new data\n' >"$B/f"
	chmod 0440 "$B/f"
	setup_sources "$S"

	# 1. A device as destination, plainly and in a merged tree.
	in_both setup_devices
	vs_cp "$E: device" "" "" null "$B/f" null
	vs_cp "$E: device in a tree" -r "$R" "" "$S/t" t/null

	# A FIFO with a reader: the reader gets the data.
	for w in cp cpd; do
		mkfifo "$B/$w/fifo"
		timeout 10 cat "$B/$w/fifo" >"$B/$w/fifo.out" &
		sleep 0.3	# the reader is waiting in open()
		if [ $w = cp ]; then
			timeout 10 cp "$B/f" "$B/cp/fifo" || cprc=$?
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
	in_both setup_regular
	vs_cp "$E: regular file" "" "" reg "$B/f" reg
	no_temporaries "$B/cpd"
	vs_cp "$E: regular file in a tree" -r "$R" "" "$S/keep" keep/reg
	vs_cp "$E: archive" -a '{"archive": true}' arch "$B/f" arch

	# 3. A dangling symlink: refused (cp exits 1), and left as it is.
	in_both setup_dangling
	vs_cp "$E: dangling symlink" "" "" dangling "$B/f" dangling
	[[ "$cpmsg" == *"not writing through dangling symlink '$B/cp/dangling'"* ]] ||
		fail "$E: cp says otherwise: $cpmsg"
	expect_eq "$E: dangling symlink: error" "$(errno "$r")" ENOENT
	[[ "$(message "$r")" == *"not writing through dangling symlink '$B/cpd/dangling'"* ]] ||
		fail "$E: dangling symlink: message: $(message "$r")"
	vs_cp "$E: dangling symlink in a tree" -r "$R" "" "$S/ln" ln/f
	expect_eq "$E: dangling symlink in a tree: error" "$(errno "$r")" ENOENT

	# 4. A directory into itself: named as cp names it, nothing left
	#    (where cp leaves what it could copy).
	in_both setup_self
	rc=0; msg=$(cd "$B/cp" && cp -R self self 2>&1) || rc=$?
	[[ "$msg" == *"into itself, 'self/self'"* ]] || fail "$E: cp says otherwise: $msg"
	r=$(copy_wait "$R" "$B/cpd/self" "$B/cpd/self")
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
