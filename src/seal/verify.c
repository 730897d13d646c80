/* medseal verify: a study against its seal. The seal is parsed strictly and
 * its signature checked first; then every file is hashed and every sealed
 * DRR re-projected on the sealed grid from the slices present, the sealed
 * blocks decrypted and compared block by block (seed 000, step 6); then the
 * manifest names every inserted, deleted, modified or moved instance. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "seal_internal.h"
#include "verify_internal.h"

#define MAX_SEAL_BYTES (UINT64_C(1) << 30)

static const char *const change_names[MS_CHANGE_COUNT] = {
    "deleted", "inserted", "modified-pixels", "modified-header", "modified", "moved", "renamed"};

const char *ms_change_name(ms_change c)
{
    return (unsigned)c < MS_CHANGE_COUNT ? change_names[c] : "?";
}

/* ---- the result ---------------------------------------------------------------------------- */

void ms_verify_result_destroy(struct ms_verify_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nchanges; i++) {
        free((char *)r->changes[i].path);
        free((char *)r->changes[i].uid);
        free((char *)r->changes[i].detail);
    }
    for (size_t i = 0; i < r->ndrrs; i++) {
        free((uint32_t *)r->drrs[i].block);
        free((uint64_t *)r->drrs[i].histdiff);
        free((double *)r->drrs[i].rmse);
        free((char *)r->drrs[i].series_uid);
        ms_image_destroy((struct ms_image *)r->drrs[i].sealed);
        ms_image_destroy((struct ms_image *)r->drrs[i].current);
    }
    free(r->changes);
    free(r->drrs);
    free(r);
}

ms_status ms_verify_status(const struct ms_verify_result *r)
{
    if (r->trust != MS_TRUST_OK || !r->key_ok)
        return MS_EKEY;
    return r->differs ? MS_EPROBLEM : MS_OK;
}

const char *ms_verify_verdict(const struct ms_verify_result *r)
{
    bool untrusted = r->trust != MS_TRUST_OK, wrong_key = !r->key_ok;
    if (untrusted && wrong_key)
        return "untrusted signer, wrong key";
    if (untrusted)
        return "untrusted signer";
    if (wrong_key)
        return "wrong key";
    return r->differs ? "differs" : "intact";
}

ms_seal_trust ms_verify_trust(const struct ms_verify_result *r) { return r->trust; }
const char *ms_verify_signer(const struct ms_verify_result *r) { return r->signer; }
const char *ms_verify_algorithm(const struct ms_verify_result *r) { return r->algorithm; }
bool ms_verify_key_ok(const struct ms_verify_result *r) { return r->key_ok; }
size_t ms_verify_sealed_count(const struct ms_verify_result *r) { return r->sealed; }
size_t ms_verify_found_count(const struct ms_verify_result *r) { return r->found; }
bool ms_verify_merkle_ok(const struct ms_verify_result *r) { return r->merkle_ok; }
size_t ms_verify_change_count(const struct ms_verify_result *r) { return r->nchanges; }
size_t ms_verify_drr_count(const struct ms_verify_result *r) { return r->ndrrs; }

const struct ms_seal_change *ms_verify_change(const struct ms_verify_result *r, size_t i)
{
    return i < r->nchanges ? &r->changes[i] : NULL;
}

const struct ms_seal_drr *ms_verify_drr(const struct ms_verify_result *r, size_t i)
{
    return i < r->ndrrs ? &r->drrs[i] : NULL;
}

/* ---- reading the seal and checking its signature ----------------------------------------------- */

static ms_status read_seal(const char *path, struct msi_seal *z, const uint8_t **data,
                           uint64_t *size, struct ms_error *err)
{
    ms_status st = msi_map_file(path, data, size, err);
    if (st != MS_OK)
        return st;
    if (*size > MAX_SEAL_BYTES)
        st = ms_error_set(err, MS_ELIMIT, "seal larger than 1 GiB");
    else
        st = msi_seal_parse(*data, (size_t)*size, z, err);
    return st;
}

