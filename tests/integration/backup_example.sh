#!/bin/bash
# The example backup script (conf/examples/cpd-backup.sh) copies a tree
# to a dated directory through the socket alone, and exits 1 and names
# the file when one cannot be copied.
source "$(dirname "$0")/../lib.sh"
script=$(cd "$(dirname "$0")/../.." && pwd)/conf/examples/cpd-backup.sh
start_daemon_raw

mkdir -p "$T/home/docs/deep/er" "$T/backups"
mkfile "$T/home/a.txt" 10K
mkfile "$T/home/docs/deep/er/b.bin" 3M
: > "$T/home/docs/empty"
ln -s ../a.txt "$T/home/docs/link"
touch -d '2020-01-02 03:04:05' "$T/home/docs/deep/er/b.bin"

out=$(bash "$script" "$T/home" "$T/backups" 2>&1) || fail "backup failed: $out"
day=$(date +%Y-%m-%d)
copy=$T/backups/$day/home
[ -d "$copy" ] || fail "no $copy: $out"
diff -r --no-dereference "$T/home" "$copy" || fail "backup differs from the source"
[ "$(readlink "$copy/docs/link")" = ../a.txt ] || fail "symlink not kept"
[ "$(stat -c %Y "$copy/docs/deep/er/b.bin")" = "$(stat -c %Y "$T/home/docs/deep/er/b.bin")" ] ||
	fail "mtime not kept"
no_temporaries "$T/backups"

# An unreadable file: the rest is copied, the script names it and fails.
if [ "$(id -u)" -eq 0 ]; then
	ensure_user cpdtest
	chown -R cpdtest: "$T/home" "$T/backups"
	rm -rf "$T/backups/$day"
	echo secret > "$T/home/docs/root-only"
	chmod 600 "$T/home/docs/root-only"
	rc=0
	out=$(as_user cpdtest env CPD_SOCKET="$CPD_SOCKET" bash "$script" "$T/home" "$T/backups" 2>&1) || rc=$?
	[ $rc -eq 1 ] || fail "exit $rc with an unreadable file: $out"
	grep -q "root-only: EACCES" <<<"$out" || fail "the unreadable file is not named: $out"
	cmp -s "$T/home/a.txt" "$copy/a.txt" || fail "the readable files were not copied"
	[ ! -e "$copy/docs/root-only" ] || fail "the unreadable file was copied"
fi
echo "backup example: ok"
