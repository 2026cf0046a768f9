#!/bin/bash
# The example snapshot backup (conf/examples/cpd-backup.sh), end to end:
# three nightly runs with changes between them. Each snapshot equals the
# source less the excluded entries; an unchanged file is one inode shared
# with the previous snapshot, a changed one is new; rotation keeps the
# newest -k; the summary's numbers are the job's; a failure (an
# unreadable file) exits 1 and publishes nothing under a final name; an
# unreachable daemon exits 3, a usage error 2. The example systemd units
# pass systemd-analyze verify.
source "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
script=$top/conf/examples/cpd-backup.sh
export PATH="$CPD_BIN:$PATH"		# cpd-client
export XDG_CONFIG_HOME="$T/xdg"		# no client.conf of the user running the test

# 1. The systemd units, with ExecStart= pointing at the script here.
if command -v systemd-analyze >/dev/null; then
	mkdir "$T/units"
	sed "s|/usr/local/sbin/cpd-backup.sh|$script|" "$top/conf/examples/cpd-backup.service" \
		>"$T/units/cpd-backup.service"
	cp "$top/conf/examples/cpd-backup.timer" "$T/units/"
	out=$(cd "$T/units" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no \
		./cpd-backup.service ./cpd-backup.timer 2>&1)
	ours=$(grep -i 'cpd-backup' <<<"$out") && fail "systemd-analyze verify:"$'\n'"$ours"
else
	echo "note: systemd-analyze is not installed, units not verified"
fi

# 2. Outcomes the daemon cannot be made to give on demand, with a stand-in
#    cpd-client that copies with cp -a and prints the Job in $STUB_JOB: a
#    source that vanished publishes the snapshot and exits 24; a file that
#    could not be copied, or a failed job, publishes nothing and exits 1.
mkdir -p "$T/stub" "$T/sb" "$T/s/d"
echo x > "$T/s/d/f"
printf '%s\n' '#!/bin/bash' 'for a; do :; done' 'mkdir -p "$a" && cp -a "${@: -2:1}/." "$a/"' \
	'cat "$STUB_JOB"' > "$T/stub/cpd-client"
chmod +x "$T/stub/cpd-client"
stub_job() {	# STATE FAILED VANISHED
	cat > "$T/stub/job" <<-EOF
	{
	  "id": 7,
	  "state": "$1",
	  "reflink": "auto",
	  "bytes_done": 2,
	  "files_done": 1,
	  "started_usec": 1000000,
	  "finished_usec": 3500000,
	  "methods": {
	    "reflink": 0,
	    "links": 0
	  },
	  "files_failed": $2,
	  "failures": [
	    {
	      "path": "/x/gone \"quoted\"",
	      "error": "ENOENT",
	      "error_message": "cannot open '/x/gone': No such file or directory",
	      "vanished": true
	    }
	  ],
	  "files_vanished": $3,
	  "changes": {
	    "created": 3,
	    "updated": 0,
	    "metadata": 0,
	    "deleted": 0,
	    "linked": 5,
	    "cloned": 0,
	    "skipped": 0
	  },
	  "error": "EIO",
	  "error_message": "cannot read '/x/y': Input/output error"
	}
	EOF
}
stubbed() {	# NAME: a run with the stand-in; sets $out and $rc
	rc=0
	out=$(PATH="$T/stub:$PATH" STUB_JOB=$T/stub/job bash "$script" --name "$1" "$T/s" "$T/sb" 2>&1) ||
		rc=$?
}
stub_job done 1 1
stubbed 2026-02-01
expect_eq "vanished: exit ($out)" "$rc" 24
[ -f "$T/sb/2026-02-01/d/f" ] || fail "vanished: the snapshot was not published: $out"
want='cpd-backup: 2026-02-01: 3 created, 0 updated, 0 metadata only, 5 linked, 0 skipped'
want+='; 1 files of 2 bytes, 1 failed (1 vanished), in 2.5 s; 0 old snapshots removed'
grep -qxF "$want" <<<"$out" || fail "vanished: summary: $out"
grep -qF '/x/gone "quoted": ENOENT' <<<"$out" || fail "vanished: the file is not named: $out"
stub_job done 2 1
stubbed 2026-02-02
expect_eq "a failed file: exit ($out)" "$rc" 1
[ ! -e "$T/sb/2026-02-02" ] || fail "a failed file: published"
stub_job failed 0 0
stubbed 2026-02-03
expect_eq "a failed job: exit ($out)" "$rc" 1
grep -q 'job 7 failed: cannot read' <<<"$out" || fail "a failed job: no message: $out"
[ ! -e "$T/sb/2026-02-03" ] || fail "a failed job: published"
expect_eq "failed runs leave the latest" "$(readlink "$T/sb/latest")" 2026-02-01

