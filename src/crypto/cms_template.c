/* The envelope template of a recipient set: AuthEnvelopedData (AES-256-GCM)
 * encoded per file without OpenSSL's CMS layer.
 *
 * Once per recipient set, OpenSSL's CMS layer encodes an envelope for every
 * recipient alone and one for the whole set (empty content). Their DER is
 * the template: its constant parts are kept byte for byte and the fields
 * that change per file are located in it — the GCM nonce, the MAC, every
 * encryptedKey and, for EC recipients, the originator's ephemeral public
 * key. The set's envelope must be the recipients' envelopes put together
 * (same version and layout; its RecipientInfos equal the single ones outside
 * the per-file fields), else the set gets no template and the caller keeps
 * OpenSSL's CMS layer for it.
 *
 * Per file: a fresh random content-encryption key and nonce; the key is
 * wrapped for every recipient with the primitives OpenSSL's CMS layer uses
 * (RFC 8017 RSAES-OAEP SHA-256/MGF1-SHA-256; RFC 5753 ECDH with a fresh
 * ephemeral P-256 key, ANSI X9.63 KDF SHA-256 over the ECC-CMS-SharedInfo,
 * RFC 3394 AES-256 key wrap; AES-256 key wrap under the Argon2id KEK); the
 * RecipientInfos are sorted as DER sorts a SET OF; the head is the template's
 * bytes with those fields filled in. docs/formats/cms.md gives the layout. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "crypto/cms_internal.h"
#include "crypto/crypto_internal.h"

#define CEK_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define WRAPPED_LEN (CEK_LEN + 8) /* RFC 3394 */
#define EC_POINT_LEN 65           /* uncompressed P-256 point */
#define MAX_KIDS 8

