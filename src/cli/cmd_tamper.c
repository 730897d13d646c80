/* medseal tamper: seed 000's attacks and more on a copy of a study
 * (docs/tamper.md). The input is never changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "medseal/crypto.h"
#include "medseal/seal.h"

static void help(void)
{
    printf("usage: medseal tamper DIR OUTDIR ATTACK...\n\n"
           "Copies the study DIR to OUTDIR (new or empty, not inside DIR) and applies the\n"
           "attacks to the copy; DIR is only read. N counts files from 1 in sorted path order.\n"
           "  --insert FILE [--at N]  an image from another dataset, adopted into the series\n"
           "                          (header of N, new UID, position between N and N+1,\n"
           "                          FILE's HU resampled to N's size); default N: the middle\n"
           "  --duplicate N           the same image again with a new SOP Instance UID\n"
           "  --delete N              remove instance N\n"
           "  --modify N [--delta D] [--seed S]  +-D HU (default 10) at random in the\n"
           "                          central half of N's image, as seed 000's delta attack\n"
           "  --header N KEYWORD=VALUE  change one attribute of N\n"
           "  --swap N M              exchange the Pixel Data of N and M\n"
           "  --replace-all [-k KEYFILE] [--seal-out FILE]  a different study (new UIDs,\n"
           "                          images mirrored), sealed with k (default: a random key)\n"
           "                          and a new Ed25519 key into FILE (default OUTDIR/study.seal)\n");
}

static bool parse_n(const char *text, size_t *n)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (*end || v == 0)
        return false;
    *n = v;
    return true;
}

struct tamper_args {
    const char *in, *out, *key_file;
    struct ms_tamper_options o;
};

static int bad_n(const char *opt)
{
    return cli_usage("tamper", "%s takes an instance number from 1", opt);
}

/* One option with values; returns the number of values used, -1 if unknown, -2 bad. */
static int option(struct tamper_args *a, char **argv, int left)
{
    const char *o = argv[0];
    struct ms_tamper_options *t = &a->o;
    if (!strcmp(o, "--replace-all"))
        return t->replace_all = true, 0;
    if (left < 1)
        return -1;
    if (!strcmp(o, "--insert")) t->insert_file = argv[1];
    else if (!strcmp(o, "--at")) return parse_n(argv[1], &t->insert_at) ? 1 : -2;
    else if (!strcmp(o, "--duplicate")) return parse_n(argv[1], &t->duplicate) ? 1 : -2;
    else if (!strcmp(o, "--delete")) return parse_n(argv[1], &t->delete_n) ? 1 : -2;
    else if (!strcmp(o, "--modify")) return parse_n(argv[1], &t->modify) ? 1 : -2;
    else if (!strcmp(o, "--delta")) t->delta = strtod(argv[1], NULL);
    else if (!strcmp(o, "--seed")) t->seed = strtoull(argv[1], NULL, 10);
    else if (!strcmp(o, "-k") || !strcmp(o, "--key-file")) a->key_file = argv[1];
    else if (!strcmp(o, "--seal-out")) t->replace_seal = argv[1];
    else if (!strcmp(o, "--header") && left >= 2) {
        t->header_set = argv[2];
        return parse_n(argv[1], &t->header) ? 2 : -2;
    } else if (!strcmp(o, "--swap") && left >= 2)
        return parse_n(argv[1], &t->swap_a) && parse_n(argv[2], &t->swap_b) ? 2 : -2;
    else return -1;
    return 1;
}

static int parse(int argc, char **argv, struct tamper_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            help();
            return -1;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            int used = option(a, argv + i, argc - i - 1);
            if (used == -2)
                return bad_n(argv[i]);
            if (used < 0)
                return cli_usage("tamper", "unknown option or missing value: %s", argv[i]);
            i += used;
        } else if (!a->in) {
            a->in = argv[i];
        } else if (!a->out) {
            a->out = argv[i];
        } else {
            return cli_usage("tamper", "unexpected argument %s", argv[i]);
        }
    }
    if (!a->in || !a->out)
        return cli_usage("tamper", "give DIR and OUTDIR");
    if (a->o.delta < 0)
        return cli_usage("tamper", "--delta must be positive");
    return 0;
}

static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    if (!cli_quiet)
        printf("%s\n", line);
}

static int cmd_tamper(int argc, char **argv)
{
    struct tamper_args a;
    struct ms_error err = {0};
    uint8_t key[MS_AES256_KEY_LEN];
    int rc = parse(argc, argv, &a);
    ms_status st = MS_OK;

    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.key_file) {
        st = ms_keyfile_read(a.key_file, key, NULL, &err);
        if (st != MS_OK)
            ms_error_prefix(&err, "%s", a.key_file);
        a.o.replace_key = key;
    }
    if (st == MS_OK)
        st = ms_tamper(a.in, a.out, &a.o, print_line, NULL, &err);
    ms_crypto_wipe(key, sizeof key);
    return st == MS_OK ? 0 : cli_fail(NULL, &err);
}

const struct cli_command cli_commands_tamper[] = {
    {"tamper", cmd_tamper, "copy a study and apply attacks to the copy (insert, delete, ...)"},
    {NULL, NULL, NULL},
};
