/* PNG encoding and decoding with libpng: grey or RGB, 8 or 16 bits.
 *
 * libpng reports errors by longjmp. Each setjmp lives in a small function
 * that keeps everything it changes behind a pointer to a state struct, so no
 * local variable is modified between setjmp and longjmp. */
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"
#include "internal.h"

/* The largest compression ratio deflate can reach (zlib technical notes). */
#define DEFLATE_MAX_RATIO 1032u
/* Largest ancillary chunk libpng may allocate while reading. */
#define CHUNK_MALLOC_MAX (8u << 20)

struct png_io {
    char msg[160];
    ms_sink_fn sink; /* writing */
    void *ctx;
    bool sink_failed;
    const uint8_t *in; /* reading */
    size_t len;
    size_t pos;
};

static void on_error(png_structp png, png_const_charp msg)
{
    struct png_io *io = png_get_error_ptr(png);
    snprintf(io->msg, sizeof io->msg, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* ---- encoding ------------------------------------------------------------------ */

struct encoder {
    struct png_io io;
    const struct ms_image *img;
    struct ms_png_write_options opt;
    uint32_t maxv;
    uint8_t *row;
    png_structp png;
    png_infop info;
};

static void write_cb(png_structp png, png_bytep data, size_t len)
{
    struct png_io *io = png_get_io_ptr(png);
    if (io->sink(io->ctx, data, len) != 0) {
        io->sink_failed = true;
        png_error(png, "output failed");
    }
}

static void flush_cb(png_structp png)
{
    (void)png;
}

/* round(v + offset) as it is written, or -1 when out of range without clamp. */
static int64_t png_value(double v, const struct ms_png_write_options *o, uint32_t maxv)
{
    v += o->offset;
    if (isnan(v))
        return o->clamp ? 0 : -1;
    v = floor(v + 0.5);
    if (v < 0)
        return o->clamp ? 0 : -1;
    if (v > maxv)
        return o->clamp ? (int64_t)maxv : -1;
    return (int64_t)v;
}

static ms_status check_range(const struct encoder *e, struct ms_error *err)
{
    const struct ms_image *img = e->img;
    uint64_t i, n = ms_image_samples(img);

    for (i = 0; i < n; i++) {
        if (png_value(msi_sample(img, i), &e->opt, e->maxv) >= 0)
            continue;
        uint64_t px = i / img->channels;
        return ms_error_set(err, MS_EUSAGE,
                            "sample %g + offset %g at x=%" PRIu64 " y=%" PRIu64
                            " is outside 0..%" PRIu32 " of a %u-bit PNG",
                            msi_sample(img, i), e->opt.offset, px % img->width,
                            px / img->width, e->maxv, e->opt.bit_depth);
    }
    return MS_OK;
}

static void fill_row(struct encoder *e, uint32_t y)
{
    const struct ms_image *img = e->img;
    uint64_t n = (uint64_t)img->width * img->channels;
    uint64_t base = (uint64_t)y * n, i;

    for (i = 0; i < n; i++) {
        uint32_t v = (uint32_t)png_value(msi_sample(img, base + i), &e->opt, e->maxv);
        if (e->opt.bit_depth == 16)
            msi_wr16be(e->row + 2 * i, (uint16_t)v);
        else
            e->row[i] = (uint8_t)v;
    }
}

/* Runs under libpng's longjmp: returns 0 or 1 when libpng failed. */
static int encode_run(struct encoder *e)
{
    uint32_t y;

    if (setjmp(png_jmpbuf(e->png)))
        return 1;
    png_set_write_fn(e->png, &e->io, write_cb, flush_cb);
    png_set_IHDR(e->png, e->info, e->img->width, e->img->height, (int)e->opt.bit_depth,
                 e->img->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(e->png, e->info);
    for (y = 0; y < e->img->height; y++) {
        fill_row(e, y);
        png_write_row(e->png, e->row);
    }
    png_write_end(e->png, NULL);
    return 0;
}

static ms_status check_options(const struct ms_png_write_options *o, struct ms_error *err)
{
    if (o->bit_depth != 8 && o->bit_depth != 16)
        return ms_error_set(err, MS_EUSAGE, "PNG bit depth %u (8 or 16 expected)", o->bit_depth);
    if (!isfinite(o->offset))
        return ms_error_set(err, MS_EUSAGE, "PNG sample offset is not finite");
    return MS_OK;
}

/* Options with defaults filled in, image and options checked, every sample
 * in range (unless clamping). */
static ms_status encoder_setup(struct encoder *e, const struct ms_image *img,
                               const struct ms_png_write_options *opt, ms_sink_fn sink,
                               struct ms_error *err)
{
    ms_status st;

    e->img = img;
    e->opt.bit_depth = 8;
    if (opt)
        e->opt = *opt;
    if (e->opt.bit_depth == 0)
        e->opt.bit_depth = 8;
    st = ms_image_check(img, err);
    if (st == MS_OK)
        st = check_options(&e->opt, err);
    if (st == MS_OK && !sink)
        st = ms_error_set(err, MS_EUSAGE, "no output for the PNG");
    if (st != MS_OK)
        return st;
    e->maxv = e->opt.bit_depth == 16 ? 65535u : 255u;
    return e->opt.clamp ? MS_OK : check_range(e, err);
}

ms_status ms_png_encode(const struct ms_image *img, const struct ms_png_write_options *opt,
                        ms_sink_fn sink, void *ctx, struct ms_error *err)
{
    struct encoder e;
    ms_status st;

    memset(&e, 0, sizeof e);
    st = encoder_setup(&e, img, opt, sink, err);
    if (st != MS_OK)
        return st;
    e.io.sink = sink;
    e.io.ctx = ctx;
    /* at most 65535 * 3 * 2 bytes */
    e.row = malloc((size_t)img->width * img->channels * (e.opt.bit_depth / 8));
    e.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e.io, on_error, on_warning);
    e.info = e.png ? png_create_info_struct(e.png) : NULL;
    if (!e.row || !e.png || !e.info)
        st = ms_error_set(err, MS_ENOMEM, "out of memory for the PNG encoder");
    else if (encode_run(&e) != 0)
        st = e.io.sink_failed ? ms_error_set(err, MS_EIO, "cannot write the PNG: output failed")
                              : ms_error_set(err, MS_EINTERNAL, "libpng: %s", e.io.msg);
    if (e.png)
        png_destroy_write_struct(&e.png, &e.info);
    free(e.row);
    return st;
}

ms_status ms_png_write(const char *path, const struct ms_image *img,
                       const struct ms_png_write_options *opt, struct ms_error *err)
{
    char tmp[4096];
    int fd;
    ms_status st, st2;

    if (!path)
        return ms_error_set(err, MS_EUSAGE, "no output path");
    st = ms_image_check(img, err);
    if (st != MS_OK)
        return st;
    st = msi_atomic_open(path, tmp, sizeof tmp, &fd, err);
    if (st != MS_OK)
        return st;
    st = ms_png_encode(img, opt, msi_fd_sink, &fd, err);
    st2 = msi_atomic_close(fd, tmp, path, st == MS_OK, st == MS_OK ? err : NULL);
    return st != MS_OK ? st : st2;
}

/* ---- decoding ------------------------------------------------------------------ */

struct decoder {
    struct png_io io;
    png_structp png;
    png_infop info;
    uint32_t width, height, channels;
    int depth;
    size_t rowbytes;
    uint8_t *raw;
    png_bytep *rows;
    struct ms_image *img;
    ms_status st; /* set by our own checks inside the run */
    struct ms_error *err;
};

static void read_cb(png_structp png, png_bytep out, size_t n)
{
    struct png_io *io = png_get_io_ptr(png);
    if (n > io->len - io->pos)
        png_error(png, "truncated file");
    memcpy(out, io->in + io->pos, n);
    io->pos += n;
}

/* The header as read: supported format, within limits, plausible size. */
static ms_status check_header(struct decoder *d, int color)
{
    uint64_t samples, raw;

    if (color == PNG_COLOR_TYPE_PALETTE)
        return ms_error_set(d->err, MS_EUNSUPPORTED, "palette PNG (grey or RGB expected)");
    if (color != PNG_COLOR_TYPE_GRAY && color != PNG_COLOR_TYPE_RGB)
        return ms_error_set(d->err, MS_EUNSUPPORTED, "PNG with an alpha channel");
    if (d->depth != 8 && d->depth != 16)
        return ms_error_set(d->err, MS_EUNSUPPORTED, "%d-bit PNG (8 or 16 expected)", d->depth);
    d->channels = color == PNG_COLOR_TYPE_GRAY ? 1 : 3;
    if (d->width > MS_IMAGE_MAX_SIDE || d->height > MS_IMAGE_MAX_SIDE)
        return ms_error_set(d->err, MS_ELIMIT, "PNG of %" PRIu32 "x%" PRIu32 " beyond the limit",
                            d->width, d->height);
    samples = (uint64_t)d->width * d->height * d->channels;
    if (samples > MS_IMAGE_MAX_SAMPLES)
        return ms_error_set(d->err, MS_ELIMIT, "PNG of %" PRIu64 " samples beyond the limit",
                            samples);
    /* filtered rows (one filter byte each) come out of deflate: never more
     * than DEFLATE_MAX_RATIO times the bytes of the file */
    raw = (uint64_t)d->height * ((uint64_t)d->width * d->channels * (uint64_t)(d->depth / 8) + 1);
    if (raw / DEFLATE_MAX_RATIO > d->io.len)
        return ms_error_set(d->err, MS_EMALFORMED,
                            "PNG declares %" PRIu64 " bytes of image data, more than its %zu "
                            "bytes can hold", raw, d->io.len);
    return MS_OK;
}

static ms_status alloc_buffers(struct decoder *d)
{
    uint64_t bytes = (uint64_t)d->height * d->rowbytes;
    uint32_t y;

    if (d->rowbytes != (size_t)d->width * d->channels * (size_t)(d->depth / 8))
        return ms_error_set(d->err, MS_EINTERNAL, "unexpected PNG row size %zu", d->rowbytes);
    d->raw = malloc((size_t)bytes);
    d->rows = malloc((size_t)d->height * sizeof *d->rows);
    if (!d->raw || !d->rows)
        return ms_error_set(d->err, MS_ENOMEM, "out of memory for a %" PRIu32 "x%" PRIu32 " PNG",
                            d->width, d->height);
    for (y = 0; y < d->height; y++)
        d->rows[y] = d->raw + (size_t)y * d->rowbytes;
    return ms_image_create(&d->img, d->width, d->height, d->channels, MS_SAMPLE_I32, d->err);
}

static void convert(struct decoder *d)
{
    uint64_t i, n = ms_image_samples(d->img);
    int32_t *o = d->img->data;
    for (i = 0; i < n; i++)
        o[i] = d->depth == 16 ? msi_rd16be(d->raw + 2 * i) : d->raw[i];
}

/* Runs under libpng's longjmp: 0 done (d->st tells), 1 libpng failed. */
static int decode_run(struct decoder *d)
{
    png_uint_32 w, h;
    int color, interlace;

    if (setjmp(png_jmpbuf(d->png)))
        return 1;
    png_set_read_fn(d->png, &d->io, read_cb);
    png_set_user_limits(d->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_set_chunk_malloc_max(d->png, CHUNK_MALLOC_MAX);
    png_set_benign_errors(d->png, 0);
    png_read_info(d->png, d->info);
    png_get_IHDR(d->png, d->info, &w, &h, &d->depth, &color, &interlace, NULL, NULL);
    d->width = w;
    d->height = h;
    d->st = check_header(d, color);
    if (d->st != MS_OK)
        return 0;
    if (interlace != PNG_INTERLACE_NONE)
        png_set_interlace_handling(d->png);
    png_read_update_info(d->png, d->info);
    d->rowbytes = png_get_rowbytes(d->png, d->info);
    d->st = alloc_buffers(d);
    if (d->st != MS_OK)
        return 0;
    png_read_image(d->png, d->rows);
    png_read_end(d->png, NULL);
    convert(d);
    return 0;
}

static ms_status libpng_failure(const struct decoder *d)
{
    if (strstr(d->io.msg, "emory"))
        return ms_error_set(d->err, MS_ENOMEM, "PNG: %s", d->io.msg);
    return ms_error_set(d->err, MS_EMALFORMED, "damaged PNG: %s", d->io.msg);
}

ms_status ms_png_decode(struct ms_image **out, const uint8_t *data, size_t len,
                        unsigned *bit_depth, struct ms_error *err)
{
    struct decoder d;

    *out = NULL;
    if (!data || len < 8 || png_sig_cmp(data, 0, 8) != 0)
        return ms_error_set(err, MS_EMALFORMED, "not a PNG file");
    memset(&d, 0, sizeof d);
    d.io.in = data;
    d.io.len = len;
    d.err = err;
    d.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d.io, on_error, on_warning);
    d.info = d.png ? png_create_info_struct(d.png) : NULL;
    if (!d.png || !d.info)
        d.st = ms_error_set(err, MS_ENOMEM, "out of memory for the PNG decoder");
    else if (decode_run(&d) != 0)
        d.st = libpng_failure(&d);
    if (d.png)
        png_destroy_read_struct(&d.png, &d.info, NULL);
    free(d.rows);
    free(d.raw);
    if (d.st != MS_OK) {
        ms_image_destroy(d.img);
        return d.st;
    }
    if (bit_depth)
        *bit_depth = (unsigned)d.depth;
    *out = d.img;
    return MS_OK;
}

ms_status ms_png_read(struct ms_image **out, const char *path, unsigned *bit_depth,
                      struct ms_error *err)
{
    const uint8_t *data;
    uint64_t size;
    ms_status st;

    *out = NULL;
    if (!path)
        return ms_error_set(err, MS_EUSAGE, "no input path");
    st = msi_map_file(path, &data, &size, err);
    if (st != MS_OK) {
        ms_error_prefix(err, "%s", path);
        return st;
    }
    st = ms_png_decode(out, data, (size_t)size, bit_depth, err);
    msi_unmap_file(data, size);
    if (st != MS_OK)
        ms_error_prefix(err, "%s", path);
    return st;
}
