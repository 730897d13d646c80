/* Keys of the `cms` scheme: recipient sets (certificates, Argon2id
 * passphrase KEKs), keyrings (private keys, passphrases with a cache of
 * derived KEKs, trusted signer certificates), signers, and small loaders
 * for PEM/DER files and passphrase files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sodium.h>

#include "crypto/cms_internal.h"

#define MAX_PEM_FILE (1u << 20)

/* ---- errors ---------------------------------------------------------------------- */

ms_status msi_cms_ossl_error(struct ms_error *err, ms_status code, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    ms_error_set(err, code, "%s%s%s", what, reason ? ": " : "", reason ? reason : "");
    ERR_clear_error();
    return code;
}

/* ---- small files ------------------------------------------------------------------- */

/* Read at most max bytes of path into a malloc'd buffer (NUL-terminated).
 * too_big is the status when the file is longer. */
static ms_status read_small_file(const char *path, size_t max, ms_status too_big,
                                 const char *what, uint8_t **out, size_t *out_len,
                                 struct ms_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ms_error_set(err, MS_EIO, "cannot open the %s file: %s", what, strerror(errno));
    uint8_t *buf = malloc(max + 2);
    if (!buf) {
        close(fd);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    size_t len = 0;
    ms_status st = MS_OK;
    for (;;) {
        ssize_t n = read(fd, buf + len, max + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = ms_error_set(err, MS_EIO, "cannot read the %s file: %s", what, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max) {
            st = ms_error_set(err, too_big, "the %s file is larger than %zu bytes", what, max);
            break;
        }
    }
    close(fd);
    if (st != MS_OK) {
        OPENSSL_cleanse(buf, max + 2);
        free(buf);
        return st;
    }
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    return MS_OK;
}

static void free_secret_buf(uint8_t *p, size_t cap)
{
    if (p) {
        OPENSSL_cleanse(p, cap);
        free(p);
    }
}

/* Passphrase bytes of a file without one trailing "\n" or "\r\n". The buffer
 * is malloc'd with capacity MS_CMS_PASSPHRASE_MAX + 2 and must be wiped. */
static ms_status read_passphrase_file(const char *path, uint8_t **out, size_t *len,
                                      struct ms_error *err)
{
    ms_status st = read_small_file(path, MS_CMS_PASSPHRASE_MAX + 2, MS_EUSAGE, "passphrase",
                                   out, len, err);
    if (st != MS_OK)
        return st;
    if (*len > 0 && (*out)[*len - 1] == '\n') {
        (*len)--;
        if (*len > 0 && (*out)[*len - 1] == '\r')
            (*len)--;
    }
    return MS_OK;
}

static ms_status check_passphrase(size_t len, struct ms_error *err)
{
    if (len == 0)
        return ms_error_set(err, MS_EUSAGE, "the passphrase is empty");
    if (len > MS_CMS_PASSPHRASE_MAX)
        return ms_error_set(err, MS_EUSAGE, "the passphrase is longer than %u bytes",
                            MS_CMS_PASSPHRASE_MAX);
    return MS_OK;
}

/* ---- certificates and keys ----------------------------------------------------------- */

static ms_status load_cert(const char *path, X509 **out, struct ms_error *err)
{
    uint8_t *data;
    size_t len;
    ms_status st = read_small_file(path, MAX_PEM_FILE, MS_ELIMIT, "certificate", &data, &len, err);
    if (st != MS_OK)
        return st;
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!x) {
        const unsigned char *p = data;
        ERR_clear_error();
        x = d2i_X509(NULL, &p, (long)len);
    }
    free(data);
    if (!x) {
        ERR_clear_error();
        return ms_error_set(err, MS_EMALFORMED, "not an X.509 certificate (PEM or DER)");
    }
    *out = x;
    return MS_OK;
}

static int no_passphrase_cb(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1; /* never prompt */
}

static ms_status load_private_key(const char *path, EVP_PKEY **out, struct ms_error *err)
{
    uint8_t *data;
    size_t len;
    ms_status st = read_small_file(path, MAX_PEM_FILE, MS_ELIMIT, "private key", &data, &len,
                                   err);
    if (st != MS_OK)
        return st;
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase_cb, NULL) : NULL;
    BIO_free(bio);
    if (!pk) {
        const unsigned char *p = data;
        ERR_clear_error();
        pk = d2i_AutoPrivateKey(NULL, &p, (long)len);
    }
    bool encrypted = strstr((const char *)data, "ENCRYPTED") != NULL;
    OPENSSL_cleanse(data, len);
    free(data);
    ERR_clear_error();
    if (!pk && encrypted)
        return ms_error_set(err, MS_EKEY, "the private key is passphrase-protected; give an "
                                          "unprotected PEM key");
    if (!pk)
        return ms_error_set(err, MS_EMALFORMED, "not a private key (PEM or DER)");
    *out = pk;
    return MS_OK;
}

