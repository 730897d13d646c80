/* The manifest comparison of medseal verify: instances are matched by SOP
 * Instance UID (plain files by path), then each pair is classified from its
 * file hash, content hash, position and volume. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

struct cmp {
    const struct ms_study *s;
    const struct msi_seal *z;
    const long *sealed_of;
    struct ms_verify_result *r;
    const struct msi_rec **by_content; /* sealed images sorted by content hash */
    size_t ncontent;
    ms_status st;
    struct ms_error *err;
};

/* ---- findings ------------------------------------------------------------------------------- */

static void MS_PRINTF(5, 6) add(struct cmp *c, ms_change kind, const char *path, const char *uid,
                                const char *fmt, ...)
{
    struct ms_verify_result *r = c->r;
    char detail[512];
    va_list ap;
    if (c->st != MS_OK)
        return;
    if (r->nchanges == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        struct ms_seal_change *p = realloc(r->changes, cap * sizeof *p);
        if (!p) {
            c->st = ms_error_set(c->err, MS_ENOMEM, "out of memory");
            return;
        }
        r->changes = p;
        r->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    r->changes[r->nchanges] = (struct ms_seal_change){kind, strdup(path), strdup(uid ? uid : ""),
                                                      strdup(detail)};
    if (!r->changes[r->nchanges].path || !r->changes[r->nchanges].uid ||
        !r->changes[r->nchanges].detail)
        c->st = ms_error_set(c->err, MS_ENOMEM, "out of memory");
    r->nchanges++;
    if (kind != MS_CHANGE_RENAMED)
        r->differs = true;
}

static int cmp_change(const void *pa, const void *pb)
{
    const struct ms_seal_change *a = pa, *b = pb;
    if (a->change != b->change)
        return a->change < b->change ? -1 : 1;
    return strcmp(a->path, b->path);
}

/* ---- sorted views ---------------------------------------------------------------------------- */

static int cmp_rec_uid(const void *a, const void *b)
{
    return strcmp((*(const struct msi_rec *const *)a)->uid, (*(const struct msi_rec *const *)b)->uid);
}

static int cmp_rec_rel(const void *a, const void *b)
{
    return strcmp((*(const struct msi_rec *const *)a)->rel, (*(const struct msi_rec *const *)b)->rel);
}

static int cmp_rec_content(const void *a, const void *b)
{
    return memcmp((*(const struct msi_rec *const *)a)->content_sha,
                  (*(const struct msi_rec *const *)b)->content_sha, MS_SHA256_LEN);
}

static int cmp_item_uid(const void *a, const void *b)
{
    return strcmp((*(const struct msi_item *const *)a)->uid,
                  (*(const struct msi_item *const *)b)->uid);
}

/* Sealed records (DICOM or not) and study items (DICOM or not) as pointer arrays. */
static size_t sealed_of_kind(const struct msi_seal *z, bool dicom, const struct msi_rec **out)
{
    size_t n = 0;
    for (size_t i = 0; i < z->nrecs; i++)
        if ((z->recs[i].kind != MSI_FILE) == dicom)
            out[n++] = &z->recs[i];
    return n;
}

static size_t items_of_kind(const struct ms_study *s, bool dicom, const struct msi_item **out)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nitems; i++)
        if ((s->items[i].kind != MSI_FILE) == dicom)
            out[n++] = &s->items[i];
    return n;
}

/* A sealed image other than self whose Pixel Data hash is h, or NULL. */
static const struct msi_rec *sealed_with_content(const struct cmp *c, const uint8_t *h,
                                                 const struct msi_rec *self)
{
    struct msi_rec key;
    const struct msi_rec *kp = &key, **hit;
    memcpy(key.content_sha, h, MS_SHA256_LEN);
    hit = bsearch(&kp, c->by_content, c->ncontent, sizeof *c->by_content, cmp_rec_content);
    if (!hit)
        return NULL;
    while (hit > c->by_content && !cmp_rec_content(hit - 1, &kp))
        hit--;
    for (; hit < c->by_content + c->ncontent && !cmp_rec_content(hit, &kp); hit++)
        if (*hit != self)
            return *hit;
    return NULL;
}

/* ---- classification ----------------------------------------------------------------------------- */

static long current_volume(const struct cmp *c, const struct msi_item *it)
{
    return it->volume >= 0 ? c->sealed_of[it->volume] : -1;
}

static bool same_place(const struct cmp *c, const struct msi_rec *r, const struct msi_item *it)
{
    bool ipp = it->kind == MSI_IMAGE && it->has_ipp;
    if (r->has_ipp != ipp || current_volume(c, it) != r->volume)
        return false;
    return !ipp || (r->ipp[0] == it->ipp[0] && r->ipp[1] == it->ipp[1] && r->ipp[2] == it->ipp[2]);
}

