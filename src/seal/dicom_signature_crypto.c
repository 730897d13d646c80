/* Primitives of DICOM digital signatures that the crypto layer does not offer:
 * RSA PKCS#1 v1.5 and ECDSA over a precomputed MAC (PS3.15 C.3: the MAC is
 * signed, not the byte stream), certificates as DICOM stores them (DER, maybe
 * with a padding byte), names, trust checks and new UIDs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_internal.h"
#include "seal/dicom_signature_internal.h"

/* ---- signatures over a digest -------------------------------------------------------- */

/* A sign or verify context for k's algorithm over a digest of alg. */
static EVP_PKEY_CTX *digest_ctx(const struct ms_pkey *k, ms_hash_alg alg, bool sign)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, msi_pkey_evp(k), NULL);
    const EVP_MD *md = msi_md(alg);
    bool ok = c && md && (sign ? EVP_PKEY_sign_init(c) : EVP_PKEY_verify_init(c)) == 1 &&
              EVP_PKEY_CTX_set_signature_md(c, md) == 1;

    if (ok && ms_pkey_get_type(k) == MS_PKEY_RSA)
        ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1;
    if (!ok) {
        EVP_PKEY_CTX_free(c);
        return NULL;
    }
    return c;
}

static bool supported(const struct ms_pkey *k)
{
    ms_pkey_type t = ms_pkey_get_type(k);
    return t == MS_PKEY_RSA || t == MS_PKEY_P256;
}

ms_status msi_dsig_sign_digest(const struct ms_pkey *k, ms_hash_alg alg, const uint8_t *digest,
                               size_t dlen, uint8_t *sig, size_t sig_cap, size_t *sig_len,
                               struct ms_error *err)
{
    EVP_PKEY_CTX *c;
    size_t need = 0;
    bool ok;

    *sig_len = 0;
    if (!supported(k))
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "%s keys cannot make DICOM signatures (RSA or EC P-256 needed)",
                            ms_pkey_type_name(ms_pkey_get_type(k)));
    if (!ms_pkey_has_private(k))
        return ms_error_set(err, MS_EUSAGE, "cannot sign: no private key (a public key was given)");
    c = digest_ctx(k, alg, true);
    ok = c && EVP_PKEY_sign(c, NULL, &need, digest, dlen) == 1;
    if (ok && need > sig_cap) {
        EVP_PKEY_CTX_free(c);
        return ms_error_set(err, MS_EUSAGE, "signature buffer too small (%zu < %zu)", sig_cap,
                            need);
    }
    ok = ok && EVP_PKEY_sign(c, sig, &need, digest, dlen) == 1;
    EVP_PKEY_CTX_free(c);
    if (!ok)
        return msi_ossl_fail(err, MS_EINTERNAL, "%s signing failed",
                             ms_pkey_type_name(ms_pkey_get_type(k)));
    *sig_len = need;
    return MS_OK;
}

/* Length of the DER element at data (header and contents), 0 when the header
 * is not a definite length that fits in len bytes. */
static size_t der_size(const uint8_t *data, size_t len)
{
    size_t hdr = 2, body = 0;

    if (len < 2)
        return 0;
    if (data[1] < 0x80) {
        body = data[1];
    } else {
        unsigned n = data[1] & 0x7Fu;
        if (n == 0 || n > 4 || len < 2 + (size_t)n)
            return 0;
        for (unsigned i = 0; i < n; i++)
            body = (body << 8) | data[2 + i];
        hdr += n;
    }
    return body <= len - hdr ? hdr + body : 0;
}

/* The DER of a SEQUENCE that DICOM may have padded with one zero byte. */
static bool der_unpad(const uint8_t *data, size_t len, size_t *out)
{
    size_t n = len > 0 && data[0] == 0x30 ? der_size(data, len) : 0;
    if (n == 0 || len - n > 1 || (len > n && data[n] != 0))
        return false;
    *out = n;
    return true;
}

ms_status msi_dsig_verify_digest(const struct ms_pkey *k, ms_hash_alg alg, const uint8_t *digest,
                                 size_t dlen, const uint8_t *sig, size_t sig_len,
                                 struct ms_error *err)
{
    EVP_PKEY_CTX *c;
    int r;

    if (!supported(k))
        return ms_error_set(err, MS_EUNSUPPORTED, "%s keys are not used for DICOM signatures",
                            ms_pkey_type_name(ms_pkey_get_type(k)));
    if (ms_pkey_get_type(k) == MS_PKEY_P256 && !der_unpad(sig, sig_len, &sig_len))
        return ms_error_set(err, MS_EPROBLEM, "the ECDSA signature is not DER");
    c = digest_ctx(k, alg, false);
    if (!c)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot start verifying");
    r = EVP_PKEY_verify(c, sig, sig_len, digest, dlen);
    EVP_PKEY_CTX_free(c);
    ERR_clear_error();
    if (r != 1)
        return ms_error_set(err, MS_EPROBLEM,
                            "the signature does not match the signed data (changed data, "
                            "changed signature or another key)");
    return MS_OK;
}

/* ---- certificates -------------------------------------------------------------------- */

