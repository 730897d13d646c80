/* In-memory CMS envelopes for small payloads: the Encrypted Content
 * (0400,0520) of de-identified files (PS3.15 E.1), which must be one DER
 * ContentInfo inside a DICOM element. The whole message is held in memory;
 * big payloads belong to the streaming `cms` scheme instead.
 *
 * Encryption: AuthEnvelopedData AES-256-GCM (default) or EnvelopedData
 * AES-256-CBC (PS3.15 E.1.1 as written; what gdcmanon writes), for RSA
 * certificates (RSAES-OAEP SHA-256, or PKCS#1 v1.5 on request), EC P-256
 * certificates (ECDH, X9.63 KDF SHA-256, AES-256 key wrap) and a passphrase
 * (Argon2id key-encryption key in a KEKRecipientInfo: the `cms` scheme's
 * encoding, docs/formats/cms.md, so either side opens the other's messages).
 * Decryption also opens the PBKDF2 password recipients `gdcmanon -p` writes.
 * Why not the `cms` scheme's API (medseal/cms.h): it streams files and fds as
 * BER, and has neither RSA PKCS#1 v1.5 nor PBKDF2 passwords, which
 * gdcmanon interop needs; this module is for one small DER value.
 *
 * Keys come as the `cms` scheme's objects: a recipient set (its Argon2id
 * key-encryption keys derived once) and a keyring (keys loaded once, KEKs
 * cached), built once per run and shared by every file and thread.
 * Thread-safe. No secret ever goes into an error message. */
#ifndef MEDSEAL_CRYPTO_CMS_BUFFER_H
#define MEDSEAL_CRYPTO_CMS_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "medseal/cms.h"
#include "medseal/error.h"

/** Largest message or plaintext handled in memory. */
#define MSI_CMSBUF_MAX ((size_t)256 << 20)

/** How to write an envelope; zeroed = AuthEnvelopedData, RSA-OAEP. */
struct msi_cmsbuf_options {
    bool enveloped;    /* EnvelopedData AES-256-CBC instead of AuthEnvelopedData
                          AES-256-GCM */
    bool rsa_pkcs1v15; /* RSA key transport PKCS#1 v1.5, not OAEP */
};

/** Encrypt len bytes at pt for every recipient of r (borrowed; built once per
 * run, see medseal/cms.h) into a new DER buffer *der (*der_len bytes; free
 * with msi_cmsbuf_free()). opt may be NULL. Errors: MS_EUSAGE (no
 * recipient), MS_ELIMIT, MS_ENOMEM, MS_EINTERNAL. On failure *der is NULL.
 * Thread-safe (r is only read). */
MS_NODISCARD ms_status msi_cmsbuf_encrypt(const struct ms_cms_recipients *r,
                                          const struct msi_cmsbuf_options *opt,
                                          const uint8_t *pt, size_t len, uint8_t **der,
                                          size_t *der_len, struct ms_error *err);

/** What a successful decryption found. */
struct msi_cmsbuf_result {
    bool authenticated;          /* AuthEnvelopedData: the GCM tag checked */
    const char *content_type;    /* "AuthEnvelopedData", "EnvelopedData"; static */
    char opened_by[32];          /* "RSA key", "EC key", "passphrase", "password (PBKDF2)" */
};

/** Decrypt the DER message (len bytes) with the keys and passphrases of k
 * (borrowed) into a new buffer *pt (*pt_len bytes, free with
 * msi_cmsbuf_free()); res may be NULL. Keys are tried first, then
 * passphrases on medseal's Argon2id recipients, then on PBKDF2 password
 * recipients (`gdcmanon -p`). The plaintext is returned only after the GCM
 * tag checked (AuthEnvelopedData); EnvelopedData has no tag:
 * res->authenticated is false and the caller must check the content.
 * Errors: MS_EUSAGE (k holds nothing), MS_EMALFORMED (not DER CMS),
 * MS_EUNSUPPORTED (other content types), MS_EKEY (nothing in k opens a
 * recipient, tag check or padding failed), MS_ELIMIT, MS_ENOMEM. On failure
 * *pt is NULL and every byte decrypted so far is wiped. Thread-safe. */
MS_NODISCARD ms_status msi_cmsbuf_decrypt(const struct ms_cms_keyring *k, const uint8_t *der,
                                          size_t len, uint8_t **pt, size_t *pt_len,
                                          struct msi_cmsbuf_result *res, struct ms_error *err);

/** Wipe and free a buffer from this module. NULL is a no-op. */
void msi_cmsbuf_free(uint8_t *p, size_t len);

#endif