/* RSA >= 2048 bits or EC P-256; *ec tells which. */
static ms_status check_key_type(const EVP_PKEY *pk, bool *ec, struct ms_error *err)
{
    if (EVP_PKEY_is_a(pk, "RSA")) {
        if (EVP_PKEY_get_bits(pk) < 2048)
            return ms_error_set(err, MS_EUNSUPPORTED, "RSA key of %d bits (at least 2048 needed)",
                                EVP_PKEY_get_bits(pk));
        *ec = false;
        return MS_OK;
    }
    if (EVP_PKEY_is_a(pk, "EC")) {
        char group[64] = "";
        if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                            NULL) ||
            (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)) {
            ERR_clear_error();
            return ms_error_set(err, MS_EUNSUPPORTED, "EC key on curve %s (only P-256)",
                                group[0] ? group : "(unknown)");
        }
        *ec = true;
        return MS_OK;
    }
    return ms_error_set(err, MS_EUNSUPPORTED, "%s keys are not supported (RSA or EC P-256)",
                        EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "unknown");
}

static bool grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = realloc(*arr, ncap * size);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

/* ---- Argon2id ------------------------------------------------------------------------ */

ms_status msi_cms_argon2id(uint8_t kek[MSI_CMS_KEK_LEN], const uint8_t *pass, size_t len,
                           const uint8_t salt[MSI_CMS_SALT_LEN], uint32_t t, uint32_t m_kib,
                           struct ms_error *err)
{
    if (sodium_init() < 0)
        return ms_error_set(err, MS_EINTERNAL, "libsodium failed to initialise");
    if (crypto_pwhash(kek, MSI_CMS_KEK_LEN, (const char *)pass, len, salt, t,
                      (size_t)m_kib * 1024u, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return ms_error_set(err, MS_ENOMEM, "Argon2id failed (out of memory for %u KiB?)", m_kib);
    return MS_OK;
}

static ASN1_OBJECT *argon2id_oid;
static pthread_once_t argon2id_once = PTHREAD_ONCE_INIT;

static void argon2id_oid_init(void)
{
    argon2id_oid = OBJ_txt2obj(MSI_CMS_OID_ARGON2ID_KEK, 1);
}

const ASN1_OBJECT *msi_cms_argon2id_oid(void)
{
    pthread_once(&argon2id_once, argon2id_oid_init);
    return argon2id_oid;
}

static size_t der_uint32(uint8_t *out, uint32_t v)
{
    uint8_t be[4];
    size_t n = 0, i = 2;
    be[0] = (uint8_t)(v >> 24);
    be[1] = (uint8_t)(v >> 16);
    be[2] = (uint8_t)(v >> 8);
    be[3] = (uint8_t)v;
    while (n < 3 && be[n] == 0)
        n++;
    out[0] = 0x02;
    out[1] = (uint8_t)(4 - n + ((be[n] & 0x80) ? 1 : 0));
    if (be[n] & 0x80)
        out[i++] = 0;
    for (; n < 4; n++)
        out[i++] = be[n];
    return i;
}

ASN1_TYPE *msi_cms_argon2id_params_encode(uint32_t t, uint32_t m_kib)
{
    uint8_t body[32], der[40];
    size_t n = 0;
    n += der_uint32(body + n, 0x13); /* Argon2 version 1.3 */
    n += der_uint32(body + n, t);
    n += der_uint32(body + n, m_kib);
    n += der_uint32(body + n, 1);    /* parallelism */
    der[0] = 0x30;
    der[1] = (uint8_t)n;
    memcpy(der + 2, body, n);

    ASN1_STRING *seq = ASN1_STRING_new();
    ASN1_TYPE *type = ASN1_TYPE_new();
    if (!seq || !type || !ASN1_STRING_set(seq, der, (int)(n + 2))) {
        ASN1_STRING_free(seq);
        ASN1_TYPE_free(type);
        return NULL;
    }
    ASN1_TYPE_set(type, V_ASN1_SEQUENCE, seq);
    return type;
}

/* One small non-negative DER INTEGER at *p (at most 32 bits). */
static bool der_get_uint32(const uint8_t **p, size_t *left, uint32_t *v)
{
    uint8_t tag;
    size_t hdr, clen;
    if (!msi_der_tlv(*p, *left, &tag, &hdr, &clen) || tag != 0x02 || clen == 0 || clen > 5)
        return false;
    const uint8_t *c = *p + hdr;
    if (c[0] & 0x80)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < clen; i++)
        x = (x << 8) | c[i];
    if (x > UINT32_MAX)
        return false;
    *v = (uint32_t)x;
    *p += hdr + clen;
    *left -= hdr + clen;
    return true;
}

ms_status msi_cms_argon2id_params_decode(const ASN1_TYPE *type, uint32_t *t, uint32_t *m_kib,
                                         struct ms_error *err)
{
    if (!type || type->type != V_ASN1_SEQUENCE || !type->value.sequence)
        return ms_error_set(err, MS_EMALFORMED, "Argon2id parameters missing");
    const uint8_t *p = type->value.sequence->data;
    size_t len = (size_t)type->value.sequence->length;
    uint8_t tag;
    size_t hdr, clen;
    if (!msi_der_tlv(p, len, &tag, &hdr, &clen) || tag != 0x30 || hdr + clen != len)
        return ms_error_set(err, MS_EMALFORMED, "malformed Argon2id parameters");
    p += hdr;
    uint32_t version, par;
    if (!der_get_uint32(&p, &clen, &version) || !der_get_uint32(&p, &clen, t) ||
        !der_get_uint32(&p, &clen, m_kib) || !der_get_uint32(&p, &clen, &par) || clen != 0)
        return ms_error_set(err, MS_EMALFORMED, "malformed Argon2id parameters");
    if (version != 0x13 || par != 1)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "Argon2id version %u with parallelism %u (only 19 and 1)", version, par);
    if (*t == 0 || *m_kib < 8)
        return ms_error_set(err, MS_EMALFORMED, "Argon2id cost below the minimum");
    if (*t > MS_CMS_PWHASH_T_MAX || *m_kib > MS_CMS_PWHASH_M_MAX)
        return ms_error_set(err, MS_ELIMIT,
                            "Argon2id cost t=%u m=%u KiB exceeds the limit (t<=%u, m<=%u KiB)", *t,
                            *m_kib, MS_CMS_PWHASH_T_MAX, MS_CMS_PWHASH_M_MAX);
    return MS_OK;
}

