#!/bin/sh
# medseal split / join: bit-exact on the bundled series and on pydicom files of
# every supported layout; an edited image or metadata is refused (exit 1) and
# nothing is written; unsupported layouts exit 3.
set -eu
. "$(dirname "$0")/lib.sh"
T=$PYDICOM_FILES
workdir tmp
fail() { echo "FAIL: $*"; exit 1; } # the first failure ends the test

n=0
for f in "$SRC"/data/cranium-ct/CT00[0-4]*.dcm $T/MR_small.dcm $T/MR_small_bigendian.dcm \
         $T/MR_small_implicit.dcm $T/SC_rgb_small_odd.dcm $T/CT_small.dcm $T/ExplVR_BigEnd.dcm; do
    b=$(basename "$f" .dcm)
    $M split "$f" -o "$tmp/$b.png" "$tmp/$b.json"
    $M join "$tmp/$b.png" "$tmp/$b.json" -o "$tmp/$b.dcm"
    cmp -s "$f" "$tmp/$b.dcm" || fail "join differs for $f"
    n=$((n + 1))
done
f="$SRC/data/cranium-ct/CT0010.dcm"
$M split --rgb24 "$f" -o "$tmp/rgb.png" "$tmp/rgb.json"
$M join "$tmp/rgb.png" "$tmp/rgb.json" -o "$tmp/rgb.dcm"
cmp -s "$f" "$tmp/rgb.dcm" || fail "rgb24 join differs"
/usr/bin/python3 -c "
from PIL import Image; im = Image.open('$tmp/rgb.png'); assert im.mode == 'RGB', im.mode" 2>/dev/null ||
    /usr/bin/python3 -c "import sys; d=open('$tmp/rgb.png','rb').read(); sys.exit(0 if d[25]==2 and d[24]==8 else 1)" ||
    fail "rgb24 PNG is not 24-bit RGB"
echo "ok: $n files + rgb24 split and joined bit-exact"

# an edited image: join refuses, writes nothing
/usr/bin/python3 - "$tmp/CT0010.png" <<'PY'
import sys
import numpy as np
from PIL import Image
p = sys.argv[1]
a = np.array(Image.open(p)).astype(np.uint16)
a[10, 100] ^= 1  # one least significant bit of one pixel
Image.fromarray(a).save(p)
PY
set +e
$M join "$tmp/CT0010.png" "$tmp/CT0010.json" -o "$tmp/bad.dcm" 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "edited image: exit $rc, expected 1 ($(cat "$tmp/err"))"
[ ! -e "$tmp/bad.dcm" ] || fail "edited image: output written"
echo "ok: edited image refused: $(cat "$tmp/err")"

# edited metadata (patient name inside head) refused
/usr/bin/python3 - "$tmp/CT0020.json" "$tmp/edit.json" <<'PY'
import base64, json, sys
m = json.load(open(sys.argv[1]))
head = bytearray(base64.b64decode(m["head"]))
head[600] ^= 0x20  # one byte of the header (an attribute value)
m["head"] = base64.b64encode(bytes(head)).decode()
json.dump(m, open(sys.argv[2], "w"))
PY
set +e
$M join "$tmp/CT0020.png" "$tmp/edit.json" -o "$tmp/bad2.dcm" 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "edited metadata: exit $rc, expected 1"
[ ! -e "$tmp/bad2.dcm" ] || fail "edited metadata: output written"
echo "ok: edited metadata refused"

# malformed metadata, mismatched PNG, unsupported layouts
echo '{"format":"nope"}' > "$tmp/no.json"
set +e
$M join "$tmp/CT0020.png" "$tmp/no.json" -o "$tmp/x.dcm" 2>/dev/null; rc1=$?
$M join "$tmp/MR_small.png" "$tmp/CT0020.json" -o "$tmp/x.dcm" 2>/dev/null; rc2=$?
$M split $T/rtdose.dcm -o "$tmp/r.png" "$tmp/r.json" 2>/dev/null; rc3=$?
$M split $T/JPEG2000.dcm -o "$tmp/j.png" "$tmp/j.json" 2>/dev/null; rc4=$?
$M split $T/SC_ybr_full_422_uncompressed.dcm -o "$tmp/y.png" "$tmp/y.json" 2>/dev/null; rc5=$?
set -e
[ $rc1 -eq 3 ] && [ $rc2 -eq 3 ] && [ $rc3 -eq 3 ] && [ $rc4 -eq 3 ] && [ $rc5 -eq 3 ] ||
    fail "exit codes $rc1 $rc2 $rc3 $rc4 $rc5, expected 3 3 3 3 3"
[ ! -e "$tmp/x.dcm" ] && [ ! -e "$tmp/r.png" ] && [ ! -e "$tmp/j.json" ] || fail "output left behind"
echo "split/join: all checks passed"
