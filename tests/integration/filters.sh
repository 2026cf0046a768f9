#!/bin/bash
# filters: each of many exclude patterns (and an include before an
# exclude) copies, with cpd-client copy -r, the same names as rsync -r
# with the same rule, from a tree whose names the patterns are about:
# "*", "**", "?", classes (ranges, negation, "]" first, [:alpha:]),
# escapes, anchored and unanchored paths with "/" inside, a trailing "/",
# "d/***", and SRC/. (its paths start below it). The filter logic is the
# engine's no matter: one engine. One
# difference is rsync's own: a source named on the command line is
# copied whatever the rules (rsync filters it too), checked last.
. "$(dirname "$0")/../lib.sh"
command -v rsync >/dev/null || skip "rsync is not installed"

S=$T/tree/src
mkdir -p "$S/a/b/c" "$S/x/ab" "$S/cache/x" "$S/foo/x/y" "$S/d" "$S/dd" "$S/top/top" \
	"$S/[x]" "$S/b.d"
for f in a/b/c/z.tmp a/b.tmp x/ab/c cache/x/f cache/top foo/x/bar foo/x/y/bar foo/bar \
    d/in dd/in top/f a.o 'x]' ab abc 'a*' top/top/f '[x]/in' b.d/in Abc a1 a- keep.o; do
	printf '%s\n' "$f" > "$S/$f"
done
start_daemon

names() { (cd "$1" && find . -mindepth 1 | sort); }
SRC=$S		# what is copied: SRC or SRC/.

n=0
check() {	# RULE OPTIONS...
	n=$((n + 1))
	rm -rf "$T/r" "$T/c"
	mkdir "$T/r" "$T/c"
	rsync -r "$@" "$SRC" "$T/r/" || fail "rsync $* failed (test problem)"
	out=$("$CLIENT" copy -r "$@" "$SRC" "$T/c/" 2>&1) || fail "cpd-client copy -r $*: $out"
	[ "$(names "$T/r")" = "$(names "$T/c")" ] || fail "$*: cpd and rsync copy other names:
$(diff <(names "$T/r") <(names "$T/c"))"
}

for p in '*.tmp' 'a**' '**.tmp' 'a/**.tmp' 'cache/**' '/src/**' 'x[]a]' '[[]x]' '\[x]' \
    'foo/*/bar' '/src/foo/**/bar' 'foo/**/bar' 'd/***' 'top' '/src/top' 'top/' \
    'src/top/top' 'b/c' 'a?' 'a\*' '**/c/**' 'x/**' 'x/' '*/bar' 'src/*/*/bar' \
    '/src/*/x' 'a[!b]*' '[[:upper:]]*' 'a[0-9]' 'a[a-]' '*.d/' '/src/[^a]*' 'x/ab/' '/src/a/b'; do
	check "--exclude=$p"
done
check --include=keep.o --exclude='*.o'
check --include='*/' --include='*.tmp' --exclude='*'
check --exclude='/src/*/' --include='*'
# SRC/.: the paths start below SRC (they started with "./": "/a.o" matched
# nothing, "/./a.o" did).
SRC=$S/.
for p in '/a.o' '/a/b.tmp' '/src/a.o' '/*/' 'a/b/**' '/x/ab/c'; do
	check "--exclude=$p"
done
SRC=$S

# The source itself is not filtered (rsync would leave it out).
rm -rf "$T/c"
mkdir "$T/c"
out=$("$CLIENT" copy -r --exclude=src "$S" "$T/c/" 2>&1) || fail "--exclude=src: $out"
[ -f "$T/c/src/a/b/c/z.tmp" ] || fail "--exclude=src: the source named was not copied"
echo "PASS: $n rule sets as rsync's"
