/* Signing: a Digital Signatures Sequence item and a MAC Parameters Sequence
 * item at the top level of a dataset (PS3.15 C.1-C.3), as dcmsign writes them
 * with `--sign KEY CERT +m2`. The signature item is first built on its own and
 * signed; only then is the file's dataset changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seal/dicom_signature_internal.h"

#define EXPLICIT_LE_UID "1.2.840.10008.1.2.1"

/* What goes into the new items. */
struct new_sig {
    uint16_t mac_id;
    char uid[MS_DSIG_UID_LEN];
    char datetime[32];
    const char *mac_ts;
    uint32_t *tags; /* Data Elements Signed, ascending */
    size_t ntags;
    uint8_t *cert;  /* DER */
    size_t cert_len;
    uint8_t sig[MS_SIG_MAX_LEN];
    size_t sig_len;
};

/* ---- checks ------------------------------------------------------------------------------ */

static ms_status check_keys(const struct ms_pkey *key, const struct ms_pkey *cert,
                            struct ms_error *err)
{
    ms_pkey_type t = ms_pkey_get_type(key);

    if (t != MS_PKEY_RSA && t != MS_PKEY_P256)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "%s keys cannot make DICOM signatures (RSA or EC P-256 needed)",
                            ms_pkey_type_name(t));
    if (!ms_pkey_has_private(key))
        return ms_error_set(err, MS_EUSAGE, "the signing key has no private key");
    if (!ms_pkey_has_cert(cert))
        return ms_error_set(err, MS_EUSAGE, "a signer certificate is needed (X.509)");
    if (!ms_pkey_equal(key, cert))
        return ms_error_set(err, MS_EUSAGE, "the certificate is not that of the signing key");
    return MS_OK;
}

/* The sequence with this tag when present: NULL or a sequence element. */
static ms_status existing_sequence(const struct ms_dataset *ds, uint32_t tag,
                                   struct ms_element **out, struct ms_error *err)
{
    *out = ms_dataset_get(ds, tag);
    if (*out && ms_element_vr(*out) != MS_VR_SQ)
        return ms_error_set(err, MS_EMALFORMED, "(%04X,%04X) is not a sequence",
                            MS_TAG_GROUP(tag), MS_TAG_ELEMENT(tag));
    return MS_OK;
}

static bool valid_uid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && s[i + 1] != '.')))
            return false;
    return true;
}

static bool valid_datetime(const char *s)
{
    size_t n = strlen(s);
    if (n < 4 || n > 26)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789.+-", s[i]))
            return false;
    return true;
}

/* ---- the new signature's values ------------------------------------------------------- */

static void now_datetime(char *buf, size_t cap)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, cap, "%04d%02d%02d%02d%02d%02d.%06ld+0000", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

/* MAC ID Numbers in use at this level, in either sequence. */
static unsigned max_mac_id(const struct ms_element *seq, int *found)
{
    unsigned max = 0;
    for (size_t i = 0; seq && i < ms_element_item_count(seq); i++) {
        int64_t v;
        if (ms_dataset_get_int(ms_element_item(seq, i), MSI_TAG_MAC_ID, 0, &v) && v >= 0 &&
            v <= 0xFFFF) {
            if (!*found || (unsigned)v > max)
                max = (unsigned)v;
            *found = 1;
        }
    }
    return max;
}

static ms_status next_mac_id(const struct ms_element *sigs, const struct ms_element *params,
                             uint16_t *out, struct ms_error *err)
{
    int found = 0;
    unsigned a = max_mac_id(sigs, &found), b = max_mac_id(params, &found);
    unsigned max = a > b ? a : b;

    if (found && max >= 0xFFFF)
        return ms_error_set(err, MS_ELIMIT, "no MAC ID Number left");
    *out = (uint16_t)(found ? max + 1 : 0);
    return MS_OK;
}

static int cmp_tag(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Every signable top-level element, as dcmsign selects them. */
static ms_status default_tags(const struct ms_file *f, struct new_sig *s, struct ms_error *err)
{
    const struct ms_dataset *ds = f->ds;
    bool implicit_vr = !f->ts->explicit_vr;

    s->tags = malloc(((size_t)ds->n + 1) * sizeof *s->tags);
    if (!s->tags)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < ds->n; i++)
        if (msi_dsig_element_signable(ds->els[i], implicit_vr))
            s->tags[s->ntags++] = ds->els[i]->tag;
    qsort(s->tags, s->ntags, sizeof *s->tags, cmp_tag);
    for (size_t i = 1; i < s->ntags; i++)
        if (s->tags[i] == s->tags[i - 1])
            return ms_error_set(err, MS_EMALFORMED, "(%04X,%04X) occurs twice",
                                MS_TAG_GROUP(s->tags[i]), MS_TAG_ELEMENT(s->tags[i]));
    if (s->ntags == 0)
        return ms_error_set(err, MS_EUSAGE, "the dataset has no element that can be signed");
    return MS_OK;
}

