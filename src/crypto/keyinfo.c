/* Key inspection for `medseal key show`: what a key file is, its algorithm,
 * size, fingerprint, certificate fields. Never a secret byte. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/crypto_internal.h"

static void fill_pkey(struct ms_key_info *info, const EVP_PKEY *pk)
{
    uint8_t *der = NULL;
    uint8_t fp[MS_SHA256_LEN];
    int n = i2d_PUBKEY(pk, &der), bits = EVP_PKEY_get_bits(pk),
        sec = EVP_PKEY_get_security_bits(pk);

    info->type = msi_pkey_classify(pk);
    msi_pkey_describe(pk, info->algorithm, sizeof info->algorithm);
    info->bits = bits > 0 ? (unsigned)bits : 0;
    info->security_bits = sec > 0 ? (unsigned)sec : 0;
    if (n > 0 && ms_sha256(der, (size_t)n, fp, NULL) == MS_OK)
        msi_hex(fp, sizeof fp, info->fingerprint);
    OPENSSL_free(der);
    ERR_clear_error();
}

static void print_name(const X509_NAME *name, char *buf, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    /* RFC 2253 with control characters escaped, UTF-8 kept as is. */
    unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    char *data = NULL;
    long n;

    buf[0] = '\0';
    if (!b)
        return;
    if (X509_NAME_print_ex(b, name, 0, flags) >= 0) {
        n = BIO_get_mem_data(b, &data);
        if (n > 0 && data)
            snprintf(buf, cap, "%.*s", (int)(n < (long)cap ? n : (long)cap - 1), data);
    }
    BIO_free(b);
}

static void print_time(const ASN1_TIME *t, char *buf, size_t cap, int64_t *epoch)
{
    struct tm tm;

    buf[0] = '\0';
    *epoch = 0;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return;
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
    *epoch = (int64_t)timegm(&tm);
}

static void fill_cert(struct ms_key_info *info, X509 *x)
{
    const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
    BIGNUM *bn = serial ? ASN1_INTEGER_to_BN(serial, NULL) : NULL;
    char *hex = bn ? BN_bn2hex(bn) : NULL;

    print_name(X509_get_subject_name(x), info->subject, sizeof info->subject);
    print_name(X509_get_issuer_name(x), info->issuer, sizeof info->issuer);
    print_time(X509_get0_notBefore(x), info->not_before, sizeof info->not_before,
               &info->not_before_epoch);
    print_time(X509_get0_notAfter(x), info->not_after, sizeof info->not_after,
               &info->not_after_epoch);
    info->self_signed = X509_self_signed(x, 1) == 1;
    if (hex) {
        for (char *p = hex; *p; p++)
            if (*p >= 'A' && *p <= 'F')
                *p = (char)(*p - 'A' + 'a');
        snprintf(info->serial, sizeof info->serial, "%s", hex);
    }
    OPENSSL_free(hex);
    BN_free(bn);
    ERR_clear_error();
}

/* "PBES2 scrypt aes-256-cbc" from an EncryptedPrivateKeyInfo's algorithm. */
static void describe_pbe(const X509_ALGOR *alg, char *buf, size_t cap)
{
    const ASN1_OBJECT *oid = NULL;
    const void *param = NULL;
    int ptype = 0;
    PBE2PARAM *pbe2 = NULL;

    X509_ALGOR_get0(&oid, &ptype, &param, alg);
    snprintf(buf, cap, "%s", OBJ_nid2sn(OBJ_obj2nid(oid)));
    if (OBJ_obj2nid(oid) == NID_pbes2 && ptype == V_ASN1_SEQUENCE)
        pbe2 = ASN1_item_unpack(param, ASN1_ITEM_rptr(PBE2PARAM));
    if (pbe2 && pbe2->keyfunc && pbe2->encryption)
        snprintf(buf, cap, "PBES2 %s %s", OBJ_nid2sn(OBJ_obj2nid(pbe2->keyfunc->algorithm)),
                 OBJ_nid2sn(OBJ_obj2nid(pbe2->encryption->algorithm)));
    PBE2PARAM_free(pbe2);
    ERR_clear_error();
}

