#!/bin/bash
# revoked_groups: a job does not keep groups its owner has lost (issue 16,
# finding 6). A user in group cpdproj, which alone may read a file,
# copies it in a job that waits behind a slow file; removed from the
# group meanwhile, the job fails when it is resumed, and when it is
# restored after a restart, with a message that says why, and the file
# is not copied. Unchanged, the same job copies it. A job whose uid has
# another name when it is resumed fails too. A uid without a name runs
# with its caller's groups, and fails once it is given one. On both
# engines.
. "$(dirname "$0")/../lib.sh"
need_root "creates a user and a group, and changes its members"

U=cpdgrp
U2=cpdgrp-renamed	# the uid under another name, as if given to somebody else
G=cpdproj
! id "$U2" >/dev/null 2>&1 || usermod -l "$U" "$U2" || fail "cannot name $U2 back"
ensure_user "$U"
getent group "$G" >/dev/null || groupadd "$G" || fail "cannot create group $G"
member() { gpasswd -a "$U" "$G" >/dev/null; }
revoke() { gpasswd -d "$U" "$G" >/dev/null; }

mkdir -p "$T/pub" "$T/proj" "$T/out"
mkfile "$T/pub/slow" 3M
chmod 644 "$T/pub/slow"
echo "the group's secret" >"$T/proj/secret"
chgrp "$G" "$T/proj" "$T/proj/secret"
chmod 750 "$T/proj"
chmod 640 "$T/proj/secret"

# One file at a time, so that the secret waits behind the slow file.
write_config "$T/cpd.conf" 'jobs = { files_in_flight = 1; };'
call() { varlink_call "{\"method\":\"io.cpd.Manager.$1\",\"parameters\":{\"id\":$2}}"; }
# submit DEST: as the user, the slow file then the secret into DEST; the id.
submit() {
	local r id
	mkdir -p "$1" && chown "$U" "$(dirname "$1")" "$1"
	r=$(varlink_as "$U" "$(copy_msg '{"__more":false,"bwlimit":1048576}' "$1" \
		"$T/pub/slow" "$T/proj/secret")" 10)
	id=$(jfield parameters.job.id <<<"$r")
	[[ "$id" =~ ^[0-9]+$ ]] || fail "Copy gave no job id: $r"
	for _ in $(seq 200); do
		[ "$(job_get "$id" | jfield parameters.job.bytes_done)" -gt 0 ] && break
		sleep 0.02
	done
	echo "$id"
}
# A uid the user database does not know (a container's, chroot --userspec's).
NL=$(for u in $(seq 4200 4299); do getent passwd "$u" >/dev/null || { echo "$u"; break; }; done)
[ -n "$NL" ] || fail "no free uid in 4200..4299"
NLNAME=cpdnameless
! id "$NLNAME" >/dev/null 2>&1 || userdel "$NLNAME" || fail "cannot remove $NLNAME"
# nameless DEST EXTRA: as uid $NL, with a group of its own and no name, pub/slow into DEST.
nameless() {
	mkdir -p "$1" && chown "$NL" "$1"
	printf '%s\0' "$(copy_msg "$2" "$1" "$T/pub/slow")" |
		setpriv --reuid="$NL" --regid="$NL" --groups=4321 socat -t 30 - "UNIX-CONNECT:$CPD_SOCKET" |
		tr '\0' '\n' | jfield parameters.job.id
}

# revoked ID DEST: job ID failed for the group, and copied nothing.
revoked() {
	local r
	r=$(job_wait "$1")
	expect_eq "job $1" "$(jfield parameters.job.state <<<"$r")" failed
	jfield parameters.job.error_message <<<"$r" |
		grep -q "the owner's groups changed since the job was submitted: '$U' is no longer in group '$G'" ||
		fail "job $1: the message does not say why: $(jfield parameters.job.error_message <<<"$r")"
	[ ! -e "$2/secret" ] || fail "job $1 copied the group's file after the group was revoked"
	[ ! -e "$2/slow" ] || fail "job $1 went on after the group was revoked"
}

