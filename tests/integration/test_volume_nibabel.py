#!/usr/bin/python3
"""`medseal volume` checked with nibabel (shape, affine, values) against a
volume built independently here with pydicom and numpy: the bundled CT
series, its isotropic resampling, an oblique copy, a tilted (sheared) copy,
an Enhanced CT multi-frame copy with per-frame rescale, a 4D copy (two
temporal positions), two series in one directory, and a copy with a slice
missing (refused unless resampled)."""
import glob
import os
import subprocess
import sys
import tempfile
import warnings

import nibabel as nib
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from itlib import CT, MEDSEAL
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
failures = []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def medseal(*args):
    p = subprocess.run([MEDSEAL, "-q", "volume"] + list(args), capture_output=True, text=True)
    return p.returncode, p.stderr


# ---- the independent reference ----------------------------------------------------------

def frames_of(paths):
    """[(position, orientation, spacing, HU image)] of every frame of the files."""
    out = []
    for p in paths:
        ds = pydicom.dcmread(p)
        arr = ds.pixel_array.astype(np.float64)
        if "PerFrameFunctionalGroupsSequence" in ds:
            shared = ds.SharedFunctionalGroupsSequence[0]
            for k, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
                def get(seq, attr):
                    for where in (item, shared):
                        if seq in where:
                            return getattr(getattr(where, seq)[0], attr)
                pos = get("PlanePositionSequence", "ImagePositionPatient")
                iop = get("PlaneOrientationSequence", "ImageOrientationPatient")
                sp = get("PixelMeasuresSequence", "PixelSpacing")
                slope = float(get("PixelValueTransformationSequence", "RescaleSlope"))
                icpt = float(get("PixelValueTransformationSequence", "RescaleIntercept"))
                out.append((np.array(pos, float), np.array(iop, float), np.array(sp, float),
                            arr[k] * slope + icpt))
        else:
            out.append((np.array(ds.ImagePositionPatient, float),
                        np.array(ds.ImageOrientationPatient, float),
                        np.array(ds.PixelSpacing, float),
                        arr * float(ds.RescaleSlope) + float(ds.RescaleIntercept)))
    return out


def reference(paths):
    """(data[i, j, k] with i = column, j = row, RAS affine, positions along the normal)."""
    fr = frames_of(paths)
    iop = fr[0][1]
    normal = np.cross(iop[:3], iop[3:])
    fr.sort(key=lambda f: float(np.dot(f[0], normal)))
    data = np.stack([f[3].T for f in fr], axis=-1)
    first, last, n = fr[0][0], fr[-1][0], len(fr)
    aff = np.eye(4)
    aff[:3, 0] = iop[:3] * fr[0][2][1]
    aff[:3, 1] = iop[3:] * fr[0][2][0]
    aff[:3, 2] = (last - first) / (n - 1)
    aff[:3, 3] = first
    dists = np.array([np.dot(f[0], normal) for f in fr])
    return data, LPS_TO_RAS @ aff, dists


def compare(nii, paths, what, resampled_to=None):
    img = nib.load(nii)
    data, aff, dists = reference(paths)
    got = np.asarray(img.dataobj, dtype=np.float64)
    if resampled_to:
        step = resampled_to
        nz = int(np.floor((dists[-1] - dists[0]) / step + 1e-6)) + 1
        t = dists[0] + step * np.arange(nz)
        idx = np.clip(np.searchsorted(dists, t, side="right") - 1, 0, len(dists) - 2)
        w = (t - dists[idx]) / (dists[idx + 1] - dists[idx])
        data = data[:, :, idx] * (1 - w) + data[:, :, idx + 1] * w
        aff = aff.copy()
        aff[:3, 2] *= step / ((dists[-1] - dists[0]) / (len(dists) - 1))
    check(img.shape == data.shape, "%s: shape %s == %s" % (what, img.shape, data.shape))
    check(np.allclose(img.affine, aff, atol=1e-4), "%s: affine\n%s\n== expected\n%s"
          % (what, np.round(img.affine, 4), np.round(aff, 4)))
    if img.header["qform_code"] > 0:
        check(np.allclose(img.header.get_qform(), aff, atol=1e-3), "%s: qform == sform" % what)
    if img.shape == data.shape:
        err = np.abs(got - data).max()
        check(err < 1e-3, "%s: values (max |difference| %.3g)" % (what, err))


