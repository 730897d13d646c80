/* otp (seed 004): a one-time pad over the patient metadata text (the
 * identifying attributes, idattrs.c), whose values are emptied in the output.
 * The pad (as long as the text) and a MAC key live in a one-time key store
 * directory (--otp-store), one file per pad; the protected file names its pad
 * by a random id. unprotect claims the pad (an atomic rename, so two users
 * cannot both take it), checks the MACs, restores the file, then overwrites
 * and deletes the pad and leaves a tombstone: a second use is refused. Pads
 * past their expiry (--otp-ttl, default 7 days) are destroyed whenever the
 * store is used. Formats: docs/formats/protected-dicom.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "medseal/util.h"
#include "protect/protect_internal.h"

#define SCHEME "otp"
#define PAD_MAGIC "MSOTPAD1"
#define PAD_HEAD 64u
#define BLOB_HEAD 92u
#define DEFAULT_TTL (7u * 86400u)
#define MAX_TTL (100ull * 365 * 86400)
#define MAX_TEXT (16u << 20)

/* ---- the key store ----------------------------------------------------------------------- */

static void id_hex(const uint8_t id[16], char out[33])
{
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", id[i]);
}

static ms_status store_path(char *buf, size_t cap, const char *store, const char *hex,
                            const char *ext, struct ms_error *err)
{
    int n = snprintf(buf, cap, "%s/%s%s", store, hex, ext);
    if (n < 0 || (size_t)n >= cap)
        return ms_error_set(err, MS_EIO, "one-time key store path too long");
    return MS_OK;
}

/* Overwrite a file with zeros, sync, delete it. */
static void destroy_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        struct stat st;
        static const uint8_t zeros[4096];
        if (fstat(fd, &st) == 0)
            for (off_t at = 0; at < st.st_size;) {
                size_t n = (size_t)(st.st_size - at) > sizeof zeros ? sizeof zeros
                                                                   : (size_t)(st.st_size - at);
                ssize_t w = pwrite(fd, zeros, n, at);
                if (w <= 0)
                    break;
                at += w;
            }
        fsync(fd);
        close(fd);
    }
    unlink(path);
}

static void tombstone(const char *store, const char *hex, const char *what)
{
    char path[PATH_MAX], line[96];
    time_t now = time(NULL);
    struct tm tm;
    int fd, n;
    if (store_path(path, sizeof path, store, hex, ".used", NULL) != MS_OK)
        return;
    gmtime_r(&now, &tm);
    n = snprintf(line, sizeof line, "%s %04d-%02d-%02dT%02d:%02d:%02dZ\n", what,
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, line, (size_t)n) != n) { /* the pad is gone either way */
    }
    fsync(fd);
    close(fd);
}

static bool read_all(const char *path, uint8_t **data, size_t *len, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    ssize_t got = 0;
    *data = NULL;
    if (fd < 0)
        return false;
    if (fstat(fd, &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > max ||
        !(*data = malloc((size_t)st.st_size + 1))) {
        close(fd);
        return false;
    }
    while ((size_t)got < (size_t)st.st_size) {
        ssize_t n = read(fd, *data + got, (size_t)st.st_size - (size_t)got);
        if (n <= 0)
            break;
        got += n;
    }
    close(fd);
    *len = (size_t)got;
    return (size_t)got == (size_t)st.st_size;
}

static bool is_pad_name(const char *name)
{
    size_t n = strlen(name);
    if (n != 36 || strcmp(name + 32, ".pad") != 0)
        return false;
    for (size_t i = 0; i < 32; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return true;
}

/* Destroy every pad past its expiry. */
static void sweep(const char *store)
{
    DIR *d = opendir(store);
    struct dirent *e;
    uint64_t now = (uint64_t)time(NULL);
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[PATH_MAX], hex[33];
        uint8_t head[PAD_HEAD];
        int fd;
        bool expired;
        if (!is_pad_name(e->d_name) ||
            store_path(path, sizeof path, store, e->d_name, "", NULL) != MS_OK)
            continue;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        expired = read(fd, head, sizeof head) == (ssize_t)sizeof head &&
                  memcmp(head, PAD_MAGIC, 8) == 0 && msi_rd64le(head + 16) <= now;
        close(fd);
        if (!expired)
            continue;
        memcpy(hex, e->d_name, 32);
        hex[32] = '\0';
        destroy_file(path);
        tombstone(store, hex, "expired");
    }
    closedir(d);
}

static ms_status open_store(const struct ms_protect_options *opt, bool create,
                            struct ms_error *err)
{
    if (!opt->otp_store || !*opt->otp_store)
        return ms_error_set(err, MS_EUSAGE, "otp needs a one-time key store: --otp-store DIR");
    if (create && !ms_is_dir(opt->otp_store) && mkdir(opt->otp_store, 0700) != 0 &&
        errno != EEXIST)
        return ms_error_set(err, MS_EIO, "cannot create the one-time key store: %s",
                            strerror(errno));
    if (!ms_is_dir(opt->otp_store))
        return ms_error_set(err, MS_EIO, "the one-time key store is not a directory");
    sweep(opt->otp_store);
    return MS_OK;
}

/* Write the pad file; link() refuses an existing id, so a pad is never
 * replaced or reused. */
static ms_status write_pad(const char *store, const char *hex, const uint8_t *head,
                           const uint8_t *pad, size_t len, struct ms_error *err)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    int fd;
    bool ok;
    ms_status st = store_path(path, sizeof path, store, hex, ".pad", err);
    if (st == MS_OK)
        st = store_path(tmp, sizeof tmp, store, hex, ".new.XXXXXX", err);
    if (st != MS_OK)
        return st;
    fd = mkstemp(tmp);
    if (fd < 0)
        return ms_error_set(err, MS_EIO, "cannot write to the one-time key store: %s",
                            strerror(errno));
    fchmod(fd, 0600);
    ok = msi_fd_sink(&fd, head, PAD_HEAD) == 0 && msi_fd_sink(&fd, pad, len) == 0 &&
         fsync(fd) == 0;
    close(fd);
    if (ok && link(tmp, path) != 0)
        ok = false;
    if (!ok) {
        destroy_file(tmp);
        return ms_error_set(err, MS_EIO, "cannot write a pad to the one-time key store");
    }
    unlink(tmp);
    return MS_OK;
}

