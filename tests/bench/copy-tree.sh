#!/bin/bash
# Benchmark: trees and a big file; cpd-client copy vs cp vs rsync in one
# run, interleaved, caches warm; prints medians and ratios to cp.
#
#   tests/bench/copy-tree.sh [RUNS] [DIR]
# Cases: one 2 GiB file; 10,000 x 4 KiB files in 100 directories; a mixed
# tree of log-uniform sizes 0 B..64 MiB, about 2 GiB. BIG_MIB, MIXED_MIB
# and SMALL_FILES scale them down for a quick run.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
base=${2:-$PWD/build/bench}
mkdir -p "$base"
D=$(mktemp -d "$base/tree.XXXXXX")
SOCK=$D/cpd.sock
trap 'kill $(cat "$D/pid" 2>/dev/null) 2>/dev/null; rm -rf "$D"' EXIT

echo "creating data in $D"
mkdir -p "$D/src/big" "$D/src/small" "$D/src/mixed"
head -c "${BIG_MIB:-2048}M" /dev/urandom > "$D/src/big/file"
python3 - "$D/src" "${SMALL_FILES:-10000}" "${MIXED_MIB:-2048}" <<'PY'
import os, random, sys
root, nsmall, mixed_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = os.urandom(1 << 20)
for i in range(nsmall):
    d = os.path.join(root, "small", "d%02d" % (i % 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        f.write(block[i % 1000: i % 1000 + 4096])
random.seed(1)
total, i = 0, 0
while total < mixed_mib << 20:
    size = int(2 ** random.uniform(0, 26)) - 1          # 0 B .. 64 MiB, log-uniform
    d = os.path.join(root, "mixed", "d%02d" % (i % 50))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        left = size
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
    total += size
    i += 1
print("mixed: %d files, %d MiB" % (i, total >> 20))
PY
cat $(find "$D/src" -type f) > /dev/null		# warm: all in page cache

./cpd --socket "$SOCK" --config "${CPD_BENCH_CONFIG:-/dev/null}" & echo $! > "$D/pid"
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
export CPD_SOCKET=$SOCK

declare -A times
run() {	# case tool command...
	rm -rf "$D/dst"; mkdir "$D/dst"; sync; sleep 0.3
	local s e
	s=$(date +%s%N); "${@:3}" >/dev/null; e=$(date +%s%N)
	times[$1.$2]+="$(( (e - s) / 1000000 )) "
	diff -rq "$D/src/$1" "$D/dst/$1" >/dev/null || { echo "$1/$2: copy differs" >&2; exit 1; }
}
for i in $(seq "$runs"); do
	for c in big small mixed; do
		run $c cp cp -a "$D/src/$c" "$D/dst/"
		run $c cpd ./cpd-client copy -a "$D/src/$c" "$D/dst/"
		run $c rsync rsync -a --whole-file "$D/src/$c" "$D/dst/"
	done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "| case | cp -a ms | cpd copy -a ms | rsync -a ms | cpd / cp | cpd / rsync |"
echo "|---|--:|--:|--:|--:|--:|"
for c in big small mixed; do
	cp_ms=$(echo "${times[$c.cp]}" | median)
	cpd_ms=$(echo "${times[$c.cpd]}" | median)
	rs_ms=$(echo "${times[$c.rsync]}" | median)
	printf '| %s | %s | %s | %s | %s | %s |\n' "$c" "$cp_ms" "$cpd_ms" "$rs_ms" \
	    "$(awk -v a="$cpd_ms" -v b="$cp_ms" 'BEGIN{printf "%.2f", a/b}')" \
	    "$(awk -v a="$cpd_ms" -v b="$rs_ms" 'BEGIN{printf "%.2f", a/b}')"
done
echo "($runs runs each, medians; all runs: $(for k in "${!times[@]}"; do printf '%s=[%s] ' "$k" "${times[$k]}"; done))"
