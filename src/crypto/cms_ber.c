/* Streaming BER for the `cms` scheme: a buffered pull reader, headers with
 * definite and indefinite lengths checked against the enclosing elements,
 * capture of small elements, a reader of (segmented) OCTET STRING content,
 * and the DER splicing that turns OpenSSL's encoding of a detached envelope
 * into the prefix and suffix of a streamed one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "crypto/cms_internal.h"

/* ---- buffer ------------------------------------------------------------------- */

bool msi_buf_put(struct msi_buf *b, const void *data, size_t n)
{
    if (n == 0)
        return true;
    if (n > SIZE_MAX / 2 - b->len)
        return false;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = malloc(cap);
        if (!p)
            return false;
        if (b->len)
            memcpy(p, b->p, b->len);
        if (b->p) {
            OPENSSL_cleanse(b->p, b->cap);
            free(b->p);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return true;
}

void msi_buf_free(struct msi_buf *b, bool wipe)
{
    if (b->p && wipe)
        OPENSSL_cleanse(b->p, b->cap);
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

size_t msi_der_hdr(uint8_t out[10], uint8_t tag, uint64_t len)
{
    out[0] = tag;
    if (len < 0x80) {
        out[1] = (uint8_t)len;
        return 2;
    }
    size_t k = 0;
    for (uint64_t v = len; v; v >>= 8)
        k++;
    out[1] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        out[2 + i] = (uint8_t)(len >> (8 * (k - 1 - i)));
    return 2 + k;
}

bool msi_buf_der_hdr(struct msi_buf *b, uint8_t tag, uint64_t len)
{
    uint8_t h[10];
    return msi_buf_put(b, h, msi_der_hdr(h, tag, len));
}

/* ---- pull reader ---------------------------------------------------------------- */

static const uint8_t no_bytes[1]; /* buf of an empty mapping: never NULL + 0 */

ms_status msi_rd_init(struct msi_rd *r, msi_fill_fn fill, void *ctx, size_t cap,
                      struct ms_error *err)
{
    memset(r, 0, sizeof *r);
    r->fill = fill;
    r->ctx = ctx;
    r->cap = cap;
    r->fd = -1;
    r->buf = malloc(cap);
    if (!r->buf)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    return MS_OK;
}

ms_status msi_rd_init_fd(struct msi_rd *r, int fd, size_t cap, struct ms_error *err)
{
    struct stat sb;
    off_t at = lseek(fd, 0, SEEK_CUR);
    ms_status st;

    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && at >= 0 && at <= sb.st_size) {
        memset(r, 0, sizeof *r);
        r->fd = fd;
        r->mapped = true;
        r->map_base = (uint64_t)at;
        r->map_end = (uint64_t)sb.st_size;
        r->buf = (uint8_t *)no_bytes;
        r->eof = r->map_base == r->map_end;
        return MS_OK;
    }
    if ((st = msi_rd_init(r, msi_fd_fill, NULL, cap, err)) != MS_OK)
        return st;
    r->fd = fd;
    r->ctx = &r->fd;
    return MS_OK;
}

void msi_rd_free(struct msi_rd *r)
{
    if (r->mapped) {
        if (r->len)
            munmap(r->buf, r->len);
    } else if (r->buf) {
        OPENSSL_cleanse(r->buf, r->filled); /* only what was ever in it */
        free(r->buf);
    }
    r->buf = NULL;
    r->len = r->pos = 0;
}

uint64_t msi_rd_remaining(const struct msi_rd *r)
{
    return r->mapped ? r->map_end - (r->map_base + r->pos) : UINT64_MAX;
}

/* Mapping mode: map the window that starts at the page of the current byte. */
static ms_status remap(struct msi_rd *r, struct ms_error *err)
{
    static long page;
    uint64_t at = r->map_base + r->pos, base;
    size_t len;
    void *p;

    if (!page)
        page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
    base = at - at % (uint64_t)page;
    len = r->map_end - base < MSI_CMS_MAP_WINDOW ? (size_t)(r->map_end - base)
                                                  : MSI_CMS_MAP_WINDOW;
    if (r->len)
        munmap(r->buf, r->len);
    r->buf = (uint8_t *)no_bytes;
    r->len = r->pos = 0;
    /* populated at once: one call instead of a page fault every few pages */
    p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, r->fd, (off_t)base);
    if (p == MAP_FAILED)
        return ms_error_set(err, MS_EIO, "cannot map the input: %s", strerror(errno));
    r->buf = p;
    r->len = len;
    r->pos = (size_t)(at - base);
    r->map_base = base;
    r->eof = base + len == r->map_end;
    return MS_OK;
}

