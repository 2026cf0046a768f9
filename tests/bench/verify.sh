#!/bin/bash
# Benchmark: what --verify costs. Prints markdown tables.
#
#   tests/bench/verify.sh [RUNS] [DIR]
#
# Warm: the same copy (cpd-client copy -r) with and without --verify, of
# one BIG_MIB file (default 1024) and of a tree of TREE_FILES files
# (default 4000) of log-uniform sizes 1 KiB..1 MiB (about 150 KiB each),
# the source in the page cache. Each run gets a fresh ext4 (a loop-mounted
# image under DIR, made anew: the source is put in, synced and read back
# into the page cache), the two take turns at going first, and before
# each the last one's data is written out. The same with --sync on both
# sides too: a plain copy ends with its data still in the page cache,
# while a verified one has written it and read it back from the disk, so
# the first ratio is mostly the disk's time; with --sync both write it.
# Prints each one's median and the ratios verify / without (the issue's
# target: <= 1.3).
#
# Cold: a fresh ext4 on a loop device that reads its image with direct
# I/O (losetup --direct-io=on: the image file's page cache does not stand
# in for the disk), the source synced and all caches dropped
# (drop_caches), then one copy with --verify. The daemon's debug log says
# how long the copy's read back took (copy_verify.c: written back first,
# then read with O_DIRECT in 8 MiB reads, one at a time); that bandwidth
# is compared with fio's sequential read of the source before the copy
# and of the copy after it (their mean), on the same device: O_DIRECT, 1 MiB blocks at queue depth 16 (libaio: what the
# device gives), and 8 MiB blocks at depth 1 (psync: the read back's own
# pattern). The issue's target: >= 80% of the device's.
#
# Prerequisites: root (loop devices, drop_caches), mkfs.ext4, losetup,
# and fio (Debian: apt-get install fio). Without fio the cold case uses
# dd iflag=direct bs=8M as the reference, and says so.
# Not part of make check: wall-clock numbers belong here, not in tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
base=${2:-$PWD/build/bench}
[ "$(id -u)" -eq 0 ] || { echo "verify.sh needs root (loop devices, drop_caches)" >&2; exit 1; }
command -v mkfs.ext4 >/dev/null || { echo "verify.sh needs mkfs.ext4" >&2; exit 1; }
mkdir -p "$base"
D=$(mktemp -d "$base/verify.XXXXXX")
M=$D/fs
LOOPDEV=
STATE=$(mktemp -d /tmp/cpd-bench-state.XXXXXX)	# the journal off the measured disk
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	mountpoint -q "$M" 2>/dev/null && umount "$M"
	[ -z "$LOOPDEV" ] || losetup -d "$LOOPDEV"
	rm -rf "$D" "$STATE"
}
trap cleanup EXIT

echo "creating data in $D/master"
mkdir -p "$D/master/big" "$D/master/tree"
head -c "${BIG_MIB:-1024}M" /dev/urandom > "$D/master/big/file"
/usr/bin/python3 - "$D/master/tree" "${TREE_FILES:-4000}" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
block = os.urandom(1 << 20)
random.seed(1)
total = 0
for i in range(n):
    size = int(2 ** random.uniform(10, 20))     # 1 KiB .. 1 MiB, log-uniform
    d = os.path.join(root, "d%02d" % (i % 40))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        o = i % 4096
        f.write((block[o:] + block[:o])[:size])
    total += size
print("tree: %d files, %d MiB" % (n, total >> 20))
PY

# fs_begin [LOSETUP_OPTION]: a fresh ext4 mounted on $M.
fs_begin() {
	local mib
	mib=$(du -sm "$D/master" | cut -f1)
	truncate -s $(( mib * 3 + 1024 ))M "$D/fs.img"
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$D/fs.img"
	LOOPDEV=$(losetup -f --show "$@" "$D/fs.img")
	mkdir -p "$M"
	mount "$LOOPDEV" "$M"
}
fs_end() {
	umount "$M"
	losetup -d "$LOOPDEV"
	LOOPDEV=
	rm -f "$D/fs.img"
}

# settle: the last run's data on the disk, as copy-tree.sh does.
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

# daemon NAME [cpd options]: a daemon on $D/NAME.sock, logging to $D/NAME.log.
daemon() {
	local name=$1
	shift
	./cpd --socket "$D/$name.sock" --config "${CPD_BENCH_CONFIG:-/dev/null}" \
		--state-dir "$STATE/$name" "$@" 2>"$D/$name.log" &
	PIDS+=($!)
	for _ in $(seq 50); do [ -S "$D/$name.sock" ] && break; sleep 0.1; done
}

