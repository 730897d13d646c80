/* Decryption of the `cms` scheme, streamed: the envelope's head is read and
 * handed to OpenSSL to open a recipient, then the ciphertext segments are
 * decrypted with the cipher context OpenSSL set up and written to a
 * temporary file; the GCM tag (AuthEnvelopedData) or the SignedData
 * signature (strict DICOM) is checked at the end and only then is the
 * temporary file renamed to the output. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "crypto/cms_internal.h"
#include "crypto/crypto_internal.h"
#include "internal.h"

#define OBUF_SLACK 64
#define MAX_DIGESTS 4

/* Where ciphertext comes from: the segments of encryptedContent, or a
 * detached file read as is. */
struct src {
    struct msi_octets oct;
    struct msi_rd *raw;
};

struct dec {
    const struct ms_cms_keyring *k;
    unsigned flags;
    ms_cms_progress_fn progress;
    void *progress_ctx;
    struct ms_cms_result *res;
    struct msi_rd rd;
    struct msi_ber ber;
    struct msi_cms_head head;
    CMS_ContentInfo *cms;
    BIO *chain;
    EVP_CIPHER_CTX *ctx; /* owned by chain */
    struct src src;
    struct msi_rd det_rd;
    int det_fd;
    int out_fd;
    uint8_t *obuf;   /* decrypted bytes on their way out: MSI_CMS_CHUNK + slack */
    size_t ocap;
    size_t ofilled;  /* most bytes obuf ever held (wiped on free) */
    uint64_t written;
    /* strict DICOM: the inner SignedData */
    EVP_MD_CTX *md[MAX_DIGESTS];
    int md_nid[MAX_DIGESTS];
    int nmd;
    struct msi_buf sd_version, sd_digests, sd_ctype, sd_certs, sd_crls, sd_signers;
};

/* ---- helpers ----------------------------------------------------------------------------- */

static ms_status write_out(struct dec *d, const uint8_t *p, size_t n, struct ms_error *err)
{
    if (msi_fd_sink(&d->out_fd, p, n) != 0)
        return ms_error_set(err, MS_EIO, "cannot write the output: %s", strerror(errno));
    uint64_t before = d->written;
    d->written += n;
    if (d->progress && (d->written >> 20) != (before >> 20))
        d->progress(d->progress_ctx, d->written);
    return MS_OK;
}

static ms_status src_next(struct src *s, const uint8_t **p, size_t *n, struct ms_error *err)
{
    if (!s->raw)
        return msi_octets_next(&s->oct, p, n, err);
    ms_status st = msi_rd_want(s->raw, 1, err);
    if (st != MS_OK)
        return st;
    *n = msi_rd_avail(s->raw);
    *p = s->raw->buf + s->raw->pos;
    msi_rd_skip(s->raw, *n);
    return MS_OK;
}

static ms_status leave_n(struct msi_ber *b, int n, struct ms_error *err)
{
    for (int i = 0; i < n; i++) {
        ms_status st = msi_ber_leave(b, err);
        if (st != MS_OK)
            return st;
    }
    return MS_OK;
}

static ms_status expect_end_of_input(struct msi_ber *b, const char *what, struct ms_error *err)
{
    int first;
    ms_status st = msi_ber_peek(b, &first, err);
    if (st == MS_OK && first >= 0)
        st = ms_error_set(err, MS_EMALFORMED, "trailing bytes after the %s", what);
    return st;
}

/* Skip an optional element with tag `first` if it comes next. */
static ms_status skip_optional(struct msi_ber *b, uint8_t first, size_t max, struct msi_buf *keep,
                               struct ms_error *err)
{
    int next;
    ms_status st = msi_ber_peek(b, &next, err);
    if (st != MS_OK || next != first)
        return st;
    return msi_ber_take(b, first, max, keep, "optional element", err);
}

/* ---- the cipher ------------------------------------------------------------------------------ */

/* The tag length the algorithm parameters announce (GCMParameters aes-ICVlen,
 * default 12); 0 for ciphers without parameters of that shape. */
