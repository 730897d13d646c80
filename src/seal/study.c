/* Studies: every file under the inputs, DICOM headers read on all cores,
 * images grouped into 3D volumes, and the reading pass that hashes files and
 * feeds slices to the DRR projector. */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "medseal/pixel.h"
#include "medseal/util.h"
#include "seal_internal.h"

#define T_SOP_CLASS MS_TAG(0x0008, 0x0016)
#define T_SOP_INSTANCE MS_TAG(0x0008, 0x0018)
#define T_MODALITY MS_TAG(0x0008, 0x0060)
#define T_SERIES MS_TAG(0x0020, 0x000E)
#define T_INSTANCE_NUMBER MS_TAG(0x0020, 0x0013)
#define T_IPP MS_TAG(0x0020, 0x0032)
#define T_IOP MS_TAG(0x0020, 0x0037)
#define T_TEMPORAL MS_TAG(0x0020, 0x0100)
#define T_SAMPLES MS_TAG(0x0028, 0x0002)
#define T_FRAMES MS_TAG(0x0028, 0x0008)
#define T_ROWS MS_TAG(0x0028, 0x0010)
#define T_COLUMNS MS_TAG(0x0028, 0x0011)
#define T_SPACING MS_TAG(0x0028, 0x0030)
#define T_BITS_ALLOCATED MS_TAG(0x0028, 0x0100)

#define IOP_TOL 1e-4
#define SPACING_TOL 1e-6

/* ---- geometry helpers --------------------------------------------------------------- */

void msi_normal(const double iop[6], double n[3])
{
    n[0] = iop[1] * iop[5] - iop[2] * iop[4];
    n[1] = iop[2] * iop[3] - iop[0] * iop[5];
    n[2] = iop[0] * iop[4] - iop[1] * iop[3];
}

double msi_position_on(const struct msi_item *it, const double n[3])
{
    return it->ipp[0] * n[0] + it->ipp[1] * n[1] + it->ipp[2] * n[2];
}

static bool same_key(const struct msi_item *a, const char *series, int64_t temporal,
                     const double iop[6], uint32_t rows, uint32_t cols, const double sp[2])
{
    if (strcmp(a->series, series) || a->temporal != temporal || a->rows != rows ||
        a->cols != cols)
        return false;
    for (int i = 0; i < 6; i++)
        if (fabs(a->iop[i] - iop[i]) > IOP_TOL)
            return false;
    return fabs(a->spacing[0] - sp[0]) <= SPACING_TOL && fabs(a->spacing[1] - sp[1]) <= SPACING_TOL;
}

bool msi_volume_accepts(const struct msi_volume *v, const struct msi_item *it)
{
    double sp[2] = {v->g.row_spacing, v->g.column_spacing};
    return it->projectable &&
           same_key(it, v->series, v->temporal, v->g.orientation, v->g.rows, v->g.columns, sp);
}

/* ---- reading headers ------------------------------------------------------------------ */

static void get_uid(const struct ms_dataset *ds, uint32_t tag, char *buf)
{
    if (!ms_dataset_get_string(ds, tag, 0, buf, MSI_UID_CAP))
        buf[0] = '\0';
}

static bool get_doubles(const struct ms_dataset *ds, uint32_t tag, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!ms_dataset_get_double(ds, tag, i, &out[i]) || !isfinite(out[i]))
            return false;
    return true;
}

static int64_t get_int_or(const struct ms_dataset *ds, uint32_t tag, int64_t dflt)
{
    int64_t v;
    return ms_dataset_get_int(ds, tag, 0, &v) ? v : dflt;
}

