/* Scheme `cms` (default): the whole file in a CMS envelope (PS3.10 7.4,
 * seed 002's hybrid scheme): AuthEnvelopedData AES-256-GCM for certificate
 * and passphrase recipients, or with --strict-dicom EnvelopedData around a
 * SignedData. The envelope work is in src/crypto/cms_*.c; this file maps the
 * protect options onto it.
 *
 * A run protects many files with the same options: the recipient set (and
 * its Argon2id derivation) and the keyring are built once per options object
 * and shared by the worker threads (they are read-only while in use). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medseal/cms.h"
#include "protect/scheme.h"

struct cache {
    pthread_mutex_t lock;
    const struct ms_protect_options *opt;
    struct ms_cms_recipients *recipients;
    struct ms_cms_signer *signer;
    struct ms_cms_keyring *keyring;
    ms_status st;         /* outcome of building them */
    struct ms_error err;  /* its message, for every file of the run */
};

static struct cache cache = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, NULL, NULL, MS_OK, {0, ""}};

static void cache_clear(void)
{
    ms_cms_recipients_destroy(cache.recipients);
    ms_cms_signer_destroy(cache.signer);
    ms_cms_keyring_destroy(cache.keyring);
    cache.recipients = NULL;
    cache.signer = NULL;
    cache.keyring = NULL;
    cache.opt = NULL;
    cache.st = MS_OK;
}

static void cache_at_exit(void)
{
    cache_clear();
}

static ms_status build_recipients(const struct ms_protect_options *o, struct ms_error *err)
{
    ms_status st = ms_cms_recipients_create(&cache.recipients, err);
    for (size_t i = 0; st == MS_OK && i < o->nrecipients; i++)
        st = ms_cms_recipients_add_cert_file(cache.recipients, o->recipients[i], err);
    if (st == MS_OK && o->passphrase_file)
        st = ms_cms_recipients_add_passphrase_file(cache.recipients, o->passphrase_file, NULL,
                                                   err);
    if (st == MS_OK && ms_cms_recipients_count(cache.recipients) == 0)
        st = ms_error_set(err, MS_EUSAGE,
                          "scheme cms needs a recipient: --to CERT.pem or --passphrase-file F");
    if (st == MS_OK && o->strict_dicom) {
        if (!o->sign_key || !o->sign_cert)
            st = ms_error_set(err, MS_EUSAGE, "--strict-dicom needs --sign-key and --sign-cert");
        else
            st = ms_cms_signer_create(&cache.signer, o->sign_key, o->sign_cert, err);
    }
    return st;
}

static ms_status build_keyring(const struct ms_protect_options *o, struct ms_error *err)
{
    ms_status st = ms_cms_keyring_create(&cache.keyring, err);
    if (st == MS_OK && o->private_key)
        st = ms_cms_keyring_add_key_file(cache.keyring, o->private_key, o->certificate, err);
    if (st == MS_OK && o->passphrase_file)
        st = ms_cms_keyring_add_passphrase_file(cache.keyring, o->passphrase_file, err);
    if (st == MS_OK && o->trust) /* the trusted signer of --strict-dicom files */
        st = ms_cms_keyring_add_trusted_file(cache.keyring, o->trust, err);
    if (st == MS_OK && !o->private_key && !o->passphrase_file)
        st = ms_error_set(err, MS_EUSAGE,
                          "scheme cms needs --key KEY.pem [--cert CERT.pem] or --passphrase-file F");
    return st;
}

/* Build (once per options object) what this run needs; returns the outcome. */
static ms_status prepare(const struct ms_protect_options *o, bool decrypt, struct ms_error *err)
{
    static bool registered;
    ms_status st;

    pthread_mutex_lock(&cache.lock);
    if (cache.opt != o || (decrypt ? !cache.keyring : !cache.recipients)) {
        if (cache.opt != o)
            cache_clear();
        if (!registered)
            registered = atexit(cache_at_exit) == 0;
        cache.opt = o;
        memset(&cache.err, 0, sizeof cache.err);
        cache.st = decrypt ? build_keyring(o, &cache.err) : build_recipients(o, &cache.err);
    }
    st = cache.st;
    if (st != MS_OK && err)
        *err = cache.err;
    pthread_mutex_unlock(&cache.lock);
    return st;
}

static ms_status protect(const char *in, const char *out, const struct ms_protect_options *opt,
                         struct ms_protect_report *rep, struct ms_error *err)
{
    struct ms_cms_encrypt_options eo = {0};
    ms_status st = prepare(opt, false, err);

    if (st != MS_OK)
        return st;
    if (opt->strict_dicom) {
        eo.flags = MS_CMS_STRICT_DICOM;
        eo.signer = cache.signer;
    }
    st = ms_cms_encrypt_file(cache.recipients, in, out, &eo, err);
    if (st == MS_OK)
        msi_protect_report_sizes(rep, in, out);
    return st;
}

static ms_status unprotect(const char *in, const char *out, const struct ms_protect_options *opt,
                           struct ms_protect_report *rep, struct ms_error *err)
{
    struct ms_cms_result res;
    ms_status st = prepare(opt, true, err);

    if (st != MS_OK)
        return st;
    st = ms_cms_decrypt_file(cache.keyring, in, out, NULL, &res, err);
    if (st == MS_OK) {
        msi_protect_report_sizes(rep, in, out);
        if (res.signature_verified)
            snprintf(rep->note, sizeof rep->note, "signed by %.140s", res.signer);
    }
    return st;
}

static bool identify(const char *path, const uint8_t *head, size_t len)
{
    struct ms_cms_info info;
    (void)head;
    (void)len;
    return ms_cms_probe_file(path, &info, NULL) == MS_OK && ms_cms_kind_scheme(info.kind) != NULL;
}

const struct msi_scheme msi_scheme_cms = {
    {"cms", "PS3.10 7.4, seed 002", "recommended",
     "whole file in CMS AuthEnvelopedData (AES-256-GCM) for certificates and/or a passphrase",
     ".p7m", false},
    protect,
    unprotect,
    identify,
};
