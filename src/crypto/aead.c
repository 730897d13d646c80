/* AES-256-GCM: one-shot, sealed (IV || ciphertext || tag) and streaming. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/crypto_internal.h"

/* NIST SP 800-38D: at most 2^39 - 256 bits of plaintext under one IV. */
#define GCM_MAX_BYTES ((((uint64_t)1) << 36) - 32)

enum gcm_state { GCM_AAD, GCM_DATA, GCM_DONE };

struct ms_gcm {
    EVP_CIPHER_CTX *ctx;
    ms_cipher_dir dir;
    enum gcm_state state;
    uint64_t done;
};

static bool gcm_start(EVP_CIPHER_CTX *ctx, ms_cipher_dir dir, const uint8_t *key,
                      const uint8_t *iv)
{
    const EVP_CIPHER *c = msi_cipher(MSI_AES256_GCM);
    if (!c)
        return false;
    /* GCM's default IV length is 96 bits, the only one medseal uses. */
    return EVP_CipherInit_ex2(ctx, c, key, iv, dir == MS_ENCRYPT ? 1 : 0, NULL) == 1;
}

static bool gcm_aad(EVP_CIPHER_CTX *ctx, const void *aad, size_t len)
{
    const uint8_t *p = aad;
    int outl;
    while (len > 0) {
        size_t n = len > MSI_OSSL_CHUNK ? MSI_OSSL_CHUNK : len;
        if (!EVP_CipherUpdate(ctx, NULL, &outl, p, (int)n))
            return false;
        p += n;
        len -= n;
    }
    return true;
}

static bool gcm_data(EVP_CIPHER_CTX *ctx, const void *in, size_t len, uint8_t *out)
{
    const uint8_t *p = in;
    int outl;
    while (len > 0) {
        size_t n = len > MSI_OSSL_CHUNK ? MSI_OSSL_CHUNK : len;
        if (!EVP_CipherUpdate(ctx, out, &outl, p, (int)n) || (size_t)outl != n)
            return false;
        p += n;
        out += n;
        len -= n;
    }
    return true;
}

static bool gcm_tag_out(EVP_CIPHER_CTX *ctx, uint8_t tag[MS_GCM_TAG_LEN])
{
    uint8_t dummy[MS_AES_BLOCK_LEN];
    int outl = 0;
    return EVP_EncryptFinal_ex(ctx, dummy, &outl) == 1 && outl == 0 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, MS_GCM_TAG_LEN, tag) == 1;
}

/* False on any mismatch. */
static bool gcm_tag_check(EVP_CIPHER_CTX *ctx, const uint8_t tag[MS_GCM_TAG_LEN])
{
    uint8_t t[MS_GCM_TAG_LEN], dummy[MS_AES_BLOCK_LEN];
    int outl = 0;
    memcpy(t, tag, sizeof t);
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, MS_GCM_TAG_LEN, t) == 1 &&
           EVP_DecryptFinal_ex(ctx, dummy, &outl) == 1 && outl == 0;
}

ms_status ms_gcm_encrypt(const uint8_t key[MS_AES256_KEY_LEN], const uint8_t iv[MS_GCM_IV_LEN],
                         const void *aad, size_t aad_len, const void *pt, size_t len,
                         uint8_t *ct, uint8_t tag[MS_GCM_TAG_LEN], struct ms_error *err)
{
    EVP_CIPHER_CTX *ctx;
    bool ok;

    if ((uint64_t)len > GCM_MAX_BYTES)
        return ms_error_set(err, MS_ELIMIT, "AES-GCM: %zu bytes exceed the 64 GiB limit", len);
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx && gcm_start(ctx, MS_ENCRYPT, key, iv) && gcm_aad(ctx, aad, aad_len) &&
         gcm_data(ctx, pt, len, ct) && gcm_tag_out(ctx, tag);
    EVP_CIPHER_CTX_free(ctx);
    return ok ? MS_OK : msi_ossl_fail(err, MS_EINTERNAL, "AES-GCM encryption failed");
}

ms_status ms_gcm_decrypt(const uint8_t key[MS_AES256_KEY_LEN], const uint8_t iv[MS_GCM_IV_LEN],
                         const void *aad, size_t aad_len, const void *ct, size_t len,
                         const uint8_t tag[MS_GCM_TAG_LEN], uint8_t *pt, struct ms_error *err)
{
    EVP_CIPHER_CTX *ctx;
    bool ok;

    if ((uint64_t)len > GCM_MAX_BYTES)
        return ms_error_set(err, MS_ELIMIT, "AES-GCM: %zu bytes exceed the 64 GiB limit", len);
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx || !gcm_start(ctx, MS_DECRYPT, key, iv)) {
        EVP_CIPHER_CTX_free(ctx);
        return msi_ossl_fail(err, MS_EINTERNAL, "AES-GCM: cannot start");
    }
    ok = gcm_aad(ctx, aad, aad_len) && gcm_data(ctx, ct, len, pt) && gcm_tag_check(ctx, tag);
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        ms_crypto_wipe(pt, len);
        return msi_ossl_fail(err, MS_EKEY,
                             "AES-GCM: authentication failed (wrong key or tampered data)");
    }
    return MS_OK;
}

size_t ms_gcm_sealed_size(size_t len)
{
    return len > SIZE_MAX - MS_GCM_IV_LEN - MS_GCM_TAG_LEN ? 0
                                                          : len + MS_GCM_IV_LEN + MS_GCM_TAG_LEN;
}

