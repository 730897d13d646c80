/* The byte stream a DICOM digital signature's MAC is computed over (PS3.15
 * C.2), as DCMTK's dcmsign produces it, in Explicit VR Little Endian:
 *
 * - every element: tag, VR, length (2 bytes, or 2 reserved zero bytes and 4
 *   bytes for the long-length VRs) and the value padded to even length;
 * - a sequence: tag, "SQ", two zero bytes, no length; each item as the item
 *   tag (FFFE,E000) alone (no length) followed by its elements; no item
 *   delimiters; the sequence delimiter tag (FFFE,E0DD) alone at the end;
 * - encapsulated pixel data: tag, "OB", two zero bytes, no length; each
 *   fragment as the item tag alone followed by its bytes; (FFFE,E0DD) alone;
 * - elements that cannot be signed (group lengths, ...) are left out at every
 *   level.
 * The stream thus does not depend on how lengths were encoded in the file. */
#include <stdlib.h>
#include <string.h>

#include "seal/dicom_signature_internal.h"

#define MAX_DEPTH 128

struct enc {
    struct msi_out out; /* first: large */
    struct ms_error *err;
};

bool ms_dsig_tag_signable(uint32_t tag)
{
    uint16_t g = MS_TAG_GROUP(tag), e = MS_TAG_ELEMENT(tag);

    if (e == 0 || g < 0x0008 || g == 0xFFFA || g == 0xFFFE)
        return false;
    return tag != MS_TAG(0x0008, 0x0001) && tag != MS_TAG(0x4FFE, 0x0001) &&
           tag != MS_TAG(0xFFFC, 0xFFFC);
}

/* ---- which elements are signed by default ------------------------------------------ */

/* A private data element (not a creator) of an Implicit VR dataset: its VR
 * comes from a private dictionary, which another reader may not share. */
static bool private_guess(uint32_t tag, bool implicit_vr)
{
    uint16_t e = MS_TAG_ELEMENT(tag);
    return implicit_vr && (MS_TAG_GROUP(tag) & 1) && !(e >= 0x0010 && e <= 0x00FF);
}

static bool unknown_vr(const struct ms_element *el, bool implicit_vr, unsigned depth)
{
    if (el->vr == MS_VR_UN || el->vr == MS_VR_NONE || (el->flags & MSI_EL_FROM_UN) ||
        private_guess(el->tag, implicit_vr) || depth > MAX_DEPTH)
        return true;
    for (uint32_t i = 0; i < el->nitems; i++) {
        const struct ms_dataset *item = el->items[i];
        for (uint32_t k = 0; k < item->n; k++)
            if (ms_dsig_tag_signable(item->els[k]->tag) &&
                unknown_vr(item->els[k], implicit_vr, depth + 1))
                return true;
    }
    return false;
}

bool msi_dsig_element_signable(const struct ms_element *el, bool implicit_vr)
{
    return ms_dsig_tag_signable(el->tag) && !unknown_vr(el, implicit_vr, 0);
}

/* ---- encoding ------------------------------------------------------------------------ */

static void put(struct enc *e, const void *data, size_t len) { msi_out_put(&e->out, data, len); }

static void put_tag(struct enc *e, uint32_t tag)
{
    uint8_t b[4];
    msi_wr16le(b, MS_TAG_GROUP(tag));
    msi_wr16le(b + 2, MS_TAG_ELEMENT(tag));
    put(e, b, 4);
}

/* Tag, VR and the two reserved bytes of a sequence or pixel sequence. */
static void put_open(struct enc *e, uint32_t tag, const char *vr)
{
    static const uint8_t zero[2];
    put_tag(e, tag);
    put(e, vr, 2);
    put(e, zero, 2);
}

/* VR in the stream: what the input said (UN when it said UN), and UN for a
 * short-length VR whose value does not fit 16 bits (as the writer does). */
static ms_vr stream_vr(const struct ms_element *el, uint64_t padded)
{
    ms_vr vr = (ms_vr)el->vr;
    if (vr == MS_VR_NONE || (el->flags & MSI_EL_FROM_UN))
        return MS_VR_UN;
    if (!ms_vr_has_long_length(vr) && padded > 0xFFFF)
        return MS_VR_UN;
    return vr;
}

static void put_value(struct enc *e, const struct ms_element *el)
{
    uint64_t padded = el->length + (el->length & 1);
    ms_vr vr = stream_vr(el, padded);
    uint8_t b[8], pad = ms_vr_padding(vr);

    put_tag(e, el->tag);
    put(e, ms_vr_name(vr), 2);
    if (ms_vr_has_long_length(vr)) {
        msi_wr16le(b, 0);
        msi_wr32le(b + 2, (uint32_t)padded);
        put(e, b, 6);
    } else {
        msi_wr16le(b, (uint16_t)padded);
        put(e, b, 2);
    }
    if (el->length)
        put(e, el->value, (size_t)el->length);
    if (el->length & 1)
        put(e, &pad, 1);
}

static void put_fragments(struct enc *e, const struct ms_element *el)
{
    static const uint8_t zero;
    put_open(e, el->tag, "OB");
    for (uint32_t i = 0; i < el->nfrags; i++) {
        put_tag(e, MS_TAG_ITEM);
        if (el->frags[i].len)
            put(e, el->frags[i].data, (size_t)el->frags[i].len);
        if (el->frags[i].len & 1)
            put(e, &zero, 1);
    }
    put_tag(e, MS_TAG_SEQ_DELIM);
}

