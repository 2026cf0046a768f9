#!/bin/bash
# Benchmark: 1,000 jobs queued by 200 concurrent clients.
#
# Each client opens its own connection and, once all are connected, sends
# its Copy calls pipelined (no "more"), then Wait for each job; every source
# is a distinct file of 0..256 KiB (edge sizes included) and every
# destination is distinct. All jobs must end done with the right bytes
# (SHA-256 of each destination against its source). Prints the elapsed
# time, the failures (must be 0), the peak queued/running jobs seen by
# GetStatus and the daemon's peak RSS (VmHWM; target <= 32 MiB).
#
#   tests/bench/many-clients.sh [DIR]
# DIR: where the files go (default build/bench in the repo). Environment:
#   CLIENTS=200 JOBS_PER_CLIENT=5 MAX_KIB=256
#   CPD_BIN=DIR   where cpd is (default: the repo)
#   KEEP=1        keep the data directory
# Exit status: 0 all jobs correct and RSS within target, 2 RSS target
# missed, 1 failures or errors.
# Not part of make check: wall-clock numbers belong here, not in tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
BENCH=$PWD/tests/bench
CPD=${CPD_BIN:-$PWD}/cpd
PY=$(command -v /usr/bin/python3 || command -v python3)
CLIENTS=${CLIENTS:-200}
JOBS_PER_CLIENT=${JOBS_PER_CLIENT:-5}
MAX_KIB=${MAX_KIB:-256}
RSS_TARGET_KIB=$((32 * 1024))
base=${1:-$PWD/build/bench}

[ -x "$CPD" ] || { echo "no $CPD: run make" >&2; exit 1; }
mkdir -p "$base"
D=$(mktemp -d "$base/many-clients.XXXXXX")
SOCK=$D/cpd.sock
DAEMON_PID=
# The daemon's journal goes to a directory of its own outside the measured
# data, as /var/lib/cpd is in a real installation: with it beside the
# copies, each big copy took about 0.7 s longer on this ext4 (not
# understood; see the closing note of the benchmark issue).
STATE=$(mktemp -d /tmp/cpd-bench-state.XXXXXX)
cleanup() {
	rm -rf "$STATE"
	local rc=$?
	if [ -n "$DAEMON_PID" ]; then
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then echo "kept: $D" >&2; else rm -rf "$D"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

total=$((CLIENTS * JOBS_PER_CLIENT))
# The default jobs.max_per_user (1000) would refuse the last jobs: all
# clients are the same user.
cat > "$D/cpd.conf" <<EOF
jobs = { max_per_user = $((total * 2 + 100)); };
EOF
"$CPD" --socket "$SOCK" --config "$D/cpd.conf" --state-dir "$STATE/1" >> "$D/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do
	[ -S "$SOCK" ] && "$PY" "$BENCH/cpdbench.py" status --socket "$SOCK" \
		> /dev/null 2>&1 && break
	kill -0 "$DAEMON_PID" 2>/dev/null ||
		{ cat "$D/daemon.log" >&2; echo "daemon died" >&2; exit 1; }
	sleep 0.05
done
kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$DAEMON_PID/status"; }
rss_idle=$(kib VmRSS)

rc=0
"$PY" "$BENCH/cpdbench.py" many --socket "$SOCK" --dir "$D" --clients "$CLIENTS" \
	--jobs "$JOBS_PER_CLIENT" --max-kib "$MAX_KIB" > "$D/result.json" || rc=1
hwm=$(kib VmHWM) rss_end=$(kib VmRSS)
"$PY" "$BENCH/cpdbench.py" status --socket "$SOCK" > "$D/status.json" || true

"$PY" - "$D/result.json" "$D/status.json" "$hwm" "$rss_idle" "$rss_end" "$RSS_TARGET_KIB" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
try:
    st = json.load(open(sys.argv[2]))
except ValueError:
    st = {}
hwm, idle, end, target = (int(x) for x in sys.argv[3:7])
mib = lambda k: f"{k / 1024:.1f} MiB"
p = r["peak"]
print(f"# cpd many clients: {r['jobs']} jobs from {r['clients']} concurrent clients")
print()
print("| | |")
print("|---|--:|")
print(f"| jobs (ok / total) | {r['ok']} / {r['jobs']} |")
print(f"| failures | {r['failures']} |")
print(f"| elapsed (all submitted and done) | {r['elapsed_s']:.2f} s |")
print(f"| jobs/s | {r['jobs_per_s']} |")
print(f"| data | {r['bytes'] / 2**20:.0f} MiB |")
print(f"| one client's Copy calls acknowledged, p50 / max | "
      f"{r['submit_all_p50_ms']} / {r['submit_all_max_ms']} ms |")
print(f"| peak unfinished (queued + running) / running / clients (GetStatus) | "
      f"{p['unfinished']} / {p['jobs_running']} / {p['clients']} |")
ll = st.get("loop_latency") or {}
if ll:
    print(f"| loop latency p50 / p99 / max, slow iterations | {ll.get('p50_usec')} / "
          f"{ll.get('p99_usec')} / {ll.get('max_usec')} µs, {ll.get('slow')} |")
print(f"| daemon RSS idle / after | {mib(idle)} / {mib(end)} |")
print(f"| daemon peak RSS (VmHWM) | {mib(hwm)} — "
      f"{'PASS' if hwm <= target else 'MISS'} (target ≤ {mib(target)}) |")
for e in r["errors"]:
    print("error:", e)
EOF
[ "$rc" = 0 ] || { echo "FAILED: $(grep -o '"failures": [0-9]*' "$D/result.json" || echo 'no result')" >&2; exit 1; }
[ "$hwm" -le "$RSS_TARGET_KIB" ] || exit 2
