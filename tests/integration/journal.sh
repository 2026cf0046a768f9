#!/bin/bash
# journal: the job journal in the state directory. A finished job stays
# queryable across a restart; a job stopped by SIGTERM runs again after
# the restart (as its owner, when an unprivileged user submitted it); a
# torn or corrupt record is reported, set aside, and costs nothing else;
# job ids are never handed out twice; finished jobs expire (keep_finished)
# with their records; an unusable state directory only turns the journal
# off; cpd -n checks state_dir.
. "$(dirname "$0")/../lib.sh"

S=$T/state
mkdir "$T/out"
mkfile "$T/a" 300K
mkfile "$T/slow" 3M

restart() {	# [cpd options...]
	daemon_exit_ok
	start_daemon_raw "$@"
}
state_of() { jfield parameters.job.state <<<"$(job_get "$1")"; }

# ---- A finished job is known after a restart, as it was.
start_daemon_raw
expect_eq "journal status" "$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}' |
	jfield parameters.journal)" ok
r=$(copy_wait "" "$T/out/a" "$T/a")
id1=$(jfield parameters.job.id <<<"$r")
expect_eq "first job" "$(jfield parameters.job.state <<<"$r")" done
# A job without sync keeps its record in a slot of $S/slots, not in a file.
cat >"$T/slots.py" <<'PYEOF'
import json, sys, zlib
SIZE = 4096
def slots(path):
    data = open(path, "rb").read()
    assert len(data) % SIZE == 0, "slots: size %d" % len(data)
    return [data[i:i + SIZE] for i in range(0, len(data), SIZE)]
def record(page):	# (id, encoded record) or None
    if page[0] == 0:
        return None
    head, rest = page.split(b"\n", 1)
    magic, jid, n = head.split(b" ")
    assert magic == b"cpd-slot", head
    return int(jid), rest[:int(n)]
def encode(rec):
    body = json.dumps(rec, separators=(",", ":")).encode()
    return b"cpd-journal 1 %d %08x\n%s\n" % (len(body), zlib.crc32(body), body)
cmd, path = sys.argv[1], sys.argv[2]
if cmd == "get":		# get SLOTS ID: the job's encoded record
    for p in slots(path):
        r = record(p)
        if r and r[0] == int(sys.argv[3]):
            sys.stdout.buffer.write(r[1]); sys.exit(0)
    sys.exit(1)
elif cmd == "count":		# count SLOTS: records in slots
    print(sum(1 for p in slots(path) if record(p)))
elif cmd == "put":		# put SLOTS ID STATE HOW FROM: FROM's record as job ID
    jid, state, how, frm = int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
    rec = json.loads(open(frm, "rb").read().split(b"\n", 1)[1])
    rec["id"] = jid
    rec["state"] = state
    if state != "done":
        rec.pop("job", None)
    enc = encode(rec)
    if how == "file":
        open("%s/job-%d.json" % (path.rsplit("/", 1)[0], jid), "wb").write(enc); sys.exit(0)
    page = b"cpd-slot %d %d\n" % (jid, len(enc)) + enc
    if how == "flip":		# a bit flipped: the checksum is wrong
        i = page.index(b'"state"')
        page = page[:i] + b"X" + page[i + 1:]
    elif how == "torn":		# the first sector only
        page = page[:512]
    page = page.ljust(SIZE, b"\0")
    all = slots(path)
    free = next((i for i, p in enumerate(all) if p[0] == 0), len(all))
    with open(path, "r+b") as f:
        f.seek(free * SIZE); f.write(page)
    print(free)
PYEOF
slots() { python3 "$T/slots.py" "$@"; }
[ ! -e "$S/job-$id1.json" ] || fail "a job without sync has a record file"
slots get "$S/slots" "$id1" >"$T/rec1" || fail "no record of job $id1 in $S/slots"
head -n 1 "$T/rec1" | grep -q '^cpd-journal 1 [0-9]* [0-9a-f]\{8\}$' ||
	fail "record header: $(head -n 1 "$T/rec1")"