# ---- copies -----------------------------------------------------------------------------

def rewrite(paths, out_dir, fn):
    os.makedirs(out_dir, exist_ok=True)
    new = []
    for i, p in enumerate(paths):
        ds = pydicom.dcmread(p)
        fn(ds, i)
        q = os.path.join(out_dir, os.path.basename(p))
        ds.save_as(q)
        new.append(q)
    return new


def rotation_x(deg):
    a = np.radians(deg)
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


def oblique(ds, i):
    r = rotation_x(25) @ np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]])  # also permute axes
    iop = np.array(ds.ImageOrientationPatient, float)
    ds.ImageOrientationPatient = ["%.8f" % v for v in np.concatenate([r @ iop[:3], r @ iop[3:]])]
    ds.ImagePositionPatient = ["%.6f" % v for v in r @ np.array(ds.ImagePositionPatient, float)]


def tilted(ds, i):
    pos = np.array(ds.ImagePositionPatient, float)
    pos[1] += 0.2 * pos[2]
    ds.ImagePositionPatient = ["%.6f" % v for v in pos]


def enhanced(paths, out):
    """One Enhanced CT file from the slices, per-frame positions and rescale."""
    first = pydicom.dcmread(paths[0])
    ds = first.copy()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    for kw in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing",
               "RescaleSlope", "RescaleIntercept", "SliceLocation", "SliceThickness"):
        delattr(ds, kw)
    shared = Dataset()
    orient, meas = Dataset(), Dataset()
    orient.ImageOrientationPatient = first.ImageOrientationPatient
    meas.PixelSpacing = first.PixelSpacing
    meas.SliceThickness = first.SliceThickness
    shared.PlaneOrientationSequence = Sequence([orient])
    shared.PixelMeasuresSequence = Sequence([meas])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    items, pixels = [], []
    for k, p in enumerate(reversed(paths)):  # frames stored in reverse z order
        s = pydicom.dcmread(p)
        item, pos, xf = Dataset(), Dataset(), Dataset()
        pos.ImagePositionPatient = s.ImagePositionPatient
        item.PlanePositionSequence = Sequence([pos])
        shift = 10 * (k % 3)  # a different intercept per frame, same HU
        xf.RescaleSlope = "1"
        xf.RescaleIntercept = str(-1024 - shift)
        xf.RescaleType = "HU"
        item.PixelValueTransformationSequence = Sequence([xf])
        items.append(item)
        pixels.append((s.pixel_array.astype(np.int32) + shift).astype(np.uint16))
    ds.PerFrameFunctionalGroupsSequence = Sequence(items)
    ds.NumberOfFrames = len(paths)
    ds.PixelData = np.stack(pixels).tobytes()
    ds.save_as(out)
    return [out]


def temporal(ds, i):
    ds.TemporalPositionIdentifier = 1 + i % 2
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()


# ---- cases ------------------------------------------------------------------------------

