#!/usr/bin/python3
"""Write the hand-made malformed regression files of tests/data/malformed/.

usage: tools/make_malformed.py [OUT_DIR]   (default tests/data/malformed)

Each file is built byte by byte from a small valid Part 10 file and damaged
in one way; tests/data/malformed/README.md says what each one holds and
tests/integration/test_malformed.sh what `medseal dump` must do with it.
The output is deterministic. Files found by the fuzzers (tests/data/malformed
files not listed here) are committed as found and are not touched.
"""
import os
import struct
import sys
import zlib

LONG_VRS = {'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'}
UNDEF = 0xFFFFFFFF
TS_IMPLICIT = '1.2.840.10008.1.2'
TS_EXPLICIT = '1.2.840.10008.1.2.1'
TS_DEFLATED = '1.2.840.10008.1.2.1.99'
TS_BIG = '1.2.840.10008.1.2.2'
TS_JPEG = '1.2.840.10008.1.2.4.50'
CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2'


def pad(value, vr):
    if isinstance(value, str):
        value = value.encode('latin-1')
    if len(value) % 2:
        value += b'\0' if vr in ('UI', 'OB', 'UN') else b' '
    return value


def ex(g, e, vr, value=b'', length=None, big=False, raw=False):
    """One Explicit VR element; length overrides the encoded length."""
    o = '>' if big else '<'
    value = value if raw else pad(value, vr)
    n = len(value) if length is None else length
    if vr in LONG_VRS:
        return struct.pack(o + 'HH2sHI', g, e, vr.encode(), 0, n) + value
    return struct.pack(o + 'HH2sH', g, e, vr.encode(), n) + value


def im(g, e, value=b'', length=None, vr='', raw=False):
    """One Implicit VR LE element."""
    value = value if raw else pad(value, vr)
    n = len(value) if length is None else length
    return struct.pack('<HHI', g, e, n) + value


def tag(g, e, length, big=False):
    """Item or delimiter header (FFFE,xxxx) with a length."""
    return struct.pack('>HHI' if big else '<HHI', g, e, length)


ITEM = lambda n=UNDEF: tag(0xFFFE, 0xE000, n)
ITEM_END = tag(0xFFFE, 0xE00D, 0)
SEQ_END = tag(0xFFFE, 0xE0DD, 0)


def meta(ts, implicit=False, group_length=None):
    uid = '1.2.826.0.1.3680043.10.1234.1'
    el = im if implicit else (lambda g, e, vr, v: ex(g, e, vr, v))
    if implicit:
        body = (im(2, 1, b'\0\1', vr='OB') + im(2, 2, CT_IMAGE, vr='UI') +
                im(2, 3, uid, vr='UI') + (im(2, 0x10, ts, vr='UI') if ts else b''))
        gl = im(2, 0, struct.pack('<I', len(body) if group_length is None else group_length))
    else:
        body = (el(2, 1, 'OB', b'\0\1') + el(2, 2, 'UI', CT_IMAGE) + el(2, 3, 'UI', uid) +
                (el(2, 0x10, 'UI', ts) if ts else b''))
        gl = ex(2, 0, 'UL', struct.pack('<I', len(body) if group_length is None else group_length))
    return gl + body


def part10(ts, dataset, **kw):
    return b'\0' * 128 + b'DICM' + meta(ts, **kw) + dataset


def base_elements(big=False):
    """A small CT-like dataset in Explicit VR (LE or BE)."""
    o = '>' if big else '<'
    return (ex(8, 5, 'CS', 'ISO_IR 100', big=big) + ex(8, 0x16, 'UI', CT_IMAGE, big=big) +
            ex(8, 0x18, 'UI', '1.2.826.0.1.3680043.10.1234.1', big=big) +
            ex(0x10, 0x10, 'PN', 'Doe^John', big=big) + ex(0x10, 0x20, 'LO', 'ID42', big=big) +
            ex(0x28, 0x10, 'US', struct.pack(o + 'H', 2), big=big) +
            ex(0x28, 0x11, 'US', struct.pack(o + 'H', 2), big=big) +
            ex(0x7FE0, 0x10, 'OW', struct.pack(o + '4H', 1, 2, 3, 4), big=big))


def base():
    return part10(TS_EXPLICIT, base_elements())


def seq(g, e, items, undefined=True, length=None):
    """Explicit VR LE sequence of item bodies (each with undefined length
    when undefined, else defined)."""
    body = b''
    for it in items:
        body += (ITEM() + it + ITEM_END) if undefined else ITEM(len(it)) + it
    if undefined:
        return ex(g, e, 'SQ', body + SEQ_END, length=UNDEF, raw=True)
    return ex(g, e, 'SQ', body, length=len(body) if length is None else length, raw=True)


