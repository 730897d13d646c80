/* Unit tests of the Part 10 reader, writer, dataset edits and pixel access. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "medseal/dicom.h"
#include "medseal/pixel.h"
#include "testutil.h"

static void test_read_ct(void)
{
    struct ms_file *f = NULL;
    struct ms_error err = {0};
    struct ms_pixel_info pi;
    char buf[128];
    float *hu;
    float lo = 1e9f, hi = -1e9f;

    CHECK_INT(ms_file_read(&f, tu_ct(1), NULL, &err), MS_OK);
    if (!f)
        return;
    CHECK(ms_file_has_dicm(f));
    CHECK_STR(ms_file_transfer_syntax(f)->uid, "1.2.840.10008.1.2.1");
    CHECK(ms_dataset_get_string(ms_file_dataset(f), MS_TAG(0x0008, 0x0060), 0, buf, sizeof buf));
    CHECK_STR(buf, "CT");
    CHECK_INT(ms_pixel_info_get(ms_file_dataset(f), &pi, &err), MS_OK);
    CHECK_INT(pi.rows, 256);
    CHECK_INT(pi.columns, 256);
    CHECK_INT(pi.bits_allocated, 16);
    hu = malloc(256 * 256 * sizeof *hu);
    CHECK_INT(ms_pixel_frame_real(&pi, 0, hu, &err), MS_OK);
    for (int i = 0; i < 256 * 256; i++) {
        lo = hu[i] < lo ? hu[i] : lo;
        hi = hu[i] > hi ? hu[i] : hi;
    }
    CHECK(lo >= -2048 && lo <= -900); /* air */
    CHECK(hi >= 300 && hi <= 4000);   /* bone */
    CHECK_INT(ms_pixel_frame_real(&pi, 1, hu, &err), MS_EUSAGE);
    free(hu);
    ms_file_destroy(f);
}

/* Reading then writing an Explicit VR LE file unchanged is byte-identical. */
static void test_roundtrip_identical(void)
{
    size_t len;
    uint8_t *orig = tu_slurp(tu_ct(1), &len);
    struct ms_file *f = NULL;
    struct tu_membuf out = {0};
    struct ms_error err = {0};

    CHECK(orig != NULL);
    CHECK_INT(ms_file_read_memory(&f, orig, len, NULL, &err), MS_OK);
    if (!f) {
        free(orig);
        return;
    }
    CHECK_INT(ms_file_write_sink(f, tu_mem_sink, &out, NULL, &err), MS_OK);
    CHECK_INT(out.len, len);
    CHECK(out.len == len && memcmp(out.data, orig, len) == 0);
    ms_file_destroy(f);
    free(out.data);
    free(orig);
}

/* Changing one element changes only its bytes (same length value). */
static void test_edit_minimal(void)
{
    size_t len, diffs = 0, first = 0;
    uint8_t *orig = tu_slurp(tu_ct(1), &len);
    struct ms_file *f = NULL;
    struct tu_membuf out = {0};
    struct ms_error err = {0};
    struct ms_element *el;
    char name[256];

    CHECK_INT(ms_file_read_memory(&f, orig, len, NULL, &err), MS_OK);
    if (!f) {
        free(orig);
        return;
    }
    el = ms_dataset_get(ms_file_dataset(f), MS_TAG(0x0010, 0x0010));
    CHECK(el != NULL);
    ms_dataset_get_string(ms_file_dataset(f), MS_TAG(0x0010, 0x0010), 0, name, sizeof name);
    memset(name, 'X', strlen(name));
    CHECK_INT(ms_dataset_set_string(ms_file_dataset(f), MS_TAG(0x0010, 0x0010), MS_VR_PN, name,
                                    &err),
              MS_OK);
    CHECK_INT(ms_file_write_sink(f, tu_mem_sink, &out, NULL, &err), MS_OK);
    CHECK_INT(out.len, len);
    for (size_t i = 0; i < len && i < out.len; i++)
        if (orig[i] != out.data[i]) {
            if (!diffs)
                first = i;
            diffs++;
        }
    CHECK(diffs > 0 && diffs <= strlen(name));
    CHECK(first >= ms_element_offset(el) + 8);
    ms_file_destroy(f);
    free(out.data);
    free(orig);
}

