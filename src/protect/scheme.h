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
    /** True when the file at path (first bytes in head) is this scheme's
     * output. NULL: the output carries medseal's private block naming the
     * scheme (msi_pblock_identify() recognises it). */
    bool (*identify)(const char *path, const uint8_t *head, size_t len);
};

/** Fill rep's byte counts from the sizes of in and out. */
void msi_protect_report_sizes(struct ms_protect_report *rep, const char *in, const char *out);

/** Syntax of a --compress method ("deflate", "rle", "jpeg-ls"), or NULL. */
const struct ms_transfer_syntax *msi_compress_syntax(const char *method);
/** Write in compressed with method to out, with the block that lets
 * msi_decompress_file() give back in's exact bytes (checked now). */
ms_status msi_compress_file(const char *in, const char *out, const char *method,
                            uint64_t *compressed_bytes, struct ms_error *err);
/** If in carries medseal's compression block, write the original to out
 * (SHA-256 checked) and set *was_compressed; otherwise do nothing. */
ms_status msi_decompress_file(const char *in, const char *out, bool *was_compressed,
                              struct ms_error *err);
/** True when the first bytes (head) are those of a cbc-slices part, a file
 * read together with its index (cbc_slices.c). */
bool msi_cbc_slices_is_part(const uint8_t *head, size_t len);

#endif