/* Algorithm identifiers the per-file code implements, as OpenSSL encodes them. */
static const uint8_t alg_oaep_sha256[] = { /* RSAES-OAEP { sha256, mgf1(sha256) } */
    0x30, 0x38, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07, 0x30, 0x2b,
    0xa0, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
    0xa1, 0x1a, 0x30, 0x18, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08,
    0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const uint8_t alg_ecdh_sha256_wrap[] = { /* dhSinglePass-stdDH-sha256kdf { aes256-wrap } */
    0x30, 0x15, 0x06, 0x06, 0x2b, 0x81, 0x04, 0x01, 0x0b, 0x01, 0x30, 0x0b, 0x06, 0x09,
    0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2d};
static const uint8_t alg_aes256_wrap[] = {0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48,
                                          0x01, 0x65, 0x03, 0x04, 0x01, 0x2d};
static const uint8_t alg_ec_public_key[] = {0x30, 0x09, 0x06, 0x07, 0x2a, 0x86,
                                            0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t alg_gcm_head[] = { /* aes-256-gcm { nonce OCTET STRING (12) ... */
    0x30, 0x1e, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
    0x04, 0x01, 0x2e, 0x30, 0x11, 0x04, NONCE_LEN};
static const uint8_t alg_gcm_tail[] = {0x02, 0x01, TAG_LEN}; /* ... ICV length 16 } */

enum ri_kind { RI_RSA, RI_EC, RI_KEK, RI_KIND_COUNT };

struct tmpl_ri {
    enum ri_kind kind;
    uint8_t *der; /* the RecipientInfo as OpenSSL encoded it for this recipient */
    size_t len;
    size_t key_off, key_len; /* encryptedKey octets */
    size_t pub_off;          /* EC: the ephemeral point (after the unused-bits octet) */
    EVP_PKEY *pkey;          /* RSA, EC: the certificate's key (borrowed from r) */
    const uint8_t *kek;      /* KEK: the Argon2id KEK (borrowed from r) */
    uint8_t *shared_info;    /* EC: DER ECC-CMS-SharedInfo, the X9.63 KDF's SharedInfo */
    size_t si_len;
};

struct msi_cms_tmpl {
    struct msi_buf pre;   /* ContentInfo, [0], AuthEnvelopedData opened; version */
    uint8_t set_hdr[10];  /* SET OF RecipientInfo header */
    size_t set_hdr_len;
    struct tmpl_ri *ri;   /* in the recipient set's order */
    size_t nri, ris_len;
    struct msi_buf eci;   /* EncryptedContentInfo opened, content type, algorithm */
    size_t nonce_off;     /* in eci */
    size_t head_len;
};

/* ---- walking OpenSSL's DER ------------------------------------------------------------- */

struct der_el {
    size_t off, hdr, len; /* element at der + off, content at der + off + hdr */
    uint8_t tag;
};

static bool der_at(const uint8_t *der, size_t end, size_t off, struct der_el *el)
{
    if (off >= end || !msi_der_tlv(der + off, end - off, &el->tag, &el->hdr, &el->len))
        return false;
    el->off = off;
    return true;
}

/* The children of the constructed element el: *n of them (at most MAX_KIDS). */
static bool der_kids(const uint8_t *der, const struct der_el *el, struct der_el kids[MAX_KIDS],
                     size_t *n)
{
    size_t off = el->off + el->hdr, end = off + el->len;
    *n = 0;
    while (off < end) {
        if (*n == MAX_KIDS || !der_at(der, end, off, &kids[*n]))
            return false;
        off += kids[*n].hdr + kids[*n].len;
        (*n)++;
    }
    return (el->tag & 0x20) != 0;
}

static bool der_is(const uint8_t *der, const struct der_el *el, const uint8_t *v, size_t n)
{
    return el->hdr + el->len == n && memcmp(der + el->off, v, n) == 0;
}

static size_t der_end(const struct der_el *el)
{
    return el->off + el->hdr + el->len;
}

/* The parts of an AuthEnvelopedData ContentInfo without content (OpenSSL's
 * envelope, detached): its content type, version, RecipientInfos, content
 * type and algorithm of the content, in that order and nothing else but a
 * 16-byte MAC. */
struct env_parts {
    struct der_el oid, version, set, ctype, alg;
};

static bool env_split(const uint8_t *der, size_t len, struct env_parts *p)
{
    struct der_el ci, k1[MAX_KIDS], k2[MAX_KIDS], k3[MAX_KIDS], k4[MAX_KIDS];
    size_t n1, n2, n3, n4;
    if (!der_at(der, len, 0, &ci) || der_end(&ci) != len || ci.tag != 0x30 ||
        !der_kids(der, &ci, k1, &n1) || n1 != 2 || k1[0].tag != 0x06 || k1[1].tag != 0xa0 ||
        !der_kids(der, &k1[1], k2, &n2) || n2 != 1 || k2[0].tag != 0x30 ||
        !der_kids(der, &k2[0], k3, &n3) || n3 != 4)
        return false;
    /* version, recipientInfos, authEncryptedContentInfo, mac: no originatorInfo or attributes */
    if (k3[0].tag != 0x02 || k3[1].tag != 0x31 || k3[2].tag != 0x30 || k3[3].tag != 0x04 ||
        k3[3].len != TAG_LEN || !der_kids(der, &k3[2], k4, &n4) || n4 != 2 ||
        k4[0].tag != 0x06 || k4[1].tag != 0x30)
        return false;
    p->oid = k1[0];
    p->version = k3[0];
    p->set = k3[1];
    p->ctype = k4[0];
    p->alg = k4[1];
    /* AES-256-GCM with a 12-byte nonce and a 16-byte tag */
    const uint8_t *a = der + p->alg.off;
    size_t alen = p->alg.hdr + p->alg.len;
    return alen == sizeof alg_gcm_head + NONCE_LEN + sizeof alg_gcm_tail &&
           memcmp(a, alg_gcm_head, sizeof alg_gcm_head) == 0 &&
           memcmp(a + sizeof alg_gcm_head + NONCE_LEN, alg_gcm_tail, sizeof alg_gcm_tail) == 0;
}

/* ---- the envelopes OpenSSL's CMS layer makes --------------------------------------------- */

/* The DER of an AuthEnvelopedData for the recipients of r with empty content,
 * made and encoded by OpenSSL's CMS layer exactly as cms_encrypt.c does. */
static ms_status openssl_envelope(const struct ms_cms_recipients *r, uint8_t **der, size_t *len,
                                  struct ms_error *err)
{
    CMS_ContentInfo *cms = CMS_AuthEnvelopedData_create(msi_cipher(MSI_AES256_GCM));
    BIO *null = BIO_new(BIO_s_null()), *chain = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *p = NULL, tmp[32];
    int outl = 0, n = 0;
    ms_status st = MS_OK;

    if (!cms || !null)
        st = msi_ossl_fail(err, MS_ENOMEM, "cannot create the envelope template");
    if (st == MS_OK)
        st = msi_cms_add_recipients(cms, r, false, err);
    if (st == MS_OK && !(chain = CMS_dataInit(cms, null)))
        st = msi_ossl_fail(err, MS_EINTERNAL, "cannot start the envelope template");
    if (chain) {
        null = NULL; /* the chain owns it */
        BIO_get_cipher_ctx(chain, &ctx);
    }
    if (st == MS_OK && (!ctx || EVP_EncryptFinal_ex(ctx, tmp, &outl) != 1 ||
                        CMS_dataFinal(cms, chain) != 1 || (n = i2d_CMS_ContentInfo(cms, &p)) <= 0))
        st = msi_ossl_fail(err, MS_EINTERNAL, "cannot encode the envelope template");
    if (st == MS_OK && !(*der = malloc((size_t)n)))
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st == MS_OK) {
        memcpy(*der, p, (size_t)n);
        *len = (size_t)n;
    }
    OPENSSL_free(p);
    BIO_free_all(chain);
    BIO_free(null);
    CMS_ContentInfo_free(cms);
    return st;
}

/* ---- one recipient's RecipientInfo ------------------------------------------------------------ */

/* KeyTransRecipientInfo { version 0, rid, RSAES-OAEP SHA-256, encryptedKey (modulus size) } */
static bool locate_rsa(struct tmpl_ri *ri)
{
    struct der_el el, k[MAX_KIDS];
    size_t n;
    if (!der_at(ri->der, ri->len, 0, &el) || el.tag != 0x30 || !der_kids(ri->der, &el, k, &n) ||
        n != 4 || !der_is(ri->der, &k[2], alg_oaep_sha256, sizeof alg_oaep_sha256) ||
        k[3].tag != 0x04 || EVP_PKEY_get_size(ri->pkey) <= 0 ||
        k[3].len != (size_t)EVP_PKEY_get_size(ri->pkey))
        return false;
    ri->kind = RI_RSA;
    ri->key_off = k[3].off + k[3].hdr;
    ri->key_len = k[3].len;
    return true;
}

/* The ECC-CMS-SharedInfo (RFC 5753 7.2) for the wrap algorithm of the
 * KeyAgreeRecipientInfo: what OpenSSL's CMS layer gives its KDF. */
static bool ec_shared_info(struct tmpl_ri *ri, const struct der_el *wrap)
{
    const unsigned char *p = ri->der + wrap->off;
    X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &p, (long)(wrap->hdr + wrap->len));
    unsigned char *si = NULL;
    int n = alg ? CMS_SharedInfo_encode(&si, alg, NULL, CEK_LEN) : 0;
    X509_ALGOR_free(alg);
    if (n <= 0 || !(ri->shared_info = malloc((size_t)n))) {
        OPENSSL_free(si);
        return false;
    }
    memcpy(ri->shared_info, si, (size_t)n);
    ri->si_len = (size_t)n;
    OPENSSL_free(si);
    return true;
}

