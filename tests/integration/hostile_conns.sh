#!/bin/bash
# hostile_conns: an unprivileged user attacks the root daemon with
# connections: clients that start a message and never finish it
# (slowloris), one that cannot take replies, a flood of 2,000
# connections, and a daemon run out of file descriptors. Each is cut off
# or capped as documented, and the daemon serves everybody else
# throughout.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../hostile_long.sh"
need_root "runs a root daemon against the unprivileged users cpdtest and cpdtest2"
ensure_user cpdtest
ensure_user cpdtest2
long_copies_room
hostile_daemon
long_copies_running

# 1-3: slowloris: half a message, a message a byte at a time, and
# nothing at all are cut off after clients.idle_timeout.
for kind in partial trickle silent; do
	step "a client that never finishes a message ($kind)"
	res=$(hc stall "$kind")
	expect_eq "case $n ($what): closed by the daemon" "$(jfield closed <<<"$res")" true
	answers
done
# 4: while a call is open the client waits for the daemon, not the
# other way round: a Wait outlives the idle timeout many times over.
step "an open call is not idle"
res=$(hc hold "{\"method\":\"io.cpd.Manager.Wait\",\"parameters\":{\"id\":$mine}}" 6)
expect_eq "case $n ($what): closed by the daemon" "$(jfield closed <<<"$res")" false

# 5: a client that cannot take replies (its reading side shut: every
# reply fails with EPIPE) while its Copy streams: the daemon drops the
# connection and the call; the job stays (queued behind the user's long
# one: "normal", as interactive jobs have a cap of their own).
step "a client whose reading side is shut"
res=$(hc deaf "$(copy_msg '{"priority":"normal"}' "$U/deaf.copy" "$U/f")" 2)
answers
r=$(varlink_as cpdtest '{"method":"io.cpd.Manager.List"}' 10)
py -c 'import json,sys; j=json.loads(sys.argv[1])["parameters"]["jobs"]
sys.exit(0 if [x["state"] for x in j if x["destination"].endswith("/deaf.copy")] == ["queued"] else 1)' \
	"$(tail -n 1 <<<"$r")" || fail "case $n ($what): the job is not queued: $r"

# 6: a connection flood from one user: capped at clients.max_per_user,
# the rest closed at once; other users and root are served meanwhile.
step "2000 connections from one user"
coproc FLOOD { hc flood 2000; }
read -r -t 120 res <&"${FLOOD[0]}" || fail "case $n ($what): the flood did not report"
opened=$(jfield opened <<<"$res")
[ "$opened" -ge 1000 ] || fail "case $n ($what): could open only $opened connections: $res"
expect_eq "case $n ($what): connections served" "$(jfield answered <<<"$res")" 64
fds=$(ls "/proc/$pid/fd" | wc -l)
[ "$fds" -lt 200 ] || fail "case $n ($what): the daemon holds $fds fds"
answers
r=$(varlink_as cpdtest2 "$(copy_msg "" "$V/small.copy" "$V/small")" 30)
expect_eq "case $n ($what): another user's copy" "$(jfield parameters.job.state <<<"$r")" done
eval "exec ${FLOOD[1]}>&-"
wait "$FLOOD_PID" || true
# The flood's connections go away with it.
for i in $(seq 100); do
	c=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}' | jfield parameters.clients)
	[ "$c" = 1 ] && break
	sleep 0.1
done
expect_eq "case $n ($what): clients after the flood" "$c" 1

daemon_exit_ok		# cancels the long jobs, removing their temporaries
hostile_verify

# 7: a daemon out of file descriptors (a limit of 32 here, where
# clients.max_per_user does not help): the connections beyond it wait in
# the listen queue, the daemon does not spin on them, and it accepts
# again once the flood is over.
step "the daemon runs out of file descriptors"
start_daemon_raw
pid=$DAEMON_PID
prlimit --pid "$pid" --nofile=32:32
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }	# utime + stime, in ticks
coproc FLOOD { hc flood 100 2; }
read -r -t 120 res <&"${FLOOD[0]}" || fail "case $n ($what): the flood did not report"
answered=$(jfield answered <<<"$res")
[ "$answered" -gt 0 ] && [ "$answered" -lt 32 ] || fail "case $n ($what): $res"
cpu1=$(cpu)
sleep 2
cpu2=$(cpu)
echo "case $n ($what): $res; $((cpu2 - cpu1)) ticks of CPU in 2 s"
# Spinning on accept would take all of the 2 s (200 ticks at 100 Hz).
[ $((cpu2 - cpu1)) -lt 50 ] || fail "case $n ($what): the daemon spins: $((cpu2 - cpu1)) ticks"
eval "exec ${FLOOD[1]}>&-"
wait "$FLOOD_PID" || true
for i in $(seq 50); do
	varlink_up && break
	sleep 0.1
done
answers
daemon_exit_ok
echo "PASS: hostile_conns ($n cases)"
