/* Volumes: one stack of a series seen as a 3D grid in real units. Slices
 * are read from the files on demand (two stored frames are kept), and may be
 * resampled along the slice axis by linear interpolation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/volume_internal.h"
#include "medseal/codec.h"
#include "medseal/pixel.h"

#define MAX_OUTPUT_SLICES 65536u
#define MIN_STEP_MM 1e-6

/* ---- vectors ------------------------------------------------------------------------ */

static double dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static bool unit3(const double in[3], double out[3])
{
    double n = sqrt(dot3(in, in));
    if (!(n > 1e-9))
        return false;
    for (int i = 0; i < 3; i++)
        out[i] = in[i] / n;
    return true;
}

/* ---- opening ------------------------------------------------------------------------- */

static ms_status check_frames(const struct msi_stack *st, struct ms_error *err)
{
    const struct msi_frame *f0 = st->frames[0];
    for (size_t i = 0; i < st->n; i++) {
        const struct msi_frame *f = st->frames[i];
        const struct msi_instance *in = f->inst;
        if (in->samples_per_pixel != 1)
            return ms_error_set(err, MS_EUNSUPPORTED, "%s: %u samples per pixel (a volume needs 1)",
                                in->info.path, in->samples_per_pixel);
        if (in->info.rows != f0->inst->info.rows || in->info.columns != f0->inst->info.columns)
            return ms_error_set(err, MS_EUNSUPPORTED, "%s: %ux%u pixels, the stack has %ux%u",
                                in->info.path, in->info.columns, in->info.rows,
                                f0->inst->info.columns, f0->inst->info.rows);
        if (!f->has_spacing || !(f->spacing[0] > 0) || !(f->spacing[1] > 0))
            return ms_error_set(err, MS_EMALFORMED, "%s: no usable Pixel Spacing", in->info.path);
        if (fabs(f->spacing[0] - f0->spacing[0]) > 1e-4 || fabs(f->spacing[1] - f0->spacing[1]) > 1e-4)
            return ms_error_set(err, MS_EUNSUPPORTED, "%s: pixel spacing %g\\%g, the stack has %g\\%g",
                                in->info.path, f->spacing[0], f->spacing[1], f0->spacing[0],
                                f0->spacing[1]);
    }
    return MS_OK;
}

static void set_units(struct ms_volume *v)
{
    const struct msi_instance *in = v->st->frames[0]->inst;
    if (in->rescale_type[0])
        snprintf(v->units, sizeof v->units, "%s", in->rescale_type);
    else if (strcmp(in->modality, "CT") == 0)
        snprintf(v->units, sizeof v->units, "HU");
    else
        v->units[0] = '\0';
}

/* Directions and the stored slice step (first to last position, per slice:
 * follows a gantry tilt exactly). */
static ms_status set_axes(struct ms_volume *v, struct ms_error *err)
{
    const struct msi_stack *st = v->st;
    const struct msi_frame *first = st->frames[0], *last = st->frames[st->n - 1];

    if (!unit3(first->orientation, v->row_dir) || !unit3(first->orientation + 3, v->col_dir) ||
        fabs(dot3(v->row_dir, v->col_dir)) > 1e-3)
        return ms_error_set(err, MS_EMALFORMED, "%s: degenerate Image Orientation (Patient)",
                            first->inst->info.path);
    memcpy(v->normal, st->normal, sizeof v->normal);
    memcpy(v->origin, first->position, sizeof v->origin);
    v->d_first = first->dist;
    v->d_last = last->dist;
    if (st->n > 1 && v->d_last - v->d_first > MIN_STEP_MM) {
        for (int i = 0; i < 3; i++)
            v->path[i] = (last->position[i] - first->position[i]) / (v->d_last - v->d_first);
    } else {
        memcpy(v->path, v->normal, sizeof v->path);
    }
    v->dz = st->n > 1 ? (v->d_last - v->d_first) / (double)(st->n - 1) : first->thickness;
    if (!(v->dz > 0))
        v->dz = 1.0;
    v->nz = st->n;
    return MS_OK;
}

ms_status ms_volume_open(struct ms_volume **out, const struct ms_series *se, size_t stack,
                         struct ms_error *err)
{
    struct ms_volume *v;
    ms_status st;

