#!/usr/bin/python3
"""Print the known-answer vectors of tests/unit/test_charset.c.

Each case is (Specific Character Set value, VR, raw bytes). The expected
UTF-8 is what pydicom 2.3 decodes, through the same steps as its reader:
split on '\\' (multi-valued VRs), split PN on '=', then
pydicom.charset.decode_bytes() with the delimiters of the VR. Cases marked
with a reason are decoded differently on purpose (docs/conformance.md,
"Character sets"); their expected text is given here explicitly.

Usage: tools/charset_vectors.py > /tmp/vectors.inc  (then paste)
"""
import textwrap
import warnings

from pydicom.charset import convert_encodings, decode_bytes
from pydicom.valuerep import PN_DELIMS, TEXT_VR_DELIMS

F = "/usr/lib/python3/dist-packages/pydicom/data/charset_files/"

ESC_TEXT = "pydicom keeps an unknown or truncated escape sequence as text"
FALLBACK = "pydicom decodes a fragment it cannot decode, escape sequence included, with value 1"

CASES = [
    # (name, charset, vr, bytes[, expected, reason])
    ("default ASCII", "", "PN", b"Yamada^Tarou"),
    ("chrFren ISO_IR 100", "ISO_IR 100", "PN", b"Buc^J\xe9r\xf4me"),
    ("chrGerm ISO_IR 100", "ISO_IR 100", "PN", b"\xc4neas^R\xfcdiger"),
    ("ISO_IR 101 Latin-2", "ISO_IR 101", "LO", "Łódź".encode("iso8859_2")),
    ("ISO_IR 109 Latin-3", "ISO_IR 109", "LO", "Ħġ".encode("iso8859_3")),
    ("ISO_IR 110 Latin-4", "ISO_IR 110", "LO", "ĀŗŠ".encode("iso8859_4")),
    ("chrRuss ISO_IR 144", "ISO_IR 144", "PN", b"\xbb\xee\xdace\xdc\xd1yp\xd3"),
    ("chrArab ISO_IR 127", "ISO_IR 127", "PN",
     b"\xe2\xc8\xc7\xe6\xea^\xe4\xe6\xd2\xc7\xd1"),
    ("chrGreek ISO_IR 126", "ISO_IR 126", "PN", b"\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2"),
    ("chrHbrw ISO_IR 138", "ISO_IR 138", "PN", b"\xf9\xf8\xe5\xef^\xe3\xe1\xe5\xf8\xe4"),
    ("ISO_IR 148 Latin-5", "ISO_IR 148", "LO", "Şğı".encode("iso8859_9")),
    ("ISO_IR 203 Latin-9", "ISO_IR 203", "LO", b"\xa4\xa6\xb8", "€Šž",
     "pydicom 2.3 does not know ISO_IR 203 and reads Latin-1"),
    ("ISO_IR 166 Thai", "ISO_IR 166", "LO", "สวัสดี".encode("tis_620")),
    ("ISO_IR 13 katakana", "ISO_IR 13", "PN", b"\xd4\xcf\xc0\xde^\xc0\xdb\xb3"),
    ("chrX1 ISO_IR 192", "ISO_IR 192", "PN",
     b"Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1="),
    ("chrX2 GB18030", "GB18030", "PN", b"Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab="),
    ("GB18030 four-byte", "GB18030", "LO", "å\U00020000€".encode("gb18030")),
    ("GBK", "GBK", "LO", "中文".encode("gbk")),
    ("chrH31", "\\ISO 2022 IR 87", "PN",
     b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B"),
    ("chrH32", "ISO 2022 IR 13\\ISO 2022 IR 87", "PN",
     b"\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^"
     b"\x1b$B$?$m$&\x1b(J"),
    ("chrI2", "\\ISO 2022 IR 149", "PN",
     b"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^"
     b"\x1b$)C\xb1\xe6\xb5\xbf"),
    ("chrKoreanMulti LT", "\\ISO 2022 IR 149", "LT", b"\x1b$)C\xb1\xe8\xc8\xf1\xc1\xdf\x1b(B"),
    ("chrJapMulti PN two values", "\\ISO 2022 IR 87", "PN",
     b"\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B\\\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B"),
    ("chrJapMultiExplicitIR6 LT", "ISO 2022 IR 6\\ISO 2022 IR 87", "LT",
     b"\x1b$B$?$m$&\x1b(B"),
    ("JIS X 0212", "\\ISO 2022 IR 159", "LO", b"\x1b$(D0!04\x1b(B"),
    ("GB 2312 in G1", "\\ISO 2022 IR 58", "LO", b"\x1b$)A\xd6\xd0\xce\xc4", "中文",
     "pydicom decodes ISO 2022 IR 58 with Python's gb2312, which keeps the escape"
     " sequence as text"),
    ("Greek by escape", "ISO 2022 IR 6\\ISO 2022 IR 126", "LO", b"\x1b-F\xc4\xe9"),
    ("PN '^' returns to G1 of value 1", "ISO 2022 IR 100\\ISO 2022 IR 126", "PN",
     b"\x1b-F\xc4\xe9^\xe9"),
    ("LO '^' is text", "ISO 2022 IR 100\\ISO 2022 IR 126", "LO", b"\x1b-F\xc4\xe9^\xe9"),
    ("LO '\\' returns to value 1", "ISO 2022 IR 100\\ISO 2022 IR 126", "LO",
     b"\x1b-F\xc4\\\xc4"),
    ("LT CR returns to value 1", "ISO 2022 IR 100\\ISO 2022 IR 126", "LT",
     b"\x1b-F\xc4\r\n\xc4"),
    ("LT '\\' is text", "ISO 2022 IR 100\\ISO 2022 IR 126", "LT", b"\x1b-F\xc4\\\xc4"),
    ("PN kanji with 0x3D and 0x5E bytes", "\\ISO 2022 IR 87", "PN",
     b"\x1b$B=(\x1b(B^\x1b$B>>$^\x1b(B", "秀^松ま",
     "pydicom splits PN on the byte '=' before decoding, cutting 秀 (JIS 0x3D28)"),
    ("KS X 1001:2002 addition", "\\ISO 2022 IR 149", "LO", b"\x1b$)C\xa2\xe8", "\u327e",
     "glibc maps the KS X 1001:2002 additions, Python's euc_kr does not"),
    ("GB18030-2005 code now in Unicode", "GB18030", "LO", b"\xfe\x51", "\U00020087",
     "glibc follows GB18030-2022, Python maps this code to the private use area"),
    ("JIS X 0212 tilde", "\\ISO 2022 IR 159", "LO", b"\x1b$(D\x22\x37\x1b(B", "\uff5e",
     "glibc maps JIS X 0212 0x2237 to FULLWIDTH TILDE, Python to ASCII '~'"),
    ("G1 survives a G0 switch", "ISO 2022 IR 13\\ISO 2022 IR 87", "PN", b"\x1b(B\xd4\xcf",
     "\uff94\uff8f", "pydicom decodes an escaped fragment with one codec: Latin-1 after"
     " ESC ( B; in ISO 2022 the G1 set (katakana) stays"),
    ("misspelt ISO IR 100", "ISO IR 100", "PN", b"J\xe9r\xf4me"),
    ("padded value", " ISO_IR 144  ", "PN", b"\xbb\xee"),
    ("stand-alone ignores code extensions", "ISO_IR 192\\ISO 2022 IR 87", "LO",
     b"\xe7\x8e\x8b"),
    ("default repertoire, byte >= 0x80", "", "LO", b"J\xe9r\xf4me"),
    ("unknown term is the default", "ISO_IR 999", "LO", b"J\xe9r\xf4me"),
]

NEGATIVE = [
    ("lone ESC at the end", "\\ISO 2022 IR 87", "LO", b"AB\x1b", "AB\ufffd", ESC_TEXT),
    ("ESC $ at the end", "\\ISO 2022 IR 87", "LO", b"AB\x1b$", "AB\ufffd", ESC_TEXT),
    ("ESC $ ) at the end", "\\ISO 2022 IR 149", "LO", b"AB\x1b$)", "AB\ufffd", ESC_TEXT),
    ("unknown escape", "\\ISO 2022 IR 87", "LO", b"A\x1b(ZB", "A\ufffdB",
     ESC_TEXT),
    ("ESC then CR", "\\ISO 2022 IR 87", "LT", b"A\x1b\rB", "A\ufffd\rB",
     ESC_TEXT),
    ("half a JIS X 0208 character", "\\ISO 2022 IR 87", "LO", b"\x1b$B;", "\ufffd",
     FALLBACK),
    ("unassigned JIS X 0208 row", "\\ISO 2022 IR 87", "LO", b"\x1b$B/!\x1b(BA",
     "\ufffdA", FALLBACK),
    ("lone KS X 1001 lead byte", "\\ISO 2022 IR 149", "LO", b"\x1b$)C\xb1", "\ufffd",
     FALLBACK),
    ("KS X 1001 lead byte + ASCII", "\\ISO 2022 IR 149", "LO", b"\x1b$)C\xb1A", "\ufffdA",
     FALLBACK),
    ("overlong UTF-8", "ISO_IR 192", "LO", b"\xc0\xaf"),
    ("UTF-8 surrogate", "ISO_IR 192", "LO", b"\xed\xa0\x80"),
    ("truncated UTF-8", "ISO_IR 192", "LO", b"A\xe2\x82"),
    ("UTF-8 above U+10FFFF", "ISO_IR 192", "LO", b"\xf4\x90\x80\x80"),
    ("lone continuation byte", "ISO_IR 192", "LO", b"\x80A"),
    ("bytes FE FF in UTF-8", "ISO_IR 192", "LO", b"\xfe\xff"),
    ("UTF-8 E2 28 A1", "ISO_IR 192", "LO", b"\xe2\x28\xa1"),
    ("GB18030 truncated four-byte", "GB18030", "LO", b"\x81\x30"),
    ("GB18030 above U+10FFFF", "GB18030", "LO", b"\xe3\x32\x9a\x36", "\ufffd",
     "Python's GB18030 decoder re-reads the digits of an invalid four-byte code"),
    ("GBK 0x80", "GBK", "LO", b"\x80A"),
    ("GBK lead + DEL", "GBK", "LO", b"\x81\x7f"),
    ("JIS X 0201 byte outside katakana", "ISO_IR 13", "LO", b"\xe0A", "\ufffdA",
     "pydicom reads ISO_IR 13 as Shift_JIS, where 0xE0 starts a kanji"),
    ("TIS-620 unassigned 0xDB", "ISO_IR 166", "LO", b"\xdbA"),
    ("Latin-3 unassigned 0xA5", "ISO_IR 109", "LO", b"\xa5A"),
    ("unknown G1 final byte", "ISO_IR 100", "LO", b"\x1b-Z\xe9", "\ufffd\xe9", ESC_TEXT),
    ("single shift ESC N", "ISO_IR 100", "LO", b"A\x1bNB", "A\ufffdB", ESC_TEXT),
    ("half a JIS X 0212 character", "\\ISO 2022 IR 159", "LO", b"\x1b$(D0", "\ufffd",
     FALLBACK),
    ("unassigned KS X 1001 code", "\\ISO 2022 IR 149", "LO", b"\x1b$)C\xa2\xe9A",
     "\ufffdA", FALLBACK),
    ("unassigned GB 2312 row", "\\ISO 2022 IR 58", "LO", b"\x1b$)A\xaa\xa1A", "\ufffdA",
     FALLBACK),
    ("undeclared JIS X 0208 escape", "", "LO", b"\x1b$B;3\x1b(B", "\u5c71",
     "medseal honours the escape sequences of PS3.3 C.12-3/C.12-4 even when"
     " (0008,0005) does not list their set"),
    ("GB18030 four-byte with a bad third byte", "GB18030", "LO", b"\x81\x30\x20\x30"),
    ("GB18030 lead + 0xFF", "GB18030", "LO", b"\x81\xff"),
    ("GBK lead byte at the end", "GBK", "LO", b"A\x81"),
    ("TIS-620 C1 control", "ISO_IR 166", "LO", b"\x85"),
    ("JIS X 0201 0xA0", "ISO_IR 13", "LO", b"\xa0"),
    ("truncated four-byte UTF-8", "ISO_IR 192", "LO", b"\xf0\x9f\x98"),
    ("overlong three-byte UTF-8", "ISO_IR 192", "LO", b"\xe0\x80\x80"),
    ("UTF-8 byte F5", "ISO_IR 192", "LO", b"\xf5A"),
    ("UTF-8 lead byte at the end", "ISO_IR 192", "LO", b"A\xc2"),
    ("ESC in UTF-8 is text", "ISO_IR 192", "LO", b"\x1b(B\xc3\xa9", "\x1b(B\xe9",
     "stand-alone character sets have no code extensions (PS3.5 6.1.2.5.4), so ESC is a"
     " character there; pydicom switches to its default encoding"),
    ("GBK trail byte 0x5C is no delimiter", "GBK", "LO", b"\x81\x5c", "\u4e57",
     "pydicom splits values on the byte 0x5C before decoding, cutting GBK and GB18030"
     " characters whose second byte is 0x5C"),
    ("ESC inside a JIS X 0208 pair", "\\ISO 2022 IR 87", "LO", b"\x1b$B;\x1b(BA", "\ufffdA",
     FALLBACK),
    ("PN delimiter after a KS X 1001 lead byte", "\\ISO 2022 IR 149", "PN",
     b"\x1b$)C\xb1^\xb1\xe8", "\ufffd^\xb1\xe8", FALLBACK),
]


def pydicom_decode(charset, vr, raw):
    encodings = convert_encodings(charset.split("\\") if "\\" in charset else charset.strip())
    if vr in ("LT", "ST", "UT"):
        return decode_bytes(raw, encodings, TEXT_VR_DELIMS)
    out = []
    for value in raw.split(b"\\"):
        if vr == "PN":
            out.append("=".join(decode_bytes(g, encodings, PN_DELIMS)
                                for g in value.split(b"=")))
        else:
            out.append(decode_bytes(value, encodings, TEXT_VR_DELIMS))
    return "\\".join(out)


def c_bytes(b):
    """C string literal(s) of b, 16 bytes a line."""
    chunks = [b[i:i + 16] for i in range(0, len(b), 16)] or [b""]
    return "\n     ".join('"' + "".join("\\x%02x" % c for c in k) + '"' for k in chunks)


def emit(cases):
    for case in cases:
        name, charset, vr, raw = case[:4]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = pydicom_decode(charset, vr, raw)
        if len(case) > 4:
            expected, reason = case[4], case[5]
            text = f"differs on purpose: {reason}; pydicom: {theirs!r}"
            lines = textwrap.wrap(text, 90)
            print("    /* " + "\n       ".join(lines) + " */")
        else:
            expected = theirs
        cs = charset.replace("\\", "\\\\")
        name = name.replace("\\", "\\\\")
        print(f'    {{"{name}", "{cs}", "{vr}", {len(raw)},')
        print(f"     {c_bytes(raw)},")
        print(f"     {c_bytes(expected.encode('utf-8'))}}},")


print("static const struct vector positive[] = {")
emit(CASES)
print("};\n")
print("static const struct vector negative[] = {")
emit(NEGATIVE)
print("};")
