/* medseal — crypto layer: thin wrappers over OpenSSL 3 and libsodium.
 *
 * Random bytes, hashes (SHA-256, SHA-512, Whirlpool), HMAC-SHA256, constant-time
 * compare; AES-256-GCM (one-shot and streaming), AES-256-CBC + HMAC-SHA256
 * (encrypt-then-MAC), AES-256-ECB (research only) and AES-256-CTR; HKDF-SHA256,
 * scrypt, Argon2id; symmetric key files; signing keys (Ed25519, ECDSA P-256,
 * RSA-PSS), X.509 certificates, key generation and key inspection.
 *
 * Conventions. Keys are caller-owned byte buffers; the caller wipes them with
 * ms_crypto_wipe() when done. No function ever puts key, passphrase or plaintext
 * bytes into an error message. Every decryption that fails authentication wipes
 * the output it was given and returns MS_EKEY. Unless said otherwise, functions
 * are thread-safe when called on distinct objects; a struct ms_pkey may be
 * shared by threads for signing, verifying and reading its properties. */
#ifndef MEDSEAL_CRYPTO_H
#define MEDSEAL_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "medseal/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_AES256_KEY_LEN 32   /* every symmetric key in medseal */
#define MS_AES_BLOCK_LEN 16
#define MS_GCM_IV_LEN 12       /* 96-bit GCM nonce */
#define MS_GCM_TAG_LEN 16      /* 128-bit GCM tag */
#define MS_SHA256_LEN 32
#define MS_SHA512_LEN 64
#define MS_WHIRLPOOL_LEN 64
#define MS_HASH_MAX_LEN 64
#define MS_HMAC_SHA256_LEN 32
#define MS_CBC_IV_LEN 16
#define MS_ARGON2_SALT_LEN 16
#define MS_PASSWORD_HASH_MAX 128 /* ms_password_hash() string, NUL included */
#define MS_SIG_MAX_LEN 1024      /* any signature ms_pkey_sign() makes */
#define MS_FINGERPRINT_HEX_LEN 65 /* 64 hex digits + NUL */
#define MS_KEY_CHECK_LEN 8        /* key-file check value, bytes */

/* ---- random bytes, wiping, constant-time compare (random.c) ------------- */

/** Fill buf with len bytes from OpenSSL's CSPRNG. Returns MS_OK or MS_EINTERNAL
 * (the generator failed; buf is then wiped). Thread-safe. */
MS_NODISCARD ms_status ms_random_bytes(void *buf, size_t len, struct ms_error *err);

/** Overwrite len bytes at p with zeros in a way the compiler keeps. NULL is a
 * no-op. */
void ms_crypto_wipe(void *p, size_t len);

/** True when the len bytes at a and b are equal; the time taken depends only
 * on len. */
MS_NODISCARD bool ms_crypto_equal(const void *a, const void *b, size_t len);

/* ---- hashes and HMAC (hash.c) ------------------------------------------ */

/** Hash algorithms. Whirlpool exists only for a paper's (insecure) key-from-header
 * mode and comes from OpenSSL's legacy provider. */
typedef enum ms_hash_alg {
    MS_HASH_SHA256 = 0,
    MS_HASH_SHA512 = 1,
    MS_HASH_WHIRLPOOL = 2
} ms_hash_alg;

/** Digest size in bytes of alg (0 for an unknown value). */
size_t ms_hash_size(ms_hash_alg alg);
/** Lower-case name of alg ("sha256"), or "unknown". Static string. */
const char *ms_hash_name(ms_hash_alg alg);

/** One-shot digest of len bytes at data into out (ms_hash_size(alg) bytes).
 * Errors: MS_EUSAGE (unknown alg), MS_EUNSUPPORTED (Whirlpool without the legacy
 * provider), MS_EINTERNAL. */
MS_NODISCARD ms_status ms_hash_compute(ms_hash_alg alg, const void *data, size_t len,
                                       uint8_t *out, struct ms_error *err);

/** SHA-256 of len bytes at data into out[32]. */
MS_NODISCARD ms_status ms_sha256(const void *data, size_t len, uint8_t out[MS_SHA256_LEN],
                                 struct ms_error *err);

/** Digest of a whole file, read in bounded chunks (any size, constant memory).
 * Errors: MS_EIO (open/read), as ms_hash_compute(). */
