/* Unit tests of the dataset seal: the streaming DRR projector against a
 * direct isotropic-volume reference, its independence from order and
 * threads, the Merkle tree, the seal file (every truncation and a sweep of
 * one-byte edits are rejected), verification (wrong key, untrusted signer)
 * and every tamper kind detected and localised on a synthetic study. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "medseal/crypto.h"
#include "medseal/seal.h"
#include "medseal/util.h"
#include "seal/seal_internal.h"
#include "testutil.h"

/* ---- a reference DRR: the isotropic volume built explicitly ------------------------------ */

struct vol {
    struct ms_drr_geometry g;
    size_t n;
    double pos[16];
    double slope[16], intercept[16];
    int32_t *stored; /* n slices of rows * columns */
};

static double hu(const struct vol *v, size_t k, uint32_t r, uint32_t c)
{
    return v->slope[k] * v->stored[(k * v->g.rows + r) * v->g.columns + c] + v->intercept[k];
}

/* Linear interpolation along an in-plane axis at t native units. */
static void split(double t, uint32_t n, uint32_t *i, double *f)
{
    *i = (uint32_t)floor(t);
    *f = t - *i;
    if (*i >= n - 1) {
        *i = n - 1;
        *f = 0;
    }
}

/* Isotropic voxel (iu, iv, iw) of the volume, air outside the slices present. */
static double voxel(const struct vol *v, double iso, uint32_t iu, uint32_t iv, uint32_t iw)
{
    double t = v->g.z0 + iw * iso, fu, fv, fw, val[2];
    uint32_t u0, v0;
    size_t k = 0;
    if (v->n == 0 || t < v->pos[0] - 1e-6 || t > v->pos[v->n - 1] + 1e-6)
        return -1024;
    t = fmin(fmax(t, v->pos[0]), v->pos[v->n - 1]);
    while (k + 1 < v->n && v->pos[k + 1] <= t)
        k++;
    fw = k + 1 < v->n ? (t - v->pos[k]) / (v->pos[k + 1] - v->pos[k]) : 0;
    split(iu * iso / v->g.column_spacing, v->g.columns, &u0, &fu);
    split(iv * iso / v->g.row_spacing, v->g.rows, &v0, &fv);
    for (int s = 0; s < 2; s++) {
        size_t kk = k + (size_t)s < v->n ? k + (size_t)s : k;
        double a = hu(v, kk, v0, u0) * (1 - fu) + (fu ? hu(v, kk, v0, u0 + 1) * fu : 0);
        double b = fv ? hu(v, kk, v0 + 1, u0) * (1 - fu) + (fu ? hu(v, kk, v0 + 1, u0 + 1) * fu : 0)
                      : 0;
        val[s] = a * (1 - fv) + b * fv;
    }
    return val[0] * (1 - fw) + (fw ? val[1] * fw : 0);
}

/* The DRR of view by patient coordinates: every voxel goes to the pixel its
 * position falls on; the mean of each pixel's voxels. */
static double *reference(const struct vol *v, ms_drr_view view, uint32_t *w, uint32_t *h)
{
    static const int ray[3] = {1, 0, 2}, hp[3] = {0, 1, 0}, vp[3] = {2, 2, 1};
    static const bool vdown[3] = {true, true, false};
    double iso = fmin(v->g.row_spacing, v->g.column_spacing), dir[3][3], lo[3], hi[3];
    uint32_t m[3], x, y;
    double *sum, *cnt;
    const double *o = v->g.orientation;
    m[0] = (uint32_t)floor((v->g.columns - 1) * v->g.column_spacing / iso + 1e-6) + 1;
    m[1] = (uint32_t)floor((v->g.rows - 1) * v->g.row_spacing / iso + 1e-6) + 1;
    m[2] = (uint32_t)floor(v->g.extent / iso + 1e-6) + 1;
    for (int i = 0; i < 3; i++) {
        dir[0][i] = o[i];
        dir[1][i] = o[3 + i];
    }
    dir[2][0] = o[1] * o[5] - o[2] * o[4];
    dir[2][1] = o[2] * o[3] - o[0] * o[5];
    dir[2][2] = o[0] * o[4] - o[1] * o[3];
    for (int p = 0; p < 3; p++) { /* extent of the grid along each patient axis */
        lo[p] = hi[p] = 0;
        for (int a = 0; a < 3; a++) {
            double d = dir[a][p] * (m[a] - 1) * iso;
            lo[p] += d < 0 ? d : 0;
            hi[p] += d > 0 ? d : 0;
        }
    }
    *w = (uint32_t)llround((hi[hp[view]] - lo[hp[view]]) / iso) + 1;
    *h = (uint32_t)llround((hi[vp[view]] - lo[vp[view]]) / iso) + 1;
    sum = calloc((size_t)*w * *h, sizeof *sum);
    cnt = calloc((size_t)*w * *h, sizeof *cnt);
    for (uint32_t iw = 0; iw < m[2]; iw++)
        for (uint32_t iv = 0; iv < m[1]; iv++)
            for (uint32_t iu = 0; iu < m[0]; iu++) {
                double p[3];
                for (int k = 0; k < 3; k++)
                    p[k] = (dir[0][k] * iu + dir[1][k] * iv + dir[2][k] * iw) * iso;
                x = (uint32_t)llround((p[hp[view]] - lo[hp[view]]) / iso);
                y = (uint32_t)llround(vdown[view] ? (hi[vp[view]] - p[vp[view]]) / iso
                                                  : (p[vp[view]] - lo[vp[view]]) / iso);
                sum[(size_t)y * *w + x] += voxel(v, iso, iu, iv, iw);
                cnt[(size_t)y * *w + x] += 1;
            }
    (void)ray;
    for (size_t i = 0; i < (size_t)*w * *h; i++)
        sum[i] = cnt[i] ? sum[i] / cnt[i] : NAN;
    free(cnt);
    return sum;
}

