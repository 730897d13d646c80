/* medseal — the `cms` protection scheme: a whole file in a CMS envelope
 * (RFC 5652, RFC 5083, PS3.10 7.4).
 *
 * Default: AuthEnvelopedData with AES-256-GCM. Strict DICOM
 * (MS_CMS_STRICT_DICOM): EnvelopedData with AES-256-CBC around a SignedData
 * that holds the Part 10 file, as PS3.10 7.4 and PS3.15 D.1 describe.
 * Recipients: X.509 certificates with RSA keys (RSAES-OAEP, SHA-256, MGF1
 * SHA-256), with EC P-256 keys (ECDH, X9.63 KDF with SHA-256, AES-256 key
 * wrap), and passphrases (Argon2id key-encryption key in a KEKRecipientInfo).
 * The exact encoding is in docs/formats/cms.md.
 *
 * Streaming: the output is one BER file with the ciphertext in fixed-size
 * segments of an indefinite-length OCTET STRING; encryption and decryption use
 * a few MiB whatever the input size. Decryption writes to a temporary file
 * next to the output and renames it only after the GCM tag (or the signature)
 * checked; on any failure no output file is left.
 *
 * Objects: a recipient set (struct ms_cms_recipients) and a keyring (struct
 * ms_cms_keyring) are built once and then used for many files; both are
 * read-only during encryption and decryption and may be shared by threads
 * (the keyring caches passphrase-derived keys under a lock). */
#ifndef MEDSEAL_CMS_H
#define MEDSEAL_CMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "medseal/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Output sink: write len bytes, return 0 on success (same as in dicom.h). */
typedef int (*ms_sink_fn)(void *ctx, const void *data, size_t len);

/* ---- Argon2id parameters of a passphrase recipient ------------------------- */

/** Argon2id cost (parallelism is always 1). Zeroed fields take the defaults. */
struct ms_cms_pwhash {
    uint32_t iterations; /* t; 0 = MS_CMS_PWHASH_T_DEFAULT */
    uint32_t memory_kib; /* m in KiB; 0 = MS_CMS_PWHASH_M_DEFAULT */
};
#define MS_CMS_PWHASH_T_DEFAULT 3u
#define MS_CMS_PWHASH_M_DEFAULT 65536u     /* 64 MiB */
#define MS_CMS_PWHASH_T_MAX 64u            /* decryption refuses more (MS_ELIMIT) */
#define MS_CMS_PWHASH_M_MAX 1048576u       /* 1 GiB: decryption refuses more */
#define MS_CMS_PASSPHRASE_MAX 1024u        /* bytes */

/* ---- recipients (encryption side) ------------------------------------------ */

struct ms_cms_recipients;

/** New empty recipient set in *out. Errors: MS_ENOMEM. The caller owns it
 * (ms_cms_recipients_destroy). */
MS_NODISCARD ms_status ms_cms_recipients_create(struct ms_cms_recipients **out,
                                                struct ms_error *err);
/** Free the set, wiping passphrase-derived keys. NULL is a no-op. */
void ms_cms_recipients_destroy(struct ms_cms_recipients *r);

/** Add the recipient of an X.509 certificate (PEM or DER file). RSA keys
 * (>= 2048 bits) get RSAES-OAEP-SHA256 key transport; EC P-256 keys get ECDH
 * key agreement with an X9.63 SHA-256 KDF and AES-256 key wrap.
 * Errors: MS_EIO (unreadable), MS_EMALFORMED (not a certificate),
 * MS_EUNSUPPORTED (other key types, RSA < 2048, other curves), MS_ENOMEM. */
MS_NODISCARD ms_status ms_cms_recipients_add_cert_file(struct ms_cms_recipients *r,
                                                       const char *path, struct ms_error *err);

/** Add a passphrase recipient. The passphrase is copied (and the copy wiped
 * after use); the Argon2id key-encryption key is derived now, once, with a
 * fresh random salt, and reused for every file encrypted with this set.
 * cost may be NULL (defaults). Errors: MS_EUSAGE (empty or longer than
 * MS_CMS_PASSPHRASE_MAX, cost out of range), MS_ENOMEM. */
