/* Pixel-wise metrics between two images: MSE, RMSE, PSNR, NPCR, UACI.
 * Sums are taken per row, then over rows, to keep rounding small. */
#include <math.h>

#include "image/image_internal.h"
#include "internal.h"

static double sum_squared_difference(const struct ms_image *a, const struct ms_image *b)
{
    uint64_t line = (uint64_t)a->width * a->channels;
    double total = 0;
    uint32_t y;

    for (y = 0; y < a->height; y++) {
        uint64_t base = (uint64_t)y * line, i;
        double row = 0;
        for (i = base; i < base + line; i++) {
            double d = msi_sample(a, i) - msi_sample(b, i);
            row += d * d;
        }
        total += row;
    }
    return total;
}

ms_status ms_image_mse(const struct ms_image *a, const struct ms_image *b, double *mse,
                       double *rmse, struct ms_error *err)
{
    ms_status st = msi_image_check_pair(a, b, err);
    double m;

    if (st != MS_OK)
        return st;
    m = sum_squared_difference(a, b) / (double)ms_image_samples(a);
    if (mse)
        *mse = m;
    if (rmse)
        *rmse = sqrt(m);
    return MS_OK;
}

ms_status ms_image_psnr(const struct ms_image *a, const struct ms_image *b, double peak,
                        double *db, struct ms_error *err)
{
    double mse;
    ms_status st;

    if (!isfinite(peak) || !(peak > 0))
        return ms_error_set(err, MS_EUSAGE, "PSNR peak %g (must be > 0)", peak);
    st = ms_image_mse(a, b, &mse, NULL, err);
    if (st != MS_OK)
        return st;
    *db = mse == 0 ? INFINITY : 10.0 * log10(peak * peak / mse);
    return MS_OK;
}

ms_status ms_image_npcr_uaci(const struct ms_image *a, const struct ms_image *b,
                             double max_value, double *npcr, double *uaci, struct ms_error *err)
{
    uint64_t line, changed = 0, n;
    double total = 0;
    uint32_t y;
    ms_status st;

    if (!isfinite(max_value) || !(max_value > 0))
        return ms_error_set(err, MS_EUSAGE, "UACI maximum value %g (must be > 0)", max_value);
    st = msi_image_check_pair(a, b, err);
    if (st != MS_OK)
        return st;
    line = (uint64_t)a->width * a->channels;
    for (y = 0; y < a->height; y++) {
        uint64_t base = (uint64_t)y * line, i;
        double row = 0;
        for (i = base; i < base + line; i++) {
            double va = msi_sample(a, i), vb = msi_sample(b, i);
            changed += !(va == vb); /* NaN counts as changed */
            row += fabs(va - vb);
        }
        total += row;
    }
    n = ms_image_samples(a);
    if (npcr)
        *npcr = 100.0 * (double)changed / (double)n;
    if (uaci)
        *uaci = 100.0 * total / ((double)n * max_value);
    return MS_OK;
}
