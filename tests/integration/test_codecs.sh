#!/bin/sh
# Lossless codecs: bit-exact round trips on the bundled CT series, and
# interop both ways with DCMTK (dcmcrle/dcmdrle, dcmcjpls/dcmdjpls) and
# pydicom (decodes RLE, reads our decoded output).
set -eu
. "$(dirname "$0")/lib.sh"
T=$PYDICOM_FILES
workdir tmp
fail() { echo "FAIL: $*"; exit 1; } # the first failure ends the test

for ts in rle jpeg-ls deflated implicit big; do
    $M -q transcode --to $ts "$SRC/data/cranium-ct" -o "$tmp/$ts"
    $M -q transcode --to explicit "$tmp/$ts" -o "$tmp/back-$ts"
    for f in "$SRC"/data/cranium-ct/*.dcm; do
        cmp -s "$f" "$tmp/back-$ts/$(basename "$f")" || fail "$ts round trip differs for $f"
    done
    echo "ok: $ts round trip bit-exact on $(ls "$SRC/data/cranium-ct" | wc -l) files"
done

# DCMTK decodes what medseal encodes, and the reverse
f="$SRC/data/cranium-ct/CT0050.dcm"
dcmdrle "$tmp/rle/CT0050.dcm" "$tmp/d-rle.dcm"
dcmdjpls "$tmp/jpeg-ls/CT0050.dcm" "$tmp/d-jls.dcm"
dcmcrle "$f" "$tmp/c-rle.dcm"
dcmcjpls "$f" "$tmp/c-jls.dcm"
$M -q transcode --to explicit "$tmp/c-rle.dcm" -o "$tmp/e-rle.dcm"
$M -q transcode --to explicit "$tmp/c-jls.dcm" -o "$tmp/e-jls.dcm"
/usr/bin/python3 - "$f" "$tmp" "$T" <<'PY'
import sys, numpy as np, pydicom
ref, tmp, T = sys.argv[1], sys.argv[2], sys.argv[3]
a = pydicom.dcmread(ref).pixel_array
for name in ["d-rle.dcm", "d-jls.dcm", "e-rle.dcm", "e-jls.dcm", "rle/CT0050.dcm"]:
    b = pydicom.dcmread(tmp + "/" + name).pixel_array
    assert np.array_equal(a, b), name
    print("ok: pixels equal in", name)
PY
# pydicom's own RLE and JPEG-LS files decode to the same pixels as their references
for pair in MR_small_RLE:MR_small SC_rgb_rle:SC_rgb SC_rgb_rle_16bit_2frame:SC_rgb_16bit_2frame \
            SC_rgb_rle_32bit_2frame:SC_rgb_32bit_2frame rtdose_rle:rtdose \
            MR_small_jpeg_ls_lossless:MR_small; do
    enc=${pair%%:*}; ref=${pair#*:}
    [ -f "$T/$enc.dcm" ] || continue
    $M -q transcode --to explicit "$T/$enc.dcm" -o "$tmp/$enc.dcm"
    /usr/bin/python3 - "$tmp/$enc.dcm" "$T/$ref.dcm" "$T/$enc.dcm" <<'PY' || fail "$enc decodes differently"
import sys, numpy as np, pydicom
import os
a = pydicom.dcmread(sys.argv[1]).pixel_array
ref = sys.argv[2]
if not os.path.exists(ref):  # no uncompressed reference: pydicom's own decoding
    ref = sys.argv[3]
b = pydicom.dcmread(ref).pixel_array
assert np.array_equal(a, b)
print("ok:", os.path.basename(sys.argv[1]), "equals", os.path.basename(ref))
PY
done

# a corrupt compressed file is refused cleanly, nothing written
head -c 2000 "$tmp/rle/CT0050.dcm" > "$tmp/trunc.dcm"
set +e
$M -q transcode --to explicit "$tmp/trunc.dcm" -o "$tmp/out.dcm" 2>"$tmp/err"
rc=$?
set -e
[ $rc -eq 3 ] || fail "truncated RLE file: exit $rc, expected 3"
[ ! -e "$tmp/out.dcm" ] || fail "output left behind"
echo "ok: truncated RLE input refused ($(cat "$tmp/err"))"
echo "codecs: all checks passed"
