/* Slice geometry: frames of a series are split into stacks (one orientation,
 * one temporal position), sorted by Image Position (Patient) projected on
 * the slice normal, and checked for duplicated positions, gaps, irregular
 * steps, positions off the stack axis and mixed orientations. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series/series_internal.h"

#define ORIENT_TOL 1e-3   /* direction cosines of one orientation differ by less */
#define GAP_TOL 0.1       /* a step within 10% of k nominal steps is k-1 missing slices */

enum split_key { SPLIT_NONE = -1, SPLIT_TEMPORAL = 0, SPLIT_ACQUISITION = 1 };

/* ---- vectors ---------------------------------------------------------------------------- */

static double dot(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void normal_of(const double iop[6], double n[3])
{
    n[0] = iop[1] * iop[5] - iop[2] * iop[4];
    n[1] = iop[2] * iop[3] - iop[0] * iop[5];
    n[2] = iop[0] * iop[4] - iop[1] * iop[3];
    double len = sqrt(dot(n, n));
    if (len > 0)
        for (int i = 0; i < 3; i++)
            n[i] /= len;
}

static bool same_orientation(const double a[6], const double b[6])
{
    for (int i = 0; i < 6; i++)
        if (fabs(a[i] - b[i]) > ORIENT_TOL)
            return false;
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_frame_dist(const void *a, const void *b)
{
    const struct msi_frame *x = *(struct msi_frame *const *)a;
    const struct msi_frame *y = *(struct msi_frame *const *)b;
    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    if (x->inst->order != y->inst->order)
        return x->inst->order < y->inst->order ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* ---- building stacks ------------------------------------------------------------------------ */

static int64_t key_of(const struct msi_frame *f, int key)
{
    return key == SPLIT_TEMPORAL ? f->temporal_id : f->inst->acquisition_number;
}

/* With frames sorted by dist: are any two at the same position (within the
 * same key value when key >= 0)? */
static bool has_duplicates(struct msi_frame **v, size_t n, int key)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n && v[j]->dist - v[i]->dist < MSI_GEOM_DUP_MM; j++)
            if (key < 0 || key_of(v[i], key) == key_of(v[j], key))
                return true;
    return false;
}

static bool key_varies(struct msi_frame **v, size_t n, int key)
{
    for (size_t i = 1; i < n; i++)
        if (key_of(v[i], key) != key_of(v[0], key))
            return true;
    return false;
}

/* The attribute that separates frames sharing a position, or SPLIT_NONE. */
static int choose_split(struct msi_frame **v, size_t n)
{
    if (!has_duplicates(v, n, SPLIT_NONE))
        return SPLIT_NONE;
    for (int key = SPLIT_TEMPORAL; key <= SPLIT_ACQUISITION; key++)
        if (key_varies(v, n, key) && !has_duplicates(v, n, key))
            return key;
    return SPLIT_NONE;
}

static double median_step(struct msi_frame **v, size_t n)
{
    double *steps, med = 0.0;
    size_t k = 0;
    if (n < 2 || !(steps = malloc((n - 1) * sizeof *steps)))
        return 0.0;
    for (size_t i = 1; i < n; i++)
        if (v[i]->dist - v[i - 1]->dist >= MSI_GEOM_DUP_MM)
            steps[k++] = v[i]->dist - v[i - 1]->dist;
    if (k) {
        qsort(steps, k, sizeof *steps, cmp_double);
        med = k % 2 ? steps[k / 2] : (steps[k / 2 - 1] + steps[k / 2]) / 2;
    }
    free(steps);
    return med;
}

static bool spacing_uniform(struct msi_frame **v, size_t n, double nominal)
{
    for (size_t i = 1; i < n; i++) {
        double d = v[i]->dist - v[i - 1]->dist;
        if (fabs(d - nominal) > fmax(MSI_GEOM_ABS_TOL, MSI_GEOM_REL_TOL * nominal))
            return false;
    }
    return true;
}

static ms_status add_stack(struct ms_series *se, struct msi_arena *a, struct msi_frame **v,
                           size_t n, int64_t temporal, struct ms_error *err)
{
    struct msi_stack *st = &se->stacks[se->nstacks];
    st->frames = msi_arena_alloc(a, n * sizeof *v);
    if (!st->frames)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    memcpy(st->frames, v, n * sizeof *v);
    st->n = n;
    memcpy(st->orientation, v[0]->orientation, sizeof st->orientation);
    normal_of(st->orientation, st->normal);
    st->temporal = temporal;
    st->spacing = median_step(v, n);
    st->uniform = n < 2 || (st->spacing > 0 && spacing_uniform(v, n, st->spacing));
    for (size_t i = 0; i < n; i++)
        v[i]->stack = (uint32_t)se->nstacks;
    se->nstacks++;
    return MS_OK;
}

/* Frames of one orientation (sorted): one stack, or one per key value. */
static ms_status stacks_of_orientation(struct ms_series *se, struct msi_arena *a,
                                       struct msi_frame **v, size_t n, struct msi_frame **tmp,
                                       struct ms_error *err)
{
    int key = choose_split(v, n);
    bool *taken;
    ms_status st = MS_OK;

    if (key == SPLIT_NONE)
        return add_stack(se, a, v, n, -1, err);
    if (se->split_key < 0)
        se->split_key = key;
    if (!(taken = calloc(n, sizeof *taken)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && st == MS_OK; i++) {
        size_t m = 0;
        int64_t k;
        if (taken[i])
            continue;
        k = key_of(v[i], key);
        for (size_t j = i; j < n; j++)
            if (!taken[j] && key_of(v[j], key) == k) {
                taken[j] = true;
                tmp[m++] = v[j];
            }
        st = add_stack(se, a, tmp, m, k, err);
    }
    free(taken);
    return st;
}

/* Frames with a position and an orientation, grouped by orientation (the
 * largest group first), each group sorted by dist. */
static size_t collect_frames(const struct ms_series *se, struct msi_frame **v)
{
    size_t n = 0;
    for (size_t i = 0; i < se->n; i++)
        for (size_t k = 0; k < se->inst[i]->nrec; k++) {
            struct msi_frame *f = &se->inst[i]->frames[k];
            if (f->has_position && f->has_orientation)
                v[n++] = f;
        }
    return n;
}

/* Move the frames of v[start..n) with the orientation of v[start] to the
 * front of that range; returns how many. */
static size_t partition_orientation(struct msi_frame **v, size_t start, size_t n)
{
    size_t m = start + 1;
    for (size_t i = start + 1; i < n; i++)
        if (same_orientation(v[i]->orientation, v[start]->orientation)) {
            struct msi_frame *t = v[m];
            v[m++] = v[i];
            v[i] = t;
        }
    return m - start;
}

ms_status msi_series_build_stacks(struct ms_series *se, struct msi_arena *a, struct ms_error *err)
{
    size_t total = 0, n, start = 0, groups = 0;
    struct msi_frame **v, **tmp;
    ms_status st = MS_OK;

    se->split_key = SPLIT_NONE;
    for (size_t i = 0; i < se->n; i++)
        total += se->inst[i]->nrec;
    if (total == 0)
        return MS_OK;
    v = malloc(total * sizeof *v);
    tmp = malloc(total * sizeof *tmp);
    se->stacks = msi_arena_alloc(a, total * sizeof *se->stacks);
    if (!v || !tmp || !se->stacks) {
        free(v);
        free(tmp);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    n = collect_frames(se, v);
    while (start < n && st == MS_OK) {
        size_t m = partition_orientation(v, start, n);
        double nrm[3];
        normal_of(v[start]->orientation, nrm);
        for (size_t i = start; i < start + m; i++)
            v[i]->dist = dot(v[i]->position, nrm);
        qsort(v + start, m, sizeof *v, cmp_frame_dist);
        st = stacks_of_orientation(se, a, v + start, m, tmp, err);
        start += m;
        groups++;
    }
    se->mixed_orientation = groups > 1;
    free(v);
    free(tmp);
    return st;
}

/* ---- public: stacks ----------------------------------------------------------------------- */

size_t ms_series_stack_count(const struct ms_series *se) { return se->nstacks; }

ms_status ms_series_stack_info(const struct ms_series *se, size_t k, struct ms_stack_info *out,
                               struct ms_error *err)
{
    const struct msi_stack *st;
    if (k >= se->nstacks)
        return ms_error_set(err, MS_ENOTFOUND, "stack %zu of %zu", k, se->nstacks);
    st = &se->stacks[k];
    memset(out, 0, sizeof *out);
    out->frames = st->n;
    memcpy(out->normal, st->normal, sizeof out->normal);
    memcpy(out->orientation, st->orientation, sizeof out->orientation);
    if (st->frames[0]->has_spacing)
        memcpy(out->pixel_spacing, st->frames[0]->spacing, sizeof out->pixel_spacing);
    out->slice_spacing = st->spacing;
    memcpy(out->first, st->frames[0]->position, sizeof out->first);
    memcpy(out->last, st->frames[st->n - 1]->position, sizeof out->last);
    out->temporal = st->temporal;
    out->uniform = st->uniform;
    return MS_OK;
}

/* ---- checks ---------------------------------------------------------------------------------- */

struct geo_check {
    ms_finding_fn fn;
    void *ctx;
    const struct msi_stack *st;
    char where[96]; /* " (stack 2 of 3, temporal position 4)" or "" */
};

/* "path" or "path [frame 12]" for multi-frame instances. */
static const char *frame_label(const struct msi_frame *f, char *buf, size_t cap)
{
    if (f->inst->info.frames > 1)
        snprintf(buf, cap, "%s [frame %u]", f->inst->info.path, f->index + 1);
    else
        snprintf(buf, cap, "%s", f->inst->info.path);
    return buf;
}

static void report_pair(struct geo_check *g, const char *check, const struct msi_frame *a,
                        const struct msi_frame *b, const char *what, double step, double nominal)
{
    char la[4200], lb[4200];
    msi_report(g->fn, g->ctx, MS_SEVERITY_ERROR, frame_label(b, lb, sizeof lb), check,
               MS_TAG(0x0020, 0x0032), "ImagePositionPatient", "",
               "%s between %s at %.3f mm and this slice at %.3f mm: step %.3f mm, nominal %.3f mm%s",
               what, frame_label(a, la, sizeof la), a->dist, b->dist, step, nominal, g->where);
}

static void check_duplicate(struct geo_check *g, const struct msi_frame *a, const struct msi_frame *b)
{
    char la[4200], lb[4200];
    msi_report(g->fn, g->ctx, MS_SEVERITY_ERROR, frame_label(b, lb, sizeof lb), "duplicate-position",
               MS_TAG(0x0020, 0x0032), "ImagePositionPatient", "",
               "same position (%.3f\\%.3f\\%.3f, %.3f mm along the normal) as %s%s", b->position[0],
               b->position[1], b->position[2], b->dist, frame_label(a, la, sizeof la), g->where);
}

static bool irregular(double step, double nominal)
{
    return fabs(step - nominal) > fmax(MSI_GEOM_ABS_TOL, MSI_GEOM_REL_TOL * nominal);
}

/* Step i (between frames i-1 and i); returns how many steps it accounted for. */
static size_t check_step(struct geo_check *g, size_t i)
{
    struct msi_frame *const *v = g->st->frames;
    double nominal = g->st->spacing, step = v[i]->dist - v[i - 1]->dist;
    double r = step / nominal, k = floor(r + 0.5);
    char what[96];

    if (step < MSI_GEOM_DUP_MM) {
        check_duplicate(g, v[i - 1], v[i]);
        return 1;
    }
    if (!irregular(step, nominal))
        return 1;
    if (k >= 2 && fabs(r - k) <= GAP_TOL) {
        snprintf(what, sizeof what, "%.0f missing slice%s", k - 1, k - 1 > 1 ? "s" : "");
        report_pair(g, "gap", v[i - 1], v[i], what, step, nominal);
        return 1;
    }
    if (i + 1 < g->st->n) { /* one slice off its place makes two irregular steps */
        double next = v[i + 1]->dist - v[i]->dist;
        if (irregular(next, nominal) && !irregular(step + next, 2 * nominal)) {
            char lb[4200];
            msi_report(g->fn, g->ctx, MS_SEVERITY_ERROR, frame_label(v[i], lb, sizeof lb),
                       "irregular-spacing", MS_TAG(0x0020, 0x0032), "ImagePositionPatient", "",
                       "slice at %.3f mm is %.3f mm off its place between its neighbours "
                       "(steps %.3f and %.3f mm, nominal %.3f mm)%s", v[i]->dist, step - nominal,
                       step, next, nominal, g->where);
            return 2;
        }
    }
    report_pair(g, "irregular-spacing", v[i - 1], v[i], "irregular spacing", step, nominal);
    return 1;
}

/* Offset of frame i from the stack axis through frame 0, in the slice plane. */
static void in_plane_offset(const struct msi_stack *st, size_t i, double o[3])
{
    double d[3];
    for (int k = 0; k < 3; k++)
        d[k] = st->frames[i]->position[k] - st->frames[0]->position[k];
    double along = dot(d, st->normal);
    for (int k = 0; k < 3; k++)
        o[k] = d[k] - along * st->normal[k];
}

/* Positions should lie on a line (the axis, possibly tilted): the in-plane
 * offset per mm along the normal is the median over the frames; frames
 * farther than a tolerance from that line are off the axis. */
static void check_axis(struct geo_check *g)
{
    const struct msi_stack *st = g->st;
    double *r, shear[3] = {0, 0, 0};
    size_t m = 0;

    if (st->n < 3 || !(r = malloc(st->n * sizeof *r)))
        return;
    for (int k = 0; k < 3; k++) {
        m = 0;
        for (size_t i = 1; i < st->n; i++) {
            double o[3], along = st->frames[i]->dist - st->frames[0]->dist;
            in_plane_offset(st, i, o);
            if (along > MSI_GEOM_DUP_MM)
                r[m++] = o[k] / along;
        }
        if (m) {
            qsort(r, m, sizeof *r, cmp_double);
            shear[k] = r[m / 2];
        }
    }
    free(r);
    for (size_t i = 1; i < st->n; i++) {
        double o[3], along = st->frames[i]->dist - st->frames[0]->dist, e[3];
        char lb[4200];
        in_plane_offset(st, i, o);
        for (int k = 0; k < 3; k++)
            e[k] = o[k] - shear[k] * along;
        if (sqrt(dot(e, e)) > fmax(0.05, 0.05 * st->spacing))
            msi_report(g->fn, g->ctx, MS_SEVERITY_ERROR, frame_label(st->frames[i], lb, sizeof lb),
                       "off-axis", MS_TAG(0x0020, 0x0032), "ImagePositionPatient", "",
                       "position %.3f\\%.3f\\%.3f is %.3f mm off the axis of the stack%s",
                       st->frames[i]->position[0], st->frames[i]->position[1],
                       st->frames[i]->position[2], sqrt(dot(e, e)), g->where);
    }
    if (sqrt(dot(shear, shear)) > 1e-3)
        msi_report(g->fn, g->ctx, MS_SEVERITY_INFO, st->frames[0]->inst->info.path, "sheared",
                   MS_TAG(0x0020, 0x0032), "ImagePositionPatient", "",
                   "stack is sheared (gantry tilt %.2f degrees): positions move %.4f mm in-plane "
                   "per mm along the normal%s", atan(sqrt(dot(shear, shear))) * 180.0 / M_PI,
                   sqrt(dot(shear, shear)), g->where);
}

static void check_orientation(struct geo_check *g, const struct ms_series *se, size_t k)
{
    const struct msi_stack *main = &se->stacks[0], *st = &se->stacks[k];
    char lb[4200];
    if (k == 0 || same_orientation(main->orientation, st->orientation))
        return;
    msi_report(g->fn, g->ctx, MS_SEVERITY_ERROR, frame_label(st->frames[0], lb, sizeof lb),
               "mixed-orientation", MS_TAG(0x0020, 0x0037), "ImageOrientationPatient", "",
               "%zu frame%s with orientation %.4g\\%.4g\\%.4g\\%.4g\\%.4g\\%.4g, the series' main stack "
               "(%zu frames) has %.4g\\%.4g\\%.4g\\%.4g\\%.4g\\%.4g", st->n, st->n > 1 ? "s" : "",
               st->orientation[0], st->orientation[1], st->orientation[2], st->orientation[3],
               st->orientation[4], st->orientation[5], main->n, main->orientation[0],
               main->orientation[1], main->orientation[2], main->orientation[3],
               main->orientation[4], main->orientation[5]);
}

void msi_series_check_geometry(const struct ms_series *se, ms_finding_fn fn, void *ctx)
{
    for (size_t k = 0; k < se->nstacks; k++) {
        struct geo_check g = {fn, ctx, &se->stacks[k], ""};
        if (se->nstacks > 1 && se->split_key >= 0 && se->stacks[k].temporal >= 0)
            snprintf(g.where, sizeof g.where, " (stack %zu of %zu, %s %lld)", k + 1, se->nstacks,
                     se->split_key == SPLIT_TEMPORAL ? "temporal position" : "acquisition",
                     (long long)se->stacks[k].temporal);
        else if (se->nstacks > 1)
            snprintf(g.where, sizeof g.where, " (stack %zu of %zu)", k + 1, se->nstacks);
        check_orientation(&g, se, k);
        if (g.st->n < 2)
            continue;
        if (g.st->spacing <= 0) { /* every frame at one position */
            for (size_t i = 1; i < g.st->n; i++)
                check_duplicate(&g, g.st->frames[i - 1], g.st->frames[i]);
            continue;
        }
        for (size_t i = 1; i < g.st->n;)
            i += check_step(&g, i);
        check_axis(&g);
    }
}
