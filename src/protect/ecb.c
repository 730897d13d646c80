/* ecb: AES-256-ECB of the native Pixel Data value, for the analysis bench
 * only (docs/protect-analysis.md shows what it leaks: equal 16-byte blocks
 * stay equal, so the anatomy shows through). protect refuses it unless
 * forced (--i-know). The -k key is used as it is, so `openssl enc
 * -aes-256-ecb -nopad` gives the same cipher bytes; a value whose length is
 * not a multiple of 16 ends in ciphertext stealing. An HMAC-SHA256 (key from
 * HKDF) over the header and the original pixels lets unprotect refuse a
 * wrong key or a changed file. */
#include <stdlib.h>
#include <string.h>

#include "protect/protect_internal.h"

#define SCHEME "ecb"
#define BLOB_LEN 64u
#define CHUNK (1u << 20)

struct job {
    struct msi_pfile pf;
    uint8_t key[32];
    uint8_t mac[32];
    uint8_t hdr[32];
    uint8_t *buf;
    struct msi_edit *edits; /* of the output pass */
    size_t ne;
    ms_cipher_dir dir;
};

/* Last 16 + r bytes (r = len % 16 > 0): ciphertext stealing. */
static ms_status cts(const uint8_t key[32], ms_cipher_dir dir, uint8_t *p, size_t r,
                     struct ms_error *err)
{
    uint8_t blk[16], last[16];
    ms_status st;
    if (dir == MS_ENCRYPT) {
        st = ms_ecb_crypt(MS_ENCRYPT, key, p, 16, blk, err); /* E(Pa) = Cb' || X */
        memcpy(last, p + 16, r);
        memcpy(last + r, blk + r, 16 - r);
        if (st == MS_OK)
            st = ms_ecb_crypt(MS_ENCRYPT, key, last, 16, p, err); /* Ca' = E(Pb || X) */
        memcpy(p + 16, blk, r);
    } else {
        st = ms_ecb_crypt(MS_DECRYPT, key, p, 16, blk, err); /* D(Ca') = Pb || X */
        memcpy(last, p + 16, r);
        memcpy(last + r, blk + r, 16 - r);                   /* E(Pa) = Cb' || X */
        if (st == MS_OK)
            st = ms_ecb_crypt(MS_DECRYPT, key, last, 16, p, err);
        memcpy(p + 16, blk, r);
    }
    ms_crypto_wipe(blk, sizeof blk);
    ms_crypto_wipe(last, sizeof last);
    return st;
}

/* The value through ECB in chunks; the last 16 + r bytes together. */
static ms_status crypt_value(struct job *j, struct msi_wr *w, ms_cipher_dir dir,
                             struct ms_hash *h, struct ms_error *err)
{
    uint64_t len = j->pf.px_value_len, r = len % 16, body = r ? len - 16 - r : len, at = 0;
    const uint8_t *src = j->pf.map + j->pf.px_value_off;
    ms_status st = MS_OK;

    while (st == MS_OK && at < len) {
        size_t n = (size_t)(body - at > CHUNK ? CHUNK : body - at);
        if (at == body)
            n = (size_t)(len - body);
        memcpy(j->buf, src + at, n);
        if (at < body)
            st = ms_ecb_crypt(dir, j->key, j->buf, n, j->buf, err);
        else if (r)
            st = cts(j->key, dir, j->buf, (size_t)r, err);
        if (st == MS_OK && h)
            st = ms_hash_update(h, j->buf, n, err);
        msi_wr_put(w, j->buf, n);
        msi_pfile_done(&j->pf, j->pf.px_value_off + at, n);
        at += n;
    }
    return st;
}

/* Copy the input with the edits, the Pixel Data value through ECB. */
static ms_status pass(void *ctx, struct msi_wr *w, struct ms_hash *pixels, struct ms_error *err)
{
    struct job *j = ctx;
    uint64_t end = j->pf.px_value_off + j->pf.px_value_len;
    ms_status st = msi_copy_range(w, &j->pf, 0, j->pf.px_value_off, j->edits, j->ne, NULL, err);
    if (st == MS_OK)
        st = crypt_value(j, w, j->dir, pixels, err);
    if (st == MS_OK)
        st = msi_copy_range(w, &j->pf, end, j->pf.size, j->edits, j->ne, NULL, err);
    return st;
}

/* Write out with edits; unprotect (expect_tag set) keeps it only when the
 * content tag matches. */
static ms_status write_job(struct job *j, const char *out, struct msi_edit *edits, size_t ne,
                           ms_cipher_dir dir, const uint8_t *expect_tag,
                           struct ms_protect_report *rep, struct ms_error *err)
{
    struct msi_check check = {j->mac, "medseal ecb v1", j->hdr, expect_tag};
    ms_status st;

