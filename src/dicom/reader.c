/* Part 10 reader (PS3.10 7, PS3.5 7): preamble, File Meta Information,
 * transfer syntax detection, elements, sequences, encapsulated pixel data.
 *
 * Every length read from the input is checked against the bytes left before
 * it is used; nothing is allocated from a declared length except values that
 * must be copied (big-endian swaps, inflated data) and those are bounded by
 * the bytes actually present. Nesting is limited. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"

#define DEFAULT_MAX_DEPTH 64u
#define DEFAULT_MAX_VALUE ((uint64_t)4 << 30)
#define MAX_INFLATED ((uint64_t)2 << 30)

struct reader {
    const uint8_t *buf; /* bytes being parsed (file mapping or inflated copy) */
    uint64_t size;
    uint64_t pos;
    uint64_t origin;    /* offset of buf[0] in the input, for messages */
    bool inflated;      /* buf is the inflated body of a deflated file */
    bool explicit_vr;
    bool big_endian;
    unsigned depth, max_depth;
    uint64_t max_value;
    bool stop_before_pixels;
    bool stopped;
    const struct ms_read_options *opt;
    struct ms_error *err;
    struct msi_arena *arena;
};

struct header {
    uint32_t tag;
    ms_vr vr;
    uint64_t length;
    uint64_t offset;
    bool vr_from_un;
};

static uint64_t at(const struct reader *r, uint64_t pos)
{
    return r->origin + pos;
}

static ms_status fail(struct reader *r, ms_status code, uint64_t pos, const char *fmt, ...)
    MS_PRINTF(4, 5);

static ms_status fail(struct reader *r, ms_status code, uint64_t pos, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ms_error_set(r->err, code, "offset %llu%s: %s", (unsigned long long)at(r, pos),
                        r->inflated ? " (inflated)" : "", msg);
}

static void warn(struct reader *r, uint64_t pos, const char *fmt, ...) MS_PRINTF(3, 4);

