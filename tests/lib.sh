# Helpers sourced by tests/integration/*.sh. Each test is a standalone
# bash script: exit 0 pass, 1 fail, 77 skip (print "SKIP: reason" first).
set -euo pipefail
: "${CPD_BIN:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
CPD="$CPD_BIN/cpd"
CLIENT="$CPD_BIN/cpd-client"
T=$(mktemp -d /tmp/cpd-test.XXXXXX)
chmod 755 "$T"
export CPD_SOCKET="$T/io.cpd.Manager"
DAEMON_PID=
DAEMON_LOG="$T/daemon.log"

cleanup() {
	local rc=$?
	stop_daemon || true
	if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -f "$DAEMON_LOG" ]; then
		echo "--- daemon log (tail)"; tail -n 30 "$DAEMON_LOG"
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root: $*"; }

# start_daemon [cpd options...]: run cpd on $CPD_SOCKET, wait until it answers.
start_daemon() {
	"$CPD" --socket "$CPD_SOCKET" --config /dev/null -d "$@" >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	local i
	for i in $(seq 100); do
		[ -S "$CPD_SOCKET" ] && "$CLIENT" daemon-status >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$DAEMON_LOG"; fail "daemon died at start"; }
		sleep 0.05
	done
	fail "daemon did not come up"
}

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	local rc=0
	wait "$DAEMON_PID" 2>/dev/null || rc=$?
	DAEMON_PID=
	return $rc
}

# varlink_call JSON: send one raw Varlink message, print the replies (NUL -> newline).
varlink_call() {
	printf '%s\0' "$1" | socat -t 5 - "UNIX-CONNECT:$CPD_SOCKET" | tr '\0' '\n'
}

# mkfile PATH SIZE: a file of SIZE bytes (suffixes K M G) of pseudo-random data.
mkfile() {
	head -c "$2" /dev/urandom > "$1" 2>/dev/null || fail "mkfile $1"
	# head -c understands K/M/G as KiB/MiB/GiB
}

same() { cmp -s "$1" "$2" || fail "content differs: $1 $2"; }
no_temporaries() {	# DIR: no leftover .cpd-tmp.* files
	local left
	left=$(find "$1" -name '.cpd-tmp.*' 2>/dev/null | head -n 3)
	[ -z "$left" ] || fail "temporaries left: $left"
}
