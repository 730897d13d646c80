#!/bin/sh
# Benchmark of the `cms` scheme (library API through tests/tools/cms_tool) on one
# large file, against the per-core AES-256-GCM limit (openssl speed) and
# `openssl cms` on the same file, all in the same run. Prints a Markdown table.
# Not a test: it never fails on time.
#
# usage: bench/cms.sh [BUILD_DIR]      env: SIZE_MB (1024), BENCH_DIR (/dev/shm), RUNS (3)
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
TOOL=$(cd "$BUILD" && pwd)/cms_tool
[ -x "$TOOL" ] || { echo "build first: tools/build.sh $BUILD"; exit 1; }
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-3}
BASE=${BENCH_DIR:-/dev/shm}
W=$(mktemp -d "$BASE/cms_bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"

openssl req -x509 -newkey rsa:3072 -nodes -keyout rsa.key -out rsa.crt -subj /CN=bench -days 2 \
    2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout sig.key \
    -out sig.crt -subj /CN=signer -days 2 2>/dev/null
head -c "${SIZE_MB}M" /dev/urandom > in.bin
BYTES=$((SIZE_MB * 1048576))

# best wall time of RUNS runs: prints "seconds peak_rss_kib"
measure() {
    best=""; rss=0
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        /usr/bin/time -f "%e %M" -o t.txt "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; cat t.txt >&2; }
        read -r s m < t.txt
        if [ -z "$best" ] || [ "$(echo "$s < $best" | bc)" -eq 1 ]; then best=$s; fi
        [ "$m" -gt "$rss" ] && rss=$m
        i=$((i + 1))
    done
    echo "$best $rss"
}

limit=$(openssl speed -elapsed -bytes 16384 -evp aes-256-gcm 2>/dev/null | awk '/^AES-256-GCM/ {print $2}')
limit_mbs=$(echo "$limit" | sed 's/k$//' | awk '{printf "%.0f", $1 * 1000 / 1048576}')

row() {
    name=$1; shift
    set -- $(measure "$@")
    mbs=$(awk -v b="$BYTES" -v s="$1" 'BEGIN { printf "%.0f", b / 1048576 / (s > 0 ? s : 1e-9) }')
    pct=$(awk -v m="$mbs" -v l="$limit_mbs" 'BEGIN { printf "%.0f", 100 * m / l }')
    printf '| %s | %s | %s | %s%% | %s |\n' "$name" "$1" "$mbs" "$pct" "$(($2 / 1024))"
}

echo "cms benchmark: ${SIZE_MB} MiB random file in $BASE, best of $RUNS, $(nproc) CPU(s): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load average at start: $(cut -d" " -f1-3 /proc/loadavg) (other jobs share the CPUs: compare figures within one run)"
echo "$(openssl version); AES-256-GCM limit (openssl speed -elapsed -bytes 16384 -evp aes-256-gcm): ${limit_mbs} MiB/s"
echo
echo "| operation | seconds | MiB/s | of GCM limit | peak RSS MiB |"
echo "|---|---|---|---|---|"
row "medseal encrypt, file to file (RSA-3072 OAEP)" "$TOOL" encrypt --to rsa.crt in.bin m.cms
row "medseal encrypt, file to /dev/null" sh -c "'$TOOL' encrypt --to rsa.crt in.bin - >/dev/null"
row "medseal decrypt, file to file" "$TOOL" decrypt --key rsa.key m.cms m.out
cmp -s in.bin m.out || echo "(medseal round trip differs!)"
row "openssl cms -encrypt -stream (BER, RSA-OAEP)" openssl cms -encrypt -binary -stream -outform DER \
    -aes-256-gcm -recip rsa.crt -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 \
    -in in.bin -out o.cms
row "openssl cms -encrypt (DER, RSA-OAEP)" openssl cms -encrypt -binary -outform DER \
    -aes-256-gcm -recip rsa.crt -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 \
    -in in.bin -out o2.cms
row "openssl cms -decrypt of medseal's file" openssl cms -decrypt -inform DER -binary \
    -inkey rsa.key -in m.cms -out o.out
row "medseal decrypt of openssl's -stream file" "$TOOL" decrypt --key rsa.key o.cms o2.out
row "medseal --strict-dicom encrypt (AES-256-CBC + ECDSA P-256)" "$TOOL" encrypt --strict-dicom \
    --sign-key sig.key --sign-cert sig.crt --to rsa.crt in.bin s.cms
row "medseal --strict-dicom decrypt + verify" "$TOOL" decrypt --key rsa.key --trust sig.crt s.cms s.out
cmp -s in.bin s.out || echo "(strict round trip differs!)"
