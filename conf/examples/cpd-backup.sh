#!/bin/bash
# cpd-backup.sh [OPTIONS] SRC_DIR BACKUP_ROOT
#
# A nightly snapshot backup through the cpd daemon: SRC_DIR is copied
# (as cp -a does) to BACKUP_ROOT/NAME, NAME being today's date
# (YYYY-MM-DD, or YYYY-MM-DDTHHMMSS when a snapshot of today exists).
# Each snapshot is a full tree, but a file unchanged since the previous
# snapshot (same size, mtime, mode, owner and xattrs) is hard-linked
# from it (cpd's --link-dest) instead of copied, so a snapshot costs the
# space of what changed.
#
# The snapshot is made under BACKUP_ROOT/.incomplete.NAME and renamed
# to NAME only when the job succeeded: a name of the form YYYY-MM-DD*
# always holds a complete snapshot, which the next run can link from. A
# failed run leaves its .incomplete.* directory for inspection; the next
# run removes it. Then the oldest snapshots are removed, keeping the
# newest --keep of them (only names of the form YYYY-MM-DD* count, so
# nothing else in BACKUP_ROOT is touched), and BACKUP_ROOT/latest is
# pointed at the new one.
#
# It needs cpd-client(1) and coreutils only, and talks to cpd on its
# socket: $CPD_SOCKET, or /run/cpd/io.cpd.Manager. Run it as a user who
# may read SRC_DIR (the daemon copies with the caller's credentials);
# one run at a time per BACKUP_ROOT (cpd-backup.service ensures that).
#
# Options:
#   -k, --keep N            snapshots to keep, the new one included
#                           (default 14; 0: never remove any)
#   -x, --exclude-from FILE rsync's filter patterns, one a line, for
#                           entries left out (cpd-client --exclude-from)
#   -e, --exclude PATTERN   one such pattern (repeatable)
#       --name NAME         the snapshot's name instead of the date; it
#                           must sort after the earlier ones (for
#                           rotation), e.g. 2026-12-06T0300
#       --no-sync           do not flush each file to disk before it
#                           appears (faster; a crash may lose the run)
#
# It prints a summary from the job's itemized counts (Job.changes), e.g.
#   cpd-backup: 2026-12-06: 2031 created, 0 updated, 0 metadata only,
#   120532 linked from 2026-12-05, 0 skipped; 121511 files of 9836014592
#   bytes, 0 failed (0 vanished), in 12.3 s; 1 old snapshots removed
# (created: new files and every directory; linked: unchanged files; the
# files and bytes are the whole snapshot's).
#
# Exit status: 0 the snapshot is complete; 1 it failed (the job failed,
# some files could not be copied and are listed, or the daemon refused):
# no snapshot was published; 2 usage error; 3 the daemon cannot be
# reached; 24 partial: some source files vanished while they were copied
# (as rsync's 24), the snapshot was published without them.

set -euo pipefail
export LC_ALL=C
unset CDPATH

usage() {
	echo "usage: cpd-backup.sh [-k N] [-x FILE] [-e PATTERN]... [--name NAME] [--no-sync] SRC_DIR BACKUP_ROOT" >&2
	exit 2
}
die() { echo "cpd-backup: $1" >&2; exit "${2:-1}"; }

keep=14 name='' sync=--sync filters=()
while [ $# -gt 0 ]; do
	case $1 in
	-k|--keep)		[ $# -ge 2 ] || usage; keep=$2; shift 2 ;;
	--keep=*)		keep=${1#*=}; shift ;;
	-x|--exclude-from)	[ $# -ge 2 ] || usage; filters+=(--exclude-from "$2"); shift 2 ;;
	--exclude-from=*)	filters+=(--exclude-from "${1#*=}"); shift ;;
	-e|--exclude)		[ $# -ge 2 ] || usage; filters+=(--exclude "$2"); shift 2 ;;
	--exclude=*)		filters+=(--exclude "${1#*=}"); shift ;;
	--name)			[ $# -ge 2 ] || usage; name=$2; shift 2 ;;
	--name=*)		name=${1#*=}; shift ;;
	--no-sync)		sync=--no-sync; shift ;;
	--)			shift; break ;;
	-*)			usage ;;
	*)			break ;;
	esac
