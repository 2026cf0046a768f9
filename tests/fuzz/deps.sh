#!/bin/bash
# Install what make fuzz needs beyond tests/deps.sh: clang and its
# libFuzzer/sanitizer runtimes, if missing.
pkgs=(clang libclang-rt-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if command -v clang >/dev/null &&
   echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
   clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
	exit 0		# a clang with libFuzzer from elsewhere
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "missing Debian packages: ${missing[*]}" >&2
	echo "run as root (sudo make fuzz) or: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq "${missing[@]}"
