#!/usr/bin/env python3
"""Helpers for the cpd benchmark scripts (standard library only).

  cpdbench.py status --socket S
      print the daemon's GetStatus reply as JSON
  cpdbench.py bulk --socket S --dest-dir D [--priority bulk] [--ready F]
                   [--summary F] SRC...
      keep one Copy of each SRC (no "more"; then Wait) to D/bulk.N running,
      restarting each when it ends, until SIGTERM or SIGINT; then Cancel what
      runs, write a JSON summary and exit. --ready F is created once every
      copy is submitted and data is moving.
  cpdbench.py mkdata --dir D --size-mib N --count K
      K files of N MiB in D: not sparse, not zeros (a 64 MiB random block
      repeated), fsynced
  cpdbench.py many --socket S --dir D [--clients 200] [--jobs 5]
                   [--max-kib 256]
      many concurrent clients each submit several small Copy jobs, wait
      for them and check every destination's bytes; prints a JSON summary
  cpdbench.py report DIR
      markdown tables from the result files of responsiveness.sh
"""

import argparse
import hashlib
import json
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latency import Varlink, VarlinkError, evict, get_status, nearest_rank  # noqa: E402

FINAL = ("done", "failed", "cancelled")


# ---------------------------------------------------------------- status

def cmd_status(args):
    print(json.dumps(get_status(args.socket)))


# ---------------------------------------------------------------- bulk

class BulkLoad:
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.current = [None] * len(args.sources)  # job id per slot
        self.started = self.done = self.failed = self.cancelled = 0
        self.errors = []
        self.bytes_done = 0

    def slot(self, i):
        a = self.args
        src = os.path.abspath(a.sources[i])
        dst = os.path.join(os.path.abspath(a.dest_dir), f"bulk.{i}")
        params = {"sources": [src], "destination": dst}
        if a.sync:
            params["sync"] = True
        if a.priority:
            params["priority"] = a.priority
        try:
            v = Varlink(a.socket)
        except OSError as e:
            self.errors.append(f"slot {i}: connect: {e}")
            return
        fails = 0
        with v:
            while True:
                if a.cold:
                    evict(src)
                # Submit under the lock: the stop path then sees every id.
                with self.lock:
                    if self.stop.is_set():
                        return
                    try:
                        job = v.call("Copy", params)["job"]
                    except (VarlinkError, OSError) as e:
                        self.errors.append(f"slot {i}: Copy: {e}")
                        return
                    self.current[i] = job["id"]
                    self.started += 1
                try:
                    job = v.call("Wait", {"id": job["id"]})["job"]
                except (VarlinkError, OSError) as e:
                    self.errors.append(f"slot {i}: Wait: {e}")
                    return
                with self.lock:
                    self.current[i] = None
                    self.bytes_done += job.get("bytes_done", 0)
                    st = job.get("state")
                    if st == "done":
                        self.done += 1
                        fails = 0
                    elif st == "cancelled":
                        self.cancelled += 1
                    else:
                        self.failed += 1
                        fails += 1
                        self.errors.append(f"slot {i}: job {job['id']} {st}: "
                                           f"{job.get('error_message')}")
                if fails >= 3:
                    return
                if self.stop.is_set():
                    return

    def moving(self):
        """Every slot has a job and data of at least one is moving."""
        with self.lock:
            ids = list(self.current)
        if None in ids:
            return False
        try:
            with Varlink(self.args.socket, 10) as v:
                for jid in ids:
                    j = v.call("Get", {"id": jid})["job"]
                    if j.get("bytes_done", 0) > 0:
                        return True
        except (VarlinkError, OSError):
            pass
        return False

    def run(self):
        a = self.args
        got_signal = threading.Event()
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, lambda *_: got_signal.set())
        threads = [threading.Thread(target=self.slot, args=(i,), daemon=True)
                   for i in range(len(a.sources))]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        ready = False
        while not got_signal.is_set():
            if not ready:
                if self.moving():
                    ready = True
                    if a.ready:
                        with open(a.ready, "w") as f:
                            f.write(json.dumps(get_status(a.socket)) + "\n")
                elif time.monotonic() - t0 > a.ready_timeout:
                    self.errors.append("load did not start in time")
                    break
            if not any(t.is_alive() for t in threads):
                self.errors.append("all bulk slots stopped")
                break
            got_signal.wait(0.05)
        # Stop: no new submissions, then cancel what runs.
        with self.lock:
            self.stop.set()
            ids = [j for j in self.current if j is not None]
        t1 = time.monotonic()
        try:
            with Varlink(a.socket, 120) as v:
                for jid in ids:
                    try:
                        v.call("Cancel", {"id": jid})
                    except VarlinkError as e:
                        self.errors.append(f"Cancel {jid}: {e}")
        except OSError as e:
            self.errors.append(f"Cancel: {e}")
        for t in threads:
            t.join(30)
        summary = {
            "slots": len(a.sources), "started": self.started, "done": self.done,
            "cancelled": self.cancelled, "failed": self.failed,
            "bytes_done": self.bytes_done,
            "load_seconds": round(t1 - t0, 2),
            "cancel_seconds": round(time.monotonic() - t1, 3),
            "errors": self.errors,
        }
        if a.summary:
            with open(a.summary, "w") as f:
                json.dump(summary, f)
        print(json.dumps(summary))
        return 0 if ready and not self.failed else 1


