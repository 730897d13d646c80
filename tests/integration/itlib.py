"""Shared start of the Python tests of tests/integration/: where things are
(as ctest sets them: MEDSEAL_SRC, MEDSEAL_BUILD, MEDSEAL) and a count of the
checks for tests that go on after a failure. A test imports it from its own
directory (the script's directory is first on sys.path)."""
import os
import sys

SRC = os.environ.get("MEDSEAL_SRC",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("MEDSEAL_BUILD", os.path.join(SRC, "build"))
MEDSEAL = os.environ.get("MEDSEAL", os.path.join(BUILD, "medseal"))
CT = os.path.join(SRC, "data", "cranium-ct")

checks = 0
failures = 0


def check(cond, what):
    """Count one check; a failed one is named on stderr."""
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def finish():
    """Print the counts; the test's exit status."""
    print(f"{checks} checks, {failures} failed", file=sys.stderr)
    return 1 if failures else 0
