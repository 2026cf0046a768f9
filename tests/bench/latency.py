#!/usr/bin/env python3
"""Round-trip latency of small requests to a running cpd daemon.

  latency.py --socket PATH --mode status|copy4k --samples N
             [--dir DIR] [--interval-ms 5] [--max-seconds S] [--json]

status:  one persistent connection, N sequential GetStatus calls; each
         sample is the time from sending the call to having the complete
         reply (time.perf_counter_ns).
copy4k:  a 4 KiB source in DIR; per sample a Copy of it to DIR/out.N with
         "more": true and priority "interactive" on a fresh connection,
         timed from the send (the connect is not timed) to the final reply;
         then the job state (done) and the destination size (4096) are
         checked and the destination is removed.
         With --direct, each sample is followed (after the same pause) by
         a direct copy of the same source made by this process in the
         same directory: open, read, create, write, close; timed apart
         and reported as "direct": the file system's own floor at the
         same moments. With --cold-source the source is evicted from the
         page cache before each copy (cpd's and the direct one), so each
         reads it from the disk, queued with whatever else reads there.

Prints one line:
  mode=status n=200 p50_us=.. p99_us=.. max_us=.. mean_us=..
(plus the jobs_running seen while sampling, which tells whether a load was
really present); --json prints one JSON object instead. Percentiles are
nearest-rank on the sorted samples. Exit status 1 if a sample failed.

Standard library only; benchmark scripts import it for its Varlink client.
"""

import argparse
import json
import math
import os
import socket
import sys
import time

IFACE = "io.cpd.Manager"
FINAL_STATES = ("done", "failed", "cancelled")


class VarlinkError(Exception):
    def __init__(self, error, parameters):
        super().__init__(f"{error} {json.dumps(parameters)}")
        self.error = error
        self.parameters = parameters


class Varlink:
    """A minimal Varlink client: JSON messages terminated by NUL."""

    def __init__(self, path, timeout=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = bytearray()

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def encode(method, parameters=None, more=False):
        msg = {"method": method if "." in method else f"{IFACE}.{method}"}
        if parameters is not None:
            msg["parameters"] = parameters
        if more:
            msg["more"] = True
        return json.dumps(msg, separators=(",", ":")).encode() + b"\0"

    def send(self, method, parameters=None, more=False):
        self.sock.sendall(self.encode(method, parameters, more))

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv(self):
        """One reply as a dict (raises VarlinkError on an error reply)."""
        while True:
            i = self.buf.find(b"\0")
            if i >= 0:
                msg = json.loads(self.buf[:i])
                del self.buf[:i + 1]
                if "error" in msg:
                    raise VarlinkError(msg["error"], msg.get("parameters", {}))
                return msg
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("daemon closed the connection")
            self.buf += chunk

    def call(self, method, parameters=None):
        self.send(method, parameters)
        return self.recv().get("parameters", {})

    def call_more(self, method, parameters=None):
        """Send with "more": true; return the last reply's parameters."""
        self.send(method, parameters, more=True)
        while True:
            msg = self.recv()
            if not msg.get("continues"):
                return msg.get("parameters", {})


def get_status(path, timeout=10):
    with Varlink(path, timeout) as v:
        return v.call("GetStatus")


def nearest_rank(sorted_samples, p):
    """Nearest-rank percentile p (0..100] of an ascending list."""
    if not sorted_samples:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_samples)))
    return sorted_samples[rank - 1]


def summarize(mode, samples_ns, running, errors, elapsed_s, requested):
    s = sorted(samples_ns)
    us = lambda ns: None if ns is None else round(ns / 1000.0, 1)
    out = {
        "mode": mode,
        "n": len(s),
        "requested": requested,
        "errors": errors,
        "p50_us": us(nearest_rank(s, 50)),
        "p99_us": us(nearest_rank(s, 99)),
        "max_us": us(s[-1]) if s else None,
        "mean_us": us(sum(s) / len(s)) if s else None,
        "elapsed_s": round(elapsed_s, 3),
    }
    if running:
        out["running_min"] = min(running)
        out["running_max"] = max(running)
        out["running_mean"] = round(sum(running) / len(running), 2)
        out["running_first"] = running[0]
        out["running_last"] = running[-1]
    return out


def fmt_line(r):
    parts = [f"mode={r['mode']}", f"n={r['n']}"]
    for k in ("p50_us", "p99_us", "max_us", "mean_us"):
        parts.append(f"{k}={r[k]}")
    if r["errors"]:
        parts.append(f"errors={r['errors']}")
    if "running_min" in r:
        parts.append(f"jobs_running={r['running_min']}..{r['running_max']}"
                     f"(mean {r['running_mean']})")
    if r["n"] < r["requested"]:
        parts.append(f"(stopped at --max-seconds: {r['n']} of {r['requested']})")
    if "direct" in r:
        parts.append("direct: " + fmt_line(r["direct"]))
    return " ".join(parts)


