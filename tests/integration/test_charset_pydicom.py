#!/usr/bin/python3
"""Character set decoding against pydicom.

For every file of pydicom's charset test data, compare each PN, LO, SH, ST,
LT, UT and UC value (sequence items included) of `$MEDSEAL dump --json FILE`
with pydicom's Dataset.to_json_dict(). Differences are printed; the test
fails on any difference that is not listed in ALLOWED below (each entry is
explained in docs/conformance.md, "Character sets").

Environment: MEDSEAL = path of the medseal program.
"""
import glob
import json
import os
import subprocess
import sys
import warnings

import pydicom

DATA = os.path.join(os.path.dirname(pydicom.__file__), "data", "charset_files")
TEXT_VRS = {"PN", "LO", "SH", "ST", "LT", "UT", "UC"}

# (file name, path of the value) -> reason. Keep empty unless a difference
# is justified in docs/conformance.md.
ALLOWED = {}

# Private elements of implicit VR files whose VR pydicom takes from its
# private dictionary (pydicom/_private_dict.py) while medseal, which has none,
# reads them as UN: their bytes never reach the character set decoder, so
# they are skipped (and counted) rather than compared.
SKIP_PRIVATE_UN = True


def norm_value(vr, v):
    """One value as a comparable object: PN groups as a dict without empty
    groups, text as a string, empty values as ''."""
    if v is None:
        return ""
    if vr == "PN":
        if isinstance(v, str):
            v = {"Alphabetic": v}
        return {k: g for k, g in v.items() if g}
    return v


def collect(obj, path, out):
    """Text values of a DICOM JSON object: {path: [values]}."""
    for tag, el in sorted(obj.items()):
        vr = el.get("vr")
        here = path + (tag,)
        if vr == "SQ":
            for i, item in enumerate(el.get("Value", []) or []):
                collect(item, here + (i,), out)
        elif vr == "UN":
            out["/".join(str(p) for p in here)] = (vr, None)
        elif vr in TEXT_VRS:
            values = [norm_value(vr, v) for v in el.get("Value", []) or []]
            while values and values[-1] in ("", {}):
                values.pop()
            out["/".join(str(p) for p in here)] = (vr, values)
    return out


def main():
    medseal = os.environ.get("MEDSEAL")
    if not medseal:
        print("MEDSEAL is not set", file=sys.stderr)
        return 2
    files = sorted(glob.glob(os.path.join(DATA, "*.dcm")))
    if not files:
        print("no pydicom charset files under " + DATA, file=sys.stderr)
        return 2
    failures = compared = skipped = 0
    for path in files:
        name = os.path.basename(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = collect(pydicom.dcmread(path).to_json_dict(), (), {})
        expected = {k: v for k, v in expected.items() if v[0] != "UN"}
        run = subprocess.run([medseal, "dump", "--json", path], capture_output=True)
        if run.returncode != 0:
            print(f"{name}: medseal exit {run.returncode}: {run.stderr.decode(errors='replace')}")
            failures += 1
            continue
        got = collect(json.loads(run.stdout.decode("utf-8")), (), {})
        for key in sorted(set(expected) | set(got)):
            e, g = expected.get(key), got.get(key)
            if g is not None and g[0] == "UN":
                private = int(key.split("/")[-1][:4], 16) % 2 == 1
                if e is not None and private and SKIP_PRIVATE_UN:
                    print(f"{name} {key}: skipped, private {e[0]} read as UN by medseal")
                    skipped += 1
                continue
            compared += 1
            if e == g:
                continue
            if (name, key) in ALLOWED:
                print(f"{name} {key}: allowed difference ({ALLOWED[(name, key)]})")
                continue
            print(f"{name} {key}: pydicom {e!r} medseal {g!r}")
            failures += 1
    print(f"{len(files)} files, {compared} text elements compared, {skipped} private"
          f" elements skipped, {failures} differences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
