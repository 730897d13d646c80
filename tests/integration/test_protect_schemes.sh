#!/bin/sh
# medseal protect / unprotect with the pixel-gcm, chaos, ecb, cbc-slices, otp
# and stego schemes on the whole bundled CT series (108 files, both cores):
# every round trip compared with diff -r / cmp, the protected DICOM outputs
# read by dcmdump and pydicom (same geometry, pixels turned to noise), and
# the exit codes and missing outputs of the refusals (docs/exit-codes.md).
# Environment: MEDSEAL (the program), MEDSEAL_SRC.
set -u
. "$(dirname "$0")/lib.sh"
series=$SRC/data/cranium-ct
workdir work

same_dir() { # same_dir A B what
    if diff -r "$1" "$2" >/dev/null; then ok; else fail "$3: $1 and $2 differ"; fi
}

absent() { # absent PATH what
    if [ -e "$1" ]; then fail "$2: $1 left behind"; else ok; fi
}

cd "$work" || exit 1
openssl rand -out k.bin 32
openssl rand -out k2.bin 32
printf 'series stego key\n' >stego.txt
printf 'not the key\n' >stego2.txt

# ---- round trips on the whole series ------------------------------------------------
rt() { # rt NAME protect-options... -- unprotect-options...
    name=$1
    shift
    popts=""
    while [ "$1" != "--" ]; do popts="$popts $1"; shift; done
    shift
    # shellcheck disable=SC2086
    expect 0 "$M" --quiet protect $popts "$series" -o "p_$name"
    # shellcheck disable=SC2086
    expect 0 "$M" --quiet unprotect "$@" "p_$name" -o "r_$name"
    same_dir "$series" "r_$name" "$name round trip"
}

rt gcm --scheme pixel-gcm -k k.bin -- -k k.bin
rt gcmhdr --scheme pixel-gcm --key-from-header --
rt chaos --scheme chaos --
rt chaos2 --scheme chaos --x0 0.3141592653 --mu 3.99 -- --x0 0.3141592653 --mu 3.99
rt ecb --scheme ecb --i-know -k k.bin -- -k k.bin
rt cbcs --scheme cbc-slices --slices 6 -k k.bin -- -k k.bin
rt otp --scheme otp --otp-store pads -- --otp-store pads
rt stegohb --scheme stego --stego-mode highbits --stego-key-file stego.txt -- --stego-key-file stego.txt

# one file, one output name
expect 0 "$M" protect --scheme pixel-gcm -k k.bin "$series/CT0050.dcm" -o one.dcm
expect 0 "$M" unprotect -k k.bin one.dcm -o one_back.dcm
if cmp -s one_back.dcm "$series/CT0050.dcm"; then ok; else fail "single file round trip"; fi
[ "$(ls p_cbcs | wc -l)" -eq $((108 * 7)) ] && ok || fail "cbc-slices: 108 indexes + 6 parts each"

# lsb stego: lossy, PSNR reported, header exact
expect 0 "$M" protect --scheme stego --stego-key-file stego.txt "$series/CT0001.dcm" -o lsb.dcm
grep -q "PSNR" err.txt && ok || fail "stego lsb: no PSNR in the note"
expect 0 "$M" unprotect --stego-key-file stego.txt lsb.dcm -o lsb_back.dcm
if cmp -s lsb_back.dcm "$series/CT0001.dcm"; then fail "stego lsb cannot be exact here"; else ok; fi

# ---- outputs are DICOM files that dcmdump and pydicom read ---------------------------
for s in gcm chaos ecb otp stegohb; do
    if dcmdump -q "p_$s/CT0010.dcm" >/dev/null 2>&1; then ok; else fail "dcmdump cannot read p_$s"; fi
done
dcmdump "p_gcm/CT0010.dcm" 2>/dev/null | grep -q "MEDSEAL PROTECT 1" && ok || fail "no private creator"
"$PY" - "$series/CT0010.dcm" p_gcm/CT0010.dcm p_chaos/CT0010.dcm p_ecb/CT0010.dcm \
    p_stegohb/CT0010.dcm p_otp/CT0010.dcm <<'EOF' && ok || fail "pydicom checks"
import sys
import numpy as np
import pydicom
orig = pydicom.dcmread(sys.argv[1])
a = orig.pixel_array.astype(np.float64)
for path in sys.argv[2:]:
    ds = pydicom.dcmread(path)
    b = ds.pixel_array.astype(np.float64)
    assert b.shape == a.shape, path
    creator = ds[0x7FD1, 0x0010].value
    assert creator == "MEDSEAL PROTECT 1", (path, creator)
    if path.startswith("p_otp"):
        assert str(ds.PatientName) == "" and np.array_equal(a, b), path
        continue
    r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    assert abs(r) < 0.1, (path, r)  # noise, not the anatomy
