#!/usr/bin/python3
"""Hostile Varlink clients for the hostile_*.sh tests.

hostile_client.py SOCKET COMMAND [ARGS]; prints one JSON result line.

  flood N [SECONDS]  open N connections, then send GetStatus on each:
                     {"opened", "answered", "refused"} (refused: closed,
                     or no answer within SECONDS, 10, in all); holds them until
                     stdin closes (so the caller can look at the daemon)
  stall KIND         a client that never finishes a message: KIND is
                     "partial" (half a message, then silence), "trickle"
                     (a byte every 0.2 s of a message that would take a
                     minute) or "silent" (connects, sends nothing).
                     {"closed": true} when the daemon hung up within 60 s
  raw FILE           send FILE's bytes as they are; {"closed", "replies"}
  hold JSON SECONDS  send one call, then read for SECONDS: {"closed", "replies"}
  deaf JSON SECONDS  send one call, shut the reading side (the daemon's
                     replies fail with EPIPE) and stay for SECONDS: {}
  deafs N SRC DST    N deaf clients, one after the other, each gone as soon
                     as it has sent its Copy of SRC to DST.i: {}
  swap NAME TARGET   until stdin closes, swap NAME between the directory it
                     is and a symlink to TARGET, by renames: {"swaps"}
  copies N EXTRA SRC DST
                     N Copy calls with "more", one after the other, from
                     SRC (or SRC.i if SRC ends in ".") to DST.i, EXTRA a
                     JSON object of further parameters: {"states", "errors"}
  deluge N K JSON    on each of N connections send the call K times and
                     read nothing; print {} and wait for stdin to close;
                     then read every reply: {"replies": [count, ...]}
  jobs N SRC DST     N Copy calls (no "more") on one connection, pipelined
                     in batches: {"accepted", "too_many", "limit", "other"}
"""
import json
import os
import resource
import select
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


_pending = {}   # socket -> bytes received after the last whole reply


def read_replies(s, want, timeout=30):
    """Read until want replies, EOF or timeout: (replies, closed)."""
    s.settimeout(timeout)
    buf, out = _pending.pop(s, b""), []
    closed = False
    while True:
        while b"\0" in buf and len(out) < want:
            m, buf = buf.split(b"\0", 1)
            out.append(json.loads(m))
        if len(out) >= want:
            break
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            break
        except ConnectionResetError:
            d = b""
        if not d:
            closed = True
            break
        buf += d
    _pending[s] = buf
    return out, closed


def flood(path, n, seconds):
    socks, refused, answered = [], 0, 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
        n = min(n, min(hard, n + 64) - 64)
    for _ in range(n):
        try:
            socks.append(connect(path))
        except OSError:
            refused += 1
    status = json.dumps({"method": "io.cpd.Manager.GetStatus"}).encode() + b"\0"
    for s in socks:
        try:
            s.sendall(status)
        except OSError:
            pass
    deadline = time.monotonic() + seconds
    for s in socks:
        r, _ = read_replies(s, 1, max(0.1, deadline - time.monotonic()))
        if r and "error" not in r[0]:
            answered += 1
        else:
            refused += 1
    print(json.dumps({"opened": len(socks), "answered": answered, "refused": refused}),
          flush=True)
    sys.stdin.read()


