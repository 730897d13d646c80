/* In-memory CMS envelopes (see cms_buffer.h): OpenSSL's CMS API on a memory
 * buffer, recipients for certificates and passphrases, and a process-wide
 * cache of Argon2id key-encryption keys. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto/cms_buffer.h"
#include "crypto/cms_internal.h"
#include "crypto/crypto_internal.h"

/* Passphrase recipients: a KEKRecipientInfo whose key-encryption key is
 * Argon2id(passphrase, salt = kekid.keyIdentifier), its OtherKeyAttribute naming
 * the costs: the `cms` scheme's encoding (docs/formats/cms.md), with its
 * helpers for the OID and the parameters. */
#define SALT_LEN MSI_CMS_SALT_LEN
#define KEK_LEN MSI_CMS_KEK_LEN
#define PASS_MAX MS_CMS_PASSPHRASE_MAX

/* ---- Argon2id key-encryption keys, cached per process ---------------------------- */

struct kek_entry {
    bool used;
    uint8_t pass_id[MS_SHA256_LEN]; /* SHA-256 of the passphrase */
    uint8_t salt[SALT_LEN];
    uint32_t t, m;
    uint8_t kek[KEK_LEN];
};

#define KEK_CACHE 8
static struct kek_entry kek_cache[KEK_CACHE];
static unsigned kek_next;
static bool enc_salt_ready;
static uint8_t enc_salt[SALT_LEN];
static pthread_mutex_t kek_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((destructor)) static void wipe_kek_cache(void)
{
    ms_crypto_wipe(kek_cache, sizeof kek_cache);
    ms_crypto_wipe(enc_salt, sizeof enc_salt);
}

static struct kek_entry *kek_lookup(const uint8_t id[MS_SHA256_LEN], const uint8_t *salt,
                                    uint32_t t, uint32_t m)
{
    for (unsigned i = 0; i < KEK_CACHE; i++) {
        struct kek_entry *e = &kek_cache[i];
        if (e->used && e->t == t && e->m == m && memcmp(e->salt, salt, SALT_LEN) == 0 &&
            ms_crypto_equal(e->pass_id, id, MS_SHA256_LEN))
            return e;
    }
    return NULL;
}

/* KEK for (pass, salt, t, m): from the cache or derived now (under the lock,
 * so that threads of one run derive it once). */
static ms_status derive_kek(const char *pass, size_t len, const uint8_t salt[SALT_LEN],
                            uint32_t t, uint32_t m, uint8_t kek[KEK_LEN], struct ms_error *err)
{
    struct ms_argon2_params params = {t, m};
    uint8_t id[MS_SHA256_LEN];
    struct kek_entry *e;
    ms_status st = ms_sha256(pass, len, id, err);

    if (st != MS_OK)
        return st;
    pthread_mutex_lock(&kek_lock);
    e = kek_lookup(id, salt, t, m);
    if (!e) {
        e = &kek_cache[kek_next++ % KEK_CACHE];
        ms_crypto_wipe(e, sizeof *e);
        st = ms_argon2id(pass, len, salt, &params, e->kek, KEK_LEN, err);
        if (st == MS_OK) {
            memcpy(e->pass_id, id, sizeof id);
            memcpy(e->salt, salt, SALT_LEN);
            e->t = t;
            e->m = m;
            e->used = true;
        } else {
            ms_crypto_wipe(e, sizeof *e);
        }
    }
    if (st == MS_OK)
        memcpy(kek, e->kek, KEK_LEN);
    pthread_mutex_unlock(&kek_lock);
    ms_crypto_wipe(id, sizeof id);
    return st;
}

/* One salt per process for encryption: every file of a run shares the KEK. */
static ms_status encryption_salt(uint8_t salt[SALT_LEN], struct ms_error *err)
{
    ms_status st = MS_OK;
    pthread_mutex_lock(&kek_lock);
    if (!enc_salt_ready) {
        st = ms_random_bytes(enc_salt, SALT_LEN, err);
        enc_salt_ready = st == MS_OK;
    }
    if (st == MS_OK)
        memcpy(salt, enc_salt, SALT_LEN);
    pthread_mutex_unlock(&kek_lock);
    return st;
}

/* ---- encryption -------------------------------------------------------------------------- */

