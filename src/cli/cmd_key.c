/* medseal key show|sign|verify: inspect key files (never a secret byte), and
 * sign or verify a file with Ed25519, ECDSA P-256 or RSA-PSS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "medseal/crypto.h"

#define PASS_MAX 1024
#define MSG_MAX ((size_t)1 << 30)

static void help(void)
{
    printf("usage: medseal key show [--passphrase-file F] FILE...\n"
           "       medseal key sign --key PRIVATE [--passphrase-file F] -o SIG FILE\n"
           "       medseal key verify --key PUBLIC|CERT --sig SIG FILE\n\n"
           "show    what each key file is: kind, algorithm, size, public-key fingerprint\n"
           "        (SHA-256 of the SubjectPublicKeyInfo, hex), certificate subject, issuer\n"
           "        and validity, a symmetric key's check value. Never a secret byte.\n"
           "        --passphrase-file F unlocks encrypted private keys.\n"
           "sign    sign FILE: Ed25519 (pure), ECDSA P-256 with SHA-256 (DER) or RSA-PSS\n"
           "        with SHA-256 (32-byte salt); the raw signature goes to SIG.\n"
           "verify  check SIG over FILE with a public key or certificate; exit 4 when it\n"
           "        does not verify.\n");
}

/* ---- key show ------------------------------------------------------------------ */

static const char *kind_text(const struct ms_key_info *in)
{
    switch (in->kind) {
    case MS_KEY_SYMMETRIC:
        return in->keyfile_format == MS_KEYFILE_RAW ? "symmetric key (32 raw bytes)"
                                                    : "symmetric key (medseal-key v1 text)";
    case MS_KEY_PRIVATE:
        return in->encrypted ? "private key (encrypted, unlocked)" : "private key (not encrypted)";
    case MS_KEY_PRIVATE_LOCKED:
        return "private key (encrypted)";
    case MS_KEY_PUBLIC:
        return "public key";
    case MS_KEY_CERTIFICATE:
        return in->self_signed ? "X.509 certificate (self-signed)" : "X.509 certificate";
    }
    return "unknown";
}

static void print_cert(const struct ms_key_info *in)
{
    time_t now = time(NULL);
    const char *state = now < in->not_before_epoch  ? " (not yet valid)"
                        : now > in->not_after_epoch ? " (expired)"
                                                    : "";
    printf("  subject:      %s\n", in->subject);
    printf("  issuer:       %s\n", in->issuer);
    printf("  serial:       %s\n", in->serial);
    printf("  not before:   %s\n", in->not_before);
    printf("  not after:    %s%s\n", in->not_after, state);
}

static void print_info(const char *path, const struct ms_key_info *in)
{
    struct stat st;

    printf("%s\n  kind:         %s\n", path, kind_text(in));
    if (in->kind == MS_KEY_PRIVATE_LOCKED) {
        printf("  protection:   %s\n", in->protection[0] ? in->protection : "unknown");
        printf("  note:         give --passphrase-file to see its algorithm and fingerprint\n");
    }
    if (in->kind == MS_KEY_CERTIFICATE)
        print_cert(in);
    if (in->algorithm[0])
        printf("  algorithm:    %s\n", in->algorithm);
    if (in->bits)
        printf("  size:         %u bits (%u-bit security)\n", in->bits, in->security_bits);
    if (in->fingerprint[0])
        printf("  fingerprint:  %s\n", in->fingerprint);
    if (in->check[0])
        printf("  check:        %s\n", in->check);
    if (in->kind == MS_KEY_SYMMETRIC || in->kind == MS_KEY_PRIVATE ||
        in->kind == MS_KEY_PRIVATE_LOCKED) {
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
            printf("  warning:      readable by other users (mode %03o): chmod 600 %s\n",
                   (unsigned)(st.st_mode & 0777), path);
    }
}

static int key_show(int argc, char **argv)
{
    char pass[PASS_MAX];
    size_t pass_len = 0;
    const char *pass_file = NULL;
    int i, rc = 0, nfiles = 0;

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        } else if (strcmp(argv[i], "--passphrase-file") == 0 && i + 1 < argc) {
            pass_file = argv[++i];
        } else {
            return cli_usage("key show", "unknown option or missing value '%s'", argv[i]);
        }
    }
    if (i >= argc)
        return cli_usage("key show", "no key file given");
    if (pass_file) {
        struct ms_error err = {0};
        if (ms_passphrase_read_file(pass_file, pass, sizeof pass, &pass_len, &err) != MS_OK)
            return cli_fail(NULL, &err);
    }
    for (; i < argc; i++, nfiles++) {
        struct ms_error err = {0};
        struct ms_key_info info;
        if (nfiles)
            printf("\n");
        if (ms_key_inspect(argv[i], pass_file ? pass : NULL, pass_len, &info, &err) != MS_OK) {
            int e = cli_fail(NULL, &err);
            rc = e > rc ? e : rc;
            continue;
        }
        print_info(argv[i], &info);
    }
    ms_crypto_wipe(pass, sizeof pass);
    return rc;
}

/* ---- key sign / key verify ------------------------------------------------------- */

/* Whole file (at most max bytes) into a new buffer (caller frees). Returns an
 * exit code. */
