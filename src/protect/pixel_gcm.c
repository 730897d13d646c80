/* pixel-gcm (seed 001): the Pixel Data value encrypted with AES-256-GCM,
 * frame by frame (each frame its own 96-bit IV and 128-bit tag, so frames
 * decrypt independently), the rest of the file bound as additional
 * authenticated data through its SHA-256. The output is still a valid DICOM
 * file; viewers show noise. Keys: -k (HKDF per file with a random salt,
 * random IVs) or the paper's --key-from-header (Whirlpool of SOP Instance UID
 * and Patient Name; key and IV cut from the digest: insecure, since the
 * header stays readable). Layout: docs/formats/protected-dicom.md. */
#include <stdlib.h>
#include <string.h>

#include "protect/protect_internal.h"

#define SCHEME "pixel-gcm"
#define AAD_LABEL "medseal pixel-gcm v1" /* 20 bytes */
#define BLOB_HEAD 64u
#define UNIT_BYTES (MS_GCM_IV_LEN + MS_GCM_TAG_LEN)
#define CHUNK (1u << 20)
#define KEY_FILE 1u
#define KEY_HEADER 2u
#define FLAG_ENCAP 1u

/* The encrypted units (frames): each a run of byte ranges of the input. */
struct units {
    size_t n;
    size_t *first;          /* n + 1 entries: ranges of unit i are first[i] .. first[i+1]-1 */
    struct msi_extent *r;
};

static void units_free(struct units *u)
{
    free(u->first);
    free(u->r);
    memset(u, 0, sizeof *u);
}

static ms_status native_units(const struct msi_pfile *pf, struct units *u, struct ms_error *err)
{
    const struct ms_pixel_info *pi = &pf->pi;
    uint64_t bits = (uint64_t)pi->rows * pi->columns * pi->samples_per_pixel * pi->bits_allocated;
    size_t n = (bits % 8 == 0) ? pi->frames : 1; /* 1-bit frames not on byte limits: one unit */
    uint64_t fb = n == 1 ? pf->px_value_len : pi->frame_bytes;

    if (pf->px_value_len == 0)
        return ms_error_set(err, MS_EUNSUPPORTED, "%s: Pixel Data is empty", SCHEME);
    u->first = calloc(n + 1, sizeof *u->first);
    u->r = calloc(n, sizeof *u->r);
    if (!u->first || !u->r)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    u->n = n;
    for (size_t i = 0; i < n; i++) {
        u->first[i] = i;
        u->r[i].off = pf->px_value_off + i * fb;
        u->r[i].len = (i + 1 == n) ? pf->px_value_off + pf->px_value_len - u->r[i].off : fb;
    }
    u->first[n] = n;
    return MS_OK;
}

