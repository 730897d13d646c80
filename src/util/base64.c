/* Base64 (RFC 4648) through OpenSSL's block coder, with the padding
 * arithmetic it leaves to the caller done once. */
#include <openssl/evp.h>

#include "internal.h"

size_t msi_b64_encode(const uint8_t *in, size_t len, char *out)
{
    if (len == 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

bool msi_b64_decode(const char *in, size_t n, uint8_t *out, size_t *len)
{
    int r;
    *len = 0;
    if (n % 4 || n > (size_t)INT32_MAX)
        return false;
    if (n == 0)
        return true;
    r = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (r < 0)
        return false;
    *len = (size_t)r - (size_t)((in[n - 1] == '=') + (in[n - 2] == '='));
    return true;
}
