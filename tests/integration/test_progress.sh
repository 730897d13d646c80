#!/bin/sh
# The progress bar of `medseal protect` / `unprotect` on a directory (issue 5:
# "show progress on a tty"). util-linux `script` (Debian: bsdutils) gives the
# command a pseudo-terminal: the bar is drawn on standard error when that is a
# terminal, ends with a line break before the summary, and is never written
# when standard error goes to a file or a pipe (logs stay free of "\r"
# redraws), nor with --quiet. Standard output redirected alone does not hide
# it: it is drawn on standard error, as git, curl and rsync do.
# Environment: MEDSEAL (the program), MEDSEAL_SRC.
set -u
. "$(dirname "$0")/lib.sh"
S=$SRC/data/cranium-ct
command -v script >/dev/null ||
    { echo "FAIL: no 'script' (util-linux; Debian package bsdutils): run tools/install-deps.sh" >&2; exit 1; }
workdir work
cd "$work" || exit 1

n=$(ls "$S" | wc -l)
on_tty() { # on_tty SCREEN COMMAND-LINE: run it on a pseudo-terminal; what it showed goes to SCREEN
    script -qec "$2" /dev/null </dev/null >"$1" 2>&1
}
bar() { # bar LABEL FILE: FILE holds the finished bar of LABEL
    grep -Eaq "$1 \[#{30}\] $n/$n" "$2"
}
no_bar() { # no_bar FILE what (a terminal ends lines with "\r\n": only a lone "\r" redraws)
    if grep -aq '\[#' "$1" || sed 's/\r$//' "$1" | grep -aq "$(printf '\r')"; then
        fail "$2: a progress bar in $1: $(head -c 200 "$1" | od -c | head -3)"
    else ok; fi
}

"$M" -q keygen --type p256 --cn doctor -o doc >/dev/null
P="'$M' protect --to doc.cert.pem '$S'"
U="'$M' unprotect --key doc.key.pem"

# ---- on a terminal: drawn, finished, then the summary on its own line ---------------------------
on_tty t1.txt "$P -o p1" && ok || fail "protect on a terminal: $(tail -c 300 t1.txt)"
bar protect t1.txt && ok || fail "protect on a terminal: no bar: $(tail -c 300 t1.txt)"
[ "$(grep -ac "$(printf '\r')protect \[" t1.txt)" -ge 1 ] && ok || fail "the bar is not redrawn in place"
tr '\r' '\n' <t1.txt | grep -aq "^protected $n of $n file(s)" && ok ||
    fail "the summary does not start a line of its own: $(tail -c 300 t1.txt | od -c | tail -5)"
[ "$(ls p1 | wc -l)" -eq "$n" ] && ok || fail "protect on a terminal: not every file written"
on_tty t2.txt "$U p1 -o r1" && ok || fail "unprotect on a terminal"
bar unprotect t2.txt && ok || fail "unprotect on a terminal: no bar: $(tail -c 300 t2.txt)"
diff -r "$S" r1 >/dev/null && ok || fail "round trip on a terminal differs"

# ---- standard error not a terminal: no bar, anywhere -------------------------------------------
on_tty t3.txt "$P -o p3 2>err3.txt" && ok || fail "protect 2>file on a terminal"
no_bar err3.txt "standard error to a file"
no_bar t3.txt "standard error to a file (screen)"
grep -q "^protected $n of $n" err3.txt && ok || fail "2>file: no summary in the file"
on_tty t4.txt "$U p1 -o r4 2>&1 | cat" && ok || fail "unprotect | cat on a terminal"
no_bar t4.txt "standard output and error to a pipe"
grep -aq "^unprotected $n of $n" t4.txt && ok || fail "| cat: no summary"
"$M" protect --to doc.cert.pem "$S" -o p5 >out5.txt 2>err5.txt && ok || fail "protect without a terminal"
no_bar err5.txt "no terminal at all"
# --quiet: nothing at all
on_tty t6.txt "'$M' -q protect --to doc.cert.pem '$S' -o p6" && ok || fail "protect -q on a terminal"
[ ! -s t6.txt ] && ok || fail "--quiet on a terminal printed: $(head -c 200 t6.txt)"
# standard output alone redirected: the bar is on standard error, still the terminal
on_tty t7.txt "$P -o p7 >out7.txt" && ok || fail "protect >file on a terminal"
bar protect t7.txt && ok || fail "stdout to a file hid the bar on the terminal: $(tail -c 200 t7.txt)"
no_bar out7.txt "standard output to a file"

finish progress
