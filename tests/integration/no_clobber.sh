#!/bin/bash
# no_clobber: with "no_clobber": true an existing destination fails the
# job with EEXIST and stays exactly as it was (same inode, same bytes), and
# no temporary is left; a missing destination is still created. Without
# no_clobber the destination is replaced.
. "$(dirname "$0")/../lib.sh"

start_daemon_raw
mkfile "$T/src" 300K
mkfile "$T/dst" 1000
cp "$T/dst" "$T/dst.orig"
ino=$(stat -c %i "$T/dst")

# A file name as destination.
r=$(copy_wait '{"no_clobber": true}' "$T/dst" "$T/src")
expect_eq "no_clobber: state" "$(jfield parameters.job.state <<<"$r")" failed
expect_eq "no_clobber: error" "$(jfield parameters.job.error <<<"$r")" EEXIST
expect_eq "no_clobber: no_clobber echoed" "$(jfield parameters.job.no_clobber <<<"$r")" true
msg=$(jfield parameters.job.error_message <<<"$r")
[[ "$msg" == *"$T/dst"* ]] || fail "no_clobber: message does not name the destination: $msg"
same "$T/dst" "$T/dst.orig"
expect_eq "no_clobber: inode" "$(stat -c %i "$T/dst")" "$ino"
no_temporaries "$T"

# Into a directory holding a file of that name: the same.
mkdir "$T/dir"
cp "$T/dst.orig" "$T/dir/src"
r=$(copy_wait '{"no_clobber": true}' "$T/dir" "$T/src")
expect_eq "no_clobber into dir: state" "$(jfield parameters.job.state <<<"$r")" failed
expect_eq "no_clobber into dir: error" "$(jfield parameters.job.error <<<"$r")" EEXIST
same "$T/dir/src" "$T/dst.orig"
no_temporaries "$T"

# no_clobber with a destination that does not exist yet: copied.
r=$(copy_wait '{"no_clobber": true}' "$T/new" "$T/src")
expect_eq "no_clobber new: state" "$(jfield parameters.job.state <<<"$r")" done
same "$T/src" "$T/new"

# Without no_clobber (absent, then false): replaced.
r=$(copy_wait "" "$T/dst" "$T/src")
expect_eq "clobber: state" "$(jfield parameters.job.state <<<"$r")" done
expect_eq "clobber: no_clobber echoed" "$(jfield parameters.job.no_clobber <<<"$r")" false
same "$T/src" "$T/dst"
cp "$T/dst.orig" "$T/dir/src"
r=$(copy_wait '{"no_clobber": false}' "$T/dir" "$T/src")
expect_eq "clobber false: state" "$(jfield parameters.job.state <<<"$r")" done
same "$T/src" "$T/dir/src"
no_temporaries "$T"
echo "PASS: no_clobber"
