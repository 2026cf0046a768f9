#!/bin/bash
# Benchmark: where a 4 KiB copy's time goes, idle and under 4 bulk copies
# of 1 GiB (as responsiveness.sh): accept (the job's first journal
# record), run (the copy), announce (the record of its end), total.
#
#   tests/bench/copy4k-breakdown.sh [DIR]
# STATE_DIR=PATH puts the daemon's journal there (e.g. on tmpfs, to see
# what the journal's writes cost); default: a directory under /tmp.
# LOAD=cold evicts each bulk source from the page cache before each copy
# of it, LOAD=sync copies with sync (default: warm sources).
# Not part of make check.
set -euo pipefail
cd "$(dirname "$0")/../.."
BENCH=$PWD/tests/bench
base=${1:-$PWD/build/bench}
mkdir -p "$base"
D=$(mktemp -d "$base/breakdown.XXXXXX")
STATE=${STATE_DIR:-$(mktemp -d /tmp/cpd-bench-state.XXXXXX)/s}
PIDS=()
cleanup() {
	kill "${PIDS[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$D" "$STATE"
}
trap cleanup EXIT
mkdir -p "$D/src" "$D/dst" "$D/small"
python3 "$BENCH/cpdbench.py" mkdata --dir "$D/src" --size-mib 1024 --count 4 > /dev/null
sync
cat "$D"/src/* > /dev/null
loadopt=()
case ${LOAD:-warm} in cold) loadopt=(--cold) ;; sync) loadopt=(--sync) ;; esac
# One user runs the 4 bulk copies: no per-user cap, or only 2 would run.
echo 'jobs = { max_running_per_user = 0; };' > "$D/cpd.conf"
./cpd --socket "$D/sock" --config "$D/cpd.conf" --state-dir "$STATE" 2> "$D/cpd.log" &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$D/sock" ] && break; sleep 0.05; done
echo "idle (100 copies):"
python3 "$BENCH/breakdown.py" "$D/sock" "$D/small" 100
python3 "$BENCH/cpdbench.py" bulk --socket "$D/sock" --dest-dir "$D/dst" --priority bulk \
	--ready "$D/ready" "${loadopt[@]}" "$D"/src/src.* > /dev/null &
PIDS+=($!)
while [ ! -e "$D/ready" ]; do sleep 0.05; done
echo "under 4 bulk copies (${SAMPLES:-200} copies):"
python3 "$BENCH/breakdown.py" "$D/sock" "$D/small" "${SAMPLES:-200}"