start_daemon_raw

# backup NAME [OPTIONS]: one run into $T/backups, as the test's user;
# sets $out (its output) and $rc.
backup() {
	local n=$1
	shift
	rc=0
	out=$(bash "$script" -k 2 -x "$T/exclude" --name "$n" "$@" "$T/home" "$T/backups" 2>&1) || rc=$?
	if [ $rc -ne 0 ] && [[ $out =~ invalid\ parameter:\ ([a-z_]+) ]]; then
		skip "the daemon refuses ${BASH_REMATCH[1]} (not built yet)"
	fi
}
# summary_count WORD: the number before WORD in the summary line.
summary_count() {
	local re="[ ,:;]([0-9]+) $1[ ,;]"
	[[ $(grep '^cpd-backup: 20' <<<"$out") =~ $re ]] || fail "no '$1' count in: $out"
	echo "${BASH_REMATCH[1]}"
}
ino() { stat -c %i "$1"; }
# summary_right WHAT SNAP: every entry of SNAP (the root too) was created
# or linked, nothing updated or skipped; the files and bytes are SNAP's
# (non-directories; regular files' sizes).
summary_right() {
	local n
	n=$(find "$2" | wc -l)
	expect_eq "$1: created + linked" $(($(summary_count created) + $(summary_count linked))) "$n"
	expect_eq "$1: updated" "$(summary_count updated)" 0
	expect_eq "$1: skipped" "$(summary_count skipped)" 0
	expect_eq "$1: files" "$(summary_count 'files of')" "$(find "$2" ! -type d | wc -l)"
	expect_eq "$1: bytes" "$(summary_count bytes)" \
		"$(find "$2" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')"
}
# same_snapshot SNAP: SNAP equals the source less the excluded entries.
same_snapshot() {
	tree_same --archive --no-atime --exclude cache.tmp --exclude docs/build "$T/home" "$1"
}

mkdir -p "$T/home/docs/deep/er" "$T/home/docs/build" "$T/backups"
mkfile "$T/home/a.txt" 10K
mkfile "$T/home/docs/deep/er/b.bin" 3M
mkfile "$T/home/docs/c.txt" 20K
mkfile "$T/home/cache.tmp" 5K
mkfile "$T/home/docs/build/out.o" 7K
: > "$T/home/docs/empty"
ln -s ../a.txt "$T/home/docs/link"
touch -d '2020-01-02 03:04:05' "$T/home/docs/deep/er/b.bin"
printf '%s\n' '*.tmp' 'build/' > "$T/exclude"

# 3. The first night: a full copy.
backup 2026-01-01
[ $rc -eq 0 ] || fail "first backup: exit $rc: $out"
s1=$T/backups/2026-01-01
same_snapshot "$s1"
[ "$(readlink "$T/backups/latest")" = 2026-01-01 ] || fail "latest is not the first snapshot"
expect_eq "first night: linked" "$(summary_count linked)" 0
summary_right "first night" "$s1"
no_temporaries "$T/backups"

# Changes: a.txt rewritten (new content and mtime), c.txt removed, new.txt
# added; b.bin, empty and the symlink stay as they are.
sleep 0.01
mkfile "$T/home/a.txt" 10K
rm "$T/home/docs/c.txt"
mkfile "$T/home/new.txt" 1000

# 4. The second night: what did not change is linked from the first.
backup 2026-01-02
[ $rc -eq 0 ] || fail "second backup: exit $rc: $out"
s2=$T/backups/2026-01-02
same_snapshot "$s2"
expect_eq "b.bin shared with the first snapshot" "$(ino "$s2/docs/deep/er/b.bin")" \
	"$(ino "$s1/docs/deep/er/b.bin")"
