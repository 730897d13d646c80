/* medseal sign / verify-sig: DICOM digital signatures inside the files
 * (PS3.15 Annex C), interoperable with DCMTK's dcmsign. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_outputs.h"
#include "medseal/crypto.h"
#include "medseal/dicom.h"
#include "medseal/dsig.h"
#include "medseal/util.h"

#define MAX_TAGS 4096
#define MAX_TRUST 32
#define PASS_MAX 1024

struct sign_args {
    const char *key, *cert, *out, *pass_file, *dump;
    const char *trust[MAX_TRUST];
    size_t ntrust;
    uint32_t tags[MAX_TAGS];
    size_t ntags;
    char **files;
    int nfiles;
};

static void help_sign(void)
{
    printf("usage: medseal sign --key KEY.pem --cert CERT.pem [--passphrase-file F]\n"
           "                    [--tag TAG]... [--dump-mac FILE] [-o OUT] FILE...\n\n"
           "Adds a DICOM digital signature (PS3.15 Annex C: MAC SHA256, RSA PKCS#1 v1.5 or\n"
           "ECDSA P-256, X.509 certificate) to each file, in place (atomically) unless -o\n"
           "is given; with several files -o is a directory receiving each under its base\n"
           "name (two of the same base name: refused, exit 2). By default every signable\n"
           "top-level element is signed, as dcmsign does.\n"
           "  --tag TAG          sign only these elements (keyword or gggg,eeee; repeat)\n"
           "  --dump-mac FILE    write the bytes fed to the MAC (as dcmsign +d)\n");
}

static void help_verify(void)
{
    printf("usage: medseal verify-sig [--trust CERT.pem]... [--dump-mac FILE] FILE...\n\n"
           "Checks every digital signature in each file and prints, per signature, the\n"
           "signer, UID, time, algorithm and OK or FAILED with the reason.\n"
           "  --trust CERT.pem   the signer certificate must equal or chain to one of these\n"
           "  --dump-mac FILE    write the bytes fed to each MAC\n"
           "Exit: 0 all valid, 1 a signature invalid or no signature, 3 malformed,\n"
           "4 untrusted signer, 5 I/O.\n");
}

/* Options with a value; returns false when name is not one of them. */
static bool value_option(const char *cmd, struct sign_args *a, const char *name,
                         const char *value, int *rc)
{
    uint32_t tag;
    if (!strcmp(name, "--key")) a->key = value;
    else if (!strcmp(name, "--cert")) a->cert = value;
    else if (!strcmp(name, "-o")) a->out = value;
    else if (!strcmp(name, "--passphrase-file")) a->pass_file = value;
    else if (!strcmp(name, "--dump-mac")) a->dump = value;
    else if (!strcmp(name, "--trust") && a->ntrust < MAX_TRUST) a->trust[a->ntrust++] = value;
    else if (!strcmp(name, "--tag") && a->ntags < MAX_TAGS && ms_tag_parse(value, &tag))
        a->tags[a->ntags++] = tag;
    else if (!strcmp(name, "--tag"))
        *rc = cli_usage(cmd, "not a tag or keyword: '%s'", value);
    else return false;
    return true;
}

/* Options anywhere among the files (up to "--"); the files are gathered in
 * order at the front of argv. Returns 0 to go on, -1 after --help, or an
 * exit code. Nothing is read or written before the whole line is parsed. */
static int parse(const char *cmd, int argc, char **argv, struct sign_args *a)
{
    int rc = 0, nfiles = 0;
    bool options = true;
    for (int i = 1; i < argc && rc == 0; i++) {
        if (options && argv[i][0] == '-' && argv[i][1]) {
            if (cli_is_help(argv[i])) {
                strcmp(cmd, "sign") == 0 ? help_sign() : help_verify();
                return -1;
            }
            if (!strcmp(argv[i], "--")) {
                options = false;
                continue;
            }
            if (i + 1 >= argc || !value_option(cmd, a, argv[i], argv[i + 1], &rc))
                return cli_usage(cmd, "unknown option or missing value '%s'", argv[i]);
            i++;
            continue;
        }
        argv[1 + nfiles++] = argv[i]; /* 1 + nfiles <= i: only moves words back */
    }
    if (rc)
        return rc;
    a->files = argv + 1;
    a->nfiles = nfiles;
    return a->nfiles > 0 ? 0 : cli_usage(cmd, "no files given");
}

/* ---- dumping the MAC byte stream --------------------------------------------------------- */