static ms_status set_key_params(CMS_RecipientInfo *ri, ms_pkey_type type, bool pkcs1,
                                struct ms_error *err)
{
    EVP_PKEY_CTX *pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
    if (!pctx)
        return msi_ossl_fail(err, MS_EINTERNAL, "no key context for a recipient");
    if (type == MS_PKEY_P256) {
        if (EVP_PKEY_CTX_set_ecdh_kdf_md(pctx, msi_md(MS_HASH_SHA256)) <= 0)
            return msi_ossl_fail(err, MS_EINTERNAL, "cannot set the ECDH KDF digest");
        return MS_OK;
    }
    if (pkcs1)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0
                   ? MS_OK
                   : msi_ossl_fail(err, MS_EINTERNAL, "cannot set RSA PKCS#1 v1.5");
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(pctx, msi_md(MS_HASH_SHA256)) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, msi_md(MS_HASH_SHA256)) <= 0)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot set RSA-OAEP parameters");
    return MS_OK;
}

static ms_status add_cert(CMS_ContentInfo *cms, const char *path, bool pkcs1,
                          struct ms_error *err)
{
    struct ms_pkey *k = NULL;
    CMS_RecipientInfo *ri;
    ms_pkey_type type;
    ms_status st = ms_pkey_load_public(&k, path, err);

    if (st != MS_OK)
        return st;
    type = ms_pkey_get_type(k);
    if (!ms_pkey_has_cert(k))
        st = ms_error_set(err, MS_EUSAGE, "%s: a recipient needs a certificate, not a bare key",
                          path);
    else if (!(type == MS_PKEY_P256 || (type == MS_PKEY_RSA && ms_pkey_get_bits(k) >= 2048)))
        st = ms_error_set(err, MS_EUNSUPPORTED,
                          "%s: recipients must be RSA (2048 bits or more) or EC P-256", path);
    if (st == MS_OK) {
        ri = CMS_add1_recipient_cert(cms, msi_pkey_x509(k), CMS_KEY_PARAM);
        st = ri ? set_key_params(ri, type, pkcs1, err)
                : msi_ossl_fail(err, MS_EUNSUPPORTED, "%s: cannot add this recipient", path);
    }
    ms_pkey_destroy(k);
    return st;
}

static ms_status add_passphrase(CMS_ContentInfo *cms, const char *path, struct ms_error *err)
{
    char pass[PASS_MAX + 1];
    size_t len = 0;
    uint8_t salt[SALT_LEN];
    unsigned char *key = NULL, *id = NULL;
    ASN1_OBJECT *oid = NULL;
    ASN1_TYPE *params = NULL;
    ms_status st = ms_passphrase_read_file(path, pass, sizeof pass, &len, err);

    if (st == MS_OK)
        st = encryption_salt(salt, err);
    if (st == MS_OK && (!(key = OPENSSL_secure_malloc(KEK_LEN)) ||
                        !(id = OPENSSL_malloc(SALT_LEN))))
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st == MS_OK)
        st = derive_kek(pass, len, salt, MS_CMS_PWHASH_T_DEFAULT, MS_CMS_PWHASH_M_DEFAULT, key,
                        err);
    ms_crypto_wipe(pass, sizeof pass);
    if (st == MS_OK) {
        memcpy(id, salt, SALT_LEN);
        oid = OBJ_dup(msi_cms_argon2id_oid());
        params = msi_cms_argon2id_params_encode(MS_CMS_PWHASH_T_DEFAULT, MS_CMS_PWHASH_M_DEFAULT);
        /* add0: key, id, oid and params belong to the RecipientInfo on success */
        if (oid && params &&
            CMS_add0_recipient_key(cms, NID_id_aes256_wrap, key, KEK_LEN, id, SALT_LEN, NULL,
                                   oid, params))
            return MS_OK;
        st = msi_ossl_fail(err, MS_EINTERNAL, "cannot add the passphrase recipient");
    }
    if (key)
        OPENSSL_secure_clear_free(key, KEK_LEN);
    OPENSSL_free(id);
    ASN1_OBJECT_free(oid);
    ASN1_TYPE_free(params);
    return st;
}

