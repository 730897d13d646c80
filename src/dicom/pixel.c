/* Native pixel data access (PS3.3 C.7.6.3, PS3.5 8) and the modality LUT
 * (Rescale Slope / Intercept, PS3.3 C.11.1). Values are read in place from
 * the element's value; nothing is copied. */
#include <math.h>
#include <string.h>

#include "medseal/pixel.h"
#include "internal.h"

static bool get_u16(const struct ms_dataset *ds, uint16_t g, uint16_t e, uint16_t *out)
{
    int64_t v;
    if (!ms_dataset_get_int(ds, MS_TAG(g, e), 0, &v) || v < 0 || v > 0xFFFF)
        return false;
    *out = (uint16_t)v;
    return true;
}

static ms_status read_attributes(const struct ms_dataset *ds, struct ms_pixel_info *info,
                                 struct ms_error *err)
{
    uint16_t rows, cols;
    int64_t frames = 1;
    double d;

    if (!get_u16(ds, 0x0028, 0x0010, &rows) || !get_u16(ds, 0x0028, 0x0011, &cols))
        return ms_error_set(err, MS_EMALFORMED, "Rows or Columns missing or invalid");
    info->rows = rows;
    info->columns = cols;
    info->samples_per_pixel = 1;
    get_u16(ds, 0x0028, 0x0002, &info->samples_per_pixel);
    if (!get_u16(ds, 0x0028, 0x0100, &info->bits_allocated))
        return ms_error_set(err, MS_EMALFORMED, "Bits Allocated missing or invalid");
    info->bits_stored = info->bits_allocated;
    get_u16(ds, 0x0028, 0x0101, &info->bits_stored);
    info->high_bit = (uint16_t)(info->bits_stored ? info->bits_stored - 1 : 0);
    get_u16(ds, 0x0028, 0x0102, &info->high_bit);
    get_u16(ds, 0x0028, 0x0103, &info->pixel_representation);
    get_u16(ds, 0x0028, 0x0006, &info->planar_configuration);
    if (ms_dataset_get_int(ds, MS_TAG(0x0028, 0x0008), 0, &frames) && (frames < 1 || frames > 0x7FFFFFFF))
        return ms_error_set(err, MS_EMALFORMED, "Number of Frames %lld is invalid",
                            (long long)frames);
    info->frames = (uint32_t)frames;
    info->rescale_slope = 1.0;
    info->rescale_intercept = 0.0;
    if (ms_dataset_get_double(ds, MS_TAG(0x0028, 0x1053), 0, &d) && isfinite(d) && d != 0.0)
        info->rescale_slope = d;
    if (ms_dataset_get_double(ds, MS_TAG(0x0028, 0x1052), 0, &d) && isfinite(d))
        info->rescale_intercept = d;
    ms_dataset_get_string(ds, MS_TAG(0x0028, 0x0004), 0, info->photometric,
                          sizeof info->photometric);
    return MS_OK;
}

static ms_status check_attributes(const struct ms_pixel_info *info, struct ms_error *err)
{
    unsigned ba = info->bits_allocated;
    if (ba != 1 && ba != 8 && ba != 16 && ba != 32)
        return ms_error_set(err, MS_EUNSUPPORTED, "Bits Allocated %u is not supported", ba);
    if (info->bits_stored == 0 || info->bits_stored > ba || info->high_bit >= ba ||
        info->high_bit + 1u < info->bits_stored)
        return ms_error_set(err, MS_EMALFORMED,
                            "Bits Stored %u / High Bit %u do not fit Bits Allocated %u",
                            info->bits_stored, info->high_bit, ba);
    if (info->samples_per_pixel != 1 && info->samples_per_pixel != 3)
        return ms_error_set(err, MS_EUNSUPPORTED, "Samples per Pixel %u is not supported",
                            info->samples_per_pixel);
    if (info->pixel_representation > 1 || info->planar_configuration > 1)
        return ms_error_set(err, MS_EMALFORMED, "Pixel Representation or Planar Configuration invalid");
    if (info->rows == 0 || info->columns == 0)
        return ms_error_set(err, MS_EMALFORMED, "image has zero rows or columns");
    return MS_OK;
}

