/* Studies: every file under the inputs, DICOM headers read by the scan of
 * src/series (series, stacks, frames sorted along the normal), the stacks
 * taken as 3D volumes, and the reading pass that hashes files on all cores
 * and feeds slices to the DRR projector. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "medseal/codec.h"
#include "medseal/pixel.h"
#include "series/series_internal.h"
#include "medseal/util.h"
#include "seal_internal.h"

#define IOP_TOL 1e-4
#define SPACING_TOL 1e-6

/* ---- volume keys ---------------------------------------------------------------------- */

bool msi_volume_same(const struct msi_volume *cv, const char *series, int64_t temporal,
                     const struct ms_drr_geometry *g)
{
    if (strcmp(cv->series, series) || cv->temporal != temporal || cv->g.rows != g->rows ||
        cv->g.columns != g->columns || fabs(cv->g.row_spacing - g->row_spacing) > SPACING_TOL ||
        fabs(cv->g.column_spacing - g->column_spacing) > SPACING_TOL)
        return false;
    for (int i = 0; i < 6; i++)
        if (fabs(cv->g.orientation[i] - g->orientation[i]) > IOP_TOL)
            return false;
    return true;
}

/* ---- headers from the scan (src/series) ------------------------------------------------ */

static void copy_uid(char *dst, const char *src)
{
    snprintf(dst, MSI_UID_CAP, "%s", src ? src : "");
}

/* Fill the DICOM fields of an item from its instance summary. */
static void describe(struct msi_item *it, const struct msi_instance *in)
{
    it->kind = in->info.rows && in->info.columns ? MSI_IMAGE : MSI_OBJECT;
    copy_uid(it->uid, in->info.sop_instance_uid);
    copy_uid(it->cls, in->info.sop_class_uid);
    copy_uid(it->series, in->series_uid);
    if (in->nrec && in->frames[0].has_position) {
        it->has_ipp = true;
        memcpy(it->ipp, in->frames[0].position, sizeof it->ipp);
    }
}

/* Whether a frame can be a slice of a volume: one sample, a size and
 * spacing, bits medseal decodes. */
static bool projectable(const struct msi_frame *f)
{
    const struct msi_instance *in = f->inst;
    const char *cls = in->info.sop_class_uid, *name = cls ? ms_uid_name(cls) : NULL;
    /* a dose grid is not an image of the patient: a non-image object (seed 000) */
    if (name && !strcmp(name, "RT Dose Storage"))
        return false;
    return in->samples_per_pixel == 1 && in->info.rows && in->info.columns &&
           in->info.rows <= MS_DRR_MAX_SIDE && in->info.columns <= MS_DRR_MAX_SIDE &&
           (in->bits_allocated == 8 || in->bits_allocated == 16 || in->bits_allocated == 32) &&
           f->has_spacing && f->spacing[0] > 0 && f->spacing[1] > 0 && isfinite(f->slope) &&
           isfinite(f->intercept);
}

/* Add every file to the scan in item order; an item whose file the scan kept
 * is an instance (the scan appends one summary per instance it reads). */
static ms_status read_headers(struct ms_study *s, size_t **inst_item, struct ms_error *err)
{
    struct ms_scan_options so = {0};
    ms_status st = ms_scan_create(&s->scan, &so, err);
    *inst_item = malloc((s->nitems + 1) * sizeof **inst_item);
    if (st == MS_OK && !*inst_item)
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; st == MS_OK && i < s->nitems; i++) {
        size_t before = s->scan->n;
        s->items[i].kind = MSI_FILE;
        s->items[i].volume = -1;
        st = ms_scan_add(s->scan, s->items[i].path, err);
        if (st == MS_OK && s->scan->n == before + 1) {
            describe(&s->items[i], s->scan->inst[before]);
            (*inst_item)[before] = i;
            s->ninstances++;
        }
    }
    return st;
}

/* ---- collecting files ---------------------------------------------------------------------- */

static int cmp_item_rel(const void *a, const void *b)
{
    return strcmp(((const struct msi_item *)a)->rel, ((const struct msi_item *)b)->rel);
}

/* The file to leave out (the seal), by device and inode. */
struct excluded {
    bool set;
    dev_t dev;
    ino_t ino;
};

