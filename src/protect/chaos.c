/* chaos (seed 003): the logistic map x(n+1) = mu x(n) (1 - x(n)) as
 * keystream, confusion (a permutation of the pixels) then diffusion (each
 * stored value added to a keystream word and to the previous cipher value,
 * modulo 2^BitsStored), key (x0, mu), the paper's 0.4 and 3.87 by default.
 * Lossless for any Bits Stored: only the stored-value bits change, the bits
 * outside them stay. Insecure, for research: a 2 x 64-bit key whose map is
 * far from uniform, no IV (the same image always gives the same cipher
 * image), the default key is published. An HMAC (key derived from x0, mu and
 * a salt) over the header and the original pixels lets unprotect refuse a
 * wrong key or a changed file. Exact steps: docs/protect.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "protect/protect_internal.h"

#define SCHEME "chaos"
#define PAPER_X0 0.4
#define PAPER_MU 3.87
#define BLOB_LEN 64u

ms_status msi_chaos_check_key(double x0, double mu, struct ms_error *err)
{
    if (!(x0 > 0.0 && x0 < 1.0))
        return ms_error_set(err, MS_EUSAGE, "chaos key: x0 must lie strictly between 0 and 1");
    if (!(mu >= 3.57 && mu <= 4.0))
        return ms_error_set(err, MS_EUSAGE,
                            "chaos key: mu must lie in [3.57, 4] where the logistic map is "
                            "chaotic");
    return MS_OK;
}

ms_status msi_chaos_init(struct msi_chaos *c, double x0, double mu, const struct msi_samples *s,
                         struct ms_error *err)
{
    uint64_t n = s->pixels * s->spp;
    memset(c, 0, sizeof *c);
    c->x = x0;
    c->mu = mu;
    c->s = s;
    if (n > SIZE_MAX / sizeof(uint32_t) || s->pixels > UINT32_MAX)
        return ms_error_set(err, MS_ELIMIT, "frame too large for the chaos cipher");
    c->perm = malloc((size_t)s->pixels * sizeof *c->perm);
    c->vals = malloc((size_t)n * sizeof *c->vals);
    c->tmp = malloc((size_t)n * sizeof *c->tmp);
    if (!c->perm || !c->vals || !c->tmp) {
        msi_chaos_free(c);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    return MS_OK;
}

void msi_chaos_free(struct msi_chaos *c)
{
    uint64_t n = c->s ? c->s->pixels * c->s->spp : 0;
    if (c->vals)
        ms_crypto_wipe(c->vals, (size_t)n * sizeof *c->vals);
    if (c->tmp)
        ms_crypto_wipe(c->tmp, (size_t)n * sizeof *c->tmp);
    free(c->perm);
    free(c->vals);
    free(c->tmp);
    c->x = c->mu = 0;
    c->perm = c->vals = c->tmp = NULL;
}

/* Next keystream word: iterate the map, take floor(x * 2^32). */
static inline uint32_t draw(struct msi_chaos *c, bool *stuck)
{
    double prev = c->x;
    c->x = c->mu * c->x * (1.0 - c->x);
    if (!(c->x > 0.0 && c->x < 1.0) || c->x == prev)
        *stuck = true;
    return (uint32_t)(c->x * 4294967296.0);
}

/* Fisher-Yates: perm[i] swapped with perm[draw mod (i + 1)], i from N-1 down. */
static void permutation(struct msi_chaos *c, bool *stuck)
{
    uint32_t n = (uint32_t)c->s->pixels;
    for (uint32_t i = 0; i < n; i++)
        c->perm[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = draw(c, stuck) % (i + 1u), t = c->perm[i];
        c->perm[i] = c->perm[j];
        c->perm[j] = t;
    }
}

static void load(const struct msi_chaos *c, const uint8_t *frame, uint32_t *v)
{
    const struct msi_samples *s = c->s;
    for (uint64_t p = 0; p < s->pixels; p++)
        for (unsigned k = 0; k < s->spp; k++)
            v[p * s->spp + k] = (msi_sample_get(s, frame, p, k) & s->mask) >> s->shift;
}

static void store(const struct msi_chaos *c, uint8_t *frame, const uint32_t *v)
{
    const struct msi_samples *s = c->s;
    for (uint64_t p = 0; p < s->pixels; p++)
        for (unsigned k = 0; k < s->spp; k++) {
            uint32_t w = msi_sample_get(s, frame, p, k);
            msi_sample_put(s, frame, p, k, (w & ~s->mask) | ((v[p * s->spp + k] << s->shift) & s->mask));
        }
}

ms_status msi_chaos_frame(struct msi_chaos *c, uint8_t *frame, ms_cipher_dir dir,
                          struct ms_error *err)
{
    const struct msi_samples *s = c->s;
    uint64_t n = s->pixels * s->spp;
    uint32_t m = s->mask >> s->shift, prev;
    unsigned spp = s->spp;
    bool stuck = false;