def nested(depth, undefined=True):
    """depth Referenced Image Sequences nested in each other (Explicit LE)."""
    inner = ex(8, 0x1150, 'UI', CT_IMAGE)
    if undefined:
        head = (ex(8, 0x1140, 'SQ', length=UNDEF, raw=True) + ITEM()) * depth
        return head + inner + (ITEM_END + SEQ_END) * depth
    for _ in range(depth):
        inner = seq(8, 0x1140, [inner], undefined=False)
    return inner


def nested_un(depth):
    """Private UN elements of undefined length (implicit SQs) nested."""
    head = (ex(0x0009, 0x1010, 'UN', length=UNDEF, raw=True) + ITEM()) * 1
    head += (im(0x0009, 0x1010, length=UNDEF) + ITEM()) * (depth - 1)
    tail = (ITEM_END + SEQ_END) * depth
    return ex(9, 0x10, 'LO', 'ACME') + head + im(8, 0x1150, CT_IMAGE, vr='UI') + tail


def find(data, needle):
    i = data.find(needle)
    assert i >= 0, needle
    return i


def patch(data, off, new):
    return data[:off] + new + data[off + len(new):]


def encapsulated(frags, delimiter=True, frag_len=None):
    body = b''.join(ITEM(len(f) if frag_len is None else frag_len) + f for f in frags)
    return ex(0x7FE0, 0x10, 'OB', body + (SEQ_END if delimiter else b''), length=UNDEF, raw=True)


def deflated(dataset, cut=None, garbage=False):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = c.compress(dataset) + c.flush()
    if garbage:
        body = bytes((b * 7 + 13) & 0xFF for b in body[:40]) + body[40:]
    if cut is not None:
        body = body[:cut]
    return part10(TS_DEFLATED, body)


