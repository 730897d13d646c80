/* medseal verify: a study against its seal (docs/verify.md). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "medseal/crypto.h"
#include "medseal/seal.h"

#define MAX_TRUST 16

struct verify_args {
    struct cli_study study; /* first: see struct cli_study */
    const char *seal, *key_file, *report;
    const char *trust[MAX_TRUST];
    size_t ntrust;
    bool json;
};

static void help(void)
{
    printf("usage: medseal verify DIR... STUDY.seal -k KEYFILE --trust PUB.pem [--trust ...]\n"
           "                     [--json] [--report DIR] [--threads N]\n\n"
           "Checks the seal's signature and its signer against the trusted public keys (or\n"
           "certificates), names every instance inserted, deleted, modified (header or\n"
           "pixels) or moved, re-projects the DRR of every sealed volume, decrypts the sealed\n"
           "blocks and prints per block the histogram difference (HU -1024..3072) and the\n"
           "RMSE, as seed 000's Table 1. --report DIR writes index.html with the sealed and\n"
           "current DRRs and their difference heat map.\n"
           "Exit: 0 intact, 1 differs, 3 the seal is malformed or truncated, 4 wrong key,\n"
           "edited seal or untrusted signer. See docs/verify.md.\n");
}

static int opt_key(void *p, char **v) { ((struct verify_args *)p)->key_file = v[0]; return -1; }
static int opt_report(void *p, char **v) { ((struct verify_args *)p)->report = v[0]; return -1; }

static int opt_json(void *p, char **v)
{
    (void)v;
    ((struct verify_args *)p)->json = true;
    return -1;
}

static int opt_trust(void *p, char **v)
{
    struct verify_args *a = p;
    if (a->ntrust == MAX_TRUST)
        return cli_usage("verify", "at most %d --trust", MAX_TRUST);
    a->trust[a->ntrust++] = v[0];
    return -1;
}

static const struct cli_option options[] = {
    {"-k", "--key-file", 1, opt_key}, {"--trust", NULL, 1, opt_trust},
    {"--report", NULL, 1, opt_report}, {"--json", NULL, 0, opt_json},
    {"--threads", NULL, 1, cli_study_threads},
};

static int parse(int argc, char **argv, struct verify_args *a)
{
    int rc;
    memset(a, 0, sizeof *a);
    a->study.cmd = "verify";
    rc = cli_parse_options("verify", argc, argv, options, sizeof options / sizeof *options, a,
                           cli_study_input, help);
    if (rc >= 0)
        return rc ? rc : -1;
    if (a->study.ninputs < 2)
        return cli_usage("verify", "give the study directory and its seal");
    a->seal = a->study.inputs[--a->study.ninputs];
    if (!a->key_file)
        return cli_usage("verify", "-k KEYFILE is required (the key k of the seal)");
    return 0;
}

static void print_drr(const struct ms_seal_drr *d)
{
    printf("volume %zu (series %s), view %s, grid %ux%u, DRR %ux%u: RMSE %.4f HU, ~hist %llu, "
           "%zu of %u blocks changed\n",
           d->volume + 1, d->series_uid, ms_drr_view_name(d->view), d->grid, d->grid, d->width,
           d->height, d->rmse_all, (unsigned long long)d->histdiff_all, d->changed,
           d->grid * d->grid);
    printf("  %7s %5s %10s %10s\n", "zig-zag", "block", "~hist", "RMSE");
    for (unsigned z = 0; z < d->grid * d->grid; z++)
        printf("  %7u %5u %10llu %10.4f%s\n", z + 1, d->block[z] + 1,
               (unsigned long long)d->histdiff[z], d->rmse[z],
               d->histdiff[z] || d->rmse[z] ? "  changed" : "");
}

