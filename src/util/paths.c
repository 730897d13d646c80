/* Path lists: walking directories into a sorted list of files; mkdir -p;
 * clearing an output directory. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "medseal/util.h"

ms_status ms_pathlist_add(struct ms_pathlist *list, const char *path, struct ms_error *err)
{
    char *copy;
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        char **p = realloc(list->paths, cap * sizeof *p);
        if (!p)
            return ms_error_set(err, MS_ENOMEM, "out of memory");
        list->paths = p;
        list->cap = cap;
    }
    copy = strdup(path);
    if (!copy)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    list->paths[list->count++] = copy;
    return MS_OK;
}

void ms_pathlist_clear(struct ms_pathlist *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->paths[i]);
    free(list->paths);
    list->paths = NULL;
    list->count = list->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of dir into list (sorted), then its subdirectories, recursively. */
static ms_status walk(struct ms_pathlist *list, const char *dir, unsigned depth,
                      struct ms_error *err)
{
    struct ms_pathlist subs = {0};
    size_t first = list->count;
    struct dirent *e;
    ms_status st = MS_OK;
    DIR *d;

    if (depth > 64)
        return ms_error_set(err, MS_ELIMIT, "%s: directories nested too deep", dir);
    d = opendir(dir);
    if (!d)
        return ms_error_set(err, MS_EIO, "%s: %s", dir, strerror(errno));
    while (st == MS_OK && (e = readdir(d)) != NULL) {
        char path[4096];
        struct stat sb;
        if (e->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
            st = ms_error_set(err, MS_EIO, "%s: path too long", dir);
        else if (lstat(path, &sb) != 0)
            continue;
        else if (S_ISDIR(sb.st_mode))
            st = ms_pathlist_add(&subs, path, err);
        else if (S_ISREG(sb.st_mode) || (S_ISLNK(sb.st_mode) && stat(path, &sb) == 0 &&
                                         S_ISREG(sb.st_mode)))
            st = ms_pathlist_add(list, path, err);
    }
    closedir(d);
    if (list->count > first)
        qsort(list->paths + first, list->count - first, sizeof *list->paths, cmp_str);
    if (subs.count)
        qsort(subs.paths, subs.count, sizeof *subs.paths, cmp_str);
    for (size_t i = 0; st == MS_OK && i < subs.count; i++)
        st = walk(list, subs.paths[i], depth + 1, err);
    ms_pathlist_clear(&subs);
    return st;
}

ms_status ms_pathlist_collect(struct ms_pathlist *list, const char *const *inputs,
                              size_t ninputs, struct ms_error *err)
{
    for (size_t i = 0; i < ninputs; i++) {
        struct stat sb;
        ms_status st;
        if (stat(inputs[i], &sb) != 0)
            return ms_error_set(err, MS_EIO, "%s: %s", inputs[i], strerror(errno));
        if (S_ISDIR(sb.st_mode))
            st = walk(list, inputs[i], 0, err);
        else
            st = ms_pathlist_add(list, inputs[i], err);
        if (st != MS_OK)
            return st;
    }
    return MS_OK;
}

bool ms_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

ms_status ms_mkdirs(const char *path, struct ms_error *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return ms_error_set(err, MS_EIO, "bad directory path");
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return ms_error_set(err, MS_EIO, "cannot create %s: %s", buf, strerror(errno));
        if (i < n)
            buf[i] = '/';
    }
    if (!ms_is_dir(path))
        return ms_error_set(err, MS_EIO, "%s is not a directory", path);
    return MS_OK;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    if (ftw->level == 0)
        return 0; /* the directory itself: the caller decides */
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -1;
}

bool ms_clear_dir(const char *path, bool also_dir)
{
    /* the walk starts at the directory a link points to (FTW_PHYS would not
     * enter it); links inside are removed, not followed */
    char *real = realpath(path, NULL);
    bool ok = real && nftw(real, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0;
    free(real);
    return ok && (!also_dir || rmdir(path) == 0);
}

bool ms_dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    bool empty = d != NULL;
    while (empty && (e = readdir(d)) != NULL)
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return empty;
}
