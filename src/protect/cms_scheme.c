/* Scheme `cms` (default): the whole file in a CMS envelope (PS3.10 7.4,
 * seed 002's hybrid scheme): AuthEnvelopedData AES-256-GCM for certificate
 * and passphrase recipients, or with --strict-dicom EnvelopedData around a
 * SignedData. The envelope work is in src/crypto/cms_*.c; this file maps the
 * protect options onto it.
 *
 * A run protects many files with the same options: the recipient set (and
 * its Argon2id derivation), the signer and the keyring are built once per run
 * (run_keys.c) and shared by the worker threads (read-only while in use). */
#include <stdio.h>
#include <string.h>

#include "medseal/cms.h"
#include "protect/scheme.h"

static ms_status protect(const char *in, const char *out, const struct ms_protect_options *opt,
                         struct ms_protect_report *rep, struct ms_error *err)
{
    struct ms_cms_encrypt_options eo = {0};
    const struct msi_run_keys *keys = NULL;
    ms_status st;

    if (opt->nrecipients == 0 && !opt->passphrase_file)
        return ms_error_set(err, MS_EUSAGE,
                            "scheme cms needs a recipient: --to CERT.pem or --passphrase-file F");
    if (opt->strict_dicom && (!opt->sign_key || !opt->sign_cert))
        return ms_error_set(err, MS_EUSAGE, "--strict-dicom needs --sign-key and --sign-cert");
    st = msi_run_keys_get(opt, MSI_RUN_RECIPIENTS | (opt->strict_dicom ? MSI_RUN_SIGNER : 0),
                          &keys, err);
    if (st != MS_OK)
        return st;
    if (opt->strict_dicom) {
        eo.flags = MS_CMS_STRICT_DICOM;
        eo.signer = keys->signer;
    }
    if (opt->no_fsync)
        eo.flags |= MS_CMS_NO_FSYNC;
    st = ms_cms_encrypt_file(keys->recipients, in, out, &eo, err);
    msi_run_keys_release(keys);
    if (st == MS_OK)
        msi_protect_report_sizes(rep, in, out);
    return st;
}

static ms_status unprotect(const char *in, const char *out, const struct ms_protect_options *opt,
                           struct ms_protect_report *rep, struct ms_error *err)
{
    struct ms_cms_result res;
    struct ms_cms_decrypt_options dopt = {.flags = opt->no_fsync ? MS_CMS_DECRYPT_NO_FSYNC : 0};
    const struct msi_run_keys *keys = NULL;
    ms_status st;

    if (!opt->private_key && !opt->passphrase_file)
        return ms_error_set(err, MS_EUSAGE,
                            "scheme cms needs --key KEY.pem [--cert CERT.pem] or --passphrase-file F");
    if ((st = msi_run_keys_get(opt, MSI_RUN_KEYRING, &keys, err)) != MS_OK)
        return st;
    st = ms_cms_decrypt_file(keys->keyring, in, out, &dopt, &res, err);
    msi_run_keys_release(keys);
    if (st == MS_OK) {
        msi_protect_report_sizes(rep, in, out);
        if (res.signature_verified)
            snprintf(rep->note, sizeof rep->note, "signed by %.140s", res.signer);
    }
    return st;
}

/* From the content type in the first bytes only: unprotect parses the whole
 * head anyway, and a broken one is reported there (exit 3). */
static bool identify(const char *path, const uint8_t *head, size_t len)
{
    (void)path;
    return ms_cms_kind_scheme(ms_cms_kind_guess(head, len)) != NULL;
}

const struct msi_scheme msi_scheme_cms = {
    {"cms", "PS3.10 7.4, seed 002", "recommended",
     "whole file in CMS AuthEnvelopedData (AES-256-GCM) for certificates and/or a passphrase",
     ".p7m", false},
    protect,
    unprotect,
    identify,
};
