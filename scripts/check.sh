#!/bin/sh
# check.sh: install what is missing, build, and run every test:
#   1. the unit suite under ASan+UBSan,
#   2. the libFuzzer targets, each for a short bounded run over its seeds,
#   3. the whole suite on the normal build: unit tests, the same under
#      valgrind memcheck, integration tests -- last, so the output ends with
#      ctest's summary.
# Run as root to cover the privileged paths (CI does).
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh test

jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p build

# Run a build step quietly; show its output only when it fails.
quiet() {
	if ! "$@" >build/step.log 2>&1; then
		cat build/step.log
		echo "check: failed: $*" >&2
		exit 1
	fi
}

echo "== ASan+UBSan build: unit tests"
quiet cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DLOFT_SANITIZE=ON
quiet cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build/asan -L unit --output-on-failure -j"$jobs"

echo "== libFuzzer targets (clang)"
quiet env CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DLOFT_FUZZ=ON
quiet cmake --build build/fuzz -j"$jobs"
ctest --test-dir build/fuzz -L fuzz --output-on-failure -j"$jobs" --no-tests=ignore

echo "== Normal build: every test"
quiet cmake -S . -B build/main -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOFT_VALGRIND=ON
quiet cmake --build build/main -j"$jobs"
ctest --test-dir build/main --output-on-failure
