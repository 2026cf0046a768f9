#!/bin/bash
# mapped: files of at least engine.map_threshold bytes are copied from
# both ends, the back half read into the copy's mapped pages by pool
# threads (copy.c, thread_copy_mapped), with both engines. Sizes around
# the threshold and ends that are not on a page make the two ends meet
# at every kind of boundary; each copy is byte-exact, counted as
# "mapped", of the source's size, owned by its caller (as another user
# too), and leaves no temporary. Within a second of an interactive call
# (GetStatus) nothing is mapped. A named temporary truncated under the
# mapping does not kill the daemon (no SIGBUS). Where the filesystem
# cannot preallocate (an injected EOPNOTSUPP) the file is copied
# unmapped; the next job tries again. A preallocation that fails
# otherwise fails the job with that error; on a full tmpfs (root only),
# ENOSPC names the file and no block stays taken.
. "$(dirname "$0")/../lib.sh"

mkdir "$T/src"
sizes="$((1024 * 1024)) $((1024 * 1024 + 1)) $((3 * 1024 * 1024 + 17)) $((5 * 1024 * 1024 + 4095)) 12582912"
for s in $sizes; do mkfile "$T/src/f$s" "$s"; done
mkfile "$T/src/small" $((1024 * 1024 - 1))
# Small chunks: many of them, and a back chunk that ends off a page.
# No job counts as interactive: interactive work keeps the back lanes at
# the front (see below).
# $T may be on a disk that says it is rotational (a VM's virtio disk
# does), whose jobs get one lane and so no mapping by default.
write_config "$T/map.conf" 'engine = { map_threshold = "1M"; chunk_size = "64K"; };' \
	'jobs = { auto_interactive_max = 0; };' \
	'devices = { rotational = { lanes = 4; }; };'

M=
if [ "$(id -u)" = 0 ]; then
	mkdir "$T/mnt"
	mount -t tmpfs -o size=8m,mode=0755 cpd-test "$T/mnt" && M=$T/mnt
	trap 'rc=$?; set +e; stop_daemon; [ -z "$M" ] || umount "$M"; (exit $rc); cleanup' EXIT
fi
[ -n "$M" ] || echo "note: not root, or no tmpfs: the full-disk case is not run"

methods() {	# REPLIES: the job's methods, "name=count" where count > 0, by name
	py -c '
import json, sys
m = json.loads([l for l in sys.stdin.read().split("\n") if l.strip()][-1])["parameters"]["job"]["methods"]
print(" ".join("%s=%d" % (k, v) for k, v in sorted(m.items()) if v))'
}

