#!/bin/bash
# update: Copy's update modes against the tools that define them, on the
# same trees, on both engines:
# - quick and checksum against rsync -aX and rsync -acX: the same files
#   are rewritten, the same kept ones get their attributes back, and the
#   itemized lists agree on which files were created, updated and
#   brought up to date; a change of the same size and mtime is seen by
#   checksum only;
# - older against cp -a -u, none against cp -a -n (coreutils 9.1: skips);
# - dry_run changes nothing and reports what the real run then does;
# - a re-run over an up-to-date tree touches no inode (ctimes kept);
# - a source that vanishes while the job runs is a typed failure: the
#   job ends done, files_vanished counts it, cpd-client exits 24.
. "$(dirname "$0")/../lib.sh"
command -v rsync >/dev/null || skip "rsync is not installed"
command -v setfattr >/dev/null || skip "setfattr (attr) is not installed"

# snapshot DIR: every entry's path, type, size, mode, owner, mtime, ctime and xattrs.
snapshot() {
	py - "$1" <<'EOF'
import os, sys
root = sys.argv[1]
for d, dirs, files in sorted(os.walk(root)):
    for n in sorted(dirs + files):
        p = os.path.join(d, n)
        s = os.lstat(p)
        try:
            xa = sorted((a, os.getxattr(p, a, follow_symlinks=False)) for a in
                        os.listxattr(p, follow_symlinks=False))
        except OSError:
            xa = []
        print(os.path.relpath(p, root), s.st_mode, s.st_size, s.st_uid, s.st_mtime_ns,
              s.st_ctime_ns, xa)
EOF
}

# files_itemized: cpd-client's "YX change path" lines of regular files as "change path".
cpd_items() { awk '$1 ~ /^.f$/ && $2 != "skipped" { print $2, $3 }' | sort; }
# rsync -i's lines of regular files, in the same words.
rsync_items() {
	awk 'substr($1, 2, 1) == "f" {
		if (substr($1, 1, 1) != ">") c = "metadata"
		else if (substr($1, 3, 1) == "+") c = "created"
		else c = "updated"
		print c, $2
	}' | sort
}

# rsync_aX [OPTIONS] SRC DST: rsync -aX.
rsync_aX() { rsync -aX "$@"; }

# past_dirs DIR: directories and symlinks dated in the past. rsync compares
# times to the second: one made in the same second as its source keeps
# the time it was made with, where cpd gives it the source's.
past_dirs() {
	find "$1" \( -type d -o -type l \) -exec touch -h -d '2021-02-03 04:05:06' {} +
}

make_src() {	# DIR
	mkdir -p "$1/sub/deep"
	local i
	for i in 1 2 3 4 5 6; do printf 'file %s\n' "$i" >"$1/f$i"; done
	for i in 1 2 3; do head -c $((i * 5000)) /dev/urandom >"$1/sub/s$i"; done
	head -c 200000 /dev/urandom >"$1/sub/deep/big"
	ln -s f1 "$1/link"
	for i in 1 2 3 4; do mkdir "$1/quiet$i"; printf 'q%s\n' "$i" >"$1/quiet$i/q"; done
	setfattr -n user.tag -v one "$1/f1"
	touch -d '2020-01-01 00:00:00.123456789' "$1/f3" "$1/f4"
	past_dirs "$1"
}

# change_src DIR: one change of each kind.
change_src() {
	printf 'file X\n' >"$1/f2"				# same size, new mtime
	touch -d '2023-04-05 06:07:08' "$1/f2"	# (rsync sees a change of mtime within a second not)
	cp -p "$1/f3" "$T/f3.times"
	printf 'file Y\n' >"$1/f3"				# same size, same mtime
	touch -r "$T/f3.times" "$1/f3"
	chmod 600 "$1/f4"					# mode only
	setfattr -n user.tag -v two "$1/f1"			# xattr only
	printf 'new\n' >"$1/f7"					# a new file
	head -c 7000 /dev/urandom >"$1/sub/s2"			# another size
	past_dirs "$1"
}

