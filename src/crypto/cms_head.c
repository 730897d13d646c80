/* The head of a CMS envelope (everything before the ciphertext): reading it
 * from a stream, rebuilding it as a small CMS_ContentInfo for OpenSSL's
 * recipient processing, and recognising files (the probe). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "crypto/cms_internal.h"
#include "crypto/crypto_internal.h"

#define PKCS7_ARC 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01
static const uint8_t oid_auth_env[] = {0x06, 0x0b, PKCS7_ARC, 0x09, 0x10, 0x01, 0x17};
static const uint8_t oid_env[] = {0x06, 0x09, PKCS7_ARC, 0x07, 0x03};
static const uint8_t oid_signed[] = {0x06, 0x09, PKCS7_ARC, 0x07, 0x02};
static const uint8_t oid_pkcs7_arc[] = {0x06, 0x09, PKCS7_ARC, 0x07};
static const uint8_t oid_smime_ct_arc[] = {0x06, 0x0b, PKCS7_ARC, 0x09, 0x10, 0x01};

static bool buf_is(const struct msi_buf *b, const uint8_t *v, size_t n)
{
    return b->len == n && memcmp(b->p, v, n) == 0;
}

static bool buf_starts(const struct msi_buf *b, const uint8_t *v, size_t n)
{
    return b->len > n && memcmp(b->p, v, n) == 0;
}

void msi_cms_head_free(struct msi_cms_head *h)
{
    msi_buf_free(&h->oid, false);
    msi_buf_free(&h->version, false);
    msi_buf_free(&h->orig, false);
    msi_buf_free(&h->ris, false);
    msi_buf_free(&h->ctype, false);
    msi_buf_free(&h->alg, false);
}

/* ContentInfo and its content type; kind stays MS_CMS_NOT_CMS when the
 * bytes do not look like CMS at all. */
static ms_status read_content_type(struct msi_ber *b, struct msi_cms_head *h, bool *go,
                                   struct ms_error *err)
{
    struct ms_error soft;
    struct msi_tlv t;
    int first;
    ms_status st = msi_ber_peek(b, &first, err);

    *go = false;
    if (st != MS_OK || first != 0x30)
        return st;
    if (msi_ber_hdr(b, &t, &soft) != MS_OK || msi_ber_enter(b, &t, &soft) != MS_OK ||
        msi_ber_take(b, 0x06, 64, &h->oid, "content type", &soft) != MS_OK)
        return MS_OK;
    if (buf_is(&h->oid, oid_auth_env, sizeof oid_auth_env)) {
        h->auth = true;
        h->kind = MS_CMS_AUTH_ENVELOPED;
    } else if (buf_is(&h->oid, oid_env, sizeof oid_env)) {
        h->kind = MS_CMS_ENVELOPED;
    } else {
        if (buf_starts(&h->oid, oid_pkcs7_arc, sizeof oid_pkcs7_arc) ||
            buf_starts(&h->oid, oid_smime_ct_arc, sizeof oid_smime_ct_arc))
            h->kind = MS_CMS_OTHER;
        return MS_OK;
    }
    *go = true;
    return MS_OK;
}

static ms_status enter_expect(struct msi_ber *b, uint8_t first, const char *what,
                              struct ms_error *err)
{
    struct msi_tlv t;
    ms_status st = msi_ber_expect(b, first, &t, what, err);
    return st != MS_OK ? st : msi_ber_enter(b, &t, err);
}

ms_status msi_cms_head_read(struct msi_ber *b, struct msi_cms_head *h, struct ms_error *err)
{
    int first;
    bool go;
    ms_status st;

    memset(h, 0, sizeof *h);
    h->kind = MS_CMS_NOT_CMS;
    if ((st = read_content_type(b, h, &go, err)) != MS_OK || !go)
        return st;
    if ((st = enter_expect(b, 0xa0, "[0] content", err)) != MS_OK ||
        (st = enter_expect(b, 0x30, "envelope SEQUENCE", err)) != MS_OK ||
        (st = msi_ber_take(b, 0x02, 16, &h->version, "version", err)) != MS_OK ||
        (st = msi_ber_peek(b, &first, err)) != MS_OK)
        return st;
    if (first == 0xa0 &&
        (st = msi_ber_take(b, 0xa0, MSI_CMS_MAX_CERTS_BYTES, &h->orig, "originatorInfo", err)) !=
            MS_OK)
        return st;
    if ((st = msi_ber_take(b, 0x31, MSI_CMS_MAX_RECIPIENTS_BYTES, &h->ris, "recipientInfos",
                           err)) != MS_OK ||
        (st = enter_expect(b, 0x30, "EncryptedContentInfo", err)) != MS_OK ||
        (st = msi_ber_take(b, 0x06, 64, &h->ctype, "content type", err)) != MS_OK ||
        (st = msi_ber_take(b, 0x30, MSI_CMS_MAX_SMALL, &h->alg, "content encryption algorithm",
                           err)) != MS_OK ||
        (st = msi_ber_peek(b, &first, err)) != MS_OK)
        return st;
    h->signed_inner = buf_is(&h->ctype, oid_signed, sizeof oid_signed);
    if (!h->auth)
        h->kind = h->signed_inner ? MS_CMS_ENVELOPED_SIGNED : MS_CMS_ENVELOPED;
    if (first < 0) {
        h->detached = true;
        return MS_OK;
    }
    if (first != 0x80 && first != 0xa0)
        return ms_error_set(err, MS_EMALFORMED, "unexpected element after the content "
                                                "encryption algorithm");
    return msi_ber_hdr(b, &h->content, err);
}

