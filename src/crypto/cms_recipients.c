/* RecipientInfos of the `cms` scheme, shared by the streamed envelopes
 * (cms_encrypt.c, cms_decrypt.c) and the in-memory ones (cms_buffer.c):
 * adding the recipients of a set to an envelope, and opening one recipient
 * of an envelope with the keys and passphrases of a keyring. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "crypto/cms_internal.h"
#include "crypto/crypto_internal.h"

/* ---- encryption -------------------------------------------------------------------------- */

/* RSA: OAEP with SHA-256 and MGF1-SHA-256 (OpenSSL's default is PKCS#1 v1.5),
 * or PKCS#1 v1.5 when asked; EC: the X9.63 KDF with SHA-256 (default SHA-1). */
static ms_status add_cert_recipient(CMS_ContentInfo *cms, const struct msi_cms_cert_recip *c,
                                    bool rsa_pkcs1, struct ms_error *err)
{
    const EVP_MD *sha256 = msi_md(MS_HASH_SHA256);
    CMS_RecipientInfo *ri = CMS_add1_recipient_cert(cms, c->cert, CMS_KEY_PARAM);
    EVP_PKEY_CTX *pctx = ri ? CMS_RecipientInfo_get0_pkey_ctx(ri) : NULL;

    if (!ri)
        return msi_ossl_fail(err, MS_EUNSUPPORTED, "cannot add a certificate recipient");
    if (!pctx)
        return msi_ossl_fail(err, MS_EINTERNAL, "no key context for a recipient");
    if (c->ec)
        return EVP_PKEY_CTX_set_ecdh_kdf_md(pctx, sha256) > 0
                   ? MS_OK
                   : msi_ossl_fail(err, MS_EINTERNAL, "cannot set the ECDH KDF digest");
    if (rsa_pkcs1)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0
                   ? MS_OK
                   : msi_ossl_fail(err, MS_EINTERNAL, "cannot set RSA PKCS#1 v1.5");
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(pctx, sha256) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, sha256) <= 0)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot set RSA-OAEP parameters");
    return MS_OK;
}

/* A KEKRecipientInfo: AES-256 key wrap under the Argon2id KEK, the salt as
 * its key identifier, the costs in its OtherKeyAttribute (docs/formats/cms.md). */
static ms_status add_pass_recipient(CMS_ContentInfo *cms, const struct msi_cms_pass_recip *p,
                                    struct ms_error *err)
{
    unsigned char *key = OPENSSL_malloc(MSI_CMS_KEK_LEN);
    unsigned char *id = OPENSSL_malloc(MSI_CMS_SALT_LEN);
    ASN1_OBJECT *oid = OBJ_dup(msi_cms_argon2id_oid());
    ASN1_TYPE *params = msi_cms_argon2id_params_encode(p->t, p->m_kib);

    if (key && id && oid && params) {
        memcpy(key, p->kek, MSI_CMS_KEK_LEN);
        memcpy(id, p->salt, MSI_CMS_SALT_LEN);
        /* add0: key, id, oid and params belong to the RecipientInfo on success */
        if (CMS_add0_recipient_key(cms, NID_id_aes256_wrap, key, MSI_CMS_KEK_LEN, id,
                                   MSI_CMS_SALT_LEN, NULL, oid, params))
            return MS_OK;
    }
    OPENSSL_clear_free(key, MSI_CMS_KEK_LEN);
    OPENSSL_free(id);
    ASN1_OBJECT_free(oid);
    ASN1_TYPE_free(params);
    return msi_ossl_fail(err, MS_ENOMEM, "cannot add a passphrase recipient");
}

ms_status msi_cms_add_recipients(CMS_ContentInfo *cms, const struct ms_cms_recipients *r,
                                 bool rsa_pkcs1, struct ms_error *err)
{
    ms_status st = MS_OK;
    for (size_t i = 0; st == MS_OK && i < r->ncerts; i++)
        st = add_cert_recipient(cms, &r->certs[i], rsa_pkcs1, err);
    for (size_t i = 0; st == MS_OK && i < r->npass; i++)
        st = add_pass_recipient(cms, &r->pass[i], err);
    return st;
}

/* ---- decryption -------------------------------------------------------------------------- */

static bool try_private_keys(CMS_ContentInfo *cms, const struct ms_cms_keyring *k,
                             char *opened_by, size_t cap)
{
    for (size_t i = 0; i < k->nkeys; i++) {
        const struct msi_cms_key *key = &k->keys[i];
        int ok = CMS_decrypt_set1_pkey_and_peer(cms, key->pkey, key->cert, NULL);
        ERR_clear_error();
        if (ok > 0) {
            snprintf(opened_by, cap, "%s key", EVP_PKEY_is_a(key->pkey, "EC") ? "EC" : "RSA");
            return true;
        }
    }
    return false;
}

/* The salt and costs of a medseal Argon2id KEK recipient: MS_OK, MS_ENOTFOUND
 * for every other kind of recipient, or an error for a broken or greedy one. */
