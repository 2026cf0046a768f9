#!/bin/bash
# Benchmark: per-device scheduling on two loop devices, one made
# rotational (devices.rotational.disks) and one not (queue/rotational
# 0), each with ext4. Two bulk
# copies of SIZE_MIB (default 256) each, from cold sources (each file
# system mounted afresh before each case, its loop device reading its
# image with direct I/O, so nothing of the sources is in the page
# cache), submitted at the same moment:
#
#   rotational, default     both on the rotational device, the default
#                           limits (one bulk job at a time, one lane)
#   rotational, no limit    the same with devices.rotational.max_running
#                           = 4 and lanes = 4: both at once
#   one per device          one on each device, the default limits
#
# For each case it prints when each job was submitted, started and
# ended (the Job's own timestamps, seconds after the first submission)
# and the wall time from the first submission to the last end, with the
# throughput over it, as a Markdown table.
#
#   tests/bench/devices.sh [ROUNDS] [DIR]     (as root; DIR: build/bench)
#
# The loop devices' images are files on this machine's disk: what one
# stream at a time does for a real disk's head is not measured here,
# only what the daemon does with its queues.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "devices.sh: needs root (loop devices)" >&2; exit 1; }
rounds=${1:-1}
base=${2:-$PWD/build/bench}
size=${SIZE_MIB:-256}
mkdir -p "$base"
D=$(mktemp -d "$base/devices.XXXXXX")
SOCK=$D/cpd.sock
LOOPS=() MOUNTS=()
cleanup() {
	kill "$(cat "$D/pid" 2>/dev/null)" 2>/dev/null || true
	sleep 0.2
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || true; done
	for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
	rm -rf "$D"
}
trap cleanup EXIT

# mkloop NAME ROTATIONAL: ext4 on a loop device (direct I/O), on $D/NAME.
mkloop() {
	local dev
	truncate -s $((size * 5 + 256))M "$D/$1.img"
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$D/$1.img"
	dev=$(losetup -f --show --direct-io=on "$D/$1.img")
	LOOPS+=("$dev")
	echo "$2" >"/sys/block/${dev#/dev/}/queue/rotational"
	mkdir "$D/$1"
	mount "$dev" "$D/$1"
	MOUNTS+=("$D/$1")
	eval "DEV_$1=$dev"
}
mkloop hdd 1
mkloop ssd 0
# shellcheck disable=SC2154
echo "rotational: $DEV_hdd, ssd: $DEV_ssd; ${size} MiB per copy" >&2
for f in hdd/s1 hdd/s2 ssd/s3; do
	head -c "${size}M" /dev/urandom >"$D/$f"
done

# cold: the copies go, and both file systems are mounted afresh, which
# leaves none of their pages cached.
cold() {
	rm -f "$D"/hdd/d* "$D"/ssd/d*
	sync
	umount "$D/hdd" "$D/ssd"
	mount "$DEV_hdd" "$D/hdd"
	mount "$DEV_ssd" "$D/ssd"
}

# run CASE CONFIG SRC:DST...: a daemon with CONFIG, the copies submitted
# at once, then one table row per job.
run() {
	local name=$1 conf=$2 ids=() pair
	shift 2
	cold
	# A loop device is of its backing file's disk's class: named here.
	printf 'devices = { rotational = { disks = ["%s"]; %s }; };\n' \
		"${DEV_hdd#/dev/}" "$conf" >"$D/cpd.conf"
	rm -rf "$D/state"
	./cpd --socket "$SOCK" --config "$D/cpd.conf" --state-dir "$D/state" 2>"$D/cpd.log" &
	echo $! >"$D/pid"
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	for pair in "$@"; do
		ids+=("$(CPD_SOCKET=$SOCK ./cpd-client copy --detach --priority bulk \
			"$D/${pair%%:*}" "$D/${pair#*:}")")
	done
	for id in "${ids[@]}"; do CPD_SOCKET=$SOCK ./cpd-client wait "$id" >/dev/null; done
	python3 - "$SOCK" "$name" "${ids[@]}" <<'PY'
import json, socket, sys
sock, name, ids = sys.argv[1], sys.argv[2], sys.argv[3:]
def call(method, params):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(json.dumps({"method": "io.cpd.Manager." + method, "parameters": params}).encode() + b"\0")
    buf = b""
    while not buf.endswith(b"\0"):
        buf += s.recv(65536)
    return json.loads(buf[:-1])["parameters"]
jobs = [call("Get", {"id": int(i)})["job"] for i in ids]
t0 = min(j["created_usec"] for j in jobs)
end = max(j["finished_usec"] for j in jobs)
total = sum(j["bytes_done"] for j in jobs)
for j in jobs:
    print("| %s | %d %s | %s | %.2f | %.2f | %.2f |" % (
        name, j["id"], "/".join(j["sources"][0].split("/")[-2:]), ",".join(j["devices"]),
        (j["created_usec"] - t0) / 1e6, (j["started_usec"] - t0) / 1e6,
        (j["finished_usec"] - t0) / 1e6))
print("| %s | **wall** | | | | **%.2f** s, %.0f MB/s |" % (name, (end - t0) / 1e6,
      total / ((end - t0) / 1e6) / 1e6))
PY
	kill "$(cat "$D/pid")"
	wait "$(cat "$D/pid")" 2>/dev/null || true
}

echo "| case | job | devices | submitted s | started s | ended s |"
echo "|---|---|---|--:|--:|--:|"
for _ in $(seq "$rounds"); do
	run "rotational, default" "" hdd/s1:hdd/d1 hdd/s2:hdd/d2
	run "rotational, no limit" 'max_running = 4; lanes = 4;' \
		hdd/s1:hdd/d1 hdd/s2:hdd/d2
	run "one per device" "" hdd/s1:hdd/d1 ssd/s3:ssd/d3
done
