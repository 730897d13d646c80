/* Unit tests of src/image/: images, window and heat map, PNG, block grid and
 * zig-zag order, histograms, entropy and metrics.
 *
 * Run without arguments it is the unit test. With arguments it is the
 * helper of tests/integration/test_image_metrics.py:
 *   test_image metrics A B PEAK     metrics of A against B, one "name value" a line
 *   test_image copy IN OUT DEPTH OFFSET   read a PNG, write it again
 *   test_image window IN OUT C W    8-bit windowed rendering (C, W in stored units)
 * A and B are PNG paths or f32:W:H:C:PATH (raw little-endian float32). */
#include <dirent.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "medseal/image.h"
#include "testutil.h"

#define CHECK_NEAR(a, b, tol) CHECK(fabs((double)(a) - (double)(b)) <= (tol))

static struct ms_image *mk(uint32_t w, uint32_t h, uint32_t ch, ms_sample_type t)
{
    struct ms_image *img = NULL;
    if (ms_image_create(&img, w, h, ch, t, NULL) != MS_OK) {
        fprintf(stderr, "cannot create a test image\n");
        exit(1);
    }
    return img;
}

/* a(x, y) = (37x + 91y) mod 256, b = min(a + (xy mod 17), 255): the arrays
 * whose scikit-image figures are pinned below. */
static void fill_pattern(struct ms_image *a, struct ms_image *b)
{
    uint32_t x, y;
    for (y = 0; y < a->height; y++)
        for (x = 0; x < a->width; x++) {
            double v = (x * 37 + y * 91) % 256;
            ms_image_set(a, x, y, 0, v);
            if (b)
                ms_image_set(b, x, y, 0, fmin(v + (x * y) % 17, 255));
        }
}

/* ---- memory sink and hand-made PNGs --------------------------------------------- */

static void png_mem_write(png_structp png, png_bytep data, size_t len)
{
    if (tu_mem_sink(png_get_io_ptr(png), data, len) != 0)
        png_error(png, "sink");
}

static unsigned pattern_value(uint32_t x, uint32_t y, uint32_t c, int depth)
{
    if (depth == 16)
        return (x * 1031u + y * 2053u + c * 4099u) & 0xFFFFu;
    return (x * 7u + y * 13u + c * 50u) & ((1u << depth) - 1u);
}

static int color_channels(int color)
{
    switch (color) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE:
        return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        return 2;
    case PNG_COLOR_TYPE_RGB:
        return 3;
    default:
        return 4;
    }
}

