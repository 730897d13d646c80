# Shared start of the shell tests of tests/integration/ (POSIX sh). A test
# sets its shell options, then
#     . "$(dirname "$0")/lib.sh"
# and has:
#   SRC            the source tree ($MEDSEAL_SRC; else two levels above the test)
#   BUILD          the build tree ($MEDSEAL_BUILD; else $SRC/build)
#   M              the medseal program, an absolute path ($MEDSEAL; else $BUILD/medseal)
#   PY             the Python with pydicom and numpy
#   PYDICOM_FILES  pydicom's test files
#   workdir VAR    a new empty directory in $VAR, removed when the test exits
# and, for tests that count their checks and go on after a failure:
#   ok             one check passed
#   fail MESSAGE   one check failed (MESSAGE on stderr)
#   expect RC CMD...  run CMD (output in out.txt and err.txt of the current
#                  directory) and check that it exits with RC (not under set -e)
#   finish LABEL   print the counts and return the test's status: the last
#                  command of the test

SRC=${MEDSEAL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${MEDSEAL_BUILD:-$SRC/build}
M=${MEDSEAL:-$BUILD/medseal}
case $M in /*) ;; *) M=$(pwd)/$M ;; esac
PY=/usr/bin/python3
PYDICOM_FILES=/usr/lib/python3/dist-packages/pydicom/data/test_files

workdir() {
    _lib_workdir=$(mktemp -d "${TMPDIR:-/tmp}/medseal-$(basename "$0" .sh).XXXXXX") || exit 1
    trap 'rm -rf "$_lib_workdir"' EXIT
    eval "$1=\$_lib_workdir"
}

checks=0
failures=0
ok() { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*" >&2; }

expect() {
    want=$1
    shift
    "$@" >out.txt 2>err.txt
    got=$?
    if [ "$got" -eq "$want" ]; then ok; else
        fail "$* -> exit $got, expected $want: $(head -c 400 out.txt) $(head -c 400 err.txt)"
    fi
}

finish() {
    echo "$1: $checks checks, $failures failed"
    [ "$failures" -eq 0 ]
}
