/* Fuzz target: scans, series checks and volumes (src/series, src/image).
 *
 * The input is written to a private temporary directory twice (as two
 * instances of whatever series it claims), the directory is scanned, the
 * dataset-level checks run (duplicates, consistency, geometry of every
 * frame, multi-frame functional groups included), then every stack is
 * opened as a volume, resampled when it can be, and its slices read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "medseal/series.h"
#include "medseal/volume.h"

#define MAX_SLICE_PIXELS (1u << 20)

static char dir[64], path_a[96], path_b[96];

static void count(void *ctx, const struct ms_finding *f)
{
    FUZZ_ASSERT(f->message && strchr(f->message, '\n') == NULL);
    (*(size_t *)ctx)++;
}

static void read_volume(const struct ms_series *se, size_t k)
{
    struct ms_volume *v = NULL;
    struct ms_volume_geometry g;
    struct ms_error err;
    float *slice;

    if (ms_volume_open(&v, se, k, &err) != MS_OK)
        return;
    if (k % 2 && ms_volume_resample(v, 0, &err) != MS_OK)
        FUZZ_ASSERT(err.msg[0] != '\0');
    ms_volume_get_geometry(v, &g);
    if (g.nx * g.ny <= MAX_SLICE_PIXELS && (slice = malloc(g.nx * g.ny * sizeof *slice))) {
        for (size_t z = 0; z < g.nz && z < 4; z++)
            if (ms_volume_read_slice(v, z, slice, &err) != MS_OK)
                break;
        free(slice);
    }
    ms_volume_destroy(v);
}

static void cleanup(void)
{
    remove(path_a);
    remove(path_b);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ms_scan *scan = NULL;
    struct ms_error err;
    size_t findings = 0;

    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/medseal-fuzz-XXXXXX");
        FUZZ_ASSERT(mkdtemp(dir) != NULL);
        snprintf(path_a, sizeof path_a, "%s/a.dcm", dir);
        snprintf(path_b, sizeof path_b, "%s/b.dcm", dir);
        atexit(cleanup);
    }
    if (!fuzz_write_file(path_a, data, size) || !fuzz_write_file(path_b, data, size / 2 * 2))
        return 0;
    FUZZ_ASSERT(ms_scan_create(&scan, NULL, &err) == MS_OK);
    if (ms_scan_add(scan, dir, &err) == MS_OK &&
        ms_scan_check(scan, count, &findings, &err) == MS_OK) {
        for (size_t i = 0; i < ms_scan_series_count(scan); i++) {
            const struct ms_series *se = ms_scan_series(scan, i);
            for (size_t k = 0; k < ms_series_stack_count(se) && k < 4; k++)
                read_volume(se, k);
        }
    }
    ms_scan_destroy(scan);
    return 0;
}