/* Same elements, VRs and values after re-encoding in another syntax. */
static void compare_datasets(const struct ms_dataset *a, const struct ms_dataset *b)
{
    CHECK_INT(ms_dataset_count(a), ms_dataset_count(b));
    for (size_t i = 0; i < ms_dataset_count(a) && i < ms_dataset_count(b); i++) {
        struct ms_element *x = ms_dataset_at(a, i), *y = ms_dataset_at(b, i);
        if (ms_element_tag(x) != ms_element_tag(y) || ms_element_vr(x) != ms_element_vr(y)) {
            CHECK_INT(ms_element_tag(x), ms_element_tag(y));
            CHECK_INT(ms_element_vr(x), ms_element_vr(y));
            return;
        }
        if (ms_element_vr(x) == MS_VR_SQ) {
            CHECK_INT(ms_element_item_count(x), ms_element_item_count(y));
            for (size_t k = 0; k < ms_element_item_count(x) && k < ms_element_item_count(y); k++)
                compare_datasets(ms_element_item(x, k), ms_element_item(y, k));
            continue;
        }
        uint64_t lx = ms_element_length(x), ly = ms_element_length(y);
        if (lx & 1)
            lx++;
        if (lx != ly || (lx && ms_element_length(x) &&
                         memcmp(ms_element_value(x), ms_element_value(y),
                                (size_t)ms_element_length(x)) != 0)) {
            fprintf(stderr, "value of (%04X,%04X) differs\n", MS_TAG_GROUP(ms_element_tag(x)),
                    MS_TAG_ELEMENT(ms_element_tag(x)));
            CHECK(0);
        }
    }
}

static void test_syntaxes(void)
{
    const struct ms_transfer_syntax *list[] = {ms_ts_implicit_le(), ms_ts_explicit_be(),
                                               ms_ts_deflated(), ms_ts_explicit_le()};
    struct ms_file *orig = NULL;
    struct ms_error err = {0};

    CHECK_INT(ms_file_read(&orig, tu_ct(1), NULL, &err), MS_OK);
    if (!orig)
        return;
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        struct ms_file *f = NULL, *g = NULL;
        struct tu_membuf out = {0};
        CHECK_INT(ms_file_read(&f, tu_ct(1), NULL, &err), MS_OK);
        ms_file_set_transfer_syntax(f, list[i]);
        CHECK_INT(ms_file_write_sink(f, tu_mem_sink, &out, NULL, &err), MS_OK);
        CHECK_INT(ms_file_read_memory(&g, out.data, out.len, NULL, &err), MS_OK);
        if (g) {
            CHECK_STR(ms_file_transfer_syntax(g)->uid, list[i]->uid);
            compare_datasets(ms_file_dataset(orig), ms_file_dataset(g));
        }
        ms_file_destroy(f);
        ms_file_destroy(g);
        free(out.data);
    }
    ms_file_destroy(orig);
}