static ms_status encap_units(const struct msi_pfile *pf, struct units *u, struct ms_error *err)
{
    const struct ms_element *px = pf->px;
    size_t nfr = pf->pi.frames, nr = px->nfrags ? px->nfrags - 1 : 0, next = 1;
    struct ms_encap_frame *fr;
    ms_status st;

    if (nr == 0)
        return ms_error_set(err, MS_EUNSUPPORTED, "%s: encapsulated Pixel Data has no fragment",
                            SCHEME);
    fr = calloc(nfr, sizeof *fr);
    u->first = calloc(nfr + 1, sizeof *u->first);
    u->r = calloc(nr, sizeof *u->r);
    if (!fr || !u->first || !u->r) {
        free(fr);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    st = ms_encap_frames(pf->ds, fr, (uint32_t)nfr, err);
    for (size_t i = 0; st == MS_OK && i < nfr; i++) {
        if (fr[i].first_fragment != next || fr[i].fragment_count == 0)
            st = ms_error_set(err, MS_EUNSUPPORTED,
                              "%s: frames do not cover the fragments in order", SCHEME);
        u->first[i] = next - 1;
        next += fr[i].fragment_count;
    }
    if (st == MS_OK && next != px->nfrags)
        st = ms_error_set(err, MS_EUNSUPPORTED, "%s: fragments outside any frame", SCHEME);
    free(fr);
    if (st != MS_OK)
        return st;
    u->n = nfr;
    u->first[nfr] = nr;
    for (size_t i = 0; i < nr; i++)
        u->r[i] = (struct msi_extent){px->frags[i + 1].offset + 8, px->frags[i + 1].len};
    return MS_OK;
}

static ms_status make_units(const struct msi_pfile *pf, struct units *u, struct ms_error *err)
{
    ms_status st;
    memset(u, 0, sizeof *u);
    st = pf->pi.encapsulated ? encap_units(pf, u, err) : native_units(pf, u, err);
    if (st == MS_OK && (uint64_t)u->n * UNIT_BYTES + BLOB_HEAD > MSI_PB_MAX_BLOB)
        st = ms_error_set(err, MS_ELIMIT, "%s: too many frames (%zu)", SCHEME, u->n);
    if (st != MS_OK)
        units_free(u);
    return st;
}

/* ---- keys ---------------------------------------------------------------------------- */

static size_t raw_value(const struct ms_dataset *ds, uint32_t tag, const uint8_t **v)
{
    const struct ms_element *el = ms_dataset_get(ds, tag);
    size_t n;
    *v = el ? ms_element_value(el) : NULL;
    if (!*v)
        return 0;
    n = (size_t)ms_element_length(el);
    while (n && ((*v)[n - 1] == ' ' || (*v)[n - 1] == '\0'))
        n--;
    return n;
}

/* The paper's key: Whirlpool(SOP Instance UID || Patient Name), key = bytes
 * 0..31, IV = bytes 32..43. */
static ms_status header_key(const struct msi_pfile *pf, uint8_t key[32], uint8_t iv0[12],
                            struct ms_error *err)
{
    const uint8_t *uid, *name;
    size_t nu = raw_value(pf->ds, MS_TAG(0x0008, 0x0018), &uid);
    size_t nn = raw_value(pf->ds, MS_TAG(0x0010, 0x0010), &name);
    uint8_t *msg, dig[MS_WHIRLPOOL_LEN];
    ms_status st;

    if (nu == 0)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "--key-from-header needs a SOP Instance UID (0008,0018)");
    msg = malloc(nu + nn + 1);
    if (!msg)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    memcpy(msg, uid, nu);
    if (nn)
        memcpy(msg + nu, name, nn);
    st = ms_hash_compute(MS_HASH_WHIRLPOOL, msg, nu + nn, dig, err);
    free(msg);
    if (st == MS_OK) {
        memcpy(key, dig, 32);
        memcpy(iv0, dig + 32, 12);
    }
    ms_crypto_wipe(dig, sizeof dig);
    return st;
}

static void header_iv(const uint8_t iv0[12], size_t i, uint8_t iv[12])
{
    memcpy(iv, iv0, 12);
    msi_wr32be(iv + 8, msi_rd32be(iv0 + 8) + (uint32_t)i);
}

static void unit_aad(uint8_t aad[60], size_t i, size_t n, const uint8_t hdr[32])
{
    memcpy(aad, AAD_LABEL, 20);
    msi_wr32le(aad + 20, (uint32_t)i);
    msi_wr32le(aad + 24, (uint32_t)n);
    memcpy(aad + 28, hdr, 32);
}

/* ---- the pass over the pixel payload ---------------------------------------------------- */

struct pass {
    struct msi_pfile *pf;
    struct msi_wr *w;
    struct units u;
    struct ms_gcm *g;
    uint8_t *buf;
    uint8_t *blob;          /* IVs and tags, BLOB_HEAD + n * UNIT_BYTES */
    uint8_t hdr[MS_SHA256_LEN];
    ms_cipher_dir dir;
    size_t failed_unit;
    const struct ms_protect_options *opt;
    struct ms_protect_report *rep;
};

static ms_status crypt_range(struct pass *p, const struct msi_extent *r, struct ms_error *err)
{
    uint64_t done = 0;
    while (done < r->len) {
        size_t n = (size_t)((r->len - done) > CHUNK ? CHUNK : r->len - done);
        ms_status st = ms_gcm_update(p->g, p->pf->map + r->off + done, n, p->buf, err);
        if (st != MS_OK)
            return st;
        msi_wr_put(p->w, p->buf, n);
        msi_pfile_done(p->pf, r->off + done, n);
        done += n;
    }
    return MS_OK;
}

