#!/bin/bash
# tree_reflink: the reflink parameter. Where cloning is impossible (the
# test directory's own filesystem when it cannot clone, and across
# filesystems: to a tmpfs, as root): "always" fails the job (EOPNOTSUPP or
# EXDEV) and leaves nothing behind, "auto" (the default) and "never" copy
# the bytes with methods.reflink 0; the Job echoes the choice; an unknown
# value is an InvalidParameter. On a reflink-capable XFS (or btrfs) loop
# image (root, mkfs.xfs or mkfs.btrfs installed): "always" clones a
# 64 MiB file (methods.reflink 1, extents shared per filefrag), a tree is
# cloned file by file, "never" does not share extents, and "always" from
# the image to another filesystem fails.
. "$(dirname "$0")/../lib.sh"

MNT=$T/mnt TMPFS=$T/tmpfs
unmount_all() {
	local m
	for m in "$MNT" "$TMPFS"; do
		mountpoint -q "$m" 2>/dev/null && umount "$m" 2>/dev/null ||
			{ mountpoint -q "$m" 2>/dev/null && umount -l "$m"; } || true
	done
}
TREE_EXIT_HOOK=unmount_all
trap tree_exit EXIT

start_daemon_raw
state_of() { jfield parameters.job.state <<<"$1"; }
error_of() { jfield parameters.job.error <<<"$1"; }
methods_of() { jfield parameters.job.methods.$2 <<<"$1"; }
expect_noclone() {	# WHAT REPLIES: failed with EOPNOTSUPP/ENOTSUP/EXDEV
	expect_eq "$1: state" "$(state_of "$2")" failed
	case $(error_of "$2") in
	EOPNOTSUPP|ENOTSUP|EXDEV) ;;
	*) fail "$1: error $(error_of "$2") ($(jfield parameters.job.error_message <<<"$2")), want EOPNOTSUPP or EXDEV" ;;
	esac
}
# shared PATH: filefrag -v reports a shared extent.
shared() { filefrag -v "$1" 2>/dev/null | grep -q shared; }

mkdir "$T/src" "$T/out"
mkfile "$T/src/f" 5M
mkdir -p "$T/src/tree/sub"
mkfile "$T/src/tree/a" 100K
mkfile "$T/src/tree/sub/b" 1M

# ---- The test directory's own filesystem.
FSTYPE=$(stat -f -c %T "$T")
if cp --reflink=always "$T/src/f" "$T/probe" 2>/dev/null; then
	CLONES=yes
else
	CLONES=no
fi
rm -f "$T/probe"

r=$(copy_wait '{"reflink": "never"}' "$T/out/never" "$T/src/f")
expect_eq "never: state" "$(state_of "$r")" done
expect_eq "never: job.reflink" "$(jfield parameters.job.reflink <<<"$r")" never
expect_eq "never: methods.reflink" "$(methods_of "$r" reflink)" 0
same "$T/src/f" "$T/out/never"
ra=$(copy_wait "" "$T/out/auto" "$T/src/f")
expect_eq "auto: state" "$(state_of "$ra")" done
expect_eq "auto: job.reflink (default)" "$(jfield parameters.job.reflink <<<"$ra")" auto
same "$T/src/f" "$T/out/auto"
r=$(varlink_call "$(copy_msg '{"reflink": "sometimes"}' "$T/out/bad" "$T/src/f")")
expect_eq "unknown reflink value" "$(jfield error <<<"$r")" org.varlink.service.InvalidParameter
expect_eq "unknown reflink value: parameter" "$(jfield parameters.parameter <<<"$r")" reflink
[ ! -e "$T/out/bad" ] || fail "unknown reflink value: a copy was made"
if [ $CLONES = no ]; then
	expect_eq "auto on $FSTYPE: methods.reflink" "$(methods_of "$ra" reflink)" 0
	r=$(copy_wait '{"reflink": "always"}' "$T/out/always" "$T/src/f")
	expect_noclone "always on $FSTYPE" "$r"
	expect_eq "always on $FSTYPE: job.reflink" "$(jfield parameters.job.reflink <<<"$r")" always
	[ ! -e "$T/out/always" ] || fail "always on $FSTYPE: the file was created"
	r=$(copy_wait '{"reflink": "always", "recursive": true}' "$T/out/always-tree" "$T/src/tree")
	expect_noclone "always, tree on $FSTYPE" "$r"
	r=$(copy_wait '{"reflink": "auto", "recursive": true}' "$T/out/auto-tree" "$T/src/tree")
	expect_eq "auto, tree: state" "$(state_of "$r")" done
	expect_eq "auto, tree on $FSTYPE: methods.reflink" "$(methods_of "$r" reflink)" 0
	tree_same --plain 022 "$T/src/tree" "$T/out/auto-tree"
