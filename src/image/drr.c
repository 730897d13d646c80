/* Streaming DRR projection (seed 000, step 2): the mean of HU along rays
 * through the isotropic volume, one slice at a time.
 *
 * Volume axes: u = column index (direction IOP[0..2], spacing Pixel Spacing[1]),
 * v = row index (IOP[3..5], Pixel Spacing[0]), w = the normal (slices, by
 * position). The isotropic grid has the smaller pixel spacing as voxel size;
 * every axis is resampled onto it by linear interpolation. Since the mean
 * along one axis commutes with interpolation along the others:
 *   - a ray along w (the slice normal) needs sum_k W_k * slice_k, W_k being
 *     the total interpolation weight of slice k over the w samples;
 *   - a ray along u or v needs, per slice, the weighted sum over that axis
 *     (a profile), interpolated along w at the end.
 * Weights are fixed point (1/65536) and HU are 1/256 fixed point, summed in
 * int64: the sums are exact, so the DRR does not depend on the order in which
 * slices arrive nor on the number of threads. The last steps (division,
 * in-plane resampling of the sums, rounding) run once, serially. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "medseal/seal.h"
#include "medseal/util.h"
#include "internal.h"

#define WONE 65536          /* weight 1.0 in fixed point */
#define QONE 256            /* 1 HU in fixed point */
#define POS_EPS 1e-6        /* mm: tolerance on positions at the ends of the grid */
#define MAX_ISO_SAMPLES 16384u
#define MAX_W_SAMPLES 65536u
#define MAX_HU 32767.0

enum { AX_U = 0, AX_V = 1, AX_W = 2 };

/* How one view maps volume axes to the image. */
struct plan {
    int ray;           /* axis the rays run along */
    int hax, vax;      /* volume axis of image x and image y */
    bool hflip, vflip; /* index runs against the image direction */
};

/* Linear interpolation at one sample: weight WONE - f on i, f on i + 1. */
struct lerp {
    int32_t i;
    int32_t f;
};

/* Scratch and the ray-along-w accumulator of one concurrent caller. */
struct slot {
    pthread_mutex_t lock;
    int32_t *q;         /* slice converted to fixed-point HU (non-integral LUT only) */
    int64_t *acc;       /* rows * columns, NULL unless a view has rays along w */
    int64_t constant;   /* part of every acc value kept apart (integral LUT offsets) */
};

struct ms_drr {
    struct ms_drr_geometry g;
    double iso;
    uint32_t n[3];            /* native sizes along u, v, w */
    uint32_t m[3];            /* isotropic sample counts along u, v, w */
    struct lerp *lu, *lv;     /* m[AX_U], m[AX_V] in-plane samples */
    struct lerp *lw;          /* m[AX_W] samples along w; i = -1 for air */
    int64_t *wu, *wv;         /* total weight of each native column / row */
    int64_t *wslice;          /* total weight of each slice along w */
    int64_t air_weight;       /* total weight of the air samples along w */
    bool wu_uniform, wv_uniform;
    size_t nslices;
    unsigned views;
    struct plan plan[MS_DRR_VIEW_COUNT];
    int64_t *prof_u;          /* nslices x columns: sums over v (rays along v) */
    int64_t *prof_v;          /* nslices x rows: sums over u (rays along u) */
    atomic_uchar *added;
    struct slot *slots;
    unsigned nslots;
};

/* ---- views ------------------------------------------------------------------------ */

/* Per view: the patient axis of the rays, of image x and of image y (0 = X
 * right-to-left, 1 = Y anterior-to-posterior, 2 = Z inferior-to-superior),
 * and whether image y runs against the patient axis (superior at the top). */
static const struct {
    const char *name, *alias;
    int ray, hpat, vpat;
    bool vdown;
} view_table[MS_DRR_VIEW_COUNT] = {
    {"ap", "coronal", 1, 0, 2, true},
    {"lr", "sagittal", 0, 1, 2, true},
    {"si", "axial", 2, 0, 1, false},
};

