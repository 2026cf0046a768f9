#!/bin/bash
# leaks: a daemon that has served 1,000 jobs holds what it held after the
# first 200: the same file descriptors, and about the same memory. The
# jobs mix plain copies, tree copies as an unprivileged user, failing
# jobs, and clients that vanish mid-call. Built with SANITIZE=1, the
# daemon's exit also runs LeakSanitizer, whose report must be empty.
. "$(dirname "$0")/../lib.sh"
need_root "copies as the unprivileged user cpdtest"
ensure_user cpdtest
HC="$(cd "$(dirname "$0")" && pwd)/hostile_client.py"
hc() { "$PYTHON" "$HC" "$CPD_SOCKET" "$@"; }
# Finished jobs are dropped at once, so that a daemon with nothing to do
# should hold nothing of them.
write_config "$T/cpd.conf" 'jobs = { keep_finished = 0; };'
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
start_daemon_raw --config "$T/cpd.conf"
pid=$DAEMON_PID

U=$T/u
mkdir -p "$U/tree/sub" "$T/out"
mkfile "$T/f" 10K
mkfile "$U/tree/a" 3K
mkfile "$U/tree/sub/b" 70K
ln -s a "$U/tree/link"
chown -R cpdtest: "$U"

# settle: wait until every job is gone and only our GetStatus is connected.
settle() {
	local i r
	for i in $(seq 300); do
		r=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
		if [ "$(jfield parameters.clients <<<"$r")" = 1 ] &&
		    [ "$(jfield parameters.jobs_queued <<<"$r")$(jfield parameters.jobs_running <<<"$r")" = 00 ] &&
		    [ "$(varlink_call '{"method":"io.cpd.Manager.List"}' | jfield parameters.jobs)" = "[]" ]; then
			return 0
		fi
		sleep 0.1
	done
	fail "the daemon did not settle: $r"
}
# round N: 5 kinds of job, N of each, at once.
round() {
	local k=$1 pids=()
	rm -rf "$T/out" "$U/out"
	mkdir "$T/out" "$U/out"
	chown cpdtest: "$U/out"
	hc copies "$k" '{}' "$T/f" "$T/out/plain" > "$T/r1" &
	pids+=($!)
	as_user cpdtest "$PYTHON" "$HC" "$CPD_SOCKET" copies "$k" '{"archive": true}' \
		"$U/tree" "$U/out/tree" > "$T/r2" &
	pids+=($!)
	hc copies "$k" '{}' "$T/missing" "$T/out/missing" > "$T/r3" &
	pids+=($!)
	hc copies "$k" '{"sync": true, "priority": "bulk"}' "$T/f" "$T/out/bulk" > "$T/r4" &
	pids+=($!)
	hc deafs "$k" "$T/f" "$T/out/deaf" >/dev/null
	wait "${pids[@]}"
	grep -q '"states": {"done": '"$k"'}' "$T/r1" || fail "plain copies: $(cat "$T/r1")"
	grep -q '"states": {"done": '"$k"'}' "$T/r2" || fail "tree copies: $(cat "$T/r2")"
	grep -q '"states": {"failed": '"$k"'}' "$T/r3" || fail "failing copies: $(cat "$T/r3")"
	grep -q '"states": {"done": '"$k"'}' "$T/r4" || fail "bulk copies: $(cat "$T/r4")"
	settle		# the deaf clients' jobs too
}

fds() { ls "/proc/$pid/fd" | wc -l; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }	# KiB

round 40		# 200 jobs
fds1=$(fds) rss1=$(rss)
for r in 1 2 3 4; do
	round 40
done			# 1,000 jobs
fds2=$(fds) rss2=$(rss)
echo "after 200 jobs: $fds1 fds, $rss1 KiB; after 1,000: $fds2 fds, $rss2 KiB"
expect_eq "open fds after 1,000 jobs (after 200: $fds1)" "$fds2" "$fds1"
if ! sanitized; then
	[ $((rss2 - rss1)) -le 1024 ] ||
		fail "RSS grew from $rss1 KiB to $rss2 KiB between 200 and 1,000 jobs"
fi
daemon_exit_ok
if grep -q 'LeakSanitizer' "$DAEMON_LOG"; then
	fail "leak report: $(grep -A30 LeakSanitizer "$DAEMON_LOG")"
fi
echo "PASS: leaks"
