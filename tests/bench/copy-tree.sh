#!/bin/bash
# Benchmark: trees and a big file; cpd-client copy -a vs cp -a vs
# rsync -a --whole-file in one run, interleaved, caches warm; prints
# medians and ratios.
#
#   tests/bench/copy-tree.sh [RUNS] [DIR]
# Cases: one 2 GiB file; 10,000 x 4 KiB files in 100 directories; a mixed
# tree of log-uniform sizes 0 B..64 MiB, about 2 GiB. BIG_MIB, MIXED_MIB
# and SMALL_FILES scale them down for a quick run. CPD_BENCH_CONFIG names
# a cpd.conf for the daemon.
#
# Why a new filesystem per case and round: ext4 avoids reusing an inode
# deleted in the last minutes, and with tens of thousands of them (rm -rf
# of the last run's copy) creating a file gets up to 20 times slower — the
# first tool after a deletion pays for it. So, as root, each case of each
# round gets a fresh ext4 image (loop-mounted, under DIR; one per case so
# that the page cache, which holds the image's data twice, does not fill
# up): the case's source is put in, synced and read back into the page
# cache, and every tool writes its own destination in it; nothing is
# deleted until the case ends. Before each tool the last one's data is
# written out (settle), and the tools take turns at going first. Without
# root (no loop devices) the copies go to fresh directories in DIR and
# are deleted only at the end of the case, with the same caveat for rounds
# after the first.
#
# Why memory is warmed before each run: this virtual machine hands freed
# memory back to its host a few seconds after it is freed (free page
# reporting), and page cache built on such memory costs a host fault per
# page. Each round frees gigabytes, so without warming, the same tool
# took 0.65 s or 3 s for the big file from one run to the next, and three
# rounds said only which runs were lucky. So before each run WARM_MIB of
# memory (default: twice the case's source plus 512 MiB) is touched and
# freed, and the run's page cache is built on memory the host still backs.
# WARM_MIB=0 leaves it out. (tests/bench/copy-big.sh's SETTLE shows both
# states.)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
base=${2:-$PWD/build/bench}
mkdir -p "$base"
D=$(mktemp -d "$base/tree.XXXXXX")
SOCK=$D/cpd.sock
M=$D/fs
LOOPDEV=
# The daemon's journal goes to a directory of its own outside the measured
# data, as /var/lib/cpd is in a real installation: with it beside the
# copies, each big copy took about 0.7 s longer on this ext4 (not
# understood; see the closing note of the benchmark issue).
STATE=$(mktemp -d /tmp/cpd-bench-state.XXXXXX)
cleanup() {
	kill "$(cat "$D/pid" 2>/dev/null)" 2>/dev/null || true
	rm -rf "$STATE"
	mountpoint -q "$M" && umount "$M"
	[ -z "$LOOPDEV" ] || losetup -d "$LOOPDEV"
	rm -rf "$D"
}
trap cleanup EXIT
use_fs=0
[ "$(id -u)" -eq 0 ] && command -v mkfs.ext4 >/dev/null && use_fs=1

echo "creating data in $D/master"
mkdir -p "$D/master/big" "$D/master/small" "$D/master/mixed"
head -c "${BIG_MIB:-2048}M" /dev/urandom > "$D/master/big/file"
python3 - "$D/master" "${SMALL_FILES:-10000}" "${MIXED_MIB:-2048}" <<'PY'
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
src_mib=$(du -sm "$D/master" | cut -f1)

# round_begin: a place for this round's sources and copies, sources warm.
# case_begin CASE: a place for the case's source and copies, the source warm.
case_begin() {
	mkdir -p "$M/src"
	if [ $use_fs -eq 1 ]; then
		rm -f "$D/fs.img"
		truncate -s $(( (src_mib * 5 + 1024) ))M "$D/fs.img"
		mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$D/fs.img"
		LOOPDEV=$(losetup -f --show "$D/fs.img")
		mount "$LOOPDEV" "$M"
		mkdir "$M/src"
	fi
	cp -a "$D/master/$1" "$M/src/"
	sync
	find "$M/src" -type f -exec cat {} + > /dev/null
}
case_end() {
	if [ $use_fs -eq 1 ]; then
		umount "$M"
		losetup -d "$LOOPDEV"
		LOOPDEV=
		rm -f "$D/fs.img"
	else
		rm -rf "$M"
	fi
}

./cpd --socket "$SOCK" --config "${CPD_BENCH_CONFIG:-/dev/null}" --state-dir "$STATE/1" 2>"$D/cpd.log" & echo $! > "$D/pid"
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
export CPD_SOCKET=$SOCK

# settle: let the last run's data reach the disk first. sync returns with
# the loop device's own writes to its image still going on in the
# background, and a tool started meanwhile competed with them: the same
# tool measured 0.3 s or 2.5 s for 1 GiB depending on whether it ran first.
settle() {
	local i
	sync
	for i in $(seq 600); do
		[ "$(awk '/^(Dirty|Writeback):/ {s += $2} END {print s}' /proc/meminfo)" -lt 32768 ] &&
			break
		sleep 0.1
	done
	sleep 0.3
}

# warm MIB: touch MIB of memory and free it.
warm() {
	[ "$1" -gt 0 ] || return 0
	python3 -c '
import sys
n = int(sys.argv[1]) << 20
b = bytearray(n)
for i in range(0, n, 4096):
    b[i] = 1' "$1"
}

declare -A times
run() {	# case tool command... (the destination directory is $M/$2.$1)
	mkdir "$M/$2.$1"; settle
	warm "${WARM_MIB:-$(( $(du -sm "$M/src/$1" | cut -f1) * 2 + 512 ))}"
	local s e
	s=$(date +%s%N); "${@:3}" "$M/src/$1" "$M/$2.$1/" >/dev/null; e=$(date +%s%N)
	times[$1.$2]+="$(( (e - s) / 1000000 )) "
	diff -rq "$M/src/$1" "$M/$2.$1/$1" >/dev/null || { echo "$1/$2: copy differs" >&2; exit 1; }
}
tools=(cp cpd rsync)
for i in $(seq "$runs"); do
	for c in big small mixed; do
		case_begin $c
		for k in 0 1 2; do
			case ${tools[(i + k) % 3]} in
			cp)	run $c cp cp -a ;;
			cpd)	run $c cpd ./cpd-client copy -a ;;
			rsync)	run $c rsync rsync -a --whole-file ;;
			esac
		done
		case_end
	done
	echo "round $i done"
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
echo "($runs runs each, medians; fresh ext4 per case and round: $([ $use_fs -eq 1 ] && echo yes || echo no); all runs: $(for k in "${!times[@]}"; do printf '%s=[%s] ' "$k" "${times[$k]}"; done))"
