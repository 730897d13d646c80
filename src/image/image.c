/* Images: creation (header and samples in one allocation), views, checks
 * and sample access. */
#include <math.h>
#include <stdlib.h>

#include "image/image_internal.h"
#include "internal.h"

/* Header size rounded up so that the samples after it stay aligned. */
#define HEADER_SIZE ((sizeof(struct ms_image) + 15u) & ~(size_t)15u)

static ms_status check_shape(uint32_t width, uint32_t height, uint32_t channels,
                             ms_sample_type type, struct ms_error *err)
{
    uint64_t samples;

    if (width == 0 || height == 0)
        return ms_error_set(err, MS_EUSAGE, "image of zero size (%" PRIu32 "x%" PRIu32 ")",
                            width, height);
    if (channels != 1 && channels != 3)
        return ms_error_set(err, MS_EUSAGE, "image with %" PRIu32 " channels (1 or 3 expected)",
                            channels);
    if (type != MS_SAMPLE_F32 && type != MS_SAMPLE_I32)
        return ms_error_set(err, MS_EUSAGE, "unknown sample type %d", (int)type);
    if (width > MS_IMAGE_MAX_SIDE || height > MS_IMAGE_MAX_SIDE)
        return ms_error_set(err, MS_ELIMIT, "image of %" PRIu32 "x%" PRIu32 " beyond the limit %u",
                            width, height, MS_IMAGE_MAX_SIDE);
    if (!msi_mul_u64(width, height, &samples) || !msi_mul_u64(samples, channels, &samples) ||
        samples > MS_IMAGE_MAX_SAMPLES)
        return ms_error_set(err, MS_ELIMIT, "image of %" PRIu32 "x%" PRIu32 "x%" PRIu32
                            " samples beyond the limit", width, height, channels);
    return MS_OK;
}

ms_status ms_image_create(struct ms_image **out, uint32_t width, uint32_t height,
                          uint32_t channels, ms_sample_type type, struct ms_error *err)
{
    ms_status st;
    uint64_t bytes;
    struct ms_image *img;

    *out = NULL;
    st = check_shape(width, height, channels, type, err);
    if (st != MS_OK)
        return st;
    /* samples <= 2^28 after check_shape(): the products cannot overflow */
    bytes = (uint64_t)width * height * channels * msi_sample_size(type);
    if (bytes > SIZE_MAX - HEADER_SIZE)
        return ms_error_set(err, MS_ELIMIT, "image too large for this platform");
    img = calloc(1, HEADER_SIZE + (size_t)bytes);
    if (!img)
        return ms_error_set(err, MS_ENOMEM, "out of memory for a %" PRIu32 "x%" PRIu32 " image",
                            width, height);
    img->width = width;
    img->height = height;
    img->channels = channels;
    img->type = type;
    img->data = (uint8_t *)img + HEADER_SIZE;
    *out = img;
    return MS_OK;
}

void ms_image_destroy(struct ms_image *img)
{
    free(img);
}

struct ms_image ms_image_view(uint32_t width, uint32_t height, uint32_t channels,
                              ms_sample_type type, const void *data)
{
    struct ms_image v;
    v.width = width;
    v.height = height;
    v.channels = channels;
    v.type = type;
    v.data = (void *)(uintptr_t)data; /* a view is only written through when the caller says */
    return v;
}

ms_status ms_image_check(const struct ms_image *img, struct ms_error *err)
{
    if (!img)
        return ms_error_set(err, MS_EUSAGE, "no image");
    if (!img->data)
        return ms_error_set(err, MS_EUSAGE, "image without samples");
    return check_shape(img->width, img->height, img->channels, img->type, err);
}

uint64_t ms_image_samples(const struct ms_image *img)
{
    return (uint64_t)img->width * img->height * img->channels;
}

double ms_image_get(const struct ms_image *img, uint32_t x, uint32_t y, uint32_t c)
{
    uint64_t i = ((uint64_t)y * img->width + x) * img->channels + c;
    return msi_sample(img, i);
}

void ms_image_set(struct ms_image *img, uint32_t x, uint32_t y, uint32_t c, double v)
{
    uint64_t i = ((uint64_t)y * img->width + x) * img->channels + c;
    if (img->type == MS_SAMPLE_F32) {
        ((float *)img->data)[i] = (float)v;
        return;
    }
    if (isnan(v))
        v = 0;
    v = round(v);
    if (v < (double)INT32_MIN)
        v = (double)INT32_MIN;
    if (v > (double)INT32_MAX)
        v = (double)INT32_MAX;
    ((int32_t *)img->data)[i] = (int32_t)v;
}

ms_status msi_image_check_pair(const struct ms_image *a, const struct ms_image *b,
                               struct ms_error *err)
{
    ms_status st = ms_image_check(a, err);
    if (st == MS_OK)
        st = ms_image_check(b, err);
    if (st != MS_OK)
        return st;
    if (a->width != b->width || a->height != b->height)
        return ms_error_set(err, MS_EUSAGE,
                            "images differ in size (%" PRIu32 "x%" PRIu32 " and %" PRIu32
                            "x%" PRIu32 ")", a->width, a->height, b->width, b->height);
    if (a->channels != b->channels)
        return ms_error_set(err, MS_EUSAGE, "images differ in channels (%" PRIu32 " and %" PRIu32
                            ")", a->channels, b->channels);
    return MS_OK;
}