bool msi_pixel_is_422(const struct ms_pixel_info *info)
{
    return info->samples_per_pixel == 3 && (strncmp(info->photometric, "YBR_FULL_422", 12) == 0 ||
                                            strncmp(info->photometric, "YBR_PARTIAL_422", 15) == 0);
}

ms_status ms_pixel_info_get(const struct ms_dataset *ds, struct ms_pixel_info *info,
                            struct ms_error *err)
{
    const struct ms_element *px;
    uint64_t bits, total;
    ms_status st;

    memset(info, 0, sizeof *info);
    px = ms_dataset_get(ds, MS_TAG_PIXEL_DATA);
    if (!px)
        return ms_error_set(err, MS_ENOTFOUND, "no Pixel Data");
    if ((st = read_attributes(ds, info, err)) != MS_OK)
        return st;
    if ((st = check_attributes(info, err)) != MS_OK)
        return st;
    bits = (uint64_t)info->rows * info->columns * info->samples_per_pixel * info->bits_allocated;
    if (msi_pixel_is_422(info))
        bits = bits / 3 * 2; /* two chroma samples shared by each pair of pixels */
    info->frame_bytes = (bits + 7) / 8;
    if (ms_element_is_encapsulated(px)) {
        info->encapsulated = true;
        return MS_OK;
    }
    if (!msi_mul_u64(bits, info->frames, &total))
        return ms_error_set(err, MS_EMALFORMED, "image size overflows");
    total = (total + 7) / 8;
    info->data = ms_element_value(px);
    info->data_len = ms_element_length(px);
    if (info->data_len < total)
        return ms_error_set(err, MS_EMALFORMED,
                            "Pixel Data holds %llu bytes, %u frame(s) of %ux%u need %llu",
                            (unsigned long long)info->data_len, info->frames, info->rows,
                            info->columns, (unsigned long long)total);
    return MS_OK;
}

/* Sign-extend / mask a raw value to Bits Stored (values sit at bit 0 .. high bit). */
static int32_t stored(const struct ms_pixel_info *info, uint32_t raw)
{
    unsigned shift = info->high_bit + 1u - info->bits_stored;
    unsigned bits = info->bits_stored;
    uint32_t v = raw >> shift;
    if (bits < 32)
        v &= (1u << bits) - 1u;
    if (info->pixel_representation && bits < 32 && (v & (1u << (bits - 1))))
        return (int32_t)(v | ~((1u << bits) - 1u));
    return (int32_t)v;
}

int32_t ms_pixel_stored_value(const struct ms_pixel_info *info, uint32_t frame, uint32_t row,
                              uint32_t col, uint32_t sample)
{
    uint64_t pixels = (uint64_t)info->rows * info->columns;
    uint64_t index, p = (uint64_t)row * info->columns + col;
    const uint8_t *base = info->data;

    if (info->planar_configuration && info->samples_per_pixel > 1)
        index = (uint64_t)frame * pixels * info->samples_per_pixel + sample * pixels + p;
    else
        index = ((uint64_t)frame * pixels + p) * info->samples_per_pixel + sample;
    switch (info->bits_allocated) {
    case 1:
        return (base[index / 8] >> (index % 8)) & 1;
    case 8:
        return stored(info, base[index]);
    case 16:
        return stored(info, msi_rd16le(base + index * 2));
    default:
        return stored(info, msi_rd32le(base + index * 4));
    }
}

static ms_status check_frame(const struct ms_pixel_info *info, uint32_t frame,
                             struct ms_error *err)
{
    if (!info->data)
        return ms_error_set(err, MS_EUNSUPPORTED, "pixel data is encapsulated (compressed)");
    if (frame >= info->frames)
        return ms_error_set(err, MS_EUSAGE, "frame %u of %u", frame, info->frames);
    if (info->samples_per_pixel != 1)
        return ms_error_set(err, MS_EUNSUPPORTED, "frame values need one sample per pixel");
    return MS_OK;
}

/* Decoding of stored values with the shift, mask and sign of one image,
 * written so that the loops below vectorise. */
struct decoder {
    unsigned shift, bits;
    uint32_t mask;
    bool is_signed;
};