/* Whether an image can be a slice of a volume. */
static bool projectable(const struct msi_item *it, const struct ms_dataset *ds,
                        const struct ms_file *f)
{
    int64_t spp = get_int_or(ds, T_SAMPLES, 1), bits = get_int_or(ds, T_BITS_ALLOCATED, 0);
    const struct ms_transfer_syntax *ts = ms_file_transfer_syntax(f);
    return it->kind == MSI_IMAGE && it->frames == 1 && spp == 1 &&
           (bits == 8 || bits == 16 || bits == 32) && it->has_ipp && it->has_iop &&
           it->has_spacing && it->spacing[0] > 0 && it->spacing[1] > 0 && it->series[0] &&
           it->rows <= MS_DRR_MAX_SIDE && it->cols <= MS_DRR_MAX_SIDE &&
           !(ts && ts->encapsulated);
}

/* Fill the DICOM fields of it from a file read without its Pixel Data. */
static void describe(struct msi_item *it, struct ms_file *f)
{
    const struct ms_dataset *ds = ms_file_dataset(f);
    int64_t rows = get_int_or(ds, T_ROWS, 0), cols = get_int_or(ds, T_COLUMNS, 0);

    get_uid(ds, T_SOP_INSTANCE, it->uid);
    get_uid(ds, T_SOP_CLASS, it->cls);
    get_uid(ds, T_SERIES, it->series);
    if (!ms_dataset_get_string(ds, T_MODALITY, 0, it->modality, sizeof it->modality))
        it->modality[0] = '\0';
    it->instance_number = get_int_or(ds, T_INSTANCE_NUMBER, -1);
    it->temporal = get_int_or(ds, T_TEMPORAL, -1);
    it->has_ipp = get_doubles(ds, T_IPP, it->ipp, 3);
    it->has_iop = get_doubles(ds, T_IOP, it->iop, 6);
    it->has_spacing = get_doubles(ds, T_SPACING, it->spacing, 2);
    it->kind = rows > 0 && cols > 0 ? MSI_IMAGE : MSI_OBJECT;
    it->rows = rows > 0 && rows <= UINT16_MAX ? (uint32_t)rows : 0;
    it->cols = cols > 0 && cols <= UINT16_MAX ? (uint32_t)cols : 0;
    it->frames = (uint32_t)get_int_or(ds, T_FRAMES, 1);
    it->projectable = projectable(it, ds, f);
}

static void read_header(void *ctx, size_t i)
{
    struct ms_study *s = ctx;
    struct msi_item *it = &s->items[i];
    struct ms_read_options ro = {.stop_before_pixels = true};
    struct ms_file *f = NULL;

    it->volume = -1;
    it->kind = MSI_FILE;
    if (ms_file_read(&f, it->path, &ro, NULL) != MS_OK)
        return;
    describe(it, f);
    if (!it->uid[0]) /* a file the reader could take apart but that is no instance */
        it->kind = MSI_FILE;
    ms_file_destroy(f);
}

/* ---- collecting files ---------------------------------------------------------------------- */

static int cmp_item_rel(const void *a, const void *b)
{
    return strcmp(((const struct msi_item *)a)->rel, ((const struct msi_item *)b)->rel);
}

static bool is_excluded(const char *path, const char *exclude_real)
{
    char real[PATH_MAX];
    return exclude_real && realpath(path, real) && strcmp(real, exclude_real) == 0;
}

/* Name of path below the input it came from. */
static char *relative_name(const char *input, const char *path)
{
    size_t n = strlen(input);
    while (n > 1 && input[n - 1] == '/')
        n--;
    if (strncmp(path, input, n) == 0 && path[n] == '/')
        return strdup(path + n + 1);
    const char *slash = strrchr(path, '/');
    return strdup(slash ? slash + 1 : path);
}