static bool put_wrapped(struct msi_buf *out, uint8_t tag, const struct msi_buf *content)
{
    return msi_buf_der_hdr(out, tag, content->len) && msi_buf_put(out, content->p, content->len);
}

ms_status msi_cms_head_to_cms(const struct msi_cms_head *h, CMS_ContentInfo **out,
                              struct ms_error *err)
{
    static const uint8_t empty_content[2] = {0x80, 0x00}, empty_mac[2] = {0x04, 0x00};
    struct msi_buf eci = {0}, env = {0}, inner = {0}, ci = {0};
    ms_status st = ms_error_set(err, MS_ENOMEM, "out of memory");

    if (!msi_buf_put(&eci, h->ctype.p, h->ctype.len) || !msi_buf_put(&eci, h->alg.p, h->alg.len) ||
        !msi_buf_put(&eci, empty_content, 2) ||
        !msi_buf_put(&env, h->version.p, h->version.len) ||
        !msi_buf_put(&env, h->orig.p, h->orig.len) || !msi_buf_put(&env, h->ris.p, h->ris.len) ||
        !put_wrapped(&env, 0x30, &eci) || (h->auth && !msi_buf_put(&env, empty_mac, 2)) ||
        !put_wrapped(&inner, 0x30, &env) || !msi_buf_put(&ci, h->oid.p, h->oid.len) ||
        !put_wrapped(&ci, 0xa0, &inner))
        goto done;
    msi_buf_free(&env, false);
    if (!put_wrapped(&env, 0x30, &ci))
        goto done;
    const unsigned char *p = env.p;
    *out = d2i_CMS_ContentInfo(NULL, &p, (long)env.len);
    if (!*out)
        st = msi_ossl_fail(err, MS_EMALFORMED, "malformed CMS recipients");
    else
        st = MS_OK;
done:
    msi_buf_free(&eci, false);
    msi_buf_free(&env, false);
    msi_buf_free(&inner, false);
    msi_buf_free(&ci, false);
    return st;
}

/* ---- probe ------------------------------------------------------------------------------- */

struct mem_src {
    const uint8_t *p;
    size_t left;
};

static ms_status mem_fill(void *ctx, uint8_t *dst, size_t cap, size_t *got, struct ms_error *err)
{
    struct mem_src *m = ctx;
    size_t n = m->left < cap ? m->left : cap;
    (void)err;
    memcpy(dst, m->p, n);
    m->p += n;
    m->left -= n;
    *got = n;
    return MS_OK;
}

static bool is_argon2id_kek(CMS_RecipientInfo *ri)
{
    ASN1_OBJECT *other = NULL;
    if (CMS_RecipientInfo_kekri_get0_id(ri, NULL, NULL, NULL, &other, NULL) != 1 || !other)
        return false;
    return OBJ_cmp(other, msi_cms_argon2id_oid()) == 0;
}

void msi_cms_count_recipients(CMS_ContentInfo *cms, struct ms_cms_info *info)
{
    STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
    for (int i = 0; i < sk_CMS_RecipientInfo_num(ris); i++) {
        CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);
        switch (CMS_RecipientInfo_type(ri)) {
        case CMS_RECIPINFO_TRANS:
            info->key_transport++;
            break;
        case CMS_RECIPINFO_AGREE:
            info->key_agreement +=
                (unsigned)sk_CMS_RecipientEncryptedKey_num(CMS_RecipientInfo_kari_get0_reks(ri));
            break;
        case CMS_RECIPINFO_KEK:
            if (is_argon2id_kek(ri))
                info->passphrase++;
            else
                info->other++;
            break;
        default:
            info->other++;
        }
    }
}

