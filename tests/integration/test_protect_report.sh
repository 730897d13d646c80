#!/bin/sh
# The summary of `medseal protect` / `unprotect` tells the truth about sizes
# and compression (issue 5 audit): the --compress step and cbc-slices' own
# zlib of the pixel data are reported on separate lines, each with its own
# ratio, never "(null)" and never one added to the other; "MB in" and "MB out"
# count every file read and written (cbc-slices: the index and its parts;
# --armor: the Base64 file). Figures are checked against the sizes on disk.
# Environment: MEDSEAL (the program), MEDSEAL_SRC.
set -u
. "$(dirname "$0")/lib.sh"
S=$SRC/data/cranium-ct
workdir work
cd "$work" || exit 1

mb() { # mb PATH...: total size in MB as the summary prints it
    du -cb "$@" | tail -1 | awk '{ printf "%.1f", $1 / 1e6 }'
}
has() { # has PATTERN what: err.txt has a line matching the extended regex
    grep -Eq -- "$1" err.txt && ok || fail "$2: no line /$1/ in: $(cat err.txt)"
}
hasnt() { # hasnt PATTERN what
    grep -Eq -- "$1" err.txt && fail "$2: /$1/ in: $(grep -E -- "$1" err.txt | head -3)" || ok
}
ratio_of() { # ratio_of PATTERN: the ratio printed on the line matching PATTERN
    grep -E -- "$1" err.txt | sed -n 's/.*(ratio \([0-9.]*\)).*/\1/p' | head -1
}
between() { # between VALUE LOW HIGH what
    awk -v v="$1" -v a="$2" -v b="$3" 'BEGIN { exit !(v != "" && v >= a && v <= b) }' &&
        ok || fail "$4: $1 not in [$2, $3]"
}

openssl rand -out k.bin 32
"$M" -q keygen --type p256 --cn doctor -o doc >/dev/null
in_mb=$(mb "$S")

# ---- cbc-slices without --compress: its own zlib only --------------------------------------------
expect 0 "$M" protect --scheme cbc-slices -k k.bin "$S" -o cb
hasnt "\(null\)" "cbc-slices protect"
hasnt "--compress" "cbc-slices protect without --compress"
has "^pixel data compressed by cbc-slices itself: .* \(ratio" "cbc-slices protect"
between "$(ratio_of 'by cbc-slices itself')" 1.5 2.5 "cbc-slices zlib ratio"
has "^protected 108 of 108 .*: $in_mb MB in, $(mb cb) MB out" "cbc-slices protect sizes"
grep "note:" err.txt | sed -n 's/.*compressed to \([0-9.]*\)%.*/\1/p' >pct.txt
# notes are grouped: at most 3 shown, then how many more (not 108 lines)
[ "$(wc -l <pct.txt)" -eq 3 ] && ok || fail "cbc-slices: $(wc -l <pct.txt) notes shown, 3 expected"
has "^medseal: and notes on 105 more file" "cbc-slices: the notes not shown are counted"
awk '$1 <= 0 || $1 >= 100 { bad = 1 } END { exit bad }' pct.txt && ok ||
    fail "cbc-slices note outside (0, 100)%: $(sort -n pct.txt | tail -1)"
expect 0 "$M" unprotect -k k.bin cb -o cbr
hasnt "\(null\)" "cbc-slices unprotect"
hasnt "--compress" "cbc-slices unprotect without --compress"
# the parts are read too: not "0.0 MB in"
has "^unprotected 108 of 108 .*: $(mb cb) MB in, $in_mb MB out" "cbc-slices unprotect sizes"
has "^pixel data decompressed by cbc-slices itself: " "cbc-slices unprotect"
diff -r "$S" cbr >/dev/null && ok || fail "cbc-slices round trip"

# ---- --compress rle: the same ratio whatever the scheme; cbc-slices' zlib apart -------------------
expect 0 "$M" protect --compress rle --to doc.cert.pem "$S" -o cm
hasnt "\(null\)" "cms --compress rle"
has "^compressed with rle \(--compress\) before protection: $in_mb MB to [0-9.]+ MB \(ratio" \
    "cms --compress rle"
rle=$(ratio_of "with rle")
between "$rle" 1.5 2.0 "RLE ratio on the bundled CT"
has "^protected 108 of 108 .*: $in_mb MB in, $(mb cm) MB out" "cms --compress sizes"
expect 0 "$M" protect --compress rle --scheme cbc-slices -k k.bin "$S" -o cb2
hasnt "\(null\)" "cbc-slices --compress rle"
[ "$(ratio_of 'with rle')" = "$rle" ] && ok ||
    fail "cbc-slices changed the --compress ratio: $(ratio_of 'with rle'), cms gave $rle"
has "^pixel data compressed by cbc-slices itself: " "cbc-slices --compress rle"
# the index and every part, not the index alone
has "^protected 108 of 108 .*: $in_mb MB in, $(mb cb2) MB out" "cbc-slices --compress sizes"
grep "note:" err.txt | sed -n 's/.*compressed to \([0-9.]*\)%.*/\1/p' >pct.txt
awk '$1 <= 0 || $1 > 110 { bad = 1 } END { exit bad }' pct.txt && ok ||
    fail "cbc-slices --compress note counts both compressions: $(sort -n pct.txt | tail -1)%"
expect 0 "$M" unprotect -k k.bin cb2 -o cb2r
hasnt "\(null\)" "cbc-slices --compress unprotect"
has "^decompressed from rle \(--compress at protection\) after unprotection: [0-9.]+ MB to $in_mb MB \(ratio $rle\)" \
    "cbc-slices --compress unprotect"
has "^unprotected 108 of 108 .*: $(mb cb2) MB in, $in_mb MB out" "cbc-slices --compress unprotect sizes"
diff -r "$S" cb2r >/dev/null && ok || fail "cbc-slices --compress round trip"
expect 0 "$M" unprotect --key doc.key.pem cm -o cmr
has "^decompressed from rle .*\(ratio $rle\)" "cms --compress unprotect"
hasnt "by cms itself" "cms has no compression of its own"

# ---- no compression at all: no compression line ------------------------------------------------
expect 0 "$M" protect --to doc.cert.pem "$S/CT0001.dcm" -o one.p7m
hasnt "compress" "cms without --compress"
# --armor: the Base64 file is what is written, and read
expect 0 "$M" protect --armor --compress deflate --to doc.cert.pem "$S/CT0001.dcm" -o a.pem
has "^protected 1 of 1 .*: $(mb "$S/CT0001.dcm") MB in, $(mb a.pem) MB out" "--armor sizes"
has "^compressed with deflate " "--armor --compress deflate"
expect 0 "$M" unprotect --key doc.key.pem a.pem -o a.dcm
has "^unprotected 1 of 1 .*: $(mb a.pem) MB in, " "--armor unprotect sizes"
has "^decompressed from deflate " "--armor --compress deflate unprotect"

finish protect-report
