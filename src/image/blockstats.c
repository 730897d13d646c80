/* Block-wise metrics over a grid (seed 000, Table 1): per block RMSE and
 * histogram difference between two images, and one block's histogram. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"
#include "internal.h"

static ms_status check_two(const struct ms_grid *g, const struct ms_image *a,
                           const struct ms_image *b, const void *out, size_t count,
                           struct ms_error *err)
{
    ms_status st = msi_image_check_pair(a, b, err);
    if (st == MS_OK)
        st = msi_grid_check_image(g, a, err);
    if (st != MS_OK)
        return st;
    if (!out || count != (size_t)g->n * g->n)
        return ms_error_set(err, MS_EUSAGE, "a %" PRIu32 "x%" PRIu32 " grid has %" PRIu32
                            " blocks, not %zu", g->n, g->n, g->n * g->n, count);
    return MS_OK;
}

ms_status ms_grid_block_histogram(const struct ms_grid *g, const struct ms_image *img,
                                  uint32_t block, const struct ms_hist_range *range,
                                  uint64_t *counts, size_t ncounts, struct ms_error *err)
{
    struct ms_rect r = {0, 0, 0, 0};
    ms_status st = msi_grid_block_of(g, img, block, &r, err);

    return st == MS_OK ? msi_hist_count(img, &r, range, counts, ncounts, err) : st;
}

static double rect_rmse(const struct ms_image *a, const struct ms_image *b,
                        const struct ms_rect *r)
{
    uint64_t line = (uint64_t)r->width * a->channels;
    double total = 0;
    uint32_t y;

    for (y = 0; y < r->height; y++) {
        uint64_t base = ((uint64_t)(r->y + y) * a->width + r->x) * a->channels, i;
        double row = 0;
        for (i = base; i < base + line; i++) {
            double d = msi_sample(a, i) - msi_sample(b, i);
            row += d * d;
        }
        total += row;
    }
    return sqrt(total / ((double)line * r->height));
}

ms_status ms_grid_block_rmse(const struct ms_grid *g, const struct ms_image *a,
                             const struct ms_image *b, double *rmse, size_t count,
                             struct ms_error *err)
{
    ms_status st = check_two(g, a, b, rmse, count, err);
    uint32_t k;

    if (st != MS_OK)
        return st;
    for (k = 0; k < g->n * g->n; k++) {
        struct ms_rect r;
        st = ms_grid_block_rect(g, k, &r, err);
        if (st != MS_OK)
            return st;
        rmse[k] = rect_rmse(a, b, &r);
    }
    return MS_OK;
}

ms_status ms_grid_block_histdiff(const struct ms_grid *g, const struct ms_image *a,
                                 const struct ms_image *b, const struct ms_hist_range *range,
                                 uint64_t *diff, size_t count, struct ms_error *err)
{
    ms_status st = check_two(g, a, b, diff, count, err);
    uint64_t *ha, *hb;
    size_t n;
    uint32_t k;

    if (st == MS_OK)
        st = msi_hist_range_check(range, err);
    if (st != MS_OK)
        return st;
    n = (size_t)range->bins + 2;
    ha = malloc(2 * n * sizeof *ha);
    if (!ha)
        return ms_error_set(err, MS_ENOMEM, "out of memory for %zu histogram bins", 2 * n);
    hb = ha + n;
    for (k = 0; k < g->n * g->n && st == MS_OK; k++) {
        st = ms_grid_block_histogram(g, a, k, range, ha, n, err);
        if (st == MS_OK)
            st = ms_grid_block_histogram(g, b, k, range, hb, n, err);
        if (st == MS_OK)
            diff[k] = ms_histogram_difference(ha, hb, n);
    }
    free(ha);
    return st;
}
