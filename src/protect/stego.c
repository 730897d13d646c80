/* stego (seed 003): the image is encrypted with the logistic-map cipher
 * (chaos.c), the identifying attributes are taken out of the header, and the
 * paper's payload is hidden in the encrypted image:
 *
 *   stego key, 0x00, message, 0x00
 *   message = "medseal-stego v1\nimage-key x0=X mu=M\n" + patient metadata text
 *
 * bits most significant first. Mode lsb (the paper's, lossy): one bit in the
 * lowest stored bit of the first sample of each pixel; the restored image
 * differs where the bits landed (distortion measured at protect and reported
 * as PSNR). Mode highbits (lossless): the bits above High Bit of every sample
 * when Bits Stored < Bits Allocated and those bits are all zero or all copies
 * of the sign bit. unprotect reads the stego key back and compares it with
 * --stego-key-file (the paper's check), takes the image key from the message,
 * decrypts, restores the header, and releases the output only when an HMAC
 * (key from the stego key) over the expected output matches. The stego key
 * sits in clear in the image, as in the paper: anyone who reads the bits can
 * read it. Exact layout: docs/protect.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protect/protect_internal.h"

#define SCHEME "stego"
#define BLOB_LEN 56u
#define MODE_LSB 1u
#define MODE_HIGH 2u
#define MAX_KEY 1024u
#define MAX_PAYLOAD (4u << 20)
#define MSG_HEAD "medseal-stego v1\n"

struct job {
    struct msi_pfile pf;
    struct msi_samples s;
    struct msi_chaos enc, dec;
    unsigned mode;
    bool sign_fill;
    uint64_t per_frame;        /* payload bits a frame holds */
    uint8_t *payload;          /* protect: bits to embed */
    uint64_t payload_bits;
    char key[MAX_KEY];
    size_t key_len;
    double x0, mu;
    uint8_t mac[32];
    struct ms_hash *expect;    /* protect: SHA-256 of what unprotect will write */
    uint8_t *orig;             /* protect: scratch */
    double sq_err;
    uint64_t changed;
};

/* ---- payload positions --------------------------------------------------------------- */

/* Word (pixel, channel) and bit of local position k of a frame. */
static void position(const struct job *j, uint64_t k, uint64_t *p, unsigned *c, unsigned *bit)
{
    if (j->mode == MODE_LSB) { /* the first sample of each pixel (4:2:2: Y1, Y2 of a unit) */
        *p = k / j->s.ppu;
        *c = (unsigned)(k % j->s.ppu);
        *bit = j->s.shift;
        return;
    }
    {
        unsigned hb = msi_samples_high_bits(&j->s), top = j->s.shift + j->s.bits;
        uint64_t word = k / hb;
        *bit = top + (unsigned)(k % hb);
        *p = word / j->s.spp;
        *c = (unsigned)(word % j->s.spp);
    }
}

static void embed(struct job *j, uint8_t *frame, uint32_t f)
{
    uint64_t first = (uint64_t)f * j->per_frame;
    for (uint64_t k = 0; k < j->per_frame && first + k < j->payload_bits; k++) {
        uint64_t g = first + k, p;
        unsigned c, bit, v = (j->payload[g / 8] >> (7 - g % 8)) & 1u;
        uint32_t w;
        position(j, k, &p, &c, &bit);
        w = msi_sample_get(&j->s, frame, p, c);
        msi_sample_put(&j->s, frame, p, c, (w & ~(1u << bit)) | ((uint32_t)v << bit));
    }
}

