/* Partition of a DICOM file into its pixels (PNG) and its metadata (JSON),
 * as seed 003 does before encrypting the image, and the exact inverse.
 *
 * The JSON keeps the DICOM JSON Model of the dataset (readable metadata) and,
 * for a bit-exact join, the file's bytes before and after the Pixel Data
 * value, the value's layout, and the SHA-256 of the original file, which the
 * join checks before it releases the rebuilt file. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "internal.h"
#include "medseal/crypto.h"
#include "medseal/image.h"
#include "medseal/pixel.h"
#include "medseal/protect.h"

#define SPLIT_FORMAT "medseal-split"

/* ---- base64 into json strings ------------------------------------------------------- */

static json_object *b64_string(const uint8_t *p, size_t n)
{
    size_t cap = 4 * ((n + 2) / 3) + 1;
    char *buf = malloc(cap);
    json_object *o;
    if (!buf)
        return NULL;
    msi_b64_encode(p, n, buf);
    o = json_object_new_string(buf);
    free(buf);
    return o;
}

/* Decode a base64 string into a new buffer; false when it is not base64. */
static bool b64_decode(const char *s, uint8_t **out, size_t *len)
{
    size_t n = strlen(s);
    *len = 0;
    *out = malloc(n / 4 * 3 + 1);
    if (*out && msi_b64_decode(s, n, *out, len))
        return true;
    free(*out);
    *out = NULL;
    return false;
}

/* ---- the pixel value inside the file -------------------------------------------------- */

struct layout {
    uint64_t value_offset; /* first byte of the Pixel Data value in the file */
    uint64_t value_length;
    uint64_t image_bytes;  /* frames * frame_bytes (<= value_length) */
    bool big_endian;
    bool rgb24;            /* 16-bit grey packed into RGB (R high, G low byte) */
};

static ms_status find_layout(struct ms_file *f, const struct ms_pixel_info *pi,
                             struct layout *lay, struct ms_error *err)
{
    const struct ms_transfer_syntax *ts = ms_file_transfer_syntax(f);
    struct ms_element *px = ms_dataset_get(ms_file_dataset(f), MS_TAG_PIXEL_DATA);
    uint64_t header;

    if (ts->deflated || ts->encapsulated || pi->encapsulated)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "split needs native pixel data (transcode to explicit first)");
    if (!((pi->bits_allocated == 8 && (pi->samples_per_pixel == 1 || pi->samples_per_pixel == 3)) ||
          (pi->bits_allocated == 16 && pi->samples_per_pixel == 1)))
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "split supports 8-bit grey or RGB and 16-bit grey, not %u bits x %u",
                            pi->bits_allocated, pi->samples_per_pixel);
    if (strstr(pi->photometric, "_422"))
        return ms_error_set(err, MS_EUNSUPPORTED, "split does not take subsampled %s images",
                            pi->photometric);
    header = (ts->explicit_vr ? 12 : 8);
    lay->value_offset = ms_element_offset(px) + header;
    lay->value_length = ms_element_length(px);
    lay->image_bytes = pi->frame_bytes * pi->frames;
    lay->big_endian = ts->big_endian;
    if (lay->value_offset + lay->value_length > ms_file_input_size(f))
        return ms_error_set(err, MS_EMALFORMED, "Pixel Data lies outside the file");
    return MS_OK;
}

/* ---- split ------------------------------------------------------------------------------ */

static ms_status pixels_to_image(const struct ms_pixel_info *pi, const struct layout *lay,
                                 struct ms_image **out, struct ms_error *err)
{
    uint64_t height = (uint64_t)pi->rows * pi->frames;
    uint32_t channels = (pi->samples_per_pixel == 3 || lay->rgb24) ? 3 : 1;
    uint64_t n = (uint64_t)pi->rows * pi->columns * pi->frames;
    struct ms_image *img;
    int32_t *s;
    ms_status st;

