/* Internals of the DICOM digital signatures (dicom_signature*.c): tags, the
 * MAC byte stream and the signature primitives over a precomputed digest. Not
 * installed. */
#ifndef MEDSEAL_DICOM_SIGNATURE_INTERNAL_H
#define MEDSEAL_DICOM_SIGNATURE_INTERNAL_H

#include "internal.h"
#include "medseal/crypto.h"
#include "medseal/dsig.h"

#define MSI_TAG_DIGSIG_SEQ MS_TAG(0xFFFA, 0xFFFA)   /* Digital Signatures Sequence */
#define MSI_TAG_MAC_PARAMS_SEQ MS_TAG(0x4FFE, 0x0001) /* MAC Parameters Sequence */
#define MSI_TAG_MAC_ID MS_TAG(0x0400, 0x0005)       /* MAC ID Number, US */
#define MSI_TAG_MAC_TS MS_TAG(0x0400, 0x0010)       /* MAC Calculation Transfer Syntax UID */
#define MSI_TAG_MAC_ALGORITHM MS_TAG(0x0400, 0x0015) /* MAC Algorithm, CS */
#define MSI_TAG_DES MS_TAG(0x0400, 0x0020)          /* Data Elements Signed, AT */
#define MSI_TAG_SIG_UID MS_TAG(0x0400, 0x0100)      /* Digital Signature UID */
#define MSI_TAG_SIG_DATETIME MS_TAG(0x0400, 0x0105) /* Digital Signature DateTime, DT */
#define MSI_TAG_CERT_TYPE MS_TAG(0x0400, 0x0110)    /* Certificate Type, CS */
#define MSI_TAG_CERT MS_TAG(0x0400, 0x0115)         /* Certificate of Signer, OB */
#define MSI_TAG_SIGNATURE MS_TAG(0x0400, 0x0120)    /* Signature, OB */
#define MSI_TAG_TS_TYPE MS_TAG(0x0400, 0x0305)      /* Certified Timestamp Type */
#define MSI_TAG_TIMESTAMP MS_TAG(0x0400, 0x0310)    /* Certified Timestamp */

#define MSI_CERT_TYPE_X509 "X509_1993_SIG"
#define MSI_MAC_SHA256 "SHA256"

/* ---- the MAC byte stream (dicom_signature_stream.c) ------------------------- */

/** True when a top-level element may be signed by default: its tag is
 * signable, and neither it nor anything inside it has an unknown VR (UN, or
 * UN in the input, or, in an Implicit VR dataset, a private data element whose
 * VR only a private dictionary gives). */
bool msi_dsig_element_signable(const struct ms_element *el, bool implicit_vr);

/** Feed the PS3.15 C.2 byte stream to sink: the elements of ds whose tags are
 * in tags (ntags, ascending, no duplicates) in ascending tag order, then the
 * elements of the signature item sig except Certificate of Signer, Signature,
 * Certified Timestamp Type and Certified Timestamp. Errors: MS_EIO (sink),
 * MS_ELIMIT (nesting), MS_ENOMEM. */
MS_NODISCARD ms_status msi_dsig_stream(const struct ms_dataset *ds, const uint32_t *tags,
                                       size_t ntags, const struct ms_dataset *sig,
                                       ms_sink_fn sink, void *ctx, struct ms_error *err);

/** Digest (ms_hash_size(alg) bytes into out) of the msi_dsig_stream() bytes,
 * which also go to dump when it is not NULL. */
MS_NODISCARD ms_status msi_dsig_digest(const struct ms_dataset *ds, const uint32_t *tags,
                                       size_t ntags, const struct ms_dataset *sig,
                                       ms_hash_alg alg, ms_sink_fn dump, void *dump_ctx,
                                       uint8_t *out, struct ms_error *err);

/* ---- primitives (dicom_signature_crypto.c) --------------------------------- */

/** Sign a digest (dlen bytes of the hash alg) with k: RSA PKCS#1 v1.5 with a
 * DigestInfo of alg, or ECDSA (DER). sig_cap >= MS_SIG_MAX_LEN suffices. */
MS_NODISCARD ms_status msi_dsig_sign_digest(const struct ms_pkey *k, ms_hash_alg alg,
                                            const uint8_t *digest, size_t dlen, uint8_t *sig,
                                            size_t sig_cap, size_t *sig_len,
                                            struct ms_error *err);

/** Verify a signature over a digest as made by msi_dsig_sign_digest(). An
 * ECDSA signature may carry one padding byte after its DER (odd lengths are
 * padded in DICOM). MS_OK when valid, MS_EPROBLEM when not. */
MS_NODISCARD ms_status msi_dsig_verify_digest(const struct ms_pkey *k, ms_hash_alg alg,
                                              const uint8_t *digest, size_t dlen,
                                              const uint8_t *sig, size_t sig_len,
                                              struct ms_error *err);

/** DER encoding of k's certificate in a new malloc'd buffer (caller frees). */
MS_NODISCARD ms_status msi_dsig_cert_der(const struct ms_pkey *k, uint8_t **der, size_t *len,
                                         struct ms_error *err);

/** Parse a Certificate of Signer value (DER, possibly followed by one padding
 * byte) into a key with its certificate (caller owns *out). Errors:
 * MS_EMALFORMED, MS_EUNSUPPORTED (key type). */
MS_NODISCARD ms_status msi_dsig_cert_parse(struct ms_pkey **out, const uint8_t *data,
                                           size_t len, struct ms_error *err);

/** Subject and issuer of k's certificate, RFC 2253, into the buffers. */
void msi_dsig_cert_names(const struct ms_pkey *k, char *subject, size_t scap, char *issuer,
                         size_t icap);

/** Check k's certificate against trust anchors at time t (seconds since the
 * epoch). MS_OK when trusted; MS_EKEY with the reason otherwise. */
MS_NODISCARD ms_status msi_dsig_cert_trusted(const struct ms_pkey *k,
                                             const struct ms_pkey *const *anchors, size_t n,
                                             int64_t t, struct ms_error *err);

/** A new UID "2.25.<128 random bits in decimal>" into out. */
MS_NODISCARD ms_status msi_dsig_new_uid(char out[MS_DSIG_UID_LEN], struct ms_error *err);

#endif