/* Read the payload back from the cipher frames: key and message. */
static ms_status extract(struct job *j, uint8_t **out, size_t *len, struct ms_error *err)
{
    uint64_t cap = j->per_frame * j->pf.pi.frames, g = 0;
    size_t n = 0, zeros = 0, max = MAX_PAYLOAD;
    uint8_t *buf = malloc(max), byte = 0;
    const uint8_t *frame = j->pf.map + j->pf.px_value_off;

    if (!buf)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (; g < cap && zeros < 2 && n < max; g++) {
        uint64_t p, k = g % j->per_frame;
        unsigned c, bit;
        if (g && k == 0)
            frame += j->pf.pi.frame_bytes;
        position(j, k, &p, &c, &bit);
        byte = (uint8_t)((byte << 1) | ((msi_sample_get(&j->s, frame, p, c) >> bit) & 1u));
        if (g % 8 == 7) {
            buf[n++] = byte;
            zeros += byte == 0;
        }
    }
    if (zeros < 2) {
        free(buf);
        return ms_error_set(err, MS_EKEY,
                            "no hidden payload found (image changed, or not this stego mode)");
    }
    *out = buf;
    *len = n;
    return MS_OK;
}

/* ---- keys ----------------------------------------------------------------------------------- */

static ms_status read_stego_key(struct job *j, const struct ms_protect_options *opt,
                                struct ms_error *err)
{
    ms_status st;
    if (!opt->stego_key_file || !*opt->stego_key_file)
        return ms_error_set(err, MS_EUSAGE, "stego needs a stego key: --stego-key-file FILE");
    st = ms_passphrase_read_file(opt->stego_key_file, j->key, sizeof j->key, &j->key_len, err);
    if (st != MS_OK) {
        ms_error_prefix(err, "stego key file");
        return st;
    }
    if (strlen(j->key) != j->key_len)
        return ms_error_set(err, MS_EUSAGE, "stego key file: the key must not hold a NUL byte");
    return MS_OK;
}

static ms_status mac_key(struct job *j, const uint8_t salt[16], struct ms_error *err)
{
    return msi_subkey((const uint8_t *)j->key, j->key_len, salt, 16, "stego v1", j->mac, err);
}

/* Image key: --x0/--mu, else random (it travels in the payload). */
static ms_status image_key(struct job *j, const struct ms_protect_options *opt,
                           struct ms_error *err)
{
    uint8_t r[16];
    ms_status st;
    if (opt->chaos_x0 != 0 || opt->chaos_mu != 0) {
        j->x0 = opt->chaos_x0 != 0 ? opt->chaos_x0 : 0.4;
        j->mu = opt->chaos_mu != 0 ? opt->chaos_mu : 3.87;
        return msi_chaos_check_key(j->x0, j->mu, err);
    }
    st = ms_random_bytes(r, sizeof r, err);
    j->x0 = 0.01 + 0.98 * ((double)(msi_rd64le(r) >> 11) / 9007199254740992.0);
    j->mu = 3.9 + 0.1 * ((double)(msi_rd64le(r + 8) >> 11) / 9007199254740992.0);
    ms_crypto_wipe(r, sizeof r);
    return st;
}

/* ---- common ----------------------------------------------------------------------------------- */

static ms_status choose_mode(struct job *j, const char *mode, struct ms_error *err)
{
    if (!mode || !strcmp(mode, "lsb"))
        j->mode = MODE_LSB;
    else if (!strcmp(mode, "highbits"))
        j->mode = MODE_HIGH;
    else
        return ms_error_set(err, MS_EUSAGE, "--stego-mode: lsb or highbits");
    return MS_OK;
}

static ms_status setup(struct job *j, struct ms_error *err)
{
    unsigned hb = msi_samples_high_bits(&j->s);
    if (j->mode == MODE_HIGH && hb == 0)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "--stego-mode highbits needs Bits Stored < Bits Allocated (here %u of "
                            "%u); use lsb",
                            j->s.bits, j->s.bits_alloc);
    j->per_frame = j->mode == MODE_LSB ? j->s.pixels * j->s.ppu : j->s.pixels * j->s.spp * hb;
    return MS_OK;
}

static ms_status open_job(struct job *j, const char *in, bool protect, struct ms_error *err)
{
    ms_status st = msi_pfile_open_for(&j->pf, in, SCHEME, protect, BLOB_LEN, false, err);
    if (st == MS_OK)
        st = msi_samples_init(&j->s, &j->pf, SCHEME, err);
    return st;
}