static int gcm_icvlen(const struct msi_buf *alg)
{
    uint8_t tag;
    size_t hdr, clen, h2, c2, h3, c3;
    const uint8_t *p = alg->p;
    size_t left = alg->len;
    if (!msi_der_tlv(p, left, &tag, &hdr, &clen) || tag != 0x30)
        return 0;
    p += hdr;
    left = clen;
    if (!msi_der_tlv(p, left, &tag, &h2, &c2) || tag != 0x06)
        return 0;
    p += h2 + c2;
    left -= h2 + c2;
    if (!msi_der_tlv(p, left, &tag, &h2, &c2) || tag != 0x30)
        return 0;
    p += h2;
    left = c2;
    if (!msi_der_tlv(p, left, &tag, &h3, &c3) || tag != 0x04)
        return 0;
    p += h3 + c3;
    left -= h3 + c3;
    if (left == 0)
        return 12;
    if (!msi_der_tlv(p, left, &tag, &h3, &c3) || tag != 0x02 || c3 != 1 || h3 + c3 != left)
        return 0;
    return p[h3];
}

static ms_status start_cipher(struct dec *d, struct ms_error *err)
{
    BIO *null = BIO_new(BIO_s_null());
    if (!null)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    d->chain = CMS_dataInit(d->cms, null);
    if (!d->chain) {
        BIO_free(null);
        return msi_ossl_fail(err, MS_EUNSUPPORTED, "cannot start decryption");
    }
    BIO_get_cipher_ctx(d->chain, &d->ctx);
    if (!d->ctx)
        return ms_error_set(err, MS_EINTERNAL, "no cipher context");
    return MS_OK;
}

/* ---- plain envelopes (AuthEnvelopedData, EnvelopedData) ----------------------------------- */

/* Decrypt k (<= ocap - slack) ciphertext bytes into obuf; *outl gets the
 * plaintext length. */
static ms_status decrypt_chunk(struct dec *d, const uint8_t *p, size_t k, size_t *outl,
                               struct ms_error *err)
{
    int n = 0;
    if (EVP_DecryptUpdate(d->ctx, d->obuf, &n, p, (int)k) != 1)
        return msi_ossl_fail(err, MS_EKEY, "decryption failed");
    *outl = (size_t)n;
    if (*outl > d->ofilled)
        d->ofilled = *outl;
    return MS_OK;
}

static ms_status decrypt_run(struct dec *d, const uint8_t *p, size_t n, struct ms_error *err)
{
    while (n > 0) {
        size_t k = n < d->ocap - OBUF_SLACK ? n : d->ocap - OBUF_SLACK, outl = 0;
        ms_status st = decrypt_chunk(d, p, k, &outl, err);
        if (st == MS_OK)
            st = write_out(d, d->obuf, outl, err);
        if (st != MS_OK)
            return st;
        p += k;
        n -= k;
    }
    return MS_OK;
}

static ms_status decrypt_content(struct dec *d, struct ms_error *err)
{
    for (;;) {
        const uint8_t *p;
        size_t n;
        ms_status st = src_next(&d->src, &p, &n, err);
        if (st != MS_OK)
            return st;
        if (n == 0)
            return MS_OK;
        if ((st = decrypt_run(d, p, n, err)) != MS_OK)
            return st;
    }
}

