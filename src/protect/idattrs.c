/* The patient metadata text of the otp and stego schemes: the top-level
 * attributes of the PS3.15 Basic Profile (Table E.1-1, generated table) whose
 * values are text, taken out of the file (their values emptied in place,
 * header kept) into a text that puts them back byte for byte:
 *
 *   medseal-idattrs v1
 *   (0010,0010) PN CRANIUM^PROMED^CT0051
 *
 * one line per attribute, the value as stored (padding included) with the
 * bytes 00-1F, 7F and '\' written as \xHH. UIDs and sequences stay in the
 * file (they name and link the objects; de-identification is the deid
 * scheme's job). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protect/protect_internal.h"
#include "protect_id_tags.inc"

#define HEADER_LINE "medseal-idattrs v1\n"
#define NTAGS (sizeof id_tags / sizeof id_tags[0])

static int cmp_tag(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static bool is_listed(uint32_t tag)
{
    return bsearch(&tag, id_tags, NTAGS, sizeof id_tags[0], cmp_tag) != NULL;
}

static bool text_vr(ms_vr vr)
{
    return ms_vr_is_string(vr) && vr != MS_VR_UI;
}

static bool takeable(const struct ms_element *el)
{
    return is_listed(ms_element_tag(el)) && text_vr(ms_element_vr(el)) &&
           ms_element_value(el) && ms_element_length(el) > 0 &&
           !ms_element_undefined_length(el);
}

/* Escaped size of a value, and the escaping itself. */
static size_t escaped_len(const uint8_t *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (v[i] < 0x20 || v[i] == 0x7F || v[i] == '\\') ? 4 : 1;
    return k;
}

static char *escape(char *o, const uint8_t *v, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        if (v[i] < 0x20 || v[i] == 0x7F || v[i] == '\\') {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[v[i] >> 4];
            *o++ = hex[v[i] & 15];
        } else {
            *o++ = (char)v[i];
        }
    }
    return o;
}

void msi_idattrs_free(struct msi_idattrs *ia)
{
    if (ia->text)
        ms_crypto_wipe(ia->text, ia->text_len);
    free(ia->text);
    free(ia->edits);
    free(ia->hdr);
    memset(ia, 0, sizeof *ia);
}

static ms_status alloc_edits(struct msi_idattrs *ia, size_t n, size_t hdr_bytes,
                             struct ms_error *err)
{
    ia->edits = calloc(n ? n : 1, sizeof *ia->edits);
    ia->hdr = malloc(hdr_bytes ? hdr_bytes : 1);
    if (!ia->edits || !ia->hdr)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    return MS_OK;
}

static void put_len(const struct msi_pfile *pf, uint8_t *p, unsigned size, uint32_t v)
{
    if (size == 2) {
        if (pf->ts->big_endian)
            msi_wr16be(p, (uint16_t)v);
        else
            msi_wr16le(p, (uint16_t)v);
    } else if (pf->ts->big_endian) {
        msi_wr32be(p, v);
    } else {
        msi_wr32le(p, v);
    }
}

ms_status msi_idattrs_take(const struct msi_pfile *pf, struct msi_idattrs *ia,
                           struct ms_error *err)
{
    size_t n = 0, tlen = strlen(HEADER_LINE), hat = 0;
    char *o;
    ms_status st;

    memset(ia, 0, sizeof *ia);
    for (size_t i = 0; i < pf->ntop; i++) {
        const struct ms_element *el = ms_dataset_at(pf->ds, i);
        if (!takeable(el))
            continue;
        n++;
        tlen += 16 + escaped_len(ms_element_value(el), (size_t)ms_element_length(el));
    }
    if ((st = alloc_edits(ia, n, n * 12, err)) != MS_OK)
        return st;
    ia->text = malloc(tlen + 1);
    if (!ia->text)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    o = ia->text + sprintf(ia->text, "%s", HEADER_LINE);
    for (size_t i = 0; i < pf->ntop; i++) {
        const struct ms_element *el = ms_dataset_at(pf->ds, i);
        uint64_t off = pf->top_off[i], len = ms_element_length(el);
        unsigned la, ls, h;
        if (!takeable(el))
            continue;
        h = msi_pfile_header(pf, off, &la, &ls);
        if (h + len > pf->top_off[i + 1] - off)
            return ms_error_set(err, MS_EMALFORMED, "offset %llu: element size inconsistent",
                                (unsigned long long)off);
        memcpy(ia->hdr + hat, pf->map + off, h);
        memset(ia->hdr + hat + la, 0, ls);
        ia->edits[ia->nedits++] = (struct msi_edit){off, h + len, ia->hdr + hat, h, 0};
        hat += h;
        o += sprintf(o, "(%04X,%04X) %s ", MS_TAG_GROUP(ms_element_tag(el)),
                     MS_TAG_ELEMENT(ms_element_tag(el)), ms_vr_name(ms_element_vr(el)));
        o = escape(o, ms_element_value(el), (size_t)len);
        *o++ = '\n';
    }
    *o = '\0';
    ia->text_len = (size_t)(o - ia->text);
    ia->count = n;
    return MS_OK;
}

/* ---- restore -------------------------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Unescape [s, e) into out; returns the length or -1. */
static long unescape(const char *s, const char *e, uint8_t *out)
{
    long n = 0;
    while (s < e) {
        if (*s == '\\') {
            int a, b;
            if (e - s < 4 || s[1] != 'x' || (a = hexval(s[2])) < 0 || (b = hexval(s[3])) < 0)
                return -1;
            out[n++] = (uint8_t)(a * 16 + b);
            s += 4;
        } else {
            out[n++] = (uint8_t)*s++;
        }
    }
    return n;
}

