/* Internals of src/series: the instance summary kept by a scan, series,
 * stacks, and the helpers shared by the checks. Not installed. */
#ifndef MEDSEAL_SERIES_INTERNAL_H
#define MEDSEAL_SERIES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "medseal/series.h"

/** Geometry and value transform of one frame (single-frame instances have one). */
struct msi_frame {
    struct msi_instance *inst;
    uint32_t index;            /* 0-based frame number in the instance */
    bool has_position, has_orientation, has_spacing;
    double position[3];        /* Image Position (Patient) */
    double orientation[6];     /* Image Orientation (Patient) */
    double spacing[2];         /* Pixel Spacing: row spacing, column spacing */
    double thickness;
    double slope, intercept;   /* Rescale Slope / Intercept (per frame when given) */
    int64_t temporal_id;       /* Temporal Position Identifier / Index, -1 when absent */
    double dist;               /* position projected on the stack normal */
    uint32_t stack;            /* stack this frame was put in */
};

/** Summary of one instance, made from its dataset by msi_instance_summarize(). */
struct msi_instance {
    struct ms_instance_info info;
    const char *patient_id, *patient_name, *study_uid, *study_date, *study_description;
    const char *series_uid, *series_description, *modality, *frame_of_reference;
    const char *rescale_type;
    int64_t series_number;
    int64_t acquisition_number; /* -1 when absent */
    uint16_t bits_allocated, bits_stored, pixel_representation, samples_per_pixel;
    struct msi_frame *frames;   /* nrec records: one per frame whose geometry the data gives */
    size_t nrec;
    size_t order;               /* position in the scan, for stable sorting */
    const struct ms_series *series; /* set by grouping */
};

/** A 3D stack of a series: frames sorted by dist. */
struct msi_stack {
    struct msi_frame **frames;
    size_t n;
    double normal[3];
    double orientation[6];
    int64_t temporal;          /* key value of the split, -1 when not split */
    double spacing;            /* median step */
    bool uniform;
};

struct ms_series {
    struct ms_series_info info;
    struct msi_instance **inst; /* in instance-number order after grouping */
    size_t n, cap;
    struct msi_stack *stacks;
    size_t nstacks;
    int split_key;              /* which attribute separated stacks, -1 none */
    bool mixed_orientation;
};

struct ms_scan {
    struct msi_arena *arena;    /* instance summaries, strings, series, stacks */
    struct ms_scan_options opt;
    struct msi_instance **inst; /* in the order read */
    size_t n, cap;
    size_t skipped;
    struct ms_series **series;  /* after grouping, Patient > Study > Series order */
    size_t nseries;
    bool grouped;
};

/** Copy of a string into an arena, "" for NULL. NULL when out of memory. */
const char *msi_strdup(struct msi_arena *a, const char *s);

/** Fill an instance summary from a dataset; strings go to the arena.
 * Errors: MS_ENOMEM. */
ms_status msi_instance_summarize(struct msi_instance *in, struct msi_arena *a, const char *path,
                                 const struct ms_dataset *ds, struct ms_error *err);

/** Split the frames of a series into stacks and sort them (geometry.c).
 * Errors: MS_ENOMEM. */
ms_status msi_series_build_stacks(struct ms_series *se, struct msi_arena *a,
                                  struct ms_error *err);

/** Report instances whose SOP Instance UID another one of v has; with
 * other_series_only, only pairs from different series (group.c). */
ms_status msi_report_duplicate_uids(struct msi_instance *const *v, size_t n,
                                    bool other_series_only, ms_finding_fn fn, void *ctx,
                                    struct ms_error *err);

/** Geometry findings of one series (geometry.c). */
void msi_series_check_geometry(const struct ms_series *se, ms_finding_fn fn, void *ctx);

/** The attribute path of a finding ("Seq[2]>Keyword"), MSI_PATH_TEXT bytes. */
#define MSI_PATH_TEXT 512
/** Append the keyword of tag (or "(gggg,eeee)"), followed by "[item]>" when
 * item is not 0, to path; returns its old length, to cut it back there. */
size_t msi_path_push(char path[MSI_PATH_TEXT], uint32_t tag, size_t item);

/** Report one finding built from its parts. */
void msi_report(ms_finding_fn fn, void *ctx, ms_severity sev, const char *instance,
                const char *check, uint32_t tag, const char *attribute, const char *module,
                const char *fmt, ...) MS_PRINTF(9, 10);

/** Value checks of every element of a dataset against the dictionary and the
 * syntax of its VR (values.c); path_prefix is "" at top level. */
struct msi_vctx {
    ms_finding_fn fn;
    void *ctx;
    const char *label;
};
void msi_check_values(const struct ms_dataset *ds, const struct msi_vctx *v);

/** True when text is a valid UID (PS3.5 9.1). */
bool msi_uid_valid(const char *text, const char **why);

/** Distance tolerances of the geometry checks (mm). */
#define MSI_GEOM_DUP_MM 0.01
#define MSI_GEOM_REL_TOL 0.01   /* relative spacing deviation tolerated */
#define MSI_GEOM_ABS_TOL 0.01   /* absolute deviation tolerated, mm */
#define MSI_ORIENT_TOL 1e-4     /* direction cosines compared with this */

#endif
