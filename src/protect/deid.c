/* The `deid` scheme: PS3.15 E.1 Basic Application Level Confidentiality
 * Profile. protect de-identifies a file and keeps its original values in an
 * Encrypted Attributes Sequence (0400,0500) item whose Encrypted Content is
 * a CMS envelope of a dataset holding the Modified Attributes Sequence
 * (0400,0550) item (what gdcmanon and every standard re-identifier read) and
 * medseal's recipe (how to rebuild the original file bit-exact). unprotect
 * decrypts it and rebuilds the original (recipe) or, for files other
 * de-identifiers wrote, moves the original values back. docs/deid.md. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/cms_buffer.h"
#include "protect/deid.h"
#include "protect/scheme.h"

#define TAG_ENCRYPTED_ATTRS MS_TAG(0x0400, 0x0500)
#define TAG_ENCRYPTED_TS MS_TAG(0x0400, 0x0510)
#define TAG_ENCRYPTED_CONTENT MS_TAG(0x0400, 0x0520)
#define TAG_MODIFIED_ATTRS MS_TAG(0x0400, 0x0550)
#define TAG_SOP_INSTANCE MS_TAG(0x0008, 0x0018)
#define TAG_MEDIA_SOP_INSTANCE MS_TAG(0x0002, 0x0003)
/* medseal's recipe, after (0400,0550) in the encrypted dataset (gdcmanon
 * reads only the first element of it) */
#define TAG_RECIPE_CREATOR MS_TAG(0x0401, 0x0010)
#define TAG_RECIPE MS_TAG(0x0401, 0x1001)
#define RECIPE_CREATOR "MEDSEAL DEID 1"

/* ---- the UID key of a run ------------------------------------------------------------------ */

static pthread_once_t run_key_once = PTHREAD_ONCE_INIT;
static uint8_t run_key[MSI_DEID_KEY_LEN];
static bool run_key_ok;

static void make_run_key(void)
{
    run_key_ok = ms_random_bytes(run_key, sizeof run_key, NULL) == MS_OK;
}

__attribute__((destructor)) static void wipe_run_key(void)
{
    ms_crypto_wipe(run_key, sizeof run_key);
}

/* With -k, HKDF of that key: the same mapping in every run that uses it.
 * Without, a random key made once per process: every file of one run (one
 * `medseal protect` over a directory) maps a UID the same way. */
static ms_status profile_key(const struct ms_protect_options *opt,
                             uint8_t key[MSI_DEID_KEY_LEN], struct ms_error *err)
{
    static const char info[] = "medseal deid uid and dummy key v1";
    uint8_t k[MS_AES256_KEY_LEN];
    ms_status st;

    if (!opt->key_file) {
        pthread_once(&run_key_once, make_run_key);
        if (!run_key_ok)
            return ms_error_set(err, MS_EINTERNAL, "no random bytes for the UID key");
        memcpy(key, run_key, MSI_DEID_KEY_LEN);
        return MS_OK;
    }
    st = ms_keyfile_read(opt->key_file, k, NULL, err);
    if (st == MS_OK)
        st = ms_hkdf_sha256(k, sizeof k, NULL, 0, info, sizeof info - 1, key, MSI_DEID_KEY_LEN,
                            err);
    ms_crypto_wipe(k, sizeof k);
    return st;
}

/* ---- a memory sink (wiped when it grows or dies) ------------------------------------------ */

struct membuf {
    uint8_t *p;
    size_t len, cap;
};

static int mem_sink(void *ctx, const void *data, size_t len)
{
    struct membuf *m = ctx;
    if (len > m->cap - m->len) {
        size_t cap = m->cap ? m->cap : 65536;
        uint8_t *p;
        while (cap - m->len < len) {
            if (cap > MSI_CMSBUF_MAX)
                return -1;
            cap *= 2;
        }
        if (!(p = malloc(cap)))
            return -1;
        if (m->len)
            memcpy(p, m->p, m->len);
        msi_cmsbuf_free(m->p, m->cap);
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, len);
    m->len += len;
    return 0;
}