/* After the content: the rest of the envelope and the end of the input. */
static ms_status read_tail(struct dec *d, struct msi_buf *mac, struct ms_error *err)
{
    struct msi_ber *b = &d->ber;
    struct msi_tlv t;
    int first;
    ms_status st;

    if ((st = msi_ber_leave(b, err)) != MS_OK) /* EncryptedContentInfo */
        return st;
    if (d->head.auth) {
        if ((st = msi_ber_peek(b, &first, err)) != MS_OK)
            return st;
        if (first == 0xa1)
            return ms_error_set(err, MS_EUNSUPPORTED, "authenticated attributes are not "
                                                      "supported");
        if ((st = msi_ber_expect(b, 0x04, &t, "mac OCTET STRING", err)) != MS_OK)
            return st;
        if (t.len > 64)
            return ms_error_set(err, MS_EMALFORMED, "mac of %llu bytes",
                                (unsigned long long)t.len);
        if ((st = msi_ber_capture(b, &t, 128, mac, err)) != MS_OK ||
            (st = skip_optional(b, 0xa2, MSI_CMS_MAX_CERTS_BYTES, NULL, err)) != MS_OK)
            return st;
        memmove(mac->p, mac->p + t.rawlen, mac->len - t.rawlen); /* keep the tag only */
        mac->len -= t.rawlen;
    } else if ((st = skip_optional(b, 0xa1, MSI_CMS_MAX_CERTS_BYTES, NULL, err)) != MS_OK) {
        return st;
    }
    if ((st = leave_n(b, 3, err)) != MS_OK)
        return st;
    return expect_end_of_input(b, "CMS structure", err);
}

static ms_status check_tag(struct dec *d, const struct msi_buf *mac, struct ms_error *err)
{
    uint8_t tmp[32];
    int outl = 0;
    size_t taglen = mac->len;
    int icv = gcm_icvlen(&d->head.alg);

    if (taglen < 12 || taglen > 16 || (icv && (int)taglen != icv))
        return ms_error_set(err, MS_EKEY, "authentication failed: bad tag length %zu", taglen);
    if (EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_SET_TAG, (int)taglen,
                            (void *)mac->p) != 1)
        return msi_ossl_fail(err, MS_EKEY, "authentication failed");
    if (EVP_DecryptFinal_ex(d->ctx, tmp, &outl) != 1) {
        ERR_clear_error();
        return ms_error_set(err, MS_EKEY, "authentication failed: the file was modified or is "
                                          "corrupt (GCM tag mismatch)");
    }
    return MS_OK;
}

static ms_status finish_cbc(struct dec *d, struct ms_error *err)
{
    uint8_t tmp[64];
    int outl = 0;
    if (EVP_DecryptFinal_ex(d->ctx, tmp, &outl) != 1) {
        ERR_clear_error();
        return ms_error_set(err, MS_EKEY, "decryption failed: bad padding (wrong key or "
                                          "corrupt data)");
    }
    ms_status st = write_out(d, tmp, (size_t)outl, err);
    OPENSSL_cleanse(tmp, sizeof tmp);
    return st;
}

static ms_status run_plain(struct dec *d, struct ms_error *err)
{
    struct msi_buf mac = {0};
    ms_status st = decrypt_content(d, err);
    if (st == MS_OK)
        st = read_tail(d, &mac, err);
    if (st == MS_OK)
        st = d->head.auth ? check_tag(d, &mac, err) : finish_cbc(d, err);
    msi_buf_free(&mac, false);
    return st;
}

/* ---- strict DICOM: EnvelopedData around SignedData ------------------------------------------ */

/* The decrypted SignedData as a byte stream: a fill callback over the
 * ciphertext source, holding decrypted bytes in d->obuf. */
struct plain_src {
    struct dec *d;
    size_t pos, len;        /* decrypted bytes in d->obuf not yet handed out */
    const uint8_t *run;     /* ciphertext not yet decrypted (in the source's buffer) */
    size_t run_left;
    bool ended;
};

static ms_status plain_fill(void *ctx, uint8_t *dst, size_t cap, size_t *got,
                            struct ms_error *err)
{
    struct plain_src *ps = ctx;
    struct dec *d = ps->d;
    ms_status st;

