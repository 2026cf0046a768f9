#!/bin/bash
# tree_basic: Copy with recursive (cp -r). The destination rules: a
# missing DEST becomes the copy of SRC, an existing directory (or "DIR/")
# receives DEST/basename(SRC), several sources need an existing
# directory, a directory never replaces a file, a tree copied over its
# earlier copy merges into it, and a directory is never copied into
# itself. Plain mode: contents equal, symlinks copied as symlinks with the
# same targets (never followed: absolute, outside the tree, dangling,
# to a directory, a loop), a FIFO recreated without blocking, empty
# directories, modes = source & ~umask (umask parameter too), times and
# xattrs not copied. Names with spaces, newlines and non-UTF-8 bytes,
# 150 levels of nesting, a directory of 10,000 entries. Progress counters
# of the final Job. cpd-client copy -r and -a when the client has them.
. "$(dirname "$0")/../lib.sh"
trap tree_exit EXIT

start_daemon_raw
START=$(date +%s%N)
S=$T/src
state_of() { jfield parameters.job.state <<<"$1"; }
error_of() { jfield parameters.job.error <<<"$1"; }
R='{"recursive": true}'

# ---- The source tree.
mkdir -p "$S/sub/deeper" "$S/emptydir" "$S/e1/e2/e3" "$S/ro"
mkfile "$S/a" 4097
mkfile "$S/exec" $((1024 * 1024 + 3))
mkfile "$S/private" 100
mkfile "$S/wide" 10
: > "$S/empty"
mkfile "$S/sub/b" 64K
mkfile "$S/sub/deeper/c" 1
mkfile "$S/ro/f" 3000
chmod 644 "$S/a"; chmod 755 "$S/exec"; chmod 600 "$S/private"; chmod 666 "$S/wide"
chmod 750 "$S/sub"; chmod 777 "$S/e1"; chmod 444 "$S/ro/f"; chmod 555 "$S/ro"
ln -s a "$S/rel"
ln -s /etc/passwd "$S/abs"
ln -s ../../etc "$S/out"
ln -s nowhere/at/all "$S/dangling"
ln -s sub "$S/dirlink"
ln -s self "$S/self"
ln -s ../a "$S/sub/up"
mkfifo "$S/fifo"
XATTR=yes
setfattr -n user.foo -v bar "$S/a" 2>/dev/null || XATTR="no (user xattrs refused here)"
tree_set_times "$S"
nreg=$(tree_count "$S" reg) nbytes=$(tree_count "$S" bytes)
nall=$(tree_count "$S" entries)

# 1. DEST missing: DEST itself is the copy of SRC.
r=$(copy_wait "$R" "$T/new" "$S")
tree_job_ok "missing DEST" "$r" "$nreg" "$nall" "$nbytes" "$nbytes"
expect_eq "missing DEST: job.recursive" "$(jfield parameters.job.recursive <<<"$r")" true
expect_eq "missing DEST: job.archive" "$(jfield parameters.job.archive <<<"$r")" false
tree_same --plain 022 --since "$START" "$S" "$T/new"
[ -p "$T/new/fifo" ] || fail "the FIFO was not recreated as a FIFO"
[ -L "$T/new/dirlink" ] && [ -L "$T/new/out" ] || fail "symlinks to directories were followed"
expect_eq "mode of the 0666 file (umask 022)" "$(file_mode "$T/new/wide")" 644
expect_eq "mode of the 0555 directory" "$(file_mode "$T/new/ro")" 555
[ -z "$(getfattr --absolute-names -d "$T/new/a" 2>/dev/null)" ] || fail "plain copy has xattrs"
no_temporaries "$T/new"

# 2. DEST an existing directory, and "DIR/": DEST/basename(SRC).
mkdir "$T/d1" "$T/d2"
r=$(copy_wait "$R" "$T/d1" "$S")
expect_eq "into dir: state" "$(state_of "$r")" done
expect_eq "into dir: entries" "$(ls -A "$T/d1")" src
tree_same --plain 022 "$S" "$T/d1/src"
r=$(copy_wait "$R" "$T/d2/" "$S/sub")
expect_eq "into dir/: state" "$(state_of "$r")" done
expect_eq "into dir/: entries" "$(ls -A "$T/d2")" sub
tree_same --plain 022 "$S/sub" "$T/d2/sub"