static ms_status crypt_unit(struct pass *p, size_t i, uint64_t *pos, struct ms_error *err)
{
    uint8_t *iv = p->blob + BLOB_HEAD + i * UNIT_BYTES, *tag = iv + MS_GCM_IV_LEN, aad[60];
    ms_status st = ms_gcm_restart(p->g, iv, err);

    unit_aad(aad, i, p->u.n, p->hdr);
    if (st == MS_OK)
        st = ms_gcm_aad(p->g, aad, sizeof aad, err);
    for (size_t k = p->u.first[i]; st == MS_OK && k < p->u.first[i + 1]; k++) {
        const struct msi_extent *r = &p->u.r[k];
        st = msi_copy_range(p->w, p->pf, *pos, r->off, NULL, 0, NULL, err); /* item headers */
        if (st == MS_OK)
            st = crypt_range(p, r, err);
        *pos = r->off + r->len;
    }
    if (st != MS_OK)
        return st;
    if (p->dir == MS_ENCRYPT)
        return ms_gcm_final_encrypt(p->g, tag, err);
    st = ms_gcm_final_decrypt(p->g, tag, err);
    if (st == MS_EKEY)
        p->failed_unit = i;
    return st;
}

/* Copy the input to the output: edits before the pixel payload, the units
 * through the cipher, the rest as it is. */
static ms_status run_pass(struct pass *p, const uint8_t key[32], struct msi_edit *edits,
                          size_t nedits, struct ms_error *err)
{
    uint64_t pos = p->u.r[0].off;
    ms_status st;

    p->buf = malloc(CHUNK);
    if (!p->buf)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    st = ms_gcm_create(&p->g, p->dir, key, p->blob + BLOB_HEAD, err);
    if (st == MS_OK)
        st = msi_copy_range(p->w, p->pf, 0, pos, edits, nedits, NULL, err);
    for (size_t i = 0; st == MS_OK && i < p->u.n; i++)
        st = crypt_unit(p, i, &pos, err);
    if (st == MS_OK)
        st = msi_copy_range(p->w, p->pf, pos, p->pf->size, edits, nedits, NULL, err);
    ms_gcm_destroy(p->g);
    p->g = NULL;
    if (p->dir == MS_DECRYPT)
        ms_crypto_wipe(p->buf, CHUNK);
    free(p->buf);
    p->buf = NULL;
    return st;
}

/* ---- protect ------------------------------------------------------------------------------ */

static ms_status setup_key(struct pass *p, const struct ms_protect_options *opt, uint8_t key[32],
                           struct ms_error *err)
{
    uint8_t *b = p->blob, iv0[12], master[32];
    ms_status st;

    if (opt->key_from_header) {
        b[0] = KEY_HEADER;
        st = header_key(p->pf, key, iv0, err);
        for (size_t i = 0; st == MS_OK && i < p->u.n; i++)
            header_iv(iv0, i, b + BLOB_HEAD + i * UNIT_BYTES);
        return st;
    }
    b[0] = KEY_FILE;
    st = msi_load_key(opt, SCHEME, master, err);
    if (st == MS_OK)
        st = ms_random_bytes(b + 8, 16, err);
    if (st == MS_OK)
        st = ms_key_check_value(master, b + 24, err);
    if (st == MS_OK)
        st = msi_subkey(master, 32, b + 8, 16, "pixel-gcm v1", key, err);
    for (size_t i = 0; st == MS_OK && i < p->u.n; i++)
        st = ms_random_bytes(b + BLOB_HEAD + i * UNIT_BYTES, MS_GCM_IV_LEN, err);
    ms_crypto_wipe(master, sizeof master);
    return st;
}

static void params_text(char *buf, size_t cap, const struct pass *p, bool header)
{
    snprintf(buf, cap,
             "cipher=AES-256-GCM iv=96 tag=128 frames=%zu%s aad=SHA-256(file without Pixel Data "
             "payload and this block) key=%s",
             p->u.n, p->pf->pi.encapsulated ? " encapsulated=fragments" : "",
             header ? "from-header (INSECURE: Whirlpool of SOP Instance UID + Patient Name, "
                      "both readable in this file; paper mode of seed 001)"
                    : "key-file (HKDF-SHA256 with the salt below)");
}

