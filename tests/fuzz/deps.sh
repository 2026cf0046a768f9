#!/bin/bash
# Install what make fuzz needs beyond tests/deps.sh: clang and its
# libFuzzer/sanitizer runtimes, unless a clang with libFuzzer is there.
if command -v clang >/dev/null &&
   echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
   clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
	exit 0
fi
exec bash "$(dirname "$0")/../deps.sh" clang libclang-rt-dev