# 3. Several sources, directories and files, into an existing directory.
mkdir "$T/d3"
r=$(copy_wait "$R" "$T/d3" "$S/sub" "$S/a" "$S/e1" "$S/rel")
expect_eq "several: state" "$(state_of "$r")" done
expect_eq "several: entries" "$(ls -A "$T/d3" | tr '\n' ' ')" "a e1 rel sub "
tree_same --plain 022 "$S/sub" "$T/d3/sub"
tree_same --plain 022 "$S/e1" "$T/d3/e1"
same "$S/a" "$T/d3/a"
# As cp -r: a symlink given as a source is copied as the symlink.
[ -L "$T/d3/rel" ] || fail "several: the symlink source 'rel' was followed (cp -r copies it as a symlink)"
expect_eq "several: target of rel" "$(readlink "$T/d3/rel")" a
# ... to a missing name: failed, nothing created.
r=$(copy_wait "$R" "$T/nothing" "$S/sub" "$S/e1")
expect_eq "several to missing: state" "$(state_of "$r")" failed
[ ! -e "$T/nothing" ] || fail "several to missing: '$T/nothing' was created"

# 4. A directory never replaces a file.
mkfile "$T/plain" 100
cp "$T/plain" "$T/plain.orig"
r=$(copy_wait "$R" "$T/plain" "$S/sub")
expect_eq "dir onto file: state" "$(state_of "$r")" failed
[ "$(error_of "$r")" != null ] || fail "dir onto file: no error: $r"
[ -f "$T/plain" ] || fail "dir onto file: the file is gone"
same "$T/plain" "$T/plain.orig"
# Nor does a directory source without recursive get copied.
r=$(copy_wait '{"recursive": false}' "$T/d4" "$S/sub")
expect_eq "no recursive: state" "$(state_of "$r")" failed
expect_eq "no recursive: error" "$(error_of "$r")" EISDIR
[ ! -e "$T/d4" ] || fail "no recursive: '$T/d4' was created"

# 5. Copying a tree over its earlier copy merges (cp -r): changed files are
#    replaced, files only in the destination stay.
mkdir -p "$T/m/src/sub" "$T/mdest"
mkfile "$T/m/src/x" 5000
mkfile "$T/m/src/sub/y" 7000
r=$(copy_wait "$R" "$T/mdest" "$T/m/src")
expect_eq "merge, first copy: state" "$(state_of "$r")" done
mkfile "$T/m/src/x" 6000
mkfile "$T/m/src/sub/new" 10
mkfile "$T/mdest/src/sub/extra" 10
cp "$T/mdest/src/sub/extra" "$T/extra.orig"
r=$(copy_wait "$R" "$T/mdest" "$T/m/src")
expect_eq "merge: state" "$(state_of "$r")" done
same "$T/m/src/x" "$T/mdest/src/x"
same "$T/m/src/sub/new" "$T/mdest/src/sub/new"
same "$T/m/src/sub/y" "$T/mdest/src/sub/y"
same "$T/extra.orig" "$T/mdest/src/sub/extra"
no_temporaries "$T/mdest"

# 6. A directory into itself: failed, and no runaway nesting.
mkdir -p "$T/self/in"
mkfile "$T/self/f" 100
r=$(varlink_wait "$(copy_msg "$R" "$T/self/in" "$T/self")" 30)
expect_eq "into itself: state" "$(state_of "$r")" failed
[ -z "$(find "$T/self" -mindepth 4 | head -n 1)" ] || fail "into itself: nested copies: $(find "$T/self" | head)"

# 7. umask parameter 077.
r=$(copy_wait '{"recursive": true, "umask": 63}' "$T/u077" "$S")
expect_eq "umask 077: state" "$(state_of "$r")" done
tree_same --plain 077 "$S" "$T/u077"
expect_eq "umask 077: mode of the 0750 directory" "$(file_mode "$T/u077/sub")" 700

