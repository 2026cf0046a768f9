#!/bin/bash
# cp_compat: cpd-client copy against GNU cp, table-driven, on both engines.
# Each invocation runs with cp in one fresh tree and with cpd-client in an
# identical one (same working directory layout, relative paths), and what
# they leave is compared: every entry's type, mode, owner, group, link
# count, content or symlink target, extended attributes (POSIX ACLs, a
# file capability, a user xattr), and its mtime where the row preserves
# times (entries new to the tree); the exit status; stdout (-v's lines,
# in any order); and, for the rows marked so, stderr with "cp:" read as
# "cpd-client:" (the same words, the same paths as given). Then: the
# options cpd refuses exit 2 with "not supported" and touch nothing; -x
# leaves a mount point empty as cp -x does (where a tmpfs can be
# mounted); a client configuration the caller may not read is skipped
# with a warning.
. "$(dirname "$0")/../lib.sh"
need_root "files owned by others, preserved ownership, mounts"
[ -x "$CLIENT" ] || skip "cpd-client not built"
cp --version 2>/dev/null | grep -q 'GNU coreutils' || skip "no GNU cp"
unset VERSION_CONTROL SIMPLE_BACKUP_SUFFIX POSIXLY_CORRECT	# cp's and cpd-client's defaults
ensure_user cpdtest

# mk DIR: the fresh tree, the same each time (times included).
mk() {
	local d=$1
	rm -rf "$d"
	mkdir -p "$d/src/sub/deep" "$d/src/empty" "$d/dst"
	printf 'data\n' >"$d/src/f"
	printf '#!/bin/sh\n' >"$d/src/g"
	head -c 70000 /dev/zero | tr '\0' x >"$d/src/sub/h"
	printf 'i\n' >"$d/src/sub/deep/i"
	ln "$d/src/f" "$d/src/hl"
	ln -s f "$d/src/ln"
	chmod 640 "$d/src/f"
	chmod 755 "$d/src/g"
	chmod 2750 "$d/src/sub"
	chown cpdtest:cpdtest "$d/src/f" "$d/src/sub/h"
	# What cp keeps with the mode (ACLs), with xattr (user.*) and with
	# ownership and xattr (a capability, which a chown would clear).
	setfacl -m u:cpdtest:rw- "$d/src/sub/deep/i"
	setfacl -d -m g:cpdtest:r-x "$d/src/sub/deep"
	setfattr -n user.note -v hello "$d/src/sub/h"
	setcap cap_net_bind_service=ep "$d/src/sub/h"
	mknod "$d/dst/null" c 1 3
	mkfifo "$d/dst/fifo"
	ln -s nowhere "$d/dst/dangle"
	ln -s loop "$d/dst/loop"
	printf 'old\n' >"$d/dst/f"
	chmod 606 "$d/dst/f"
	chown cpdtest "$d/dst/f"
	find "$d/src" "$d/dst" -exec touch -h -d '2001-02-03 04:05:06.789' {} +
	touch -d '2030-01-01' "$d/dst/f"	# newer than src/f: -u keeps it
}

# compare.py SETUP W ROW...: each ROW ("FLAGS|ARGS") ran in W/N/cp and W/N/cpd
# (N from 0), with rc, out and err beside each: print how each differs
# from cp's, one line a row that does, and last "SAME TOTAL". The trees:
# every entry's type, mode, owner, group, link count, content or target,
# extended attributes (ACLs and capabilities among them), and with t its
# mtime unless it is a directory SETUP has.
cat >"$T/compare.py" <<'EOF'
import difflib, hashlib, os, stat, sys

setup, w, rows = sys.argv[1], sys.argv[2], sys.argv[3:]

def listing(top, times):
    out = []
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            full = os.path.join(root, name)
            p = os.path.relpath(full, top)
            st = os.lstat(full)
            line = [p, stat.filemode(st.st_mode), str(st.st_uid), str(st.st_gid)]
            if stat.S_ISLNK(st.st_mode):
                line.append("-> " + os.readlink(full))
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    line += [str(st.st_nlink), hashlib.sha256(f.read()).hexdigest()[:16]]
            if not stat.S_ISLNK(st.st_mode) and stat.S_ISREG(st.st_mode) | stat.S_ISDIR(st.st_mode):
                for x in sorted(os.listxattr(full, follow_symlinks=False)):
                    v = os.getxattr(full, x, follow_symlinks=False)
                    line.append("%s=%s" % (x, hashlib.sha256(v).hexdigest()[:8]))
            if times and not (stat.S_ISDIR(st.st_mode) and os.path.isdir(os.path.join(setup, p))):
                line.append("%d.%09d" % divmod(st.st_mtime_ns, 10**9))
            out.append(" ".join(line))
    return sorted(out)

