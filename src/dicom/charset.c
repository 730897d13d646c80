/* Specific Character Set decoding to UTF-8 (PS3.5 6.1, PS3.3 C.12.1.1.2).
 *
 * Value 1 of (0008,0005) names the scheme and the initial code sets:
 * - ISO_IR 192 (UTF-8), GB18030 and GBK stand alone: no code extensions,
 *   the bytes are decoded as they come and other values are ignored;
 * - everything else is ISO 2022 (PS3.5 6.1.2.5): a G0 set decodes the bytes
 *   0x21..0x7E, a G1 set the bytes 0x80..0xFF, and the escape sequences of
 *   PS3.3 tables C.12-3 and C.12-4 replace either. The initial sets come
 *   back at CR, LF, FF and TAB, at the value delimiter '\' and, in PN, at
 *   '^' and '=' (PS3.5 6.1.2.5.3), as pydicom does.
 *
 * A delimiter byte that falls inside a two-byte character of a G0 set
 * (JIS X 0208/0212: 0x3D, 0x5C and 0x5E are valid bytes there) is part of
 * that character: encoders must return to a single-byte G0 set before any
 * delimiter, so a conforming value never needs the other reading.
 *
 * Leniency, as in pydicom: an empty or unknown value 1 is the default
 * repertoire, whose G1 bytes are read as ISO 8859-1; the misspellings
 * "ISO IR 100", "ISO-IR 100" and "ISO_2022-IR 87" are accepted. Any escape
 * sequence of the tables is honoured even when (0008,0005) does not list its
 * set; unknown or truncated ones become U+FFFD.
 *
 * Undecodable bytes become U+FFFD. Only the tables of charset_tables.c are
 * read (filled from iconv on first use), so decoding is thread-safe, and
 * text without ESC and without bytes >= 0x80 is copied as is. */
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define REPLACEMENT 0xFFFDu
#define ESC 0x1B

/* ---- output: whole UTF-8 characters into a bounded buffer ------------------ */

struct sink {
    char *out;
    size_t cap;
    size_t used;  /* bytes written, < cap */
    size_t total; /* bytes of the whole decoded text (saturates) */
    bool full;    /* a character did not fit: write no more */
};

