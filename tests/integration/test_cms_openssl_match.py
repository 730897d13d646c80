#!/usr/bin/python3
"""`medseal protect --scheme cms` output against OpenSSL's CMS layer, for every
recipient kind (RSA-OAEP 2048/3072/4096, EC P-256, Argon2id passphrase) and
mixes of them, each set protecting a whole directory in one run (the run's
envelope template is shared by its files):

- `openssl cms -decrypt` opens every file, with every key (the passphrase
  recipient with the Argon2id KEK computed here with PyNaCl), bit for bit;
- the structure is OpenSSL's: against `openssl cms -encrypt -stream` of the
  same input and certificates, every header byte, OID, INTEGER and name is
  equal and only OCTET / BIT STRING values differ (keys, nonce, ciphertext,
  MAC); RecipientInfos in the DER order of a SET OF;
- every file has its own nonce, wrapped keys and ephemeral EC key;
- one changed byte in any per-file field (nonce, MAC, ciphertext, each
  wrapped key, the ephemeral point) is refused by `openssl cms -decrypt` and
  by `medseal unprotect` (exit 3 or 4, no output)."""
import os
import shutil
import subprocess
import sys
import tempfile

from itlib import CT, MEDSEAL, check, finish

CT = os.path.abspath(CT)
MEDSEAL = os.path.abspath(MEDSEAL)

try:
    import nacl.pwhash
except ImportError:
    nacl = None

# ---- a small BER reader ------------------------------------------------------------------


class Node:
    def __init__(self, data, off):
        self.off = off
        self.tag = data[off]
        if self.tag & 0x1f == 0x1f:
            raise ValueError("multi-byte tags are not expected here")
        n = data[off + 1]
        i = off + 2
        self.indef = n == 0x80
        if n & 0x80 and not self.indef:
            k = n & 0x7f
            n = int.from_bytes(data[i:i + k], "big")
            i += k
        self.head = data[off:i]
        self.start = i
        self.kids = []
        if self.tag & 0x20:
            end = None if self.indef else i + n
            while True:
                if self.indef and data[i:i + 2] == b"\0\0":
                    i += 2
                    break
                if end is not None and i >= end:
                    break
                kid = Node(data, i)
                self.kids.append(kid)
                i = kid.end
            self.value = None
        else:
            self.value = data[i:i + n]
            i += n
        self.end = i


def parse(data):
    root = Node(data, 0)
    if root.end != len(data):
        raise ValueError("bytes after the message")
    return root


def same_shape(a, b, where="root"):
    """Equal but for the values of OCTET and BIT STRINGs; SET OF in any order."""
    if a.head != b.head:
        return f"{where}: header {a.head.hex()} != {b.head.hex()}"
    if a.value is not None:
        if a.tag in (0x03, 0x04) or a.value == b.value:
            return None
        return f"{where}: value {a.value.hex()} != {b.value.hex()}"
    if len(a.kids) != len(b.kids):
        return f"{where}: {len(a.kids)} elements != {len(b.kids)}"
    if a.tag == 0x31:
        left = list(b.kids)
        for i, k in enumerate(a.kids):
            m = next((x for x in left if same_shape(k, x) is None), None)
            if m is None:
                return f"{where}/{i}: no match in the SET"
            left.remove(m)
        return None
    for i, (x, y) in enumerate(zip(a.kids, b.kids)):
        r = same_shape(x, y, f"{where}/{i}")
        if r:
            return r
    return None


def fields(data):
    """The per-file fields of an AuthEnvelopedData: {name: (offset, length)} and
    the RecipientInfos' encodings in file order."""
    root = parse(data)
    env = root.kids[1].kids[0]
    version, ris, eci, mac = env.kids
    f = {"mac": (mac.start, len(mac.value))}
    nonce = eci.kids[1].kids[1].kids[0]
    f["nonce"] = (nonce.start, len(nonce.value))
    segs = eci.kids[2].kids
    if segs:
        f["ciphertext"] = (segs[0].start, len(segs[0].value))
    for i, ri in enumerate(ris.kids):
        if ri.tag == 0x30:
            k = ri.kids[-1]
            f[f"rsa{i}.key"] = (k.start, len(k.value))
        elif ri.tag == 0xa1:
            point = ri.kids[1].kids[0].kids[1]
            k = ri.kids[3].kids[0].kids[1]
            f[f"ec{i}.point"] = (point.start + 1, len(point.value) - 1)
            f[f"ec{i}.key"] = (k.start, len(k.value))
        elif ri.tag == 0xa2:
            k = ri.kids[-1]
            f[f"pass{i}.key"] = (k.start, len(k.value))
    encodings = [data[r.off:r.end] for r in ris.kids]
    return f, encodings


