#!/bin/bash
# mirror: Copy with delete and filters gives what rsync -aHAX --delete
# with the same filters gives on the same trees, on both engines. A
# destination made from an older source meets the new one: files added,
# deleted and renamed, a file replaced by a directory and a directory
# by a file (and by a symlink), excluded files on both sides (kept in
# the destination), symlinks in the destination to a directory outside
# the tree and into /root (unlinked, never followed: nothing outside
# goes), a symlink to a file outside where the source has a file
# (replaced, not written through). Filters: *.o, build/, an include before an exclude, an
# anchored /src/top, ** patterns, d/***, exclude-from a file. Also:
# max_delete refuses the entry past its count (E2BIG) and deletes no
# more; deletions are itemized (and new directories), and with dry_run
# only told; with update=quick an excluded file is left alone; a caller deletes only what it may (as an
# unprivileged user: a root-owned directory in the way stays, and the
# job says so); a pattern that cannot be compiled is refused, and delete
# without recursive.
# rsync runs with -I: cpd copies every file again (no update mode here),
# and rsync's quick check, to the second, would keep a file whose mtime
# differs within its second.
. "$(dirname "$0")/../lib.sh"
trap tree_exit EXIT
command -v rsync >/dev/null || skip "rsync is not installed"

# ---- The old source (what the destinations were made from) and the new one.
OLD=$T/old/src
NEW=$T/new/src
mkdir -p "$OLD" "$T/new"
cd "$OLD"
mkdir -p a/b/c build/obj cache/x keepdir d2f/inner d2l tmp top sub/top renamed_dir
mkfile a/one 100
mkfile a/b/two 2000
mkfile a/b/c/three 10
mkfile a/gone 5
mkfile build/obj/x.o 10
mkfile build/out 10
mkfile main.o 10
mkfile keep.o 10
mkfile a/b/deep.o 10
mkfile cache/x/blob 10
mkfile cache/top 10
mkfile d2f/inner/f 10
mkfile d2f/g 10
mkfile d2l/f 10
mkfile f2d 10
mkfile tmp/run.log 10
mkfile top/t 10
mkfile sub/top/t 10
mkfile renamed_dir/r 10
mkfile old_name 300
ln -s a/one link_kept
ln -s /etc link_abs
cd /
cp -a "$OLD" "$NEW"
cd "$NEW"
# Changed: added, deleted, renamed; type changes both ways.
mkfile a/new 50
mkfile a/b/c/four 60
rm a/gone
mv old_name new_name
mv renamed_dir dir_renamed
rm -r d2f && mkfile d2f 20
rm -r d2l && ln -s a d2l
rm f2d && mkdir f2d && mkfile f2d/in 30
mkfile build/obj/y.o 10
mkfile newer.o 10
mkfile tmp/more.log 10
mkdir -p fresh/deeper && mkfile fresh/deeper/z 10
cd /
tree_set_times "$T/new"
tree_set_times "$T/old"

# Outside the tree: what a destination's symlinks point at, which must stay.
OUT=$T/outside
mkdir -p "$OUT/sub"
mkfile "$OUT/precious" 10
mkfile "$OUT/sub/precious" 10
cp "$OUT/precious" "$T/precious.orig"
ls -d /root >/dev/null 2>&1 || skip "no /root"
rootlist=$(ls -a /root 2>/dev/null | sort | tr '\n' ' ')

# A destination made from the old source, with entries of its own.
BASE=$T/base
mkdir -p "$BASE"
cp -a "$OLD" "$BASE/"
ln -s "$OUT" "$BASE/src/to_outside"
ln -s "$OUT/sub" "$BASE/src/a/to_outside_sub"
ln -s /root "$BASE/src/to_root"
mkdir -p "$BASE/src/extra/deeper"
mkfile "$BASE/src/extra/deeper/e" 10
mkfile "$BASE/src/extra.o" 10
mkfile "$BASE/src/build/obj/stale.o" 10
mkfile "$BASE/src/cache/x/stale" 10
ln -s "$OUT" "$BASE/src/extra/deeper/out"
# A file of the source whose destination is a symlink to a file outside:
# replaced by the file, the file outside left as it was.
rm "$BASE/src/a/b/two"
ln -s "$OUT/precious" "$BASE/src/a/b/two"
base() {	# DIR: a copy of it
	rm -rf "$1"
	cp -a "$BASE" "$1"
}