ms_status msi_rd_want(struct msi_rd *r, size_t n, struct ms_error *err)
{
    if (msi_rd_avail(r) >= n || r->eof)
        return MS_OK;
    if (r->mapped)
        return remap(r, err);
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    while (r->len < n && !r->eof) {
        size_t got = 0;
        ms_status st = r->fill(r->ctx, r->buf + r->len, r->cap - r->len, &got, err);
        if (st != MS_OK)
            return st;
        if (got == 0)
            r->eof = true;
        r->len += got;
        if (r->len > r->filled)
            r->filled = r->len;
    }
    return MS_OK;
}

static void rd_consume(struct msi_rd *r, size_t n)
{
    msi_rd_skip(r, n);
}

ms_status msi_fd_fill(void *ctx, uint8_t *dst, size_t cap, size_t *got, struct ms_error *err)
{
    int fd = *(const int *)ctx;
    for (;;) {
        ssize_t n = read(fd, dst, cap);
        if (n >= 0) {
            *got = (size_t)n;
            return MS_OK;
        }
        if (errno != EINTR)
            return ms_error_set(err, MS_EIO, "cannot read the input: %s", strerror(errno));
    }
}

/* ---- BER headers and elements ------------------------------------------------------ */

static ms_status truncated(struct ms_error *err)
{
    return ms_error_set(err, MS_EMALFORMED, "truncated input (the CMS structure ends early)");
}

void msi_ber_init(struct msi_ber *b, struct msi_rd *rd)
{
    memset(b, 0, sizeof *b);
    b->rd = rd;
    b->limit = UINT64_MAX;
}

static void recompute_limit(struct msi_ber *b)
{
    b->limit = UINT64_MAX;
    for (int i = 0; i < b->depth; i++)
        if (!b->stk[i].indef && b->stk[i].end < b->limit)
            b->limit = b->stk[i].end;
}

static ms_status parse_tag(const uint8_t *p, size_t avail, struct msi_tlv *h, size_t *used,
                           struct ms_error *err)
{
    h->first = p[0];
    h->cons = (p[0] & 0x20) != 0;
    h->num = p[0] & 0x1f;
    *used = 1;
    if (h->num != 0x1f)
        return MS_OK;
    h->num = 0;
    for (size_t i = 1;; i++) {
        if (i >= avail)
            return truncated(err);
        if (i > 4)
            return ms_error_set(err, MS_EMALFORMED, "BER tag number too large");
        h->num = (h->num << 7) | (p[i] & 0x7f);
        if (!(p[i] & 0x80)) {
            *used = i + 1;
            return MS_OK;
        }
    }
}

static ms_status parse_len(const uint8_t *p, size_t avail, struct msi_tlv *h, size_t *used,
                           struct ms_error *err)
{
    if (avail < 1)
        return truncated(err);
    *used = 1;
    h->indef = false;
    if (p[0] < 0x80) {
        h->len = p[0];
        return MS_OK;
    }
    if (p[0] == 0x80) {
        if (!h->cons)
            return ms_error_set(err, MS_EMALFORMED, "indefinite length on a primitive element");
        h->indef = true;
        h->len = 0;
        return MS_OK;
    }
    size_t k = p[0] & 0x7f;
    if (k > 8)
        return ms_error_set(err, MS_EMALFORMED, "BER length of %zu octets", k);
    if (avail < 1 + k)
        return truncated(err);
    h->len = 0;
    for (size_t i = 0; i < k; i++)
        h->len = (h->len << 8) | p[1 + i];
    *used = 1 + k;
    return MS_OK;
}

