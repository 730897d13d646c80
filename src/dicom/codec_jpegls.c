/* JPEG-LS lossless frames through CharLS. Values are encoded with Bits
 * Stored bits when the bits above can be rebuilt on decoding (zero, or the
 * sign for signed data); otherwise with all Bits Allocated bits, so that a
 * decoded frame always equals the encoded one bit for bit. */
#include <stdlib.h>
#include <string.h>

#include <charls/charls.h>

#include "medseal/codec.h"
#include "internal.h"

/* True when every sample's bits above Bits Stored can be rebuilt. */
static bool fits_bits_stored(const struct ms_pixel_info *info, const uint8_t *frame)
{
    uint64_t n = (uint64_t)info->rows * info->columns * info->samples_per_pixel;
    unsigned bits = info->bits_stored, up = 32u - bits;
    if (info->high_bit + 1u != bits || bits == info->bits_allocated)
        return false;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t w = info->bits_allocated == 8 ? frame[i] : msi_rd16le(frame + 2 * i);
        uint32_t rebuilt = info->pixel_representation
                               ? (uint32_t)((int32_t)(w << up) >> up) & 0xFFFFu
                               : (w & ((1u << bits) - 1u));
        if (info->bits_allocated == 8)
            rebuilt &= 0xFFu;
        if (rebuilt != w)
            return false;
    }
    return true;
}

static ms_status charls_fail(charls_jpegls_errc e, struct ms_error *err)
{
    return ms_error_set(err, e == CHARLS_JPEGLS_ERRC_NOT_ENOUGH_MEMORY ? MS_ENOMEM : MS_EMALFORMED,
                        "JPEG-LS: %s", charls_get_error_message(e));
}

/* Masked copy of the frame when encoding with Bits Stored bits. */
static uint8_t *masked_copy(const struct ms_pixel_info *info, const uint8_t *frame)
{
    uint8_t *copy = malloc((size_t)info->frame_bytes);
    uint32_t mask = (1u << info->bits_stored) - 1u;
    uint64_t n = (uint64_t)info->rows * info->columns * info->samples_per_pixel;
    if (!copy)
        return NULL;
    for (uint64_t i = 0; i < n; i++) {
        if (info->bits_allocated == 8)
            copy[i] = (uint8_t)(frame[i] & mask);
        else
            msi_wr16le(copy + 2 * i, (uint16_t)(msi_rd16le(frame + 2 * i) & mask));
    }
    return copy;
}

/* Frame size, sample bits and interleave of the encoder. */
static charls_jpegls_errc configure(charls_jpegls_encoder *enc, const struct ms_pixel_info *info,
                                    bool masked)
{
    charls_frame_info fi;
    charls_jpegls_errc e;

    fi.width = info->columns;
    fi.height = info->rows;
    fi.bits_per_sample = masked ? info->bits_stored : info->bits_allocated;
    fi.component_count = info->samples_per_pixel;
    e = charls_jpegls_encoder_set_frame_info(enc, &fi);
    if (!e && info->samples_per_pixel > 1)
        e = charls_jpegls_encoder_set_interleave_mode(
            enc, info->planar_configuration ? CHARLS_INTERLEAVE_MODE_NONE
                                            : CHARLS_INTERLEAVE_MODE_SAMPLE);
    return e;
}

/* Encode src into a new buffer *buf (the caller frees it, also on error). */
static charls_jpegls_errc encode(charls_jpegls_encoder *enc, const struct ms_pixel_info *info,
                                 const uint8_t *src, uint8_t **buf, size_t *written)
{
    size_t cap = 0;
    charls_jpegls_errc e = charls_jpegls_encoder_get_estimated_destination_size(enc, &cap);

    if (!e && !(*buf = malloc(cap + 1)))
        e = CHARLS_JPEGLS_ERRC_NOT_ENOUGH_MEMORY;
    if (!e)
        e = charls_jpegls_encoder_set_destination_buffer(enc, *buf, cap);
    if (!e)
        e = charls_jpegls_encoder_encode_from_buffer(enc, src, (size_t)info->frame_bytes, 0);
    if (!e)
        e = charls_jpegls_encoder_get_bytes_written(enc, written);
    return e;
}