const char *ms_drr_view_name(ms_drr_view view)
{
    return (unsigned)view < MS_DRR_VIEW_COUNT ? view_table[view].name : "?";
}

bool ms_drr_view_parse(const char *text, ms_drr_view *view)
{
    for (unsigned i = 0; text && i < MS_DRR_VIEW_COUNT; i++)
        if (!strcasecmp(text, view_table[i].name) || !strcasecmp(text, view_table[i].alias)) {
            *view = (ms_drr_view)i;
            return true;
        }
    return false;
}

/* Direction of each volume axis: u, v and their cross product w. */
static bool axis_dirs(const double iop[6], double dir[3][3])
{
    double nr = 0, nc = 0, nn = 0;
    for (int i = 0; i < 3; i++) {
        dir[AX_U][i] = iop[i];
        dir[AX_V][i] = iop[3 + i];
        nr += iop[i] * iop[i];
        nc += iop[3 + i] * iop[3 + i];
    }
    dir[AX_W][0] = iop[1] * iop[5] - iop[2] * iop[4];
    dir[AX_W][1] = iop[2] * iop[3] - iop[0] * iop[5];
    dir[AX_W][2] = iop[0] * iop[4] - iop[1] * iop[3];
    for (int i = 0; i < 3; i++)
        nn += dir[AX_W][i] * dir[AX_W][i];
    return isfinite(nr + nc + nn) && nr > 0.25 && nc > 0.25 && nn > 0.25 * nr * nc;
}

/* Patient axis each volume axis runs closest to, and its sign. */
static bool axis_map(const double dir[3][3], int pat[3], bool neg[3])
{
    bool used[3] = {false, false, false};
    for (int a = 0; a < 3; a++) {
        int best = 0;
        for (int p = 1; p < 3; p++)
            if (fabs(dir[a][p]) > fabs(dir[a][best]))
                best = p;
        if (used[best])
            return false;
        used[best] = true;
        pat[a] = best;
        neg[a] = dir[a][best] < 0;
    }
    return true;
}

static ms_status make_plans(const double iop[6], struct plan plans[MS_DRR_VIEW_COUNT],
                            struct ms_error *err)
{
    double dir[3][3];
    int pat[3], vol_of[3];
    bool neg[3];

    if (!axis_dirs(iop, dir))
        return ms_error_set(err, MS_EUSAGE, "image orientation is not two unit vectors");
    if (!axis_map(dir, pat, neg))
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "oblique orientation: rows, columns and normal do not follow three "
                            "distinct patient axes");
    for (int a = 0; a < 3; a++)
        vol_of[pat[a]] = a;
    for (int i = 0; i < MS_DRR_VIEW_COUNT; i++) {
        struct plan *p = &plans[i];
        p->ray = vol_of[view_table[i].ray];
        p->hax = vol_of[view_table[i].hpat];
        p->vax = vol_of[view_table[i].vpat];
        p->hflip = neg[p->hax];
        p->vflip = neg[p->vax] != view_table[i].vdown;
    }
    return MS_OK;
}

/* ---- geometry ------------------------------------------------------------------------ */

static ms_status check_geometry(const struct ms_drr_geometry *g, struct ms_error *err)
{
    if (!g || g->rows < 1 || g->columns < 1)
        return ms_error_set(err, MS_EUSAGE, "DRR geometry: empty slices");
    if (g->rows > MS_DRR_MAX_SIDE || g->columns > MS_DRR_MAX_SIDE)
        return ms_error_set(err, MS_ELIMIT, "DRR geometry: slices of %ux%u exceed %u",
                            g->columns, g->rows, MS_DRR_MAX_SIDE);
    if (!(g->row_spacing > 0) || !(g->column_spacing > 0) || !isfinite(g->row_spacing) ||
        !isfinite(g->column_spacing) || g->row_spacing > 1e4 || g->column_spacing > 1e4)
        return ms_error_set(err, MS_EUSAGE, "DRR geometry: bad pixel spacing");
    if (!isfinite(g->z0) || !isfinite(g->extent) || g->extent < 0 || g->extent > 1e7)
        return ms_error_set(err, MS_EUSAGE, "DRR geometry: bad slice range");
    return MS_OK;
}

