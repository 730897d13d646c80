/* medseal seal: one signed seal for a study (docs/seal.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "medseal/crypto.h"
#include "medseal/seal.h"

struct seal_args {
    struct cli_study study; /* first: see struct cli_study */
    const char *key_file, *sign_key, *pass_file, *out;
    unsigned views, grid;
};

static void help(void)
{
    printf("usage: medseal seal DIR... -k KEYFILE --sign KEY.pem -o STUDY.seal\n"
           "                   [--view ap|lr|si|all[,...]] [--grid 4|8] [--passphrase-file F]\n"
           "                   [--threads N]\n\n"
           "Writes one seal for the study: every file's SHA-256 and, per DICOM instance, its\n"
           "SOP Instance UID, SOP Class, position and the SHA-256 of its Pixel Data (or of\n"
           "its dataset); a Merkle root; per 3D volume the DRR fingerprint (seed 000): the\n"
           "DRR cut into a 4x4 (or --grid 8) grid in zig-zag order, every block AES-256-GCM\n"
           "under a key derived from k; and an Ed25519 or ECDSA P-256 signature.\n"
           "KEYFILE holds k (32 raw bytes, e.g. `openssl rand -out k.bin 32`, or medseal's\n"
           "text key file); KEY.pem is an Ed25519 or EC P-256 private key. --view: ap\n"
           "(default, as the paper), lr, si, or all. See docs/seal.md and docs/formats/seal.md.\n");
}

/* "ap", "lr,si", "all" into view bits. */
static bool parse_views(const char *text, unsigned *views)
{
    char buf[64], *save = NULL;
    *views = 0;
    if (strlen(text) >= sizeof buf)
        return false;
    strcpy(buf, text);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        ms_drr_view v;
        if (!strcmp(t, "all"))
            *views |= (1u << MS_DRR_VIEW_COUNT) - 1;
        else if (ms_drr_view_parse(t, &v))
            *views |= 1u << v;
        else
            return false;
    }
    return *views != 0;
}

static int opt_key(void *p, char **v) { ((struct seal_args *)p)->key_file = v[0]; return -1; }
static int opt_sign(void *p, char **v) { ((struct seal_args *)p)->sign_key = v[0]; return -1; }
static int opt_pass(void *p, char **v) { ((struct seal_args *)p)->pass_file = v[0]; return -1; }
static int opt_out(void *p, char **v) { ((struct seal_args *)p)->out = v[0]; return -1; }

static int opt_view(void *p, char **v)
{
    return parse_views(v[0], &((struct seal_args *)p)->views)
               ? -1 : cli_usage("seal", "--view takes ap, lr, si or all (comma-separated)");
}

static int opt_grid(void *p, char **v)
{
    struct seal_args *a = p;
    a->grid = (unsigned)strtoul(v[0], NULL, 10);
    return a->grid == 4 || a->grid == 8 ? -1
                                        : cli_usage("seal", "--grid is 4 (16 blocks) or 8 (64 blocks)");
}

static const struct cli_option options[] = {
    {"-k", "--key-file", 1, opt_key},   {"--sign", NULL, 1, opt_sign},
    {"--passphrase-file", NULL, 1, opt_pass}, {"-o", NULL, 1, opt_out},
    {"--view", NULL, 1, opt_view},      {"--grid", NULL, 1, opt_grid},
    {"--threads", NULL, 1, cli_study_threads},
};

static int parse(int argc, char **argv, struct seal_args *a)
{
    int rc;
    memset(a, 0, sizeof *a);
    a->study.cmd = "seal";
    rc = cli_parse_options("seal", argc, argv, options, sizeof options / sizeof *options, a,
                           cli_study_input, help);
    if (rc >= 0)
        return rc ? rc : -1;
    if (!a->study.ninputs)
        return cli_usage("seal", "no input directory");
    if (!a->key_file || !a->sign_key || !a->out)
        return cli_usage("seal", "-k KEYFILE, --sign KEY.pem and -o STUDY.seal are required");
    return 0;
}

static ms_status load_signer(const struct seal_args *a, struct ms_pkey **k, struct ms_error *err)
{
    char pass[1024];
    size_t plen = 0;
    ms_status st = MS_OK;
    if (a->pass_file)
        st = ms_passphrase_read_file(a->pass_file, pass, sizeof pass, &plen, err);
    if (st == MS_OK)
        st = ms_pkey_load_private(k, a->sign_key, plen ? pass : NULL, plen, err);
    ms_crypto_wipe(pass, sizeof pass);
    return st;
}

static void print_summary(const struct seal_args *a, const struct ms_seal_summary *s)
{
    char root[2 * MS_SHA256_LEN + 1];
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < MS_SHA256_LEN; i++) {
        root[2 * i] = hex[s->merkle_root[i] >> 4];
        root[2 * i + 1] = hex[s->merkle_root[i] & 15];
    }
    root[2 * MS_SHA256_LEN] = '\0';
    printf("%s: %zu files (%zu DICOM instances, %.1f MiB), %zu volume%s, %zu DRR blocks\n"
           "merkle root %s\nsigned %s by %s\n",
           a->out, s->files, s->instances, (double)s->bytes / 1048576.0, s->volumes,
           s->volumes == 1 ? "" : "s", s->blocks, root, s->algorithm, s->signer);
}

static void warn_unprojected(const struct ms_seal_summary *s)
{
    if (s->unprojected)
        fprintf(stderr,
                "medseal: warning: %zu volume%s without a DRR fingerprint (a slice beyond "
                "+-32767 after rescale, or not decodable); %s files are sealed by their "
                "hashes\n",
                s->unprojected, s->unprojected == 1 ? "" : "s",
                s->unprojected == 1 ? "its" : "their");
}

static int cmd_seal(int argc, char **argv)
{
    struct seal_args a;
    struct ms_study_options so = {0};
    struct ms_seal_options opt = {0};
    struct ms_seal_summary sum;
    struct ms_study *s = NULL;
    struct ms_pkey *signer = NULL;
    struct ms_error err = {0};
    uint8_t key[MS_AES256_KEY_LEN];
    int rc = parse(argc, argv, &a);
    ms_status st;

    if (rc)
        return rc < 0 ? 0 : rc;
    st = ms_keyfile_read(a.key_file, key, NULL, &err);
    if (st != MS_OK)
        return cli_fail(NULL, &err);
    st = load_signer(&a, &signer, &err);
    so.exclude = a.out;
    so.threads = a.study.threads;
    so.progress = !cli_quiet;
    if (st == MS_OK)
        st = ms_study_scan(&s, a.study.inputs, a.study.ninputs, &so, &err);
    opt = (struct ms_seal_options){key, signer, a.views, a.grid, a.study.threads, !cli_quiet};
    if (st == MS_OK)
        st = ms_seal_create(s, &opt, a.out, &sum, &err);
    ms_crypto_wipe(key, sizeof key);
    if (st == MS_OK)
        warn_unprojected(&sum);
    if (st == MS_OK && !cli_quiet)
        print_summary(&a, &sum);
    ms_study_destroy(s);
    ms_pkey_destroy(signer);
    return st == MS_OK ? 0 : cli_fail(NULL, &err);
}

const struct cli_command cli_commands_seal[] = {
    {"seal", cmd_seal, "seal a study: hashes, Merkle root, encrypted DRR fingerprint, signature"},
    {NULL, NULL, NULL},
};
