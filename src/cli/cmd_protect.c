/* medseal protect / unprotect: files and directories (mirrored), on all
 * cores, with a progress bar on a terminal. */
#define _GNU_SOURCE /* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_outputs.h"
#include "medseal/crypto.h"
#include "medseal/protect.h"
#include "medseal/util.h"

#define MAX_RECIPIENTS 32
/* Workers per CPU by default: more than one, because a worker also waits for
 * the file system (creating, writing, and with --sync file fsync'ing each
 * output before its rename) while the others encrypt. bench/RESULTS.md
 * (protect) has the measurements. */
#define WORKERS_PER_CPU_SYNC 4
#define WORKERS_PER_CPU 2
#define WORKERS_MAX 32

struct job {
    bool unprotect;
    struct ms_protect_options opt;
    const char *out;
    struct cli_outputs plan; /* input files and their outputs */
    struct ms_error *errors; /* per file */
    struct ms_protect_report *reports;
    const char *sync;        /* --sync file|end|none */
};

static void help(bool unprotect)
{
    if (unprotect)
        printf("usage: medseal unprotect [--key KEY.pem [--cert CERT.pem]] [--key-passphrase-file F]\n"
               "                         [--passphrase-file F] [-k KEYFILE] [--otp-store DIR]\n"
               "                         [--x0 X --mu M] [--stego-key-file F] INPUT... -o OUT\n\n"
               "Recognises the scheme of each protected input and restores the original file\n"
               "bit-exact, after every authentication check has passed.\n");
    else
        printf("usage: medseal protect [--scheme NAME] [--to CERT.pem]... [--passphrase-file F]\n"
               "                       [-k KEYFILE] [scheme options] INPUT... -o OUT\n\n"
               "Schemes (docs/protect.md):\n");
    if (!unprotect)
        for (size_t i = 0; i < ms_scheme_count(); i++) {
            const struct ms_scheme_info *s = ms_scheme_at(i);
            printf("  %-11s %-20s %s%s\n", s->name, s->label, s->summary,
                   s->needs_force ? " (needs --i-know)" : "");
        }
    printf("\nINPUT is a file or a directory. With one directory, OUT mirrors its tree; with\n"
           "several inputs, each keeps its name under OUT (a directory as OUT/NAME/...), and\n"
           "inputs that would share an output are refused (exit 2, nothing written).\n"
           "Options: --strict-dicom --sign-key K --sign-cert C\n"
           "(cms), --key-passphrase-file F (unlocks an encrypted --key or --sign-key),\n"
           "--key-from-header (pixel-gcm, insecure), --x0 X --mu M (chaos), --slices N\n"
           "(cbc-slices), --compress deflate|rle|jpeg-ls, --armor, --otp-store DIR, --otp-ttl\n"
           "SECONDS[smhd] (otp), --stego-mode lsb|highbits --stego-key-file F (stego),\n"
           "--keep-private --rsa-pkcs1 (deid), --i-know,\n"
           "--sync file|end|none (default file: each output fsync'ed before its rename;\n"
           "end: one sync of the output file system when all are done; none: left to\n"
           "the system), --threads N (default: 4 per CPU with --sync file, else 2),\n"
           "--quiet. docs/protect.md\n");
}

/* "90", "90s", "15m", "12h", "7d" as seconds; UINT64_MAX when unreadable (the
 * otp scheme refuses it). */
static uint64_t parse_duration(const char *text)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    uint64_t mult = 1;
    if (end == text)
        return UINT64_MAX;
    if (*end == 'm') mult = 60;
    else if (*end == 'h') mult = 3600;
    else if (*end == 'd') mult = 86400;
    else if (*end != 's' && *end != '\0') return UINT64_MAX;
    if (*end && end[1]) return UINT64_MAX;
    return v > UINT64_MAX / mult ? UINT64_MAX : v * mult;
}

