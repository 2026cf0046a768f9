#!/bin/bash
# Benchmark: incremental copies and snapshots (issue 17's table), cpd
# against rsync in the same run, medians of RUNS rounds and ratios.
#
#   tests/bench/backup.sh [RUNS] [DIR]        (as root, on an idle machine)
#
# Cases (file counts and sizes times SCALE, default 1; SCALE=0.1 for a
# quick run):
#   uptodate-10k, uptodate-100k  re-run onto an up-to-date copy of 10,000
#       (100,000) files of 1..4 KiB: cpd-client copy -a --update=quick
#       against rsync -a; also plain cpd-client copy -a (every file
#       copied again, as before update existed: "cpd all")
#   changed-1pct    1% of the 100,000 files rewritten (new content and
#       mtime) since the copy; cpd's Job.changes must say exactly those
#       were updated, and its methods that only they were copied
#   linkdest-100k   a snapshot of an unchanged 100,000-file tree with
#       --link-dest to the previous one, against rsync -a --link-dest
#   checksum-1g     --update=checksum on an up-to-date 1 GiB tree (64 x
#       16 MiB), against rsync -a -c
#   rss-1m          the daemon's peak RSS (VmHWM, a daemon started for
#       this case) for a --update=quick re-run onto an up-to-date tree of
#       1,000,000 1-byte files; rsync -a timed beside it
#
# Each case of each round gets a fresh loop-mounted ext4 (as root; see
# copy-tree.sh for why: ext4 slows down creating files right after mass
# deletions), its trees made with cp -a (so both tools' destinations are
# up to date with the same nanosecond mtimes) and their metadata (and for
# checksum-1g their data) read into the caches; the tools take turns at
# going first. A cpd option the daemon refuses (not built yet) shows as
# "refused". CPD_BENCH_CONFIG names a cpd.conf for the daemon.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
base=${2:-$PWD/build/bench}
SCALE=${SCALE:-1}
CASES=${CASES:-uptodate-10k uptodate-100k changed-1pct linkdest-100k checksum-1g rss-1m}
mkdir -p "$base"
D=$(mktemp -d "$base/backup.XXXXXX")
SOCK=$D/cpd.sock
M=$D/fs
LOOPDEV=
STATE=$(mktemp -d /tmp/cpd-bench-state.XXXXXX)
DPID=
daemon_stop() {
	[ -z "$DPID" ] || { kill "$DPID" 2>/dev/null || true; wait "$DPID" 2>/dev/null || true; }
	DPID=
}
cleanup() {
	daemon_stop
	rm -rf "$STATE"
	mountpoint -q "$M" && umount "$M"
	[ -z "$LOOPDEV" ] || losetup -d "$LOOPDEV"
	rm -rf "$D"
}
trap cleanup EXIT
use_fs=0
[ "$(id -u)" -eq 0 ] && command -v mkfs.ext4 >/dev/null && use_fs=1
command -v rsync >/dev/null || { echo "rsync is not installed" >&2; exit 1; }
scaled() { awk -v n="$1" -v s="$SCALE" 'BEGIN { v = int(n * s); print v < 1 ? 1 : v }'; }
N10K=$(scaled 10000) N100K=$(scaled 100000) N1M=$(scaled 1000000)
BIGN=$(scaled 64) BIGMIB=16

