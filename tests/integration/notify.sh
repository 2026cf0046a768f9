#!/bin/bash
# notify: the sd_notify protocol as systemd (Type=notify, WatchdogSec=)
# sees it, with a datagram socket standing in for PID 1: READY=1 once the
# socket serves, STATUS= lines, WATCHDOG=1 while WATCHDOG_USEC is set,
# RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on SIGTERM.
source "$(dirname "$0")/../lib.sh"

NS=$T/notify.sock NLOG=$T/notify.log
py - "$NS" "$NLOG" <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        for line in msg.split("\n"):
            if line:
                log.write(line + "\n")
        if "STOPPING=1" in msg:
            break
PYEOF
LISTENER=$!
for _ in $(seq 100); do [ -S "$NS" ] && break; sleep 0.05; done
[ -S "$NS" ] || fail "notify listener did not start"

# wait_for REGEX COUNT: until the log has COUNT lines matching REGEX.
wait_for() {
	local i
	for i in $(seq 100); do
		[ "$(grep -cE "$1" "$NLOG" 2>/dev/null)" -ge "$2" ] && return 0
		sleep 0.05
	done
	fail "no $2 x '$1' from the daemon; got: $(tr '\n' ' ' < "$NLOG" 2>/dev/null)"
}

NOTIFY_SOCKET=$NS WATCHDOG_USEC=200000 start_daemon
wait_for '^READY=1$' 1
wait_for '^STATUS=[0-9]+ running, [0-9]+ queued, [0-9]+ MiB/s, [0-9]+ clients$' 1
wait_for '^WATCHDOG=1$' 3		# every 100 ms: half the interval

# The order around a reload: RELOADING=1, then READY=1 again.
kill -HUP "$DAEMON_PID"
wait_for '^READY=1$' 2
order=$(grep -E '^(RELOADING|READY)=1$' "$NLOG" | tr '\n' ' ')
[ "$order" = "READY=1 RELOADING=1 READY=1 " ] || fail "reload notifications: $order"

mkfile "$T/src" 4096
"$CLIENT" copy "$T/src" "$T/copied" && same "$T/src" "$T/copied" || fail "copy under notify"
stop_daemon
wait "$LISTENER" || true
grep -qx 'STOPPING=1' "$NLOG" || fail "no STOPPING=1 on SIGTERM"
echo "notify: READY, STATUS, WATCHDOG ($(grep -c WATCHDOG "$NLOG")), RELOADING, STOPPING seen"
