#!/bin/sh
# Function complexity report (pmccabe): the 15 most complex functions and a
# count of those above 15. Informational: it does not fail the build.
set -eu
cd "$(dirname "$0")/.."
command -v pmccabe >/dev/null || { echo "pmccabe not installed"; exit 0; }
echo "== function complexity (pmccabe: modified McCabe, statements, first line, file)"
find src -name '*.c' -print0 | xargs -0 pmccabe | sort -nr | head -15
echo "functions with complexity > 15: $(find src -name '*.c' -print0 | xargs -0 pmccabe | awk '$1 > 15' | wc -l)"
