/* Signatures: Ed25519 (pure), ECDSA P-256 with SHA-256 (DER), RSA-PSS with
 * SHA-256. */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "crypto/crypto_internal.h"

/* Set up a sign (sign = true) or verify context for k's algorithm. */
static bool sig_init(EVP_MD_CTX *mctx, const struct ms_pkey *k, bool sign)
{
    EVP_PKEY_CTX *pctx = NULL;
    /* Ed25519 signs the message itself (no pre-hash). */
    const char *md = k->type == MS_PKEY_ED25519 ? NULL : "SHA2-256";
    int ok = sign ? EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL, k->pkey, NULL)
                  : EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL, k->pkey, NULL);

    if (ok != 1)
        return false;
    if (k->type != MS_PKEY_RSA)
        return true;
    /* RSA-PSS, MGF1 with SHA-256; salt = digest length when signing, any
     * length when verifying (what other signers choose varies). */
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA2-256", NULL) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, sign ? RSA_PSS_SALTLEN_DIGEST
                                                       : RSA_PSS_SALTLEN_AUTO) == 1;
}

ms_status ms_pkey_sign(const struct ms_pkey *k, const void *msg, size_t len, uint8_t *sig,
                       size_t sig_cap, size_t *sig_len, struct ms_error *err)
{
    EVP_MD_CTX *mctx;
    size_t need = 0;
    bool ok;

    *sig_len = 0;
    if (!k->priv)
        return ms_error_set(err, MS_EKEY, "cannot sign: no private key (a public key was given)");
    mctx = EVP_MD_CTX_new();
    ok = mctx && sig_init(mctx, k, true) && EVP_DigestSign(mctx, NULL, &need, msg, len) == 1;
    if (ok && need > sig_cap) {
        EVP_MD_CTX_free(mctx);
        return ms_error_set(err, MS_EUSAGE, "signature buffer too small (%zu < %zu)", sig_cap,
                            need);
    }
    ok = ok && EVP_DigestSign(mctx, sig, &need, msg, len) == 1;
    EVP_MD_CTX_free(mctx);
    if (!ok)
        return msi_ossl_fail(err, MS_EINTERNAL, "%s signing failed", ms_pkey_type_name(k->type));
    *sig_len = need;
    return MS_OK;
}

ms_status ms_pkey_verify(const struct ms_pkey *k, const void *msg, size_t len, const uint8_t *sig,
                         size_t sig_len, struct ms_error *err)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    int r;

    if (!mctx || !sig_init(mctx, k, false)) {
        EVP_MD_CTX_free(mctx);
        return msi_ossl_fail(err, MS_EINTERNAL, "%s: cannot start verifying",
                             ms_pkey_type_name(k->type));
    }
    r = EVP_DigestVerify(mctx, sig, sig_len, msg, len);
    EVP_MD_CTX_free(mctx);
    ERR_clear_error();
    if (r != 1)
        return ms_error_set(err, MS_EKEY,
                            "%s signature does not verify (wrong key, changed data or signature)",
                            ms_pkey_type_name(k->type));
    return MS_OK;
}
