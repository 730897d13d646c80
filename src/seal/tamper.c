/* medseal tamper: seed 000's attacks (+I, -I, delta) and more, applied to a
 * copy of a study for tests and demonstrations. The input is only read; the
 * output directory must be new or empty. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "medseal/pixel.h"
#include "medseal/util.h"
#include "seal_internal.h"

#define T_SOP_INSTANCE MS_TAG(0x0008, 0x0018)
#define T_MEDIA_SOP_INSTANCE MS_TAG(0x0002, 0x0003)
#define T_STUDY MS_TAG(0x0020, 0x000D)
#define T_SERIES MS_TAG(0x0020, 0x000E)
#define T_FOR MS_TAG(0x0020, 0x0052)
#define T_IPP MS_TAG(0x0020, 0x0032)
#define T_SLICE_LOCATION MS_TAG(0x0020, 0x1041)
#define T_PATIENT_NAME MS_TAG(0x0010, 0x0010)
#define T_PATIENT_ID MS_TAG(0x0010, 0x0020)

struct tamper {
    const struct ms_tamper_options *o;
    const char *in, *out;
    struct ms_pathlist files;
    char **rel;
    void (*log)(void *, const char *);
    void *log_ctx;
    uint64_t rng;
    bool out_existed;   /* out was an empty directory already (else made here) */
    struct ms_error *err;
};