/* ---- recipients -------------------------------------------------------------------------- */

ms_status ms_cms_recipients_create(struct ms_cms_recipients **out, struct ms_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    return MS_OK;
}

void ms_cms_recipients_destroy(struct ms_cms_recipients *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ncerts; i++)
        X509_free(r->certs[i].cert);
    free(r->certs);
    if (r->pass)
        OPENSSL_cleanse(r->pass, r->cappass * sizeof *r->pass);
    free(r->pass);
    free(r);
}

size_t ms_cms_recipients_count(const struct ms_cms_recipients *r)
{
    return r ? r->ncerts + r->npass : 0;
}

ms_status ms_cms_recipients_add_cert_file(struct ms_cms_recipients *r, const char *path,
                                          struct ms_error *err)
{
    X509 *x = NULL;
    bool ec;
    ms_status st = load_cert(path, &x, err);
    if (st != MS_OK)
        return st;
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (!pk) {
        X509_free(x);
        return msi_cms_ossl_error(err, MS_EUNSUPPORTED, "cannot read the certificate's key");
    }
    if ((st = check_key_type(pk, &ec, err)) != MS_OK) {
        X509_free(x);
        return st;
    }
    if (!grow((void **)&r->certs, &r->capcerts, r->ncerts, sizeof *r->certs)) {
        X509_free(x);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    r->certs[r->ncerts].cert = x;
    r->certs[r->ncerts].ec = ec;
    r->ncerts++;
    return MS_OK;
}

static ms_status check_cost(const struct ms_cms_pwhash *cost, uint32_t *t, uint32_t *m,
                            struct ms_error *err)
{
    *t = cost && cost->iterations ? cost->iterations : MS_CMS_PWHASH_T_DEFAULT;
    *m = cost && cost->memory_kib ? cost->memory_kib : MS_CMS_PWHASH_M_DEFAULT;
    if (*t > MS_CMS_PWHASH_T_MAX || *m < 8 || *m > MS_CMS_PWHASH_M_MAX)
        return ms_error_set(err, MS_EUSAGE,
                            "Argon2id cost out of range (t 1..%u, memory 8..%u KiB)",
                            MS_CMS_PWHASH_T_MAX, MS_CMS_PWHASH_M_MAX);
    return MS_OK;
}

ms_status ms_cms_recipients_add_passphrase(struct ms_cms_recipients *r, const void *pass,
                                           size_t len, const struct ms_cms_pwhash *cost,
                                           struct ms_error *err)
{
    uint32_t t, m;
    ms_status st = check_passphrase(len, err);
    if (st != MS_OK || (st = check_cost(cost, &t, &m, err)) != MS_OK)
        return st;
    if (!grow((void **)&r->pass, &r->cappass, r->npass, sizeof *r->pass))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    struct msi_cms_pass_recip *p = &r->pass[r->npass];
    if (RAND_bytes(p->salt, sizeof p->salt) != 1)
        return msi_cms_ossl_error(err, MS_EINTERNAL, "no random bytes for the salt");
    p->t = t;
    p->m_kib = m;
    if ((st = msi_cms_argon2id(p->kek, pass, len, p->salt, t, m, err)) != MS_OK) {
        OPENSSL_cleanse(p, sizeof *p);
        return st;
    }
    r->npass++;
    return MS_OK;
}

ms_status ms_cms_recipients_add_passphrase_file(struct ms_cms_recipients *r, const char *path,
                                                const struct ms_cms_pwhash *cost,
                                                struct ms_error *err)
{
    uint8_t *buf;
    size_t len;
    ms_status st = read_passphrase_file(path, &buf, &len, err);
    if (st != MS_OK)
        return st;
    st = ms_cms_recipients_add_passphrase(r, buf, len, cost, err);
    free_secret_buf(buf, MS_CMS_PASSPHRASE_MAX + 4);
    return st;
}

/* ---- signer --------------------------------------------------------------------------------- */

ms_status ms_cms_signer_create(struct ms_cms_signer **out, const char *key_path,
                               const char *cert_path, struct ms_error *err)
{
    EVP_PKEY *pk = NULL;
    X509 *x = NULL;
    bool ec;
    ms_status st = load_private_key(key_path, &pk, err);
    if (st != MS_OK)
        return st;
    if ((st = load_cert(cert_path, &x, err)) != MS_OK)
        goto fail;
    if ((st = check_key_type(pk, &ec, err)) != MS_OK)
        goto fail;
    if (X509_check_private_key(x, pk) != 1) {
        ERR_clear_error();
        st = ms_error_set(err, MS_EKEY, "the signing certificate does not match the key");
        goto fail;
    }
    *out = calloc(1, sizeof **out);
    if (!*out) {
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
        goto fail;
    }
    (*out)->pkey = pk;
    (*out)->cert = x;
    return MS_OK;
fail:
    EVP_PKEY_free(pk);
    X509_free(x);
    return st;
}

void ms_cms_signer_destroy(struct ms_cms_signer *s)
{
    if (!s)
        return;
    EVP_PKEY_free(s->pkey);
    X509_free(s->cert);
    free(s);
}

/* ---- keyring ------------------------------------------------------------------------------- */

ms_status ms_cms_keyring_create(struct ms_cms_keyring **out, struct ms_error *err)
{
    struct ms_cms_keyring *k = calloc(1, sizeof *k);
    if (!k)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    k->trusted = sk_X509_new_null();
    if (!k->trusted || pthread_mutex_init(&k->lock, NULL) != 0) {
        sk_X509_free(k->trusted);
        free(k);
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    *out = k;
    return MS_OK;
}

void ms_cms_keyring_destroy(struct ms_cms_keyring *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->nkeys; i++) {
        EVP_PKEY_free(k->keys[i].pkey);
        X509_free(k->keys[i].cert);
    }
    free(k->keys);
    for (size_t i = 0; i < k->npass; i++)
        free_secret_buf(k->pass[i].p, k->pass[i].len);
    free(k->pass);
    sk_X509_pop_free(k->trusted, X509_free);
    OPENSSL_cleanse(k->cache, sizeof k->cache);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

ms_status ms_cms_keyring_add_key_file(struct ms_cms_keyring *k, const char *key_path,
                                      const char *cert_path, struct ms_error *err)
{
    EVP_PKEY *pk = NULL;
    X509 *x = NULL;
    ms_status st = load_private_key(key_path, &pk, err);
    if (st != MS_OK)
        return st;
    if (!EVP_PKEY_is_a(pk, "RSA") && !EVP_PKEY_is_a(pk, "EC")) {
        st = ms_error_set(err, MS_EUNSUPPORTED, "%s keys cannot open CMS recipients here "
                          "(RSA or EC)", EVP_PKEY_get0_type_name(pk));
        goto fail;
    }
    if (cert_path) {
        if ((st = load_cert(cert_path, &x, err)) != MS_OK)
            goto fail;
        if (X509_check_private_key(x, pk) != 1) {
            ERR_clear_error();
            st = ms_error_set(err, MS_EKEY, "the certificate does not match the private key");
            goto fail;
        }
    }
    if (!grow((void **)&k->keys, &k->capkeys, k->nkeys, sizeof *k->keys)) {
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
        goto fail;
    }
    k->keys[k->nkeys].pkey = pk;
    k->keys[k->nkeys].cert = x;
    k->nkeys++;
    return MS_OK;
fail:
    EVP_PKEY_free(pk);
    X509_free(x);
    return st;
}

ms_status ms_cms_keyring_add_passphrase(struct ms_cms_keyring *k, const void *pass, size_t len,
                                        struct ms_error *err)
{
    ms_status st = check_passphrase(len, err);
    if (st != MS_OK)
        return st;
    if (!grow((void **)&k->pass, &k->cappass, k->npass, sizeof *k->pass))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    uint8_t *copy = malloc(len);
    if (!copy)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    memcpy(copy, pass, len);
    k->pass[k->npass].p = copy;
    k->pass[k->npass].len = len;
    k->npass++;
    return MS_OK;
}

ms_status ms_cms_keyring_add_passphrase_file(struct ms_cms_keyring *k, const char *path,
                                             struct ms_error *err)
{
    uint8_t *buf;
    size_t len;
    ms_status st = read_passphrase_file(path, &buf, &len, err);
    if (st != MS_OK)
        return st;
    st = ms_cms_keyring_add_passphrase(k, buf, len, err);
    free_secret_buf(buf, MS_CMS_PASSPHRASE_MAX + 4);
    return st;
}

ms_status ms_cms_keyring_add_trusted_file(struct ms_cms_keyring *k, const char *path,
                                          struct ms_error *err)
{
    uint8_t *data;
    size_t len;
    int added = 0;
    ms_status st = read_small_file(path, MAX_PEM_FILE, MS_ELIMIT, "certificate", &data, &len, err);
    if (st != MS_OK)
        return st;
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    X509 *x = NULL;
    while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(k->trusted, x)) {
            X509_free(x);
            st = ms_error_set(err, MS_ENOMEM, "out of memory");
            break;
        }
        added++;
    }
    BIO_free(bio);
    ERR_clear_error();
    if (st == MS_OK && added == 0) {
        const unsigned char *p = data;
        x = d2i_X509(NULL, &p, (long)len);
        if (x && sk_X509_push(k->trusted, x))
            added++;
        else
            X509_free(x);
        ERR_clear_error();
    }
    free(data);
    if (st == MS_OK && added == 0)
        st = ms_error_set(err, MS_EMALFORMED, "no X.509 certificate in the trusted file");
    return st;
}

