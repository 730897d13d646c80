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

/* Fast paths for the common 16-bit cases; the generic path otherwise. */
ms_status ms_pixel_frame_stored(const struct ms_pixel_info *info, uint32_t frame, int32_t *out,
                                struct ms_error *err)
{
    uint64_t n = (uint64_t)info->rows * info->columns;
    ms_status st = check_frame(info, frame, err);

    if (st != MS_OK)
        return st;
    if (info->bits_allocated == 16 && info->high_bit + 1u == info->bits_stored) {
        const uint8_t *p = info->data + (uint64_t)frame * n * 2;
        for (uint64_t i = 0; i < n; i++)
            out[i] = stored(info, msi_rd16le(p + 2 * i));
        return MS_OK;
    }
    for (uint64_t i = 0; i < n; i++)
        out[i] = ms_pixel_stored_value(info, frame, (uint32_t)(i / info->columns),
                                       (uint32_t)(i % info->columns), 0);
    return MS_OK;
}

ms_status ms_pixel_frame_real(const struct ms_pixel_info *info, uint32_t frame, float *out,
                              struct ms_error *err)
{
    uint64_t n = (uint64_t)info->rows * info->columns;
    double m = info->rescale_slope, b = info->rescale_intercept;
    ms_status st = check_frame(info, frame, err);

    if (st != MS_OK)
        return st;
    if (info->bits_allocated == 16 && info->bits_stored == 16) {
        const uint8_t *p = info->data + (uint64_t)frame * n * 2;
        if (info->pixel_representation)
            for (uint64_t i = 0; i < n; i++)
                out[i] = (float)(m * (int16_t)msi_rd16le(p + 2 * i) + b);
        else
            for (uint64_t i = 0; i < n; i++)
                out[i] = (float)(m * msi_rd16le(p + 2 * i) + b);
        return MS_OK;
    }
    for (uint64_t i = 0; i < n; i++)
        out[i] = (float)(m * ms_pixel_stored_value(info, frame, (uint32_t)(i / info->columns),
                                                   (uint32_t)(i % info->columns), 0) + b);
    return MS_OK;
}