static int cmp_el(const void *a, const void *b)
{
    const struct ms_element *x = *(const struct ms_element *const *)a;
    const struct ms_element *y = *(const struct ms_element *const *)b;
    if (x->tag != y->tag)
        return x->tag < y->tag ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset; /* keep input order */
}

/* The elements of ds in ascending tag order: ds->els itself when sorted, else
 * a sorted copy in *owned (free it). */
static ms_status sorted_view(const struct ms_dataset *ds, struct ms_element ***view,
                             struct ms_element ***owned, struct ms_error *err)
{
    *owned = NULL;
    *view = ds->els;
    if (ds->sorted || ds->n < 2)
        return MS_OK;
    *owned = malloc((size_t)ds->n * sizeof **owned);
    if (!*owned)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    memcpy(*owned, ds->els, (size_t)ds->n * sizeof **owned);
    qsort(*owned, ds->n, sizeof **owned, cmp_el);
    *view = *owned;
    return MS_OK;
}

static ms_status put_element(struct enc *e, const struct ms_element *el, unsigned depth);

static ms_status put_item(struct enc *e, const struct ms_dataset *item, unsigned depth)
{
    struct ms_element **view, **owned;
    ms_status st = sorted_view(item, &view, &owned, e->err);

    put_tag(e, MS_TAG_ITEM);
    for (uint32_t i = 0; st == MS_OK && i < item->n; i++)
        if (ms_dsig_tag_signable(view[i]->tag))
            st = put_element(e, view[i], depth);
    free(owned);
    return st;
}

static ms_status put_element(struct enc *e, const struct ms_element *el, unsigned depth)
{
    ms_status st = MS_OK;

    if (depth > MAX_DEPTH)
        return ms_error_set(e->err, MS_ELIMIT, "sequences nested deeper than %u levels",
                            MAX_DEPTH);
    if (el->flags & MSI_EL_ENCAP) {
        put_fragments(e, el);
    } else if (el->vr == MS_VR_SQ) {
        put_open(e, el->tag, "SQ");
        for (uint32_t i = 0; st == MS_OK && i < el->nitems; i++)
            st = put_item(e, el->items[i], depth + 1);
        put_tag(e, MS_TAG_SEQ_DELIM);
    } else {
        put_value(e, el);
    }
    if (st == MS_OK && e->out.failed)
        st = ms_error_set(e->err, MS_EIO, "cannot write the MAC byte stream");
    return st;
}

static bool listed(uint32_t tag, const uint32_t *tags, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tags[mid] < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && tags[lo] == tag;
}

/* Elements of the signature item that the MAC covers. */
static bool sig_item_covered(uint32_t tag)
{
    return ms_dsig_tag_signable(tag) && tag != MSI_TAG_CERT && tag != MSI_TAG_SIGNATURE &&
           tag != MSI_TAG_TS_TYPE && tag != MSI_TAG_TIMESTAMP;
}

/* The listed elements of ds, or the covered ones of a signature item. */
static ms_status put_level(struct enc *e, const struct ms_dataset *ds, const uint32_t *tags,
                           size_t ntags, bool sig_item)
{
    struct ms_element **view, **owned;
    ms_status st = sorted_view(ds, &view, &owned, e->err);

    for (uint32_t i = 0; st == MS_OK && i < ds->n; i++) {
        uint32_t tag = view[i]->tag;
        bool take = sig_item ? sig_item_covered(tag) : listed(tag, tags, ntags);
        if (take)
            st = put_element(e, view[i], 0);
    }
    free(owned);
    return st;
}

ms_status msi_dsig_stream(const struct ms_dataset *ds, const uint32_t *tags, size_t ntags,
                          const struct ms_dataset *sig, ms_sink_fn sink, void *ctx,
                          struct ms_error *err)
{
    struct enc *e = malloc(sizeof *e);
    ms_status st;

    if (!e)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    msi_out_init(&e->out, sink, ctx);
    e->err = err;
    st = put_level(e, ds, tags, ntags, false);
    if (st == MS_OK)
        st = put_level(e, sig, NULL, 0, true);
    if (!msi_out_flush(&e->out) && st == MS_OK)
        st = ms_error_set(err, MS_EIO, "cannot write the MAC byte stream");
    free(e);
    return st;
}

/* ---- the digest of the stream ---------------------------------------------------------- */

struct mac_sink {
    struct ms_hash *hash;
    ms_sink_fn dump;
    void *dump_ctx;
};

static int mac_sink(void *ctx, const void *data, size_t len)
{
    struct mac_sink *m = ctx;
    if (ms_hash_update(m->hash, data, len, NULL) != MS_OK)
        return -1;
    return m->dump ? m->dump(m->dump_ctx, data, len) : 0;
}

ms_status msi_dsig_digest(const struct ms_dataset *ds, const uint32_t *tags, size_t ntags,
                          const struct ms_dataset *sig, ms_hash_alg alg, ms_sink_fn dump,
                          void *dump_ctx, uint8_t *out, struct ms_error *err)
{
    struct mac_sink m = {NULL, dump, dump_ctx};
    ms_status st = ms_hash_create(&m.hash, alg, err);

    if (st == MS_OK)
        st = msi_dsig_stream(ds, tags, ntags, sig, mac_sink, &m, err);
    if (st == MS_OK)
        st = ms_hash_final(m.hash, out, err);
    ms_hash_destroy(m.hash);
    return st;
}
