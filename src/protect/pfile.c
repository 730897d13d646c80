/* The input of a DICOM-based scheme: a read-only mapping plus the parsed
 * tree, with the byte extent of every top-level element so that a scheme can
 * rewrite a file by splicing (insert the private block, replace the Pixel
 * Data value, empty a value) and restore the original bytes exactly. Also
 * the spliced writer and the keys every scheme uses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "protect/protect_internal.h"

static ms_status find_top_offsets(struct msi_pfile *pf, struct ms_error *err)
{
    size_t n = ms_dataset_count(pf->ds);
    pf->top_off = calloc(n + 1, sizeof *pf->top_off);
    if (!pf->top_off)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    pf->ntop = n;
    for (size_t i = 0; i < n; i++) {
        pf->top_off[i] = ms_element_offset(ms_dataset_at(pf->ds, i));
        if ((i > 0 && pf->top_off[i] <= pf->top_off[i - 1]) || pf->top_off[i] >= pf->size)
            return ms_error_set(err, MS_EUNSUPPORTED,
                                "offset %llu: elements out of file order; cannot rewrite it",
                                (unsigned long long)pf->top_off[i]);
    }
    pf->top_off[n] = pf->size;
    return MS_OK;
}

unsigned msi_pfile_header(const struct msi_pfile *pf, uint64_t off, unsigned *len_at,
                          unsigned *len_size)
{
    const uint8_t *p = pf->map + off;
    ms_vr vr = MS_VR_NONE;
    if (pf->ts->explicit_vr && pf->size - off >= 8)
        vr = ms_vr_from_chars((char)p[4], (char)p[5]);
    if (vr == MS_VR_NONE) {
        *len_at = 4;
        *len_size = 4;
        return 8;
    }
    if (ms_vr_has_long_length(vr) && pf->size - off >= 12) {
        *len_at = 8;
        *len_size = 4;
        return 12;
    }
    *len_at = 6;
    *len_size = 2;
    return 8;
}

static unsigned header_size(const struct msi_pfile *pf, uint64_t off)
{
    unsigned a, b;
    return msi_pfile_header(pf, off, &a, &b);
}

/* Each top-level element of defined length must end where the next one
 * starts (the last: at the end of the file). The reader tolerates some that
 * do not (an item running past its sequence, a few trailing bytes); spliced
 * with a private block such a file would not read back the same, or at all. */
static ms_status check_tiling(const struct msi_pfile *pf, struct ms_error *err)
{
    for (size_t i = 0; i < pf->ntop; i++) {
        const struct ms_element *el = ms_dataset_at(pf->ds, i);
        uint64_t off = pf->top_off[i], len = ms_element_length(el);
        if (ms_element_undefined_length(el))
            continue;
        if (header_size(pf, off) + len != pf->top_off[i + 1] - off)
            return ms_error_set(err, MS_EUNSUPPORTED,
                                "offset %llu: (%04X,%04X) does not end where the next element "
                                "starts (%s); cannot rewrite the file",
                                (unsigned long long)off, ms_element_tag(el) >> 16,
                                ms_element_tag(el) & 0xFFFFu,
                                i + 1 < pf->ntop ? "lengths disagree" : "bytes after it");
    }
    return MS_OK;
}

/* The first item of defined length (at any depth) that runs past the end of
 * the input, or NULL. The reader cuts such an item at the end of the data
 * (with a warning); bytes spliced after it would be read into it. */
static const struct ms_dataset *item_past_end(const struct ms_dataset *ds, uint64_t size)
{
    for (size_t i = 0; i < ms_dataset_count(ds); i++) {
        const struct ms_element *el = ms_dataset_at(ds, i);
        for (size_t k = 0; k < ms_element_item_count(el); k++) {
            const struct ms_dataset *item = ms_element_item(el, k), *bad;
            if (!item->undef && (item->offset > size || 8 + item->length > size - item->offset))
                return item;
            if ((bad = item_past_end(item, size)) != NULL)
                return bad;
        }
    }
    return NULL;
}

