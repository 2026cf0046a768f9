#!/bin/bash
# hostile_slots: one user's jobs with tiny bandwidth limits (1 to 3 B/s)
# must not keep another user's job queued. Such a job waits for its
# tokens nearly all the time; while it waits with nothing in flight it
# holds no running slot, and jobs.max_running_per_user (default 2) caps
# how many of one user's jobs run. Each case: cpdtest's 4 throttled
# normal jobs, then cpdtest2's normal job, which must run and finish;
# the throttled jobs still move (a first chunk each), at any limit.
. "$(dirname "$0")/../lib.sh"
need_root "runs a root daemon for the unprivileged users cpdtest and cpdtest2"
ensure_user cpdtest
ensure_user cpdtest2

U=$T/u V=$T/v
mkdir "$U" "$V"
mkfile "$U/big" 1M
mkfile "$V/f" 2M
chown -R cpdtest: "$U"
chown -R cpdtest2: "$V"

# job_field_as USER ID FIELD: a field of the user's job ID.
job_field_as() {
	varlink_as "$1" "{\"method\":\"io.cpd.Manager.Get\",\"parameters\":{\"id\":$2}}" 10 |
		jfield "parameters.job.$3"
}

# slots_case WHAT [CONFIG LINE]: the case on a fresh daemon.
slots_case() {
	local what=$1 ids=() id r i moved
	write_config "$T/cpd.conf" "${2:-}"
	start_daemon_raw --config "$T/cpd.conf"
	for i in 1 2 3 4; do
		r=$(varlink_as cpdtest "$(copy_msg "{\"__more\": false, \"priority\": \"normal\",
			\"bwlimit\": $(( (i - 1) % 3 + 1 ))}" "$U/big.$i" "$U/big")" 10)
		id=$(jfield parameters.job.id <<<"$r")
		[[ "$id" =~ ^[0-9]+$ ]] || fail "$what: cpdtest's Copy $i: $r"
		ids+=("$id")
	done
	# The victim's job, submitted while the throttled ones run or wait.
	r=$(varlink_as cpdtest2 "$(copy_msg '{"priority": "normal"}' "$V/f.copy" "$V/f")" 60)
	expect_eq "$what: cpdtest2's job" "$(jfield parameters.job.state <<<"$r")" done
	same "$V/f" "$V/f.copy"
	rm -f "$V/f.copy"
	# Every running throttled job moves: a first chunk within a few seconds.
	for id in "${ids[@]}"; do
		[ "$(job_field_as cpdtest "$id" state)" = running ] || continue
		moved=0
		for _ in $(seq 300); do
			[ "$(job_field_as cpdtest "$id" bytes_done)" -gt 0 ] && { moved=1; break; }
			sleep 0.05
		done
		[ $moved -eq 1 ] || fail "$what: throttled job $id copied nothing: $(job_get "$id")"
	done
	for id in "${ids[@]}"; do
		varlink_as cpdtest "{\"method\":\"io.cpd.Manager.Cancel\",\"parameters\":{\"id\":$id}}" 10 >/dev/null
	done
	daemon_exit_ok
	echo "$what: ok"
}

# The defaults: max_running 4, max_running_per_user 2.
slots_case "defaults"
# No per-user cap: the throttled jobs must give up their slots by themselves.
slots_case "no per-user cap" 'jobs = { max_running_per_user = 0; };'
echo "PASS: hostile_slots"
