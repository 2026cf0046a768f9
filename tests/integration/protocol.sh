#!/bin/bash
# protocol: the Varlink side of the daemon, spoken over raw sockets.
# GetInfo; GetInterfaceDescription returns include/io.cpd.Manager.varlink
# byte for byte; unknown methods and interfaces; wrong parameters name the
# parameter; NoSuchJob; malformed JSON, an oversized message and deeply
# nested JSON close that connection only; pipelined calls get their
# replies in order; a client that goes away in the middle of a streaming
# Copy does not stop the job.
. "$(dirname "$0")/../lib.sh"
IFACE_FILE=$(cd "$(dirname "$0")/../.." && pwd)/include/io.cpd.Manager.varlink
[ -f "$IFACE_FILE" ] || fail "no $IFACE_FILE"

# Slow copies, so that a streaming Copy is still going when its client dies.
write_config "$T/slow.conf" 'engine = { chunk_size = "4K"; lanes = 1; };'
start_daemon_raw --config "$T/slow.conf"

cat >"$T/proto.py" <<'PYEOF'
import json, os, socket, sys, time

SOCK, IFACE_FILE, TMP = sys.argv[1:4]
failures = 0

def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg, file=sys.stderr)

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(SOCK)
    return s

class Conn:
    def __init__(self):
        self.s = connect()
        self.buf = b""
    def send(self, data):
        if isinstance(data, dict):
            data = json.dumps(data).encode()
        if not data.endswith(b"\0"):
            data += b"\0"
        self.s.sendall(data)
    def recv(self):
        """The next reply as a dict; None when the daemon closed."""
        while b"\0" not in self.buf:
            try:
                d = self.s.recv(65536)
            except ConnectionResetError:
                return None
            if not d:
                return None
            self.buf += d
        m, self.buf = self.buf.split(b"\0", 1)
        return json.loads(m)
    def call(self, msg):
        self.send(msg)
        r = self.recv()
        if r is None:
            raise RuntimeError("connection closed on %r" % (msg,))
        return r
    def closed(self):
        """True when the daemon closes the connection without replying."""
        try:
            d = self.s.recv(65536)
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        return d == b""
    def close(self):
        self.s.close()

def call(msg):
    c = Conn()
    try:
        return c.call(msg)
    finally:
        c.close()

def status_ok(what):
    r = call({"method": "io.cpd.Manager.GetStatus"})
    if "error" in r or r.get("parameters", {}).get("engine") not in ("io_uring", "fallback"):
        fail("%s: GetStatus afterwards: %r" % (what, r))
    return r

# GetInfo.
r = call({"method": "org.varlink.service.GetInfo"})
p = r.get("parameters", {})
if "error" in r or sorted(p.get("interfaces", [])) != ["io.cpd.Manager", "org.varlink.service"]:
    fail("GetInfo: %r" % r)
for k in ("vendor", "product", "version", "url"):
    if not isinstance(p.get(k), str) or not p.get(k):
        fail("GetInfo: %s missing: %r" % (k, r))

# GetInterfaceDescription: the file, byte for byte.
r = call({"method": "org.varlink.service.GetInterfaceDescription",
          "parameters": {"interface": "io.cpd.Manager"}})
want = open(IFACE_FILE, "rb").read().decode()
got = r.get("parameters", {}).get("description")
if got != want:
    fail("GetInterfaceDescription(io.cpd.Manager) differs from %s (%s vs %d chars)"
         % (IFACE_FILE, "none" if got is None else len(got), len(want)))
r = call({"method": "org.varlink.service.GetInterfaceDescription",
          "parameters": {"interface": "org.varlink.service"}})
if "interface org.varlink.service" not in r.get("parameters", {}).get("description", ""):
    fail("GetInterfaceDescription(org.varlink.service): %r" % r)
r = call({"method": "org.varlink.service.GetInterfaceDescription",
          "parameters": {"interface": "com.example.nothing"}})
if r.get("error") != "org.varlink.service.InterfaceNotFound" or \
        r.get("parameters", {}).get("interface") != "com.example.nothing":
    fail("GetInterfaceDescription(unknown): %r" % r)

# Unknown method, unknown interface.
r = call({"method": "io.cpd.Manager.Frobnicate"})
if r.get("error") != "org.varlink.service.MethodNotFound" or \
        r.get("parameters", {}).get("method") != "io.cpd.Manager.Frobnicate":
    fail("unknown method: %r" % r)
