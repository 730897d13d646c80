/* bench/pixel_hu: read the pixel data of a whole series as real values (HU)
 * through the public API, one file after another, and print the sum, so that
 * the work cannot be optimised away. A benchmark, not a test.
 *
 * usage: pixel_hu [--raw] FILE...
 *   default  ms_file_read + ms_pixel_info_get + ms_pixel_frame_real per frame
 *   --raw    ms_file_read + ms_pixel_info_get, then sum the stored 16-bit
 *            words straight from info.data (no modality LUT): separates the
 *            cost of mapping the file from the cost of the conversion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medseal/dicom.h"
#include "medseal/pixel.h"

static int fail(const char *path, const struct ms_error *err)
{
    fprintf(stderr, "pixel_hu: %s: %s\n", path, err->msg);
    return 3;
}

static double sum_raw(const struct ms_pixel_info *pi)
{
    const uint8_t *p = pi->data;
    uint64_t n = pi->data_len / 2, i;
    uint64_t s = 0;

    for (i = 0; i < n; i++)
        s += (uint64_t)p[2 * i] | (uint64_t)p[2 * i + 1] << 8;
    return (double)s;
}

static int sum_real(const char *path, const struct ms_pixel_info *pi, float **buf,
                    size_t *cap, double *total)
{
    struct ms_error err = {0};
    size_t n = (size_t)pi->rows * pi->columns;
    uint32_t f;

    if (n > *cap) {
        float *nb = realloc(*buf, n * sizeof **buf);
        if (!nb) {
            fprintf(stderr, "pixel_hu: out of memory\n");
            return 5;
        }
        *buf = nb;
        *cap = n;
    }
    for (f = 0; f < pi->frames; f++) {
        double s = 0;
        size_t i;
        if (ms_pixel_frame_real(pi, f, *buf, &err) != MS_OK)
            return fail(path, &err);
        for (i = 0; i < n; i++)
            s += (*buf)[i];
        *total += s;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int i = 1, rc = 0;
    int raw = 0;
    float *buf = NULL;
    size_t cap = 0;
    double total = 0;
    unsigned long long pixels = 0;

    if (argc > 1 && strcmp(argv[1], "--raw") == 0) {
        raw = 1;
        i++;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: pixel_hu [--raw] FILE...\n");
        return 2;
    }
    for (; i < argc && rc == 0; i++) {
        struct ms_error err = {0};
        struct ms_file *f = NULL;
        struct ms_pixel_info pi;

        if (ms_file_read(&f, argv[i], NULL, &err) != MS_OK)
            return fail(argv[i], &err);
        if (ms_pixel_info_get(ms_file_dataset(f), &pi, &err) != MS_OK) {
            rc = fail(argv[i], &err);
        } else {
            pixels += (unsigned long long)pi.rows * pi.columns * pi.frames;
            if (raw && (pi.bits_allocated != 16 || pi.encapsulated)) {
                fprintf(stderr, "pixel_hu: %s: --raw needs native 16-bit data\n", argv[i]);
                rc = 3;
            } else if (raw) {
                total += sum_raw(&pi);
            } else {
                rc = sum_real(argv[i], &pi, &buf, &cap, &total);
            }
        }
        ms_file_destroy(f);
    }
    free(buf);
    if (rc == 0)
        printf("%llu pixels, sum %.0f, mean %.3f\n", pixels, total,
               pixels ? total / (double)pixels : 0.0);
    return rc;
}
