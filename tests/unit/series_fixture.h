/* Test fixtures for the series, validation and volume tests: temporary
 * copies of the bundled CT series, edited copies of single slices, and a
 * collector of findings. Header-only (static functions): include it once. */
#ifndef MEDSEAL_SERIES_FIXTURE_H
#define MEDSEAL_SERIES_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "medseal/dicom.h"
#include "medseal/series.h"
#include "testutil.h"

#define FX_SLICES 108

/* Copy slices first..last (1-based, inclusive) into dir as CTnnnn.dcm. */
static inline void fx_copy_slices(const char *dir, int first, int last)
{
    char to[4200];
    for (int i = first; i <= last; i++) {
        snprintf(to, sizeof to, "%s/CT%04d.dcm", dir, i);
        tu_copy_file(tu_ct(i), to);
    }
}

typedef void (*fx_edit_fn)(struct ms_dataset *ds, void *ctx);

/* Read slice i, apply edit to its dataset, write it to dir/name. */
static inline void fx_edit_slice(const char *dir, const char *name, int i, fx_edit_fn edit, void *ctx)
{
    struct ms_file *f = NULL;
    struct ms_error err = {0};
    char to[4200];
    snprintf(to, sizeof to, "%s/%s", dir, name);
    if (ms_file_read(&f, tu_ct(i), NULL, &err) != MS_OK) {
        fprintf(stderr, "%s: %s\n", tu_ct(i), err.msg);
        exit(1);
    }
    edit(ms_file_dataset(f), ctx);
    if (ms_file_write(f, to, NULL, &err) != MS_OK) {
        fprintf(stderr, "%s: %s\n", to, err.msg);
        exit(1);
    }
    ms_file_destroy(f);
}

/* Set a string attribute (ctx: "gggg,eeee|VR|value"). */
static inline void fx_set_string(struct ms_dataset *ds, uint32_t tag, ms_vr vr, const char *value)
{
    struct ms_error err;
    if (ms_dataset_set_string(ds, tag, vr, value, &err) != MS_OK) {
        fprintf(stderr, "set: %s\n", err.msg);
        exit(1);
    }
}

/* ---- findings -------------------------------------------------------------------------- */

#define FX_MAX_FINDINGS 512

struct fx_finding {
    ms_severity severity;
    char check[32];
    char instance[256];
    uint32_t tag;
    char message[256];
};

struct fx_findings {
    struct fx_finding f[FX_MAX_FINDINGS];
    size_t n, errors;
};

static inline void fx_collect(void *ctx, const struct ms_finding *f)
{
    struct fx_findings *c = ctx;
    const char *base = strrchr(f->instance, '/');
    if (f->severity == MS_SEVERITY_ERROR)
        c->errors++;
    if (c->n == FX_MAX_FINDINGS)
        return;
    c->f[c->n].severity = f->severity;
    snprintf(c->f[c->n].check, sizeof c->f[0].check, "%s", f->check);
    snprintf(c->f[c->n].instance, sizeof c->f[0].instance, "%s", base ? base + 1 : f->instance);
    snprintf(c->f[c->n].message, sizeof c->f[0].message, "%s", f->message);
    c->f[c->n].tag = f->tag;
    c->n++;
}

/* Number of findings of this check (any tag when tag is 0, any instance when NULL). */
static inline size_t fx_count(const struct fx_findings *c, const char *check, uint32_t tag,
                       const char *instance)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->f[i].check, check) == 0 && (!tag || c->f[i].tag == tag) &&
            (!instance || strcmp(c->f[i].instance, instance) == 0))
            n++;
    return n;
}

static inline void fx_dump(const struct fx_findings *c)
{
    for (size_t i = 0; i < c->n; i++)
        fprintf(stderr, "  %s %s %s (%08X) %s\n", ms_severity_name(c->f[i].severity),
                c->f[i].instance, c->f[i].check, (unsigned)c->f[i].tag, c->f[i].message);
}

/* Scan dir (stop before pixels) and run the scan-level checks. *scan is
 * kept for the caller (destroy it). */
static inline void fx_scan_check(const char *dir, struct ms_scan **scan, struct fx_findings *c)
{
    struct ms_error err = {0};
    memset(c, 0, sizeof *c);
    *scan = NULL;
    CHECK_INT(ms_scan_create(scan, NULL, &err), MS_OK);
    if (!*scan)
        return;
    CHECK_INT(ms_scan_add(*scan, dir, &err), MS_OK);
    CHECK_INT(ms_scan_check(*scan, fx_collect, c, &err), MS_OK);
}

#endif