ms_status msi_cms_keyring_kek(const struct ms_cms_keyring *kc, size_t pass_index,
                              const uint8_t salt[MSI_CMS_SALT_LEN], uint32_t t, uint32_t m_kib,
                              uint8_t kek[MSI_CMS_KEK_LEN], struct ms_error *err)
{
    struct ms_cms_keyring *k = (struct ms_cms_keyring *)kc; /* the cache is mutable */
    bool found = false;

    pthread_mutex_lock(&k->lock);
    for (size_t i = 0; i < k->ncache && !found; i++) {
        struct msi_cms_kek_cache *c = &k->cache[i];
        if (c->pass_index == pass_index && c->t == t && c->m_kib == m_kib &&
            memcmp(c->salt, salt, MSI_CMS_SALT_LEN) == 0) {
            memcpy(kek, c->kek, MSI_CMS_KEK_LEN);
            found = true;
        }
    }
    pthread_mutex_unlock(&k->lock);
    if (found)
        return MS_OK;

    ms_status st = msi_cms_argon2id(kek, k->pass[pass_index].p, k->pass[pass_index].len, salt, t,
                                    m_kib, err);
    if (st != MS_OK)
        return st;
    pthread_mutex_lock(&k->lock);
    struct msi_cms_kek_cache *c = &k->cache[k->next_slot];
    c->pass_index = pass_index;
    memcpy(c->salt, salt, MSI_CMS_SALT_LEN);
    c->t = t;
    c->m_kib = m_kib;
    memcpy(c->kek, kek, MSI_CMS_KEK_LEN);
    k->next_slot = (k->next_slot + 1) % MSI_CMS_KEK_CACHE;
    if (k->ncache < MSI_CMS_KEK_CACHE)
        k->ncache++;
    pthread_mutex_unlock(&k->lock);
    return MS_OK;
}