def read(n, side, what):
    with open(os.path.join(w, str(n), side + "." + what)) as f:
        return f.read()

same = 0
for n, row in enumerate(rows):
    flags, args = row.split("|", 1)
    bad = []
    crc, drc = read(n, "cp", "rc").strip(), read(n, "cpd", "rc").strip()
    if crc != drc:
        bad.append("exit %s, cp's %s" % (drc, crc))
    if "n" not in flags:
        d = [l for l in difflib.unified_diff(
                listing(os.path.join(w, str(n), "cp"), "t" in flags),
                listing(os.path.join(w, str(n), "cpd"), "t" in flags), n=0, lineterm="")
             if not l.startswith("@@")][2:]
        if d:
            bad.append("trees differ: " + " ".join(d)[:600])
    cout, dout = read(n, "cp", "out"), read(n, "cpd", "out")
    if sorted(cout.splitlines()) != sorted(dout.splitlines()):
        bad.append("stdout %r, cp's %r" % (dout, cout))
    cerr, derr = read(n, "cp", "err"), read(n, "cpd", "err")
    if "m" in flags and cerr.replace("cp:", "cpd-client:", 1) != derr:
        bad.append("stderr %r, cp's %r" % (derr, cerr))
    if bad:
        print("cp %s: %s" % (args, "; ".join(bad)))
    else:
        same += 1
print(same, len(rows))
EOF

