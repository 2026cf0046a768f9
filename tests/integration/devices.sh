#!/bin/bash
# devices: per-device scheduling, on two loop devices with ext4, one
# made rotational (named in devices.rotational.disks: a loop device is
# otherwise of its backing file's disk's class) and one not (its
# queue/rotational set to 0). The daemon's reads
# from them are slowed to 4 MiB/s (a blkio cgroup), so that a bulk job
# streams for seconds with a chunk always in flight, holding its slot.
# With the default devices.* limits: of two bulk jobs on the rotational
# device the second stays queued until the first has ended, while a
# bulk job on the other device runs beside them, and an interactive job
# on the rotational device runs at once. GetStatus shows both devices
# with their classes and counts, a Job its device, and daemon-status the
# table; the queued job says which device it waits for.
. "$(dirname "$0")/../lib.sh"
need_root "loop devices, mounts and a blkio cgroup"
for c in losetup mkfs.ext4 mount umount; do
	command -v "$c" >/dev/null || skip "$c is not installed"
done
CG=/sys/fs/cgroup/blkio
[ -w "$CG/cgroup.procs" ] && [ -e "$CG/blkio.throttle.read_bps_device" ] ||
	skip "no cgroup v1 blkio controller to slow the daemon's reads"

LOOPS=() MOUNTS=() CGDIR=
devices_cleanup() {
	local m l
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m"; done
	for l in "${LOOPS[@]}"; do losetup -d "$l"; done
	[ -z "$CGDIR" ] || rmdir "$CGDIR"
}
TREE_EXIT_HOOK=devices_cleanup
trap tree_exit EXIT