static void close_job(struct job *j)
{
    msi_chaos_free(&j->enc);
    msi_chaos_free(&j->dec);
    if (j->payload)
        ms_crypto_wipe(j->payload, (size_t)(j->payload_bits / 8));
    free(j->payload);
    free(j->orig);
    ms_hash_destroy(j->expect);
    ms_crypto_wipe(j->key, sizeof j->key);
    ms_crypto_wipe(j->mac, sizeof j->mac);
    j->x0 = j->mu = 0;
    msi_pfile_close(&j->pf);
}

/* Undo a stego frame in place: payload bits out of the high bits, decrypt,
 * sign copies back. */
static ms_status undo_frame(struct job *j, struct msi_chaos *c, uint8_t *frame,
                            struct ms_error *err)
{
    ms_status st;
    if (j->mode == MODE_HIGH)
        msi_samples_set_high(&j->s, frame, false);
    st = msi_chaos_frame(c, frame, MS_DECRYPT, err);
    if (j->sign_fill)
        msi_samples_set_high(&j->s, frame, true);
    return st;
}

/* ---- protect ------------------------------------------------------------------------------------ */

static ms_status build_payload(struct job *j, const struct msi_idattrs *ia, struct ms_error *err)
{
    char head[128];
    int hn = snprintf(head, sizeof head, MSG_HEAD "image-key x0=%.17g mu=%.17g\n", j->x0, j->mu);
    size_t n = j->key_len + 1 + (size_t)hn + ia->text_len + 1;
    uint64_t cap = j->per_frame * j->pf.pi.frames;

    if (n > MAX_PAYLOAD || (uint64_t)n * 8 > cap)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "the payload (%zu bytes) does not fit in the image (%llu bytes in "
                            "mode %s)",
                            n, (unsigned long long)(cap / 8), j->mode == MODE_LSB ? "lsb" : "highbits");
    j->payload = malloc(n);
    if (!j->payload)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    memcpy(j->payload, j->key, j->key_len);
    j->payload[j->key_len] = 0;
    memcpy(j->payload + j->key_len + 1, head, (size_t)hn);
    memcpy(j->payload + j->key_len + 1 + hn, ia->text, ia->text_len);
    j->payload[n - 1] = 0;
    j->payload_bits = (uint64_t)n * 8;
    ms_crypto_wipe(head, sizeof head);
    return MS_OK;
}

/* Distortion of the simulated restore against the original field values. */
static void measure(struct job *j, const uint8_t *orig, const uint8_t *back)
{
    const struct msi_samples *s = &j->s;
    for (uint64_t p = 0; p < s->pixels; p++)
        for (unsigned c = 0; c < s->spp; c++) {
            uint32_t a = msi_sample_get(s, orig, p, c), b = msi_sample_get(s, back, p, c);
            double d = (double)((a & s->mask) >> s->shift) - (double)((b & s->mask) >> s->shift);
            if (a != b) {
                j->changed++;
                j->sq_err += d * d;
            }
        }
}

static ms_status protect_frame(void *ctx, uint8_t *frame, uint32_t f, struct ms_error *err)
{
    struct job *j = ctx;
    size_t fb = (size_t)j->pf.pi.frame_bytes;
    ms_status st;

    memcpy(j->orig, frame, fb);
    st = msi_chaos_frame(&j->enc, frame, MS_ENCRYPT, err);
    if (j->sign_fill || j->mode == MODE_HIGH)
        msi_samples_set_high(&j->s, frame, false);
    embed(j, frame, f);
    if (st != MS_OK)
        return st;
    /* what unprotect will give back for this frame */
    memcpy(j->orig + fb, frame, fb);
    st = undo_frame(j, &j->dec, j->orig + fb, err);
    if (st == MS_OK)
        measure(j, j->orig, j->orig + fb);
    if (st == MS_OK && j->mode == MODE_HIGH && j->changed)
        st = ms_error_set(err, MS_EINTERNAL, "highbits round trip is not exact");
    if (st == MS_OK)
        st = ms_hash_update(j->expect, j->orig + fb, fb, err);
    return st;
}

