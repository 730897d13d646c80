/* Unit tests of the protection schemes pixel-gcm, chaos, ecb, cbc-slices, otp
 * and stego (src/protect/): bit-exact round trips on the bundled CT slice and
 * on synthetic files built here (8/16/32-bit, signed/unsigned, RGB
 * interleaved and planar, multi-frame, implicit VR, big endian,
 * encapsulated), and the refusals: wrong key, tampered IV/tag/ciphertext/
 * header/part/index, missing or foreign part, pad reuse and expiry, wrong
 * stego key, truncated input; each a clean status and no output file left. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "medseal/crypto.h"
#include "medseal/dicom.h"
#include "medseal/protect.h"
#include "testutil.h"

static char ct_path[1024];
static char key1[512], key2[512], skey1[512], skey2[512], store[512];
static int serial;

/* ---- files ----------------------------------------------------------------------- */

/* A new name in the test directory (it lives for TU_PATH_RING calls). */
static char *fresh(const char *stem)
{
    char name[256];
    snprintf(name, sizeof name, "%s_%d", stem, ++serial);
    return tu_path(name);
}

/* No temporary left behind in the test directory. */
static bool no_temporaries(void)
{
    DIR *d = opendir(tu_dir);
    struct dirent *e;
    bool clean = true;
    while (d && (e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp"))
            clean = false;
    if (d)
        closedir(d);
    return clean;
}

static void flip(const char *path, long at_from_end_or_start, bool from_end)
{
    size_t n;
    uint8_t *d = tu_slurp(path, &n);
    size_t at = from_end ? n - (size_t)at_from_end_or_start : (size_t)at_from_end_or_start;
    d[at] ^= 0x01;
    tu_spit(path, d, n);
    free(d);
}

/* Offset of the value of top-level element tag in a file (explicit VR LE, long VR). */
static long value_offset(const char *path, uint32_t tag, uint64_t *len)
{
    struct ms_file *f = NULL;
    struct ms_element *el;
    long off = -1;
    if (ms_file_read(&f, path, NULL, NULL) != MS_OK)
        return -1;
    el = ms_dataset_get(ms_file_dataset(f), tag);
    if (el) {
        ms_vr vr = ms_element_vr(el);
        bool explicit_vr = ms_file_transfer_syntax(f)->explicit_vr;
        off = (long)ms_element_offset(el) + ((explicit_vr && ms_vr_has_long_length(vr)) ? 12 : 8);
        if (len)
            *len = ms_element_length(el);
    }
    ms_file_destroy(f);
    return off;
}

#define BLOB_TAG MS_TAG(0x7FD1, 0x1013)

/* ---- synthetic DICOM files ------------------------------------------------------------- */

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 1024;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

enum { EXPL_LE, IMPL_LE, EXPL_BE, DEFLATED, JPEG };

static const char *ts_uid(int syntax)
{
    switch (syntax) {
    case IMPL_LE: return "1.2.840.10008.1.2";
    case EXPL_BE: return "1.2.840.10008.1.2.2";
    case DEFLATED: return "1.2.840.10008.1.2.1.99";
    case JPEG: return "1.2.840.10008.1.2.4.50";
    default: return "1.2.840.10008.1.2.1";
    }
}

static void put16s(struct buf *b, uint16_t v, bool be)
{
    uint8_t x[2] = {(uint8_t)(be ? v >> 8 : v), (uint8_t)(be ? v : v >> 8)};
    put(b, x, 2);
}

static void put32s(struct buf *b, uint32_t v, bool be)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    put(b, x, 4);
}

static bool long_vr(const char *vr)
{
    return !strcmp(vr, "OB") || !strcmp(vr, "OW") || !strcmp(vr, "UN") || !strcmp(vr, "SQ") ||
           !strcmp(vr, "UT") || !strcmp(vr, "OL");
}

/* One element; value padded to even (strings with a space). */
static void el(struct buf *b, int syntax, uint32_t tag, const char *vr, const void *v, size_t n)
{
    bool be = syntax == EXPL_BE && (tag >> 16) != 0x0002;
    bool expl = syntax != IMPL_LE || (tag >> 16) == 0x0002;
    size_t padded = n + (n & 1);
    bool text = strcmp(vr, "OB") && strcmp(vr, "OW") && strcmp(vr, "US") && strcmp(vr, "UL");
    put16s(b, (uint16_t)(tag >> 16), be);
    put16s(b, (uint16_t)tag, be);
    if (!expl) {
        put32s(b, (uint32_t)padded, be);
    } else {
        put(b, vr, 2);
        if (long_vr(vr)) {
            put16s(b, 0, be);
            put32s(b, (uint32_t)padded, be);
        } else {
            put16s(b, (uint16_t)padded, be);
        }
    }
    put(b, v, n);
    if (n & 1)
        put(b, text && strcmp(vr, "UI") ? " " : "", 1);
}

static void el_str(struct buf *b, int syntax, uint32_t tag, const char *vr, const char *s)
{
    el(b, syntax, tag, vr, s, strlen(s));
}

static void el_us(struct buf *b, int syntax, uint32_t tag, uint16_t v)
{
    struct buf t = {0};
    put16s(&t, v, syntax == EXPL_BE);
    el(b, syntax, tag, "US", t.p, 2);
    free(t.p);
}

struct synth {
    int syntax;
    unsigned rows, cols, frames, spp, ba, bs, hb, pr, planar;
    unsigned seed;
};

static uint32_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

/* Pixel words: a smooth pattern plus noise in Bits Stored, sign-extended
 * when signed, at the High Bit position. */
static void make_pixels(struct buf *px, const struct synth *s)
{
    uint64_t n = (uint64_t)s->rows * s->cols * s->spp * s->frames;
    unsigned shift = s->hb + 1 - s->bs;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pix = i / s->spp, x = pix % s->cols, y = (pix / s->cols) % s->rows;
        uint64_t range = s->bs >= 32 ? 0xFFFFFFFFull : (1ull << s->bs) - 1;
        uint64_t v = ((x * 7 + y * 13 + (pix / ((uint64_t)s->rows * s->cols)) * 29) * range / 400 +
                      rnd() % 5) & range;
        uint32_t w = (uint32_t)(v << shift);
        if (s->pr && s->bs < s->ba && (v >> (s->bs - 1)) & 1) /* sign-extend above High Bit */
            w |= (uint32_t)(0xFFFFFFFFull << (s->hb + 1));
        if (s->ba < 32)
            w &= (1u << s->ba) - 1;
        if (s->ba == 8) {
            uint8_t c = (uint8_t)w;
            put(px, &c, 1);
        } else if (s->ba == 16) {
            put16s(px, (uint16_t)w, s->syntax == EXPL_BE);
        } else {
            put32s(px, w, s->syntax == EXPL_BE);
        }
    }
}

