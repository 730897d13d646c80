/* Keys of the `cms` scheme: recipient sets (certificates, Argon2id
 * passphrase KEKs), keyrings (private keys, passphrases with a cache of
 * derived KEKs, trusted signer certificates) and signers. Files, keys,
 * certificates, passphrase files and Argon2id come from the crypto layer
 * (crypto_internal.h); this file only checks what CMS can use. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "crypto/cms_internal.h"
#include "crypto/crypto_internal.h"

/* ---- passphrases and keys ------------------------------------------------------------ */

static ms_status check_passphrase(size_t len, struct ms_error *err)
{
    if (len == 0)
        return ms_error_set(err, MS_EUSAGE, "the passphrase is empty");
    if (len > MS_CMS_PASSPHRASE_MAX)
        return ms_error_set(err, MS_EUSAGE, "the passphrase is longer than %u bytes",
                            MS_CMS_PASSPHRASE_MAX);
    return MS_OK;
}

/* The private key at path, unlocked with the passphrase file pass_path when
 * one is given (the project's one passphrase-file rule: ms_passphrase_read_file). */
static ms_status load_private_key(const char *path, const char *pass_path, EVP_PKEY **out,
                                  struct ms_error *err)
{
    char pass[MS_CMS_PASSPHRASE_MAX + 1];
    size_t len = 0;
    ms_status st = MS_OK;

    if (pass_path)
        st = ms_passphrase_read_file(pass_path, pass, sizeof pass, &len, err);
    if (st == MS_OK)
        st = msi_load_private(out, path, pass_path ? pass : NULL, len, err);
    ms_crypto_wipe(pass, sizeof pass);
    if (st == MS_EKEY && !pass_path)
        ms_error_set(err, MS_EKEY, "%s: the private key is passphrase-protected: give its "
                     "passphrase file (--key-passphrase-file)", path);
    return st;
}

/* A key CMS recipients can have: RSA >= 2048 bits (*ec false) or EC P-256 (*ec
 * true), as the crypto layer classifies them. */
static ms_status check_key_type(const EVP_PKEY *pk, bool *ec, struct ms_error *err)
{
    char name[64];
    switch (msi_pkey_classify(pk)) {
    case MS_PKEY_RSA:
        if (EVP_PKEY_get_bits(pk) < 2048)
            return ms_error_set(err, MS_EUNSUPPORTED, "RSA key of %d bits (at least 2048 needed)",
                                EVP_PKEY_get_bits(pk));
        *ec = false;
        return MS_OK;
    case MS_PKEY_P256:
        *ec = true;
        return MS_OK;
    default:
        msi_pkey_describe(pk, name, sizeof name);
        return ms_error_set(err, MS_EUNSUPPORTED, "%s keys are not supported (RSA or EC P-256)",
                            name);
    }
}

/* Room for one more element. The old block is wiped before it is freed
 * (the passphrase recipients hold their KEKs in it), so no realloc(). */
static bool grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = calloc(ncap, size);
    if (!p)
        return false;
    if (*arr) {
        memcpy(p, *arr, *cap * size);
        OPENSSL_cleanse(*arr, *cap * size);
        free(*arr);
    }
    *arr = p;
    *cap = ncap;
    return true;
}

/* ---- Argon2id parameters ---------------------------------------------------------------- */

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
    if (pthread_mutex_init(&(*out)->lock, NULL) != 0) {
        free(*out);
        *out = NULL;
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    return MS_OK;
}

/* A recipient was added: the envelope template no longer fits. */
static void drop_template(struct ms_cms_recipients *r)
{
    pthread_mutex_lock(&r->lock);
    msi_cms_tmpl_free(r->tmpl);
    r->tmpl = NULL;
    r->tmpl_tried = false;
    pthread_mutex_unlock(&r->lock);
}