/* KeyAgreeRecipientInfo { version 3, originator [0] { [1] { id-ecPublicKey,
 * BIT STRING point } }, dhSinglePass-stdDH-sha256kdf { aes256-wrap },
 * { { rid, encryptedKey (40) } } }: one recipient key, no ukm. */
static bool locate_ec(struct tmpl_ri *ri)
{
    struct der_el el, k[MAX_KIDS], o[MAX_KIDS], ok[MAX_KIDS], a[MAX_KIDS], reks[MAX_KIDS],
        rek[MAX_KIDS];
    size_t n, no, nok, na, nr, nrek;
    if (!der_at(ri->der, ri->len, 0, &el) || el.tag != 0xa1 || !der_kids(ri->der, &el, k, &n) ||
        n != 4 || k[1].tag != 0xa0 || !der_kids(ri->der, &k[1], o, &no) || no != 1 ||
        o[0].tag != 0xa1 || !der_kids(ri->der, &o[0], ok, &nok) || nok != 2 ||
        !der_is(ri->der, &ok[0], alg_ec_public_key, sizeof alg_ec_public_key) ||
        ok[1].tag != 0x03 || ok[1].len != 1 + EC_POINT_LEN ||
        ri->der[ok[1].off + ok[1].hdr] != 0 ||
        !der_is(ri->der, &k[2], alg_ecdh_sha256_wrap, sizeof alg_ecdh_sha256_wrap) ||
        !der_kids(ri->der, &k[2], a, &na) || na != 2 || k[3].tag != 0x30 ||
        !der_kids(ri->der, &k[3], reks, &nr) || nr != 1 ||
        !der_kids(ri->der, &reks[0], rek, &nrek) || nrek != 2 || rek[1].tag != 0x04 ||
        rek[1].len != WRAPPED_LEN)
        return false;
    ri->kind = RI_EC;
    ri->pub_off = ok[1].off + ok[1].hdr + 1;
    ri->key_off = rek[1].off + rek[1].hdr;
    ri->key_len = WRAPPED_LEN;
    return ec_shared_info(ri, &a[1]);
}

