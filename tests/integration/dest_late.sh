#!/bin/bash
# The destination is resolved when a job runs, not when it is submitted:
# a job that waited in the queue copies into what its destination names
# when it starts. (A job that starts the moment its sources are examined
# takes the destination that examination resolved, a moment before: see
# scan.c. This checks that a job that waited does not.) Both engines.
source "$(dirname "$0")/../lib.sh"

write_config "$T/cpd.conf" 'jobs = { max_running = 1; max_running_per_user = 0; };'
mkfile "$T/big" 8M
echo small >"$T/small"
for engine in io_uring fallback; do
	start_daemon_raw -E "$engine" --config "$T/cpd.conf"
	mkdir "$T/d"
	# One slot, taken by a job writing into a FIFO that nobody reads
	# (this shell holds it open, so it has a reader); the next job waits.
	mkfifo "$T/fifo"
	exec 3<>"$T/fifo"
	slow=$(copy_detached '{"priority":"normal"}' "$T/fifo" "$T/big")
	for _ in $(seq 100); do
		[ "$(job_get "$slow" | jfield parameters.job.state)" = running ] && break
		sleep 0.05
	done
	id=$(copy_detached '{"priority":"normal"}' "$T/d" "$T/small")
	expect_eq "$engine: waiting job" "$(job_get "$id" | jfield parameters.job.state)" queued
	# Its destination directory is replaced while it waits.
	mv "$T/d" "$T/d.old"
	mkdir "$T/d"
	varlink_call "{\"method\":\"io.cpd.Manager.Cancel\",\"parameters\":{\"id\":$slow}}" >/dev/null
	exec 3>&-	# its write returns (EPIPE): the slot is free
	expect_eq "$engine: job after the wait" "$(job_wait "$id" | jfield parameters.job.state)" done
	same "$T/small" "$T/d/small"
	[ ! -e "$T/d.old/small" ] || fail "$engine: copied into the directory that was replaced"
	# A job that runs at once copies where its destination is then.
	r=$(copy_wait '{"priority":"interactive"}' "$T/d.old" "$T/small")
	expect_eq "$engine: interactive job" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/small" "$T/d.old/small"
	no_temporaries "$T"
	daemon_exit_ok
	rm -rf "$T/d" "$T/d.old" "$T/fifo"
done
echo "PASS: dest_late"