/* Option with a value; returns false when it is not one of ours. */
static bool value_option(struct job *j, const char *name, const char *value,
                         const char **recips, size_t *nrecips, unsigned *threads)
{
    struct ms_protect_options *o = &j->opt;
    if (!strcmp(name, "--scheme")) o->scheme = value;
    else if (!strcmp(name, "--to") && *nrecips < MAX_RECIPIENTS) recips[(*nrecips)++] = value;
    else if (!strcmp(name, "--passphrase-file")) o->passphrase_file = value;
    else if (!strcmp(name, "-k") || !strcmp(name, "--key-file")) o->key_file = value;
    else if (!strcmp(name, "--key")) o->private_key = value;
    else if (!strcmp(name, "--cert")) o->certificate = value;
    else if (!strcmp(name, "--key-passphrase-file")) o->key_passphrase_file = value;
    else if (!strcmp(name, "--sign-key")) o->sign_key = value;
    else if (!strcmp(name, "--sign-cert")) o->sign_cert = value;
    else if (!strcmp(name, "--trust")) o->trust = value;
    else if (!strcmp(name, "--x0")) o->chaos_x0 = strtod(value, NULL);
    else if (!strcmp(name, "--mu")) o->chaos_mu = strtod(value, NULL);
    else if (!strcmp(name, "--slices")) o->slices = (unsigned)strtoul(value, NULL, 10);
    else if (!strcmp(name, "--compress")) o->compress = value;
    else if (!strcmp(name, "--otp-store")) o->otp_store = value;
    else if (!strcmp(name, "--stego-mode")) o->stego_mode = value;
    else if (!strcmp(name, "--stego-key-file")) o->stego_key_file = value;
    else if (!strcmp(name, "--otp-ttl")) o->otp_ttl = parse_duration(value);
    else if (!strcmp(name, "-o")) j->out = value;
    else if (!strcmp(name, "--threads")) *threads = (unsigned)strtoul(value, NULL, 10);
    else if (!strcmp(name, "--sync")) j->sync = value;
    else return false;
    return true;
}

static bool flag_option(struct job *j, const char *name)
{
    struct ms_protect_options *o = &j->opt;
    if (!strcmp(name, "--strict-dicom")) o->strict_dicom = true;
    else if (!strcmp(name, "--key-from-header")) o->key_from_header = true;
    else if (!strcmp(name, "--armor")) o->armor = true;
    else if (!strcmp(name, "--i-know")) o->force = true;
    else if (!strcmp(name, "--keep-private")) o->keep_private = true;
    else if (!strcmp(name, "--rsa-pkcs1")) o->rsa_pkcs1 = true;
    else return false;
    return true;
}

/* Strip a known protection suffix when unprotecting into a directory. */
static void strip_suffix(char *path)
{
    static const char *const suffixes[] = {".p7m", ".p7m.pem", ".cbcs", NULL};
    size_t n = strlen(path);
    for (size_t i = 0; suffixes[i]; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && strcmp(path + n - k, suffixes[i]) == 0) {
            path[n - k] = '\0';
            return;
        }
    }
}

static void run_one(void *ctx, size_t i)
{
    struct job *j = ctx;
    char *out = j->plan.outs[i], *slash = strrchr(out, '/');
    const char *in = j->plan.files.paths[i];
    ms_status st;

    /* OUT itself exists (run() made it): only subdirectories of a mirrored tree */
    if (slash && j->plan.out_is_dir && slash > out + strlen(j->out)) {
        *slash = '\0';
        st = ms_mkdirs(out, &j->errors[i]);
        *slash = '/';
        if (st != MS_OK)
            return;
    }
    if (j->unprotect)
        st = ms_unprotect_file(in, out, &j->opt, &j->reports[i], &j->errors[i]);
    else
        st = ms_protect_file(in, out, &j->opt, &j->reports[i], &j->errors[i]);
    j->errors[i].code = st;
}

/* Every input file and its output; a run that would write two files to one
 * output is refused. Returns 0 or the exit code (reported). */
static int plan(struct job *j, const char *cmd, char **inputs, int ninputs)
{
    struct cli_outputs_spec spec = {j->out, NULL, NULL, NULL};
    if (j->unprotect) {
        spec.rename = strip_suffix;
        spec.skip = ms_protect_is_auxiliary; /* cbc-slices parts go with their index */
    } else {
        spec.suffix = ms_scheme_find(j->opt.scheme ? j->opt.scheme : "cms")->suffix;
    }
    return cli_outputs_plan(&j->plan, cmd, inputs, (size_t)ninputs, &spec);
}

/* Totals over the files that succeeded. */
struct totals {
    size_t ok;
    uint64_t in, out;
    uint64_t zorig, zipped;   /* --compress: the files without and with it */
    uint64_t splain, spacked; /* the scheme's own compression: before and after */
    const char *method;       /* --compress method; "several methods" when they differ */
    const struct ms_scheme_info *scheme;
};

static void add_file(struct totals *t, const struct job *j, const struct ms_protect_report *r)
{
    t->ok++;
    t->in += r->bytes_in;
    t->out += r->bytes_out;
    if (r->compress) {
        t->zorig += j->unprotect ? r->bytes_out : r->bytes_in;
        t->zipped += r->compressed_bytes;
        t->method = !t->method || !strcmp(t->method, r->compress) ? r->compress
                                                                  : "several methods";
    }
    t->splain += r->scheme_plain_bytes;
    t->spacked += r->scheme_packed_bytes;
    if (r->scheme)
        t->scheme = r->scheme;
}

