/* Encryption of the `cms` scheme, streamed. OpenSSL builds the envelope
 * (recipients, content-encryption key, IV) and its cipher context; medseal
 * drives that context over the input in large blocks and writes the
 * ciphertext as segments of an indefinite-length [0] OCTET STRING between a
 * prefix and a suffix cut from OpenSSL's own DER of the envelope
 * (docs/formats/cms.md).
 *
 * Input: a regular file is read through a sliding read-only mapping (no copy
 * into a buffer; the segment lengths are known from the file size before the
 * bytes are touched); a pipe is read one segment at a time into a buffer.
 * The cipher writes MSI_CMS_CHUNK bytes at a time into a buffer that stays in
 * the CPU cache, which write() then copies into the page cache. Memory: a
 * chunk buffer, a segment buffer for pipes and strict DICOM, and the mapped
 * window, whatever the input size. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "crypto/cms_internal.h"
#include "crypto/crypto_internal.h"
#include "internal.h"

struct enc {
    const struct ms_cms_recipients *r;
    const struct ms_cms_encrypt_options *opt;
    bool strict;
    size_t seg;
    int in_fd;
    struct msi_rd in; /* mapping mode for a regular file (in.mapped) */
    ms_sink_fn sink;
    void *sctx;
    int det_fd; /* ciphertext alone (detached), or -1 */
    const struct msi_cms_tmpl *tmpl; /* AuthEnvelopedData from the set's template, or NULL */
    CMS_ContentInfo *env;             /* otherwise OpenSSL's CMS layer builds it */
    BIO *env_chain;
    EVP_CIPHER_CTX *ctx; /* owned by env_chain, or by e (template) */
    struct msi_buf env_prefix, env_suffix;
    CMS_ContentInfo *sd;
    BIO *sd_chain;
    struct msi_buf sd_prefix, sd_suffix;
    uint8_t *inbuf;   /* pipes: one segment of plaintext */
    size_t in_filled; /* most bytes inbuf ever held (wiped on free) */
    uint8_t *out;     /* output staging: the message's small pieces and ciphertext */
    size_t out_len;   /* bytes staged, not yet given to the sink */
    uint8_t *segbuf;  /* strict: CBC output collected into segments */
    size_t seglen;
    uint64_t total;
};

static const uint8_t open_content[2] = {0xa0, 0x80};   /* [0] IMPLICIT, constructed */
static const uint8_t open_econtent[4] = {0xa0, 0x80, 0x24, 0x80}; /* [0] EXPLICIT OCTET STRING */
static const uint8_t eoc2[4] = {0, 0, 0, 0};

/* ---- output ---------------------------------------------------------------------------- */

#define OUT_CAP (MSI_CMS_CHUNK + (16u << 10)) /* a chunk of ciphertext and its framing */

static ms_status sink_write(struct enc *e, const void *p, size_t n, struct ms_error *err)
{
    if (n && e->sink(e->sctx, p, n) != 0)
        return ms_error_set(err, MS_EIO, "cannot write the output: %s", strerror(errno));
    return MS_OK;
}

/* Give the staged bytes to the sink. */
static ms_status flush(struct enc *e, struct ms_error *err)
{
    ms_status st = sink_write(e, e->out, e->out_len, err);
    e->out_len = 0;
    return st;
}

/* Room for n (<= OUT_CAP) bytes at the end of the staging buffer. */
static ms_status reserve(struct enc *e, size_t n, uint8_t **dst, struct ms_error *err)
{
    ms_status st = n > OUT_CAP - e->out_len ? flush(e, err) : MS_OK;
    *dst = e->out + e->out_len;
    return st;
}

/* Bytes of the message: staged, so that headers, ciphertext and the end of
 * the structure go out in few writes. */
static ms_status emit(struct enc *e, const void *p, size_t n, struct ms_error *err)
{
    uint8_t *dst;
    if (n > OUT_CAP) {
        ms_status st = flush(e, err);
        return st != MS_OK ? st : sink_write(e, p, n, err);
    }
    ms_status st = reserve(e, n, &dst, err);
    if (st == MS_OK && n) {
        memcpy(dst, p, n);
        e->out_len += n;
    }
    return st;
}

/* The OCTET STRING header of a ciphertext segment of n bytes (none in the
 * detached file). */
static ms_status emit_segment_header(struct enc *e, size_t n, struct ms_error *err)
{
    uint8_t hdr[10];
    if (n == 0 || e->det_fd >= 0)
        return MS_OK;
    return emit(e, hdr, msi_der_hdr(hdr, 0x04, n), err);
}