run_engine() {
	local E=$1 B="$T/$1" out rc before after
	start_daemon_raw -E "$E"
	mkdir -p "$B/C" "$B/R"
	make_src "$B/src"

	# 1. A first copy of each: the same tree.
	"$CLIENT" copy -a "$B/src" "$B/C/" || fail "$E: first copy"
	rsync_aX "$B/src" "$B/R/" >/dev/null || fail "$E: rsync"
	tree_same --archive --no-atime "$B/R/src" "$B/C/src"

	# 2. Up to date: quick keeps everything and touches no inode.
	before=$(snapshot "$B/C")
	out=$("$CLIENT" copy -a --update=quick --itemize-changes "$B/src" "$B/C/") ||
		fail "$E: quick re-run: $out"
	[ -z "$out" ] || fail "$E: an up-to-date re-run itemized changes: $out"
	after=$(snapshot "$B/C")
	[ "$before" = "$after" ] || fail "$E: an up-to-date re-run changed the tree:
$(diff <(echo "$before") <(echo "$after") | head)"
	out=$("$CLIENT" --json copy -a --update=quick "$B/src" "$B/C/")
	expect_eq "$E: skipped of an up-to-date re-run" \
		"$(jget changes.skipped <<<"$out")" 15

	# 3. One change of each kind: quick against rsync -aX.
	change_src "$B/src"
	before=$(snapshot "$B/C")
	out=$("$CLIENT" copy -a --update=quick --dry-run --itemize-changes "$B/src" "$B/C/") ||
		fail "$E: dry run: $out"
	[ "$before" = "$(snapshot "$B/C")" ] || fail "$E: the dry run changed the tree"
	local dry; dry=$(cpd_items <<<"$out")
	out=$("$CLIENT" copy -a --update=quick --itemize-changes "$B/src" "$B/C/") ||
		fail "$E: quick: $out"
	local mine; mine=$(cpd_items <<<"$out")
	local theirs; theirs=$(rsync_aX -i "$B/src" "$B/R/" | rsync_items)
	[ "$mine" = "$theirs" ] || fail "$E: quick itemized differently from rsync -aXi:
cpd:
$mine
rsync:
$theirs"
	[ "$dry" = "$mine" ] || fail "$E: the dry run reported otherwise than the run:
$dry
---
$mine"
	tree_same --archive --no-atime "$B/R/src" "$B/C/src"
	grep -q 'file 3' "$B/C/src/f3" || fail "$E: quick rewrote a file of the same size and mtime"

	# 4. checksum sees it, as rsync -c does.
	out=$("$CLIENT" copy -a --checksum --itemize-changes "$B/src" "$B/C/") ||
		fail "$E: checksum: $out"
	mine=$(cpd_items <<<"$out")
	theirs=$(rsync_aX -ci "$B/src" "$B/R/" | rsync_items)
	[ "$mine" = "$theirs" ] || fail "$E: checksum itemized differently from rsync -aXci:
$mine
---
$theirs"
	expect_eq "$E: checksum's update" "$mine" "updated src/f3"
	tree_same --archive --no-atime "$B/R/src" "$B/C/src"

	# 4b. Directories whose entries are all up to date, each changed in
	# one attribute: the finish an unchanged one is spared still runs.
	chmod 750 "$B/src/quiet1"
	setfattr -n user.dir -v x "$B/src/quiet2"
	touch -d '2022-03-04 05:06:07.5' "$B/src/quiet3"
	[ "$(id -u)" != 0 ] || chown 1234:5678 "$B/src/quiet4"
	out=$("$CLIENT" copy -a --update=quick "$B/src" "$B/C/") || fail "$E: directories: $out"
	rsync_aX "$B/src" "$B/R/" >/dev/null
	tree_same --archive --no-atime "$B/R/src" "$B/C/src"
	expect_eq "$E: a directory's new mode" "$(stat -c %a "$B/C/src/quiet1")" 750

	# 5. older against cp -a -u, none against cp -a -n.
	local mode flag
	for mode in older:-u none:-n; do
		flag=${mode#*:} mode=${mode%%:*}
		rm -rf "$B/cpd-$mode" "$B/cp-$mode"
		mkdir -p "$B/cpd-$mode" "$B/cp-$mode"
		cp -a "$B/src" "$B/cpd-$mode/"
		cp -a "$B/src" "$B/cp-$mode/"
		printf 'newer copy\n' >"$B/cpd-$mode/src/f5"		# the copy is newer
		touch -d '2000-01-01' "$B/cpd-$mode/src/f6"		# the copy is older
		cp -a "$B/cpd-$mode/src/f5" "$B/cpd-$mode/src/f6" "$B/cp-$mode/src/"
		"$CLIENT" copy -a --update="$mode" "$B/src" "$B/cpd-$mode/" ||
			fail "$E: --update=$mode"
		cp -a "$flag" "$B/src" "$B/cp-$mode/" 2>/dev/null || true
		tree_same --archive --no-atime "$B/cp-$mode/src" "$B/cpd-$mode/src"
	done
	grep -q 'newer copy' "$B/cpd-older/src/f5" || fail "$E: older replaced a newer copy"
	cmp -s "$B/src/f6" "$B/cpd-older/src/f6" || fail "$E: older kept an older copy"

	# 6. A source that vanishes while the job runs (a slow job: 200
	# files at 100 KiB/s), deleted from the end of the listing.
	mkdir -p "$B/vsrc"
	local i
	for i in $(seq 100 299); do head -c 2048 /dev/urandom >"$B/vsrc/v$i"; done
	rm -rf "$B/vdst"
	"$CLIENT" --json copy -r --bwlimit 100K "$B/vsrc" "$B/vdst" >"$B/vanish.json" 2>&1 &
	local pid=$!
	sleep 1
	rm -f "$B"/vsrc/v2??
	rc=0; wait "$pid" || rc=$?
	expect_eq "$E: cpd-client's exit status when sources vanished" "$rc" 24
	out=$(cat "$B/vanish.json")
	expect_eq "$E: state" "$(jget state <<<"$out")" done
	local nv; nv=$(jget files_vanished <<<"$out")
	[ "$nv" -gt 0 ] || fail "$E: no source counted as vanished: $out"
	expect_eq "$E: failures that vanished" "$(jget files_failed <<<"$out")" "$nv"
	py -c 'import json,sys; j=json.load(sys.stdin)
assert j["failures"] and all(f["vanished"] and f["error"] == "ENOENT" for f in j["failures"]), j["failures"]' \
		<<<"$out" || fail "$E: vanished failures not typed"
	daemon_exit_ok
}

run_engine io_uring
run_engine fallback
echo "update: ok"
