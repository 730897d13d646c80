#!/bin/sh
# `medseal protect --scheme cms` / `unprotect` through the CLI: bit-exact on
# the bundled series, openssl cms interop both ways, passphrase, armor,
# --strict-dicom with a trusted signer; wrong key, tampering and truncation
# give exit 4 or 3 and leave no output.
set -eu
. "$(dirname "$0")/lib.sh"
S="$SRC/data/cranium-ct"
workdir tmp
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; } # the first failure ends the test
expect() { # expect CODE OUTPUT CMD...
    want=$1; out=$2; shift 2
    set +e; "$@" 2>err.txt >/dev/null; rc=$?; set -e
    [ $rc -eq "$want" ] || fail "$*: exit $rc, expected $want ($(cat err.txt))"
    [ "$(wc -l < err.txt)" -le 2 ] || fail "$*: error is not short"
    [ ! -e "$out" ] || fail "$*: output $out left behind"
}

$M -q keygen --type rsa3072 --cn doctor -o doc
$M -q keygen --type p256 --cn clinic -o ec
$M -q keygen --type ecdsa-p256 --cert --cn signer -o sig
printf 'correct horse battery staple\n' > pass.txt

# directories: both recipients, back with either key or the passphrase
$M -q protect --to doc.cert.pem --to ec.cert.pem --passphrase-file pass.txt "$S" -o prot
[ "$(ls prot | wc -l)" -eq "$(ls "$S" | wc -l)" ] || fail "not every file protected"
$M -q unprotect --key doc.key.pem prot -o back1
diff -r "$S" back1 >/dev/null || fail "RSA round trip differs"
$M -q unprotect --key ec.key.pem --cert ec.cert.pem prot -o back2
diff -r "$S" back2 >/dev/null || fail "EC round trip differs"
$M -q unprotect --passphrase-file pass.txt prot/CT0050.dcm.p7m -o p.dcm
cmp -s p.dcm "$S/CT0050.dcm" || fail "passphrase round trip differs"
echo "ok: cms round trips bit-exact (RSA-OAEP, EC P-256, Argon2id passphrase)"

# --sync: every mode gives the same, atomic outputs; a bad mode is a usage error
$M -q protect --sync none --to ec.cert.pem "$S" -o sn
$M -q unprotect --sync end --key ec.key.pem sn -o sn-back
diff -r "$S" sn-back >/dev/null || fail "--sync none/end round trip differs"
[ -z "$(find sn sn-back -name '*.tmp*')" ] || fail "--sync: temporary files left"
expect 2 sx.p7m $M -q protect --sync sometimes --to ec.cert.pem "$S/CT0001.dcm" -o sx.p7m
echo "ok: --sync file|end|none"

# openssl opens medseal's files; medseal opens openssl's
openssl cms -decrypt -inform DER -binary -in prot/CT0007.dcm.p7m -inkey doc.key.pem -out o.dcm
cmp -s o.dcm "$S/CT0007.dcm" || fail "openssl decrypt differs"
openssl cms -encrypt -binary -outform DER -aes-256-gcm -recip doc.cert.pem \
    -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -in "$S/CT0008.dcm" -out os.p7m
$M -q unprotect --key doc.key.pem os.p7m -o os.dcm
cmp -s os.dcm "$S/CT0008.dcm" || fail "medseal decrypt of openssl output differs"
echo "ok: openssl cms interop both ways"

# armor
$M -q protect --armor --to ec.cert.pem "$S/CT0009.dcm" -o a.pem
head -1 a.pem | grep -q 'BEGIN MEDSEAL PROTECTED FILE' || fail "no armor"
$M -q unprotect --key ec.key.pem a.pem -o a.dcm
cmp -s a.dcm "$S/CT0009.dcm" || fail "armor round trip differs"
echo "ok: armored output"

# strict DICOM (PS3.10 7.4): signature checked against the trusted signer
$M -q protect --strict-dicom --sign-key sig.key.pem --sign-cert sig.cert.pem --to doc.cert.pem \
    "$S/CT0010.dcm" -o s.p7m
$M -q unprotect --key doc.key.pem --trust sig.cert.pem s.p7m -o s.dcm
cmp -s s.dcm "$S/CT0010.dcm" || fail "strict round trip differs"
expect 4 bad.dcm $M -q unprotect --key doc.key.pem --trust ec.cert.pem s.p7m -o bad.dcm
echo "ok: strict DICOM, untrusted signer refused"

# --compress: standard lossless syntaxes before encryption, bit-exact back
for c in deflate rle jpeg-ls; do
    $M -q protect --compress $c --to doc.cert.pem "$S" -o z-$c
    $M -q unprotect --key doc.key.pem z-$c -o zb-$c
    diff -r "$S" zb-$c >/dev/null || fail "--compress $c round trip differs"
    openssl cms -decrypt -inform DER -binary -in z-$c/CT0020.dcm.p7m -inkey doc.key.pem -out zc.dcm
    dcmdump -q zc.dcm | grep -q '(0002,0010)' || fail "--compress $c: inner file is not DICOM"
