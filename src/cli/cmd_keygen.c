/* medseal keygen: key pairs with optional self-signed certificates, and
 * symmetric key files. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "medseal/crypto.h"

#define PASS_MAX 1024
#define PATH_MAX_LEN 4096

static void help(void)
{
    printf("usage: medseal keygen --type TYPE [--cn NAME] [--days N] [--cert|--no-cert]\n"
           "                      [--passphrase-file F] [--force] -o PREFIX\n"
           "       medseal keygen --symmetric [--raw] [--force] -o FILE\n\n"
           "Key pairs (--type):\n"
           "  rsa3072      RSA-3072 key and self-signed certificate (receives encrypted files)\n"
           "  p256         EC P-256 key and self-signed certificate (receives encrypted files)\n"
           "  ed25519      Ed25519 signing key pair\n"
           "  ecdsa-p256   ECDSA P-256 signing key pair\n"
           "Writes PREFIX.key.pem (private key, PKCS#8 PEM, mode 0600), PREFIX.pub.pem\n"
           "(public key) and, for rsa3072 and p256 or with --cert, PREFIX.cert.pem.\n"
           "  --cn NAME            certificate subject common name (default \"medseal\")\n"
           "  --days N             certificate validity in days (default 365)\n"
           "  --cert, --no-cert    write a certificate, or not\n"
           "  --passphrase-file F  encrypt the private key with the first line of F\n"
           "                       (encrypted PKCS#8: scrypt + AES-256-CBC)\n"
           "Symmetric keys:\n"
           "  --symmetric          a random AES-256 key for -k, in FILE (medseal-key v1 text\n"
           "                       with a check value, mode 0600)\n"
           "  --raw                with --symmetric: 32 raw bytes instead\n"
           "  --force              replace existing files\n");
}

struct keygen_type {
    const char *name;
    ms_pkey_type type;
    unsigned bits;
    bool cert; /* certificate by default */
};

/* Aliases first, then the documented names. */
static const struct keygen_type types[] = {
    {"rsa3072", MS_PKEY_RSA, 3072, true},      {"rsa", MS_PKEY_RSA, 3072, true},
    {"p256", MS_PKEY_P256, 0, true},           {"ec-p256", MS_PKEY_P256, 0, true},
    {"ed25519", MS_PKEY_ED25519, 0, false},    {"ecdsa-p256", MS_PKEY_P256, 0, false},
    {NULL, MS_PKEY_UNKNOWN, 0, false},
};

struct keygen_args {
    const struct keygen_type *type;
    const char *out, *cn, *pass_file;
    unsigned days;
    int cert; /* -1 default, 0 no, 1 yes */
    bool symmetric, raw, force;
};

static const struct keygen_type *find_type(const char *name)
{
    for (const struct keygen_type *t = types; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

enum opt_kind { OPT_FLAG, OPT_STR, OPT_TYPE, OPT_DAYS, OPT_CERT, OPT_NO_CERT };

/* The options: a flag sets a bool, the others take the next argument. */
static const struct keygen_opt {
    const char *name, *alias;
    enum opt_kind kind;
    size_t off; /* of the bool or string in struct keygen_args */
} opts[] = {
    {"--symmetric", NULL, OPT_FLAG, offsetof(struct keygen_args, symmetric)},
    {"--raw", NULL, OPT_FLAG, offsetof(struct keygen_args, raw)},
    {"--force", NULL, OPT_FLAG, offsetof(struct keygen_args, force)},
    {"--cert", NULL, OPT_CERT, 0},
    {"--no-cert", NULL, OPT_NO_CERT, 0},
    {"--type", "-t", OPT_TYPE, 0},
    {"--days", NULL, OPT_DAYS, 0},
    {"--cn", NULL, OPT_STR, offsetof(struct keygen_args, cn)},
    {"--passphrase-file", NULL, OPT_STR, offsetof(struct keygen_args, pass_file)},
    {"-o", "--out", OPT_STR, offsetof(struct keygen_args, out)},
};

static const struct keygen_opt *find_opt(const char *arg)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strcmp(arg, opts[i].name) == 0 || (opts[i].alias && strcmp(arg, opts[i].alias) == 0))
            return &opts[i];
    return NULL;
}