for engine in io_uring fallback; do
	member
	start_daemon_raw --config "$T/cpd.conf" -E "$engine"

	# Unchanged: paused and resumed, the job copies the file.
	id=$(submit "$T/out/$engine/kept")
	expect_eq "pause" "$(call Pause "$id" | jfield parameters.job.state)" paused
	expect_eq "resume" "$(call Resume "$id" | jfield parameters.job.state)" running
	expect_eq "job $id, owner unchanged" "$(job_wait "$id" | jfield parameters.job.state)" done
	same "$T/proj/secret" "$T/out/$engine/kept/secret"

	# Removed from the group while the job is paused: Resume fails it.
	id=$(submit "$T/out/$engine/resumed")
	expect_eq "pause" "$(call Pause "$id" | jfield parameters.job.state)" paused
	revoke
	call Resume "$id" >/dev/null
	revoked "$id" "$T/out/$engine/resumed"

	# The uid under another name while the job is paused: Resume fails it.
	member
	id=$(submit "$T/out/$engine/renamed")	# started: its owner's name is known
	expect_eq "pause" "$(call Pause "$id" | jfield parameters.job.state)" paused
	usermod -l "$U2" "$U" || fail "cannot rename $U"
	call Resume "$id" >/dev/null
	r=$(job_wait "$id")
	usermod -l "$U" "$U2" || fail "cannot name $U2 back"
	expect_eq "job $id, renamed" "$(jfield parameters.job.state <<<"$r")" failed
	jfield parameters.job.error_message <<<"$r" | grep -q "uid $(id -u "$U") is now user '$U2', not '$U' who submitted the job" ||
		fail "job $id: the message does not say why: $(jfield parameters.job.error_message <<<"$r")"
	[ ! -e "$T/out/$engine/renamed/secret" ] || fail "job $id copied for the uid's new owner"

	# A nameless uid: its job runs with the groups its caller had (no
	# database grants or revokes them). Before, it failed: "the owner, uid
	# N, is no longer in the user database".
	id=$(nameless "$T/out/$engine/nameless" '{"__more":false}')
	r=$(job_wait "$id")
	expect_eq "job $id of nameless uid $NL" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/pub/slow" "$T/out/$engine/nameless/slow"
	expect_eq "job $id: its owner" "$(stat -c %u:%g "$T/out/$engine/nameless/slow")" "$NL:$NL"
	# Given a name while its job is paused, the uid's job fails on Resume.
	id=$(nameless "$T/out/$engine/named" '{"__more":false,"bwlimit":1048576}')
	expect_eq "pause" "$(call Pause "$id" | jfield parameters.job.state)" paused
	useradd -M -u "$NL" "$NLNAME" || fail "cannot name uid $NL"
	call Resume "$id" >/dev/null
	r=$(job_wait "$id")
	userdel "$NLNAME" || fail "cannot remove $NLNAME"
	expect_eq "job $id, the nameless uid named" "$(jfield parameters.job.state <<<"$r")" failed
	jfield parameters.job.error_message <<<"$r" |
		grep -q "uid $NL is now user '$NLNAME', and had no name when the job was submitted" ||
		fail "job $id: the message does not say why: $(jfield parameters.job.error_message <<<"$r")"

	# Removed from the group while the daemon is down: the restored job fails.
	member
	id=$(submit "$T/out/$engine/restarted")
	daemon_exit_ok		# the job is interrupted; its record runs it again
	revoke
	start_daemon_raw --config "$T/cpd.conf" -E "$engine"
	revoked "$id" "$T/out/$engine/restarted"
	grep -q "job $id: restored from the journal" "$DAEMON_LOG" || fail "job $id was not restored"

	daemon_exit_ok
	rm -rf "$T/state"
done
groupdel "$G" 2>/dev/null || true
echo PASS
