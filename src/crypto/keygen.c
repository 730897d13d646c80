/* Key generation, self-signed certificates, and writing keys as PEM. */
#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_internal.h"

/* scrypt costs of encrypted private keys: OpenSSL's own (`openssl pkcs8
 * -scrypt`); 16 MiB, within the 32 MiB that OpenSSL allows when reading. */
#define P8_SCRYPT_N 16384
#define P8_SCRYPT_R 8
#define P8_SCRYPT_P 1
#define P8_SALT_LEN 16
#define CN_MAX 64
#define DAYS_MAX 36500u

ms_status ms_pkey_generate(struct ms_pkey **out, ms_pkey_type type, unsigned bits,
                           struct ms_error *err)
{
    EVP_PKEY *pk = NULL;

    *out = NULL;
    switch (type) {
    case MS_PKEY_ED25519:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    case MS_PKEY_P256:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case MS_PKEY_RSA:
        if (bits == 0)
            bits = 3072;
        if (bits < 2048 || bits > 8192)
            return ms_error_set(err, MS_EUSAGE, "RSA key size %u not in 2048..8192", bits);
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
        break;
    default:
        return ms_error_set(err, MS_EUSAGE, "cannot generate keys of type %d", (int)type);
    }
    if (!pk)
        return msi_ossl_fail(err, MS_EINTERNAL, "%s key generation failed",
                             ms_pkey_type_name(type));
    return msi_pkey_wrap(out, pk, NULL, true, err);
}

/* ---- self-signed certificates --------------------------------------------------- */

static bool add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    bool ok;

    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    ok = ext && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* A random positive 127-bit serial (RFC 5280: at most 20 octets, positive). */
static bool set_serial(X509 *x)
{
    uint8_t raw[16];
    BIGNUM *bn;
    bool ok;

    if (ms_random_bytes(raw, sizeof raw, NULL) != MS_OK)
        return false;
    raw[0] = (uint8_t)((raw[0] & 0x7f) | 0x40);
    bn = BN_bin2bn(raw, sizeof raw, NULL);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok;
}

static const char *key_usage(ms_pkey_type t)
{
    switch (t) {
    case MS_PKEY_RSA:
        return "critical,digitalSignature,keyEncipherment";
    case MS_PKEY_P256:
        return "critical,digitalSignature,keyAgreement";
    default:
        return "critical,digitalSignature";
    }
}

static bool fill_cert(X509 *x, const struct ms_pkey *k, const char *cn, unsigned days)
{
    X509_NAME *name = X509_get_subject_name(x);
    /* Ed25519 signs without a separate digest; the others with SHA-256. */
    const EVP_MD *md = k->type == MS_PKEY_ED25519 ? NULL : msi_md(MS_HASH_SHA256);

    return X509_set_version(x, X509_VERSION_3) && set_serial(x) &&
           X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
           X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) &&
           X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                      -1, 0) &&
           X509_set_issuer_name(x, name) && X509_set_pubkey(x, k->pkey) &&
           add_ext(x, NID_basic_constraints, "critical,CA:FALSE") &&
           add_ext(x, NID_key_usage, key_usage(k->type)) &&
           add_ext(x, NID_subject_key_identifier, "hash") && X509_sign(x, k->pkey, md) > 0;
}

ms_status ms_pkey_make_self_signed(struct ms_pkey *k, const char *cn, unsigned days,
                                   struct ms_error *err)
{
    X509 *x;
    size_t cn_len = cn ? strlen(cn) : 0;

    if (!k->priv)
        return ms_error_set(err, MS_EKEY, "a certificate needs the private key to sign it");
    if (cn_len == 0 || cn_len > CN_MAX)
        return ms_error_set(err, MS_EUSAGE, "common name must have 1..%d bytes", CN_MAX);
    if (days == 0 || days > DAYS_MAX)
        return ms_error_set(err, MS_EUSAGE, "validity must be 1..%u days", DAYS_MAX);
    x = X509_new();
    if (!x || !fill_cert(x, k, cn, days)) {
        X509_free(x);
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot make the certificate");
    }
    X509_free(k->cert);
    k->cert = x;
    return MS_OK;
}

/* ---- writing PEM ------------------------------------------------------------------ */

/* Write what a BIO holds to path with mode, atomically. */
static ms_status write_bio(BIO *b, const char *path, unsigned mode, struct ms_error *err)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);

    if (n <= 0 || !data)
        return ms_error_set(err, MS_EINTERNAL, "nothing to write to %s", path);
    return msi_write_file(path, data, (size_t)n, mode, err);
}

/* Encrypted PKCS#8: PBES2 with scrypt and AES-256-CBC. */
static bool write_encrypted_p8(BIO *b, PKCS8_PRIV_KEY_INFO *p8, const char *pass,
                               size_t pass_len)
{
    uint8_t salt[P8_SALT_LEN];
    X509_ALGOR *pbe;
    X509_SIG *sig = NULL;
    bool ok;

    if (pass_len > INT_MAX || ms_random_bytes(salt, sizeof salt, NULL) != MS_OK)
        return false;
    pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), salt, sizeof salt, NULL, P8_SCRYPT_N,
                                P8_SCRYPT_R, P8_SCRYPT_P);
    if (pbe)
        sig = PKCS8_set0_pbe(pass, (int)pass_len, p8, pbe);
    if (pbe && !sig)
        X509_ALGOR_free(pbe); /* not taken on failure */
    ok = sig && PEM_write_bio_PKCS8(b, sig) == 1;
    X509_SIG_free(sig);
    return ok;
}

ms_status ms_pkey_write_private(const struct ms_pkey *k, const char *path, const char *pass,
                                size_t pass_len, struct ms_error *err)
{
    PKCS8_PRIV_KEY_INFO *p8;
    BIO *b;
    ms_status rc;
    bool ok;

    if (!k->priv)
        return ms_error_set(err, MS_EKEY, "no private key to write");
    /* Secure-memory BIO: its buffer is wiped when freed. */
    b = BIO_new(BIO_s_secmem());
    p8 = b ? EVP_PKEY2PKCS8(k->pkey) : NULL;
    if (p8 && pass && pass_len > 0)
        ok = write_encrypted_p8(b, p8, pass, pass_len);
    else
        ok = p8 && PEM_write_bio_PKCS8_PRIV_KEY_INFO(b, p8) == 1;
    PKCS8_PRIV_KEY_INFO_free(p8); /* OpenSSL wipes the key octets */
    rc = ok ? write_bio(b, path, 0600, err)
            : msi_ossl_fail(err, MS_EINTERNAL, "cannot encode the private key");
    BIO_free(b);
    return rc;
}

ms_status ms_pkey_write_public(const struct ms_pkey *k, const char *path, struct ms_error *err)
{
    BIO *b = BIO_new(BIO_s_mem());
    ms_status rc = b && PEM_write_bio_PUBKEY(b, k->pkey) == 1
                       ? write_bio(b, path, 0644, err)
                       : msi_ossl_fail(err, MS_EINTERNAL, "cannot encode the public key");
    BIO_free(b);
    return rc;
}

ms_status ms_pkey_write_cert(const struct ms_pkey *k, const char *path, struct ms_error *err)
{
    BIO *b;
    ms_status rc;

    if (!k->cert)
        return ms_error_set(err, MS_ENOTFOUND, "the key has no certificate");
    b = BIO_new(BIO_s_mem());
    rc = b && PEM_write_bio_X509(b, k->cert) == 1
             ? write_bio(b, path, 0644, err)
             : msi_ossl_fail(err, MS_EINTERNAL, "cannot encode the certificate");
    BIO_free(b);
    return rc;
}
