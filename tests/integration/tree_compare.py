#!/usr/bin/env python3
"""Compare two directory trees the way the tree_*.sh tests need.

Not a test by itself (tests/run.sh runs only *.sh). Usage:

  tree_compare.py [options] A B    compare B (the copy) against A
  tree_compare.py --count DIR      print counts of DIR as JSON

A and B are walked without following symlinks, with bytes paths (any name
works). Always compared: the set of names, the file type, the size and
content of regular files, symlink targets, rdev of devices; and no
non-directory of B may share an inode with A (a copy, not a link).

--archive     also: mode (all 07777 bits; not for symlinks), uid, gid,
              mtime_ns and atime_ns (symlinks too), every extended
              attribute (with system.posix_acl_access/default), and the
              hard-link grouping (paths that share an inode in A share one
              in B, and no others do).
--no-atime    with --archive: leave atime out.
--plain UMASK cp -r rules (UMASK in octal): mode of files and directories
              is A's permission bits & ~UMASK; B has no user.* xattrs and
              no POSIX ACLs.
--since NS    B's regular files and directories have mtime_ns >= NS - 1 s
              (times were not copied).
--sparse BLOCKS  regular files of A that are sparse (st_blocks * 512 <
              size): B's st_blocks must be at most A's + BLOCKS.
--exclude REL leave REL (a path relative to the roots, and all under it)
              out of the comparison; may be repeated.
--no-root-meta   leave the metadata of the two roots themselves out.

Prints every difference (the first 300) and exits 1 if there is any;
prints "same: N entries" and exits 0 otherwise.
"""
import hashlib
import json
import os
import stat
import sys


def walk(top):
    """{relative bytes path: lstat} for top and everything under it."""
    out = {b"": os.lstat(top)}
    stack = [b""] if stat.S_ISDIR(out[b""].st_mode) else []
    errors = []
    while stack:
        rel = stack.pop()
        d = os.path.join(top, rel) if rel else top
        try:
            with os.scandir(d) as it:
                names = [e.name for e in it]
        except OSError as e:
            errors.append((rel, e))
            continue
        for n in names:
            r = os.path.join(rel, n) if rel else n
            st = os.lstat(os.path.join(top, r))
            out[r] = st
            if stat.S_ISDIR(st.st_mode):
                stack.append(r)
    return out, errors


def show(rel):
    if rel == b"":
        return "."
    return rel.decode("utf-8", "backslashreplace").replace("\n", "\\n")


def xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    d = {}
    for n in names:
        try:
            d[n] = os.getxattr(path, n, follow_symlinks=False)
        except OSError as e:
            d[n] = "<%s>" % e.strerror
    return d


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def count(top):
    tree, errors = walk(top.encode() if isinstance(top, str) else top)
    c = {"entries": len(tree), "dirs": 0, "reg": 0, "reg_inodes": 0,
         "bytes": 0, "bytes_inodes": 0, "symlinks": 0, "special": 0,
         "errors": len(errors)}
    seen = set()
    for rel, st in tree.items():
        m = st.st_mode
        if stat.S_ISDIR(m):
            c["dirs"] += 1
        elif stat.S_ISREG(m):
            c["reg"] += 1
            c["bytes"] += st.st_size
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                c["reg_inodes"] += 1
                c["bytes_inodes"] += st.st_size
        elif stat.S_ISLNK(m):
            c["symlinks"] += 1
        else:
            c["special"] += 1
    print(json.dumps(c))


