/* medseal seal: hash every file of a study, project and encrypt the DRR of
 * every volume, build the Merkle root, sign, and write the seal atomically. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "seal_internal.h"

/* The signature algorithm of a signing key, or NULL when medseal does not
 * seal with it. */
static const char *algorithm_of(const struct ms_pkey *k)
{
    switch (ms_pkey_get_type(k)) {
    case MS_PKEY_ED25519:
        return "ed25519";
    case MS_PKEY_P256:
        return "ecdsa-p256-sha256";
    default:
        return NULL;
    }
}

static ms_status check_options(const struct ms_seal_options *o, struct ms_error *err)
{
    if (!o || !o->key)
        return ms_error_set(err, MS_EUSAGE, "sealing needs the key k (-k KEYFILE)");
    if (!o->signer)
        return ms_error_set(err, MS_EUSAGE, "sealing needs a signing key (--sign KEY.pem)");
    if (!algorithm_of(o->signer))
        return ms_error_set(err, MS_EUSAGE, "the signing key must be Ed25519 or EC P-256, not %s",
                            ms_pkey_type_name(ms_pkey_get_type(o->signer)));
    if (!ms_pkey_has_private(o->signer))
        return ms_error_set(err, MS_EKEY, "the signing key holds no private key");
    if (o->grid && o->grid != 4 && o->grid != 8)
        return ms_error_set(err, MS_EUSAGE, "grid must be 4 (16 blocks) or 8 (64 blocks)");
    if (o->views >> MS_DRR_VIEW_COUNT)
        return ms_error_set(err, MS_EUSAGE, "bad DRR views");
    return MS_OK;
}

/* ---- volumes and fingerprints ------------------------------------------------------------ */

struct sealer {
    struct ms_study *s;
    const struct ms_seal_options *o;
    struct msi_seal z;
    uint8_t bkey[MS_AES256_KEY_LEN];
    long *vol_index;            /* study volume -> seal volume, -1 when not sealed as one */
    size_t drr_cap;
    size_t unprojected;         /* volumes left without a fingerprint */
};

/* A volume is sealed as one when every view can be projected (not oblique). */
static bool volume_projectable(const struct msi_volume *v)
{
    uint32_t w, h;
    for (int k = 0; k < MS_DRR_VIEW_COUNT; k++)
        if (ms_drr_size(&v->g, (ms_drr_view)k, &w, &h, NULL) != MS_OK)
            return false;
    return true;
}

static ms_status add_fingerprint(struct sealer *x, size_t sv, ms_drr_view view,
                                 const struct ms_image *img, struct ms_error *err)
{
    unsigned grid = x->o->grid ? x->o->grid : MS_SEAL_GRID_DEFAULT;
    struct msi_sdrr *d;
    if (img->width < grid || img->height < grid)
        return MS_OK; /* too small to cut: the manifest alone covers it */
    if (x->z.ndrrs == x->drr_cap) {
        size_t cap = x->drr_cap ? 2 * x->drr_cap : 4;
        d = realloc(x->z.drrs, cap * sizeof *d);
        if (!d)
            return ms_error_set(err, MS_ENOMEM, "out of memory");
        x->z.drrs = d;
        x->drr_cap = cap;
    }
    d = &x->z.drrs[x->z.ndrrs++];
    memset(d, 0, sizeof *d);
    d->volume = sv;
    d->view = view;
    d->grid = grid;
    d->width = img->width;
    d->height = img->height;
    return msi_fingerprint_seal(d, img, x->bkey, x->z.salt, err);
}

