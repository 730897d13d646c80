/* Internals shared by the files of src/image/. Not installed. */
#ifndef MEDSEAL_IMAGE_INTERNAL_H
#define MEDSEAL_IMAGE_INTERNAL_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "medseal/image.h"

/** Sample i (linear index into data) as a double. */
static inline double msi_sample(const struct ms_image *img, uint64_t i)
{
    if (img->type == MS_SAMPLE_F32)
        return (double)((const float *)img->data)[i];
    return (double)((const int32_t *)img->data)[i];
}

/** Size in bytes of one sample of type t (both types are 4 bytes). */
static inline uint64_t msi_sample_size(ms_sample_type t)
{
    return t == MS_SAMPLE_F32 ? sizeof(float) : sizeof(int32_t);
}

/** ms_image_check() of a and b, then the same width, height and channels.
 * MS_EUSAGE naming what differs. */
ms_status msi_image_check_pair(const struct ms_image *a, const struct ms_image *b,
                               struct ms_error *err);

/** MS_EUSAGE unless img has the grid's width and height. */
ms_status msi_grid_check_image(const struct ms_grid *g, const struct ms_image *img,
                               struct ms_error *err);
/** msi_grid_check_image(), then the rectangle of block into r
 * (ms_grid_block_rect()). */
ms_status msi_grid_block_of(const struct ms_grid *g, const struct ms_image *img, uint32_t block,
                            struct ms_rect *r, struct ms_error *err);

/** MS_EUSAGE unless range is usable. */
ms_status msi_hist_range_check(const struct ms_hist_range *range, struct ms_error *err);

/** The histogram of rectangle r of img (inside it) into counts, which must
 * hold range->bins + 2 entries (below, bins, above). Errors: MS_EUSAGE (bad
 * range, wrong ncounts). */
ms_status msi_hist_count(const struct ms_image *img, const struct ms_rect *r,
                         const struct ms_hist_range *range, uint64_t *counts, size_t ncounts,
                         struct ms_error *err);

#endif
