/* NIfTI-1 single-file output (.nii): the 348-byte header, an empty
 * extension flag and the voxels, written slice by slice. Patient LPS
 * coordinates become the scanner RAS of NIfTI by negating x and y. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/volume_internal.h"

#define NIFTI_HEADER_SIZE 348
#define NIFTI_VOX_OFFSET 352
#define NIFTI_TYPE_INT16 4
#define NIFTI_TYPE_FLOAT32 16
#define NIFTI_XFORM_SCANNER_ANAT 1
#define NIFTI_UNITS_MM 2

/* ---- header fields -------------------------------------------------------------------- */

static void put16(uint8_t *h, size_t off, int v) { msi_wr16le(h + off, (uint16_t)(int16_t)v); }
static void put32(uint8_t *h, size_t off, int32_t v) { msi_wr32le(h + off, (uint32_t)v); }

static void putf(uint8_t *h, size_t off, double v)
{
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, 4);
    msi_wr32le(h + off, u);
}

/* RAS affine: rows x and y of the LPS affine negated. */
static void ras_affine(const struct ms_volume_geometry *g, double m[3][4])
{
    for (int c = 0; c < 4; c++) {
        m[0][c] = -g->affine[0][c];
        m[1][c] = -g->affine[1][c];
        m[2][c] = g->affine[2][c];
    }
}

/* Quaternion (b, c, d) and qfac of the rotation whose columns are the unit
 * axes of m (NIfTI-1 header documentation, qform method 2). False when the
 * axes are not orthogonal (a sheared volume has only an sform). */
static bool quaternion(const double m[3][4], const double spacing[3], double q[3], double *qfac)
{
    double r[3][3], a, b, c, d, det;
    for (int col = 0; col < 3; col++)
        for (int row = 0; row < 3; row++)
            r[row][col] = m[row][col] / spacing[col];
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (fabs(r[0][i] * r[0][j] + r[1][i] * r[1][j] + r[2][i] * r[2][j]) > 1e-4)
                return false;
    det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) -
          r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
          r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
    *qfac = det < 0 ? -1.0 : 1.0;
    if (det < 0)
        for (int row = 0; row < 3; row++)
            r[row][2] = -r[row][2];
    a = r[0][0] + r[1][1] + r[2][2] + 1.0;
    if (a > 0.5) {
        a = 0.5 * sqrt(a);
        b = 0.25 * (r[2][1] - r[1][2]) / a;
        c = 0.25 * (r[0][2] - r[2][0]) / a;
        d = 0.25 * (r[1][0] - r[0][1]) / a;
    } else {
        double xd = 1.0 + r[0][0] - (r[1][1] + r[2][2]);
        double yd = 1.0 + r[1][1] - (r[0][0] + r[2][2]);
        double zd = 1.0 + r[2][2] - (r[0][0] + r[1][1]);
        if (xd > 1.0) {
            b = 0.5 * sqrt(xd);
            c = 0.25 * (r[0][1] + r[1][0]) / b;
            d = 0.25 * (r[0][2] + r[2][0]) / b;
            a = 0.25 * (r[2][1] - r[1][2]) / b;
        } else if (yd > 1.0) {
            c = 0.5 * sqrt(yd);
            b = 0.25 * (r[0][1] + r[1][0]) / c;
            d = 0.25 * (r[1][2] + r[2][1]) / c;
            a = 0.25 * (r[0][2] - r[2][0]) / c;
        } else {
            d = 0.5 * sqrt(zd);
            b = 0.25 * (r[0][2] + r[2][0]) / d;
            c = 0.25 * (r[1][2] + r[2][1]) / d;
            a = 0.25 * (r[1][0] - r[0][1]) / d;
        }
        if (a < 0) {
            b = -b;
            c = -c;
            d = -d;
        }
    }
    q[0] = b;
    q[1] = c;
    q[2] = d;
    return true;
}