def main():
    warnings.simplefilter("ignore")
    paths = sorted(glob.glob(os.path.join(CT, "*.dcm")))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ct.nii")
        rc, err = medseal(CT, "-o", out)
        check(rc == 0, "CT series: exit 0 (%s)" % err.strip())
        compare(out, paths, "CT series")
        check(nib.load(out).get_data_dtype() == np.int16, "CT series: int16 voxels")

        rc, err = medseal("--isotropic", CT, "-o", out)
        check(rc == 0, "CT isotropic: exit 0 (%s)" % err.strip())
        compare(out, paths, "CT isotropic", resampled_to=0.95703125)

        rc, err = medseal("--float32", CT, "-o", out)
        check(rc == 0 and nib.load(out).get_data_dtype() == np.float32, "--float32")

        obl = rewrite(paths[:30], os.path.join(tmp, "oblique"), oblique)
        rc, err = medseal(os.path.join(tmp, "oblique"), "-o", out)
        check(rc == 0, "oblique: exit 0 (%s)" % err.strip())
        compare(out, obl, "oblique")

        tilt = rewrite(paths[:30], os.path.join(tmp, "tilted"), tilted)
        rc, err = medseal(os.path.join(tmp, "tilted"), "-o", out)
        check(rc == 0, "tilted: exit 0 (%s)" % err.strip())
        compare(out, tilt, "tilted (sheared affine)")

        os.makedirs(os.path.join(tmp, "enhanced"))
        enh = enhanced(paths[:12], os.path.join(tmp, "enhanced", "multi.dcm"))
        rc, err = medseal(os.path.join(tmp, "enhanced"), "-o", out)
        check(rc == 0, "enhanced multi-frame: exit 0 (%s)" % err.strip())
        compare(out, enh, "enhanced multi-frame")

        four = rewrite(paths[:20], os.path.join(tmp, "4d"), temporal)
        for p in four:  # both temporal positions at every slice position
            ds = pydicom.dcmread(p)
            ds.TemporalPositionIdentifier = 3 - int(ds.TemporalPositionIdentifier)
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            ds.save_as(p[:-4] + "b.dcm")
        rc, err = medseal(os.path.join(tmp, "4d"), "-o", out)
        check(rc == 2 and "--stack" in err, "4D without --stack: exit 2 (%d)" % rc)
        rc, err = medseal("--all", os.path.join(tmp, "4d"), "-o", out)
        check(rc == 0, "4D --all: exit 0 (%s)" % err.strip())
        for k in (1, 2):
            part = sorted(p for p in glob.glob(os.path.join(tmp, "4d", "*.dcm"))
                          if int(pydicom.dcmread(p).TemporalPositionIdentifier) == k)
            compare(os.path.join(tmp, "ct_%d.nii" % k), part, "4D stack %d" % k)

        two = os.path.join(tmp, "two")
        rewrite(paths[:10], two, lambda ds, i: None)

        def second(ds, i):
            ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.1"
            ds.SeriesNumber = 7
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        sec = rewrite(paths[20:30], os.path.join(two, "other"), second)
        rc, err = medseal(two, "-o", out)
        check(rc == 2 and "--series" in err, "two series without --series: exit 2")
        rc, err = medseal("--series", "7", two, "-o", out)
        check(rc == 0, "two series, --series 7: exit 0 (%s)" % err.strip())
        compare(out, sec, "two series, the second")

        rle = os.path.join(tmp, "rle")
        p = subprocess.run([MEDSEAL, "-q", "transcode", "--to", "rle"] + paths[:15] + ["-o", rle],
                           capture_output=True, text=True)
        check(p.returncode == 0, "RLE copy made with medseal transcode (%s)" % p.stderr.strip())
        rc, err = medseal(rle, "-o", out)
        check(rc == 0, "RLE series: exit 0 (%s)" % err.strip())
        compare(out, sorted(glob.glob(os.path.join(rle, "**", "*.dcm"), recursive=True)),
                "RLE Lossless series")

        gap = os.path.join(tmp, "gap")
        kept = rewrite(paths[:20], gap, lambda ds, i: None)
        os.remove(kept.pop(9))
        rc, err = medseal(gap, "-o", out)
        check(rc == 1 and "not evenly spaced" in err, "missing slice: refused, exit 1")
        rc, err = medseal("--slice-spacing", "1.5", gap, "-o", out)
        check(rc == 0 and nib.load(out).shape[2] == 20, "missing slice: resampled to 1.5 mm")
        compare(out, kept, "missing slice resampled", resampled_to=1.5)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
