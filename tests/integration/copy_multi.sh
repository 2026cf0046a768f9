#!/bin/bash
# copy_multi: cp's destination rules. Several sources into an existing
# directory, into "dir/"; several sources to a non-directory fail ENOTDIR
# and create nothing; one source onto an existing file replaces it by
# rename (a new inode, never a rewrite in place); a directory where the
# file would go, or a directory as the source, fail EISDIR; the umask
# parameter applies to new files.
. "$(dirname "$0")/../lib.sh"

start_daemon_raw
mkdir "$T/src"
for n in a b c; do mkfile "$T/src/$n" $((4096 + RANDOM)); done
mkfile "$T/src/big" 3M

state_of() { jfield parameters.job.state <<<"$1"; }
error_of() { jfield parameters.job.error <<<"$1"; }

# 1. Several sources into an existing directory.
mkdir "$T/d1"
r=$(copy_wait "" "$T/d1" "$T/src/a" "$T/src/b" "$T/src/c" "$T/src/big")
expect_eq "into dir: state" "$(state_of "$r")" done
expect_eq "into dir: files_done" "$(jfield parameters.job.files_done <<<"$r")" 4
expect_eq "into dir: files_total" "$(jfield parameters.job.files_total <<<"$r")" 4
for n in a b c big; do same "$T/src/$n" "$T/d1/$n"; done
expect_eq "into dir: entries" "$(ls -A "$T/d1" | tr '\n' ' ')" "a b big c "

# 2. A trailing slash: one and several sources into "dir/".
mkdir "$T/d2"
r=$(copy_wait "" "$T/d2/" "$T/src/a")
expect_eq "one into dir/: state" "$(state_of "$r")" done
same "$T/src/a" "$T/d2/a"
r=$(copy_wait "" "$T/d2/" "$T/src/b" "$T/src/c")
expect_eq "two into dir/: state" "$(state_of "$r")" done
same "$T/src/b" "$T/d2/b"
same "$T/src/c" "$T/d2/c"
expect_eq "into dir/: entries" "$(ls -A "$T/d2" | tr '\n' ' ')" "a b c "
# "missing/" with one source: not a new file named "missing".
r=$(copy_wait "" "$T/missing/" "$T/src/a")
expect_eq "into missing dir/: state" "$(state_of "$r")" failed
[ ! -e "$T/missing" ] || fail "into missing dir/: '$T/missing' was created"

# 3. Several sources to an existing regular file: ENOTDIR, nothing touched.
mkfile "$T/plain" 100
cp "$T/plain" "$T/plain.orig"
r=$(copy_wait "" "$T/plain" "$T/src/a" "$T/src/b")
expect_eq "many to file: state" "$(state_of "$r")" failed
expect_eq "many to file: error" "$(error_of "$r")" ENOTDIR
same "$T/plain" "$T/plain.orig"
# ... and to a name that does not exist: failed, nothing created.
r=$(copy_wait "" "$T/nothing" "$T/src/a" "$T/src/b")
expect_eq "many to missing: state" "$(state_of "$r")" failed
[ ! -e "$T/nothing" ] || fail "many to missing: '$T/nothing' was created"
no_temporaries "$T"

# 4. One source onto an existing file: replaced by a new inode.
mkfile "$T/target" 5000
old_ino=$(stat -c %i "$T/target")
exec 7<"$T/target"		# a reader of the old file keeps the old bytes
cp "$T/target" "$T/target.orig"
r=$(copy_wait "" "$T/target" "$T/src/big")
expect_eq "replace: state" "$(state_of "$r")" done
same "$T/src/big" "$T/target"
new_ino=$(stat -c %i "$T/target")
[ "$old_ino" != "$new_ino" ] || fail "replace: same inode $old_ino: the file was rewritten in place"
cmp -s /dev/fd/7 "$T/target.orig" || fail "replace: the old file's content changed under its reader"
exec 7<&-
expect_eq "replace: links" "$(stat -c %h "$T/target")" 1

# 5. The destination name inside the directory is a directory: EISDIR.
mkdir -p "$T/d3/a"
touch "$T/d3/a/keep"
r=$(copy_wait "" "$T/d3" "$T/src/a")
expect_eq "onto dir: state" "$(state_of "$r")" failed
expect_eq "onto dir: error" "$(error_of "$r")" EISDIR
[ -d "$T/d3/a" ] && [ -f "$T/d3/a/keep" ] || fail "onto dir: the directory was touched"
no_temporaries "$T/d3"

# 6. A directory as the source: EISDIR ("omitting directory"), nothing made.
mkdir "$T/d4" "$T/srcdir"
r=$(copy_wait "" "$T/d4" "$T/srcdir")
expect_eq "dir source: state" "$(state_of "$r")" failed
expect_eq "dir source: error" "$(error_of "$r")" EISDIR
msg=$(jfield parameters.job.error_message <<<"$r")
[[ "$msg" == *"$T/srcdir"* ]] || fail "dir source: message does not name the path: $msg"
# A directory among files fails the whole job before anything is written.
r=$(copy_wait "" "$T/d4" "$T/src/a" "$T/srcdir" "$T/src/b")
expect_eq "dir among files: state" "$(state_of "$r")" failed
expect_eq "dir among files: error" "$(error_of "$r")" EISDIR
expect_eq "dir among files: entries" "$(ls -A "$T/d4")" ""

# 7. umask 077: a 0666 source becomes 0600, a 0755 one 0700.
chmod 666 "$T/src/a"
chmod 755 "$T/src/b"
mkdir "$T/d5"
r=$(copy_wait '{"umask": 63}' "$T/d5" "$T/src/a" "$T/src/b")
expect_eq "umask 077: state" "$(state_of "$r")" done
expect_eq "umask 077: mode of a" "$(file_mode "$T/d5/a")" 600
expect_eq "umask 077: mode of b" "$(file_mode "$T/d5/b")" 700
# umask 0: the source's bits as they are.
r=$(copy_wait '{"umask": 0}' "$T/d5/a0" "$T/src/a")
expect_eq "umask 0: mode" "$(file_mode "$T/d5/a0")" 666
no_temporaries "$T"
echo "PASS: copy_multi"
