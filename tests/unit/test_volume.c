/* Unit tests of volumes: geometry and values of the bundled CT series,
 * resampling along the slice axis, NIfTI-1 header, and the refusals
 * (bad stacks, sizes, spacings, files gone). */
#include "series_fixture.h"

#include <math.h>
#include <sys/stat.h>

#include "medseal/pixel.h"
#include "medseal/volume.h"

#define NPIX (256 * 256)

struct opened {
    char dir[256];
    struct ms_scan *scan;
    struct ms_volume *vol;
};

/* Scan dir and open stack 0 of its first series; st receives the status. */
static ms_status open_dir(struct opened *o, ms_status *st)
{
    struct ms_error err = {0};
    o->scan = NULL;
    o->vol = NULL;
    if (ms_scan_create(&o->scan, NULL, &err) != MS_OK || ms_scan_add(o->scan, o->dir, &err) != MS_OK)
        return *st = err.code;
    return *st = ms_volume_open(&o->vol, ms_scan_series(o->scan, 0), 0, &err);
}

static void close_dir(struct opened *o)
{
    ms_volume_destroy(o->vol);
    ms_scan_destroy(o->scan);
    tu_rmtree(o->dir);
}

/* Slice i (1-based) of the bundled series in HU, read directly. */
static void reference_slice(int i, float *out)
{
    struct ms_file *f = NULL;
    struct ms_error err;
    struct ms_pixel_info pi;
    if (ms_file_read(&f, tu_ct(i), NULL, &err) != MS_OK ||
        ms_pixel_info_get(ms_file_dataset(f), &pi, &err) != MS_OK ||
        ms_pixel_frame_real(&pi, 0, out, &err) != MS_OK)
        exit(1);
    ms_file_destroy(f);
}

static bool near(double a, double b) { return fabs(a - b) < 1e-4; }

/* ---- positive ---------------------------------------------------------------------------- */

static void test_geometry_and_values(void)
{
    struct opened o;
    struct ms_volume_geometry g;
    struct ms_error err;
    ms_status st;
    float *a = malloc(NPIX * sizeof *a), *b = malloc(NPIX * sizeof *b);

    tu_mkdtemp(o.dir, sizeof o.dir);
    fx_copy_slices(o.dir, 1, FX_SLICES);
    CHECK_INT(open_dir(&o, &st), MS_OK);
    if (st != MS_OK)
        return;
    ms_volume_get_geometry(o.vol, &g);
    CHECK_INT(g.nx, 256);
    CHECK_INT(g.ny, 256);
    CHECK_INT(g.nz, FX_SLICES);
    CHECK(near(g.spacing[0], 0.95703125) && near(g.spacing[1], 0.95703125));
    CHECK(near(g.spacing[2], 1.5));
    CHECK(near(g.affine[0][0], 0.95703125) && near(g.affine[1][1], 0.95703125));
    CHECK(near(g.affine[2][2], 1.5) && near(g.affine[0][3], -122.5) && near(g.affine[2][3], 0));
    CHECK(near(g.slice_dir[2], 1.0));
    CHECK_STR(g.units, "HU");
    CHECK(!g.resampled);
    CHECK_INT(ms_volume_read_slice(o.vol, 0, a, &err), MS_OK);
    reference_slice(1, b);
    CHECK(memcmp(a, b, NPIX * sizeof *a) == 0);
    CHECK_INT(ms_volume_read_slice(o.vol, FX_SLICES - 1, a, &err), MS_OK);
    reference_slice(FX_SLICES, b);
    CHECK(memcmp(a, b, NPIX * sizeof *a) == 0);
    close_dir(&o);
    free(a);
    free(b);
}

/* File order and names do not matter: slices are sorted by position. */
static void test_sorted_by_position(void)
{
    struct opened o;
    struct ms_error err;
    ms_status st;
    char to[400];
    float *a = malloc(NPIX * sizeof *a), *b = malloc(NPIX * sizeof *b);

    tu_mkdtemp(o.dir, sizeof o.dir);
    for (int i = 1; i <= 10; i++) {
        snprintf(to, sizeof to, "%s/z%02d", o.dir, 11 - i); /* reverse name order */
        tu_copy_file(tu_ct(i), to);
    }
    CHECK_INT(open_dir(&o, &st), MS_OK);
    if (st != MS_OK)
        return;
    CHECK_INT(ms_volume_read_slice(o.vol, 3, a, &err), MS_OK);
    reference_slice(4, b);
    CHECK(memcmp(a, b, NPIX * sizeof *a) == 0);
    close_dir(&o);
    free(a);
    free(b);
}

