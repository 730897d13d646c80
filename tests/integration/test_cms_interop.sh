#!/bin/sh
# Interop of the `cms` scheme with OpenSSL (openssl cms), through the
# tests/tools/cms_tool driver of the library API:
#  - openssl opens what medseal writes (RSA-OAEP and EC recipients, detached,
#    passphrase via the Argon2id KEK, strict DICOM: decrypt + verify);
#  - medseal opens what openssl writes (AES-256-GCM, DER and streamed BER);
#  - bit-exact round trips on a real DICOM file and on 200 MB of random data
#    with bounded peak memory (reported);
#  - wrong key, wrong passphrase, flipped byte, truncation: exit 4 or 3 and
#    no output file.
set -eu
. "$(dirname "$0")/lib.sh"
TOOL=$BUILD/cms_tool
[ -x "$TOOL" ] || { echo "cms_tool not built ($TOOL)"; exit 1; }
BIG_MB=${CMS_INTEROP_BIG_MB:-200}
RSS_LIMIT_KB=65536

workdir W
cd "$W"
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# expect CODE DESCRIPTION COMMAND... : the command exits with CODE
expect() {
    code=$1; what=$2; shift 2
    set +e; "$@" >out.log 2>&1; rc=$?; set -e
    if [ "$rc" -eq "$code" ]; then ok "$what (exit $rc: $(tail -n1 out.log))"
    else bad "$what: exit $rc, expected $code: $(tail -n1 out.log)"; fi
}
same() { if cmp -s "$1" "$2"; then ok "$3"; else bad "$3: $1 and $2 differ"; fi; }
absent() { if [ -e "$1" ]; then bad "$2: $1 was left behind"; fi; }
# peak RSS in KiB of a command (GNU time)
rss() { /usr/bin/time -f %M -o rss.txt "$@" >/dev/null 2>&1; cat rss.txt; }

# ---- keys: RSA-3072 and EC P-256 recipients, ECDSA signer ----------------------
openssl req -x509 -newkey rsa:3072 -nodes -keyout rsa.key -out rsa.crt -subj /CN=rsa-recipient \
    -days 2 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key -out ec.crt \
    -subj /CN=ec-recipient -days 2 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -subj /CN=other \
    -days 2 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout sig.key -out sig.crt \
    -subj /CN=dicom-signer -days 2 2>/dev/null
printf 'a long passphrase for the ct series\n' > pass.txt
printf 'a long passphrase for the ct series!\n' > wrong.txt
cp "$SRC/data/cranium-ct/CT0001.dcm" ct.dcm

# ---- medseal writes, openssl reads ----------------------------------------------
"$TOOL" encrypt --to rsa.crt ct.dcm ct.rsa.cms
openssl cms -decrypt -inform DER -binary -inkey rsa.key -recip rsa.crt -in ct.rsa.cms -out o1
same ct.dcm o1 "openssl cms -decrypt opens medseal RSA-OAEP-SHA256 AuthEnvelopedData"
openssl cms -cmsout -print -inform DER -in ct.rsa.cms > print.txt
grep -q rsaesOaep print.txt && grep -q "mgf1" print.txt && grep -q "aes-256-gcm" print.txt &&
    ok "recipient is rsaesOaep/SHA-256/MGF1, content aes-256-gcm" || bad "unexpected algorithms"

"$TOOL" encrypt --to ec.crt ct.dcm ct.ec.cms
openssl cms -decrypt -inform DER -binary -inkey ec.key -recip ec.crt -in ct.ec.cms -out o2
same ct.dcm o2 "openssl cms -decrypt opens medseal EC P-256 (ECDH) AuthEnvelopedData"
openssl cms -cmsout -print -inform DER -in ct.ec.cms | grep -q dhSinglePass-stdDH-sha256kdf-scheme &&
    ok "ECDH KDF is SHA-256 (dhSinglePass-stdDH-sha256kdf-scheme)" || bad "ECDH KDF is not SHA-256"

"$TOOL" encrypt --to rsa.crt --to ec.crt --passphrase-file pass.txt ct.dcm ct.all.cms
openssl cms -decrypt -inform DER -binary -inkey ec.key -recip ec.crt -in ct.all.cms -out o3
same ct.dcm o3 "openssl opens a three-recipient file with the EC key"
openssl cms -decrypt -inform DER -binary -inkey rsa.key -recip rsa.crt -in ct.all.cms -out o4
same ct.dcm o4 "openssl opens a three-recipient file with the RSA key"

"$TOOL" encrypt --to rsa.crt --detached ct.det.bin ct.dcm ct.det.hdr
openssl cms -decrypt -inform DER -binary -inkey rsa.key -in ct.det.hdr -content ct.det.bin -out o5
same ct.dcm o5 "openssl opens a detached medseal envelope (-content)"