static ms_status protect_file(struct pass *p, const struct ms_protect_options *opt,
                              struct ms_protect_report *rep, struct ms_error *err)
{
    uint8_t key[32];
    size_t blob_len = BLOB_HEAD + p->u.n * UNIT_BYTES;
    struct msi_pblock_out pb = {0};
    struct msi_edit edits[2];
    char params[512];
    ms_status st;

    p->blob = calloc(1, blob_len);
    if (!p->blob)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    p->blob[1] = p->pf->pi.encapsulated ? FLAG_ENCAP : 0;
    msi_wr32le(p->blob + 4, (uint32_t)p->u.n);
    st = setup_key(p, opt, key, err);
    if (st == MS_OK)
        st = msi_header_digest(p->pf, NULL, 0, p->hdr, err);
    if (st == MS_OK) {
        memcpy(p->blob + 32, p->hdr, 32);
        params_text(params, sizeof params, p, opt->key_from_header);
        st = msi_pblock_encode(p->pf, SCHEME, params, p->blob, blob_len, &pb, err);
    }
    if (st == MS_OK) {
        size_t ne = msi_pblock_insertion(&pb, edits);
        p->dir = MS_ENCRYPT;
        st = run_pass(p, key, edits, ne, err);
        /* the tags are known only now: write them into the block */
        if (st == MS_OK)
            st = msi_wr_patch(p->w, edits[1].out_at + (pb.blob_pos - pb.creator_len), p->blob,
                              blob_len, err);
    }
    if (st == MS_OK && opt->key_from_header)
        snprintf(rep->note, sizeof rep->note,
                 "insecure: key and IV derived from the header (Whirlpool of SOP Instance UID + "
                 "Patient Name), which stays readable");
    ms_crypto_wipe(key, sizeof key);
    msi_pblock_free(&pb);
    free(p->blob);
    return st;
}

static ms_status protect_pass(void *ctx, struct msi_wr *w, struct ms_hash *pixels,
                              struct ms_error *err)
{
    struct pass *p = ctx;
    p->w = w;
    return protect_file(p, p->opt, p->rep, err);
}

/* Open in for protect or unprotect and write out through pass_fn. */
static ms_status run(const char *in, const char *out, bool protect, msi_pass_fn pass_fn,
                     const struct ms_protect_options *opt, struct ms_protect_report *rep,
                     struct ms_error *err)
{
    struct msi_pfile pf;
    struct pass p = {0};
    ms_status st = msi_pfile_open_for(&pf, in, SCHEME, protect, BLOB_HEAD, true, err);

    p.pf = &pf;
    p.opt = opt;
    p.rep = rep;
    if (st == MS_OK)
        st = make_units(&pf, &p.u, err);
    if (st == MS_OK)
        st = msi_write_pass(&pf, out, pass_fn, &p, NULL, rep, err);
    if (st == MS_OK && !protect && pf.pb.blob[0] == KEY_HEADER)
        snprintf(rep->note, sizeof rep->note,
                 "insecure: this file's key came from its own header (paper mode)");
    units_free(&p.u);
    msi_pfile_close(&pf);
    return st;
}

static ms_status pgcm_protect(const char *in, const char *out, const struct ms_protect_options *opt,
                              struct ms_protect_report *rep, struct ms_error *err)
{
    return run(in, out, true, protect_pass, opt, rep, err);
}

/* ---- unprotect ------------------------------------------------------------------------------ */

static ms_status unprotect_key(struct pass *p, const struct ms_protect_options *opt,
                               uint8_t key[32], struct ms_error *err)
{
    const uint8_t *b = p->blob;
    uint8_t master[32], check[MS_KEY_CHECK_LEN], iv0[12], iv[12];
    ms_status st;

    if (b[0] == KEY_HEADER) {
        st = header_key(p->pf, key, iv0, err);
        header_iv(iv0, 0, iv);
        if (st == MS_OK && !ms_crypto_equal(iv, b + BLOB_HEAD, 12))
            st = ms_error_set(err, MS_EKEY,
                              "authentication failed: the IV does not come from this header");
        return st;
    }
    if (b[0] != KEY_FILE)
        return ms_error_set(err, MS_EMALFORMED, "%s: unknown key source %u", SCHEME, b[0]);
    st = msi_load_key(opt, SCHEME, master, err);
    if (st == MS_OK)
        st = ms_key_check_value(master, check, err);
    if (st == MS_OK && !ms_crypto_equal(check, b + 24, MS_KEY_CHECK_LEN))
        st = ms_error_set(err, MS_EKEY, "wrong key: its check value differs from the one used");
    if (st == MS_OK)
        st = msi_subkey(master, 32, b + 8, 16, "pixel-gcm v1", key, err);
    ms_crypto_wipe(master, sizeof master);
    return st;
}

