#!/usr/bin/python3
"""`medseal scan` and `medseal validate` on the bundled CT series and on
broken copies made here with pydicom: a slice removed, one duplicated (same
UID and new UID), one shifted along the normal, one moved off the axis, one
from another patient under the same series UID, one from another series, a
Type 1 attribute emptied, a Type 2 attribute removed. Checks exit status,
the one-line findings (instance and attribute named) and the JSON outputs.
dcentvfy (dicom3tools) is run on the same copies for the record: it does
not notice a removed slice."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import pydicom
from pydicom.uid import generate_uid

from itlib import CT, MEDSEAL
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    p = subprocess.run([MEDSEAL] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def findings(out):
    """Text findings: (severity, instance basename, what, message [check])."""
    rows = []
    for line in out.splitlines():
        sev, inst, what, msg = line.split("\t")
        rows.append((sev, os.path.basename(inst), what, msg))
    return rows


def copy_series(tmp, name):
    d = os.path.join(tmp, name)
    shutil.copytree(CT, d)
    return d


def edit(path, fn, to=None):
    ds = pydicom.dcmread(path)
    fn(ds)
    ds.save_as(to or path)


def new_uid(ds):
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID


# ---- the cases -------------------------------------------------------------------------

def case_intact(tmp):
    rc, out, _ = run("validate", CT)
    check(rc == 0 and out == "", "intact series: exit 0, no finding (%d, %r)" % (rc, out[:200]))
    rc, out, _ = run("validate", "--json", CT)
    doc = json.loads(out)
    check(doc["valid"] and doc["instances"] == 108 and doc["errors"] == 0, "intact --json")
    rc, out, _ = run("scan", "--json", CT)
    doc = json.loads(out)
    series = doc["patients"][0]["studies"][0]["series"][0]
    check(rc == 0 and doc["instances"] == 108 and series["instances"] == 108
          and abs(series["slice_spacing"] - 1.5) < 1e-6 and series["problems"] == {}
          and series["modality"] == "CT", "scan --json of the intact series")
    rc, out, _ = run("scan", CT)
    check(rc == 0 and "PROMED-CT-0051" in out and " 108 " in out and "none" in out,
          "scan table of the intact series")


def case_removed(tmp):
    d = copy_series(tmp, "removed")
    os.remove(os.path.join(d, "CT0050.dcm"))
    rc, out, _ = run("validate", d)
    rows = findings(out)
    check(rc == 1 and len(rows) == 1 and rows[0][1] == "CT0051.dcm" and "[gap]" in rows[0][3]
          and "CT0049.dcm" in rows[0][3] and "1 missing slice" in rows[0][3],
          "removed slice: one gap finding naming CT0049/CT0051 (%r)" % rows)
    rc, out, _ = run("scan", "--json", d)
    problems = json.loads(out)["patients"][0]["studies"][0]["series"][0]["problems"]
    check(problems == {"gap": 1}, "scan --json problems of a removed slice (%r)" % problems)
    if shutil.which("dcentvfy"):
        p = subprocess.run(["dcentvfy"] + sorted(os.path.join(d, f) for f in os.listdir(d)),
                           capture_output=True, text=True)
        print("dcentvfy on the removed-slice copy: exit %d, %d lines of output"
              % (p.returncode, len((p.stdout + p.stderr).splitlines())))


def case_duplicated(tmp):
    d = copy_series(tmp, "dup")
    shutil.copy(os.path.join(d, "CT0050.dcm"), os.path.join(d, "copy.dcm"))
    rc, out, _ = run("validate", d)
    checks = sorted(r[3].rsplit("[", 1)[1] for r in findings(out))
    check(rc == 1 and checks == ["duplicate-position]", "duplicate-uid]"],
          "duplicated slice (same UID): duplicate-uid and duplicate-position (%r)" % checks)
    d = copy_series(tmp, "dup_new_uid")
    edit(os.path.join(d, "CT0050.dcm"), new_uid, os.path.join(d, "again.dcm"))
    rc, out, _ = run("validate", d)
    rows = findings(out)
    check(rc == 1 and len(rows) == 1 and "[duplicate-position]" in rows[0][3],
          "duplicated slice (new UID): duplicate-position only (%r)" % rows)


def case_shifted(tmp):
    d = copy_series(tmp, "shifted")

    def shift(ds):
        ds.ImagePositionPatient[2] = float(ds.ImagePositionPatient[2]) + 0.5
    edit(os.path.join(d, "CT0050.dcm"), shift)
    rc, out, _ = run("validate", d)
    rows = findings(out)
    check(rc == 1 and len(rows) == 1 and rows[0][1] == "CT0050.dcm"
          and "[irregular-spacing]" in rows[0][3] and "0.500 mm off" in rows[0][3],
          "shifted slice named with its offset (%r)" % rows)

    d = copy_series(tmp, "off_axis")

    def sideways(ds):
        ds.ImagePositionPatient[0] = float(ds.ImagePositionPatient[0]) + 5
    edit(os.path.join(d, "CT0050.dcm"), sideways)
    rc, out, _ = run("validate", d)
    rows = findings(out)
    check(rc == 1 and len(rows) == 1 and "[off-axis]" in rows[0][3], "off-axis slice (%r)" % rows)


def case_foreign(tmp):
    d = copy_series(tmp, "foreign")

    def other_patient(ds):
        ds.PatientID = "SOMEONE-ELSE"
        ds.StudyInstanceUID = generate_uid()
        ds.FrameOfReferenceUID = generate_uid()
        new_uid(ds)
    edit(os.path.join(d, "CT0050.dcm"), other_patient)
    rc, out, _ = run("validate", "--json", d)
    doc = json.loads(out)
    attrs = sorted(f["attribute"] for f in doc["findings"] if f["check"] == "series-mismatch")
    check(rc == 1 and attrs == ["FrameOfReferenceUID", "PatientID", "StudyInstanceUID"]
          and all(f["instance"].endswith("CT0050.dcm") for f in doc["findings"]),
          "slice of another patient in the series (%r)" % attrs)

    d = copy_series(tmp, "other_series")

    def other_series(ds):
        ds.SeriesInstanceUID = generate_uid()
        ds.SeriesNumber = 2
        new_uid(ds)
    edit(os.path.join(d, "CT0050.dcm"), other_series)
    rc, out, _ = run("scan", "--json", d)
    series = json.loads(out)["patients"][0]["studies"][0]["series"]
    check(len(series) == 2 and [s["instances"] for s in series] == [107, 1],
          "slice of another series: two series (%r)" % [s["instances"] for s in series])


def case_types(tmp):
    d = copy_series(tmp, "type1")

    def empty_type1(ds):
        ds.ImageType = None
    edit(os.path.join(d, "CT0007.dcm"), empty_type1)
    rc, out, _ = run("validate", d)
    rows = findings(out)
    check(rc == 1 and len(rows) == 1 and rows[0][1] == "CT0007.dcm"
          and rows[0][2] == "ImageType (0008,0008)" and "[type1]" in rows[0][3],
          "Type 1 emptied (%r)" % rows)

    d = copy_series(tmp, "type2")

    def drop_type2(ds):
        del ds.KVP
    edit(os.path.join(d, "CT0007.dcm"), drop_type2)
    rc, out, _ = run("validate", d)
    rows = findings(out)
    check(rc == 1 and len(rows) == 1 and rows[0][2] == "KVP (0018,0060)" and "[type2]" in rows[0][3],
          "Type 2 removed (%r)" % rows)


def case_usage(tmp):
    rc, _, err = run("validate")
    check(rc == 2, "validate without arguments: exit 2")
    rc, _, err = run("validate", "--bogus", CT)
    check(rc == 2, "validate with an unknown option: exit 2")
    rc, _, err = run("validate", os.path.join(tmp, "does-not-exist"))
    check(rc == 5 and "does-not-exist" in err, "validate of a missing path: exit 5")
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    with open(os.path.join(empty, "notes.txt"), "w") as f:
        f.write("hello\n")
    rc, out, err = run("validate", empty)
    check(rc == 1 and "no DICOM instance found" in out, "validate of a directory without DICOM")
    rc, out, err = run("scan", empty)
    check(rc == 1 and "skipped" in err and "notes.txt" in err, "scan notes skipped files")


def main():
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        for case in (case_intact, case_removed, case_duplicated, case_shifted, case_foreign,
                     case_types, case_usage):
            case(tmp)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
