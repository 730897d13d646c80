#!/bin/sh
# Configure and build medseal into build/ (Release) or the directory given.
# usage: tools/build.sh [BUILD_DIR [extra cmake args...]]
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build}
[ $# -gt 0 ] && shift
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
