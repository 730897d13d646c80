/* cbc-slices (seed 004): the Pixel Data value cut into N segments (row
 * boundaries for native data), each compressed losslessly with zlib, then
 * AES-256-CBC with a random IV and HMAC-SHA256 over its header, IV and
 * ciphertext (encrypt-then-MAC), each written as a separate part OUT.partK.enc;
 * the rest of the file (header, everything but the pixel value) compressed
 * and encrypted the same way inside the index OUT, which lists the parts and
 * carries its own HMAC. Keys: HKDF-SHA256 of -k with the file id as salt.
 * unprotect finds the parts by their names' prefix, places each by the index
 * and file id inside it (any arrival order), and refuses a missing,
 * duplicated, foreign or changed part. Layout: docs/formats/cbc-slices.md. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "protect/protect_internal.h"

#define SCHEME "cbc-slices"
#define INDEX_MAGIC "MSCBCS01"
#define PART_MAGIC "MSCBCP01"
#define INDEX_HEAD 64u
#define SEG_ENTRY 32u
#define PART_HEAD 48u
#define MAX_SLICES 256u
#define DEFAULT_SLICES 4u
#define MAX_INDEX (256u << 20)

struct keys {
    uint8_t enc[32], mac[32];
};

struct seg {
    uint64_t off, len;     /* within the pixel range */
    uint64_t zlen, clen;   /* compressed, encrypted (IV + C + tag) */
};

/* ---- small helpers ------------------------------------------------------------------- */

static ms_status derive(const uint8_t k[32], const uint8_t id[16], struct keys *ks,
                        struct ms_error *err)
{
    ms_status st = msi_subkey(k, 32, id, 16, "cbc-slices v1 enc", ks->enc, err);
    if (st == MS_OK)
        st = msi_subkey(k, 32, id, 16, "cbc-slices v1 mac", ks->mac, err);
    return st;
}

static ms_status deflate_buf(const uint8_t *in, uint64_t len, uint8_t **out, uint64_t *olen,
                             struct ms_error *err)
{
    uLongf cap;
    if (len > 0xFFFFFFFFu)
        return ms_error_set(err, MS_ELIMIT, "segment too large; use more --slices");
    cap = compressBound((uLong)len);
    *out = malloc(cap ? cap : 1);
    if (!*out)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if (compress2(*out, &cap, in, (uLong)len, Z_DEFAULT_COMPRESSION) != Z_OK) {
        free(*out);
        *out = NULL;
        return ms_error_set(err, MS_EINTERNAL, "zlib compression failed");
    }
    *olen = cap;
    return MS_OK;
}

static ms_status inflate_buf(const uint8_t *in, uint64_t len, uint8_t *out, uint64_t olen,
                             struct ms_error *err)
{
    uLongf got = (uLongf)olen;
    if (olen > 0xFFFFFFFFu || len > 0xFFFFFFFFu ||
        uncompress(out, &got, in, (uLong)len) != Z_OK || got != olen)
        return ms_error_set(err, MS_EMALFORMED, "compressed data does not inflate to its size");
    return MS_OK;
}

/* Compress then encrypt-then-MAC; *out = IV || C || tag. */
static ms_status seal(const struct keys *ks, const uint8_t *aad, size_t aad_len,
                      const uint8_t *plain, uint64_t len, uint8_t **out, uint64_t *zlen,
                      uint64_t *olen, struct ms_error *err)
{
    uint8_t *z = NULL;
    size_t cap, n = 0;
    ms_status st = deflate_buf(plain, len, &z, zlen, err);
    if (st != MS_OK)
        return st;
    cap = ms_cbc_hmac_size((size_t)*zlen);
    *out = malloc(cap ? cap : 1);
    if (!*out)
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    else
        st = ms_cbc_hmac_encrypt(ks->enc, ks->mac, aad, aad_len, z, (size_t)*zlen, *out, cap, &n,
                                 err);
    free(z);
    *olen = n;
    return st;
}

/* Verify, decrypt, inflate into out (olen bytes). */
static ms_status open_sealed(const struct keys *ks, const uint8_t *aad, size_t aad_len,
                             const uint8_t *in, uint64_t len, uint8_t *out, uint64_t olen,
                             struct ms_error *err)
{
    uint8_t *z = malloc(len ? (size_t)len : 1);
    size_t zn = 0;
    ms_status st;
    if (!z)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    st = ms_cbc_hmac_decrypt(ks->enc, ks->mac, aad, aad_len, in, (size_t)len, z, (size_t)len, &zn,
                             err);
    if (st == MS_OK)
        st = inflate_buf(z, zn, out, olen, err);
    ms_crypto_wipe(z, zn);
    free(z);
    return st;
}

