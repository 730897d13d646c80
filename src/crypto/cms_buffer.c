/* In-memory CMS envelopes (see cms_buffer.h): OpenSSL's CMS API on a memory
 * buffer, with the recipient sets and keyrings of the `cms` scheme
 * (cms_keys.c, cms_recipients.c). What is particular here: EnvelopedData and
 * RSA PKCS#1 v1.5 on request, and PBKDF2 password recipients on decryption
 * (what gdcmanon writes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "crypto/cms_buffer.h"
#include "crypto/cms_internal.h"
#include "crypto/crypto_internal.h"

/* ---- encryption -------------------------------------------------------------------------- */

/* The DER of cms in a malloc'd buffer. */
static ms_status to_der(CMS_ContentInfo *cms, uint8_t **der, size_t *der_len,
                        struct ms_error *err)
{
    unsigned char *p = NULL;
    int n = i2d_CMS_ContentInfo(cms, &p);
    if (n <= 0)
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot encode the CMS message");
    *der = malloc((size_t)n);
    if (*der) {
        memcpy(*der, p, (size_t)n);
        *der_len = (size_t)n;
    }
    OPENSSL_free(p);
    return *der ? MS_OK : ms_error_set(err, MS_ENOMEM, "out of memory");
}

/* Encrypt len bytes at pt in cms (recipients added) and encode it. */
static ms_status seal(CMS_ContentInfo *cms, const uint8_t *pt, size_t len, uint8_t **der,
                      size_t *der_len, struct ms_error *err)
{
    BIO *in = BIO_new_mem_buf(pt, (int)len);
    ms_status st = MS_OK;

    if (!in)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if (!CMS_final(cms, in, NULL, CMS_BINARY))
        st = msi_ossl_fail(err, MS_EINTERNAL, "CMS encryption failed");
    if (st == MS_OK)
        st = to_der(cms, der, der_len, err);
    BIO_free(in);
    return st;
}

ms_status msi_cmsbuf_encrypt(const struct ms_cms_recipients *r,
                             const struct msi_cmsbuf_options *opt, const uint8_t *pt, size_t len,
                             uint8_t **der, size_t *der_len, struct ms_error *err)
{
    static const struct msi_cmsbuf_options defaults;
    const EVP_CIPHER *cipher;
    CMS_ContentInfo *cms = NULL;
    ms_status st;

    *der = NULL;
    *der_len = 0;
    if (!opt)
        opt = &defaults;
    cipher = msi_cipher(opt->enveloped ? MSI_AES256_CBC : MSI_AES256_GCM);
    if (ms_cms_recipients_count(r) == 0)
        return ms_error_set(err, MS_EUSAGE, "no recipient: give --to CERT.pem or "
                            "--passphrase-file F");
    if (len > MSI_CMSBUF_MAX)
        return ms_error_set(err, MS_ELIMIT, "content of %zu bytes is too large", len);
    if (!cipher || !(cms = CMS_encrypt(NULL, NULL, cipher, CMS_PARTIAL | CMS_BINARY)))
        return msi_ossl_fail(err, MS_EINTERNAL, "cannot start a CMS envelope");
    st = msi_cms_add_recipients(cms, r, opt->rsa_pkcs1v15, err);
    if (st == MS_OK)
        st = seal(cms, pt, len, der, der_len, err);
    CMS_ContentInfo_free(cms);
    return st;
}

/* ---- decryption ------------------------------------------------------------------------ */

static bool has_password_recipient(CMS_ContentInfo *cms)
{
    STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
    for (int i = 0; i < sk_CMS_RecipientInfo_num(ris); i++)
        if (CMS_RecipientInfo_type(sk_CMS_RecipientInfo_value(ris, i)) == CMS_RECIPINFO_PASS)
            return true;
    return false;
}

/* PBKDF2 password recipients (PWRI, `gdcmanon -e -p`): every passphrase of k. */
static bool open_with_password(CMS_ContentInfo *cms, const struct ms_cms_keyring *k)
{
    bool opened = false;
    for (size_t i = 0; i < k->npass && !opened; i++)
        opened = CMS_decrypt_set1_password(cms, k->pass[i].p, (ossl_ssize_t)k->pass[i].len) > 0;
    ERR_clear_error();
    return opened;
}

