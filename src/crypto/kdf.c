/* Key derivation: HKDF-SHA256 and scrypt (OpenSSL EVP_KDF), Argon2id
 * (libsodium crypto_pwhash). */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <sodium.h>

#include "crypto/crypto_internal.h"

#define HKDF_MAX_OUT (255u * MS_SHA256_LEN)
#define SCRYPT_MAX_MEM ((uint64_t)1 << 30)

static ms_status kdf_derive(const char *name, const OSSL_PARAM *params, uint8_t *out,
                            size_t out_len, struct ms_error *err)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    bool ok = ctx && EVP_KDF_derive(ctx, out, out_len, params) == 1;

    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    if (!ok) {
        ms_crypto_wipe(out, out_len);
        return msi_ossl_fail(err, kdf ? MS_EINTERNAL : MS_EUNSUPPORTED, "%s failed", name);
    }
    return MS_OK;
}

ms_status ms_hkdf_sha256(const void *ikm, size_t ikm_len, const void *salt, size_t salt_len,
                         const void *info, size_t info_len, uint8_t *out, size_t out_len,
                         struct ms_error *err)
{
    static const uint8_t empty[1];
    OSSL_PARAM params[5];
    size_t n = 0;

    if (out_len == 0 || out_len > HKDF_MAX_OUT)
        return ms_error_set(err, MS_EUSAGE, "HKDF: output length %zu not in 1..%u", out_len,
                            HKDF_MAX_OUT);
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA2-256", 0);
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_KEY, (void *)(ikm_len ? ikm : empty), ikm_len);
    if (salt_len) /* absent salt = HashLen zero bytes (RFC 5869 2.2) */
        params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
                                                        salt_len);
    if (info_len)
        params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
                                                        info_len);
    params[n] = OSSL_PARAM_construct_end();
    return kdf_derive("HKDF", params, out, out_len, err);
}

ms_status ms_scrypt(const void *pass, size_t pass_len, const void *salt, size_t salt_len,
                    uint64_t n, uint32_t r, uint32_t p, uint8_t *out, size_t out_len,
                    struct ms_error *err)
{
    static const uint8_t empty[1];
    uint64_t mem, rp, maxmem = SCRYPT_MAX_MEM + ((uint64_t)1 << 20);
    OSSL_PARAM params[7];

    if (n < 2 || (n & (n - 1)) != 0 || r == 0 || p == 0 || out_len == 0)
        return ms_error_set(err, MS_EUSAGE, "scrypt: N must be a power of two > 1, r, p >= 1");
    if (!msi_mul_u64(128u * (uint64_t)r, n, &mem) || mem > SCRYPT_MAX_MEM ||
        !msi_mul_u64(r, p, &rp) || rp >= ((uint64_t)1 << 30))
        return ms_error_set(err, MS_ELIMIT, "scrypt: parameters need more than 1 GiB");
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                                  (void *)(pass_len ? pass : empty), pass_len);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                  (void *)(salt_len ? salt : empty), salt_len);
    params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
    params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
    params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
    params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
    params[6] = OSSL_PARAM_construct_end();
    return kdf_derive("SCRYPT", params, out, out_len, err);
}

ms_status msi_argon2_costs(const struct ms_argon2_params *params, uint64_t *ops, size_t *mem,
                           struct ms_error *err)
{
    uint64_t t = params ? params->ops : MS_ARGON2_OPS_DEFAULT;
    uint64_t kib = params ? params->mem_kib : MS_ARGON2_MEM_KIB_DEFAULT;

    if (!msi_sodium_ready())
        return ms_error_set(err, MS_EINTERNAL, "libsodium cannot initialise");
    if (t < crypto_pwhash_argon2id_OPSLIMIT_MIN || t > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
        kib < crypto_pwhash_argon2id_MEMLIMIT_MIN / 1024 ||
        kib > crypto_pwhash_argon2id_MEMLIMIT_MAX / 1024)
        return ms_error_set(err, MS_EUSAGE, "Argon2id: cost t=%llu m=%llu KiB out of range",
                            (unsigned long long)t, (unsigned long long)kib);
    *ops = t;
    *mem = (size_t)(kib * 1024);
    return MS_OK;
}

ms_status ms_argon2id(const void *pass, size_t pass_len, const uint8_t salt[MS_ARGON2_SALT_LEN],
                      const struct ms_argon2_params *params, uint8_t *out, size_t out_len,
                      struct ms_error *err)
{
    uint64_t ops = 0;
    size_t mem = 0;
    ms_status rc = msi_argon2_costs(params, &ops, &mem, err);

    if (rc != MS_OK)
        return rc;
    if (out_len < crypto_pwhash_argon2id_BYTES_MIN || out_len > crypto_pwhash_argon2id_BYTES_MAX)
        return ms_error_set(err, MS_EUSAGE, "Argon2id: output length %zu out of range", out_len);
    if (pass_len > crypto_pwhash_argon2id_PASSWD_MAX)
        return ms_error_set(err, MS_ELIMIT, "Argon2id: passphrase too long");
    if (crypto_pwhash(out, out_len, pass, pass_len, salt, ops, mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        ms_crypto_wipe(out, out_len);
        return ms_error_set(err, MS_ENOMEM, "Argon2id: cannot allocate %zu KiB", mem / 1024);
    }
    return MS_OK;
}