static void cipher_name(const struct msi_buf *alg, char *out, size_t cap)
{
    uint8_t tag;
    size_t hdr, clen;
    out[0] = 0;
    if (!msi_der_tlv(alg->p, alg->len, &tag, &hdr, &clen))
        return;
    const unsigned char *p = alg->p + hdr;
    ASN1_OBJECT *o = d2i_ASN1_OBJECT(NULL, &p, (long)clen);
    if (!o) {
        ERR_clear_error();
        return;
    }
    int nid = OBJ_obj2nid(o);
    const char *ln = nid != NID_undef ? OBJ_nid2ln(nid) : NULL;
    size_t i = 0;
    for (; ln && ln[i] && i + 1 < cap; i++)
        out[i] = (char)(ln[i] >= 'a' && ln[i] <= 'z' ? ln[i] - 32 : ln[i]);
    out[i] = 0;
    ASN1_OBJECT_free(o);
}

static ms_status probe(struct msi_rd *rd, struct ms_cms_info *info, struct ms_error *err)
{
    struct msi_ber b;
    struct msi_cms_head h;
    CMS_ContentInfo *cms = NULL;

    memset(info, 0, sizeof *info);
    msi_ber_init(&b, rd);
    ms_status st = msi_cms_head_read(&b, &h, err);
    info->kind = h.kind;
    if (st == MS_OK && (h.kind == MS_CMS_AUTH_ENVELOPED || h.kind == MS_CMS_ENVELOPED ||
                        h.kind == MS_CMS_ENVELOPED_SIGNED)) {
        info->detached = h.detached;
        cipher_name(&h.alg, info->cipher, sizeof info->cipher);
        if ((st = msi_cms_head_to_cms(&h, &cms, err)) == MS_OK)
            msi_cms_count_recipients(cms, info);
        CMS_ContentInfo_free(cms);
    }
    msi_cms_head_free(&h);
    ERR_clear_error();
    return st;
}

ms_status ms_cms_probe_buffer(const void *data, size_t len, struct ms_cms_info *info,
                              struct ms_error *err)
{
    struct mem_src m = {data, len};
    struct msi_rd rd;
    ms_status st = msi_rd_init(&rd, mem_fill, &m, 64u << 10, err);
    if (st != MS_OK)
        return st;
    st = probe(&rd, info, err);
    msi_rd_free(&rd);
    return st;
}

ms_status ms_cms_probe_file(const char *path, struct ms_cms_info *info, struct ms_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ms_error_set(err, MS_EIO, "cannot open: %s", strerror(errno));
    struct msi_rd rd;
    ms_status st = msi_rd_init_fd(&rd, fd, 64u << 10, err);
    if (st == MS_OK) {
        st = probe(&rd, info, err);
        msi_rd_free(&rd);
    }
    close(fd);
    return st;
}

enum ms_cms_kind ms_cms_kind_guess(const void *head, size_t len)
{
    const uint8_t *p = head;
    size_t i = 2, n;
    struct msi_buf oid;

    if (len < 2 || p[0] != 0x30 || p[1] > 0x84)
        return MS_CMS_NOT_CMS;
    if (p[1] > 0x80) /* definite long form; 0x80 (indefinite) has no length octets */
        i += p[1] & 0x7f;
    if (i + 2 > len || p[i] != 0x06 || p[i + 1] > 32 || i + 2 + p[i + 1] > len)
        return MS_CMS_NOT_CMS;
    n = 2 + (size_t)p[i + 1];
    oid.p = (uint8_t *)(p + i);
    oid.len = oid.cap = n;
    if (buf_is(&oid, oid_auth_env, sizeof oid_auth_env))
        return MS_CMS_AUTH_ENVELOPED;
    if (buf_is(&oid, oid_env, sizeof oid_env))
        return MS_CMS_ENVELOPED;
    if (buf_starts(&oid, oid_pkcs7_arc, sizeof oid_pkcs7_arc) ||
        buf_starts(&oid, oid_smime_ct_arc, sizeof oid_smime_ct_arc))
        return MS_CMS_OTHER;
    return MS_CMS_NOT_CMS;
}

const char *ms_cms_kind_scheme(enum ms_cms_kind kind)
{
    switch (kind) {
    case MS_CMS_AUTH_ENVELOPED:
    case MS_CMS_ENVELOPED_SIGNED:
    case MS_CMS_ENVELOPED:
        return "cms";
    default:
        return NULL;
    }
}

const char *ms_cms_kind_name(enum ms_cms_kind kind)
{
    switch (kind) {
    case MS_CMS_NOT_CMS:
        return "not CMS";
    case MS_CMS_AUTH_ENVELOPED:
        return "AuthEnvelopedData";
    case MS_CMS_ENVELOPED_SIGNED:
        return "EnvelopedData(SignedData)";
    case MS_CMS_ENVELOPED:
        return "EnvelopedData";
    case MS_CMS_OTHER:
        return "other CMS content";
    }
    return "unknown";
}