/* ---- protect ---------------------------------------------------------------------------- */

struct protect {
    const struct ms_protect_options *opt;
    struct ms_protect_report *rep;
    struct ms_error *err;
    struct msi_deid_profile profile;
    struct msi_deid_stats stats;
    const uint8_t *orig;        /* the input's bytes */
    uint64_t orig_size;
    struct ms_file *f;          /* the input, edited into the output */
    struct msi_deid_layout ol, bl;
    bool have_ol;
    struct ms_dataset *payload; /* what is encrypted */
    struct ms_dataset *modified;
    struct ms_dataset *enc_item; /* the (0400,0500) item of f */
    uint8_t *recipe;
    size_t recipe_len;
    struct membuf plain;
    uint8_t *der;
    size_t der_len;
};

static ms_status open_input(struct protect *p, const char *in)
{
    struct ms_error *err = p->err;
    ms_status st = msi_map_file(in, &p->orig, &p->orig_size, err);

    if (st == MS_OK)
        st = ms_file_read(&p->f, in, NULL, err);
    if (st != MS_OK)
        return st;
    if (ms_dataset_get(p->f->ds, TAG_ENCRYPTED_ATTRS))
        return ms_error_set(err, MS_EUNSUPPORTED, "already de-identified: it has an "
                            "Encrypted Attributes Sequence (0400,0500)");
    p->have_ol = msi_deid_layout_make(&p->ol, p->f, p->orig_size, NULL) == MS_OK;
    return MS_OK;
}

/* The payload dataset: (0400,0550) with one item that receives the originals. */
static ms_status make_payload(struct protect *p)
{
    struct ms_element *seq;
    ms_status st = ms_dataset_create(&p->payload, p->err);
    if (st == MS_OK)
        st = ms_dataset_set_sequence(p->payload, TAG_MODIFIED_ATTRS, &seq, p->err);
    if (st == MS_OK)
        st = ms_element_add_item(seq, &p->modified, p->err);
    return st;
}

/* (0400,0500) with one item; the content is set once it is known. */
static ms_status add_encrypted_attrs(struct protect *p)
{
    struct ms_element *seq;
    ms_status st = ms_dataset_set_sequence(p->f->ds, TAG_ENCRYPTED_ATTRS, &seq, p->err);
    if (st == MS_OK)
        st = ms_element_add_item(seq, &p->enc_item, p->err);
    if (st == MS_OK)
        st = ms_dataset_set_string(p->enc_item, TAG_ENCRYPTED_TS, MS_VR_UI,
                                   ms_ts_explicit_le()->uid, p->err);
    if (st == MS_OK)
        st = ms_dataset_set_bytes(p->enc_item, TAG_ENCRYPTED_CONTENT, MS_VR_OB, "", 0, p->err);
    return st;
}

/* Write the de-identified file without its content (the base of the recipe)
 * to a temporary file, map it, and build the recipe against it. */
static ms_status make_recipe(struct protect *p, const char *out)
{
    struct ms_file *base = NULL;
    const uint8_t *bytes = NULL;
    uint64_t size = 0;
    char tmp[4096];
    int fd;
    ms_status st = msi_atomic_open(out, tmp, sizeof tmp, &fd, p->err);

    if (st != MS_OK)
        return st;
    st = ms_file_write_sink(p->f, msi_fd_sink, &fd, NULL, p->err);
    if (st == MS_OK)
        st = ms_file_read(&base, tmp, NULL, p->err);
    if (st == MS_OK)
        st = msi_map_file(tmp, &bytes, &size, p->err);
    msi_atomic_close(fd, tmp, out, false, NULL); /* removes the temporary */
    if (st == MS_OK)
        st = msi_deid_layout_make(&p->bl, base, size, p->err);
    if (st == MS_OK)
        st = msi_deid_recipe_build(p->orig, p->orig_size, p->have_ol ? &p->ol : NULL, bytes,
                                   &p->bl, &p->recipe, &p->recipe_len, p->err);
    if (bytes)
        msi_unmap_file(bytes, size);
    ms_file_destroy(base);
    return st;
}