static ms_status check_items(const struct msi_pfile *pf, struct ms_error *err)
{
    const struct ms_dataset *bad = item_past_end(pf->ds, pf->size);
    if (bad)
        return ms_error_set(err, MS_EMALFORMED,
                            "offset %llu: item of %llu bytes runs past the end of the file "
                            "(truncated); cannot rewrite it",
                            (unsigned long long)bad->offset, (unsigned long long)bad->length);
    return MS_OK;
}

static ms_status locate_pixels(struct msi_pfile *pf, struct ms_error *err)
{
    for (size_t i = 0; i < pf->ntop; i++) {
        struct ms_element *el = ms_dataset_at(pf->ds, i);
        uint64_t end;
        if (ms_element_tag(el) != MS_TAG_PIXEL_DATA)
            continue;
        pf->px = el;
        pf->px_index = i;
        if (ms_element_is_encapsulated(el))
            return MS_OK;
        pf->px_value_off = pf->top_off[i] + header_size(pf, pf->top_off[i]);
        pf->px_value_len = ms_element_length(el);
        end = pf->top_off[i + 1];
        if (pf->px_value_off > end || pf->px_value_len > end - pf->px_value_off)
            return ms_error_set(err, MS_EMALFORMED, "offset %llu: Pixel Data length inconsistent",
                                (unsigned long long)pf->top_off[i]);
        return MS_OK;
    }
    return MS_OK;
}

static void trim_value(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\0'))
        s[--n] = '\0';
}

/* Raw value of a top-level element as a trimmed string. */
static bool raw_string(const struct ms_element *el, char *buf, size_t cap)
{
    const uint8_t *v = ms_element_value(el);
    uint64_t len = ms_element_length(el);
    if (!v || len >= cap)
        return false;
    memcpy(buf, v, (size_t)len);
    buf[len] = '\0';
    trim_value(buf);
    return true;
}

/* Our block number in the private group, 0 when absent. */
static unsigned find_creator(const struct ms_dataset *ds)
{
    char buf[80];
    for (unsigned xx = 0x10; xx <= 0xFF; xx++) {
        const struct ms_element *el = ms_dataset_get(ds, MS_TAG(MSI_PB_GROUP, xx));
        if (el && raw_string(el, buf, sizeof buf) && strcmp(buf, MSI_PB_CREATOR) == 0)
            return xx;
    }
    return 0;
}

static size_t top_index(const struct msi_pfile *pf, const struct ms_element *el)
{
    for (size_t i = 0; i < pf->ntop; i++)
        if (ms_dataset_at(pf->ds, i) == el)
            return i;
    return pf->ntop;
}

static void add_block_extent(struct msi_pfile *pf, const struct ms_element *el)
{
    size_t i = top_index(pf, el);
    if (i < pf->ntop && pf->pb.next < 5)
        pf->pb.ext[pf->pb.next++] = msi_pfile_extent(pf, i);
}

static void find_block(struct msi_pfile *pf)
{
    unsigned xx = find_creator(pf->ds);
    const struct ms_element *el;
    char ver[16];

    if (!xx)
        return;
    pf->has_block = true;
    add_block_extent(pf, ms_dataset_get(pf->ds, MS_TAG(MSI_PB_GROUP, xx)));
    for (unsigned k = MSI_PB_SCHEME; k <= MSI_PB_BLOB; k++) {
        el = ms_dataset_get(pf->ds, MS_TAG(MSI_PB_GROUP, (xx << 8) | k));
        if (!el)
            continue;
        add_block_extent(pf, el);
        if (k == MSI_PB_SCHEME)
            raw_string(el, pf->pb.scheme, sizeof pf->pb.scheme);
        else if (k == MSI_PB_VERSION && raw_string(el, ver, sizeof ver))
            pf->pb.version = (unsigned)strtoul(ver, NULL, 10);
        else if (k == MSI_PB_PARAMS)
            raw_string(el, pf->pb.params, sizeof pf->pb.params);
        else if (k == MSI_PB_BLOB) {
            pf->pb.blob = ms_element_value(el);
            pf->pb.blob_len = pf->pb.blob ? ms_element_length(el) : 0;
        }
    }
}