static void describe_locked(const uint8_t *data, size_t len, struct ms_key_info *info)
{
    X509_SIG *p8 = NULL;
    const X509_ALGOR *alg = NULL;

    if (msi_contains(data, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
        BIO *b = BIO_new_mem_buf(data, (int)len);
        p8 = b ? PEM_read_bio_PKCS8(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else if (!msi_contains(data, len, "Proc-Type: 4,ENCRYPTED")) {
        const unsigned char *p = data;
        p8 = d2i_X509_SIG(NULL, &p, (long)len);
    } else {
        snprintf(info->protection, sizeof info->protection, "traditional PEM encryption");
    }
    if (p8) {
        X509_SIG_get0(p8, &alg, NULL);
        describe_pbe(alg, info->protection, sizeof info->protection);
    }
    X509_SIG_free(p8);
    ERR_clear_error();
}

static bool is_symmetric(const uint8_t *data, size_t len)
{
    return len == MS_AES256_KEY_LEN || (len >= 11 && memcmp(data, "medseal-key", 11) == 0);
}

/* A DER SEQUENCE whose length is the file's (hex text starting "0" is not). */
static bool looks_der(const uint8_t *data, size_t len)
{
    size_t n, hdr;
    if (len < 2 || data[0] != 0x30)
        return false;
    if (data[1] < 0x80) {
        n = data[1];
        hdr = 2;
    } else {
        unsigned k = data[1] & 0x7F;
        if (k == 0 || k > 4 || len < 2 + k)
            return false;
        n = 0;
        for (unsigned i = 0; i < k; i++)
            n = (n << 8) | data[2 + i];
        hdr = 2 + k;
    }
    return hdr + n == len;
}

/* PEM text or a DER SEQUENCE: worth trying as a key or certificate. */
static bool looks_asymmetric(const uint8_t *data, size_t len)
{
    return looks_der(data, len) || msi_contains(data, len, "-----BEGIN ");
}

static ms_status inspect_symmetric(const uint8_t *data, size_t len, struct ms_key_info *info,
                                   struct ms_error *err)
{
    uint8_t key[MS_AES256_KEY_LEN], check[MS_KEY_CHECK_LEN];
    ms_status rc = ms_keyfile_parse(data, len, key, &info->keyfile_format, err);

    if (rc == MS_OK)
        rc = ms_key_check_value(key, check, err);
    ms_crypto_wipe(key, sizeof key);
    if (rc != MS_OK)
        return rc;
    info->kind = MS_KEY_SYMMETRIC;
    snprintf(info->algorithm, sizeof info->algorithm, "AES-256");
    info->bits = 256;
    info->security_bits = 256;
    msi_hex(check, sizeof check, info->check);
    return MS_OK;
}

static ms_status inspect_asymmetric(const uint8_t *data, size_t len, const char *pass,
                                    size_t pass_len, struct ms_key_info *info,
                                    struct ms_error *err)
{
    EVP_PKEY *pk = NULL;
    X509 *x = NULL;
    ms_status rc;

    if (msi_decode_cert(&x, data, len) == MS_OK) {
        info->kind = MS_KEY_CERTIFICATE;
        fill_cert(info, x);
        pk = X509_get_pubkey(x);
        if (pk)
            fill_pkey(info, pk);
        EVP_PKEY_free(pk);
        X509_free(x);
        ERR_clear_error();
        return MS_OK;
    }
    rc = msi_decode_private(&pk, data, len, pass, pass_len, NULL);
    if (rc == MS_OK) {
        info->kind = MS_KEY_PRIVATE;
        fill_pkey(info, pk);
        EVP_PKEY_free(pk);
        return MS_OK;
    }
    if (rc == MS_EKEY && !pass) {
        info->kind = MS_KEY_PRIVATE_LOCKED;
        describe_locked(data, len, info);
        return MS_OK;
    }
    if (rc == MS_EKEY)
        return msi_decode_private(&pk, data, len, pass, pass_len, err);
    rc = msi_decode_public(&pk, &x, data, len, NULL);
    if (rc == MS_OK) {
        info->kind = MS_KEY_PUBLIC;
        fill_pkey(info, pk);
        EVP_PKEY_free(pk);
        X509_free(x);
        return MS_OK;
    }
    return ms_error_set(err, MS_EMALFORMED,
                        "not a key file: expected a symmetric key (32 raw bytes or medseal-key "
                        "v1), a private or public key (PEM/DER) or an X.509 certificate");
}

ms_status ms_key_inspect(const char *path, const char *pass, size_t pass_len,
                         struct ms_key_info *info, struct ms_error *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    ms_status rc;

    memset(info, 0, sizeof *info);
    rc = msi_read_file(path, MSI_KEY_FILE_MAX, &data, &len, err);
    if (rc == MS_OK) {
        info->encrypted = len > 0 && msi_is_encrypted_key(data, len);
        if (is_symmetric(data, len) || !looks_asymmetric(data, len))
            rc = inspect_symmetric(data, len, info, err); /* its error names the sizes */
        else
            rc = inspect_asymmetric(data, len, pass, pass_len, info, err);
        msi_secret_free(data, len);
    }
    if (rc != MS_OK) {
        memset(info, 0, sizeof *info);
        ms_error_prefix(err, "%s", path);
    }
    return rc;
}
