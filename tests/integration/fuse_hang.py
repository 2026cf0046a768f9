#!/usr/bin/python3
"""A file system that stops answering, for tests of a hung file system.

  fuse_hang.py MOUNTPOINT SIZE HANG

Mounts (as root, through /dev/fuse and mount(2): no FUSE library) a file
system holding one read-only file "f" of SIZE bytes (byte i is i % 251)
in its root, listed there and open to every user (allow_other). HANG names the request
it never answers: "flush" (the close of a file opened on it), "read"
(its data), or "none". Every other request is answered. Prints "ready"
when mounted, and "read by uid N" for each read it answers (N: the
credentials the kernel sent it); runs until killed or unmounted. The kernel's side of the
protocol is Linux's fuse.h, version 7.31.
"""

import ctypes
import errno
import os
import struct
import sys

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR = 1, 2, 3
FUSE_OPEN, FUSE_READ, FUSE_STATFS, FUSE_RELEASE = 14, 15, 17, 18
FUSE_FLUSH, FUSE_INIT, FUSE_OPENDIR, FUSE_READDIR = 25, 26, 27, 28
FUSE_RELEASEDIR, FUSE_ACCESS, FUSE_INTERRUPT = 29, 34, 36
FUSE_DESTROY, FUSE_BATCH_FORGET = 38, 42
NO_REPLY = (FUSE_FORGET, FUSE_BATCH_FORGET, FUSE_INTERRUPT)

IN_HEADER = struct.Struct("<IIQQIIII")      # len opcode unique nodeid uid gid pid pad
OUT_HEADER = struct.Struct("<IiQ")          # len error unique
ATTR = struct.Struct("<QQQQQQIIIIIIIIII")   # fuse_attr, 88 bytes
ROOT, FILE = 1, 2


def attr(node, size):
    mode = 0o40755 if node == ROOT else 0o100444
    return ATTR.pack(node, 0 if node == ROOT else size, (size + 511) // 512,
                     0, 0, 0, 0, 0, 0, mode, 2 if node == ROOT else 1,
                     0, 0, 0, 4096, 0)


def dirents(off, want):
    """The root's listing (".", "..", "f") from entry off on, in want bytes."""
    out = b""
    for i, (node, kind, name) in enumerate(((ROOT, 4, b"."), (ROOT, 4, b".."),
                                            (FILE, 8, b"f"))):
        if i < off:
            continue
        ent = struct.pack("<QQII", node, i + 1, len(name), kind) + name
        ent += bytes(-len(ent) % 8)
        if len(out) + len(ent) > want:
            break
        out += ent
    return out


def mount(fd, mountpoint):
    libc = ctypes.CDLL(None, use_errno=True)
    opts = "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other" % fd
    if libc.mount(b"fuse_hang", mountpoint.encode(), b"fuse", 6,  # nosuid, nodev
                  opts.encode()) != 0:
        e = ctypes.get_errno()
        sys.exit("mount: %s" % os.strerror(e))


def reply(fd, unique, err=0, body=b""):
    try:
        os.write(fd, OUT_HEADER.pack(OUT_HEADER.size + len(body), -err, unique) + body)
    except OSError as e:
        if e.errno != errno.ENOENT:     # the request was interrupted meanwhile
            raise


def serve(fd, size, hang):
    while True:
        try:
            req = os.read(fd, (1 << 20) + 4096)
        except OSError as e:
            if e.errno in (errno.ENODEV, errno.EBADF):
                return              # unmounted
            if e.errno == errno.EINTR:
                continue
            raise
        length, op, unique, node, uid, _, _, _ = IN_HEADER.unpack_from(req)
        arg = req[IN_HEADER.size:length]
        if op in NO_REPLY:
            continue
        if (op == FUSE_FLUSH and hang == "flush") or (op == FUSE_READ and hang == "read"):
            continue                # never answered
        if op == FUSE_INIT:
            major, minor, readahead, _ = struct.unpack_from("<IIII", arg)
            reply(fd, unique, 0, struct.pack("<IIIIHHIIHHI7I", 7, 31, readahead, 0,
                                             16, 12, 1 << 17, 1, 32, 0, 0, *[0] * 7))
        elif op == FUSE_LOOKUP:
            if node == ROOT and arg.rstrip(b"\0") == b"f":
                reply(fd, unique, 0, struct.pack("<QQQQII", FILE, 1, 1, 1, 0, 0)
                      + attr(FILE, size))
            else:
                reply(fd, unique, errno.ENOENT)
        elif op == FUSE_GETATTR:
            reply(fd, unique, 0, struct.pack("<QII", 1, 0, 0) + attr(node, size))
        elif op in (FUSE_OPEN, FUSE_OPENDIR):
            # FOPEN_KEEP_CACHE: an open does not wait for pages that
            # another reader's hung READ holds locked.
            reply(fd, unique, 0, struct.pack("<QII", node, 2 if op == FUSE_OPEN else 0, 0))
        elif op == FUSE_READ:
            print("read by uid %d" % uid, flush=True)
            _, off, want = struct.unpack_from("<QQI", arg)
            n = max(0, min(want, size - off))
            reply(fd, unique, 0, bytes((off + i) % 251 for i in range(n)))
        elif op in (FUSE_RELEASE, FUSE_RELEASEDIR, FUSE_FLUSH, FUSE_ACCESS,
                    FUSE_DESTROY):
            reply(fd, unique)
        elif op == FUSE_STATFS:
            reply(fd, unique, 0, bytes(80))
        elif op == FUSE_READDIR:
            _, off, want = struct.unpack_from("<QQI", arg)
            reply(fd, unique, 0, dirents(off, want))
        else:
            reply(fd, unique, errno.ENOSYS)


def main():
    mountpoint, size, hang = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    fd = os.open("/dev/fuse", os.O_RDWR)
    mount(fd, mountpoint)
    print("ready", flush=True)
    serve(fd, size, hang)


if __name__ == "__main__":
    main()
