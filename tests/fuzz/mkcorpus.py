#!/usr/bin/env python3
"""Write the seed corpus for fuzz_varlink into corpus/ (one file per seed).

An input is two header bytes (fuzz.h: flags; feed mode) and then the
NUL-terminated Varlink messages a client sends. The seeds cover every
method, valid and invalid parameters, the flags that make jobs end at
once, stream progress or hang up, and piecewise feeding.
Run: python3 tests/fuzz/mkcorpus.py (the files are kept in the repo).
"""
import json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus")
os.makedirs(out, exist_ok=True)

M = "io.cpd.Manager."
def call(method, params=None, **kw):
    m = {"method": method}
    if params is not None:
        m["parameters"] = params
    m.update(kw)
    return json.dumps(m).encode() + b"\0"

copy = {"sources": ["/tmp/a", "/tmp/b"], "destination": "/tmp/d/"}
messages = {
    "getinfo": call("org.varlink.service.GetInfo"),
    "getdesc": call("org.varlink.service.GetInterfaceDescription", {"interface": "io.cpd.Manager"}),
    "getdesc-svc": call("org.varlink.service.GetInterfaceDescription", {"interface": "org.varlink.service"}),
    "getdesc-bad": call("org.varlink.service.GetInterfaceDescription", {"interface": "x.y"}),
    "copy": call(M + "Copy", copy),
    "copy-more": call(M + "Copy", copy, more=True),
    "copy-oneway": call(M + "Copy", copy, oneway=True),
    "copy-opts": call(M + "Copy", dict(copy, no_clobber=True, sync=True, priority="bulk",
                                        bwlimit=1 << 20, recursive=True, archive=True,
                                        reflink="never", keep_going=True, umask=18), more=True),
    "copy-badprio": call(M + "Copy", dict(copy, priority="urgent")),
    "copy-relative": call(M + "Copy", {"sources": ["a/../b"], "destination": "c"}),
    "copy-empty": call(M + "Copy", {"sources": [], "destination": "/tmp/x"}),
    "copy-types": call(M + "Copy", {"sources": "/tmp/a", "destination": 7}),
    "copy-nul": call(M + "Copy", {"sources": ["/tmp/a\u0000b"], "destination": "/tmp/x"}),
    "get": call(M + "Get", {"id": 1}),
    "get-missing": call(M + "Get", {"id": 999999}),
    "get-neg": call(M + "Get", {"id": -1}),
    "list": call(M + "List"),
    "list-page": call(M + "List", {"after": 1, "limit": 1}),
    "list-bad": call(M + "List", {"after": -1, "limit": 0}),
    "wait": call(M + "Wait", {"id": 1}),
    "wait-more": call(M + "Wait", {"id": 2}, more=True),
    "cancel": call(M + "Cancel", {"id": 1}),
    "pause-resume": call(M + "Pause", {"id": 1}) + call(M + "Resume", {"id": 1}),
    "status": call(M + "GetStatus"),
    "unknown-method": call(M + "Frobnicate"),
    "unknown-iface": call("com.example.X.Y"),
    "upgrade": call(M + "List", upgrade=True),
    "not-object": b"[1,2,3]\0",
    "bad-json": b'{"method": "io.cpd.Manager.List"\0',
    "nested": b"[" * 2000 + b"\0",
    "empty": b"\0\0",
    "extra-keys": b'{"method":"io.cpd.Manager.List","parameters":{},"x":1,"more":"yes"}\0',
}
pipeline = b"".join(messages[k] for k in ("getinfo", "status", "copy", "list", "get",
                                           "wait-more", "cancel", "list"))
seeds = {}
for name, body in messages.items():
    seeds[name] = bytes([0x00, 0x00]) + body
seeds["pipeline"] = bytes([0x00, 0x00]) + pipeline
seeds["pipeline-root"] = bytes([0x02, 0x00]) + pipeline
seeds["pipeline-pieces"] = bytes([0x00, 0x03]) + pipeline
seeds["pipeline-fallback"] = bytes([0x00, 0x80]) + pipeline
seeds["copy-more-progress"] = bytes([0x40, 0x00]) + messages["copy-more"] + messages["list"]
seeds["copy-more-endnow"] = bytes([0x20, 0x00]) + messages["copy-more"] + messages["status"]
seeds["copy-more-abort"] = bytes([0x80, 0x01]) + messages["copy-more"]
seeds["copy-done"] = bytes([0x10, 0x00]) + messages["copy-more"] + messages["wait"]
seeds["copy-shutdown"] = bytes([0x04, 0x00]) + messages["copy"]
seeds["copy-users"] = bytes([0x08, 0x00]) + messages["copy"]
seeds["copy-nomem"] = bytes([0x0c, 0x00]) + messages["copy"]
seeds["foreign"] = bytes([0x01, 0x00]) + messages["list"] + messages["getinfo"]
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print("%d seeds in %s" % (len(seeds), out))