for engine in io_uring fallback; do
	plain=splice
	[ "$engine" = fallback ] && plain=copy_file_range
	start_daemon_raw -E "$engine" --config "$T/map.conf"
	sleep 1.1	# past the hold of the GetStatus that saw the daemon up
	out="$T/out-$engine"
	mkdir "$out"
	for s in $sizes; do
		r=$(copy_wait "" "$out/f$s" "$T/src/f$s")
		expect_eq "$engine $s: state" "$(jfield parameters.job.state <<<"$r")" done
		expect_eq "$engine $s: method" "$(jfield parameters.job.method <<<"$r")" mapped
		expect_eq "$engine $s: bytes_done" "$(jfield parameters.job.bytes_done <<<"$r")" "$s"
		expect_eq "$engine $s: size" "$(stat -c %s "$out/f$s")" "$s"
		same "$T/src/f$s" "$out/f$s"
	done
	# Within a second of an interactive call every lane works from the
	# front: the file is copied whole, but not mapped.
	varlink_call '{"method":"io.cpd.Manager.GetStatus"}' >/dev/null
	r=$(copy_wait "" "$out/busy" "$T/src/f12582912")
	expect_eq "$engine interactive work about: method" "$(jfield parameters.job.method <<<"$r")" "$plain"
	same "$T/src/f12582912" "$out/busy"
	sleep 1.1
	r=$(copy_wait "" "$out/small" "$T/src/small")
	expect_eq "$engine under the threshold: method" "$(jfield parameters.job.method <<<"$r")" "$plain"
	same "$T/src/small" "$out/small"

	# A tree: each large file mapped, the small one not.
	r=$(copy_wait '{"recursive": true}' "$out/tree" "$T/src")
	expect_eq "$engine tree: state" "$(jfield parameters.job.state <<<"$r")" done
	expect_eq "$engine tree: methods" "$(methods <<<"$r")" "$(echo "$plain=1 mapped=5" | tr ' ' '\n' | sort | xargs)"
	tree_same "$T/src" "$out/tree"

	if [ "$(id -u)" = 0 ]; then
		ensure_user cpdtest
		mkdir "$out/user"
		chown cpdtest: "$out/user"
		r=$(varlink_as cpdtest "$(copy_msg '' "$out/user/" "$T/src/f12582912")")
		expect_eq "$engine cpdtest: state" "$(jfield parameters.job.state <<<"$r")" done
		expect_eq "$engine cpdtest: method" "$(jfield parameters.job.method <<<"$r")" mapped
		expect_eq "$engine cpdtest: owner" "$(stat -c %U "$out/user/f12582912")" cpdtest
		same "$T/src/f12582912" "$out/user/f12582912"
	fi
	no_temporaries "$out"

	if [ -n "$M" ]; then
		r=$(copy_wait "" "$M/" "$T/src/f12582912")
		expect_job_failed "$engine full" "$r" ENOSPC "*cannot allocate '$M/f12582912'*" \
			"*: No space left on device"
		[ ! -e "$M/f12582912" ] || fail "$engine full: destination exists"
		expect_eq "$engine full: free blocks" "$(stat -f -c %f "$M")" "$(stat -f -c %b "$M")"
		r=$(copy_wait "" "$M/" "$T/src/f$((5 * 1024 * 1024 + 4095))")
		expect_eq "$engine fits: method" "$(jfield parameters.job.method <<<"$r")" mapped
		same "$T/src/f$((5 * 1024 * 1024 + 4095))" "$M/f$((5 * 1024 * 1024 + 4095))"
		rm -f "$M"/*
	fi

	# A copy that replaces a file writes a named temporary, which its
	# owner may truncate under the mapping. The daemon must not die of
	# SIGBUS: only the kernel touches the mapping, and the chunk goes on
	# through write(). The job ends, and the daemon serves on.
	echo old > "$out/cut"
	id=$(copy_detached '{"bwlimit": 4194304}' "$out/cut" "$T/src/f12582912")
	tmp=
	for _ in $(seq 200); do
		tmp=$(find "$out" -maxdepth 1 -name '.cpd-tmp.*' | head -n 1)
		[ -n "$tmp" ] && break
		sleep 0.05
	done
	[ -n "$tmp" ] || fail "$engine cut: no named temporary"
	sleep 0.5	# a few chunks from each end
	truncate -s 0 "$tmp"
	r=$(job_wait "$id")
	expect_eq "$engine cut: state" "$(jfield parameters.job.state <<<"$r")" done
	daemon_serves "$engine cut"
	daemon_exit_ok

	# No preallocation here: the file is copied unmapped. (no_allocate
	# keeps the job's later files from asking; a tree's files asked at
	# once may still be mapped.) The next job asks again.
	start_daemon_raw -E "$engine" --config "$T/map.conf" --fault allocate:1:EOPNOTSUPP
	sleep 1.1
	r=$(copy_wait "" "$out/unmapped" "$T/src/f12582912")
	expect_eq "$engine unmapped: state" "$(jfield parameters.job.state <<<"$r")" done
	expect_eq "$engine unmapped: method" "$(jfield parameters.job.method <<<"$r")" "$plain"
	same "$T/src/f12582912" "$out/unmapped"
	r=$(copy_wait "" "$out/again" "$T/src/f12582912")
	expect_eq "$engine again: method" "$(jfield parameters.job.method <<<"$r")" mapped
	same "$T/src/f12582912" "$out/again"
	daemon_exit_ok

	start_daemon_raw -E "$engine" --config "$T/map.conf" --fault allocate:1:EIO
	r=$(copy_wait "" "$out/eio" "$T/src/f12582912")
	expect_job_failed "$engine EIO" "$r" EIO "*cannot allocate '$out/eio'*" "*: Input/output error"
	[ ! -e "$out/eio" ] || fail "$engine EIO: destination exists"
	no_temporaries "$out"
	daemon_exit_ok
	rm -rf "$out"
done
echo "PASS: mapped"
