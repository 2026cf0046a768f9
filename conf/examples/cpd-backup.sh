#!/bin/bash
# cpd-backup.sh SRC_DIR BACKUP_ROOT
#
# Copy the regular files directly inside SRC_DIR into
# BACKUP_ROOT/YYYY-MM-DD (today's date, created if missing) through the
# cpd daemon, talking Varlink on its socket with socat(1); cpd-client(1)
# is not needed. Every file is synced to disk before it is renamed into
# place. Exit status: 0 when every copy job is done, 1 when one failed or
# the daemon could not be reached, 2 on a usage error.
#
# The socket is $CPD_SOCKET, or /run/cpd/io.cpd.Manager.
#
# cpd cannot copy directory trees yet, so only the top-level regular
# files are copied (subdirectories, symbolic links and special files are
# skipped). Once Copy can copy recursively, pass SRC_DIR itself as the
# only source instead of listing its files.
#
# File names that are not valid UTF-8 cannot be carried in JSON; cpd
# rejects such a call. See cpd-varlink(7).

set -euo pipefail
export LC_ALL=C		# work on bytes: ${#s} counts bytes, UTF-8 passes through
unset CDPATH

sock=${CPD_SOCKET:-/run/cpd/io.cpd.Manager}
# A message, NUL included, may not exceed 64 KiB, and a job may have at
# most 4096 sources; stay below both.
max_message=60000 max_sources=4000

die() { echo "cpd-backup: $*" >&2; exit 1; }

# Control characters 1..31 and their JSON escapes, for json_string.
ctl=() ctl_esc=()
for ((i = 1; i < 32; i++)); do
	printf -v hex '%02x' "$i"
	printf -v 'ctl[i]' "\\x$hex"
	ctl_esc[i]="\\u00$hex"
done

# json_string STRING: set $json to STRING as a JSON string literal.
json_string() {
	local s=$1 bs='\' q='"' i
	s=${s//"$bs"/"$bs$bs"}
	s=${s//"$q"/"$bs$q"}
	if [[ $s == *[$'\001'-$'\037']* ]]; then
		for ((i = 1; i < 32; i++)); do
			s=${s//"${ctl[i]}"/"${ctl_esc[i]}"}
		done
	fi
	json="\"$s\""
}

# field NAME REPLY: print the string value of the last "NAME" member of
# the JSON text REPLY (escapes for quote, backslash and slash undone).
field() {
	sed -n -E 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*"(([^"\\]|\\.)*)".*/\1/p' <<<"$2" |
		sed -e 's/\\"/"/g' -e 's|\\/|/|g' -e 's/\\\\/\\/g'
}

# copy_batch SOURCES_JSON: run one Copy job for the comma-separated JSON
# strings in SOURCES_JSON and wait for its end; 0 when it is done.
copy_batch() {
	local msg reply last= state bytes total
	msg='{"method":"io.cpd.Manager.Copy","more":true,"parameters":{'
	msg+="\"sources\":[$1],\"destination\":$dest_json,"
	msg+="\"sync\":true,\"priority\":\"bulk\",\"umask\":$((8#$(umask)))}}"

	# One reply per NUL-terminated message; "continues":true on all but
	# the last. cpd closes the connection after the last reply, which
	# ends socat (-t: wait that long for it after our end of input).
	while IFS= read -r reply; do
		last=$reply
		if [ -t 2 ]; then
			bytes=$(sed -n -E 's/.*"bytes_done"[[:space:]]*:[[:space:]]*([0-9]+).*/\1/p' <<<"$reply")
			total=$(sed -n -E 's/.*"bytes_total"[[:space:]]*:[[:space:]]*([0-9]+).*/\1/p' <<<"$reply")
			[ -z "$bytes" ] || printf '\r%s of %s bytes' "$bytes" "$total" >&2
		fi
	done < <(printf '%s\0' "$msg" |
		socat -t 31536000 - "UNIX-CONNECT:$sock" | tr '\0' '\n')
	[ ! -t 2 ] || printf '\n' >&2

	[ -n "$last" ] || die "no reply from cpd at $sock"
	state=$(field state "$last")
	if [ -z "$state" ]; then	# a Varlink error instead of a job
		die "cpd: $(field error "$last"): $last"
	fi
	if grep -Eq '"continues"[[:space:]]*:[[:space:]]*true' <<<"$last"; then
		die "connection to cpd lost while the job was $state"
	fi
	[ "$state" = done ] && return 0
	echo "cpd-backup: job $state: $(field error_message "$last")" >&2
	return 1
}

[ $# -eq 2 ] || { echo "usage: cpd-backup.sh SRC_DIR BACKUP_ROOT" >&2; exit 2; }
command -v socat >/dev/null || die "socat is not installed"
[ -d "$1" ] || die "$1: not a directory"

# cpd takes absolute paths only.
src=$(cd -- "$1" && pwd -P)
day=$(date +%Y-%m-%d)
mkdir -p -- "$2/$day"
dest=$(cd -- "$2/$day" && pwd -P)
json_string "$dest/"		# the trailing "/": copy into it
dest_json=$json

batch= n=0 count=0 failed=0
while IFS= read -r -d '' file; do
	json_string "$file"
	item=$json
	# Start a new job before the message or the job would grow too large.
	if [ -n "$batch" ] && { [ $n -ge $max_sources ] ||
	   [ $((${#batch} + ${#item} + ${#dest_json} + 200)) -gt $max_message ]; }; then
		copy_batch "$batch" || failed=1
		batch= n=0
	fi
	batch+=${batch:+,}$item
	n=$((n + 1)) count=$((count + 1))
done < <(find "$src" -mindepth 1 -maxdepth 1 -type f -print0 | sort -z)

if [ -z "$batch" ]; then
	echo "cpd-backup: no regular files in $src" >&2
	exit 0
fi
copy_batch "$batch" || failed=1
[ $failed -eq 0 ] || exit 1
echo "cpd-backup: $count files copied to $dest" >&2
