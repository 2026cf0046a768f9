#!/bin/bash
# cpd-backup.sh SRC_DIR BACKUP_ROOT
#
# Copy the directory tree SRC_DIR into BACKUP_ROOT/YYYY-MM-DD (today's
# date, created if missing), preserving what cp -a preserves, through the
# cpd daemon, talking Varlink on its socket with socat(1); cpd-client(1)
# is not needed. Every file is synced to disk before it is renamed into
# place. Files that cannot be copied are listed, and the rest is copied
# (keep_going). Exit status: 0 when everything was copied, 1 when the job
# failed, a file could not be copied, or the daemon could not be reached,
# 2 on a usage error.
#
# The socket is $CPD_SOCKET, or /run/cpd/io.cpd.Manager.
#
# File names that are not valid UTF-8 cannot be carried in JSON; cpd
# rejects such a call. See cpd-varlink(7).

set -euo pipefail
export LC_ALL=C		# work on bytes: ${#s} counts bytes, UTF-8 passes through
unset CDPATH

sock=${CPD_SOCKET:-/run/cpd/io.cpd.Manager}

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

# copy_tree SOURCE_JSON: run one Copy job of the tree and wait for its
# end; 0 when it is done and nothing failed.
copy_tree() {
	local msg reply last= state bytes total failed
	msg='{"method":"io.cpd.Manager.Copy","more":true,"parameters":{'
	msg+="\"sources\":[$1],\"destination\":$dest_json,\"archive\":true,"
	msg+="\"keep_going\":true,\"sync\":true,\"priority\":\"bulk\"}}"

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
	if [ "$state" != done ]; then
		echo "cpd-backup: job $state: $(field error_message "$last")" >&2
		return 1
	fi
	failed=$(sed -n -E 's/.*"files_failed"[[:space:]]*:[[:space:]]*([0-9]+).*/\1/p' <<<"$last")
	if [ "${failed:-0}" -gt 0 ]; then
		echo "cpd-backup: $failed files could not be copied:" >&2
		grep -o '"path":"\([^"\\]\|\\.\)*","error":"[A-Z0-9]*"' <<<"$last" |
			sed -e 's/"path":"//' -e 's/","error":"/: /' -e 's/"$//' -e 's|\\/|/|g' >&2
		return 1
	fi
	return 0
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

json_string "$src"
copy_tree "$json" || exit 1
echo "cpd-backup: $src copied to $dest/$(basename -- "$src")" >&2
