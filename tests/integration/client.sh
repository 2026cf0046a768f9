#!/bin/bash
# client: cpd-client against a real daemon. copy (relative paths from the
# working directory, several sources into "DIR/", --detach, --json,
# --no-clobber), list, status, wait, cancel and daemon-status, and the exit
# codes: 0 ok, 1 job failed or daemon error, 2 usage, 3 no daemon (the
# message names the socket and says what to do, for every command, with
# --json too); a failed copy's message is cp's, naming the path as given.
. "$(dirname "$0")/../lib.sh"
[ -x "$CLIENT" ] || skip "cpd-client not built"

start_daemon_raw
mkdir -p "$T/work/sub" "$T/work/dir"
cd "$T/work"
mkfile a 20K
mkfile b 1
mkfile c $((300 * 1024 + 5))

# run EXPECTED-STATUS CMD...: run the client; stdout in $out, stderr in $err.
run() {
	local want=$1 rc=0
	shift
	"$CLIENT" "$@" >"$T/out" 2>"$T/err" || rc=$?
	out=$(cat "$T/out") err=$(cat "$T/err")
	[ "$rc" = "$want" ] ||
		fail "cpd-client $*: exit $rc, want $want; stdout: $out; stderr: $err"
}
json() {	# EXPR: evaluate a python expression on the JSON in $out (as j)
	py -c 'import json, sys; j = json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1" <<<"$out" ||
		fail "not JSON or no $1: $out"
}

# copy, relative paths.
run 0 copy a sub/a.copy
same a sub/a.copy
expect_eq "copy: mode" "$(file_mode sub/a.copy)" "$(file_mode a)"
no_temporaries "$T/work"

# Several sources into DIR/.
run 0 copy a b c dir/
for f in a b c; do same "$f" "dir/$f"; done
expect_eq "copy into dir/: entries" "$(ls -A dir | tr '\n' ' ')" "a b c "

# A failed job: exit 1, the reason on stderr.
run 1 copy missing-file sub/x
expect_eq "failed copy: stderr as cp's" "$err" \
    "cpd-client: cannot stat 'missing-file': No such file or directory"
[ ! -e sub/x ] || fail "failed copy: destination created"
# --json keeps the job id and the errno name.
run 1 --json copy missing-file sub/x
[[ "$err" == *"failed: cannot stat 'missing-file'"*"(ENOENT)"* ]] ||
	fail "failed copy --json: stderr: $err"

# --no-clobber, -n: cp 9.1's, the existing file is kept and the copy
# exits 0 (until the daemon has update=none it refuses it: exit 1).
mkfile keep 100
cp keep keep.orig
for opt in --no-clobber -n; do
	rc=0
	"$CLIENT" copy $opt a keep 2>"$T/err" || rc=$?
	if [ $rc -ne 0 ] && grep -q "invalid parameter: update" "$T/err"; then
		echo "NOTE: the daemon does not take update=none yet"
	else
		expect_eq "copy $opt: exit" "$rc" 0
	fi
	same keep keep.orig
done

# Usage errors: exit 2.
run 2 copy
run 2 copy onlyone
run 2 copy --bogus-option a b
run 2 frobnicate
run 2 status
run 2 status not-a-number
run 2

# No daemon: exit 3, the message names the socket.
CPD_SOCKET=/nonexistent/cpd.sock run 3 list
[[ "$err" == *"/nonexistent/cpd.sock"* ]] || fail "no daemon: stderr does not name the socket: $err"
for cmd in list "status 1" "wait 1" "cancel 1" "pause 1" "resume 1" daemon-status "copy a b"; do
	for json in "" --json; do
		# shellcheck disable=SC2086
		CPD_SOCKET=/nonexistent/cpd.sock run 3 $json $cmd
		[[ "$err" == *"/nonexistent/cpd.sock"*"Start it with"* ]] ||
			fail "no daemon ($json $cmd): stderr does not say what to do: $err"
	done
