/* Verifying: every item of every Digital Signatures Sequence, at the top level
 * and inside sequence items, against the MAC Parameters item of the same MAC
 * ID Number at the same level (PS3.15 C.2, C.3). Each signature gets a result;
 * problems with one signature never stop the check of the others. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seal/dicom_signature_internal.h"

#define MAX_DEPTH 64

struct verifier {
    const struct ms_dsig_verify_options *opt;
    ms_dsig_result_fn fn;
    void *fn_ctx;
    size_t total, bad;
    ms_status worst;
};

/* The parts of one signature, as read from its item and MAC parameters. */
struct parts {
    const struct ms_dataset *level, *item, *params;
    ms_hash_alg alg;
    uint32_t *tags;
    size_t ntags;
    const struct ms_element *cert, *sig;
    struct ms_pkey *signer;
};

/* ---- reading the items -------------------------------------------------------------------- */

static const struct ms_element *value_of(const struct ms_dataset *ds, uint32_t tag, ms_vr vr)
{
    const struct ms_element *el = ms_dataset_get(ds, tag);
    return el && el->vr == vr && el->value && el->length > 0 ? el : NULL;
}

static ms_status read_mac_id(const struct ms_dataset *item, unsigned *id, struct ms_error *err)
{
    const struct ms_element *el = value_of(item, MSI_TAG_MAC_ID, MS_VR_US);
    if (!el || el->length != 2)
        return ms_error_set(err, MS_EMALFORMED, "no MAC ID Number (0400,0005) of type US");
    *id = msi_rd16le(el->value);
    return MS_OK;
}

/* The MAC Parameters item of this MAC ID Number at the signature's level. */
static ms_status find_params(struct parts *p, unsigned id, struct ms_error *err)
{
    const struct ms_element *seq = ms_dataset_get(p->level, MSI_TAG_MAC_PARAMS_SEQ);

    if (!seq || seq->vr != MS_VR_SQ)
        return ms_error_set(err, MS_EMALFORMED, "no MAC Parameters Sequence (4FFE,0001)");
    for (uint32_t i = 0; i < seq->nitems; i++) {
        unsigned other = 0;
        if (read_mac_id(seq->items[i], &other, NULL) == MS_OK && other == id) {
            p->params = seq->items[i];
            return MS_OK;
        }
    }
    return ms_error_set(err, MS_EMALFORMED, "no MAC Parameters item with MAC ID Number %u", id);
}

/* MAC algorithms (PS3.3 C.12.1.1.3.1.1): the ones medseal checks. */
static ms_status mac_algorithm(struct parts *p, struct ms_dsig_result *r, struct ms_error *err)
{
    static const struct { const char *name; int alg; } table[] = {
        {"SHA256", MS_HASH_SHA256}, {"SHA512", MS_HASH_SHA512},
        {"SHA384", -1},             {"RIPEMD160", -1},
        {"SHA1", -2},               {"MD5", -2},
    };
    if (!ms_dataset_get_string(p->params, MSI_TAG_MAC_ALGORITHM, 0, r->mac_algorithm,
                               sizeof r->mac_algorithm))
        return ms_error_set(err, MS_EMALFORMED, "no MAC Algorithm (0400,0015)");
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(r->mac_algorithm, table[i].name) != 0)
            continue;
        if (table[i].alg >= 0) {
            p->alg = (ms_hash_alg)table[i].alg;
            return MS_OK;
        }
        return ms_error_set(err, MS_EUNSUPPORTED, "MAC Algorithm %s is %s", table[i].name,
                            table[i].alg == -2 ? "insecure: not accepted" : "not supported");
    }
    return ms_error_set(err, MS_EUNSUPPORTED, "unknown MAC Algorithm \"%s\"", r->mac_algorithm);
}

/* An explicit VR little endian syntax, the only kind PS3.15 allows for the MAC.
 * dcmsign names the file's own syntax when it is one of them, deflated and
 * encapsulated ones too; the stream is the same (never deflated). */
