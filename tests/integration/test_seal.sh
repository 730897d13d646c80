#!/bin/sh
# medseal drr / seal / verify / tamper on the bundled CT series (data/cranium-ct):
# the committed seal still verifies; every malformed seal of tests/data/malformed is
# rejected with its exit code and message; a fresh seal (Ed25519 and P-256) verifies;
# each tamper kind is detected and localised (instance named, DRR blocks changed or
# not, as the kind implies); replace-all fails on the signer; a wrong key fails
# cleanly; the original study is never changed; the report is written.
# Environment: MEDSEAL (the program), MEDSEAL_SRC.
set -u
. "$(dirname "$0")/lib.sh"
CT=$SRC/data/cranium-ct
KEYS=$SRC/tests/data/seal
DONOR=$PYDICOM_FILES/CT_small.dcm
workdir T

expect_rc() { # want got what
    if [ "$1" -eq "$2" ]; then ok; else fail "$3: exit $2, expected $1"; fi
}
# json_check FILE PYTHON-EXPRESSION (r is the parsed JSON) WHAT
json_check() {
    if $PY -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; then
        ok
    else
        fail "$3: $2"; cat "$1" | head -40 >&2
    fi
}

before=$(cat "$CT"/* | sha256sum)

# ---- drr -----------------------------------------------------------------------------
for v in ap lr si; do
    $M -q drr "$CT" --view $v -o "$T/drr-$v.png"; expect_rc 0 $? "drr $v"
    $M -q drr "$CT" --view $v --raw16 -o "$T/raw-$v.png"; expect_rc 0 $? "drr $v raw16"
done
$PY - "$T" <<'EOF' && ok || fail "drr PNG sizes and depths"
import sys
from PIL import Image
t = sys.argv[1]
want = {"ap": (256, 168), "lr": (256, 168), "si": (256, 256)}
for v, size in want.items():
    a, b = Image.open(f"{t}/drr-{v}.png"), Image.open(f"{t}/raw-{v}.png")
    assert a.size == size and a.mode == "L", (v, a.size, a.mode)
    assert b.size == size and b.mode in ("I;16", "I;16B", "I"), (v, b.size, b.mode)
EOF
$M drr "$CT" --view xy -o "$T/x.png" 2>/dev/null; expect_rc 2 $? "drr bad view"
$M drr "$CT" 2>/dev/null; expect_rc 2 $? "drr without -o"

# ---- the committed seal, and the malformed ones ------------------------------------
$M -q verify "$CT" "$KEYS/cranium-ct.seal" -k "$KEYS/k.bin" --trust "$KEYS/signer.pub.pem"
expect_rc 0 $? "committed seal of data/cranium-ct"
while IFS="	" read -r file code why; do
    case $file in '#'*|'') continue ;; esac
    out=$($M -q verify "$CT" "$SRC/tests/data/malformed/$file" -k "$KEYS/k.bin" \
          --trust "$KEYS/signer.pub.pem" 2>&1)
    expect_rc "$code" $? "$file"
    case $out in *"$why"*) ok ;; *) fail "$file: message '$out' lacks '$why'" ;; esac
done < "$SRC/tests/data/malformed/seal_expected.txt"

# ---- a fresh seal, both signature algorithms ---------------------------------------------
openssl rand -out "$T/k.bin" 32
openssl rand -out "$T/k2.bin" 32
openssl genpkey -algorithm ed25519 -out "$T/ed.pem" 2>/dev/null
openssl pkey -in "$T/ed.pem" -pubout -out "$T/ed.pub"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ec.pem" 2>/dev/null
openssl pkey -in "$T/ec.pem" -pubout -out "$T/ec.pub"
$M -q seal "$CT" -k "$T/k.bin" --sign "$T/ed.pem" -o "$T/study.seal"; expect_rc 0 $? "seal ed25519"
$M -q seal "$CT" -k "$T/k.bin" --sign "$T/ec.pem" --grid 8 --view lr,si -o "$T/study-ec.seal"
expect_rc 0 $? "seal p-256 grid 8"
$M -q verify "$CT" "$T/study.seal" -k "$T/k.bin" --trust "$T/ed.pub" --json --report "$T/report" > "$T/intact.json"
expect_rc 0 $? "verify intact"
json_check "$T/intact.json" "r['result'] == 'intact' and r['changes'] == [] and r['drr'][0]['changed_blocks'] == 0 and len(r['drr'][0]['blocks']) == 16 and [b['block'] for b in r['drr'][0]['blocks']] == [1,2,5,9,6,3,4,7,10,13,14,11,8,12,15,16]" "intact JSON"
for f in index.html drr1-sealed.png drr1-current.png drr1-diff.png; do
    [ -s "$T/report/$f" ] && ok || fail "report lacks $f"
done
$M -q verify "$CT" "$T/study-ec.seal" -k "$T/k.bin" --trust "$T/ec.pub" --json > "$T/ec.json"
expect_rc 0 $? "verify p-256"
json_check "$T/ec.json" "r['algorithm'] == 'ecdsa-p256-sha256' and [(d['view'], d['grid'], len(d['blocks'])) for d in r['drr']] == [('lr', 8, 64), ('si', 8, 64)]" "p-256 grid 8 JSON"
$M -q verify "$CT" "$T/study.seal" -k "$T/k2.bin" --trust "$T/ed.pub" --json > "$T/wrongkey.json"
expect_rc 4 $? "wrong key"
json_check "$T/wrongkey.json" "not r['key_ok'] and r['result'] == 'wrong key' and r['drr'] == []" "wrong key JSON"
$M -q verify "$CT" "$T/study.seal" -k "$T/k.bin" --trust "$T/ec.pub"; expect_rc 4 $? "untrusted signer"
$M -q verify "$CT" "$T/study.seal" -k "$T/k.bin"; expect_rc 4 $? "no --trust"
$M verify "$CT" -k "$T/k.bin" 2>/dev/null; expect_rc 2 $? "verify without a seal"
$M seal "$CT" -k "$T/k.bin" -o "$T/x.seal" 2>/dev/null; expect_rc 2 $? "seal without --sign"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.pem" 2>/dev/null
$M seal "$CT" -k "$T/k.bin" --sign "$T/rsa.pem" -o "$T/x.seal" 2>/dev/null; expect_rc 2 $? "RSA signer refused"
[ ! -e "$T/x.seal" ] && ok || fail "a refused seal left a file"

# ---- tamper kinds: detected and localised ------------------------------------------------
attack() { # name expected-exit tamper-args...
    name=$1; want=$2; shift 2
    $M -q tamper "$CT" "$T/$name" "$@"; expect_rc 0 $? "tamper $name"
    $M -q verify "$T/$name" "$T/study.seal" -k "$T/k.bin" --trust "$T/ed.pub" --json > "$T/$name.json"
    expect_rc "$want" $? "verify $name"
}
CH="[(c['change'], c['path']) for c in r['changes']]"
BL="r['drr'][0]['changed_blocks']"
attack insert 1 --insert "$DONOR" --at 54
json_check "$T/insert.json" "$CH == [('inserted', 'CT0054_ins.dcm')] and $BL > 0" "insert"
attack duplicate 1 --duplicate 54
json_check "$T/duplicate.json" "$CH == [('inserted', 'CT0054_dup.dcm')] and 'copy of the Pixel Data of CT0054.dcm' in r['changes'][0]['detail']" "duplicate"
attack delete 1 --delete 54
json_check "$T/delete.json" "$CH == [('deleted', 'CT0054.dcm')] and $BL > 0" "delete"
attack modify 1 --modify 54 --delta 10
json_check "$T/modify.json" "$CH == [('modified-pixels', 'CT0054.dcm')] and 0 < $BL < 16" "modify"
attack header 1 --header 54 PatientName=EVIL^EVE
json_check "$T/header.json" "$CH == [('modified-header', 'CT0054.dcm')] and $BL == 0" "header"
attack position 1 --header 54 'ImagePositionPatient=-122.5\-122.5\80.25'
json_check "$T/position.json" "$CH == [('moved', 'CT0054.dcm')] and $BL > 0" "position"
attack swap 1 --swap 40 60
json_check "$T/swap.json" "$CH == [('moved', 'CT0040.dcm'), ('moved', 'CT0060.dcm')] and 'CT0060.dcm' in r['changes'][0]['detail'] and $BL > 0" "swap"
$M -q tamper "$CT" "$T/replace" --replace-all -k "$T/k.bin"; expect_rc 0 $? "tamper replace-all"
$M -q verify "$T/replace" "$T/replace/study.seal" -k "$T/k.bin" --trust "$T/ed.pub" --json > "$T/replace.json"
expect_rc 4 $? "replace-all with its own seal: untrusted signer"
json_check "$T/replace.json" "not r['signer_trusted'] and r['key_ok'] and r['changes'] == [] and r['drr'][0]['changed_blocks'] == 0" "replace-all: data match their seal, only the signer fails"
$M -q verify "$T/replace" "$T/study.seal" -k "$T/k.bin" --trust "$T/ed.pub" > /dev/null
expect_rc 1 $? "replace-all against the original seal"

# tamper refuses to touch its input
$M tamper "$CT" "$CT" --delete 1 2>/dev/null; expect_rc 2 $? "tamper into its input"
$M tamper "$CT" "$CT/sub" --delete 1 2>/dev/null; expect_rc 2 $? "tamper inside its input"
$M tamper "$CT" "$T/delete" --delete 1 2>/dev/null; expect_rc 2 $? "tamper into a non-empty dir"
$M tamper "$CT" "$T/none" --delete 999 2>/dev/null; expect_rc 2 $? "tamper N out of range"
# a failed tamper leaves nothing behind: a new OUTDIR is removed, an empty one emptied
$M tamper "$CT" "$T/failhdr" --header 5 Foo=1 2>/dev/null; expect_rc 2 $? "tamper bad keyword"
[ ! -e "$T/failhdr" ] && ok || fail "a failed tamper left $T/failhdr"
$M tamper "$CT" "$T/failins" --insert /etc/hostname 2>/dev/null; expect_rc 3 $? "tamper insert non-DICOM"
[ ! -e "$T/failins" ] && ok || fail "a failed tamper left $T/failins"
mkdir "$T/empty"
$M tamper "$CT" "$T/empty" --insert /etc/hostname 2>/dev/null; expect_rc 3 $? "tamper into empty dir"
[ -d "$T/empty" ] && [ -z "$(ls -A "$T/empty")" ] && ok || fail "a failed tamper left files in an empty OUTDIR"
# an OUTDIR holding only hidden files, a link or an empty directory is not empty:
# refused, and nothing of it removed
mkdir -p "$T/hidden/.git/objects" "$T/hidden/sub"; echo secret > "$T/hidden/.env"
ln -s "$T/empty" "$T/hidden/link"
$M tamper "$CT" "$T/hidden" --modify 1 2>/dev/null; expect_rc 2 $? "tamper into a dir with hidden files"
[ -f "$T/hidden/.env" ] && [ -d "$T/hidden/.git/objects" ] && [ -d "$T/hidden/sub" ] && [ -L "$T/hidden/link" ] &&
    ok || fail "tamper removed what was in OUTDIR"
# the input inside OUTDIR: OUTDIR is not empty, refused, the input intact
mkdir -p "$T/outer"; cp -r "$CT" "$T/outer/.study"
$M tamper "$T/outer/.study" "$T/outer" --insert /etc/hostname 2>/dev/null; expect_rc 2 $? "tamper with the input inside OUTDIR"
[ "$(ls "$T/outer/.study" | wc -l)" -eq 108 ] && ok || fail "tamper removed its input"
# OUTDIR a link to an empty directory: emptied again on failure
mkdir "$T/realout"; ln -s "$T/realout" "$T/linkout"
$M tamper "$CT" "$T/linkout" --insert /etc/hostname 2>/dev/null; expect_rc 3 $? "tamper into a linked dir"
[ -z "$(ls -A "$T/realout")" ] && [ -L "$T/linkout" ] && ok || fail "a failed tamper left files behind a linked OUTDIR"
# untrusted signer and wrong key: both said, in text and in JSON
$M -q tamper "$CT" "$T/replace2" --replace-all; expect_rc 0 $? "tamper replace-all, own key"
out=$($M verify "$T/replace2" "$T/replace2/study.seal" -k "$T/k.bin" --trust "$T/ed.pub")
expect_rc 4 $? "replace-all own key"
case $out in *"result: UNTRUSTED SIGNER, WRONG KEY"*) ok ;; *) fail "text verdict: $(echo "$out" | tail -1)" ;; esac
$M -q verify "$T/replace2" "$T/replace2/study.seal" -k "$T/k.bin" --trust "$T/ed.pub" --json > "$T/replace2.json"
json_check "$T/replace2.json" "r['result'] == 'untrusted signer, wrong key'" "JSON verdict"

# a text key file of keygen --symmetric seals and verifies
$M -q keygen --symmetric -o "$T/sym.key"; expect_rc 0 $? "keygen --symmetric"
$M -q seal "$CT" -k "$T/sym.key" --sign "$T/ed.pem" -o "$T/sym.seal"; expect_rc 0 $? "seal with a text key"
$M -q verify "$CT" "$T/sym.seal" -k "$T/sym.key" --trust "$T/ed.pub"; expect_rc 0 $? "verify with a text key"
$M -q verify "$CT" "$T/sym.seal" -k "$T/k.bin" --trust "$T/ed.pub"; expect_rc 4 $? "text-key seal, other key"

# a study of several series and non-image objects (RT Plan, RT Structure Set, SR, RT
# Dose: content hashes, no volume), and a volume beyond the DRR's +-32767 (no
# fingerprint, sealed by its hashes, a warning)
mkdir -p "$T/multi/ct" "$T/multi/rt" "$T/multi/big"
for i in 01 02 03 04 05 06 07 08 09 10 11 12; do cp "$CT/CT00$i.dcm" "$T/multi/ct/"; done
for f in rtplan.dcm rtstruct.dcm test-SR.dcm rtdose.dcm; do cp "$PYDICOM_FILES/$f" "$T/multi/rt/"; done
$PY - "$CT" "$T/multi/big" <<'EOF2' && ok || fail "making the 16-bit unsigned series"
import sys, glob, os, pydicom
src, dst = sys.argv[1:3]
for i, f in enumerate(sorted(glob.glob(src + "/*.dcm"))[:12]):
    ds = pydicom.dcmread(f)
    ds.SeriesInstanceUID += ".7"
    ds.SOPInstanceUID += ".7"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if i == 5:
        a = ds.pixel_array.astype("uint16")
        a[10, 10] = 40000
        ds.PixelRepresentation, ds.BitsStored, ds.HighBit, ds.RescaleIntercept = 0, 16, 15, 0
        ds.PixelData = a.tobytes()
    ds.save_as(os.path.join(dst, os.path.basename(f)))
EOF2
$M seal "$T/multi" -k "$T/k.bin" --sign "$T/ed.pem" -o "$T/multi.seal" > "$T/multi.out" 2> "$T/multi.err"
expect_rc 0 $? "seal a multi-series study with RT objects"
grep -q "1 volume without a DRR fingerprint" "$T/multi.err" && ok || fail "no warning for the volume beyond +-32767"
grep -q "2 volumes" "$T/multi.out" && ok || fail "volumes: $(cat "$T/multi.out")"
$M -q verify "$T/multi" "$T/multi.seal" -k "$T/k.bin" --trust "$T/ed.pub" --json > "$T/multi.json"
expect_rc 0 $? "verify the multi-series study"
json_check "$T/multi.json" "r['files_sealed'] == 28 and len(r['drr']) == 1" "multi-series: 28 files, one fingerprint"
$PY - "$T/multi/rt/rtdose.dcm" <<'EOF2' && ok || fail "changing the RT Dose"
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1]); a = ds.pixel_array.copy(); a.flat[0] += 1
ds.PixelData = a.tobytes(); ds.save_as(sys.argv[1])
EOF2
$PY - "$T/multi/big/CT0003.dcm" <<'EOF2' && ok || fail "changing the unprojected volume"
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1]); ds.PatientName = "EVIL^EVE"; ds.save_as(sys.argv[1])
EOF2
$M -q verify "$T/multi" "$T/multi.seal" -k "$T/k.bin" --trust "$T/ed.pub" --json > "$T/multi2.json"
expect_rc 1 $? "verify the changed multi-series study"
json_check "$T/multi2.json" "sorted($CH) == [('modified-header', 'big/CT0003.dcm'), ('modified-pixels', 'rt/rtdose.dcm')]" "RT Dose and unprojected volume changes named"

# drr: the window needs both values
$M drr "$CT" --window 40 -o "$T/w.png" 2>/dev/null; expect_rc 2 $? "drr --window without width"
$M drr "$CT" --window 40,0 -o "$T/w.png" 2>/dev/null; expect_rc 2 $? "drr --window width 0"
$M -q drr "$CT" --window 40,400 -o "$T/w.png"; expect_rc 0 $? "drr --window C,W"
# the default window is C=-200 W=1500: the 8-bit PNG equals the 16-bit one windowed so
$M -q drr "$CT" -o "$T/def.png"; $M -q drr "$CT" --raw16 -o "$T/def16.png"
$PY - "$T/def.png" "$T/def16.png" <<'EOF2' && ok || fail "default window is not C=-200 W=1500"
import sys
import numpy as np
from PIL import Image
a = np.asarray(Image.open(sys.argv[1])).astype(float)
hu = np.asarray(Image.open(sys.argv[2])).astype(float) - 1024
lo, hi = -200 - 1500 / 2, -200 + 1500 / 2
want = np.clip((hu - lo) / (hi - lo) * 255, 0, 255)
assert np.abs(a - want).max() <= 1.0, np.abs(a - want).max()
EOF2

[ "$(cat "$CT"/* | sha256sum)" = "$before" ] && ok || fail "data/cranium-ct changed"
[ ! -e "$CT/sub" ] && ok || fail "tamper created a directory in its input"

finish seal