# mkloop NAME ROTATIONAL: ext4 on a new loop device, mounted on $T/NAME,
# with queue/rotational set; its name (loopN) in $dev. (A loop device
# copies the flag of its backing file's disk when it is set up: set by
# hand to 0, it says the loop is not rotational, whatever that disk is.)
mkloop() {
	truncate -s 160M "$T/$1.img"
	mkfs.ext4 -q -F "$T/$1.img" || fail "mkfs.ext4"
	dev=$(losetup -f --show "$T/$1.img" 2>/dev/null) || skip "no free loop device"
	LOOPS+=("$dev")
	dev=${dev#/dev/}
	echo "$2" >"/sys/block/$dev/queue/rotational" 2>/dev/null ||
		skip "cannot set /sys/block/$dev/queue/rotational"
	expect_eq "$dev rotational" "$(cat "/sys/block/$dev/queue/rotational")" "$2"
	mkdir "$T/$1"
	mount "/dev/$dev" "$T/$1" || fail "mount $dev"
	MOUNTS+=("$T/$1")
}
mkloop hdd 1
HDD=$dev
mkloop ssd 0
SSD=$dev
mkfile "$T/hdd/s1" 32M
mkfile "$T/hdd/s2" 32M
mkfile "$T/ssd/s3" 32M
# Out of the page cache: the copies read the devices.
umount "$T/hdd" "$T/ssd"
mount "/dev/$HDD" "$T/hdd"
mount "/dev/$SSD" "$T/ssd"
mkfile "$T/hdd/small" 4K	# cached: the interactive job waits for no read

# The per-user cap would hold the third bulk job: every job here is root's.
write_config "$T/cpd.conf" 'jobs = { max_running_per_user = 0; };' \
	"devices = { rotational = { disks = [\"$HDD\"]; }; };"
start_daemon_raw --config "$T/cpd.conf"
CGDIR=$(mktemp -d "$CG/cpd-test-devices.XXXXXX")
for d in "$HDD" "$SSD"; do
	echo "$(cat "/sys/block/$d/dev") $((4 << 20))" >"$CGDIR/blkio.throttle.read_bps_device"
done
echo "$DAEMON_PID" >"$CGDIR/cgroup.procs"

state() { job_get "$1" | jfield parameters.job.state; }
field() { job_get "$1" | jfield "parameters.job.$2"; }
# until_state ID STATE: within 5 s.
until_state() {
	for _ in $(seq 100); do [ "$(state "$1")" = "$2" ] && return 0; sleep 0.05; done
	fail "job $1: state $(state "$1"), want $2: $(job_get "$1")"
}
# device NAME FIELD: a field of the device NAME in GetStatus.
device() {
	varlink_call '{"method":"io.cpd.Manager.GetStatus"}' | py -c '
import json, sys
d = [x for x in json.loads(sys.stdin.readline())["parameters"]["devices"] if x["name"] == sys.argv[1]]
print(json.dumps(d[0][sys.argv[2]]).strip("\"") if d else "missing")' "$1" "$2"
}

bulk='{"priority": "bulk"}'
id1=$(copy_detached "$bulk" "$T/hdd/d1" "$T/hdd/s1")
until_state "$id1" running
id2=$(copy_detached "$bulk" "$T/hdd/d2" "$T/hdd/s2")
id3=$(copy_detached "$bulk" "$T/ssd/d3" "$T/ssd/s3")
# The job on the other device starts; the second on the rotational one does not.
until_state "$id3" running
for _ in $(seq 10); do
	expect_eq "second job on $HDD while the first runs" "$(state "$id2")" queued
	sleep 0.1
done
expect_eq "first job on $HDD" "$(state "$id1")" running
expect_eq "job $id2 waits for" "$(field "$id2" waiting_for_device)" "$HDD"
expect_eq "job $id1 waits for" "$(field "$id1" waiting_for_device)" null
"$CLIENT" status "$id2" | grep -qx "waiting_for_device: $HDD" ||
	fail "cpd-client status $id2: $("$CLIENT" status "$id2")"
# An interactive job on the full rotational device runs at once.
r=$(copy_wait '{"priority": "interactive"}' "$T/hdd/small.copy" "$T/hdd/small")
expect_eq "interactive job on $HDD" "$(jfield parameters.job.state <<<"$r")" done
same "$T/hdd/small" "$T/hdd/small.copy"
expect_eq "first job after the interactive one" "$(state "$id1")" running
expect_eq "second job after the interactive one" "$(state "$id2")" queued

expect_eq "$HDD class" "$(device "$HDD" class)" rotational
expect_eq "$HDD running" "$(device "$HDD" running)" 1
expect_eq "$HDD queued" "$(device "$HDD" queued)" 1
expect_eq "$SSD class" "$(device "$SSD" class)" ssd
expect_eq "$SSD running" "$(device "$SSD" running)" 1
expect_eq "$SSD queued" "$(device "$SSD" queued)" 0
expect_eq "$HDD dev" "$(device "$HDD" dev)" "$(cat "/sys/block/$HDD/dev")"
expect_eq "job $id1 devices" "$(field "$id1" devices)" "[\"$HDD\"]"
expect_eq "job $id3 devices" "$(field "$id3" devices)" "[\"$SSD\"]"
sleep 1.2	# a second of reading, for the rates
rate=$(device "$HDD" read_rate)
[ "$rate" -gt $((1 << 20)) ] && [ "$rate" -lt $((8 << 20)) ] ||
	fail "$HDD read_rate $rate, want about 4 MiB/s"
out=$("$CLIENT" daemon-status)
grep -Eq "^  $HDD +rotational +1 +1 " <<<"$out" ||
	fail "daemon-status has no line for $HDD: $out"
grep -Eq "^  $SSD +ssd +1 +0 " <<<"$out" ||
	fail "daemon-status has no line for $SSD: $out"

# One after the other on the rotational device; beside them on the other.
for id in "$id1" "$id2" "$id3"; do
	expect_eq "job $id" "$(job_wait "$id" | jfield parameters.job.state)" done
done
[ "$(field "$id2" started_usec)" -ge "$(field "$id1" finished_usec)" ] ||
	fail "job $id2 started before job $id1 ended"
[ "$(field "$id3" started_usec)" -lt "$(field "$id1" finished_usec)" ] ||
	fail "job $id3 did not run beside job $id1"
same "$T/hdd/s1" "$T/hdd/d1"
same "$T/hdd/s2" "$T/hdd/d2"
same "$T/ssd/s3" "$T/ssd/d3"
[ "$(device "$HDD" read_bytes)" -ge $((64 << 20)) ] ||
	fail "$HDD read_bytes $(device "$HDD" read_bytes), want 64 MiB or more"
[ "$(device "$SSD" written_bytes)" -ge $((32 << 20)) ] ||
	fail "$SSD written_bytes $(device "$SSD" written_bytes), want 32 MiB or more"
expect_eq "$HDD running at the end" "$(device "$HDD" running)" 0
echo "PASS: devices"
