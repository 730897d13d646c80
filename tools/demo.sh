#!/bin/sh
# The main job end to end on the bundled real head CT series (108 slices):
# the clinic checks the study, seals it and protects every instance for the
# reading doctor; the study crosses an untrusted channel; the doctor opens it,
# checks the seal, and sees what an attacker's change looks like.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh build
M=$PWD/build/medseal
S=$PWD/data/cranium-ct
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
step() { printf '\n== %s\n' "$*"; }

step "1. clinic: what is in the study (medseal scan) and is it complete and valid (validate)"
$M scan "$S"
$M validate --errors-only "$S" && echo "validate: no errors"

step "2. keys: the doctor's certificate, the clinic's signing key, the shared seal key k"
$M -q keygen --type rsa3072 --cn "Reading doctor" -o "$W/doctor" > /dev/null
$M -q keygen --type ed25519 -o "$W/clinic" > /dev/null
$M -q keygen --symmetric -o "$W/k.key" > /dev/null
$M key show "$W/doctor.cert.pem" "$W/clinic.pub.pem" | sed 's/^/   /'

step "3. clinic: seal the whole study (seed 000 DRR fingerprint + signed manifest)"
$M seal "$S" -k "$W/k.key" --sign "$W/clinic.key.pem" -o "$W/study.seal"
$M drr "$S" --view ap -o "$W/drr-ap.png" && echo "DRR (AP) written: drr-ap.png"

step "4. clinic: protect every instance for the doctor (CMS AES-256-GCM, JPEG-LS first)"
$M protect --compress jpeg-ls --to "$W/doctor.cert.pem" "$S" -o "$W/channel"
ls "$W/channel" | head -3; echo "   ... ($(ls "$W/channel" | wc -l) files; no plaintext on the channel)"

step "5. doctor: unprotect (bit-exact, only after the GCM tags check) and verify the seal"
$M unprotect --key "$W/doctor.key.pem" "$W/channel" -o "$W/received"
diff -r "$S" "$W/received" > /dev/null && echo "received files are bit-identical to the originals"
$M verify "$W/received" "$W/study.seal" -k "$W/k.key" --trust "$W/clinic.pub.pem" && echo "verify: intact (exit 0)"

step "6. an attacker on the channel: one slice deleted, one modified by +-10 HU"
$M tamper "$W/received" "$W/attacked" --delete 40 --modify 70 --delta 10
set +e
$M verify "$W/attacked" "$W/study.seal" -k "$W/k.key" --trust "$W/clinic.pub.pem" \
    --report "$W/report" > "$W/verify.txt"
rc=$?
head -40 "$W/verify.txt"
set -e
echo "verify exit code: $rc (1 = the study differs from its seal); HTML report: report/index.html"

step "7. a tampered ciphertext is refused, nothing is released"
cp "$W/channel/CT0001.dcm.p7m" "$W/bad.p7m"
printf '\377' | dd of="$W/bad.p7m" bs=1 seek=5000 conv=notrunc 2> /dev/null
set +e
$M unprotect --key "$W/doctor.key.pem" "$W/bad.p7m" -o "$W/bad.dcm"
echo "unprotect exit code: $? ; output present: $([ -e "$W/bad.dcm" ] && echo yes || echo no)"
set -e

mkdir -p demo-out
cp "$W/drr-ap.png" demo-out/ && cp -r "$W/report" demo-out/ 2> /dev/null || true
printf '\nDRR and the tamper report are in demo-out/ (drr-ap.png, report/index.html).\n'
