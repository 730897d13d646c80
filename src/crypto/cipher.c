/* AES-256-CBC + HMAC-SHA256 (encrypt-then-MAC), AES-256-ECB (research only)
 * and AES-256-CTR. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/crypto_internal.h"

#define CBC_OVERHEAD (MS_CBC_IV_LEN + MS_HMAC_SHA256_LEN)

/* Run len bytes through an initialised context; *outl gets the bytes written
 * (with padding, CBC may hold back up to a block until the final call). */
static bool cipher_run(EVP_CIPHER_CTX *ctx, const uint8_t *in, size_t len, uint8_t *out,
                       size_t *outl)
{
    size_t total = 0;
    int n;
    while (len > 0) {
        size_t chunk = len > MSI_OSSL_CHUNK ? MSI_OSSL_CHUNK : len;
        if (!EVP_CipherUpdate(ctx, out + total, &n, in, (int)chunk))
            return false;
        total += (size_t)n;
        in += chunk;
        len -= chunk;
    }
    if (!EVP_CipherFinal_ex(ctx, out + total, &n))
        return false;
    *outl = total + (size_t)n;
    return true;
}

/* One pass of a block cipher mode over a whole buffer. */
static bool cipher_oneshot(enum msi_cipher_id id, int enc, bool pad, const uint8_t *key,
                           const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out,
                           size_t *outl)
{
    const EVP_CIPHER *c = msi_cipher(id);
    EVP_CIPHER_CTX *ctx = c ? EVP_CIPHER_CTX_new() : NULL;
    bool ok = ctx && EVP_CipherInit_ex2(ctx, c, key, iv, enc, NULL) == 1 &&
              EVP_CIPHER_CTX_set_padding(ctx, pad ? 1 : 0) == 1 &&
              cipher_run(ctx, in, len, out, outl);
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

/* ---- AES-256-CBC + HMAC-SHA256 ---------------------------------------------- */

size_t ms_cbc_hmac_size(size_t len)
{
    size_t padded = (len / MS_AES_BLOCK_LEN + 1) * MS_AES_BLOCK_LEN;
    if (len > SIZE_MAX - 2 * MS_AES_BLOCK_LEN - CBC_OVERHEAD)
        return 0;
    return padded + CBC_OVERHEAD;
}

/* tag = HMAC-SHA256(mac_key, aad || iv_ct || be64(8 * aad_len)) */
static ms_status cbc_tag(const uint8_t *mac_key, const void *aad, size_t aad_len,
                         const uint8_t *iv_ct, size_t iv_ct_len, uint8_t tag[MS_HMAC_SHA256_LEN],
                         struct ms_error *err)
{
    struct ms_hmac *m = NULL;
    uint8_t al[8];
    uint64_t bits = (uint64_t)aad_len << 3;
    ms_status rc = ms_hmac_create(&m, mac_key, MS_AES256_KEY_LEN, err);

    for (int i = 0; i < 8; i++)
        al[i] = (uint8_t)(bits >> (56 - 8 * i));
    if (rc == MS_OK)
        rc = ms_hmac_update(m, aad, aad_len, err);
    if (rc == MS_OK)
        rc = ms_hmac_update(m, iv_ct, iv_ct_len, err);
    if (rc == MS_OK)
        rc = ms_hmac_update(m, al, sizeof al, err);
    if (rc == MS_OK)
        rc = ms_hmac_final(m, tag, err);
    ms_hmac_destroy(m);
    return rc;
}

ms_status ms_cbc_hmac_encrypt(const uint8_t enc_key[MS_AES256_KEY_LEN],
                              const uint8_t mac_key[MS_AES256_KEY_LEN], const void *aad,
                              size_t aad_len, const void *pt, size_t len, uint8_t *out,
                              size_t out_cap, size_t *out_len, struct ms_error *err)
{
    size_t need = ms_cbc_hmac_size(len), ctl = 0;
    ms_status rc;

    *out_len = 0;
    if (need == 0)
        return ms_error_set(err, MS_ELIMIT, "AES-CBC: input too large");
    if (out_cap < need)
        return ms_error_set(err, MS_EUSAGE, "AES-CBC: output buffer too small (%zu < %zu)",
                            out_cap, need);
    rc = ms_random_bytes(out, MS_CBC_IV_LEN, err);
    if (rc != MS_OK)
        return rc;
    if (!cipher_oneshot(MSI_AES256_CBC, 1, true, enc_key, out, pt, len, out + MS_CBC_IV_LEN,
                        &ctl) ||
        ctl + CBC_OVERHEAD != need) {
        ms_crypto_wipe(out, out_cap);
        return msi_ossl_fail(err, MS_EINTERNAL, "AES-CBC encryption failed");
    }
    rc = cbc_tag(mac_key, aad, aad_len, out, MS_CBC_IV_LEN + ctl, out + MS_CBC_IV_LEN + ctl, err);
    if (rc != MS_OK) {
        ms_crypto_wipe(out, out_cap);
        return rc;
    }
    *out_len = need;
    return MS_OK;
}

ms_status ms_cbc_hmac_decrypt(const uint8_t enc_key[MS_AES256_KEY_LEN],
                              const uint8_t mac_key[MS_AES256_KEY_LEN], const void *aad,
                              size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out,
                              size_t out_cap, size_t *out_len, struct ms_error *err)
{
    uint8_t tag[MS_HMAC_SHA256_LEN];
    size_t ctl, ptl = 0;
    ms_status rc;

    *out_len = 0;
    if (in_len < CBC_OVERHEAD + MS_AES_BLOCK_LEN ||
        (in_len - CBC_OVERHEAD) % MS_AES_BLOCK_LEN != 0)
        return ms_error_set(err, MS_EMALFORMED,
                            "AES-CBC: %zu bytes is not IV + whole blocks + tag", in_len);
    ctl = in_len - CBC_OVERHEAD;
    if (out_cap < ctl)
        return ms_error_set(err, MS_EUSAGE, "AES-CBC: output buffer too small (%zu < %zu)",
                            out_cap, ctl);
    rc = cbc_tag(mac_key, aad, aad_len, in, MS_CBC_IV_LEN + ctl, tag, err);
    if (rc != MS_OK)
        return rc;
    /* MAC before decryption: no padding oracle. */
    if (!ms_crypto_equal(tag, in + MS_CBC_IV_LEN + ctl, sizeof tag)) {
        OPENSSL_cleanse(tag, sizeof tag);
        ms_crypto_wipe(out, out_cap);
        return ms_error_set(err, MS_EKEY,
                            "AES-CBC+HMAC: authentication failed (wrong key or tampered data)");
    }
    if (!cipher_oneshot(MSI_AES256_CBC, 0, true, enc_key, in, in + MS_CBC_IV_LEN, ctl, out,
                        &ptl)) {
        ms_crypto_wipe(out, out_cap);
        return msi_ossl_fail(err, MS_EKEY, "AES-CBC: bad padding after a valid tag (wrong key)");
    }
    *out_len = ptl;
    return MS_OK;
}

/* ---- ECB and CTR ---------------------------------------------------------------- */

ms_status ms_ecb_crypt(ms_cipher_dir dir, const uint8_t key[MS_AES256_KEY_LEN], const void *in,
                       size_t len, uint8_t *out, struct ms_error *err)
{
    size_t outl = 0;

    if (len % MS_AES_BLOCK_LEN != 0)
        return ms_error_set(err, MS_EUSAGE, "AES-ECB: %zu bytes is not whole 16-byte blocks",
                            len);
    if (!cipher_oneshot(MSI_AES256_ECB, dir == MS_ENCRYPT ? 1 : 0, false, key, NULL, in, len,
                        out, &outl) ||
        outl != len)
        return msi_ossl_fail(err, MS_EINTERNAL, "AES-ECB failed");
    return MS_OK;
}

ms_status ms_ctr_xor(const uint8_t key[MS_AES256_KEY_LEN], const uint8_t counter[MS_AES_BLOCK_LEN],
                     const void *in, size_t len, uint8_t *out, struct ms_error *err)
{
    size_t outl = 0;

    if (!cipher_oneshot(MSI_AES256_CTR, 1, false, key, counter, in, len, out, &outl) ||
        outl != len)
        return msi_ossl_fail(err, MS_EINTERNAL, "AES-CTR failed");
    return MS_OK;
}