static void test_build_from_scratch(void)
{
    struct ms_file *f = NULL, *g = NULL;
    struct ms_error err = {0};
    struct ms_element *seq = NULL;
    struct ms_dataset *item = NULL, *ds;
    struct tu_membuf out = {0};
    char buf[64];
    int64_t v;

    CHECK_INT(ms_file_create(&f, NULL, &err), MS_OK);
    ds = ms_file_dataset(f);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0010, 0x0010), MS_VR_PN, "Doe^Jane", &err), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0008, 0x0016), MS_VR_UI, "1.2.3", &err), MS_OK);
    CHECK_INT(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0010), MS_VR_US, 512, &err), MS_OK);
    CHECK_INT(ms_dataset_set_sequence(ds, MS_TAG(0x0008, 0x1140), &seq, &err), MS_OK);
    CHECK_INT(ms_element_add_item(seq, &item, &err), MS_OK);
    CHECK_INT(ms_dataset_set_string(item, MS_TAG(0x0008, 0x1155), MS_VR_UI, "1.2.3.4", &err),
              MS_OK);
    /* insertion keeps ascending order */
    CHECK_INT(ms_element_tag(ms_dataset_at(ds, 0)), MS_TAG(0x0008, 0x0016));
    CHECK_INT(ms_file_write_sink(f, tu_mem_sink, &out, NULL, &err), MS_OK);
    CHECK_INT(ms_file_read_memory(&g, out.data, out.len, NULL, &err), MS_OK);
    if (g) {
        ds = ms_file_dataset(g);
        CHECK(ms_dataset_get_string(ds, MS_TAG(0x0010, 0x0010), 0, buf, sizeof buf));
        CHECK_STR(buf, "Doe^Jane");
        CHECK(ms_dataset_get_int(ds, MS_TAG(0x0028, 0x0010), 0, &v));
        CHECK_INT(v, 512);
        seq = ms_dataset_get(ds, MS_TAG(0x0008, 0x1140));
        CHECK(seq && ms_element_item_count(seq) == 1);
        CHECK(ms_dataset_get_string(ms_element_item(seq, 0), MS_TAG(0x0008, 0x1155), 0, buf,
                                    sizeof buf));
        CHECK_STR(buf, "1.2.3.4");
        /* odd-length UI padded with NUL, read back without padding */
        CHECK(ms_dataset_get_string(ds, MS_TAG(0x0008, 0x0016), 0, buf, sizeof buf));
        CHECK_STR(buf, "1.2.3");
        CHECK(ms_dataset_get_string(ms_file_meta(g), MS_TAG(0x0002, 0x0002), 0, buf, sizeof buf));
        CHECK_STR(buf, "1.2.3");
    }
    CHECK(ms_dataset_remove(ms_file_dataset(f), MS_TAG(0x0010, 0x0010)));
    CHECK(!ms_dataset_remove(ms_file_dataset(f), MS_TAG(0x0010, 0x0010)));
    CHECK_INT(ms_dataset_set_bytes(ms_file_dataset(f), MS_TAG(0xFFFE, 0xE000), MS_VR_OB, "", 0,
                                   &err),
              MS_EUSAGE);
    CHECK_INT(ms_dataset_set_string(ms_file_dataset(f), MS_TAG(0x0010, 0x0010), MS_VR_US, "x",
                                    &err),
              MS_EUSAGE);
    ms_file_destroy(f);
    ms_file_destroy(g);
    free(out.data);
}

/* ---- malformed input ------------------------------------------------------------ */

static size_t put_el(uint8_t *p, uint16_t g, uint16_t e, const char *vr, uint32_t len)
{
    p[0] = (uint8_t)g;
    p[1] = (uint8_t)(g >> 8);
    p[2] = (uint8_t)e;
    p[3] = (uint8_t)(e >> 8);
    if (!vr) {
        memcpy(p + 4, &len, 4);
        return 8;
    }
    p[4] = (uint8_t)vr[0];
    p[5] = (uint8_t)vr[1];
    if (strcmp(vr, "SQ") == 0 || strcmp(vr, "OB") == 0 || strcmp(vr, "UN") == 0) {
        p[6] = p[7] = 0;
        memcpy(p + 8, &len, 4);
        return 12;
    }
    p[6] = (uint8_t)len;
    p[7] = (uint8_t)(len >> 8);
    return 8;
}

