/* Datasets and elements: the tree, lookups, edits and the walk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct ms_dataset *msi_dataset_new(struct msi_arena *a, struct ms_dataset *parent)
{
    struct ms_dataset *ds = msi_arena_alloc(a, sizeof *ds);
    if (!ds)
        return NULL;
    ds->arena = a;
    ds->sorted = true;
    ds->parent = parent;
    ds->charset = parent ? parent->charset : "";
    return ds;
}

/* Room for one more entry (of size bytes) in an arena array holding n of
 * *cap: arr itself when there is, else a copy twice as large (first entries
 * for the first), *cap updated. NULL when out of memory or at the 32-bit
 * limit. Old arrays stay in the arena. */
static void *grow_array(struct msi_arena *a, void *arr, uint32_t n, uint32_t *cap, size_t size,
                        uint32_t first)
{
    uint32_t c;
    void *p;

    if (n < *cap)
        return arr;
    if (*cap > UINT32_MAX / 2)
        return NULL;
    c = *cap ? *cap * 2 : first;
    p = msi_arena_alloc(a, (size_t)c * size);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, arr, (size_t)n * size);
    *cap = c;
    return p;
}

/* Make room for one more element pointer. */
static bool grow(struct ms_dataset *ds)
{
    struct ms_element **els = grow_array(ds->arena, ds->els, ds->n, &ds->cap, sizeof *els, 16);
    if (!els)
        return false;
    ds->els = els;
    return true;
}

/* A new empty element of ds (not yet in its array). */
static struct ms_element *new_element(struct ms_dataset *ds, uint32_t tag, ms_vr vr)
{
    struct ms_element *el = msi_arena_alloc(ds->arena, sizeof *el);
    if (!el)
        return NULL;
    el->tag = tag;
    el->vr = (uint8_t)vr;
    el->parent = ds;
    return el;
}

struct ms_element *msi_dataset_append(struct ms_dataset *ds, uint32_t tag, ms_vr vr)
{
    struct ms_element *el;
    if (!grow(ds) || !(el = new_element(ds, tag, vr)))
        return NULL;
    if (ds->n && ds->els[ds->n - 1]->tag >= tag)
        ds->sorted = false;
    ds->els[ds->n++] = el;
    return el;
}

struct ms_dataset *msi_element_append_item(struct ms_element *el)
{
    struct msi_arena *a = el->parent->arena;
    struct ms_dataset **items =
        grow_array(a, el->items, el->nitems, &el->cap_items, sizeof *items, 4);
    struct ms_dataset *item;

    if (!items)
        return NULL;
    el->items = items;
    item = msi_dataset_new(a, el->parent);
    if (!item)
        return NULL;
    el->items[el->nitems++] = item;
    return item;
}

bool msi_element_append_fragment(struct ms_element *el, const uint8_t *data, uint64_t len,
                                 uint64_t offset)
{
    struct msi_fragment *frags = grow_array(el->parent->arena, el->frags, el->nfrags,
                                            &el->cap_frags, sizeof *frags, 8);
    if (!frags)
        return false;
    el->frags = frags;
    el->frags[el->nfrags++] = (struct msi_fragment){data, len, offset};
    return true;
}

void msi_dataset_update_charset(struct ms_dataset *ds)
{
    struct ms_element *el = ms_dataset_get(ds, MS_TAG_SPECIFIC_CHARSET);
    if (el && el->value) {
        char *cs = msi_arena_alloc(ds->arena, (size_t)el->length + 1);
        if (cs) {
            memcpy(cs, el->value, (size_t)el->length);
            ds->charset = cs;
            return;
        }
    }
    ds->charset = ds->parent ? ds->parent->charset : "";
}

/* ---- public: datasets ------------------------------------------------------ */