/* bounded: the stored values given with the bounds fill() keeps them in */
static struct ms_image *project_ex(const struct vol *v, ms_drr_view view, unsigned threads,
                                   bool reverse, bool bounded)
{
    struct ms_drr *d = NULL;
    struct ms_image *img = NULL;
    size_t px = (size_t)v->g.rows * v->g.columns;
    if (ms_drr_create(&d, &v->g, v->pos, v->n, 7u, threads, NULL) != MS_OK)
        return NULL;
    for (size_t i = 0; i < v->n; i++) {
        size_t k = reverse ? v->n - 1 - i : i;
        ms_status st =
            bounded ? ms_drr_add_slice_bounded(d, k, v->stored + k * px, 0, 1999, v->slope[k],
                                               v->intercept[k], NULL)
                    : ms_drr_add_slice(d, k, v->stored + k * px, v->slope[k], v->intercept[k], NULL);
        if (st != MS_OK)
            break;
    }
    if (ms_drr_finish(d, view, &img, NULL) != MS_OK)
        img = NULL;
    ms_drr_destroy(d);
    return img;
}

static struct ms_image *project(const struct vol *v, ms_drr_view view, unsigned threads,
                                bool reverse)
{
    return project_ex(v, view, threads, reverse, false);
}

static void check_against_reference(const struct vol *v, const char *what)
{
    for (int view = 0; view < MS_DRR_VIEW_COUNT; view++) {
        uint32_t w, h, bad = 0;
        double *ref = reference(v, (ms_drr_view)view, &w, &h);
        struct ms_image *img = project(v, (ms_drr_view)view, 2, false);
        CHECK(img != NULL);
        if (!img) {
            free(ref);
            continue;
        }
        CHECK_INT(img->width, w);
        CHECK_INT(img->height, h);
        for (size_t i = 0; img->width == w && img->height == h && i < (size_t)w * h; i++)
            if (!(fabs(((int32_t *)img->data)[i] - ref[i]) <= 0.5 + 1e-3))
                bad++;
        if (bad)
            fprintf(stderr, "%s view %s: %u pixels off the reference\n", what,
                    ms_drr_view_name((ms_drr_view)view), bad);
        CHECK_INT(bad, 0);
        ms_image_destroy(img);
        free(ref);
    }
}

static void fill(struct vol *v, uint32_t seed)
{
    size_t px = (size_t)v->g.rows * v->g.columns;
    v->stored = malloc(v->n * px * sizeof *v->stored);
    for (size_t i = 0; i < v->n * px; i++)
        v->stored[i] = (int32_t)((i * 2654435761u + seed) % 2000);
    for (size_t k = 0; k < v->n; k++) {
        v->slope[k] = 1;
        v->intercept[k] = -1024;
    }
}

static void test_drr_reference(void)
{
    /* axial, non-square pixels, irregular spacing with a duplicate, a
     * non-integral rescale, and a grid longer than the slices (air) */
    struct vol a = {{7, 9, 1.0, 0.5, {1, 0, 0, 0, 1, 0}, 0, 3.1}, 5, {0, 0.7, 2.0, 2.0, 3.1}, {0}, {0}, NULL};
    struct vol b = {{6, 8, 0.8, 0.8, {0, 1, 0, 0, 0, -1}, 0, 4.0}, 6, {0, 0.8, 1.6, 2.4, 3.2, 4.0}, {0}, {0}, NULL};
    struct vol c = {{5, 5, 1.0, 1.0, {-1, 0, 0, 0, -1, 0}, -2, 9}, 4, {0, 1, 2, 3}, {0}, {0}, NULL};
    fill(&a, 7);
    a.slope[1] = 2.5;
    a.intercept[1] = -3000.25;
    check_against_reference(&a, "axial");
    fill(&b, 11);
    check_against_reference(&b, "sagittal");
    fill(&c, 13);
    check_against_reference(&c, "flipped with air");
    /* order and threads do not change a single pixel */
    for (int view = 0; view < MS_DRR_VIEW_COUNT; view++) {
        struct ms_image *x = project(&a, (ms_drr_view)view, 1, false);
        struct ms_image *y = project(&a, (ms_drr_view)view, 5, true);
        struct ms_image *z = project_ex(&a, (ms_drr_view)view, 2, false, true);
        CHECK(x && y && x->width == y->width && x->height == y->height &&
              !memcmp(x->data, y->data, (size_t)x->width * x->height * 4));
        /* values given with their bounds (no range scan): the same image */
        CHECK(x && z && x->width == z->width && x->height == z->height &&
              !memcmp(x->data, z->data, (size_t)x->width * x->height * 4));
        ms_image_destroy(x);
        ms_image_destroy(y);
        ms_image_destroy(z);
    }
    free(a.stored);
    free(b.stored);
    free(c.stored);
}

