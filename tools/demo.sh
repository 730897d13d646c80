#!/bin/sh
# The main job end to end on the bundled real head CT series.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh build
M=build/medseal
S=data/cranium-ct
echo "== medseal dump (first file of the bundled CT series)"
$M dump --max-chars 48 "$S/CT0001.dcm" | head -60
echo "== all $(ls $S | wc -l) files parsed"
$M dump --no-pixels "$S"/*.dcm > /dev/null && echo ok
echo "== medseal scan"
$M scan "$S"
echo "== medseal validate: the series, then a copy with slice 50 removed and slice 60 duplicated"
$M validate "$S" && echo "valid"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cp "$S"/*.dcm "$T"/ && rm "$T/CT0050.dcm" && cp "$T/CT0060.dcm" "$T/copy-of-60.dcm"
$M validate "$T" || echo "(exit $?: errors found)"
echo "== medseal volume --isotropic -> $T/cranium.nii"
$M volume --isotropic "$S" -o "$T/cranium.nii"
