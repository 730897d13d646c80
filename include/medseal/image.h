/* medseal — 2D images, PNG files, block grids in zig-zag order, histograms
 * and image metrics (seed 000's DRR blocks, histograms and RMSE; seeds 002
 * and 003's PSNR, SSIM, NPCR, UACI, correlation and entropy).
 *
 * An image is a plain descriptor (struct ms_image): width x height pixels of
 * 1 (grey) or 3 (RGB) channels, samples either float or int32, stored
 * row-major with the channels of one pixel next to each other
 * (data[(y * width + x) * channels + c]). The descriptor is public so that a
 * caller can describe memory it already holds (a DRR, a decoded frame) with
 * ms_image_view() and hand it to any function here without a copy. Images
 * made by this library (ms_image_create(), ms_png_read(), ...) own their
 * samples and are freed with ms_image_destroy(); a view is never destroyed
 * and the library never keeps or frees an image it is given.
 *
 * Metrics compare every sample of every channel; the two images must have
 * the same width, height and channels (sample types may differ: samples are
 * compared as double). NaN samples propagate into MSE, PSNR, SSIM, UACI and
 * correlation, count as "changed" for NPCR, and fall in the "above" bin of
 * histograms.
 *
 * Memory: every function allocates at most its output plus O(width) scratch,
 * except PNG decoding (one raw copy of the decoded image) and entropy and
 * block histogram differences (the histogram bins).
 *
 * Thread safety: all functions are reentrant; an image written by one thread
 * must not be read by another at the same time. */
#ifndef MEDSEAL_IMAGE_H
#define MEDSEAL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "medseal/dicom.h"
#include "medseal/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- images ----------------------------------------------------------------- */

/** Largest width or height accepted anywhere (the PNG and DICOM limit). */
#define MS_IMAGE_MAX_SIDE 65535u
/** Largest width * height * channels accepted (1 GiB of float samples). */
#define MS_IMAGE_MAX_SAMPLES (UINT64_C(1) << 28)

/** Type of the samples of an image. */
typedef enum ms_sample_type {
    MS_SAMPLE_F32 = 0, /* float */
    MS_SAMPLE_I32 = 1  /* int32_t */
} ms_sample_type;

/** An image or a view of caller memory; see the top of this file. */
struct ms_image {
    uint32_t width;
    uint32_t height;
    uint32_t channels;   /* 1 grey, 3 RGB */
    ms_sample_type type;
    void *data;          /* width * height * channels samples of type */
};

/** New zeroed image. *out is owned by the caller (ms_image_destroy()).
 * Errors: MS_EUSAGE (zero size, channels not 1 or 3, bad type), MS_ELIMIT
 * (a side above MS_IMAGE_MAX_SIDE or more than MS_IMAGE_MAX_SAMPLES samples),
 * MS_ENOMEM. On failure *out is NULL. */
MS_NODISCARD ms_status ms_image_create(struct ms_image **out, uint32_t width, uint32_t height,
                                       uint32_t channels, ms_sample_type type,
                                       struct ms_error *err);

/** Free an image made by this library. NULL is a no-op. Never call it on a
 * view. */
void ms_image_destroy(struct ms_image *img);

/** A view of caller memory: data is borrowed and must hold width * height *
 * channels samples of type for as long as the view is used. Functions that
 * only read an image never write through a view. Check it with
 * ms_image_check() if its fields come from untrusted input. */
struct ms_image ms_image_view(uint32_t width, uint32_t height, uint32_t channels,
                              ms_sample_type type, const void *data);

/** MS_OK when img describes a usable image (non-NULL data, sizes and
 * channels as for ms_image_create()); MS_EUSAGE or MS_ELIMIT otherwise. */
MS_NODISCARD ms_status ms_image_check(const struct ms_image *img, struct ms_error *err);

/** width * height * channels. */
uint64_t ms_image_samples(const struct ms_image *img);

/** Sample c of pixel (x, y) as a double. No bounds check: the caller keeps
 * x < width, y < height, c < channels. */
double ms_image_get(const struct ms_image *img, uint32_t x, uint32_t y, uint32_t c);