static size_t count_lines(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    return n;
}

/* One line "(GGGG,EEEE) VR value": the edit that restores it. */
static ms_status restore_line(const struct msi_pfile *pf, const char *s, const char *e,
                              struct msi_idattrs *ia, size_t *hat, struct ms_error *err)
{
    unsigned g, el, la, ls, h;
    const struct ms_element *x;
    const char *v;
    size_t i;
    long n;

    if (e - s < 15 || s[0] != '(' || s[5] != ',' || s[10] != ')' || s[11] != ' ' ||
        s[14] != ' ' || sscanf(s, "(%4x,%4x)", &g, &el) != 2)
        return ms_error_set(err, MS_EMALFORMED, "patient metadata text: bad line");
    v = s + 15;
    x = ms_dataset_get(pf->ds, MS_TAG(g, el));
    for (i = 0; i < pf->ntop && ms_dataset_at(pf->ds, i) != x; i++)
        ;
    if (!x || i == pf->ntop || ms_element_length(x) != 0)
        return ms_error_set(err, MS_EMALFORMED,
                            "(%04X,%04X) is not an emptied attribute of this file", g, el);
    h = msi_pfile_header(pf, pf->top_off[i], &la, &ls);
    memcpy(ia->hdr + *hat, pf->map + pf->top_off[i], h);
    n = unescape(v, e, ia->hdr + *hat + h);
    if (n < 0 || (ls == 2 && n > 0xFFFF))
        return ms_error_set(err, MS_EMALFORMED, "(%04X,%04X): bad value in the metadata text", g,
                            el);
    put_len(pf, ia->hdr + *hat + la, ls, (uint32_t)n);
    ia->edits[ia->nedits++] =
        (struct msi_edit){pf->top_off[i], h, ia->hdr + *hat, h + (size_t)n, 0};
    *hat += h + (size_t)n;
    return MS_OK;
}

ms_status msi_idattrs_restore(const struct msi_pfile *pf, const char *text, size_t len,
                              struct msi_idattrs *ia, struct ms_error *err)
{
    size_t hl = strlen(HEADER_LINE), lines = count_lines(text, len), hat = 0;
    const char *s, *end = text + len;
    ms_status st;

    memset(ia, 0, sizeof *ia);
    if (len < hl || memcmp(text, HEADER_LINE, hl) != 0 || text[len - 1] != '\n')
        return ms_error_set(err, MS_EMALFORMED, "not a medseal patient metadata text");
    if ((st = alloc_edits(ia, lines, len + lines * 12, err)) != MS_OK)
        return st;
    for (s = text + hl; st == MS_OK && s < end;) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        st = restore_line(pf, s, e, ia, &hat, err);
        s = e + 1;
    }
    if (st == MS_OK)
        msi_edits_sort(ia->edits, ia->nedits);
    for (size_t i = 1; st == MS_OK && i < ia->nedits; i++)
        if (ia->edits[i].off == ia->edits[i - 1].off)
            st = ms_error_set(err, MS_EMALFORMED, "an attribute appears twice in the text");
    ia->count = ia->nedits;
    return st;
}

ms_status msi_idattrs_edits(const struct msi_idattrs *ia, const struct msi_edit *more,
                            size_t nmore, struct msi_edit **out, size_t *n, struct ms_error *err)
{
    size_t total = ia->nedits + nmore;
    struct msi_edit *e = calloc(total ? total : 1, sizeof *e);

    *out = NULL;
    *n = 0;
    if (!e)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if (ia->nedits)
        memcpy(e, ia->edits, ia->nedits * sizeof *e);
    if (nmore)
        memcpy(e + ia->nedits, more, nmore * sizeof *e);
    msi_edits_sort(e, total);
    *out = e;
    *n = total;
    return MS_OK;
}

ms_status msi_write_restored(const struct msi_pfile *pf, const char *out,
                             const struct msi_restore *r, struct ms_protect_report *rep,
                             struct ms_error *err)
{
    struct msi_idattrs ia = {0};
    struct msi_edit blk[5], *edits = NULL;
    struct msi_wr *w = malloc(sizeof *w);
    uint8_t digest[32], tag[32];
    size_t ne = 0;
    ms_status st = w ? msi_idattrs_restore(pf, r->text, r->text_len, &ia, err)
                     : ms_error_set(err, MS_ENOMEM, "out of memory");

    if (st == MS_OK)
        st = msi_idattrs_edits(&ia, blk, msi_pblock_removal(pf, blk), &edits, &ne, err);
    if (st == MS_OK && (st = msi_wr_open(w, out, err)) == MS_OK) {
        st = ms_hash_create(&w->hash, MS_HASH_SHA256, err);
        if (st == MS_OK)
            st = r->pass(r->ctx, w, edits, ne, err);
        if (st == MS_OK)
            st = ms_hash_final(w->hash, digest, err);
        if (st == MS_OK)
            st = r->tag(r->ctx, digest, tag, err);
        if (st == MS_OK && !ms_crypto_equal(tag, r->expect, 32))
            st = ms_error_set(err, MS_EKEY,
                              "authentication failed: the file changed after protection");
        ms_hash_destroy(w->hash);
        w->hash = NULL;
        rep->bytes_out = w->pos;
        st = msi_wr_finish(w, st, err);
    }
    msi_idattrs_free(&ia);
    free(edits);
    free(w);
    return st;
}