/* The DER of cms in a malloc'd buffer. */
static ms_status to_der(CMS_ContentInfo *cms, uint8_t **der, size_t *der_len,
                        struct ms_error *err)
{
    unsigned char *p = NULL;
    int n = i2d_CMS_ContentInfo(cms, &p);
    if (n <= 0)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot encode the CMS message");
    *der = malloc((size_t)n);
    if (*der) {
        memcpy(*der, p, (size_t)n);
        *der_len = (size_t)n;
    }
    OPENSSL_free(p);
    return *der ? MS_OK : ms_error_set(err, MS_ENOMEM, "out of memory");
}

static ms_status add_recipients(CMS_ContentInfo *cms, const struct msi_cmsbuf_recipients *r,
                                struct ms_error *err)
{
    ms_status st = MS_OK;
    for (size_t i = 0; st == MS_OK && i < r->ncerts; i++)
        st = add_cert(cms, r->certs[i], r->rsa_pkcs1v15, err);
    if (st == MS_OK && r->passphrase_file)
        st = add_passphrase(cms, r->passphrase_file, err);
    return st;
}

/* Encrypt len bytes at pt in cms (recipients added) and encode it. */
static ms_status seal(CMS_ContentInfo *cms, const uint8_t *pt, size_t len, uint8_t **der,
                      size_t *der_len, struct ms_error *err)
{
    BIO *in = BIO_new_mem_buf(pt, (int)len);
    ms_status st = MS_OK;

    if (!in)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if (!CMS_final(cms, in, NULL, CMS_BINARY))
        st = msi_ossl_fail(err, MS_EINTERNAL, "CMS encryption failed");
    if (st == MS_OK)
        st = to_der(cms, der, der_len, err);
    BIO_free(in);
    return st;
}

ms_status msi_cmsbuf_encrypt(const struct msi_cmsbuf_recipients *r, const uint8_t *pt,
                             size_t len, uint8_t **der, size_t *der_len, struct ms_error *err)
{
    const EVP_CIPHER *cipher = msi_cipher(r->enveloped ? MSI_AES256_CBC : MSI_AES256_GCM);
    CMS_ContentInfo *cms = NULL;
    ms_status st;

    *der = NULL;
    *der_len = 0;
    if (r->ncerts == 0 && !r->passphrase_file)
        return ms_error_set(err, MS_EUSAGE, "no recipient: give --to CERT.pem or "
                            "--passphrase-file F");
    if (len > MSI_CMSBUF_MAX)
        return ms_error_set(err, MS_ELIMIT, "content of %zu bytes is too large", len);
    if (!cipher || !(cms = CMS_encrypt(NULL, NULL, cipher, CMS_PARTIAL | CMS_BINARY)))
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot start a CMS envelope");
    st = add_recipients(cms, r, err);
    if (st == MS_OK)
        st = seal(cms, pt, len, der, der_len, err);
    CMS_ContentInfo_free(cms);
    return st;
}

/* ---- decryption ------------------------------------------------------------------------ */

/* The salt and costs of an Argon2id KEK recipient: MS_OK, MS_ENOTFOUND when
 * ri is another kind of recipient, or an error for a broken or greedy one. */
static ms_status kek_params(CMS_RecipientInfo *ri, const uint8_t **salt, uint32_t *t,
                            uint32_t *m, struct ms_error *err)
{
    ASN1_OCTET_STRING *id = NULL;
    ASN1_OBJECT *other = NULL;
    ASN1_TYPE *params = NULL;
    ms_status st;

    if (CMS_RecipientInfo_type(ri) != CMS_RECIPINFO_KEK ||
        !CMS_RecipientInfo_kekri_get0_id(ri, NULL, &id, NULL, &other, &params) || !other ||
        OBJ_cmp(other, msi_cms_argon2id_oid()) != 0)
        return MS_ENOTFOUND;
    if (!id || ASN1_STRING_length(id) != SALT_LEN)
        return ms_error_set(err, MS_EMALFORMED, "passphrase recipient is malformed");
    if ((st = msi_cms_argon2id_params_decode(params, t, m, err)) != MS_OK)
        return st;
    *salt = ASN1_STRING_get0_data(id);
    return MS_OK;
}

/* Try one KEK recipient: MS_OK when it opened (the content key is set). */
static ms_status try_kek(CMS_ContentInfo *cms, CMS_RecipientInfo *ri, const char *pass,
                         size_t len, const uint8_t *salt, uint32_t t, uint32_t m,
                         struct ms_error *err)
{
    unsigned char *kek = OPENSSL_secure_malloc(KEK_LEN);
    ms_status st;