static void test_drr_errors(void)
{
    struct ms_drr_geometry g = {4, 4, 1, 1, {1, 0, 0, 0, 1, 0}, 0, 2};
    struct ms_drr_geometry oblique = g;
    double pos[3] = {0, 1, 2}, down[3] = {0, 2, 1}, nan_pos[2] = {0, NAN};
    int32_t px[16] = {0}, big[16] = {40000};
    struct ms_drr *d = NULL;
    struct ms_image *img = NULL;
    struct ms_error err;
    ms_drr_view v;
    uint32_t w, h;

    oblique.orientation[0] = oblique.orientation[1] = 0.70710678;
    oblique.orientation[3] = -0.70710678;
    oblique.orientation[4] = 0.70710678;
    CHECK_INT(ms_drr_create(&d, &g, pos, 3, 0, 1, &err), MS_EUSAGE);
    CHECK_INT(ms_drr_create(&d, &g, down, 3, 1, 1, &err), MS_EUSAGE);
    CHECK_INT(ms_drr_create(&d, &g, nan_pos, 2, 1, 1, &err), MS_EUSAGE);
    CHECK_INT(ms_drr_create(&d, &oblique, pos, 3, 1, 1, &err), MS_EUNSUPPORTED);
    CHECK_INT(ms_drr_size(&oblique, MS_DRR_AP, &w, &h, &err), MS_EUNSUPPORTED);
    g.rows = MS_DRR_MAX_SIDE + 1;
    CHECK_INT(ms_drr_create(&d, &g, pos, 3, 1, 1, &err), MS_ELIMIT);
    g.rows = 4;
    g.row_spacing = 0;
    CHECK_INT(ms_drr_create(&d, &g, pos, 3, 1, 1, &err), MS_EUSAGE);
    g.row_spacing = 1;
    g.extent = -1;
    CHECK_INT(ms_drr_create(&d, &g, pos, 3, 1, 1, &err), MS_EUSAGE);
    g.extent = 2;
    CHECK(d == NULL);
    CHECK_INT(ms_drr_create(&d, &g, pos, 3, 1u << MS_DRR_AP, 1, &err), MS_OK);
    CHECK_INT(ms_drr_add_slice(d, 3, px, 1, 0, &err), MS_EUSAGE);
    CHECK_INT(ms_drr_add_slice(d, 0, px, NAN, 0, &err), MS_EUSAGE);
    CHECK_INT(ms_drr_add_slice(d, 0, big, 1, 0, &err), MS_ELIMIT);
    /* bounds that do not settle the range: the values are scanned all the same */
    CHECK_INT(ms_drr_add_slice_bounded(d, 0, big, 0, 65535, 1, 0, &err), MS_ELIMIT);
    CHECK_INT(ms_drr_add_slice_bounded(d, 0, big, INT32_MIN, INT32_MAX, 1, 0, &err), MS_ELIMIT);
    /* bounds of 12-bit unsigned values with HU = v - 1024: no scan, same slice */
    CHECK_INT(ms_drr_add_slice_bounded(d, 1, px, 0, 4095, 1, -1024, &err), MS_OK);
    CHECK_INT(ms_drr_add_slice(d, 0, px, 1, 0, &err), MS_OK);
    CHECK_INT(ms_drr_add_slice(d, 0, px, 1, 0, &err), MS_EUSAGE);
    CHECK_INT(ms_drr_finish(d, MS_DRR_SI, &img, &err), MS_EUSAGE);
    CHECK_INT(ms_drr_finish(d, MS_DRR_AP, &img, &err), MS_OK);
    /* slices 1 and 2 never added: air there */
    CHECK(img && ((int32_t *)img->data)[0] == -1024);
    ms_image_destroy(img);
    ms_drr_destroy(d);
    ms_drr_destroy(NULL);
    CHECK(ms_drr_view_parse("Coronal", &v) && v == MS_DRR_AP);
    CHECK(ms_drr_view_parse("si", &v) && v == MS_DRR_SI);
    CHECK(!ms_drr_view_parse("xy", &v));
    CHECK(!ms_drr_view_parse(NULL, &v));
    CHECK_STR(ms_drr_view_name(MS_DRR_LR), "lr");
    CHECK_STR(ms_drr_view_name((ms_drr_view)9), "?");
}

/* ---- Merkle tree ------------------------------------------------------------------------------ */

static void node(const uint8_t *l, const uint8_t *r, uint8_t *out)
{
    uint8_t buf[65];
    buf[0] = 1;
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    CHECK_INT(ms_sha256(buf, sizeof buf, out, NULL), MS_OK);
}

