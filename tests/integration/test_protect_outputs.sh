#!/bin/sh
# Output names of the commands that write one output per input file
# (protect, unprotect, transcode, sign -o), docs/protect.md "Inputs and
# output names": one directory is mirrored into OUT; several inputs each keep
# their own name under OUT (a directory as OUT/NAME/...); two inputs that
# would be written to the same output are refused with exit 2 before anything
# is written, instead of one silently replacing the other.
# Environment: MEDSEAL (the program), MEDSEAL_SRC.
set -u
. "$(dirname "$0")/lib.sh"
S=$SRC/data/cranium-ct
workdir work
cd "$work" || exit 1

absent() { # absent PATH what
    if [ -e "$1" ]; then fail "$2: $1 was written"; else ok; fi
}
same() { # same A B what
    if cmp -s "$1" "$2"; then ok; else fail "$3: $1 differs from $2"; fi
}
refused() { # refused OUT what (after expect 2): the message names the clash
    grep -q "would both be written to" err.txt && ok || fail "$2: no clear message: $(cat err.txt)"
    [ "$(wc -l <err.txt)" -eq 1 ] && ok || fail "$2: the error is not one line"
    absent "$1" "$2"
}

"$M" -q keygen --type p256 --cn doctor -o doc >/dev/null
mkdir -p d1 d2 a/scan b/scan nest/s1 nest/s2
cp "$S/CT0001.dcm" d1/x.dcm
cp "$S/CT0002.dcm" d2/x.dcm
cp "$S/CT0003.dcm" d2/y.dcm
cp "$S/CT0004.dcm" a/scan/x.dcm
cp "$S/CT0005.dcm" b/scan/x.dcm
cp "$S/CT0006.dcm" nest/s1/x.dcm
cp "$S/CT0007.dcm" nest/s2/x.dcm

# ---- several directories: each under OUT by its own name, nothing lost ---------------------
expect 0 "$M" protect --to doc.cert.pem d1 d2 -o multi
grep -q "protected 3 of 3" err.txt && ok || fail "several directories: $(cat err.txt)"
for f in multi/d1/x.dcm.p7m multi/d2/x.dcm.p7m multi/d2/y.dcm.p7m; do
    [ -f "$f" ] && ok || fail "several directories: $f missing"
done
expect 0 "$M" -q unprotect --key doc.key.pem multi -o back
same back/d1/x.dcm d1/x.dcm "several directories round trip"
same back/d2/x.dcm d2/x.dcm "several directories round trip"
expect 0 "$M" -q unprotect --key doc.key.pem multi/d1 multi/d2 -o back2
same back2/d1/x.dcm d1/x.dcm "unprotect of several directories"
same back2/d2/y.dcm d2/y.dcm "unprotect of several directories"

# a directory and a file together; "." named by its real path
expect 0 "$M" -q protect --to doc.cert.pem d1 d2/y.dcm -o mixed
[ -f mixed/d1/x.dcm.p7m ] && [ -f mixed/y.dcm.p7m ] && ok || fail "directory + file: $(find mixed)"
(cd d2 && "$M" -q protect --to ../doc.cert.pem . ../d1 -o ../dot) && ok || fail "protect . ../d1"
[ -f dot/d2/x.dcm.p7m ] && [ -f dot/d1/x.dcm.p7m ] && ok || fail "'.' not named d2: $(find dot)"

# one directory: mirrored into OUT itself, as before
expect 0 "$M" -q protect --to doc.cert.pem nest -o one
[ -f one/s1/x.dcm.p7m ] && [ -f one/s2/x.dcm.p7m ] && ok || fail "one directory: $(find one)"