ms_status msi_ber_hdr(struct msi_ber *b, struct msi_tlv *h, struct ms_error *err)
{
    struct msi_rd *r = b->rd;
    size_t tag_used, len_used;
    ms_status st = msi_rd_want(r, sizeof h->raw, err);

    if (st != MS_OK)
        return st;
    size_t avail = msi_rd_avail(r);
    if (avail == 0)
        return truncated(err);
    const uint8_t *p = r->buf + r->pos;
    if ((st = parse_tag(p, avail, h, &tag_used, err)) != MS_OK)
        return st;
    if ((st = parse_len(p + tag_used, avail - tag_used, h, &len_used, err)) != MS_OK)
        return st;
    h->rawlen = tag_used + len_used;
    memcpy(h->raw, p, h->rawlen);
    rd_consume(r, h->rawlen);
    if (h->first == 0 && (h->len != 0 || h->indef))
        return ms_error_set(err, MS_EMALFORMED, "malformed end-of-contents");
    if (r->off > b->limit || (!h->indef && h->len > b->limit - r->off))
        return ms_error_set(err, MS_EMALFORMED, "BER length exceeds the enclosing element");
    return MS_OK;
}

ms_status msi_ber_expect(struct msi_ber *b, uint8_t first, struct msi_tlv *h, const char *what,
                         struct ms_error *err)
{
    ms_status st = msi_ber_hdr(b, h, err);
    if (st != MS_OK)
        return st;
    if (h->first != first)
        return ms_error_set(err, MS_EMALFORMED, "expected %s (BER tag 0x%02x, found 0x%02x)",
                            what, first, h->first);
    return MS_OK;
}

ms_status msi_ber_peek(struct msi_ber *b, int *first, struct ms_error *err)
{
    struct msi_rd *r = b->rd;
    *first = -1;
    if (b->depth > 0 && !b->stk[b->depth - 1].indef && r->off >= b->stk[b->depth - 1].end)
        return MS_OK;
    ms_status st = msi_rd_want(r, 2, err);
    if (st != MS_OK)
        return st;
    size_t avail = msi_rd_avail(r);
    if (avail == 0)
        return MS_OK;
    const uint8_t *p = r->buf + r->pos;
    if (b->depth > 0 && b->stk[b->depth - 1].indef && avail >= 2 && p[0] == 0 && p[1] == 0)
        return MS_OK;
    *first = p[0];
    return MS_OK;
}

ms_status msi_ber_enter(struct msi_ber *b, const struct msi_tlv *h, struct ms_error *err)
{
    if (!h->cons)
        return ms_error_set(err, MS_EMALFORMED, "expected a constructed element");
    if (b->depth >= MSI_CMS_BER_DEPTH)
        return ms_error_set(err, MS_ELIMIT, "BER nesting deeper than %d", MSI_CMS_BER_DEPTH);
    b->stk[b->depth].indef = h->indef;
    b->stk[b->depth].end = h->indef ? UINT64_MAX : b->rd->off + h->len;
    b->depth++;
    recompute_limit(b);
    return MS_OK;
}

ms_status msi_ber_leave(struct msi_ber *b, struct ms_error *err)
{
    struct msi_rd *r = b->rd;
    if (b->depth == 0)
        return ms_error_set(err, MS_EINTERNAL, "BER leave at top level");
    if (b->stk[b->depth - 1].indef) {
        ms_status st = msi_rd_want(r, 2, err);
        if (st != MS_OK)
            return st;
        if (msi_rd_avail(r) < 2)
            return truncated(err);
        if (r->buf[r->pos] != 0 || r->buf[r->pos + 1] != 0)
            return ms_error_set(err, MS_EMALFORMED, "unexpected element at the end of a BER "
                                                    "structure");
        rd_consume(r, 2);
    } else if (r->off != b->stk[b->depth - 1].end) {
        return ms_error_set(err, MS_EMALFORMED, "unexpected element at the end of a BER "
                                                "structure");
    }
    b->depth--;
    recompute_limit(b);
    return MS_OK;
}