[ "$(stat -c %a "$S")" = 700 ] || fail "state directory mode $(stat -c %a "$S")"

# ---- Torn and corrupt records beside it, in files and in slots.
head -c 200 "$T/rec1" >"$S/job-500.json"		# torn
sed 's/"done"/"dune"/' "$T/rec1" >"$S/job-501.json"	# checksum wrong
printf 'not a journal at all\n' >"$S/job-502.json"
# Intact framing around a record that makes no sense (a relative source).
py - "$T/rec1" "$S/job-503.json" <<'PYEOF'
import json, sys, zlib
text = open(sys.argv[1]).read().split("\n", 1)[1].rstrip("\n")
rec = json.loads(text)
rec["id"] = 503
rec["request"]["sources"] = ["relative/path"]
body = json.dumps(rec, separators=(",", ":"))
open(sys.argv[2], "w").write("cpd-journal 1 %d %08x\n%s\n" % (len(body), zlib.crc32(body.encode()), body))
PYEOF
daemon_exit_ok
s504=$(slots put "$S/slots" 504 done flip "$T/rec1")
s506=$(slots put "$S/slots" 506 done torn "$T/rec1")
# A record in a file replaces the one in a slot: the job was done, not queued.
s505=$(slots put "$S/slots" 505 queued slot "$T/rec1")
slots put "$S/slots" 505 done file "$T/rec1"
start_daemon_raw
for n in 500 501 502 503; do
	[ -f "$S/job-$n.json.corrupt" ] || fail "job-$n.json not set aside"
	[ ! -e "$S/job-$n.json" ] || fail "job-$n.json still in place"
	grep -q "journal: $S/job-$n.json: .*set aside as job-$n.json.corrupt" "$DAEMON_LOG" ||
		fail "job-$n.json: no log line naming it"
done
r=$(job_get "$id1")
expect_eq "job $id1 after the restart" "$(jfield parameters.job.state <<<"$r")" done
expect_eq "job $id1 bytes" "$(jfield parameters.job.bytes_done <<<"$r")" 307200
expect_eq "job $id1 destination" "$(jfield parameters.job.destination <<<"$r")" "$T/out/a"
for n in 500 503; do
	expect_eq "corrupt record $n is no job" "$(jfield error <<<"$(job_get $n)")" io.cpd.Manager.NoSuchJob
done
grep -q "job-503.json: invalid record" "$DAEMON_LOG" || fail "job-503.json: not reported as invalid"
for n in 504 506; do
	s=s$n
	[ -f "$S/slot-${!s}.corrupt" ] || fail "slot ${!s} (job $n) not set aside"
	grep -q "journal: $S/slots, slot ${!s}: corrupt or torn record; set aside as slot-${!s}.corrupt" \
		"$DAEMON_LOG" || fail "slot ${!s}: no log line naming it"
	slots get "$S/slots" $n >/dev/null && fail "slot ${!s} (job $n) still holds a record"
	expect_eq "corrupt slot of job $n" "$(jfield error <<<"$(job_get $n)")" io.cpd.Manager.NoSuchJob
done
r=$(job_get 505)
expect_eq "job 505: the file's record" "$(jfield parameters.job.state <<<"$r")" done
expect_eq "job 505 restarts" "$(jfield parameters.job.restarts <<<"$r")" 0
slots get "$S/slots" 505 >/dev/null && fail "the slot the file replaced still holds job 505"
grep -q "job 505: restored" "$DAEMON_LOG" && fail "job 505 ran again from its old slot"

# ---- Ids: never the same twice, also after restarts.
ids=("$id1")
for i in 1 2 3; do
	ids+=("$(copy_detached "" "$T/out/b$i" "$T/a")")
	restart
done
dups=$(printf '%s\n' "${ids[@]}" | sort | uniq -d)
[ -z "$dups" ] || fail "ids handed out twice: ${ids[*]}"
for i in 1 2 3; do
	[ "${ids[i]}" -gt "${ids[i - 1]}" ] || fail "ids not increasing: ${ids[*]}"
	expect_eq "job ${ids[i]}" "$(state_of "${ids[i]}")" done
