/* Asymmetric keys: parsing private keys, public keys and certificates,
 * properties and fingerprints. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "crypto/crypto_internal.h"

#define RSA_MIN_BITS 2048

/* ---- classification ---------------------------------------------------------- */

static bool ec_group(const EVP_PKEY *pk, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    return EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, buf, cap, &len) == 1;
}

ms_pkey_type msi_pkey_classify(const EVP_PKEY *pk)
{
    char group[64];
    if (EVP_PKEY_is_a(pk, "ED25519"))
        return MS_PKEY_ED25519;
    if (EVP_PKEY_is_a(pk, "RSA"))
        return MS_PKEY_RSA;
    if (EVP_PKEY_is_a(pk, "EC") && ec_group(pk, group, sizeof group) &&
        (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0))
        return MS_PKEY_P256;
    return MS_PKEY_UNKNOWN;
}

void msi_pkey_describe(const EVP_PKEY *pk, char *buf, size_t cap)
{
    char group[64];
    ms_pkey_type t = msi_pkey_classify(pk);
    const char *name = EVP_PKEY_get0_type_name(pk);

    if (t != MS_PKEY_UNKNOWN)
        snprintf(buf, cap, "%s", ms_pkey_type_name(t));
    else if (EVP_PKEY_is_a(pk, "EC") && ec_group(pk, group, sizeof group))
        snprintf(buf, cap, "EC %s", group);
    else
        snprintf(buf, cap, "%s", name ? name : "unknown");
    ERR_clear_error();
}

const char *ms_pkey_type_name(ms_pkey_type t)
{
    switch (t) {
    case MS_PKEY_ED25519:
        return "Ed25519";
    case MS_PKEY_P256:
        return "EC P-256";
    case MS_PKEY_RSA:
        return "RSA";
    case MS_PKEY_UNKNOWN:
        break;
    }
    return "unknown";
}

/* ---- the key object ---------------------------------------------------------- */

ms_status msi_pkey_wrap(struct ms_pkey **out, EVP_PKEY *pk, X509 *cert, bool priv,
                        struct ms_error *err)
{
    struct ms_pkey *k;
    char desc[64];
    ms_pkey_type t = msi_pkey_classify(pk);
    int bits = EVP_PKEY_get_bits(pk);

    *out = NULL;
    if (t == MS_PKEY_UNKNOWN || (t == MS_PKEY_RSA && bits < RSA_MIN_BITS)) {
        msi_pkey_describe(pk, desc, sizeof desc);
        EVP_PKEY_free(pk);
        X509_free(cert);
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "unsupported key %s (%d bits): medseal uses Ed25519, EC P-256 and "
                            "RSA of 2048 bits or more",
                            desc, bits);
    }
    k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pk);
        X509_free(cert);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    k->pkey = pk;
    k->cert = cert;
    k->type = t;
    k->priv = priv;
    *out = k;
    return MS_OK;
}

void ms_pkey_destroy(struct ms_pkey *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey); /* OpenSSL clears private key material when freeing */
    X509_free(k->cert);
    free(k);
}

ms_status ms_pkey_attach_cert(struct ms_pkey *k, const struct ms_pkey *cert,
                              struct ms_error *err)
{
    if (!cert->cert)
        return ms_error_set(err, MS_ENOTFOUND, "no certificate to attach");
    if (!ms_pkey_equal(k, cert))
        return ms_error_set(err, MS_EKEY, "the certificate is for another key");
    if (X509_up_ref(cert->cert) != 1)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot share the certificate");
    X509_free(k->cert);
    k->cert = cert->cert;
    return MS_OK;
}

/* ---- decoding ------------------------------------------------------------------ */

static int no_passphrase(char *pass, size_t size, size_t *len, const OSSL_PARAM params[],
                         void *arg)
{
    return 0; /* never prompt on a terminal */
}

bool msi_contains(const uint8_t *data, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (data[i] == (uint8_t)needle[0] && memcmp(data + i, needle, n) == 0)
            return true;
    return false;
}

