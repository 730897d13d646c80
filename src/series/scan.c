/* Scans: walk files and directories, read each DICOM file once, keep its
 * summary, and group the summaries into series ordered Patient > Study >
 * Series. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "series/series_internal.h"

#define DEFAULT_MAX_DEPTH 64u
#define MAX_PATH_LEN 4096


ms_status ms_scan_create(struct ms_scan **out, const struct ms_scan_options *opt,
                         struct ms_error *err)
{
    struct ms_scan *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s || !(s->arena = msi_arena_create())) {
        free(s);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    if (opt)
        s->opt = *opt;
    if (!s->opt.max_depth)
        s->opt.max_depth = DEFAULT_MAX_DEPTH;
    *out = s;
    return MS_OK;
}

void ms_scan_destroy(struct ms_scan *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nseries; i++)
        free(s->series[i]->inst);
    free(s->series);
    free(s->inst);
    msi_arena_destroy(s->arena);
    free(s);
}

size_t ms_scan_instance_count(const struct ms_scan *s) { return s->n; }
size_t ms_scan_skipped_count(const struct ms_scan *s) { return s->skipped; }

/* ---- one file ---------------------------------------------------------------------------- */

static void note(struct ms_scan *s, const char *path, ms_status why, const char *msg)
{
    s->skipped++;
    if (s->opt.note)
        s->opt.note(s->opt.note_ctx, path, why, msg);
}

/* DICM at 128, or a first element a headerless dataset plausibly starts with
 * (group 0002 or 0008, either byte order). */
static bool looks_like_dicom(const char *path)
{
    unsigned char b[132];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true; /* let the reader report why it cannot be read */
    n = read(fd, b, sizeof b);
    close(fd);
    if (n == (ssize_t)sizeof b && memcmp(b + 128, "DICM", 4) == 0)
        return true;
    if (n < 8)
        return false;
    return (b[0] == 0x08 && b[1] == 0x00) || (b[0] == 0x02 && b[1] == 0x00) ||
           (b[0] == 0x00 && b[1] == 0x08) || (b[0] == 0x00 && b[1] == 0x02);
}

static ms_status keep(struct ms_scan *s, const char *path, struct ms_file *f, struct ms_error *err)
{
    struct msi_instance *in;
    ms_status st;

    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct msi_instance **p = realloc(s->inst, cap * sizeof *p);
        if (!p)
            return ms_error_set(err, MS_ENOMEM, "out of memory");
        s->inst = p;
        s->cap = cap;
    }
    in = msi_arena_alloc(s->arena, sizeof *in);
    if (!in)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    st = msi_instance_summarize(in, s->arena, path, ms_file_dataset(f), err);
    if (st != MS_OK)
        return st;
    in->order = s->n;
    s->inst[s->n++] = in;
    s->grouped = false;
    return MS_OK;
}

static ms_status add_file(struct ms_scan *s, const char *path, struct ms_error *err)
{
    struct ms_read_options ro = {0};
    struct ms_file *f = NULL;
    struct ms_error rerr = {0};
    ms_status st;

    if (!looks_like_dicom(path)) {
        note(s, path, MS_ENOTFOUND, "not a DICOM file");
        return MS_OK;
    }
    ro.stop_before_pixels = !s->opt.read_pixels;
    ro.warn = s->opt.warn;
    ro.warn_ctx = (void *)path;
    st = ms_file_read(&f, path, &ro, &rerr);
    if (st == MS_ENOMEM)
        return ms_error_set(err, st, "%s: %s", path, rerr.msg);
    if (st != MS_OK) {
        note(s, path, st, rerr.msg);
        return MS_OK;
    }
    if (!ms_file_has_dicm(f) && !ms_dataset_get(ms_file_dataset(f), MS_TAG(0x0008, 0x0018))) {
        ms_file_destroy(f);
        note(s, path, MS_ENOTFOUND, "not a DICOM file (no DICM prefix, no SOP Instance UID)");
        return MS_OK;
    }
    st = keep(s, path, f, err);
    if (st == MS_OK && s->opt.on_file)
        st = s->opt.on_file(s->opt.file_ctx, path, f);
    ms_file_destroy(f);
    return st;
}

/* ---- directories ----------------------------------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static ms_status add_path(struct ms_scan *s, const char *path, unsigned depth, bool top,
                          struct ms_error *err);

/* Names of a directory, sorted; *names is malloc'd (free each and the array). */
static ms_status list_dir(const char *path, char ***names, size_t *count, struct ms_error *err)
{
    DIR *d = opendir(path);
    struct dirent *e;
    size_t n = 0, cap = 0;
    char **v = NULL;

    *names = NULL;
    *count = 0;
    if (!d)
        return ms_error_set(err, MS_EIO, "%s: %s", path, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            char **p = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof *v);
            if (!p)
                break;
            v = p;
        }
        if (!(v[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (e) { /* stopped by an allocation failure */
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    if (n)
        qsort(v, n, sizeof *v, name_cmp);
    *names = v;
    *count = n;
    return MS_OK;
}

static ms_status add_dir(struct ms_scan *s, const char *path, unsigned depth, struct ms_error *err)
{
    char **names;
    size_t n;
    ms_status st = list_dir(path, &names, &n, err);
    char child[MAX_PATH_LEN];

    if (st != MS_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        if (st == MS_OK) {
            int len = snprintf(child, sizeof child, "%s%s%s", path,
                               path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
            if (len < 0 || (size_t)len >= sizeof child)
                note(s, names[i], MS_ELIMIT, "path too long");
            else
                st = add_path(s, child, depth + 1, false, err);
        }
        free(names[i]);
    }
    free(names);
    return st;
}

static ms_status add_path(struct ms_scan *s, const char *path, unsigned depth, bool top,
                          struct ms_error *err)
{
    struct stat st;
    if ((top ? stat(path, &st) : lstat(path, &st)) != 0) {
        if (top)
            return ms_error_set(err, MS_EIO, "%s: %s", path, strerror(errno));
        note(s, path, MS_EIO, strerror(errno));
        return MS_OK;
    }
    if (S_ISLNK(st.st_mode)) { /* below the top: follow links to files only */
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            return MS_OK;
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth >= s->opt.max_depth) {
            note(s, path, MS_ELIMIT, "directory nesting limit reached");
            return MS_OK;
        }
        return add_dir(s, path, depth, err);
    }
    if (!S_ISREG(st.st_mode))
        return MS_OK;
    return add_file(s, path, err);
}

ms_status ms_scan_add(struct ms_scan *s, const char *path, struct ms_error *err)
{
    return add_path(s, path, 0, true, err);
}