static int file_sink(void *ctx, const void *data, size_t len)
{
    return fwrite(data, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

static FILE *open_dump(const char *path)
{
    FILE *f = path ? fopen(path, "wb") : NULL;
    if (path && !f)
        fprintf(stderr, "medseal: %s: cannot create\n", path);
    return f;
}

/* ---- sign ---------------------------------------------------------------------------------- */

static int load_keys(const struct sign_args *a, struct ms_pkey **key, struct ms_pkey **cert)
{
    struct ms_error err = {0};
    char pass[PASS_MAX];
    size_t pass_len = 0;
    int rc = 0;

    if (a->pass_file &&
        ms_passphrase_read_file(a->pass_file, pass, sizeof pass, &pass_len, &err) != MS_OK)
        return cli_fail(NULL, &err);
    if (ms_pkey_load_private(key, a->key, a->pass_file ? pass : NULL, pass_len, &err) != MS_OK)
        rc = cli_fail(NULL, &err);
    ms_crypto_wipe(pass, sizeof pass);
    if (rc == 0 && ms_pkey_load_public(cert, a->cert, &err) != MS_OK)
        rc = cli_fail(NULL, &err);
    return rc;
}

/* Warn about a certificate that is not valid now: verifiers check it at the
 * signing time (dcmsign even rejects a signature made in the second the
 * certificate starts, "not yet valid at signature creation date"). */
static void check_validity(const char *path)
{
    struct ms_key_info info;
    int64_t now = (int64_t)time(NULL);

    if (cli_quiet || ms_key_inspect(path, NULL, 0, &info, NULL) != MS_OK ||
        info.kind != MS_KEY_CERTIFICATE)
        return;
    if (now > info.not_after_epoch)
        fprintf(stderr, "medseal: warning: %s expired on %s\n", path, info.not_after);
    else if (now <= info.not_before_epoch)
        fprintf(stderr, "medseal: warning: %s is valid from %s only: verifiers (dcmsign) may "
                        "find it not yet valid at the signing time\n", path, info.not_before);
}

/* Where the signed copy of in goes: in itself, OUT, or OUT/basename. */
static char *output_path(const struct sign_args *a, const char *in)
{
    const char *base = strrchr(in, '/');
    size_t n;
    char *p;

    if (!a->out)
        return strdup(in);
    if (a->nfiles == 1 && !ms_is_dir(a->out))
        return strdup(a->out);
    base = base ? base + 1 : in;
    n = strlen(a->out) + strlen(base) + 2;
    p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a->out, base);
    return p;
}

static int sign_one(const struct sign_args *a, const char *in, const struct ms_pkey *key,
                    const struct ms_pkey *cert, FILE *dump)
{
    struct ms_error err = {0};
    struct ms_file *f = NULL;
    struct ms_read_options ro = {0};
    struct ms_dsig_sign_options so = {0};
    char uid[MS_DSIG_UID_LEN];
    char *out = output_path(a, in);
    ms_status st;

    if (!out)
        return 5;
    ro.warn = cli_warn;
    ro.warn_ctx = (void *)in;
    so.tags = a->ntags ? a->tags : NULL;
    so.ntags = a->ntags;
    so.dump = dump ? file_sink : NULL;
    so.dump_ctx = dump;
    st = ms_file_read(&f, in, &ro, &err);
    if (st == MS_OK)
        st = ms_dsig_sign(f, key, cert, &so, uid, &err);
    if (st == MS_OK)
        st = ms_file_write(f, out, NULL, &err);
    if (st == MS_OK && !cli_quiet)
        printf("%s: signed (%s, UID %s)%s%s\n", in, ms_pkey_type_name(ms_pkey_get_type(key)),
               uid, strcmp(in, out) ? " -> " : "", strcmp(in, out) ? out : "");
    ms_file_destroy(f);
    free(out);
    return st == MS_OK ? 0 : cli_fail(in, &err);
}

/* Every file, whatever happens to the others; the highest exit code. */
static int sign_all(const struct sign_args *a, const struct ms_pkey *key,
                    const struct ms_pkey *cert, FILE *dump)
{
    int rc = 0;
    for (int i = 0; i < a->nfiles; i++) {
        int r = sign_one(a, a->files[i], key, cert, dump);
        if (r > rc)
            rc = r;
    }
    return rc;
}

/* With -o, two files of the same base name would be written to one output:
 * refused before anything is written. Returns 0 or the exit code. */
static int check_outputs(const struct sign_args *a)
{
    char **outs;
    int rc = 0, n = 0;

    if (!a->out || a->nfiles < 2)
        return 0;
    if (!(outs = calloc((size_t)a->nfiles, sizeof *outs)))
        return 5;
    while (n < a->nfiles && (outs[n] = output_path(a, a->files[n])) != NULL)
        n++;
    rc = n < a->nfiles ? 5 : cli_outputs_check("sign", a->files, outs, (size_t)n);
    while (n > 0)
        free(outs[--n]);
    free(outs);
    return rc;
}

static int sign_setup(const struct sign_args *a, struct ms_pkey **key, struct ms_pkey **cert,
                      FILE **dump)
{
    struct ms_error err = {0};
    int rc;

    if (!a->key || !a->cert || a->ntrust)
        return cli_usage("sign", "--key and --cert are required (--trust is for verify-sig)");
    if ((rc = check_outputs(a)) != 0)
        return rc;
    if (a->out && a->nfiles > 1 && ms_mkdirs(a->out, &err) != MS_OK)
        return cli_fail(a->out, &err);
    rc = load_keys(a, key, cert);
    if (rc == 0)
        check_validity(a->cert);
    if (rc == 0 && a->dump && !(*dump = open_dump(a->dump)))
        rc = 5;
    return rc;
}

int cmd_sign(int argc, char **argv)
{
    struct sign_args *a = calloc(1, sizeof *a);
    struct ms_pkey *key = NULL, *cert = NULL;
    FILE *dump = NULL;
    int rc = a ? parse("sign", argc, argv, a) : 5;

    if (rc == 0)
        rc = sign_setup(a, &key, &cert, &dump);
    if (rc == 0)
        rc = sign_all(a, key, cert, dump);
    if (dump && fclose(dump) != 0 && rc == 0)
        rc = 5;
    ms_pkey_destroy(key);
    ms_pkey_destroy(cert);
    free(a);
    return rc < 0 ? 0 : rc;
}

/* ---- verify-sig -------------------------------------------------------------------------- */

struct report_ctx {
    const char *path;
    size_t n;
};

static void print_result(void *ctx, const struct ms_dsig_result *r)
{
    struct report_ctx *c = ctx;
    c->n++;
    printf("%s: signature %u (%s): %s%s%s\n", c->path, r->index, r->location,
           r->status == MS_OK ? "OK" : "FAILED", r->status == MS_OK ? "" : ": ", r->reason);
    printf("  signer:    %s\n", r->subject[0] ? r->subject : "-");
    printf("  UID:       %s\n  time:      %s\n", r->uid[0] ? r->uid : "-",
           r->datetime[0] ? r->datetime : "-");
    printf("  algorithm: %s (MAC %s, %zu elements signed", r->algorithm[0] ? r->algorithm : "-",
           r->mac_algorithm[0] ? r->mac_algorithm : "-", r->nsigned);
    if (r->nunsigned)
        printf(", %zu not covered", r->nunsigned);
    printf(")\n  trust:     %s\n",
           r->trust_checked ? (r->status == MS_EKEY ? "not trusted" : "trusted")
                            : "not checked (no --trust)");
}

static int verify_one(const char *path, const struct ms_dsig_verify_options *vo)
{
    struct ms_error err = {0};
    struct ms_file *f = NULL;
    struct ms_read_options ro = {0};
    struct report_ctx rc = {path, 0};
    ms_status st;

    ro.warn = cli_warn;
    ro.warn_ctx = (void *)path;
    st = ms_file_read(&f, path, &ro, &err);
    if (st != MS_OK)
        return cli_fail(path, &err);
    st = ms_dsig_verify(f, vo, print_result, &rc, &err);
    ms_file_destroy(f);
    if (st == MS_ENOTFOUND)
        printf("%s: no digital signature\n", path);
    else if (st != MS_OK && rc.n == 0)
        return cli_fail(path, &err);
    fflush(stdout);
    return ms_status_exit_code(st);
}

static int load_trust(const struct sign_args *a, struct ms_pkey **trust)
{
    struct ms_error err = {0};
    for (size_t i = 0; i < a->ntrust; i++) {
        if (ms_pkey_load_public(&trust[i], a->trust[i], &err) != MS_OK)
            return cli_fail(NULL, &err);
        if (!ms_pkey_has_cert(trust[i])) {
            fprintf(stderr, "medseal: %s: a certificate is needed, not a bare public key\n",
                    a->trust[i]);
            return 4;
        }
    }
    return 0;
}

static int verify_setup(const struct sign_args *a, struct ms_pkey **trust, FILE **dump)
{
    int rc = 0;
    if (a->key || a->cert || a->out || a->ntags || a->pass_file)
        return cli_usage("verify-sig", "only --trust and --dump-mac are options of verify-sig");
    rc = load_trust(a, trust);
    if (rc == 0 && a->dump && !(*dump = open_dump(a->dump)))
        rc = 5;
    return rc;
}

int cmd_verify_sig(int argc, char **argv)
{
    struct sign_args *a = calloc(1, sizeof *a);
    struct ms_pkey *trust[MAX_TRUST] = {0};
    struct ms_dsig_verify_options vo = {0};
    FILE *dump = NULL;
    int rc = a ? parse("verify-sig", argc, argv, a) : 5;

    if (rc == 0)
        rc = verify_setup(a, trust, &dump);
    if (rc == 0) {
        vo.trusted = (const struct ms_pkey *const *)trust;
        vo.ntrusted = a->ntrust;
        vo.dump = dump ? file_sink : NULL;
        vo.dump_ctx = dump;
        for (int i = 0; i < a->nfiles; i++) {
            int r = verify_one(a->files[i], &vo);
            if (r > rc)
                rc = r;
        }
    }
    if (dump)
        fclose(dump);
    for (size_t i = 0; i < MAX_TRUST; i++)
        ms_pkey_destroy(trust[i]);
    free(a);
    return rc < 0 ? 0 : rc;
}

const struct cli_command cli_commands_sign[] = {
    {"sign", cmd_sign, "add a DICOM digital signature (PS3.15 Annex C) to files"},
    {"verify-sig", cmd_verify_sig, "check every DICOM digital signature in files"},
    {NULL, NULL, NULL},
};
