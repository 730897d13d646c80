/* Files: read-only mappings, atomic replacement (temporary + rename), and a
 * file-descriptor sink. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static ms_status map_file(const char *path, int flags, const uint8_t **data, uint64_t *size,
                          struct ms_error *err)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *data = NULL;
    *size = 0;
    if (fd < 0)
        return ms_error_set(err, MS_EIO, "cannot open: %s", strerror(errno));
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ms_error_set(err, MS_EIO, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ms_error_set(err, MS_EIO, "not a regular file");
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | flags, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return ms_error_set(err, MS_EIO, "cannot map: %s", strerror(e));
        }
        *data = p;
        *size = (uint64_t)st.st_size;
    }
    close(fd);
    return MS_OK;
}

ms_status msi_map_file(const char *path, const uint8_t **data, uint64_t *size,
                       struct ms_error *err)
{
    return map_file(path, 0, data, size, err);
}

ms_status msi_map_file_populated(const char *path, const uint8_t **data, uint64_t *size,
                                 struct ms_error *err)
{
    return map_file(path, MAP_POPULATE, data, size, err);
}

void msi_unmap_file(const uint8_t *data, uint64_t size)
{
    if (data && size)
        munmap((void *)data, (size_t)size);
}

ms_status msi_atomic_open(const char *path, char *tmp, size_t cap, int *fd, struct ms_error *err)
{
    int n = snprintf(tmp, cap, "%s.tmpXXXXXX", path);
    if (n < 0 || (size_t)n >= cap)
        return ms_error_set(err, MS_EIO, "output path too long");
    *fd = mkstemp(tmp);
    if (*fd < 0)
        return ms_error_set(err, MS_EIO, "cannot create a file next to %s: %s", path,
                            strerror(errno));
    fchmod(*fd, 0644);
    return MS_OK;
}

ms_status msi_atomic_close(int fd, const char *tmp, const char *path, bool ok,
                           struct ms_error *err)
{
    return msi_atomic_commit(fd, tmp, path, ok, true, err);
}

ms_status msi_atomic_commit(int fd, const char *tmp, const char *path, bool ok, bool sync,
                            struct ms_error *err)
{
    if (ok && sync && fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return ms_error_set(err, MS_EIO, "cannot write %s: %s", path, strerror(e));
    }
    if (close(fd) != 0 && ok) {
        int e = errno;
        unlink(tmp);
        return ms_error_set(err, MS_EIO, "cannot write %s: %s", path, strerror(e));
    }
    if (!ok) {
        unlink(tmp);
        return MS_OK;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ms_error_set(err, MS_EIO, "cannot rename to %s: %s", path, strerror(e));
    }
    return MS_OK;
}

int msi_fd_sink(void *ctx, const void *data, size_t len)
{
    int fd = *(const int *)ctx;
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}
