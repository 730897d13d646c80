/* The recipe that rebuilds an original file bit-exact from its de-identified
 * version: the original's bytes as a list of literals (stored, encrypted with
 * the other originals) and copies of whole top-level elements of the
 * de-identified file (the pixel data, and every element the profile kept).
 * Format in docs/deid.md, "Recipe". */
#include <stdlib.h>
#include <string.h>

#include "protect/deid.h"

#define RECIPE_MAX_OPS (1u << 24)

/* ---- layout ----------------------------------------------------------------------------- */

void msi_deid_layout_free(struct msi_deid_layout *l)
{
    free(l->off);
    free(l->tags);
    memset(l, 0, sizeof *l);
}

ms_status msi_deid_layout_make(struct msi_deid_layout *l, const struct ms_file *f,
                               uint64_t size, struct ms_error *err)
{
    const struct ms_dataset *ds = f->ds;

    memset(l, 0, sizeof *l);
    if (f->ts->deflated)
        return ms_error_set(err, MS_EUNSUPPORTED, "deflated data has no element layout");
    l->off = malloc(((size_t)ds->n + 1) * sizeof *l->off);
    l->tags = malloc(((size_t)ds->n + 1) * sizeof *l->tags);
    if (!l->off || !l->tags) {
        msi_deid_layout_free(l);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    l->n = ds->n;
    for (uint32_t i = 0; i < ds->n; i++) {
        l->off[i] = ds->els[i]->offset;
        l->tags[i] = ds->els[i]->tag;
    }
    l->off[ds->n] = size;
    for (uint32_t i = 0; i < ds->n; i++)
        if (l->off[i] >= l->off[i + 1]) {
            msi_deid_layout_free(l);
            return ms_error_set(err, MS_EUNSUPPORTED, "top-level elements do not tile the file");
        }
    return MS_OK;
}

/* ---- a growable byte buffer that is wiped when it moves or dies ------------------------- */

struct buf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
};

static void buf_put(struct buf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 4096;
        uint8_t *p;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return;
            }
            cap *= 2;
        }
        p = malloc(cap);
        if (!p) {
            b->failed = true;
            return;
        }
        if (b->len)
            memcpy(p, b->p, b->len);
        msi_deid_recipe_free(b->p, b->cap);
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void buf_u32(struct buf *b, uint32_t v)
{
    uint8_t x[4];
    msi_wr32le(x, v);
    buf_put(b, x, 4);
}

static void buf_u64(struct buf *b, uint64_t v)
{
    uint8_t x[8];
    msi_wr64le(x, v);
    buf_put(b, x, 8);
}

void msi_deid_recipe_free(uint8_t *recipe, size_t len)
{
    if (recipe) {
        ms_crypto_wipe(recipe, len);
        free(recipe);
    }
}

/* ---- build ------------------------------------------------------------------------------ */

struct tagged {
    uint32_t tag, index;
};

struct builder {
    struct buf b;
    uint32_t nops;
    size_t lit_at;     /* offset of the open literal's length field, 0 = none */
    uint64_t lit_len;
    const uint8_t *base;
    const struct msi_deid_layout *bl;
    struct tagged *order; /* base elements sorted by (tag, index) */
    bool *used;
};

static void literal(struct builder *k, const uint8_t *data, uint64_t len)
{
    if (len == 0)
        return;
    if (!k->lit_at) {
        uint8_t op = MSI_DEID_OP_LITERAL;
        buf_put(&k->b, &op, 1);
        k->lit_at = k->b.len;
        k->lit_len = 0;
        buf_u64(&k->b, 0);
        k->nops++;
    }
    buf_put(&k->b, data, (size_t)len);
    k->lit_len += len;
    if (!k->b.failed)
        msi_wr64le(k->b.p + k->lit_at, k->lit_len);
}

static void copy_op(struct builder *k, uint32_t index, uint64_t len)
{
    uint8_t op = MSI_DEID_OP_COPY;
    k->lit_at = 0;
    buf_put(&k->b, &op, 1);
    buf_u32(&k->b, index);
    buf_u64(&k->b, len);
    k->nops++;
}