# ---- helpers ------------------------------------------------------------------------------------


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, **kw)


def ossl_decrypt(cms, out, key):
    """openssl cms -decrypt with ("cert", key, cert) or ("kek", hex, id)."""
    if key[0] == "cert":
        extra = ["-inkey", key[1], "-recip", key[2]]
    else:
        extra = ["-secretkey", key[1], "-secretkeyid", key[2]]
    return run("openssl", "cms", "-decrypt", "-inform", "DER", "-binary", "-in", cms,
               "-out", out, *extra).returncode


def argon2_kek(cms, passfile):
    """The KEK of the passphrase recipient (salt and costs from the file)."""
    data = open(cms, "rb").read()
    root = parse(data)
    for ri in root.kids[1].kids[0].kids[1].kids:
        if ri.tag != 0xa2:
            continue
        kekid = ri.kids[1]
        salt = kekid.kids[0].value
        params = [int.from_bytes(x.value, "big") for x in kekid.kids[1].kids[1].kids]
        assert params[0] == 19 and params[3] == 1
        pw = open(passfile, "rb").read().split(b"\n")[0].rstrip(b"\r")
        kek = nacl.pwhash.argon2id.kdf(32, pw, salt, opslimit=params[1],
                                       memlimit=params[2] * 1024)
        return kek.hex(), salt.hex()
    return None


def der_sorted(encodings):
    """DER's order of a SET OF: byte-wise, a prefix first."""
    return all(encodings[i] <= encodings[i + 1] for i in range(len(encodings) - 1))


def main():
    w = tempfile.mkdtemp(prefix="medseal-cms-match.")
    try:
        return body(w)
    finally:
        shutil.rmtree(w, ignore_errors=True)


