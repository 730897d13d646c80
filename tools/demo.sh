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
