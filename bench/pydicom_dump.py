#!/usr/bin/python3
"""Peer of `medseal dump` for bench/dump.sh: pydicom 2.3 (Debian's).

usage: pydicom_dump.py [--str] FILE...
  default  dcmread each file and take the bytes of ds.PixelData (as the issue
           asks: "dcmread + Pixel Data bytes"); prints the total byte count
  --str    also format the whole dataset with str(ds) and print it (the
           closest pydicom gets to a dcmdump-like listing)
"""
import sys

import pydicom


def main(argv):
    listing = False
    if argv and argv[0] == "--str":
        listing = True
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.stdout
    total = 0
    for path in argv:
        ds = pydicom.dcmread(path)
        total += len(ds.PixelData)
        if listing:
            out.write("\n# %s\n" % path)
            out.write(str(ds))
            out.write("\n")
    print("%d files, %d bytes of Pixel Data" % (len(argv), total), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