/** Set sample c of pixel (x, y). Into an int32 image the value is rounded to
 * the nearest integer (halves away from zero) and saturated; NaN becomes 0.
 * No bounds check. */
void ms_image_set(struct ms_image *img, uint32_t x, uint32_t y, uint32_t c, double v);

/* ---- rendering: window and heat map ---------------------------------------------- */

/** 8-bit grey rendering of a single-channel image through a linear window
 * (DICOM PS3.3 C.11.2.1.2.1, "LINEAR"): x <= c - 0.5 - (w - 1) / 2 gives 0,
 * x > c - 0.5 + (w - 1) / 2 gives 255, otherwise
 * round(((x - (c - 0.5)) / (w - 1) + 0.5) * 255). NaN gives 0. Example: CT
 * C=-200 W=1500 as seed 000 figure 3. *out is a new int32 grey image of
 * values 0..255 owned by the caller. Errors: MS_EUSAGE (width < 1, non-finite
 * center or width, more than one channel, bad image), MS_ENOMEM. */
MS_NODISCARD ms_status ms_image_window(struct ms_image **out, const struct ms_image *in,
                                       double center, double width, struct ms_error *err);

/** How ms_image_heatmap() turns two images into a difference. */
typedef enum ms_heat_mode {
    MS_HEAT_SIGNED = 0, /* d = b - a: blue below zero, white at zero, red above */
    MS_HEAT_ABS = 1     /* d = |b - a|: white at zero to dark red */
} ms_heat_mode;

/** Colour of t on the diverging map: t = -1 dark blue, -0.5 light blue,
 * 0 white, 0.5 orange-red, 1 dark red, linear in between, t clamped to
 * [-1, 1]; NaN is black. rgb receives 3 bytes. */
void ms_heatmap_color(double t, uint8_t rgb[3]);

/** RGB heat map of the difference of two single-channel images of the same
 * size: pixel colour is ms_heatmap_color(d / scale). scale <= 0 means the
 * largest |d| of the images (all white when they are equal). *out is a new
 * int32 RGB image of values 0..255 owned by the caller. Errors: MS_EUSAGE
 * (sizes differ, more than one channel, non-finite scale, bad mode),
 * MS_ENOMEM. */
MS_NODISCARD ms_status ms_image_heatmap(struct ms_image **out, const struct ms_image *a,
                                        const struct ms_image *b, ms_heat_mode mode,
                                        double scale, struct ms_error *err);

/* ---- PNG ------------------------------------------------------------------------ */

/** How samples become PNG samples: v = round(sample + offset) (halves up),
 * which must lie in 0 .. 2^bit_depth - 1 unless clamp is set (then it is
 * clamped and NaN becomes 0). A grey image gives a grey PNG, an RGB image an
 * RGB PNG, never interlaced. Examples: 8-bit of ms_image_window() output
 * {8, 0, false}; 16-bit raw CT {16, 1024, false} (HU + 1024). */
struct ms_png_write_options {
    unsigned bit_depth; /* 8 or 16; 0 means 8 */
    double offset;
    bool clamp;
};

/** Encode img as PNG into sink (called with successive pieces). opt NULL
 * means {8, 0, false}. Every sample is checked before the first byte goes
 * out, so a range error writes nothing. Errors: MS_EUSAGE (bad image or
 * options, a sample out of range without clamp: the message names the
 * pixel), MS_EIO (the sink failed), MS_ENOMEM, MS_EINTERNAL (libpng). */
MS_NODISCARD ms_status ms_png_encode(const struct ms_image *img,
                                     const struct ms_png_write_options *opt, ms_sink_fn sink,
                                     void *ctx, struct ms_error *err);

/** Write img to path as PNG (see ms_png_encode()), atomically: a temporary
 * file next to path is renamed over it only when complete; on any error
 * path is untouched. Errors: those of ms_png_encode() and MS_EIO. */
MS_NODISCARD ms_status ms_png_write(const char *path, const struct ms_image *img,
                                    const struct ms_png_write_options *opt,
                                    struct ms_error *err);