static ms_status mac_syntax(const struct parts *p, struct ms_error *err)
{
    char uid[72];
    const struct ms_transfer_syntax *ts;

    if (!ms_dataset_get_string(p->params, MSI_TAG_MAC_TS, 0, uid, sizeof uid))
        return ms_error_set(err, MS_EMALFORMED, "no MAC Calculation Transfer Syntax UID");
    ts = ms_ts_find(uid);
    if (!ts || !ts->explicit_vr || ts->big_endian)
        return ms_error_set(err, MS_EUNSUPPORTED,
                            "MAC Calculation Transfer Syntax %.64s is not explicit VR little "
                            "endian", uid);
    return MS_OK;
}

static int cmp_tag(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static ms_status signed_tags(struct parts *p, struct ms_error *err)
{
    const struct ms_element *el = value_of(p->params, MSI_TAG_DES, MS_VR_AT);

    if (!el || el->length % 4 != 0)
        return ms_error_set(err, MS_EMALFORMED, "no valid Data Elements Signed (0400,0020)");
    p->ntags = (size_t)(el->length / 4);
    p->tags = malloc(p->ntags * sizeof *p->tags);
    if (!p->tags)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->ntags; i++)
        p->tags[i] = MS_TAG(msi_rd16le(el->value + 4 * i), msi_rd16le(el->value + 4 * i + 2));
    qsort(p->tags, p->ntags, sizeof *p->tags, cmp_tag);
    for (size_t i = 0; i < p->ntags; i++) {
        uint32_t t = p->tags[i];
        if (!ms_dsig_tag_signable(t) || (i > 0 && p->tags[i - 1] == t))
            return ms_error_set(err, MS_EMALFORMED,
                                "Data Elements Signed lists (%04X,%04X) %s", MS_TAG_GROUP(t),
                                MS_TAG_ELEMENT(t),
                                ms_dsig_tag_signable(t) ? "twice" : "which cannot be signed");
    }
    return MS_OK;
}

static ms_status certificate(struct parts *p, struct ms_dsig_result *r, struct ms_error *err)
{
    char type[32];
    ms_status st;

    if (!ms_dataset_get_string(p->item, MSI_TAG_CERT_TYPE, 0, type, sizeof type))
        return ms_error_set(err, MS_EMALFORMED, "no Certificate Type (0400,0110)");
    if (strcmp(type, MSI_CERT_TYPE_X509) != 0)
        return ms_error_set(err, MS_EUNSUPPORTED, "Certificate Type %s is not supported", type);
    p->cert = value_of(p->item, MSI_TAG_CERT, MS_VR_OB);
    if (!p->cert)
        return ms_error_set(err, MS_EMALFORMED, "no Certificate of Signer (0400,0115)");
    st = msi_dsig_cert_parse(&p->signer, p->cert->value, (size_t)p->cert->length, err);
    if (st != MS_OK)
        return st;
    msi_dsig_cert_names(p->signer, r->subject, sizeof r->subject, r->issuer, sizeof r->issuer);
    snprintf(r->algorithm, sizeof r->algorithm, "%s %s",
             ms_pkey_get_type(p->signer) == MS_PKEY_RSA ? "RSA PKCS#1 v1.5" : "ECDSA P-256",
             p->alg == MS_HASH_SHA512 ? "SHA-512" : "SHA-256");
    p->sig = value_of(p->item, MSI_TAG_SIGNATURE, MS_VR_OB);
    if (!p->sig)
        return ms_error_set(err, MS_EMALFORMED, "no Signature (0400,0120)");
    return MS_OK;
}

/* Everything but the cryptographic check. */
static ms_status read_parts(struct parts *p, struct ms_dsig_result *r, struct ms_error *err)
{
    ms_status st = read_mac_id(p->item, &r->mac_id, err);

    ms_dataset_get_string(p->item, MSI_TAG_SIG_UID, 0, r->uid, sizeof r->uid);
    ms_dataset_get_string(p->item, MSI_TAG_SIG_DATETIME, 0, r->datetime, sizeof r->datetime);
    if (st == MS_OK)
        st = find_params(p, r->mac_id, err);
    if (st == MS_OK)
        st = mac_algorithm(p, r, err);
    if (st == MS_OK)
        st = mac_syntax(p, err);
    if (st == MS_OK)
        st = signed_tags(p, err);
    if (st == MS_OK)
        r->nsigned = p->ntags;
    if (st == MS_OK)
        st = certificate(p, r, err);
    return st;
}