ms_status msi_pfile_open(struct msi_pfile *pf, const char *path, struct ms_error *err)
{
    ms_status st;

    memset(pf, 0, sizeof *pf);
    st = ms_file_read(&pf->file, path, NULL, err);
    if (st != MS_OK)
        return st;
    pf->ds = ms_file_dataset(pf->file);
    pf->ts = ms_file_transfer_syntax(pf->file);
    if (pf->ts->deflated) {
        msi_pfile_close(pf);
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "deflated transfer syntax: the scheme rewrites the file in place and "
                            "cannot splice compressed bytes");
    }
    if ((st = msi_map_file(path, &pf->map, &pf->size, err)) != MS_OK ||
        pf->size != ms_file_input_size(pf->file)) {
        msi_pfile_close(pf);
        return st != MS_OK ? st : ms_error_set(err, MS_EIO, "the input changed while reading it");
    }
    if ((st = find_top_offsets(pf, err)) != MS_OK || (st = check_tiling(pf, err)) != MS_OK ||
        (st = check_items(pf, err)) != MS_OK || (st = locate_pixels(pf, err)) != MS_OK) {
        msi_pfile_close(pf);
        return st;
    }
    find_block(pf);
    return MS_OK;
}

void msi_pfile_done(const struct msi_pfile *pf, uint64_t off, uint64_t len)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t a = (off + page - 1) / page * page, b = (off + len) / page * page;
    if (b > a) /* read-only private mapping: the pages come back from the file if needed */
        madvise((void *)(pf->map + a), (size_t)(b - a), MADV_DONTNEED);
}

void msi_pfile_close(struct msi_pfile *pf)
{
    ms_file_destroy(pf->file);
    msi_unmap_file(pf->map, pf->size);
    free(pf->top_off);
    memset(pf, 0, sizeof *pf);
}

ms_status msi_pfile_need_pixels(struct msi_pfile *pf, bool allow_encap, const char *scheme,
                                struct ms_error *err)
{
    ms_status st;
    if (!pf->px)
        return ms_error_set(err, MS_EUNSUPPORTED, "%s: the file has no Pixel Data", scheme);
    st = ms_pixel_info_get(pf->ds, &pf->pi, err);
    if (st != MS_OK)
        return st;
    pf->has_pi = true;
    if (pf->pi.encapsulated && !allow_encap)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "%s works on native pixel values; this Pixel Data is encapsulated "
                            "(compressed): use pixel-gcm or cbc-slices",
                            scheme);
    return MS_OK;
}

ms_status msi_pfile_open_for(struct msi_pfile *pf, const char *path, const char *scheme,
                             bool protect, uint64_t blob_min, bool allow_encap,
                             struct ms_error *err)
{
    ms_status st = msi_pfile_open(pf, path, err);
    if (st != MS_OK)
        return st;
    st = protect ? msi_pfile_refuse_protected(pf, err)
                 : msi_pfile_need_block(pf, scheme, blob_min, err);
    if (st == MS_OK)
        st = msi_pfile_need_pixels(pf, allow_encap, scheme, err);
    return st;
}

struct msi_extent msi_pfile_extent(const struct msi_pfile *pf, size_t i)
{
    struct msi_extent e = {pf->top_off[i], pf->top_off[i + 1] - pf->top_off[i]};
    return e;
}

uint64_t msi_pfile_insert_point(const struct msi_pfile *pf, uint32_t tag)
{
    for (size_t i = 0; i < pf->ntop; i++)
        if (ms_element_tag(ms_dataset_at(pf->ds, i)) > tag)
            return pf->top_off[i];
    return pf->size;
}

