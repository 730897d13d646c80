/* Typed access to element values: multiplicity, strings, numbers, and the
 * text form used by listings. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* VRs whose value is one string that may contain backslashes. */
static bool single_valued_text(ms_vr vr)
{
    return vr == MS_VR_LT || vr == MS_VR_ST || vr == MS_VR_UT || vr == MS_VR_UR;
}

size_t ms_element_vm(const struct ms_element *el)
{
    ms_vr vr = (ms_vr)el->vr;
    unsigned size;

    if (vr == MS_VR_SQ)
        return el->nitems;
    if (!el->value || el->length == 0)
        return 0;
    if (ms_vr_is_string(vr)) {
        size_t n = 1;
        if (single_valued_text(vr))
            return 1;
        for (uint64_t i = 0; i < el->length; i++)
            n += el->value[i] == '\\';
        return n;
    }
    size = ms_vr_binary_size(vr);
    if (vr == MS_VR_OB || vr == MS_VR_UN || vr == MS_VR_OW || vr == MS_VR_OF ||
        vr == MS_VR_OD || vr == MS_VR_OL || vr == MS_VR_OV || size == 0)
        return 1;
    return (size_t)(el->length / size);
}

/* Bounds of string value idx, trimmed of padding; false if absent. */
static bool string_span(const struct ms_element *el, size_t idx, uint64_t *start, uint64_t *end)
{
    ms_vr vr = (ms_vr)el->vr;
    uint64_t s = 0, e, i;
    size_t k = 0;

    if (!el->value || !ms_vr_is_string(vr))
        return false;
    e = el->length;
    if (!single_valued_text(vr)) {
        for (i = 0; i < el->length && k < idx; i++)
            if (el->value[i] == '\\') {
                k++;
                s = i + 1;
            }
        if (k < idx)
            return false;
        for (e = s; e < el->length && el->value[e] != '\\'; e++)
            ;
    }
    while (e > s && (el->value[e - 1] == ' ' || el->value[e - 1] == '\0'))
        e--;
    if (!single_valued_text(vr) || vr == MS_VR_UR)
        while (s < e && el->value[s] == ' ')
            s++;
    *start = s;
    *end = e;
    return true;
}

bool ms_element_get_string(const struct ms_element *el, size_t idx, char *buf, size_t cap)
{
    uint64_t s, e;
    size_t n;

    if (cap)
        buf[0] = '\0';
    if (!string_span(el, idx, &s, &e) || cap == 0)
        return false;
    n = (size_t)(e - s);
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, el->value + s, n);
    buf[n] = '\0';
    return true;
}

static bool binary_number(const struct ms_element *el, size_t idx, double *d, int64_t *i,
                          bool *is_int)
{
    unsigned size = ms_vr_binary_size((ms_vr)el->vr);
    const uint8_t *p;
    uint64_t off;

    if (!el->value || size == 0 || !msi_mul_u64(idx, size, &off) || off >= el->length ||
        size > el->length - off)
        return false;
    p = el->value + off;
    *is_int = true;
    switch (el->vr) {
    case MS_VR_US: *i = msi_rd16le(p); break;
    case MS_VR_SS: *i = (int16_t)msi_rd16le(p); break;
    case MS_VR_UL: case MS_VR_OL: *i = msi_rd32le(p); break;
    case MS_VR_SL: *i = (int32_t)msi_rd32le(p); break;
    case MS_VR_UV: case MS_VR_OV: *i = (int64_t)msi_rd64le(p); break;
    case MS_VR_SV: *i = (int64_t)msi_rd64le(p); break;
    case MS_VR_OB: *i = p[0]; break;
    case MS_VR_OW: *i = msi_rd16le(p); break;
    case MS_VR_AT: *i = (int64_t)MS_TAG(msi_rd16le(p), msi_rd16le(p + 2)); break;
    case MS_VR_FL: case MS_VR_OF: {
        uint32_t u = msi_rd32le(p);
        float f;
        memcpy(&f, &u, 4);
        *d = f;
        *is_int = false;
        return true;
    }
    case MS_VR_FD: case MS_VR_OD: {
        uint64_t u = msi_rd64le(p);
        memcpy(d, &u, 8);
        *is_int = false;
        return true;
    }
    default: return false;
    }
    *d = (double)*i;
    return true;
}

static bool text_number(const struct ms_element *el, size_t idx, double *out)
{
    char buf[80], *end;
    if (el->vr != MS_VR_DS && el->vr != MS_VR_IS)
        return false;
    if (!ms_element_get_string(el, idx, buf, sizeof buf) || buf[0] == '\0')
        return false;
    errno = 0;
    *out = strtod(buf, &end);
    return end != buf && *end == '\0' && errno == 0;
}

bool ms_element_get_double(const struct ms_element *el, size_t idx, double *out)
{
    int64_t i;
    bool is_int;
    if (binary_number(el, idx, out, &i, &is_int))
        return true;
    return text_number(el, idx, out);
}

bool ms_element_get_int(const struct ms_element *el, size_t idx, int64_t *out)
{
    double d;
    bool is_int;
    if (binary_number(el, idx, &d, out, &is_int))
        return is_int;
    if (!text_number(el, idx, &d) || d != floor(d) || fabs(d) > 9.2e18)
        return false;
    *out = (int64_t)d;
    return true;
}

/* VRs whose text is affected by Specific Character Set (PS3.5 6.1.2.3). */
static bool charset_vr(ms_vr vr)
{
    return vr == MS_VR_SH || vr == MS_VR_LO || vr == MS_VR_ST || vr == MS_VR_LT ||
           vr == MS_VR_UC || vr == MS_VR_UT || vr == MS_VR_PN;
}

/* PN has its own delimiters; LT, ST and UT hold one value, so '\\' is text. */
static unsigned text_flags(ms_vr vr)
{
    if (vr == MS_VR_PN)
        return MSI_CS_PN;
    if (vr == MS_VR_LT || vr == MS_VR_ST || vr == MS_VR_UT)
        return MSI_CS_SINGLE_VALUE;
    return 0;
}

size_t ms_element_to_utf8(const struct ms_element *el, char *buf, size_t cap)
{
    ms_vr vr = (ms_vr)el->vr;
    uint64_t len = el->length;

    if (cap)
        buf[0] = '\0';
    if (!el->value || !ms_vr_is_string(vr))
        return 0;
    while (len > 0 && (el->value[len - 1] == ' ' || el->value[len - 1] == '\0'))
        len--;
    if (charset_vr(vr))
        return msi_charset_decode(el->parent->charset, el->value, (size_t)len, text_flags(vr),
                                  buf, cap);
    return msi_charset_decode("", el->value, (size_t)len, 0, buf, cap);
}