ms_status msi_dsig_cert_der(const struct ms_pkey *k, uint8_t **der, size_t *len,
                            struct ms_error *err)
{
    unsigned char *buf = NULL;
    X509 *x = msi_pkey_x509(k);
    int n = x ? i2d_X509(x, &buf) : 0;

    *der = NULL;
    *len = 0;
    if (!x)
        return ms_error_set(err, MS_EUSAGE, "a certificate is needed, not a bare public key");
    if (n <= 0)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot encode the certificate");
    *der = malloc((size_t)n);
    if (*der)
        memcpy(*der, buf, (size_t)n);
    OPENSSL_free(buf);
    if (!*der)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    *len = (size_t)n;
    return MS_OK;
}

ms_status msi_dsig_cert_parse(struct ms_pkey **out, const uint8_t *data, size_t len,
                              struct ms_error *err)
{
    size_t n = 0;
    ms_status st;

    *out = NULL;
    if (!data || !der_unpad(data, len, &n))
        return ms_error_set(err, MS_EMALFORMED, "Certificate of Signer is not DER");
    st = ms_pkey_parse_public(out, data, n, err);
    if (st == MS_OK && !ms_pkey_has_cert(*out)) {
        ms_pkey_destroy(*out);
        *out = NULL;
        return ms_error_set(err, MS_EMALFORMED, "Certificate of Signer is not a certificate");
    }
    if (st == MS_EMALFORMED)
        ms_error_prefix(err, "Certificate of Signer");
    else if (st != MS_OK)
        ms_error_prefix(err, "signer key");
    return st;
}

static void print_name(const X509_NAME *name, char *buf, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n;

    buf[0] = '\0';
    if (!b || !name || cap == 0) {
        BIO_free(b);
        return;
    }
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        n = BIO_read(b, buf, (int)(cap - 1 < 4096 ? cap - 1 : 4096));
        buf[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
    ERR_clear_error();
}

void msi_dsig_cert_names(const struct ms_pkey *k, char *subject, size_t scap, char *issuer,
                         size_t icap)
{
    X509 *x = msi_pkey_x509(k);
    print_name(x ? X509_get_subject_name(x) : NULL, subject, scap);
    print_name(x ? X509_get_issuer_name(x) : NULL, issuer, icap);
}

static ms_status key_usage_ok(X509 *x, struct ms_error *err)
{
    uint32_t ku = X509_get_key_usage(x);
    if (ku != UINT32_MAX && !(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)))
        return ms_error_set(err, MS_EKEY,
                            "the signer certificate's key usage allows no signatures");
    return MS_OK;
}

ms_status msi_dsig_cert_trusted(const struct ms_pkey *k, const struct ms_pkey *const *anchors,
                                size_t n, int64_t t, struct ms_error *err)
{
    X509 *x = msi_pkey_x509(k);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    ms_status st = MS_OK;
    int code = X509_V_OK;
    bool ok = x && store && ctx;

    for (size_t i = 0; ok && i < n; i++)
        if (msi_pkey_x509(anchors[i]))
            ok = X509_STORE_add_cert(store, msi_pkey_x509(anchors[i])) == 1;
    ok = ok && X509_STORE_CTX_init(ctx, store, x, NULL) == 1;
    if (ok) {
        X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
        X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_PARTIAL_CHAIN);
        X509_VERIFY_PARAM_set_time(p, (time_t)t);
        if (X509_verify_cert(ctx) != 1)
            code = X509_STORE_CTX_get_error(ctx);
    }
    if (!ok)
        st = msi_ossl_fail(err, MS_EINTERNAL, "cannot check the signer certificate");
    else if (code == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)
        st = ms_error_set(err, MS_EKEY, "signer certificate not trusted: self-signed and not "
                                        "one of the trusted certificates");
    else if (code != X509_V_OK)
        st = ms_error_set(err, MS_EKEY, "signer certificate not trusted: %s",
                          X509_verify_cert_error_string(code));
    else
        st = key_usage_ok(x, err);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    ERR_clear_error();
    return st;
}

/* ---- UIDs ---------------------------------------------------------------------------- */

ms_status msi_dsig_new_uid(char out[MS_DSIG_UID_LEN], struct ms_error *err)
{
    uint8_t n[16];
    char digits[48];
    size_t nd = 0;
    bool zero = false;
    ms_status st = ms_random_bytes(n, sizeof n, err);

    if (st != MS_OK)
        return st;
    n[6] = (uint8_t)((n[6] & 0x0F) | 0x40); /* a version 4 UUID, as PS3.5 B.2 suggests */
    n[8] = (uint8_t)((n[8] & 0x3F) | 0x80);
    while (!zero) { /* repeated division of the 128-bit number by 10 */
        unsigned rem = 0;
        zero = true;
        for (size_t i = 0; i < sizeof n; i++) {
            unsigned cur = (rem << 8) | n[i];
            n[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            if (n[i])
                zero = false;
        }
        digits[nd++] = (char)('0' + rem);
    }
    memcpy(out, "2.25.", 5);
    for (size_t i = 0; i < nd; i++)
        out[5 + i] = digits[nd - 1 - i];
    out[5 + nd] = '\0';
    return MS_OK;
}