# Rows: FLAGS|ARGS. FLAGS: t compare mtimes, m compare stderr, n do not
# compare the trees (a documented difference), p run both with
# POSIXLY_CORRECT set.
ROWS=(
	"|src/f newf"
	"|src/f dst"
	"|src/f src/g dst/"
	"|-R src newtree"
	"m|-R src newslash/"	# a new directory's name, with its slash
	"t|-a src/. newdot/"
	"m|-R src nope/deeper/"
	"m|src/f newf/"		# a file is not made under a directory's name
	"m|src/f dst/f/"
	"m|-R src dst/f/"
	"|-r src dst"
	"|-R src/. dst"
	"t|-a src atree"
	"t|-a src dst"
	"t|-p src/f pf"
	"t|-pR src ptree"
	"t|--preserve src/g pg"
	"t|--preserve=timestamps src/f tf"
	"t|--preserve=timestamps src/f dst/f"
	"t|--preserve=timestamps,links src/g dst/f"
	"|--preserve=mode,ownership src/f mof"
	"t|-a --no-preserve=ownership src nptree"
	"t|-a --no-preserve=xattr src nxtree"
	"|--no-preserve=mode src/f npmf"
	"|-R --no-preserve=mode src npmtree"
	"t|-a --no-preserve=mode src npmatree"
	"|--no-preserve=mode -p src/g npmp"
	"|--attributes-only src/f aof"
	"|--attributes-only src/g dst/f"
	"t|-a --attributes-only src/g dst/f"
	"t|-p --attributes-only src/g dst/f"
	"|-a --attributes-only src/ln dst/f"
	"|-a --remove-destination --attributes-only src/ln dst/f"
	"t|-a --attributes-only src aotree"
	# Not "-a --attributes-only src/. dst": dst/f is in the way of src/f,
	# whose hard link src/hl is new, and which of them cpd copies first
	# varies (cp goes in directory order); one order failed (exit 1).
	"|-dR src dtree"
	"|-R --preserve=links src ltree"
	"|-t dst src/f src/g"
	"|--target-directory=dst src/sub"
	"|-rT src dst"
	"|-RT src newt"
	"|-v src/f vf"
	"|-v src/f src/g dst"
	"|-rv src vtree"
	"|-Rv src/. dst"
	"|--strip-trailing-slashes -R src/ stree"
	"|-Z src/f zf"
	"|-f src/f dst/f"
	"|-f src/f dst/loop"	# a symlink loop in the way: replaced
	"|src/f dst/loop"
	"|--remove-destination src/f dst/f"
	"|-v --remove-destination src/f dst/f"
	"|--remove-destination src/f dst/null"
	"|--remove-destination src/f dst/fifo"
	"|--remove-destination src/f dst/dangle"
	"m|src/f dst/dangle"	# refused: "not writing through dangling symlink"
	"mp|src/f dst/dangle"	# POSIXLY_CORRECT: made where it leads
	"mp|-n src/f dst/dangle"
	"|-R --remove-destination src/. dst"
	"|-b src/f dst/f"
	"|-bv src/f dst/f"
	"|-S .bak src/f dst/f"
	"n|--backup=simple src/f src/g dst"	# cp 9.1 puts dst/f's backup in . (fixed in 9.2)
	"|--backup=none src/f dst/f"
	"|-b src/f dst/fifo"
	"|-bv src/f dst/null"
	"|-b --suffix=.old src/f dst/dangle"
	"|-Rb src/. dst"
	"|--backup=numbered src/f dst/f"
	"|--backup=t -R src/. dst"
	"|--backup=existing src/f dst/f"
	"n|-bf src/f src/f"	# cp keeps the file and copies it to f~; cpd renames it to f~
	"m|-b src/f src/f"
	# Into itself: refused before anything is copied (cp copies what it can
	# first, so the trees differ). With two sources the walk alone did not
	# always see it; cp's own messages for two sources depend on its order.
	"mn|-R src src/sub"
	"m|-b src/f src/hl"	# a hard link of the source: kept by the backup
	"m|-bf src/f src/hl"
	"m|--remove-destination src/f src/hl"
	"m|-f src/f src/hl"	# the same file
	"m|--remove-destination src/f src/f"
	"|-l src/f lf2"
	"m|-l src/f dst/f"
	"|-lf src/f dst/f"
	"|-l --remove-destination src/f dst/f"
	"m|-l src/f src/hl"	# the link is there already: nothing to do, exit 0
	"m|-fl src/f src/hl"
	"m|-bl src/f src/hl"
	"m|-bl src/g dst/f"	# -b: what is in the way is kept, so it is replaced
	"m|-bf src/f src/ln"	# a symlink in the way is backed up and replaced
	"m|-bfl src/g src/g"	# the file is backed up and linked again
	"m|-dl src/ln src/f"	# the symlink leads to the file: nothing to do
	"m|-bl src/f src/ln"
	"m|-l src/f src/f"
	# dst/./f in the way: named as cp names it, with src/./f (cp goes on
	# with the other files, cpd stops: the trees differ)
	"mn|-al src/. dst"
	"|-lR src/sub ltree"
	"t|-al src/sub altree"
	"|-lv src/g dst/"
	"|-L src/ln lf"
	"|-H src/ln hf"
	"|-RH src/ln src/sub hrtree"
	"|-RL src lrtree"
	"|-RL --preserve=links src lrltree"
	"|-lR src lrt"
	"|src/ln plainln"
	"|-P -R src/ln pln"
	"|-P src/ln pln2"
	"|-d src/ln dln"
	"m|-d src/ln src/f"	# the link onto what it leads to: "the same file"
	"|-bd src/ln src/f"
	"|-d src/f src/ln dst"
	"|--no-dereference src/ln src/f src/g dst/"
	"|-x -R src xtree"
	"|-u src/f dst/f"
	"|-u src/g dst/g"
	"|-n src/f dst/f"
	"|-n src/g dst/"
	"|-rn src dst"
	"m|nosuch x"
	"m|src x"
	"m|-R src src/f"
	"mn|-R src src/sub"
	"mn|-R src/sub src/sub"
	"m|src/f src/f"
	"m|-t nodir src/f"
	"m|src/f nodir/x"
	"m|-R src nodir/x"
	"m|src/f src/g nodir"
	"m|-T src/f dst"
	"m|src/f/ x"
	"m|src/f src/sub/../f src/empty"	# one file twice: copied once, with a warning
	"m|-R src/sub src/sub/ src/empty"
	"|--parents src/sub/h dst"
	"t|-a --parents src/sub/deep/i dst"	# the directories made get their times
	"|-a --parents src/sub/deep/i src/g dst"
	"|-R --parents src/sub/deep dst/"
	"|-p --parents src/sub/deep/i dst"
	"m|--parents src/f/x dst"
)