static ms_status part_name(char *buf, size_t cap, const char *index, unsigned k,
                           struct ms_error *err)
{
    int n = snprintf(buf, cap, "%s.part%u.enc", index, k);
    if (n < 0 || (size_t)n >= cap)
        return ms_error_set(err, MS_EIO, "output path too long");
    return MS_OK;
}

/* ---- protect -------------------------------------------------------------------------- */

struct pjob {
    struct msi_pfile pf;
    uint64_t poff, plen; /* the pixel range in the original */
    unsigned n;
    struct seg *segs;
    uint8_t id[16];
    struct keys ks;
    struct msi_wr *w;    /* n + 1 writers: parts, then the index */
};

static ms_status pixel_range(struct pjob *j, struct ms_error *err)
{
    struct msi_pfile *pf = &j->pf;
    ms_status st = msi_pfile_need_pixels(pf, true, SCHEME, err);
    if (st != MS_OK)
        return st;
    if (pf->pi.encapsulated) { /* the items after the 12-byte element header */
        j->poff = pf->top_off[pf->px_index] + 12;
        j->plen = pf->top_off[pf->px_index + 1] - j->poff;
    } else {
        j->poff = pf->px_value_off;
        j->plen = pf->px_value_len;
    }
    return MS_OK;
}

/* Segment boundaries: rows of all frames for native data, else bytes. */
static ms_status cut(struct pjob *j, struct ms_error *err)
{
    const struct ms_pixel_info *pi = &j->pf.pi;
    uint64_t bits = (uint64_t)pi->columns * pi->samples_per_pixel * pi->bits_allocated;
    uint64_t unit = (!pi->encapsulated && bits % 8 == 0) ? bits / 8 : 1;
    uint64_t units = (uint64_t)pi->rows * pi->frames;

    if (unit == 1 || units * unit > j->plen)
        units = j->plen, unit = 1;
    if (j->n > units)
        return ms_error_set(err, MS_EUSAGE, "--slices %u: the image has only %llu rows", j->n,
                            (unsigned long long)units);
    j->segs = calloc(j->n, sizeof *j->segs);
    if (!j->segs)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (unsigned k = 0; k < j->n; k++) {
        uint64_t a = units * k / j->n * unit, b = units * (k + 1) / j->n * unit;
        if (k + 1 == j->n)
            b = j->plen; /* padding after the last row goes with it */
        j->segs[k].off = a;
        j->segs[k].len = b - a;
    }
    return MS_OK;
}

static void part_head(uint8_t h[PART_HEAD], const uint8_t id[16], unsigned k, unsigned n,
                      const struct seg *s)
{
    memcpy(h, PART_MAGIC, 8);
    memcpy(h + 8, id, 16);
    msi_wr32le(h + 24, k);
    msi_wr32le(h + 28, n);
    msi_wr64le(h + 32, s->off);
    msi_wr64le(h + 40, s->len);
}

static ms_status write_part(struct pjob *j, unsigned k, const char *out, struct ms_error *err)
{
    char name[PATH_MAX];
    uint8_t h[PART_HEAD], *ct = NULL;
    struct seg *s = &j->segs[k - 1];
    ms_status st = part_name(name, sizeof name, out, k, err);

    part_head(h, j->id, k, j->n, s);
    if (st == MS_OK)
        st = seal(&j->ks, h, sizeof h, j->pf.map + j->poff + s->off, s->len, &ct, &s->zlen,
                  &s->clen, err);
    if (st == MS_OK) {
        char *copy = strdup(name);
        st = copy ? msi_wr_open(&j->w[k - 1], copy, err)
                  : ms_error_set(err, MS_ENOMEM, "out of memory");
        if (st != MS_OK)
            free(copy), j->w[k - 1].path = NULL;
    }
    if (st == MS_OK) {
        msi_wr_put(&j->w[k - 1], h, sizeof h);
        msi_wr_put(&j->w[k - 1], ct, (size_t)s->clen);
    }
    free(ct);
    return st;
}