fi
no_temporaries "$T/out"

# ---- Across filesystems: to a tmpfs.
[ "$(id -u)" -eq 0 ] || skip "mounts need root (same-filesystem part passed, $FSTYPE clones: $CLONES)"
mkdir "$TMPFS"
mount -t tmpfs -o size=64m tmpfs "$TMPFS" || skip "cannot mount a tmpfs (same-filesystem part passed)"
r=$(copy_wait '{"reflink": "always"}' "$TMPFS/f" "$T/src/f")
expect_noclone "always to tmpfs" "$r"
[ ! -e "$TMPFS/f" ] || fail "always to tmpfs: the file was created"
r=$(copy_wait '{"reflink": "auto"}' "$TMPFS/f" "$T/src/f")
expect_eq "auto to tmpfs: state" "$(state_of "$r")" done
expect_eq "auto to tmpfs: methods.reflink" "$(methods_of "$r" reflink)" 0
same "$T/src/f" "$TMPFS/f"
no_temporaries "$TMPFS"

# ---- A filesystem that clones: XFS with reflink=1, or btrfs.
if command -v mkfs.xfs >/dev/null; then
	MKFS=(mkfs.xfs -q -m reflink=1)
elif command -v mkfs.btrfs >/dev/null; then
	MKFS=(mkfs.btrfs -q)
else
	skip "no mkfs.xfs or mkfs.btrfs (xfsprogs/btrfs-progs not installed): cloning untested ($FSTYPE and tmpfs parts passed)"
fi
truncate -s 300M "$T/img"
"${MKFS[@]}" "$T/img" >/dev/null 2>&1 || fail "${MKFS[*]} failed"
mkdir "$MNT"
mount -o loop "$T/img" "$MNT" || skip "cannot mount a loop image here ($FSTYPE and tmpfs parts passed)"
mkfile "$MNT/big" 64M
mkdir -p "$MNT/tree/sub"
mkfile "$MNT/tree/a" 1M
mkfile "$MNT/tree/sub/b" 2M
ln -s a "$MNT/tree/link"
tree_set_times "$MNT/tree"
sync -f "$MNT/big"
r=$(copy_wait '{"reflink": "always"}' "$MNT/big.clone" "$MNT/big")
expect_eq "clone: state" "$(state_of "$r")" done
expect_eq "clone: methods.reflink" "$(methods_of "$r" reflink)" 1
expect_eq "clone: bytes_done" "$(jfield parameters.job.bytes_done <<<"$r")" $((64 * 1024 * 1024))
same "$MNT/big" "$MNT/big.clone"
sync -f "$MNT/big.clone"
shared "$MNT/big.clone" || fail "clone: no shared extents: $(filefrag -v "$MNT/big.clone" | head -n 8)"
r=$(copy_wait '{"reflink": "never"}' "$MNT/big.copy" "$MNT/big")
expect_eq "never on ${MKFS[0]}: state" "$(state_of "$r")" done
expect_eq "never on ${MKFS[0]}: methods.reflink" "$(methods_of "$r" reflink)" 0
sync -f "$MNT/big.copy"
! shared "$MNT/big.copy" || fail "never on ${MKFS[0]}: the copy shares extents"
r=$(copy_wait '{"reflink": "always", "archive": true}' "$MNT/tree.clone" "$MNT/tree")
expect_eq "tree clone: state" "$(state_of "$r")" done
expect_eq "tree clone: methods.reflink" "$(methods_of "$r" reflink)" 2
expect_eq "tree clone: methods.links" "$(methods_of "$r" links)" 1
tree_same --archive "$MNT/tree" "$MNT/tree.clone"
r=$(copy_wait "" "$MNT/auto.clone" "$MNT/tree/a")
expect_eq "auto on ${MKFS[0]}: methods.reflink" "$(methods_of "$r" reflink)" 1
# From the image to the test directory's filesystem: no clone across.
r=$(copy_wait '{"reflink": "always"}' "$T/out/across" "$MNT/big")
expect_noclone "always across filesystems" "$r"
[ ! -e "$T/out/across" ] || fail "always across filesystems: the file was created"
no_temporaries "$MNT"
no_temporaries "$T/out"
daemon_exit_ok
echo "PASS: tree_reflink"