/** Decode a PNG held in memory: 8- or 16-bit grey or RGB, interlaced or not,
 * into a new int32 image (1 or 3 channels) of the stored values (0..255 or
 * 0..65535), owned by the caller. *bit_depth (if not NULL) receives 8 or 16.
 * The whole stream up to IEND is checked (CRCs, zlib, lengths). Errors:
 * MS_EMALFORMED (not a PNG, damaged or truncated, more image data declared
 * than the stream could hold), MS_EUNSUPPORTED (palette, alpha, bit depths
 * below 8), MS_ELIMIT (beyond MS_IMAGE_MAX_SIDE / MS_IMAGE_MAX_SAMPLES),
 * MS_ENOMEM. On failure *out is NULL. */
MS_NODISCARD ms_status ms_png_decode(struct ms_image **out, const uint8_t *data, size_t len,
                                     unsigned *bit_depth, struct ms_error *err);

/** ms_png_decode() of the file at path. Errors: those of ms_png_decode() and
 * MS_EIO (cannot open or map). */
MS_NODISCARD ms_status ms_png_read(struct ms_image **out, const char *path,
                                   unsigned *bit_depth, struct ms_error *err);

/* ---- block grid and zig-zag order -------------------------------------------------- */

/** Largest number of blocks per side. */
#define MS_GRID_MAX_N 256u

/** An n x n grid of blocks over a width x height image (seed 000: n = 4, 16
 * blocks, or n = 8, 64 blocks). Blocks are numbered row-major from 0 (block
 * k is block row k / n, block column k % n; the paper's 1-based "block k+1").
 * Every block is block_width x block_height pixels (floor(width / n) x
 * floor(height / n)) except that the last block column also takes the
 * width % n remainder columns and the last block row the height % n
 * remainder rows, so that every pixel lies in exactly one block. */
struct ms_grid {
    uint32_t width;
    uint32_t height;
    uint32_t n;
    uint32_t block_width;
    uint32_t block_height;
};

/** A rectangle of pixels: columns x .. x + width - 1, rows y .. y + height - 1. */
struct ms_rect {
    uint32_t x;
    uint32_t y;
    uint32_t width;
    uint32_t height;
};

/** Fill g for an image of width x height and n blocks per side. Errors:
 * MS_EUSAGE (n = 0, n > MS_GRID_MAX_N, width or height below n or above
 * MS_IMAGE_MAX_SIDE). */
MS_NODISCARD ms_status ms_grid_init(struct ms_grid *g, uint32_t width, uint32_t height,
                                    uint32_t n, struct ms_error *err);

/** Number of blocks, n * n. */
uint32_t ms_grid_blocks(const struct ms_grid *g);

/** Rectangle of block (0 .. n*n - 1). Errors: MS_EUSAGE (block out of range). */
MS_NODISCARD ms_status ms_grid_block_rect(const struct ms_grid *g, uint32_t block,
                                          struct ms_rect *r, struct ms_error *err);

/** Zig-zag traversal of an n x n grid as in JPEG and seed 000: order[i] is
 * the row-major block number visited i-th. Anti-diagonals are walked in
 * turn, the first going right (0, 1, n, 2n, n+1, 2, ...); for n = 4 in the
 * paper's 1-based numbers: 1 2 5 9 6 3 4 7 10 13 14 11 8 12 15 16. count
 * must be n * n. Errors: MS_EUSAGE (n = 0, n > MS_GRID_MAX_N, count wrong). */
MS_NODISCARD ms_status ms_grid_zigzag(uint32_t n, uint32_t *order, size_t count,
                                      struct ms_error *err);

/** Copy of block `block` of img as a new image (same type and channels, size
 * of the block's rectangle): the block's samples row by row, top to bottom,
 * left to right, channels interleaved. *out is owned by the caller. Errors:
 * MS_EUSAGE (img does not match the grid's size, block out of range),
 * MS_ENOMEM. */
MS_NODISCARD ms_status ms_grid_block_extract(const struct ms_grid *g, const struct ms_image *img,
                                             uint32_t block, struct ms_image **out,
                                             struct ms_error *err);

/** Copy blk back into block `block` of img (inverse of
 * ms_grid_block_extract()). blk must have the block's size and img's type
 * and channels. Errors: MS_EUSAGE. img is unchanged on failure. */
