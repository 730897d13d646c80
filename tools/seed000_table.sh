#!/bin/sh
# Seed 000's Table 1 redone on data/cranium-ct: seal the series in the three views,
# apply the paper's three attacks (+I: an image of another dataset inserted, -I: an
# image deleted, delta: +-10 HU at random in one image) and the ones the DRR misses,
# verify each copy and print the figures as Markdown (docs/reproduction/seed000.md).
# usage: tools/seed000_table.sh [WORKDIR]   (default: a temporary directory)
set -eu
cd "$(dirname "$0")/.."
M=${MEDSEAL:-build/medseal}
PY=/usr/bin/python3
CT=data/cranium-ct
K=tests/data/seal
DONOR=/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm
W=${1:-$(mktemp -d)}
mkdir -p "$W"

$M -q seal $CT -k $K/k.bin --sign $K/signer.pem --view all -o "$W/cranium.seal"
$M -q tamper $CT "$W/plus-I" --insert $DONOR --at 54
$M -q tamper $CT "$W/minus-I" --delete 54
$M -q tamper $CT "$W/delta" --modify 54 --delta 10 --seed 1
$M -q tamper $CT "$W/duplicate" --duplicate 54
$M -q tamper $CT "$W/header" --header 54 PatientName=EVIL^EVE
$M -q tamper $CT "$W/swap" --swap 40 60
cp -r $CT "$W/flip"
$PY - "$W/flip/CT0054.dcm" <<'EOF'
import sys, pydicom
d = pydicom.dcmread(sys.argv[1])
d.PixelData = d.pixel_array[::-1, :].copy().tobytes()   # slice 54 upside down
d.save_as(sys.argv[1])
EOF
for a in plus-I minus-I delta duplicate header swap flip; do
    $M -q verify "$W/$a" "$W/cranium.seal" -k $K/k.bin --trust $K/signer.pub.pem --json \
        > "$W/$a.json" || true
done
$PY - "$W" <<'EOF'
import json, sys
w = sys.argv[1]
names = {"plus-I": "+I (CT_small.dcm inserted after CT0054)", "minus-I": "-I (CT0054 deleted)",
         "delta": "Δ(x,y) (CT0054 ±10 HU, central half)", "duplicate": "CT0054 duplicated, new UID",
         "header": "CT0054 PatientName edited", "swap": "Pixel Data of CT0040 and CT0060 swapped",
         "flip": "CT0054 flipped upside down"}
print("| attack | view | ~hist(DRR1,DRR2) | RMSE (whole DRR) | blocks changed | worst block: number, ~hist, RMSE | manifest | exit |")
print("|---|---|---:|---:|---:|---|---|---:|")
for a in names:
    r = json.load(open(f"{w}/{a}.json"))
    man = "; ".join(f"{c['change']} {c['path']}" for c in r["changes"])
    for d in r["drr"]:
        b = max(d["blocks"], key=lambda b: (b["rmse"], b["histdiff"]))
        print("| %s | %s | %d | %.3f | %d / %d | %s | %s | %d |" % (
            names[a], d["view"], d["histdiff"], d["rmse"], d["changed_blocks"], len(d["blocks"]),
            "%d, %d, %.2f" % (b["block"], b["histdiff"], b["rmse"]) if d["changed_blocks"] else "—",
            man, r["exit_code"]))
EOF