/* Set the content key with what k offers, then decrypt the content into out. */
static ms_status decrypt_content(CMS_ContentInfo *cms, const struct ms_cms_keyring *k, BIO *out,
                                 struct msi_cmsbuf_result *res, struct ms_error *err)
{
    ms_status st = msi_cms_open_recipient(cms, k, res->opened_by, sizeof res->opened_by, err);
    int ok;

    if (st == MS_EKEY && k->npass > 0 && has_password_recipient(cms) &&
        open_with_password(cms, k)) {
        snprintf(res->opened_by, sizeof res->opened_by, "password (PBKDF2)");
        st = MS_OK;
    }
    if (st != MS_OK)
        return st;
    ok = CMS_decrypt(cms, NULL, NULL, NULL, out, CMS_BINARY);
    ERR_clear_error();
    return ok > 0 ? MS_OK : ms_error_set(err, MS_EKEY, "decryption failed: the encrypted "
                                         "content was changed");
}

static ms_status take_output(BIO *out, uint8_t **pt, size_t *pt_len, struct ms_error *err)
{
    char *data = NULL;
    long n = BIO_get_mem_data(out, &data);
    if (n < 0 || (size_t)n > MSI_CMSBUF_MAX)
        return ms_error_set(err, MS_ELIMIT, "decrypted content is too large");
    *pt = malloc(n ? (size_t)n : 1);
    if (!*pt)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if (n)
        memcpy(*pt, data, (size_t)n);
    *pt_len = (size_t)n;
    return MS_OK;
}

/* Free a memory BIO, wiping what it held. */
static void bio_wipe_free(BIO *b)
{
    BUF_MEM *mem = NULL;
    if (!b)
        return;
    BIO_get_mem_ptr(b, &mem);
    if (mem && mem->data)
        OPENSSL_cleanse(mem->data, mem->max);
    BIO_free(b);
}

/* Nothing after the message but the NUL that pads an odd DER to an even
 * DICOM value length. */
static bool trailer_ok(const uint8_t *der, size_t len, size_t used)
{
    return used == len || (used + 1 == len && der[used] == 0);
}

ms_status msi_cmsbuf_decrypt(const struct ms_cms_keyring *k, const uint8_t *der, size_t len,
                             uint8_t **pt, size_t *pt_len, struct msi_cmsbuf_result *res,
                             struct ms_error *err)
{
    struct msi_cmsbuf_result local;
    const unsigned char *p = der;
    CMS_ContentInfo *cms;
    BIO *out = NULL;
    int nid;
    ms_status st;

    *pt = NULL;
    *pt_len = 0;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    if (len > MSI_CMSBUF_MAX || len > INT32_MAX)
        return ms_error_set(err, MS_ELIMIT, "encrypted content of %zu bytes is too large", len);
    cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
    if (!cms)
        return msi_ossl_fail(err, MS_EMALFORMED, "the encrypted content is not a CMS message");
    nid = OBJ_obj2nid(CMS_get0_type(cms));
    if (nid == NID_id_smime_ct_authEnvelopedData)
        res->content_type = "AuthEnvelopedData";
    else if (nid == NID_pkcs7_enveloped)
        res->content_type = "EnvelopedData";
    if (!res->content_type)
        st = ms_error_set(err, MS_EUNSUPPORTED, "the encrypted content is a CMS %s, not an "
                          "envelope", OBJ_nid2sn(nid));
    else if (!trailer_ok(der, len, (size_t)(p - der)))
        st = ms_error_set(err, MS_EMALFORMED, "bytes after the CMS message");
    else if (!(out = BIO_new(BIO_s_mem())))
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    else
        st = decrypt_content(cms, k, out, res, err);
    if (st == MS_OK)
        st = take_output(out, pt, pt_len, err);
    res->authenticated = st == MS_OK && nid == NID_id_smime_ct_authEnvelopedData;
    bio_wipe_free(out);
    CMS_ContentInfo_free(cms);
    return st;
}

void msi_cmsbuf_free(uint8_t *p, size_t len)
{
    if (p) {
        ms_crypto_wipe(p, len);
        free(p);
    }
}