static void test_merkle(void)
{
    uint8_t leaves[5][32], copy[5][32], root[32], want[32], ab[32], cd[32], abcd[32];
    const char *recs[5] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++)
        CHECK_INT(msi_merkle_leaf(recs[i], 1, leaves[i], NULL), MS_OK);
    /* leaf = SHA-256(0x00 || "a") */
    CHECK_INT(ms_sha256("\0a", 2, want, NULL), MS_OK);
    CHECK(!memcmp(leaves[0], want, 32));
    memcpy(copy, leaves, sizeof copy);
    CHECK_INT(msi_merkle_root(copy, 1, root, NULL), MS_OK);
    CHECK(!memcmp(root, leaves[0], 32));
    /* five leaves: ((ab)(cd)) e, split at 4 as RFC 6962 */
    node(leaves[0], leaves[1], ab);
    node(leaves[2], leaves[3], cd);
    node(ab, cd, abcd);
    node(abcd, leaves[4], want);
    memcpy(copy, leaves, sizeof copy);
    CHECK_INT(msi_merkle_root(copy, 5, root, NULL), MS_OK);
    CHECK(!memcmp(root, want, 32));
    /* three leaves: (ab) c */
    node(ab, leaves[2], want);
    memcpy(copy, leaves, sizeof copy);
    CHECK_INT(msi_merkle_root(copy, 3, root, NULL), MS_OK);
    CHECK(!memcmp(root, want, 32));
    CHECK_INT(msi_merkle_root(copy, 0, root, NULL), MS_OK);
    CHECK_INT(ms_sha256("", 0, want, NULL), MS_OK);
    CHECK(!memcmp(root, want, 32));
}

/* ---- a synthetic study on disk ---------------------------------------------------------------- */

static void path_in(char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/%s", tu_dir, rel);
}

static void write_slice_t(const char *dir, int i, uint32_t size, double z, const char *series,
                          int temporal)
{
    struct ms_file *f = NULL;
    struct ms_dataset *ds;
    char path[512], uid[80], text[80];
    uint16_t *px = malloc((size_t)size * size * 2);
    path_in(path, sizeof path, dir);
    mkdir(path, 0755);
    snprintf(path + strlen(path), sizeof path - strlen(path), "/S%03d.dcm", i);
    CHECK_INT(ms_file_create(&f, NULL, NULL), MS_OK);
    ds = ms_file_dataset(f);
    snprintf(uid, sizeof uid, "1.2.826.0.1.3680043.10.999.%s.%d.%d", series, i, temporal + 1);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0008, 0x0016), MS_VR_UI, "1.2.840.10008.5.1.4.1.1.2", NULL), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0008, 0x0018), MS_VR_UI, uid, NULL), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0008, 0x0060), MS_VR_CS, "CT", NULL), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0010, 0x0010), MS_VR_PN, "TEST^SEAL", NULL), MS_OK);
    snprintf(uid, sizeof uid, "1.2.826.0.1.3680043.10.999.%s", series);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0020, 0x000E), MS_VR_UI, uid, NULL), MS_OK);
    CHECK_INT(ms_dataset_set_int(ds, MS_TAG(0x0020, 0x0013), MS_VR_IS, i, NULL), MS_OK);
    if (temporal >= 0)
        CHECK_INT(ms_dataset_set_int(ds, MS_TAG(0x0020, 0x0100), MS_VR_IS, temporal, NULL), MS_OK);
    snprintf(text, sizeof text, "0\\0\\%g", z);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0020, 0x0032), MS_VR_DS, text, NULL), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0020, 0x0037), MS_VR_DS, "1\\0\\0\\0\\1\\0", NULL), MS_OK);
    CHECK_INT(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0002), MS_VR_US, 1, NULL), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0028, 0x0004), MS_VR_CS, "MONOCHROME2", NULL), MS_OK);
    CHECK_INT(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0010), MS_VR_US, size, NULL), MS_OK);
    CHECK_INT(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0011), MS_VR_US, size, NULL), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0028, 0x0030), MS_VR_DS, "1\\1", NULL), MS_OK);
    CHECK_INT(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0100), MS_VR_US, 16, NULL), MS_OK);
    CHECK_INT(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0101), MS_VR_US, 12, NULL), MS_OK);
    CHECK_INT(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0102), MS_VR_US, 11, NULL), MS_OK);
    CHECK_INT(ms_dataset_set_int(ds, MS_TAG(0x0028, 0x0103), MS_VR_US, 0, NULL), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0028, 0x1052), MS_VR_DS, "-1024", NULL), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0028, 0x1053), MS_VR_DS, "1", NULL), MS_OK);
    for (uint32_t y = 0; y < size; y++)
        for (uint32_t x = 0; x < size; x++) {
            double r = hypot(x - size / 2.0, y - size / 2.0);
            px[y * size + x] = (uint16_t)(r < size / 3.0 + temporal
                                              ? 1024 + 40 + (x * 7 + y * 3 + i * 11) % 200 : 0);
        }
    CHECK_INT(ms_dataset_set_bytes(ds, MS_TAG_PIXEL_DATA, MS_VR_OW, px, (size_t)size * size * 2, NULL), MS_OK);
    CHECK_INT(ms_file_write(f, path, NULL, NULL), MS_OK);
    ms_file_destroy(f);
    free(px);
}