ms_status ms_dataset_create(struct ms_dataset **out, struct ms_error *err)
{
    struct msi_arena *a = msi_arena_create();
    *out = NULL;
    if (!a)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    *out = msi_dataset_new(a, NULL);
    if (!*out) {
        msi_arena_destroy(a);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    (*out)->own_arena = true;
    return MS_OK;
}

void ms_dataset_destroy(struct ms_dataset *ds)
{
    if (ds && ds->own_arena)
        msi_arena_destroy(ds->arena);
}

size_t ms_dataset_count(const struct ms_dataset *ds) { return ds->n; }

struct ms_element *ms_dataset_at(const struct ms_dataset *ds, size_t i)
{
    return i < ds->n ? ds->els[i] : NULL;
}

/* Index of the first element with tag >= tag (sorted datasets). */
static uint32_t lower_bound(const struct ms_dataset *ds, uint32_t tag)
{
    uint32_t lo = 0, hi = ds->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ds->els[mid]->tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int64_t find_index(const struct ms_dataset *ds, uint32_t tag)
{
    if (ds->sorted) {
        uint32_t i = lower_bound(ds, tag);
        return (i < ds->n && ds->els[i]->tag == tag) ? (int64_t)i : -1;
    }
    for (uint32_t i = 0; i < ds->n; i++)
        if (ds->els[i]->tag == tag)
            return i;
    return -1;
}

struct ms_element *ms_dataset_get(const struct ms_dataset *ds, uint32_t tag)
{
    int64_t i = find_index(ds, tag);
    return i < 0 ? NULL : ds->els[i];
}

struct ms_dataset *ms_dataset_parent(const struct ms_dataset *ds) { return ds->parent; }
const char *ms_dataset_charset(const struct ms_dataset *ds) { return ds->charset; }
bool ms_dataset_undefined_length(const struct ms_dataset *ds) { return ds->undef; }
uint64_t ms_dataset_offset(const struct ms_dataset *ds) { return ds->offset; }

bool ms_dataset_get_string(const struct ms_dataset *ds, uint32_t tag, size_t idx, char *buf,
                           size_t cap)
{
    struct ms_element *el = ms_dataset_get(ds, tag);
    if (cap)
        buf[0] = '\0';
    return el && ms_element_get_string(el, idx, buf, cap);
}

bool ms_dataset_get_double(const struct ms_dataset *ds, uint32_t tag, size_t idx, double *out)
{
    struct ms_element *el = ms_dataset_get(ds, tag);
    return el && ms_element_get_double(el, idx, out);
}

bool ms_dataset_get_int(const struct ms_dataset *ds, uint32_t tag, size_t idx, int64_t *out)
{
    struct ms_element *el = ms_dataset_get(ds, tag);
    return el && ms_element_get_int(el, idx, out);
}

struct ms_element *msi_dataset_upsert(struct ms_dataset *ds, uint32_t tag, ms_vr vr)
{
    int64_t i = find_index(ds, tag);
    struct ms_element *el = new_element(ds, tag, vr);
    uint32_t pos;

    if (!el)
        return NULL;
    if (i >= 0) {
        el->offset = ds->els[i]->offset;
        ds->els[i] = el;
        return el;
    }
    if (!grow(ds))
        return NULL;
    if (ds->sorted) {
        pos = lower_bound(ds, tag);
    } else {
        pos = 0;
        while (pos < ds->n && ds->els[pos]->tag < tag)
            pos++;
    }
    memmove(ds->els + pos + 1, ds->els + pos, (size_t)(ds->n - pos) * sizeof *ds->els);
    ds->els[pos] = el;
    ds->n++;
    return el;
}

static ms_status check_settable(uint32_t tag, ms_vr vr, struct ms_error *err)
{
    if (MS_TAG_GROUP(tag) == 0xFFFE)
        return ms_error_set(err, MS_EUSAGE, "(%04X,%04X) is an item or delimiter, not an element",
                            MS_TAG_GROUP(tag), MS_TAG_ELEMENT(tag));
    if (vr == MS_VR_SQ || vr == MS_VR_NONE || (unsigned)vr >= MS_VR_COUNT)
        return ms_error_set(err, MS_EUSAGE, "(%04X,%04X): a value cannot have VR %s",
                            MS_TAG_GROUP(tag), MS_TAG_ELEMENT(tag), ms_vr_name(vr));
    return MS_OK;
}

static ms_status set_value(struct ms_dataset *ds, uint32_t tag, ms_vr vr, const void *data,
                           size_t len, bool copy, struct ms_error *err)
{
    struct ms_element *el;
    const uint8_t *value = data;
    ms_status st = check_settable(tag, vr, err);

    if (st != MS_OK)
        return st;
    if (len > MS_UNDEFINED_LENGTH - 1)
        return ms_error_set(err, MS_ELIMIT, "value of %zu bytes is too long for DICOM", len);
    if (copy) {
        value = msi_arena_dup(ds->arena, data, len);
        if (!value)
            return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    el = msi_dataset_upsert(ds, tag, vr);
    if (!el)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    el->value = value;
    el->length = len;
    if (tag == MS_TAG_SPECIFIC_CHARSET)
        msi_dataset_update_charset(ds);
    return MS_OK;
}

ms_status ms_dataset_set_bytes(struct ms_dataset *ds, uint32_t tag, ms_vr vr, const void *data,
                               size_t len, struct ms_error *err)
{
    return set_value(ds, tag, vr, data, len, true, err);
}

ms_status ms_dataset_set_bytes_ref(struct ms_dataset *ds, uint32_t tag, ms_vr vr,
                                   const void *data, size_t len, struct ms_error *err)
{
    return set_value(ds, tag, vr, data, len, false, err);
}

ms_status ms_dataset_set_string(struct ms_dataset *ds, uint32_t tag, ms_vr vr, const char *text,
                                struct ms_error *err)
{
    if (!ms_vr_is_string(vr))
        return ms_error_set(err, MS_EUSAGE, "(%04X,%04X): VR %s is not a string VR",
                            MS_TAG_GROUP(tag), MS_TAG_ELEMENT(tag), ms_vr_name(vr));
    return set_value(ds, tag, vr, text, strlen(text), true, err);
}

ms_status ms_dataset_set_int(struct ms_dataset *ds, uint32_t tag, ms_vr vr, int64_t v,
                             struct ms_error *err)
{
    uint8_t buf[8];
    char text[32];

    switch (vr) {
    case MS_VR_US:
    case MS_VR_SS:
        msi_wr16le(buf, (uint16_t)v);
        return set_value(ds, tag, vr, buf, 2, true, err);
    case MS_VR_UL:
    case MS_VR_SL:
        msi_wr32le(buf, (uint32_t)v);
        return set_value(ds, tag, vr, buf, 4, true, err);
    case MS_VR_UV:
    case MS_VR_SV:
        msi_wr64le(buf, (uint64_t)v);
        return set_value(ds, tag, vr, buf, 8, true, err);
    case MS_VR_IS:
        snprintf(text, sizeof text, "%lld", (long long)v);
        return ms_dataset_set_string(ds, tag, vr, text, err);
    default:
        return ms_error_set(err, MS_EUSAGE, "(%04X,%04X): VR %s does not hold an integer",
                            MS_TAG_GROUP(tag), MS_TAG_ELEMENT(tag), ms_vr_name(vr));
    }
}

ms_status ms_dataset_set_sequence(struct ms_dataset *ds, uint32_t tag, struct ms_element **out,
                                  struct ms_error *err)
{
    struct ms_element *el;
    *out = NULL;
    if (MS_TAG_GROUP(tag) == 0xFFFE)
        return ms_error_set(err, MS_EUSAGE, "(%04X,%04X) is an item or delimiter",
                            MS_TAG_GROUP(tag), MS_TAG_ELEMENT(tag));
    el = msi_dataset_upsert(ds, tag, MS_VR_SQ);
    if (!el)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    el->flags = MSI_EL_UNDEF;
    el->length = MS_UNDEFINED_LENGTH;
    *out = el;
    return MS_OK;
}

bool ms_dataset_remove(struct ms_dataset *ds, uint32_t tag)
{
    int64_t i = find_index(ds, tag);
    if (i < 0)
        return false;
    memmove(ds->els + i, ds->els + i + 1, (size_t)(ds->n - (uint32_t)i - 1) * sizeof *ds->els);
    ds->n--;
    if (tag == MS_TAG_SPECIFIC_CHARSET)
        msi_dataset_update_charset(ds);
    return true;
}

static int walk(struct ms_dataset *ds, ms_visit_fn fn, void *ctx, unsigned depth)
{
    for (uint32_t i = 0; i < ds->n; i++) {
        struct ms_element *el = ds->els[i];
        int r = fn(ctx, el, depth);
        if (r)
            return r;
        for (uint32_t k = 0; k < el->nitems; k++) {
            r = walk(el->items[k], fn, ctx, depth + 1);
            if (r)
                return r;
        }
    }
    return 0;
}

int ms_dataset_walk(struct ms_dataset *ds, ms_visit_fn fn, void *ctx)
{
    return walk(ds, fn, ctx, 0);
}

/* ---- public: elements -------------------------------------------------------- */

uint32_t ms_element_tag(const struct ms_element *el) { return el->tag; }
ms_vr ms_element_vr(const struct ms_element *el) { return (ms_vr)el->vr; }
uint64_t ms_element_length(const struct ms_element *el) { return el->length; }
const uint8_t *ms_element_value(const struct ms_element *el) { return el->value; }
uint64_t ms_element_offset(const struct ms_element *el) { return el->offset; }
struct ms_dataset *ms_element_dataset(const struct ms_element *el) { return el->parent; }
bool ms_element_undefined_length(const struct ms_element *el) { return el->flags & MSI_EL_UNDEF; }
size_t ms_element_item_count(const struct ms_element *el) { return el->nitems; }

struct ms_dataset *ms_element_item(const struct ms_element *el, size_t i)
{
    return i < el->nitems ? el->items[i] : NULL;
}

ms_status ms_element_add_item(struct ms_element *el, struct ms_dataset **out, struct ms_error *err)
{
    *out = NULL;
    if (el->vr != MS_VR_SQ)
        return ms_error_set(err, MS_EUSAGE, "(%04X,%04X) is not a sequence",
                            MS_TAG_GROUP(el->tag), MS_TAG_ELEMENT(el->tag));
    *out = msi_element_append_item(el);
    if (!*out)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    (*out)->undef = true;
    return MS_OK;
}

bool ms_element_is_encapsulated(const struct ms_element *el) { return el->flags & MSI_EL_ENCAP; }
size_t ms_element_fragment_count(const struct ms_element *el) { return el->nfrags; }

bool ms_element_fragment(const struct ms_element *el, size_t i, const uint8_t **data,
                         uint64_t *len)
{
    if (i >= el->nfrags)
        return false;
    *data = el->frags[i].data;
    *len = el->frags[i].len;
    return true;
}