/* libpng writes rows (already packed) as a PNG into m; -1 on failure. */
static int write_png_rows(struct tu_membuf *m, uint32_t w, uint32_t h, int color, int depth,
                          int interlace, png_bytep *rows)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_color pal[256];
    int i;

    if (!png || !info)
        return -1;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    for (i = 0; i < 256; i++)
        pal[i].red = pal[i].green = pal[i].blue = (png_byte)i;
    png_set_write_fn(png, m, png_mem_write, NULL);
    png_set_IHDR(png, info, w, h, depth, color, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_PLTE(png, info, pal, 1 << depth);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

/* A PNG made by libpng directly (formats our encoder never writes). Samples
 * follow pattern_value(); bit depths below 8 are packed by hand. */
static int make_png(struct tu_membuf *m, uint32_t w, uint32_t h, int color, int depth, int interlace)
{
    int ch = color_channels(color), rc = -1;
    size_t rowbytes = ((size_t)w * ch * depth + 7) / 8;
    uint8_t *raw = calloc(h, rowbytes);
    png_bytep *rows = calloc(h, sizeof *rows);
    uint32_t x, y;
    int c;

    if (raw && rows) {
        for (y = 0; y < h; y++) {
            rows[y] = raw + y * rowbytes;
            for (x = 0; x < w; x++)
                for (c = 0; c < ch; c++) {
                    unsigned v = pattern_value(x, y, (uint32_t)c, depth);
                    size_t bit = ((size_t)x * ch + c) * depth;
                    if (depth == 16) {
                        rows[y][bit / 8] = (uint8_t)(v >> 8);
                        rows[y][bit / 8 + 1] = (uint8_t)v;
                    } else {
                        rows[y][bit / 8] |= (uint8_t)(v << (8 - depth - bit % 8));
                    }
                }
        }
        rc = write_png_rows(m, w, h, color, depth, interlace, rows);
    }
    free(raw);
    free(rows);
    return rc;
}

/* Recompute the CRC of the chunk whose length field is at offset off. */
static void fix_crc(uint8_t *p, size_t off)
{
    uint32_t len = ((uint32_t)p[off] << 24) | (p[off + 1] << 16) | (p[off + 2] << 8) | p[off + 3];
    uLong crc = crc32(0L, p + off + 4, len + 4);
    uint8_t *q = p + off + 8 + len;
    q[0] = (uint8_t)(crc >> 24);
    q[1] = (uint8_t)(crc >> 16);
    q[2] = (uint8_t)(crc >> 8);
    q[3] = (uint8_t)crc;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A valid 16x16 8-bit grey PNG from our encoder. */
static void small_png(struct tu_membuf *m)
{
    struct ms_image *img = mk(16, 16, 1, MS_SAMPLE_I32);
    uint32_t x, y;
    for (y = 0; y < 16; y++)
        for (x = 0; x < 16; x++)
            ms_image_set(img, x, y, 0, (x * 16 + y) & 255);
    memset(m, 0, sizeof *m);
    CHECK_INT(ms_png_encode(img, NULL, tu_mem_sink, m, NULL), MS_OK);
    ms_image_destroy(img);
}

/* Files in the test directory (to see that no stray temporary is left). */
static int dir_entries(void)
{
    DIR *d = opendir(tu_dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* ==== positive tests ============================================================ */

static void test_image_basics(void)
{
    struct ms_image *img = mk(3, 2, 3, MS_SAMPLE_I32);
    float buf[6] = {1, 2, 3, 4, 5, 6};
    struct ms_image v = ms_image_view(3, 2, 1, MS_SAMPLE_F32, buf);

    CHECK_INT(img->width, 3);
    CHECK_INT(img->height, 2);
    CHECK_INT(img->channels, 3);
    CHECK_INT(ms_image_samples(img), 18);
    CHECK(ms_image_get(img, 2, 1, 2) == 0); /* zeroed */
    ms_image_set(img, 2, 1, 2, 2.5);        /* halves away from zero */
    CHECK(ms_image_get(img, 2, 1, 2) == 3);
    ms_image_set(img, 0, 0, 0, -2.5);
    CHECK(ms_image_get(img, 0, 0, 0) == -3);
    ms_image_set(img, 1, 0, 0, 1e12); /* saturates */
    CHECK(ms_image_get(img, 1, 0, 0) == INT32_MAX);
    ms_image_set(img, 1, 0, 1, -1e12);
    CHECK(ms_image_get(img, 1, 0, 1) == INT32_MIN);
    ms_image_set(img, 1, 0, 2, NAN);
    CHECK(ms_image_get(img, 1, 0, 2) == 0);
    CHECK_INT(((int32_t *)img->data)[(1 * 3 + 2) * 3 + 2], 3); /* layout */
    CHECK_INT(ms_image_check(img, NULL), MS_OK);
    CHECK_INT(ms_image_check(&v, NULL), MS_OK);
    CHECK(ms_image_get(&v, 1, 1, 0) == 5);
    ms_image_destroy(img);
    ms_image_destroy(NULL);

    img = mk(1, 1, 1, MS_SAMPLE_F32);
    ms_image_set(img, 0, 0, 0, 0.25);
    CHECK(ms_image_get(img, 0, 0, 0) == 0.25);
    ms_image_destroy(img);
}

static void test_zigzag(void)
{
    static const uint32_t zz4[16] = {1, 2, 5, 9, 6, 3, 4, 7, 10, 13, 14, 11, 8, 12, 15, 16};
    /* the JPEG zig-zag of an 8x8 block (ITU T.81 figure A.6), as row-major indices */
    static const uint32_t zz8[64] = {
        0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};
    uint32_t order[MS_GRID_MAX_N * MS_GRID_MAX_N];
    uint32_t i, n;
    int same = 1;

    CHECK_INT(ms_grid_zigzag(4, order, 16, NULL), MS_OK);
    for (i = 0; i < 16; i++)
        CHECK_INT(order[i] + 1, zz4[i]);
    /* seed 000: index 0 -> block 1, 1 -> 2, 2 -> 5 */
    CHECK(order[0] == 0 && order[1] == 1 && order[2] == 4);
    CHECK_INT(ms_grid_zigzag(8, order, 64, NULL), MS_OK);
    for (i = 0; i < 64; i++)
        same &= order[i] == zz8[i];
    CHECK(same);
    CHECK_INT(ms_grid_zigzag(1, order, 1, NULL), MS_OK);
    CHECK_INT(order[0], 0);
    CHECK_INT(ms_grid_zigzag(2, order, 4, NULL), MS_OK);
    CHECK(order[0] == 0 && order[1] == 1 && order[2] == 2 && order[3] == 3);

    /* every size: a permutation, each step to a neighbour (8-connected) */
    for (n = 1; n <= MS_GRID_MAX_N; n += (n < 20 ? 1 : 59)) {
        static uint8_t seen[MS_GRID_MAX_N * MS_GRID_MAX_N];
        int ok = ms_grid_zigzag(n, order, (size_t)n * n, NULL) == MS_OK;
        memset(seen, 0, sizeof seen);
        for (i = 0; ok && i < n * n; i++) {
            ok = order[i] < n * n && !seen[order[i]];
            seen[order[i]] = 1;
            if (ok && i > 0) {
                int dr = (int)(order[i] / n) - (int)(order[i - 1] / n);
                int dc = (int)(order[i] % n) - (int)(order[i - 1] % n);
                ok = abs(dr) <= 1 && abs(dc) <= 1;
            }
        }
        CHECK(ok);
    }
}

static void test_grid(void)
{
    struct ms_grid g;
    struct ms_rect r;
    static uint8_t cover[10 * 7];
    uint32_t k, x, y;
    int ok = 1;

    CHECK_INT(ms_grid_init(&g, 512, 512, 4, NULL), MS_OK);
    CHECK_INT(ms_grid_blocks(&g), 16);
    CHECK_INT(g.block_width, 128);
    CHECK_INT(ms_grid_block_rect(&g, 6, &r, NULL), MS_OK); /* row 1, column 2 */
    CHECK(r.x == 256 && r.y == 128 && r.width == 128 && r.height == 128);
    CHECK_INT(ms_grid_init(&g, 512, 512, 8, NULL), MS_OK);
    CHECK_INT(ms_grid_blocks(&g), 64);
    CHECK_INT(g.block_height, 64);

    /* remainders go to the last column and row */
    CHECK_INT(ms_grid_init(&g, 10, 7, 4, NULL), MS_OK);
    CHECK(g.block_width == 2 && g.block_height == 1);
    CHECK_INT(ms_grid_block_rect(&g, 15, &r, NULL), MS_OK);
    CHECK(r.x == 6 && r.y == 3 && r.width == 4 && r.height == 4);
    CHECK_INT(ms_grid_block_rect(&g, 3, &r, NULL), MS_OK);
    CHECK(r.x == 6 && r.y == 0 && r.width == 4 && r.height == 1);
    memset(cover, 0, sizeof cover);
    for (k = 0; k < 16; k++) {
        CHECK_INT(ms_grid_block_rect(&g, k, &r, NULL), MS_OK);
        for (y = r.y; y < r.y + r.height; y++)
            for (x = r.x; x < r.x + r.width; x++)
                cover[y * 10 + x]++;
    }
    for (k = 0; k < 70; k++)
        ok &= cover[k] == 1;
    CHECK(ok);
}

static void test_block_extract_insert(void)
{
    struct ms_grid g;
    struct ms_image *img = mk(10, 7, 3, MS_SAMPLE_F32), *copy = mk(10, 7, 3, MS_SAMPLE_F32);
    struct ms_image *blk = NULL;
    uint32_t k, x, y, c;

    for (y = 0; y < 7; y++)
        for (x = 0; x < 10; x++)
            for (c = 0; c < 3; c++)
                ms_image_set(img, x, y, c, y * 100 + x * 10 + c + 0.5);
    CHECK_INT(ms_grid_init(&g, 10, 7, 4, NULL), MS_OK);
    CHECK_INT(ms_grid_block_extract(&g, img, 6, &blk, NULL), MS_OK); /* x 4..5, y 1 */
    CHECK(blk && blk->width == 2 && blk->height == 1 && blk->channels == 3);
    if (blk) {
        const float *f = blk->data;
        CHECK(f[0] == 140.5f && f[1] == 141.5f && f[2] == 142.5f && f[3] == 150.5f);
    }
    ms_image_destroy(blk);
    blk = NULL;
    CHECK_INT(ms_grid_block_extract(&g, img, 15, &blk, NULL), MS_OK);
    CHECK(blk && blk->width == 4 && blk->height == 4);
    if (blk)
        CHECK(ms_image_get(blk, 3, 3, 2) == 692.5); /* x 9, y 6 */
    ms_image_destroy(blk);

    /* every block out and into an empty image gives the image again */
    for (k = 0; k < 16; k++) {
        blk = NULL;
        CHECK_INT(ms_grid_block_extract(&g, img, k, &blk, NULL), MS_OK);
        CHECK_INT(ms_grid_block_insert(&g, copy, k, blk, NULL), MS_OK);
        ms_image_destroy(blk);
    }
    CHECK(memcmp(img->data, copy->data, 10 * 7 * 3 * sizeof(float)) == 0);
    ms_image_destroy(img);
    ms_image_destroy(copy);
}

static void test_mse_psnr(void)
{
    struct ms_image *a = mk(4, 3, 1, MS_SAMPLE_I32), *b = mk(4, 3, 1, MS_SAMPLE_F32);
    struct ms_image *c = mk(12, 13, 1, MS_SAMPLE_I32), *d = mk(12, 13, 1, MS_SAMPLE_I32);
    double mse = -1, rmse = -1, db = 0;
    uint32_t x, y;

    for (y = 0; y < 3; y++)
        for (x = 0; x < 4; x++) {
            ms_image_set(a, x, y, 0, x * 20 + y);
            ms_image_set(b, x, y, 0, x * 20 + y);
        }
    CHECK_INT(ms_image_mse(a, b, &mse, &rmse, NULL), MS_OK);
    CHECK(mse == 0 && rmse == 0);
    CHECK_INT(ms_image_psnr(a, b, 255, &db, NULL), MS_OK);
    CHECK(isinf(db) && db > 0);

    /* a shift of 3 everywhere */
    for (y = 0; y < 3; y++)
        for (x = 0; x < 4; x++)
            ms_image_set(b, x, y, 0, x * 20 + y + 3);
    CHECK_INT(ms_image_mse(a, b, &mse, &rmse, NULL), MS_OK);
    CHECK(mse == 9 && rmse == 3);
    CHECK_INT(ms_image_psnr(a, b, 255, &db, NULL), MS_OK);
    CHECK_NEAR(db, 10 * log10(255.0 * 255.0 / 9.0), 1e-12);
    CHECK_INT(ms_image_psnr(a, b, 4095, &db, NULL), MS_OK);
    CHECK_NEAR(db, 20 * log10(4095.0 / 3.0), 1e-12);
    /* one sample off by 12 of 12 samples: MSE 12 */
    for (y = 0; y < 3; y++)
        for (x = 0; x < 4; x++)
            ms_image_set(b, x, y, 0, x * 20 + y + (x == 1 && y == 2 ? 12 : 0));
    CHECK_INT(ms_image_mse(a, b, &mse, NULL, NULL), MS_OK);
    CHECK(mse == 12);

    /* scikit-image peak_signal_noise_ratio(a, b, data_range=255) */
    fill_pattern(c, d);
    CHECK_INT(ms_image_psnr(c, d, 255, &db, NULL), MS_OK);
    CHECK_NEAR(db, 29.481967265069695, 1e-9);
    ms_image_destroy(a);
    ms_image_destroy(b);
    ms_image_destroy(c);
    ms_image_destroy(d);
}

static void test_ssim(void)
{
    struct ms_image *a = mk(12, 13, 1, MS_SAMPLE_I32), *b = mk(12, 13, 1, MS_SAMPLE_F32);
    struct ms_image *ca = mk(9, 8, 1, MS_SAMPLE_I32), *cb = mk(9, 8, 1, MS_SAMPLE_I32);
    struct ms_image *ra = mk(11, 11, 3, MS_SAMPLE_I32), *rb = mk(11, 11, 3, MS_SAMPLE_I32);
    double s = 0, s2 = 0, c1 = (0.01 * 255) * (0.01 * 255), expect;
    uint32_t x, y;

    fill_pattern(a, b); /* 12 wide, 13 high as the scikit-image arrays */
    CHECK_INT(ms_image_ssim(a, a, 255, MS_SSIM_UNIFORM7, &s, NULL), MS_OK);
    CHECK(s == 1);
    CHECK_INT(ms_image_ssim(a, a, 255, MS_SSIM_GAUSSIAN11, &s, NULL), MS_OK);
    CHECK_NEAR(s, 1, 1e-15);
    /* structural_similarity(a, b, data_range=255) */
    CHECK_INT(ms_image_ssim(a, b, 255, MS_SSIM_UNIFORM7, &s, NULL), MS_OK);
    CHECK_NEAR(s, 0.9959241055040929, 1e-12);
    CHECK_INT(ms_image_ssim(b, a, 255, MS_SSIM_UNIFORM7, &s2, NULL), MS_OK);
    CHECK_NEAR(s, s2, 1e-15);
    /* ... gaussian_weights=True, sigma=1.5, use_sample_covariance=False */
    CHECK_INT(ms_image_ssim(a, b, 255, MS_SSIM_GAUSSIAN11, &s, NULL), MS_OK);
    CHECK_NEAR(s, 0.9956857707002182, 1e-12);

    /* constant images: only the luminance term is left */
    for (y = 0; y < 8; y++)
        for (x = 0; x < 9; x++) {
            ms_image_set(ca, x, y, 0, 100);
            ms_image_set(cb, x, y, 0, 110);
        }
    expect = (2 * 100.0 * 110 + c1) / (100.0 * 100 + 110.0 * 110 + c1);
    CHECK_INT(ms_image_ssim(ca, cb, 255, MS_SSIM_UNIFORM7, &s, NULL), MS_OK);
    CHECK_NEAR(s, expect, 1e-12);

    /* RGB: the mean of the channels; identical channels give the grey value */
    for (y = 0; y < 11; y++)
        for (x = 0; x < 11; x++) {
            uint32_t c;
            for (c = 0; c < 3; c++) {
                ms_image_set(ra, x, y, c, c == 1 ? 100 : 50);
                ms_image_set(rb, x, y, c, c == 1 ? 110 : 50);
            }
        }
    CHECK_INT(ms_image_ssim(ra, rb, 255, MS_SSIM_GAUSSIAN11, &s, NULL), MS_OK);
    CHECK_NEAR(s, (1 + expect + 1) / 3, 1e-12);
    ms_image_destroy(a);
    ms_image_destroy(b);
    ms_image_destroy(ca);
    ms_image_destroy(cb);
    ms_image_destroy(ra);
    ms_image_destroy(rb);
}

static void test_npcr_uaci(void)
{
    struct ms_image *a = mk(8, 4, 1, MS_SAMPLE_I32), *b = mk(8, 4, 1, MS_SAMPLE_I32);
    struct ms_image *c = mk(2, 2, 3, MS_SAMPLE_F32), *d = mk(2, 2, 3, MS_SAMPLE_F32);
    double npcr = -1, uaci = -1;
    uint32_t x, y;

    CHECK_INT(ms_image_npcr_uaci(a, b, 255, &npcr, &uaci, NULL), MS_OK);
    CHECK(npcr == 0 && uaci == 0);
    for (y = 0; y < 4; y++)
        for (x = 0; x < 8; x++)
            ms_image_set(b, x, y, 0, 255);
    CHECK_INT(ms_image_npcr_uaci(a, b, 255, &npcr, &uaci, NULL), MS_OK);
    CHECK(npcr == 100 && uaci == 100);
    for (y = 0; y < 4; y++)
        for (x = 0; x < 8; x++)
            ms_image_set(b, x, y, 0, x < 4 ? 128 : 0);
    CHECK_INT(ms_image_npcr_uaci(a, b, 255, &npcr, &uaci, NULL), MS_OK);
    CHECK(npcr == 50);
    CHECK_NEAR(uaci, 100.0 * 128 / 255 / 2, 1e-12);
    CHECK_INT(ms_image_npcr_uaci(a, b, 65535, NULL, &uaci, NULL), MS_OK);
    CHECK_NEAR(uaci, 100.0 * 64 / 65535, 1e-12);
    /* RGB: every sample counts; one of 12 differs */
    ms_image_set(d, 1, 1, 2, 3);
    CHECK_INT(ms_image_npcr_uaci(c, d, 255, &npcr, &uaci, NULL), MS_OK);
    CHECK_NEAR(npcr, 100.0 / 12, 1e-12);
    CHECK_NEAR(uaci, 100.0 * 3 / (12 * 255.0), 1e-12);
    ms_image_destroy(a);
    ms_image_destroy(b);
    ms_image_destroy(c);
    ms_image_destroy(d);
}

static void test_correlation(void)
{
    struct ms_image *ramp = mk(16, 9, 1, MS_SAMPLE_I32), *chk = mk(16, 9, 1, MS_SAMPLE_I32);
    struct ms_image *pat = mk(12, 13, 1, MS_SAMPLE_I32);
    double r = 0, r2 = 0;
    uint32_t x, y;

    for (y = 0; y < 9; y++)
        for (x = 0; x < 16; x++) {
            ms_image_set(ramp, x, y, 0, x + 16.0 * y);
            ms_image_set(chk, x, y, 0, ((x + y) & 1) ? 200 : 10);
        }
    CHECK_INT(ms_image_correlation(ramp, MS_DIR_HORIZONTAL, 0, 0, &r, NULL), MS_OK);
    CHECK_NEAR(r, 1, 1e-12);
    CHECK_INT(ms_image_correlation(ramp, MS_DIR_VERTICAL, 0, 0, &r, NULL), MS_OK);
    CHECK_NEAR(r, 1, 1e-12);
    CHECK_INT(ms_image_correlation(chk, MS_DIR_HORIZONTAL, 0, 0, &r, NULL), MS_OK);
    CHECK_NEAR(r, -1, 1e-12);
    CHECK_INT(ms_image_correlation(chk, MS_DIR_DIAGONAL, 0, 0, &r, NULL), MS_OK);
    CHECK_NEAR(r, 1, 1e-12); /* diagonal neighbours of a checkerboard are equal */
    for (y = 0; y < 9; y++)
        for (x = 0; x < 16; x++)
            ms_image_set(chk, x, y, 0, 42);
    CHECK_INT(ms_image_correlation(chk, MS_DIR_VERTICAL, 0, 0, &r, NULL), MS_OK);
    CHECK(isnan(r)); /* constant: undefined */
    /* random pairs: reproducible, and still 1 on a ramp */
    CHECK_INT(ms_image_correlation(ramp, MS_DIR_DIAGONAL, 500, 42, &r, NULL), MS_OK);
    CHECK_NEAR(r, 1, 1e-12);
    fill_pattern(pat, NULL);
    CHECK_INT(ms_image_correlation(pat, MS_DIR_HORIZONTAL, 1000, 7, &r, NULL), MS_OK);
    CHECK_INT(ms_image_correlation(pat, MS_DIR_HORIZONTAL, 1000, 7, &r2, NULL), MS_OK);
    CHECK(r == r2);
    CHECK_INT(ms_image_correlation(pat, MS_DIR_HORIZONTAL, 1000, 8, &r2, NULL), MS_OK);
    CHECK(r != r2 && fabs(r) <= 1 && fabs(r2) <= 1);
    /* numpy.corrcoef of the neighbour arrays */
    CHECK_INT(ms_image_correlation(pat, MS_DIR_HORIZONTAL, 0, 0, &r, NULL), MS_OK);
    CHECK_NEAR(r, 0.27001362868164364, 1e-12);
    CHECK_INT(ms_image_correlation(pat, MS_DIR_VERTICAL, 0, 0, &r, NULL), MS_OK);
    CHECK_NEAR(r, -0.3499926605519451, 1e-12);
    CHECK_INT(ms_image_correlation(pat, MS_DIR_DIAGONAL, 0, 0, &r, NULL), MS_OK);
    CHECK_NEAR(r, -0.49237071645892133, 1e-12);
    ms_image_destroy(ramp);
    ms_image_destroy(chk);
    ms_image_destroy(pat);
}

static void test_histogram_entropy(void)
{
    struct ms_image *u = mk(16, 16, 1, MS_SAMPLE_I32), *hu = mk(7, 1, 1, MS_SAMPLE_F32);
    struct ms_hist_range r8 = MS_HIST_RANGE_U8, rhu = MS_HIST_RANGE_HU;
    static uint64_t counts[4097 + 2];
    uint64_t h1[4] = {5, 0, 7, UINT64_MAX}, h2[4] = {2, 4, 7, 0};
    double bits = -1;
    uint32_t x, y;

    for (y = 0; y < 16; y++)
        for (x = 0; x < 16; x++)
            ms_image_set(u, x, y, 0, y * 16 + x);
    CHECK_INT(ms_image_entropy(u, &r8, &bits, NULL), MS_OK);
    CHECK(bits == 8);
    for (y = 0; y < 16; y++)
        for (x = 0; x < 16; x++)
            ms_image_set(u, x, y, 0, x < 8 ? 3 : 250);
    CHECK_INT(ms_image_entropy(u, &r8, &bits, NULL), MS_OK);
    CHECK(bits == 1);
    for (y = 0; y < 16; y++)
        for (x = 0; x < 16; x++)
            ms_image_set(u, x, y, 0, 77);
    CHECK_INT(ms_image_entropy(u, &r8, &bits, NULL), MS_OK);
    CHECK(bits == 0);
    CHECK(ms_histogram_entropy(h2, 0) == 0);

    /* HU: bins -1024..3072, below, above (NaN too) */
    {
        float v[7] = {-1024.0f, 3072.0f, -2000.0f, 5000.0f, NAN, 12.7f, 3072.9f};
        memcpy(hu->data, v, sizeof v);
    }
    CHECK_INT(ms_image_histogram(hu, &rhu, counts, 4099, NULL), MS_OK);
    CHECK_INT(counts[0], 1);          /* -1024 */
    CHECK_INT(counts[4096], 2);       /* 3072 and 3072.9 */
    CHECK_INT(counts[1024 + 12], 1);  /* 12.7 falls in bin 12 */
    CHECK_INT(counts[4097], 1);       /* below */
    CHECK_INT(counts[4098], 2);       /* above and NaN */

    CHECK_INT(ms_histogram_difference(h1, h2, 3), 3 + 4 + 0);
    CHECK(ms_histogram_difference(h1, h2, 4) == UINT64_MAX); /* saturates */
    CHECK_INT(ms_histogram_difference(h1, h1, 4), 0);
    ms_image_destroy(u);
    ms_image_destroy(hu);
}

static void test_block_metrics(void)
{
    struct ms_grid g;
    struct ms_image *a = mk(8, 8, 1, MS_SAMPLE_F32), *b = mk(8, 8, 1, MS_SAMPLE_F32);
    struct ms_hist_range rhu = MS_HIST_RANGE_HU;
    double rmse[16];
    uint64_t diff[16], counts[4099];
    uint32_t k, x, y;
    int others = 1;

    CHECK_INT(ms_grid_init(&g, 8, 8, 4, NULL), MS_OK);
    CHECK_INT(ms_grid_block_rmse(&g, a, b, rmse, 16, NULL), MS_OK);
    CHECK_INT(ms_grid_block_histdiff(&g, a, b, &rhu, diff, 16, NULL), MS_OK);
    for (k = 0; k < 16; k++)
        others &= rmse[k] == 0 && diff[k] == 0;
    CHECK(others);
    /* block 5 (row 1, column 1: x 2..3, y 2..3) raised by 2 */
    for (y = 2; y < 4; y++)
        for (x = 2; x < 4; x++)
            ms_image_set(b, x, y, 0, 2);
    CHECK_INT(ms_grid_block_rmse(&g, a, b, rmse, 16, NULL), MS_OK);
    CHECK_INT(ms_grid_block_histdiff(&g, a, b, &rhu, diff, 16, NULL), MS_OK);
    CHECK(rmse[5] == 2);
    CHECK_INT(diff[5], 8);
    others = 1;
    for (k = 0; k < 16; k++)
        if (k != 5)
            others &= rmse[k] == 0 && diff[k] == 0;
    CHECK(others);
    /* a value pushed out of the range is still a difference */
    ms_image_set(b, 7, 7, 0, 9000);
    CHECK_INT(ms_grid_block_histdiff(&g, a, b, &rhu, diff, 16, NULL), MS_OK);
    CHECK_INT(diff[15], 2);
    CHECK_INT(ms_grid_block_histogram(&g, b, 15, &rhu, counts, 4099, NULL), MS_OK);
    CHECK(counts[1024] == 3 && counts[4098] == 1);
    ms_image_destroy(a);
    ms_image_destroy(b);
}

static void test_window_heatmap(void)
{
    float v[8] = {-2000, -950, -949, -200, 548, 549, 550, NAN};
    static const int32_t expect[8] = {0, 0, 0, 128, 255, 255, 255, 0};
    float d[4] = {-10, 0, 10, 5};
    float z[4] = {0, 0, 0, 0};
    struct ms_image in = ms_image_view(8, 1, 1, MS_SAMPLE_F32, v);
    struct ms_image ia = ms_image_view(4, 1, 1, MS_SAMPLE_F32, z);
    struct ms_image ib = ms_image_view(4, 1, 1, MS_SAMPLE_F32, d);
    struct ms_image *out = NULL;
    uint8_t rgb[3];
    int i, same = 1;

    CHECK_INT(ms_image_window(&out, &in, -200, 1500, NULL), MS_OK);
    for (i = 0; out && i < 8; i++)
        same &= ((int32_t *)out->data)[i] == expect[i];
    CHECK(same);
    if (out) /* 548: ((548 + 200.5) / 1499 + 0.5) * 255 = 254.83 */
        CHECK_INT(((int32_t *)out->data)[4], 255);
    ms_image_destroy(out);
    CHECK_INT(ms_image_window(&out, &in, 0, 1, NULL), MS_OK); /* threshold at -0.5 */
    CHECK(out && ((int32_t *)out->data)[3] == 0 && ((int32_t *)out->data)[5] == 255);
    ms_image_destroy(out);

    ms_heatmap_color(0, rgb);
    CHECK(rgb[0] == 255 && rgb[1] == 255 && rgb[2] == 255);
    ms_heatmap_color(1, rgb);
    CHECK(rgb[0] == 160 && rgb[1] == 0 && rgb[2] == 16);
    ms_heatmap_color(7, rgb); /* clamped */
    CHECK(rgb[0] == 160 && rgb[1] == 0 && rgb[2] == 16);
    ms_heatmap_color(-1, rgb);
    CHECK(rgb[0] == 0 && rgb[1] == 32 && rgb[2] == 160);
    ms_heatmap_color(0.25, rgb);
    CHECK(rgb[0] == 248 && rgb[1] == 184 && rgb[2] == 160);
    ms_heatmap_color(NAN, rgb);
    CHECK(rgb[0] == 0 && rgb[1] == 0 && rgb[2] == 0);

    out = NULL;
    CHECK_INT(ms_image_heatmap(&out, &ia, &ib, MS_HEAT_SIGNED, 0, NULL), MS_OK);
    if (out) {
        const int32_t *o = out->data;
        CHECK(out->channels == 3 && out->width == 4);
        CHECK(o[0] == 0 && o[1] == 32 && o[2] == 160);    /* -10 / 10 = -1 */
        CHECK(o[3] == 255 && o[4] == 255 && o[5] == 255); /* 0 */
        CHECK(o[6] == 160 && o[7] == 0 && o[8] == 16);    /* 1 */
        CHECK(o[9] == 240 && o[10] == 112 && o[11] == 64); /* 0.5 */
    }
    ms_image_destroy(out);
    out = NULL;
    CHECK_INT(ms_image_heatmap(&out, &ia, &ib, MS_HEAT_ABS, 20, NULL), MS_OK);
    if (out) {
        const int32_t *o = out->data;
        CHECK(o[0] == 240 && o[1] == 112 && o[2] == 64); /* |-10| / 20 */
    }
    ms_image_destroy(out);
    out = NULL;
    CHECK_INT(ms_image_heatmap(&out, &ia, &ia, MS_HEAT_SIGNED, 0, NULL), MS_OK);
    CHECK(out && ((int32_t *)out->data)[5] == 255); /* equal: white */
    ms_image_destroy(out);
}

static int images_equal(const struct ms_image *a, const struct ms_image *b)
{
    uint64_t i, n;
    if (!a || !b || a->width != b->width || a->height != b->height || a->channels != b->channels)
        return 0;
    n = ms_image_samples(a);
    for (i = 0; i < n; i++)
        if (ms_image_get(a, (uint32_t)(i / a->channels % a->width),
                         (uint32_t)(i / a->channels / a->width), (uint32_t)(i % a->channels)) !=
            ms_image_get(b, (uint32_t)(i / b->channels % b->width),
                         (uint32_t)(i / b->channels / b->width), (uint32_t)(i % b->channels)))
            return 0;
    return 1;
}

static void png_round_trip(uint32_t w, uint32_t h, uint32_t ch, unsigned depth)
{
    struct ms_image *img = mk(w, h, ch, MS_SAMPLE_I32), *back = NULL;
    struct ms_png_write_options opt = {depth, 0, false};
    char path[128];
    unsigned bits = 0;
    uint32_t x, y, c;

    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++)
            for (c = 0; c < ch; c++)
                ms_image_set(img, x, y, c, pattern_value(x, y, c, (int)depth));
    snprintf(path, sizeof path, "%s/rt_%u_%u.png", tu_dir, ch, depth);
    CHECK_INT(ms_png_write(path, img, &opt, NULL), MS_OK);
    CHECK_INT(ms_png_read(&back, path, &bits, NULL), MS_OK);
    CHECK_INT(bits, depth);
    CHECK(back && back->type == MS_SAMPLE_I32);
    CHECK(images_equal(img, back));
    ms_image_destroy(back);
    ms_image_destroy(img);
}

static void test_png_round_trips(void)
{
    float hu[6] = {-1024.0f, -1000.4f, 0.0f, 3071.0f, 40.5f, -0.5f};
    static const int32_t stored[6] = {0, 24, 1024, 4095, 1065, 1024};
    struct ms_image v = ms_image_view(3, 2, 1, MS_SAMPLE_F32, hu);
    struct ms_png_write_options o16 = {16, 1024, false}, oc = {8, 0, true};
    struct ms_image *back = NULL, *win = NULL;
    struct tu_membuf m = {0};
    char path[128];
    unsigned bits = 0;
    int i, same = 1;

    png_round_trip(1, 1, 1, 8);
    png_round_trip(37, 23, 1, 8);
    png_round_trip(37, 23, 1, 16);
    png_round_trip(37, 23, 3, 8);
    png_round_trip(20, 31, 3, 16);

    /* raw CT: HU + 1024 in 16 bits */
    snprintf(path, sizeof path, "%s/hu.png", tu_dir);
    CHECK_INT(ms_png_write(path, &v, &o16, NULL), MS_OK);
    CHECK_INT(ms_png_read(&back, path, &bits, NULL), MS_OK);
    CHECK_INT(bits, 16);
    for (i = 0; back && i < 6; i++)
        same &= ((int32_t *)back->data)[i] == stored[i];
    CHECK(back && same);
    ms_image_destroy(back);

    /* windowed 8-bit, through memory */
    CHECK_INT(ms_image_window(&win, &v, -200, 1500, NULL), MS_OK);
    CHECK_INT(ms_png_encode(win, NULL, tu_mem_sink, &m, NULL), MS_OK);
    back = NULL;
    CHECK_INT(ms_png_decode(&back, m.data, m.len, &bits, NULL), MS_OK);
    CHECK_INT(bits, 8);
    CHECK(images_equal(win, back));
    ms_image_destroy(back);
    ms_image_destroy(win);
    free(m.data);

    /* clamp: out-of-range samples saturate instead of failing */
    memset(&m, 0, sizeof m);
    back = NULL;
    CHECK_INT(ms_png_encode(&v, &oc, tu_mem_sink, &m, NULL), MS_OK);
    CHECK_INT(ms_png_decode(&back, m.data, m.len, NULL, NULL), MS_OK);
    CHECK(back && ((int32_t *)back->data)[0] == 0 && ((int32_t *)back->data)[3] == 255 &&
          ((int32_t *)back->data)[4] == 41);
    ms_image_destroy(back);
    free(m.data);
    CHECK_INT(dir_entries(), 5); /* rt_1_8 (twice), rt_1_16, rt_3_8, rt_3_16, hu: no temporaries */
}

static void test_png_foreign(void)
{
    static const struct {
        int color, depth, interlace;
    } cases[] = {
        {PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_ADAM7},
        {PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_ADAM7},
        {PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7},
        {PNG_COLOR_TYPE_RGB, 16, PNG_INTERLACE_NONE},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tu_membuf m = {0};
        struct ms_image *img = NULL;
        unsigned bits = 0;
        int ok = 1;
        uint32_t x, y, c;

        CHECK_INT(make_png(&m, 13, 11, cases[i].color, cases[i].depth, cases[i].interlace), 0);
        CHECK_INT(ms_png_decode(&img, m.data, m.len, &bits, NULL), MS_OK);
        CHECK_INT(bits, cases[i].depth);
        for (y = 0; img && y < 11; y++)
            for (x = 0; x < 13; x++)
                for (c = 0; c < img->channels; c++)
                    ok &= ms_image_get(img, x, y, c) == pattern_value(x, y, c, cases[i].depth);
        CHECK(img && ok);
        ms_image_destroy(img);
        free(m.data);
    }
}

/* ==== negative tests ============================================================= */

static void neg_image(void)
{
    struct ms_image *img = (struct ms_image *)1;
    struct ms_image v = ms_image_view(2, 2, 1, MS_SAMPLE_F32, NULL);
    struct ms_error e;

    CHECK_INT(ms_image_create(&img, 0, 5, 1, MS_SAMPLE_F32, &e), MS_EUSAGE);
    CHECK(img == NULL);
    CHECK(strstr(e.msg, "zero size") != NULL);
    CHECK_INT(ms_image_create(&img, 5, 0, 1, MS_SAMPLE_F32, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_create(&img, 5, 5, 2, MS_SAMPLE_F32, &e), MS_EUSAGE);
    CHECK(strstr(e.msg, "channels") != NULL);
    CHECK_INT(ms_image_create(&img, 5, 5, 0, MS_SAMPLE_F32, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_create(&img, 5, 5, 1, (ms_sample_type)9, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_create(&img, 65536, 1, 1, MS_SAMPLE_F32, NULL), MS_ELIMIT);
    CHECK_INT(ms_image_create(&img, 65535, 65535, 3, MS_SAMPLE_F32, &e), MS_ELIMIT);
    CHECK(img == NULL);
    CHECK_INT(ms_image_create(&img, 5, 65536, 1, MS_SAMPLE_I32, NULL), MS_ELIMIT);
    CHECK_INT(ms_image_create(&img, 16384, 16384, 3, MS_SAMPLE_I32, NULL), MS_ELIMIT);
    CHECK_INT(ms_image_check(NULL, NULL), MS_EUSAGE);
    {
        float one = 0;
        struct ms_image wide = ms_image_view(70000, 1, 1, MS_SAMPLE_F32, &one);
        struct ms_image badtype = ms_image_view(1, 1, 1, (ms_sample_type)4, &one);
        struct ms_image twoch = ms_image_view(1, 1, 2, MS_SAMPLE_F32, &one);
        double mse = 0;
        CHECK_INT(ms_image_check(&wide, NULL), MS_ELIMIT);
        CHECK_INT(ms_image_check(&badtype, NULL), MS_EUSAGE);
        CHECK_INT(ms_image_mse(&twoch, &twoch, &mse, NULL, NULL), MS_EUSAGE);
        CHECK_INT(ms_image_mse(&badtype, &badtype, &mse, NULL, NULL), MS_EUSAGE);
    }
    CHECK_INT(ms_image_check(&v, &e), MS_EUSAGE);
    CHECK(strstr(e.msg, "without samples") != NULL);
}

static void neg_metrics(void)
{
    struct ms_image *a = mk(8, 8, 1, MS_SAMPLE_I32), *b = mk(8, 9, 1, MS_SAMPLE_I32);
    struct ms_image *c = mk(8, 8, 3, MS_SAMPLE_I32), *s6 = mk(6, 20, 1, MS_SAMPLE_I32);
    struct ms_image *s10 = mk(10, 10, 1, MS_SAMPLE_I32);
    struct ms_error e;
    double out = 0, out2 = 0;

    CHECK_INT(ms_image_mse(a, b, &out, NULL, &e), MS_EUSAGE);
    CHECK(strstr(e.msg, "differ in size") != NULL);
    CHECK_INT(ms_image_mse(a, c, &out, NULL, &e), MS_EUSAGE);
    CHECK(strstr(e.msg, "channels") != NULL);
    CHECK_INT(ms_image_mse(NULL, a, &out, NULL, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_psnr(a, b, 255, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_psnr(a, a, 0, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_psnr(a, a, -1, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_psnr(a, a, NAN, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_ssim(a, b, 255, MS_SSIM_UNIFORM7, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_ssim(a, a, 0, MS_SSIM_UNIFORM7, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_ssim(a, a, INFINITY, MS_SSIM_UNIFORM7, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_ssim(a, a, 255, (ms_ssim_window)5, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_ssim(s6, s6, 255, MS_SSIM_UNIFORM7, &out, &e), MS_EUSAGE);
    CHECK(strstr(e.msg, "smaller than") != NULL);
    CHECK_INT(ms_image_ssim(s10, s10, 255, MS_SSIM_GAUSSIAN11, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_npcr_uaci(a, b, 255, &out, &out2, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_npcr_uaci(a, a, 0, &out, &out2, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_npcr_uaci(a, a, NAN, &out, &out2, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_npcr_uaci(a, a, -255, &out, &out2, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_npcr_uaci(a, c, 255, &out, &out2, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_ssim(a, c, 255, MS_SSIM_UNIFORM7, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_ssim(c, c, 255, MS_SSIM_GAUSSIAN11, &out, NULL), MS_EUSAGE); /* 8 < 11 */
    CHECK_INT(ms_image_ssim(a, a, -1, MS_SSIM_GAUSSIAN11, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_ssim(a, a, NAN, MS_SSIM_GAUSSIAN11, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_psnr(a, c, 255, &out, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_psnr(a, a, INFINITY, &out, NULL), MS_EUSAGE);
    ms_image_destroy(a);
    ms_image_destroy(b);
    ms_image_destroy(c);
    ms_image_destroy(s6);
    ms_image_destroy(s10);
}

static void neg_correlation(void)
{
    struct ms_image *one = mk(1, 1, 1, MS_SAMPLE_I32), *col = mk(1, 5, 1, MS_SAMPLE_I32);
    struct ms_image *two = mk(3, 1, 1, MS_SAMPLE_I32);
    double r = 0;

    CHECK_INT(ms_image_correlation(one, MS_DIR_HORIZONTAL, 0, 0, &r, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_correlation(col, MS_DIR_HORIZONTAL, 0, 0, &r, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_correlation(col, MS_DIR_DIAGONAL, 0, 0, &r, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_correlation(two, MS_DIR_VERTICAL, 0, 0, &r, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_correlation(two, (ms_direction)3, 0, 0, &r, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_correlation(two, MS_DIR_HORIZONTAL, (UINT64_C(1) << 32) + 1, 0, &r, NULL),
              MS_EUSAGE);
    CHECK_INT(ms_image_correlation(NULL, MS_DIR_HORIZONTAL, 0, 0, &r, NULL), MS_EUSAGE);
    {
        struct ms_image vnull = ms_image_view(4, 4, 1, MS_SAMPLE_I32, NULL);
        CHECK_INT(ms_image_correlation(&vnull, MS_DIR_VERTICAL, 0, 0, &r, NULL), MS_EUSAGE);
    }
    ms_image_destroy(one);
    ms_image_destroy(col);
    ms_image_destroy(two);
}

static void neg_histogram(void)
{
    struct ms_image *img = mk(4, 4, 1, MS_SAMPLE_I32);
    struct ms_hist_range r0 = {0, 256, 0}, rbig = {0, 1, MS_HIST_MAX_BINS + 1};
    struct ms_hist_range rinv = {5, 5, 10}, rnan = {NAN, 5, 10}, r8 = MS_HIST_RANGE_U8;
    uint64_t counts[258];
    double bits = 0;

    CHECK_INT(ms_image_histogram(img, &r0, counts, 2, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_histogram(img, &rbig, counts, 258, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_histogram(img, &rinv, counts, 12, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_histogram(img, &rnan, counts, 12, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_histogram(img, &r8, counts, 256, NULL), MS_EUSAGE); /* needs 258 */
    CHECK_INT(ms_image_histogram(img, &r8, NULL, 258, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_histogram(img, NULL, counts, 258, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_histogram(NULL, &r8, counts, 258, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_entropy(img, &rinv, &bits, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_entropy(NULL, &r8, &bits, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_entropy(img, &r0, &bits, NULL), MS_EUSAGE);
    {
        struct ms_hist_range rinf = {0, INFINITY, 10}, rrev = {10, 0, 10};
        CHECK_INT(ms_image_histogram(img, &rinf, counts, 12, NULL), MS_EUSAGE);
        CHECK_INT(ms_image_histogram(img, &rrev, counts, 12, NULL), MS_EUSAGE);
    }
    ms_image_destroy(img);
}

static void neg_grid(void)
{
    struct ms_grid g;
    struct ms_rect r;
    struct ms_image *img = mk(8, 8, 1, MS_SAMPLE_I32), *other = mk(9, 8, 1, MS_SAMPLE_I32);
    struct ms_image *blk = NULL, *fblk = mk(2, 2, 1, MS_SAMPLE_F32);
    struct ms_image *big = mk(3, 2, 1, MS_SAMPLE_I32), *rgb = mk(2, 2, 3, MS_SAMPLE_I32);
    struct ms_hist_range r8 = MS_HIST_RANGE_U8;
    uint32_t order[16];
    double rmse[16];
    uint64_t diff[16], counts[258];

    CHECK_INT(ms_grid_init(&g, 8, 8, 0, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_init(&g, 8, 8, MS_GRID_MAX_N + 1, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_init(&g, 3, 8, 4, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_init(&g, 8, 3, 4, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_init(&g, 70000, 8, 4, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_init(&g, 0, 0, 1, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_zigzag(0, order, 0, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_zigzag(4, order, 15, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_zigzag(MS_GRID_MAX_N + 1, order, 16, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_init(&g, 8, 8, 4, NULL), MS_OK);
    CHECK_INT(ms_grid_block_rect(&g, 16, &r, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_extract(&g, other, 0, &blk, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_extract(&g, img, 16, &blk, NULL), MS_EUSAGE);
    CHECK(blk == NULL);
    CHECK_INT(ms_grid_block_insert(&g, img, 0, big, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_insert(&g, img, 0, fblk, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_insert(&g, img, 0, rgb, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_insert(&g, img, 16, fblk, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_rmse(&g, img, img, rmse, 15, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_rmse(&g, img, other, rmse, 16, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_rmse(&g, other, other, rmse, 16, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_histdiff(&g, img, img, &r8, diff, 64, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_histdiff(&g, img, img, NULL, diff, 16, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_histogram(&g, img, 16, &r8, counts, 258, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_histogram(&g, img, 0, &r8, counts, 257, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_zigzag(4, NULL, 16, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_zigzag(4, order, 17, NULL), MS_EUSAGE);
    {
        struct ms_grid zero = {0, 0, 0, 0, 0};
        CHECK_INT(ms_grid_block_rect(&zero, 0, &r, NULL), MS_EUSAGE);
        CHECK_INT(ms_grid_block_rmse(&zero, img, img, rmse, 0, NULL), MS_EUSAGE);
    }
    CHECK_INT(ms_grid_block_rmse(&g, img, img, NULL, 16, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_rmse(&g, NULL, img, rmse, 16, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_insert(&g, img, 0, NULL, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_histdiff(&g, img, other, &r8, diff, 16, NULL), MS_EUSAGE);
    /* a hand-filled grid that does not add up */
    g.block_width = 3;
    CHECK_INT(ms_grid_block_rect(&g, 0, &r, NULL), MS_EUSAGE);
    CHECK_INT(ms_grid_block_extract(&g, img, 0, &blk, NULL), MS_EUSAGE);
    CHECK(blk == NULL);
    ms_image_destroy(img);
    ms_image_destroy(other);
    ms_image_destroy(fblk);
    ms_image_destroy(big);
    ms_image_destroy(rgb);
}

static void neg_render(void)
{
    struct ms_image *grey = mk(4, 4, 1, MS_SAMPLE_F32), *rgb = mk(4, 4, 3, MS_SAMPLE_I32);
    struct ms_image *other = mk(5, 4, 1, MS_SAMPLE_F32), *out = (struct ms_image *)1;

    CHECK_INT(ms_image_window(&out, rgb, 40, 400, NULL), MS_EUSAGE);
    CHECK(out == NULL);
    CHECK_INT(ms_image_window(&out, grey, 40, 0.5, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_window(&out, grey, NAN, 400, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_window(&out, NULL, 40, 400, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_window(&out, grey, 40, -5, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_window(&out, grey, INFINITY, 400, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_heatmap(&out, NULL, grey, MS_HEAT_SIGNED, 0, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_heatmap(&out, grey, grey, MS_HEAT_SIGNED, INFINITY, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_heatmap(&out, rgb, rgb, MS_HEAT_SIGNED, 0, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_heatmap(&out, grey, other, MS_HEAT_SIGNED, 0, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_heatmap(&out, grey, grey, (ms_heat_mode)7, 0, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_heatmap(&out, grey, grey, (ms_heat_mode)-1, 0, NULL), MS_EUSAGE);
    CHECK_INT(ms_image_heatmap(&out, grey, grey, MS_HEAT_ABS, NAN, NULL), MS_EUSAGE);
    CHECK(out == NULL);
    ms_image_destroy(grey);
    ms_image_destroy(rgb);
    ms_image_destroy(other);
}

static void neg_png_write(void)
{
    float over[2] = {255.6f, 0}, under[2] = {3, -0.6f}, nan[2] = {1, NAN};
    struct ms_image vo = ms_image_view(2, 1, 1, MS_SAMPLE_F32, over);
    struct ms_image vu = ms_image_view(2, 1, 1, MS_SAMPLE_F32, under);
    struct ms_image vn = ms_image_view(2, 1, 1, MS_SAMPLE_F32, nan);
    struct ms_png_write_options bad_depth = {12, 0, false}, bad_off = {8, NAN, false};
    struct ms_png_write_options o16 = {16, 0, false}, hu = {16, 1024, false};
    struct ms_image *img = mk(40, 40, 1, MS_SAMPLE_I32);
    struct tu_membuf m = {0};
    struct ms_error e;
    char path[128];
    int before = dir_entries();

    snprintf(path, sizeof path, "%s/bad.png", tu_dir);
    CHECK_INT(ms_png_write(path, &vo, NULL, &e), MS_EUSAGE);
    CHECK(strstr(e.msg, "x=0 y=0") != NULL);
    CHECK_INT(ms_png_write(path, &vu, NULL, &e), MS_EUSAGE);
    CHECK(strstr(e.msg, "x=1 y=0") != NULL);
    CHECK_INT(ms_png_write(path, &vn, NULL, NULL), MS_EUSAGE);
    CHECK_INT(ms_png_write(path, &vo, &bad_depth, NULL), MS_EUSAGE);
    CHECK_INT(ms_png_write(path, &vo, &bad_off, NULL), MS_EUSAGE);
    CHECK_INT(ms_png_write(path, NULL, &o16, NULL), MS_EUSAGE);
    CHECK_INT(ms_png_write(NULL, &vo, &o16, NULL), MS_EUSAGE);
    CHECK_INT(ms_png_write(path, &vu, &hu, NULL), MS_OK); /* fine once offset */
    unlink(path);
    CHECK_INT(dir_entries(), before); /* no output, no temporary left */
    CHECK_INT(ms_png_write("/nonexistent-dir/x.png", &vu, &hu, &e), MS_EIO);
    /* the path is a directory: the rename fails, nothing is left behind */
    CHECK_INT(ms_png_write(tu_dir, &vu, &hu, &e), MS_EIO);
    CHECK_INT(dir_entries(), before);
    CHECK_INT(ms_png_encode(&vu, &hu, NULL, NULL, NULL), MS_EUSAGE);
    m.fail_after = 2; /* the sink fails in the middle */
    CHECK_INT(ms_png_encode(img, NULL, tu_mem_sink, &m, &e), MS_EIO);
    CHECK(strstr(e.msg, "output failed") != NULL);
    m.fail_after = 1; /* ... after the signature */
    m.calls = 0;
    CHECK_INT(ms_png_encode(img, NULL, tu_mem_sink, &m, NULL), MS_EIO);
    free(m.data);
    {
        int32_t i8[3] = {0, 256, 0}, i16[3] = {0, -1, 0};
        int32_t rgb[6] = {1, 2, 3, 4, 5, 300};
        float f16[2] = {65535.6f, 0};
        struct ms_image v8 = ms_image_view(3, 1, 1, MS_SAMPLE_I32, i8);
        struct ms_image v16 = ms_image_view(3, 1, 1, MS_SAMPLE_I32, i16);
        struct ms_image vrgb = ms_image_view(2, 1, 3, MS_SAMPLE_I32, rgb);
        struct ms_image vf16 = ms_image_view(2, 1, 1, MS_SAMPLE_F32, f16);
        struct ms_image vnull = ms_image_view(2, 1, 1, MS_SAMPLE_F32, NULL);
        memset(&m, 0, sizeof m);
        CHECK_INT(ms_png_encode(&v8, NULL, tu_mem_sink, &m, &e), MS_EUSAGE);
        CHECK(strstr(e.msg, "x=1 y=0") != NULL);
        CHECK_INT(ms_png_encode(&v16, &o16, tu_mem_sink, &m, NULL), MS_EUSAGE);
        CHECK_INT(ms_png_encode(&vf16, &o16, tu_mem_sink, &m, NULL), MS_EUSAGE);
        CHECK_INT(ms_png_encode(&vrgb, NULL, tu_mem_sink, &m, &e), MS_EUSAGE);
        CHECK(strstr(e.msg, "x=1 y=0") != NULL);
        CHECK_INT(ms_png_encode(&vnull, NULL, tu_mem_sink, &m, NULL), MS_EUSAGE);
        CHECK_INT(m.len, 0); /* nothing went out */
    }
    ms_image_destroy(img);
}

static void neg_png_read(void)
{
    static const uint8_t junk[32] = "this is certainly not a PNG!";
    struct tu_membuf ok, m;
    struct ms_image *img = (struct ms_image *)1;
    struct ms_error e;
    char path[128];
    uint8_t *p;
    size_t len, cut, idat;
    int all_fail = 1;
    FILE *f;

    CHECK_INT(ms_png_decode(&img, NULL, 0, NULL, NULL), MS_EMALFORMED);
    CHECK(img == NULL);
    CHECK_INT(ms_png_decode(&img, junk, sizeof junk, NULL, &e), MS_EMALFORMED);
    CHECK(strstr(e.msg, "not a PNG") != NULL);
    small_png(&ok);
    CHECK_INT(ms_png_decode(&img, ok.data, 7, NULL, NULL), MS_EMALFORMED); /* half a signature */
    ok.data[1] = 'Q';
    CHECK_INT(ms_png_decode(&img, ok.data, ok.len, NULL, NULL), MS_EMALFORMED);
    free(ok.data);
    CHECK_INT(ms_png_read(&img, "/nonexistent-dir/x.png", NULL, NULL), MS_EIO);
    snprintf(path, sizeof path, "%s/empty.png", tu_dir);
    f = fopen(path, "wb");
    if (f)
        fclose(f);
    CHECK_INT(ms_png_read(&img, path, NULL, NULL), MS_EMALFORMED);
    unlink(path);

    small_png(&ok);
    len = ok.len;
    p = malloc(len);
    /* every truncation fails cleanly */
    for (cut = 0; cut < len; cut++) {
        memcpy(p, ok.data, cut);
        img = NULL;
        all_fail &= ms_png_decode(&img, p, cut, NULL, NULL) == MS_EMALFORMED && img == NULL;
    }
    CHECK(all_fail);
    /* without IEND only */
    memcpy(p, ok.data, len);
    CHECK_INT(ms_png_decode(&img, p, len - 12, NULL, &e), MS_EMALFORMED);
    CHECK(strstr(e.msg, "truncated") != NULL);
    /* IHDR CRC broken */
    p[17] ^= 1;
    CHECK_INT(ms_png_decode(&img, p, len, NULL, &e), MS_EMALFORMED);
    /* 70000 wide, CRC fixed: beyond the limit */
    memcpy(p, ok.data, len);
    put_be32(p + 16, 70000);
    fix_crc(p, 8);
    CHECK_INT(ms_png_decode(&img, p, len, NULL, NULL), MS_ELIMIT);
    /* 16000 x 16000 (within the limits) in a few hundred bytes: impossible */
    put_be32(p + 16, 16000);
    put_be32(p + 20, 16000);
    fix_crc(p, 8);
    CHECK_INT(ms_png_decode(&img, p, len, NULL, &e), MS_EMALFORMED);
    CHECK(strstr(e.msg, "more than") != NULL);
    /* zero width */
    memcpy(p, ok.data, len);
    put_be32(p + 16, 0);
    fix_crc(p, 8);
    CHECK_INT(ms_png_decode(&img, p, len, NULL, NULL), MS_EMALFORMED);
    /* IDAT data damaged: CRC error; then with CRC fixed: bad zlib header */
    idat = 33;
    CHECK(memcmp(ok.data + idat + 4, "IDAT", 4) == 0);
    memcpy(p, ok.data, len);
    p[idat + 8] ^= 0xFF;
    CHECK_INT(ms_png_decode(&img, p, len, NULL, NULL), MS_EMALFORMED);
    fix_crc(p, idat);
    CHECK_INT(ms_png_decode(&img, p, len, NULL, NULL), MS_EMALFORMED);
    /* a data byte deep in the deflate stream, CRC fixed */
    memcpy(p, ok.data, len);
    p[idat + 8 + 10] ^= 0x55;
    fix_crc(p, idat);
    CHECK_INT(ms_png_decode(&img, p, len, NULL, NULL), MS_EMALFORMED);
    CHECK(img == NULL);

    /* cuts at the chunk boundaries, one by one */
    CHECK_INT(ms_png_decode(&img, ok.data, 8, NULL, NULL), MS_EMALFORMED);       /* signature */
    CHECK_INT(ms_png_decode(&img, ok.data, 20, NULL, NULL), MS_EMALFORMED);      /* mid IHDR */
    CHECK_INT(ms_png_decode(&img, ok.data, 33, NULL, NULL), MS_EMALFORMED);      /* no IDAT */
    CHECK_INT(ms_png_decode(&img, ok.data, 45, NULL, NULL), MS_EMALFORMED);      /* mid IDAT */
    CHECK_INT(ms_png_decode(&img, ok.data, len - 4, NULL, NULL), MS_EMALFORMED); /* IEND CRC */
    /* IHDR fields out of the PNG specification, CRC fixed each time */
    {
        static const struct {
            size_t at;
            uint8_t value;
        } bad[] = {
            {24, 7},  /* bit depth 7 */
            {25, 5},  /* colour type 5 */
            {26, 1},  /* compression method 1 */
            {27, 1},  /* filter method 1 */
            {28, 2},  /* interlace method 2 */
            {24, 16}, /* valid, but the 8-bit data is too short for 16-bit rows */
        };
        size_t i;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            memcpy(p, ok.data, len);
            p[bad[i].at] = bad[i].value;
            fix_crc(p, 8);
            CHECK_INT(ms_png_decode(&img, p, len, NULL, NULL), MS_EMALFORMED);
        }
    }
    /* the IDAT length field beyond the file */
    memcpy(p, ok.data, len);
    put_be32(p + idat, 0x7FFFFFF0u);
    CHECK_INT(ms_png_decode(&img, p, len, NULL, NULL), MS_EMALFORMED);
    /* IDAT renamed to an unknown critical chunk "IDAX" */
    memcpy(p, ok.data, len);
    p[idat + 7] = 'X';
    fix_crc(p, idat);
    CHECK_INT(ms_png_decode(&img, p, len, NULL, NULL), MS_EMALFORMED);
    /* no IHDR: the signature straight followed by IDAT */
    memcpy(p, ok.data, 8);
    memcpy(p + 8, ok.data + idat, len - idat);
    CHECK_INT(ms_png_decode(&img, p, 8 + len - idat, NULL, NULL), MS_EMALFORMED);
    CHECK(img == NULL);
    free(p);
    free(ok.data);

    /* a directory is not a PNG file */
    CHECK_INT(ms_png_read(&img, tu_dir, NULL, NULL), MS_EIO);

    /* formats out of scope */
    memset(&m, 0, sizeof m);
    CHECK_INT(make_png(&m, 8, 8, PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE), 0);
    CHECK_INT(ms_png_decode(&img, m.data, m.len, NULL, &e), MS_EUNSUPPORTED);
    CHECK(strstr(e.msg, "palette") != NULL);
    free(m.data);
    memset(&m, 0, sizeof m);
    CHECK_INT(make_png(&m, 8, 8, PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE), 0);
    CHECK_INT(ms_png_decode(&img, m.data, m.len, NULL, NULL), MS_EUNSUPPORTED);
    free(m.data);
    memset(&m, 0, sizeof m);
    CHECK_INT(make_png(&m, 8, 8, PNG_COLOR_TYPE_RGB_ALPHA, 16, PNG_INTERLACE_NONE), 0);
    CHECK_INT(ms_png_decode(&img, m.data, m.len, NULL, NULL), MS_EUNSUPPORTED);
    free(m.data);
    memset(&m, 0, sizeof m);
    CHECK_INT(make_png(&m, 8, 8, PNG_COLOR_TYPE_GRAY, 4, PNG_INTERLACE_NONE), 0);
    CHECK_INT(ms_png_decode(&img, m.data, m.len, NULL, &e), MS_EUNSUPPORTED);
    CHECK(strstr(e.msg, "4-bit") != NULL);
    free(m.data);
    CHECK(img == NULL);
}

/* ==== helper mode for the integration test ======================================= */

static struct ms_image *load(const char *spec)
{
    struct ms_image *img = NULL;
    struct ms_error e;
    unsigned w, h, c;
    int n = 0;

    if (sscanf(spec, "f32:%u:%u:%u:%n", &w, &h, &c, &n) == 3 && n > 0) {
        FILE *f = fopen(spec + n, "rb");
        size_t want = (size_t)w * h * c;
        if (!f || ms_image_create(&img, w, h, c, MS_SAMPLE_F32, &e) != MS_OK ||
            fread(img->data, sizeof(float), want, f) != want) {
            fprintf(stderr, "cannot load %s\n", spec);
            exit(2);
        }
        fclose(f);
        return img;
    }
    if (ms_png_read(&img, spec, NULL, &e) != MS_OK) {
        fprintf(stderr, "%s\n", e.msg);
        exit(3);
    }
    return img;
}

static void must(ms_status st, const struct ms_error *e)
{
    if (st != MS_OK) {
        fprintf(stderr, "error: %s\n", e->msg);
        exit(4);
    }
}

static int driver_metrics(const char *sa, const char *sb, double peak)
{
    struct ms_image *a = load(sa), *b = load(sb);
    struct ms_hist_range range = {0, peak + 1, (uint32_t)(peak + 1)};
    static const char *dirs[3] = {"h", "v", "d"};
    struct ms_error e;
    double v1, v2;
    int d;

    must(ms_image_mse(a, b, &v1, &v2, &e), &e);
    printf("mse %.17g\nrmse %.17g\n", v1, v2);
    must(ms_image_psnr(a, b, peak, &v1, &e), &e);
    printf("psnr %.17g\n", v1);
    must(ms_image_ssim(a, b, peak, MS_SSIM_UNIFORM7, &v1, &e), &e);
    printf("ssim_uniform7 %.17g\n", v1);
    must(ms_image_ssim(a, b, peak, MS_SSIM_GAUSSIAN11, &v1, &e), &e);
    printf("ssim_gaussian11 %.17g\n", v1);
    must(ms_image_npcr_uaci(a, b, peak, &v1, &v2, &e), &e);
    printf("npcr %.17g\nuaci %.17g\n", v1, v2);
    for (d = 0; d < 3; d++) {
        must(ms_image_correlation(a, (ms_direction)d, 0, 0, &v1, &e), &e);
        printf("corr_%s %.17g\n", dirs[d], v1);
    }
    must(ms_image_entropy(a, &range, &v1, &e), &e);
    printf("entropy %.17g\n", v1);
    ms_image_destroy(a);
    ms_image_destroy(b);
    return 0;
}

static int driver(int argc, char **argv)
{
    struct ms_error e;

    if (argc == 5 && strcmp(argv[1], "metrics") == 0)
        return driver_metrics(argv[2], argv[3], atof(argv[4]));
    if (argc == 6 && strcmp(argv[1], "copy") == 0) {
        struct ms_image *img = load(argv[2]);
        struct ms_png_write_options o = {(unsigned)atoi(argv[4]), atof(argv[5]), false};
        must(ms_png_write(argv[3], img, &o, &e), &e);
        ms_image_destroy(img);
        return 0;
    }
    if (argc == 6 && strcmp(argv[1], "window") == 0) {
        struct ms_image *img = load(argv[2]), *win = NULL;
        must(ms_image_window(&win, img, atof(argv[4]), atof(argv[5]), &e), &e);
        must(ms_png_write(argv[3], win, NULL, &e), &e);
        ms_image_destroy(win);
        ms_image_destroy(img);
        return 0;
    }
    fprintf(stderr, "usage: test_image [metrics A B PEAK | copy IN OUT DEPTH OFFSET | "
                    "window IN OUT C W]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return driver(argc, argv);
    tu_dir_open();
    test_image_basics();
    test_zigzag();
    test_grid();
    test_block_extract_insert();
    test_mse_psnr();
    test_ssim();
    test_npcr_uaci();
    test_correlation();
    test_histogram_entropy();
    test_block_metrics();
    test_window_heatmap();
    test_png_round_trips();
    test_png_foreign();

    neg_image();
    neg_metrics();
    neg_correlation();
    neg_histogram();
    neg_grid();
    neg_render();
    neg_png_write();
    neg_png_read();
    tu_dir_close();
    return check_done();
}
