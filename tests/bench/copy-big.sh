#!/bin/bash
# Benchmark: one large file in the page cache, cpd-client copy vs cp vs
# rsync --whole-file, interleaved in one run; prints medians and ratios.
# Also the daemon's RSS when idle and with 20 jobs queued.
#
#   tests/bench/copy-big.sh [SIZE_MIB] [RUNS] [DIR]
# DIR must be on the filesystem to measure (default: a directory under the repo).
# SETTLE=SECONDS (default 0): the pause after removing the last copy. On
# this virtual machine the guest hands free memory back to the host
# (free page reporting, page_reporting_order=11 on the kernel command
# line) a few seconds after it is freed, and page cache on memory handed
# back costs a host fault per page: 1 GiB takes cp 0.35 s right after the
# last copy was removed and 0.7 s five seconds later, and so for every
# tool. SETTLE=0 measures the first state, SETTLE=5 the second.
# Not part of make check: wall-clock numbers belong here, not in tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-1024} runs=${2:-5}
base=${3:-$PWD/build/bench}
mkdir -p "$base"
D=$(mktemp -d "$base/copy-big.XXXXXX")
SOCK=$D/cpd.sock
# The daemon's journal goes to a directory of its own outside the measured
# data, as /var/lib/cpd is in a real installation. (With it beside the
# copies, each big copy once took about 0.7 s longer on this ext4, when
# every record was a file created and renamed there: each of those waited
# for ext4's journal behind the bulk data. Records are written in place
# now; see journal.c.)
STATE=$(mktemp -d /tmp/cpd-bench-state.XXXXXX)
trap 'kill $(cat $D/pid 2>/dev/null) 2>/dev/null; rm -rf "$D" "$STATE"' EXIT

echo "creating ${size_mib} MiB in $D"
head -c "${size_mib}M" /dev/urandom > "$D/src"
cat "$D/src" > /dev/null				# warm: in page cache

./cpd --socket "$SOCK" --config "${CPD_BENCH_CONFIG:-/dev/null}" --state-dir "$STATE/1" & echo $! > "$D/pid"
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
export CPD_SOCKET=$SOCK

declare -A times
run() {	# name command...
	rm -f "$D/dst"; sync; sleep "${SETTLE:-0}"	# same start: no dirty pages from the last run
	local s e
	s=$(date +%s%N); "${@:2}"; e=$(date +%s%N)
	times[$1]+="$(( (e - s) / 1000000 )) "
	cmp -s "$D/src" "$D/dst" || { echo "$1: copy differs" >&2; exit 1; }
}
tools=(cp cpd)
command -v rsync >/dev/null && tools+=(rsync)
one() {	# tool
	case $1 in
	cp) run cp cp "$D/src" "$D/dst" ;;
	cpd) run cpd ./cpd-client copy "$D/src" "$D/dst" ;;
	rsync) run rsync rsync --whole-file "$D/src" "$D/dst" ;;
	esac
}
# The tools take turns at going first, so that none is tied to the state
# another one leaves.
for i in $(seq "$runs"); do
	n=${#tools[@]}
	for k in $(seq 0 $((n - 1))); do
		one "${tools[(i + k) % n]}"
	done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
least() { tr ' ' '\n' | grep . | sort -n | head -n 1; }
cp_ms=$(echo "${times[cp]}" | median)
cp_min=$(echo "${times[cp]}" | least)
printf '%-8s %10s %8s %8s %8s   (%s runs, %s MiB, SETTLE=%s, ms: all runs)\n' tool median_ms \
	vs_cp min_ms vs_cp "$runs" "$size_mib" "${SETTLE:-0}"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2fx", a/b}'; }
for t in "${tools[@]}"; do
	m=$(echo "${times[$t]}" | median)
	l=$(echo "${times[$t]}" | least)
	printf '%-8s %10s %8s %8s %8s   %s\n' "$t" "$m" "$(ratio "$m" "$cp_ms")" "$l" \
		"$(ratio "$l" "$cp_min")" "${times[$t]}"
done

pid=$(cat "$D/pid")
rss() { awk '/VmRSS/ {print $2 " KiB"}' "/proc/$pid/status"; }
echo "daemon RSS idle: $(rss)"
kill "$pid"; wait "$pid" 2>/dev/null || true
printf 'jobs = { max_running = 1; };\n' > "$D/one.conf"
./cpd --socket "$SOCK" --config "$D/one.conf" --state-dir "$STATE/2" & echo $! > "$D/pid"; pid=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
for i in $(seq 21); do ./cpd-client copy --detach "$D/src" "$D/q$i" > /dev/null; done
echo "daemon RSS with 1 running + 20 queued jobs: $(rss) ($(./cpd-client list | grep -c queued) queued)"