/* The caller's tags: present, signable, once each. */
static ms_status chosen_tags(const struct ms_file *f, const struct ms_dsig_sign_options *opt,
                             struct new_sig *s, struct ms_error *err)
{
    bool implicit_vr = !f->ts->explicit_vr;

    if (opt->ntags == 0 || opt->ntags > UINT32_MAX / 4)
        return ms_error_set(err, MS_EUSAGE, "the list of tags to sign is empty or too long");
    s->tags = malloc(opt->ntags * sizeof *s->tags);
    if (!s->tags)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    memcpy(s->tags, opt->tags, opt->ntags * sizeof *s->tags);
    s->ntags = opt->ntags;
    qsort(s->tags, s->ntags, sizeof *s->tags, cmp_tag);
    for (size_t i = 0; i < s->ntags; i++) {
        uint32_t t = s->tags[i];
        const struct ms_element *el = ms_dataset_get(f->ds, t);
        const char *why = i > 0 && s->tags[i - 1] == t ? "is listed twice"
                          : !el                        ? "is not in the dataset"
                          : !msi_dsig_element_signable(el, implicit_vr) ? "cannot be signed"
                                                                        : NULL;
        if (why)
            return ms_error_set(err, MS_EUSAGE, "(%04X,%04X) %s", MS_TAG_GROUP(t),
                                MS_TAG_ELEMENT(t), why);
    }
    return MS_OK;
}

/* Digital Signature UID and DateTime: the caller's (checked) or new ones. */
static ms_status uid_and_time(const struct ms_dsig_sign_options *opt, struct new_sig *s,
                              struct ms_error *err)
{
    if (opt->uid && !valid_uid(opt->uid))
        return ms_error_set(err, MS_EUSAGE, "not a valid UID: \"%.64s\"", opt->uid);
    if (opt->datetime && !valid_datetime(opt->datetime))
        return ms_error_set(err, MS_EUSAGE, "not a DICOM date-time: \"%.32s\"", opt->datetime);
    if (opt->datetime)
        snprintf(s->datetime, sizeof s->datetime, "%s", opt->datetime);
    else
        now_datetime(s->datetime, sizeof s->datetime);
    if (!opt->uid)
        return msi_dsig_new_uid(s->uid, err);
    snprintf(s->uid, sizeof s->uid, "%s", opt->uid);
    return MS_OK;
}

static ms_status prepare(struct ms_file *f, const struct ms_pkey *cert,
                         const struct ms_dsig_sign_options *opt, const struct ms_element *sigs,
                         const struct ms_element *params, struct new_sig *s,
                         struct ms_error *err)
{
    ms_status st = opt->tags ? chosen_tags(f, opt, s, err) : default_tags(f, s, err);
    const struct ms_element *px = ms_dataset_get(f->ds, MS_TAG_PIXEL_DATA);

    if (st == MS_OK)
        st = next_mac_id(sigs, params, &s->mac_id, err);
    if (st == MS_OK)
        st = uid_and_time(opt, s, err);
    /* Encapsulated pixel data has no native encoding: dcmsign then names the
     * file's own (explicit VR little endian) syntax. */
    s->mac_ts = (px && ms_element_is_encapsulated(px)) ? f->ts->uid : EXPLICIT_LE_UID;
    if (st == MS_OK)
        st = msi_dsig_cert_der(cert, &s->cert, &s->cert_len, err);
    return st;
}

/* ---- the items --------------------------------------------------------------------------- */

/* The covered elements of a signature item and its certificate; the Signature
 * too once it is known. */
static ms_status fill_sig_item(struct ms_dataset *item, const struct new_sig *s, bool with_sig,
                               struct ms_error *err)
{
    ms_status st = ms_dataset_set_int(item, MSI_TAG_MAC_ID, MS_VR_US, s->mac_id, err);

    if (st == MS_OK)
        st = ms_dataset_set_string(item, MSI_TAG_SIG_UID, MS_VR_UI, s->uid, err);
    if (st == MS_OK)
        st = ms_dataset_set_string(item, MSI_TAG_SIG_DATETIME, MS_VR_DT, s->datetime, err);
    if (st == MS_OK)
        st = ms_dataset_set_string(item, MSI_TAG_CERT_TYPE, MS_VR_CS, MSI_CERT_TYPE_X509, err);
    if (st == MS_OK)
        st = ms_dataset_set_bytes(item, MSI_TAG_CERT, MS_VR_OB, s->cert, s->cert_len, err);
    if (st == MS_OK && with_sig)
        st = ms_dataset_set_bytes(item, MSI_TAG_SIGNATURE, MS_VR_OB, s->sig, s->sig_len, err);
    return st;
}