static void put(struct sink *s, uint32_t cp)
{
    char u[4];
    size_t k;

    if (cp < 0x80) {
        u[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    if (!s->full && k < s->cap - s->used) {
        memcpy(s->out + s->used, u, k);
        s->used += k;
    } else {
        s->full = true;
    }
    s->total = s->total > SIZE_MAX - k ? SIZE_MAX : s->total + k;
}

/* ---- code sets and Specific Character Set terms ---------------------------- */

enum set_kind {
    SET_NONE,     /* nothing decodes: U+FFFD */
    SET_ASCII,    /* ISO-IR 6; also JIS X 0201 Roman (ISO-IR 14), see below */
    SET_LATIN1,   /* G1 of the default repertoire, read as ISO 8859-1 */
    SET_SB,       /* a table of msi_cs_sb_table() */
    SET_KATAKANA, /* JIS X 0201 katakana (ISO-IR 13) */
    SET_DB,       /* a 94x94 table of msi_cs_db94_table() */
};

struct set {
    uint8_t kind;
    uint8_t id;
};

struct state {
    struct set g0, g1;
};

enum scheme { SCHEME_ISO2022, SCHEME_UTF8, SCHEME_GB18030, SCHEME_GBK };

struct term {
    const char *name;
    uint8_t scheme;
    struct state init;
};

#define ASCII_G0 {SET_ASCII, 0}
#define SB(id) {SET_SB, id}
#define DB(id) {SET_DB, id}

/* IR numbers after "ISO_IR " or "ISO 2022 IR " (PS3.3 tables C.12-2..C.12-4).
 * JIS X 0201 Roman differs from ASCII only at 05/12 (YEN SIGN, which is also
 * the value delimiter) and 07/14 (OVERLINE); like pydicom it is read as
 * ASCII so that 05/12 stays the delimiter '\'. */
static const struct term ir_terms[] = {
    {"6", SCHEME_ISO2022, {ASCII_G0, {SET_LATIN1, 0}}},
    {"100", SCHEME_ISO2022, {ASCII_G0, SB(MSI_SB_8859_1)}},
    {"101", SCHEME_ISO2022, {ASCII_G0, SB(MSI_SB_8859_2)}},
    {"109", SCHEME_ISO2022, {ASCII_G0, SB(MSI_SB_8859_3)}},
    {"110", SCHEME_ISO2022, {ASCII_G0, SB(MSI_SB_8859_4)}},
    {"144", SCHEME_ISO2022, {ASCII_G0, SB(MSI_SB_8859_5)}},
    {"127", SCHEME_ISO2022, {ASCII_G0, SB(MSI_SB_8859_6)}},
    {"126", SCHEME_ISO2022, {ASCII_G0, SB(MSI_SB_8859_7)}},
    {"138", SCHEME_ISO2022, {ASCII_G0, SB(MSI_SB_8859_8)}},
    {"148", SCHEME_ISO2022, {ASCII_G0, SB(MSI_SB_8859_9)}},
    {"203", SCHEME_ISO2022, {ASCII_G0, SB(MSI_SB_8859_15)}},
    {"166", SCHEME_ISO2022, {ASCII_G0, SB(MSI_SB_TIS620)}},
    {"13", SCHEME_ISO2022, {ASCII_G0, {SET_KATAKANA, 0}}},
    {"87", SCHEME_ISO2022, {ASCII_G0, {SET_NONE, 0}}},
    {"159", SCHEME_ISO2022, {ASCII_G0, {SET_NONE, 0}}},
    {"149", SCHEME_ISO2022, {ASCII_G0, DB(MSI_DB_KSX1001)}},
    {"58", SCHEME_ISO2022, {ASCII_G0, DB(MSI_DB_GB2312)}},
    {"192", SCHEME_UTF8, {ASCII_G0, {SET_NONE, 0}}},
};

/* Terms without an IR number (CP 1234 spellings included). */
static const struct term named_terms[] = {
    {"GB18030", SCHEME_GB18030, {ASCII_G0, {SET_NONE, 0}}},
    {"GBK", SCHEME_GBK, {ASCII_G0, {SET_NONE, 0}}},
    {"ISO 2022 GBK", SCHEME_GBK, {ASCII_G0, {SET_NONE, 0}}},
    {"ISO 2022 58", SCHEME_ISO2022, {ASCII_G0, DB(MSI_DB_GB2312)}},
};

static const struct term default_term = {"", SCHEME_ISO2022, {ASCII_G0, {SET_LATIN1, 0}}};

/* Escape sequences after ESC, and the set they designate to G0 or G1. */
struct escape {
    char seq[4];
    uint8_t len;
    uint8_t g1; /* 0: designates G0, 1: G1 */
    struct set set;
};

static const struct escape escapes[] = {
    {"(B", 2, 0, ASCII_G0},                      /* ISO-IR 6 */
    {"(J", 2, 0, ASCII_G0},                      /* ISO-IR 14, JIS X 0201 Roman */
    {"$B", 2, 0, DB(MSI_DB_JIS0208)},            /* ISO-IR 87 */
    {"$(D", 3, 0, DB(MSI_DB_JIS0212)},           /* ISO-IR 159 */
    {")I", 2, 1, {SET_KATAKANA, 0}},             /* ISO-IR 13 */
    {"-A", 2, 1, SB(MSI_SB_8859_1)},             /* ISO-IR 100 */
    {"-B", 2, 1, SB(MSI_SB_8859_2)},             /* ISO-IR 101 */
    {"-C", 2, 1, SB(MSI_SB_8859_3)},             /* ISO-IR 109 */
    {"-D", 2, 1, SB(MSI_SB_8859_4)},             /* ISO-IR 110 */
    {"-L", 2, 1, SB(MSI_SB_8859_5)},             /* ISO-IR 144 */
    {"-G", 2, 1, SB(MSI_SB_8859_6)},             /* ISO-IR 127 */
    {"-F", 2, 1, SB(MSI_SB_8859_7)},             /* ISO-IR 126 */
    {"-H", 2, 1, SB(MSI_SB_8859_8)},             /* ISO-IR 138 */
    {"-M", 2, 1, SB(MSI_SB_8859_9)},             /* ISO-IR 148 */
    {"-b", 2, 1, SB(MSI_SB_8859_15)},            /* ISO-IR 203 */
    {"-T", 2, 1, SB(MSI_SB_TIS620)},             /* ISO-IR 166 */
    {"$)C", 3, 1, DB(MSI_DB_KSX1001)},           /* ISO-IR 149 */
    {"$)A", 3, 1, DB(MSI_DB_GB2312)},            /* ISO-IR 58 */
};

static bool equals(const char *v, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(v, name, n) == 0;
}

/* The IR number of "ISO_IR n" or "ISO 2022 IR n" and of their common
 * misspellings (any character in place of the separators, as pydicom). */
static bool ir_number(const char *v, size_t n, const char **num, size_t *num_len)
{
    size_t skip;
    if (n < 4 || memcmp(v, "ISO", 3) != 0)
        return false;
    if (n > 7 && v[4] == 'I' && v[5] == 'R' && v[6] == ' ')
        skip = 7;
    else if (n > 12 && memcmp(v + 4, "2022", 4) == 0 && v[9] == 'I' && v[10] == 'R')
        skip = 12;
    else
        return false;
    *num = v + skip;
    *num_len = n - skip;
    return true;
}

/* The term of value 1 of a (0008,0005) value; the default one when the
 * value is empty or unknown. */
static const struct term *first_term(const char *charset)
{
    const char *v = charset ? charset : "", *num;
    size_t n = 0, num_len;

    while (*v == ' ')
        v++;
    while (v[n] && v[n] != '\\')
        n++;
    while (n && v[n - 1] == ' ')
        n--;
    if (ir_number(v, n, &num, &num_len)) {
        for (size_t i = 0; i < sizeof ir_terms / sizeof ir_terms[0]; i++)
            if (equals(num, num_len, ir_terms[i].name))
                return &ir_terms[i];
    }
    for (size_t i = 0; i < sizeof named_terms / sizeof named_terms[0]; i++)
        if (equals(v, n, named_terms[i].name))
            return &named_terms[i];
    return &default_term;
}

/* ---- ISO 2022 -------------------------------------------------------------- */

struct dec {
    struct sink *s;
    unsigned flags;
    struct state init;
    struct state st;
};

static bool is_reset_control(uint8_t b)
{
    return b == 0x09 || b == 0x0A || b == 0x0C || b == 0x0D;
}

static bool is_delimiter(const struct dec *d, uint8_t b)
{
    if (b == '\\')
        return !(d->flags & MSI_CS_SINGLE_VALUE);
    return (d->flags & MSI_CS_PN) && (b == '^' || b == '=');
}

/* Two bytes of a 94x94 set (either half: the high bit is ignored). */
static uint32_t db94(uint8_t id, uint8_t a, uint8_t b)
{
    size_t cell = (size_t)((a & 0x7F) - 0x21) * 94 + (size_t)((b & 0x7F) - 0x21);
    uint16_t cp = msi_cs_db94_table((enum msi_cs_db)id)[cell];
    return cp ? cp : REPLACEMENT;
}

/* ESC, intermediates 0x20..0x2F and a final byte 0x30..0x7E (ISO 2022 6.3). */
static size_t escape(struct dec *d, const uint8_t *p, size_t left)
{
    size_t i = 1;
    while (i < left && p[i] >= 0x20 && p[i] <= 0x2F)
        i++;
    if (i >= left || p[i] < 0x30 || p[i] > 0x7E) {
        put(d->s, REPLACEMENT); /* truncated or malformed */
        return i;
    }
    for (size_t k = 0; k < sizeof escapes / sizeof escapes[0]; k++) {
        const struct escape *e = &escapes[k];
        if (e->len == i && memcmp(e->seq, p + 1, i) == 0) {
            if (e->g1)
                d->st.g1 = e->set;
            else
                d->st.g0 = e->set;
            return i + 1;
        }
    }
    put(d->s, REPLACEMENT); /* unknown set */
    return i + 1;
}

/* Bytes 0x21..0x7E: G0. */
static size_t gl(struct dec *d, const uint8_t *p, size_t left)
{
    if (d->st.g0.kind == SET_DB) {
        if (left >= 2 && p[1] >= 0x21 && p[1] <= 0x7E) {
            put(d->s, db94(d->st.g0.id, p[0], p[1]));
            return 2;
        }
        if (!is_delimiter(d, p[0])) {
            put(d->s, REPLACEMENT); /* half a character */
            return 1;
        }
    }
    if (is_delimiter(d, p[0]))
        d->st = d->init;
    put(d->s, p[0]);
    return 1;
}

/* Bytes 0x80..0xFF: G1. */
static size_t gr(struct dec *d, const uint8_t *p, size_t left)
{
    uint8_t b = p[0];
    uint32_t cp = REPLACEMENT;

    switch (d->st.g1.kind) {
    case SET_LATIN1:
        cp = b;
        break;
    case SET_SB:
        cp = msi_cs_sb_table((enum msi_cs_sb)d->st.g1.id)[b - 0x80];
        break;
    case SET_KATAKANA:
        if (b >= 0xA1 && b <= 0xDF)
            cp = 0xFF61u + (b - 0xA1u);
        break;
    case SET_DB:
        if (b >= 0xA1 && b <= 0xFE && left >= 2 && p[1] >= 0xA1 && p[1] <= 0xFE) {
            put(d->s, db94(d->st.g1.id, b, p[1]));
            return 2;
        }
        break;
    default:
        break;
    }
    put(d->s, cp ? cp : REPLACEMENT);
    return 1;
}

static size_t step_iso2022(struct dec *d, const uint8_t *p, size_t left)
{
    uint8_t b = p[0];
    if (b == ESC)
        return escape(d, p, left);
    if (b >= 0x80)
        return gr(d, p, left);
    if (b >= 0x21 && b <= 0x7E)
        return gl(d, p, left);
    if (is_reset_control(b))
        d->st = d->init;
    put(d->s, b); /* other controls, SPACE and DEL are the same in every set */
    return 1;
}

/* ---- stand-alone multi-byte schemes ---------------------------------------- */

/* Length after the lead byte b of a UTF-8 sequence (0: b is no lead byte)
 * and the range of the second byte, which excludes overlongs, surrogates
 * and code points above U+10FFFF (Unicode table 3-7). */
static size_t utf8_lead(uint8_t b, uint8_t *lo, uint8_t *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF)
        return 1;
    if (b >= 0xE0 && b <= 0xEF) {
        *lo = b == 0xE0 ? 0xA0 : 0x80;
        *hi = b == 0xED ? 0x9F : 0xBF;
        return 2;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        *lo = b == 0xF0 ? 0x90 : 0x80;
        *hi = b == 0xF4 ? 0x8F : 0xBF;
        return 3;
    }
    return 0;
}

/* UTF-8 with the "maximal subpart" replacement of Unicode 3.9 (as Python):
 * one U+FFFD per invalid prefix. */
static size_t step_utf8(struct sink *s, const uint8_t *p, size_t left)
{
    uint8_t lo, hi;
    size_t need;
    uint32_t cp;

    if (p[0] < 0x80) {
        put(s, p[0]);
        return 1;
    }
    need = utf8_lead(p[0], &lo, &hi);
    cp = p[0] & (0x3Fu >> need);
    for (size_t i = 1; i <= need; i++) {
        if (i >= left || p[i] < lo || p[i] > hi) {
            put(s, REPLACEMENT);
            return i;
        }
        cp = (cp << 6) | (p[i] & 0x3Fu);
        lo = 0x80;
        hi = 0xBF;
    }
    put(s, need ? cp : REPLACEMENT);
    return need + 1;
}

static bool is_digit(uint8_t b) { return b >= 0x30 && b <= 0x39; }

/* GB18030 four-byte code (p[1] is a digit); 0 when p does not hold one. */
static size_t gb18030_four(struct sink *s, const uint8_t *p, size_t left)
{
    uint32_t lin, cp = 0;

    if (left < 4) {
        bool prefix = left < 3 || (p[2] >= 0x81 && p[2] <= 0xFE);
        if (!prefix)
            return 0;
        put(s, REPLACEMENT); /* truncated at the end */
        return left;
    }
    if (p[2] < 0x81 || p[2] > 0xFE || !is_digit(p[3]))
        return 0;
    lin = (((uint32_t)(p[0] - 0x81) * 10 + (p[1] - 0x30)) * 126 + (p[2] - 0x81)) * 10 +
          (p[3] - 0x30);
    if (lin < MSI_GB4_CELLS)
        cp = msi_cs_gb4_table()[lin];
    else if (p[0] >= 0x90 && p[0] <= 0xE3) /* 0x90308130 is U+10000, linearly */
        cp = 0x10000u + lin - 189000u;
    put(s, cp && cp <= 0x10FFFF ? cp : REPLACEMENT);
    return 4;
}

/* GBK (gb18030 false) or GB18030: ASCII, then two-byte codes with a lead
 * 0x81..0xFE (and GB18030 four-byte codes). An invalid or unmapped pair
 * replaces only its lead byte: the trail byte may be ASCII. */
static size_t step_gb(struct sink *s, const uint8_t *p, size_t left, bool gb18030)
{
    uint8_t b = p[0], t;
    uint32_t cp = 0;

    if (b < 0x80) {
        put(s, b);
        return 1;
    }
    if (b == 0x80 || b == 0xFF || left < 2) {
        put(s, REPLACEMENT);
        return 1;
    }
    t = p[1];
    if (gb18030 && is_digit(t)) {
        size_t n = gb18030_four(s, p, left);
        if (n)
            return n;
    } else if (t >= 0x40 && t <= 0xFE && t != 0x7F) {
        cp = msi_cs_gb2_table(gb18030)[(b - 0x81) * 190 + (t - 0x40) - (t > 0x7F)];
        if (cp) {
            put(s, cp);
            return 2;
        }
    }
    put(s, REPLACEMENT);
    return 1;
}

/* ---- entry points ---------------------------------------------------------- */

/* True when every byte decodes to itself in every scheme's initial state. */
static bool plain_ascii(const uint8_t *in, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == ESC)
            return false;
        acc |= in[i];
    }
    return acc < 0x80;
}

