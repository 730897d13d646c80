#!/bin/bash
# Benchmark of issue 3: `medseal scan` and `medseal validate` of the
# 512x512x1000 CT series, against the peers in the same run (dciodvfy and
# dcentvfy from dicom3tools, a pydicom scan), and peak memory of validate
# for 100, 300 and 1000 files (memory should not grow with the file count).
# A benchmark, not a test: it prints figures and never fails on time.
#
# usage: bench/scan_validate.sh [SERIES_DIR]
#   SERIES_DIR  default: the 512x512x1000 series of bench/make_series.sh
#               (built on first use)
# environment:
#   RUNS=5        timed runs of the medseal cases (best wall time is kept),
#                 after one untimed warm-up; runs are interleaved
#   PEER_RUNS=1   timed runs of the peers (dciodvfy takes ~1000 processes)
#   RESULTS=bench/RESULTS.md   where the tables are appended ("-" for none)
#   MEDSEAL_BUILD=build        the Release build directory (built if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${RUNS:-5}
peer_runs=${PEER_RUNS:-1}
results=${RESULTS:-$root/bench/RESULTS.md}
bdir=${MEDSEAL_BUILD:-build}
py=/usr/bin/python3
invocation="${RUNS:+RUNS=$RUNS }${PEER_RUNS:+PEER_RUNS=$PEER_RUNS }bench/scan_validate.sh${1:+ $1}"


# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_series scan_validate.sh "${1:-}"

tools/build.sh "$bdir" >/dev/null
medseal=$root/$bdir/medseal
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Subsets for the memory figures: directories of symbolic links to the files.
for n in 100 300; do
    [ "$n" -lt "$nfiles" ] || continue
    mkdir -p "$tmp/s$n"
    for f in "${files[@]:0:$n}"; do ln -s "$f" "$tmp/s$n/"; done
done

# Cases: name|runs|command (run by bash, stdout and stderr to files).
cases=(
    "medseal scan|$runs|$medseal -q scan $series"
    "medseal scan --json|$runs|$medseal -q scan --json $series"
    "medseal validate|$runs|$medseal -q validate $series"
    "medseal validate --no-iod (series checks)|$runs|$medseal -q validate --no-iod $series"
    "medseal validate --no-series (IOD checks)|$runs|$medseal -q validate --no-series $series"
    "pydicom scan (stop_before_pixels)|$peer_runs|$py bench/pydicom_scan.py ${files[*]}"
)
command -v dcentvfy >/dev/null && cases+=("dcentvfy (one process)|$peer_runs|dcentvfy ${files[*]}")
command -v dciodvfy >/dev/null &&
    cases+=("dciodvfy (one process per file)|$peer_runs|printf '%s\\0' ${files[*]} | xargs -0 -n1 dciodvfy")
for n in 100 300; do
    [ -d "$tmp/s$n" ] && cases+=("medseal validate, $n files|$runs|$medseal -q validate $tmp/s$n")