static bool is_excluded(const char *path, const struct excluded *ex)
{
    struct stat sb;
    return ex->set && stat(path, &sb) == 0 && sb.st_dev == ex->dev && sb.st_ino == ex->ino;
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
                           const struct excluded *ex, struct ms_error *err)
{
    for (size_t i = 0; i < l->count; i++) {
        struct msi_item *it;
        if (is_excluded(l->paths[i], ex))
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
    struct excluded ex = {false, 0, 0};
    struct stat sb;
    ms_status st = MS_OK;

    if (exclude && stat(exclude, &sb) == 0)
        ex = (struct excluded){true, sb.st_dev, sb.st_ino};
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
            st = add_items(s, inputs[k], &l, &ex, err);
        ms_pathlist_clear(&l);
    }
    if (st == MS_OK && s->nitems == 0)
        st = ms_error_set(err, MS_EUSAGE, "no file found under the input");
    if (st == MS_OK)
        qsort(s->items, s->nitems, sizeof *s->items, cmp_item_rel);
    return st;
}

/* ---- volumes: the stacks of the scan ---------------------------------------------------- */

struct vbuild {
    struct ms_study *s;
    const size_t *inst_item;    /* scan instance order -> item */
};

static bool same_size(const struct msi_frame *f, const struct msi_frame *ref)
{
    return f->inst->info.rows == ref->inst->info.rows &&
           f->inst->info.columns == ref->inst->info.columns &&
           fabs(f->spacing[0] - ref->spacing[0]) <= SPACING_TOL &&
           fabs(f->spacing[1] - ref->spacing[1]) <= SPACING_TOL;
}

static size_t item_of(const struct vbuild *b, const struct msi_frame *f)
{
    return b->inst_item[f->inst->order];
}

/* The items of v listed once each, with their slices grouped (CSR). */
static ms_status index_items(struct msi_volume *v, struct ms_study *s)
{
    size_t *count = calloc(s->nitems + 1, sizeof *count), *slot = NULL;
    if (!count)
        return MS_ENOMEM;
    for (size_t k = 0; k < v->n; k++)
        if (count[v->frames[k].item]++ == 0)
            v->nitems++;
    v->items = malloc(v->nitems * sizeof *v->items);
    v->first = malloc((v->nitems + 1) * sizeof *v->first);
    v->by_item = malloc(v->n * sizeof *v->by_item);
    slot = malloc((s->nitems + 1) * sizeof *slot);
    if (!v->items || !v->first || !v->by_item || !slot) {
        free(count);
        free(slot);
        return MS_ENOMEM;
    }
    v->nitems = 0;
    v->first[0] = 0;
    for (size_t k = 0; k < v->n; k++) { /* items in the order of their first slice */
        size_t it = v->frames[k].item;
        if (count[it]) {
            slot[it] = v->nitems;
            v->items[v->nitems] = it;
            v->first[v->nitems + 1] = v->first[v->nitems] + count[it];
            v->nitems++;
            count[it] = 0;
        }
    }
    for (size_t i = 0; i < v->nitems; i++)
        count[v->items[i]] = v->first[i];
    for (size_t k = 0; k < v->n; k++)
        v->by_item[count[v->frames[k].item]++] = k;
    free(slot);
    free(count);
    return MS_OK;
}

/* The first projectable frame of a stack, and how many frames share its size. */
static const struct msi_frame *reference_frame(const struct msi_stack *st, size_t *n)
{
    const struct msi_frame *ref = NULL;
    *n = 0;
    for (size_t i = 0; !ref && i < st->n; i++)
        if (projectable(st->frames[i]))
            ref = st->frames[i];
    for (size_t i = 0; ref && i < st->n; i++)
        *n += projectable(st->frames[i]) && same_size(st->frames[i], ref);
    return ref;
}

/* Slices of the volume: the stack's frames of the reference's size, in order. */
static void take_frames(const struct vbuild *b, struct msi_volume *v, const struct msi_stack *st,
                        const struct msi_frame *ref)
{
    for (size_t i = 0; i < st->n; i++) {
        const struct msi_frame *f = st->frames[i];
        if (!projectable(f) || !same_size(f, ref))
            continue;
        v->frames[v->n] = (struct msi_vframe){item_of(b, f), f->index, f->slope, f->intercept};
        v->pos[v->n++] = f->dist;
    }
    v->g.z0 = v->pos[0];
    v->g.extent = v->pos[v->n - 1] - v->pos[0];
}

/* Volume of stack st: its projectable frames of the first one's size (at least two). */
static ms_status add_volume(struct vbuild *b, const struct ms_series *se, const struct msi_stack *st,
                            struct ms_error *err)
{
    struct ms_study *s = b->s;
    size_t n;
    const struct msi_frame *ref = reference_frame(st, &n);
    struct msi_volume *v;

