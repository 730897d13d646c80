/* medseal — instances grouped into Patient > Study > Series, IOD validation
 * (PS3.3 module tables), dataset-level consistency and slice geometry.
 *
 * A scan walks files and directories, reads each DICOM file (by default
 * without its Pixel Data), keeps a small summary per instance (UIDs, sizes,
 * geometry of every frame) and releases the file at once: the memory used is
 * that summary, about 1 KiB per instance, whatever the size of the images.
 *
 * Checks report findings through a callback, one finding at a time; nothing
 * is accumulated. Findings are facts about the data, not failures of the
 * call: a call that found errors still returns MS_OK.
 *
 * Thread safety: distinct objects may be used from distinct threads. */
#ifndef MEDSEAL_SERIES_H
#define MEDSEAL_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "medseal/dicom.h"
#include "medseal/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- findings ------------------------------------------------------------- */

typedef enum ms_severity { MS_SEVERITY_INFO, MS_SEVERITY_WARNING, MS_SEVERITY_ERROR } ms_severity;

/** One finding. Every string is borrowed for the duration of the callback
 * and never NULL ("" when not applicable). */
struct ms_finding {
    ms_severity severity;
    const char *instance;  /* file path (or label) of the instance concerned */
    const char *check;     /* stable name of the check, see docs/validate.md */
    uint32_t tag;          /* attribute concerned (innermost for nested ones), 0 if none */
    const char *attribute; /* keyword path, e.g. "ReferencedImageSequence[1]>ReferencedSOPInstanceUID" */
    const char *module;    /* PS3.3 module or macro whose table requires the attribute */
    const char *message;   /* one line of English */
};

/** Receives findings; may be called many times per call of a check. */
typedef void (*ms_finding_fn)(void *ctx, const struct ms_finding *f);

/** "info", "warning" or "error". Static string. */
const char *ms_severity_name(ms_severity s);

/* ---- validation of one instance ---------------------------------------------- */

/** Validate one file against its IOD (chosen by SOP Class UID) with the PS3.3
 * module tables generated at build time: Type 1 (present, not empty), Type 2
 * (present), Type 1C/2C whose condition is one of the compiled forms, values
 * of sequences' items, functional groups of multi-frame IODs, enumerated
 * values; then every element against the data dictionary (VR, VM) and the
 * value syntax of its VR (UIDs, dates, numbers, lengths); then the File Meta
 * Information against the dataset. label names the instance in findings
 * (usually the path). Read the file with Pixel Data (not stop_before_pixels)
 * or Pixel Data is reported missing.
 * Returns MS_OK (findings go to fn) or MS_ENOMEM. f is not modified. */
MS_NODISCARD ms_status ms_file_validate(struct ms_file *f, const char *label, ms_finding_fn fn,
                                        void *ctx, struct ms_error *err);

/** Name of the IOD the SOP Class UID maps to ("CT Image"), NULL when the
 * generated tables have none. Static string. */
const char *ms_iod_name(const char *sop_class_uid);

/* ---- scans: instances grouped into series ---------------------------------------- */

struct ms_scan;
struct ms_series;

/** Called for each path that is skipped with a one-line note. why is
 * MS_ENOTFOUND for files that are not DICOM (no DICM prefix and no plausible
 * first element), otherwise the reader's status (MS_EMALFORMED, MS_EIO, ...). */
typedef void (*ms_scan_note_fn)(void *ctx, const char *path, ms_status why, const char *note);
/** Called with each DICOM file read by the scan, before it is released. f is
 * borrowed for the duration of the call. A status other than MS_OK stops the scan. */
typedef ms_status (*ms_scan_file_fn)(void *ctx, const char *path, struct ms_file *f);

/** Options of a scan; a zeroed struct (or NULL) gives the defaults. */
struct ms_scan_options {
    bool read_pixels;       /* read whole files (for on_file); default: stop before Pixel Data */
    ms_scan_file_fn on_file;
    void *file_ctx;
    ms_scan_note_fn note;   /* may be NULL */
    void *note_ctx;
    ms_warn_fn warn;        /* reader warnings; ctx is the path being read */
    unsigned max_depth;     /* directory nesting limit; 0 = 64 */
};

/** New empty scan; *out owns everything added to it. Errors: MS_ENOMEM. */
MS_NODISCARD ms_status ms_scan_create(struct ms_scan **out, const struct ms_scan_options *opt,
                                      struct ms_error *err);
/** Free a scan and every series and instance it holds. NULL is a no-op. */
void ms_scan_destroy(struct ms_scan *s);