    *out = NULL;
    if (stack >= se->nstacks)
        return ms_error_set(err, MS_ENOTFOUND, "series %s has %zu stack%s, no stack %zu",
                            se->info.series_uid, se->nstacks, se->nstacks == 1 ? "" : "s", stack);
    if (!(v = calloc(1, sizeof *v)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    v->se = se;
    v->st = &se->stacks[stack];
    v->nx = v->st->frames[0]->inst->info.columns;
    v->ny = v->st->frames[0]->inst->info.rows;
    v->cache[0].index = v->cache[1].index = SIZE_MAX;
    if ((st = check_frames(v->st, err)) != MS_OK || (st = set_axes(v, err)) != MS_OK) {
        ms_volume_destroy(v);
        return st;
    }
    set_units(v);
    *out = v;
    return MS_OK;
}

void ms_volume_destroy(struct ms_volume *v)
{
    if (!v)
        return;
    ms_file_destroy(v->file);
    free(v->cache[0].data);
    free(v->cache[1].data);
    free(v);
}

/* ---- geometry ---------------------------------------------------------------------------- */

ms_status ms_volume_resample(struct ms_volume *v, double slice_spacing, struct ms_error *err)
{
    double dz = slice_spacing, span = v->d_last - v->d_first, n;
    const double *ps = v->st->frames[0]->spacing;

    if (!(dz >= 0) || !isfinite(dz))
        return ms_error_set(err, MS_EUSAGE, "slice spacing must be a positive number of mm");
    if (v->st->n < 2 || !(span > MIN_STEP_MM))
        return ms_error_set(err, MS_EUSAGE, "resampling needs at least 2 slices at distinct positions");
    if (dz == 0)
        dz = ps[0] < ps[1] ? ps[0] : ps[1];
    n = floor(span / dz + 1e-6) + 1;
    if (n > MAX_OUTPUT_SLICES)
        return ms_error_set(err, MS_ELIMIT, "%.0f slices of %g mm: more than %u", n, dz,
                            MAX_OUTPUT_SLICES);
    v->dz = dz;
    v->nz = (size_t)n;
    v->resampled = true;
    return MS_OK;
}

void ms_volume_get_geometry(const struct ms_volume *v, struct ms_volume_geometry *g)
{
    const double *ps = v->st->frames[0]->spacing;
    double step[3];

    memset(g, 0, sizeof *g);
    g->nx = v->nx;
    g->ny = v->ny;
    g->nz = v->nz;
    g->spacing[0] = ps[1]; /* columns are PixelSpacing[1] apart */
    g->spacing[1] = ps[0];
    g->spacing[2] = v->dz;
    for (int i = 0; i < 3; i++)
        step[i] = v->path[i] * v->dz;
    memcpy(g->row_dir, v->row_dir, sizeof g->row_dir);
    memcpy(g->col_dir, v->col_dir, sizeof g->col_dir);
    if (!unit3(step, g->slice_dir))
        memcpy(g->slice_dir, v->normal, sizeof g->slice_dir);
    for (int r = 0; r < 3; r++) {
        g->affine[r][0] = v->row_dir[r] * g->spacing[0];
        g->affine[r][1] = v->col_dir[r] * g->spacing[1];
        g->affine[r][2] = step[r];
        g->affine[r][3] = v->origin[r];
    }
    g->affine[3][3] = 1.0;
    g->resampled = v->resampled;
    memcpy(g->units, v->units, sizeof g->units);
}

/* ---- reading ---------------------------------------------------------------------------- */

/* Decode compressed Pixel Data in place (codecs of medseal/codec.h). */
static ms_status decompress(struct ms_file *file, struct ms_pixel_info *info, struct ms_error *err)
{
    ms_status st;
    if (!ms_codec_supported(ms_file_transfer_syntax(file)))
        return ms_error_set(err, MS_EUNSUPPORTED, "compressed Pixel Data (%s) is not supported",
                            ms_file_transfer_syntax(file)->name);
    st = ms_file_transcode(file, ms_ts_explicit_le(), MS_VR_NONE, err);
    if (st == MS_OK)
        st = ms_pixel_info_get(ms_file_dataset(file), info, err);
    return st;
}

/* Map the file of frame f (kept open for the next frames of the same file). */
static ms_status open_file(struct ms_volume *v, const struct msi_frame *f, struct ms_error *err)
{
    struct ms_file *file = NULL;
    ms_status st;

    if (v->file && v->file_inst == f->inst)
        return MS_OK;
    ms_file_destroy(v->file);
    v->file = NULL;
    v->file_inst = NULL;
    if ((st = ms_file_read(&file, f->inst->info.path, NULL, err)) != MS_OK) {
        ms_error_prefix(err, "%s", f->inst->info.path);
        return st;
    }
    st = ms_pixel_info_get(ms_file_dataset(file), &v->pinfo, err);
    if (st == MS_OK && v->pinfo.encapsulated) /* RLE, JPEG-LS: decode the file's frames */
        st = decompress(file, &v->pinfo, err);
    if (st == MS_OK && (v->pinfo.rows != v->ny || v->pinfo.columns != v->nx ||
                        v->pinfo.samples_per_pixel != 1 || f->index >= v->pinfo.frames))
        st = ms_error_set(err, MS_EMALFORMED, "pixel data differs from the scan");
    if (st != MS_OK) {
        ms_error_prefix(err, "%s", f->inst->info.path);
        ms_file_destroy(file);
        return st;
    }
    v->file = file;
    v->file_inst = f->inst;
    return MS_OK;
}

/* Cache slot to load a frame into: an empty one, else not the one holding
 * keep, else the lower frame (reads go forward). */
static int victim(const struct ms_volume *v, size_t keep)
{
    for (int k = 0; k < 2; k++)
        if (v->cache[k].index == SIZE_MAX)
            return k;
    if (v->cache[0].index == keep)
        return 1;
    if (v->cache[1].index == keep)
        return 0;
    return v->cache[0].index < v->cache[1].index ? 0 : 1;
}

/* Stored frame i of the stack in real units, through the two-frame cache;
 * the slot holding frame keep is not reused. */
static ms_status stored_frame(struct ms_volume *v, size_t i, size_t keep, const float **out,
                              struct ms_error *err)
{
    const struct msi_frame *f = v->st->frames[i];
    struct ms_pixel_info info;
    struct frame_cache *c;
    ms_status st;

    for (int k = 0; k < 2; k++)
        if (v->cache[k].index == i) {
            *out = v->cache[k].data;
            return MS_OK;
        }
    c = &v->cache[victim(v, keep)];
    if (!c->data && !(c->data = malloc(v->nx * v->ny * sizeof *c->data)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if ((st = open_file(v, f, err)) != MS_OK)
        return st;
    info = v->pinfo;
    info.rescale_slope = f->slope; /* per-frame values of enhanced images */
    info.rescale_intercept = f->intercept;
    c->index = SIZE_MAX;
    if ((st = ms_pixel_frame_real(&info, f->index, c->data, err)) != MS_OK) {
        ms_error_prefix(err, "%s", f->inst->info.path);
        return st;
    }
    c->index = i;
    *out = c->data;
    return MS_OK;
}

/* Index of the last stored frame at or before distance d (frames sorted). */
static size_t frame_before(const struct msi_stack *st, double d)
{
    size_t lo = 0, hi = st->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->frames[mid]->dist <= d)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static ms_status interpolated_slice(struct ms_volume *v, size_t k, float *out, struct ms_error *err)
{
    double d = v->d_first + (double)k * v->dz, gap, w;
    size_t i = frame_before(v->st, d), n = v->nx * v->ny;
    const float *a, *b;
    ms_status st;

    if (i + 1 >= v->st->n)
        i = v->st->n - 2;
    gap = v->st->frames[i + 1]->dist - v->st->frames[i]->dist;
    w = gap > MIN_STEP_MM ? (d - v->st->frames[i]->dist) / gap : 0.0;
    w = w < 0 ? 0 : w > 1 ? 1 : w;
    if ((st = stored_frame(v, i, SIZE_MAX, &a, err)) != MS_OK)
        return st;
    if (w == 0) {
        memcpy(out, a, n * sizeof *out);
        return MS_OK;
    }
    if ((st = stored_frame(v, i + 1, i, &b, err)) != MS_OK)
        return st;
    for (size_t p = 0; p < n; p++)
        out[p] = (float)((1.0 - w) * a[p] + w * b[p]);
    return MS_OK;
}

ms_status ms_volume_read_slice(struct ms_volume *v, size_t k, float *out, struct ms_error *err)
{
    const float *a;
    ms_status st;

    if (k >= v->nz)
        return ms_error_set(err, MS_EUSAGE, "slice %zu of %zu", k, v->nz);
    if (v->resampled)
        return interpolated_slice(v, k, out, err);
    if ((st = stored_frame(v, k, SIZE_MAX, &a, err)) != MS_OK)
        return st;
    memcpy(out, a, v->nx * v->ny * sizeof *out);
    return MS_OK;
}

ms_status ms_volume_read_all(struct ms_volume *v, float **out, struct ms_error *err)
{
    uint64_t n;
    float *data;

    *out = NULL;
    if (!msi_mul_u64(v->nx, v->ny, &n) || !msi_mul_u64(n, v->nz, &n) ||
        !msi_mul_u64(n, sizeof(float), &n) || n > SIZE_MAX)
        return ms_error_set(err, MS_ELIMIT, "volume of %zux%zux%zu does not fit in memory", v->nx,
                            v->ny, v->nz);
    if (!(data = malloc((size_t)n)))
        return ms_error_set(err, MS_ENOMEM, "out of memory for %llu bytes", (unsigned long long)n);
    for (size_t k = 0; k < v->nz; k++) {
        ms_status st = ms_volume_read_slice(v, k, data + k * v->nx * v->ny, err);
        if (st != MS_OK) {
            free(data);
            return st;
        }
    }
    *out = data;
    return MS_OK;
}

/* ---- value range (for the NIfTI data type) ------------------------------------------------- */

bool msi_volume_int16_exact(const struct ms_volume *v)
{
    if (v->resampled)
        return false;
    for (size_t i = 0; i < v->st->n; i++) {
        const struct msi_frame *f = v->st->frames[i];
        const struct msi_instance *in = f->inst;
        unsigned bits = in->bits_stored ? in->bits_stored : in->bits_allocated;
        double lo = in->pixel_representation ? -ldexp(1.0, (int)bits - 1) : 0.0;
        double hi = in->pixel_representation ? ldexp(1.0, (int)bits - 1) - 1 : ldexp(1.0, (int)bits) - 1;
        double a = lo * f->slope + f->intercept, b = hi * f->slope + f->intercept;
        if (bits == 0 || bits > 32 || f->slope != floor(f->slope) || f->intercept != floor(f->intercept))
            return false;
        if (fmin(a, b) < -32768.0 || fmax(a, b) > 32767.0)
            return false;
    }
    return true;
}