static ms_status argon2id_recipient(CMS_RecipientInfo *ri, const uint8_t **salt, uint32_t *t,
                                    uint32_t *m, struct ms_error *err)
{
    ASN1_OCTET_STRING *id = NULL;
    ASN1_OBJECT *other = NULL;
    ASN1_TYPE *params = NULL;
    ms_status st;

    if (CMS_RecipientInfo_type(ri) != CMS_RECIPINFO_KEK ||
        CMS_RecipientInfo_kekri_get0_id(ri, NULL, &id, NULL, &other, &params) != 1 || !other ||
        OBJ_cmp(other, msi_cms_argon2id_oid()) != 0)
        return MS_ENOTFOUND;
    if (!id || ASN1_STRING_length(id) != MSI_CMS_SALT_LEN)
        return ms_error_set(err, MS_EMALFORMED, "Argon2id recipient with a salt of %d bytes",
                            id ? ASN1_STRING_length(id) : 0);
    if ((st = msi_cms_argon2id_params_decode(params, t, m, err)) != MS_OK)
        return st;
    *salt = ASN1_STRING_get0_data(id);
    return MS_OK;
}

/* Every passphrase of k on one Argon2id recipient; *opened when one unwraps
 * the content key (then set in cms). */
static ms_status try_passphrases_on(CMS_ContentInfo *cms, CMS_RecipientInfo *ri,
                                    const struct ms_cms_keyring *k, bool *opened,
                                    struct ms_error *err)
{
    const uint8_t *salt = NULL;
    uint32_t t = 0, m = 0;
    ms_status st = argon2id_recipient(ri, &salt, &t, &m, err);

    for (size_t i = 0; st == MS_OK && i < k->npass && !*opened; i++) {
        unsigned char *kek = OPENSSL_malloc(MSI_CMS_KEK_LEN);
        if (!kek)
            return ms_error_set(err, MS_ENOMEM, "out of memory");
        if ((st = msi_cms_keyring_kek(k, i, salt, t, m, kek, err)) != MS_OK) {
            OPENSSL_clear_free(kek, MSI_CMS_KEK_LEN);
            return st;
        }
        CMS_RecipientInfo_set0_key(ri, kek, MSI_CMS_KEK_LEN); /* ownership moves */
        *opened = CMS_RecipientInfo_decrypt(cms, ri) > 0;
        if (!*opened) {
            CMS_RecipientInfo_set0_key(ri, NULL, 0);
            OPENSSL_clear_free(kek, MSI_CMS_KEK_LEN);
        }
        ERR_clear_error();
    }
    return st;
}

/* The passphrases on every Argon2id recipient: MS_OK with *opened, or the
 * first problem a recipient had (malformed, over the cost limits). */
static ms_status try_passphrases(CMS_ContentInfo *cms, const struct ms_cms_keyring *k,
                                 bool *opened, struct ms_error *err)
{
    STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
    ms_status first_problem = MS_OK;
    struct ms_error perr;

    for (int i = 0; i < sk_CMS_RecipientInfo_num(ris) && !*opened && k->npass; i++) {
        ms_status st = try_passphrases_on(cms, sk_CMS_RecipientInfo_value(ris, i), k, opened,
                                          &perr);
        if (st == MS_ENOMEM || st == MS_EINTERNAL)
            return ms_error_set(err, st, "%s", perr.msg);
        if (st != MS_OK && st != MS_ENOTFOUND && first_problem == MS_OK) {
            first_problem = st;
            if (err)
                *err = perr;
        }
    }
    return *opened ? MS_OK : first_problem;
}

ms_status msi_cms_open_recipient(CMS_ContentInfo *cms, const struct ms_cms_keyring *k,
                                 char *opened_by, size_t cap, struct ms_error *err)
{
    struct ms_cms_info info;
    bool opened = false;
    ms_status st;

    if (k->nkeys == 0 && k->npass == 0)
        return ms_error_set(err, MS_EUSAGE, "no private key or passphrase given");
    /* CMS_DEBUG_DECRYPT: report a key that opens nothing at once instead of
     * decrypting with a random key (the MMA countermeasure, which protects
     * online oracles, not a local key holder). */
    if (CMS_decrypt(cms, NULL, NULL, NULL, NULL, CMS_DEBUG_DECRYPT) != 1)
        return msi_ossl_fail(err, MS_EMALFORMED, "cannot prepare decryption");
    if (try_private_keys(cms, k, opened_by, cap))
        return MS_OK;
    if ((st = try_passphrases(cms, k, &opened, err)) != MS_OK)
        return st;
    if (opened) {
        snprintf(opened_by, cap, "passphrase");
        return MS_OK;
    }
    memset(&info, 0, sizeof info);
    msi_cms_count_recipients(cms, &info);
    return ms_error_set(err, MS_EKEY,
                        "wrong key or passphrase: nothing given opens a recipient of this file "
                        "(RSA %u, EC %u, passphrase %u, other %u)",
                        info.key_transport, info.key_agreement, info.passphrase, info.other);
}