def files():
    b = base()
    pn = find(b, b'\x10\x00\x10\x00PN')
    px = find(b, b'\xe0\x7f\x10\x00OW')
    ds = base_elements()
    yield 'empty.dcm', b''
    yield 'not_dicom_text.dcm', b'This is a plain text file, not a DICOM dataset at all.\n'
    yield 'preamble_only.dcm', b'\0' * 128 + b'DICM'
    yield 'truncated_in_preamble.dcm', b[:100]
    yield 'truncated_meta_value.dcm', b[:find(b, b'1.2.840.10008.1.2.1') + 6]
    yield 'truncated_meta_header.dcm', b[:find(b, b'\x02\x00\x10\x00UI') + 6]
    yield 'truncated_value.dcm', b[:pn + 8 + 3]
    yield 'truncated_header_long_vr.dcm', b[:px + 10]
    yield 'truncated_trailing_header.dcm', b[:px + 6]
    yield 'trailing_garbage.dcm', b + b'\x01\x02\x03'
    yield 'lying_length_huge.dcm', patch(b, px + 8, struct.pack('<I', 0xFFFFFFF0))
    yield 'lying_length_short_vr.dcm', patch(b, pn + 6, struct.pack('<H', 0xFFFF))
    yield 'lying_length_off_by_one.dcm', patch(b, px + 8, struct.pack('<I', 9))
    yield 'lying_length_undefined_pn.dcm', part10(TS_IMPLICIT, im(8, 0x16, CT_IMAGE, vr='UI') +
                                                  im(0x10, 0x10, 'Doe^John', length=UNDEF))
    yield 'undefined_length_ut.dcm', part10(TS_EXPLICIT, ex(8, 0x16, 'UI', CT_IMAGE) +
                                            ex(0x10, 0x4000, 'UT', b'text' + SEQ_END,
                                               length=UNDEF, raw=True))
    yield 'lying_group_length.dcm', part10(TS_EXPLICIT, ds, group_length=9999)
    yield 'odd_length_pn.dcm', part10(TS_EXPLICIT, ex(8, 0x16, 'UI', CT_IMAGE) +
                                      ex(0x10, 0x10, 'PN', b'Doe^Joe', raw=True))
    yield 'odd_length_us.dcm', part10(TS_EXPLICIT, ex(0x28, 0x10, 'US', b'\x02\x00\x03',
                                                      raw=True) + ex(0x28, 0x11, 'US', b'\2\0'))
    yield 'odd_length_big_endian_ow.dcm', part10(TS_BIG, ex(0x28, 0x10, 'US', b'\0\2', big=True) +
                                                 ex(0x7FE0, 0x10, 'OW', b'\0\1\0\2\3', big=True,
                                                    raw=True))
    yield 'wrong_vr_unknown_letters.dcm', patch(b, pn + 4, b'ZZ')
    yield 'wrong_vr_not_letters.dcm', part10(TS_EXPLICIT, ex(8, 0x16, 'UI', CT_IMAGE) +
                                             im(0x10, 0x10, 'Doe^John', vr='PN') +
                                             ex(0x10, 0x20, 'LO', 'ID42'))
    yield 'wrong_vr_fd_for_us.dcm', part10(TS_EXPLICIT, ex(0x28, 0x10, 'FD', b'\2\0'))
    yield 'wrong_vr_ui_for_sq.dcm', part10(TS_EXPLICIT, ex(8, 0x16, 'UI', CT_IMAGE) +
                                          ex(8, 0x1199, 'UI', '1.2.3.4') +
                                          ex(0x10, 0x10, 'PN', 'Doe^John'))
    yield 'wrong_vr_sq_for_ui.dcm', part10(TS_EXPLICIT, ex(8, 0x16, 'UI', CT_IMAGE) +
                                          seq(0x20, 0xD, [ex(8, 0x1150, 'UI', CT_IMAGE)]) +
                                          ex(0x20, 0xE, 'UI', '1.2.3.4'))
    yield 'wrong_vr_sq_for_pn.dcm', part10(TS_EXPLICIT, ex(0x10, 0x10, 'SQ', b'Doe^John'))
    yield 'nesting_10000_undefined.dcm', part10(TS_EXPLICIT, nested(10000))
    yield 'nesting_65_defined.dcm', part10(TS_EXPLICIT, nested(65, undefined=False))
    yield 'nesting_64_undefined_ok.dcm', part10(TS_EXPLICIT, nested(64))
    yield 'nesting_10000_un_implicit.dcm', part10(TS_EXPLICIT, nested_un(10000))
    yield 'nesting_10000_items_unclosed.dcm', part10(TS_EXPLICIT, (
        ex(8, 0x1140, 'SQ', length=UNDEF, raw=True) + ITEM()) * 10000)
    yield 'sequence_without_delimiter.dcm', part10(TS_EXPLICIT, ex(8, 0x16, 'UI', CT_IMAGE) +
                                                   ex(8, 0x1140, 'SQ', length=UNDEF, raw=True) +
                                                   ITEM() + ex(8, 0x1150, 'UI', CT_IMAGE) +
                                                   ITEM_END)
    yield 'item_without_delimiter.dcm', part10(TS_EXPLICIT, ex(8, 0x1140, 'SQ', length=UNDEF,
                                                                raw=True) + ITEM() +
                                               ex(8, 0x1150, 'UI', CT_IMAGE))
    yield 'item_ended_by_sequence_delimiter.dcm', part10(TS_EXPLICIT, ex(
        8, 0x1140, 'SQ', ITEM() + ex(8, 0x1150, 'UI', CT_IMAGE) + SEQ_END, length=UNDEF,
        raw=True) + ex(0x10, 0x10, 'PN', 'Doe^John'))
    yield 'item_at_top_level.dcm', part10(TS_EXPLICIT, ex(8, 0x16, 'UI', CT_IMAGE) + ITEM(4) +
                                          b'abcd' + ex(0x10, 0x10, 'PN', 'Doe^John'))
    yield 'item_delimiter_at_top_level.dcm', part10(TS_EXPLICIT, ex(8, 0x16, 'UI', CT_IMAGE) +
                                                    ITEM_END + ex(0x10, 0x10, 'PN', 'Doe^John'))
    yield 'sequence_delimiter_at_top_level.dcm', part10(TS_EXPLICIT, ex(8, 0x16, 'UI', CT_IMAGE)
                                                        + SEQ_END +
                                                        ex(0x10, 0x10, 'PN', 'Doe^John'))
    yield 'item_delimiter_for_item.dcm', part10(TS_EXPLICIT, ex(
        8, 0x1140, 'SQ', ITEM_END + ex(8, 0x1150, 'UI', CT_IMAGE) + SEQ_END, length=UNDEF,
        raw=True))
    yield 'element_for_item.dcm', part10(TS_EXPLICIT, ex(
        8, 0x1140, 'SQ', ex(8, 0x1150, 'UI', CT_IMAGE) + SEQ_END, length=UNDEF, raw=True))
    yield 'item_longer_than_sequence.dcm', part10(TS_EXPLICIT, ex(
        8, 0x1140, 'SQ', ITEM(200) + ex(8, 0x1150, 'UI', CT_IMAGE), raw=True) +
        ex(0x10, 0x10, 'PN', 'Doe^John'))
    yield 'sequence_longer_than_file.dcm', part10(TS_EXPLICIT, ex(
        8, 0x1140, 'SQ', ITEM(30) + ex(8, 0x1150, 'UI', CT_IMAGE), length=5000, raw=True))
    yield 'item_length_off_by_one.dcm', part10(TS_EXPLICIT, seq(8, 0x1140, [
        ex(8, 0x1150, 'UI', CT_IMAGE)], undefined=False).replace(
            ITEM(34), ITEM(33)) + ex(0x10, 0x10, 'PN', 'Doe^John'))
    yield 'un_undefined_length_sequence.dcm', part10(TS_EXPLICIT, ex(9, 0x10, 'LO', 'ACME') +
                                                     ex(9, 0x1010, 'UN', ITEM() +
                                                        im(8, 0x1150, CT_IMAGE, vr='UI') +
                                                        ITEM_END + SEQ_END, length=UNDEF,
                                                        raw=True))
    yield 'un_undefined_length_garbage.dcm', part10(TS_EXPLICIT, ex(9, 0x10, 'LO', 'ACME') +
                                                    ex(9, 0x1010, 'UN', b'garbage!' * 4,
                                                       length=UNDEF, raw=True))
    frags = [b'', b'\xff\xd8\xff\xe0' + b'\x11' * 12 + b'\xff\xd9']
    yield 'fragments_without_delimiter.dcm', part10(TS_JPEG, ds[:find(
        ds, b'\xe0\x7f\x10\x00OW')] + encapsulated(frags, delimiter=False))
    yield 'fragment_undefined_length.dcm', part10(TS_JPEG, encapsulated(frags[1:], frag_len=UNDEF))
    yield 'fragment_longer_than_file.dcm', part10(TS_JPEG, encapsulated(frags[1:], frag_len=4000))
    yield 'fragment_element_inside.dcm', part10(TS_JPEG, ex(0x7FE0, 0x10, 'OB', ITEM(0) +
                                                            ex(8, 0x16, 'UI', CT_IMAGE) + SEQ_END,
                                                            length=UNDEF, raw=True))
    yield 'fragments_in_native_syntax.dcm', part10(TS_EXPLICIT, encapsulated(frags))
    yield 'deflate_garbage.dcm', deflated(ds, garbage=True)
    yield 'deflate_truncated.dcm', deflated(ds, cut=60)
    yield 'deflate_empty.dcm', deflated(ds, cut=0)
    yield 'dicm_without_preamble.dcm', b'DICM' + meta(TS_EXPLICIT) + ds
    yield 'meta_implicit_vr.dcm', part10(TS_EXPLICIT, ds, implicit=True)
    yield 'meta_without_transfer_syntax.dcm', part10(None, ds)
    yield 'unknown_transfer_syntax.dcm', part10('1.2.3.4.5.6', ds)
    body = ex(2, 1, 'OB', b'\0\1') + ex(2, 0x10, 'UI', TS_BIG)
    yield 'be_first_group_above_00ff.dcm', (
        b'\0' * 128 + b'DICM' + ex(2, 0, 'UL', struct.pack('<I', len(body))) + body +
        ex(0x4453, 0x10, 'LO', 'ACME 1.0', big=True) +
        ex(0x4453, 0x1000, 'US', struct.pack('>H', 0x0102), big=True) +
        ex(0x7FE0, 0x10, 'OW', struct.pack('>HH', 1, 2), big=True))
    yield 'syntax_explicit_data_implicit.dcm', part10(TS_EXPLICIT, im(8, 0x16, CT_IMAGE, vr='UI') +
                                                      im(0x10, 0x10, 'Doe^John', vr='PN'))
    yield 'out_of_order_and_duplicate.dcm', part10(TS_EXPLICIT, ex(0x10, 0x20, 'LO', 'ID42') +
                                                   ex(0x10, 0x10, 'PN', 'Doe^John') +
                                                   ex(0x10, 0x10, 'PN', 'Roe^Jane'))
    yield 'charset_utf8_ill_formed.dcm', part10(TS_EXPLICIT, ex(8, 5, 'CS', 'ISO_IR 192') +
                                                ex(8, 0x16, 'UI', CT_IMAGE) +
                                                ex(0x10, 0x10, 'PN', b'Doe^\xff\xc0\x80\xed\xa0'
                                                   b'\x80\xf4\x90\x80\x80J\xc3\xa9\xe2\x82'))
    yield 'long_lt_value.dcm', part10(TS_EXPLICIT, ex(8, 0x16, 'UI', CT_IMAGE) +
                                      ex(0x20, 0x4000, 'LT', 'Long comment. ' * 200))
    yield 'no_meta_implicit.dcm', (im(8, 0x16, CT_IMAGE, vr='UI') +
                                   im(0x10, 0x10, 'Doe^John', vr='PN'))
    yield 'no_meta_first_group_odd.dcm', im(0x4321, 0x10, 'Doe^John', vr='PN') * 3


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'data', 'malformed')
    os.makedirs(out, exist_ok=True)
    n = 0
    for name, data in files():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
        n += 1
    print('%d files written to %s' % (n, out))


if __name__ == '__main__':
    main()
