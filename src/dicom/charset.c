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

/* Well-formed UTF-8 sequences (Unicode 3.9, table 3-7): lead bytes, length,
 * range of the second byte (later bytes are 80..BF). */
static const struct {
    uint8_t lead_lo, lead_hi, n, lo, hi;
} utf8_forms[] = {
    {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF}, {0xE1, 0xEC, 3, 0x80, 0xBF},
    {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF}, {0xF0, 0xF0, 4, 0x90, 0xBF},
    {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F},
};

/* Length of the well-formed UTF-8 sequence at in[0], 0 when it is not one. */
static size_t utf8_length(const uint8_t *in, size_t len)
{
    for (size_t f = 0; f < sizeof utf8_forms / sizeof utf8_forms[0]; f++) {
        size_t n = utf8_forms[f].n;
        if (in[0] < utf8_forms[f].lead_lo || in[0] > utf8_forms[f].lead_hi)
            continue;
        if (len < n || in[1] < utf8_forms[f].lo || in[1] > utf8_forms[f].hi)
            return 0;
        for (size_t k = 2; k < n; k++)
            if (in[k] < 0x80 || in[k] > 0xBF)
                return 0;
        return n;
    }
    return in[0] < 0x80 ? 1 : 0;
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
