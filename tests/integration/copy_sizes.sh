#!/bin/bash
# copy_sizes: byte-exact copies of files of every interesting size (empty,
# one byte, one page, around the 256 KiB async threshold, an odd size over
# several chunks, 256 MiB) with both engines, through raw Varlink Copy with
# "more": true. Each copy ends "done", has the source's mode less the
# default umask 022, and leaves no temporary behind. With io_uring the
# large file goes by splice and the 4 KiB one by read/write.
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

for engine in io_uring fallback; do
	start_daemon_raw -E "$engine"
	r=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
	expect_eq "$engine: GetStatus engine" "$(jfield parameters.engine <<<"$r")" "$engine"
	out="$T/out-$engine"
	mkdir "$out"
	for s in $sizes; do
		src="$T/src/f$s" dst="$out/f$s"
		r=$(copy_wait "" "$dst" "$src")
		n=$(grep -c . <<<"$r")
		# Every reply but the last continues; the last does not.
		[ "$(head -n $((n - 1)) <<<"$r" | grep -vc '"continues":true')" = 0 ] ||
			fail "$engine $s: a non-final reply without continues: $r"
		expect_eq "$engine $s: final reply continues" "$(jfield continues <<<"$r")" null
		expect_eq "$engine $s: state" "$(jfield parameters.job.state <<<"$r")" done
		expect_eq "$engine $s: bytes_done" "$(jfield parameters.job.bytes_done <<<"$r")" "$s"
		expect_eq "$engine $s: bytes_total" "$(jfield parameters.job.bytes_total <<<"$r")" "$s"
		expect_eq "$engine $s: files_done" "$(jfield parameters.job.files_done <<<"$r")" 1
		[ -f "$dst" ] || fail "$engine $s: no destination file"
		expect_eq "$engine $s: size" "$(stat -c %s "$dst")" "$s"
		same "$src" "$dst"
		want=$(printf '%o' $((0$(file_mode "$src") & ~022)))
		expect_eq "$engine $s: mode" "$(file_mode "$dst")" "$want"
		method=$(jfield parameters.job.method <<<"$r")
		if [ "$engine" = io_uring ]; then
			case $s in
			$((256 * 1024 * 1024))) expect_eq "io_uring 256 MiB: method" "$method" splice ;;
			4096) expect_eq "io_uring 4 KiB: method" "$method" readwrite ;;
			esac
		fi
	done
	no_temporaries "$out"
	no_temporaries "$T/src"
	rm -rf "$out"
	stop_daemon || fail "$engine: daemon exited with an error on SIGTERM"
done
echo "PASS: copy_sizes"