static void fill_header(uint8_t *h, const struct ms_volume_geometry *g, int datatype)
{
    double m[3][4], q[3], qfac = 1.0;
    bool has_q;

    memset(h, 0, NIFTI_VOX_OFFSET);
    put32(h, 0, NIFTI_HEADER_SIZE);
    h[38] = 'r';
    put16(h, 40, 3);
    put16(h, 42, (int)g->nx);
    put16(h, 44, (int)g->ny);
    put16(h, 46, (int)g->nz);
    for (int i = 4; i < 8; i++)
        put16(h, 40 + 2 * i, 1);
    put16(h, 70, datatype);
    put16(h, 72, datatype == NIFTI_TYPE_INT16 ? 16 : 32);
    ras_affine(g, m);
    has_q = quaternion(m, g->spacing, q, &qfac);
    putf(h, 76, qfac);
    for (int i = 0; i < 3; i++)
        putf(h, 80 + 4 * i, g->spacing[i]);
    putf(h, 108, NIFTI_VOX_OFFSET);
    putf(h, 112, 1.0); /* scl_slope: values are stored as they are */
    h[123] = NIFTI_UNITS_MM;
    snprintf((char *)h + 148, 80, "medseal volume%s%s%s", g->units[0] ? ", values in " : "",
             g->units, g->resampled ? ", resampled" : "");
    put16(h, 252, has_q ? NIFTI_XFORM_SCANNER_ANAT : 0);
    put16(h, 254, NIFTI_XFORM_SCANNER_ANAT);
    for (int i = 0; i < 3 && has_q; i++)
        putf(h, 256 + 4 * i, q[i]);
    for (int i = 0; i < 3; i++)
        putf(h, 268 + 4 * i, m[i][3]);
    for (int row = 0; row < 3; row++)
        for (int c = 0; c < 4; c++)
            putf(h, 280 + 16 * row + 4 * c, m[row][c]);
    memcpy(h + 344, "n+1", 4);
}

/* ---- voxels ------------------------------------------------------------------------------ */

static void encode_slice(const float *in, size_t n, int datatype, uint8_t *out)
{
    if (datatype == NIFTI_TYPE_FLOAT32) {
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &in[i], 4);
            msi_wr32le(out + 4 * i, u);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float v = nearbyintf(in[i]);
        v = v < -32768.0f ? -32768.0f : v > 32767.0f ? 32767.0f : v;
        msi_wr16le(out + 2 * i, (uint16_t)(int16_t)v);
    }
}

static ms_status write_voxels(struct ms_volume *v, int fd, int datatype, struct ms_error *err)
{
    size_t n = v->nx * v->ny, bytes = n * (datatype == NIFTI_TYPE_INT16 ? 2 : 4);
    float *slice = malloc(n * sizeof *slice);
    uint8_t *buf = malloc(bytes);
    ms_status st = MS_OK;

    if (!slice || !buf)
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t k = 0; st == MS_OK && k < v->nz; k++) {
        st = ms_volume_read_slice(v, k, slice, err);
        if (st != MS_OK)
            break;
        encode_slice(slice, n, datatype, buf);
        if (msi_fd_sink(&fd, buf, bytes) != 0)
            st = ms_error_set(err, MS_EIO, "write failed");
    }
    free(slice);
    free(buf);
    return st;
}

ms_status ms_volume_write_nifti(struct ms_volume *v, const char *path, ms_nifti_type type,
                                struct ms_error *err)
{
    struct ms_volume_geometry g;
    uint8_t header[NIFTI_VOX_OFFSET];
    char tmp[4200];
    int fd = -1, datatype;
    ms_status st;

    ms_volume_get_geometry(v, &g);
    if (g.nx > 32767 || g.ny > 32767 || g.nz > 32767)
        return ms_error_set(err, MS_ELIMIT, "NIfTI-1 dimensions are at most 32767");
    if (type == MS_NIFTI_AUTO)
        type = msi_volume_int16_exact(v) ? MS_NIFTI_INT16 : MS_NIFTI_FLOAT32;
    datatype = type == MS_NIFTI_INT16 ? NIFTI_TYPE_INT16 : NIFTI_TYPE_FLOAT32;
    fill_header(header, &g, datatype);
    if ((st = msi_atomic_open(path, tmp, sizeof tmp, &fd, err)) != MS_OK)
        return st;
    if (msi_fd_sink(&fd, header, sizeof header) != 0)
        st = ms_error_set(err, MS_EIO, "%s: write failed", path);
    if (st == MS_OK)
        st = write_voxels(v, fd, datatype, err);
    if (st != MS_OK) {
        struct ms_error ignored;
        msi_atomic_close(fd, tmp, path, false, &ignored);
        return st;
    }
    return msi_atomic_close(fd, tmp, path, true, err);
}