/* ---- checking --------------------------------------------------------------------------- */

static bool listed(uint32_t tag, const uint32_t *tags, size_t n)
{
    return bsearch(&tag, tags, n, sizeof *tags, cmp_tag) != NULL;
}

/* Signable elements the signature does not cover, and the first signed one
 * that is gone. */
static void coverage(const struct parts *p, struct ms_dsig_result *r, uint32_t *missing)
{
    *missing = 0;
    for (uint32_t i = 0; i < p->level->n; i++) {
        uint32_t t = p->level->els[i]->tag;
        if (ms_dsig_tag_signable(t) && !listed(t, p->tags, p->ntags))
            r->nunsigned++;
    }
    for (size_t i = 0; i < p->ntags && !*missing; i++)
        if (!ms_dataset_get(p->level, p->tags[i]))
            *missing = p->tags[i];
}

/* Seconds since the epoch of a DT value ("YYYYMMDDHHMMSS[.F][&ZZXX]"); now
 * when it cannot be read. */
static int64_t dt_epoch(const char *dt)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
    const char *z;
    int64_t t;

    if (sscanf(dt, "%4d%2d%2d%n", &y, &mo, &d, &n) != 3 || n != 8)
        return (int64_t)time(NULL);
    sscanf(dt + 8, "%2d%2d%2d", &h, &mi, &s);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    t = (int64_t)timegm(&tm);
    z = strpbrk(dt, "+-");
    if (z && strlen(z) == 5 && sscanf(z + 1, "%2d%2d", &h, &mi) == 2)
        t -= (z[0] == '-' ? -1 : 1) * (int64_t)(h * 3600 + mi * 60);
    return t;
}

static ms_status check_signature(const struct verifier *v, struct parts *p,
                                 struct ms_dsig_result *r, struct ms_error *err)
{
    uint8_t digest[MS_HASH_MAX_LEN];
    uint32_t missing;
    ms_status st = msi_dsig_digest(p->level, p->tags, p->ntags, p->item, p->alg, v->opt->dump,
                                   v->opt->dump_ctx, digest, err);

    if (st != MS_OK)
        return st;
    coverage(p, r, &missing);
    st = msi_dsig_verify_digest(p->signer, p->alg, digest, ms_hash_size(p->alg),
                                p->sig->value, (size_t)p->sig->length, err);
    if (st == MS_EPROBLEM && missing)
        ms_error_set(err, MS_EPROBLEM, "signed element (%04X,%04X) is missing",
                     MS_TAG_GROUP(missing), MS_TAG_ELEMENT(missing));
    if (st == MS_OK && v->opt->ntrusted > 0) {
        r->trust_checked = true;
        st = msi_dsig_cert_trusted(p->signer, v->opt->trusted, v->opt->ntrusted,
                                   dt_epoch(r->datetime), err);
    }
    return st;
}

/* Errors that end the whole verification rather than one signature's. */
static bool fatal(ms_status st) { return st == MS_ENOMEM || st == MS_EIO || st == MS_ELIMIT; }

static void report(struct verifier *v, struct ms_dsig_result *r, ms_status st,
                   const struct ms_error *e)
{
    r->status = st;
    if (st != MS_OK)
        snprintf(r->reason, sizeof r->reason, "%s", e->msg);
    v->total++;
    if (st != MS_OK) {
        v->bad++;
        if (v->worst == MS_OK || ms_status_exit_code(st) > ms_status_exit_code(v->worst))
            v->worst = st;
    }
    if (v->fn)
        v->fn(v->fn_ctx, r);
}

