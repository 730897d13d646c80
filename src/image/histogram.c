/* Histograms over a value range, their difference (seed 000) and Shannon
 * entropy (seeds 002, 003). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"
#include "internal.h"

ms_status msi_hist_range_check(const struct ms_hist_range *range, struct ms_error *err)
{
    if (!range)
        return ms_error_set(err, MS_EUSAGE, "no histogram range");
    if (range->bins == 0 || range->bins > MS_HIST_MAX_BINS)
        return ms_error_set(err, MS_EUSAGE, "histogram of %" PRIu32 " bins (1..%u)", range->bins,
                            MS_HIST_MAX_BINS);
    if (!isfinite(range->lo) || !isfinite(range->hi) || !(range->lo < range->hi))
        return ms_error_set(err, MS_EUSAGE, "bad histogram range [%g, %g)", range->lo, range->hi);
    return MS_OK;
}

/* Bin of v: 0..bins-1, bins for below, bins + 1 for above or NaN. */
static uint32_t bin_of(double v, const struct ms_hist_range *range, double scale)
{
    double f;
    if (v < range->lo)
        return range->bins;
    if (!(v < range->hi)) /* also NaN */
        return range->bins + 1;
    f = floor((v - range->lo) * scale);
    /* rounding may push a value just below hi to bins */
    return f >= range->bins ? range->bins - 1 : (uint32_t)f;
}

static void add_rect(const struct ms_image *img, const struct ms_rect *r,
                     const struct ms_hist_range *range, uint64_t *counts)
{
    double scale = range->bins / (range->hi - range->lo);
    uint64_t line = (uint64_t)r->width * img->channels;
    uint32_t y;

    for (y = 0; y < r->height; y++) {
        uint64_t base = ((uint64_t)(r->y + y) * img->width + r->x) * img->channels, i;
        for (i = 0; i < line; i++)
            counts[bin_of(msi_sample(img, base + i), range, scale)]++;
    }
}

ms_status msi_hist_count(const struct ms_image *img, const struct ms_rect *r,
                         const struct ms_hist_range *range, uint64_t *counts, size_t ncounts,
                         struct ms_error *err)
{
    ms_status st = msi_hist_range_check(range, err);
    if (st != MS_OK)
        return st;
    if (!counts || ncounts != (size_t)range->bins + 2)
        return ms_error_set(err, MS_EUSAGE, "histogram of %" PRIu32 " bins needs %" PRIu64
                            " counts, not %zu", range->bins, (uint64_t)range->bins + 2, ncounts);
    memset(counts, 0, ncounts * sizeof *counts);
    add_rect(img, r, range, counts);
    return MS_OK;
}

ms_status ms_image_histogram(const struct ms_image *img, const struct ms_hist_range *range,
                             uint64_t *counts, size_t ncounts, struct ms_error *err)
{
    struct ms_rect all;
    ms_status st = ms_image_check(img, err);

    if (st != MS_OK)
        return st;
    all.x = all.y = 0;
    all.width = img->width;
    all.height = img->height;
    return msi_hist_count(img, &all, range, counts, ncounts, err);
}

uint64_t ms_histogram_difference(const uint64_t *a, const uint64_t *b, size_t n)
{
    uint64_t sum = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        uint64_t d = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
        if (!msi_add_u64(sum, d, &sum))
            return UINT64_MAX;
    }
    return sum;
}

double ms_histogram_entropy(const uint64_t *counts, size_t n)
{
    double total = 0, h = 0;
    size_t i;

    for (i = 0; i < n; i++)
        total += (double)counts[i];
    if (total == 0)
        return 0;
    for (i = 0; i < n; i++) {
        if (counts[i]) {
            double p = (double)counts[i] / total;
            h -= p * log2(p);
        }
    }
    return h;
}

ms_status ms_image_entropy(const struct ms_image *img, const struct ms_hist_range *range,
                           double *bits, struct ms_error *err)
{
    ms_status st = msi_hist_range_check(range, err);
    uint64_t *counts;
    size_t n;

    if (st != MS_OK)
        return st;
    n = (size_t)range->bins + 2;
    counts = malloc(n * sizeof *counts);
    if (!counts)
        return ms_error_set(err, MS_ENOMEM, "out of memory for %zu histogram bins", n);
    st = ms_image_histogram(img, range, counts, n, err);
    if (st == MS_OK)
        *bits = ms_histogram_entropy(counts, n);
    free(counts);
    return st;
}