    while (ps->pos == ps->len && !ps->ended) {
        int outl = 0;
        if (ps->run_left == 0 && (st = src_next(&d->src, &ps->run, &ps->run_left, err)) != MS_OK)
            return st;
        ps->pos = ps->len = 0;
        if (ps->run_left == 0) {
            ps->ended = true;
            if (EVP_DecryptFinal_ex(d->ctx, d->obuf, &outl) != 1) {
                ERR_clear_error();
                return ms_error_set(err, MS_EKEY, "decryption failed: bad padding (wrong key "
                                                  "or corrupt data)");
            }
            ps->len = (size_t)outl;
            if (ps->len > d->ofilled)
                d->ofilled = ps->len;
        } else {
            size_t k = ps->run_left < d->ocap - OBUF_SLACK ? ps->run_left : d->ocap - OBUF_SLACK;
            if ((st = decrypt_chunk(d, ps->run, k, &ps->len, err)) != MS_OK)
                return st;
            ps->run += k;
            ps->run_left -= k;
        }
    }
    size_t k = ps->len - ps->pos < cap ? ps->len - ps->pos : cap;
    memcpy(dst, d->obuf + ps->pos, k);
    ps->pos += k;
    *got = k;
    return MS_OK;
}

static ms_status setup_digests(struct dec *d, struct ms_error *err)
{
    uint8_t tag;
    size_t hdr, clen;
    const uint8_t *p = d->sd_digests.p;
    if (!msi_der_tlv(p, d->sd_digests.len, &tag, &hdr, &clen))
        return ms_error_set(err, MS_EMALFORMED, "malformed SignedData digestAlgorithms");
    p += hdr;
    const uint8_t *end = p + clen;
    while (p < end) {
        X509_ALGOR *a = d2i_X509_ALGOR(NULL, &p, (long)(end - p));
        if (!a)
            return msi_ossl_fail(err, MS_EMALFORMED, "malformed digest algorithm");
        int nid = OBJ_obj2nid(a->algorithm);
        X509_ALGOR_free(a);
        if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512)
            return ms_error_set(err, MS_EUNSUPPORTED, "signature digest %s is not accepted "
                                "(SHA-256, SHA-384, SHA-512)",
                                nid != NID_undef ? OBJ_nid2sn(nid) : "(unknown)");
        if (d->nmd >= MAX_DIGESTS)
            return ms_error_set(err, MS_ELIMIT, "more than %d digest algorithms", MAX_DIGESTS);
        d->md[d->nmd] = EVP_MD_CTX_new();
        if (!d->md[d->nmd] ||
            EVP_DigestInit_ex(d->md[d->nmd], EVP_get_digestbynid(nid), NULL) != 1)
            return msi_ossl_fail(err, MS_EINTERNAL, "cannot start a digest");
        d->md_nid[d->nmd++] = nid;
    }
    return MS_OK;
}

static ms_status copy_signed_content(struct dec *d, struct msi_ber *ib, struct ms_error *err)
{
    struct msi_tlv t;
    struct msi_octets o;
    ms_status st = msi_ber_hdr(ib, &t, err);
    if (st != MS_OK)
        return st;
    if (t.first != 0x04 && t.first != 0x24)
        return ms_error_set(err, MS_EMALFORMED, "expected the eContent OCTET STRING");
    if ((st = msi_octets_open(&o, ib, &t, err)) != MS_OK)
        return st;
    for (;;) {
        const uint8_t *p;
        size_t n;
        if ((st = msi_octets_next(&o, &p, &n, err)) != MS_OK)
            return st;
        if (n == 0)
            return MS_OK;
        for (int i = 0; i < d->nmd; i++)
            if (EVP_DigestUpdate(d->md[i], p, n) != 1)
                return msi_ossl_fail(err, MS_EINTERNAL, "digest failed");
        if ((st = write_out(d, p, n, err)) != MS_OK)
            return st;
    }
}

static const uint8_t oid_data[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                   0x01, 0x07, 0x01};