static void print_text(const struct verify_args *a, const struct ms_verify_result *r)
{
    printf("seal: %s, %s signature valid, signer %s (%s)\n", a->seal, ms_verify_algorithm(r),
           ms_verify_signer(r),
           ms_verify_trust(r) == MS_TRUST_OK ? "trusted"
                                             : a->ntrust ? "NOT TRUSTED" : "not trusted: no --trust");
    printf("key: %s\n", ms_verify_key_ok(r) ? "the seal's key"
                                            : "NOT the seal's key: DRR blocks not compared");
    printf("files: %zu sealed, %zu found; Merkle root %s\n", ms_verify_sealed_count(r),
           ms_verify_found_count(r), ms_verify_merkle_ok(r) ? "identical" : "DIFFERS");
    for (size_t i = 0; i < ms_verify_change_count(r); i++) {
        const struct ms_seal_change *c = ms_verify_change(r, i);
        printf("  %-16s %s%s%s: %s\n", ms_change_name(c->change), c->path, c->uid[0] ? " " : "",
               c->uid, c->detail);
    }
    for (size_t i = 0; i < ms_verify_drr_count(r); i++)
        print_drr(ms_verify_drr(r, i));
    char verdict[64];
    size_t n = 0;
    for (const char *v = ms_verify_verdict(r); *v && n + 1 < sizeof verdict; v++)
        verdict[n++] = (char)toupper((unsigned char)*v);
    verdict[n] = '\0';
    printf("result: %s\n", verdict);
}

static int stdout_sink(void *ctx, const void *data, size_t len)
{
    return fwrite(data, 1, len, ctx) == len ? 0 : -1;
}

static ms_status load_trust(const struct verify_args *a, struct ms_pkey **keys,
                            struct ms_error *err)
{
    for (size_t i = 0; i < a->ntrust; i++)
        if (ms_pkey_load_public(&keys[i], a->trust[i], err) != MS_OK)
            return err->code;
    return MS_OK;
}

static int run(const struct verify_args *a, struct ms_study *s, const uint8_t *key,
               struct ms_pkey **trust)
{
    struct ms_verify_options vo = {key, (const struct ms_pkey *const *)trust, a->ntrust,
                                   a->study.threads, !cli_quiet && !a->json};
    struct ms_verify_result *r = NULL;
    struct ms_error err = {0};
    ms_status st = ms_seal_verify(s, a->seal, &vo, &r, &err);
    int rc;

    if (st != MS_OK)
        return cli_fail(a->seal, &err);
    if (a->json)
        st = ms_verify_write_json(r, stdout_sink, stdout, &err);
    else if (!cli_quiet)
        print_text(a, r);
    if (st == MS_OK && a->report)
        st = ms_verify_write_report(r, a->report, &err);
    rc = st == MS_OK ? ms_status_exit_code(ms_verify_status(r)) : cli_fail(a->report, &err);
    ms_verify_result_destroy(r);
    return rc;
}

static int cmd_verify(int argc, char **argv)
{
    struct verify_args a;
    struct ms_study_options so = {0};
    struct ms_study *s = NULL;
    struct ms_pkey *trust[MAX_TRUST] = {NULL};
    struct ms_error err = {0};
    uint8_t key[MS_AES256_KEY_LEN];
    int rc = parse(argc, argv, &a);
    ms_status st;

    if (rc)
        return rc < 0 ? 0 : rc;
    st = ms_keyfile_read(a.key_file, key, NULL, &err);
    if (st != MS_OK)
        return cli_fail(NULL, &err);
    st = load_trust(&a, trust, &err);
    so.exclude = a.seal;
    so.threads = a.study.threads;
    so.progress = !cli_quiet && !a.json;
    if (st == MS_OK)
        st = ms_study_scan(&s, a.study.inputs, a.study.ninputs, &so, &err);
    rc = st == MS_OK ? run(&a, s, key, trust) : cli_fail(NULL, &err);
    ms_crypto_wipe(key, sizeof key);
    for (size_t i = 0; i < a.ntrust; i++)
        ms_pkey_destroy(trust[i]);
    ms_study_destroy(s);
    return rc;
}

const struct cli_command cli_commands_verify[] = {
    {"verify", cmd_verify, "verify a study against its seal (instances and DRR blocks)"},
    {NULL, NULL, NULL},
};