# passphrase: the KEK is Argon2id(passphrase, salt, t, m) as documented; an
# independent Argon2id (PyNaCl) gives openssl the KEK of the KEKRecipientInfo.
if /usr/bin/python3 -c 'import nacl.pwhash' 2>/dev/null; then
    "$TOOL" encrypt --passphrase-file pass.txt --argon2 3,65536 ct.dcm ct.pw.cms
    kek=$(/usr/bin/python3 - ct.pw.cms pass.txt <<'EOF'
import re, sys, nacl.pwhash
data = open(sys.argv[1], 'rb').read(65536)
# KEKRecipientInfo: version 4, kekid { keyIdentifier = salt, other { OID, params } }
m = re.search(rb'\x02\x01\x04\x30.\x04\x10(.{16})\x30.\x06(.)', data, re.S)
salt = m.group(1)
params = data[m.end() + m.group(2)[0]:]
# Argon2id parameters: SEQUENCE { INTEGER 19, INTEGER t, INTEGER m, INTEGER 1 }
ints, i = [], 2
while len(ints) < 4:
    n = params[i + 1]
    ints.append(int.from_bytes(params[i + 2:i + 2 + n], 'big'))
    i += 2 + n
assert ints[0] == 19 and ints[3] == 1
pw = open(sys.argv[2], 'rb').read()
pw = pw[:-1] if pw.endswith(b'\n') else pw
kek = nacl.pwhash.argon2id.kdf(32, pw, salt, opslimit=ints[1], memlimit=ints[2] * 1024)
print(kek.hex(), salt.hex())
EOF
)
    set -- $kek
    openssl cms -decrypt -inform DER -binary -in ct.pw.cms -secretkey "$1" -secretkeyid "$2" -out o6
    same ct.dcm o6 "openssl opens a passphrase file with the Argon2id KEK (KEKRecipientInfo)"
    set --
else
    echo "skip passphrase interop (python3-nacl missing)"
fi

# strict DICOM: openssl decrypts the EnvelopedData (AES-256-CBC) and verifies
# the SignedData inside (wrapped in a ContentInfo: the envelope's content type
# is signedData, so its content is the SignedData itself).
"$TOOL" encrypt --strict-dicom --sign-key sig.key --sign-cert sig.crt --to rsa.crt ct.dcm ct.strict.cms
openssl cms -cmsout -print -inform DER -in ct.strict.cms > sprint.txt
grep -q "pkcs7-envelopedData" sprint.txt && grep -q "aes-256-cbc" sprint.txt &&
    grep -q "contentType: pkcs7-signedData" sprint.txt &&
    ok "strict: EnvelopedData, aes-256-cbc, content type signedData" || bad "strict structure"
openssl cms -decrypt -inform DER -binary -inkey rsa.key -in ct.strict.cms -out inner.sd
{ printf '\060\200\006\011\052\206\110\206\367\015\001\007\002\240\200'; cat inner.sd;
  printf '\000\000\000\000'; } > inner.p7
openssl cms -verify -inform DER -binary -in inner.p7 -CAfile sig.crt -out o7 2>verify.log
same ct.dcm o7 "openssl decrypts and verifies a strict DICOM file (ECDSA P-256 SignedData)"
"$TOOL" decrypt --key rsa.key --trust sig.crt ct.strict.cms o8
same ct.dcm o8 "medseal decrypts and verifies its strict DICOM file"

# ---- openssl writes, medseal reads -------------------------------------------------
openssl cms -encrypt -binary -outform DER -aes-256-gcm -in ct.dcm -out ct.ossl.cms -recip rsa.crt \
    -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256
"$TOOL" probe ct.ossl.cms | grep -q "kind=AuthEnvelopedData scheme=cms" &&
    ok "probe recognises openssl's AuthEnvelopedData" || bad "probe"
"$TOOL" decrypt --key rsa.key --cert rsa.crt ct.ossl.cms o9
same ct.dcm o9 "medseal opens openssl -aes-256-gcm RSA-OAEP (DER)"
openssl cms -encrypt -binary -stream -outform DER -aes-256-gcm -in ct.dcm -out ct.ossl-ber.cms \
    -recip rsa.crt -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 \
    -recip ec.crt -keyopt ecdh_kdf_md:sha256
"$TOOL" decrypt --key ec.key ct.ossl-ber.cms o10
same ct.dcm o10 "medseal opens openssl -stream (BER) EC recipient"
"$TOOL" decrypt --key rsa.key ct.ossl-ber.cms o11
same ct.dcm o11 "medseal opens openssl -stream (BER) RSA recipient"
openssl cms -encrypt -binary -outform DER -aes-256-cbc -in ct.dcm -out ct.ossl-cbc.cms -recip rsa.crt
expect 3 "medseal refuses unauthenticated EnvelopedData by default" \
    "$TOOL" decrypt --key rsa.key ct.ossl-cbc.cms o12