/* An encrypted private key: PEM PKCS#8 or traditional, or DER EncryptedPrivateKeyInfo. */
bool msi_is_encrypted_key(const uint8_t *data, size_t len)
{
    X509_SIG *p8;
    const unsigned char *p = data;

    if (msi_contains(data, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
        msi_contains(data, len, "Proc-Type: 4,ENCRYPTED"))
        return true;
    p8 = d2i_X509_SIG(NULL, &p, (long)len);
    X509_SIG_free(p8);
    ERR_clear_error();
    return p8 != NULL && p == data + len;
}

/* Decode one key of the given selection and structure (NULL = any). */
static EVP_PKEY *decode(const uint8_t *data, size_t len, int selection, const char *structure,
                        const char *pass, size_t pass_len)
{
    EVP_PKEY *pk = NULL;
    const unsigned char *p = data;
    size_t left = len;
    OSSL_DECODER_CTX *d = OSSL_DECODER_CTX_new_for_pkey(&pk, NULL, structure, NULL, selection,
                                                        NULL, NULL);
    bool ok = d != NULL;

    if (ok && pass)
        ok = OSSL_DECODER_CTX_set_passphrase(d, (const unsigned char *)pass, pass_len) == 1;
    else if (ok)
        ok = OSSL_DECODER_CTX_set_passphrase_cb(d, no_passphrase, NULL) == 1;
    if (ok && !OSSL_DECODER_from_data(d, &p, &left)) {
        EVP_PKEY_free(pk);
        pk = NULL;
    }
    OSSL_DECODER_CTX_free(d);
    return pk;
}

/* True when pk carries a private half: its private component can be read. */
static bool has_private(const EVP_PKEY *pk)
{
    BIGNUM *bn = NULL;
    uint8_t buf[64];
    size_t n = 0;
    bool yes = false;

    if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_D, &bn) == 1 ||
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1)
        yes = true;
    else if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, buf, sizeof buf, &n) ==
             1)
        yes = n > 0;
    BN_clear_free(bn);
    OPENSSL_cleanse(buf, sizeof buf);
    ERR_clear_error();
    return yes;
}

ms_status msi_decode_private(EVP_PKEY **out, const uint8_t *data, size_t len, const char *pass,
                             size_t pass_len, struct ms_error *err)
{
    EVP_PKEY *pk;
    bool encrypted = msi_is_encrypted_key(data, len);

    *out = NULL;
    if (len > INT_MAX)
        return ms_error_set(err, MS_ELIMIT, "key too large");
    pk = decode(data, len, EVP_PKEY_KEYPAIR, NULL, pass, pass_len);
    if (pk && !has_private(pk)) {
        EVP_PKEY_free(pk);
        ERR_clear_error();
        return ms_error_set(err, MS_EMALFORMED, "a public key, not a private key");
    }
    if (!pk && encrypted && !pass)
        return msi_ossl_fail(err, MS_EKEY, "encrypted private key: its passphrase is needed");
    if (!pk && encrypted)
        return msi_ossl_fail(err, MS_EKEY, "cannot decrypt the private key: wrong passphrase?");
    if (!pk)
        return msi_ossl_fail(err, MS_EMALFORMED, "not a private key (PEM or DER PKCS#8 expected)");
    ERR_clear_error();
    *out = pk;
    return MS_OK;
}

