#!/usr/bin/python3
"""Write the regression files of tests/data/malformed/armor/: a small DICOM
file protected by `medseal protect --armor` (cms, EC P-256 recipient), then
copies whose text was changed the way text channels and editors change it
(line ends, trailing blanks) or damaged in one way each (see the README.md
there).

usage: tools/make_armor_malformed.py MEDSEAL [OUT_DIR]   (default tests/data/malformed/armor)

The key and the CMS envelope are made afresh, so the files differ from run to
run; what tests/integration/test_armor.sh expects of each does not.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ORIGINAL = os.path.join(HERE, "..", "tests", "data", "malformed", "validate_value_with_newline.dcm")


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def write(out, name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def variants(lf):
    """name -> bytes, from the armored text lf (LF line ends, as medseal writes)."""
    lines = lf.split(b"\n")[:-1]
    body = lines[1:-1]
    v = {}
    v["good_lf.pem"] = lf
    v["crlf.pem"] = b"".join(l + b"\r\n" for l in lines)
    v["crlf_some_lines.pem"] = b"".join(l + (b"\r\n" if i % 2 else b"\n")
                                        for i, l in enumerate(lines))
    v["trailing_blanks.pem"] = b"".join(l + (b" \t " if i % 2 else b"  ") + b"\r\n"
                                        for i, l in enumerate(lines))
    v["no_final_newline.pem"] = lf[:-1]
    v["cr_only.pem"] = b"".join(l + b"\r" for l in lines)
    v["no_end_line.pem"] = b"".join(l + b"\n" for l in lines[:-1])
    v["cut_in_line.pem"] = b"\n".join(lines[:3]) + b"\n" + lines[3][:32]
    bad = list(lines)
    bad[2] = bad[2][:10] + b"*" + bad[2][11:]
    v["not_base64_char.pem"] = b"".join(l + b"\n" for l in bad)
    long = list(lines)
    long[2] = b"".join(body)[:300]
    v["line_too_long.pem"] = b"".join(l + b"\n" for l in long)
    nul = list(lines)
    nul[2] = nul[2][:20] + b"\0" + nul[2][20:]
    v["nul_in_line.pem"] = b"".join(l + b"\n" for l in nul)
    v["blank_before_begin.pem"] = b" " + lf
    flip = list(lines)  # in the encrypted content, near the end: the GCM tag fails
    c = flip[-3][20:21]
    flip[-3] = flip[-3][:20] + (b"B" if c != b"B" else b"C") + flip[-3][21:]
    v["changed_character.pem"] = b"".join(l + b"\n" for l in flip)
    return v


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    medseal = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "tests", "data",
                                                             "malformed", "armor")
    os.makedirs(out, exist_ok=True)
    shutil.copyfile(ORIGINAL, os.path.join(out, "original.dcm"))
    run(medseal, "-q", "keygen", "--type", "p256", "--cn", "armor test", "-o",
        os.path.join(out, "doctor"))
    os.remove(os.path.join(out, "doctor.pub.pem"))
    armored = os.path.join(out, "good_lf.pem")
    run(medseal, "-q", "protect", "--armor", "--to", os.path.join(out, "doctor.cert.pem"),
        os.path.join(out, "original.dcm"), "-o", armored)
    with open(armored, "rb") as f:
        lf = f.read()
    for name, data in variants(lf).items():
        write(out, name, data)


if __name__ == "__main__":
    main()