static void write_slice(const char *dir, int i, uint32_t size, double z, const char *series)
{
    write_slice_t(dir, i, size, z, series, -1);
}

static void write_object(const char *rel)
{
    struct ms_file *f = NULL;
    struct ms_dataset *ds;
    char path[512];
    path_in(path, sizeof path, rel);
    CHECK_INT(ms_file_create(&f, NULL, NULL), MS_OK);
    ds = ms_file_dataset(f);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0008, 0x0016), MS_VR_UI, "1.2.840.10008.5.1.4.1.1.481.5", NULL), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0008, 0x0018), MS_VR_UI, "1.2.826.0.1.3680043.10.999.77", NULL), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x0008, 0x0060), MS_VR_CS, "RTPLAN", NULL), MS_OK);
    CHECK_INT(ms_dataset_set_string(ds, MS_TAG(0x300A, 0x0002), MS_VR_SH, "PLAN1", NULL), MS_OK);
    CHECK_INT(ms_file_write(f, path, NULL, NULL), MS_OK);
    ms_file_destroy(f);
}

static void write_text(const char *rel, const char *text)
{
    char path[512];
    FILE *f;
    path_in(path, sizeof path, rel);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void make_study(void)
{
    for (int i = 1; i <= 12; i++)
        write_slice("study", i, 24, 1.5 * (i - 1), "1");
    write_slice("donor", 1, 16, 0, "2");
    write_object("study/plan.dcm");
    write_text("study/README.txt", "a plain file\n");
}

/* ---- seal and verify ---------------------------------------------------------------------------- */

struct keys {
    uint8_t k[32], k2[32];
    struct ms_pkey *ed, *ec, *other;
};

static ms_status seal_dir(const char *rel, const struct keys *ks, const struct ms_pkey *signer,
                          const char *seal_rel)
{
    char dir[512], seal[512];
    const char *in[1] = {dir};
    struct ms_study *s = NULL;
    struct ms_seal_options o = {ks->k, signer, 0, 0, 2, false};
    struct ms_seal_summary sum;
    ms_status st;
    path_in(dir, sizeof dir, rel);
    path_in(seal, sizeof seal, seal_rel);
    st = ms_study_scan(&s, in, 1, NULL, NULL);
    if (st == MS_OK)
        st = ms_seal_create(s, &o, seal, &sum, NULL);
    ms_study_destroy(s);
    return st;
}

static ms_status verify_dir(const char *rel, const char *seal_rel, const uint8_t *key,
                            const struct ms_pkey *trusted, struct ms_verify_result **r)
{
    char dir[512], seal[512];
    const char *in[1] = {dir};
    const struct ms_pkey *tr[1] = {trusted};
    struct ms_study *s = NULL;
    struct ms_verify_options o = {key, tr, trusted ? 1 : 0, 2, false};
    struct ms_study_options so = {seal, 0, false};
    struct ms_error err;
    ms_status st;
    path_in(dir, sizeof dir, rel);
    path_in(seal, sizeof seal, seal_rel);
    *r = NULL;
    st = ms_study_scan(&s, in, 1, &so, &err);
    if (st == MS_OK)
        st = ms_seal_verify(s, seal, &o, r, &err);
    ms_study_destroy(s);
    return st;
}

static void test_seal_intact(const struct keys *ks)
{
    struct ms_verify_result *r = NULL;
    CHECK_INT(seal_dir("study", ks, ks->ed, "study.seal"), MS_OK);
    CHECK_INT(seal_dir("study", ks, ks->ec, "study-ec.seal"), MS_OK);
    CHECK_INT(verify_dir("study", "study.seal", ks->k, ks->ed, &r), MS_OK);
    CHECK(r && ms_verify_status(r) == MS_OK && ms_verify_change_count(r) == 0);
    CHECK(r && ms_verify_drr_count(r) == 1 && ms_verify_drr(r, 0)->changed == 0);
    CHECK(r && ms_verify_sealed_count(r) == 14 && ms_verify_merkle_ok(r));
    ms_verify_result_destroy(r);
    CHECK_INT(verify_dir("study", "study-ec.seal", ks->k, ks->ec, &r), MS_OK);
    CHECK(r && ms_verify_status(r) == MS_OK && !strcmp(ms_verify_algorithm(r), "ecdsa-p256-sha256"));
    ms_verify_result_destroy(r);
    /* wrong key: a clean failure, the manifest still compared */
    CHECK_INT(verify_dir("study", "study.seal", ks->k2, ks->ed, &r), MS_OK);
    CHECK(r && ms_verify_status(r) == MS_EKEY && !ms_verify_key_ok(r) && ms_verify_drr_count(r) == 0);
    ms_verify_result_destroy(r);
    /* untrusted signer, and no trusted key at all */
    CHECK_INT(verify_dir("study", "study.seal", ks->k, ks->ec, &r), MS_OK);
    CHECK(r && ms_verify_status(r) == MS_EKEY && ms_verify_trust(r) == MS_TRUST_UNTRUSTED);
    ms_verify_result_destroy(r);
    CHECK_INT(verify_dir("study", "study.seal", ks->k, NULL, &r), MS_OK);
    CHECK(r && ms_verify_status(r) == MS_EKEY);
    ms_verify_result_destroy(r);
}

static void test_seal_options(const struct keys *ks)
{
    struct ms_study *s = NULL;
    char dir[512];
    const char *in[1] = {dir};
    struct ms_seal_options o = {ks->k, NULL, 0, 0, 1, false};
    struct ms_pkey *rsa = NULL, *pub = NULL;
    uint8_t *der = NULL;
    size_t len = 0;
    struct ms_error err;
    path_in(dir, sizeof dir, "study");
    CHECK_INT(ms_study_scan(&s, in, 1, NULL, NULL), MS_OK);
    CHECK_INT(ms_seal_create(s, &o, "/nonexistent/x.seal", NULL, &err), MS_EUSAGE);
    o.signer = ks->ed;
    o.grid = 5;
    CHECK_INT(ms_seal_create(s, &o, "/nonexistent/x.seal", NULL, &err), MS_EUSAGE);
    o.grid = 8;
    CHECK_INT(ms_seal_create(s, &o, "/nonexistent/dir/x.seal", NULL, &err), MS_EIO);
    o.key = NULL;
    CHECK_INT(ms_seal_create(s, &o, "/nonexistent/x.seal", NULL, &err), MS_EUSAGE);
    o.key = ks->k;
    CHECK_INT(ms_pkey_public_der(ks->ed, &der, &len, NULL), MS_OK);
    CHECK_INT(ms_pkey_parse_public(&pub, der, len, NULL), MS_OK);
    o.signer = pub;
    CHECK_INT(ms_seal_create(s, &o, "/nonexistent/x.seal", NULL, &err), MS_EKEY);
    CHECK_INT(ms_pkey_generate(&rsa, MS_PKEY_RSA, 2048, NULL), MS_OK);
    o.signer = rsa;
    CHECK_INT(ms_seal_create(s, &o, "/nonexistent/x.seal", NULL, &err), MS_EUSAGE);
    ms_pkey_destroy(rsa);
    ms_pkey_destroy(pub);
    free(der);
    ms_study_destroy(s);
}

/* Every truncation of the seal is malformed; every one-byte edit fails. */
static void test_seal_damage(const struct keys *ks)
{
    size_t len, bad_trunc = 0, bad_edit = 0, edits = 0;
    uint8_t *seal = tu_slurp(tu_path("study.seal"), &len);
    struct ms_verify_result *r = NULL;
    ms_status st;
    CHECK(seal != NULL);
    if (!seal)
        return;
    for (size_t cut = 0; cut < len; cut++) {
        /* every line end (just before and after it) and every 41st byte */
        if (cut % 41 && seal[cut] != '\n' && (cut == 0 || seal[cut - 1] != '\n'))
            continue;
        tu_spit(tu_path("damaged.seal"), seal, cut);
        st = verify_dir("study", "damaged.seal", ks->k, ks->ed, &r);
        bad_trunc += st != MS_EMALFORMED || r != NULL;
        ms_verify_result_destroy(r);
    }
    CHECK_INT(bad_trunc, 0);
    for (size_t at = 0; at < len; at += 1 + len / 300) {
        uint8_t keep = seal[at];
        seal[at] = keep == 'A' ? 'B' : keep == '\n' ? ' ' : 'A';
        tu_spit(tu_path("damaged.seal"), seal, len);
        st = verify_dir("study", "damaged.seal", ks->k, ks->ed, &r);
        bad_edit += (st != MS_EMALFORMED && st != MS_EKEY) || r != NULL;
        edits++;
        seal[at] = keep;
        ms_verify_result_destroy(r);
    }
    CHECK(edits > 50);
    CHECK_INT(bad_edit, 0);
    /* trailing data after "end", and a seal signed by another key over a copy */
    memcpy(seal + len, "x", 1);
    tu_spit(tu_path("damaged.seal"), seal, len + 1);
    CHECK_INT(verify_dir("study", "damaged.seal", ks->k, ks->ed, &r), MS_EMALFORMED);
    free(seal);
}

/* ---- tamper: each kind detected and localised ------------------------------------------------------------ */

static struct ms_verify_result *tamper_and_verify(const struct keys *ks,
                                                  const struct ms_tamper_options *o,
                                                  const char *out_rel)
{
    char in[512], out[512];
    struct ms_verify_result *r = NULL;
    struct ms_error err;
    path_in(in, sizeof in, "study");
    path_in(out, sizeof out, out_rel);
    CHECK_INT(ms_tamper(in, out, o, NULL, NULL, &err), MS_OK);
    CHECK_INT(verify_dir(out_rel, "study.seal", ks->k, ks->ed, &r), MS_OK);
    return r;
}

static bool has_change(const struct ms_verify_result *r, ms_change c, const char *path)
{
    for (size_t i = 0; r && i < ms_verify_change_count(r); i++)
        if (ms_verify_change(r, i)->change == c && !strcmp(ms_verify_change(r, i)->path, path))
            return true;
    return false;
}

static size_t changed_blocks(const struct ms_verify_result *r)
{
    return r && ms_verify_drr_count(r) ? ms_verify_drr(r, 0)->changed : 0;
}

static void test_tamper(const struct keys *ks)
{
    struct ms_tamper_options o;
    struct ms_verify_result *r;
    char donor[512];

    /* files sorted: README.txt, S001..S012 (2..13), plan.dcm (14) */
    memset(&o, 0, sizeof o);
    o.delete_n = 7;
    r = tamper_and_verify(ks, &o, "t-delete");
    CHECK(ms_verify_status(r) == MS_EPROBLEM && has_change(r, MS_CHANGE_DELETED, "S006.dcm"));
    CHECK(ms_verify_change_count(r) == 1 && changed_blocks(r) > 0);
    ms_verify_result_destroy(r);

    memset(&o, 0, sizeof o);
    o.modify = 7;
    o.delta = 10;
    r = tamper_and_verify(ks, &o, "t-modify");
    CHECK(has_change(r, MS_CHANGE_PIXELS, "S006.dcm") && ms_verify_change_count(r) == 1);
    CHECK(changed_blocks(r) > 0 && changed_blocks(r) < 16);
    ms_verify_result_destroy(r);

    memset(&o, 0, sizeof o);
    o.header = 7;
    o.header_set = "PatientName=EVIL^EVE";
    r = tamper_and_verify(ks, &o, "t-header");
    CHECK(has_change(r, MS_CHANGE_HEADER, "S006.dcm") && changed_blocks(r) == 0);
    CHECK(ms_verify_status(r) == MS_EPROBLEM);
    ms_verify_result_destroy(r);

    memset(&o, 0, sizeof o);
    o.swap_a = 4;
    o.swap_b = 10;
    r = tamper_and_verify(ks, &o, "t-swap");
    CHECK(has_change(r, MS_CHANGE_MOVED, "S003.dcm") && has_change(r, MS_CHANGE_MOVED, "S009.dcm"));
    CHECK(changed_blocks(r) > 0);
    ms_verify_result_destroy(r);

    memset(&o, 0, sizeof o);
    o.duplicate = 5;
    r = tamper_and_verify(ks, &o, "t-duplicate");
    CHECK(has_change(r, MS_CHANGE_INSERTED, "S004_dup.dcm") && ms_verify_change_count(r) == 1);
    ms_verify_result_destroy(r);

    memset(&o, 0, sizeof o);
    path_in(donor, sizeof donor, "donor/S001.dcm");
    o.insert_file = donor;
    o.insert_at = 6;
    r = tamper_and_verify(ks, &o, "t-insert");
    CHECK(has_change(r, MS_CHANGE_INSERTED, "S005_ins.dcm") && changed_blocks(r) > 0);
    ms_verify_result_destroy(r);

    memset(&o, 0, sizeof o);
    o.header = 14;
    o.header_set = "RTPlanLabel=OTHER";
    r = tamper_and_verify(ks, &o, "t-object");
    CHECK(has_change(r, MS_CHANGE_MODIFIED, "plan.dcm"));
    ms_verify_result_destroy(r);

    /* replace-all with the same k: only the signer gives it away */
    memset(&o, 0, sizeof o);
    o.replace_all = true;
    o.replace_key = ks->k;
    {
        char in[512], out[512];
        path_in(in, sizeof in, "study");
        path_in(out, sizeof out, "t-replace");
        CHECK_INT(ms_tamper(in, out, &o, NULL, NULL, NULL), MS_OK);
        CHECK_INT(verify_dir("t-replace", "t-replace/study.seal", ks->k, ks->ed, &r), MS_OK);
        CHECK(r && ms_verify_status(r) == MS_EKEY && ms_verify_trust(r) == MS_TRUST_UNTRUSTED);
        CHECK(r && ms_verify_key_ok(r) && ms_verify_change_count(r) == 0);
        ms_verify_result_destroy(r);
        /* against the original seal: everything differs */
        CHECK_INT(verify_dir("t-replace", "study.seal", ks->k, ks->ed, &r), MS_OK);
        CHECK(r && ms_verify_status(r) == MS_EPROBLEM);
        ms_verify_result_destroy(r);
    }
}

static void test_tamper_errors(void)
{
    struct ms_tamper_options o = {0};
    char in[512], out[512], inside[512];
    struct ms_error err;
    path_in(in, sizeof in, "study");
    path_in(out, sizeof out, "t-err");
    path_in(inside, sizeof inside, "study/sub");
    CHECK_INT(ms_tamper(in, out, &o, NULL, NULL, &err), MS_EUSAGE); /* no attack */
    o.delete_n = 99;
    CHECK_INT(ms_tamper(in, out, &o, NULL, NULL, &err), MS_EUSAGE);
    o.delete_n = 2;
    CHECK_INT(ms_tamper(in, in, &o, NULL, NULL, &err), MS_EUSAGE);
    CHECK_INT(ms_tamper(in, inside, &o, NULL, NULL, &err), MS_EUSAGE);
    CHECK(!ms_is_dir(inside));
    path_in(out, sizeof out, "t-delete"); /* not empty */
    CHECK_INT(ms_tamper(in, out, &o, NULL, NULL, &err), MS_EUSAGE);
    o.swap_a = 3;
    o.swap_b = 3;
    path_in(out, sizeof out, "t-err");
    CHECK_INT(ms_tamper(in, out, &o, NULL, NULL, &err), MS_EUSAGE);
    memset(&o, 0, sizeof o);
    o.header = 3;
    o.header_set = "NoSuchKeyword=1";
    CHECK_INT(ms_tamper(in, out, &o, NULL, NULL, &err), MS_EUSAGE);
    o.header_set = "PixelData=1";
    path_in(out, sizeof out, "t-err2");
    CHECK_INT(ms_tamper(in, out, &o, NULL, NULL, &err), MS_EUSAGE);
}

static void test_renamed_and_plain(const struct keys *ks)
{
    struct ms_verify_result *r = NULL;
    char a[512], b[512];
    struct ms_tamper_options o = {0};
    char in[512], out[512];
    path_in(in, sizeof in, "study");
    path_in(out, sizeof out, "t-rename");
    o.header = 1; /* README.txt is not DICOM: refused cleanly */
    o.header_set = "PatientName=X";
    CHECK(ms_tamper(in, out, &o, NULL, NULL, NULL) != MS_OK);
    tu_rmtree(out);
    memset(&o, 0, sizeof o);
    o.delete_n = 14; /* drop the plan, then rename a slice and edit the text file */
    CHECK_INT(ms_tamper(in, out, &o, NULL, NULL, NULL), MS_OK);
    path_in(a, sizeof a, "t-rename/S002.dcm");
    path_in(b, sizeof b, "t-rename/renamed.dcm");
    CHECK_INT(rename(a, b), 0);
    write_text("t-rename/README.txt", "changed\n");
    CHECK_INT(verify_dir("t-rename", "study.seal", ks->k, ks->ed, &r), MS_OK);
    CHECK(has_change(r, MS_CHANGE_RENAMED, "renamed.dcm"));
    CHECK(has_change(r, MS_CHANGE_MODIFIED, "README.txt"));
    CHECK(has_change(r, MS_CHANGE_DELETED, "plan.dcm"));
    CHECK(r && changed_blocks(r) == 0);
    ms_verify_result_destroy(r);
}

/* A 4D series: two temporal positions at the same places, two volumes, each
 * with its fingerprint; a change in one touches that one only. */
static void test_4d(const struct keys *ks)
{
    struct ms_study *s = NULL;
    struct ms_verify_result *r = NULL;
    char dir[512], victim[512];
    const char *in[1] = {dir};
    for (int t = 1; t <= 2; t++)
        for (int i = 1; i <= 5; i++)
            write_slice_t("study4d", 10 * t + i, 20, 2.0 * i, "4", t);
    path_in(dir, sizeof dir, "study4d");
    CHECK_INT(ms_study_scan(&s, in, 1, NULL, NULL), MS_OK);
    CHECK(s && ms_study_volume_count(s) == 2 && ms_study_instance_count(s) == 10);
    ms_study_destroy(s);
    CHECK_INT(seal_dir("study4d", ks, ks->ed, "study4d.seal"), MS_OK);
    CHECK_INT(verify_dir("study4d", "study4d.seal", ks->k, ks->ed, &r), MS_OK);
    CHECK(r && ms_verify_status(r) == MS_OK && ms_verify_drr_count(r) == 2);
    ms_verify_result_destroy(r);
    path_in(victim, sizeof victim, "study4d/S023.dcm");
    CHECK_INT(remove(victim), 0);
    CHECK_INT(verify_dir("study4d", "study4d.seal", ks->k, ks->ed, &r), MS_OK);
    CHECK(r && ms_verify_status(r) == MS_EPROBLEM && has_change(r, MS_CHANGE_DELETED, "S023.dcm"));
    CHECK(r && ms_verify_drr_count(r) == 2 && ms_verify_drr(r, 0)->changed == 0 &&
          ms_verify_drr(r, 1)->changed > 0);
    ms_verify_result_destroy(r);
}

int main(void)
{
    struct keys ks;
    test_drr_reference();
    test_drr_errors();
    test_merkle();
    tu_dir_open();
    make_study();
    CHECK_INT(ms_random_bytes(ks.k, 32, NULL), MS_OK);
    CHECK_INT(ms_random_bytes(ks.k2, 32, NULL), MS_OK);
    CHECK_INT(ms_pkey_generate(&ks.ed, MS_PKEY_ED25519, 0, NULL), MS_OK);
    CHECK_INT(ms_pkey_generate(&ks.ec, MS_PKEY_P256, 0, NULL), MS_OK);
    test_seal_intact(&ks);
    test_seal_options(&ks);
    test_seal_damage(&ks);
    test_tamper(&ks);
    test_tamper_errors();
    test_renamed_and_plain(&ks);
    test_4d(&ks);
    ms_pkey_destroy(ks.ed);
    ms_pkey_destroy(ks.ec);
    tu_dir_close();
    return check_done();
}
