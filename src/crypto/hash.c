/* Hashes (SHA-256, SHA-512, Whirlpool) one-shot, streaming and over files;
 * HMAC-SHA256 one-shot and streaming. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "crypto/crypto_internal.h"

#define FILE_CHUNK ((size_t)1 << 20)

static const struct {
    const char *name;
    size_t size;
} hash_table[] = {
    [MS_HASH_SHA256] = {"sha256", MS_SHA256_LEN},
    [MS_HASH_SHA512] = {"sha512", MS_SHA512_LEN},
    [MS_HASH_WHIRLPOOL] = {"whirlpool", MS_WHIRLPOOL_LEN},
};

#define HASH_COUNT (sizeof hash_table / sizeof hash_table[0])

size_t ms_hash_size(ms_hash_alg alg)
{
    return (unsigned)alg < HASH_COUNT ? hash_table[alg].size : 0;
}

const char *ms_hash_name(ms_hash_alg alg)
{
    return (unsigned)alg < HASH_COUNT ? hash_table[alg].name : "unknown";
}

static ms_status get_md(ms_hash_alg alg, const EVP_MD **md, struct ms_error *err)
{
    if ((unsigned)alg >= HASH_COUNT)
        return ms_error_set(err, MS_EUSAGE, "unknown hash algorithm %d", (int)alg);
    *md = msi_md(alg);
    if (!*md)
        return ms_error_set(err, MS_EUNSUPPORTED, "%s is not available in this OpenSSL%s",
                            hash_table[alg].name,
                            alg == MS_HASH_WHIRLPOOL ? " (legacy provider missing)" : "");
    return MS_OK;
}

/* EVP_DigestUpdate takes size_t, but keep chunks bounded all the same. */
static bool digest_update(EVP_MD_CTX *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        size_t n = len > MSI_OSSL_CHUNK ? MSI_OSSL_CHUNK : len;
        if (!EVP_DigestUpdate(ctx, p, n))
            return false;
        p += n;
        len -= n;
    }
    return true;
}

ms_status ms_hash_compute(ms_hash_alg alg, const void *data, size_t len, uint8_t *out,
                          struct ms_error *err)
{
    const EVP_MD *md;
    EVP_MD_CTX *ctx;
    bool ok;
    ms_status rc = get_md(alg, &md, err);

    if (rc != MS_OK)
        return rc;
    ctx = EVP_MD_CTX_new();
    ok = ctx && EVP_DigestInit_ex2(ctx, md, NULL) && digest_update(ctx, data, len) &&
         EVP_DigestFinal_ex(ctx, out, NULL);
    EVP_MD_CTX_free(ctx);
    return ok ? MS_OK : msi_ossl_fail(err, MS_EINTERNAL, "%s failed", hash_table[alg].name);
}

ms_status ms_sha256(const void *data, size_t len, uint8_t out[MS_SHA256_LEN],
                    struct ms_error *err)
{
    return ms_hash_compute(MS_HASH_SHA256, data, len, out, err);
}

/* ---- streaming ---------------------------------------------------------------- */

struct ms_hash {
    EVP_MD_CTX *ctx;
    const EVP_MD *md;
    ms_hash_alg alg;
};

ms_status ms_hash_create(struct ms_hash **out, ms_hash_alg alg, struct ms_error *err)
{
    const EVP_MD *md;
    struct ms_hash *h;
    ms_status rc = get_md(alg, &md, err);

    *out = NULL;
    if (rc != MS_OK)
        return rc;
    h = calloc(1, sizeof *h);
    if (!h)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    h->md = md;
    h->alg = alg;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || !EVP_DigestInit_ex2(h->ctx, md, NULL)) {
        ms_hash_destroy(h);
        return msi_ossl_fail(err, MS_EINTERNAL, "%s: cannot start", hash_table[alg].name);
    }
    *out = h;
    return MS_OK;
}

ms_status ms_hash_update(struct ms_hash *h, const void *data, size_t len, struct ms_error *err)
{
    if (!digest_update(h->ctx, data, len))
        return msi_ossl_fail(err, MS_EINTERNAL, "%s failed", hash_table[h->alg].name);
    return MS_OK;
}

ms_status ms_hash_final(struct ms_hash *h, uint8_t *out, struct ms_error *err)
{
    if (!EVP_DigestFinal_ex(h->ctx, out, NULL) || !EVP_DigestInit_ex2(h->ctx, h->md, NULL))
        return msi_ossl_fail(err, MS_EINTERNAL, "%s failed", hash_table[h->alg].name);
    return MS_OK;
}

