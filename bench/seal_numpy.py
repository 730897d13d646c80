#!/usr/bin/python3
"""Peer of `medseal seal` for bench/seal.sh, and the reference DRR of
tests/integration/test_drr_numpy.py: seed 000's method written the direct way
with pydicom and numpy.

  1. read every slice, sort by Image Position projected on the normal;
  2. build the 3D volume in HU and resample it to isotropic voxels (voxel =
     the smaller pixel spacing) by linear interpolation;
  3. DRR = mean of HU along the ray (AP, LR or SI), rounded to integer HU;
  4. cut the DRR into GRID x GRID blocks, order them zig-zag, encrypt each
     block with AES-256-GCM (Debian's python3-cryptography);
  5. with --hash, also what `medseal seal` adds (the same work as it): the
     SHA-256 of every file and of its Pixel Data (hashlib, i.e. OpenSSL).

The whole volume is held in memory as float64, as a straightforward
implementation does. Views and axes follow docs/drr.md (patient axes, LPS).

usage: seal_numpy.py DIR [--view ap|lr|si] [--grid 4|8] [-k KEYFILE] [--hash]
                     [--save-drr OUT.npy] [--quiet]
"""
import argparse
import hashlib
import os
import sys
import time

import numpy as np
import pydicom

VIEWS = {  # ray, image x, image y patient axes (0 X, 1 Y, 2 Z); y runs down Z
    "ap": (1, 0, 2, True),
    "lr": (0, 1, 2, True),
    "si": (2, 0, 1, False),
}


def load(directory, digests=None):
    """Slices of the one volume in DIR: list of (position, dataset), the
    orientation and the normal. With digests (a list), the SHA-256 of every
    file and of its Pixel Data are appended to it."""
    slices = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            if digests is not None:
                with open(path, "rb") as f:
                    digests.append(hashlib.sha256(f.read()).digest())
            try:
                ds = pydicom.dcmread(path)
            except Exception:
                continue
            if digests is not None and "PixelData" in ds:
                digests.append(hashlib.sha256(ds.PixelData).digest())
            if "ImagePositionPatient" in ds and "PixelData" in ds:
                slices.append(ds)
    if len(slices) < 2:
        raise SystemExit("seal_numpy: fewer than two slices in " + directory)
    iop = np.array([float(v) for v in slices[0].ImageOrientationPatient])
    normal = np.cross(iop[:3], iop[3:])
    keyed = []
    for ds in slices:
        pos = float(np.dot([float(v) for v in ds.ImagePositionPatient], normal))
        keyed.append((pos, int(ds.get("InstanceNumber", -1) or -1), str(ds.SOPInstanceUID), ds))
    keyed.sort(key=lambda t: t[:3])
    return keyed, iop, normal


def iso_count(n, d, iso):
    return int(np.floor((n - 1) * d / iso + 1e-6)) + 1


def resample_axis(a, axis, d, iso):
    """Linear interpolation of axis (native spacing d) at multiples of iso."""
    n = a.shape[axis]
    m = iso_count(n, d, iso)
    if m == n and d == iso:
        return a
    t = np.arange(m) * iso / d
    i0 = np.minimum(np.floor(t).astype(int), n - 1)
    f = t - i0
    i1 = np.minimum(i0 + 1, n - 1)
    shape = [1] * a.ndim
    shape[axis] = m
    f = f.reshape(shape)
    return np.take(a, i0, axis=axis) * (1 - f) + np.take(a, i1, axis=axis) * f


def volume_iso(keyed, iop):
    """Isotropic volume (w, v, u) in HU as float64, and its voxel size."""
    first = keyed[0][3]
    dv, du = (float(x) for x in first.PixelSpacing)
    iso = min(du, dv)
    pos = np.array([k[0] for k in keyed])
    vol = np.stack([k[3].pixel_array.astype(np.float64) * float(k[3].get("RescaleSlope", 1))
                    + float(k[3].get("RescaleIntercept", 0)) for k in keyed])
    z0, extent = pos[0], pos[-1] - pos[0]
    mw = int(np.floor(extent / iso + 1e-6)) + 1
    t = z0 + np.arange(mw) * iso
    k = np.clip(np.searchsorted(pos, t, side="right") - 1, 0, len(pos) - 1)
    nxt = np.minimum(k + 1, len(pos) - 1)
    gap = pos[nxt] - pos[k]
    f = np.where(gap > 0, (t - pos[k]) / np.where(gap > 0, gap, 1), 0.0)[:, None, None]
    vol = vol[k] * (1 - f) + vol[nxt] * f
    vol = resample_axis(vol, 1, dv, iso)
    vol = resample_axis(vol, 2, du, iso)
    return vol, iso


