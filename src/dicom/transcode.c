/* Transfer syntax conversion: between native syntaxes (only the encoding
 * changes on write) and to/from the lossless codecs, frame by frame. */
#include <stdlib.h>
#include <string.h>

#include "medseal/codec.h"
#include "internal.h"

typedef ms_status (*encode_fn)(const struct ms_pixel_info *info, const uint8_t *frame,
                               uint8_t **out, size_t *out_len, struct ms_error *err);
typedef ms_status (*decode_fn)(const struct ms_pixel_info *info, const uint8_t *in, size_t len,
                               uint8_t *out, struct ms_error *err);

static const struct codec {
    const char *uid;
    encode_fn encode;
    decode_fn decode;
} codecs[] = {
    {MS_TS_RLE, ms_rle_encode_frame, ms_rle_decode_frame},
    {MS_TS_JPEG_LS, msi_jpegls_encode_frame, msi_jpegls_decode_frame},
};

static const struct codec *codec_of(const struct ms_transfer_syntax *ts)
{
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (strcmp(codecs[i].uid, ts->uid) == 0)
            return &codecs[i];
    return NULL;
}

bool ms_codec_supported(const struct ms_transfer_syntax *ts)
{
    return !ts->encapsulated || codec_of(ts) != NULL;
}

/* The fragments of one frame, joined when there are several. */
static ms_status frame_bytes_of(const struct ms_element *px, const struct ms_encap_frame *fr,
                                const uint8_t **data, size_t *len, uint8_t **joined,
                                struct ms_error *err)
{
    uint64_t total = 0;
    *joined = NULL;
    if (fr->fragment_count == 1) {
        uint64_t l;
        ms_element_fragment(px, fr->first_fragment, data, &l);
        *len = (size_t)l;
        return MS_OK;
    }
    for (uint32_t k = 0; k < fr->fragment_count; k++)
        total += px->frags[fr->first_fragment + k].len;
    *joined = malloc(total ? (size_t)total : 1);
    if (!*joined)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    total = 0;
    for (uint32_t k = 0; k < fr->fragment_count; k++) {
        const struct msi_fragment *f = &px->frags[fr->first_fragment + k];
        memcpy(*joined + total, f->data, (size_t)f->len);
        total += f->len;
    }
    *data = *joined;
    *len = (size_t)total;
    return MS_OK;
}

/* Every frame of f's encapsulated Pixel Data through c into native. */
static ms_status decode_frames(struct ms_file *f, const struct codec *c,
                               const struct ms_pixel_info *info, uint8_t *native,
                               struct ms_error *err)
{
    struct ms_encap_frame *frames = calloc(info->frames, sizeof *frames);
    struct ms_element *px = ms_dataset_get(f->ds, MS_TAG_PIXEL_DATA);
    ms_status st = frames ? ms_encap_frames(f->ds, frames, info->frames, err)
                          : ms_error_set(err, MS_ENOMEM, "out of memory");

    for (uint32_t i = 0; st == MS_OK && i < info->frames; i++) {
        const uint8_t *data = NULL;
        size_t len = 0;
        uint8_t *joined = NULL;
        st = frame_bytes_of(px, &frames[i], &data, &len, &joined, err);
        if (st == MS_OK)
            st = c->decode(info, data, len, native + i * info->frame_bytes, err);
        free(joined);
        if (st != MS_OK)
            ms_error_prefix(err, "frame %u", i + 1);
    }
    free(frames);
    return st;
}

/* Encapsulated Pixel Data -> native value in a new buffer owned by f. */
static ms_status decode_pixels(struct ms_file *f, const struct codec *c, ms_vr vr,
                               struct ms_error *err)
{
    struct ms_pixel_info info;
    struct ms_element *px;
    uint8_t *native = NULL;
    uint64_t total;
    ms_status st = ms_pixel_info_get(f->ds, &info, err);

