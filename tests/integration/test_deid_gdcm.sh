#!/bin/sh
# Interop of the `deid` scheme (PS3.15 E.1) with GDCM, both ways, and the
# checks around it:
#  1. medseal de-identifies the bundled CT series and pydicom's test files;
#     medseal re-identifies its own output bit-exact;
#  2. `gdcmanon -d` re-identifies medseal's output (AuthEnvelopedData with
#     RSA-OAEP, EnvelopedData with RSA PKCS#1 v1.5, EC P-256): every original
#     attribute is back (pydicom compares them);
#  3. medseal re-identifies `gdcmanon -e` output (EnvelopedData v0, RSA
#     PKCS#1 v1.5, AES-256-CBC) and `gdcmanon -e -p` output (PBKDF2 password);
#  4. `openssl cms -decrypt` opens the Encrypted Content: a dataset whose
#     first element is the Modified Attributes Sequence (0400,0550);
#  5. dciodvfy finds no new error in de-identified files;
#  6. no identifying value of an original is left anywhere in the bytes of
#     its de-identified file outside the Encrypted Content;
#  7. wrong key, wrong passphrase: exit 4 and no output file.
# Env: MEDSEAL (the program), MEDSEAL_SRC (the source tree).
set -eu
. "$(dirname "$0")/lib.sh"
MEDSEAL=$M
for tool in gdcmanon dciodvfy openssl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
$PY -c 'import pydicom' 2>/dev/null || { echo "SKIP: pydicom not installed"; exit 77; }

workdir W
fail=0
note() { printf '%s\n' "$*"; }
bad() { printf 'FAIL: %s\n' "$*"; fail=1; }

# ---- keys --------------------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/key.pem" -out "$W/cert.pem" \
    -subj /CN=deid-test -days 30 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/key2.pem" -out "$W/cert2.pem" \
    -subj /CN=deid-other -days 30 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/eckey.pem" \
    -out "$W/eccert.pem" -subj /CN=deid-ec -days 30 2>/dev/null
printf 'correct horse battery staple\n' > "$W/pass.txt"
printf 'wrong horse\n' > "$W/wrong.txt"

# ---- inputs: the CT series and the well-formed pydicom files with a SOP Instance UID ------
mkdir -p "$W/in/ct" "$W/in/py" "$W/in/py_marked"
cp "$SRC"/data/cranium-ct/CT00[0-1]?.dcm "$W/in/ct/"
if [ -d "$PYDICOM_FILES" ]; then
    $PY - "$PYDICOM_FILES" "$W/in/py" <<'EOF'
import os, shutil, sys, warnings
import pydicom
warnings.simplefilter('ignore')
src, dst = sys.argv[1], sys.argv[2]
# truncated, headerless or not readable by GDCM/medseal: not interop material
skip = {'MR_truncated.dcm', 'rtplan_truncated.dcm', 'no_meta.dcm', 'SC_rgb_jpeg.dcm',
        'image_dfl.dcm'}
for name in sorted(os.listdir(src)):
    if not name.endswith('.dcm') or name in skip:
        continue
    try:
        ds = pydicom.dcmread(os.path.join(src, name))
        ok = 'SOPInstanceUID' in ds and ds.SOPInstanceUID and 'PixelData' in ds
    except Exception:
        ok = False
    if ok:
        # gdcmanon refuses files that already say (0012,0062): medseal round trip only
        target = dst + '_marked' if 'PatientIdentityRemoved' in ds else dst
        os.makedirs(target, exist_ok=True)
        shutil.copy(os.path.join(src, name), target)
EOF
fi
note "inputs: $(ls "$W/in/ct" | wc -l) CT slices, $(ls "$W/in/py" | wc -l) pydicom files" \
    "(+ $(ls "$W/in/py_marked" | wc -l) already marked de-identified)"

# ---- the comparison and byte checks (pydicom) ----------------------------------------------
cat > "$W/check.py" <<'EOF'
"""check.py same ORIG_DIR RE_DIR [--allow TAG...]: every top-level attribute of each
original (but group lengths and Pixel Data) is in the re-identified file with the same
value; the re-identified file has no other attribute than those allowed.
check.py clean ORIG_DIR DEID_DIR TABLE_JSON: no identifying value of an original (its
elements Table E.1-1 lists with an action other than K, at any depth, and private
elements) occurs in the de-identified bytes outside the Encrypted Content (0400,0520),
unless it also occurs in a kept element of the original (a coincidence).
check.py content DER_FILE: the decrypted Encrypted Content starts with (0400,0550)."""
import json, os, sys, warnings
import pydicom
from pydicom.tag import Tag
warnings.simplefilter('ignore')