ms_status msi_decode_cert(X509 **out, const uint8_t *data, size_t len)
{
    X509 *x = NULL;

    *out = NULL;
    if (len > INT_MAX)
        return MS_ELIMIT;
    if (msi_contains(data, len, "-----BEGIN CERTIFICATE-----")) {
        BIO *b = BIO_new_mem_buf(data, (int)len);
        x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else if (len > 0 && data[0] == 0x30) {
        const unsigned char *p = data;
        x = d2i_X509(NULL, &p, (long)len);
        if (x && p != data + len) {
            X509_free(x);
            x = NULL;
        }
    }
    ERR_clear_error();
    *out = x;
    return x ? MS_OK : MS_ENOTFOUND;
}

ms_status msi_decode_public(EVP_PKEY **out, X509 **cert, const uint8_t *data, size_t len,
                            struct ms_error *err)
{
    X509 *x = NULL;
    EVP_PKEY *pk;

    *out = NULL;
    *cert = NULL;
    if (len > INT_MAX)
        return ms_error_set(err, MS_ELIMIT, "key too large");
    if (msi_decode_cert(&x, data, len) == MS_OK) {
        pk = X509_get_pubkey(x);
        if (!pk) {
            X509_free(x);
            return msi_ossl_fail(err, MS_EUNSUPPORTED, "certificate with an unusable public key");
        }
        *out = pk;
        *cert = x;
        return MS_OK;
    }
    if (msi_contains(data, len, "-----BEGIN CERTIFICATE-----"))
        return ms_error_set(err, MS_EMALFORMED, "malformed certificate");
    pk = decode(data, len, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo", NULL, 0);
    if (!pk)
        return msi_ossl_fail(err, MS_EMALFORMED,
                             "not a public key or certificate (PEM or DER expected)");
    ERR_clear_error();
    *out = pk;
    return MS_OK;
}

ms_status ms_pkey_parse_private(struct ms_pkey **out, const uint8_t *data, size_t len,
                                const char *pass, size_t pass_len, struct ms_error *err)
{
    EVP_PKEY *pk = NULL;
    ms_status rc = msi_decode_private(&pk, data, len, pass, pass_len, err);

    *out = NULL;
    if (rc != MS_OK)
        return rc;
    return msi_pkey_wrap(out, pk, NULL, true, err);
}

ms_status ms_pkey_parse_public(struct ms_pkey **out, const uint8_t *data, size_t len,
                               struct ms_error *err)
{
    EVP_PKEY *pk = NULL;
    X509 *x = NULL;
    ms_status rc = msi_decode_public(&pk, &x, data, len, err);

    *out = NULL;
    if (rc != MS_OK)
        return rc;
    return msi_pkey_wrap(out, pk, x, false, err);
}

ms_status msi_load_private(EVP_PKEY **out, const char *path, const char *pass, size_t pass_len,
                           struct ms_error *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    ms_status rc = msi_read_file(path, MSI_KEY_FILE_MAX, &data, &len, err);

    *out = NULL;
    if (rc == MS_OK) {
        rc = msi_decode_private(out, data, len, pass, pass_len, err);
        msi_secret_free(data, len);
    }
    if (rc != MS_OK)
        ms_error_prefix(err, "%s", path);
    return rc;
}

ms_status msi_load_cert(X509 **out, const char *path, struct ms_error *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    ms_status rc = msi_read_file(path, MSI_KEY_FILE_MAX, &data, &len, err);

    *out = NULL;
    if (rc == MS_OK) {
        if (msi_decode_cert(out, data, len) != MS_OK)
            rc = ms_error_set(err, MS_EMALFORMED, "not an X.509 certificate (PEM or DER)");
        msi_secret_free(data, len);
    }
    if (rc != MS_OK)
        ms_error_prefix(err, "%s", path);
    return rc;
}

ms_status ms_pkey_load_private(struct ms_pkey **out, const char *path, const char *pass,
                               size_t pass_len, struct ms_error *err)
{
    EVP_PKEY *pk = NULL;
    ms_status rc = msi_load_private(&pk, path, pass, pass_len, err);

    *out = NULL;
    if (rc != MS_OK)
        return rc;
    rc = msi_pkey_wrap(out, pk, NULL, true, err);
    if (rc != MS_OK)
        ms_error_prefix(err, "%s", path);
    return rc;
}

ms_status ms_pkey_load_public(struct ms_pkey **out, const char *path, struct ms_error *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    ms_status rc = msi_read_file(path, MSI_KEY_FILE_MAX, &data, &len, err);

    *out = NULL;
    if (rc == MS_OK) {
        rc = ms_pkey_parse_public(out, data, len, err);
        msi_secret_free(data, len);
    }
    if (rc != MS_OK)
        ms_error_prefix(err, "%s", path);
    return rc;
}

/* ---- properties ------------------------------------------------------------------ */

ms_pkey_type ms_pkey_get_type(const struct ms_pkey *k) { return k->type; }

unsigned ms_pkey_get_bits(const struct ms_pkey *k)
{
    int b = EVP_PKEY_get_bits(k->pkey);
    return b > 0 ? (unsigned)b : 0;
}

unsigned ms_pkey_get_security_bits(const struct ms_pkey *k)
{
    int b = EVP_PKEY_get_security_bits(k->pkey);
    return b > 0 ? (unsigned)b : 0;
}

bool ms_pkey_has_private(const struct ms_pkey *k) { return k->priv; }

bool ms_pkey_has_cert(const struct ms_pkey *k) { return k->cert != NULL; }

bool ms_pkey_equal(const struct ms_pkey *a, const struct ms_pkey *b)
{
    bool eq = EVP_PKEY_eq(a->pkey, b->pkey) == 1;
    ERR_clear_error();
    return eq;
}

ms_status ms_pkey_public_der(const struct ms_pkey *k, uint8_t **der, size_t *len,
                             struct ms_error *err)
{
    unsigned char *buf = NULL;
    int n = i2d_PUBKEY(k->pkey, &buf);

    *der = NULL;
    *len = 0;
    if (n <= 0)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot encode the public key");
    /* Hand back a malloc'd copy: the caller frees with free(), not OPENSSL_free(). */
    *der = malloc((size_t)n);
    if (!*der) {
        OPENSSL_free(buf);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    memcpy(*der, buf, (size_t)n);
    OPENSSL_free(buf);
    *len = (size_t)n;
    return MS_OK;
}

ms_status ms_pkey_fingerprint(const struct ms_pkey *k, uint8_t out[MS_SHA256_LEN],
                              struct ms_error *err)
{
    uint8_t *der = NULL;
    size_t len = 0;
    ms_status rc = ms_pkey_public_der(k, &der, &len, err);

    if (rc == MS_OK)
        rc = ms_sha256(der, len, out, err);
    free(der);
    return rc;
}

ms_status ms_pkey_fingerprint_hex(const struct ms_pkey *k, char out[MS_FINGERPRINT_HEX_LEN],
                                  struct ms_error *err)
{
    uint8_t fp[MS_SHA256_LEN];
    ms_status rc = ms_pkey_fingerprint(k, fp, err);

    out[0] = '\0';
    if (rc == MS_OK)
        msi_hex(fp, sizeof fp, out);
    return rc;
}