static ms_status check_fill(struct job *j, struct ms_error *err)
{
    unsigned kinds = msi_samples_fill_all(&j->pf, &j->s);
    j->sign_fill = !(kinds & MSI_FILL_ZERO) && (kinds & MSI_FILL_SIGN);
    if (j->mode == MODE_HIGH && !kinds)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "--stego-mode highbits: the bits above High Bit hold data (not zero "
                            "nor sign copies); use lsb");
    return MS_OK;
}

static ms_status write_protected(struct job *j, const char *out, struct msi_idattrs *ia,
                                 uint8_t *blob, struct ms_protect_report *rep,
                                 struct ms_error *err)
{
    struct msi_pblock_out pb = {0};
    struct msi_edit blk[2], *edits = NULL;
    struct msi_wr *w = malloc(sizeof *w);
    uint8_t digest[32];
    char params[200];
    size_t ne = 0, k;
    ms_status st = w ? MS_OK : ms_error_set(err, MS_ENOMEM, "out of memory");

    snprintf(params, sizeof params,
             "image=logistic-map cipher; hidden=stego key, image key, patient metadata text "
             "(%zu attributes) mode=%s (INSECURE: payload readable by anyone)",
             ia->count, j->mode == MODE_LSB ? "lsb, lossy" : "highbits, lossless");
    if (st == MS_OK)
        st = msi_pblock_encode(&j->pf, SCHEME, params, blob, BLOB_LEN, &pb, err);
    if (st == MS_OK)
        st = msi_idattrs_edits(ia, blk, msi_pblock_insertion(&pb, blk), &edits, &ne, err);
    if (st == MS_OK && (st = msi_wr_open(w, out, err)) == MS_OK) {
        st = ms_hash_update(j->expect, j->pf.map, (size_t)j->pf.px_value_off, err);
        if (st == MS_OK)
            st = msi_frames_pass(w, &j->pf, edits, ne, protect_frame, j, NULL, err);
        if (st == MS_OK) /* padding after the frames, and the rest: as they are */
            st = ms_hash_update(j->expect,
                                j->pf.map + j->pf.px_value_off +
                                    (uint64_t)j->pf.pi.frames * j->pf.pi.frame_bytes,
                                (size_t)(j->pf.size - j->pf.px_value_off -
                                         (uint64_t)j->pf.pi.frames * j->pf.pi.frame_bytes),
                                err);
        if (st == MS_OK)
            st = ms_hash_final(j->expect, digest, err);
        if (st == MS_OK)
            st = msi_content_tag(j->mac, "medseal stego v1", digest, digest, blob + 24, err);
        for (k = 0; k < ne && edits[k].ins != pb.bytes + pb.creator_len; k++)
            ;
        if (st == MS_OK && k < ne)
            st = msi_wr_patch(w, edits[k].out_at + (pb.blob_pos - pb.creator_len), blob,
                              BLOB_LEN, err);
        rep->bytes_out = w->pos;
        st = msi_wr_finish(w, st, err);
    }
    msi_pblock_free(&pb);
    free(edits);
    free(w);
    return st;
}