static void meta(struct buf *b, int syntax, const char *sop)
{
    struct buf m = {0};
    uint8_t pre[128] = {0};
    static const uint8_t ver[2] = {0, 1};
    el(&m, EXPL_LE, 0x00020001, "OB", ver, 2);
    el_str(&m, EXPL_LE, 0x00020002, "UI", "1.2.840.10008.5.1.4.1.1.7");
    el_str(&m, EXPL_LE, 0x00020003, "UI", sop);
    el_str(&m, EXPL_LE, 0x00020010, "UI", ts_uid(syntax));
    put(b, pre, sizeof pre);
    put(b, "DICM", 4);
    {
        struct buf t = {0};
        put32s(&t, (uint32_t)m.len, false);
        el(b, EXPL_LE, 0x00020000, "UL", t.p, 4);
        free(t.p);
    }
    put(b, m.p, m.len);
    free(m.p);
}

static void header(struct buf *d, int syntax, const struct synth *s, const char *sop)
{
    char num[32];
    el_str(d, syntax, 0x00080005, "CS", "ISO_IR 100");
    el_str(d, syntax, 0x00080016, "UI", "1.2.840.10008.5.1.4.1.1.7");
    el_str(d, syntax, 0x00080018, "UI", sop);
    el_str(d, syntax, 0x00080020, "DA", "20240101");
    el_str(d, syntax, 0x00080050, "SH", "ACC\\42");
    el_str(d, syntax, 0x00080060, "CS", "OT");
    el_str(d, syntax, 0x00100010, "PN", "Doe^Jane");
    el_str(d, syntax, 0x00100020, "LO", "ID-123");
    el_str(d, syntax, 0x00100030, "DA", "19800101");
    el_str(d, syntax, 0x00100040, "CS", "F");
    el_str(d, syntax, 0x0020000D, "UI", "1.2.3.4.5.6");
    el_us(d, syntax, 0x00280002, (uint16_t)s->spp);
    el_str(d, syntax, 0x00280004, "CS", s->spp == 3 ? "RGB" : "MONOCHROME2");
    if (s->spp == 3)
        el_us(d, syntax, 0x00280006, (uint16_t)s->planar);
    snprintf(num, sizeof num, "%u", s->frames);
    if (s->frames > 1)
        el_str(d, syntax, 0x00280008, "IS", num);
    el_us(d, syntax, 0x00280010, (uint16_t)s->rows);
    el_us(d, syntax, 0x00280011, (uint16_t)s->cols);
    el_us(d, syntax, 0x00280100, (uint16_t)s->ba);
    el_us(d, syntax, 0x00280101, (uint16_t)s->bs);
    el_us(d, syntax, 0x00280102, (uint16_t)s->hb);
    el_us(d, syntax, 0x00280103, (uint16_t)s->pr);
}

static void make_synth(const char *path, const struct synth *s)
{
    struct buf b = {0}, d = {0}, px = {0};
    char sop[64];
    snprintf(sop, sizeof sop, "1.2.3.4.%u", s->seed);
    rng_state = s->seed;
    meta(&b, s->syntax, sop);
    header(&d, s->syntax, s, sop);
    make_pixels(&px, s);
    el(&d, s->syntax, 0x7FE00010, s->ba == 8 ? "OB" : "OW", px.p, px.len);
    put(&b, d.p, d.len);
    tu_spit(path, b.p, b.len);
    free(b.p);
    free(d.p);
    free(px.p);
}

