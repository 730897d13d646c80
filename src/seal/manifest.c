/* The seal file (docs/formats/seal.md): writing its body and parsing a whole
 * file back, strictly. Text, one record a line, fields separated by single
 * spaces; every count is declared before the records it counts; the file
 * ends with the signature and an "end" line, so truncation is always seen. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seal_internal.h"

#define MAGIC "medseal-seal 1"
#define MAX_FIELDS 16
#define MAX_VOLUMES 100000u
#define MAX_LINE_FIELDS_LEN (64u << 20)

static const char *const kind_names[] = {"file", "object", "image"};

/* ---- hex and text helpers ------------------------------------------------------------------ */

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool msi_unhex(const char *in, size_t len, uint8_t *out, size_t n)
{
    if (len != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = nibble(in[2 * i]), lo = nibble(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool path_char_plain(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '_' || c == '-' || c == '/' || c == '+' || c == ',';
}

/* ---- a growable text buffer ------------------------------------------------------------------- */

struct tbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void tb_reserve(struct tbuf *b, size_t more)
{
    size_t cap;
    char *p;
    if (b->failed || b->len + more + 1 <= b->cap)
        return;
    cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    if (!(p = realloc(b->p, cap))) {
        b->failed = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void MS_PRINTF(2, 3) tb_printf(struct tbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    tb_reserve(b, (size_t)n);
    if (b->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void tb_hex(struct tbuf *b, const uint8_t *in, size_t n)
{
    tb_reserve(b, 2 * n);
    if (!b->failed) {
        msi_hex(in, n, b->p + b->len);
        b->len += 2 * n;
    }
}

static void tb_base64(struct tbuf *b, const uint8_t *in, size_t n)
{
    size_t need = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    tb_reserve(b, need);
    if (!b->failed) {
        sodium_bin2base64(b->p + b->len, need, in, n, sodium_base64_VARIANT_ORIGINAL);
        b->len += strlen(b->p + b->len);
    }
}

static void tb_path(struct tbuf *b, const char *path)
{
    for (const unsigned char *c = (const unsigned char *)path; *c; c++)
        if (path_char_plain(*c))
            tb_printf(b, "%c", *c);
        else
            tb_printf(b, "%%%02X", *c);
}

static void tb_opt(struct tbuf *b, const char *s)
{
    tb_printf(b, " %s", s && *s ? s : "-");
}

/* ---- writing ------------------------------------------------------------------------------- */

size_t msi_leaf_record(msi_kind kind, const char *uid, const char *cls, const char *rel,
                       const uint8_t file_sha[MS_SHA256_LEN],
                       const uint8_t content_sha[MS_SHA256_LEN], char *buf, size_t cap)
{
    char fh[2 * MS_SHA256_LEN + 1], ch[2 * MS_SHA256_LEN + 1];
    int n;
    msi_hex(file_sha, MS_SHA256_LEN, fh);
    msi_hex(content_sha, MS_SHA256_LEN, ch);
    if (kind == MSI_FILE)
        n = snprintf(buf, cap, "file\n%s\n%s\n", rel, fh);
    else
        n = snprintf(buf, cap, "%s\n%s\n%s\n%s\n%s\n", kind_names[kind], uid, cls, fh, ch);
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

static void format_rec(struct tbuf *b, const struct msi_rec *r)
{
    tb_printf(b, "F %s %" PRIu64 " ", kind_names[r->kind], r->size);
    tb_hex(b, r->file_sha, MS_SHA256_LEN);
    tb_printf(b, " ");
    if (r->kind == MSI_FILE)
        tb_printf(b, "-");
    else
        tb_hex(b, r->content_sha, MS_SHA256_LEN);
    tb_opt(b, r->uid);
    tb_opt(b, r->cls);
    tb_opt(b, r->series);
    if (r->volume >= 0)
        tb_printf(b, " %ld", r->volume + 1);
    else
        tb_printf(b, " -");
    if (r->has_ipp)
        tb_printf(b, " %.17g,%.17g,%.17g", r->ipp[0], r->ipp[1], r->ipp[2]);
    else
        tb_printf(b, " -");
    tb_printf(b, " ");
    tb_path(b, r->rel);
    tb_printf(b, "\n");
}

static void format_vol(struct tbuf *b, size_t i, const struct msi_svol *v)
{
    const struct ms_drr_geometry *g = &v->g;
    tb_printf(b, "V %zu %s %" PRId64 " %zu %u %u %.17g %.17g ", i + 1, v->series, v->temporal,
              v->slices, g->rows, g->columns, g->row_spacing, g->column_spacing);
    for (int k = 0; k < 6; k++)
        tb_printf(b, "%s%.17g", k ? "," : "", g->orientation[k]);
    tb_printf(b, " %.17g %.17g\n", g->z0, g->extent);
}

static void format_drr(struct tbuf *b, size_t i, const struct msi_sdrr *d)
{
    tb_printf(b, "D %zu %zu %s %u %u %u\n", i + 1, d->volume + 1, ms_drr_view_name(d->view),
              d->grid, d->width, d->height);
    for (unsigned z = 0; z < d->grid * d->grid; z++) {
        const struct msi_sblock *k = &d->blocks[z];
        tb_printf(b, "B %u %u %u %u %u %u ", z + 1, k->block + 1, k->rect.x, k->rect.y,
                  k->rect.width, k->rect.height);
        tb_base64(b, k->ct, k->ct_len);
        tb_printf(b, "\n");
    }
}

ms_status msi_seal_format_body(const struct msi_seal *z, char **out, size_t *len,
                               struct ms_error *err)
{
    struct tbuf b = {0};
    tb_printf(&b, "%s\ncreated %s\ntool medseal 0.1.0\nsalt ", MAGIC, z->created);
    tb_hex(&b, z->salt, sizeof z->salt);
    tb_printf(&b, "\nkey-check ");
    tb_hex(&b, z->key_check, sizeof z->key_check);
    tb_printf(&b, "\nfiles %zu\nvolumes %zu\nfingerprints %zu\nmerkle-root ", z->nrecs, z->nvols,
              z->ndrrs);
    tb_hex(&b, z->merkle_root, MS_SHA256_LEN);
    tb_printf(&b, "\n");
    for (size_t i = 0; i < z->nrecs; i++)
        format_rec(&b, &z->recs[i]);
    for (size_t i = 0; i < z->nvols; i++)
        format_vol(&b, i, &z->vols[i]);
    for (size_t i = 0; i < z->ndrrs; i++)
        format_drr(&b, i, &z->drrs[i]);
    tb_printf(&b, "signer %s ", z->algorithm);
    tb_base64(&b, z->signer_der, z->signer_der_len);
    tb_printf(&b, "\n");
    if (b.failed) {
        free(b.p);
        return ms_error_set(err, MS_ENOMEM, "out of memory writing the seal");
    }
    *out = b.p;
    *len = b.len;
    return MS_OK;
}

/* ---- freeing -------------------------------------------------------------------------------- */

void msi_seal_clear(struct msi_seal *z)
{
    for (size_t i = 0; z->recs && i < z->nrecs; i++) {
        free(z->recs[i].rel);
        free(z->recs[i].uid);
        free(z->recs[i].cls);
        free(z->recs[i].series);
    }
    for (size_t i = 0; z->vols && i < z->nvols; i++)
        free(z->vols[i].series);
    for (size_t i = 0; z->drrs && i < z->ndrrs; i++) {
        for (unsigned k = 0; z->drrs[i].blocks && k < z->drrs[i].grid * z->drrs[i].grid; k++)
            free(z->drrs[i].blocks[k].ct);
        free(z->drrs[i].blocks);
    }
    free(z->recs);
    free(z->vols);
    free(z->drrs);
    free(z->signer_der);
    free(z->sig);
    memset(z, 0, sizeof *z);
}

/* ---- parsing ------------------------------------------------------------------------------- */

struct parser {
    char *text;           /* NUL-terminated copy, lines split in place */
    size_t len, pos;
    size_t lineno;
    size_t line_start;
    char *f[MAX_FIELDS];
    size_t nf;
    struct ms_error *err;
};

static ms_status bad(struct parser *p, const char *fmt, ...) MS_PRINTF(2, 3);

static ms_status bad(struct parser *p, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ms_error_set(p->err, MS_EMALFORMED, "seal line %zu: %s", p->lineno, msg);
}

/* Next line split into fields; false at the end of the text. */
static bool next_line(struct parser *p)
{
    char *s, *nl;
    if (p->pos >= p->len)
        return false;
    p->line_start = p->pos;
    s = p->text + p->pos;
    nl = memchr(s, '\n', p->len - p->pos);
    if (!nl)
        return false; /* a last line without its newline is a truncated one */
    *nl = '\0';
    p->pos = (size_t)(nl - p->text) + 1;
    p->lineno++;
    p->nf = 0;
    for (char *t = s; p->nf < MAX_FIELDS;) {
        char *sp = strchr(t, ' ');
        p->f[p->nf++] = t;
        if (!sp)
            break;
        *sp = '\0';
        t = sp + 1;
    }
    return true;
}

static ms_status expect_line(struct parser *p, const char *what)
{
    if (!next_line(p))
        return ms_error_set(p->err, MS_EMALFORMED,
                            "seal truncated after line %zu: expected %s", p->lineno, what);
    return MS_OK;
}

static ms_status expect_record(struct parser *p, const char *tag, size_t nfields)
{
    char what[32];
    ms_status st;
    snprintf(what, sizeof what, "'%s'", tag);
    st = expect_line(p, what);
    if (st != MS_OK)
        return st;
    if (strcmp(p->f[0], tag) != 0)
        return bad(p, "expected '%s', found '%.20s'", tag, p->f[0]);
    if (p->nf != nfields)
        return bad(p, "'%s' has %zu fields, expected %zu", tag, p->nf, nfields);
    return MS_OK;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s || (s[0] == '0' && s[1]))
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

static bool parse_i64(const char *s, int64_t *out)
{
    uint64_t v;
    bool neg = *s == '-';
    if (!parse_u64(s + neg, INT64_MAX, &v))
        return false;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    if (!*s || isspace((unsigned char)*s))
        return false;
    errno = 0;
    *out = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(*out);
}

static bool parse_doubles(char *s, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *comma = strchr(s, ',');
        if ((comma == NULL) != (i == n - 1))
            return false;
        if (comma)
            *comma = '\0';
        if (!parse_double(s, &out[i]))
            return false;
        if (comma)
            s = comma + 1;
    }
    return true;
}

static bool valid_uid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || *s == '.'))
            return false;
    return true;
}

/* "-" or a UID, copied. */
static ms_status opt_uid(struct parser *p, const char *s, char **out, const char *what)
{
    *out = NULL;
    if (!strcmp(s, "-"))
        return MS_OK;
    if (!valid_uid(s))
        return bad(p, "%s is not a UID", what);
    if (!(*out = strdup(s)))
        return ms_error_set(p->err, MS_ENOMEM, "out of memory");
    return MS_OK;
}

static int hex_upper(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decoding of a path as tb_path() writes it: plain characters as
 * they are, every other byte as %XX (upper-case hex), never NUL. */
static ms_status decode_path(struct parser *p, const char *s, char **out)
{
    size_t n = strlen(s), j = 0, i = 0;
    char *d = malloc(n + 1);
    if (!d)
        return ms_error_set(p->err, MS_ENOMEM, "out of memory");
    while (i < n) {
        int hi = -1, lo = -1;
        if (s[i] != '%') {
            if (!path_char_plain((unsigned char)s[i]))
                break;
            d[j++] = s[i++];
            continue;
        }
        hi = hex_upper(s[i + 1]);
        if (hi >= 0)
            lo = hex_upper(s[i + 2]);
        if (lo < 0 || (hi | lo) == 0 || path_char_plain((unsigned char)(hi << 4 | lo)))
            break;
        d[j++] = (char)(hi << 4 | lo);
        i += 3;
    }
    d[j] = '\0';
    if (i != n || j == 0) {
        free(d);
        return bad(p, "bad path");
    }
    *out = d;
    return MS_OK;
}

static ms_status header_hex(struct parser *p, const char *key, uint8_t *out, size_t n)
{
    ms_status st = expect_record(p, key, 2);
    if (st == MS_OK && !msi_unhex(p->f[1], strlen(p->f[1]), out, n))
        st = bad(p, "'%s' is not %zu hex bytes", key, n);
    return st;
}

static ms_status header_count(struct parser *p, const char *key, uint64_t max, size_t *out)
{
    uint64_t v;
    ms_status st = expect_record(p, key, 2);
    if (st == MS_OK && !parse_u64(p->f[1], max, &v))
        return bad(p, "'%s' is not a count up to %" PRIu64, key, max);
    if (st == MS_OK)
        *out = (size_t)v;
    return st;
}

static ms_status parse_header(struct parser *p, struct msi_seal *z)
{
    ms_status st;
    if (!next_line(p) || p->nf != 2 || strcmp(p->f[0], "medseal-seal") || strcmp(p->f[1], "1"))
        return ms_error_set(p->err, MS_EMALFORMED, "not a medseal seal (no '%s' line)", MAGIC);
    if ((st = expect_record(p, "created", 2)) != MS_OK)
        return st;
    if (strlen(p->f[1]) >= sizeof z->created)
        return bad(p, "bad 'created'");
    strcpy(z->created, p->f[1]);
    if ((st = expect_record(p, "tool", 3)) != MS_OK ||
        (st = header_hex(p, "salt", z->salt, sizeof z->salt)) != MS_OK ||
        (st = header_hex(p, "key-check", z->key_check, sizeof z->key_check)) != MS_OK ||
        (st = header_count(p, "files", MSI_MAX_FILES, &z->nrecs)) != MS_OK ||
        (st = header_count(p, "volumes", MAX_VOLUMES, &z->nvols)) != MS_OK ||
        (st = header_count(p, "fingerprints", 3 * MAX_VOLUMES, &z->ndrrs)) != MS_OK ||
        (st = header_hex(p, "merkle-root", z->merkle_root, MS_SHA256_LEN)) != MS_OK)
        return st;
    return MS_OK;
}

static ms_status parse_kind(struct parser *p, const char *s, msi_kind *k)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, kind_names[i])) {
            *k = (msi_kind)i;
            return MS_OK;
        }
    return bad(p, "unknown kind '%.16s'", s);
}

static ms_status parse_rec_hashes(struct parser *p, struct msi_rec *r)
{
    if (!msi_unhex(p->f[3], strlen(p->f[3]), r->file_sha, MS_SHA256_LEN))
        return bad(p, "bad file hash");
    if (r->kind == MSI_FILE ? strcmp(p->f[4], "-") != 0
                            : !msi_unhex(p->f[4], strlen(p->f[4]), r->content_sha, MS_SHA256_LEN))
        return bad(p, "bad content hash");
    return MS_OK;
}

static ms_status parse_rec_place(struct parser *p, struct msi_rec *r, size_t nvols)
{
    uint64_t v;
    r->volume = -1;
    if (strcmp(p->f[8], "-")) {
        if (!parse_u64(p->f[8], nvols, &v) || v == 0)
            return bad(p, "bad volume number");
        r->volume = (long)v - 1;
    }
    if (strcmp(p->f[9], "-")) {
        if (!parse_doubles(p->f[9], r->ipp, 3))
            return bad(p, "bad position");
        r->has_ipp = true;
    }
    return MS_OK;
}

static ms_status parse_rec(struct parser *p, struct msi_rec *r, size_t nvols)
{
    ms_status st = expect_record(p, "F", 11);
    if (st == MS_OK)
        st = parse_kind(p, p->f[1], &r->kind);
    if (st == MS_OK && !parse_u64(p->f[2], UINT64_MAX, &r->size))
        st = bad(p, "bad size");
    if (st == MS_OK)
        st = parse_rec_hashes(p, r);
    if (st == MS_OK && (st = opt_uid(p, p->f[5], &r->uid, "SOP Instance UID")) == MS_OK &&
        (st = opt_uid(p, p->f[6], &r->cls, "SOP Class UID")) == MS_OK)
        st = opt_uid(p, p->f[7], &r->series, "Series Instance UID");
    if (st == MS_OK && (r->kind == MSI_FILE) != (r->uid == NULL))
        st = bad(p, "a DICOM record needs a SOP Instance UID, a file record none");
    if (st == MS_OK)
        st = parse_rec_place(p, r, nvols);
    if (st == MS_OK && r->volume >= 0 && (r->kind != MSI_IMAGE || !r->has_ipp || !r->series))
        st = bad(p, "a volume slice must be an image with a position and a series");
    if (st == MS_OK)
        st = decode_path(p, p->f[10], &r->rel);
    return st;
}

static ms_status parse_vol_numbers(struct parser *p, struct msi_svol *v)
{
    struct ms_drr_geometry *g = &v->g;
    uint64_t n, rows, cols;
    if (!parse_i64(p->f[3], &v->temporal) || !parse_u64(p->f[4], MS_DRR_MAX_SLICES, &n) ||
        !parse_u64(p->f[5], MS_DRR_MAX_SIDE, &rows) || !parse_u64(p->f[6], MS_DRR_MAX_SIDE, &cols))
        return bad(p, "bad volume counts");
    v->slices = (size_t)n;
    g->rows = (uint32_t)rows;
    g->columns = (uint32_t)cols;
    if (!parse_double(p->f[7], &g->row_spacing) || !parse_double(p->f[8], &g->column_spacing) ||
        !parse_doubles(p->f[9], g->orientation, 6) || !parse_double(p->f[10], &g->z0) ||
        !parse_double(p->f[11], &g->extent))
        return bad(p, "bad volume geometry");
    return MS_OK;
}

static ms_status parse_vol(struct parser *p, size_t i, struct msi_svol *v)
{
    uint64_t idx;
    struct ms_error e;
    ms_status st = expect_record(p, "V", 12);
    if (st != MS_OK)
        return st;
    if (!parse_u64(p->f[1], UINT64_MAX, &idx) || idx != i + 1)
        return bad(p, "volumes out of order");
    if ((st = opt_uid(p, p->f[2], &v->series, "Series Instance UID")) != MS_OK)
        return st;
    if (!v->series)
        return bad(p, "a volume needs its series");
    if ((st = parse_vol_numbers(p, v)) != MS_OK)
        return st;
    for (int k = 0; k < MS_DRR_VIEW_COUNT; k++) {
        uint32_t w, h;
        if (ms_drr_size(&v->g, (ms_drr_view)k, &w, &h, &e) != MS_OK)
            return bad(p, "volume geometry: %s", e.msg);
    }
    return MS_OK;
}

static ms_status parse_block(struct parser *p, const struct msi_sdrr *d, unsigned z,
                             struct msi_sblock *b)
{
    uint64_t v[6];
    size_t cap, bin_len;
    const char *end;
    ms_status st = expect_record(p, "B", 8);
    if (st != MS_OK)
        return st;
    for (int i = 0; i < 6; i++)
        if (!parse_u64(p->f[1 + i], UINT32_MAX, &v[i]))
            return bad(p, "bad block numbers");
    if (v[0] != z + 1 || v[1] == 0 || v[1] > (uint64_t)d->grid * d->grid)
        return bad(p, "block out of order or out of range");
    b->block = (uint32_t)v[1] - 1;
    b->rect = (struct ms_rect){(uint32_t)v[2], (uint32_t)v[3], (uint32_t)v[4], (uint32_t)v[5]};
    cap = strlen(p->f[7]) / 4 * 3 + 3;
    if (cap > (size_t)2 * d->width * d->height + 64 + MS_GCM_TAG_LEN)
        return bad(p, "block larger than its DRR");
    if (!(b->ct = malloc(cap)))
        return ms_error_set(p->err, MS_ENOMEM, "out of memory");
    if (sodium_base642bin(b->ct, cap, p->f[7], strlen(p->f[7]), NULL, &bin_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || *end)
        return bad(p, "block is not base64");
    b->ct_len = bin_len;
    return MS_OK;
}

static ms_status parse_drr_numbers(struct parser *p, size_t i, size_t nvols,
                                   struct msi_sdrr *d)
{
    uint64_t idx, vol, grid, w, h;
    if (!parse_u64(p->f[1], UINT64_MAX, &idx) || idx != i + 1)
        return bad(p, "fingerprints out of order");
    if (!parse_u64(p->f[2], nvols, &vol) || vol == 0)
        return bad(p, "bad volume number");
    if (!ms_drr_view_parse(p->f[3], &d->view) || strcmp(p->f[3], ms_drr_view_name(d->view)))
        return bad(p, "bad view");
    if (!parse_u64(p->f[4], 8, &grid) || (grid != 4 && grid != 8))
        return bad(p, "grid must be 4 or 8");
    if (!parse_u64(p->f[5], MS_IMAGE_MAX_SIDE, &w) || !parse_u64(p->f[6], MS_IMAGE_MAX_SIDE, &h))
        return bad(p, "bad DRR size");
    d->volume = (size_t)vol - 1;
    d->grid = (unsigned)grid;
    d->width = (uint32_t)w;
    d->height = (uint32_t)h;
    return MS_OK;
}

static ms_status parse_drr_head(struct parser *p, size_t i, size_t nvols, struct msi_sdrr *d,
                                const struct msi_svol *vols)
{
    uint32_t ew, eh;
    ms_status st = expect_record(p, "D", 7);
    if (st == MS_OK)
        st = parse_drr_numbers(p, i, nvols, d);
    if (st != MS_OK)
        return st;
    if (ms_drr_size(&vols[d->volume].g, d->view, &ew, &eh, NULL) != MS_OK || ew != d->width ||
        eh != d->height || d->width < d->grid || d->height < d->grid)
        return bad(p, "DRR size does not match its volume");
    return MS_OK;
}

static ms_status parse_drr(struct parser *p, size_t i, struct msi_seal *z)
{
    struct msi_sdrr *d = &z->drrs[i];
    ms_status st = parse_drr_head(p, i, z->nvols, d, z->vols);
    if (st != MS_OK)
        return st;
    if (!(d->blocks = calloc((size_t)d->grid * d->grid, sizeof *d->blocks)))
        return ms_error_set(p->err, MS_ENOMEM, "out of memory");
    for (unsigned k = 0; st == MS_OK && k < d->grid * d->grid; k++)
        st = parse_block(p, d, k, &d->blocks[k]);
    return st;
}

static ms_status parse_signature(struct parser *p, struct msi_seal *z)
{
    size_t cap;
    const char *end;
    ms_status st = expect_record(p, "signer", 3);
    if (st != MS_OK)
        return st;
    if (strcmp(p->f[1], "ed25519") && strcmp(p->f[1], "ecdsa-p256-sha256"))
        return bad(p, "unknown signature algorithm");
    strcpy(z->algorithm, p->f[1]);
    cap = strlen(p->f[2]) / 4 * 3 + 3;
    if (cap > 4096 || !(z->signer_der = malloc(cap)))
        return bad(p, "bad signer key");
    if (sodium_base642bin(z->signer_der, cap, p->f[2], strlen(p->f[2]), NULL,
                          &z->signer_der_len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 || *end)
        return bad(p, "signer key is not base64");
    if ((st = expect_record(p, "signature", 2)) != MS_OK)
        return st;
    z->signed_len = p->line_start;
    cap = strlen(p->f[1]) / 4 * 3 + 3;
    if (cap > MS_SIG_MAX_LEN + 3 || !(z->sig = malloc(cap)))
        return bad(p, "bad signature");
    if (sodium_base642bin(z->sig, cap, p->f[1], strlen(p->f[1]), NULL, &z->sig_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || *end)
        return bad(p, "signature is not base64");
    if ((st = expect_record(p, "end", 1)) != MS_OK)
        return st;
    if (p->pos != p->len)
        return bad(p, "data after the 'end' line");
    return MS_OK;
}

static ms_status parse_all(struct parser *p, struct msi_seal *z)
{
    ms_status st = parse_header(p, z);
    if (st != MS_OK)
        return st;
    z->recs = calloc(z->nrecs ? z->nrecs : 1, sizeof *z->recs);
    z->vols = calloc(z->nvols ? z->nvols : 1, sizeof *z->vols);
    z->drrs = calloc(z->ndrrs ? z->ndrrs : 1, sizeof *z->drrs);
    if (!z->recs || !z->vols || !z->drrs)
        return ms_error_set(p->err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; st == MS_OK && i < z->nrecs; i++)
        st = parse_rec(p, &z->recs[i], z->nvols);
    for (size_t i = 0; st == MS_OK && i < z->nvols; i++)
        st = parse_vol(p, i, &z->vols[i]);
    for (size_t i = 0; st == MS_OK && i < z->ndrrs; i++)
        st = parse_drr(p, i, z);
    if (st == MS_OK)
        st = parse_signature(p, z);
    return st;
}

ms_status msi_seal_parse(const uint8_t *data, size_t len, struct msi_seal *z,
                         struct ms_error *err)
{
    struct parser p = {0};
    ms_status st;

    memset(z, 0, sizeof *z);
    if (len == 0)
        return ms_error_set(err, MS_EMALFORMED, "seal file is empty");
    if (memchr(data, '\0', len) || memchr(data, '\r', len))
        return ms_error_set(err, MS_EMALFORMED, "not a medseal seal (binary data or CR)");
    if (!(p.text = malloc(len + 1)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    memcpy(p.text, data, len);
    p.text[len] = '\0';
    p.len = len;
    p.err = err;
    st = parse_all(&p, z);
    free(p.text);
    if (st != MS_OK)
        msi_seal_clear(z);
    return st;
}
