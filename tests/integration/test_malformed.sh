#!/bin/sh
# Regression files of tests/data/malformed/: `medseal dump` (text, text
# with --max-chars 100000, and --json) must reject each one with exit code 3 and a one-line error on
# stderr naming the file, or, for the tolerated files listed below, read it
# (exit 0, nothing on stderr with --quiet). Never a crash (exit >= 128) nor a
# hang. Every file must be described in tests/data/malformed/README.md.
set -u
. "$(dirname "$0")/lib.sh"
DIR=$SRC/tests/data/malformed
workdir TMP

# Files with tolerable defects (warnings), and files that are well-formed
# regression inputs of writer/JSON bugs: exit 0.
TOLERATED="
be_first_group_above_00ff.dcm
charset_utf8_ill_formed.dcm
dicm_without_preamble.dcm
fragments_in_native_syntax.dcm
fragments_private_tag.dcm
item_ended_by_sequence_delimiter.dcm
item_longer_than_sequence.dcm
json_ds_leading_dot.dcm
long_lt_value.dcm
lying_group_length.dcm
meta_implicit_vr.dcm
meta_without_transfer_syntax.dcm
nesting_64_undefined_ok.dcm
no_meta_implicit.dcm
odd_length_big_endian_ow.dcm
odd_length_pn.dcm
odd_length_us.dcm
out_of_order_and_duplicate.dcm
protect_item_past_end.dcm
protect_ybr_full_422.dcm
sequence_delimiter_at_top_level.dcm
syntax_explicit_data_implicit.dcm
trailing_garbage.dcm
truncated_meta_header.dcm
truncated_trailing_header.dcm
un_undefined_length_sequence.dcm
unknown_transfer_syntax.dcm
validate_value_with_newline.dcm
wrong_vr_fd_for_us.dcm
wrong_vr_not_letters.dcm
wrong_vr_sq_for_ui.dcm
wrong_vr_ui_for_sq.dcm
wrong_vr_unknown_letters.dcm
"

rejected=0 tolerated=0

is_tolerated() {
    case "$TOLERATED" in *"
$1
"*) return 0 ;; esac
    return 1
}

[ -x "$M" ] || { echo "no medseal program at $M" >&2; exit 1; }
for t in $TOLERATED; do
    [ -f "$DIR/$t" ] || fail "$t is listed as tolerated but does not exist"
done

for f in "$DIR"/*.dcm; do
    name=$(basename "$f")
    grep -q "$name" "$DIR/README.md" || fail "$name is not described in README.md"
    for mode in text long json; do
        opt=""
        [ $mode = long ] && opt="--max-chars 100000"
        [ $mode = json ] && opt="--json"
        # shellcheck disable=SC2086
        timeout 120 "$M" --quiet dump $opt "$f" >/dev/null 2>"$TMP/err"
        rc=$?
        lines=$(wc -l <"$TMP/err")
        if [ $rc -ge 124 ]; then
            fail "$name ($mode): crashed or hung, exit code $rc"
            sed 's/^/    /' "$TMP/err" | head -20 >&2
        elif is_tolerated "$name"; then
            [ $rc -eq 0 ] || fail "$name ($mode): exit code $rc, expected 0 (tolerated)"
            [ "$lines" -eq 0 ] || fail "$name ($mode): stderr not empty: $(head -c 300 "$TMP/err")"
        else
            [ $rc -eq 3 ] || fail "$name ($mode): exit code $rc, expected 3 (malformed)"
            [ "$lines" -eq 1 ] || fail "$name ($mode): $lines lines on stderr, expected one"
            grep -q "^medseal: .*$name: " "$TMP/err" ||
                fail "$name ($mode): the error does not name the file: $(head -c 300 "$TMP/err")"
        fi
    done
    if is_tolerated "$name"; then
        tolerated=$((tolerated + 1))
    else
        rejected=$((rejected + 1))
        [ "${VERBOSE:-0}" = 1 ] && cat "$TMP/err"
    fi
done

echo "malformed: $((rejected + tolerated)) files: $rejected rejected (exit 3), $tolerated tolerated (exit 0), $failures failures"
[ $failures -eq 0 ]
