#!/bin/bash
# snapshots: Copy's link_dest and clone_dest, on both engines.
# - An unchanged file is hard-linked from the previous snapshot, a changed
#   one copied; the snapshot equals the source (tree_compare --archive).
# - With -a a file whose mode or xattrs differ from the snapshot's is not
#   linked (a link would give the new snapshot the old attributes).
# - The quick check's known limit: a snapshot file of the same size and
#   mtime but other content is linked; --checksum compares the bytes.
# - A second --link-dest is looked in when the first has no match.
# - As an unprivileged user: another user's private files in the link-dest
#   tree are never linked, nor a readable one the user does not own
#   (protected_hardlinks: the link fails, the file is copied).
# - clone_dest on XFS (reflinks): cloned, a new inode, same bytes; on a
#   file system without FICLONE the file is copied.
. "$(dirname "$0")/../lib.sh"
need_root "test users and an XFS image"
command -v setfattr >/dev/null || skip "setfattr (attr) is not installed"

links() { stat -c %h "$1"; }
inode() { stat -c %i "$1"; }

run_engine() {
	local E=$1 B="$T/$1" out
	start_daemon_raw -E "$E"
	mkdir -p "$B/src/sub" "$B/snap"
	local i
	for i in 1 2 3 4 5; do printf 'file %s\n' "$i" >"$B/src/f$i"; done
	head -c 300000 /dev/urandom >"$B/src/sub/big"
	ln -s f1 "$B/src/link"
	"$CLIENT" copy -a "$B/src" "$B/snap/day1" || fail "$E: day1"

	# 1. Unchanged files are linked, the changed one copied.
	printf 'file X\n' >"$B/src/f2"
	out=$("$CLIENT" --json copy -a --link-dest "$B/snap/day1" "$B/src" "$B/snap/day2") ||
		fail "$E: day2: $out"
	expect_eq "$E: linked" "$(jget changes.linked <<<"$out")" 5
	expect_eq "$E: created" "$(jget changes.created <<<"$out")" 4	# top, sub, f2, link
	tree_same --archive --no-atime "$B/src" "$B/snap/day2"
	expect_eq "$E: f1 shared" "$(inode "$B/snap/day2/f1")" "$(inode "$B/snap/day1/f1")"
	expect_eq "$E: big shared" "$(inode "$B/snap/day2/sub/big")" \
		"$(inode "$B/snap/day1/sub/big")"
	[ "$(inode "$B/snap/day2/f2")" != "$(inode "$B/snap/day1/f2")" ] ||
		fail "$E: a changed file was linked"
	grep -q 'file 2' "$B/snap/day1/f2" || fail "$E: the old snapshot changed"

	# 2. -a: other attributes are not linked in.
	chmod 600 "$B/src/f3"
	setfattr -n user.k -v v "$B/src/f4"
	out=$("$CLIENT" --json copy -a --link-dest "$B/snap/day2" "$B/src" "$B/snap/day3")
	tree_same --archive --no-atime "$B/src" "$B/snap/day3"
	[ "$(inode "$B/snap/day3/f3")" != "$(inode "$B/snap/day2/f3")" ] ||
		fail "$E: a file of another mode was linked"
	[ "$(inode "$B/snap/day3/f4")" != "$(inode "$B/snap/day2/f4")" ] ||
		fail "$E: a file of other xattrs was linked"
	expect_eq "$E: f5 still linked" "$(inode "$B/snap/day3/f5")" "$(inode "$B/snap/day1/f5")"

	# 3. Same size and mtime, other content: linked by the quick check;
	# --checksum compares the bytes.
	cp -p "$B/snap/day3/f5" "$T/f5.times"
	printf 'file Z\n' >"$B/src/f5"
	touch -r "$T/f5.times" "$B/src/f5"
	"$CLIENT" copy -a --link-dest "$B/snap/day3" "$B/src" "$B/snap/day4" || fail "$E: day4"
	grep -q 'file 5' "$B/snap/day4/f5" || fail "$E: the quick check's limit is not what cpd-client(1) says"
	"$CLIENT" copy -a --checksum --link-dest "$B/snap/day3" "$B/src" "$B/snap/day5" ||
		fail "$E: day5"
	grep -q 'file Z' "$B/snap/day5/f5" || fail "$E: --checksum linked a file of other content"
	expect_eq "$E: checksum still links the same" "$(inode "$B/snap/day5/f1")" \
		"$(inode "$B/snap/day1/f1")"

	# 4. The second link-dest serves where the first has nothing.
	rm -rf "$B/half"; mkdir "$B/half"
	out=$("$CLIENT" --json copy -a --link-dest "$B/half" --link-dest "$B/snap/day5" \
		"$B/src" "$B/snap/day6")
	expect_eq "$E: linked from the second" "$(jget changes.linked <<<"$out")" 6

	# 5. Another user's files, as an unprivileged caller.
	ensure_user cpdsnap
	ensure_user cpdother
	local U="$B/u"
	mkdir -p "$U/src" "$U/prev" "$U/dst"
	printf 'mine\n' >"$U/src/mine"
	printf 'private\n' >"$U/src/private"
	printf 'public\n' >"$U/src/public"
	touch -d '2022-01-01' "$U/src/"*
	cp -p "$U/src/"* "$U/prev/"
	chown cpdsnap "$U/src" "$U/src/"* "$U/dst" "$U/prev/mine"
	chown cpdother "$U/prev/private" "$U/prev/public"
	chmod 600 "$U/prev/private"
	chmod 644 "$U/prev/public"
	chmod 755 "$U" "$U/prev" "$B"
	out=$(as_user cpdsnap env HOME=/ CPD_SOCKET="$CPD_SOCKET" "$CLIENT" --json copy -r \
		--link-dest "$U/prev" "$U/src/mine" "$U/src/private" "$U/src/public" "$U/dst/") ||
		fail "$E: as a user: $out"
	expect_eq "$E: own file linked" "$(inode "$U/dst/mine")" "$(inode "$U/prev/mine")"
	[ "$(inode "$U/dst/private")" != "$(inode "$U/prev/private")" ] ||
		fail "$E: another user's private file was linked"
	[ "$(inode "$U/dst/public")" != "$(inode "$U/prev/public")" ] ||
		fail "$E: another user's file was linked (protected_hardlinks)"
	expect_eq "$E: private copied" "$(cat "$U/dst/private")" private
	expect_eq "$E: owner of the copy" "$(stat -c %U "$U/dst/public")" cpdsnap
	expect_eq "$E: user's linked count" "$(jget changes.linked <<<"$out")" 1

	# 6. clone_dest: on XFS with reflinks, cloned; here (no FICLONE), copied.
	if [ -n "${XFS:-}" ]; then
		rm -rf "$XFS/s" "$XFS/d1" "$XFS/d2"
		cp -a "$B/src" "$XFS/s"
		"$CLIENT" copy -a --reflink=never "$XFS/s" "$XFS/d1" || fail "$E: xfs day1"
		out=$("$CLIENT" --json copy -a --reflink=never --clone-dest "$XFS/d1" "$XFS/s" "$XFS/d2")
		expect_eq "$E: cloned" "$(jget changes.cloned <<<"$out")" 6
		tree_same --archive --no-atime "$XFS/s" "$XFS/d2"
		[ "$(inode "$XFS/d2/sub/big")" != "$(inode "$XFS/d1/sub/big")" ] ||
			fail "$E: a clone shares the inode"
		expect_eq "$E: a clone's links" "$(links "$XFS/d2/sub/big")" 1
	fi
	out=$("$CLIENT" --json copy -a --clone-dest "$B/snap/day6" "$B/src" "$B/snap/day7")
	tree_same --archive --no-atime "$B/src" "$B/snap/day7"
	[ "$(inode "$B/snap/day7/f1")" != "$(inode "$B/snap/day6/f1")" ] ||
		fail "$E: clone_dest linked"
	daemon_exit_ok
}

# An XFS image with reflinks for clone_dest, if this machine can make one.
XFS=
if command -v mkfs.xfs >/dev/null && truncate -s 512M "$T/xfs.img" 2>/dev/null &&
    mkfs.xfs -q -m reflink=1 "$T/xfs.img" 2>/dev/null && mkdir -p "$T/xfs" &&
    mount -o loop "$T/xfs.img" "$T/xfs" 2>/dev/null; then
	XFS="$T/xfs"
	trap 'umount "$T/xfs" 2>/dev/null; cleanup' EXIT
else
	echo "note: no XFS image (mkfs.xfs or loop mounts missing): clone_dest's clones are not tried"
fi
run_engine io_uring
run_engine fallback
echo "snapshots: ok"
