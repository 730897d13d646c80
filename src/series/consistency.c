/* Dataset-level consistency of a series: the instances of one series must
 * agree on patient, study, frame of reference, modality, image size and
 * pixel spacing. The value most instances have is taken as the series'
 * value; each instance that differs is named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series/series_internal.h"

#define MAX_DISTINCT 16

typedef void (*field_text_fn)(const struct msi_instance *in, char *buf, size_t cap);

static void f_patient_id(const struct msi_instance *in, char *b, size_t n) { snprintf(b, n, "%s", in->patient_id); }
static void f_patient_name(const struct msi_instance *in, char *b, size_t n) { snprintf(b, n, "%s", in->patient_name); }
static void f_study(const struct msi_instance *in, char *b, size_t n) { snprintf(b, n, "%s", in->study_uid); }
static void f_frame_of_ref(const struct msi_instance *in, char *b, size_t n) { snprintf(b, n, "%s", in->frame_of_reference); }
static void f_modality(const struct msi_instance *in, char *b, size_t n) { snprintf(b, n, "%s", in->modality); }

static void f_size(const struct msi_instance *in, char *b, size_t n)
{
    if (in->info.rows)
        snprintf(b, n, "%ux%u", in->info.rows, in->info.columns);
    else
        b[0] = '\0';
}

static void f_spacing(const struct msi_instance *in, char *b, size_t n)
{
    if (in->nrec && in->frames[0].has_spacing)
        snprintf(b, n, "%.6g\\%.6g", in->frames[0].spacing[0], in->frames[0].spacing[1]);
    else
        b[0] = '\0';
}

struct field {
    const char *keyword;
    uint32_t tag;
    field_text_fn text;
};

static const struct field fields[] = {
    {"PatientID", MS_TAG(0x0010, 0x0020), f_patient_id},
    {"PatientName", MS_TAG(0x0010, 0x0010), f_patient_name},
    {"StudyInstanceUID", MS_TAG(0x0020, 0x000D), f_study},
    {"FrameOfReferenceUID", MS_TAG(0x0020, 0x0052), f_frame_of_ref},
    {"Modality", MS_TAG(0x0008, 0x0060), f_modality},
    {"Rows\\Columns", MS_TAG(0x0028, 0x0010), f_size},
    {"PixelSpacing", MS_TAG(0x0028, 0x0030), f_spacing},
};

struct tally {
    char value[MAX_DISTINCT][128];
    size_t count[MAX_DISTINCT];
    size_t n;
};

/* Index of the value most instances have (the first of them on ties). */
static size_t majority(const struct ms_series *se, const struct field *f, struct tally *t)
{
    char buf[128];
    size_t best = 0;
    t->n = 0;
    for (size_t i = 0; i < se->n; i++) {
        size_t k;
        f->text(se->inst[i], buf, sizeof buf);
        for (k = 0; k < t->n && strcmp(t->value[k], buf) != 0; k++)
            ;
        if (k == t->n) {
            if (t->n == MAX_DISTINCT)
                continue;
            snprintf(t->value[t->n++], sizeof t->value[0], "%s", buf);
            t->count[k] = 0;
        }
        t->count[k]++;
    }
    for (size_t k = 1; k < t->n; k++)
        if (t->count[k] > t->count[best])
            best = k;
    return best;
}

static void check_field(const struct ms_series *se, const struct field *f, ms_finding_fn fn,
                        void *ctx)
{
    struct tally *t = malloc(sizeof *t);
    char buf[128];
    size_t best;

    if (!t)
        return;
    best = majority(se, f, t);
    for (size_t i = 0; t->n > 1 && i < se->n; i++) {
        f->text(se->inst[i], buf, sizeof buf);
        if (strcmp(buf, t->value[best]) == 0)
            continue;
        msi_report(fn, ctx, MS_SEVERITY_ERROR, se->inst[i]->info.path, "series-mismatch", f->tag,
                   f->keyword, "", "%s '%s' differs from '%s' of %zu other instance%s of series %s",
                   f->keyword, buf, t->value[best], t->count[best], t->count[best] > 1 ? "s" : "",
                   se->info.series_uid);
    }
    free(t);
}

ms_status ms_series_check(const struct ms_series *se, ms_finding_fn fn, void *ctx,
                          struct ms_error *err)
{
    ms_status st = msi_report_duplicate_uids(se->inst, se->n, false, fn, ctx, err);
    if (st != MS_OK)
        return st;
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        check_field(se, &fields[i], fn, ctx);
    msi_series_check_geometry(se, fn, ctx);
    return MS_OK;
}
