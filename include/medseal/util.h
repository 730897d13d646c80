/* medseal — small utilities the program and the layers share: walking
 * directories, running work on all cores, progress on a terminal. */
#ifndef MEDSEAL_UTIL_H
#define MEDSEAL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "medseal/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A list of file paths (owned strings). */
struct ms_pathlist {
    char **paths;
    size_t count, cap;
};

/** Append every regular file under each of the inputs (files are taken as
 * they are, directories walked recursively, symlinks to directories not
 * followed, hidden entries skipped) in sorted order. On failure the list
 * keeps what was added. Errors: MS_EIO (an input cannot be read), MS_ENOMEM. */
MS_NODISCARD ms_status ms_pathlist_collect(struct ms_pathlist *list, const char *const *inputs,
                                           size_t ninputs, struct ms_error *err);
/** Append one path (copied). */
MS_NODISCARD ms_status ms_pathlist_add(struct ms_pathlist *list, const char *path,
                                       struct ms_error *err);
/** Free the strings and the array; the list is empty afterwards. */
void ms_pathlist_clear(struct ms_pathlist *list);

/** Make every missing directory of path (like mkdir -p), mode 0755. */
MS_NODISCARD ms_status ms_mkdirs(const char *path, struct ms_error *err);
/** True when path names an existing directory. */
bool ms_is_dir(const char *path);
/** Remove what is inside directory path (files, links, subdirectories; links
 * are not followed), and path itself too when also_dir. For undoing an output
 * directory a command made or found empty. Best effort: false when something
 * could not be removed. */
bool ms_clear_dir(const char *path, bool also_dir);
/** True when path is a directory (or a link to one) with no entry but "."
 * and "..": hidden files, links and subdirectories count. */
bool ms_dir_is_empty(const char *path);

/** Work item callback: process item i (0 <= i < n); ctx is shared, so the
 * callback must only touch item i's own state or synchronise itself. */
typedef void (*ms_work_fn)(void *ctx, size_t i);

/** Run fn(ctx, i) for i in [0, n) on threads threads (0 = one per core),
 * items handed out in increasing order; returns when all are done. When
 * progress is true and stderr is a terminal, a progress bar with label is
 * drawn on stderr. Never fails: with no threads available it runs inline. */
void ms_parallel_for(size_t n, unsigned threads, ms_work_fn fn, void *ctx, const char *label,
                     bool progress);

/** Number of online CPU cores (at least 1). */
unsigned ms_cpu_count(void);

#ifdef __cplusplus
}
#endif
#endif
