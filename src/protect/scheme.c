/* The table of protection schemes, and dispatch: protect by name, unprotect
 * by recognising the input. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "internal.h"
#include "protect/scheme.h"

/* Each scheme is defined in its own file. The order is the order of
 * docs/protect.md: strong defaults first, papers' schemes after. */
extern const struct msi_scheme msi_scheme_deid;
extern const struct msi_scheme msi_scheme_cms;

static const struct msi_scheme *const schemes[] = {
    &msi_scheme_cms,
    &msi_scheme_deid,
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
    rep->scheme = &s->info;
    if (opt->armor) { /* the scheme writes next to out, then the armor replaces it */
        char raw[4096];
        ms_status st;
        int fd;
        if ((st = msi_atomic_open(out, raw, sizeof raw, &fd, err)) != MS_OK)
            return st;
        close(fd);
        st = s->protect(in, raw, opt, rep, err);
        if (st == MS_OK)
            st = ms_armor_file(raw, out, err);
        unlink(raw);
        return st;
    }
    return s->protect(in, out, opt, rep, err);
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

static const struct msi_scheme *identify(const char *path, const uint8_t *head, size_t len)
{
    for (size_t i = 0; i < SCHEME_COUNT; i++)
        if (schemes[i]->identify(path, head, len))
            return schemes[i];
    return NULL;
}

const struct ms_scheme_info *ms_protect_identify(const char *path)
{
    uint8_t head[HEAD_LEN];
    size_t len = read_head(path, head, sizeof head);
    const struct msi_scheme *s = identify(path, head, len);
    return s ? &s->info : NULL;
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
        ms_status st;
        int fd;
        if ((st = msi_atomic_open(out, raw, sizeof raw, &fd, err)) != MS_OK)
            return st;
        close(fd);
        st = ms_dearmor_file(in, raw, err);
        if (st == MS_OK)
            st = ms_unprotect_file(raw, out, opt, rep, err);
        unlink(raw);
        return st;
    }
    s = identify(in, head, len);
    if (!s)
        return ms_error_set(err, MS_EUNSUPPORTED, "not a file protected by a known scheme");
    rep->scheme = &s->info;
    return s->unprotect(in, out, opt, rep, err);
}
