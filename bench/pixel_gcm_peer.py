#!/usr/bin/python3
"""Seed 001 in Python, the peer of `medseal protect --scheme pixel-gcm`:
pydicom reads each file, the Pixel Data value is encrypted with AES-256-GCM
(cryptography's AESGCM, 96-bit IV, 128-bit tag) and the file written back
with the IV and tag in a private block. Key as in the paper (Whirlpool of
SOP Instance UID + Patient Name; key = bytes 0..31, IV = bytes 32..43; needs
OpenSSL's legacy provider, see bench/pixel_gcm_frames.sh) or from a 32-byte
key file with a random IV. The whole value is one GCM message (the paper has
no frames); the header is not bound as AAD (the paper does not say which
bytes). A benchmark peer, not a medseal format.

usage: pixel_gcm_peer.py protect|unprotect (--key-from-header | -k KEY) -o OUTDIR FILE...
"""
import argparse
import hashlib
import os
import sys

import pydicom
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CREATOR = "PYPEER SEED001"


def header_key(ds):
    uid = str(ds.SOPInstanceUID).encode()
    name = str(ds.get("PatientName", "")).encode()
    d = hashlib.new("whirlpool", uid + name).digest()
    return d[:32], d[32:44]


def protect(ds, args, key):
    if args.key_from_header:
        key, iv = header_key(ds)
    else:
        iv = os.urandom(12)
    sealed = AESGCM(key).encrypt(iv, ds.PixelData, None)
    ds.PixelData = sealed[:-16]
    block = ds.private_block(0x7FD3, CREATOR, create=True)
    block.add_new(0x01, "OB", iv)
    block.add_new(0x02, "OB", sealed[-16:])


def unprotect(ds, args, key):
    block = ds.private_block(0x7FD3, CREATOR)
    iv, tag = block[0x01].value, block[0x02].value
    if args.key_from_header:
        key, _ = header_key(ds)
    ds.PixelData = AESGCM(key).decrypt(iv, ds.PixelData + tag, None)
    del ds[block.get_tag(0x01)]
    del ds[block.get_tag(0x02)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["protect", "unprotect"])
    ap.add_argument("--key-from-header", action="store_true")
    ap.add_argument("-k")
    ap.add_argument("-o", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    key = None
    if not args.key_from_header:
        with open(args.k, "rb") as f:
            key = f.read()
        if len(key) != 32:
            sys.exit("key file: 32 bytes")
    os.makedirs(args.o, exist_ok=True)
    for path in args.files:
        ds = pydicom.dcmread(path)
        (protect if args.mode == "protect" else unprotect)(ds, args, key)
        ds.save_as(os.path.join(args.o, os.path.basename(path)))


if __name__ == "__main__":
    main()