static ms_status add_items(struct ms_study *s, const char *input, const struct ms_pathlist *l,
                           const char *exclude_real, struct ms_error *err)
{
    for (size_t i = 0; i < l->count; i++) {
        struct msi_item *it;
        if (is_excluded(l->paths[i], exclude_real))
            continue;
        if (s->nitems >= MSI_MAX_FILES)
            return ms_error_set(err, MS_ELIMIT, "more than %u files", MSI_MAX_FILES);
        it = &s->items[s->nitems];
        memset(it, 0, sizeof *it);
        it->path = strdup(l->paths[i]);
        it->rel = relative_name(input, l->paths[i]);
        s->nitems++;
        if (!it->path || !it->rel)
            return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    return MS_OK;
}

static ms_status collect(struct ms_study *s, const char *const *inputs, size_t ninputs,
                         const char *exclude, struct ms_error *err)
{
    char exclude_real[PATH_MAX], *ex = NULL;
    ms_status st = MS_OK;

    if (exclude && realpath(exclude, exclude_real))
        ex = exclude_real;
    for (size_t k = 0; st == MS_OK && k < ninputs; k++) {
        struct ms_pathlist l = {0};
        st = ms_pathlist_collect(&l, &inputs[k], 1, err);
        if (st == MS_OK) {
            struct msi_item *p = realloc(s->items, (s->nitems + l.count + 1) * sizeof *p);
            if (!p)
                st = ms_error_set(err, MS_ENOMEM, "out of memory");
            else
                s->items = p;
        }
        if (st == MS_OK)
            st = add_items(s, inputs[k], &l, ex, err);
        ms_pathlist_clear(&l);
    }
    if (st == MS_OK && s->nitems == 0)
        st = ms_error_set(err, MS_EUSAGE, "no file found under the input");
    if (st == MS_OK)
        qsort(s->items, s->nitems, sizeof *s->items, cmp_item_rel);
    return st;
}

/* ---- volumes ---------------------------------------------------------------------------- */

/* Sort context: items by position on the normal, then instance number, UID. */
static const struct ms_study *sort_study;
static const double *sort_normal;

static int cmp_slice(const void *pa, const void *pb)
{
    const struct msi_item *a = &sort_study->items[*(const size_t *)pa];
    const struct msi_item *b = &sort_study->items[*(const size_t *)pb];
    double za = msi_position_on(a, sort_normal), zb = msi_position_on(b, sort_normal);
    if (za != zb)
        return za < zb ? -1 : 1;
    if (a->instance_number != b->instance_number)
        return a->instance_number < b->instance_number ? -1 : 1;
    return strcmp(a->uid, b->uid);
}

static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

static void sort_slices(const struct ms_study *s, struct msi_volume *v)
{
    pthread_mutex_lock(&sort_lock);
    sort_study = s;
    sort_normal = v->normal;
    qsort(v->items, v->n, sizeof *v->items, cmp_slice);
    pthread_mutex_unlock(&sort_lock);
    for (size_t k = 0; k < v->n; k++)
        v->pos[k] = msi_position_on(&s->items[v->items[k]], v->normal);
    v->g.z0 = v->n ? v->pos[0] : 0;
    v->g.extent = v->n ? v->pos[v->n - 1] - v->pos[0] : 0;
}

static void volume_key_from(struct msi_volume *v, const struct msi_item *it)
{
    memset(v, 0, sizeof *v);
    v->series = it->series;
    v->modality = it->modality;
    v->temporal = it->temporal;
    v->g.rows = it->rows;
    v->g.columns = it->cols;
    v->g.row_spacing = it->spacing[0];
    v->g.column_spacing = it->spacing[1];
    memcpy(v->g.orientation, it->iop, sizeof v->g.orientation);
    msi_normal(it->iop, v->normal);
}

/* Group the projectable images: one pass per new key. */
static ms_status group(struct ms_study *s, struct ms_error *err)
{
    size_t *members = malloc((s->nitems + 1) * sizeof *members);
    if (!members)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->nitems; i++) {
        struct msi_volume key, *v;
        size_t n = 0;
        if (!s->items[i].projectable || s->items[i].volume >= 0)
            continue;
        volume_key_from(&key, &s->items[i]);
        for (size_t j = i; j < s->nitems; j++)
            if (s->items[j].volume < 0 && msi_volume_accepts(&key, &s->items[j]))
                members[n++] = j;
        if (n < 2) {
            s->items[i].volume = -2; /* a lone slice: no volume */
            continue;
        }
        v = realloc(s->volumes, (s->nvolumes + 1) * sizeof *v);
        if (!v) {
            free(members);
            return ms_error_set(err, MS_ENOMEM, "out of memory");
        }
        s->volumes = v;
        v = &s->volumes[s->nvolumes];
        *v = key;
        v->items = malloc(n * sizeof *v->items);
        v->pos = malloc(n * sizeof *v->pos);
        if (!v->items || !v->pos) {
            free(v->items);
            free(v->pos);
            free(members);
            return ms_error_set(err, MS_ENOMEM, "out of memory");
        }
        memcpy(v->items, members, n * sizeof *members);
        v->n = n;
        for (size_t k = 0; k < n; k++)
            s->items[members[k]].volume = (long)s->nvolumes;
        s->nvolumes++;
        sort_slices(s, v);
        for (size_t k = 0; k < n; k++)
            s->items[v->items[k]].slice = k;
    }
    for (size_t i = 0; i < s->nitems; i++)
        if (s->items[i].volume == -2)
            s->items[i].volume = -1;
    free(members);
    return MS_OK;
}

