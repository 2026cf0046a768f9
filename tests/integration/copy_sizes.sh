#!/bin/bash
# copy_sizes: byte-exact copies of files of every interesting size (empty,
# one byte, one page, around the 256 KiB async and whole-file thresholds,
# an odd size over several chunks, 256 MiB) with both engines, and with
# io_uring also without the whole-file path (engine.whole_file_max = 0),
# through raw Varlink Copy with "more": true. Each copy ends "done", has
# the source's mode less the default umask 022, and leaves no temporary
# behind. The 256 MiB file is copied from both ends ("mapped", see
# mapped.sh). With io_uring the 3 MiB file goes by splice, and the 4 KiB one
# whole by a thread's copy_file_range, or step by step by read/write;
# from another filesystem type (/dev/shm), whole by a thread's reads and
# writes.
. "$(dirname "$0")/../lib.sh"

sizes="0 1 4096 262143 262144 262145 $((3 * 1024 * 1024 + 17)) $((256 * 1024 * 1024))"
mkdir "$T/src"
modes=(777 640 755 666 700 604 751 644)
i=0
for s in $sizes; do
	mkfile "$T/src/f$s" "$s"
	[ "$(stat -c %s "$T/src/f$s")" = "$s" ] || fail "mkfile made the wrong size for $s"
	chmod "${modes[i]}" "$T/src/f$s"
	i=$((i + 1))
done

# A source on another filesystem type, when there is one (/dev/shm).
XFS=
if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" != "$(stat -f -c %T "$T")" ]; then
	XFS=$(mktemp -d /dev/shm/cpd-test.XXXXXX)
	xfs_cleanup() { local rc=$?; rm -rf "$XFS"; (exit $rc); cleanup; }
	trap xfs_cleanup EXIT
	cp "$T/src/f4096" "$XFS/f4096"
else
	echo "note: no second filesystem type for the copy across filesystems"
fi
# $T may be on a rotational disk (or a loop device on one),
# whose jobs get one lane and so no copy from both ends by default.
lanes='devices = { rotational = { lanes = 4; }; };'
write_config "$T/lanes.conf" "$lanes"
write_config "$T/steps.conf" 'engine = { whole_file_max = 0; };' "$lanes"
for run in io_uring steps fallback; do
	case $run in
	steps) engine=io_uring; start_daemon_raw -E io_uring --config "$T/steps.conf" ;;
	*) engine=$run; start_daemon_raw -E "$engine" --config "$T/lanes.conf" ;;
	esac
	r=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
	expect_eq "$engine: GetStatus engine" "$(jfield parameters.engine <<<"$r")" "$engine"
	out="$T/out-$run"
	mkdir "$out"
	for s in $sizes; do
		src="$T/src/f$s" dst="$out/f$s"
		# The small copies before are interactive jobs; a second after
		# them the large one is copied from both ends (see mapped.sh).
		[ "$s" != $((256 * 1024 * 1024)) ] || sleep 1.1
		r=$(copy_wait "" "$dst" "$src")
		n=$(grep -c . <<<"$r")
		# Every reply but the last continues; the last does not.
		[ "$(head -n $((n - 1)) <<<"$r" | grep -vc '"continues":true')" = 0 ] ||
			fail "$run $s: a non-final reply without continues: $r"
		expect_eq "$run $s: final reply continues" "$(jfield continues <<<"$r")" null
		expect_eq "$run $s: state" "$(jfield parameters.job.state <<<"$r")" done
		expect_eq "$run $s: bytes_done" "$(jfield parameters.job.bytes_done <<<"$r")" "$s"
		expect_eq "$run $s: bytes_total" "$(jfield parameters.job.bytes_total <<<"$r")" "$s"
		expect_eq "$run $s: files_done" "$(jfield parameters.job.files_done <<<"$r")" 1
		[ -f "$dst" ] || fail "$run $s: no destination file"
		expect_eq "$run $s: size" "$(stat -c %s "$dst")" "$s"
		same "$src" "$dst"
		want=$(printf '%o' $((0$(file_mode "$src") & ~022)))
		expect_eq "$run $s: mode" "$(file_mode "$dst")" "$want"
		method=$(jfield parameters.job.method <<<"$r")
		case $run:$s in
		*:$((256 * 1024 * 1024)))
			expect_eq "$run 256 MiB: method" "$method" mapped ;;
		io_uring:$((3 * 1024 * 1024 + 17)) | steps:$((3 * 1024 * 1024 + 17)))
			expect_eq "$run 3 MiB: method" "$method" splice ;;
		io_uring:4096 | io_uring:262144 | fallback:4096)
			expect_eq "$run $s: method" "$method" copy_file_range ;;
		io_uring:262145) expect_eq "$run 256 KiB + 1: method" "$method" splice ;;
		steps:4096) expect_eq "steps 4 KiB: method" "$method" readwrite ;;
		esac
	done
	# Across filesystem types copy_file_range gives EXDEV: a thread's
	# reads and writes move the data, and the method says so.
	if [ -n "$XFS" ]; then
		r=$(copy_wait "" "$out/across" "$XFS/f4096")
		expect_eq "$run across filesystems: state" "$(jfield parameters.job.state <<<"$r")" done
		same "$XFS/f4096" "$out/across"
		[ "$run" = steps ] ||
			expect_eq "$run across filesystems: method" "$(jfield parameters.job.method <<<"$r")" readwrite
	fi
	no_temporaries "$out"
	no_temporaries "$T/src"
	rm -rf "$out"
	stop_daemon || fail "$run: daemon exited with an error on SIGTERM"
done
echo "PASS: copy_sizes"