# mktree DIR COUNT MIN MAX: COUNT files of MIN..MAX bytes, 100 a directory,
# the directories side by side. (Two levels, 1,000 directories of 10,
# fail: the walk's directory fds run out; see the README.)
mktree() {
	/usr/bin/python3 - "$@" <<'PY'
import os, random, sys
root, n, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
random.seed(n)
block = os.urandom(1 << 16)
for i in range(n):
    d = os.path.join(root, "d%05d" % (i // 100))
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    size = random.randint(lo, hi)
    with open(os.path.join(d, "f%07d" % i), "wb") as f:
        f.write(block[i % 1024: i % 1024 + size])
PY
}
echo "creating data in $D/master (SCALE=$SCALE)"
mkdir -p "$D/master"
mktree "$D/master/t10k" "$N10K" 1024 4096
mktree "$D/master/t100k" "$N100K" 1024 4096
mkdir -p "$D/master/t1g"
for i in $(seq "$BIGN"); do head -c "${BIGMIB}M" /dev/urandom >"$D/master/t1g/f$i"; done
case " $CASES " in *" rss-1m "*) mktree "$D/master/t1m" "$N1M" 1 1 ;; esac

# fs_begin MIB INODES: a fresh file system at $M.
fs_begin() {
	mkdir -p "$M"
	if [ $use_fs -eq 1 ]; then
		rm -f "$D/fs.img"
		truncate -s "$1"M "$D/fs.img"
		mkfs.ext4 -q -F -N "$2" -E lazy_itable_init=0,lazy_journal_init=0 "$D/fs.img"
		LOOPDEV=$(losetup -f --show "$D/fs.img")
		mount "$LOOPDEV" "$M"
	fi
}
fs_end() {
	if [ $use_fs -eq 1 ]; then
		umount "$M"
		losetup -d "$LOOPDEV"
		LOOPDEV=
		rm -f "$D/fs.img"
	else
		rm -rf "$M"
	fi
}
# settle: the last writes on disk before a tool starts (see copy-tree.sh).
settle() {
	sync
	for _ in $(seq 600); do
		[ "$(awk '/^(Dirty|Writeback):/ {s += $2} END {print s}' /proc/meminfo)" -lt 32768 ] &&
			break
		sleep 0.1
	done
	sleep 0.3
}
# fs_for TREE COPIES: a fresh file system holding src (TREE) and COPIES
# more cp -a copies of it; metadata warm.
fs_for() {
	local mib files
	mib=$(du -sm "$D/master/$1" | cut -f1)
	files=$(find "$D/master/$1" | wc -l)
	fs_begin $(( (mib + files * 4 / 1024) * ($2 + 2) + 512 )) $(( files * ($2 + 2) + 10000 ))
	cp -a "$D/master/$1" "$M/src"
}
warm_meta() { find "$@" -printf '%s\n' >/dev/null; }	# stats every entry

daemon_start() {
	./cpd --socket "$SOCK" --config "${CPD_BENCH_CONFIG:-/dev/null}" \
		--state-dir "$STATE/$RANDOM" 2>>"$D/cpd.log" &
	DPID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && ./cpd-client -s "$SOCK" daemon-status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "the daemon did not start" >&2; exit 1
}
export CPD_SOCKET=$SOCK XDG_CONFIG_HOME=$D/xdg

declare -A times
# timed CASE TOOL COMMAND...: run it, add its ms to times[CASE.TOOL]
# ("refused" when the daemon refuses an option); its stdout in $D/out.
timed() {
	local c=$1 t=$2 s e rc=0
	shift 2
	settle
	s=$(date +%s%N)
	"$@" >"$D/out" 2>"$D/err" || rc=$?
	e=$(date +%s%N)
	if [ $rc -ne 0 ]; then
		if grep -q 'invalid parameter' "$D/err"; then
			times[$c.$t]=refused
			return 0
		fi
		echo "$c/$t failed ($rc): $(cat "$D/err")" >&2
		exit 1
	fi
	[ "${times[$c.$t]:-}" = refused ] || times[$c.$t]+="$(( (e - s) / 1000000 )) "
}
cpdc() { ./cpd-client copy --no-progress "$@"; }
# jfield KEY: the first number KEY of the --json job in $D/out.
jfield() { sed -n 's/^ *"'"$1"'": \([0-9]*\),\{0,1\}$/\1/p' "$D/out" | head -n 1; }
notes=()

# One round of each case; $1 is the round, its parity picks who goes first.
case_uptodate() {	# CASE TREE ROUND
	local c=$1
	fs_for "$2" 2
	cp -a "$M/src" "$M/cpd"; cp -a "$M/src" "$M/rsync"; cp -a "$M/src" "$M/all"
	mkdir "$M/c" "$M/r" "$M/a"; mv "$M/cpd" "$M/c/src"; mv "$M/rsync" "$M/r/src"; mv "$M/all" "$M/a/src"
	warm_meta "$M"
	local order=(cpd rsync all)
	[ $(($3 % 2)) -eq 0 ] || order=(rsync all cpd)
	for t in "${order[@]}"; do
		case $t in
		cpd)	timed "$c" cpd cpdc -a --update=quick "$M/src" "$M/c/" ;;
		rsync)	timed "$c" rsync rsync -a "$M/src" "$M/r/" ;;
		all)	timed "$c" all cpdc -a "$M/src" "$M/a/" ;;
		esac
	done
	fs_end
}
case_changed() {	# ROUND
	local c=changed-1pct k
	fs_for t100k 1
	mkdir "$M/c" "$M/r"
	cp -a "$M/src" "$M/c/src"; cp -a "$M/src" "$M/r/src"
	# 1%: every 100th file rewritten, new content, same size, new mtime.
	k=0
	while IFS= read -r f; do
		head -c "$(stat -c %s "$f")" /dev/urandom >"$f.new" && mv "$f.new" "$f"
		k=$((k + 1))
	done < <(find "$M/src" -type f -name 'f*00' | sort)
	warm_meta "$M"
	local order=(cpd rsync)
	[ $(($1 % 2)) -eq 0 ] || order=(rsync cpd)
	for t in "${order[@]}"; do
		case $t in
		cpd)	timed $c cpd cpdc --json -a --update=quick "$M/src" "$M/c/"
			if [ "${times[$c.cpd]}" != refused ]; then
				# changes.updated: the files rewritten; the data
				# paths' counts (methods): the files whose data was copied.
				local up cr data
				up=$(jfield updated) cr=$(jfield created)
				data=$(( $(jfield reflink) + $(jfield copy_file_range) + $(jfield splice) + $(jfield readwrite) ))
				[ "$up" = "$k" ] && [ "$cr" = 0 ] && [ "$data" = "$k" ] ||
					notes+=("changed-1pct round $1: $k files changed; cpd's changes.updated $up, created $cr, files copied (methods) $data")
			fi ;;
		rsync)	timed $c rsync rsync -a "$M/src" "$M/r/" ;;
		esac
	done
	diff -rq "$M/src" "$M/r/src" >/dev/null || { echo "rsync's copy differs" >&2; exit 1; }
	[ "${times[$c.cpd]}" = refused ] || diff -rq "$M/src" "$M/c/src" >/dev/null ||
		{ echo "cpd's copy differs" >&2; exit 1; }
	fs_end
}
case_linkdest() {	# ROUND
	local c=linkdest-100k
	fs_for t100k 3
	cp -a "$M/src" "$M/prev"
	warm_meta "$M"
	local order=(cpd rsync)
	[ $(($1 % 2)) -eq 0 ] || order=(rsync cpd)
	for t in "${order[@]}"; do
		case $t in
		cpd)	timed $c cpd cpdc -a --link-dest "$M/prev" "$M/src" "$M/snap-cpd" ;;
		rsync)	timed $c rsync rsync -a --link-dest="$M/prev" "$M/src/" "$M/snap-rsync/" ;;
		esac
	done
	if [ "${times[$c.cpd]}" != refused ]; then
		local f
		f=$(find "$M/snap-cpd" -type f -links 1 | head -n 3)
		[ -z "$f" ] || notes+=("linkdest-100k round $1: cpd copied instead of linking: $f")
	fi
	fs_end
}
case_checksum() {	# ROUND
	local c=checksum-1g
	fs_for t1g 2
	mkdir "$M/c" "$M/r"
	cp -a "$M/src" "$M/c/src"; cp -a "$M/src" "$M/r/src"
	settle
	find "$M" -type f -exec cat {} + >/dev/null
	local order=(cpd rsync)
	[ $(($1 % 2)) -eq 0 ] || order=(rsync cpd)
	for t in "${order[@]}"; do
		case $t in
		cpd)	timed $c cpd cpdc -a --update=checksum "$M/src" "$M/c/" ;;
		rsync)	timed $c rsync rsync -a -c "$M/src" "$M/r/" ;;
		esac
	done
	fs_end
}
rss=()
case_rss() {	# ROUND
	local c=rss-1m
	fs_for t1m 2
	mkdir "$M/c" "$M/r"
	cp -a "$M/src" "$M/c/src"; cp -a "$M/src" "$M/r/src"
	warm_meta "$M"
	daemon_stop; daemon_start
	local order=(cpd rsync)
	[ $(($1 % 2)) -eq 0 ] || order=(rsync cpd)
	for t in "${order[@]}"; do
		case $t in
		cpd)	timed $c cpd cpdc -a --update=quick "$M/src" "$M/c/"
			[ "${times[$c.cpd]}" = refused ] ||
				rss+=("$(awk '/^VmHWM:/ {print int($2 / 1024 + 0.5)}' /proc/$DPID/status)") ;;
		rsync)	timed $c rsync rsync -a "$M/src" "$M/r/" ;;
		esac
	done
	daemon_stop; daemon_start
	fs_end
}