done
[ "$(du -sb z-jpeg-ls | cut -f1)" -lt "$(du -sb prot | cut -f1)" ] || fail "jpeg-ls did not compress"
expect 2 bad.dcm $M -q protect --compress zip --to doc.cert.pem "$S/CT0001.dcm" -o bad.dcm
echo "ok: --compress deflate, rle, jpeg-ls"

# passphrase-protected private keys (keygen writes PKCS#8 encrypted with scrypt):
# --key-passphrase-file unlocks them for unprotect and for --sign-key; the
# passphrase file rule is the first line, as keygen reads it
printf 'key passphrase\nsecond line is not part of it\n' > keypass.txt
printf 'key passphrase\r\n' > keypass-crlf.txt
printf 'wrong key passphrase\n' > keypass-wrong.txt
$M -q keygen --type rsa3072 --cn locked --passphrase-file keypass.txt -o lk
$M -q keygen --type ecdsa-p256 --cert --cn locked-signer --passphrase-file keypass.txt -o lks
head -1 lk.key.pem | grep -q 'BEGIN ENCRYPTED PRIVATE KEY' || fail "keygen key not encrypted"
$M -q protect --to lk.cert.pem "$S" -o lprot
$M -q unprotect --key lk.key.pem --key-passphrase-file keypass-crlf.txt lprot -o lback
diff -r "$S" lback >/dev/null || fail "encrypted-key round trip differs"
$M -q protect --strict-dicom --sign-key lks.key.pem --sign-cert lks.cert.pem \
    --key-passphrase-file keypass.txt --to lk.cert.pem "$S/CT0013.dcm" -o ls.p7m
$M -q unprotect --key lk.key.pem --key-passphrase-file keypass.txt --trust lks.cert.pem \
    ls.p7m -o ls.dcm
cmp -s ls.dcm "$S/CT0013.dcm" || fail "strict round trip with an encrypted signing key differs"
expect 4 bad.dcm $M -q unprotect --key lk.key.pem --key-passphrase-file keypass-wrong.txt \
    lprot/CT0014.dcm.p7m -o bad.dcm
grep -q 'wrong key passphrase' err.txt && fail "the key passphrase is in the error"
expect 4 bad.dcm $M -q unprotect --key lk.key.pem lprot/CT0014.dcm.p7m -o bad.dcm
expect 4 bad.p7m $M -q protect --strict-dicom --sign-key lks.key.pem --sign-cert lks.cert.pem \
    --key-passphrase-file keypass-wrong.txt --to lk.cert.pem "$S/CT0013.dcm" -o bad.p7m
set +e; $M -q unprotect --key lk.key.pem --key-passphrase-file keypass-wrong.txt lprot \
    -o lbad 2>/dev/null; rc=$?; set -e
[ $rc -eq 4 ] || fail "wrong key passphrase on a directory: exit $rc"
[ -z "$(find lbad -type f 2>/dev/null)" ] || fail "wrong key passphrase: output files left"
echo "ok: passphrase-protected keys (--key-passphrase-file), wrong key passphrase exit 4"

# failures: wrong key, wrong passphrase, tampered, truncated, not protected
printf 'wrong\n' > wrong.txt
expect 4 bad.dcm $M -q unprotect --key ec.key.pem os.p7m -o bad.dcm
expect 4 bad.dcm $M -q unprotect --passphrase-file wrong.txt prot/CT0050.dcm.p7m -o bad.dcm
cp prot/CT0011.dcm.p7m t.p7m
size=$(stat -c %s t.p7m)
/usr/bin/python3 -c "import sys; p='t.p7m'; d=bytearray(open(p,'rb').read()); d[$size//2]^=0x40; open(p,'wb').write(d)"
expect 4 bad.dcm $M -q unprotect --key doc.key.pem t.p7m -o bad.dcm
head -c $((size - 100)) prot/CT0011.dcm.p7m > trunc.p7m
set +e; $M -q unprotect --key doc.key.pem trunc.p7m -o bad.dcm 2>/dev/null; rc=$?; set -e
[ $rc -eq 3 ] || [ $rc -eq 4 ] || fail "truncated: exit $rc"
[ ! -e bad.dcm ] || fail "truncated: output left"
expect 3 bad.dcm $M -q unprotect --key doc.key.pem "$S/CT0012.dcm" -o bad.dcm
expect 2 bad.dcm $M -q protect "$S/CT0012.dcm" -o bad.dcm
echo "cms scheme: all checks passed"