static void warn(struct reader *r, uint64_t pos, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    if (!r->opt || !r->opt->warn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->opt->warn(r->opt->warn_ctx, at(r, pos), msg);
}

static uint16_t rd16(const struct reader *r, uint64_t pos)
{
    return r->big_endian ? msi_rd16be(r->buf + pos) : msi_rd16le(r->buf + pos);
}

static uint32_t rd32(const struct reader *r, uint64_t pos)
{
    return r->big_endian ? msi_rd32be(r->buf + pos) : msi_rd32le(r->buf + pos);
}

static uint32_t rdtag(const struct reader *r, uint64_t pos)
{
    return MS_TAG(rd16(r, pos), rd16(r, pos + 2));
}

#define TAG_ARGS(t) MS_TAG_GROUP(t), MS_TAG_ELEMENT(t)

/* ---- VR of implicit elements ---------------------------------------------------- */

/* Pixel Representation in effect for ds (searching the enclosing datasets). */
static int64_t pixel_representation(const struct ms_dataset *ds)
{
    for (; ds; ds = ds->parent) {
        int64_t v;
        if (ms_dataset_get_int(ds, MS_TAG(0x0028, 0x0103), 0, &v))
            return v;
    }
    return 0;
}

/* Resolve "US or SS", "OB or OW" and friends as pydicom does. */
static ms_vr resolve_ambiguous(const struct ms_dict_entry *d, uint32_t tag,
                               const struct ms_dataset *ds, bool implicit, uint64_t length)
{
    bool us_ss = (d->vr == MS_VR_US && d->vr2 == MS_VR_SS);
    if (us_ss)
        return pixel_representation(ds) ? MS_VR_SS : MS_VR_US;
    if (d->vr == MS_VR_OB && d->vr2 == MS_VR_OW) {
        if (tag == MS_TAG_PIXEL_DATA && length == MS_UNDEFINED_LENGTH)
            return MS_VR_OB;
        return MS_VR_OW;
    }
    if (d->vr == MS_VR_US && d->vr2 == MS_VR_OW)
        return implicit ? MS_VR_OW : MS_VR_US;
    return d->vr;
}

/* VR of a private element from its creator and the private dictionary. */
static ms_vr private_vr(uint32_t tag, const struct ms_dataset *ds)
{
    char creator[72];
    ms_vr vr;
    uint16_t block = MS_TAG_ELEMENT(tag) >> 8;
    if (block < 0x10 || !ms_dataset_get_string(ds, MS_TAG(MS_TAG_GROUP(tag), block), 0, creator,
                                               sizeof creator))
        return MS_VR_UN;
    vr = ms_dict_private_vr(creator, tag);
    return vr == MS_VR_NONE ? MS_VR_UN : vr;
}

/* VR of an element whose encoding does not say it. */
static ms_vr implicit_vr(uint32_t tag, const struct ms_dataset *ds, uint64_t length)
{
    const struct ms_dict_entry *d = ms_dict_find(tag);
    if (!d && (MS_TAG_GROUP(tag) & 1))
        return private_vr(tag, ds);
    if (!d || d->vr == MS_VR_NONE)
        return MS_VR_UN;
    if (d->vr2 != MS_VR_NONE)
        return resolve_ambiguous(d, tag, ds, true, length);
    return d->vr;
}

static bool is_vr_letters(const uint8_t *p)
{
    return p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z';
}

/* ---- element header --------------------------------------------------------------- */

static ms_status read_header(struct reader *r, const struct ms_dataset *ds, uint64_t end,
                             struct header *h)
{
    uint64_t p = r->pos;

    memset(h, 0, sizeof *h);
    h->offset = p;
    if (end - p < 8)
        return fail(r, MS_EMALFORMED, p, "truncated element header (%llu bytes left)",
                    (unsigned long long)(end - p));
    h->tag = rdtag(r, p);
    if (MS_TAG_GROUP(h->tag) == 0xFFFE) { /* items and delimiters: no VR */
        h->vr = MS_VR_NONE;
        h->length = rd32(r, p + 4);
        r->pos = p + 8;
        return MS_OK;
    }
    if (r->explicit_vr && is_vr_letters(r->buf + p + 4)) {
        ms_vr vr = ms_vr_from_chars((char)r->buf[p + 4], (char)r->buf[p + 5]);
        if (vr == MS_VR_NONE) {
            warn(r, p, "(%04X,%04X): unknown VR \"%c%c\", read as UN", TAG_ARGS(h->tag),
                 r->buf[p + 4], r->buf[p + 5]);
            vr = MS_VR_UN;
            h->length = rd16(r, p + 6);
            r->pos = p + 8;
            h->vr = vr;
            return MS_OK;
        }
        h->vr = vr;
        if (ms_vr_has_long_length(vr)) {
            if (end - p < 12)
                return fail(r, MS_EMALFORMED, p, "truncated element header (%llu bytes left)",
                            (unsigned long long)(end - p));
            h->length = rd32(r, p + 8);
            r->pos = p + 12;
        } else {
            h->length = rd16(r, p + 6);
            r->pos = p + 8;
        }
        return MS_OK;
    }
    if (r->explicit_vr)
        warn(r, p, "(%04X,%04X): no VR in an explicit VR dataset, read as implicit",
             TAG_ARGS(h->tag));
    h->length = rd32(r, p + 4);
    h->vr = implicit_vr(h->tag, ds, h->length);
    r->pos = p + 8;
    return MS_OK;
}

/* ---- values ----------------------------------------------------------------------- */

/* Copy a big-endian value into the arena in little-endian order. */
static const uint8_t *swap_value(struct reader *r, const uint8_t *src, uint64_t len, ms_vr vr)
{
    unsigned size = ms_vr_binary_size(vr);
    uint8_t *dst;

    if (size <= 1 || vr == MS_VR_UN)
        return src;
    dst = msi_arena_alloc(r->arena, (size_t)len);
    if (!dst)
        return NULL;
    if (vr == MS_VR_AT)
        size = 2; /* a tag is two 16-bit numbers */
    for (uint64_t i = 0; i + size <= len; i += size)
        for (unsigned k = 0; k < size; k++)
            dst[i + k] = src[i + size - 1 - k];
    for (uint64_t i = len - len % size; i < len; i++)
        dst[i] = src[i];
    return dst;
}

static ms_status parse_dataset(struct reader *r, struct ms_dataset *ds, uint64_t end, bool undef);

static ms_status enter(struct reader *r, uint64_t pos)
{
    if (r->depth >= r->max_depth)
        return fail(r, MS_ELIMIT, pos, "sequences nested deeper than %u levels", r->max_depth);
    r->depth++;
    return MS_OK;
}

/* The delimiter that ends a sequence: warnings when it should not be there. */
static void sequence_delimiter(struct reader *r, const struct header *h, bool undef)
{
    if (!undef)
        warn(r, h->offset, "sequence delimiter in a defined-length sequence");
    if (h->length != 0)
        warn(r, h->offset, "sequence delimiter with length %llu", (unsigned long long)h->length);
}

/* Where an item of defined length ends. One longer than the data left
 * (limit) or than its sequence (*end) is read on, with a warning, as DCMTK
 * and pydicom do; *end moves with it. */
static uint64_t defined_item_end(struct reader *r, const struct ms_element *el,
                                 const struct header *h, uint64_t limit, uint64_t *end)
{
    if (h->length > limit - r->pos) {
        warn(r, h->offset, "item of %llu bytes cut to the %llu bytes left",
             (unsigned long long)h->length, (unsigned long long)(limit - r->pos));
        *end = limit;
        return limit;
    }
    if (h->length > *end - r->pos) {
        warn(r, h->offset, "item of %llu bytes goes beyond its sequence (%04X,%04X)",
             (unsigned long long)h->length, TAG_ARGS(el->tag));
        *end = r->pos + h->length;
        return *end;
    }
    return r->pos + h->length;
}

/* Items of a sequence: until end (defined length) or the delimiter. */
static ms_status parse_items(struct reader *r, struct ms_element *el, uint64_t end, uint64_t limit,
                             bool undef)
{
    ms_status st = enter(r, r->pos);
    if (st != MS_OK)
        return st;
    while (r->pos < end) {
        struct header h;
        struct ms_dataset *item;
        uint64_t item_end;

        if ((st = read_header(r, el->parent, end, &h)) != MS_OK)
            break;
        if (h.tag == MS_TAG_SEQ_DELIM) {
            sequence_delimiter(r, &h, undef);
            undef = false;
            break;
        }
        if (h.tag != MS_TAG_ITEM) {
            st = fail(r, MS_EMALFORMED, h.offset,
                      "(%04X,%04X) in sequence (%04X,%04X) where an item was expected",
                      TAG_ARGS(h.tag), TAG_ARGS(el->tag));
            break;
        }
        item = msi_element_append_item(el);
        if (!item) {
            st = ms_error_set(r->err, MS_ENOMEM, "out of memory");
            break;
        }
        item->offset = at(r, h.offset);
        item->length = h.length;
        item->undef = h.length == MS_UNDEFINED_LENGTH;
        item_end = item->undef ? end : defined_item_end(r, el, &h, limit, &end);
        if ((st = parse_dataset(r, item, item_end, item->undef)) != MS_OK)
            break;
        if (!item->undef && r->pos != item_end)
            r->pos = item_end;
    }
    if (st == MS_OK && undef)
        st = fail(r, MS_EMALFORMED, r->pos, "sequence (%04X,%04X) has no delimiter",
                  TAG_ARGS(el->tag));
    r->depth--;
    return st;
}

/* Sequence value, possibly in Implicit VR LE (UN of undefined length, PS3.5 6.2.2). */
static ms_status parse_sequence(struct reader *r, struct ms_element *el, const struct header *h,
                                uint64_t end, bool force_implicit_le)
{
    bool was_explicit = r->explicit_vr, was_be = r->big_endian;
    uint64_t seq_end = end;
    ms_status st;

    if (h->length != MS_UNDEFINED_LENGTH)
        seq_end = r->pos + h->length;
    if (force_implicit_le) {
        r->explicit_vr = false;
        r->big_endian = false;
    }
    st = parse_items(r, el, seq_end, end, h->length == MS_UNDEFINED_LENGTH);
    r->explicit_vr = was_explicit;
    r->big_endian = was_be;
    if (st == MS_OK && h->length != MS_UNDEFINED_LENGTH && r->pos < seq_end)
        r->pos = seq_end;
    return st;
}

/* Encapsulated pixel data (PS3.5 A.4): items of defined length up to the delimiter. */
static ms_status parse_fragments(struct reader *r, struct ms_element *el, uint64_t end)
{
    el->flags |= MSI_EL_ENCAP;
    for (;;) {
        uint64_t p = r->pos;
        uint32_t tag, len;
        if (end - p < 8)
            return fail(r, MS_EMALFORMED, p, "encapsulated (%04X,%04X) has no sequence delimiter",
                        TAG_ARGS(el->tag));
        tag = rdtag(r, p);
        len = rd32(r, p + 4);
        r->pos = p + 8;
        if (tag == MS_TAG_SEQ_DELIM) {
            if (len)
                warn(r, p, "sequence delimiter with length %u", len);
            return MS_OK;
        }
        if (tag != MS_TAG_ITEM)
            return fail(r, MS_EMALFORMED, p, "(%04X,%04X) among pixel data fragments",
                        TAG_ARGS(tag));
        if (len == MS_UNDEFINED_LENGTH)
            return fail(r, MS_EMALFORMED, p, "pixel data fragment of undefined length");
        if (len > end - r->pos)
            return fail(r, MS_EMALFORMED, p, "fragment of %u bytes exceeds the %llu bytes left",
                        len, (unsigned long long)(end - r->pos));
        if (!msi_element_append_fragment(el, r->buf + r->pos, len, at(r, p)))
            return ms_error_set(r->err, MS_ENOMEM, "out of memory");
        r->pos += len;
    }
}

static ms_status parse_undefined(struct reader *r, struct ms_element *el, struct header *h,
                                 uint64_t end)
{
    el->flags |= MSI_EL_UNDEF;
    if (h->vr == MS_VR_SQ)
        return parse_sequence(r, el, h, end, false);
    if (h->vr == MS_VR_UN) {
        /* UN of undefined length is a sequence in Implicit VR LE (PS3.5 6.2.2) */
        const struct ms_dict_entry *d = ms_dict_find(h->tag);
        if (h->tag != MS_TAG_PIXEL_DATA && (!d || d->vr == MS_VR_SQ || d->vr == MS_VR_UN ||
                                            d->vr == MS_VR_NONE)) {
            el->vr = MS_VR_SQ;
            el->flags |= MSI_EL_IMPLICIT_SQ | MSI_EL_FROM_UN;
            return parse_sequence(r, el, h, end, true);
        }
    }
    if (h->vr == MS_VR_OB || h->vr == MS_VR_OW || h->vr == MS_VR_UN) {
        if (h->vr == MS_VR_UN)
            el->vr = MS_VR_OB;
        return parse_fragments(r, el, end);
    }
    return fail(r, MS_EMALFORMED, h->offset, "(%04X,%04X) %s with undefined length",
                TAG_ARGS(h->tag), ms_vr_name(h->vr));
}

/* Explicit UN of a public attribute: use the dictionary's VR (pydicom does). */
static void replace_un(struct reader *r, struct ms_element *el, struct header *h)
{
    const struct ms_dict_entry *d = ms_dict_find(h->tag);
    if (!d && (MS_TAG_GROUP(h->tag) & 1)) {
        ms_vr vr = private_vr(h->tag, el->parent);
        if (vr != MS_VR_UN && vr != MS_VR_NONE) {
            h->vr = vr;
            el->vr = (uint8_t)vr;
            el->flags |= MSI_EL_FROM_UN;
            h->vr_from_un = true;
        }
        return;
    }
    if (!d || d->vr == MS_VR_NONE || d->vr == MS_VR_UN ||
        ((MS_TAG_GROUP(h->tag) & 1) && strcmp(d->keyword, "PrivateCreator") != 0))
        return;
    h->vr = d->vr2 != MS_VR_NONE ? resolve_ambiguous(d, h->tag, el->parent, true, h->length)
                                 : d->vr;
    el->vr = (uint8_t)h->vr;
    el->flags |= MSI_EL_FROM_UN;
    h->vr_from_un = true;
}

static ms_status parse_value(struct reader *r, struct ms_element *el, struct header *h,
                             uint64_t end)
{
    if (h->vr == MS_VR_UN && r->explicit_vr && h->length != MS_UNDEFINED_LENGTH)
        replace_un(r, el, h);
    if (h->length == MS_UNDEFINED_LENGTH)
        return parse_undefined(r, el, h, end);
    if (h->length > end - r->pos)
        return fail(r, MS_EMALFORMED, h->offset,
                    "(%04X,%04X) length %llu exceeds the %llu bytes left", TAG_ARGS(h->tag),
                    (unsigned long long)h->length, (unsigned long long)(end - r->pos));
    if (h->length > r->max_value)
        return fail(r, MS_ELIMIT, h->offset, "(%04X,%04X) value of %llu bytes is over the limit",
                    TAG_ARGS(h->tag), (unsigned long long)h->length);
    if (h->length & 1)
        warn(r, h->offset, "(%04X,%04X) has odd length %llu", TAG_ARGS(h->tag),
             (unsigned long long)h->length);
    el->length = h->length;
    if (h->vr == MS_VR_SQ)
        return parse_sequence(r, el, h, end, h->vr_from_un);
    el->value = r->buf + r->pos;
    if (r->big_endian) {
        el->value = swap_value(r, el->value, h->length, h->vr);
        if (!el->value)
            return ms_error_set(r->err, MS_ENOMEM, "out of memory");
    }
    r->pos += h->length;
    return MS_OK;
}

/* ---- datasets ----------------------------------------------------------------------- */

static ms_status parse_element(struct reader *r, struct ms_dataset *ds, uint64_t end,
                               const struct header *hin)
{
    struct header h = *hin;
    struct ms_element *el;
    ms_status st;

    el = msi_dataset_append(ds, h.tag, h.vr);
    if (!el)
        return ms_error_set(r->err, MS_ENOMEM, "out of memory");
    el->offset = at(r, h.offset);
    el->length = h.length;
    st = parse_value(r, el, &h, end);
    if (st == MS_OK && h.tag == MS_TAG_SPECIFIC_CHARSET)
        msi_dataset_update_charset(ds);
    return st;
}

/* What a header read in a dataset means for the dataset. */
enum next { NEXT_ELEMENT, NEXT_SKIP, NEXT_END };

/* Delimiters, stray item tags and the stop before Pixel Data; every other
 * header is an element (NEXT_ELEMENT). top: the file's dataset; undef: an
 * item of undefined length. */
static ms_status classify(struct reader *r, const struct header *h, bool top, bool undef,
                          enum next *next)
{
    *next = NEXT_END;
    if (h->tag == MS_TAG_ITEM_DELIM) {
        if (top) /* would end the dataset: the rest would go unread */
            return fail(r, MS_EMALFORMED, h->offset, "(FFFE,E00D) outside a sequence");
        if (!undef)
            warn(r, h->offset, "item delimiter in a defined-length item");
        return MS_OK;
    }
    if (h->tag == MS_TAG_SEQ_DELIM) {
        if (undef) { /* item without its delimiter: let the sequence end */
            warn(r, h->offset, "item ended by a sequence delimiter");
            r->pos = h->offset;
            return MS_OK;
        }
        warn(r, h->offset, "stray sequence delimiter ignored");
        *next = NEXT_SKIP;
        return MS_OK;
    }
    if (MS_TAG_GROUP(h->tag) == 0xFFFE)
        return fail(r, MS_EMALFORMED, h->offset, "(%04X,%04X) outside a sequence",
                    TAG_ARGS(h->tag));
    if (top && r->stop_before_pixels && h->tag >= MS_TAG_PIXEL_DATA) {
        r->pos = h->offset;
        r->stopped = true;
        return MS_OK;
    }
    *next = NEXT_ELEMENT;
    return MS_OK;
}

static ms_status parse_dataset(struct reader *r, struct ms_dataset *ds, uint64_t end, bool undef)
{
    uint32_t last = 0;
    bool top = ds->parent == NULL && r->depth == 0;

    while (r->pos < end) {
        struct header h;
        enum next next;
        ms_status st;

        if (top && end - r->pos < 8) {
            warn(r, r->pos, "%llu trailing bytes ignored", (unsigned long long)(end - r->pos));
            r->pos = end;
            break;
        }
        if ((st = read_header(r, ds, end, &h)) != MS_OK ||
            (st = classify(r, &h, top, undef, &next)) != MS_OK)
            return st;
        if (next == NEXT_END)
            return MS_OK;
        if (next == NEXT_SKIP)
            continue;
        if (ds->n && h.tag <= last)
            warn(r, h.offset, "(%04X,%04X) out of order after (%04X,%04X)", TAG_ARGS(h.tag),
                 TAG_ARGS(last));
        last = h.tag;
        if ((st = parse_element(r, ds, end, &h)) != MS_OK)
            return st;
    }
    if (undef && !top)
        return fail(r, MS_EMALFORMED, r->pos, "item has no delimiter before the end of data");
    return MS_OK;
}

/* ---- File Meta Information and transfer syntax --------------------------------------- */

/* Guess encoding from the first element at pos as pydicom and DCMTK do. */
static void guess_encoding(const struct reader *r, uint64_t pos, bool *explicit_vr,
                           bool *big_endian)
{
    const uint8_t *p = r->buf + pos;
    if (r->size - pos < 8)
        return;
    *big_endian = (p[0] == 0 && p[1] != 0);
    *explicit_vr = is_vr_letters(p + 4) && ms_vr_from_chars((char)p[4], (char)p[5]) != MS_VR_NONE;
}

static ms_status parse_meta(struct reader *r, struct ms_file *f)
{
    uint64_t start = r->pos, declared_end = 0;
    bool have_length = false;

    r->explicit_vr = true;
    r->big_endian = false;
    if (r->size - r->pos >= 8 && !is_vr_letters(r->buf + r->pos + 4))
        r->explicit_vr = false; /* meta in implicit VR: seen in the wild */
    while (r->size - r->pos >= 8 && msi_rd16le(r->buf + r->pos) == 0x0002) {
        struct header h;
        ms_status st;
        if ((st = read_header(r, f->meta, r->size, &h)) != MS_OK)
            return st;
        if ((st = parse_element(r, f->meta, r->size, &h)) != MS_OK) {
            ms_error_prefix(r->err, "in File Meta Information");
            return st;
        }
        if (h.tag == MS_TAG(0x0002, 0x0000) && h.length == 4 && f->meta->n == 1) {
            declared_end = r->pos + msi_rd32le(f->meta->els[0]->value);
            have_length = true;
        }
    }
    if (have_length && declared_end != r->pos)
        warn(r, start, "File Meta Information Group Length disagrees with the elements");
    if (!r->explicit_vr && f->meta->n)
        warn(r, start, "File Meta Information is not in Explicit VR Little Endian");
    return MS_OK;
}

/* The transfer syntax the meta names; NULL (with a warning) when it names
 * none or an unknown one. */
static const struct ms_transfer_syntax *declared_syntax(struct reader *r, const struct ms_file *f)
{
    char uid[80];
    const struct ms_transfer_syntax *ts;

    if (!ms_dataset_get_string(f->meta, MS_TAG_TRANSFER_SYNTAX, 0, uid, sizeof uid)) {
        if (f->meta->n)
            warn(r, r->pos, "File Meta Information has no Transfer Syntax UID");
        return NULL;
    }
    ts = ms_ts_find(uid);
    if (!ts)
        warn(r, r->pos, "unknown transfer syntax %s, encoding guessed from the data", uid);
    return ts;
}

/* The encoding of the dataset at r->pos: what ts says (explicit VR little
 * endian without one), corrected by the data where it disagrees; a known
 * syntax decides the byte order, as in pydicom and DCMTK. */
static void data_encoding(struct reader *r, const struct ms_transfer_syntax *ts, bool *ex,
                          bool *be)
{
    bool gex, gbe;

    *ex = ts ? ts->explicit_vr : true;
    *be = ts ? ts->big_endian : false;
    if (r->size - r->pos < 8)
        return;
    gex = *ex;
    gbe = *be;
    guess_encoding(r, r->pos, &gex, &gbe);
    if (ts)
        gbe = *be;
    if (ts && (gex != *ex || gbe != *be))
        warn(r, r->pos, "transfer syntax says %s VR %s endian, the data is %s VR %s endian",
             *ex ? "explicit" : "implicit", *be ? "big" : "little",
             gex ? "explicit" : "implicit", gbe ? "big" : "little");
    *ex = gex;
    *be = gbe;
}

static ms_status choose_syntax(struct reader *r, struct ms_file *f)
{
    const struct ms_transfer_syntax *ts = declared_syntax(r, f);
    bool ex, be;

    if (ts && ts->deflated) {
        f->ts = ts;
        return MS_OK;
    }
    data_encoding(r, ts, &ex, &be);
    if (!ts || ts->explicit_vr != ex || ts->big_endian != be)
        ts = be ? ms_ts_explicit_be() : ex ? ms_ts_explicit_le() : ms_ts_implicit_le();
    f->ts = ts;
    r->explicit_vr = ex;
    r->big_endian = be;
    return MS_OK;
}

/* The inflater of a deflated body and its output buffer. */
struct inflater {
    z_stream zs;
    uint8_t *out;
    uint64_t cap;
};

/* Room for more output: four times the input to start with (64 KiB at
 * least), then twice as much, up to MAX_INFLATED. */
static ms_status grow_output(struct reader *r, struct inflater *z, uint64_t in_left)
{
    uint64_t ncap = z->cap ? z->cap * 2 : (in_left * 4 > 65536 ? in_left * 4 : 65536);
    uint8_t *n;

    if (ncap > MAX_INFLATED)
        ncap = MAX_INFLATED;
    if (ncap <= z->cap)
        return fail(r, MS_ELIMIT, r->pos, "deflated data expands beyond %llu bytes",
                    (unsigned long long)MAX_INFLATED);
    n = realloc(z->out, (size_t)ncap);
    if (!n)
        return ms_error_set(r->err, MS_ENOMEM, "out of memory inflating");
    z->out = n;
    z->cap = ncap;
    return MS_OK;
}

/* One call of inflate() on the rest of the input; *done at the end of the stream. */
static ms_status inflate_step(struct reader *r, struct inflater *z, bool *done)
{
    uint64_t in_left = r->size - r->pos - z->zs.total_in, len = z->zs.total_out;
    ms_status st = len == z->cap ? grow_output(r, z, in_left) : MS_OK;
    int zr;

    if (st != MS_OK)
        return st;
    z->zs.avail_in = (uInt)(in_left > UINT32_MAX ? UINT32_MAX : in_left);
    z->zs.next_out = z->out + len;
    z->zs.avail_out = (uInt)(z->cap - len > UINT32_MAX ? UINT32_MAX : z->cap - len);
    zr = inflate(&z->zs, Z_NO_FLUSH);
    *done = zr == Z_STREAM_END;
    if (*done)
        return MS_OK;
    if (zr != Z_OK && zr != Z_BUF_ERROR)
        return fail(r, MS_EMALFORMED, r->pos + z->zs.total_in, "bad deflated data: %s",
                    z->zs.msg ? z->zs.msg : "inflate error");
    if (zr == Z_BUF_ERROR && z->zs.avail_in == 0)
        return fail(r, MS_EMALFORMED, r->size, "deflated data is truncated");
    return MS_OK;
}

/* Inflate the rest of the input (Deflated Explicit VR LE, raw deflate); the
 * reader goes on in the inflated bytes, which the arena owns. */
static ms_status inflate_body(struct reader *r)
{
    struct inflater z;
    uint64_t len;
    bool done = false;
    ms_status st = MS_OK;

    memset(&z, 0, sizeof z);
    if (inflateInit2(&z.zs, -MAX_WBITS) != Z_OK)
        return ms_error_set(r->err, MS_ENOMEM, "cannot start inflate");
    z.zs.next_in = (Bytef *)(r->buf + r->pos);
    while (st == MS_OK && !done)
        st = inflate_step(r, &z, &done);
    len = z.zs.total_out;
    inflateEnd(&z.zs);
    if (st == MS_OK && !msi_arena_adopt(r->arena, z.out, (size_t)z.cap, false))
        st = ms_error_set(r->err, MS_ENOMEM, "out of memory");
    if (st != MS_OK) {
        free(z.out);
        return st;
    }
    r->origin = r->pos;
    r->inflated = true;
    r->buf = z.out;
    r->size = len;
    r->pos = 0;
    r->explicit_vr = true;
    r->big_endian = false;
    return MS_OK;
}

/* Preamble and "DICM": where the File Meta Information starts. */
static ms_status parse_preamble(struct reader *r, struct ms_file *f)
{
    if (r->size >= 132 && memcmp(r->buf + 128, "DICM", 4) == 0) {
        memcpy(f->preamble, r->buf, 128);
        f->has_preamble = f->has_dicm = true;
        r->pos = 132;
    } else if (r->size >= 4 && memcmp(r->buf, "DICM", 4) == 0) {
        warn(r, 0, "\"DICM\" without a preamble");
        f->has_dicm = true;
        r->pos = 4;
    } else if (r->opt && r->opt->require_dicm) {
        return ms_error_set(r->err, MS_EMALFORMED, "not a DICOM file: no \"DICM\" at offset 128");
    } else if (r->size < 8) {
        return ms_error_set(r->err, MS_EMALFORMED, "not a DICOM file: only %llu bytes",
                            (unsigned long long)r->size);
    }
    return MS_OK;
}

/* The dataset starts here; a deflated one is inflated first. */
static ms_status start_dataset(struct reader *r, struct ms_file *f)
{
    f->dataset_offset = r->pos;
    return f->ts->deflated ? inflate_body(r) : MS_OK;
}

/* Without "DICM" and meta, the input must start like a dataset. */
static ms_status check_bare_start(struct reader *r, struct ms_file *f)
{
    uint16_t g;

    if (f->meta->n || r->size - r->pos < 4 || f->has_dicm)
        return MS_OK;
    g = r->big_endian ? msi_rd16be(r->buf + r->pos) : msi_rd16le(r->buf + r->pos);
    if (g != 0x0008 && g > 0x0028 && g != 0x7FE0)
        return ms_error_set(r->err, MS_EMALFORMED,
                            "not a DICOM file: no preamble, no meta, first group %04X", g);
    if (r->size - r->pos >= 8 && msi_rd32le(r->buf + r->pos) == 0 &&
        msi_rd32le(r->buf + r->pos + 4) == 0) /* zero fill, or a file cut in its preamble */
        return ms_error_set(r->err, MS_EMALFORMED,
                            "not a DICOM file: no preamble, no meta, starts with zero bytes");
    return MS_OK;
}

static ms_status parse_body(struct reader *r, struct ms_file *f)
{
    return parse_dataset(r, f->ds, r->size, false);
}

static ms_status check_parsed(struct reader *r, struct ms_file *f)
{
    if (!f->meta->n && !f->ds->n && !r->stopped)
        return ms_error_set(r->err, MS_EMALFORMED, "no data elements (%llu bytes)",
                            (unsigned long long)f->input_size);
    if (r->depth != 0)
        return ms_error_set(r->err, MS_EINTERNAL, "reader depth out of balance");
    return MS_OK;
}

/* The steps of a file, in order; the first error ends the read. */
static ms_status (*const file_steps[])(struct reader *r, struct ms_file *f) = {
    parse_preamble, parse_meta,  choose_syntax, start_dataset,
    check_bare_start, parse_body, check_parsed,
};

static ms_status parse_file(struct reader *r, struct ms_file *f)
{
    ms_status st = MS_OK;
    for (size_t i = 0; st == MS_OK && i < sizeof file_steps / sizeof *file_steps; i++)
        st = file_steps[i](r, f);
    return st;
}

static ms_status read_buffer(struct ms_file **out, const uint8_t *data, uint64_t size,
                             struct msi_arena *arena, const struct ms_read_options *opt,
                             struct ms_error *err)
{
    struct reader r;
    struct ms_file *f;
    ms_status st;

    memset(&r, 0, sizeof r);
    r.buf = data;
    r.size = size;
    r.opt = opt;
    r.err = err;
    r.arena = arena;
    r.max_depth = (opt && opt->max_depth) ? opt->max_depth : DEFAULT_MAX_DEPTH;
    r.max_value = (opt && opt->max_value) ? opt->max_value : DEFAULT_MAX_VALUE;
    r.stop_before_pixels = opt && opt->stop_before_pixels;

    f = msi_arena_alloc(arena, sizeof *f);
    if (!f)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    f->arena = arena;
    f->input_size = size;
    f->meta = msi_dataset_new(arena, NULL);
    f->ds = msi_dataset_new(arena, NULL);
    if (!f->meta || !f->ds)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    st = parse_file(&r, f);
    if (st != MS_OK)
        return st;
    *out = f;
    return MS_OK;
}

ms_status ms_file_read(struct ms_file **out, const char *path, const struct ms_read_options *opt,
                       struct ms_error *err)
{
    const uint8_t *data;
    uint64_t size;
    ms_status st;

    *out = NULL;
    st = msi_map_file(path, &data, &size, err);
    if (st != MS_OK)
        return st;
    return msi_file_read_mapped(out, data, size, opt, err);
}

ms_status msi_file_read_mapped(struct ms_file **out, const uint8_t *data, uint64_t size,
                               const struct ms_read_options *opt, struct ms_error *err)
{
    struct msi_arena *arena;
    ms_status st;

    *out = NULL;
    arena = msi_arena_create();
    if (!arena || (size && !msi_arena_adopt(arena, (void *)data, (size_t)size, true))) {
        msi_arena_destroy(arena);
        msi_unmap_file(data, size);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    if (size == 0)
        st = ms_error_set(err, MS_EMALFORMED, "empty file");
    else
        st = read_buffer(out, data, size, arena, opt, err);
    if (st != MS_OK) {
        *out = NULL;
        msi_arena_destroy(arena);
    }
    return st;
}

ms_status ms_file_read_memory(struct ms_file **out, const void *data, size_t len,
                              const struct ms_read_options *opt, struct ms_error *err)
{
    struct msi_arena *arena = msi_arena_create();
    uint8_t *copy;
    ms_status st;

    *out = NULL;
    if (!arena)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if (len == 0) {
        msi_arena_destroy(arena);
        return ms_error_set(err, MS_EMALFORMED, "empty input");
    }
    copy = msi_arena_dup(arena, data, len);
    if (!copy) {
        msi_arena_destroy(arena);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    st = read_buffer(out, copy, len, arena, opt, err);
    if (st != MS_OK) {
        *out = NULL;
        msi_arena_destroy(arena);
    }
    return st;
}