/* Isotropic samples along an axis of n native samples spaced d apart. */
static uint64_t iso_count(uint32_t n, double d, double iso)
{
    return (uint64_t)floor((double)(n - 1) * d / iso + 1e-6) + 1;
}

static ms_status grid_sizes(const struct ms_drr_geometry *g, double *iso, uint32_t m[3],
                            struct ms_error *err)
{
    uint64_t mu, mv, mw;
    *iso = fmin(g->row_spacing, g->column_spacing);
    mu = iso_count(g->columns, g->column_spacing, *iso);
    mv = iso_count(g->rows, g->row_spacing, *iso);
    mw = (uint64_t)floor(g->extent / *iso + 1e-6) + 1;
    if (mu > MAX_ISO_SAMPLES || mv > MAX_ISO_SAMPLES || mw > MAX_W_SAMPLES)
        return ms_error_set(err, MS_ELIMIT, "DRR of %llux%llux%llu isotropic samples is too large",
                            (unsigned long long)mu, (unsigned long long)mv,
                            (unsigned long long)mw);
    m[AX_U] = (uint32_t)mu;
    m[AX_V] = (uint32_t)mv;
    m[AX_W] = (uint32_t)mw;
    return MS_OK;
}

ms_status ms_drr_size(const struct ms_drr_geometry *g, ms_drr_view view, uint32_t *width,
                      uint32_t *height, struct ms_error *err)
{
    struct plan plans[MS_DRR_VIEW_COUNT];
    uint32_t m[3];
    double iso;
    ms_status st;

    if ((unsigned)view >= MS_DRR_VIEW_COUNT)
        return ms_error_set(err, MS_EUSAGE, "bad DRR view");
    if ((st = check_geometry(g, err)) != MS_OK || (st = grid_sizes(g, &iso, m, err)) != MS_OK ||
        (st = make_plans(g->orientation, plans, err)) != MS_OK)
        return st;
    *width = m[plans[view].hax];
    *height = m[plans[view].vax];
    return MS_OK;
}

/* Interpolation of m isotropic samples from n native ones spaced d apart. */
static void lerp_axis(struct lerp *out, uint32_t m, uint32_t n, double d, double iso)
{
    for (uint32_t s = 0; s < m; s++) {
        double t = (double)s * iso / d;
        int64_t i = (int64_t)floor(t);
        int64_t f = llround((t - (double)i) * WONE);
        if (f >= WONE) {
            i++;
            f = 0;
        }
        if (i >= (int64_t)n - 1) {
            i = (int64_t)n - 1;
            f = 0;
        }
        out[s].i = (int32_t)i;
        out[s].f = (int32_t)f;
    }
}

/* Total weight each native sample gets over all isotropic samples. */
static void lerp_totals(const struct lerp *l, uint32_t m, int64_t *tot, size_t n)
{
    memset(tot, 0, n * sizeof *tot);
    for (uint32_t s = 0; s < m; s++) {
        if (l[s].i < 0)
            continue;
        tot[l[s].i] += WONE - l[s].f;
        if (l[s].f)
            tot[l[s].i + 1] += l[s].f;
    }
}

/* True when every native sample of the axis has the same total weight (no
 * resampling along it, or an integral ratio): sums need no multiply. */
static bool uniform(const int64_t *w, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (w[i] != w[0])
            return false;
    return true;
}