ms_status msi_jpegls_encode_frame(const struct ms_pixel_info *info, const uint8_t *frame,
                                  uint8_t **out, size_t *out_len, struct ms_error *err)
{
    charls_jpegls_encoder *enc;
    charls_jpegls_errc e;
    size_t written = 0;
    uint8_t *buf = NULL, *src = NULL;
    bool masked;

    *out = NULL;
    *out_len = 0;
    if ((info->bits_allocated != 8 && info->bits_allocated != 16) || info->bits_stored < 2)
        return ms_error_set(err, MS_EUNSUPPORTED, "JPEG-LS cannot hold %u bits allocated",
                            info->bits_allocated);
    masked = fits_bits_stored(info, frame);
    if (masked && !(src = masked_copy(info, frame)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    enc = charls_jpegls_encoder_create();
    if (!enc) {
        free(src);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    e = configure(enc, info, masked);
    if (!e)
        e = encode(enc, info, src ? src : frame, &buf, &written);
    charls_jpegls_encoder_destroy(enc);
    free(src);
    if (e) {
        free(buf);
        return charls_fail(e, err);
    }
    *out = buf;
    *out_len = written;
    return MS_OK;
}

/* Rebuild the bits above Bits Stored after a masked encoding. */
static void unmask(const struct ms_pixel_info *info, uint8_t *frame)
{
    uint64_t n = (uint64_t)info->rows * info->columns * info->samples_per_pixel;
    unsigned up = 32u - info->bits_stored;
    if (!info->pixel_representation)
        return;
    for (uint64_t i = 0; i < n; i++) {
        if (info->bits_allocated == 8)
            frame[i] = (uint8_t)((int32_t)((uint32_t)frame[i] << up) >> up);
        else
            msi_wr16le(frame + 2 * i,
                       (uint16_t)((int32_t)((uint32_t)msi_rd16le(frame + 2 * i) << up) >> up));
    }
}

/* The frame is the dataset's (sample bits: Bits Stored or Allocated). */
static bool frame_matches(const charls_frame_info *fi, const struct ms_pixel_info *info)
{
    return fi->width == info->columns && fi->height == info->rows &&
           fi->component_count == info->samples_per_pixel &&
           (fi->bits_per_sample == info->bits_stored ||
            fi->bits_per_sample == info->bits_allocated);
}

ms_status msi_jpegls_decode_frame(const struct ms_pixel_info *info, const uint8_t *in, size_t len,
                                  uint8_t *out, struct ms_error *err)
{
    charls_jpegls_decoder *dec = charls_jpegls_decoder_create();
    charls_frame_info fi;
    charls_jpegls_errc e;
    size_t need = 0;

    if (!dec)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    e = charls_jpegls_decoder_set_source_buffer(dec, in, len);
    if (!e)
        e = charls_jpegls_decoder_read_header(dec);
    if (!e)
        e = charls_jpegls_decoder_get_frame_info(dec, &fi);
    if (!e && !frame_matches(&fi, info)) {
        charls_jpegls_decoder_destroy(dec);
        return ms_error_set(err, MS_EMALFORMED, "JPEG-LS frame is %ux%u x%d at %d bits, the "
                            "dataset says %ux%u x%u at %u bits", fi.width, fi.height,
                            fi.component_count, fi.bits_per_sample, info->columns, info->rows,
                            info->samples_per_pixel, info->bits_stored);
    }
    if (!e)
        e = charls_jpegls_decoder_get_destination_size(dec, 0, &need);
    if (!e && need != info->frame_bytes)
        e = CHARLS_JPEGLS_ERRC_INVALID_ARGUMENT_SIZE;
    if (!e)
        e = charls_jpegls_decoder_decode_to_buffer(dec, out, (size_t)info->frame_bytes, 0);
    charls_jpegls_decoder_destroy(dec);
    if (e)
        return charls_fail(e, err);
    if (fi.bits_per_sample != info->bits_allocated)
        unmask(info, out);
    return MS_OK;
}
