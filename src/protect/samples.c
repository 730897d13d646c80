/* Access to the stored-value bits of native samples, for the schemes that
 * change pixel values (chaos, stego): words of 8, 16 or 32 bits in the file's
 * byte order, the stored value at bits shift .. shift + bits - 1 (High Bit
 * and Bits Stored), the other bits left as they are. */
#include <stdlib.h>
#include <string.h>

#include "protect/protect_internal.h"

/* 4:2:2 images: each horizontal pair of pixels is one unit of four samples
 * Y1 Y2 Cb Cr (PS3.3 C.7.6.3.1.2: interleaved only; pairs need an even
 * number of columns). */
static ms_status layout_422(struct msi_samples *s, const struct ms_pixel_info *pi,
                            const char *scheme, struct ms_error *err)
{
    if (pi->planar_configuration)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "%s: %s with Planar Configuration 1 is not a valid layout", scheme,
                            pi->photometric);
    if (pi->columns % 2)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "%s: %s with an odd number of columns (%u) is not supported", scheme,
                            pi->photometric, pi->columns);
    s->pixels = (uint64_t)pi->rows * pi->columns / 2;
    s->spp = 4;
    s->ppu = 2;
    s->planar = false;
    return MS_OK;
}

/* Every word s addresses lies inside a frame, and every frame inside the
 * Pixel Data value: what keeps the schemes' loops within their buffers. */
static ms_status check_extent(const struct msi_samples *s, const struct msi_pfile *pf,
                              const char *scheme, struct ms_error *err)
{
    const struct ms_pixel_info *pi = &pf->pi;
    uint64_t words = s->pixels * s->spp, all; /* rows, columns < 2^16: no overflow */
    if (words == 0 || words * s->bytes != pi->frame_bytes)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "%s: %llu samples of %u bytes do not make the frame of %llu bytes "
                            "(Photometric Interpretation %s)",
                            scheme, (unsigned long long)words, s->bytes,
                            (unsigned long long)pi->frame_bytes, pi->photometric);
    if (!msi_mul_u64(pi->frame_bytes, pi->frames, &all) || all > pf->px_value_len)
        return ms_error_set(err, MS_EMALFORMED,
                            "%s: Pixel Data holds %llu bytes, less than %u frame(s) of %llu",
                            scheme, (unsigned long long)pf->px_value_len, pi->frames,
                            (unsigned long long)pi->frame_bytes);
    return MS_OK;
}

ms_status msi_samples_init(struct msi_samples *s, const struct msi_pfile *pf, const char *scheme,
                           struct ms_error *err)
{
    const struct ms_pixel_info *pi = &pf->pi;
    ms_status st;
    memset(s, 0, sizeof *s);
    if (pi->encapsulated)
        return ms_error_set(err, MS_EUNSUPPORTED, "%s needs native pixel values", scheme);
    if (pi->bits_allocated != 8 && pi->bits_allocated != 16 && pi->bits_allocated != 32)
        return ms_error_set(err, MS_EUNSUPPORTED, "%s: Bits Allocated %u is not supported",
                            scheme, pi->bits_allocated);
    s->bytes = pi->bits_allocated / 8u;
    s->bits_alloc = pi->bits_allocated;
    s->big_endian = pf->ts->big_endian;
    s->bits = pi->bits_stored;
    s->shift = pi->high_bit + 1u - pi->bits_stored;
    s->mask = (s->bits >= 32 ? 0xFFFFFFFFu : ((1u << s->bits) - 1u)) << s->shift;
    s->pixels = (uint64_t)pi->rows * pi->columns;
    s->spp = pi->samples_per_pixel;
    s->ppu = 1;
    s->planar = pi->planar_configuration && pi->samples_per_pixel > 1;
    st = msi_pixel_is_422(pi) ? layout_422(s, pi, scheme, err) : MS_OK;
    if (st == MS_OK)
        st = check_extent(s, pf, scheme, err);
    if (st != MS_OK)
        memset(s, 0, sizeof *s);
    return st;
}

static uint64_t word_index(const struct msi_samples *s, uint64_t p, unsigned c)
{
    return s->planar ? (uint64_t)c * s->pixels + p : p * s->spp + c;
}

uint32_t msi_sample_get(const struct msi_samples *s, const uint8_t *frame, uint64_t p, unsigned c)
{
    const uint8_t *q = frame + word_index(s, p, c) * s->bytes;
    switch (s->bytes) {
    case 1:
        return q[0];
    case 2:
        return s->big_endian ? msi_rd16be(q) : msi_rd16le(q);
    default:
        return s->big_endian ? msi_rd32be(q) : msi_rd32le(q);
    }
}