static struct decoder decoder_of(const struct ms_pixel_info *info)
{
    struct decoder d;
    d.shift = info->high_bit + 1u - info->bits_stored;
    d.bits = info->bits_stored;
    d.mask = d.bits >= 32 ? 0xFFFFFFFFu : (1u << d.bits) - 1u;
    d.is_signed = info->pixel_representation != 0;
    return d;
}

static inline int32_t decode(const struct decoder *d, uint32_t raw)
{
    uint32_t v = (raw >> d->shift) & d->mask;
    if (d->is_signed && d->bits < 32)
        return (int32_t)(v << (32 - d->bits)) >> (32 - d->bits);
    return (int32_t)v;
}

/* Stored values of frame f as int32 into out, for 8/16/32 bits allocated. */
MSI_SIMD_CLONES
static void frame_values(const struct ms_pixel_info *info, uint32_t frame, int32_t *out)
{
    uint64_t n = (uint64_t)info->rows * info->columns;
    struct decoder d = decoder_of(info);
    const uint8_t *p = info->data + (uint64_t)frame * info->frame_bytes;

    switch (info->bits_allocated) {
    case 8:
        for (uint64_t i = 0; i < n; i++)
            out[i] = decode(&d, p[i]);
        break;
    case 16: {
        /* the common case: one branch-free loop per sign, so that it vectorises */
        unsigned up = 32u - d.bits;
        if (d.is_signed)
            for (uint64_t i = 0; i < n; i++) {
                uint32_t w = (uint32_t)p[2 * i] | ((uint32_t)p[2 * i + 1] << 8);
                out[i] = (int32_t)(w >> d.shift << up) >> up;
            }
        else
            for (uint64_t i = 0; i < n; i++) {
                uint32_t w = (uint32_t)p[2 * i] | ((uint32_t)p[2 * i + 1] << 8);
                out[i] = (int32_t)((w >> d.shift) & d.mask);
            }
        break;
    }
    case 32:
        for (uint64_t i = 0; i < n; i++)
            out[i] = decode(&d, msi_rd32le(p + 4 * i));
        break;
    default: /* 1 bit: frames may start inside a byte */
        for (uint64_t i = 0; i < n; i++)
            out[i] = ms_pixel_stored_value(info, frame, (uint32_t)(i / info->columns),
                                           (uint32_t)(i % info->columns), 0);
        break;
    }
}

ms_status ms_pixel_frame_stored(const struct ms_pixel_info *info, uint32_t frame, int32_t *out,
                                struct ms_error *err)
{
    ms_status st = check_frame(info, frame, err);
    if (st == MS_OK)
        frame_values(info, frame, out);
    return st;
}

ms_status ms_pixel_frame_real(const struct ms_pixel_info *info, uint32_t frame, float *out,
                              struct ms_error *err)
{
    uint64_t n = (uint64_t)info->rows * info->columns;
    float m = (float)info->rescale_slope, b = (float)info->rescale_intercept;
    struct decoder d = decoder_of(info);
    const uint8_t *p;
    ms_status st = check_frame(info, frame, err);

    if (st != MS_OK)
        return st;
    p = info->data + (uint64_t)frame * info->frame_bytes;
    if (info->bits_allocated == 16 && d.bits < 32) {
        /* the common case, one branch-free loop per sign so that it vectorises */
        unsigned up = 32u - d.bits;
        if (d.is_signed)
            for (uint64_t i = 0; i < n; i++) {
                uint32_t w = (uint32_t)p[2 * i] | ((uint32_t)p[2 * i + 1] << 8);
                out[i] = m * (float)((int32_t)(w >> d.shift << up) >> up) + b;
            }
        else
            for (uint64_t i = 0; i < n; i++) {
                uint32_t w = (uint32_t)p[2 * i] | ((uint32_t)p[2 * i + 1] << 8);
                out[i] = m * (float)((w >> d.shift) & d.mask) + b;
            }
        return MS_OK;
    }
    /* decode in place: an int32 and a float have the same size */
    _Static_assert(sizeof(int32_t) == sizeof(float), "int32 and float differ in size");
    frame_values(info, frame, (int32_t *)(void *)out);
    for (uint64_t i = 0; i < n; i++) {
        int32_t v;
        memcpy(&v, &out[i], sizeof v);
        out[i] = m * (float)v + b;
    }
    return MS_OK;
}

