#!/bin/bash
# cancel: Cancel of a running job replies once the job has stopped, with
# state "cancelled", and leaves neither the destination nor a temporary;
# a client streaming the job's progress gets the same end, and the
# temporary's descriptor is closed. Cancel of a queued job
# (max_running = 1) cancels it without ever starting it.
# Copies are slowed down by 4 KiB chunks in a single lane. The running
# case is tried with both engines; a job with several files in flight
# leaves only whole files.
. "$(dirname "$0")/../lib.sh"

write_config "$T/slow.conf" \
	'engine = { chunk_size = "4K"; lanes = 1; };' \
	'jobs = { max_running = 1; };'
mkfile "$T/big" 256M
mkfile "$T/small" 10K
mkdir "$T/out"
size=$(stat -c %s "$T/big")

field() { jfield "parameters.job.$1" <<<"$r"; }

# wait_bytes ID: poll Get until the job has copied something.
wait_bytes() {
	local i
	for i in $(seq 1000); do
		r=$(job_get "$1")
		[ "$(field state)" = running ] && [ "$(field bytes_done)" -gt 0 ] && return 0
		[ "$(field state)" = running ] || [ "$(field state)" = queued ] ||
			fail "job $1 is $(field state) before it was cancelled: $r"
		sleep 0.02
	done
	fail "job $1 copied nothing in 20 s: $r"
}

cancel() {	# ID: prints the Cancel reply
	varlink_wait "{\"method\":\"io.cpd.Manager.Cancel\",\"parameters\":{\"id\":$1}}" 30
}

# 1. A running job, followed by a streaming watcher on another connection.
cancel_running() {	# ENGINE
	id=$(copy_detached "" "$T/out/big" "$T/big")
	varlink_wait "{\"method\":\"io.cpd.Manager.Wait\",\"more\":true,\"parameters\":{\"id\":$id}}" 60 \
		>"$T/watch" &
	watcher=$!
	wait_bytes "$id"
	r=$(cancel "$id")
	expect_eq "$1: cancel running: reply continues" "$(jfield continues <<<"$r")" null
	expect_eq "$1: cancel running: state" "$(field state)" cancelled
	expect_eq "$1: cancel running: id" "$(field id)" "$id"
	[ "$(field bytes_done)" -lt "$size" ] ||
		fail "$1: cancel running: the copy had already finished, the test proves nothing"
	[ "$(field finished_usec)" -gt 0 ] || fail "$1: cancel running: finished_usec is 0"
	expect_eq "$1: cancel running: error" "$(field error)" null
	# The reply comes after the cleanup: nothing may be left now.
	[ ! -e "$T/out/big" ] || fail "$1: cancel running: the destination exists"
	no_temporaries "$T/out"
	expect_eq "$1: cancel running: entries" "$(ls -A "$T/out")" ""
	# The nameless temporary's last descriptor is closed (by a pool thread,
	# off the event loop: dropping its pages can take a while).
	for _ in $(seq 100); do
		[ -z "$(find /proc/"$DAEMON_PID"/fd -lname "$T/out/*" 2>/dev/null)" ] && break
		sleep 0.05
	done
	[ -z "$(find /proc/"$DAEMON_PID"/fd -lname "$T/out/*" 2>/dev/null)" ] ||
		fail "$1: cancel running: the temporary is still open: $(find /proc/"$DAEMON_PID"/fd -lname "$T/out/*" -printf '%l\n')"
	# The watcher got its final reply too.
	timeout 10 tail -s 0.05 --pid=$watcher -f /dev/null || fail "the watcher did not end after the cancel"
	wait $watcher || true
	expect_eq "$1: watcher: final state" "$(jfield parameters.job.state <"$T/watch")" cancelled
	expect_eq "$1: watcher: final continues" "$(jfield continues <"$T/watch")" null
	# Get agrees; a second Cancel returns the job unchanged.
	r=$(job_get "$id")
	expect_eq "$1: Get after cancel: state" "$(field state)" cancelled
	r=$(cancel "$id")
	expect_eq "$1: second cancel: state" "$(field state)" cancelled
}

start_daemon_raw --config "$T/slow.conf" -E fallback
cancel_running fallback
stop_daemon || fail "fallback: the daemon failed on SIGTERM"
start_daemon_raw --config "$T/slow.conf" -E io_uring
cancel_running io_uring

# 2. A queued job behind a running one.
# (Priorities given: left out, a small job may be made interactive.)
a=$(copy_detached '{"priority": "normal"}' "$T/out/big" "$T/big")
b=$(copy_detached '{"priority": "normal"}' "$T/out/small" "$T/small")
wait_bytes "$a"
r=$(job_get "$b")
expect_eq "second job: state before cancel" "$(field state)" queued
r=$(cancel "$b")
expect_eq "cancel queued: state" "$(field state)" cancelled
expect_eq "cancel queued: started_usec" "$(field started_usec)" 0
expect_eq "cancel queued: bytes_done" "$(field bytes_done)" 0
[ ! -e "$T/out/small" ] || fail "cancel queued: destination exists"
r=$(job_get "$a")
expect_eq "running job after the queued one's cancel: state" "$(field state)" running
r=$(cancel "$a")
expect_eq "cancel first: state" "$(field state)" cancelled
# The cancelled queued job was not started in the freed slot.
r=$(job_get "$b")
expect_eq "queued job after the slot freed: state" "$(field state)" cancelled
expect_eq "queued job after the slot freed: started_usec" "$(field started_usec)" 0
[ ! -e "$T/out/small" ] && [ ! -e "$T/out/big" ] || fail "destinations exist: $(ls -A "$T/out")"
no_temporaries "$T"

# 3. Several files in flight at once: every temporary goes; what is left
#    in the destination are whole files only.
mkdir "$T/many" "$T/out3"
for i in $(seq 10); do mkfile "$T/many/f$i" 16M; done
# Held to about 5 s in all, so that the cancel surely comes while files
# are in flight (unthrottled, 160 MiB from the page cache could end first).
id=$(copy_detached '{"bwlimit": 33554432}' "$T/out3" "$T"/many/f*)
wait_bytes "$id"
r=$(cancel "$id")
expect_eq "cancel many: state" "$(field state)" cancelled
[ "$(field files_done)" -lt 10 ] || fail "cancel many: every file was done, the test proves nothing"
no_temporaries "$T/out3"
expect_eq "cancel many: files left" "$(ls -A "$T/out3" | wc -l)" "$(field files_done)"
for f in "$T"/out3/*; do
	[ -e "$f" ] || continue
	same "$T/many/$(basename "$f")" "$f"
done

r=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
expect_eq "GetStatus jobs_cancelled" "$(jfield parameters.jobs_cancelled <<<"$r")" 4
expect_eq "GetStatus jobs_running" "$(jfield parameters.jobs_running <<<"$r")" 0
expect_eq "GetStatus jobs_queued" "$(jfield parameters.jobs_queued <<<"$r")" 0
echo "PASS: cancel"
