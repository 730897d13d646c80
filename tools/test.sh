#!/bin/sh
# Install dependencies, build, and run the whole test suite: the Release
# build, then an ASan+UBSan build running the tests and the fuzz-corpus
# replay, then the mutation test, then the complexity report.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh build
(cd build && ctest --output-on-failure -j"$(nproc)")
CC=clang tools/build.sh build-asan -DMEDSEAL_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$(nproc)" -E '^bench/')
tools/complexity.sh
echo "all tests passed"