MS_NODISCARD ms_status ms_cms_recipients_add_passphrase(struct ms_cms_recipients *r,
                                                        const void *pass, size_t len,
                                                        const struct ms_cms_pwhash *cost,
                                                        struct ms_error *err);
/** Same with the passphrase read from a file by the project's one rule
 * (ms_passphrase_read_file() in crypto.h: the first line, without its "\n" or
 * "\r\n"). Errors as above plus MS_EIO, MS_EMALFORMED (empty first line),
 * MS_ELIMIT (longer than MS_CMS_PASSPHRASE_MAX). */
MS_NODISCARD ms_status ms_cms_recipients_add_passphrase_file(struct ms_cms_recipients *r,
                                                             const char *path,
                                                             const struct ms_cms_pwhash *cost,
                                                             struct ms_error *err);
/** Number of recipients in the set. */
size_t ms_cms_recipients_count(const struct ms_cms_recipients *r);

/* ---- signer (strict DICOM) -------------------------------------------------- */

struct ms_cms_signer;

/** Signing identity for MS_CMS_STRICT_DICOM: a private key (PEM or DER) and
 * its certificate (ECDSA P-256 or RSA >= 2048, SHA-256). A passphrase-protected
 * key (encrypted PKCS#8, as `medseal keygen --passphrase-file` writes) is
 * unlocked with the passphrase in the file key_pass_path (NULL: the key must
 * not be encrypted; never a prompt). The certificate is embedded in the
 * SignedData. Errors: MS_EIO, MS_EMALFORMED, MS_EKEY (key does not match the
 * certificate; encrypted key and no or a wrong passphrase), MS_EUNSUPPORTED,
 * MS_ENOMEM. The caller owns *out (NULL on failure). */
MS_NODISCARD ms_status ms_cms_signer_create(struct ms_cms_signer **out, const char *key_path,
                                            const char *cert_path, const char *key_pass_path,
                                            struct ms_error *err);
/** Free a signer. NULL is a no-op. */
void ms_cms_signer_destroy(struct ms_cms_signer *s);

/* ---- encryption ------------------------------------------------------------- */

/** Progress callback: bytes of content processed so far (called about once
 * per MiB from the thread doing the work). */
typedef void (*ms_cms_progress_fn)(void *ctx, uint64_t done);

enum ms_cms_flags {
    MS_CMS_STRICT_DICOM = 1u << 0, /* EnvelopedData AES-256-CBC around SignedData */
    MS_CMS_NO_FSYNC = 1u << 1,     /* file API: rename the output into place without an
                                      fsync (atomic, not yet durable) */
};

/** Options of ms_cms_encrypt_*; zeroed (or NULL) = defaults. */
struct ms_cms_encrypt_options {
    unsigned flags;                     /* enum ms_cms_flags */
    const struct ms_cms_signer *signer; /* required with MS_CMS_STRICT_DICOM (borrowed) */
    size_t segment_size;                /* ciphertext OCTET STRING segment; 0 = 1 MiB;
                                           1 .. 16 MiB */
    const char *detached_path;          /* write the ciphertext alone to this file and a
                                           DER header without it to the output (file API
                                           only) */
    ms_cms_progress_fn progress;        /* optional */
    void *progress_ctx;
};

/** Encrypt the file in_path to out_path for every recipient of r. The output
 * appears atomically (temporary file + rename). Errors: MS_EUSAGE (no
 * recipient, bad options), MS_EIO, MS_ELIMIT (input over 64 GiB, the GCM
 * limit), MS_ENOMEM, MS_EINTERNAL. Thread-safe for distinct outputs. */
MS_NODISCARD ms_status ms_cms_encrypt_file(const struct ms_cms_recipients *r, const char *in_path,
                                           const char *out_path,
                                           const struct ms_cms_encrypt_options *opt,
                                           struct ms_error *err);

/** Encrypt everything read from in_fd (a pipe works: size unknown) to a sink.
 * detached_path must be NULL. On failure the sink has received a partial,
 * invalid message; the caller discards it. Errors as ms_cms_encrypt_file. */