/* SignedData up to the start of eContent: version, digests, eContentType. */
static ms_status read_signed_head(struct dec *d, struct msi_ber *ib, struct ms_error *err)
{
    struct msi_tlv t;
    int first;
    ms_status st;

    if ((st = msi_ber_expect(ib, 0x30, &t, "SignedData", err)) != MS_OK ||
        (st = msi_ber_enter(ib, &t, err)) != MS_OK ||
        (st = msi_ber_take(ib, 0x02, 16, &d->sd_version, "version", err)) != MS_OK ||
        (st = msi_ber_take(ib, 0x31, MSI_CMS_MAX_SMALL, &d->sd_digests, "digestAlgorithms",
                           err)) != MS_OK ||
        (st = setup_digests(d, err)) != MS_OK ||
        (st = msi_ber_expect(ib, 0x30, &t, "encapContentInfo", err)) != MS_OK ||
        (st = msi_ber_enter(ib, &t, err)) != MS_OK ||
        (st = msi_ber_take(ib, 0x06, 64, &d->sd_ctype, "eContentType", err)) != MS_OK)
        return st;
    if (d->sd_ctype.len != sizeof oid_data || memcmp(d->sd_ctype.p, oid_data, sizeof oid_data))
        return ms_error_set(err, MS_EUNSUPPORTED, "the signed content is not id-data");
    if ((st = msi_ber_peek(ib, &first, err)) != MS_OK)
        return st;
    if (first != 0xa0)
        return ms_error_set(err, MS_EUNSUPPORTED, "the SignedData has no content (detached "
                                                  "signature)");
    if ((st = msi_ber_hdr(ib, &t, err)) != MS_OK)
        return st;
    return msi_ber_enter(ib, &t, err);
}

static ms_status read_signed_data(struct dec *d, struct msi_ber *ib, struct ms_error *err)
{
    ms_status st;
    if ((st = read_signed_head(d, ib, err)) != MS_OK ||
        (st = copy_signed_content(d, ib, err)) != MS_OK || (st = leave_n(ib, 2, err)) != MS_OK ||
        (st = skip_optional(ib, 0xa0, MSI_CMS_MAX_CERTS_BYTES, &d->sd_certs, err)) != MS_OK ||
        (st = skip_optional(ib, 0xa1, MSI_CMS_MAX_CERTS_BYTES, &d->sd_crls, err)) != MS_OK ||
        (st = msi_ber_take(ib, 0x31, MSI_CMS_MAX_CERTS_BYTES, &d->sd_signers, "signerInfos",
                           err)) != MS_OK ||
        (st = msi_ber_leave(ib, err)) != MS_OK)
        return st;
    return expect_end_of_input(ib, "SignedData", err);
}

static ms_status signed_to_cms(struct dec *d, CMS_ContentInfo **out, struct ms_error *err)
{
    static const uint8_t oid_signed[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                         0x01, 0x07, 0x02};
    struct msi_buf sd = {0}, seq = {0}, ci = {0}, all = {0};
    ms_status st;

    if (!msi_buf_put(&sd, d->sd_version.p, d->sd_version.len) ||
        !msi_buf_put(&sd, d->sd_digests.p, d->sd_digests.len) ||
        !msi_buf_der_hdr(&sd, 0x30, d->sd_ctype.len) ||
        !msi_buf_put(&sd, d->sd_ctype.p, d->sd_ctype.len) ||
        !msi_buf_put(&sd, d->sd_certs.p, d->sd_certs.len) ||
        !msi_buf_put(&sd, d->sd_crls.p, d->sd_crls.len) ||
        !msi_buf_put(&sd, d->sd_signers.p, d->sd_signers.len) ||
        !msi_buf_der_hdr(&seq, 0x30, sd.len) || !msi_buf_put(&seq, sd.p, sd.len) ||
        !msi_buf_put(&ci, oid_signed, sizeof oid_signed) ||
        !msi_buf_der_hdr(&ci, 0xa0, seq.len) || !msi_buf_put(&ci, seq.p, seq.len) ||
        !msi_buf_der_hdr(&all, 0x30, ci.len) || !msi_buf_put(&all, ci.p, ci.len)) {
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    } else {
        const unsigned char *p = all.p;
        *out = d2i_CMS_ContentInfo(NULL, &p, (long)all.len);
        st = *out ? MS_OK : msi_ossl_fail(err, MS_EMALFORMED, "malformed SignedData");
    }
    msi_buf_free(&sd, false);
    msi_buf_free(&seq, false);
    msi_buf_free(&ci, false);
    msi_buf_free(&all, false);
    return st;
}