/* ---- public: scan ------------------------------------------------------------------------ */

ms_status ms_study_scan(struct ms_study **out, const char *const *inputs, size_t ninputs,
                        const struct ms_study_options *opt, struct ms_error *err)
{
    struct ms_study *s = calloc(1, sizeof *s);
    ms_status st;

    *out = NULL;
    if (!s)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    s->threads = opt ? opt->threads : 0;
    s->progress = opt && opt->progress;
    st = collect(s, inputs, ninputs, opt ? opt->exclude : NULL, err);
    if (st == MS_OK) {
        ms_parallel_for(s->nitems, s->threads, read_header, s, "reading headers", false);
        for (size_t i = 0; i < s->nitems; i++)
            s->ninstances += s->items[i].kind != MSI_FILE;
        st = group(s, err);
    }
    if (st != MS_OK) {
        ms_study_destroy(s);
        return st;
    }
    *out = s;
    return MS_OK;
}

void ms_study_destroy(struct ms_study *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nitems; i++) {
        free(s->items[i].path);
        free(s->items[i].rel);
    }
    for (size_t v = 0; v < s->nvolumes; v++) {
        free(s->volumes[v].items);
        free(s->volumes[v].pos);
    }
    free(s->items);
    free(s->volumes);
    free(s);
}

size_t ms_study_file_count(const struct ms_study *s) { return s->nitems; }
size_t ms_study_instance_count(const struct ms_study *s) { return s->ninstances; }
size_t ms_study_volume_count(const struct ms_study *s) { return s->nvolumes; }

ms_status ms_study_volume_info(const struct ms_study *s, size_t v, struct ms_volume_info *out,
                               struct ms_error *err)
{
    if (v >= s->nvolumes)
        return ms_error_set(err, MS_ENOTFOUND, "no volume %zu (the study has %zu)", v + 1,
                            s->nvolumes);
    out->series_uid = s->volumes[v].series;
    out->modality = s->volumes[v].modality;
    out->temporal = s->volumes[v].temporal;
    out->slices = s->volumes[v].n;
    out->geometry = s->volumes[v].g;
    return MS_OK;
}

/* ---- the reading pass ------------------------------------------------------------------------ */

struct run {
    struct ms_study *s;
    const size_t *items;
    const size_t *slices;
    struct ms_drr *drr;
    bool hash;
    pthread_mutex_t lock;       /* first error, scratch buffers */
    ms_status st;
    struct ms_error err;
    int32_t **scratch;          /* free buffers of rows * columns values */
    size_t nscratch;
    size_t scratch_px;
};