/* Ciphertext bytes: into the message, or into the detached file. */
static ms_status emit_ciphertext(struct enc *e, const uint8_t *p, size_t n, struct ms_error *err)
{
    if (e->det_fd < 0)
        return emit(e, p, n, err);
    if (n && msi_fd_sink(&e->det_fd, p, n) != 0)
        return ms_error_set(err, MS_EIO, "cannot write the detached content: %s",
                            strerror(errno));
    return MS_OK;
}

/* One whole ciphertext segment (strict DICOM's collected CBC output). */
static ms_status emit_segment(struct enc *e, const uint8_t *p, size_t n, struct ms_error *err)
{
    ms_status st = emit_segment_header(e, n, err);
    return st != MS_OK ? st : emit_ciphertext(e, p, n, err);
}

static ms_status read_full(int fd, uint8_t *buf, size_t cap, size_t *got, struct ms_error *err)
{
    *got = 0;
    while (*got < cap) {
        ssize_t n = read(fd, buf + *got, cap - *got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ms_error_set(err, MS_EIO, "cannot read the input: %s", strerror(errno));
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return MS_OK;
}

/* Length of the next plaintext segment (0 at the end of the input): from the
 * file size for a mapped input, else by reading a whole segment into inbuf. */
static ms_status next_segment(struct enc *e, size_t *n, struct ms_error *err)
{
    if (e->in.mapped) {
        uint64_t left = msi_rd_remaining(&e->in);
        *n = left < e->seg ? (size_t)left : e->seg;
        return MS_OK;
    }
    ms_status st = read_full(e->in_fd, e->inbuf, e->seg, n, err);
    if (*n > e->in_filled)
        e->in_filled = *n;
    return st;
}

/* The next run (at most max bytes) of the current segment, done bytes of it
 * being consumed already. */
static ms_status segment_run(struct enc *e, size_t done, size_t max, const uint8_t **p,
                             size_t *k, struct ms_error *err)
{
    if (!e->in.mapped) {
        *p = e->inbuf + done;
        *k = max;
        return MS_OK;
    }
    ms_status st = msi_rd_want(&e->in, 1, err);
    if (st != MS_OK)
        return st;
    *k = msi_rd_avail(&e->in) < max ? msi_rd_avail(&e->in) : max;
    if (*k == 0)
        return ms_error_set(err, MS_EIO, "the input file became shorter while it was read");
    *p = e->in.buf + e->in.pos;
    msi_rd_skip(&e->in, *k);
    return MS_OK;
}

/* ---- building the envelope ---------------------------------------------------------------- */

/* Start the content processing of cms over a null BIO (medseal writes the
 * content itself): recipients get the wrapped key, the chain holds the
 * cipher (or digest) context. */
static ms_status data_init(CMS_ContentInfo *cms, BIO **chain, struct ms_error *err)
{
    BIO *null = BIO_new(BIO_s_null());
    if (!null)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    *chain = CMS_dataInit(cms, null);
    if (!*chain) {
        BIO_free(null);
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot start the CMS content");
    }
    return MS_OK;
}

/* The element to split and the path to the element that receives the
 * content. Envelope: the whole ContentInfo, path [0] -> SEQUENCE ->
 * EncryptedContentInfo (the child after recipientInfos). SignedData: only
 * the SignedData SEQUENCE (it is the encrypted content of the strict
 * envelope, whose content type says signedData), path encapContentInfo. */
static ms_status content_path(const uint8_t *der, size_t len, bool envelope,
                              const uint8_t **root, size_t *root_len, int path[3], int *npath,
                              struct ms_error *err)
{
    uint8_t tag;
    size_t h1, c1, h2, c2, h3, c3, h4, c4;
    /* ContentInfo: OID then [0] { SEQUENCE } */
    if (!msi_der_tlv(der, len, &tag, &h1, &c1) ||
        !msi_der_tlv(der + h1, c1, &tag, &h2, &c2) ||
        !msi_der_tlv(der + h1 + h2 + c2, c1 - h2 - c2, &tag, &h3, &c3) ||
        !msi_der_tlv(der + h1 + h2 + c2 + h3, c3, &tag, &h4, &c4) || tag != 0x30)
        return ms_error_set(err, MS_EINTERNAL, "unexpected DER from OpenSSL");
    const uint8_t *seq = der + h1 + h2 + c2 + h3;
    if (!envelope) {
        *root = seq;
        *root_len = h4 + c4;
        path[0] = 2;
        *npath = 1;
        return MS_OK;
    }
    int set = msi_der_find_child(seq, h4 + c4, 0x31);
    if (set < 0)
        return ms_error_set(err, MS_EINTERNAL, "unexpected DER from OpenSSL");
    *root = der;
    *root_len = len;
    path[0] = 1;
    path[1] = 0;
    path[2] = set + 1;
    *npath = 3;
    return MS_OK;
}

/* Prefix and suffix of cms around its content. */
static ms_status split(CMS_ContentInfo *cms, bool envelope, struct msi_buf *prefix,
                       struct msi_buf *suffix, struct ms_error *err)
{
    unsigned char *der = NULL;
    const uint8_t *root = NULL;
    size_t root_len = 0;
    int path[3], npath = 0;
    int len = i2d_CMS_ContentInfo(cms, &der);
    if (len <= 0)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot encode the CMS structure");
    ms_status st = content_path(der, (size_t)len, envelope, &root, &root_len, path, &npath, err);
    if (st == MS_OK)
        st = msi_der_splice(root, root_len, path, npath, prefix, suffix, err);
    OPENSSL_free(der);
    return st;
}

/* The suffix after the content, checking that the prefix written before it
 * is still what OpenSSL encodes now. */
static ms_status final_suffix(CMS_ContentInfo *cms, bool envelope, const struct msi_buf *prefix,
                              struct msi_buf *suffix, struct ms_error *err)
{
    struct msi_buf p2 = {0};
    msi_buf_free(suffix, false);
    ms_status st = split(cms, envelope, &p2, suffix, err);
    if (st == MS_OK && (p2.len != prefix->len || memcmp(p2.p, prefix->p, p2.len) != 0))
        st = ms_error_set(err, MS_EINTERNAL, "the CMS header changed while streaming");
    msi_buf_free(&p2, false);
    return st;
}

/* The head from the recipient set's template: staged directly (it is
 * written first), the cipher context e's own. */
static ms_status begin_from_template(struct enc *e, struct ms_error *err)
{
    uint8_t *head = NULL;
    size_t n = msi_cms_tmpl_head_len(e->tmpl);
    ms_status st;
    if (n > OUT_CAP)
        return ms_error_set(err, MS_ELIMIT, "the recipients take more than %u bytes", OUT_CAP);
    if (!(e->ctx = EVP_CIPHER_CTX_new()))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if ((st = reserve(e, n, &head, err)) != MS_OK ||
        (st = msi_cms_tmpl_begin(e->tmpl, e->ctx, head, err)) != MS_OK)
        return st;
    e->out_len += n;
    return MS_OK;
}

static ms_status build_envelope(struct enc *e, struct ms_error *err)
{
    ms_status st;
    /* AuthEnvelopedData in one file: per-file work without the CMS layer */
    if (!e->strict && e->det_fd < 0) {
        if ((st = msi_cms_tmpl_get(e->r, &e->tmpl, err)) != MS_OK)
            return st;
        if (e->tmpl)
            return begin_from_template(e, err);
    }
    e->env = e->strict ? CMS_EnvelopedData_create(msi_cipher(MSI_AES256_CBC))
                       : CMS_AuthEnvelopedData_create(msi_cipher(MSI_AES256_GCM));
    if (!e->env)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot create the envelope");
    if (e->strict && CMS_set1_eContentType(e->env, OBJ_nid2obj(NID_pkcs7_signed)) != 1)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot set the content type");
    if ((st = msi_cms_add_recipients(e->env, e->r, false, err)) != MS_OK ||
        (st = data_init(e->env, &e->env_chain, err)) != MS_OK)
        return st;
    BIO_get_cipher_ctx(e->env_chain, &e->ctx);
    if (!e->ctx)
        return ms_error_set(err, MS_EINTERNAL, "no cipher context");
    return split(e->env, true, &e->env_prefix, &e->env_suffix, err);
}

static ms_status build_signed(struct enc *e, struct ms_error *err)
{
    const struct ms_cms_signer *s = e->opt->signer;
    ms_status st;
    e->sd = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY | CMS_DETACHED);
    if (!e->sd)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot create the SignedData");
    if (!CMS_add1_signer(e->sd, s->cert, s->pkey, msi_md(MS_HASH_SHA256), CMS_BINARY | CMS_NOSMIMECAP))
        return msi_ossl_fail(err, MS_EUNSUPPORTED, "cannot add the signer");
    if ((st = data_init(e->sd, &e->sd_chain, err)) != MS_OK)
        return st;
    return split(e->sd, false, &e->sd_prefix, &e->sd_suffix, err);
}

/* ---- AuthEnvelopedData (AES-256-GCM) --------------------------------------------------------- */

static ms_status encrypt_segment(struct enc *e, size_t n, struct ms_error *err)
{
    ms_status st = emit_segment_header(e, n, err);
    for (size_t done = 0, k = 0; st == MS_OK && done < n; done += k) {
        const uint8_t *p = NULL;
        uint8_t *dst = NULL;
        int outl = 0;
        size_t max = n - done < MSI_CMS_CHUNK ? n - done : MSI_CMS_CHUNK;
        if ((st = segment_run(e, done, max, &p, &k, err)) != MS_OK ||
            (st = reserve(e, k, &dst, err)) != MS_OK)
            break;
        /* the cipher writes into the staging buffer: no copy before write() */
        if (EVP_EncryptUpdate(e->ctx, dst, &outl, p, (int)k) != 1 || (size_t)outl != k)
            return msi_ossl_fail(err, MS_EINTERNAL, "encryption failed");
        if (e->det_fd < 0)
            e->out_len += k;
        else if (msi_fd_sink(&e->det_fd, dst, k) != 0)
            return ms_error_set(err, MS_EIO, "cannot write the detached content: %s",
                                strerror(errno));
    }
    return st;
}

static ms_status stream_gcm(struct enc *e, struct ms_error *err)
{
    for (;;) {
        size_t n;
        ms_status st = next_segment(e, &n, err);
        if (st != MS_OK || n == 0)
            return st;
        if (n > MSI_CMS_GCM_MAX - e->total)
            return ms_error_set(err, MS_ELIMIT, "input larger than 64 GiB (the AES-GCM limit)");
        e->total += n;
        if ((st = encrypt_segment(e, n, err)) != MS_OK)
            return st;
        if (e->opt->progress)
            e->opt->progress(e->opt->progress_ctx, e->total);
    }
}

static ms_status run_auth(struct enc *e, struct ms_error *err)
{
    uint8_t tmp[32];
    int outl = 0;
    ms_status st;
    /* (the template's head is staged already) */
    if (e->det_fd < 0 && ((st = emit(e, e->env_prefix.p, e->env_prefix.len, err)) != MS_OK ||
                          (st = emit(e, open_content, 2, err)) != MS_OK))
        return st;
    if ((st = stream_gcm(e, err)) != MS_OK)
        return st;
    if (e->tmpl)
        return MS_OK; /* finish() ends the cipher with the envelope */
    if (EVP_EncryptFinal_ex(e->ctx, tmp, &outl) != 1 || outl != 0 ||
        CMS_dataFinal(e->env, e->env_chain) != 1)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot finish the GCM tag");
    return MS_OK;
}

/* ---- strict DICOM: EnvelopedData (AES-256-CBC) around SignedData ------------------------------ */

/* Encrypt plaintext bytes of the inner SignedData into segments. */
static ms_status outer_put(struct enc *e, const uint8_t *p, size_t n, struct ms_error *err)
{
    while (n > 0) {
        size_t k = e->seg - e->seglen;
        int outl = 0;
        if (k > n)
            k = n;
        if (EVP_EncryptUpdate(e->ctx, e->segbuf + e->seglen, &outl, p, (int)k) != 1)
            return msi_ossl_fail(err, MS_EINTERNAL, "encryption failed");
        e->seglen += (size_t)outl;
        p += k;
        n -= k;
        if (e->seglen >= e->seg) {
            ms_status st = emit_segment(e, e->segbuf, e->seglen, err);
            if (st != MS_OK)
                return st;
            e->seglen = 0;
        }
    }
    return MS_OK;
}

static ms_status stream_signed(struct enc *e, struct ms_error *err)
{
    ms_status st;
    if ((st = outer_put(e, e->sd_prefix.p, e->sd_prefix.len, err)) != MS_OK ||
        (st = outer_put(e, open_econtent, sizeof open_econtent, err)) != MS_OK)
        return st;
    for (;;) {
        size_t n;
        uint8_t hdr[10];
        if ((st = next_segment(e, &n, err)) != MS_OK)
            return st;
        if (n == 0)
            break;
        e->total += n;
        if ((st = outer_put(e, hdr, msi_der_hdr(hdr, 0x04, n), err)) != MS_OK)
            return st;
        for (size_t done = 0, k = 0; done < n; done += k) {
            const uint8_t *p = NULL;
            if ((st = segment_run(e, done, n - done, &p, &k, err)) != MS_OK)
                return st;
            if (BIO_write(e->sd_chain, p, (int)k) != (int)k)
                return msi_ossl_fail(err, MS_EINTERNAL, "digest failed");
            if ((st = outer_put(e, p, k, err)) != MS_OK)
                return st;
        }
        if (e->opt->progress)
            e->opt->progress(e->opt->progress_ctx, e->total);
    }
    if (CMS_dataFinal(e->sd, e->sd_chain) != 1)
        return msi_ossl_fail(err, MS_EUNSUPPORTED, "signing failed");
    if ((st = final_suffix(e->sd, false, &e->sd_prefix, &e->sd_suffix, err)) != MS_OK ||
        (st = outer_put(e, eoc2, 4, err)) != MS_OK)
        return st;
    return outer_put(e, e->sd_suffix.p, e->sd_suffix.len, err);
}

static ms_status run_strict(struct enc *e, struct ms_error *err)
{
    int outl = 0;
    ms_status st;
    e->segbuf = malloc(e->seg + 64);
    if (!e->segbuf)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if (e->det_fd < 0 && ((st = emit(e, e->env_prefix.p, e->env_prefix.len, err)) != MS_OK ||
                          (st = emit(e, open_content, 2, err)) != MS_OK))
        return st;
    if ((st = stream_signed(e, err)) != MS_OK)
        return st;
    if (EVP_EncryptFinal_ex(e->ctx, e->segbuf + e->seglen, &outl) != 1)
        return msi_ossl_fail(err, MS_EINTERNAL, "encryption failed");
    e->seglen += (size_t)outl;
    if ((st = emit_segment(e, e->segbuf, e->seglen, err)) != MS_OK)
        return st;
    e->seglen = 0;
    if (CMS_dataFinal(e->env, e->env_chain) != 1)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot finish the envelope");
    return MS_OK;
}

/* ---- driver ------------------------------------------------------------------------------------ */

static ms_status finish(struct enc *e, struct ms_error *err)
{
    if (e->tmpl) {
        uint8_t tail[MSI_CMS_TMPL_TAIL];
        ms_status st = msi_cms_tmpl_end(e->ctx, tail, err);
        return st != MS_OK ? st : emit(e, tail, sizeof tail, err);
    }
    if (e->det_fd >= 0) {
        unsigned char *der = NULL;
        int len = i2d_CMS_ContentInfo(e->env, &der);
        if (len <= 0)
            return msi_ossl_fail(err, MS_EINTERNAL, "cannot encode the CMS header");
        ms_status st = emit(e, der, (size_t)len, err);
        OPENSSL_free(der);
        return st;
    }
    ms_status st = final_suffix(e->env, true, &e->env_prefix, &e->env_suffix, err);
    if (st == MS_OK)
        st = emit(e, eoc2, 2, err);
    if (st == MS_OK)
        st = emit(e, e->env_suffix.p, e->env_suffix.len, err);
    return st;
}

static ms_status check_options(const struct ms_cms_recipients *r,
                               const struct ms_cms_encrypt_options *opt, size_t *seg,
                               struct ms_error *err)
{
    if (!r || ms_cms_recipients_count(r) == 0)
        return ms_error_set(err, MS_EUSAGE, "no recipient: give a certificate or a passphrase");
    *seg = opt && opt->segment_size ? opt->segment_size : MSI_CMS_SEGMENT_DEFAULT;
    if (*seg > MSI_CMS_SEGMENT_MAX)
        return ms_error_set(err, MS_EUSAGE, "segment size above %u bytes", MSI_CMS_SEGMENT_MAX);
    if (opt && (opt->flags & MS_CMS_STRICT_DICOM) && !opt->signer)
        return ms_error_set(err, MS_EUSAGE, "strict DICOM needs a signing key and certificate");
    return MS_OK;
}

static void enc_free(struct enc *e)
{
    if (e->tmpl)
        EVP_CIPHER_CTX_free(e->ctx); /* (wipes the key schedule) */
    BIO_free_all(e->env_chain);
    BIO_free_all(e->sd_chain);
    CMS_ContentInfo_free(e->env);
    CMS_ContentInfo_free(e->sd);
    msi_buf_free(&e->env_prefix, false);
    msi_buf_free(&e->env_suffix, false);
    msi_buf_free(&e->sd_prefix, false);
    msi_buf_free(&e->sd_suffix, false);
    msi_rd_free(&e->in);
    if (e->inbuf) {
        OPENSSL_cleanse(e->inbuf, e->in_filled); /* plaintext: every byte it ever held */
        free(e->inbuf);
    }
    free(e->out); /* ciphertext and structure only */
    free(e->segbuf);
    ERR_clear_error();
}

/* A regular file is mapped; anything else gets a segment buffer. */
static ms_status open_input(struct enc *e, struct ms_error *err)
{
    ms_status st = msi_rd_init_fd(&e->in, e->in_fd, 64, err);
    if (st != MS_OK)
        return st;
    if (!e->in.mapped) {
        msi_rd_free(&e->in);
        e->in.fd = -1;
        if (!(e->inbuf = malloc(e->seg)))
            return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    if (!(e->out = malloc(OUT_CAP)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    return MS_OK;
}

static ms_status encrypt_stream(const struct ms_cms_recipients *r, int in_fd, ms_sink_fn sink,
                                void *ctx, int det_fd, const struct ms_cms_encrypt_options *opt,
                                struct ms_error *err)
{
    static const struct ms_cms_encrypt_options defaults;
    struct enc e;
    ms_status st;

    memset(&e, 0, sizeof e);
    e.r = r;
    e.opt = opt ? opt : &defaults;
    e.strict = (e.opt->flags & MS_CMS_STRICT_DICOM) != 0;
    e.in_fd = in_fd;
    e.sink = sink;
    e.sctx = ctx;
    e.det_fd = det_fd;
    e.in.fd = -1;
    if ((st = check_options(r, opt, &e.seg, err)) != MS_OK)
        return st;
    if ((st = open_input(&e, err)) != MS_OK) {
        enc_free(&e);
        return st;
    }
    if (st == MS_OK && e.strict)
        st = build_signed(&e, err);
    if (st == MS_OK)
        st = build_envelope(&e, err);
    if (st == MS_OK)
        st = e.strict ? run_strict(&e, err) : run_auth(&e, err);
    if (st == MS_OK)
        st = finish(&e, err);
    if (st == MS_OK)
        st = flush(&e, err);
    enc_free(&e);
    return st;
}

ms_status ms_cms_encrypt_fd(const struct ms_cms_recipients *r, int in_fd, ms_sink_fn sink,
                            void *ctx, const struct ms_cms_encrypt_options *opt,
                            struct ms_error *err)
{
    if (opt && opt->detached_path)
        return ms_error_set(err, MS_EUSAGE, "detached output needs ms_cms_encrypt_file");
    return encrypt_stream(r, in_fd, sink, ctx, -1, opt, err);
}

ms_status ms_cms_encrypt_file(const struct ms_cms_recipients *r, const char *in_path,
                              const char *out_path, const struct ms_cms_encrypt_options *opt,
                              struct ms_error *err)
{
    char tmp[PATH_MAX], dtmp[PATH_MAX];
    int out_fd = -1, det_fd = -1;
    const char *det = opt ? opt->detached_path : NULL;
    bool sync = !(opt && (opt->flags & MS_CMS_NO_FSYNC));
    struct ms_error cerr;
    ms_status st;

    int in_fd = open(in_path, O_RDONLY | O_CLOEXEC);
    if (in_fd < 0)
        return ms_error_set(err, MS_EIO, "cannot open the input: %s", strerror(errno));
    st = msi_atomic_open(out_path, tmp, sizeof tmp, &out_fd, err);
    if (st == MS_OK && det && (st = msi_atomic_open(det, dtmp, sizeof dtmp, &det_fd, err)) != MS_OK) {
        msi_atomic_commit(out_fd, tmp, out_path, false, sync, &cerr);
        out_fd = -1;
    }
    if (st == MS_OK)
        st = encrypt_stream(r, in_fd, msi_fd_sink, &out_fd, det_fd, opt, err);
    close(in_fd);
    if (det_fd >= 0) {
        ms_status c = msi_atomic_commit(det_fd, dtmp, det, st == MS_OK, sync, &cerr);
        if (st == MS_OK && c != MS_OK) {
            st = c;
            if (err)
                *err = cerr;
        }
    }
    if (out_fd >= 0) {
        ms_status c = msi_atomic_commit(out_fd, tmp, out_path, st == MS_OK, sync, &cerr);
        if (st == MS_OK && c != MS_OK) {
            st = c;
            if (err)
                *err = cerr;
        }
    }
    return st;
}