ms_status ms_gcm_seal(const uint8_t key[MS_AES256_KEY_LEN], const void *aad, size_t aad_len,
                      const void *pt, size_t len, uint8_t *out, struct ms_error *err)
{
    ms_status rc;

    if (ms_gcm_sealed_size(len) == 0)
        return ms_error_set(err, MS_ELIMIT, "AES-GCM: input too large");
    rc = ms_random_bytes(out, MS_GCM_IV_LEN, err);
    if (rc == MS_OK)
        rc = ms_gcm_encrypt(key, out, aad, aad_len, pt, len, out + MS_GCM_IV_LEN,
                            out + MS_GCM_IV_LEN + len, err);
    return rc;
}

ms_status ms_gcm_open(const uint8_t key[MS_AES256_KEY_LEN], const void *aad, size_t aad_len,
                      const uint8_t *in, size_t in_len, uint8_t *out, struct ms_error *err)
{
    size_t len;

    if (in_len < MS_GCM_IV_LEN + MS_GCM_TAG_LEN)
        return ms_error_set(err, MS_EMALFORMED,
                            "AES-GCM: sealed data too short (%zu bytes, at least 28)", in_len);
    len = in_len - MS_GCM_IV_LEN - MS_GCM_TAG_LEN;
    return ms_gcm_decrypt(key, in, aad, aad_len, in + MS_GCM_IV_LEN, len,
                          in + MS_GCM_IV_LEN + len, out, err);
}

/* ---- streaming ---------------------------------------------------------------- */

ms_status ms_gcm_create(struct ms_gcm **out, ms_cipher_dir dir,
                        const uint8_t key[MS_AES256_KEY_LEN], const uint8_t iv[MS_GCM_IV_LEN],
                        struct ms_error *err)
{
    struct ms_gcm *g;

    *out = NULL;
    if (dir != MS_ENCRYPT && dir != MS_DECRYPT)
        return ms_error_set(err, MS_EUSAGE, "AES-GCM: bad direction");
    g = calloc(1, sizeof *g);
    if (!g)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    g->dir = dir;
    g->ctx = EVP_CIPHER_CTX_new();
    if (!g->ctx || !gcm_start(g->ctx, dir, key, iv)) {
        ms_gcm_destroy(g);
        return msi_ossl_fail(err, MS_EINTERNAL, "AES-GCM: cannot start");
    }
    *out = g;
    return MS_OK;
}

ms_status ms_gcm_restart(struct ms_gcm *g, const uint8_t iv[MS_GCM_IV_LEN], struct ms_error *err)
{
    /* A NULL cipher and key keep the key schedule; only the IV changes. */
    if (EVP_CipherInit_ex2(g->ctx, NULL, NULL, iv, g->dir == MS_ENCRYPT ? 1 : 0, NULL) != 1)
        return msi_ossl_fail(err, MS_EINTERNAL, "AES-GCM: cannot restart");
    g->state = GCM_AAD;
    g->done = 0;
    return MS_OK;
}

ms_status ms_gcm_aad(struct ms_gcm *g, const void *aad, size_t len, struct ms_error *err)
{
    if (g->state != GCM_AAD)
        return ms_error_set(err, MS_EUSAGE, "AES-GCM: associated data after the data");
    if (!gcm_aad(g->ctx, aad, len))
        return msi_ossl_fail(err, MS_EINTERNAL, "AES-GCM failed");
    return MS_OK;
}

ms_status ms_gcm_update(struct ms_gcm *g, const void *in, size_t len, uint8_t *out,
                        struct ms_error *err)
{
    uint64_t total;

    if (g->state == GCM_DONE)
        return ms_error_set(err, MS_EUSAGE, "AES-GCM: data after the end of the message");
    if (!msi_add_u64(g->done, len, &total) || total > GCM_MAX_BYTES)
        return ms_error_set(err, MS_ELIMIT, "AES-GCM: message exceeds the 64 GiB limit");
    g->state = GCM_DATA;
    if (!gcm_data(g->ctx, in, len, out)) {
        ms_crypto_wipe(out, len);
        return msi_ossl_fail(err, MS_EINTERNAL, "AES-GCM failed");
    }
    g->done = total;
    return MS_OK;
}

ms_status ms_gcm_final_encrypt(struct ms_gcm *g, uint8_t tag[MS_GCM_TAG_LEN],
                               struct ms_error *err)
{
    if (g->dir != MS_ENCRYPT || g->state == GCM_DONE)
        return ms_error_set(err, MS_EUSAGE, "AES-GCM: not an unfinished encryption");
    g->state = GCM_DONE;
    if (!gcm_tag_out(g->ctx, tag))
        return msi_ossl_fail(err, MS_EINTERNAL, "AES-GCM encryption failed");
    return MS_OK;
}

ms_status ms_gcm_final_decrypt(struct ms_gcm *g, const uint8_t tag[MS_GCM_TAG_LEN],
                               struct ms_error *err)
{
    if (g->dir != MS_DECRYPT || g->state == GCM_DONE)
        return ms_error_set(err, MS_EUSAGE, "AES-GCM: not an unfinished decryption");
    g->state = GCM_DONE;
    if (!gcm_tag_check(g->ctx, tag))
        return msi_ossl_fail(err, MS_EKEY,
                             "AES-GCM: authentication failed (wrong key or tampered data)");
    return MS_OK;
}

void ms_gcm_destroy(struct ms_gcm *g)
{
    if (!g)
        return;
    EVP_CIPHER_CTX_free(g->ctx); /* OpenSSL wipes the key schedule */
    free(g);
}
