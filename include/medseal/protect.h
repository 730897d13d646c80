/* medseal — per-instance protection schemes (`medseal protect` /
 * `medseal unprotect`). Each scheme turns one input file into one protected
 * output and back, bit-exact. The table of schemes and their status labels is
 * in docs/protect.md; DESIGN.md explains why weak schemes exist. */
#ifndef MEDSEAL_PROTECT_H
#define MEDSEAL_PROTECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "medseal/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a scheme is and how far it can be trusted. */
struct ms_scheme_info {
    const char *name;     /* "cms", "pixel-gcm", ... */
    const char *origin;   /* "PS3.10 7.4, seed 002", "seed 001", ... */
    const char *label;    /* "recommended", "paper mode", "insecure, research" */
    const char *summary;  /* one line */
    const char *suffix;   /* appended to output names ("" keeps the name) */
    bool needs_force;     /* refused unless the user insists (--i-know) */
};

/** Options shared by all schemes; a zeroed struct is the default. Paths
 * only: key material is read by the schemes and wiped after use. */
struct ms_protect_options {
    const char *scheme;              /* protect: NULL = "cms" */
    const char *const *recipients;   /* certificates (--to), nrecipients of them */
    size_t nrecipients;
    const char *passphrase_file;     /* --passphrase-file */
    const char *key_file;            /* -k: symmetric key (raw 32 bytes or text format) */
    const char *private_key;         /* unprotect: --key */
    const char *certificate;         /* unprotect: --cert */
    const char *key_passphrase_file; /* --key-passphrase-file: unlocks an encrypted
                                        --key or --sign-key (never a prompt) */
    bool strict_dicom;               /* cms: PS3.10 7.4 EnvelopedData(SignedData) */
    const char *sign_key;            /* cms --strict-dicom, deid: signer */
    const char *sign_cert;
    const char *trust;               /* unprotect: trusted signer certificate (--trust) */
    bool key_from_header;            /* pixel-gcm: the paper's Whirlpool(UID+name) key */
    double chaos_x0, chaos_mu;       /* chaos: 0 = paper's 0.4 and 3.87 */
    unsigned slices;                 /* cbc-slices: segments, 0 = 4 */
    const char *compress;            /* NULL, "deflate", "rle", "jpeg-ls" */
    bool armor;                      /* Base64 PEM-style output */
    bool force;                      /* --i-know: allow needs_force schemes */
    bool no_fsync;                   /* --sync end|none: outputs renamed into place
                                        without an fsync each (still atomic) */
    const char *otp_store;           /* otp: one-time key store directory */
    const char *stego_mode;          /* stego: "lsb" or "highbits" */
    const char *stego_key_file;      /* stego: file holding the stego key (first line) */
    uint64_t otp_ttl;                /* otp: pad lifetime in seconds, 0 = 7 days */
    bool keep_private;               /* deid: keep private attributes (--keep-private) */
    bool rsa_pkcs1;                  /* deid: RSA PKCS#1 v1.5 key transport (--rsa-pkcs1) */
};

/** What a protect/unprotect call did (for the report and progress). The two
 * compressions are apart: --compress rewrites the whole DICOM file before
 * the scheme (and unprotect undoes it after), and a scheme may compress what
 * it encrypts (cbc-slices: zlib of each pixel segment). */
struct ms_protect_report {
    const struct ms_scheme_info *scheme;
    uint64_t bytes_in, bytes_out; /* every file read and written (cbc-slices: the
                                     index and its parts; --armor: the Base64 file) */
    const char *compress;         /* --compress method the file went through
                                     ("deflate", "rle", "jpeg-ls"; unprotect: found in
                                     the file), static; NULL when none */
    uint64_t compressed_bytes;    /* the file after --compress (protect) or before its
                                     decompression (unprotect); 0 when none */
    uint64_t scheme_plain_bytes;  /* the scheme's own compression: bytes before it and */
    uint64_t scheme_packed_bytes; /* after (cbc-slices: the pixel data); 0 when none */
    char note[160];               /* e.g. "insecure: key derived from header" */
};

/** Number of schemes and the i-th, in the order of docs/protect.md. */
size_t ms_scheme_count(void);
const struct ms_scheme_info *ms_scheme_at(size_t i);
/** Scheme by name, or NULL. */
const struct ms_scheme_info *ms_scheme_find(const char *name);

/** Protect the file in into out (written atomically; nothing is left on
 * failure). rep may be NULL. Errors: MS_EUSAGE (unknown scheme, missing key
 * or recipient, weak scheme without force), MS_EMALFORMED/MS_EUNSUPPORTED
 * (input the scheme cannot take), MS_EKEY, MS_EIO. */
MS_NODISCARD ms_status ms_protect_file(const char *in, const char *out,
                                       const struct ms_protect_options *opt,
                                       struct ms_protect_report *rep, struct ms_error *err);

/** Recognise the scheme of a protected file and restore the original into
 * out, bit-exact, only after every authentication check passed.
 * Errors: MS_EUNSUPPORTED (not a protected file), MS_EKEY (wrong key,
 * tampered data), MS_EMALFORMED, MS_EIO. */
MS_NODISCARD ms_status ms_unprotect_file(const char *in, const char *out,
                                         const struct ms_protect_options *opt,
                                         struct ms_protect_report *rep, struct ms_error *err);

/** The scheme that protected a file, or NULL when it is not protected (or
 * cannot be read). */
const struct ms_scheme_info *ms_protect_identify(const char *path);

/** True when the file at path is part of another protected file and is
 * read together with it (a cbc-slices part OUT.partK.enc): unprotect skips it
 * when it is given on its own or found in a directory. */
bool ms_protect_is_auxiliary(const char *path);

/* ---- partition (seed 003) ---------------------------------------------------- */

/** Split a DICOM file into its pixels (png_out: 8-bit grey or RGB, 16-bit
 * grey, or with rgb24 16-bit values packed into 24-bit RGB as seed 003 keeps
 * them: R high byte, G low byte, B 0; frames stacked vertically) and its
 * metadata (meta_out: JSON with the DICOM JSON Model of the dataset and what a
 * bit-exact join needs). Both written atomically.
 * Errors: MS_EUNSUPPORTED (compressed, deflated, or an image layout PNG
 * cannot hold), MS_ELIMIT (too many frames for one PNG), MS_EMALFORMED, MS_EIO. */
MS_NODISCARD ms_status ms_split_file(const char *in, const char *png_out, const char *meta_out,
                                     bool rgb24, struct ms_error *err);

/** Rebuild the original file from ms_split_file()'s two outputs; out is
 * released only when its SHA-256 equals the original's.
 * Errors: MS_EPROBLEM (the image or metadata was changed), MS_EMALFORMED, MS_EIO. */
MS_NODISCARD ms_status ms_join_files(const char *png_in, const char *meta_in, const char *out,
                                     struct ms_error *err);

/* ---- armor (seed 002: text-only channels) -------------------------------------- */

/** True when the first bytes are an armored medseal file. */
bool ms_armor_detect(const uint8_t *head, size_t len);
/** Write in as Base64 between PEM-style lines (label "MEDSEAL PROTECTED FILE")
 * to out, atomically. */
MS_NODISCARD ms_status ms_armor_file(const char *in, const char *out, struct ms_error *err);
/** Decode an armored file to out (atomically). Errors: MS_EMALFORMED. */
MS_NODISCARD ms_status ms_dearmor_file(const char *in, const char *out, struct ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
