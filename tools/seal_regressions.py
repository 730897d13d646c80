#!/usr/bin/python3
"""Write the malformed seal files of tests/data/malformed/seal_*.seal from a
valid seal (made by `medseal seal` on the first four slices of
data/cranium-ct with tests/data/seal/k.bin and signer.pem) and list the exit
code and message `medseal verify` must give for each in expected.txt.

usage: seal_regressions.py GOOD.seal SIGNER.pem OTHER_SEAL OUTDIR
  OTHER_SEAL: a valid seal of the same files signed with another key.
Files that need a valid signature over an inconsistent body are re-signed
with SIGNER.pem by `openssl pkeyutl` (Ed25519, raw input)."""
import os
import subprocess
import sys
import tempfile


def body_of(text):
    return text[: text.index("\nsignature ") + 1]


def resign(body, key):
    with tempfile.NamedTemporaryFile() as f:
        f.write(body.encode())
        f.flush()
        sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin",
                              "-in", f.name], check=True, capture_output=True).stdout
    b64 = subprocess.run(["base64", "-w0"], input=sig, check=True,
                         capture_output=True).stdout.decode()
    return body + "signature " + b64 + "\nend\n"


def main():
    good, key, other, out = sys.argv[1:5]
    text = open(good).read()
    lines = text.split("\n")
    cases = []

    def case(name, data, code, why):
        with open(os.path.join(out, "seal_" + name + ".seal"), "w", newline="") as f:
            f.write(data)
        cases.append((name, code, why))

    case("empty", "", 3, "seal file is empty")
    case("truncated_half", text[: len(text) // 2], 3, "seal truncated")
    case("no_end_line", text[: text.rindex("end\n")], 3, "seal truncated")
    case("no_last_newline", text[:-1], 3, "seal truncated")
    case("bad_magic", text.replace("medseal-seal 1", "medseal-seal 2", 1), 3, "not a medseal seal")
    case("crlf", text.replace("\n", "\r\n"), 3, "binary data or CR")
    case("count_too_high", text.replace("\nfiles 4\n", "\nfiles 5\n", 1), 3, "expected 'F'")
    case("trailing_data", text + "junk\n", 3, "data after the 'end' line")
    blk = next(i for i, l in enumerate(lines) if l.startswith("B "))
    bad = lines[:]
    bad[blk] = bad[blk][:-5] + "!" + bad[blk][-4:]
    case("block_not_base64", "\n".join(bad), 3, "not base64")
    bad = lines[:]
    bad[blk] = "B 2" + bad[blk][3:]
    case("block_out_of_order", "\n".join(bad), 3, "out of order")
    rec = next(i for i, l in enumerate(lines) if l.startswith("F "))
    bad = lines[:]
    bad[rec] = bad[rec].replace(",0 CT0001", ",0.5 CT0001")
    case("edited_position", "\n".join(bad), 4, "signature does not verify")
    bad = lines[:]
    c = bad[blk][20]
    bad[blk] = bad[blk][:20] + ("A" if c != "A" else "B") + bad[blk][21:]
    case("edited_block", "\n".join(bad), 4, "signature does not verify")
    olines = open(other).read().split("\n")
    bad = lines[:]
    bad[-3] = next(l for l in olines if l.startswith("signature "))
    case("foreign_signature", "\n".join(bad), 4, "signature does not verify")
    case("untrusted_signer", open(other).read(), 4, "")
    body = body_of(text)
    root = next(l for l in lines if l.startswith("merkle-root "))
    case("inconsistent_root", resign(body.replace(root, "merkle-root " + "0" * 64), key), 3,
         "do not give its Merkle root")
    vol = next(l for l in lines if l.startswith("V "))
    f = vol.split(" ")
    f[4] = "3"
    case("inconsistent_volume", resign(body.replace(vol, " ".join(f)), key), 3,
         "volume 1 lists 3 slices")
    with open(os.path.join(out, "seal_expected.txt"), "w") as f:
        f.write("# file exit-code message-substring (tests/integration/test_seal.sh)\n")
        for name, code, why in cases:
            f.write("seal_%s.seal\t%d\t%s\n" % (name, code, why))


if __name__ == "__main__":
    main()