MS_NODISCARD ms_status ms_hash_file(ms_hash_alg alg, const char *path, uint8_t *out,
                                    struct ms_error *err);

/** Streaming hash context. */
struct ms_hash;

/** New streaming hash of alg in *out; the caller owns it and frees it with
 * ms_hash_destroy(). On failure *out is NULL. */
MS_NODISCARD ms_status ms_hash_create(struct ms_hash **out, ms_hash_alg alg,
                                      struct ms_error *err);
/** Absorb len bytes. */
MS_NODISCARD ms_status ms_hash_update(struct ms_hash *h, const void *data, size_t len,
                                      struct ms_error *err);
/** Write the digest (ms_hash_size() bytes) to out and reset h for a new message. */
MS_NODISCARD ms_status ms_hash_final(struct ms_hash *h, uint8_t *out, struct ms_error *err);
/** Free h. NULL is a no-op. */
void ms_hash_destroy(struct ms_hash *h);

/** HMAC-SHA256 of data under key (any length) into out[32]. */
MS_NODISCARD ms_status ms_hmac_sha256(const void *key, size_t key_len, const void *data,
                                      size_t len, uint8_t out[MS_HMAC_SHA256_LEN],
                                      struct ms_error *err);

/** Check a (possibly truncated, 16..32 bytes) HMAC-SHA256 tag in constant time.
 * Returns MS_OK, MS_EKEY when it does not match, MS_EUSAGE for a bad tag_len. */
MS_NODISCARD ms_status ms_hmac_sha256_verify(const void *key, size_t key_len,
                                             const void *data, size_t len, const uint8_t *tag,
                                             size_t tag_len, struct ms_error *err);

/** Streaming HMAC-SHA256 context. */
struct ms_hmac;

/** New streaming HMAC-SHA256 under key (copied; wiped by destroy) in *out; the
 * caller owns it. On failure *out is NULL. */
MS_NODISCARD ms_status ms_hmac_create(struct ms_hmac **out, const void *key, size_t key_len,
                                      struct ms_error *err);
/** Absorb len bytes. */
MS_NODISCARD ms_status ms_hmac_update(struct ms_hmac *m, const void *data, size_t len,
                                      struct ms_error *err);
/** Write the 32-byte tag and reset m (same key) for a new message. */
MS_NODISCARD ms_status ms_hmac_final(struct ms_hmac *m, uint8_t out[MS_HMAC_SHA256_LEN],
                                     struct ms_error *err);
/** Free m and wipe its key. NULL is a no-op. */
void ms_hmac_destroy(struct ms_hmac *m);

/* ---- AES-256-GCM (aead.c) ---------------------------------------------- */

/** Encrypt len bytes of pt into ct (len bytes; ct may equal pt, no other overlap)
 * under a 32-byte key and a 12-byte IV that must never repeat under that key;
 * aad (may be NULL when aad_len is 0) is authenticated, not encrypted. Writes the
 * 16-byte tag. Any length up to 64 GiB. Errors: MS_ELIMIT, MS_EINTERNAL. */
MS_NODISCARD ms_status ms_gcm_encrypt(const uint8_t key[MS_AES256_KEY_LEN],
                                      const uint8_t iv[MS_GCM_IV_LEN], const void *aad,
                                      size_t aad_len, const void *pt, size_t len, uint8_t *ct,
                                      uint8_t tag[MS_GCM_TAG_LEN], struct ms_error *err);

/** Decrypt and verify: pt gets len bytes (pt may equal ct). On a wrong key, a
 * wrong IV, changed AAD or ciphertext or tag, returns MS_EKEY and wipes pt. */
MS_NODISCARD ms_status ms_gcm_decrypt(const uint8_t key[MS_AES256_KEY_LEN],
                                      const uint8_t iv[MS_GCM_IV_LEN], const void *aad,
                                      size_t aad_len, const void *ct, size_t len,
                                      const uint8_t tag[MS_GCM_TAG_LEN], uint8_t *pt,
                                      struct ms_error *err);

/** Bytes ms_gcm_seal() writes for len bytes of plaintext: len + 28. */
size_t ms_gcm_sealed_size(size_t len);