static ms_status encrypt_payload(struct protect *p)
{
    const struct ms_protect_options *o = p->opt;
    struct msi_cmsbuf_options eo = {o->strict_dicom, o->rsa_pkcs1};
    const struct msi_run_keys *keys = NULL;
    ms_status st = ms_dataset_set_string(p->payload, TAG_RECIPE_CREATOR, MS_VR_LO,
                                         RECIPE_CREATOR, p->err);
    if (st == MS_OK)
        st = ms_dataset_set_bytes_ref(p->payload, TAG_RECIPE, MS_VR_OB, p->recipe,
                                      p->recipe_len, p->err);
    if (st == MS_OK)
        st = ms_dataset_write_sink(p->payload, ms_ts_explicit_le(), mem_sink, &p->plain, p->err);
    if (st == MS_OK)
        st = msi_run_keys_get(o, MSI_RUN_RECIPIENTS, &keys, p->err);
    if (st == MS_OK)
        st = msi_cmsbuf_encrypt(keys->recipients, &eo, p->plain.p, p->plain.len, &p->der,
                                &p->der_len, p->err);
    msi_run_keys_release(keys);
    if (st == MS_OK)
        st = ms_dataset_set_bytes_ref(p->enc_item, TAG_ENCRYPTED_CONTENT, MS_VR_OB, p->der,
                                      p->der_len, p->err);
    return st;
}

static void fill_report(struct protect *p, const char *out)
{
    struct stat sb;
    p->rep->bytes_in = p->orig_size;
    if (stat(out, &sb) == 0)
        p->rep->bytes_out = (uint64_t)sb.st_size;
    if (p->stats.burned_in)
        snprintf(p->rep->note, sizeof p->rep->note, "Burned In Annotation is YES: text in the "
                 "pixels is not removed by the Basic Profile");
    else if (p->opt->keep_private)
        snprintf(p->rep->note, sizeof p->rep->note, "private attributes kept (--keep-private)");
}

static void protect_free(struct protect *p)
{
    ms_crypto_wipe(&p->profile, sizeof p->profile);
    msi_deid_recipe_free(p->recipe, p->recipe_len);
    msi_cmsbuf_free(p->plain.p, p->plain.cap);
    free(p->der);
    ms_dataset_destroy(p->payload);
    ms_file_destroy(p->f);
    msi_deid_layout_free(&p->ol);
    msi_deid_layout_free(&p->bl);
    if (p->orig)
        msi_unmap_file(p->orig, p->orig_size);
}

static ms_status deid_protect(const char *in, const char *out,
                              const struct ms_protect_options *opt,
                              struct ms_protect_report *rep, struct ms_error *err)
{
    struct protect p;
    ms_status st;

    memset(&p, 0, sizeof p);
    p.opt = opt;
    p.rep = rep;
    p.err = err;
    p.profile.keep_private = opt->keep_private;
    if (opt->nrecipients == 0 && !opt->passphrase_file)
        return ms_error_set(err, MS_EUSAGE, "deid keeps the original values encrypted: give "
                            "--to CERT.pem or --passphrase-file F");
    st = profile_key(opt, p.profile.key, err);
    if (st == MS_OK)
        st = open_input(&p, in);
    if (st == MS_OK)
        st = make_payload(&p);
    if (st == MS_OK)
        st = msi_deid_apply(&p.profile, p.f, p.modified, &p.stats, err);
    if (st == MS_OK && p.f->ts->deflated) /* a deflated output could not be spliced */
        ms_file_set_transfer_syntax(p.f, ms_ts_explicit_le());
    if (st == MS_OK)
        st = add_encrypted_attrs(&p);
    if (st == MS_OK)
        st = make_recipe(&p, out);
    if (st == MS_OK)
        st = encrypt_payload(&p);
    if (st == MS_OK)
        st = ms_file_write(p.f, out, &(struct ms_write_options){.no_fsync = opt->no_fsync},
                           err);
    if (st == MS_OK)
        fill_report(&p, out);
    protect_free(&p);
    return st;
}