static double ratio(uint64_t plain, uint64_t packed)
{
    return packed ? (double)plain / (double)packed : 0.0;
}

/* The two compressions, each on its own line: --compress of the whole file,
 * and the scheme's own (cbc-slices' zlib of the pixel data). */
static void print_compression(const struct job *j, const struct totals *t)
{
    if (t->zipped && !j->unprotect)
        fprintf(stderr, "compressed with %s (--compress) before protection: %.1f MB to %.1f MB "
                        "(ratio %.2f)\n", t->method, t->zorig / 1e6, t->zipped / 1e6,
                ratio(t->zorig, t->zipped));
    else if (t->zipped)
        fprintf(stderr, "decompressed from %s (--compress at protection) after unprotection: "
                        "%.1f MB to %.1f MB (ratio %.2f)\n", t->method, t->zipped / 1e6,
                t->zorig / 1e6, ratio(t->zorig, t->zipped));
    if (t->spacked && t->scheme)
        fprintf(stderr, "pixel data %s by %s itself: %.1f MB to %.1f MB (ratio %.2f)\n",
                j->unprotect ? "decompressed" : "compressed", t->scheme->name,
                (j->unprotect ? t->spacked : t->splain) / 1e6,
                (j->unprotect ? t->splain : t->spacked) / 1e6, ratio(t->splain, t->spacked));
}

#define NOTES_SHOWN 3

/* The notes of the files that succeeded: each text once (with how many files
 * it concerns), at most NOTES_SHOWN texts, then how many more there were. */
static void print_notes(const struct job *j)
{
    size_t shown = 0, hidden = 0;
    for (size_t i = 0; i < j->plan.files.count; i++) {
        const char *note = j->reports[i].note;
        size_t same = 0, k;
        if (j->errors[i].code != MS_OK || !note[0])
            continue;
        for (k = 0; k < i; k++) /* said already */
            if (j->errors[k].code == MS_OK && !strcmp(j->reports[k].note, note))
                break;
        if (k < i)
            continue;
        for (k = i; k < j->plan.files.count; k++)
            same += j->errors[k].code == MS_OK && !strcmp(j->reports[k].note, note);
        if (shown == NOTES_SHOWN) {
            hidden += same;
            continue;
        }
        shown++;
        if (same > 1)
            fprintf(stderr, "medseal: note (%zu files, %s...): %s\n", same,
                    j->plan.files.paths[i], note);
        else
            fprintf(stderr, "medseal: %s: note: %s\n", j->plan.files.paths[i], note);
    }
    if (hidden)
        fprintf(stderr, "medseal: and notes on %zu more file(s) (give a file alone to see its note)\n",
                hidden);
}

static int report(const struct job *j, double seconds)
{
    struct totals t = {0};
    int rc = 0;

    for (size_t i = 0; i < j->plan.files.count; i++) {
        if (j->errors[i].code != MS_OK) {
            int r = ms_status_exit_code(j->errors[i].code);
            fprintf(stderr, "medseal: %s: %s\n", j->plan.files.paths[i], j->errors[i].msg);
            rc = r > rc ? r : rc;
            continue;
        }
        add_file(&t, j, &j->reports[i]);
    }
    if (cli_quiet)
        return rc;
    print_notes(j);
    fprintf(stderr, "%s %zu of %zu file(s)%s%s%s%s: %.1f MB in, %.1f MB out, %.2f s\n",
            j->unprotect ? "unprotected" : "protected", t.ok, j->plan.files.count,
            t.scheme ? " with " : "", t.scheme ? t.scheme->name : "", t.scheme ? ", " : "",
            t.scheme ? t.scheme->label : "", t.in / 1e6, t.out / 1e6, seconds);
    print_compression(j, &t);
    return rc;
}

/* Workers: --threads N, else 4 per CPU when every output waits for its fsync,
 * 2 per CPU otherwise. */
static unsigned workers(const struct job *j, unsigned threads)
{
    unsigned n = ms_cpu_count() * (j->opt.no_fsync ? WORKERS_PER_CPU : WORKERS_PER_CPU_SYNC);
    if (threads)
        return threads;
    return n < WORKERS_MAX ? n : WORKERS_MAX;
}

/* --sync end: every output of the run reaches the disk before the exit
 * status says so (one syncfs of the output's file system). */