    if (n < 2)
        return MS_OK;
    if (!(v = realloc(s->volumes, (s->nvolumes + 1) * sizeof *v)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    s->volumes = v;
    v = &s->volumes[s->nvolumes++];
    memset(v, 0, sizeof *v);
    v->series = se->info.series_uid;
    v->modality = se->info.modality;
    v->temporal = st->temporal;
    v->g = (struct ms_drr_geometry){ref->inst->info.rows, ref->inst->info.columns, ref->spacing[0],
                                    ref->spacing[1], {0}, 0, 0};
    memcpy(v->g.orientation, st->orientation, sizeof v->g.orientation);
    v->frames = malloc(n * sizeof *v->frames);
    v->pos = malloc(n * sizeof *v->pos);
    if (!v->frames || !v->pos)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    take_frames(b, v, st, ref);
    if (index_items(v, s) != MS_OK)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t k = 0; k < v->n; k++) /* an item's volume: the first that holds it */
        if (s->items[v->frames[k].item].volume < 0)
            s->items[v->frames[k].item].volume = (long)(s->nvolumes - 1);
    return MS_OK;
}

static ms_status group(struct ms_study *s, const size_t *inst_item, struct ms_error *err)
{
    struct vbuild b = {s, inst_item};
    ms_status st = MS_OK;
    size_t nseries = ms_scan_series_count(s->scan);
    for (size_t i = 0; st == MS_OK && i < nseries; i++) {
        const struct ms_series *se = ms_scan_series(s->scan, i);
        for (size_t k = 0; st == MS_OK && k < se->nstacks; k++)
            st = add_volume(&b, se, &se->stacks[k], err);
    }
    return st;
}

/* ---- public: scan ------------------------------------------------------------------------ */

ms_status ms_study_scan(struct ms_study **out, const char *const *inputs, size_t ninputs,
                        const struct ms_study_options *opt, struct ms_error *err)
{
    struct ms_study *s = calloc(1, sizeof *s);
    size_t *inst_item = NULL;
    ms_status st;

    *out = NULL;
    if (!s)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    s->threads = opt ? opt->threads : 0;
    s->progress = opt && opt->progress;
    st = collect(s, inputs, ninputs, opt ? opt->exclude : NULL, err);
    if (st == MS_OK && (st = read_headers(s, &inst_item, err)) == MS_OK)
        st = group(s, inst_item, err);
    free(inst_item);
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
        free(s->volumes[v].frames);
        free(s->volumes[v].pos);
        free(s->volumes[v].items);
        free(s->volumes[v].first);
        free(s->volumes[v].by_item);
    }
    ms_scan_destroy(s->scan);
    msi_study_forget(s);
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
    const struct msi_volume *vol;
    struct ms_drr *drr;
    bool hash, tolerant;
    pthread_mutex_t lock;       /* first error, scratch buffers */
    ms_status st;
    struct ms_error err;
    int32_t *scratch[64];       /* free buffers of rows * columns values */
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
    if (px) {
        it->kind = MSI_IMAGE;
        return hash_pixels(px, it->content_sha, err);
    }
    it->kind = MSI_OBJECT;
    if (off > size)
        return ms_error_set(err, MS_EINTERNAL, "dataset offset beyond the file");
    return ms_sha256(bytes + off, (size_t)(size - off), it->content_sha, err);
}

/* Native pixels of f: as read, or decoded from RLE / JPEG-LS. */
static ms_status native_pixels(struct ms_file *f, struct ms_pixel_info *info,
                               struct ms_error *err)
{
    ms_status st = ms_pixel_info_get(ms_file_dataset(f), info, err);
    if (st == MS_OK && info->encapsulated) {
        if (!ms_codec_supported(ms_file_transfer_syntax(f)))
            return ms_error_set(err, MS_EUNSUPPORTED, "Pixel Data in %s cannot be decoded",
                                ms_file_transfer_syntax(f)->name);
        if ((st = ms_file_transcode(f, ms_ts_explicit_le(), MS_VR_NONE, err)) == MS_OK)
            st = ms_pixel_info_get(ms_file_dataset(f), info, err);
    }
    return st;
}

/* The range of stored values Bits Stored and Pixel Representation allow
 * (what ms_pixel_frame_stored() can give): the projector then needs no scan. */
static void stored_bounds(const struct ms_pixel_info *info, int64_t *lo, int64_t *hi)
{
    unsigned b = info->bits_stored;
    *lo = INT32_MIN;
    *hi = INT32_MAX;
    if (b == 0 || b > 31)
        return;
    *lo = info->pixel_representation ? -((int64_t)1 << (b - 1)) : 0;
    *hi = info->pixel_representation ? ((int64_t)1 << (b - 1)) - 1 : ((int64_t)1 << b) - 1;
}