done
ncases=${#cases[@]}

run_case() { # index -> sets wall (s) and rss (KB)
    local cmd s e
    cmd=${cases[$1]#*|}
    cmd=${cmd#*|} # name|runs|command: the command may hold '|' itself
    s=$EPOCHREALTIME
    # status 1 (problems found) is a result, not a failure
    /usr/bin/time -f '%e %M' -o "$tmp/time" bash -c "$cmd" >"$tmp/out" 2>"$tmp/err" || {
        local rc=$?
        if [ "$rc" -gt 1 ] && ! grep -q '^[0-9]' "$tmp/time"; then
            echo "scan_validate.sh: '${cases[$1]%%|*}' failed ($rc):" >&2
            tail -n 5 "$tmp/err" >&2
            exit 5
        fi
    }
    e=$EPOCHREALTIME
    wall=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f", e - s }')
    rss=$(tail -n 1 "$tmp/time" | awk '{ print $2 }')
}

echo "scan_validate.sh: $nfiles files, $((bytes / 1048576)) MiB in $series; warm-up..." >&2
cat "${files[@]}" >/dev/null
declare -a best peak nruns
for ((i = 0; i < ncases; i++)); do
    best[i]=999999
    peak[i]=0
    nruns[i]=$(echo "${cases[i]}" | cut -d'|' -f2)
    [ "${nruns[i]}" -gt 1 ] && run_case "$i" # warm-up of the cheap cases
done
$medseal -q validate "$series" >"$tmp/findings" || true
nfind=$(wc -l <"$tmp/findings")
maxruns=$(( runs > peer_runs ? runs : peer_runs ))
for ((r = 1; r <= maxruns; r++)); do
    echo "scan_validate.sh: run $r/$maxruns" >&2
    for ((i = 0; i < ncases; i++)); do
        [ "$r" -le "${nruns[i]}" ] || continue
        run_case "$i"
        best[i]=$(awk -v a="${best[i]}" -v b="$wall" 'BEGIN { print (b < a) ? b : a }')
        [ "$rss" -gt "${peak[i]}" ] && peak[i]=$rss
    done
done

idx() { local i; for ((i = 0; i < ncases; i++)); do [ "${cases[i]%%|*}" = "$1" ] && echo "$i" && return; done; echo -1; }
t() { local i; i=$(idx "$1"); [ "$i" -ge 0 ] && echo "${best[i]}" || echo ""; }
m() { local i; i=$(idx "$1"); [ "$i" -ge 0 ] && echo "${peak[i]}" || echo ""; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
verdict() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v + 0 <= lim) ? "met" : "MISSED" }'; }

tv=$(t "medseal validate")
ts=$(t "medseal scan")
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
{
    echo
    echo "## scan + validate — $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- command: \`$invocation\` (commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo "- machine: $(nproc) cores, $cpu, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)"
    echo "- input: $nfiles files, $((bytes / 1048576)) MiB ($series); validate reports $nfind findings"
    echo "- peers: dicom3tools $(dpkg-query -W -f '${Version}' dicom3tools 2>/dev/null || echo '?'), pydicom $($py -c 'import pydicom; print(pydicom.__version__)')"
    echo "- method: one process per case (dciodvfy: one per file, through xargs), warm page cache;"
    echo "  wall = best of $runs runs for medseal, $peer_runs for the peers; peak RSS = max over runs"
    echo "- validate reads every file whole (Pixel Data stays in the mapping), checks it against its"
    echo "  IOD, VR/VM and values, then the series (duplicates, consistency, geometry); scan stops"
    echo "  before Pixel Data"
    echo
    echo "| case | wall s | files/s | peak RSS MiB | vs medseal validate |"
    echo "|---|---:|---:|---:|---:|"
    for ((i = 0; i < ncases; i++)); do
        name=${cases[i]%%|*}
        n=$nfiles
        case "$name" in *", 100 files") n=100 ;; *", 300 files") n=300 ;; esac
        awk -v c="$name" -v w="${best[i]}" -v k="${peak[i]}" -v f="$n" -v tv="$tv" 'BEGIN {
            printf "| %s | %.3f | %.0f | %.1f | %.1fx |\n", c, w, f / w, k / 1024, w / tv }'
    done
    echo
    echo "| target | figure | verdict |"
    echo "|---|---:|---|"
    both=$(awk -v a="$ts" -v b="$tv" 'BEGIN { printf "%.3f", a + b }')
    echo "| scan + validate of $nfiles files < 1 s | $both s | $(verdict "$both" 0.999) |"
    if [ "$(idx 'medseal validate, 100 files')" -ge 0 ]; then
        m100=$(m "medseal validate, 100 files")
        grow=$(awk -v a="$(m 'medseal validate')" -v b="$m100" 'BEGIN { printf "%.1f", (a - b) / 1024 }')
        echo "| validate memory independent of the file count (RSS $nfiles files − 100 files ≤ 2 MiB) | +$grow MiB ($(mib "$m100") → $(mib "$(m 'medseal validate')") MiB) | $(verdict "$grow" 2) |"
    fi
} >"$tmp/table"

cat "$tmp/table"
if [ "$results" != "-" ]; then
    cat "$tmp/table" >>"$results"
    echo "scan_validate.sh: appended to ${results#"$root"/}" >&2
fi
