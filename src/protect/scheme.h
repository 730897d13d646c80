/* Internal interface of the protection schemes: each scheme file defines one
 * struct msi_scheme and scheme.c lists them. */
#ifndef MEDSEAL_PROTECT_SCHEME_H
#define MEDSEAL_PROTECT_SCHEME_H

#include "medseal/protect.h"

struct msi_scheme {
    struct ms_scheme_info info;
    /** in -> out (out is written atomically by the scheme). */
    ms_status (*protect)(const char *in, const char *out, const struct ms_protect_options *opt,
                         struct ms_protect_report *rep, struct ms_error *err);
    ms_status (*unprotect)(const char *in, const char *out,
                           const struct ms_protect_options *opt, struct ms_protect_report *rep,
                           struct ms_error *err);
    /** True when the file at path (first bytes in head) is this scheme's output. */
    bool (*identify)(const char *path, const uint8_t *head, size_t len);
};

/** True when the first bytes (head) are those of a cbc-slices part, a file
 * read together with its index (cbc_slices.c). */
bool msi_cbc_slices_is_part(const uint8_t *head, size_t len);

#endif