/* Largest k with pos[k] <= t (pos ascending, pos[0] <= t). */
static size_t last_at_or_below(const double *pos, size_t n, double t)
{
    size_t lo = 0, hi = n; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (pos[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Samples along w: z0 + s * iso, between the two slices around them, or air
 * outside the slices present. */
static void lerp_slices(struct ms_drr *d, const double *pos)
{
    for (uint32_t s = 0; s < d->m[AX_W]; s++) {
        double t = d->g.z0 + (double)s * d->iso;
        struct lerp *l = &d->lw[s];
        size_t k;
        if (d->nslices == 0 || t < pos[0] - POS_EPS || t > pos[d->nslices - 1] + POS_EPS) {
            l->i = -1;
            l->f = 0;
            continue;
        }
        t = fmin(fmax(t, pos[0]), pos[d->nslices - 1]);
        k = last_at_or_below(pos, d->nslices, t);
        l->i = (int32_t)k;
        l->f = 0;
        if (k + 1 < d->nslices) {
            int64_t f = llround((t - pos[k]) / (pos[k + 1] - pos[k]) * WONE);
            l->f = (int32_t)(f > WONE ? WONE : f);
        }
    }
    lerp_totals(d->lw, d->m[AX_W], d->wslice, d->nslices);
    d->air_weight = 0;
    for (uint32_t s = 0; s < d->m[AX_W]; s++)
        if (d->lw[s].i < 0)
            d->air_weight += WONE;
}

static ms_status check_positions(const double *pos, size_t n, struct ms_error *err)
{
    if (n > MS_DRR_MAX_SLICES)
        return ms_error_set(err, MS_ELIMIT, "%zu slices exceed %u", n, MS_DRR_MAX_SLICES);
    for (size_t k = 0; k < n; k++) {
        if (!isfinite(pos[k]))
            return ms_error_set(err, MS_EUSAGE, "slice position %zu is not finite", k);
        if (k && pos[k] < pos[k - 1])
            return ms_error_set(err, MS_EUSAGE, "slice positions are not ascending at %zu", k);
    }
    return MS_OK;
}

/* ---- creation ------------------------------------------------------------------------- */

static bool wants_ray(const struct ms_drr *d, int ray)
{
    for (int v = 0; v < MS_DRR_VIEW_COUNT; v++)
        if ((d->views >> v) & 1u && d->plan[v].ray == ray)
            return true;
    return false;
}

static bool alloc_slots(struct ms_drr *d, unsigned threads)
{
    size_t px = (size_t)d->n[AX_U] * d->n[AX_V];
    d->nslots = threads ? threads : ms_cpu_count();
    if (d->nslots > 64)
        d->nslots = 64;
    d->slots = calloc(d->nslots, sizeof *d->slots);
    if (!d->slots)
        return false;
    for (unsigned i = 0; i < d->nslots; i++) {
        pthread_mutex_init(&d->slots[i].lock, NULL);
        d->slots[i].q = malloc(px * sizeof(int32_t));
        if (!d->slots[i].q)
            return false;
        if (wants_ray(d, AX_W) && !(d->slots[i].acc = calloc(px, sizeof(int64_t))))
            return false;
    }
    return true;
}

static bool alloc_tables(struct ms_drr *d)
{
    size_t n = d->nslices ? d->nslices : 1;
    d->lu = calloc(d->m[AX_U], sizeof *d->lu);
    d->lv = calloc(d->m[AX_V], sizeof *d->lv);
    d->lw = calloc(d->m[AX_W], sizeof *d->lw);
    d->wu = calloc(d->n[AX_U], sizeof *d->wu);
    d->wv = calloc(d->n[AX_V], sizeof *d->wv);
    d->wslice = calloc(n, sizeof *d->wslice);
    d->added = calloc(n, sizeof *d->added);
    if (wants_ray(d, AX_V))
        d->prof_u = calloc(n * d->n[AX_U], sizeof *d->prof_u);
    if (wants_ray(d, AX_U))
        d->prof_v = calloc(n * d->n[AX_V], sizeof *d->prof_v);
    return d->lu && d->lv && d->lw && d->wu && d->wv && d->wslice && d->added &&
           (d->prof_u || !wants_ray(d, AX_V)) && (d->prof_v || !wants_ray(d, AX_U));
}

ms_status ms_drr_create(struct ms_drr **out, const struct ms_drr_geometry *g,
                        const double *positions, size_t nslices, unsigned views,
                        unsigned threads, struct ms_error *err)
{
    struct ms_drr *d;
    ms_status st;

    *out = NULL;
    if ((views & ((1u << MS_DRR_VIEW_COUNT) - 1)) == 0 || views >> MS_DRR_VIEW_COUNT)
        return ms_error_set(err, MS_EUSAGE, "no DRR view requested");
    if ((st = check_geometry(g, err)) != MS_OK ||
        (st = check_positions(positions, nslices, err)) != MS_OK)
        return st;
    if (!(d = calloc(1, sizeof *d)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    d->g = *g;
    d->views = views;
    d->nslices = nslices;
    d->n[AX_U] = g->columns;
    d->n[AX_V] = g->rows;
    d->n[AX_W] = (uint32_t)nslices;
    if ((st = grid_sizes(g, &d->iso, d->m, err)) != MS_OK ||
        (st = make_plans(g->orientation, d->plan, err)) != MS_OK) {
        ms_drr_destroy(d);
        return st;
    }
    if (!alloc_tables(d) || !alloc_slots(d, threads)) {
        ms_drr_destroy(d);
        return ms_error_set(err, MS_ENOMEM, "out of memory for the DRR");
    }
    lerp_axis(d->lu, d->m[AX_U], d->n[AX_U], g->column_spacing, d->iso);
    lerp_axis(d->lv, d->m[AX_V], d->n[AX_V], g->row_spacing, d->iso);
    lerp_totals(d->lu, d->m[AX_U], d->wu, d->n[AX_U]);
    lerp_totals(d->lv, d->m[AX_V], d->wv, d->n[AX_V]);
    d->wu_uniform = uniform(d->wu, d->n[AX_U]);
    d->wv_uniform = uniform(d->wv, d->n[AX_V]);
    lerp_slices(d, positions);
    *out = d;
    return MS_OK;
}

void ms_drr_destroy(struct ms_drr *d)
{
    if (!d)
        return;
    for (unsigned i = 0; d->slots && i < d->nslots; i++) {
        pthread_mutex_destroy(&d->slots[i].lock);
        free(d->slots[i].q);
        free(d->slots[i].acc);
    }
    free(d->slots);
    free(d->lu);
    free(d->lv);
    free(d->lw);
    free(d->wu);
    free(d->wv);
    free(d->wslice);
    free(d->added);
    free(d->prof_u);
    free(d->prof_v);
    free(d);
}

/* ---- adding slices ----------------------------------------------------------------------- */

/* Values of one slice as scale * v[i] + offset, in fixed-point HU. */
struct qslice {
    const int32_t *v;
    int64_t scale, offset;
};

/* The modality LUT in fixed point: integral slopes and intercepts keep the
 * stored values (scale, offset); others convert every value into q. */
MSI_SIMD_CLONES
/* Whether HU = slope * v + intercept stays within +-MAX_HU for v in [lo, hi]. */
static bool hu_within(int64_t lo, int64_t hi, double slope, double intercept)
{
    return fabs(slope * (double)lo + intercept) <= MAX_HU &&
           fabs(slope * (double)hi + intercept) <= MAX_HU;
}

static ms_status to_fixed(const struct ms_drr *d, const int32_t *stored, int64_t blo, int64_t bhi,
                          double slope, double intercept, int32_t *q, struct qslice *out,
                          struct ms_error *err)
{
    size_t n = (size_t)d->n[AX_U] * d->n[AX_V];
    int32_t lo = INT32_MAX, hi = INT32_MIN;

    if (!hu_within(blo, bhi, slope, intercept)) { /* the bounds do not settle it: scan */
        for (size_t i = 0; i < n; i++) {
            lo = stored[i] < lo ? stored[i] : lo;
            hi = stored[i] > hi ? stored[i] : hi;
        }
        blo = lo;
        bhi = hi;
    }
    if (!hu_within(blo, bhi, slope, intercept))
        return ms_error_set(err, MS_ELIMIT, "slice values beyond +-32767 HU");
    if (slope == floor(slope) && intercept == floor(intercept)) {
        out->v = stored;
        out->scale = (int64_t)slope * QONE;
        out->offset = (int64_t)intercept * QONE;
        return MS_OK;
    }
    for (size_t i = 0; i < n; i++)
        q[i] = (int32_t)llround((slope * stored[i] + intercept) * QONE);
    out->v = q;
    out->scale = 1;
    out->offset = 0;
    return MS_OK;
}

/* Profile along u: sum over rows v of wv[v] * value. */
MSI_SIMD_CLONES
static void profile_u(const struct ms_drr *d, const struct qslice *s, int64_t *prof)
{
    uint32_t cols = d->n[AX_U], rows = d->n[AX_V];
    int64_t total = 0;
    memset(prof, 0, cols * sizeof *prof);
    for (uint32_t y = 0; y < rows; y++)
        total += d->wv[y];
    if (d->wv_uniform) {
        for (uint32_t y = 0; y < rows; y++) {
            const int32_t *row = s->v + (size_t)y * cols;
            for (uint32_t x = 0; x < cols; x++)
                prof[x] += row[x];
        }
        for (uint32_t x = 0; x < cols; x++)
            prof[x] *= d->wv[0];
    } else {
        for (uint32_t y = 0; y < rows; y++) {
            const int32_t *row = s->v + (size_t)y * cols;
            int64_t w = d->wv[y];
            for (uint32_t x = 0; x < cols; x++)
                prof[x] += w * row[x];
        }
    }
    for (uint32_t x = 0; x < cols; x++)
        prof[x] = prof[x] * s->scale + total * s->offset;
}

/* Profile along v: sum over columns u of wu[u] * value. */
MSI_SIMD_CLONES
static void profile_v(const struct ms_drr *d, const struct qslice *s, int64_t *prof)
{
    uint32_t cols = d->n[AX_U], rows = d->n[AX_V];
    int64_t total = 0;
    for (uint32_t x = 0; x < cols; x++)
        total += d->wu[x];
    for (uint32_t y = 0; y < rows; y++) {
        const int32_t *row = s->v + (size_t)y * cols;
        int64_t sum = 0;
        if (d->wu_uniform) {
            for (uint32_t x = 0; x < cols; x++)
                sum += row[x];
            sum *= d->wu[0];
        } else {
            for (uint32_t x = 0; x < cols; x++)
                sum += d->wu[x] * row[x];
        }
        prof[y] = sum * s->scale + total * s->offset;
    }
}

MSI_SIMD_CLONES
static void accumulate_w(const struct ms_drr *d, struct slot *sl, size_t k,
                         const struct qslice *s)
{
    size_t n = (size_t)d->n[AX_U] * d->n[AX_V];
    int64_t c = d->wslice[k] * s->scale;
    int64_t *acc = sl->acc;
    const int32_t *v = s->v;
    if (!d->wslice[k])
        return;
    for (size_t i = 0; i < n; i++)
        acc[i] += c * v[i];
    sl->constant += d->wslice[k] * s->offset;
}

/* Lock a free slot, waiting for one when all are busy. */
static struct slot *take_slot(struct ms_drr *d)
{
    for (;;) {
        for (unsigned i = 0; i < d->nslots; i++)
            if (pthread_mutex_trylock(&d->slots[i].lock) == 0)
                return &d->slots[i];
        pthread_mutex_lock(&d->slots[0].lock);
        return &d->slots[0];
    }
}

ms_status ms_drr_add_slice(struct ms_drr *d, size_t k, const int32_t *stored, double slope,
                           double intercept, struct ms_error *err)
{
    return ms_drr_add_slice_bounded(d, k, stored, INT32_MIN, INT32_MAX, slope, intercept, err);
}

ms_status ms_drr_add_slice_bounded(struct ms_drr *d, size_t k, const int32_t *stored, int64_t lo,
                                   int64_t hi, double slope, double intercept,
                                   struct ms_error *err)
{
    struct qslice qs = {NULL, 0, 0};
    struct slot *sl;
    ms_status st;

    if (k >= d->nslices || atomic_exchange(&d->added[k], 1))
        return ms_error_set(err, MS_EUSAGE, "slice %zu out of range or added twice", k);
    if (!isfinite(slope) || !isfinite(intercept) || fabs(slope) > 65536 ||
        fabs(intercept) > 1e6) {
        atomic_store(&d->added[k], 0);
        return ms_error_set(err, MS_EUSAGE, "bad rescale slope or intercept");
    }
    sl = take_slot(d);
    st = to_fixed(d, stored, lo, hi, slope, intercept, sl->q, &qs, err);
    if (st == MS_OK) {
        if (d->prof_u)
            profile_u(d, &qs, d->prof_u + k * d->n[AX_U]);
        if (d->prof_v)
            profile_v(d, &qs, d->prof_v + k * d->n[AX_V]);
        if (sl->acc)
            accumulate_w(d, sl, k, &qs);
    } else {
        atomic_store(&d->added[k], 0);
    }
    pthread_mutex_unlock(&sl->lock);
    return st;
}

/* ---- finishing ------------------------------------------------------------------------------ */

/* A 2D array of mean HU over two volume axes (a along x, b along y), each
 * either native (u, v) or already isotropic (w). */
struct plane {
    int a, b;
    uint32_t na, nb;
    double *val;
};

static double air_q(void) { return (double)MS_DRR_AIR_HU * QONE; }

/* Slices never added are air: their contribution is added at the end. */
static bool slice_added(const struct ms_drr *d, size_t k)
{
    return atomic_load(&d->added[k]) != 0;
}

/* Rays along w: sum of the slots' accumulators over the w weights. */
static ms_status plane_w(const struct ms_drr *d, struct plane *p)
{
    size_t n = (size_t)d->n[AX_U] * d->n[AX_V];
    double total = (double)d->m[AX_W] * WONE * QONE;
    int64_t missing = d->air_weight, constant = 0;

    for (size_t k = 0; k < d->nslices; k++)
        if (!slice_added(d, k))
            missing += d->wslice[k];
    for (unsigned s = 0; s < d->nslots; s++)
        constant += d->slots[s].constant;
    p->a = AX_U;
    p->b = AX_V;
    p->na = d->n[AX_U];
    p->nb = d->n[AX_V];
    if (!(p->val = malloc(n * sizeof *p->val)))
        return MS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int64_t sum = constant;
        for (unsigned s = 0; s < d->nslots; s++)
            sum += d->slots[s].acc[i];
        p->val[i] = ((double)sum + (double)missing * air_q()) / total;
    }
    return MS_OK;
}

/* Value of profile prof (stride len) at native index x, or air. */
static double prof_at(const struct ms_drr *d, const int64_t *prof, uint32_t len, int32_t k,
                      uint32_t x, double air)
{
    if (k < 0 || !slice_added(d, (size_t)k))
        return air;
    return (double)prof[(size_t)k * len + x];
}

/* Rays along u or v: the profiles interpolated along w. */
static ms_status plane_profile(const struct ms_drr *d, int ray, struct plane *p)
{
    int other = ray == AX_V ? AX_U : AX_V;
    const int64_t *prof = ray == AX_V ? d->prof_u : d->prof_v;
    const int64_t *wray = ray == AX_V ? d->wv : d->wu;
    uint32_t len = d->n[other];
    int64_t wtot = 0;
    double air, total;

    for (uint32_t i = 0; i < d->n[ray]; i++)
        wtot += wray[i];
    air = air_q() * (double)wtot;
    total = (double)wtot * WONE * QONE;
    p->a = other;
    p->b = AX_W;
    p->na = len;
    p->nb = d->m[AX_W];
    if (!(p->val = malloc((size_t)p->na * p->nb * sizeof *p->val)))
        return MS_ENOMEM;
    for (uint32_t s = 0; s < d->m[AX_W]; s++) {
        const struct lerp *l = &d->lw[s];
        double *row = p->val + (size_t)s * len;
        for (uint32_t x = 0; x < len; x++) {
            double lo = prof_at(d, prof, len, l->i, x, air);
            double hi = l->f ? prof_at(d, prof, len, l->i + 1, x, air) : 0.0;
            row[x] = ((double)(WONE - l->f) * lo + (double)l->f * hi) / total;
        }
    }
    return MS_OK;
}

/* Interpolation table of an axis of the plane (NULL for w: already isotropic). */
static const struct lerp *plane_lerp(const struct ms_drr *d, int axis)
{
    return axis == AX_U ? d->lu : axis == AX_V ? d->lv : NULL;
}

/* Sample of the plane at isotropic indices (ia, ib). */
static double plane_sample(const struct ms_drr *d, const struct plane *p, uint32_t ia,
                           uint32_t ib)
{
    const struct lerp *la = plane_lerp(d, p->a), *lb = plane_lerp(d, p->b);
    uint32_t a0 = la ? (uint32_t)la[ia].i : ia, b0 = lb ? (uint32_t)lb[ib].i : ib;
    double fa = la ? la[ia].f / (double)WONE : 0, fb = lb ? lb[ib].f / (double)WONE : 0;
    const double *r0 = p->val + (size_t)b0 * p->na;
    double top = r0[a0] * (1 - fa) + (fa > 0 ? r0[a0 + 1] * fa : 0);
    double bot;
    if (fb == 0)
        return top;
    r0 += p->na;
    bot = r0[a0] * (1 - fa) + (fa > 0 ? r0[a0 + 1] * fa : 0);
    return top * (1 - fb) + bot * fb;
}

static ms_status render(const struct ms_drr *d, const struct plan *pl, const struct plane *p,
                        struct ms_image *img)
{
    int32_t *px = img->data;
    bool swap = pl->hax != p->a; /* image x runs along the plane's b axis */
    uint32_t w = img->width, h = img->height;

    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint32_t ix = pl->hflip ? w - 1 - x : x, iy = pl->vflip ? h - 1 - y : y;
            double v = swap ? plane_sample(d, p, iy, ix) : plane_sample(d, p, ix, iy);
            px[(size_t)y * w + x] = (int32_t)llround(v);
        }
    return MS_OK;
}

ms_status ms_drr_finish(struct ms_drr *d, ms_drr_view view, struct ms_image **out,
                        struct ms_error *err)
{
    const struct plan *pl;
    struct plane p = {0};
    ms_status st;

    *out = NULL;
    if ((unsigned)view >= MS_DRR_VIEW_COUNT || !((d->views >> view) & 1u))
        return ms_error_set(err, MS_EUSAGE, "DRR view %s was not requested",
                            ms_drr_view_name(view));
    pl = &d->plan[view];
    st = pl->ray == AX_W ? plane_w(d, &p) : plane_profile(d, pl->ray, &p);
    if (st != MS_OK)
        return ms_error_set(err, st, "out of memory for the DRR");
    st = ms_image_create(out, d->m[pl->hax], d->m[pl->vax], 1, MS_SAMPLE_I32, err);
    if (st == MS_OK)
        st = render(d, pl, &p, *out);
    free(p.val);
    return st;
}
