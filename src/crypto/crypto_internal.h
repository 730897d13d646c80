/* Internals of the crypto layer shared by the files of src/crypto and, for CMS and
 * signatures, by src/seal/ and src/protect/: the key object's layout, cached
 * OpenSSL algorithm handles, error reporting and small file helpers. Not
 * installed. */
#ifndef MEDSEAL_CRYPTO_INTERNAL_H
#define MEDSEAL_CRYPTO_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "internal.h"
#include "medseal/crypto.h"

/** Largest key, certificate or passphrase file the crypto layer reads. */
#define MSI_KEY_FILE_MAX (1u << 20)
/** Largest symmetric key file (raw or text). */
#define MSI_SYMKEY_FILE_MAX 4096u
/** Largest amount handed to one OpenSSL update call (its lengths are int). */
#define MSI_OSSL_CHUNK ((size_t)1 << 30)

struct ms_pkey {
    EVP_PKEY *pkey;     /* owned */
    X509 *cert;         /* owned, may be NULL */
    ms_pkey_type type;
    bool priv;          /* pkey holds the private half */
};

/** Wrap pk (and cert, may be NULL) in a new key object; takes ownership of
 * both, also on failure (they are freed then). */
MS_NODISCARD ms_status msi_pkey_wrap(struct ms_pkey **out, EVP_PKEY *pk, X509 *cert, bool priv,
                                     struct ms_error *err);
/** Borrowed OpenSSL handles of a key (cert may be NULL). */
static inline EVP_PKEY *msi_pkey_evp(const struct ms_pkey *k) { return k->pkey; }
static inline X509 *msi_pkey_x509(const struct ms_pkey *k) { return k->cert; }
/** Our type of an OpenSSL key (MS_PKEY_UNKNOWN for everything we do not use). */
ms_pkey_type msi_pkey_classify(const EVP_PKEY *pk);
/** Display name of any OpenSSL key ("Ed25519", "EC P-256", "EC secp384r1"). */
void msi_pkey_describe(const EVP_PKEY *pk, char *buf, size_t cap);

/** Decode a private key (PEM or DER, encrypted with pass or not) into *out,
 * owned by the caller. Errors as ms_pkey_parse_private(). */
MS_NODISCARD ms_status msi_decode_private(EVP_PKEY **out, const uint8_t *data, size_t len,
                                          const char *pass, size_t pass_len,
                                          struct ms_error *err);
/** Decode a SubjectPublicKeyInfo or a certificate; *cert gets the certificate
 * (NULL for a bare key). Both owned by the caller. */
MS_NODISCARD ms_status msi_decode_public(EVP_PKEY **out, X509 **cert, const uint8_t *data,
                                         size_t len, struct ms_error *err);
/** Read and decode the private key file at path (any algorithm OpenSSL reads;
 * encrypted ones are unlocked with pass, never by a prompt) into *out, owned
 * by the caller. Errors as msi_read_file() and ms_pkey_parse_private(),
 * prefixed with the path. */
MS_NODISCARD ms_status msi_load_private(EVP_PKEY **out, const char *path, const char *pass,
                                        size_t pass_len, struct ms_error *err);
/** Read the X.509 certificate (PEM, or whole-file DER) at path into *out, owned
 * by the caller. Errors: as msi_read_file(), MS_EMALFORMED (not a
 * certificate); prefixed with the path. */
MS_NODISCARD ms_status msi_load_cert(X509 **out, const char *path, struct ms_error *err);
/** True when data is an encrypted private key (PEM PKCS#8 or traditional, or
 * DER EncryptedPrivateKeyInfo). */
bool msi_is_encrypted_key(const uint8_t *data, size_t len);
/** True when the NUL-terminated needle occurs in len bytes at data. */
bool msi_contains(const uint8_t *data, size_t len, const char *needle);
/** Decode an X.509 certificate (PEM or whole-input DER) into *out: MS_OK, or
 * MS_ENOTFOUND when the input is not one. Sets no error text. */
MS_NODISCARD ms_status msi_decode_cert(X509 **out, const uint8_t *data, size_t len);

/** Set err to code and "message (OpenSSL reason)" and clear OpenSSL's error
 * queue. Reasons are static OpenSSL strings: never secret data. */
ms_status msi_ossl_fail(struct ms_error *err, ms_status code, const char *fmt, ...)
    MS_PRINTF(3, 4);

/** Cached algorithm handles, fetched once (thread-safe); NULL when unavailable. */
enum msi_cipher_id { MSI_AES256_GCM, MSI_AES256_CBC, MSI_AES256_ECB, MSI_AES256_CTR,
                     MSI_AES256_WRAP, MSI_CIPHER_COUNT };
const EVP_CIPHER *msi_cipher(enum msi_cipher_id id);
const EVP_MD *msi_md(ms_hash_alg alg);
EVP_MAC *msi_hmac(void);
/** Argon2id costs of params (NULL = defaults) checked against libsodium's
 * limits: *ops passes, *mem bytes. Errors: MS_EUSAGE, MS_EINTERNAL. */
MS_NODISCARD ms_status msi_argon2_costs(const struct ms_argon2_params *params, uint64_t *ops,
                                        size_t *mem, struct ms_error *err);
/** Make sure libsodium is initialised; false if it cannot be. */
bool msi_sodium_ready(void);

/** Lower-case hex of len bytes into out (2*len+1 bytes). */
void msi_hex(const uint8_t *in, size_t len, char *out);

/** Read a whole file (regular file, pipe or /dev/stdin) of at most max bytes
 * into a new buffer *data (one extra NUL byte after *len bytes). The caller
 * frees it with msi_secret_free(*data, *len). Errors: MS_EIO, MS_ELIMIT,
 * MS_ENOMEM. */
MS_NODISCARD ms_status msi_read_file(const char *path, size_t max, uint8_t **data, size_t *len,
                                     struct ms_error *err);
/** Wipe and free a buffer from msi_read_file(). NULL is a no-op. */
void msi_secret_free(void *p, size_t len);
/** Write len bytes to path atomically (temporary + rename) with mode. */
MS_NODISCARD ms_status msi_write_file(const char *path, const void *data, size_t len,
                                      unsigned mode, struct ms_error *err);

#endif
