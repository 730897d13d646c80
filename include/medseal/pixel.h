/* medseal — native (uncompressed) pixel data access and the modality LUT.
 *
 * Pixel values are read straight from the element's value (the file
 * mapping): no copy of Pixel Data is made. */
#ifndef MEDSEAL_PIXEL_H
#define MEDSEAL_PIXEL_H

#include <stdbool.h>
#include <stdint.h>

#include "medseal/dicom.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Image Pixel module attributes of a dataset. */
struct ms_pixel_info {
    uint32_t rows;
    uint32_t columns;
    uint32_t frames;            /* Number of Frames, 1 when absent */
    uint16_t samples_per_pixel;
    uint16_t bits_allocated;    /* 1, 8, 16, 32 */
    uint16_t bits_stored;
    uint16_t high_bit;
    uint16_t pixel_representation; /* 0 unsigned, 1 two's complement */
    uint16_t planar_configuration;  /* 0 interleaved, 1 planar */
    double rescale_slope;       /* 1 when absent */
    double rescale_intercept;   /* 0 when absent */
    char photometric[17];
    uint64_t frame_bytes;       /* bytes of one native frame */
    const uint8_t *data;        /* native Pixel Data value, borrowed (NULL if encapsulated) */
    uint64_t data_len;
    bool encapsulated;
};

/** Fill info from ds. Errors: MS_ENOTFOUND (no Pixel Data), MS_EMALFORMED
 * (inconsistent attributes, or native Pixel Data shorter than declared),
 * MS_EUNSUPPORTED (bits allocated not 1/8/16/32). For encapsulated Pixel Data
 * data is NULL and encapsulated is true. */
MS_NODISCARD ms_status ms_pixel_info_get(const struct ms_dataset *ds, struct ms_pixel_info *info,
                                         struct ms_error *err);

/** Stored value of sample s (0..samples-1) of pixel (r, c) in frame f, sign
 * extended and masked to BitsStored. No bounds check beyond the asserts of
 * the caller: use ms_pixel_info_get() first. */
int32_t ms_pixel_stored_value(const struct ms_pixel_info *info, uint32_t frame, uint32_t row,
                              uint32_t col, uint32_t sample);

/** Frame f of a single-sample image as real values (slope * stored +
 * intercept), e.g. Hounsfield units, into out[rows*columns]. */
MS_NODISCARD ms_status ms_pixel_frame_real(const struct ms_pixel_info *info, uint32_t frame,
                                           float *out, struct ms_error *err);

/** Frame f of a single-sample image as stored values into out[rows*columns]. */
MS_NODISCARD ms_status ms_pixel_frame_stored(const struct ms_pixel_info *info, uint32_t frame,
                                             int32_t *out, struct ms_error *err);

/** One frame of encapsulated Pixel Data: a run of fragments, numbered from
 * 1 (fragment 0 is the Basic Offset Table). */
struct ms_encap_frame {
    uint32_t first_fragment;
    uint32_t fragment_count;
};

/** Split encapsulated Pixel Data into nframes frames (PS3.5 A.4) using the
 * Extended Offset Table (7FE0,0001) when present, else the Basic Offset
 * Table, else one fragment per frame when the counts agree, else (one frame)
 * all fragments. frames[] has nframes entries, filled on success.
 * Errors: MS_ENOTFOUND (no encapsulated Pixel Data), MS_EMALFORMED (an offset
 * that does not start a fragment, offsets out of order, counts that cannot
 * be reconciled). */
MS_NODISCARD ms_status ms_encap_frames(const struct ms_dataset *ds, struct ms_encap_frame *frames,
                                       uint32_t nframes, struct ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