print("pydicom ok")
EOF

# ---- interop: the paper's key derivation and plain ECB match other tools --------------
cat >legacy.cnf <<'EOF2'
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
EOF2
OPENSSL_CONF=$work/legacy.cnf "$PY" - "$series/CT0010.dcm" p_gcmhdr/CT0010.dcm <<'EOF2' && ok || fail "pixel-gcm --key-from-header differs from Whirlpool + AESGCM in Python"
import hashlib, sys
import pydicom
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
a, b = pydicom.dcmread(sys.argv[1]), pydicom.dcmread(sys.argv[2])
d = hashlib.new("whirlpool", str(a.SOPInstanceUID).encode() + str(a.PatientName).encode()).digest()
ct = AESGCM(d[:32]).encrypt(d[32:44], a.PixelData, None)[:-16]
assert ct == b.PixelData
EOF2
"$PY" -c "import pydicom,sys; sys.stdout.buffer.write(pydicom.dcmread(sys.argv[1]).PixelData)" \
    "$series/CT0010.dcm" >plain.bin
"$PY" -c "import pydicom,sys; sys.stdout.buffer.write(pydicom.dcmread(sys.argv[1]).PixelData)" \
    p_ecb/CT0010.dcm >ecb.bin
openssl enc -aes-256-ecb -nopad -K "$(od -An -tx1 k.bin | tr -d ' \n')" -in plain.bin -out ossl.bin
if cmp -s ecb.bin ossl.bin; then ok; else fail "ecb differs from openssl enc -aes-256-ecb"; fi

# ---- refusals: exit codes, no output -------------------------------------------------
expect 4 "$M" unprotect -k k2.bin one.dcm -o x1.dcm
absent x1.dcm "wrong key"
cp one.dcm t.dcm
printf '\001' | dd of=t.dcm bs=1 seek=$(($(stat -c %s t.dcm) - 77)) conv=notrunc 2>/dev/null
expect 4 "$M" unprotect -k k.bin t.dcm -o x2.dcm
absent x2.dcm "tampered pixel-gcm"
head -c 2000 one.dcm >trunc.dcm
expect 3 "$M" unprotect -k k.bin trunc.dcm -o x3.dcm
absent x3.dcm "truncated"
expect 3 "$M" unprotect -k k.bin "$series/CT0001.dcm" -o x4.dcm
absent x4.dcm "not protected"
expect 2 "$M" protect --scheme ecb -k k.bin "$series/CT0001.dcm" -o x5.dcm
absent x5.dcm "ecb without --i-know"
expect 2 "$M" protect --scheme no-such "$series/CT0001.dcm" -o x6.dcm
expect 2 "$M" protect --scheme pixel-gcm "$series/CT0001.dcm" -o x7.dcm
absent x7.dcm "no key"
expect 4 "$M" unprotect --x0 0.5 p_chaos/CT0002.dcm -o x8.dcm
absent x8.dcm "chaos wrong key"
rm p_cbcs/CT0003.dcm.cbcs.part4.enc
expect 4 "$M" unprotect -k k.bin p_cbcs/CT0003.dcm.cbcs -o x9.dcm
absent x9.dcm "missing part"
cp p_cbcs/CT0004.dcm.cbcs.part2.enc p_cbcs/CT0005.dcm.cbcs.part2.enc
expect 4 "$M" unprotect -k k.bin p_cbcs/CT0005.dcm.cbcs -o x10.dcm
absent x10.dcm "swapped part"
expect 4 "$M" unprotect --otp-store pads p_otp/CT0006.dcm -o x11.dcm
absent x11.dcm "otp reuse"
expect 4 "$M" unprotect --stego-key-file stego2.txt p_stegohb/CT0007.dcm -o x12.dcm
absent x12.dcm "wrong stego key"
expect 3 "$M" protect --scheme pixel-gcm -k k.bin one.dcm -o twice.dcm
absent twice.dcm "protected twice"
# a directory with failures: highest exit code, good files still restored
expect 4 "$M" --quiet unprotect -k k.bin p_cbcs -o r_cbcs2
[ "$(ls r_cbcs2 | wc -l)" -eq 106 ] && ok || fail "directory with two bad files"

finish protect-schemes
