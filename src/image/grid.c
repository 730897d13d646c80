/* Block grids over an image (seed 000's 4x4 or 8x8 blocks), the zig-zag
 * order of the blocks, and copying a block out and back. */
#include <string.h>

#include "image/image_internal.h"
#include "internal.h"

ms_status ms_grid_init(struct ms_grid *g, uint32_t width, uint32_t height, uint32_t n,
                       struct ms_error *err)
{
    memset(g, 0, sizeof *g);
    if (n == 0 || n > MS_GRID_MAX_N)
        return ms_error_set(err, MS_EUSAGE, "grid of %" PRIu32 " blocks per side (1..%u)", n,
                            MS_GRID_MAX_N);
    if (width > MS_IMAGE_MAX_SIDE || height > MS_IMAGE_MAX_SIDE)
        return ms_error_set(err, MS_EUSAGE, "image of %" PRIu32 "x%" PRIu32 " beyond the limit",
                            width, height);
    if (width < n || height < n)
        return ms_error_set(err, MS_EUSAGE,
                            "image of %" PRIu32 "x%" PRIu32 " too small for %" PRIu32
                            "x%" PRIu32 " blocks", width, height, n, n);
    g->width = width;
    g->height = height;
    g->n = n;
    g->block_width = width / n;
    g->block_height = height / n;
    return MS_OK;
}

/* A grid as ms_grid_init() makes it (the struct is public: callers may fill
 * it by hand). */
static bool grid_valid(const struct ms_grid *g)
{
    return g->n > 0 && g->n <= MS_GRID_MAX_N && g->width >= g->n && g->height >= g->n &&
           g->width <= MS_IMAGE_MAX_SIDE && g->height <= MS_IMAGE_MAX_SIDE &&
           g->block_width == g->width / g->n && g->block_height == g->height / g->n;
}

uint32_t ms_grid_blocks(const struct ms_grid *g)
{
    return g->n * g->n;
}

ms_status ms_grid_block_rect(const struct ms_grid *g, uint32_t block, struct ms_rect *r,
                             struct ms_error *err)
{
    uint32_t row, col;

    if (!grid_valid(g))
        return ms_error_set(err, MS_EUSAGE, "grid not made by ms_grid_init()");
    if (block >= g->n * g->n)
        return ms_error_set(err, MS_EUSAGE, "block %" PRIu32 " outside a %" PRIu32 "x%" PRIu32
                            " grid", block, g->n, g->n);
    row = block / g->n;
    col = block % g->n;
    r->x = col * g->block_width;
    r->y = row * g->block_height;
    /* the last column and row take the remainder */
    r->width = col == g->n - 1 ? g->width - r->x : g->block_width;
    r->height = row == g->n - 1 ? g->height - r->y : g->block_height;
    return MS_OK;
}

ms_status ms_grid_zigzag(uint32_t n, uint32_t *order, size_t count, struct ms_error *err)
{
    uint32_t d, i = 0;

    if (n == 0 || n > MS_GRID_MAX_N)
        return ms_error_set(err, MS_EUSAGE, "grid of %" PRIu32 " blocks per side (1..%u)", n,
                            MS_GRID_MAX_N);
    if (!order || count != (size_t)n * n)
        return ms_error_set(err, MS_EUSAGE, "zig-zag of %" PRIu32 "x%" PRIu32
                            " blocks needs %" PRIu32 " entries, not %zu", n, n, n * n, count);
    /* anti-diagonal d holds the blocks with row + col = d; odd diagonals are
     * walked downwards (row rising), even ones upwards */
    for (d = 0; d + 1 < 2 * n; d++) {
        uint32_t first = d < n ? 0 : d - n + 1; /* smallest row on the diagonal */
        uint32_t last = d < n ? d : n - 1;      /* largest */
        uint32_t k;
        for (k = 0; k <= last - first; k++) {
            uint32_t row = (d & 1) ? first + k : last - k;
            order[i++] = row * n + (d - row);
        }
    }
    return MS_OK;
}

ms_status msi_grid_check_image(const struct ms_grid *g, const struct ms_image *img,
                               struct ms_error *err)
{
    ms_status st = ms_image_check(img, err);
    if (st != MS_OK)
        return st;
    if (!grid_valid(g))
        return ms_error_set(err, MS_EUSAGE, "grid not made by ms_grid_init()");
    if (img->width != g->width || img->height != g->height)
        return ms_error_set(err, MS_EUSAGE,
                            "image of %" PRIu32 "x%" PRIu32 " does not match a grid over %" PRIu32
                            "x%" PRIu32, img->width, img->height, g->width, g->height);
    return MS_OK;
}

/* Copy the rows of rectangle r between an image and a block-sized buffer. */
static void copy_rect(const struct ms_image *img, const struct ms_rect *r, void *blk,
                      bool to_block)
{
    uint64_t ss = msi_sample_size(img->type) * img->channels; /* bytes per pixel */
    uint64_t line = (uint64_t)r->width * ss;
    uint32_t y;

    for (y = 0; y < r->height; y++) {
        uint8_t *ip = (uint8_t *)img->data + ((uint64_t)(r->y + y) * img->width + r->x) * ss;
        uint8_t *bp = (uint8_t *)blk + (uint64_t)y * line;
        if (to_block)
            memcpy(bp, ip, (size_t)line);
        else
            memcpy(ip, bp, (size_t)line);
    }
}

ms_status msi_grid_block_of(const struct ms_grid *g, const struct ms_image *img, uint32_t block,
                            struct ms_rect *r, struct ms_error *err)
{
    ms_status st = msi_grid_check_image(g, img, err);
    return st == MS_OK ? ms_grid_block_rect(g, block, r, err) : st;
}

ms_status ms_grid_block_extract(const struct ms_grid *g, const struct ms_image *img,
                                uint32_t block, struct ms_image **out, struct ms_error *err)
{
    struct ms_rect r = {0, 0, 0, 0};
    ms_status st;

    *out = NULL;
    st = msi_grid_block_of(g, img, block, &r, err);
    if (st == MS_OK)
        st = ms_image_create(out, r.width, r.height, img->channels, img->type, err);
    if (st != MS_OK)
        return st;
    copy_rect(img, &r, (*out)->data, true);
    return MS_OK;
}

ms_status ms_grid_block_insert(const struct ms_grid *g, struct ms_image *img, uint32_t block,
                               const struct ms_image *blk, struct ms_error *err)
{
    struct ms_rect r = {0, 0, 0, 0};
    ms_status st;

    st = msi_grid_block_of(g, img, block, &r, err);
    if (st == MS_OK)
        st = ms_image_check(blk, err);
    if (st != MS_OK)
        return st;
    if (blk->width != r.width || blk->height != r.height || blk->channels != img->channels ||
        blk->type != img->type)
        return ms_error_set(err, MS_EUSAGE,
                            "block of %" PRIu32 "x%" PRIu32 "x%" PRIu32 " does not fit block %" PRIu32
                            " (%" PRIu32 "x%" PRIu32 "x%" PRIu32 " of the image's sample type)",
                            blk->width, blk->height, blk->channels, block, r.width, r.height,
                            img->channels);
    copy_rect(img, &r, blk->data, false);
    return MS_OK;
}