/* A preamble + DICM + meta with Explicit VR LE, ready for a dataset. */
static size_t part10_head(uint8_t *p)
{
    static const char ts[] = "1.2.840.10008.1.2.1";
    size_t n = 132;
    memset(p, 0, 128);
    memcpy(p + 128, "DICM", 4);
    n += put_el(p + n, 0x0002, 0x0010, "UI", 20);
    memcpy(p + n, ts, 20);
    return n + 20;
}

static ms_status parse(const uint8_t *data, size_t len, struct ms_error *err)
{
    struct ms_file *f = NULL;
    ms_status st = ms_file_read_memory(&f, data, len, NULL, err);
    ms_file_destroy(f);
    return st;
}

static void count_warning(void *ctx, uint64_t offset, const char *msg)
{
    (void)offset;
    (void)msg;
    (*(int *)ctx)++;
}

/* Read buf, which must parse; returns the number of warnings. */
static int read_warnings(const uint8_t *buf, size_t n, struct ms_error *err)
{
    struct ms_file *f = NULL;
    struct ms_read_options ro = {0};
    int warnings = 0;
    ro.warn = count_warning;
    ro.warn_ctx = &warnings;
    CHECK_INT(ms_file_read_memory(&f, buf, n, &ro, err), MS_OK);
    ms_file_destroy(f);
    return warnings;
}

static void test_malformed(void)
{
    static uint8_t buf[1 << 16];
    struct ms_error err = {0};
    size_t n;

    /* empty input, tiny input */
    CHECK_INT(parse(buf, 0, &err), MS_EMALFORMED);
    memset(buf, 0, 4);
    CHECK_INT(parse(buf, 4, &err), MS_EMALFORMED);

    /* value length beyond the end */
    n = part10_head(buf);
    n += put_el(buf + n, 0x0010, 0x0010, "PN", 200);
    memcpy(buf + n, "Doe", 4);
    CHECK_INT(parse(buf, n + 4, &err), MS_EMALFORMED);
    CHECK(strstr(err.msg, "(0010,0010)") != NULL);
    CHECK(strstr(err.msg, "exceeds") != NULL);

    /* truncated header */
    n = part10_head(buf);
    n += put_el(buf + n, 0x0010, 0x0010, "PN", 4);
    memcpy(buf + n, "Doe ", 4);
    n += 4;
    buf[n++] = 0x10;
    buf[n++] = 0x00;
    buf[n++] = 0x20;
    buf[n++] = 0x00;
    buf[n++] = 'L';
    buf[n++] = 'O';
    buf[n++] = 0x08;
    /* fewer than 8 trailing bytes: ignored with a warning, as pydicom does */
    CHECK_INT(read_warnings(buf, n, &err), 1);

    /* sequence holding an element where an item must be */
    n = part10_head(buf);
    n += put_el(buf + n, 0x0008, 0x1140, "SQ", 16);
    n += put_el(buf + n, 0x0008, 0x1150, "UI", 8);
    memcpy(buf + n, "1.2.3.4", 8);
    n += 8;
    CHECK_INT(parse(buf, n, &err), MS_EMALFORMED);
    CHECK(strstr(err.msg, "where an item was expected") != NULL);

    /* item longer than the data left: cut there with a warning (as DCMTK, pydicom) */
    n = part10_head(buf);
    n += put_el(buf + n, 0x0008, 0x1140, "SQ", 20);
    n += put_el(buf + n, 0xFFFE, 0xE000, NULL, 4000);
    n += put_el(buf + n, 0x0008, 0x1150, "UI", 4);
    memcpy(buf + n, "1.2", 4);
    n += 4;
    CHECK_INT(read_warnings(buf, n, &err), 1);

    /* undefined-length sequence without a delimiter */
    n = part10_head(buf);
    n += put_el(buf + n, 0x0008, 0x1140, "SQ", 0xFFFFFFFFu);
    n += put_el(buf + n, 0xFFFE, 0xE000, NULL, 0);
    CHECK_INT(parse(buf, n, &err), MS_EMALFORMED);

    /* hostile nesting: 1000 nested undefined-length sequences */
    n = part10_head(buf);
    for (int i = 0; i < 1000; i++) {
        n += put_el(buf + n, 0x0008, 0x1140, "SQ", 0xFFFFFFFFu);
        n += put_el(buf + n, 0xFFFE, 0xE000, NULL, 0xFFFFFFFFu);
    }
    CHECK_INT(parse(buf, n, &err), MS_ELIMIT);
    CHECK(strstr(err.msg, "nested") != NULL);

    /* an item tag outside any sequence */
    n = part10_head(buf);
    n += put_el(buf + n, 0xFFFE, 0xE000, NULL, 0);
    CHECK_INT(parse(buf, n, &err), MS_EMALFORMED);

    /* encapsulated pixel data without delimiter, with lying fragment */
    n = part10_head(buf);
    n += put_el(buf + n, 0x7FE0, 0x0010, "OB", 0xFFFFFFFFu);
    n += put_el(buf + n, 0xFFFE, 0xE000, NULL, 0);
    n += put_el(buf + n, 0xFFFE, 0xE000, NULL, 0x7FFFFFFF);
    CHECK_INT(parse(buf, n, &err), MS_EMALFORMED);

    /* undefined length on a short VR */
    n = part10_head(buf);
    n += put_el(buf + n, 0x0010, 0x0010, "UT", 0xFFFFFFFFu);
    n += put_el(buf + n, 0xFFFE, 0xE0DD, NULL, 0);
    CHECK_INT(parse(buf, n, &err), MS_EMALFORMED);

    /* deflated syntax with garbage */
    n = 132;
    memset(buf, 0, 128);
    memcpy(buf + 128, "DICM", 4);
    n += put_el(buf + n, 0x0002, 0x0010, "UI", 22);
    memcpy(buf + n, "1.2.840.10008.1.2.1.99", 22);
    n += 22;
    memset(buf + n, 0xFF, 64);
    CHECK_INT(parse(buf, n + 64, &err), MS_EMALFORMED);

    /* a missing file */
    {
        struct ms_file *f = NULL;
        CHECK_INT(ms_file_read(&f, "/nonexistent/x.dcm", NULL, &err), MS_EIO);
        CHECK(f == NULL);
    }

    /* well-formed minimal file parses; odd length tolerated */
    n = part10_head(buf);
    n += put_el(buf + n, 0x0010, 0x0010, "PN", 3);
    memcpy(buf + n, "Doe", 3);
    CHECK_INT(parse(buf, n + 3, &err), MS_OK);
}

