/* medseal tamper: seed 000's attacks and more on a copy of a study
 * (docs/tamper.md). The input is never changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
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

struct tamper_args {
    const char *in, *out, *key_file;
    struct ms_tamper_options o;
};

#define T(p) (&((struct tamper_args *)(p))->o)

static int count_or_usage(const char *text, size_t *n, const char *opt)
{
    return cli_parse_count(text, n) ? -1
                                    : cli_usage("tamper", "%s takes an instance number from 1", opt);
}

static int opt_insert(void *p, char **v) { T(p)->insert_file = v[0]; return -1; }
static int opt_at(void *p, char **v) { return count_or_usage(v[0], &T(p)->insert_at, "--at"); }
static int opt_dup(void *p, char **v) { return count_or_usage(v[0], &T(p)->duplicate, "--duplicate"); }
static int opt_delete(void *p, char **v) { return count_or_usage(v[0], &T(p)->delete_n, "--delete"); }
static int opt_modify(void *p, char **v) { return count_or_usage(v[0], &T(p)->modify, "--modify"); }
static int opt_seed(void *p, char **v) { T(p)->seed = strtoull(v[0], NULL, 10); return -1; }
static int opt_seal_out(void *p, char **v) { T(p)->replace_seal = v[0]; return -1; }
static int opt_key(void *p, char **v) { ((struct tamper_args *)p)->key_file = v[0]; return -1; }

static int opt_delta(void *p, char **v)
{
    char *end;
    T(p)->delta = strtod(v[0], &end);
    return *end || !(T(p)->delta > 0) ? cli_usage("tamper", "--delta takes a positive HU") : -1;
}

static int opt_header(void *p, char **v)
{
    T(p)->header_set = v[1];
    return count_or_usage(v[0], &T(p)->header, "--header");
}

static int opt_swap(void *p, char **v)
{
    int rc = count_or_usage(v[0], &T(p)->swap_a, "--swap");
    return rc >= 0 ? rc : count_or_usage(v[1], &T(p)->swap_b, "--swap");
}

static int opt_replace(void *p, char **v)
{
    (void)v;
    T(p)->replace_all = true;
    return -1;
}

static const struct cli_option options[] = {
    {"--insert", NULL, 1, opt_insert}, {"--at", NULL, 1, opt_at},
    {"--duplicate", NULL, 1, opt_dup}, {"--delete", NULL, 1, opt_delete},
    {"--modify", NULL, 1, opt_modify}, {"--delta", NULL, 1, opt_delta},
    {"--seed", NULL, 1, opt_seed},     {"--header", NULL, 2, opt_header},
    {"--swap", NULL, 2, opt_swap},     {"--replace-all", NULL, 0, opt_replace},
    {"-k", "--key-file", 1, opt_key},  {"--seal-out", NULL, 1, opt_seal_out},
};

static int add_dir(void *p, char *word)
{
    struct tamper_args *a = p;
    if (!a->in)
        a->in = word;
    else if (!a->out)
        a->out = word;
    else
        return cli_usage("tamper", "unexpected argument %s", word);
    return -1;
}

static int parse(int argc, char **argv, struct tamper_args *a)
{
    int rc;
    memset(a, 0, sizeof *a);
    rc = cli_parse_options("tamper", argc, argv, options, sizeof options / sizeof *options, a,
                           add_dir, help);
    if (rc >= 0)
        return rc ? rc : -1;
    if (!a->in || !a->out)
        return cli_usage("tamper", "give DIR and OUTDIR");
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
