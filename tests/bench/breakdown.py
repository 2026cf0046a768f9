#!/usr/bin/env python3
"""Where a small copy's time goes: N Copy calls of one 4 KiB file, each
timed by the client and split by the job's own timestamps into request
(the call sent -> created: the daemon reads and parses it), accept
(created -> started: the job's first journal record), run (started ->
finished: the copy) and announce (finished -> final reply: the record of
its end). Prints p50/p90/p99/max of each.

  breakdown.py SOCKET DIR N
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latency import Varlink  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def main():
    sock, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    src = os.path.join(d, "src4k")
    with open(src, "wb") as f:
        f.write(os.urandom(4096))
    rows = []
    for i in range(n):
        dst = os.path.join(d, "copy%d" % i)
        with Varlink(sock) as v:
            t0 = time.time()
            v.send("Copy", {"sources": [src], "destination": dst}, more=True)
            while True:
                r = v.recv()
                if not r.get("continues"):
                    break
            t1 = time.time()
        j = r["parameters"]["job"]
        if j["state"] != "done":
            sys.exit("job %s: %s" % (j["id"], j.get("error_message")))
        c, s, f = (j[k] / 1e6 for k in ("created_usec", "started_usec", "finished_usec"))
        rows.append(((c - t0) * 1e3, (s - c) * 1e3, (f - s) * 1e3, (t1 - f) * 1e3,
                     (t1 - t0) * 1e3))
        os.unlink(dst)
        time.sleep(0.005)
    names = ["request (sent -> created)", "accept (created -> started)", "run (started -> finished)",
             "announce (finished -> reply)", "total (client)"]
    for k, name in enumerate(names):
        xs = [r[k] for r in rows]
        print("%-30s p50 %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f ms"
              % (name, pct(xs, .5), pct(xs, .9), pct(xs, .99), max(xs)))


if __name__ == "__main__":
    main()