/* The records must give the sealed root and fill the sealed volumes. */
static ms_status check_consistency(const struct msi_seal *z, struct ms_error *err)
{
    uint8_t root[MS_SHA256_LEN];
    size_t *count = calloc(z->nvols + 1, sizeof *count);
    ms_status st = count ? msi_records_root(z->recs, z->nrecs, root, err)
                         : ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st == MS_OK && memcmp(root, z->merkle_root, MS_SHA256_LEN) != 0)
        st = ms_error_set(err, MS_EMALFORMED, "seal is inconsistent: its records do not give "
                                              "its Merkle root");
    for (size_t i = 0; st == MS_OK && i < z->nrecs; i++)
        if (z->recs[i].volume >= 0)
            count[z->recs[i].volume]++;
    for (size_t v = 0; st == MS_OK && v < z->nvols; v++)
        if (count[v] != z->vols[v].slices)
            st = ms_error_set(err, MS_EMALFORMED, "seal is inconsistent: volume %zu lists %zu "
                                                  "slices, its records %zu", v + 1,
                              z->vols[v].slices, count[v]);
    for (size_t i = 0; st == MS_OK && i < z->ndrrs; i++)
        for (size_t j = 0; j < i; j++)
            if (z->drrs[i].volume == z->drrs[j].volume && z->drrs[i].view == z->drrs[j].view)
                st = ms_error_set(err, MS_EMALFORMED, "seal is inconsistent: two fingerprints "
                                                      "of one volume and view");
    free(count);
    return st;
}

static ms_status check_signature(const struct msi_seal *z, const uint8_t *data,
                                 const struct ms_verify_options *o, struct ms_verify_result *r,
                                 struct ms_error *err)
{
    struct ms_pkey *signer = NULL;
    ms_pkey_type want = strcmp(z->algorithm, "ed25519") ? MS_PKEY_P256 : MS_PKEY_ED25519;
    ms_status st = ms_pkey_parse_public(&signer, z->signer_der, z->signer_der_len, err);

    if (st != MS_OK) {
        ms_error_set(err, MS_EMALFORMED, "seal: the signer key cannot be read");
        return MS_EMALFORMED;
    }
    if (ms_pkey_get_type(signer) != want)
        st = ms_error_set(err, MS_EMALFORMED, "seal: signer key is not %s", z->algorithm);
    if (st == MS_OK && ms_pkey_verify(signer, data, z->signed_len, z->sig, z->sig_len, NULL))
        st = ms_error_set(err, MS_EKEY, "seal signature does not verify: the seal was edited "
                                        "or damaged");
    if (st == MS_OK && ms_pkey_fingerprint_hex(signer, r->signer, err) != MS_OK)
        st = MS_EINTERNAL;
    r->trust = MS_TRUST_UNTRUSTED;
    for (size_t i = 0; st == MS_OK && i < o->ntrusted; i++)
        if (o->trusted[i] && ms_pkey_equal(o->trusted[i], signer))
            r->trust = MS_TRUST_OK;
    snprintf(r->algorithm, sizeof r->algorithm, "%s", z->algorithm);
    ms_pkey_destroy(signer);
    return st;
}

/* ---- DRR comparison ---------------------------------------------------------------------------- */

struct verifier {
    struct ms_study *s;
    const struct ms_verify_options *o;
    struct msi_seal z;
    struct ms_verify_result *r;
    uint8_t bkey[MS_AES256_KEY_LEN];
    long *sealed_of;            /* study volume -> sealed volume, -1 when none */
};

static bool volume_matches(const struct msi_svol *sv, const struct msi_volume *cv)
{
    return msi_volume_same(cv, sv->series, sv->temporal, &sv->g);
}

static ms_status compare_blocks(struct ms_seal_drr *c, const struct msi_sdrr *d,
                                struct ms_error *err)
{
    size_t n = (size_t)d->grid * d->grid;
    uint64_t hd[64];
    double rm[64], mse;
    struct ms_grid g;
    uint32_t *order = malloc(n * sizeof *order);
    uint64_t *histdiff = malloc(n * sizeof *histdiff);
    double *rmse = malloc(n * sizeof *rmse);
    ms_status st = order && histdiff && rmse ? MS_OK : ms_error_set(err, MS_ENOMEM, "no memory");