    if (height > 65535)
        return ms_error_set(err, MS_ELIMIT, "%u frames of %u rows do not fit one PNG",
                            pi->frames, pi->rows);
    st = ms_image_create(&img, pi->columns, (uint32_t)height, channels, MS_SAMPLE_I32, err);
    if (st != MS_OK)
        return st;
    s = img->data;
    for (uint64_t i = 0; i < n; i++) {
        if (pi->bits_allocated == 16) {
            uint16_t w = msi_rd16le(pi->data + 2 * i);
            if (lay->rgb24) {
                s[3 * i] = w >> 8;
                s[3 * i + 1] = w & 0xFF;
                s[3 * i + 2] = 0;
            } else {
                s[i] = w;
            }
        } else if (channels == 3) {
            uint64_t frame = i / ((uint64_t)pi->rows * pi->columns);
            uint64_t p = i % ((uint64_t)pi->rows * pi->columns), npix = (uint64_t)pi->rows * pi->columns;
            const uint8_t *base = pi->data + frame * pi->frame_bytes;
            for (unsigned c = 0; c < 3; c++)
                s[3 * i + c] = pi->planar_configuration ? base[c * npix + p] : base[3 * p + c];
        } else {
            s[i] = pi->data[i];
        }
    }
    *out = img;
    return MS_OK;
}

static json_object *layout_json(const struct ms_pixel_info *pi, const struct layout *lay,
                                const uint8_t *file, uint64_t size, const uint8_t digest[32])
{
    json_object *o = json_object_new_object(), *img = json_object_new_object();
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    json_object_object_add(o, "format", json_object_new_string(SPLIT_FORMAT));
    json_object_object_add(o, "version", json_object_new_int(1));
    json_object_object_add(o, "sha256", json_object_new_string(hex));
    json_object_object_add(img, "rows", json_object_new_int64(pi->rows));
    json_object_object_add(img, "columns", json_object_new_int64(pi->columns));
    json_object_object_add(img, "frames", json_object_new_int64(pi->frames));
    json_object_object_add(img, "samples_per_pixel", json_object_new_int(pi->samples_per_pixel));
    json_object_object_add(img, "bits_allocated", json_object_new_int(pi->bits_allocated));
    json_object_object_add(img, "planar_configuration",
                           json_object_new_int(pi->planar_configuration));
    json_object_object_add(img, "png", json_object_new_string(
                                           lay->rgb24 ? "rgb24-packed-16bit"
                                           : pi->bits_allocated == 16 ? "grey16" : pi->samples_per_pixel == 3 ? "rgb8" : "grey8"));
    json_object_object_add(img, "big_endian", json_object_new_boolean(lay->big_endian));
    json_object_object_add(o, "image", img);
    json_object_object_add(o, "head", b64_string(file, (size_t)lay->value_offset));
    json_object_object_add(o, "pad", b64_string(pi->data + lay->image_bytes,
                                                (size_t)(lay->value_length - lay->image_bytes)));
    json_object_object_add(
        o, "tail",
        b64_string(file + lay->value_offset + lay->value_length,
                   (size_t)(size - lay->value_offset - lay->value_length)));
    return o;
}

struct strbuf {
    char *p;
    size_t len, cap;
};