r = call({"method": "com.example.Other.Get", "parameters": {"id": 1}})
if r.get("error") != "org.varlink.service.InterfaceNotFound" or \
        r.get("parameters", {}).get("interface") != "com.example.Other":
    fail("unknown interface: %r" % r)

# Wrong parameters: InvalidParameter naming the parameter.
ok_src = os.path.join(TMP, "src")
ok_dst = os.path.join(TMP, "never")
bad = [
    ("sources not an array", "Copy", {"sources": ok_src, "destination": ok_dst}, "sources"),
    ("sources missing", "Copy", {"destination": ok_dst}, "sources"),
    ("sources empty", "Copy", {"sources": [], "destination": ok_dst}, "sources"),
    ("a source not a string", "Copy", {"sources": [ok_src, 7], "destination": ok_dst}, "sources"),
    ("relative source", "Copy", {"sources": ["src"], "destination": ok_dst}, "sources"),
    ("destination a number", "Copy", {"sources": [ok_src], "destination": 42}, "destination"),
    ("destination missing", "Copy", {"sources": [ok_src]}, "destination"),
    ("relative destination", "Copy", {"sources": [ok_src], "destination": "out/x"}, "destination"),
    ("empty destination", "Copy", {"sources": [ok_src], "destination": ""}, "destination"),
    ("no_clobber a string", "Copy", {"sources": [ok_src], "destination": ok_dst,
                                     "no_clobber": "yes"}, "no_clobber"),
    ("sync a number", "Copy", {"sources": [ok_src], "destination": ok_dst, "sync": 1}, "sync"),
    ("unknown priority", "Copy", {"sources": [ok_src], "destination": ok_dst,
                                  "priority": "urgent"}, "priority"),
    ("umask negative", "Copy", {"sources": [ok_src], "destination": ok_dst, "umask": -1}, "umask"),
    ("umask too large", "Copy", {"sources": [ok_src], "destination": ok_dst, "umask": 4096}, "umask"),
    ("umask a string", "Copy", {"sources": [ok_src], "destination": ok_dst, "umask": "022"}, "umask"),
    ("a NUL in a source", "Copy", {"sources": [ok_src + "\0x"], "destination": ok_dst}, "sources"),
    ("id a string", "Get", {"id": "1"}, "id"),
    # Beyond int64: must be refused, not clamped to another id.
    ("id 2^63", "Get", {"id": 2**63}, "id"),
    ("id 2^64", "Get", {"id": 2**64}, "id"),
    ("id -2^63-1", "Get", {"id": -2**63 - 1}, "id"),
    ("id missing", "Get", {}, "id"),
    ("Wait id a float", "Wait", {"id": 1.5}, "id"),
    ("Cancel id null", "Cancel", {"id": None}, "id"),
]
for what, method, params, name in bad:
    r = call({"method": "io.cpd.Manager." + method, "parameters": params})
    if r.get("error") != "org.varlink.service.InvalidParameter" or \
            r.get("parameters", {}).get("parameter") != name:
        fail("%s: want InvalidParameter %s, got %r" % (what, name, r))
if os.path.exists(ok_dst):
    fail("an invalid Copy created %s" % ok_dst)
r = call({"method": "io.cpd.Manager.List"})
if r.get("parameters", {}).get("jobs") != []:
    fail("invalid Copy calls made jobs: %r" % r)

# NoSuchJob.
for m in ("Get", "Wait", "Cancel"):
    r = call({"method": "io.cpd.Manager." + m, "parameters": {"id": 999999}})
    if r.get("error") != "io.cpd.Manager.NoSuchJob" or r.get("parameters", {}).get("id") != 999999:
        fail("%s(999999): %r" % (m, r))

# Broken messages: that connection is closed, a bystander's keeps working.
bystander = Conn()
bystander.call({"method": "org.varlink.service.GetInfo"})
broken = [
    ("malformed JSON", b'{"method": "io.cpd.Manager.GetStatus", \0'),
    ("not an object", b'[1, 2]\0'),
    ("no method", b'{"parameters": {}}\0'),
    ("parameters not an object", b'{"method": "io.cpd.Manager.GetStatus", "parameters": 3}\0'),
    ("trailing garbage", b'{"method": "io.cpd.Manager.GetStatus"} x\0'),
    ("nested 1000 deep", b'{"method": "io.cpd.Manager.GetStatus", "parameters": {"x": '
     + b"[" * 1000 + b"]" * 1000 + b"}}\0"),
]
for what, data in broken:
    c = Conn()
    c.send(data)
    r = c.recv()
    if r is not None and "error" not in r:
        fail("%s: answered as if valid: %r" % (what, r))
    elif r is None:
        pass                    # closed: what the daemon does
    elif not c.closed():
        fail("%s: the connection stayed open after %r" % (what, r))
    c.close()
    status_ok(what)
    r = bystander.call({"method": "io.cpd.Manager.GetStatus"})
    if "error" in r:
        fail("%s: the bystander got %r" % (what, r))