    permutation(c, &stuck);
    prev = draw(c, &stuck) & m;
    if (dir == MS_ENCRYPT) {
        load(c, frame, c->vals);
        for (uint64_t p = 0; p < s->pixels; p++) /* confusion */
            for (unsigned k = 0; k < spp; k++)
                c->tmp[p * spp + k] = c->vals[(uint64_t)c->perm[p] * spp + k];
        for (uint64_t i = 0; i < n; i++) /* diffusion */
            prev = c->tmp[i] = (c->tmp[i] + (draw(c, &stuck) & m) + prev) & m;
        store(c, frame, c->tmp);
    } else {
        load(c, frame, c->tmp);
        for (uint64_t i = 0; i < n; i++) {
            uint32_t cv = c->tmp[i];
            c->tmp[i] = (cv - (draw(c, &stuck) & m) - prev) & m;
            prev = cv;
        }
        for (uint64_t p = 0; p < s->pixels; p++)
            for (unsigned k = 0; k < spp; k++)
                c->vals[(uint64_t)c->perm[p] * spp + k] = c->tmp[p * spp + k];
        store(c, frame, c->vals);
    }
    if (stuck)
        return ms_error_set(err, MS_EKEY,
                            "chaos key degenerate: the logistic map fell onto a fixed point");
    return MS_OK;
}

void msi_chaos_key_bytes(double x0, double mu, uint8_t out[16])
{
    uint64_t a, b;
    memcpy(&a, &x0, 8);
    memcpy(&b, &mu, 8);
    msi_wr64le(out, a);
    msi_wr64le(out + 8, b);
}

/* ---- the scheme --------------------------------------------------------------------------- */

struct job {
    struct msi_pfile pf;
    struct msi_samples s;
    struct msi_chaos c;
    ms_cipher_dir dir;
    bool sign_fill; /* high bits are sign copies: cleared in the cipher image */
    uint8_t mac[32];
    uint8_t hdr[32];
    struct msi_edit *edits; /* of the output pass */
    size_t ne;
};

static void chaos_key(const struct ms_protect_options *opt, double *x0, double *mu)
{
    *x0 = opt->chaos_x0 != 0 ? opt->chaos_x0 : PAPER_X0;
    *mu = opt->chaos_mu != 0 ? opt->chaos_mu : PAPER_MU;
}

static ms_status frame_fn(void *ctx, uint8_t *frame, uint32_t index, struct ms_error *err)
{
    struct job *j = ctx;
    ms_status st = msi_chaos_frame(&j->c, frame, j->dir, err);
    if (j->sign_fill) /* the sign copies would draw the image's sign map */
        msi_samples_set_high(&j->s, frame, j->dir == MS_DECRYPT);
    return st;
}

/* MAC key and key check value from (x0, mu) and the salt. */
static ms_status derive(double x0, double mu, const uint8_t salt[16], uint8_t mac[32],
                        uint8_t check[MS_KEY_CHECK_LEN], struct ms_error *err)
{
    uint8_t kb[16];
    ms_status st;
    msi_chaos_key_bytes(x0, mu, kb);
    st = msi_subkey(kb, sizeof kb, salt, 16, "chaos v1", mac, err);
    if (st == MS_OK)
        st = ms_key_check_value(mac, check, err);
    ms_crypto_wipe(kb, sizeof kb);
    return st;
}

static ms_status pixel_digest(const struct msi_pfile *pf, uint8_t out[32], struct ms_error *err)
{
    return ms_sha256(pf->map + pf->px_value_off, (size_t)pf->px_value_len, out, err);
}

static ms_status open_job(struct job *j, const char *in, bool protect, struct ms_error *err)
{
    ms_status st = msi_pfile_open_for(&j->pf, in, SCHEME, protect, BLOB_LEN, false, err);
    if (st == MS_OK)
        st = msi_samples_init(&j->s, &j->pf, SCHEME, err);
    return st;
}

static ms_status pass(void *ctx, struct msi_wr *w, struct ms_hash *pixels, struct ms_error *err)
{
    struct job *j = ctx;
    return msi_frames_pass(w, &j->pf, j->edits, j->ne, frame_fn, j, pixels, err);
}

/* Write out with edits; unprotect (expect_tag set) keeps it only when the
 * content tag matches. */
static ms_status write_job(struct job *j, const char *out, struct msi_edit *edits, size_t ne,
                           const uint8_t *expect_tag, struct ms_protect_report *rep,
                           struct ms_error *err)
{
    struct msi_check check = {j->mac, "medseal chaos v1", j->hdr, expect_tag};
    j->edits = edits;
    j->ne = ne;
    return msi_write_pass(&j->pf, out, pass, j, expect_tag ? &check : NULL, rep, err);
}

/* Salt, MAC key, key check and tag of a protect into blob. */
static ms_status seal_params(struct job *j, double x0, double mu, uint8_t *blob,
                             struct ms_error *err)
{
    uint8_t pd[32];
    ms_status st = ms_random_bytes(blob, 16, err);
    if (st == MS_OK)
        st = derive(x0, mu, blob, j->mac, blob + 16, err);
    if (st == MS_OK)
        st = msi_header_digest(&j->pf, NULL, 0, j->hdr, err);
    if (st == MS_OK)
        st = pixel_digest(&j->pf, pd, err);
    if (st == MS_OK)
        st = msi_content_tag(j->mac, "medseal chaos v1", j->hdr, pd, blob + 24, err);
    return st;
}