absent o12 "refused EnvelopedData"
"$TOOL" decrypt --allow-unauthenticated --key rsa.key ct.ossl-cbc.cms o12
same ct.dcm o12 "medseal opens openssl EnvelopedData when unauthenticated content is allowed"

# ---- failures: exit code and no output --------------------------------------------------
expect 4 "wrong RSA key" "$TOOL" decrypt --key other.key ct.all.cms bad1
absent bad1 "wrong key"
expect 4 "wrong passphrase" "$TOOL" decrypt --passphrase-file wrong.txt ct.all.cms bad2
absent bad2 "wrong passphrase"
expect 4 "strict file, untrusted signer" "$TOOL" decrypt --key rsa.key --trust other.crt ct.strict.cms bad3
absent bad3 "untrusted signer"
size=$(wc -c < ct.rsa.cms)
for off in $((size / 3)) $((size / 2)) $((size - 20)); do
    cp ct.rsa.cms flip.cms
    b=$(dd if=flip.cms bs=1 skip="$off" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
    printf "$(printf '\\%03o' $(((b ^ 1) & 255)))" |
        dd of=flip.cms bs=1 seek="$off" count=1 conv=notrunc 2>/dev/null
    set +e; "$TOOL" decrypt --key rsa.key flip.cms bad4 >out.log 2>&1; rc=$?; set -e
    if [ "$rc" -eq 4 ] || [ "$rc" -eq 3 ]; then ok "one flipped byte at $off: exit $rc: $(tail -n1 out.log)"
    else bad "flipped byte at $off: exit $rc"; fi
    absent bad4 "flipped byte"
done
for cut in 100 $((size / 2)) $((size - 1)); do
    head -c "$cut" ct.rsa.cms > cut.cms
    expect 3 "truncated to $cut bytes" "$TOOL" decrypt --key rsa.key cut.cms bad5
    absent bad5 "truncation"
done

# ---- 200 MB of random data: round trips and peak memory ------------------------------------
head -c "${BIG_MB}M" /dev/urandom > big.bin
r1=$(rss "$TOOL" encrypt --to rsa.crt --to ec.crt --passphrase-file pass.txt big.bin big.cms)
r2=$(rss "$TOOL" decrypt --key ec.key big.cms big.out)
same big.bin big.out "medseal round trip, ${BIG_MB} MB (AuthEnvelopedData)"
echo "peak RSS: encrypt ${r1} KiB, decrypt ${r2} KiB (Argon2id m=64 MiB included in encrypt)"
r3=$(rss "$TOOL" decrypt --key rsa.key big.cms big.out2)
echo "peak RSS: decrypt with RSA key ${r3} KiB"
[ "$r3" -lt "$RSS_LIMIT_KB" ] && ok "decrypt peak RSS ${r3} KiB < 64 MiB" || bad "decrypt RSS ${r3} KiB"
r4=$(rss "$TOOL" encrypt --to rsa.crt big.bin big2.cms)
[ "$r4" -lt "$RSS_LIMIT_KB" ] && ok "encrypt peak RSS ${r4} KiB < 64 MiB" || bad "encrypt RSS ${r4} KiB"
r5=$(rss openssl cms -decrypt -inform DER -binary -inkey rsa.key -in big2.cms -out big.o3)
same big.bin big.o3 "openssl opens medseal's ${BIG_MB} MB file (openssl peak RSS ${r5} KiB)"
openssl cms -encrypt -binary -stream -outform DER -aes-256-gcm -in big.bin -out big.ossl.cms \
    -recip rsa.crt -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256
r6=$(rss "$TOOL" decrypt --key rsa.key big.ossl.cms big.o4)
same big.bin big.o4 "medseal opens openssl's ${BIG_MB} MB streamed file (peak RSS ${r6} KiB)"
r7=$(rss "$TOOL" encrypt --strict-dicom --sign-key sig.key --sign-cert sig.crt --to ec.crt big.bin big.s.cms)
r8=$(rss "$TOOL" decrypt --key ec.key --trust sig.crt big.s.cms big.o5)
same big.bin big.o5 "strict DICOM round trip, ${BIG_MB} MB (peak RSS encrypt ${r7}, decrypt ${r8} KiB)"
rm -f big.*

# ---- real series: every slice round trips ---------------------------------------------------
n=0
for f in "$SRC"/data/cranium-ct/CT00[0-2]*.dcm; do
    "$TOOL" encrypt --to ec.crt "$f" s.cms
    "$TOOL" decrypt --key ec.key s.cms s.out 2>/dev/null
    cmp -s "$f" s.out || bad "round trip $f"
    n=$((n + 1))
done
ok "$n CT slices round trip bit-exact"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
