#!/bin/sh
# Security measurements of the weak pixel schemes for docs/protect-analysis.md:
# builds bench/protect_analysis.c against the Release library and runs it on
# the bundled CT series (every file, or those given), writing the Markdown
# table to stdout and the picture plain | ecb | chaos | pixel-gcm to
# docs/img/protect-ciphers.png (first file given; default CT0054).
# usage: bench/protect_analysis.sh [FILE.dcm...]
set -eu
cd "$(dirname "$0")/.."
bdir=${MEDSEAL_BUILD:-build}
tools/build.sh "$bdir" >/dev/null
mkdir -p bench/work docs/img
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Iinclude bench/protect_analysis.c \
    "$bdir/libmedseal.a" $(pkg-config --libs openssl zlib libpng libsodium json-c) \
    -lpthread -lm -o bench/work/protect_analysis
if [ $# -eq 0 ]; then
    set -- data/cranium-ct/CT0054.dcm $(ls data/cranium-ct/CT*.dcm | grep -v CT0054)
fi
bench/work/protect_analysis -png docs/img/protect-ciphers.png "$@"
echo
echo "Same files with the air (stored value < 200, about -824 HU) padded to 0:"
echo
bench/work/protect_analysis -png docs/img/protect-ciphers-flat.png -flat 200 "$@"
