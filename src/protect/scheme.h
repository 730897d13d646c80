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
 * msi_decompress_file() give back in's exact bytes (checked now); sets
 * rep->compress and rep->compressed_bytes (out's size). */
ms_status msi_compress_file(const char *in, const char *out, const char *method,
                            struct ms_protect_report *rep, struct ms_error *err);
/** If in carries medseal's compression block, write the original to out
 * (SHA-256 checked), set *was_compressed, rep->compress and
 * rep->compressed_bytes (in's size); otherwise do nothing. */
ms_status msi_decompress_file(const char *in, const char *out, bool *was_compressed,
                              struct ms_protect_report *rep, struct ms_error *err);
/** True when the first bytes (head) are those of a cbc-slices part, a file
 * read together with its index (cbc_slices.c). */
bool msi_cbc_slices_is_part(const uint8_t *head, size_t len);

/* ---- the CMS key objects of a run (run_keys.c) ------------------------------------------ */

struct ms_cms_recipients;
struct ms_cms_signer;
struct ms_cms_keyring;

/** Which objects a scheme needs; bit i is the i-th object below. */
enum msi_run_need {
    MSI_RUN_RECIPIENTS = 1u << 0, /* --to certificates and --passphrase-file */
    MSI_RUN_SIGNER = 1u << 1,     /* --sign-key, --sign-cert (--key-passphrase-file) */
    MSI_RUN_KEYRING = 1u << 2,    /* --key, --cert (--key-passphrase-file),
                                     --passphrase-file, --trust */
};

/** Key objects built from the options; read-only while in use. */
struct msi_run_keys {
    const struct ms_cms_recipients *recipients;
    const struct ms_cms_signer *signer;
    const struct ms_cms_keyring *keyring;
};

/** The objects of need that o names, built once for as long as the option
 * values and the files they name stay the same, shared by every file and
 * thread of a run. *out is a reference (give it back with
 * msi_run_keys_release()); only the needed members are set. Errors: those of
 * building the objects (MS_EIO, MS_EMALFORMED, MS_EKEY for a wrong key
 * passphrase, ...), the same for every file of the run; MS_ENOMEM.
 * Thread-safe. */
MS_NODISCARD ms_status msi_run_keys_get(const struct ms_protect_options *o, unsigned need,
                                        const struct msi_run_keys **out, struct ms_error *err);
/** Give back a reference from msi_run_keys_get(). NULL is a no-op. */
void msi_run_keys_release(const struct msi_run_keys *keys);

#endif