done

# ---- A running job stopped by SIGTERM runs again after the restart.
id=$(copy_detached '{"bwlimit": 1048576}' "$T/out/slow" "$T/slow")
for _ in $(seq 100); do [ "$(state_of "$id")" = running ] && break; sleep 0.05; done
expect_eq "slow job before the stop" "$(state_of "$id")" running
restart
r=$(job_wait "$id")
expect_eq "slow job after the restart" "$(jfield parameters.job.state <<<"$r")" done
expect_eq "slow job restarts" "$(jfield parameters.job.restarts <<<"$r")" 1
"$CLIENT" status "$id" | grep -qx 'restarts: 1' || fail "cpd-client status does not show the restart"
same "$T/slow" "$T/out/slow"
no_temporaries "$T/out"

# ---- no_clobber, run again: the files it had published count as copied;
# a file that appeared meanwhile, the same size but other bytes, does not.
mkdir "$T/nc" "$T/nc2"
mkfile "$T/n1" 50K
id=$(copy_detached '{"no_clobber": true, "bwlimit": 1048576}' "$T/nc/" "$T/n1" "$T/slow")
for _ in $(seq 100); do [ -e "$T/nc/n1" ] && break; sleep 0.05; done
[ -e "$T/nc/n1" ] && [ "$(state_of "$id")" = running ] || fail "no_clobber job: n1 not copied first"
restart
r=$(job_wait "$id")
expect_eq "no_clobber job after the restart" "$(jfield parameters.job.state <<<"$r")" done
expect_eq "no_clobber job restarts" "$(jfield parameters.job.restarts <<<"$r")" 1
expect_eq "no_clobber job files" "$(jfield parameters.job.files_done <<<"$r")" 2
same "$T/n1" "$T/nc/n1"
same "$T/slow" "$T/nc/slow"
grep -q "job $id: '$T/nc/n1' is already a copy of '$T/n1'" "$DAEMON_LOG" ||
	fail "no_clobber job: n1 not recognised as its own copy"
id=$(copy_detached '{"no_clobber": true, "bwlimit": 1048576}' "$T/nc2/x" "$T/slow")
for _ in $(seq 100); do [ "$(state_of "$id")" = running ] && break; sleep 0.05; done
daemon_exit_ok
mkfile "$T/nc2/x" 3M
cp "$T/nc2/x" "$T/foreign"
start_daemon_raw
r=$(job_wait "$id")
expect_eq "no_clobber over a foreign file" "$(jfield parameters.job.error <<<"$r")" EEXIST
same "$T/foreign" "$T/nc2/x"
no_temporaries "$T/nc2"

# ---- As an unprivileged user: the job runs again with the user's credentials.
if [ "$(id -u)" -eq 0 ]; then
	ensure_user cpdtest
	uid=$(id -u cpdtest)
	mkdir "$T/u"
	chown cpdtest: "$T/u"
	cp "$T/slow" "$T/u/src"
	chown cpdtest: "$T/u/src"
	r=$(varlink_as cpdtest "$(copy_msg '{"bwlimit": 1048576, "__more": false}' "$T/u/dst" "$T/u/src")")
	id=$(jfield parameters.job.id <<<"$r")
	[[ $id =~ ^[0-9]+$ ]] || fail "user's Copy: $r"
	for _ in $(seq 100); do [ "$(state_of "$id")" = running ] && break; sleep 0.05; done
	restart
	r=$(job_wait "$id")
	expect_eq "user's job after the restart" "$(jfield parameters.job.state <<<"$r")" done
	expect_eq "user's job uid" "$(jfield parameters.job.uid <<<"$r")" "$uid"
	expect_eq "owner of the user's copy" "$(stat -c %u "$T/u/dst")" "$uid"
	same "$T/slow" "$T/u/dst"
	# A restored job is not root's: a root-owned file the user could read
	# when submitting, and cannot any more when the job runs again.
	cp "$T/slow" "$T/secret"
	chmod 644 "$T/secret"
	r=$(varlink_as cpdtest "$(copy_msg '{"bwlimit": 1048576, "__more": false}' "$T/u/secret" "$T/secret")")
	id=$(jfield parameters.job.id <<<"$r")
	[[ $id =~ ^[0-9]+$ ]] || fail "user's second Copy: $r"
	for _ in $(seq 100); do [ "$(state_of "$id")" = running ] && break; sleep 0.05; done
	daemon_exit_ok
	chmod 600 "$T/secret"
	start_daemon_raw
	r=$(job_wait "$id")
	expect_eq "restored job on a file the user lost access to" \
		"$(jfield parameters.job.error <<<"$r")" EACCES
	[ ! -e "$T/u/secret" ] || fail "the restored job ran with root's credentials"
	no_temporaries "$T/u"