def same(orig_dir, re_dir, allow):
    bad = 0
    for name in sorted(os.listdir(re_dir)):
        o = pydicom.dcmread(os.path.join(orig_dir, name), force=True)
        r = pydicom.dcmread(os.path.join(re_dir, name), force=True)
        problems = []
        for el in o:
            if el.tag.element == 0 or el.tag == Tag(0x7FE0, 0x0010):
                continue
            if el.tag not in r:
                problems.append('missing %s' % el.tag)
            elif r[el.tag] != el:
                problems.append('differs %s' % el.tag)
        for el in r:
            if el.tag not in o and el.tag not in allow and el.tag.element != 0:
                problems.append('extra %s' % el.tag)
        if problems:
            bad += 1
            print('  %s: %s' % (name, ', '.join(problems[:5])))
    print('  %d files compared, %d with differences' % (len(os.listdir(re_dir)), bad))
    return bad == 0


def values(el):
    v = el.value
    if isinstance(v, bytes):
        return [v] if el.VR in ('OB', 'UN') and len(v) < 256 else []
    if isinstance(v, (list, pydicom.multival.MultiValue)):
        out = []
        for x in v:
            out.extend(values_of(x))
        return out
    return values_of(v)


def values_of(x):
    s = str(x).strip()
    return [s.encode('latin-1', 'replace')] if s else []


def collect(ds, table, ident, kept, inherited=False):
    for el in ds:
        listed = table.get((el.tag.group << 16) | el.tag.element)
        private = el.tag.group & 1
        identifying = inherited or private or (listed is not None and listed != 'K')
        if el.VR == 'SQ':
            for item in el.value:
                # a sequence the table removes or empties: everything inside goes
                collect(item, table, ident, kept, inherited or private or
                        listed in ('X', 'Z', 'X/Z', 'X/D', 'X/Z/D'))
            continue
        if el.tag == Tag(0x7FE0, 0x0010):
            kept.append(bytes(el.value) if isinstance(el.value, bytes) else b'')
            continue
        (ident if identifying else kept).extend(values(el))


def clean(orig_dir, deid_dir, table_json):
    with open(table_json) as f:
        rows = json.load(f)
    table = {}
    for row in rows:
        t = row['tag'].strip('()').replace(',', '')
        if len(t) == 8 and all(c in '0123456789ABCDEFabcdef' for c in t):
            table[int(t, 16)] = row['basicProfile']
    bad = 0
    for name in sorted(os.listdir(deid_dir)):
        o = pydicom.dcmread(os.path.join(orig_dir, name), force=True)
        data = open(os.path.join(deid_dir, name), 'rb').read()
        d = pydicom.dcmread(os.path.join(deid_dir, name), force=True)
        enc = bytes(d[0x04000500][0][0x04000520].value)
        at = data.find(enc)
        outside = data[:at] + b'\0' + data[at + len(enc):]
        # the new random UIDs (2.25.<39 digits>) may hold any 6-digit value by
        # chance (a StudyTime 105220 was "found" in one once): not a leak
        old_uids = {e.value for e in o.iterall() if e.VR == 'UI' and isinstance(e.value, str)}
        for e in d.iterall():
            if e.VR == 'UI' and isinstance(e.value, str) and e.value not in old_uids:
                outside = outside.replace(e.value.encode(), b'\0')
        ident, kept = [], []
        collect(o.file_meta, table, ident, kept)
        collect(o, table, ident, kept)
        kept_blob = b'\0'.join(kept)
        left = sorted({v for v in ident
                       if len(v) >= 6 and v in outside and v not in kept_blob})
        if left:
            bad += 1
            print('  %s: identifying values left: %s' % (name, left[:5]))
    print('  %d de-identified files scanned, %d with identifying values left'
          % (len(os.listdir(deid_dir)), bad))
    return bad == 0


def content(path):
    data = open(path, 'rb').read()
    return data[:4] == b'\x00\x04\x50\x05'