static ms_status write_index(struct pjob *j, const char *out, const uint8_t check[8],
                             struct ms_error *err)
{
    uint64_t hlen = j->pf.size - j->plen, zlen = 0, clen = 0;
    size_t head = INDEX_HEAD + (size_t)j->n * SEG_ENTRY;
    uint8_t *hdr = malloc(hlen ? (size_t)hlen : 1), *idx = calloc(1, head + 8), *ct = NULL;
    uint8_t tag[32];
    struct msi_wr *w = &j->w[j->n];
    ms_status st = (hdr && idx) ? MS_OK : ms_error_set(err, MS_ENOMEM, "out of memory");

    if (st == MS_OK) {
        memcpy(hdr, j->pf.map, (size_t)j->poff);
        memcpy(hdr + j->poff, j->pf.map + j->poff + j->plen, (size_t)(hlen - j->poff));
        memcpy(idx, INDEX_MAGIC, 8);
        msi_wr32le(idx + 8, 1);
        msi_wr32le(idx + 12, j->n);
        memcpy(idx + 16, j->id, 16);
        memcpy(idx + 32, check, 8);
        msi_wr64le(idx + 40, j->pf.size);
        msi_wr64le(idx + 48, j->poff);
        msi_wr64le(idx + 56, j->plen);
        for (unsigned k = 0; k < j->n; k++) {
            uint8_t *e = idx + INDEX_HEAD + k * SEG_ENTRY;
            msi_wr64le(e, j->segs[k].off);
            msi_wr64le(e + 8, j->segs[k].len);
            msi_wr64le(e + 16, j->segs[k].zlen);
            msi_wr64le(e + 24, j->segs[k].clen);
        }
        /* the header blob: aad = everything before it */
        st = seal(&j->ks, idx, head, hdr, hlen, &ct, &zlen, &clen, err);
    }
    if (st == MS_OK) {
        msi_wr64le(idx + head, clen);
        st = msi_wr_open(w, out, err);
    }
    if (st == MS_OK) {
        struct ms_hmac *m = NULL;
        msi_wr_put(w, idx, head + 8);
        msi_wr_put(w, ct, (size_t)clen);
        st = ms_hmac_create(&m, j->ks.mac, 32, err);
        if (st == MS_OK)
            st = ms_hmac_update(m, idx, head + 8, err);
        if (st == MS_OK)
            st = ms_hmac_update(m, ct, (size_t)clen, err);
        if (st == MS_OK)
            st = ms_hmac_final(m, tag, err);
        ms_hmac_destroy(m);
        msi_wr_put(w, tag, sizeof tag);
    }
    if (hdr)
        ms_crypto_wipe(hdr, (size_t)hlen);
    free(hdr);
    free(idx);
    free(ct);
    return st;
}

/* Stale parts of an earlier run with more slices would only confuse a reader. */
static void remove_stale(const char *out, unsigned n)
{
    for (unsigned k = n + 1; k <= MAX_SLICES; k++) {
        char name[PATH_MAX];
        if (part_name(name, sizeof name, out, k, NULL) != MS_OK || access(name, F_OK) != 0)
            break;
        {
            FILE *f = fopen(name, "rb");
            char m[8];
            bool ours = f && fread(m, 1, 8, f) == 8 && memcmp(m, PART_MAGIC, 8) == 0;
            if (f)
                fclose(f);
            if (ours)
                unlink(name);
        }
    }
}

static ms_status finish(struct pjob *j, const char *out, bool ok, struct ms_error *err)
{
    ms_status st = MS_OK;
    unsigned done = 0;
    /* parts first, index last: an index never points at parts not yet there */
    for (unsigned k = 0; k <= j->n; k++) {
        ms_status cst = msi_wr_close(&j->w[k], ok && st == MS_OK, err);
        if (st == MS_OK)
            st = cst;
        if (st == MS_OK && ok && k < j->n)
            done = k + 1;
    }
    if (st != MS_OK || !ok) /* no index: take back the parts already in place */
        for (unsigned k = 0; k < done; k++)
            unlink(j->w[k].path);
    for (unsigned k = 0; k < j->n; k++)
        free((char *)j->w[k].path);
    if (ok && st == MS_OK)
        remove_stale(out, j->n);
    return st;
}