static void MS_PRINTF(2, 3) say(struct tamper *t, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (!t->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    t->log(t->log_ctx, line);
}

static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* A fresh "2.25." UID of 38 random decimal digits (below 2^128). */
static ms_status new_uid(char out[MSI_UID_CAP], struct ms_error *err)
{
    uint8_t r[38];
    ms_status st = ms_random_bytes(r, sizeof r, err);
    if (st != MS_OK)
        return st;
    memcpy(out, "2.25.", 5);
    for (int i = 0; i < 38; i++)
        out[5 + i] = (char)('0' + (i == 0 ? 1 + r[i] % 9 : r[i] % 10));
    out[43] = '\0';
    return MS_OK;
}

/* ---- files ------------------------------------------------------------------------------------ */

static ms_status out_path(struct tamper *t, const char *rel, const char *suffix, char *buf,
                          size_t cap)
{
    char sub[4096], *slash;
    const char *dot = strrchr(rel, '.'), *base = strrchr(rel, '/');
    int n;
    if (!suffix || !dot || (base && dot < base))
        dot = rel + strlen(rel);
    n = snprintf(buf, cap, "%s/%.*s%s%s", t->out, (int)(dot - rel), rel, suffix ? suffix : "",
                 suffix ? dot : "");
    if (n < 0 || (size_t)n >= cap)
        return ms_error_set(t->err, MS_EIO, "output path too long");
    snprintf(sub, sizeof sub, "%s", buf);
    slash = strrchr(sub, '/');
    *slash = '\0';
    return ms_mkdirs(sub, t->err);
}

/* A plain copy (no fsync: the output is a simulation, made anew each time). */
static ms_status copy_file(struct tamper *t, const char *from, const char *to)
{
    const uint8_t *data;
    uint64_t size;
    int fd;
    bool ok;
    ms_status st = msi_map_file(from, &data, &size, t->err);
    if (st != MS_OK)
        return st;
    fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    ok = fd >= 0 && msi_fd_sink(&fd, data, (size_t)size) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (!ok) {
        if (fd >= 0)
            unlink(to);
        st = ms_error_set(t->err, MS_EIO, "cannot write %s: %s", to, strerror(errno));
    }
    msi_unmap_file(data, size);
    return st;
}

static ms_status read_file(struct tamper *t, size_t n, struct ms_file **f)
{
    ms_status st = ms_file_read(f, t->files.paths[n - 1], NULL, t->err);
    if (st != MS_OK)
        ms_error_prefix(t->err, "%s", t->files.paths[n - 1]);
    return st;
}

static ms_status write_file(struct tamper *t, struct ms_file *f, const char *rel,
                            const char *suffix)
{
    char path[4096];
    ms_status st = out_path(t, rel, suffix, path, sizeof path);
    if (st == MS_OK)
        st = ms_file_write(f, path, NULL, t->err);
    return st;
}

static ms_status set_uid(struct ms_file *f, char uid[MSI_UID_CAP], struct ms_error *err)
{
    ms_status st = new_uid(uid, err);
    if (st == MS_OK)
        st = ms_dataset_set_string(ms_file_dataset(f), T_SOP_INSTANCE, MS_VR_UI, uid, err);
    if (st == MS_OK && ms_dataset_get(ms_file_meta(f), T_MEDIA_SOP_INSTANCE))
        st = ms_dataset_set_string(ms_file_meta(f), T_MEDIA_SOP_INSTANCE, MS_VR_UI, uid, err);
    return st;
}

/* ---- pixels ------------------------------------------------------------------------------------- */

/* Native 16-bit single-sample pixels whose values start at bit 0. */
static ms_status pixels16(struct tamper *t, struct ms_file *f, struct ms_pixel_info *pi)
{
    ms_status st = ms_pixel_info_get(ms_file_dataset(f), pi, t->err);
    if (st == MS_OK && (pi->encapsulated || pi->bits_allocated != 16 ||
                        pi->samples_per_pixel != 1 || pi->high_bit + 1 != pi->bits_stored))
        st = ms_error_set(t->err, MS_EUNSUPPORTED,
                          "only native 16-bit single-sample pixels can be changed");
    return st;
}

static int32_t clamp_stored(const struct ms_pixel_info *pi, double v)
{
    double lo = pi->pixel_representation ? -ldexp(1, pi->bits_stored - 1) : 0;
    double hi = pi->pixel_representation ? ldexp(1, pi->bits_stored - 1) - 1
                                         : ldexp(1, pi->bits_stored) - 1;
    return (int32_t)llround(fmin(fmax(v, lo), hi));
}

static void put_stored(uint8_t *p, const struct ms_pixel_info *pi, int32_t v)
{
    uint32_t mask = pi->bits_stored >= 16 ? 0xFFFFu : (1u << pi->bits_stored) - 1u;
    msi_wr16le(p, (uint16_t)((uint32_t)v & mask));
}

/* Replace the Pixel Data of f by a copy with the stored values in vals. */
static ms_status store_pixels(struct tamper *t, struct ms_file *f, const struct ms_pixel_info *pi,
                              const int32_t *vals)
{
    size_t n = (size_t)pi->rows * pi->columns;
    uint8_t *buf = malloc(2 * n);
    ms_status st;
    if (!buf)
        return ms_error_set(t->err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        put_stored(buf + 2 * i, pi, vals[i]);
    st = ms_dataset_set_bytes(ms_file_dataset(f), MS_TAG_PIXEL_DATA, MS_VR_OW, buf, 2 * n, t->err);
    free(buf);
    return st;
}

/* ---- the attacks ------------------------------------------------------------------------------------ */

static ms_status do_modify(struct tamper *t, struct ms_file *f, const char *rel)
{
    struct ms_pixel_info pi;
    int32_t *v = NULL;
    double delta = t->o->delta > 0 ? t->o->delta : 10;
    uint32_t x0, x1, y0, y1;
    ms_status st = pixels16(t, f, &pi);

    if (st == MS_OK && !(v = malloc((size_t)pi.rows * pi.columns * sizeof *v)))
        st = ms_error_set(t->err, MS_ENOMEM, "out of memory");
    if (st == MS_OK)
        st = ms_pixel_frame_stored(&pi, 0, v, t->err);
    x0 = pi.columns / 4, x1 = pi.columns - pi.columns / 4;
    y0 = pi.rows / 4, y1 = pi.rows - pi.rows / 4;
    for (uint32_t y = y0; st == MS_OK && y < y1; y++)
        for (uint32_t x = x0; x < x1; x++) {
            size_t i = (size_t)y * pi.columns + x;
            double d = (next_random(&t->rng) & 1) ? delta : -delta;
            v[i] = clamp_stored(&pi, v[i] + d / pi.rescale_slope);
        }
    if (st == MS_OK)
        st = store_pixels(t, f, &pi, v);
    if (st == MS_OK)
        say(t, "modified %s: %u pixels by +-%g HU at random in x %u..%u, y %u..%u", rel,
            (x1 - x0) * (y1 - y0), delta, x0, x1 - 1, y0, y1 - 1);
    free(v);
    return st;
}

static ms_status do_header(struct tamper *t, struct ms_file *f, const char *rel)
{
    const char *eq = strchr(t->o->header_set, '=');
    char kw[128];
    const struct ms_dict_entry *e;
    size_t n = eq ? (size_t)(eq - t->o->header_set) : 0;
    ms_status st;

    if (!eq || n == 0 || n >= sizeof kw)
        return ms_error_set(t->err, MS_EUSAGE, "--header takes KEYWORD=VALUE");
    memcpy(kw, t->o->header_set, n);
    kw[n] = '\0';
    if (!(e = ms_dict_find_keyword(kw)) || e->vr == MS_VR_SQ || MS_TAG_GROUP(e->tag) == 0x7FE0)
        return ms_error_set(t->err, MS_EUSAGE, "--header: '%s' is not a keyword medseal can set", kw);
    if (ms_vr_is_string(e->vr))
        st = ms_dataset_set_string(ms_file_dataset(f), e->tag, e->vr, eq + 1, t->err);
    else if (ms_vr_binary_size(e->vr) && e->vr != MS_VR_FL && e->vr != MS_VR_FD && e->vr != MS_VR_AT)
        st = ms_dataset_set_int(ms_file_dataset(f), e->tag, e->vr, strtoll(eq + 1, NULL, 10), t->err);
    else
        st = ms_error_set(t->err, MS_EUSAGE, "--header: %s has VR %s, not settable from text", kw,
                          ms_vr_name(e->vr));
    if (st == MS_OK)
        say(t, "changed %s: %s = %s", rel, kw, eq + 1);
    return st;
}

/* Native Pixel Data of f, or NULL. */
static const struct ms_element *native_pixel_data(struct ms_file *f)
{
    const struct ms_element *px = f ? ms_dataset_get(ms_file_dataset(f), MS_TAG_PIXEL_DATA) : NULL;
    return px && ms_element_value(px) ? px : NULL;
}

/* Give b the Pixel Data of a and a that of b. */
static ms_status exchange_pixels(struct tamper *t, struct ms_file *a, struct ms_file *b)
{
    const struct ms_element *pa = native_pixel_data(a), *pb = native_pixel_data(b);
    size_t len;
    uint8_t *copy;
    ms_status st;
    if (!pa || !pb || ms_element_length(pa) != ms_element_length(pb))
        return ms_error_set(t->err, MS_EUNSUPPORTED,
                            "--swap needs two native Pixel Data of one size");
    len = (size_t)ms_element_length(pa);
    if (!(copy = malloc(len ? len : 1)))
        return ms_error_set(t->err, MS_ENOMEM, "out of memory");
    memcpy(copy, ms_element_value(pa), len);
    st = ms_dataset_set_bytes(ms_file_dataset(a), MS_TAG_PIXEL_DATA, ms_element_vr(pa),
                              ms_element_value(pb), len, t->err);
    if (st == MS_OK)
        st = ms_dataset_set_bytes(ms_file_dataset(b), MS_TAG_PIXEL_DATA, ms_element_vr(pb), copy,
                                  len, t->err);
    free(copy);
    return st;
}

static ms_status do_swap(struct tamper *t)
{
    const char *ra = t->rel[t->o->swap_a - 1], *rb = t->rel[t->o->swap_b - 1];
    struct ms_file *a = NULL, *b = NULL;
    ms_status st = read_file(t, t->o->swap_a, &a);
    if (st == MS_OK)
        st = read_file(t, t->o->swap_b, &b);
    if (st == MS_OK)
        st = exchange_pixels(t, a, b);
    if (st == MS_OK && (st = write_file(t, a, ra, NULL)) == MS_OK)
        st = write_file(t, b, rb, NULL);
    if (st == MS_OK)
        say(t, "swapped the Pixel Data of %s and %s", ra, rb);
    ms_file_destroy(a);
    ms_file_destroy(b);
    return st;
}

static ms_status do_duplicate(struct tamper *t)
{
    struct ms_file *f = NULL;
    char uid[MSI_UID_CAP];
    size_t n = t->o->duplicate;
    ms_status st = read_file(t, n, &f);
    if (st == MS_OK)
        st = set_uid(f, uid, t->err);
    if (st == MS_OK)
        st = write_file(t, f, t->rel[n - 1], "_dup");
    if (st == MS_OK)
        say(t, "duplicated %s with the new SOP Instance UID %s", t->rel[n - 1], uid);
    ms_file_destroy(f);
    return st;
}

/* ---- insertion of an image from another dataset ------------------------------------------------------- */

/* Image Position midway between instance n and the next one (or one step
 * beyond the previous one for the last). */
static ms_status insert_position(struct tamper *t, size_t n, double pos[3])
{
    struct ms_read_options ro = {.stop_before_pixels = true};
    double other[3];
    size_t m = n < t->files.count ? n + 1 : n - 1;
    struct ms_file *f = NULL, *g = NULL;
    bool ok = ms_file_read(&f, t->files.paths[n - 1], &ro, NULL) == MS_OK && m >= 1 &&
              ms_file_read(&g, t->files.paths[m - 1], &ro, NULL) == MS_OK;
    for (int i = 0; ok && i < 3; i++)
        ok = ms_dataset_get_double(ms_file_dataset(f), T_IPP, (size_t)i, &pos[i]) &&
             ms_dataset_get_double(ms_file_dataset(g), T_IPP, (size_t)i, &other[i]);
    for (int i = 0; ok && i < 3; i++)
        pos[i] = m > n ? (pos[i] + other[i]) / 2 : pos[i] + (pos[i] - other[i]) / 2;
    ms_file_destroy(f);
    ms_file_destroy(g);
    return ok ? MS_OK
              : ms_error_set(t->err, MS_EUNSUPPORTED,
                             "--insert: instance %zu and its neighbour need Image Positions", n);
}

/* The donor's HU resampled (nearest) to the template's size, as the template's stored values. */
static ms_status donor_values(struct tamper *t, const struct ms_pixel_info *tp, int32_t *out)
{
    struct ms_file *d = NULL;
    struct ms_pixel_info dp;
    float *hu = NULL;
    ms_status st = ms_file_read(&d, t->o->insert_file, NULL, t->err);
    if (st == MS_OK)
        st = ms_pixel_info_get(ms_file_dataset(d), &dp, t->err);
    if (st == MS_OK && !(hu = malloc((size_t)dp.rows * dp.columns * sizeof *hu)))
        st = ms_error_set(t->err, MS_ENOMEM, "out of memory");
    if (st == MS_OK)
        st = ms_pixel_frame_real(&dp, 0, hu, t->err);
    for (uint32_t y = 0; st == MS_OK && y < tp->rows; y++)
        for (uint32_t x = 0; x < tp->columns; x++) {
            uint32_t sx = (uint32_t)((uint64_t)x * dp.columns / tp->columns);
            uint32_t sy = (uint32_t)((uint64_t)y * dp.rows / tp->rows);
            double v = hu[(size_t)sy * dp.columns + sx];
            out[(size_t)y * tp->columns + x] =
                clamp_stored(tp, (v - tp->rescale_intercept) / tp->rescale_slope);
        }
    if (st != MS_OK)
        ms_error_prefix(t->err, "%s", t->o->insert_file);
    free(hu);
    ms_file_destroy(d);
    return st;
}

static ms_status set_position(struct tamper *t, struct ms_file *f, const double pos[3])
{
    char text[128];
    ms_status st;
    snprintf(text, sizeof text, "%.4f\\%.4f\\%.4f", pos[0], pos[1], pos[2]);
    st = ms_dataset_set_string(ms_file_dataset(f), T_IPP, MS_VR_DS, text, t->err);
    if (st == MS_OK && ms_dataset_get(ms_file_dataset(f), T_SLICE_LOCATION)) {
        snprintf(text, sizeof text, "%.4f", pos[2]);
        st = ms_dataset_set_string(ms_file_dataset(f), T_SLICE_LOCATION, MS_VR_DS, text, t->err);
    }
    return st;
}

static ms_status do_insert(struct tamper *t)
{
    size_t n = t->o->insert_at ? t->o->insert_at : (t->files.count + 1) / 2;
    struct ms_file *f = NULL;
    struct ms_pixel_info pi;
    int32_t *v = NULL;
    double pos[3];
    char uid[MSI_UID_CAP];
    ms_status st = insert_position(t, n, pos);

    if (st == MS_OK)
        st = read_file(t, n, &f);
    if (st == MS_OK)
        st = pixels16(t, f, &pi);
    if (st == MS_OK && !(v = malloc((size_t)pi.rows * pi.columns * sizeof *v)))
        st = ms_error_set(t->err, MS_ENOMEM, "out of memory");
    if (st == MS_OK && (st = donor_values(t, &pi, v)) == MS_OK &&
        (st = store_pixels(t, f, &pi, v)) == MS_OK && (st = set_uid(f, uid, t->err)) == MS_OK &&
        (st = set_position(t, f, pos)) == MS_OK)
        st = write_file(t, f, t->rel[n - 1], "_ins");
    if (st == MS_OK)
        say(t, "inserted the image of %s after %s, at (%.4g, %.4g, %.4g), SOP Instance UID %s",
            t->o->insert_file, t->rel[n - 1], pos[0], pos[1], pos[2], uid);
    free(v);
    ms_file_destroy(f);
    return st;
}

/* ---- replace-all: a different study, freshly sealed ---------------------------------------------------- */

/* New UIDs, shared by every instance: study, one series, one frame of reference. */
struct replacement {
    char study[MSI_UID_CAP], series[MSI_UID_CAP], frame[MSI_UID_CAP];
};

static ms_status mirror_pixels(struct tamper *t, struct ms_file *f)
{
    struct ms_pixel_info pi;
    int32_t *v = NULL;
    ms_status st = pixels16(t, f, &pi);
    if (st == MS_OK && !(v = malloc((size_t)pi.rows * pi.columns * sizeof *v)))
        st = ms_error_set(t->err, MS_ENOMEM, "out of memory");
    if (st == MS_OK)
        st = ms_pixel_frame_stored(&pi, 0, v, t->err);
    for (uint32_t y = 0; st == MS_OK && y < pi.rows; y++)
        for (uint32_t x = 0; x < pi.columns / 2; x++) {
            int32_t *row = v + (size_t)y * pi.columns, tmp = row[x];
            row[x] = row[pi.columns - 1 - x];
            row[pi.columns - 1 - x] = tmp;
        }
    if (st == MS_OK)
        st = store_pixels(t, f, &pi, v);
    free(v);
    return st;
}

static ms_status replace_one(struct tamper *t, size_t i, const struct replacement *r)
{
    struct ms_file *f = NULL;
    struct ms_dataset *ds;
    char uid[MSI_UID_CAP];
    ms_status st = ms_file_read(&f, t->files.paths[i], NULL, NULL);
    if (st != MS_OK) { /* not DICOM: copied as it is */
        char path[4096];
        st = out_path(t, t->rel[i], NULL, path, sizeof path);
        return st == MS_OK ? copy_file(t, t->files.paths[i], path) : st;
    }
    ds = ms_file_dataset(f);
    st = set_uid(f, uid, t->err);
    if (st == MS_OK && ms_dataset_get(ds, MS_TAG_PIXEL_DATA))
        st = mirror_pixels(t, f);
    if (st == MS_OK && (st = ms_dataset_set_string(ds, T_STUDY, MS_VR_UI, r->study, t->err)) == MS_OK &&
        (st = ms_dataset_set_string(ds, T_SERIES, MS_VR_UI, r->series, t->err)) == MS_OK &&
        (st = ms_dataset_set_string(ds, T_FOR, MS_VR_UI, r->frame, t->err)) == MS_OK &&
        (st = ms_dataset_set_string(ds, T_PATIENT_NAME, MS_VR_PN, "REPLACED^STUDY", t->err)) == MS_OK &&
        (st = ms_dataset_set_string(ds, T_PATIENT_ID, MS_VR_LO, "REPLACED", t->err)) == MS_OK)
        st = write_file(t, f, t->rel[i], NULL);
    ms_file_destroy(f);
    return st;
}

static ms_status reseal(struct tamper *t, const uint8_t key[MS_AES256_KEY_LEN])
{
    char path[4096];
    const char *inputs[1] = {t->out};
    struct ms_study_options so = {0};
    struct ms_study *s = NULL;
    struct ms_pkey *k = NULL;
    struct ms_seal_summary sum;
    struct ms_seal_options opt = {0};
    ms_status st;

    snprintf(path, sizeof path, "%s", t->o->replace_seal ? t->o->replace_seal : "");
    if (!t->o->replace_seal)
        snprintf(path, sizeof path, "%s/study.seal", t->out);
    so.exclude = path;
    st = ms_pkey_generate(&k, MS_PKEY_ED25519, 0, t->err);
    if (st == MS_OK)
        st = ms_study_scan(&s, inputs, 1, &so, t->err);
    opt.key = key;
    opt.signer = k;
    if (st == MS_OK)
        st = ms_seal_create(s, &opt, path, &sum, t->err);
    if (st == MS_OK)
        say(t, "sealed the replacement study into %s, signed by a new Ed25519 key %s", path,
            sum.signer);
    ms_study_destroy(s);
    ms_pkey_destroy(k);
    return st;
}

static ms_status do_replace_all(struct tamper *t)
{
    struct replacement r;
    uint8_t key[MS_AES256_KEY_LEN];
    ms_status st;
    if ((st = new_uid(r.study, t->err)) != MS_OK || (st = new_uid(r.series, t->err)) != MS_OK ||
        (st = new_uid(r.frame, t->err)) != MS_OK)
        return st;
    for (size_t i = 0; st == MS_OK && i < t->files.count; i++)
        st = replace_one(t, i, &r);
    if (st == MS_OK)
        say(t, "replaced all %zu files by a different study (new UIDs, images mirrored)",
            t->files.count);
    if (t->o->replace_key)
        memcpy(key, t->o->replace_key, sizeof key);
    else if (st == MS_OK)
        st = ms_random_bytes(key, sizeof key, t->err);
    if (st == MS_OK)
        st = reseal(t, key);
    ms_crypto_wipe(key, sizeof key);
    return st;
}

/* ---- checks and the run ------------------------------------------------------------------------------------ */

/* Instance numbers the attacks name; 0 = unused. */
struct named {
    size_t n;
    const char *what;
    bool changes; /* the attack rewrites or removes that instance */
};

static size_t named_list(const struct ms_tamper_options *o, struct named out[7])
{
    struct named all[7] = {{o->insert_at, "--at", false},   {o->duplicate, "--duplicate", false},
                           {o->delete_n, "--delete", true}, {o->modify, "--modify", true},
                           {o->header, "--header", true},   {o->swap_a, "--swap", true},
                           {o->swap_b, "--swap", true}};
    memcpy(out, all, sizeof all);
    return 7;
}

static bool any_attack(const struct ms_tamper_options *o)
{
    return o->insert_file || o->duplicate || o->delete_n || o->modify || o->header ||
           o->swap_a || o->replace_all;
}

/* Every N within the study, and no instance changed by two attacks. */
static ms_status check_numbers(struct tamper *t)
{
    struct named v[7];
    size_t k = named_list(t->o, v);
    for (size_t i = 0; i < k; i++) {
        if (v[i].n > t->files.count)
            return ms_error_set(t->err, MS_EUSAGE, "%s %zu: the study has %zu files", v[i].what,
                                v[i].n, t->files.count);
        for (size_t j = 0; j < i; j++)
            if (v[i].n && v[i].n == v[j].n && v[i].changes && v[j].changes)
                return ms_error_set(t->err, MS_EUSAGE, "instance %zu: one attack at a time (%s, %s)",
                                    v[i].n, v[j].what, v[i].what);
    }
    return MS_OK;
}

static ms_status check_args(struct tamper *t)
{
    const struct ms_tamper_options *o = t->o;
    if (!any_attack(o))
        return ms_error_set(t->err, MS_EUSAGE, "no attack given");
    if (o->replace_all && any_attack(&(struct ms_tamper_options){.insert_file = o->insert_file,
                                                                  .duplicate = o->duplicate,
                                                                  .delete_n = o->delete_n,
                                                                  .modify = o->modify,
                                                                  .header = o->header,
                                                                  .swap_a = o->swap_a}))
        return ms_error_set(t->err, MS_EUSAGE, "--replace-all goes alone");
    if ((o->swap_a != 0) != (o->swap_b != 0))
        return ms_error_set(t->err, MS_EUSAGE, "--swap takes two different instances");
    if (o->header && !o->header_set)
        return ms_error_set(t->err, MS_EUSAGE, "--header takes N KEYWORD=VALUE");
    return check_numbers(t);
}

/* Real path of a path that may not exist yet: the nearest existing ancestor
 * resolved, the rest appended. */
static bool resolve_future(const char *path, char *out, size_t cap)
{
    char head[PATH_MAX], real[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof head)
        return false;
    memcpy(head, path, n + 1);
    for (;;) {
        char *slash;
        if (realpath(head[0] ? head : ".", real)) {
            int k = snprintf(out, cap, "%s%s", real, path + strlen(head));
            return k > 0 && (size_t)k < cap;
        }
        slash = strrchr(head, '/');
        if (!slash)
            head[0] = '\0';
        else if (slash == head)
            head[1] = '\0';
        else
            *slash = '\0';
    }
}

/* out must be new or an empty directory, and neither in nor inside it. */
static ms_status check_output(struct tamper *t)
{
    char rin[PATH_MAX], rout[PATH_MAX + 4096];
    size_t n;
    if (!realpath(t->in, rin))
        return ms_error_set(t->err, MS_EIO, "%s: cannot resolve", t->in);
    if (!resolve_future(t->out, rout, sizeof rout))
        return ms_error_set(t->err, MS_EIO, "%s: cannot resolve", t->out);
    n = strlen(rin);
    if (!strncmp(rout, rin, n) && (rout[n] == '/' || rout[n] == '\0'))
        return ms_error_set(t->err, MS_EUSAGE, "the output may not be the input or inside it");
    if (ms_is_dir(t->out)) {
        /* empty means no entry at all (hidden ones, links and directories
         * count): on failure everything inside is removed again */
        t->out_existed = true;
        return ms_dir_is_empty(t->out)
                   ? MS_OK
                   : ms_error_set(t->err, MS_EUSAGE, "%s is not empty", t->out);
    }
    return ms_mkdirs(t->out, t->err);
}

static ms_status list_input(struct tamper *t)
{
    ms_status st = ms_pathlist_collect(&t->files, &t->in, 1, t->err);
    size_t n = strlen(t->in);
    while (n > 1 && t->in[n - 1] == '/')
        n--;
    if (st == MS_OK && !t->files.count)
        st = ms_error_set(t->err, MS_EUSAGE, "%s holds no file", t->in);
    if (st == MS_OK && !(t->rel = calloc(t->files.count, sizeof *t->rel)))
        st = ms_error_set(t->err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; st == MS_OK && i < t->files.count; i++)
        t->rel[i] = t->files.paths[i] + n + 1;
    return st;
}

/* Every original file, deleted, changed or copied. */
static ms_status copy_or_change(struct tamper *t, size_t n)
{
    const struct ms_tamper_options *o = t->o;
    const char *rel = t->rel[n - 1];
    struct ms_file *f = NULL;
    char path[4096];
    ms_status st;

    if (n == o->delete_n) {
        say(t, "deleted %s", rel);
        return MS_OK;
    }
    if (n == o->swap_a || n == o->swap_b)
        return MS_OK; /* written by do_swap() */
    if (n != o->modify && n != o->header) {
        st = out_path(t, rel, NULL, path, sizeof path);
        return st == MS_OK ? copy_file(t, t->files.paths[n - 1], path) : st;
    }
    st = read_file(t, n, &f);
    if (st == MS_OK)
        st = n == o->modify ? do_modify(t, f, rel) : do_header(t, f, rel);
    if (st == MS_OK)
        st = write_file(t, f, rel, NULL);
    ms_file_destroy(f);
    return st;
}

static ms_status run(struct tamper *t)
{
    const struct ms_tamper_options *o = t->o;
    ms_status st = MS_OK;
    if (o->replace_all)
        return do_replace_all(t);
    for (size_t n = 1; st == MS_OK && n <= t->files.count; n++)
        st = copy_or_change(t, n);
    if (st == MS_OK && o->swap_a)
        st = do_swap(t);
    if (st == MS_OK && o->duplicate)
        st = do_duplicate(t);
    if (st == MS_OK && o->insert_file)
        st = do_insert(t);
    return st;
}

ms_status ms_tamper(const char *in_dir, const char *out_dir, const struct ms_tamper_options *opt,
                    void (*log)(void *ctx, const char *line), void *log_ctx,
                    struct ms_error *err)
{
    struct tamper t = {.o = opt, .in = in_dir, .out = out_dir, .log = log, .log_ctx = log_ctx,
                       .err = err};
    ms_status st;
    t.rng = opt->seed ? opt->seed : 1;
    if (!ms_is_dir(in_dir))
        return ms_error_set(err, MS_EUSAGE, "%s is not a directory", in_dir);
    st = list_input(&t);
    if (st == MS_OK)
        st = check_args(&t);
    if (st == MS_OK && (st = check_output(&t)) == MS_OK) {
        st = run(&t);
        if (st != MS_OK) /* no partial result: out was new or empty */
            ms_clear_dir(out_dir, !t.out_existed);
    }
    free(t.rel);
    ms_pathlist_clear(&t.files);
    return st;
}