/** Encrypt with a fresh random IV into out = IV(12) || ciphertext || tag(16);
 * out must hold ms_gcm_sealed_size(len) bytes and not overlap pt. */
MS_NODISCARD ms_status ms_gcm_seal(const uint8_t key[MS_AES256_KEY_LEN], const void *aad,
                                   size_t aad_len, const void *pt, size_t len, uint8_t *out,
                                   struct ms_error *err);

/** Open what ms_gcm_seal() made: in_len bytes at in, plaintext (in_len - 28 bytes)
 * to out. Errors: MS_EMALFORMED (in_len < 28), MS_EKEY (authentication failed;
 * out wiped). */
MS_NODISCARD ms_status ms_gcm_open(const uint8_t key[MS_AES256_KEY_LEN], const void *aad,
                                   size_t aad_len, const uint8_t *in, size_t in_len,
                                   uint8_t *out, struct ms_error *err);

/** Direction of a streaming cipher. */
typedef enum ms_cipher_dir { MS_DECRYPT = 0, MS_ENCRYPT = 1 } ms_cipher_dir;

/** Streaming AES-256-GCM for data of any size (up to 64 GiB per IV). */
struct ms_gcm;

/** New streaming context in *out (caller owns; ms_gcm_destroy() frees and wipes
 * it). Order of calls: ms_gcm_aad()*, ms_gcm_update()*, then
 * ms_gcm_final_encrypt() or ms_gcm_final_decrypt(); ms_gcm_restart() begins the
 * next message under the same key. */
MS_NODISCARD ms_status ms_gcm_create(struct ms_gcm **out, ms_cipher_dir dir,
                                     const uint8_t key[MS_AES256_KEY_LEN],
                                     const uint8_t iv[MS_GCM_IV_LEN], struct ms_error *err);
/** Start a new message with a new IV (same key and direction). */
MS_NODISCARD ms_status ms_gcm_restart(struct ms_gcm *g, const uint8_t iv[MS_GCM_IV_LEN],
                                      struct ms_error *err);
/** Add associated data; only before the first ms_gcm_update() (else MS_EUSAGE). */
MS_NODISCARD ms_status ms_gcm_aad(struct ms_gcm *g, const void *aad, size_t len,
                                  struct ms_error *err);
/** Process len bytes from in to out (len bytes; out may equal in). When
 * decrypting, the output is NOT authenticated until ms_gcm_final_decrypt()
 * returns MS_OK: write it to a temporary file and release it only then. */
MS_NODISCARD ms_status ms_gcm_update(struct ms_gcm *g, const void *in, size_t len,
                                     uint8_t *out, struct ms_error *err);
/** End an encryption: write the 16-byte tag. */
MS_NODISCARD ms_status ms_gcm_final_encrypt(struct ms_gcm *g, uint8_t tag[MS_GCM_TAG_LEN],
                                            struct ms_error *err);
/** End a decryption: MS_OK when tag matches, MS_EKEY otherwise (the caller must
 * then discard everything ms_gcm_update() produced). */
MS_NODISCARD ms_status ms_gcm_final_decrypt(struct ms_gcm *g,
                                            const uint8_t tag[MS_GCM_TAG_LEN],
                                            struct ms_error *err);
/** Free g and wipe its key schedule. NULL is a no-op. */
void ms_gcm_destroy(struct ms_gcm *g);

/* ---- AES-256-CBC + HMAC-SHA256, AES-256-ECB, AES-256-CTR (cipher.c) ----- */

/** Bytes ms_cbc_hmac_encrypt() writes for len bytes of plaintext:
 * 16 (IV) + PKCS#7-padded length + 32 (tag). 0 on overflow. */
size_t ms_cbc_hmac_size(size_t len);

/** Encrypt-then-MAC (seed 004 mode, made authenticated): a random 16-byte IV,
 * AES-256-CBC with PKCS#7 padding under enc_key, then
 * tag = HMAC-SHA256(mac_key, aad || IV || C || be64(8 * aad_len)).
 * out = IV || C || tag; out_cap must be >= ms_cbc_hmac_size(len). The two keys
 * must be independent (derive them with ms_hkdf_sha256()). *out_len gets the
 * bytes written. Errors: MS_EUSAGE (out_cap too small), MS_EINTERNAL. */