static int strbuf_sink(void *ctx, const void *data, size_t len)
{
    struct strbuf *b = ctx;
    if (b->len + len + 1 > b->cap) {
        size_t cap = (b->len + len + 1) * 2;
        char *n = realloc(b->p, cap);
        if (!n)
            return -1;
        b->p = n;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

/* The dataset without Pixel Data as a DICOM JSON object. */
static json_object *dataset_json(struct ms_file *f, struct ms_error *err)
{
    struct strbuf b = {0};
    json_object *o = NULL;
    ms_dataset_remove(ms_file_dataset(f), MS_TAG_PIXEL_DATA);
    if (ms_dataset_write_json(ms_file_dataset(f), NULL, strbuf_sink, &b, err) == MS_OK)
        o = json_tokener_parse(b.p);
    free(b.p);
    return o;
}

static ms_status write_json_file(const char *path, json_object *o, struct ms_error *err)
{
    char tmp[4096];
    int fd;
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
    ms_status st = msi_atomic_open(path, tmp, sizeof tmp, &fd, err);
    if (st != MS_OK)
        return st;
    if (msi_fd_sink(&fd, text, strlen(text)) != 0 || msi_fd_sink(&fd, "\n", 1) != 0) {
        msi_atomic_close(fd, tmp, path, false, NULL);
        return ms_error_set(err, MS_EIO, "cannot write %s", path);
    }
    return msi_atomic_close(fd, tmp, path, true, err);
}

/* The metadata JSON of a split: layout, parts, the file's SHA-256 (digest)
 * and the dataset without Pixel Data (removed from f). */
static ms_status split_meta(struct ms_file *f, const struct ms_pixel_info *pi,
                            const struct layout *lay, const uint8_t *file, uint64_t size,
                            const uint8_t digest[32], json_object **meta, struct ms_error *err)
{
    json_object *ds;

    *meta = layout_json(pi, lay, file, size, digest);
    ds = dataset_json(f, err);
    if (!*meta || !ds) {
        json_object_put(ds);
        return ms_error_set(err, MS_ENOMEM, "cannot build the metadata");
    }
    json_object_object_add(*meta, "dataset", ds);
    return MS_OK;
}

ms_status ms_split_file(const char *in, const char *png_out, const char *meta_out, bool rgb24,
                        struct ms_error *err)
{
    struct ms_file *f = NULL;
    struct ms_pixel_info pi;
    struct layout lay = {0};
    struct ms_image *img = NULL;
    struct ms_png_write_options po = {16, 0, false};
    const uint8_t *file = NULL;
    uint64_t size = 0;
    uint8_t digest[32];
    json_object *meta = NULL;
    ms_status st = msi_map_file(in, &file, &size, err);

    if (st == MS_OK)
        st = ms_file_read(&f, in, NULL, err);
    if (st == MS_OK)
        st = ms_pixel_info_get(ms_file_dataset(f), &pi, err);
    lay.rgb24 = rgb24 && st == MS_OK && pi.bits_allocated == 16;
    if (st == MS_OK)
        st = find_layout(f, &pi, &lay, err);
    if (st == MS_OK)
        st = ms_sha256(file, (size_t)size, digest, err);
    if (st == MS_OK)
        st = pixels_to_image(&pi, &lay, &img, err);
    if (st == MS_OK)
        st = split_meta(f, &pi, &lay, file, size, digest, &meta, err);
    po.bit_depth = (pi.bits_allocated == 16 && !lay.rgb24) ? 16 : 8;
    if (st == MS_OK)
        st = ms_png_write(png_out, img, &po, err);
    if (st == MS_OK && (st = write_json_file(meta_out, meta, err)) != MS_OK)
        remove(png_out);
    json_object_put(meta);
    ms_image_destroy(img);
    ms_file_destroy(f);
    msi_unmap_file(file, size);
    return st;
}

/* ---- join ---------------------------------------------------------------------------- */

static int64_t get_int(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

/* The "image" object of split metadata. */
struct image_desc {
    int64_t rows, cols, frames, spp, bits, planar;
    const char *png; /* the PNG's packing: grey8, grey16, rgb8, rgb24-packed-16bit */
    bool big, rgb24;
    uint32_t channels;
};

static void read_desc(json_object *im, struct image_desc *d)
{
    json_object *be;
    d->rows = get_int(im, "rows");
    d->cols = get_int(im, "columns");
    d->frames = get_int(im, "frames");
    d->spp = get_int(im, "samples_per_pixel");
    d->bits = get_int(im, "bits_allocated");
    d->planar = get_int(im, "planar_configuration");
    d->png = get_str(im, "png");
    d->big = json_object_object_get_ex(im, "big_endian", &be) && json_object_get_boolean(be);
    d->rgb24 = d->png && strcmp(d->png, "rgb24-packed-16bit") == 0;
    d->channels = (d->rgb24 || (d->png && strcmp(d->png, "rgb8") == 0)) ? 3 : 1;
}

/* Bytes of the pixel value the description gives (at most 2^31 samples). */
static ms_status value_size(const struct image_desc *d, size_t *len, struct ms_error *err)
{
    if (d->rows <= 0 || d->cols <= 0 || d->frames <= 0 || d->spp <= 0 || d->bits <= 0 ||
        d->rows * d->cols * d->frames * d->spp > ((int64_t)1 << 31))
        return ms_error_set(err, MS_EMALFORMED, "metadata: bad image size");
    *len = (size_t)(d->rows * d->cols * d->frames * d->spp * d->bits / 8);
    return MS_OK;
}

/* The description is one split writes, and the PNG has its size. */
static ms_status check_image(const struct image_desc *d, const struct ms_image *img,
                             struct ms_error *err)
{
    if (d->rows <= 0 || d->cols <= 0 || d->frames <= 0 || (d->bits != 8 && d->bits != 16) ||
        !d->png)
        return ms_error_set(err, MS_EMALFORMED, "metadata: bad image description");
    if (img->width != (uint64_t)d->cols || img->height != (uint64_t)(d->rows * d->frames) ||
        img->channels != d->channels)
        return ms_error_set(err, MS_EMALFORMED,
                            "the PNG is %ux%u x%u, the metadata says %lldx%lld x%u", img->width,
                            img->height, img->channels, (long long)d->cols,
                            (long long)(d->rows * d->frames), d->channels);
    return MS_OK;
}

/* 16-bit sample i, from grey16 or rgb24-packed-16bit, in the file's byte order. */
static void put_word(const struct image_desc *d, const int32_t *s, uint64_t i, uint8_t *value)
{
    uint32_t w = d->rgb24 ? ((uint32_t)s[3 * i] << 8) | (uint32_t)s[3 * i + 1] : (uint32_t)s[i];
    if (d->big)
        msi_wr16be(value + 2 * i, (uint16_t)w);
    else
        msi_wr16le(value + 2 * i, (uint16_t)w);
}

/* 8-bit RGB pixel i (npix a frame), interleaved or planar as the file was. */
static void put_rgb(const struct image_desc *d, const int32_t *s, uint64_t i, uint64_t npix,
                    uint8_t *value)
{
    uint64_t frame = i / npix, p = i % npix;
    uint8_t *base = value + frame * npix * 3;
    for (unsigned c = 0; c < 3; c++)
        base[d->planar ? c * npix + p : 3 * p + c] = (uint8_t)s[3 * i + c];
}

/* Pixel value bytes from the PNG samples, in the file's byte order. */
static ms_status image_to_value(const struct image_desc *d, const struct ms_image *img,
                                uint8_t *value, struct ms_error *err)
{
    const int32_t *s = img->data;
    uint64_t npix, n;
    ms_status st = check_image(d, img, err);

    if (st != MS_OK)
        return st;
    npix = (uint64_t)d->rows * (uint64_t)d->cols;
    n = npix * (uint64_t)d->frames;
    for (uint64_t i = 0; i < n; i++) {
        if (d->bits == 16)
            put_word(d, s, i, value);
        else if (d->channels == 3)
            put_rgb(d, s, i, npix, value);
        else
            value[i] = (uint8_t)s[i];
    }
    return MS_OK;
}

struct parts {
    uint8_t *head, *pad, *tail;
    size_t head_len, pad_len, tail_len;
};

static ms_status decode_parts(json_object *meta, struct parts *p, struct ms_error *err)
{
    const char *h = get_str(meta, "head"), *pd = get_str(meta, "pad"), *t = get_str(meta, "tail");
    if (!h || !pd || !t || !b64_decode(h, &p->head, &p->head_len) ||
        !b64_decode(pd, &p->pad, &p->pad_len) || !b64_decode(t, &p->tail, &p->tail_len))
        return ms_error_set(err, MS_EMALFORMED, "metadata: head, pad or tail missing or not base64");
    return MS_OK;
}

static ms_status write_joined(const char *out, const struct parts *p, const uint8_t *value,
                              size_t value_len, const char *want_hex, struct ms_error *err)
{
    char tmp[4096], hex[65];
    uint8_t digest[32];
    struct ms_hash *h = NULL;
    int fd;
    bool ok;
    ms_status st = ms_hash_create(&h, MS_HASH_SHA256, err);

    if (st != MS_OK)
        return st;
    st = msi_atomic_open(out, tmp, sizeof tmp, &fd, err);
    if (st != MS_OK) {
        ms_hash_destroy(h);
        return st;
    }
    ok = msi_fd_sink(&fd, p->head, p->head_len) == 0 && msi_fd_sink(&fd, value, value_len) == 0 &&
         msi_fd_sink(&fd, p->pad, p->pad_len) == 0 && msi_fd_sink(&fd, p->tail, p->tail_len) == 0;
    ok = ok && ms_hash_update(h, p->head, p->head_len, NULL) == MS_OK &&
         ms_hash_update(h, value, value_len, NULL) == MS_OK &&
         ms_hash_update(h, p->pad, p->pad_len, NULL) == MS_OK &&
         ms_hash_update(h, p->tail, p->tail_len, NULL) == MS_OK &&
         ms_hash_final(h, digest, NULL) == MS_OK;
    ms_hash_destroy(h);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    if (!ok) {
        msi_atomic_close(fd, tmp, out, false, NULL);
        return ms_error_set(err, MS_EIO, "cannot write %s", out);
    }
    if (!want_hex || strcmp(hex, want_hex) != 0) {
        msi_atomic_close(fd, tmp, out, false, NULL);
        return ms_error_set(err, MS_EPROBLEM,
                            "the joined file differs from the original (SHA-256 mismatch): "
                            "the image or the metadata was changed");
    }
    return msi_atomic_close(fd, tmp, out, true, err);
}

/* The "image" object of meta, which must be medseal split metadata. */
static ms_status split_image(json_object *meta, const char *meta_in, json_object **im,
                             struct ms_error *err)
{
    const char *fmt = meta ? get_str(meta, "format") : NULL;
    if (!meta || !fmt || strcmp(fmt, SPLIT_FORMAT) != 0 ||
        !json_object_object_get_ex(meta, "image", im))
        return ms_error_set(err, MS_EMALFORMED, "%s is not medseal split metadata", meta_in);
    return MS_OK;
}

ms_status ms_join_files(const char *png_in, const char *meta_in, const char *out,
                        struct ms_error *err)
{
    json_object *meta = json_object_from_file(meta_in), *im = NULL;
    struct ms_image *img = NULL;
    struct image_desc d;
    struct parts p = {0};
    uint8_t *value = NULL;
    size_t value_len = 0;
    unsigned depth;
    ms_status st = split_image(meta, meta_in, &im, err);

    if (st == MS_OK)
        st = ms_png_read(&img, png_in, &depth, err);
    if (st == MS_OK) {
        read_desc(im, &d);
        st = value_size(&d, &value_len, err);
    }
    if (st == MS_OK && !(value = malloc(value_len ? value_len : 1)))
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st == MS_OK)
        st = image_to_value(&d, img, value, err);
    if (st == MS_OK)
        st = decode_parts(meta, &p, err);
    if (st == MS_OK)
        st = write_joined(out, &p, value, value_len, get_str(meta, "sha256"), err);
    free(p.head);
    free(p.pad);
    free(p.tail);
    free(value);
    ms_image_destroy(img);
    json_object_put(meta);
    return st;
}