/* Open the input, cut it, make the file id and the keys. */
static ms_status prepare(struct pjob *j, const char *in, const struct ms_protect_options *opt,
                         uint8_t check[MS_KEY_CHECK_LEN], struct ms_error *err)
{
    uint8_t k[32];
    ms_status st = msi_load_key(opt, SCHEME, k, err);
    if (st != MS_OK)
        return st;
    st = msi_pfile_open(&j->pf, in, err);
    if (st == MS_OK)
        st = msi_pfile_refuse_protected(&j->pf, err);
    if (st == MS_OK)
        st = pixel_range(j, err);
    if (st == MS_OK)
        st = cut(j, err);
    if (st == MS_OK)
        st = ms_random_bytes(j->id, sizeof j->id, err);
    if (st == MS_OK)
        st = ms_key_check_value(k, check, err);
    if (st == MS_OK)
        st = derive(k, j->id, &j->ks, err);
    ms_crypto_wipe(k, sizeof k);
    if (st == MS_OK && !(j->w = calloc(j->n + 1, sizeof *j->w)))
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    return st;
}

static void note(const struct pjob *j, const char *out, struct ms_protect_report *rep)
{
    const char *base = strrchr(out, '/');
    snprintf(rep->note, sizeof rep->note,
             "index %s + %u parts .part1..%u.enc; pixel data zlib-compressed to %.1f%% of "
             "its size",
             base ? base + 1 : out, j->n, j->n,
             j->plen ? 100.0 * (double)rep->scheme_packed_bytes / (double)j->plen : 0.0);
}

static ms_status cbcs_protect(const char *in, const char *out,
                              const struct ms_protect_options *opt,
                              struct ms_protect_report *rep, struct ms_error *err)
{
    struct pjob j;
    uint8_t check[MS_KEY_CHECK_LEN];
    ms_status st;

    memset(&j, 0, sizeof j);
    j.n = opt->slices ? opt->slices : DEFAULT_SLICES;
    if (j.n > MAX_SLICES)
        return ms_error_set(err, MS_EUSAGE, "--slices: 1 to %u", MAX_SLICES);
    st = prepare(&j, in, opt, check, err);
    for (unsigned p = 1; st == MS_OK && p <= j.n; p++)
        st = write_part(&j, p, out, err);
    if (st == MS_OK)
        st = write_index(&j, out, check, err);
    if (j.w) {
        ms_status fst;
        for (unsigned p = 0; p <= j.n; p++)
            rep->bytes_out += j.w[p].pos;
        rep->scheme_plain_bytes = j.plen;
        for (unsigned p = 0; p < j.n; p++) /* its own zlib; --compress is not its business */
            rep->scheme_packed_bytes += j.segs[p].zlen;
        fst = finish(&j, out, st == MS_OK, err);
        if (st == MS_OK)
            st = fst;
    }
    rep->bytes_in = j.pf.size;
    if (st == MS_OK)
        note(&j, out, rep);
    ms_crypto_wipe(&j.ks, sizeof j.ks);
    free(j.w);
    free(j.segs);
    msi_pfile_close(&j.pf);
    return st;
}

/* ---- unprotect ---------------------------------------------------------------------------- */

struct ujob {
    const uint8_t *map;
    uint64_t size;
    unsigned n;
    uint64_t osize, poff, plen;
    struct seg *segs;
    struct keys ks;
    char **parts; /* n paths, by part number */
};

static ms_status read_index(struct ujob *j, const struct ms_protect_options *opt,
                            struct ms_error *err)
{
    uint8_t k[32], check[MS_KEY_CHECK_LEN];
    size_t head;
    ms_status st;

    if (j->size < INDEX_HEAD + 8 + 32 || memcmp(j->map, INDEX_MAGIC, 8) != 0)
        return ms_error_set(err, MS_EMALFORMED, "not a cbc-slices index");
    if (msi_rd32le(j->map + 8) != 1)
        return ms_error_set(err, MS_EUNSUPPORTED, "cbc-slices index version %u",
                            msi_rd32le(j->map + 8));
    j->n = msi_rd32le(j->map + 12);
    head = INDEX_HEAD + (size_t)j->n * SEG_ENTRY;
    if (j->n == 0 || j->n > MAX_SLICES || j->size < head + 8 + 32 ||
        msi_rd64le(j->map + head) != j->size - head - 8 - 32)
        return ms_error_set(err, MS_EMALFORMED, "cbc-slices index truncated or damaged");
    if ((st = msi_load_key(opt, SCHEME, k, err)) != MS_OK)
        return st;
    st = ms_key_check_value(k, check, err);
    if (st == MS_OK && !ms_crypto_equal(check, j->map + 32, MS_KEY_CHECK_LEN))
        st = ms_error_set(err, MS_EKEY, "wrong key: its check value differs from the one used");
    if (st == MS_OK)
        st = derive(k, j->map + 16, &j->ks, err);
    ms_crypto_wipe(k, sizeof k);
    if (st != MS_OK)
        return st;
    st = ms_hmac_sha256_verify(j->ks.mac, 32, j->map, (size_t)j->size - 32,
                               j->map + j->size - 32, 32, err);
    if (st == MS_EKEY)
        return ms_error_set(err, MS_EKEY, "authentication failed: the index changed");
    return st;
}