/* Encapsulated pixel data with a Basic Offset Table of two frames. */
static size_t encap_file(uint8_t *buf, uint32_t second_offset, bool with_bot, int nfrags)
{
    size_t n = part10_head(buf);
    n += put_el(buf + n, 0x7FE0, 0x0010, "OB", 0xFFFFFFFFu);
    n += put_el(buf + n, 0xFFFE, 0xE000, NULL, with_bot ? 8 : 0);
    if (with_bot) {
        memset(buf + n, 0, 8);
        memcpy(buf + n + 4, &second_offset, 4);
        n += 8;
    }
    for (int i = 0; i < nfrags; i++) {
        n += put_el(buf + n, 0xFFFE, 0xE000, NULL, 4);
        memcpy(buf + n, "\xFF\xD8\xFF\xD9", 4);
        n += 4;
    }
    n += put_el(buf + n, 0xFFFE, 0xE0DD, NULL, 0);
    return n;
}

static ms_status frames_of(const uint8_t *buf, size_t n, uint32_t nframes,
                           struct ms_encap_frame *fr)
{
    struct ms_file *f = NULL;
    struct ms_error err = {0};
    ms_status st = ms_file_read_memory(&f, buf, n, NULL, &err);
    if (st == MS_OK)
        st = ms_encap_frames(ms_file_dataset(f), fr, nframes, &err);
    ms_file_destroy(f);
    return st;
}

