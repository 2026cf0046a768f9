#!/bin/bash
# verify: with "verify" each regular file's copy is read back from the
# disk before it is published, and compared with the source (XXH3-128),
# on both engines:
# 1. a small, a large (> 64 MiB, lanes), a sparse and an empty file, and
#    a tree, are copied identically; the Job counts their files and bytes;
#    each regular file was read back, a symlink not (the daemon's debug log says so per file);
#    a device written into (/dev/null) is not read back;
# 2. cpd-client copy --manifest M writes a manifest that xxh128sum -c M,
#    run in the job's destination directory, accepts unchanged (a tree,
#    and a file copied under a new name); it lists every regular file;
# 3. a copy spoiled on the disk before it is read back (cpd --fault
#    verify:N flips one byte of it) fails with EIO and "verify failed:
#    'DST' differs from 'SRC' after copy", and nothing is left under its
#    name (a large file, a small one, and one in a tree with keep_going,
#    whose other files are copied);
# 4. with sync the copy is read back after its fsync and before it is
#    linked in (the fallback engine's system calls, seen by strace);
# 5. a copy the caller may not reopen to read (archive, as a user, of
#    root's file of mode 0044: the copy is the user's, and its owner may
#    not read it) is read back the other way, written back, dropped and
#    read through the descriptor it was written by; a spoiled one fails;
# 6. a clone (XFS, reflink "always") is read back too, and one spoiled
#    (the flipped byte unshares its block) fails, the source untouched.
. "$(dirname "$0")/../lib.sh"