outside_intact() {	# WHAT
	[ -f "$OUT/precious" ] && [ -f "$OUT/sub/precious" ] ||
		fail "$1: an entry outside the tree was deleted"
	cmp -s "$OUT/precious" "$T/precious.orig" ||
		fail "$1: a file outside the tree was written through a symlink"
	expect_eq "$1: /root" "$(ls -a /root 2>/dev/null | sort | tr '\n' ' ')" "$rootlist"
}

# The filter sets (one a line: options for both tools).
EXF=$T/exclude-from
printf '%s\n' '# comment' '; another' '' 'build/' '+ keep.o' '*.o' '/src/cache/***' > "$EXF"
filters=(
	""
	"--exclude=*.o"
	"--exclude=build/"
	"--include=keep.o --exclude=*.o"
	"--exclude=/src/top"
	"--exclude=cache/** --exclude=**/tmp/*.log"
	"--exclude=src/**/c --exclude=a**"
	"--exclude=/src/d2f --exclude=f2d/"
	"--exclude-from=$EXF"
)

for engine in io_uring fallback; do
	start_daemon_raw -E "$engine"
	for i in "${!filters[@]}"; do
		f=${filters[$i]}
		what="$engine, filters '$f'"
		R=$T/rsync.$i C=$T/cpd.$i
		base "$R"
		base "$C"
		# shellcheck disable=SC2086
		rsync -aHAXI --delete $f "$NEW" "$R/" >/dev/null 2>&1 ||
			fail "$what: rsync failed (test problem)"
		# shellcheck disable=SC2086
		out=$("$CLIENT" copy -a --delete $f "$NEW" "$C/" 2>&1) ||
			fail "$what: cpd-client copy failed: $out"
		tree_same --archive --no-atime --no-root-meta "$R" "$C"
		outside_intact "$what"
		[ -L "$C/src/d2l" ] || fail "$what: d2l is not the new symlink"
		# (Unless a filter keeps a out of it.)
		[ -L "$R/src/a/b/two" ] || { [ -f "$C/src/a/b/two" ] && [ ! -L "$C/src/a/b/two" ]; } ||
			fail "$what: a/b/two is not the file"
		no_temporaries "$C"
		rm -rf "$R" "$C"
	done

	# Itemized deletions, as rsync's: the contents before their directory.
	C=$T/cpd.items
	base "$C"
	items=$("$CLIENT" copy -a --delete --itemize-changes --exclude='*.o' "$NEW" "$C/" 2>&1) ||
		fail "$engine: itemized copy failed: $items"
	for p in src/a/gone src/old_name src/renamed_dir/r src/renamed_dir src/to_outside \
	    src/to_root src/extra/deeper/e src/extra/deeper/out src/extra/deeper src/extra \
	    src/d2f/inner/f src/d2f src/d2l/f src/d2l src/f2d src/a/to_outside_sub; do
		grep -q "deleted  $p\$" <<<"$items" || fail "$engine: no deletion of $p itemized:
$items"
	done
	for p in src/fresh src/fresh/deeper src/f2d; do
		grep -q "created  $p\$" <<<"$items" || fail "$engine: new directory $p not itemized:
$items"
	done
	! grep -q "deleted  src/extra.o\|deleted  src/build/obj/stale.o" <<<"$items" ||
		fail "$engine: an excluded entry was deleted: $items"
	[ -e "$C/src/extra.o" ] || fail "$engine: the excluded src/extra.o went"
	e=$(grep -n "deleted  src/extra/deeper/e\$" <<<"$items" | cut -d: -f1)
	d=$(grep -n "deleted  src/extra\$" <<<"$items" | cut -d: -f1)
	[ "$e" -lt "$d" ] || fail "$engine: a directory was itemized before its contents"
	outside_intact "$engine, itemized"
	rm -rf "$C"

	# dry_run: the same deletions are told, nothing goes (a type change too).
	C=$T/cpd.dry
	base "$C"
	# (Counted by the Job: a dry run of a small tree may end before its
	# record is durable, and its itemized lines then go missing, watch.c.)
	dry=$("$CLIENT" --json copy -a --delete --dry-run --exclude='*.o' "$NEW" "$C/" 2>&1) ||
		fail "$engine: dry run failed: $dry"
	tree_same --archive --no-atime "$BASE" "$C"
	count() { py -c 'import json, sys; print(json.load(sys.stdin)["changes"][sys.argv[1]])' "$1"; }
	expect_eq "$engine: deletions counted by the dry run" "$(count deleted <<<"$dry")" \
		"$(grep -c ' deleted ' <<<"$items")"
	expect_eq "$engine: directories counted created by the dry run" \
		"$(count created <<<"$dry")" "$(grep -c ' created ' <<<"$items")"
	outside_intact "$engine, dry run"
	rm -rf "$C"

	# update=quick (kept files looked at in the reading thread): an
	# excluded file is left alone, its attributes too; an included one
	# kept by the quick check gets the source's.
	C=$T/cpd.quick
	mkdir -p "$C"
	cp -a "$NEW" "$C/"
	chmod 600 "$C/src/keep.o" "$C/src/main.o" "$C/src/a/one"
	out=$("$CLIENT" copy -a --update=quick --delete --exclude='*.o' "$NEW" "$C/" 2>&1) ||
		fail "$engine: quick mirror failed: $out"
	expect_eq "$engine: quick: mode of the excluded main.o" "$(file_mode "$C/src/main.o")" 600
	expect_eq "$engine: quick: mode of the excluded keep.o" "$(file_mode "$C/src/keep.o")" 600
	expect_eq "$engine: quick: mode of a/one" "$(file_mode "$C/src/a/one")" \
		"$(file_mode "$NEW/a/one")"
	rm -rf "$C"

	# max_delete: 3 entries go, the 4th is refused, the job fails.
	C=$T/cpd.max
	mkdir -p "$C/src"
	cp -a "$NEW/." "$C/src/"
	for x in 1 2 3 4 5; do mkfile "$C/src/x$x" 1; done
	out=$("$CLIENT" copy -a --delete --max-delete 3 "$NEW" "$C/" 2>&1) &&
		fail "$engine: max_delete 3 with 5 to delete succeeded: $out"
	grep -q "deleting more than 3 entries refused (max_delete)" <<<"$out" ||
		fail "$engine: max_delete's failure says: $out"
	# cp's form (strerror) without -v; the errno name with -v and --json.
	grep -q "Argument list too long" <<<"$out" ||
		fail "$engine: max_delete's failure is not E2BIG: $out"
	left=$(find "$C/src" -maxdepth 1 -name 'x?' | wc -l)
	expect_eq "$engine: extraneous entries left after max_delete 3" "$left" 2
	# Enough: the job goes through and the rest goes.
	out=$("$CLIENT" copy -a --delete --max-delete 2 "$NEW" "$C/" 2>&1) ||
		fail "$engine: max_delete 2 with 2 to delete failed: $out"
	tree_same --archive --no-atime "$NEW" "$C/src"
	rm -rf "$C"
	stop_daemon
done

# ---- Refused: a pattern that cannot be compiled.
start_daemon
out=$("$CLIENT" copy -r --exclude='a[b' "$NEW" "$T/refused/" 2>&1) &&
	fail "an unclosed class was accepted: $out"
grep -qi "filters" <<<"$out" || fail "an unclosed class's refusal says: $out"
[ ! -e "$T/refused/src" ] || fail "a refused copy made something"
out=$("$CLIENT" copy --delete "$NEW/a/one" "$T/refused/" 2>&1) &&
	fail "delete without recursive was accepted: $out"
grep -qi "delete" <<<"$out" || fail "delete without recursive: the refusal says: $out"

# ---- As an unprivileged user: deletes only what the caller may.
if [ "$(id -u)" -eq 0 ] && ensure_user cpdtest 2>/dev/null; then
	U=$T/user
	mkdir -p "$U"
	cp -a "$NEW" "$U/src"
	C=$U/dst R=$U/rsync
	base "$C"
	mkdir -p "$C/src/rootonly"
	mkfile "$C/src/rootonly/f" 10
	chown -R cpdtest: "$U"
	chown -R root: "$C/src/rootonly"
	chmod 755 "$C/src/rootonly"
	cp -a "$C" "$R"
	out=$(as_user cpdtest env HOME="$U" "$CLIENT" copy -a --delete --keep-going "$U/src" "$C/" 2>&1) &&
		fail "as cpdtest: deleting a root-owned directory's contents succeeded: $out"
	grep -q "cannot delete '$C/src/rootonly/f'" <<<"$out" ||
		fail "as cpdtest: the failure does not name the entry: $out"
	[ -f "$C/src/rootonly/f" ] || fail "as cpdtest: a root-owned file went"
	as_user cpdtest rsync -aHAXI --delete "$U/src" "$R/" >/dev/null 2>&1 || true
	tree_same --archive --no-atime --no-root-meta "$R" "$C"
	outside_intact "as cpdtest"
fi
echo "PASS"