static void place_text(bool has, const double *p, long vol, char *buf, size_t cap)
{
    if (!has)
        snprintf(buf, cap, "no position");
    else if (vol >= 0)
        snprintf(buf, cap, "(%.6g, %.6g, %.6g) in volume %ld", p[0], p[1], p[2], vol + 1);
    else
        snprintf(buf, cap, "(%.6g, %.6g, %.6g), in no volume", p[0], p[1], p[2]);
}

static void classify_image(struct cmp *c, const struct msi_rec *r, const struct msi_item *it)
{
    char was[96], now[96];
    const struct msi_rec *other;
    bool placed = same_place(c, r, it);

    place_text(r->has_ipp, r->ipp, r->volume, was, sizeof was);
    place_text(it->has_ipp, it->ipp, current_volume(c, it), now, sizeof now);
    if (!memcmp(r->content_sha, it->content_sha, MS_SHA256_LEN)) {
        if (placed)
            add(c, MS_CHANGE_HEADER, it->rel, it->uid, "header differs, Pixel Data identical");
        else
            add(c, MS_CHANGE_MOVED, it->rel, it->uid, "position %s -> %s", was, now);
    } else if ((other = sealed_with_content(c, it->content_sha, r)) != NULL) {
        add(c, MS_CHANGE_MOVED, it->rel, it->uid, "Pixel Data is that of %s (%s)%s", other->rel,
            other->uid, placed ? "" : "; position changed too");
    } else {
        add(c, MS_CHANGE_PIXELS, it->rel, it->uid, "Pixel Data differs%s%s",
            placed ? "" : "; position ", placed ? "" : now);
    }
}

static void classify_pair(struct cmp *c, const struct msi_rec *r, const struct msi_item *it)
{
    if (!memcmp(r->file_sha, it->file_sha, MS_SHA256_LEN)) {
        if (strcmp(r->rel, it->rel))
            add(c, MS_CHANGE_RENAMED, it->rel, it->uid, "was %s", r->rel);
    } else if (r->kind != it->kind) {
        add(c, MS_CHANGE_MODIFIED, it->rel, it->uid, "was %s, now %s",
            r->kind == MSI_IMAGE ? "an image" : "a non-image object",
            it->kind == MSI_IMAGE ? "an image" : "a non-image object");
    } else if (it->kind == MSI_IMAGE) {
        classify_image(c, r, it);
    } else {
        add(c, MS_CHANGE_MODIFIED, it->rel, it->uid, "content differs");
    }
}

static void report_inserted(struct cmp *c, const struct msi_item *it, bool duplicate_uid)
{
    const struct msi_rec *copy =
        it->kind == MSI_IMAGE ? sealed_with_content(c, it->content_sha, NULL) : NULL;
    char now[96];
    place_text(it->kind == MSI_IMAGE && it->has_ipp, it->ipp, current_volume(c, it), now,
               sizeof now);
    if (copy)
        add(c, MS_CHANGE_INSERTED, it->rel, it->uid, "%scopy of the Pixel Data of %s, at %s",
            duplicate_uid ? "duplicate SOP Instance UID; " : "", copy->rel, now);
    else
        add(c, MS_CHANGE_INSERTED, it->rel, it->uid, "%s%s%s",
            duplicate_uid ? "duplicate SOP Instance UID; " : "new instance",
            it->kind == MSI_IMAGE ? ", at " : "", it->kind == MSI_IMAGE ? now : "");
}

static void report_deleted(struct cmp *c, const struct msi_rec *r)
{
    char was[96];
    place_text(r->has_ipp, r->ipp, r->volume, was, sizeof was);
    add(c, MS_CHANGE_DELETED, r->rel, r->uid, "%s%s", r->kind == MSI_IMAGE ? "image at " : "",
        r->kind == MSI_IMAGE ? was : r->kind == MSI_OBJECT ? "non-image object" : "file");
}

/* ---- matching ---------------------------------------------------------------------------------- */

/* How well a study item fits a sealed record of the same UID. */
static int fit(const struct msi_rec *r, const struct msi_item *it)
{
    if (!memcmp(r->file_sha, it->file_sha, MS_SHA256_LEN))
        return 3;
    return strcmp(r->rel, it->rel) == 0 ? 2 : 1;
}

/* One UID: sealed records sr[0..ns-1], study items ci[0..nc-1]. */
static void match_uid(struct cmp *c, const struct msi_rec **sr, size_t ns,
                      const struct msi_item **ci, size_t nc)
{
    bool used[64] = {false};
    size_t nc_used = nc < 64 ? nc : 64;
    for (size_t i = 0; i < ns; i++) {
        int best = 0;
        size_t bj = 0;
        for (size_t j = 0; j < nc_used; j++)
            if (!used[j] && fit(sr[i], ci[j]) > best) {
                best = fit(sr[i], ci[j]);
                bj = j;
            }
        if (best) {
            used[bj] = true;
            classify_pair(c, sr[i], ci[bj]);
        } else {
            report_deleted(c, sr[i]);
        }
    }
    for (size_t j = 0; j < nc; j++)
        if (j >= nc_used || !used[j])
            report_inserted(c, ci[j], ns > 0);
}