/* KEKRecipientInfo { version 4, kekid, aes256-wrap, encryptedKey (40) } */
static bool locate_kek(struct tmpl_ri *ri)
{
    struct der_el el, k[MAX_KIDS];
    size_t n;
    if (!der_at(ri->der, ri->len, 0, &el) || el.tag != 0xa2 || !der_kids(ri->der, &el, k, &n) ||
        n != 4 || !der_is(ri->der, &k[2], alg_aes256_wrap, sizeof alg_aes256_wrap) ||
        k[3].tag != 0x04 || k[3].len != WRAPPED_LEN)
        return false;
    ri->kind = RI_KEK;
    ri->key_off = k[3].off + k[3].hdr;
    ri->key_len = WRAPPED_LEN;
    return true;
}

/* The RecipientInfo OpenSSL makes for recipient i of r (certificates first,
 * then passphrases) with its per-file fields located. *usable false when
 * its shape is not one the per-file code implements. */
static ms_status one_recipient(const struct ms_cms_recipients *r, size_t i, struct tmpl_ri *ri,
                               bool *usable, struct ms_error *err)
{
    struct ms_cms_recipients one;
    struct env_parts p;
    uint8_t *der = NULL;
    size_t len = 0;
    struct der_el k[MAX_KIDS];
    size_t n;

    memset(&one, 0, sizeof one);
    if (i < r->ncerts) {
        one.certs = &r->certs[i];
        one.ncerts = 1;
        ri->pkey = X509_get0_pubkey(r->certs[i].cert);
    } else {
        one.pass = &r->pass[i - r->ncerts];
        one.npass = 1;
        ri->kek = r->pass[i - r->ncerts].kek;
    }
    ms_status st = openssl_envelope(&one, &der, &len, err);
    *usable = st == MS_OK && env_split(der, len, &p) && der_kids(der, &p.set, k, &n) && n == 1 &&
              (ri->der = malloc(k[0].hdr + k[0].len)) != NULL;
    if (*usable) {
        ri->len = k[0].hdr + k[0].len;
        memcpy(ri->der, der + k[0].off, ri->len);
        *usable = i < r->ncerts ? (r->certs[i].ec ? locate_ec(ri) : locate_rsa(ri))
                                : locate_kek(ri);
    }
    free(der);
    return st;
}

/* ---- the set ---------------------------------------------------------------------------- */

/* The bytes of a RecipientInfo that are the same in every file: all but the
 * encryptedKey and the ephemeral point. */
static bool same_outside_fields(const struct tmpl_ri *ri, const uint8_t *p, size_t len)
{
    size_t cut[4] = {ri->key_off, ri->key_off + ri->key_len, ri->len, ri->len};
    if (ri->kind == RI_EC) { /* the point comes before the key in the encoding */
        cut[0] = ri->pub_off;
        cut[1] = ri->pub_off + EC_POINT_LEN;
        cut[2] = ri->key_off;
        cut[3] = ri->key_off + ri->key_len;
    }
    if (len != ri->len)
        return false;
    size_t at = 0;
    for (int i = 0; i < 4; i += 2) {
        if (memcmp(p + at, ri->der + at, cut[i] - at) != 0)
            return false;
        at = cut[i + 1];
    }
    return memcmp(p + at, ri->der + at, ri->len - at) == 0;
}