static void test_resample(void)
{
    struct opened o;
    struct ms_volume_geometry g;
    struct ms_error err;
    ms_status st;
    float *a = malloc(NPIX * sizeof *a), *lo = malloc(NPIX * sizeof *lo),
          *hi = malloc(NPIX * sizeof *hi);
    double worst = 0;

    tu_mkdtemp(o.dir, sizeof o.dir);
    fx_copy_slices(o.dir, 1, 20);
    CHECK_INT(open_dir(&o, &st), MS_OK);
    if (st != MS_OK)
        return;
    CHECK_INT(ms_volume_resample(o.vol, 0, &err), MS_OK);
    ms_volume_get_geometry(o.vol, &g);
    CHECK_INT(g.nz, 30); /* 28.5 mm / 0.957 mm + 1 */
    CHECK(near(g.spacing[2], 0.95703125) && near(g.affine[2][2], 0.95703125));
    CHECK(g.resampled);
    /* output slice 5 is at 4.785 mm: between stored slices 4 and 5 (4.5, 6.0 mm) */
    CHECK_INT(ms_volume_read_slice(o.vol, 5, a, &err), MS_OK);
    reference_slice(4, lo); /* 4.5 mm */
    reference_slice(5, hi); /* 6.0 mm */
    for (size_t p = 0; p < NPIX; p++) {
        double w = (5 * 0.95703125 - 4.5) / 1.5, want = (1 - w) * lo[p] + w * hi[p];
        worst = fmax(worst, fabs(a[p] - want));
    }
    CHECK(worst < 1e-3);
    /* 3 mm: every other stored slice, exactly */
    CHECK_INT(ms_volume_resample(o.vol, 3.0, &err), MS_OK);
    ms_volume_get_geometry(o.vol, &g);
    CHECK_INT(g.nz, 10);
    CHECK_INT(ms_volume_read_slice(o.vol, 2, a, &err), MS_OK);
    reference_slice(5, lo);
    CHECK(memcmp(a, lo, NPIX * sizeof *a) == 0);
    close_dir(&o);
    free(a);
    free(lo);
    free(hi);
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static int16_t rd16(const uint8_t *p) { return (int16_t)(p[0] | p[1] << 8); }
static float rdf(const uint8_t *p)
{
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void test_nifti(void)
{
    struct opened o;
    struct ms_error err;
    ms_status st;
    char path[400];
    uint8_t h[352];
    FILE *f;
    struct stat sb;

    tu_mkdtemp(o.dir, sizeof o.dir);
    fx_copy_slices(o.dir, 1, 12);
    CHECK_INT(open_dir(&o, &st), MS_OK);
    if (st != MS_OK)
        return;
    snprintf(path, sizeof path, "%s/out.nii", o.dir);
    CHECK_INT(ms_volume_write_nifti(o.vol, path, MS_NIFTI_AUTO, &err), MS_OK);
    f = fopen(path, "rb");
    CHECK(f && fread(h, 1, sizeof h, f) == sizeof h);
    if (f)
        fclose(f);
    CHECK_INT(rd32(h), 348);
    CHECK_INT(rd16(h + 40), 3);
    CHECK_INT(rd16(h + 42), 256);
    CHECK_INT(rd16(h + 46), 12);
    CHECK_INT(rd16(h + 70), 4); /* int16: CT values fit exactly */
    CHECK(near(rdf(h + 280), -0.95703125)); /* srow_x[0]: LPS x negated */
    CHECK(near(rdf(h + 292), 122.5));
    CHECK(near(rdf(h + 320), 1.5));         /* srow_z[2] */
    CHECK_INT(rd16(h + 254), 1);
    CHECK(memcmp(h + 344, "n+1", 4) == 0);
    CHECK(stat(path, &sb) == 0 && sb.st_size == 352 + 256 * 256 * 12 * 2);
    CHECK_INT(ms_volume_resample(o.vol, 0, &err), MS_OK);
    CHECK_INT(ms_volume_write_nifti(o.vol, path, MS_NIFTI_AUTO, &err), MS_OK);
    f = fopen(path, "rb");
    CHECK(f && fread(h, 1, sizeof h, f) == sizeof h);
    if (f)
        fclose(f);
    CHECK_INT(rd16(h + 70), 16); /* float32 after interpolation */
    close_dir(&o);
}

/* ---- negative ---------------------------------------------------------------------------- */

/* Four slices of the series, opened; the caller closes them. */
static bool open_four(struct opened *o)
{
    ms_status st;
    tu_mkdtemp(o->dir, sizeof o->dir);
    fx_copy_slices(o->dir, 1, 4);
    CHECK_INT(open_dir(o, &st), MS_OK);
    return st == MS_OK;
}

static void test_no_such_stack(void)
{
    struct opened o;
    struct ms_volume *v = NULL;
    struct ms_error err;
    if (!open_four(&o))
        return;
    CHECK_INT(ms_volume_open(&v, ms_scan_series(o.scan, 0), 1, &err), MS_ENOTFOUND);
    CHECK(v == NULL);
    ms_volume_destroy(NULL);
    close_dir(&o);
}

static void test_bad_resample(void)
{
    struct opened o;
    struct ms_volume_geometry g;
    struct ms_error err;
    if (!open_four(&o))
        return;
    CHECK_INT(ms_volume_resample(o.vol, -1.0, &err), MS_EUSAGE);
    CHECK_INT(ms_volume_resample(o.vol, 0.00001, &err), MS_ELIMIT);
    ms_volume_get_geometry(o.vol, &g);
    CHECK(!g.resampled && g.nz == 4); /* unchanged by the refusals */
    close_dir(&o);
}

static void test_slice_out_of_range(void)
{
    struct opened o;
    struct ms_error err;
    float *a = malloc(NPIX * sizeof *a);
    if (open_four(&o)) {
        CHECK_INT(ms_volume_read_slice(o.vol, 4, a, &err), MS_EUSAGE);
        close_dir(&o);
    }
    free(a);
}

static void test_nifti_unwritable(void)
{
    struct opened o;
    struct ms_error err;
    struct stat sb;
    if (!open_four(&o))
        return;
    CHECK_INT(ms_volume_write_nifti(o.vol, "/nonexistent/dir/out.nii", MS_NIFTI_AUTO, &err), MS_EIO);
    CHECK(stat("/nonexistent/dir/out.nii", &sb) != 0);
    close_dir(&o);
}

static void test_file_gone(void)
{
    struct opened o;
    struct ms_error err;
    char path[400];
    float *a = malloc(NPIX * sizeof *a);
    if (open_four(&o)) {
        snprintf(path, sizeof path, "%s/CT0003.dcm", o.dir);
        remove(path); /* gone after the scan */
        CHECK_INT(ms_volume_read_slice(o.vol, 2, a, &err), MS_EIO);
        CHECK_INT(ms_volume_read_slice(o.vol, 1, a, &err), MS_OK);
        close_dir(&o);
    }
    free(a);
}

static void test_one_slice_resample(void)
{
    struct opened o;
    struct ms_error err;
    ms_status st;
    tu_mkdtemp(o.dir, sizeof o.dir);
    fx_copy_slices(o.dir, 1, 1);
    CHECK_INT(open_dir(&o, &st), MS_OK);
    if (st == MS_OK)
        CHECK_INT(ms_volume_resample(o.vol, 0, &err), MS_EUSAGE);
    close_dir(&o);
}

static void three_samples(struct ms_dataset *ds, void *ctx)
{
    (void)ctx;
    fx_set_string(ds, MS_TAG(0x0028, 0x0004), MS_VR_CS, "RGB");
    ms_dataset_remove(ds, MS_TAG(0x0028, 0x0002));
    if (ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0002), MS_VR_US, 3, NULL) != MS_OK)
        exit(1);
}