    c->block = order;
    c->histdiff = histdiff;
    c->rmse = rmse;
    if (st == MS_OK && (st = ms_grid_init(&g, d->width, d->height, d->grid, err)) == MS_OK &&
        (st = ms_grid_block_histdiff(&g, c->sealed, c->current, &MS_HIST_RANGE_HU, hd, n,
                                     err)) == MS_OK &&
        (st = ms_grid_block_rmse(&g, c->sealed, c->current, rm, n, err)) == MS_OK)
        st = ms_image_mse(c->sealed, c->current, &mse, &c->rmse_all, err);
    for (size_t z = 0; st == MS_OK && z < n; z++) {
        order[z] = d->blocks[z].block;
        histdiff[z] = hd[order[z]];
        rmse[z] = rm[order[z]];
        c->histdiff_all += histdiff[z];
        c->changed += histdiff[z] != 0 || rmse[z] != 0;
    }
    return st;
}

static ms_status add_comparison(struct verifier *x, const struct msi_sdrr *d,
                                struct ms_image *current, struct ms_error *err)
{
    struct ms_seal_drr *c = &x->r->drrs[x->r->ndrrs];
    struct ms_image *sealed = NULL;
    ms_status st = msi_fingerprint_open(d, x->bkey, x->z.salt, &sealed, err);
    memset(c, 0, sizeof *c);
    c->volume = d->volume;
    c->series_uid = strdup(x->z.vols[d->volume].series);
    c->view = d->view;
    c->grid = d->grid;
    c->width = d->width;
    c->height = d->height;
    c->sealed = sealed;
    c->current = current;
    x->r->ndrrs++;
    if (st == MS_OK && !c->series_uid)
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st == MS_OK)
        st = compare_blocks(c, d, err);
    if (st == MS_OK && c->changed)
        x->r->differs = true;
    return st;
}

/* The study volume matching sealed volume sv, or NULL. */
static struct msi_volume *current_volume(struct verifier *x, size_t sv)
{
    for (size_t v = 0; v < x->s->nvolumes; v++)
        if (volume_matches(&x->z.vols[sv], &x->s->volumes[v])) {
            x->sealed_of[v] = (long)sv;
            return &x->s->volumes[v];
        }
    return NULL;
}

/* Project the slices present of sealed volume sv on its sealed grid (hashing
 * their files on the way) and compare every view it was sealed with. */
static ms_status verify_volume(struct verifier *x, size_t sv, struct ms_error *err)
{
    struct msi_volume *cv = current_volume(x, sv);
    unsigned views = 0;
    struct ms_drr *d = NULL;
    ms_status st;

    for (size_t i = 0; i < x->z.ndrrs; i++)
        if (x->z.drrs[i].volume == sv)
            views |= 1u << x->z.drrs[i].view;
    if (!x->r->key_ok || !views)
        return MS_OK;
    st = ms_drr_create(&d, &x->z.vols[sv].g, cv ? cv->pos : NULL, cv ? cv->n : 0, views,
                       x->s->threads, err);
    if (st == MS_OK && cv)
        st = msi_study_run(x->s, cv->items, cv->nitems, cv, d, true, true, "verifying", err);
    for (size_t i = 0; st == MS_OK && i < x->z.ndrrs; i++) {
        struct ms_image *img = NULL;
        if (x->z.drrs[i].volume != sv)
            continue;
        st = ms_drr_finish(d, x->z.drrs[i].view, &img, err);
        if (st == MS_OK)
            st = add_comparison(x, &x->z.drrs[i], img, err);
        else
            ms_image_destroy(img);
    }
    ms_drr_destroy(d);
    return st;
}