/* Every RecipientInfo of the set's envelope is one of the single ones. */
static bool set_matches(const struct msi_cms_tmpl *t, const uint8_t *der, const struct der_el *set)
{
    bool used[MAX_KIDS] = {false};
    struct der_el k[MAX_KIDS];
    size_t n;
    if (!der_kids(der, set, k, &n) || n != t->nri || set->len != t->ris_len)
        return false;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < t->nri &&
               (used[j] || !same_outside_fields(&t->ri[j], der + k[i].off, k[i].hdr + k[i].len)))
            j++;
        if (j == t->nri)
            return false;
        used[j] = true;
    }
    return true;
}

/* The constant parts around the RecipientInfos, from the set's envelope. */
static bool outer_parts(struct msi_cms_tmpl *t, const uint8_t *der, size_t len)
{
    static const uint8_t open_seq[2] = {0x30, 0x80}, open_ctx0[2] = {0xa0, 0x80};
    struct env_parts p;
    if (!env_split(der, len, &p) || !set_matches(t, der, &p.set))
        return false;
    t->set_hdr_len = msi_der_hdr(t->set_hdr, 0x31, t->ris_len);
    if (t->set_hdr_len != p.set.hdr || memcmp(t->set_hdr, der + p.set.off, p.set.hdr) != 0)
        return false;
    t->nonce_off = 2 + p.ctype.hdr + p.ctype.len + sizeof alg_gcm_head;
    t->head_len = 0;
    bool ok = msi_buf_put(&t->pre, open_seq, 2) &&
              msi_buf_put(&t->pre, der + p.oid.off, p.oid.hdr + p.oid.len) &&
              msi_buf_put(&t->pre, open_ctx0, 2) && msi_buf_put(&t->pre, open_seq, 2) &&
              msi_buf_put(&t->pre, der + p.version.off, p.version.hdr + p.version.len) &&
              msi_buf_put(&t->eci, open_seq, 2) &&
              msi_buf_put(&t->eci, der + p.ctype.off, p.ctype.hdr + p.ctype.len) &&
              msi_buf_put(&t->eci, der + p.alg.off, p.alg.hdr + p.alg.len);
    t->head_len = t->pre.len + t->set_hdr_len + t->ris_len + t->eci.len;
    return ok;
}

void msi_cms_tmpl_free(struct msi_cms_tmpl *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nri; i++) {
        free(t->ri[i].der);
        free(t->ri[i].shared_info);
    }
    free(t->ri);
    msi_buf_free(&t->pre, false);
    msi_buf_free(&t->eci, false);
    free(t);
}

/* The template of r, or *out NULL when r has a shape it does not cover. */
static ms_status build(const struct ms_cms_recipients *r, struct msi_cms_tmpl **out,
                       struct ms_error *err)
{
    size_t nri = r->ncerts + r->npass;
    struct msi_cms_tmpl *t = calloc(1, sizeof *t);
    uint8_t *der = NULL;
    size_t len = 0;
    bool usable = nri > 0 && nri <= MAX_KIDS;
    ms_status st = MS_OK;

    *out = NULL;
    if (!t || !(t->ri = calloc(nri ? nri : 1, sizeof *t->ri))) {
        msi_cms_tmpl_free(t);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    /* an EC recipient's key is checked once here, not for every file */
    for (size_t i = 0; usable && i < r->ncerts; i++) {
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, X509_get0_pubkey(r->certs[i].cert), NULL);
        usable = pc && (!r->certs[i].ec || EVP_PKEY_public_check(pc) == 1);
        EVP_PKEY_CTX_free(pc);
    }
    for (size_t i = 0; st == MS_OK && usable && i < nri; i++, t->nri++) {
        st = one_recipient(r, i, &t->ri[i], &usable, err);
        t->ris_len += t->ri[i].len;
    }
    if (st == MS_OK && usable && (st = openssl_envelope(r, &der, &len, err)) == MS_OK)
        usable = outer_parts(t, der, len);
    free(der);
    ERR_clear_error();
    if (st != MS_OK || !usable) {
        msi_cms_tmpl_free(t);
        return st;
    }
    *out = t;
    return MS_OK;
}

ms_status msi_cms_tmpl_get(const struct ms_cms_recipients *rc, const struct msi_cms_tmpl **out,
                           struct ms_error *err)
{
    struct ms_cms_recipients *r = (struct ms_cms_recipients *)rc; /* the template is a cache */
    ms_status st = MS_OK;