MS_NODISCARD ms_status ms_cbc_hmac_encrypt(const uint8_t enc_key[MS_AES256_KEY_LEN],
                                           const uint8_t mac_key[MS_AES256_KEY_LEN],
                                           const void *aad, size_t aad_len, const void *pt,
                                           size_t len, uint8_t *out, size_t out_cap,
                                           size_t *out_len, struct ms_error *err);

/** Verify the tag (constant time) and only then decrypt in (in_len bytes) into
 * out (at least in_len - 48 bytes); *out_len gets the plaintext length.
 * Errors: MS_EMALFORMED (impossible length), MS_EKEY (tag or padding wrong;
 * out wiped), MS_EUSAGE (out_cap too small). */
MS_NODISCARD ms_status ms_cbc_hmac_decrypt(const uint8_t enc_key[MS_AES256_KEY_LEN],
                                           const uint8_t mac_key[MS_AES256_KEY_LEN],
                                           const void *aad, size_t aad_len, const uint8_t *in,
                                           size_t in_len, uint8_t *out, size_t out_cap,
                                           size_t *out_len, struct ms_error *err);

/** AES-256-ECB without padding, for the insecure research scheme and its
 * analysis only: equal plaintext blocks give equal ciphertext blocks. len must be
 * a multiple of 16 (else MS_EUSAGE); out may equal in. */
MS_NODISCARD ms_status ms_ecb_crypt(ms_cipher_dir dir, const uint8_t key[MS_AES256_KEY_LEN],
                                    const void *in, size_t len, uint8_t *out,
                                    struct ms_error *err);

/** AES-256-CTR: out = in XOR keystream(key, 16-byte initial counter block); the
 * same call encrypts and decrypts. Unauthenticated. out may equal in. */
MS_NODISCARD ms_status ms_ctr_xor(const uint8_t key[MS_AES256_KEY_LEN],
                                  const uint8_t counter[MS_AES_BLOCK_LEN], const void *in,
                                  size_t len, uint8_t *out, struct ms_error *err);

/* ---- key derivation (kdf.c) -------------------------------------------- */

/** HKDF-SHA256 (RFC 5869): out_len (1..8160) bytes from ikm, salt and info (salt
 * and info may be NULL with length 0). */
MS_NODISCARD ms_status ms_hkdf_sha256(const void *ikm, size_t ikm_len, const void *salt,
                                      size_t salt_len, const void *info, size_t info_len,
                                      uint8_t *out, size_t out_len, struct ms_error *err);

/** scrypt (RFC 7914) via OpenSSL: n a power of two > 1, r*p < 2^30; memory
 * 128*r*n bytes, at most 1 GiB here. */
MS_NODISCARD ms_status ms_scrypt(const void *pass, size_t pass_len, const void *salt,
                                 size_t salt_len, uint64_t n, uint32_t r, uint32_t p,
                                 uint8_t *out, size_t out_len, struct ms_error *err);

/** Argon2id cost parameters (libsodium crypto_pwhash, version 1.3, one lane). */
struct ms_argon2_params {
    uint64_t ops;    /* passes over memory, t (>= 1) */
    uint64_t mem_kib; /* memory in KiB, m (>= 8) */
};

/** Default Argon2id costs for keys from passphrases: t = 3, m = 64 MiB, one lane
 * (RFC 9106's second recommended option, with the lanes libsodium supports). */
#define MS_ARGON2_OPS_DEFAULT 3u
#define MS_ARGON2_MEM_KIB_DEFAULT (64u * 1024u)

/** Argon2id raw output: out_len (16..) bytes from pass and a 16-byte salt with
 * params (NULL = defaults). Errors: MS_EUSAGE (parameters out of range), MS_ENOMEM. */
MS_NODISCARD ms_status ms_argon2id(const void *pass, size_t pass_len,
                                   const uint8_t salt[MS_ARGON2_SALT_LEN],
                                   const struct ms_argon2_params *params, uint8_t *out,
                                   size_t out_len, struct ms_error *err);

/* ---- passphrases and password hashes (passphrase.c) -------------------- */

/** Read a passphrase from a file (or /dev/stdin; never from argv): the bytes
 * up to the first line end ("\n" or "\r\n"). buf gets the passphrase
 * NUL-terminated, *len its length. Errors: MS_EIO, MS_EMALFORMED (empty),
 * MS_ELIMIT (cap - 1 bytes or more). buf is wiped on failure. */