static ms_status parse_index(struct ujob *j, struct ms_error *err)
{
    uint64_t at = 0;
    j->osize = msi_rd64le(j->map + 40);
    j->poff = msi_rd64le(j->map + 48);
    j->plen = msi_rd64le(j->map + 56);
    j->segs = calloc(j->n, sizeof *j->segs);
    j->parts = calloc(j->n, sizeof *j->parts);
    if (!j->segs || !j->parts)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if (j->plen > j->osize || j->poff > j->osize - j->plen)
        return ms_error_set(err, MS_EMALFORMED, "cbc-slices index sizes inconsistent");
    for (unsigned k = 0; k < j->n; k++) {
        const uint8_t *e = j->map + INDEX_HEAD + k * SEG_ENTRY;
        struct seg *s = &j->segs[k];
        s->off = msi_rd64le(e);
        s->len = msi_rd64le(e + 8);
        s->zlen = msi_rd64le(e + 16);
        s->clen = msi_rd64le(e + 24);
        if (s->off != at || s->len > j->plen - at)
            return ms_error_set(err, MS_EMALFORMED, "cbc-slices segments inconsistent");
        at += s->len;
    }
    if (at != j->plen)
        return ms_error_set(err, MS_EMALFORMED, "cbc-slices segments do not cover the pixels");
    return MS_OK;
}

/* Place one candidate file: ours (magic, file id) and its number. */
static ms_status consider(struct ujob *j, const char *path, struct ms_error *err)
{
    uint8_t h[PART_HEAD];
    FILE *f = fopen(path, "rb");
    bool ok = f && fread(h, 1, sizeof h, f) == sizeof h;
    unsigned k;
    if (f)
        fclose(f);
    if (!ok || memcmp(h, PART_MAGIC, 8) != 0 || memcmp(h + 8, j->map + 16, 16) != 0)
        return MS_OK; /* not a part of this file: ignored */
    k = msi_rd32le(h + 24);
    if (k == 0 || k > j->n)
        return ms_error_set(err, MS_EKEY, "part %s claims number %u of %u", path, k, j->n);
    if (j->parts[k - 1])
        return ms_error_set(err, MS_EKEY, "part %u of %u arrived twice", k, j->n);
    j->parts[k - 1] = strdup(path);
    return j->parts[k - 1] ? MS_OK : ms_error_set(err, MS_ENOMEM, "out of memory");
}

/* Files named INDEX.part*.enc next to the index, in whatever order. */
static ms_status find_parts(struct ujob *j, const char *in, struct ms_error *err)
{
    const char *slash = strrchr(in, '/');
    char dir[PATH_MAX], prefix[NAME_MAX + 8], path[PATH_MAX];
    size_t plen;
    DIR *d;
    struct dirent *e;
    ms_status st = MS_OK;

    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - in) : 1, slash ? in : ".");
    if (slash == in)
        snprintf(dir, sizeof dir, "/");
    snprintf(prefix, sizeof prefix, "%s.part", slash ? slash + 1 : in);
    plen = strlen(prefix);
    if (!(d = opendir(dir)))
        return ms_error_set(err, MS_EIO, "cannot list %s: %s", dir, strerror(errno));
    while (st == MS_OK && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= plen + 4 || strncmp(e->d_name, prefix, plen) != 0 ||
            strcmp(e->d_name + n - 4, ".enc") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        st = consider(j, path, err);
    }
    closedir(d);
    for (unsigned k = 0; st == MS_OK && k < j->n; k++)
        if (!j->parts[k])
            st = ms_error_set(err, MS_EKEY, "part %u of %u is missing (or is not this file's)",
                              k + 1, j->n);
    return st;
}