/* ---- unprotect --------------------------------------------------------------------------- */

struct unprotect {
    const struct ms_protect_options *opt;
    struct ms_protect_report *rep;
    struct ms_error *err;
    struct ms_file *d;        /* the de-identified input */
    uint8_t *plain;           /* decrypted content */
    size_t plain_len;
    struct msi_cmsbuf_result res;
    struct ms_file *pf;       /* the decrypted dataset */
    struct ms_dataset *modified;
    const struct ms_element *recipe;
};

static bool ts_supported(const char *uid)
{
    return strcmp(uid, ms_ts_explicit_le()->uid) == 0 || strcmp(uid, ms_ts_implicit_le()->uid) == 0;
}

/* Decrypt one item of (0400,0500). */
static ms_status decrypt_item(struct unprotect *u, const struct ms_dataset *item, char *ts,
                              size_t cap)
{
    const struct ms_element *content = ms_dataset_get(item, TAG_ENCRYPTED_CONTENT);
    const struct msi_run_keys *keys = NULL;
    ms_status st;

    if (!ms_dataset_get_string(item, TAG_ENCRYPTED_TS, 0, ts, cap) || !ts_supported(ts))
        return ms_error_set(u->err, MS_EUNSUPPORTED, "Encrypted Content Transfer Syntax UID "
                            "missing or not Implicit/Explicit VR Little Endian");
    if (!content || !content->value || content->length == 0)
        return ms_error_set(u->err, MS_EMALFORMED, "Encrypted Content (0400,0520) is missing");
    if ((st = msi_run_keys_get(u->opt, MSI_RUN_KEYRING, &keys, u->err)) != MS_OK)
        return st;
    st = msi_cmsbuf_decrypt(keys->keyring, content->value, (size_t)content->length, &u->plain,
                            &u->plain_len, &u->res, u->err);
    msi_run_keys_release(keys);
    return st;
}

/* Parse the decrypted bytes as a dataset in transfer syntax ts. */
static ms_status parse_plain(struct unprotect *u, const char *ts)
{
    static const uint8_t meta_head[8] = {0x02, 0x00, 0x10, 0x00, 'U', 'I', 0, 0};
    size_t tslen = strlen(ts) + (strlen(ts) & 1), len = 132 + 8 + tslen + u->plain_len;
    uint8_t *wrap = calloc(1, len);
    ms_status st;

    if (!wrap)
        return ms_error_set(u->err, MS_ENOMEM, "out of memory");
    memcpy(wrap + 128, "DICM", 4);
    memcpy(wrap + 132, meta_head, 8);
    wrap[138] = (uint8_t)tslen;
    memcpy(wrap + 140, ts, strlen(ts));
    memcpy(wrap + 140 + tslen, u->plain, u->plain_len);
    st = ms_file_read_memory(&u->pf, wrap, len, NULL, u->err);
    msi_cmsbuf_free(wrap, len);
    if (st != MS_OK) {
        ms_error_prefix(u->err, "decrypted content");
        if (st == MS_EMALFORMED && !u->res.authenticated) /* no tag: likely a wrong key */
            return ms_error_set(u->err, MS_EKEY, "the decrypted content is not a dataset: "
                                "wrong key or changed data");
        return st;
    }
    return MS_OK;
}

/* The single item of (0400,0550), first element of the content (PS3.15 E.1.2). */
static ms_status find_modified(struct unprotect *u)
{
    struct ms_dataset *ds = ms_file_dataset(u->pf);
    struct ms_element *first = ms_dataset_at(ds, 0);
    const struct ms_element *creator = ms_dataset_get(ds, TAG_RECIPE_CREATOR);
    char name[64];

    if (!first || first->tag != TAG_MODIFIED_ATTRS || first->vr != MS_VR_SQ ||
        first->nitems != 1)
        return ms_error_set(u->err, MS_EMALFORMED, "the encrypted content does not hold one "
                            "Modified Attributes Sequence (0400,0550) item");
    u->modified = first->items[0];
    if (creator && ms_element_get_string(creator, 0, name, sizeof name) &&
        strcmp(name, RECIPE_CREATOR) == 0)
        u->recipe = ms_dataset_get(ds, TAG_RECIPE);
    return MS_OK;
}