static void decode(const struct term *t, const uint8_t *in, size_t len, unsigned flags,
                   struct sink *s)
{
    struct dec d = {s, flags, t->init, t->init};
    size_t i = 0;

    while (i < len) {
        const uint8_t *p = in + i;
        size_t left = len - i;
        switch (t->scheme) {
        case SCHEME_UTF8:
            i += step_utf8(s, p, left);
            break;
        case SCHEME_GB18030:
        case SCHEME_GBK:
            i += step_gb(s, p, left, t->scheme == SCHEME_GB18030);
            break;
        default:
            i += step_iso2022(&d, p, left);
            break;
        }
    }
}

size_t msi_charset_decode(const char *charset, const uint8_t *in, size_t len, unsigned flags,
                          char *out, size_t cap)
{
    struct sink s = {out, cap, 0, 0, cap == 0};

    if (!in)
        len = 0;
    if (plain_ascii(in, len)) {
        s.used = cap == 0 ? 0 : len < cap ? len : cap - 1;
        if (s.used)
            memcpy(out, in, s.used);
        s.total = len;
    } else {
        decode(first_term(charset), in, len, flags, &s);
    }
    if (cap)
        out[s.used] = '\0';
    return s.total;
}

size_t ms_charset_to_utf8(const char *charset, const uint8_t *in, size_t len, bool is_pn,
                          char *out, size_t cap)
{
    return msi_charset_decode(charset, in, len, is_pn ? MSI_CS_PN : 0, out, cap);
}
