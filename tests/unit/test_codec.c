/* Unit tests of the RLE and JPEG-LS codecs and transfer syntax conversion. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "medseal/codec.h"
#include "medseal/dicom.h"
#include "medseal/pixel.h"
#include "testutil.h"

static struct ms_pixel_info image(uint16_t rows, uint16_t cols, uint16_t spp, uint16_t bits,
                                  uint16_t stored, uint16_t signed_, uint16_t planar)
{
    struct ms_pixel_info i;
    memset(&i, 0, sizeof i);
    i.rows = rows;
    i.columns = cols;
    i.frames = 1;
    i.samples_per_pixel = spp;
    i.bits_allocated = bits;
    i.bits_stored = stored;
    i.high_bit = (uint16_t)(stored - 1);
    i.pixel_representation = signed_;
    i.planar_configuration = planar;
    i.frame_bytes = (uint64_t)rows * cols * spp * bits / 8;
    return i;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) /* runs and noise */
        p[i] = (uint8_t)((i / 7) % 3 == 0 ? 0x40 : (i * 2654435761u + seed) >> 13);
}

static void rle_roundtrip(struct ms_pixel_info info)
{
    uint8_t *src = malloc(info.frame_bytes), *dst = calloc(1, info.frame_bytes), *enc = NULL;
    size_t len = 0;
    struct ms_error err = {0};
    fill(src, info.frame_bytes, info.bits_allocated);
    CHECK_INT(ms_rle_encode_frame(&info, src, &enc, &len, &err), MS_OK);
    CHECK_INT(ms_rle_decode_frame(&info, enc, len, dst, &err), MS_OK);
    CHECK(memcmp(src, dst, info.frame_bytes) == 0);
    /* negatives on the same stream */
    CHECK_INT(ms_rle_decode_frame(&info, enc, 63, dst, &err), MS_EMALFORMED);
    CHECK_INT(ms_rle_decode_frame(&info, enc, len / 2, dst, &err), MS_EMALFORMED);
    enc[0] ^= 1; /* wrong segment count */
    CHECK_INT(ms_rle_decode_frame(&info, enc, len, dst, &err), MS_EMALFORMED);
    enc[0] ^= 1;
    enc[4] = 0xFF; /* first offset beyond the data */
    enc[5] = 0xFF;
    enc[6] = 0xFF;
    CHECK_INT(ms_rle_decode_frame(&info, enc, len, dst, &err), MS_EMALFORMED);
    free(src);
    free(dst);
    free(enc);
}

static void test_rle(void)
{
    struct ms_error err = {0};
    uint8_t *enc = NULL, buf[64];
    size_t len;
    struct ms_pixel_info bad = image(4, 4, 3, 32, 32, 0, 0); /* 12 segments: fine */
    rle_roundtrip(image(17, 13, 1, 8, 8, 0, 0));
    rle_roundtrip(image(64, 64, 1, 16, 12, 1, 0));
    rle_roundtrip(image(9, 31, 3, 8, 8, 0, 0));
    rle_roundtrip(image(9, 31, 3, 8, 8, 0, 1));
    rle_roundtrip(image(5, 5, 3, 16, 16, 0, 0));
    rle_roundtrip(bad);
    bad = image(4, 4, 3, 64 / 8 * 8, 40, 0, 0); /* 64-bit: 24 segments, too many */
    bad.bits_allocated = 64;
    CHECK_INT(ms_rle_encode_frame(&bad, buf, &enc, &len, &err), MS_EUNSUPPORTED);
    bad = image(4, 4, 1, 1, 1, 0, 0);
    CHECK_INT(ms_rle_encode_frame(&bad, buf, &enc, &len, &err), MS_EUNSUPPORTED);
}

static void test_transcode_ct(void)
{
    const char *path = tu_ct(20);
    const struct ms_transfer_syntax *list[] = {ms_ts_find(MS_TS_RLE), ms_ts_find(MS_TS_JPEG_LS)};
    for (size_t k = 0; k < 2; k++) {
        struct ms_file *orig = NULL, *f = NULL;
        struct ms_error err = {0};
        struct ms_pixel_info a, b;
        CHECK_INT(ms_file_read(&orig, path, NULL, &err), MS_OK);
        CHECK_INT(ms_file_read(&f, path, NULL, &err), MS_OK);
        if (!orig || !f) {
            ms_file_destroy(orig);
            ms_file_destroy(f);
            return;
        }
        CHECK_INT(ms_file_transcode(f, list[k], MS_VR_NONE, &err), MS_OK);
        CHECK(ms_element_is_encapsulated(ms_dataset_get(ms_file_dataset(f), MS_TAG_PIXEL_DATA)));
        CHECK_INT(ms_file_transcode(f, ms_ts_explicit_le(), MS_VR_NONE, &err), MS_OK);
        CHECK_INT(ms_pixel_info_get(ms_file_dataset(orig), &a, &err), MS_OK);
        CHECK_INT(ms_pixel_info_get(ms_file_dataset(f), &b, &err), MS_OK);
        CHECK(a.data_len == b.data_len && memcmp(a.data, b.data, (size_t)a.data_len) == 0);
        /* unsupported targets */
        CHECK_INT(ms_file_transcode(f, ms_ts_find("1.2.840.10008.1.2.4.50"), MS_VR_NONE, &err),
                  MS_EUNSUPPORTED);
        CHECK(!ms_codec_supported(ms_ts_find("1.2.840.10008.1.2.4.90")));
        ms_file_destroy(orig);
        ms_file_destroy(f);
    }
}

int main(void)
{
    test_rle();
    test_transcode_ct();
    return check_done();
}