static int sync_outputs(const struct job *j)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(j->out, '/');
    int fd, rc = 0;

    if (j->plan.out_is_dir)
        snprintf(dir, sizeof dir, "%s", j->out);
    else if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - j->out) + (slash == j->out), j->out);
    else
        snprintf(dir, sizeof dir, ".");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || syncfs(fd) != 0) {
        fprintf(stderr, "medseal: %s: cannot sync the outputs to disk: %s\n", dir,
                strerror(errno));
        rc = 5;
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Checks after parsing: 0 when fine, else the usage exit code (reported). */
static int check_args(struct job *j, const char *cmd, int ninputs)
{
    if (ninputs == 0 || !j->out)
        return cli_usage(cmd, ninputs ? "no output given (-o OUT)" : "no input given");
    if (j->sync && strcmp(j->sync, "file") && strcmp(j->sync, "end") && strcmp(j->sync, "none"))
        return cli_usage(cmd, "--sync takes file, end or none, not '%s'", j->sync);
    j->opt.no_fsync = j->sync && strcmp(j->sync, "file") != 0;
    if (!j->unprotect && j->opt.scheme && !ms_scheme_find(j->opt.scheme))
        return cli_usage(cmd, "unknown scheme '%s'", j->opt.scheme);
    if (j->opt.key_file) { /* once here, not once per file: one error for a bad key file */
        uint8_t key[MS_AES256_KEY_LEN];
        struct ms_error err = {0};
        ms_status st = ms_keyfile_read(j->opt.key_file, key, NULL, &err);
        ms_crypto_wipe(key, sizeof key);
        if (st != MS_OK)
            return cli_fail(NULL, &err);
    }
    return 0;
}

/* Every file on the workers, then the sync of --sync end and the report. */
static int process(struct job *j, const char *cmd, unsigned threads)
{
    struct timespec t0, t1;
    int rc, r;

    j->errors = calloc(j->plan.files.count + 1, sizeof *j->errors);
    j->reports = calloc(j->plan.files.count + 1, sizeof *j->reports);
    if (!j->errors || !j->reports) {
        free(j->errors);
        free(j->reports);
        return 5;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ms_parallel_for(j->plan.files.count, workers(j, threads), run_one, j, cmd, !cli_quiet);
    rc = j->sync && !strcmp(j->sync, "end") ? sync_outputs(j) : 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r = report(j, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    free(j->errors);
    free(j->reports);
    return r > rc ? r : rc;
}

static int run(int argc, char **argv, bool unprotect)
{
    const char *cmd = unprotect ? "unprotect" : "protect";
    const char *recips[MAX_RECIPIENTS];
    size_t nrecips = 0;
    unsigned threads = 0;
    struct job j;
    struct ms_error err = {0};
    int i, rc, ninputs = 0;
    char **inputs = calloc((size_t)argc, sizeof *inputs);

    memset(&j, 0, sizeof j);
    j.unprotect = unprotect;
    if (!inputs)
        return 5;
    for (i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            help(unprotect);
            free(inputs);
            return 0;
        }
        if (argv[i][0] != '-' || !argv[i][1])
            inputs[ninputs++] = argv[i];
        else if (flag_option(&j, argv[i]))
            continue;
        else if (i + 1 < argc && value_option(&j, argv[i], argv[i + 1], recips, &nrecips, &threads))
            i++;
        else {
            free(inputs);
            return cli_usage(cmd, "unknown option or missing value '%s'", argv[i]);
        }
    }
    j.opt.recipients = recips;
    j.opt.nrecipients = nrecips;
    if ((rc = check_args(&j, cmd, ninputs)) != 0) {
        free(inputs);
        return rc;
    }
    rc = plan(&j, cmd, inputs, ninputs);
    if (rc == 0 && j.plan.out_is_dir && ms_mkdirs(j.out, &err) != MS_OK)
        rc = cli_fail(j.out, &err);
    else if (rc == 0)
        rc = process(&j, cmd, threads);
    free(inputs);
    cli_outputs_clear(&j.plan);
    return rc;
}

int cmd_protect(int argc, char **argv)
{
    return run(argc, argv, false);
}

int cmd_unprotect(int argc, char **argv)
{
    return run(argc, argv, true);
}

const struct cli_command cli_commands_protect[] = {
    {"protect", cmd_protect, "protect files with a scheme (default: CMS envelope)"},
    {"unprotect", cmd_unprotect, "restore protected files, bit-exact, after authentication"},
    {NULL, NULL, NULL},
};