void ms_cms_recipients_destroy(struct ms_cms_recipients *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ncerts; i++)
        X509_free(r->certs[i].cert);
    free(r->certs);
    if (r->pass)
        ms_crypto_wipe(r->pass, r->cappass * sizeof *r->pass);
    free(r->pass);
    msi_cms_tmpl_free(r->tmpl);
    pthread_mutex_destroy(&r->lock);
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
    bool ec = false;
    ms_status st = msi_load_cert(&x, path, err);
    if (st != MS_OK)
        return st;
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (!pk)
        st = msi_ossl_fail(err, MS_EUNSUPPORTED, "%s: cannot read the certificate's key", path);
    else if ((st = check_key_type(pk, &ec, err)) != MS_OK)
        ms_error_prefix(err, "%s", path);
    else if (!grow((void **)&r->certs, &r->capcerts, r->ncerts, sizeof *r->certs))
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st != MS_OK) {
        X509_free(x);
        return st;
    }
    drop_template(r);
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
    drop_template(r); /* before r->pass may move: the template points into it */
    if (!grow((void **)&r->pass, &r->cappass, r->npass, sizeof *r->pass))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    struct msi_cms_pass_recip *p = &r->pass[r->npass];
    struct ms_argon2_params params = {t, m};
    p->t = t;
    p->m_kib = m;
    if ((st = ms_random_bytes(p->salt, sizeof p->salt, err)) != MS_OK ||
        (st = ms_argon2id(pass, len, p->salt, &params, p->kek, sizeof p->kek, err)) != MS_OK) {
        ms_crypto_wipe(p, sizeof *p);
        return st;
    }
    r->npass++;
    return MS_OK;
}

ms_status ms_cms_recipients_add_passphrase_file(struct ms_cms_recipients *r, const char *path,
                                                const struct ms_cms_pwhash *cost,
                                                struct ms_error *err)
{
    char pass[MS_CMS_PASSPHRASE_MAX + 1];
    size_t len = 0;
    ms_status st = ms_passphrase_read_file(path, pass, sizeof pass, &len, err);
    if (st == MS_OK)
        st = ms_cms_recipients_add_passphrase(r, pass, len, cost, err);
    ms_crypto_wipe(pass, sizeof pass);
    return st;
}

/* ---- private keys with their certificates ------------------------------------------------- */

/* The key at key_path (unlocked with pass_path) and, when cert_path is given,
 * its certificate, which must be for that key. */
static ms_status load_key_and_cert(const char *key_path, const char *cert_path,
                                   const char *pass_path, EVP_PKEY **pk, X509 **x,
                                   struct ms_error *err)
{
    ms_status st = load_private_key(key_path, pass_path, pk, err);
    if (st != MS_OK || !cert_path)
        return st;
    if ((st = msi_load_cert(x, cert_path, err)) == MS_OK && X509_check_private_key(*x, *pk) != 1) {
        ERR_clear_error();
        st = ms_error_set(err, MS_EKEY, "the certificate %s does not match the private key",
                          cert_path);
    }
    if (st != MS_OK) {
        EVP_PKEY_free(*pk);
        X509_free(*x);
        *pk = NULL;
        *x = NULL;
    }
    return st;
}

/* ---- signer --------------------------------------------------------------------------------- */

ms_status ms_cms_signer_create(struct ms_cms_signer **out, const char *key_path,
                               const char *cert_path, const char *key_pass_path,
                               struct ms_error *err)
{
    EVP_PKEY *pk = NULL;
    X509 *x = NULL;
    bool ec;
    ms_status st = load_key_and_cert(key_path, cert_path, key_pass_path, &pk, &x, err);

    *out = NULL;
    if (st != MS_OK)
        return st;
    if ((st = check_key_type(pk, &ec, err)) == MS_OK && !(*out = calloc(1, sizeof **out)))
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st != MS_OK) {
        EVP_PKEY_free(pk);
        X509_free(x);
        return st;
    }
    (*out)->pkey = pk;
    (*out)->cert = x;
    return MS_OK;
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
        msi_secret_free(k->pass[i].p, k->pass[i].len);
    free(k->pass);
    sk_X509_pop_free(k->trusted, X509_free);
    ms_crypto_wipe(k->cache, sizeof k->cache);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

