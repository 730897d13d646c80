/* The table of protection schemes, and dispatch: protect by name, unprotect
 * by recognising the input. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "internal.h"
#include "protect/protect_internal.h"
#include "protect/scheme.h"

/* Each scheme is defined in its own file. The order is the order of
 * docs/protect.md: strong defaults first, papers' schemes after. */
extern const struct msi_scheme msi_scheme_deid;
extern const struct msi_scheme msi_scheme_cms;
extern const struct msi_scheme msi_scheme_pixel_gcm;
extern const struct msi_scheme msi_scheme_chaos;
extern const struct msi_scheme msi_scheme_ecb;
extern const struct msi_scheme msi_scheme_otp;
extern const struct msi_scheme msi_scheme_stego;
extern const struct msi_scheme msi_scheme_cbc_slices;

static const struct msi_scheme *const schemes[] = {
    &msi_scheme_cms,
    &msi_scheme_deid,
    &msi_scheme_pixel_gcm,
    &msi_scheme_chaos,
    &msi_scheme_ecb,
    &msi_scheme_cbc_slices,
    &msi_scheme_otp,
    &msi_scheme_stego,
    NULL
};

#define SCHEME_COUNT (sizeof schemes / sizeof schemes[0] - 1)

void msi_protect_report_sizes(struct ms_protect_report *rep, const char *in, const char *out)
{
    struct stat sb;
    if (stat(in, &sb) == 0)
        rep->bytes_in = (uint64_t)sb.st_size;
    if (stat(out, &sb) == 0)
        rep->bytes_out = (uint64_t)sb.st_size;
}

size_t ms_scheme_count(void)
{
    return SCHEME_COUNT;
}

const struct ms_scheme_info *ms_scheme_at(size_t i)
{
    return i < SCHEME_COUNT ? &schemes[i]->info : NULL;
}

static const struct msi_scheme *find(const char *name)
{
    for (size_t i = 0; i < SCHEME_COUNT; i++)
        if (strcmp(schemes[i]->info.name, name) == 0)
            return schemes[i];
    return NULL;
}

const struct ms_scheme_info *ms_scheme_find(const char *name)
{
    const struct msi_scheme *s = find(name);
    return s ? &s->info : NULL;
}

/* A fresh empty temporary file next to path (its name in buf). */
static ms_status make_temp(const char *path, char *buf, size_t cap, struct ms_error *err)
{
    int fd;
    ms_status st = msi_atomic_open(path, buf, cap, &fd, err);
    if (st == MS_OK)
        close(fd);
    return st;
}

/* Compression before the scheme, armor after it: each stage writes a
 * temporary file next to out that the next stage reads. */
static ms_status protect_staged(const struct msi_scheme *s, const char *in, const char *out,
                                const struct ms_protect_options *opt,
                                struct ms_protect_report *rep, struct ms_error *err)
{
    char zipped[4096] = "", raw[4096] = "";
    const char *src = in, *dst = out;
    ms_status st = MS_OK;

    if (opt->compress) {
        st = make_temp(out, zipped, sizeof zipped, err);
        if (st == MS_OK)
            st = msi_compress_file(in, zipped, opt->compress, rep, err);
        src = zipped;
    }
    if (st == MS_OK && opt->armor) {
        st = make_temp(out, raw, sizeof raw, err);
        dst = raw;
    }
    if (st == MS_OK)
        st = s->protect(src, dst, opt, rep, err);
    if (st == MS_OK && opt->armor)
        st = ms_armor_file(raw, out, err);
    if (zipped[0])
        unlink(zipped);
    if (raw[0])
        unlink(raw);
    if (st == MS_OK && (opt->compress || opt->armor)) {
        /* the scheme saw the compressed file; it wrote out itself (and, for
           cbc-slices, its parts) unless the armor stage did */
        uint64_t written = rep->bytes_out;
        msi_protect_report_sizes(rep, in, out);
        if (!opt->armor && written)
            rep->bytes_out = written;
    }
    return st;
}

ms_status ms_protect_file(const char *in, const char *out, const struct ms_protect_options *opt,
                          struct ms_protect_report *rep, struct ms_error *err)
{
    static const struct ms_protect_options defaults;
    struct ms_protect_report local;
    const char *name;
    const struct msi_scheme *s;

