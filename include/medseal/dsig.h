/* medseal — DICOM digital signatures inside the file (PS3.15 Annex C, PS3.3
 * C.12.1.1.3 Digital Signatures Macro).
 *
 * ms_dsig_sign() adds a signature at the top level of a dataset: an item of the
 * Digital Signatures Sequence (FFFA,FFFA) and an item of the MAC Parameters
 * Sequence (4FFE,0001), MAC SHA256 over a byte stream of the signed elements in
 * Explicit VR Little Endian, signed with RSA (PKCS#1 v1.5) or ECDSA P-256 and
 * an X.509 certificate (X509_1993_SIG). ms_dsig_verify() checks every signature
 * of a dataset, at the top level and inside sequence items, made by medseal or
 * by DCMTK's dcmsign. The exact byte stream is described in docs/sign.md.
 *
 * Thread safety: distinct files may be signed or verified from distinct
 * threads; keys may be shared (see medseal/crypto.h). */
#ifndef MEDSEAL_DSIG_H
#define MEDSEAL_DSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "medseal/crypto.h"
#include "medseal/dicom.h"
#include "medseal/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Room for a UID (64 characters) and its NUL. */
#define MS_DSIG_UID_LEN 65

/** Options of ms_dsig_sign(); a zeroed struct (or NULL) gives the defaults. */
struct ms_dsig_sign_options {
    /** Data Elements Signed: top-level tags to sign (any order, no duplicates;
     * each must be present and signable). NULL = every signable top-level
     * element, as dcmsign does. */
    const uint32_t *tags;
    size_t ntags;
    /** Digital Signature UID; NULL = a new "2.25." UID from 128 random bits. */
    const char *uid;
    /** Digital Signature DateTime (DT, e.g. "20250101120000.000000+0000");
     * NULL = now, UTC, with microseconds. */
    const char *datetime;
    /** Receives the exact bytes fed to the MAC (what `dcmsign +d` dumps);
     * may be NULL. */
    ms_sink_fn dump;
    void *dump_ctx;
};

/** Sign the dataset of f: add one item to its Digital Signatures Sequence
 * (created when absent) and one to its MAC Parameters Sequence, with a new
 * MAC ID Number. key is the signer's private key (RSA of 2048 bits or more,
 * or EC P-256), cert the certificate of the same key (as
 * ms_pkey_load_public() reads it), or NULL when key carries it
 * (ms_pkey_attach_cert()); both are borrowed. uid_out (may be NULL)
 * receives the Digital Signature UID. The values added are owned by f. The
 * caller then writes f (ms_file_write()); the signature stays valid in any
 * transfer syntax. Errors: MS_EUSAGE (key without a private half, certificate
 * missing or of another key, a requested tag absent or not signable, bad
 * uid/datetime), MS_EUNSUPPORTED (Ed25519 or other key types), MS_EMALFORMED
 * (an existing (FFFA,FFFA) or (4FFE,0001) that is not a sequence), MS_EIO
 * (the dump sink failed), MS_ENOMEM, MS_EINTERNAL. On failure f is unchanged
 * (except after MS_ENOMEM, when it should be discarded). */
MS_NODISCARD ms_status ms_dsig_sign(struct ms_file *f, const struct ms_pkey *key,
                                    const struct ms_pkey *cert,
                                    const struct ms_dsig_sign_options *opt,
                                    char uid_out[MS_DSIG_UID_LEN], struct ms_error *err);

/** What ms_dsig_verify() found about one signature. Strings are NUL-terminated
 * and may be truncated; absent values are "". */
struct ms_dsig_result {
    /** MS_OK: valid (and trusted when trust anchors were given);
     * MS_EPROBLEM: the signed data changed or the signature is wrong;
     * MS_EKEY: valid but the signer certificate is not trusted;
     * MS_EMALFORMED: the signature item or its MAC parameters are malformed;
     * MS_EUNSUPPORTED: an algorithm, certificate type or key medseal does not
     * verify. */
    ms_status status;
    char reason[256];       /* why, when status is not MS_OK */
    char location[128];     /* dataset holding the signature: "top level" or
                             * "(0040,A730)[1]/(0040,A730)[2]" (items from 1) */
    unsigned index;         /* item of (FFFA,FFFA) in that dataset, from 1 */
    unsigned mac_id;        /* MAC ID Number */
    char uid[MS_DSIG_UID_LEN];      /* Digital Signature UID */
    char datetime[32];      /* Digital Signature DateTime */
    char mac_algorithm[20]; /* MAC Algorithm as written ("SHA256") */
    char algorithm[48];     /* "RSA PKCS#1 v1.5 SHA-256", "ECDSA P-256 SHA-256" */
    char subject[256];      /* signer certificate subject (RFC 2253) */
    char issuer[256];       /* signer certificate issuer (RFC 2253) */
    size_t nsigned;         /* tags in Data Elements Signed */
    size_t nunsigned;       /* elements of that dataset the signature does not
                             * cover (added later, left out, UN), group lengths
                             * and signature sequences not counted */
    bool trust_checked;     /* the certificate was checked against trust anchors */
};

/** Called once per signature, in document order. */
typedef void (*ms_dsig_result_fn)(void *ctx, const struct ms_dsig_result *r);

/** Options of ms_dsig_verify(); a zeroed struct (or NULL) gives the defaults. */
struct ms_dsig_verify_options {
    /** Trust anchors (certificates, borrowed). When ntrusted > 0, a signer
     * certificate must equal one of them or chain to one (intermediates must
     * be trust anchors too), be valid at the Digital Signature DateTime and,
     * when it has a key usage, allow digitalSignature or nonRepudiation. */
    const struct ms_pkey *const *trusted;
    size_t ntrusted;
    /** Receives the bytes fed to the MAC of each signature in turn; may be NULL. */
    ms_sink_fn dump;
    void *dump_ctx;
};

/** Verify every digital signature in the dataset of f (top level and sequence
 * items, any depth): recompute the MAC byte stream of the elements listed in
 * Data Elements Signed and of the signature item, and check the Signature with
 * the key of the embedded Certificate of Signer. fn (may be NULL) gets each
 * result. Returns MS_OK when there is at least one signature and all are
 * valid; MS_ENOTFOUND when there is none; otherwise the status of the signature
 * with the highest exit code (ms_status_exit_code(): untrusted 4 over
 * malformed or unsupported 3 over invalid 1), with a summary in err. Errors
 * that stop the check (fn not called for the rest): MS_ENOMEM, MS_EIO (the
 * dump sink failed), MS_ELIMIT. f is not modified. */
MS_NODISCARD ms_status ms_dsig_verify(struct ms_file *f, const struct ms_dsig_verify_options *opt,
                                      ms_dsig_result_fn fn, void *ctx, struct ms_error *err);

/** True when a top-level element with this tag may be listed in Data Elements
 * Signed: not a group length, not Length to End (0008,0001), not in groups
 * 0000-0007, not (FFFA,FFFA), (4FFE,0001), (FFFC,FFFC) or an item or
 * delimiter tag. */
bool ms_dsig_tag_signable(uint32_t tag);

#ifdef __cplusplus
}
#endif
#endif
