#!/bin/bash
# Benchmark: do small interactive requests stay fast while bulk copies run?
#
# For each load (LOADS) and IOSQE_ASYNC policy (engine.async = auto,
# never, always) a fresh daemon is measured idle and then under load:
# BULK_JOBS bulk copies of BULK_SIZE_MIB-MiB files run (each restarted
# when it ends, so every load sample is taken under load) while
# latency.py times GetStatus round trips and 4 KiB interactive Copy jobs,
# each followed by a direct 4 KiB copy made by latency.py itself in the
# same directory (the file system's floor at the same moments). Loads:
#   warm  the sources in the page cache
#   cold  each source evicted from the page cache before each copy of it
#   sync  warm sources, copies with sync (fsync before rename)
# Prints markdown
# tables: latencies, the daemon's loop_latency and ops counters from
# GetStatus at the end of each phase, peak RSS (VmHWM), and the targets
# (under load with async = auto: GetStatus p99 <= 1 ms, 4 KiB copy p99 <=
# 5 ms and <= the direct copy's p99 + 1 ms).
#
#   tests/bench/responsiveness.sh [DIR]
# DIR: where the data goes, on the filesystem to measure (default
# build/bench in the repo). Environment:
#   SAMPLES=200          samples per measurement (each of the 4 per policy)
#   BULK_SIZE_MIB=1024   size of each bulk source
#   BULK_JOBS=4          bulk copies running at once
#   POLICIES="auto never always"
#   LOADS=warm           any of: warm cold sync
#   COLD_SMALL=1         the 4 KiB source too is read from the disk each
#                        time (latency.py --cold-source): I/O priorities
#   INTERVAL_MS=5        pause between samples
#   MAX_SECONDS=60       cap on each measurement (fewer samples are reported)
#   CPD_BIN=DIR          where cpd and cpd-client are (default: the repo)
#   ENGINE_EXTRA=, JOBS_EXTRA=  more settings of the engine and jobs groups
#   KEEP=1               keep the data directory and raw results
# Exit status: 0, or 2 when the auto targets are missed (1 on errors).
# Smoke run: SAMPLES=20 BULK_SIZE_MIB=64 tests/bench/responsiveness.sh
# Not part of make check: wall-clock numbers belong here, not in tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
BENCH=$PWD/tests/bench
CPD=${CPD_BIN:-$PWD}/cpd
PY=$(command -v /usr/bin/python3 || command -v python3)
SAMPLES=${SAMPLES:-200}
BULK_SIZE_MIB=${BULK_SIZE_MIB:-1024}
BULK_JOBS=${BULK_JOBS:-4}
POLICIES=${POLICIES:-auto never always}
LOADS=${LOADS:-warm}
INTERVAL_MS=${INTERVAL_MS:-5}
MAX_SECONDS=${MAX_SECONDS:-60}
base=${1:-$PWD/build/bench}

[ -x "$CPD" ] || { echo "no $CPD: run make" >&2; exit 1; }
mkdir -p "$base"
D=$(mktemp -d "$base/responsiveness.XXXXXX")
R=$D/results SOCK=$D/cpd.sock
mkdir -p "$R" "$D/src" "$D/dst" "$D/small"
DAEMON_PID='' LOAD_PID=''