    if (st != MS_OK)
        return st;
    if (!msi_mul_u64(info.frame_bytes, info.frames, &total) || total > ((uint64_t)4 << 30))
        return ms_error_set(err, MS_ELIMIT, "decoded Pixel Data would exceed 4 GiB");
    native = malloc(total ? (size_t)total : 1);
    st = native ? decode_frames(f, c, &info, native, err)
                : ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st == MS_OK && !msi_arena_adopt(f->arena, native, (size_t)total, false))
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st != MS_OK) {
        free(native);
        return st;
    }
    if (vr == MS_VR_NONE)
        vr = info.bits_allocated > 8 ? MS_VR_OW : MS_VR_OB;
    px = msi_dataset_upsert(f->ds, MS_TAG_PIXEL_DATA, vr);
    if (!px)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    px->value = native;
    px->length = total;
    return MS_OK;
}

/* Native Pixel Data -> one fragment per frame, with a Basic Offset Table. */
static ms_status encode_pixels(struct ms_file *f, const struct codec *c, struct ms_error *err)
{
    struct ms_pixel_info info;
    struct ms_element *px;
    uint8_t *bot;
    uint64_t offset = 0;
    ms_status st = ms_pixel_info_get(f->ds, &info, err);

    if (st != MS_OK)
        return st;
    if (info.frames > (UINT32_MAX - 8) / 4)
        return ms_error_set(err, MS_ELIMIT, "too many frames");
    bot = msi_arena_alloc(f->arena, (size_t)info.frames * 4);
    px = msi_dataset_upsert(f->ds, MS_TAG_PIXEL_DATA, MS_VR_OB);
    if (!bot || !px)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    px->flags = MSI_EL_ENCAP | MSI_EL_UNDEF;
    px->length = MS_UNDEFINED_LENGTH;
    if (!msi_element_append_fragment(px, bot, (uint64_t)info.frames * 4, 0))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < info.frames; i++) {
        uint8_t *enc;
        size_t len;
        st = c->encode(&info, info.data + i * info.frame_bytes, &enc, &len, err);
        if (st != MS_OK) {
            ms_error_prefix(err, "frame %u", i + 1);
            return st;
        }
        if (!msi_arena_adopt(f->arena, enc, len, false) ||
            !msi_element_append_fragment(px, enc, len, 0)) {
            free(enc);
            return ms_error_set(err, MS_ENOMEM, "out of memory");
        }
        if (offset > UINT32_MAX)
            return ms_error_set(err, MS_ELIMIT, "encapsulated Pixel Data over 4 GiB");
        msi_wr32le(bot + 4 * i, (uint32_t)offset);
        offset += 8 + len + (len & 1);
    }
    return MS_OK;
}

ms_status ms_file_transcode(struct ms_file *f, const struct ms_transfer_syntax *ts,
                            ms_vr pixel_vr, struct ms_error *err)
{
    const struct codec *from = f->ts->encapsulated ? codec_of(f->ts) : NULL;
    const struct codec *to = ts->encapsulated ? codec_of(ts) : NULL;
    struct ms_element *px = ms_dataset_get(f->ds, MS_TAG_PIXEL_DATA);
    ms_status st;

    if (!px || f->ts == ts) {
        f->ts = ts;
        return MS_OK;
    }
    if ((f->ts->encapsulated && !from && ms_element_is_encapsulated(px)) ||
        (ts->encapsulated && !to))
        return ms_error_set(err, MS_EUNSUPPORTED, "no codec for %s",
                            (ts->encapsulated && !to) ? ts->name : f->ts->name);
    if (ms_element_is_encapsulated(px)) {
        if ((st = decode_pixels(f, from, pixel_vr, err)) != MS_OK)
            return st;
        f->ts = ms_ts_explicit_le();
    }
    if (to && (st = encode_pixels(f, to, err)) != MS_OK)
        return st;
    f->ts = ts;
    return MS_OK;
}