static ms_status check_digest(struct dec *d, CMS_SignerInfo *si, struct ms_error *err)
{
    X509_ALGOR *dig = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (CMS_signed_get_attr_count(si) <= 0)
        return ms_error_set(err, MS_EUNSUPPORTED, "a signer has no signed attributes");
    CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
    int nid = dig ? OBJ_obj2nid(dig->algorithm) : NID_undef;
    ASN1_OCTET_STRING *want = CMS_signed_get0_data_by_OBJ(
        si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING);
    for (int i = 0; i < d->nmd; i++) {
        if (d->md_nid[i] != nid)
            continue;
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        if (!c || EVP_MD_CTX_copy_ex(c, d->md[i]) != 1 || EVP_DigestFinal_ex(c, md, &mdlen) != 1) {
            EVP_MD_CTX_free(c);
            return msi_ossl_fail(err, MS_EINTERNAL, "digest failed");
        }
        EVP_MD_CTX_free(c);
        if (!want || (unsigned)want->length != mdlen || CRYPTO_memcmp(want->data, md, mdlen))
            return ms_error_set(err, MS_EKEY, "signature check failed: the content does not "
                                              "match the signed digest (altered)");
        return MS_OK;
    }
    return ms_error_set(err, MS_EKEY, "signature check failed: the signer's digest is not among "
                                      "the SignedData digest algorithms");
}

static ms_status verify_error(struct ms_error *err)
{
    const char *data = NULL;
    int eflags = 0;
    unsigned long e = ERR_peek_last_error_data(&data, &eflags);
    const char *detail = (eflags & ERR_TXT_STRING) && data ? data : "";
    if (ERR_GET_REASON(e) == CMS_R_CERTIFICATE_VERIFY_ERROR)
        ms_error_set(err, MS_EKEY, "signature check failed: the signer is not trusted (%s)",
                     detail);
    else
        ms_error_set(err, MS_EKEY, "signature check failed: %s%s%s",
                     e ? ERR_reason_error_string(e) : "invalid", detail[0] ? ": " : "", detail);
    ERR_clear_error();
    return MS_EKEY;
}

/* Certificates chain to a trusted one, signatures over the signed attributes
 * hold (OpenSSL); the content digest is compared by check_digest. */
static ms_status verify_signers(struct dec *d, CMS_ContentInfo *sd, struct ms_error *err)
{
    X509_STORE *store = X509_STORE_new();
    BIO *empty = BIO_new_mem_buf("", 0); /* EOF at once (a plain mem BIO says "retry") */
    ms_status st = MS_OK;

    if (!store || !empty)
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    for (int i = 0; st == MS_OK && i < sk_X509_num(d->k->trusted); i++)
        if (X509_STORE_add_cert(store, sk_X509_value(d->k->trusted, i)) != 1)
            st = msi_ossl_fail(err, MS_EINTERNAL, "cannot load trusted certificates");
    if (st == MS_OK) {
        X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
        if (CMS_verify(sd, d->k->trusted, store, empty, NULL,
                       CMS_BINARY | CMS_NO_CONTENT_VERIFY) != 1)
            st = verify_error(err);
    }
    X509_STORE_free(store);
    BIO_free(empty);
    return st;
}

static ms_status verify_signature(struct dec *d, struct ms_error *err)
{
    CMS_ContentInfo *sd = NULL;
    ms_status st = signed_to_cms(d, &sd, err);
    if (st == MS_OK)
        st = verify_signers(d, sd, err);
    STACK_OF(CMS_SignerInfo) *sis = st == MS_OK ? CMS_get0_SignerInfos(sd) : NULL;
    for (int i = 0; st == MS_OK && i < sk_CMS_SignerInfo_num(sis); i++)
        st = check_digest(d, sk_CMS_SignerInfo_value(sis, i), err);
    if (st == MS_OK) {
        STACK_OF(X509) *signers = CMS_get0_signers(sd);
        if (signers && sk_X509_num(signers) > 0)
            X509_NAME_oneline(X509_get_subject_name(sk_X509_value(signers, 0)), d->res->signer,
                              sizeof d->res->signer);
        sk_X509_free(signers);
        d->res->signature_verified = true;
    }
    CMS_ContentInfo_free(sd);
    return st;
}