stop_load() {
	[ -n "$LOAD_PID" ] || return 0
	kill -TERM "$LOAD_PID" 2>/dev/null || true
	wait "$LOAD_PID" || echo "warning: bulk load reported errors (see above)" >&2
	LOAD_PID=
}
stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
}
# The daemon's journal goes to a directory of its own outside the measured
# data, as /var/lib/cpd is in a real installation. (With it beside the
# copies, each big copy once took about 0.7 s longer on this ext4, when
# every record was a file created and renamed there: each of those waited
# for ext4's journal behind the bulk data. Records are written in place
# now; see journal.c.)
STATE=$(mktemp -d /tmp/cpd-bench-state.XXXXXX)
cleanup() {
	rm -rf "$STATE"
	local rc=$?
	stop_load; stop_daemon
	if [ "${KEEP:-0}" = 1 ]; then
		rm -rf "$D/dst" "$D/small"
		echo "kept: $D (raw results in $R)" >&2
	else
		rm -rf "$D"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
echo "# cpd responsiveness: $BULK_JOBS bulk copies of $BULK_SIZE_MIB MiB," \
	"$SAMPLES samples per measurement, $(nproc) CPUs, $(uname -r)"
echo
echo "creating $BULK_JOBS x $BULK_SIZE_MIB MiB in $D/src" >&2
"$PY" "$BENCH/cpdbench.py" mkdata --dir "$D/src" --size-mib "$BULK_SIZE_MIB" \
	--count "$BULK_JOBS" > /dev/null
sources=("$D"/src/src.*)
sync

# start_daemon POLICY: a daemon with engine.async = POLICY; one user runs
# all the bulk copies, so no per-user cap (or only 2 of them would run).
start_daemon() {
	printf 'engine = { async = "%s"; %s };\njobs = { max_running_per_user = 0; %s };\n' \
		"$1" "${ENGINE_EXTRA:-}" "${JOBS_EXTRA:-}" > "$D/$1.conf"
	rm -f "$SOCK"
	"$CPD" --socket "$SOCK" --config "$D/$1.conf" --state-dir "$STATE/$1" >> "$D/daemon.$1.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && "$PY" "$BENCH/cpdbench.py" status --socket "$SOCK" \
			> /dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null ||
			{ cat "$D/daemon.$1.log" >&2; echo "daemon died" >&2; exit 1; }
		sleep 0.05
	done
	echo "daemon did not come up" >&2; exit 1
}

# measure POLICY PHASE: GetStatus and 4 KiB copies, then the daemon's status.
measure() {
	local m
	for m in status copy4k; do
		"$PY" "$BENCH/latency.py" --socket "$SOCK" --mode $m --samples "$SAMPLES" \
			--direct ${COLD_SMALL:+--cold-source} --dir "$D/small" --interval-ms "$INTERVAL_MS" \
			--max-seconds "$MAX_SECONDS" --json > "$R/$1.$2.$m.json" ||
			echo "warning: $1 $2 $m: errors" >&2
		echo "  $1 $2 $m: $("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(" ".join(f"{k}={r[k]}" for k in ("n","p50_us","p99_us","max_us") if k in r), "running=%s..%s" % (r.get("running_min"), r.get("running_max")))' "$R/$1.$2.$m.json")" >&2
	done
	"$PY" "$BENCH/cpdbench.py" status --socket "$SOCK" > "$R/$1.$2.getstatus.json"
}

labels=()
for load in $LOADS; do
for policy in $POLICIES; do
	label=$load-$policy
	labels+=("$label")
	echo "load $load, policy $policy" >&2
	loadopt=()
	case $load in
	warm) cat "${sources[@]}" > /dev/null ;;	# sources in the page cache
	cold) loadopt=(--cold) ;;
	sync) cat "${sources[@]}" > /dev/null; loadopt=(--sync) ;;
	*) echo "unknown load $load" >&2; exit 1 ;;
	esac
	start_daemon "$policy"
	measure "$label" idle

	rm -f "$R/ready"
	"$PY" "$BENCH/cpdbench.py" bulk --socket "$SOCK" --dest-dir "$D/dst" \
		--priority bulk --ready "$R/ready" --summary "$R/$label.bulk.json" \
		"${loadopt[@]}" "${sources[@]}" > /dev/null &
	LOAD_PID=$!
	while [ ! -e "$R/ready" ]; do
		kill -0 "$LOAD_PID" 2>/dev/null ||
			{ wait "$LOAD_PID" || true; LOAD_PID=; echo "bulk load did not start" >&2; exit 1; }
		sleep 0.05
	done
	measure "$label" load
	grep -h VmHWM "/proc/$DAEMON_PID/status" | awk '{print $2}' > "$R/$label.vmhwm"
	stop_load
	stop_daemon
	rm -rf "$D/dst"/* "$D/dst"/.cpd-tmp.* 2>/dev/null || true
	sync							# no dirty pages into the next run
	sleep 1
done
done

rc=0
"$PY" "$BENCH/cpdbench.py" report "$R" --policies "${labels[*]}" --samples "$SAMPLES" || rc=$?
echo
echo "config per policy: engine = { async = \"POLICY\"; ${ENGINE_EXTRA:-} }; jobs = { max_running_per_user = 0; ${JOBS_EXTRA:-} }; sources $BULK_SIZE_MIB MiB x $BULK_JOBS;" \
	"loads: $LOADS${COLD_SMALL:+, 4 KiB source cold}; interval ${INTERVAL_MS} ms; total $(( $(date +%s) - start )) s"
exit $rc