expect_eq "b.bin's link count" "$(stat -c %h "$s2/docs/deep/er/b.bin")" 2
expect_eq "empty shared" "$(ino "$s2/docs/empty")" "$(ino "$s1/docs/empty")"
[ "$(ino "$s2/a.txt")" != "$(ino "$s1/a.txt")" ] || fail "the changed a.txt was linked"
expect_eq "a.txt's link count" "$(stat -c %h "$s2/a.txt")" 1
cmp -s "$s1/a.txt" "$s2/a.txt" && fail "the first snapshot's a.txt was overwritten"
[ -e "$s1/docs/c.txt" ] || fail "c.txt gone from the first snapshot"
[ "$(readlink "$T/backups/latest")" = 2026-01-02 ] || fail "latest is not the second snapshot"
# Summary: two files linked (b.bin, empty), a.txt and new.txt written.
expect_eq "second night: linked" "$(summary_count linked)" 2
summary_right "second night" "$s2"
no_temporaries "$T/backups"

# 5. The third night: -k 2 removes the first snapshot.
sleep 0.01
mkfile "$T/home/new.txt" 1000
backup 2026-01-03
[ $rc -eq 0 ] || fail "third backup: exit $rc: $out"
s3=$T/backups/2026-01-03
same_snapshot "$s3"
[ ! -e "$s1" ] || fail "rotation kept the oldest snapshot"
[ -d "$s2" ] || fail "rotation removed the second snapshot"
expect_eq "rotation: what is left" "$(cd "$T/backups" && echo *)" "2026-01-02 2026-01-03 latest"
expect_eq "b.bin shared by the two kept" "$(ino "$s3/docs/deep/er/b.bin")" "$(ino "$s2/docs/deep/er/b.bin")"
expect_eq "b.bin's link count after rotation" "$(stat -c %h "$s3/docs/deep/er/b.bin")" 2
expect_eq "a.txt shared with the second" "$(ino "$s3/a.txt")" "$(ino "$s2/a.txt")"
[ "$(ino "$s3/new.txt")" != "$(ino "$s2/new.txt")" ] || fail "the changed new.txt was linked"
expect_eq "third night: linked" "$(summary_count linked)" 3
summary_right "third night" "$s3"
grep -q '1 old snapshots removed' <<<"$out" || fail "the summary does not count the removal: $out"

# 6. Failures.
rc=0; o=$(bash "$script" "$T/home" 2>&1) || rc=$?
expect_eq "usage error: exit" "$rc" 2
rc=0; o=$(CPD_SOCKET=$T/nobody bash "$script" --name 2026-01-04 "$T/home" "$T/backups" 2>&1) || rc=$?
expect_eq "unreachable daemon: exit ($o)" "$rc" 3
[ ! -e "$T/backups/2026-01-04" ] || fail "a snapshot without a daemon"

# An unreadable file: the script names it, fails, and publishes nothing.
if [ "$(id -u)" -eq 0 ]; then
	ensure_user cpdtest
	chown -R cpdtest: "$T/home" "$T/backups" "$T/exclude"
	echo secret > "$T/home/docs/root-only"
	chmod 600 "$T/home/docs/root-only"
	rc=0
	out=$(as_user cpdtest env CPD_SOCKET="$CPD_SOCKET" XDG_CONFIG_HOME="$T/xdg" PATH="$PATH" \
		bash "$script" -k 2 -x "$T/exclude" --name 2026-01-04 "$T/home" "$T/backups" 2>&1) || rc=$?
	[ $rc -eq 1 ] || fail "exit $rc with an unreadable file: $out"
	grep -q "root-only: EACCES" <<<"$out" || fail "the unreadable file is not named: $out"
	[ ! -e "$T/backups/2026-01-04" ] || fail "a failed run published its snapshot"
	[ -d "$T/backups/.incomplete.2026-01-04" ] || fail "the failed run's snapshot is not left to see"
	[ "$(readlink "$T/backups/latest")" = 2026-01-03 ] || fail "latest moved on a failure"
	[ -d "$s2" ] || fail "a failed run rotated"
	# Once readable, the next run succeeds and clears the leftovers.
	chown cpdtest: "$T/home/docs/root-only"
	out=$(as_user cpdtest env CPD_SOCKET="$CPD_SOCKET" XDG_CONFIG_HOME="$T/xdg" PATH="$PATH" \
		bash "$script" -k 2 -x "$T/exclude" --name 2026-01-05 "$T/home" "$T/backups" 2>&1) ||
		fail "the run after the failure: $out"
	expect_eq "after the failure" "$(cd "$T/backups" && echo * .incomplete*)" \
		"2026-01-03 2026-01-05 latest .incomplete*"
	expect_eq "snapshot owner" "$(stat -c %U "$T/backups/2026-01-05/docs/root-only")" cpdtest
fi
echo "backup example: ok"