def body(w):
    os.chdir(w)
    # ---- keys, certificates, passphrase
    certs = {}
    for name, alg in [("rsa2048", ["-newkey", "rsa:2048"]), ("rsa3072", ["-newkey", "rsa:3072"]),
                      ("rsa4096", ["-newkey", "rsa:4096"]),
                      ("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                      ("ec2", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])]:
        p = run("openssl", "req", "-x509", *alg, "-nodes", "-keyout", name + ".key",
                "-out", name + ".crt", "-subj", "/CN=" + name, "-days", "2")
        assert p.returncode == 0, p.stderr
        certs[name] = ("cert", name + ".key", name + ".crt")
    with open("pass.txt", "w") as f:
        f.write("a passphrase for the template test\n")
    # ---- inputs: sizes around the ones that matter (empty, one byte, one segment)
    os.mkdir("in")
    sizes = {"empty": 0, "one": 1, "k1": 1000, "k4": 4096, "seg": 1 << 20, "seg1": (1 << 20) + 1}
    for name, n in sizes.items():
        with open(f"in/{name}.bin", "wb") as f:
            f.write(os.urandom(n))
    shutil.copy(os.path.join(CT, "CT0001.dcm"), "in/ct.dcm")
    inputs = sorted(os.listdir("in"))
    # openssl -stream writes inputs of up to 4 KiB as one segment, as medseal
    # does; it cannot stream an empty input at all ("Error writing CMS output")
    small = [n for n in inputs if 0 < os.path.getsize("in/" + n) <= 4096]

    sets = {
        "rsa2048": ["rsa2048"], "rsa3072": ["rsa3072"], "rsa4096": ["rsa4096"], "ec": ["ec"],
        "pass": ["pass"], "rsa+ec": ["rsa3072", "ec"], "two-ec": ["ec", "ec2"],
        "three-rsa": ["rsa2048", "rsa4096", "rsa3072"], "all": ["rsa3072", "ec", "pass"],
        "many": ["rsa2048", "ec", "rsa4096", "ec2", "pass"],
    }
    outputs = {}
    for sname, members in sets.items():
        args = []
        for m in members:
            args += ["--passphrase-file", "pass.txt"] if m == "pass" else ["--to", certs[m][2]]
        out = "out-" + sname
        p = run(MEDSEAL, "-q", "protect", "--sync", "none", "--scheme", "cms", *args, "in",
                "-o", out)
        check(p.returncode == 0, f"{sname}: protect: {p.stderr!r}")
        outputs[sname] = out

        # ---- openssl opens every file with every recipient, bit for bit
        kek = None
        if "pass" in members and nacl:
            kek = argon2_kek(f"{out}/{inputs[0]}.p7m", "pass.txt")
        opened = 0
        for n in inputs:
            cms = f"{out}/{n}.p7m"
            for m in members:
                key = ("kek",) + kek if m == "pass" and kek else certs.get(m)
                if key is None:
                    continue
                rc = ossl_decrypt(cms, "o.bin", key)
                same = rc == 0 and open("o.bin", "rb").read() == open("in/" + n, "rb").read()
                check(same, f"{sname}: openssl cms -decrypt {n} with {m}: exit {rc}")
                opened += same
        # medseal opens them too (the whole directory, with the first key)
        first = members[0]
        kargs = ["--passphrase-file", "pass.txt"] if first == "pass" else ["--key", certs[first][1]]
        p = run(MEDSEAL, "-q", "unprotect", *kargs, out, "-o", "back-" + sname)
        check(p.returncode == 0 and all(
            open(f"back-{sname}/{n}", "rb").read() == open("in/" + n, "rb").read()
            for n in inputs), f"{sname}: medseal unprotect round trip")

        # ---- fresh per-file fields; RecipientInfos in DER order
        seen = {}
        for n in inputs:
            f, encodings = fields(open(f"{out}/{n}.p7m", "rb").read())
            data = open(f"{out}/{n}.p7m", "rb").read()
            check(der_sorted(encodings), f"{sname}: {n}: RecipientInfos not in DER order")
            check(len(encodings) == len(members), f"{sname}: {n}: {len(encodings)} recipients")
            for k, (o, ln) in f.items():
                if k != "ciphertext":
                    seen.setdefault(k.split(".", 1)[-1] if "." in k else k, []).append(
                        data[o:o + ln])
        for k, vals in seen.items():
            check(len(set(vals)) == len(vals), f"{sname}: {k} repeated across files")

        # ---- OpenSSL's structure: openssl cms -encrypt -stream, same certificates
        if "pass" not in members:
            oargs = []
            for m in members:
                oargs += ["-recip", certs[m][2]]
                oargs += (["-keyopt", "ecdh_kdf_md:sha256"] if m.startswith("ec") else
                          ["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"])
            for n in small:
                p = run("openssl", "cms", "-encrypt", "-binary", "-stream", "-outform", "DER",
                        "-aes-256-gcm", "-in", "in/" + n, "-out", "ref.cms", *oargs)
                check(p.returncode == 0, f"openssl cms -encrypt: {p.stderr!r}")
                mine = open(f"{out}/{n}.p7m", "rb").read()
                ref = open("ref.cms", "rb").read()
                diff = same_shape(parse(mine), parse(ref))
                check(len(mine) == len(ref) and diff is None,
                      f"{sname}: {n}: not OpenSSL's structure ({len(mine)} vs {len(ref)} "
                      f"bytes): {diff}")
        print(f"ok: {sname}: {len(inputs)} files, {opened} openssl decryptions", file=sys.stderr)

    # ---- one changed byte in any per-file field: refused by both
    cms = f"{outputs['many']}/k1.bin.p7m"
    data = open(cms, "rb").read()
    f, encodings = fields(data)
    kek = argon2_kek(cms, "pass.txt") if nacl else None
    owner = {}  # RecipientInfo index: (openssl key or None, medseal key arguments)
    for i, enc in enumerate(encodings):
        if enc[0] == 0xa2:
            owner[i] = (("kek",) + kek if kek else None, ["--passphrase-file", "pass.txt"])
        for m in ("rsa2048", "rsa4096", "ec", "ec2"):
            if b"\x0c" + bytes([len(m)]) + m.encode() in enc:  # its issuer's CN
                owner[i] = (certs[m], ["--key", certs[m][1]])
    check(len(owner) == len(encodings), "every RecipientInfo has its key")
    refused = 0
    for name, (o, ln) in f.items():
        ri = "".join(c for c in name.split(".")[0] if c.isdigit())
        targets = [owner[int(ri)]] if ri else list(owner.values())
        for at in sorted({o, o + ln // 2, o + ln - 1}):
            bad = bytearray(data)
            bad[at] ^= 0x01
            open("bad.cms", "wb").write(bad)
            for okey, margv in targets:
                if okey:
                    rc = ossl_decrypt("bad.cms", "o.bin", okey)
                    check(rc != 0, f"openssl opens the file with {name} changed at {at}")
                shutil.rmtree("bad-out", ignore_errors=True)
                p = run(MEDSEAL, "-q", "unprotect", *margv, "bad.cms", "-o", "bad-out")
                check(p.returncode in (3, 4) and not os.path.exists("bad-out"),
                      f"medseal unprotect {margv[1]}: {name} changed at {at}: exit "
                      f"{p.returncode}")
                refused += 1
    print(f"ok: {refused} changed files refused ({len(f)} per-file fields)", file=sys.stderr)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
