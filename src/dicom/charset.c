/* Specific Character Set decoding to UTF-8 (PS3.5 6.1, PS3.3 C.12.1.1.2).
 * Interim version: default repertoire, ISO_IR 100 and ISO_IR 192. */
#include <string.h>

#include "internal.h"

static size_t emit(char *out, size_t cap, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++, n++)
        if (n + 1 < cap)
            out[n] = s[i];
    return n;
}

size_t ms_charset_to_utf8(const char *charset, const uint8_t *in, size_t len, bool is_pn,
                          char *out, size_t cap)
{
    size_t n = 0;
    bool utf8 = strstr(charset, "ISO_IR 192") != NULL;
    (void)is_pn;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        if (c < 0x80 || utf8) {
            n = emit(out, cap, n, (const char *)&c, 1);
        } else {
            char u[2] = {(char)(0xC0 | (c >> 6)), (char)(0x80 | (c & 0x3F))};
            n = emit(out, cap, n, u, 2);
        }
    }
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}
