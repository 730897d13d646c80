#!/bin/sh
# DICOM digital signatures (PS3.15 Annex C) against DCMTK's dcmsign, both ways:
# - files medseal signs (RSA and EC P-256) pass `dcmsign --verify +cf CERT`
#   ("Verification : OK": dcmsign exits 0 even without a signature);
# - files `dcmsign --sign ... +m2 +sp 1` signs pass `medseal verify-sig`, and the
#   bytes medseal feeds to the MAC equal dcmsign's `+d` dump byte for byte;
# - one changed attribute (pydicom) makes both fail; a wrong trust certificate
#   gives exit 4 (dcmsign: certificate verification failed); a chain to a
#   trusted CA is accepted by both; signatures in sequence items; bad input.
set -u
. "$(dirname "$0")/lib.sh"
PYD=$PYDICOM_FILES
workdir T
cd "$T" || exit 1

# dcmsign_ok CERT FILE: dcmsign verifies every signature of FILE and names none failed
dcmsign_ok() {
    dcmsign --verify +cf "$1" "$2" >ds.txt 2>&1
    if grep -q "Verification : OK" ds.txt && ! grep -qi "fail" ds.txt; then ok; else
        fail "dcmsign --verify +cf $1 $2: $(cat ds.txt)"
    fi
}
# dcmsign_bad CERT FILE WORD: dcmsign does not say OK, and says WORD
dcmsign_bad() {
    dcmsign --verify +cf "$1" "$2" >ds.txt 2>&1
    if ! grep -q "Verification : OK" ds.txt && grep -qi "$3" ds.txt; then ok; else
        fail "dcmsign --verify +cf $1 $2 should fail with '$3': $(cat ds.txt)"
    fi
}
# change FILE OUT: Patient's Name changed with pydicom, nothing else
change() {
    "$PY" -c "import pydicom,sys; d=pydicom.dcmread(sys.argv[1]); d.PatientName='Changed^Name'; d.save_as(sys.argv[2], write_like_original=True)" "$1" "$2"
}

for tool in dcmsign openssl; do
    command -v $tool >/dev/null || { echo "$tool is missing" >&2; exit 1; }
done

# ---- keys and certificates --------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.crt -days 30 \
    -subj "/CN=medseal RSA signer/O=medseal test" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key \
    -out ec.crt -days 30 -subj "/CN=medseal EC signer" 2>/dev/null
# a CA and a leaf it issued
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
    -out ca.crt -days 30 -subj "/CN=medseal test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr \
    -subj "/CN=medseal leaf signer" 2>/dev/null
printf 'keyUsage=digitalSignature,nonRepudiation\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
    -extfile leaf.ext -out leaf.crt 2>/dev/null
for f in rsa.crt ec.crt ca.crt leaf.crt; do [ -s $f ] && ok || fail "openssl did not make $f"; done
sleep 1 # dcmsign finds a certificate made in this very second "not yet valid"

INPUTS="$SRC/data/cranium-ct/CT0001.dcm $PYD/CT_small.dcm $PYD/MR_small.dcm $PYD/rtplan.dcm
$PYD/JPEG2000.dcm $PYD/MR_small_implicit.dcm $PYD/ExplVR_BigEnd.dcm"

# ---- medseal signs, dcmsign verifies -------------------------------------------------
mkdir ms
for kind in rsa ec; do
    mkdir "ms/$kind"
    # shellcheck disable=SC2086
    expect 0 "$M" sign --key $kind.key --cert $kind.crt -o "ms/$kind" $INPUTS
    for f in $INPUTS; do
        s="ms/$kind/$(basename "$f")"
        expect 0 "$M" verify-sig --trust $kind.crt "$s"
        grep -q ": OK$" out.txt && ok || fail "verify-sig $s: $(cat out.txt)"
        dcmsign_ok $kind.crt "$s"
    done
done
grep -q "ECDSA P-256 SHA-256" out.txt && ok || fail "algorithm not shown: $(cat out.txt)"

# in place, atomically: the same path now holds a signed file
cp "$PYD/rtplan.dcm" inplace.dcm
expect 0 "$M" sign --key rsa.key --cert rsa.crt inplace.dcm
expect 0 "$M" verify-sig inplace.dcm
dcmsign_ok rsa.crt inplace.dcm
[ "$(ls | grep -c '^inplace')" -eq 1 ] && ok || fail "temporary files left: $(ls)"
# a second signature (EC) next to the first: both valid for both tools
expect 0 "$M" sign --key ec.key --cert ec.crt inplace.dcm
expect 0 "$M" verify-sig inplace.dcm
[ "$(grep -c ': OK$' out.txt)" -eq 2 ] && ok || fail "two signatures expected: $(cat out.txt)"
dcmsign --verify +cf rsa.crt +cf ec.crt inplace.dcm >ds.txt 2>&1
[ "$(grep -c 'Verification : OK' ds.txt)" -eq 2 ] && ok || fail "dcmsign, 2 signatures: $(cat ds.txt)"

# options after the files, as the issue writes it: `sign FILE... --key --cert -o OUT`
cp "$PYD/rtplan.dcm" after.dcm
before=$(sha256sum < after.dcm)
expect 0 "$M" sign after.dcm --key ec.key --cert ec.crt -o after-signed.dcm
[ "$(sha256sum < after.dcm)" = "$before" ] && ok || fail "sign changed its input although -o was given"
expect 0 "$M" verify-sig after-signed.dcm --trust ec.crt
grep -q "trusted" out.txt && ! grep -q "not checked" out.txt && ok || fail "--trust after the file ignored: $(cat out.txt)"
expect 2 "$M" sign after.dcm --key ec.key --cert
[ "$(sha256sum < after.dcm)" = "$before" ] && ok || fail "a usage error changed the input"