static ms_status open_content(struct unprotect *u, const char *in)
{
    struct ms_element *seq;
    ms_status st = ms_file_read(&u->d, in, NULL, u->err);
    char ts[80];

    if (st != MS_OK)
        return st;
    seq = ms_dataset_get(u->d->ds, TAG_ENCRYPTED_ATTRS);
    if (!seq || seq->vr != MS_VR_SQ || seq->nitems == 0)
        return ms_error_set(u->err, MS_EUNSUPPORTED, "no Encrypted Attributes Sequence "
                            "(0400,0500) item");
    st = MS_EKEY;
    for (uint32_t i = 0; i < seq->nitems && st != MS_OK; i++) {
        st = decrypt_item(u, seq->items[i], ts, sizeof ts);
        if (st != MS_OK && st != MS_EKEY && st != MS_EUNSUPPORTED)
            return st; /* a broken item: no point in trying others */
    }
    if (st == MS_OK)
        st = parse_plain(u, ts);
    if (st == MS_OK)
        st = find_modified(u);
    return st;
}

static int out_sink(void *ctx, const void *data, size_t len)
{
    struct msi_out *o = ctx;
    msi_out_put(o, data, len);
    return o->failed ? -1 : 0;
}

/* medseal's own output: rebuild the original bytes from the recipe. */
static ms_status rebuild(struct unprotect *u, const char *in, const char *out)
{
    struct msi_deid_layout l;
    const uint8_t *bytes = NULL;
    uint64_t size = 0;
    struct msi_out *o = NULL;
    char tmp[4096];
    int fd = -1;
    ms_status st = msi_map_file(in, &bytes, &size, u->err);

    memset(&l, 0, sizeof l);
    if (st == MS_OK)
        st = msi_deid_layout_make(&l, u->d, size, u->err);
    if (st == MS_OK && !(o = malloc(sizeof *o)))
        st = ms_error_set(u->err, MS_ENOMEM, "out of memory");
    if (st == MS_OK)
        st = msi_atomic_open(out, tmp, sizeof tmp, &fd, u->err);
    if (st == MS_OK) {
        fchmod(fd, 0600); /* identifying data: owner only */
        msi_out_init(o, msi_fd_sink, &fd);
        st = msi_deid_recipe_apply(u->recipe->value, (size_t)u->recipe->length, bytes, &l,
                                   out_sink, o, u->err);
        if (!msi_out_flush(o) && st == MS_OK)
            st = ms_error_set(u->err, MS_EIO, "write failed");
        /* the original appears only when the size and SHA-256 checked */
        ms_status cl = msi_atomic_commit(fd, tmp, out, st == MS_OK, !u->opt->no_fsync,
                                         st == MS_OK ? u->err : NULL);
        if (st == MS_OK)
            st = cl;
    }
    if (o) {
        ms_crypto_wipe(o->buf, sizeof o->buf);
        free(o);
    }
    msi_deid_layout_free(&l);
    if (bytes)
        msi_unmap_file(bytes, size);
    return st;
}

/* ms_file_write(), but the file is readable by its owner only. */
static ms_status write_owner_only(struct ms_file *f, const char *out, bool sync,
                                  struct ms_error *err)
{
    char tmp[4096];
    int fd;
    ms_status st = msi_atomic_open(out, tmp, sizeof tmp, &fd, err);
    if (st != MS_OK)
        return st;
    fchmod(fd, 0600);
    st = ms_file_write_sink(f, msi_fd_sink, &fd, NULL, err);
    if (st != MS_OK) {
        msi_atomic_close(fd, tmp, out, false, NULL);
        return st;
    }
    return msi_atomic_commit(fd, tmp, out, true, sync, err);
}