/* Hash the files of study volume v, project its DRRs, encrypt their blocks. */
static ms_status seal_volume(struct sealer *x, size_t v, struct ms_error *err)
{
    const struct msi_volume *vol = &x->s->volumes[v];
    unsigned views = x->o->views ? x->o->views : 1u << MS_DRR_AP;
    struct ms_drr *d = NULL;
    size_t sv = x->z.nvols;
    ms_status st;

    x->z.vols[sv] = (struct msi_svol){strdup(vol->series), vol->temporal, 0, vol->g};
    x->z.nvols++;
    x->vol_index[v] = (long)sv;
    st = x->z.vols[sv].series ? MS_OK : ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st == MS_OK)
        st = ms_drr_create(&d, &vol->g, vol->pos, vol->n, views, x->s->threads, err);
    if (st == MS_OK)
        st = msi_study_run(x->s, vol->items, vol->nitems, vol, d, true, true, "sealing", err);
    /* a slice that cannot be projected (values beyond the DRR's +-32767, pixels
     * that cannot be decoded): the volume gets no fingerprint, its files are
     * sealed by their hashes all the same */
    for (size_t i = 0; st == MS_OK && views && i < vol->nitems; i++)
        if (x->s->items[vol->items[i]].drr_status != MS_OK) {
            views = 0;
            x->unprojected++;
        }
    for (int k = 0; st == MS_OK && k < MS_DRR_VIEW_COUNT; k++) {
        struct ms_image *img = NULL;
        if (!((views >> k) & 1u))
            continue;
        st = ms_drr_finish(d, (ms_drr_view)k, &img, err);
        if (st == MS_OK)
            st = add_fingerprint(x, sv, (ms_drr_view)k, img, err);
        ms_image_destroy(img);
    }
    ms_drr_destroy(d);
    return st;
}

/* ---- records and the Merkle root ----------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static ms_status make_record(struct sealer *x, const struct msi_item *it, struct msi_rec *r,
                             struct ms_error *err)
{
    memset(r, 0, sizeof *r);
    r->kind = it->kind;
    r->size = it->size;
    memcpy(r->file_sha, it->file_sha, MS_SHA256_LEN);
    memcpy(r->content_sha, it->content_sha, MS_SHA256_LEN);
    r->volume = it->volume >= 0 ? x->vol_index[it->volume] : -1;
    r->has_ipp = it->kind == MSI_IMAGE && it->has_ipp;
    memcpy(r->ipp, it->ipp, sizeof r->ipp);
    r->rel = strdup(it->rel);
    if (it->kind != MSI_FILE) {
        r->uid = strdup(it->uid);
        r->cls = dup_or_null(it->cls);
        r->series = dup_or_null(it->series);
    }
    if (!r->rel || (it->kind != MSI_FILE && !r->uid))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    return MS_OK;
}

static int cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, MS_SHA256_LEN);
}

/* Root over the records' leaves, taken in the order of their hashes, so that
 * it depends on the content of the study only (not on paths of instances). */
ms_status msi_records_root(const struct msi_rec *recs, size_t n, uint8_t root[MS_SHA256_LEN],
                           struct ms_error *err)
{
    uint8_t(*leaves)[MS_SHA256_LEN] = malloc((n ? n : 1) * sizeof *leaves);
    char rec[1024];
    ms_status st = MS_OK;
    if (!leaves)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; st == MS_OK && i < n; i++) {
        size_t len = msi_leaf_record(recs[i].kind, recs[i].uid, recs[i].cls ? recs[i].cls : "",
                                     recs[i].rel, recs[i].file_sha, recs[i].content_sha, rec,
                                     sizeof rec);
        st = msi_merkle_leaf(rec, len, leaves[i], err);
    }
    if (st == MS_OK) {
        qsort(leaves, n, sizeof *leaves, cmp_hash);
        st = msi_merkle_root(leaves, n, root, err);
    }
    free(leaves);
    return st;
}

static ms_status make_records(struct sealer *x, struct ms_error *err)
{
    ms_status st = MS_OK;
    x->z.recs = calloc(x->s->nitems ? x->s->nitems : 1, sizeof *x->z.recs);
    if (!x->z.recs)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; st == MS_OK && i < x->s->nitems; i++) {
        st = make_record(x, &x->s->items[i], &x->z.recs[i], err);
        x->z.nrecs++;
    }
    for (size_t i = 0; st == MS_OK && i < x->z.nrecs; i++)
        if (x->z.recs[i].volume >= 0)
            x->z.vols[x->z.recs[i].volume].slices++;
    if (st == MS_OK)
        st = msi_records_root(x->z.recs, x->z.nrecs, x->z.merkle_root, err);
    return st;
}

/* ---- signing and writing ------------------------------------------------------------------- */