def cmd_bulk(args):
    os.makedirs(args.dest_dir, exist_ok=True)
    return BulkLoad(args).run()


# ---------------------------------------------------------------- mkdata

def cmd_mkdata(args):
    os.makedirs(args.dir, exist_ok=True)
    block = os.urandom(min(64, args.size_mib) << 20)
    size = args.size_mib << 20
    for k in range(args.count):
        path = os.path.join(args.dir, f"src.{k}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            try:
                os.posix_fallocate(fd, 0, size)
            except OSError:
                pass
            off = 0
            while off < size:
                off += os.pwrite(fd, memoryview(block)[:size - off], off)
            # Different first bytes: no two files are the same.
            os.pwrite(fd, os.urandom(min(4096, size)), 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        print(path)


# ---------------------------------------------------------------- many

def cmd_many(args):
    d = os.path.abspath(args.dir)
    srcdir, outdir = os.path.join(d, "src"), os.path.join(d, "out")
    os.makedirs(srcdir, exist_ok=True)
    os.makedirs(outdir, exist_ok=True)
    rnd = random.Random(args.seed)
    maxb = args.max_kib << 10
    edges = [0, 1, 4095, 4096, 4097, 65536, maxb - 1, maxb]
    total = args.clients * args.jobs
    sizes = [edges[i] if i < len(edges) else rnd.randint(0, maxb)
             for i in range(total)]
    rnd.shuffle(sizes)
    digests = []
    for n, size in enumerate(sizes):
        data = os.urandom(size)
        with open(os.path.join(srcdir, f"f{n}"), "wb") as f:
            f.write(data)
        digests.append(hashlib.sha256(data).hexdigest())

    barrier = threading.Barrier(args.clients + 1)
    results = [None] * args.clients
    copy_lat = []
    lat_lock = threading.Lock()

    def client(c):
        r = {"ok": 0, "errors": []}
        results[c] = r
        try:
            v = Varlink(args.socket, args.timeout)
        except OSError as e:
            r["errors"].append(f"client {c}: connect: {e}")
            barrier.wait()
            return
        with v:
            barrier.wait()
            jobs = []
            try:
                # Pipelined: all Copy calls first, then all replies.
                msgs = []
                for k in range(args.jobs):
                    n = c * args.jobs + k
                    dst = os.path.join(outdir, f"c{c}.{k}")
                    msgs.append((n, dst, Varlink.encode("Copy", {
                        "sources": [os.path.join(srcdir, f"f{n}")],
                        "destination": dst})))
                t0 = time.perf_counter_ns()
                v.send_raw(b"".join(m[2] for m in msgs))
                for n, dst, _ in msgs:
                    try:
                        job = v.recv()["parameters"]["job"]
                        jobs.append((n, dst, job["id"]))
                    except VarlinkError as e:
                        r["errors"].append(f"client {c}: Copy f{n}: {e}")
                with lat_lock:
                    copy_lat.append(time.perf_counter_ns() - t0)
                v.send_raw(b"".join(Varlink.encode("Wait", {"id": j[2]})
                                    for j in jobs))
                for n, dst, jid in jobs:
                    try:
                        job = v.recv()["parameters"]["job"]
                    except VarlinkError as e:
                        r["errors"].append(f"client {c}: Wait {jid}: {e}")
                        continue
                    if job.get("state") != "done":
                        r["errors"].append(f"client {c}: job {jid} {job.get('state')}"
                                           f": {job.get('error_message')}")
                        continue
                    try:
                        with open(dst, "rb") as f:
                            h = hashlib.sha256(f.read()).hexdigest()
                    except OSError as e:
                        r["errors"].append(f"client {c}: {dst}: {e}")
                        continue
                    if h != digests[n]:
                        r["errors"].append(f"client {c}: {dst}: content differs")
                        continue
                    r["ok"] += 1
            except (OSError, KeyError, ValueError) as e:
                r["errors"].append(f"client {c}: {e!r}")
        r["end"] = time.monotonic()

    peak = {"jobs_queued": 0, "jobs_running": 0, "clients": 0, "unfinished": 0}
    mon_stop = threading.Event()

    def monitor():
        try:
            with Varlink(args.socket, 10) as v:
                while not mon_stop.is_set():
                    st = v.call("GetStatus")
                    for k in ("jobs_queued", "jobs_running", "clients"):
                        peak[k] = max(peak[k], st.get(k, 0))
                    peak["unfinished"] = max(peak["unfinished"],
                                             st.get("jobs_queued", 0) +
                                             st.get("jobs_running", 0))
                    mon_stop.wait(0.02)
        except (OSError, VarlinkError):
            pass

    threads = [threading.Thread(target=client, args=(c,), daemon=True)
               for c in range(args.clients)]
    for t in threads:
        t.start()
    mon = threading.Thread(target=monitor, daemon=True)
    mon.start()
    barrier.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    mon_stop.set()
    mon.join()

    ok = sum(r["ok"] for r in results)
    errors = [e for r in results for e in r["errors"]]
    lat = sorted(copy_lat)
    out = {
        "clients": args.clients, "jobs": total, "ok": ok,
        "failures": total - ok, "elapsed_s": round(elapsed, 3),
        "jobs_per_s": round(total / elapsed, 1) if elapsed else None,
        "bytes": sum(sizes),
        "submit_all_p50_ms": round(nearest_rank(lat, 50) / 1e6, 2) if lat else None,
        "submit_all_max_ms": round(lat[-1] / 1e6, 2) if lat else None,
        "peak": peak, "errors": errors[:20],
    }
    print(json.dumps(out))
    return 0 if ok == total else 1


# ---------------------------------------------------------------- report

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def cmd_report(args):
    R = args.dir
    policies = args.policies.split()
    req = args.samples

    def us(x):
        return "–" if x is None else f"{x:.0f}"

    def ms(x):
        return "–" if x is None else f"{x / 1000:.2f}"

    def g(d, *keys):
        for k in keys:
            if not isinstance(d, dict) or k not in d:
                return None
            d = d[k]
        return d

    print("| load-policy | phase | GetStatus p50 µs | p99 µs | max µs | 4 KiB copy p50 ms "
          "| p99 ms | max ms | direct p50 ms | p99 ms | max ms "
          "| n (status/copy) | jobs_running | loop p50/p99/max µs "
          "| slow iter. | ops inflight/async/waiting |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    verdicts = []
    for p in policies:
        for phase in ("idle", "load"):
            s = load(f"{R}/{p}.{phase}.status.json") or {}
            c = load(f"{R}/{p}.{phase}.copy4k.json") or {}
            st = load(f"{R}/{p}.{phase}.getstatus.json") or {}
            ll = st.get("loop_latency") or {}
            if phase == "load":
                lo = [x.get("running_min") for x in (s, c) if "running_min" in x]
                hi = [x.get("running_max") for x in (s, c) if "running_max" in x]
                running = f"{min(lo)}–{max(hi)}" if lo else "?"
            else:
                running = "0" if s.get("running_max", 0) == 0 else str(s["running_max"])
            loop = (f"{us(ll.get('p50_usec'))}/{us(ll.get('p99_usec'))}/"
                    f"{us(ll.get('max_usec'))}" if ll else "–")
            ops = "/".join(str(st[k]) if k in st else "–" for k in
                           ("ops_inflight", "ops_async_inflight", "ops_waiting"))
            dc = c.get("direct") or {}
            print(f"| {p} | {phase} | {us(s.get('p50_us'))} | {us(s.get('p99_us'))} "
                  f"| {us(s.get('max_us'))} | {ms(c.get('p50_us'))} | {ms(c.get('p99_us'))} "
                  f"| {ms(c.get('max_us'))} | {ms(dc.get('p50_us'))} | {ms(dc.get('p99_us'))} "
                  f"| {ms(dc.get('max_us'))} | {s.get('n', 0)}/{c.get('n', 0)} | {running} "
                  f"| {loop} | {ll.get('slow', '–')} | {ops} |")
            if phase == "load":
                valid = (lo and min(lo) >= 1 and s.get("n", 0) >= req and
                         c.get("n", 0) >= req and not s.get("errors") and
                         not c.get("errors"))
                verdicts.append((p, s.get("p99_us"), c.get("p99_us"), valid, s, c))

    print()
    print("| load-policy | daemon peak RSS (VmHWM) | bulk jobs started/done/cancelled/failed "
          "| bulk MB/s over the load phase | GetStatus rate at end MB/s "
          "| GetStatus async_policy |")
    print("|---|--:|--:|--:|--:|--:|")
    for p in policies:
        hwm = None
        try:
            with open(f"{R}/{p}.vmhwm") as f:
                hwm = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
        b = load(f"{R}/{p}.bulk.json") or {}
        st = load(f"{R}/{p}.load.getstatus.json") or {}
        rate = st.get("rate")
        thr = (b["bytes_done"] / b["load_seconds"] / 1e6
               if b.get("load_seconds") and "bytes_done" in b else None)
        print(f"| {p} | {'–' if hwm is None else f'{hwm / 1024:.1f} MiB'} "
              f"| {b.get('started', '–')}/{b.get('done', '–')}/{b.get('cancelled', '–')}"
              f"/{b.get('failed', '–')} | {'–' if thr is None else f'{thr:.0f}'} "
              f"| {'–' if rate is None else f'{rate / 1e6:.0f}'} "
              f"| {st.get('async_policy', '–')} |")

    print()
    print("Targets under load (the goal is for auto; the others for comparison):")
    print()
    print("| load-policy | GetStatus p99 ≤ 1 ms | 4 KiB copy p99 ≤ 5 ms "
          "| 4 KiB copy p99 ≤ direct p99 + 1 ms | load valid |")
    print("|---|---|---|---|---|")
    rc = 0
    for p, sp99, cp99, valid, s, c in verdicts:
        a = "–" if sp99 is None else f"{'PASS' if sp99 <= 1000 else 'MISS'} ({sp99 / 1000:.2f} ms)"
        b = "–" if cp99 is None else f"{'PASS' if cp99 <= 5000 else 'MISS'} ({cp99 / 1000:.2f} ms)"
        dp99 = (c.get("direct") or {}).get("p99_us")
        d_ok = cp99 is not None and dp99 is not None and cp99 <= dp99 + 1000
        d = ("–" if cp99 is None or dp99 is None else
             f"{'PASS' if d_ok else 'MISS'} ({cp99 / 1000:.2f} vs {dp99 / 1000:.2f} ms)")
        why = []
        if not valid:
            if s.get("n", 0) < req or c.get("n", 0) < req:
                why.append(f"samples {s.get('n', 0)}/{c.get('n', 0)} of {req}")
            if s.get("errors") or c.get("errors"):
                why.append("errors")
            if min(s.get("running_min", 0), c.get("running_min", 0)) < 1:
                why.append("jobs_running hit 0")
        print(f"| {p} | {a} | {b} | {d} | {'yes' if valid else 'NO: ' + ', '.join(why)} |")
        if p.endswith("auto") and not (valid and sp99 is not None and sp99 <= 1000 and
                                       cp99 is not None and cp99 <= 5000 and d_ok):
            rc = 2
    return rc


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("status")
    s.add_argument("--socket", required=True)
    s = sub.add_parser("bulk")
    s.add_argument("--socket", required=True)
    s.add_argument("--dest-dir", required=True)
    s.add_argument("--priority", default="bulk")
    s.add_argument("--ready")
    s.add_argument("--ready-timeout", type=float, default=30)
    s.add_argument("--cold", action="store_true",
                   help="evict each source from the page cache before each copy")
    s.add_argument("--sync", action="store_true", help="copy with sync")
    s.add_argument("--summary")
    s.add_argument("sources", nargs="+")
    s = sub.add_parser("mkdata")
    s.add_argument("--dir", required=True)
    s.add_argument("--size-mib", type=int, required=True)
    s.add_argument("--count", type=int, default=1)
    s = sub.add_parser("many")
    s.add_argument("--socket", required=True)
    s.add_argument("--dir", required=True)
    s.add_argument("--clients", type=int, default=200)
    s.add_argument("--jobs", type=int, default=5, help="jobs per client")
    s.add_argument("--max-kib", type=int, default=256)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--timeout", type=float, default=600)
    s = sub.add_parser("report")
    s.add_argument("dir")
    s.add_argument("--policies", default="auto never always")
    s.add_argument("--samples", type=int, default=200)
    args = ap.parse_args()
    return {"status": cmd_status, "bulk": cmd_bulk, "mkdata": cmd_mkdata,
            "many": cmd_many, "report": cmd_report}[args.cmd](args) or 0


if __name__ == "__main__":
    sys.exit(main())