/* Encapsulated (JPEG Baseline syntax, fragments of noise), one fragment a frame. */
static void make_encapsulated(const char *path, unsigned frames)
{
    struct synth s = {JPEG, 16, 16, frames, 1, 8, 8, 7, 0, 0, 99};
    struct buf b = {0}, d = {0};
    uint32_t off = 0;
    rng_state = 7;
    meta(&b, JPEG, "1.2.3.4.99");
    header(&d, JPEG, &s, "1.2.3.4.99");
    put16s(&d, 0x7FE0, false);
    put16s(&d, 0x0010, false);
    put(&d, "OB\0\0", 4);
    put32s(&d, 0xFFFFFFFFu, false);
    put16s(&d, 0xFFFE, false); /* Basic Offset Table */
    put16s(&d, 0xE000, false);
    put32s(&d, 4 * frames, false);
    for (unsigned f = 0; f < frames; f++) {
        put32s(&d, off, false);
        off += 8 + 40 + 2 * f;
    }
    for (unsigned f = 0; f < frames; f++) {
        put16s(&d, 0xFFFE, false);
        put16s(&d, 0xE000, false);
        put32s(&d, 40 + 2 * f, false);
        for (unsigned i = 0; i < 40 + 2 * f; i++) {
            uint8_t c = (uint8_t)rnd();
            put(&d, &c, 1);
        }
    }
    put16s(&d, 0xFFFE, false);
    put16s(&d, 0xE0DD, false);
    put32s(&d, 0, false);
    put(&b, d.p, d.len);
    tu_spit(path, b.p, b.len);
    free(b.p);
    free(d.p);
}

static void make_deflated(const char *path)
{
    struct synth s = {EXPL_LE, 4, 4, 1, 1, 8, 8, 7, 0, 0, 5};
    struct buf b = {0}, d = {0}, px = {0};
    uint8_t out[4096];
    z_stream z = {0};
    meta(&b, DEFLATED, "1.2.3.4.5");
    header(&d, EXPL_LE, &s, "1.2.3.4.5");
    make_pixels(&px, &s);
    el(&d, EXPL_LE, 0x7FE00010, "OB", px.p, px.len);
    deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    z.next_in = d.p;
    z.avail_in = (uInt)d.len;
    z.next_out = out;
    z.avail_out = sizeof out;
    deflate(&z, Z_FINISH);
    put(&b, out, sizeof out - z.avail_out);
    deflateEnd(&z);
    tu_spit(path, b.p, b.len);
    free(b.p);
    free(d.p);
    free(px.p);
}

/* ---- running the schemes ----------------------------------------------------------------- */

static struct ms_protect_options opts(const char *scheme)
{
    struct ms_protect_options o;
    memset(&o, 0, sizeof o);
    o.scheme = scheme;
    o.key_file = key1;
    o.force = true;
    o.otp_store = store;
    o.stego_key_file = skey1;
    return o;
}

/* Protect then unprotect; returns true when the result is the input. */
static bool round_trip(const char *in, const struct ms_protect_options *o, char *prot_out,
                       struct ms_protect_report *rep)
{
    char *p = fresh("p"), *r = fresh("r");
    struct ms_error err = {0};
    struct ms_protect_report local;
    ms_status st;
    if (!rep)
        rep = &local;
    st = ms_protect_file(in, p, o, rep, &err);
    if (st != MS_OK) {
        fprintf(stderr, "protect %s (%s): %s\n", in, o->scheme, err.msg);
        return false;
    }
    if (prot_out)
        strcpy(prot_out, p);
    st = ms_unprotect_file(p, r, o, NULL, &err);
    if (st != MS_OK) {
        fprintf(stderr, "unprotect %s (%s): %s\n", in, o->scheme, err.msg);
        return false;
    }
    return tu_same_files(in, r);
}