static void fail(struct run *r, ms_status st, const struct ms_error *e, const char *path)
{
    pthread_mutex_lock(&r->lock);
    if (r->st == MS_OK) {
        r->st = st;
        r->err.code = st;
        snprintf(r->err.msg, sizeof r->err.msg, "%s: %s", path, e->msg);
    }
    pthread_mutex_unlock(&r->lock);
}

static int32_t *get_scratch(struct run *r)
{
    int32_t *p = NULL;
    pthread_mutex_lock(&r->lock);
    if (r->nscratch)
        p = r->scratch[--r->nscratch];
    pthread_mutex_unlock(&r->lock);
    return p ? p : malloc(r->scratch_px * sizeof *p);
}

static void put_scratch(struct run *r, int32_t *p)
{
    pthread_mutex_lock(&r->lock);
    if (p && r->nscratch < 64)
        r->scratch[r->nscratch++] = p;
    else
        free(p);
    pthread_mutex_unlock(&r->lock);
}

/* SHA-256 of the Pixel Data value (native) or of its fragments in order. */
static ms_status hash_pixels(const struct ms_element *px, uint8_t out[MS_SHA256_LEN],
                             struct ms_error *err)
{
    struct ms_hash *h;
    ms_status st;
    if (!ms_element_is_encapsulated(px))
        return ms_sha256(ms_element_value(px), (size_t)ms_element_length(px), out, err);
    if ((st = ms_hash_create(&h, MS_HASH_SHA256, err)) != MS_OK)
        return st;
    for (size_t i = 0; st == MS_OK && i < ms_element_fragment_count(px); i++) {
        const uint8_t *d;
        uint64_t len;
        if (ms_element_fragment(px, i, &d, &len))
            st = ms_hash_update(h, d, (size_t)len, err);
    }
    if (st == MS_OK)
        st = ms_hash_final(h, out, err);
    ms_hash_destroy(h);
    return st;
}

/* Content hash: Pixel Data of images, the dataset bytes (after the File Meta
 * Information) of other objects. */
static ms_status hash_content(struct msi_item *it, struct ms_file *f, const uint8_t *bytes,
                              uint64_t size, struct ms_error *err)
{
    const struct ms_element *px = ms_dataset_get(ms_file_dataset(f), MS_TAG_PIXEL_DATA);
    uint64_t off = ms_file_dataset_offset(f);
    if (it->kind == MSI_IMAGE && px)
        return hash_pixels(px, it->content_sha, err);
    if (it->kind == MSI_IMAGE)
        return ms_error_set(err, MS_EMALFORMED, "image without Pixel Data");
    if (off > size)
        return ms_error_set(err, MS_EINTERNAL, "dataset offset beyond the file");
    return ms_sha256(bytes + off, (size_t)(size - off), it->content_sha, err);
}