mk "$T/setup"
mkdir "$T/pair"
cp -a "$T/setup" "$T/pair/cp"
cp -a "$T/setup" "$T/pair/cpd"
for engine in io_uring fallback; do
	case $engine in
	io_uring) start_daemon_raw ;;
	*) start_daemon_raw -E "$engine" ;;
	esac
	W=$T/w.$engine
	mkdir "$W"
	n=0
	for row in "${ROWS[@]}"; do
		args=${row#*|} pre=()
		[[ ${row%%|*} == *p* ]] && pre=(env POSIXLY_CORRECT=1)
		cp -a "$T/pair" "$W/$n"
		rc=0
		# shellcheck disable=SC2086
		(cd "$W/$n/cp" && "${pre[@]}" cp $args >../cp.out 2>../cp.err) || rc=$?
		echo $rc >"$W/$n/cp.rc"
		rc=0
		# shellcheck disable=SC2086
		(cd "$W/$n/cpd" && "${pre[@]}" "$CLIENT" copy $args >../cpd.out \
			2>../cpd.err) || rc=$?
		echo $rc >"$W/$n/cpd.rc"
		no_temporaries "$W/$n/cpd"
		n=$((n + 1))
	done
	stop_daemon || fail "$engine: daemon failed on SIGTERM"
	py "$T/compare.py" "$T/setup" "$W" "${ROWS[@]}" >"$T/result" || fail "compare.py failed"
	read -r same total < <(tail -n 1 "$T/result")
	echo "cp_compat: $engine: $same of $total invocations as cp's"
	if [ "$same" != "$total" ]; then
		head -n -1 "$T/result" | sed 's/^/  /' >&2
		fail "$engine: $((total - same)) invocations differ from cp's"
	fi
	rm -rf "$W"
done

start_daemon_raw
# cp -al run again onto its own copy: every file is linked already, and
# nothing is done (cp: exit 0; cpd failed each file with "File exists").
mk "$T/al"
for round in 1 2; do
	rc=0
	(cd "$T/al" && cp -al src/. l.cp) || rc=$?
	expect_eq "cp -al, round $round: exit status" "$rc" 0
	(cd "$T/al" && "$CLIENT" copy -al src/. l.cpd) 2>"$T/al.err" || rc=$?
	expect_eq "cpd-client copy -al, round $round: exit status ($(cat "$T/al.err"))" "$rc" 0
done
# (A symlink is recreated, not linked: its link count is not cp's.)
listing() { (cd "$1" && find . \( -type l -printf '%p -> %l\n' \) -o -printf '%p %n %y\n' | sort); }
expect_eq "-al run twice: the copies" "$(listing "$T/al/l.cp")" "$(listing "$T/al/l.cpd")"
[ "$(stat -c %i "$T/al/l.cpd/sub/h")" = "$(stat -c %i "$T/al/src/sub/h")" ] ||
	fail "-al run twice: l.cpd/sub/h is not src/sub/h"

# Into a directory, the backup is made beside the file replaced (not in the
# working directory, as cp 9.1 does: a bug coreutils 9.2 fixed).
mk "$T/b"
(cd "$T/b" && "$CLIENT" copy -b src/f src/g dst) || fail "-b into a directory"
expect_eq "-b into a directory: the backup" "$(cat "$T/b/dst/f~")" old
[ ! -e "$T/b/f~" ] || fail "-b into a directory: a backup in the working directory"

# Two files of one name into a directory: cp's message; as any source
# that cannot be copied, it fails the job before anything is written
# (cp copies the first).
for args in "src/f dst/f src/empty" "--backup src/f src/sub/../f src/empty"; do
	mk "$T/dup"
	rc=0
	# shellcheck disable=SC2086
	(cd "$T/dup" && "$CLIENT" copy $args 2>"$T/dup.err") || rc=$?
	expect_eq "$args: exit status" "$rc" 1
	second=${args% *}; second=${second##* }
	expect_eq "$args: message" "$(cat "$T/dup.err")" \
		"cpd-client: will not overwrite just-created 'src/empty/f' with '$second'"
	[ -z "$(ls -A "$T/dup/src/empty")" ] || fail "$args: a copy was made"
done

# -i: asked about each file in the way, as cp; the answer read from stdin. The exit status, -v's lines and the file as cp's.
for args in "-vi src/f dst/f" "-vni src/f dst/f" "-vin src/f dst/f" "-vfi src/f dst/f" \
    "-vi src/f src/g dst"; do
	for answer in y n; do
		mk "$T/icp"; mk "$T/icpd"
		rc=0
		# shellcheck disable=SC2086
		# A here-string, not "echo |": a tool that exits without reading
		# (-n) would fail the writer with SIGPIPE, or not, as timing has it.
		(cd "$T/icp" && cp $args <<<"$answer" >"$T/icp.out" 2>/dev/null) || rc=$?
		rcd=0
		# shellcheck disable=SC2086
		(cd "$T/icpd" && "$CLIENT" copy $args <<<"$answer" >"$T/icpd.out" 2>"$T/icpd.err") ||
			rcd=$?
		expect_eq "$args, answered $answer: exit" "$rcd" "$rc"
		expect_eq "$args, answered $answer: stdout" "$(sort "$T/icpd.out")" "$(sort "$T/icp.out")"
		expect_eq "$args, answered $answer: dst/f" "$(cat "$T/icpd/dst/f")" "$(cat "$T/icp/dst/f")"
		[ "$args" = "-vin src/f dst/f" ] || grep -q "overwrite 'dst/f'? " "$T/icpd.err" ||
			fail "$args: no question: $(cat "$T/icpd.err")"
	done
done
# -i in a tree: each of its files in the way is asked about (the client
# walks the tree; an answer other than y leaves the file out), as cp asks.
# A copy of src made before, its files changed, one named with wildcards.
# (Refused before: exit 2.)
# imk DIR: that tree.
imk() {
	mk "$1"
	printf 'w\n' >"$1/src/sub/w*[x]?"
	cp -R "$1/src" "$1/dst/"
	find "$1/dst/src" -type f -exec sh -c 'echo old >"$1"' _ {} \;
}
# ilist DIR: DIR's entries, with each file's content's sum.
ilist() { (cd "$1" && find . -printf '%p %y ' \( -type f -exec md5sum {} \; \) -o -printf '\n' | sort); }
for args in "-iR src dst" "-ai src dst" "-iR src/. dst/src" "-iR src/sub dst/src"; do
	for answer in y n; do
		imk "$T/icp"; imk "$T/icpd"
		rc=0
		# shellcheck disable=SC2086
		(cd "$T/icp" && yes $answer | cp $args 2>"$T/icp.err") || rc=$?
		rcd=0
		# shellcheck disable=SC2086
		(cd "$T/icpd" && yes $answer | "$CLIENT" copy $args 2>"$T/icpd.err") || rcd=$?
		expect_eq "$args, answered $answer: exit" "$rcd" "$rc"
		expect_eq "$args, answered $answer: the questions" \
			"$(grep -o "overwrite '[^']*'?" "$T/icpd.err" | sort)" \
			"$(grep -o "overwrite '[^']*'?" "$T/icp.err" | sort)"
		expect_eq "$args, answered $answer: dst" "$(ilist "$T/icpd/dst")" "$(ilist "$T/icp/dst")"
	done
done
# A directory where the tree has a file (coreutils' cp-i): answered n,
# nothing to do, exit 0; y, cp's refusal.
for answer in n y; do
	for which in cp cpd; do
		tool=cp
		[ $which = cp ] || tool="$CLIENT copy"
		rm -rf "$T/idir" && mkdir -p "$T/idir/a" "$T/idir/b/a/c" && touch "$T/idir/a/c"
		rc=0
		# shellcheck disable=SC2086
		(cd "$T/idir" && echo $answer | $tool -iR a b 2>"$T/idir.err") || rc=$?
		echo "$rc $(sed 's/^cpd-client:/cp:/; s/? cpd-client:/? cp:/' "$T/idir.err")" >"$T/idir.$which"
		[ -d "$T/idir/b/a/c" ] || fail "-iR a b, answered $answer: b/a/c replaced"
	done
	expect_eq "-iR a b, answered $answer: exit and messages" "$(cat "$T/idir.cpd")" \
		"$(cat "$T/idir.cp")"
done

# Refused, never taken for something else: exit 2, "not supported", nothing made.
mk "$T/cpd"
cd "$T/cpd" || fail "cd"
for opt in --copy-contents --debug; do
	rc=0
	# shellcheck disable=SC2086
	"$CLIENT" copy $opt src/f newfile 2>"$T/err" || rc=$?
	expect_eq "copy $opt: exit" "$rc" 2
	grep -q "not supported" "$T/err" || fail "copy $opt: no 'not supported': $(cat "$T/err")"
	[ ! -e newfile ] || fail "copy $opt: made newfile"
done

# -s: in the working directory, a relative source as cp writes it (before,
# always the absolute path); elsewhere, where cp refuses a relative one,
# and in a tree, by the absolute path. An existing file an error without
# -f, the source itself "the same file".
"$CLIENT" copy -s src/f sf || fail "-s: failed"
expect_eq "-s: the link" "$(readlink sf)" src/f
"$CLIENT" copy -s ../cpd/src/g ./sg || fail "-s ../: failed"
expect_eq "-s ../: the link" "$(readlink sg)" ../cpd/src/g
"$CLIENT" copy -s src/f src/g . || fail "-s into .: failed"
expect_eq "-s into .: the links" "$(readlink f) $(readlink g)" "src/f src/g"
"$CLIENT" copy -s src/f dst/sf || fail "-s into dst: failed"
expect_eq "-s into dst: the link" "$(readlink dst/sf)" "$T/cpd/src/f"
rc=0
"$CLIENT" copy -s src/g sf 2>"$T/err" || rc=$?
expect_eq "-s onto a file: exit" "$rc" 1
expect_eq "-s onto a file: the message" "$(cat "$T/err")" \
    "cpd-client: cannot create symbolic link 'sf' to 'src/g': File exists"
"$CLIENT" copy -sf src/g sf || fail "-sf: failed"
expect_eq "-sf: the link" "$(readlink sf)" src/g
rc=0
"$CLIENT" copy -s src/f src/f 2>/dev/null || rc=$?
expect_eq "-s onto the source: exit" "$rc" 1
[ -f src/f ] && [ ! -L src/f ] || fail "-s onto the source: replaced it"
"$CLIENT" copy -sR src stree || fail "-sR: failed"
[ -d stree/sub/deep ] && [ ! -L stree/sub ] || fail "-sR: directories not made"
expect_eq "-sR: a file's link" "$(readlink stree/sub/deep/i)" "$T/cpd/src/sub/deep/i"

# --sparse=always and never: the blocks allocated, as cp's (the data goes
# by the pool's read/write with either engine). zeros: 1 MiB of zeros, a
# block of data, 1 MiB of zeros; holey: the same with holes.
{ head -c 1M /dev/zero; printf 'data'; head -c 1M /dev/zero; } >zeros
truncate -s 1M holey && printf 'data' >>holey && truncate -s +1M holey
for f in zeros holey; do
	for s in always never; do
		cp --reflink=never --sparse=$s $f cp.$f.$s
		"$CLIENT" copy --reflink=never --sparse=$s $f cpd.$f.$s || fail "--sparse=$s $f"
		same cp.$f.$s cpd.$f.$s
		expect_eq "--sparse=$s $f: blocks" "$(stat -c %b cpd.$f.$s)" "$(stat -c %b cp.$f.$s)"
	done
done
rc=0
"$CLIENT" copy --reflink --sparse=always zeros x 2>/dev/null || rc=$?
expect_eq "--reflink --sparse=always: exit, as cp's" "$rc" 1
cd "$T" || fail "cd"

# -x: a directory on another mount is copied empty, as by cp -x.
mk "$T/x"
if mount -t tmpfs -o size=1m cpdtest "$T/x/src/sub" 2>/dev/null; then
	printf 'other fs\n' >"$T/x/src/sub/on-tmpfs"
	(cd "$T/x" && cp -Rx src cpx && "$CLIENT" copy -Rx src cpdx) ||
		{ umount "$T/x/src/sub"; fail "-x: a copy failed"; }
	umount "$T/x/src/sub"
	[ -d "$T/x/cpdx/sub" ] || fail "-x: the mount point was not copied"
	[ -z "$(ls -A "$T/x/cpdx/sub")" ] || fail "-x: descended into the mount"
	expect_eq "-x: the entries, as cp -x's" "$(cd "$T/x/cpdx" && find . | sort)" \
	    "$(cd "$T/x/cpx" && find . | sort)"
else
	echo "NOTE: no tmpfs mount here: -x across mounts not tried"
fi

# A configuration file the caller may not read: a warning, not exit 2.
mkdir -p "$T/home/.config/cpd"
echo '[client]' >"$T/home/.config/cpd/client.conf"
chmod 000 "$T/home/.config/cpd/client.conf"
rc=0
HOME=$T/home XDG_CONFIG_HOME='' as_user cpdtest "$CLIENT" daemon-status >/dev/null 2>"$T/err" ||
	rc=$?
[ "$rc" != 2 ] || fail "unreadable client.conf: exit 2: $(cat "$T/err")"
grep -q "warning: skipping $T/home/.config/cpd/client.conf" "$T/err" ||
	fail "unreadable client.conf: no warning: $(cat "$T/err")"