/* ---- encapsulated frames ------------------------------------------------------------ */

/* Fragment (1-based) whose item starts at byte offset off from the first
 * fragment after the Basic Offset Table; 0 when none does. */
static uint32_t fragment_at(const struct ms_element *px, uint64_t off)
{
    uint64_t pos = 0;
    size_t n = ms_element_fragment_count(px);
    for (size_t i = 1; i < n; i++) {
        const uint8_t *data;
        uint64_t len;
        if (pos == off)
            return (uint32_t)i;
        if (pos > off || !ms_element_fragment(px, i, &data, &len))
            return 0;
        pos += 8 + len + (len & 1);
    }
    return 0;
}

/* Frames from a table of nframes little-endian offsets of width bytes. */
static ms_status frames_from_offsets(const struct ms_element *px, struct ms_encap_frame *frames,
                                     uint32_t nframes, const uint8_t *table, unsigned width,
                                     struct ms_error *err)
{
    uint32_t nfrags = (uint32_t)ms_element_fragment_count(px) - 1;
    for (uint32_t f = 0; f < nframes; f++) {
        uint64_t off = width == 8 ? msi_rd64le(table + 8 * (uint64_t)f)
                                  : msi_rd32le(table + 4 * (uint64_t)f);
        uint32_t first = fragment_at(px, off);
        if (first == 0 || (f && first <= frames[f - 1].first_fragment))
            return ms_error_set(err, MS_EMALFORMED,
                                "offset table entry %u (%llu) does not start a fragment", f,
                                (unsigned long long)off);
        frames[f].first_fragment = first;
        if (f)
            frames[f - 1].fragment_count = first - frames[f - 1].first_fragment;
    }
    frames[nframes - 1].fragment_count = nfrags + 1 - frames[nframes - 1].first_fragment;
    return MS_OK;
}

ms_status ms_encap_frames(const struct ms_dataset *ds, struct ms_encap_frame *frames,
                          uint32_t nframes, struct ms_error *err)
{
    const struct ms_element *px = ms_dataset_get(ds, MS_TAG_PIXEL_DATA);
    const struct ms_element *eot = ms_dataset_get(ds, MS_TAG(0x7FE0, 0x0001));
    const uint8_t *bot;
    uint64_t bot_len;
    uint32_t nfrags;

    if (!px || !ms_element_is_encapsulated(px) || ms_element_fragment_count(px) == 0)
        return ms_error_set(err, MS_ENOTFOUND, "no encapsulated Pixel Data");
    nfrags = (uint32_t)ms_element_fragment_count(px) - 1;
    if (nframes == 0 || nfrags < nframes)
        return ms_error_set(err, MS_EMALFORMED, "%u fragment(s) cannot hold %u frame(s)", nfrags,
                            nframes);
    if (eot && ms_element_value(eot)) {
        if (ms_element_length(eot) != (uint64_t)nframes * 8)
            return ms_error_set(err, MS_EMALFORMED,
                                "Extended Offset Table has %llu bytes for %u frames",
                                (unsigned long long)ms_element_length(eot), nframes);
        return frames_from_offsets(px, frames, nframes, ms_element_value(eot), 8, err);
    }
    ms_element_fragment(px, 0, &bot, &bot_len);
    if (bot_len) {
        if (bot_len != (uint64_t)nframes * 4)
            return ms_error_set(err, MS_EMALFORMED,
                                "Basic Offset Table has %llu bytes for %u frames",
                                (unsigned long long)bot_len, nframes);
        return frames_from_offsets(px, frames, nframes, bot, 4, err);
    }
    if (nframes == 1) {
        frames[0] = (struct ms_encap_frame){1, nfrags};
        return MS_OK;
    }
    if (nfrags != nframes)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "%u fragments for %u frames and no offset table", nfrags, nframes);
    for (uint32_t f = 0; f < nframes; f++)
        frames[f] = (struct ms_encap_frame){f + 1, 1};
    return MS_OK;
}