/* ---- MACs ------------------------------------------------------------------------------ */

static ms_status tag_text(const uint8_t mac[32], const uint8_t id[16], const uint8_t *c, size_t n,
                          uint8_t tag[32], struct ms_error *err)
{
    struct ms_hmac *m = NULL;
    ms_status st = ms_hmac_create(&m, mac, 32, err);
    if (st == MS_OK)
        st = ms_hmac_update(m, "medseal otp v1", 14, err);
    if (st == MS_OK)
        st = ms_hmac_update(m, id, 16, err);
    if (st == MS_OK)
        st = ms_hmac_update(m, c, n, err);
    if (st == MS_OK)
        st = ms_hmac_final(m, tag, err);
    ms_hmac_destroy(m);
    return st;
}

static ms_status tag_file(const uint8_t mac[32], const uint8_t digest[32], uint8_t tag[32],
                          struct ms_error *err)
{
    uint8_t msg[19 + 32];
    memcpy(msg, "medseal otp v1 file", 19);
    memcpy(msg + 19, digest, 32);
    return ms_hmac_sha256(mac, 32, msg, sizeof msg, tag, err);
}

/* ---- protect ----------------------------------------------------------------------------- */

struct pjob {
    struct msi_pfile pf;
    struct msi_idattrs ia;
    uint8_t *blob, *pad;
    size_t blob_len;
    uint8_t head[PAD_HEAD]; /* pad file header: magic, times, length, MAC key */
    char hex[33];
    uint64_t ttl;
};

static ms_status seal_text(struct pjob *j, struct ms_error *err)
{
    size_t n = j->ia.text_len;
    uint64_t now = (uint64_t)time(NULL);
    uint8_t digest[32], *c;
    ms_status st;

    j->blob_len = BLOB_HEAD + n;
    j->blob = calloc(1, j->blob_len);
    j->pad = malloc(n ? n : 1);
    if (!j->blob || !j->pad)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    c = j->blob + BLOB_HEAD;
    memcpy(j->head, PAD_MAGIC, 8);
    msi_wr64le(j->head + 8, now);
    msi_wr64le(j->head + 16, now + j->ttl);
    msi_wr64le(j->head + 24, n);
    st = ms_random_bytes(j->blob, 16, err); /* pad id */
    if (st == MS_OK)
        st = ms_random_bytes(j->head + 32, 32, err);
    if (st == MS_OK)
        st = ms_random_bytes(j->pad, n, err);
    for (size_t i = 0; st == MS_OK && i < n; i++)
        c[i] = (uint8_t)j->ia.text[i] ^ j->pad[i];
    msi_wr64le(j->blob + 16, now + j->ttl);
    msi_wr32le(j->blob + 88, (uint32_t)n);
    if (st == MS_OK)
        st = tag_text(j->head + 32, j->blob, c, n, j->blob + 24, err);
    if (st == MS_OK)
        st = ms_sha256(j->pf.map, (size_t)j->pf.size, digest, err);
    if (st == MS_OK)
        st = tag_file(j->head + 32, digest, j->blob + 56, err);
    id_hex(j->blob, j->hex);
    return st;
}

