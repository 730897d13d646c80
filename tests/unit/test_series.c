/* Unit tests of scans, grouping and the dataset-level checks (duplicates,
 * consistency, slice geometry) on copies of the bundled CT series, intact
 * and broken: a slice removed, duplicated, shifted, from another series,
 * with another orientation, off the axis, tilted; 4D separation. */
#include "series_fixture.h"

#include <sys/stat.h>

#define T_IPP MS_TAG(0x0020, 0x0032)
#define T_IOP MS_TAG(0x0020, 0x0037)

/* ---- edits ----------------------------------------------------------------------------- */

struct position {
    double dx, dy, dz;
};

/* Move Image Position (Patient) of the slice (the series is axial, IPP
 * -122.5\-122.5\(i-1)*1.5). */
static void move_slice(struct ms_dataset *ds, void *ctx)
{
    const struct position *p = ctx;
    double x, y, z;
    char text[96];
    ms_dataset_get_double(ds, T_IPP, 0, &x);
    ms_dataset_get_double(ds, T_IPP, 1, &y);
    ms_dataset_get_double(ds, T_IPP, 2, &z);
    snprintf(text, sizeof text, "%.4f\\%.4f\\%.4f", x + p->dx, y + p->dy, z + p->dz);
    fx_set_string(ds, T_IPP, MS_VR_DS, text);
}

static void new_uid(struct ms_dataset *ds, void *ctx)
{
    fx_set_string(ds, MS_TAG(0x0008, 0x0018), MS_VR_UI, (const char *)ctx);
}

/* Another patient, study and frame of reference under the same series UID. */
static void foreign(struct ms_dataset *ds, void *ctx)
{
    (void)ctx;
    fx_set_string(ds, MS_TAG(0x0010, 0x0020), MS_VR_LO, "SOMEONE-ELSE");
    fx_set_string(ds, MS_TAG(0x0020, 0x000D), MS_VR_UI, "1.2.3.4.5.6.7");
    fx_set_string(ds, MS_TAG(0x0020, 0x0052), MS_VR_UI, "1.2.3.4.5.6.8");
    fx_set_string(ds, MS_TAG(0x0008, 0x0018), MS_VR_UI, "1.2.3.4.5.6.9");
}

static void other_series(struct ms_dataset *ds, void *ctx)
{
    (void)ctx;
    fx_set_string(ds, MS_TAG(0x0020, 0x000E), MS_VR_UI, "1.2.3.4.5.6.10");
    fx_set_string(ds, MS_TAG(0x0008, 0x0018), MS_VR_UI, "1.2.3.4.5.6.11");
}

/* Coronal orientation; a new SOP Instance UID when ctx is one. */
static void coronal(struct ms_dataset *ds, void *ctx)
{
    fx_set_string(ds, T_IOP, MS_VR_DS, "1\\0\\0\\0\\0\\-1");
    if (ctx)
        new_uid(ds, ctx);
}

/* Slice i of a 4D copy: temporal position ctx, new UID. */
struct temporal {
    int position;
    int slice;
};

static void temporal(struct ms_dataset *ds, void *ctx)
{
    const struct temporal *t = ctx;
    char text[64];
    snprintf(text, sizeof text, "%d", t->position);
    fx_set_string(ds, MS_TAG(0x0020, 0x0100), MS_VR_IS, text);
    snprintf(text, sizeof text, "1.2.3.4.5.%d.%d", t->position, t->slice);
    fx_set_string(ds, MS_TAG(0x0008, 0x0018), MS_VR_UI, text);
}

/* ---- positive ------------------------------------------------------------------------- */