/** Add a file, or every file under a directory (recursively, in name order,
 * symbolic links to directories not followed). Files that are not DICOM are
 * skipped with a note. Errors: MS_EIO when path itself cannot be read,
 * MS_ENOMEM, or the status returned by on_file. */
MS_NODISCARD ms_status ms_scan_add(struct ms_scan *s, const char *path, struct ms_error *err);

/** Number of DICOM instances read and of paths skipped. */
size_t ms_scan_instance_count(const struct ms_scan *s);
size_t ms_scan_skipped_count(const struct ms_scan *s);

/** Series found so far, ordered by patient, study and series (Patient ID,
 * Study Date, Study Instance UID, Series Number, Series Instance UID). The
 * order is computed on the first call after ms_scan_add(). Borrowed. */
size_t ms_scan_series_count(struct ms_scan *s);
const struct ms_series *ms_scan_series(struct ms_scan *s, size_t i);

/** Dataset-level checks of the whole scan: SOP Instance UIDs used in two
 * series, then
 * ms_series_check() for every series. Returns MS_OK or MS_ENOMEM. */
MS_NODISCARD ms_status ms_scan_check(struct ms_scan *s, ms_finding_fn fn, void *ctx,
                                     struct ms_error *err);

/* ---- series ----------------------------------------------------------------------- */

/** Identification and summary of a series. Strings are borrowed from the
 * scan and never NULL ("" when absent). */
struct ms_series_info {
    const char *patient_id;
    const char *patient_name;  /* as stored, not decoded */
    const char *study_uid;
    const char *study_date;
    const char *study_description;
    const char *series_uid;
    const char *series_description;
    const char *modality;
    int64_t series_number;     /* -1 when absent */
    size_t instances;
    size_t frames;             /* sum of Number of Frames */
    uint32_t rows, columns;    /* of the first instance */
    bool mixed_sizes;          /* instances of different rows x columns */
    size_t sop_classes;        /* distinct SOP Class UIDs */
    const char *sop_class_uid; /* the first one */
    size_t stacks;             /* 3D volumes the series separates into (see ms_series_stack_count) */
    double slice_spacing;      /* median spacing of the first stack, 0 when unknown */
};

/** Summary of a series (computed by the scan). Borrowed. */
const struct ms_series_info *ms_series_get_info(const struct ms_series *se);

/** One instance of a series. Strings borrowed, never NULL. */
struct ms_instance_info {
    const char *path;
    const char *sop_class_uid;
    const char *sop_instance_uid;
    int64_t instance_number;   /* -1 when absent */
    uint32_t rows, columns, frames;
};

size_t ms_series_instance_count(const struct ms_series *se);
/** Instance i in the order of Instance Number (then path). Borrowed. */
const struct ms_instance_info *ms_series_instance(const struct ms_series *se, size_t i);

/** Number of stacks: sets of parallel frames that make one 3D volume. A
 * series splits into several when its frames have several orientations or
 * several temporal positions (Temporal Position Identifier, Temporal Position
 * Index or Acquisition Number, whichever separates frames that would
 * otherwise share a position). 0 when no frame has a position. */
size_t ms_series_stack_count(const struct ms_series *se);

/** Geometry of one stack, frames sorted by their Image Position (Patient)
 * projected on the slice normal. */
struct ms_stack_info {
    size_t frames;
    double normal[3];          /* row direction x column direction */
    double orientation[6];     /* Image Orientation (Patient) */
    double pixel_spacing[2];   /* row spacing, column spacing (mm) */
    double slice_spacing;      /* median distance between consecutive positions */
    double first[3], last[3];  /* positions of the first and last frame */
    int64_t temporal;          /* temporal position (or acquisition) of this stack, -1 if none */
    bool uniform;              /* spacing regular: no gap, duplicate or irregular step */
};

/** Geometry of stack k. Errors: MS_ENOTFOUND when k is out of range. */
MS_NODISCARD ms_status ms_series_stack_info(const struct ms_series *se, size_t k,
                                            struct ms_stack_info *out, struct ms_error *err);

/** Dataset-level checks of one series: duplicate SOP Instance UIDs,
 * instances that disagree on patient,
 * study, frame of reference, modality, rows/columns, pixel spacing; then for
 * every stack the slice geometry: duplicated positions, gaps (missing
 * slices), irregular spacing, positions off the stack axis, and mixed
 * orientations, naming the instances and positions. Returns MS_OK or MS_ENOMEM. */
MS_NODISCARD ms_status ms_series_check(const struct ms_series *se, ms_finding_fn fn, void *ctx,
                                       struct ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