    pthread_mutex_lock(&r->lock);
    if (!r->tmpl_tried) {
        struct msi_cms_tmpl *t = NULL;
        st = build(r, &t, err);
        if (st == MS_OK) {
            r->tmpl = t;
            r->tmpl_tried = true;
        }
    }
    *out = r->tmpl;
    pthread_mutex_unlock(&r->lock);
    return st;
}

/* ---- per file: wrapping the content key --------------------------------------------------- */

/* RFC 3394 AES-256 key wrap of the content key under kek. */
static bool aes_wrap(const uint8_t kek[32], const uint8_t cek[CEK_LEN], uint8_t out[WRAPPED_LEN])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = c && msi_cipher(MSI_AES256_WRAP) &&
              EVP_EncryptInit_ex2(c, msi_cipher(MSI_AES256_WRAP), kek, NULL, NULL) == 1 &&
              EVP_EncryptUpdate(c, out, &n, cek, CEK_LEN) == 1 && n == WRAPPED_LEN;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* RSAES-OAEP, SHA-256 and MGF1-SHA-256, empty label. */
static bool fill_rsa(const struct tmpl_ri *ri, const uint8_t *cek, uint8_t *dst)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, ri->pkey, NULL);
    const EVP_MD *sha256 = msi_md(MS_HASH_SHA256);
    size_t outlen = ri->key_len;
    bool ok = pc && EVP_PKEY_encrypt_init(pc) > 0 &&
              EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) > 0 &&
              EVP_PKEY_CTX_set_rsa_oaep_md(pc, sha256) > 0 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(pc, sha256) > 0 &&
              EVP_PKEY_encrypt(pc, dst + ri->key_off, &outlen, cek, CEK_LEN) > 0 &&
              outlen == ri->key_len;
    EVP_PKEY_CTX_free(pc);
    return ok;
}

/* The KEK of a fresh ephemeral key and the recipient's key: ECDH, then the
 * X9.63 KDF with SHA-256 over the SharedInfo; the ephemeral point into
 * point. The recipient's key was checked when the template was built. */
static bool ec_kek(const struct tmpl_ri *ri, uint8_t kek[32], uint8_t point[EC_POINT_LEN])
{
    size_t outlen = 32, keklen = 32, publen = 0;
    OSSL_PARAM kdf[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_EXCHANGE_PARAM_KDF_TYPE, (char *)OSSL_KDF_NAME_X963KDF, 0),
        OSSL_PARAM_construct_utf8_string(OSSL_EXCHANGE_PARAM_KDF_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_size_t(OSSL_EXCHANGE_PARAM_KDF_OUTLEN, &outlen),
        OSSL_PARAM_construct_octet_string(OSSL_EXCHANGE_PARAM_KDF_UKM, ri->shared_info, ri->si_len),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *gen = EVP_PKEY_CTX_new_from_pkey(NULL, ri->pkey, NULL), *dh = NULL;
    EVP_PKEY *eph = NULL;
    bool ok = gen && EVP_PKEY_keygen_init(gen) > 0 && EVP_PKEY_keygen(gen, &eph) > 0 &&
              EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                              EC_POINT_LEN, &publen) == 1 &&
              publen == EC_POINT_LEN && point[0] == 0x04 &&
              (dh = EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL)) != NULL &&
              EVP_PKEY_derive_init_ex(dh, kdf) > 0 &&
              EVP_PKEY_derive_set_peer_ex(dh, ri->pkey, 0) > 0 &&
              EVP_PKEY_derive(dh, kek, &keklen) > 0 && keklen == 32;
    EVP_PKEY_CTX_free(dh);
    EVP_PKEY_CTX_free(gen);
    EVP_PKEY_free(eph); /* the ephemeral private key is used for this file only */
    return ok;
}

static bool fill_ec(const struct tmpl_ri *ri, const uint8_t *cek, uint8_t *dst)
{
    uint8_t kek[32];
    bool ok = ec_kek(ri, kek, dst + ri->pub_off) && aes_wrap(kek, cek, dst + ri->key_off);
    OPENSSL_cleanse(kek, sizeof kek);
    return ok;
}

static bool fill_kek(const struct tmpl_ri *ri, const uint8_t *cek, uint8_t *dst)
{
    return aes_wrap(ri->kek, cek, dst + ri->key_off);
}

