#!/bin/bash
# write_behind: engine.write_behind, seen by strace on the fallback
# engine (plain system calls). "always": a bulk file (at least
# async_threshold bytes) gets a sync_file_range(SYNC_FILE_RANGE_WRITE)
# per chunk, a small file none; "never": none; "auto" with one job
# alone: none. A bad value is refused by cpd -n. Bytes are exact.
. "$(dirname "$0")/../lib.sh"

command -v strace >/dev/null || skip "strace is not installed"
mkdir "$T/src" "$T/out"
mkfile "$T/src/bulk" 4M
mkfile "$T/src/small" 100K

write_config "$T/bad.conf" 'engine = { write_behind = "sometimes"; };'
if "$CPD" -n -f "$T/bad.conf" >"$T/bad.out" 2>&1; then
	fail "write_behind = \"sometimes\" accepted"
fi
grep -q write_behind "$T/bad.out" || fail "cpd -n: the error does not name the option: $(cat "$T/bad.out")"

# ranges POLICY: copy bulk and small, print the sync_file_range calls.
ranges() {
	write_config "$T/$1.conf" "engine = { write_behind = \"$1\"; chunk_size = \"1M\"; async_threshold = \"256K\"; };"
	: >"$DAEMON_LOG"
	start_daemon_raw -E fallback --config "$T/$1.conf"
	strace_daemon "$T/trace.$1" -e trace=sync_file_range
	local r
	r=$(copy_wait '{"reflink": "never"}' "$T/out/$1" "$T/src/bulk" "$T/src/small")
	expect_eq "$1: state" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/src/bulk" "$T/out/$1/bulk"
	same "$T/src/small" "$T/out/$1/small"
	kill "$TRACER"; wait "$TRACER" 2>/dev/null || true
	daemon_exit_ok
	grep -c 'sync_file_range(.*SYNC_FILE_RANGE_WRITE' "$T/trace.$1" || true
}
mkdir "$T/out/always" "$T/out/never" "$T/out/auto"
expect_eq "always: one per 1 MiB chunk of the 4 MiB file" "$(ranges always)" 4
expect_eq "never" "$(ranges never)" 0
expect_eq "auto, one job alone" "$(ranges auto)" 0
echo "PASS: write_behind"
