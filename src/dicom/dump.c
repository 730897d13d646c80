/* Text listing of a file in the manner of DCMTK's dcmdump: one line per
 * element with tag, VR, value (or a summary), length, VM and keyword;
 * sequences and items indented. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define VALUE_COLUMN 40

struct dump {
    FILE *out;
    unsigned max_chars;
};

struct text {
    char *buf;
    size_t cap, len;
};

static void text_add(struct text *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n && t->len + 1 < t->cap; i++)
        t->buf[t->len++] = s[i];
    t->buf[t->len] = '\0';
}

static void text_printf(struct text *t, const char *fmt, ...) MS_PRINTF(2, 3);

static void text_printf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (t->len + 1 >= t->cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = (size_t)n >= t->cap - t->len ? t->cap - 1 : t->len + (size_t)n;
}

static char *put_hex4(char *p, uint16_t v);

/* Binary values joined with '\', at most max_chars characters. */
static void format_binary(const struct ms_element *el, struct text *t, unsigned max_chars)
{
    ms_vr vr = (ms_vr)el->vr;
    unsigned size = ms_vr_binary_size(vr);
    size_t count;

    if (vr == MS_VR_UN || size == 0)
        size = 1;
    count = (size_t)(el->length / size);
    for (size_t i = 0; i < count && t->len < max_chars; i++) {
        const uint8_t *p = el->value + i * size;
        double d;
        int64_t v;
        if (i)
            text_add(t, "\\", 1);
        switch (vr) {
        case MS_VR_OB: case MS_VR_UN: {
            static const char hex[] = "0123456789abcdef";
            char h[2] = {hex[p[0] >> 4], hex[p[0] & 15]};
            text_add(t, h, 2);
            break;
        }
        case MS_VR_OW: {
            char h[4];
            put_hex4(h, msi_rd16le(p));
            text_add(t, h, 4);
            break;
        }
        case MS_VR_OL: text_printf(t, "%08x", msi_rd32le(p)); break;
        case MS_VR_OV: text_printf(t, "%016" PRIx64, msi_rd64le(p)); break;
        case MS_VR_AT: text_printf(t, "(%04x,%04x)", msi_rd16le(p), msi_rd16le(p + 2)); break;
        case MS_VR_FL: case MS_VR_FD: case MS_VR_OF: case MS_VR_OD:
            ms_element_get_double(el, i, &d);
            text_printf(t, "%.17g", d);
            break;
        default:
            if (ms_element_get_int(el, i, &v))
                text_printf(t, "%" PRId64, v);
            break;
        }
    }
    if (t->len >= max_chars && t->len + 4 < t->cap)
        text_add(t, "...", 3);
}

static void format_value(const struct ms_element *el, struct text *t, unsigned max_chars)
{
    ms_vr vr = (ms_vr)el->vr;

    if (!el->value || el->length == 0) {
        text_add(t, "(no value available)", 20);
        return;
    }
    if (ms_vr_is_string(vr)) {
        char tmp[1024];
        size_t n = ms_element_to_utf8(el, tmp, sizeof tmp);
        if (vr == MS_VR_UI) {
            const char *name = ms_uid_name(tmp);
            if (name) {
                text_printf(t, "=%s", name);
                return;
            }
        }
        text_add(t, "[", 1);
        if (n > max_chars || n >= sizeof tmp) { /* tmp holds at most sizeof tmp - 1 */
            text_add(t, tmp, max_chars < sizeof tmp ? max_chars : sizeof tmp - 1);
            text_add(t, "...", 3);
        } else {
            text_add(t, tmp, n);
        }
        text_add(t, "]", 1);
        return;
    }
    format_binary(el, t, max_chars);
}

static const char *keyword_of(uint32_t tag)
{
    const struct ms_dict_entry *d = ms_dict_find(tag);
    if (d && d->keyword[0])
        return d->keyword;
    return (MS_TAG_GROUP(tag) & 1) ? "PrivateTag" : "Unknown Tag & Data";
}

static char *put_hex4(char *p, uint16_t v)
{
    static const char hex[] = "0123456789abcdef";
    p[0] = hex[(v >> 12) & 15];
    p[1] = hex[(v >> 8) & 15];
    p[2] = hex[(v >> 4) & 15];
    p[3] = hex[v & 15];
    return p + 4;
}