def main(argv):
    opts = {"archive": False, "atime": True, "plain": None, "since": None,
            "sparse": None, "exclude": [], "root_meta": True}
    args = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--archive":
            opts["archive"] = True
        elif a == "--no-atime":
            opts["atime"] = False
        elif a == "--plain":
            i += 1
            opts["plain"] = int(argv[i], 8)
        elif a == "--since":
            i += 1
            opts["since"] = int(argv[i])
        elif a == "--sparse":
            i += 1
            opts["sparse"] = int(argv[i])
        elif a == "--exclude":
            i += 1
            opts["exclude"].append(os.fsencode(argv[i]).rstrip(b"/"))
        elif a == "--no-root-meta":
            opts["root_meta"] = False
        elif a == "--count":
            count(os.fsencode(argv[i + 1]))
            return 0
        else:
            args.append(a)
        i += 1
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    A, B = (os.fsencode(x) for x in args)
    ta, ea = walk(A)
    tb, eb = walk(B)
    diffs = []

    def diff(rel, what, a=None, b=None):
        if a is None and b is None:
            diffs.append("%s: %s" % (show(rel), what))
        else:
            diffs.append("%s: %s: A=%s B=%s" % (show(rel), what, a, b))

    for rel, e in ea:
        diff(rel, "cannot read A: %s" % e)
    for rel, e in eb:
        diff(rel, "cannot read B: %s" % e)

    def excluded(rel):
        return any(rel == x or rel.startswith(x + b"/") for x in opts["exclude"])

    for rel in sorted(set(ta) - set(tb)):
        if not excluded(rel):
            diff(rel, "missing in B")
    for rel in sorted(set(tb) - set(ta)):
        if not excluded(rel):
            diff(rel, "only in B")
    common = sorted(r for r in set(ta) & set(tb) if not excluded(r))

    # Everything of B that a later read could change (atime) is in tb now.
    a_inodes = {(st.st_dev, st.st_ino) for st in ta.values()
                if not stat.S_ISDIR(st.st_mode)}
    to_hash = []
    for rel in common:
        sa, sb = ta[rel], tb[rel]
        pa = os.path.join(A, rel) if rel else A
        pb = os.path.join(B, rel) if rel else B
        fa, fb = stat.S_IFMT(sa.st_mode), stat.S_IFMT(sb.st_mode)
        if fa != fb:
            diff(rel, "type", oct(fa), oct(fb))
            continue
        meta = rel != b"" or opts["root_meta"]
        if not stat.S_ISDIR(sb.st_mode) and (sb.st_dev, sb.st_ino) in a_inodes:
            diff(rel, "B shares an inode with A (dev %d ino %d)" % (sb.st_dev, sb.st_ino))
        if stat.S_ISREG(sa.st_mode):
            if sa.st_size != sb.st_size:
                diff(rel, "size", sa.st_size, sb.st_size)
            else:
                to_hash.append(rel)
            if opts["sparse"] is not None and sa.st_blocks * 512 < sa.st_size and \
                    sb.st_blocks > sa.st_blocks + opts["sparse"]:
                diff(rel, "not sparse: st_blocks (512 B)", sa.st_blocks, sb.st_blocks)
        elif stat.S_ISLNK(sa.st_mode):
            la, lb = os.readlink(pa), os.readlink(pb)
            if la != lb:
                diff(rel, "symlink target", la, lb)
        elif stat.S_ISCHR(sa.st_mode) or stat.S_ISBLK(sa.st_mode):
            if sa.st_rdev != sb.st_rdev:
                diff(rel, "rdev", "%d:%d" % (os.major(sa.st_rdev), os.minor(sa.st_rdev)),
                     "%d:%d" % (os.major(sb.st_rdev), os.minor(sb.st_rdev)))
        if not meta:
            continue
        islnk = stat.S_ISLNK(sa.st_mode)
        if opts["archive"]:
            if not islnk and stat.S_IMODE(sa.st_mode) != stat.S_IMODE(sb.st_mode):
                diff(rel, "mode", oct(stat.S_IMODE(sa.st_mode)), oct(stat.S_IMODE(sb.st_mode)))
            if sa.st_uid != sb.st_uid:
                diff(rel, "uid", sa.st_uid, sb.st_uid)
            if sa.st_gid != sb.st_gid:
                diff(rel, "gid", sa.st_gid, sb.st_gid)
            if sa.st_mtime_ns != sb.st_mtime_ns:
                diff(rel, "mtime_ns", sa.st_mtime_ns, sb.st_mtime_ns)
            if opts["atime"] and sa.st_atime_ns != sb.st_atime_ns:
                diff(rel, "atime_ns", sa.st_atime_ns, sb.st_atime_ns)
            xa, xb = xattrs(pa), xattrs(pb)
            for n in sorted(set(xa) | set(xb)):
                if xa.get(n) != xb.get(n):
                    diff(rel, "xattr %s" % n.replace("\n", "\\n"), xa.get(n), xb.get(n))
        if opts["plain"] is not None:
            if not islnk and (stat.S_ISREG(sa.st_mode) or stat.S_ISDIR(sa.st_mode)):
                want = stat.S_IMODE(sa.st_mode) & 0o777 & ~opts["plain"]
                if stat.S_IMODE(sb.st_mode) != want:
                    diff(rel, "mode (want %s)" % oct(want),
                         oct(stat.S_IMODE(sa.st_mode)), oct(stat.S_IMODE(sb.st_mode)))
            for n in xattrs(pb):
                if n.startswith("user.") or n.startswith("system.posix_acl"):
                    diff(rel, "xattr %s copied without archive" % n)
        if opts["since"] is not None and not islnk and \
                (stat.S_ISREG(sb.st_mode) or stat.S_ISDIR(sb.st_mode)) and \
                sb.st_mtime_ns < opts["since"] - 10**9:
            diff(rel, "mtime_ns older than the copy (times copied?)", opts["since"], sb.st_mtime_ns)

    if opts["archive"]:
        def groups(tree):
            by = {}
            for rel in common:
                st = tree[rel]
                if not stat.S_ISDIR(st.st_mode):
                    by.setdefault((st.st_dev, st.st_ino), []).append(rel)
            return {rel: frozenset(g) for g in by.values() for rel in g}
        ga, gb = groups(ta), groups(tb)
        reported = set()
        for rel in common:
            if rel in ga and ga[rel] != gb.get(rel) and ga[rel] not in reported:
                reported.add(ga[rel])
                diff(rel, "hard links", sorted(show(r) for r in ga[rel]),
                     sorted(show(r) for r in gb.get(rel, ())))

    for rel in to_hash:
        pa = os.path.join(A, rel) if rel else A
        pb = os.path.join(B, rel) if rel else B
        try:
            if digest(pa) != digest(pb):
                diff(rel, "content differs")
        except OSError as e:
            diff(rel, "cannot read: %s" % e)

    if diffs:
        for d in diffs[:300]:
            print(d)
        if len(diffs) > 300:
            print("... %d more" % (len(diffs) - 300))
        print("%d difference(s)" % len(diffs))
        return 1
    print("same: %d entries" % len(common))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
