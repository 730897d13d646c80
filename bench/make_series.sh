#!/bin/sh
# Build the big CT test series used by the benchmarks, reproducibly, from the
# real head CT in Debian's invesalius-examples (Cranium.inv3 -> matrix.dat).
#
# usage: bench/make_series.sh [SIZE [SLICES [OUTDIR]]]
#   defaults: 512 1000 bench/work/ct<SIZE>x<SLICES>
# Prints OUTDIR on stdout. Does nothing when OUTDIR already holds SLICES files
# (delete it to rebuild). bench/work/ is git-ignored.
# Needs: apt-get (download only, no root needed), dpkg-deb, tar, Debian's
# /usr/bin/python3 with python3-numpy and python3-pydicom.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
size=${1:-512}
slices=${2:-1000}
work=$root/bench/work
out=${3:-$work/ct${size}x${slices}}
py=/usr/bin/python3

count() { find "$1" -maxdepth 1 -name 'CT*.dcm' 2>/dev/null | wc -l; }

if [ -d "$out" ] && [ "$(count "$out")" -eq "$slices" ] && [ -f "$out/.complete" ]; then
    echo "$out"
    exit 0
fi

mkdir -p "$work"
matrix=$work/matrix.dat
if [ ! -s "$matrix" ]; then
    deb=$(find "$work" -maxdepth 1 -name 'invesalius-examples_*.deb' | head -n 1)
    if [ -z "$deb" ]; then
        (cd "$work" && apt-get download invesalius-examples >&2)
        deb=$(find "$work" -maxdepth 1 -name 'invesalius-examples_*.deb' | head -n 1)
    fi
    [ -n "$deb" ] || { echo "make_series: cannot download invesalius-examples" >&2; exit 5; }
    rm -rf "$work/deb"
    dpkg-deb -x "$deb" "$work/deb"
    inv=$(find "$work/deb" -name 'Cranium.inv3' | head -n 1)
    [ -n "$inv" ] || { echo "make_series: no Cranium.inv3 in $deb" >&2; exit 5; }
    member=$(tar -tzf "$inv" | grep '\(^\|/\)matrix\.dat$' | head -n 1)
    [ -n "$member" ] || { echo "make_series: no matrix.dat in $inv" >&2; exit 5; }
    tar -xzf "$inv" -O "$member" > "$matrix.tmp"
    mv "$matrix.tmp" "$matrix"
    rm -rf "$work/deb"
fi

rm -rf "$out"
echo "make_series: writing $slices slices of ${size}x${size} to $out" >&2
$py tools/make_ct_series.py "$matrix" "$out" --size "$size" --slices "$slices" >&2
[ "$(count "$out")" -eq "$slices" ] || { echo "make_series: wrong file count in $out" >&2; exit 5; }
: > "$out/.complete"
echo "$out"