static void test_intact_series(void)
{
    char dir[256];
    struct ms_scan *scan;
    struct fx_findings c;
    const struct ms_series *se;
    const struct ms_series_info *in;
    struct ms_stack_info si;
    struct ms_error err;

    tu_mkdtemp(dir, sizeof dir);
    fx_copy_slices(dir, 1, FX_SLICES);
    fx_scan_check(dir, &scan, &c);
    CHECK_INT(c.n, 0);
    CHECK_INT(ms_scan_instance_count(scan), FX_SLICES);
    CHECK_INT(ms_scan_skipped_count(scan), 0);
    CHECK_INT(ms_scan_series_count(scan), 1);
    se = ms_scan_series(scan, 0);
    in = ms_series_get_info(se);
    CHECK_STR(in->modality, "CT");
    CHECK_STR(in->patient_id, "PROMED-CT-0051");
    CHECK_INT(in->instances, FX_SLICES);
    CHECK_INT(in->frames, FX_SLICES);
    CHECK_INT(in->rows, 256);
    CHECK_INT(in->stacks, 1);
    CHECK(in->slice_spacing > 1.4999 && in->slice_spacing < 1.5001);
    CHECK_INT(ms_series_instance(se, 0)->instance_number, 1);
    CHECK_INT(ms_series_instance(se, FX_SLICES - 1)->instance_number, FX_SLICES);
    CHECK_INT(ms_series_stack_info(se, 0, &si, &err), MS_OK);
    CHECK(si.uniform);
    CHECK_INT(si.frames, FX_SLICES);
    CHECK(si.normal[2] > 0.999);
    CHECK(si.last[2] - si.first[2] > 160.4 && si.last[2] - si.first[2] < 160.6);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

/* Files that are not DICOM are skipped with a note, in any directory. */
static int notes;
static void count_note(void *ctx, const char *path, ms_status why, const char *note)
{
    (void)ctx;
    (void)path;
    (void)note;
    notes += why == MS_ENOTFOUND;
}

static void test_skips_non_dicom(void)
{
    char dir[256], sub[300], path[400];
    struct ms_scan *scan = NULL;
    struct ms_scan_options opt = {0};
    struct ms_error err;
    FILE *f;

    tu_mkdtemp(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/deeper", dir);
    mkdir(sub, 0700);
    fx_copy_slices(sub, 1, 3);
    snprintf(path, sizeof path, "%s/README", dir);
    f = fopen(path, "w");
    fputs("not an image\n", f);
    fclose(f);
    opt.note = count_note;
    notes = 0;
    CHECK_INT(ms_scan_create(&scan, &opt, &err), MS_OK);
    CHECK_INT(ms_scan_add(scan, dir, &err), MS_OK);
    CHECK_INT(ms_scan_instance_count(scan), 3);
    CHECK_INT(ms_scan_skipped_count(scan), 1);
    CHECK_INT(notes, 1);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

/* A gantry tilt shears the stack: a note, no error. */
static void test_tilted_series(void)
{
    char dir[256], name[32];
    struct ms_scan *scan;
    struct fx_findings c;

    tu_mkdtemp(dir, sizeof dir);
    for (int i = 1; i <= 12; i++) {
        struct position p = {0, 0.2 * 1.5 * (i - 1), 0};
        snprintf(name, sizeof name, "CT%04d.dcm", i);
        fx_edit_slice(dir, name, i, move_slice, &p);
    }
    fx_scan_check(dir, &scan, &c);
    CHECK_INT(c.errors, 0);
    CHECK_INT(fx_count(&c, "sheared", 0, NULL), 1);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

/* Two temporal positions of the same slices are two stacks, not duplicates. */
static void test_4d_separated(void)
{
    char dir[256], name[32];
    struct ms_scan *scan;
    struct fx_findings c;
    const struct ms_series *se;
    struct ms_stack_info a, b;
    struct ms_error err;

    tu_mkdtemp(dir, sizeof dir);
    for (int t = 1; t <= 2; t++)
        for (int i = 1; i <= 10; i++) {
            struct temporal tp = {t, i};
            snprintf(name, sizeof name, "T%dS%02d.dcm", t, i);
            fx_edit_slice(dir, name, i, temporal, &tp);
        }
    fx_scan_check(dir, &scan, &c);
    CHECK_INT(c.errors, 0);
    se = ms_scan_series(scan, 0);
    CHECK_INT(ms_series_stack_count(se), 2);
    CHECK_INT(ms_series_stack_info(se, 0, &a, &err), MS_OK);
    CHECK_INT(ms_series_stack_info(se, 1, &b, &err), MS_OK);
    CHECK_INT(a.frames, 10);
    CHECK_INT(b.frames, 10);
    CHECK(a.temporal != b.temporal);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

/* ---- negative --------------------------------------------------------------------------- */

static void broken_copy(char *dir, size_t cap, int skip)
{
    tu_mkdtemp(dir, cap);
    if (skip > 1)
        fx_copy_slices(dir, 1, skip - 1);
    fx_copy_slices(dir, skip + 1, 20);
}

/* Slices 1-20 in a new dir, slice 10 edited by edit; scanned and checked. */
static void edited_series(char *dir, size_t cap, fx_edit_fn edit, void *ctx,
                          struct ms_scan **scan, struct fx_findings *c)
{
    tu_mkdtemp(dir, cap);
    fx_copy_slices(dir, 1, 9);
    fx_copy_slices(dir, 11, 20);
    fx_edit_slice(dir, "CT0010.dcm", 10, edit, ctx);
    fx_scan_check(dir, scan, c);
}

static void test_slice_removed(void)
{
    char dir[256];
    struct ms_scan *scan;
    struct fx_findings c;

    broken_copy(dir, sizeof dir, 10);
    fx_scan_check(dir, &scan, &c);
    CHECK_INT(fx_count(&c, "gap", T_IPP, "CT0011.dcm"), 1);
    CHECK(strstr(c.n ? c.f[0].message : "", "1 missing slice between") != NULL);
    CHECK(strstr(c.n ? c.f[0].message : "", "CT0009.dcm") != NULL);
    CHECK_INT(c.errors, 1);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

static void test_three_slices_removed(void)
{
    char dir[256];
    struct ms_scan *scan;
    struct fx_findings c;

    tu_mkdtemp(dir, sizeof dir);
    fx_copy_slices(dir, 1, 5);
    fx_copy_slices(dir, 9, 20);
    fx_scan_check(dir, &scan, &c);
    CHECK_INT(fx_count(&c, "gap", 0, "CT0009.dcm"), 1);
    CHECK(strstr(c.n ? c.f[0].message : "", "3 missing slices") != NULL);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

static void test_slice_duplicated(void)
{
    char dir[256], copy[300];
    struct ms_scan *scan;
    struct fx_findings c;

    tu_mkdtemp(dir, sizeof dir);
    fx_copy_slices(dir, 1, 20);
    snprintf(copy, sizeof copy, "%s/copy-of-7.dcm", dir);
    tu_copy_file(tu_ct(7), copy);
    fx_scan_check(dir, &scan, &c);
    CHECK_INT(fx_count(&c, "duplicate-uid", MS_TAG(0x0008, 0x0018), NULL), 1);
    CHECK_INT(fx_count(&c, "duplicate-position", T_IPP, NULL), 1);
    CHECK_INT(fx_count(&c, "gap", 0, NULL), 0);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

static void test_slice_duplicated_new_uid(void)
{
    char dir[256];
    struct ms_scan *scan;
    struct fx_findings c;

    tu_mkdtemp(dir, sizeof dir);
    fx_copy_slices(dir, 1, 20);
    fx_edit_slice(dir, "again.dcm", 7, new_uid, "1.2.3.4.5.6.99");
    fx_scan_check(dir, &scan, &c);
    CHECK_INT(fx_count(&c, "duplicate-uid", 0, NULL), 0);
    CHECK_INT(fx_count(&c, "duplicate-position", T_IPP, NULL), 1);
    CHECK_INT(c.errors, 1);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

static void test_slice_shifted(void)
{
    char dir[256];
    struct ms_scan *scan;
    struct fx_findings c;
    struct position p = {0, 0, 0.5};

    edited_series(dir, sizeof dir, move_slice, &p, &scan, &c);
    CHECK_INT(fx_count(&c, "irregular-spacing", T_IPP, "CT0010.dcm"), 1);
    CHECK_INT(c.errors, 1);
    if (c.errors != 1)
        fx_dump(&c);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

static void test_slice_off_axis(void)
{
    char dir[256];
    struct ms_scan *scan;
    struct fx_findings c;
    struct position p = {4.0, 0, 0};

    edited_series(dir, sizeof dir, move_slice, &p, &scan, &c);
    CHECK_INT(fx_count(&c, "off-axis", T_IPP, "CT0010.dcm"), 1);
    CHECK_INT(c.errors, 1);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

static void test_slice_from_another_patient(void)
{
    char dir[256];
    struct ms_scan *scan;
    struct fx_findings c;

    edited_series(dir, sizeof dir, foreign, NULL, &scan, &c);
    CHECK_INT(fx_count(&c, "series-mismatch", MS_TAG(0x0010, 0x0020), "CT0010.dcm"), 1);
    CHECK_INT(fx_count(&c, "series-mismatch", MS_TAG(0x0020, 0x000D), "CT0010.dcm"), 1);
    CHECK_INT(fx_count(&c, "series-mismatch", MS_TAG(0x0020, 0x0052), "CT0010.dcm"), 1);
    CHECK_INT(ms_scan_series_count(scan), 1);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

static void test_slice_from_another_series(void)
{
    char dir[256];
    struct ms_scan *scan;
    struct fx_findings c;

    edited_series(dir, sizeof dir, other_series, NULL, &scan, &c);
    CHECK_INT(ms_scan_series_count(scan), 2);
    CHECK_INT(fx_count(&c, "gap", T_IPP, "CT0011.dcm"), 1);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

static void test_mixed_orientation(void)
{
    char dir[256];
    struct ms_scan *scan;
    struct fx_findings c;

    tu_mkdtemp(dir, sizeof dir);
    fx_copy_slices(dir, 1, 20);
    fx_edit_slice(dir, "CT0005.dcm", 5, coronal, NULL); /* replaces slice 5: a gap too */
    fx_scan_check(dir, &scan, &c);
    CHECK_INT(fx_count(&c, "mixed-orientation", T_IOP, "CT0005.dcm"), 1);
    CHECK_INT(fx_count(&c, "gap", 0, "CT0006.dcm"), 1);
    CHECK_INT(ms_series_stack_count(ms_scan_series(scan, 0)), 2);
    ms_scan_destroy(scan);
    tu_rmtree(dir);
}

static void test_bad_arguments(void)
{
    struct ms_scan *scan = NULL;
    struct ms_error err = {0};
    struct ms_stack_info si;
    char dir[256];

    CHECK_INT(ms_scan_create(&scan, NULL, &err), MS_OK);
    CHECK_INT(ms_scan_add(scan, "/nonexistent/medseal/path", &err), MS_EIO);
    CHECK_INT(ms_scan_instance_count(scan), 0);
    CHECK_INT(ms_scan_series_count(scan), 0);
    CHECK(ms_scan_series(scan, 0) == NULL);
    tu_mkdtemp(dir, sizeof dir);
    fx_copy_slices(dir, 1, 2);
    CHECK_INT(ms_scan_add(scan, dir, &err), MS_OK);
    CHECK_INT(ms_series_stack_info(ms_scan_series(scan, 0), 5, &si, &err), MS_ENOTFOUND);
    CHECK(ms_series_instance(ms_scan_series(scan, 0), 2) == NULL);
    ms_scan_destroy(scan);
    ms_scan_destroy(NULL);
    tu_rmtree(dir);
}

int main(void)
{
    test_intact_series();
    test_skips_non_dicom();
    test_tilted_series();
    test_4d_separated();
    test_slice_removed();
    test_three_slices_removed();
    test_slice_duplicated();
    test_slice_duplicated_new_uid();
    test_slice_shifted();
    test_slice_off_axis();
    test_slice_from_another_patient();
    test_slice_from_another_series();
    test_mixed_orientation();
    test_bad_arguments();
    return check_done();
}