def stall(path, kind):
    s = connect(path)
    msg = json.dumps({"method": "io.cpd.Manager.GetStatus",
                      "parameters": {"pad": "x" * 300}}).encode()
    if kind == "partial":
        s.sendall(msg[: len(msg) // 2])
    s.setblocking(False)
    deadline = time.monotonic() + 60
    sent = 0
    while time.monotonic() < deadline:
        try:
            if s.recv(4096) == b"":
                break
        except BlockingIOError:
            pass
        except ConnectionResetError:
            break
        if kind == "trickle":
            try:
                s.send(msg[sent:sent + 1])
                sent += 1
            except BlockingIOError:
                pass
            except OSError:
                break
        time.sleep(0.2)
    else:
        print(json.dumps({"closed": False, "sent": sent}))
        return
    print(json.dumps({"closed": True, "sent": sent}))


def raw(path, file):
    s = connect(path)
    with open(file, "rb") as f:
        data = f.read()
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the daemon hung up in the middle: that is an answer too
    r, closed = read_replies(s, 1 << 30, 30)
    print(json.dumps({"closed": closed, "replies": r}))


def hold(path, msg, seconds):
    s = connect(path)
    s.sendall(msg.encode() + b"\0")
    r, closed = read_replies(s, 1 << 30, seconds)
    print(json.dumps({"closed": closed, "replies": r}))


def deaf_send(path, msg, seconds):
    s = connect(path)
    s.shutdown(socket.SHUT_RD)
    s.sendall(msg.encode() + b"\0")
    time.sleep(seconds)
    s.close()


def deaf(path, msg, seconds):
    deaf_send(path, msg, seconds)
    print(json.dumps({}))


def deafs(path, n, src, dst):
    for i in range(n):
        deaf_send(path, json.dumps({"method": "io.cpd.Manager.Copy", "more": True, "parameters":
                                    {"sources": [src], "destination": "%s.%d" % (dst, i)}}), 0)
    print(json.dumps({}))


def swap(name, target):
    stash, link = name + ".dir", name + ".lnk"
    os.symlink(target, link)
    swaps = 0
    while not select.select([sys.stdin], [], [], 0)[0]:
        os.rename(name, stash)
        os.rename(link, name)
        os.rename(name, link)
        os.rename(stash, name)
        swaps += 1
    os.unlink(link)
    print(json.dumps({"swaps": swaps}))


def copies(path, n, extra, src, dst):
    s = connect(path)
    states, errors = {}, {}
    for i in range(n):
        p = {"sources": [src + str(i) if src.endswith(".") else src],
             "destination": "%s.%d" % (dst, i)}
        p.update(json.loads(extra))
        s.sendall(json.dumps({"method": "io.cpd.Manager.Copy", "more": True,
                              "parameters": p}).encode() + b"\0")
        while True:
            r, closed = read_replies(s, 1, 60)
            if not r:
                sys.exit("no reply (closed %s)" % closed)
            if not r[0].get("continues"):
                break
        job = r[0].get("parameters", {}).get("job", {})
        st = job.get("state", r[0].get("error"))
        states[st] = states.get(st, 0) + 1
        for e in [job.get("error")] + [f["error"] for f in job.get("failures", [])]:
            if e:
                errors[e] = errors.get(e, 0) + 1
    print(json.dumps({"states": states, "errors": errors}))


def deluge(path, n, k, msg):
    socks = [connect(path) for _ in range(n)]
    for s in socks:
        s.sendall((msg.encode() + b"\0") * k)
    print(json.dumps({}), flush=True)
    sys.stdin.read()
    counts = []
    for s in socks:
        r, _ = read_replies(s, k, 30)
        counts.append(len(r))
    print(json.dumps({"replies": counts}))


def jobs(path, n, src, dst):
    s = connect(path)
    res = {"accepted": 0, "too_many": 0, "limit": None, "other": []}
    batch = 200
    for start in range(0, n, batch):
        k = min(batch, n - start)
        # "normal": they stay queued behind the user's running job
        # (max_running_per_user); small "auto" ones would be interactive,
        # which has a cap of its own, and finish meanwhile.
        msgs = b"".join(json.dumps({"method": "io.cpd.Manager.Copy", "parameters": {
            "sources": [src], "destination": "%s.%d" % (dst, start + i),
            "priority": "normal"}}).encode() + b"\0"
            for i in range(k))
        s.sendall(msgs)
        r, closed = read_replies(s, k, 60)
        for m in r:
            if "error" not in m:
                res["accepted"] += 1
            elif m["error"] == "io.cpd.Manager.TooManyJobs":
                res["too_many"] += 1
                res["limit"] = m.get("parameters", {}).get("limit")
            elif len(res["other"]) < 5:
                res["other"].append(m)
        if len(r) < k:
            res["other"].append({"lost": k - len(r), "closed": closed})
            break
    print(json.dumps(res))


def main():
    path, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == "flood":
        flood(path, int(args[0]), float(args[1]) if len(args) > 1 else 10)
    elif cmd == "stall":
        stall(path, args[0])
    elif cmd == "raw":
        raw(path, args[0])
    elif cmd == "hold":
        hold(path, args[0], float(args[1]))
    elif cmd == "deaf":
        deaf(path, args[0], float(args[1]))
    elif cmd == "deafs":
        deafs(path, int(args[0]), args[1], args[2])
    elif cmd == "swap":
        swap(args[0], args[1])
    elif cmd == "copies":
        copies(path, int(args[0]), args[1], args[2], args[3])
    elif cmd == "deluge":
        deluge(path, int(args[0]), int(args[1]), args[2])
    elif cmd == "jobs":
        jobs(path, int(args[0]), args[1], args[2])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