MS_NODISCARD ms_status ms_cms_encrypt_fd(const struct ms_cms_recipients *r, int in_fd,
                                         ms_sink_fn sink, void *ctx,
                                         const struct ms_cms_encrypt_options *opt,
                                         struct ms_error *err);

/* ---- keyring (decryption side) ----------------------------------------------- */

struct ms_cms_keyring;

/** New empty keyring. The caller owns it (ms_cms_keyring_destroy). */
MS_NODISCARD ms_status ms_cms_keyring_create(struct ms_cms_keyring **out, struct ms_error *err);
/** Free the keyring, wiping passphrases and derived keys. NULL is a no-op. */
void ms_cms_keyring_destroy(struct ms_cms_keyring *k);

/** Add a private key (PEM or DER: PKCS#8, encrypted PKCS#8 or traditional; RSA
 * or EC) and optionally its certificate (cert_path may be NULL). An encrypted
 * key is unlocked with the passphrase in the file key_pass_path (NULL: the key
 * must not be encrypted; never a prompt). With the certificate only the
 * recipient issued to it is tried; without it every recipient of the key's
 * type. Errors: MS_EIO, MS_EMALFORMED, MS_EKEY (encrypted key and no or a
 * wrong passphrase, certificate does not match), MS_EUNSUPPORTED, MS_ENOMEM. */
MS_NODISCARD ms_status ms_cms_keyring_add_key_file(struct ms_cms_keyring *k, const char *key_path,
                                                   const char *cert_path,
                                                   const char *key_pass_path,
                                                   struct ms_error *err);
/** Add a passphrase (copied). Errors: MS_EUSAGE (empty, too long), MS_ENOMEM. */
MS_NODISCARD ms_status ms_cms_keyring_add_passphrase(struct ms_cms_keyring *k, const void *pass,
                                                     size_t len, struct ms_error *err);
/** Add a passphrase read from a file (the first line, as
 * ms_cms_recipients_add_passphrase_file()). */
MS_NODISCARD ms_status ms_cms_keyring_add_passphrase_file(struct ms_cms_keyring *k,
                                                          const char *path,
                                                          struct ms_error *err);
/** Add a trusted certificate (PEM, every certificate of the file) for the
 * signature of MS_CMS_STRICT_DICOM files: the signer's certificate must chain
 * to one of them (or be one of them). Errors: MS_EIO, MS_EMALFORMED, MS_ENOMEM. */
MS_NODISCARD ms_status ms_cms_keyring_add_trusted_file(struct ms_cms_keyring *k,
                                                       const char *path, struct ms_error *err);

/* ---- recognition ------------------------------------------------------------- */

/** What a file holds. */
enum ms_cms_kind {
    MS_CMS_NOT_CMS = 0,      /* not a CMS ContentInfo (e.g. a DICOM file) */
    MS_CMS_AUTH_ENVELOPED,   /* AuthEnvelopedData: medseal `cms`, openssl -aes-*-gcm */
    MS_CMS_ENVELOPED_SIGNED, /* EnvelopedData around SignedData: --strict-dicom */
    MS_CMS_ENVELOPED,        /* EnvelopedData around data: unauthenticated */
    MS_CMS_OTHER,            /* another CMS content type (SignedData, ...) */
};

/** Recipient kinds of a file, as counted by the probe. */
struct ms_cms_info {
    enum ms_cms_kind kind;
    bool detached;               /* the ciphertext is not in the file */
    unsigned key_transport;      /* RSA certificates */
    unsigned key_agreement;      /* EC certificates (recipient keys) */
    unsigned passphrase;         /* medseal Argon2id KEK recipients */
    unsigned other;              /* other KEK, password (PBKDF2), other recipients */
    char cipher[32];             /* content cipher, e.g. "AES-256-GCM"; "" unknown */
};

