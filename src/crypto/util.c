/* Crypto-layer plumbing: algorithm handles fetched once, OpenSSL error
 * reporting, hex, and reading/writing key files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <sodium.h>

#include "crypto/crypto_internal.h"

/* ---- algorithm handles ---------------------------------------------------- */

static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static pthread_once_t legacy_once = PTHREAD_ONCE_INIT;
static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *ciphers[MSI_CIPHER_COUNT];
static EVP_MD *sha256_md, *sha512_md, *whirlpool_md;
static EVP_MAC *hmac_mac;
static bool sodium_ok;

static const char *const cipher_names[MSI_CIPHER_COUNT] = {
    [MSI_AES256_GCM] = "AES-256-GCM",
    [MSI_AES256_CBC] = "AES-256-CBC",
    [MSI_AES256_ECB] = "AES-256-ECB",
    [MSI_AES256_CTR] = "AES-256-CTR",
    [MSI_AES256_WRAP] = "AES-256-WRAP", /* RFC 3394 */
};

static void fetch_algs(void)
{
    for (int i = 0; i < MSI_CIPHER_COUNT; i++)
        ciphers[i] = EVP_CIPHER_fetch(NULL, cipher_names[i], NULL);
    sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    sha512_md = EVP_MD_fetch(NULL, "SHA2-512", NULL);
    hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    ERR_clear_error();
}

/* Whirlpool lives in the legacy provider. Loading it into the default library
 * context would change what every other fetch sees, so it gets a context of its
 * own holding both the default and the legacy provider. */
static void fetch_legacy(void)
{
    OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
    if (ctx && OSSL_PROVIDER_load(ctx, "default") && OSSL_PROVIDER_load(ctx, "legacy"))
        whirlpool_md = EVP_MD_fetch(ctx, "WHIRLPOOL", NULL);
    /* On success ctx is kept for the life of the process: whirlpool_md refers to it. */
    if (!whirlpool_md)
        OSSL_LIB_CTX_free(ctx);
    ERR_clear_error();
}

static void init_sodium(void)
{
    sodium_ok = sodium_init() >= 0;
}

const EVP_CIPHER *msi_cipher(enum msi_cipher_id id)
{
    pthread_once(&algs_once, fetch_algs);
    return (unsigned)id < MSI_CIPHER_COUNT ? ciphers[id] : NULL;
}

const EVP_MD *msi_md(ms_hash_alg alg)
{
    pthread_once(&algs_once, fetch_algs);
    switch (alg) {
    case MS_HASH_SHA256:
        return sha256_md;
    case MS_HASH_SHA512:
        return sha512_md;
    case MS_HASH_WHIRLPOOL:
        pthread_once(&legacy_once, fetch_legacy);
        return whirlpool_md;
    }
    return NULL;
}

EVP_MAC *msi_hmac(void)
{
    pthread_once(&algs_once, fetch_algs);
    return hmac_mac;
}

bool msi_sodium_ready(void)
{
    pthread_once(&sodium_once, init_sodium);
    return sodium_ok;
}

/* ---- errors and hex --------------------------------------------------------- */

ms_status msi_ossl_fail(struct ms_error *err, ms_status code, const char *fmt, ...)
{
    char head[192];
    va_list ap;
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;

    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    ERR_clear_error();
    if (reason)
        return ms_error_set(err, code, "%s (%s)", head, reason);
    return ms_error_set(err, code, "%s", head);
}

void msi_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

/* ---- files ---------------------------------------------------------------------- */

void msi_secret_free(void *p, size_t len)
{
    if (p) {
        OPENSSL_cleanse(p, len + 1);
        free(p);
    }
}

/* Read until EOF or until cap bytes are in buf; *got gets the count. */
static ms_status read_all(int fd, uint8_t *buf, size_t cap, size_t *got, struct ms_error *err)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return ms_error_set(err, MS_EIO, "cannot read: %s", strerror(errno));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *got = n;
    return MS_OK;
}

ms_status msi_read_file(const char *path, size_t max, uint8_t **data, size_t *len,
                        struct ms_error *err)
{
    struct stat st;
    size_t cap, got = 0;
    uint8_t *buf;
    ms_status rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *data = NULL;
    *len = 0;
    if (fd < 0)
        return ms_error_set(err, MS_EIO, "cannot open: %s", strerror(errno));
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        close(fd);
        return ms_error_set(err, MS_EIO, "cannot read: not a file");
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
        close(fd);
        return ms_error_set(err, MS_ELIMIT, "file too large (%llu bytes, at most %zu)",
                            (unsigned long long)st.st_size, max);
    }
    /* One allocation, never grown: a secret is never left behind by realloc.
     * One byte more than allowed tells a too-long pipe from a full one. */
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : max + 1;
    buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    rc = read_all(fd, buf, cap, &got, err);
    close(fd);
    if (rc == MS_OK && got > max)
        rc = ms_error_set(err, MS_ELIMIT, "file too large (more than %zu bytes)", max);
    if (rc != MS_OK) {
        msi_secret_free(buf, cap);
        return rc;
    }
    if (got < cap)
        OPENSSL_cleanse(buf + got, cap - got);
    buf[got] = 0;
    *data = buf;
    *len = got;
    return MS_OK;
}

ms_status msi_write_file(const char *path, const void *data, size_t len, unsigned mode,
                         struct ms_error *err)
{
    char tmp[4096];
    int fd;
    bool ok;
    ms_status rc = msi_atomic_open(path, tmp, sizeof tmp, &fd, err);

    if (rc != MS_OK)
        return rc;
    /* Before any byte is written: a private key is never readable by others. */
    ok = fchmod(fd, (mode_t)mode) == 0;
    ok = ok && msi_fd_sink(&fd, data, len) == 0;
    if (!ok) {
        int e = errno;
        (void)msi_atomic_close(fd, tmp, path, false, NULL);
        return ms_error_set(err, MS_EIO, "cannot write %s: %s", path, strerror(e));
    }
    return msi_atomic_close(fd, tmp, path, true, err);
}