# 8. Awkward names and 150 levels of nesting.
mkdir "$T/names"
py - "$T/names" <<'EOF'
import os, sys
top = os.fsencode(sys.argv[1])
names = [b"with space", b" lead and trail ", b"new\nline", b"\xff\xfe", b"caf\xc3\xa9",
         b"-dash", b"tab\there", b"back\\slash", b"quote'\"", b"*?[", b"a" * 255]
for i, n in enumerate(names):
    fd = os.open(os.path.join(top, n), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, n * (i + 1))
    os.close(fd)
os.mkdir(os.path.join(top, b"dir \xff\nname"))
os.symlink(b"\xff\xfe", os.path.join(top, b"dir \xff\nname", b"link\x80"))
with open(os.path.join(top, b"dir \xff\nname", b"in\x81"), "wb") as f:
    f.write(b"inside")
d = os.path.join(top, b"deep")
os.makedirs(os.path.join(d, *[b"d"] * 150))
with open(os.path.join(d, *[b"d"] * 150, b"leaf"), "wb") as f:
    f.write(b"bottom\n")
EOF
r=$(copy_wait "$R" "$T/names.copy" "$T/names")
tree_job_ok "names" "$r" "$(tree_count "$T/names" reg)" "$(tree_count "$T/names" entries)" \
	"$(tree_count "$T/names" bytes)" "$(tree_count "$T/names" bytes)"
tree_same --plain 022 "$T/names" "$T/names.copy"
leaf=$T/names.copy/deep$(printf '/d%.0s' $(seq 150))/leaf
[ "$(cat "$leaf")" = bottom ] || fail "deep: the leaf 150 levels down is missing"

# 9. A directory of 10,000 entries (files of different sizes, a few
#    directories and symlinks among them).
mkdir "$T/many"
py - "$T/many" <<'EOF'
import os, sys
top = sys.argv[1]
for i in range(10000):
    p = os.path.join(top, "f%05d" % i)
    if i % 1000 == 7:
        os.mkdir(p)
    elif i % 1000 == 9:
        os.symlink("f%05d" % (i - 1), p)
    else:
        with open(p, "wb") as f:
            f.write(b"%d\n" % i * (i % 13))
EOF
t0=$SECONDS
r=$(copy_wait "$R" "$T/many.copy" "$T/many")
tree_job_ok "10,000 entries" "$r" "$(tree_count "$T/many" reg)" "$(tree_count "$T/many" entries)" \
	"$(tree_count "$T/many" bytes)" "$(tree_count "$T/many" bytes)"
expect_eq "10,000 entries: count" "$(ls -A "$T/many.copy" | wc -l)" 10000
tree_same --plain 022 "$T/many" "$T/many.copy"
[ $((SECONDS - t0)) -lt 40 ] || fail "10,000 entries took $((SECONDS - t0)) s"
no_temporaries "$T"

# ---- cpd-client copy -r / -a.
CLIENT_R=yes
if [ ! -x "$CLIENT" ]; then
	CLIENT_R="cpd-client not built"
else
	"$CLIENT" copy --help >"$T/help" 2>&1 || true
	grep -Eq -- '\[-r[] |]|--recursive' "$T/help" || CLIENT_R="cpd-client copy has no -r yet"
fi
if [ "$CLIENT_R" = yes ]; then
	"$CLIENT" copy --no-progress -r "$S" "$T/client-r" >"$T/out" 2>&1 ||
		fail "cpd-client copy -r: $(cat "$T/out")"
	tree_same --plain 022 "$S" "$T/client-r"
	mkdir "$T/client-a"
	"$CLIENT" copy --no-progress -a "$S" "$T/client-a/" >"$T/out" 2>&1 ||
		fail "cpd-client copy -a: $(cat "$T/out")"
	tree_same --archive "$S" "$T/client-a/src"
	# A directory without -r: the client exits 1.
	rc=0
	"$CLIENT" copy --no-progress "$S" "$T/client-none" >"$T/out" 2>&1 || rc=$?
	expect_eq "cpd-client copy DIR without -r: exit" "$rc" 1
	[ ! -e "$T/client-none" ] || fail "cpd-client copy DIR without -r created it"
	no_temporaries "$T"
fi
daemon_exit_ok
[ "$CLIENT_R" = yes ] || skip "$CLIENT_R (the Varlink part passed)"
echo "PASS: tree_basic (xattr check: $XATTR)"
