/* The CMS key objects of a run: the recipient set, the signer and the keyring
 * that the protect options name, built once and shared by every file and
 * thread of a run (`medseal protect DIR` loads a key, runs scrypt for an
 * encrypted key and Argon2id for a passphrase once, not per file). Used by
 * the `cms` and `deid` schemes.
 *
 * They are kept for as long as the options and the files they name stay the
 * same: the identity of a run is the option values plus, for every file, its
 * device, inode, size and modification time, so that a library caller that
 * reuses one options struct with other values, or replaces a certificate in
 * place, never gets stale objects. References are counted: a run that starts
 * while another still uses its objects does not free them under it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "medseal/cms.h"
#include "protect/scheme.h"

struct msi_run_keys_impl {
    struct msi_run_keys pub;     /* first member: what users see */
    struct ms_cms_recipients *recipients; /* owned; pub has read-only views */
    struct ms_cms_signer *signer;
    struct ms_cms_keyring *keyring;
    char *id;            /* identity (see above) */
    size_t id_len;
    unsigned refs;       /* the current slot holds one, every user one */
    unsigned tried;      /* enum msi_run_need bits already built or failed */
    ms_status st[3];     /* outcome per object, and its message */
    struct ms_error err[3];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct msi_run_keys_impl *current;
static bool exit_registered;

/* ---- identity -------------------------------------------------------------------------- */

static void put_path(FILE *f, const char *name, const char *path)
{
    struct stat sb;
    if (!path)
        return;
    memset(&sb, 0, sizeof sb);
    if (stat(path, &sb) != 0)
        sb.st_ino = 0; /* a missing file: its error is what the build reports */
    fprintf(f, "%s=%s%c%ju:%ju:%jd:%jd.%ld;", name, path, 0, (uintmax_t)sb.st_dev,
            (uintmax_t)sb.st_ino, (intmax_t)sb.st_size, (intmax_t)sb.st_mtim.tv_sec,
            (long)sb.st_mtim.tv_nsec);
}

/* A byte string that differs whenever what the objects are built from does. */
static char *identity(const struct ms_protect_options *o, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < o->nrecipients; i++)
        put_path(f, "to", o->recipients[i]);
    put_path(f, "passphrase", o->passphrase_file);
    put_path(f, "key", o->private_key);
    put_path(f, "cert", o->certificate);
    put_path(f, "key-passphrase", o->key_passphrase_file);
    put_path(f, "sign-key", o->sign_key);
    put_path(f, "sign-cert", o->sign_cert);
    put_path(f, "trust", o->trust);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- building ---------------------------------------------------------------------------- */

static ms_status build_recipients(const struct ms_protect_options *o,
                                  struct ms_cms_recipients **out, struct ms_error *err)
{
    ms_status st = ms_cms_recipients_create(out, err);
    for (size_t i = 0; st == MS_OK && i < o->nrecipients; i++)
        st = ms_cms_recipients_add_cert_file(*out, o->recipients[i], err);
    if (st == MS_OK && o->passphrase_file)
        st = ms_cms_recipients_add_passphrase_file(*out, o->passphrase_file, NULL, err);
    return st;
}

static ms_status build_signer(const struct ms_protect_options *o, struct ms_cms_signer **out,
                              struct ms_error *err)
{
    if (!o->sign_key || !o->sign_cert)
        return ms_error_set(err, MS_EUSAGE, "signing needs --sign-key and --sign-cert");
    return ms_cms_signer_create(out, o->sign_key, o->sign_cert, o->key_passphrase_file, err);
}

static ms_status build_keyring(const struct ms_protect_options *o, struct ms_cms_keyring **out,
                               struct ms_error *err)
{
    ms_status st = ms_cms_keyring_create(out, err);
    if (st == MS_OK && o->private_key)
        st = ms_cms_keyring_add_key_file(*out, o->private_key, o->certificate,
                                         o->key_passphrase_file, err);
    if (st == MS_OK && o->passphrase_file)
        st = ms_cms_keyring_add_passphrase_file(*out, o->passphrase_file, err);
    if (st == MS_OK && o->trust) /* the trusted signer of --strict-dicom files */
        st = ms_cms_keyring_add_trusted_file(*out, o->trust, err);
    return st;
}

/* Build the objects of need that k has not tried yet (under the lock). */
static void build(struct msi_run_keys_impl *k, const struct ms_protect_options *o, unsigned need)
{
    if ((need & MSI_RUN_RECIPIENTS) && !(k->tried & MSI_RUN_RECIPIENTS))
        k->st[0] = build_recipients(o, &k->recipients, &k->err[0]);
    if ((need & MSI_RUN_SIGNER) && !(k->tried & MSI_RUN_SIGNER))
        k->st[1] = build_signer(o, &k->signer, &k->err[1]);
    if ((need & MSI_RUN_KEYRING) && !(k->tried & MSI_RUN_KEYRING))
        k->st[2] = build_keyring(o, &k->keyring, &k->err[2]);
    k->tried |= need;
    k->pub.recipients = k->recipients;
    k->pub.signer = k->signer;
    k->pub.keyring = k->keyring;
}

static void destroy(struct msi_run_keys_impl *k)
{
    ms_cms_recipients_destroy(k->recipients);
    ms_cms_signer_destroy(k->signer);
    ms_cms_keyring_destroy(k->keyring);
    free(k->id);
    free(k);
}

/* Drop one reference (under the lock). */
static void unref(struct msi_run_keys_impl *k)
{
    if (k && --k->refs == 0)
        destroy(k);
}

static void drop_current_at_exit(void)
{
    pthread_mutex_lock(&lock);
    unref(current);
    current = NULL;
    pthread_mutex_unlock(&lock);
}

/* The objects for identity id (taking it over), new ones if it differs from
 * the current identity. NULL when out of memory. */
static struct msi_run_keys_impl *lookup(char *id, size_t id_len)
{
    struct msi_run_keys_impl *k;
    if (current && current->id_len == id_len && memcmp(current->id, id, id_len) == 0) {
        free(id);
        return current;
    }
    k = calloc(1, sizeof *k);
    if (!k) {
        free(id);
        return NULL;
    }
    k->id = id;
    k->id_len = id_len;
    k->refs = 1; /* the current slot's */
    unref(current);
    current = k;
    if (!exit_registered)
        exit_registered = atexit(drop_current_at_exit) == 0;
    return k;
}

ms_status msi_run_keys_get(const struct ms_protect_options *o, unsigned need,
                           const struct msi_run_keys **out, struct ms_error *err)
{
    size_t id_len = 0;
    char *id = identity(o, &id_len);
    struct msi_run_keys_impl *k;
    ms_status st = MS_OK;

    *out = NULL;
    if (!id)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    pthread_mutex_lock(&lock);
    k = lookup(id, id_len);
    if (k) {
        build(k, o, need);
        for (int i = 0; i < 3 && st == MS_OK; i++)
            if ((need & (1u << i)) && k->st[i] != MS_OK) {
                st = k->st[i];
                if (err)
                    *err = k->err[i];
            }
        if (st == MS_OK) {
            k->refs++;
            *out = &k->pub;
        }
    } else {
        st = ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    pthread_mutex_unlock(&lock);
    return st;
}

void msi_run_keys_release(const struct msi_run_keys *keys)
{
    if (!keys)
        return;
    pthread_mutex_lock(&lock);
    unref((struct msi_run_keys_impl *)(void *)keys); /* pub is the first member */
    pthread_mutex_unlock(&lock);
}
