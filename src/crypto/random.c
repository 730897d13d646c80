/* Random bytes, wiping and constant-time comparison. */
#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto/crypto_internal.h"

ms_status ms_random_bytes(void *buf, size_t len, struct ms_error *err)
{
    uint8_t *p = buf;
    size_t done = 0;

    while (done < len) {
        size_t n = len - done > INT_MAX ? INT_MAX : len - done;
        if (RAND_bytes(p + done, (int)n) != 1) {
            OPENSSL_cleanse(buf, len);
            return msi_ossl_fail(err, MS_EINTERNAL, "random generator failed");
        }
        done += n;
    }
    return MS_OK;
}

void ms_crypto_wipe(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}

bool ms_crypto_equal(const void *a, const void *b, size_t len)
{
    return len == 0 || CRYPTO_memcmp(a, b, len) == 0;
}