static int parse_days(const char *v, struct keygen_args *a)
{
    char *end;
    unsigned long d = strtoul(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || d == 0 || d > 36500)
        return cli_usage("keygen", "--days wants a number of days in 1..36500");
    a->days = (unsigned)d;
    return 0;
}

static int parse_option(int argc, char **argv, int *i, struct keygen_args *a)
{
    const struct keygen_opt *o = find_opt(argv[*i]);
    const char *v = NULL;

    if (!o)
        return cli_usage("keygen", "unknown option '%s'", argv[*i]);
    if (o->kind == OPT_FLAG || o->kind == OPT_CERT || o->kind == OPT_NO_CERT) {
        if (o->kind == OPT_FLAG)
            *(bool *)((char *)a + o->off) = true;
        else
            a->cert = o->kind == OPT_CERT;
        return 0;
    }
    if (*i + 1 >= argc)
        return cli_usage("keygen", "%s needs a value", argv[*i]);
    v = argv[++*i];
    if (o->kind == OPT_DAYS)
        return parse_days(v, a);
    if (o->kind == OPT_STR) {
        *(const char **)((char *)a + o->off) = v;
        return 0;
    }
    a->type = find_type(v);
    if (!a->type)
        return cli_usage("keygen", "unknown --type '%s' (rsa3072, p256, ed25519, ecdsa-p256)", v);
    return 0;
}

static int check_args(const struct keygen_args *a)
{
    if (!a->out)
        return cli_usage("keygen", "-o PREFIX (or -o FILE with --symmetric) is required");
    if (a->symmetric && a->type)
        return cli_usage("keygen", "--symmetric and --type exclude each other");
    if (!a->symmetric && !a->type)
        return cli_usage("keygen", "give --type rsa3072|p256|ed25519|ecdsa-p256, or --symmetric");
    if (a->symmetric && a->pass_file)
        return cli_usage("keygen", "--passphrase-file protects private keys, not --symmetric");
    if (a->raw && !a->symmetric)
        return cli_usage("keygen", "--raw goes with --symmetric");
    if (!a->symmetric && strlen(a->out) + 16 > PATH_MAX_LEN)
        return cli_usage("keygen", "-o PREFIX is too long");
    return 0;
}

/* Refuse to replace path unless --force. */
static bool may_write(const char *path, bool force)
{
    if (!force && access(path, F_OK) == 0) {
        fprintf(stderr, "medseal keygen: %s exists (use --force to replace it)\n", path);
        return false;
    }
    return true;
}

static int keygen_symmetric(const struct keygen_args *a)
{
    struct ms_error err = {0};
    uint8_t key[MS_AES256_KEY_LEN], check[MS_KEY_CHECK_LEN];
    ms_keyfile_format fmt = a->raw ? MS_KEYFILE_RAW : MS_KEYFILE_TEXT;
    ms_status st;

    if (!may_write(a->out, a->force))
        return 2;
    st = ms_random_bytes(key, sizeof key, &err);
    if (st == MS_OK)
        st = ms_key_check_value(key, check, &err);
    if (st == MS_OK)
        st = ms_keyfile_write(a->out, key, fmt, &err);
    ms_crypto_wipe(key, sizeof key);
    if (st != MS_OK)
        return cli_fail(a->out, &err);
    printf("wrote %s (AES-256 key, %s, mode 0600)\ncheck: ", a->out,
           a->raw ? "32 raw bytes" : "medseal-key v1 text");
    for (size_t i = 0; i < sizeof check; i++)
        printf("%02x", check[i]);
    printf("\n");
    return 0;
}

struct outputs {
    char priv[PATH_MAX_LEN], pub[PATH_MAX_LEN], cert[PATH_MAX_LEN];
    bool want_cert;
};

