/* Rendering for the eye: the DICOM linear window to 8-bit grey, and the
 * diverging heat map of a difference image. */
#include <math.h>

#include "image/image_internal.h"
#include "internal.h"

/* ---- window ------------------------------------------------------------------ */

/* PS3.3 C.11.2.1.2.1, output range 0..255. */
static int32_t window_value(double x, double center, double width)
{
    double lo = center - 0.5 - (width - 1) / 2;
    double hi = center - 0.5 + (width - 1) / 2;
    double y;

    if (isnan(x) || x <= lo)
        return 0;
    if (x > hi)
        return 255;
    y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255.0;
    y = floor(y + 0.5);
    return y < 0 ? 0 : y > 255 ? 255 : (int32_t)y;
}

ms_status ms_image_window(struct ms_image **out, const struct ms_image *in, double center,
                          double width, struct ms_error *err)
{
    ms_status st;
    uint64_t i, n;
    int32_t *o;

    *out = NULL;
    st = ms_image_check(in, err);
    if (st != MS_OK)
        return st;
    if (in->channels != 1)
        return ms_error_set(err, MS_EUSAGE, "a window applies to a grey image, not %" PRIu32
                            " channels", in->channels);
    if (!isfinite(center) || !isfinite(width) || width < 1)
        return ms_error_set(err, MS_EUSAGE, "bad window C=%g W=%g (W must be >= 1)", center,
                            width);
    st = ms_image_create(out, in->width, in->height, 1, MS_SAMPLE_I32, err);
    if (st != MS_OK)
        return st;
    o = (*out)->data;
    n = ms_image_samples(in);
    for (i = 0; i < n; i++)
        o[i] = window_value(msi_sample(in, i), center, width);
    return MS_OK;
}

/* ---- heat map ------------------------------------------------------------------ */

/* Control points of the diverging map at t = -1, -0.5, 0, 0.5, 1. */
static const uint8_t heat_points[5][3] = {
    {0, 32, 160},    /* dark blue */
    {64, 128, 224},  /* light blue */
    {255, 255, 255}, /* white */
    {240, 112, 64},  /* orange-red */
    {160, 0, 16},    /* dark red */
};

void ms_heatmap_color(double t, uint8_t rgb[3])
{
    double pos, f;
    int k, c;

    if (isnan(t)) {
        rgb[0] = rgb[1] = rgb[2] = 0;
        return;
    }
    if (t < -1)
        t = -1;
    if (t > 1)
        t = 1;
    pos = (t + 1) * 2; /* 0 .. 4 */
    k = (int)floor(pos);
    if (k > 3)
        k = 3;
    f = pos - k;
    for (c = 0; c < 3; c++) {
        double v = heat_points[k][c] + f * (heat_points[k + 1][c] - heat_points[k][c]);
        rgb[c] = (uint8_t)floor(v + 0.5);
    }
}

static double difference(const struct ms_image *a, const struct ms_image *b, uint64_t i,
                         ms_heat_mode mode)
{
    double d = msi_sample(b, i) - msi_sample(a, i);
    return mode == MS_HEAT_ABS ? fabs(d) : d;
}

static double largest_difference(const struct ms_image *a, const struct ms_image *b)
{
    uint64_t i, n = ms_image_samples(a);
    double m = 0;
    for (i = 0; i < n; i++) {
        double d = fabs(msi_sample(b, i) - msi_sample(a, i));
        if (d > m && isfinite(d))
            m = d;
    }
    return m;
}

ms_status ms_image_heatmap(struct ms_image **out, const struct ms_image *a,
                           const struct ms_image *b, ms_heat_mode mode, double scale,
                           struct ms_error *err)
{
    ms_status st;
    uint64_t i, n;
    int32_t *o;

    *out = NULL;
    st = msi_image_check_pair(a, b, err);
    if (st != MS_OK)
        return st;
    if (a->channels != 1)
        return ms_error_set(err, MS_EUSAGE, "a heat map compares grey images, not %" PRIu32
                            " channels", a->channels);
    if (mode != MS_HEAT_SIGNED && mode != MS_HEAT_ABS)
        return ms_error_set(err, MS_EUSAGE, "unknown heat map mode %d", (int)mode);
    if (!isfinite(scale))
        return ms_error_set(err, MS_EUSAGE, "heat map scale is not finite");
    if (scale <= 0)
        scale = largest_difference(a, b);
    st = ms_image_create(out, a->width, a->height, 3, MS_SAMPLE_I32, err);
    if (st != MS_OK)
        return st;
    o = (*out)->data;
    n = ms_image_samples(a);
    for (i = 0; i < n; i++) {
        double d = difference(a, b, i, mode);
        uint8_t rgb[3];
        /* scale 0: the images are equal (or differ only by NaN): white */
        ms_heatmap_color(scale > 0 ? d / scale : (isnan(d) ? d : 0), rgb);
        o[3 * i] = rgb[0];
        o[3 * i + 1] = rgb[1];
        o[3 * i + 2] = rgb[2];
    }
    return MS_OK;
}