    if (!kek)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    st = derive_kek(pass, len, salt, t, m, kek, err);
    if (st == MS_OK) {
        CMS_RecipientInfo_set0_key(ri, kek, KEK_LEN);
        st = CMS_RecipientInfo_decrypt(cms, ri) > 0 ? MS_OK : MS_EKEY;
        CMS_RecipientInfo_set0_key(ri, NULL, 0);
        ERR_clear_error();
    }
    OPENSSL_secure_clear_free(kek, KEK_LEN);
    return st;
}

/* Open the Argon2id KEK recipients of cms with the passphrase: MS_OK when
 * one opened (the content key is then set), MS_ENOTFOUND when there is none,
 * MS_EKEY when none opened. */
static ms_status open_kek(CMS_ContentInfo *cms, const char *pass, size_t len,
                          struct ms_error *err)
{
    STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
    ms_status result = MS_ENOTFOUND;

    for (int i = 0; i < sk_CMS_RecipientInfo_num(ris); i++) {
        CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);
        const uint8_t *salt = NULL;
        uint32_t t = 0, m = 0;
        ms_status st = kek_params(ri, &salt, &t, &m, err);
        if (st == MS_ENOTFOUND)
            continue;
        if (st == MS_OK)
            st = try_kek(cms, ri, pass, len, salt, t, m, err);
        if (st != MS_EKEY)
            return st;
        result = MS_EKEY;
    }
    return result;
}

static bool has_password_recipient(CMS_ContentInfo *cms)
{
    STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
    for (int i = 0; i < sk_CMS_RecipientInfo_num(ris); i++)
        if (CMS_RecipientInfo_type(sk_CMS_RecipientInfo_value(ris, i)) == CMS_RECIPINFO_PASS)
            return true;
    return false;
}

/* Set the content key from the passphrase (Argon2id KEK or PBKDF2 password). */
static ms_status open_with_passphrase(CMS_ContentInfo *cms, const char *path,
                                      struct msi_cmsbuf_result *res, struct ms_error *err)
{
    char pass[PASS_MAX + 1];
    size_t len = 0;
    ms_status st = ms_passphrase_read_file(path, pass, sizeof pass, &len, err);

    if (st != MS_OK)
        return st;
    st = open_kek(cms, pass, len, err);
    if (st == MS_OK)
        res->opened_by = "passphrase";
    if ((st == MS_ENOTFOUND || st == MS_EKEY) && has_password_recipient(cms)) {
        if (CMS_decrypt_set1_password(cms, (unsigned char *)pass, (ossl_ssize_t)len) > 0) {
            st = MS_OK;
            res->opened_by = "password (PBKDF2)";
        } else {
            st = MS_EKEY;
        }
        ERR_clear_error();
    }
    ms_crypto_wipe(pass, sizeof pass);
    if (st == MS_ENOTFOUND)
        return ms_error_set(err, MS_EKEY, "the content has no passphrase recipient");
    if (st == MS_EKEY)
        return ms_error_set(err, MS_EKEY, "wrong passphrase");
    return st;
}

static ms_status load_key(const struct msi_cmsbuf_keys *k, struct ms_pkey **key,
                          struct ms_pkey **cert, struct ms_error *err)
{
    ms_status st = ms_pkey_load_private(key, k->key_file, NULL, 0, err);
    if (st != MS_OK || !k->cert_file)
        return st;
    if ((st = ms_pkey_load_public(cert, k->cert_file, err)) != MS_OK)
        return st;
    if (!ms_pkey_has_cert(*cert))
        return ms_error_set(err, MS_EUSAGE, "%s is not a certificate", k->cert_file);
    if (!ms_pkey_equal(*key, *cert))
        return ms_error_set(err, MS_EUSAGE, "the certificate does not match the private key");
    return MS_OK;
}

/* Decrypt the content into out with what k offers. */
static ms_status decrypt_content(CMS_ContentInfo *cms, const struct msi_cmsbuf_keys *k, BIO *out,
                                 struct msi_cmsbuf_result *res, struct ms_error *err)
{
    struct ms_pkey *key = NULL, *cert = NULL;
    ms_status st = MS_EKEY;
    int ok;

