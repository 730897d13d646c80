/* Internals of volumes (volume.c, volume_nifti.c). Not installed. */
#ifndef MEDSEAL_IMAGE_VOLUME_INTERNAL_H
#define MEDSEAL_IMAGE_VOLUME_INTERNAL_H

#include <stdio.h>

#include "medseal/pixel.h"
#include "medseal/volume.h"
#include "series/series_internal.h"

/** One stored frame in real units; index SIZE_MAX when the slot is empty. */
struct frame_cache {
    size_t index;
    float *data;
};

struct ms_volume {
    const struct ms_series *se;
    const struct msi_stack *st;
    size_t nx, ny, nz;          /* nz: output slices (stored ones unless resampled) */
    double row_dir[3], col_dir[3], normal[3];
    double origin[3];           /* position of the first stored frame */
    double path[3];             /* position change per mm along the normal */
    double d_first, d_last;     /* first and last stored positions along the normal */
    double dz;                  /* mm along the normal between output slices */
    bool resampled;
    char units[17];
    struct frame_cache cache[2];
    struct ms_file *file;       /* file of the last frame read, kept for multi-frame files */
    const struct msi_instance *file_inst;
    struct ms_pixel_info pinfo;
};

/** True when every value of the volume is an integer in the int16 range
 * (stored slices, integral rescale, small enough stored range). */
bool msi_volume_int16_exact(const struct ms_volume *v);

#endif
