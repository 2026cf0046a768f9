#!/bin/bash
# Scheduling over the socket: Pause/Resume keep bytes exact, a bwlimit
# is applied, the per-user job limit gives TooManyJobs, and priorities
# are chosen from the size when the request leaves them out (a tree is
# never interactive then).
source "$(dirname "$0")/../lib.sh"

write_config "$T/cpd.conf" \
	'jobs = { max_per_user = 3; auto_interactive_max = "64K"; auto_bulk_min = "8M"; };' \
	'engine = { chunk_size = "64K"; lanes = 1; };'
start_daemon_raw --config "$T/cpd.conf"
call() { varlink_call "{\"method\":\"io.cpd.Manager.$1\",\"parameters\":{\"id\":$2}}"; }

# Pause: the job reports paused and its byte count stands still. At
# 32 MiB/s the copy lasts 3 s, so the Pause lands even on a busy machine.
mkfile "$T/src" 96M
id=$(copy_detached '{"priority":"bulk","bwlimit":33554432}' "$T/dst" "$T/src")
for _ in $(seq 200); do
	[ "$(job_get "$id" | jfield parameters.job.bytes_done)" -gt 0 ] && break; sleep 0.02
done
expect_eq "state after Pause" "$(call Pause "$id" | jfield parameters.job.state)" paused
b1=$(job_get "$id" | jfield parameters.job.bytes_done)
sleep 0.3	# chunks in flight at the pause come back
b2=$(job_get "$id" | jfield parameters.job.bytes_done)
sleep 0.5
b3=$(job_get "$id" | jfield parameters.job.bytes_done)
expect_eq "bytes while paused" "$b3" "$b2"
[ "$b3" -lt $((96 << 20)) ] || fail "the job finished before the pause took hold"
[ ! -e "$T/dst" ] || fail "destination published while paused"
expect_eq "state after Resume" "$(call Resume "$id" | jfield parameters.job.state)" running
expect_eq "resumed job" "$(job_wait "$id" | jfield parameters.job.state)" done
same "$T/src" "$T/dst"
no_temporaries "$T"

# bwlimit: by the daemon's own clock the job took at least bytes/limit.
mkfile "$T/lim" 6M
r=$(copy_wait '{"bwlimit": 4194304, "priority": "normal"}' "$T/lim.copy" "$T/lim")
expect_eq "bwlimited job" "$(jfield parameters.job.state <<<"$r")" done
expect_eq "bwlimit field" "$(jfield parameters.job.bwlimit <<<"$r")" 4194304
start=$(jfield parameters.job.started_usec <<<"$r")
end=$(jfield parameters.job.finished_usec <<<"$r")
# 6 MiB at 4 MiB/s, less the quarter second of burst allowed: > 1.2 s.
[ $((end - start)) -gt 1200000 ] || fail "6 MiB at 4 MiB/s took only $(( (end - start) / 1000 )) ms"
same "$T/lim" "$T/lim.copy"

# Automatic classes from the size.
mkfile "$T/s" 4K
mkfile "$T/m" 1M
prio() { copy_wait "" "$T/$1.copy" "$T/$1" | jfield parameters.job.priority; }
expect_eq "4 KiB job" "$(prio s)" interactive
expect_eq "1 MiB job" "$(prio m)" normal
expect_eq "6 MiB job" "$(prio lim)" normal
expect_eq "96 MiB job" "$(prio src)" bulk
# A tree's size is not known when its class is chosen: a small one is
# not taken for interactive.
mkdir "$T/tree"
cp "$T/s" "$T/tree/s"
expect_eq "4 KiB tree" "$(copy_wait '{"recursive": true}' "$T/tree.copy" "$T/tree" |
	jfield parameters.job.priority)" normal

# Per-user limit: three unfinished jobs, the fourth is refused.
ids=()
for i in 1 2 3; do
	ids+=("$(copy_detached '{"priority":"bulk","bwlimit":65536}' "$T/q$i" "$T/src")")
done
r=$(varlink_call "$(copy_msg '{"__more": false}' "$T/q4" "$T/src")")
expect_eq "fourth job" "$(jfield error <<<"$r")" io.cpd.Manager.TooManyJobs
expect_eq "limit" "$(jfield parameters.limit <<<"$r")" 3
for id in "${ids[@]}"; do call Cancel "$id" >/dev/null; done
r=$(varlink_call "$(copy_msg '{"__more": false}' "$T/q4" "$T/s")")
[ "$(jfield parameters.job.id <<<"$r")" != null ] || fail "no new job after cancelling: $r"

# Pause and Resume of another user's job are refused.
if [ "$(id -u)" -eq 0 ]; then
	ensure_user cpdtest
	r=$(varlink_as cpdtest "{\"method\":\"io.cpd.Manager.Pause\",\"parameters\":{\"id\":$id}}")
	expect_eq "Pause of root's job" "$(jfield error <<<"$r")" io.cpd.Manager.PermissionDenied
fi
echo "scheduling: ok"
