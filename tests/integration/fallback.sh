#!/bin/bash
# fallback: the io_uring and the fallback engine make identical copies and
# say which they are in GetStatus. With io_uring disabled by the kernel
# (kernel.io_uring_disabled = 2, root only) the default engine falls back:
# one log line says so, GetStatus reports "fallback" with a reason, and
# copies still work.
. "$(dirname "$0")/../lib.sh"

mkdir "$T/src"
mkfile "$T/src/big" $((5 * 1024 * 1024 + 4095))
mkfile "$T/src/small" 3000
chmod 751 "$T/src/big"

for engine in io_uring fallback; do
	start_daemon_raw -E "$engine"
	r=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
	expect_eq "$engine: engine" "$(jfield parameters.engine <<<"$r")" "$engine"
	reason=$(jfield parameters.fallback_reason <<<"$r")
	if [ "$engine" = io_uring ]; then
		expect_eq "io_uring: fallback_reason" "$reason" null
	else
		[ "$reason" != null ] && [ -n "$reason" ] || fail "fallback: no fallback_reason: $r"
	fi
	mkdir "$T/$engine"
	r=$(copy_wait "" "$T/$engine" "$T/src/big" "$T/src/small")
	expect_eq "$engine: state" "$(jfield parameters.job.state <<<"$r")" done
	same "$T/src/big" "$T/$engine/big"
	same "$T/src/small" "$T/$engine/small"
	stop_daemon || fail "$engine: daemon failed on SIGTERM"
done
same "$T/io_uring/big" "$T/fallback/big"
same "$T/io_uring/small" "$T/fallback/small"
expect_eq "modes agree" "$(file_mode "$T/io_uring/big")" "$(file_mode "$T/fallback/big")"
expect_eq "mode" "$(file_mode "$T/io_uring/big")" 751
no_temporaries "$T"

# ---- io_uring disabled by the kernel.
SYSCTL=/proc/sys/kernel/io_uring_disabled
[ "$(id -u)" -eq 0 ] || skip "io_uring_disabled part needs root (engines compared: OK)"
[ -w "$SYSCTL" ] || skip "no writable $SYSCTL on this kernel (engines compared: OK)"
old=$(cat "$SYSCTL")
restore() { echo "$old" >"$SYSCTL" 2>/dev/null || true; }
# cleanup takes the exit status from $?: hand it on (set +e, or the
# "(exit $rc)" would end the trap before cleanup ran).
trap 'rc=$?; restore; set +e; (exit $rc); cleanup' EXIT
sysctl -q -w kernel.io_uring_disabled=2 || skip "cannot set kernel.io_uring_disabled"
: >"$DAEMON_LOG"
start_daemon_raw
restore			# the daemon has chosen its engine: keep the window short
expect_eq "sysctl restored" "$(cat "$SYSCTL")" "$old"
lines=$(grep -i 'io_uring' "$DAEMON_LOG" | grep -ci 'fallback' || true)
expect_eq "log lines naming io_uring and the fallback" "$lines" 1
r=$(varlink_call '{"method":"io.cpd.Manager.GetStatus"}')
expect_eq "disabled: engine" "$(jfield parameters.engine <<<"$r")" fallback
reason=$(jfield parameters.fallback_reason <<<"$r")
[[ "$reason" == *io_uring* ]] || fail "disabled: fallback_reason does not mention io_uring: $reason"
expect_eq "disabled: features" "$(jfield parameters.features <<<"$r")" "[]"
mkdir "$T/disabled"
r=$(copy_wait "" "$T/disabled" "$T/src/big" "$T/src/small")
expect_eq "disabled: state" "$(jfield parameters.job.state <<<"$r")" done
expect_eq "disabled: method" "$(jfield parameters.job.method <<<"$r")" copy_file_range
same "$T/src/big" "$T/disabled/big"
same "$T/src/small" "$T/disabled/small"
no_temporaries "$T"
echo "PASS: fallback"
