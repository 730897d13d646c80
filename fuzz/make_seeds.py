#!/usr/bin/python3
"""Make the seed corpus of the fuzz targets from pydicom's test files.

usage: fuzz/make_seeds.py OUT_DIR [PYDICOM_DATA_DIR]

Copies the DICOM files of pydicom's test_files and charset_files (Debian's
python3-pydicom) into OUT_DIR, named after their origin. Files over 60 KiB
are shrunk with pydicom: large binary values are cut to 4 KiB and the frames
of encapsulated Pixel Data to 8 KiB each, so that every seed fits libFuzzer's
-max_len=65536. The seeds were the starting point of fuzz/corpus/*; the
committed corpora are what libFuzzer's -merge=1 kept from them and from the
fuzzing runs (see fuzz/README.md).
"""
import io
import os
import shutil
import sys

import pydicom
from pydicom.encaps import encapsulate, generate_pixel_data_frame

LIMIT = 60 * 1024
NOT_DICOM = ('.json', '.txt', '.dump', '.gz', '.py', 'README', 'FileInfo.txt')
# the dicomdirtests tree repeats the same few files; keep a sample
DICOMDIR_SAMPLE = (
    'DICOMDIR', 'DICOMDIR-bigEnd', 'DICOMDIR-implicit', 'DICOMDIR-nooffset',
    'DICOMDIR-nopatient', 'DICOMDIR-reordered', 'DICOMDIR-empty.dcm',
    'TINY_ALPHA/DICOMDIR', 'TINY_ALPHA/PT000000/ST000000/SE000000/IM000000',
    '77654033/CR1/6154', '77654033/CT2/17106', '98892003/MR1/5641',
    '98892001/CT2N/6924',
)


def shrink_values(ds, encapsulated):
    for elem in ds.iterall():
        if elem.VR in ('OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'UN') and elem.value is not None:
            if not isinstance(elem.value, (bytes, bytearray)) or len(elem.value) <= 4096:
                continue
            if elem.tag == 0x7FE00010 and encapsulated:
                frames = [f[:8192] for f in generate_pixel_data_frame(elem.value)]
                elem.value = encapsulate(frames[:2])
            else:
                elem.value = elem.value[:4096]


def shrink(path):
    ds = pydicom.dcmread(path, force=True)
    ts = ds.file_meta.get('TransferSyntaxUID') if hasattr(ds, 'file_meta') else None
    shrink_values(ds, bool(ts and ts.is_compressed))
    out = io.BytesIO()
    ds.save_as(out, write_like_original=True)
    return out.getvalue()


def seeds(root):
    for sub in ('test_files', 'charset_files'):
        base = os.path.join(root, sub)
        for name in sorted(os.listdir(base)):
            path = os.path.join(base, name)
            if os.path.isfile(path) and not name.endswith(NOT_DICOM):
                yield sub, name, path
    base = os.path.join(root, 'test_files', 'dicomdirtests')
    for rel in DICOMDIR_SAMPLE:
        path = os.path.join(base, rel)
        if os.path.isfile(path):
            yield 'dicomdir', rel.replace('/', '_'), path


def main():
    out = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(pydicom.__file__) + '/data'
    os.makedirs(out, exist_ok=True)
    total = 0
    for sub, name, path in seeds(root):
        dest = os.path.join(out, '%s_%s' % (sub.split('_')[0], name))
        if os.path.getsize(path) <= LIMIT:
            shutil.copyfile(path, dest)
        else:
            data = shrink(path)
            if len(data) > LIMIT:
                print('skipped (still %d bytes): %s' % (len(data), path))
                continue
            with open(dest, 'wb') as f:
                f.write(data)
            print('shrunk %s: %d -> %d bytes' % (name, os.path.getsize(path), len(data)))
        total += os.path.getsize(dest)
    print('%d seeds, %d bytes' % (len(os.listdir(out)), total))


if __name__ == '__main__':
    main()
