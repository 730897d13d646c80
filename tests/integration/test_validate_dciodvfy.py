#!/usr/bin/python3
"""`medseal validate` against dciodvfy (Debian dicom3tools).

Corpus: pydicom's test files, and copies of slice 1 of the bundled CT series
with each of its top-level attributes removed, then emptied (made with
pydicom in a temporary directory). For every file, every Type 1 or Type 2
error dciodvfy reports ("Missing attribute" / "Empty attribute") must be
reported by medseal for the same attribute (same keyword, any nesting), or be
listed in EXPLAINED below with its reason (docs/validate.md explains each).
Errors medseal reports that dciodvfy does not are printed, and must be in
EXTRA (explained too). Conditional (1C/2C) errors are compared and printed
but only the explained lists make the test fail.
"""
import copy
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings

import pydicom
from pydicom.dataelem import DataElement

from itlib import MEDSEAL, SRC
PYDICOM_FILES = os.path.dirname(pydicom.__file__) + "/data/test_files"
DCIODVFY = shutil.which("dciodvfy")

# (file, keyword) -> why dciodvfy reports a Type 1/2 error medseal does not
EXPLAINED = {
    ("rtdose_rle.dcm", "OperatorsName"): "RT Series: Operators' Name is Type 2 since after the "
                                         "2008 module tables medseal is generated from",
    ("rtdose_rle_1frame.dcm", "OperatorsName"): "same as rtdose_rle.dcm",
    ("rtstruct.dcm", "FrameOfReferenceUID"): "the Frame of Reference module is U in the RT "
                                             "Structure Set IOD (PS3.3 A.19.3) and absent from "
                                             "the file; dciodvfy requires it",
    ("rtstruct.dcm", "PositionReferenceIndicator"): "same as FrameOfReferenceUID",
}

# (file, keyword) -> why medseal reports a Type 1/2 error dciodvfy does not
EXTRA = {
    ("CT_small.dcm", "IssuerOfPatientID"): "Type 1 in Other Patient IDs Sequence items in the "
                                           "2008 Patient module, Type 3 today",
    ("liver_1frame.dcm", "AnatomicRegionSequence"): "Type 1 in the 2008 Segment Description "
                                                    "macro (General Anatomy Mandatory), optional "
                                                    "today",
    ("liver_expb_1frame.dcm", "AnatomicRegionSequence"): "same as liver_1frame.dcm",
}

RX = re.compile(r"^Error - (Missing|Empty) attribute.*?Type (1C|2C|1|2) "
                r"(?:Required|Conditional) Element=<(\w+)>")


def dciodvfy(path):
    try:
        out = subprocess.run([DCIODVFY, path], capture_output=True, text=True, timeout=60,
                             errors="replace")
    except subprocess.TimeoutExpired:
        return set()
    found = set()
    for line in (out.stdout + out.stderr).splitlines():
        m = RX.match(line)
        if m:
            found.add((m.group(2), m.group(3)))
    return found


def medseal(path):
    out = subprocess.run([MEDSEAL, "-q", "validate", "--json", "--no-series", path],
                         capture_output=True, text=True)
    doc = json.loads(out.stdout)
    found = set()
    for f in doc["findings"]:
        if f["check"] in ("type1", "type2", "type1c", "type2c"):
            keyword = re.sub(r"\[\d+\]$", "", f["attribute"].split(">")[-1])
            found.add((f["check"][4:].upper(), keyword))
    return found, out.returncode


def ct_variants(tmp):
    """Slice 1 of the CT with each top-level attribute removed, then emptied."""
    ds = pydicom.dcmread(os.path.join(SRC, "data/cranium-ct/CT0001.dcm"))
    paths = []
    for el in list(ds):
        if el.tag.group in (0x0002, 0x7FE0):
            continue
        kw = el.keyword or "%08X" % int(el.tag)
        removed = copy.deepcopy(ds)
        del removed[el.tag]
        emptied = copy.deepcopy(ds)
        emptied[el.tag] = DataElement(el.tag, el.VR, [] if el.VR == "SQ" else None)
        for name, d in (("rm_" + kw, removed), ("empty_" + kw, emptied)):
            p = os.path.join(tmp, name + ".dcm")
            d.save_as(p)
            paths.append(p)
    return paths


def main():
    if not DCIODVFY:
        print("dciodvfy not installed (dicom3tools): skipped")
        return 0
    warnings.simplefilter("ignore")
    failures = 0
    compared = matched = 0
    with tempfile.TemporaryDirectory() as tmp:
        files = sorted(glob.glob(PYDICOM_FILES + "/*.dcm")) + ct_variants(tmp)
        for path in files:
            name = os.path.basename(path)
            theirs = dciodvfy(path)
            ours, rc = medseal(path)
            our_keys = {k for _, k in ours}
            their_keys = {k for _, k in theirs}
            for typ, kw in sorted(theirs):
                if typ not in ("1", "2"):
                    if kw not in our_keys:
                        print("note: %s: dciodvfy Type %s %s not reported (conditional)"
                              % (name, typ, kw))
                    continue
                compared += 1
                if kw in our_keys:
                    matched += 1
                elif (name, kw) in EXPLAINED:
                    print("explained: %s: %s: %s" % (name, kw, EXPLAINED[(name, kw)]))
                else:
                    print("FAIL: %s: dciodvfy reports Type %s %s, medseal does not"
                          % (name, typ, kw))
                    failures += 1
            for typ, kw in sorted(ours):
                if kw in their_keys or typ not in ("1", "2"):
                    continue
                if (name, kw) in EXTRA:
                    print("extra (explained): %s: %s: %s" % (name, kw, EXTRA[(name, kw)]))
                else:
                    print("FAIL: %s: medseal reports Type %s %s, dciodvfy does not"
                          % (name, typ, kw))
                    failures += 1
            if theirs and rc != 1 and any(t in ("1", "2") for t, _ in ours):
                print("FAIL: %s: errors found but exit status %d" % (name, rc))
                failures += 1
        print("%d files, %d Type 1/2 errors from dciodvfy, %d reported by medseal for the same "
              "attribute, %d explained" % (len(files), compared, matched, compared - matched))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