def sample_status(args):
    samples, running, errors = [], [], 0
    msg = Varlink.encode("GetStatus")
    deadline = time.monotonic() + args.max_seconds if args.max_seconds else None
    with Varlink(args.socket, args.timeout) as v:
        for _ in range(args.samples):
            if deadline and time.monotonic() > deadline:
                break
            t0 = time.perf_counter_ns()
            v.send_raw(msg)
            try:
                rep = v.recv()
            except VarlinkError as e:
                errors += 1
                print(f"GetStatus: {e}", file=sys.stderr)
                continue
            samples.append(time.perf_counter_ns() - t0)
            p = rep.get("parameters", {})
            if "jobs_running" in p:
                running.append(p["jobs_running"])
            if args.interval_ms:
                time.sleep(args.interval_ms / 1000.0)
    return samples, running, errors


def evict(path):
    """Drop a (clean) file from the page cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def direct_copy(src, dst):
    """The 4 KiB copy a process makes itself; its duration in ns."""
    t0 = time.perf_counter_ns()
    fd = os.open(src, os.O_RDONLY)
    try:
        data = os.read(fd, 65536)
    finally:
        os.close(fd)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    return time.perf_counter_ns() - t0


def sample_copy4k(args):
    d = os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "src4k")
    with open(src, "wb") as f:
        f.write(os.urandom(4096))
        if args.cold_source:
            os.fsync(f.fileno())    # only clean pages can be evicted
    samples, running, errors = [], [], 0
    args.direct_samples = []
    deadline = time.monotonic() + args.max_seconds if args.max_seconds else None
    side = Varlink(args.socket, args.timeout)  # untimed GetStatus after each sample
    try:
        for i in range(args.samples):
            if deadline and time.monotonic() > deadline:
                break
            dst = os.path.join(d, f"out.{i}")
            if args.cold_source:
                evict(src)
            msg = Varlink.encode("Copy", {"sources": [src], "destination": dst,
                                          "priority": "interactive"}, more=True)
            with Varlink(args.socket, args.timeout) as v:
                t0 = time.perf_counter_ns()
                v.send_raw(msg)
                try:
                    while True:
                        rep = v.recv()
                        if not rep.get("continues"):
                            break
                    t1 = time.perf_counter_ns()
                except VarlinkError as e:
                    errors += 1
                    print(f"Copy {i}: {e}", file=sys.stderr)
                    continue
            job = rep.get("parameters", {}).get("job", {})
            state = job.get("state")
            try:
                size = os.stat(dst).st_size
            except FileNotFoundError:
                size = None
            if state != "done" or size != 4096:
                errors += 1
                print(f"Copy {i}: state={state} size={size} "
                      f"error={job.get('error_message')}", file=sys.stderr)
            else:
                samples.append(t1 - t0)
            try:
                os.unlink(dst)
            except FileNotFoundError:
                pass
            try:
                st = side.call("GetStatus")
                if "jobs_running" in st:
                    running.append(st["jobs_running"])
            except (VarlinkError, OSError):
                pass
            if args.interval_ms:
                time.sleep(args.interval_ms / 1000.0)
            if args.direct:
                ddst = os.path.join(d, f"direct.{i}")
                if args.cold_source:
                    evict(src)
                args.direct_samples.append(direct_copy(src, ddst))
                os.unlink(ddst)
                if args.interval_ms:
                    time.sleep(args.interval_ms / 1000.0)
    finally:
        side.close()
        os.unlink(src)
    return samples, running, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--mode", choices=("status", "copy4k"), required=True)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--dir", help="directory for copy4k (default: a temp dir)")
    ap.add_argument("--interval-ms", type=float, default=5,
                    help="pause between samples (default 5)")
    ap.add_argument("--max-seconds", type=float, default=0,
                    help="stop sampling after this long (0: no limit)")
    ap.add_argument("--timeout", type=float, default=60,
                    help="socket timeout per reply, seconds (default 60)")
    ap.add_argument("--direct", action="store_true",
                    help="copy4k: also time direct copies, alternately")
    ap.add_argument("--cold-source", action="store_true",
                    help="copy4k: evict the source before each copy")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args()

    tmp = None
    if args.mode == "copy4k" and not args.dir:
        import tempfile
        tmp = tempfile.mkdtemp(prefix="cpd-latency.")
        args.dir = tmp
    t = time.monotonic()
    try:
        if args.mode == "status":
            samples, running, errors = sample_status(args)
        else:
            samples, running, errors = sample_copy4k(args)
    finally:
        if tmp:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    r = summarize(args.mode, samples, running, errors,
                  time.monotonic() - t, args.samples)
    if getattr(args, "direct_samples", None):
        r["direct"] = summarize("direct", args.direct_samples, [], 0, 0,
                                args.samples)
    print(json.dumps(r) if args.json else fmt_line(r))
    return 1 if errors or not samples else 0


if __name__ == "__main__":
    sys.exit(main())
