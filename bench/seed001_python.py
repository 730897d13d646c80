#!/usr/bin/python3
"""Seed 001 in Python, as a benchmark peer of `medseal protect`: AES-256-GCM of the
Pixel Data of every DICOM file, one file after the other, with pydicom (reading and
writing) and cryptography (Debian's python3-cryptography, OpenSSL underneath).

Per file: a fresh random 96-bit IV, Pixel Data replaced by ciphertext || 128-bit tag,
the SOP Instance UID bound as additional authenticated data, the IV kept in a private
element (0009,xx10) of creator "SEED001 BENCH". --decrypt undoes it, so the benchmark
can check the round trip.

usage: seed001_python.py [--decrypt] KEYFILE IN_DIR OUT_DIR
  KEYFILE  32 raw bytes (e.g. `openssl rand -out k.bin 32`)
"""
import os
import sys

import pydicom
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CREATOR = "SEED001 BENCH"
GROUP = 0x0009


def iv_tag(ds):
    block = ds.private_block(GROUP, CREATOR, create=True)
    return block.get_tag(0x10)


def aad_of(ds):
    return str(ds.SOPInstanceUID).encode("ascii")


def encrypt_file(aes, src, dst):
    ds = pydicom.dcmread(src)
    iv = os.urandom(12)
    ds.PixelData = aes.encrypt(iv, ds.PixelData, aad_of(ds))
    ds.add_new(iv_tag(ds), "OB", iv)
    ds.save_as(dst)


def decrypt_file(aes, src, dst):
    ds = pydicom.dcmread(src)
    tag = iv_tag(ds)
    ds.PixelData = aes.decrypt(ds[tag].value, ds.PixelData, aad_of(ds))
    del ds[tag]
    del ds[tag.group << 16 | 0x0010]  # the private creator element
    ds.save_as(dst)


def main(argv):
    decrypt = len(argv) > 1 and argv[1] == "--decrypt"
    args = argv[2:] if decrypt else argv[1:]
    if len(args) != 3:
        sys.stderr.write(__doc__)
        return 2
    keyfile, src_dir, dst_dir = args
    with open(keyfile, "rb") as f:
        key = f.read()
    if len(key) != 32:
        sys.stderr.write("seed001_python: the key file must hold 32 bytes\n")
        return 2
    aes = AESGCM(key)
    work = decrypt_file if decrypt else encrypt_file
    os.makedirs(dst_dir, exist_ok=True)
    for name in sorted(os.listdir(src_dir)):
        if name.endswith(".dcm"):
            work(aes, os.path.join(src_dir, name), os.path.join(dst_dir, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
