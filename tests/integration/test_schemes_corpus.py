#!/usr/bin/python3
"""Every protection scheme over every file of pydicom's test_files (with its
subdirectories), and damaged protected files (issue 5, DESIGN: bad input gets
a clear one-line error and a distinct exit code, never a crash, a hang, a
partial output or a left temporary file).

1. Round trips: cms, pixel-gcm, chaos, ecb (--i-know), cbc-slices, otp, stego
   lsb and stego highbits protect each file and unprotect it. Each file either
   comes back bit-exact (stego lsb: the same size, distortion reported by
   protect), or protect refuses it cleanly: exit 3, one line on stderr, no
   output, part or temporary file. Never exit >= 124 (crash, hang). The
   number of files round-tripped per scheme must stay at or above a floor
   (FLOORS, measured when the test was written) so that a scheme that starts
   refusing files shows.
2. Damaged inputs: files protected by each scheme, cut at several points and
   with one byte changed in several places (and cbc-slices parts cut,
   changed, missing): unprotect exits 3 or 4 with one line, leaves no output
   and no temporary file.
3. The regression files tests/data/malformed/protect_*.dcm (README there).

Environment: MEDSEAL, MEDSEAL_SRC (ctest sets them). Runs the files on two
worker threads."""
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import itlib
from itlib import SRC

MEDSEAL = os.path.abspath(itlib.MEDSEAL)

PYDICOM_FILES = "/usr/lib/python3/dist-packages/pydicom/data/test_files"
TIMEOUT = 120

# Files round-tripped per scheme, measured on pydicom 2.3.1's 165 test files
# (where a scheme refuses a file it is for a documented reason: no pixels,
# encapsulated pixels for the pixel-changing schemes, Bits Allocated 1, no
# identifying attribute for otp, Bits Stored = Bits Allocated for highbits, ...).
FLOORS = {
    "cms": 165,           # every file, DICOM or not
    "pixel-gcm": 81,
    "chaos": 46,
    "ecb": 48,
    "cbc-slices": 81,
    "otp": 152,           # no pixels needed
    "stego-lsb": 9,       # most test images are too small for the payload
    "stego-highbits": 0,  # no test image has Bits Stored < Bits Allocated (see part 2: CT0001)
}