static void smaller(struct ms_dataset *ds, void *ctx)
{
    (void)ctx;
    if (ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0010), MS_VR_US, 128, NULL) != MS_OK)
        exit(1);
}

static void no_spacing(struct ms_dataset *ds, void *ctx)
{
    (void)ctx;
    ms_dataset_remove(ds, MS_TAG(0x0028, 0x0030));
}

static void refused(fx_edit_fn edit, ms_status want)
{
    struct opened o;
    ms_status st;
    tu_mkdtemp(o.dir, sizeof o.dir);
    fx_copy_slices(o.dir, 1, 3);
    fx_edit_slice(o.dir, "CT0002.dcm", 2, edit, NULL);
    open_dir(&o, &st);
    CHECK_INT(st, want);
    CHECK(o.vol == NULL);
    close_dir(&o);
}

static void test_three_samples_refused(void) { refused(three_samples, MS_EUNSUPPORTED); }
static void test_mixed_sizes_refused(void) { refused(smaller, MS_EUNSUPPORTED); }
static void test_no_spacing_refused(void) { refused(no_spacing, MS_EMALFORMED); }

int main(void)
{
    test_geometry_and_values();
    test_sorted_by_position();
    test_resample();
    test_nifti();
    test_no_such_stack();
    test_bad_resample();
    test_slice_out_of_range();
    test_nifti_unwritable();
    test_file_gone();
    test_one_slice_resample();
    test_three_samples_refused();
    test_mixed_sizes_refused();
    test_no_spacing_refused();
    return check_done();
}