static ms_status run_strict(struct dec *d, struct ms_error *err)
{
    struct plain_src ps = {.d = d};
    struct msi_rd ird;
    struct msi_ber ib;
    struct msi_buf mac = {0};
    ms_status st = msi_rd_init(&ird, plain_fill, &ps, MSI_CMS_READ_BUF, err);
    if (st != MS_OK)
        return st;
    msi_ber_init(&ib, &ird);
    st = read_signed_data(d, &ib, err);
    if (st == MS_OK && !ps.ended)
        st = ms_error_set(err, MS_EMALFORMED, "trailing bytes after the SignedData");
    msi_rd_free(&ird);
    if (st == MS_OK)
        st = read_tail(d, &mac, err);
    if (st == MS_OK)
        st = verify_signature(d, err);
    msi_buf_free(&mac, false);
    return st;
}

/* ---- driver ---------------------------------------------------------------------------------- */

static ms_status check_kind(struct dec *d, struct ms_error *err)
{
    switch (d->head.kind) {
    case MS_CMS_NOT_CMS:
        return ms_error_set(err, MS_EMALFORMED, "not a CMS file");
    case MS_CMS_OTHER:
        return ms_error_set(err, MS_EUNSUPPORTED, "a CMS file but not an encrypted envelope");
    case MS_CMS_ENVELOPED:
        if (!(d->flags & MS_CMS_ALLOW_UNAUTHENTICATED))
            return ms_error_set(err, MS_EUNSUPPORTED,
                                "EnvelopedData without signature: its content cannot be "
                                "authenticated (allow unauthenticated content to open it)");
        return MS_OK;
    case MS_CMS_ENVELOPED_SIGNED:
        if (sk_X509_num(d->k->trusted) <= 0)
            return ms_error_set(err, MS_EUSAGE, "this file is signed (strict DICOM): give the "
                                                "trusted signer certificate");
        return MS_OK;
    default:
        return MS_OK;
    }
}

static ms_status open_source(struct dec *d, const char *detached_path, struct ms_error *err)
{
    if (!d->head.detached) {
        if (detached_path)
            return ms_error_set(err, MS_EUSAGE, "the file holds its content; no detached "
                                                "content file is needed");
        return msi_octets_open(&d->src.oct, &d->ber, &d->head.content, err);
    }
    if (!detached_path)
        return ms_error_set(err, MS_EUSAGE, "the content is detached: give the content file");
    d->det_fd = open(detached_path, O_RDONLY | O_CLOEXEC);
    if (d->det_fd < 0)
        return ms_error_set(err, MS_EIO, "cannot open the detached content: %s", strerror(errno));
    ms_status st = msi_rd_init_fd(&d->det_rd, d->det_fd, MSI_CMS_READ_BUF, err);
    if (st == MS_OK)
        d->src.raw = &d->det_rd;
    return st;
}

static ms_status decrypt_body(struct dec *d, const char *out_path, const char *detached_path,
                              struct ms_error *err)
{
    char tmp[PATH_MAX];
    ms_status st;

