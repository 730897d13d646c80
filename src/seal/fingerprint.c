/* The DRR fingerprint (seed 000, steps 3 and 4): the DRR cut into a grid of
 * blocks taken in zig-zag order, each block AES-256-GCM encrypted under a key
 * derived from k, with a nonce unique under that key and its place in the
 * DRR bound as associated data. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "seal_internal.h"

#define BLOCK_KEY_INFO "medseal seal v1 drr blocks"
#define AAD_LABEL "medseal seal v1 block"
#define AAD_LEN (32 + sizeof AAD_LABEL - 1 + 11 * 4)

ms_status msi_block_key(const uint8_t k[MS_AES256_KEY_LEN], const uint8_t salt[32],
                        uint8_t out[MS_AES256_KEY_LEN], struct ms_error *err)
{
    return ms_hkdf_sha256(k, MS_AES256_KEY_LEN, salt, 32, BLOCK_KEY_INFO,
                          sizeof BLOCK_KEY_INFO - 1, out, MS_AES256_KEY_LEN, err);
}

/* Nonce: volume, view and zig-zag position. The block key is new for every
 * seal (random salt) and a seal holds one fingerprint per volume and view. */
static void nonce_of(const struct msi_sdrr *d, unsigned z, uint8_t iv[MS_GCM_IV_LEN])
{
    msi_wr32be(iv, (uint32_t)d->volume);
    msi_wr32be(iv + 4, (uint32_t)d->view);
    msi_wr32be(iv + 8, z);
}

/* Associated data: the salt and everything that places the block. */
static void aad_of(const struct msi_sdrr *d, unsigned z, const struct msi_sblock *b,
                   const uint8_t salt[32], uint8_t aad[AAD_LEN])
{
    uint32_t v[11] = {(uint32_t)d->volume, (uint32_t)d->view, d->grid, d->width, d->height, z,
                      b->block, b->rect.x, b->rect.y, b->rect.width, b->rect.height};
    uint8_t *p = aad;
    memcpy(p, salt, 32);
    p += 32;
    memcpy(p, AAD_LABEL, sizeof AAD_LABEL - 1);
    p += sizeof AAD_LABEL - 1;
    for (int i = 0; i < 11; i++, p += 4)
        msi_wr32be(p, v[i]);
}

static void pack_block(const struct ms_image *img, const struct ms_rect *r, uint8_t *out)
{
    const int32_t *px = img->data;
    for (uint32_t y = 0; y < r->height; y++)
        for (uint32_t x = 0; x < r->width; x++, out += 2)
            msi_wr16le(out, (uint16_t)(int16_t)px[(size_t)(r->y + y) * img->width + r->x + x]);
}

static void unpack_block(struct ms_image *img, const struct ms_rect *r, const uint8_t *in)
{
    int32_t *px = img->data;
    for (uint32_t y = 0; y < r->height; y++)
        for (uint32_t x = 0; x < r->width; x++, in += 2)
            px[(size_t)(r->y + y) * img->width + r->x + x] = (int16_t)msi_rd16le(in);
}

static ms_status seal_block(struct msi_sdrr *d, unsigned z, const struct ms_image *img,
                            const uint8_t bkey[MS_AES256_KEY_LEN], const uint8_t salt[32],
                            struct ms_error *err)
{
    struct msi_sblock *b = &d->blocks[z];
    size_t len = (size_t)b->rect.width * b->rect.height * 2;
    uint8_t iv[MS_GCM_IV_LEN], aad[AAD_LEN];
    ms_status st;