static ms_status verify_one(struct verifier *v, const struct ms_dataset *level,
                            const struct ms_dataset *item, unsigned index, const char *where)
{
    struct ms_dsig_result r;
    struct parts p = {level, item, NULL, MS_HASH_SHA256, NULL, 0, NULL, NULL, NULL};
    struct ms_error e = {0};
    ms_status st;

    memset(&r, 0, sizeof r);
    snprintf(r.location, sizeof r.location, "%s", where);
    r.index = index;
    st = read_parts(&p, &r, &e);
    if (st == MS_OK)
        st = check_signature(v, &p, &r, &e);
    free(p.tags);
    ms_pkey_destroy(p.signer);
    if (fatal(st))
        return st;
    report(v, &r, st, &e);
    return MS_OK;
}

/* ---- the walk ------------------------------------------------------------------------------ */

static ms_status verify_level(struct verifier *v, const struct ms_dataset *ds, const char *where,
                              unsigned depth);

static ms_status descend(struct verifier *v, const struct ms_element *el, const char *where,
                         unsigned depth)
{
    char sub[sizeof ((struct ms_dsig_result *)0)->location];
    ms_status st = MS_OK;

    for (uint32_t k = 0; st == MS_OK && k < el->nitems; k++) {
        snprintf(sub, sizeof sub, "%s%s(%04X,%04X)[%u]", depth ? where : "", depth ? "/" : "",
                 MS_TAG_GROUP(el->tag), MS_TAG_ELEMENT(el->tag), (unsigned)k + 1);
        st = verify_level(v, el->items[k], sub, depth + 1);
    }
    return st;
}

static ms_status verify_level(struct verifier *v, const struct ms_dataset *ds, const char *where,
                              unsigned depth)
{
    const struct ms_element *sigs = ms_dataset_get(ds, MSI_TAG_DIGSIG_SEQ);
    ms_status st = MS_OK;

    if (depth > MAX_DEPTH)
        return MS_ELIMIT;
    if (sigs && sigs->vr != MS_VR_SQ) {
        struct ms_dsig_result r;
        struct ms_error e;
        memset(&r, 0, sizeof r);
        snprintf(r.location, sizeof r.location, "%s", where);
        ms_error_set(&e, MS_EMALFORMED, "(FFFA,FFFA) is not a sequence");
        report(v, &r, MS_EMALFORMED, &e);
    }
    for (uint32_t i = 0; sigs && sigs->vr == MS_VR_SQ && st == MS_OK && i < sigs->nitems; i++)
        st = verify_one(v, ds, sigs->items[i], (unsigned)i + 1, where);
    for (uint32_t i = 0; st == MS_OK && i < ds->n; i++) {
        const struct ms_element *el = ds->els[i];
        if (el->vr == MS_VR_SQ && el->tag != MSI_TAG_DIGSIG_SEQ &&
            el->tag != MSI_TAG_MAC_PARAMS_SEQ)
            st = descend(v, el, where, depth);
    }
    return st;
}

ms_status ms_dsig_verify(struct ms_file *f, const struct ms_dsig_verify_options *opt,
                         ms_dsig_result_fn fn, void *ctx, struct ms_error *err)
{
    static const struct ms_dsig_verify_options defaults;
    struct verifier v = {opt ? opt : &defaults, fn, ctx, 0, 0, MS_OK};
    ms_status st = verify_level(&v, f->ds, "top level", 0);

    if (st == MS_ELIMIT)
        return ms_error_set(err, MS_ELIMIT, "sequences nested deeper than %u levels", MAX_DEPTH);
    if (st != MS_OK)
        return ms_error_set(err, st, "%s", st == MS_EIO ? "cannot write the MAC byte stream"
                                                        : "out of memory");
    if (v.total == 0)
        return ms_error_set(err, MS_ENOTFOUND, "no digital signature");
    if (v.bad == 0)
        return MS_OK;
    return ms_error_set(err, v.worst, "%zu of %zu signature%s not valid", v.bad, v.total,
                        v.total == 1 ? "" : "s");
}
