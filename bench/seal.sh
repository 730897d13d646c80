#!/bin/bash
# Benchmark of issue 4: `medseal seal` and `medseal verify` of the 512x512x1000
# CT series, against its peers in the same run: seed 000's method written the
# direct way with numpy/pydicom (bench/seal_numpy.py: DRR + AES-GCM blocks,
# the whole volume in memory) and `openssl speed -evp sha256` as the hashing
# limit of one core (and of all cores, -multi).
# A benchmark, not a test: it prints figures and never fails on time.
#
# usage: bench/seal.sh [SERIES_DIR]
#   SERIES_DIR  default: the series of bench/make_series.sh (built on first use)
# environment:
#   RUNS=3        timed runs of each medseal case (best wall kept), after one
#                 untimed warm-up; the numpy peer runs PEER_RUNS=1 times
#   RESULTS=bench/RESULTS.md   where the tables are appended ("-" for none)
#   MEDSEAL_BUILD=build        the Release build directory (built if needed)
#
# What is hashed: every file once (SHA-256 of the file) and every Pixel Data
# value once more (SHA-256 of Pixel Data), so hashed bytes = file bytes + pixel
# bytes. verify of an intact study hashes every file once: a file whose SHA-256
# is a trusted sealed record's has that record's Pixel Data hash, so hashed bytes
# = file bytes there. Per-core hashing speed = hashed bytes / CPU seconds (user + sys):
# compared with `openssl speed` on one core it is the share of the hashing
# limit reached; cores used = CPU seconds / wall seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${RUNS:-3}
peer_runs=${PEER_RUNS:-1}
results=${RESULTS:-$root/bench/RESULTS.md}
bdir=${MEDSEAL_BUILD:-build}
py=/usr/bin/python3
invocation="${RUNS:+RUNS=$RUNS }bench/seal.sh${1:+ $1}"

[ -x /usr/bin/time ] || { echo "seal.sh: /usr/bin/time missing (tools/install-deps.sh)" >&2; exit 5; }
$py -c 'import cryptography' 2>/dev/null || { echo "seal.sh: python3-cryptography missing (tools/install-deps.sh)" >&2; exit 5; }

series=${1:-$(bench/make_series.sh)}
tools/build.sh "$bdir" >/dev/null
medseal=$root/$bdir/medseal
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

openssl rand -out "$tmp/k.bin" 32
openssl genpkey -algorithm ed25519 -out "$tmp/sign.pem" 2>/dev/null
openssl pkey -in "$tmp/sign.pem" -pubout -out "$tmp/sign.pub"

read -r nfiles file_bytes pixel_bytes < <($py - "$series" <<'EOF'
import os, sys, pydicom
n = fb = pb = 0
for name in sorted(os.listdir(sys.argv[1])):
    p = os.path.join(sys.argv[1], name)
    if name.startswith(".") or not os.path.isfile(p):
        continue
    n += 1
    fb += os.path.getsize(p)
    ds = pydicom.dcmread(p, stop_before_pixels=True)
    pb += ds.Rows * ds.Columns * ds.BitsAllocated // 8 * int(ds.get("NumberOfFrames", 1))
print(n, fb, pb)
EOF
)
hashed=$((file_bytes + pixel_bytes))

# ---- peers: the hashing limit -------------------------------------------------------
sha_one=$(openssl speed -elapsed -seconds 3 -bytes 16384 -evp sha256 2>/dev/null | awk '/^sha256/ {print $2}')
sha_all=$(openssl speed -elapsed -seconds 3 -bytes 16384 -multi "$(nproc)" -evp sha256 2>/dev/null | awk '/^sha256/ {print $2}')
sha_one=${sha_one%k}
sha_all=${sha_all%k}

# ---- timed cases --------------------------------------------------------------------
timed() { # name command... -> appends "name wall cpu rss" to $tmp/rows
    local name=$1 s e rc=0
    shift
    s=$EPOCHREALTIME
    /usr/bin/time -f '%U %S %M' -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    e=$EPOCHREALTIME
    if [ "$rc" -ne 0 ]; then # verify exits 0 when intact: anything else is a failure here
        echo "seal.sh: '$name' failed (exit $rc):" >&2
        tail -n 5 "$tmp/err" >&2
        exit 5
    fi
    read -r u sy rss < "$tmp/time"
    echo "$name $s $e $u $sy $rss" | awk '{printf "%s %.3f %.2f %d\n", $1, $3 - $2, $4 + $5, $6}' >> "$tmp/rows"
}

seal_cmd=("$medseal" -q seal "$series" -k "$tmp/k.bin" --sign "$tmp/sign.pem" -o "$tmp/study.seal")
verify_cmd=("$medseal" -q verify "$series" "$tmp/study.seal" -k "$tmp/k.bin" --trust "$tmp/sign.pub")
seal3_cmd=("$medseal" -q seal "$series" -k "$tmp/k.bin" --sign "$tmp/sign.pem" --view all -o "$tmp/study3.seal")
drr_cmd=("$medseal" -q drr "$series" -o "$tmp/drr.png")
numpy_cmd=("$py" bench/seal_numpy.py "$series" -k "$tmp/k.bin" --quiet)
numpy_hash_cmd=("$py" bench/seal_numpy.py "$series" -k "$tmp/k.bin" --hash --quiet)

