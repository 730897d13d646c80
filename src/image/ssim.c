/* Structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004).
 *
 * For every window wholly inside the image the weighted means, variances
 * and covariance of a and b give
 *   S = (2 ua ub + C1)(2 sab + C2) / ((ua^2 + ub^2 + C1)(sa^2 + sb^2 + C2))
 * and the result is the mean of S over those windows, as scikit-image's
 * structural_similarity() computes it (it filters the whole image, then
 * crops the border where windows stick out). Windows are separable: one
 * pass down the columns of a band of rows, one along the band. Scratch:
 * 5 * width doubles. */
#include <math.h>
#include <stdlib.h>

#include "image/image_internal.h"
#include "internal.h"

#define K1 0.01
#define K2 0.03
#define GAUSS_SIGMA 1.5
#define MAX_WIN 11
#define NQ 5 /* a, b, a*a, b*b, a*b */

struct ssim {
    const struct ms_image *a, *b;
    uint32_t channel;
    uint32_t win;
    double w[MAX_WIN]; /* 1-D weights, summing to 1 */
    double cov_norm;
    double c1, c2;
    double *v; /* NQ rows of width: column sums of the current band */
};

static void set_window(struct ssim *s, ms_ssim_window window)
{
    uint32_t k;

    if (window == MS_SSIM_UNIFORM7) {
        s->win = 7;
        for (k = 0; k < 7; k++)
            s->w[k] = 1.0 / 7.0;
        /* sample covariance over the 49 samples, as scikit-image's default */
        s->cov_norm = 49.0 / 48.0;
        return;
    }
    /* radius int(3.5 sigma + 0.5) = 5, as scipy.ndimage.gaussian_filter
     * with truncate 3.5; population covariance as Wang et al. */
    double sum = 0;
    s->win = 11;
    for (k = 0; k < 11; k++) {
        double x = (double)k - 5.0;
        s->w[k] = exp(-0.5 * x * x / (GAUSS_SIGMA * GAUSS_SIGMA));
        sum += s->w[k];
    }
    for (k = 0; k < 11; k++)
        s->w[k] /= sum;
    s->cov_norm = 1.0;
}

/* Weighted column sums over rows top .. top + win - 1. */
static void band_sums(struct ssim *s, uint32_t top)
{
    uint32_t width = s->a->width, ch = s->a->channels, x, k;
    double *v = s->v;

    for (x = 0; x < width; x++) {
        double q[NQ] = {0, 0, 0, 0, 0};
        for (k = 0; k < s->win; k++) {
            uint64_t i = ((uint64_t)(top + k) * width + x) * ch + s->channel;
            double va = msi_sample(s->a, i), vb = msi_sample(s->b, i), w = s->w[k];
            q[0] += w * va;
            q[1] += w * vb;
            q[2] += w * va * va;
            q[3] += w * vb * vb;
            q[4] += w * va * vb;
        }
        for (k = 0; k < NQ; k++)
            v[(size_t)k * width + x] = q[k];
    }
}

static double window_ssim(const struct ssim *s, const double m[NQ])
{
    double va = s->cov_norm * (m[2] - m[0] * m[0]);
    double vb = s->cov_norm * (m[3] - m[1] * m[1]);
    double vab = s->cov_norm * (m[4] - m[0] * m[1]);
    double num = (2 * m[0] * m[1] + s->c1) * (2 * vab + s->c2);
    double den = (m[0] * m[0] + m[1] * m[1] + s->c1) * (va + vb + s->c2);
    return num / den;
}

/* Sum of S over the windows of the current band. */
static double band_ssim(const struct ssim *s)
{
    uint32_t width = s->a->width, x, k, q;
    double total = 0;

    for (x = 0; x + s->win <= width; x++) {
        double m[NQ] = {0, 0, 0, 0, 0};
        for (q = 0; q < NQ; q++) {
            const double *row = s->v + (size_t)q * width + x;
            for (k = 0; k < s->win; k++)
                m[q] += s->w[k] * row[k];
        }
        total += window_ssim(s, m);
    }
    return total;
}

static double channel_ssim(struct ssim *s)
{
    uint32_t top;
    double total = 0;
    double windows = (double)(s->a->width - s->win + 1) * (double)(s->a->height - s->win + 1);

    for (top = 0; top + s->win <= s->a->height; top++) {
        band_sums(s, top);
        total += band_ssim(s);
    }
    return total / windows;
}

ms_status ms_image_ssim(const struct ms_image *a, const struct ms_image *b, double data_range,
                        ms_ssim_window window, double *ssim, struct ms_error *err)
{
    struct ssim s;
    double sum = 0;
    ms_status st = msi_image_check_pair(a, b, err);

    if (st != MS_OK)
        return st;
    if (!isfinite(data_range) || !(data_range > 0))
        return ms_error_set(err, MS_EUSAGE, "SSIM data range %g (must be > 0)", data_range);
    if (window != MS_SSIM_UNIFORM7 && window != MS_SSIM_GAUSSIAN11)
        return ms_error_set(err, MS_EUSAGE, "unknown SSIM window %d", (int)window);
    s.a = a;
    s.b = b;
    set_window(&s, window);
    if (a->width < s.win || a->height < s.win)
        return ms_error_set(err, MS_EUSAGE,
                            "image of %" PRIu32 "x%" PRIu32 " smaller than the %" PRIu32
                            "x%" PRIu32 " SSIM window", a->width, a->height, s.win, s.win);
    s.c1 = (K1 * data_range) * (K1 * data_range);
    s.c2 = (K2 * data_range) * (K2 * data_range);
    s.v = malloc((size_t)NQ * a->width * sizeof *s.v);
    if (!s.v)
        return ms_error_set(err, MS_ENOMEM, "out of memory for SSIM");
    for (s.channel = 0; s.channel < a->channels; s.channel++)
        sum += channel_ssim(&s);
    free(s.v);
    *ssim = sum / a->channels;
    return MS_OK;
}