static bool (*const fill[RI_KIND_COUNT])(const struct tmpl_ri *, const uint8_t *, uint8_t *) = {
    [RI_RSA] = fill_rsa,
    [RI_EC] = fill_ec,
    [RI_KEK] = fill_kek,
};

/* ---- per file: the head and the tail ------------------------------------------------------- */

struct span {
    const uint8_t *p;
    size_t len;
};

/* DER's order of a SET OF: the encodings compared as octet strings, a
 * shorter one that is a prefix first (what OpenSSL's encoder does). */
static int der_cmp(const struct span *a, const struct span *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->p, b->p, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static void sort_spans(struct span *s, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct span x = s[i];
        size_t j = i;
        for (; j > 0 && der_cmp(&s[j - 1], &x) > 0; j--)
            s[j] = s[j - 1];
        s[j] = x;
    }
}

/* Every recipient's RecipientInfo for cek, in DER order, at out (filled in
 * scratch first: the order depends on the filled-in bytes). */
static bool recipient_infos(const struct msi_cms_tmpl *t, const uint8_t cek[CEK_LEN],
                            uint8_t *scratch, uint8_t *out)
{
    struct span s[MAX_KIDS];
    uint8_t *at = scratch;
    for (size_t i = 0; i < t->nri; i++) {
        memcpy(at, t->ri[i].der, t->ri[i].len);
        if (!fill[t->ri[i].kind](&t->ri[i], cek, at))
            return false;
        s[i].p = at;
        s[i].len = t->ri[i].len;
        at += t->ri[i].len;
    }
    sort_spans(s, t->nri);
    for (size_t i = 0; i < t->nri; i++) {
        memcpy(out, s[i].p, s[i].len);
        out += s[i].len;
    }
    return true;
}

size_t msi_cms_tmpl_head_len(const struct msi_cms_tmpl *t)
{
    return t->head_len;
}

ms_status msi_cms_tmpl_begin(const struct msi_cms_tmpl *t, EVP_CIPHER_CTX *ctx, uint8_t *head,
                             struct ms_error *err)
{
    uint8_t cek[CEK_LEN], nonce[NONCE_LEN];
    uint8_t *scratch = malloc(t->ris_len), *p = head;
    ms_status st = MS_OK;

    if (!scratch)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    /* as OpenSSL's CMS layer: the key from the private generator, the nonce from the public one */
    if (RAND_priv_bytes(cek, CEK_LEN) != 1 || RAND_bytes(nonce, NONCE_LEN) != 1)
        st = msi_ossl_fail(err, MS_EINTERNAL, "random generator failed");
    memcpy(p, t->pre.p, t->pre.len);
    p += t->pre.len;
    memcpy(p, t->set_hdr, t->set_hdr_len);
    p += t->set_hdr_len;
    if (st == MS_OK && !recipient_infos(t, cek, scratch, p))
        st = msi_ossl_fail(err, MS_EINTERNAL, "cannot wrap the content key for a recipient");
    p += t->ris_len;
    memcpy(p, t->eci.p, t->eci.len);
    memcpy(p + t->nonce_off, nonce, NONCE_LEN);
    if (st == MS_OK && EVP_EncryptInit_ex2(ctx, msi_cipher(MSI_AES256_GCM), cek, nonce, NULL) != 1)
        st = msi_ossl_fail(err, MS_EINTERNAL, "cannot start AES-256-GCM");
    OPENSSL_cleanse(cek, sizeof cek);
    free(scratch);
    return st;
}

ms_status msi_cms_tmpl_end(EVP_CIPHER_CTX *ctx, uint8_t out[MSI_CMS_TMPL_TAIL],
                           struct ms_error *err)
{
    uint8_t tmp[32];
    int outl = 0;
    /* end of encryptedContent and of the EncryptedContentInfo, the MAC, then
     * the ends of AuthEnvelopedData, [0] and ContentInfo */
    memset(out, 0, MSI_CMS_TMPL_TAIL);
    out[4] = 0x04;
    out[5] = TAG_LEN;
    if (EVP_EncryptFinal_ex(ctx, tmp, &outl) != 1 || outl != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, out + 6) != 1)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot finish the GCM tag");
    return MS_OK;
}
