/* Fuzz target: the Part 10 reader, then everything that consumes its tree.
 *
 * Each input is parsed with the default options and once more with options
 * chosen from its first byte (stop before pixels, require DICM, small
 * nesting and value limits). A parsed file is walked (typed getters, UTF-8
 * decoding, every value and fragment byte touched), listed (short or very
 * long values), written in each
 * native transfer syntax and deflated, and every output is parsed again:
 * what the writer produces from a parsed tree must be readable. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "medseal/dicom.h"

#define MAX_REPARSE ((size_t)8 << 20)

struct visit {
    uint8_t sum;
    size_t elements;
};

static void touch(struct visit *v, const uint8_t *p, uint64_t len)
{
    const volatile uint8_t *q = p;
    for (uint64_t i = 0; i < len; i++)
        v->sum ^= q[i];
}

static bool single_valued(ms_vr vr)
{
    return vr == MS_VR_LT || vr == MS_VR_ST || vr == MS_VR_UT || vr == MS_VR_UR;
}

static void strings(struct visit *v, struct ms_element *el)
{
    char small[2], buf[256];
    size_t vm = ms_element_vm(el);

    for (size_t i = 0; i < vm && i < 8; i++) {
        if (ms_element_get_string(el, i, buf, sizeof buf))
            FUZZ_ASSERT(strlen(buf) < sizeof buf);
        if (ms_element_get_string(el, i, small, sizeof small))
            FUZZ_ASSERT(strlen(small) < sizeof small);
    }
    if (vm > 0 && ms_vr_is_string(ms_element_vr(el)) && !single_valued(ms_element_vr(el)))
        FUZZ_ASSERT(!ms_element_get_string(el, vm, buf, sizeof buf));
    (void)ms_element_get_string(el, 0, buf, 0);
}

static void numbers(struct ms_element *el)
{
    size_t vm = ms_element_vm(el);
    for (size_t i = 0; i < vm + 1 && i < 9; i++) {
        double d;
        int64_t n;
        (void)ms_element_get_double(el, i, &d);
        (void)ms_element_get_int(el, i, &n);
    }
    {
        double d;
        int64_t n;
        (void)ms_element_get_double(el, (size_t)-1, &d);
        (void)ms_element_get_int(el, (size_t)-1, &n);
    }
}

/* Decoded length is the same whatever the buffer; the text fits. */
static void utf8(struct ms_element *el)
{
    char tiny[1], mid[16];
    size_t n = ms_element_to_utf8(el, tiny, sizeof tiny);
    size_t m = ms_element_to_utf8(el, mid, sizeof mid);
    char *full;

    FUZZ_ASSERT(tiny[0] == '\0');
    FUZZ_ASSERT(n == m && strlen(mid) < sizeof mid);
    FUZZ_ASSERT(ms_element_to_utf8(el, NULL, 0) == n);
    full = malloc(n + 1);
    if (!full)
        return;
    FUZZ_ASSERT(ms_element_to_utf8(el, full, n + 1) == n);
    FUZZ_ASSERT(strlen(full) <= n);
    free(full);
}

static int visit(void *ctx, struct ms_element *el, unsigned depth)
{
    struct visit *v = ctx;
    const uint8_t *value = ms_element_value(el);
    uint64_t len = ms_element_length(el);
    struct ms_dataset *ds = ms_element_dataset(el);

    (void)depth;
    v->elements++;
    FUZZ_ASSERT(ds != NULL && ms_dataset_get(ds, ms_element_tag(el)) != NULL);
    (void)ms_dataset_charset(ds);
    (void)ms_vr_name(ms_element_vr(el));
    (void)ms_element_offset(el);
    (void)ms_element_undefined_length(el);
    if (value)
        touch(v, value, len);
    if (ms_element_is_encapsulated(el)) {
        size_t nf = ms_element_fragment_count(el);
        for (size_t i = 0; i < nf; i++) {
            const uint8_t *p;
            uint64_t flen;
            FUZZ_ASSERT(ms_element_fragment(el, i, &p, &flen));
            touch(v, p, flen);
        }
        FUZZ_ASSERT(!ms_element_fragment(el, nf, &value, &len));
    }
    for (size_t i = 0; i < ms_element_item_count(el); i++) {
        struct ms_dataset *item = ms_element_item(el, i);
        FUZZ_ASSERT(item != NULL && ms_dataset_parent(item) == ds);
        (void)ms_dataset_undefined_length(item);
        (void)ms_dataset_offset(item);
    }
    strings(v, el);
    numbers(el);
    utf8(el);
    return 0;
}

