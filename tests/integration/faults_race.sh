#!/bin/bash
# faults_race: things that happen to a job while it copies, with both
# engines; a bandwidth limit holds each copy open long enough. A source
# that grows, is rewritten in place or is truncated during its copy fails
# the job with EAGAIN ("changed" or "shrank while being copied", naming
# it); in a tree copied with keep_going only that file fails, and the
# others are copied; a destination directory removed mid-job (for a new
# tree, the directory it is made in before it is put in place) fails it
# with ENOENT naming the destination, for a file and for a tree, and is
# not recreated. In
# each case nothing is published and no temporary stays. A cpd-client
# killed (SIGKILL) while it waits does not cancel its job, which ends
# done with a whole copy (only an interrupt cpd-client can catch cancels,
# see cpd-client(1)). The daemon serves on after every case.
. "$(dirname "$0")/../lib.sh"

mkdir "$T/src"
slow='{"bwlimit": 2097152, "reflink": "never"}'	# 4 MiB: 2 s

# race WHAT DEST ACTION SRC...: start a slow copy of SRC... to DEST, run
# ACTION (a shell command) once its data is under way, print the replies.
race() {
	local what=$1 dest=$2 action=$3 pid
	shift 3
	copy_wait "$slow" "$dest" "$@" >"$T/replies" &
	pid=$!
	wait_tmp "$(dirname "$dest")"
	eval "$action"
	wait $pid || fail "$what: the Copy call failed"
	cat "$T/replies"
}

for engine in io_uring fallback; do
	start_daemon_raw -E "$engine"
	out="$T/out-$engine"
	mkdir "$out"

	for change in grown rewritten truncated; do
		src="$T/src/$change"
		mkfile "$src" 4M
		case $change in
		grown)		action="head -c 4096 /dev/urandom >>'$src'" ;;
		rewritten)	action="dd if=/dev/urandom of='$src' bs=4096 count=1 conv=notrunc status=none" ;;
		truncated)	action="truncate -s 1M '$src'" ;;
		esac
		r=$(race "$engine: $change" "$out/$change" "$action" "$src")
		expect_job_failed "$engine: source $change" "$r" EAGAIN \
			"'$src' @(changed|shrank) while being copied: *"
		[ ! -e "$out/$change" ] || fail "$engine: source $change: destination published"
		no_temporaries "$out"
		daemon_serves "$engine: source $change"
	done

	# With archive the second look comes with the attributes (copy.c).
	src="$T/src/archived"
	mkfile "$src" 4M
	slow='{"bwlimit": 2097152, "reflink": "never", "archive": true}'
	r=$(race "$engine: archive" "$out/archived" "head -c 4096 /dev/urandom >>'$src'" "$src")
	slow='{"bwlimit": 2097152, "reflink": "never"}'
	expect_job_failed "$engine: archive: source grown" "$r" EAGAIN \
		"'$src' changed while being copied: *"
	[ ! -e "$out/archived" ] || fail "$engine: archive: destination published"
	no_temporaries "$out"

	# In a tree, with keep_going: that file is listed, the others copied.
	rm -rf "$T/src/kg"
	mkdir -p "$T/src/kg/sub"
	mkfile "$T/src/kg/sub/changes" 4M
	mkfile "$T/src/kg/stays" 100K
	copy_wait '{"bwlimit": 2097152, "reflink": "never", "recursive": true, "keep_going": true}' \
		"$out/kg" "$T/src/kg" >"$T/replies" &
	pid=$!
	wait_tmp "$out"	# "changes" in the new tree, not yet in place: its copy has begun
	echo more >>"$T/src/kg/sub/changes"
	wait $pid || fail "$engine: keep_going: the Copy call failed"
	r=$(cat "$T/replies")
	expect_eq "$engine: keep_going: state" "$(jfield parameters.job.state <<<"$r")" done
	expect_eq "$engine: keep_going: files_failed" "$(jfield parameters.job.files_failed <<<"$r")" 1
	expect_eq "$engine: keep_going: failed path" \
		"$(jfield parameters.job.failures.0.path <<<"$r")" "$T/src/kg/sub/changes"
	expect_eq "$engine: keep_going: failed error" \
		"$(jfield parameters.job.failures.0.error <<<"$r")" EAGAIN
	[ ! -e "$out/kg/sub/changes" ] || fail "$engine: keep_going: the changed file was published"
	same "$T/src/kg/stays" "$out/kg/stays"
	no_temporaries "$out"

	mkfile "$T/src/file" 4M
	mkdir "$out/gone"
	r=$(race "$engine: directory removed" "$out/gone/" "rm -rf '$out/gone'" "$T/src/file")
	expect_job_failed "$engine: directory removed" "$r" ENOENT "*'$out/gone/file'*" \
		"*: No such file or directory"
	[ ! -e "$out/gone" ] || fail "$engine: directory removed: it was recreated"
	no_temporaries "$out"
	daemon_serves "$engine: directory removed"

	mkdir -p "$T/src/tree/sub" "$out/treedst"
	for f in a b sub/c; do mkfile "$T/src/tree/$f" 1536K; done
	r=$(copy_wait '{"bwlimit": 2097152, "reflink": "never", "recursive": true}' \
		"$out/treedst/tree" "$T/src/tree" >"$T/replies" & pid=$!
		wait_tmp "$out/treedst"; rm -rf "$out/treedst"/.cpd-tmp.*; wait $pid; cat "$T/replies")
	expect_job_failed "$engine: tree directory removed" "$r" ENOENT "*'$out/treedst/tree*" \
		"*: No such file or directory"
	expect_eq "$engine: tree directory removed: entries" "$(ls -A "$out/treedst")" ""
	daemon_serves "$engine: tree directory removed"

	# cpd-client killed while it waits: the job runs on to its end.
	"$CLIENT" copy --bwlimit 2M "$T/src/file" "$out/killed" >/dev/null 2>&1 &
	pid=$!
	wait_tmp "$out"
	kill -KILL $pid
	wait $pid 2>/dev/null && fail "$engine: cpd-client was not killed"
	id=$(varlink_call '{"method":"io.cpd.Manager.List"}' | py -c '
import json, sys
for l in sys.stdin.read().split("\n"):
    if l.strip():
        for j in json.loads(l)["parameters"]["jobs"]:
            if j["destination"] == sys.argv[1]:
                print(j["id"])' "$out/killed")
	[[ "$id" =~ ^[0-9]+$ ]] || fail "$engine: client killed: no job for $out/killed ($id)"
	r=$(job_wait "$id")
	expect_eq "$engine: client killed: job" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/src/file" "$out/killed"
	no_temporaries "$out"
	daemon_exit_ok
done
echo "PASS: faults_race"