    if (!opt)
        opt = &defaults;
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    name = opt->scheme ? opt->scheme : "cms";
    s = find(name);
    if (!s)
        return ms_error_set(err, MS_EUSAGE, "unknown scheme '%s'", name);
    if (s->info.needs_force && !opt->force)
        return ms_error_set(err, MS_EUSAGE,
                            "scheme '%s' is %s; it is refused unless forced (--i-know)", name,
                            s->info.label);
    if (opt->compress && !msi_compress_syntax(opt->compress))
        return ms_error_set(err, MS_EUSAGE, "unknown compression '%s' (deflate, rle, jpeg-ls)",
                            opt->compress);
    if (opt->armor && s == &msi_scheme_cbc_slices)
        return ms_error_set(err, MS_EUSAGE, "--armor cannot wrap cbc-slices' several output files");
    rep->scheme = &s->info;
    return protect_staged(s, in, out, opt, rep, err);
}

#define HEAD_LEN 512 /* first bytes every scheme's identify() gets */

/* First bytes of a file, for recognition. */
static size_t read_head(const char *path, uint8_t *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    if (fd < 0)
        return 0;
    n = read(fd, buf, cap);
    close(fd);
    return n > 0 ? (size_t)n : 0;
}

static bool is_output_of(const struct msi_scheme *s, const char *path, const uint8_t *head,
                         size_t len)
{
    return s->identify ? s->identify(path, head, len) : msi_pblock_identify(path, s->info.name);
}

static const struct msi_scheme *identify(const char *path, const uint8_t *head, size_t len)
{
    for (size_t i = 0; i < SCHEME_COUNT; i++)
        if (is_output_of(schemes[i], path, head, len))
            return schemes[i];
    return NULL;
}

bool ms_protect_is_auxiliary(const char *path)
{
    uint8_t head[512];
    size_t len = read_head(path, head, sizeof head);
    return msi_cbc_slices_is_part(head, len);
}

const struct ms_scheme_info *ms_protect_identify(const char *path)
{
    uint8_t head[HEAD_LEN];
    size_t len = read_head(path, head, sizeof head);
    const struct msi_scheme *s = identify(path, head, len);
    return s ? &s->info : NULL;
}

/* The scheme's output goes to a temporary file; medseal's compression is
 * undone from there into out, or the file is renamed to out. */
static ms_status unprotect_staged(const struct msi_scheme *s, const char *in, const char *out,
                                  const struct ms_protect_options *opt,
                                  struct ms_protect_report *rep, struct ms_error *err)
{
    char plain[4096];
    bool compressed = false;
    ms_status st = make_temp(out, plain, sizeof plain, err);

    if (st != MS_OK)
        return st;
    st = s->unprotect(in, plain, opt, rep, err);
    if (st == MS_OK)
        st = msi_decompress_file(plain, out, &compressed, rep, err);
    if (st == MS_OK && !compressed && rename(plain, out) != 0)
        st = ms_error_set(err, MS_EIO, "cannot rename to %s", out);
    unlink(plain);
    if (st == MS_OK) {
        uint64_t read = rep->bytes_in; /* cbc-slices: the index and its parts */
        msi_protect_report_sizes(rep, in, out);
        if (read > rep->bytes_in)
            rep->bytes_in = read;
    }
    return st;
}

ms_status ms_unprotect_file(const char *in, const char *out,
                            const struct ms_protect_options *opt, struct ms_protect_report *rep,
                            struct ms_error *err)
{
    static const struct ms_protect_options defaults;
    struct ms_protect_report local;
    const struct msi_scheme *s;
    uint8_t head[HEAD_LEN];
    size_t len;

    if (!opt)
        opt = &defaults;
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    if (access(in, R_OK) != 0)
        return ms_error_set(err, MS_EIO, "cannot read the input");
    len = read_head(in, head, sizeof head);
    if (ms_armor_detect(head, len)) { /* de-armor next to out, then unprotect that */
        char raw[4096];
        ms_status st = make_temp(out, raw, sizeof raw, err);
        if (st == MS_OK)
            st = ms_dearmor_file(in, raw, err);
        if (st == MS_OK)
            st = ms_unprotect_file(raw, out, opt, rep, err);
        unlink(raw);
        if (st == MS_OK) /* what was read is the Base64 file */
            msi_protect_report_sizes(rep, in, out);
        return st;
    }
    s = identify(in, head, len);
    if (!s)
        return ms_error_set(err, MS_EUNSUPPORTED, "not a file protected by a known scheme");
    rep->scheme = &s->info;
    return unprotect_staged(s, in, out, opt, rep, err);
}