void msi_sample_put(const struct msi_samples *s, uint8_t *frame, uint64_t p, unsigned c,
                    uint32_t word)
{
    uint8_t *q = frame + word_index(s, p, c) * s->bytes;
    switch (s->bytes) {
    case 1:
        q[0] = (uint8_t)word;
        break;
    case 2:
        if (s->big_endian)
            msi_wr16be(q, (uint16_t)word);
        else
            msi_wr16le(q, (uint16_t)word);
        break;
    default:
        if (s->big_endian)
            msi_wr32be(q, word);
        else
            msi_wr32le(q, word);
        break;
    }
}

ms_status msi_frames_pass(struct msi_wr *w, const struct msi_pfile *pf, struct msi_edit *edits,
                          size_t nedits, msi_frame_fn fn, void *ctx, struct ms_hash *hash,
                          struct ms_error *err)
{
    uint64_t fb = pf->pi.frame_bytes, at = pf->px_value_off;
    uint64_t end = pf->px_value_off + pf->px_value_len;
    uint8_t *buf;
    ms_status st;

    if (fb == 0 || fb > SIZE_MAX)
        return ms_error_set(err, MS_ELIMIT, "frame too large");
    buf = malloc((size_t)fb);
    if (!buf)
        return ms_error_set(err, MS_ENOMEM, "out of memory for one frame (%llu bytes)",
                            (unsigned long long)fb);
    st = msi_copy_range(w, pf, 0, at, edits, nedits, NULL, err);
    for (uint32_t f = 0; st == MS_OK && f < pf->pi.frames; f++, at += fb) {
        memcpy(buf, pf->map + at, (size_t)fb);
        st = fn(ctx, buf, f, err);
        if (st == MS_OK && hash)
            st = ms_hash_update(hash, buf, (size_t)fb, err);
        msi_wr_put(w, buf, (size_t)fb);
        msi_pfile_done(pf, at, fb);
    }
    /* bytes after the last frame (padding) stay as they are */
    if (st == MS_OK && hash && at < end)
        st = ms_hash_update(hash, pf->map + at, (size_t)(end - at), err);
    if (st == MS_OK)
        st = msi_copy_range(w, pf, at, pf->size, edits, nedits, NULL, err);
    ms_crypto_wipe(buf, (size_t)fb);
    free(buf);
    return st;
}

/* Bits above High Bit: mask of them within a word. */
static uint32_t high_mask(const struct msi_samples *s)
{
    unsigned top = s->shift + s->bits; /* first bit above High Bit */
    if (top >= s->bits_alloc)
        return 0;
    return (s->bits_alloc >= 32 ? 0xFFFFFFFFu : ((1u << s->bits_alloc) - 1u)) &
           ~((top >= 32 ? 0xFFFFFFFFu : ((1u << top) - 1u)));
}

unsigned msi_samples_high_bits(const struct msi_samples *s)
{
    unsigned top = s->shift + s->bits;
    return top < s->bits_alloc ? s->bits_alloc - top : 0;
}

unsigned msi_samples_fill(const struct msi_samples *s, const uint8_t *frame)
{
    uint32_t hm = high_mask(s), sign = 1u << (s->shift + s->bits - 1);
    unsigned kinds = MSI_FILL_ZERO | MSI_FILL_SIGN;
    if (!hm)
        return kinds;
    for (uint64_t p = 0; p < s->pixels && kinds; p++)
        for (unsigned c = 0; c < s->spp; c++) {
            uint32_t w = msi_sample_get(s, frame, p, c), hi = w & hm;
            if (hi)
                kinds &= ~(unsigned)MSI_FILL_ZERO;
            if (hi != ((w & sign) ? hm : 0))
                kinds &= ~(unsigned)MSI_FILL_SIGN;
        }
    return kinds;
}

void msi_samples_set_high(const struct msi_samples *s, uint8_t *frame, bool sign_extend)
{
    uint32_t hm = high_mask(s), sign = 1u << (s->shift + s->bits - 1);
    if (!hm)
        return;
    for (uint64_t p = 0; p < s->pixels; p++)
        for (unsigned c = 0; c < s->spp; c++) {
            uint32_t w = msi_sample_get(s, frame, p, c) & ~hm;
            if (sign_extend && (w & sign))
                w |= hm;
            msi_sample_put(s, frame, p, c, w);
        }
}

unsigned msi_samples_fill_all(const struct msi_pfile *pf, const struct msi_samples *s)
{
    unsigned kinds = MSI_FILL_ZERO | MSI_FILL_SIGN;
    const uint8_t *f = pf->map + pf->px_value_off;
    for (uint32_t i = 0; i < pf->pi.frames && kinds; i++, f += pf->pi.frame_bytes)
        kinds &= msi_samples_fill(s, f);
    return kinds;
}