static void report(struct job *j, struct ms_protect_report *rep)
{
    uint64_t n = j->s.pixels * j->s.spp * j->pf.pi.frames;
    double peak = ldexp(1.0, (int)j->s.bits) - 1.0, mse = n ? j->sq_err / (double)n : 0;
    if (j->mode == MODE_HIGH)
        snprintf(rep->note, sizeof rep->note,
                 "insecure: stego highbits (lossless), %llu payload bits hidden",
                 (unsigned long long)j->payload_bits);
    else if (mse == 0)
        snprintf(rep->note, sizeof rep->note,
                 "insecure: stego lsb, %llu payload bits, restore exact by chance (PSNR inf)",
                 (unsigned long long)j->payload_bits);
    else
        snprintf(rep->note, sizeof rep->note,
                 "insecure: stego lsb is lossy: %llu payload bits, %llu samples will differ, "
                 "MSE %.3g, PSNR %.2f dB",
                 (unsigned long long)j->payload_bits, (unsigned long long)j->changed, mse,
                 10.0 * log10(peak * peak / mse));
}

/* Input, payload, keys and scratch of a protect. */
static ms_status prepare_protect(struct job *j, const char *in, struct msi_idattrs *ia,
                                 uint8_t *blob, struct ms_error *err)
{
    ms_status st = open_job(j, in, true, err);
    if (st == MS_OK)
        st = setup(j, err);
    if (st == MS_OK)
        st = check_fill(j, err);
    if (st == MS_OK)
        st = msi_idattrs_take(&j->pf, ia, err);
    if (st == MS_OK)
        st = build_payload(j, ia, err);
    if (st == MS_OK)
        st = ms_random_bytes(blob + 8, 16, err);
    if (st == MS_OK)
        st = mac_key(j, blob + 8, err);
    if (st == MS_OK)
        st = msi_chaos_init(&j->enc, j->x0, j->mu, &j->s, err);
    if (st == MS_OK)
        st = msi_chaos_init(&j->dec, j->x0, j->mu, &j->s, err);
    if (st == MS_OK && !(j->orig = malloc(2 * (size_t)j->pf.pi.frame_bytes)))
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st == MS_OK)
        st = ms_hash_create(&j->expect, MS_HASH_SHA256, err);
    return st;
}

static ms_status stego_protect(const char *in, const char *out,
                               const struct ms_protect_options *opt,
                               struct ms_protect_report *rep, struct ms_error *err)
{
    struct job j;
    struct msi_idattrs ia = {0};
    uint8_t blob[BLOB_LEN] = {0};
    ms_status st;

    memset(&j, 0, sizeof j);
    if ((st = choose_mode(&j, opt->stego_mode, err)) != MS_OK ||
        (st = read_stego_key(&j, opt, err)) != MS_OK || (st = image_key(&j, opt, err)) != MS_OK) {
        close_job(&j);
        return st;
    }
    st = prepare_protect(&j, in, &ia, blob, err);
    if (st == MS_OK) {
        blob[0] = (uint8_t)j.mode;
        blob[1] = j.sign_fill;
        msi_wr32le(blob + 4, j.pf.pi.frames);
        rep->bytes_in = j.pf.size;
        st = write_protected(&j, out, &ia, blob, rep, err);
    }
    if (st == MS_OK)
        report(&j, rep);
    msi_idattrs_free(&ia);
    close_job(&j);
    return st;
}

/* ---- unprotect ------------------------------------------------------------------------------------ */

/* Check the stego key (the paper's step 4), then read the image key and the
 * metadata text from the message. */
static ms_status open_payload(struct job *j, const uint8_t *p, size_t n, const char **text,
                              size_t *text_len, struct ms_error *err)
{
    const uint8_t *z = memchr(p, 0, n);
    size_t klen = (size_t)(z - p), hl = strlen(MSG_HEAD);
    const char *m = (const char *)z + 1, *nl;
    size_t mlen = n - klen - 2; /* without the two NULs */
    bool same = klen == j->key_len;

    same &= ms_crypto_equal(p, j->key, klen < j->key_len ? klen : j->key_len);
    if (!same)
        return ms_error_set(err, MS_EKEY, "wrong stego key: it does not match the hidden one");
    if (mlen < hl || memcmp(m, MSG_HEAD, hl) != 0 ||
        !(nl = memchr(m + hl, '\n', mlen - hl)) ||
        sscanf(m + hl, "image-key x0=%lf mu=%lf", &j->x0, &j->mu) != 2)
        return ms_error_set(err, MS_EKEY, "hidden message damaged: no image key");
    *text = nl + 1;
    *text_len = mlen - (size_t)(nl + 1 - m);
    return msi_chaos_check_key(j->x0, j->mu, err) == MS_OK
               ? MS_OK
               : ms_error_set(err, MS_EKEY, "hidden message damaged: bad image key");
}

