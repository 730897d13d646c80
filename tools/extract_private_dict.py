#!/usr/bin/python3
"""Extract the private data dictionary (GDCM's, as shipped in Debian's
python3-pydicom) to data/private/private_dict.json. Run once by hand when
updating; the build reads only the JSON (tools/gen_dict.py).

JSON: {creator: {"ggggxxee": [VR, VM, name], ...}}; 'x' digits are wildcards
(the private block in the element, or a repeating group)."""
import json
import sys

from pydicom._private_dict import private_dictionaries


def main():
    out = {creator: {k.lower(): [v[0], v[1], v[2]] for k, v in sorted(entries.items())}
           for creator, entries in sorted(private_dictionaries.items())}
    json.dump(out, sys.stdout, indent=0, sort_keys=True, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
