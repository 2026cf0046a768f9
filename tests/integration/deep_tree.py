#!/usr/bin/env python3
"""A tree one directory per level, for the depth tests (hostile_depth.sh).

Not a test by itself (tests/run.sh runs only *.sh). Walked level by level
through directory fds, so that its paths may be longer than PATH_MAX, as
os.walk's may not. Usage:

  deep_tree.py make TOP DEPTH SIZE EVERY [NAME]
        TOP/NAME/NAME/... DEPTH levels (NAME default "d", modes 0755 and
        0750 in turn), a file "f" of SIZE random bytes at the bottom and
        a small one at every EVERY-th level (0: only at the bottom)
  deep_tree.py times TOP
        gives every directory and file its own times, in the past
  deep_tree.py cmp A B DEPTH [NAME]
        B is A, level by level: DEPTH levels, each directory's mode,
        mtime, owner and group, and each file's content and mtime
"""
import os
import sys
import time

DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def levels(top, name):
    """Each level's fd, top first; each is closed when the next is asked for."""
    fd = os.open(top, DIR)
    while True:
        yield fd
        try:
            nfd = os.open(name, DIR, dir_fd=fd)
        except FileNotFoundError:
            os.close(fd)
            return
        os.close(fd)
        fd = nfd


def make(top, depth, size, every, name):
    os.mkdir(top)
    fd = os.open(top, DIR)
    data = os.urandom(size)
    for i in range(depth):
        if i == depth - 1 or (every and i % every == 0):
            f = os.open("f", os.O_WRONLY | os.O_CREAT, 0o640, dir_fd=fd)
            os.write(f, data if i == depth - 1 else str(i).encode())
            os.close(f)
        if i < depth - 1:
            os.mkdir(name, 0o750 if i % 2 else 0o755, dir_fd=fd)
            nfd = os.open(name, DIR, dir_fd=fd)
            os.close(fd)
            fd = nfd
    os.close(fd)


def times(top, name):
    base = time.time_ns() - 86400 * 10**9
    fds = [os.dup(fd) for fd in levels(top, name)]
    # Deepest first: a directory's times are the last thing made in it.
    for i in reversed(range(len(fds))):
        try:
            os.utime("f", ns=(base + i * 7919, base + i * 104729), dir_fd=fds[i])
        except FileNotFoundError:
            pass
        os.utime(fds[i], ns=(base + i * 15485863, base + i * 3 * 10**9 + 17))
        os.close(fds[i])


def cmp(a_top, b_top, depth, name):
    n = 0
    for a, b in zip(levels(a_top, name), levels(b_top, name)):
        sa, sb = os.fstat(a), os.fstat(b)
        for k in ("st_mode", "st_mtime_ns", "st_uid", "st_gid"):
            if getattr(sa, k) != getattr(sb, k):
                sys.exit("level %d: %s %r, the copy's %r" % (n, k, getattr(sa, k), getattr(sb, k)))
        try:
            fa = os.open("f", os.O_RDONLY, dir_fd=a)
        except FileNotFoundError:
            fa = None
        if fa is not None:
            fb = os.open("f", os.O_RDONLY, dir_fd=b)
            if os.read(fa, 1 << 24) != os.read(fb, 1 << 24):
                sys.exit("level %d: f differs" % n)
            if os.fstat(fa).st_mtime_ns != os.fstat(fb).st_mtime_ns:
                sys.exit("level %d: f's mtime differs" % n)
            os.close(fa)
            os.close(fb)
        n += 1
    if n != depth:
        sys.exit("%d levels compared, want %d" % (n, depth))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "make":
        make(args[0], int(args[1]), int(args[2]), int(args[3]), args[4] if len(args) > 4 else "d")
    elif cmd == "times":
        times(args[0], args[1] if len(args) > 1 else "d")
    elif cmd == "cmp":
        cmp(args[0], args[1], int(args[2]), args[3] if len(args) > 3 else "d")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