static ms_status put_part(struct ujob *j, unsigned k, struct msi_wr *w, struct ms_error *err)
{
    const struct seg *s = &j->segs[k];
    const uint8_t *p = NULL;
    uint64_t size = 0;
    uint8_t h[PART_HEAD], *plain;
    ms_status st = msi_map_file(j->parts[k], &p, &size, err);

    if (st != MS_OK)
        return st;
    part_head(h, j->map + 16, k + 1, j->n, s);
    if (size != PART_HEAD + s->clen || memcmp(p, h, PART_HEAD) != 0) {
        msi_unmap_file(p, size);
        return ms_error_set(err, MS_EKEY, "part %u of %u: truncated or not the one indexed", k + 1,
                            j->n);
    }
    plain = malloc(s->len ? (size_t)s->len : 1);
    st = plain ? open_sealed(&j->ks, h, PART_HEAD, p + PART_HEAD, s->clen, plain, s->len, err)
               : ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st == MS_EKEY)
        st = ms_error_set(err, MS_EKEY, "authentication failed: part %u of %u changed", k + 1,
                          j->n);
    if (st == MS_OK)
        msi_wr_put(w, plain, (size_t)s->len);
    if (plain)
        ms_crypto_wipe(plain, (size_t)s->len);
    free(plain);
    msi_unmap_file(p, size);
    return st;
}

static ms_status assemble(struct ujob *j, const char *out, struct ms_protect_report *rep,
                          struct ms_error *err)
{
    size_t head = INDEX_HEAD + (size_t)j->n * SEG_ENTRY;
    uint64_t hlen = j->osize - j->plen, clen = msi_rd64le(j->map + head);
    uint8_t *hdr = malloc(hlen ? (size_t)hlen : 1);
    struct msi_wr *w = malloc(sizeof *w);
    ms_status st = (hdr && w) ? MS_OK : ms_error_set(err, MS_ENOMEM, "out of memory");

    if (st == MS_OK)
        st = open_sealed(&j->ks, j->map, head, j->map + head + 8, clen, hdr, hlen, err);
    if (st == MS_EKEY)
        st = ms_error_set(err, MS_EKEY, "authentication failed: the index changed");
    if (st == MS_OK)
        st = msi_wr_open(w, out, err);
    if (st == MS_OK) {
        msi_wr_put(w, hdr, (size_t)j->poff);
        for (unsigned k = 0; st == MS_OK && k < j->n; k++)
            st = put_part(j, k, w, err);
        if (st == MS_OK)
            msi_wr_put(w, hdr + j->poff, (size_t)(hlen - j->poff));
        rep->bytes_out = w->pos;
        st = msi_wr_finish(w, st, err);
    }
    if (hdr)
        ms_crypto_wipe(hdr, (size_t)hlen);
    free(hdr);
    free(w);
    return st;
}

static ms_status cbcs_unprotect(const char *in, const char *out,
                                const struct ms_protect_options *opt,
                                struct ms_protect_report *rep, struct ms_error *err)
{
    struct ujob j;
    ms_status st;

    memset(&j, 0, sizeof j);
    st = msi_map_file(in, &j.map, &j.size, err);
    if (st == MS_OK && j.size > MAX_INDEX)
        st = ms_error_set(err, MS_ELIMIT, "cbc-slices index too large");
    if (st == MS_OK)
        st = read_index(&j, opt, err);
    if (st == MS_OK)
        st = parse_index(&j, err);
    if (st == MS_OK)
        st = find_parts(&j, in, err);
    if (st == MS_OK)
        st = assemble(&j, out, rep, err);
    rep->bytes_in = j.size;
    if (st == MS_OK) { /* the parts were read too (each checked to be this size) */
        rep->scheme_plain_bytes = j.plen;
        for (unsigned k = 0; k < j.n; k++) {
            rep->bytes_in += PART_HEAD + j.segs[k].clen;
            rep->scheme_packed_bytes += j.segs[k].zlen;
        }
    }
    for (unsigned k = 0; j.parts && k < j.n; k++)
        free(j.parts[k]);
    free(j.parts);
    free(j.segs);
    ms_crypto_wipe(&j.ks, sizeof j.ks);
    msi_unmap_file(j.map, j.size);
    return st;
}

static bool cbcs_identify(const char *path, const uint8_t *head, size_t len)
{
    return len >= 8 && memcmp(head, INDEX_MAGIC, 8) == 0;
}

bool msi_cbc_slices_is_part(const uint8_t *head, size_t len)
{
    return len >= 8 && memcmp(head, PART_MAGIC, 8) == 0;
}

const struct msi_scheme msi_scheme_cbc_slices = {
    .info = {SCHEME, "seed 004", "paper mode",
              "zlib, N slices in AES-256-CBC + HMAC, separate parts + index", ".cbcs", false},
    .protect = cbcs_protect,
    .unprotect = cbcs_unprotect,
    .identify = cbcs_identify,
};