static void test_encapsulated(void)
{
    static uint8_t buf[4096];
    struct ms_encap_frame fr[3];
    size_t n;

    n = encap_file(buf, 24, true, 3); /* frame 2 starts at fragment 3 */
    CHECK_INT(frames_of(buf, n, 2, fr), MS_OK);
    CHECK_INT(fr[0].first_fragment, 1);
    CHECK_INT(fr[0].fragment_count, 2);
    CHECK_INT(fr[1].first_fragment, 3);
    CHECK_INT(fr[1].fragment_count, 1);
    n = encap_file(buf, 0, false, 2); /* no BOT: one fragment per frame */
    CHECK_INT(frames_of(buf, n, 2, fr), MS_OK);
    CHECK_INT(fr[1].first_fragment, 2);
    CHECK_INT(frames_of(buf, n, 1, fr), MS_OK);
    CHECK_INT(fr[0].fragment_count, 2);
    /* negatives */
    n = encap_file(buf, 5, true, 3); /* offset inside a fragment */
    CHECK_INT(frames_of(buf, n, 2, fr), MS_EMALFORMED);
    n = encap_file(buf, 0, true, 3); /* offsets not increasing */
    CHECK_INT(frames_of(buf, n, 2, fr), MS_EMALFORMED);
    n = encap_file(buf, 12, true, 3); /* BOT size does not match 3 frames */
    CHECK_INT(frames_of(buf, n, 3, fr), MS_EMALFORMED);
    n = encap_file(buf, 0, false, 3); /* 3 fragments, 2 frames, no table */
    CHECK_INT(frames_of(buf, n, 2, fr), MS_EUNSUPPORTED);
    CHECK_INT(frames_of(buf, n, 4, fr), MS_EMALFORMED);
}

static void test_dictionary(void)
{
    const struct ms_dict_entry *d = ms_dict_find(MS_TAG(0x0010, 0x0010));
    uint32_t tag;
    CHECK(d && strcmp(d->keyword, "PatientName") == 0 && d->vr == MS_VR_PN);
    d = ms_dict_find(MS_TAG(0x6002, 0x3000)); /* repeating group 60xx */
    CHECK(d && strcmp(d->keyword, "OverlayData") == 0);
    CHECK(ms_dict_find(MS_TAG(0x0009, 0x1001)) == NULL);
    CHECK(ms_dict_find_keyword("SOPInstanceUID") != NULL);
    CHECK(ms_dict_find_keyword("NoSuchKeyword") == NULL);
    CHECK(ms_tag_parse("PatientID", &tag) && tag == MS_TAG(0x0010, 0x0020));
    CHECK(ms_tag_parse("(7FE0,0010)", &tag) && tag == MS_TAG_PIXEL_DATA);
    CHECK(ms_tag_parse("0020,000d", &tag) && tag == MS_TAG(0x0020, 0x000D));
    CHECK(!ms_tag_parse("(7FE0,001G)", &tag));
    CHECK(!ms_tag_parse("", &tag));
    CHECK(ms_ts_find("1.2.840.10008.1.2.1\0") == ms_ts_explicit_le());
    CHECK(ms_ts_find("1.2.840.10008.1.2.1 ") == ms_ts_explicit_le());
    CHECK(ms_ts_find("1.2.840.10008.1.2.1.9") == NULL);
    CHECK_STR(ms_uid_name("1.2.840.10008.5.1.4.1.1.2"), "CT Image Storage");
    CHECK(ms_vr_from_chars('Z', 'Z') == MS_VR_NONE);
}

int main(void)
{
    test_read_ct();
    test_roundtrip_identical();
    test_edit_minimal();
    test_syntaxes();
    test_build_from_scratch();
    test_malformed();
    test_dictionary();
    test_encapsulated();
    return check_done();
}