static ms_status unprotect_frame(void *ctx, uint8_t *frame, uint32_t f, struct ms_error *err)
{
    struct job *j = ctx;
    return undo_frame(j, &j->dec, frame, err);
}

static ms_status restore_pass(void *ctx, struct msi_wr *w, struct msi_edit *edits, size_t ne,
                              struct ms_error *err)
{
    struct job *j = ctx;
    return msi_frames_pass(w, &j->pf, edits, ne, unprotect_frame, j, NULL, err);
}

static ms_status output_tag(void *ctx, const uint8_t digest[32], uint8_t tag[32],
                            struct ms_error *err)
{
    struct job *j = ctx;
    return msi_content_tag(j->mac, "medseal stego v1", digest, digest, tag, err);
}

static ms_status write_restored(struct job *j, const char *out, const char *text, size_t tlen,
                                struct ms_protect_report *rep, struct ms_error *err)
{
    struct msi_restore r = {text, tlen, restore_pass, output_tag, j, j->pf.pb.blob + 24};
    return msi_write_restored(&j->pf, out, &r, rep, err);
}

static ms_status stego_unprotect(const char *in, const char *out,
                                 const struct ms_protect_options *opt,
                                 struct ms_protect_report *rep, struct ms_error *err)
{
    struct job j;
    uint8_t *payload = NULL;
    size_t plen = 0, tlen = 0;
    const char *text = NULL;
    ms_status st;

    memset(&j, 0, sizeof j);
    if ((st = read_stego_key(&j, opt, err)) != MS_OK) {
        close_job(&j);
        return st;
    }
    st = open_job(&j, in, false, err);
    if (st == MS_OK) {
        j.mode = j.pf.pb.blob[0];
        j.sign_fill = j.pf.pb.blob[1] == 1;
        /* every byte of the head is known: mode, sign fill, reserved 2-3 (zero) */
        if ((j.mode != MODE_LSB && j.mode != MODE_HIGH) || j.pf.pb.blob[1] > 1 ||
            j.pf.pb.blob[2] || j.pf.pb.blob[3] ||
            msi_rd32le(j.pf.pb.blob + 4) != j.pf.pi.frames)
            st = ms_error_set(err, MS_EKEY, "stego parameters changed after protection");
    }
    if (st == MS_OK)
        st = setup(&j, err);
    if (st == MS_OK)
        st = extract(&j, &payload, &plen, err);
    if (st == MS_OK)
        st = open_payload(&j, payload, plen, &text, &tlen, err);
    if (st == MS_OK)
        st = mac_key(&j, j.pf.pb.blob + 8, err);
    if (st == MS_OK)
        st = msi_chaos_init(&j.dec, j.x0, j.mu, &j.s, err);
    if (st == MS_OK) {
        rep->bytes_in = j.pf.size;
        st = write_restored(&j, out, text, tlen, rep, err);
    }
    if (st == MS_OK && j.mode == MODE_LSB)
        snprintf(rep->note, sizeof rep->note,
                 "stego lsb is lossy: pixel values differ from the original where bits were hidden");
    if (payload)
        ms_crypto_wipe(payload, plen);
    free(payload);
    close_job(&j);
    return st;
}

const struct msi_scheme msi_scheme_stego = {
    .info = {SCHEME, "seed 003", "paper mode",
              "patient metadata + image key hidden in the chaos-encrypted image (lsb or highbits)", "",
              false},
    .protect = stego_protect,
    .unprotect = stego_unprotect,
};
