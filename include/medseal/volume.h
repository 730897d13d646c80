/* medseal — 3D volumes from a series: values in real units (Hounsfield
 * units for CT), frames sorted by their position along the slice normal,
 * spacing and orientation in patient coordinates (DICOM LPS, mm), linear
 * resampling along the slice axis to isotropic voxels, NIfTI-1 output.
 *
 * A volume is a view of one stack of a series (see ms_series_stack_count):
 * slices are read from the files when asked for, so that the memory used is
 * a few slices whatever the size of the series. ms_volume_read_all() gives
 * the whole volume in memory for callers that want it.
 *
 * Voxel (i, j, k): i along a row (column index, first direction cosine of
 * Image Orientation (Patient)), j down the columns (row index), k along the
 * stack. Data are stored i fastest, then j, then k.
 *
 * Thread safety: a volume must not be used from two threads at once. */
#ifndef MEDSEAL_VOLUME_H
#define MEDSEAL_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "medseal/error.h"
#include "medseal/series.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ms_volume;

/** Geometry of a volume as it will be read (after ms_volume_resample()). */
struct ms_volume_geometry {
    size_t nx, ny, nz;          /* columns, rows, slices */
    double spacing[3];          /* mm between voxel centres along i, j, k */
    double affine[4][4];        /* voxel (i, j, k, 1) -> patient LPS mm */
    double row_dir[3], col_dir[3], slice_dir[3]; /* unit vectors of i, j, k in LPS */
    bool resampled;             /* slices are interpolated, not read as stored */
    char units[17];             /* "HU", Rescale Type, or "" (stored values) */
};

/** Open stack k of a series as a volume. The series (and its scan) must
 * outlive the volume. Every frame of the stack must have the same rows,
 * columns, pixel spacing and one sample per pixel; positions may be
 * irregular (ms_volume_resample() puts them on a regular grid).
 * Errors: MS_ENOTFOUND (no such stack), MS_EUNSUPPORTED (several samples per
 * pixel, sizes or pixel spacings that differ), MS_EMALFORMED (no pixel
 * spacing, degenerate orientation), MS_ENOMEM. On failure *out is NULL. */
MS_NODISCARD ms_status ms_volume_open(struct ms_volume **out, const struct ms_series *se,
                                      size_t stack, struct ms_error *err);

/** Free a volume. NULL is a no-op. */
void ms_volume_destroy(struct ms_volume *v);

/** Resample along the slice axis to slices slice_spacing mm apart (0:
 * isotropic, the smaller pixel spacing) by linear interpolation between the
 * two nearest stored slices, from the first stored position to the last.
 * Errors: MS_EUSAGE (negative spacing, or fewer than 2 slices),
 * MS_ELIMIT (more than 65536 output slices). */
MS_NODISCARD ms_status ms_volume_resample(struct ms_volume *v, double slice_spacing,
                                          struct ms_error *err);

/** Geometry of the volume as it is read now. */
void ms_volume_get_geometry(const struct ms_volume *v, struct ms_volume_geometry *g);

/** Slice k (0 <= k < nz) in real units into out[nx * ny]. Reads at most two
 * stored frames (kept for the next call). Errors: MS_EUSAGE (k out of
 * range), MS_EIO / MS_EMALFORMED (a file cannot be read again as it was
 * scanned), MS_EUNSUPPORTED (Pixel Data compressed with a syntax medseal
 * cannot decode: RLE and JPEG-LS are decoded), MS_ENOMEM. */
MS_NODISCARD ms_status ms_volume_read_slice(struct ms_volume *v, size_t k, float *out,
                                            struct ms_error *err);

/** The whole volume in memory: *out (nx * ny * nz floats, malloc'd, the
 * caller frees it with free()). Errors: as ms_volume_read_slice, MS_ELIMIT
 * when the size does not fit in memory arithmetic, MS_ENOMEM. */
MS_NODISCARD ms_status ms_volume_read_all(struct ms_volume *v, float **out, struct ms_error *err);

/** Data type of NIfTI voxels. */
typedef enum ms_nifti_type {
    MS_NIFTI_AUTO = 0, /* int16 when every value is an integer that fits, else float32 */
    MS_NIFTI_FLOAT32,
    MS_NIFTI_INT16
} ms_nifti_type;

/** Write the volume as a single-file NIfTI-1 (.nii) atomically, slice by
 * slice: sform and qform map voxels to scanner RAS (the LPS affine with x
 * and y negated), units mm, description names the units of the values.
 * With MS_NIFTI_INT16 values are rounded and clamped. Errors: as
 * ms_volume_read_slice, MS_EIO. No partial file is left on failure. */
MS_NODISCARD ms_status ms_volume_write_nifti(struct ms_volume *v, const char *path,
                                             ms_nifti_type type, struct ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
