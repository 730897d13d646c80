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
json_check "$T/wrongkey.json" "not r['key_ok'] and r['result'] == 'untrusted' and r['drr'] == []" "wrong key JSON"
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
[ "$(cat "$CT"/* | sha256sum)" = "$before" ] && ok || fail "data/cranium-ct changed"
[ ! -e "$CT/sub" ] && ok || fail "tamper created a directory in its input"

finish seal
