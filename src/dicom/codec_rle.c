/* RLE Lossless (PS3.5 Annex G): each byte plane of each sample is a
 * PackBits segment; a 64-byte header gives the segment offsets. */
#include <stdlib.h>
#include <string.h>

#include "medseal/codec.h"
#include "internal.h"

#define MAX_SEGMENTS 15u

struct plane {
    uint64_t pixels;
    unsigned step;   /* bytes between one pixel's sample and the next's */
    uint64_t start;  /* first byte of the plane in the frame */
};

/* Byte plane k of the frame: sample s, byte b counted from the most significant. */
static struct plane plane_of(const struct ms_pixel_info *info, unsigned s, unsigned b)
{
    unsigned bytes = info->bits_allocated / 8u, spp = info->samples_per_pixel;
    struct plane p;
    p.pixels = (uint64_t)info->rows * info->columns;
    if (info->planar_configuration && spp > 1) {
        p.step = bytes;
        p.start = (uint64_t)s * p.pixels * bytes + (bytes - 1 - b);
    } else {
        p.step = bytes * spp;
        p.start = (uint64_t)s * bytes + (bytes - 1 - b);
    }
    return p;
}

static ms_status check_info(const struct ms_pixel_info *info, struct ms_error *err)
{
    unsigned bytes = info->bits_allocated / 8u;
    if (info->bits_allocated % 8 || bytes == 0 || bytes * info->samples_per_pixel > MAX_SEGMENTS)
        return ms_error_set(err, MS_EUNSUPPORTED, "RLE cannot hold %u bits x %u samples",
                            info->bits_allocated, info->samples_per_pixel);
    return MS_OK;
}

/* Length of the run of equal bytes starting at i (at most 128). */
static uint64_t run_at(const uint8_t *src, const struct plane *p, uint64_t i)
{
    uint8_t v = src[p->start + i * p->step];
    uint64_t n = 1;
    while (i + n < p->pixels && n < 128 && src[p->start + (i + n) * p->step] == v)
        n++;
    return n;
}

/* PackBits of one plane appended at dst (capacity is enough: worst case
 * pixels + pixels/128 + 1). Returns the bytes written. */
static uint64_t pack_plane(const uint8_t *src, const struct plane *p, uint8_t *dst)
{
    uint64_t i = 0, o = 0;
    while (i < p->pixels) {
        uint64_t run = run_at(src, p, i), lit = 0;
        if (run >= 3) {
            dst[o++] = (uint8_t)(257 - run); /* -(run - 1) */
            dst[o++] = src[p->start + i * p->step];
            i += run;
            continue;
        }
        /* literal: up to 128 bytes, ending before a run of 3 or more */
        while (i + lit < p->pixels && lit < 128) {
            if (lit > 0 && run_at(src, p, i + lit) >= 3)
                break;
            lit++;
        }
        dst[o++] = (uint8_t)(lit - 1);
        for (uint64_t k = 0; k < lit; k++)
            dst[o++] = src[p->start + (i + k) * p->step];
        i += lit;
    }
    if (o & 1)
        dst[o++] = 0;
    return o;
}

ms_status ms_rle_encode_frame(const struct ms_pixel_info *info, const uint8_t *frame,
                              uint8_t **out, size_t *out_len, struct ms_error *err)
{
    unsigned nseg = info->bits_allocated / 8u * info->samples_per_pixel;
    uint64_t pixels = (uint64_t)info->rows * info->columns, cap, o = 64;
    uint8_t *buf;
    ms_status st = check_info(info, err);

    *out = NULL;
    *out_len = 0;
    if (st != MS_OK)
        return st;
    cap = 64 + nseg * (pixels + pixels / 128 + 2);
    buf = calloc(1, (size_t)cap);
    if (!buf)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    msi_wr32le(buf, nseg);
    for (unsigned seg = 0; seg < nseg; seg++) {
        unsigned bytes = info->bits_allocated / 8u;
        struct plane p = plane_of(info, seg / bytes, seg % bytes);
        if (o > UINT32_MAX) {
            free(buf);
            return ms_error_set(err, MS_ELIMIT, "RLE frame over 4 GiB");
        }
        msi_wr32le(buf + 4 + 4 * seg, (uint32_t)o);
        o += pack_plane(frame, &p, buf + o);
    }
    *out = buf;
    *out_len = (size_t)o;
    return MS_OK;
}

/* Unpack one segment [in, in+len) into the plane; MS_EMALFORMED if short. */
static ms_status unpack_plane(const uint8_t *in, uint64_t len, const struct plane *p,
                              uint8_t *dst, struct ms_error *err)
{
    uint64_t i = 0, o = 0;
    while (o < p->pixels) {
        int8_t h;
        if (i >= len)
            return ms_error_set(err, MS_EMALFORMED, "RLE segment ends after %llu of %llu bytes",
                                (unsigned long long)o, (unsigned long long)p->pixels);
        h = (int8_t)in[i++];
        if (h >= 0) {
            uint64_t n = (uint64_t)h + 1;
            if (n > len - i || n > p->pixels - o)
                return ms_error_set(err, MS_EMALFORMED, "RLE literal run overflows");
            for (uint64_t k = 0; k < n; k++)
                dst[p->start + (o + k) * p->step] = in[i + k];
            i += n;
            o += n;
        } else if (h != -128) {
            uint64_t n = (uint64_t)(1 - h);
            if (i >= len || n > p->pixels - o)
                return ms_error_set(err, MS_EMALFORMED, "RLE replicate run overflows");
            for (uint64_t k = 0; k < n; k++)
                dst[p->start + (o + k) * p->step] = in[i];
            i++;
            o += n;
        }
    }
    return MS_OK;
}

ms_status ms_rle_decode_frame(const struct ms_pixel_info *info, const uint8_t *in, size_t len,
                              uint8_t *out, struct ms_error *err)
{
    unsigned nseg = info->bits_allocated / 8u * info->samples_per_pixel, bytes;
    ms_status st = check_info(info, err);

    if (st != MS_OK)
        return st;
    if (len < 64 || msi_rd32le(in) != nseg)
        return ms_error_set(err, MS_EMALFORMED, "RLE header: %u segments where %u are needed",
                            len < 64 ? 0 : msi_rd32le(in), nseg);
    bytes = info->bits_allocated / 8u;
    for (unsigned seg = 0; seg < nseg; seg++) {
        uint64_t start = msi_rd32le(in + 4 + 4 * seg);
        uint64_t end = seg + 1 < nseg ? msi_rd32le(in + 8 + 4 * seg) : len;
        struct plane p = plane_of(info, seg / bytes, seg % bytes);
        if (start < 64 || end > len || start > end)
            return ms_error_set(err, MS_EMALFORMED, "RLE segment %u offsets are out of range", seg);
        if ((st = unpack_plane(in + start, end - start, &p, out, err)) != MS_OK)
            return st;
    }
    return MS_OK;
}
