#!/bin/bash
# Benchmark of issue 2: `medseal dump` of every file of a big CT series in one
# process, against its peers in the same run (DCMTK dcmdump, pydicom), plus
# reading the pixel data of the whole series into HU against `cat`.
# A benchmark, not a test: it prints figures and never fails on time.
#
# usage: bench/dump.sh [SERIES_DIR]
#   SERIES_DIR  default: the 512x512x1000 series of bench/make_series.sh
#               (built on first use)
# environment:
#   RUNS=5        timed runs per case (best wall time is kept), after one
#                 untimed warm-up run per case; runs are interleaved
#   RESULTS=bench/RESULTS.md   where the table is appended ("-" for none)
#   MEDSEAL_BUILD=build        the Release build directory (built if needed)
#
# Wall time: best of RUNS (bash $EPOCHREALTIME around the process, warm page
# cache). Peak memory: largest maximum RSS over the runs (/usr/bin/time %M).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${RUNS:-5}
results=${RESULTS:-$root/bench/RESULTS.md}
bdir=${MEDSEAL_BUILD:-build}
py=/usr/bin/python3
invocation="${RUNS:+RUNS=$RUNS }bench/dump.sh${1:+ $1}"

command -v dcmdump >/dev/null || { echo "dump.sh: dcmdump missing (tools/install-deps.sh)" >&2; exit 5; }

# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_series dump.sh "${1:-}"

tools/build.sh "$bdir" >/dev/null
medseal=$root/$bdir/medseal
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The pixel reader links the static library (-O3 as the Release library).
mkdir -p bench/work
pixel_hu=$root/bench/work/pixel_hu
# shellcheck disable=SC2046
if cc -O3 -std=c11 -Wall -Wextra -Iinclude bench/pixel_hu.c "$bdir/libmedseal.a" \
      $(pkg-config --libs openssl zlib libpng libsodium json-c) -lpthread -lm \
      -o "$pixel_hu" 2>"$tmp/cc.log"; then
    have_pixel=1
else
    have_pixel=0
    echo "dump.sh: bench/pixel_hu.c does not build (ms_pixel_* missing?): pixel rows skipped" >&2
    head -n 5 "$tmp/cc.log" >&2
fi

# Cases: name|command (run by bash with FILES... appended, stdout to /dev/null).
cases=(
    "cat|cat"
    "medseal dump|$medseal dump"
    "medseal dump --no-pixels|$medseal dump --no-pixels"
    "dcmdump -q|dcmdump -q"
    "pydicom dcmread+PixelData|$py bench/pydicom_dump.py"
    "pydicom dcmread+str(ds)|$py bench/pydicom_dump.py --str"
)
if [ "$have_pixel" = 1 ]; then
    cases+=("pixel_hu (HU, ms_pixel_frame_real)|$pixel_hu"
            "pixel_hu --raw (map + sum stored words)|$pixel_hu --raw"
            "pixel_hu --ref (HU, loop in bench)|$pixel_hu --ref")