ms_status msi_pfile_refuse_protected(const struct msi_pfile *pf, struct ms_error *err)
{
    if (pf->has_block)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "the file is already protected (scheme '%s'); unprotect it first",
                            pf->pb.scheme);
    return MS_OK;
}

ms_status msi_pfile_need_block(const struct msi_pfile *pf, const char *scheme,
                               uint64_t blob_min, struct ms_error *err)
{
    if (!pf->has_block || strcmp(pf->pb.scheme, scheme) != 0)
        return ms_error_set(err, MS_EUNSUPPORTED, "not a file protected by %s", scheme);
    if (pf->pb.version != 1)
        return ms_error_set(err, MS_EUNSUPPORTED, "%s format version %u is not supported", scheme,
                            pf->pb.version);
    if (!pf->pb.blob || pf->pb.blob_len < blob_min)
        return ms_error_set(err, MS_EMALFORMED, "%s parameters are truncated (%llu bytes)", scheme,
                            (unsigned long long)pf->pb.blob_len);
    return MS_OK;
}

/* ---- output ------------------------------------------------------------------------------ */

static int wr_sink(void *ctx, const void *data, size_t len)
{
    struct msi_wr *w = ctx;
    return msi_fd_sink(&w->fd, data, len);
}

ms_status msi_wr_open(struct msi_wr *w, const char *path, struct ms_error *err)
{
    ms_status st;
    memset(w, 0, offsetof(struct msi_wr, out));
    w->fd = -1;
    w->path = path;
    st = msi_atomic_open(path, w->tmp, sizeof w->tmp, &w->fd, err);
    if (st != MS_OK)
        return st;
    msi_out_init(&w->out, wr_sink, w);
    return MS_OK;
}

void msi_wr_put(struct msi_wr *w, const void *data, size_t len)
{
    if (len == 0)
        return;
    if (w->hash && ms_hash_update(w->hash, data, len, NULL) != MS_OK)
        w->out.failed = true;
    msi_out_put(&w->out, data, len);
    w->pos += len;
}

ms_status msi_wr_patch(struct msi_wr *w, uint64_t at, const void *data, size_t len,
                       struct ms_error *err)
{
    const uint8_t *p = data;
    if (!msi_out_flush(&w->out))
        return ms_error_set(err, MS_EIO, "cannot write %s", w->path);
    while (len > 0) {
        ssize_t n = pwrite(w->fd, p, len, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ms_error_set(err, MS_EIO, "cannot write %s: %s", w->path, strerror(errno));
        p += n;
        at += (uint64_t)n;
        len -= (size_t)n;
    }
    return MS_OK;
}

ms_status msi_wr_close(struct msi_wr *w, bool ok, struct ms_error *err)
{
    ms_status st = MS_OK;
    if (w->fd < 0)
        return MS_OK;
    if (ok && !msi_out_flush(&w->out)) {
        ok = false;
        st = ms_error_set(err, MS_EIO, "cannot write %s: %s", w->path, strerror(errno));
    }
    {
        ms_status cst = msi_atomic_close(w->fd, w->tmp, w->path, ok, err);
        if (st == MS_OK)
            st = cst;
    }
    w->fd = -1;
    return st;
}

ms_status msi_wr_finish(struct msi_wr *w, ms_status st, struct ms_error *err)
{
    ms_status cst = msi_wr_close(w, st == MS_OK, err);
    return st == MS_OK ? cst : st;
}

/* The content check of a pass: the tag over the header digest and the
 * pixel bytes hashed in h. */
static ms_status check_content(struct ms_hash *h, const struct msi_check *c, struct ms_error *err)
{
    uint8_t pd[MS_SHA256_LEN], tag[32];
    ms_status st = ms_hash_final(h, pd, err);
    if (st == MS_OK)
        st = msi_content_tag(c->mac, c->label, c->hdr, pd, tag, err);
    if (st == MS_OK && !ms_crypto_equal(tag, c->expect, 32))
        st = ms_error_set(err, MS_EKEY,
                          "authentication failed: the header or the pixel data changed "
                          "after protection");
    return st;
}

ms_status msi_write_pass(const struct msi_pfile *pf, const char *out, msi_pass_fn pass,
                         void *ctx, const struct msi_check *check,
                         struct ms_protect_report *rep, struct ms_error *err)
{
    struct msi_wr *w = malloc(sizeof *w);
    struct ms_hash *h = NULL;
    ms_status st;