ms_status ms_cms_keyring_add_key_file(struct ms_cms_keyring *k, const char *key_path,
                                      const char *cert_path, const char *key_pass_path,
                                      struct ms_error *err)
{
    EVP_PKEY *pk = NULL;
    X509 *x = NULL;
    ms_status st = load_key_and_cert(key_path, cert_path, key_pass_path, &pk, &x, err);
    if (st != MS_OK)
        return st;
    /* any RSA or EC key: files from other tools may use curves medseal does not write */
    if (!EVP_PKEY_is_a(pk, "RSA") && !EVP_PKEY_is_a(pk, "EC"))
        st = ms_error_set(err, MS_EUNSUPPORTED, "%s keys cannot open CMS recipients here "
                          "(RSA or EC)", EVP_PKEY_get0_type_name(pk));
    else if (!grow((void **)&k->keys, &k->capkeys, k->nkeys, sizeof *k->keys))
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    if (st != MS_OK) {
        EVP_PKEY_free(pk);
        X509_free(x);
        return st;
    }
    k->keys[k->nkeys].pkey = pk;
    k->keys[k->nkeys].cert = x;
    k->nkeys++;
    return MS_OK;
}

ms_status ms_cms_keyring_add_passphrase(struct ms_cms_keyring *k, const void *pass, size_t len,
                                        struct ms_error *err)
{
    ms_status st = check_passphrase(len, err);
    if (st != MS_OK)
        return st;
    if (!grow((void **)&k->pass, &k->cappass, k->npass, sizeof *k->pass))
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    uint8_t *copy = malloc(len + 1); /* msi_secret_free() wipes len + 1 bytes */
    if (!copy)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    memcpy(copy, pass, len);
    copy[len] = 0;
    k->pass[k->npass].p = copy;
    k->pass[k->npass].len = len;
    k->npass++;
    return MS_OK;
}

ms_status ms_cms_keyring_add_passphrase_file(struct ms_cms_keyring *k, const char *path,
                                             struct ms_error *err)
{
    char pass[MS_CMS_PASSPHRASE_MAX + 1];
    size_t len = 0;
    ms_status st = ms_passphrase_read_file(path, pass, sizeof pass, &len, err);
    if (st == MS_OK)
        st = ms_cms_keyring_add_passphrase(k, pass, len, err);
    ms_crypto_wipe(pass, sizeof pass);
    return st;
}

/* Every PEM certificate of data, or the one DER certificate it is. */
static ms_status push_certs(STACK_OF(X509) *to, const uint8_t *data, size_t len, int *added,
                            struct ms_error *err)
{
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    X509 *x = NULL;
    ms_status st = bio ? MS_OK : ms_error_set(err, MS_ENOMEM, "out of memory");

    while (st == MS_OK && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(to, x)) {
            X509_free(x);
            st = ms_error_set(err, MS_ENOMEM, "out of memory");
        } else {
            (*added)++;
        }
    }
    BIO_free(bio);
    ERR_clear_error();
    if (st == MS_OK && *added == 0 && msi_decode_cert(&x, data, len) == MS_OK) {
        if (sk_X509_push(to, x))
            (*added)++;
        else
            X509_free(x);
    }
    return st;
}

ms_status ms_cms_keyring_add_trusted_file(struct ms_cms_keyring *k, const char *path,
                                          struct ms_error *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int added = 0;
    ms_status st = msi_read_file(path, MSI_KEY_FILE_MAX, &data, &len, err);
    if (st != MS_OK) {
        ms_error_prefix(err, "%s", path);
        return st;
    }
    st = push_certs(k->trusted, data, len, &added, err);
    msi_secret_free(data, len);
    if (st == MS_OK && added == 0)
        st = ms_error_set(err, MS_EMALFORMED, "%s: no X.509 certificate in the trusted file", path);
    return st;
}

ms_status msi_cms_keyring_kek(const struct ms_cms_keyring *kc, size_t pass_index,
                              const uint8_t salt[MSI_CMS_SALT_LEN], uint32_t t, uint32_t m_kib,
                              uint8_t kek[MSI_CMS_KEK_LEN], struct ms_error *err)
{
    struct ms_cms_keyring *k = (struct ms_cms_keyring *)kc; /* the cache is mutable */
    struct ms_argon2_params params = {t, m_kib};
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

    ms_status st = ms_argon2id(k->pass[pass_index].p, k->pass[pass_index].len, salt, &params, kek,
                               MSI_CMS_KEK_LEN, err);
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