daemon_start
for i in $(seq "$runs"); do
	for c in $CASES; do
		case $c in
		uptodate-10k)	case_uptodate "$c" t10k "$i" ;;
		uptodate-100k)	case_uptodate "$c" t100k "$i" ;;
		changed-1pct)	case_changed "$i" ;;
		linkdest-100k)	case_linkdest "$i" ;;
		checksum-1g)	case_checksum "$i" ;;
		rss-1m)		case_rss "$i" ;;
		esac
	done
	echo "round $i done"
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() {	# KEY: the median, or "refused", or "-"
	local v=${times[$1]:-}
	case $v in
	'')	echo - ;;
	refused) echo refused ;;
	*)	echo "$v" | median ;;
	esac
}
ratio() { case "$1$2" in *[!0-9]*) echo - ;; *) awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / (b ? b : 1) }' ;; esac; }
echo
echo "| case (SCALE=$SCALE) | cpd ms | rsync ms | cpd / rsync | target | cpd all ms |"
echo "|---|--:|--:|--:|---|--:|"
for c in $CASES; do
	case $c in
	uptodate-*|changed-1pct) target="<= 0.3" ;;
	linkdest-100k|checksum-1g) target="<= 0.5" ;;
	rss-1m) target="RSS <= 64 MiB" ;;
	esac
	a=$(ms "$c.cpd") b=$(ms "$c.rsync")
	printf '| %s | %s | %s | **%s** | %s | %s |\n' "$c" "$a" "$b" "$(ratio "$a" "$b")" "$target" "$(ms "$c.all")"
done
[ ${#rss[@]} -eq 0 ] || echo "rss-1m: daemon VmHWM after each re-run (fresh daemon): ${rss[*]} MiB ($N1M files)"
echo "($runs rounds, medians; fresh ext4 per case and round: $([ $use_fs -eq 1 ] && echo yes || echo no);" \
	"cpd all: copy -a without --update, every file copied again)"
echo "all runs: $(for k in "${!times[@]}"; do printf '%s=[%s] ' "$k" "${times[$k]}"; done)"
for n in "${notes[@]}"; do echo "NOTE: $n"; done
