#!/bin/bash
# errors: failed jobs carry the right errno name and a message naming the
# path. A missing source (ENOENT) fails the job before anything is written;
# a missing destination directory fails; a FIFO or a device as the source
# fails at once and the daemon goes on serving. As an unprivileged user
# (needs root to set up): an unreadable source, an unwritable destination
# directory, /etc/shadow and /root all fail EACCES, and a file the user
# copies is owned by that user.
. "$(dirname "$0")/../lib.sh"

start_daemon_raw
mkdir "$T/out"
mkfile "$T/a" 10K

field() { jfield "parameters.job.$1" <<<"$r"; }
expect_failed() {	# WHAT ERRNO PATH-IN-MESSAGE
	expect_eq "$1: state" "$(field state)" failed
	expect_eq "$1: error" "$(field error)" "$2"
	local msg
	msg=$(field error_message)
	[[ "$msg" == *"$3"* ]] || fail "$1: error_message does not name '$3': $msg"
}

# Missing source.
r=$(copy_wait "" "$T/out/x" "$T/no-such-file")
expect_failed "missing source" ENOENT "$T/no-such-file"
[ ! -e "$T/out/x" ] || fail "missing source: destination created"
# A missing source among existing ones: nothing at all is written.
r=$(copy_wait "" "$T/out" "$T/a" "$T/no-such-file")
expect_failed "missing among several" ENOENT "$T/no-such-file"
expect_eq "missing among several: entries" "$(ls -A "$T/out")" ""

# Destination directory missing.
r=$(copy_wait "" "$T/no-such-dir/x" "$T/a")
expect_eq "missing dest dir: state" "$(field state)" failed
expect_eq "missing dest dir: error" "$(field error)" ENOENT
[ ! -e "$T/no-such-dir" ] || fail "missing dest dir: created"

# A FIFO and a character device as the source: refused at once (the
# reply must come within socat's 10 s, long before any writer shows up).
mkfifo "$T/fifo"
r=$(varlink_wait "$(copy_msg "" "$T/out/f" "$T/fifo")" 10)
expect_failed "fifo source" EINVAL "$T/fifo"
[[ "$(field error_message)" == *"not a regular file"* ]] ||
	fail "fifo source: message: $(field error_message)"
[ ! -e "$T/out/f" ] || fail "fifo source: destination created"
r=$(varlink_wait "$(copy_msg "" "$T/out/z" /dev/zero)" 10)
expect_failed "device source" EINVAL /dev/zero
[ ! -e "$T/out/z" ] || fail "device source: destination created"
r=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
expect_eq "GetStatus after the FIFO: jobs_failed" "$(jfield parameters.jobs_failed <<<"$r")" 5
expect_eq "GetStatus after the FIFO: jobs_running" "$(jfield parameters.jobs_running <<<"$r")" 0
no_temporaries "$T"

# ---- As an unprivileged user.
[ "$(id -u)" -eq 0 ] || skip "the unprivileged-user part needs root (the rest passed)"
ensure_user cpdtest
U=cpdtest
uid=$(id -u $U)
mkdir "$T/u"
chown $U: "$T/u"
mkfile "$T/u/mine" 70K
chown $U: "$T/u/mine"
ucopy() {	# DEST SRC...
	varlink_as $U "$(copy_msg "" "$@")"
}

# Unreadable source: mode 000, owned by root.
mkfile "$T/secret" 1K
chmod 000 "$T/secret"
r=$(ucopy "$T/u/secret" "$T/secret")
expect_failed "unreadable source" EACCES "$T/secret"
expect_eq "unreadable source: uid" "$(field uid)" "$uid"
[ ! -e "$T/u/secret" ] || fail "unreadable source: destination created"

# Unwritable destination directory (root's, 0755).
mkdir "$T/rootdir"
r=$(ucopy "$T/rootdir/x" "$T/u/mine")
expect_failed "unwritable dir" EACCES "$T/rootdir"
[ -z "$(ls -A "$T/rootdir")" ] || fail "unwritable dir: something was created"
r=$(ucopy "$T/rootdir" "$T/u/mine")
expect_failed "unwritable dir (into)" EACCES "$T/rootdir"

# /etc/shadow.
r=$(ucopy "$T/u/shadow" /etc/shadow)
expect_failed "/etc/shadow" EACCES /etc/shadow
[ ! -e "$T/u/shadow" ] || fail "/etc/shadow: destination created"

# Writing into /root.
[ -e /root/cpd-test-intrusion ] && fail "/root/cpd-test-intrusion exists before the test"
r=$(ucopy /root/cpd-test-intrusion "$T/u/mine")
expect_failed "into /root" EACCES /root
[ ! -e /root/cpd-test-intrusion ] || { rm -f /root/cpd-test-intrusion; fail "into /root: file created"; }
r=$(ucopy /root/ "$T/u/mine")
expect_eq "into /root/: state" "$(field state)" failed
expect_eq "into /root/: error" "$(field error)" EACCES
[ ! -e /root/mine ] || fail "into /root/: /root/mine exists"

# A file the user creates belongs to the user (and its group).
r=$(ucopy "$T/u/copy" "$T/u/mine")
expect_eq "user copy: state" "$(field state)" done
same "$T/u/mine" "$T/u/copy"
expect_eq "user copy: owner" "$(stat -c %u:%g "$T/u/copy")" "$uid:$(id -g $U)"
# A large one too (splice in io-wq workers, under the user's personality), synced.
mkfile "$T/u/large" 5M
chown $U: "$T/u/large"
r=$(varlink_as $U "$(copy_msg '{"sync": true}' "$T/u/large.copy" "$T/u/large")")
expect_eq "user large copy: state" "$(field state)" done
same "$T/u/large" "$T/u/large.copy"
expect_eq "user large copy: owner" "$(stat -c %u "$T/u/large.copy")" "$uid"
no_temporaries "$T"
echo "PASS: errors"
