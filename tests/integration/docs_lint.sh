#!/bin/bash
# docs_lint: the manual pages render and pass "mandoc -T lint"; the
# options documented in cpd.conf(5) are exactly those in conf/cpd.conf;
# the text embedded in cpd-varlink(7) matches the interface description
# and the example script; the example script parses (bash -n); and, when
# cpd is built, "cpd -n" accepts conf/cpd.conf.
#
#   bash tests/integration/docs_lint.sh            run the checks
#   bash tests/integration/docs_lint.sh --update   re-embed the interface
#       description and the backup script into man/cpd-varlink.7
set -uo pipefail
cd "$(dirname "$0")/../.."

MAN_PAGES=(man/cpd.8 man/cpd-client.1 man/cpd.conf.5 man/cpd-varlink.7)
VARLINK_PAGE=man/cpd-varlink.7
# Marker name in the page -> file whose text is embedded there.
declare -A EMBEDDED=(
	[io.cpd.Manager.varlink]=include/io.cpd.Manager.varlink
	[cpd-backup.sh]=conf/examples/cpd-backup.sh
)

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# Text as roff no-fill source, for an .EX block, and back again.
roff_escape() {
	perl -pe 's/\\/\\e/g; s/-/\\-/g; s/\x27/\\(aq/g; s/`/\\(ga/g;
		  s/\^/\\(ha/g; s/~/\\(ti/g; s/^(\.|$)/\\&$1/'
}
roff_unescape() {
	perl -pe 'BEGIN { %m = ("e", "\\", "-", "-", "(aq", "\x27",
				"(ga", "`", "(ha", "^", "(ti", "~") }
		  s/^\\&//; s/\\(e|-|\(aq|\(ga|\(ha|\(ti)/$m{$1}/g'
}
# embedded NAME: the escaped lines between the markers of NAME.
embedded() {
	sed -n "/^\.\\\\\" BEGIN $1\$/,/^\.\\\\\" END $1\$/{//!p}" "$VARLINK_PAGE"
}

if [ "${1:-}" = --update ]; then
	for name in "${!EMBEDDED[@]}"; do
		tmp=$(mktemp)
		roff_escape <"${EMBEDDED[$name]}" >"$tmp"
		perl -i -ne 'BEGIN { $b = ".\\\" BEGIN '"$name"'"; $e = ".\\\" END '"$name"'";
				 open F, "<", "'"$tmp"'" or die; local $/; $t = <F> }
			     if ($_ eq "$b\n") { print; print $t; $skip = 1; next }
			     $skip = 0 if $_ eq "$e\n";
			     print unless $skip' "$VARLINK_PAGE"
		rm -f "$tmp"
	done
	echo "updated $VARLINK_PAGE"
	exit 0
fi

command -v mandoc >/dev/null || { echo "SKIP: mandoc is not installed"; exit 77; }
command -v perl >/dev/null || { echo "SKIP: perl is not installed"; exit 77; }

# 1. Every page renders without complaint and passes mandoc's lint.
for page in "${MAN_PAGES[@]}"; do
	[ -f "$page" ] || { fail "$page is missing"; continue; }
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	[ -z "$out" ] || fail "mandoc -T lint $page:"$'\n'"$out"
	err=$(mandoc -T utf8 "$page" 2>&1 >/dev/null)
	[ -z "$err" ] || fail "mandoc -T utf8 $page: $err"
	if command -v man >/dev/null && command -v groff >/dev/null; then
		err=$(MANWIDTH=80 man -l "$page" 2>&1 >/dev/null)
		[ -z "$err" ] || fail "man -l $page: $err"
	fi
	grep -q '^\.SH SEE ALSO' "$page" || fail "$page has no SEE ALSO section"
done

# 2. Options of cpd.conf(5) (tags ".BI "name = " type") against the
#    settings of conf/cpd.conf (group.name, groups from "name = {").
doc_opts=$(sed -n -E 's/^\.BI "([a-z_.]+) = " .*/\1/p' man/cpd.conf.5 | sort)
conf_opts=$(awk '
	{ sub(/#.*/, ""); sub(/\/\/.*/, "") }
	/^[ \t]*[a-z_]+[ \t]*=[ \t]*\{/ {
		match($0, /[a-z_]+/); group[++depth] = substr($0, RSTART, RLENGTH); next
	}
	/^[ \t]*\}/ { depth--; next }
	/^[ \t]*[a-z_]+[ \t]*=/ {
		match($0, /[a-z_]+/); name = substr($0, RSTART, RLENGTH)
		prefix = ""; for (i = 1; i <= depth; i++) prefix = prefix group[i] "."
		print prefix name
	}' conf/cpd.conf | sort)
[ -n "$doc_opts" ] || fail "found no options in man/cpd.conf.5"
missing=$(comm -23 <(echo "$doc_opts") <(echo "$conf_opts"))
[ -z "$missing" ] || fail "documented in cpd.conf(5) but not in conf/cpd.conf:" $missing
missing=$(comm -13 <(echo "$doc_opts") <(echo "$conf_opts"))
[ -z "$missing" ] || fail "in conf/cpd.conf but not documented in cpd.conf(5):" $missing
# The client's keys: cpd-client(1) (".BI "key = "") against conf/client.conf.
doc_keys=$(sed -n '/^\.SH CONFIGURATION/,/^\.SH /s/^\.BI "\([a-z_]*\) = " .*/\1/p' \
	man/cpd-client.1 | sort)
conf_keys=$(sed -n -E 's/^[;#]?[ \t]*([a-z_]+)[ \t]*=.*/\1/p' conf/client.conf | sort)
[ -n "$doc_keys" ] || fail "found no configuration keys in man/cpd-client.1"
[ "$doc_keys" = "$conf_keys" ] ||
	fail "client keys differ: cpd-client(1):" $doc_keys "conf/client.conf:" $conf_keys

# 3. Embedded copies in cpd-varlink(7) match their files.
for name in "${!EMBEDDED[@]}"; do
	file=${EMBEDDED[$name]}
	[ -n "$(embedded "$name")" ] || { fail "$VARLINK_PAGE: no embedded $name"; continue; }
	if ! d=$(diff <(embedded "$name" | roff_unescape) "$file"); then
		fail "$VARLINK_PAGE: embedded $name differs from $file" \
		     "(run: bash $0 --update)"$'\n'"$d"
	fi
done

# 4. The example script parses.
bash -n conf/examples/cpd-backup.sh || fail "bash -n conf/examples/cpd-backup.sh"
[ -x conf/examples/cpd-backup.sh ] || fail "conf/examples/cpd-backup.sh is not executable"

# 5. The daemon accepts its documented default configuration and the
#    example in cpd.conf(5).
cpd=${CPD_BIN:-$PWD}/cpd
if [ -x "$cpd" ]; then
	out=$("$cpd" -n -f conf/cpd.conf 2>&1) || fail "cpd -n -f conf/cpd.conf: $out"
	example=$(mktemp)
	sed -n '/^\.SH EXAMPLES/,/^\.SH /{/^\.EX/,/^\.EE/{/^\.E[XE]/!p}}' man/cpd.conf.5 |
		roff_unescape >"$example"
	if [ ! -s "$example" ]; then
		fail "man/cpd.conf.5: no example found"
	elif ! out=$("$cpd" -n -f "$example" 2>&1); then
		fail "cpd -n rejects the example of cpd.conf(5): $out"$'\n'"$(cat "$example")"
	fi
	rm -f "$example"
else
	echo "note: $cpd not built, conf/cpd.conf not checked with cpd -n"
fi

[ $failures -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "docs lint: all checks passed"
exit 0