static ms_status add_slice(struct run *r, struct ms_file *f, size_t k, struct ms_error *err)
{
    struct ms_pixel_info info;
    int32_t *buf;
    ms_status st = ms_pixel_info_get(ms_file_dataset(f), &info, err);
    if (st != MS_OK)
        return st;
    if (info.encapsulated || info.samples_per_pixel != 1 ||
        (uint64_t)info.rows * info.columns != r->scratch_px)
        return ms_error_set(err, MS_EUNSUPPORTED, "slice is not a native %zu-pixel frame",
                            r->scratch_px);
    if (!(buf = get_scratch(r)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    st = ms_pixel_frame_stored(&info, 0, buf, err);
    if (st == MS_OK)
        st = ms_drr_add_slice(r->drr, k, buf, info.rescale_slope, info.rescale_intercept, err);
    put_scratch(r, buf);
    return st;
}

/* Hash and/or project one file; the file is read again to catch a change
 * since the header pass. */
static ms_status run_item(struct run *r, struct msi_item *it, size_t slice, struct ms_error *e)
{
    const uint8_t *bytes = NULL;
    uint64_t size = 0;
    struct ms_file *f = NULL;
    char uid[MSI_UID_CAP];
    ms_status st = MS_OK;

    if (r->hash && (st = msi_map_file(it->path, &bytes, &size, e)) == MS_OK) {
        it->size = size;
        st = ms_sha256(bytes, (size_t)size, it->file_sha, e);
    }
    if (st == MS_OK && it->kind != MSI_FILE)
        st = ms_file_read(&f, it->path, NULL, e);
    if (st == MS_OK && f) {
        get_uid(ms_file_dataset(f), T_SOP_INSTANCE, uid);
        if (strcmp(uid, it->uid) != 0)
            st = ms_error_set(e, MS_EIO, "file changed while it was read");
    }
    if (st == MS_OK && f && r->hash)
        st = hash_content(it, f, bytes, size, e);
    if (st == MS_OK && f && r->drr && slice != SIZE_MAX)
        st = add_slice(r, f, slice, e);
    if (st == MS_OK && r->hash)
        it->hashed = true;
    ms_file_destroy(f);
    msi_unmap_file(bytes, size);
    return st;
}

static void run_one(void *ctx, size_t i)
{
    struct run *r = ctx;
    struct msi_item *it = &r->s->items[r->items[i]];
    struct ms_error e = {0};
    ms_status st;
    if (r->st != MS_OK)
        return;
    st = run_item(r, it, r->slices ? r->slices[i] : SIZE_MAX, &e);
    if (st != MS_OK)
        fail(r, st, &e, it->path);
}

ms_status msi_study_run(struct ms_study *s, const size_t *items, size_t n, struct ms_drr *drr,
                        const size_t *slices, bool hash, const char *label,
                        struct ms_error *err)
{
    struct run r = {.s = s, .items = items, .slices = slices, .drr = drr, .hash = hash};
    int32_t *bufs[64];

    r.scratch = bufs;
    if (drr && n)
        for (size_t i = 0; i < n; i++)
            if (slices && slices[i] != SIZE_MAX) {
                const struct msi_item *it = &s->items[items[i]];
                r.scratch_px = (size_t)it->rows * it->cols;
                break;
            }
    pthread_mutex_init(&r.lock, NULL);
    ms_parallel_for(n, s->threads, run_one, &r, label, s->progress);
    pthread_mutex_destroy(&r.lock);
    for (size_t i = 0; i < r.nscratch; i++)
        free(bufs[i]);
    if (r.st != MS_OK && err)
        *err = r.err;
    return r.st;
}

/* ---- public: DRR of a volume ----------------------------------------------------------------- */

ms_status ms_study_drr(struct ms_study *s, size_t v, unsigned views,
                       struct ms_image *out[MS_DRR_VIEW_COUNT], struct ms_error *err)
{
    struct msi_volume *vol;
    struct ms_drr *d = NULL;
    size_t *slices;
    ms_status st;

    for (int i = 0; i < MS_DRR_VIEW_COUNT; i++)
        out[i] = NULL;
    if (v >= s->nvolumes)
        return ms_error_set(err, MS_ENOTFOUND, "no volume %zu (the study has %zu)", v + 1,
                            s->nvolumes);
    vol = &s->volumes[v];
    if (!(slices = malloc(vol->n * sizeof *slices)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t k = 0; k < vol->n; k++)
        slices[k] = k;
    st = ms_drr_create(&d, &vol->g, vol->pos, vol->n, views, s->threads, err);
    if (st == MS_OK)
        st = msi_study_run(s, vol->items, vol->n, d, slices, false, "projecting", err);
    for (int i = 0; st == MS_OK && i < MS_DRR_VIEW_COUNT; i++)
        if ((views >> i) & 1u)
            st = ms_drr_finish(d, (ms_drr_view)i, &out[i], err);
    if (st != MS_OK)
        for (int i = 0; i < MS_DRR_VIEW_COUNT; i++) {
            ms_image_destroy(out[i]);
            out[i] = NULL;
        }
    ms_drr_destroy(d);
    free(slices);
    return st;
}