    if ((st = check_kind(d, err)) != MS_OK || (st = open_source(d, detached_path, err)) != MS_OK ||
        (st = msi_cms_head_to_cms(&d->head, &d->cms, err)) != MS_OK ||
        (st = msi_cms_open_recipient(d->cms, d->k, d->res->opened_by,
                                           sizeof d->res->opened_by, err)) != MS_OK || (st = start_cipher(d, err)) != MS_OK)
        return st;
    d->ocap = MSI_CMS_CHUNK + OBUF_SLACK;
    d->obuf = malloc(d->ocap);
    if (!d->obuf)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if ((st = msi_atomic_open(out_path, tmp, sizeof tmp, &d->out_fd, err)) != MS_OK)
        return st;
    if (fchmod(d->out_fd, 0600) != 0) { /* decrypted patient data: owner only */
        st = ms_error_set(err, MS_EIO, "cannot restrict the output's permissions: %s",
                          strerror(errno));
        struct ms_error ignored;
        msi_atomic_close(d->out_fd, tmp, out_path, false, &ignored);
        d->out_fd = -1;
        return st;
    }
    st = d->head.kind == MS_CMS_ENVELOPED_SIGNED ? run_strict(d, err) : run_plain(d, err);
    if (st != MS_OK && ftruncate(d->out_fd, 0) != 0) {
        /* the temporary file is removed below anyway */
    }
    struct ms_error cerr;
    ms_status cst = msi_atomic_commit(d->out_fd, tmp, out_path, st == MS_OK,
                                      !(d->flags & MS_CMS_DECRYPT_NO_FSYNC), &cerr);
    d->out_fd = -1;
    if (st == MS_OK && cst != MS_OK) {
        if (err)
            *err = cerr;
        return cst;
    }
    return st;
}

static void dec_free(struct dec *d)
{
    BIO_free_all(d->chain);
    CMS_ContentInfo_free(d->cms);
    msi_cms_head_free(&d->head);
    msi_rd_free(&d->rd);
    if (d->det_rd.buf)
        msi_rd_free(&d->det_rd);
    /* before det_fd is closed: the reader may map it */
    if (d->det_fd >= 0)
        close(d->det_fd);
    if (d->obuf) {
        OPENSSL_cleanse(d->obuf, d->ofilled); /* plaintext: every byte it ever held */
        free(d->obuf);
    }
    for (int i = 0; i < d->nmd; i++)
        EVP_MD_CTX_free(d->md[i]);
    msi_buf_free(&d->sd_version, false);
    msi_buf_free(&d->sd_digests, false);
    msi_buf_free(&d->sd_ctype, false);
    msi_buf_free(&d->sd_certs, false);
    msi_buf_free(&d->sd_crls, false);
    msi_buf_free(&d->sd_signers, false);
    ERR_clear_error();
}

ms_status ms_cms_decrypt_fd(const struct ms_cms_keyring *k, int in_fd, const char *out_path,
                            const struct ms_cms_decrypt_options *opt,
                            struct ms_cms_result *result, struct ms_error *err)
{
    struct ms_cms_result local;
    struct dec d;
    ms_status st;

    memset(&d, 0, sizeof d);
    d.k = k;
    d.flags = opt ? opt->flags : 0;
    d.progress = opt ? opt->progress : NULL;
    d.progress_ctx = opt ? opt->progress_ctx : NULL;
    d.res = result ? result : &local;
    d.det_fd = -1;
    d.out_fd = -1;
    memset(d.res, 0, sizeof *d.res);
    if (!k || !out_path)
        return ms_error_set(err, MS_EUSAGE, "no keyring or output path");
    if ((st = msi_rd_init_fd(&d.rd, in_fd, MSI_CMS_READ_BUF, err)) != MS_OK)
        return st;
    msi_ber_init(&d.ber, &d.rd);
    st = msi_cms_head_read(&d.ber, &d.head, err);
    if (st == MS_OK)
        st = decrypt_body(&d, out_path, opt ? opt->detached_path : NULL, err);
    if (st == MS_OK) {
        d.res->kind = d.head.kind;
        d.res->content_bytes = d.written;
    }
    dec_free(&d);
    return st;
}

ms_status ms_cms_decrypt_file(const struct ms_cms_keyring *k, const char *in_path,
                              const char *out_path, const struct ms_cms_decrypt_options *opt,
                              struct ms_cms_result *result, struct ms_error *err)
{
    int fd = open(in_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ms_error_set(err, MS_EIO, "cannot open the input: %s", strerror(errno));
    ms_status st = ms_cms_decrypt_fd(k, fd, out_path, opt, result, err);
    close(fd);
    return st;
}
