#!/bin/bash
# hostile_utf8: strings that are not UTF-8 in a call are refused with
# org.varlink.service.InvalidParameter naming the parameter, before
# anything is done with them: bytes that are not UTF-8 (a stray byte, a
# cut sequence, an overlong form, an encoded surrogate) and escapes of
# lone surrogates ("\ud800", which json-c would quietly make U+FFFD). A
# surrogate pair is a character like any other. The daemon answers after.
# Every reply is UTF-8: a file name that is not shows U+FFFD for each
# byte that is no character.
. "$(dirname "$0")/../lib.sh"
start_daemon_raw
n=0

# raw_call FORMAT: one message, printf FORMAT (\xHH are bytes), NUL-ended.
raw_call() {
	printf "$1"'\0' | socat -t 5 - "UNIX-CONNECT:$CPD_SOCKET" | tr '\0' '\n'
}

# refused_as PARAMETER SOURCE DESTINATION: a Copy (printf formats for its
# two paths) gets InvalidParameter naming PARAMETER.
refused_as() {
	local r
	n=$((n + 1))
	r=$(raw_call '{"method":"io.cpd.Manager.Copy","parameters":{"sources":["'"$2"'"],"destination":"'"$3"'"}}')
	expect_eq "case $n ($2 -> $3): error" "$(jfield error <<<"$r")" org.varlink.service.InvalidParameter
	expect_eq "case $n ($2 -> $3): parameter" "$(jfield parameters.parameter <<<"$r")" "$1"
	varlink_up || fail "case $n: the daemon does not answer"
}

refused_as sources "$T/a\xff" "$T/b"				# a stray byte
refused_as destination "$T/a" "$T/b\xe2\x82"			# a cut sequence
refused_as sources "$T/\xc0\xaf" "$T/b"				# an overlong "/"
refused_as destination "$T/a" "$T/\xed\xa0\x80"			# an encoded surrogate
refused_as destination "$T/a" "$T/\\\\ud800x"			# a lone high surrogate
refused_as sources "$T/\\\\udc00" "$T/b"			# a lone low surrogate
refused_as destination "$T/a" "$T/\\\\ud800\\\\u0041"		# a high one, no low one after
refused_as destination "$T/a" "$T/\\\\ud800"			# at the string's end
# Not the method's business: any parameter, at any depth.
r=$(raw_call '{"method":"io.cpd.Manager.GetStatus","parameters":{"x\xff":1}}')
expect_eq "a key not UTF-8" "$(jfield parameters.parameter <<<"$r")" parameters
r=$(raw_call '{"method":"io.cpd.Manager.GetStatus","parameters":{"x":[{"y":"\\udfff"}]}}')
expect_eq "deep inside" "$(jfield parameters.parameter <<<"$r")" x

# Characters are fine, escaped or not: a pair, U+FFFD itself, a backslash
# before "u". The sources do not exist: the jobs fail as copies.
for name in '\\ud83d\\ude00' '\xef\xbf\xbd' '\xf0\x9f\x98\x80' '\\\\ud800'; do
	r=$(raw_call '{"method":"io.cpd.Manager.Copy","parameters":{"sources":["'"$T/$name"'"],"destination":"'"$T/out"'"}}')
	[ "$(jfield error <<<"$r")" = null ] || fail "'$name' refused: $r"
done
expect_eq "a surrogate pair, copied" \
	"$(printf 'x' > "$T/$(printf '\xf0\x9f\x98\x80')" &&
	   raw_call '{"method":"io.cpd.Manager.Copy","parameters":{"sources":["'"$T"'/\\ud83d\\ude00"],"destination":"'"$T"'/pair.copy"},"more":true}' |
	   jfield parameters.job.state)" done
same "$T/$(printf '\xf0\x9f\x98\x80')" "$T/pair.copy"

# Replies: a file name from a tree walk that is not UTF-8, in a failure,
# comes with U+FFFD for the byte that is no character.
if [ "$(id -u)" -eq 0 ]; then
	ensure_user cpdtest
	mkdir -p "$T/u/tree"
	echo secret > "$T/u/tree/$(printf 'bad\xff')"
	chown -R cpdtest: "$T/u"
	chown root: "$T/u/tree/$(printf 'bad\xff')"
	chmod 600 "$T/u/tree/$(printf 'bad\xff')"
	varlink_as cpdtest "$(copy_msg '{"recursive": true, "keep_going": true}' "$T/u/copy" "$T/u/tree")" 30 > "$T/replies"
	py - "$T/replies" <<'PYEOF' || fail "tree walk: the replies"
import json, sys
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")		# strict: raises on anything that is not UTF-8
job = json.loads(raw.split(b"\n")[-2])["parameters"]["job"]
paths = [f["path"] for f in job["failures"]]
if not any(p.endswith("/bad\ufffd") for p in paths):
    sys.exit("no failure for bad\\xff as bad\\ufffd: %r" % (job,))
PYEOF
	n=$((n + 1))
fi
daemon_exit_ok
echo "PASS: hostile_utf8 ($n refusals)"