MS_NODISCARD ms_status ms_passphrase_read_file(const char *path, char *buf, size_t cap,
                                               size_t *len, struct ms_error *err);

/** Argon2id password hash string ("$argon2id$v=19$m=...,t=...,p=1$salt$hash",
 * random salt) into out[MS_PASSWORD_HASH_MAX]; params NULL = defaults. */
MS_NODISCARD ms_status ms_password_hash(char out[MS_PASSWORD_HASH_MAX], const void *pass,
                                        size_t pass_len, const struct ms_argon2_params *params,
                                        struct ms_error *err);

/** Check pass against a string from ms_password_hash() (or any Argon2id PHC
 * string). MS_OK when it matches, MS_EKEY when not, MS_EMALFORMED for a string
 * that is not an Argon2 hash. */
MS_NODISCARD ms_status ms_password_verify(const char *hash, const void *pass, size_t pass_len,
                                          struct ms_error *err);

/* ---- symmetric key files (keyfile.c; docs/formats/keyfile.md) ---------- */

/** How a symmetric key file was written. */
typedef enum ms_keyfile_format {
    MS_KEYFILE_RAW = 0,  /* exactly 32 bytes, e.g. `openssl rand -out k.bin 32` */
    MS_KEYFILE_TEXT = 1  /* "medseal-key v1" text with a check value */
} ms_keyfile_format;

/** Check value of a key: the first 8 bytes of HMAC-SHA256(key, "medseal key
 * check"). Identifies a key without revealing it. */
MS_NODISCARD ms_status ms_key_check_value(const uint8_t key[MS_AES256_KEY_LEN],
                                          uint8_t out[MS_KEY_CHECK_LEN], struct ms_error *err);

/** Parse a key file's bytes into key[32]; *format (may be NULL) tells which
 * form it was. Errors: MS_EMALFORMED (not 32 raw bytes nor a valid text file),
 * MS_EKEY (text file whose check value does not match: corrupted). key is wiped
 * on failure. Messages never contain key bytes. */
MS_NODISCARD ms_status ms_keyfile_parse(const uint8_t *data, size_t len,
                                        uint8_t key[MS_AES256_KEY_LEN],
                                        ms_keyfile_format *format, struct ms_error *err);

/** Read a key file (at most 4 KiB) at path into key[32]. Errors: MS_EIO, as
 * ms_keyfile_parse(). */
MS_NODISCARD ms_status ms_keyfile_read(const char *path, uint8_t key[MS_AES256_KEY_LEN],
                                       ms_keyfile_format *format, struct ms_error *err);

/** Write key to path atomically with mode 0600, in format. Errors: MS_EIO. */
MS_NODISCARD ms_status ms_keyfile_write(const char *path, const uint8_t key[MS_AES256_KEY_LEN],
                                        ms_keyfile_format format, struct ms_error *err);

/* ---- asymmetric keys and certificates (pkey.c, sign.c, keygen.c) ------- */

/** Key algorithms. */
typedef enum ms_pkey_type {
    MS_PKEY_UNKNOWN = 0,
    MS_PKEY_ED25519 = 1,
    MS_PKEY_P256 = 2, /* EC P-256: ECDSA with SHA-256, ECDH */
    MS_PKEY_RSA = 3   /* RSA: RSA-PSS SHA-256 signatures, OAEP encryption */
} ms_pkey_type;

/** A public key, a key pair, optionally with its X.509 certificate. */
struct ms_pkey;

/** Parse a private key (PEM or DER: PKCS#8, encrypted PKCS#8, or the traditional
 * RSA/EC forms) from len bytes. pass (pass_len bytes, may be NULL) unlocks an
 * encrypted key. *out is owned by the caller (ms_pkey_destroy()); NULL on
 * failure. Errors: MS_EMALFORMED (not a private key), MS_EKEY (encrypted and no
 * or a wrong passphrase), MS_EUNSUPPORTED (other algorithms). */
MS_NODISCARD ms_status ms_pkey_parse_private(struct ms_pkey **out, const uint8_t *data,
                                             size_t len, const char *pass, size_t pass_len,
                                             struct ms_error *err);