static ms_status prepare_header(struct sealer *x, struct ms_error *err)
{
    time_t now = time(NULL);
    struct tm tm;
    ms_status st;
    gmtime_r(&now, &tm);
    strftime(x->z.created, sizeof x->z.created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(x->z.algorithm, sizeof x->z.algorithm, "%s", algorithm_of(x->o->signer));
    if ((st = ms_random_bytes(x->z.salt, sizeof x->z.salt, err)) != MS_OK ||
        (st = ms_key_check_value(x->o->key, x->z.key_check, err)) != MS_OK ||
        (st = msi_block_key(x->o->key, x->z.salt, x->bkey, err)) != MS_OK)
        return st;
    return ms_pkey_public_der(x->o->signer, &x->z.signer_der, &x->z.signer_der_len, err);
}

static ms_status write_all(int fd, const void *p, size_t n, struct ms_error *err)
{
    return msi_fd_sink(&fd, p, n) == 0 ? MS_OK
                                       : ms_error_set(err, MS_EIO, "cannot write the seal");
}

static ms_status sign_and_write(struct sealer *x, const char *path, struct ms_error *err)
{
    char *body = NULL, tmp[4200];
    size_t len = 0, sig_len = 0;
    uint8_t sig[MS_SIG_MAX_LEN];
    char b64[2 * MS_SIG_MAX_LEN];
    int fd = -1;
    ms_status st = msi_seal_format_body(&x->z, &body, &len, err);

    if (st == MS_OK)
        st = ms_pkey_sign(x->o->signer, body, len, sig, sizeof sig, &sig_len, err);
    if (st == MS_OK)
        st = msi_atomic_open(path, tmp, sizeof tmp, &fd, err);
    if (st == MS_OK) {
        char *p = b64;
        size_t room = sizeof b64;
        int n = snprintf(p, room, "signature ");
        sodium_bin2base64(p + n, room - (size_t)n, sig, sig_len, sodium_base64_VARIANT_ORIGINAL);
        st = write_all(fd, body, len, err);
        if (st == MS_OK)
            st = write_all(fd, b64, strlen(b64), err);
        if (st == MS_OK)
            st = write_all(fd, "\nend\n", 5, err);
        ms_status cst = msi_atomic_close(fd, tmp, path, st == MS_OK, st == MS_OK ? err : NULL);
        if (st == MS_OK)
            st = cst;
    }
    free(body);
    return st;
}

static void summarise(const struct sealer *x, struct ms_seal_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    sum->files = x->s->nitems;
    sum->instances = x->s->ninstances;
    sum->volumes = x->z.nvols;
    sum->unprojected = x->unprojected;
    for (size_t i = 0; i < x->z.ndrrs; i++)
        sum->blocks += (size_t)x->z.drrs[i].grid * x->z.drrs[i].grid;
    for (size_t i = 0; i < x->s->nitems; i++)
        sum->bytes += x->s->items[i].size;
    memcpy(sum->merkle_root, x->z.merkle_root, MS_SHA256_LEN);
    if (ms_pkey_fingerprint_hex(x->o->signer, sum->signer, NULL) != MS_OK)
        sum->signer[0] = '\0';
    sum->algorithm = algorithm_of(x->o->signer);
}

ms_status ms_seal_create(struct ms_study *s, const struct ms_seal_options *opt,
                         const char *path, struct ms_seal_summary *sum, struct ms_error *err)
{
    struct sealer x = {.s = s, .o = opt};
    ms_status st = check_options(opt, err);

    if (st == MS_OK) {
        x.vol_index = malloc((s->nvolumes + 1) * sizeof *x.vol_index);
        x.z.vols = calloc(s->nvolumes + 1, sizeof *x.z.vols);
        if (!x.vol_index || !x.z.vols)
            st = ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; st == MS_OK && i < s->nitems; i++)
        s->items[i].hashed = false;
    if (st == MS_OK)
        st = prepare_header(&x, err);
    for (size_t v = 0; st == MS_OK && v < s->nvolumes; v++) {
        x.vol_index[v] = -1;
        if (volume_projectable(&s->volumes[v]))
            st = seal_volume(&x, v, err);
    }
    if (st == MS_OK && (st = msi_study_hash_rest(x.s, err)) == MS_OK &&
        (st = make_records(&x, err)) == MS_OK)
        st = sign_and_write(&x, path, err);
    if (st == MS_OK && sum)
        summarise(&x, sum);
    ms_crypto_wipe(x.bkey, sizeof x.bkey);
    msi_seal_clear(&x.z);
    free(x.vol_index);
    return st;
}