    j->buf = malloc(CHUNK + 32);
    if (!j->buf)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    j->edits = edits;
    j->ne = ne;
    j->dir = dir;
    st = msi_write_pass(&j->pf, out, pass, j, expect_tag ? &check : NULL, rep, err);
    ms_crypto_wipe(j->buf, CHUNK + 32);
    free(j->buf);
    j->buf = NULL;
    return st;
}

static ms_status open_job(struct job *j, const char *in, const struct ms_protect_options *opt,
                          bool protect, struct ms_error *err)
{
    ms_status st = msi_pfile_open_for(&j->pf, in, SCHEME, protect, BLOB_LEN, false, err);
    if (st == MS_OK && j->pf.px_value_len < 16)
        st = ms_error_set(err, MS_EUNSUPPORTED, "ecb: Pixel Data shorter than one AES block");
    if (st == MS_OK)
        st = msi_load_key(opt, SCHEME, j->key, err);
    return st;
}

static void close_job(struct job *j)
{
    ms_crypto_wipe(j->key, sizeof j->key);
    ms_crypto_wipe(j->mac, sizeof j->mac);
    msi_pfile_close(&j->pf);
}

static ms_status ecb_protect(const char *in, const char *out, const struct ms_protect_options *opt,
                             struct ms_protect_report *rep, struct ms_error *err)
{
    struct job j;
    uint8_t blob[BLOB_LEN] = {0}, pd[32];
    struct msi_pblock_out pb = {0};
    struct msi_edit edits[2];
    ms_status st;

    memset(&j, 0, sizeof j);
    st = open_job(&j, in, opt, true, err);
    if (st == MS_OK)
        st = ms_random_bytes(blob, 16, err);
    if (st == MS_OK)
        st = ms_key_check_value(j.key, blob + 16, err);
    if (st == MS_OK)
        st = msi_subkey(j.key, 32, blob, 16, "ecb check v1", j.mac, err);
    if (st == MS_OK)
        st = msi_header_digest(&j.pf, NULL, 0, j.hdr, err);
    if (st == MS_OK)
        st = ms_sha256(j.pf.map + j.pf.px_value_off, (size_t)j.pf.px_value_len, pd, err);
    if (st == MS_OK)
        st = msi_content_tag(j.mac, "medseal ecb v1", j.hdr, pd, blob + 24, err);
    msi_wr64le(blob + 56, j.pf.px_value_len);
    if (st == MS_OK)
        st = msi_pblock_encode(&j.pf, SCHEME,
                               "cipher=AES-256-ECB (INSECURE: equal blocks stay equal; analysis "
                               "bench only) tail=ciphertext-stealing check=HMAC-SHA256",
                               blob, sizeof blob, &pb, err);
    if (st == MS_OK)
        st = write_job(&j, out, edits, msi_pblock_insertion(&pb, edits), MS_ENCRYPT, NULL, rep,
                       err);
    if (st == MS_OK)
        snprintf(rep->note, sizeof rep->note,
                 "insecure, research: AES-ECB leaves the image's structure visible");
    msi_pblock_free(&pb);
    close_job(&j);
    return st;
}

static ms_status ecb_unprotect(const char *in, const char *out,
                               const struct ms_protect_options *opt,
                               struct ms_protect_report *rep, struct ms_error *err)
{
    struct job j;
    struct msi_edit edits[5];
    uint8_t check[MS_KEY_CHECK_LEN];
    size_t ne = 0;
    ms_status st;

    memset(&j, 0, sizeof j);
    st = open_job(&j, in, opt, false, err);
    if (st == MS_OK)
        st = ms_key_check_value(j.key, check, err);
    if (st == MS_OK && !ms_crypto_equal(check, j.pf.pb.blob + 16, MS_KEY_CHECK_LEN))
        st = ms_error_set(err, MS_EKEY, "wrong key: its check value differs from the one used");
    if (st == MS_OK && msi_rd64le(j.pf.pb.blob + 56) != j.pf.px_value_len)
        st = ms_error_set(err, MS_EKEY, "authentication failed: the Pixel Data length changed");
    if (st == MS_OK)
        st = msi_subkey(j.key, 32, j.pf.pb.blob, 16, "ecb check v1", j.mac, err);
    if (st == MS_OK) {
        ne = msi_pblock_removal(&j.pf, edits);
        st = msi_header_digest(&j.pf, edits, ne, j.hdr, err);
    }
    if (st == MS_OK)
        st = write_job(&j, out, edits, ne, MS_DECRYPT, j.pf.pb.blob + 24, rep, err);
    close_job(&j);
    return st;
}

const struct msi_scheme msi_scheme_ecb = {
    .info = {SCHEME, "seed 002", "insecure, research",
              "AES-256-ECB of the pixel data, for the analysis bench only", "", true},
    .protect = ecb_protect,
    .unprotect = ecb_unprotect,
};