static ms_status fill_mac_item(struct ms_dataset *item, const struct new_sig *s,
                               struct ms_error *err)
{
    uint8_t *at = malloc(s->ntags * 4);
    ms_status st;

    if (!at)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->ntags; i++) {
        msi_wr16le(at + 4 * i, MS_TAG_GROUP(s->tags[i]));
        msi_wr16le(at + 4 * i + 2, MS_TAG_ELEMENT(s->tags[i]));
    }
    st = ms_dataset_set_int(item, MSI_TAG_MAC_ID, MS_VR_US, s->mac_id, err);
    if (st == MS_OK)
        st = ms_dataset_set_string(item, MSI_TAG_MAC_TS, MS_VR_UI, s->mac_ts, err);
    if (st == MS_OK)
        st = ms_dataset_set_string(item, MSI_TAG_MAC_ALGORITHM, MS_VR_CS, MSI_MAC_SHA256, err);
    if (st == MS_OK)
        st = ms_dataset_set_bytes(item, MSI_TAG_DES, MS_VR_AT, at, s->ntags * 4, err);
    free(at);
    return st;
}

/* Compute and sign the MAC over the signed elements and a stand-alone copy
 * of the new signature item. */
static ms_status make_signature(const struct ms_file *f, const struct ms_pkey *key,
                                const struct ms_dsig_sign_options *opt, struct new_sig *s,
                                struct ms_error *err)
{
    struct ms_dataset *item = NULL;
    uint8_t digest[MS_SHA256_LEN];
    ms_status st = ms_dataset_create(&item, err);

    if (st == MS_OK)
        st = fill_sig_item(item, s, false, err);
    if (st == MS_OK)
        st = msi_dsig_digest(f->ds, s->tags, s->ntags, item, MS_HASH_SHA256, opt->dump,
                             opt->dump_ctx, digest, err);
    if (st == MS_OK)
        st = msi_dsig_sign_digest(key, MS_HASH_SHA256, digest, sizeof digest, s->sig,
                                  sizeof s->sig, &s->sig_len, err);
    ms_dataset_destroy(item);
    return st;
}

/* Add an item to the sequence tag of ds (creating it, with defined length,
 * when absent). */
static ms_status add_item(struct ms_dataset *ds, uint32_t tag, struct ms_element *seq,
                          struct ms_dataset **item, struct ms_error *err)
{
    ms_status st = MS_OK;

    if (!seq) {
        st = ms_dataset_set_sequence(ds, tag, &seq, err);
        if (st == MS_OK) { /* written with explicit lengths, as dcmsign does */
            seq->flags &= (uint8_t)~MSI_EL_UNDEF;
            seq->length = 0;
        }
    }
    if (st == MS_OK)
        st = ms_element_add_item(seq, item, err);
    if (st == MS_OK)
        (*item)->undef = false;
    return st;
}

static ms_status commit(struct ms_file *f, struct ms_element *sigs, struct ms_element *params,
                        const struct new_sig *s, struct ms_error *err)
{
    struct ms_dataset *mac_item = NULL, *sig_item = NULL;
    ms_status st = add_item(f->ds, MSI_TAG_MAC_PARAMS_SEQ, params, &mac_item, err);

    if (st == MS_OK)
        st = fill_mac_item(mac_item, s, err);
    if (st == MS_OK)
        st = add_item(f->ds, MSI_TAG_DIGSIG_SEQ, sigs, &sig_item, err);
    if (st == MS_OK)
        st = fill_sig_item(sig_item, s, true, err);
    return st;
}

ms_status ms_dsig_sign(struct ms_file *f, const struct ms_pkey *key, const struct ms_pkey *cert,
                       const struct ms_dsig_sign_options *opt, char uid_out[MS_DSIG_UID_LEN],
                       struct ms_error *err)
{
    static const struct ms_dsig_sign_options defaults;
    struct new_sig *s = calloc(1, sizeof *s);
    struct ms_element *sigs = NULL, *params = NULL;
    ms_status st;

    if (uid_out)
        uid_out[0] = '\0';
    if (!s)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    if (!opt)
        opt = &defaults;
    if (!cert)
        cert = key;
    st = check_keys(key, cert, err);
    if (st == MS_OK)
        st = existing_sequence(f->ds, MSI_TAG_DIGSIG_SEQ, &sigs, err);
    if (st == MS_OK)
        st = existing_sequence(f->ds, MSI_TAG_MAC_PARAMS_SEQ, &params, err);
    if (st == MS_OK)
        st = prepare(f, cert, opt, sigs, params, s, err);
    if (st == MS_OK)
        st = make_signature(f, key, opt, s, err);
    if (st == MS_OK)
        st = commit(f, sigs, params, s, err);
    if (st == MS_OK && uid_out)
        memcpy(uid_out, s->uid, MS_DSIG_UID_LEN);
    free(s->tags);
    free(s->cert);
    free(s);
    return st;
}
