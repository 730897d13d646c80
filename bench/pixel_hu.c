/* bench/pixel_hu: read the pixel data of a whole series as real values (HU)
 * through the public API, one file after another, and print a checksum so
 * that the work cannot be optimised away. A benchmark, not a test.
 *
 * usage: pixel_hu [--raw | --ref] FILE...
 *   default  ms_file_read + ms_pixel_info_get + ms_pixel_frame_real per frame
 *            (the library's path: what the benchmark measures)
 *   --raw    ms_file_read + ms_pixel_info_get, then only sum the stored
 *            16-bit words from info.data: the cost of reading the file
 *            through the library's mapping, without any conversion
 *   --ref    as the default, but the frame is converted by a straight loop
 *            here in the benchmark (mask to BitsStored, sign-extend, slope and
 *            intercept, to float): what a specialised library path could cost
 *
 * The checksum uses 8 independent accumulators so that it stays cheap
 * (vectorisable) next to the work measured. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medseal/dicom.h"
#include "medseal/pixel.h"

enum mode { MODE_REAL, MODE_RAW, MODE_REF };

static int fail(const char *path, const struct ms_error *err)
{
    fprintf(stderr, "pixel_hu: %s: %s\n", path, err->msg);
    return 3;
}

static double sum_floats(const float *v, size_t n)
{
    double acc[8] = {0};
    size_t i = 0;

    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += v[i + j];
    for (; i < n; i++)
        acc[0] += v[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static double sum_raw(const struct ms_pixel_info *pi)
{
    const uint8_t *p = pi->data;
    size_t n = (size_t)(pi->data_len / 2), i = 0;
    uint64_t acc[8] = {0};

    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            uint16_t w;
            memcpy(&w, p + 2 * (i + j), 2); /* little-endian host assumed */
            acc[j] += w;
        }
    for (; i < n; i++)
        acc[0] += (uint64_t)p[2 * i] | (uint64_t)p[2 * i + 1] << 8;
    return (double)(acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7]);
}

/* Reference conversion of one 16-bit single-sample frame (little-endian host). */
static void ref_frame_real(const struct ms_pixel_info *pi, uint32_t f, float *out)
{
    size_t n = (size_t)pi->rows * pi->columns;
    const uint8_t *p = pi->data + (size_t)f * n * 2;
    unsigned shift = pi->high_bit + 1u - pi->bits_stored;
    unsigned up = 32u - pi->bits_stored;
    float m = (float)pi->rescale_slope, b = (float)pi->rescale_intercept;

    if (pi->pixel_representation) {
        for (size_t i = 0; i < n; i++) {
            uint16_t w;
            memcpy(&w, p + 2 * i, 2);
            out[i] = m * (float)((int32_t)((uint32_t)w >> shift << up) >> up) + b;
        }
    } else {
        uint32_t mask = (1u << pi->bits_stored) - 1u;
        for (size_t i = 0; i < n; i++) {
            uint16_t w;
            memcpy(&w, p + 2 * i, 2);
            out[i] = m * (float)(((uint32_t)w >> shift) & mask) + b;
        }
    }
}

static int sum_real(const char *path, const struct ms_pixel_info *pi, enum mode mode,
                    float **buf, size_t *cap, double *total)
{
    struct ms_error err = {0};
    size_t n = (size_t)pi->rows * pi->columns;

    if (n > *cap) {
        float *nb = realloc(*buf, n * sizeof **buf);
        if (!nb) {
            fprintf(stderr, "pixel_hu: out of memory\n");
            return 5;
        }
        *buf = nb;
        *cap = n;
    }
    for (uint32_t f = 0; f < pi->frames; f++) {
        if (mode == MODE_REF)
            ref_frame_real(pi, f, *buf);
        else if (ms_pixel_frame_real(pi, f, *buf, &err) != MS_OK)
            return fail(path, &err);
        *total += sum_floats(*buf, n);
    }
    return 0;
}

static int one_file(const char *path, enum mode mode, float **buf, size_t *cap, double *total,
                    unsigned long long *pixels)
{
    struct ms_error err = {0};
    struct ms_file *f = NULL;
    struct ms_pixel_info pi;
    int rc = 0;

    if (ms_file_read(&f, path, NULL, &err) != MS_OK)
        return fail(path, &err);
    if (ms_pixel_info_get(ms_file_dataset(f), &pi, &err) != MS_OK) {
        rc = fail(path, &err);
    } else if (mode != MODE_REAL && (pi.bits_allocated != 16 || pi.encapsulated ||
                                     pi.samples_per_pixel != 1)) {
        fprintf(stderr, "pixel_hu: %s: --raw/--ref need native 16-bit single-sample data\n",
                path);
        rc = 3;
    } else {
        *pixels += (unsigned long long)pi.rows * pi.columns * pi.frames;
        if (mode == MODE_RAW)
            *total += sum_raw(&pi);
        else
            rc = sum_real(path, &pi, mode, buf, cap, total);
    }
    ms_file_destroy(f);
    return rc;
}

int main(int argc, char **argv)
{
    int i = 1, rc = 0;
    enum mode mode = MODE_REAL;
    float *buf = NULL;
    size_t cap = 0;
    double total = 0;
    unsigned long long pixels = 0;

    if (argc > 1 && strcmp(argv[1], "--raw") == 0) {
        mode = MODE_RAW;
        i++;
    } else if (argc > 1 && strcmp(argv[1], "--ref") == 0) {
        mode = MODE_REF;
        i++;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: pixel_hu [--raw | --ref] FILE...\n");
        return 2;
    }
    for (; i < argc && rc == 0; i++)
        rc = one_file(argv[i], mode, &buf, &cap, &total, &pixels);
    free(buf);
    if (rc == 0)
        printf("%llu pixels, sum %.0f, mean %.3f\n", pixels, total,
               pixels ? total / (double)pixels : 0.0);
    return rc;
}