fi

# ---- Expiry: finished jobs and their records go after keep_finished.
write_config "$T/keep.conf" 'jobs = { keep_finished = 1; };'
restart --config "$T/keep.conf"
for _ in $(seq 200); do
	[ "$(jfield error <<<"$(job_get "$id1")")" = io.cpd.Manager.NoSuchJob ] && break
	sleep 0.05
done
expect_eq "expired job" "$(jfield error <<<"$(job_get "$id1")")" io.cpd.Manager.NoSuchJob
for _ in $(seq 100); do slots get "$S/slots" "$id1" >/dev/null || break; sleep 0.05; done
slots get "$S/slots" "$id1" >/dev/null && fail "the expired job's record is still there"
for _ in $(seq 100); do [ ! -e "$S/job-505.json" ] && break; sleep 0.05; done
[ ! -e "$S/job-505.json" ] || fail "the expired job 505's record file is still there"
# Expired jobs' ids are not handed out again either.
last=$(printf '%s\n' "${ids[@]}" | sort -n | tail -n 1)
restart --config "$T/keep.conf"
id=$(copy_detached "" "$T/out/c" "$T/a")
[ "$id" -gt "$last" ] || fail "id $id after expiry is not above $last"

# ---- A second daemon on the same state directory keeps its hands off it.
"$CPD" --socket "$T/second.sock" --config /dev/null --state-dir "$S" >"$T/second.log" 2>&1 &
second=$!
for _ in $(seq 100); do grep -q 'in use by another cpd' "$T/second.log" && break; sleep 0.05; done
kill "$second"; wait "$second" || true
grep -q "state directory $S: in use by another cpd" "$T/second.log" ||
	fail "a second daemon used the same state directory: $(cat "$T/second.log")"
grep -q 'restored from the journal' "$T/second.log" && fail "the second daemon restored jobs"

# ---- An unusable state directory: no journal, the daemon serves anyway.
daemon_exit_ok
start_daemon_raw --state-dir /proc/cpd-no-such-dir
expect_eq "journal status" "$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}' |
	jfield parameters.journal)" disabled
grep -q 'state directory /proc/cpd-no-such-dir: .*not journaled' "$DAEMON_LOG" ||
	fail "no warning about the state directory"
r=$(copy_wait "" "$T/out/d" "$T/a")
expect_eq "copy without a journal" "$(jfield parameters.job.state <<<"$r")" done
same "$T/a" "$T/out/d"
daemon_exit_ok

# ---- cpd -n checks state_dir.
write_config "$T/bad.conf" 'state_dir = "relative/dir";'
out=$("$CPD" -n -f "$T/bad.conf" 2>&1) && fail "-n accepted a relative state_dir"
[[ $out == *state_dir* ]] || fail "-n: the error does not name state_dir: $out"
write_config "$T/good.conf" "state_dir = \"$S\";" 'jobs = { keep_finished = 60; };'
"$CPD" -n -f "$T/good.conf" >/dev/null || fail "-n refused a good state_dir"