/* A refused unprotect: the expected status and no output. */
static void expect_unprotect_fails(const char *prot, const struct ms_protect_options *o,
                                   ms_status want, const char *what)
{
    char *r = fresh("bad");
    struct ms_error err = {0};
    ms_status st = ms_unprotect_file(prot, r, o, NULL, &err);
    if (st != want)
        fprintf(stderr, "%s: status %d (%s), wanted %d\n", what, st, err.msg, want);
    CHECK_INT(st, want);
    CHECK(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
    CHECK(!tu_exists(r));
    CHECK(no_temporaries());
}

static void expect_protect_fails(const char *in, const struct ms_protect_options *o,
                                 ms_status want, const char *what)
{
    char *p = fresh("bad");
    struct ms_error err = {0};
    ms_status st = ms_protect_file(in, p, o, NULL, &err);
    if (st != want)
        fprintf(stderr, "%s: status %d (%s), wanted %d\n", what, st, err.msg, want);
    CHECK_INT(st, want);
    CHECK(!tu_exists(p));
    CHECK(no_temporaries());
}

static const char *const all_schemes[] = {"pixel-gcm", "chaos", "ecb", "cbc-slices", "otp",
                                          NULL};

/* ---- positives ------------------------------------------------------------------------------ */

static void test_table(void)
{
    CHECK(ms_scheme_find("pixel-gcm") != NULL);
    CHECK(ms_scheme_find("chaos") != NULL);
    CHECK(ms_scheme_find("ecb") != NULL && ms_scheme_find("ecb")->needs_force);
    CHECK(ms_scheme_find("cbc-slices") != NULL);
    CHECK_STR(ms_scheme_find("cbc-slices")->suffix, ".cbcs");
    CHECK(ms_scheme_find("otp") != NULL);
    CHECK(ms_scheme_find("stego") != NULL);
    CHECK(strstr(ms_scheme_find("chaos")->label, "insecure") != NULL);
}

static void test_ct_round_trips(void)
{
    char prot[768];
    for (size_t i = 0; all_schemes[i]; i++) {
        struct ms_protect_options o = opts(all_schemes[i]);
        CHECK(round_trip(ct_path, &o, prot, NULL));
        if (strcmp(all_schemes[i], "cbc-slices") != 0)
            CHECK(ms_protect_identify(prot) == ms_scheme_find(all_schemes[i]));
    }
    {
        struct ms_protect_options o = opts("pixel-gcm");
        struct ms_protect_report rep;
        o.key_from_header = true;
        o.key_file = NULL;
        CHECK(round_trip(ct_path, &o, NULL, &rep));
        CHECK(strstr(rep.note, "insecure") != NULL);
    }
    {
        struct ms_protect_options o = opts("stego");
        o.stego_mode = "highbits";
        CHECK(round_trip(ct_path, &o, prot, NULL));
        CHECK(ms_protect_identify(prot) == ms_scheme_find("stego"));
    }
    {
        struct ms_protect_options o = opts("chaos");
        o.chaos_x0 = 0.123456789;
        o.chaos_mu = 3.99;
        CHECK(round_trip(ct_path, &o, NULL, NULL));
    }
    {
        struct ms_protect_options o = opts("cbc-slices");
        o.slices = 1;
        CHECK(round_trip(ct_path, &o, NULL, NULL));
        o.slices = 7;
        CHECK(round_trip(ct_path, &o, prot, NULL));
        CHECK(ms_protect_identify(prot) == ms_scheme_find("cbc-slices"));
        strcat(prot, ".part3.enc");
        CHECK(ms_protect_is_auxiliary(prot));
        CHECK(!ms_protect_is_auxiliary(ct_path));
    }
}

/* lsb stego: header restored exactly, pixels differ a little, PSNR reported. */
static void test_stego_lsb(void)
{
    struct ms_protect_options o = opts("stego");
    struct ms_protect_report rep;
    struct ms_error err = {0};
    char *p = fresh("p"), *r = fresh("r");
    size_t na, nb;
    uint8_t *a, *b;
    long off = value_offset(ct_path, MS_TAG_PIXEL_DATA, NULL);
    o.stego_mode = "lsb";
    CHECK_INT(ms_protect_file(ct_path, p, &o, &rep, &err), MS_OK);
    CHECK(strstr(rep.note, "PSNR") != NULL);
    CHECK_INT(ms_unprotect_file(p, r, &o, NULL, &err), MS_OK);
    a = tu_slurp(ct_path, &na);
    b = tu_slurp(r, &nb);
    CHECK(a && b && na == nb && off > 0);
    if (a && b && na == nb && off > 0) {
        size_t diff = 0;
        CHECK(memcmp(a, b, (size_t)off) == 0); /* header and metadata exact */
        for (size_t i = (size_t)off; i < na; i++)
            diff += a[i] != b[i];
        CHECK(diff > 0 && diff < (na - (size_t)off) / 10);
    }
    free(a);
    free(b);
}

struct case_ {
    const char *name;
    struct synth s;
};

static const struct case_ cases[] = {
    {"8-bit mono", {EXPL_LE, 32, 24, 1, 1, 8, 8, 7, 0, 0, 1}},
    {"16-bit signed 12 stored", {EXPL_LE, 34, 30, 1, 1, 16, 12, 11, 1, 0, 2}},
    {"16-bit unsigned 16 stored", {EXPL_LE, 17, 16, 1, 1, 16, 16, 15, 0, 0, 3}},
    {"16-bit signed 16 stored", {EXPL_LE, 16, 16, 1, 1, 16, 16, 15, 1, 0, 4}},
    {"RGB interleaved", {EXPL_LE, 16, 20, 1, 3, 8, 8, 7, 0, 0, 5}},
    {"RGB planar", {EXPL_LE, 15, 16, 1, 3, 8, 8, 7, 0, 1, 6}},
    {"multi-frame 16-bit", {EXPL_LE, 16, 16, 6, 1, 16, 12, 11, 0, 0, 7}},
    {"32-bit", {EXPL_LE, 8, 8, 2, 1, 32, 32, 31, 0, 0, 8}},
    {"implicit VR 16-bit", {IMPL_LE, 16, 16, 2, 1, 16, 10, 9, 0, 0, 9}},
    {"big endian 16-bit", {EXPL_BE, 16, 16, 2, 1, 16, 12, 11, 1, 0, 10}},
    {"odd-sized 8-bit", {EXPL_LE, 37, 29, 3, 1, 8, 6, 5, 0, 0, 11}},
    {"high bit not at top", {EXPL_LE, 40, 40, 1, 1, 16, 10, 13, 0, 0, 12}},
};

/* The refusals every scheme owes on a protected file: a wrong key (or
 * store), and a changed byte near the end (pixels, or the index's MAC). */
static void negatives(const char *prot, const char *scheme)
{
    struct ms_protect_options o = opts(scheme);
    char *q = fresh("t");
    if (!strcmp(scheme, "chaos"))
        o.chaos_x0 = 0.41;
    else if (!strcmp(scheme, "otp"))
        o.otp_store = tu_dir; /* holds no pads */
    else if (!strcmp(scheme, "stego"))
        o.stego_key_file = skey2;
    else
        o.key_file = key2;
    expect_unprotect_fails(prot, &o, MS_EKEY, scheme);
    o = opts(scheme);
    tu_copy_file(prot, q);
    if (!strcmp(scheme, "cbc-slices")) { /* the copy's parts, part 1 changed */
        char part[800], p2[800];
        for (int k = 1; k <= 4; k++) {
            snprintf(part, sizeof part, "%s.part%d.enc", prot, k);
            snprintf(p2, sizeof p2, "%s.part%d.enc", q, k);
            tu_copy_file(part, p2);
        }
        snprintf(p2, sizeof p2, "%s.part1.enc", q);
        flip(p2, 3, true);
    } else {
        flip(q, 3, true);
    }
    expect_unprotect_fails(q, &o, MS_EKEY, scheme);
}

static void test_synthetic(void)
{
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *in = fresh("syn");
        make_synth(in, &cases[c].s);
        for (size_t i = 0; all_schemes[i]; i++) {
            struct ms_protect_options o = opts(all_schemes[i]);
            char prot[768];
            bool ok = round_trip(in, &o, prot, NULL);
            if (!ok)
                fprintf(stderr, "  case %s, scheme %s\n", cases[c].name, all_schemes[i]);
            CHECK(ok);
            if (ok)
                negatives(prot, all_schemes[i]);
        }
        {
            struct ms_protect_options o = opts("pixel-gcm");
            o.key_from_header = true;
            CHECK(round_trip(in, &o, NULL, NULL));
        }
        if (cases[c].s.bs + (cases[c].s.hb + 1 - cases[c].s.bs) < cases[c].s.ba) {
            struct ms_protect_options o = opts("stego");
            bool ok;
            char prot[768];
            o.stego_mode = "highbits";
            ok = round_trip(in, &o, prot, NULL);
            if (!ok)
                fprintf(stderr, "  case %s, stego highbits\n", cases[c].name);
            CHECK(ok);
            if (ok)
                negatives(prot, "stego");
        }
    }
}

