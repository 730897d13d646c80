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
echo "== medseal seal, tamper, verify (seed 000 made cryptographic: docs/seal.md, docs/reproduction/seed000.md)"
openssl rand -out "$T/k.bin" 32
openssl genpkey -algorithm ed25519 -out "$T/sealer.pem" 2>/dev/null
openssl pkey -in "$T/sealer.pem" -pubout -out "$T/sealer.pub.pem"
$M seal "$S" -k "$T/k.bin" --sign "$T/sealer.pem" -o "$T/cranium.seal"
$M verify "$S" "$T/cranium.seal" -k "$T/k.bin" --trust "$T/sealer.pub.pem" > "$T/verify.txt" &&
    tail -n 1 "$T/verify.txt"
$M tamper "$S" "$T/tampered" --delete 54 --modify 60
rc=0
$M verify "$T/tampered" "$T/cranium.seal" -k "$T/k.bin" --trust "$T/sealer.pub.pem" \
    > "$T/verify.txt" || rc=$?
cat "$T/verify.txt"
echo "(exit $rc: differences found and named)"
