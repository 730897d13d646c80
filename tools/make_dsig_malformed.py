#!/usr/bin/python3
"""Write the regression files of tests/data/malformed/dsig/: a small synthetic
file signed by medseal (RSA) and by dcmsign (EC P-256, +m2), then copies of the
medseal one damaged in one way each (see the README.md there).

usage: tools/make_dsig_malformed.py MEDSEAL [OUT_DIR]   (default tests/data/malformed/dsig)

Keys are made afresh with openssl, so the files differ from run to run; what
tests/unit/test_dsig.c expects of each does not. Needs pydicom, openssl, dcmsign.
"""
import os
import subprocess
import sys
import tempfile

import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def base_file(path):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'
    meta.MediaStorageSOPInstanceUID = '2.25.1234567890'
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(path, {}, file_meta=meta, preamble=b'\0' * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = 'OT'
    ds.PatientName = 'Synthetic^Patient'
    ds.PatientID = 'DSIG-1'
    code = Dataset()
    code.CodeValue = '113040'
    code.CodingSchemeDesignator = 'DCM'
    code.CodeMeaning = 'Lossy Compression'
    ds.DerivationCodeSequence = Sequence([code])
    ds.Rows = 2
    ds.Columns = 2
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.PixelRepresentation = 0
    ds.PixelData = bytes([0, 64, 128, 255])
    ds.save_as(path, write_like_original=False)


def damaged(src, dst, edit):
    ds = pydicom.dcmread(src)
    edit(ds)
    ds.save_as(dst, write_like_original=True)


def sig(ds):
    return ds[0xFFFAFFFA][0]


def mac(ds):
    return ds[0x4FFE0001][0]


def flip(value, at):
    b = bytearray(value)
    b[at] ^= 0xFF
    return bytes(b)


def edits():
    def set_garbled_cert(ds):
        c = bytearray(sig(ds)[0x04000115].value)
        c[4:40] = b'\xaa' * 36
        sig(ds)[0x04000115].value = bytes(c)

    def set_des_group_length(ds):
        mac(ds)[0x04000020].value = [0x00080000] + list(mac(ds)[0x04000020].value)

    def set_des_not_at(ds):
        del mac(ds)[0x04000020]
        mac(ds).add_new(0x04000020, 'OB', b'\x10\x00\x10\x00')

    def set_digsig_not_sequence(ds):
        del ds[0xFFFAFFFA]
        ds.add_new(0xFFFAFFFA, 'OB', b'\x00\x01')

    def set_mac_id(ds):
        mac(ds)[0x04000005].value = 7

    def del_mac_id(ds):
        del sig(ds)[0x04000005]

    def del_mac_params(ds):
        del ds[0x4FFE0001]

    def set_empty_signature(ds):
        sig(ds)[0x04000120].value = b''

    def set_garbled_signature(ds):
        sig(ds)[0x04000120].value = flip(sig(ds)[0x04000120].value, 17)

    def set_md5(ds):
        mac(ds)[0x04000015].value = 'MD5'

    def set_ts_implicit(ds):
        mac(ds)[0x04000010].value = '1.2.840.10008.1.2'

    def set_name(ds):
        ds.PatientName = 'Changed^Patient'

    return {
        'no_mac_parameters.dcm': del_mac_params,
        'mac_id_mismatch.dcm': set_mac_id,
        'no_mac_id.dcm': del_mac_id,
        'garbled_certificate.dcm': set_garbled_cert,
        'des_group_length.dcm': set_des_group_length,
        'des_not_at.dcm': set_des_not_at,
        'digsig_not_sequence.dcm': set_digsig_not_sequence,
        'empty_signature.dcm': set_empty_signature,
        'garbled_signature.dcm': set_garbled_signature,
        'mac_md5.dcm': set_md5,
        'mac_ts_implicit.dcm': set_ts_implicit,
        'changed_patient_name.dcm': set_name,
    }


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    medseal = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else 'tests/data/malformed/dsig'
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        rsa_key, rsa_crt = os.path.join(tmp, 'rsa.key'), os.path.join(tmp, 'rsa.crt')
        ec_key, ec_crt = os.path.join(tmp, 'ec.key'), os.path.join(tmp, 'ec.crt')
        run('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', rsa_key,
            '-out', rsa_crt, '-subj', '/CN=medseal regression RSA', '-days', '36500')
        run('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
            '-nodes', '-keyout', ec_key, '-out', ec_crt, '-subj', '/CN=medseal regression EC',
            '-days', '36500')
        base = os.path.join(tmp, 'base.dcm')
        base_file(base)
        good = os.path.join(out, 'good_rsa.dcm')
        run(medseal, '-q', 'sign', '--key', rsa_key, '--cert', rsa_crt, '-o', good, base)
        run('dcmsign', '--sign', ec_key, ec_crt, '-pw', '+m2', base,
            os.path.join(out, 'good_ec_dcmsign.dcm'))
        for name, edit in edits().items():
            damaged(good, os.path.join(out, name), edit)
        ec = pydicom.dcmread(os.path.join(out, 'good_ec_dcmsign.dcm'))
        sig(ec)[0x04000120].value = bytes(range(64))  # r || s, not DER
        ec.save_as(os.path.join(out, 'ecdsa_not_der.dcm'), write_like_original=True)
        data = open(good, 'rb').read()
        at = data.rfind(b'\x00\x04\x20\x01OB')  # (0400,0120) Signature
        open(os.path.join(out, 'truncated_in_signature.dcm'), 'wb').write(data[:at + 12 + 50])


if __name__ == '__main__':
    main()