/* Add this item's slices of the volume to the projector. */
static ms_status add_slices(struct run *r, struct ms_file *f, size_t slot, struct ms_error *err)
{
    const struct msi_volume *v = r->vol;
    struct ms_pixel_info info;
    int32_t *buf = NULL;
    int64_t lo, hi;
    ms_status st = native_pixels(f, &info, err);

    if (st == MS_OK && (info.samples_per_pixel != 1 ||
                        (uint64_t)info.rows * info.columns != r->scratch_px))
        st = ms_error_set(err, MS_EUNSUPPORTED, "frames are not of the volume's size");
    if (st == MS_OK && !(buf = get_scratch(r)))
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    stored_bounds(&info, &lo, &hi);
    for (size_t j = v->first[slot]; st == MS_OK && j < v->first[slot + 1]; j++) {
        size_t k = v->by_item[j];
        const struct msi_vframe *fr = &v->frames[k];
        st = ms_pixel_frame_stored(&info, fr->frame, buf, err);
        if (st == MS_OK)
            st = ms_drr_add_slice_bounded(r->drr, k, buf, lo, hi, fr->slope, fr->intercept, err);
    }
    put_scratch(r, buf);
    return st;
}

/* SHA-256 of the file's bytes, which stay mapped for the content hash. */
static ms_status hash_file(struct msi_item *it, const uint8_t **bytes, uint64_t *size,
                           struct ms_error *e)
{
    ms_status st = msi_map_file_populated(it->path, bytes, size, e);
    if (st == MS_OK) {
        it->size = *size;
        st = ms_sha256(*bytes, (size_t)*size, it->file_sha, e);
    }
    return st;
}

/* The DICOM file, checked against the header pass to catch a file that
 * changed in between. */
static ms_status read_again(const struct msi_item *it, const uint8_t **bytes, uint64_t size,
                            struct ms_file **f, struct ms_error *e)
{
    char uid[MSI_UID_CAP];
    const uint8_t *mapped = *bytes;
    ms_status st;

    *bytes = NULL; /* the file's now: the bytes stay mapped as long as it lives */
    st = mapped ? msi_file_read_mapped(f, mapped, size, NULL, e) : ms_file_read(f, it->path, NULL, e);
    if (st == MS_OK &&
        (!ms_dataset_get_string(ms_file_dataset(*f), MS_TAG(0x0008, 0x0018), 0, uid, sizeof uid) ||
         strcmp(uid, it->uid) != 0))
        st = ms_error_set(e, MS_EIO, "file changed while it was read");
    return st;
}

static int cmp_file_sha(const void *a, const void *b)
{
    return memcmp((*(const struct msi_rec *const *)a)->file_sha,
                  (*(const struct msi_rec *const *)b)->file_sha, MS_SHA256_LEN);
}