/* The cipher image really changed, and high bits that were sign copies do
 * not draw the image in a chaos output. */
static void test_chaos_output(void)
{
    struct synth s = {EXPL_LE, 32, 32, 1, 1, 16, 12, 11, 1, 0, 21};
    struct ms_protect_options o = opts("chaos");
    struct ms_error err = {0};
    char *in = fresh("syn"), *p = fresh("p");
    size_t na, nb, changed = 0, high = 0;
    uint8_t *a, *b;
    long off;
    make_synth(in, &s);
    CHECK_INT(ms_protect_file(in, p, &o, NULL, &err), MS_OK);
    a = tu_slurp(in, &na);
    b = tu_slurp(p, &nb);
    off = value_offset(p, MS_TAG_PIXEL_DATA, NULL);
    if (a && b && off > 0) {
        size_t aoff = na - 32 * 32 * 2;
        for (size_t i = 0; i < 32 * 32; i++) {
            uint16_t x = (uint16_t)(a[aoff + 2 * i] | (a[aoff + 2 * i + 1] << 8));
            uint16_t y = (uint16_t)(b[off + 2 * i] | (b[off + 2 * i + 1] << 8));
            changed += x != y;
            high += (y & 0xF000) != 0;
        }
    }
    CHECK(changed > 32 * 32 * 95 / 100);
    CHECK_INT(high, 0);
    free(a);
    free(b);
}

/* ECB is plain AES-256-ECB of the value under the -k key: equal blocks stay equal. */
static void test_ecb_is_ecb(void)
{
    struct synth s = {EXPL_LE, 16, 16, 1, 1, 8, 8, 7, 0, 0, 31};
    struct ms_protect_options o = opts("ecb");
    struct ms_error err = {0};
    char *in = fresh("syn"), *p = fresh("p");
    size_t na, nb, nk;
    uint8_t *a, *b, *k, *expect;
    long off;
    make_synth(in, &s);
    CHECK_INT(ms_protect_file(in, p, &o, NULL, &err), MS_OK);
    a = tu_slurp(in, &na);
    b = tu_slurp(p, &nb);
    k = tu_slurp(key1, &nk);
    off = value_offset(p, MS_TAG_PIXEL_DATA, NULL);
    expect = malloc(256);
    CHECK_INT(ms_ecb_crypt(MS_ENCRYPT, k, a + na - 256, 256, expect, &err), MS_OK);
    CHECK(off > 0 && memcmp(b + off, expect, 256) == 0);
    free(a);
    free(b);
    free(k);
    free(expect);
    o.force = false;
    expect_protect_fails(ct_path, &o, MS_EUSAGE, "ecb without --i-know");
}