MS_NODISCARD ms_status ms_grid_block_insert(const struct ms_grid *g, struct ms_image *img,
                                            uint32_t block, const struct ms_image *blk,
                                            struct ms_error *err);

/* ---- histograms and entropy ---------------------------------------------------------- */

/** Largest number of histogram bins. */
#define MS_HIST_MAX_BINS (1u << 20)

/** bins equal bins over [lo, hi): sample v falls in bin
 * floor((v - lo) * bins / (hi - lo)). Samples below lo are counted apart as
 * "below", samples >= hi and NaN as "above". Integer values lo..hi inclusive,
 * one bin each: {lo, hi + 1, hi - lo + 1}. */
struct ms_hist_range {
    double lo;
    double hi;
    uint32_t bins;
};

/** Seed 000's range: Hounsfield units -1024 .. 3072, one bin per unit. */
#define MS_HIST_RANGE_HU ((struct ms_hist_range){-1024.0, 3073.0, 4097u})
/** 8-bit samples 0 .. 255, one bin per value. */
#define MS_HIST_RANGE_U8 ((struct ms_hist_range){0.0, 256.0, 256u})

/** Histogram of all samples (all channels) of img: counts[0 .. bins-1] the
 * bins, counts[bins] the samples below lo, counts[bins+1] those above. ncounts
 * must be bins + 2. Errors: MS_EUSAGE (bad image or range: bins 0 or above
 * MS_HIST_MAX_BINS, lo >= hi, non-finite bounds; ncounts wrong). */
MS_NODISCARD ms_status ms_image_histogram(const struct ms_image *img,
                                          const struct ms_hist_range *range, uint64_t *counts,
                                          size_t ncounts, struct ms_error *err);

/** Sum over i < n of |a[i] - b[i]|: seed 000's histogram difference
 * ("~hist"). With ms_image_histogram() counts it includes the below and
 * above counts, so moving a value out of range is seen. Saturates at
 * UINT64_MAX. */
uint64_t ms_histogram_difference(const uint64_t *a, const uint64_t *b, size_t n);

/** Shannon entropy in bits per sample of a histogram, -sum p log2 p over the
 * non-zero counts; 0 for an empty histogram. */
double ms_histogram_entropy(const uint64_t *counts, size_t n);

/** Entropy of img's samples over range (ms_image_histogram(), below and
 * above counting as two more symbols). 8 for an image holding each 8-bit
 * value equally often with MS_HIST_RANGE_U8. Errors: those of
 * ms_image_histogram() and MS_ENOMEM. */
MS_NODISCARD ms_status ms_image_entropy(const struct ms_image *img,
                                        const struct ms_hist_range *range, double *bits,
                                        struct ms_error *err);

/* ---- metrics between two images -------------------------------------------------------- */

/** Mean squared error over all samples, (1 / N) sum (a - b)^2, and its root.
 * Errors: MS_EUSAGE (bad images, sizes or channels differ). Both outputs may
 * be NULL. */
MS_NODISCARD ms_status ms_image_mse(const struct ms_image *a, const struct ms_image *b,
                                    double *mse, double *rmse, struct ms_error *err);

/** Peak signal-to-noise ratio in dB, 10 log10(peak^2 / MSE), peak being the
 * largest possible sample value (2^bits - 1, or a data range). Identical
 * images give +INFINITY (IEEE infinity; isinf() is true; print it as "inf").
 * Errors: MS_EUSAGE (peak <= 0 or non-finite, as ms_image_mse()). */
MS_NODISCARD ms_status ms_image_psnr(const struct ms_image *a, const struct ms_image *b,
                                     double peak, double *db, struct ms_error *err);

/** SSIM windows; both use K1 = 0.01, K2 = 0.03, C1 = (K1 L)^2, C2 = (K2 L)^2. */
typedef enum ms_ssim_window {
    /* scikit-image structural_similarity() defaults: 7 x 7 uniform window,
     * sample (N-1) covariances, the mean over all windows wholly inside */
    MS_SSIM_UNIFORM7 = 0,
    /* Wang et al. 2004 = scikit-image gaussian_weights=True,
     * use_sample_covariance=False: 11 x 11 Gaussian, sigma 1.5, normalised,
     * population covariances, the mean over all windows wholly inside */
    MS_SSIM_GAUSSIAN11 = 1
} ms_ssim_window;