done
[ $# -eq 2 ] || usage
[[ $keep =~ ^[0-9]+$ ]] || die "--keep: '$keep' is not a number" 2
snap_glob='[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'
# shellcheck disable=SC2053
[ -z "$name" ] || [[ $name == $snap_glob && $name != */* ]] ||
	die "--name: '$name' does not start with YYYY-MM-DD" 2
command -v cpd-client >/dev/null || die "cpd-client is not installed"
[ -d "$1" ] || die "$1: not a directory"
mkdir -p -- "$2"

# cpd takes absolute paths.
src=$(cd -- "$1" && pwd -P)
root=$(cd -- "$2" && pwd -P)

# The snapshots, oldest first (names sort by date).
snapshots() {
	local d
	for d in "$root"/$snap_glob; do
		[ -d "$d" ] && [ ! -L "$d" ] && printf '%s\n' "${d##*/}"
	done
	return 0
}

if [ -z "$name" ]; then
	name=$(date +%Y-%m-%d)
	[ ! -e "$root/$name" ] || name=$(date +%Y-%m-%dT%H%M%S)
fi
if [ -e "$root/$name" ] || [ -L "$root/$name" ]; then
	die "$root/$name exists already"
fi
prev=$(snapshots | tail -n 1)
tmp=$root/.incomplete.$name

# A failed run's leftovers; cpd-backup.service runs one at a time.
for d in "$root"/.incomplete.*; do
	[ ! -e "$d" ] || rm -rf -- "$d"
done

args=(--json copy -a --keep-going "$sync" --priority bulk --no-progress "${filters[@]}")
[ -z "$prev" ] || args+=(--link-dest "$root/$prev")
rc=0
out=$(cpd-client "${args[@]}" -- "$src" "$tmp") || rc=$?

# The job as cpd-client --json prints it: one member a line. Take the
# numbers and strings wanted; a failure's path and error go to failed[].
declare -A job=()
failed=() in_failures=0 fpath=
while IFS= read -r line; do
	if [[ $line =~ ^[[:space:]]*\"failures\":[[:space:]]*\[ ]]; then
		in_failures=1
	elif [ $in_failures = 1 ] && [[ $line =~ ^[[:space:]]*\] ]]; then
		in_failures=0
	elif [[ $line =~ ^[[:space:]]*\"([a-z_]+)\":[[:space:]]*(\"(([^\"\\]|\\.)*)\"|[-0-9]+|true|false) ]]; then
		key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
		if [[ $val == \"* ]]; then	# a string: undo the escapes of " and \
			val=${BASH_REMATCH[3]} val=${val//\\\"/\"} val=${val//\\\\/\\}
		fi
		if [ $in_failures = 1 ]; then
			case $key in
			path)	fpath=$val ;;
			error)	failed+=("$fpath: $val") ;;
			esac
		elif [ -z "${job[$key]+set}" ]; then
			job[$key]=$val		# the first: the job's own, not methods'
		fi
	fi
done <<<"$out"

if [ -z "${job[state]:-}" ]; then
	# No job: cpd-client said why on stderr (refused, unreachable, usage).
	rmdir -- "$tmp" 2>/dev/null || true
	die "no snapshot made (cpd-client exit status $rc)" $((rc == 0 ? 1 : rc))
fi
if [ "${job[state]}" != "done" ]; then
	die "job ${job[id]:-?} ${job[state]}: ${job[error_message]:-${job[error]:-}}; no snapshot published, see $tmp"
fi
nfail=${job[files_failed]:-0} nvan=${job[files_vanished]:-0}
if [ "$nfail" -gt "$nvan" ]; then
	echo "cpd-backup: $((nfail - nvan)) files could not be copied:" >&2
	printf '  %s\n' "${failed[@]}" >&2
	die "no snapshot published, see $tmp"
fi

mv -T -- "$tmp" "$root/$name"
ln -sfn -- "$name" "$root/latest"

# Rotation: remove the oldest beyond the newest $keep.
removed=0
if [ "$keep" -gt 0 ]; then
	mapfile -t all < <(snapshots)
	for ((i = 0; i < ${#all[@]} - keep; i++)); do
		rm -rf -- "${root:?}/${all[i]}"
		removed=$((removed + 1))
	done
fi

# The summary, from the job's counts.
c() { echo "${job[$1]:-0}"; }
usec=$(($(c finished_usec) - $(c started_usec)))
[ "$usec" -ge 0 ] || usec=0
summary="$name: $(c created) created, $(c updated) updated, $(c metadata) metadata only"
summary+=", $(c linked) linked${prev:+ from $prev}, $(c skipped) skipped"
summary+="; $(c files_done) files of $(c bytes_done) bytes, $nfail failed ($nvan vanished)"
summary+=", in $((usec / 1000000)).$((usec / 100000 % 10)) s; $removed old snapshots removed"
echo "cpd-backup: $summary"

if [ "$nvan" -gt 0 ]; then
	echo "cpd-backup: partial: $nvan source files vanished during the run:" >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 24
fi
exit 0
