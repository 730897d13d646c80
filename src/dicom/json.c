/* DICOM JSON Model writer (PS3.18 F.2): one object per dataset, keys are
 * the eight hex digits of the tag, values {"vr": ..., "Value" | "InlineBinary"
 * | "BulkDataURI": ...}. Text is decoded to UTF-8 per Specific Character Set. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"

struct json {
    struct msi_out out; /* first: large */
    const struct ms_json_options *opt;
    struct ms_error *err;
    unsigned depth;
    ms_status st;
};

static void indent(struct json *j)
{
    if (!j->opt->pretty)
        return;
    msi_out_put(&j->out, "\n", 1);
    for (unsigned i = 0; i < j->depth; i++)
        msi_out_put(&j->out, "  ", 2);
}

static void put_escaped(struct json *j, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;
    msi_out_put(&j->out, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        msi_out_put(&j->out, s + start, i - start);
        start = i + 1;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            msi_out_put(&j->out, e, 2);
        } else {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            msi_out_put(&j->out, e, 6);
        }
    }
    msi_out_put(&j->out, s + start, n - start);
    msi_out_put(&j->out, "\"", 1);
}

static void put_double(struct json *j, double d, bool single)
{
    if (isnan(d))
        msi_out_str(&j->out, "\"NaN\"");
    else if (isinf(d))
        msi_out_str(&j->out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
        msi_out_printf(&j->out, single ? "%.9g" : "%.17g", d);
}

/* Whole string value decoded to UTF-8 (heap, NUL-terminated). */
static char *decoded(const struct ms_element *el, size_t *len)
{
    char small[1];
    size_t n = ms_element_to_utf8(el, small, sizeof small);
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    ms_element_to_utf8(el, buf, n + 1);
    *len = n;
    return buf;
}

/* Split [s, s+n) on '\' (multi-valued VRs) calling emit per value. */
static void put_pn(struct json *j, const char *s, size_t n)
{
    static const char *groups[] = {"Alphabetic", "Ideographic", "Phonetic"};
    size_t start = 0, g = 0;
    bool first = true;
    msi_out_put(&j->out, "{", 1);
    for (size_t i = 0; i <= n && g < 3; i++) {
        if (i < n && s[i] != '=')
            continue;
        if (i > start) {
            if (!first)
                msi_out_put(&j->out, ",", 1);
            first = false;
            msi_out_printf(&j->out, "\"%s\":", groups[g]);
            put_escaped(j, s + start, i - start);
        }
        g++;
        start = i + 1;
    }
    msi_out_put(&j->out, "}", 1);
}

static size_t digits(const char *s, size_t i, size_t n)
{
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* Index after the optional part of a JSON number that starts at i: the
 * fraction (c '.') or the exponent (c 'e'); SIZE_MAX when it is cut short. */
static size_t json_part(const char *s, size_t i, size_t n, char c)
{
    size_t k;
    if (i >= n || (s[i] != c && !(c == 'e' && s[i] == 'E')))
        return i;
    i++;
    if (c == 'e' && i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    k = digits(s, i, n);
    return k == i ? SIZE_MAX : k;
}

/* True when s is a number in JSON's grammar (RFC 8259 6): "-0.5e3", not
 * ".5", "+1", "01", "1." or "1e". */
static bool is_json_number(const char *s, size_t n)
{
    size_t i = (n && s[0] == '-') ? 1 : 0;

    if (i < n && s[i] == '0')
        i++;
    else if (digits(s, i, n) > i)
        i = digits(s, i, n);
    else
        return false;
    i = json_part(s, i, n, '.');
    if (i != SIZE_MAX)
        i = json_part(s, i, n, 'e');
    return i == n;
}

/* An IS or DS value as a JSON number: as written when JSON accepts it,
 * else (".5", "+1", "01") its value in the shortest form that reads back
 * the same. False when the text is no number at all. */
static bool put_number(struct json *j, const char *s, size_t n)
{
    char buf[64], out[40], *end;
    double d;

    if (is_json_number(s, n)) {
        msi_out_put(&j->out, s, n);
        return true;
    }
    if (n == 0 || n >= sizeof buf || memchr(s, 'x', n) || memchr(s, 'X', n))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    d = strtod(buf, &end);
    if (end == buf || *end != '\0' || !isfinite(d))
        return false;
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, sizeof out, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    msi_out_str(&j->out, out);
    return true;
}

static void trim(const char **s, size_t *n)
{
    while (*n && ((*s)[0] == ' '))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\0'))
        (*n)--;
}

static void put_string_values(struct json *j, const struct ms_element *el)
{
    ms_vr vr = (ms_vr)el->vr;
    size_t len, start = 0;
    bool multi = !(vr == MS_VR_LT || vr == MS_VR_ST || vr == MS_VR_UT || vr == MS_VR_UR);
    char *text = decoded(el, &len);

    if (!text) {
        j->st = ms_error_set(j->err, MS_ENOMEM, "out of memory");
        return;
    }
    msi_out_str(&j->out, ",\"Value\":[");
    for (size_t i = 0; i <= len; i++) {
        const char *v;
        size_t n;
        if (i < len && !(multi && text[i] == '\\'))
            continue;
        if (start)
            msi_out_put(&j->out, ",", 1);
        v = text + start;
        n = i - start;
        if (multi)
            trim(&v, &n);
        if (n == 0)
            msi_out_str(&j->out, "null");
        else if (vr == MS_VR_PN)
            put_pn(j, v, n);
        else if ((vr != MS_VR_IS && vr != MS_VR_DS) || !put_number(j, v, n))
            put_escaped(j, v, n);
        start = i + 1;
    }
    msi_out_put(&j->out, "]", 1);
    free(text);
}

static void put_numbers(struct json *j, const struct ms_element *el)
{
    size_t count = ms_element_vm(el);
    msi_out_str(&j->out, ",\"Value\":[");
    for (size_t i = 0; i < count; i++) {
        int64_t v;
        double d;
        if (i)
            msi_out_put(&j->out, ",", 1);
        if (el->vr == MS_VR_AT && ms_element_get_int(el, i, &v))
            msi_out_printf(&j->out, "\"%08" PRIX64 "\"", (uint64_t)v);
        else if (el->vr == MS_VR_UV)
            msi_out_printf(&j->out, "%" PRIu64, msi_rd64le(el->value + i * 8));
        else if (ms_element_get_int(el, i, &v))
            msi_out_printf(&j->out, "%" PRId64, v);
        else if (ms_element_get_double(el, i, &d))
            put_double(j, d, el->vr == MS_VR_FL);
    }
    msi_out_put(&j->out, "]", 1);
}

/* Base64 of a stream of chunks: up to two bytes carry over between calls. */
struct b64 {
    uint8_t carry[3];
    size_t ncarry;
};

static void put_base64(struct json *j, struct b64 *b, const uint8_t *p, uint64_t len, bool last)
{
    unsigned char enc[4 * 1024 + 4];
    uint8_t chunk[3 * 1024];

    while (len > 0 || (last && b->ncarry)) {
        size_t n = b->ncarry;
        memcpy(chunk, b->carry, n);
        while (n < sizeof chunk && len > 0) {
            size_t take = sizeof chunk - n < len ? sizeof chunk - n : (size_t)len;
            memcpy(chunk + n, p, take);
            n += take;
            p += take;
            len -= take;
        }
        b->ncarry = last && len == 0 ? 0 : n % 3;
        memcpy(b->carry, chunk + n - b->ncarry, b->ncarry);
        n -= b->ncarry;
        if (n)
            msi_out_put(&j->out, enc, (size_t)EVP_EncodeBlock(enc, chunk, (int)n));
        if (n == 0 && len == 0)
            break;
    }
}

/* Binary value: BulkDataURI over the threshold, InlineBinary otherwise. */
static void put_binary(struct json *j, const struct ms_element *el)
{
    uint64_t total = el->length;
    if (el->flags & MSI_EL_ENCAP)
        for (uint32_t i = (uint32_t)(total = 0); i < el->nfrags; i++)
            total += el->frags[i].len;
    if (j->opt->bulk_threshold && total > j->opt->bulk_threshold) {
        msi_out_printf(&j->out, ",\"BulkDataURI\":");
        char uri[1024];
        snprintf(uri, sizeof uri, "%s#offset=%" PRIu64 "&tag=%08X",
                 j->opt->bulk_uri_base ? j->opt->bulk_uri_base : "", el->offset, el->tag);
        put_escaped(j, uri, strlen(uri));
        return;
    }
    if (total == 0 && !(el->flags & MSI_EL_ENCAP))
        return;
    msi_out_str(&j->out, ",\"InlineBinary\":\"");
    struct b64 b = {{0}, 0};
    if (el->flags & MSI_EL_ENCAP) {
        /* encapsulated: the fragments concatenated, as one stream */
        for (uint32_t i = 0; i < el->nfrags; i++)
            put_base64(j, &b, el->frags[i].data, el->frags[i].len, false);
        put_base64(j, &b, NULL, 0, true);
    } else {
        put_base64(j, &b, el->value, el->length, true);
    }
    msi_out_put(&j->out, "\"", 1);
}

static void put_dataset(struct json *j, const struct ms_dataset *ds, bool *first);

static void put_element(struct json *j, const struct ms_element *el)
{
    ms_vr vr = (ms_vr)el->vr;
    msi_out_printf(&j->out, "\"%08X\":{\"vr\":\"%s\"", el->tag, ms_vr_name(vr));
    if (vr == MS_VR_SQ) {
        msi_out_str(&j->out, ",\"Value\":[");
        for (uint32_t i = 0; i < el->nitems; i++) {
            bool first = true;
            if (i)
                msi_out_put(&j->out, ",", 1);
            msi_out_put(&j->out, "{", 1);
            j->depth++;
            put_dataset(j, el->items[i], &first);
            j->depth--;
            msi_out_put(&j->out, "}", 1);
        }
        msi_out_put(&j->out, "]", 1);
    } else if (el->flags & MSI_EL_ENCAP) {
        put_binary(j, el);
    } else if (el->length == 0 || !el->value) {
        /* empty: no Value */
    } else if (ms_vr_is_string(vr)) {
        put_string_values(j, el);
    } else if (vr == MS_VR_OB || vr == MS_VR_OW || vr == MS_VR_OF || vr == MS_VR_OD ||
               vr == MS_VR_OL || vr == MS_VR_OV || vr == MS_VR_UN) {
        put_binary(j, el);
    } else {
        put_numbers(j, el);
    }
    msi_out_put(&j->out, "}", 1);
}

static void put_dataset(struct json *j, const struct ms_dataset *ds, bool *first)
{
    for (uint32_t i = 0; i < ds->n && j->st == MS_OK; i++) {
        if (!*first)
            msi_out_put(&j->out, ",", 1);
        *first = false;
        j->depth++;
        indent(j);
        put_element(j, ds->els[i]);
        j->depth--;
    }
}

static ms_status write_json(const struct ms_dataset *meta, const struct ms_dataset *ds,
                            const struct ms_json_options *opt, ms_sink_fn sink, void *ctx,
                            struct ms_error *err)
{
    static const struct ms_json_options defaults;
    struct json *j = calloc(1, sizeof *j);
    bool first = true;
    ms_status st;

    if (!j)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    msi_out_init(&j->out, sink, ctx);
    j->opt = opt ? opt : &defaults;
    j->err = err;
    msi_out_put(&j->out, "{", 1);
    if (meta)
        put_dataset(j, meta, &first);
    put_dataset(j, ds, &first);
    indent(j);
    msi_out_put(&j->out, "}", 1);
    st = j->st;
    if (!msi_out_flush(&j->out) && st == MS_OK)
        st = ms_error_set(err, MS_EIO, "cannot write JSON");
    free(j);
    return st;
}

ms_status ms_dataset_write_json(const struct ms_dataset *ds, const struct ms_json_options *opt,
                                ms_sink_fn sink, void *ctx, struct ms_error *err)
{
    return write_json(NULL, ds, opt, sink, ctx, err);
}

ms_status ms_file_write_json(struct ms_file *f, const struct ms_json_options *opt,
                             ms_sink_fn sink, void *ctx, struct ms_error *err)
{
    return write_json(opt && opt->include_meta ? f->meta : NULL, f->ds, opt, sink, ctx, err);
}
