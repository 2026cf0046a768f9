#!/bin/bash
# hostile_failures: one user's failure records and finished jobs must
# not fill the daemon's memory or state_dir, nor make root's List too
# large to be sent. cpdtest makes SMALL finished jobs, then copies, with
# keep_going, a tree of FILES unreadable files under paths of about 4000
# bytes, JOBS times (each job counts FILES failures and lists what
# jobs.failure_bytes and the user's jobs.user_failure_bytes allow, paths
# shortened to 1 KiB): past jobs.keep_finished_per_user in all.
# Before the bounds, 30 such jobs grew the daemon by over 100 MB and
# root's List failed. With the defaults (cpd.conf(5)):
#   - every job's files_failed is FILES exactly;
#   - no listed path or message is over 1024 bytes, a job's listed
#     failures cost at most 64 KiB and all of cpdtest's at most 1 MiB;
#   - cpdtest keeps its newest 100 finished jobs only, in List and in
#     state_dir, the failing ones among them, their failures listed;
#   - the daemon's RSS grew by less than RSS_MAX (not under ASan, whose
#     quarantine keeps freed memory), state_dir holds less than
#     STATE_MAX (both above what the limits allow, far below what the
#     unbounded records took);
#   - List without paging parameters (an old client) answers one bounded
#     page and next_after; root's `cpd-client list` (and --json) shows
#     every job, through the pages;
#   - restarted from its journal, the daemon lists the same jobs.
# On both engines.
. "$(dirname "$0")/../lib.sh"
need_root "runs a root daemon for the unprivileged user cpdtest"
ensure_user cpdtest
command -v socat >/dev/null || skip "needs socat"

FILES=300 JOBS=30 SMALL=110
# cpdtest's listed failures are 1 MiB at most, its kept jobs' records a
# few KiB each besides: 4 times that in state_dir, 12 in RSS (records are
# built in memory, and malloc keeps some). Unbounded: 23 MiB and 27 MiB.
RSS_MAX=$((12 << 20)) STATE_MAX=$((4 << 20))
HOSTILE="$(dirname "$0")/hostile_client.py"

U=$T/u
mkdir "$U"
# A chain of 15 directories of 250-byte names, FILES files of mode 000 at its end.
py - "$U/tree" "$FILES" <<'PYEOF'
import os, sys
d = sys.argv[1]
for i in range(15):
    d = os.path.join(d, ("%02d" % i) * 125)
os.makedirs(d)
for i in range(int(sys.argv[2])):
    p = os.path.join(d, "f%04d" % i)
    with open(p, "w") as f:
        f.write("x")
    os.chmod(p, 0)
PYEOF
echo small > "$U/small"
chown -R cpdtest: "$U"

rss() { awk '/^VmRSS:/ { print $2 * 1024 }' /proc/"$DAEMON_PID"/status; }

# Every page of List, as cpdtest and as root, and one List without paging.
# check_pages USER: as USER; prints {"jobs", "pages", "ids"}.
check_pages() {
	as_user "$1" "$PYTHON" - "$CPD_SOCKET" "$FILES" "$1" "$JOBS" "$SMALL" <<'PYEOF'
import json, socket, sys
path, files, who = sys.argv[1], int(sys.argv[2]), sys.argv[3]
njobs, nsmall = int(sys.argv[4]), int(sys.argv[5])

def call(params):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    m = {"method": "io.cpd.Manager.List"}
    if params is not None:
        m["parameters"] = params
    s.sendall(json.dumps(m).encode() + b"\0")
    buf = b""
    while not buf.endswith(b"\0"):
        d = s.recv(1 << 20)
        if not d:
            sys.exit("%s: List: connection closed" % who)
        buf += d
    return len(buf), json.loads(buf[:-1])

def fail(msg):
    print("FAIL: %s: %s" % (who, msg)); sys.exit(1)

size, r = call(None)
p = r.get("parameters", {})
if "error" in r:
    fail("List: %s" % r)
if size > 2 << 20 or len(p["jobs"]) > 100:
    fail("List without paging: %d bytes, %d jobs" % (size, len(p["jobs"])))
if who == "root" and p.get("next_after") is None:
    fail("List without paging: no next_after with more jobs than a page")
jobs, after, pages = [], 0, 0
while True:
    size, r = call({"after": after})
    if "error" in r or size > 2 << 20:
        fail("List page after %d: %d bytes %s" % (after, size, r.get("error")))
    p = r["parameters"]
    jobs += p["jobs"]
    pages += 1
    if p.get("next_after") is None:
        break
    if p["next_after"] <= after or p["next_after"] != p["jobs"][-1]["id"]:
        fail("next_after %s after %d" % (p["next_after"], after))
    after = p["next_after"]
ids = [j["id"] for j in jobs]
if ids != sorted(set(ids)):
    fail("pages repeat or reorder jobs")
# A page of one, past the last, and limits out of range.
p = call({"limit": 1})[1]["parameters"]
if [j["id"] for j in p["jobs"]] != ids[:1] or p.get("next_after") != ids[0]:
    fail("List limit 1: %s" % [j["id"] for j in p["jobs"]])
p = call({"after": ids[-1]})[1]["parameters"]
if p["jobs"] or p.get("next_after") is not None:
    fail("List after the last job: %s" % p)
for bad, name in (({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"after": -1}, "after")):
    r = call(bad)[1]
    if r.get("error") != "org.varlink.service.InvalidParameter" or \
            r["parameters"].get("parameter") != name:
        fail("List %s: %s" % (bad, r))
user = [j for j in jobs if j["uid"] != 0]
# cpdtest's jobs are ids 1.. in order: the newest 100 are kept.
want = list(range(njobs + nsmall - 99, njobs + nsmall + 1))
if [j["id"] for j in user] != want:
    fail("cpdtest's kept jobs: %s, want its newest 100" % [j["id"] for j in user])
total, failing, marked = 0, 0, 0
for j in user:
    if j["recursive"]:
        failing += 1
        marked += sum("\u2026" in f["path"] for f in j["failures"])
        if j["files_failed"] != files:
            fail("job %d: files_failed %d, want %d" % (j["id"], j["files_failed"], files))
        cost = 0
        for f in j["failures"]:
            if len(f["path"].encode()) > 1024 or len(f["error_message"].encode()) > 1024:
                fail("job %d: a failure of %d + %d bytes" % (j["id"], len(f["path"]),
                     len(f["error_message"])))
            cost += len(f["path"].encode()) + len(f["error_message"].encode()) + 64
        if cost > 64 << 10:
            fail("job %d lists failures of %d bytes" % (j["id"], cost))
        total += cost
if total > 1 << 20:
    fail("cpdtest's jobs list failures of %d bytes" % total)
if failing != njobs or marked == 0:
    fail("%d failing jobs kept, %d shortened paths listed" % (failing, marked))
print(json.dumps({"jobs": len(jobs), "pages": pages, "ids": ids}))
PYEOF
}

