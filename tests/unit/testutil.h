/* Helpers shared by the unit tests: whole files read and written, a growable
 * memory sink, a temporary directory with paths inside it, and the bundled
 * data. Header-only (static inline functions, on top of check.h): include it
 * once per test file. */
#ifndef MEDSEAL_TESTUTIL_H
#define MEDSEAL_TESTUTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

/* ---- files ----------------------------------------------------------------------- */

/* The whole of a regular file in a new buffer with one spare byte set to 0
 * (so text can be read as a string); *len receives its size. NULL and
 * *len = 0 when it cannot be read. The caller frees the buffer. */
static inline uint8_t *tu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    uint8_t *buf = NULL;
    *len = 0;
    if (!f)
        return NULL;
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode)) {
        size_t n = (size_t)sb.st_size;
        buf = malloc(n + 1);
        if (buf && fread(buf, 1, n, f) == n) {
            buf[n] = 0;
            *len = n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* Write n bytes to path (replacing it), or exit: no test goes on without its input. */
static inline void tu_spit(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static inline bool tu_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Whether both files can be read and hold the same bytes. */
static inline bool tu_same_files(const char *a, const char *b)
{
    size_t na, nb;
    uint8_t *x = tu_slurp(a, &na), *y = tu_slurp(b, &nb);
    bool same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static inline void tu_copy_file(const char *from, const char *to)
{
    size_t n;
    uint8_t *d = tu_slurp(from, &n);
    if (!d) {
        fprintf(stderr, "cannot read %s\n", from);
        exit(1);
    }
    tu_spit(to, d, n);
    free(d);
}

/* ---- a memory sink (an ms_sink_fn) ---------------------------------------------- */

/* Zero-initialise; free data after use. */
struct tu_membuf {
    uint8_t *data;
    size_t len, cap;
    int fail_after; /* the sink fails after this many calls when > 0 */
    int calls;
};

static inline int tu_mem_sink(void *ctx, const void *data, size_t len)
{
    struct tu_membuf *m = ctx;
    if (m->fail_after > 0 && ++m->calls > m->fail_after)
        return -1;
    if (m->len + len > m->cap) {
        size_t cap = (m->len + len) * 2 + 256;
        uint8_t *p = realloc(m->data, cap);
        if (!p)
            return -1;
        m->data = p;
        m->cap = cap;
    }
    if (len)
        memcpy(m->data + m->len, data, len);
    m->len += len;
    return 0;
}

/* ---- temporary directories ------------------------------------------------------- */

/* A new empty directory under $TMPDIR (or /tmp); dir receives its path. Exits on failure. */
static inline void tu_mkdtemp(char *dir, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, cap, "%s/medseal-test-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
}

/* Remove path and, when it is a directory, everything below it (links are not followed). */
static inline void tu_rmtree(const char *path)
{
    struct stat sb;
    DIR *d;
    struct dirent *e;
    if (lstat(path, &sb) != 0)
        return;
    if (!S_ISDIR(sb.st_mode)) {
        unlink(path);
        return;
    }
    d = opendir(path);
    while (d && (e = readdir(d)) != NULL) {
        char sub[4096];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        tu_rmtree(sub);
    }
    if (d)
        closedir(d);
    rmdir(path);
}

/* The test's own directory: tu_dir_open() makes it, tu_path() names files in
 * it, tu_dir_close() removes it when every check passed (kept otherwise, to
 * look at). */
static char tu_dir[512];

static inline void tu_dir_open(void)
{
    tu_mkdtemp(tu_dir, sizeof tu_dir);
}

static inline void tu_dir_close(void)
{
    if (check_failures == 0)
        tu_rmtree(tu_dir);
    else
        fprintf(stderr, "test files kept in %s\n", tu_dir);
}

#define TU_PATH_RING 256

/* tu_dir/name in a ring of static buffers: a path lives for TU_PATH_RING calls. */
static inline char *tu_path(const char *name)
{
    static char ring[TU_PATH_RING][1024];
    static unsigned next;
    char *p = ring[next++ % TU_PATH_RING];
    snprintf(p, sizeof ring[0], "%s/%s", tu_dir, name);
    return p;
}

/* ---- bundled data ---------------------------------------------------------------- */

/* The source tree ($MEDSEAL_SRC, set by ctest; "." otherwise). */
static inline const char *tu_src(void)
{
    const char *src = getenv("MEDSEAL_SRC");
    return src ? src : ".";
}

/* Path of slice i (1-based) of the bundled CT series, in a static buffer. */
static inline const char *tu_ct(int i)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/data/cranium-ct/CT%04d.dcm", tu_src(), i);
    return path;
}

#endif
