#!/bin/bash
# priorities: the daemon's threads run at the right nice values. io-wq's
# workers are reniced to engine.worker_nice (the daemon's tick finds
# them); the journal's threads and the event loop keep the daemon's
# priority; a pool thread works at worker_nice for a bulk job and at 0
# for an interactive one. Bytes are exact.
. "$(dirname "$0")/../lib.sh"

mkfile "$T/big" 100M
mkfile "$T/small" 4K
mkdir "$T/tree"
for i in $(seq 20); do mkfile "$T/tree/f$i" 8K; done

# nices NAME: the nice value of each of the daemon's threads called NAME.
nices() {
	local t
	for t in /proc/"$DAEMON_PID"/task/*; do
		[[ $(cat "$t/comm" 2>/dev/null) == "$1" ]] || continue
		py -c 'import sys; print(open(sys.argv[1]).read().rsplit(")", 1)[1].split()[16])' "$t/stat"
	done
}
# only NAME VALUE: at least one thread NAME, and all of them at VALUE.
only() {
	local n
	n=$(nices "$1")
	[ -n "$n" ] && [ -z "$(grep -vx -- "$2" <<<"$n")" ]
}

# The daemon's priority is the one it was started at (make check may run
# under nice).
base=$(nice)
write_config "$T/cpd.conf" 'engine = { fallback_threads = 1; worker_nice = 10; };'
start_daemon_raw --config "$T/cpd.conf"
engine=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}' | jfield parameters.engine)
only cpd-journal "$base" || fail "journal threads at start: $(nices cpd-journal | tr '\n' ' ')"

# ---- Bulk work: io-wq's workers (io_uring) and the pool thread at 10.
r=$(copy_wait '{"priority": "bulk"}' "$T/out-big" "$T/big")
same "$T/big" "$T/out-big"
r=$(copy_wait '{"priority": "bulk", "recursive": true}' "$T/out-tree" "$T/tree")
expect_eq "bulk tree" "$(jfield parameters.job.state <<<"$r")" done
tree_same "$T/tree" "$T/out-tree"
if [ "$engine" = io_uring ]; then
	for _ in $(seq 60); do only "iou-wrk-$DAEMON_PID" 10 && break; sleep 0.05; done
	only "iou-wrk-$DAEMON_PID" 10 || fail "io-wq workers: $(nices "iou-wrk-$DAEMON_PID" | tr '\n' ' ')"
fi
only cpd-pool 10 || fail "pool thread after bulk work: $(nices cpd-pool)"
only cpd-journal "$base" || fail "journal threads reniced: $(nices cpd-journal | tr '\n' ' ')"
only cpd "$base" || fail "event loop reniced: $(nices cpd | tr '\n' ' ')"

# ---- An interactive job: the pool thread does its work at nice 0.
r=$(copy_wait '{"priority": "interactive"}' "$T/out-small" "$T/small")
same "$T/small" "$T/out-small"
only cpd-pool 0 || fail "pool thread after interactive work: $(nices cpd-pool)"
daemon_exit_ok
exit 0