void ms_hash_destroy(struct ms_hash *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

ms_status ms_hash_file(ms_hash_alg alg, const char *path, uint8_t *out, struct ms_error *err)
{
    struct ms_hash *h = NULL;
    uint8_t *buf = NULL;
    ms_status rc;
    int fd = -1;

    rc = ms_hash_create(&h, alg, err);
    if (rc != MS_OK)
        return rc;
    buf = malloc(FILE_CHUNK);
    if (!buf) {
        rc = ms_error_set(err, MS_ENOMEM, "out of memory");
        goto done;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = ms_error_set(err, MS_EIO, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    for (;;) {
        ssize_t r = read(fd, buf, FILE_CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ms_error_set(err, MS_EIO, "%s: cannot read: %s", path, strerror(errno));
            goto done;
        }
        if (r == 0)
            break;
        rc = ms_hash_update(h, buf, (size_t)r, err);
        if (rc != MS_OK)
            goto done;
    }
    rc = ms_hash_final(h, out, err);
done:
    if (fd >= 0)
        close(fd);
    free(buf);
    ms_hash_destroy(h);
    return rc;
}

/* ---- HMAC-SHA256 -------------------------------------------------------------- */

struct ms_hmac {
    EVP_MAC_CTX *ctx;
    uint8_t *key;
    size_t key_len;
};

static bool hmac_init(EVP_MAC_CTX *ctx, const void *key, size_t key_len)
{
    static const uint8_t empty[1];
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA2-256", 0);
    params[1] = OSSL_PARAM_construct_end();
    return EVP_MAC_init(ctx, key_len ? key : empty, key_len, params) == 1;
}

static bool mac_update(EVP_MAC_CTX *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        size_t n = len > MSI_OSSL_CHUNK ? MSI_OSSL_CHUNK : len;
        if (!EVP_MAC_update(ctx, p, n))
            return false;
        p += n;
        len -= n;
    }
    return true;
}

ms_status ms_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                         uint8_t out[MS_HMAC_SHA256_LEN], struct ms_error *err)
{
    EVP_MAC *mac = msi_hmac();
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    size_t outl = 0;
    bool ok = ctx && hmac_init(ctx, key, key_len) && mac_update(ctx, data, len) &&
              EVP_MAC_final(ctx, out, &outl, MS_HMAC_SHA256_LEN) && outl == MS_HMAC_SHA256_LEN;

    EVP_MAC_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(out, MS_HMAC_SHA256_LEN);
        return msi_ossl_fail(err, MS_EINTERNAL, "HMAC-SHA256 failed");
    }
    return MS_OK;
}

ms_status ms_hmac_sha256_verify(const void *key, size_t key_len, const void *data, size_t len,
                                const uint8_t *tag, size_t tag_len, struct ms_error *err)
{
    uint8_t mac[MS_HMAC_SHA256_LEN];
    ms_status rc;

    if (tag_len < 16 || tag_len > MS_HMAC_SHA256_LEN)
        return ms_error_set(err, MS_EUSAGE, "HMAC tag length %zu not in 16..32", tag_len);
    rc = ms_hmac_sha256(key, key_len, data, len, mac, err);
    if (rc == MS_OK && !ms_crypto_equal(mac, tag, tag_len))
        rc = ms_error_set(err, MS_EKEY, "HMAC-SHA256 does not match (wrong key or changed data)");
    OPENSSL_cleanse(mac, sizeof mac);
    return rc;
}

ms_status ms_hmac_create(struct ms_hmac **out, const void *key, size_t key_len,
                         struct ms_error *err)
{
    EVP_MAC *mac = msi_hmac();
    struct ms_hmac *m;

    *out = NULL;
    m = calloc(1, sizeof *m);
    if (!m)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    m->key = malloc(key_len ? key_len : 1);
    if (!m->key) {
        free(m);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    if (key_len)
        memcpy(m->key, key, key_len);
    m->key_len = key_len;
    m->ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    if (!m->ctx || !hmac_init(m->ctx, m->key, m->key_len)) {
        ms_hmac_destroy(m);
        return msi_ossl_fail(err, MS_EINTERNAL, "HMAC-SHA256: cannot start");
    }
    *out = m;
    return MS_OK;
}

ms_status ms_hmac_update(struct ms_hmac *m, const void *data, size_t len, struct ms_error *err)
{
    if (!mac_update(m->ctx, data, len))
        return msi_ossl_fail(err, MS_EINTERNAL, "HMAC-SHA256 failed");
    return MS_OK;
}

ms_status ms_hmac_final(struct ms_hmac *m, uint8_t out[MS_HMAC_SHA256_LEN], struct ms_error *err)
{
    size_t outl = 0;
    if (!EVP_MAC_final(m->ctx, out, &outl, MS_HMAC_SHA256_LEN) || outl != MS_HMAC_SHA256_LEN ||
        !hmac_init(m->ctx, m->key, m->key_len)) {
        OPENSSL_cleanse(out, MS_HMAC_SHA256_LEN);
        return msi_ossl_fail(err, MS_EINTERNAL, "HMAC-SHA256 failed");
    }
    return MS_OK;
}

void ms_hmac_destroy(struct ms_hmac *m)
{
    if (!m)
        return;
    EVP_MAC_CTX_free(m->ctx);
    if (m->key) {
        OPENSSL_cleanse(m->key, m->key_len ? m->key_len : 1);
        free(m->key);
    }
    free(m);
}