static int slurp(const char *path, size_t max, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = max + 1 < 65536 ? max + 1 : 65536, n = 0;
    uint8_t *buf = NULL, *nb;
    int rc = 0;

    *data = NULL;
    if (!f) {
        fprintf(stderr, "medseal: %s: cannot open: %s\n", path, strerror(errno));
        return 5;
    }
    for (;;) {
        nb = realloc(buf, cap);
        if (!nb) {
            fprintf(stderr, "medseal: %s: out of memory\n", path);
            rc = 5;
            break;
        }
        buf = nb;
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (cap > max) {
            fprintf(stderr, "medseal: %s: larger than %zu bytes\n", path, max);
            rc = 3;
            break;
        }
        cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "medseal: %s: cannot read\n", path);
        rc = 5;
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* Write data to path via a temporary file and rename: never a partial file. */
static int write_out(const char *path, const uint8_t *data, size_t len)
{
    char tmp[4096];
    FILE *f;
    bool ok;

    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return cli_usage("key sign", "output path too long");
    f = fopen(tmp, "wb");
    ok = f && fwrite(data, 1, len, f) == len;
    ok = f && fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "medseal: %s: cannot write: %s\n", path, strerror(errno));
        unlink(tmp);
        return 5;
    }
    return 0;
}

struct sig_args {
    const char *key, *pass_file, *out, *sig, *file;
};

static int parse_sig_args(const char *cmd, int argc, char **argv, struct sig_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char **slot = strcmp(o, "--key") == 0               ? &a->key
                            : strcmp(o, "--passphrase-file") == 0 ? &a->pass_file
                            : strcmp(o, "-o") == 0                ? &a->out
                            : strcmp(o, "--sig") == 0             ? &a->sig
                                                                  : NULL;
        if (cli_is_help(o)) {
            help();
            return -1;
        }
        if (slot && i + 1 < argc)
            *slot = argv[++i];
        else if (o[0] != '-' && !a->file)
            a->file = o;
        else
            return cli_usage(cmd, "unknown option, missing value or extra file '%s'", o);
    }
    if (!a->key || !a->file)
        return cli_usage(cmd, "--key and a FILE are required");
    return 0;
}

static int key_sign(int argc, char **argv)
{
    struct sig_args a = {0};
    struct ms_error err = {0};
    struct ms_pkey *k = NULL;
    char pass[PASS_MAX];
    size_t pass_len = 0, len = 0, sig_len = 0;
    uint8_t *msg = NULL, sig[MS_SIG_MAX_LEN];
    int rc = parse_sig_args("key sign", argc, argv, &a);

    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.out || a.sig)
        return cli_usage("key sign", "-o SIG is required (--sig is for verify)");
    if (a.pass_file && ms_passphrase_read_file(a.pass_file, pass, sizeof pass, &pass_len, &err))
        return cli_fail(NULL, &err);
    if (ms_pkey_load_private(&k, a.key, a.pass_file ? pass : NULL, pass_len, &err) != MS_OK)
        rc = cli_fail(NULL, &err);
    ms_crypto_wipe(pass, sizeof pass);
    if (rc == 0)
        rc = slurp(a.file, MSG_MAX, &msg, &len);
    if (rc == 0 && ms_pkey_sign(k, msg, len, sig, sizeof sig, &sig_len, &err) != MS_OK)
        rc = cli_fail(a.file, &err);
    if (rc == 0)
        rc = write_out(a.out, sig, sig_len);
    if (rc == 0)
        printf("signed %s with %s: %zu-byte signature in %s\n", a.file,
               ms_pkey_type_name(ms_pkey_get_type(k)), sig_len, a.out);
    free(msg);
    ms_pkey_destroy(k);
    return rc;
}

static int key_verify(int argc, char **argv)
{
    struct sig_args a = {0};
    struct ms_error err = {0};
    struct ms_pkey *k = NULL;
    uint8_t *msg = NULL, *sig = NULL;
    size_t len = 0, sig_len = 0;
    char fp[MS_FINGERPRINT_HEX_LEN];
    int rc = parse_sig_args("key verify", argc, argv, &a);

    if (rc)
        return rc < 0 ? 0 : rc;
    if (!a.sig || a.out || a.pass_file)
        return cli_usage("key verify", "--sig SIG is required; -o and --passphrase-file are not "
                                       "used");
    if (ms_pkey_load_public(&k, a.key, &err) != MS_OK)
        return cli_fail(NULL, &err);
    rc = slurp(a.sig, MS_SIG_MAX_LEN, &sig, &sig_len);
    if (rc == 0)
        rc = slurp(a.file, MSG_MAX, &msg, &len);
    if (rc == 0 && ms_pkey_verify(k, msg, len, sig, sig_len, &err) != MS_OK)
        rc = cli_fail(a.file, &err);
    if (rc == 0 && ms_pkey_fingerprint_hex(k, fp, &err) == MS_OK)
        printf("%s: signature OK (%s, key fingerprint %s)\n", a.file,
               ms_pkey_type_name(ms_pkey_get_type(k)), fp);
    free(msg);
    free(sig);
    ms_pkey_destroy(k);
    return rc;
}

int cmd_key(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("key", "show, sign or verify?");
    if (cli_is_help(argv[1])) {
        help();
        return 0;
    }
    if (strcmp(argv[1], "show") == 0)
        return key_show(argc - 1, argv + 1);
    if (strcmp(argv[1], "sign") == 0)
        return key_sign(argc - 1, argv + 1);
    if (strcmp(argv[1], "verify") == 0)
        return key_verify(argc - 1, argv + 1);
    return cli_usage("key", "unknown subcommand '%s' (show, sign, verify)", argv[1]);
}

const struct cli_command cli_commands_key[] = {
    {"key", cmd_key, "show key files (never secret bytes); sign or verify a file"},
    {NULL, NULL, NULL},
};