/* The block's head: key source (0), flags (1), reserved (2-3), frames (4-7),
 * key-derivation salt (8-23), key check value (24-31), header digest
 * (32-63). The salt, frame count and flags change the key or the AAD, the
 * check value and digest are compared; the reserved bytes and unknown values
 * are refused, so that no byte of the head goes unchecked. */
static bool blob_head_known(const uint8_t *b)
{
    return (b[0] == KEY_FILE || b[0] == KEY_HEADER) && (b[1] & ~FLAG_ENCAP) == 0 && !b[2] &&
           !b[3];
}

static ms_status check_blob(struct pass *p, struct ms_error *err)
{
    const struct msi_pfile *pf = p->pf;
    if (!blob_head_known(pf->pb.blob))
        return ms_error_set(err, MS_EMALFORMED, "%s parameters: unknown values in the block's head",
                            SCHEME);
    if (msi_rd32le(pf->pb.blob + 4) != p->u.n ||
        pf->pb.blob_len < BLOB_HEAD + (uint64_t)p->u.n * UNIT_BYTES)
        return ms_error_set(err, MS_EMALFORMED,
                            "%s parameters hold %u frame(s), the Pixel Data has %zu", SCHEME,
                            msi_rd32le(pf->pb.blob + 4), p->u.n);
    if (((pf->pb.blob[1] & FLAG_ENCAP) != 0) != pf->pi.encapsulated)
        return ms_error_set(err, MS_EKEY,
                            "authentication failed: Pixel Data encoding changed after protection");
    return MS_OK;
}

static ms_status unprotect_file(struct pass *p, const struct ms_protect_options *opt,
                                struct ms_error *err)
{
    struct msi_edit edits[5];
    size_t ne = msi_pblock_removal(p->pf, edits);
    uint8_t key[32];
    ms_status st;

    p->blob = (uint8_t *)p->pf->pb.blob;
    st = check_blob(p, err);
    if (st == MS_OK)
        st = msi_header_digest(p->pf, edits, ne, p->hdr, err);
    if (st == MS_OK && !ms_crypto_equal(p->hdr, p->blob + 32, 32))
        st = ms_error_set(err, MS_EKEY,
                          "authentication failed: the header (additional authenticated data) "
                          "changed after protection");
    if (st == MS_OK)
        st = unprotect_key(p, opt, key, err);
    if (st != MS_OK)
        return st;
    p->dir = MS_DECRYPT;
    p->failed_unit = (size_t)-1;
    st = run_pass(p, key, edits, ne, err);
    if (st == MS_EKEY && p->failed_unit != (size_t)-1)
        st = ms_error_set(err, MS_EKEY,
                          "authentication failed: frame %zu of %zu (pixel data, IV or tag changed)",
                          p->failed_unit + 1, p->u.n);
    ms_crypto_wipe(key, sizeof key);
    return st;
}

static ms_status unprotect_pass(void *ctx, struct msi_wr *w, struct ms_hash *pixels,
                                struct ms_error *err)
{
    struct pass *p = ctx;
    p->w = w;
    return unprotect_file(p, p->opt, err);
}

static ms_status pgcm_unprotect(const char *in, const char *out,
                                const struct ms_protect_options *opt,
                                struct ms_protect_report *rep, struct ms_error *err)
{
    return run(in, out, false, unprotect_pass, opt, rep, err);
}

const struct msi_scheme msi_scheme_pixel_gcm = {
    .info = {SCHEME, "seed 001", "-k ok; paper insecure",
              "Pixel Data in AES-256-GCM per frame, header as AAD; still a DICOM file (noise)", "",
              false},
    .protect = pgcm_protect,
    .unprotect = pgcm_unprotect,
};