/* Fill, frame count and bits of an opened input into blob and params. */
static void describe(struct job *j, uint8_t *blob, char *params, size_t cap)
{
    unsigned kinds = msi_samples_fill_all(&j->pf, &j->s);
    j->sign_fill = !(kinds & MSI_FILL_ZERO) && (kinds & MSI_FILL_SIGN);
    msi_wr32le(blob + 56, j->pf.pi.frames);
    blob[60] = (uint8_t)j->s.bits;
    blob[61] = j->sign_fill;
    snprintf(params, cap,
             "cipher=logistic-map confusion+diffusion (INSECURE, research; seed 003) "
             "bits=%u frames=%u high-bits=%s key=(x0, mu) check=HMAC-SHA256",
             j->s.bits, j->pf.pi.frames, j->sign_fill ? "sign-copies-cleared" : "as-is");
}

static ms_status chaos_protect(const char *in, const char *out,
                               const struct ms_protect_options *opt,
                               struct ms_protect_report *rep, struct ms_error *err)
{
    struct job j;
    uint8_t blob[BLOB_LEN] = {0};
    struct msi_pblock_out pb = {0};
    struct msi_edit edits[2];
    double x0, mu;
    char params[256];
    ms_status st;

    memset(&j, 0, sizeof j);
    chaos_key(opt, &x0, &mu);
    if ((st = msi_chaos_check_key(x0, mu, err)) != MS_OK)
        return st;
    st = open_job(&j, in, true, err);
    if (st == MS_OK)
        st = seal_params(&j, x0, mu, blob, err);
    if (st == MS_OK) {
        describe(&j, blob, params, sizeof params);
        st = msi_pblock_encode(&j.pf, SCHEME, params, blob, sizeof blob, &pb, err);
    }
    if (st == MS_OK)
        st = msi_chaos_init(&j.c, x0, mu, &j.s, err);
    if (st == MS_OK) {
        j.dir = MS_ENCRYPT;
        st = write_job(&j, out, edits, msi_pblock_insertion(&pb, edits), NULL, rep, err);
    }
    if (st == MS_OK)
        snprintf(rep->note, sizeof rep->note, "insecure, research: logistic-map cipher%s",
                 (x0 == PAPER_X0 && mu == PAPER_MU) ? " under the paper's published key 0.4/3.87"
                                                    : "");
    msi_chaos_free(&j.c);
    msi_pblock_free(&pb);
    ms_crypto_wipe(j.mac, sizeof j.mac);
    msi_pfile_close(&j.pf);
    return st;
}

/* Key check, frame count and high-bit fill from the blob of an opened
 * protected file (only after open_job() succeeded: the blob is there and
 * holds at least BLOB_LEN bytes). */
static ms_status read_params(struct job *j, double x0, double mu, struct ms_error *err)
{
    const uint8_t *blob = j->pf.pb.blob;
    uint8_t check[MS_KEY_CHECK_LEN];
    ms_status st = derive(x0, mu, blob, j->mac, check, err);
    if (st == MS_OK && !ms_crypto_equal(check, blob + 16, MS_KEY_CHECK_LEN))
        st = ms_error_set(err, MS_EKEY, "wrong key: x0/mu do not match the ones used (--x0, --mu)");
    if (st == MS_OK && msi_rd32le(blob + 56) != j->pf.pi.frames)
        st = ms_error_set(err, MS_EKEY, "authentication failed: the number of frames changed");
    j->sign_fill = blob[61] == 1;
    return st;
}

static ms_status chaos_unprotect(const char *in, const char *out,
                                 const struct ms_protect_options *opt,
                                 struct ms_protect_report *rep, struct ms_error *err)
{
    struct job j;
    struct msi_edit edits[5];
    double x0, mu;
    size_t ne = 0;
    ms_status st;

    memset(&j, 0, sizeof j);
    chaos_key(opt, &x0, &mu);
    if ((st = msi_chaos_check_key(x0, mu, err)) != MS_OK)
        return st;
    st = open_job(&j, in, false, err);
    if (st == MS_OK)
        st = read_params(&j, x0, mu, err);
    if (st == MS_OK) {
        ne = msi_pblock_removal(&j.pf, edits);
        st = msi_header_digest(&j.pf, edits, ne, j.hdr, err);
    }
    if (st == MS_OK)
        st = msi_chaos_init(&j.c, x0, mu, &j.s, err);
    if (st == MS_OK) {
        j.dir = MS_DECRYPT;
        st = write_job(&j, out, edits, ne, j.pf.pb.blob + 24, rep, err);
    }
    msi_chaos_free(&j.c);
    ms_crypto_wipe(j.mac, sizeof j.mac);
    msi_pfile_close(&j.pf);
    return st;
}

const struct msi_scheme msi_scheme_chaos = {
    .info = {SCHEME, "seed 003", "insecure, research",
              "logistic-map confusion + diffusion, key (x0, mu); lossless, any bit depth", "", false},
    .protect = chaos_protect,
    .unprotect = chaos_unprotect,
};
