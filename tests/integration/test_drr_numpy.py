#!/usr/bin/python3
"""medseal drr against the direct numpy/pydicom implementation of seed 000's
DRR (bench/seal_numpy.py: the whole volume in memory, resampled to
isotropic voxels, averaged along the ray): on data/cranium-ct in the three
views, and on synthetic series written with pydicom that medseal's streaming
shortcuts must get right too: irregular slice positions, a non-integral
rescale slope, non-square pixels (in-plane resampling), a sagittal
acquisition and a reversed slice order. medseal works in fixed point (weights
in 1/65536, HU in 1/256), numpy in float64; the interpolation weights'
quantisation moves a mean by at most |HU step between slices| / 131072 (under
0.05 HU even for the random data below). So every pixel must equal numpy's
mean rounded half away from zero, except where that mean lies within 0.05 HU
of a rounding tie (x.5), where either neighbour is accepted.
Environment: MEDSEAL, MEDSEAL_SRC."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from itlib import MEDSEAL, SRC, check, finish

sys.path.insert(0, os.path.join(SRC, "bench"))
import seal_numpy  # noqa: E402


def medseal_drr(directory, view, out):
    subprocess.run([MEDSEAL, "-q", "drr", directory, "--view", view, "--raw16", "-o", out],
                   check=True)
    return np.array(Image.open(out)).astype(np.int64) - 1024


def numpy_drr(directory, view):
    """numpy's mean (unrounded)."""
    keyed, iop, _ = seal_numpy.load(directory)
    vol, _ = seal_numpy.volume_iso(keyed, iop)
    return seal_numpy.drr(vol, iop, view, rounded=False)


def compare(directory, label, tmp):
    for view in ("ap", "lr", "si"):
        got = medseal_drr(directory, view, os.path.join(tmp, "%s-%s.png" % (label, view)))
        want = numpy_drr(directory, view)
        same_shape = got.shape == want.shape
        check(same_shape, "%s %s: shape %s, numpy %s" % (label, view, got.shape, want.shape))
        if not same_shape:
            continue
        rounded = np.sign(want) * np.floor(np.abs(want) + 0.5)
        tie = np.abs(np.abs(want - np.trunc(want)) - 0.5) < 0.05
        ok = (got == rounded) | (tie & (np.abs(got - want) < 0.55))
        check(ok.all(), "%s %s: %d of %d pixels differ from numpy, largest %.4f HU"
              % (label, view, (~ok).sum(), ok.size, np.abs(got - want).max()))


def write_series(directory, positions, rows, cols, spacing, iop, slope=1.0, seed=0):
    os.makedirs(directory)
    rng = np.random.default_rng(seed)
    iop = [float(v) for v in iop]
    normal = np.cross(iop[:3], iop[3:])
    for i, z in enumerate(positions):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        ds.SOPInstanceUID = "1.2.826.0.1.3680043.10.998.%d.%d" % (seed, i + 1)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.998.%d" % seed
        ds.Modality = "CT"
        ds.InstanceNumber = i + 1
        ds.ImagePositionPatient = [float(v) for v in normal * z]
        ds.ImageOrientationPatient = iop
        ds.PixelSpacing = [spacing[0], spacing[1]]
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = slope
        ds.PixelData = rng.integers(0, 3000, (rows, cols), dtype=np.uint16).tobytes()
        ds.save_as(os.path.join(directory, "S%03d.dcm" % i), write_like_original=False)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        compare(os.path.join(SRC, "data", "cranium-ct"), "cranium", tmp)
        axial = os.path.join(tmp, "axial")
        write_series(axial, [0, 0.7, 2.0, 3.1, 3.3, 5.0], 20, 24, (1.0, 0.6),
                     (1, 0, 0, 0, 1, 0), slope=1.5, seed=1)
        compare(axial, "irregular-axial", tmp)
        sagittal = os.path.join(tmp, "sagittal")
        write_series(sagittal, [0, 0.8, 1.6, 2.4, 3.2, 4.0, 4.8], 18, 16, (0.8, 0.8),
                     (0, 1, 0, 0, 0, -1), seed=2)
        compare(sagittal, "sagittal", tmp)
        reversed_ = os.path.join(tmp, "reversed")
        write_series(reversed_, [4, 3, 2, 1, 0], 12, 12, (1.0, 1.0),
                     (-1, 0, 0, 0, -1, 0), seed=3)
        compare(reversed_, "flipped", tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
