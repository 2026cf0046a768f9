#!/bin/bash
# names_escaped: file names that are not UTF-8 can be copied and are
# told exactly (cpd-varlink(7), Messages: escaped_names). A tree whose
# names have bytes that are no UTF-8 and a backslash is copied by
# cpd-client (which escapes on its own) and by a raw Copy with
# "escaped_names": true; every reply is strict UTF-8, the Job's names,
# its changes and its failures come escaped, byte for byte those names;
# the record keeps them over a restart; a bad escape is refused naming
# its parameter; and without escaped_names a backslash is only a
# backslash.
. "$(dirname "$0")/../lib.sh"

S=$(printf '%s/s\xe9' "$T")
mkdir -p "$S/sub$(printf '\xfe')"
printf one >"$S/a$(printf '\xff')b"
printf two >"$S/back\\slash"
printf three >"$S/sub$(printf '\xfe')/caf$(printf '\xc3\xa9')"
start_daemon_raw

# utf8_replies FILE: every reply in FILE (one per line) is strict UTF-8 JSON.
utf8_replies() {
	py - "$1" <<'EOF' || fail "a reply is not UTF-8 JSON"
import json, sys
for line in open(sys.argv[1], "rb").read().split(b"\n"):
    if line:
        json.loads(line.decode("utf-8", "strict"))
EOF
}

# 1. cpd-client, given a name that is not UTF-8.
"$CLIENT" copy -a "$S" "$T/d1" || fail "cpd-client copy of a tree named in ISO 8859-1"
diff -r "$S" "$T/d1" >/dev/null || fail "cpd-client: the copy differs"

# 2. A raw Copy with escaped names, itemized.
mkdir "$T/d2"
esc=$(py -c 'import sys; print(sys.argv[1])' "$T/s\\xe9")
copy_wait "{\"escaped_names\": true, \"itemize\": true, \"recursive\": true}" \
	"$T/d2" "$esc" >"$T/r2"
utf8_replies "$T/r2"
tail -n 1 "$T/r2" >"$T/last2"
expect_eq "raw: state" "$(jfield parameters.job.state <"$T/last2")" done
expect_eq "raw: escaped_names" "$(jfield parameters.job.escaped_names <"$T/last2")" true
expect_eq "raw: the source as sent" "$(jfield parameters.job.sources.0 <"$T/last2")" "$esc"
diff -r "$S" "$T/d2/$(basename "$S")" >/dev/null || fail "raw: the copy differs"
py - "$T/r2" <<'EOF' || fail "raw: the changes do not name the files exactly"
import json, sys
paths = set()
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip():
        for c in json.loads(line).get("parameters", {}).get("changes") or []:
            paths.add(c["path"])
want = {"s\\xe9/a\\xffb", "s\\xe9/back\\\\slash", "s\\xe9/sub\\xfe/caf\u00e9"}
missing = want - paths
if missing:
    sys.exit("missing %s in %s" % (missing, paths))
EOF

# 3. A failed source's message, escaped.
copy_wait '{"escaped_names": true}' "$T/d3" "$T/gone\\xff" >"$T/r3"
utf8_replies "$T/r3"
tail -n 1 "$T/r3" >"$T/last3"
expect_eq "failure: state" "$(jfield parameters.job.state <"$T/last3")" failed
jfield parameters.job.error_message <"$T/last3" | grep -qF "gone\\xff" ||
	fail "failure: the message does not name the file escaped: $(cat "$T/last3")"
id=$(jfield parameters.job.id <"$T/last3")

# 4. Kept over a restart: the record holds the escaped form and its flag.
stop_daemon
start_daemon_raw
job_get "$id" >"$T/r4"
utf8_replies "$T/r4"
expect_eq "restart: the source" "$(jfield parameters.job.sources.0 <"$T/r4")" "$T/gone\\xff"

# 5. Bad escapes are refused, naming the parameter.
for bad in '\q' '\x4' '\x00' 'x\'; do
	r=$(varlink_call "$(copy_msg '{"escaped_names": true, "__more": false}' "$T/d5" "$T/a$bad")")
	expect_eq "bad escape $bad: error" "$(jfield error <<<"$r")" org.varlink.service.InvalidParameter
	expect_eq "bad escape $bad: parameter" "$(jfield parameters.parameter <<<"$r")" sources
done
r=$(varlink_call "$(copy_msg '{"escaped_names": true, "__more": false}' "$T/d\\q" "$esc")")
expect_eq "bad escape in destination" "$(jfield parameters.parameter <<<"$r")" destination

# 6. Without escaped_names a backslash is a backslash.
mkdir "$T/plain"
printf two >"$T/plain/back\\slash"
copy_wait "" "$T/d6" "$T/plain/back\\slash" >"$T/r6"
expect_eq "plain: state" "$(jfield parameters.job.state < <(tail -n 1 "$T/r6"))" done
expect_eq "plain: content" "$(cat "$T/d6")" two
daemon_exit_ok
echo "names_escaped: ok"