static void walk(struct ms_file *f, unsigned max_chars)
{
    struct visit v = {0};
    static FILE *devnull;
    struct ms_dump_options dopt = {max_chars, true};
    struct ms_error err;

    (void)ms_dataset_walk(ms_file_meta(f), visit, &v);
    (void)ms_dataset_walk(ms_file_dataset(f), visit, &v);
    (void)ms_file_preamble(f);
    (void)ms_file_input_size(f);
    (void)ms_file_dataset_offset(f);
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    if (devnull)
        (void)ms_file_dump(f, devnull, &dopt, &err);
}

/* Write in ts to memory and parse the output again. */
static void write_and_reparse(struct ms_file *f, const struct ms_transfer_syntax *ts)
{
    struct fuzz_buf out = {0};
    struct ms_error err;
    struct ms_file *again = NULL;
    ms_status st;

    fuzz_buf_reset(&out, MAX_REPARSE);
    ms_file_set_transfer_syntax(f, ts);
    st = ms_file_write_sink(f, fuzz_buf_sink, &out, NULL, &err);
    if (st == MS_OK && !out.overflow) {
        st = ms_file_read_memory(&again, out.data, out.len, NULL, &err);
        if (st != MS_OK)
            fprintf(stderr, "re-parse of %s output failed: %s\n", ts->name, err.msg);
        FUZZ_ASSERT(st == MS_OK);
        FUZZ_ASSERT(ms_file_transfer_syntax(again)->deflated == ts->deflated);
        ms_file_destroy(again);
    } else if (st != MS_OK) {
        /* encapsulated data to a native syntax, over-long values, ... */
        FUZZ_ASSERT(st == MS_EUNSUPPORTED || st == MS_ELIMIT);
    }
    fuzz_buf_reset(&out, 0);
}

static void write_all(struct ms_file *f)
{
    const struct ms_transfer_syntax *orig = ms_file_transfer_syntax(f);
    const struct ms_transfer_syntax *ts[] = {ms_ts_implicit_le(), ms_ts_explicit_le(),
                                             ms_ts_explicit_be(), ms_ts_deflated()};
    uint8_t x = 0;
    struct ms_error err;
    struct ms_write_options raw = {true, false};

    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        write_and_reparse(f, ts[i]);
    ms_file_set_transfer_syntax(f, orig);
    if (ms_file_write_sink(f, fuzz_null_sink, &x, &raw, &err) != MS_OK)
        x = 0;
}

static void parse(const uint8_t *data, size_t size, const struct ms_read_options *opt, bool full,
                  unsigned max_chars)
{
    struct ms_file *f = NULL;
    struct ms_error err;
    ms_status st;

    memset(&err, 0, sizeof err);
    st = ms_file_read_memory(&f, data, size, opt, &err);
    if (st != MS_OK) {
        FUZZ_ASSERT(f == NULL);
        FUZZ_ASSERT(st == MS_EMALFORMED || st == MS_ELIMIT || st == MS_EUNSUPPORTED ||
                    st == MS_ENOMEM);
        FUZZ_ASSERT(err.code == st && strlen(err.msg) < sizeof err.msg && err.msg[0]);
        return;
    }
    walk(f, max_chars);
    if (full)
        write_all(f);
    ms_file_destroy(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned depths[4] = {1, 2, 3, 8};
    size_t warned = 0;
    struct ms_read_options opt = {0};
    uint8_t mode = size ? data[0] : 0;

    opt.warn = fuzz_warn;
    opt.warn_ctx = &warned;
    parse(data, size, &opt, true, 16);

    opt.stop_before_pixels = mode & 1;
    opt.max_depth = depths[(mode >> 1) & 3];
    opt.require_dicm = mode & 8;
    opt.max_value = (mode & 16) ? 64 : 0;
    parse(data, size, &opt, (mode & 32) != 0, (mode & 64) ? 100000 : 1);
    return 0;
}