static int by_tag(const void *a, const void *b)
{
    const struct tagged *x = a, *y = b;
    if (x->tag != y->tag)
        return x->tag < y->tag ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Index of an unused base element whose bytes equal data, or -1. */
static int64_t find_equal(struct builder *k, uint32_t tag, const uint8_t *data, uint64_t len)
{
    const struct msi_deid_layout *bl = k->bl;
    size_t lo = 0, hi = bl->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->order[mid].tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < bl->n && k->order[lo].tag == tag; lo++) {
        uint32_t j = k->order[lo].index;
        if (!k->used[j] && bl->off[j + 1] - bl->off[j] == len &&
            memcmp(k->base + bl->off[j], data, (size_t)len) == 0)
            return j;
    }
    return -1;
}

static void emit_elements(struct builder *k, const uint8_t *orig, const struct msi_deid_layout *ol)
{
    literal(k, orig, ol->off[0]);
    for (size_t i = 0; i < ol->n; i++) {
        uint64_t a = ol->off[i], len = ol->off[i + 1] - a;
        int64_t j = find_equal(k, ol->tags[i], orig + a, len);
        if (j < 0) {
            literal(k, orig + a, len);
            continue;
        }
        k->used[j] = true;
        copy_op(k, (uint32_t)j, len);
    }
}

/* Sink that only hashes, for the self-check. */
static int discard_sink(void *ctx, const void *data, size_t len)
{
    (void)ctx;
    (void)data;
    (void)len;
    return 0;
}

static ms_status builder_init(struct builder *k, const uint8_t *base,
                              const struct msi_deid_layout *bl, struct ms_error *err)
{
    memset(k, 0, sizeof *k);
    k->base = base;
    k->bl = bl;
    k->order = malloc((bl->n + 1) * sizeof *k->order);
    k->used = calloc(bl->n + 1, sizeof *k->used);
    if (!k->order || !k->used)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (uint32_t j = 0; j < bl->n; j++)
        k->order[j] = (struct tagged){bl->tags[j], j};
    qsort(k->order, bl->n, sizeof *k->order, by_tag);
    return MS_OK;
}

ms_status msi_deid_recipe_build(const uint8_t *orig, uint64_t size,
                                const struct msi_deid_layout *ol, const uint8_t *base,
                                const struct msi_deid_layout *bl, uint8_t **out, size_t *out_len,
                                struct ms_error *err)
{
    uint8_t digest[MS_SHA256_LEN];
    struct builder k;
    ms_status st;

    *out = NULL;
    *out_len = 0;
    if (bl->n > UINT32_MAX - 1)
        return ms_error_set(err, MS_ELIMIT, "too many elements");
    st = builder_init(&k, base, bl, err);
    if (st == MS_OK)
        st = ms_sha256(orig, (size_t)size, digest, err);
    if (st == MS_OK) {
        buf_put(&k.b, MSI_DEID_RECIPE_MAGIC, 8);
        buf_u64(&k.b, size);
        buf_put(&k.b, digest, sizeof digest);
        buf_u32(&k.b, (uint32_t)bl->n);
        buf_u32(&k.b, 0); /* op count, set below */
        if (ol)
            emit_elements(&k, orig, ol);
        else
            literal(&k, orig, size);
        if (k.b.failed)
            st = ms_error_set(err, MS_ENOMEM, "out of memory building the recipe");
    }
    if (st == MS_OK) {
        msi_wr32le(k.b.p + MSI_DEID_RECIPE_HEAD - 4, k.nops);
        st = msi_deid_recipe_apply(k.b.p, k.b.len, base, bl, discard_sink, NULL, err);
        if (st != MS_OK)
            st = ms_error_set(err, MS_EINTERNAL, "the recipe does not rebuild the original");
    }
    free(k.order);
    free(k.used);
    if (st != MS_OK) {
        msi_deid_recipe_free(k.b.p, k.b.cap);
        return st;
    }
    *out = k.b.p;
    *out_len = k.b.len;
    return MS_OK;
}

/* ---- apply ------------------------------------------------------------------------------ */

struct reader {
    const uint8_t *p;
    size_t left;
};

static bool take(struct reader *r, void *out, size_t n)
{
    if (r->left < n)
        return false;
    memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
    return true;
}

struct applier {
    struct ms_hash *h;
    ms_sink_fn sink;
    void *ctx;
    uint64_t done, size;
    struct ms_error *err;
};