    if (!(b->ct = malloc(len + MS_GCM_TAG_LEN)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    b->ct_len = len + MS_GCM_TAG_LEN;
    pack_block(img, &b->rect, b->ct);
    nonce_of(d, z, iv);
    aad_of(d, z, b, salt, aad);
    st = ms_gcm_encrypt(bkey, iv, aad, sizeof aad, b->ct, len, b->ct, b->ct + len, err);
    return st;
}

static bool in_range(const struct ms_image *img)
{
    const int32_t *px = img->data;
    for (size_t i = 0; i < (size_t)img->width * img->height; i++)
        if (px[i] < INT16_MIN || px[i] > INT16_MAX)
            return false;
    return true;
}

ms_status msi_fingerprint_seal(struct msi_sdrr *d, const struct ms_image *img,
                               const uint8_t bkey[MS_AES256_KEY_LEN], const uint8_t salt[32],
                               struct ms_error *err)
{
    uint32_t order[64];
    struct ms_grid g;
    ms_status st;

    if (img->type != MS_SAMPLE_I32 || img->channels != 1 || img->width != d->width ||
        img->height != d->height || !in_range(img))
        return ms_error_set(err, MS_EINTERNAL, "DRR does not match its fingerprint");
    if ((st = ms_grid_init(&g, d->width, d->height, d->grid, err)) != MS_OK ||
        (st = ms_grid_zigzag(d->grid, order, (size_t)d->grid * d->grid, err)) != MS_OK)
        return st;
    if (!(d->blocks = calloc((size_t)d->grid * d->grid, sizeof *d->blocks)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (unsigned z = 0; st == MS_OK && z < d->grid * d->grid; z++) {
        d->blocks[z].block = order[z];
        st = ms_grid_block_rect(&g, order[z], &d->blocks[z].rect, err);
        if (st == MS_OK)
            st = seal_block(d, z, img, bkey, salt, err);
    }
    return st;
}

/* The blocks must be the grid's, in zig-zag order, of the right lengths. */
static ms_status check_tiling(const struct msi_sdrr *d, struct ms_error *err)
{
    uint32_t order[64];
    struct ms_grid g;
    struct ms_rect r;
    if (ms_grid_init(&g, d->width, d->height, d->grid, NULL) != MS_OK ||
        ms_grid_zigzag(d->grid, order, (size_t)d->grid * d->grid, NULL) != MS_OK)
        return ms_error_set(err, MS_EMALFORMED, "fingerprint grid does not fit its DRR");
    for (unsigned z = 0; z < d->grid * d->grid; z++) {
        const struct msi_sblock *b = &d->blocks[z];
        if (b->block != order[z] || ms_grid_block_rect(&g, b->block, &r, NULL) != MS_OK ||
            memcmp(&r, &b->rect, sizeof r) != 0 ||
            b->ct_len != (size_t)r.width * r.height * 2 + MS_GCM_TAG_LEN)
            return ms_error_set(err, MS_EMALFORMED,
                                "fingerprint block %u is not the grid's block in zig-zag order",
                                z + 1);
    }
    return MS_OK;
}

static ms_status open_block(const struct msi_sdrr *d, unsigned z, struct ms_image *img,
                            const uint8_t bkey[MS_AES256_KEY_LEN], const uint8_t salt[32],
                            struct ms_error *err)
{
    const struct msi_sblock *b = &d->blocks[z];
    size_t len = b->ct_len - MS_GCM_TAG_LEN;
    uint8_t iv[MS_GCM_IV_LEN], aad[AAD_LEN], *pt = malloc(len ? len : 1);
    ms_status st;

    if (!pt)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    nonce_of(d, z, iv);
    aad_of(d, z, b, salt, aad);
    st = ms_gcm_decrypt(bkey, iv, aad, sizeof aad, b->ct, len, b->ct + len, pt, err);
    if (st == MS_OK)
        unpack_block(img, &b->rect, pt);
    else
        ms_error_set(err, MS_EKEY, "DRR block %u of volume %zu (%s) fails authentication", z + 1,
                     d->volume + 1, ms_drr_view_name(d->view));
    free(pt);
    return st;
}

ms_status msi_fingerprint_open(const struct msi_sdrr *d, const uint8_t bkey[MS_AES256_KEY_LEN],
                               const uint8_t salt[32], struct ms_image **out,
                               struct ms_error *err)
{
    ms_status st = check_tiling(d, err);
    *out = NULL;
    if (st == MS_OK)
        st = ms_image_create(out, d->width, d->height, 1, MS_SAMPLE_I32, err);
    for (unsigned z = 0; st == MS_OK && z < d->grid * d->grid; z++)
        st = open_block(d, z, *out, bkey, salt, err);
    if (st != MS_OK) {
        ms_image_destroy(*out);
        *out = NULL;
    }
    return st;
}