static ms_status cap_put(struct msi_buf *out, size_t *count, size_t max, const void *p, size_t n,
                         struct ms_error *err)
{
    if (n > max - *count)
        return ms_error_set(err, MS_ELIMIT, "a CMS element is larger than %zu bytes", max);
    *count += n;
    if (out && !msi_buf_put(out, p, n))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    return MS_OK;
}

static ms_status capture_rec(struct msi_ber *b, const struct msi_tlv *h, size_t max,
                             struct msi_buf *out, size_t *count, int depth, struct ms_error *err)
{
    struct msi_rd *r = b->rd;
    ms_status st = cap_put(out, count, max, h->raw, h->rawlen, err);

    if (st != MS_OK)
        return st;
    if (!h->indef) {
        if (h->len > max - *count)
            return ms_error_set(err, MS_ELIMIT, "a CMS element is larger than %zu bytes", max);
        for (uint64_t left = h->len; left > 0;) {
            if ((st = msi_rd_want(r, 1, err)) != MS_OK)
                return st;
            size_t k = msi_rd_avail(r);
            if (k == 0)
                return truncated(err);
            if (k > left)
                k = (size_t)left;
            if ((st = cap_put(out, count, max, r->buf + r->pos, k, err)) != MS_OK)
                return st;
            rd_consume(r, k);
            left -= k;
        }
        return MS_OK;
    }
    if (depth >= MSI_CMS_BER_DEPTH)
        return ms_error_set(err, MS_ELIMIT, "BER nesting deeper than %d", MSI_CMS_BER_DEPTH);
    for (;;) {
        struct msi_tlv c;
        if ((st = msi_ber_hdr(b, &c, err)) != MS_OK)
            return st;
        if (c.first == 0)
            return cap_put(out, count, max, c.raw, c.rawlen, err);
        if ((st = capture_rec(b, &c, max, out, count, depth + 1, err)) != MS_OK)
            return st;
    }
}

ms_status msi_ber_capture(struct msi_ber *b, const struct msi_tlv *h, size_t max,
                          struct msi_buf *out, struct ms_error *err)
{
    size_t count = 0;
    if (h->first == 0)
        return ms_error_set(err, MS_EMALFORMED, "unexpected end-of-contents");
    return capture_rec(b, h, max, out, &count, b->depth, err);
}

ms_status msi_ber_take(struct msi_ber *b, uint8_t first, size_t max, struct msi_buf *out,
                       const char *what, struct ms_error *err)
{
    struct msi_tlv h;
    ms_status st = msi_ber_expect(b, first, &h, what, err);
    if (st != MS_OK)
        return st;
    return msi_ber_capture(b, &h, max, out, err);
}

/* ---- OCTET STRING content ------------------------------------------------------------ */

ms_status msi_octets_open(struct msi_octets *o, struct msi_ber *b, const struct msi_tlv *h,
                          struct ms_error *err)
{
    memset(o, 0, sizeof *o);
    o->b = b;
    o->base_depth = b->depth;
    if (!h->cons) {
        o->primitive = true;
        o->seg_left = h->len;
        return MS_OK;
    }
    return msi_ber_enter(b, h, err);
}

static ms_status octets_step(struct msi_octets *o, struct ms_error *err)
{
    struct msi_ber *b = o->b;
    struct msi_tlv c;
    int first;
    ms_status st = msi_ber_peek(b, &first, err);

    if (st != MS_OK)
        return st;
    if (first < 0) {
        if ((st = msi_ber_leave(b, err)) != MS_OK)
            return st;
        if (b->depth == o->base_depth)
            o->done = true;
        return MS_OK;
    }
    if ((st = msi_ber_hdr(b, &c, err)) != MS_OK)
        return st;
    if (c.first == 0x04) {
        o->seg_left = c.len;
        return MS_OK;
    }
    if (c.first == 0x24)
        return msi_ber_enter(b, &c, err);
    return ms_error_set(err, MS_EMALFORMED, "unexpected element (tag 0x%02x) inside a "
                                            "constructed OCTET STRING", c.first);
}

ms_status msi_octets_next(struct msi_octets *o, const uint8_t **p, size_t *n,
                          struct ms_error *err)
{
    struct msi_rd *r = o->b->rd;
    ms_status st;