/** Parse a public key: a SubjectPublicKeyInfo (PEM "PUBLIC KEY" or DER) or an
 * X.509 certificate (PEM or DER; kept, see ms_pkey_has_cert()). Caller owns *out.
 * Errors: MS_EMALFORMED, MS_EUNSUPPORTED. */
MS_NODISCARD ms_status ms_pkey_parse_public(struct ms_pkey **out, const uint8_t *data,
                                            size_t len, struct ms_error *err);

/** ms_pkey_parse_private() on the contents of a file (at most 1 MiB). */
MS_NODISCARD ms_status ms_pkey_load_private(struct ms_pkey **out, const char *path,
                                            const char *pass, size_t pass_len,
                                            struct ms_error *err);

/** ms_pkey_parse_public() on the contents of a file (at most 1 MiB). */
MS_NODISCARD ms_status ms_pkey_load_public(struct ms_pkey **out, const char *path,
                                           struct ms_error *err);

/** Free k (wiping private material). NULL is a no-op. */
void ms_pkey_destroy(struct ms_pkey *k);

/** Give k (typically a private key) the certificate that cert carries (cert is
 * only borrowed; k keeps its own reference), e.g. to sign CMS with a key and its
 * certificate loaded from two files. Errors: MS_ENOTFOUND (cert has no
 * certificate), MS_EKEY (the certificate is for another key). */
MS_NODISCARD ms_status ms_pkey_attach_cert(struct ms_pkey *k, const struct ms_pkey *cert,
                                           struct ms_error *err);

/** Algorithm of k. */
ms_pkey_type ms_pkey_get_type(const struct ms_pkey *k);
/** Display name of a type ("Ed25519", "EC P-256", "RSA"). Static string. */
const char *ms_pkey_type_name(ms_pkey_type t);
/** Key size in bits as OpenSSL reports it (RSA modulus; 256 for P-256 and
 * Ed25519). */
unsigned ms_pkey_get_bits(const struct ms_pkey *k);
/** Security strength in bits (128 for P-256, Ed25519 and RSA-3072). */
unsigned ms_pkey_get_security_bits(const struct ms_pkey *k);
/** True when k holds a private key. */
bool ms_pkey_has_private(const struct ms_pkey *k);
/** True when k carries an X.509 certificate. */
bool ms_pkey_has_cert(const struct ms_pkey *k);
/** True when a and b have the same public key. */
bool ms_pkey_equal(const struct ms_pkey *a, const struct ms_pkey *b);

/** SHA-256 of the DER SubjectPublicKeyInfo of k into out[32]. */
MS_NODISCARD ms_status ms_pkey_fingerprint(const struct ms_pkey *k, uint8_t out[MS_SHA256_LEN],
                                           struct ms_error *err);
/** The same fingerprint as 64 lower-case hex digits + NUL. */
MS_NODISCARD ms_status ms_pkey_fingerprint_hex(const struct ms_pkey *k,
                                               char out[MS_FINGERPRINT_HEX_LEN],
                                               struct ms_error *err);

/** DER SubjectPublicKeyInfo of k in a new malloc'd buffer *der (caller frees
 * with free()) of *len bytes. */
MS_NODISCARD ms_status ms_pkey_public_der(const struct ms_pkey *k, uint8_t **der, size_t *len,
                                          struct ms_error *err);

/** Sign msg (len bytes): Ed25519 pure (64 bytes), ECDSA P-256 with SHA-256 (DER,
 * at most 72 bytes), RSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt.
 * sig_cap >= MS_SIG_MAX_LEN always suffices; *sig_len gets the length.
 * Errors: MS_EKEY (k has no private key), MS_EUSAGE (sig_cap too small). */
MS_NODISCARD ms_status ms_pkey_sign(const struct ms_pkey *k, const void *msg, size_t len,
                                    uint8_t *sig, size_t sig_cap, size_t *sig_len,
                                    struct ms_error *err);

/** Verify a signature made as by ms_pkey_sign() (RSA-PSS: any salt length).
 * MS_OK when valid; MS_EKEY when not (wrong key, changed message or signature). */
MS_NODISCARD ms_status ms_pkey_verify(const struct ms_pkey *k, const void *msg, size_t len,
                                      const uint8_t *sig, size_t sig_len, struct ms_error *err);

