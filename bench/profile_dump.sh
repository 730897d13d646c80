#!/bin/bash
# Profile `medseal dump` (and the HU reader) on the benchmark series. Prints
# the hot spots; writes the raw profiles under bench/work/profile/.
# A profiling aid, not a test.
#
# usage: bench/profile_dump.sh [SERIES_DIR]
# Builds build-prof/ (Release flags + -g -fno-omit-frame-pointer).
# Uses `perf record -e cpu-clock` when perf can sample (a VM without hardware
# counters still has the cpu-clock software event), and always
# `valgrind --tool=callgrind` on the first 50 files (exact instruction counts,
# inclusive costs through libc).
set -eu  # no pipefail: the reports are cut with head
cd "$(dirname "$0")/.."
series=${1:-$(bench/make_series.sh)}
out=bench/work/profile
mkdir -p "$out"
mapfile -t files < <(find "$series" -maxdepth 1 -name '*.dcm' | sort)
tools/build.sh build-prof -DCMAKE_C_FLAGS="-g -fno-omit-frame-pointer" >/dev/null
# shellcheck disable=SC2046
cc -O3 -g -fno-omit-frame-pointer -std=c11 -Iinclude bench/pixel_hu.c build-prof/libmedseal.a \
    $(pkg-config --libs openssl zlib libpng libsodium json-c) -lpthread -lm -o "$out/pixel_hu"
cat "${files[@]}" >/dev/null

if command -v perf >/dev/null && perf record -q -e cpu-clock -o /dev/null true 2>/dev/null; then
    echo "== perf: medseal dump, ${#files[@]} files (self time by library, then by symbol)"
    perf record -q -e cpu-clock -F 20000 -o "$out/dump.perf" \
        build-prof/medseal dump "${files[@]}" >/dev/null 2>&1
    perf report -i "$out/dump.perf" --no-children --stdio --sort dso 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -n 5
    perf report -i "$out/dump.perf" --no-children --stdio --sort dso,sym 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -n 25
    echo "== perf: pixel_hu (HU through ms_pixel_frame_real), ${#files[@]} files"
    perf record -q -e cpu-clock -F 2000 -o "$out/hu.perf" "$out/pixel_hu" "${files[@]}" >/dev/null 2>&1
    perf report -i "$out/hu.perf" --no-children --stdio --sort dso,sym 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -n 8
else
    echo "== perf cannot sample here: skipped"
fi

if command -v valgrind >/dev/null; then
    echo "== callgrind: medseal dump, first 50 files (inclusive instructions)"
    valgrind -q --tool=callgrind --callgrind-out-file="$out/dump.callgrind" \
        build-prof/medseal dump "${files[@]:0:50}" >/dev/null
    callgrind_annotate --inclusive=yes "$out/dump.callgrind" 2>/dev/null |
        sed -n '/file:function/,$p' | sed -n '3,40p'
    echo "== callgrind: self instructions"
    callgrind_annotate --inclusive=no "$out/dump.callgrind" 2>/dev/null |
        sed -n '/file:function/,$p' | sed -n '3,25p'
else
    echo "== valgrind not installed: callgrind skipped"
fi