/* Frames of a pixel-gcm file decrypt on their own with the documented AAD. */
static void test_frames_independent(void)
{
    struct synth s = {EXPL_LE, 16, 16, 5, 1, 16, 16, 15, 0, 0, 41};
    struct ms_protect_options o = opts("pixel-gcm");
    struct ms_error err = {0};
    char *in = fresh("syn"), *p = fresh("p");
    size_t na, nb, nk;
    uint8_t *a, *b, *k, sub[32], aad[60], plain[512];
    uint64_t blen = 0;
    long off, boff;
    make_synth(in, &s);
    CHECK_INT(ms_protect_file(in, p, &o, NULL, &err), MS_OK);
    a = tu_slurp(in, &na);
    b = tu_slurp(p, &nb);
    k = tu_slurp(key1, &nk);
    off = value_offset(p, MS_TAG_PIXEL_DATA, NULL);
    boff = value_offset(p, BLOB_TAG, &blen);
    CHECK(off > 0 && boff > 0 && blen >= 64 + 5 * 28);
    CHECK_INT(b[boff], 1);
    CHECK_INT(b[boff + 4], 5);
    CHECK_INT(ms_hkdf_sha256(k, 32, b + boff + 8, 16, "medseal pixel-gcm v1", 20, sub, 32, &err),
              MS_OK);
    memcpy(aad, "medseal pixel-gcm v1", 20);
    aad[20] = 3, aad[21] = aad[22] = aad[23] = 0; /* frame 3 of 5 */
    aad[24] = 5, aad[25] = aad[26] = aad[27] = 0;
    memcpy(aad + 28, b + boff + 32, 32);
    CHECK_INT(ms_gcm_decrypt(sub, b + boff + 64 + 3 * 28, aad, 60, b + off + 3 * 512, 512,
                             b + boff + 64 + 3 * 28 + 12, plain, &err),
              MS_OK);
    CHECK(memcmp(plain, a + na - 5 * 512 + 3 * 512, 512) == 0);
    free(a);
    free(b);
    free(k);
}

static void test_encapsulated_gcm(void)
{
    char *in = fresh("enc"), prot[768];
    struct ms_protect_options o = opts("pixel-gcm");
    make_encapsulated(in, 3);
    CHECK(round_trip(in, &o, prot, NULL));
    o.scheme = "cbc-slices";
    CHECK(round_trip(in, &o, NULL, NULL));
    o.scheme = "otp";
    CHECK(round_trip(in, &o, NULL, NULL));
    o.scheme = "pixel-gcm";
    flip(prot, 30, true); /* inside the last fragment */
    expect_unprotect_fails(prot, &o, MS_EKEY, "encapsulated tampered");
    o.scheme = "chaos";
    expect_protect_fails(in, &o, MS_EUNSUPPORTED, "chaos on encapsulated");
    o.scheme = "ecb";
    expect_protect_fails(in, &o, MS_EUNSUPPORTED, "ecb on encapsulated");
    o.scheme = "stego";
    expect_protect_fails(in, &o, MS_EUNSUPPORTED, "stego on encapsulated");
}

/* Parts found whatever their numbers in the names. */
static void test_parts_any_order(void)
{
    struct ms_protect_options o = opts("cbc-slices");
    struct ms_error err = {0};
    char *p = fresh("x"), a[800], b[800], t[800], *r = fresh("r");
    o.slices = 3;
    CHECK_INT(ms_protect_file(ct_path, p, &o, NULL, &err), MS_OK);
    snprintf(a, sizeof a, "%s.part1.enc", p);
    snprintf(b, sizeof b, "%s.part3.enc", p);
    snprintf(t, sizeof t, "%s.partX.enc", p);
    CHECK(rename(a, t) == 0 && rename(b, a) == 0 && rename(t, b) == 0);
    CHECK_INT(ms_unprotect_file(p, r, &o, NULL, &err), MS_OK);
    CHECK(tu_same_files(ct_path, r));
}

/* ---- negatives -------------------------------------------------------------------------------- */

static char *protect_ct(const char *scheme, struct ms_protect_options *o)
{
    char *p = fresh("p");
    struct ms_error err = {0};
    *o = opts(scheme);
    if (ms_protect_file(ct_path, p, o, NULL, &err) != MS_OK)
        fprintf(stderr, "protect_ct %s: %s\n", scheme, err.msg);
    return p;
}

static void test_pixel_gcm_refusals(void)
{
    struct ms_protect_options o;
    char *p = protect_ct("pixel-gcm", &o), *q;
    uint64_t blen;
    long boff = value_offset(p, BLOB_TAG, &blen);

    o.key_file = key2;
    expect_unprotect_fails(p, &o, MS_EKEY, "pixel-gcm wrong key");
    o.key_file = NULL;
    expect_unprotect_fails(p, &o, MS_EUSAGE, "pixel-gcm no key");
    o.key_file = key1;
    q = fresh("t");
    tu_copy_file(p, q);
    flip(q, 100, true);
    expect_unprotect_fails(q, &o, MS_EKEY, "pixel-gcm ciphertext");
    q = fresh("t");
    tu_copy_file(p, q);
    flip(q, boff + 64, false); /* IV of frame 1 */
    expect_unprotect_fails(q, &o, MS_EKEY, "pixel-gcm IV");
    q = fresh("t");
    tu_copy_file(p, q);
    flip(q, boff + 64 + 12 + 5, false); /* its tag */
    expect_unprotect_fails(q, &o, MS_EKEY, "pixel-gcm tag");
    q = fresh("t");
    tu_copy_file(p, q);
    flip(q, value_offset(q, MS_TAG(0x0010, 0x0010), NULL), false); /* patient name */
    expect_unprotect_fails(q, &o, MS_EKEY, "pixel-gcm header (AAD)");
    q = fresh("t");
    tu_copy_file(p, q);
    truncate(q, 3000);
    expect_unprotect_fails(q, &o, MS_EMALFORMED, "pixel-gcm truncated");
    expect_protect_fails(p, &o, MS_EUNSUPPORTED, "pixel-gcm twice");
    expect_unprotect_fails(ct_path, &o, MS_EUNSUPPORTED, "not protected");
    {
        struct ms_protect_options h = opts("pixel-gcm");
        char *hp = fresh("h");
        struct ms_error err = {0};
        h.key_from_header = true;
        CHECK_INT(ms_protect_file(ct_path, hp, &h, NULL, &err), MS_OK);
        flip(hp, value_offset(hp, MS_TAG(0x0010, 0x0010), NULL) + 2, false);
        expect_unprotect_fails(hp, &h, MS_EKEY, "pixel-gcm header key, name changed");
    }
}