/** Generate a key pair in *out (caller owns): MS_PKEY_ED25519, MS_PKEY_P256, or
 * MS_PKEY_RSA with bits 2048..8192 (0 = 3072; bits is ignored for the others). */
MS_NODISCARD ms_status ms_pkey_generate(struct ms_pkey **out, ms_pkey_type type, unsigned bits,
                                        struct ms_error *err);

/** Attach a new self-signed X.509 v3 certificate to the key pair k: subject and
 * issuer CN=cn (1..64 bytes UTF-8), valid from now for days (1..36500) days,
 * random 128-bit serial, basicConstraints CA:FALSE, keyUsage for the algorithm,
 * subject key identifier; signed with SHA-256 (Ed25519: pure). Replaces any
 * certificate k had. */
MS_NODISCARD ms_status ms_pkey_make_self_signed(struct ms_pkey *k, const char *cn,
                                                unsigned days, struct ms_error *err);

/** Write k's private key to path as PKCS#8 PEM, atomically, mode 0600. With a
 * passphrase (pass_len > 0), as encrypted PKCS#8: PBES2 with scrypt (N = 16384,
 * r = 8, p = 1, 16-byte salt) and AES-256-CBC, which `openssl pkey` reads. */
MS_NODISCARD ms_status ms_pkey_write_private(const struct ms_pkey *k, const char *path,
                                             const char *pass, size_t pass_len,
                                             struct ms_error *err);
/** Write k's public key as PEM SubjectPublicKeyInfo, atomically, mode 0644. */
MS_NODISCARD ms_status ms_pkey_write_public(const struct ms_pkey *k, const char *path,
                                            struct ms_error *err);
/** Write k's certificate as PEM, atomically, mode 0644. MS_ENOTFOUND if none. */
MS_NODISCARD ms_status ms_pkey_write_cert(const struct ms_pkey *k, const char *path,
                                          struct ms_error *err);

/* ---- key inspection (keyinfo.c) ---------------------------------------- */

/** What a key file holds. */
typedef enum ms_key_kind {
    MS_KEY_SYMMETRIC = 0,        /* 32-byte key, raw or text */
    MS_KEY_PRIVATE = 1,          /* private key (unlocked if it was encrypted) */
    MS_KEY_PRIVATE_LOCKED = 2,   /* encrypted private key, no passphrase given */
    MS_KEY_PUBLIC = 3,           /* SubjectPublicKeyInfo */
    MS_KEY_CERTIFICATE = 4       /* X.509 certificate */
} ms_key_kind;

/** Public facts about a key file: never any secret byte. Strings are
 * NUL-terminated and may be truncated. */
struct ms_key_info {
    ms_key_kind kind;
    ms_pkey_type type;          /* MS_PKEY_UNKNOWN for symmetric, locked and other keys */
    char algorithm[48];         /* "AES-256", "Ed25519", "EC P-256", "RSA", "EC secp384r1"... */
    ms_keyfile_format keyfile_format; /* symmetric keys */
    bool encrypted;             /* private key stored encrypted */
    unsigned bits, security_bits;
    char fingerprint[MS_FINGERPRINT_HEX_LEN]; /* public-key SHA-256, hex; "" if none */
    char check[2 * MS_KEY_CHECK_LEN + 1];   /* symmetric key check value, hex */
    char protection[96];        /* e.g. "PBES2 scrypt aes-256-cbc" for locked keys */
    char subject[256], issuer[256]; /* certificates, RFC 2253 */
    char not_before[32], not_after[32]; /* "YYYY-MM-DD HH:MM:SS UTC" */
    int64_t not_before_epoch, not_after_epoch;
    bool self_signed;
    char serial[80];            /* hex */
};

/** Inspect the key file at path: symmetric key file, private key (encrypted ones
 * are unlocked with pass when given, else reported as MS_KEY_PRIVATE_LOCKED),
 * public key or certificate. Errors: MS_EIO, MS_EMALFORMED (none of these),
 * MS_EKEY (wrong passphrase, corrupted symmetric key file). */
MS_NODISCARD ms_status ms_key_inspect(const char *path, const char *pass, size_t pass_len,
                                      struct ms_key_info *info, struct ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