static ms_status emit(struct applier *a, const uint8_t *data, uint64_t len)
{
    ms_status st;
    if (len > a->size - a->done)
        return ms_error_set(a->err, MS_EKEY, "the recipe outgrows the original's size");
    if ((st = ms_hash_update(a->h, data, (size_t)len, a->err)) != MS_OK)
        return st;
    if (len && a->sink(a->ctx, data, (size_t)len) != 0)
        return ms_error_set(a->err, MS_EIO, "write failed");
    a->done += len;
    return MS_OK;
}

static ms_status apply_op(struct applier *a, struct reader *r, const uint8_t *base,
                          const struct msi_deid_layout *bl)
{
    uint8_t op, x[8];
    uint32_t index;
    uint64_t len;

    if (!take(r, &op, 1))
        return ms_error_set(a->err, MS_EMALFORMED, "recipe truncated");
    if (op == MSI_DEID_OP_LITERAL) {
        if (!take(r, x, 8))
            return ms_error_set(a->err, MS_EMALFORMED, "recipe truncated");
        len = msi_rd64le(x);
        if (len > r->left)
            return ms_error_set(a->err, MS_EMALFORMED, "recipe literal longer than the recipe");
        r->p += len;
        r->left -= (size_t)len;
        return emit(a, r->p - len, len);
    }
    if (op != MSI_DEID_OP_COPY || !take(r, x, 4))
        return ms_error_set(a->err, MS_EMALFORMED, "recipe has an unknown operation");
    index = msi_rd32le(x);
    if (!take(r, x, 8))
        return ms_error_set(a->err, MS_EMALFORMED, "recipe truncated");
    len = msi_rd64le(x);
    if (index >= bl->n || bl->off[index + 1] - bl->off[index] != len)
        return ms_error_set(a->err, MS_EKEY,
                            "element %u of the de-identified file is not the one de-identified",
                            index);
    return emit(a, base + bl->off[index], len);
}

/* Check the recipe's head against the layout; *nops gets the op count. */
static ms_status check_head(const uint8_t *head, const struct msi_deid_layout *bl,
                            uint32_t *nops, struct ms_error *err)
{
    if (memcmp(head, MSI_DEID_RECIPE_MAGIC, 8) != 0)
        return ms_error_set(err, MS_EMALFORMED, "not a medseal de-identification recipe");
    if (msi_rd32le(head + 48) != bl->n)
        return ms_error_set(err, MS_EKEY, "the de-identified file has %zu top-level elements, "
                            "the recipe expects %u", bl->n, msi_rd32le(head + 48));
    *nops = msi_rd32le(head + 52);
    if (*nops > RECIPE_MAX_OPS)
        return ms_error_set(err, MS_EMALFORMED, "recipe has too many operations");
    return MS_OK;
}

ms_status msi_deid_recipe_apply(const uint8_t *recipe, size_t len, const uint8_t *base,
                                const struct msi_deid_layout *bl, ms_sink_fn sink, void *ctx,
                                struct ms_error *err)
{
    struct reader r = {recipe, len};
    struct applier a = {NULL, sink, ctx, 0, 0, err};
    uint8_t head[MSI_DEID_RECIPE_HEAD], digest[MS_SHA256_LEN];
    uint32_t nops = 0;
    ms_status st;

    if (!take(&r, head, sizeof head))
        return ms_error_set(err, MS_EMALFORMED, "not a medseal de-identification recipe");
    if ((st = check_head(head, bl, &nops, err)) != MS_OK)
        return st;
    a.size = msi_rd64le(head + 8);
    if ((st = ms_hash_create(&a.h, MS_HASH_SHA256, err)) != MS_OK)
        return st;
    for (uint32_t i = 0; st == MS_OK && i < nops; i++)
        st = apply_op(&a, &r, base, bl);
    if (st == MS_OK && r.left && !(r.left == 1 && r.p[0] == 0)) /* one NUL: DICOM padding */
        st = ms_error_set(err, MS_EMALFORMED, "recipe has trailing bytes");
    if (st == MS_OK)
        st = ms_hash_final(a.h, digest, err);
    ms_hash_destroy(a.h);
    if (st == MS_OK && (a.done != a.size || !ms_crypto_equal(digest, head + 16, sizeof digest)))
        st = ms_error_set(err, MS_EKEY, "the rebuilt file is not the original "
                          "(the de-identified file was changed)");
    return st;
}