static ms_status write_pair(const struct ms_pkey *k, const struct outputs *o, const char *pass,
                            size_t pass_len, struct ms_error *err)
{
    ms_status st = ms_pkey_write_private(k, o->priv, pass, pass_len, err);
    if (st == MS_OK)
        st = ms_pkey_write_public(k, o->pub, err);
    if (st == MS_OK && o->want_cert)
        st = ms_pkey_write_cert(k, o->cert, err);
    if (st != MS_OK) { /* no half-written key set */
        unlink(o->priv);
        unlink(o->pub);
        if (o->want_cert)
            unlink(o->cert);
    }
    return st;
}

static void report_pair(const struct keygen_args *a, const struct ms_pkey *k,
                        const struct outputs *o, bool encrypted)
{
    char fp[MS_FINGERPRINT_HEX_LEN];

    printf("wrote %s (%s private key, PKCS#8%s, mode 0600)\n", o->priv,
           ms_pkey_type_name(ms_pkey_get_type(k)), encrypted ? ", encrypted" : "");
    printf("wrote %s (public key)\n", o->pub);
    if (o->want_cert)
        printf("wrote %s (self-signed certificate, CN=%s, %u days)\n", o->cert,
               a->cn ? a->cn : "medseal", a->days ? a->days : 365);
    if (ms_pkey_fingerprint_hex(k, fp, NULL) == MS_OK)
        printf("fingerprint: %s\n", fp);
}

/* Output names from the prefix; false (after a message) when one exists. */
static bool plan_outputs(const struct keygen_args *a, struct outputs *o)
{
    snprintf(o->priv, sizeof o->priv, "%s.key.pem", a->out);
    snprintf(o->pub, sizeof o->pub, "%s.pub.pem", a->out);
    snprintf(o->cert, sizeof o->cert, "%s.cert.pem", a->out);
    o->want_cert = a->cert < 0 ? a->type->cert : a->cert == 1;
    return may_write(o->priv, a->force) && may_write(o->pub, a->force) &&
           (!o->want_cert || may_write(o->cert, a->force));
}

static int keygen_pair(const struct keygen_args *a)
{
    struct ms_error err = {0};
    struct ms_pkey *k = NULL;
    struct outputs o;
    char pass[PASS_MAX];
    size_t pass_len = 0;
    ms_status st = MS_OK;

    if (!plan_outputs(a, &o))
        return 2;
    if (a->pass_file)
        st = ms_passphrase_read_file(a->pass_file, pass, sizeof pass, &pass_len, &err);
    if (st == MS_OK)
        st = ms_pkey_generate(&k, a->type->type, a->type->bits, &err);
    if (st == MS_OK && o.want_cert)
        st = ms_pkey_make_self_signed(k, a->cn ? a->cn : "medseal", a->days ? a->days : 365,
                                      &err);
    if (st == MS_OK)
        st = write_pair(k, &o, a->pass_file ? pass : NULL, pass_len, &err);
    ms_crypto_wipe(pass, sizeof pass);
    if (st == MS_OK)
        report_pair(a, k, &o, a->pass_file != NULL);
    ms_pkey_destroy(k);
    return st == MS_OK ? 0 : cli_fail(NULL, &err);
}

int cmd_keygen(int argc, char **argv)
{
    struct keygen_args a = {0};
    int rc;

    a.cert = -1;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        }
        rc = parse_option(argc, argv, &i, &a);
        if (rc)
            return rc;
    }
    rc = check_args(&a);
    if (rc)
        return rc;
    if ((a.cn || a.days) && !a.symmetric && !(a.cert < 0 ? a.type->cert : a.cert == 1))
        fprintf(stderr, "medseal keygen: note: --cn/--days apply to certificates; none is "
                        "written (add --cert)\n");
    return a.symmetric ? keygen_symmetric(&a) : keygen_pair(&a);
}

const struct cli_command cli_commands_keygen[] = {
    {"keygen", cmd_keygen, "make key pairs, certificates and symmetric key files"},
    {NULL, NULL, NULL},
};
