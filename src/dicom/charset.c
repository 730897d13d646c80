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

/* Length of the well-formed UTF-8 sequence at in[0] (Unicode 3.9, table
 * 3-7), 0 when it is not one. */
static size_t utf8_length(const uint8_t *in, size_t len)
{
    uint8_t c = in[0], lo = 0x80, hi = 0xBF;
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (len < n || in[1] < lo || in[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if (in[k] < 0x80 || in[k] > 0xBF)
            return 0;
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
        if (utf8 && c >= 0x80) { /* ill-formed bytes become U+FFFD */
            size_t k = utf8_length(in + i, len - i);
            if (k)
                n = emit(out, cap, n, (const char *)in + i, k);
            else
                n = emit(out, cap, n, "\xEF\xBF\xBD", 3);
            i += k ? k - 1 : 0;
        } else if (c < 0x80) {
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