# A message over 64 KiB without a NUL: closed.
c = Conn()
try:
    c.s.sendall(b'{"method": "io.cpd.Manager.GetStatus", "parameters": {"pad": "'
                + b"x" * (100 * 1024))
    if not c.closed():
        fail("100 KiB without NUL: the connection stays open")
except (BrokenPipeError, ConnectionResetError):
    pass                        # closed while we were still writing
c.close()
status_ok("100 KiB message")
r = bystander.call({"method": "io.cpd.Manager.GetStatus"})
if "error" in r:
    fail("100 KiB message: the bystander got %r" % r)

# A large but legal message (under 64 KiB) is fine.
r = call({"method": "io.cpd.Manager.Get", "parameters": {"id": 999999, "pad": "y" * 60000}})
if r.get("error") != "io.cpd.Manager.NoSuchJob":
    fail("60 KB message: %r" % r)

# Pipelined: three calls in one write, three replies in order.
c = Conn()
c.s.sendall(b'{"method": "org.varlink.service.GetInfo"}\0'
            b'{"method": "io.cpd.Manager.Get", "parameters": {"id": 999998}}\0'
            b'{"method": "io.cpd.Manager.GetStatus"}\0')
r1, r2, r3 = c.recv(), c.recv(), c.recv()
if not (r1 and "interfaces" in r1.get("parameters", {})):
    fail("pipelined: first reply %r" % r1)
if not (r2 and r2.get("error") == "io.cpd.Manager.NoSuchJob" and r2["parameters"].get("id") == 999998):
    fail("pipelined: second reply %r" % r2)
if not (r3 and "engine" in r3.get("parameters", {})):
    fail("pipelined: third reply %r" % r3)
c.close()
bystander.close()

# Only this connection is left (closing is asynchronous: poll a little).
for i in range(100):
    r = status_ok("clients")
    if r["parameters"].get("clients") == 1:
        break
    time.sleep(0.05)
else:
    fail("closed connections still counted: %r" % r)
sys.exit(1 if failures else 0)
PYEOF
mkfile "$T/src" 1K
proto_rc=0
py "$T/proto.py" "$CPD_SOCKET" "$IFACE_FILE" "$T" || proto_rc=$?	# reported at the end

# A client killed in the middle of a streaming Copy: the job completes.
# Held to about 4 s, so that it is surely still running when looked at
# (unthrottled, a cached 64 MiB copy can end before the kill).
mkfile "$T/big" 64M
copy_msg '{"bwlimit": 16777216}' "$T/big.copy" "$T/big" >"$T/msg"
mkfifo "$T/hold"
{ printf '%s\0' "$(cat "$T/msg")"; cat "$T/hold"; } |
	socat -t 60 - "UNIX-CONNECT:$CPD_SOCKET" >"$T/stream" &
streamer=$!
exec 8>"$T/hold"		# keeps socat's input open
for i in $(seq 400); do
	grep -q '"continues":true' "$T/stream" 2>/dev/null && break
	sleep 0.05
done
grep -q '"continues":true' "$T/stream" || fail "no streamed reply: $(tr '\0' '\n' <"$T/stream")"
id=$(tr '\0' '\n' <"$T/stream" | head -n 1 | jfield parameters.job.id)
[[ "$id" =~ ^[0-9]+$ ]] || fail "no job id in the stream"
kill -KILL $streamer		# $! of a pipeline: its last process, socat
exec 8>&-
wait $streamer 2>/dev/null || true
r=$(job_get "$id")
expect_eq "after the client died: state" "$(jfield parameters.job.state <<<"$r")" running
r=$(job_wait "$id")
expect_eq "after the client died: final state" "$(jfield parameters.job.state <<<"$r")" done
same "$T/big" "$T/big.copy"
no_temporaries "$T"
r=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
expect_eq "clients after the stream" "$(jfield parameters.clients <<<"$r")" 1
[ "$proto_rc" = 0 ] || fail "protocol checks failed (see the FAIL lines above)"
echo "PASS: protocol"