def run(args, cwd):
    """(exit code, stderr) of medseal args; a hang counts as exit 124."""
    try:
        p = subprocess.run([MEDSEAL, *args], cwd=cwd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
        return p.returncode if p.returncode >= 0 else 128 - p.returncode, \
            p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return 124, "timeout"


def same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def leftovers(d, prefix):
    """Files of directory d whose names start with prefix."""
    return sorted(n for n in os.listdir(d) if n.startswith(prefix))


def one_line(text):
    """text (stderr) holds exactly one error: one line "medseal: FILE: cause", besides
    notes and the summary line of protect."""
    lines = [n for n in text.splitlines()
             if ": note: " not in n and not re.match(r"(un)?protected \d+ of \d+ file", n)]
    return len(lines) == 1 and lines[0].startswith("medseal: ")


class Scheme:
    def __init__(self, name, protect, unprotect):
        self.name, self.protect, self.unprotect = name, protect, unprotect


def schemes(work):
    """The schemes with their options; keys made in work."""
    k, stego = os.path.join(work, "k.bin"), os.path.join(work, "stego.txt")
    with open(k, "wb") as f:
        f.write(os.urandom(32))
    with open(stego, "w") as f:
        f.write("corpus stego key\n")
    rc, err = run(["--quiet", "keygen", "--type", "p256", "-o", os.path.join(work, "id")], work)
    assert rc == 0, err
    store = os.path.join(work, "pads")
    return [
        Scheme("cms", ["--to", os.path.join(work, "id.cert.pem")],
               ["--key", os.path.join(work, "id.key.pem")]),
        Scheme("pixel-gcm", ["-k", k], ["-k", k]),
        Scheme("chaos", [], []),
        Scheme("ecb", ["--i-know", "-k", k], ["-k", k]),
        Scheme("cbc-slices", ["--slices", "3", "-k", k], ["-k", k]),
        Scheme("otp", ["--otp-store", store], ["--otp-store", store]),
        Scheme("stego-lsb", ["--stego-key-file", stego], ["--stego-key-file", stego]),
        Scheme("stego-highbits", ["--stego-mode", "highbits", "--stego-key-file", stego],
               ["--stego-key-file", stego]),
    ]


def scheme_arg(s):
    return s.name.split("-")[0] if s.name.startswith("stego") else s.name


# ---- 1. round trips over the corpus -------------------------------------------------------


def round_trip(s, src, d, tag):
    """Protect src into d and back. Returns (outcome, message):
    'exact', 'lossy', 'refused', or 'FAIL'."""
    out, back = os.path.join(d, tag + ".p"), os.path.join(d, tag + ".r")
    rc, err = run(["protect", "--scheme", scheme_arg(s), *s.protect, src, "-o", out], d)
    if rc != 0:
        left = leftovers(d, tag + ".")
        if rc == 3 and one_line(err) and not left:
            return "refused", err.strip()
        return "FAIL", f"protect exit {rc}, left {left}: {err.strip()[:300]}"
    rc, err2 = run(["--quiet", "unprotect", *s.unprotect, out, "-o", back], d)
    if rc != 0:
        return "FAIL", f"unprotect exit {rc}: {err2.strip()[:300]}"
    left = [n for n in leftovers(d, tag + ".") if ".tmp" in n]
    if left:
        return "FAIL", f"temporary files left: {left}"
    if same_bytes(src, back):
        outcome = "exact"
    elif s.name == "stego-lsb" and os.path.getsize(src) == os.path.getsize(back) and \
            "PSNR" in err:
        outcome = "lossy"
    else:
        return "FAIL", "the round trip differs"
    for n in leftovers(d, tag + "."):
        os.remove(os.path.join(d, n))
    return outcome, ""


def corpus(work, all_schemes, files):
    counts = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for s in all_schemes:
            d = os.path.join(work, "rt-" + s.name)
            os.mkdir(d)
            jobs = [pool.submit(round_trip, s, f, d, "f%03d" % i) for i, f in enumerate(files)]
            c = {"exact": 0, "lossy": 0, "refused": 0, "FAIL": 0}
            for f, j in zip(files, jobs):
                outcome, msg = j.result()
                c[outcome] += 1
                itlib.check(outcome != "FAIL",
                            f"{s.name}: {os.path.relpath(f, PYDICOM_FILES)}: {msg}")
                if os.environ.get("VERBOSE") and outcome == "refused":
                    print(f"  {s.name}: refused {os.path.relpath(f, PYDICOM_FILES)}: {msg}")
            done = c["exact"] + c["lossy"]
            itlib.check(done >= FLOORS[s.name],
                        f"{s.name}: {done} files round-tripped, the floor is {FLOORS[s.name]}")
            print(f"{s.name:15} {done:4} round-tripped ({c['lossy']} lossy), "
                  f"{c['refused']:4} refused, {c['FAIL']} failed (floor {FLOORS[s.name]})")
            counts[s.name] = c
            shutil.rmtree(d)
    return counts


# ---- 2. damaged protected files -----------------------------------------------------------

DAMAGE_SOURCES = [
    os.path.join(SRC, "data", "cranium-ct", "CT0001.dcm"),   # 512 x 512, 12 of 16 bits
    os.path.join(PYDICOM_FILES, "ExplVR_BigEnd.dcm"),         # RGB, big endian
    os.path.join(PYDICOM_FILES, "rtdose.dcm"),                # 15 frames of 32 bits
    os.path.join(PYDICOM_FILES, "SC_ybr_full_422_uncompressed.dcm"),  # 4:2:2
]


def cut_points(data):
    """Where to cut a protected file: the start, the meta, around the private
    block, inside the pixels, the last bytes."""
    n, at = len(data), data.find(b"MEDSEAL PROTECT 1")
    points = {0, 1, 100, 132, 300, 1000, n // 3, n // 2, n - 1000, n - 17, n - 2, n - 1}
    if at > 0:
        points |= {at + 10, at + 60, at + 200}
    return sorted(p for p in points if 0 <= p < n)


def blob_value(data):
    """Offset of the private block's blob value (7FD1,1013), or -1."""
    for tag in (b"\xd1\x7f\x13\x10", b"\x7f\xd1\x10\x13"):
        at = data.find(tag)
        if at > 0:
            return at + (12 if data[at + 4:at + 6] == b"OB" else 8)
    return -1


def flip_points(data, scheme=""):
    """Where to change one byte: the preamble, the meta, the header, the
    private block's blob (bytes 24 and 40: a tag or digest in every scheme's
    blob; pixel-gcm and stego check every byte of their heads, so their reserved
    byte 2 too; other schemes' reserved bytes and the parameters text are not
    checked, and need not be: unprotect drops the block), the pixels, the
    last byte."""
    n, blob = len(data), blob_value(data)
    points = {5, 140, 400, n // 2, n - n // 5, n - 1}
    if blob > 0:
        points |= {blob + 24, blob + 40}
        if scheme in ("pixel-gcm", "stego-lsb", "stego-highbits"):
            points |= {blob + 1, blob + 2}
    return sorted(p for p in points if 0 <= p < n)


def protected_set(s, src, d, tag):
    """Protect src for scheme s into d: the list of files it made (the
    protected file first), or None when the scheme refuses src."""
    out = os.path.join(d, tag)
    rc, _ = run(["--quiet", "protect", "--scheme", scheme_arg(s), *s.protect, src, "-o", out], d)
    if rc != 0:
        return None
    return [out] + sorted(os.path.join(d, n) for n in leftovers(d, tag + ".part"))


def damaged_refused(s, files, victim, data, what):
    """Unprotect the set files (copied to a fresh directory) with file index
    victim replaced by data (None: removed). Must exit 3 or 4 with one line
    and leave nothing."""
    d = tempfile.mkdtemp(prefix="dmg.", dir=os.path.dirname(files[0]))
    try:
        names = [os.path.basename(f) for f in files]
        for i, (f, n) in enumerate(zip(files, names)):
            if i != victim:
                shutil.copyfile(f, os.path.join(d, n))
            elif data is not None:
                with open(os.path.join(d, n), "wb") as o:
                    o.write(data)
        before = sorted(os.listdir(d))
        rc, err = run(["--quiet", "unprotect", *s.unprotect, names[0], "-o", "back"], d)
        after = sorted(os.listdir(d))
        ok = rc in (3, 4) and one_line(err) and after == before
        itlib.check(ok, f"{s.name}: {what}: exit {rc}, left {sorted(set(after) - set(before))}: "
                        f"{err.strip()[:300]}")
        return ok
    finally:
        shutil.rmtree(d)


def damage_one(s, src, d, tag):
    """Every damage of src protected by s. Returns the number of variants
    checked, or None when s refuses src."""
    files = protected_set(s, src, d, tag)
    if files is None:
        return None
    name = os.path.basename(src)
    variants = 0
    for victim, f in enumerate(files):
        with open(f, "rb") as fh:
            data = fh.read()
        label = name if victim == 0 else f"{name} part {victim}"
        for p in cut_points(data):
            damaged_refused(s, files, victim, data[:p], f"{label} cut at {p} of {len(data)}")
            variants += 1
        for p in flip_points(data, s.name if victim == 0 else ""):
            changed = bytearray(data)
            changed[p] ^= 0x5A
            damaged_refused(s, files, victim, bytes(changed), f"{label} byte {p} changed")
            variants += 1
        if victim > 0:
            damaged_refused(s, files, victim, None, f"{label} missing")
            variants += 1
    # the undamaged set still opens after all those failed attempts (otp: the pad survived)
    back = os.path.join(d, tag + ".back")
    rc, err = run(["--quiet", "unprotect", *s.unprotect, files[0], "-o", back], d)
    itlib.check(rc == 0 and (s.name == "stego-lsb" or same_bytes(src, back)),
                f"{s.name}: {name}: the undamaged file no longer opens: exit {rc} {err.strip()}")
    return variants


def damage(work, all_schemes):
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        jobs = []
        for s in all_schemes:
            d = os.path.join(work, "dmg-" + s.name)
            os.mkdir(d)
            for i, src in enumerate(DAMAGE_SOURCES):
                jobs.append((s, src, pool.submit(damage_one, s, src, d, "s%d" % i)))
        per = {}
        for s, src, j in jobs:
            n = j.result()
            if n is not None:
                per.setdefault(s.name, []).append(n)
    for s in all_schemes:
        n = per.get(s.name, [])
        itlib.check(n, f"{s.name}: no damage source could be protected")
        print(f"{s.name:15} damaged: {sum(n):4} variants of {len(n)} protected file(s)")


# ---- 3. regression files ---------------------------------------------------------------

# What each tests/data/malformed/protect_*.dcm must give: scheme -> outcome of the round
# trip ("exact", "lossy", "refused"); "unprotect": exit code of unprotect as it is (every
# scheme's options in turn). Schemes not listed: no crash, a clean outcome.
REGRESSIONS = {
    "protect_chaos_truncated.dcm": {"unprotect": 3},
    "protect_ybr_full_422.dcm": {"chaos": "exact", "stego-lsb": "lossy", "pixel-gcm": "exact",
                                 "ecb": "exact", "cbc-slices": "exact", "cms": "exact"},
    "protect_item_past_end.dcm": {"cms": "exact", "pixel-gcm": "refused", "chaos": "refused",
                                  "ecb": "refused", "cbc-slices": "refused", "otp": "refused",
                                  "stego-lsb": "refused", "stego-highbits": "refused"},
}


def regressions(work, all_schemes):
    d = os.path.join(work, "regressions")
    os.mkdir(d)
    files = sorted(glob.glob(os.path.join(SRC, "tests", "data", "malformed", "protect_*.dcm")))
    itlib.check(len(files) >= len(REGRESSIONS), f"only {len(files)} protect_*.dcm files")
    for f in files:
        name = os.path.basename(f)
        want = REGRESSIONS.get(name)
        itlib.check(want is not None, f"{name} has no expectation in REGRESSIONS")
        want = want or {}
        for i, s in enumerate(all_schemes):
            tag = "%s.%d" % (name, i)
            outcome, msg = round_trip(s, f, d, tag)
            itlib.check(outcome != "FAIL" and want.get(s.name, outcome) == outcome,
                        f"{name}: {s.name}: {outcome}, expected {want.get(s.name)} {msg}")
            rc, err = run(["--quiet", "unprotect", *s.unprotect, f, "-o", tag + ".u"], d)
            left = leftovers(d, tag + ".u")
            itlib.check(rc in (3, 4) and one_line(err) and not left and
                        want.get("unprotect", rc) == rc,
                        f"{name}: unprotect ({s.name} options): exit {rc}, left {left}: "
                        f"{err.strip()[:300]}")
        print(f"regression {name}: replayed through {len(all_schemes)} schemes")


def main():
    files = sorted(p for p in glob.glob(PYDICOM_FILES + "/**/*", recursive=True)
                   if os.path.isfile(p))
    itlib.check(len(files) >= 150, f"only {len(files)} pydicom test files")
    work = tempfile.mkdtemp(prefix="medseal-schemes-corpus.")
    try:
        all_schemes = schemes(work)
        corpus(work, all_schemes, files)
        damage(work, all_schemes)
        regressions(work, all_schemes)
    finally:
        shutil.rmtree(work)
    return itlib.finish()


if __name__ == "__main__":
    sys.exit(main())
