#!/bin/bash
# hostile_holes: a user flips one block of her own sparse 64 MiB file
# between written and punched while the daemon copies it over and over.
# A hole punched between the SEEK_DATA and the SEEK_HOLE of the extent
# map is a zero-length extent; before the completion rule (engine.h) its
# zero-length copy freed the copy under the caller (a use after free),
# and now the map leaves it out. On each engine, up to 40 copies (as
# many as HOLES_SECONDS allow): each
# ends done (every block as in the source, the flipped one written or a
# hole) or failed with "changed while being copied", and the daemon
# lives on; under SANITIZE=1 (CPD_BIN), with no sanitizer report.
. "$(dirname "$0")/../lib.sh"
need_root "runs a root daemon for the unprivileged user cpdtest"
ensure_user cpdtest

U=$T/u
mkdir "$U"
FLIP=$((32 << 20))
# Sparse: a few data blocks in 64 MiB, and the one that flips.
py - "$U/sparse" "$FLIP" <<'PYEOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, 64 << 20)
for off in (0, 1 << 20, 20 << 20, int(sys.argv[2]), 48 << 20, (64 << 20) - 4096):
    os.pwrite(fd, bytes((off >> 12) % 251 + 1 for _ in range(4096)), off)
os.close(fd)
PYEOF
chown -R cpdtest: "$U"

# The flipper, as cpdtest: the block at FLIP written, punched, written...
# until $U/stop appears.
flipper() {
	as_user cpdtest /usr/bin/python3 - "$U/sparse" "$FLIP" "$U/stop" <<'PYEOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
PUNCH = 0x01 | 0x02		# FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE
off = int(sys.argv[2])
fd = os.open(sys.argv[1], os.O_WRONLY)
block = bytes((off >> 12) % 251 + 1 for _ in range(4096))
n = 0
while True:
    if n % 256 == 0 and os.path.exists(sys.argv[3]):
        break
    os.pwrite(fd, block, off)
    if libc.fallocate(fd, PUNCH, ctypes.c_long(off), ctypes.c_long(4096)) != 0:
        sys.exit("fallocate: %s" % os.strerror(ctypes.get_errno()))
    n += 1
PYEOF
}

# copy_ok WHAT: the copy at $U/copy is the source, but for the flipped
# block, which is either written or zeros.
copy_ok() {
	py - "$U/sparse" "$U/copy" "$FLIP" <<'PYEOF' || fail "$1: the copy differs"
import sys
flip = int(sys.argv[3])
a, b = open(sys.argv[1], "rb"), open(sys.argv[2], "rb")
for off in range(0, 64 << 20, 1 << 20):
    x, y = a.read(1 << 20), b.read(1 << 20)
    if off <= flip < off + (1 << 20):
        i = flip - off
        blk = y[i:i + 4096]
        if blk != bytes(4096) and blk != bytes((flip >> 12) % 251 + 1 for _ in range(4096)):
            sys.exit("the flipped block is neither data nor a hole")
        x, y = x[:i] + x[i + 4096:], y[:i] + y[i + 4096:]
    if x != y:
        sys.exit("differs in the MiB at %d" % off)
PYEOF
}

# HOLES_SECONDS per engine: 8 for make check's budget; 20 by default with
# the sanitizer build (no such budget, and each copy is slower there).
secs=${HOLES_SECONDS:-8}
sanitized && secs=${HOLES_SECONDS:-20}
for engine in io_uring fallback; do
	start_daemon_raw -E "$engine"
	rm -f "$U/stop"
	flipper &
	flip_pid=$!
	done_n=0 changed=0 i=0
	# 40 copies, or as many as $secs allow on a slow (sanitized) build.
	t0=$SECONDS
	while [ $i -lt 40 ] && [ $((SECONDS - t0)) -lt "$secs" ]; do
		i=$((i + 1))
		rm -f "$U/copy"
		r=$(varlink_as cpdtest "$(copy_msg '{"reflink": "never"}' "$U/copy" "$U/sparse")" 60)
		kill -0 "$DAEMON_PID" 2>/dev/null || fail "$engine: copy $i: the daemon died"
		case $(jfield parameters.job.state <<<"$r") in
		done)
			copy_ok "$engine: copy $i"
			done_n=$((done_n + 1)) ;;
		failed)
			expect_job_failed "$engine: copy $i" "$r" EAGAIN "*changed while being copied*"
			changed=$((changed + 1)) ;;
		*)
			fail "$engine: copy $i: $r" ;;
		esac
	done
	touch "$U/stop"
	wait "$flip_pid" || fail "$engine: the flipper failed"
	daemon_exit_ok
	! grep -q 'Sanitizer\|runtime error' "$DAEMON_LOG" || fail "$engine: a sanitizer report"
	no_temporaries "$U"
	echo "engine $engine: $i copies, $done_n done, $changed failed as changed"
done
echo "PASS: hostile_holes"