/** Recognise a medseal/CMS-protected file from its first bytes (at most a few
 * MiB are read, none past the recipients). A file that is not CMS gives MS_OK
 * with kind MS_CMS_NOT_CMS. Errors: MS_EIO, MS_EMALFORMED (starts as CMS but
 * is broken before the content), MS_ELIMIT, MS_ENOMEM. */
MS_NODISCARD ms_status ms_cms_probe_file(const char *path, struct ms_cms_info *info,
                                         struct ms_error *err);
/** Same on the first len bytes of a file held in memory. A buffer that ends
 * before the content gives MS_EMALFORMED ("truncated"). */
MS_NODISCARD ms_status ms_cms_probe_buffer(const void *data, size_t len,
                                           struct ms_cms_info *info, struct ms_error *err);
/** Quick recognition from the first bytes of a file (32 are enough): the kind
 * as far as the content type tells, without reading the recipients (an
 * EnvelopedData is MS_CMS_ENVELOPED whatever it holds; a broken envelope may
 * pass). For scheme tables that look at many files; ms_cms_probe_file() tells
 * more and checks the head. */
enum ms_cms_kind ms_cms_kind_guess(const void *head, size_t len);
/** Scheme name of a kind for `unprotect`: "cms" for the three envelope kinds,
 * NULL otherwise. */
const char *ms_cms_kind_scheme(enum ms_cms_kind kind);
/** Short English name of a kind ("AuthEnvelopedData"). Static string. */
const char *ms_cms_kind_name(enum ms_cms_kind kind);

/* ---- decryption -------------------------------------------------------------- */

enum ms_cms_decrypt_flags {
    /* Release the content of a plain EnvelopedData (no tag, no signature):
     * without it such files give MS_EUNSUPPORTED. */
    MS_CMS_ALLOW_UNAUTHENTICATED = 1u << 0,
    /* Rename the output into place without an fsync (atomic, not yet durable). */
    MS_CMS_DECRYPT_NO_FSYNC = 1u << 1,
};

/** Options of ms_cms_decrypt_*; zeroed (or NULL) = defaults. */
struct ms_cms_decrypt_options {
    unsigned flags;             /* enum ms_cms_decrypt_flags */
    const char *detached_path;  /* the ciphertext of a detached file (file API) */
    ms_cms_progress_fn progress; /* optional */
    void *progress_ctx;
};

/** What a successful decryption found. */
struct ms_cms_result {
    enum ms_cms_kind kind;
    uint64_t content_bytes;   /* bytes written */
    char opened_by[32];       /* "RSA key", "EC key", "passphrase" */
    bool signature_verified;  /* strict DICOM: the signature checked */
    char signer[256];         /* strict DICOM: signer certificate subject (one line) */
};

/** Decrypt in_path to out_path with the first key of k that opens it. The
 * plaintext goes to a temporary file that is renamed to out_path only after
 * the GCM tag (AuthEnvelopedData) or the signature against a trusted
 * certificate (strict DICOM) checked; it is created with mode 0600 (owner
 * only: decrypted patient data). result may be NULL.
 * Errors: MS_EKEY (no key of k opens any recipient; wrong passphrase; tag or
 * signature check failed; signer not trusted), MS_EMALFORMED (not CMS,
 * truncated, broken structure), MS_EUNSUPPORTED (other content types, ciphers
 * or digests; plain EnvelopedData without MS_CMS_ALLOW_UNAUTHENTICATED;
 * strict file and no trusted certificate), MS_ELIMIT, MS_EIO, MS_ENOMEM.
 * Nothing is left at out_path on failure. Thread-safe for distinct outputs. */
MS_NODISCARD ms_status ms_cms_decrypt_file(const struct ms_cms_keyring *k, const char *in_path,
                                           const char *out_path,
                                           const struct ms_cms_decrypt_options *opt,
                                           struct ms_cms_result *result, struct ms_error *err);

/** Same, reading the message from in_fd (a pipe works). */
MS_NODISCARD ms_status ms_cms_decrypt_fd(const struct ms_cms_keyring *k, int in_fd,
                                         const char *out_path,
                                         const struct ms_cms_decrypt_options *opt,
                                         struct ms_cms_result *result, struct ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
