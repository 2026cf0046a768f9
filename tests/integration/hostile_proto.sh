#!/bin/bash
# hostile_proto: an unprivileged user attacks the root daemon through its
# calls: another user's job (Get, Wait, Cancel, Pause, Resume), bad
# parameters, giant and deeply nested JSON, 10,000 jobs, and calls whose
# replies it does not read. Each is refused as documented, the other
# user's job is untouched, and the daemon serves everybody else
# throughout. (hostile_conns.sh attacks with connections.)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../hostile_long.sh"
need_root "runs a root daemon against the unprivileged users cpdtest and cpdtest2"
ensure_user cpdtest
ensure_user cpdtest2
long_copies_room
hostile_daemon
long_copies_running

# 1-6: another user's job.
for m in Get Wait Cancel Pause Resume; do
	step "$m of another user's job"
	r=$(call_as cpdtest "$m" "$victim")
	expect_eq "case $n ($what)" "$(jfield error <<<"$r")" io.cpd.Manager.PermissionDenied
	[ "$(jfield parameters.job <<<"$r")" = null ] || fail "case $n ($what): leaked the job: $r"
done
step "List shows only the caller's jobs"
r=$(varlink_as cpdtest '{"method":"io.cpd.Manager.List"}' 10)
py -c 'import json,sys; j=json.loads(sys.argv[1])["parameters"]["jobs"]
sys.exit(0 if [x["id"] for x in j] == [int(sys.argv[2])] else 1)' "$(tail -n 1 <<<"$r")" "$mine" ||
	fail "case $n ($what): $r"
r=$(job_get "$victim")
expect_eq "the other user's job after the attacks" "$(jfield parameters.job.state <<<"$r")" paused

# 7-9: bad parameters get errors, not a crash.
step "a NUL inside a path"
r=$(varlink_as cpdtest '{"method":"io.cpd.Manager.Copy","parameters":{"sources":["/etc/\u0000shadow"],"destination":"'"$U"'/nul"}}' 10)
expect_eq "case $n ($what)" "$(jfield error <<<"$r")" org.varlink.service.InvalidParameter
step "ids out of range"
for id in -1 0 9223372036854775807 1e300 '"1"' null; do
	r=$(call_as cpdtest Get "$id")
	case $(jfield error <<<"$r") in
	io.cpd.Manager.NoSuchJob|org.varlink.service.InvalidParameter) ;;
	*) fail "case $n ($what): Get $id: $r" ;;
	esac
done
answers
step "a relative path"
r=$(varlink_as cpdtest "$(copy_msg "" "$U/rel" ../../etc/shadow)" 10)
expect_eq "case $n ($what)" "$(jfield error <<<"$r")" org.varlink.service.InvalidParameter

# 10-13: messages too large or too deep: the connection is closed
# without a reply; the daemon serves on.
raw_closed() {	# FILE: sent raw, the daemon hung up without replying
	local res
	res=$(hc raw "$1")
	expect_eq "case $n ($what): closed" "$(jfield closed <<<"$res")" true
	expect_eq "case $n ($what): replies" "$(jfield replies <<<"$res")" "[]"
	answers
}
step "a 1 MiB message"
py -c 'import sys; sys.stdout.write("{\"method\":\"io.cpd.Manager.GetStatus\",\"parameters\":{\"a\":\"" + "x" * (1 << 20) + "\"}}\0")' > "$T/giant"
raw_closed "$T/giant"
step "a 1 MiB message that never ends"
head -c 1M /dev/zero | tr '\0' '[' > "$T/endless"
raw_closed "$T/endless"
step "100,000 nested arrays"
py -c 'import sys; sys.stdout.write("[" * 100000 + "]" * 100000 + "\0")' > "$T/deep"
raw_closed "$T/deep"
step "nesting deeper than the limit, within the size limit"
py -c 'import sys; sys.stdout.write("{\"method\":\"io.cpd.Manager.GetStatus\",\"parameters\":{\"a\":" + "[" * 30000 + "]" * 30000 + "}}\0")' > "$T/deep2"
raw_closed "$T/deep2"

# 14: 10,000 jobs from one user: jobs.max_per_user unfinished ones, the
# rest refused with TooManyJobs naming the limit.
step "10,000 jobs from one user"
r=$(varlink_as cpdtest '{"method":"io.cpd.Manager.List"}' 10)
had=$(py -c 'import json,sys; j=json.loads(sys.argv[1])["parameters"]["jobs"]
print(sum(x["state"] in ("queued", "running", "paused") for x in j))' "$(tail -n 1 <<<"$r")")
t0=$SECONDS
res=$(hc jobs 10000 "$U/f" "$U/many")
echo "case $n ($what): $res in $((SECONDS - t0)) s"
expect_eq "case $n ($what): accepted" "$(jfield accepted <<<"$res")" $((1000 - had))
expect_eq "case $n ($what): refused" "$(jfield too_many <<<"$res")" $((9000 + had))
expect_eq "case $n ($what): limit" "$(jfield limit <<<"$res")" 1000
expect_eq "case $n ($what): other replies" "$(jfield other <<<"$res")" "[]"
answers
r=$(varlink_as cpdtest2 "$(copy_msg "" "$V/small2.copy" "$V/small")" 30)
expect_eq "case $n ($what): another user's copy" "$(jfield parameters.job.state <<<"$r")" done
r=$(job_get "$victim")
expect_eq "the other user's job at the end" "$(jfield parameters.job.state <<<"$r")" paused

# 15: calls sent and their replies not read, on several connections:
# the daemon runs the next call of a connection only when the client has
# read most of the replies, so it holds about one reply per connection
# (a List of 1,000 jobs here), not 32 MiB each; and when the client
# reads, it gets them all.
step "calls whose replies are not read"
write_config "$T/cpd.conf" \
	'clients = { max_per_user = 64; idle_timeout = 60; };' \
	'jobs = { max_running = 3; max_running_per_user = 1; max_per_user = 1000; };'
kill -HUP "$pid"
for i in $(seq 100); do
	grep -q "configuration reloaded" "$DAEMON_LOG" && break
	sleep 0.1
done
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }	# KiB
rss1=$(rss)
coproc DELUGE { hc deluge 8 40 '{"method":"io.cpd.Manager.List"}'; }
read -r -t 60 res <&"${DELUGE[0]}" || fail "case $n ($what): the client did not report"
sleep 1		# time to run them all, were they all run
rss2=$(rss)
eval "exec ${DELUGE[1]}>&-"
read -r -t 120 res <&"${DELUGE[0]}" || fail "case $n ($what): no replies"
wait "$DELUGE_PID" || true
echo "case $n ($what): RSS $rss1 KiB before, $rss2 KiB while unread; $res"
expect_eq "case $n ($what): replies" "$(jfield replies <<<"$res")" "[40, 40, 40, 40, 40, 40, 40, 40]"
sanitized || [ $((rss2 - rss1)) -lt 32768 ] ||
	fail "case $n ($what): RSS grew from $rss1 to $rss2 KiB with the replies unread"
answers

daemon_exit_ok		# cancels the long jobs, removing their temporaries
hostile_verify
echo "PASS: hostile_proto ($n cases)"