static void test_chaos_ecb_refusals(void)
{
    struct ms_protect_options o;
    char *p = protect_ct("chaos", &o), *q;
    o.chaos_x0 = 0.4000001;
    expect_unprotect_fails(p, &o, MS_EKEY, "chaos wrong x0");
    o.chaos_x0 = 0;
    o.chaos_mu = 3.9;
    expect_unprotect_fails(p, &o, MS_EKEY, "chaos wrong mu");
    o.chaos_mu = 0;
    q = fresh("t");
    tu_copy_file(p, q);
    flip(q, 500, true);
    expect_unprotect_fails(q, &o, MS_EKEY, "chaos tampered pixel");
    o.chaos_mu = 4.5;
    expect_protect_fails(ct_path, &o, MS_EUSAGE, "chaos mu out of range");
    o.chaos_mu = 0;
    o.chaos_x0 = 1.5;
    expect_protect_fails(ct_path, &o, MS_EUSAGE, "chaos x0 out of range");

    p = protect_ct("ecb", &o);
    o.key_file = key2;
    expect_unprotect_fails(p, &o, MS_EKEY, "ecb wrong key");
    o.key_file = key1;
    q = fresh("t");
    tu_copy_file(p, q);
    flip(q, 20, true);
    expect_unprotect_fails(q, &o, MS_EKEY, "ecb tampered");
}

static void part_path(char *buf, size_t cap, const char *index, int k)
{
    snprintf(buf, cap, "%s.part%d.enc", index, k);
}

static void test_cbc_slices_refusals(void)
{
    struct ms_protect_options o;
    char *p = protect_ct("cbc-slices", &o), *p2, part[800], other[800], save[800];

    o.key_file = key2;
    expect_unprotect_fails(p, &o, MS_EKEY, "cbc-slices wrong key");
    o.key_file = key1;
    part_path(part, sizeof part, p, 2);
    snprintf(save, sizeof save, "%s.saved", part);
    tu_copy_file(part, save);
    flip(part, 10, true);
    expect_unprotect_fails(p, &o, MS_EKEY, "cbc-slices tampered part");
    tu_copy_file(save, part);
    flip(part, 30, false); /* the part's number/offset header */
    expect_unprotect_fails(p, &o, MS_EKEY, "cbc-slices tampered part header");
    tu_copy_file(save, part);
    truncate(part, 200);
    expect_unprotect_fails(p, &o, MS_EKEY, "cbc-slices truncated part");
    unlink(part);
    expect_unprotect_fails(p, &o, MS_EKEY, "cbc-slices missing part");
    /* a part 2 of another protection of the same file */
    p2 = protect_ct("cbc-slices", &o);
    part_path(other, sizeof other, p2, 2);
    tu_copy_file(other, part);
    expect_unprotect_fails(p, &o, MS_EKEY, "cbc-slices foreign part");
    tu_copy_file(save, part);
    part_path(other, sizeof other, p, 9);
    tu_copy_file(save, other);
    expect_unprotect_fails(p, &o, MS_EKEY, "cbc-slices duplicated part");
    unlink(other);
    tu_copy_file(p, save);
    flip(p, 70, false);
    expect_unprotect_fails(p, &o, MS_EKEY, "cbc-slices tampered index");
    tu_copy_file(save, p);
    truncate(p, 100);
    expect_unprotect_fails(p, &o, MS_EMALFORMED, "cbc-slices truncated index");
    tu_copy_file(save, p);
    o.slices = 100000;
    expect_protect_fails(ct_path, &o, MS_EUSAGE, "cbc-slices too many slices");
    o.slices = 0;
    o.key_file = NULL;
    expect_protect_fails(ct_path, &o, MS_EUSAGE, "cbc-slices no key");
}