ms_status msi_study_know(struct ms_study *s, const struct msi_rec *recs, size_t n,
                         struct ms_error *err)
{
    msi_study_forget(s);
    if (!n)
        return MS_OK;
    if (!(s->known = malloc(n * sizeof *s->known)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        s->known[i] = &recs[i];
    qsort(s->known, n, sizeof *s->known, cmp_file_sha);
    s->nknown = n;
    return MS_OK;
}

void msi_study_forget(struct ms_study *s)
{
    free(s->known);
    s->known = NULL;
    s->nknown = 0;
}

/* The content hash of a DICOM item from the known record with the same file
 * hash, if there is one (verify). */
static bool content_known(const struct ms_study *s, struct msi_item *it)
{
    struct msi_rec key;
    const struct msi_rec *kp = &key, **hit = NULL;
    memcpy(key.file_sha, it->file_sha, MS_SHA256_LEN);
    if (s->nknown)
        hit = bsearch(&kp, s->known, s->nknown, sizeof *s->known, cmp_file_sha);
    if (!hit || (*hit)->kind == MSI_FILE)
        return false;
    it->kind = (*hit)->kind;
    memcpy(it->content_sha, (*hit)->content_sha, MS_SHA256_LEN);
    return true;
}

/* What a slice's own content causes (values beyond the DRR's range, pixels
 * that cannot be decoded or do not fit the volume), as opposed to a failure
 * of the machine (memory, I/O), which fails the run even when tolerant. */
static bool projection_refused(ms_status st)
{
    return st == MS_ELIMIT || st == MS_EUNSUPPORTED || st == MS_EMALFORMED;
}

/* Read the file once: its hashes and, for a volume, its slices. A slice that
 * cannot be projected fails the run, or with tolerant is left out. */
static ms_status run_item(struct run *r, size_t i, struct ms_error *e)
{
    struct msi_item *it = &r->s->items[r->items[i]];
    const uint8_t *bytes = NULL;
    uint64_t size = 0;
    struct ms_file *f = NULL;
    struct ms_error de;
    ms_status st = MS_OK, ds;
    const uint8_t *raw; /* the file's bytes, mapped by bytes or then by f */
    bool hashed;

    if (r->hash && !it->hashed)
        st = hash_file(it, &bytes, &size, e);
    hashed = st == MS_OK && bytes;
    raw = bytes;
    if (st == MS_OK && it->kind != MSI_FILE)
        st = read_again(it, &bytes, size, &f, e);
    if (st == MS_OK && f && hashed && !content_known(r->s, it))
        st = hash_content(it, f, raw, size, e);
    if (st == MS_OK && hashed)
        it->hashed = true;
    msi_unmap_file(bytes, size);
    if (st == MS_OK && f && r->drr) {
        ds = add_slices(r, f, i, r->tolerant ? &de : e);
        if (ds != MS_OK && r->tolerant && projection_refused(ds))
            it->drr_status = ds;
        else if ((st = ds) != MS_OK && r->tolerant)
            *e = de;
    }
    ms_file_destroy(f);
    return st;
}

static void run_one(void *ctx, size_t i)
{
    struct run *r = ctx;
    struct ms_error e = {0};
    ms_status st;
    if (r->st != MS_OK)
        return;
    st = run_item(r, i, &e);
    if (st != MS_OK)
        fail(r, st, &e, r->s->items[r->items[i]].path);
}

ms_status msi_study_run(struct ms_study *s, const size_t *items, size_t n,
                        const struct msi_volume *vol, struct ms_drr *drr, bool hash,
                        bool tolerant, const char *label, struct ms_error *err)
{
    struct run *r = calloc(1, sizeof *r);
    ms_status st;

    if (!r)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    *r = (struct run){.s = s, .items = items, .vol = vol, .drr = vol ? drr : NULL, .hash = hash,
                      .tolerant = tolerant};
    if (vol)
        r->scratch_px = (size_t)vol->g.rows * vol->g.columns;
    for (size_t i = 0; i < n; i++) /* this run's own verdict per item */
        s->items[items[i]].drr_status = MS_OK;
    pthread_mutex_init(&r->lock, NULL);
    ms_parallel_for(n, s->threads, run_one, r, label, s->progress);
    pthread_mutex_destroy(&r->lock);
    for (size_t i = 0; i < r->nscratch; i++)
        free(r->scratch[i]);
    st = r->st;
    if (st != MS_OK && err)
        *err = r->err;
    free(r);
    return st;
}

/* ---- public: DRR of a volume ----------------------------------------------------------------- */

ms_status ms_study_drr(struct ms_study *s, size_t v, unsigned views,
                       struct ms_image *out[MS_DRR_VIEW_COUNT], struct ms_error *err)
{
    struct msi_volume *vol;
    struct ms_drr *d = NULL;
    ms_status st;

    for (int i = 0; i < MS_DRR_VIEW_COUNT; i++)
        out[i] = NULL;
    if (v >= s->nvolumes)
        return ms_error_set(err, MS_ENOTFOUND, "no volume %zu (the study has %zu)", v + 1,
                            s->nvolumes);
    vol = &s->volumes[v];
    st = ms_drr_create(&d, &vol->g, vol->pos, vol->n, views, s->threads, err);
    if (st == MS_OK)
        st = msi_study_run(s, vol->items, vol->nitems, vol, d, false, false, "projecting", err);
    for (int i = 0; st == MS_OK && i < MS_DRR_VIEW_COUNT; i++)
        if ((views >> i) & 1u)
            st = ms_drr_finish(d, (ms_drr_view)i, &out[i], err);
    if (st != MS_OK)
        for (int i = 0; i < MS_DRR_VIEW_COUNT; i++) {
            ms_image_destroy(out[i]);
            out[i] = NULL;
        }
    ms_drr_destroy(d);
    return st;
}

ms_status msi_study_hash_rest(struct ms_study *s, struct ms_error *err)
{
    size_t *rest = malloc((s->nitems + 1) * sizeof *rest), n = 0;
    ms_status st;
    if (!rest)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->nitems; i++)
        if (!s->items[i].hashed)
            rest[n++] = i;
    st = msi_study_run(s, rest, n, NULL, NULL, true, false, "hashing", err);
    free(rest);
    return st;
}
