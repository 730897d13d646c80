/* Grouping the instances of a scan into series, ordering them Patient >
 * Study > Series, and the series summaries. */
#include <stdlib.h>
#include <string.h>

#include "series/series_internal.h"


static int cmp_by_series_uid(const void *a, const void *b)
{
    const struct msi_instance *x = *(struct msi_instance *const *)a;
    const struct msi_instance *y = *(struct msi_instance *const *)b;
    int c = strcmp(x->series_uid, y->series_uid);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_by_instance_number(const void *a, const void *b)
{
    const struct msi_instance *x = *(struct msi_instance *const *)a;
    const struct msi_instance *y = *(struct msi_instance *const *)b;
    int c;
    if (x->info.instance_number != y->info.instance_number)
        return x->info.instance_number < y->info.instance_number ? -1 : 1;
    c = strcmp(x->info.path, y->info.path);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_series(const void *a, const void *b)
{
    const struct ms_series_info *x = &(*(struct ms_series *const *)a)->info;
    const struct ms_series_info *y = &(*(struct ms_series *const *)b)->info;
    int c;
    if ((c = strcmp(x->patient_id, y->patient_id)) != 0)
        return c;
    if ((c = strcmp(x->study_date, y->study_date)) != 0)
        return c;
    if ((c = strcmp(x->study_uid, y->study_uid)) != 0)
        return c;
    if (x->series_number != y->series_number)
        return x->series_number < y->series_number ? -1 : 1;
    return strcmp(x->series_uid, y->series_uid);
}

/* ---- summaries ------------------------------------------------------------------------ */

/* Distinct SOP Class UIDs of a series, counted up to 17 ("many"). */
static void count_sop_classes(struct ms_series *se)
{
    const char *seen[17];
    size_t distinct = 0;
    for (size_t i = 0; i < se->n && distinct < 17; i++) {
        size_t k = 0;
        while (k < distinct && strcmp(seen[k], se->inst[i]->info.sop_class_uid) != 0)
            k++;
        if (k == distinct)
            seen[distinct++] = se->inst[i]->info.sop_class_uid;
    }
    se->info.sop_classes = distinct;
}

static void summarize(struct ms_series *se)
{
    const struct msi_instance *first = se->inst[0];
    struct ms_series_info *info = &se->info;

    info->patient_id = first->patient_id;
    info->patient_name = first->patient_name;
    info->study_uid = first->study_uid;
    info->study_date = first->study_date;
    info->study_description = first->study_description;
    info->series_uid = first->series_uid;
    info->series_description = first->series_description;
    info->modality = first->modality;
    info->series_number = first->series_number;
    info->instances = se->n;
    info->rows = first->info.rows;
    info->columns = first->info.columns;
    info->sop_class_uid = first->info.sop_class_uid;
    info->frames = 0;
    for (size_t i = 0; i < se->n; i++) {
        info->frames += se->inst[i]->info.frames;
        if (se->inst[i]->info.rows != info->rows || se->inst[i]->info.columns != info->columns)
            info->mixed_sizes = true;
    }
    count_sop_classes(se);
    info->stacks = se->nstacks;
    info->slice_spacing = se->nstacks ? se->stacks[0].spacing : 0.0;
}

/* ---- grouping ------------------------------------------------------------------------------ */

static ms_status new_series(struct ms_scan *s, struct msi_instance **run, size_t n,
                            struct ms_error *err)
{
    struct ms_series *se = msi_arena_alloc(s->arena, sizeof *se);
    ms_status st;

    if (!se || !(se->inst = malloc(n * sizeof *se->inst)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    memcpy(se->inst, run, n * sizeof *run);
    se->n = se->cap = n;
    for (size_t i = 0; i < n; i++)
        run[i]->series = se;
    s->series[s->nseries++] = se;
    qsort(se->inst, n, sizeof *se->inst, cmp_by_instance_number);
    st = msi_series_build_stacks(se, s->arena, err);
    if (st == MS_OK)
        summarize(se);
    return st;
}

static void drop_series(struct ms_scan *s)
{
    for (size_t i = 0; i < s->nseries; i++)
        free(s->series[i]->inst);
    free(s->series);
    s->series = NULL;
    s->nseries = 0;
}

static ms_status group(struct ms_scan *s, struct ms_error *err)
{
    struct msi_instance **sorted;
    ms_status st = MS_OK;
    size_t start = 0;

    drop_series(s);
    if (s->n == 0) {
        s->grouped = true;
        return MS_OK;
    }
    sorted = malloc(s->n * sizeof *sorted);
    s->series = malloc(s->n * sizeof *s->series);
    if (!sorted || !s->series) {
        free(sorted);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    memcpy(sorted, s->inst, s->n * sizeof *sorted);
    qsort(sorted, s->n, sizeof *sorted, cmp_by_series_uid);
    for (size_t i = 1; i <= s->n && st == MS_OK; i++) {
        if (i == s->n || strcmp(sorted[i]->series_uid, sorted[start]->series_uid) != 0) {
            st = new_series(s, sorted + start, i - start, err);
            start = i;
        }
    }
    free(sorted);
    if (st != MS_OK)
        return st;
    qsort(s->series, s->nseries, sizeof *s->series, cmp_series);
    s->grouped = true;
    return MS_OK;
}

/* Group when needed; on failure no series are listed. */
static void ensure_grouped(struct ms_scan *s)
{
    struct ms_error err;
    if (!s->grouped && group(s, &err) != MS_OK)
        drop_series(s);
}

size_t ms_scan_series_count(struct ms_scan *s)
{
    ensure_grouped(s);
    return s->nseries;
}

const struct ms_series *ms_scan_series(struct ms_scan *s, size_t i)
{
    ensure_grouped(s);
    return i < s->nseries ? s->series[i] : NULL;
}

const struct ms_series_info *ms_series_get_info(const struct ms_series *se) { return &se->info; }
size_t ms_series_instance_count(const struct ms_series *se) { return se->n; }

const struct ms_instance_info *ms_series_instance(const struct ms_series *se, size_t i)
{
    return i < se->n ? &se->inst[i]->info : NULL;
}

/* ---- scan-wide check: duplicate SOP Instance UIDs ------------------------------------------- */

static int cmp_by_sop_uid(const void *a, const void *b)
{
    const struct msi_instance *x = *(struct msi_instance *const *)a;
    const struct msi_instance *y = *(struct msi_instance *const *)b;
    int c = strcmp(x->info.sop_instance_uid, y->info.sop_instance_uid);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

ms_status msi_report_duplicate_uids(struct msi_instance *const *in, size_t n,
                                    bool other_series_only, ms_finding_fn fn, void *ctx,
                                    struct ms_error *err)
{
    struct msi_instance **v;
    if (n < 2)
        return MS_OK;
    if (!(v = malloc(n * sizeof *v)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    memcpy(v, in, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_by_sop_uid);
    for (size_t i = 1; i < n; i++) {
        const struct msi_instance *a = v[i - 1], *b = v[i];
        if (!b->info.sop_instance_uid[0] || strcmp(a->info.sop_instance_uid, b->info.sop_instance_uid))
            continue;
        if (other_series_only && a->series == b->series)
            continue;
        msi_report(fn, ctx, MS_SEVERITY_ERROR, b->info.path, "duplicate-uid", MS_TAG(0x0008, 0x0018),
                   "SOPInstanceUID", "", "SOP Instance UID %s is also the UID of %s%s",
                   b->info.sop_instance_uid, a->info.path,
                   a->series == b->series ? "" : " (another series)");
    }
    free(v);
    return MS_OK;
}

ms_status ms_scan_check(struct ms_scan *s, ms_finding_fn fn, void *ctx, struct ms_error *err)
{
    ms_status st;

    if (!s->grouped && (st = group(s, err)) != MS_OK)
        return st;
    st = msi_report_duplicate_uids(s->inst, s->n, true, fn, ctx, err);
    for (size_t i = 0; st == MS_OK && i < s->nseries; i++)
        st = ms_series_check(s->series[i], fn, ctx, err);
    return st;
}