def drr(vol, iop, view, rounded=True):
    """Mean along the ray, oriented as docs/drr.md, rounded half away from 0
    (unless rounded is False)."""
    dirs = [iop[:3], iop[3:], np.cross(iop[:3], iop[3:])]  # volume axes u, v, w
    pat = [int(np.argmax(np.abs(d))) for d in dirs]
    neg = [dirs[a][pat[a]] < 0 for a in range(3)]
    vol_of = {p: a for a, p in enumerate(pat)}
    ray, hpat, vpat, vdown = VIEWS[view]
    np_axis = {0: 2, 1: 1, 2: 0}  # volume axis -> numpy axis of (w, v, u)
    r, h, v = vol_of[ray], vol_of[hpat], vol_of[vpat]
    img = vol.mean(axis=np_axis[r])
    rest = [a for a in (2, 1, 0) if a != np_axis[r]]  # numpy axes left, in order
    # img axes are the remaining numpy axes in increasing order
    order = sorted(rest)
    img = np.transpose(img, (order.index(np_axis[v]), order.index(np_axis[h])))
    if neg[h]:
        img = img[:, ::-1]
    if neg[v] != vdown:
        img = img[::-1, :]
    return np.sign(img) * np.floor(np.abs(img) + 0.5) if rounded else img


def zigzag(n):
    """Row-major block numbers in seed 000's zig-zag order."""
    out = []
    for s in range(2 * n - 1):
        cells = [(r, s - r) for r in range(n) if 0 <= s - r < n]
        if s % 2 == 0:
            cells.reverse()  # even diagonals run up and to the right
        out.extend(r * n + c for r, c in cells)
    return out


def blocks(img, n):
    h, w = img.shape
    bh, bw = h // n, w // n
    for b in zigzag(n):
        r, c = divmod(b, n)
        y0, x0 = r * bh, c * bw
        y1 = h if r == n - 1 else y0 + bh
        x1 = w if c == n - 1 else x0 + bw
        yield b, img[y0:y1, x0:x1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--view", default="ap", choices=sorted(VIEWS))
    ap.add_argument("--grid", type=int, default=4)
    ap.add_argument("-k", dest="key")
    ap.add_argument("--hash", action="store_true")
    ap.add_argument("--save-drr")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    t0 = time.perf_counter()
    digests = [] if a.hash else None
    keyed, iop, _ = load(a.dir, digests)
    vol, iso = volume_iso(keyed, iop)
    img = drr(vol, iop, a.view)
    del vol
    t1 = time.perf_counter()
    cipher = []
    if a.key:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        with open(a.key, "rb") as f:
            key = f.read()
        if len(key) != 32:
            raise SystemExit("seal_numpy: -k needs a raw 32-byte key file")
        gcm = AESGCM(key)
        for i, (b, blk) in enumerate(blocks(img, a.grid)):
            nonce = i.to_bytes(12, "big")
            cipher.append((b, gcm.encrypt(nonce, blk.astype("<i2").tobytes(), None)))
    t2 = time.perf_counter()
    if a.save_drr:
        np.save(a.save_drr, img.astype(np.int32))
    if not a.quiet:
        print("slices %d iso %.4f mm drr %dx%d view %s blocks %d digests %d load+drr %.3f s "
              "encrypt %.3f s" % (len(keyed), iso, img.shape[1], img.shape[0], a.view,
                                  len(cipher), len(digests or []), t1 - t0, t2 - t1))


if __name__ == "__main__":
    sys.exit(main())