command -v xxh128sum >/dev/null || skip "xxh128sum (Debian's xxhash) is not installed"
MNT=$T/mnt
unmount() { mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"; true; }
TREE_EXIT_HOOK=unmount
trap tree_exit EXIT

state() { jfield parameters.job.state <<<"$1"; }
read_backs() { grep -c 'verify: [0-9]* bytes read back' "$DAEMON_LOG" || true; }

mkdir -p "$T/src/tree/sub/deep"
mkfile "$T/src/small" 10K
mkfile "$T/src/large" 70M
: > "$T/src/empty"
truncate -s 80M "$T/src/sparse"
mkfile "$T/chunk" 1M
dd if="$T/chunk" of="$T/src/sparse" bs=1M seek=40 conv=notrunc status=none
for i in 1 2 3 4 5 6; do mkfile "$T/src/tree/f$i" "$((i * 3))K"; done
mkfile "$T/src/tree/sub/g" 300K
mkfile "$T/src/tree/sub/deep/h" 2M
: > "$T/src/tree/sub/e"
ln -s f1 "$T/src/tree/link"
files=(small large empty sparse)

for engine in io_uring fallback; do
	O=$T/out-$engine
	mkdir -p "$O/files" "$O/tree" "$O/named"
	start_daemon -E "$engine"

	# ---- 1. Files and a tree, read back.
	before=$(read_backs)
	bytes=0
	for f in "${files[@]}"; do
		r=$(copy_wait '{"verify": true}' "$O/files/$f" "$T/src/$f")
		expect_eq "$engine: verify $f" "$(state "$r")" done
		expect_eq "$engine: $f files" "$(jfield parameters.job.files_done <<<"$r")" 1
		expect_eq "$engine: $f bytes" "$(jfield parameters.job.bytes_done <<<"$r")" \
			"$(stat -c %s "$T/src/$f")"
		same "$T/src/$f" "$O/files/$f"
		bytes=$((bytes + $(stat -c %s "$T/src/$f")))
	done
	r=$(copy_wait '{"verify": true}' "$O/files/" "${files[@]/#/$T/src/}")
	expect_eq "$engine: verify of four sources" "$(state "$r")" done
	expect_eq "$engine: four sources' files" "$(jfield parameters.job.files_done <<<"$r")" 4
	expect_eq "$engine: four sources' bytes" "$(jfield parameters.job.bytes_done <<<"$r")" "$bytes"
	expect_eq "$engine: files read back" "$(( $(read_backs) - before ))" 8
	r=$(copy_wait '{"verify": true, "recursive": true}' "$O/tree/" "$T/src/tree")
	expect_eq "$engine: verify of a tree" "$(state "$r")" done
	expect_eq "$engine: tree's files" "$(jfield parameters.job.files_done <<<"$r")" \
		"$(( $(tree_count "$T/src/tree" reg) + $(tree_count "$T/src/tree" symlinks) ))"
	expect_eq "$engine: tree's bytes" "$(jfield parameters.job.bytes_done <<<"$r")" \
		"$(tree_count "$T/src/tree" bytes)"
	tree_same "$T/src/tree" "$O/tree/tree"
	expect_eq "$engine: tree's files read back" "$(( $(read_backs) - before ))" \
		"$((8 + $(tree_count "$T/src/tree" reg)))"
	no_temporaries "$O"
	before=$(read_backs)
	r=$(copy_wait '{"verify": true}' /dev/null "$T/src/small")
	expect_eq "$engine: verify into /dev/null" "$(state "$r")" done
	expect_eq "$engine: a device is not read back" "$(read_backs)" "$before"

	# ---- 2. The manifest, checked by xxh128sum where the job wrote.
	"$CLIENT" copy -r --manifest "$T/m-$engine" "$T/src/tree" "$O/named/" >/dev/null ||
		fail "$engine: copy --manifest failed"
	(cd "$O/named" && xxh128sum --strict -c "$T/m-$engine" >/dev/null) ||
		fail "$engine: xxh128sum -c refuses the manifest: $(cat "$T/m-$engine")"
	expect_eq "$engine: manifest lines" "$(wc -l < "$T/m-$engine")" \
		"$(tree_count "$T/src/tree" reg)"
	"$CLIENT" copy --manifest "$T/m1-$engine" "$T/src/large" "$O/named/renamed" >/dev/null ||
		fail "$engine: copy --manifest of a file failed"
	expect_eq "$engine: a file's manifest" "$(cat "$T/m1-$engine")" \
		"$(cd "$T/src" && xxh128sum large | sed 's/large$/renamed/')"
	(cd "$O/named" && xxh128sum --strict -c "$T/m1-$engine" >/dev/null) ||
		fail "$engine: xxh128sum -c refuses a file's manifest"
	daemon_exit_ok

	# ---- 3. A copy spoiled on the disk: the 2nd, 3rd and 5th looks.
	start_daemon -E "$engine" --fault verify:2 --fault verify:3 --fault verify:5
	mkdir -p "$O/bad"
	r=$(copy_wait '{"verify": true}' "$O/bad/small-ok" "$T/src/small")
	expect_eq "$engine: first look" "$(state "$r")" done
	for f in large small; do
		r=$(copy_wait '{"verify": true}' "$O/bad/$f" "$T/src/$f")
		expect_eq "$engine: spoiled $f" "$(state "$r")" failed
		expect_eq "$engine: spoiled $f's error" "$(jfield parameters.job.error <<<"$r")" EIO
		expect_eq "$engine: spoiled $f's message" \
			"$(jfield parameters.job.error_message <<<"$r")" \
			"verify failed: '$O/bad/$f' differs from '$T/src/$f' after copy: Input/output error"
		[ ! -e "$O/bad/$f" ] || fail "$engine: spoiled $f published"
	done
	r=$(copy_wait '{"verify": true, "recursive": true, "keep_going": true}' "$O/bad/" "$T/src/tree")
	expect_eq "$engine: tree with a spoiled file" "$(state "$r")" done
	expect_eq "$engine: tree's failed files" "$(jfield parameters.job.files_failed <<<"$r")" 1
	msg=$(jfield parameters.job.failures.0.error_message <<<"$r")
	expect_eq "$engine: tree's failure's error" "$(jfield parameters.job.failures.0.error <<<"$r")" EIO
	bad=$(sed -n "s|^verify failed: '$O/bad/\(tree/[^']*\)' differs from '$T/src/\1' after copy: .*|\1|p" <<<"$msg")
	[ -n "$bad" ] || fail "$engine: tree's failure: '$msg'"
	[ ! -e "$O/bad/$bad" ] || fail "$engine: spoiled $bad published"
	(cd "$T/src" && find tree -type f ! -path "$bad" -exec cmp {} "$O/bad/{}" \;) ||
		fail "$engine: the tree's other files differ"
	no_temporaries "$O"
	daemon_exit_ok
done

# ---- 4. With sync: fsync, then the look, then the link.
start_daemon -E fallback
strace_daemon "$T/trace" -y -e trace=fsync,openat,linkat,renameat2
r=$(copy_wait '{"verify": true, "sync": true}' "$T/out-sync" "$T/src/large")
expect_eq "sync and verify" "$(state "$r")" done
kill "$TRACER"; wait "$TRACER" 2>/dev/null || true
daemon_exit_ok
same "$T/src/large" "$T/out-sync"
py - "$T/trace" <<'PYEOF' || fail "with sync the look is not between the fsync and the link: $(grep -v ENOENT "$T/trace")"
import re, sys
order, pending = [], set()
tmp = r"fsync\(\d+<[^>]*(#\d+>\(deleted\)|\.cpd-tmp[^>]*>)"
for line in open(sys.argv[1]):
    pid = line.split()[0]
    # A call another thread interrupts is split: "<unfinished ...>", then "<... resumed>".
    if re.search(tmp + r" <unfinished", line):
        pending.add(pid)
    elif re.search(tmp + r"\) = 0", line) or (
            pid in pending and re.search(r"<\.\.\. fsync resumed>.*= 0", line)):
        pending.discard(pid)
        order.append("fsync")
    elif "/proc/self/fd/" in line and "O_DIRECT" in line and "openat" in line:
        order.append("look")
    elif re.search(r"(linkat|renameat2)\(.*out-sync", line):
        order.append("link")
want = ["fsync", "look", "link"]
sys.exit(0 if [o for o in order if o in want][-3:] == want and order.count("look") == 1 else 1)
PYEOF

# ---- 5. No direct read: the other way, as a user (root only).
[ "$(id -u)" -eq 0 ] || { echo "parts 5 and 6 need root: not run"; exit 0; }
ensure_user cpdtest
mkfile "$T/src/others" 3M
chmod 0044 "$T/src/others"
mkdir -m 0777 "$T/user-out"
for engine in io_uring fallback; do
	start_daemon -E "$engine" --fault verify:2
	before=$(grep -c 'no direct read of the copy (EACCES)' "$DAEMON_LOG" || true)
	for n in 1 2; do
		r=$(varlink_as cpdtest "$(copy_msg '{"verify": true, "archive": true}' \
			"$T/user-out/$engine.$n" "$T/src/others")")
		want=done
		[ $n -eq 1 ] || want=failed
		expect_eq "$engine: a copy read back buffered, look $n" "$(state "$r")" $want
	done
	expect_eq "$engine: copies read back buffered" \
		"$(( $(grep -c 'no direct read of the copy (EACCES)' "$DAEMON_LOG") - before ))" 2
	expect_eq "$engine: its mode" "$(file_mode "$T/user-out/$engine.1")" 44
	same "$T/src/others" "$T/user-out/$engine.1"
	[ ! -e "$T/user-out/$engine.2" ] || fail "$engine: a spoiled copy read back buffered published"
	no_temporaries "$T/user-out"
	daemon_exit_ok
done

# ---- 6. A clone is read back; a spoiled one fails, its source untouched.
command -v mkfs.xfs >/dev/null || { echo "part 6 needs mkfs.xfs: not run"; exit 0; }
truncate -s 300M "$T/img"
mkfs.xfs -q -m reflink=1 "$T/img" >/dev/null 2>&1 || fail "mkfs.xfs failed"
mkdir "$MNT"
mount -o loop "$T/img" "$MNT" || { echo "cannot mount a loop image: part 6 not run"; exit 0; }
cp "$T/src/large" "$MNT/src"
sync -f "$MNT/src"
for engine in io_uring fallback; do
	start_daemon -E "$engine" --fault verify:2
	before=$(read_backs)
	r=$(copy_wait '{"verify": true, "reflink": "always"}' "$MNT/clone.$engine" "$MNT/src")
	expect_eq "$engine: verified clone" "$(state "$r")" done
	expect_eq "$engine: a clone" "$(jfield parameters.job.methods.reflink <<<"$r")" 1
	expect_eq "$engine: the clone read back" "$(( $(read_backs) - before ))" 1
	same "$T/src/large" "$MNT/clone.$engine"
	r=$(copy_wait '{"verify": true, "reflink": "always"}' "$MNT/spoiled.$engine" "$MNT/src")
	expect_eq "$engine: spoiled clone" "$(state "$r")" failed
	expect_eq "$engine: spoiled clone's error" "$(jfield parameters.job.error <<<"$r")" EIO
	[ ! -e "$MNT/spoiled.$engine" ] || fail "$engine: a spoiled clone published"
	same "$T/src/large" "$MNT/src"
	no_temporaries "$MNT"
	daemon_exit_ok
done