done
CPD_SOCKET=/nonexistent/cpd.sock run 3 copy a sub/never
[[ "$err" == *"/nonexistent/cpd.sock"* ]] || fail "no daemon (copy): stderr does not name the socket: $err"
[ ! -e sub/never ] || fail "no daemon: something was copied"
# -s (without CPD_SOCKET, which the client's help says overrides -s).
saved=$CPD_SOCKET
unset CPD_SOCKET
run 3 -s "$T/no-such.sock" daemon-status
[[ "$err" == *"$T/no-such.sock"* ]] || fail "no daemon (-s): stderr does not name the socket: $err"
run 0 -s "$saved" daemon-status
export CPD_SOCKET=$saved

# --detach prints the job id only; wait ID then exits 0.
run 0 copy --detach c sub/c.copy
[[ "$out" =~ ^[0-9]+$ ]] || fail "--detach printed '$out', want a job id only"
id=$out
run 0 wait "$id"
same c sub/c.copy
run 0 copy --detach b sub/b.copy
[[ "$out" =~ ^[0-9]+$ ]] || fail "--detach printed '$out'"
id2=$out
run 0 wait --json "$id2"
expect_eq "wait --json: state" "$(json 'j["state"]')" done
same b sub/b.copy

# --json: the final Job.
run 0 copy --json a sub/a.json
expect_eq "copy --json: state" "$(json 'j["state"]')" done
expect_eq "copy --json: destination" "$(json 'j["destination"]')" "$T/work/sub/a.json"
expect_eq "copy --json: sources" "$(json 'j["sources"]')" "['$T/work/a']"
expect_eq "copy --json: bytes_done" "$(json 'j["bytes_done"]')" 20480
idj=$(json 'j["id"]')
same a sub/a.json
run 1 copy --json missing-file sub/y
expect_eq "failed copy --json: state" "$(json 'j["state"]')" failed
expect_eq "failed copy --json: error" "$(json 'j["error"]')" ENOENT

# list shows the jobs.
run 0 list
grep -q "^ *$id .*done" <<<"$out" || fail "list does not show job $id as done: $out"
[[ "$out" == *"$T/work/sub/c.copy"* ]] || fail "list does not show the destination: $out"
run 0 list --json
expect_eq "list --json: ids include $id" "$(json "$id in [x['id'] for x in j]")" True
expect_eq "list --json: states" "$(json "[x['state'] for x in j if x['id'] == $idj]")" "['done']"

# status ID.
run 0 status "$id"
[[ "$out" == *done* ]] || fail "status: no state: $out"
[[ "$out" == *"$T/work/sub/c.copy"* ]] || fail "status: no destination: $out"
run 0 status --json "$id"
expect_eq "status --json: id" "$(json 'j["id"]')" "$id"
expect_eq "status --json: state" "$(json 'j["state"]')" done
run 1 status 999999
[ -n "$err" ] || fail "status of a missing job: nothing on stderr"

# cancel of a finished job: returned unchanged.
run 0 cancel "$id"
[[ "$out" == *done* ]] || fail "cancel of a finished job: $out"
run 0 cancel --json "$id"
expect_eq "cancel --json of a finished job: state" "$(json 'j["state"]')" done
same c sub/c.copy

# daemon-status shows the engine.
run 0 daemon-status
[[ "$out" == *io_uring* ]] || fail "daemon-status does not show the engine: $out"
# The policy alone: the threshold no longer decides IOSQE_ASYNC.
grep -qx 'async: auto' <<<"$out" || fail "daemon-status: no line 'async: auto': $out"
grep -qx 'async_threshold: 256.0 KiB' <<<"$out" ||
	fail "daemon-status: no line 'async_threshold: 256.0 KiB': $out"
run 0 daemon-status --json
expect_eq "daemon-status --json: engine" "$(json 'j["engine"]')" io_uring
# the global --json before the command works too
run 0 --json daemon-status
expect_eq "--json daemon-status: engine" "$(json 'j["engine"]')" io_uring
no_temporaries "$T/work"
echo "PASS: client"
