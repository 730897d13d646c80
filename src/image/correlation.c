/* Correlation coefficient of adjacent samples (a cipher image should have
 * none): over all pairs, or over N pairs drawn with a seeded generator.
 * Two passes (means, then centred sums) avoid the cancellation of the
 * one-pass formula on large offsets such as Hounsfield units; the random
 * pairs are drawn again from the same seed for the second pass. */
#include <math.h>

#include "image/image_internal.h"
#include "internal.h"

#define MAX_PAIRS (UINT64_C(1) << 32)

struct pairs {
    const struct ms_image *img;
    uint32_t dx, dy;
    uint64_t span;     /* columns that have a neighbour: width - dx */
    uint64_t total;    /* pairs in the image */
    uint64_t count;    /* pairs to visit */
    bool random;       /* draw pairs instead of walking them all */
    uint64_t seed;
    uint64_t state;    /* splitmix64 */
    uint64_t visited;
};

/* splitmix64 (Steele, Lea, Flood 2014) */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in 0 .. n-1 (n > 0) without modulo bias: reject the lowest
 * 2^64 mod n values. */
static uint64_t uniform_below(uint64_t *state, uint64_t n)
{
    uint64_t threshold = (0 - n) % n, r;
    do
        r = next_random(state);
    while (r < threshold);
    return r % n;
}

static void pairs_rewind(struct pairs *p)
{
    p->state = p->seed;
    p->visited = 0;
}

/* Next pair (sample and its neighbour); false when all were visited. */
static bool pairs_next(struct pairs *p, double *s, double *t)
{
    const struct ms_image *img = p->img;
    uint64_t k, pix, x, y, c, i, j;

    if (p->visited == p->count)
        return false;
    k = p->random ? uniform_below(&p->state, p->total) : p->visited;
    p->visited++;
    c = k % img->channels;
    pix = k / img->channels;
    x = pix % p->span;
    y = pix / p->span;
    i = (y * img->width + x) * img->channels + c;
    j = ((y + p->dy) * img->width + x + p->dx) * img->channels + c;
    *s = msi_sample(img, i);
    *t = msi_sample(img, j);
    return true;
}

static double pearson(struct pairs *p)
{
    double s, t, ms = 0, mt = 0, sst = 0, sss = 0, stt = 0;

    pairs_rewind(p);
    while (pairs_next(p, &s, &t)) {
        ms += s;
        mt += t;
    }
    ms /= (double)p->count;
    mt /= (double)p->count;
    pairs_rewind(p);
    while (pairs_next(p, &s, &t)) {
        sst += (s - ms) * (t - mt);
        sss += (s - ms) * (s - ms);
        stt += (t - mt) * (t - mt);
    }
    if (sss == 0 || stt == 0)
        return NAN;
    return sst / sqrt(sss * stt);
}

ms_status ms_image_correlation(const struct ms_image *img, ms_direction dir, uint64_t pairs,
                               uint64_t seed, double *r, struct ms_error *err)
{
    struct pairs p = {0};
    ms_status st = ms_image_check(img, err);

    if (st != MS_OK)
        return st;
    if (dir != MS_DIR_HORIZONTAL && dir != MS_DIR_VERTICAL && dir != MS_DIR_DIAGONAL)
        return ms_error_set(err, MS_EUSAGE, "unknown direction %d", (int)dir);
    if (pairs > MAX_PAIRS)
        return ms_error_set(err, MS_EUSAGE, "%" PRIu64 " pairs requested (at most 2^32)", pairs);
    p.img = img;
    p.dx = dir == MS_DIR_VERTICAL ? 0 : 1;
    p.dy = dir == MS_DIR_HORIZONTAL ? 0 : 1;
    p.span = (uint64_t)img->width - p.dx;
    p.total = p.span * (img->height - p.dy) * img->channels;
    if (p.total < 2)
        return ms_error_set(err, MS_EUSAGE, "image of %" PRIu32 "x%" PRIu32
                            " has fewer than 2 adjacent pairs", img->width, img->height);
    p.random = pairs > 0;
    p.count = pairs ? pairs : p.total;
    p.seed = seed;
    *r = pearson(&p);
    return MS_OK;
}