static ms_status write_protected(struct pjob *j, const char *out, struct ms_protect_report *rep,
                                 struct ms_error *err)
{
    struct msi_pblock_out pb = {0};
    struct msi_edit blk[2], *edits = NULL;
    struct msi_wr *w = malloc(sizeof *w);
    char params[256];
    size_t ne = 0;
    ms_status st;

    snprintf(params, sizeof params,
             "cipher=one-time pad (XOR) over the patient metadata text (%zu attributes emptied) "
             "mac=HMAC-SHA256 pad-id=%s",
             j->ia.count, j->hex);
    st = w ? msi_pblock_encode(&j->pf, SCHEME, params, j->blob, j->blob_len, &pb, err)
           : ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st == MS_OK)
        st = msi_idattrs_edits(&j->ia, blk, msi_pblock_insertion(&pb, blk), &edits, &ne, err);
    if (st == MS_OK && (st = msi_wr_open(w, out, err)) == MS_OK) {
        st = msi_copy_range(w, &j->pf, 0, j->pf.size, edits, ne, NULL, err);
        rep->bytes_out = w->pos;
        st = msi_wr_finish(w, st, err);
    }
    free(edits);
    free(w);
    msi_pblock_free(&pb);
    return st;
}

static ms_status otp_protect(const char *in, const char *out, const struct ms_protect_options *opt,
                             struct ms_protect_report *rep, struct ms_error *err)
{
    struct pjob j;
    ms_status st;

    memset(&j, 0, sizeof j);
    j.ttl = opt->otp_ttl ? opt->otp_ttl : DEFAULT_TTL;
    if (j.ttl > MAX_TTL)
        return ms_error_set(err, MS_EUSAGE, "--otp-ttl: give seconds, or a number with s, m, h or d");
    if ((st = open_store(opt, true, err)) != MS_OK)
        return st;
    if ((st = msi_pfile_open(&j.pf, in, err)) != MS_OK)
        return st;
    st = msi_pfile_refuse_protected(&j.pf, err);
    if (st == MS_OK)
        st = msi_idattrs_take(&j.pf, &j.ia, err);
    if (st == MS_OK && j.ia.text_len > MAX_TEXT)
        st = ms_error_set(err, MS_ELIMIT, "patient metadata text too long");
    if (st == MS_OK)
        st = seal_text(&j, err);
    if (st == MS_OK)
        st = write_pad(opt->otp_store, j.hex, j.head, j.pad, j.ia.text_len, err);
    if (st == MS_OK) {
        rep->bytes_in = j.pf.size;
        st = write_protected(&j, out, rep, err);
        if (st != MS_OK) { /* no output: the pad must not outlive it */
            char path[PATH_MAX];
            if (store_path(path, sizeof path, opt->otp_store, j.hex, ".pad", NULL) == MS_OK)
                destroy_file(path);
        }
    }
    if (st == MS_OK)
        snprintf(rep->note, sizeof rep->note,
                 "%zu identifying attribute(s) under one-time pad %.8s..., pixels untouched",
                 j.ia.count, j.hex);
    if (j.pad)
        ms_crypto_wipe(j.pad, j.ia.text_len);
    ms_crypto_wipe(j.head, sizeof j.head);
    free(j.pad);
    free(j.blob);
    msi_idattrs_free(&j.ia);
    msi_pfile_close(&j.pf);
    return st;
}

/* ---- unprotect ----------------------------------------------------------------------------- */

struct ujob {
    struct msi_pfile pf;
    const char *store;
    char hex[33], pad_path[PATH_MAX], claim_path[PATH_MAX];
    uint8_t *padfile;
    size_t padfile_len;
    bool claimed;
    char *text;
    size_t text_len;
};

/* Take the pad for ourselves, or say why it cannot be had. */
static ms_status claim(struct ujob *j, struct ms_error *err)
{
    char used[PATH_MAX];
    uint8_t *t = NULL;
    size_t n = 0;
    ms_status st = store_path(j->pad_path, sizeof j->pad_path, j->store, j->hex, ".pad", err);
    if (st == MS_OK)
        st = store_path(j->claim_path, sizeof j->claim_path, j->store, j->hex, ".claim", err);
    if (st == MS_OK)
        st = store_path(used, sizeof used, j->store, j->hex, ".used", err);
    if (st != MS_OK)
        return st;
    if (rename(j->pad_path, j->claim_path) == 0) {
        j->claimed = true;
        return MS_OK;
    }
    if (read_all(used, &t, &n, 256) && n > 0) {
        t[n] = '\0';
        t[strcspn((char *)t, "\n")] = '\0';
        st = ms_error_set(err, MS_EKEY, "one-time pad %.8s... was already %s; reuse refused",
                          j->hex, (char *)t);
    } else {
        st = ms_error_set(err, MS_EKEY,
                          "one-time pad %.8s... is not in the store (wrong --otp-store, or in "
                          "use)",
                          j->hex);
    }
    free(t);
    return st;
}