/** Mean structural similarity (Wang et al. 2004) of a and b, with data_range
 * L (the distance between the smallest and largest possible sample values,
 * e.g. 255, 4095, 65535). RGB images give the mean of the three channels'
 * SSIM. Identical images give 1. Errors: MS_EUSAGE (as ms_image_mse(),
 * data_range <= 0 or non-finite, bad window, an image smaller than the
 * window), MS_ENOMEM. */
MS_NODISCARD ms_status ms_image_ssim(const struct ms_image *a, const struct ms_image *b,
                                     double data_range, ms_ssim_window window, double *ssim,
                                     struct ms_error *err);

/** NPCR and UACI (Wu et al. 2011) in percent between two cipher images:
 * NPCR = 100 * (samples where a != b) / N; UACI = 100 * sum |a - b| / (N *
 * max_value), max_value being the largest value of the bit depth (255 for 8
 * bits, 2^bits - 1 in general). N counts all samples of all channels. Either
 * output may be NULL. Errors: MS_EUSAGE (as ms_image_mse(), max_value <= 0
 * or non-finite). */
MS_NODISCARD ms_status ms_image_npcr_uaci(const struct ms_image *a, const struct ms_image *b,
                                          double max_value, double *npcr, double *uaci,
                                          struct ms_error *err);

/** Neighbour of a sample for ms_image_correlation(). */
typedef enum ms_direction {
    MS_DIR_HORIZONTAL = 0, /* (x, y) and (x + 1, y) */
    MS_DIR_VERTICAL = 1,   /* (x, y) and (x, y + 1) */
    MS_DIR_DIAGONAL = 2    /* (x, y) and (x + 1, y + 1) */
} ms_direction;

/** Pearson correlation coefficient of adjacent samples in direction dir,
 * pairs taken within each channel. pairs = 0: over all pairs of the image.
 * pairs > 0: over that many pairs drawn uniformly with replacement from all
 * pairs by a generator seeded with seed (splitmix64 and rejection sampling;
 * the same seed gives the same pairs on every platform). *r is NaN when
 * either side of the pairs has zero variance (a constant image). Errors:
 * MS_EUSAGE (bad image or direction, fewer than 2 pairs exist, pairs above
 * 2^32). */
MS_NODISCARD ms_status ms_image_correlation(const struct ms_image *img, ms_direction dir,
                                            uint64_t pairs, uint64_t seed, double *r,
                                            struct ms_error *err);

/* ---- block-wise metrics (seed 000, Table 1) ----------------------------------------------- */

/** Histogram of the samples of one block of img, as ms_image_histogram().
 * Errors: those of ms_image_histogram(), MS_EUSAGE (img does not match the
 * grid, block out of range). */
MS_NODISCARD ms_status ms_grid_block_histogram(const struct ms_grid *g,
                                               const struct ms_image *img, uint32_t block,
                                               const struct ms_hist_range *range,
                                               uint64_t *counts, size_t ncounts,
                                               struct ms_error *err);

/** RMSE of every block of a against the same block of b: rmse[k] for
 * row-major block k; count must be n * n. Errors: MS_EUSAGE (as
 * ms_image_mse(), images not of the grid's size, count wrong). */
MS_NODISCARD ms_status ms_grid_block_rmse(const struct ms_grid *g, const struct ms_image *a,
                                          const struct ms_image *b, double *rmse, size_t count,
                                          struct ms_error *err);

/** Histogram difference (ms_histogram_difference() over range, below and
 * above included) of every block: diff[k] for row-major block k; count must be
 * n * n. 0 everywhere means seed 000's "data preserved". Errors: as
 * ms_grid_block_rmse() and ms_image_histogram(), MS_ENOMEM. */
MS_NODISCARD ms_status ms_grid_block_histdiff(const struct ms_grid *g, const struct ms_image *a,
                                              const struct ms_image *b,
                                              const struct ms_hist_range *range, uint64_t *diff,
                                              size_t count, struct ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