static void test_otp_refusals(void)
{
    struct ms_protect_options o;
    char *p = protect_ct("otp", &o), *p2, *q, *r = fresh("r"), pad[900];
    uint64_t blen;
    long boff = value_offset(p, BLOB_TAG, &blen);
    struct ms_error err = {0};
    size_t n;
    uint8_t *b = tu_slurp(p, &n);

    /* the pad's name comes from the id at the start of the blob */
    snprintf(pad, sizeof pad, "%s/", store);
    for (int i = 0; i < 16; i++)
        sprintf(pad + strlen(pad), "%02x", b[boff + i]);
    strcat(pad, ".pad");
    free(b);
    CHECK(tu_exists(pad));

    q = fresh("t");
    tu_copy_file(p, q);
    flip(q, boff + 92 + 3, false); /* sealed text */
    expect_unprotect_fails(q, &o, MS_EKEY, "otp tampered text");
    CHECK(tu_exists(pad)); /* a failed use leaves the pad */
    q = fresh("t");
    tu_copy_file(p, q);
    flip(q, 50, true); /* pixels: the file check */
    expect_unprotect_fails(q, &o, MS_EKEY, "otp tampered file");
    o.otp_store = NULL;
    expect_unprotect_fails(p, &o, MS_EUSAGE, "otp no store");
    o.otp_store = store;
    CHECK_INT(ms_unprotect_file(p, r, &o, NULL, &err), MS_OK);
    CHECK(tu_same_files(ct_path, r));
    CHECK(!tu_exists(pad));
    expect_unprotect_fails(p, &o, MS_EKEY, "otp reuse");

    /* expiry: push the pad's expiry into the past */
    p2 = protect_ct("otp", &o);
    b = tu_slurp(p2, &n);
    boff = value_offset(p2, BLOB_TAG, &blen);
    snprintf(pad, sizeof pad, "%s/", store);
    for (int i = 0; i < 16; i++)
        sprintf(pad + strlen(pad), "%02x", b[boff + i]);
    strcat(pad, ".pad");
    free(b);
    b = tu_slurp(pad, &n);
    CHECK(b && n > 64);
    if (b) {
        memset(b + 16, 0, 8);
        b[16] = 1; /* 1970 */
        tu_spit(pad, b, n);
        free(b);
    }
    expect_unprotect_fails(p2, &o, MS_EKEY, "otp expired");
    CHECK(!tu_exists(pad));
    o.otp_ttl = UINT64_MAX;
    expect_protect_fails(ct_path, &o, MS_EUSAGE, "otp bad ttl");
}

static void test_stego_refusals(void)
{
    struct ms_protect_options o;
    char *p = protect_ct("stego", &o), *q;
    char *in = fresh("syn");
    struct synth full = {EXPL_LE, 16, 16, 1, 1, 16, 16, 15, 0, 0, 51};
    struct synth tiny = {EXPL_LE, 4, 4, 1, 1, 8, 8, 7, 0, 0, 52};

    o.stego_key_file = skey2;
    expect_unprotect_fails(p, &o, MS_EKEY, "stego wrong key");
    o.stego_key_file = NULL;
    expect_unprotect_fails(p, &o, MS_EUSAGE, "stego no key");
    o.stego_key_file = skey1;
    q = fresh("t");
    tu_copy_file(p, q);
    flip(q, 300, true); /* a cipher pixel (not a payload bit) */
    expect_unprotect_fails(q, &o, MS_EKEY, "stego tampered");
    make_synth(in, &full);
    o.stego_mode = "highbits";
    expect_protect_fails(in, &o, MS_EUNSUPPORTED, "stego highbits without spare bits");
    o.stego_mode = "middle";
    expect_protect_fails(ct_path, &o, MS_EUSAGE, "stego bad mode");
    o.stego_mode = "lsb";
    in = fresh("syn");
    make_synth(in, &tiny);
    expect_protect_fails(in, &o, MS_EUNSUPPORTED, "stego payload too large");
}

static void test_bad_inputs(void)
{
    char *in = fresh("defl"), *junk = fresh("junk");
    make_deflated(in);
    for (size_t i = 0; all_schemes[i]; i++) {
        struct ms_protect_options o = opts(all_schemes[i]);
        expect_protect_fails(in, &o, MS_EUNSUPPORTED, "deflated input");
    }
    tu_spit(junk, "not dicom at all", 16);
    {
        struct ms_protect_options o = opts("pixel-gcm");
        expect_protect_fails(junk, &o, MS_EMALFORMED, "junk input");
        expect_unprotect_fails(junk, &o, MS_EUNSUPPORTED, "junk to unprotect");
        o.scheme = "no-such-scheme";
        expect_protect_fails(ct_path, &o, MS_EUSAGE, "unknown scheme");
    }
}

/* ---- setup ------------------------------------------------------------------------------------ */

static void setup(void)
{
    uint8_t k[32];
    tu_dir_open();
    snprintf(ct_path, sizeof ct_path, "%s", tu_ct(1));
    snprintf(key1, sizeof key1, "%s", tu_path("k1.bin"));
    snprintf(key2, sizeof key2, "%s", tu_path("k2.bin"));
    snprintf(skey1, sizeof skey1, "%s", tu_path("stego1.txt"));
    snprintf(skey2, sizeof skey2, "%s", tu_path("stego2.txt"));
    snprintf(store, sizeof store, "%s", tu_path("pads"));
    for (int i = 0; i < 32; i++)
        k[i] = (uint8_t)(i * 7 + 1);
    tu_spit(key1, k, 32);
    k[0] ^= 1;
    tu_spit(key2, k, 32);
    tu_spit(skey1, "correct horse\n", 14);
    tu_spit(skey2, "correct house\n", 14);
}

int main(void)
{
    setup();
    test_table();
    test_ct_round_trips();
    test_stego_lsb();
    test_synthetic();
    test_chaos_output();
    test_ecb_is_ecb();
    test_frames_independent();
    test_encapsulated_gcm();
    test_parts_any_order();
    test_pixel_gcm_refusals();
    test_chaos_ecb_refusals();
    test_cbc_slices_refusals();
    test_otp_refusals();
    test_stego_refusals();
    test_bad_inputs();
    tu_dir_close();
    return check_done();
}
