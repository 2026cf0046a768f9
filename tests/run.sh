#!/bin/bash
# Run every unit test binary and integration script; print one line per
# test and close with "N passed, N failed, N skipped".
# Exit codes follow the automake convention: 0 pass, 77 skip, else fail.
# TESTS="name ..." runs only the named tests. CHECK_JOBS=N runs up to N
# at once (default 2), except the tests listed in SERIAL, which run
# alone: they measure timing or scheduling, fill a file system or the
# fd table, change a sysctl every daemon sees, or copy gigabytes.
set -u
cd "$(dirname "$0")/.."
: "${CPD_BIN:=$PWD}" "${CPD_UNIT_DIR:=$PWD/build/tests}" "${CHECK_JOBS:=2}"
export CPD_BIN
SERIAL=" cancel copy_sizes crash_restart devices fallback faults_quota faults_space fd_limit
	faults hostile_conns hostile_depth hostile_proto hostile_slots hung_fs interactive_pool
	ioprio leaks lifecycle mapped notify priorities reload reserve resume scheduling
	startup_cleanup write_behind"
SERIAL=" $(echo $SERIAL) "	# one space between names, and around them
pass=0 fail=0 skip=0 failed=()
logdir=$(mktemp -d /tmp/cpd-test-logs.XXXXXX)
declare -A running=()	# pid -> test name

# report NAME RC SECONDS: count and print one test's result.
report() {
	local name=$1 rc=$2 secs=$3 log="$logdir/${1//\//_}.log"
	case $rc in
	0)  pass=$((pass + 1)); printf 'PASS  %-40s %3ss\n' "$name" "$secs" ;;
	77) skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" \
		"$(grep -m1 -i '^skip' "$log" | cut -c1-100)" ;;
	*)  fail=$((fail + 1)); failed+=("$name")
	    printf 'FAIL  %-40s (exit %d)\n' "$name" "$rc"
	    sed 's/^/      | /' "$log" | tail -n 40 ;;
	esac
}

# reap_one: wait for one running test and report it.
reap_one() {
	local pid rc=0 name
	wait -n -p pid "${!running[@]}" || rc=$?
	name=${running[$pid]}
	unset "running[$pid]"
	report "$name" "$rc" "$(($(date +%s) - $(cat "$logdir/${name//\//_}.start")))"
}

run_one() {	# name command...
	local name=$1; shift
	if [ -n "${TESTS:-}" ] && [[ " $TESTS " != *" $name "* ]]; then return; fi
	local alone=0
	[[ "$SERIAL" == *" $name "* ]] && alone=1
	# A serial test waits for every other to end, and runs alone.
	while [ ${#running[@]} -ge "$CHECK_JOBS" ] || { [ $alone = 1 ] && [ ${#running[@]} -gt 0 ]; }; do
		reap_one
	done
	date +%s >"$logdir/${name//\//_}.start"
	timeout -k 10 300 "$@" >"$logdir/${name//\//_}.log" 2>&1 </dev/null &
	running[$!]=$name
	[ $alone = 0 ] || reap_one
}

for t in "$CPD_UNIT_DIR"/test_*; do
	[ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"
done
# The job state machine again on the thread pool's engine: its steps end
# in another order, which is where a race shows.
run_one unit/test_job.fallback env CPD_TEST_ENGINE=fallback "$CPD_UNIT_DIR/test_job"
run_one unit/test_engine_rule.fallback env CPD_TEST_ENGINE=fallback "$CPD_UNIT_DIR/test_engine_rule"
for t in tests/integration/*.sh; do
	run_one "$(basename "$t" .sh)" bash "$t"
done
while [ ${#running[@]} -gt 0 ]; do
	reap_one
done

echo "logs: $logdir"
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