# ---- clashes: refused, exit 2, nothing written ------------------------------------------------
expect 2 "$M" protect --to doc.cert.pem d1/x.dcm d2/x.dcm -o c1
refused c1 "two files of the same name"
expect 2 "$M" protect --to doc.cert.pem a/scan b/scan -o c2
refused c2 "two directories of the same name"
expect 2 "$M" protect --to doc.cert.pem d1/x.dcm d1/x.dcm -o c3
refused c3 "a file given twice"
mkdir c5
openssl rand -out k.bin 32
expect 2 "$M" protect --scheme pixel-gcm -k k.bin d1/x.dcm d2/x.dcm -o c5
[ -z "$(ls c5)" ] && ok || fail "refusal wrote into an existing OUT: $(ls c5)"
grep -q "d1/x.dcm and d2/x.dcm" err.txt && ok || fail "the message does not name both inputs"
# unprotect: names that clash once the suffix is taken off
mkdir arm
cp multi/d1/x.dcm.p7m arm/x.dcm.p7m
"$M" -q protect --armor --to doc.cert.pem d2/x.dcm -o arm/x.dcm.p7m.pem
expect 2 "$M" unprotect --key doc.key.pem arm -o c6
refused c6 "unprotect: x.dcm.p7m and x.dcm.p7m.pem"
expect 2 "$M" unprotect --key doc.key.pem multi/d1/x.dcm.p7m multi/d2/x.dcm.p7m -o c7
refused c7 "unprotect: two files of the same name"

# ---- transcode: mirrors trees (it used to flatten them), refuses clashes ------------------------
expect 0 "$M" -q transcode --to rle nest -o tn
[ -f tn/s1/x.dcm ] && [ -f tn/s2/x.dcm ] && ok || fail "transcode did not mirror: $(find tn)"
expect 0 "$M" -q transcode --to explicit tn -o te
same te/s1/x.dcm nest/s1/x.dcm "transcode tree round trip"
same te/s2/x.dcm nest/s2/x.dcm "transcode tree round trip"
expect 2 "$M" transcode --to rle d1/x.dcm d2/x.dcm -o tc
refused tc "transcode: two files of the same name"

# ---- sign -o: two files of the same base name -------------------------------------------------
"$M" -q keygen --type ecdsa-p256 --cert --cn signer -o sig >/dev/null
expect 2 "$M" sign --key sig.key.pem --cert sig.cert.pem -o sc d1/x.dcm d2/x.dcm
refused sc "sign -o: two files of the same name"

# ---- an output onto its own input: refused, the input untouched -------------------------------
mkdir inplace
cp "$S/CT0001.dcm" inplace/x.dcm
"$M" keygen --symmetric -o sym.key >/dev/null
for scheme in pixel-gcm chaos; do
    expect 2 "$M" protect --scheme $scheme -k sym.key inplace -o inplace
    grep -q "would overwrite the input" err.txt && ok || fail "$scheme -o INPUT: $(cat err.txt)"
    same inplace/x.dcm "$S/CT0001.dcm" "$scheme -o onto the input"
    [ "$(ls inplace)" = "x.dcm" ] && ok || fail "$scheme -o onto the input left: $(ls inplace)"
done
expect 2 "$M" protect --scheme pixel-gcm -k sym.key inplace/x.dcm -o ./inplace/../inplace/x.dcm
same inplace/x.dcm "$S/CT0001.dcm" "-o the input file by another path"
expect 2 "$M" transcode --to rle inplace/x.dcm -o inplace/x.dcm
same inplace/x.dcm "$S/CT0001.dcm" "transcode -o the input"

# a key file that cannot be read: one error for the run, not one per file, nothing written
"$M" protect --scheme pixel-gcm -k missing.key "$S" -o nokey >out.txt 2>err.txt
[ $? -eq 5 ] && ok || fail "missing key file: exit $?"
[ "$(wc -l <err.txt)" -eq 1 ] && grep -q "missing.key" err.txt && ok || fail "missing key file: $(head -3 err.txt)"
absent nokey "missing key file"
printf 'medseal-key v1\nnot a key\n' > bad.key
expect 3 "$M" protect --scheme pixel-gcm -k bad.key "$S" -o badkey
[ "$(wc -l <err.txt)" -eq 1 ] && ok || fail "malformed key file: $(head -3 err.txt)"
absent badkey "malformed key file"

finish protect-outputs