# ---- Warm.
daemon warm
export CPD_SOCKET=$D/warm.sock
declare -A times
run() {	# case kind (plain, verify, sync, sync+verify)
	local s e opt=()
	case $2 in
	verify) opt=(--verify) ;;
	sync) opt=(--sync) ;;
	sync+verify) opt=(--sync --verify) ;;
	esac
	fs_begin
	cp -a "$D/master/$1" "$M/src"
	settle
	find "$M/src" -type f -exec cat {} + > /dev/null
	mkdir "$M/dst"
	s=$(date +%s%N)
	./cpd-client copy -r "${opt[@]}" "$M/src" "$M/dst/"
	e=$(date +%s%N)
	times[$1.$2]+="$(( (e - s) / 1000000 )) "
	diff -rq "$M/src" "$M/dst/src" >/dev/null || { echo "$1/$2: copy differs" >&2; exit 1; }
	fs_end
}
kinds=(plain verify sync sync+verify)
for i in $(seq "$runs"); do
	for c in big tree; do
		for k in 0 1 2 3; do run $c "${kinds[(i + k) % 4]}"; done
	done
	echo "warm round $i done"
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "| warm | plain ms | --verify ms | ratio | --sync ms | --sync --verify ms | ratio |"
echo "|---|--:|--:|--:|--:|--:|--:|"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
for c in big tree; do
	p=$(echo "${times[$c.plain]}" | median)
	v=$(echo "${times[$c.verify]}" | median)
	sp=$(echo "${times[$c.sync]}" | median)
	sv=$(echo "${times[$c.sync+verify]}" | median)
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$c" "$p" "$v" "$(ratio "$v" "$p")" \
	    "$sp" "$sv" "$(ratio "$sv" "$sp")"
done
echo "($runs runs each, medians; all runs: $(for k in "${!times[@]}"; do printf '%s=[%s] ' "$k" "${times[$k]}"; done))"

# ---- Cold.
daemon cold -d
export CPD_SOCKET=$D/cold.sock
mbps() { awk -v b="$1" -v us="$2" 'BEGIN{printf "%.0f", b / us}'; }	# bytes, us -> MB/s
# fio_bw FILE BS DEPTH ENGINE: MB/s of an O_DIRECT sequential read of FILE.
fio_bw() {
	fio --name=seq --filename="$1" --readonly --rw=read --direct=1 --bs="$2" \
		--iodepth="$3" --ioengine="$4" --output-format=json 2>/dev/null |
		/usr/bin/python3 -c 'import json, sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["bw_bytes"] / 1e6))'
}
dd_bw() {	# FILE: MB/s of dd iflag=direct bs=8M
	local s e
	s=$(date +%s%N)
	dd if="$1" of=/dev/null bs=8M iflag=direct status=none
	e=$(date +%s%N)
	awk -v b="$(stat -c %s "$1")" -v ns="$((e - s))" 'BEGIN{printf "%.0f", b * 1000 / ns}'
}
# reference FILE: the device's bandwidth reading FILE, added to f1 and f8
# (fio) or d8 (dd), which are halved once both files were read.
reference() {
	if command -v fio >/dev/null; then
		f1=$(( f1 + $(fio_bw "$1" 1M 16 libaio) ))
		f8=$(( f8 + $(fio_bw "$1" 8M 1 psync) ))
	else
		d8=$(( d8 + $(dd_bw "$1") ))
	fi
}
echo
if command -v fio >/dev/null; then
	echo "| cold, ${BIG_MIB:-1024} MiB | read back MB/s | fio 1M qd16 MB/s | ratio | fio 8M qd1 MB/s | ratio | written back first, ms |"
	echo "|---|--:|--:|--:|--:|--:|--:|"
else
	echo "(fio is missing: the reference is dd iflag=direct bs=8M)"
	echo "| cold, ${BIG_MIB:-1024} MiB | read back MB/s | dd direct 8M MB/s | ratio | written back first, ms |"
	echo "|---|--:|--:|--:|--:|"
fi
for i in $(seq "$runs"); do
	fs_begin --direct-io=on
	cp "$D/master/big/file" "$M/file"
	sync
	# The reference on both sides of the copy, their mean: the source
	# before (the same size, on the same device), the copy after. This
	# disk's speed drifts with the host's load from one minute to the next.
	f1=0 f8=0 d8=0
	reference "$M/file"
	echo 3 > /proc/sys/vm/drop_caches
	n0=$(wc -l < "$D/cold.log")
	./cpd-client copy --verify "$M/file" "$M/copy"
	cmp -s "$M/file" "$M/copy" || { echo "cold: copy differs" >&2; exit 1; }
	line=$(tail -n +"$((n0 + 1))" "$D/cold.log" | grep -m1 'verify: [0-9]* bytes read back')
	bytes=$(sed -E 's/.*verify: ([0-9]+) bytes.*/\1/' <<<"$line")
	us=$(sed -E 's/.* read back in ([0-9]+) us.*/\1/' <<<"$line")
	wb=$(sed -E 's/.*written back in ([0-9]+) us.*/\1/' <<<"$line")
	rb=$(mbps "$bytes" "$us")
	reference "$M/copy"
	f1=$((f1 / 2)) f8=$((f8 / 2)) d8=$((d8 / 2))
	if command -v fio >/dev/null; then
		printf '| run %s | %s | %s | %s | %s | %s | %s |\n' "$i" "$rb" "$f1" \
		    "$(awk -v a="$rb" -v b="$f1" 'BEGIN{printf "%.2f", a/b}')" "$f8" \
		    "$(awk -v a="$rb" -v b="$f8" 'BEGIN{printf "%.2f", a/b}')" "$((wb / 1000))"
	else
		printf '| run %s | %s | %s | %s | %s |\n' "$i" "$rb" "$d8" \
		    "$(awk -v a="$rb" -v b="$d8" 'BEGIN{printf "%.2f", a/b}')" "$((wb / 1000))"
	fi
	fs_end
done
