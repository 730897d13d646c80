#!/bin/bash
# Benchmark of pixel-gcm (seed 001): time against the number of frames, as
# the paper measured on IVUS (480x480, 8 bits, 100 to 2000 frames), and the
# 512x512x1000 CT series against the Python peer (bench/pixel_gcm_peer.py:
# pydicom + cryptography, the paper's algorithm) and the AES-256-GCM limit
# (`openssl speed`). A benchmark, not a test: figures only, appended to
# bench/RESULTS.md.
#
# usage: bench/pixel_gcm_frames.sh [FRAMES...]     default: 100 250 500 1000 2000
# environment: RUNS=3 (best of), RESULTS=bench/RESULTS.md ("-" for none),
#              MEDSEAL_BUILD=build, SERIES=0 to skip the series part,
#              OUT=/dev/shm/... where outputs go (tmpfs: the disk's fsync is not
#              what is measured)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${RUNS:-3}
results=${RESULTS:-$root/bench/RESULTS.md}
bdir=${MEDSEAL_BUILD:-build}
py=/usr/bin/python3
frames_list=("$@")
[ ${#frames_list[@]} -gt 0 ] || frames_list=(100 250 500 1000 2000)
invocation="${RUNS:+RUNS=$RUNS }bench/pixel_gcm_frames.sh${1:+ $*}"

tools/build.sh "$bdir" >/dev/null
medseal=$root/$bdir/medseal
work=$root/bench/work/frames
mkdir -p "$work"
out=${OUT:-$(mktemp -d /dev/shm/medseal-bench.XXXXXX 2>/dev/null || mktemp -d)}
trap 'rm -rf "$out"' EXIT
openssl rand -out "$out/k.bin" 32
# Whirlpool for the Python peer's paper mode needs OpenSSL's legacy provider
cat >"$out/legacy.cnf" <<'EOF'
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
EOF

# ---- synthetic multi-frame files --------------------------------------------------------
for n in "${frames_list[@]}"; do
    f=$work/mf480_$n.dcm
    [ -s "$f" ] && continue
    "$py" - "$f" "$n" <<'EOF'
import sys
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
path, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(1)
y, x = np.mgrid[0:480, 0:480]
ring = (np.hypot(x - 240, y - 240) % 60 * 3).astype(np.uint8)
frames = np.empty((n, 480, 480), np.uint8)
for i in range(n):
    frames[i] = np.roll(ring, i, axis=1) + rng.integers(0, 16, (480, 480), dtype=np.uint8)
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"  # US multi-frame
meta.MediaStorageSOPInstanceUID = generate_uid()
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = Dataset()
ds.file_meta = meta
ds.SOPClassUID = meta.MediaStorageSOPClassUID
ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
ds.PatientName = "IVUS^Synthetic"
ds.PatientID = "BENCH"
ds.Modality = "IVUS"
ds.SamplesPerPixel = 1
ds.PhotometricInterpretation = "MONOCHROME2"
ds.NumberOfFrames = n
ds.Rows = ds.Columns = 480
ds.BitsAllocated = ds.BitsStored = 8
ds.HighBit = 7
ds.PixelRepresentation = 0
ds.PixelData = frames.tobytes()
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.save_as(path, write_like_original=False)
EOF
done

# best wall time of RUNS runs of a command (outputs removed between runs)
best() {
    local b="" t0 t1 t
    for _ in $(seq "$runs"); do
        rm -rf "$out/o" "$out/o.dcm"
        t0=$EPOCHREALTIME
        "$@" >/dev/null 2>&1
        t1=$EPOCHREALTIME
        t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
        if [ -z "$b" ] || awk -v x="$t" -v y="$b" 'BEGIN { exit !(x < y) }'; then b=$t; fi
    done
    echo "$b"
}

rows=()
xs=()
ys=()
for n in "${frames_list[@]}"; do
    f=$work/mf480_$n.dcm
    mb=$(awk -v s="$(stat -c %s "$f")" 'BEGIN { printf "%.1f", s / 1048576 }')
    tp=$(best "$medseal" --quiet protect --scheme pixel-gcm -k "$out/k.bin" "$f" -o "$out/o.dcm")
    "$medseal" --quiet protect --scheme pixel-gcm -k "$out/k.bin" "$f" -o "$out/p.dcm"
    tu=$(best "$medseal" --quiet unprotect -k "$out/k.bin" "$out/p.dcm" -o "$out/o.dcm")
    "$medseal" --quiet unprotect -k "$out/k.bin" "$out/p.dcm" -o "$out/back.dcm"
    cmp -s "$f" "$out/back.dcm" || { echo "pixel_gcm_frames: round trip differs ($n frames)" >&2; exit 1; }
    mem=$( { /usr/bin/time -f %M "$medseal" --quiet protect --scheme pixel-gcm -k "$out/k.bin" "$f" -o "$out/m.dcm" >/dev/null; } 2>&1 | tail -n 1)
    tpy=$(OPENSSL_CONF=$out/legacy.cnf best "$py" bench/pixel_gcm_peer.py protect -k "$out/k.bin" -o "$out/o" "$f")
    rm -f "$out/p.dcm" "$out/back.dcm" "$out/m.dcm"
    rows+=("| $n | $mb | $tp | $(awk -v t="$tp" -v n="$n" 'BEGIN { printf "%.3f", 1000 * t / n }') | $tu | $(awk -v t="$tp" -v s="$mb" 'BEGIN { printf "%.0f", s / t }') | $(awk -v k="$mem" 'BEGIN { printf "%.1f", k / 1024 }') | $tpy | $(awk -v a="$tpy" -v b="$tp" 'BEGIN { printf "%.1fx", a / b }') |")
    xs+=("$n")
    ys+=("$tp")
done
# least-squares line t = a + b n and its R^2
fit=$(paste <(printf '%s\n' "${xs[@]}") <(printf '%s\n' "${ys[@]}") | awk '
    { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2; syy += $2 * $2 }
    END { b = (n * sxy - sx * sy) / (n * sxx - sx * sx); a = (sy - b * sx) / n;
          r = (n * sxy - sx * sy) / sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
          printf "t = %.4f s + %.3f ms x frames, R^2 = %.5f", a, 1000 * b, r * r }')

# ---- the 512x512x1000 series -----------------------------------------------------------------
series_rows=()
if [ "${SERIES:-1}" != 0 ]; then
    series=$(bench/make_series.sh)
    mapfile -t files < <(find "$series" -maxdepth 1 -name '*.dcm' | sort)
    smb=$(cat "${files[@]}" | wc -c | awk '{ printf "%.0f", $1 / 1048576 }')
    limit=$(openssl speed -elapsed -seconds 2 -bytes 16384 -evp aes-256-gcm 2>/dev/null |
            awk 'tolower($1) == "aes-256-gcm" { v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1048576 }')
    t1=$(best "$medseal" --quiet protect --scheme pixel-gcm --threads 1 -k "$out/k.bin" "$series" -o "$out/o")
    t2=$(best "$medseal" --quiet protect --scheme pixel-gcm -k "$out/k.bin" "$series" -o "$out/o")
    th=$(best "$medseal" --quiet protect --scheme pixel-gcm --key-from-header "$series" -o "$out/o")
    "$medseal" --quiet protect --scheme pixel-gcm -k "$out/k.bin" "$series" -o "$out/p"
    tu=$(best "$medseal" --quiet unprotect -k "$out/k.bin" "$out/p" -o "$out/o")
    smem=$( { /usr/bin/time -f %M "$medseal" --quiet protect --scheme pixel-gcm -k "$out/k.bin" "$series" -o "$out/m" >/dev/null; } 2>&1 | tail -n 1)
    rm -rf "$out/p" "$out/m"
    tpk=$(OPENSSL_CONF=$out/legacy.cnf best "$py" bench/pixel_gcm_peer.py protect -k "$out/k.bin" -o "$out/o" "${files[@]}")
    tph=$(OPENSSL_CONF=$out/legacy.cnf best "$py" bench/pixel_gcm_peer.py protect --key-from-header -o "$out/o" "${files[@]}")
    pmem=$( { OPENSSL_CONF=$out/legacy.cnf /usr/bin/time -f %M "$py" bench/pixel_gcm_peer.py protect -k "$out/k.bin" -o "$out/m" "${files[@]}" >/dev/null; } 2>&1 | tail -n 1)
    rm -rf "$out/m"
    r() { awk -v t="$1" -v s="$smb" 'BEGIN { printf "%.0f", s / t }'; }
    series_rows+=("| medseal protect -k, 1 thread | $t1 | $(r "$t1") | | |")
    series_rows+=("| medseal protect -k, 2 threads | $t2 | $(r "$t2") | $(awk -v k="$smem" 'BEGIN { printf "%.1f", k / 1024 }') | 1.0x |")
    series_rows+=("| medseal protect --key-from-header, 2 threads | $th | $(r "$th") | | $(awk -v a="$th" -v b="$t2" 'BEGIN { printf "%.1fx", a / b }') |")
    series_rows+=("| medseal unprotect -k, 2 threads | $tu | $(r "$tu") | | |")
    series_rows+=("| Python peer (pydicom + cryptography), -k | $tpk | $(r "$tpk") | $(awk -v k="$pmem" 'BEGIN { printf "%.1f", k / 1024 }') | $(awk -v a="$tpk" -v b="$t2" 'BEGIN { printf "%.1fx", a / b }') |")
    series_rows+=("| Python peer, key from header (Whirlpool) | $tph | $(r "$tph") | | $(awk -v a="$tph" -v b="$t2" 'BEGIN { printf "%.1fx", a / b }') |")
    series_rows+=("| openssl speed -evp aes-256-gcm (16 KiB, 1 core) | | $limit | | |")
fi

report() {
    echo
    echo "## pixel-gcm frames and series — $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- command: \`$invocation\` (commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo "- machine: $(nproc) cores, $(awk -F: '/model name/ { sub(/^ /, "", $2); print $2; exit }' /proc/cpuinfo), $(free -g | awk '/^Mem/ { print $2 }') GiB RAM; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- method: wall time best of $runs (bash \$EPOCHREALTIME), warm page cache, outputs on tmpfs ($out);"
    echo "  peak RSS from /usr/bin/time %M; every medseal output checked by a bit-exact round trip"
    echo "- multi-frame input: synthetic 480x480 8-bit frames (the paper's IVUS size), Explicit VR LE"
    echo
    echo "| frames | MiB | medseal protect s | ms / frame | unprotect s | MiB/s | peak RSS MiB | Python peer s | peer / medseal |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Linear fit of protect time: $fit."
    if [ ${#series_rows[@]} -gt 0 ]; then
        echo
        echo "Series: ${#files[@]} files, $smb MiB ($series), one process per case."
        echo
        echo "| case | wall s | MiB/s | peak RSS MiB | vs medseal 2 threads |"
        echo "|---|---:|---:|---:|---:|"
        printf '%s\n' "${series_rows[@]}"
    fi
}
report
if [ "$results" != "-" ]; then report >>"$results"; fi
