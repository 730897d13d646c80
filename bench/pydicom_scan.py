#!/usr/bin/python3
"""Peer of `medseal scan` for bench/scan_validate.sh: read every file given
with pydicom (stop_before_pixels), group by Series Instance UID, sort each
series by Image Position (Patient) projected on the slice normal and count
the steps that differ from the median. Prints one line per series."""
import sys
from collections import defaultdict

import numpy as np
import pydicom


def main(paths):
    series = defaultdict(list)
    for p in paths:
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
        except Exception:  # not DICOM: skipped, as medseal does
            continue
        series[ds.get("SeriesInstanceUID", "")].append(ds)
    for uid, dss in series.items():
        irregular = 0
        try:
            iop = np.array(dss[0].ImageOrientationPatient, float)
            normal = np.cross(iop[:3], iop[3:])
            d = np.sort([np.dot(np.array(x.ImagePositionPatient, float), normal) for x in dss])
            steps = np.diff(d)
            if len(steps):
                irregular = int(np.sum(np.abs(steps - np.median(steps)) > 0.01))
        except AttributeError:
            pass
        print(uid, len(dss), irregular)


if __name__ == "__main__":
    main(sys.argv[1:])