/* Merkle root of the study as it is now, as the seal computes it. */
static ms_status current_root(const struct verifier *x, uint8_t root[MS_SHA256_LEN],
                              struct ms_error *err)
{
    struct msi_rec *recs = calloc(x->s->nitems + 1, sizeof *recs);
    ms_status st;
    if (!recs)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; i < x->s->nitems; i++) {
        const struct msi_item *it = &x->s->items[i];
        recs[i].kind = it->kind;
        recs[i].rel = it->rel;
        recs[i].uid = (char *)it->uid;
        recs[i].cls = (char *)it->cls;
        memcpy(recs[i].file_sha, it->file_sha, MS_SHA256_LEN);
        memcpy(recs[i].content_sha, it->content_sha, MS_SHA256_LEN);
    }
    st = msi_records_root(recs, x->s->nitems, root, err);
    free(recs);
    return st;
}

/* ---- the whole verification ----------------------------------------------------------------------- */

static ms_status check_key(struct verifier *x, struct ms_error *err)
{
    uint8_t check[MS_KEY_CHECK_LEN];
    ms_status st;
    x->r->key_ok = false;
    if (!x->o->key)
        return MS_OK;
    if ((st = ms_key_check_value(x->o->key, check, err)) != MS_OK)
        return st;
    x->r->key_ok = ms_crypto_equal(check, x->z.key_check, sizeof check);
    if (x->r->key_ok)
        st = msi_block_key(x->o->key, x->z.salt, x->bkey, err);
    return st;
}

static ms_status compare_all(struct verifier *x, struct ms_error *err)
{
    uint8_t root[MS_SHA256_LEN];
    /* files found unchanged take their content hash from a trusted seal's
     * records instead of hashing their content a second time */
    ms_status st = x->r->trust == MS_TRUST_OK ? msi_study_know(x->s, x->z.recs, x->z.nrecs, err)
                                              : MS_OK;

    if (st != MS_OK)
        return st;
    x->sealed_of = malloc((x->s->nvolumes + 1) * sizeof *x->sealed_of);
    x->r->drrs = calloc(x->z.ndrrs + 1, sizeof *x->r->drrs);
    if (!x->sealed_of || !x->r->drrs)
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t v = 0; st == MS_OK && v < x->s->nvolumes; v++)
        x->sealed_of[v] = -1;
    for (size_t i = 0; i < x->s->nitems; i++)
        x->s->items[i].hashed = false;
    for (size_t sv = 0; st == MS_OK && sv < x->z.nvols; sv++)
        st = verify_volume(x, sv, err);
    if (st == MS_OK)
        st = msi_study_hash_rest(x->s, err);
    if (st == MS_OK)
        st = current_root(x, root, err);
    if (st == MS_OK) {
        x->r->merkle_ok = memcmp(root, x->z.merkle_root, MS_SHA256_LEN) == 0;
        x->r->differs |= !x->r->merkle_ok;
        st = msi_compare_manifest(x->s, &x->z, x->sealed_of, x->r, err);
    }
    msi_study_forget(x->s);
    return st;
}

ms_status ms_seal_verify(struct ms_study *s, const char *seal_path,
                         const struct ms_verify_options *opt, struct ms_verify_result **out,
                         struct ms_error *err)
{
    struct verifier x = {.s = s, .o = opt};
    const uint8_t *data = NULL;
    uint64_t size = 0;
    ms_status st;

    *out = NULL;
    if (!(x.r = calloc(1, sizeof *x.r)))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    st = read_seal(seal_path, &x.z, &data, &size, err);
    if (st == MS_OK)
        st = check_consistency(&x.z, err);
    if (st == MS_OK)
        st = check_signature(&x.z, data, opt, x.r, err);
    if (st == MS_OK)
        st = check_key(&x, err);
    if (st == MS_OK) {
        x.r->sealed = x.z.nrecs;
        x.r->found = s->nitems;
        snprintf(x.r->created, sizeof x.r->created, "%s", x.z.created);
        st = compare_all(&x, err);
    }
    msi_unmap_file(data, size);
    ms_crypto_wipe(x.bkey, sizeof x.bkey);
    msi_seal_clear(&x.z);
    free(x.sealed_of);
    if (st != MS_OK) {
        ms_verify_result_destroy(x.r);
        return st;
    }
    *out = x.r;
    return MS_OK;
}