static char *put_uint(char *p, uint64_t v, int min_width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (; n < min_width; min_width--)
        *p++ = ' ';
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* One listing line, assembled in a buffer and written at once:
 * "  (gggg,eeee) VR value        # len, vm Keyword". */
static void line(struct dump *d, unsigned depth, uint32_t tag, const char *vr, const char *value,
                 uint64_t len, size_t vm, const char *name)
{
    char buf[1600], *p = buf;
    size_t vlen = strlen(value), nlen = strlen(name);
    size_t indent = depth * 2 > 200 ? 200 : depth * 2;
    size_t used;

    if (vlen > 1200)
        vlen = 1200;
    if (nlen > 200)
        nlen = 200;
    memset(p, ' ', indent);
    p += indent;
    *p++ = '(';
    p = put_hex4(p, MS_TAG_GROUP(tag));
    *p++ = ',';
    p = put_hex4(p, MS_TAG_ELEMENT(tag));
    *p++ = ')';
    *p++ = ' ';
    *p++ = vr[0];
    *p++ = vr[1];
    *p++ = ' ';
    memcpy(p, value, vlen);
    p += vlen;
    used = (size_t)(p - buf);
    if (used < indent + 15 + VALUE_COLUMN) {
        memset(p, ' ', indent + 15 + VALUE_COLUMN - used);
        p = buf + indent + 15 + VALUE_COLUMN;
    }
    memcpy(p, " # ", 3);
    p += 3;
    if (len == MS_UNDEFINED_LENGTH) {
        memcpy(p, "u/l", 3);
        p += 3;
    } else {
        p = put_uint(p, len, 3);
    }
    *p++ = ',';
    *p++ = ' ';
    p = put_uint(p, vm, 1);
    *p++ = ' ';
    memcpy(p, name, nlen);
    p += nlen;
    *p++ = '\n';
    fwrite(buf, 1, (size_t)(p - buf), d->out);
}

static void dump_dataset(struct dump *d, const struct ms_dataset *ds, unsigned depth);

static void dump_items(struct dump *d, const struct ms_element *el, unsigned depth)
{
    char summary[64];
    for (uint32_t i = 0; i < el->nitems; i++) {
        const struct ms_dataset *item = el->items[i];
        snprintf(summary, sizeof summary, "(Item with %s length #=%u)",
                 item->undef ? "undefined" : "explicit", item->n);
        line(d, depth + 1, MS_TAG_ITEM, "na", summary,
             item->undef ? MS_UNDEFINED_LENGTH : item->length, 1, "Item");
        dump_dataset(d, item, depth + 2);
        if (item->undef)
            line(d, depth + 1, MS_TAG_ITEM_DELIM, "na", "(ItemDelimitationItem)", 0, 0,
                 "ItemDelimitationItem");
    }
    if (el->flags & MSI_EL_UNDEF)
        line(d, depth, MS_TAG_SEQ_DELIM, "na", "(SequenceDelimitationItem)", 0, 0,
             "SequenceDelimitationItem");
}

static void dump_fragments(struct dump *d, const struct ms_element *el, unsigned depth)
{
    char buf[128];
    for (uint32_t i = 0; i < el->nfrags; i++) {
        struct ms_element frag = {0};
        struct text t = {buf, sizeof buf, 0};
        frag.vr = MS_VR_OB;
        frag.value = el->frags[i].data;
        frag.length = el->frags[i].len;
        if (frag.length)
            format_binary(&frag, &t, d->max_chars);
        else
            text_add(&t, "(no value available)", 20);
        line(d, depth + 1, MS_TAG_ITEM, "pi", buf, frag.length, 1, "Item");
    }
    line(d, depth, MS_TAG_SEQ_DELIM, "na", "(SequenceDelimitationItem)", 0, 0,
         "SequenceDelimitationItem");
}

static void dump_element(struct dump *d, const struct ms_element *el, unsigned depth)
{
    char buf[1200];
    struct text t = {buf, sizeof buf, 0};

    if (el->vr == MS_VR_SQ) {
        snprintf(buf, sizeof buf, "(Sequence with %s length #=%u)",
                 (el->flags & MSI_EL_UNDEF) ? "undefined" : "explicit", el->nitems);
        line(d, depth, el->tag, "SQ", buf, el->length, 1, keyword_of(el->tag));
        dump_items(d, el, depth);
        return;
    }
    if (el->flags & MSI_EL_ENCAP) {
        snprintf(buf, sizeof buf, "(PixelSequence #=%u)", el->nfrags);
        line(d, depth, el->tag, ms_vr_name((ms_vr)el->vr), buf, MS_UNDEFINED_LENGTH, 1,
             keyword_of(el->tag));
        dump_fragments(d, el, depth);
        return;
    }
    format_value(el, &t, d->max_chars);
    line(d, depth, el->tag, ms_vr_name((ms_vr)el->vr), buf, el->length, ms_element_vm(el),
         keyword_of(el->tag));
}

static void dump_dataset(struct dump *d, const struct ms_dataset *ds, unsigned depth)
{
    for (uint32_t i = 0; i < ds->n; i++)
        dump_element(d, ds->els[i], depth);
}

ms_status ms_file_dump(struct ms_file *f, FILE *out, const struct ms_dump_options *opt,
                       struct ms_error *err)
{
    struct dump d = {out, opt && opt->max_value_chars ? opt->max_value_chars : 64};

    if (!opt || opt->show_meta) {
        fprintf(out, "\n# Dicom-File-Format\n\n# Dicom-Meta-Information-Header\n");
        fprintf(out, "# Used TransferSyntax: Little Endian Explicit\n");
        dump_dataset(&d, f->meta, 0);
        fprintf(out, "\n# Dicom-Data-Set\n");
    }
    fprintf(out, "# Used TransferSyntax: %s\n", f->ts->name);
    dump_dataset(&d, f->ds, 0);
    if (ferror(out))
        return ms_error_set(err, MS_EIO, "cannot write the listing");
    return MS_OK;
}