    *n = 0;
    while (!o->done) {
        if (o->seg_left > 0) {
            if ((st = msi_rd_want(r, 1, err)) != MS_OK)
                return st;
            size_t k = msi_rd_avail(r);
            if (k == 0)
                return truncated(err);
            if (k > o->seg_left)
                k = (size_t)o->seg_left;
            *p = r->buf + r->pos;
            *n = k;
            rd_consume(r, k);
            o->seg_left -= k;
            return MS_OK;
        }
        if (o->primitive) {
            o->done = true;
            break;
        }
        if ((st = octets_step(o, err)) != MS_OK)
            return st;
    }
    return MS_OK;
}

/* ---- DER (definite) helpers --------------------------------------------------------- */

bool msi_der_tlv(const uint8_t *p, size_t len, uint8_t *tag, size_t *hdr, size_t *clen)
{
    if (len < 2 || (p[0] & 0x1f) == 0x1f)
        return false;
    *tag = p[0];
    if (p[1] < 0x80) {
        *hdr = 2;
        *clen = p[1];
    } else {
        size_t k = p[1] & 0x7f;
        if (k == 0 || k > sizeof(size_t) || len < 2 + k)
            return false;
        size_t v = 0;
        for (size_t i = 0; i < k; i++)
            v = (v << 8) | p[2 + i];
        *hdr = 2 + k;
        *clen = v;
    }
    return *clen <= len - *hdr;
}

int msi_der_find_child(const uint8_t *p, size_t len, uint8_t tag)
{
    uint8_t t;
    size_t hdr, clen;
    if (!msi_der_tlv(p, len, &t, &hdr, &clen))
        return -1;
    const uint8_t *c = p + hdr;
    size_t left = clen;
    for (int i = 0; left > 0; i++) {
        size_t ch, cl;
        if (!msi_der_tlv(c, left, &t, &ch, &cl))
            return -1;
        if (t == tag)
            return i;
        c += ch + cl;
        left -= ch + cl;
    }
    return -1;
}

static const uint8_t eoc[2] = {0, 0};

static ms_status splice_rec(const uint8_t *p, size_t len, const int *path, int npath,
                            struct msi_buf *prefix, struct msi_buf *suffix, struct ms_error *err)
{
    uint8_t tag;
    size_t hdr, clen;
    if (!msi_der_tlv(p, len, &tag, &hdr, &clen) || !(tag & 0x20))
        return ms_error_set(err, MS_EINTERNAL, "unexpected DER from OpenSSL");
    uint8_t open[2] = {tag, 0x80};
    if (!msi_buf_put(prefix, open, 2))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    const uint8_t *c = p + hdr;
    size_t left = clen;
    int want = npath > 0 ? path[0] : -1;
    for (int i = 0; npath > 0 && i < want; i++) {
        size_t ch, cl;
        if (!msi_der_tlv(c, left, &tag, &ch, &cl))
            return ms_error_set(err, MS_EINTERNAL, "unexpected DER from OpenSSL");
        c += ch + cl;
        left -= ch + cl;
    }
    if (npath == 0) {
        if (!msi_buf_put(prefix, c, left) || !msi_buf_put(suffix, eoc, 2))
            return ms_error_set(err, MS_ENOMEM, "out of memory");
        return MS_OK;
    }
    if (!msi_buf_put(prefix, p + hdr, (size_t)(c - (p + hdr))))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    size_t ch, cl;
    if (!msi_der_tlv(c, left, &tag, &ch, &cl))
        return ms_error_set(err, MS_EINTERNAL, "unexpected DER from OpenSSL");
    ms_status st = splice_rec(c, ch + cl, path + 1, npath - 1, prefix, suffix, err);
    if (st != MS_OK)
        return st;
    c += ch + cl;
    left -= ch + cl;
    if (!msi_buf_put(suffix, c, left) || !msi_buf_put(suffix, eoc, 2))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    return MS_OK;
}

ms_status msi_der_splice(const uint8_t *der, size_t len, const int *path, int npath,
                         struct msi_buf *prefix, struct msi_buf *suffix, struct ms_error *err)
{
    return splice_rec(der, len, path, npath, prefix, suffix, err);
}