# ---- dcmsign signs, medseal verifies, with the same MAC byte stream ---------------------
mkdir dc
for kind in rsa ec; do
    for f in $INPUTS; do
        b=$(basename "$f" .dcm)
        dcmsign --sign $kind.key $kind.crt -pw +m2 +sp 1 +d "dc/$b.$kind.mac" "$f" \
            "dc/$b.$kind.dcm" >/dev/null 2>&1 || fail "dcmsign --sign $f"
        expect 0 "$M" verify-sig --trust $kind.crt --dump-mac "dc/$b.$kind.ours" "dc/$b.$kind.dcm"
        cmp -s "dc/$b.$kind.mac" "dc/$b.$kind.ours" && ok ||
            fail "$b ($kind): medseal's MAC byte stream differs from dcmsign's +d dump"
    done
done
# a signature in a sequence item (dcmsign --sign-item), next to one at the top
dcmsign --sign-item rsa.key rsa.crt "BeamSequence[0].ControlPointSequence[1]" -pw +m2 \
    +d nested.mac "$PYD/rtplan.dcm" nested1.dcm >/dev/null 2>&1
dcmsign --sign ec.key ec.crt -pw +m2 nested1.dcm nested.dcm >/dev/null 2>&1
expect 0 "$M" verify-sig --dump-mac nested.ours nested.dcm
grep -q "signature 1 ((300A,00B0)\[1\]/(300A,0111)\[2\]): OK" out.txt && ok ||
    fail "nested signature not found: $(cat out.txt)"
[ "$(grep -c ': OK$' out.txt)" -eq 2 ] && ok || fail "nested: $(cat out.txt)"
tail -c "$(stat -c %s nested.mac)" nested.ours | cmp -s - nested.mac && ok ||
    fail "nested: MAC byte stream differs from dcmsign's"

# ---- a changed attribute: both fail -------------------------------------------------
for kind in rsa ec; do
    change "ms/$kind/CT_small.dcm" ms_changed.dcm
    expect 1 "$M" verify-sig ms_changed.dcm
    grep -q "FAILED: the signature does not match" out.txt && ok || fail "reason: $(cat out.txt)"
    dcmsign_bad $kind.crt ms_changed.dcm "signature is invalid"
    change "dc/MR_small.$kind.dcm" dc_changed.dcm
    expect 1 "$M" verify-sig dc_changed.dcm
    dcmsign_bad $kind.crt dc_changed.dcm "signature is invalid"
done
# a file without any signature: reported, exit 1 (dcmsign says nothing is wrong)
expect 1 "$M" verify-sig "$PYD/CT_small.dcm"
grep -q "no digital signature" out.txt && ok || fail "no signature: $(cat out.txt)"
# several files: the highest exit code, every file reported
expect 1 "$M" verify-sig ms/rsa/MR_small.dcm ms_changed.dcm ms/ec/MR_small.dcm
[ "$(grep -c ': OK$' out.txt)" -eq 2 ] && ok || fail "several files: $(cat out.txt)"

# ---- trust --------------------------------------------------------------------------
expect 4 "$M" verify-sig --trust ec.crt ms/rsa/rtplan.dcm
grep -q "not trusted" out.txt && ok || fail "untrusted: $(cat out.txt)"
dcmsign_bad ec.crt ms/rsa/rtplan.dcm "certificate verification failed"
expect 4 "$M" verify-sig --trust rsa.crt dc/rtplan.ec.dcm
# a leaf issued by a trusted CA: accepted by both
expect 0 "$M" sign --key leaf.key --cert leaf.crt -o leaf.dcm "$PYD/MR_small.dcm"
expect 0 "$M" verify-sig --trust ca.crt leaf.dcm
dcmsign_ok ca.crt leaf.dcm
expect 4 "$M" verify-sig --trust rsa.crt leaf.dcm
# the key and the certificate must match
expect 2 "$M" sign --key rsa.key --cert ec.crt -o x.dcm "$PYD/MR_small.dcm"

# ---- what medseal does not accept --------------------------------------------------
# dcmsign's default MAC, RIPEMD-160: reported as unsupported (exit 3)
dcmsign --sign rsa.key rsa.crt -pw "$PYD/MR_small.dcm" ripemd.dcm >/dev/null 2>&1
expect 3 "$M" verify-sig ripemd.dcm
grep -q "RIPEMD160 is not supported" out.txt && ok || fail "ripemd: $(cat out.txt)"
D=$SRC/tests/data/malformed/dsig
expect 3 "$M" verify-sig "$D/truncated_in_signature.dcm"
expect 3 "$M" verify-sig "$D/no_mac_parameters.dcm"
expect 3 "$M" verify-sig "$D/garbled_certificate.dcm"
expect 1 "$M" verify-sig "$D/garbled_signature.dcm"
expect 0 "$M" verify-sig "$D/good_ec_dcmsign.dcm"
# usage errors
expect 2 "$M" sign --cert rsa.crt x.dcm
expect 2 "$M" sign --key rsa.key --cert rsa.crt
expect 2 "$M" verify-sig --key rsa.key x.dcm
expect 2 "$M" sign --key rsa.key --cert rsa.crt --tag NoSuchKeyword x.dcm
expect 5 "$M" verify-sig --trust missing.crt ms/rsa/rtplan.dcm
# sign only some elements: those are covered, the others reported as not covered
expect 0 "$M" sign --key ec.key --cert ec.crt --tag PatientName --tag 0010,0020 -o some.dcm \
    "$PYD/MR_small.dcm"
expect 0 "$M" verify-sig some.dcm
grep -q "2 elements signed, .* not covered" out.txt && ok || fail "tags: $(cat out.txt)"
dcmsign_ok ec.crt some.dcm

finish dsig/dcmtk