def main():
    mode = sys.argv[1]
    if mode == 'same':
        allow = {Tag(int(t, 16)) for t in sys.argv[4:]}
        ok = same(sys.argv[2], sys.argv[3], allow)
    elif mode == 'clean':
        ok = clean(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        ok = content(sys.argv[2])
    sys.exit(0 if ok else 1)


main()
EOF

# ---- 1. medseal de-identifies, and re-identifies bit-exact ---------------------------------
for set in ct py py_marked; do
    "$MEDSEAL" -q protect --scheme deid --to "$W/cert.pem" "$W/in/$set" -o "$W/d/$set" ||
        bad "medseal protect $set"
    "$MEDSEAL" -q unprotect --key "$W/key.pem" "$W/d/$set" -o "$W/r/$set" ||
        bad "medseal unprotect $set"
    diff -r "$W/in/$set" "$W/r/$set" >/dev/null && note "ok: $set re-identified bit-exact" ||
        bad "$set: re-identified files differ from the originals"
done
a=$($PY -c 'import pydicom,sys; print(pydicom.dcmread(sys.argv[1]).StudyInstanceUID)' "$W/d/ct/CT0001.dcm")
b=$($PY -c 'import pydicom,sys; print(pydicom.dcmread(sys.argv[1]).StudyInstanceUID)' "$W/d/ct/CT0019.dcm")
[ "$a" = "$b" ] && note "ok: one Study Instance UID across the series ($a)" ||
    bad "Study Instance UIDs differ across the series"

# ---- 2. gdcmanon -d re-identifies medseal's output -----------------------------------------
gdcm_reidentify() { # DIR KEY OUT
    mkdir -p "$3"
    for f in "$1"/*.dcm; do
        gdcmanon -d -k "$2" -i "$f" -o "$3/$(basename "$f")" >/dev/null 2>&1 ||
            bad "gdcmanon -d $(basename "$f")"
    done
}
for set in ct py; do
    gdcm_reidentify "$W/d/$set" "$W/key.pem" "$W/g/$set"
    note "gdcmanon -d on medseal $set output (AuthEnvelopedData, RSA-OAEP):"
    # gdcmanon leaves (0012,0064) and drops (0012,0062) even when the original had it
    $PY "$W/check.py" same "$W/in/$set" "$W/g/$set" 00120064 || bad "gdcmanon -d: $set differs"
done
"$MEDSEAL" -q protect --scheme deid --strict-dicom --rsa-pkcs1 --to "$W/cert.pem" \
    "$W/in/ct" -o "$W/ds" || bad "medseal protect --strict-dicom --rsa-pkcs1"
gdcm_reidentify "$W/ds" "$W/key.pem" "$W/gs"
note "gdcmanon -d on medseal output (EnvelopedData, RSA PKCS#1 v1.5, AES-256-CBC):"
$PY "$W/check.py" same "$W/in/ct" "$W/gs" 00120064 || bad "gdcmanon -d strict differs"
"$MEDSEAL" -q protect --scheme deid --to "$W/eccert.pem" "$W/in/ct" -o "$W/de" ||
    bad "medseal protect EC"
gdcm_reidentify "$W/de" "$W/eckey.pem" "$W/ge"
note "gdcmanon -d on medseal output (AuthEnvelopedData, EC P-256):"
$PY "$W/check.py" same "$W/in/ct" "$W/ge" 00120064 || bad "gdcmanon -d EC differs"

# ---- 3. medseal re-identifies gdcmanon -e output -------------------------------------------
for set in ct py; do
    mkdir -p "$W/ge_in/$set"
    for f in "$W/in/$set"/*.dcm; do
        gdcmanon -e -c "$W/cert.pem" -i "$f" -o "$W/ge_in/$set/$(basename "$f")" \
            >/dev/null 2>&1 || bad "gdcmanon -e $(basename "$f")"
    done
    "$MEDSEAL" -q unprotect --key "$W/key.pem" "$W/ge_in/$set" -o "$W/mr/$set" ||
        bad "medseal unprotect of gdcmanon -e $set output"
    note "medseal unprotect on gdcmanon -e $set output (EnvelopedData v0, PKCS#1 v1.5):"
    $PY "$W/check.py" same "$W/in/$set" "$W/mr/$set" || bad "medseal on gdcmanon $set differs"
done
mkdir -p "$W/gp"
gdcmanon -e -p 'correct horse battery staple' -i "$W/in/ct/CT0001.dcm" -o "$W/gp/CT0001.dcm" \
    >/dev/null 2>&1 || bad "gdcmanon -e -p"
"$MEDSEAL" -q unprotect --passphrase-file "$W/pass.txt" "$W/gp" -o "$W/gpr" ||
    bad "medseal unprotect of gdcmanon -e -p output"
note "medseal unprotect on gdcmanon -e -p output (PBKDF2 password recipient):"
$PY "$W/check.py" same "$W/in/ct" "$W/gpr" || bad "medseal on gdcmanon -p differs"

# ---- 4. openssl opens the Encrypted Content ------------------------------------------------
$PY -c 'import pydicom,sys; open(sys.argv[2],"wb").write(pydicom.dcmread(sys.argv[1])[0x04000500][0][0x04000520].value)' \
    "$W/d/ct/CT0001.dcm" "$W/enc.der"
if openssl cms -decrypt -inform DER -in "$W/enc.der" -inkey "$W/key.pem" -binary \
    -out "$W/enc.plain" 2>/dev/null && $PY "$W/check.py" content "$W/enc.plain"; then
    note "ok: openssl cms -decrypt opens the Encrypted Content, (0400,0550) first"
else
    bad "openssl cms -decrypt of the Encrypted Content"
fi

# ---- 5. dciodvfy: no new errors ----------------------------------------------------------
# UIDs are normalised away (they change by design). Files dciodvfy cannot read, or
# crashes on, in their original form are not compared.
errors() { # FILE OUT: the normalised error lines; fails when dciodvfy crashed
    set +e
    dciodvfy "$1" > "$2.raw" 2>&1
    rc=$?
    set -e
    grep '^Error' "$2.raw" |
        sed -E 's/<[0-9.]+>//g; s/ReferencedSOPInstanceUID [0-9.]+//g; s/"[0-9.]+"//g' |
        sort -u > "$2" || true
    [ $rc -lt 128 ] && ! grep -q 'Dicom dataset read failed' "$2"
}
n=0
skipped=""
for f in "$W"/d/ct/CT0001.dcm "$W"/d/ct/CT0015.dcm "$W"/d/py/*.dcm; do
    b=$(basename "$f")
    o="$W/in/ct/$b"
    [ -f "$o" ] || o="$W/in/py/$b"
    if ! errors "$o" "$W/e1"; then
        skipped="$skipped $b"
        continue
    fi
    errors "$f" "$W/e2" || bad "dciodvfy cannot read de-identified $b"
    new=$(comm -13 "$W/e1" "$W/e2")
    n=$((n + 1))
    [ -z "$new" ] || bad "dciodvfy: new errors in $b: $new"
done
note "dciodvfy: $n de-identified files without new errors (originals dciodvfy cannot read:$skipped)"

# ---- 6. no identifying value left in the bytes ---------------------------------------------
for set in ct py py_marked; do
    note "byte scan of the $set de-identified files:"
    $PY "$W/check.py" clean "$W/in/$set" "$W/d/$set" \
        "$SRC/data/standard/confidentiality_profile_attributes.json" ||
        bad "identifying values left in $set"
done

# ---- 7. wrong key, wrong passphrase --------------------------------------------------------
set +e
"$MEDSEAL" -q unprotect --key "$W/key2.pem" "$W/d/ct/CT0001.dcm" -o "$W/x.dcm" 2>/dev/null
rc=$?
set -e
[ $rc -eq 4 ] && [ ! -e "$W/x.dcm" ] && note "ok: wrong key, exit 4, no output" ||
    bad "wrong key: exit $rc"
"$MEDSEAL" -q protect --scheme deid --passphrase-file "$W/pass.txt" "$W/in/ct/CT0001.dcm" \
    -o "$W/p.dcm" || bad "protect with a passphrase"
set +e
"$MEDSEAL" -q unprotect --passphrase-file "$W/wrong.txt" "$W/p.dcm" -o "$W/x.dcm" 2>/dev/null
rc=$?
set -e
[ $rc -eq 4 ] && [ ! -e "$W/x.dcm" ] && note "ok: wrong passphrase, exit 4, no output" ||
    bad "wrong passphrase: exit $rc"
"$MEDSEAL" -q unprotect --passphrase-file "$W/pass.txt" "$W/p.dcm" -o "$W/pr.dcm" &&
    cmp -s "$W/pr.dcm" "$W/in/ct/CT0001.dcm" && note "ok: passphrase round trip bit-exact" ||
    bad "passphrase round trip"

[ $fail -eq 0 ] && note "all deid interop checks passed"
exit $fail
