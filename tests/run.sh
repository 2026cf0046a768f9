#!/bin/bash
# Run every unit test binary and integration script; print one line per
# test and close with "N passed, N failed, N skipped".
# Exit codes follow the automake convention: 0 pass, 77 skip, else fail.
# TESTS="name ..." runs only the named tests. CHECK_JOBS=N runs up to N
# at once (default 2), except the tests listed in SERIAL, which run
# alone: they measure timing or scheduling, change a sysctl every daemon
# sees, or copy gigabytes (a test that fills only its own file system or
# its own daemon's fd table, and waits for conditions rather than for
# time, runs beside another). Each line gives the test's wall-clock
# seconds.
set -u
cd "$(dirname "$0")/.."
: "${CPD_BIN:=$PWD}" "${CPD_UNIT_DIR:=$PWD/build/tests}" "${CHECK_JOBS:=2}"
export CPD_BIN
SERIAL=" cancel copy_sizes devices fallback faults_quota faults hostile_conns hostile_proto
	hostile_slots hung_fs interactive_pool ioprio lifecycle mapped notify priorities reload
	reserve scheduling startup_cleanup write_behind"
SERIAL=" $(echo $SERIAL) "	# one space between names, and around them
# The parallel tests that take longest (over 10 s on 2 CPUs), longest
# first: they start first.
SLOW="resume_large hostile_fs hostile_depth resume_tree faults_race faults_sweep hostile_race mirror verify publish
	journal update revoked_groups tree_basic crash_restart hostile_failures fd_limit
	tree_archive hostile_holes modules cp_compat resume leaks faults_space"
SLOW=" $(echo $SLOW) "
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

# reap_left PGID NAME: what test NAME left running (a daemon it did not
# stop on a path that failed, a helper) is killed, and named in its log:
# each test runs in the process group of its timeout, whose id is PGID.
reap_left() {
	local left
	# (Not zombies: those run nothing, and go with their parent.)
	left=$(ps -eo pid=,pgid=,stat=,args= | awk -v g="$1" '$2 == g && $3 !~ /^Z/')
	[ -n "$left" ] || return 0
	kill -KILL -- "-$1" 2>/dev/null || true
	printf 'run.sh: killed what the test left running:\n%s\n' "$left" \
		>>"$logdir/${2//\//_}.log"
	echo "warning: $2 left $(wc -l <<<"$left") process(es) running, killed (see its log)"
}

# reap_one: wait for one running test and report it.
reap_one() {
	local pid rc=0 name
	wait -n -p pid "${!running[@]}" || rc=$?
	name=${running[$pid]}
	unset "running[$pid]"
	reap_left "$pid" "$name"
	report "$name" "$rc" "$(($(date +%s) - $(cat "$logdir/${name//\//_}.start")))"
}

# cmd_of NAME: the command that runs test NAME, in CMD.
cmd_of() {
	local n=${1#unit/}
	case $1 in
	# The job state machine again on the thread pool's engine: its steps
	# end in another order, which is where a race shows.
	unit/*.fallback) CMD=(env CPD_TEST_ENGINE=fallback "$CPD_UNIT_DIR/${n%.fallback}") ;;
	unit/*) CMD=("$CPD_UNIT_DIR/$n") ;;
	*) CMD=(bash "tests/integration/$1.sh") ;;
	esac
}

run_one() {	# NAME
	local name=$1 alone=0 CMD
	[[ "$SERIAL" == *" $name "* ]] && alone=1
	# A serial test waits for every other to end, and runs alone.
	while [ ${#running[@]} -ge "$CHECK_JOBS" ] || { [ $alone = 1 ] && [ ${#running[@]} -gt 0 ]; }; do
		reap_one
	done
	cmd_of "$name"
	date +%s >"$logdir/${name//\//_}.start"
	timeout -k 10 300 "${CMD[@]}" >"$logdir/${name//\//_}.log" 2>&1 </dev/null &
	running[$!]=$name
	[ $alone = 0 ] || reap_one
}

all=()
for t in "$CPD_UNIT_DIR"/test_*; do
	[ -x "$t" ] && all+=("unit/$(basename "$t")")
done
all+=(unit/test_job.fallback unit/test_engine_rule.fallback)
for t in tests/integration/*.sh; do
	all+=("$(basename "$t" .sh)")
done
selected=" "
for name in "${all[@]}"; do
	[ -n "${TESTS:-}" ] && [[ " $TESTS " != *" $name "* ]] || selected+="$name "
done
# The order: first the tests that run beside another, the longest of them
# (SLOW) first, so that short ones end that part together; then the
# serial ones, so that the others are waited for once, not before each.
order=()
for name in $SLOW; do
	[[ "$selected" != *" $name "* || "$SERIAL" == *" $name "* ]] || order+=("$name")
done
for name in $selected; do
	[[ "$SERIAL $SLOW " == *" $name "* ]] || order+=("$name")
done
for name in $selected; do
	[[ "$SERIAL" != *" $name "* ]] || order+=("$name")
done
for name in "${order[@]}"; do
	run_one "$name"
done
while [ ${#running[@]} -gt 0 ]; do
	reap_one
done

echo "logs: $logdir"
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