/* Files from other de-identifiers: move the originals back (PS3.15 E.1.2). */
static ms_status restore(struct unprotect *u, const char *out)
{
    static const uint32_t added[] = {TAG_ENCRYPTED_ATTRS, MS_TAG(0x0012, 0x0062),
                                     MS_TAG(0x0012, 0x0063), MS_TAG(0x0012, 0x0064)};
    struct ms_dataset *ds = u->d->ds;
    char uid[80];
    ms_status st = MS_OK;

    for (size_t k = 0; k < sizeof added / sizeof added[0]; k++)
        ms_dataset_remove(ds, added[k]);
    for (uint32_t i = 0; st == MS_OK && i < u->modified->n; i++)
        if (MS_TAG_GROUP(u->modified->els[i]->tag) != 0x0002) /* never into the dataset */
            st = msi_deid_put_copy(ds, u->modified->els[i], u->err);
    if (st == MS_OK && ms_dataset_get(u->d->meta, TAG_MEDIA_SOP_INSTANCE) &&
        ms_dataset_get_string(ds, TAG_SOP_INSTANCE, 0, uid, sizeof uid))
        st = ms_dataset_set_string(u->d->meta, TAG_MEDIA_SOP_INSTANCE, MS_VR_UI, uid, u->err);
    if (st == MS_OK)
        st = write_owner_only(u->d, out, !u->opt->no_fsync, u->err);
    snprintf(u->rep->note, sizeof u->rep->note, "%s from the Modified Attributes Sequence "
             "(no medseal recipe: not bit-exact)%s", "attributes restored",
             u->res.authenticated ? "" : "; EnvelopedData is not authenticated");
    return st;
}

static ms_status deid_unprotect(const char *in, const char *out,
                                const struct ms_protect_options *opt,
                                struct ms_protect_report *rep, struct ms_error *err)
{
    struct unprotect u;
    struct stat sb;
    ms_status st;

    memset(&u, 0, sizeof u);
    u.opt = opt;
    u.rep = rep;
    u.err = err;
    if (!opt->private_key && !opt->passphrase_file)
        return ms_error_set(err, MS_EUSAGE, "give --key KEY.pem [--cert CERT.pem] or "
                            "--passphrase-file F");
    if (stat(in, &sb) == 0)
        rep->bytes_in = (uint64_t)sb.st_size;
    st = open_content(&u, in);
    if (st == MS_OK)
        st = u.recipe ? rebuild(&u, in, out) : restore(&u, out);
    if (st == MS_OK && stat(out, &sb) == 0)
        rep->bytes_out = (uint64_t)sb.st_size;
    if (st == MS_OK && u.recipe && !u.res.authenticated)
        snprintf(rep->note, sizeof rep->note, "EnvelopedData has no tag: the rebuilt file was "
                 "checked against the SHA-256 inside the encrypted content");
    msi_cmsbuf_free(u.plain, u.plain_len);
    ms_file_destroy(u.pf);
    ms_file_destroy(u.d);
    return st;
}

/* ---- recognition -------------------------------------------------------------------------- */

static bool deid_identify(const char *path, const uint8_t *head, size_t len)
{
    struct ms_read_options ro = {.stop_before_pixels = true, .require_dicm = true};
    struct ms_file *f = NULL;
    struct ms_element *seq;
    bool yes;

    if (len < 132 || memcmp(head + 128, "DICM", 4) != 0)
        return false;
    if (ms_file_read(&f, path, &ro, NULL) != MS_OK)
        return false;
    seq = ms_dataset_get(f->ds, TAG_ENCRYPTED_ATTRS);
    yes = seq && seq->vr == MS_VR_SQ && seq->nitems > 0;
    ms_file_destroy(f);
    return yes;
}

const struct msi_scheme msi_scheme_deid = {
    {"deid", "PS3.15 E.1", "recommended",
     "Basic Application Level Confidentiality Profile; originals in (0400,0500) as CMS",
     "", false},
    deid_protect,
    deid_unprotect,
    deid_identify,
};