static void release(struct ujob *j, bool used)
{
    if (!j->claimed)
        return;
    if (used) {
        destroy_file(j->claim_path);
        tombstone(j->store, j->hex, "used");
    } else if (rename(j->claim_path, j->pad_path) != 0) {
        destroy_file(j->claim_path);
    }
    j->claimed = false;
}

static ms_status open_text(struct ujob *j, struct ms_error *err)
{
    const uint8_t *b = j->pf.pb.blob, *c = b + BLOB_HEAD, *pad, *mac;
    uint64_t n = msi_rd32le(b + 88);
    uint8_t tag[32];
    ms_status st;

    if (n > j->pf.pb.blob_len - BLOB_HEAD)
        return ms_error_set(err, MS_EMALFORMED, "otp parameters are truncated");
    if (!read_all(j->claim_path, &j->padfile, &j->padfile_len, MAX_TEXT + PAD_HEAD) ||
        j->padfile_len < PAD_HEAD || memcmp(j->padfile, PAD_MAGIC, 8) != 0 ||
        msi_rd64le(j->padfile + 24) != n || j->padfile_len != PAD_HEAD + n)
        return ms_error_set(err, MS_EKEY, "one-time pad %.8s... is damaged or not this file's",
                            j->hex);
    if (msi_rd64le(j->padfile + 16) <= (uint64_t)time(NULL)) {
        destroy_file(j->claim_path);
        tombstone(j->store, j->hex, "expired");
        j->claimed = false;
        return ms_error_set(err, MS_EKEY, "one-time pad %.8s... has expired and was destroyed",
                            j->hex);
    }
    mac = j->padfile + 32;
    pad = j->padfile + PAD_HEAD;
    st = tag_text(mac, b, c, (size_t)n, tag, err);
    if (st == MS_OK && !ms_crypto_equal(tag, b + 24, 32))
        return ms_error_set(err, MS_EKEY,
                            "authentication failed: the sealed metadata or the pad id changed");
    j->text = malloc((size_t)n + 1);
    if (!j->text)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (uint64_t i = 0; i < n; i++)
        j->text[i] = (char)(c[i] ^ pad[i]);
    j->text[n] = '\0';
    j->text_len = (size_t)n;
    return st;
}

static ms_status copy_pass(void *ctx, struct msi_wr *w, struct msi_edit *edits, size_t ne,
                           struct ms_error *err)
{
    struct ujob *j = ctx;
    return msi_copy_range(w, &j->pf, 0, j->pf.size, edits, ne, NULL, err);
}

static ms_status output_tag(void *ctx, const uint8_t digest[32], uint8_t tag[32],
                            struct ms_error *err)
{
    struct ujob *j = ctx;
    return tag_file(j->padfile + 32, digest, tag, err);
}

static ms_status write_restored(struct ujob *j, const char *out, struct ms_protect_report *rep,
                                struct ms_error *err)
{
    struct msi_restore r = {j->text, j->text_len, copy_pass, output_tag, j, j->pf.pb.blob + 56};
    return msi_write_restored(&j->pf, out, &r, rep, err);
}

static ms_status otp_unprotect(const char *in, const char *out,
                               const struct ms_protect_options *opt,
                               struct ms_protect_report *rep, struct ms_error *err)
{
    struct ujob j;
    ms_status st;

    memset(&j, 0, sizeof j);
    if ((st = open_store(opt, false, err)) != MS_OK)
        return st;
    j.store = opt->otp_store;
    if ((st = msi_pfile_open(&j.pf, in, err)) != MS_OK)
        return st;
    st = msi_pfile_need_block(&j.pf, SCHEME, BLOB_HEAD, err);
    if (st == MS_OK) {
        id_hex(j.pf.pb.blob, j.hex);
        st = claim(&j, err);
    }
    if (st == MS_OK)
        st = open_text(&j, err);
    if (st == MS_OK) {
        rep->bytes_in = j.pf.size;
        st = write_restored(&j, out, rep, err);
    }
    release(&j, st == MS_OK);
    if (j.text)
        ms_crypto_wipe(j.text, j.text_len);
    if (j.padfile)
        ms_crypto_wipe(j.padfile, j.padfile_len);
    free(j.text);
    free(j.padfile);
    msi_pfile_close(&j.pf);
    return st;
}

const struct msi_scheme msi_scheme_otp = {
    .info = {SCHEME, "seed 004", "paper mode",
              "one-time pad over the patient metadata; pad destroyed after use or expiry", "", false},
    .protect = otp_protect,
    .unprotect = otp_unprotect,
};
