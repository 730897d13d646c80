#!/bin/sh
# medseal keygen / key show / key sign / key verify against the openssl CLI:
# openssl reads every key and certificate keygen writes, medseal reads what
# openssl writes, signatures verify both ways, bad key files get exit 3 or 4
# without a key byte in any message.
set -u
. "$(dirname "$0")/lib.sh"
workdir T
cd "$T" || exit 1

mode() { stat -c %a "$1"; }
fingerprint() { openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
shown() { sed -n "s/^  $1: *//p" out.txt | head -1; }
# no_leak FILE: neither its hex nor its base64 appears in out.txt/err.txt
no_leak() {
    hex=$(od -An -tx1 "$1" | tr -d ' \n' | cut -c1-16)
    b64=$(base64 -w0 "$1" | cut -c1-12)
    if grep -qi -e "$hex" -e "$b64" out.txt err.txt; then fail "key bytes of $1 printed"; else ok; fi
}

echo "secret passphrase" > pass.txt
echo "not it" > wrong.txt
printf 'medical image manifest\n' > msg

# ---- key pairs: openssl reads them ----------------------------------------------
for t in ed25519 ecdsa-p256 p256 rsa3072; do
    expect 0 "$M" keygen --type "$t" --cn "Dr. $t" --days 30 -o "$t"
    [ "$(mode "$t.key.pem")" = 600 ] && ok || fail "$t.key.pem mode $(mode "$t.key.pem")"
    [ "$(mode "$t.pub.pem")" = 644 ] && ok || fail "$t.pub.pem mode"
    head -1 "$t.key.pem" | grep -q 'BEGIN PRIVATE KEY' && ok || fail "$t: not PKCS#8 PEM"
    expect 0 openssl pkey -in "$t.key.pem" -noout
    openssl pkey -in "$t.key.pem" -pubout > o.pub
    cmp -s o.pub "$t.pub.pem" && ok || fail "$t: public key differs from openssl's"
    expect 0 "$M" key show "$t.pub.pem"
    [ "$(shown fingerprint)" = "$(fingerprint "$t.pub.pem")" ] && ok || fail "$t fingerprint"
done
for t in p256 rsa3072; do
    expect 0 openssl x509 -in "$t.cert.pem" -noout -subject
    grep -q "CN = Dr. $t" out.txt && ok || fail "$t cert subject: $(cat out.txt)"
    openssl x509 -in "$t.cert.pem" -pubkey -noout > c.pub
    cmp -s c.pub "$t.pub.pem" && ok || fail "$t: certificate key differs"
    expect 0 openssl verify -CAfile "$t.cert.pem" "$t.cert.pem"
    expect 0 openssl x509 -in "$t.cert.pem" -noout -checkend 86400
    expect 1 openssl x509 -in "$t.cert.pem" -noout -checkend $((31 * 86400))
    expect 0 "$M" key show "$t.cert.pem"
    [ "$(shown subject)" = "CN=Dr. $t" ] && ok || fail "$t key show subject"
    [ "$(shown fingerprint)" = "$(fingerprint "$t.pub.pem")" ] && ok || fail "$t cert fingerprint"
    # the certificate receives encrypted files (CMS)
    expect 0 openssl cms -encrypt -binary -aes256 -recip "$t.cert.pem" -in msg -out msg.cms
    expect 0 openssl cms -decrypt -binary -inkey "$t.key.pem" -in msg.cms -out msg.dec
    cmp -s msg msg.dec && ok || fail "$t CMS round trip"
done
[ -e ed25519.cert.pem ] && fail "ed25519 wrote a certificate by default" || ok
expect 0 "$M" keygen --type ed25519 --cert --cn Signer -o edc
expect 0 openssl x509 -in edc.cert.pem -noout

# ---- encrypted private keys ----------------------------------------------------
expect 0 "$M" keygen --type p256 --passphrase-file pass.txt -o enc
expect 0 openssl pkey -in enc.key.pem -passin file:pass.txt -noout
expect 1 openssl pkey -in enc.key.pem -passin file:wrong.txt -noout
openssl asn1parse -in enc.key.pem > asn.txt
grep -q ':scrypt' asn.txt && grep -q ':aes-256-cbc' asn.txt && ok || fail "not scrypt + AES-256-CBC"
expect 0 "$M" key show enc.key.pem
grep -q 'private key (encrypted)' out.txt && ok || fail "locked key not reported"
expect 0 "$M" key show --passphrase-file pass.txt enc.key.pem
[ "$(shown fingerprint)" = "$(fingerprint enc.pub.pem)" ] && ok || fail "unlocked fingerprint"
expect 4 "$M" key show --passphrase-file wrong.txt enc.key.pem
grep -q 'not it' err.txt && fail "passphrase printed" || ok
expect 4 "$M" key sign --key enc.key.pem -o s.sig msg
# a key openssl encrypted (PBKDF2 + AES-256-CBC) opens too
openssl genpkey -algorithm ed25519 -out o.key 2>/dev/null
openssl pkcs8 -topk8 -v2 aes-256-cbc -in o.key -passout file:pass.txt -out o.enc.key
expect 0 "$M" key sign --key o.enc.key --passphrase-file pass.txt -o o.sig msg
expect 0 openssl pkeyutl -verify -inkey o.key -rawin -in msg -sigfile o.sig

# ---- signatures both ways ---------------------------------------------------------
expect 0 "$M" key sign --key ed25519.key.pem -o ed.sig msg
expect 0 openssl pkeyutl -verify -pubin -inkey ed25519.pub.pem -rawin -in msg -sigfile ed.sig
openssl pkeyutl -sign -inkey ed25519.key.pem -rawin -in msg -out ed2.sig
expect 0 "$M" key verify --key ed25519.pub.pem --sig ed2.sig msg
expect 0 "$M" key sign --key ecdsa-p256.key.pem -o ec.sig msg
expect 0 openssl dgst -sha256 -verify ecdsa-p256.pub.pem -signature ec.sig msg
openssl dgst -sha256 -sign ecdsa-p256.key.pem -out ec2.sig msg
expect 0 "$M" key verify --key ecdsa-p256.pub.pem --sig ec2.sig msg
expect 0 "$M" key sign --key rsa3072.key.pem -o rsa.sig msg
expect 0 openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
    -verify rsa3072.pub.pem -signature rsa.sig msg
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sign rsa3072.key.pem -out rsa2.sig msg
expect 0 "$M" key verify --key rsa3072.cert.pem --sig rsa2.sig msg
# ...and failures: other key, changed message, changed signature
expect 4 "$M" key verify --key p256.cert.pem --sig ec2.sig msg
printf 'medical image manifesT\n' > msg2
expect 4 "$M" key verify --key ecdsa-p256.pub.pem --sig ec2.sig msg2
expect 4 "$M" key verify --key ed25519.pub.pem --sig rsa.sig msg
/usr/bin/python3 -c "import sys; d=bytearray(open('ed.sig','rb').read()); d[10]^=1; open('bad.sig','wb').write(d)"
expect 4 "$M" key verify --key ed25519.pub.pem --sig bad.sig msg
expect 3 "$M" key sign --key ed25519.pub.pem -o x.sig msg
expect 3 "$M" key sign --key msg -o x.sig msg

# ---- symmetric keys ------------------------------------------------------------------
expect 0 "$M" keygen --symmetric -o s.key
[ "$(mode s.key)" = 600 ] && ok || fail "s.key mode"
head -1 s.key | grep -qx 'medseal-key v1' && ok || fail "s.key first line"
check=$(sed -n 's/^check: //p' out.txt)
expect 0 "$M" key show s.key
[ "$(shown check)" = "$check" ] && ok || fail "check value differs"
no_leak s.key
# check value = first 8 bytes of HMAC-SHA256(key, "medseal key check")
sed -n 's/^key: //p' s.key | base64 -d > s.raw
hexkey=$(od -An -tx1 s.raw | tr -d ' \n')
want=$(printf 'medseal key check' | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" \
       | sed 's/.*= //' | cut -c1-16)
[ "$want" = "$check" ] && ok || fail "check value $check, openssl says $want"
expect 0 "$M" keygen --symmetric --raw -o r.bin
[ "$(stat -c %s r.bin)" = 32 ] && ok || fail "raw key size"
openssl rand -out k.bin 32
expect 0 "$M" key show k.bin
grep -q '32 raw bytes' out.txt && ok || fail "raw key not recognised"
no_leak k.bin
head -c 31 k.bin > k31.bin
expect 3 "$M" key show k31.bin
grep -q '31 bytes' err.txt && ok || fail "31-byte message: $(cat err.txt)"
no_leak k31.bin
head -c 33 /dev/urandom > k33.bin
expect 3 "$M" key show k33.bin
no_leak k33.bin
openssl rand -hex 32 > khex.txt
expect 3 "$M" key show khex.txt
grep -q 'xxd -r -p' err.txt && ok || fail "hex hint missing"
no_leak khex.txt
# one changed base64 character in the key line: the check value catches it
sed 's/^\(key: ...\)\(.\)/\1#\2/; s/^key: \(...\)#A/key: \1B/; s/^key: \(...\)#[^A]/key: \1A/' \
    s.key > s2.key
cmp -s s.key s2.key && fail "corruption did not change the file" || ok
expect 4 "$M" key show s2.key
grep -q 'check value' err.txt && ok || fail "corrupted key message: $(cat err.txt)"
no_leak s2.key
awk '/^check: /{c=substr($2,1,1); $2=(c=="0"?"1":"0") substr($2,2)} {print}' s.key > s3.key
expect 4 "$M" key show s3.key

# ---- usage and existing files ------------------------------------------------------------
expect 2 "$M" keygen
expect 2 "$M" keygen --type dsa -o x
expect 2 "$M" keygen --type ed25519
expect 2 "$M" keygen --symmetric --type ed25519 -o x
expect 2 "$M" keygen --symmetric --passphrase-file pass.txt -o x
expect 2 "$M" keygen --type p256 --days 0 -o x
expect 2 "$M" keygen --symmetric -o s.key
expect 0 "$M" keygen --symmetric --force -o s.key
expect 2 "$M" keygen --type ed25519 -o ed25519
expect 2 "$M" key
expect 2 "$M" key show
expect 2 "$M" key frobnicate
expect 5 "$M" key show missing.pem
expect 5 "$M" keygen --type ed25519 -o /nonexistent-dir/k
expect 0 "$M" keygen --help
expect 0 "$M" key --help

finish keygen