static void match_dicom(struct cmp *c, const struct msi_rec **sr, size_t ns,
                        const struct msi_item **ci, size_t nc)
{
    size_t i = 0, j = 0;
    qsort(sr, ns, sizeof *sr, cmp_rec_uid);
    qsort(ci, nc, sizeof *ci, cmp_item_uid);
    while (i < ns || j < nc) {
        int d = i == ns ? 1 : j == nc ? -1 : strcmp(sr[i]->uid, ci[j]->uid);
        const char *uid = d <= 0 ? sr[i]->uid : ci[j]->uid;
        size_t i2 = i, j2 = j;
        while (i2 < ns && !strcmp(sr[i2]->uid, uid))
            i2++;
        while (j2 < nc && !strcmp(ci[j2]->uid, uid))
            j2++;
        match_uid(c, sr + i, i2 - i, ci + j, j2 - j);
        i = i2;
        j = j2;
    }
}

/* Plain files present on both sides under one path; the pairs are cleared. */
static void files_by_path(struct cmp *c, const struct msi_rec **sr, size_t ns,
                          const struct msi_item **ci, size_t nc)
{
    size_t i = 0, j = 0;
    while (i < ns && j < nc) {
        int d = strcmp(sr[i]->rel, ci[j]->rel);
        if (d == 0) {
            if (memcmp(sr[i]->file_sha, ci[j]->file_sha, MS_SHA256_LEN))
                add(c, MS_CHANGE_MODIFIED, ci[j]->rel, "", "file content differs");
            sr[i++] = NULL;
            ci[j++] = NULL;
        } else if (d < 0) {
            i++;
        } else {
            j++;
        }
    }
}

/* A study file left over with the bytes of sealed file r, cleared; or NULL. */
static const struct msi_item *take_same_bytes(const struct msi_rec *r, const struct msi_item **ci,
                                              size_t nc)
{
    for (size_t j = 0; j < nc; j++)
        if (ci[j] && !memcmp(r->file_sha, ci[j]->file_sha, MS_SHA256_LEN)) {
            const struct msi_item *it = ci[j];
            ci[j] = NULL;
            return it;
        }
    return NULL;
}

/* Plain files: by path, then the leftovers by hash (renames). */
static void match_files(struct cmp *c, const struct msi_rec **sr, size_t ns,
                        const struct msi_item **ci, size_t nc)
{
    qsort(sr, ns, sizeof *sr, cmp_rec_rel);
    files_by_path(c, sr, ns, ci, nc);
    for (size_t i = 0; i < ns; i++) {
        const struct msi_item *it = sr[i] ? take_same_bytes(sr[i], ci, nc) : NULL;
        if (it)
            add(c, MS_CHANGE_RENAMED, it->rel, "", "was %s", sr[i]->rel);
        else if (sr[i])
            report_deleted(c, sr[i]);
    }
    for (size_t j = 0; j < nc; j++)
        if (ci[j])
            add(c, MS_CHANGE_INSERTED, ci[j]->rel, "", "file");
}

ms_status msi_compare_manifest(const struct ms_study *s, const struct msi_seal *z,
                               const long *sealed_of, struct ms_verify_result *r,
                               struct ms_error *err)
{
    struct cmp c = {.s = s, .z = z, .sealed_of = sealed_of, .r = r, .err = err};
    const struct msi_rec **sr = malloc((z->nrecs + 1) * sizeof *sr);
    const struct msi_item **ci = malloc((s->nitems + 1) * sizeof *ci);
    size_t ns, nc;

    c.by_content = malloc((z->nrecs + 1) * sizeof *c.by_content);
    if (!sr || !ci || !c.by_content) {
        free(sr);
        free(ci);
        free(c.by_content);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < z->nrecs; i++)
        if (z->recs[i].kind == MSI_IMAGE)
            c.by_content[c.ncontent++] = &z->recs[i];
    qsort(c.by_content, c.ncontent, sizeof *c.by_content, cmp_rec_content);
    ns = sealed_of_kind(z, true, sr);
    nc = items_of_kind(s, true, ci);
    match_dicom(&c, sr, ns, ci, nc);
    ns = sealed_of_kind(z, false, sr);
    nc = items_of_kind(s, false, ci);
    match_files(&c, sr, ns, ci, nc);
    if (c.st == MS_OK && r->nchanges > 1)
        qsort(r->changes, r->nchanges, sizeof *r->changes, cmp_change);
    free(sr);
    free(ci);
    free(c.by_content);
    return c.st;
}