fi
ncases=${#cases[@]}

run_case() { # index -> sets wall (s) and rss (KB)
    local cmd=${cases[$1]#*|} s e
    s=$EPOCHREALTIME
    # shellcheck disable=SC2086
    if ! /usr/bin/time -f '%e %M' -o "$tmp/time" $cmd "${files[@]}" >/dev/null 2>"$tmp/err"; then
        echo "dump.sh: '${cases[$1]%%|*}' failed:" >&2
        tail -n 5 "$tmp/err" >&2
        exit 5
    fi
    e=$EPOCHREALTIME
    wall=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f", e - s }')
    rss=$(tail -n 1 "$tmp/time" | awk '{ print $2 }')
}

echo "dump.sh: $nfiles files, $((bytes / 1048576)) MiB in $series; warm-up..." >&2
cat "${files[@]}" >/dev/null
declare -a best peak
for ((i = 0; i < ncases; i++)); do
    run_case "$i"
    best[i]=$wall
    peak[i]=$rss
done
if [ "$have_pixel" = 1 ]; then
    hu_check=$("$pixel_hu" "${files[@]}")
fi
for ((r = 1; r <= runs; r++)); do
    echo "dump.sh: run $r/$runs" >&2
    for ((i = 0; i < ncases; i++)); do
        [ "$r" = 1 ] && best[i]=999999 && peak[i]=0
        run_case "$i"
        best[i]=$(awk -v a="${best[i]}" -v b="$wall" 'BEGIN { print (b < a) ? b : a }')
        [ "$rss" -gt "${peak[i]}" ] && peak[i]=$rss
    done
done

idx() { local i; for ((i = 0; i < ncases; i++)); do [ "${cases[i]%%|*}" = "$1" ] && echo "$i" && return; done; echo -1; }
t() { local i; i=$(idx "$1"); [ "$i" -ge 0 ] && echo "${best[i]}" || echo ""; }
m() { local i; i=$(idx "$1"); [ "$i" -ge 0 ] && echo "${peak[i]}" || echo ""; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.1fx", a / b }'; }
verdict() { awk -v v="$1" -v op="$2" -v lim="$3" 'BEGIN { v += 0; ok = (op == ">=") ? v >= lim : v <= lim; print ok ? "met" : "MISSED" }'; }

tm=$(t "medseal dump")
tmem=$(m "medseal dump")
tcat=$(t "cat")
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
{
    echo
    echo "## dump — $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- command: \`$invocation\` (commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo "- machine: $(nproc) cores, $cpu, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)"
    echo "- input: $nfiles files, $((bytes / 1048576)) MiB ($series)"
    echo "- peers: $(dcmdump --version 2>/dev/null | head -n 1 | tr -d '$' | sed 's/^dcmtk: *//; s/ *$//'), pydicom $($py -c 'import pydicom; print(pydicom.__version__)'), Python $($py -c 'import platform; print(platform.python_version())')"
    echo "- method: every case is one process given all $nfiles files, stdout to /dev/null, warm page cache;"
    echo "  wall = best of $runs interleaved runs (after one warm-up), peak RSS = max over runs (/usr/bin/time %M)"
    [ -n "${hu_check:-}" ] && echo "- pixel_hu check: $hu_check"
    echo
    echo "| case | wall s | files/s | input MiB/s | peak RSS MiB | vs medseal dump |"
    echo "|---|---:|---:|---:|---:|---:|"
    for ((i = 0; i < ncases; i++)); do
        awk -v n="${cases[i]%%|*}" -v w="${best[i]}" -v k="${peak[i]}" -v f="$nfiles" \
            -v b="$bytes" -v tm="$tm" 'BEGIN {
                printf "| %s | %.3f | %.0f | %.0f | %.1f | %.1fx |\n",
                       n, w, f / w, b / 1048576 / w, k / 1024, w / tm }'
    done
    echo
    echo "| target | figure | verdict |"
    echo "|---|---:|---|"
    r=$(ratio "$(t 'pydicom dcmread+PixelData')" "$tm")
    echo "| medseal dump ≥ 10x pydicom (dcmread + PixelData) | $r | $(verdict "${r%x}" '>=' 10) |"
    r=$(ratio "$(t 'dcmdump -q')" "$tm")
    echo "| medseal dump ≥ 3x dcmdump -q | $r | $(verdict "${r%x}" '>=' 3) |"
    mem=$(awk -v k="$tmem" 'BEGIN { printf "%.1f", k / 1024 }')
    echo "| medseal dump peak RSS < 32 MiB | $mem MiB | $(verdict "$mem" '<=' 31.999) |"
    if [ "$have_pixel" = 1 ]; then
        th=$(t "pixel_hu (HU, ms_pixel_frame_real)")
        r=$(ratio "$th" "$tcat")
        echo "| series into HU near cat (read ≤ 1.5x cat) | $r of cat | $(verdict "${r%x}" '<=' 1.5) |"
        mem=$(awk -v k="$(m 'pixel_hu (HU, ms_pixel_frame_real)')" 'BEGIN { printf "%.1f", k / 1024 }')
        echo "| series into HU peak RSS < 32 MiB | $mem MiB | $(verdict "$mem" '<=' 31.999) |"
    else
        echo "| series into HU near cat | not measured (ms_pixel_* not in the library yet) | n/a |"
    fi
} >"$tmp/table"

cat "$tmp/table"
if [ "$results" != "-" ]; then
    [ -f "$results" ] || cat >"$results" <<'EOF'
# Benchmark results

Appended by the scripts in bench/, newest last. Benchmarks are not tests: figures only.

dump.sh cases (each one process given every file of the series):
- `medseal dump` / `--no-pixels`: the text listing; Pixel Data stays in the file mapping.
- `dcmdump -q`: DCMTK, lazy (large values are not loaded).
- pydicom: `bench/pydicom_dump.py` (dcmread + `len(ds.PixelData)`), and `--str` (also str(ds)).
- `pixel_hu`: ms_file_read + ms_pixel_info_get + ms_pixel_frame_real into float HU, summed;
  `--raw` sums the stored words only (the cost of reading through the mapping);
  `--ref` converts with a straight loop in the benchmark (what a specialised path could cost).
EOF
    cat "$tmp/table" >>"$results"
    echo "dump.sh: appended to ${results#"$root"/}" >&2
fi
