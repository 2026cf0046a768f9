#!/bin/bash
# credentials: a job belongs to the user who submitted it. Another user
# does not see it in List and gets PermissionDenied from Get, Wait and
# Cancel (and the Cancel has no effect); root sees every job; the owner
# sees and controls its own.
. "$(dirname "$0")/../lib.sh"
need_root "creates the users cpdtest and cpdtest2"
ensure_user cpdtest
ensure_user cpdtest2
u1=$(id -u cpdtest) u2=$(id -u cpdtest2)

write_config "$T/slow.conf" 'engine = { chunk_size = "4K"; lanes = 1; };'
start_daemon_raw --config "$T/slow.conf"
mkdir "$T/u1" "$T/u2"
chown cpdtest: "$T/u1"
chown cpdtest2: "$T/u2"
# A preallocated 2 GiB source (not sparse, so copied byte by byte): at 4 KiB a round the job runs for minutes, so it
# is surely still running when the others try to touch it. It is cancelled.
fallocate -l 2G "$T/u1/big"
mkfile "$T/u2/small" 5K
chown cpdtest: "$T/u1/big"
chown cpdtest2: "$T/u2/small"

ids() {	# the job ids of a List reply, space separated
	py -c '
import json, sys
m = [l for l in sys.stdin.read().split("\n") if l.strip()]
r = json.loads(m[-1])
print(" ".join(str(j["id"]) for j in r["parameters"]["jobs"]))' <<<"$1"
}
list_as() { varlink_as "$1" '{"method":"io.cpd.Manager.List"}' 10; }
call_as() {	# USER METHOD ID
	varlink_as "$1" "{\"method\":\"io.cpd.Manager.$2\",\"parameters\":{\"id\":$3}}" 10
}

# cpdtest's detached job, still running.
r=$(varlink_as cpdtest "$(copy_msg '{"__more": false}' "$T/u1/big.copy" "$T/u1/big")" 10)
id1=$(jfield parameters.job.id <<<"$r")
[[ "$id1" =~ ^[0-9]+$ ]] || fail "cpdtest's Copy: $r"
expect_eq "owner uid in the job" "$(jfield parameters.job.uid <<<"$r")" "$u1"
# cpdtest2's own job, finished.
r=$(varlink_as cpdtest2 "$(copy_msg "" "$T/u2/small.copy" "$T/u2/small")" 30)
id2=$(jfield parameters.job.id <<<"$r")
expect_eq "cpdtest2's copy: state" "$(jfield parameters.job.state <<<"$r")" done
expect_eq "cpdtest2's copy: owner" "$(stat -c %u "$T/u2/small.copy")" "$u2"

# The other user sees only its own job.
expect_eq "cpdtest2's List" "$(ids "$(list_as cpdtest2)")" "$id2"
expect_eq "cpdtest's List" "$(ids "$(list_as cpdtest)")" "$id1"
for m in Get Wait Cancel; do
	r=$(call_as cpdtest2 $m "$id1")
	expect_eq "cpdtest2 $m of cpdtest's job" "$(jfield error <<<"$r")" io.cpd.Manager.PermissionDenied
	[ "$(jfield parameters.job <<<"$r")" = null ] || fail "cpdtest2 $m leaked the job: $r"
	r=$(call_as cpdtest $m "$id2")
	expect_eq "cpdtest $m of cpdtest2's job" "$(jfield error <<<"$r")" io.cpd.Manager.PermissionDenied
done
# The refused Cancel changed nothing.
r=$(call_as cpdtest Get "$id1")
expect_eq "owner's Get: error" "$(jfield error <<<"$r")" null
expect_eq "owner's Get: id" "$(jfield parameters.job.id <<<"$r")" "$id1"
expect_eq "owner's Get: state after the refused Cancel" "$(jfield parameters.job.state <<<"$r")" running
expect_eq "owner's Get: uid" "$(jfield parameters.job.uid <<<"$r")" "$u1"

# Root sees both jobs, oldest first, and may Get either.
expect_eq "root's List" "$(ids "$(varlink_call '{"method":"io.cpd.Manager.List"}')")" "$id1 $id2"
r=$(job_get "$id1")
expect_eq "root's Get: uid" "$(jfield parameters.job.uid <<<"$r")" "$u1"

# The owner controls its job.
r=$(call_as cpdtest Cancel "$id1")
expect_eq "owner's Cancel: state" "$(jfield parameters.job.state <<<"$r")" cancelled
[ ! -e "$T/u1/big.copy" ] || fail "the cancelled job's destination exists"
no_temporaries "$T"
echo "PASS: credentials"
