# Sourced by tests/integration/hostile_conns.sh and hostile_proto.sh,
# after lib.sh: their set-up (lib.sh's hostile_daemon) starts two long
# copies, victim (paused) and mine (running), that several cases rely on.
# Each copies a 1 GiB file, and a copy that large is preallocated whole
# (engine.map_threshold): with less than 4 GiB free in $T the copies fail
# at once with ENOSPC, and the cases that need them fail later, saying
# only that a call ended or a count is off. These say why, first.

# long_copies_room: skip, naming the space, unless $T has room for two
# 1 GiB sources and their two preallocated copies (and a margin for the
# daemon's journal and the cases' small files).
long_copies_room() {
	local need=$(((4 * 1024 + 256) * 1024)) room	# KiB
	room=$(df -Pk "$T" | awk 'NR == 2 { print $4 }')
	[ "$room" -ge "$need" ] ||
		skip "the set-up's long copies need $((need / 1024)) MiB free in $T (two 1 GiB files and their preallocated copies); $((room / 1024)) MiB free"
}

# long_copies_running: after hostile_daemon, the long copies are under
# way; a failed one fails the test with the job's own error message.
# The running copy has started writing once its bytes_done moves (its
# preallocation came before that).
long_copies_running() {
	local r st i
	r=$(job_get "$victim")
	st=$(jfield parameters.job.state <<<"$r")
	[ "$st" = paused ] ||
		fail "set-up: cpdtest2's long copy (job $victim) is $st, not paused: $(jfield parameters.job.error <<<"$r"): $(jfield parameters.job.error_message <<<"$r")"
	for i in $(seq 200); do
		r=$(job_get "$mine")
		st=$(jfield parameters.job.state <<<"$r")
		case $st in
		running) [ "$(jfield parameters.job.bytes_done <<<"$r")" -gt 0 ] && return 0 ;;
		queued) ;;
		*) fail "set-up: cpdtest's long copy (job $mine) is $st, not running: $(jfield parameters.job.error <<<"$r"): $(jfield parameters.job.error_message <<<"$r")" ;;
		esac
		sleep 0.05
	done
	fail "set-up: cpdtest's long copy (job $mine) copied nothing in 10 s: $r"
}
