#!/bin/bash
# Run every unit test binary and integration script; print one line per
# test and close with "N passed, N failed, N skipped".
# Exit codes follow the automake convention: 0 pass, 77 skip, else fail.
# TESTS="name ..." runs only the named tests.
set -u
cd "$(dirname "$0")/.."
: "${CPD_BIN:=$PWD}" "${CPD_UNIT_DIR:=$PWD/build/tests}"
export CPD_BIN
pass=0 fail=0 skip=0 failed=()
logdir=$(mktemp -d /tmp/cpd-test-logs.XXXXXX)

run_one() {	# name command...
	local name=$1; shift
	if [ -n "${TESTS:-}" ] && [[ " $TESTS " != *" $name "* ]]; then return; fi
	local start=$SECONDS rc
	timeout -k 10 300 "$@" >"$logdir/${name//\//_}.log" 2>&1 </dev/null
	rc=$?
	case $rc in
	0)  pass=$((pass + 1)); printf 'PASS  %-40s %3ss\n' "$name" $((SECONDS - start)) ;;
	77) skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" \
		"$(grep -m1 -i '^skip' "$logdir/${name//\//_}.log" | cut -c1-100)" ;;
	*)  fail=$((fail + 1)); failed+=("$name")
	    printf 'FAIL  %-40s (exit %d)\n' "$name" $rc
	    sed 's/^/      | /' "$logdir/${name//\//_}.log" | tail -n 40 ;;
	esac
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

echo "logs: $logdir"
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