    if (k->passphrase_file) {
        st = open_with_passphrase(cms, k->passphrase_file, res, err);
        if (st == MS_OK) {
            ok = CMS_decrypt(cms, NULL, NULL, NULL, out, CMS_BINARY);
            ERR_clear_error();
            return ok > 0 ? MS_OK : ms_error_set(err, MS_EKEY, "decryption failed: the "
                                                 "encrypted content was changed");
        }
        if (st != MS_EKEY || !k->key_file)
            return st;
    }
    if ((st = load_key(k, &key, &cert, err)) == MS_OK) {
        ok = CMS_decrypt(cms, msi_pkey_evp(key), cert ? msi_pkey_x509(cert) : NULL, NULL, out,
                         CMS_BINARY);
        ERR_clear_error();
        res->opened_by = "private key";
        st = ok > 0 ? MS_OK : ms_error_set(err, MS_EKEY, "decryption failed: wrong key, or "
                                           "the encrypted content was changed");
    }
    ms_pkey_destroy(key);
    ms_pkey_destroy(cert);
    return st;
}

static ms_status take_output(BIO *out, uint8_t **pt, size_t *pt_len, struct ms_error *err)
{
    char *data = NULL;
    long n = BIO_get_mem_data(out, &data);
    if (n < 0 || (size_t)n > MSI_CMSBUF_MAX)
        return ms_error_set(err, MS_ELIMIT, "decrypted content is too large");
    *pt = malloc(n ? (size_t)n : 1);
    if (!*pt)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if (n)
        memcpy(*pt, data, (size_t)n);
    *pt_len = (size_t)n;
    return MS_OK;
}

/* Free a memory BIO, wiping what it held. */
static void bio_wipe_free(BIO *b)
{
    BUF_MEM *mem = NULL;
    if (!b)
        return;
    BIO_get_mem_ptr(b, &mem);
    if (mem && mem->data)
        OPENSSL_cleanse(mem->data, mem->max);
    BIO_free(b);
}

/* Nothing after the message but the NUL that pads an odd DER to an even
 * DICOM value length. */
static bool trailer_ok(const uint8_t *der, size_t len, size_t used)
{
    return used == len || (used + 1 == len && der[used] == 0);
}

ms_status msi_cmsbuf_decrypt(const struct msi_cmsbuf_keys *k, const uint8_t *der, size_t len,
                             uint8_t **pt, size_t *pt_len, struct msi_cmsbuf_result *res,
                             struct ms_error *err)
{
    struct msi_cmsbuf_result local;
    const unsigned char *p = der;
    CMS_ContentInfo *cms;
    BIO *out = NULL;
    int nid;
    ms_status st;

    *pt = NULL;
    *pt_len = 0;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    if (!k->key_file && !k->passphrase_file)
        return ms_error_set(err, MS_EUSAGE, "no key: give --key KEY.pem or --passphrase-file F");
    if (len > MSI_CMSBUF_MAX || len > INT32_MAX)
        return ms_error_set(err, MS_ELIMIT, "encrypted content of %zu bytes is too large", len);
    cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
    if (!cms)
        return msi_ossl_fail(err, MS_EMALFORMED, "the encrypted content is not a CMS message");
    nid = OBJ_obj2nid(CMS_get0_type(cms));
    if (nid == NID_id_smime_ct_authEnvelopedData)
        res->content_type = "AuthEnvelopedData";
    else if (nid == NID_pkcs7_enveloped)
        res->content_type = "EnvelopedData";
    if (!res->content_type)
        st = ms_error_set(err, MS_EUNSUPPORTED, "the encrypted content is a CMS %s, not an "
                          "envelope", OBJ_nid2sn(nid));
    else if (!trailer_ok(der, len, (size_t)(p - der)))
        st = ms_error_set(err, MS_EMALFORMED, "bytes after the CMS message");
    else if (!(out = BIO_new(BIO_s_mem())))
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    else
        st = decrypt_content(cms, k, out, res, err);
    if (st == MS_OK)
        st = take_output(out, pt, pt_len, err);
    res->authenticated = st == MS_OK && nid == NID_id_smime_ct_authEnvelopedData;
    bio_wipe_free(out);
    CMS_ContentInfo_free(cms);
    return st;
}

void msi_cmsbuf_free(uint8_t *p, size_t len)
{
    if (p) {
        ms_crypto_wipe(p, len);
        free(p);
    }
}
