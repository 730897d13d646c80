#!/bin/sh
# Regression files of tests/data/malformed/armor/ (see its README.md):
# `medseal unprotect` of --armor text as text channels deliver it. CRLF line
# ends, trailing blanks and a missing last line end are accepted (bit-exact
# result); damaged text is refused with exit 3, a changed character with 4
# (the GCM tag), each with a one-line error naming the file and no output.
# Also a fresh round trip through `sed 's/$/\r/'` on a whole series.
# Environment: MEDSEAL (the program), MEDSEAL_SRC.
set -u
. "$(dirname "$0")/lib.sh"
DIR=$SRC/tests/data/malformed/armor
S=$SRC/data/cranium-ct
workdir work
cd "$work" || exit 1

# file:exit code
EXPECTED="
good_lf.pem:0
crlf.pem:0
crlf_some_lines.pem:0
trailing_blanks.pem:0
no_final_newline.pem:0
cr_only.pem:3
no_end_line.pem:3
cut_in_line.pem:3
not_base64_char.pem:3
line_too_long.pem:3
nul_in_line.pem:3
blank_before_begin.pem:3
changed_character.pem:4
"

for f in "$DIR"/*.pem; do
    name=$(basename "$f")
    case $name in doctor.*) continue ;; esac
    case $EXPECTED in *"
$name:"*) ;; *) fail "$name is not in this test's list" ;; esac
    grep -q "^| $name |" "$DIR/README.md" && ok || fail "$name is not described in README.md"
done
for e in $EXPECTED; do
    name=${e%:*}
    want=${e#*:}
    expect "$want" "$M" -q unprotect --key "$DIR/doctor.key.pem" "$DIR/$name" -o "out-$name.dcm"
    if [ "$want" -eq 0 ]; then
        cmp -s "out-$name.dcm" "$DIR/original.dcm" && ok || fail "$name: not restored bit-exact"
    else
        [ "$(wc -l <err.txt)" -eq 1 ] && ok || fail "$name: error is not one line: $(cat err.txt)"
        grep -q "^medseal: .*$name: " err.txt && ok || fail "$name: error does not name the file"
        [ -e "out-$name.dcm" ] && fail "$name: output left behind" || ok
    fi
done
[ -z "$(ls -A "$DIR" | grep -v -e '\.pem$' -e '^original\.dcm$' -e '^README\.md$')" ] && ok ||
    fail "unexpected files in $DIR"

# a whole series, armored, then through CRLF and trailing blanks
"$M" -q keygen --type p256 --cn doctor -o doc >/dev/null
expect 0 "$M" -q protect --armor --to doc.cert.pem "$S" -o arm
mkdir armcr
for f in arm/*; do
    sed 's/$/ \r/' "$f" >"armcr/$(basename "$f")"
done
expect 0 "$M" -q unprotect --key doc.key.pem armcr -o back
diff -r "$S" back >/dev/null && ok || fail "CRLF series round trip differs"

# the Base64 re-wrapped at other widths (mail: 76; an odd one: 50), and one that
# leaves a padded group in the middle (refused)
f=$(ls arm | head -n 1)
for w in 76 50 4; do
    { head -n 1 "arm/$f"; sed '1d;$d' "arm/$f" | tr -d '\n' | fold -w $w; echo; tail -n 1 "arm/$f"; } >"w$w.pem"
    expect 0 "$M" -q unprotect --key doc.key.pem "w$w.pem" -o "w$w.dcm"
    cmp -s "w$w.dcm" "$S/${f%.p7m}" && ok || fail "armor re-wrapped at $w columns"
done
{ head -n 1 "arm/$f"; echo "QQ=="; sed '1d' "arm/$f"; } >padmid.pem
{ head -n 1 "arm/$f"; echo "QQ==QUJD"; sed '1d' "arm/$f"; } >padinline.pem
expect 3 "$M" unprotect --key doc.key.pem padinline.pem -o padinline.dcm
grep -q "not Base64" err.txt && ok || fail "padding inside a line: $(cat err.txt)"
expect 3 "$M" unprotect --key doc.key.pem padmid.pem -o padmid.dcm
[ ! -e padmid.dcm ] && ok || fail "a refused armor left its output"

finish armor