# failures_case ENGINE: the whole case on a fresh daemon and journal,
# then again on the daemon restarted from that journal.
failures_case() {
	local r ids got state nrec rss0 rss1
	write_config "$T/cpd.conf" "engine = { type = \"$1\"; };"
	rm -rf "$T/state" "$T/r" "$U/out"
	mkdir "$T/r" "$U/out"
	chown cpdtest: "$U/out"
	start_daemon_raw --config "$T/cpd.conf"
	rss0=$(rss)

	r=$(as_user cpdtest "$PYTHON" "$HOSTILE" "$CPD_SOCKET" copies "$SMALL" '{}' "$U/small" "$U/out/s")
	expect_eq "small jobs' states" "$(jfield states <<<"$r")" "{\"done\": $SMALL}"
	r=$(as_user cpdtest "$PYTHON" "$HOSTILE" "$CPD_SOCKET" copies "$JOBS" \
		'{"recursive": true, "keep_going": true}' "$U/tree" "$U/out/t")
	expect_eq "failing jobs' states" "$(jfield states <<<"$r")" "{\"done\": $JOBS}"
	# Root's own jobs: root's List has more than a page.
	r=$(py "$HOSTILE" "$CPD_SOCKET" copies 30 '{}' "$U/small" "$T/r/r")
	expect_eq "root's jobs' states" "$(jfield states <<<"$r")" '{"done": 30}'
	sleep 1		# a tick drops the jobs beyond the user's share

	rss1=$(rss)
	state=$(du -sb "$T/state" | cut -f1)
	sanitized || [ $((rss1 - rss0)) -lt $RSS_MAX ] ||
		fail "the daemon grew by $(((rss1 - rss0) >> 20)) MiB (limit $((RSS_MAX >> 20)))"
	[ "$state" -lt $STATE_MAX ] || fail "state_dir holds $((state >> 20)) MiB (limit $((STATE_MAX >> 20)))"
	echo "rss +$(((rss1 - rss0) >> 10)) KiB, state_dir $((state >> 10)) KiB"

	r=$(check_pages cpdtest) || fail "$r"
	r=$(check_pages root) || fail "$r"
	ids=$(jfield ids <<<"$r")
	[ "$(jfield pages <<<"$r")" -ge 2 ] || fail "root's List took one page: $r"

	# Root's cpd-client: every job, as the pages had them.
	"$CLIENT" list >"$T/list.txt" || fail "cpd-client list failed"
	got=$(awk 'NR > 1 { print $1 }' "$T/list.txt" | py -c 'import json, sys; print(json.dumps([int(l) for l in sys.stdin]))')
	expect_eq "cpd-client list's ids" "$got" "$ids"
	"$CLIENT" list --json | py -c 'import json, sys; print(json.dumps([j["id"] for j in json.load(sys.stdin)]))' >"$T/ids.json" ||
		fail "cpd-client list --json failed"
	expect_eq "cpd-client list --json's ids" "$(cat "$T/ids.json")" "$ids"

	# state_dir holds the kept jobs' records only.
	nrec=$(find "$T/state" -type f | wc -l)
	[ "$nrec" -le 140 ] || fail "state_dir holds $nrec files for at most 130 kept jobs"
	daemon_exit_ok

	# Restarted, from the journal: the same jobs, with the same counts.
	start_daemon_raw --config "$T/cpd.conf"
	r=$(check_pages root) || fail "after a restart: $r"
	expect_eq "root's List after a restart" "$(jfield ids <<<"$r")" "$ids"
	daemon_exit_ok
	echo "$1: ok"
}

failures_case io_uring
failures_case fallback
echo "hostile_failures: ok"