"${seal_cmd[@]}" && "${verify_cmd[@]}" # warm-up (page cache) and a check that it verifies
: > "$tmp/rows"
for ((r = 0; r < runs; r++)); do
    timed seal "${seal_cmd[@]}"
    timed verify "${verify_cmd[@]}"
    timed seal-3-views "${seal3_cmd[@]}"
    timed drr "${drr_cmd[@]}"
done
for ((r = 0; r < peer_runs; r++)); do
    timed numpy "${numpy_cmd[@]}"
    timed numpy-hash "${numpy_hash_cmd[@]}"
done

# ---- the tables -----------------------------------------------------------------------
report=$($py - "$tmp/rows" "$nfiles" "$file_bytes" "$pixel_bytes" "$sha_one" "$sha_all" "$(nproc)" <<'EOF'
import sys
rows, n, fb, pb, one, allc, cores = sys.argv[1:8]
n, fb, pb, cores = int(n), int(fb), int(pb), int(cores)
one, allc = float(one) * 1000, float(allc) * 1000   # bytes/s
best = {}
for line in open(rows):
    name, wall, cpu, rss = line.split()
    wall, cpu, rss = float(wall), float(cpu), int(rss)
    b = best.get(name)
    if b is None or wall < b[0]:
        best[name] = (wall, cpu, max(rss, b[2]) if b else rss)
    else:
        best[name] = (b[0], b[1], max(rss, b[2]))
hashed = {"seal": fb + pb, "verify": fb, "seal-3-views": fb + pb, "drr": 0, "numpy": 0,
          "numpy-hash": fb + pb}
label = {"seal": "medseal seal (AP, 16 blocks)", "verify": "medseal verify",
         "seal-3-views": "medseal seal --view all", "drr": "medseal drr (AP, no hashing)",
         "numpy": "numpy/pydicom: paper's DRR + AES-GCM blocks",
         "numpy-hash": "numpy/pydicom + hashlib: the same work as medseal seal"}
npw = best["numpy"][0]
nhw = best["numpy-hash"][0]
print("| case | wall s | CPU s | cores used | input MiB/s | hashed MiB/s per core | of SHA-256 limit | peak RSS MiB | vs numpy (DRR only) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for k in ["seal", "verify", "seal-3-views", "drr", "numpy", "numpy-hash"]:
    wall, cpu, rss = best[k]
    h = hashed[k]
    per_core = h / cpu if h else 0
    print("| %s | %.3f | %.3f | %.2f | %.0f | %s | %s | %.1f | %.1fx |" % (
        label[k], wall, cpu, cpu / wall, fb / wall / 2**20,
        "%.0f" % (per_core / 2**20) if h else "-",
        "%.0f %%" % (100 * per_core / one) if h else "-", rss / 1024, npw / wall))
s, v = best["seal"], best["verify"]
print()
print("openssl speed -evp sha256, 16 KiB blocks: %.0f MiB/s on one core, %.0f MiB/s with -multi %d."
      % (one / 2**20, allc / 2**20, cores))
print()
print("| target | figure | verdict |")
print("|---|---:|---|")
def row(t, fig, ok):
    print("| %s | %s | %s |" % (t, fig, "met" if ok else "MISSED"))
for k in ["seal", "verify"]:
    wall, cpu, rss = best[k]
    share = hashed[k] / cpu / one
    row("%s: hashing >= 80 %% of the SHA-256 limit per core" % k, "%.0f %%" % (100 * share), share >= 0.8)
    row("%s: both cores used" % k, "%.2f cores" % (cpu / wall), cpu / wall >= 1.8)
    row("%s: peak RSS < 64 MiB" % k, "%.1f MiB" % (rss / 1024), rss < 64 * 1024)
    row("%s: >= 10x the numpy version doing the same work (DRR, blocks, hashes)" % k,
        "%.1fx" % (nhw / wall), nhw / wall >= 10)
    row("%s: >= 10x the numpy version of the paper (DRR and blocks only)" % k,
        "%.1fx" % (npw / wall), npw / wall >= 10)
row("medseal drr: >= 10x the numpy DRR", "%.1fx" % (npw / best["drr"][0]), npw / best["drr"][0] >= 10)
print()
print("numpy peer peak RSS: %.0f MiB (%.0f MiB with hashing)." % (best["numpy"][2] / 1024,
                                                               best["numpy-hash"][2] / 1024))
EOF
)

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%d GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
text="## seal — $(date -u '+%Y-%m-%d %H:%M') UTC

- command: \`$invocation\` (commit $(git rev-parse --short HEAD))
- machine: $machine; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)
- input: $nfiles files, $((file_bytes / 1048576)) MiB, Pixel Data $((pixel_bytes / 1048576)) MiB ($series)
- peers: bench/seal_numpy.py (pydicom $($py -c 'import pydicom; print(pydicom.__version__)'), numpy $($py -c 'import numpy; print(numpy.__version__)'), cryptography $($py -c 'import cryptography; print(cryptography.__version__)')), $(openssl version | cut -d' ' -f1-2)
- method: warm page cache; wall = best of $runs runs (numpy: $peer_runs), CPU = user + sys of that run,
  peak RSS = max over runs (/usr/bin/time %M); hashed bytes = files + Pixel Data = $((hashed / 1048576)) MiB for seal, files = $((file_bytes / 1048576)) MiB for verify of the intact series

$report
"
echo "$text"
if [ "$results" != "-" ]; then
    printf '\n%s' "$text" >> "$results"
fi