    if (!w)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    st = msi_wr_open(w, out, err);
    if (st != MS_OK) {
        free(w);
        return st;
    }
    if (check)
        st = ms_hash_create(&h, MS_HASH_SHA256, err);
    if (st == MS_OK)
        st = pass(ctx, w, h, err);
    if (st == MS_OK && check)
        st = check_content(h, check, err);
    ms_hash_destroy(h);
    rep->bytes_in = pf->size;
    rep->bytes_out = w->pos;
    st = msi_wr_finish(w, st, err);
    free(w);
    return st;
}

static int cmp_edit(const void *a, const void *b)
{
    const struct msi_edit *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

void msi_edits_sort(struct msi_edit *edits, size_t n)
{
    qsort(edits, n, sizeof *edits, cmp_edit);
}

ms_status msi_copy_range(struct msi_wr *w, const struct msi_pfile *pf, uint64_t from,
                         uint64_t to, struct msi_edit *edits, size_t nedits,
                         struct ms_hash *hash, struct ms_error *err)
{
    uint64_t pos = from;
    for (size_t i = 0; i < nedits; i++) {
        struct msi_edit *e = &edits[i];
        bool mine = (e->off >= from && e->off < to) ||
                    (e->off == to && to == pf->size && e->del == 0);
        if (!mine)
            continue;
        if (e->off < pos || e->del > to - e->off)
            return ms_error_set(err, MS_EINTERNAL, "overlapping edits");
        msi_wr_put(w, pf->map + pos, (size_t)(e->off - pos));
        if (hash && ms_hash_update(hash, pf->map + pos, (size_t)(e->off - pos), err) != MS_OK)
            return err ? err->code : MS_EINTERNAL;
        e->out_at = w->pos;
        msi_wr_put(w, e->ins, e->ins_len);
        pos = e->off + e->del;
    }
    msi_wr_put(w, pf->map + pos, (size_t)(to - pos));
    if (hash && ms_hash_update(hash, pf->map + pos, (size_t)(to - pos), err) != MS_OK)
        return err ? err->code : MS_EINTERNAL;
    return w->out.failed ? ms_error_set(err, MS_EIO, "cannot write %s", w->path) : MS_OK;
}

size_t msi_pblock_removal(const struct msi_pfile *pf, struct msi_edit *edits)
{
    for (size_t i = 0; i < pf->pb.next; i++) {
        edits[i].off = pf->pb.ext[i].off;
        edits[i].del = pf->pb.ext[i].len;
        edits[i].ins = NULL;
        edits[i].ins_len = 0;
    }
    return pf->pb.next;
}

size_t msi_pblock_insertion(const struct msi_pblock_out *pb, struct msi_edit *edits)
{
    edits[0] = (struct msi_edit){pb->creator_at, 0, pb->bytes, pb->creator_len, 0};
    edits[1] = (struct msi_edit){pb->data_at, 0, pb->bytes + pb->creator_len,
                                 pb->len - pb->creator_len, 0};
    return 2;
}

/* ---- digests and keys -------------------------------------------------------------------------- */

static ms_status hash_skipping(struct ms_hash *h, const struct msi_pfile *pf, uint64_t from,
                               uint64_t to, const struct msi_edit *skip, size_t nskip,
                               struct ms_error *err)
{
    uint64_t pos = from;
    for (size_t i = 0; i < nskip; i++) {
        if (skip[i].off < from || skip[i].off >= to)
            continue;
        if (ms_hash_update(h, pf->map + pos, (size_t)(skip[i].off - pos), err) != MS_OK)
            return err ? err->code : MS_EINTERNAL;
        pos = skip[i].off + skip[i].del;
    }
    if (pos < to && ms_hash_update(h, pf->map + pos, (size_t)(to - pos), err) != MS_OK)
        return err ? err->code : MS_EINTERNAL;
    return MS_OK;
}

/* Ranges of the Pixel Data payload: one native value, or every fragment but
 * the Basic Offset Table. Returns how many were written to r (cap of them). */
static size_t payload_ranges(const struct msi_pfile *pf, struct msi_edit *r, size_t cap)
{
    size_t n = 0;
    if (!pf->px)
        return 0;
    if (!ms_element_is_encapsulated(pf->px)) {
        if (cap)
            r[n++] = (struct msi_edit){pf->px_value_off, pf->px_value_len, NULL, 0, 0};
        return n;
    }
    for (size_t i = 1; i < pf->px->nfrags && n < cap; i++)
        r[n++] = (struct msi_edit){pf->px->frags[i].offset + 8, pf->px->frags[i].len, NULL, 0, 0};
    return n;
}

ms_status msi_header_digest(const struct msi_pfile *pf, const struct msi_edit *skip, size_t nskip,
                            uint8_t out[MS_SHA256_LEN], struct ms_error *err)
{
    size_t cap = nskip + (pf->px ? pf->px->nfrags + 1 : 1);
    struct msi_edit *all = calloc(cap, sizeof *all);
    struct ms_hash *h = NULL;
    size_t n;
    ms_status st;

    if (!all)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if (nskip)
        memcpy(all, skip, nskip * sizeof *skip);
    n = nskip + payload_ranges(pf, all + nskip, cap - nskip);
    msi_edits_sort(all, n);
    st = ms_hash_create(&h, MS_HASH_SHA256, err);
    if (st == MS_OK)
        st = hash_skipping(h, pf, 0, pf->size, all, n, err);
    if (st == MS_OK)
        st = ms_hash_final(h, out, err);
    ms_hash_destroy(h);
    free(all);
    return st;
}

ms_status msi_load_key(const struct ms_protect_options *opt, const char *scheme,
                       uint8_t key[MS_AES256_KEY_LEN], struct ms_error *err)
{
    ms_status st;
    if (!opt->key_file || !*opt->key_file)
        return ms_error_set(err, MS_EUSAGE, "%s needs a key: -k KEYFILE", scheme);
    st = ms_keyfile_read(opt->key_file, key, NULL, err);
    if (st != MS_OK)
        ms_error_prefix(err, "key file");
    return st;
}

ms_status msi_subkey(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                     const char *label, uint8_t out[MS_AES256_KEY_LEN], struct ms_error *err)
{
    char info[96];
    int n = snprintf(info, sizeof info, "medseal %s", label);
    return ms_hkdf_sha256(ikm, ikm_len, salt, salt_len, info, (size_t)n, out, MS_AES256_KEY_LEN,
                          err);
}

ms_status msi_content_tag(const uint8_t mac_key[MS_AES256_KEY_LEN], const char *label,
                          const uint8_t header_digest[MS_SHA256_LEN],
                          const uint8_t pixel_digest[MS_SHA256_LEN], uint8_t tag[32],
                          struct ms_error *err)
{
    uint8_t msg[64 + 2 * MS_SHA256_LEN];
    size_t n = strlen(label);
    ms_status st;
    if (n > 64)
        n = 64;
    memcpy(msg, label, n);
    memcpy(msg + n, header_digest, MS_SHA256_LEN);
    memcpy(msg + n + MS_SHA256_LEN, pixel_digest, MS_SHA256_LEN);
    st = ms_hmac_sha256(mac_key, MS_AES256_KEY_LEN, msg, n + 2 * MS_SHA256_LEN, tag, err);
    return st;
}
